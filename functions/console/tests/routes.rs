//! The pages' routes in `template.yaml` are not API operations: they are in no OpenAPI description
//! (route_descriptions.rs ties the API functions' routes to theirs), so this test pins them here
//! instead — for the console and the partner portal each the bare prefix and one catch-all, and no API
//! description claims `/console` or `/partner`.

use shared::testing::routes::{described_routes, template_catch_alls, template_routes};
use std::collections::BTreeSet;

#[test]
fn the_console_is_served_at_console_and_described_by_no_api() {
    assert_eq!(
        template_routes("ConsoleFunction"),
        BTreeSet::from(["GET /console".to_owned(), "GET /partner".to_owned()])
    );
    assert_eq!(
        template_catch_alls("ConsoleFunction"),
        BTreeSet::from(["ANY /console/{proxy+}".to_owned(), "ANY /partner/{proxy+}".to_owned()])
    );
    for description in [
        "infra/api/admin-api.openapi.yaml",
        "infra/api/partner-portal.openapi.yaml",
        "infra/api/stripe-webhook.openapi.yaml",
    ] {
        let console: Vec<_> = described_routes(description)
            .into_iter()
            .filter(|route| route.contains(" /console") || route.contains(" /partner"))
            .collect();
        assert!(console.is_empty(), "{description} describes console pages: {console:?}");
    }
}

#[test]
fn every_route_under_console_answers_with_the_policy() {
    use lambda_http::http::Method;
    for (method, path, status) in [
        (Method::GET, "/console", 308),
        (Method::GET, "/console/", 200),
        (Method::GET, "/console/subscriptions", 200),
        (Method::HEAD, "/console/invoices", 200),
        (Method::DELETE, "/console/", 405),
        (Method::GET, "/console/assets/missing.js", 404),
        (Method::GET, "/partner", 308),
        (Method::GET, "/partner/", 200),
        (Method::GET, "/partner/billing", 200),
        (Method::GET, "/partner/config.json", 200),
        (Method::PUT, "/partner/billing", 405),
        (Method::GET, "/partner/assets/missing.js", 404),
    ] {
        let res = console::respond_to(&method, path);
        assert_eq!(res.status(), status, "{method} {path}");
        assert!(res.headers().contains_key("content-security-policy"), "{method} {path}");
    }
}

#[test]
fn the_sample_event_is_a_page_as_api_gateway_passes_it() {
    // events/console-page.json, for `cargo lambda invoke console` and `sam local invoke ConsoleFunction`.
    let text = std::fs::read_to_string(shared::testing::repo_file("events/console-page.json")).unwrap();
    let req = lambda_http::request::from_str(&text).expect("an API Gateway v2 event");
    let res = console::respond(&req);
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], console::NO_CACHE);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}
