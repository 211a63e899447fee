//! Reconciliation against localstripe: a subscription whose webhooks this table never received is
//! applied from Stripe's event list; a second run changes nothing.

use jiff::Timestamp;
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::PaymentStatus;
use shared::domain::tier::Tier;
use shared::stripe::client::StripeApi;
use shared::testing::billing::test_prices;
use shared::testing::localstripe::{subscribed_partner, LocalStripe, LOCAL_KEY};
use shared::testing::{fresh_store, table_snapshot};
use std::time::{Duration, Instant};
use stripe_reconcile::{Reconciler, RunFailed, ScheduledTrigger};

#[tokio::test]
async fn events_that_never_arrived_are_applied_once() {
    let (store, _) = fresh_store().await;
    let id = format!("recon-{}", shared::ids::next_id().to_string().to_lowercase());
    // No webhook leads to this table: only the reconciliation can bring the payment in.
    let (partner, _) = subscribed_partner(&store, &id, Tier::Gold, false).await;
    assert_eq!(partner.last_payment_amount, None);
    let reconciler = Reconciler {
        store: store.clone(),
        stripe: StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&LocalStripe::from_env().base)).unwrap(),
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
    };
    // localstripe pays the first invoice a moment after the subscription is made: wait until Stripe's
    // event list shows the payment, as the reconciliation will read it.
    let customer = partner.stripe_customer_id.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = reconciler
            .stripe
            .events_since(Timestamp::now() - Duration::from_secs(600), 100)
            .await
            .unwrap()
            .events;
        let paid = events.iter().any(|event| {
            event["type"] == "invoice.payment_succeeded" && event["data"]["object"]["customer"] == customer.as_str()
        });
        if paid {
            break;
        }
        assert!(Instant::now() < deadline, "localstripe never paid the first invoice");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let first = reconciler
        .handle(ScheduledTrigger::default(), Timestamp::now())
        .await
        .unwrap();
    assert!(
        first.events.applied >= 2,
        "the invoice and its payment at least: {first:?}"
    );
    assert_eq!(first.events.errors, 0);
    let paid = store.get_partner(&partner.id).await.unwrap().unwrap();
    assert_eq!(paid.payment_status, Some(PaymentStatus::Current));
    assert_eq!(paid.last_payment_amount.map(|c| c.get()), Some(360_000));

    let before = table_snapshot(&store).await;
    let second = reconciler
        .handle(ScheduledTrigger::default(), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(second.events.applied, 0, "{second:?}");
    assert!(second.events.duplicates >= first.events.applied, "{second:?}");
    assert_eq!(table_snapshot(&store).await, before, "a second run changes nothing");
}

/// A run that stops paging at its page limit before the start of its window fails (so the alarm
/// fires) and says so; a refused key asks for the secrets again.
#[tokio::test]
async fn a_listing_that_never_reaches_the_window_start_fails_the_run() {
    let stub = shared::testing::stripe_stub::StripeStub::start().await;
    let (store, _) = shared::testing::fresh_store().await;
    let reconciler = Reconciler {
        store,
        stripe: StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&stub.base_url)).unwrap(),
        calendar: BusinessCalendar::utc(),
        prices: shared::testing::billing::test_prices(),
    };
    let failed = reconciler
        .handle(ScheduledTrigger::default(), Timestamp::now())
        .await
        .unwrap_err();
    let RunFailed::Partial(run) = &failed else {
        panic!("expected a partial run: {failed}");
    };
    assert!(run.events.stopped_early);
    assert_eq!(run.events.listed, shared::usecases::reconcile::MAX_EVENT_PAGES);
    assert_eq!(
        stub.requests_to("/v1/events").len(),
        shared::usecases::reconcile::MAX_EVENT_PAGES
    );
    assert!(
        failed.to_string().contains("stopped before the window's start"),
        "{failed}"
    );
    assert_eq!(failed.refused_secret(), None);

    stub.set_key_revoked(true);
    let refused = reconciler
        .handle(ScheduledTrigger::default(), Timestamp::now())
        .await
        .unwrap_err();
    assert_eq!(
        refused.refused_secret(),
        Some(shared::secrets::SecretRefused::StripeKey),
        "{refused}"
    );
}
