//! Every sample event in events/ runs through the handler (as `cargo lambda invoke --data-file`
//! would hand it over) against moto with the demo partners loaded, and answers the expected status.

mod support;

use admin_api::App;
use shared::auth::{Role, TokenAuth};
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::testing::{fresh_store, local_signing_key, repo_file, sample_event_files};
use shared::usecases::seed::{load_demo_partners, DemoPartner};

/// The expected status of each admin sample event.
const EXPECTED: [(&str, u16); 28] = [
    ("admin-list-tiers.json", 200),
    ("admin-list-partners.json", 200),
    ("admin-get-partner.json", 200),
    ("admin-upsert-partner.json", 200),
    ("admin-tier-preview.json", 200),
    ("admin-change-tier.json", 200),
    ("admin-change-tier-post.json", 200),
    ("admin-change-tier-invalid.json", 422),
    ("admin-partner-history.json", 200),
    ("admin-partner-audit.json", 200),
    ("admin-subscriptions-expiring.json", 200),
    ("admin-subscriptions-history.json", 200),
    ("admin-subscriptions-export.json", 200),
    ("admin-subscriptions-renew.json", 200),
    ("admin-send-reminder.json", 202),
    ("admin-cancel-term-end.json", 200),
    ("admin-cancel-immediately.json", 200),
    ("admin-subscription-settings.json", 200),
    ("admin-partner-export.json", 200),
    ("admin-erase-payment-history.json", 200),
    // The demo data has no invoices: the invoice routes answer empty lists and 404s.
    ("admin-list-invoices.json", 200),
    ("admin-export-invoices.json", 200),
    ("admin-get-invoice.json", 404),
    ("admin-invoice-pdf.json", 404),
    ("admin-resend-invoice.json", 404),
    ("admin-mark-invoice-paid.json", 404),
    ("admin-refund-invoice.json", 404),
    ("admin-metrics.json", 200),
];

#[tokio::test]
async fn every_admin_sample_event_answers_as_expected() {
    let demo: Vec<DemoPartner> =
        serde_json::from_str(&std::fs::read_to_string(repo_file("infra/seed/demo-partners.json")).unwrap()).unwrap();
    let files = sample_event_files("admin-");
    let mut expected: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
    expected.sort_unstable();
    assert_eq!(files, expected, "every admin event file needs an expected status here");

    // One table for all, in the order above: the reads, then the changes, then history and audit.
    let (store, _) = fresh_store().await;
    let calendar = BusinessCalendar::utc();
    load_demo_partners(&store, &calendar, &demo, jiff::Timestamp::now())
        .await
        .unwrap();
    let stub = shared::testing::stripe_stub::StripeStub::start().await;
    let app = App {
        store,
        calendar,
        auth: TokenAuth::new(
            &local_signing_key(Role::Admin),
            shared::testing::local_token_rules(Role::Admin),
        ),
        billing: Some(admin_api::Billing {
            stripe: shared::stripe::client::StripeApi::with_key(&Secret::new("sk_test_stub_key"), Some(&stub.base_url))
                .expect("a Stripe client"),
            prices: shared::testing::billing::test_prices(),
        }),
    };
    for (file, status) in EXPECTED {
        let request = shared::testing::api_sample(file);
        let answer = support::answer(app.handle(request).await);
        assert_eq!(answer.status, status, "{file}: {}", answer.body);
    }
}
