//! Domain events: what this system announces on the app bus (`source` [`SOURCE`], one detail-type
//! per [`EventBody`] variant). They are written to the outbox in the same transaction as the change
//! they announce, so none is lost and none is sent for a change that did not commit.
//!
//! The EventBridge `detail` is the whole [`DomainEvent`]: the envelope fields (`event_id`,
//! `partner_id`, contact, `partner_version`, `occurred_at`), `event_type` (= the detail-type) and
//! the body's own fields.

use crate::dates::CalendarDate;
use crate::history_and_audit::{Actor, HistoryEventType};
use crate::lifecycle::{ExpiryReason, NoticeStage};
use crate::money::Cents;
use crate::partner::{Partner, PartnerId};
use crate::pcr::{PcrDelta, PcrScore};
use crate::tier::{Multiplier, Tier};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const SOURCE: &str = "power100.partner-payments";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    pub event_id: String,
    pub partner_id: PartnerId,
    pub company_name: String,
    pub primary_email: String,
    /// The partner version the event describes (the version the change produced).
    pub partner_version: u64,
    pub occurred_at: Timestamp,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type")]
pub enum EventBody {
    TierChanged(TierChanged),
    PartnerProfileSynced(PartnerProfileSynced),
    RenewalReminderDue(RenewalReminderDue),
    SubscriptionExpired(SubscriptionExpired),
    SubscriptionRenewed(SubscriptionRenewed),
    SubscriptionCancelled(SubscriptionCancelled),
    SubscriptionPastDue(SubscriptionPastDue),
    PaymentSucceeded(PaymentSucceeded),
    PaymentFailed(PaymentFailed),
    PaymentFailureDowngrade(PaymentFailureDowngrade),
    InvoiceResendRequested(InvoiceResendRequested),
    PaymentRefunded(PaymentRefunded),
}

impl EventBody {
    /// The EventBridge detail-type.
    pub fn detail_type(&self) -> &'static str {
        match self {
            EventBody::TierChanged(_) => "TierChanged",
            EventBody::PartnerProfileSynced(_) => "PartnerProfileSynced",
            EventBody::RenewalReminderDue(_) => "RenewalReminderDue",
            EventBody::SubscriptionExpired(_) => "SubscriptionExpired",
            EventBody::SubscriptionRenewed(_) => "SubscriptionRenewed",
            EventBody::SubscriptionCancelled(_) => "SubscriptionCancelled",
            EventBody::SubscriptionPastDue(_) => "SubscriptionPastDue",
            EventBody::PaymentSucceeded(_) => "PaymentSucceeded",
            EventBody::PaymentFailed(_) => "PaymentFailed",
            EventBody::PaymentFailureDowngrade(_) => "PaymentFailureDowngrade",
            EventBody::InvoiceResendRequested(_) => "InvoiceResendRequested",
            EventBody::PaymentRefunded(_) => "PaymentRefunded",
        }
    }
}

impl DomainEvent {
    /// An event about `partner` (its state after the change).
    pub fn about(event_id: impl ToString, partner: &Partner, occurred_at: Timestamp, body: EventBody) -> DomainEvent {
        DomainEvent {
            event_id: event_id.to_string(),
            partner_id: partner.id.clone(),
            company_name: partner.company_name.to_string(),
            primary_email: partner.primary_email.to_string(),
            partner_version: partner.version,
            occurred_at,
            body,
        }
    }

    /// The EventBridge detail-type.
    pub fn detail_type(&self) -> &'static str {
        self.body.detail_type()
    }

    /// The EventBridge detail, as JSON.
    pub fn detail_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// A partner's tier changed. The scoring system recalculates on it; the email sender confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierChanged {
    pub change: HistoryEventType,
    pub from_tier: Tier,
    pub to_tier: Tier,
    pub to_tier_label: String,
    pub multiplier_before: Multiplier,
    pub multiplier_after: Multiplier,
    pub pcr_before: PcrScore,
    pub pcr_after: PcrScore,
    pub pcr_delta: PcrDelta,
    pub monthly_price_cents: Cents,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_start_date: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_end_date: Option<CalendarDate>,
    pub changed_by: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl TierChanged {
    pub fn between(
        before: &Partner,
        after: &Partner,
        change: HistoryEventType,
        changed_by: Actor,
        reason: Option<String>,
    ) -> TierChanged {
        TierChanged {
            change,
            from_tier: before.engagement_tier,
            to_tier: after.engagement_tier,
            to_tier_label: after.engagement_tier.label().to_owned(),
            multiplier_before: before.payment_multiplier,
            multiplier_after: after.payment_multiplier,
            pcr_before: before.final_pcr_score,
            pcr_after: after.final_pcr_score,
            pcr_delta: before.final_pcr_score.delta_to(after.final_pcr_score),
            monthly_price_cents: after.engagement_tier.info().monthly_price_cents,
            subscription_start_date: after.subscription_start_date,
            subscription_end_date: after.subscription_end_date,
            changed_by,
            reason,
        }
    }
}

/// The TPE backend synced a partner's profile (name, email, base PCR, momentum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerProfileSynced {
    pub created: bool,
    pub tier: Tier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcr_before: Option<PcrScore>,
    pub pcr_after: PcrScore,
}

/// A renewal notice is due (from the daily sweep, or sent by an admin now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewalReminderDue {
    /// 30 or 7; a manual reminder outside both windows has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<NoticeStage>,
    pub days_left: i32,
    pub tier: Tier,
    pub tier_label: String,
    pub monthly_price_cents: Cents,
    pub subscription_end_date: CalendarDate,
    pub auto_renewal: bool,
    pub manual: bool,
    /// What happens at the term's end (`domain::lifecycle::renewal_plan`): what the notice says and
    /// the sweep does. Absent only in events written before it was added (then `auto_renewal` says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<crate::lifecycle::RenewalPlan>,
}

impl RenewalReminderDue {
    /// The notice for `partner`'s term ending on `end`, `days_left` from today.
    pub fn of(
        partner: &crate::partner::Partner,
        end: CalendarDate,
        stage: Option<NoticeStage>,
        days_left: i32,
        manual: bool,
    ) -> RenewalReminderDue {
        let tier = partner.engagement_tier;
        RenewalReminderDue {
            stage,
            days_left,
            tier,
            tier_label: tier.label().to_owned(),
            monthly_price_cents: tier.info().monthly_price_cents,
            subscription_end_date: end,
            auto_renewal: partner.auto_renewal,
            manual,
            renewal: Some(crate::lifecycle::renewal_plan(partner)),
        }
    }
}

/// A term ended without renewal: the partner is on the free tier now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionExpired {
    pub expired_tier: Tier,
    pub expired_tier_label: String,
    pub subscription_end_date: CalendarDate,
    pub reason: ExpiryReason,
    pub pcr_before: PcrScore,
    pub pcr_after: PcrScore,
}

/// A term was renewed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionRenewed {
    pub tier: Tier,
    pub tier_label: String,
    pub monthly_price_cents: Cents,
    pub subscription_start_date: CalendarDate,
    pub subscription_end_date: CalendarDate,
    pub renewed_by: Actor,
}

/// A subscription was cancelled, at once (downgraded to free) or at the end of its term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionCancelled {
    pub cancelled_tier: Tier,
    pub cancelled_tier_label: String,
    pub immediately: bool,
    /// The last day on the paid tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_until: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub cancelled_by: Actor,
}

/// An auto-renewing term passed its end date unpaid: it is in grace until `expires_after`. No longer
/// written (a manual auto-renewing term now starts its renewal billing at its end instead, see
/// `domain::lifecycle`); the type stays so that events already in the outbox or the bus are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionPastDue {
    pub tier: Tier,
    pub subscription_end_date: CalendarDate,
    pub expires_after: CalendarDate,
}

/// A Stripe invoice was paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub invoice_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    pub amount_paid_cents: Cents,
    pub tier: Tier,
    pub tier_label: String,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    pub paid_at: Timestamp,
    /// The day the partner's payments now cover.
    pub paid_through: CalendarDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_invoice_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_pdf_url: Option<String>,
}

/// A Stripe invoice payment attempt failed (attempts 1 and 2; the third downgrades, see
/// [`PaymentFailureDowngrade`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub invoice_id: String,
    /// Stripe's `attempt_count`: 1 = first failure, 2 = second.
    pub attempt: u32,
    pub amount_due_cents: Cents,
    pub tier: Tier,
    pub tier_label: String,
    /// When Stripe retries next, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_invoice_url: Option<String>,
}

/// Payment failed too often: the partner was downgraded to free.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailureDowngrade {
    pub invoice_id: String,
    pub attempts: u32,
    pub amount_due_cents: Cents,
    pub downgraded_tier: Tier,
    pub downgraded_tier_label: String,
    pub pcr_before: PcrScore,
    pub pcr_after: PcrScore,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_invoice_url: Option<String>,
}

/// Somebody asked for an invoice to be mailed to the partner again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceResendRequested {
    pub invoice_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    pub amount_cents: Cents,
    /// Stripe's invoice status (`open`, `paid`, ...).
    pub status: String,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_invoice_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_pdf_url: Option<String>,
    pub requested_by: Actor,
}

/// Money was given back on a paid invoice (by an admin here, or in Stripe's dashboard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub invoice_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// Stripe's refund.
    pub refund_id: String,
    /// This refund.
    pub amount_refunded_cents: Cents,
    /// Everything refunded on the invoice so far, this refund included.
    pub total_refunded_cents: Cents,
    pub amount_paid_cents: Cents,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub refunded_by: Actor,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// infra/EVENTS.md is the contract other teams read: each `## <detail-type>` section's example
    /// must be an event this code reads, of that type, and every event type must have its section.
    #[test]
    fn the_documented_examples_are_events_of_their_section() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/EVENTS.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let mut documented = Vec::new();
        for section in doc.split("\n## ").skip(1) {
            let heading = section.lines().next().unwrap().trim();
            if heading == "Subscribing" {
                continue;
            }
            let example = section
                .split("```json\n")
                .nth(1)
                .and_then(|rest| rest.split("\n```").next())
                .unwrap_or_else(|| panic!("section {heading} has no JSON example"));
            let event: DomainEvent = serde_json::from_str(example).unwrap_or_else(|e| panic!("section {heading}: {e}"));
            assert_eq!(event.detail_type(), heading);
            // The example says what the code would write, field for field.
            let written: serde_json::Value = serde_json::from_str(&event.detail_json().unwrap()).unwrap();
            let shown: serde_json::Value = serde_json::from_str(example).unwrap();
            assert_eq!(written, shown, "section {heading}");
            documented.push(heading.to_owned());
        }
        let all = [
            "TierChanged",
            "PartnerProfileSynced",
            "RenewalReminderDue",
            "SubscriptionExpired",
            "SubscriptionRenewed",
            "SubscriptionCancelled",
            "SubscriptionPastDue",
            "PaymentSucceeded",
            "PaymentFailed",
            "PaymentFailureDowngrade",
            "InvoiceResendRequested",
            "PaymentRefunded",
        ];
        // The email rule as documented is the email rule the template deploys.
        let documented_rule: std::collections::BTreeSet<String> = doc
            .split("The partner email rule")
            .nth(1)
            .and_then(|rest| rest.split("```json\n").nth(1))
            .and_then(|rest| rest.split("\n```").next())
            .and_then(|rule| serde_json::from_str::<serde_json::Value>(rule).ok())
            .and_then(|rule| rule["detail-type"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        let template =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))
                .unwrap();
        let deployed_rule: std::collections::BTreeSet<String> = template
            .split("RuleName: !Sub ${AWS::StackName}-partner-email")
            .nth(1)
            .and_then(|rest| rest.split("detail-type:\n").nth(1))
            .map(|rest| {
                rest.lines()
                    .map_while(|line| line.trim().strip_prefix("- ").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert!(deployed_rule.contains("PaymentRefunded"), "{deployed_rule:?}");
        assert_eq!(
            documented_rule, deployed_rule,
            "infra/EVENTS.md's email rule and template.yaml's"
        );
        documented.sort();
        let mut expected: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(documented, expected);
    }
}
