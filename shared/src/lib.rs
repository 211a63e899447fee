//! Everything the Power100 partner-payments functions share: the domain rules, the DynamoDB store,
//! domain events, admin authentication, configuration and the HTTP edge.

pub mod domain;
