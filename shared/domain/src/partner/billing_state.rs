//! What a partner record keeps of billing in flight: a billing start under way, a Stripe change not
//! confirmed yet, a tier change scheduled for the end of the paid period. The rules that write them
//! are `billing_start`, `stripe_sync` and `tier_switch`.

use super::fields::PartnerId;
use crate::dates::CalendarDate;
use crate::tier::Tier;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Days Stripe gives an emailed invoice before it is due.
pub const INVOICE_DAYS_UNTIL_DUE: u32 = 30;

/// How a subscription is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// The saved payment method is charged.
    ChargeAutomatically,
    /// Stripe emails an invoice, due in [`INVOICE_DAYS_UNTIL_DUE`] days.
    SendInvoice,
}

impl Collection {
    pub const fn as_str(self) -> &'static str {
        match self {
            Collection::ChargeAutomatically => "charge_automatically",
            Collection::SendInvoice => "send_invoice",
        }
    }
}

/// A billing start under way: claimed, possibly with its Stripe subscription, not paid yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBilling {
    pub tier: Tier,
    pub collection: Collection,
    /// The partner version the claim wrote: the subscription's idempotency key holds it.
    pub requested_version: u64,
    pub requested_at: Timestamp,
    /// The subscription Stripe created for it, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// The request as claimed (`None` on claims written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<StartRequest>,
}

/// How the first invoice of a subscription charged automatically is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstPayment {
    /// Stripe charges the customer's saved payment method at once (`allow_incomplete`).
    SavedMethod,
    /// The partner pays it in the browser with Stripe Elements (`default_incomplete`): the answer
    /// carries its `client_secret`, and the card paid with becomes the subscription's default.
    ByPartner,
}

/// What a billing start asks of Stripe beyond its tier and collection, fixed when it is claimed: a
/// start resumed later, from any route, sends exactly the same request under the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    pub first_payment: FirstPayment,
    /// Stripe's `cancel_at`: the end of a term that does not renew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_at: Option<Timestamp>,
}

impl PendingBilling {
    /// Whether stripe-reconcile carries this start out when no request does: one not created at
    /// Stripe yet whose first payment needs nobody (emailed, or the saved card). One the partner pays
    /// in the browser waits for the partner.
    pub fn carried_out_by_reconciliation(&self) -> bool {
        self.subscription_id.is_none()
            && self
                .request
                .is_some_and(|request| request.first_payment == FirstPayment::SavedMethod)
    }

    /// The key of the subscription this start creates: one per claim, whatever the tier asked.
    pub fn subscription_key(&self, partner_id: &PartnerId) -> String {
        format!("subscription-{}-v{}", partner_id, self.requested_version)
    }
}

/// One change Stripe must make to a partner's subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StripeAction {
    /// End the subscription now; `prorate` credits the unused part of the period.
    CancelSubscription { prorate: bool },
    /// Stop billing at the start of `on` (the term's end); `None` keeps billing (clears a stop).
    SetCancelAt { on: Option<CalendarDate> },
    /// Collect nothing until the start of `until`; `None` collects again (resumes).
    PauseCollection { until: Option<CalendarDate> },
}

impl StripeAction {
    /// The action's part of an idempotency key.
    pub const fn key_name(self) -> &'static str {
        match self {
            StripeAction::CancelSubscription { .. } => "cancel",
            StripeAction::SetCancelAt { on: Some(_) } => "cancel-at",
            StripeAction::SetCancelAt { on: None } => "keep-billing",
            StripeAction::PauseCollection { until: Some(_) } => "pause",
            StripeAction::PauseCollection { until: None } => "resume",
        }
    }
}

/// A Stripe change that a committed local change asked for and Stripe has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeSync {
    pub subscription_id: String,
    #[serde(flatten)]
    pub action: StripeAction,
    /// The partner version whose change asked for it (part of the idempotency key).
    pub requested_version: u64,
    pub requested_at: Timestamp,
    /// Pushes tried so far that did not get Stripe's confirmation.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl StripeSync {
    /// The same for every retry of this request, different for any other request: `:` separates
    /// the action, the partner and the version, and appears in none of them (action names and
    /// partner ids both hold `-`: `cancel-at-x` was once partner `at-x` cancelled and partner `x`'s
    /// `cancel-at` alike).
    pub fn idempotency_key(&self, partner_id: &PartnerId) -> String {
        format!(
            "sync:{}:{}:v{}",
            self.action.key_name(),
            partner_id,
            self.requested_version
        )
    }
}

/// A tier change that takes effect when the current billing period ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTierChange {
    pub tier: Tier,
    /// The first day of the period billed at the new tier.
    pub effective: CalendarDate,
}
