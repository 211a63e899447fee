//! What each email says: one struct of facts per email, its subject, and the two templates (text and
//! HTML) that frame every letter the same way.

use super::{EmailKind, LongDate};
use crate::domain::lifecycle::{ExpiryReason, RenewalPlan};
use crate::domain::money::Cents;
use crate::domain::pcr::{PcrDelta, PcrScore};
use crate::domain::tier::Multiplier;
use askama::Template;
use std::fmt;

/// One email's facts; the variant decides the template.
#[derive(Debug, Clone)]
pub(super) enum Letter {
    TierUpgradeConfirmation(TierUpgrade),
    PaymentReceipt(Receipt),
    RenewalNotice30(RenewalNotice),
    RenewalNotice7(RenewalNotice),
    SubscriptionExpired(Expired),
    RenewalConfirmation(Renewed),
    CancellationConfirmation(Cancelled),
    PaymentFailedReminder(PaymentFailed),
    PaymentFailedUrgent(PaymentFailed),
    SubscriptionExpiredPaymentFailure(FailureDowngrade),
    InvoiceResend(InvoiceCopy),
    RefundConfirmation(RefundNotice),
}

#[derive(Debug, Clone)]
pub(super) struct TierUpgrade {
    pub tier_label: &'static str,
    pub monthly_price: Cents,
    pub start: Option<LongDate>,
    pub end: Option<LongDate>,
    pub pcr_before: PcrScore,
    pub pcr_after: PcrScore,
    pub pcr_boost: PcrDelta,
    pub multiplier: Multiplier,
}

#[derive(Debug, Clone)]
pub(super) struct Receipt {
    pub number: String,
    pub amount: Cents,
    pub tier_label: &'static str,
    pub period_start: LongDate,
    pub period_end: LongDate,
    pub paid_on: LongDate,
    pub paid_through: LongDate,
    pub hosted_url: Option<String>,
    pub pdf_url: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct RenewalNotice {
    pub tier_label: &'static str,
    pub end_date: LongDate,
    pub expiry: ExpiryClause,
    pub at_term_end: AtTermEnd,
}

/// What a renewal notice says happens at the term's end, exactly as the sweep and Stripe will do it
/// for the partner's billing (`domain::lifecycle::renewal_plan`); one paragraph, text and HTML alike.
#[derive(Debug, Clone)]
pub(super) struct AtTermEnd {
    pub plan: RenewalPlan,
    pub tier_label: &'static str,
    pub monthly_price: Cents,
    pub end_date: LongDate,
    /// The 7-day notice: the last chance to act.
    pub final_reminder: bool,
}

impl fmt::Display for AtTermEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AtTermEnd {
            tier_label,
            monthly_price: price,
            end_date: end,
            ..
        } = self;
        match self.plan {
            RenewalPlan::CardCharged if self.final_reminder => write!(
                f,
                "It renews automatically for another 12 months at {price} per month: Stripe keeps charging \
                 the card on file each month. Please make sure that card is up to date in the partner portal \
                 so that the next charge goes through."
            ),
            RenewalPlan::CardCharged => write!(
                f,
                "It renews automatically for another 12 months at {price} per month: Stripe keeps charging \
                 the card on file each month, so there is nothing you need to do. If your card has changed, \
                 update it in the partner portal before {end}."
            ),
            RenewalPlan::InvoiceEmailed => write!(
                f,
                "It renews automatically for another 12 months at {price} per month: Stripe keeps emailing \
                 each month's invoice, payable within 30 days. There is nothing you need to do until the next \
                 invoice arrives."
            ),
            RenewalPlan::InvoicingStarts => {
                let next_day = end.0.tomorrow().map(LongDate).map_err(|_| fmt::Error)?;
                write!(
                    f,
                    "It renews automatically for another 12 months: on {next_day} we will email you an invoice \
                     for the next 12 months at {price} per month, payable within 30 days. You keep {tier_label} \
                     and its PCR boost meanwhile; there is nothing you need to do until the invoice arrives."
                )
            }
            RenewalPlan::Ends => write!(
                f,
                "It does not renew: on {end} it ends and your profile returns to the Free tier, losing its \
                 {tier_label} PCR boost. To keep {tier_label}, reply to this email or contact the Power100 \
                 partner team before {end}."
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Expired {
    pub tier_label: &'static str,
    pub end_date: LongDate,
    pub why: ExpiryWhy,
    pub pcr_before: PcrScore,
    pub pcr_after: PcrScore,
}

#[derive(Debug, Clone)]
pub(super) struct Renewed {
    pub tier_label: &'static str,
    pub monthly_price: Cents,
    pub start: LongDate,
    pub end: LongDate,
}

#[derive(Debug, Clone)]
pub(super) struct Cancelled {
    pub tier_label: &'static str,
    pub immediately: bool,
    pub access_until: Option<LongDate>,
}

#[derive(Debug, Clone)]
pub(super) struct PaymentFailed {
    pub tier_label: &'static str,
    pub amount_due: Cents,
    pub next_attempt: Option<LongDate>,
    pub pay_url: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct FailureDowngrade {
    pub tier_label: &'static str,
    pub attempts: u32,
    pub amount_due: Cents,
    pub pcr_before: PcrScore,
    pub pcr_after: PcrScore,
    pub pay_url: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct InvoiceCopy {
    pub number: String,
    pub amount: Cents,
    pub paid: bool,
    pub period_start: LongDate,
    pub period_end: LongDate,
    pub hosted_url: Option<String>,
    pub pdf_url: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct RefundNotice {
    pub number: String,
    /// This refund.
    pub amount: Cents,
    pub total_refunded: Cents,
    pub amount_paid: Cents,
    /// The whole payment is back.
    pub in_full: bool,
    pub reason: Option<String>,
}

/// "expires in 30 days", "expires in 1 day", "expires today", "expired 3 days ago".
#[derive(Debug, Clone, Copy)]
pub(super) struct ExpiryClause(pub i32);

impl fmt::Display for ExpiryClause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = |n: u32| {
            if n == 1 {
                "1 day".to_owned()
            } else {
                format!("{n} days")
            }
        };
        match self.0 {
            0 => f.write_str("expires today"),
            n if n > 0 => write!(f, "expires in {}", days(n.unsigned_abs())),
            n => write!(f, "expired {} ago", days(n.unsigned_abs())),
        }
    }
}

/// Why a term expired, in the partner's words.
#[derive(Debug, Clone, Copy)]
pub(super) struct ExpiryWhy(pub ExpiryReason);

impl fmt::Display for ExpiryWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            ExpiryReason::NotRenewing => "automatic renewal was turned off",
            ExpiryReason::CancelledAtTermEnd => "it was cancelled effective at the end of its term",
            ExpiryReason::UnpaidAfterGrace => "we did not receive the renewal payment within the grace period",
        })
    }
}

impl Letter {
    pub fn kind(&self) -> EmailKind {
        match self {
            Letter::TierUpgradeConfirmation(_) => EmailKind::TierUpgradeConfirmation,
            Letter::PaymentReceipt(_) => EmailKind::PaymentReceipt,
            Letter::RenewalNotice30(_) => EmailKind::RenewalNotice30,
            Letter::RenewalNotice7(_) => EmailKind::RenewalNotice7,
            Letter::SubscriptionExpired(_) => EmailKind::SubscriptionExpired,
            Letter::RenewalConfirmation(_) => EmailKind::RenewalConfirmation,
            Letter::CancellationConfirmation(_) => EmailKind::CancellationConfirmation,
            Letter::PaymentFailedReminder(_) => EmailKind::PaymentFailedReminder,
            Letter::PaymentFailedUrgent(_) => EmailKind::PaymentFailedUrgent,
            Letter::SubscriptionExpiredPaymentFailure(_) => EmailKind::SubscriptionExpiredPaymentFailure,
            Letter::InvoiceResend(_) => EmailKind::InvoiceResend,
            Letter::RefundConfirmation(_) => EmailKind::RefundConfirmation,
        }
    }

    /// The subject line; the renewal, expiration and cancellation ones as the product spec words them.
    pub fn subject(&self) -> String {
        match self {
            Letter::TierUpgradeConfirmation(l) => format!("Welcome to {}: your upgrade is confirmed", l.tier_label),
            Letter::PaymentReceipt(l) => format!("Payment receipt: {} subscription, {}", l.tier_label, l.amount),
            Letter::RenewalNotice30(l) => format!("Your {} subscription {}", l.tier_label, l.expiry),
            Letter::RenewalNotice7(l) => format!("Final reminder: Subscription {}", l.expiry),
            Letter::SubscriptionExpired(_) => "Your subscription has expired, downgraded to Free tier".to_owned(),
            Letter::RenewalConfirmation(_) => "Thank you! Your subscription has been renewed".to_owned(),
            Letter::CancellationConfirmation(_) => "Your subscription has been cancelled".to_owned(),
            Letter::PaymentFailedReminder(l) => {
                format!("Action needed: your {} payment did not go through", l.tier_label)
            }
            Letter::PaymentFailedUrgent(l) => format!("Urgent: your {} payment failed again", l.tier_label),
            Letter::SubscriptionExpiredPaymentFailure(_) => {
                "Your subscription has expired after failed payments, downgraded to Free tier".to_owned()
            }
            Letter::InvoiceResend(l) => format!("Your Power100 invoice {}", l.number),
            Letter::RefundConfirmation(l) => format!("Refund of {} on invoice {}", l.amount, l.number),
        }
    }
}

/// A letter with what frames it (greeting, footer link).
pub(super) struct Framed<'a> {
    pub company_name: &'a str,
    pub portal_url: &'a str,
    pub letter: &'a Letter,
}

impl<'a> Framed<'a> {
    pub fn text(&self) -> TextPart<'a> {
        TextPart {
            company_name: self.company_name,
            portal_url: self.portal_url,
            letter: self.letter,
        }
    }

    pub fn html(&self) -> HtmlPart<'a> {
        HtmlPart {
            company_name: self.company_name,
            portal_url: self.portal_url,
            subject: self.letter.subject(),
            letter: self.letter,
        }
    }
}

#[derive(Template)]
#[template(path = "email/letter.txt")]
pub(super) struct TextPart<'a> {
    company_name: &'a str,
    portal_url: &'a str,
    letter: &'a Letter,
}

#[derive(Template)]
#[template(path = "email/letter.html")]
pub(super) struct HtmlPart<'a> {
    company_name: &'a str,
    portal_url: &'a str,
    subject: String,
    letter: &'a Letter,
}
