//! Secrets read at run time from Secrets Manager (moto): a rotated signing key or Stripe key takes
//! effect without a deploy, and a refused key reads the secrets again at most once per gap.

mod support;

use admin_api::App;
use shared::auth::{mint_token, Role, TokenAuth};
use shared::config::SecretSource;
use shared::config::{ConfigError, Secret};
use shared::domain::dates::BusinessCalendar;
use shared::runtime::Reloading;
use shared::secrets::{SecretReader, SecretRefused};
use shared::testing::{create_local_secret, fresh_store, local_sdk_config, rotate_local_secret, test_token_rules};
use std::time::Duration;

const OLD_KEY: &str = "old-signing-key-old-signing-key-old-signing-key";
const NEW_KEY: &str = "new-signing-key-new-signing-key-new-signing-key";

fn token_signed_with(key: &str) -> String {
    let exp = jiff::Timestamp::now().as_second() as u64 + 600;
    mint_token(
        &Secret::new(key),
        &test_token_rules(),
        "admin-1",
        Role::Admin,
        None,
        exp,
    )
    .unwrap()
}

fn tiers_request(token: &str) -> lambda_http::Request {
    lambda_http::http::Request::builder()
        .method("GET")
        .uri("https://api.example.test/admin/tiers")
        .header("authorization", format!("Bearer {token}"))
        .body(lambda_http::Body::Empty)
        .unwrap()
}

/// admin-api whose signing key is read from the secret `arn` on every (re)load.
async fn api_reading(arn: String, refusal_gap: Duration) -> Reloading<App> {
    let (store, _) = fresh_store().await;
    let secrets = SecretReader::from_sdk_config(&local_sdk_config().await);
    Reloading::with_timing(
        move || {
            let (store, secrets, arn) = (store.clone(), secrets.clone(), arn.clone());
            async move {
                let key = secrets
                    .session()
                    .read("ADMIN_JWT_SECRET", &SecretSource::SecretsManager { arn })
                    .await?;
                Ok::<_, ConfigError>(App {
                    store,
                    calendar: BusinessCalendar::utc(),
                    auth: TokenAuth::new(&key, test_token_rules()),
                    billing: None,
                })
            }
        },
        shared::runtime::MAX_AGE,
        refusal_gap,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_rotated_signing_key_is_accepted_without_a_restart() {
    let arn = create_local_secret(OLD_KEY).await;
    let api = api_reading(arn.clone(), Duration::ZERO).await;
    assert_eq!(
        api.serve(tiers_request(&token_signed_with(OLD_KEY))).await.status(),
        200
    );

    rotate_local_secret(&arn, NEW_KEY).await;
    // The first token signed with the new key is refused by the key in memory, which reads the
    // secret again and answers the same request with it.
    assert_eq!(
        api.serve(tiers_request(&token_signed_with(NEW_KEY))).await.status(),
        200
    );
    assert_eq!(
        api.serve(tiers_request(&token_signed_with(OLD_KEY))).await.status(),
        401
    );
}

#[tokio::test]
async fn refused_tokens_read_the_secret_at_most_once_per_gap() {
    let arn = create_local_secret(OLD_KEY).await;
    let api = api_reading(arn.clone(), Duration::from_secs(3600)).await;
    rotate_local_secret(&arn, NEW_KEY).await;
    // Read at start, so not again within the gap: forged tokens cannot make every request a read.
    let refused = api.serve(tiers_request(&token_signed_with(NEW_KEY))).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.extensions().get::<SecretRefused>(),
        Some(&SecretRefused::SigningKey)
    );
}

#[tokio::test]
async fn a_secret_is_read_whole_and_an_unknown_one_named_without_its_value() {
    let arn = create_local_secret("rk_test_admin_only").await;
    let secrets = SecretReader::from_sdk_config(&local_sdk_config().await);
    let key = secrets
        .session()
        .read("STRIPE_SECRET_KEY", &SecretSource::SecretsManager { arn: arn.clone() })
        .await
        .unwrap();
    assert_eq!(key.expose(), "rk_test_admin_only");

    let unknown = SecretSource::SecretsManager {
        arn: format!("{arn}-gone"),
    };
    let unreadable = secrets.session().read("ADMIN_JWT_SECRET", &unknown).await.unwrap_err();
    assert!(matches!(unreadable, ConfigError::Unreadable { .. }), "{unreadable}");
    assert!(unreadable.to_string().contains("ADMIN_JWT_SECRET"), "{unreadable}");
    assert!(
        !unreadable.to_string().contains("rk_test_admin_only"),
        "the error never shows a secret"
    );
}

#[tokio::test]
async fn a_revoked_stripe_key_answers_503_and_asks_for_the_secrets_again() {
    let stripe = shared::testing::stripe_stub::StripeStub::start().await;
    let api = support::TestApi::new().await.with_stripe(&stripe.base_url);
    api.partner("p1", "BuildPro CRM", 80.0).await;
    stripe.set_key_revoked(true);
    let req = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://api.example.test/admin/partners/p1/billing")
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(
            r#"{"tier":"gold","collection":"send_invoice"}"#,
        ))
        .unwrap();
    let response = api.app.handle(req).await;
    let status = response.status().as_u16();
    assert_eq!(
        (status, response.extensions().get::<SecretRefused>()),
        (503, Some(&SecretRefused::StripeKey)),
        "{:?}",
        response.body()
    );
}
