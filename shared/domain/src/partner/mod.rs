//! A strategic partner's profile: identity, tier, subscription and PCR, with the field names of the
//! `strategic_partners` columns that the admin frontend already knows.

use crate::dates::CalendarDate;
use crate::money::Cents;
use crate::pcr::{final_pcr_at, BasePcr, Momentum, PcrScore};
use crate::stripe_subscription::StripeSubscriptionStatus;
use crate::tier::{Multiplier, Tier};

pub mod billing_state;
mod fields;

use billing_state::{Collection, PendingBilling, ScheduledTierChange, StripeSync};
pub use fields::{CompanyName, Email, IdentityError, Note, PartnerId};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// On the free tier: no subscription.
    Inactive,
    Active,
    Expired,
    Cancelled,
}

impl SubscriptionStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Inactive => "inactive",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Expired => "expired",
            SubscriptionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<SubscriptionStatus> {
        [Self::Inactive, Self::Active, Self::Expired, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Current,
    PastDue,
    Failed,
    /// Billing started; the first invoice is not paid yet (the paid tier waits for it).
    Pending,
    /// Invoiced (`send_invoice`): the tier is granted, the invoice is open until its due date.
    AwaitingPayment,
}

impl PaymentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Current => "current",
            PaymentStatus::PastDue => "past_due",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Pending => "pending",
            PaymentStatus::AwaitingPayment => "awaiting_payment",
        }
    }
}

impl<'de> Deserialize<'de> for Multiplier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        Tier::ALL
            .iter()
            .map(|t| t.multiplier())
            .find(|m| (m.as_f64() - value).abs() < 1e-9)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown multiplier {value}")))
    }
}

/// A partner as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub id: PartnerId,
    pub company_name: CompanyName,
    pub primary_email: Email,
    pub engagement_tier: Tier,
    pub payment_multiplier: Multiplier,
    /// The paid tier the partner has or last had (what expired or was cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_paid_tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_start_date: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_end_date: Option<CalendarDate>,
    pub subscription_status: SubscriptionStatus,
    pub auto_renewal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_date: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<Note>,
    /// Who cancelled the term (kept while it is cancelled): a partner may withdraw only its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<crate::actor::Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_notes: Option<Note>,
    pub base_pcr_score: BasePcr,
    pub momentum_modifier: Momentum,
    pub final_pcr_score: PcrScore,
    pub pcr_last_calculated: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_subscription_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_payment_date: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_payment_amount: Option<Cents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<PaymentStatus>,
    /// The last day the partner's paid invoices cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_through: Option<CalendarDate>,
    /// Stripe's own status of the subscription (`active`, `past_due`, `canceled`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_subscription_status: Option<StripeSubscriptionStatus>,
    /// `created` of the newest Stripe subscription event applied (older ones are ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_subscription_synced_at: Option<Timestamp>,
    /// Start of the newest invoice period whose payment decided `payment_status` (an older invoice's
    /// late event does not move the partner backwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_invoice_period_start: Option<Timestamp>,
    /// A billing start under way, until its first payment grants the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_billing: Option<PendingBilling>,
    /// How its Stripe subscription collects, as its billing started (what a renewal notice says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<Collection>,
    /// When Stripe confirmed the current pause of collection: only a Stripe event newer than that
    /// which shows collection running again ends the pause here (an older one predates the pause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_confirmed_at: Option<Timestamp>,
    /// When personal data was last erased from its payment history: an event written before it and
    /// delivered after writes nothing personal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_data_erased_at: Option<Timestamp>,
    /// A cheaper tier Stripe bills from the next period; the partner keeps its tier until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_tier_change: Option<ScheduledTierChange>,
    /// Collection is paused until this day (the tier stays; the term's end moved by the span).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<CalendarDate>,
    /// The open invoice of an invoiced subscription, while it is unpaid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_invoice_id: Option<String>,
    /// The ladder's attempt an overdue emailed invoice has reached (each step is taken once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_notices: Option<u32>,
    /// When the invoice of an invoiced (`send_invoice`) subscription is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_due_date: Option<CalendarDate>,
    /// A change Stripe must still make for a committed local change (see `domain::stripe_sync`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_sync: Option<StripeSync>,
    /// Bumped by every write; the optimistic-locking token (`expected_version` in requests).
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The fields the TPE backend syncs into a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileFields {
    pub company_name: CompanyName,
    pub primary_email: Email,
    pub base_pcr_score: BasePcr,
    pub momentum_modifier: Momentum,
}

impl Partner {
    /// A new partner on the free tier with no subscription.
    pub fn new_free(id: PartnerId, fields: ProfileFields, now: Timestamp) -> Partner {
        let mut partner = Partner {
            id,
            company_name: fields.company_name,
            primary_email: fields.primary_email,
            engagement_tier: Tier::Free,
            payment_multiplier: Tier::Free.multiplier(),
            last_paid_tier: None,
            subscription_start_date: None,
            subscription_end_date: None,
            subscription_status: SubscriptionStatus::Inactive,
            auto_renewal: true,
            cancellation_date: None,
            cancellation_reason: None,
            cancelled_by: None,
            subscription_notes: None,
            base_pcr_score: fields.base_pcr_score,
            momentum_modifier: fields.momentum_modifier,
            final_pcr_score: PcrScore::default(),
            pcr_last_calculated: now,
            stripe_customer_id: None,
            stripe_subscription_id: None,
            last_payment_date: None,
            last_payment_amount: None,
            payment_status: None,
            paid_through: None,
            stripe_subscription_status: None,
            stripe_subscription_synced_at: None,
            stripe_invoice_period_start: None,
            pending_billing: None,
            collection: None,
            pause_confirmed_at: None,
            personal_data_erased_at: None,
            scheduled_tier_change: None,
            paused_until: None,
            open_invoice_id: None,
            overdue_notices: None,
            payment_due_date: None,
            stripe_sync: None,
            version: 0,
            created_at: now,
            updated_at: now,
        };
        partner.recalculate_pcr(now);
        partner
    }

    /// The synced fields replaced, PCR recalculated; `None` when nothing differs.
    pub fn with_profile_fields(&self, fields: ProfileFields, now: Timestamp) -> Option<Partner> {
        let unchanged = self.company_name == fields.company_name
            && self.primary_email == fields.primary_email
            && self.base_pcr_score == fields.base_pcr_score
            && self.momentum_modifier == fields.momentum_modifier;
        if unchanged {
            return None;
        }
        let mut next = self.clone();
        next.company_name = fields.company_name;
        next.primary_email = fields.primary_email;
        next.base_pcr_score = fields.base_pcr_score;
        next.momentum_modifier = fields.momentum_modifier;
        next.updated_at = now;
        next.recalculate_pcr(now);
        Some(next)
    }

    /// Moves the partner to `tier`: multiplier, final PCR and last paid tier follow.
    pub fn apply_tier(&mut self, tier: Tier, now: Timestamp) {
        self.engagement_tier = tier;
        if tier.is_paid() {
            self.last_paid_tier = Some(tier);
        }
        self.recalculate_pcr(now);
    }

    /// Sets the multiplier and final PCR from the tier, base and momentum.
    pub fn recalculate_pcr(&mut self, now: Timestamp) {
        self.payment_multiplier = self.engagement_tier.multiplier();
        self.final_pcr_score = final_pcr_at(self.base_pcr_score, self.engagement_tier, self.momentum_modifier);
        self.pcr_last_calculated = now;
    }

    /// The PCR this partner would have at `tier`.
    pub fn pcr_at(&self, tier: Tier) -> PcrScore {
        final_pcr_at(self.base_pcr_score, tier, self.momentum_modifier)
    }

    /// Whether a Stripe subscription still bills (or may yet bill) this partner: one exists and
    /// Stripe has not ended it.
    pub fn has_live_stripe_subscription(&self) -> bool {
        self.stripe_subscription_id.is_some()
            && !self
                .stripe_subscription_status
                .as_ref()
                .is_some_and(StripeSubscriptionStatus::has_ended)
    }

    pub fn billing_mode(&self) -> BillingMode {
        if self.has_live_stripe_subscription() {
            BillingMode::Stripe
        } else {
            BillingMode::Manual
        }
    }
}

/// Who drives what a partner pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingMode {
    /// A live Stripe subscription: changes that affect money go through Stripe.
    Stripe,
    /// No Stripe subscription: an admin manages the tier and term by hand.
    Manual,
}

impl Default for PcrScore {
    fn default() -> Self {
        final_pcr_at(BasePcr::default(), Tier::Free, Momentum::Steady)
    }
}

impl Default for BasePcr {
    fn default() -> Self {
        BasePcr::from_hundredths(0).unwrap_or_else(|_| unreachable!("0 is a valid base"))
    }
}

/// A free partner for unit tests: `p1`, BuildPro CRM, base `base_hundredths`, steady momentum.
#[cfg(any(test, feature = "test-support"))]
pub fn sample_partner(base_hundredths: i64, now: Timestamp) -> Partner {
    let fields = ProfileFields {
        company_name: CompanyName::parse("BuildPro CRM").expect("a company name"),
        primary_email: Email::parse("contact@buildpro.com").expect("an email"),
        base_pcr_score: BasePcr::from_hundredths(base_hundredths).unwrap_or_default(),
        momentum_modifier: Momentum::Steady,
    };
    Partner::new_free(PartnerId::parse("p1").expect("an id"), fields, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn partner_ids() {
        for ok in ["42", "buildpro-crm", "A_b-9"] {
            assert!(PartnerId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a#b", "a b", "é", &"x".repeat(65), "PARTNER#1"] {
            assert!(PartnerId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" contact@buildpro.com ").unwrap().as_str(),
            "contact@buildpro.com"
        );
        for bad in [
            "",
            "contact",
            "contact@",
            "@buildpro.com",
            "a@b",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "a@@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn company_names_and_notes() {
        assert_eq!(CompanyName::parse("  BuildPro CRM ").unwrap().as_str(), "BuildPro CRM");
        assert!(CompanyName::parse("   ").is_err());
        assert!(CompanyName::parse("a\u{0007}b").is_err());
        assert!(CompanyName::parse(&"x".repeat(201)).is_err());
        assert_eq!(Note::parse_optional(Some("  ")).unwrap(), None);
        assert!(Note::parse(&"x".repeat(1_001)).is_err());
    }

    proptest! {
        #[test]
        fn parsed_identities_print_back_to_themselves(s in "\\PC{0,80}|[a-z0-9._-]{1,12}@[a-z0-9-]{1,8}\\.[a-z]{2,4}") {
            if let Ok(id) = PartnerId::parse(&s) {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert_eq!(PartnerId::parse(id.as_str()).unwrap(), id);
            }
            if let Ok(email) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
                prop_assert!(s.contains(email.as_str()) && email.as_str().contains('@'));
            }
            if let Ok(name) = CompanyName::parse(&s) {
                prop_assert_eq!(name.as_str(), s.trim());
                prop_assert_eq!(CompanyName::parse(name.as_str()).unwrap(), name);
            }
            if let Ok(note) = Note::parse(&s) {
                prop_assert_eq!(note.as_str(), s.trim());
                prop_assert_eq!(Note::parse(note.as_str()).unwrap(), note);
            }
        }

        #[test]
        fn parsed_partner_ids_are_key_safe(s in "[A-Za-z0-9#_ -]{0,70}") {
            if let Ok(id) = PartnerId::parse(&s) {
                prop_assert!(!id.as_str().contains('#') && !id.as_str().is_empty());
            }
        }
    }
}
