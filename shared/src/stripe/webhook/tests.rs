use super::*;
use crate::domain::billing::BillingEvent;
use crate::domain::money::Cents;
use crate::stripe::fixtures::{self, TEST_WEBHOOK_SECRET};
use proptest::prelude::*;
use serde_json::json;

const NOW: i64 = 1_795_521_600; // 2026-11-24T12:00:00Z

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

fn signed(event: &Value) -> (String, String) {
    let body = serde_json::to_string_pretty(event).unwrap();
    let header = fixtures::sign(&body, TEST_WEBHOOK_SECRET, NOW);
    (body, header)
}

fn paid_invoice_event() -> Value {
    let invoice = fixtures::invoice("in_001", "cus_1", "sub_1", "price_gold", 360_000, "paid", 1, NOW);
    fixtures::event("evt_001", "invoice.paid", NOW, invoice)
}

#[test]
fn a_signed_event_is_read() {
    let (body, header) = signed(&paid_invoice_event());
    let event = verify(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()).unwrap();
    assert_eq!(
        (event.id.as_str(), event.event_type.as_str()),
        ("evt_001", "invoice.paid")
    );
    let billing = event.billing_event().unwrap();
    assert_eq!(billing.customer_id(), Some("cus_1"));
    let BillingEvent::InvoicePaid(facts) = billing else {
        panic!("not a paid invoice")
    };
    assert_eq!(facts.amount_paid, Cents(360_000));
    assert_eq!(facts.price_id.as_deref(), Some("price_gold"));
    assert_eq!(facts.period_start.as_second(), NOW);
    assert_eq!(facts.period_end.as_second(), NOW + 30 * 86_400);
    assert_eq!(facts.paid_at.map(|t| t.as_second()), Some(NOW + 60));
    assert_eq!(facts.subscription_id.as_deref(), Some("sub_1"));
}

#[test]
fn every_rejection() {
    let (body, header) = signed(&paid_invoice_event());
    let check =
        |body: &[u8], header: Option<&str>, secret: &str, at: Timestamp| verify(body, header, secret, at).map(|_| ());
    assert_eq!(
        check(body.as_bytes(), None, TEST_WEBHOOK_SECRET, now()),
        Err(Rejection::MissingSignature)
    );
    assert_eq!(
        check(body.as_bytes(), Some(&header), "whsec_some_other_secret", now()),
        Err(Rejection::BadSignature)
    );
    let tampered = body.replace("360000", "1");
    assert_eq!(
        check(tampered.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()),
        Err(Rejection::BadSignature)
    );
    // Reformatting the JSON changes the bytes, so the signature no longer matches.
    let compact = serde_json::to_string(&paid_invoice_event()).unwrap();
    assert_eq!(
        check(compact.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()),
        Err(Rejection::BadSignature)
    );
    let late = Timestamp::from_second(NOW + TOLERANCE_SECONDS + 1).unwrap();
    assert_eq!(
        check(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, late),
        Err(Rejection::StaleTimestamp)
    );
    assert_eq!(
        check(body.as_bytes(), Some("t=yesterday,v1=abc"), TEST_WEBHOOK_SECRET, now()),
        Err(Rejection::MalformedSignature)
    );
    assert_eq!(
        check(&[0xff, 0xfe], Some(&header), TEST_WEBHOOK_SECRET, now()),
        Err(Rejection::NotUtf8)
    );
    let at_the_edge = Timestamp::from_second(NOW + TOLERANCE_SECONDS).unwrap();
    assert!(check(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, at_the_edge).is_ok());
}

#[test]
fn localstripe_shapes_are_read_from_their_raw_fields() {
    // The 2017 API: `plan` instead of `price`, `date` instead of `created`, expanded customer.
    let invoice = json!({
        "id": "in_ls", "object": "invoice", "customer": {"id": "cus_ls", "object": "customer"},
        "subscription": "sub_ls", "status": "open", "amount_due": 600000, "amount_paid": 0,
        "attempt_count": 1, "date": NOW, "period_start": NOW, "period_end": NOW + 2_592_000,
        "lines": {"data": [{"plan": {"id": "price_platinum"}, "period": {"start": NOW, "end": NOW + 2_592_000}}]}
    });
    let (body, header) = signed(&fixtures::event("evt_ls", "invoice.payment_failed", NOW, invoice));
    let event = verify(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()).unwrap();
    let BillingEvent::InvoicePaymentFailed(facts) = event.billing_event().unwrap() else {
        panic!("not a failed payment")
    };
    assert_eq!(facts.customer_id, "cus_ls");
    assert_eq!(facts.price_id.as_deref(), Some("price_platinum"));
    assert_eq!(facts.amount_due, Cents(600_000));
    assert_eq!(facts.attempt_count, 1);
}

#[test]
fn types_billing_does_not_act_on_are_ignored_and_broken_objects_say_why() {
    let other = fixtures::event(
        "evt_x",
        "charge.refunded",
        NOW,
        json!({"id": "ch_1", "customer": "cus_1"}),
    );
    let (body, header) = signed(&other);
    let event = verify(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()).unwrap();
    assert_eq!(event.billing_event(), Ok(BillingEvent::Ignored));
    let broken = fixtures::event("evt_y", "invoice.paid", NOW, json!({"id": "in_1", "created": NOW}));
    let (body, header) = signed(&broken);
    let event = verify(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()).unwrap();
    assert!(event.billing_event().unwrap_err().contains("customer"));
}

/// Stripe's signature, computed here on its own: lowercase hex of HMAC-SHA256 of `t.body`.
fn hex_mac(secret: &str, t: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether a delivery with these header parts and this body must be accepted: every part is
/// `scheme=value`, every `t` is a number (the last one counts), some `v1` equals the signature of
/// `t.body` (hex, either case), `t` is within the tolerance, and the body is a UTF-8 event.
fn expected_acceptance(parts: &[String], body: &[u8]) -> bool {
    let pairs: Option<Vec<(&str, &str)>> = parts.iter().map(|p| p.trim().split_once('=')).collect();
    let Some(pairs) = pairs else { return false };
    let times: Option<Vec<i64>> = pairs
        .iter()
        .filter(|(k, _)| *k == "t")
        .map(|(_, v)| v.parse().ok())
        .collect();
    let Some(&t) = times.as_ref().and_then(|times| times.last()) else {
        return false;
    };
    let signature = hex_mac(TEST_WEBHOOK_SECRET, &t.to_string(), body);
    let signed = pairs
        .iter()
        .any(|(k, v)| *k == "v1" && v.to_ascii_lowercase() == signature);
    signed && (NOW - t).abs() <= TOLERANCE_SECONDS && std::str::from_utf8(body).is_ok()
}

/// One change to a signed delivery.
#[derive(Debug, Clone)]
enum DeliveryChange {
    Nothing,
    /// `t` moved, the signature left as it was.
    MoveTimestamp(i64),
    /// Signed again for a `t` moved by this much.
    SignedAt(i64),
    FlipHexDigit(usize),
    TruncateHex(usize),
    UppercaseHex,
    /// Another `v1` (not a signature) before or after the real one.
    ExtraV1 {
        before: bool,
        value: String,
    },
    /// The real signature under another scheme only.
    OnlyAsV0,
    /// A second `t` after the first.
    SecondTimestamp(String),
    DropTimestamp,
    /// A part with no `=`.
    Junk(String),
    Spaces,
    FlipBodyBit(usize),
    SignedWithAnotherSecret,
}

impl DeliveryChange {
    fn apply(&self, parts: &mut Vec<String>, body: &mut [u8], good: &str) {
        let v1 = |value: &str| format!("v1={value}");
        match self {
            DeliveryChange::Nothing => {}
            DeliveryChange::MoveTimestamp(by) => parts[0] = format!("t={}", NOW + by),
            DeliveryChange::SignedAt(by) => {
                let t = (NOW + by).to_string();
                parts[1] = v1(&hex_mac(TEST_WEBHOOK_SECRET, &t, body));
                parts[0] = format!("t={t}");
            }
            DeliveryChange::FlipHexDigit(at) => {
                let mut hex: Vec<u8> = good.bytes().collect();
                let at = at % hex.len();
                hex[at] = if hex[at] == b'0' { b'1' } else { b'0' };
                parts[1] = v1(std::str::from_utf8(&hex).unwrap());
            }
            DeliveryChange::TruncateHex(n) => parts[1] = v1(&good[..n % good.len()]),
            DeliveryChange::UppercaseHex => parts[1] = v1(&good.to_ascii_uppercase()),
            DeliveryChange::ExtraV1 { before, value } => {
                parts.insert(if *before { 1 } else { 2 }, v1(value));
            }
            DeliveryChange::OnlyAsV0 => parts[1] = format!("v0={good}"),
            DeliveryChange::SecondTimestamp(t) => parts.push(format!("t={t}")),
            DeliveryChange::DropTimestamp => {
                parts.remove(0);
            }
            DeliveryChange::Junk(junk) => parts.push(junk.clone()),
            DeliveryChange::Spaces => {
                for part in parts.iter_mut() {
                    *part = format!(" {part} ");
                }
            }
            DeliveryChange::FlipBodyBit(bit) => {
                let bit = bit % (body.len() * 8);
                body[bit / 8] ^= 1 << (bit % 8);
            }
            DeliveryChange::SignedWithAnotherSecret => {
                parts[1] = v1(&hex_mac("whsec_another_secret", &NOW.to_string(), body));
            }
        }
    }
}

fn any_delivery_change() -> impl Strategy<Value = DeliveryChange> {
    let seconds = prop_oneof![
        Just(0i64),
        Just(1),
        Just(-1),
        Just(300),
        Just(-300),
        Just(301),
        Just(-301),
        -100_000i64..100_000
    ];
    prop_oneof![
        Just(DeliveryChange::Nothing),
        seconds.clone().prop_map(DeliveryChange::MoveTimestamp),
        seconds.prop_map(DeliveryChange::SignedAt),
        any::<usize>().prop_map(DeliveryChange::FlipHexDigit),
        any::<usize>().prop_map(DeliveryChange::TruncateHex),
        Just(DeliveryChange::UppercaseHex),
        (
            any::<bool>(),
            prop_oneof!["[0-9a-f]{64}", "[0-9a-f]{0,70}", "\\PC{0,20}"]
        )
            .prop_map(|(before, value)| DeliveryChange::ExtraV1 {
                before,
                value: value.replace(',', "")
            }),
        Just(DeliveryChange::OnlyAsV0),
        prop_oneof![
            Just(NOW.to_string()),
            Just((NOW + 1).to_string()),
            "[0-9]{1,12}",
            "[a-z]{1,3}"
        ]
        .prop_map(DeliveryChange::SecondTimestamp),
        Just(DeliveryChange::DropTimestamp),
        "[^=,]{0,12}".prop_map(DeliveryChange::Junk),
        Just(DeliveryChange::Spaces),
        any::<usize>().prop_map(DeliveryChange::FlipBodyBit),
        Just(DeliveryChange::SignedWithAnotherSecret),
    ]
}

proptest! {
    /// A correctly signed delivery changed in one way (its timestamp, a signature's hex, the set of
    /// `v1`s, the header's shape, the body, the secret) is accepted exactly when a model of Stripe's
    /// scheme says it still is: some `v1` is the HMAC-SHA256 of `t.body` under our secret, and `t`
    /// is within the tolerance.
    #[test]
    fn a_changed_delivery_is_accepted_only_if_still_signed(change in any_delivery_change()) {
        let body = serde_json::to_string_pretty(&paid_invoice_event()).unwrap();
        let good = hex_mac(TEST_WEBHOOK_SECRET, &NOW.to_string(), body.as_bytes());
        let mut parts = vec![format!("t={NOW}"), format!("v1={good}")];
        let mut body = body.into_bytes();
        change.apply(&mut parts, &mut body, &good);
        let header = parts.join(",");
        let result = verify(&body, Some(&header), TEST_WEBHOOK_SECRET, now());
        match (expected_acceptance(&parts, &body), result) {
            (true, Ok(event)) => prop_assert_eq!(event.id, "evt_001"),
            (false, Err(_)) => {}
            (expected, result) => prop_assert!(false, "{:?}: expected {}, got {:?}", change, expected, result.map(|e| e.id)),
        }
    }

    /// A correctly signed body at any timestamp: accepted exactly when it is within the tolerance.
    #[test]
    fn any_signed_timestamp_is_accepted_only_within_the_tolerance(timestamp in any::<i64>(), near in -400i64..400) {
        let body = serde_json::to_string(&paid_invoice_event()).unwrap();
        for t in [timestamp, NOW + near] {
            let header = fixtures::sign(&body, TEST_WEBHOOK_SECRET, t);
            let result = verify(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()).map(|_| ());
            let fresh = NOW.abs_diff(t) <= TOLERANCE_SECONDS.unsigned_abs();
            prop_assert_eq!(result, if fresh { Ok(()) } else { Err(Rejection::StaleTimestamp) });
        }
    }

    /// Any JSON object under a billing event type, correctly signed: read or refused with a reason,
    /// never a panic.
    #[test]
    fn any_signed_object_is_read_or_refused(
        event_type in prop::sample::select(vec!["invoice.paid", "invoice.payment_failed", "invoice.created",
            "customer.subscription.updated", "customer.subscription.deleted", "something.else"]),
        fields in proptest::collection::hash_map(
            prop::sample::select(vec!["id", "customer", "subscription", "status", "amount_due", "amount_paid",
                "attempt_count", "created", "period_start", "period_end", "lines", "items", "cancel_at_period_end"]),
            prop_oneof![
                Just(json!(null)), any::<i64>().prop_map(|n| json!(n)), "\\PC{0,12}".prop_map(|s| json!(s)),
                any::<bool>().prop_map(|b| json!(b)), Just(json!({"data": [{"period": {"start": -1, "end": i64::MAX}}]})),
            ],
            0..10,
        ),
    ) {
        let object = Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let (body, header) = signed(&fixtures::event("evt_p", event_type, NOW, object));
        let event = verify(body.as_bytes(), Some(&header), TEST_WEBHOOK_SECRET, now()).unwrap();
        let field = |name: &str| event.object.get(name).and_then(Value::as_str).map(str::to_owned);
        match event.billing_event() {
            Ok(BillingEvent::Ignored) => prop_assert_eq!(event_type, "something.else"),
            Ok(billing) => {
                prop_assert_ne!(event_type, "something.else");
                // What was read is what the object says.
                prop_assert_eq!(billing.customer_id().map(str::to_owned), field("customer"));
                match billing {
                    BillingEvent::InvoicePaid(f) | BillingEvent::InvoicePaymentFailed(f) | BillingEvent::InvoiceIssued(f) => {
                        prop_assert!(event_type.starts_with("invoice."));
                        prop_assert_eq!(Some(f.invoice_id), field("id"));
                        prop_assert!(f.amount_due.get() >= 0 && f.amount_paid.get() >= 0);
                    }
                    BillingEvent::SubscriptionUpdated(f) | BillingEvent::SubscriptionDeleted(f) => {
                        prop_assert!(event_type.starts_with("customer.subscription."));
                        prop_assert_eq!(Some(f.subscription_id), field("id"));
                    }
                    BillingEvent::Ignored => unreachable!("matched above"),
                }
            }
            Err(reason) => {
                prop_assert_ne!(event_type, "something.else");
                prop_assert!(!reason.is_empty());
            }
        }
    }
}

#[test]
fn the_signature_is_stripes_hmac_sha256_of_timestamp_dot_body() {
    // Computed independently (Python's hmac and hashlib) for this secret, timestamp and body.
    let body = r#"{"id":"evt_1","object":"event"}"#;
    let expected = "47dcdf15debfd0659802b1ff8a97f5db9aa674dc803e53473f9844baf5ba3ead";
    assert_eq!(
        fixtures::sign(body, "whsec_test_vector", 1_700_000_000),
        format!("t=1700000000,v1={expected}")
    );
    let at = Timestamp::from_second(1_700_000_000).unwrap();
    let header = SignatureHeader::parse(&format!("t=1700000000,v1={expected}")).unwrap();
    assert!(header.signs(body, "whsec_test_vector"));
    assert!(!header.signs(body, "whsec_other"));
    // During a secret's rotation Stripe sends one v1 per secret; a v0 and unknown schemes are ignored.
    let rotating = format!("t=1700000000, v0=00ff, v1={}, v1={expected}, x=1", "ab".repeat(32));
    let envelope = json!({"id": "evt_1", "type": "ping", "created": 1_700_000_000, "data": {"object": {}}});
    let body = envelope.to_string();
    let header = fixtures::sign(&body, "whsec_test_vector", 1_700_000_000);
    let rotating_header = rotating.replace(expected, header.split("v1=").nth(1).unwrap());
    assert!(verify(body.as_bytes(), Some(&rotating_header), "whsec_test_vector", at).is_ok());
    for malformed in [
        "",
        "t=1700000000",
        "v1=abcd",
        "t=1700000000,v0=abcd",
        "t=x,v1=ab",
        "garbage",
    ] {
        assert_eq!(
            verify(body.as_bytes(), Some(malformed), "whsec_test_vector", at).map(|_| ()),
            Err(Rejection::MalformedSignature),
            "{malformed:?}"
        );
    }
}
