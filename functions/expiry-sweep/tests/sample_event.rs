//! events/scheduled-sweep.json (the EventBridge scheduled-event shape) runs through the handler
//! against moto with the demo partners loaded.

use expiry_sweep::{ScheduledTrigger, Sweep};
use shared::domain::dates::BusinessCalendar;
use shared::testing::fresh_store;
use shared::usecases::seed::{load_demo_partners, DemoPartner};
use shared::usecases::sweep::SweepSettings;
use std::path::Path;

fn repo_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

#[tokio::test]
async fn the_scheduled_event_sweeps_the_demo_partners() {
    let demo: Vec<DemoPartner> =
        serde_json::from_str(&std::fs::read_to_string(repo_file("infra/seed/demo-partners.json")).unwrap()).unwrap();
    let (store, _) = fresh_store().await;
    let calendar = BusinessCalendar::utc();
    let now = jiff::Timestamp::now();
    load_demo_partners(&store, &calendar, &demo, now).await.unwrap();

    let event = std::fs::read_to_string(repo_file("events/scheduled-sweep.json")).unwrap();
    let trigger: ScheduledTrigger = serde_json::from_str(&event).unwrap();
    assert!(trigger.time.is_some(), "the sample carries EventBridge's time field");
    let sweep = Sweep {
        store,
        calendar,
        settings: SweepSettings::default(),
    };
    let summary = sweep.handle(trigger, now).await.unwrap();

    // Demo terms (days left): 19, 23, 7, 45, 58, 30, -3, -10, 2, 12, 0, 36. Due: 19, 23, 30, 12 (30-day
    // notice); 7, 2, 0 (7-day notice); -3 does not renew: expired; -10 renews but is past its grace: expired.
    assert_eq!(
        (
            summary.examined,
            summary.notices_30,
            summary.notices_7,
            summary.renewal_billing_requested,
            summary.expired,
            summary.errors
        ),
        (9, 4, 3, 0, 2, 0),
        "{summary:?}"
    );
    let again = sweep.handle(ScheduledTrigger::default(), now).await.unwrap();
    assert_eq!(
        (again.notices_30, again.notices_7, again.expired),
        (0, 0, 0),
        "a second invoke adds nothing"
    );
}
