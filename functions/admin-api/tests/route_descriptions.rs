//! The template's routes and the API descriptions cannot drift: every HTTP route a function gets in
//! `template.yaml` is in that function's OpenAPI description, and the other way round.

use shared::testing::routes::{described_routes, template_routes};

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
