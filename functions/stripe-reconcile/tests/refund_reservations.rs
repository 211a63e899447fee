//! A refund whose Lambda died between reserving and recording leaves its reservation held; the
//! reconciliation releases it once it is stale (never one still fresh, never before the invoice's
//! newest reservation is stale), so the invoice has all that is left to refund again.

use jiff::{Span, Timestamp};
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::domain::money::Cents;
use shared::domain::tier::Tier;
use shared::store::refunds::Reservation;
use shared::store::Store;
use shared::stripe::client::StripeApi;
use shared::stripe::webhook::StripeEvent;
use shared::testing::billing::{billed_partner, test_prices};
use shared::testing::fresh_store;
use shared::testing::localstripe::{LocalStripe, LOCAL_KEY};
use shared::usecases::refund_reservations::release_stale_refund_reservations;
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules};
use stripe_reconcile::{Reconciler, ScheduledTrigger};

const PAID: i64 = 360_000;

/// A gold partner with one invoice paid through Stripe; its id and the invoice's.
async fn paid_invoice(store: &Store, now: Timestamp) -> (shared::domain::partner::PartnerId, String) {
    let id = format!("held-{}", shared::ids::next_id().to_string().to_lowercase());
    let end = jiff::civil::date(2027, 6, 1);
    let (customer, subscription) = (format!("cus_{id}"), format!("sub_{id}"));
    let partner = Box::pin(billed_partner(
        store,
        &id,
        Tier::Gold,
        end,
        &customer,
        &subscription,
        now,
    ))
    .await;
    let invoice_id = format!("in_{}", id.replace('-', "_"));
    let created = now.as_second() - 3 * 3_600;
    let invoice = shared::stripe::fixtures::invoice(
        &invoice_id,
        &customer,
        &subscription,
        "price_gold",
        PAID,
        "paid",
        1,
        created,
    );
    let event = shared::stripe::fixtures::event(&format!("evt_{id}"), "invoice.paid", created, invoice);
    let calendar = BusinessCalendar::utc();
    let prices = test_prices();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    Box::pin(handle_stripe_event(
        store,
        &rules,
        None,
        &StripeEvent::from_api(event).unwrap(),
        now,
    ))
    .await
    .unwrap();
    (partner.id, invoice_id)
}

#[tokio::test]
async fn stale_refund_reservations_are_released_and_fresh_ones_kept() {
    let (store, _) = fresh_store().await;
    let now = Timestamp::now();
    let (partner, invoice) = Box::pin(paid_invoice(&store, now)).await;
    // Two refunds reserved and never recorded or released: one an hour ago, one a minute ago.
    let reserve = |amount: i64, request: &'static str, at: Timestamp| {
        let (store, partner, invoice) = (store.clone(), partner.clone(), invoice.clone());
        async move {
            store
                .reserve_refund(&partner, &invoice, Cents(amount), request, at)
                .await
                .unwrap()
        }
    };
    assert!(matches!(
        reserve(100_000, "req-dead", now - Span::new().hours(1)).await,
        Reservation::Reserved { .. }
    ));
    assert!(matches!(
        reserve(50_000, "req-live", now - Span::new().minutes(1)).await,
        Reservation::Reserved { .. }
    ));
    assert_eq!(
        reserve(PAID - 150_000 + 1, "req-probe", now).await,
        Reservation::NotEnough,
        "both reservations hold"
    );

    // The invoice is looked at once its newest reservation is stale: a minute is not.
    assert_eq!(release_stale_refund_reservations(&store, now).await.unwrap(), 0);
    assert!(store
        .refund_request(&partner, &invoice, "req-dead")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .refund_request(&partner, &invoice, "req-live")
        .await
        .unwrap()
        .is_some());

    // Twenty minutes on, both are stale; the reconciliation's run releases them.
    let reconciler = Reconciler {
        store: store.clone(),
        stripe: StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&LocalStripe::from_env().base)).unwrap(),
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
    };
    let later = now + Span::new().minutes(20);
    let run = Box::pin(reconciler.handle(ScheduledTrigger::default(), later))
        .await
        .unwrap();
    assert_eq!(run.released_refund_reservations, 2, "{run:?}");
    assert_eq!(
        store.refund_request(&partner, &invoice, "req-dead").await.unwrap(),
        None
    );
    assert!(
        matches!(reserve(PAID, "req-all", later).await, Reservation::Reserved { .. }),
        "all of it is refundable again"
    );
    // That reservation is fresh: a run now keeps it.
    let again = Box::pin(reconciler.handle(ScheduledTrigger::default(), later))
        .await
        .unwrap();
    assert_eq!(again.released_refund_reservations, 0);
    assert!(store
        .refund_request(&partner, &invoice, "req-all")
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .stale_refund_reservations(later + Span::new().hours(1), 10)
            .await
            .unwrap()
            .len(),
        1,
        "the invoice stays indexed while a reservation is held"
    );
}
