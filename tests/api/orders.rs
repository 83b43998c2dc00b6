//! Ordering: no overselling under a race, idempotent retries, one shipment per farmer, VietQR, emails.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, assert_problem, e164, fresh_phone, guest_order, random_suffix,
};
use crate::on_both_backends;
use nongsan::orders::vietqr;

async fn order(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.place_order(None, key, body).await
}

async fn stock(app: &TestApp, listing_id: &Value) -> i64 {
    app.get_json(&format!("/api/v1/listings/{listing_id}")).await["quantity"].as_i64().expect("quantity")
}

/// 500 buyers at once for a listing with 100 units: exactly 100 sold, 400 told 409, stock 0.
async fn race(app: TestApp) {
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    let listing = app.listing(&farmer.token, "Sầu riêng Ri6", "80k", "100 kg").await;
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let (app, id) = (app.clone(), listing["id"].clone());
        tasks.push(tokio::spawn(async move {
            order(&app, &random_suffix(), &guest_order(&id, 1, &fresh_phone())).await.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    let sold = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!(
        (sold, refused),
        (100, 400),
        "other answers: {:?}",
        statuses.iter().filter(|s| ![201, 409].contains(*s)).collect::<Vec<_>>()
    );
    assert_eq!(stock(&app, &listing["id"]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_buyers_for_a_hundred_units_on_sqlite() {
    race(TestApp::sqlite_with(|s| s.db_timeout_ms = 60_000).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_buyers_for_a_hundred_units_on_postgres() {
    let Some(app) = TestApp::postgres_with(|s| s.db_timeout_ms = 60_000).await else { return };
    race(app).await;
}

on_both_backends! {
    the_same_order_sent_three_times_is_one_order(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
        let body = guest_order(&listing["id"], 2, &fresh_phone());
        let key = random_suffix();
        let mut codes = Vec::new();
        for _ in 0..3 {
            let placed = TestApp::expect_json(order(&app, &key, &body).await, 201).await;
            codes.push(placed["code"].as_str().expect("code").to_owned());
        }
        assert!(codes.iter().all(|c| *c == codes[0]), "{codes:?}");
        assert_eq!(stock(&app, &listing["id"]).await, 48, "stock taken once");
        let mut changed = body.clone();
        changed["items"][0]["quantity"] = json!(3);
        assert_problem(order(&app, &key, &changed).await, 422, "idempotency_key_reused").await;
        let no_key = app.post("/api/v1/orders", None, &body).await;
        assert_problem(no_key, 400, "idempotency_key_required").await;
    }

    a_copy_sent_while_the_first_runs_waits_for_it_and_gets_its_order_and_an_abandoned_claim_is_taken_over(app) {
        use nongsan::idempotency::{Answer, Keyed, claim};
        use sha2::Digest;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Gạo ST25", "35k", "500 kg").await;
        let phone = fresh_phone();
        let body = guest_order(&listing["id"], 1, &phone);
        let hash = hex::encode(sha2::Sha256::digest(serde_json::to_vec(&body).expect("json")));
        let keyed = |key: &str| Keyed { scope: format!("guest:{}", e164(&phone)), key: key.to_owned(), hash: hash.clone() };
        let first = TestApp::expect_json(order(&app, &random_suffix(), &body).await, 201).await;
        // The transaction of a first request has claimed its key (answering that order) and is still running
        // when a copy comes: the copy waits for it, then answers the same order.
        let running = random_suffix();
        let answer = Answer { status: 201, body: first["code"].as_str().expect("code").to_owned() };
        let (claimed, now) = (keyed(&running), app.clock.now());
        let first_running = app.db.write(move |conn| {
            claim(conn, &claimed, Some(&answer), now)?;
            std::thread::sleep(std::time::Duration::from_millis(500));
            Ok(std::time::Instant::now())
        });
        let copy = async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let answered = order(&app, &running, &body).await;
            (answered, std::time::Instant::now())
        };
        let (committed, (copy, answered_at)) = tokio::join!(first_running, copy);
        assert!(answered_at >= committed.expect("first"), "the copy answered before the first committed");
        let copy = TestApp::expect_json(copy, 201).await;
        assert_eq!(copy["code"], first["code"]);
        // A key claimed in a transaction of its own (before orders claimed in theirs) and never answered is
        // taken over after 2 minutes.
        let abandoned = random_suffix();
        let (claimed, long_ago) = (keyed(&abandoned), now - chrono::Duration::minutes(10));
        app.db.write(move |conn| claim(conn, &claimed, None, long_ago).map(drop)).await.expect("claim");
        let taken_over = TestApp::expect_json(order(&app, &abandoned, &body).await, 201).await;
        assert_ne!(taken_over["code"], first["code"]);
        assert_eq!(stock(&app, &listing["id"]).await, 498);
    }

    a_guest_order_costs_a_few_statements(app) {
        let dak_lak = app.farmer(WARD_BUON_MA_THUOT).await;
        let lam_dong = app.farmer(WARD_DA_LAT).await;
        let rice = app.listing(&dak_lak.token, "Gạo ST25", "35k", "500 kg").await;
        let coffee = app.listing(&dak_lak.token, "Cà phê Robusta", "120k", "50 kg").await;
        let strawberries = app.listing(&lam_dong.token, "Dâu tây Đà Lạt", "150k", "20 kg").await;
        // Every statement the service sends for one order, BEGIN and COMMIT included.
        let spent = |body: Value| {
            let app = &app;
            async move {
                let before = app.db.statements();
                TestApp::expect_json(order(app, &random_suffix(), &body).await, 201).await;
                app.db.statements() - before
            }
        };
        let one_line = spent(guest_order(&rice["id"], 2, &fresh_phone())).await;
        let mut basket = guest_order(&rice["id"], 1, &fresh_phone());
        basket["items"] = json!([
            {"listing_id": rice["id"], "quantity": 1},
            {"listing_id": coffee["id"], "quantity": 1},
            {"listing_id": strawberries["id"], "quantity": 1},
        ]);
        let two_farmers = spent(basket).await;
        eprintln!("statements per order: {one_line} (one line), {two_farmers} (three lines of two farmers)");
        assert!(one_line <= 11, "one line: {one_line} statements");
        assert!(two_farmers <= 13, "three lines of two farmers: {two_farmers} statements");
    }

    a_two_farmer_basket_is_two_shipments_and_a_rejection_restores_that_farmers_stock(app) {
        let dak_lak = app.farmer(WARD_BUON_MA_THUOT).await;
        let lam_dong = app.farmer(WARD_DA_LAT).await;
        let coffee = app.listing(&dak_lak.token, "Cà phê Robusta", "120k", "50 kg").await;
        let strawberries = app.listing(&lam_dong.token, "Dâu tây Đà Lạt", "150k", "20 kg").await;
        let body = json!({
            "items": [{"listing_id": coffee["id"], "quantity": 5}, {"listing_id": strawberries["id"], "quantity": 2}],
            "buyer": {"name": "Lê Mai", "phone": fresh_phone(), "email": "mai@example.vn"},
            "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
        });
        let quote = TestApp::expect_json(app.post("/api/v1/quotes", None, &json!({"items": body["items"], "ward_code": WARD_DA_LAT})).await, 200).await;
        let placed = TestApp::expect_json(order(&app, &random_suffix(), &body).await, 201).await;
        assert_eq!(placed["total_vnd"], quote["total_vnd"]);
        let shipments = placed["shipments"].as_array().expect("shipments");
        assert_eq!(shipments.len(), 2);
        assert!(shipments.iter().all(|s| s["fee_vnd"].as_i64().is_some_and(|f| f > 0) && s["status"] == "pending"));
        let fees: Vec<i64> = shipments.iter().map(|s| s["fee_vnd"].as_i64().expect("fee")).collect();
        assert_eq!(placed["shipping_total_vnd"].as_i64(), Some(fees.iter().sum()));
        assert_eq!((stock(&app, &coffee["id"]).await, stock(&app, &strawberries["id"]).await), (45, 18));

        let dak_lak_shipment = shipments.iter().find(|s| s["farmer"]["id"].as_i64() == Some(dak_lak.id)).expect("shipment");
        let path = format!("/api/v1/shipments/{}/reject", dak_lak_shipment["id"]);
        let not_theirs = app.post(&path, Some(&lam_dong.token), &json!({"reason": "hết hàng"})).await;
        assert_problem(not_theirs, 404, "not_found").await;
        assert_eq!(app.post(&path, Some(&dak_lak.token), &json!({"reason": "Hàng bị mưa hỏng"})).await.status(), 204);
        assert_problem(app.post(&path, Some(&dak_lak.token), &json!({"reason": "lần hai"})).await, 409, "shipment_state").await;
        assert_eq!((stock(&app, &coffee["id"]).await, stock(&app, &strawberries["id"]).await), (50, 18));

        let other = shipments.iter().find(|s| s["farmer"]["id"].as_i64() == Some(lam_dong.id)).expect("shipment");
        let accept = app.request("POST", &format!("/api/v1/shipments/{}/accept", other["id"]), Some(&lam_dong.token)).send().await.expect("sent");
        assert_eq!(accept.status(), 204);
        let mine = TestApp::expect_json(app.request("GET", "/api/v1/me/shipments", Some(&lam_dong.token)).send().await.expect("sent"), 200).await;
        assert_eq!(mine["items"][0]["shipment"]["status"], "accepted");

        app.run_outbox().await.expect("outbox");
        let sent = app.mailer.sent();
        assert!(sent.iter().any(|m| m.to == "mai@example.vn" && m.subject.contains("không nhận")), "{sent:?}");
        assert!(sent.iter().any(|m| m.to == "mai@example.vn" && m.subject.contains("Đã nhận đơn hàng")));
        app.run_outbox().await.expect("outbox");
        assert_eq!(app.mailer.sent().len(), sent.len(), "each email is sent once");
    }

    orders_are_visible_to_their_buyer_or_phone_only_and_cancel_restores_stock(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Mật ong hoa cà phê", "250k", "30 chai").await;
        let phone = fresh_phone();
        let placed = TestApp::expect_json(order(&app, &random_suffix(), &guest_order(&listing["id"], 3, &phone)).await, 201).await;
        let code = placed["code"].as_str().expect("code");
        assert_problem(app.get(&format!("/api/v1/orders/{code}")).await, 404, "not_found").await;
        assert_problem(app.get(&format!("/api/v1/orders/{code}?phone=0987654321")).await, 404, "not_found").await;
        let e164 = format!("%2B84{}", &phone.replace(' ', "")[1..]);
        let seen = app.get_json(&format!("/api/v1/orders/{}?phone={e164}", code.to_lowercase())).await;
        assert_eq!(seen["code"], code);
        assert_problem(app.request("GET", &format!("/api/v1/orders/{code}"), Some(&farmer.token)).send().await.expect("sent"), 404, "not_found").await;
        let cancelled = TestApp::expect_json(app.post(&format!("/api/v1/orders/{code}/cancel?phone={e164}"), None, &json!({})).await, 200).await;
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(stock(&app, &listing["id"]).await, 30);
        assert_problem(app.post(&format!("/api/v1/orders/{code}/cancel?phone={e164}"), None, &json!({})).await, 409, "order_not_cancellable").await;
        assert_eq!(stock(&app, &listing["id"]).await, 30, "stock restored exactly once");
    }

    unanswered_shipments_and_unpaid_transfers_expire_and_give_their_stock_back(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Bưởi da xanh", "40k", "100 kg").await;
        TestApp::expect_json(order(&app, &random_suffix(), &guest_order(&listing["id"], 10, &fresh_phone())).await, 201).await;
        let mut transfer = guest_order(&listing["id"], 5, &fresh_phone());
        transfer["payment_method"] = json!("bank_transfer");
        let paid = TestApp::expect_json(order(&app, &random_suffix(), &transfer).await, 201).await;
        let unpaid = TestApp::expect_json(order(&app, &random_suffix(), &transfer).await, 201).await;
        assert_eq!(stock(&app, &listing["id"]).await, 80);

        let operator = app.operator_token().await;
        let marked = app.request("POST", &format!("/api/v1/admin/orders/{}/payment", paid["code"].as_str().expect("code")), Some(&operator));
        assert_eq!(TestApp::expect_json(marked.send().await.expect("sent"), 200).await["payment"]["status"], "paid");
        // The paid order's farmer answers; the other two shipments are left unanswered.
        let accept = app.request("POST", &format!("/api/v1/shipments/{}/accept", paid["shipments"][0]["id"]), Some(&farmer.token));
        assert_eq!(accept.send().await.expect("sent").status(), 204);

        let later = chrono::Utc::now().naive_utc() + chrono::Duration::hours(25);
        let expired = app.db.write(move |conn| nongsan::orders::rules::expire_due(conn, later, 24)).await.expect("expiry");
        assert_eq!((expired.shipments, expired.orders), (2, 1), "two unanswered shipments, one unpaid order");
        let again = app.db.write(move |conn| nongsan::orders::rules::expire_due(conn, later, 24)).await.expect("expiry");
        assert_eq!((again.shipments, again.orders), (0, 0), "nothing expires twice");
        assert_eq!(stock(&app, &listing["id"]).await, 95, "only the paid, accepted shipment keeps its stock");
        let code = unpaid["code"].as_str().expect("code");
        let buyer = app.db.read({
            let code = code.to_owned();
            move |conn| nongsan::orders::store::order_by_code(conn, &code)
        });
        let row = buyer.await.expect("order").expect("exists");
        assert_eq!((row.status.as_str(), row.payment_status.as_str()), ("cancelled", "void"));
    }

    an_expired_order_puts_its_listing_back_in_the_catalogue_at_once(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Bưởi Năm Roi", "40k", "10 kg").await;
        let shown = || async {
            let page = app.get_json("/api/v1/listings?q=nam%20roi").await;
            page["items"].as_array().expect("items").iter().any(|item| item["id"] == listing["id"])
        };
        assert!(shown().await);
        TestApp::expect_json(order(&app, &random_suffix(), &guest_order(&listing["id"], 10, &fresh_phone())).await, 201).await;
        assert!(!shown().await, "sold out: gone from the catalogue (and that page is now cached)");
        let later = chrono::Utc::now().naive_utc() + chrono::Duration::hours(25);
        let expired = nongsan::orders::answering::expire_due(&app.db, &app.cache, later, 24).await.expect("expiry");
        assert_eq!(expired.shipments, 1);
        assert!(shown().await, "the stock came back: shown at once, not when the cached page lapses");
    }

    a_farmer_with_auto_accept_gets_accepted_shipments(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let me = app.request("PATCH", "/api/v1/me", Some(&farmer.token)).json(&json!({"auto_accept": true})).send().await.expect("sent");
        assert_eq!(TestApp::expect_json(me, 200).await["auto_accept"], true);
        let listing = app.listing(&farmer.token, "Trứng gà ta", "4k", "300 quả").await;
        let placed = TestApp::expect_json(order(&app, &random_suffix(), &guest_order(&listing["id"], 10, &fresh_phone())).await, 201).await;
        assert_eq!(placed["shipments"][0]["status"], "accepted");
        let buyer = TestApp::expect_json(app.post("/api/v1/buyers", None, &json!({"name": "Mai", "email": format!("m-{}@example.vn", random_suffix()), "password": "buyer-password"})).await, 201).await;
        let refused = app.request("PATCH", "/api/v1/me", buyer["token"].as_str()).json(&json!({"auto_accept": true})).send().await.expect("sent");
        assert_eq!(assert_problem(refused, 422, "validation_failed").await["errors"][0]["code"], "farmers_only");
    }

    a_bank_transfer_order_carries_a_verifiable_vietqr(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Hồ tiêu đen", "150k", "100 kg").await;
        let phone = fresh_phone();
        let mut body = guest_order(&listing["id"], 2, &phone);
        body["payment_method"] = json!("bank_transfer");
        let placed = TestApp::expect_json(order(&app, &random_suffix(), &body).await, 201).await;
        assert_eq!(placed["payment"]["status"], "awaiting_transfer");
        let payload = placed["payment"]["vietqr"]["payload"].as_str().expect("payload");
        assert!(vietqr::crc_ok(payload), "{payload}");
        let fields = vietqr::parse_tlv(payload).expect("tlv");
        let field = |tag: &str| fields.iter().find(|(t, _)| t == tag).map(|(_, v)| v.clone()).expect(tag);
        assert_eq!(field("01"), "12");
        assert_eq!(field("54"), placed["total_vnd"].as_i64().expect("total").to_string());
        assert!(field("38").contains(&app.settings.bank_bin) && field("38").contains(&app.settings.bank_account));
        assert!(field("62").contains(placed["code"].as_str().expect("code")));
        let e164 = format!("%2B84{}", &phone.replace(' ', "")[1..]);
        let png = app.get(&format!("/api/v1/orders/{}/qr.png?phone={e164}", placed["code"].as_str().expect("code"))).await;
        assert_eq!(png.headers()["content-type"], "image/png");
        assert!(png.bytes().await.expect("png").starts_with(b"\x89PNG"));
    }
}
