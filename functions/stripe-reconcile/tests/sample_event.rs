//! The scheduled sample in events/ is what the schedule hands the function; a run on it against
//! localstripe and moto completes without errors.

use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::stripe::client::StripeApi;
use shared::testing::billing::test_prices;
use shared::testing::fresh_store;
use shared::testing::localstripe::{LocalStripe, LOCAL_KEY};
use stripe_reconcile::{Reconciler, ScheduledTrigger};

#[tokio::test]
async fn the_scheduled_sample_runs() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/scheduled-reconcile.json");
    let text = std::fs::read_to_string(path).unwrap();
    let event: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(event["detail-type"], "Scheduled Event");
    let trigger: ScheduledTrigger = serde_json::from_str(&text).unwrap();
    assert!(trigger.time.is_some(), "the sample carries EventBridge's time field");
    let (store, _) = fresh_store().await;
    let reconciler = Reconciler {
        store,
        stripe: StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&LocalStripe::from_env().base)).unwrap(),
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
    };
    let summary = reconciler.handle(trigger, jiff::Timestamp::now()).await.unwrap();
    assert_eq!(summary.events.errors, 0);
    assert_eq!(summary.events.applied, 0, "no partner of this table is billed");
}
