//! "Renews automatically" is true for a manually billed term: at its end the sweep requests its
//! renewal's Stripe billing, and the reconciliation starts it at localstripe as an emailed invoice
//! (`send_invoice`) for the same tier; the partner keeps the tier while the invoice is open, and the
//! sweep leaves the term to Stripe from then on.

use jiff::{Span, Timestamp};
use shared::config::Secret;
use shared::domain::billing_start::Collection;
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::PaymentStatus;
use shared::domain::tier::Tier;
use shared::stripe::client::StripeApi;
use shared::testing::billing::test_prices;
use shared::testing::localstripe::{LocalStripe, LOCAL_KEY};
use shared::testing::{fresh_store, seed_term};
use shared::usecases::sweep::{run_expiry_sweep, SweepSettings};
use stripe_reconcile::{Reconciler, ScheduledTrigger};

#[tokio::test]
async fn a_manual_auto_renewing_term_is_invoiced_through_stripe_at_its_end() {
    let (store, _) = fresh_store().await;
    let localstripe = LocalStripe::from_env();
    localstripe.plan("price_gold", 360_000).await;
    localstripe.plan("price_platinum", 600_000).await;
    let calendar = BusinessCalendar::utc();
    let now = Timestamp::now();
    let today = calendar.today(now);
    let yesterday = today.yesterday().unwrap();
    let id = format!("renew-{}", shared::ids::next_id().to_string().to_lowercase());
    let seeded = seed_term(
        &store,
        &id,
        Tier::Gold,
        yesterday,
        true,
        now - Span::new().hours(24 * 300),
    )
    .await;
    assert!(seeded.stripe_subscription_id.is_none(), "billed by hand");

    // The day after the end: the sweep requests the renewal's billing; nothing is expired.
    let sweep = run_expiry_sweep(&store, &calendar, &SweepSettings::default(), now)
        .await
        .unwrap();
    assert_eq!((sweep.renewal_billing_requested, sweep.expired), (1, 0), "{sweep:?}");
    let requested = store.get_partner(&seeded.id).await.unwrap().unwrap();
    assert_eq!(requested.engagement_tier, Tier::Gold);
    assert!(requested.pending_billing.is_some());

    // The reconciliation (hourly; here two minutes later, past the claim's lease) starts it.
    let reconciler = Reconciler {
        store: store.clone(),
        stripe: StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&localstripe.base)).unwrap(),
        calendar: calendar.clone(),
        prices: test_prices(),
    };
    let later = now + Span::new().minutes(2);
    let run = reconciler
        .handle(ScheduledTrigger::default(), later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            run.billing_starts.pending,
            run.billing_starts.started,
            run.billing_starts.still_pending
        ),
        (1, 1, 0),
        "{run:?}"
    );

    let billed = store.get_partner(&seeded.id).await.unwrap().unwrap();
    assert_eq!(
        billed.engagement_tier,
        Tier::Gold,
        "the tier stays while the invoice is open"
    );
    assert_eq!(billed.collection, Some(Collection::SendInvoice));
    assert_eq!(billed.payment_status, Some(PaymentStatus::AwaitingPayment));
    assert!(billed.pending_billing.is_none(), "the claim is done");
    let subscription_id = billed.stripe_subscription_id.clone().expect("a Stripe subscription");
    let invoice_id = billed.open_invoice_id.clone().expect("its first invoice");

    // At localstripe: one subscription for the customer, at Gold's price, invoiced by email, with
    // its first invoice open (not charged).
    let customer = billed.stripe_customer_id.clone().unwrap();
    let subscriptions = localstripe.get(&format!("/v1/subscriptions?customer={customer}")).await;
    let listed = subscriptions["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 1, "{subscriptions}");
    let subscription = localstripe.get(&format!("/v1/subscriptions/{subscription_id}")).await;
    assert_eq!(subscription["collection_method"], "send_invoice", "{subscription}");
    assert_eq!(
        subscription["items"]["data"][0]["price"]["id"], "price_gold",
        "{subscription}"
    );
    assert_eq!(
        subscription["metadata"]["partner_id"],
        seeded.id.as_str(),
        "{subscription}"
    );
    let invoice = localstripe.get(&format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "open", "{invoice}");
    assert_eq!(invoice["collection_method"], "send_invoice", "{invoice}");
    assert_eq!(invoice["amount_due"], 360_000, "{invoice}");

    // From now on the term is Stripe's: the sweep neither expires it nor asks again, and a second
    // reconciliation starts nothing more.
    for day in 1..=10 {
        let at = later + Span::new().hours(24 * day);
        let sweep = run_expiry_sweep(&store, &calendar, &SweepSettings::default(), at)
            .await
            .unwrap();
        assert_eq!(
            (sweep.expired, sweep.renewal_billing_requested, sweep.awaiting_stripe),
            (0, 0, 1),
            "day {day}: {sweep:?}"
        );
    }
    let again = reconciler
        .handle(ScheduledTrigger::default(), later + Span::new().hours(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.billing_starts.pending, 0, "{again:?}");
    let subscriptions = localstripe.get(&format!("/v1/subscriptions?customer={customer}")).await;
    assert_eq!(
        subscriptions["data"].as_array().map(Vec::len),
        Some(1),
        "{subscriptions}"
    );
}
