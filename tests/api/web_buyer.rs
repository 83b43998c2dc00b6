//! The buyer's pages over HTTP, as a person uses them: search without accents, the basket, a guest
//! checkout whose errors sit beside their fields, the fees before the order is placed, the order page with
//! its timeline, VietQR for a transfer, looking an order up from another phone, cancelling.

use serde_json::json;

use crate::helpers::{TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, fresh_phone};
use crate::on_both_backends;
use crate::pages::{PageVisitor, text_of};

/// The value of the hidden field `name` on a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

on_both_backends! {
    a_guest_finds_produce_without_accents_and_orders_it_with_cash_on_delivery(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "35k/kg", "2 tạ").await;
        let id = listing["id"].as_i64().expect("id").to_string();
        let mut buyer = PageVisitor::new(&app);

        let found = buyer.get("/?q=xoai%20cat").await;
        assert_eq!(found.status, 200);
        assert!(text_of(&found.html).contains("Xoài cát Hòa Lộc 35.000đ/kg"), "{}", found.html);
        let partial = buyer.get("/?q=xoai%20cat&partial=1").await;
        assert!(partial.html.contains("Xoài cát Hòa Lộc") && !partial.html.contains("<html"), "only the results are swapped in");
        let nothing = buyer.get("/?q=sau%20rieng").await;
        assert!(text_of(&nothing.html).contains("Chưa có nông sản nào khớp"));

        let shown = buyer.get(&format!("/listings/{id}")).await;
        assert!(text_of(&shown.html).contains("còn 200 kg"), "{}", shown.html);
        let added = buyer.post("/basket", &[("listing_id", &id), ("action", "add"), ("quantity", "3"), ("then", "checkout")]).await;
        assert_eq!((added.status, added.location.as_deref()), (303, Some("/checkout")));
        let basket = buyer.get("/basket").await;
        assert!(text_of(&basket.html).contains("105.000đ"), "3 kg at 35.000đ: {}", basket.html);

        let form = buyer.get("/checkout").await;
        let key = hidden(&form.html, "idempotency_key");
        let phone = fresh_phone();
        let wrong = buyer.post("/checkout", &[("name", ""), ("phone", "12"), ("ward_text", "Da Lat"), ("street", "12 Trần Phú"), ("payment_method", "cod"), ("idempotency_key", &key), ("step", "review")]).await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.html.contains("id=\"phone-e\""), "the phone's error sits beside the phone: {}", wrong.html);
        assert!(wrong.html.contains("id=\"name-e\""), "{}", wrong.html);
        assert!(wrong.html.contains(&format!("value=\"{WARD_DA_LAT}\"")), "Đà Lạt is offered to pick: {}", wrong.html);
        buyer.cookies.insert("ns_lang".into(), "en".into());
        let english = buyer.post("/checkout", &[("name", ""), ("phone", &phone), ("ward_code", &WARD_DA_LAT.to_string()), ("street", "12 Trần Phú"), ("payment_method", "cod"), ("idempotency_key", &key), ("step", "review")]).await;
        assert_eq!(english.status, 422);
        assert!(english.html.contains("lang=\"en\""));
        buyer.cookies.remove("ns_lang");

        let fields = [("name", "Lê Mai"), ("phone", phone.as_str()), ("ward_code", &WARD_DA_LAT.to_string()), ("ward_text", "Phường Xuân Hương - Đà Lạt"), ("street", "12 Trần Phú"), ("payment_method", "cod"), ("idempotency_key", key.as_str())];
        let review = buyer.post("/checkout", &[&fields[..], &[("step", "review")]].concat()).await;
        assert_eq!(review.status, 200);
        let review_text = text_of(&review.html);
        assert!(review_text.contains("Kiểm tra lại đơn hàng") && review_text.contains("Phí giao"), "the fee shows before placing: {review_text}");
        let placed = buyer.post("/checkout", &[&fields[..], &[("step", "place")]].concat()).await;
        assert_eq!(placed.status, 303, "{}", placed.html);
        let order_path = placed.location.expect("the order page");
        let code = order_path.trim_start_matches("/orders/").trim_end_matches("?placed=1").to_owned();
        assert!(!buyer.cookies.contains_key("ns_basket"), "the basket empties once ordered");

        let order = buyer.get(&order_path).await;
        let text = text_of(&order.html);
        assert!(text.contains(&code) && text.contains("Chờ người bán xác nhận") && text.contains("Đã đặt hàng"), "{text}");

        // A second tap on “Đặt hàng” with the same page's key is the same order.
        buyer.post("/basket", &[("listing_id", &id), ("action", "add"), ("quantity", "3")]).await;
        let again = buyer.post("/checkout", &[&fields[..], &[("step", "place")]].concat()).await;
        assert_eq!(again.location.as_deref(), Some(order_path.as_str()));
        let mine = TestApp::expect_json(app.request("GET", "/api/v1/me/shipments", Some(&farmer.token)).send().await.expect("sent"), 200).await;
        assert_eq!(mine["items"].as_array().expect("items").len(), 1, "one order, not two");

        let shipment = mine["items"][0]["shipment"]["id"].as_i64().expect("shipment id");
        let accept = app.request("POST", &format!("/api/v1/shipments/{shipment}/accept"), Some(&farmer.token)).send().await.expect("sent");
        assert_eq!(accept.status(), 204);
        let accepted = text_of(&buyer.get(&format!("/orders/{code}")).await.html);
        assert!(accepted.contains("Người bán đã nhận đơn"), "{accepted}");

        // From another phone: asked for the order's phone, told plainly when it is not the one.
        let mut elsewhere = PageVisitor::new(&app);
        let asked = elsewhere.get(&format!("/orders/{code}")).await;
        assert!(text_of(&asked.html).contains("Nhập số điện thoại đã dùng khi đặt hàng") && !asked.html.contains("12 Trần Phú"));
        let wrong_phone = elsewhere.post("/orders/look-up", &[("code", &code), ("phone", "0900000000")]).await;
        assert_eq!(wrong_phone.status, 404);
        let right = elsewhere.post("/orders/look-up", &[("code", &code.to_lowercase()), ("phone", &phone)]).await;
        assert_eq!(right.location.as_deref(), Some(format!("/orders/{code}").as_str()));
        assert!(elsewhere.get(&format!("/orders/{code}")).await.html.contains("12 Trần Phú"));
        let listed = text_of(&buyer.get("/orders").await.html);
        assert!(listed.contains(&code), "{listed}");

        let cancelled = elsewhere.post(&format!("/orders/{code}/cancel"), &[]).await;
        assert_eq!(cancelled.status, 303);
        assert!(text_of(&elsewhere.get(&format!("/orders/{code}")).await.html).contains("Đơn đã hủy"));
    }

    a_transfer_order_shows_its_vietqr_code_amount_and_memo(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
        let phone = fresh_phone();
        let body = json!({
            "items": [{"listing_id": listing["id"], "quantity": 2}],
            "buyer": {"name": "Lê Mai", "phone": phone},
            "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
            "payment_method": "bank_transfer",
        });
        let order = TestApp::expect_json(app.place_order(None, "transfer-1", &body).await, 201).await;
        let code = order["code"].as_str().expect("code");
        let mut buyer = PageVisitor::new(&app);
        buyer.get("/orders").await;
        buyer.post("/orders/look-up", &[("code", code), ("phone", &phone)]).await;
        let page = buyer.get(&format!("/orders/{code}")).await;
        let text = text_of(&page.html);
        let memo = order["payment"]["vietqr"]["memo"].as_str().expect("memo");
        let amount = nongsan::domain::money::format_vnd(order["payment"]["vietqr"]["amount_vnd"].as_i64().expect("amount"));
        assert!(text.contains(memo) && text.contains(&amount), "{text}");
        assert!(page.html.contains(&format!("src=\"/orders/{code}/qr.png\"")));
        let cookie: String = buyer.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let png = app.client.get(app.url(&format!("/orders/{code}/qr.png"))).header("Cookie", cookie).send().await.expect("sent");
        assert_eq!(png.headers()["content-type"], "image/png");
        assert!(png.bytes().await.expect("png").starts_with(b"\x89PNG"));
    }
}
