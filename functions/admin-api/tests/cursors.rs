//! Page cursors against moto: a cursor the API handed out, changed so that it names another
//! partner, another listing, another shape or nothing at all, is refused with 400; any other change
//! answers a page or 400, never a 5xx. (The API fuzzing exempts cursors because of this test.)

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use serde_json::{json, Value};
use support::TestApi;

/// The listings that page with a cursor, each with one real `next_cursor` of its own.
struct Listing {
    path: &'static str,
    cursor: String,
}

const LISTINGS: [&str; 6] = [
    "/admin/partners?limit=1",
    "/admin/partners/cur-a/history?limit=1",
    "/admin/partners/cur-a/audit?limit=1",
    "/admin/partners/cur-b/history?limit=1",
    "/admin/subscriptions?tab=history&limit=1",
    "/admin/subscriptions?tab=active&sort=company_name&limit=1",
];

async fn listings(api: &TestApi) -> Vec<Listing> {
    for (id, name) in [("cur-a", "Cursor A"), ("cur-b", "Cursor B"), ("cur-c", "Cursor C")] {
        api.partner(id, name, 70.0).await;
        for tier in ["gold", "platinum", "gold"] {
            let answer = api.tier(id, json!({"engagement_tier": tier, "reason": "paging"})).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
        }
    }
    let mut found = Vec::new();
    for path in LISTINGS {
        let answer = api.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let cursor = answer.body["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} has a second page: {}", answer.body))
            .to_owned();
        let again = api.get(&format!("{path}&cursor={cursor}")).await;
        assert_eq!(again.status, 200, "{path}: its own cursor is accepted: {}", again.body);
        found.push(Listing { path, cursor });
    }
    found
}

/// A change to a real cursor; `refused` says whether the answer must be 400.
#[derive(Debug, Clone)]
enum Change {
    /// Another listing's cursor.
    OtherListing(usize),
    /// Every value naming partner A names partner B (on A's listings).
    OtherPartner,
    /// One key attribute (or field) left out.
    Drop(prop::sample::Index),
    /// A field the listing's cursor does not have.
    Extra(&'static str),
    /// One value replaced by JSON of another type, empty, or out of range.
    Value(prop::sample::Index, Value),
    /// The inner cursor of a month feed replaced by another listing's.
    InnerFrom(usize),
    Truncate(prop::sample::Index),
    /// One character replaced: may still be a cursor of the listing.
    Flip(prop::sample::Index, char),
    /// One value replaced by another string: may still be a cursor of the listing.
    Retext(prop::sample::Index, String),
}

fn any_change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0..LISTINGS.len()).prop_map(Change::OtherListing),
        Just(Change::OtherPartner),
        any::<prop::sample::Index>().prop_map(Change::Drop),
        prop::sample::select(vec!["gsi1pk", "x", "pk ", "month2"]).prop_map(Change::Extra),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                json!(null),
                json!(7),
                json!(""),
                json!(["x"]),
                json!({"S": "x"}),
                json!(u64::MAX),
                json!(-1),
                json!("x".repeat(600)),
                json!("1999-01"),
            ])
        )
            .prop_map(|(i, v)| Change::Value(i, v)),
        (0..LISTINGS.len()).prop_map(Change::InnerFrom),
        any::<prop::sample::Index>().prop_map(Change::Truncate),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(
                ('a'..='z')
                    .chain('A'..='Z')
                    .chain('0'..='9')
                    .chain(['-', '_'])
                    .collect::<Vec<_>>()
            )
        )
            .prop_map(|(i, c)| Change::Flip(i, c)),
        (any::<prop::sample::Index>(), "[A-Za-z0-9#_-]{1,30}").prop_map(|(i, s)| Change::Retext(i, s)),
    ]
}

fn decoded(cursor: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).unwrap()).unwrap()
}

fn encoded(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The changed cursor, and whether it must be refused (`None`: the change does not apply here).
fn change_cursor(change: &Change, listing: usize, all: &[Listing]) -> Option<(String, bool)> {
    let cursor = &all[listing].cursor;
    let value = decoded(cursor);
    let with_field = |index: &prop::sample::Index, f: &dyn Fn(&mut serde_json::Map<String, Value>, String)| {
        let mut value = value.clone();
        let object = value.as_object_mut()?;
        let key = object.keys().nth(index.index(object.len()))?.clone();
        f(object, key);
        Some(encoded(&value))
    };
    match change {
        Change::OtherListing(other) => (*other != listing).then(|| (all[*other].cursor.clone(), true)),
        Change::OtherPartner => {
            let text = value.to_string();
            (all[listing].path.contains("cur-a") && text.contains("cur-a"))
                .then(|| (URL_SAFE_NO_PAD.encode(text.replace("cur-a", "cur-b")), true))
        }
        Change::Drop(i) => {
            let mut value = value.clone();
            let object = value.as_object_mut()?;
            let key = object.keys().nth(i.index(object.len()))?.clone();
            object.remove(&key);
            // A month feed's position without `inner` is that month's first page.
            Some((encoded(&value), key != "inner"))
        }
        Change::Extra(name) => {
            let mut value = value.clone();
            value.as_object_mut()?.insert((*name).to_owned(), json!("x"));
            Some((encoded(&value), true))
        }
        Change::Value(i, new) => {
            let mut value = value.clone();
            let object = value.as_object_mut()?;
            let key = object.keys().nth(i.index(object.len()))?.clone();
            let must_refuse = match new {
                // A month feed's `inner` is null on a month's first page.
                Value::Null => key != "inner",
                // A string key value may still be one of the listing's; a month out of range not.
                Value::String(s) if !s.is_empty() && s.len() <= 512 => key == "month",
                _ => true,
            };
            object.insert(key, new.clone());
            Some((encoded(&value), must_refuse))
        }
        Change::InnerFrom(other) => {
            let mut value = value.clone();
            let object = value.as_object_mut()?;
            object.get("inner")?;
            (*other != listing).then_some(())?;
            object.insert("inner".into(), json!(all[*other].cursor));
            Some((encoded(&value), true))
        }
        // Cut to at least one character: an empty `cursor=` is no cursor (the first page).
        Change::Truncate(i) => Some((cursor[..1 + i.index(cursor.len() - 1)].to_owned(), true)),
        Change::Flip(i, c) => {
            let mut chars: Vec<char> = cursor.chars().collect();
            let at = i.index(chars.len());
            chars[at] = *c;
            Some((chars.into_iter().collect(), false))
        }
        Change::Retext(i, text) => with_field(i, &|o, k| {
            o.insert(k, json!(text));
        })
        .map(|c| (c, false)),
    }
}

#[test]
fn a_changed_cursor_is_refused_and_none_answers_5xx() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(TestApi::new());
    let all = runtime.block_on(listings(&api));
    // An offset cursor (the company-name sort) past anything real is a page of nothing, not a crash.
    let far = runtime.block_on(api.get(&format!("{}&cursor={}", LISTINGS[5], encoded(&json!(u64::MAX)))));
    assert!(far.status == 200 || far.status == 400, "{}", far.body);

    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let refused_cases = std::cell::Cell::new(0u32);
    runner
        .run(&(0..LISTINGS.len(), any_change()), |(listing, change)| {
            let Some((cursor, must_refuse)) = change_cursor(&change, listing, &all) else {
                return Ok(());
            };
            let path = format!("{}&cursor={cursor}", all[listing].path);
            let answer = runtime.block_on(api.get(&path));
            prop_assert!(
                answer.status < 500,
                "{:?} on {}: {} {}",
                change,
                path,
                answer.status,
                answer.body
            );
            if must_refuse {
                refused_cases.set(refused_cases.get() + 1);
                prop_assert_eq!(answer.status, 400, "{:?} on {}: {}", change, path, answer.body);
                prop_assert_eq!(&answer.content_type, "application/problem+json");
            } else {
                prop_assert!(
                    [200, 400].contains(&answer.status),
                    "{:?} on {}: {}",
                    change,
                    path,
                    answer.body
                );
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        refused_cases.get() >= 60,
        "{} cases had to be refused",
        refused_cases.get()
    );
}
