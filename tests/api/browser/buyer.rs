//! The buyer in a real browser, on a fresh database: finds mangoes by typing without accents, orders as a guest
//! with cash on delivery in five inputs or fewer after choosing the produce, follows the order while the farmer
//! accepts it; pays by bank transfer with the VietQR code; reads the app in English. Every page visited passes
//! the accessibility check, shows no console error, and is saved to `docs/screens/`.

use nongsan::domain::money::format_vnd;
use serde_json::Value;

use super::page::Browser;
use crate::helpers::{Farmer, TestApp, WARD_BUON_MA_THUOT};

/// What the issue allows a guest between choosing the produce and seeing the order code.
const CHECKOUT_INPUT_BUDGET: usize = 5;

/// A farmer in Buôn Ma Thuột selling Hòa Lộc mangoes, and durians that a search for mangoes must not show.
async fn mango_farm(app: &TestApp) -> (Farmer, Value) {
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    app.listing(&farmer.token, "Sầu riêng Ri6", "80k/kg", "50 kg").await;
    let mango = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "45k/kg", "200 kg").await;
    (farmer, mango)
}

/// The classes of the timeline step that says `label` on the order page.
pub(super) async fn step_class(browser: &Browser, label: &str) -> String {
    let classes = browser
        .script(
            "const step = Array.from(document.querySelectorAll('ol.timeline li'))
               .find((li) => li.textContent.trim().startsWith(arguments[0]));
             return step ? step.className : null;",
            vec![Value::from(label)],
        )
        .await;
    classes.as_str().unwrap_or_else(|| panic!("no timeline step {label:?}")).to_owned()
}

/// Fills the delivery form as a guest: name, phone, commune found by typing without accents and picked from the
/// suggestions, street (five inputs).
async fn deliver_to_lam_vien(browser: &mut Browser, phone: &str) {
    browser.type_into("#name", "Lê Thị Mai").await;
    browser.type_into("#phone", phone).await;
    browser.type_into("#ward_text", "lam vien").await;
    browser.choose_labelled("Phường Lâm Viên - Đà Lạt").await;
    browser.type_into("#street", "12 Trần Phú").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_finds_xoai_cat_orders_with_cash_on_delivery_in_five_inputs_and_follows_the_order() {
    let app = TestApp::sqlite().await;
    let Some(mut browser) = Browser::start(&app, "buyer-cod").await else { return };
    let (farmer, _mango) = mango_farm(&app).await;

    browser.open("/").await;
    assert!(browser.text("#results").await.contains("Sầu riêng Ri6"), "the home page lists what is on sale");
    browser.look("buyer-home").await;

    // Search as you type, without accents: the results swap in and the durians are gone.
    browser.type_into("#q", "xoai cat").await;
    let results = browser.wait_for_text("#results", "Kết quả cho").await;
    assert!(results.contains("Xoài cát Hòa Lộc"), "the mangoes are found: {results}");
    assert!(!results.contains("Sầu riêng"), "a search for mangoes shows only mangoes: {results}");
    assert!(results.contains("45.000đ/kg"), "the card shows the price per unit: {results}");
    browser.tap("Xoài cát Hòa Lộc").await;
    assert!(browser.path().await.starts_with("/listings/"), "the card opens the listing");
    assert!(browser.text("main").await.contains("Nguyễn Thị Lan"), "the listing names its farmer");
    browser.look("buyer-listing").await;

    // From here on, the inputs count: the produce is chosen.
    let chosen_at = browser.inputs().len();
    browser.tap("Mua ngay").await;
    assert_eq!(browser.path().await, "/checkout");
    browser.look("buyer-checkout").await;
    deliver_to_lam_vien(&mut browser, "0912 345 678").await;
    let cod = browser.script("return document.querySelector('input[value=cod]').checked;", vec![]).await;
    assert_eq!(cod, Value::Bool(true), "cash on delivery is chosen already");
    browser.tap("Xem phí giao và tổng tiền").await;

    let review = browser.text("main").await;
    assert!(review.contains("Kiểm tra lại đơn hàng"), "the review step comes before ordering: {review}");
    assert!(review.contains("Hàng của Nguyễn Thị Lan") && review.contains("Phí giao"), "the fee per farmer: {review}");
    assert!(review.contains("Trả tiền mặt khi nhận hàng"), "the payment chosen: {review}");
    browser.look("buyer-review").await;
    browser.tap("Đặt hàng").await;

    let typed = &browser.inputs()[chosen_at..];
    assert!(typed.len() <= CHECKOUT_INPUT_BUDGET, "{} inputs after choosing the produce: {typed:#?}", typed.len());
    let code = browser.text(".notice .code").await;
    assert!(browser.path().await.starts_with(&format!("/orders/{code}")), "the order page of {code}");
    assert!(browser.text("main").await.contains("Chờ người bán xác nhận"), "waiting for the farmer");
    assert!(step_class(&browser, "Đã đặt hàng").await.is_empty(), "the first step is done");
    assert_eq!(step_class(&browser, "Người bán đã nhận").await, "todo", "the farmer has not answered yet");
    browser.look("buyer-order").await;

    // The farmer accepts (from their own page; here through the API), and the buyer sees the step done.
    let order = app.guest_view(&Value::from(code.clone()), "0912 345 678").await;
    app.accept_first_shipment(&farmer, &order).await;
    browser.open(&format!("/orders/{code}")).await;
    assert!(browser.text("main").await.contains("Người bán đã nhận đơn"), "the order says the seller accepted");
    assert!(step_class(&browser, "Người bán đã nhận").await.is_empty(), "the accepted step is done now");
    assert_eq!(step_class(&browser, "Đã lấy hàng").await, "todo", "nothing picked up yet");
    browser.axe().await;
    browser.assert_no_console_errors().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_pays_by_bank_transfer_with_the_vietqr_code_the_amount_and_the_memo() {
    let app = TestApp::sqlite().await;
    let Some(mut browser) = Browser::start(&app, "buyer-transfer").await else { return };
    let (_farmer, mango) = mango_farm(&app).await;

    // Through the basket this time: two kilos, then the delivery form from the basket.
    browser.open(&format!("/listings/{}", mango["id"])).await;
    browser.tap_on("button[data-step='1']").await;
    browser.tap("Thêm vào giỏ").await;
    assert_eq!(browser.path().await, "/basket");
    let basket = browser.text("main").await;
    assert!(basket.contains("Xoài cát Hòa Lộc") && basket.contains("90.000đ"), "2 kg at 45.000đ: {basket}");
    browser.look("buyer-basket").await;
    browser.tap("Đặt hàng").await;

    deliver_to_lam_vien(&mut browser, "0987 654 321").await;
    browser.choose("input[name=payment_method][value=bank_transfer]").await;
    browser.tap("Xem phí giao và tổng tiền").await;
    assert!(browser.text("main").await.contains("Chuyển khoản ngân hàng (mã VietQR)"), "the payment chosen");
    browser.tap("Đặt hàng").await;

    let code = browser.text(".notice .code").await;
    let order = app.guest_view(&Value::from(code.clone()), "0987 654 321").await;
    let due = &order["payment"]["vietqr"];
    let amount = format_vnd(due["amount_vnd"].as_i64().expect("an amount due"));
    let memo = due["memo"].as_str().expect("a memo");
    let transfer = browser.text("main section.panel").await;
    assert!(transfer.contains(&amount), "the exact amount {amount}: {transfer}");
    assert!(transfer.contains(memo), "the memo {memo}: {transfer}");
    let qr = browser
        .script(
            "const img = document.querySelector('img.qr');
             return img.decode().then(() => img.naturalWidth, () => 0);",
            vec![],
        )
        .await;
    assert!(qr.as_u64().is_some_and(|width| width > 0), "the VietQR image loads: natural width {qr}");
    browser.look("buyer-transfer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storefront_and_the_orders_read_in_english_after_the_toggle() {
    let app = TestApp::sqlite().await;
    let Some(mut browser) = Browser::start(&app, "buyer-english").await else { return };
    let (farmer, _mango) = mango_farm(&app).await;

    browser.open(&format!("/farmers/{}", farmer.id)).await;
    let storefront = browser.text("main").await;
    assert!(storefront.contains("Nguyễn Thị Lan") && storefront.contains("Xoài cát Hòa Lộc"), "{storefront}");
    browser.look("buyer-storefront").await;

    browser.tap("English").await;
    assert_eq!(browser.path().await, format!("/farmers/{}", farmer.id), "the toggle comes back to the page");
    let lang = browser.script("return document.documentElement.lang;", vec![]).await;
    assert_eq!(lang, "en");
    assert!(browser.text("nav.bar").await.contains("Basket"), "the bottom bar in English");
    browser.axe().await;

    browser.open("/").await;
    let placeholder = browser.script("return document.querySelector('#q').placeholder;", vec![]).await;
    assert_eq!(placeholder, "Find produce, e.g. xoai cat", "the choice is remembered on the next page");
    browser.tap("Basket").await;
    assert!(browser.text("main").await.contains("Your basket is empty."));
    browser.axe().await;
    browser.tap("Orders").await;
    assert!(browser.text("main").await.contains("No orders from this phone yet."));
    browser.axe().await;

    browser.tap("Tiếng Việt").await;
    assert!(browser.text("main").await.contains("Chưa có đơn nào đặt từ máy này."), "and back to Vietnamese");
    browser.assert_no_console_errors().await;
}
