//! Per-partner limits on the portal's payment requests: a fixed one-minute window per partner,
//! counted in the table so that the limit holds across Lambda instances.

use jiff::Timestamp;

/// The window a request at `now` counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The window's first second (a whole minute).
    pub start: Timestamp,
    /// Seconds from `now` until the next window opens (1 to 60): the `Retry-After` of a refusal.
    pub retry_after_seconds: u32,
}

pub const WINDOW_SECONDS: i64 = 60;

/// The window of `now`.
pub fn window_of(now: Timestamp) -> Window {
    let second = now.as_second();
    let start = second.div_euclid(WINDOW_SECONDS) * WINDOW_SECONDS;
    let retry_after = start + WINDOW_SECONDS - second;
    Window {
        start: Timestamp::from_second(start).unwrap_or(now),
        retry_after_seconds: u32::try_from(retry_after).unwrap_or(60),
    }
}

/// Whether one more request fits after `count` in the window.
pub fn allows(count: u32, limit: u32) -> bool {
    count < limit
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn windows_are_whole_minutes() {
        let w = window_of("2026-11-25T10:00:42.5Z".parse().unwrap());
        assert_eq!(w.start, "2026-11-25T10:00:00Z".parse().unwrap());
        assert_eq!(w.retry_after_seconds, 18);
        assert!(allows(9, 10));
        assert!(!allows(10, 10));
    }

    proptest! {
        #[test]
        fn a_window_holds_its_instant_and_ends_within_a_minute(second in 0i64..4_000_000_000) {
            let now = Timestamp::from_second(second).unwrap();
            let w = window_of(now);
            prop_assert!(w.start <= now);
            prop_assert!((1..=60).contains(&w.retry_after_seconds));
            prop_assert_eq!(w.start.as_second() % WINDOW_SECONDS, 0);
            prop_assert_eq!(w.start.as_second() + WINDOW_SECONDS, now.as_second() + i64::from(w.retry_after_seconds));
        }
    }
}
