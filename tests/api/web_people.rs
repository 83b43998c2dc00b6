//! The helpers' and operators' pages, driven over HTTP as a person would: log in, fill the forms, read
//! what the page says (in Vietnamese, and in English with the toggle's cookie).

use serde_json::json;

use crate::helpers::{TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, WARD_EA_KAO, fresh_phone};
use crate::on_both_backends;
use crate::pages::{PageVisitor, text_of};

/// The value of the hidden or visible `<code class="secret">` on a page.
fn secret_of(html: &str) -> String {
    let start = html.find("<code class=\"secret\">").expect("a key is shown") + "<code class=\"secret\">".len();
    html[start..].split('<').next().expect("key text").to_owned()
}

on_both_backends! {
    operator_sets_up_a_team_a_helper_a_partner_and_its_key_from_the_page(app) {
        let (email, password) = app.operator_account().await;
        let mut operator = PageVisitor::new(&app);
        let first = operator.get("/operator").await;
        assert_eq!(first.status, 200);
        assert!(text_of(&first.html).contains("Đăng nhập cho quản lý"), "{}", first.html);
        operator.log_in(&email, password, "/operator").await;

        let refused = operator.post("/operator/teams", &[("name", "Tổ Ea Kao"), ("ward_codes", "24169, 99999999")]).await;
        assert_eq!(refused.status, 422);
        assert!(text_of(&refused.html).contains("Không có các mã: [99999999]"), "{}", refused.html);
        let team = operator.post("/operator/teams", &[("name", "Tổ Ea Kao"), ("ward_codes", "24169, 24133")]).await;
        assert_eq!(team.status, 201, "{}", team.html);
        assert!(text_of(&team.html).contains("Đã tạo nhóm Tổ Ea Kao"), "{}", team.html);

        let team_id = team.html.split("<option value=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("team option").to_owned();
        let short = operator.post("/operator/helpers", &[("team_id", &team_id), ("name", "Cán bộ Hoa"), ("phone", ""), ("email", "hoa@nongsan.test"), ("password", "ngan")]).await;
        assert_eq!(short.status, 422);
        assert!(short.html.contains("id=\"helper-password-e\""), "the error sits beside the password: {}", short.html);
        let helper = operator.post("/operator/helpers", &[("team_id", &team_id), ("name", "Cán bộ Hoa"), ("phone", ""), ("email", "hoa@nongsan.test"), ("password", "mat-khau-dai")]).await;
        assert_eq!(helper.status, 201, "{}", helper.html);
        app.login("hoa@nongsan.test", "mat-khau-dai").await;

        let partner = operator.post("/operator/partners", &[("name", "Bưu điện Đắk Lắk"), ("province", "66"), ("province", "68")]).await;
        assert_eq!(partner.status, 201, "{}", partner.html);
        let partner_id = partner.html.split("name=\"partner_id\"><option value=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("partner option").to_owned();
        let key = operator.post("/operator/keys", &[("partner_id", &partner_id)]).await;
        assert_eq!(key.status, 201);
        let key = secret_of(&key.html);
        let jobs = app.client.get(app.url("/api/v1/partner/jobs")).bearer_auth(&key).send().await.expect("sent");
        assert_eq!(jobs.status(), 200, "the key shown works once, for the partner");
        let again = operator.get("/operator").await;
        assert!(!again.html.contains(&key), "a key is shown only once");

        operator.cookies.insert("ns_lang".into(), "en".into());
        let english = operator.post("/operator/partners", &[("name", "Viettel Post")]).await;
        assert_eq!(english.status, 422);
        assert!(text_of(&english.html).contains("Give 1 to 1000 codes."), "{}", english.html);
    }

    operator_forms_need_the_page_token_and_an_operator(app) {
        let mut visitor = PageVisitor::new(&app);
        visitor.get("/operator").await;
        let forged = visitor.post_without_csrf("/operator/teams", &[("name", "Tổ"), ("ward_codes", "24169")]).await;
        assert_eq!(forged.status, 403);
        assert!(text_of(&forged.html).contains("Trang này đã cũ"), "{}", forged.html);
        let anonymous = visitor.post("/operator/teams", &[("name", "Tổ"), ("ward_codes", "24169")]).await;
        assert!(text_of(&anonymous.html).contains("Đăng nhập cho quản lý"), "an anonymous post gets the log-in form");

        let operator = app.operator_token().await;
        let (_, _, _) = app.team_with_helper(&operator, &[WARD_EA_KAO]).await;
        let email = "hoang@nongsan.test";
        let body = json!({"name": "Cán bộ Hoàng", "email": email, "password": "helper-password"});
        let team = app.post("/api/v1/admin/teams", Some(&operator), &json!({"name": "Tổ 2", "ward_codes": [WARD_EA_KAO]})).await;
        let team_id = TestApp::expect_json(team, 201).await["id"].as_i64().expect("team id");
        TestApp::expect_json(app.post(&format!("/api/v1/admin/teams/{team_id}/helpers"), Some(&operator), &body).await, 201).await;
        let mut helper = PageVisitor::new(&app);
        helper.log_in(email, "helper-password", "/operator").await;
        let refused = helper.get("/operator").await;
        assert_eq!(refused.status, 403);
        assert!(text_of(&refused.html).contains("Trang này dành cho quản lý"), "{}", refused.html);
        let post = helper.post("/operator/teams", &[("name", "Tổ"), ("ward_codes", "24169")]).await;
        assert_eq!(post.status, 403);

        let wrong = visitor.post("/login", &[("login", email), ("password", "wrong-password"), ("back", "/helper")]).await;
        assert_eq!(wrong.status, 401);
        assert!(text_of(&wrong.html).contains("Đăng nhập cho cán bộ hỗ trợ"), "{}", wrong.html);
        let elsewhere = visitor.post("/login", &[("login", email), ("password", "helper-password"), ("back", "https://evil.example/")]).await;
        assert_eq!(elsewhere.location.as_deref(), Some("/"), "never sent to another site after logging in");
    }

    helper_enrols_a_household_with_consent_acts_for_it_and_resets_its_pin(app) {
        let operator = app.operator_token().await;
        let team = app.post("/api/v1/admin/teams", Some(&operator), &json!({"name": "Tổ Ea Kao", "ward_codes": [WARD_EA_KAO, WARD_BUON_MA_THUOT]})).await;
        let team_id = TestApp::expect_json(team, 201).await["id"].as_i64().expect("team id");
        let body = json!({"name": "Cán bộ Minh", "email": "minh@nongsan.test", "password": "helper-password"});
        TestApp::expect_json(app.post(&format!("/api/v1/admin/teams/{team_id}/helpers"), Some(&operator), &body).await, 201).await;

        let mut helper = PageVisitor::new(&app);
        let first = helper.get("/helper").await;
        assert!(text_of(&first.html).contains("Đăng nhập cho cán bộ hỗ trợ"));
        helper.log_in("minh@nongsan.test", "helper-password", "/helper").await;
        let home = helper.get("/helper").await;
        assert!(text_of(&home.html).contains("Chưa có hộ nào"), "{}", home.html);

        let form = helper.get("/helper/enrol").await;
        assert!(form.html.contains(&format!("value=\"{WARD_EA_KAO}\"")), "the team's communes are offered");
        assert!(!form.html.contains(&format!("value=\"{WARD_DA_LAT}\"")));
        let phone = fresh_phone();
        let ward = WARD_EA_KAO.to_string();
        let unconsented = helper.post("/helper/enrol", &[("name", "Y Bhim"), ("phone", &phone), ("ward_code", &ward), ("pin", "582047")]).await;
        assert_eq!(unconsented.status, 422);
        assert!(text_of(&unconsented.html).contains("Cần sự đồng ý của nông dân"), "{}", unconsented.html);
        assert!(!unconsented.html.contains("582047"), "the farmer's PIN is never written back into the page");
        assert!(unconsented.html.contains("value=\"Y Bhim\""), "what was typed stays");
        let enrolled = helper.post("/helper/enrol", &[("name", "Y Bhim"), ("phone", &phone), ("ward_code", &ward), ("pin", "582047"), ("consent", "yes")]).await;
        assert_eq!(enrolled.status, 201, "{}", enrolled.html);
        assert!(text_of(&enrolled.html).contains("Đã đăng ký cho Y Bhim"));
        let farmer = TestApp::expect_json(app.post("/api/v1/auth/pin-login", None, &json!({"phone": phone, "pin": "582047"})).await, 200).await;
        let farmer_id = farmer["user"]["id"].as_i64().expect("farmer id");

        let home = helper.get("/helper").await;
        assert!(text_of(&home.html).contains("Y Bhim"));
        let act = helper.post(&format!("/helper/act/{farmer_id}"), &[]).await;
        assert_eq!((act.status, act.location.as_deref()), (303, Some("/farmer")));
        assert_eq!(helper.cookies.get("ns_acting").map(String::as_str), Some(farmer_id.to_string().as_str()));
        let stop = helper.post("/helper/stop", &[]).await;
        assert_eq!(stop.location.as_deref(), Some("/helper"));
        assert!(!helper.cookies.contains_key("ns_acting"), "acting ends with “Xong”");

        let pin_path = format!("/helper/farmers/{farmer_id}/pin-reset");
        let pin_page = helper.get(&pin_path).await;
        assert!(text_of(&pin_page.html).contains("Đặt lại mã PIN cho Y Bhim"));
        let unchecked = helper.post(&pin_path, &[("new_pin", "639251")]).await;
        assert_eq!(unchecked.status, 422);
        assert!(text_of(&unchecked.html).contains("sau khi đã gặp và xác minh"), "{}", unchecked.html);
        let reset = helper.post(&pin_path, &[("new_pin", "639251"), ("identity_checked", "yes")]).await;
        assert_eq!(reset.location.as_deref(), Some("/helper?done=pin"));
        assert!(text_of(&helper.get("/helper?done=pin").await.html).contains("Đã đặt lại mã PIN"));

        // Revoked: the household says so and acting is refused, as the API refuses it.
        let helper_id = TestApp::expect_json(app.post("/api/v1/auth/login", None, &json!({"login": "minh@nongsan.test", "password": "helper-password"})).await, 200).await["user"]["id"].as_i64().expect("helper id");
        // The reset ended the farmer's sessions: they log in again with the new PIN.
        let farmer_token = TestApp::expect_json(app.post("/api/v1/auth/pin-login", None, &json!({"phone": phone, "pin": "639251"})).await, 200).await["token"].as_str().expect("token").to_owned();
        let revoke = app.request("DELETE", &format!("/api/v1/me/helpers/{helper_id}"), Some(&farmer_token)).send().await.expect("sent");
        assert_eq!(revoke.status(), 204);
        assert!(text_of(&helper.get("/helper").await.html).contains("đã thu hồi quyền làm thay"));
        let refused = helper.post(&format!("/helper/act/{farmer_id}"), &[]).await;
        assert_eq!(refused.status, 403);
        assert!(!helper.cookies.contains_key("ns_acting"));

        // Outside the team's communes: not found, whether or not the farmer exists.
        let stranger = app.farmer(WARD_DA_LAT).await;
        assert_eq!(helper.post(&format!("/helper/act/{}", stranger.id), &[]).await.status, 404);
        assert_eq!(helper.get(&format!("/helper/farmers/{}/pin-reset", stranger.id)).await.status, 404);
    }
}
