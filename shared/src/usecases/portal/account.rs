//! What a partner sees of its own account: tier, benefits, PCR, subscription dates, payment status,
//! the card on file (brand and last four from Stripe's copy, never more), any scheduled change; and the
//! tier cards with the PCR the partner would have on each.

use super::super::cards::{card_on_file, CardLookup};
use super::super::error::not_found;
use super::super::error::UseCaseError;
use crate::domain::dates::{days_until, BusinessCalendar, CalendarDate};
use crate::domain::money::Cents;
use crate::domain::partner::{BillingMode, Partner, PartnerId, PaymentStatus, SubscriptionStatus};
use crate::domain::pcr::{BasePcr, Momentum, PcrScore};
use crate::domain::subscription::CancelledBy;
use crate::domain::tier::{self, Multiplier, Tier};
use crate::domain::tier_switch::ScheduledTierChange;
use crate::store::Store;
use crate::stripe::client::{CardSummary, StripeApi};
use jiff::Timestamp;
use serde::Serialize;

/// The partner's own account, as the portal shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    pub partner_id: PartnerId,
    pub company_name: String,
    pub tier: Tier,
    pub tier_label: &'static str,
    pub benefits: &'static [&'static str],
    pub payment_multiplier: Multiplier,
    pub pcr: PcrView,
    pub subscription: SubscriptionView,
    /// `stripe` while a Stripe subscription bills the partner, else `manual`.
    pub billing: BillingMode,
    pub payment_status: Option<PaymentStatus>,
    pub last_payment_date: Option<CalendarDate>,
    pub last_payment_amount_cents: Option<Cents>,
    pub last_payment_amount: Option<String>,
    pub payment_method: PaymentMethodView,
    /// A cheaper tier billed from the next period (the current tier holds until then).
    pub scheduled_change: Option<ScheduledTierChange>,
    /// An upgrade waiting for its payment.
    pub pending_upgrade: Option<PendingUpgrade>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcrView {
    pub base: BasePcr,
    pub momentum: Momentum,
    /// The score the partner's tier gives it.
    pub score: PcrScore,
    /// What the score would be on the free tier.
    pub free_tier_score: PcrScore,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionView {
    pub status: SubscriptionStatus,
    pub start_date: Option<CalendarDate>,
    pub end_date: Option<CalendarDate>,
    /// Days from today to the end date (negative once past).
    pub days_left: Option<i32>,
    pub auto_renewal: bool,
    /// The day the term renews, while it renews.
    pub renews_on: Option<CalendarDate>,
    /// The last day of access of a cancelled term.
    pub access_until: Option<CalendarDate>,
    pub cancellation_date: Option<CalendarDate>,
    /// Who cancelled a cancelled term: the partner may withdraw only its own (`partner`).
    pub cancelled_by: Option<CancelledBy>,
    pub paused_until: Option<CalendarDate>,
}

/// The card on file, as far as Stripe says (through the table's copy).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PaymentMethodView {
    OnFile {
        card: CardSummary,
    },
    /// No card saved (or no Stripe customer yet).
    None,
    /// Stripe did not answer: the card is unknown right now, not absent.
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingUpgrade {
    pub tier: Tier,
    pub since: Timestamp,
}

impl AccountView {
    fn new(partner: &Partner, payment_method: PaymentMethodView, today: CalendarDate) -> AccountView {
        let info = partner.engagement_tier.info();
        let renews = partner.auto_renewal && partner.subscription_status == SubscriptionStatus::Active;
        let cancelled = partner.subscription_status == SubscriptionStatus::Cancelled;
        AccountView {
            partner_id: partner.id.clone(),
            company_name: partner.company_name.to_string(),
            tier: partner.engagement_tier,
            tier_label: info.label,
            benefits: info.features,
            payment_multiplier: partner.payment_multiplier,
            pcr: PcrView {
                base: partner.base_pcr_score,
                momentum: partner.momentum_modifier,
                score: partner.final_pcr_score,
                free_tier_score: partner.pcr_at(Tier::Free),
            },
            subscription: SubscriptionView {
                status: partner.subscription_status,
                start_date: partner.subscription_start_date,
                end_date: partner.subscription_end_date,
                days_left: partner.subscription_end_date.map(|end| days_until(today, end)),
                auto_renewal: partner.auto_renewal,
                renews_on: partner.subscription_end_date.filter(|_| renews),
                access_until: partner.subscription_end_date.filter(|_| cancelled),
                cancellation_date: partner.cancellation_date,
                cancelled_by: CancelledBy::of(partner),
                paused_until: partner.paused_until,
            },
            billing: partner.billing_mode(),
            payment_status: partner.payment_status,
            last_payment_date: partner.last_payment_date,
            last_payment_amount_cents: partner.last_payment_amount,
            last_payment_amount: partner.last_payment_amount.map(|c| c.to_string()),
            payment_method,
            scheduled_change: partner.scheduled_tier_change,
            pending_upgrade: partner.pending_billing.as_ref().map(|p| PendingUpgrade {
                tier: p.tier,
                since: p.requested_at,
            }),
        }
    }

    /// The view of `partner` without asking Stripe (after a change, where the card did not move).
    pub fn without_card(partner: &Partner, today: CalendarDate) -> AccountView {
        AccountView::new(partner, PaymentMethodView::Unavailable, today)
    }
}

/// The partner's account; the card on file is the table's copy (`usecases::cards`): Stripe is asked
/// (one or two reads) only when it reported a change since the last view, or there was none yet.
/// Stripe not answering leaves the card `unavailable`, not the page.
#[tracing::instrument(skip(store, stripe, calendar), err(Display))]
pub async fn my_account(
    store: &Store,
    stripe: Option<&StripeApi>,
    calendar: &BusinessCalendar,
    partner_id: &PartnerId,
    now: Timestamp,
) -> Result<AccountView, UseCaseError> {
    let partner = store
        .get_partner(partner_id)
        .await?
        .ok_or_else(|| not_found(partner_id))?;
    let payment_method = match Box::pin(card_on_file(store, stripe, &partner)).await? {
        CardLookup::OnFile(card) => PaymentMethodView::OnFile { card },
        CardLookup::NoCard => PaymentMethodView::None,
        CardLookup::Unknown => PaymentMethodView::Unavailable,
    };
    Ok(AccountView::new(&partner, payment_method, calendar.today(now)))
}

/// One tier as the portal offers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierCard {
    pub tier: Tier,
    pub label: &'static str,
    pub monthly_price_cents: Cents,
    pub monthly_price: String,
    pub commitment_months: u32,
    pub benefits: &'static [&'static str],
    pub payment_multiplier: Multiplier,
    /// The PCR the partner would have on this tier.
    pub your_pcr: PcrScore,
    pub current: bool,
    /// Whether the portal's upgrade can take the partner there.
    pub can_upgrade: bool,
}

/// The tier cards for `partner_id`.
#[tracing::instrument(skip(store), err(Display))]
pub async fn tier_cards(store: &Store, partner_id: &PartnerId) -> Result<Vec<TierCard>, UseCaseError> {
    let partner = store
        .get_partner(partner_id)
        .await?
        .ok_or_else(|| not_found(partner_id))?;
    Ok(tier::catalog()
        .into_iter()
        .map(|info| TierCard {
            tier: info.tier,
            label: info.label,
            monthly_price_cents: info.monthly_price_cents,
            monthly_price: info.monthly_price_cents.to_string(),
            commitment_months: info.commitment_months,
            benefits: info.features,
            payment_multiplier: info.multiplier,
            your_pcr: partner.pcr_at(info.tier),
            current: partner.engagement_tier == info.tier,
            can_upgrade: info.tier.is_paid() && info.tier > partner.engagement_tier,
        })
        .collect())
}
