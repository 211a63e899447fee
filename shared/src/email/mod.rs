//! Partner emails: which domain event mails what, rendered from compile-checked templates
//! (`shared/templates/email/`, a text and an HTML part each).
//!
//! [`compose`] is pure: an event in, the message (or `None` for events that mail nobody) out. Sending
//! and the exactly-once bookkeeping live in [`crate::usecases::emails`].

mod letters;
pub mod sign_in;

use crate::domain::dates::CalendarDate;
use crate::domain::events::{self, DomainEvent, EventBody};
use crate::domain::history_and_audit::HistoryEventType;
use crate::domain::lifecycle::{NoticeStage, RenewalPlan};
use jiff::tz::TimeZone;
use letters::*;
use std::fmt;

/// Every email this system sends; the name is what logs, markers and the DLQ call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailKind {
    TierUpgradeConfirmation,
    PaymentReceipt,
    RenewalNotice30,
    RenewalNotice7,
    SubscriptionExpired,
    RenewalConfirmation,
    CancellationConfirmation,
    PaymentFailedReminder,
    PaymentFailedUrgent,
    SubscriptionExpiredPaymentFailure,
    InvoiceResend,
    RefundConfirmation,
    /// The sign-in link the portal mails itself (not an event's: not in [`EmailKind::ALL`]).
    SignInLink,
}

impl EmailKind {
    pub const ALL: [EmailKind; 12] = [
        EmailKind::TierUpgradeConfirmation,
        EmailKind::PaymentReceipt,
        EmailKind::RenewalNotice30,
        EmailKind::RenewalNotice7,
        EmailKind::SubscriptionExpired,
        EmailKind::RenewalConfirmation,
        EmailKind::CancellationConfirmation,
        EmailKind::PaymentFailedReminder,
        EmailKind::PaymentFailedUrgent,
        EmailKind::SubscriptionExpiredPaymentFailure,
        EmailKind::InvoiceResend,
        EmailKind::RefundConfirmation,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EmailKind::TierUpgradeConfirmation => "tier_upgrade_confirmation",
            EmailKind::PaymentReceipt => "payment_receipt",
            EmailKind::RenewalNotice30 => "renewal_notice_30_days",
            EmailKind::RenewalNotice7 => "renewal_notice_7_days",
            EmailKind::SubscriptionExpired => "subscription_expired",
            EmailKind::RenewalConfirmation => "renewal_confirmation",
            EmailKind::CancellationConfirmation => "cancellation_confirmation",
            EmailKind::PaymentFailedReminder => "payment_failed_reminder",
            EmailKind::PaymentFailedUrgent => "payment_failed_urgent",
            EmailKind::SubscriptionExpiredPaymentFailure => "subscription_expired_payment_failure",
            EmailKind::InvoiceResend => "invoice_resend",
            EmailKind::RefundConfirmation => "refund_confirmation",
            EmailKind::SignInLink => "sign_in_link",
        }
    }
}

impl fmt::Display for EmailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rendered email, ready for SES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub kind: EmailKind,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What every email needs besides its event.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// Where partners manage their subscription (linked from every email).
    pub portal_url: String,
    /// The zone in which timestamps (payment times) become dates.
    pub time_zone: TimeZone,
}

#[derive(Debug, thiserror::Error)]
#[error("email {kind} could not be rendered: {source}")]
pub struct RenderError {
    kind: EmailKind,
    source: askama::Error,
}

/// The email `event` sends to its partner, or `None` when it mails nobody (for example a downgrade
/// by an admin, a profile sync, or the `TierChanged` that accompanies an expiry, whose partner gets
/// the expiration notice instead).
pub fn compose(event: &DomainEvent, settings: &EmailSettings) -> Result<Option<EmailMessage>, RenderError> {
    let Some(letter) = letter_for(event, settings) else {
        return Ok(None);
    };
    let kind = letter.kind();
    let framed = Framed {
        company_name: &event.company_name,
        portal_url: &settings.portal_url,
        letter: &letter,
    };
    let render = |result: Result<String, askama::Error>| result.map_err(|source| RenderError { kind, source });
    Ok(Some(EmailMessage {
        kind,
        to: event.primary_email.clone(),
        subject: letter.subject(),
        text: render(askama::Template::render(&framed.text()))?,
        html: render(askama::Template::render(&framed.html()))?,
    }))
}

fn letter_for(event: &DomainEvent, settings: &EmailSettings) -> Option<Letter> {
    let letter = match &event.body {
        EventBody::TierChanged(e)
            if e.to_tier.is_paid()
                && matches!(e.change, HistoryEventType::Upgrade | HistoryEventType::Reactivation) =>
        {
            Letter::TierUpgradeConfirmation(tier_upgrade(e))
        }
        EventBody::TierChanged(_) | EventBody::PartnerProfileSynced(_) | EventBody::SubscriptionPastDue(_) => {
            return None
        }
        EventBody::PaymentSucceeded(e) => Letter::PaymentReceipt(receipt(e, settings)),
        EventBody::RenewalReminderDue(e) => renewal_notice(e),
        EventBody::SubscriptionExpired(e) => Letter::SubscriptionExpired(Expired {
            tier_label: e.expired_tier.label(),
            end_date: LongDate(e.subscription_end_date),
            why: ExpiryWhy(e.reason),
            pcr_before: e.pcr_before,
            pcr_after: e.pcr_after,
        }),
        EventBody::SubscriptionRenewed(e) => Letter::RenewalConfirmation(Renewed {
            tier_label: e.tier.label(),
            monthly_price: e.monthly_price_cents,
            start: LongDate(e.subscription_start_date),
            end: LongDate(e.subscription_end_date),
        }),
        EventBody::SubscriptionCancelled(e) => Letter::CancellationConfirmation(Cancelled {
            tier_label: e.cancelled_tier.label(),
            immediately: e.immediately,
            access_until: e.access_until.map(LongDate),
        }),
        EventBody::PaymentFailed(e) => payment_failed(e, settings),
        EventBody::PaymentFailureDowngrade(e) => Letter::SubscriptionExpiredPaymentFailure(FailureDowngrade {
            tier_label: e.downgraded_tier.label(),
            attempts: e.attempts,
            amount_due: e.amount_due_cents,
            pcr_before: e.pcr_before,
            pcr_after: e.pcr_after,
            pay_url: e.hosted_invoice_url.clone(),
        }),
        EventBody::InvoiceResendRequested(e) => Letter::InvoiceResend(invoice_copy(e)),
        EventBody::PaymentRefunded(e) => Letter::RefundConfirmation(refund_notice(e)),
    };
    Some(letter)
}

/// The date `at` falls on in the settings' time zone.
fn date_of(at: jiff::Timestamp, settings: &EmailSettings) -> LongDate {
    LongDate(at.to_zoned(settings.time_zone.clone()).date())
}

/// The facts of an upgrade (or a reactivation) to a paid tier.
fn tier_upgrade(e: &events::TierChanged) -> TierUpgrade {
    TierUpgrade {
        tier_label: e.to_tier.label(),
        monthly_price: e.monthly_price_cents,
        start: e.subscription_start_date.map(LongDate),
        end: e.subscription_end_date.map(LongDate),
        pcr_before: e.pcr_before,
        pcr_after: e.pcr_after,
        pcr_boost: e.pcr_delta,
        multiplier: e.multiplier_after,
    }
}

fn receipt(e: &events::PaymentSucceeded, settings: &EmailSettings) -> Receipt {
    Receipt {
        number: e.invoice_number.clone().unwrap_or_else(|| e.invoice_id.clone()),
        amount: e.amount_paid_cents,
        tier_label: e.tier.label(),
        period_start: LongDate(e.period_start),
        period_end: LongDate(e.period_end),
        paid_on: date_of(e.paid_at, settings),
        paid_through: LongDate(e.paid_through),
        hosted_url: e.hosted_invoice_url.clone(),
        pdf_url: e.invoice_pdf_url.clone(),
    }
}

/// The 30-day or the 7-day notice: the reminder's stage decides, or for a manual reminder (which has
/// no stage) the days left.
fn renewal_notice(e: &events::RenewalReminderDue) -> Letter {
    let plan = e.renewal.unwrap_or(if e.auto_renewal {
        RenewalPlan::CardCharged
    } else {
        RenewalPlan::Ends
    });
    let final_reminder = match e.stage {
        Some(stage) => stage == NoticeStage::SevenDay,
        None => crate::domain::lifecycle::is_urgent(e.days_left),
    };
    let notice = RenewalNotice {
        tier_label: e.tier.label(),
        end_date: LongDate(e.subscription_end_date),
        expiry: ExpiryClause(e.days_left),
        at_term_end: AtTermEnd {
            plan,
            tier_label: e.tier.label(),
            monthly_price: e.monthly_price_cents,
            end_date: LongDate(e.subscription_end_date),
            final_reminder,
        },
    };
    // A manual reminder has no stage: the days left choose the tone.
    match e.stage {
        Some(NoticeStage::SevenDay) => Letter::RenewalNotice7(notice),
        Some(NoticeStage::ThirtyDay) => Letter::RenewalNotice30(notice),
        None if crate::domain::lifecycle::is_urgent(e.days_left) => Letter::RenewalNotice7(notice),
        None => Letter::RenewalNotice30(notice),
    }
}

/// The reminder after a first failed attempt, the urgent letter after a later one.
fn payment_failed(e: &events::PaymentFailed, settings: &EmailSettings) -> Letter {
    let failed = PaymentFailed {
        tier_label: e.tier.label(),
        amount_due: e.amount_due_cents,
        next_attempt: e.next_attempt_at.map(|at| date_of(at, settings)),
        pay_url: e.hosted_invoice_url.clone(),
    };
    if e.attempt <= 1 {
        Letter::PaymentFailedReminder(failed)
    } else {
        Letter::PaymentFailedUrgent(failed)
    }
}

fn invoice_copy(e: &events::InvoiceResendRequested) -> InvoiceCopy {
    InvoiceCopy {
        number: e.invoice_number.clone().unwrap_or_else(|| e.invoice_id.clone()),
        amount: e.amount_cents,
        paid: e.status == "paid",
        period_start: LongDate(e.period_start),
        period_end: LongDate(e.period_end),
        hosted_url: e.hosted_invoice_url.clone(),
        pdf_url: e.invoice_pdf_url.clone(),
    }
}

fn refund_notice(e: &events::PaymentRefunded) -> RefundNotice {
    RefundNotice {
        number: e.invoice_number.clone().unwrap_or_else(|| e.invoice_id.clone()),
        amount: e.amount_refunded_cents,
        total_refunded: e.total_refunded_cents,
        amount_paid: e.amount_paid_cents,
        in_full: e.total_refunded_cents >= e.amount_paid_cents,
        reason: e.reason.clone(),
    }
}

/// `November 24, 2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongDate(pub CalendarDate);

impl fmt::Display for LongDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.strftime("%B %-d, %Y"))
    }
}

#[cfg(test)]
mod tests;
