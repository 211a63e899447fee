//! The subscription dashboard and its actions through admin-api against moto.

mod support;

use jiff::{Span, Timestamp};
use serde_json::{json, Value};
use shared::domain::dates::CalendarDate;
use shared::domain::history_and_audit::{Actor, AuditAction};
use shared::domain::partner::PartnerId;
use shared::domain::partner_change::PartnerChange;
use shared::domain::tier::Tier;
use shared::testing::seed_term;
use shared::usecases::apply_change::apply_change;
use support::TestApi;

/// The instant these tests run at (the API answers as of it too): the day's last seconds.
fn fixed_now() -> Timestamp {
    support::CLOCK_EDGES[0].parse().unwrap()
}

fn today(now: Timestamp) -> CalendarDate {
    now.to_zoned(jiff::tz::TimeZone::UTC).date()
}

fn in_days(now: Timestamp, n: i64) -> CalendarDate {
    today(now).checked_add(Span::new().days(n)).unwrap()
}

/// Active: g-soon (5 days), g-mid (20), p-mid (25), g-far (200), p-far (90); expired: x-old;
/// cancelled: c-now (immediately), c-later (at term end, 60 days); free: f-free.
async fn dashboard_fixture(now: Timestamp) -> TestApi {
    let api = TestApi::new().await.at(now);
    let store = &api.app.store;
    for (id, tier, days) in [
        ("g-soon", Tier::Gold, 5),
        ("g-mid", Tier::Gold, 20),
        ("p-mid", Tier::Platinum, 25),
        ("g-far", Tier::Gold, 200),
        ("p-far", Tier::Platinum, 90),
        ("x-old", Tier::Gold, -20),
        ("c-now", Tier::Platinum, 100),
        ("c-later", Tier::Gold, 60),
        ("f-free", Tier::Free, 0),
    ] {
        seed_term(store, id, tier, in_days(now, days), true, now).await;
    }
    apply_change(
        store,
        &PartnerId::parse("x-old").unwrap(),
        &Actor::System,
        None,
        now,
        |p| {
            let after =
                shared::domain::subscription::expire(p, shared::domain::lifecycle::ExpiryReason::NotRenewing, now);
            Ok(Some(PartnerChange {
                stripe_action: None,
                after,
                history: None,
                note: None,
                audit_action: AuditAction::SubscriptionExpired,
                events: vec![],
            }))
        },
    )
    .await
    .unwrap();
    for (id, effective) in [("c-now", "immediately"), ("c-later", "term_end")] {
        let answer = api
            .post(
                &format!("/admin/partners/{id}/cancel"),
                json!({"effective": effective, "reason": "budget"}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    api
}

fn ids(body: &Value) -> Vec<String> {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partner_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn dashboard_tabs_counts_filters_sorts_and_pages() {
    // Days left and the expiring tab follow the calendar: run where the day and the month turn.
    for now in support::CLOCK_EDGES {
        Box::pin(dashboard_at(now.parse().unwrap())).await;
    }
}

async fn dashboard_at(now: Timestamp) {
    let api = dashboard_fixture(now).await;
    let active = api.get("/admin/subscriptions").await;
    assert_eq!(active.status, 200, "{}", active.body);
    let counts = &active.body["counts"];
    assert_eq!(
        (
            counts["active"].clone(),
            counts["expiring"].clone(),
            counts["expired"].clone(),
            counts["cancelled"].clone()
        ),
        (json!(5), json!(3), json!(1), json!(2))
    );
    assert!(counts["history"].as_u64().unwrap() >= 8);
    assert_eq!(
        ids(&active.body),
        ["g-soon", "g-mid", "p-mid", "p-far", "g-far"],
        "by end date, soonest first"
    );

    let expiring = api.get("/admin/subscriptions?tab=expiring").await.body;
    assert_eq!(ids(&expiring), ["g-soon", "g-mid", "p-mid"]);
    let soon = &expiring["rows"][0];
    assert_eq!(
        (
            soon["urgency"].clone(),
            soon["days_left"].clone(),
            soon["tier_label"].clone()
        ),
        (json!("urgent"), json!(5), json!("Power Gold"))
    );
    assert_eq!(
        (soon["monthly_price_cents"].clone(), soon["monthly_price"].clone()),
        (json!(360_000), json!("$3,600.00"))
    );
    assert_eq!(expiring["rows"][1]["urgency"], "normal");

    let platinum = api.get("/admin/subscriptions?tab=expiring&tier=platinum").await.body;
    assert_eq!(ids(&platinum), ["p-mid"]);
    assert_eq!(platinum["counts"]["expiring"], 1, "counts follow the tier filter");

    let by_end_desc = api.get("/admin/subscriptions?order=desc").await.body;
    assert_eq!(ids(&by_end_desc), ["g-far", "p-far", "p-mid", "g-mid", "g-soon"]);
    let by_name = api.get("/admin/subscriptions?sort=company_name").await.body;
    assert_eq!(
        ids(&by_name),
        ["g-far", "g-mid", "g-soon", "p-far", "p-mid"],
        "Company g-far < Company g-mid < ..."
    );

    for sort in ["end_date", "company_name"] {
        let pages = api
            .pages(&format!("/admin/subscriptions?sort={sort}&limit=2"), "rows")
            .await;
        assert!(pages.iter().all(|rows| rows.len() <= 2));
        let seen: Vec<String> = pages
            .concat()
            .iter()
            .map(|r| r["partner_id"].as_str().unwrap().to_owned())
            .collect();
        let full = api.get(&format!("/admin/subscriptions?sort={sort}")).await.body;
        assert_eq!(seen, ids(&full), "paging by {sort} yields every row once, in order");
    }

    let expired = api.get("/admin/subscriptions?tab=expired").await.body;
    assert_eq!(ids(&expired), ["x-old"]);
    assert_eq!(
        (
            expired["rows"][0]["tier"].clone(),
            expired["rows"][0]["urgency"].clone()
        ),
        (json!("gold"), json!("ended"))
    );
    let cancelled = api
        .get("/admin/subscriptions?tab=cancelled&sort=company_name")
        .await
        .body;
    assert_eq!(ids(&cancelled), ["c-later", "c-now"]);

    let history = api.get("/admin/subscriptions?tab=history&limit=3").await;
    assert_eq!(history.status, 200, "{}", history.body);
    let entries = history.body["history"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["event_type"], "cancellation", "newest first");
    let cancellations = api
        .get("/admin/subscriptions?tab=history&event_type=cancellation")
        .await
        .body;
    assert_eq!(cancellations["history"].as_array().unwrap().len(), 2);
    assert_eq!(cancellations["counts"]["history"], 2);
    let one = api.get("/admin/subscriptions?tab=history&partner=g-soon").await.body;
    let types: Vec<_> = one["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event_type"].clone())
        .collect();
    assert_eq!(types, vec![json!("upgrade")]);

    for (path, says) in [
        ("/admin/subscriptions?tab=archived", "unknown tab"),
        ("/admin/subscriptions?tier=free", "gold or platinum"),
        ("/admin/subscriptions?sort=price", "end_date or company_name"),
        ("/admin/subscriptions?order=up", "asc or desc"),
        ("/admin/subscriptions?tab=active&event_type=upgrade", "history tab only"),
        (
            "/admin/subscriptions?tab=history&event_type=party",
            "unknown event type",
        ),
    ] {
        let answer = api.get(path).await;
        assert_eq!(
            (answer.status, answer.content_type.as_str()),
            (422, "application/problem+json"),
            "{path}: {}",
            answer.body
        );
        assert!(answer.body.to_string().contains(says), "{path}: {}", answer.body);
    }
    assert_eq!(
        api.get("/admin/subscriptions?sort=company_name&cursor=zzz")
            .await
            .status,
        400
    );
    assert_eq!(api.get("/admin/subscriptions?tab=history&cursor=zzz").await.status, 400);
    // A cursor from the active tab carries an end date outside the expiring tab's range.
    let far = api.get("/admin/subscriptions?order=desc&limit=1").await.body;
    let cursor = far["next_cursor"].as_str().unwrap().to_owned();
    let replayed = api
        .get(&format!("/admin/subscriptions?tab=expiring&order=desc&cursor={cursor}"))
        .await;
    assert_eq!(
        (replayed.status, replayed.content_type.as_str()),
        (400, "application/problem+json"),
        "{}",
        replayed.body
    );
}

#[tokio::test]
async fn bulk_renewal_reports_each_id() {
    let api = dashboard_fixture(fixed_now()).await;
    let before = api.get("/admin/partners/g-soon").await.body;
    // A malformed id refuses the whole request, naming it, and renews nothing.
    let malformed = json!({"partner_ids": ["g-soon", "bad#id"]});
    let refused = api.post("/admin/subscriptions/renew", malformed).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "partner_ids[1]");
    assert_eq!(api.get("/admin/partners/g-soon").await.body, before);

    let body = json!({"partner_ids": ["g-soon", "nobody", "f-free", "g-soon", "c-later"]});
    let answer = api.post("/admin/subscriptions/renew", body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let statuses: Vec<(String, String)> = answer.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["partner_id"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |id: &str, status: &str| (id.to_owned(), status.to_owned());
    assert_eq!(
        statuses,
        vec![
            expect("g-soon", "renewed"),
            expect("nobody", "not_found"),
            expect("f-free", "not_subscribed"),
            expect("c-later", "renewed")
        ]
    );
    assert_eq!(answer.body["renewed"], 2);

    let after = api.get("/admin/partners/g-soon").await.body;
    assert_eq!(
        after["subscription_start_date"], before["subscription_end_date"],
        "the new term starts where the old one ended"
    );
    let old_end: CalendarDate = before["subscription_end_date"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        after["subscription_end_date"],
        json!(shared::domain::dates::add_months(old_end, 12).unwrap().to_string())
    );
    let reactivated = api.get("/admin/partners/c-later").await.body;
    assert_eq!(
        (
            reactivated["subscription_status"].clone(),
            reactivated["cancellation_reason"].clone()
        ),
        (json!("active"), Value::Null)
    );
    let history = api.all("g-soon", "history").await;
    assert_eq!(
        (history[0]["event_type"].clone(), history[0]["created_by"].clone()),
        (json!("renewal"), json!("admin:admin-1"))
    );
    let renewed_events = shared::testing::outbox_events(&api.app.store)
        .await
        .into_iter()
        .filter(|(t, _)| t == "SubscriptionRenewed")
        .count();
    assert_eq!(renewed_events, 2);

    for (body, says) in [
        (json!({"partner_ids": []}), "1 to 100"),
        (json!({"partner_ids": ["g-soon"], "months": 0}), "months"),
        (json!({"partner_ids": "g-soon"}), "partner_ids"),
        (json!({"months": 12}), "partner_ids is required"),
    ] {
        let answer = api.post("/admin/subscriptions/renew", body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert!(answer.body.to_string().contains(says), "{body}: {}", answer.body);
    }
}

#[tokio::test]
async fn csv_export_parses_back_to_the_dashboard_rows() {
    let api = dashboard_fixture(fixed_now()).await;
    seed_term(
        &api.app.store,
        "formula",
        Tier::Gold,
        in_days(api.now(), 3),
        true,
        api.now(),
    )
    .await;
    api.put("/admin/partners/formula", json!({"company_name": "=HYPERLINK(\"http://x\")", "primary_email": "formula@example.com", "base_pcr_score": 80})).await;

    let (status, headers, body) = {
        let req = lambda_http::http::Request::builder()
            .uri("https://admin.example.test/admin/subscriptions/export.csv?tab=expiring&tier=gold")
            .header("authorization", format!("Bearer {}", api.token))
            .body(lambda_http::Body::Empty)
            .unwrap();
        let res = api.app.handle_at(req, api.now()).await;
        (
            res.status().as_u16(),
            res.headers().clone(),
            res.body().as_ref().to_vec(),
        )
    };
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"subscriptions-expiring-gold-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );

    let mut reader = csv::Reader::from_reader(body.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header[..6],
        [
            "partner_id",
            "company_name",
            "tier",
            "tier_label",
            "monthly_price_usd",
            "subscription_start_date"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let dashboard = api
        .get("/admin/subscriptions?tab=expiring&tier=gold&limit=100")
        .await
        .body;
    let rows = dashboard["rows"].as_array().unwrap();
    assert_eq!(records.len(), 3, "g-soon, g-mid and formula expire within 30 days");
    assert_eq!(records.len(), rows.len());
    for (record, row) in records.iter().zip(rows) {
        assert_eq!(&record[0], row["partner_id"].as_str().unwrap());
        assert_eq!(&record[4], "3600.00");
        assert_eq!(&record[6], row["subscription_end_date"].as_str().unwrap());
        assert_eq!(record[7].parse::<i64>().unwrap(), row["days_left"].as_i64().unwrap());
        assert_eq!(&record[8], row["urgency"].as_str().unwrap());
        let name = row["company_name"].as_str().unwrap();
        let expected_name = if name.starts_with('=') {
            format!("'{name}")
        } else {
            name.to_owned()
        };
        assert_eq!(&record[1], expected_name, "formula-looking names are defused");
    }
    assert!(records.iter().any(|r| &r[1] == "'=HYPERLINK(\"http://x\")"));

    let history = api
        .get("/admin/subscriptions/export.csv?tab=history&event_type=cancellation")
        .await;
    assert_eq!(history.status, 200);
    let text = history.body.as_str().unwrap().to_owned();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.records().count(), 2);
}

#[tokio::test]
async fn cancel_both_ways_reminders_and_settings() {
    let now = fixed_now();
    let api = TestApi::new().await.at(now);
    seed_term(&api.app.store, "now", Tier::Platinum, in_days(now, 100), true, now).await;
    seed_term(&api.app.store, "later", Tier::Gold, in_days(now, 40), true, now).await;

    let immediate = api
        .post(
            "/admin/partners/now/cancel",
            json!({"effective": "immediately", "reason": "closing the business"}),
        )
        .await;
    assert_eq!(immediate.status, 200, "{}", immediate.body);
    let p = &immediate.body["partner"];
    assert_eq!(
        (
            p["engagement_tier"].clone(),
            p["subscription_status"].clone(),
            p["final_pcr_score"].clone()
        ),
        (json!("free"), json!("cancelled"), json!(70.0))
    );
    assert_eq!(
        (p["cancellation_date"].clone(), p["cancellation_reason"].clone()),
        (json!(today(now).to_string()), json!("closing the business"))
    );
    let history = api.all("now", "history").await;
    assert_eq!(
        (history[0]["event_type"].clone(), history[0]["to_tier"].clone()),
        (json!("cancellation"), json!("free"))
    );
    let types: Vec<String> = shared::testing::outbox_events(&api.app.store)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert!(types.contains(&"SubscriptionCancelled".to_owned()));
    assert_eq!(
        types.iter().filter(|t| *t == "TierChanged").count(),
        3,
        "two seeded upgrades and the downgrade"
    );

    let later = api
        .post("/admin/partners/later/cancel", json!({"effective": "term_end"}))
        .await;
    assert_eq!(later.status, 200, "{}", later.body);
    let p = &later.body["partner"];
    assert_eq!(
        (
            p["engagement_tier"].clone(),
            p["subscription_status"].clone(),
            p["auto_renewal"].clone()
        ),
        (json!("gold"), json!("cancelled"), json!(false))
    );
    let again = api
        .post("/admin/partners/later/cancel", json!({"effective": "term_end"}))
        .await;
    assert_eq!(
        (again.status, again.content_type.as_str()),
        (409, "application/problem+json")
    );
    assert_eq!(
        api.post("/admin/partners/now/cancel", json!({"effective": "immediately"}))
            .await
            .status,
        409,
        "free already"
    );
    assert_eq!(
        api.post("/admin/partners/later/cancel", json!({"effective": "someday"}))
            .await
            .status,
        422
    );
    assert_eq!(
        api.post("/admin/partners/ghost/cancel", json!({"effective": "immediately"}))
            .await
            .status,
        404
    );

    // Reminders: only for an active paid term.
    seed_term(&api.app.store, "remind", Tier::Gold, in_days(now, 12), true, now).await;
    let sent = api.post("/admin/partners/remind/reminders", json!({})).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(
        (sent.body["days_left"].clone(), sent.body["stage"].clone()),
        (json!(12), json!(30))
    );
    let reminder: Value = shared::testing::outbox_events(&api.app.store)
        .await
        .into_iter()
        .find(|(t, _)| t == "RenewalReminderDue")
        .map(|(_, d)| serde_json::from_str(&d).unwrap())
        .unwrap();
    assert_eq!(
        (reminder["manual"].clone(), reminder["partner_id"].clone()),
        (json!(true), json!("remind"))
    );
    assert_eq!(api.post("/admin/partners/now/reminders", json!({})).await.status, 409);

    // Settings.
    const SETTINGS: &str = "/admin/partners/remind/subscription";
    let off = api
        .patch(
            SETTINGS,
            json!({"auto_renewal": false, "subscription_notes": "Renewal call booked"}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(
        (
            off.body["partner"]["auto_renewal"].clone(),
            off.body["partner"]["subscription_notes"].clone(),
            off.body["changed"].clone()
        ),
        (json!(false), json!("Renewal call booked"), json!(true))
    );
    assert_eq!(
        api.patch(SETTINGS, json!({"auto_renewal": false})).await.body["changed"],
        false
    );
    let cleared = api.patch(SETTINGS, json!({"subscription_notes": null})).await;
    assert_eq!(cleared.body["partner"]["subscription_notes"], Value::Null);
    assert_eq!(api.patch(SETTINGS, json!({"auto_renewal": "no"})).await.status, 422);
    assert_eq!(api.patch(SETTINGS, json!({})).await.status, 422);
    assert_eq!(
        api.patch(SETTINGS, json!({"auto_renewal": true, "expected_version": 1}))
            .await
            .status,
        409
    );
    let audit = api.all("remind", "audit").await;
    assert_eq!(audit[0]["action"], "subscription_settings_changed");
}
