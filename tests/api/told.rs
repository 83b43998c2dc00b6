//! How a person is told (issue 15): their choices in `PATCH /me` (no texts, SMS instead of Zalo, no email),
//! the PIN-reset notice that ignores them, the farmer's messages page, and the daily digest of what helpers
//! did for a farmer instead of a text per action.

use chrono::{Duration, NaiveTime};
use serde_json::{Value, json};

use crate::gateway::Gateway;
use crate::helpers::{TestApp, WARD_BUON_MA_THUOT, e164, fresh_phone, guest_order, random_suffix};
use crate::messages::with_zalo_and_sms;
use crate::on_both_backends;
use crate::pages::PageVisitor;

async fn guest_buys_from(app: &TestApp, token: &str) -> Value {
    let listing = app.listing(token, "Sầu riêng Ri6", "80k/kg", "50 kg").await;
    let body = guest_order(&listing["id"], 1, &fresh_phone());
    TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await
}

async fn choose(app: &TestApp, token: &str, messages: Value) -> Value {
    let changed = app.request("PATCH", "/api/v1/me", Some(token)).json(&json!({ "messages": messages })).send().await;
    TestApp::expect_json(changed.expect("sent"), 200).await
}

async fn unread(app: &TestApp, token: &str) -> Value {
    let listed = app.request("GET", "/api/v1/me/notifications", Some(token)).send().await.expect("sent");
    TestApp::expect_json(listed, 200).await
}

/// An operator, a team for Buôn Ma Thuột with one helper, and a farmer the helper enrolled with consent:
/// (helper token, farmer id, farmer token).
async fn enrolled_farmer(app: &TestApp) -> (String, i64, String) {
    let operator = app.operator_token().await;
    let (_, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
    let phone = fresh_phone();
    let body =
        json!({"phone": phone, "name": "Y Bhim", "ward_code": WARD_BUON_MA_THUOT, "pin": "582047", "consent": true});
    let enrolled = TestApp::expect_json(app.post("/api/v1/helper/farmers", Some(&helper), &body).await, 201).await;
    let farmer_id = enrolled["farmer"]["id"].as_i64().expect("farmer id");
    let login = app.post("/api/v1/auth/pin-login", None, &json!({"phone": phone, "pin": "582047"})).await;
    let token = TestApp::expect_json(login, 200).await["token"].as_str().expect("token").to_owned();
    (helper, farmer_id, token)
}

on_both_backends! {
    a_farmer_chooses_sms_over_zalo_or_no_texts_and_the_app_still_lists_every_message(app) {
        let (app, zns, sms) = with_zalo_and_sms(app).await;
        zns.answer(200, json!({"error": 0, "message": "Success"}));
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let phone = e164(&farmer.phone);
        let shown = TestApp::expect_json(app.request("GET", "/api/v1/me", Some(&farmer.token)).send().await.expect("sent"), 200).await;
        assert_eq!(shown["messages"], json!({"email": true, "texts": true, "zalo": true}));

        // Zalo off: the new order comes by SMS, Zalo is not asked.
        let chosen = choose(&app, &farmer.token, json!({"zalo": false})).await;
        assert_eq!(chosen["messages"], json!({"email": true, "texts": true, "zalo": false}));
        let first = guest_buys_from(&app, &farmer.token).await;
        app.run_outbox().await.expect("outbox runs");
        assert!(zns.received().iter().all(|r| r.body["phone"] != phone[1..]), "Zalo was asked");
        let texts = sms.texts_to(&phone);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].contains(first["code"].as_str().expect("code")));

        // Texts off: nothing reaches the phone, the app lists it.
        choose(&app, &farmer.token, json!({"texts": false})).await;
        let second = guest_buys_from(&app, &farmer.token).await;
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(sms.texts_to(&phone).len(), 1, "no text with texts off");
        assert!(zns.received().iter().all(|r| r.body["phone"] != phone[1..]));
        let listed = unread(&app, &farmer.token).await;
        assert_eq!(listed["unread"], 2, "{listed}");
        assert!(listed["items"][0]["text"].as_str().is_some_and(|t| t.contains(second["code"].as_str().expect("code"))));

        // Zalo back on, texts still off: still nothing; both on: Zalo again.
        choose(&app, &farmer.token, json!({"zalo": true})).await;
        guest_buys_from(&app, &farmer.token).await;
        app.run_outbox().await.expect("outbox runs");
        assert!(zns.received().iter().all(|r| r.body["phone"] != phone[1..]));
        choose(&app, &farmer.token, json!({"texts": true})).await;
        guest_buys_from(&app, &farmer.token).await;
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(zns.received().iter().filter(|r| r.body["phone"] == phone[1..]).count(), 1);
        assert_eq!(sms.texts_to(&phone).len(), 1);
    }

    a_buyer_who_turns_email_off_gets_no_email_and_a_wrong_choice_is_a_clear_422(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let email = format!("lan-{}@example.vn", random_suffix());
        let body = json!({"name": "Lan", "email": email, "password": "mat-khau-dai-1"});
        let created = TestApp::expect_json(app.post("/api/v1/buyers", None, &body).await, 201).await;
        let buyer = created["token"].as_str().expect("token").to_owned();
        app.run_outbox().await.expect("outbox runs");
        let welcomed = app.emails_to(&email).await.len();
        let wrong = app.request("PATCH", "/api/v1/me", Some(&buyer)).json(&json!({"messages": {"email": "no"}})).send().await.expect("sent");
        let problem = TestApp::expect_json(wrong, 422).await;
        assert!(problem["detail"].as_str().is_some_and(|d| !d.contains("invalid type")), "{problem}");
        choose(&app, &buyer, json!({"email": false})).await;
        let listing = app.listing(&farmer.token, "Sầu riêng Ri6", "80k/kg", "50 kg").await;
        let mut order = guest_order(&listing["id"], 1, &fresh_phone());
        order["buyer"]["email"] = json!(email);
        let placed = app.place_order(Some(&buyer), &random_suffix(), &order).await;
        TestApp::expect_json(placed, 201).await;
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(app.emails_to(&email).await.len(), welcomed, "no email after turning email off");
        assert_eq!(unread(&app, &buyer).await["unread"], 1);
    }

    the_pin_reset_notice_is_texted_even_to_a_farmer_who_turned_texts_off(app) {
        let sms = Gateway::start().await;
        let url = sms.url.clone();
        let app = app.with_phones(|settings| settings.sms_url = Some(url));
        let (helper, farmer_id, token) = enrolled_farmer(&app).await;
        let profile = choose(&app, &token, json!({"texts": false})).await;
        let phone = profile["phone"].as_str().expect("phone").to_owned();
        let path = format!("/api/v1/helper/farmers/{farmer_id}/pin-reset");
        let reset = app.post(&path, Some(&helper), &json!({"new_pin": "639251", "identity_checked": true})).await;
        assert_eq!(reset.status(), 204);
        app.run_outbox().await.expect("outbox runs");
        let texts = sms.texts_to(&phone);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].contains("PIN"), "{texts:?}");
    }

    a_farmer_hears_once_a_day_what_helpers_did_for_them_not_once_per_action(app) {
        let sms = Gateway::start().await;
        let url = sms.url.clone();
        let app = app.with_phones(|settings| settings.sms_url = Some(url));
        let (helper, farmer_id, token) = enrolled_farmer(&app).await;
        let phone = TestApp::expect_json(app.request("GET", "/api/v1/me", Some(&token)).send().await.expect("sent"), 200).await["phone"]
            .as_str().expect("phone").to_owned();
        for title in ["Cà phê nhân", "Tiêu đen"] {
            let body = json!({"title": title, "price": "90k/kg", "quantity": "100 kg"});
            let listed = app.request("POST", "/api/v1/listings", Some(&helper)).header("X-On-Behalf-Of", farmer_id.to_string())
                .header("Idempotency-Key", random_suffix()).json(&body).send().await.expect("sent");
            assert_eq!(listed.status(), 201, "{}", listed.text().await.unwrap_or_default());
        }
        // A look is audited but is not "done for you".
        let looked = app.request("GET", "/api/v1/me/listings", Some(&helper)).header("X-On-Behalf-Of", farmer_id.to_string()).send().await.expect("sent");
        assert_eq!(looked.status(), 200);
        let digest = |app: &TestApp| {
            let (db, at) = (app.db.clone(), app.clock.now());
            async move { db.write(move |conn| nongsan::messages::rules::send_digests(conn, at)).await.expect("digests") }
        };
        // Before the day closes at 18:00, the day's actions wait; nothing was texted per action.
        let now = app.clock.now();
        let vietnam = now + Duration::hours(7);
        let mut close = vietnam.date().and_time(NaiveTime::from_hms_opt(18, 0, 0).expect("18:00")) - Duration::hours(7);
        if close <= now {
            close += Duration::days(1);
        }
        assert_eq!(digest(&app).await, 0, "the day has not closed");
        app.run_outbox().await.expect("outbox runs");
        assert!(sms.texts_to(&phone).is_empty(), "no text per action: {:?}", sms.texts_to(&phone));
        app.clock.advance(close - now + Duration::minutes(1));
        assert_eq!(digest(&app).await, 1);
        assert_eq!(digest(&app).await, 0, "one digest a day");
        app.run_outbox().await.expect("outbox runs");
        let texts = sms.texts_to(&phone);
        assert_eq!(texts.len(), 1, "{texts:?}");
        // Enrolment and two listings: three things, by the team's helper.
        assert!(texts[0].contains("lam thay ban 3 viec") && texts[0].contains("Can bo Minh"), "{texts:?}");
        let listed = unread(&app, &token).await;
        assert_eq!(listed["items"][0]["kind"], "helper_digest", "{listed}");
        // The next day, with nothing done, there is nothing to tell.
        app.clock.advance(Duration::days(1));
        assert_eq!(digest(&app).await, 0);
    }

    the_farmer_reads_their_messages_on_a_page_and_chooses_how_they_are_told(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let order = guest_buys_from(&app, &farmer.token).await;
        let code = order["code"].as_str().expect("code");
        let mut browser = PageVisitor::new(&app);
        browser.cookies.insert("ns_session".into(), farmer.token.clone());
        let home = browser.get("/farmer").await;
        home.assert_shows("href=\"/farmer/messages\"");
        home.assert_shows("1 mới");
        let page = browser.get("/farmer/messages").await;
        assert_eq!(page.status, 200);
        page.assert_shows("Tin nhắn của tôi");
        page.assert_shows(code);
        page.assert_shows("badge gold\">Mới");
        // Opened means read, as in a chat app.
        assert_eq!(unread(&app, &farmer.token).await["unread"], 0);
        let again = browser.get("/farmer/messages").await;
        assert!(!again.html.contains("badge gold\">Mới"), "{}", again.html);
        // Untick texts, keep Zalo (and the email choice the form carries, hidden, for a farmer without email).
        let email = again.value("email");
        let saved = browser.post("/farmer/messages/how", &[("zalo", "1"), ("email", email.as_str())]).await;
        assert_eq!((saved.status, saved.location.as_deref()), (303, Some("/farmer/messages?saved=1")));
        let shown = TestApp::expect_json(app.request("GET", "/api/v1/me", Some(&farmer.token)).send().await.expect("sent"), 200).await;
        assert_eq!(shown["messages"], json!({"email": true, "texts": false, "zalo": true}));
        browser.get("/farmer/messages?saved=1").await.assert_shows("Đã lưu cách báo tin cho bạn.");
    }
}
