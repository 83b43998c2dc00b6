//! Operators look things up (issue 17): orders by the buyer's phone typed any way, by status, province and
//! days, read whole and audited; farmers, helpers, teams, partners and their keys, listings and the helpers'
//! audit log, each paged; a listing hidden with a reason leaves the catalogue and the farmer is told.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{
    Farmer, TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, assert_problem, fresh_phone, guest_order, random_suffix,
};
use crate::on_both_backends;
use crate::pages::PageVisitor;
use nongsan::db::schema::orders;

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    TestApp::expect_json(app.request("GET", path, Some(token)).send().await.expect("sent"), 200).await
}

async fn refused(app: &TestApp, token: &str, path: &str, code: &str) -> Value {
    assert_problem(app.request("GET", path, Some(token)).send().await.expect("sent"), 422, code).await
}

/// How many listings buyers find for `words`.
async fn searched(app: &TestApp, words: &str) -> usize {
    app.get_json(&format!("/api/v1/listings?q={words}")).await["items"].as_array().map_or(0, Vec::len)
}

fn codes_of(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|o| o["code"].as_str().expect("code").to_owned()).collect()
}

/// `0912 345 678` as `+84912345678`, percent-encoded for a query.
fn international(phone: &str) -> String {
    format!("%2B84{}", &phone.replace(' ', "")[1..])
}

/// A farmer of Buôn Ma Thuột, their avocado listing, and a guest's order of 2 kg of it to Đà Lạt: (farmer,
/// listing, the guest's phone as typed, order code).
async fn avocado_order(app: &TestApp) -> (Farmer, Value, String, String) {
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    let listing = app.listing(&farmer.token, "Bơ sáp Đắk Lắk", "50k/kg", "40 kg").await;
    let phone = fresh_phone();
    let order = guest_order(&listing["id"], 2, &phone);
    let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &order).await, 201).await;
    let code = placed["code"].as_str().expect("code").to_owned();
    (farmer, listing, phone, code)
}

/// Today in Vietnam, as `YYYY-MM-DD`, shifted by `days`.
fn vietnam_day(app: &TestApp, days: i64) -> String {
    (app.clock.now() + Duration::hours(7) + Duration::days(days)).format("%Y-%m-%d").to_string()
}

on_both_backends! {
    an_operator_finds_an_order_by_the_buyers_phone_typed_differently_and_the_read_is_audited(app) {
        let operator = app.operator_token().await;
        let (farmer, listing, phone, code) = avocado_order(&app).await;
        let other = guest_order(&listing["id"], 1, &fresh_phone());
        TestApp::expect_json(app.place_order(None, &random_suffix(), &other).await, 201).await;

        // Typed as it was given, in international form, or with dashes: the same one order.
        let typed = phone.replace(' ', "%20");
        let dashed = format!("84-{}", &phone.replace(' ', "-")[1..]);
        for phone in [typed, international(&phone), dashed] {
            let found = get(&app, &operator, &format!("/api/v1/admin/orders?phone={phone}")).await;
            assert_eq!(codes_of(&found), vec![code.clone()], "phone {phone}");
            assert_eq!(found["items"][0]["buyer_name"], "Lê Mai");
        }
        // The code typed loosely finds it too; both orders are listed without a filter.
        let loose = code.replace('-', " ").to_lowercase().replace(' ', "%20");
        assert_eq!(codes_of(&get(&app, &operator, &format!("/api/v1/admin/orders?code={loose}")).await), vec![code.clone()]);
        assert_eq!(codes_of(&get(&app, &operator, "/api/v1/admin/orders").await).len(), 2);

        // Reading it shows everything, and is in the operators' audit log.
        let read = get(&app, &operator, &format!("/api/v1/admin/orders/{}", code.to_lowercase())).await;
        assert_eq!(read["order"]["code"], code.as_str());
        assert_eq!(read["buyer"]["phone"], format!("+84{}", &phone.replace(' ', "")[1..]));
        assert_eq!(read["buyer"]["email"], "mai@example.vn");
        assert_eq!(read["order"]["street"], "12 Trần Phú");
        assert_eq!(read["order"]["shipments"][0]["lines"][0]["title"], "Bơ sáp Đắk Lắk");
        assert_eq!(read["farmers"][0]["id"], farmer.id);
        assert!(read["farmers"][0]["phone"].as_str().is_some_and(|p| p.starts_with("+84")), "{read}");
        assert_eq!(read["order"]["payment"]["method"], "cod");
        assert!(read["jobs"].as_array().is_some() && read["refunds"].as_array().is_some(), "{read}");
        let audit = get(&app, &operator, "/api/v1/admin/audit").await;
        assert_eq!(audit["items"][0]["action"], "read_order");
        assert_eq!(audit["items"][0]["subject"], "order");
        let audit_of_order = get(&app, &operator, &format!("/api/v1/admin/audit?subject=order&subject_id={}", audit["items"][0]["subject_id"])).await;
        assert_eq!(audit_of_order["items"].as_array().map(Vec::len), Some(1));

        // No such order, and a non-operator.
        let missing = app.request("GET", "/api/v1/admin/orders/NS-222-222-222", Some(&operator)).send().await.expect("sent");
        assert_problem(missing, 404, "not_found").await;
        let farmer_reads = app.request("GET", &format!("/api/v1/admin/orders/{code}"), Some(&farmer.token)).send().await.expect("sent");
        assert_eq!(farmer_reads.status(), 403);
    }

    orders_are_filtered_by_status_province_and_vietnam_days_and_paged(app) {
        let operator = app.operator_token().await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Sầu riêng Ri6", "80k/kg", "40 kg").await;
        let mut codes = Vec::new();
        for _ in 0..3 {
            let order = guest_order(&listing["id"], 1, &fresh_phone());
            let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &order).await, 201).await;
            codes.push(placed["code"].as_str().expect("code").to_owned());
        }
        // Those three were placed three days ago.
        let (codes_then, then) = (codes.clone(), app.clock.now() - Duration::days(3));
        app.db
            .write(move |conn| Ok(nongsan::with_conn!(conn, |c| diesel::update(orders::table.filter(orders::code.eq_any(&codes_then)))
                .set(orders::created_at.eq(then))
                .execute(c))?))
            .await
            .expect("backdated");
        let mut later = guest_order(&listing["id"], 1, &fresh_phone());
        later["address"]["ward_code"] = json!(WARD_BUON_MA_THUOT);
        let later = TestApp::expect_json(app.place_order(None, &random_suffix(), &later).await, 201).await;
        let later_code = later["code"].as_str().expect("code").to_owned();

        // Days, Vietnam time, both ends included.
        let day = vietnam_day(&app, -3);
        let on_the_day = get(&app, &operator, &format!("/api/v1/admin/orders?from={day}&to={day}")).await;
        assert_eq!(codes_of(&on_the_day).len(), 3);
        let until = get(&app, &operator, &format!("/api/v1/admin/orders?to={}", vietnam_day(&app, -1))).await;
        assert_eq!(codes_of(&until).len(), 3);
        let since = get(&app, &operator, &format!("/api/v1/admin/orders?from={}", vietnam_day(&app, 0))).await;
        assert_eq!(codes_of(&since), vec![later_code.clone()]);

        // Province of the delivery address: Đà Lạt's three, Buôn Ma Thuột's one.
        let all = get(&app, &operator, "/api/v1/admin/orders").await;
        let province_of = |code: &str| {
            all["items"].as_array().expect("items").iter().find(|o| o["code"] == code).expect("listed")["province"]["code"]
                .as_i64()
                .expect("province")
        };
        let (da_lat, dak_lak) = (province_of(&codes[0]), province_of(&later_code));
        assert_ne!(da_lat, dak_lak);
        assert_eq!(codes_of(&get(&app, &operator, &format!("/api/v1/admin/orders?province={dak_lak}")).await), vec![later_code.clone()]);
        assert_eq!(codes_of(&get(&app, &operator, &format!("/api/v1/admin/orders?province={da_lat}")).await).len(), 3);

        // Status: cancel one.
        let cancelled = app.guest_cancel_first(&codes, &operator).await;
        let found = get(&app, &operator, "/api/v1/admin/orders?status=cancelled").await;
        assert_eq!(codes_of(&found), vec![cancelled]);
        assert_eq!(codes_of(&get(&app, &operator, "/api/v1/admin/orders?status=placed").await).len(), 3);

        // Pages of two, newest first, chained by the cursor.
        let first = get(&app, &operator, "/api/v1/admin/orders?limit=2").await;
        assert_eq!(codes_of(&first), vec![later_code.clone(), codes[2].clone()]);
        let cursor = first["next_cursor"].as_str().expect("another page");
        let second = get(&app, &operator, &format!("/api/v1/admin/orders?limit=2&cursor={cursor}")).await;
        assert_eq!(codes_of(&second), vec![codes[1].clone(), codes[0].clone()]);
        assert!(second["next_cursor"].is_null());

        // Bad filters are 422s on their field.
        for (query, field) in [
            ("phone=0123", "phone"),
            ("phone=abc", "phone"),
            ("code=NS-222-222-223", "code"),
            ("province=9999", "province"),
            ("status=lost", "status"),
            ("from=2026-13-01", "from"),
            ("from=2026-12-05&to=2026-12-04", "to"),
            ("limit=0", "limit"),
        ] {
            let problem = refused(&app, &operator, &format!("/api/v1/admin/orders?{query}"), "validation_failed").await;
            assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
        }
        let english = app.request("GET", "/api/v1/admin/orders?phone=abc", Some(&operator))
            .header("Accept-Language", "en").send().await.expect("sent");
        let problem = assert_problem(english, 422, "validation_failed").await;
        assert!(problem["errors"][0]["message"].as_str().is_some_and(|m| m.contains("digits")), "{problem}");
    }
}

impl TestApp {
    /// The buyer of the first order cancels it (as a guest, with their phone): its code.
    async fn guest_cancel_first(&self, codes: &[String], operator: &str) -> String {
        let read = get(self, operator, &format!("/api/v1/admin/orders/{}", codes[0])).await;
        let phone = read["buyer"]["phone"].as_str().expect("phone").replace('+', "%2B");
        let cancel = self
            .request("POST", &format!("/api/v1/orders/{}/cancel?phone={phone}", codes[0]), None)
            .send()
            .await
            .expect("sent");
        assert_eq!(cancel.status(), 200, "{}", cancel.text().await.unwrap_or_default());
        codes[0].clone()
    }
}

on_both_backends! {
    each_list_route_returns_what_it_should_and_pages(app) {
        let operator = app.operator_token().await;
        let (team_id, helper_id, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let (other_team, _, _) = app.team_with_helper(&operator, &[WARD_DA_LAT]).await;
        let mut farmers = Vec::new();
        for _ in 0..3 {
            farmers.push(app.farmer(WARD_BUON_MA_THUOT).await);
        }
        let far = app.farmer(WARD_DA_LAT).await;
        app.consent(&farmers[0].token, team_id).await;
        // The helper lists for the first farmer: a line in the helpers' audit log.
        let for_farmer = app.request("POST", "/api/v1/listings", Some(&helper))
            .header("X-On-Behalf-Of", farmers[0].id.to_string())
            .json(&json!({"title": "Xoài cát Hòa Lộc", "price": "25k", "quantity": "2 tạ"}));
        TestApp::expect_json(for_farmer.send().await.expect("sent"), 201).await;
        let look = app.request("GET", "/api/v1/me/listings", Some(&helper)).header("X-On-Behalf-Of", farmers[0].id.to_string());
        assert_eq!(look.send().await.expect("sent").status(), 200);
        let paused = app.listing(&far.token, "Dâu tây Đà Lạt", "150k", "20 kg").await;
        let pause = app.request("PATCH", &format!("/api/v1/listings/{}", paused["id"]), Some(&far.token))
            .json(&json!({"status": "paused"}));
        assert_eq!(pause.send().await.expect("sent").status(), 200);

        // Farmers: by province, commune, phone typed another way; paged.
        let ids = |page: &Value| page["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect::<Vec<_>>();
        assert_eq!(ids(&get(&app, &operator, "/api/v1/admin/farmers?province=66").await).len(), 3);
        assert_eq!(ids(&get(&app, &operator, &format!("/api/v1/admin/farmers?ward={WARD_DA_LAT}")).await), vec![far.id]);
        let by_phone = get(&app, &operator, &format!("/api/v1/admin/farmers?phone={}", international(&farmers[1].phone))).await;
        assert_eq!(ids(&by_phone), vec![farmers[1].id]);
        assert_eq!(by_phone["items"][0]["ward"]["code"], WARD_BUON_MA_THUOT);
        let first = get(&app, &operator, "/api/v1/admin/farmers?limit=3").await;
        assert_eq!(ids(&first), vec![far.id, farmers[2].id, farmers[1].id]);
        let next = get(&app, &operator, &format!("/api/v1/admin/farmers?limit=3&cursor={}", first["next_cursor"].as_str().expect("more"))).await;
        assert_eq!(ids(&next), vec![farmers[0].id]);
        assert!(next["next_cursor"].is_null());
        for (query, field) in [("province=9999", "province"), ("ward=1", "ward"), ("phone=12", "phone")] {
            let problem = refused(&app, &operator, &format!("/api/v1/admin/farmers?{query}"), "validation_failed").await;
            assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
        }

        // One farmer whole: their consent to the team, their listings, not suspended.
        let whole = get(&app, &operator, &format!("/api/v1/admin/farmers/{}", farmers[0].id)).await;
        assert_eq!(whole["consents"][0]["team"]["id"], team_id);
        assert_eq!(whole["listings"], 1);
        assert!(whole["farmer"]["suspended_at"].is_null());
        let missing = app.request("GET", &format!("/api/v1/admin/farmers/{helper_id}"), Some(&operator)).send().await.expect("sent");
        assert_problem(missing, 404, "not_found").await;

        // Helpers with their team; teams with their communes and helpers.
        let helpers = get(&app, &operator, &format!("/api/v1/admin/helpers?team_id={team_id}")).await;
        assert_eq!(ids(&helpers), vec![helper_id]);
        assert_eq!(helpers["items"][0]["team"]["id"], team_id);
        assert_eq!(ids(&get(&app, &operator, "/api/v1/admin/helpers?q=Minh").await).len(), 2);
        let teams = get(&app, &operator, "/api/v1/admin/teams").await;
        assert_eq!(ids(&teams), vec![other_team, team_id]);
        assert_eq!(teams["items"][1]["wards"][0]["code"], WARD_BUON_MA_THUOT);
        assert_eq!(teams["items"][1]["helpers"][0]["id"], helper_id);
        assert_eq!(ids(&get(&app, &operator, "/api/v1/admin/teams?limit=1").await).len(), 1);

        // Partners with their keys: prefixes and dates, never a key.
        let (partner_id, key_id, key) = app.partner(&operator, &[66]).await;
        let (spare_id, spare) = app.new_key(&operator, partner_id).await;
        let revoke = app.request("DELETE", &format!("/api/v1/admin/partners/{partner_id}/keys/{spare_id}"), Some(&operator));
        assert_eq!(revoke.send().await.expect("sent").status(), 204);
        let partners = get(&app, &operator, "/api/v1/admin/partners").await;
        let keys = partners["items"][0]["keys"].as_array().expect("keys");
        assert_eq!((keys[0]["id"].as_i64(), keys[1]["id"].as_i64()), (Some(key_id), Some(spare_id)));
        assert!(keys[0]["revoked_at"].is_null() && keys[1]["revoked_at"].is_string(), "{partners}");
        assert!(key.starts_with(keys[0]["prefix"].as_str().expect("prefix")));
        let text = partners.to_string();
        assert!(!text.contains(&key) && !text.contains(&spare) && !text.contains("hash"), "{text}");
        assert_eq!(partners["items"][0]["provinces"][0]["code"], 66);

        // Listings of any status, found without accents, by farmer, province and status.
        let found = get(&app, &operator, "/api/v1/admin/listings?q=xoai%20cat").await;
        assert_eq!(found["items"][0]["title"], "Xoài cát Hòa Lộc");
        assert_eq!(ids(&get(&app, &operator, &format!("/api/v1/admin/listings?farmer_id={}", far.id)).await), vec![paused["id"].as_i64().expect("id")]);
        assert_eq!(ids(&get(&app, &operator, "/api/v1/admin/listings?status=paused").await).len(), 1);
        assert_eq!(ids(&get(&app, &operator, "/api/v1/admin/listings?province=66").await).len(), 1);
        assert_eq!(ids(&get(&app, &operator, "/api/v1/admin/listings?limit=1").await).len(), 1);
        refused(&app, &operator, "/api/v1/admin/listings?status=gone", "validation_failed").await;

        // Refunds owed are the existing route's.
        assert!(get(&app, &operator, "/api/v1/admin/refunds").await["items"].as_array().is_some());

        // The helpers' audit log: by farmer, by helper, by days.
        let acts = get(&app, &operator, &format!("/api/v1/admin/helper-audit?farmer_id={}", farmers[0].id)).await;
        let actions: Vec<&str> = acts["items"].as_array().expect("items").iter().filter_map(|a| a["action"].as_str()).collect();
        assert!(actions.contains(&"create_listing"), "{acts}");
        assert_eq!(acts["items"][0]["helper"]["id"], helper_id);
        assert_eq!(acts["items"][0]["farmer"]["id"], farmers[0].id);
        let by_helper = get(&app, &operator, &format!("/api/v1/admin/helper-audit?actor_id={helper_id}")).await;
        assert_eq!(by_helper["items"].as_array().map(Vec::len), acts["items"].as_array().map(Vec::len));
        let today = vietnam_day(&app, 0);
        assert_eq!(get(&app, &operator, &format!("/api/v1/admin/helper-audit?from={today}&to={today}")).await["items"].as_array().map(Vec::len), acts["items"].as_array().map(Vec::len));
        let tomorrow = vietnam_day(&app, 1);
        assert_eq!(get(&app, &operator, &format!("/api/v1/admin/helper-audit?from={tomorrow}")).await["items"].as_array().map(Vec::len), Some(0));
        let reversed = refused(&app, &operator, &format!("/api/v1/admin/helper-audit?from={tomorrow}&to={today}"), "validation_failed").await;
        assert_eq!(reversed["errors"][0]["field"], "to");
        let one = get(&app, &operator, "/api/v1/admin/helper-audit?limit=1").await;
        assert!(one["next_cursor"].is_string(), "{one}");
    }

    a_hidden_listing_leaves_the_catalogue_the_farmer_is_told_and_cannot_put_it_back(app) {
        let operator = app.operator_token().await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "25k", "2 tạ").await;
        let id = listing["id"].as_i64().expect("id");
        assert_eq!(searched(&app, "xoai").await, 1);
        let hide = |reason: Value, token: &str| {
            app.request("POST", &format!("/api/v1/admin/listings/{id}/hide"), Some(token)).json(&json!({"reason": reason})).send()
        };

        // Only operators, with a reason of 3 to 300 characters, of a listing that exists.
        assert_eq!(hide(json!("Ảnh giả"), &farmer.token).await.expect("sent").status(), 403);
        for reason in [json!("ab"), json!("   "), json!("x".repeat(301)), Value::Null] {
            let problem = assert_problem(hide(reason.clone(), &operator).await.expect("sent"), 422, "validation_failed").await;
            assert_eq!(problem["errors"][0]["field"], "reason", "{reason}: {problem}");
        }
        let none = app.request("POST", "/api/v1/admin/listings/999999/hide", Some(&operator)).json(&json!({"reason": "Ảnh giả"}));
        assert_problem(none.send().await.expect("sent"), 404, "not_found").await;

        let reason = "Ảnh không phải hàng thật";
        let hidden = TestApp::expect_json(hide(json!(reason), &operator).await.expect("sent"), 200).await;
        assert_eq!((hidden["status"].as_str(), hidden["hidden_reason"].as_str()), (Some("paused"), Some(reason)));

        // Gone for buyers: search, catalogue, its page (API and web).
        assert_eq!(searched(&app, "xoai").await, 0);
        assert_eq!(app.get_json("/api/v1/listings").await["items"].as_array().map(Vec::len), Some(0));
        assert_eq!(app.get(&format!("/api/v1/listings/{id}")).await.status(), 404);
        assert_eq!(app.get(&format!("/listings/{id}")).await.status(), 404);
        let order = guest_order(&listing["id"], 1, &fresh_phone());
        assert!(app.place_order(None, &random_suffix(), &order).await.status().is_client_error());

        // The farmer is told, sees why in their list, and cannot put it back on sale.
        let told = get(&app, &farmer.token, "/api/v1/me/notifications").await;
        let message = told["items"].as_array().expect("items").iter().find(|n| n["kind"] == "listing_hidden").expect("told").clone();
        assert!(message["text"].as_str().is_some_and(|t| t.contains(reason) && t.contains("Xoài cát Hòa Lộc")), "{message}");
        assert_eq!(get(&app, &farmer.token, "/api/v1/me/listings").await["items"][0]["hidden_reason"], reason);
        let resume = app.request("PATCH", &format!("/api/v1/listings/{id}"), Some(&farmer.token)).json(&json!({"status": "active"}));
        assert_problem(resume.send().await.expect("sent"), 409, "listing_hidden").await;
        let price = app.request("PATCH", &format!("/api/v1/listings/{id}"), Some(&farmer.token)).json(&json!({"price": "30k"}));
        assert_eq!(price.send().await.expect("sent").status(), 200, "other edits are still theirs");
        let unhide_as_farmer = app.request("POST", &format!("/api/v1/admin/listings/{id}/unhide"), Some(&farmer.token));
        assert_eq!(unhide_as_farmer.send().await.expect("sent").status(), 403);
        assert_eq!(app.get(&format!("/api/v1/listings/{id}")).await.status(), 404);

        // Both acts are in the operators' audit log, the hiding with its reason.
        let shown = app.request("POST", &format!("/api/v1/admin/listings/{id}/unhide"), Some(&operator)).send().await.expect("sent");
        let shown = TestApp::expect_json(shown, 200).await;
        assert!(shown["hidden_reason"].is_null() && shown["status"] == "active", "{shown}");
        assert_eq!(searched(&app, "xoai").await, 1);
        let audit = get(&app, &operator, &format!("/api/v1/admin/audit?subject=listing&subject_id={id}")).await;
        assert_eq!(audit["items"][0]["action"], "unhide_listing");
        assert_eq!((audit["items"][1]["action"].as_str(), audit["items"][1]["reason"].as_str()), (Some("hide_listing"), Some(reason)));

        // A listing the farmer had paused stays paused once shown again.
        let pause = app.request("PATCH", &format!("/api/v1/listings/{id}"), Some(&farmer.token)).json(&json!({"status": "paused"}));
        assert_eq!(pause.send().await.expect("sent").status(), 200);
        TestApp::expect_json(hide(json!(reason), &operator).await.expect("sent"), 200).await;
        let shown = app.request("POST", &format!("/api/v1/admin/listings/{id}/unhide"), Some(&operator)).send().await.expect("sent");
        assert_eq!(TestApp::expect_json(shown, 200).await["status"], "paused");

        // Suspending and reinstating the farmer does not bring a hidden listing back; shown again while the
        // farmer is suspended, it waits for the reinstatement.
        let resume = app.request("PATCH", &format!("/api/v1/listings/{id}"), Some(&farmer.token)).json(&json!({"status": "active"}));
        assert_eq!(resume.send().await.expect("sent").status(), 200);
        let suspension = format!("/api/v1/admin/suspensions/farmer/{}", farmer.id);
        let suspend = || app.request("PUT", &suspension, Some(&operator)).json(&json!({"reason": "Kiểm tra"})).send();
        let reinstate = || app.request("DELETE", &suspension, Some(&operator)).send();
        assert_eq!(suspend().await.expect("sent").status(), 200);
        TestApp::expect_json(hide(json!(reason), &operator).await.expect("sent"), 200).await;
        assert_eq!(reinstate().await.expect("sent").status(), 200);
        assert_eq!(searched(&app, "xoai").await, 0, "still hidden after the reinstatement");
        assert_eq!(suspend().await.expect("sent").status(), 200);
        let shown = app.request("POST", &format!("/api/v1/admin/listings/{id}/unhide"), Some(&operator)).send().await.expect("sent");
        assert_eq!(TestApp::expect_json(shown, 200).await["status"], "paused");
        assert_eq!(searched(&app, "xoai").await, 0, "the farmer is still suspended");
        assert_eq!(reinstate().await.expect("sent").status(), 200);
        assert_eq!(searched(&app, "xoai").await, 1);
    }
}

on_both_backends! {
    an_operator_finds_an_order_by_phone_on_the_page_reads_it_and_hides_a_listing_from_it(app) {
        let operator = app.operator_token().await;
        let (farmer, listing, phone, code) = avocado_order(&app).await;
        let mut browser = PageVisitor::with_session(&app, &operator).await;
        browser.get("/operator").await.assert_shows("href=\"/operator/orders\"");

        // One box: the phone typed another way finds the order; neither a code nor a phone is said beside it.
        let found = browser.get(&format!("/operator/orders?q={}", international(&phone))).await;
        found.assert_shows(&format!("href=\"/operator/orders/{code}\""));
        let wrong = browser.get("/operator/orders?q=xoai").await;
        assert_eq!(wrong.status, 422);
        wrong.assert_shows("id=\"q-e\"");

        // The order whole, and the read is audited.
        let read = browser.get(&format!("/operator/orders/{code}")).await;
        read.assert_shows("12 Trần Phú");
        read.assert_shows(&format!("href=\"/operator/listings/{}\"", listing["id"]));
        let audit = get(&app, &operator, "/api/v1/admin/audit?subject=order").await;
        assert_eq!(audit["items"][0]["action"], "read_order");

        // Hide the listing from its page: a short reason is said beside the field, then it is hidden.
        let path = format!("/operator/listings/{}", listing["id"]);
        browser.get(&path).await.assert_shows("id=\"hide-reason\"");
        let short = browser.post(&format!("{path}/hide"), &[("reason", "x")]).await;
        assert_eq!(short.status, 422);
        short.assert_shows("id=\"hide-reason-e\"");
        let hidden = browser.post(&format!("{path}/hide"), &[("reason", "Hàng không đúng ảnh")]).await;
        assert_eq!(hidden.status, 200);
        hidden.assert_shows("Hàng không đúng ảnh");
        assert_eq!(searched(&app, "bo%20sap").await, 0);
        let mut own = PageVisitor::with_session(&app, &farmer.token).await;
        own.get("/farmer/listings").await.assert_shows("Hàng không đúng ảnh");
        let shown = browser.post(&format!("{path}/unhide"), &[("show", "1")]).await;
        assert_eq!(shown.status, 200);
        assert_eq!(searched(&app, "bo%20sap").await, 1);
    }
}
