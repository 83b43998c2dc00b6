//! The farmer's pages driven like a person would: sign up with a PIN, list from three fields and a photo (or one
//! sentence), confirm, accept an order in one tap, decline one with a reason, send a form twice (one listing,
//! one answer), change stock, pause, stop a helper, and see errors beside the field in Vietnamese or English.

use serde_json::{Value, json};

use crate::helpers::{Farmer, TestApp, WARD_BUON_MA_THUOT, fresh_phone, guest_order, random_suffix};
use crate::on_both_backends;
use crate::pages::{PageVisitor, Shown};
use nongsan::media::sample;

/// Signs a farmer up through the pages: the browser, logged in, and the phone typed.
async fn signed_up(app: &TestApp) -> (PageVisitor<'_>, String) {
    let mut browser = PageVisitor::new(app);
    let door = browser.get("/farmer").await;
    assert_eq!(door.status, 200);
    door.assert_shows("Vào trang người bán");
    door.assert_shows("inputmode=\"numeric\"");
    let phone = fresh_phone();
    let ward = WARD_BUON_MA_THUOT.to_string();
    let fields = [
        ("name", "Nguyễn Văn Ba"),
        ("phone", phone.as_str()),
        ("ward_text", "Buôn Ma Thuột"),
        ("ward_code", ward.as_str()),
        ("pin", "482915"),
    ];
    let done = browser.post("/farmer/signup", &fields).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/farmer")), "{}", done.html);
    assert!(browser.cookies.contains_key("ns_session"));
    (browser, phone)
}

fn token(browser: &PageVisitor<'_>) -> String {
    browser.cookies.get("ns_session").cloned().expect("logged in")
}

async fn my_listings(app: &TestApp, token: &str) -> Vec<Value> {
    let listed = app.request("GET", "/api/v1/me/listings", Some(token)).send().await.expect("sent");
    TestApp::expect_json(listed, 200).await["items"].as_array().expect("items").clone()
}

/// The first step of a listing from three fields and a photo: the confirmation card.
async fn three_fields(browser: &mut PageVisitor<'_>, title: &str, photo: Option<&[u8]>) -> Shown {
    let form = browser.get("/farmer/listings/new").await;
    assert_eq!(form.status, 200);
    form.assert_shows("capture=\"environment\"");
    let key = form.value("idempotency_key");
    let fields = [
        ("idempotency_key", key.as_str()),
        ("title", title),
        ("price", "35000"),
        ("quantity", "200"),
        ("step", "check"),
    ];
    browser.post_multipart("/farmer/listings/new", &fields, photo).await
}

/// Sends the confirmation card's form as it is.
async fn confirm(browser: &mut PageVisitor<'_>, card: &Shown) -> Shown {
    let names =
        ["idempotency_key", "title", "price", "quantity", "unit", "category", "photo_id", "photo_url", "farmer"];
    let values: Vec<(String, String)> = names.iter().map(|name| ((*name).to_owned(), card.value(name))).collect();
    let mut fields: Vec<(&str, &str)> = values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    fields.push(("step", "publish"));
    browser.post_multipart("/farmer/listings/new", &fields, None).await
}

/// A guest's COD order of one unit of a listing: the order's JSON.
async fn order(app: &TestApp, listing: &Value) -> Value {
    let body = guest_order(&listing["id"], 1, &fresh_phone());
    TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await
}

async fn shipment_status(app: &TestApp, farmer: &Farmer, shipment_id: i64) -> (String, Option<String>) {
    let shipments = app.request("GET", "/api/v1/me/shipments", Some(&farmer.token)).send().await.expect("sent");
    let shipments = TestApp::expect_json(shipments, 200).await;
    let found = shipments["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["shipment"]["id"] == shipment_id)
        .expect("the shipment")
        .clone();
    (
        found["shipment"]["status"].as_str().expect("status").to_owned(),
        found["shipment"]["reject_reason"].as_str().map(str::to_owned),
    )
}

on_both_backends! {
    a_farmer_signs_up_with_a_pin_logs_out_and_is_locked_out_after_five_wrong_pins(app) {
        let (mut browser, phone) = signed_up(&app).await;
        let session = token(&browser);
        let home = browser.get("/farmer").await;
        assert_eq!(home.status, 200);
        home.assert_shows("Đơn mới cần trả lời");
        home.assert_shows("Chưa có đơn mới");

        let out = browser.post("/logout", &[]).await;
        assert_eq!(out.status, 200);
        out.assert_shows("data-logged-out");
        assert!(!browser.cookies.contains_key("ns_session"), "the session cookie is gone");
        let me = app.request("GET", "/api/v1/me", Some(&session)).send().await.expect("sent");
        assert_eq!(me.status(), 401, "the session ended in the store, not only in the cookie");
        assert_eq!(browser.get("/farmer").await.status, 200, "the log-in page again");

        let wrong = browser.post("/farmer/login", &[("phone", &phone), ("pin", "000111")]).await;
        assert_eq!(wrong.status, 401);
        assert_eq!(wrong.field_errors(), vec!["Số điện thoại hoặc mã PIN không đúng."]);
        assert_eq!(wrong.value("phone"), phone, "what was typed stays");
        let right = browser.post("/farmer/login", &[("phone", &phone), ("pin", "482915")]).await;
        assert_eq!((right.status, right.location.as_deref()), (303, Some("/farmer")));
        assert!(browser.cookies.contains_key("ns_session"));

        for _ in 0..5 {
            assert_eq!(browser.post("/farmer/login", &[("phone", &phone), ("pin", "000111")]).await.status, 401);
        }
        let locked = browser.post("/farmer/login", &[("phone", &phone), ("pin", "482915")]).await;
        assert_eq!(locked.status, 429);
        assert!(locked.field_errors()[0].starts_with("Bạn đã nhập sai quá nhiều lần."), "{:?}", locked.field_errors());
    }

    sign_up_errors_show_beside_their_fields_in_vietnamese_or_in_english(app) {
        let fields = [("name", "B"), ("phone", "12345"), ("ward_text", "khong co xa nao nhu the"), ("ward_code", ""), ("pin", "123456")];
        let mut vietnamese = PageVisitor::new(&app);
        vietnamese.get("/farmer/signup").await;
        let refused = vietnamese.post("/farmer/signup", &fields).await;
        assert_eq!(refused.status, 422);
        let errors = refused.field_errors();
        assert_eq!(errors.len(), 4, "name, phone, commune and PIN: {errors:?}");
        assert!(errors.contains(&"Chọn đúng xã/phường của bạn:".to_owned()), "{errors:?}");
        assert!(refused.html.contains("id=\"pin-e\""), "the PIN's message is beside the PIN");

        let mut english = PageVisitor::new(&app).in_english();
        english.get("/farmer/signup").await;
        let refused = english.post("/farmer/signup", &fields).await;
        assert_eq!(refused.status, 422);
        assert!(refused.field_errors().contains(&"Pick your commune or ward:".to_owned()));
        refused.assert_shows("Sign up to sell");

        // The language toggle's cookie wins over the browser's language.
        let mut toggled = PageVisitor::new(&app);
        toggled.cookies.insert("ns_lang".into(), "en".into());
        toggled.get("/farmer/listings/new").await;
        let taken = toggled.post("/farmer/signup", &fields).await;
        assert!(taken.field_errors().contains(&"Pick your commune or ward:".to_owned()));
    }

    a_farmer_lists_from_three_fields_and_a_photo_and_the_confirmation_sent_twice_lists_once(app) {
        let (mut browser, _) = signed_up(&app).await;
        let photo = sample::demo_photo(320, 240, 5);
        let card = three_fields(&mut browser, "Xoài cát Hòa Lộc", Some(&photo)).await;
        assert_eq!(card.status, 200, "{}", card.html);
        card.assert_shows("Máy hiểu như sau, đúng chưa?");
        card.assert_shows("35.000đ/kg");
        card.assert_shows("Trái cây");
        card.assert_shows("200 kg");
        assert!(card.value("photo_url").starts_with("/media/"), "the photo is kept for the next step");
        assert!(my_listings(&app, &token(&browser)).await.is_empty(), "nothing is listed before the tap");

        let listed = confirm(&mut browser, &card).await;
        assert_eq!(listed.status, 303, "{}", listed.html);
        let again = confirm(&mut browser, &card).await;
        assert_eq!(again.location, listed.location, "the same listing, not a second one");
        let items = my_listings(&app, &token(&browser)).await;
        assert_eq!(items.len(), 1);
        assert_eq!((items[0]["price_vnd"].as_i64(), items[0]["quantity"].as_i64()), (Some(35_000), Some(200)));
        assert!(items[0]["photo"]["url"].as_str().is_some(), "{}", items[0]);
        let page = browser.get(listed.location.as_deref().expect("to the listings")).await;
        page.assert_shows("Đã đăng bán!");
        page.assert_shows("Xoài cát Hòa Lộc");
    }

    a_farmer_lists_from_one_sentence_or_straight_from_the_offline_queue_once(app) {
        let (mut browser, _) = signed_up(&app).await;
        let key = browser.get("/farmer/listings/new").await.value("idempotency_key");
        let fields = [("idempotency_key", key.as_str()), ("sentence", "Bưởi da xanh 40k/quả còn 300 quả"), ("step", "check")];
        let card = browser.post_multipart("/farmer/listings/new", &fields, None).await;
        assert_eq!(card.status, 200, "{}", card.html);
        card.assert_shows("40.000đ/quả");
        card.assert_shows("300 quả");
        assert_eq!(confirm(&mut browser, &card).await.status, 303);

        // Queued offline: the first form's fields and photo, sent straight to publishing, then again.
        let key = browser.get("/farmer/listings/new").await.value("idempotency_key");
        let photo = sample::demo_photo(200, 200, 9);
        let queued = [("idempotency_key", key.as_str()), ("title", "Sầu riêng Ri6"), ("price", "80000"), ("quantity", "50"), ("queued", "1")];
        let first = browser.post_multipart("/farmer/listings/new", &queued, Some(&photo)).await;
        assert_eq!(first.status, 303, "{}", first.html);
        let resent = browser.post_multipart("/farmer/listings/new", &queued, Some(&photo)).await;
        assert_eq!(resent.location, first.location);
        let items = my_listings(&app, &token(&browser)).await;
        assert_eq!(items.len(), 2, "one from the sentence, one from the queue");
        assert!(items[0]["photo"].is_object(), "the queued photo went with it");
    }

    listing_errors_show_beside_the_field_in_vietnamese_and_in_english(app) {
        let (mut browser, _) = signed_up(&app).await;
        let refused = three_fields(&mut browser, "Xo", None).await;
        assert_eq!(refused.status, 422);
        assert_eq!(refused.field_errors()[0], "Tên sản phẩm cần ít nhất 3 ký tự (ví dụ: Xoài cát Hòa Lộc).");
        assert!(refused.html.contains("aria-describedby=\"title-e\""));

        let session = token(&browser);
        let mut english = PageVisitor::with_session(&app, &session).await.in_english();
        let refused = three_fields(&mut english, "Xo", None).await;
        assert_eq!(refused.field_errors()[0], "The title needs at least 3 characters (e.g. Xoài cát Hòa Lộc).");

        // A name that says no kind of produce: the kinds to pick from.
        let unknown = three_fields(&mut browser, "Hàng nhà làm", None).await;
        assert_eq!(unknown.status, 422);
        unknown.assert_shows("Chọn loại nông sản:");
        unknown.assert_shows("name=\"category\"");
    }

    a_farmer_accepts_in_one_tap_and_declines_with_a_reason_each_answer_given_once(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "35k", "50 kg").await;
        let (first, second) = (order(&app, &listing).await, order(&app, &listing).await);
        let (first_id, second_id) = (first["shipments"][0]["id"].as_i64().expect("id"), second["shipments"][0]["id"].as_i64().expect("id"));
        let mut browser = PageVisitor::with_session(&app, &farmer.token).await;
        let home = browser.get("/farmer").await;
        home.assert_shows("Trả lời trước");
        home.assert_shows("(còn 23 giờ)");
        home.assert_shows("Xoài cát Hòa Lộc × 1 kg");
        home.assert_shows(first["code"].as_str().expect("code"));
        let accept_keys = home.values("idempotency_key");
        assert_eq!(accept_keys.len(), 4, "an accept and a decline form for each new order");
        // The answer due first comes first: the first order's forms.
        let accept = format!("/farmer/orders/{first_id}/accept");
        let tapped = browser.post(&accept, &[("idempotency_key", &accept_keys[0])]).await;
        assert_eq!((tapped.status, tapped.location.as_deref()), (303, Some("/farmer?done=accepted")));
        let again = browser.post(&accept, &[("idempotency_key", &accept_keys[0])]).await;
        assert_eq!(again.status, 303, "sent again with its key: the same answer, nothing done twice");
        assert_eq!(shipment_status(&app, &farmer, first_id).await.0, "accepted");
        let unkeyed = browser.post(&accept, &[]).await;
        assert_eq!(unkeyed.status, 409, "without a key a second accept is refused, on the page");
        unkeyed.assert_shows("notice warn");

        let reject = format!("/farmer/orders/{second_id}/reject");
        let no_reason = browser.post(&reject, &[("idempotency_key", "k-empty"), ("reason", "other"), ("other", "")]).await;
        assert_eq!(no_reason.status, 422);
        assert_eq!(no_reason.field_errors(), vec!["Hãy cho người mua biết lý do."]);
        assert_eq!(shipment_status(&app, &farmer, second_id).await.0, "pending");
        let fields = [("idempotency_key", accept_keys[3].as_str()), ("reason", "out_of_stock")];
        let declined = browser.post(&reject, &fields).await;
        assert_eq!((declined.status, declined.location.as_deref()), (303, Some("/farmer?done=rejected")));
        assert_eq!(browser.post(&reject, &fields).await.status, 303);
        assert_eq!(shipment_status(&app, &farmer, second_id).await, ("rejected".to_owned(), Some("Hết hàng".to_owned())));
        let told = app.emails_to("mai@example.vn").await;
        assert_eq!(told.iter().filter(|mail| mail.body.contains("Hết hàng")).count(), 1, "the buyer is told once");

        let home = browser.get("/farmer?done=rejected").await;
        home.assert_shows("Đã không nhận đơn.");
        home.assert_shows("Chưa có đơn mới");
        home.assert_shows("Đơn gần đây");
        home.assert_shows("Đã nhận, chờ người giao hàng đến lấy");
        home.assert_shows("Bạn đã không nhận");
    }

    a_farmer_changes_price_and_stock_pauses_and_sells_again(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
        let id = listing["id"].as_i64().expect("id");
        let path = format!("/farmer/listings/{id}");
        let mut browser = PageVisitor::with_session(&app, &farmer.token).await;
        let page = browser.get("/farmer/listings").await;
        page.assert_shows("Cà phê Robusta");
        page.assert_shows("120.000đ/kg");

        let saved = browser.post(&path, &[("price", "130000"), ("quantity", "2 tạ"), ("action", "save")]).await;
        assert_eq!(saved.status, 303);
        let items = my_listings(&app, &farmer.token).await;
        assert_eq!((items[0]["price_vnd"].as_i64(), items[0]["quantity"].as_i64()), (Some(130_000), Some(200)));

        let refused = browser.post(&path, &[("price", "130000"), ("quantity", "100 quả"), ("action", "save")]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.field_errors()[0].starts_with("Tin bán theo kg"), "{:?}", refused.field_errors());
        assert_eq!(refused.values("quantity"), vec!["100 quả"], "what was typed stays");
        let mut english = PageVisitor::with_session(&app, &farmer.token).await.in_english();
        let refused = english.post(&path, &[("price", "130000"), ("quantity", "100 quả"), ("action", "save")]).await;
        assert!(refused.field_errors()[0].starts_with("The listing is sold per kg"), "{:?}", refused.field_errors());

        assert_eq!(browser.post(&path, &[("action", "pause")]).await.status, 303);
        assert_eq!(my_listings(&app, &farmer.token).await[0]["status"], "paused");
        let paused = browser.get("/farmer/listings").await;
        paused.assert_shows("Tạm ngừng bán");
        paused.assert_shows("value=\"resume\"");
        assert_eq!(browser.post(&path, &[("action", "resume")]).await.status, 303);
        assert_eq!(my_listings(&app, &farmer.token).await[0]["status"], "active");

        let other = app.farmer(WARD_BUON_MA_THUOT).await;
        let mut stranger = PageVisitor::with_session(&app, &other.token).await;
        assert_eq!(stranger.post(&path, &[("action", "pause")]).await.status, 404, "another farmer's listing");
    }

    a_farmer_sees_what_a_helper_did_for_them_and_stops_them(app) {
        let operator = app.operator_token().await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let (team_id, helper_id, helper_token) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        app.consent(&farmer.token, team_id).await;
        let mut helper = PageVisitor::with_session(&app, &helper_token).await;
        assert_eq!(helper.get("/farmer").await.location.as_deref(), Some("/helper"), "a helper acting for nobody");
        helper.cookies.insert("ns_acting".into(), farmer.id.to_string());
        let home = helper.get("/farmer").await;
        assert_eq!(home.status, 200);
        home.assert_shows("Đang làm thay: Nguyễn Thị Lan");
        assert_eq!(helper.get("/farmer/helpers").await.status, 403, "the farmer's oversight is the farmer's own");
        let card = three_fields(&mut helper, "Xoài cát Hòa Lộc", None).await;
        assert_eq!(confirm(&mut helper, &card).await.status, 303);
        assert_eq!(my_listings(&app, &farmer.token).await.len(), 1, "listed for the farmer");

        let mut browser = PageVisitor::with_session(&app, &farmer.token).await;
        let seen = browser.get("/farmer/helpers").await;
        assert_eq!(seen.status, 200);
        seen.assert_shows("Cán bộ Minh");
        seen.assert_shows("Đăng bán hàng");
        seen.assert_shows("Xem đơn hàng của bạn");
        seen.assert_shows("Tổ hỗ trợ");
        seen.assert_shows("đăng và sửa hàng, trả lời đơn hàng, đặt lại mã PIN");
        let revoke = format!("/farmer/helpers/{helper_id}/revoke");
        let stopped = browser.post(&revoke, &[]).await;
        assert_eq!((stopped.status, stopped.location.as_deref()), (303, Some("/farmer/helpers?revoked=1")));
        let after = browser.get("/farmer/helpers?revoked=1").await;
        after.assert_shows("Người này không còn làm thay bạn được nữa.");
        after.assert_shows("Không còn được làm thay");
        after.assert_shows("Bạn chưa cho nhóm nào làm thay.");
        assert_eq!(helper.get("/farmer").await.status, 403, "the helper is refused from now on");
        let audit = app.request("GET", "/api/v1/me/audit", Some(&farmer.token)).send().await.expect("sent");
        assert_eq!(TestApp::expect_json(audit, 200).await["items"][0]["actor"]["revoked"], true);
    }

    the_money_page_shows_the_apis_figures(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let mut browser = PageVisitor::with_session(&app, &farmer.token).await;
        let money = browser.get("/farmer/money").await;
        assert_eq!(money.status, 200);
        money.assert_shows("Đã giao, người mua đã trả");
        money.assert_shows("Chưa về: người giao hàng đang giữ");
        money.assert_shows("0đ");
    }

    forms_without_the_csrf_token_are_refused(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "35k", "50 kg").await;
        let shipment = order(&app, &listing).await["shipments"][0]["id"].as_i64().expect("id");
        let mut browser = PageVisitor::with_session(&app, &farmer.token).await;
        let listing_path = format!("/farmer/listings/{}", listing["id"]);
        let accept = format!("/farmer/orders/{shipment}/accept");
        let reject = format!("/farmer/orders/{shipment}/reject");
        for path in ["/farmer/login", "/farmer/signup", &accept, &reject, &listing_path, "/farmer/helpers/1/revoke", "/logout"] {
            let refused = browser.post_without_csrf(path, &[("reason", "out_of_stock"), ("action", "pause")]).await;
            assert_eq!(refused.status, 403, "{path}");
            let forged = browser.post_without_csrf(path, &[("csrf_token", &"0".repeat(32))]).await;
            assert_eq!(forged.status, 403, "{path} with a token that is not the visitor's");
        }
        let fields = [("title", "Xoài cát"), ("price", "35000"), ("quantity", "20"), ("step", "publish")];
        let refused = browser.post_multipart_without_csrf("/farmer/listings/new", &fields, None).await;
        assert_eq!(refused.status, 403);
        assert_eq!(shipment_status(&app, &farmer, shipment).await.0, "pending");
        assert_eq!(my_listings(&app, &farmer.token).await.len(), 1);
        assert_eq!(my_listings(&app, &farmer.token).await[0]["status"], "active");
    }

    the_api_takes_an_idempotency_key_on_listings_and_answers(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let list = |key: &str, body: Value| {
            app.request("POST", "/api/v1/listings", Some(&farmer.token)).header("Idempotency-Key", key).json(&body).send()
        };
        let body = json!({"title": "Gạo ST25", "price": "30k", "quantity": "1 tấn"});
        let first = TestApp::expect_json(list("list-1", body.clone()).await.expect("sent"), 201).await;
        let again = TestApp::expect_json(list("list-1", body).await.expect("sent"), 201).await;
        assert_eq!(first["id"], again["id"]);
        let same_meaning = json!({"title": "Gạo ST25", "price": 30000, "quantity": "1000 kg"});
        let understood_alike = TestApp::expect_json(list("list-1", same_meaning).await.expect("sent"), 201).await;
        assert_eq!(understood_alike["id"], first["id"], "a key is about what is asked, however it is written");
        let other = list("list-1", json!({"title": "Gạo ST25", "price": "31k", "quantity": "1 tấn"})).await.expect("sent");
        crate::helpers::assert_problem(other, 422, "idempotency_key_reused").await;
        assert_eq!(my_listings(&app, &farmer.token).await.len(), 1);

        let listing = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "35k", "50 kg").await;
        let shipment = order(&app, &listing).await["shipments"][0]["id"].as_i64().expect("id");
        let accept = format!("/api/v1/shipments/{shipment}/accept");
        let answer = |path: &str, key: &str| app.request("POST", path, Some(&farmer.token)).header("Idempotency-Key", key).send();
        assert_eq!(answer(&accept, "answer-1").await.expect("sent").status(), 204);
        assert_eq!(answer(&accept, "answer-1").await.expect("sent").status(), 204, "the first answer again");
        let reject = format!("/api/v1/shipments/{shipment}/reject");
        let reused = app
            .request("POST", &reject, Some(&farmer.token))
            .header("Idempotency-Key", "answer-1")
            .json(&json!({"reason": "Hết hàng"}))
            .send()
            .await
            .expect("sent");
        crate::helpers::assert_problem(reused, 422, "idempotency_key_reused").await;
        let unkeyed = app.request("POST", &accept, Some(&farmer.token)).send().await.expect("sent");
        crate::helpers::assert_problem(unkeyed, 409, "shipment_state").await;
        assert_eq!(shipment_status(&app, &farmer, shipment).await.0, "accepted");
    }
}
