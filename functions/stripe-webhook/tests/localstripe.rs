//! End to end with localstripe: the webhook receiver is registered with localstripe, customers and
//! subscriptions are created there, and localstripe's own signed deliveries change the partner and
//! its invoices: a paid subscription, a failing SEPA payment, a deleted subscription.

use jiff::Timestamp;
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::domain::history_and_audit::HistoryEventType;
use shared::domain::invoice::InvoiceStatus;
use shared::domain::partner::PaymentStatus;
use shared::domain::tier::Tier;
use shared::store::PageRequest;
use shared::testing::billing::test_prices;
use shared::testing::localstripe::{subscribed_partner, LocalStripe};
use shared::testing::{fresh_store, outbox_events, wait_for_partner};
use stripe_webhook::testing::registered_receiver;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", shared::ids::next_id().to_string().to_lowercase())
}

#[tokio::test]
async fn a_paid_subscription_then_its_deletion() {
    let receiver = registered_receiver(fresh_store().await.0).await;
    let store = &receiver.store;
    let id = unique("ls-paid");
    let (partner, subscription) = subscribed_partner(store, &id, Tier::Gold, false).await;
    assert_eq!(partner.engagement_tier, Tier::Gold);

    let paid = wait_for_partner(store, &partner.id, |p| p.last_payment_amount.is_some()).await;
    assert_eq!(paid.payment_status, Some(PaymentStatus::Current));
    assert_eq!(paid.last_payment_amount.map(|c| c.get()), Some(360_000));
    let page = PageRequest {
        limit: 10,
        cursor: None,
    };
    let invoices = store.partner_invoices(&partner.id, &page).await.unwrap().items;
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(invoices[0].status, InvoiceStatus::Paid);
    assert_eq!(invoices[0].tier, Some(Tier::Gold));
    assert!(outbox_events(store).await.iter().any(|(t, _)| t == "PaymentSucceeded"));

    LocalStripe::from_env()
        .delete(&format!("/v1/subscriptions/{subscription}"))
        .await;
    let ended = wait_for_partner(store, &partner.id, |p| p.engagement_tier == Tier::Free).await;
    assert_eq!(
        ended.engagement_tier,
        Tier::Free,
        "customer.subscription.deleted downgrades"
    );
    let history = store.partner_history(&partner.id, None, &page).await.unwrap().items;
    assert_eq!(history[0].event_type, HistoryEventType::Cancellation);
}

#[tokio::test]
async fn a_failing_sepa_payment_warns_then_the_ended_subscription_downgrades() {
    let receiver = registered_receiver(fresh_store().await.0).await;
    let store = &receiver.store;
    let id = unique("ls-sepa");
    let (partner, _) = subscribed_partner(store, &id, Tier::Platinum, true).await;

    // localstripe delivers the failure and the deletion concurrently: wait for both, in any order.
    let ended = wait_for_partner(store, &partner.id, |p| {
        p.engagement_tier == Tier::Free && p.payment_status == Some(PaymentStatus::PastDue)
    })
    .await;
    assert_eq!(
        (ended.engagement_tier, ended.payment_status),
        (Tier::Free, Some(PaymentStatus::PastDue)),
        "the failed payment and the subscription localstripe ended"
    );
    let failures: Vec<serde_json::Value> = outbox_events(store)
        .await
        .into_iter()
        .filter(|(t, _)| t == "PaymentFailed")
        .map(|(_, d)| serde_json::from_str(&d).unwrap())
        .collect();
    assert_eq!(failures.len(), 1, "one failed attempt: the friendly reminder");
    assert_eq!(failures[0]["attempt"], 1);
    assert_eq!(failures[0]["amount_due_cents"], 600_000);
    let page = PageRequest {
        limit: 10,
        cursor: None,
    };
    let invoices = store.partner_invoices(&partner.id, &page).await.unwrap().items;
    assert_eq!(invoices.first().map(|i| i.status), Some(InvoiceStatus::Failed));
}

/// The billing routes' use-cases against localstripe (through its compatibility layer, which speaks
/// today's prices and subscription updates): a start waits for its first payment, localstripe's paid
/// webhook grants the tier; an upgrade moves localstripe's price; a cancellation cancels it there.
#[tokio::test]
async fn billing_started_switched_and_cancelled_here_is_what_localstripe_bills() {
    use shared::domain::tier_change::TierChangeRequest;
    use shared::stripe::client::{StripeApi, StripeBilling};
    use shared::testing::localstripe::LOCAL_KEY;
    use shared::usecases::billing_start::{start_billing, BillingStartOutcome, StartBillingCommand};
    use shared::usecases::cancellation::{cancel_subscription, CancelCommand};
    use shared::usecases::tier_change::{change_tier, ChangeTierCommand};

    let receiver = registered_receiver(fresh_store().await.0).await;
    let store = &receiver.store;
    let calendar = BusinessCalendar::utc();
    let localstripe = LocalStripe::from_env();
    localstripe.plan("price_gold", 360_000).await;
    localstripe.plan("price_platinum", 600_000).await;
    let billing = StripeBilling {
        stripe: StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&localstripe.base)).unwrap(),
        prices: test_prices(),
    };
    let now = Timestamp::now();
    let id = unique("e2e");
    let partner = shared::testing::seed_term(store, &id, Tier::Free, jiff::civil::date(2027, 1, 1), true, now).await;
    let customer = billing.stripe.create_customer(&partner).await.unwrap();
    store.link_customer(&customer, &partner.id, now).await.unwrap();
    localstripe.default_payment_method(&customer, false).await;
    let admin = shared::domain::history_and_audit::Actor::Admin("admin-1".into());

    // Start: pending until localstripe's paid invoice arrives as a signed webhook.
    let command = StartBillingCommand {
        partner_id: partner.id.clone(),
        tier: Tier::Gold,
        collection: shared::stripe::client::Collection::ChargeAutomatically,
        first_payment: shared::stripe::client::FirstPayment::SavedMethod,
        actor: admin.clone(),
    };
    let started = start_billing(store, &billing.stripe, &billing.prices, &calendar, command, now)
        .await
        .unwrap();
    let BillingStartOutcome::AwaitingFirstPayment { partner: pending, .. } = started else {
        panic!("a card subscription waits for its first payment: {started:?}");
    };
    assert_eq!(pending.engagement_tier, Tier::Free);
    let subscription = pending
        .pending_billing
        .as_ref()
        .and_then(|p| p.subscription_id.clone())
        .unwrap();
    let gold = wait_for_partner(store, &partner.id, |p| p.engagement_tier == Tier::Gold).await;
    assert_eq!(
        gold.engagement_tier,
        Tier::Gold,
        "the paid webhook grants the tier: {gold:?}"
    );
    assert_eq!(gold.stripe_subscription_id.as_deref(), Some(subscription.as_str()));
    assert_eq!(gold.payment_status, Some(PaymentStatus::Current));

    // Upgrade: localstripe bills the new price.
    let upgrade = ChangeTierCommand {
        partner_id: partner.id.clone(),
        request: TierChangeRequest {
            tier: Tier::Platinum,
            start: None,
            end: None,
            reason: None,
        },
        expected_version: None,
        actor: admin.clone(),
    };
    let switched = change_tier(store, Some(&billing), &calendar, upgrade, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(switched.partner.engagement_tier, Tier::Platinum);
    let there = localstripe.get(&format!("/v1/subscriptions/{subscription}")).await;
    assert_eq!(there["items"]["data"][0]["price"]["id"], "price_platinum", "{there}");

    // Cancel now: localstripe shows the subscription canceled; nothing stays pending.
    let cancel = CancelCommand {
        partner_id: partner.id.clone(),
        effective: shared::domain::subscription::CancelEffective::Immediately,
        reason: None,
        refund_unused: false,
        actor: admin,
    };
    let cancelled = cancel_subscription(store, Some(&billing.stripe), &calendar, cancel, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(cancelled.engagement_tier, Tier::Free);
    assert!(cancelled.stripe_sync.is_none(), "{cancelled:?}");
    let there = localstripe.get(&format!("/v1/subscriptions/{subscription}")).await;
    assert_eq!(there["status"], "canceled", "{there}");
}

/// Waits (up to 20 s) until the partner's first invoice satisfies `done`.
async fn wait_for_invoice(
    store: &shared::store::Store,
    id: &shared::domain::partner::PartnerId,
    done: impl Fn(&shared::domain::invoice::InvoiceRecord) -> bool,
) -> shared::domain::invoice::InvoiceRecord {
    let page = PageRequest {
        limit: 10,
        cursor: None,
    };
    for _ in 0..100 {
        if let Some(invoice) = store
            .partner_invoices(id, &page)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(&done)
        {
            return invoice;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("no invoice of {id} became what was waited for");
}

#[tokio::test]
async fn an_admin_refunds_and_marks_paid_at_localstripe() {
    use shared::domain::history_and_audit::Actor;
    use shared::domain::partner::Note;
    use shared::usecases::invoice_actions::{mark_invoice_paid, refund_invoice, MarkPaidCommand, RefundCommand};
    use shared::usecases::stripe_events::BillingRules;
    let receiver = registered_receiver(fresh_store().await.0).await;
    let store = &receiver.store;
    let stripe = stripe_webhook::testing::local_stripe_api();
    let admin = Actor::Admin("admin-1".into());

    // A paid invoice, refunded in part through localstripe.
    let (paid_partner, _) = subscribed_partner(store, &unique("ls-refund"), Tier::Gold, false).await;
    let paid = wait_for_invoice(store, &paid_partner.id, |i| i.status == InvoiceStatus::Paid).await;
    // Marking paid an invoice Stripe has paid already (its payment arrived first): localstripe
    // refuses to pay it again, and the client answers the invoice as it stands, paid.
    let again = stripe
        .pay_invoice_out_of_band(
            &paid.stripe_invoice_id,
            &format!("mark-paid-{}", paid.stripe_invoice_id),
        )
        .await
        .unwrap();
    assert_eq!(again["status"], "paid", "{again}");
    let command = RefundCommand {
        invoice_id: paid.stripe_invoice_id.clone(),
        amount: Some(shared::domain::money::Cents(120_000)),
        reason: Note::parse("November outage credit").unwrap(),
        actor: admin.clone(),
        idempotency_key: None,
    };
    let refunded = refund_invoice(store, &stripe, command, jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(refunded.invoice_status, InvoiceStatus::PartiallyRefunded);
    let at_stripe = LocalStripe::from_env()
        .get(&format!("/v1/refunds/{}", refunded.refund_id))
        .await;
    assert_eq!(at_stripe["amount"], 120_000, "{at_stripe}");
    assert_eq!(at_stripe["metadata"]["invoice_id"], paid.stripe_invoice_id.as_str());
    let record = store
        .partner_invoice(&paid_partner.id, &paid.stripe_invoice_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.amount_refunded_cents.get(), 120_000);

    // A failed invoice (SEPA), paid by bank transfer: marked paid at localstripe, then here.
    let (failing, _) = subscribed_partner(store, &unique("ls-oob"), Tier::Platinum, true).await;
    let open = wait_for_invoice(store, &failing.id, |i| i.status == InvoiceStatus::Failed).await;
    let prices = shared::testing::billing::test_prices();
    let calendar = shared::domain::dates::BusinessCalendar::utc();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    let billing = shared::stripe::client::StripeBilling {
        stripe: stripe.clone(),
        prices: prices.clone(),
    };
    let command = MarkPaidCommand {
        invoice_id: open.stripe_invoice_id.clone(),
        reason: Note::parse("paid by bank transfer, ref 8812").unwrap(),
        restore_tier: false,
        actor: admin,
    };
    mark_invoice_paid(store, &billing, &rules, command, jiff::Timestamp::now())
        .await
        .unwrap();
    let at_stripe = LocalStripe::from_env()
        .get(&format!("/v1/invoices/{}", open.stripe_invoice_id))
        .await;
    assert_eq!(at_stripe["status"], "paid", "{at_stripe}");
    assert_eq!(at_stripe["paid_out_of_band"], true);
    let marked = wait_for_invoice(store, &failing.id, |i| i.stripe_invoice_id == open.stripe_invoice_id).await;
    assert_eq!(marked.status, InvoiceStatus::Paid);
}
