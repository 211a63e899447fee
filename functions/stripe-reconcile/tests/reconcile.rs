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
use stripe_reconcile::{Reconciler, ScheduledTrigger};

#[tokio::test]
async fn events_that_never_arrived_are_applied_once() {
    let (store, _) = fresh_store().await;
    let id = format!("recon-{}", shared::ids::next_id().to_string().to_lowercase());
    // No webhook leads to this table: only the reconciliation can bring the payment in.
    let (partner, _) = subscribed_partner(&store, &id, Tier::Gold, false).await;
    assert_eq!(partner.last_payment_amount, None);
    let reconciler = Reconciler {
        store: store.clone(),
        stripe: StripeApi::new(&Secret::new(LOCAL_KEY), Some(&LocalStripe::from_env().base)).unwrap(),
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
            .events_since(Timestamp::now() - Duration::from_secs(600))
            .await
            .unwrap();
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
