//! Money and stock are right on every path: an order's status follows its shipments to the end, what is
//! still due and what is owed back are on the order, no payment is asked for what will not be delivered,
//! refunds are tracked to done, and a COD shortfall stays visible until an operator resolves it.

use serde_json::{Value, json};

use crate::helpers::{
    PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, assert_problem, fresh_phone, phone_param, random_suffix,
};
use crate::on_both_backends;

/// A guest's order of one unit of each listing, to Đà Lạt, with an email to read what they are told.
fn order_of(listings: &[&Value], email: &str, phone: &str, method: &str) -> Value {
    let items: Vec<Value> = listings.iter().map(|l| json!({"listing_id": l["id"], "quantity": 1})).collect();
    json!({
        "items": items,
        "buyer": {"name": "Lê Mai", "phone": phone, "email": email},
        "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
        "payment_method": method,
    })
}

fn amount(shipment: &Value) -> i64 {
    shipment["items_total_vnd"].as_i64().expect("items") + shipment["fee_vnd"].as_i64().expect("fee")
}

on_both_backends! {
    a_paid_order_rejected_whole_is_cancelled_and_owes_the_full_amount_back(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let coffee = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
        let (email, phone) = (format!("mai-{}@example.vn", random_suffix()), fresh_phone());
        let body = order_of(&[&coffee], &email, &phone, "bank_transfer");
        let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
        let total = placed["total_vnd"].as_i64().expect("total");
        assert_eq!((placed["due_vnd"].as_i64(), placed["payment"]["vietqr"]["amount_vnd"].as_i64()), (Some(total), Some(total)));
        let operator = app.operator_token().await;
        app.mark_paid(&operator, &placed).await;
        assert_eq!(app.reject_shipment(&farmer, &placed["shipments"][0]["id"], "Hàng bị mưa hỏng").await.status(), 204);

        let seen = app.guest_view(&placed["code"], &phone).await;
        assert_eq!(seen["status"], "cancelled");
        assert_eq!((seen["total_vnd"].as_i64(), seen["due_vnd"].as_i64()), (Some(total), Some(0)), "what was ordered stays");
        assert_eq!(seen["refunds"], json!([{"shipment_id": placed["shipments"][0]["id"], "amount_vnd": total, "status": "owed"}]));
        let qr = app.get(&format!("/api/v1/orders/{}/qr.png?phone={}", placed["code"].as_str().expect("code"), phone_param(&phone))).await;
        assert_problem(qr, 409, "no_payment_due").await;

        let mails = app.emails_to(&email).await;
        let ended = mails.iter().find(|m| m.subject.contains("không nhận")).expect("the rejection email");
        assert!(!ended.subject.contains("một phần"), "the whole order was rejected: {ended:?}");
        assert!(ended.body.contains(&format!("hoàn lại {}", nongsan::domain::money::format_vnd(total))), "{ended:?}");

        let owed = app.request("GET", "/api/v1/admin/refunds", Some(&operator)).send().await.expect("sent");
        let owed = TestApp::expect_json(owed, 200).await;
        let refund = owed["items"].as_array().expect("items").iter().find(|r| r["order_code"] == placed["code"]).expect("listed").clone();
        assert_eq!((refund["amount_vnd"].as_i64(), refund["status"].as_str()), (Some(total), Some("owed")));
        let done = format!("/api/v1/admin/refunds/{}/done", refund["id"]);
        let first = TestApp::expect_json(app.request("POST", &done, Some(&operator)).send().await.expect("sent"), 200).await;
        let again = TestApp::expect_json(app.request("POST", &done, Some(&operator)).send().await.expect("sent"), 200).await;
        assert_eq!((first["status"].as_str(), &first), (Some("done"), &again), "marking it done twice changes nothing");
        let left = TestApp::expect_json(app.request("GET", "/api/v1/admin/refunds", Some(&operator)).send().await.expect("sent"), 200).await;
        assert!(left["items"].as_array().expect("items").iter().all(|r| r["id"] != refund["id"]), "done refunds leave the owed list");
        assert_eq!(app.guest_view(&placed["code"], &phone).await["refunds"][0]["status"], "done");
        let unknown = app.request("POST", "/api/v1/admin/refunds/999999999/done", Some(&operator)).send().await.expect("sent");
        assert_problem(unknown, 404, "not_found").await;
    }

    a_paid_order_rejected_in_part_owes_back_exactly_that_shipment(app) {
        let dak_lak = app.farmer(WARD_BUON_MA_THUOT).await;
        let lam_dong = app.farmer(WARD_DA_LAT).await;
        let coffee = app.listing(&dak_lak.token, "Cà phê Robusta", "120k", "50 kg").await;
        let strawberries = app.listing(&lam_dong.token, "Dâu tây Đà Lạt", "150k", "20 kg").await;
        let (email, phone) = (format!("mai-{}@example.vn", random_suffix()), fresh_phone());
        let body = order_of(&[&coffee, &strawberries], &email, &phone, "bank_transfer");
        let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
        let operator = app.operator_token().await;
        app.mark_paid(&operator, &placed).await;
        let shipments = placed["shipments"].as_array().expect("shipments");
        let rejected = shipments.iter().find(|s| s["farmer"]["id"] == dak_lak.id).expect("shipment");
        let kept = shipments.iter().find(|s| s["farmer"]["id"] == lam_dong.id).expect("shipment");
        assert_eq!(app.reject_shipment(&dak_lak, &rejected["id"], "Hết hàng").await.status(), 204);
        let again = app.reject_shipment(&dak_lak, &rejected["id"], "Hết hàng").await;
        assert_problem(again, 409, "shipment_state").await;

        let seen = app.guest_view(&placed["code"], &phone).await;
        assert_eq!(seen["status"], "placed", "the other farmer has still to answer");
        assert_eq!(seen["refunds"], json!([{"shipment_id": rejected["id"], "amount_vnd": amount(rejected), "status": "owed"}]));
        app.accept_first_shipment(&lam_dong, &json!({"shipments": [kept]})).await;
        assert_eq!(app.guest_view(&placed["code"], &phone).await["status"], "confirmed");
        let mails = app.emails_to(&email).await;
        assert!(mails.iter().any(|m| m.subject.contains("một phần")), "{mails:?}");

        // Cancelling the rest owes it back too, once.
        let code = placed["code"].as_str().expect("code");
        let cancel = format!("/api/v1/orders/{code}/cancel?phone={}", phone_param(&phone));
        let cancelled = TestApp::expect_json(app.post(&cancel, None, &json!({})).await, 200).await;
        assert_eq!(cancelled["status"], "cancelled");
        let refunds: Vec<(i64, i64)> = cancelled["refunds"].as_array().expect("refunds").iter()
            .map(|r| (r["shipment_id"].as_i64().expect("id"), r["amount_vnd"].as_i64().expect("amount"))).collect();
        assert_eq!(refunds.len(), 2);
        assert_eq!(refunds.iter().map(|r| r.1).sum::<i64>(), placed["total_vnd"].as_i64().expect("total"), "nothing refunded twice");
        assert_problem(app.post(&cancel, None, &json!({})).await, 409, "order_not_cancellable").await;
    }

    an_unpaid_transfer_order_nobody_will_deliver_asks_for_no_payment(app) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let coffee = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
        let (email, phone) = (format!("mai-{}@example.vn", random_suffix()), fresh_phone());
        let body = order_of(&[&coffee], &email, &phone, "bank_transfer");
        let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
        let qr_url = placed["payment"]["vietqr"]["qr_url"].as_str().expect("qr url").to_owned();
        assert_eq!(app.get(&qr_url).await.status(), 200, "the QR works for the guest as given");
        assert_eq!(app.reject_shipment(&farmer, &placed["shipments"][0]["id"], "Hết hàng").await.status(), 204);
        let seen = app.guest_view(&placed["code"], &phone).await;
        assert_eq!((seen["due_vnd"].as_i64(), seen["payment"]["vietqr"].clone()), (Some(0), Value::Null));
        assert_problem(app.get(&qr_url).await, 409, "no_payment_due").await;
        let code = placed["code"].as_str().expect("code");
        let operator = app.operator_token().await;
        let paid = app.request("POST", &format!("/api/v1/admin/orders/{code}/payment"), Some(&operator)).send().await.expect("sent");
        assert_problem(paid, 409, "not_awaiting_transfer").await;
        let row = app.db.read({
            let code = code.to_owned();
            move |conn| nongsan::orders::store::order_by_code(conn, &code)
        }).await.expect("order").expect("exists");
        assert_eq!((row.status.as_str(), row.payment_status.as_str()), ("cancelled", "void"));
        let refunds = app.db.read(move |conn| nongsan::orders::store::refunds_of_order(conn, row.id)).await.expect("refunds");
        assert!(refunds.is_empty(), "nothing was paid, so nothing is owed back");
    }

    a_cash_on_delivery_order_is_followed_to_the_end(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let dak_lak = app.farmer(WARD_BUON_MA_THUOT).await;
        let other = app.farmer(WARD_BUON_MA_THUOT).await;
        let coffee = app.listing(&dak_lak.token, "Cà phê Robusta", "120k", "50 kg").await;
        let pepper = app.listing(&other.token, "Hồ tiêu đen", "150k", "50 kg").await;
        let (email, phone) = (format!("mai-{}@example.vn", random_suffix()), fresh_phone());
        let body = order_of(&[&coffee, &pepper], &email, &phone, "cod");
        let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
        let total = placed["total_vnd"].as_i64().expect("total");
        assert_eq!((placed["status"].as_str(), placed["due_vnd"].as_i64()), (Some("placed"), Some(total)));
        let shipments = placed["shipments"].as_array().expect("shipments");
        let delivered = shipments.iter().find(|s| s["farmer"]["id"] == dak_lak.id).expect("shipment").clone();
        let rejected = shipments.iter().find(|s| s["farmer"]["id"] == other.id).expect("shipment").clone();
        app.accept_first_shipment(&dak_lak, &json!({"shipments": [delivered]})).await;
        assert_eq!(app.reject_shipment(&other, &rejected["id"], "Hết hàng").await.status(), 204);
        let status = |view: &Value| (view["status"].as_str().map(str::to_owned), view["due_vnd"].as_i64());
        assert_eq!(status(&app.guest_view(&placed["code"], &phone).await), (Some("confirmed".into()), Some(amount(&delivered))));

        let job = app.claim(&key, 1, 600).await.remove(0);
        let (id, lease) = (job["id"].as_i64().expect("id"), job["lease"]["lease_id"].clone());
        assert_eq!(app.report(&key, id, "picked_up", json!({"lease_id": lease})).await.status(), 200);
        assert_eq!(status(&app.guest_view(&placed["code"], &phone).await), (Some("in_delivery".into()), Some(amount(&delivered))));
        let cod = job["cod_vnd"].as_i64().expect("cod");
        assert_eq!(app.report(&key, id, "delivered", json!({"cod_collected_vnd": cod})).await.status(), 200);
        let seen = app.guest_view(&placed["code"], &phone).await;
        assert_eq!(status(&seen), (Some("partly_cancelled".into()), Some(0)), "delivered and paid at the door; the rest cancelled");
        assert_eq!((seen["total_vnd"].as_i64(), seen["refunds"].clone()), (Some(total), json!([])), "nothing was paid in advance");
    }

    a_cod_shortfall_needs_a_reason_and_stays_visible_until_resolved(app) {
        let operator = app.operator_token().await;
        let (partner_id, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let open = app.open_jobs(1).await;
        let farmer = open[0].farmer.clone();
        let job = app.claim(&key, 1, 600).await.remove(0);
        let (id, lease, cod) = (job["id"].as_i64().expect("id"), job["lease"]["lease_id"].clone(), job["cod_vnd"].as_i64().expect("cod"));
        assert_eq!(app.report(&key, id, "picked_up", json!({"lease_id": lease})).await.status(), 200);
        let short = cod - 20_000;
        let refused = app.report(&key, id, "delivered", json!({"cod_collected_vnd": short})).await;
        let problem = assert_problem(refused, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["code"], "cod_shortfall_reason_required");
        let too_much = app.report(&key, id, "delivered", json!({"cod_collected_vnd": cod + 1, "cod_shortfall_reason": "?"})).await;
        assert_eq!(assert_problem(too_much, 422, "validation_failed").await["errors"][0]["code"], "cod_collected_required");
        let reason = "Khách chỉ nhận 1 kg";
        let delivered = app.report(&key, id, "delivered", json!({"cod_collected_vnd": short, "cod_shortfall_reason": reason})).await;
        assert_eq!(delivered.status(), 200);

        let views = [
            ("/api/v1/partner/cod", key.clone()),
            ("/api/v1/admin/cod", operator.clone()),
            ("/api/v1/me/cod", farmer.token.clone()),
        ];
        let mut discrepancy_id = Value::Null;
        for (path, token) in &views {
            let view = TestApp::expect_json(app.request("GET", path, Some(token)).send().await.expect("sent"), 200).await;
            assert_eq!(view["shortfall_vnd"], 20_000, "{path}: {view}");
            let listed = &view["discrepancies"][0];
            assert_eq!((listed["job_id"].as_i64(), listed["reason"].as_str(), listed["partner_id"].as_i64()), (Some(id), Some(reason), Some(partner_id)), "{path}");
            assert_eq!((listed["expected_vnd"].as_i64(), listed["collected_vnd"].as_i64()), (Some(cod), Some(short)));
            discrepancy_id = listed["id"].clone();
        }
        // Remitted: the farmer's money counts only what was collected (less the fee), never the shortfall.
        let remit = json!({"remittance_id": "r1", "amount_vnd": short, "job_ids": [id]});
        TestApp::expect_json(app.post("/api/v1/partner/cod/remittances", Some(&key), &remit).await, 200).await;
        let mine = TestApp::expect_json(app.request("GET", "/api/v1/me/cod", Some(&farmer.token)).send().await.expect("sent"), 200).await;
        let items = job["declared_value_vnd"].as_i64().expect("value");
        assert_eq!(mine["paid_out_vnd"], items - 20_000, "{mine}");

        let resolve = format!("/api/v1/admin/cod/discrepancies/{discrepancy_id}/resolve");
        let note = json!({"note": "Người mua trả bù qua chuyển khoản"});
        let resolved = TestApp::expect_json(app.post(&resolve, Some(&operator), &note).await, 200).await;
        assert_eq!((resolved["status"].as_str(), resolved["resolution_note"].as_str()), (Some("resolved"), Some("Người mua trả bù qua chuyển khoản")));
        let again = TestApp::expect_json(app.post(&resolve, Some(&operator), &json!({"note": "lần hai"})).await, 200).await;
        assert_eq!(again, resolved, "resolving again changes nothing");
        for (path, token) in &views {
            let view = TestApp::expect_json(app.request("GET", path, Some(token)).send().await.expect("sent"), 200).await;
            assert_eq!((view["shortfall_vnd"].as_i64(), view["discrepancies"].clone()), (Some(0), json!([])), "{path}");
        }
    }
}
