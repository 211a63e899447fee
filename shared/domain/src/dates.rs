//! Calendar dates in the business time zone.
//!
//! Subscription start and end are calendar dates, not instants. "Today" is the date of an instant in
//! the configured business time zone, so every function agrees on which day it is.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

pub use jiff::civil::Date as CalendarDate;

/// Earliest and latest years accepted for subscription dates: a typo such as `0202-01-01` is an error.
pub const MIN_YEAR: i16 = 2000;
pub const MAX_YEAR: i16 = 2199;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("must be a date as YYYY-MM-DD, got {0:?}")]
    Format(String),
    #[error("is not a calendar date: {0:?}")]
    NotADate(String),
    #[error("must be between {MIN_YEAR} and {MAX_YEAR}, got {0}")]
    OutOfRange(String),
}

/// Parses a strict `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let shown = || text.chars().take(40).collect::<String>();
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(DateError::Format(shown()));
    }
    let date: Date = text.parse().map_err(|_| DateError::NotADate(shown()))?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        return Err(DateError::OutOfRange(shown()));
    }
    Ok(date)
}

/// `date` plus whole months; a day past the end of the target month becomes its last day
/// (2028-02-29 + 12 months = 2029-02-28).
pub fn add_months(date: Date, months: i32) -> Option<Date> {
    date.checked_add(Span::new().try_months(months).ok()?).ok()
}

/// Whole days from `today` to `date` (negative when `date` is past).
pub fn days_until(today: Date, date: Date) -> i32 {
    (date - today).get_days()
}

/// The business calendar: which date an instant falls on.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
}

impl BusinessCalendar {
    pub fn new(time_zone: TimeZone) -> Self {
        Self { time_zone }
    }

    pub fn utc() -> Self {
        Self::new(TimeZone::UTC)
    }

    /// A calendar for an IANA zone name such as `America/New_York`.
    pub fn named(name: &str) -> Result<Self, jiff::Error> {
        Ok(Self::new(TimeZone::get(name)?))
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    pub fn today(&self, now: Timestamp) -> Date {
        now.to_zoned(self.time_zone.clone()).date()
    }

    /// The instant `date` begins in the business time zone (a term's end as Stripe's `cancel_at`).
    pub fn start_of(&self, date: Date) -> Result<Timestamp, jiff::Error> {
        Ok(date.to_zoned(self.time_zone.clone())?.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn parses_strict_iso_dates() {
        assert_eq!(parse_date("2026-11-24"), Ok(date(2026, 11, 24)));
        for bad in [
            "2026-11-24T00:00:00Z",
            "20261124",
            "2026-1-24",
            "24/11/2026",
            "",
            "2026-11-24 ",
        ] {
            assert!(matches!(parse_date(bad), Err(DateError::Format(_))), "{bad:?}");
        }
        assert!(matches!(parse_date("2026-02-30"), Err(DateError::NotADate(_))));
        assert!(matches!(parse_date("2026-13-01"), Err(DateError::NotADate(_))));
        assert!(matches!(parse_date("0202-01-01"), Err(DateError::OutOfRange(_))));
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        assert_eq!(add_months(date(2026, 11, 24), 12), Some(date(2027, 11, 24)));
        assert_eq!(add_months(date(2028, 2, 29), 12), Some(date(2029, 2, 28)));
        assert_eq!(add_months(date(2026, 1, 31), 1), Some(date(2026, 2, 28)));
    }

    #[test]
    fn today_follows_the_business_time_zone() {
        let instant: Timestamp = "2026-11-24T03:00:00Z".parse().unwrap();
        assert_eq!(BusinessCalendar::utc().today(instant), date(2026, 11, 24));
        let new_york = BusinessCalendar::named("America/New_York").unwrap();
        assert_eq!(new_york.today(instant), date(2026, 11, 23));
        assert_eq!(days_until(date(2026, 11, 24), date(2026, 12, 24)), 30);
        assert_eq!(days_until(date(2026, 11, 24), date(2026, 11, 23)), -1);
        assert_eq!(
            new_york.start_of(date(2027, 6, 1)).unwrap().to_string(),
            "2027-06-01T04:00:00Z"
        );
    }

    proptest! {
        #[test]
        fn a_parsed_date_prints_back_to_its_text(s in ".{0,16}|2[0-9]{3}-[01][0-9]-[0-3][0-9]") {
            if let Ok(date) = parse_date(&s) {
                prop_assert_eq!(date.to_string(), s);
                prop_assert!((MIN_YEAR..=MAX_YEAR).contains(&date.year()));
            }
        }

        #[test]
        fn every_valid_date_round_trips(y in MIN_YEAR..=MAX_YEAR, m in 1i8..=12, d in 1i8..=28) {
            let text = format!("{y:04}-{m:02}-{d:02}");
            prop_assert_eq!(parse_date(&text).unwrap().to_string(), text);
        }
    }
}
