//! Helpers for integration tests against the local emulators (feature `test-support`).
//!
//! Tests reach moto through the same SDK code as production; `make test` starts it on a free port
//! and exports `AWS_ENDPOINT_URL`. Each test gets a table of its own, so tests run in parallel.

pub mod attacks;
pub mod billing;
pub mod http_server;
pub mod localstripe;
pub mod pipeline;
pub mod routes;
pub mod stripe_stub;
pub mod texts;

use crate::auth::{mint_token, Role, TokenRules, DEFAULT_MAX_TOKEN_LIFETIME};
use crate::config::Secret;
use crate::domain::partner::PartnerId;
use crate::store::{schema, Store};
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::sync::{Arc, Mutex};

/// The key the tests sign admin tokens with.
pub const TEST_JWT_SECRET: &str = "integration-tests-only-signing-key-0123456789";
/// The key the tests sign partner tokens with: never the admin key, as deployed.
pub const TEST_PARTNER_JWT_SECRET: &str = "integration-tests-only-partner-key-9876543210";

/// The admin token key of the tests.
pub fn test_secret() -> Secret {
    test_signing_key(Role::Admin)
}

/// The tests' key of `role`'s tokens.
pub fn test_signing_key(role: Role) -> Secret {
    match role {
        Role::Admin => Secret::new(TEST_JWT_SECRET),
        Role::Partner => Secret::new(TEST_PARTNER_JWT_SECRET),
    }
}

/// The issuer and audience test admin tokens carry.
pub fn test_token_rules() -> TokenRules {
    test_rules(Role::Admin)
}

/// The issuer and audience the tests' tokens of `role` carry (each role its own audience).
pub fn test_rules(role: Role) -> TokenRules {
    TokenRules {
        issuer: "https://id.power100.test".into(),
        audience: match role {
            Role::Admin => "partner-payments-admin-test".into(),
            Role::Partner => "partner-payments-portal-test".into(),
        },
        max_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
    }
}

/// Token verification of `role`'s tokens as the tests sign them (admin-api: admin; portal: partner).
pub fn test_token_auth(role: Role) -> crate::auth::TokenAuth {
    crate::auth::TokenAuth::new(&test_signing_key(role), test_rules(role))
}

/// An admin token valid for an hour.
pub fn admin_token(sub: &str) -> String {
    token_with_role(sub, Role::Admin)
}

/// A token of `role` (without a partner), signed with that role's key for its audience.
pub fn token_with_role(sub: &str, role: Role) -> String {
    let exp = jiff::Timestamp::now().as_second() as u64 + 3_600;
    mint_token(&test_signing_key(role), &test_rules(role), sub, role, None, exp)
        .unwrap_or_else(|e| panic!("minting a test token: {e}"))
}

/// A partner user's token for `partner_id`, valid for an hour.
pub fn partner_token(sub: &str, partner_id: &PartnerId) -> String {
    let exp = jiff::Timestamp::now().as_second() as u64 + 3_600;
    mint_token(
        &test_signing_key(Role::Partner),
        &test_rules(Role::Partner),
        sub,
        Role::Partner,
        Some(partner_id),
        exp,
    )
    .unwrap_or_else(|e| panic!("minting a test token: {e}"))
}

/// The SDK configuration for the local emulators; fails loudly when they are not running.
pub async fn local_sdk_config() -> aws_config::SdkConfig {
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        panic!(
            "AWS_ENDPOINT_URL is not set: run the integration tests through `make test`, which starts the emulators"
        );
    }
    crate::config::aws_sdk_config().await
}

/// Records the name of every DynamoDB request sent (retries included).
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    pub fn calls(&self) -> Vec<String> {
        self.0.lock().map(|calls| calls.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut calls) = self.0.lock() {
            calls.clear();
        }
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        if let Ok(mut calls) = self.0.lock() {
            calls.push(name);
        }
        Ok(())
    }
}

/// A store on a new, empty table of its own, and the log of the DynamoDB calls it makes.
pub async fn fresh_store() -> (Store, CallLog) {
    let sdk = local_sdk_config().await;
    let log = CallLog::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(log.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = format!("test-{}", crate::ids::next_id().to_string().to_lowercase());
    schema::create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("creating table {table}: {e}"));
    log.clear();
    (Store::new(client, table), log)
}

/// Fails every DynamoDB request after the first `ok_requests` (a dependency dying mid-run).
#[derive(Debug, Clone)]
pub struct FailAfter(Arc<std::sync::atomic::AtomicI64>);

impl Intercept for FailAfter {
    fn name(&self) -> &'static str {
        "FailAfter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) <= 0 {
            return Err("injected fault: DynamoDB unreachable".into());
        }
        Ok(())
    }
}

/// A store on an existing table whose requests fail after the first `ok_requests`.
pub async fn store_failing_after(table: &str, ok_requests: i64) -> Store {
    let sdk = local_sdk_config().await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(FailAfter(Arc::new(std::sync::atomic::AtomicI64::new(ok_requests))))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    Store::new(aws_sdk_dynamodb::Client::from_conf(config), table)
}

/// A partner with a paid term ending on `end`, through the same use-cases as production.
pub async fn seed_term(
    store: &Store,
    id: &str,
    tier: crate::domain::tier::Tier,
    end: crate::domain::dates::CalendarDate,
    auto_renewal: bool,
    now: jiff::Timestamp,
) -> crate::domain::partner::Partner {
    use crate::domain::history_and_audit::{Actor, AuditAction};
    use crate::domain::partner::PartnerId;
    use crate::domain::partner_change::PartnerChange;
    use crate::domain::tier_change::TierChangeRequest;
    use crate::usecases::apply_change::apply_change;
    use crate::usecases::tier_change::{change_tier, ChangeTierCommand};
    let partner_id = PartnerId::parse(id).expect("test partner id");
    seed_profile(store, id, &format!("{id}@example.com"), now).await;
    let calendar = crate::domain::dates::BusinessCalendar::utc();
    if tier.is_paid() {
        let start = crate::domain::dates::add_months(end, -12).expect("start");
        let request = TierChangeRequest {
            tier,
            start: Some(start),
            end: Some(end),
            reason: None,
        };
        let command = ChangeTierCommand {
            partner_id: partner_id.clone(),
            request,
            expected_version: None,
            actor: Actor::System,
        };
        change_tier(store, None, &calendar, command, now).await.expect("tier");
    }
    if !auto_renewal {
        apply_change(store, &partner_id, &Actor::System, None, now, |p| {
            let mut after = p.clone();
            after.auto_renewal = false;
            Ok(Some(PartnerChange {
                stripe_action: None,
                after,
                history: None,
                note: None,
                audit_action: AuditAction::SubscriptionSettingsChanged,
                events: vec![],
            }))
        })
        .await
        .expect("auto renewal off");
    }
    store.get_partner(&partner_id).await.expect("read").expect("exists")
}

/// The ids in the due index (gsi1), for checking who the sweep would read.
pub async fn due_index_ids(store: &Store) -> Vec<String> {
    let out = store
        .client()
        .scan()
        .table_name(store.table())
        .index_name("gsi1")
        .send()
        .await;
    let out = out.unwrap_or_else(|e| panic!("scanning the due index: {e}"));
    out.items()
        .iter()
        .filter_map(|i| i.get("id")?.as_s().ok().cloned())
        .collect()
}

/// Every outbox item in the store's table, in key order (oldest first). A full scan: for tests only
/// (the relay reads the stream, never this).
pub async fn outbox_items(
    store: &Store,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = store
            .client()
            .scan()
            .table_name(store.table())
            .filter_expression("entity = :outbox")
            .expression_attribute_values(":outbox", AttributeValue::S("outbox".into()))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("scanning the outbox: {e}"));
        items.extend(output.items.unwrap_or_default());
        match output.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    items.sort_by_key(|i| i.get("pk").and_then(|v| v.as_s().ok()).cloned());
    items
}

/// Every outbox event in the store's table as (detail-type, detail JSON), in key order.
pub async fn outbox_events(store: &Store) -> Vec<(String, String)> {
    let get = |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, name: &str| {
        item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
    };
    outbox_items(store)
        .await
        .iter()
        .map(|item| (get(item, "detail_type"), get(item, "detail")))
        .collect()
}

/// Every item of the store's table, each as sorted JSON, in key order: for "nothing changed" checks.
pub async fn table_snapshot(store: &Store) -> Vec<String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = store
            .client()
            .scan()
            .table_name(store.table())
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("scanning the table: {e}"));
        for item in output.items() {
            let sorted: std::collections::BTreeMap<_, _> =
                item.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            items.push(serde_json::json!(sorted).to_string());
        }
        match output.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    items.sort();
    items
}

/// An attribute value as JSON with its maps' keys in order (HashMap order is random).
fn canonical(value: &aws_sdk_dynamodb::types::AttributeValue) -> serde_json::Value {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    match value {
        A::S(s) => serde_json::json!({ "S": s }),
        A::N(n) => serde_json::json!({ "N": n }),
        A::Bool(b) => serde_json::json!({ "BOOL": b }),
        A::Null(_) => serde_json::json!({ "NULL": true }),
        A::L(list) => serde_json::json!({ "L": list.iter().map(canonical).collect::<Vec<_>>() }),
        A::M(map) => {
            let sorted: std::collections::BTreeMap<_, _> = map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            serde_json::json!({ "M": sorted })
        }
        other => serde_json::json!({ "other": format!("{other:?}") }),
    }
}

/// A file of the repository, by its path from the repository's root.
pub fn repo_file(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// A setting of `infra/local/local.env`.
fn local_setting(name: &str) -> String {
    let env = std::fs::read_to_string(repo_file("infra/local/local.env")).unwrap_or_default();
    let prefix = format!("{name}=");
    env.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("{name} in infra/local/local.env"))
}

/// The public local key of `role`'s tokens, as the sample events are signed (`infra/local/local.env`).
pub fn local_signing_key(role: Role) -> Secret {
    Secret::new(local_setting(match role {
        Role::Admin => "ADMIN_JWT_SECRET",
        Role::Partner => "PARTNER_JWT_SECRET",
    }))
}

/// The issuer and audience of local tokens of `role` (`infra/local/local.env`).
pub fn local_token_rules(role: Role) -> TokenRules {
    TokenRules {
        issuer: local_setting("TOKEN_ISSUER"),
        audience: local_setting(match role {
            Role::Admin => "ADMIN_TOKEN_AUDIENCE",
            Role::Partner => "PARTNER_TOKEN_AUDIENCE",
        }),
        max_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
    }
}

/// The local key and rules of each role.
pub fn local_keys(role: Role) -> (Secret, TokenRules) {
    (local_signing_key(role), local_token_rules(role))
}

/// `event` (an API Gateway sample) with its bearer token signed again, for the same user, role and
/// partner, with the key and rules `keys` gives for that role, expiring at `exp`: sample tokens are
/// short-lived.
pub fn remint_sample_token(
    event: &mut serde_json::Value,
    keys: &impl Fn(Role) -> (Secret, TokenRules),
    exp: u64,
) -> Result<(), String> {
    use base64::Engine;
    let header = event["headers"]["authorization"]
        .as_str()
        .ok_or("the sample has no authorization header")?;
    let token = header.strip_prefix("Bearer ").ok_or("not a Bearer header")?;
    let payload = token.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| e.to_string())?;
    let claims: crate::auth::Claims = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let role = match claims.role.as_str() {
        "partner" => Role::Partner,
        _ => Role::Admin,
    };
    let partner = claims
        .partner_id
        .as_deref()
        .map(crate::domain::partner::PartnerId::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let (secret, rules) = keys(role);
    let fresh = mint_token(&secret, &rules, &claims.sub, role, partner.as_ref(), exp).map_err(|e| e.to_string())?;
    event["headers"]["authorization"] = serde_json::Value::String(format!("Bearer {fresh}"));
    Ok(())
}

/// The names of the sample events in `events/` that start with `prefix`, sorted.
pub fn sample_event_files(prefix: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo_file("events"))
        .unwrap_or_else(|e| panic!("reading events/: {e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".json"))
        .collect();
    files.sort();
    files
}

/// Waits (up to 20 s) until `done` holds for the partner; its last state either way.
pub async fn wait_for_partner(
    store: &Store,
    id: &crate::domain::partner::PartnerId,
    done: impl Fn(&crate::domain::partner::Partner) -> bool,
) -> crate::domain::partner::Partner {
    let read = || async {
        store
            .get_partner(id)
            .await
            .unwrap_or_else(|e| panic!("reading {id}: {e}"))
            .unwrap_or_else(|| panic!("partner {id} exists"))
    };
    for _ in 0..100 {
        let partner = read().await;
        if done(&partner) {
            return partner;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    read().await
}

/// The API Gateway sample `events/<file>` as the function receives it, its token signed afresh
/// (sample tokens are short-lived, see `devtool sample-tokens`).
pub fn api_sample(file: &str) -> lambda_http::Request {
    let text =
        std::fs::read_to_string(repo_file(&format!("events/{file}"))).unwrap_or_else(|e| panic!("events/{file}: {e}"));
    let mut event: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let exp = jiff::Timestamp::now().as_second() as u64 + 3_600;
    remint_sample_token(&mut event, &local_keys, exp).unwrap_or_else(|e| panic!("{file}: {e}"));
    lambda_http::request::from_str(&event.to_string())
        .unwrap_or_else(|e| panic!("{file} is not an API Gateway event: {e}"))
}

/// A new secret in the local Secrets Manager holding `value`; its ARN.
pub async fn create_local_secret(value: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&local_sdk_config().await);
    let name = format!("test-secret-{}", ulid::Ulid::new());
    let created = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating a secret: {e}"));
    created.arn.unwrap_or_else(|| panic!("the new secret has an ARN"))
}

/// Rotates the local secret `arn` to `value` (its new current version).
pub async fn rotate_local_secret(arn: &str, value: &str) {
    let client = aws_sdk_secretsmanager::Client::new(&local_sdk_config().await);
    client
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("rotating a secret: {e}"));
}

/// A free partner `id` whose address on record is `email` (emails go to the address on record).
pub async fn seed_recipient(store: &Store, id: &str, email: &str) {
    seed_profile(store, id, email, jiff::Timestamp::now()).await;
}

/// The free partner `id` ("Company <id>", base PCR 80, `email`), created or updated as of `now`.
async fn seed_profile(store: &Store, id: &str, email: &str, now: jiff::Timestamp) {
    use crate::domain::history_and_audit::Actor;
    use crate::domain::partner::{CompanyName, Email, PartnerId, ProfileFields};
    use crate::domain::pcr::{BasePcr, Momentum};
    let fields = ProfileFields {
        company_name: CompanyName::parse(&format!("Company {id}")).expect("name"),
        primary_email: Email::parse(email).expect("email"),
        base_pcr_score: BasePcr::from_hundredths(8_000).expect("base"),
        momentum_modifier: Momentum::Steady,
    };
    let partner_id = PartnerId::parse(id).expect("test partner id");
    crate::usecases::partners::upsert_partner(store, &partner_id, fields, Actor::System, now)
        .await
        .expect("upsert");
}
