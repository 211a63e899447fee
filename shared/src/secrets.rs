//! Secrets read at run time, and the function state built from them.
//!
//! Deployed, a function's environment holds only where its secrets are (`ADMIN_JWT_SECRET_ARN` or
//! `PARTNER_JWT_SECRET_ARN`, `STRIPE_SECRET_KEY_ARN`, `STRIPE_WEBHOOK_SECRET_ARN`: one secret per
//! value, so each function's policy names exactly the secrets it uses), never their values: anyone allowed to read a function's configuration would read them there. The values
//! are read from Secrets Manager at cold start and kept; [`Reloading`] reads them again after
//! [`MAX_AGE`], and at once (at most once per [`REFUSAL_GAP`]) when one was refused, so a rotation
//! takes effect without a deploy.
//!
//! Local runs (`make dev`, the tests) set no ARN and keep plain environment values
//! (`ADMIN_JWT_SECRET`, `PARTNER_JWT_SECRET`, `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`); [`SecretSession::read`] logs
//! which of the two a secret came from.

use crate::config::{ConfigError, Secret};
use lambda_http::{Body, Request, Response};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long read secrets are kept before they are read again.
pub const MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// The least time between two reads caused by a refused secret: forged tokens cannot turn every
/// request into a Secrets Manager call.
pub const REFUSAL_GAP: Duration = Duration::from_secs(60);

/// Where one secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Local runs: a plain environment variable.
    Environment(&'static str),
    /// Deployed: a Secrets Manager secret, its whole `SecretString`.
    SecretsManager { arn: String },
}

/// Reads secrets. The Secrets Manager client is built once per cold start; it sends nothing unless
/// a secret's ARN is configured.
#[derive(Clone, Debug)]
pub struct SecretReader {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretReader {
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig) -> SecretReader {
        SecretReader {
            client: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }

    /// One load's reads: each secret is fetched once, however often it is read.
    pub fn session(&self) -> SecretSession<'_> {
        SecretSession {
            client: &self.client,
            fetched: HashMap::new(),
        }
    }

    /// [`SecretReader::session`] with the secrets the environment names
    /// ([`crate::config::configured_secret_arns`]) fetched at once, side by side: a cold start waits
    /// for one round trip, not one per secret. A secret that fails here is fetched again (and its
    /// error reported) when it is read.
    pub async fn prefetched_session(&self) -> SecretSession<'_> {
        let mut session = self.session();
        let arns = crate::config::configured_secret_arns();
        let fetches = arns.iter().map(|arn| async move {
            let answer = self.client.get_secret_value().secret_id(arn).send().await;
            (arn, answer.ok().and_then(|a| a.secret_string))
        });
        for (arn, text) in futures::future::join_all(fetches).await {
            if let Some(text) = text {
                session.fetched.insert(arn.clone(), text);
            }
        }
        session
    }
}

/// The reads of one load (see [`SecretReader::session`]).
pub struct SecretSession<'a> {
    client: &'a aws_sdk_secretsmanager::Client,
    fetched: HashMap<String, String>,
}

impl SecretSession<'_> {
    /// The value of the secret `name` (a name for messages and logs) from `source`.
    pub async fn read(&mut self, name: &'static str, source: &SecretSource) -> Result<Secret, ConfigError> {
        match source {
            SecretSource::Environment(variable) => {
                tracing::info!(
                    secret = name,
                    variable = *variable,
                    "secret read from the environment (local runs)"
                );
                match std::env::var(variable) {
                    Ok(value) if !value.trim().is_empty() => Ok(Secret::new(value)),
                    _ => Err(ConfigError::Missing(variable)),
                }
            }
            SecretSource::SecretsManager { arn } => {
                let value = self.secret_string(name, arn).await?.to_owned();
                tracing::info!(secret = name, "secret read from Secrets Manager");
                if value.trim().is_empty() {
                    return Err(ConfigError::Invalid {
                        name,
                        why: "the secret is empty".into(),
                    });
                }
                Ok(Secret::new(value))
            }
        }
    }

    async fn secret_string(&mut self, name: &'static str, arn: &str) -> Result<&str, ConfigError> {
        if !self.fetched.contains_key(arn) {
            let answer = self
                .client
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|err| ConfigError::Unreadable {
                    name,
                    why: aws_smithy_types::error::display::DisplayErrorContext(err).to_string(),
                })?;
            let text = answer.secret_string.ok_or(ConfigError::Invalid {
                name,
                why: "the secret holds no SecretString".into(),
            })?;
            self.fetched.insert(arn.to_owned(), text);
        }
        Ok(self.fetched.get(arn).map(String::as_str).unwrap_or_default())
    }
}

/// Which secret an answer says was refused. [`crate::http::problem`] puts it on the response; the
/// entry point's [`Reloading::serve`] reads the secrets again and, where nothing happened yet,
/// answers the request once more with the values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRefused {
    /// A token's signature did not verify (the identity service may have a new key).
    SigningKey,
    /// A webhook's signature did not verify (the endpoint's secret may have been rolled).
    WebhookSecret,
    /// Stripe answered 401 to our key (it may have been rolled).
    StripeKey,
}

impl SecretRefused {
    /// Whether answering the request again is safe: a refused signature stopped the request before
    /// it did anything; a refused Stripe key may have come after writes of ours.
    pub fn retry_is_safe(self) -> bool {
        !matches!(self, SecretRefused::StripeKey)
    }
}

/// An HTTP function's state, answering one request (the entry point serves it through [`Reloading`]).
pub trait HttpFunction: Send + Sync + 'static {
    fn respond(&self, req: &Request) -> impl Future<Output = Response<Body>> + Send;
}

type Loader<T> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, ConfigError>> + Send>> + Send + Sync>;

/// A function's state built from configuration and secrets, built again when its secrets are due to
/// be read again (see the module's documentation). A failed rebuild keeps the state that works.
pub struct Reloading<T> {
    load: Loader<T>,
    max_age: Duration,
    refusal_gap: Duration,
    state: tokio::sync::Mutex<Loaded<T>>,
}

struct Loaded<T> {
    value: Arc<T>,
    loaded_at: Instant,
}

impl<T: Send + Sync + 'static> Reloading<T> {
    /// Builds the state once (a failure fails the cold start), to be rebuilt by `load`.
    pub async fn start<F, Fut>(load: F) -> Result<Reloading<T>, ConfigError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ConfigError>> + Send + 'static,
    {
        Reloading::with_timing(load, MAX_AGE, REFUSAL_GAP).await
    }

    /// [`Reloading::start`] for an entry point: `build` gets the cold start's SDK configuration and a
    /// secret reader built once from it.
    pub async fn from_env<F, Fut>(build: F) -> Result<Reloading<T>, ConfigError>
    where
        F: Fn(aws_config::SdkConfig, SecretReader) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ConfigError>> + Send + 'static,
    {
        let sdk = crate::config::aws_sdk_config().await;
        let secrets = SecretReader::from_sdk_config(&sdk);
        Reloading::start(move || build(sdk.clone(), secrets.clone())).await
    }

    /// [`Reloading::start`] with other timings (tests).
    pub async fn with_timing<F, Fut>(
        load: F,
        max_age: Duration,
        refusal_gap: Duration,
    ) -> Result<Reloading<T>, ConfigError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ConfigError>> + Send + 'static,
    {
        let load: Loader<T> = Box::new(move || Box::pin(load()));
        let value = Arc::new(load().await?);
        Ok(Reloading {
            load,
            max_age,
            refusal_gap,
            state: tokio::sync::Mutex::new(Loaded {
                value,
                loaded_at: Instant::now(),
            }),
        })
    }

    /// The state, built again first when it is older than the maximum age.
    pub async fn current(&self) -> Arc<T> {
        let mut state = self.state.lock().await;
        if state.loaded_at.elapsed() >= self.max_age {
            self.reload(&mut state, "secrets are due to be read again").await;
        }
        Arc::clone(&state.value)
    }

    /// After a refused secret: the state built again, unless it was built less than the refusal gap
    /// ago (then `None`, as when the rebuild failed).
    pub async fn reload_after_refusal(&self, refused: SecretRefused) -> Option<Arc<T>> {
        let mut state = self.state.lock().await;
        if state.loaded_at.elapsed() < self.refusal_gap {
            tracing::info!(
                ?refused,
                "a secret was refused; read again too recently to read it again now"
            );
            return None;
        }
        self.reload(&mut state, "a secret was refused")
            .await
            .then(|| Arc::clone(&state.value))
    }

    async fn reload(&self, state: &mut Loaded<T>, why: &'static str) -> bool {
        // Whatever the outcome, the next attempt waits its turn: a Secrets Manager outage must not
        // turn every request into a failing read.
        state.loaded_at = Instant::now();
        match (self.load)().await {
            Ok(value) => {
                tracing::info!(why, "configuration and secrets read again");
                state.value = Arc::new(value);
                true
            }
            Err(err) => {
                tracing::error!(why, error = %err, "reading the secrets again failed; the values read before stay");
                false
            }
        }
    }
}

impl<T: HttpFunction> Reloading<T> {
    /// Serves the function's requests until Lambda stops it.
    pub async fn run_http(self) -> Result<(), lambda_http::Error> {
        let app = Arc::new(self);
        lambda_http::run(lambda_http::service_fn(move |req: Request| {
            let app = Arc::clone(&app);
            async move { Ok::<_, std::convert::Infallible>(app.serve(req).await) }
        }))
        .await
    }

    /// Answers `req` with the current state; when the answer says a secret was refused, reads the
    /// secrets again and, where that is safe, answers once more with what was read.
    pub async fn serve(&self, req: Request) -> Response<Body> {
        let response = self.current().await.respond(&req).await;
        let Some(refused) = response.extensions().get::<SecretRefused>().copied() else {
            return response;
        };
        match self.reload_after_refusal(refused).await {
            Some(fresh) if refused.retry_is_safe() => fresh.respond(&req).await,
            _ => response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting_loader() -> (
        Arc<AtomicUsize>,
        impl Fn() -> std::future::Ready<Result<usize, ConfigError>>,
    ) {
        let loads = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&loads);
        (loads, move || {
            std::future::ready(Ok(counter.fetch_add(1, Ordering::SeqCst) + 1))
        })
    }

    #[tokio::test]
    async fn state_is_kept_until_it_is_due() {
        let (loads, load) = counting_loader();
        let state = Reloading::with_timing(load, Duration::from_secs(3600), Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(*state.current().await, 1);
        assert_eq!(*state.current().await, 1);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn state_past_its_age_is_built_again() {
        let (loads, load) = counting_loader();
        let state = Reloading::with_timing(load, Duration::ZERO, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(*state.current().await, 2);
        assert_eq!(*state.current().await, 3);
        assert_eq!(loads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_refusal_reads_again_once_per_gap() {
        let (_, load) = counting_loader();
        let patient = Reloading::with_timing(load, Duration::from_secs(3600), Duration::from_secs(3600))
            .await
            .unwrap();
        assert!(patient.reload_after_refusal(SecretRefused::SigningKey).await.is_none());
        assert_eq!(*patient.current().await, 1);

        let (_, load) = counting_loader();
        let eager = Reloading::with_timing(load, Duration::from_secs(3600), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            eager.reload_after_refusal(SecretRefused::StripeKey).await.as_deref(),
            Some(&2)
        );
        assert_eq!(*eager.current().await, 2);
    }

    #[tokio::test]
    async fn a_failed_rebuild_keeps_what_works() {
        let loads = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&loads);
        let state = Reloading::with_timing(
            move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                std::future::ready(if n == 0 {
                    Ok("first")
                } else {
                    Err(ConfigError::Missing("GONE"))
                })
            },
            Duration::ZERO,
            Duration::ZERO,
        )
        .await
        .unwrap();
        assert_eq!(*state.current().await, "first");
        assert!(state.reload_after_refusal(SecretRefused::SigningKey).await.is_none());
        assert_eq!(loads.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn only_a_refused_stripe_key_is_not_retried() {
        assert!(SecretRefused::SigningKey.retry_is_safe());
        assert!(SecretRefused::WebhookSecret.retry_is_safe());
        assert!(!SecretRefused::StripeKey.retry_is_safe());
    }
}
