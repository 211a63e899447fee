//! Sign-in by email link against moto (DynamoDB and SES), through the function's own handler: the
//! link is mailed only to a partner's contact address, its code signs in once, the table keeps only
//! its hash, every address gets the same answer in no less than the same time, the limits hold, and
//! a signed-out token is refused.

mod support;

use lambda_http::{Body, Request};
use partner_portal::{PortalFunction, SignIn};
use serde_json::Value;
use shared::auth::Role;
use shared::domain::sign_in::{code_expiry, ANSWER_FLOOR, LINKS_PER_ADDRESS, SIGN_IN_ANSWER};
use shared::runtime::HttpFunction;
use shared::sign_in_codes::code_hash;
use shared::store::sign_in::CodeGrant;
use shared::testing::pipeline::{ses_messages_to, verified_mailer};
use shared::testing::{seed_recipient, test_rules, test_signing_key};
use std::time::Instant;
use support::{unique, TestPortal};

const PORTAL_URL: &str = "https://portal.example.test/partner/billing";

async fn function() -> PortalFunction {
    let portal = TestPortal::new("http://127.0.0.1:9", "sk_test_unused").await.portal;
    PortalFunction {
        portal,
        sign_in: SignIn {
            mailer: verified_mailer().await,
            portal_url: PORTAL_URL.into(),
            key: test_signing_key(Role::Partner),
            rules: test_rules(Role::Partner),
        },
    }
}

async fn send(
    f: &PortalFunction,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (u16, Value, lambda_http::http::HeaderMap) {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://portal.example.test{path}"));
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let req: Request = builder
        .body(body.map(|b| Body::Text(b.to_string())).unwrap_or(Body::Empty))
        .unwrap();
    let res = f.respond(&req).await;
    let json = serde_json::from_slice(res.body().as_ref()).unwrap_or(Value::Null);
    (res.status().as_u16(), json, res.headers().clone())
}

/// The code in the last link mailed to `to`.
async fn mailed_code(to: &str) -> Option<String> {
    let mail = ses_messages_to(to).await;
    let body = mail.last()?["body"].as_str()?.to_owned();
    let at = body.find("#code=")? + "#code=".len();
    Some(body[at..at + 43].to_owned())
}

#[tokio::test]
async fn a_link_mailed_to_the_contact_signs_in_once_and_sign_out_ends_the_token() {
    let f = function().await;
    let id = unique("signin");
    let email = format!("{id}@keystone.example");
    seed_recipient(&f.portal.store, &id, &email).await;

    // Typed with capitals: the same address.
    let (status, body, _) = send(
        &f,
        "POST",
        "/portal/sign-in",
        Some(serde_json::json!({ "email": email.to_uppercase() })),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["message"], SIGN_IN_ANSWER);
    let mail = ses_messages_to(&email).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0]["body"]
        .as_str()
        .unwrap()
        .contains(&format!("{PORTAL_URL}#code=")));
    let code = mailed_code(&email).await.expect("a code in the link");

    let (status, session, _) = send(
        &f,
        "POST",
        "/portal/session",
        Some(serde_json::json!({ "code": code })),
        None,
    )
    .await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 3600);
    let token = session["token"].as_str().unwrap().to_owned();
    let (status, me, _) = send(&f, "GET", "/portal/me", None, Some(&token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["partner_id"], id.as_str());

    // Once only.
    let (status, again, _) = send(
        &f,
        "POST",
        "/portal/session",
        Some(serde_json::json!({ "code": code })),
        None,
    )
    .await;
    assert_eq!(status, 401, "{again}");
    assert!(again["detail"].as_str().unwrap().contains("used already"));

    // The table keeps the hash, never the code: taking by the code's hash finds nothing now, and a
    // code stored as expired is refused.
    let store = &f.portal.store;
    let grant = CodeGrant {
        partner_id: shared::domain::partner::PartnerId::parse(&id).unwrap(),
        email_key: "k".into(),
    };
    let past = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(16);
    store
        .put_sign_in_code(&code_hash("expired-code"), &grant, code_expiry(past))
        .await
        .unwrap();
    assert!(store
        .take_sign_in_code(&code_hash("expired-code"), jiff::Timestamp::now())
        .await
        .unwrap()
        .is_none());

    // Signing out refuses the token on every route.
    let (status, _, _) = send(&f, "POST", "/portal/sign-out", None, Some(&token)).await;
    assert_eq!(status, 204);
    let (status, refused, _) = send(&f, "GET", "/portal/me", None, Some(&token)).await;
    assert_eq!(status, 401, "{refused}");
    let (status, _, _) = send(&f, "POST", "/portal/sign-out", None, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn every_address_gets_the_same_answer_in_no_less_time_and_only_a_contact_gets_mail() {
    let f = function().await;
    let id = unique("signin-same");
    let known = format!("{id}@keystone.example");
    seed_recipient(&f.portal.store, &id, &known).await;
    let unknown = format!("nobody-{id}@keystone.example");
    let mut answers = Vec::new();
    for email in [&known, &unknown] {
        let started = Instant::now();
        let (status, body, _) = send(
            &f,
            "POST",
            "/portal/sign-in",
            Some(serde_json::json!({ "email": email })),
            None,
        )
        .await;
        answers.push((status, body, started.elapsed()));
    }
    assert_eq!(answers[0].0, 202);
    assert_eq!(
        (answers[0].0, &answers[0].1),
        (answers[1].0, &answers[1].1),
        "the same status and body"
    );
    for (_, _, took) in &answers {
        assert!(*took >= ANSWER_FLOOR, "answered after {took:?}, before the floor");
    }
    assert_eq!(ses_messages_to(&known).await.len(), 1);
    assert!(ses_messages_to(&unknown).await.is_empty());

    // Not an address, or another field: 4xx problems, never 5xx.
    for body in [
        serde_json::json!({ "email": "no-at-sign" }),
        serde_json::json!({ "email": known, "partner_id": id }),
        serde_json::json!({}),
    ] {
        let (status, problem, _) = send(&f, "POST", "/portal/sign-in", Some(body), None).await;
        assert!((400..500).contains(&status), "{status} {problem}");
    }
    let (status, _, _) = send(
        &f,
        "POST",
        "/portal/session",
        Some(serde_json::json!({ "code": "short" })),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _, headers) = send(&f, "GET", "/portal/sign-in", None, None).await;
    assert_eq!((status, headers["allow"].to_str().unwrap()), (405, "POST"));
}

#[tokio::test]
async fn a_flood_sends_no_more_mail_and_the_client_limit_answers_429() {
    let f = function().await;
    let id = unique("signin-flood");
    let email = format!("{id}@keystone.example");
    seed_recipient(&f.portal.store, &id, &email).await;
    let ask = || {
        send(
            &f,
            "POST",
            "/portal/sign-in",
            Some(serde_json::json!({ "email": email })),
            None,
        )
    };
    // Five requests for one address: each answered alike, three links mailed.
    let answers = futures::future::join_all((0..5).map(|_| ask())).await;
    assert!(answers
        .iter()
        .all(|(status, body, _)| *status == 202 && body["message"] == SIGN_IN_ANSWER));
    assert_eq!(ses_messages_to(&email).await.len(), LINKS_PER_ADDRESS as usize);
    // The links already sent keep working: the partner is not locked out.
    let code = mailed_code(&email).await.unwrap();
    let (status, _, _) = send(
        &f,
        "POST",
        "/portal/session",
        Some(serde_json::json!({ "code": code })),
        None,
    )
    .await;
    assert_eq!(status, 201);
    // Ten a minute from one client; the eleventh answers 429 with Retry-After.
    let more = futures::future::join_all((0..6).map(|_| ask())).await;
    let limited: Vec<_> = more.iter().filter(|(status, _, _)| *status == 429).collect();
    assert_eq!(limited.len(), 1, "{:?}", more.iter().map(|a| a.0).collect::<Vec<_>>());
    let retry: u32 = limited[0].2["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
}
