//! Stripe's status of a subscription, read once into a value: the states billing acts on, and any
//! other Stripe may add, kept as it was written.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum StripeSubscriptionStatus {
    Active,
    Trialing,
    PastDue,
    Unpaid,
    Canceled,
    Incomplete,
    /// The first invoice was not paid in time: Stripe ended the subscription.
    IncompleteExpired,
    Paused,
    /// A status this code does not know (a newer API version's), as Stripe wrote it.
    Other(String),
}

impl StripeSubscriptionStatus {
    pub fn parse(text: &str) -> StripeSubscriptionStatus {
        use StripeSubscriptionStatus::*;
        match text {
            "active" => Active,
            "trialing" => Trialing,
            "past_due" => PastDue,
            "unpaid" => Unpaid,
            "canceled" => Canceled,
            "incomplete" => Incomplete,
            "incomplete_expired" => IncompleteExpired,
            "paused" => Paused,
            other => Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        use StripeSubscriptionStatus::*;
        match self {
            Active => "active",
            Trialing => "trialing",
            PastDue => "past_due",
            Unpaid => "unpaid",
            Canceled => "canceled",
            Incomplete => "incomplete",
            IncompleteExpired => "incomplete_expired",
            Paused => "paused",
            Other(text) => text,
        }
    }

    /// Stripe ended the subscription (cancelled it, or its first invoice was never paid): it bills
    /// no more.
    pub fn has_ended(&self) -> bool {
        matches!(
            self,
            StripeSubscriptionStatus::Canceled | StripeSubscriptionStatus::IncompleteExpired
        )
    }

    /// The subscription bills (a trial's end, or payments being retried, included): one made in
    /// Stripe's dashboard becomes the partner's.
    pub fn bills(&self) -> bool {
        matches!(
            self,
            StripeSubscriptionStatus::Active | StripeSubscriptionStatus::Trialing | StripeSubscriptionStatus::PastDue
        )
    }
}

impl From<&str> for StripeSubscriptionStatus {
    fn from(text: &str) -> Self {
        StripeSubscriptionStatus::parse(text)
    }
}

impl From<String> for StripeSubscriptionStatus {
    fn from(text: String) -> Self {
        StripeSubscriptionStatus::parse(&text)
    }
}

impl From<StripeSubscriptionStatus> for String {
    fn from(status: StripeSubscriptionStatus) -> String {
        status.as_str().to_owned()
    }
}

impl fmt::Display for StripeSubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever Stripe writes is kept as written, known or not.
        #[test]
        fn any_status_reads_back_as_written(text in "[a-z_]{0,20}") {
            let status = StripeSubscriptionStatus::parse(&text);
            prop_assert_eq!(status.as_str(), text.as_str());
            let json = serde_json::to_string(&status).unwrap();
            prop_assert_eq!(serde_json::from_str::<StripeSubscriptionStatus>(&json).unwrap(), status);
        }
    }

    #[test]
    fn ended_and_billing_statuses() {
        let ended: Vec<_> = ["canceled", "incomplete_expired"]
            .map(StripeSubscriptionStatus::parse)
            .into();
        assert!(ended.iter().all(StripeSubscriptionStatus::has_ended));
        for text in ["active", "trialing", "past_due"] {
            let status = StripeSubscriptionStatus::parse(text);
            assert!(status.bills() && !status.has_ended(), "{text}");
        }
        for text in ["unpaid", "incomplete", "paused", "something_new"] {
            let status = StripeSubscriptionStatus::parse(text);
            assert!(!status.bills() && !status.has_ended(), "{text}");
        }
    }
}
