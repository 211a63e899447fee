//! Every admin route, whatever is added later, refuses every kind of bad token and an oversized body
//! before it reads or changes anything.

mod support;

use shared::auth::Role;
use shared::testing::attacks::attack_every_route;
use shared::testing::table_snapshot;
use support::TestApi;

#[tokio::test]
async fn every_admin_route_refuses_bad_tokens_and_oversized_bodies_and_changes_nothing() {
    let api = TestApi::new().await;
    api.partner("p1", "BuildPro CRM", 80.0).await;
    let before = table_snapshot(&api.app.store).await;
    api.calls.clear();

    let (failures, routes) = attack_every_route("AdminApiFunction", Role::Admin, |req| api.app.handle(req)).await;

    assert!(
        failures.is_empty(),
        "{} answered wrongly on {routes} routes:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(routes >= 28, "every route was attacked ({routes} routes)");
    assert_eq!(table_snapshot(&api.app.store).await, before, "nothing changed");
    assert_eq!(
        api.calls.calls(),
        vec!["Scan"; 1],
        "nothing but the snapshot read the table"
    );
}
