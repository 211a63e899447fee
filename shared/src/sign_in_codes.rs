//! A sign-in code made and kept (`domain::sign_in` has the rules): 256 random bits as base64url, and the
//! SHA-256 the table keeps of codes and addresses. Hashing and encoding are here, beside the
//! use-case, so the domain crate needs neither.

use crate::domain::sign_in::CODE_BYTES;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The key an address is found and counted by (SHA-256, hex): no address in keys, counters or logs.
pub fn email_key(normalized: &str) -> String {
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// A new code from `random` bytes (base64url, no padding).
pub fn code_from(random: &[u8; CODE_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// What the table keeps of a code: its SHA-256 (hex). A code has 256 random bits, so a fast hash is
/// enough (nothing to guess from the hash).
pub fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sign_in::{is_code, normalize_email, session_subject, sign_in_link};
    use proptest::prelude::*;

    #[test]
    fn an_address_is_kept_as_its_hash() {
        let key = email_key(&normalize_email(" A@B ").unwrap());
        assert_eq!(key.len(), 64);
        assert_eq!(key, email_key("a@b"));
        assert_ne!(key, email_key("a@c"));
        assert_eq!(session_subject(&key).len(), 22);
    }

    proptest! {
        #[test]
        fn every_code_is_43_url_safe_characters_and_its_hash_says_nothing_of_it(bytes in proptest::array::uniform32(any::<u8>())) {
            let code = code_from(&bytes);
            prop_assert!(is_code(&code));
            let hash = code_hash(&code);
            prop_assert_eq!(hash.len(), 64);
            prop_assert!(!hash.contains(&code));
            // The link gives the code back, whole, after `#code=`.
            let link = sign_in_link("https://example.test/partner/", &code);
            prop_assert_eq!(link.rsplit_once("#code=").map(|(_, c)| c.to_owned()), Some(code));
        }

    }
}
