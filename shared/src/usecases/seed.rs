//! Demo partners for local development: profiles plus tiers whose terms end relative to today.

use super::error::UseCaseError;
use super::partners::upsert_partner;
use super::subscription_settings::{change_subscription_settings, SettingsCommand};
use super::tier_change::{change_tier, ChangeTierCommand};
use crate::domain::dates::{add_months, BusinessCalendar};
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::{CompanyName, Email, Note, PartnerId, ProfileFields};
use crate::domain::pcr::{BasePcr, Momentum};
use crate::domain::subscription::SettingsChange;
use crate::domain::tier::Tier;
use crate::domain::tier_change::TierChangeRequest;
use crate::store::Store;
use jiff::{Span, Timestamp};
use serde::Deserialize;

/// One demo partner. Paid tiers get a 12-month term ending `end_in_days` from today (negative: past).
#[derive(Debug, Clone, Deserialize)]
pub struct DemoPartner {
    pub id: PartnerId,
    pub company_name: CompanyName,
    pub primary_email: Email,
    pub base_pcr_score: BasePcr,
    #[serde(default)]
    pub momentum_modifier: Momentum,
    pub engagement_tier: Tier,
    #[serde(default)]
    pub end_in_days: i32,
    #[serde(default = "renews")]
    pub auto_renewal: bool,
}

fn renews() -> bool {
    true
}

/// Loads the partners through the same use-cases the API uses; running it twice on one day changes nothing.
pub async fn load_demo_partners(
    store: &Store,
    calendar: &BusinessCalendar,
    partners: &[DemoPartner],
    now: Timestamp,
) -> Result<usize, UseCaseError> {
    let today = calendar.today(now);
    for demo in partners {
        let fields = ProfileFields {
            company_name: demo.company_name.clone(),
            primary_email: demo.primary_email.clone(),
            base_pcr_score: demo.base_pcr_score,
            momentum_modifier: demo.momentum_modifier,
        };
        upsert_partner(store, &demo.id, fields, Actor::System, now).await?;
        if demo.engagement_tier.is_paid() {
            let end = today
                .checked_add(Span::new().days(i64::from(demo.end_in_days)))
                .map_err(|e| UseCaseError::invalid("end_in_days", e))?;
            let start = add_months(end, -12).ok_or_else(|| UseCaseError::invalid("end_in_days", "out of range"))?;
            let request = TierChangeRequest {
                tier: demo.engagement_tier,
                start: Some(start),
                end: Some(end),
                reason: Note::parse_optional(Some("demo data")).ok().flatten(),
            };
            let command = ChangeTierCommand {
                partner_id: demo.id.clone(),
                request,
                expected_version: None,
                actor: Actor::System,
            };
            change_tier(store, None, calendar, command, now).await?;
        }
        if !demo.auto_renewal {
            let change = SettingsChange {
                auto_renewal: Some(false),
                subscription_notes: None,
            };
            let command = SettingsCommand {
                partner_id: demo.id.clone(),
                change,
                expected_version: None,
                actor: Actor::System,
            };
            change_subscription_settings(store, None, calendar, command, now).await?;
        }
    }
    Ok(partners.len())
}

/// The Stripe customer id the samples in events/ use for a demo partner.
pub fn demo_customer_id(partner: &DemoPartner) -> String {
    format!("cus_demo_{}", partner.id)
}

/// Links each demo partner to its sample Stripe customer (`cus_demo_<id>`), so that the signed
/// samples in events/ apply to the demo data; running it twice changes nothing.
pub async fn link_demo_customers(
    store: &Store,
    partners: &[DemoPartner],
    now: Timestamp,
) -> Result<usize, UseCaseError> {
    for demo in partners {
        store.link_customer(&demo_customer_id(demo), &demo.id, now).await?;
    }
    Ok(partners.len())
}
