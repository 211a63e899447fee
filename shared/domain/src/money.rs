//! Money as integer cents. Never a float.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of US dollars in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub const fn from_dollars(dollars: i64) -> Cents {
        Cents(dollars * 100)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Cents {
    /// `$3,600.00`, `-$12.05`: the dollar string shown beside cent amounts in the API.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let dollars = (abs / 100).to_string();
        let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
        for (i, digit) in dollars.chars().enumerate() {
            if i > 0 && (dollars.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(f, "{sign}${grouped}.{:02}", abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_dollars_with_grouping() {
        assert_eq!(Cents(360_000).to_string(), "$3,600.00");
        assert_eq!(Cents(600_000).to_string(), "$6,000.00");
        assert_eq!(Cents(0).to_string(), "$0.00");
        assert_eq!(Cents(5).to_string(), "$0.05");
        assert_eq!(Cents(-1_205).to_string(), "-$12.05");
        assert_eq!(Cents(12_345_678_901).to_string(), "$123,456,789.01");
        assert_eq!(Cents(i64::MIN).to_string(), "-$92,233,720,368,547,758.08");
    }

    proptest! {
        #[test]
        fn formatted_amount_parses_back_to_the_same_cents(c in any::<i64>()) {
            let s = Cents(c).to_string();
            let negative = s.starts_with('-');
            let digits: String = s.chars().filter(|ch| ch.is_ascii_digit()).collect();
            let magnitude: u64 = digits.parse().unwrap();
            prop_assert_eq!(magnitude, c.unsigned_abs());
            prop_assert_eq!(negative, c < 0);
        }
    }
}
