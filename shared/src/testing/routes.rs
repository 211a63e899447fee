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
    routes_in_template(&read("template.yaml"), function)
}

/// The routes of `function` in a template's text. Every route is one `Type: HttpApi` event written
/// as `Properties: { ApiId: !Ref HttpApi, Method: M, Path: P }` on one line; an event written in any
/// other style is not silently left out of the tests that drive every route: it panics here.
fn routes_in_template(template: &str, function: &str) -> BTreeSet<String> {
    let section = template
        .split(&format!("\n  {function}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("{function} is in the template"));
    // The resource ends where the next top-level resource starts.
    let end = section
        .lines()
        .position(|line| line.starts_with("  ") && !line.starts_with("   ") && !line.trim().is_empty())
        .unwrap_or(usize::MAX);
    let events = section
        .lines()
        .take(end)
        .filter(|line| line.trim() == "Type: HttpApi")
        .count();
    let routes: Vec<&str> = section
        .lines()
        .take(end)
        .filter(|line| line.contains("ApiId: !Ref HttpApi"))
        .collect();
    assert_eq!(
        routes.len(),
        events,
        "{function}: {events} HttpApi events but {} read as one-line routes; write each event's \
         Properties as `{{ ApiId: !Ref HttpApi, Method: M, Path: P }}` on one line",
        routes.len()
    );
    routes
        .into_iter()
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

/// The query parameters each described path takes (over all its operations), inline or by
/// `$ref` to `components/parameters`: what a fuzz varies to reach a route's decoder.
pub fn described_query_parameters(file: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let text = read(file);
    // components/parameters: `    Name:` then `      name: x` and `      in: query`.
    let mut components = std::collections::BTreeMap::new();
    if let Some(section) = text.split("\n  parameters:\n").nth(1) {
        let mut current: Option<(String, Option<String>)> = None;
        for line in section.lines() {
            if !line.starts_with("    ") {
                break;
            }
            if let Some(name) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) {
                current = Some((name.trim_end_matches(':').to_owned(), None));
            } else if let (Some((_, name)), Some(value)) = (&mut current, line.trim().strip_prefix("name: ")) {
                *name = Some(value.trim().to_owned());
            } else if let (Some((component, Some(name))), "in: query") = (&current, line.trim()) {
                components.insert(component.clone(), name.clone());
            }
        }
    }
    let paths = text.split("\npaths:\n").nth(1).expect("a paths section");
    let mut described: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    let mut current = None;
    let mut inline_name: Option<String> = None;
    for line in paths.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            break;
        }
        if line.starts_with("  /") {
            current = line.trim().strip_suffix(':').map(str::to_owned);
            continue;
        }
        let Some(path) = &current else { continue };
        let trimmed = line.trim().trim_start_matches("- ");
        if let Some(name) = trimmed.strip_prefix("name: ") {
            inline_name = Some(name.trim().to_owned());
        } else if trimmed == "in: query" {
            if let Some(name) = inline_name.take() {
                described.entry(path.clone()).or_default().insert(name);
            }
        } else if let Some(component) = trimmed
            .strip_prefix("{$ref: '#/components/parameters/")
            .and_then(|rest| rest.strip_suffix("'}"))
        {
            if let Some(name) = components.get(component) {
                described.entry(path.clone()).or_default().insert(name.clone());
            }
        }
    }
    described
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

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        One:
          Type: HttpApi
          Properties: { ApiId: !Ref HttpApi, Method: GET, Path: /one }
        Two:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: GET
            Path: /two
  Next:
    Type: AWS::Serverless::Function
"#;

    #[test]
    fn a_route_written_in_another_style_is_not_silently_left_out() {
        let read = std::panic::catch_unwind(|| routes_in_template(TEMPLATE, "Api"));
        assert!(read.is_err(), "a block-style event makes the reading fail loudly");
        let one_line = TEMPLATE.replace(
            "Properties:\n            ApiId: !Ref HttpApi\n            Method: GET\n            Path: /two",
            "Properties: { ApiId: !Ref HttpApi, Method: GET, Path: /two }",
        );
        assert_eq!(
            routes_in_template(&one_line, "Api"),
            BTreeSet::from(["GET /one".to_owned(), "GET /two".to_owned()])
        );
    }

    #[test]
    fn every_template_route_is_read_and_the_paging_routes_have_their_query() {
        for function in ["AdminApiFunction", "PartnerPortalFunction", "StripeWebhookFunction"] {
            assert!(!all_template_routes(function).is_empty(), "{function}");
        }
        let query = described_query_parameters("infra/api/admin-api.openapi.yaml");
        assert_eq!(
            query
                .get("/admin/partners")
                .map(|q| q.iter().map(String::as_str).collect::<Vec<_>>()),
            Some(vec!["cursor", "limit", "status", "tier"])
        );
        assert!(query["/admin/partners/{id}/history"].contains("cursor"));
        assert!(query["/admin/partners/{id}/tier-preview"].contains("tier"));
    }
}
