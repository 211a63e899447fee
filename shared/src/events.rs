//! Domain events: what this system announces on the app bus (`source` [`SOURCE`], one detail-type
//! per variant). They are written to the outbox in the same transaction as the change they announce.

use crate::domain::dates::CalendarDate;
use crate::domain::money::Cents;
use crate::domain::partner::{Partner, PartnerId};
use crate::domain::pcr::{PcrDelta, PcrScore};
use crate::domain::records::{Actor, HistoryEventType};
use crate::domain::tier::{Multiplier, Tier};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const SOURCE: &str = "power100.partner-payments";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "detail_type", content = "detail")]
pub enum DomainEvent {
    TierChanged(TierChanged),
    PartnerProfileSynced(PartnerProfileSynced),
}

impl DomainEvent {
    pub fn event_id(&self) -> &str {
        match self {
            DomainEvent::TierChanged(e) => &e.event_id,
            DomainEvent::PartnerProfileSynced(e) => &e.event_id,
        }
    }

    pub fn partner_id(&self) -> &PartnerId {
        match self {
            DomainEvent::TierChanged(e) => &e.partner_id,
            DomainEvent::PartnerProfileSynced(e) => &e.partner_id,
        }
    }

    /// The EventBridge detail-type.
    pub fn detail_type(&self) -> &'static str {
        match self {
            DomainEvent::TierChanged(_) => "TierChanged",
            DomainEvent::PartnerProfileSynced(_) => "PartnerProfileSynced",
        }
    }

    /// The EventBridge detail, as JSON.
    pub fn detail_json(&self) -> Result<String, serde_json::Error> {
        match self {
            DomainEvent::TierChanged(e) => serde_json::to_string(e),
            DomainEvent::PartnerProfileSynced(e) => serde_json::to_string(e),
        }
    }
}

/// A partner's tier changed. The scoring system recalculates on it; the email sender confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierChanged {
    pub event_id: String,
    pub partner_id: PartnerId,
    pub company_name: String,
    pub primary_email: String,
    pub change: HistoryEventType,
    pub from_tier: Tier,
    pub to_tier: Tier,
    pub to_tier_label: String,
    pub multiplier_before: Multiplier,
    pub multiplier_after: Multiplier,
    pub pcr_before: PcrScore,
    pub pcr_after: PcrScore,
    pub pcr_delta: PcrDelta,
    pub monthly_price_cents: Cents,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_start_date: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_end_date: Option<CalendarDate>,
    pub changed_by: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub partner_version: u64,
    pub occurred_at: Timestamp,
}

/// The TPE backend synced a partner's profile (name, email, base PCR, momentum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerProfileSynced {
    pub event_id: String,
    pub partner_id: PartnerId,
    pub created: bool,
    pub tier: Tier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcr_before: Option<PcrScore>,
    pub pcr_after: PcrScore,
    pub partner_version: u64,
    pub occurred_at: Timestamp,
}

impl TierChanged {
    pub fn new(
        event_id: String,
        before: &Partner,
        after: &Partner,
        change: HistoryEventType,
        changed_by: Actor,
        reason: Option<String>,
    ) -> TierChanged {
        TierChanged {
            event_id,
            partner_id: after.id.clone(),
            company_name: after.company_name.to_string(),
            primary_email: after.primary_email.to_string(),
            change,
            from_tier: before.engagement_tier,
            to_tier: after.engagement_tier,
            to_tier_label: after.engagement_tier.label().to_owned(),
            multiplier_before: before.payment_multiplier,
            multiplier_after: after.payment_multiplier,
            pcr_before: before.final_pcr_score,
            pcr_after: after.final_pcr_score,
            pcr_delta: before.final_pcr_score.delta_to(after.final_pcr_score),
            monthly_price_cents: after.engagement_tier.info().monthly_price_cents,
            subscription_start_date: after.subscription_start_date,
            subscription_end_date: after.subscription_end_date,
            changed_by,
            reason,
            partner_version: after.version,
            occurred_at: after.updated_at,
        }
    }
}
