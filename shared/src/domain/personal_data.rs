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
//! | history entry    | `notes` (free text), `payment_method`                       | event, tiers, dates, amounts, PCR, who and when |
//! | audit entry      | `reason` (free text); old and new values of personal fields | action, actor, time, version, which fields changed |
//! | email sent       | recipient address, subject                                  | kind, when, delivery status |
//! | invoice          | nothing                                                     | everything: it is the tax record |
//! | profile          | `cancellation_reason`, `subscription_notes` (free text)     | company, contact email, tier and term: the live contract's billing contact (deleting the account is a separate request) |

use super::history_and_audit::FieldChange;
use serde::Serialize;

/// Profile fields whose values are personal: masked in the audit trail's before/after values.
pub const PERSONAL_PROFILE_FIELDS: [&str; 3] = ["primary_email", "cancellation_reason", "subscription_notes"];

/// What takes the place of an erased value.
pub const ERASED: &str = "[erased]";

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

    proptest! {
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
