//! The counters' backfill as a one-off invocation of expiry-sweep: events/sweep-recount-check.json
//! reports drift without writing, events/sweep-recount-repair.json repairs it, on the demo partners.

use expiry_sweep::{Sweep, SweepEvent};
use shared::domain::dates::BusinessCalendar;
use shared::testing::{fresh_store, repo_file};
use shared::usecases::seed::{load_demo_partners, DemoPartner};
use shared::usecases::sweep::SweepSettings;

fn event(name: &str) -> SweepEvent {
    serde_json::from_str(&std::fs::read_to_string(repo_file(&format!("events/{name}"))).unwrap()).unwrap()
}

#[tokio::test]
async fn the_recount_events_check_and_repair() {
    let demo: Vec<DemoPartner> =
        serde_json::from_str(&std::fs::read_to_string(repo_file("infra/seed/demo-partners.json")).unwrap()).unwrap();
    let (store, _) = fresh_store().await;
    let now = jiff::Timestamp::now();
    load_demo_partners(&store, &BusinessCalendar::utc(), &demo, now)
        .await
        .unwrap();
    let sweep = Sweep {
        store: store.clone(),
        calendar: BusinessCalendar::utc(),
        settings: SweepSettings::default(),
    };
    let check = sweep
        .handle_event(event("sweep-recount-check.json"), now)
        .await
        .unwrap();
    assert_eq!(check["mode"], "check");
    assert_eq!(
        check["drifted"],
        serde_json::json!([]),
        "the demo's writes kept every counter: {check}"
    );

    // A profile loaded without its counts (as a bulk load writes them).
    let mut extra = store.get_partner(&demo[0].id).await.unwrap().unwrap();
    extra.id = shared::domain::partner::PartnerId::parse("loaded-in-bulk").unwrap();
    store.load_profiles(&[extra]).await.unwrap();
    let found = sweep
        .handle_event(event("sweep-recount-check.json"), now)
        .await
        .unwrap();
    assert_ne!(found["drifted"], serde_json::json!([]), "{found}");
    let again = sweep
        .handle_event(event("sweep-recount-check.json"), now)
        .await
        .unwrap();
    assert_eq!(again["drifted"], found["drifted"], "a check writes nothing");

    let repaired = sweep
        .handle_event(event("sweep-recount-repair.json"), now)
        .await
        .unwrap();
    assert_eq!(repaired["mode"], "repair");
    assert_eq!(repaired["drifted"], found["drifted"]);
    let clean = sweep
        .handle_event(event("sweep-recount-check.json"), now)
        .await
        .unwrap();
    assert_eq!(clean["drifted"], serde_json::json!([]), "{clean}");
}
