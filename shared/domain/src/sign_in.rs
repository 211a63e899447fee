//! Partner sign-in by an email link (the way Stripe's customer portal signs customers in): a single-use
//! code, valid for 15 minutes, mailed in a link to the portal page; the table keeps only its hash. The
//! code is exchanged once for a partner token valid for one hour. Pure rules here; the use-cases in
//! `usecases::portal::sign_in` store and send, and `crate::sign_in_codes` (in `shared`) makes and hashes
//! the codes.
//!
//! Limits: at most [`LINKS_PER_ADDRESS`] links per address every [`ADDRESS_WINDOW_SECONDS`] (beyond,
//! the same answer and no mail: a flood sends no mail, and links already sent keep working, so a real
//! partner is not locked out), and [`REQUESTS_PER_CLIENT`] sign-in requests or code exchanges per client
//! (source address) a minute (beyond, 429).

use jiff::{SignedDuration, Timestamp};

/// How long a mailed code works.
pub const CODE_LIFETIME: SignedDuration = SignedDuration::from_mins(15);
/// How long the token a code is exchanged for lives.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(1);
/// Links mailed to one address per window.
pub const LINKS_PER_ADDRESS: u32 = 3;
pub const ADDRESS_WINDOW_SECONDS: i64 = 15 * 60;
/// Sign-in requests (and, separately, code exchanges) one client may make a minute.
pub const REQUESTS_PER_CLIENT: u32 = 10;
pub const CLIENT_WINDOW_SECONDS: i64 = 60;
/// A sign-in request is answered no sooner than this after it arrived, whatever happened: the time
/// says nothing about whether the address is a partner's.
pub const ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(800);
/// Random bytes in a code (256 bits): 43 characters of base64url.
pub const CODE_BYTES: usize = 32;
pub const CODE_LENGTH: usize = 43;

/// The one answer to every sign-in request.
pub const SIGN_IN_ANSWER: &str =
    "If this address belongs to a Power100 partner, a sign-in link is on its way to it. The link works once, for 15 minutes.";

/// An email address as typed, made comparable: trimmed and lowercased; `None` when it is not an address.
pub fn normalize_email(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && email.len() <= 254
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

/// Whether `text` has a code's shape (43 base64url characters).
pub fn is_code(text: &str) -> bool {
    text.len() == CODE_LENGTH
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The link in the email: the portal page with the code in the fragment, which browsers never send to a
/// server (no code in any access log).
pub fn sign_in_link(portal_url: &str, code: &str) -> String {
    let base = portal_url.split('#').next().unwrap_or(portal_url);
    format!("{base}#code={code}")
}

/// The start of the fixed window of `seconds` that `now` falls in, and the seconds until the next.
pub fn window(now: Timestamp, seconds: i64) -> (i64, u32) {
    let second = now.as_second();
    let start = second.div_euclid(seconds) * seconds;
    (start, u32::try_from(start + seconds - second).unwrap_or(1).max(1))
}

/// When a code mailed at `now` stops working.
pub fn code_expiry(now: Timestamp) -> Timestamp {
    now.checked_add(CODE_LIFETIME).unwrap_or(now)
}

/// Whether a code that expires at `expires_at` still works at `now`.
pub fn code_works(expires_at: Timestamp, now: Timestamp) -> bool {
    now < expires_at
}

/// The `sub` of a token a code was exchanged for: who signed in, without their address.
pub fn session_subject(email_key: &str) -> String {
    format!("email:{}", &email_key[..email_key.len().min(16)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_compared_trimmed_and_lowercased() {
        assert_eq!(
            normalize_email("  Ops@Keystonepay.Example "),
            Some("ops@keystonepay.example".into())
        );
        for bad in ["", "nobody", "@x", "a@", "a b@c", "a@b@c"] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_link_carries_the_code_in_its_fragment() {
        let code = "B".repeat(CODE_LENGTH);
        assert!(is_code(&code));
        assert_eq!(
            sign_in_link("https://example.test/partner/billing", &code),
            format!("https://example.test/partner/billing#code={code}")
        );
        assert_eq!(sign_in_link("https://x.test/p#old", "c"), "https://x.test/p#code=c");
        assert!(!is_code("short"));
        assert!(!is_code(&format!("{}=", &code[..42])));
    }

    #[test]
    fn codes_work_for_15_minutes() {
        let now: Timestamp = "2026-12-06T10:00:00Z".parse().unwrap();
        let expiry = code_expiry(now);
        assert!(code_works(expiry, "2026-12-06T10:14:59Z".parse().unwrap()));
        assert!(!code_works(expiry, "2026-12-06T10:15:00Z".parse().unwrap()));
        assert_eq!(
            window("2026-12-06T10:07:30Z".parse().unwrap(), ADDRESS_WINDOW_SECONDS).1,
            450
        );
        assert_eq!(session_subject(&"f".repeat(64)).len(), 22);
    }

    proptest! {
        #[test]
        fn normalizing_twice_changes_nothing(text in "[ A-Za-z0-9@._-]{0,40}") {
            if let Some(once) = normalize_email(&text) {
                prop_assert_eq!(normalize_email(&once), Some(once.clone()));
            }
        }

        #[test]
        fn a_window_holds_its_instant(second in 0i64..4_000_000_000, size in prop_oneof![Just(60i64), Just(900i64)]) {
            let (start, retry) = window(Timestamp::from_second(second).unwrap(), size);
            prop_assert!(start <= second && second < start + size);
            prop_assert!(retry >= 1 && i64::from(retry) <= size);
        }
    }
}
