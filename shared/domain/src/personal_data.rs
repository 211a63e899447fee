//! Personal data in a partner's payment history, and what erasing it keeps.
//!
//! "Payment history" is everything recorded about the partner's billing: subscription history
//! entries, audit entries, the log of emails sent, and invoices. Erasing removes what identifies or
//! describes a person and keeps what tax and accounting law require a business to retain for the
//! statutory period (for invoices: numbers, amounts, dates, periods, what was billed) and what
//! proves who changed a subscription when.
//!
//! | record           | erased                                                      | kept |
//! |------------------|-------------------------------------------------------------|------|
//! | history entry    | `notes` (free text), `payment_method`; a partner user's id as `created_by` | event, tiers, dates, amounts, PCR, when, and who for admins, Stripe and the system |
//! | audit entry      | `reason` (free text), but an admin's reason for marking an invoice paid or refunding it (evidence of a money movement, the business's own record); old and new values of personal fields; a partner user's id as actor | action, time, version, which fields changed |
//! | email sent       | recipient address, subject, SES's rejection reason (it may quote the address) | kind, when, delivery status |
//! | outbox event     | the event's whole body (it copies company, contact email and reasons; kept 7 days after a change) | its id, type, partner and time |
//! | card on file     | the copy of the card's brand, last four digits and expiry   | — (read from Stripe again when needed) |
//! | invoice          | nothing                                                     | everything: it is the tax record |
//! | profile          | `cancellation_reason`, `subscription_notes` (free text); marks when it was erased | company, contact email, tier and term: the live contract's billing contact (deleting the account is a separate request) |
//!
//! An event already in flight when the erasure runs (written before, delivered after) writes
//! nothing personal: the email sender logs an email of an event older than the erasure without its
//! recipient and subject.

use super::history_and_audit::{Actor, AuditAction, FieldChange};
use serde::Serialize;

/// Profile fields whose values are personal: masked in the audit trail's before/after values
/// (`cancelled_by` names the partner user who cancelled).
pub const PERSONAL_PROFILE_FIELDS: [&str; 4] = [
    "primary_email",
    "cancellation_reason",
    "subscription_notes",
    "cancelled_by",
];

/// What takes the place of an erased value.
pub const ERASED: &str = "[erased]";

/// How long outbox events stay after their change (the erasure looks back this far for copies).
pub const OUTBOX_RETENTION_DAYS: i64 = 7;

/// Whether an audit entry's reason is kept through an erasure: an admin's reason for marking an
/// invoice paid or refunding it is evidence of a money movement, the business's own record, not the
/// partner's personal data.
pub fn keeps_reason(action: AuditAction, actor: &Actor) -> bool {
    matches!(actor, Actor::Admin(_)) && matches!(action, AuditAction::InvoiceMarkedPaid | AuditAction::RefundIssued)
}

/// `actor` as an erasure leaves it: a partner user's id names a person; admins, Stripe and the
/// system stay as they are (who acted for the business is its own record).
pub fn erased_actor(actor: &Actor) -> Actor {
    match actor {
        Actor::Partner(_) => Actor::Partner(ERASED.to_owned()),
        other => other.clone(),
    }
}

/// `text` with every occurrence of `address` (any case) replaced, for messages that quote it (an
/// email provider's rejection reason) before they are logged or stored.
pub fn without_address(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_owned();
    }
    let (lower_text, lower_address) = (text.to_lowercase(), address.to_lowercase());
    if lower_text.len() != text.len() {
        // Case folding changed the length (non-ASCII): match exactly instead.
        return text.replace(address, "[recipient]");
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower_text.match_indices(&lower_address) {
        if at < rest {
            continue;
        }
        out.push_str(&text[rest..at]);
        out.push_str("[recipient]");
        rest = at + address.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// `changes` with the values of personal fields replaced by [`ERASED`]; whether any value changed.
pub fn mask_personal_changes(changes: &[FieldChange]) -> (Vec<FieldChange>, bool) {
    let erased = serde_json::Value::String(ERASED.to_owned());
    let mut masked_any = false;
    let masked = changes
        .iter()
        .map(|change| {
            if !PERSONAL_PROFILE_FIELDS.contains(&change.field.as_str()) {
                return change.clone();
            }
            let mut mask = |value: &serde_json::Value| {
                if value.is_null() || *value == erased {
                    value.clone()
                } else {
                    masked_any = true;
                    erased.clone()
                }
            };
            let (from, to) = (mask(&change.from), mask(&change.to));
            FieldChange {
                field: change.field.clone(),
                from,
                to,
            }
        })
        .collect();
    (masked, masked_any)
}

/// One kind of record the erasure kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kept {
    pub what: &'static str,
    pub why: &'static str,
}

/// What an erasure keeps, and why (said in its answer).
pub fn kept_records() -> Vec<Kept> {
    vec![
        Kept {
            what: "invoices: number, amounts billed, paid and refunded, currency, dates, billing period, tier, status and Stripe's invoice document",
            why: "tax and accounting law require invoices to be kept unchanged for the statutory retention period",
        },
        Kept {
            what: "subscription history: event, tiers, dates, amounts and PCR scores, without notes or payment method",
            why: "the record of what was billed and granted, which the invoices refer to",
        },
        Kept {
            what: "audit trail: who changed what and when, with personal values replaced by \"[erased]\"",
            why: "accountability for changes to a paid contract (legitimate interest)",
        },
        Kept {
            what: "the partner profile (company, contact email, tier and term), without its free-text notes",
            why: "it is the live contract's billing contact; deleting the account is a separate request to Power100",
        },
        Kept {
            what: "an admin's reason for marking an invoice paid or refunding it, in the audit trail",
            why: "evidence of a money movement: the business's own accounting record",
        },
    ]
}

/// Where copies stay outside this system after an erasure, and for how long (said in its answer).
pub fn held_elsewhere() -> Vec<Kept> {
    vec![
        Kept {
            what: "Stripe's customer record (name, email, billing address, payment methods) and its invoices",
            why: "Stripe keeps them under its own retention; Power100 deletes the customer there on request, unless tax law needs the invoices",
        },
        Kept {
            what: "the table's point-in-time backups",
            why: "kept 35 days, then gone; a restore would replay this erasure",
        },
        Kept {
            what: "emails that could not be delivered, in the email dead-letter queue",
            why: "kept 14 days for an operator to retry, then deleted",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn change(field: &str, from: serde_json::Value, to: serde_json::Value) -> FieldChange {
        FieldChange {
            field: field.into(),
            from,
            to,
        }
    }

    #[test]
    fn masks_personal_values_only() {
        let changes = vec![
            change("primary_email", json!("jane@example.com"), json!("ops@example.com")),
            change("engagement_tier", json!("free"), json!("gold")),
            change("subscription_notes", json!(null), json!("call Jane")),
        ];
        let (masked, any) = mask_personal_changes(&changes);
        assert!(any);
        assert_eq!(masked[0], change("primary_email", json!(ERASED), json!(ERASED)));
        assert_eq!(masked[1], changes[1]);
        assert_eq!(masked[2], change("subscription_notes", json!(null), json!(ERASED)));
        assert_eq!(mask_personal_changes(&masked), (masked.clone(), false));
    }

    fn any_field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("primary_email".to_owned()),
            Just("cancellation_reason".to_owned()),
            Just("subscription_notes".to_owned()),
            Just("engagement_tier".to_owned()),
            Just("last_payment_amount".to_owned()),
            "[a-z_]{1,20}",
        ]
    }

    #[test]
    fn an_admins_reason_for_a_money_movement_is_kept() {
        let admin = Actor::Admin("ops-1".into());
        assert!(keeps_reason(AuditAction::InvoiceMarkedPaid, &admin));
        assert!(keeps_reason(AuditAction::RefundIssued, &admin));
        assert!(!keeps_reason(AuditAction::RefundIssued, &Actor::Stripe));
        assert!(!keeps_reason(AuditAction::SubscriptionCancelled, &admin));
        assert!(!keeps_reason(
            AuditAction::InvoiceMarkedPaid,
            &Actor::Partner("jane".into())
        ));
        assert_eq!(
            erased_actor(&Actor::Partner("jane.doe@example.com".into())),
            Actor::Partner(ERASED.into())
        );
        assert_eq!(erased_actor(&admin), admin);
    }

    #[test]
    fn a_rejection_reason_loses_the_address_it_quotes() {
        assert_eq!(
            without_address(
                "Address Jane.Doe@Example.com is on the suppression list (jane.doe@example.com)",
                "jane.doe@example.com"
            ),
            "Address [recipient] is on the suppression list ([recipient])"
        );
        assert_eq!(without_address("Throttling", "a@b.c"), "Throttling");
    }

    proptest! {
        /// Whatever surrounds it, the address is gone and the rest stays.
        #[test]
        fn no_address_survives(before in "[a-zA-Z ]{0,20}", after in "[a-zA-Z ()]{0,20}", user in "[a-z]{1,8}") {
            let address = format!("{user}@example.com");
            let text = format!("{before}{}{after}", address.to_uppercase());
            let cleaned = without_address(&text, &address);
            prop_assert!(!cleaned.to_lowercase().contains(&address));
            prop_assert!(cleaned.starts_with(&before) && cleaned.ends_with(&after));
        }

        /// Masking keeps every field and every non-personal value, leaves no personal value, and
        /// is idempotent.
        #[test]
        fn masking_is_complete_and_idempotent(
            changes in proptest::collection::vec((any_field(), "\\PC{0,20}", proptest::option::of("\\PC{0,20}")), 0..8)
        ) {
            let changes: Vec<FieldChange> = changes
                .into_iter()
                .map(|(field, from, to)| change(&field, json!(from), to.map_or(json!(null), |t| json!(t))))
                .collect();
            let (masked, _) = mask_personal_changes(&changes);
            prop_assert_eq!(masked.len(), changes.len());
            for (before, after) in changes.iter().zip(&masked) {
                prop_assert_eq!(&before.field, &after.field);
                if PERSONAL_PROFILE_FIELDS.contains(&before.field.as_str()) {
                    prop_assert!(after.from.is_null() || after.from == json!(ERASED));
                    prop_assert!(after.to.is_null() || after.to == json!(ERASED));
                } else {
                    prop_assert_eq!(before, after);
                }
            }
            prop_assert_eq!(mask_personal_changes(&masked), (masked.clone(), false));
        }
    }
}
