//! The community team in a real browser, on a fresh database: an operator creates a team and a helper account
//! from `/operator`; the helper enrols a farmer on the helper's phone (the farmer types the PIN on the keypad and
//! ticks the consent), lists produce for them (every page says for whom), and stops; the farmer logs in on
//! their own and sees who listed what for them.

use super::page::Browser;
use crate::helpers::{TestApp, WARD_DA_LAT};

const HELPER_PHONE: &str = "0977 000 111";
const FARMER_PHONE: &str = "0944 222 333";
const FARMER_PIN: &str = "715036";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_enrols_a_farmer_with_consent_lists_for_them_and_the_farmer_sees_it() {
    let app = TestApp::sqlite().await;
    let Some(mut browser) = Browser::start(&app, "helper").await else { return };
    let (operator_email, operator_password) = app.operator_account().await;

    // The operator: a team for Lâm Viên, and a helper in it.
    browser.open("/operator").await;
    browser.look("operator-login").await;
    browser.type_into("#login", &operator_email).await;
    browser.type_into("#password", operator_password).await;
    browser.tap("Đăng nhập").await;
    assert_eq!(browser.path().await, "/operator");
    browser.type_into("#team-name", "Tổ công nghệ số Lâm Viên").await;
    browser.type_into("#ward-codes", &WARD_DA_LAT.to_string()).await;
    browser.tap_on("form[action='/operator/teams'] button[type=submit]").await;
    assert!(browser.text("main").await.contains("Đã tạo nhóm"), "the team is made");
    browser.type_into("#helper-name", "Cán bộ Minh").await;
    browser.type_into("#helper-phone", HELPER_PHONE).await;
    browser.type_into("#helper-password", "helper-password").await;
    browser.tap_on("form[action='/operator/helpers'] button[type=submit]").await;
    assert!(browser.text("main").await.contains("Đã tạo tài khoản cán bộ"), "the helper account is made");
    browser.look("operator").await;
    browser.tap("Đăng xuất").await;

    // The helper logs in with a phone and a password.
    browser.open("/helper").await;
    browser.type_into("#login", HELPER_PHONE).await;
    browser.type_into("#password", "helper-password").await;
    browser.tap("Đăng nhập").await;
    assert_eq!(browser.path().await, "/helper");
    assert!(browser.text("main").await.contains("Chưa có hộ nào"), "no household yet");
    browser.tap("Đăng ký hộ mới").await;

    // Together with the farmer: the farmer types the PIN and ticks the consent.
    browser.type_into("#name", "Phạm Thị Thu").await;
    browser.type_into("#phone", FARMER_PHONE).await;
    browser.choose_labelled("Phường Lâm Viên").await;
    browser.tap_keypad(FARMER_PIN).await;
    browser.choose_labelled("Tôi đồng ý để nhóm hỗ trợ").await;
    browser.look("helper-enrol").await;
    browser.tap("Đăng ký").await;
    assert!(browser.text("main").await.contains("Đã đăng ký cho Phạm Thị Thu"), "the household is enrolled");
    browser.look("helper-enrolled").await;

    // Acting for the farmer: the banner names her on every page, and a sentence makes the listing.
    browser.tap("Đăng bán giúp Phạm Thị Thu").await;
    assert_eq!(browser.path().await, "/farmer");
    assert!(browser.text("body").await.contains("Đang làm thay: Phạm Thị Thu"), "the banner says for whom");
    browser.tap_on("nav.bar a[href='/farmer/listings/new']").await;
    browser.type_into("#sentence", "Bơ sáp 40k/kg còn 100kg").await;
    browser.tap("Xem lại trước khi đăng").await;
    assert!(browser.text("body").await.contains("Đang làm thay: Phạm Thị Thu"), "still for her on the check");
    browser.look("helper-acting-confirm").await;
    browser.tap("Đúng rồi, đăng bán").await;
    assert!(browser.text("main").await.contains("Bơ sáp"), "her produce is on sale");
    browser.tap("Xong").await;
    assert_eq!(browser.path().await, "/helper", "done: back to the team's households");
    let households = browser.text("main").await;
    assert!(households.contains("Phạm Thị Thu") && households.contains("Bạn đăng ký"), "{households}");
    browser.look("helper-home").await;
    browser.tap("Đăng xuất").await;

    // The farmer, on her own phone later: who did what for her.
    browser.open("/farmer").await;
    browser.type_into("#phone", FARMER_PHONE).await;
    browser.tap_keypad(FARMER_PIN).await;
    browser.tap("Vào").await;
    assert_eq!(browser.path().await, "/farmer");
    browser.tap("Ai đã làm thay tôi").await;
    let audit = browser.text("main").await;
    assert!(audit.contains("Cán bộ Minh"), "the helper is named: {audit}");
    assert!(audit.contains("Đăng ký tài khoản cho bạn") && audit.contains("Đăng bán hàng"), "what was done: {audit}");
    browser.look("farmer-helpers").await;
}
