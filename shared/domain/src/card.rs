//! The card on file, as the partner's page shows it: a copy of what Stripe says kept in the table, so
//! that a page view asks Stripe nothing. Stripe's payment-method, setup and payment events mark the
//! copy changed ([`CardState::Changed`]); the next view reads the card from Stripe once and keeps it.
//! Each copy carries the instant it is true as of, and an older one never replaces a newer one: a
//! read that began before a change was reported cannot bring the old card back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A card as the portal shows it: brand, last four digits and expiry, never more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp_month: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp_year: Option<u16>,
}

/// What the copy says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CardState {
    /// Stripe charges this card.
    OnFile { card: CardSummary },
    /// No card on file.
    NoCard,
    /// Stripe reported a change since the last copy: read the card again.
    Changed,
}

/// The copy, and the instant it is true as of (a read's start, or when a change was reported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardRecord {
    #[serde(flatten)]
    pub state: CardState,
    pub as_of: Timestamp,
}

/// What a page shows of the card, from the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KnownCard {
    Known(Option<CardSummary>),
    /// Never copied, or changed since: read it from Stripe (once) and keep it.
    AskStripe,
}

impl CardRecord {
    /// A copy of what a read of Stripe that began at `as_of` found.
    pub fn read(card: Option<CardSummary>, as_of: Timestamp) -> CardRecord {
        CardRecord {
            state: match card {
                Some(card) => CardState::OnFile { card },
                None => CardState::NoCard,
            },
            as_of,
        }
    }

    /// A change Stripe reported, handled at `now` (never the event's own time: a read that began
    /// after the change happened but before it was handled may have seen the old card).
    pub fn changed(now: Timestamp) -> CardRecord {
        CardRecord {
            state: CardState::Changed,
            as_of: now,
        }
    }

    /// Whether this copy may replace `current` (which it must not if `current` is newer).
    pub fn replaces(&self, current: Option<&CardRecord>) -> bool {
        current.is_none_or(|current| current.as_of <= self.as_of)
    }
}

/// What a page shows of a partner's card: the copy, if there is a current one.
pub fn known_card(record: Option<&CardRecord>) -> KnownCard {
    match record.map(|r| &r.state) {
        Some(CardState::OnFile { card }) => KnownCard::Known(Some(card.clone())),
        Some(CardState::NoCard) => KnownCard::Known(None),
        Some(CardState::Changed) | None => KnownCard::AskStripe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn visa() -> CardSummary {
        CardSummary {
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: Some(12),
            exp_year: Some(2030),
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).unwrap()
    }

    #[test]
    fn a_page_asks_stripe_only_for_a_card_never_copied_or_changed_since() {
        assert_eq!(known_card(None), KnownCard::AskStripe);
        assert_eq!(known_card(Some(&CardRecord::changed(at(0)))), KnownCard::AskStripe);
        assert_eq!(known_card(Some(&CardRecord::read(None, at(0)))), KnownCard::Known(None));
        assert_eq!(
            known_card(Some(&CardRecord::read(Some(visa()), at(0)))),
            KnownCard::Known(Some(visa()))
        );
    }

    #[test]
    fn a_read_that_began_before_a_reported_change_cannot_bring_the_old_card_back() {
        let change = CardRecord::changed(at(10));
        let old_read = CardRecord::read(Some(visa()), at(9));
        assert!(!old_read.replaces(Some(&change)));
        assert!(CardRecord::read(None, at(11)).replaces(Some(&change)));
        assert!(CardRecord::changed(at(12)).replaces(Some(&CardRecord::read(Some(visa()), at(11)))));
    }

    #[test]
    fn the_copy_is_stored_as_it_reads() {
        let record = CardRecord::read(Some(visa()), at(0));
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["state"], "on_file");
        assert_eq!(json["card"]["last4"], "4242");
        assert_eq!(serde_json::from_value::<CardRecord>(json).unwrap(), record);
    }

    proptest! {
        /// Whatever order reads and reported changes arrive in, the copy kept is the newest one.
        #[test]
        fn the_newest_copy_wins_in_any_order(times in proptest::collection::vec((0i64..50, any::<bool>()), 1..12)) {
            let mut kept: Option<CardRecord> = None;
            for (second, is_change) in &times {
                let next = if *is_change { CardRecord::changed(at(*second)) } else { CardRecord::read(Some(visa()), at(*second)) };
                if next.replaces(kept.as_ref()) {
                    kept = Some(next);
                }
            }
            let newest = times.iter().map(|(s, _)| *s).max().unwrap();
            prop_assert_eq!(kept.map(|k| k.as_of), Some(at(newest)));
        }
    }
}
