//! The portal's payments end to end against localstripe: the upgrade is paid in the "browser" (the
//! test confirms the PaymentIntent as Stripe Elements would), localstripe's signed webhooks reach a
//! registered receiver on the same table, and only then is the tier granted. Also: a double submit
//! makes one subscription, an abandoned payment grants nothing, and a new card becomes the default.

mod support;

use serde_json::{json, Value};
use shared::domain::partner::PaymentStatus;
use shared::domain::tier::Tier;
use shared::testing::localstripe::{LocalStripe, LOCAL_KEY};
use shared::testing::wait_for_partner;
use std::time::Duration;
use stripe_webhook::testing::registered_receiver;
use support::*;

/// A portal and a webhook receiver on one fresh table, both talking to localstripe.
async fn local_portal() -> TestPortal {
    let localstripe = LocalStripe::from_env();
    localstripe.plan("price_gold", 360_000).await;
    localstripe.plan("price_platinum", 600_000).await;
    let api = TestPortal::new(&localstripe.base, LOCAL_KEY).await;
    // Served on its own task for the rest of the test.
    registered_receiver(api.store().clone()).await;
    api
}

/// The PaymentIntent behind a client secret (`pi_..._secret_...`).
fn intent_of(client_secret: &str) -> &str {
    client_secret.split("_secret_").next().unwrap_or_default()
}

async fn subscriptions_of(customer: &str) -> Vec<Value> {
    let list = LocalStripe::from_env()
        .get(&format!("/v1/subscriptions?customer={customer}"))
        .await;
    list["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_upgrade_is_granted_by_its_payment_then_cards_change() {
    let api = local_portal().await;
    let partner = free_partner(api.store(), &unique("up")).await;
    let token = token_for(&partner);

    let asked = api
        .send("POST", "/portal/upgrade", Some(r#"{"tier":"gold"}"#), Some(&token))
        .await;
    assert_eq!(asked.status, 202, "{}", asked.body);
    assert_eq!(asked.body["status"], json!("payment_required"));
    assert_eq!(asked.body["publishable_key"], json!(PUBLISHABLE_KEY));
    assert_eq!(asked.body["payment"]["amount_due_cents"], json!(360_000));
    let secret = asked.body["payment"]["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        asked.body["account"]["tier"],
        json!("free"),
        "not granted by the request"
    );
    assert_eq!(asked.body["account"]["pending_upgrade"]["tier"], json!("gold"));

    // Asked again before paying: the same payment, no second subscription.
    let again = api
        .send("POST", "/portal/upgrade", Some(r#"{"tier":"gold"}"#), Some(&token))
        .await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.body["payment"]["client_secret"], json!(secret));
    let other_tier = api
        .send("POST", "/portal/upgrade", Some(r#"{"tier":"platinum"}"#), Some(&token))
        .await;
    assert_eq!(other_tier.status, 409, "{}", other_tier.body);
    let pending = api.store().get_partner(&partner.id).await.unwrap().unwrap();
    let customer = pending.stripe_customer_id.clone().unwrap();
    assert_eq!(subscriptions_of(&customer).await.len(), 1);
    assert_eq!(pending.engagement_tier, Tier::Free);

    // The partner pays in the browser; Stripe's webhook grants the tier.
    let localstripe = LocalStripe::from_env();
    localstripe
        .post(
            &format!("/v1/payment_intents/{}/confirm", intent_of(&secret)),
            &[("payment_method", "pm_card_visa")],
        )
        .await;
    let granted = wait_for_partner(api.store(), &partner.id, |p| p.engagement_tier == Tier::Gold).await;
    assert_eq!(granted.engagement_tier, Tier::Gold, "granted by the paid invoice");
    assert_eq!(granted.payment_status, Some(PaymentStatus::Current));
    assert!(granted.pending_billing.is_none());

    let me = api.send("GET", "/portal/me", None, Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["tier"], json!("gold"));
    assert_eq!(me.body["billing"], json!("stripe"));
    assert_eq!(me.body["payment_method"]["status"], json!("on_file"));
    assert_eq!(me.body["payment_method"]["card"]["last4"], json!("4242"));
    assert!(!me.body.to_string().contains("4242424242424242"));

    let same = api
        .send("POST", "/portal/upgrade", Some(r#"{"tier":"gold"}"#), Some(&token))
        .await;
    assert_eq!(same.status, 409, "already on gold: {}", same.body);

    // A new card: a SetupIntent for Elements; once Stripe confirms it, it is the default.
    let setup = api.send("POST", "/portal/payment-method", None, Some(&token)).await;
    assert_eq!(setup.status, 201, "{}", setup.body);
    let setup_secret = setup.body["client_secret"].as_str().unwrap().to_owned();
    let setup_id = setup_secret.split("_secret_").next().unwrap().to_owned();
    localstripe
        .post(
            &format!("/v1/setup_intents/{setup_id}/confirm"),
            &[("payment_method", "pm_card_mastercard")],
        )
        .await;
    let mut last4 = Value::Null;
    for _ in 0..100 {
        let me = api.send("GET", "/portal/me", None, Some(&token)).await;
        last4 = me.body["payment_method"]["card"]["last4"].clone();
        if last4 == json!("4444") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(last4, json!("4444"), "the confirmed card is the subscription's default");

    // Gold to platinum: the prorated difference is charged to the card on file at once.
    let platinum = api
        .send("POST", "/portal/upgrade", Some(r#"{"tier":"platinum"}"#), Some(&token))
        .await;
    assert_eq!(platinum.status, 200, "{}", platinum.body);
    assert_eq!(platinum.body["status"], json!("upgraded"));
    let subscription = &subscriptions_of(&customer).await[0];
    assert_eq!(subscription["items"]["data"][0]["price"]["id"], json!("price_platinum"));
}

#[tokio::test]
async fn a_double_submit_makes_one_subscription_and_an_abandoned_payment_grants_nothing() {
    let api = local_portal().await;
    let partner = free_partner(api.store(), &unique("dbl")).await;
    let token = token_for(&partner);
    let body = Some(r#"{"tier":"platinum"}"#);
    let (first, second) = futures::join!(
        api.send("POST", "/portal/upgrade", body, Some(&token)),
        api.send("POST", "/portal/upgrade", body, Some(&token)),
    );
    let statuses = [first.status, second.status];
    assert!(statuses.contains(&202), "{statuses:?}: {} {}", first.body, second.body);
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 409),
        "{statuses:?}: {} {}",
        first.body,
        second.body
    );
    let pending = api.store().get_partner(&partner.id).await.unwrap().unwrap();
    let customer = pending.stripe_customer_id.clone().unwrap();
    assert_eq!(subscriptions_of(&customer).await.len(), 1, "one subscription");

    // Nobody pays. Wait until localstripe has settled the first invoice unpaid (open, its payment
    // waiting for a method) and its invoice events have reached us (the invoice is recorded here):
    // then the tier is still free and the upgrade visibly pending.
    let localstripe = LocalStripe::from_env();
    let mut unpaid = None;
    for _ in 0..100 {
        let invoices = localstripe.get(&format!("/v1/invoices?customer={customer}")).await;
        let open = invoices["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["status"] == json!("open") && i["paid"] == json!(false))
            .cloned();
        if let Some(invoice) = open {
            let intent = localstripe
                .get(&format!(
                    "/v1/payment_intents/{}",
                    invoice["payment_intent"].as_str().unwrap_or_default()
                ))
                .await;
            if intent["status"] == json!("requires_payment_method") {
                unpaid = Some(invoice);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unpaid = unpaid.expect("localstripe settles the first invoice unpaid");
    let invoice_id = unpaid["id"].as_str().unwrap().to_owned();
    let page = shared::store::PageRequest {
        limit: 10,
        cursor: None,
    };
    let mut recorded = false;
    for _ in 0..100 {
        let invoices = api.store().partner_invoices(&partner.id, &page).await.unwrap().items;
        if invoices.iter().any(|i| i.stripe_invoice_id == invoice_id) {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recorded, "the unpaid invoice {invoice_id} reached the receiver");
    let still = api.store().get_partner(&partner.id).await.unwrap().unwrap();
    assert_eq!(still.engagement_tier, Tier::Free);
    assert_eq!(still.pending_billing.map(|p| p.tier), Some(Tier::Platinum));
    let me = api.send("GET", "/portal/me", None, Some(&token)).await;
    assert_eq!(me.body["pending_upgrade"]["tier"], json!("platinum"));
}
