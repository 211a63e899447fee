//! The tier catalog: what each engagement tier costs, multiplies and shows.

use super::money::Cents;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A partner's engagement tier, as stored in `engagement_tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Gold,
    Platinum,
}

/// The colour of a tier's badge in the admin frontend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BadgeColor {
    Gray,
    Gold,
    Purple,
}

/// A PCR multiplier in tenths (15 = 1.5x), so that it compares and computes exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Multiplier(u32);

impl Multiplier {
    pub const fn tenths(self) -> u32 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl Serialize for Multiplier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl fmt::Display for Multiplier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}x", self.0 / 10, self.0 % 10)
    }
}

/// Everything the product says about one tier.
#[derive(Debug, Clone, Serialize)]
pub struct TierInfo {
    pub tier: Tier,
    pub label: &'static str,
    pub monthly_price_cents: Cents,
    pub multiplier: Multiplier,
    /// Months a paid subscription commits to; 0 for free.
    pub commitment_months: u32,
    pub features: &'static [&'static str],
    pub badge_color: BadgeColor,
}

const FREE: TierInfo = TierInfo {
    tier: Tier::Free,
    label: "Free Tier",
    monthly_price_cents: Cents::ZERO,
    multiplier: Multiplier(15),
    commitment_months: 0,
    features: &["Basic profile", "Standard visibility"],
    badge_color: BadgeColor::Gray,
};

const GOLD: TierInfo = TierInfo {
    tier: Tier::Gold,
    label: "Power Gold",
    monthly_price_cents: Cents::from_dollars(3_600),
    multiplier: Multiplier(25),
    commitment_months: 12,
    features: &[
        "Enhanced content package",
        "Deeper due diligence",
        "PCR boost (+4 points at base 80)",
    ],
    badge_color: BadgeColor::Gold,
};

const PLATINUM: TierInfo = TierInfo {
    tier: Tier::Platinum,
    label: "Power Platinum",
    monthly_price_cents: Cents::from_dollars(6_000),
    multiplier: Multiplier(50),
    commitment_months: 12,
    features: &[
        "Premium transparency package",
        "Maximum PCR boost (+14 points at base 80)",
        "Priority placement",
    ],
    badge_color: BadgeColor::Purple,
};

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Free, Tier::Gold, Tier::Platinum];

    pub const fn info(self) -> &'static TierInfo {
        match self {
            Tier::Free => &FREE,
            Tier::Gold => &GOLD,
            Tier::Platinum => &PLATINUM,
        }
    }

    /// The value stored in the database and used in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Gold => "gold",
            Tier::Platinum => "platinum",
        }
    }

    pub const fn is_paid(self) -> bool {
        !matches!(self, Tier::Free)
    }

    pub const fn label(self) -> &'static str {
        self.info().label
    }

    pub const fn multiplier(self) -> Multiplier {
        self.info().multiplier
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tier {0:?}: expected one of free, gold, platinum")]
pub struct UnknownTier(pub String);

impl FromStr for Tier {
    type Err = UnknownTier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Tier::Free),
            "gold" => Ok(Tier::Gold),
            "platinum" => Ok(Tier::Platinum),
            other => Err(UnknownTier(other.chars().take(40).collect())),
        }
    }
}

/// The catalog in display order.
pub fn catalog() -> [&'static TierInfo; 3] {
    Tier::ALL.map(Tier::info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_matches_the_product() {
        let [free, gold, platinum] = catalog();
        assert_eq!(
            (free.label, free.monthly_price_cents, free.multiplier.tenths()),
            ("Free Tier", Cents(0), 15)
        );
        assert_eq!(
            (gold.label, gold.monthly_price_cents, gold.multiplier.tenths()),
            ("Power Gold", Cents(360_000), 25)
        );
        assert_eq!(
            (
                platinum.label,
                platinum.monthly_price_cents,
                platinum.multiplier.tenths()
            ),
            ("Power Platinum", Cents(600_000), 50)
        );
        assert_eq!(
            [
                free.commitment_months,
                gold.commitment_months,
                platinum.commitment_months
            ],
            [0, 12, 12]
        );
        assert_eq!(
            [free.badge_color, gold.badge_color, platinum.badge_color],
            [BadgeColor::Gray, BadgeColor::Gold, BadgeColor::Purple]
        );
        assert!(catalog().iter().all(|t| !t.features.is_empty()));
    }

    #[test]
    fn tiers_parse_from_their_database_values_only() {
        for tier in Tier::ALL {
            assert_eq!(tier.as_str().parse::<Tier>(), Ok(tier));
        }
        for bad in ["", "Gold", "GOLD", "silver", " gold", "power gold"] {
            assert!(bad.parse::<Tier>().is_err(), "{bad:?} parsed");
        }
        assert!(Tier::Free < Tier::Gold && Tier::Gold < Tier::Platinum);
        assert!(!Tier::Free.is_paid() && Tier::Gold.is_paid() && Tier::Platinum.is_paid());
    }

    #[test]
    fn multipliers_display_as_the_frontend_shows_them() {
        assert_eq!(Tier::Free.multiplier().to_string(), "1.5x");
        assert_eq!(Tier::Platinum.multiplier().to_string(), "5.0x");
        assert_eq!(
            serde_json::to_value(Tier::Gold.multiplier()).unwrap(),
            serde_json::json!(2.5)
        );
    }
}
