//! The portal against moto and an exact-request Stripe stub: who may call what, ownership on every
//! route, cancellation within the commitment and its withdrawal, GDPR export and erasure, and the
//! per-partner rate limit across two handler instances.

mod support;

use serde_json::json;
use shared::auth::{sign_claims, Claims, Role};
use shared::domain::history_and_audit::{AuditAction, HistoryEventType};
use shared::domain::partner::SubscriptionStatus;
use shared::store::PageRequest;
use shared::testing::stripe_stub::StripeStub;
use shared::testing::{admin_token, outbox_events, test_signing_key};
use support::*;

const STUB_KEY: &str = "sk_test_stub_key";

/// Every portal route, with a body it accepts.
const ROUTES: [(&str, &str, Option<&str>); 10] = [
    ("GET", "/portal/me", None),
    ("GET", "/portal/tiers", None),
    ("POST", "/portal/upgrade", Some(r#"{"tier":"platinum"}"#)),
    ("POST", "/portal/payment-method", None),
    ("GET", "/portal/invoices", None),
    ("GET", "/portal/invoices/in_x/pdf", None),
    ("POST", "/portal/cancel", Some(r#"{"reason":"budget","confirm":true}"#)),
    ("POST", "/portal/cancel/withdraw", None),
    ("GET", "/portal/export", None),
    ("DELETE", "/portal/payment-history", Some(r#"{"confirm":true}"#)),
];

fn claims(role: &str, partner_id: Option<&str>, exp: u64) -> Claims {
    let rules = shared::testing::test_rules(Role::Partner);
    let now = jiff::Timestamp::now().as_second() as u64;
    Claims {
        iss: Some(rules.issuer),
        aud: Some(rules.audience),
        iat: Some(now),
        nbf: Some(now),
        sub: "user-1".into(),
        role: role.into(),
        exp,
        partner_id: partner_id.map(str::to_owned),
    }
}

fn partner_key() -> shared::config::Secret {
    test_signing_key(Role::Partner)
}

#[tokio::test]
async fn only_a_valid_partner_token_opens_the_portal() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let partner = free_partner(api.store(), &unique("p")).await;
    let id = partner.id.to_string();
    let in_an_hour = jiff::Timestamp::now().as_second() as u64 + 3_600;
    let expired = sign_claims(&partner_key(), &claims("partner", Some(&id), 1_000)).unwrap();
    let other_key = sign_claims(
        &shared::config::Secret::new("another-key-another-key-another-key!!"),
        &claims("partner", Some(&id), in_an_hour),
    )
    .unwrap();
    let no_partner = sign_claims(&partner_key(), &claims("partner", None, in_an_hour)).unwrap();
    let alg_none = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_vec(&claims("partner", Some(&id), in_an_hour)).unwrap())
        )
    };
    // The portal holds only the partner key: an admin token does not verify here at all, and a
    // token signed with the partner key that claims the admin role is still refused for its role.
    let admin_role_with_partner_key = sign_claims(&partner_key(), &claims("admin", None, in_an_hour)).unwrap();
    for (method, path, body) in ROUTES {
        for (token, status) in [
            (None, 401),
            (Some(expired.as_str()), 401),
            (Some(other_key.as_str()), 401),
            (Some(no_partner.as_str()), 401),
            (Some(alg_none.as_str()), 401),
            (Some(admin_token("admin-1")).as_deref(), 401),
            (Some(admin_role_with_partner_key.as_str()), 403),
        ] {
            let answer = api.send(method, path, body, token).await;
            assert_eq!(answer.status, status, "{method} {path} with {token:?}: {}", answer.body);
            assert_eq!(answer.content_type, "application/problem+json");
        }
    }
    let after = api.store().get_partner(&partner.id).await.unwrap().unwrap();
    assert_eq!(after.version, partner.version, "no refused request changed anything");
    assert!(stub.requests().is_empty(), "no refused request reached Stripe");
}

#[tokio::test]
async fn a_partner_reaches_only_its_own_data() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let mine = free_partner(api.store(), &unique("mine")).await;
    let theirs_id = unique("theirs");
    let theirs = billed_gold_with_invoice(api.store(), &theirs_id).await;
    let token = token_for(&mine);

    let pdf = api
        .send(
            "GET",
            &format!("/portal/invoices/{}/pdf", invoice_id_of(&theirs_id)),
            None,
            Some(&token),
        )
        .await;
    let unknown = api
        .send("GET", "/portal/invoices/in_nobody/pdf", None, Some(&token))
        .await;
    assert_eq!((pdf.status, unknown.status), (404, 404));
    assert_eq!(pdf.body["type"], unknown.body["type"]);
    assert!(pdf.body["detail"].as_str().unwrap().starts_with("you have no invoice"));

    let invoices = api.send("GET", "/portal/invoices", None, Some(&token)).await;
    assert_eq!((invoices.status, invoices.body["invoices"].clone()), (200, json!([])));

    let naming = [
        ("GET", format!("/portal/me?partner_id={theirs_id}"), None),
        ("GET", format!("/portal/invoices?partner_id={theirs_id}"), None),
        (
            "POST",
            "/portal/upgrade".to_owned(),
            Some(json!({"tier": "gold", "partner_id": theirs_id})),
        ),
        (
            "POST",
            "/portal/cancel".to_owned(),
            Some(json!({"reason": "x", "confirm": true, "partner": theirs_id})),
        ),
        (
            "DELETE",
            "/portal/payment-history".to_owned(),
            Some(json!({"confirm": true, "partner_id": theirs_id})),
        ),
    ];
    for (method, path, body) in naming {
        let body = body.map(|b| b.to_string());
        let answer = api.send(method, &path, body.as_deref(), Some(&token)).await;
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.body);
    }
    for path in [
        format!("/portal/partners/{theirs_id}"),
        format!("/portal/{theirs_id}/me"),
        format!("/admin/partners/{theirs_id}"),
    ] {
        assert_eq!(api.send("GET", &path, None, Some(&token)).await.status, 404, "{path}");
    }
    let unchanged = api.store().get_partner(&theirs.id).await.unwrap().unwrap();
    assert_eq!(unchanged.version, theirs.version);
    let me = api.store().get_partner(&mine.id).await.unwrap().unwrap();
    assert_eq!(me.version, mine.version);
}

#[tokio::test]
async fn own_invoices_list_and_redirect_to_their_pdf() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let id = unique("inv");
    let partner = billed_gold_with_invoice(api.store(), &id).await;
    let token = token_for(&partner);
    let list = api.send("GET", "/portal/invoices?limit=10", None, Some(&token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let row = &list.body["invoices"][0];
    assert_eq!(row["invoice_id"], invoice_id_of(&id));
    assert_eq!(
        (row["amount_cents"].clone(), row["amount"].clone()),
        (json!(360_000), json!("$3,600.00"))
    );
    assert_eq!(row["status"], json!("paid"));
    assert!(row["invoice_pdf_url"].is_string());
    assert_eq!(row["amount_refunded_cents"], json!(0));
    let pdf = api
        .send(
            "GET",
            &format!("/portal/invoices/{}/pdf", invoice_id_of(&id)),
            None,
            Some(&token),
        )
        .await;
    assert_eq!(pdf.status, 302);
    let location = pdf.headers.get("location").unwrap().to_str().unwrap();
    assert!(location.ends_with(&format!("{}/pdf", invoice_id_of(&id))), "{location}");
}

#[tokio::test]
async fn cancel_within_the_commitment_keeps_access_then_withdraw() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let partner = billed_gold_with_invoice(api.store(), &unique("cx")).await;
    let token = token_for(&partner);

    let refused = api
        .send("POST", "/portal/cancel", Some(r#"{"reason":"budget"}"#), Some(&token))
        .await;
    assert_eq!(refused.status, 422, "confirm is required: {}", refused.body);
    let no_reason = api
        .send("POST", "/portal/cancel", Some(r#"{"confirm":true}"#), Some(&token))
        .await;
    assert_eq!(no_reason.status, 422);

    let cancelled = api
        .send(
            "POST",
            "/portal/cancel",
            Some(r#"{"reason":"budget cuts","confirm":true}"#),
            Some(&token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["access_until"], json!("2027-06-01"));
    assert_eq!(cancelled.body["refund_cents"], json!(0));
    assert!(cancelled.body["message"].as_str().unwrap().contains("not refunded"));
    assert_eq!(
        cancelled.body["account"]["tier"],
        json!("gold"),
        "access until the end date"
    );
    let stored = api.store().get_partner(&partner.id).await.unwrap().unwrap();
    assert_eq!(stored.subscription_status, SubscriptionStatus::Cancelled);
    let cancel_at = stub.requests_to(&format!("/v1/subscriptions/sub_{}", partner.id));
    let mirrored = cancel_at
        .iter()
        .find(|r| r.method == "POST")
        .expect("cancel_at sent to Stripe");
    assert_eq!(
        mirrored.field("cancel_at"),
        Some("1811808000"),
        "the term's end, 2027-06-01"
    );
    assert!(mirrored.headers.contains_key("idempotency-key"));

    let history = api
        .store()
        .partner_history(&partner.id, None, &PageRequest { limit: 5, cursor: None })
        .await
        .unwrap();
    assert_eq!(history.items[0].event_type, HistoryEventType::Cancellation);
    assert_eq!(
        history.items[0].created_by.to_string(),
        format!("partner:user-of-{}", partner.id)
    );
    let audit = api
        .store()
        .partner_audit(&partner.id, &PageRequest { limit: 5, cursor: None })
        .await
        .unwrap();
    let entry = audit
        .items
        .iter()
        .find(|a| a.action == AuditAction::SubscriptionCancelled)
        .expect("the cancellation is audited");
    assert_eq!(entry.actor.to_string(), format!("partner:user-of-{}", partner.id));
    let events = outbox_events(api.store()).await;
    assert!(
        events
            .iter()
            .any(|(kind, detail)| kind == "SubscriptionCancelled" && detail.contains(partner.id.as_str())),
        "the cancellation email's event is in the outbox: {events:?}"
    );

    let again = api
        .send(
            "POST",
            "/portal/cancel",
            Some(r#"{"reason":"again","confirm":true}"#),
            Some(&token),
        )
        .await;
    assert_eq!(again.status, 409);

    let withdrawn = api.send("POST", "/portal/cancel/withdraw", None, Some(&token)).await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    let stored = api.store().get_partner(&partner.id).await.unwrap().unwrap();
    assert_eq!(stored.subscription_status, SubscriptionStatus::Active);
    assert!(stored.auto_renewal);
    let cleared = stub.requests_to(&format!("/v1/subscriptions/sub_{}", partner.id));
    assert_eq!(
        cleared.last().unwrap().field("cancel_at"),
        Some(""),
        "cancel_at cleared in Stripe"
    );
    let twice = api.send("POST", "/portal/cancel/withdraw", None, Some(&token)).await;
    assert_eq!(twice.status, 409);
}

/// A cancellation an admin made (or Stripe) is not the partner's to take back: 409 saying who, and
/// nothing changes, here or in Stripe; `GET /portal/me` says who cancelled beforehand.
#[tokio::test]
async fn a_partner_withdraws_only_its_own_cancellation() {
    use shared::domain::history_and_audit::Actor;
    use shared::domain::subscription::CancelEffective;
    use shared::usecases::cancellation::{cancel_subscription, CancelCommand};
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let partner = billed_gold_with_invoice(api.store(), &unique("adm-cx")).await;
    let token = token_for(&partner);
    let command = CancelCommand {
        partner_id: partner.id.clone(),
        effective: CancelEffective::TermEnd,
        reason: shared::domain::partner::Note::parse("contract not extended").ok(),
        refund_unused: false,
        actor: Actor::Admin("admin-7".into()),
    };
    let calendar = shared::domain::dates::BusinessCalendar::utc();
    cancel_subscription(api.store(), None, &calendar, command, jiff::Timestamp::now())
        .await
        .unwrap();
    let me = api.send("GET", "/portal/me", None, Some(&token)).await;
    assert_eq!(
        me.body["subscription"]["cancelled_by"],
        json!("power100"),
        "{}",
        me.body
    );
    // Everything but the request counters of the rate limit.
    let snapshot = || async {
        let mut items = shared::testing::table_snapshot(api.store()).await;
        items.retain(|item| !item.contains(r#""pk":{"S":"RATE#"#));
        items
    };
    let before = snapshot().await;
    let requests_before = stub.requests().len();

    let refused = api.send("POST", "/portal/cancel/withdraw", None, Some(&token)).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.content_type, "application/problem+json");
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("cancelled by Power100"), "{detail}");
    assert!(
        !detail.contains("admin-7"),
        "an admin's id is not shown to a partner: {detail}"
    );
    assert_eq!(snapshot().await, before, "nothing changed");
    assert_eq!(stub.requests().len(), requests_before, "nothing sent to Stripe");

    // Its own cancellation, the partner may withdraw.
    let own = billed_gold_with_invoice(api.store(), &unique("own-cx")).await;
    let own_token = token_for(&own);
    let cancelled = api
        .send(
            "POST",
            "/portal/cancel",
            Some(r#"{"reason":"budget","confirm":true}"#),
            Some(&own_token),
        )
        .await;
    assert!(cancelled.status < 300, "{}", cancelled.body);
    let me = api.send("GET", "/portal/me", None, Some(&own_token)).await;
    assert_eq!(me.body["subscription"]["cancelled_by"], json!("partner"), "{}", me.body);
    let withdrawn = api
        .send("POST", "/portal/cancel/withdraw", None, Some(&own_token))
        .await;
    assert!(withdrawn.status < 300, "{}", withdrawn.body);
    let me = api.send("GET", "/portal/me", None, Some(&own_token)).await;
    assert_eq!(me.body["subscription"]["cancelled_by"], json!(null), "{}", me.body);
}

/// Every customer-portal session names our configuration (payment methods and invoice history
/// only), never the account's default, which could allow plan switches or leaving the commitment.
#[tokio::test]
async fn customer_portal_sessions_always_name_our_configuration() {
    let stub = StripeStub::start().await;
    let mut api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    api.portal.customer_portal = Some(shared::stripe::client::CustomerPortal {
        configuration: "bpc_PaymentMethodsOnly".into(),
        return_url: "https://partners.power100.example/portal".into(),
    });
    for prefix in ["cpc-a", "cpc-b"] {
        let partner = billed_gold_with_invoice(api.store(), &unique(prefix)).await;
        let answer = api
            .send("POST", "/portal/payment-method", None, Some(&token_for(&partner)))
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert!(answer.body["customer_portal_url"].is_string(), "{}", answer.body);
    }
    let sessions = stub.requests_to("/v1/billing_portal/sessions");
    assert_eq!(sessions.len(), 2);
    for session in sessions {
        assert_eq!(
            session.field("configuration"),
            Some("bpc_PaymentMethodsOnly"),
            "{:?}",
            session.form
        );
        assert_eq!(
            session.field("return_url"),
            Some("https://partners.power100.example/portal")
        );
    }
}

#[tokio::test]
async fn export_holds_every_kind_and_erasure_keeps_what_tax_law_needs() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let partner = billed_gold_with_invoice(api.store(), &unique("gdpr")).await;
    let token = token_for(&partner);
    // The sweep, run 30 days before the term's end, sends the renewal notice; a cancellation leaves a
    // note in the history and a reason in the audit trail; an email record completes the partition.
    let thirty_days_before: jiff::Timestamp = "2027-05-02T12:00:00Z".parse().unwrap();
    shared::usecases::sweep::run_expiry_sweep(
        api.store(),
        &shared::domain::dates::BusinessCalendar::utc(),
        &shared::usecases::sweep::SweepSettings::default(),
        thirty_days_before,
    )
    .await
    .unwrap();
    api.send(
        "POST",
        "/portal/cancel",
        Some(r#"{"reason":"Jane Doe moved to a competitor","confirm":true}"#),
        Some(&token),
    )
    .await;
    let claim = shared::store::email_log::EmailClaim {
        partner_id: &partner.id,
        event_id: "evt-email-1",
        kind: "cancellation_confirmation",
        to: "jane.doe@example.com",
        subject: "Your cancellation",
    };
    api.store()
        .claim_email(&claim, jiff::Timestamp::now(), jiff::SignedDuration::from_secs(60))
        .await
        .unwrap();

    let export = api.send("GET", "/portal/export", None, Some(&token)).await;
    assert_eq!(export.status, 200, "{}", export.body);
    let records = &export.body["records"];
    for kind in [
        "profile",
        "history",
        "audit",
        "invoices",
        "emails_sent",
        "renewal_notices",
    ] {
        assert!(
            records[kind].as_array().is_some_and(|rows| !rows.is_empty()),
            "{kind} is in the export: {records}"
        );
    }
    assert!(records.to_string().contains("jane.doe@example.com"));
    assert!(records["profile"][0].get("pk").is_none(), "table keys stay out");

    let erased = api
        .send(
            "DELETE",
            "/portal/payment-history",
            Some(r#"{"confirm":true}"#),
            Some(&token),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    assert_eq!(erased.body["erased"]["emails"], json!(1));
    assert_eq!(erased.body["erased"]["invoices_kept"], json!(1));
    assert!(erased.body["kept"][0]["why"].as_str().unwrap().contains("tax"));

    let after = api.send("GET", "/portal/export", None, Some(&token)).await.body;
    let text = after["records"].to_string();
    assert!(!text.contains("jane.doe@example.com"), "the email address is gone");
    assert!(!text.contains("Jane Doe"), "names in notes and reasons are gone");
    let invoice = &after["records"]["invoices"][0];
    assert_eq!(invoice["amount_cents"], json!(360_000), "invoice amounts stay");
    assert!(invoice["invoice_number"].is_string(), "invoice numbers stay");
    let actions: Vec<String> = after["records"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(actions.contains(&"personal_data_exported".to_owned()));
    assert!(actions.contains(&"payment_history_erased".to_owned()));

    let unconfirmed = api
        .send(
            "DELETE",
            "/portal/payment-history",
            Some(r#"{"confirm":false}"#),
            Some(&token),
        )
        .await;
    assert_eq!(unconfirmed.status, 422);
}

#[tokio::test]
async fn payment_requests_are_limited_per_partner_across_instances() {
    let stub = StripeStub::start().await;
    let mut first = TestPortal::new(&stub.base_url, STUB_KEY).await;
    first.portal.rate_limit_per_minute = 3;
    let mut second = TestPortal::on(first.store().clone(), first.calls.clone(), &stub.base_url, STUB_KEY);
    second.portal.rate_limit_per_minute = 3;
    let partner = free_partner(first.store(), &unique("rl")).await;
    let other = free_partner(first.store(), &unique("rl-other")).await;
    let token = token_for(&partner);
    // Wait for a fresh minute if this one is nearly over, so the four requests share a window.
    let second_of_minute = jiff::Timestamp::now().as_second() % 60;
    if second_of_minute > 50 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second_of_minute as u64)).await;
    }
    let mut statuses = Vec::new();
    for api in [&first, &second, &first, &second] {
        let answer = api.send("GET", "/portal/export", None, Some(&token)).await;
        statuses.push(answer.status);
        if answer.status == 429 {
            let retry: u32 = answer.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry));
            assert_eq!(answer.content_type, "application/problem+json");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    let not_limited = first.send("GET", "/portal/me", None, Some(&token)).await;
    assert_eq!(not_limited.status, 200, "reading the account is not a payment request");
    let others = second
        .send("GET", "/portal/export", None, Some(&token_for(&other)))
        .await;
    assert_eq!(others.status, 200, "the limit is per partner");
}

#[tokio::test]
async fn bad_input_answers_problems() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let partner = free_partner(api.store(), &unique("bad")).await;
    let token = token_for(&partner);
    let cases: [(&str, &str, Option<&str>, u16); 9] = [
        ("POST", "/portal/upgrade", Some(r#"{"tier":"free"}"#), 422),
        ("POST", "/portal/upgrade", Some(r#"{"tier":"diamond"}"#), 422),
        ("POST", "/portal/upgrade", Some(r#"{"tier":"gold","extra":1}"#), 422),
        ("POST", "/portal/upgrade", Some("not json"), 400),
        ("POST", "/portal/upgrade", None, 400),
        ("GET", "/portal/invoices?limit=0", None, 422),
        ("GET", "/portal/invoices?cursor=garbage", None, 400),
        ("PUT", "/portal/me", None, 405),
        ("POST", "/portal/cancel/withdraw", None, 409),
    ];
    for (method, path, body, status) in cases {
        let answer = api.send(method, path, body, Some(&token)).await;
        assert_eq!(answer.status, status, "{method} {path} {body:?}: {}", answer.body);
        assert_eq!(answer.content_type, "application/problem+json");
    }
}

#[tokio::test]
async fn an_upgrade_asks_stripe_exactly_once_for_a_partner_paid_subscription() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let partner = free_partner(api.store(), &unique("exact")).await;
    let token = token_for(&partner);
    let body = Some(r#"{"tier":"gold"}"#);
    let (first, second) = futures::join!(
        api.send("POST", "/portal/upgrade", body, Some(&token)),
        api.send("POST", "/portal/upgrade", body, Some(&token)),
    );
    let statuses = [first.status, second.status];
    assert!(
        statuses.contains(&202) && statuses.iter().all(|s| *s == 202 || *s == 409),
        "{statuses:?}: {} {}",
        first.body,
        second.body
    );
    let third = api.send("POST", "/portal/upgrade", body, Some(&token)).await;
    assert_eq!(third.status, 202, "{}", third.body);
    assert_eq!(third.body["payment"]["client_secret"], json!("pi_Stub0001_secret_stub"));

    let created: Vec<_> = stub
        .requests_to("/v1/subscriptions")
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(created.len(), 1, "one subscription for a double submit and a repeat");
    let create = &created[0];
    assert_eq!(create.field("payment_behavior"), Some("default_incomplete"));
    assert_eq!(
        create.field("payment_settings[save_default_payment_method]"),
        Some("on_subscription")
    );
    assert_eq!(create.field("collection_method"), Some("charge_automatically"));
    assert_eq!(create.field("items[0][price]"), Some("price_gold"));
    assert_eq!(create.field("expand[0]"), Some("latest_invoice.confirmation_secret"));
    let key = create.headers.get("idempotency-key").expect("an idempotency key");
    assert!(key.starts_with(&format!("subscription-{}-v", partner.id)), "{key}");
    let stored = api.store().get_partner(&partner.id).await.unwrap().unwrap();
    assert_eq!(
        stored.engagement_tier,
        shared::domain::tier::Tier::Free,
        "granted by money only"
    );
    let audit = api
        .store()
        .partner_audit(
            &partner.id,
            &PageRequest {
                limit: 10,
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert!(audit
        .items
        .iter()
        .all(|a| a.actor.to_string() == format!("partner:user-of-{}", partner.id) || a.actor.to_string() == "system"));

    let setup = api
        .send("POST", "/portal/payment-method", Some("{}"), Some(&token))
        .await;
    assert_eq!(setup.status, 201, "{}", setup.body);
    assert_eq!(setup.body["client_secret"], json!("seti_Stub0001_secret_stub"));
    let intent = &stub.requests_to("/v1/setup_intents")[0];
    assert_eq!(intent.field("usage"), Some("off_session"));
    assert_eq!(intent.field("metadata[partner_id]"), Some(partner.id.as_str()));
    assert!(intent.headers.contains_key("idempotency-key"));
}

/// DynamoDB requests per route (the numbers in the closing notes and `make bench` come from here).
#[tokio::test]
async fn dynamodb_requests_per_route() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let billed = billed_gold_with_invoice(api.store(), &unique("calls")).await;
    let free = free_partner(api.store(), &unique("calls-free")).await;
    let (billed_token, free_token) = (token_for(&billed), token_for(&free));
    let invoice_pdf = format!("/portal/invoices/{}/pdf", invoice_id_of(billed.id.as_str()));
    let routes: [(&str, &str, Option<&str>, &str, usize); 11] = [
        // The first view reads the card from Stripe once and keeps the copy; later views read the
        // profile and the copy, and ask Stripe nothing.
        ("GET", "/portal/me", None, &billed_token, 3),
        ("GET", "/portal/me", None, &billed_token, 2),
        ("GET", "/portal/tiers", None, &billed_token, 1),
        ("GET", "/portal/invoices", None, &billed_token, 1),
        ("GET", &invoice_pdf, None, &billed_token, 1),
        ("POST", "/portal/upgrade", Some(r#"{"tier":"gold"}"#), &free_token, 5),
        ("POST", "/portal/payment-method", None, &billed_token, 3),
        (
            "POST",
            "/portal/cancel",
            Some(r#"{"reason":"budget","confirm":true}"#),
            &billed_token,
            4,
        ),
        ("POST", "/portal/cancel/withdraw", None, &billed_token, 4),
        ("GET", "/portal/export", None, &billed_token, 4),
        (
            "DELETE",
            "/portal/payment-history",
            Some(r#"{"confirm":true}"#),
            &billed_token,
            4,
        ),
    ];
    let mut measured = Vec::new();
    for (method, path, body, token, _) in routes {
        api.calls.clear();
        let answer = api.send(method, path, body, Some(token)).await;
        assert!(
            answer.status < 300 || answer.status == 302,
            "{method} {path}: {}",
            answer.body
        );
        // The erasure updates each record that held personal data, one request each: its count
        // is 4 plus the records its answer says it erased.
        let erased = ["history_entries", "audit_entries", "emails", "outbox_events"]
            .iter()
            .map(|kind| answer.body["erased"][kind].as_u64().unwrap_or(0) as usize)
            .sum::<usize>();
        measured.push((format!("{method} {path}"), api.calls.calls(), erased));
    }
    for ((route, calls, erased), (_, _, _, _, expected)) in measured.iter().zip(routes) {
        println!("{route}: {} {calls:?}", calls.len());
        if route.contains("payment-history") {
            assert!(
                *erased >= 2,
                "the billed partner had history and audit to erase: {erased}"
            );
            assert_eq!(calls.len(), expected + erased + 1, "{route}: {calls:?}");
            // One UpdateItem per record erased, and the card copy's DeleteItem.
            let rest = &calls[expected..];
            assert_eq!(
                rest.iter().filter(|c| *c == "DeleteItem").count(),
                1,
                "{route}: {calls:?}"
            );
            assert!(
                rest.iter().all(|c| c == "UpdateItem" || c == "DeleteItem"),
                "{route}: {calls:?}"
            );
        } else {
            assert_eq!(calls.len(), expected, "{route}: {calls:?}");
        }
    }
}

/// The card on file is the table's copy: a view asks Stripe only the first time and after Stripe
/// reports a change (a payment method attached, a card confirmed, a paid invoice); other views make
/// no Stripe request at all.
#[tokio::test]
async fn a_view_asks_stripe_for_the_card_only_after_stripe_reported_a_change() {
    use shared::stripe::webhook::StripeEvent;
    use shared::usecases::stripe_events::{handle_stripe_event, BillingRules, EventOutcome};
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let partner = billed_gold_with_invoice(api.store(), &unique("card")).await;
    let token = token_for(&partner);
    let view = || async {
        let me = api.send("GET", "/portal/me", None, Some(&token)).await;
        assert_eq!(me.status, 200, "{}", me.body);
        me.body["payment_method"].clone()
    };
    let visa =
        json!({"status": "on_file", "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}});

    assert_eq!(view().await, visa, "read from Stripe the first time");
    let first_reads = stub.requests().len();
    assert!(first_reads >= 1, "the first view read the card from Stripe");
    for _ in 0..5 {
        assert_eq!(view().await, visa);
    }
    assert_eq!(stub.requests().len(), first_reads, "five more views: no Stripe request");

    // Stripe reports a payment method attached to the partner's customer.
    let customer = partner.stripe_customer_id.clone().unwrap();
    let now = jiff::Timestamp::now();
    let attached = StripeEvent::from_api(shared::stripe::fixtures::event(
        "evt_card_attached",
        "payment_method.attached",
        now.as_second(),
        json!({"id": "pm_new", "object": "payment_method", "type": "card", "customer": customer,
               "card": {"brand": "mastercard", "last4": "4444", "exp_month": 1, "exp_year": 2031}}),
    ))
    .unwrap();
    let calendar = shared::domain::dates::BusinessCalendar::utc();
    let prices = shared::testing::billing::test_prices();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    let outcome = handle_stripe_event(api.store(), &rules, None, &attached, now)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        EventOutcome::Applied {
            partner_id: partner.id.clone()
        }
    );

    assert_eq!(view().await, visa, "read again (the stub's default is still the Visa)");
    let second_reads = stub.requests().len();
    assert!(second_reads > first_reads, "the view after the change asked Stripe");
    for _ in 0..5 {
        view().await;
    }
    assert_eq!(stub.requests().len(), second_reads, "and then no more");

    // A partner without a Stripe customer has no card, and nothing is asked.
    let free = free_partner(api.store(), &unique("nocard")).await;
    let before = stub.requests().len();
    let me = api.send("GET", "/portal/me", None, Some(&token_for(&free))).await;
    assert_eq!(me.body["payment_method"], json!({"status": "none"}), "{}", me.body);
    assert_eq!(stub.requests().len(), before);
}
