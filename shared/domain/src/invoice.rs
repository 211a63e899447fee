//! The invoice record kept for the admin dashboard (the spec's `partner_invoices` fields), built
//! from what a Stripe invoice event says.

use super::billing::InvoiceFacts;
use super::dates::{BusinessCalendar, CalendarDate};
use super::money::Cents;
use super::partner::PartnerId;
use super::tier::Tier;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Issued (draft or open), not paid yet.
    Pending,
    Paid,
    /// A payment attempt failed.
    Failed,
    /// Paid, then refunded in full.
    Refunded,
    /// Paid, then refunded in part.
    PartiallyRefunded,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 5] = [
        InvoiceStatus::Pending,
        InvoiceStatus::Paid,
        InvoiceStatus::Failed,
        InvoiceStatus::Refunded,
        InvoiceStatus::PartiallyRefunded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Pending => "pending",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Failed => "failed",
            InvoiceStatus::Refunded => "refunded",
            InvoiceStatus::PartiallyRefunded => "partially_refunded",
        }
    }

    /// Money was collected on it (some of which may have been given back).
    pub const fn was_paid(self) -> bool {
        matches!(
            self,
            InvoiceStatus::Paid | InvoiceStatus::Refunded | InvoiceStatus::PartiallyRefunded
        )
    }

    pub fn parse(text: &str) -> Option<InvoiceStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Whether `text` can be a Stripe invoice id at all (anything else is simply an unknown invoice).
pub fn plausible_invoice_id(text: &str) -> bool {
    (1..=100).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `url` when it is a Stripe document over https (`https://<…>stripe.com/…`, no credentials, no
/// port): the only place the PDF routes redirect to, whatever an event carried.
pub fn stripe_document_url(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let stripe = host == "stripe.com" || host.strip_suffix(".stripe.com").is_some_and(|sub| !sub.is_empty());
    let plain = host
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    (stripe && plain).then_some(url)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    pub partner_id: PartnerId,
    /// The partner's company when the invoice was recorded (absent on records older than it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub stripe_invoice_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// What the invoice bills.
    pub amount_cents: Cents,
    pub amount_paid_cents: Cents,
    /// What was given back of it, refund by refund (see `domain::refund`).
    #[serde(default)]
    pub amount_refunded_cents: Cents,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    pub status: InvoiceStatus,
    pub attempt_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_url: Option<String>,
    /// When Stripe created the invoice.
    pub created_at: Timestamp,
    /// The order of the newest Stripe event applied to it (see [`super::billing::event_order`]).
    pub stripe_event_order: i64,
    /// When we recorded it, by our clock (set by the store's write), beside Stripe's `paid_at`: a
    /// payment recorded more than an hour after Stripe took it is alarmed on (`domain::metrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<Timestamp>,
}

impl InvoiceRecord {
    pub fn from_facts(
        partner_id: &PartnerId,
        company_name: &str,
        facts: &InvoiceFacts,
        status: InvoiceStatus,
        tier: Option<Tier>,
        calendar: &BusinessCalendar,
        order: i64,
    ) -> InvoiceRecord {
        InvoiceRecord {
            partner_id: partner_id.clone(),
            company_name: Some(company_name.to_owned()),
            stripe_invoice_id: facts.invoice_id.clone(),
            invoice_number: facts.number.clone(),
            amount_cents: facts.amount_due.max(facts.amount_paid),
            amount_paid_cents: facts.amount_paid,
            amount_refunded_cents: Cents::ZERO,
            tier,
            period_start: calendar.today(facts.period_start),
            period_end: calendar.today(facts.period_end),
            status,
            attempt_count: facts.attempt_count,
            paid_at: match status {
                InvoiceStatus::Paid => Some(facts.paid_at.unwrap_or(facts.created)),
                _ => None,
            },
            invoice_url: facts.hosted_invoice_url.clone(),
            pdf_url: facts.invoice_pdf.clone(),
            created_at: facts.created,
            stripe_event_order: order,
            recorded_at: None,
        }
    }
}

#[cfg(test)]
mod stripe_url_tests {
    #[test]
    fn pdf_redirects_go_only_to_stripe_over_https() {
        use super::stripe_document_url as ok;
        assert!(ok("https://pay.stripe.com/invoice/acct_1/in_1/pdf").is_some());
        assert!(ok("https://files.stripe.com/links/x").is_some());
        for bad in [
            "http://pay.stripe.com/invoice/x/pdf",
            "https://pay.stripe.com.evil.example/x",
            "https://evilstripe.com/x",
            "https://user@pay.stripe.com/x",
            "https://pay.stripe.com:8443/x",
            "https://.stripe.com/x",
            "https://invoice.localstripe.invalid/i/in_1/pdf",
            "javascript:alert(1)",
            "//pay.stripe.com/x",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }
}
