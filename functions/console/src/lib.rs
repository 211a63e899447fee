//! The admin console's pages, served by the stack on the API's own origin (no CORS, one deploy).
//!
//! The built files of `web/` are embedded in the binary at build time (`build.rs`). Routes (the
//! template's `GET /console` and `ANY /console/{proxy+}`):
//! - `/console` redirects to `/console/`;
//! - `/console/assets/*` are Vite's content-hashed files: cached for a year, immutable;
//! - any other path without a file extension is a page of the single-page app: `index.html`, never
//!   cached, so a deploy takes effect on the next load;
//! - everything else is a 404 problem, and methods other than GET and HEAD a 405.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and requests only from this
//! origin, no inline scripts, no framing by other sites. Text files are answered gzipped (the copies
//! `npm run build` writes beside them) when the browser accepts gzip: API Gateway's HTTP API does not
//! compress answers itself.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::error::AppError;

mod built {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The policy every answer carries. `style-src 'self'` holds too: React sets style properties
/// through the DOM, which a policy does not govern, and the pages have no inline `<style>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'self'";

/// Hashed assets never change under their name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `index.html` and anything not hashed: ask every time.
pub const NO_CACHE: &str = "no-cache";

const PLACEHOLDER: &[u8] = b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Power100 console (not built)</title></head>\n<body><main><h1>The console was not built</h1><p>This binary was compiled before the pages were built. Run <code>make dev</code> or <code>make package</code>, which build <code>functions/console/web</code> (npm) before cargo.</p></main></body></html>\n";

/// Whether the pages were built into this binary (false: the placeholder page is served).
pub fn built() -> bool {
    built::BUILT
}

/// The embedded file at `name` (relative to `/console/`).
pub fn file(name: &str) -> Option<&'static [u8]> {
    if !built::BUILT && name == "index.html" {
        return Some(PLACEHOLDER);
    }
    built::FILES.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

fn embedded(name: &str) -> Option<(&'static str, &'static [u8])> {
    built::FILES.iter().find(|(n, _)| *n == name).copied()
}

/// Names of the embedded files (for the bundle size in `make bench`).
pub fn files() -> impl Iterator<Item = (&'static str, usize)> {
    built::FILES.iter().map(|(n, b)| (*n, b.len()))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") | Some("map") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn secure(mut res: Response<Body>) -> Response<Body> {
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

fn serve(name: &'static str, bytes: &'static [u8], cache: &'static str, head: bool) -> Response<Body> {
    let mut res = Response::new(if head {
        Body::Empty
    } else {
        Body::Binary(bytes.to_vec())
    });
    res.extensions_mut().insert(Served(name));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    secure(res)
}

fn problem(err: AppError) -> Response<Body> {
    let mut res = shared::http::problem(&err);
    if let AppError::MethodNotAllowed { allow, .. } = err {
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    secure(res)
}

/// The answer to `req` (any path; those outside `/console` are 404).
pub fn respond(req: &Request) -> Response<Body> {
    let gzip = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next() == Some("gzip") && !parts.any(|p| p.replace(' ', "") == "q=0")
        });
    let res = respond_to(req.method(), req.uri().path());
    if gzip {
        compressed(res)
    } else {
        res
    }
}

/// `res` with its gzip copy as the body, when there is one (an embedded `<name>.gz`).
fn compressed(mut res: Response<Body>) -> Response<Body> {
    let Some(name) = res.extensions().get::<Served>().map(|s| s.0) else {
        return res;
    };
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let Some(gz) = file(&format!("{name}.gz")) else {
        return res;
    };
    if !matches!(res.body(), Body::Empty) {
        *res.body_mut() = Body::Binary(gz.to_vec());
    }
    res.headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    res
}

/// Which embedded file an answer holds.
#[derive(Clone, Copy)]
struct Served(&'static str);

/// The answer to `method` on `path`, uncompressed.
pub fn respond_to(method: &Method, path: &str) -> Response<Body> {
    let Some(rest) = path.strip_prefix("/console") else {
        return problem(AppError::NotFound(format!("no page at {path}")));
    };
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        return problem(AppError::MethodNotAllowed {
            method: method.to_string(),
            allow: "GET, HEAD",
        });
    }
    if rest.is_empty() {
        let mut res = Response::new(Body::Empty);
        *res.status_mut() = StatusCode::PERMANENT_REDIRECT;
        res.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/console/"));
        return secure(res);
    }
    let Some(name) = rest.strip_prefix('/') else {
        return problem(AppError::NotFound(format!("no page at {path}")));
    };
    if name.split('/').any(|segment| segment == ".." || segment == ".") {
        return problem(AppError::NotFound(format!("no page at {path}")));
    }
    if let Some((name, bytes)) = embedded(name).filter(|(n, _)| *n != "index.html") {
        let cache = if name.starts_with("assets/") {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        return serve(name, bytes, cache, head);
    }
    let last = name.rsplit('/').next().unwrap_or("");
    if name.starts_with("assets/") || (last.contains('.') && last != "index.html") {
        return problem(AppError::NotFound(format!("no file at {path}")));
    }
    // A page of the app (its router reads the path): the shell, never cached.
    serve("index.html", file("index.html").unwrap_or(PLACEHOLDER), NO_CACHE, head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(res: &Response<Body>, name: header::HeaderName) -> &str {
        res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[test]
    fn pages_are_the_shell_uncached_with_the_policy() {
        for path in ["/console/", "/console/partners/summit-roofing", "/console/index.html"] {
            let res = respond_to(&Method::GET, path);
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(header(&res, header::CACHE_CONTROL), NO_CACHE);
            assert!(header(&res, header::CONTENT_TYPE).starts_with("text/html"));
            assert!(header(&res, header::CONTENT_SECURITY_POLICY).contains("script-src 'self'"));
            assert!(!header(&res, header::CONTENT_SECURITY_POLICY).contains("unsafe-inline"));
        }
    }

    #[test]
    fn hashed_assets_are_immutable_and_missing_files_404() {
        for (name, _) in files().filter(|(n, _)| n.starts_with("assets/")) {
            let res = respond_to(&Method::GET, &format!("/console/{name}"));
            assert_eq!(res.status(), 200);
            assert_eq!(header(&res, header::CACHE_CONTROL), IMMUTABLE);
        }
        for path in [
            "/console/assets/nope-123.js",
            "/console/robots.txt",
            "/console/../etc/passwd",
            "/other",
        ] {
            let res = respond_to(&Method::GET, path);
            assert_eq!(res.status(), 404, "{path}");
            assert_eq!(header(&res, header::CONTENT_TYPE), shared::http::PROBLEM_JSON);
        }
    }

    #[test]
    fn the_bare_prefix_redirects_and_only_get_and_head_are_taken() {
        let res = respond_to(&Method::GET, "/console");
        assert_eq!(res.status(), 308);
        assert_eq!(header(&res, header::LOCATION), "/console/");
        let res = respond_to(&Method::POST, "/console/");
        assert_eq!(res.status(), 405);
        assert_eq!(header(&res, header::ALLOW), "GET, HEAD");
        let res = respond_to(&Method::HEAD, "/console/");
        assert_eq!(res.status(), 200);
        assert!(matches!(res.body(), Body::Empty));
    }

    #[test]
    fn text_is_gzipped_for_browsers_that_accept_it() {
        let get = |encoding: &str| {
            let req = lambda_http::http::Request::builder()
                .uri("https://example.test/console/")
                .header(header::ACCEPT_ENCODING, encoding)
                .body(Body::Empty)
                .unwrap();
            respond(&req)
        };
        let plain = get("identity");
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert!(get("gzip;q=0").headers().get(header::CONTENT_ENCODING).is_none());
        let zipped = get("gzip, deflate, br");
        assert_eq!(header(&zipped, header::VARY), "Accept-Encoding");
        if file("index.html.gz").is_some() {
            assert_eq!(header(&zipped, header::CONTENT_ENCODING), "gzip");
            let Body::Binary(bytes) = zipped.body() else {
                panic!("a binary body")
            };
            assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
        } else {
            // The placeholder, or a build without copies: answered as is.
            assert!(zipped.headers().get(header::CONTENT_ENCODING).is_none());
        }
    }

    #[test]
    fn an_unbuilt_binary_serves_a_page_that_says_how_to_build_it() {
        // The placeholder is what a binary built before the pages serves; the check holds either way.
        let page = file("index.html").expect("there is always an index");
        if built() {
            assert!(std::str::from_utf8(page).unwrap().contains("<script type=\"module\""));
        } else {
            assert_eq!(page, PLACEHOLDER);
            assert!(std::str::from_utf8(page).unwrap().contains("make dev"));
        }
        assert!(!std::str::from_utf8(PLACEHOLDER).unwrap().contains("<script"));
    }
}
