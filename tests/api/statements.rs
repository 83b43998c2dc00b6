//! Farmer monthly statements: a known month (a cash delivery remitted in the month, one short and remitted the
//! next month, a transfer, a rejection, and a parcel delivered the next month) checked line by line in JSON,
//! in CSV and on the farmer's page, for the farmer, their helper and an operator; everyone else refused.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use serde_json::{Value, json};

use crate::helpers::{
    Farmer, PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, assert_problem, fresh_phone, guest_order, random_suffix,
};
use crate::on_both_backends;
use crate::pages::{PageVisitor, text_of};

/// Moves the app's clock to 10:00 on the 20th of next month in Vietnam: that month and the one after (`YYYY-MM`).
fn to_the_20th_of_next_month(app: &TestApp) -> (String, String) {
    let vietnam_now = app.clock.now() + Duration::hours(7);
    let first = |date: NaiveDate| date.with_day(1).expect("first day");
    let month = first(first(vietnam_now.date()) + Duration::days(32));
    let following = first(month + Duration::days(32));
    let target = month.with_day(20).expect("20th").and_time(NaiveTime::from_hms_opt(10, 0, 0).expect("10:00"));
    app.clock.advance(target - vietnam_now);
    (month.format("%Y-%m").to_string(), following.format("%Y-%m").to_string())
}

/// A partner's event on a job, dated by the app's clock (jobs are created on it).
async fn event(app: &TestApp, key: &str, job: &Value, status: &str, extra: Value) {
    let id = job["id"].as_i64().expect("job id");
    let mut body = json!({"event_id": random_suffix(), "status": status, "occurred_at": app.clock.now().and_utc(),
        "lease_id": job["lease"]["lease_id"]});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    TestApp::expect_json(app.job_event(key, id, &body).await, 200).await;
}

/// A guest's COD order of one kilo of the listing, accepted by the farmer: the order.
async fn accepted_cod_order(app: &TestApp, farmer: &Farmer, listing: &Value) -> Value {
    let placed = app.place_order(None, &random_suffix(), &guest_order(&listing["id"], 1, &fresh_phone())).await;
    let order = TestApp::expect_json(placed, 201).await;
    app.accept_first_shipment(farmer, &order).await;
    order
}

async fn remit(app: &TestApp, key: &str, job: &Value, amount: i64) {
    let body = json!({"remittance_id": random_suffix(), "amount_vnd": amount, "job_ids": [job["id"]]});
    TestApp::expect_json(app.post("/api/v1/partner/cod/remittances", Some(key), &body).await, 200).await;
}

async fn get(app: &TestApp, path: &str, token: &str, on_behalf: Option<i64>) -> reqwest::Response {
    let mut request = app.request("GET", path, Some(token));
    if let Some(farmer) = on_behalf {
        request = request.header("X-On-Behalf-Of", farmer.to_string());
    }
    request.send().await.expect("sent")
}

/// A CSV answer's text, checked to be a UTF-8 attachment that starts with a byte-order mark.
async fn csv_text(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert!(
        header("content-disposition").starts_with("attachment; filename=\"so-tien-"),
        "{}",
        header("content-disposition")
    );
    let bytes = response.bytes().await.expect("body");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark first");
    String::from_utf8(bytes[3..].to_vec()).expect("UTF-8")
}

/// The CSV's amounts by line code, with each line's label.
fn csv_lines(text: &str) -> Vec<(String, String, i64)> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|row| {
            let row = row.expect("row");
            (row[2].to_owned(), row[3].to_owned(), row[4].parse().expect("amount"))
        })
        .collect()
}

const LINES: [&str; 9] = [
    "goods_sold_vnd",
    "shipping_fees_vnd",
    "cod_collected_vnd",
    "cod_shortfall_vnd",
    "transfers_received_vnd",
    "earned_vnd",
    "owed_at_start_vnd",
    "paid_out_vnd",
    "still_owed_vnd",
];

on_both_backends! {
    a_known_month_adds_up_in_json_csv_and_on_the_page(app) {
        let (month, next_month) = to_the_20th_of_next_month(&app);
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let (team_id, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        app.consent(&farmer.token, team_id).await;
        let listing = app.listing(&farmer.token, "Sầu riêng Ri6", "80k/kg", "20 kg").await;

        // In the month: a COD parcel delivered and remitted; one delivered 5,000 short, remitted next month;
        // one paid by transfer and delivered; one rejected; one picked up, delivered next month.
        let remitted = accepted_cod_order(&app, &farmer, &listing).await;
        let remitted_job = app.claim(&key, 1, 600).await.remove(0);
        let short = accepted_cod_order(&app, &farmer, &listing).await;
        let short_job = app.claim(&key, 1, 600).await.remove(0);
        let transfer = app.transfer_order(&farmer).await;
        app.accept_first_shipment(&farmer, &transfer).await;
        app.mark_paid(&operator, &transfer).await;
        let transfer_job = app.claim(&key, 1, 600).await.remove(0);
        accepted_cod_order(&app, &farmer, &listing).await;
        let later_job = app.claim(&key, 1, 600).await.remove(0);
        let rejected = TestApp::expect_json(app.place_order(None, &random_suffix(), &guest_order(&listing["id"], 2, &fresh_phone())).await, 201).await;
        assert_eq!(app.reject_shipment(&farmer, &rejected["shipments"][0]["id"], "Hết hàng").await.status(), 204);

        let shipment = |order: &Value| (order["shipments"][0]["items_total_vnd"].as_i64().expect("items"), order["shipments"][0]["fee_vnd"].as_i64().expect("fee"));
        let ((goods, fee), (transfer_goods, transfer_fee)) = (shipment(&remitted), shipment(&transfer));
        assert_eq!((goods, transfer_goods), (80_000, 240_000));
        assert_eq!(shipment(&short), (goods, fee));
        for job in [&remitted_job, &short_job, &transfer_job, &later_job] {
            event(&app, &key, job, "picked_up", json!({})).await;
        }
        event(&app, &key, &remitted_job, "delivered", json!({"cod_collected_vnd": goods + fee})).await;
        event(&app, &key, &short_job, "delivered", json!({"cod_collected_vnd": goods + fee - 5_000, "cod_shortfall_reason": "Khách trả thiếu"})).await;
        event(&app, &key, &transfer_job, "delivered", json!({})).await;
        remit(&app, &key, &remitted_job, goods + fee).await;

        // Next month: the last parcel is delivered, and the short one's cash is remitted.
        app.clock.advance(Duration::days(15));
        event(&app, &key, &later_job, "delivered", json!({"cod_collected_vnd": goods + fee})).await;
        remit(&app, &key, &short_job, goods + fee - 5_000).await;

        let expected = json!({
            "farmer_id": farmer.id,
            "farmer_name": "Nguyễn Thị Lan",
            "month": month,
            "deliveries": 3,
            "goods_sold_vnd": 2 * goods + transfer_goods,
            "shipping_fees_vnd": 2 * fee + transfer_fee,
            "cod_collected_vnd": 2 * (goods + fee) - 5_000,
            "cod_shortfall_vnd": 5_000,
            "transfers_received_vnd": transfer_goods + transfer_fee,
            "earned_vnd": 2 * goods - 5_000 + transfer_goods,
            "owed_at_start_vnd": 0,
            "paid_out_vnd": goods + transfer_goods,
            "still_owed_vnd": goods - 5_000,
        });
        let path = format!("/api/v1/me/statements?month={month}");
        let mine = TestApp::expect_json(get(&app, &path, &farmer.token, None).await, 200).await;
        for (field, value) in expected.as_object().expect("fields") {
            assert_eq!(mine[field], *value, "{field} in {mine}");
        }
        assert_eq!(mine["active_months"], json!([next_month, month]));
        assert!(mine["from"].as_str().expect("from").ends_with("17:00:00Z"), "{mine}");
        // The helper acting with consent, and the operator, read the same statement.
        let helpers = TestApp::expect_json(get(&app, &path, &helper, Some(farmer.id)).await, 200).await;
        assert_eq!(helpers, mine);
        let operators_path = format!("/api/v1/admin/farmers/{}/statements?month={month}", farmer.id);
        assert_eq!(TestApp::expect_json(get(&app, &operators_path, &operator, None).await, 200).await, mine);

        // Next month: the parcel delivered then (its cash still with the carrier), the short cash that arrived.
        let next = TestApp::expect_json(get(&app, &format!("/api/v1/me/statements?month={next_month}"), &farmer.token, None).await, 200).await;
        let figures = |v: &Value| LINES.map(|line| v[line].as_i64().expect(line));
        assert_eq!(next["deliveries"], 1);
        assert_eq!(figures(&next), [goods, fee, goods + fee, 0, 0, goods, goods - 5_000, goods - 5_000, goods]);
        // Without a month: this month (the next one, on the app's clock); the month after: nothing.
        let current = TestApp::expect_json(get(&app, "/api/v1/me/statements", &farmer.token, None).await, 200).await;
        assert_eq!(current, next);
        let nothing = TestApp::expect_json(get(&app, "/api/v1/me/statements?month=2020-01", &farmer.token, None).await, 200).await;
        assert_eq!(figures(&nothing), [0; 9]);
        // `/me/cod` agrees: what is still owed is the last parcel's.
        let cod = TestApp::expect_json(get(&app, "/api/v1/me/cod", &farmer.token, None).await, 200).await;
        assert_eq!((cod["owed_vnd"].as_i64(), cod["paid_out_vnd"].as_i64()), (Some(goods), Some(2 * goods - 5_000 + transfer_goods)));

        // CSV, by `Accept` and by `?format=csv`, for the farmer and the operator: every line, Vietnamese intact.
        let by_accept = app.request("GET", &path, Some(&farmer.token)).header("Accept", "text/csv").send().await.expect("sent");
        let csv = csv_text(by_accept).await;
        assert!(csv.starts_with("Nông dân,Tháng,Mã,Mục,Số tiền (đồng),Nghĩa là\n"), "{csv}");
        let rows = csv_lines(&csv);
        assert_eq!(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), LINES);
        for (code, _, amount) in &rows {
            assert_eq!(expected[code.as_str()], *amount, "{code}");
        }
        assert_eq!(rows[0].1, "Tiền hàng đã giao");
        assert!(csv.contains(&format!("Nguyễn Thị Lan,{month},goods_sold_vnd")), "{csv}");
        let operators_csv = csv_text(get(&app, &format!("{operators_path}&format=csv"), &operator, None).await).await;
        assert_eq!(operators_csv, csv);
        let english = app.request("GET", &format!("{path}&format=csv"), Some(&farmer.token)).header("Accept-Language", "en");
        let english = csv_text(english.send().await.expect("sent")).await;
        assert!(english.starts_with("Farmer,Month,Code,Line,Amount (VND),Meaning\n"), "{english}");
        assert!(english.contains("Nguyễn Thị Lan"));

        // The page, for the farmer and for the helper acting for them; and its CSV link.
        let mut browser = PageVisitor::with_session(&app, &farmer.token).await;
        let home = browser.get("/farmer").await;
        assert!(home.html.contains("href=\"/farmer/statements\""), "the farmer's home links to the statement");
        let shown = browser.get(&format!("/farmer/statements?month={month}")).await;
        assert_eq!(shown.status, 200);
        let text = text_of(&shown.html);
        let (year, number) = month.split_once('-').expect("month");
        for words in ["Sổ tiền hằng tháng", &format!("Tháng {number}/{year}"), "3 đơn giao xong", "Người giao hàng thu thiếu", "5.000đ", "Chưa về cuối tháng", "Tải CSV"] {
            assert!(text.contains(words), "{words} in {text}");
        }
        assert!(text.contains(&format!("{}.000đ", (2 * goods + transfer_goods) / 1000)), "{text}");
        assert!(shown.html.contains(&format!("href=\"/farmer/statements?month={month}&amp;format=csv\"")));
        assert!(shown.html.contains(&format!("href=\"/farmer/statements?month={next_month}\"")), "a link to the next month");
        let latest = browser.get("/farmer/statements").await;
        assert!(!latest.html.contains("rel=\"next\""), "no month after this one");
        let page_csv = app.request("GET", &format!("/farmer/statements?month={month}&format=csv"), None)
            .header("Cookie", format!("ns_session={}", farmer.token)).send().await.expect("sent");
        assert_eq!(csv_text(page_csv).await, csv);
        let bad = browser.get("/farmer/statements?month=2026-13").await;
        assert_eq!(bad.status, 422);
        // An operator's page of the farmer's statement, with its own CSV link.
        let mut operators_browser = PageVisitor::with_session(&app, &operator).await;
        let operators_page = operators_browser.get(&format!("/operator/farmers/{}/statements?month={month}", farmer.id)).await;
        assert_eq!(operators_page.status, 200);
        assert!(text_of(&operators_page.html).contains("Nguyễn Thị Lan"), "the operator sees whose statement it is");
        assert!(text_of(&operators_page.html).contains("Chưa về cuối tháng"));
        let operators_link = format!("href=\"/operator/farmers/{}/statements?month={month}&amp;format=csv\"", farmer.id);
        assert!(operators_page.html.contains(&operators_link), "{}", operators_page.html);
        let mut helpers_browser = PageVisitor::with_session(&app, &helper).await;
        assert_eq!(helpers_browser.post(&format!("/helper/act/{}", farmer.id), &[]).await.status, 303);
        let helpers_page = helpers_browser.get(&format!("/farmer/statements?month={month}")).await;
        assert_eq!(helpers_page.status, 200);
        assert!(text_of(&helpers_page.html).contains("Đang làm thay"), "the helper's page says whom they act for");
        assert!(text_of(&helpers_page.html).contains("Chưa về cuối tháng"));
    }

    others_are_refused_and_bad_months_are_422(app) {
        let operator = app.operator_token().await;
        let (team_id, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let (_, _, other_helper) = app.team_with_helper(&operator, &[crate::helpers::WARD_DA_LAT]).await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let stranger = app.farmer(WARD_BUON_MA_THUOT).await;
        let path = "/api/v1/me/statements?month=2026-11";
        // Before the farmer consents, their team's helper is refused; a helper of another team finds no one.
        assert_problem(get(&app, path, &helper, Some(farmer.id)).await, 403, "consent_required").await;
        app.consent(&farmer.token, team_id).await;
        assert_eq!(get(&app, path, &helper, Some(farmer.id)).await.status(), 200);
        assert_eq!(get(&app, path, &other_helper, Some(farmer.id)).await.status(), 404);
        // Another farmer reads only their own.
        let theirs = TestApp::expect_json(get(&app, path, &stranger.token, None).await, 200).await;
        assert_eq!(theirs["farmer_id"], stranger.id);
        let operators_path = format!("/api/v1/admin/farmers/{}/statements?month=2026-11", farmer.id);
        for token in [&farmer.token, &helper, &key] {
            assert_eq!(get(&app, &operators_path, token, None).await.status(), 403);
        }
        assert_eq!(get(&app, path, &key, None).await.status(), 403);
        let buyer = json!({"name": "Lê Mai", "email": format!("b-{}@example.vn", random_suffix()), "password": "buyer-password"});
        let buyer = TestApp::expect_json(app.post("/api/v1/buyers", None, &buyer).await, 201).await["token"].as_str().expect("token").to_owned();
        assert_eq!(get(&app, path, &buyer, None).await.status(), 403);
        assert_eq!(get(&app, &operators_path, &buyer, None).await.status(), 403);
        assert_eq!(app.request("GET", path, None).send().await.expect("sent").status(), 401);
        // An operator asking for someone who is no farmer.
        let not_a_farmer = format!("/api/v1/admin/farmers/{}/statements", i64::MAX);
        assert_problem(get(&app, &not_a_farmer, &operator, None).await, 404, "not_found").await;

        for month in ["2026-13", "2026-1", "11-2026", "tháng 11"] {
            let bad = format!("/api/v1/me/statements?month={}", urlencoding(month));
            let problem = assert_problem(get(&app, &bad, &farmer.token, None).await, 422, "validation_failed").await;
            assert_eq!((problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()), (Some("month"), Some("month_invalid")));
            assert!(problem["errors"][0]["message"].as_str().expect("message").contains("YYYY-MM"), "{problem}");
        }
        let operators_bad = format!("/api/v1/admin/farmers/{}/statements?month=2026-13", farmer.id);
        assert_problem(get(&app, &operators_bad, &operator, None).await, 422, "validation_failed").await;
        let format = assert_problem(get(&app, &format!("{path}&format=xlsx"), &farmer.token, None).await, 422, "validation_failed").await;
        assert_eq!(format["errors"][0]["code"], "format_invalid");
        let english = app.request("GET", "/api/v1/me/statements?month=2026-13", Some(&farmer.token)).header("Accept-Language", "en");
        let problem = assert_problem(english.send().await.expect("sent"), 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["message"], "`month` must be a month as YYYY-MM, e.g. 2026-11.");
    }
}

/// A query value, percent-encoded.
fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
