//! Accounts: farmers by phone + PIN, buyers, helpers acting with consent, partners' keys, brute force.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, WARD_EA_KAO, assert_problem, fresh_phone, random_suffix,
};
use crate::on_both_backends;

async fn pin_login(app: &TestApp, phone: &str, pin: &str) -> reqwest::Response {
    app.post("/api/v1/auth/pin-login", None, &json!({"phone": phone, "pin": pin})).await
}

fn field_error(problem: &Value, field: &str) -> (String, String) {
    let error =
        problem["errors"].as_array().expect("errors").iter().find(|e| e["field"] == field).expect("field error");
    (error["code"].as_str().expect("code").to_owned(), error["message"].as_str().expect("message").to_owned())
}

on_both_backends! {
    farmer_signs_up_with_a_local_number_and_logs_in_with_e164(app) {
        let body = json!({"phone": "0912 345 678", "name": "  Trần Văn  Nam ", "ward_code": WARD_BUON_MA_THUOT, "pin": "482915"});
        let created = TestApp::expect_json(app.post("/api/v1/farmers", None, &body).await, 201).await;
        assert_eq!(created["farmer"]["phone"], "+84912345678");
        assert_eq!(created["farmer"]["name"], "Trần Văn Nam");
        assert_eq!(created["farmer"]["ward"]["province"]["name"], "Đắk Lắk");
        assert_eq!(created["farmer"]["role"], "farmer");

        let session = TestApp::expect_json(pin_login(&app, "+84912345678", "482915").await, 200).await;
        assert_eq!(session["role"], "farmer");
        let token = session["token"].as_str().expect("token");
        let me = TestApp::expect_json(app.request("GET", "/api/v1/me", Some(token)).send().await.expect("sent"), 200).await;
        assert_eq!(me["id"], created["farmer"]["id"]);

        // One phone, one farmer account, whatever form it is typed in.
        let again = json!({"phone": "84-912-345-678", "name": "Khác", "ward_code": WARD_DA_LAT, "pin": "735194"});
        assert_problem(app.post("/api/v1/farmers", None, &again).await, 409, "phone_taken").await;
    }

    bad_phones_and_trivial_pins_get_specific_messages_in_both_languages(app) {
        for (phone, code, vi_fragment) in [
            ("1234567", "phone_too_short", "thiếu số"),
            ("0123 456 789", "phone_old_prefix", "01x"),
        ] {
            let body = json!({"phone": phone, "name": "Lan", "ward_code": WARD_BUON_MA_THUOT, "pin": "482915"});
            let problem = assert_problem(app.post("/api/v1/farmers", None, &body).await, 422, "validation_failed").await;
            let (actual, message) = field_error(&problem, "phone");
            assert_eq!(actual, code, "{phone}");
            assert!(message.contains(vi_fragment), "{message}");
        }
        let body = json!({"phone": fresh_phone(), "name": "Lan", "ward_code": WARD_BUON_MA_THUOT, "pin": "111111"});
        let problem = assert_problem(app.post("/api/v1/farmers", None, &body).await, 422, "validation_failed").await;
        let (code, message) = field_error(&problem, "pin");
        assert_eq!(code, "pin_trivial");
        assert!(message.contains("dễ đoán"), "{message}");
        let english = app.request("POST", "/api/v1/farmers", None).header("Accept-Language", "en").json(&body).send().await.expect("sent");
        let problem = assert_problem(english, 422, "validation_failed").await;
        assert!(field_error(&problem, "pin").1.contains("too easy to guess"));
        assert_eq!(problem["title"], "Invalid data");

        // Every invalid field is named at once, and an unknown commune too.
        let body = json!({"phone": "1234567", "name": "", "ward_code": WARD_BUON_MA_THUOT, "pin": "12"});
        let problem = assert_problem(app.post("/api/v1/farmers", None, &body).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"].as_array().map(Vec::len), Some(3));
        let body = json!({"phone": fresh_phone(), "name": "Lan", "ward_code": 1, "pin": "482915"});
        let problem = assert_problem(app.post("/api/v1/farmers", None, &body).await, 422, "validation_failed").await;
        assert_eq!(field_error(&problem, "ward_code").0, "unknown_ward");
    }

    malformed_wrong_typed_oversized_and_non_json_bodies_are_4xx_problems(app) {
        let malformed = app.request("POST", "/api/v1/farmers", None).header("Content-Type", "application/json")
            .body("{\"phone\": \"0912\",").send().await.expect("sent");
        let problem = assert_problem(malformed, 400, "malformed_json").await;
        assert_eq!(problem["title"], "Yêu cầu không hợp lệ");
        let english = app.request("POST", "/api/v1/farmers", None).header("Content-Type", "application/json")
            .header("Accept-Language", "en").body("nope").send().await.expect("sent");
        assert_eq!(assert_problem(english, 400, "malformed_json").await["title"], "Bad request");

        let wrong_type = json!({"phone": "0912345678", "name": "Lan", "ward_code": "một", "pin": "482915"});
        let problem = assert_problem(app.post("/api/v1/farmers", None, &wrong_type).await, 422, "validation_failed").await;
        assert_eq!(field_error(&problem, "ward_code").0, "invalid_type");
        let missing = json!({"phone": "0912345678"});
        let problem = assert_problem(app.post("/api/v1/farmers", None, &missing).await, 422, "validation_failed").await;
        assert_eq!(field_error(&problem, "name").0, "required");

        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(200_000));
        let oversized = app.request("POST", "/api/v1/farmers", None).header("Content-Type", "application/json")
            .body(huge).send().await.expect("sent");
        assert_problem(oversized, 413, "payload_too_large").await;
        let form = app.request("POST", "/api/v1/farmers", None).header("Content-Type", "application/x-www-form-urlencoded")
            .body("phone=1").send().await.expect("sent");
        assert_problem(form, 415, "unsupported_media_type").await;
    }

    buyers_register_with_email_or_phone_and_log_in_with_either(app) {
        let email = format!("mai-{}@example.vn", random_suffix());
        let phone = fresh_phone();
        let body = json!({"name": "Lê Mai", "email": email, "phone": phone, "password": "rau-sach-2025"});
        let created = TestApp::expect_json(app.post("/api/v1/buyers", None, &body).await, 201).await;
        assert_eq!(created["buyer"]["role"], "buyer");
        app.run_outbox().await.expect("outbox");
        assert_eq!(app.mailer.sent().iter().filter(|m| m.to == email).count(), 1, "welcome email");
        app.login(&email.to_uppercase(), "rau-sach-2025").await;
        app.login(&phone, "rau-sach-2025").await;
        let wrong = app.post("/api/v1/auth/login", None, &json!({"login": email, "password": "wrong-password"})).await;
        assert_problem(wrong, 401, "invalid_credentials").await;

        let short = json!({"name": "Lê Mai", "email": "x@example.vn", "password": "short"});
        let problem = assert_problem(app.post("/api/v1/buyers", None, &short).await, 422, "validation_failed").await;
        assert_eq!(field_error(&problem, "password").0, "password_too_short");
        let anonymous = json!({"name": "Lê Mai", "password": "long enough"});
        let problem = assert_problem(app.post("/api/v1/buyers", None, &anonymous).await, 422, "validation_failed").await;
        assert_eq!(field_error(&problem, "email").0, "email_or_phone_required");
    }

    helper_enrolls_acts_audited_and_is_revoked(app) {
        let operator = app.operator_token().await;
        let (_, helper_id, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT, WARD_EA_KAO]).await;
        let (_, _, other_helper) = app.team_with_helper(&operator, &[WARD_DA_LAT]).await;

        let phone = fresh_phone();
        let mut body = json!({"phone": phone, "name": "Y Bhim", "ward_code": WARD_EA_KAO, "pin": "582047", "consent": false});
        let problem = assert_problem(app.post("/api/v1/helper/farmers", Some(&helper), &body).await, 422, "validation_failed").await;
        assert_eq!(field_error(&problem, "consent").0, "consent_required");
        body["consent"] = json!(true);
        let enrolled = TestApp::expect_json(app.post("/api/v1/helper/farmers", Some(&helper), &body).await, 201).await;
        let farmer_id = enrolled["farmer"]["id"].as_i64().expect("farmer id");
        assert!(enrolled.get("token").is_none(), "the helper must not get the farmer's session");
        assert!(enrolled["consent_version"].is_string());

        // Outside the team's communes: enrolment refused, acting answers 404.
        let mut elsewhere = body.clone();
        elsewhere["phone"] = json!(fresh_phone());
        elsewhere["ward_code"] = json!(WARD_DA_LAT);
        let problem = assert_problem(app.post("/api/v1/helper/farmers", Some(&helper), &elsewhere).await, 422, "validation_failed").await;
        assert_eq!(field_error(&problem, "ward_code").0, "ward_outside_team");
        let foreign = app.request("GET", "/api/v1/me", Some(&other_helper)).header("X-On-Behalf-Of", farmer_id.to_string()).send().await.expect("sent");
        assert_problem(foreign, 404, "farmer_not_found").await;

        let list = TestApp::expect_json(app.request("GET", "/api/v1/helper/farmers", Some(&helper)).send().await.expect("sent"), 200).await;
        assert!(list["items"].as_array().expect("items").iter().any(|f| f["id"] == farmer_id && f["enrolled_by_me"] == true));

        let as_farmer = app.request("GET", "/api/v1/me", Some(&helper)).header("X-On-Behalf-Of", farmer_id.to_string()).send().await.expect("sent");
        let profile = TestApp::expect_json(as_farmer, 200).await;
        assert_eq!((profile["id"].as_i64(), profile["name"].as_str()), (Some(farmer_id), Some("Y Bhim")));

        let session = TestApp::expect_json(pin_login(&app, &phone, "582047").await, 200).await;
        let farmer = session["token"].as_str().expect("token").to_owned();
        let audit = TestApp::expect_json(app.request("GET", "/api/v1/me/audit", Some(&farmer)).send().await.expect("sent"), 200).await;
        let actions: Vec<&str> = audit["items"].as_array().expect("items").iter().map(|i| i["action"].as_str().expect("action")).collect();
        assert_eq!(actions, vec!["view_profile", "enroll"]);
        assert!(audit["items"].as_array().expect("items").iter().all(|i| i["actor"]["id"] == helper_id));
        // Helpers cannot read or change the oversight of themselves.
        let peek = app.request("GET", "/api/v1/me/audit", Some(&helper)).header("X-On-Behalf-Of", farmer_id.to_string()).send().await.expect("sent");
        assert_problem(peek, 403, "forbidden_role").await;

        let revoke = app.request("DELETE", &format!("/api/v1/me/helpers/{helper_id}"), Some(&farmer)).send().await.expect("sent");
        assert_eq!(revoke.status(), 204);
        let after = app.request("GET", "/api/v1/me", Some(&helper)).header("X-On-Behalf-Of", farmer_id.to_string()).send().await.expect("sent");
        assert_problem(after, 403, "helper_revoked").await;
        let reset = app.request("POST", &format!("/api/v1/helper/farmers/{farmer_id}/pin-reset"), Some(&helper))
            .json(&json!({"new_pin": "639251", "identity_checked": true})).send().await.expect("sent");
        assert_problem(reset, 403, "helper_revoked").await;
    }

    pin_reset_by_a_helper_ends_the_farmers_sessions_and_is_audited(app) {
        let operator = app.operator_token().await;
        let (team_id, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        app.consent(&farmer.token, team_id).await;
        let path = format!("/api/v1/helper/farmers/{}/pin-reset", farmer.id);
        let unchecked = app.post(&path, Some(&helper), &json!({"new_pin": "639251", "identity_checked": false})).await;
        assert_problem(unchecked, 422, "validation_failed").await;
        let reset = app.post(&path, Some(&helper), &json!({"new_pin": "639251", "identity_checked": true})).await;
        assert_eq!(reset.status(), 204);
        let old = app.request("GET", "/api/v1/me", Some(&farmer.token)).send().await.expect("sent");
        assert_problem(old, 401, "invalid_token").await;
        assert_problem(pin_login(&app, &farmer.phone, &farmer.pin).await, 401, "invalid_credentials").await;
        let session = TestApp::expect_json(pin_login(&app, &farmer.phone, "639251").await, 200).await;
        let audit = TestApp::expect_json(app.request("GET", "/api/v1/me/audit", session["token"].as_str()).send().await.expect("sent"), 200).await;
        assert_eq!(audit["items"][0]["action"], "pin_reset");
    }

    logout_and_pin_change_end_sessions(app) {
        let farmer = app.farmer(WARD_DA_LAT).await;
        let second = TestApp::expect_json(pin_login(&app, &farmer.phone, &farmer.pin).await, 200).await["token"].as_str().expect("token").to_owned();
        let wrong = app.post("/api/v1/me/pin", Some(&farmer.token), &json!({"current_pin": "000001", "new_pin": "639251"})).await;
        assert_problem(wrong, 422, "validation_failed").await;
        let changed = TestApp::expect_json(app.post("/api/v1/me/pin", Some(&farmer.token), &json!({"current_pin": farmer.pin, "new_pin": "639251"})).await, 200).await;
        for old in [&farmer.token, &second] {
            assert_problem(app.request("GET", "/api/v1/me", Some(old)).send().await.expect("sent"), 401, "invalid_token").await;
        }
        let fresh = changed["token"].as_str().expect("token");
        assert_eq!(app.request("POST", "/api/v1/auth/logout", Some(fresh)).send().await.expect("sent").status(), 204);
        assert_problem(app.request("GET", "/api/v1/me", Some(fresh)).send().await.expect("sent"), 401, "invalid_token").await;
    }

    partner_keys_are_shown_once_work_and_are_revoked_one_by_one(app) {
        let operator = app.operator_token().await;
        let (partner_id, first_id, first) = app.partner(&operator, &[66, 68]).await;
        let (_, second) = app.new_key(&operator, partner_id).await;
        assert!(first.starts_with("nsk_"));
        let me = TestApp::expect_json(app.request("GET", "/api/v1/partner/me", Some(&first)).send().await.expect("sent"), 200).await;
        assert_eq!(me["province_codes"], json!([66, 68]));
        assert!(first.starts_with(me["key"]["prefix"].as_str().expect("prefix")));
        let revoke = app.request("DELETE", &format!("/api/v1/admin/partners/{partner_id}/keys/{first_id}"), Some(&operator)).send().await.expect("sent");
        assert_eq!(revoke.status(), 204);
        assert_problem(app.request("GET", "/api/v1/partner/me", Some(&first)).send().await.expect("sent"), 401, "invalid_token").await;
        assert_eq!(app.request("GET", "/api/v1/partner/me", Some(&second)).send().await.expect("sent").status(), 200);
        let missing = app.request("DELETE", &format!("/api/v1/admin/partners/{partner_id}/keys/999999"), Some(&operator)).send().await.expect("sent");
        assert_problem(missing, 404, "not_found").await;
        let bad = app.post("/api/v1/admin/partners", Some(&operator), &json!({"name": "GHN", "province_codes": [99]})).await;
        assert_problem(bad, 422, "validation_failed").await;
    }

    the_sixth_wrong_pin_in_15_minutes_is_429_even_when_right(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        for _ in 0..5 {
            assert_problem(pin_login(&app, &farmer.phone, "000001").await, 401, "invalid_credentials").await;
        }
        let locked = pin_login(&app, &farmer.phone, &farmer.pin).await;
        let retry_after: u64 = locked.headers()["retry-after"].to_str().expect("header").parse().expect("seconds");
        assert!((1..=900).contains(&retry_after), "{retry_after}");
        let problem = assert_problem(locked, 429, "too_many_attempts").await;
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("thử lại sau")), "{problem}");
        // Other phones are not locked by it.
        let other = app.farmer(WARD_BUON_MA_THUOT).await;
        assert_eq!(pin_login(&app, &other.phone, &other.pin).await.status(), 200);
    }

    thirty_wrong_pins_at_once_get_five_checks_and_the_rest_429(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let app = std::sync::Arc::new(app);
        let guesses: Vec<_> = (0..30)
            .map(|n| {
                let (app, phone) = (app.clone(), farmer.phone.clone());
                tokio::spawn(async move { pin_login(&app, &phone, &format!("{}", 100_003 + n * 7)).await.status().as_u16() })
            })
            .collect();
        let mut statuses = Vec::new();
        for guess in guesses {
            statuses.push(guess.await.expect("guess"));
        }
        statuses.sort_unstable();
        let checked = statuses.iter().filter(|s| **s == 401).count();
        assert_eq!((checked, statuses.len() - checked), (5, 25), "{statuses:?}");
        assert_eq!(pin_login(&app, &farmer.phone, &farmer.pin).await.status(), 429, "locked even with the right PIN");
    }

    a_session_cannot_be_used_to_guess_the_current_pin(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let change = |current: &str| json!({"current_pin": current, "new_pin": "639251"});
        for n in 0..5 {
            let wrong = app.post("/api/v1/me/pin", Some(&farmer.token), &change(&format!("{}", 100_003 + n))).await;
            assert_problem(wrong, 422, "validation_failed").await;
        }
        let locked = app.post("/api/v1/me/pin", Some(&farmer.token), &change(&farmer.pin)).await;
        assert_problem(locked, 429, "too_many_attempts").await;
    }

    no_secret_is_stored_in_clear(app) {
        let operator = app.operator_token().await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let (_, _, key) = app.partner(&operator, &[66]).await;
        let email = format!("mai-{}@example.vn", random_suffix());
        let buyer = json!({"name": "Lê Mai", "email": email, "password": "buyer-secret-pass"});
        let buyer_token = TestApp::expect_json(app.post("/api/v1/buyers", None, &buyer).await, 201).await["token"].as_str().expect("token").to_owned();
        let dump = crate::helpers::dump_database(&app).await;
        assert!(dump.contains(&email), "the dump must hold the data");
        for secret in [farmer.pin.as_str(), farmer.token.as_str(), "buyer-secret-pass", buyer_token.as_str(), key.as_str(), operator.as_str(), "operator-password"] {
            assert!(!dump.contains(secret), "{secret} is stored in clear");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_lockout_is_shared_by_two_instances_through_redis() {
    let Some(first) = TestApp::postgres().await else { return };
    if first.settings.redis_url.is_none() {
        eprintln!("TEST_REDIS_URL not set: shared lockout test skipped");
        return;
    }
    let second = first.another_instance().await;
    let farmer = first.farmer(WARD_BUON_MA_THUOT).await;
    for (i, app) in [&first, &second, &first, &second, &first].into_iter().enumerate() {
        let wrong = pin_login(app, &farmer.phone, "000001").await;
        assert_problem(wrong, 401, "invalid_credentials").await;
        eprintln!("wrong PIN {} answered 401", i + 1);
    }
    for app in [&second, &first] {
        let locked = pin_login(app, &farmer.phone, &farmer.pin).await;
        assert!(locked.headers().contains_key("retry-after"));
        assert_problem(locked, 429, "too_many_attempts").await;
    }
}
