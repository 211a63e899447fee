//! Sign-in by email link in the table (`domain::sign_in`): the mailed codes (only their hash, TTL),
//! the partner a contact address belongs to (gsi10 over profiles, by the address's hash), the
//! sign-in counters (per address and per client, TTL), and revoked tokens (TTL at their expiry).
//!
//! | item          | pk                          | sk            |
//! |---------------|-----------------------------|---------------|
//! | sign-in code  | `SIGNIN#<sha256 of code>`   | `CODE`        | partner_id, email_key, `expires_at` (TTL)
//! | counter       | `SIGNINRATE#<scope>#<key>`  | `<window start>` | requests, `expires_at` (TTL)
//! | revoked token | `REVOKED#<sha256 of token>` | `TOKEN`       | `expires_at` (TTL: the token's own expiry)

use super::items::{number_attr, string_attr};
pub use super::keys::contact_pk;
use super::keys::{CONTACT_INDEX, EXPIRES_AT, PK, SK};
use super::{dynamo_error, update_condition_failed, Store, StoreError};
use crate::domain::partner::PartnerId;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

const CODE_SK: &str = "CODE";
const TOKEN_SK: &str = "TOKEN";

fn code_pk(hash: &str) -> String {
    format!("SIGNIN#{hash}")
}

fn revoked_pk(hash: &str) -> String {
    format!("REVOKED#{hash}")
}

/// What a code was mailed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeGrant {
    pub partner_id: PartnerId,
    pub email_key: String,
}

/// Whether a request fits its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Allowed,
    Limited,
}

fn epoch(at: Timestamp) -> AttributeValue {
    number_attr(at.as_second())
}

impl Store {
    /// The partner whose contact address has `email_key` (the first one, if two share it).
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn partner_by_contact(&self, email_key: &str) -> Result<Option<PartnerId>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(CONTACT_INDEX)
            .key_condition_expression("gsi10pk = :pk")
            .expression_attribute_values(":pk", string_attr(contact_pk(email_key)))
            .limit(1)
            .send()
            .await
            .map_err(dynamo_error)?;
        let id = out
            .items()
            .first()
            .and_then(|item| item.get("gsi10sk"))
            .and_then(|v| v.as_s().ok())
            .and_then(|id| PartnerId::parse(id).ok());
        Ok(id)
    }

    /// Keeps a mailed code's hash until `expires_at` (one put; the hash is new, so nothing is replaced).
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn put_sign_in_code(
        &self,
        code_hash: &str,
        grant: &CodeGrant,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, string_attr(code_pk(code_hash)))
            .item(SK, string_attr(CODE_SK))
            .item("entity", string_attr("sign_in_code"))
            .item("partner_id", string_attr(grant.partner_id.to_string()))
            .item("email_key", string_attr(&grant.email_key))
            .item(EXPIRES_AT, epoch(expires_at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(())
    }

    /// Takes a code: deleted only while it still works (one conditional delete, so of two exchanges of
    /// one code exactly one gets it). `None`: unknown, used or expired.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn take_sign_in_code(&self, code_hash: &str, now: Timestamp) -> Result<Option<CodeGrant>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, string_attr(code_pk(code_hash)))
            .key(SK, string_attr(CODE_SK))
            .condition_expression("attribute_exists(pk) AND #expires > :now")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":now", epoch(now))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                return Ok(None)
            }
            Err(err) => return Err(dynamo_error(err)),
        };
        let Some(item) = out.attributes() else { return Ok(None) };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let partner_id = text("partner_id")
            .and_then(|id| PartnerId::parse(&id).ok())
            .ok_or_else(|| StoreError::Corrupt("a sign-in code without its partner".into()))?;
        Ok(Some(CodeGrant {
            partner_id,
            email_key: text("email_key").unwrap_or_default(),
        }))
    }

    /// Counts one sign-in request of `key` in `scope` (`address`, `client`, `exchange`) in the window
    /// starting at `window_start`, unless `limit` were counted there already.
    #[tracing::instrument(skip(self, key), err(Display))]
    pub async fn count_sign_in(
        &self,
        scope: &str,
        key: &str,
        window_start: i64,
        window_seconds: i64,
        limit: u32,
    ) -> Result<Counted, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(format!("SIGNINRATE#{scope}#{key}")))
            .key(SK, string_attr(window_start.to_string()))
            .update_expression("ADD requests :one SET #expires = :expires")
            .condition_expression("attribute_not_exists(requests) OR requests < :limit")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", number_attr(1))
            .expression_attribute_values(":limit", number_attr(limit))
            .expression_attribute_values(":expires", number_attr(window_start + window_seconds + 3_600))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Counted::Allowed),
            Err(err) if update_condition_failed(&err) => Ok(Counted::Limited),
            Err(err) => Err(dynamo_error(err)),
        }
    }

    /// Refuses the token with `token_hash` until `expires_at` (sign-out).
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn revoke_token(&self, token_hash: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, string_attr(revoked_pk(token_hash)))
            .item(SK, string_attr(TOKEN_SK))
            .item("entity", string_attr("revoked_token"))
            .item(EXPIRES_AT, epoch(expires_at))
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(())
    }

    /// Whether the token with `token_hash` was signed out.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn token_revoked(&self, token_hash: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, string_attr(revoked_pk(token_hash)))
            .key(SK, string_attr(TOKEN_SK))
            .consistent_read(true)
            .projection_expression("pk")
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(out.item().is_some())
    }
}
