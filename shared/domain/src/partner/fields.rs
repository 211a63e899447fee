//! The partner's identity fields, each parsed once into its type: its id, contact email, company
//! name, and the free-text notes people write.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("must be 1 to 64 characters of letters, digits, '-' or '_', got {0:?}")]
    PartnerId(String),
    #[error("must be an email address such as name@example.com, got {0:?}")]
    Email(String),
    #[error("must be 1 to 200 characters without control characters")]
    CompanyName,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
}

fn shown(text: &str) -> String {
    text.chars().take(70).collect()
}

macro_rules! parsed_string {
    ($ty:ident) => {
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $ty::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A partner's id as the TPE backend knows it (`42`, `buildpro-crm`). It never holds `#`, so it
/// is safe inside table keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartnerId(String);
parsed_string!(PartnerId);

impl PartnerId {
    pub fn parse(text: &str) -> Result<PartnerId, IdentityError> {
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(PartnerId(text.to_owned()))
        } else {
            Err(IdentityError::PartnerId(shown(text)))
        }
    }
}

/// A partner's primary email address: one `@`, a dotted domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);
parsed_string!(Email);

impl Email {
    pub fn parse(text: &str) -> Result<Email, IdentityError> {
        let trimmed = text.trim();
        let err = || IdentityError::Email(shown(text));
        let (local, domain) = trimmed.split_once('@').ok_or_else(err)?;
        let domain_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        let local_ok = (1..=64).contains(&local.len())
            && local
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'@' && b != b'<' && b != b'>');
        if trimmed.len() <= 254 && local_ok && domain_ok {
            Ok(Email(trimmed.to_owned()))
        } else {
            Err(err())
        }
    }
}

/// A company's display name, trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyName(String);
parsed_string!(CompanyName);

impl CompanyName {
    pub fn parse(text: &str) -> Result<CompanyName, IdentityError> {
        let trimmed = text.trim();
        let ok = (1..=200).contains(&trimmed.chars().count()) && !trimmed.chars().any(char::is_control);
        if ok {
            Ok(CompanyName(trimmed.to_owned()))
        } else {
            Err(IdentityError::CompanyName)
        }
    }

    /// The key the partner directory sorts by.
    pub fn sort_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// Free text an admin writes (a reason, a note): trimmed, bounded, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);
parsed_string!(Note);

impl Note {
    pub const MAX_CHARS: usize = 1_000;

    pub fn parse(text: &str) -> Result<Note, IdentityError> {
        let trimmed = text.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(IdentityError::TooLong { max: Self::MAX_CHARS });
        }
        Ok(Note(trimmed.to_owned()))
    }

    /// `None` for blank text.
    pub fn parse_optional(text: Option<&str>) -> Result<Option<Note>, IdentityError> {
        match text.map(Note::parse).transpose()? {
            Some(note) if note.0.is_empty() => Ok(None),
            other => Ok(other),
        }
    }
}
