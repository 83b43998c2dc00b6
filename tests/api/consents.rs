//! Consent is the key, not the commune (issue 16, SECURITY.md findings 4 and 6): a helper acts for a farmer,
//! resets their PIN and sees their phone only while the farmer has a live consent for the helper's team,
//! covering what the helper does; the farmer gives, lists and revokes consents.

use diesel::migration::{MigrationConnection, MigrationSource};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use nongsan::db::schema::{consent_purposes, consents};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDatabase, WARD_BUON_MA_THUOT, assert_problem, e164, fresh_phone};
use crate::on_both_backends;
use crate::pages::{PageVisitor, text_of};

/// A helper's request acting for `farmer_id`.
async fn acting(
    app: &TestApp,
    method: &str,
    path: &str,
    helper: &str,
    farmer_id: i64,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.request(method, path, Some(helper)).header("X-On-Behalf-Of", farmer_id.to_string());
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("sent")
}

async fn pin_reset(app: &TestApp, helper: &str, farmer_id: i64, new_pin: &str) -> reqwest::Response {
    let body = json!({"new_pin": new_pin, "identity_checked": true});
    app.post(&format!("/api/v1/helper/farmers/{farmer_id}/pin-reset"), Some(helper), &body).await
}

/// The helper's list entry of a farmer, and the list's raw text.
async fn listed(app: &TestApp, helper: &str, farmer_id: i64) -> (Value, String) {
    let response = app.request("GET", "/api/v1/helper/farmers?limit=100", Some(helper)).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    let list: Value = serde_json::from_str(&text).expect("JSON");
    let entry = list["items"].as_array().expect("items").iter().find(|f| f["id"] == farmer_id).expect("listed").clone();
    (entry, text)
}

async fn consents(app: &TestApp, farmer: &str) -> Vec<Value> {
    let answer = app.request("GET", "/api/v1/me/consents", Some(farmer)).send().await.expect("sent");
    TestApp::expect_json(answer, 200).await["items"].as_array().expect("items").clone()
}

async fn revoke(app: &TestApp, farmer: &str, consent_id: &Value) -> reqwest::Response {
    app.request("DELETE", &format!("/api/v1/me/consents/{consent_id}"), Some(farmer)).send().await.expect("sent")
}

on_both_backends! {
    a_helper_acts_for_a_farmer_who_signed_up_alone_only_once_they_consent(app) {
        let operator = app.operator_token().await;
        let (team_id, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;

        // Signed up alone, never agreed: the commune's team may not act, reset the PIN or see the phone.
        assert_problem(acting(&app, "GET", "/api/v1/me/listings", &helper, farmer.id, None).await, 403, "consent_required").await;
        assert_problem(pin_reset(&app, &helper, farmer.id, "639251").await, 403, "consent_required").await;
        let (entry, text) = listed(&app, &helper, farmer.id).await;
        assert_eq!((entry["consenting"].as_bool(), entry["can_act"].as_bool(), entry["phone"].is_null()), (Some(false), Some(false), true), "{entry}");
        assert_eq!(entry["name"], "Nguyễn Thị Lan");
        assert!(!text.contains(&e164(&farmer.phone)), "no phone of a farmer who did not consent: {text}");
        let page = PageVisitor::with_session(&app, &helper).await.get("/helper").await;
        assert!(!page.html.contains(&e164(&farmer.phone)), "nor on the helper's page");
        assert!(text_of(&page.html).contains("chưa đồng ý cho nhóm làm thay"), "{}", page.html);

        // The farmer lets the team list produce, and nothing else.
        let body = json!({"team_id": team_id, "purposes": ["list_produce"]});
        let consent = TestApp::expect_json(app.post("/api/v1/me/consents", Some(&farmer.token), &body).await, 201).await;
        assert_eq!((consent["team"]["id"].as_i64(), consent["given_by"].as_str()), (Some(team_id), Some("farmer")));
        assert_eq!(consent["purposes"], json!(["list_produce"]));
        assert!(consent["consent_version"].is_string() && consent["revoked_at"].is_null(), "{consent}");
        assert_eq!(acting(&app, "GET", "/api/v1/me/listings", &helper, farmer.id, None).await.status(), 200);
        let listing = json!({"title": "Gạo ST25", "price": "30k", "quantity": "1 tấn"});
        assert_eq!(acting(&app, "POST", "/api/v1/listings", &helper, farmer.id, Some(listing)).await.status(), 201);
        let (entry, _) = listed(&app, &helper, farmer.id).await;
        assert_eq!((entry["consenting"].as_bool(), entry["phone"].as_str()), (Some(true), Some(e164(&farmer.phone).as_str())));
        // What the consent does not cover stays refused, and a helper never changes the farmer's email.
        assert_problem(pin_reset(&app, &helper, farmer.id, "639251").await, 403, "consent_required").await;
        let auto = acting(&app, "PATCH", "/api/v1/me", &helper, farmer.id, Some(json!({"auto_accept": true}))).await;
        assert_problem(auto, 403, "consent_required").await;
        let email = acting(&app, "PATCH", "/api/v1/me", &helper, farmer.id, Some(json!({"email": "rogue@example.vn"}))).await;
        assert_problem(email, 403, "contact_is_the_farmers").await;
        assert_eq!(acting(&app, "PATCH", "/api/v1/me", &helper, farmer.id, Some(json!({"name": "Nguyễn Lan"}))).await.status(), 200);

        // A new consent to the team replaces the first; now the PIN reset is allowed, and the farmer is told.
        let all = app.consent(&farmer.token, team_id).await;
        let listed_consents = consents(&app, &farmer.token).await;
        assert_eq!(listed_consents.len(), 2);
        assert_eq!((&listed_consents[0]["id"], listed_consents[0]["revoked_at"].is_null()), (&all["id"], true));
        assert!(listed_consents[1]["revoked_at"].is_string(), "the first was replaced");
        assert_eq!(pin_reset(&app, &helper, farmer.id, "639251").await.status(), 204);
        let login = json!({"phone": farmer.phone, "pin": "639251"});
        let token = TestApp::expect_json(app.post("/api/v1/auth/pin-login", None, &login).await, 200).await["token"].as_str().expect("token").to_owned();
        let told = app.request("GET", "/api/v1/me/notifications", Some(&token)).send().await.expect("sent");
        assert_eq!(TestApp::expect_json(told, 200).await["items"][0]["kind"], "pin_reset");

        // Revoked: refused from the very next request, and the phone is hidden again.
        assert_eq!(revoke(&app, &token, &all["id"]).await.status(), 204);
        assert_problem(acting(&app, "GET", "/api/v1/me/listings", &helper, farmer.id, None).await, 403, "consent_required").await;
        assert_problem(pin_reset(&app, &helper, farmer.id, "582047").await, 403, "consent_required").await;
        assert!(listed(&app, &helper, farmer.id).await.0["phone"].is_null());
        assert_eq!(revoke(&app, &token, &all["id"]).await.status(), 204, "revoking twice changes nothing");
        assert!(consents(&app, &token).await.iter().all(|c| c["revoked_at"].is_string()));

        // Only the farmer's own consents: another farmer's is not found, and helpers cannot manage them.
        let other = app.farmer(WARD_BUON_MA_THUOT).await;
        assert_problem(revoke(&app, &other.token, &all["id"]).await, 404, "not_found").await;
        let peek = acting(&app, "GET", "/api/v1/me/consents", &helper, farmer.id, None).await;
        assert_problem(peek, 403, "forbidden_role").await;
        let nothing = json!({"team_id": team_id, "purposes": []});
        assert_problem(app.post("/api/v1/me/consents", Some(&token), &nothing).await, 422, "validation_failed").await;
        let nowhere = json!({"team_id": team_id + 1000, "purposes": ["reset_pin"]});
        assert_problem(app.post("/api/v1/me/consents", Some(&token), &nowhere).await, 422, "validation_failed").await;
    }

    a_farmer_consents_in_person_by_typing_their_pin_on_the_helpers_phone(app) {
        let operator = app.operator_token().await;
        let (_, helper_id, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let path = format!("/api/v1/helper/farmers/{}/consents", farmer.id);

        let wrong = app.post(&path, Some(&helper), &json!({"pin": "000917", "purposes": ["answer_orders"]})).await;
        assert_problem(wrong, 422, "validation_failed").await;
        assert_problem(acting(&app, "GET", "/api/v1/me/shipments", &helper, farmer.id, None).await, 403, "consent_required").await;
        let right = app.post(&path, Some(&helper), &json!({"pin": farmer.pin, "purposes": ["answer_orders"]})).await;
        let consent = TestApp::expect_json(right, 201).await;
        assert_eq!((consent["given_by"].as_str(), consent["helper"]["id"].as_i64()), (Some("in_person"), Some(helper_id)));
        assert_eq!(acting(&app, "GET", "/api/v1/me/shipments", &helper, farmer.id, None).await.status(), 200);
        let listing = json!({"title": "Gạo ST25", "price": "30k", "quantity": "1 tấn"});
        let refused = acting(&app, "POST", "/api/v1/listings", &helper, farmer.id, Some(listing)).await;
        assert_problem(refused, 403, "consent_required").await;
        assert_eq!(consents(&app, &farmer.token).await[0]["id"], consent["id"], "the farmer sees it");

        // Wrong PINs typed on a helper's phone count against the farmer's PIN lockout, as logins do.
        let guessed = app.farmer(WARD_BUON_MA_THUOT).await;
        let path = format!("/api/v1/helper/farmers/{}/consents", guessed.id);
        for _ in 0..5 {
            let wrong = app.post(&path, Some(&helper), &json!({"pin": "000917", "purposes": ["reset_pin"]})).await;
            assert_eq!(wrong.status(), 422);
        }
        let locked = app.post(&path, Some(&helper), &json!({"pin": guessed.pin, "purposes": ["reset_pin"]})).await;
        assert_problem(locked, 429, "too_many_attempts").await;
        let login = json!({"phone": guessed.phone, "pin": guessed.pin});
        assert_problem(app.post("/api/v1/auth/pin-login", None, &login).await, 429, "too_many_attempts").await;
    }

    revoking_a_helper_ends_the_consent_of_their_team_at_once(app) {
        let operator = app.operator_token().await;
        let (team_id, helper_id, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let (_, colleague) = app.helper_in(&operator, team_id).await;
        let phone = fresh_phone();
        let body = json!({"phone": phone, "name": "Y Bhim", "ward_code": WARD_BUON_MA_THUOT, "pin": "582047", "consent": true});
        let enrolled = TestApp::expect_json(app.post("/api/v1/helper/farmers", Some(&helper), &body).await, 201).await;
        let farmer_id = enrolled["farmer"]["id"].as_i64().expect("farmer id");
        let login = json!({"phone": phone, "pin": "582047"});
        let farmer = TestApp::expect_json(app.post("/api/v1/auth/pin-login", None, &login).await, 200).await["token"].as_str().expect("token").to_owned();

        // Enrolment is a consent of every purpose to the helper's team, on the record.
        let given = consents(&app, &farmer).await;
        assert_eq!(given.len(), 1);
        assert_eq!((given[0]["given_by"].as_str(), given[0]["helper"]["id"].as_i64()), (Some("enrolment"), Some(helper_id)));
        assert_eq!(given[0]["purposes"], json!(["list_produce", "answer_orders", "reset_pin"]));
        assert_eq!(acting(&app, "GET", "/api/v1/me", &colleague, farmer_id, None).await.status(), 200);

        let stop = app.request("DELETE", &format!("/api/v1/me/helpers/{helper_id}"), Some(&farmer)).send().await.expect("sent");
        assert_eq!(stop.status(), 204);
        assert_problem(acting(&app, "GET", "/api/v1/me", &helper, farmer_id, None).await, 403, "helper_revoked").await;
        assert_problem(acting(&app, "GET", "/api/v1/me", &colleague, farmer_id, None).await, 403, "consent_required").await;
        assert!(consents(&app, &farmer).await[0]["revoked_at"].is_string());
    }
}

/// Runs `dir`'s migrations on `conn` up to (not including) the consents migration, adds a team, a helper, a
/// farmer they enrolled and one who signed up alone, runs the rest, and gives (team, given by, helper, number
/// of purposes) of those farmers' consents. A macro: the same steps over either backend's connection.
macro_rules! migrated_consents {
    ($conn:expr, $dir:literal, $backend:ty) => {{
        let conn = $conn;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $dir);
        let source = FileBasedMigrations::from_path(path).expect("migrations");
        let mut migrations = MigrationSource::<$backend>::migrations(&source).expect("read");
        migrations.sort_by_key(|m| m.name().version().to_string());
        let at = migrations.iter().position(|m| m.name().to_string().ends_with("_consents")).expect("consents");
        conn.setup().expect("migrations table");
        for migration in &migrations[..at] {
            conn.run_migration(migration.as_ref()).expect("earlier migration");
        }
        for statement in BEFORE_CONSENTS {
            diesel::sql_query(statement).execute(conn).expect(statement);
        }
        for migration in &migrations[at..] {
            conn.run_migration(migration.as_ref()).expect("the consents migration and later ones");
        }
        let purposes = consent_purposes::table.filter(consent_purposes::consent_id.eq(consents::id)).count();
        let rows: Vec<(i64, String, Option<i64>, i64)> = consents::table
            .filter(consents::farmer_id.eq_any([71_i64, 72]))
            .select((
                consents::team_id,
                consents::given_by,
                consents::helper_id,
                purposes.single_value().assume_not_null(),
            ))
            .load(conn)
            .expect("consents");
        rows
    }};
}

/// A team, its helper, a farmer the helper enrolled (with the consent stored on the account) and one who
/// signed up alone, as they were stored before consents had a table.
const BEFORE_CONSENTS: [&str; 4] = [
    "INSERT INTO teams (id, name, created_at) VALUES (7, 'Tổ Ea Kao', '2026-01-01 00:00:00')",
    "INSERT INTO users (id, role, name, phone, team_id, secret_hash, created_at, updated_at) \
     VALUES (70, 'helper', 'Minh', '+84910000070', 7, 'x', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO users (id, role, name, phone, secret_hash, enrolled_by, consent_version, consent_at, created_at, \
     updated_at) VALUES (71, 'farmer', 'Y Bhim', '+84910000071', 'x', 70, '2025-07-helper-consent-v1', \
     '2026-01-02 00:00:00', '2026-01-02 00:00:00', '2026-01-02 00:00:00')",
    "INSERT INTO users (id, role, name, phone, secret_hash, created_at, updated_at) \
     VALUES (72, 'farmer', 'Lan', '+84910000072', 'x', '2026-01-02 00:00:00', '2026-01-02 00:00:00')",
];

#[test]
fn farmers_a_helper_enrolled_before_consents_existed_consent_to_the_helpers_team_for_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sqlite = SqliteConnection::establish(&dir.path().join("m.db").to_string_lossy()).expect("sqlite");
    let expected = vec![(7, "enrolment".to_owned(), Some(70), 3)];
    let migrated = migrated_consents!(&mut sqlite, "sqlite", diesel::sqlite::Sqlite);
    assert_eq!(migrated, expected, "the enrolled farmer only, for every purpose");
    if let Some(database) = TestDatabase::create() {
        let mut pg = PgConnection::establish(&database.url).expect("postgres");
        assert_eq!(migrated_consents!(&mut pg, "postgres", diesel::pg::Pg), expected);
    }
}
