//! Sign-in by email link (`domain::sign_in`): ask for a link, exchange its code for a one-hour
//! partner token, sign out. Nothing here logs an address, a code or a token.

use super::super::error::UseCaseError;
use crate::auth::{mint_token, Role, TokenRules};
use crate::config::Secret;
use crate::domain::sign_in::{
    code_expiry, is_code, normalize_email, session_subject, sign_in_link, window, ADDRESS_WINDOW_SECONDS,
    CLIENT_WINDOW_SECONDS, CODE_BYTES, LINKS_PER_ADDRESS, REQUESTS_PER_CLIENT, SESSION_LIFETIME,
};
use crate::email::sign_in::sign_in_email;
use crate::mailer::Mailer;
use crate::sign_in_codes::{code_from, code_hash, email_key};
use crate::store::sign_in::{CodeGrant, Counted};
use crate::store::Store;
use jiff::Timestamp;

/// What happened to a sign-in request (the caller answers the same either way; tests look closer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// A link was mailed.
    Sent,
    /// Not a partner's contact address: nothing sent.
    UnknownAddress,
    /// The address had its links for this window: nothing sent.
    AddressLimited,
    /// The link could not be stored or mailed (logged); the caller still answers as for the others.
    NotSent,
}

/// A code exchanged for a token.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: Timestamp,
}

/// The key a client is counted by (its source address, hashed: no address in keys).
fn client_key(client: &str) -> String {
    email_key(client)
}

async fn count_client(store: &Store, scope: &str, client: &str, now: Timestamp) -> Result<(), UseCaseError> {
    let (start, retry_after_seconds) = window(now, CLIENT_WINDOW_SECONDS);
    match store
        .count_sign_in(
            scope,
            &client_key(client),
            start,
            CLIENT_WINDOW_SECONDS,
            REQUESTS_PER_CLIENT,
        )
        .await?
    {
        Counted::Allowed => Ok(()),
        Counted::Limited => Err(UseCaseError::RateLimited {
            limit: REQUESTS_PER_CLIENT,
            retry_after_seconds,
        }),
    }
}

/// Mails a sign-in link to `email` when it is a partner's contact address; the same `Ok` otherwise
/// (only the per-client limit answers differently, and it says nothing about the address).
#[tracing::instrument(skip_all, err(Display))]
pub async fn request_sign_in_link(
    store: &Store,
    mailer: &Mailer,
    portal_url: &str,
    email: &str,
    client: &str,
    now: Timestamp,
) -> Result<LinkOutcome, UseCaseError> {
    count_client(store, "client", client, now).await?;
    let Some(address) = normalize_email(email) else {
        return Ok(LinkOutcome::UnknownAddress);
    };
    let key = email_key(&address);
    let Some(partner_id) = store.partner_by_contact(&key).await? else {
        return Ok(LinkOutcome::UnknownAddress);
    };
    let (start, _) = window(now, ADDRESS_WINDOW_SECONDS);
    if store
        .count_sign_in("address", &key, start, ADDRESS_WINDOW_SECONDS, LINKS_PER_ADDRESS)
        .await?
        == Counted::Limited
    {
        tracing::info!("sign-in link not sent: the address had its links for this window");
        return Ok(LinkOutcome::AddressLimited);
    }
    let Some(partner) = store.get_partner(&partner_id).await? else {
        return Ok(LinkOutcome::UnknownAddress);
    };
    let mut random = [0u8; CODE_BYTES];
    if getrandom::fill(&mut random).is_err() {
        tracing::error!("no randomness for a sign-in code");
        return Ok(LinkOutcome::NotSent);
    }
    let code = code_from(&random);
    let grant = CodeGrant {
        partner_id: partner.id.clone(),
        email_key: key,
    };
    store
        .put_sign_in_code(&code_hash(&code), &grant, code_expiry(now))
        .await?;
    let link = sign_in_link(portal_url, &code);
    let message = match sign_in_email(partner.primary_email.as_str(), partner.company_name.as_str(), &link) {
        Ok(message) => message,
        Err(err) => {
            tracing::error!(error = %err, "sign-in email not rendered");
            return Ok(LinkOutcome::NotSent);
        }
    };
    match mailer.send(&message).await {
        Ok(_) => {
            tracing::info!(partner_id = %partner.id, "sign-in link sent");
            Ok(LinkOutcome::Sent)
        }
        Err(err) => {
            // Only the kind of failure: SES's text can quote the address.
            let kind = match err {
                crate::mailer::SendFailure::Permanent(_) => "refused by SES",
                crate::mailer::SendFailure::Transient(_) => "SES unavailable",
            };
            tracing::error!(partner_id = %partner.id, failure = kind, "sign-in link not sent");
            Ok(LinkOutcome::NotSent)
        }
    }
}

/// Why an exchange was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("this sign-in link was used already, has expired, or is not one we sent: ask for a new one")]
    CodeRefused,
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
}

/// Exchanges a mailed code (once) for a partner token valid for [`SESSION_LIFETIME`], signed with the
/// partner key (`key`, the one the portal verifies partner tokens with) for `rules`.
#[tracing::instrument(skip_all, err(Display))]
pub async fn exchange_sign_in_code(
    store: &Store,
    key: &Secret,
    rules: &TokenRules,
    code: &str,
    client: &str,
    now: Timestamp,
) -> Result<Session, ExchangeError> {
    count_client(store, "exchange", client, now).await?;
    if !is_code(code) {
        return Err(ExchangeError::CodeRefused);
    }
    let Some(grant) = store
        .take_sign_in_code(&code_hash(code), now)
        .await
        .map_err(UseCaseError::from)?
    else {
        return Err(ExchangeError::CodeRefused);
    };
    let expires_at = now.checked_add(SESSION_LIFETIME).unwrap_or(now);
    let exp = expires_at.as_second().max(0) as u64;
    let token = mint_token(
        key,
        rules,
        &session_subject(&grant.email_key),
        Role::Partner,
        Some(&grant.partner_id),
        exp,
    )
    .map_err(|e| UseCaseError::Internal(format!("signing a partner token: {e}")))?;
    tracing::info!(partner_id = %grant.partner_id, "signed in by email link");
    Ok(Session { token, expires_at })
}

/// The key a token is revoked by (SHA-256 of the token: no token in the table).
pub fn token_key(token: &str) -> String {
    code_hash(token)
}

/// Signs `token` out: refused from now until it expires at `exp` (epoch seconds).
#[tracing::instrument(skip_all, err(Display))]
pub async fn sign_out(store: &Store, token: &str, exp: u64) -> Result<(), UseCaseError> {
    let until = Timestamp::from_second(i64::try_from(exp).unwrap_or(i64::MAX / 2)).unwrap_or(Timestamp::MAX);
    store.revoke_token(&token_key(token), until).await?;
    Ok(())
}

/// Whether `token` was signed out.
pub async fn signed_out(store: &Store, token: &str) -> Result<bool, UseCaseError> {
    Ok(store.token_revoked(&token_key(token)).await?)
}
