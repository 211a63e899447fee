//! The Lambda entry points' glue: an HTTP function's state, built from configuration and secrets,
//! read again when its secrets are due (every [`MAX_AGE`]) or were refused (at most once per
//! [`REFUSAL_GAP`]), so a rotation takes effect without a deploy; and the loop serving requests.

use crate::config::ConfigError;
use crate::secrets::{SecretReader, SecretRefused};
use lambda_http::{Body, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long read secrets are kept before they are read again.
pub const MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// The least time between two reads caused by a refused secret: forged tokens cannot turn every
/// request into a Secrets Manager call.
pub const REFUSAL_GAP: Duration = Duration::from_secs(60);

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
