//! A paid invoice: the payment recorded, the tier it grants (a billing start's first payment, a
//! scheduled change, a higher price now paid), the term rolled forward when it renews.

use super::{tier_event, BillingPlan, BillingRules};
use crate::billing::{payment_succeeded, InvoiceFacts, Renewal};
use crate::billing_start::{grant_billed_tier, BilledSubscription};
use crate::dates::CalendarDate;
use crate::events::{EventBody, PaymentSucceeded, SubscriptionRenewed, TierChanged};
use crate::history_and_audit::{Actor, AuditAction, HistoryEventType};
use crate::invoice::InvoiceRecord;
use crate::partner::{Note, Partner, PaymentStatus};
use crate::partner_change::PartnerChange;
use crate::stripe_subscription::StripeSubscriptionStatus;
use crate::tier_switch::apply_scheduled_change;
use jiff::Timestamp;

/// The plan of a paid invoice (`invoice`, its record).
pub(super) fn plan(
    partner: &Partner,
    facts: &InvoiceFacts,
    invoice: InvoiceRecord,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> BillingPlan {
    // The first payment of a billing start is what grants its tier.
    let invoice_tier = facts.price_id.as_deref().and_then(|p| rules.prices.tier_of(p));
    let granted = first_payment_grant(partner, facts, rules.calendar.today(now), now)
        .or_else(|| apply_scheduled_change(partner, invoice_tier, now))
        .or_else(|| paid_price_upgrade(partner, invoice_tier, facts, now));
    let (after, renewal) = payment_succeeded(granted.as_ref().unwrap_or(partner), facts, rules.calendar, now);
    let number = invoice.invoice_number.as_deref().unwrap_or(&invoice.stripe_invoice_id);
    let grant_note = granted.as_ref().map(|_| {
        let what = if partner.pending_billing.is_some() {
            "First invoice"
        } else {
            "Invoice"
        };
        format!(
            "{what} {number} paid: {} from this period",
            after.engagement_tier.label()
        )
    });
    let grant_event = granted.as_ref().map(|_| tier_event(partner, &after));
    let renewal_note = renewal.map(|term| {
        format!(
            "Renewed by payment of invoice {number}: term {} to {}",
            term.start, term.end
        )
    });
    let mut events: Vec<EventBody> = grant_event
        .map(|event_type| {
            EventBody::TierChanged(TierChanged::between(
                partner,
                &after,
                event_type,
                Actor::Stripe,
                grant_note.clone(),
            ))
        })
        .into_iter()
        .collect();
    events.extend(payment_events(facts, &invoice, &after, renewal));
    let note = grant_note.or(renewal_note).and_then(|text| Note::parse(&text).ok());
    BillingPlan {
        invoice: Some(invoice),
        change: Some(PartnerChange {
            stripe_action: None,
            after,
            history: grant_event.or(renewal.map(|_| HistoryEventType::Renewal)),
            note,
            audit_action: AuditAction::PaymentSucceeded,
            events,
        }),
        amount_paid: Some(facts.amount_paid),
    }
}

/// `PaymentSucceeded`, and `SubscriptionRenewed` when the payment rolled the term forward.
fn payment_events(
    facts: &InvoiceFacts,
    invoice: &InvoiceRecord,
    after: &Partner,
    renewal: Option<Renewal>,
) -> Vec<EventBody> {
    let tier = invoice.tier.unwrap_or(after.engagement_tier);
    let mut events = vec![EventBody::PaymentSucceeded(PaymentSucceeded {
        invoice_id: facts.invoice_id.clone(),
        invoice_number: facts.number.clone(),
        amount_paid_cents: facts.amount_paid,
        tier,
        tier_label: tier.label().to_owned(),
        period_start: invoice.period_start,
        period_end: invoice.period_end,
        paid_at: facts.paid_at.unwrap_or(facts.created),
        paid_through: after.paid_through.unwrap_or(invoice.period_end),
        hosted_invoice_url: facts.hosted_invoice_url.clone(),
        invoice_pdf_url: facts.invoice_pdf.clone(),
    })];
    if let Some(term) = renewal {
        events.push(EventBody::SubscriptionRenewed(SubscriptionRenewed {
            tier: after.engagement_tier,
            tier_label: after.engagement_tier.label().to_owned(),
            monthly_price_cents: after.engagement_tier.info().monthly_price_cents,
            subscription_start_date: term.start,
            subscription_end_date: term.end,
            renewed_by: Actor::Stripe,
        }));
    }
    events
}

/// A higher price set in Stripe (its dashboard, its customer portal), now paid: the higher tier is
/// granted by the money, from this period (the term stays).
fn paid_price_upgrade(
    partner: &Partner,
    invoice_tier: Option<crate::tier::Tier>,
    facts: &InvoiceFacts,
    now: Timestamp,
) -> Option<Partner> {
    let tier = invoice_tier.filter(|tier| *tier > partner.engagement_tier && partner.engagement_tier.is_paid())?;
    if !partner.has_live_stripe_subscription() || facts.amount_paid.get() <= 0 {
        return None;
    }
    let mut after = partner.clone();
    after.apply_tier(tier, now);
    after.last_paid_tier = Some(tier);
    after.updated_at = now;
    Some(after)
}

/// The partner once the first invoice of its billing start is paid: the claimed tier, granted. `None`
/// when no billing start waits for this invoice's subscription.
fn first_payment_grant(
    partner: &Partner,
    facts: &InvoiceFacts,
    today: CalendarDate,
    now: Timestamp,
) -> Option<Partner> {
    let pending = partner.pending_billing.as_ref()?;
    let subscription_id = facts.subscription_id.clone()?;
    if pending
        .subscription_id
        .as_ref()
        .is_some_and(|id| *id != subscription_id)
    {
        return None;
    }
    let subscription = BilledSubscription {
        customer_id: facts.customer_id.clone(),
        subscription_id,
        status: StripeSubscriptionStatus::Active,
        collection: pending.collection,
    };
    grant_billed_tier(partner, pending.tier, &subscription, PaymentStatus::Current, today, now)
}
