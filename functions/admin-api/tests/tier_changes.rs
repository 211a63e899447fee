//! Tier changes through admin-api against moto: round trips, atomicity, concurrency, call count.

mod support;

use jiff::civil::date;
use serde_json::{json, Value};
use shared::domain::history_and_audit::{Actor, AuditAction, AuditEntry};
use shared::domain::partner::PartnerId;
use shared::ids::next_id;
use shared::store::PartnerWrite;
use shared::testing::due_index_ids;
use support::TestApi;

#[tokio::test]
async fn upsert_then_patch_round_trip() {
    let api = TestApi::new().await;
    api.partner("buildpro", "BuildPro CRM", 80.0).await;

    let again = api
        .put(
            "/admin/partners/buildpro",
            json!({"company_name": "BuildPro CRM", "primary_email": "buildpro@example.com", "base_pcr_score": "80.00"}),
        )
        .await;
    assert_eq!(
        (again.status, again.body["changed"].clone()),
        (200, json!(false)),
        "same fields again change nothing"
    );

    let detail = api.get("/admin/partners/buildpro").await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body["engagement_tier"], "free");
    assert_eq!(detail.body["final_pcr_score"], json!(70.0));
    assert_eq!(detail.body["subscription_status"], "inactive");
    assert_eq!(detail.body["version"], 1);

    let changed = api
        .tier(
            "buildpro",
            json!({"engagement_tier": "gold", "subscription_start_date": "2026-11-01", "reason": "signed contract"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let body = &changed.body;
    assert_eq!(body["changed"], true);
    assert_eq!(body["partner"]["engagement_tier"], "gold");
    assert_eq!(body["partner"]["tier_label"], "Power Gold");
    assert_eq!(body["partner"]["badge_color"], "gold");
    assert_eq!(body["partner"]["payment_multiplier"], json!(2.5));
    assert_eq!(body["partner"]["subscription_start_date"], "2026-11-01");
    assert_eq!(body["partner"]["subscription_end_date"], "2027-11-01");
    assert_eq!(body["partner"]["subscription_status"], "active");
    assert_eq!(body["partner"]["version"], 2);
    assert_eq!(body["pcr_change"], json!({"before": 70.0, "after": 74.0, "delta": 4.0}));
    assert_eq!(body["history_entry"]["event_type"], "upgrade");
    assert_eq!(body["history_entry"]["notes"], "signed contract");
    assert_eq!(body["history_entry"]["created_by"], "admin:admin-1");

    let detail = api.get("/admin/partners/buildpro").await;
    assert_eq!(detail.body["final_pcr_score"], json!(74.0));
    assert_eq!(detail.body["engagement_tier"], "gold");

    // The same change again is acknowledged and writes nothing.
    let same = api.tier("buildpro", json!({"engagement_tier": "gold"})).await;
    assert_eq!((same.status, same.body["changed"].clone()), (200, json!(false)));
    assert_eq!(api.all("buildpro", "history").await.len(), 1);
}

#[tokio::test]
async fn free_clears_dates_and_leaves_the_subscription_index() {
    let api = TestApi::new().await;
    api.partner("p1", "TechFlow Solutions", 80.0).await;
    let gold = api.tier("p1", json!({"engagement_tier": "platinum", "subscription_start_date": "2026-01-01", "subscription_end_date": "2026-12-31"})).await;
    assert_eq!(gold.status, 200, "{}", gold.body);
    assert_eq!(due_index_ids(&api.app.store).await, vec!["p1".to_owned()]);

    let free = api.tier("p1", json!({"engagement_tier": "free"})).await;
    assert_eq!(free.status, 200, "{}", free.body);
    let partner = &free.body["partner"];
    assert_eq!(partner["subscription_start_date"], Value::Null);
    assert_eq!(partner["subscription_end_date"], Value::Null);
    assert_eq!(partner["subscription_status"], "inactive");
    assert_eq!(partner["final_pcr_score"], json!(70.0));
    assert_eq!(free.body["pcr_change"]["delta"], json!(-14.0));
    assert_eq!(free.body["history_entry"]["event_type"], "downgrade");
    assert!(
        due_index_ids(&api.app.store).await.is_empty(),
        "a free partner is not in the sparse index"
    );
}

#[tokio::test]
async fn preview_changes_nothing() {
    let api = TestApi::new().await;
    api.partner("p1", "ContractorPro", 65.0).await;
    let before = api.get("/admin/partners/p1").await.body;
    let preview = api.get("/admin/partners/p1/tier-preview?tier=gold").await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["current"]["final_pcr_score"], json!(58.0));
    assert_eq!(preview.body["proposed"]["final_pcr_score"], json!(62.0));
    assert_eq!(preview.body["proposed"]["label"], "Power Gold");
    assert_eq!(preview.body["proposed"]["multiplier"], json!(2.5));
    assert_eq!(preview.body["pcr_delta"], json!(4.0));
    assert_eq!(preview.body["pcr_delta_text"], "+4 points");
    assert_eq!(api.get("/admin/partners/p1").await.body, before);
    assert!(api.all("p1", "history").await.is_empty());
    assert_eq!(api.all("p1", "audit").await.len(), 1, "only the creation");
}

#[tokio::test]
async fn history_audit_and_outbox_are_written_with_the_change() {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    api.tier("p1", json!({"engagement_tier": "gold", "reason": "upsell"}))
        .await;
    api.tier("p1", json!({"engagement_tier": "platinum"})).await;

    let history = api.all("p1", "history").await;
    let types: Vec<_> = history.iter().map(|h| h["event_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["upgrade", "upgrade"]);
    assert_eq!(history[0]["to_tier"], "platinum", "newest first");
    assert_eq!(history[1]["from_tier"], "free");
    assert_eq!(
        (history[1]["pcr_before"].clone(), history[1]["pcr_after"].clone()),
        (json!(70.0), json!(74.0))
    );

    let audit = api.all("p1", "audit").await;
    let actions: Vec<_> = audit.iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["tier_changed", "tier_changed", "partner_created"]);
    assert_eq!(audit[1]["actor"], "admin:admin-1");
    assert_eq!(audit[1]["reason"], "upsell");
    let tier_change = audit[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "engagement_tier")
        .unwrap();
    assert_eq!(
        (tier_change["from"].clone(), tier_change["to"].clone()),
        (json!("free"), json!("gold"))
    );

    let events = shared::testing::outbox_events(&api.app.store).await;
    let tier_events: Vec<Value> = events
        .iter()
        .filter(|(t, _)| t == "TierChanged")
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(tier_events.len(), 2);
    let first = tier_events.iter().find(|e| e["to_tier"] == "gold").unwrap();
    assert_eq!(
        (first["pcr_before"].clone(), first["pcr_after"].clone()),
        (json!(70.0), json!(74.0))
    );
    assert_eq!(first["partner_id"], "p1");
    assert_eq!(first["changed_by"], "admin:admin-1");
}

#[tokio::test]
async fn a_failed_transaction_writes_nothing() {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    let store = &api.app.store;
    let id = PartnerId::parse("p1").unwrap();
    let before = store.get_partner(&id).await.unwrap().unwrap();
    let audit_before = api.all("p1", "audit").await;
    let outbox_before = shared::testing::outbox_events(store).await;

    // A stale version: the profile condition fails.
    let stale = api
        .tier("p1", json!({"engagement_tier": "gold", "expected_version": 0}))
        .await;
    assert_eq!(stale.status, 409);

    // A write whose audit item collides with an existing one: the last item's condition fails,
    // and the profile, history and outbox items of the same transaction must not land either.
    let existing_audit_id: ulid::Ulid = audit_before[0]["id"].as_str().unwrap().parse().unwrap();
    let mut next = before.clone();
    next.version += 1;
    next.engagement_tier = shared::domain::tier::Tier::Gold;
    let audit = AuditEntry {
        id: existing_audit_id.to_string(),
        partner_id: id.clone(),
        action: AuditAction::TierChanged,
        actor: Actor::System,
        reason: None,
        changes: vec![],
        version: next.version,
        at: next.updated_at,
    };
    let history_id = next_id();
    let history = shared::domain::history_and_audit::HistoryEntry {
        id: history_id.to_string(),
        partner_id: id.clone(),
        event_type: shared::domain::history_and_audit::HistoryEventType::Upgrade,
        from_tier: None,
        to_tier: None,
        subscription_start: None,
        subscription_end: None,
        amount_paid: None,
        payment_method: None,
        notes: None,
        pcr_before: None,
        pcr_after: None,
        version: next.version,
        created_at: next.updated_at,
        created_by: Actor::System,
    };
    let result = store
        .commit(PartnerWrite {
            partner: next,
            expected_version: Some(before.version),
            history: Some((history_id, history)),
            audit: (existing_audit_id, audit),
            events: vec![],
            before: Some(before.clone()),
        })
        .await;
    assert!(result.is_err(), "the colliding write must fail");

    assert_eq!(store.get_partner(&id).await.unwrap().unwrap(), before);
    assert!(api.all("p1", "history").await.is_empty());
    assert_eq!(api.all("p1", "audit").await, audit_before);
    assert_eq!(shared::testing::outbox_events(store).await, outbox_before);
}

#[tokio::test]
async fn two_changes_on_the_same_version_one_wins() {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    let (a, b) = tokio::join!(
        api.tier("p1", json!({"engagement_tier": "gold", "expected_version": 1})),
        api.tier("p1", json!({"engagement_tier": "platinum", "expected_version": 1})),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    let loser = if a.status == 409 { &a } else { &b };
    assert_eq!(loser.content_type, "application/problem+json");
    assert!(
        loser.body["detail"].as_str().unwrap().contains("version"),
        "{}",
        loser.body
    );
    assert_eq!(api.all("p1", "history").await.len(), 1);
}

#[tokio::test]
async fn twenty_concurrent_changes_without_a_version_stay_consistent() {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    let requests = (0..20).map(|i| {
        let tier = ["gold", "platinum"][i % 2];
        let end = date(2027, 1, 1).checked_add(jiff::Span::new().days(i as i64)).unwrap();
        json!({"engagement_tier": tier, "subscription_start_date": "2026-11-24", "subscription_end_date": end.to_string()})
    });
    let answers = futures::future::join_all(requests.map(|body| api.tier("p1", body))).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    for answer in &answers {
        assert!(
            answer.status == 200 || answer.status == 409,
            "{} {}",
            answer.status,
            answer.body
        );
        if answer.status == 200 {
            assert_eq!(answer.body["changed"], true);
        }
    }
    assert!(ok >= 1);
    let history = api.all("p1", "history").await;
    assert_eq!(history.len(), ok, "one history entry per success");
    let partner = api.get("/admin/partners/p1").await.body;
    let newest = &history[0];
    assert_eq!(partner["engagement_tier"], newest["to_tier"]);
    assert_eq!(partner["subscription_end_date"], newest["subscription_end"]);
    assert_eq!(partner["version"], newest["version"]);
    assert_eq!(partner["version"], json!(1 + ok));
    let versions: Vec<u64> = history.iter().map(|h| h["version"].as_u64().unwrap()).collect();
    assert!(
        versions.windows(2).all(|w| w[0] == w[1] + 1),
        "history in commit order: {versions:?}"
    );
    println!("20 concurrent PATCHes: {ok} applied, {} conflicts", 20 - ok);
}

#[tokio::test]
async fn one_patch_makes_two_dynamodb_calls() {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    api.calls.clear();
    let answer = api.tier("p1", json!({"engagement_tier": "gold"})).await;
    assert_eq!(answer.status, 200);
    assert_eq!(api.calls.calls(), ["GetItem", "TransactWriteItems"]);
    println!("DynamoDB calls for one PATCH: {:?}", api.calls.calls());
}
