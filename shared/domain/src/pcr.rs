//! The PCR rule, in exact integer arithmetic.
//!
//! `final = clamp(0.80 * base + 20 * multiplier / 5 + momentum, 0, 105)`, rounded to 2 decimals.
//! Scores are held in hundredths of a point; the sum is formed in thousandths so that the only
//! rounding is the final one (half away from zero), and the same inputs always give the same score.

use super::tier::{Multiplier, Tier};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A PCR score in hundredths of a point (7400 = 74.00). Serialized as a JSON number (74.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PcrScore(i64);

/// The difference between two scores, in hundredths (+400 = +4.00 points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PcrDelta(i64);

/// The base PCR that scoring computes, 0 to 100 with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BasePcr(i64);

/// The momentum modifier that scoring sets: -3, 0 or +5 points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Momentum {
    Declining,
    #[default]
    Steady,
    Rising,
}

pub const MAX_FINAL_HUNDREDTHS: i64 = 10_500;
pub const MAX_BASE_HUNDREDTHS: i64 = 10_000;

/// The final PCR for a base, tier multiplier and momentum.
pub fn final_pcr(base: BasePcr, multiplier: Multiplier, momentum: Momentum) -> PcrScore {
    let thousandths = base.0 * 8 + i64::from(multiplier.tenths()) * 400 + i64::from(momentum.points()) * 1_000;
    let clamped = thousandths.clamp(0, MAX_FINAL_HUNDREDTHS * 10);
    PcrScore((clamped + 5) / 10)
}

/// The final PCR a partner would have at `tier`.
pub fn final_pcr_at(base: BasePcr, tier: Tier, momentum: Momentum) -> PcrScore {
    final_pcr(base, tier.multiplier(), momentum)
}

impl PcrScore {
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn delta_to(self, after: PcrScore) -> PcrDelta {
        PcrDelta(after.0 - self.0)
    }
}

impl PcrDelta {
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("must be a number from 0 to 100, got {0}")]
    OutOfRange(String),
    #[error("must have at most two decimals, got {0}")]
    TooPrecise(String),
    #[error("must be a number, got {0:?}")]
    NotANumber(String),
    #[error("must be -3, 0 or 5, got {0}")]
    BadMomentum(String),
}

impl BasePcr {
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub fn from_hundredths(h: i64) -> Result<BasePcr, ScoreError> {
        if (0..=MAX_BASE_HUNDREDTHS).contains(&h) {
            Ok(BasePcr(h))
        } else {
            Err(ScoreError::OutOfRange(format!("{}", h as f64 / 100.0)))
        }
    }

    /// Parses a JSON number (`80`, `72.5`).
    pub fn parse_f64(value: f64) -> Result<BasePcr, ScoreError> {
        let h = hundredths_of(value)?;
        Self::from_hundredths(h)
    }

    /// Parses a decimal string (`"80.00"`, as PostgreSQL NUMERIC columns arrive from the TPE backend).
    pub fn parse_str(value: &str) -> Result<BasePcr, ScoreError> {
        let trimmed = value.trim();
        let is_decimal = !trimmed.is_empty()
            && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            && trimmed.len() <= 20;
        let number: f64 = if is_decimal { trimmed.parse().ok() } else { None }
            .ok_or_else(|| ScoreError::NotANumber(value.chars().take(20).collect()))?;
        Self::parse_f64(number)
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

fn hundredths_of(value: f64) -> Result<i64, ScoreError> {
    if !value.is_finite() {
        return Err(ScoreError::NotANumber(value.to_string()));
    }
    if !(0.0..=100.0).contains(&value) {
        return Err(ScoreError::OutOfRange(value.to_string()));
    }
    let scaled = value * 100.0;
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-6 {
        return Err(ScoreError::TooPrecise(value.to_string()));
    }
    Ok(rounded as i64)
}

impl Momentum {
    pub const fn points(self) -> i32 {
        match self {
            Momentum::Declining => -3,
            Momentum::Steady => 0,
            Momentum::Rising => 5,
        }
    }

    pub fn from_points(points: i64) -> Result<Momentum, ScoreError> {
        match points {
            -3 => Ok(Momentum::Declining),
            0 => Ok(Momentum::Steady),
            5 => Ok(Momentum::Rising),
            other => Err(ScoreError::BadMomentum(other.to_string())),
        }
    }
}

impl fmt::Display for PcrScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for PcrDelta {
    /// `+4 points`, `-14 points`, `+0.5 points`: how the admin frontend words a PCR impact.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "+" };
        let abs = self.0.unsigned_abs();
        let fraction = abs % 100;
        if fraction == 0 {
            write!(f, "{sign}{} points", abs / 100)
        } else {
            let decimals = format!("{fraction:02}");
            write!(f, "{sign}{}.{} points", abs / 100, decimals.trim_end_matches('0'))
        }
    }
}

macro_rules! hundredths_as_json_number {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_f64(self.as_f64())
            }
        }
    };
}
hundredths_as_json_number!(PcrScore);
hundredths_as_json_number!(PcrDelta);
hundredths_as_json_number!(BasePcr);

impl<'de> Deserialize<'de> for PcrScore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if !value.is_finite() || !(0.0..=105.0).contains(&value) {
            return Err(serde::de::Error::custom("PCR score out of range"));
        }
        Ok(PcrScore((value * 100.0).round() as i64))
    }
}

impl<'de> Deserialize<'de> for PcrDelta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if !value.is_finite() || value.abs() > 105.0 {
            return Err(serde::de::Error::custom("PCR delta out of range"));
        }
        Ok(PcrDelta((value * 100.0).round() as i64))
    }
}

impl<'de> Deserialize<'de> for BasePcr {
    /// Accepts a number or a decimal string.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NumberOrString {
            Number(f64),
            String(String),
        }
        match NumberOrString::deserialize(d)? {
            NumberOrString::Number(n) => BasePcr::parse_f64(n),
            NumberOrString::String(s) => BasePcr::parse_str(&s),
        }
        .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Momentum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.points())
    }
}

impl<'de> Deserialize<'de> for Momentum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if value.fract() != 0.0 || !value.is_finite() {
            return Err(serde::de::Error::custom(ScoreError::BadMomentum(value.to_string())));
        }
        Momentum::from_points(value as i64).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base(points: i64) -> BasePcr {
        BasePcr::from_hundredths(points * 100).unwrap()
    }

    #[test]
    fn pins_at_base_80() {
        let at = |tier| final_pcr_at(base(80), tier, Momentum::Steady).hundredths();
        assert_eq!(at(Tier::Free), 7_000);
        assert_eq!(at(Tier::Gold), 7_400);
        assert_eq!(at(Tier::Platinum), 8_400);
    }

    #[test]
    fn free_to_gold_at_base_65_is_plus_four() {
        let free = final_pcr_at(base(65), Tier::Free, Momentum::Steady);
        let gold = final_pcr_at(base(65), Tier::Gold, Momentum::Steady);
        assert_eq!(free.delta_to(gold).hundredths(), 400);
        assert_eq!(free.delta_to(gold).to_string(), "+4 points");
    }

    #[test]
    fn momentum_and_clamping() {
        assert_eq!(final_pcr_at(base(80), Tier::Gold, Momentum::Rising).hundredths(), 7_900);
        assert_eq!(
            final_pcr_at(base(80), Tier::Gold, Momentum::Declining).hundredths(),
            7_100
        );
        assert_eq!(
            final_pcr_at(base(100), Tier::Platinum, Momentum::Rising).hundredths(),
            10_500
        );
        assert_eq!(final_pcr_at(base(0), Tier::Free, Momentum::Declining).hundredths(), 300);
    }

    #[test]
    fn rounds_half_away_from_zero_at_two_decimals() {
        // 0.8 * 72.33 = 57.864 -> +6 (free) = 63.864 -> 63.86
        let b = BasePcr::parse_f64(72.33).unwrap();
        assert_eq!(final_pcr_at(b, Tier::Free, Momentum::Steady).to_string(), "63.86");
        // 0.8 * 72.31 = 57.848 -> 63.848 -> 63.85
        let b = BasePcr::parse_f64(72.31).unwrap();
        assert_eq!(final_pcr_at(b, Tier::Free, Momentum::Steady).to_string(), "63.85");
        // 0.8 * 0.01 = 0.008 -> 6.008 -> 6.01
        let b = BasePcr::parse_f64(0.01).unwrap();
        assert_eq!(final_pcr_at(b, Tier::Free, Momentum::Steady).to_string(), "6.01");
    }

    #[test]
    fn base_parsing_accepts_numbers_and_decimal_strings() {
        assert_eq!(BasePcr::parse_f64(80.0).unwrap().hundredths(), 8_000);
        assert_eq!(BasePcr::parse_str("72.50").unwrap().hundredths(), 7_250);
        assert_eq!(BasePcr::parse_f64(80.1).unwrap().hundredths(), 8_010);
        assert!(matches!(BasePcr::parse_f64(100.01), Err(ScoreError::OutOfRange(_))));
        assert!(matches!(BasePcr::parse_f64(-1.0), Err(ScoreError::OutOfRange(_))));
        assert!(matches!(BasePcr::parse_f64(80.001), Err(ScoreError::TooPrecise(_))));
        assert!(matches!(BasePcr::parse_f64(f64::NAN), Err(ScoreError::NotANumber(_))));
        assert!(matches!(BasePcr::parse_str("eighty"), Err(ScoreError::NotANumber(_))));
        assert!(matches!(BasePcr::parse_str("1e2"), Err(ScoreError::NotANumber(_))));
        assert_eq!(Momentum::from_points(5), Ok(Momentum::Rising));
        assert!(Momentum::from_points(2).is_err());
        assert!(serde_json::from_str::<Momentum>("-3").is_ok());
        assert!(serde_json::from_str::<Momentum>("4.5").is_err());
    }

    #[test]
    fn scores_serialize_as_json_numbers() {
        let score = final_pcr_at(base(80), Tier::Gold, Momentum::Steady);
        assert_eq!(serde_json::to_value(score).unwrap(), serde_json::json!(74.0));
        let back: PcrScore = serde_json::from_value(serde_json::json!(63.86)).unwrap();
        assert_eq!(back.hundredths(), 6_386);
    }

    fn any_momentum() -> impl Strategy<Value = Momentum> {
        prop_oneof![
            Just(Momentum::Declining),
            Just(Momentum::Steady),
            Just(Momentum::Rising)
        ]
    }

    fn any_tier() -> impl Strategy<Value = Tier> {
        prop_oneof![Just(Tier::Free), Just(Tier::Gold), Just(Tier::Platinum)]
    }

    proptest! {
        #[test]
        fn final_pcr_stays_in_range(b in 0..=MAX_BASE_HUNDREDTHS, tier in any_tier(), m in any_momentum()) {
            let score = final_pcr_at(BasePcr::from_hundredths(b).unwrap(), tier, m);
            prop_assert!((0..=MAX_FINAL_HUNDREDTHS).contains(&score.hundredths()));
        }

        #[test]
        fn a_higher_tier_never_lowers_the_score(b in 0..=MAX_BASE_HUNDREDTHS, m in any_momentum()) {
            let b = BasePcr::from_hundredths(b).unwrap();
            let [free, gold, platinum] = Tier::ALL.map(|t| final_pcr_at(b, t, m));
            prop_assert!(free <= gold && gold <= platinum);
        }

        #[test]
        fn matches_the_float_formula_within_rounding(b in 0..=MAX_BASE_HUNDREDTHS, tier in any_tier(), m in any_momentum()) {
            let base = b as f64 / 100.0;
            let expected = (0.80 * base + 20.0 * tier.multiplier().as_f64() / 5.0 + f64::from(m.points())).clamp(0.0, 105.0);
            let got = final_pcr_at(BasePcr::from_hundredths(b).unwrap(), tier, m).as_f64();
            prop_assert!((got - expected).abs() <= 0.005 + 1e-9, "got {got}, expected {expected}");
        }

        #[test]
        fn a_parsed_base_prints_back_to_itself(s in "[0-9.-]{0,8}|.{0,30}") {
            if let Ok(base) = BasePcr::parse_str(&s) {
                let printed = format!("{}.{:02}", base.hundredths() / 100, base.hundredths() % 100);
                prop_assert_eq!(BasePcr::parse_str(&printed).unwrap(), base);
                prop_assert!((base.as_f64() - s.trim().parse::<f64>().unwrap()).abs() < 1e-6);
            }
        }

        #[test]
        fn base_parser_accepts_every_two_decimal_value(h in 0..=MAX_BASE_HUNDREDTHS) {
            let text = format!("{}.{:02}", h / 100, h % 100);
            prop_assert_eq!(BasePcr::parse_str(&text).unwrap().hundredths(), h);
        }
    }
}
