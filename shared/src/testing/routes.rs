//! The HTTP routes each function is deployed with (`template.yaml`) and described with (its OpenAPI
//! file), as `METHOD /path` lines: tests tie the two together and drive every route from them.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    let path = super::repo_file(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `METHOD /path` of every HttpApi event of the function resource `function` in the template, but
/// its catch-alls (see [`template_catch_alls`]).
pub fn template_routes(function: &str) -> BTreeSet<String> {
    all_template_routes(function)
        .into_iter()
        .filter(|route| !route.contains("{proxy+}"))
        .collect()
}

/// The function's `ANY /prefix/{proxy+}` routes: every other method and path under its prefixes
/// reaches it, so that it answers 405 or 404 itself (they describe no operation).
pub fn template_catch_alls(function: &str) -> BTreeSet<String> {
    all_template_routes(function)
        .into_iter()
        .filter(|route| route.contains("{proxy+}"))
        .collect()
}

fn all_template_routes(function: &str) -> BTreeSet<String> {
    let template = read("template.yaml");
    let section = template
        .split(&format!("\n  {function}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("{function} is in the template"));
    // The resource ends where the next top-level resource starts.
    let end = section
        .lines()
        .position(|line| line.starts_with("  ") && !line.starts_with("   ") && !line.trim().is_empty())
        .unwrap_or(usize::MAX);
    section
        .lines()
        .take(end)
        .filter(|line| line.contains("ApiId: !Ref HttpApi"))
        .map(|line| {
            // `Properties: { ApiId: !Ref HttpApi, Method: GET, Path: "/admin/partners/{id}" }`
            let field = |name: &str| {
                let rest = line
                    .split(&format!("{name}: "))
                    .nth(1)
                    .unwrap_or_else(|| panic!("{name} in {line}"));
                let value = match rest.split_once(", ") {
                    Some((value, _)) => value,
                    None => rest.trim_end().strip_suffix('}').unwrap_or(rest),
                };
                value.trim().trim_matches('"').to_owned()
            };
            format!("{} {}", field("Method"), field("Path"))
        })
        .collect()
}

/// `METHOD /path` of every operation in an OpenAPI description.
pub fn described_routes(file: &str) -> BTreeSet<String> {
    let text = read(file);
    let paths = text.split("\npaths:\n").nth(1).expect("a paths section");
    let mut routes = BTreeSet::new();
    let mut current = None;
    for line in paths.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            break;
        }
        if line.starts_with("  /") {
            current = line.trim().strip_suffix(':').map(str::to_owned);
        } else if let (Some(path), Some(method)) = (
            &current,
            line.strip_prefix("    ")
                .filter(|rest| !rest.starts_with(' '))
                .and_then(|rest| rest.strip_suffix(':')),
        ) {
            if ["get", "put", "post", "patch", "delete"].contains(&method) {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

/// A concrete path for a route's template: every `{parameter}` filled with a plausible value.
pub fn concrete_path(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{id}" if template.contains("invoices") => "in_attack_test",
            s if s.starts_with('{') => "p1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Compares what a function's router knows with its description: for every described path, a
/// method no route takes (`TRACE`) must answer 405 with an `Allow` naming exactly the described
/// methods of that path. Returns the paths where they differ.
pub async fn router_against_description<F, Fut>(description: &str, authorization: &str, handle: F) -> Vec<String>
where
    F: Fn(lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>>,
{
    let mut described: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for route in described_routes(description) {
        if let Some((method, path)) = route.split_once(' ') {
            described.entry(path.to_owned()).or_default().insert(method.to_owned());
        }
    }
    let mut differences = Vec::new();
    for (path, methods) in &described {
        let req = lambda_http::http::Request::builder()
            .method("TRACE")
            .uri(format!("https://api.example.test{}", concrete_path(path)))
            .header("authorization", authorization)
            .body(lambda_http::Body::Empty)
            .unwrap_or_else(|e| panic!("building TRACE {path}: {e}"));
        let response = handle(req).await;
        let allowed: BTreeSet<String> = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        if response.status().as_u16() != 405 || &allowed != methods {
            differences.push(format!(
                "{path}: described {methods:?}, the router answered {} allowing {allowed:?}",
                response.status().as_u16()
            ));
        }
    }
    assert!(!described.is_empty(), "{description} describes routes");
    differences
}
