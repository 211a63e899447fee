//! How partners look in API answers: what an admin reads about a partner, plus what the admin
//! frontend displays beside it (tier label, badge colour, price, days left, how it is billed).
//! Internal bookkeeping of the stored [`Partner`] (which Stripe event or invoice period it last
//! reflected) stays out: a field appears here only on purpose, and `infra/api` lists each one.

use crate::domain::billing_start::PendingBilling;
use crate::domain::dates::{days_until, CalendarDate};
use crate::domain::money::Cents;
use crate::domain::partner::{
    BillingMode, CompanyName, Email, Note, Partner, PartnerId, PaymentStatus, SubscriptionStatus,
};
use crate::domain::pcr::{BasePcr, Momentum, PcrScore};
use crate::domain::stripe_subscription::StripeSubscriptionStatus;
use crate::domain::stripe_sync::StripeSync;
use crate::domain::tier::{BadgeColor, Multiplier, Tier};
use crate::domain::tier_switch::ScheduledTierChange;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerView {
    pub id: PartnerId,
    pub company_name: CompanyName,
    pub primary_email: Email,
    pub engagement_tier: Tier,
    pub tier_label: &'static str,
    pub badge_color: BadgeColor,
    pub payment_multiplier: Multiplier,
    pub monthly_price_cents: Cents,
    pub monthly_price: String,
    /// The paid tier the partner has or last had.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_paid_tier: Option<Tier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_start_date: Option<CalendarDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_end_date: Option<CalendarDate>,
    pub subscription_status: SubscriptionStatus,
    /// Days from today to the subscription's end date (negative once past); absent without a term.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i32>,
    pub auto_renewal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_date: Option<CalendarDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<Note>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_notes: Option<Note>,
    pub base_pcr_score: BasePcr,
    pub momentum_modifier: Momentum,
    pub final_pcr_score: PcrScore,
    /// The PCR the partner would have on the free tier, for the "PCR boost" display.
    pub free_tier_pcr_score: PcrScore,
    pub pcr_last_calculated: Timestamp,
    /// `stripe` while a Stripe subscription bills the partner, else `manual`.
    pub billing: BillingMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_subscription_id: Option<String>,
    /// Stripe's own status of that subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_subscription_status: Option<StripeSubscriptionStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<PaymentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_payment_date: Option<CalendarDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_payment_amount: Option<Cents>,
    /// The last day the partner's paid invoices cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_through: Option<CalendarDate>,
    /// A cheaper tier Stripe bills from the next period; the partner keeps its tier until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_tier_change: Option<ScheduledTierChange>,
    /// Collection is paused until this day (the tier stays; the term's end moved by the span).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<CalendarDate>,
    /// When the open invoice of an invoiced subscription is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_due_date: Option<CalendarDate>,
    /// A billing start waiting for its first payment (the paid tier is granted then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_billing: Option<PendingBilling>,
    /// A change Stripe has yet to confirm (retried until it does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_sync: Option<StripeSync>,
    /// The optimistic-locking token (`expected_version` in requests).
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PartnerView {
    pub fn new(partner: Partner, today: CalendarDate) -> PartnerView {
        let info = partner.engagement_tier.info();
        PartnerView {
            tier_label: info.label,
            badge_color: info.badge_color,
            monthly_price_cents: info.monthly_price_cents,
            monthly_price: info.monthly_price_cents.to_string(),
            days_left: partner.subscription_end_date.map(|end| days_until(today, end)),
            free_tier_pcr_score: partner.pcr_at(Tier::Free),
            billing: partner.billing_mode(),
            id: partner.id,
            company_name: partner.company_name,
            primary_email: partner.primary_email,
            engagement_tier: partner.engagement_tier,
            payment_multiplier: partner.payment_multiplier,
            last_paid_tier: partner.last_paid_tier,
            subscription_start_date: partner.subscription_start_date,
            subscription_end_date: partner.subscription_end_date,
            subscription_status: partner.subscription_status,
            auto_renewal: partner.auto_renewal,
            cancellation_date: partner.cancellation_date,
            cancellation_reason: partner.cancellation_reason,
            subscription_notes: partner.subscription_notes,
            base_pcr_score: partner.base_pcr_score,
            momentum_modifier: partner.momentum_modifier,
            final_pcr_score: partner.final_pcr_score,
            pcr_last_calculated: partner.pcr_last_calculated,
            stripe_customer_id: partner.stripe_customer_id,
            stripe_subscription_id: partner.stripe_subscription_id,
            stripe_subscription_status: partner.stripe_subscription_status,
            payment_status: partner.payment_status,
            last_payment_date: partner.last_payment_date,
            last_payment_amount: partner.last_payment_amount,
            paid_through: partner.paid_through,
            scheduled_tier_change: partner.scheduled_tier_change,
            paused_until: partner.paused_until,
            payment_due_date: partner.payment_due_date,
            pending_billing: partner.pending_billing,
            stripe_sync: partner.stripe_sync,
            version: partner.version,
            created_at: partner.created_at,
            updated_at: partner.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::partner::sample_partner;
    use crate::domain::stripe_sync::StripeAction;

    #[test]
    fn internal_stripe_bookkeeping_stays_out_of_the_view() {
        let now: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        let mut partner = sample_partner(8_000, now);
        partner.stripe_subscription_synced_at = Some(now);
        partner.stripe_invoice_period_start = Some(now);
        let json =
            serde_json::to_value(PartnerView::new(partner, now.to_zoned(jiff::tz::TimeZone::UTC).date())).unwrap();
        let object = json.as_object().unwrap();
        assert!(!object.contains_key("stripe_subscription_synced_at"));
        assert!(!object.contains_key("stripe_invoice_period_start"));
        assert_eq!(object["billing"], "manual");
        assert_eq!(object["tier_label"], "Free Tier");
    }

    /// The property names of the `Partner` schema in the admin API's OpenAPI description.
    fn documented_partner_fields() -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/api/admin-api.openapi.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let schema = text.split("\n    Partner:\n").nth(1).unwrap();
        let properties = schema.split("\n      properties:\n").nth(1).unwrap();
        properties
            .lines()
            .take_while(|line| line.starts_with("        "))
            .filter(|line| !line.starts_with("         "))
            .filter_map(|line| line.trim().split_once(':').map(|(name, _)| name.to_owned()))
            .collect()
    }

    #[test]
    fn the_openapi_description_lists_exactly_the_views_fields() {
        let now: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        let mut partner = sample_partner(8_000, now);
        // Every optional field set, so that every field shows.
        partner.apply_tier(Tier::Gold, now);
        partner.last_paid_tier = Some(Tier::Gold);
        let day = jiff::civil::date(2026, 11, 24);
        partner.subscription_start_date = Some(day);
        partner.subscription_end_date = Some(day);
        partner.cancellation_date = Some(day);
        partner.cancellation_reason = Note::parse("reason").ok();
        partner.subscription_notes = Note::parse("notes").ok();
        partner.stripe_customer_id = Some("cus_1".into());
        partner.stripe_subscription_id = Some("sub_1".into());
        partner.stripe_subscription_status = Some("active".into());
        partner.payment_status = Some(PaymentStatus::Current);
        partner.last_payment_date = Some(day);
        partner.last_payment_amount = Some(Cents(360_000));
        partner.paid_through = Some(day);
        partner.payment_due_date = Some(day);
        partner.paused_until = Some(day);
        partner.scheduled_tier_change = Some(ScheduledTierChange {
            tier: Tier::Platinum,
            effective: day,
        });
        partner.pending_billing = Some(crate::domain::billing_start::PendingBilling {
            request: None,
            tier: Tier::Platinum,
            collection: crate::domain::billing_start::Collection::ChargeAutomatically,
            requested_version: 3,
            requested_at: now,
            subscription_id: Some("sub_2".into()),
        });
        partner.stripe_sync = Some(StripeSync {
            subscription_id: "sub_1".into(),
            action: StripeAction::CancelSubscription { prorate: false },
            requested_version: 2,
            requested_at: now,
            attempts: 1,
            last_error: Some("Stripe is unavailable".into()),
        });
        let json = serde_json::to_value(PartnerView::new(partner, day)).unwrap();
        let mut shown: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
        let mut documented = documented_partner_fields();
        shown.sort();
        documented.sort();
        assert_eq!(shown, documented);
    }
}
