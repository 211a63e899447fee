//! Request bodies, read one way by both APIs: [`object_body`] reads a serde struct of [`Field`]s that
//! refuses unknown fields, each field is then parsed by its domain type (`Tier::parse`, `Note::parse`,
//! dates...), and every problem is collected ([`FieldErrors`]) into one 422. Also what "blank" text is,
//! in Rust ([`is_blank`]) and in the descriptions' patterns ([`NOT_BLANK_PATTERN`]).

use super::parse_json;
use crate::error::AppError;
use crate::usecases::error::FieldError;
use lambda_http::Request;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Blank text: every character Unicode `White_Space` (`char::is_whitespace`, what `str::trim` takes off).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// [`is_blank`] as the descriptions' `pattern` for text that must not be blank: a character not Unicode
/// `White_Space`, spelled out (ECMA-262, Python and Rust each read `\s` their own way: U+0085, U+FEFF...).
pub const NOT_BLANK_PATTERN: &str =
    r"[^\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// JSON does not tell `27.0` from `27`: a whole number written with a fraction is read as the integer
/// (`{"months": 27.0}` is 27 months) up to 2^53 - 1 (what every JSON reader holds exactly), else unchanged.
pub fn whole_number_as_integer(value: Value) -> Value {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    match value.as_f64() {
        Some(n) if value.is_f64() && n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER => Value::from(n as i64),
        _ => value,
    }
}

/// What a JSON value is, for messages ("must be a string, got a number").
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One field of a JSON body as sent. It takes any JSON, so that a value of the wrong type is one
/// more field error, not the end of decoding; numbers are read through [`whole_number_as_integer`].
#[derive(Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Given(T),
    /// Not a `T`: the message.
    Wrong(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => Field::Null,
            value => serde_json::from_value(whole_number_as_integer(value))
                .map_or_else(|e| Field::Wrong(e.to_string()), Field::Given),
        })
    }
}

/// A string field's text: any other JSON is "must be a string, got a number" (and the like).
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(text) => Ok(Text(text)),
            other => Err(de::Error::custom(format!("must be a string, got {}", kind(&other)))),
        }
    }
}

/// Every field error of one request body, answered together as one 422.
#[derive(Default)]
pub struct FieldErrors {
    errors: Vec<FieldError>,
    /// The body's fields its struct does not have, reported last (the portal tells a partner's name apart).
    pub unknown: Vec<String>,
}

impl FieldErrors {
    pub fn fail(&mut self, field: &str, message: impl ToString) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A field's value; `None` when absent, null or not of its type (an error, as absence is when `required`).
    pub fn value<T>(&mut self, name: &str, field: Field<T>, required: bool) -> Option<T> {
        match field {
            Field::Given(value) => return Some(value),
            Field::Wrong(why) => self.fail(name, why),
            Field::Absent | Field::Null if required => self.fail(name, "is required"),
            Field::Absent | Field::Null => {}
        }
        None
    }

    /// A text field parsed by a domain type (`Tier`, `Note`, a date...): its error is the field's.
    pub fn parsed<T, E: ToString>(
        &mut self,
        name: &str,
        field: Field<Text>,
        required: bool,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let Text(text) = self.value(name, field, required)?;
        parse(&text).map_err(|e| self.fail(name, e)).ok()
    }

    /// The decoded value when nothing was wrong, else every error as one 422.
    pub fn finish<T>(mut self, value: impl FnOnce() -> Option<T>) -> Result<T, AppError> {
        for field in std::mem::take(&mut self.unknown) {
            self.fail(&field, "is not a field of this request");
        }
        match (self.errors.is_empty(), value()) {
            (true, Some(value)) => Ok(value),
            _ => Err(AppError::Invalid(self.errors)),
        }
    }
}

/// A JSON object body as `T`, a serde struct of [`Field`]s with `deny_unknown_fields`: the fields `T`
/// does not have are set aside, each an error of the [`FieldErrors`] returned with it. No body at all
/// reads as `{}` when `empty_is_object` (a body of only whitespace is not JSON: 400).
pub fn object_body<T: DeserializeOwned>(req: &Request, empty_is_object: bool) -> Result<(T, FieldErrors), AppError> {
    let mut map = match empty_is_object && req.body().as_ref().is_empty() {
        true => Map::new(),
        false => match parse_json::<Value>(req)? {
            Value::Object(map) => map,
            _ => return Err(AppError::invalid("body", "must be a JSON object")),
        },
    };
    let (known, mut errors) = (struct_fields::<T>(), FieldErrors::default());
    errors.unknown = map.keys().filter(|k| !known.contains(&k.as_str())).cloned().collect();
    map.retain(|k, _| known.contains(&k.as_str()));
    let body = serde_json::from_value(Value::Object(map)).map_err(|e| AppError::invalid("body", e))?;
    Ok((body, errors))
}

/// The field names of the serde struct `T`, the ones its `deny_unknown_fields` admits.
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    type FieldNames = &'static [&'static str];
    struct Names<'a>(&'a mut FieldNames);
    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &str, f: FieldNames, _: V) -> Result<V::Value, Self::Error> {
            *self.0 = f;
            Err(de::Error::custom("only its field names were read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut names: FieldNames = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

/// A body that only confirms (`{"confirm": true}`), such as an erasure's.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ConfirmBody {
    pub confirm: Field<bool>,
}

/// An action the request confirmed explicitly (what a [`ConfirmBody`] decodes to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmed;

#[cfg(test)]
mod tests {
    use super::{is_blank, whole_number_as_integer, NOT_BLANK_PATTERN};
    use serde_json::json;

    #[test]
    fn whole_numbers_with_a_fraction_read_as_integers_and_nothing_else_changes() {
        assert_eq!(whole_number_as_integer(json!(27.0)), json!(27));
        assert_eq!(whole_number_as_integer(json!(-3.0)), json!(-3));
        assert_eq!(
            whole_number_as_integer(json!(9_007_199_254_740_991.0)),
            json!(9_007_199_254_740_991_i64)
        );
        assert_eq!(whole_number_as_integer(json!(27.5)), json!(27.5));
        assert_eq!(
            whole_number_as_integer(json!(2.0e26)),
            json!(2.0e26),
            "beyond exact integers"
        );
        assert_eq!(whole_number_as_integer(json!("27")), json!("27"));
        assert_eq!(whole_number_as_integer(json!(27)), json!(27));
    }

    /// The pattern's class, written out from every character `is_blank` counts as white space: the
    /// two say the same of every character, so of every text.
    #[test]
    fn the_not_blank_pattern_excludes_exactly_the_characters_blank_text_is_made_of() {
        let mut ranges: Vec<(char, char)> = Vec::new();
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if !is_blank(&c.to_string()) {
                continue;
            }
            match ranges.last_mut() {
                Some((_, end)) if u32::from(*end) + 1 == u32::from(c) => *end = c,
                _ => ranges.push((c, c)),
            }
        }
        let class: String = ranges
            .iter()
            .map(|&(start, end)| match u32::from(end) - u32::from(start) {
                0 => format!(r"\u{:04X}", u32::from(start)),
                1 => format!(r"\u{:04X}\u{:04X}", u32::from(start), u32::from(end)),
                _ => format!(r"\u{:04X}-\u{:04X}", u32::from(start), u32::from(end)),
            })
            .collect();
        assert_eq!(NOT_BLANK_PATTERN, format!("[^{class}]"));
        assert!(is_blank("") && is_blank(" \u{85}\u{3000}") && !is_blank("\u{feff}") && !is_blank(" a "));
    }
}
