//! What a rule decides about one partner: the next state and how to record it (history event, note,
//! audit action, domain events). Use-cases commit it atomically; deciding it needs no I/O.

use super::history_and_audit::{AuditAction, HistoryEventType};
use super::partner::{Note, Partner};
use super::stripe_sync::StripeAction;
use crate::events::EventBody;

/// What a rule decided: the next state and how to record it.
#[derive(Debug, Clone)]
pub struct PartnerChange {
    pub after: Partner,
    /// The history event, if this is a subscription event.
    pub history: Option<HistoryEventType>,
    /// Written in the history entry's notes and the audit entry's reason.
    pub note: Option<Note>,
    pub audit_action: AuditAction,
    pub events: Vec<EventBody>,
    /// What Stripe must do for this change, when the rule table's default does not fit (an admin who
    /// asks for a prorated cancellation); `None` derives it (`domain::stripe_sync::stripe_action_for`).
    pub stripe_action: Option<StripeAction>,
}

impl PartnerChange {
    /// A change recorded in the audit trail only: no history entry, no event.
    pub fn audited(after: Partner, audit_action: AuditAction) -> PartnerChange {
        PartnerChange {
            after,
            history: None,
            note: None,
            audit_action,
            events: vec![],
            stripe_action: None,
        }
    }
}
