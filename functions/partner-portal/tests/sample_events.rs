//! Every portal sample event in events/ runs through the handler (as `cargo lambda invoke
//! --data-file` would hand it over) against moto with the demo partners loaded and the exact-request
//! Stripe stub, and answers the expected status.

mod support;

use shared::auth::{Role, TokenAuth};
use shared::domain::dates::BusinessCalendar;
use shared::testing::stripe_stub::StripeStub;
use shared::testing::{fresh_store, local_signing_key, repo_file, sample_event_files};
use shared::usecases::seed::{load_demo_partners, DemoPartner};

/// The expected status of each portal sample event, in the order they run.
const EXPECTED: [(&str, u16); 11] = [
    ("portal-me.json", 200),
    ("portal-tiers.json", 200),
    ("portal-invoices.json", 200),
    ("portal-invoice-pdf-unknown.json", 404),
    ("portal-upgrade.json", 202),
    ("portal-upgrade-refused.json", 409),
    ("portal-payment-method.json", 201),
    ("portal-cancel.json", 200),
    ("portal-cancel-withdraw.json", 200),
    ("portal-export.json", 200),
    ("portal-erase-payment-history.json", 200),
];

#[tokio::test]
async fn every_portal_sample_event_answers_as_expected() {
    let demo: Vec<DemoPartner> =
        serde_json::from_str(&std::fs::read_to_string(repo_file("infra/seed/demo-partners.json")).unwrap()).unwrap();
    let files = sample_event_files("portal-");
    let mut expected: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
    expected.sort_unstable();
    assert_eq!(files, expected, "every portal event file needs an expected status here");

    let (store, calls) = fresh_store().await;
    let calendar = BusinessCalendar::utc();
    load_demo_partners(&store, &calendar, &demo, jiff::Timestamp::now())
        .await
        .unwrap();
    let stub = StripeStub::start().await;
    let mut portal = support::TestPortal::on(store, calls, &stub.base_url, "sk_test_stub_key").portal;
    portal.auth = TokenAuth::new(
        &local_signing_key(Role::Partner),
        shared::testing::local_token_rules(Role::Partner),
    );
    for (file, status) in EXPECTED {
        let request = shared::testing::api_sample(file);
        let response = portal.handle(request).await;
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert_eq!(response.status().as_u16(), status, "{file}: {body}");
    }
}
