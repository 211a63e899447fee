//! Partner directory, detail and tier catalog through admin-api against moto.

mod support;

use serde_json::json;
use support::TestApi;

#[tokio::test]
async fn tier_catalog_lists_the_three_tiers() {
    let api = TestApi::new().await;
    let answer = api.get("/admin/tiers").await;
    assert_eq!(answer.status, 200);
    let tiers = answer.body["tiers"].as_array().unwrap();
    let rows: Vec<_> = tiers
        .iter()
        .map(|t| {
            (
                t["tier"].clone(),
                t["label"].clone(),
                t["monthly_price_cents"].clone(),
                t["monthly_price"].clone(),
                t["multiplier"].clone(),
                t["badge_color"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                json!("free"),
                json!("Free Tier"),
                json!(0),
                json!("$0.00"),
                json!(1.5),
                json!("gray")
            ),
            (
                json!("gold"),
                json!("Power Gold"),
                json!(360_000),
                json!("$3,600.00"),
                json!(2.5),
                json!("gold")
            ),
            (
                json!("platinum"),
                json!("Power Platinum"),
                json!(600_000),
                json!("$6,000.00"),
                json!(5.0),
                json!("purple")
            ),
        ]
    );
    assert_eq!(tiers[1]["commitment_months"], 12);
}

#[tokio::test]
async fn directory_pages_by_name_with_filters() {
    let api = TestApi::new().await;
    let names = [
        "Zeta Roofing",
        "alpha Builders",
        "BuildPro CRM",
        "ContractorPro",
        "TechFlow Solutions",
        "Delta HVAC",
        "Echo Windows",
    ];
    for (i, name) in names.iter().enumerate() {
        api.partner(&format!("p{i}"), name, 60.0 + i as f64).await;
    }
    api.tier("p2", json!({"engagement_tier": "gold"})).await;
    api.tier("p4", json!({"engagement_tier": "platinum"})).await;

    let pages = api.pages("/admin/partners?limit=3", "partners").await;
    assert!(pages.iter().all(|rows| rows.len() <= 3));
    let seen: Vec<String> = pages
        .concat()
        .iter()
        .map(|r| r["company_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        seen,
        [
            "alpha Builders",
            "BuildPro CRM",
            "ContractorPro",
            "Delta HVAC",
            "Echo Windows",
            "TechFlow Solutions",
            "Zeta Roofing"
        ],
        "sorted by name, case-insensitively, each once"
    );
    assert!(pages.len() >= 3);

    let paid = api.get("/admin/partners?tier=gold").await.body;
    let row = &paid["partners"][0];
    assert_eq!(paid["partners"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            row["company_name"].clone(),
            row["tier_label"].clone(),
            row["badge_color"].clone()
        ),
        (json!("BuildPro CRM"), json!("Power Gold"), json!("gold"))
    );
    assert_eq!(row["final_pcr_score"], json!(0.8 * 62.0 + 10.0));
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let term_days = shared::domain::dates::days_until(today, shared::domain::dates::add_months(today, 12).unwrap());
    assert_eq!(row["days_left"], json!(term_days));
    assert_eq!(row["monthly_price"], "$3,600.00");

    let active = api.get("/admin/partners?status=active").await.body;
    let active_names: Vec<_> = active["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["company_name"].clone())
        .collect();
    assert_eq!(active_names, vec![json!("BuildPro CRM"), json!("TechFlow Solutions")]);

    let inactive_platinum = api.get("/admin/partners?tier=platinum&status=inactive").await.body;
    assert_eq!(inactive_platinum["partners"], json!([]));
}

#[tokio::test]
async fn renaming_a_partner_moves_it_in_the_directory() {
    let api = TestApi::new().await;
    api.partner("p1", "Zulu Co", 70.0).await;
    api.partner("p2", "Mike Co", 70.0).await;
    let renamed = api
        .put("/admin/partners/p1", json!({"company_name": "Alpha Co", "primary_email": "p1@example.com", "base_pcr_score": 72.5, "momentum_modifier": 5}))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["changed"], true);
    assert_eq!(
        renamed.body["partner"]["final_pcr_score"],
        json!(0.8 * 72.5 + 6.0 + 5.0)
    );
    let names: Vec<_> = api.get("/admin/partners").await.body["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["company_name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Alpha Co"), json!("Mike Co")]);
    let audit = api.all("p1", "audit").await;
    assert_eq!(audit[0]["action"], "profile_synced");
}

#[tokio::test]
async fn an_admin_exports_and_erases_a_partners_personal_data() {
    let api = TestApi::new().await;
    api.partner("gdpr-1", "GDPR Roofing", 70.0).await;
    let granted = api
        .tier(
            "gdpr-1",
            serde_json::json!({"engagement_tier": "gold", "reason": "signed by Jane Doe"}),
        )
        .await;
    assert_eq!(granted.status, 200, "{}", granted.body);

    let export = api.get("/admin/partners/gdpr-1/export").await;
    assert_eq!(export.status, 200, "{}", export.body);
    for kind in [
        "profile",
        "history",
        "audit",
        "invoices",
        "emails_sent",
        "renewal_notices",
    ] {
        assert!(export.body["records"][kind].is_array(), "{kind}");
    }
    assert!(export.body["records"].to_string().contains("Jane Doe"));

    let unconfirmed = api
        .send(
            "DELETE",
            "/admin/partners/gdpr-1/payment-history",
            Some("{}"),
            Some(&api.token),
        )
        .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    let erased = api
        .send(
            "DELETE",
            "/admin/partners/gdpr-1/payment-history",
            Some(r#"{"confirm":true}"#),
            Some(&api.token),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    assert!(erased.body["erased"]["history_entries"].as_u64().unwrap() >= 1);
    let after = api.get("/admin/partners/gdpr-1/export").await;
    assert!(!after.body["records"].to_string().contains("Jane Doe"));
    let audit = api.all("gdpr-1", "audit").await;
    for action in ["personal_data_exported", "payment_history_erased"] {
        let entry = audit
            .iter()
            .find(|a| a["action"] == action)
            .unwrap_or_else(|| panic!("{action} audited"));
        assert_eq!(entry["actor"], "admin:admin-1");
    }
    assert_eq!(api.get("/admin/partners/nobody/export").await.status, 404);
}
