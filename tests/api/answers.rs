//! Answers that leave nobody guessing: a refused order does not use up its key and lists every problem at
//! once, a replay speaks the retry's language, no parser text reaches a person, reasons the system gives are
//! rendered in the reader's language, and amounts read the way people write them.

use serde_json::{Value, json};

use crate::helpers::{
    PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, assert_problem, fresh_phone, guest_order, phone_param, random_suffix,
};
use crate::on_both_backends;

async fn pin_login(app: &TestApp, phone: &str, pin: &str) -> reqwest::Response {
    app.post("/api/v1/auth/pin-login", None, &json!({"phone": phone, "pin": pin})).await
}

fn codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["field"].as_str().expect("field").to_owned(), e["code"].as_str().expect("code").to_owned()))
        .collect()
}

on_both_backends! {
    a_refused_order_leaves_its_key_free_and_lists_every_problem(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let rice = app.listing(&farmer.token, "Gạo ST25", "35k", "10 kg").await;
        let phone = fresh_phone();
        let key = random_suffix();
        let mut wrong = guest_order(&rice["id"], 1, &phone);
        wrong["buyer"]["phone"] = json!("12345");
        wrong["address"] = json!({"ward_code": 1, "street": "  "});
        wrong["payment_method"] = json!("card");
        let problem = assert_problem(app.place_order(None, &key, &wrong).await, 422, "validation_failed").await;
        let fields: Vec<String> = codes(&problem).into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["buyer.phone", "address.ward_code", "address.street", "payment_method"], "all at once");

        // Refused for stock (after the key was claimed): the key stays free as well.
        let too_many = guest_order(&rice["id"], 11, &phone);
        assert_problem(app.place_order(None, &key, &too_many).await, 409, "insufficient_stock").await;
        let right = guest_order(&rice["id"], 2, &phone);
        let placed = TestApp::expect_json(app.place_order(None, &key, &right).await, 201).await;

        // A retry gets the same order, in its own language and with its own request id.
        let english = app.request("POST", "/api/v1/orders", None).header("Idempotency-Key", &key)
            .header("Accept-Language", "en").json(&right).send().await.expect("sent");
        let first_id = english.headers()["x-request-id"].to_str().expect("id").to_owned();
        let replayed = TestApp::expect_json(english, 201).await;
        assert_eq!(replayed["code"], placed["code"]);
        let again = app.place_order(None, &key, &right).await;
        assert_ne!(again.headers()["x-request-id"].to_str().expect("id"), first_id);
        assert_eq!(TestApp::expect_json(again, 201).await["code"], placed["code"], "one order, however often sent");
        assert_eq!(app.get_json(&format!("/api/v1/listings/{}", rice["id"])).await["quantity"], 8);

        let long_key = "k".repeat(201);
        assert_problem(app.place_order(None, &long_key, &right).await, 400, "idempotency_key_too_long").await;
    }

    reasons_the_system_gives_are_rendered_in_the_readers_language(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let honey = app.listing(&farmer.token, "Mật ong hoa cà phê", "250k", "30 chai").await;
        let phone = fresh_phone();
        let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &guest_order(&honey["id"], 1, &phone)).await, 201).await;
        let later = app.clock.now() + chrono::Duration::hours(25);
        app.db.write(move |conn| nongsan::orders::rules::expire_due(conn, later, 24)).await.expect("expiry");
        let path = format!("/api/v1/orders/{}?phone={}", placed["code"].as_str().expect("code"), phone_param(&phone));
        let vi = TestApp::expect_json(app.request("GET", &path, None).header("Accept-Language", "vi").send().await.expect("sent"), 200).await;
        let en = TestApp::expect_json(app.request("GET", &path, None).header("Accept-Language", "en").send().await.expect("sent"), 200).await;
        assert_eq!(vi["shipments"][0]["reason_code"], "expired");
        assert_eq!(vi["shipments"][0]["reject_reason"], "người bán chưa xác nhận đúng hạn");
        assert_eq!(en["shipments"][0]["reject_reason"], "the seller did not answer in time");
        assert_eq!(en["status"], "cancelled");
    }

    no_parser_text_reaches_a_person(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let rice = app.listing(&farmer.token, "Gạo ST25", "35k", "10 kg").await;
        let mut body = guest_order(&rice["id"], 1, &fresh_phone());
        body["items"][0]["quantity"] = json!("many");
        let english = app.request("POST", "/api/v1/orders", None).header("Idempotency-Key", random_suffix())
            .header("Accept-Language", "en").json(&body).send().await.expect("sent");
        let problem = assert_problem(english, 422, "validation_failed").await;
        let message = problem["errors"][0]["message"].as_str().expect("message");
        assert_eq!(message, "`items[0].quantity` must be a whole number.");
        let repeated = app.get("/api/v1/listings?limit=5&limit=6").await;
        let problem = assert_problem(repeated, 422, "validation_failed").await;
        assert_eq!(codes(&problem), [("limit".to_owned(), "repeated".to_owned())]);
        let not_a_number = app.request("GET", "/api/v1/listings?limit=abc", None).header("Accept-Language", "en").send().await.expect("sent");
        let problem = assert_problem(not_a_number, 422, "validation_failed").await;
        let text = problem.to_string();
        for parser_text in ["invalid digit", "invalid type", "expected", "untagged", "variant"] {
            assert!(!text.contains(parser_text), "{text}");
        }
        let malformed = app.request("POST", "/api/v1/quotes", None).header("Accept-Language", "en")
            .header("Content-Type", "application/json").body("{\"items\": [").send().await.expect("sent");
        let problem = assert_problem(malformed, 400, "malformed_json").await;
        assert!(!problem["detail"].as_str().expect("detail").contains("EOF"), "{problem}");
    }

    typed_text_refuses_control_characters(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let rice = app.listing(&farmer.token, "Gạo ST25", "35k", "10 kg").await;
        let mut body = guest_order(&rice["id"], 1, &fresh_phone());
        body["address"]["street"] = json!("12 Trần\u{0} Phú");
        body["note"] = json!("gọi trước\u{1b}[31m");
        let problem = assert_problem(app.place_order(None, &random_suffix(), &body).await, 422, "validation_failed").await;
        assert_eq!(codes(&problem), [
            ("address.street".to_owned(), "control_character".to_owned()),
            ("note".to_owned(), "control_character".to_owned()),
        ]);
        body["address"]["street"] = json!("12 Trần Phú");
        body["note"] = json!("Gọi trước khi giao.\nCổng xanh.");
        let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
        let reject = app.reject_shipment(&farmer, &placed["shipments"][0]["id"], "hết\u{0}hàng").await;
        assert_eq!(codes(&assert_problem(reject, 422, "validation_failed").await), [("reason".to_owned(), "control_character".to_owned())]);
    }

    partner_reports_dated_before_the_job_or_in_the_future_are_refused(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        app.open_jobs(1).await;
        let job = app.claim(&key, 1, 600).await.remove(0);
        let (id, lease) = (job["id"].as_i64().expect("id"), job["lease"]["lease_id"].clone());
        let at = |offset: chrono::Duration| json!({"lease_id": lease, "occurred_at": chrono::Utc::now() + offset});
        let early = app.report(&key, id, "picked_up", at(-chrono::Duration::days(2))).await;
        assert_eq!(assert_problem(early, 422, "validation_failed").await["errors"][0]["code"], "occurred_before_job");
        let future = app.report(&key, id, "picked_up", at(chrono::Duration::hours(1))).await;
        assert_eq!(assert_problem(future, 422, "validation_failed").await["errors"][0]["code"], "occurred_in_future");
        assert_eq!(app.report(&key, id, "picked_up", at(chrono::Duration::zero())).await.status(), 200);
    }

    amounts_read_the_way_people_write_them(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let auto = app.request("PATCH", "/api/v1/me", Some(&farmer.token)).json(&json!({"auto_accept": true}));
        assert_eq!(auto.send().await.expect("sent").status(), 200);
        let eggs = app.listing(&farmer.token, "Trứng gà ta", "4k", "300 quả").await;
        let email = format!("mai-{}@example.vn", random_suffix());
        let mut body = guest_order(&eggs["id"], 10, &fresh_phone());
        body["buyer"]["email"] = json!(email);
        let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
        let total = nongsan::domain::money::format_vnd(placed["total_vnd"].as_i64().expect("total"));
        let mails = app.emails_to(&email).await;
        assert!(mails.iter().any(|m| m.body.contains(&format!("tổng {total}"))), "{total} in {mails:?}");
        let job = app.claim(&key, 1, 600).await.remove(0);
        assert_eq!(job["details"]["items"], "Trứng gà ta × 10 quả");
    }

    a_helpers_pin_reset_lifts_the_login_lockout(app) {
        let operator = app.operator_token().await;
        let (team_id, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        app.consent(&farmer.token, team_id).await;
        for _ in 0..5 {
            assert_eq!(pin_login(&app, &farmer.phone, "000917").await.status(), 401);
        }
        assert_problem(pin_login(&app, &farmer.phone, "482915").await, 429, "too_many_attempts").await;
        let reset = format!("/api/v1/helper/farmers/{}/pin-reset", farmer.id);
        let body = json!({"new_pin": "639251", "identity_checked": true});
        assert_eq!(app.post(&reset, Some(&helper), &body).await.status(), 204);
        let let_in = pin_login(&app, &farmer.phone, "639251").await;
        assert_eq!(let_in.status(), 200, "checked in person: the farmer is let in with the new PIN");
    }

    the_contract_says_what_the_service_answers(app) {
        let document = app.get_json("/openapi.json").await;
        let binary = |path: &str, media: &str| {
            let schema = &document["paths"][path]["get"]["responses"]["200"]["content"][media]["schema"];
            let name = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/"));
            name.map_or_else(|| schema.clone(), |name| document["components"]["schemas"][name].clone())
        };
        assert_eq!(binary("/api/v1/orders/{code}/qr.png", "image/png"), json!({"type": "string", "format": "binary"}));
        assert_eq!(binary("/media/{shard}/{name}", "image/jpeg"), json!({"type": "string", "format": "binary"}));
        for (path, method) in [("/api/v1/orders", "post"), ("/api/v1/orders/{code}", "get"), ("/api/v1/orders/{code}/cancel", "post"), ("/api/v1/orders/{code}/qr.png", "get")] {
            let security = &document["paths"][path][method]["security"];
            assert_eq!(security, &json!([{}, {"bearer": []}]), "{method} {path}: the token is optional");
        }
    }
}
