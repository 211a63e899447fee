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
