//! Opaque page cursors: a query's `LastEvaluatedKey`, as base64url JSON. A cursor is accepted back
//! only with exactly the key attributes of the query it came from.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::{BTreeMap, HashMap};

pub type Key = HashMap<String, AttributeValue>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cursor is not one this API gave out for this listing")]
pub struct InvalidCursor;

/// The cursor for a `LastEvaluatedKey` whose attributes are all strings.
pub fn encode(key: &Key) -> Option<String> {
    let plain: BTreeMap<&str, &str> = key
        .iter()
        .map(|(name, value)| value.as_s().ok().map(|s| (name.as_str(), s.as_str())))
        .collect::<Option<_>>()?;
    let json = serde_json::to_vec(&plain).ok()?;
    Some(URL_SAFE_NO_PAD.encode(json))
}

/// The key behind a cursor, if it has exactly `attributes` and `fixed` attribute values match.
pub fn decode(cursor: &str, attributes: &[&str], fixed: &[(&str, &str)]) -> Result<Key, InvalidCursor> {
    if cursor.len() > 2_048 {
        return Err(InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    let plain: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
    let mut expected: Vec<&str> = attributes.to_vec();
    expected.sort_unstable();
    let got: Vec<&str> = plain.keys().map(String::as_str).collect();
    if got != expected || plain.values().any(|v| v.is_empty() || v.len() > 512) {
        return Err(InvalidCursor);
    }
    if fixed
        .iter()
        .any(|(name, value)| plain.get(*name).map(String::as_str) != Some(*value))
    {
        return Err(InvalidCursor);
    }
    Ok(plain.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
}

/// A cursor carrying any small serializable position (offsets, month plus inner cursor).
pub fn encode_json<T: serde::Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode_json<T: serde::de::DeserializeOwned>(cursor: &str) -> Result<T, InvalidCursor> {
    if cursor.len() > 2_048 {
        return Err(InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(pairs: &[(&str, &str)]) -> Key {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    #[test]
    fn round_trips_and_checks_the_shape() {
        let k = key(&[("pk", "PARTNER#1"), ("sk", "HIST#x")]);
        let cursor = encode(&k).unwrap();
        assert_eq!(decode(&cursor, &["sk", "pk"], &[("pk", "PARTNER#1")]), Ok(k));
        assert_eq!(
            decode(&cursor, &["sk", "pk"], &[("pk", "PARTNER#2")]),
            Err(InvalidCursor)
        );
        assert_eq!(decode(&cursor, &["pk", "sk", "gsi2pk"], &[]), Err(InvalidCursor));
        assert_eq!(decode("not a cursor", &["pk"], &[]), Err(InvalidCursor));
    }

    proptest! {
        #[test]
        fn an_accepted_cursor_decodes_to_what_was_encoded(s in "\\PC{0,200}") {
            if let Ok(decoded) = decode(&s, &["pk", "sk"], &[("pk", "x")]) {
                let again = encode(&decoded).unwrap();
                prop_assert_eq!(decode(&again, &["pk", "sk"], &[("pk", "x")]), Ok(decoded));
            }
        }

        #[test]
        fn every_key_round_trips_through_its_cursor(pk in "\\PC{1,60}", sk in "\\PC{1,60}") {
            let k = key(&[("pk", &pk), ("sk", &sk)]);
            let cursor = encode(&k).unwrap();
            prop_assert!(cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert_eq!(decode(&cursor, &["pk", "sk"], &[("pk", &pk)]), Ok(k));
        }
    }
}
