//! The impact report: a known history over two provinces and two months (farmers enrolled alone and by
//! helpers, listings, orders, a rejection, an expiry, deliveries with cash collected), the rollups brought
//! current after each day, and every cell of the report checked in JSON and in CSV for every grouping.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::helpers::{
    PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, WARD_EA_KAO, assert_problem, fresh_phone, random_suffix,
};
use crate::on_both_backends;

/// Moves the app's clock to `hour`:`minute` Vietnam time on `day`.
fn move_to(app: &TestApp, day: NaiveDate, hour: u32, minute: u32) {
    let target = day.and_hms_opt(hour, minute, 0).expect("time") - Duration::hours(7);
    let by = target - app.clock.now();
    assert!(by >= Duration::zero(), "the clock only moves forward");
    app.clock.advance(by + Duration::seconds(1));
}

async fn run_rollups(app: &TestApp) {
    nongsan::reports::rollups::run_rollups(&app.db, app.clock.now()).await.expect("rollups run");
}

/// A helper enrols a farmer in `ward` (with consent): the farmer's id.
async fn enrol(app: &TestApp, helper: &str, ward: i32) -> i64 {
    let body =
        json!({"phone": fresh_phone(), "name": "Y Bhim Niê", "ward_code": ward, "pin": "582047", "consent": true});
    let enrolled = TestApp::expect_json(app.post("/api/v1/helper/farmers", Some(helper), &body).await, 201).await;
    enrolled["farmer"]["id"].as_i64().expect("farmer id")
}

/// A listing a helper makes on a farmer's behalf: its id.
async fn listing_for(app: &TestApp, helper: &str, farmer_id: i64, title: &str, price: &str, quantity: &str) -> Value {
    let body = json!({"title": title, "price": price, "quantity": quantity});
    let made = app.request("POST", "/api/v1/listings", Some(helper)).header("X-On-Behalf-Of", farmer_id.to_string());
    TestApp::expect_json(made.json(&body).send().await.expect("sent"), 201).await["id"].clone()
}

/// A guest's COD order of `quantity` of a listing: its one shipment's id.
async fn order(app: &TestApp, listing: &Value, quantity: i64) -> Value {
    let body = json!({
        "items": [{"listing_id": listing, "quantity": quantity}],
        "buyer": {"name": "Lê Mai", "phone": fresh_phone()},
        "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
    });
    let placed = TestApp::expect_json(app.place_order(None, &random_suffix(), &body).await, 201).await;
    placed["shipments"][0]["id"].clone()
}

/// Accepts a shipment, as the farmer or (with `on_behalf`) as a helper for them.
async fn accept(app: &TestApp, token: &str, on_behalf: Option<i64>, shipment: &Value) {
    let mut request = app.request("POST", &format!("/api/v1/shipments/{shipment}/accept"), Some(token));
    if let Some(farmer) = on_behalf {
        request = request.header("X-On-Behalf-Of", farmer.to_string());
    }
    assert_eq!(request.send().await.expect("sent").status(), 204);
}

/// Picks up and delivers a claimed job now (app clock), collecting `collected`: returns it.
async fn deliver(app: &TestApp, key: &str, job: &Value, short_by: i64) -> i64 {
    let id = job["id"].as_i64().expect("job id");
    let (due, lease) = (job["cod_vnd"].as_i64().expect("cod"), job["lease"]["lease_id"].clone());
    let now = app.clock.now().and_utc();
    let pick = json!({"event_id": format!("p{id}"), "status": "picked_up", "occurred_at": now, "lease_id": lease});
    assert_eq!(app.job_event(key, id, &pick).await.status(), 200);
    let collected = due - short_by;
    let shortfall = (short_by > 0).then_some("Khách trả thiếu");
    let body = json!({"event_id": format!("d{id}"), "status": "delivered", "occurred_at": now,
        "cod_collected_vnd": collected, "cod_shortfall_reason": shortfall});
    assert_eq!(app.job_event(key, id, &body).await.status(), 200);
    collected
}

/// The job (among claimed ones) of the shipment whose goods are worth `value` (all differ here).
fn job_of(jobs: &[Value], value: i64) -> &Value {
    jobs.iter().find(|job| job["declared_value_vnd"] == value).expect("the shipment's job was claimed")
}

/// An expected row: the 13 figures in the CSV's order, then the two medians.
fn row(key: impl ToString, name: &str, figures: [i64; 13], accept: Option<f64>, deliver: Option<f64>) -> Value {
    let names = nongsan::reports::CSV_HEADER;
    let mut row = serde_json::Map::new();
    row.insert("key".into(), json!(key.to_string()));
    row.insert("name".into(), json!(name));
    for (name, figure) in names[2..15].iter().zip(figures) {
        row.insert((*name).into(), json!(figure));
    }
    row.insert("median_hours_to_accept".into(), json!(accept));
    row.insert("median_hours_to_deliver".into(), json!(deliver));
    Value::Object(row)
}

/// Adds the figures of two expected rows (not the medians), as a total or a province is.
fn plus(a: &Value, b: &Value, key: impl ToString, name: &str, accept: Option<f64>, deliver: Option<f64>) -> Value {
    let names = nongsan::reports::CSV_HEADER;
    let figures = std::array::from_fn(|i| a[names[i + 2]].as_i64().expect("n") + b[names[i + 2]].as_i64().expect("n"));
    row(key, name, figures, accept, deliver)
}

async fn report(app: &TestApp, operator: &str, query: &str) -> Value {
    let answer = app.request("GET", &format!("/api/v1/admin/reports/impact?{query}"), Some(operator)).send().await;
    TestApp::expect_json(answer.expect("sent"), 200).await
}

/// Checks every cell of a report in JSON, then the same report as CSV (by `Accept` and by `format`).
async fn check(app: &TestApp, operator: &str, query: &str, rows: &[Value], total: &Value) {
    let json = report(app, operator, query).await;
    assert_eq!(json["rows"].as_array().expect("rows"), rows, "{query}");
    assert_eq!(&json["total"], total, "{query}");

    for (accept, format) in [("text/csv", ""), ("*/*", "&format=csv")] {
        let path = format!("/api/v1/admin/reports/impact?{query}{format}");
        let answer = app.request("GET", &path, Some(operator)).header("Accept", accept).send().await.expect("sent");
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["content-type"], "text/csv; charset=utf-8");
        let disposition = answer.headers()["content-disposition"].to_str().expect("ascii").to_owned();
        assert!(disposition.starts_with("attachment; filename=\"impact-"), "{disposition}");
        let bytes = answer.bytes().await.expect("body");
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM first");
        let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
        assert_eq!(header, nongsan::reports::CSV_HEADER);
        let records: Vec<csv::StringRecord> = reader.records().map(|record| record.expect("record")).collect();
        assert_eq!(records.len(), rows.len() + 1, "{query}: rows and a total row");
        for (record, expected) in records.iter().zip(rows.iter().chain([total])) {
            for (cell, column) in record.iter().zip(header.iter()) {
                let wanted = match &expected[column.as_str()] {
                    _ if column == "from" || column == "to" => json[column.as_str()].as_str().expect("day").to_owned(),
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    Value::Number(number) if column.starts_with("median") => {
                        format!("{:.1}", number.as_f64().expect("hours"))
                    }
                    other => other.to_string(),
                };
                assert_eq!(cell, wanted, "{query}: {column} of {}", &expected["key"]);
            }
        }
    }
}

on_both_backends! {
    every_cell_of_the_report_adds_up(app) {
        // Day 0 is the last day of a month (Vietnam time), so day 1 and day 3 fall in the next one.
        let soon = (Utc::now() + Duration::hours(7)).date_naive() + Duration::days(2);
        let next_month = soon.with_day(1).expect("first").checked_add_months(chrono::Months::new(1)).expect("month");
        let day0 = next_month - Duration::days(1);
        let (day1, day3) = (day0 + Duration::days(1), day0 + Duration::days(3));
        move_to(&app, day0, 7, 0);

        let operator = app.operator_token().await;
        let places = &app.reference.places;
        let lam_dong = places.ward(WARD_DA_LAT).expect("Đà Lạt").province_code;
        let province_name = |code: i32| places.province(code).expect("province").name.clone();
        let ward_name = |code: i32| {
            let ward = places.ward(code).expect("ward");
            format!("{}, {}", ward.name, province_name(ward.province_code))
        };
        let (team_a, helper_a_id, helper_a) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT, WARD_EA_KAO]).await;
        let (team_b, helper_b_id, helper_b) = app.team_with_helper(&operator, &[WARD_DA_LAT]).await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK, lam_dong]).await;

        // Day 0, 08:00: four farmers join (two alone, two enrolled by helpers) and list; seven orders.
        move_to(&app, day0, 8, 0);
        let f1 = app.farmer(WARD_BUON_MA_THUOT).await;
        let l1 = app.listing(&f1.token, "Sầu riêng Ri6", "100k/kg", "100 kg").await["id"].clone();
        let f2 = enrol(&app, &helper_a, WARD_EA_KAO).await;
        let l2 = listing_for(&app, &helper_a, f2, "Cà phê Robusta", "50k/kg", "20 kg").await;
        let f3 = app.farmer(WARD_DA_LAT).await;
        let l3 = app.listing(&f3.token, "Bơ sáp", "30k/kg", "2 kg").await["id"].clone();
        let f4 = enrol(&app, &helper_b, WARD_DA_LAT).await;
        let l4 = listing_for(&app, &helper_b, f4, "Hồng treo gió", "200k/kg", "3 kg").await;
        let o1 = order(&app, &l1, 2).await;
        let o2 = order(&app, &l2, 1).await;
        let o3 = order(&app, &l3, 1).await;
        let o4 = order(&app, &l4, 3).await;
        let _o5 = order(&app, &l1, 1).await;
        let o6 = order(&app, &l3, 1).await;
        // 09:00 a helper accepts for F2 (1.0 h); 10:00 F3 rejects one; 10:30 F1 accepts (2.5 h); 12:00 F3 (4 h).
        move_to(&app, day0, 9, 0);
        accept(&app, &helper_a, Some(f2), &o2).await;
        move_to(&app, day0, 10, 0);
        assert_eq!(app.reject_shipment(&f3, &o6, "Bơ chưa chín").await.status(), 204);
        move_to(&app, day0, 10, 30);
        accept(&app, &f1.token, None, &o1).await;
        move_to(&app, day0, 12, 0);
        accept(&app, &f3.token, None, &o3).await;
        run_rollups(&app).await;

        // Day 1: F4's order accepted by their helper at 07:00 (23 h); deliveries at 08:00 (24 h), the order
        // nobody answered expires at 09:00, more deliveries at 12:00 (28 h, 10,000 short) and 13:00 (29 h).
        move_to(&app, day1, 7, 0);
        accept(&app, &helper_b, Some(f4), &o4).await;
        move_to(&app, day1, 8, 0);
        let jobs = app.claim(&key, 10, 6 * 3600).await;
        assert_eq!(jobs.len(), 4);
        let cod1 = deliver(&app, &key, job_of(&jobs, 200_000), 0).await;
        let cod2 = deliver(&app, &key, job_of(&jobs, 50_000), 0).await;
        move_to(&app, day1, 9, 0);
        let now = app.clock.now();
        let expired = app.db.write(move |conn| nongsan::orders::rules::expire_due(conn, now, 24)).await;
        assert_eq!(expired.expect("expiry runs").shipments, 1);
        move_to(&app, day1, 12, 0);
        let cod3 = deliver(&app, &key, job_of(&jobs, 30_000), 10_000).await;
        move_to(&app, day1, 13, 0);
        let cod4 = deliver(&app, &key, job_of(&jobs, 600_000), 0).await;
        run_rollups(&app).await;

        // Day 3: a helper enrols F5 and lists for them; F2 sells again, accepted by the helper (0.5 h).
        move_to(&app, day3, 8, 0);
        let f5 = enrol(&app, &helper_a, WARD_BUON_MA_THUOT).await;
        listing_for(&app, &helper_a, f5, "Mắc ca", "150k/kg", "10 kg").await;
        let o7 = order(&app, &l2, 1).await;
        move_to(&app, day3, 8, 30);
        accept(&app, &helper_a, Some(f2), &o7).await;
        run_rollups(&app).await;
        // A second run with nothing new changes nothing.
        run_rollups(&app).await;

        // Three months: day 0's, the next (days 1 and 3) and one with nothing new.
        let whole = format!("from={day0}&to={}", next_month + chrono::Months::new(2));
        let (h0, ha, hb) = ("Không qua người hỗ trợ", "Cán bộ Minh", "Cán bộ Minh");
        // households, self, by helper, active sellers, live, by helpers, orders, goods, delivered, delivered
        // value, cancelled, rejected, COD.
        let bmt = row(WARD_BUON_MA_THUOT, &ward_name(WARD_BUON_MA_THUOT),
            [2, 1, 1, 1, 2, 1, 2, 300_000, 1, 200_000, 1, 0, cod1], Some(2.5), Some(24.0));
        let ea_kao = row(WARD_EA_KAO, &ward_name(WARD_EA_KAO),
            [1, 0, 1, 1, 1, 1, 2, 100_000, 1, 50_000, 0, 0, cod2], Some(0.8), Some(24.0));
        let da_lat = row(WARD_DA_LAT, &ward_name(WARD_DA_LAT),
            [2, 1, 1, 2, 1, 1, 3, 660_000, 2, 630_000, 0, 1, cod3 + cod4], Some(13.5), Some(28.5));
        let dak_lak = plus(&bmt, &ea_kao, PROVINCE_DAK_LAK, &province_name(PROVINCE_DAK_LAK), Some(1.0), Some(24.0));
        let total = plus(&dak_lak, &da_lat, "total", "Tổng cộng", Some(2.5), Some(26.0));
        let lam_dong_row = {
            let mut row = da_lat.clone();
            row["key"] = json!(lam_dong.to_string());
            row["name"] = json!(province_name(lam_dong));
            row
        };
        let mut rows = [(PROVINCE_DAK_LAK, dak_lak.clone()), (lam_dong, lam_dong_row)];
        rows.sort_by_key(|(code, _)| *code);
        let rows: Vec<Value> = rows.into_iter().map(|(_, row)| row).collect();
        check(&app, &operator, &format!("{whole}&group=province"), &rows, &total).await;
        check(&app, &operator, &whole, &rows, &total).await;
        check(&app, &operator, &format!("{whole}&group=ward"), &[bmt.clone(), ea_kao.clone(), da_lat.clone()], &total).await;
        let in_dak_lak = format!("{whole}&group=ward&province={PROVINCE_DAK_LAK}");
        let dak_lak_total = { let mut t = dak_lak.clone(); t["key"] = json!("total"); t["name"] = json!("Tổng cộng"); t };
        check(&app, &operator, &in_dak_lak, &[bmt, ea_kao], &dak_lak_total).await;

        let alone = row(0, h0, [2, 2, 0, 2, 2, 0, 4, 360_000, 2, 230_000, 1, 1, cod1 + cod3], Some(3.3), Some(26.0));
        let by_a = row(helper_a_id, ha, [2, 0, 2, 1, 2, 2, 2, 100_000, 1, 50_000, 0, 0, cod2], Some(0.8), Some(24.0));
        let by_b = row(helper_b_id, hb, [1, 0, 1, 1, 0, 1, 1, 600_000, 1, 600_000, 0, 0, cod4], Some(23.0), Some(29.0));
        check(&app, &operator, &format!("{whole}&group=helper"), &[alone.clone(), by_a.clone(), by_b.clone()], &total).await;
        let team = |row: &Value, id: i64, name: &str| {
            let mut row = row.clone();
            row["key"] = json!(id.to_string());
            row["name"] = json!(name);
            row
        };
        let teams = [team(&alone, 0, "Không thuộc nhóm nào"), team(&by_a, team_a, "Tổ hỗ trợ"), team(&by_b, team_b, "Tổ hỗ trợ")];
        check(&app, &operator, &format!("{whole}&group=team"), &teams, &total).await;

        let month = |day: NaiveDate| day.format("%Y-%m").to_string();
        let first = row(month(day0), &month(day0), [4, 2, 2, 3, 3, 2, 6, 1_010_000, 0, 0, 0, 1, 0], Some(2.5), None);
        let second = row(month(day3), &month(day3),
            [1, 0, 1, 2, 4, 1, 1, 50_000, 4, 880_000, 1, 0, cod1 + cod2 + cod3 + cod4], Some(11.8), Some(26.0));
        // A month with nothing but listings still live at its end has a row too.
        let after = next_month + chrono::Months::new(1);
        let third = row(month(after), &month(after), [0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0], None, None);
        check(&app, &operator, &format!("{whole}&group=month"), &[first, second, third], &total).await;

        // Day 0 alone: what later days changed (an acceptance, an expiry, deliveries) stays on those days;
        // live listings are those counted on day 0 (F4's persimmons sold out that day).
        let day0_only = format!("from={day0}&to={day1}&group=province");
        let dak_lak0 = row(PROVINCE_DAK_LAK, &province_name(PROVINCE_DAK_LAK),
            [2, 1, 1, 2, 2, 1, 3, 350_000, 0, 0, 0, 0, 0], Some(1.8), None);
        let lam_dong0 = row(lam_dong, &province_name(lam_dong), [2, 1, 1, 1, 1, 1, 3, 660_000, 0, 0, 0, 1, 0], Some(4.0), None);
        let total0 = plus(&dak_lak0, &lam_dong0, "total", "Tổng cộng", Some(2.5), None);
        let mut rows0 = [(PROVINCE_DAK_LAK, dak_lak0), (lam_dong, lam_dong0)];
        rows0.sort_by_key(|(code, _)| *code);
        check(&app, &operator, &day0_only, &rows0.map(|(_, row)| row), &total0).await;

        // English names for the rows of nobody.
        let english = app.request("GET", &format!("/api/v1/admin/reports/impact?{whole}&group=helper"), Some(&operator))
            .header("Accept-Language", "en").send().await.expect("sent");
        let english = TestApp::expect_json(english, 200).await;
        assert_eq!(english["rows"][0]["name"], "No helper");
        assert_eq!(english["total"]["name"], "Total");
    }

    bad_report_parameters_are_422(app) {
        let operator = app.operator_token().await;
        let cases = [
            ("from=2026-02-30&to=2026-03-01", "invalid_date", "from"),
            ("from=2026-01-01&to=01/02/2026", "invalid_date", "to"),
            ("from=2026-02-01&to=2026-02-01", "empty_period", "from"),
            ("from=2026-03-01&to=2026-02-01", "empty_period", "from"),
            ("from=2000-01-01&to=2026-02-01", "period_too_long", "to"),
            ("group=district", "unknown_group", "group"),
            ("province=999", "unknown_province", "province"),
            ("province=abc", "invalid_code", "province"),
            ("ward=1", "unknown_ward", "ward"),
            ("format=xlsx", "unknown_format", "format"),
        ];
        for (query, code, field) in cases {
            let answer = app.request("GET", &format!("/api/v1/admin/reports/impact?{query}"), Some(&operator)).send().await;
            let problem = assert_problem(answer.expect("sent"), 422, "validation_failed").await;
            assert_eq!(problem["errors"][0]["field"], field, "{query}");
            assert_eq!(problem["errors"][0]["code"], code, "{query}");
        }
        let elsewhere = format!("province={PROVINCE_DAK_LAK}&ward={WARD_DA_LAT}");
        let answer = app.request("GET", &format!("/api/v1/admin/reports/impact?{elsewhere}"), Some(&operator)).send().await;
        let problem = assert_problem(answer.expect("sent"), 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["code"], "ward_not_in_province");
        // English on request.
        let answer = app.request("GET", "/api/v1/admin/reports/impact?group=x", Some(&operator))
            .header("Accept-Language", "en").send().await.expect("sent");
        let problem = assert_problem(answer, 422, "validation_failed").await;
        assert!(problem["errors"][0]["message"].as_str().expect("message").starts_with("`group` is"));
        // Without data the report is empty, with a zero total and null medians.
        let empty = report(&app, &operator, "").await;
        assert_eq!(empty["rows"], json!([]));
        assert_eq!(empty["total"]["orders"], 0);
        assert_eq!(empty["total"]["median_hours_to_accept"], Value::Null);
    }
}
