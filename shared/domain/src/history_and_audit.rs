//! What is written beside every state change: who did it, the subscription history entry and the
//! audit entry.

use super::dates::CalendarDate;
use super::money::Cents;
use super::partner::{Note, Partner, PartnerId};
use super::pcr::PcrScore;
use super::tier::Tier;
pub use crate::actor::Actor;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The kinds of subscription event (`partner_subscription_history.event_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryEventType {
    Upgrade,
    Downgrade,
    DatesChanged,
    Reactivation,
    Renewal,
    Cancellation,
    Expiration,
    /// An auto-renewing term passed its end unpaid and entered its grace period.
    GracePeriod,
    PaymentFailureDowngrade,
    /// Collection paused for a span; the term's end moved by it.
    Pause,
    /// Collection resumed (early, by an admin, or when the pause ended).
    Resume,
    /// Money was given back on a paid invoice.
    Refund,
}

impl HistoryEventType {
    pub const ALL: [HistoryEventType; 12] = [
        HistoryEventType::Upgrade,
        HistoryEventType::Downgrade,
        HistoryEventType::DatesChanged,
        HistoryEventType::Reactivation,
        HistoryEventType::Renewal,
        HistoryEventType::Cancellation,
        HistoryEventType::Expiration,
        HistoryEventType::GracePeriod,
        HistoryEventType::PaymentFailureDowngrade,
        HistoryEventType::Pause,
        HistoryEventType::Resume,
        HistoryEventType::Refund,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            HistoryEventType::Upgrade => "upgrade",
            HistoryEventType::Downgrade => "downgrade",
            HistoryEventType::DatesChanged => "dates_changed",
            HistoryEventType::Reactivation => "reactivation",
            HistoryEventType::Renewal => "renewal",
            HistoryEventType::Cancellation => "cancellation",
            HistoryEventType::Expiration => "expiration",
            HistoryEventType::GracePeriod => "grace_period",
            HistoryEventType::PaymentFailureDowngrade => "payment_failure_downgrade",
            HistoryEventType::Pause => "pause",
            HistoryEventType::Resume => "resume",
            HistoryEventType::Refund => "refund",
        }
    }

    pub fn parse(text: &str) -> Option<HistoryEventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// One entry of a partner's subscription history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: String,
    pub partner_id: PartnerId,
    pub event_type: HistoryEventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_start: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_end: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_paid: Option<Cents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Note>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcr_before: Option<PcrScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcr_after: Option<PcrScore>,
    /// The partner version this event produced.
    pub version: u64,
    pub created_at: Timestamp,
    pub created_by: Actor,
}

impl HistoryEntry {
    /// The entry `id` of a change of the partner from `before` to `after` (at `after`'s version).
    pub fn between(
        id: String,
        before: &Partner,
        after: &Partner,
        event_type: HistoryEventType,
        notes: Option<Note>,
        actor: &Actor,
        now: Timestamp,
    ) -> HistoryEntry {
        HistoryEntry {
            id,
            partner_id: after.id.clone(),
            event_type,
            from_tier: Some(before.engagement_tier),
            to_tier: Some(after.engagement_tier),
            subscription_start: after.subscription_start_date,
            subscription_end: after.subscription_end_date,
            amount_paid: None,
            payment_method: None,
            notes,
            pcr_before: Some(before.final_pcr_score),
            pcr_after: Some(after.final_pcr_score),
            version: after.version,
            created_at: now,
            created_by: actor.clone(),
        }
    }
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    PartnerCreated,
    ProfileSynced,
    TierChanged,
    RenewalNoticeSent,
    SubscriptionRenewed,
    SubscriptionCancelled,
    SubscriptionExpired,
    GracePeriodStarted,
    SubscriptionSettingsChanged,
    SubscriptionPaused,
    SubscriptionResumed,
    /// A billing start was claimed (one at a time per partner).
    BillingStartRequested,
    /// Stripe refused a billing start; its claim was released.
    BillingStartFailed,
    BillingStarted,
    PaymentSucceeded,
    PaymentFailed,
    PaymentFailureDowngrade,
    StripeSubscriptionSynced,
    /// Stripe confirmed the change a local change asked of it.
    StripeChangeConfirmed,
    /// Pushing a local change to Stripe failed; it stays pending and is retried.
    StripeChangeFailed,
    /// A cancellation at term end was withdrawn before the end.
    CancellationWithdrawn,
    /// A card setup was started (Stripe Elements, SetupIntent).
    PaymentMethodSetupStarted,
    /// Stripe confirmed a new card; it became the customer's and the subscription's default.
    PaymentMethodUpdated,
    /// Everything held about the partner was exported (GDPR access).
    PersonalDataExported,
    /// Personal data was erased from the payment history (GDPR erasure).
    PaymentHistoryErased,
    /// An admin asked for an invoice to be mailed again.
    InvoiceResendRequested,
    /// An admin marked an invoice paid outside Stripe (with the reason).
    InvoiceMarkedPaid,
    /// Money was given back on a paid invoice (with the reason).
    RefundIssued,
    /// Stripe reported a refund failed: the money is refundable again.
    RefundFailed,
}

/// One field that a change moved from one value to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(default)]
    pub from: serde_json::Value,
    #[serde(default)]
    pub to: serde_json::Value,
}

/// One entry of a partner's audit trail: who changed what, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub partner_id: PartnerId,
    pub action: AuditAction,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Note>,
    pub changes: Vec<FieldChange>,
    pub version: u64,
    pub at: Timestamp,
}

impl AuditEntry {
    /// The entry of an action that changes nothing on `partner` itself (an export, an erasure, a
    /// resend, a refund that failed): at the partner's current version, under the new record id `id`.
    pub fn standalone(
        id: String,
        partner: &Partner,
        actor: &Actor,
        action: AuditAction,
        reason: Option<Note>,
        now: Timestamp,
    ) -> AuditEntry {
        AuditEntry {
            id,
            partner_id: partner.id.clone(),
            action,
            actor: actor.clone(),
            reason,
            changes: vec![],
            version: partner.version,
            at: now,
        }
    }
}

/// Fields that change on every write and say nothing on their own.
const BOOKKEEPING_FIELDS: [&str; 3] = ["version", "updated_at", "pcr_last_calculated"];

/// The fields that differ between two states of a partner (`before` = `None` for a new partner),
/// in field-name order.
pub fn changed_fields(before: Option<&Partner>, after: &Partner) -> Vec<FieldChange> {
    let as_map = |p: Option<&Partner>| match p.map(serde_json::to_value) {
        Some(Ok(serde_json::Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    let (before, after) = (as_map(before), as_map(Some(after)));
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|field| !BOOKKEEPING_FIELDS.contains(&field.as_str()))
        .filter_map(|field| {
            let from = before.get(field).cloned().unwrap_or_default();
            let to = after.get(field).cloned().unwrap_or_default();
            (from != to).then(|| FieldChange {
                field: field.clone(),
                from,
                to,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_as_strings() {
        for actor in [
            Actor::Admin("42".into()),
            Actor::System,
            Actor::Stripe,
            Actor::Partner("user-1".into()),
        ] {
            assert_eq!(Actor::parse(&actor.to_string()), Some(actor));
        }
        assert_eq!(Actor::parse("admin:"), None);
        assert_eq!(Actor::parse("root"), None);
    }
}
