//! Every bad input answers the right 4xx as application/problem+json, saying what was wrong.

mod support;

use proptest::prelude::*;
use serde_json::json;
use shared::auth::{mint_token, Claims, Role};
use shared::domain::partner::PartnerId;
use shared::testing::{partner_token, test_secret, test_token_rules};
use support::TestApi;

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    token: Token,
    status: u16,
    /// Text the problem's detail (or its field errors) must contain.
    says: &'static str,
}

#[derive(Clone, Copy)]
enum Token {
    Admin,
    Missing,
    Raw(&'static str),
    Expired,
    OtherKey,
    Partner,
    AlgNone,
}

fn token(api: &TestApi, kind: Token) -> Option<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match kind {
        Token::Admin => Some(api.token.clone()),
        Token::Missing => None,
        Token::Raw(raw) => Some(raw.to_owned()),
        Token::Expired => Some(mint_token(&test_secret(), &test_token_rules(), "a", Role::Admin, None, 1_000).unwrap()),
        Token::OtherKey => Some(
            mint_token(
                &shared::config::Secret::new("some-other-key-some-other-key-some-other"),
                &test_token_rules(),
                "a",
                Role::Admin,
                None,
                4_102_444_800,
            )
            .unwrap(),
        ),
        Token::Partner => Some(partner_token("p-1", &PartnerId::parse("p1").unwrap())),
        Token::AlgNone => {
            let claims = Claims {
                sub: "a".into(),
                role: "admin".into(),
                exp: 4_102_444_800,
                partner_id: None,
                iss: Some(test_token_rules().issuer),
                aud: Some(test_token_rules().audience),
                iat: Some(4_102_444_000),
                nbf: Some(4_102_444_000),
            };
            Some(format!(
                "{}.{}.",
                b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
                b64.encode(serde_json::to_vec(&claims).unwrap())
            ))
        }
    }
}

const TIER: &str = "/api/partners/p1/engagement-tier";

fn cases() -> Vec<Case> {
    use Token::*;
    let case = |name, method, path, body, token, status, says| Case {
        name,
        method,
        path,
        body,
        token,
        status,
        says,
    };
    vec![
        case(
            "malformed json",
            "PATCH",
            TIER,
            Some("{\"engagement_tier\": "),
            Admin,
            400,
            "malformed JSON",
        ),
        case(
            "not json at all",
            "PATCH",
            TIER,
            Some("tier=gold"),
            Admin,
            400,
            "malformed JSON",
        ),
        case("empty body", "PATCH", TIER, Some(""), Admin, 400, "empty"),
        case("array body", "PATCH", TIER, Some("[1,2]"), Admin, 422, "JSON object"),
        case(
            "unknown tier",
            "PATCH",
            TIER,
            Some(r#"{"engagement_tier":"silver"}"#),
            Admin,
            422,
            "unknown tier \\\"silver\\\"",
        ),
        case(
            "tier not a string",
            "PATCH",
            TIER,
            Some(r#"{"engagement_tier":5}"#),
            Admin,
            422,
            "must be a string",
        ),
        case(
            "missing tier",
            "PATCH",
            TIER,
            Some(r#"{"reason":"x"}"#),
            Admin,
            422,
            "engagement_tier is required",
        ),
        case(
            "end before start",
            "PATCH",
            TIER,
            Some(
                r#"{"engagement_tier":"gold","subscription_start_date":"2026-12-01","subscription_end_date":"2026-11-01"}"#,
            ),
            Admin,
            422,
            "must be after",
        ),
        case(
            "bad date",
            "PATCH",
            TIER,
            Some(r#"{"engagement_tier":"gold","subscription_start_date":"2026-02-30"}"#),
            Admin,
            422,
            "not a calendar date",
        ),
        case(
            "date with time",
            "PATCH",
            TIER,
            Some(r#"{"engagement_tier":"gold","subscription_end_date":"2026-12-01T00:00:00Z"}"#),
            Admin,
            422,
            "YYYY-MM-DD",
        ),
        case(
            "negative version",
            "PATCH",
            TIER,
            Some(r#"{"engagement_tier":"gold","expected_version":-1}"#),
            Admin,
            422,
            "expected_version",
        ),
        case(
            "stale version",
            "PATCH",
            TIER,
            Some(r#"{"engagement_tier":"gold","expected_version":7}"#),
            Admin,
            409,
            "not the expected version 7",
        ),
        case("reason too long", "PATCH", TIER, None, Admin, 422, "at most 1000"),
        case(
            "wrong content type",
            "PATCH",
            TIER,
            Some("x"),
            Admin,
            415,
            "Content-Type",
        ),
        case(
            "unknown partner",
            "PATCH",
            "/api/partners/nobody/engagement-tier",
            Some(r#"{"engagement_tier":"gold"}"#),
            Admin,
            404,
            "partner nobody does not exist",
        ),
        case(
            "impossible partner id",
            "GET",
            "/admin/partners/a%23b",
            None,
            Admin,
            404,
            "partner id",
        ),
        case("unknown route", "GET", "/admin/nothing", None, Admin, 404, "no route"),
        case(
            "wrong method",
            "DELETE",
            "/admin/partners/p1",
            None,
            Admin,
            405,
            "allowed: GET, PUT",
        ),
        case("no token", "GET", "/admin/tiers", None, Missing, 401, "missing"),
        case("not bearer", "GET", "/admin/tiers", None, Raw("Basic"), 401, "Bearer"),
        case(
            "garbage token",
            "GET",
            "/admin/tiers",
            None,
            Raw("Bearer abc.def.ghi"),
            401,
            "invalid token",
        ),
        case(
            "expired token",
            "GET",
            "/admin/tiers",
            None,
            Expired,
            401,
            "invalid token",
        ),
        case(
            "wrong signature",
            "GET",
            "/admin/tiers",
            None,
            OtherKey,
            401,
            "invalid token",
        ),
        case("alg none", "GET", "/admin/tiers", None, AlgNone, 401, "token"),
        case("partner token", "GET", "/admin/tiers", None, Partner, 403, "admin role"),
        case(
            "preview without tier",
            "GET",
            "/admin/partners/p1/tier-preview",
            None,
            Admin,
            422,
            "tier is required",
        ),
        case(
            "preview unknown tier",
            "GET",
            "/admin/partners/p1/tier-preview?tier=bronze",
            None,
            Admin,
            422,
            "unknown tier",
        ),
        case(
            "list unknown tier",
            "GET",
            "/admin/partners?tier=silver",
            None,
            Admin,
            422,
            "unknown tier",
        ),
        case(
            "list unknown status",
            "GET",
            "/admin/partners?status=paused",
            None,
            Admin,
            422,
            "unknown status",
        ),
        case(
            "list limit zero",
            "GET",
            "/admin/partners?limit=0",
            None,
            Admin,
            422,
            "limit",
        ),
        case(
            "list limit huge",
            "GET",
            "/admin/partners?limit=100000",
            None,
            Admin,
            422,
            "limit",
        ),
        case(
            "list unknown param",
            "GET",
            "/admin/partners?teir=gold",
            None,
            Admin,
            422,
            "teir",
        ),
        case(
            "list repeated param",
            "GET",
            "/admin/partners?tier=gold&tier=free",
            None,
            Admin,
            400,
            "more than once",
        ),
        case(
            "list bad cursor",
            "GET",
            "/admin/partners?cursor=abc",
            None,
            Admin,
            400,
            "cursor",
        ),
        case(
            "history cursor from elsewhere",
            "GET",
            "/admin/partners/p1/history?cursor=eyJwayI6IlBBUlRORVIjcDIiLCJzayI6IkhJU1QjeCJ9",
            None,
            Admin,
            400,
            "cursor",
        ),
        case(
            "history of unknown partner",
            "GET",
            "/admin/partners/nobody/history",
            None,
            Admin,
            404,
            "does not exist",
        ),
        case(
            "upsert bad email",
            "PUT",
            "/admin/partners/p2",
            Some(r#"{"company_name":"X","primary_email":"nope","base_pcr_score":80}"#),
            Admin,
            422,
            "primary_email must be an email",
        ),
        case(
            "upsert base too high",
            "PUT",
            "/admin/partners/p2",
            Some(r#"{"company_name":"X","primary_email":"a@b.co","base_pcr_score":101}"#),
            Admin,
            422,
            "base_pcr_score must be a number from 0 to 100",
        ),
        case(
            "upsert bad momentum",
            "PUT",
            "/admin/partners/p2",
            Some(r#"{"company_name":"X","primary_email":"a@b.co","base_pcr_score":80,"momentum_modifier":2}"#),
            Admin,
            422,
            "-3, 0 or 5",
        ),
        case(
            "upsert blank name",
            "PUT",
            "/admin/partners/p2",
            Some(r#"{"company_name":"  ","primary_email":"a@b.co","base_pcr_score":80}"#),
            Admin,
            422,
            "company_name",
        ),
        case(
            "upsert all missing",
            "PUT",
            "/admin/partners/p2",
            Some("{}"),
            Admin,
            422,
            "company_name is required; primary_email is required; base_pcr_score is required",
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_answers_the_right_problem() {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    let long_reason = json!({"engagement_tier": "gold", "reason": "x".repeat(1_001)}).to_string();
    let mut failures = Vec::new();
    for case in cases() {
        let body = match case.name {
            "reason too long" => Some(long_reason.as_str()),
            _ => case.body,
        };
        let token = token(&api, case.token);
        let mut builder = lambda_http::http::Request::builder()
            .method(case.method)
            .uri(format!("https://admin.example.test{}", case.path));
        if let Some(token) = &token {
            let value = if matches!(case.token, Token::Raw(_)) {
                token.clone()
            } else {
                format!("Bearer {token}")
            };
            builder = builder.header("authorization", value);
        }
        let content_type = if case.name == "wrong content type" {
            "text/plain"
        } else {
            "application/json"
        };
        builder = builder.header("content-type", content_type);
        let req = builder
            .body(
                body.map(|b| lambda_http::Body::from(b.to_owned()))
                    .unwrap_or(lambda_http::Body::Empty),
            )
            .unwrap();
        let answer = support::answer(api.app.handle(req).await);
        let text = answer.body.to_string();
        let ok = answer.status == case.status
            && answer.content_type == "application/problem+json"
            && text.contains(case.says);
        if !ok {
            failures.push(format!(
                "{}: {} {} -> {} {}",
                case.name, case.method, case.path, answer.status, text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // None of them changed the partner.
    let partner = api.get("/admin/partners/p1").await.body;
    assert_eq!(
        (partner["version"].clone(), partner["engagement_tier"].clone()),
        (json!(1), json!("free"))
    );
}

fn arbitrary_body() -> impl Strategy<Value = String> {
    let tier = prop_oneof![
        Just(json!("gold")),
        Just(json!("free")),
        Just(json!("platinum")),
        any::<String>().prop_map(|s| json!(s)),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(null))
    ];
    let date = prop_oneof![
        Just(json!("2026-12-01")),
        Just(json!("2027-02-29")),
        "[0-9-]{0,12}".prop_map(|s| json!(s)),
        any::<f64>().prop_map(|n| json!(n)),
        Just(json!(null)),
        Just(json!([]))
    ];
    let version = prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(1.5)),
        Just(json!("1")),
        Just(json!(null))
    ];
    let structured = (tier, date.clone(), date, version, proptest::option::of(".{0,20}")).prop_map(|(t, s, e, v, r)| {
        json!({"engagement_tier": t, "subscription_start_date": s, "subscription_end_date": e, "expected_version": v, "reason": r}).to_string()
    });
    prop_oneof![
        structured,
        ".{0,64}",
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_tier_bodies_never_answer_5xx(bodies in proptest::collection::vec(arbitrary_body(), 1..4)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let api = api_with_partner().await;
            for body in bodies {
                let answer = api.send("PATCH", TIER, Some(&body), Some(&api.token)).await;
                assert!(answer.status < 500, "{body:?} -> {} {}", answer.status, answer.body);
                if answer.status >= 400 {
                    assert_eq!(answer.content_type, "application/problem+json");
                }
            }
        });
    }

    #[test]
    fn arbitrary_dashboard_queries_never_answer_5xx(
        export in any::<bool>(),
        query in proptest::collection::vec(
            (prop_oneof![Just("tab".to_owned()), Just("tier".to_owned()), Just("sort".to_owned()), Just("order".to_owned()), Just("limit".to_owned()), Just("cursor".to_owned()), Just("event_type".to_owned()), Just("partner".to_owned()), "[a-z_]{1,8}"],
             prop_oneof![Just("active".to_owned()), Just("expiring".to_owned()), Just("history".to_owned()), Just("gold".to_owned()), Just("desc".to_owned()),
                         Just("company_name".to_owned()), Just("upgrade".to_owned()), "[A-Za-z0-9_%-]{0,24}"]),
            0..5,
        ),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let api = api_with_partner().await;
            let path = if export { "/admin/subscriptions/export.csv" } else { "/admin/subscriptions" };
            let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let answer = api.get(&format!("{path}?{}", query.join("&"))).await;
            assert!(answer.status < 500, "{path}?{query:?} -> {} {}", answer.status, answer.body);
        });
    }

    #[test]
    fn arbitrary_paths_and_queries_never_answer_5xx(path in "/[a-z/%?=&#0-9._-]{0,60}") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let api = api_with_partner().await;
            let Ok(uri) = format!("https://admin.example.test{path}").parse::<lambda_http::http::Uri>() else { return };
            let req = lambda_http::http::Request::builder()
                .uri(uri)
                .header("authorization", format!("Bearer {}", api.token))
                .body(lambda_http::Body::Empty)
                .unwrap();
            let answer = support::answer(api.app.handle(req).await);
            assert!(answer.status < 500, "{path:?} -> {} {}", answer.status, answer.body);
        });
    }
}

async fn api_with_partner() -> TestApi {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    api
}
