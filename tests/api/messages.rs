//! Messages to phones (issue 15): SMS and Zalo through the outbox against stand-in gateways, a farmer's text
//! reply answering their order, quiet hours, and the SMS files written when no gateway is set.

use chrono::{Duration, NaiveTime, Timelike};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::gateway::Gateway;
use crate::helpers::{
    Farmer, SMS_INBOUND_SECRET, TestApp, WARD_BUON_MA_THUOT, assert_problem, e164, fresh_phone, guest_order,
    random_suffix,
};
use crate::on_both_backends;
use nongsan::db::schema::shipments;
use nongsan::outbox::TEXTS_PER_PHONE_PER_HOUR;

/// A guest's order placed.
struct Placed {
    order: Value,
    listing_id: Value,
    /// The guest's phone as typed.
    buyer: String,
}

/// A guest order of `quantity` kg from a new listing of `farmer`.
async fn order_from(app: &TestApp, farmer: &Farmer, quantity: i64) -> Placed {
    let listing = app.listing(&farmer.token, "Sầu riêng Ri6", "80k/kg", "20 kg").await;
    let buyer = fresh_phone();
    let body = guest_order(&listing["id"], quantity, &buyer);
    let order = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
    Placed { order, listing_id: listing["id"].clone(), buyer }
}

fn code(placed: &Placed) -> &str {
    placed.order["code"].as_str().expect("order code")
}

async fn with_sms_gateway(app: TestApp) -> (TestApp, Gateway) {
    let sms = Gateway::start().await;
    let url = sms.url.clone();
    (app.with_phones(|settings| settings.sms_url = Some(url)), sms)
}

/// The app with a Zalo stand-in (templates for `new_order` and `order_placed`) and an SMS stand-in:
/// (app, zns, sms).
pub async fn with_zalo_and_sms(app: TestApp) -> (TestApp, Gateway, Gateway) {
    let (zns, sms) = (Gateway::start().await, Gateway::start().await);
    let (zns_url, sms_url) = (zns.url.clone(), sms.url.clone());
    let app = app.with_phones(|settings| {
        settings.sms_url = Some(sms_url);
        settings.zns_url = Some(zns_url);
        settings.zns_access_token = Some("zalo-token".into());
        settings.zns_templates = Some("new_order=201001,order_placed=201002".into());
    });
    (app, zns, sms)
}

async fn shipment_of(app: &TestApp, placed: &Placed) -> Value {
    app.guest_view(&placed.order["code"], &placed.buyer).await["shipments"][0].clone()
}

on_both_backends! {
    a_farmer_with_only_a_phone_gets_the_new_order_by_sms_with_code_and_deadline(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 2).await;
        let started = std::time::Instant::now();
        app.run_outbox().await.expect("outbox runs");
        let texts = sms.texts_to(&e164(&farmer.phone));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(texts.len(), 1, "{texts:?}");
        let deadline = order.order["shipments"][0]["respond_by"].as_str().expect("respond_by");
        let deadline = chrono::DateTime::parse_from_rfc3339(deadline).expect("time").naive_utc() + Duration::hours(7);
        let text = &texts[0];
        assert!(text.contains(code(&order)), "{text}");
        assert!(text.contains(&deadline.format("%H:%M %d/%m").to_string()), "{text}");
        assert!(text.contains("2 kg Sau rieng Ri6") && text.contains("1 = nhan"), "unaccented GSM-7: {text}");
        assert!(text.chars().count() <= 160, "one segment: {text}");
        let request = sms.received().into_iter().find(|r| r.body["to"] == e164(&farmer.phone)).expect("request");
        assert!(request.body["id"].as_str().is_some_and(|id| id.starts_with("outbox-")), "{:?}", request.body);
        // The buyer was told too, by text and by email.
        assert_eq!(sms.texts_to(&e164(&order.buyer)).len(), 1);
        assert_eq!(app.emails_to("mai@example.vn").await.len(), 1);
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(sms.texts_to(&e164(&farmer.phone)).len(), 1, "sent once");
    }

    a_phone_gets_at_most_the_hourly_cap_of_texts_but_a_farmer_gets_every_new_order(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Bưởi da xanh", "60k/kg", "100 kg").await;
        let cap = usize::try_from(TEXTS_PER_PHONE_PER_HOUR).expect("small");
        let buyer = fresh_phone();
        let order = || async {
            let body = guest_order(&listing["id"], 1, &buyer);
            TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await
        };
        for _ in 0..cap + 2 {
            order().await;
        }
        // The sender takes a batch at a time.
        while app.run_outbox().await.expect("outbox runs") > 0 {}
        assert_eq!(sms.texts_to(&e164(&buyer)).len(), cap, "the buyer's two past the cap are dropped");
        assert_eq!(sms.texts_to(&e164(&farmer.phone)).len(), cap + 2, "every new order reaches the farmer");
        app.clock.advance(Duration::minutes(61));
        let last = order().await;
        while app.run_outbox().await.expect("outbox runs") > 0 {}
        let texts = sms.texts_to(&e164(&buyer));
        assert_eq!(texts.len(), cap + 1, "an hour later the phone is texted again");
        assert!(texts[cap].contains(last["code"].as_str().expect("code")), "{texts:?}");
    }

    without_zalo_the_message_arrives_by_sms_instead_once(app) {
        let (app, zns, sms) = with_zalo_and_sms(app).await;
        zns.answer(200, json!({"error": -118, "message": "Zalo account not existed"}));
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 1).await;
        app.run_outbox().await.expect("outbox runs");
        let phone = e164(&farmer.phone);
        let tried = zns.received().into_iter().find(|r| r.body["phone"] == phone[1..]).expect("ZNS tried first");
        assert_eq!(tried.header("access_token"), Some("zalo-token"));
        assert_eq!(tried.body["template_id"], "201001");
        assert_eq!(tried.body["template_data"]["code"], code(&order));
        assert!(tried.body["tracking_id"].as_str().is_some_and(|id| id.starts_with("outbox-")));
        let texts = sms.texts_to(&phone);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].contains(code(&order)));
        // The same fallback when the refusal comes as a 4xx.
        zns.answer(400, json!({"error": -118, "message": "Zalo account not existed"}));
        let second = order_from(&app, &farmer, 1).await;
        app.run_outbox().await.expect("outbox runs");
        app.run_outbox().await.expect("outbox runs");
        let texts = sms.texts_to(&phone);
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(texts[1].contains(code(&second)));
        // Accepted by Zalo: no SMS.
        zns.answer(200, json!({"error": 0, "message": "Success"}));
        order_from(&app, &farmer, 1).await;
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(sms.texts_to(&phone).len(), 2);
    }

    with_the_gateway_down_every_message_arrives_once_after_it_returns_and_two_instances_never_share_one(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let other = app.another_instance().await.with_phones(|_| {});
        sms.answer(503, json!({}));
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let mut orders = Vec::new();
        for _ in 0..4 {
            orders.push(order_from(&app, &farmer, 1).await);
        }
        app.run_outbox().await.expect("outbox runs");
        let refused = sms.received().len();
        assert!(refused >= 8, "each text was tried: {refused}");
        sms.answer(200, json!({}));
        // Retries of a young message are at most 30 s apart.
        app.clock.advance(Duration::seconds(31));
        let (a, b) = tokio::join!(app.run_outbox(), other.run_outbox());
        a.expect("outbox runs");
        b.expect("outbox runs");
        app.clock.advance(Duration::seconds(31));
        let (a, b) = tokio::join!(app.run_outbox(), other.run_outbox());
        a.expect("outbox runs");
        b.expect("outbox runs");
        let accepted: Vec<_> = sms.received()[refused..].to_vec();
        let mut ids: Vec<&str> = accepted.iter().map(|r| r.body["id"].as_str().expect("id")).collect();
        let total = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), total, "no message sent twice");
        assert_eq!(sms.texts_to(&e164(&farmer.phone)).len() - 4, 4, "one new-order text per order after the refusals");
        for order in &orders {
            let to_farmer = sms.received()[refused..].iter().filter(|r| r.body["text"].as_str().is_some_and(|t| t.contains(code(order)))).count();
            assert_eq!(to_farmer, 2, "the farmer's and the buyer's text of {}", code(order));
        }
    }

    a_signed_reply_1_accepts_the_order_and_the_buyer_is_told(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 1).await;
        app.run_outbox().await.expect("outbox runs");
        let answer = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-1", &e164(&farmer.phone), "Có").await, 200).await;
        assert_eq!(answer["outcome"], "accepted");
        assert_eq!(shipment_of(&app, &order).await["status"], "accepted");
        app.run_outbox().await.expect("outbox runs");
        let told = sms.texts_to(&e164(&order.buyer));
        assert!(told.iter().any(|t| t.contains("nguoi ban da nhan don") && t.contains(code(&order))), "{told:?}");
        let confirmed = sms.texts_to(&e164(&farmer.phone));
        assert!(confirmed.last().is_some_and(|t| t.contains("ban da nhan don")), "{confirmed:?}");
        let audit = app.request("GET", "/api/v1/me/audit", Some(&farmer.token)).send().await.expect("sent");
        let audit = TestApp::expect_json(audit, 200).await;
        assert_eq!(audit["items"][0]["action"], "accept_shipment_by_sms", "{audit}");
        // The same gateway id again, even with another text, changes nothing.
        let replay = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-1", &e164(&farmer.phone), "2 hết hàng").await, 200).await;
        assert_eq!(replay["outcome"], "duplicate");
        assert_eq!(shipment_of(&app, &order).await["status"], "accepted");
    }

    a_reply_2_with_a_reason_rejects_and_restores_the_stock(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 3).await;
        let listing = format!("/api/v1/listings/{}", order.listing_id);
        let stock = || async { app.get_json(&listing).await["quantity"].clone() };
        let before = stock().await;
        let answer = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-2", &e164(&farmer.phone), "2 hết hàng").await, 200).await;
        assert_eq!(answer["outcome"], "rejected");
        let shipment = shipment_of(&app, &order).await;
        assert_eq!((shipment["status"].as_str(), shipment["reject_reason"].as_str()), (Some("rejected"), Some("hết hàng")), "{shipment}");
        assert_ne!(stock().await, before, "the 3 kg went back on sale");
    }

    unsigned_wrongly_signed_and_strangers_replies_change_nothing(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 1).await;
        let phone = e164(&farmer.phone);
        let unsigned = app.post("/api/v1/sms/inbound", None, &json!({"id": "gw-3", "from": phone, "text": "1"})).await;
        assert_problem(unsigned, 401, "bad_signature").await;
        assert_problem(app.sms_reply("not-the-secret", "gw-4", &phone, "1").await, 401, "bad_signature").await;
        let stranger = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-5", &e164(&fresh_phone()), "1").await, 200).await;
        assert_eq!(stranger["outcome"], "unknown_sender");
        // Another farmer naming this farmer's order: not theirs, nothing waits for them.
        let other = app.farmer(WARD_BUON_MA_THUOT).await;
        let theirs = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-6", &e164(&other.phone), &format!("1 {}", code(&order))).await, 200).await;
        assert_eq!(theirs["outcome"], "nothing_waiting");
        let chat = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-7", &phone, "chào bạn").await, 200).await;
        assert_eq!(chat["outcome"], "help");
        assert_eq!(shipment_of(&app, &order).await["status"], "pending");
    }

    with_several_orders_waiting_the_reply_names_the_order(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let first = order_from(&app, &farmer, 1).await;
        let second = order_from(&app, &farmer, 1).await;
        let phone = e164(&farmer.phone);
        let vague = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-8", &phone, "1").await, 200).await;
        assert_eq!(vague["outcome"], "asked_which_order");
        app.run_outbox().await.expect("outbox runs");
        let list = sms.texts_to(&phone).pop().expect("a list");
        assert!(list.contains(code(&first)) && list.contains(code(&second)), "{list}");
        let named = TestApp::expect_json(app.sms_reply(SMS_INBOUND_SECRET, "gw-9", &phone, &format!("1 {}", code(&second))).await, 200).await;
        assert_eq!(named["outcome"], "accepted");
        assert_eq!(shipment_of(&app, &second).await["status"], "accepted");
        assert_eq!(shipment_of(&app, &first).await["status"], "pending");
    }

    a_reminder_due_at_23_00_is_sent_at_07_00(app) {
        let (app, sms) = with_sms_gateway(app).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 1).await;
        app.run_outbox().await.expect("outbox runs");
        // Move the clock to the next 23:00 in Vietnam, with the answer due at 01:00: the reminder is due now.
        let now = app.clock.now();
        let vietnam = now + Duration::hours(7);
        let mut eleven = vietnam.date().and_time(NaiveTime::from_hms_opt(23, 0, 0).expect("23:00")) - Duration::hours(7);
        if eleven <= now {
            eleven += Duration::days(1);
        }
        app.clock.advance(eleven - now + Duration::seconds(1));
        let due = eleven + Duration::hours(2);
        let id = order.order["shipments"][0]["id"].as_i64().expect("shipment id");
        app.db.write(move |conn| Ok(nongsan::with_conn!(conn, |c| diesel::update(shipments::table.find(id)).set(shipments::respond_by.eq(due)).execute(c))?)).await.expect("deadline moved");
        let at = app.clock.now();
        let reminded = app.db.write(move |conn| nongsan::messages::rules::remind_due(conn, at)).await.expect("reminders");
        assert_eq!(reminded, 1);
        let phone = e164(&farmer.phone);
        let before = sms.texts_to(&phone).len();
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(sms.texts_to(&phone).len(), before, "quiet: nothing at 23:00");
        app.clock.advance(Duration::hours(7) + Duration::minutes(58));
        assert_eq!((app.clock.now() + Duration::hours(7)).hour(), 6);
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(sms.texts_to(&phone).len(), before, "quiet: nothing at 06:59");
        app.clock.advance(Duration::minutes(2));
        app.run_outbox().await.expect("outbox runs");
        let texts = sms.texts_to(&phone);
        assert_eq!(texts.len(), before + 1, "{texts:?}");
        assert!(texts[before].contains(code(&order)) && texts[before].contains("cho ban tra loi"), "{texts:?}");
        // Reminded once.
        let at = app.clock.now();
        assert_eq!(app.db.write(move |conn| nongsan::messages::rules::remind_due(conn, at)).await.expect("reminders"), 0);
    }

    without_sms_url_the_texts_are_files_under_data_outbox_sms(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 1).await;
        app.run_outbox().await.expect("outbox runs");
        let dir = app.settings.data_dir.join("outbox").join("sms");
        let files: Vec<String> = std::fs::read_dir(&dir).expect("outbox/sms").flatten().map(|f| std::fs::read_to_string(f.path()).expect("text")).collect();
        let to_farmer = files.iter().find(|f| f.starts_with(&format!("To: {}\n", e164(&farmer.phone)))).expect("the farmer's text");
        assert!(to_farmer.contains(code(&order)) && to_farmer.contains("Segments: 1"), "{to_farmer}");
    }
}

on_both_backends! {
    the_app_lists_what_each_person_was_told_and_marks_it_read(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = order_from(&app, &farmer, 1).await;
        let list = |token: String| {
            let app = &app;
            async move { TestApp::expect_json(app.request("GET", "/api/v1/me/notifications", Some(&token)).send().await.expect("sent"), 200).await }
        };
        let listed = list(farmer.token.clone()).await;
        assert_eq!(listed["unread"], 1, "{listed}");
        assert_eq!(listed["items"][0]["kind"], "new_order");
        assert_eq!(listed["items"][0]["read"], false);
        assert!(listed["items"][0]["text"].as_str().is_some_and(|t| t.contains(code(&order)) && t.contains("Sầu riêng")), "{listed}");
        let read = app.request("POST", "/api/v1/me/notifications/read", Some(&farmer.token)).send().await.expect("sent");
        assert_eq!(read.status(), 204);
        let listed = list(farmer.token.clone()).await;
        assert_eq!((listed["unread"].as_i64(), listed["items"][0]["read"].as_bool()), (Some(0), Some(true)));
        // Another person sees none of it.
        let other = app.farmer(WARD_BUON_MA_THUOT).await;
        assert_eq!(list(other.token).await["items"], json!([]));
    }
}
