//! Bank transfers reconcile themselves (issue 17): the bank-notification service reports each transfer, an
//! exact one pays the order its memo names however the bank mangled the memo, once however often it is sent,
//! and anything else (partial, excess, duplicate, late, unmatched) waits for an operator with the order
//! unchanged; a payment racing the unpaid-order expiry ends in one consistent state.

use chrono::Duration;
use nongsan::orders::codes::new_order_code;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::helpers::{
    BANK_NOTIFY_KEY, Farmer, TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, assert_problem, fresh_phone, random_suffix,
};
use crate::on_both_backends;

/// A farmer's coffee, 120,000 VND a kg, that guests buy by transfer.
struct Shop {
    farmer: Farmer,
    listing_id: Value,
}

async fn shop(app: &TestApp) -> Shop {
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "200 kg").await;
    Shop { farmer, listing_id: listing["id"].clone() }
}

/// A bank-transfer order awaiting its money.
struct Awaited {
    order: Value,
    code: String,
    /// The code as banks deliver it most often: `NSM4NC9G2R9`.
    bare: String,
    due: i64,
    email: String,
}

/// A guest's bank-transfer order of `kg` kg, with an email to hear of its payment.
async fn awaited(app: &TestApp, shop: &Shop, kg: i64) -> Awaited {
    let email = format!("mai-{}@example.vn", random_suffix());
    let body = json!({
        "items": [{"listing_id": shop.listing_id, "quantity": kg}],
        "buyer": {"name": "Lê Mai", "phone": fresh_phone(), "email": email},
        "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
        "payment_method": "bank_transfer",
    });
    let order = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
    let code = order["code"].as_str().expect("code").to_owned();
    let due = order["payment"]["vietqr"]["amount_vnd"].as_i64().expect("the QR's amount");
    assert_eq!(order["payment"]["vietqr"]["memo"], code.as_str(), "the memo the buyer's bank app is given");
    Awaited { bare: code.replace('-', ""), code, due, email, order }
}

/// (order status, payment status) as stored.
async fn state_of(app: &TestApp, code: &str) -> (String, String) {
    let code = code.to_owned();
    let row = app.db.read(move |conn| nongsan::orders::store::order_by_code(conn, &code)).await.expect("read");
    let row = row.expect("the order");
    (row.status.as_str().to_owned(), row.payment_status.as_str().to_owned())
}

async fn exceptions(app: &TestApp, operator: &str, query: &str) -> Value {
    let path = format!("/api/v1/admin/payments/exceptions{query}");
    TestApp::expect_json(app.request("GET", &path, Some(operator)).send().await.expect("sent"), 200).await
}

async fn paid_by(app: &TestApp, id: i64, memo: &str, amount: i64) {
    let answer = TestApp::expect_json(app.bank_transfer(id, memo, amount).await, 200).await;
    assert_eq!(answer, json!({"success": true, "outcome": "paid"}), "{memo:?}");
}

async fn listed(app: &TestApp, id: i64, memo: &str, amount: i64) {
    let answer = TestApp::expect_json(app.bank_transfer(id, memo, amount).await, 200).await;
    assert_eq!(answer, json!({"success": true, "outcome": "exception"}), "{memo:?}");
}

async fn payment_emails(app: &TestApp, email: &str) -> usize {
    app.emails_to(email).await.iter().filter(|mail| mail.subject.starts_with("Đã nhận thanh toán")).count()
}

async fn resolve(app: &TestApp, operator: &str, id: &Value, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/admin/payments/exceptions/{id}/resolve"), Some(operator), &body).await
}

/// Expires unpaid transfers as the background loop would, a day and an hour from now.
async fn expire_unpaid(app: &TestApp) -> nongsan::orders::rules::Expired {
    let later = app.clock.now() + Duration::hours(25);
    let hours = app.settings.unpaid_hours;
    app.db.write(move |conn| nongsan::orders::rules::expire_due(conn, later, hours)).await.expect("expiry")
}

on_both_backends! {
    an_exact_transfer_pays_its_order_once_however_often_it_is_sent(app) {
        let shop = shop(&app).await;
        let order = awaited(&app, &shop, 2).await;
        assert_eq!(order.due, 240_000 + order.order["shipping_total_vnd"].as_i64().expect("fee"));
        let memo = format!("{} chuyen tien", order.bare);
        for _ in 0..3 {
            paid_by(&app, 5_001, &memo, order.due).await;
        }
        assert_eq!(state_of(&app, &order.code).await.1, "paid");
        assert_eq!(payment_emails(&app, &order.email).await, 1, "the buyer hears of it once");
        let operator = app.operator_token().await;
        assert_eq!(exceptions(&app, &operator, "").await["items"], json!([]));

        // The farmer accepts: the parcel can go, since it is paid.
        app.accept_first_shipment(&shop.farmer, &order.order).await;
        let code = order.code.clone();
        let jobs = app.db.read(move |conn| {
            let id = nongsan::orders::store::order_by_code(conn, &code)?.expect("order").id;
            nongsan::fulfilment::store::jobs_of_order(conn, id)
        });
        assert_eq!(jobs.await.expect("jobs").len(), 1);
    }

    what_banks_do_to_the_memo_still_pays_the_order(app) {
        let shop = shop(&app).await;
        let mut id = 6_000;
        let manglings: [fn(&Awaited) -> String; 7] = [
            |o| format!("{} chuyen tien", o.bare),
            |o| o.code.to_lowercase(),
            |o| format!("MBVCB.123456.{} chuyen tien.CT tu 0123456789 LE THI MAI toi 0011001234567", o.bare),
            |o| format!("IBFT {}", o.code.replace('-', " ")),
            |o| format!("{}CHUYENTIEN-FT24337001", o.bare.to_lowercase()),
            // Cut short by the bank, two and three symbols lost: the beginning and the exact amount.
            |o| format!("MBVCB.8867.{}", &o.bare[..9]),
            |o| format!("TT {} ck", &o.code[..10]),
        ];
        for mangle in manglings {
            let order = awaited(&app, &shop, 1).await;
            id += 1;
            paid_by(&app, id, &mangle(&order), order.due).await;
            assert_eq!(state_of(&app, &order.code).await.1, "paid", "{:?}", mangle(&order));
        }
    }

    a_wrong_amount_an_unknown_code_and_a_late_or_second_transfer_are_exceptions(app) {
        let shop = shop(&app).await;
        let operator = app.operator_token().await;
        let order = awaited(&app, &shop, 2).await;
        listed(&app, 7_001, &format!("{} chuyen tien", order.bare), order.due - 10_000).await;
        listed(&app, 7_002, &order.code, order.due + 5_000).await;
        assert_eq!(state_of(&app, &order.code).await, ("placed".to_owned(), "awaiting_transfer".to_owned()));

        let unknown = new_order_code(&mut StdRng::seed_from_u64(7));
        listed(&app, 7_003, &format!("{unknown} chuyen tien"), order.due).await;
        listed(&app, 7_004, "chuyen tien mua ca phe", order.due).await;

        // Cut short, the beginning names the order but not with this amount: nobody's.
        listed(&app, 7_005, &format!("MBVCB.8867.{}", &order.bare[..9]), order.due + 1).await;

        let late = awaited(&app, &shop, 3).await;
        assert_eq!(expire_unpaid(&app).await.orders, 2, "both orders expire unpaid");
        listed(&app, 7_006, &late.bare, late.due).await;
        assert_eq!(state_of(&app, &late.code).await, ("cancelled".to_owned(), "void".to_owned()));

        let twice = awaited(&app, &shop, 1).await;
        paid_by(&app, 7_007, &twice.bare, twice.due).await;
        listed(&app, 7_008, &twice.bare, twice.due).await;
        assert_eq!(payment_emails(&app, &twice.email).await, 1);

        let open = exceptions(&app, &operator, "").await;
        let rows: Vec<(Value, Value, Value, Value)> = open["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| (e["kind"].clone(), e["order_code"].clone(), e["transfer"]["amount_vnd"].clone(), e["expected_vnd"].clone()))
            .collect();
        assert_eq!(rows, [
            (json!("partial"), json!(order.code), json!(order.due - 10_000), json!(order.due)),
            (json!("excess"), json!(order.code), json!(order.due + 5_000), json!(order.due)),
            (json!("unmatched"), Value::Null, json!(order.due), Value::Null),
            (json!("unmatched"), Value::Null, json!(order.due), Value::Null),
            (json!("unmatched"), Value::Null, json!(order.due + 1), Value::Null),
            (json!("late"), json!(late.code), json!(late.due), Value::Null),
            (json!("duplicate"), json!(twice.code), json!(twice.due), Value::Null),
        ]);
        let first = &open["items"][0];
        assert_eq!((first["status"].clone(), first["transfer"]["notification_id"].clone()), (json!("open"), json!(7_001)));
        assert_eq!(first["transfer"]["transferred_at"], "2026-12-03T07:30:00Z", "14:30 in Vietnam");
        assert_eq!(first["transfer"]["content"], format!("{} chuyen tien", order.bare));

        let page = exceptions(&app, &operator, "?limit=4").await;
        assert_eq!(page["items"].as_array().map(Vec::len), Some(4));
        let cursor = page["next_cursor"].as_str().expect("another page").to_owned();
        let rest = exceptions(&app, &operator, &format!("?limit=4&cursor={cursor}")).await;
        assert_eq!((rest["items"].as_array().map(Vec::len), rest["next_cursor"].clone()), (Some(3), Value::Null));
        assert_eq!(exceptions(&app, &operator, "?status=resolved").await["items"], json!([]));
        let bad = app.request("GET", "/api/v1/admin/payments/exceptions?status=lost", Some(&operator)).send().await.expect("sent");
        assert_eq!(bad.status(), 422);
    }

    a_notification_without_the_key_or_with_a_bad_body_is_refused(app) {
        let path = "/api/v1/payments/bank-notifications";
        let body = json!({"id": 1, "gateway": "VCB", "transactionDate": "2026-12-03 14:30:00", "accountNumber": "1",
            "content": "x", "transferType": "in", "transferAmount": 1000, "referenceCode": "FT1"});
        for authorization in [None, Some("Apikey wrong-key".to_owned()), Some(format!("Bearer {BANK_NOTIFY_KEY}")), Some(BANK_NOTIFY_KEY.to_owned())] {
            let mut request = app.request("POST", path, None).json(&body);
            if let Some(value) = &authorization {
                request = request.header("Authorization", value);
            }
            assert_problem(request.send().await.expect("sent"), 401, "bad_api_key").await;
        }
        let with_key = |body: &str| {
            app.request("POST", path, None)
                .header("Authorization", format!("Apikey {BANK_NOTIFY_KEY}"))
                .header("Content-Type", "application/json")
                .body(body.to_owned())
        };
        let malformed = assert_problem(with_key("{\"id\": 1,").send().await.expect("sent"), 400, "malformed_json").await;
        assert!(!malformed["detail"].as_str().unwrap_or_default().contains("EOF"), "{malformed}");
        let mut missing = body.clone();
        missing.as_object_mut().expect("object").remove("transferAmount");
        assert_problem(with_key(&missing.to_string()).send().await.expect("sent"), 422, "validation_failed").await;
        let mut bad = body.clone();
        bad["transactionDate"] = json!("03/12/2026");
        bad["transferType"] = json!("in");
        let problem = assert_problem(with_key(&bad.to_string()).send().await.expect("sent"), 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "transactionDate");
        let mut sideways = body.clone();
        sideways["transferType"] = json!("sideways");
        assert_problem(with_key(&sideways.to_string()).send().await.expect("sent"), 422, "validation_failed").await;

        // Money leaving the account is kept and matched to nothing.
        let mut out = body.clone();
        out["transferType"] = json!("out");
        let answer = TestApp::expect_json(with_key(&out.to_string()).send().await.expect("sent"), 200).await;
        assert_eq!(answer, json!({"success": true, "outcome": "outgoing"}));
        let operator = app.operator_token().await;
        assert_eq!(exceptions(&app, &operator, "").await["items"], json!([]));
    }

    operators_apply_refund_or_ignore_an_exception_once(app) {
        let shop = shop(&app).await;
        let operator = app.operator_token().await;
        let short = awaited(&app, &shop, 2).await;
        listed(&app, 8_001, &short.bare, short.due - 10_000).await;
        let over = awaited(&app, &shop, 1).await;
        listed(&app, 8_002, &over.bare, over.due + 20_000).await;
        let elsewhere = awaited(&app, &shop, 1).await;
        listed(&app, 8_003, "chuyen tien", elsewhere.due + 1_000).await;
        listed(&app, 8_004, "ung ho", 50_000).await;
        let ids: Vec<Value> = exceptions(&app, &operator, "").await["items"].as_array().expect("items").iter().map(|e| e["id"].clone()).collect();

        let refused = resolve(&app, &operator, &ids[0], json!({"action": "apply"})).await;
        assert_problem(refused, 409, "amount_short").await;
        assert_eq!(state_of(&app, &short.code).await.1, "awaiting_transfer");

        let applied = TestApp::expect_json(resolve(&app, &operator, &ids[1], json!({"action": "apply", "note": "Khách chuyển dư"})).await, 200).await;
        assert_eq!(
            (applied["status"].clone(), applied["resolution"].clone(), applied["applied_order_code"].clone(), applied["refund_vnd"].clone()),
            (json!("resolved"), json!("apply"), json!(over.code), json!(20_000)),
        );
        assert_eq!(state_of(&app, &over.code).await.1, "paid");
        assert_eq!(payment_emails(&app, &over.email).await, 1);
        assert_problem(resolve(&app, &operator, &ids[1], json!({"action": "ignore"})).await, 409, "already_resolved").await;

        // An unmatched transfer applied to the order the operator names, typed loosely.
        let unknown = resolve(&app, &operator, &ids[2], json!({"action": "apply", "order_code": "NS-000-000-000"})).await;
        assert_problem(unknown, 422, "validation_failed").await;
        let no_code = resolve(&app, &operator, &ids[2], json!({"action": "apply"})).await;
        assert_problem(no_code, 422, "validation_failed").await;
        let typed = elsewhere.bare.to_lowercase();
        let applied = TestApp::expect_json(resolve(&app, &operator, &ids[2], json!({"action": "apply", "order_code": typed})).await, 200).await;
        assert_eq!((applied["applied_order_code"].clone(), applied["refund_vnd"].clone()), (json!(elsewhere.code), json!(1_000)));
        assert_eq!(state_of(&app, &elsewhere.code).await.1, "paid");

        let refunded = TestApp::expect_json(resolve(&app, &operator, &ids[0], json!({"action": "refund", "note": "Trả lại khách"})).await, 200).await;
        assert_eq!((refunded["resolution"].clone(), refunded["refund_vnd"].clone()), (json!("refund"), json!(short.due - 10_000)));
        let ignored = TestApp::expect_json(resolve(&app, &operator, &ids[3], json!({"action": "ignore", "note": "Tiền ủng hộ"})).await, 200).await;
        assert_eq!((ignored["resolution"].clone(), ignored["note"].clone(), ignored["refund_vnd"].clone()), (json!("ignore"), json!("Tiền ủng hộ"), Value::Null));

        assert_eq!(exceptions(&app, &operator, "").await["items"], json!([]));
        assert_eq!(exceptions(&app, &operator, "?status=resolved").await["items"].as_array().map(Vec::len), Some(4));
        let audit = app.request("GET", "/api/v1/admin/audit?subject=payment_exception", Some(&operator)).send().await.expect("sent");
        let audit = TestApp::expect_json(audit, 200).await;
        let acts: Vec<(Value, Value)> = audit["items"].as_array().expect("items").iter().map(|a| (a["action"].clone(), a["reason"].clone())).collect();
        assert_eq!(acts, [
            (json!("resolve_payment_exception"), json!("ignore: Tiền ủng hộ")),
            (json!("resolve_payment_exception"), json!("refund: Trả lại khách")),
            (json!("resolve_payment_exception"), json!("apply")),
            (json!("resolve_payment_exception"), json!("apply: Khách chuyển dư")),
        ]);
        assert_problem(resolve(&app, &operator, &json!(999_999), json!({"action": "ignore"})).await, 404, "not_found").await;
        let bad_action = resolve(&app, &operator, &ids[3], json!({"action": "keep"})).await;
        assert_eq!(bad_action.status(), 422);
    }

    a_payment_and_the_unpaid_expiry_end_in_one_state_in_either_order(app) {
        let shop = shop(&app).await;
        let operator = app.operator_token().await;
        // Paid first: the expiry leaves the order alone.
        let first = awaited(&app, &shop, 1).await;
        app.accept_first_shipment(&shop.farmer, &first.order).await;
        paid_by(&app, 9_001, &first.bare, first.due).await;
        assert_eq!(expire_unpaid(&app).await.orders, 0);
        assert_eq!(state_of(&app, &first.code).await, ("confirmed".to_owned(), "paid".to_owned()));

        // Expired first: the money is late, the order stays cancelled.
        let second = awaited(&app, &shop, 1).await;
        app.accept_first_shipment(&shop.farmer, &second.order).await;
        assert_eq!(expire_unpaid(&app).await.orders, 1);
        listed(&app, 9_002, &second.bare, second.due).await;
        assert_eq!(state_of(&app, &second.code).await, ("cancelled".to_owned(), "void".to_owned()));
        let late = exceptions(&app, &operator, "").await;
        assert_eq!((late["items"][0]["kind"].clone(), late["items"][0]["order_code"].clone()), (json!("late"), json!(second.code)));
        resolve(&app, &operator, &late["items"][0]["id"], json!({"action": "refund"})).await;

        // At the same time, many times over: each order is paid (and goes ahead) or cancelled (and its money
        // is late), never cancelled with its money taken.
        let mut racing = Vec::new();
        for _ in 0..6 {
            let order = awaited(&app, &shop, 1).await;
            app.accept_first_shipment(&shop.farmer, &order.order).await;
            racing.push(order);
        }
        let payments = racing.iter().enumerate().map(|(i, order)| app.bank_transfer(9_100 + i as i64, &order.bare, order.due));
        let (answers, expired) = tokio::join!(futures_util::future::join_all(payments), expire_unpaid(&app));
        assert!(answers.iter().all(|answer| answer.status() == 200));
        let late = exceptions(&app, &operator, "").await;
        let late_codes: Vec<Value> = late["items"].as_array().expect("items").iter().map(|e| e["order_code"].clone()).collect();
        let mut cancelled = 0;
        for order in &racing {
            let (status, payment) = state_of(&app, &order.code).await;
            let code = order.code.clone();
            let jobs = app.db.read(move |conn| {
                let id = nongsan::orders::store::order_by_code(conn, &code)?.expect("order").id;
                nongsan::fulfilment::store::jobs_of_order(conn, id)
            });
            let live_jobs = jobs.await.expect("jobs").iter().filter(|job| job.status.as_str() != "cancelled").count();
            match (status.as_str(), payment.as_str()) {
                ("confirmed", "paid") => {
                    assert_eq!(live_jobs, 1, "a paid, accepted order goes ahead");
                    assert!(!late_codes.contains(&json!(order.code)));
                }
                ("cancelled", "void") => {
                    cancelled += 1;
                    assert_eq!(live_jobs, 0, "nothing ships for a cancelled order");
                    assert!(late_codes.contains(&json!(order.code)), "its money waits for an operator");
                }
                other => panic!("{} ended {other:?}", order.code),
            }
        }
        assert_eq!(expired.orders, cancelled);
        let refunds = app.request("GET", "/api/v1/admin/refunds", Some(&operator)).send().await.expect("sent");
        assert_eq!(TestApp::expect_json(refunds, 200).await["items"], json!([]), "no order was paid and then cancelled");
    }
}

#[tokio::test]
async fn without_a_configured_key_every_notification_is_refused() {
    let app = TestApp::sqlite_with(|settings| settings.bank_notify_key = None).await;
    let answer = app.bank_transfer(1, "NS-000-000-000", 1_000).await;
    assert_problem(answer, 401, "bad_api_key").await;
}
