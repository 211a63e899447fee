//! The relay against moto: outbox items of a real change, as the table's stream delivers them, end
//! on the bus (a rule with an SQS target shows them); a failed entry is reported, alone.

use outbox_relay::{Relay, StreamEvent};
use serde_json::{json, Value};
use shared::domain::tier::Tier;
use shared::testing::pipeline::{bus_with_queue, drain_queue_json, outbox_stream_batch, BusWithQueue};
use shared::testing::{fresh_store, seed_term};
use std::time::Instant;

#[tokio::test]
async fn a_tier_change_reaches_the_bus_through_the_relay() {
    let (store, _) = fresh_store().await;
    seed_term(
        &store,
        "buildpro",
        Tier::Gold,
        jiff::civil::date(2027, 11, 24),
        true,
        jiff::Timestamp::now(),
    )
    .await;
    let batch = outbox_stream_batch(&store).await;
    assert_eq!(
        batch["Records"].as_array().unwrap().len(),
        2,
        "profile sync and tier change"
    );
    // Records the relay must ignore: a profile modify and a history insert.
    let mut records = batch["Records"].as_array().unwrap().clone();
    records.push(json!({"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "1", "NewImage": {"pk": {"S": "PARTNER#buildpro"}}}}));
    records.push(json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": "2", "NewImage": {"pk": {"S": "PARTNER#buildpro"}, "entity": {"S": "history"}}}}));

    let BusWithQueue { bus, sqs, queue_url } = bus_with_queue().await;
    let relay = Relay { bus };
    let event: StreamEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    let response = relay.handle(event).await;
    assert!(response.batch_item_failures.is_empty());

    let messages = drain_queue_json(&sqs, &queue_url).await;
    let mut types: Vec<&str> = messages.iter().map(|m| m["detail-type"].as_str().unwrap()).collect();
    types.sort_unstable();
    assert_eq!(types, ["PartnerProfileSynced", "TierChanged"]);
    let tier = messages.iter().find(|m| m["detail-type"] == "TierChanged").unwrap();
    assert_eq!(tier["source"], shared::domain::events::SOURCE);
    let detail = &tier["detail"];
    assert_eq!(
        (
            detail["partner_id"].clone(),
            detail["from_tier"].clone(),
            detail["to_tier"].clone()
        ),
        (json!("buildpro"), json!("free"), json!("gold"))
    );
    assert_eq!(
        (detail["pcr_before"].clone(), detail["pcr_after"].clone()),
        (json!(70.0), json!(74.0))
    );
    assert!(detail["event_id"].as_str().is_some_and(|id| id.len() == 26));
}

#[tokio::test]
async fn a_failed_entry_is_reported_alone() {
    let BusWithQueue { bus, sqs, queue_url } = bus_with_queue().await;
    let record = |seq: &str, detail: &str| {
        json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": seq, "NewImage": {
            "pk": {"S": format!("OUTBOX#{seq}")}, "entity": {"S": "outbox"}, "source": {"S": shared::domain::events::SOURCE},
            "detail_type": {"S": "TierChanged"}, "detail": {"S": detail}}}})
    };
    let records: Vec<Value> = (0..12)
        .map(|i| {
            if i == 4 {
                record(&format!("{i:03}"), "not json")
            } else {
                record(&format!("{i:03}"), &json!({"n": i}).to_string())
            }
        })
        .collect();
    let event: StreamEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    let response = Relay { bus }.handle(event).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["004"]);
    assert_eq!(
        drain_queue_json(&sqs, &queue_url).await.len(),
        11,
        "the other eleven were published"
    );
}

#[tokio::test]
async fn relay_throughput_against_moto() {
    let BusWithQueue { bus, .. } = bus_with_queue().await;
    let records: Vec<Value> = (0..500)
        .map(|i| {
            json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": format!("{i:06}"), "NewImage": {
                "pk": {"S": format!("OUTBOX#{i:06}")}, "entity": {"S": "outbox"}, "source": {"S": shared::domain::events::SOURCE},
                "detail_type": {"S": "TierChanged"}, "detail": {"S": json!({"n": i, "partner_id": "p"}).to_string()}}}})
        })
        .collect();
    let event: StreamEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    let started = Instant::now();
    let response = Relay { bus }.handle(event).await;
    let elapsed = started.elapsed();
    assert!(response.batch_item_failures.is_empty());
    println!(
        "relay: 500 events in {:?} = {:.0} events/s against moto",
        elapsed,
        500.0 / elapsed.as_secs_f64()
    );
}

#[tokio::test]
async fn the_sample_stream_event_is_published() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/dynamodb-stream-outbox.json");
    let event: StreamEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let BusWithQueue { bus, sqs, queue_url } = bus_with_queue().await;
    assert!(Relay { bus }.handle(event).await.batch_item_failures.is_empty());
    let messages = drain_queue_json(&sqs, &queue_url).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (
            messages[0]["detail-type"].clone(),
            messages[0]["detail"]["to_tier"].clone()
        ),
        (json!("TierChanged"), json!("gold"))
    );
}
