//! The pages, served by the stack on the API's own origin (no CORS, one deploy): the admin console at
//! `/console/` and the partner portal at `/partner/` (two apps of one Vite package, `web/`).
//!
//! The built files of `web/` are embedded in the binary at build time (`build.rs`). Routes (the
//! template's `GET /console`, `ANY /console/{proxy+}`, `GET /partner` and `ANY /partner/{proxy+}`):
//! - `/console` and `/partner` redirect to `/console/` and `/partner/`;
//! - `/<app>/assets/*` are Vite's content-hashed files: cached for a year, immutable;
//! - any other path without a file extension is a page of that single-page app: its `index.html`,
//!   never cached, so a deploy takes effect on the next load (`/partner/billing`, where the emails
//!   link, is the portal's subscription page);
//! - `/partner/config.json` says where the portal loads Stripe.js from: Stripe (`null`) or, in local
//!   runs only, the local stack's (`LOCAL_STRIPE_JS_URL`, a loopback URL; anything else stops the
//!   function at start);
//! - everything else is a 404 problem, and methods other than GET and HEAD a 405.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and requests only from this
//! origin, no inline scripts, no framing by other sites. The portal's policy adds exactly the Stripe
//! origins Stripe documents for Stripe.js and Elements (its script, its frames, its API), and the local
//! Stripe.js origin in local runs. Text files are answered gzipped (the copies `npm run build` writes
//! beside them) when the browser accepts gzip: API Gateway's HTTP API does not compress answers itself.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use std::sync::OnceLock;

mod built {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The console's policy. `style-src 'self'` holds too: React sets style properties through the DOM,
/// which a policy does not govern, and the pages have no inline `<style>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'self'";

/// The Stripe origins Stripe documents for Stripe.js and Elements: its script, the frames of its
/// elements and of 3-D Secure, and its API.
pub const STRIPE_SCRIPT_SRC: &str = "https://js.stripe.com https://*.js.stripe.com";
pub const STRIPE_FRAME_SRC: &str = "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com";
pub const STRIPE_CONNECT_SRC: &str = "https://api.stripe.com";

/// The partner portal's policy: the console's, plus Stripe's origins (and, in local runs, the local
/// Stripe.js origin for its script and its calls).
pub fn partner_policy(local_origin: Option<&str>) -> String {
    let local = local_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self' {STRIPE_SCRIPT_SRC}{local}; style-src 'self'; \
img-src 'self' data: https://*.stripe.com; font-src 'self'; connect-src 'self' {STRIPE_CONNECT_SRC}{local}; \
frame-src {STRIPE_FRAME_SRC}; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    )
}

/// Hashed assets never change under their name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `index.html` and anything not hashed: ask every time.
pub const NO_CACHE: &str = "no-cache";

const PLACEHOLDER: &[u8] = b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Power100 console (not built)</title></head>\n<body><main><h1>The console was not built</h1><p>This binary was compiled before the pages were built. Run <code>make dev</code> or <code>make package</code>, which build <code>functions/console/web</code> (npm) before cargo.</p></main></body></html>\n";
const PARTNER_PLACEHOLDER: &[u8] = b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Power100 partner portal (not built)</title></head>\n<body><main><h1>The partner portal was not built</h1><p>This binary was compiled before the pages were built. Run <code>make dev</code> or <code>make package</code>, which build <code>functions/console/web</code> (npm) before cargo.</p></main></body></html>\n";

/// The two apps this function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    Console,
    Partner,
}

impl App {
    pub const fn prefix(self) -> &'static str {
        match self {
            App::Console => "/console",
            App::Partner => "/partner",
        }
    }

    fn files(self) -> &'static [(&'static str, &'static [u8])] {
        match self {
            App::Console => built::FILES,
            App::Partner => built::PARTNER_FILES,
        }
    }

    /// Whether the app's pages were built into this binary (false: a placeholder page is served).
    pub fn built(self) -> bool {
        match self {
            App::Console => built::BUILT,
            App::Partner => built::PARTNER_BUILT,
        }
    }

    /// The embedded file at `name` (relative to the app's prefix).
    pub fn file(self, name: &str) -> Option<&'static [u8]> {
        if !self.built() && name == "index.html" {
            return Some(match self {
                App::Console => PLACEHOLDER,
                App::Partner => PARTNER_PLACEHOLDER,
            });
        }
        self.files().iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
    }

    fn embedded(self, name: &str) -> Option<(&'static str, &'static [u8])> {
        self.files().iter().find(|(n, _)| *n == name).copied()
    }

    /// Names and sizes of the app's embedded files (for the bundle size in `make bench`).
    pub fn sizes(self) -> impl Iterator<Item = (&'static str, usize)> {
        self.files().iter().map(|(n, b)| (*n, b.len()))
    }

    fn policy(self) -> HeaderValue {
        match self {
            App::Console => HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            App::Partner => HeaderValue::from_str(&partner_policy(local_stripe_js().map(|l| l.origin.as_str())))
                .unwrap_or_else(|_| HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        }
    }
}

/// Whether the console's pages were built into this binary (false: the placeholder page is served).
pub fn built() -> bool {
    App::Console.built()
}

/// The console's embedded file at `name` (relative to `/console/`).
pub fn file(name: &str) -> Option<&'static [u8]> {
    App::Console.file(name)
}

/// Names of the console's embedded files (for the bundle size in `make bench`).
pub fn files() -> impl Iterator<Item = (&'static str, usize)> {
    App::Console.sizes()
}

/// The local Stripe.js of a local run: its URL and origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalStripeJs {
    pub url: String,
    pub origin: String,
}

/// `LOCAL_STRIPE_JS_URL` read: `http://127.0.0.1:<port>/...` or `http://localhost:<port>/...` only.
pub fn parse_local_stripe_js(value: &str) -> Result<LocalStripeJs, String> {
    let rest = value.strip_prefix("http://").ok_or_else(|| {
        "LOCAL_STRIPE_JS_URL must be an http:// URL on this machine (127.0.0.1 or localhost)".to_owned()
    })?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = authority
        .split_once(':')
        .ok_or_else(|| "LOCAL_STRIPE_JS_URL needs a port".to_owned())?;
    let port_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    let path_ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_'));
    if !matches!(host, "127.0.0.1" | "localhost") || !port_ok || !path_ok {
        return Err(
            "LOCAL_STRIPE_JS_URL must be http://127.0.0.1:<port>/... or http://localhost:<port>/...".to_owned(),
        );
    }
    Ok(LocalStripeJs {
        url: value.to_owned(),
        origin: format!("http://{authority}"),
    })
}

static LOCAL_STRIPE_JS: OnceLock<Result<Option<LocalStripeJs>, String>> = OnceLock::new();

/// The local Stripe.js of this run (`LOCAL_STRIPE_JS_URL`), read once; an invalid value is an error
/// that `main` reports at start ([`check_environment`]).
fn local_stripe_js() -> Option<&'static LocalStripeJs> {
    LOCAL_STRIPE_JS
        .get_or_init(|| match std::env::var("LOCAL_STRIPE_JS_URL") {
            Ok(value) if !value.trim().is_empty() => parse_local_stripe_js(value.trim()).map(Some),
            _ => Ok(None),
        })
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
}

/// Checks the environment at start: an invalid `LOCAL_STRIPE_JS_URL` stops the function.
pub fn check_environment() -> Result<(), String> {
    local_stripe_js();
    match LOCAL_STRIPE_JS.get() {
        Some(Err(why)) => Err(why.clone()),
        _ => Ok(()),
    }
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

fn secure(app: App, mut res: Response<Body>) -> Response<Body> {
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, app.policy());
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

fn serve(app: App, name: &'static str, bytes: &'static [u8], cache: &'static str, head: bool) -> Response<Body> {
    let mut res = Response::new(if head {
        Body::Empty
    } else {
        Body::Binary(bytes.to_vec())
    });
    res.extensions_mut().insert(Served(app, name));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    secure(app, res)
}

fn problem(app: App, err: AppError) -> Response<Body> {
    let mut res = shared::http::problem(&err);
    if let AppError::MethodNotAllowed { allow, .. } = err {
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    secure(app, res)
}

/// The answer to `req` (any path; those outside `/console` and `/partner` are 404).
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
    let Some(Served(app, name)) = res.extensions().get::<Served>().copied() else {
        return res;
    };
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let Some(gz) = app.file(&format!("{name}.gz")) else {
        return res;
    };
    if !matches!(res.body(), Body::Empty) {
        *res.body_mut() = Body::Binary(gz.to_vec());
    }
    res.headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    res
}

/// Which embedded file of which app an answer holds.
#[derive(Clone, Copy)]
struct Served(App, &'static str);

/// `/partner/config.json`: where the portal loads Stripe.js from (`null`: Stripe's own).
fn page_config(head: bool) -> Response<Body> {
    let body = serde_json::json!({ "stripe_js": local_stripe_js().map(|l| l.url.clone()) }).to_string();
    let mut res = Response::new(if head { Body::Empty } else { Body::Text(body) });
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    secure(App::Partner, res)
}

/// The answer to `method` on `path`, uncompressed.
pub fn respond_to(method: &Method, path: &str) -> Response<Body> {
    let (app, rest) = match (path.strip_prefix("/console"), path.strip_prefix("/partner")) {
        (Some(rest), _) => (App::Console, rest),
        (_, Some(rest)) => (App::Partner, rest),
        _ => return problem(App::Console, AppError::NotFound(format!("no page at {path}"))),
    };
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        return problem(
            app,
            AppError::MethodNotAllowed {
                method: method.to_string(),
                allow: "GET, HEAD",
            },
        );
    }
    if rest.is_empty() {
        let mut res = Response::new(Body::Empty);
        *res.status_mut() = StatusCode::PERMANENT_REDIRECT;
        let to = match app {
            App::Console => "/console/",
            App::Partner => "/partner/",
        };
        res.headers_mut().insert(header::LOCATION, HeaderValue::from_static(to));
        return secure(app, res);
    }
    let Some(name) = rest.strip_prefix('/') else {
        return problem(app, AppError::NotFound(format!("no page at {path}")));
    };
    if name.split('/').any(|segment| segment == ".." || segment == ".") {
        return problem(app, AppError::NotFound(format!("no page at {path}")));
    }
    if app == App::Partner && name == "config.json" {
        return page_config(head);
    }
    if let Some((name, bytes)) = app.embedded(name).filter(|(n, _)| *n != "index.html") {
        let cache = if name.starts_with("assets/") {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        return serve(app, name, bytes, cache, head);
    }
    let last = name.rsplit('/').next().unwrap_or("");
    if name.starts_with("assets/") || (last.contains('.') && last != "index.html") {
        return problem(app, AppError::NotFound(format!("no file at {path}")));
    }
    // A page of the app (its router reads the path): the shell, never cached.
    let shell = app.file("index.html").unwrap_or(PLACEHOLDER);
    serve(app, "index.html", shell, NO_CACHE, head)
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
        assert!(!std::str::from_utf8(PARTNER_PLACEHOLDER).unwrap().contains("<script"));
    }

    #[test]
    fn the_portal_is_served_at_partner_with_stripes_origins_in_its_policy() {
        for path in [
            "/partner/",
            "/partner/billing",
            "/partner/upgrade",
            "/partner/invoices/in_123",
        ] {
            let res = respond_to(&Method::GET, path);
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(header(&res, header::CACHE_CONTROL), NO_CACHE);
            assert!(header(&res, header::CONTENT_TYPE).starts_with("text/html"));
            let policy = header(&res, header::CONTENT_SECURITY_POLICY);
            assert!(
                policy.contains("script-src 'self' https://js.stripe.com https://*.js.stripe.com"),
                "{policy}"
            );
            assert!(policy.contains("frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"));
            assert!(policy.contains("connect-src 'self' https://api.stripe.com"));
            assert!(
                !policy.contains("unsafe-inline") && !policy.contains("http://"),
                "{policy}"
            );
        }
        let res = respond_to(&Method::GET, "/partner");
        assert_eq!(res.status(), 308);
        assert_eq!(header(&res, header::LOCATION), "/partner/");
        // The console's own policy has no Stripe origin.
        let console = respond_to(&Method::GET, "/console/");
        assert!(!header(&console, header::CONTENT_SECURITY_POLICY).contains("stripe"));
        for (name, _) in App::Partner.sizes().filter(|(n, _)| n.starts_with("assets/")) {
            assert_eq!(respond_to(&Method::GET, &format!("/partner/{name}")).status(), 200);
        }
        assert_eq!(respond_to(&Method::GET, "/partner/assets/nope.js").status(), 404);
        assert_eq!(respond_to(&Method::POST, "/partner/").status(), 405);
    }

    #[test]
    fn the_portals_config_names_stripes_script_or_a_local_one() {
        let res = respond_to(&Method::GET, "/partner/config.json");
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, header::CONTENT_TYPE), "application/json");
        let Body::Text(text) = res.body() else {
            panic!("a text body")
        };
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert!(json.get("stripe_js").is_some());
        let local = parse_local_stripe_js("http://127.0.0.1:4242/js.stripe.com/v3/").unwrap();
        assert_eq!(local.origin, "http://127.0.0.1:4242");
        assert!(partner_policy(Some(&local.origin))
            .contains("script-src 'self' https://js.stripe.com https://*.js.stripe.com http://127.0.0.1:4242;"));
        assert!(parse_local_stripe_js("http://localhost:9/js.stripe.com/v3/").is_ok());
        for bad in [
            "https://js.stripe.com/v3/",
            "http://evil.example:80/x",
            "http://127.0.0.1/x",
            "http://127.0.0.1:80x/",
            "http://127.0.0.1:4242/a b",
            "http://127.0.0.1:4242/'unsafe-inline'",
            "http://user@127.0.0.1:4242/",
        ] {
            assert!(parse_local_stripe_js(bad).is_err(), "{bad}");
        }
    }
}
