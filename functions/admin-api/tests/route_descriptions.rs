//! The routes cannot drift from their descriptions: every HTTP route a function gets in
//! `template.yaml` is in that function's OpenAPI description and the other way round, and for every
//! described path the router takes exactly the described methods.

mod support;

use shared::testing::routes::{described_routes, router_against_description, template_routes};

#[test]
fn every_deployed_route_is_described_and_every_described_route_deployed() {
    for (function, description) in [
        ("AdminApiFunction", "infra/api/admin-api.openapi.yaml"),
        ("PartnerPortalFunction", "infra/api/partner-portal.openapi.yaml"),
        ("StripeWebhookFunction", "infra/api/stripe-webhook.openapi.yaml"),
    ] {
        let deployed = template_routes(function);
        let described = described_routes(description);
        assert!(!deployed.is_empty(), "{function} has routes");
        assert_eq!(deployed, described, "{function} in template.yaml against {description}");
    }
}

#[tokio::test]
async fn the_admin_router_takes_exactly_the_described_methods_of_every_described_path() {
    let api = support::TestApi::new().await;
    let authorization = format!("Bearer {}", api.token);
    let differences = router_against_description("infra/api/admin-api.openapi.yaml", &authorization, |req| {
        api.app.handle(req)
    })
    .await;
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Every function the HTTP API routes to is tied to a description above, except the console, whose
/// routes serve pages, not API operations (`functions/console/tests/routes.rs` pins them): a new HTTP
/// function cannot slip past the check above.
#[test]
fn every_http_function_is_checked_against_a_description_or_is_the_console() {
    let template = std::fs::read_to_string(shared::testing::repo_file("template.yaml")).unwrap();
    let lines: Vec<&str> = template.lines().collect();
    let functions: Vec<&str> = lines
        .windows(2)
        .filter(|pair| pair[1].trim() == "Type: AWS::Serverless::Function")
        .filter_map(|pair| pair[0].strip_prefix("  ")?.strip_suffix(':'))
        .collect();
    assert!(functions.len() >= 7, "functions found in template.yaml: {functions:?}");
    let mut routed: Vec<&str> = functions
        .into_iter()
        .filter(|f| !template_routes(f).is_empty() || !shared::testing::routes::template_catch_alls(f).is_empty())
        .collect();
    routed.sort_unstable();
    assert_eq!(
        routed,
        [
            "AdminApiFunction",
            "ConsoleFunction",
            "PartnerPortalFunction",
            "StripeWebhookFunction"
        ],
        "the HTTP API's functions"
    );
}
