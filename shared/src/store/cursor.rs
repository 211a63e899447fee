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

    /// A change to a cursor's text or to the key inside it.
    #[derive(Debug, Clone)]
    enum Change {
        /// Another partner's (or another listing's) partition key.
        OtherPartition(String),
        /// A key attribute left out.
        Drop(&'static str),
        /// A key attribute the listing does not have (an index's, or any).
        Extra(&'static str),
        /// A value that is not a string, or an empty one.
        Value(&'static str, serde_json::Value),
        /// The text cut short.
        Truncate(usize),
        /// Not base64url, or too long.
        Garbage(String),
        /// One character of the text replaced (may still be a cursor of this listing).
        Flip { at: usize, to: char },
    }

    impl Change {
        fn apply(&self, cursor: &str, pk: &str) -> String {
            let mut plain: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).unwrap()).unwrap();
            let reencode = |plain: &serde_json::Map<String, serde_json::Value>| {
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(plain).unwrap())
            };
            match self {
                Change::OtherPartition(other) => {
                    let other = if other == pk { format!("{pk}x") } else { other.clone() };
                    plain.insert("pk".into(), other.into());
                    reencode(&plain)
                }
                Change::Drop(name) => {
                    plain.remove(*name);
                    reencode(&plain)
                }
                Change::Extra(name) => {
                    plain.insert((*name).into(), "x".into());
                    reencode(&plain)
                }
                Change::Value(name, value) => {
                    plain.insert((*name).into(), value.clone());
                    reencode(&plain)
                }
                Change::Truncate(n) => cursor[..n % cursor.len()].to_owned(),
                Change::Garbage(text) => text.clone(),
                Change::Flip { at, to } => {
                    let mut chars: Vec<char> = cursor.chars().collect();
                    let at = at % chars.len();
                    chars[at] = *to;
                    chars.into_iter().collect()
                }
            }
        }
    }

    fn any_change() -> impl Strategy<Value = Change> {
        let name = prop::sample::select(vec!["pk", "sk"]);
        prop_oneof![
            "[A-Z]{1,8}#[a-z0-9-]{1,20}".prop_map(Change::OtherPartition),
            name.clone().prop_map(Change::Drop),
            prop::sample::select(vec!["gsi1pk", "gsi1sk", "PK", "sk ", ""]).prop_map(Change::Extra),
            (
                name,
                prop_oneof![
                    Just(serde_json::json!(null)),
                    Just(serde_json::json!(7)),
                    Just(serde_json::json!("")),
                    Just(serde_json::json!(["x"])),
                    Just(serde_json::json!({"S": "x"})),
                    "x{513}".prop_map(serde_json::Value::from),
                ]
            )
                .prop_map(|(name, value)| Change::Value(name, value)),
            any::<usize>().prop_map(Change::Truncate),
            prop_oneof![
                "[^A-Za-z0-9_-]{1,10}",
                "[A-Za-z0-9_-]{2049,2100}",
                "\\PC{0,50}[+/=.]\\PC{0,50}"
            ]
            .prop_map(Change::Garbage),
            (
                any::<usize>(),
                prop::sample::select(
                    ('a'..='z')
                        .chain('A'..='Z')
                        .chain('0'..='9')
                        .chain(['-', '_'])
                        .collect::<Vec<_>>()
                )
            )
                .prop_map(|(at, to)| Change::Flip { at, to }),
        ]
    }

    proptest! {
        /// A cursor this API gave out, changed in any way that makes it another listing's, another
        /// partner's or no cursor at all, is refused; any other change of its text decodes only to a
        /// key of the listing's own shape.
        #[test]
        fn a_changed_cursor_is_refused_or_stays_in_its_listing(
            pk in "[A-Z]{1,8}#[a-z0-9-]{1,20}",
            sk in "\\PC{1,40}",
            change in any_change(),
        ) {
            let cursor = encode(&key(&[("pk", &pk), ("sk", &sk)])).unwrap();
            let listing = |c: &str| decode(c, &["pk", "sk"], &[("pk", &pk)]);
            prop_assert!(listing(&cursor).is_ok());
            let changed = change.apply(&cursor, &pk);
            match change {
                Change::Flip { .. } => {
                    if let Ok(k) = listing(&changed) {
                        prop_assert_eq!(k.len(), 2);
                        prop_assert_eq!(k.get("pk").and_then(|v| v.as_s().ok()), Some(&pk));
                        prop_assert!(k.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|s| !s.is_empty()));
                    }
                }
                _ => prop_assert_eq!(listing(&changed), Err(InvalidCursor), "{:?} -> {}", change, changed),
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
