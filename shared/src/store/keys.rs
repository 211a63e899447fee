//! Every key of the one table, built in one place.
//!
//! | item             | pk                 | sk                        | index keys |
//! |------------------|--------------------|---------------------------|------------|
//! | partner profile  | `PARTNER#<id>`     | `PROFILE`                 | gsi1 (due index: paid terms with status active or cancelled, sparse): `SUB#<status>` / `<end>#<id>`; gsi2 (partner directory by name): `PARTNERS` / `<lowercase name>#<id>`; gsi4 (dashboard: every subscription that is not `inactive`): `DASH#<status>` / `<end>#<id>` |
//! |                  |                    |                           | gsi6 (Stripe work stripe-reconcile carries out, sparse): `STRIPE_SYNC` / `<requested at>#<id>` (a `stripe_sync` to confirm), else `BILLING_START` / `<requested at>#<id>` (a billing start claimed, not created at Stripe, needing nobody's payment in a browser: a renewal's) |
//! |                  |                    |                           | gsi10 (sign-in: the partner of a contact address): `CONTACT#<sha256 of the lowercased address>` / `<id>` |
//! |                  |                    |                           | gsi7 (emailed invoices unpaid, sparse: `payment_due_date` while awaiting payment or past due): `INVOICE_DUE` / `<due date>#<id>` |
//! | card on file     | `PARTNER#<id>`     | `CARD`                    | — (a copy of Stripe's card, newest `as_of_key` wins: `store::cards`) |
//! | history entry    | `PARTNER#<id>`     | `HIST#<ts>#<ulid>`        | gsi3 (history by month, of `created_at`): `HIST#<yyyy-mm>` / `<created_at>#<ulid>` |
//! | audit entry      | `PARTNER#<id>`     | `AUDIT#<ts>#<ulid>`       | — |
//! | renewal notice   | `PARTNER#<id>`     | `NOTICE#<term end>#<stage>` | — (exists once a notice was sent: a conditional put sends it exactly once) |
//! | email log        | `PARTNER#<id>`     | `EMAIL#<event id>`        | — (the email sender's exactly-once claim and the record of what it sent; TTL `expires_at`) |
//! | invoice          | `PARTNER#<id>`     | `INV#<stripe invoice id>` | gsi5 (invoices by status and date, for the invoice dashboard): `INV#<status>` / `<created>#<invoice id>`; gsi8 (every invoice by date): `INVOICES` / `<created>#<invoice id>`; gsi9 (an invoice by its id): `INVOICE#<invoice id>` / `INVOICE`; gsi6 (once it held a refund reservation, until the reconciliation finds none): `REFUND_RESERVED` / `<newest reservation's time>#<invoice id>` |
//! | Stripe customer  | `STRIPE_CUS#<customer id>` | `CUSTOMER`        | — (which partner a Stripe customer is: one consistent read per webhook) |
//! | Stripe event     | `STRIPE_EVENT#<event id>` | `EVENT`            | — (written in the same transaction as the event's effects: a redelivery finds it; TTL 30 days) |
//! | rate counter     | `RATE#<id>`        | `<window start>`          | — (portal payment requests counted per partner and minute; TTL `expires_at`) |
//! | sign-in code, counter, revoked token | `SIGNIN#<hash>`, `SIGNINRATE#<scope>#<key>`, `REVOKED#<hash>` | `CODE`, `<window start>`, `TOKEN` | — (`store::sign_in`; TTL `expires_at`) |
//! | outbox event     | `OUTBOX#<ulid>`    | `EVENT`                   | — (TTL `expires_at`; the stream carries it to the relay) |
//! | counters         | `METRICS`          | `DAY#<date>#<shard>`, `END#<date>#<shard>`, `HIST#<yyyy-mm>#<shard>`, `SEATS#<shard>`, `TABS#<shard>` | — (moved in the same transaction as what they count; `store::metrics`, `domain::counters`) |
//!
//! `<ts>` is the id's own millisecond as `2026-11-24T12:00:00.123Z`, so sort keys sort by time.

use crate::domain::dates::CalendarDate;
use crate::domain::partner::{PartnerId, SubscriptionStatus};
use ulid::Ulid;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const PROFILE_SK: &str = "PROFILE";
/// The copy of the partner's card on file (`store::cards`), beside its profile.
pub const CARD_SK: &str = "CARD";
pub const HISTORY_PREFIX: &str = "HIST#";
pub const AUDIT_PREFIX: &str = "AUDIT#";
pub const OUTBOX_SK: &str = "EVENT";
/// The audit item's list of the outbox events its change wrote (their ids: `outbox_pk`).
pub const AUDIT_EVENT_IDS: &str = "event_ids";

/// Paid subscriptions by status and end date (sparse: only partners on a paid tier with a term).
pub const SUBSCRIPTIONS_INDEX: &str = "gsi1";
/// Every partner, by company name.
pub const DIRECTORY_INDEX: &str = "gsi2";
/// Every history entry, by month.
pub const HISTORY_BY_MONTH_INDEX: &str = "gsi3";
/// Subscriptions for the admin dashboard by status and end date (everything but `inactive`).
pub const DASHBOARD_INDEX: &str = "gsi4";

/// Invoices by status and date.
pub const INVOICES_INDEX: &str = "gsi5";
/// Partners with a Stripe change still to confirm, oldest request first (sparse).
pub const STRIPE_SYNC_INDEX: &str = "gsi6";
pub const STRIPE_SYNC_PENDING_PK: &str = "STRIPE_SYNC";
/// gsi6's partition of invoices holding a refund reservation, by the newest reservation's time:
/// the reconciliation releases reservations left by refunds whose request died halfway.
pub const REFUND_RESERVED_PK: &str = "REFUND_RESERVED";
/// gsi6's other partition: billing starts claimed but not yet created at Stripe that stripe-reconcile
/// carries out (a renewal's, requested by the sweep; one whose request died), oldest first.
pub const BILLING_START_PENDING_PK: &str = "BILLING_START";
/// Emailed invoices not paid yet, by due date (sparse): the sweep walks the overdue ones down the
/// dunning ladder.
pub const INVOICES_DUE_INDEX: &str = "gsi7";
pub const INVOICES_DUE_PK: &str = "INVOICE_DUE";

/// Every invoice, by the time Stripe created it.
pub const INVOICES_BY_DATE_INDEX: &str = "gsi8";
pub const INVOICES_BY_DATE_PK: &str = "INVOICES";
/// An invoice by its Stripe id (which partner it belongs to is not in the request).
pub const INVOICE_BY_ID_INDEX: &str = "gsi9";
pub const INVOICE_BY_ID_SK: &str = "INVOICE";

pub fn invoice_by_id_pk(invoice_id: &str) -> String {
    format!("INVOICE#{invoice_id}")
}

/// Profiles by their contact address's hash, for sign-in by email link (`store::sign_in`).
/// The contact index's partition of an address (by its hash).
pub fn contact_pk(email_key: &str) -> String {
    format!("CONTACT#{email_key}")
}

pub const CONTACT_INDEX: &str = "gsi10";

/// (index name, partition key attribute, sort key attribute)
pub const INDEXES: [(&str, &str, &str); 10] = [
    (SUBSCRIPTIONS_INDEX, "gsi1pk", "gsi1sk"),
    (DIRECTORY_INDEX, "gsi2pk", "gsi2sk"),
    (HISTORY_BY_MONTH_INDEX, "gsi3pk", "gsi3sk"),
    (DASHBOARD_INDEX, "gsi4pk", "gsi4sk"),
    (INVOICES_INDEX, "gsi5pk", "gsi5sk"),
    (STRIPE_SYNC_INDEX, "gsi6pk", "gsi6sk"),
    (INVOICES_DUE_INDEX, "gsi7pk", "gsi7sk"),
    (INVOICES_BY_DATE_INDEX, "gsi8pk", "gsi8sk"),
    (INVOICE_BY_ID_INDEX, "gsi9pk", "gsi9sk"),
    (CONTACT_INDEX, "gsi10pk", "gsi10sk"),
];

pub const NOTICE_PREFIX: &str = "NOTICE#";

pub const DIRECTORY_PK: &str = "PARTNERS";

/// The TTL attribute (epoch seconds).
pub const EXPIRES_AT: &str = "expires_at";

pub fn partner_pk(id: &PartnerId) -> String {
    format!("PARTNER#{id}")
}

/// `2026-11-24T12:00:00.123Z` from the id's millisecond.
pub fn id_timestamp(id: Ulid) -> String {
    let millis = i64::try_from(id.timestamp_ms()).unwrap_or(i64::MAX);
    timestamp_key(jiff::Timestamp::from_millisecond(millis).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
}

/// `2026-11-24T12:00:00.123Z`: an instant as sort keys write it (UTC, milliseconds).
pub fn timestamp_key(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn history_sk(id: Ulid) -> String {
    format!("{HISTORY_PREFIX}{}#{id}", id_timestamp(id))
}

/// The month of the history index an entry recorded at `at` belongs to (its business time, the
/// `now` of the change that wrote it: the id's own time is when the process made it).
pub fn history_month_pk(at: jiff::Timestamp) -> String {
    format!("{HISTORY_PREFIX}{}", &timestamp_key(at)[..7])
}

pub fn history_month_sk(at: jiff::Timestamp, id: Ulid) -> String {
    format!("{}#{id}", timestamp_key(at))
}

pub fn audit_sk(id: Ulid) -> String {
    format!("{AUDIT_PREFIX}{}#{id}", id_timestamp(id))
}

/// The start of every outbox item's partition key (the relay picks outbox inserts by it).
pub const OUTBOX_PREFIX: &str = "OUTBOX#";

pub fn outbox_pk(id: Ulid) -> String {
    format!("{OUTBOX_PREFIX}{id}")
}

pub fn subscriptions_pk(status: SubscriptionStatus) -> String {
    format!("SUB#{}", status.as_str())
}

pub fn subscriptions_sk(end: CalendarDate, id: &PartnerId) -> String {
    format!("{end}#{id}")
}

pub fn dashboard_pk(status: SubscriptionStatus) -> String {
    format!("DASH#{}", status.as_str())
}

/// The sort key of everything that ends on or before `date` is below this bound.
pub fn end_date_upper_bound(date: CalendarDate) -> String {
    format!("{date}#~")
}

pub fn notice_sk(term_end: CalendarDate, stage_days: u8) -> String {
    format!("{NOTICE_PREFIX}{term_end}#{stage_days}")
}

pub const EMAIL_PREFIX: &str = "EMAIL#";

pub fn email_sk(event_id: &str) -> String {
    format!("{EMAIL_PREFIX}{event_id}")
}

pub const INVOICE_PREFIX: &str = "INV#";
pub const CUSTOMER_SK: &str = "CUSTOMER";
pub const STRIPE_EVENT_SK: &str = "EVENT";

pub fn invoice_sk(invoice_id: &str) -> String {
    format!("{INVOICE_PREFIX}{invoice_id}")
}

pub fn invoices_by_status_pk(status: &str) -> String {
    format!("{INVOICE_PREFIX}{status}")
}

pub fn customer_pk(customer_id: &str) -> String {
    format!("STRIPE_CUS#{customer_id}")
}

pub fn stripe_event_pk(event_id: &str) -> String {
    format!("STRIPE_EVENT#{event_id}")
}

pub fn history_month_pk_for(month: &str) -> String {
    format!("{HISTORY_PREFIX}{month}")
}

pub fn directory_sk(name_sort_key: &str, id: &PartnerId) -> String {
    format!("{name_sort_key}#{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape() {
        let id = PartnerId::parse("42").unwrap();
        assert_eq!(partner_pk(&id), "PARTNER#42");
        let ulid = Ulid::from_parts(1_795_000_000_123, 7);
        assert_eq!(id_timestamp(ulid), "2026-11-18T11:06:40.123Z");
        assert_eq!(history_sk(ulid), format!("HIST#2026-11-18T11:06:40.123Z#{ulid}"));
        let recorded: jiff::Timestamp = "2026-11-30T23:59:59.999Z".parse().unwrap();
        assert_eq!(history_month_pk(recorded), "HIST#2026-11");
        assert_eq!(
            history_month_sk(recorded, ulid),
            format!("2026-11-30T23:59:59.999Z#{ulid}")
        );
        assert_eq!(subscriptions_pk(SubscriptionStatus::Active), "SUB#active");
        assert_eq!(subscriptions_sk(jiff::civil::date(2026, 12, 1), &id), "2026-12-01#42");
    }
}
