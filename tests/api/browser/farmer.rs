//! The farmer in a real browser, on a fresh database: signs up on the keypad, lists mangoes from a photo in four
//! inputs, accepts an order in one tap, sees their produce and money; and, with the network cut, makes a listing
//! that waits on the phone and arrives exactly once when the network returns.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::ImageEncoder;
use serde_json::{Value, json};

use super::buyer::step_class;
use super::page::{Browser, Options};
use super::proxy::Proxy;
use crate::helpers::{Farmer, TestApp, WARD_DA_LAT, guest_order};

/// What the issue allows a farmer between signing up and a listing on sale (a photo, a name, a price, a
/// quantity).
const LISTING_INPUT_BUDGET: usize = 4;

/// A photo of the produce, as the phone's camera would give it.
fn mango_photo(dir: &Path) -> PathBuf {
    let (width, height) = (320, 240);
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| if (i % width) < width / 2 { [240, 190, 40] } else { [60, 140, 60] })
        .collect();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
        .write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .expect("a JPEG");
    let path = dir.join("xoai.jpg");
    std::fs::write(&path, jpeg).expect("photo written");
    path
}

/// The farmer's listings, through the API.
async fn listings_of(app: &TestApp, token: &str) -> Vec<Value> {
    let answer = app.request("GET", "/api/v1/me/listings", Some(token)).send().await.expect("sent");
    TestApp::expect_json(answer, 200).await["items"].as_array().cloned().unwrap_or_default()
}

/// A session token for a farmer who signed up in the browser, through the API's PIN log-in.
async fn pin_token(app: &TestApp, phone: &str, pin: &str) -> String {
    let answer = app.post("/api/v1/auth/pin-login", None, &json!({"phone": phone, "pin": pin})).await;
    TestApp::expect_json(answer, 200).await["token"].as_str().expect("token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_farmer_signs_up_lists_from_a_photo_in_four_inputs_and_accepts_an_order_in_one_tap() {
    let app = TestApp::sqlite().await;
    let Some(mut browser) = Browser::start(&app, "farmer").await else { return };
    let photos = tempfile::tempdir().expect("temp dir");

    // From the buyer's bar to the farmer's door, then sign-up.
    browser.open("/").await;
    browser.tap_on("nav.bar a[href='/farmer']").await;
    assert!(browser.text("main").await.contains("Nhập số điện thoại và mã PIN 6 số"), "the log-in asks phone and PIN");
    browser.look("farmer-login").await;
    browser.tap("Đăng ký bán hàng").await;
    assert_eq!(browser.path().await, "/farmer/signup");
    browser.type_into("#name", "Trần Văn Hùng").await;
    browser.type_into("#phone", "0935 111 222").await;
    browser.type_into("#ward_text", "lam vien").await;
    browser.choose_labelled("Phường Lâm Viên - Đà Lạt").await;
    browser.tap_keypad("582047").await;
    let pin = browser.script("return document.querySelector('#pin').value;", vec![]).await;
    assert_eq!(pin, "582047", "the keypad typed the PIN");
    browser.look("farmer-signup").await;
    browser.tap("Đăng ký").await;
    assert_eq!(browser.path().await, "/farmer", "signed up: the farmer's home");
    assert!(browser.text("main").await.contains("Chưa có đơn mới"), "nothing to answer yet");

    // From here on the inputs count: a photo, a name, a price, a quantity; the rest is inferred and confirmed.
    let signed_up_at = browser.inputs().len();
    browser.tap_on("nav.bar a[href='/farmer/listings/new']").await;
    browser.look("farmer-new-listing").await;
    browser.attach("#photo", &mango_photo(photos.path())).await;
    browser.type_into("#title", "Xoài cát Hòa Lộc").await;
    browser.type_into("#price", "45000").await;
    browser.type_into("#quantity", "200").await;
    browser.tap("Xem lại trước khi đăng").await;
    let understood = browser.text("main").await;
    assert!(understood.contains("Máy hiểu như sau"), "a confirmation before listing: {understood}");
    assert!(understood.contains("45.000đ") && understood.contains("Trái cây"), "price and kind inferred: {understood}");
    let photo = browser
        .script("const img = document.querySelector('main img.photo'); return img ? img.src : null;", vec![])
        .await;
    assert!(photo.as_str().is_some_and(|src| src.contains("/media/")), "the photo is kept with the listing: {photo}");
    browser.look("farmer-confirm").await;
    browser.tap("Đúng rồi, đăng bán").await;
    let typed = &browser.inputs()[signed_up_at..];
    assert!(typed.len() <= LISTING_INPUT_BUDGET, "{} inputs after signing up: {typed:#?}", typed.len());
    assert!(browser.path().await.starts_with("/farmer/listings"), "the farmer's produce");
    assert!(browser.text("main").await.contains("Đã đăng bán!"), "it says the listing is on sale");
    browser.look("farmer-listings").await;

    let token = pin_token(&app, "0935 111 222", "582047").await;
    let listings = listings_of(&app, &token).await;
    assert_eq!(listings.len(), 1, "one listing: {listings:?}");
    assert_eq!(listings[0]["price_vnd"], 45_000, "{}", listings[0]);
    assert!(listings[0]["photo"].is_object(), "with its photo: {}", listings[0]);

    // A buyer orders; the home shows it first, with its deadline; one tap accepts.
    let order = TestApp::expect_json(
        app.place_order(None, "farmer-journey", &guest_order(&listings[0]["id"], 3, "0912 345 678")).await,
        201,
    )
    .await;
    browser.tap_on("nav.bar a[href='/farmer']").await;
    let home = browser.text("main").await;
    assert!(home.contains(order["code"].as_str().expect("code")), "the new order is on the home: {home}");
    browser.look("farmer-new-order").await;
    browser.tap("Nhận đơn").await;
    assert!(browser.text("main").await.contains("Đã nhận đơn"), "it says the order is accepted");
    let seen = app.guest_view(&order["code"], "0912 345 678").await;
    assert_eq!(seen["shipments"][0]["status"], "accepted", "{seen}");
    // The buyer looks the order up by its phone and sees the farmer's answer on the timeline.
    browser.open(&format!("/orders/{}", order["code"].as_str().expect("code"))).await;
    browser.type_into("#phone", "0912 345 678").await;
    browser.tap("Xem đơn").await;
    assert!(step_class(&browser, "Người bán đã nhận").await.is_empty(), "the buyer sees the accepted step done");

    browser.tap_on("nav.bar a[href='/farmer/money']").await;
    assert!(browser.text("main").await.contains("Tiền hàng"));
    browser.look("farmer-money").await;
    browser.open("/farmer/helpers").await;
    assert!(browser.text("main").await.contains("Chưa có ai làm thay bạn."), "nobody acted for this farmer");
    browser.axe().await;
    browser.assert_no_console_errors().await;

    // What the service told the farmer is one tap from the home, and so is turning texts off.
    browser.tap_on("nav.bar a[href='/farmer']").await;
    browser.tap("Tin nhắn của tôi").await;
    let told = browser.text("main").await;
    assert!(told.contains(order["code"].as_str().expect("code")), "the new order's message is listed: {told}");
    browser.look("farmer-messages").await;
    browser.tap_on("input[name=texts]").await;
    browser.tap("Lưu").await;
    assert!(browser.text("main").await.contains("Đã lưu cách báo tin cho bạn."));
    let me = app.request("GET", "/api/v1/me", Some(&token)).send().await.expect("sent");
    assert_eq!(TestApp::expect_json(me, 200).await["messages"]["texts"], false);
}

/// Waits until the page is controlled by the service worker (it registers on the first page).
async fn until_the_worker_controls(browser: &Browser) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while browser.script("return !!navigator.serviceWorker.controller;", vec![]).await != Value::Bool(true) {
        assert!(Instant::now() < deadline, "the service worker never took the page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_made_offline_waits_on_the_phone_and_arrives_exactly_once() {
    let app = TestApp::sqlite().await;
    let proxy = Proxy::start(&app.address).await;
    let Some(mut browser) = Browser::start_on(&proxy.address, "farmer-offline", Options::default()).await else {
        return;
    };
    let farmer: Farmer = app.farmer(WARD_DA_LAT).await;

    browser.open("/farmer").await;
    browser.type_into("#phone", &farmer.phone).await;
    browser.tap_keypad(&farmer.pin).await;
    browser.tap("Vào").await;
    assert_eq!(browser.path().await, "/farmer");
    until_the_worker_controls(&browser).await;
    browser.tap_on("nav.bar a[href='/farmer/listings/new']").await;

    // The network goes: the listing is kept on the phone, and the page says what waits.
    proxy.cut();
    browser.cdp("Network.enable", json!({})).await;
    let offline = json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1});
    browser.cdp("Network.emulateNetworkConditions", offline).await;
    browser.type_into("#sentence", "Bơ sáp 40k/kg còn 100kg").await;
    browser.tap("Xem lại trước khi đăng").await;
    let waiting = browser.wait_for_text("[data-queue-waiting]", "1 tin đăng bán").await;
    assert!(waiting.contains("tự gửi khi có mạng"), "the page says it is sent when the network returns: {waiting}");
    browser.screenshot("farmer-offline-waiting").await;
    assert!(listings_of(&app, &farmer.token).await.is_empty(), "nothing reached the service yet");

    // The network returns: the page sends what waited, once.
    proxy.restore();
    let online = json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1});
    browser.cdp("Network.emulateNetworkConditions", online).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while listings_of(&app, &farmer.token).await.is_empty() {
        assert!(Instant::now() < deadline, "the waiting listing never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Another page, another flush: the queue is empty, so nothing is sent twice.
    browser.open("/farmer/listings").await;
    browser.open("/farmer").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let listings = listings_of(&app, &farmer.token).await;
    assert_eq!(listings.len(), 1, "exactly one listing: {listings:?}");
    assert_eq!(listings[0]["title"], "Bơ sáp", "{}", listings[0]);
    let waiting = browser.script("return document.querySelector('[data-queue]').hidden;", vec![]).await;
    assert_eq!(waiting, Value::Bool(true), "nothing is said to wait any more");
    // The failed loads while the network was cut are the only console errors.
    let errors: Vec<String> = browser
        .console()
        .await
        .iter()
        .filter(|line| line.level == "SEVERE" && !line.message.contains("net::ERR_"))
        .map(|line| line.message.clone())
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
