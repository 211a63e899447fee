//! Test helpers for billing: partners billed through Stripe, and the price catalog of the tests.

use crate::domain::billing::PriceCatalog;
use crate::domain::billing_start::BilledSubscription;
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::{Partner, PartnerId};
use crate::domain::tier::Tier;
use crate::store::Store;
use crate::stripe::client::Collection;
use crate::usecases::billing_start::{record_paid_billing, StartBillingCommand};

pub fn test_prices() -> PriceCatalog {
    PriceCatalog {
        gold: "price_gold".into(),
        platinum: "price_platinum".into(),
    }
}

/// A partner on `tier` with a term ending `end`, billed through Stripe customer `customer_id` and
/// subscription `subscription_id` (as a billing start records them).
pub async fn billed_partner(
    store: &Store,
    id: &str,
    tier: Tier,
    end: CalendarDate,
    customer_id: &str,
    subscription_id: &str,
    now: jiff::Timestamp,
) -> Partner {
    super::seed_term(store, id, tier, end, true, now).await;
    let command = StartBillingCommand {
        partner_id: PartnerId::parse(id).expect("test partner id"),
        tier,
        collection: Collection::ChargeAutomatically,
        first_payment: crate::stripe::client::FirstPayment::SavedMethod,
        actor: Actor::Admin("admin-1".into()),
    };
    let stripe = BilledSubscription {
        customer_id: customer_id.to_owned(),
        subscription_id: subscription_id.to_owned(),
        status: "active".into(),
        collection: Collection::ChargeAutomatically,
    };
    record_paid_billing(store, &BusinessCalendar::utc(), &command, &stripe, now)
        .await
        .unwrap_or_else(|e| panic!("recording the billing start of {id}: {e}"));
    store
        .get_partner(&command.partner_id)
        .await
        .expect("reading the billed partner")
        .expect("the billed partner exists")
}
