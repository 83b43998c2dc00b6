//! People own their data (issue 16 item 5): a person's export holds every kind of record they have; erasure
//! leaves nothing of their name, phone, email or street in any text column of any table while the books still
//! add up, and waits for open orders; guest buyers do the same with a one-time code sent by SMS.

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use serde_json::{Value, json};

use crate::gateway::Gateway;
use crate::helpers::{
    Farmer, TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, assert_problem, e164, fresh_phone, random_suffix,
};
use crate::on_both_backends;
use nongsan::db::schema::{listings, orders};
use nongsan::media::sample;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Cell {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Every value of every text-like column of every table, as text, with where it was: "table.column: value".
async fn every_stored_text(app: &TestApp) -> Vec<String> {
    let postgres = app.is_postgres();
    app.db
        .read(move |conn| {
            let columns_sql = if postgres {
                "SELECT table_name::text || '.' || column_name::text AS name FROM information_schema.columns \
                 WHERE table_schema = 'public'"
            } else {
                "SELECT m.name || '.' || p.name AS name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
            };
            let columns: Vec<Name> = nongsan::with_conn!(conn, |c| diesel::sql_query(columns_sql).load(c))?;
            let mut found = Vec::new();
            for column in columns {
                let (table, name) = column.name.split_once('.').expect("table.column");
                let sql = format!("SELECT CAST(\"{name}\" AS TEXT) AS value FROM \"{table}\"");
                let cells: Vec<Cell> = nongsan::with_conn!(conn, |c| diesel::sql_query(&sql).load(c))?;
                found.extend(
                    cells.into_iter().filter_map(|cell| cell.value).map(|value| format!("{}: {value}", column.name)),
                );
            }
            Ok(found)
        })
        .await
        .expect("the database reads")
}

/// Fails naming each stored value that still holds one of `originals`.
async fn assert_nowhere(app: &TestApp, originals: &[&str]) {
    let stored = every_stored_text(app).await;
    assert!(stored.iter().any(|value| value.starts_with("orders.code")), "the scan reads the tables");
    let left: Vec<&String> =
        stored.iter().filter(|value| originals.iter().any(|original| value.contains(original))).collect();
    assert!(left.is_empty(), "personal data left after erasure: {left:#?}");
}

/// A phone as the tables keep it (E.164) and its nine digits without the country code.
fn phone_forms(phone: &str) -> [String; 2] {
    let e164 = e164(phone);
    let digits = e164["+84".len()..].to_owned();
    [e164, digits]
}

/// A farmer in Buôn Ma Thuột with a name no other test uses, enrolled by `helper` with consent, logged in.
async fn enrolled_farmer(app: &TestApp, helper: &str) -> (Farmer, String) {
    let (phone, name) = (fresh_phone(), format!("Phạm Thị Hồng {}", random_suffix()));
    let body = json!({"phone": phone, "name": name, "ward_code": WARD_BUON_MA_THUOT, "pin": "482915", "consent": true});
    let enrolled = TestApp::expect_json(app.post("/api/v1/helper/farmers", Some(helper), &body).await, 201).await;
    let login = app.post("/api/v1/auth/pin-login", None, &json!({"phone": phone, "pin": "482915"})).await;
    let token = TestApp::expect_json(login, 200).await["token"].as_str().expect("token").to_owned();
    let id = enrolled["farmer"]["id"].as_i64().expect("id");
    (Farmer { id, token, phone, pin: "482915".into() }, name)
}

/// A farmer who signed up alone, with a name no other test uses.
async fn farmer_named(app: &TestApp) -> (Farmer, String) {
    let (phone, name) = (fresh_phone(), format!("Đỗ Văn Bình {}", random_suffix()));
    let body = json!({"phone": phone, "name": name, "ward_code": WARD_BUON_MA_THUOT, "pin": "482915"});
    let created = TestApp::expect_json(app.post("/api/v1/farmers", None, &body).await, 201).await;
    let farmer = Farmer {
        id: created["farmer"]["id"].as_i64().expect("id"),
        token: created["token"].as_str().expect("token").to_owned(),
        phone,
        pin: "482915".into(),
    };
    (farmer, name)
}

/// A buyer account and the details they order with.
struct Buyer {
    token: String,
    name: String,
    email: String,
    phone: String,
    street: String,
}

async fn buyer(app: &TestApp) -> Buyer {
    let suffix = random_suffix();
    let (name, email, phone) = (format!("Lê Thu Mai {suffix}"), format!("mai-{suffix}@example.vn"), fresh_phone());
    let body = json!({"name": name, "email": email, "phone": phone, "password": "buyer-password"});
    let created = TestApp::expect_json(app.post("/api/v1/buyers", None, &body).await, 201).await;
    let token = created["token"].as_str().expect("token").to_owned();
    Buyer { token, name, email, phone, street: format!("25 Hẻm Hoa Sữa {suffix}") }
}

/// An order of one unit of `listing`, with the buyer's details (from their account when `token` is given).
async fn order(app: &TestApp, token: Option<&str>, listing: &Value, who: (&str, &str, &str, &str)) -> Value {
    let (name, phone, email, street) = who;
    let body = json!({
        "items": [{"listing_id": listing["id"], "quantity": 1}],
        "buyer": {"name": name, "phone": phone, "email": email},
        "address": {"ward_code": WARD_DA_LAT, "street": street},
        "note": format!("Gọi {name} trước khi giao"),
    });
    TestApp::expect_json(app.place_order(token, &random_suffix(), &body).await, 201).await
}

/// The app with texts going to a stand-in SMS gateway.
async fn with_sms_gateway(app: TestApp) -> (TestApp, Gateway) {
    let sms = Gateway::start().await;
    let url = sms.url.clone();
    (app.with_phones(|settings| settings.sms_url = Some(url)), sms)
}

/// The one-time code in the last text the gateway got for `phone` (as typed).
fn texted_code(sms: &Gateway, phone: &str) -> String {
    let text = sms.texts_to(&e164(phone)).pop().expect("a text");
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).collect();
    words.into_iter().find(|word| word.len() == 6).expect("a 6-digit code").to_owned()
}

fn code_of(order: &Value) -> String {
    order["code"].as_str().expect("order code").to_owned()
}

async fn erase(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.request("DELETE", "/api/v1/me", Some(token)).json(body).send().await.expect("sent")
}

fn kinds(list: &Value, field: &str) -> Vec<String> {
    list.as_array().expect("a list").iter().map(|item| item[field].as_str().unwrap_or_default().to_owned()).collect()
}

on_both_backends! {
    the_export_holds_every_kind_of_record_a_farmer_and_a_buyer_have(app) {
        let operator = app.operator_token().await;
        let (_, helper_id, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let (farmer, farmer_name) = enrolled_farmer(&app, &helper).await;
        let looked = app.request("GET", "/api/v1/me", Some(&helper)).header("X-On-Behalf-Of", farmer.id.to_string());
        assert_eq!(looked.send().await.expect("sent").status(), 200);
        let photo = TestApp::expect_json(app.upload(&farmer.token, &sample::demo_photo(64, 48, 1), "p.jpg").await, 201).await;
        let body = json!({"title": "Sầu riêng Ri6", "price": "80k/kg", "quantity": "20 kg", "photo_ids": [photo["id"]]});
        let listing = TestApp::expect_json(app.post("/api/v1/listings", Some(&farmer.token), &body).await, 201).await;
        let buyer = buyer(&app).await;
        let placed = order(&app, Some(&buyer.token), &listing, (&buyer.name, &buyer.phone, &buyer.email, &buyer.street)).await;
        app.accept_first_shipment(&farmer, &placed).await;
        app.run_outbox().await.expect("outbox runs");

        let answer = app.request("GET", "/api/v1/me/export", Some(&farmer.token)).send().await.expect("sent");
        assert_eq!(answer.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        let export = TestApp::expect_json(answer, 200).await;
        assert_eq!(export["profile"]["name"], farmer_name.as_str());
        assert_eq!(export["profile"]["phone"], e164(&farmer.phone));
        assert_eq!(export["consents"][0]["helper"]["id"], helper_id, "{}", export["consents"]);
        assert_eq!(export["listings"][0]["id"], listing["id"]);
        assert_eq!(export["listings"][0]["photo"]["url"], photo["url"]);
        assert_eq!(export["photos"][0]["url"], photo["url"]);
        assert_eq!(export["shipments"][0]["order_code"], placed["code"]);
        assert_eq!(export["shipments"][0]["shipment"]["status"], "accepted");
        let actions = kinds(&export["audit"], "action");
        assert!(actions.contains(&"enroll".to_owned()) && actions.contains(&"view_profile".to_owned()), "{actions:?}");
        assert!(kinds(&export["notifications"], "kind").contains(&"new_order".to_owned()), "{}", export["notifications"]);
        assert!(kinds(&export["messages"], "kind").contains(&"new_order".to_owned()), "{}", export["messages"]);
        assert!(export["messages"].as_array().expect("messages").iter().all(|m| m["to"] == e164(&farmer.phone)));
        let sessions = export["sessions"].as_array().expect("sessions");
        assert!(!sessions.is_empty());
        assert!(sessions.iter().all(|s| s.get("token").is_none() && s.get("token_hash").is_none()), "{sessions:?}");
        assert_eq!(export["orders"], json!([]));

        let export = TestApp::expect_json(app.request("GET", "/api/v1/me/export", Some(&buyer.token)).send().await.expect("sent"), 200).await;
        assert_eq!(export["profile"]["email"], buyer.email.as_str());
        assert_eq!(export["orders"][0]["order"]["code"], placed["code"]);
        assert_eq!(export["orders"][0]["order"]["total_vnd"], placed["total_vnd"]);
        let contact = &export["orders"][0]["contact"];
        assert_eq!((&contact["buyer_phone"], &contact["buyer_email"], &contact["street"]), (&json!(e164(&buyer.phone)), &json!(buyer.email), &json!(buyer.street)));
        assert!(contact["note"].as_str().is_some_and(|note| note.contains(&buyer.name)));
        assert!(kinds(&export["notifications"], "kind").contains(&"order_placed".to_owned()), "{}", export["notifications"]);
        let told = kinds(&export["messages"], "kind");
        assert!(told.contains(&"welcome_buyer".to_owned()) && told.contains(&"shipment_accepted".to_owned()), "{told:?}");
        assert_eq!((export["listings"].clone(), export["shipments"].clone(), export["audit"].clone()), (json!([]), json!([]), json!([])));
    }

    erasure_waits_for_open_orders_then_leaves_nothing_of_the_person_while_the_books_add_up(app) {
        let (farmer, farmer_name) = farmer_named(&app).await;
        let listing = app.listing(&farmer.token, "Bơ sáp Đắk Lắk", "60k/kg", "30 kg").await;
        let buyer = buyer(&app).await;
        let placed = order(&app, Some(&buyer.token), &listing, (&buyer.name, &buyer.phone, &buyer.email, &buyer.street)).await;
        let code = code_of(&placed);
        app.run_outbox().await.expect("outbox runs");

        for (token, body) in [(&farmer.token, json!({"pin": farmer.pin})), (&buyer.token, json!({"password": "buyer-password"}))] {
            let problem = assert_problem(erase(&app, token, &body).await, 409, "orders_open").await;
            assert!(problem["detail"].as_str().is_some_and(|d| d.contains(&code)), "{problem}");
            assert_eq!(problem["errors"][0]["field"], format!("order:{code}"), "{problem}");
        }
        assert_problem(erase(&app, &farmer.token, &json!({"password": "buyer-password"})).await, 422, "validation_failed").await;
        assert_problem(erase(&app, &buyer.token, &json!({"password": "not-the-password"})).await, 401, "invalid_credentials").await;
        let cancel = app.request("POST", &format!("/api/v1/orders/{code}/cancel"), Some(&buyer.token)).send().await.expect("sent");
        assert_eq!(cancel.status(), 200);

        assert_eq!(erase(&app, &buyer.token, &json!({"password": "buyer-password"})).await.status(), 204);
        assert_eq!(erase(&app, &farmer.token, &json!({"pin": farmer.pin})).await.status(), 204);

        let [farmer_e164, farmer_digits] = phone_forms(&farmer.phone);
        let [buyer_e164, buyer_digits] = phone_forms(&buyer.phone);
        assert_nowhere(&app, &[&farmer_name, &farmer_e164, &farmer_digits, &buyer.name, &buyer.email, &buyer_e164, &buyer_digits, &buyer.street]).await;

        let code2 = code.clone();
        let (items, shipping, total, street): (i64, i64, i64, String) = app.db.read(move |conn| Ok(nongsan::with_conn!(conn, |c| orders::table
            .filter(orders::code.eq(&code2))
            .select((orders::items_total_vnd, orders::shipping_total_vnd, orders::total_vnd, orders::street))
            .first(c))?)).await.expect("the order is kept");
        assert_eq!((items, shipping, total), (placed["items_total_vnd"].as_i64().expect("items"), placed["shipping_total_vnd"].as_i64().expect("fees"), placed["total_vnd"].as_i64().expect("total")));
        assert_eq!(items + shipping, total, "the books still add up");
        assert_eq!(street, "(đã xoá)");
        let listing_id = listing["id"].as_i64().expect("listing id");
        let status: String = app.db.read(move |conn| Ok(nongsan::with_conn!(conn, |c| listings::table.find(listing_id).select(listings::status).first(c))?)).await.expect("listing");
        assert_eq!(status, "archived", "the listing left the catalogue");

        let pin_login = app.post("/api/v1/auth/pin-login", None, &json!({"phone": farmer.phone, "pin": farmer.pin})).await;
        assert_problem(pin_login, 401, "invalid_credentials").await;
        let login = app.post("/api/v1/auth/login", None, &json!({"login": buyer.email, "password": "buyer-password"})).await;
        assert_problem(login, 401, "invalid_credentials").await;
        assert_eq!(app.request("GET", "/api/v1/me", Some(&farmer.token)).send().await.expect("sent").status(), 401);

        // The phone is free: signing up with it opens a fresh account, not the erased one.
        let again = json!({"phone": farmer.phone, "name": "Người mới", "ward_code": WARD_BUON_MA_THUOT, "pin": "582047"});
        let fresh = TestApp::expect_json(app.post("/api/v1/farmers", None, &again).await, 201).await;
        assert_ne!(fresh["farmer"]["id"], farmer.id);
        let fresh_export = TestApp::expect_json(app.request("GET", "/api/v1/me/export", fresh["token"].as_str()).send().await.expect("sent"), 200).await;
        assert_eq!(fresh_export["shipments"], json!([]), "nothing of the erased account comes back");
    }

    a_wrong_pin_when_erasing_counts_against_the_login_lockout(app) {
        let (farmer, _) = farmer_named(&app).await;
        for _ in 0..5 {
            assert_problem(erase(&app, &farmer.token, &json!({"pin": "000001"})).await, 401, "invalid_credentials").await;
        }
        assert_problem(erase(&app, &farmer.token, &json!({"pin": farmer.pin})).await, 429, "too_many_attempts").await;
        let login = app.post("/api/v1/auth/pin-login", None, &json!({"phone": farmer.phone, "pin": farmer.pin})).await;
        assert_problem(login, 429, "too_many_attempts").await;
        assert_eq!(app.request("GET", "/api/v1/me", Some(&farmer.token)).send().await.expect("sent").status(), 200, "not erased");
    }

    a_guest_exports_and_erases_their_orders_with_a_code_sent_by_sms(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let (farmer, _) = farmer_named(&app).await;
        let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
        let suffix = random_suffix();
        let (name, email, phone, street) = (format!("Trần Khách {suffix}"), format!("khach-{suffix}@example.vn"), fresh_phone(), format!("7 Ngõ Trúc {suffix}"));
        let first = order(&app, None, &listing, (&name, &phone, &email, &street)).await;
        let second = order(&app, None, &listing, (&name, &phone, &email, &street)).await;
        let code = code_of(&first);
        let ask = |phone: String| { let app = &app; let code = code.clone(); async move { app.post(&format!("/api/v1/orders/{code}/privacy-code"), None, &json!({"phone": phone})).await } };
        let proof = |otp: &str| json!({"phone": phone, "code": otp});

        assert_problem(ask(fresh_phone()).await, 404, "not_found").await;
        TestApp::expect_json(ask(phone.clone()).await, 202).await;
        app.run_outbox().await.expect("outbox runs");
        let otp = texted_code(&sms, &phone);
        let wrong = if otp == "000000" { "000001" } else { "000000" };
        assert_problem(app.post(&format!("/api/v1/orders/{code}/export"), None, &proof(wrong)).await, 403, "privacy_code_invalid").await;
        let answer = app.post(&format!("/api/v1/orders/{code}/export"), None, &proof(&otp)).await;
        assert_eq!(answer.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        let export = TestApp::expect_json(answer, 200).await;
        let codes: Vec<&Value> = export["orders"].as_array().expect("orders").iter().map(|o| &o["order"]["code"]).collect();
        assert_eq!(codes, [&first["code"], &second["code"]], "every guest order with the phone");
        assert_eq!(export["orders"][0]["contact"]["street"], street.as_str());
        assert!(kinds(&export["messages"], "kind").contains(&"order_placed".to_owned()), "{}", export["messages"]);
        assert_problem(app.post(&format!("/api/v1/orders/{code}/export"), None, &proof(&otp)).await, 403, "privacy_code_invalid").await;

        // Five wrong tries void a code, even for the right one after them.
        TestApp::expect_json(ask(phone.clone()).await, 202).await;
        app.run_outbox().await.expect("outbox runs");
        let otp = texted_code(&sms, &phone);
        let wrong = if otp == "000000" { "000001" } else { "000000" };
        for _ in 0..5 {
            assert_problem(app.post(&format!("/api/v1/orders/{code}/erase"), None, &proof(wrong)).await, 403, "privacy_code_invalid").await;
        }
        assert_problem(app.post(&format!("/api/v1/orders/{code}/erase"), None, &proof(&otp)).await, 403, "privacy_code_invalid").await;

        // Open orders first; the code survives the refusal.
        TestApp::expect_json(ask(phone.clone()).await, 202).await;
        app.run_outbox().await.expect("outbox runs");
        let otp = texted_code(&sms, &phone);
        let problem = assert_problem(app.post(&format!("/api/v1/orders/{code}/erase"), None, &proof(&otp)).await, 409, "orders_open").await;
        assert_eq!(problem["errors"].as_array().expect("errors").len(), 2, "{problem}");
        for placed in [&first, &second] {
            let cancel = app.request("POST", &format!("/api/v1/orders/{}/cancel?phone={}", code_of(placed), crate::helpers::phone_param(&phone)), None);
            assert_eq!(cancel.send().await.expect("sent").status(), 200);
        }
        assert_problem(ask(phone.clone()).await, 429, "too_many_codes").await;
        assert_eq!(app.post(&format!("/api/v1/orders/{code}/erase"), None, &proof(&otp)).await.status(), 204);

        let [phone_e164, digits] = phone_forms(&phone);
        assert_nowhere(&app, &[&name, &email, &phone_e164, &digits, &street]).await;
        assert_problem(ask(phone.clone()).await, 404, "not_found").await;
    }

    a_guest_code_expires(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let (farmer, _) = farmer_named(&app).await;
        let listing = app.listing(&farmer.token, "Tiêu đen", "150k", "10 kg").await;
        let phone = fresh_phone();
        let placed = order(&app, None, &listing, ("Khách", &phone, "khach@example.vn", "1 Lê Lợi")).await;
        let code = code_of(&placed);
        let asked = app.post(&format!("/api/v1/orders/{code}/privacy-code"), None, &json!({"phone": phone})).await;
        TestApp::expect_json(asked, 202).await;
        app.run_outbox().await.expect("outbox runs");
        let otp = texted_code(&sms, &phone);
        app.clock.advance(chrono::Duration::minutes(16));
        let late = app.post(&format!("/api/v1/orders/{code}/export"), None, &json!({"phone": phone, "code": otp})).await;
        assert_problem(late, 403, "privacy_code_invalid").await;
    }
}
