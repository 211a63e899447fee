//! Every portal route, whatever is added later, refuses every kind of bad token and an oversized body
//! before it reads or changes anything.

mod support;

use shared::auth::Role;
use shared::testing::attacks::attack_every_route;
use shared::testing::stripe_stub::StripeStub;
use shared::testing::table_snapshot;
use support::TestPortal;

#[tokio::test]
async fn every_portal_route_refuses_bad_tokens_and_oversized_bodies_and_changes_nothing() {
    let stripe = StripeStub::start().await;
    let portal = TestPortal::new(&stripe.base_url, "sk_test_stub_key").await;
    let before = table_snapshot(&portal.portal.store).await;
    portal.calls.clear();

    let (failures, routes) =
        attack_every_route("PartnerPortalFunction", Role::Partner, |req| portal.portal.handle(req)).await;

    assert!(
        failures.is_empty(),
        "{} answered wrongly on {routes} routes:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(routes >= 10, "every route was attacked ({routes} routes)");
    assert_eq!(table_snapshot(&portal.portal.store).await, before, "nothing changed");
    assert_eq!(
        portal.calls.calls(),
        vec!["Scan"; 1],
        "nothing but the snapshot read the table"
    );
    assert!(stripe.requests().is_empty(), "nothing reached Stripe");
}

/// For every described path, the portal's router takes exactly the described methods.
#[tokio::test]
async fn the_portal_router_takes_exactly_the_described_methods_of_every_described_path() {
    let stripe = StripeStub::start().await;
    let portal = TestPortal::new(&stripe.base_url, "sk_test_stub_key").await;
    // The whole function: the portal's routes and sign-in's (which need no token).
    let function = partner_portal::PortalFunction {
        portal: portal.portal,
        sign_in: partner_portal::SignIn {
            mailer: shared::mailer::Mailer::from_sdk_config(
                &shared::testing::local_sdk_config().await,
                "Power100 <partners@example.test>",
                None,
            ),
            portal_url: "https://portal.example.test/partner/billing".into(),
            key: shared::testing::test_signing_key(Role::Partner),
            rules: shared::testing::test_rules(Role::Partner),
        },
    };
    let token = shared::testing::partner_token("u1", &shared::domain::partner::PartnerId::parse("p1").unwrap());
    let differences = shared::testing::routes::router_against_description(
        "infra/api/partner-portal.openapi.yaml",
        &format!("Bearer {token}"),
        |req| {
            let function = &function;
            async move { shared::runtime::HttpFunction::respond(function, &req).await }
        },
    )
    .await;
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
