//! How partners look in API answers: the stored fields plus what the admin frontend displays beside
//! them (tier label, badge colour, price, days left).

use crate::domain::dates::{days_until, CalendarDate};
use crate::domain::money::Cents;
use crate::domain::partner::Partner;
use crate::domain::pcr::PcrScore;
use crate::domain::tier::{BadgeColor, Tier};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PartnerView {
    #[serde(flatten)]
    pub partner: Partner,
    pub tier_label: &'static str,
    pub badge_color: BadgeColor,
    pub monthly_price_cents: Cents,
    pub monthly_price: String,
    /// Days from today to the subscription's end date (negative once past); absent without a term.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i32>,
    /// The PCR the partner would have on the free tier, for the "PCR boost" display.
    pub free_tier_pcr_score: PcrScore,
}

impl PartnerView {
    pub fn new(partner: Partner, today: CalendarDate) -> PartnerView {
        let info = partner.engagement_tier.info();
        PartnerView {
            tier_label: info.label,
            badge_color: info.badge_color,
            monthly_price_cents: info.monthly_price_cents,
            monthly_price: info.monthly_price_cents.to_string(),
            days_left: partner.subscription_end_date.map(|end| days_until(today, end)),
            free_tier_pcr_score: partner.pcr_at(Tier::Free),
            partner,
        }
    }
}
