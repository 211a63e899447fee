//! Who makes a change: an admin, a partner user, Stripe or a scheduled job.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An admin user, by the `sub` of their token.
    Admin(String),
    /// A partner user acting in the portal, by the `sub` of their token (which partner is the
    /// partition the entry is written in).
    Partner(String),
    /// Stripe, through a webhook.
    Stripe,
    /// A scheduled job.
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Admin(id) => write!(f, "admin:{id}"),
            Actor::Partner(id) => write!(f, "partner:{id}"),
            Actor::Stripe => f.write_str("stripe"),
            Actor::System => f.write_str("system"),
        }
    }
}

impl Actor {
    pub fn parse(text: &str) -> Option<Actor> {
        match text.split_once(':') {
            Some(("admin", id)) if !id.is_empty() => Some(Actor::Admin(id.to_owned())),
            Some(("partner", user)) if !user.is_empty() => Some(Actor::Partner(user.to_owned())),
            None if text == "stripe" => Some(Actor::Stripe),
            None if text == "system" => Some(Actor::System),
            _ => None,
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Actor::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown actor {text:?}")))
    }
}
