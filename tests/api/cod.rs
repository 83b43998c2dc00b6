//! COD reconciliation: delivered COD jobs record the cash collected, partners remit it (idempotently), and
//! the partner, operator and farmer views add up.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, assert_problem, random_suffix};
use crate::on_both_backends;

/// Today in Vietnam (UTC+7).
fn vietnam_today() -> chrono::NaiveDate {
    (Utc::now() + Duration::hours(7)).date_naive()
}

/// A period around today, so a run across Vietnam's midnight still counts today's deliveries.
fn around_today() -> String {
    let today = vietnam_today();
    format!("from={}&to={}", today - Duration::days(1), today + Duration::days(1))
}

/// A claimed job: (id, COD due, declared value = the shipment's items total, lease id).
fn job_of(job: &Value) -> (i64, i64, i64, Value) {
    (
        job["id"].as_i64().expect("id"),
        job["cod_vnd"].as_i64().expect("cod"),
        job["declared_value_vnd"].as_i64().expect("value"),
        job["lease"]["lease_id"].clone(),
    )
}

async fn pick_up(app: &TestApp, key: &str, job: &Value) {
    let (id, _, _, lease) = job_of(job);
    let body =
        json!({"event_id": format!("p{id}"), "status": "picked_up", "occurred_at": Utc::now(), "lease_id": lease});
    assert_eq!(TestApp::expect_json(app.job_event(key, id, &body).await, 200).await["outcome"], "applied");
}

/// Picks up and delivers a job, collecting `collected` (`None`: nothing was due), short of what was due only
/// with a `shortfall` reason.
async fn deliver_collecting(app: &TestApp, key: &str, job: &Value, collected: Option<i64>, shortfall: Option<&str>) {
    pick_up(app, key, job).await;
    let id = job_of(job).0;
    let body = json!({"event_id": format!("d{id}"), "status": "delivered", "occurred_at": Utc::now(),
        "cod_collected_vnd": collected, "cod_shortfall_reason": shortfall});
    let answer = TestApp::expect_json(app.job_event(key, id, &body).await, 200).await;
    assert_eq!(answer["job"]["cod_collected_vnd"], json!(collected));
}

async fn deliver(app: &TestApp, key: &str, job: &Value, collected: i64) {
    let shortfall = (collected < job_of(job).1).then_some("Khách chỉ nhận một phần hàng");
    deliver_collecting(app, key, job, Some(collected), shortfall).await;
}

async fn remit(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.post("/api/v1/partner/cod/remittances", Some(key), body).await
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    TestApp::expect_json(app.request("GET", path, Some(token)).send().await.expect("sent"), 200).await
}

/// (jobs, collected, remitted, outstanding) of a view.
fn figures(view: &Value) -> (i64, i64, i64, i64) {
    let field = |name: &str| view[name].as_i64().unwrap_or_else(|| panic!("{name} in {view}"));
    (field("jobs"), field("collected_vnd"), field("remitted_vnd"), field("outstanding_vnd"))
}

async fn job_error(app: &TestApp, key: &str, body: &Value) -> String {
    let problem = assert_problem(remit(app, key, body).await, 422, "jobs_not_remittable").await;
    problem["errors"][0]["code"].as_str().expect("code").to_owned()
}

on_both_backends! {
    a_seeded_day_adds_up_and_remittances_count_once(app) {
        let operator = app.operator_token().await;
        let (partner_id, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let (other_id, _, other_key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let open = app.open_jobs(5).await;
        let farmer = open[0].farmer.clone();
        let mine = app.claim(&key, 4, 600).await;
        let theirs = app.claim(&other_key, 1, 600).await;
        assert_eq!((mine.len(), theirs.len()), (4, 1));
        let (ids, cods, values): (Vec<i64>, Vec<i64>, Vec<i64>) = {
            let jobs: Vec<_> = mine.iter().map(job_of).collect();
            (jobs.iter().map(|j| j.0).collect(), jobs.iter().map(|j| j.1).collect(), jobs.iter().map(|j| j.2).collect())
        };
        // Jobs 0 and 2 collect in full, job 1 is 5,000 VND short, job 3 is only picked up.
        let collected = [cods[0], cods[1] - 5_000, cods[2]];
        for (job, amount) in mine.iter().zip(collected) {
            deliver(&app, &key, job, amount).await;
        }
        pick_up(&app, &key, &mine[3]).await;
        let (their_id, their_cod, their_value, _) = job_of(&theirs[0]);
        deliver(&app, &other_key, &theirs[0], their_cod).await;
        let collected_total: i64 = collected.iter().sum();
        // The farmer is told of each cash collection (in the app here; by text and email where they have them).
        let told = get(&app, "/api/v1/me/notifications", &farmer.token).await;
        let collections = told["items"].as_array().expect("items").iter().filter(|n| n["kind"] == "payment_collected").count();
        assert_eq!(collections, 4, "{told}");

        let view_path = format!("/api/v1/partner/cod?{}", around_today());
        let before = get(&app, &view_path, &key).await;
        assert_eq!(figures(&before), (3, collected_total, 0, collected_total));
        let today = get(&app, "/api/v1/partner/cod", &key).await;
        assert!([vietnam_today() - Duration::days(1), vietnam_today()].iter().any(|d| today["to"] == d.to_string()), "{today}");
        assert_eq!(today["from"], today["to"]);
        let long_ago = vietnam_today() - Duration::days(3);
        let empty = get(&app, &format!("/api/v1/partner/cod?from={long_ago}&to={long_ago}"), &key).await;
        assert_eq!(figures(&empty), (0, 0, 0, 0));

        // Remit jobs 0 and 1 (one of them short): the amount is what was collected.
        let remitted = collected[0] + collected[1];
        let body = json!({"remittance_id": "rem-1", "amount_vnd": remitted, "job_ids": [ids[1], ids[0]]});
        let first = TestApp::expect_json(remit(&app, &key, &body).await, 200).await;
        assert_eq!(first["remittance_id"], "rem-1");
        assert_eq!(first["amount_vnd"], remitted);
        assert_eq!(first["job_ids"], json!([ids[0], ids[1]]));
        assert!(first["created_at"].as_str().is_some(), "{first}");
        let after = get(&app, &view_path, &key).await;
        assert_eq!(figures(&after), (3, collected_total, remitted, collected_total - remitted));
        assert_eq!(after["outstanding_vnd"], collected[2]);

        // The same remittance again (job ids in another order) answers the same and changes nothing.
        let replay = json!({"remittance_id": "rem-1", "amount_vnd": remitted, "job_ids": [ids[0], ids[1]]});
        for body in [&body, &replay] {
            assert_eq!(TestApp::expect_json(remit(&app, &key, body).await, 200).await, first);
        }
        assert_eq!(figures(&get(&app, &view_path, &key).await), figures(&after));
        // The same id with another body is refused.
        let changed = json!({"remittance_id": "rem-1", "amount_vnd": collected[0], "job_ids": [ids[0]]});
        assert_problem(remit(&app, &key, &changed).await, 422, "remittance_id_reused").await;
        let changed = json!({"remittance_id": "rem-1", "amount_vnd": collected[2], "job_ids": [ids[2]]});
        assert_problem(remit(&app, &key, &changed).await, 422, "remittance_id_reused").await;

        // A wrong amount names the right one.
        let wrong = json!({"remittance_id": "rem-2", "amount_vnd": collected[2] + 1, "job_ids": [ids[2]]});
        let problem = assert_problem(remit(&app, &key, &wrong).await, 422, "amount_mismatch").await;
        assert!(problem["detail"].as_str().expect("detail").contains(&collected[2].to_string()), "{problem}");
        assert_eq!(problem["errors"][0]["field"], "amount_vnd");
        // Another partner's job, a job not delivered, one already remitted, one that does not exist.
        let refused = |job: i64, amount: i64| json!({"remittance_id": "rem-2", "amount_vnd": amount, "job_ids": [ids[2], job]});
        assert_eq!(job_error(&app, &key, &refused(their_id, collected[2] + their_cod)).await, "job_unknown");
        assert_eq!(job_error(&app, &key, &refused(ids[3], collected[2])).await, "job_not_delivered");
        assert_eq!(job_error(&app, &key, &refused(ids[0], collected[2] + collected[0])).await, "job_already_remitted");
        assert_eq!(job_error(&app, &key, &refused(i64::MAX, collected[2])).await, "job_unknown");
        // Nothing refused was recorded: the figures still stand, and rem-2 is free for the right body.
        assert_eq!(figures(&get(&app, &view_path, &key).await), figures(&after));
        let invalid = json!({"remittance_id": "", "amount_vnd": -1, "job_ids": [ids[2], ids[2]]});
        let problem = assert_problem(remit(&app, &key, &invalid).await, 422, "validation_failed").await;
        let codes: Vec<&str> = problem["errors"].as_array().expect("errors").iter().map(|e| e["code"].as_str().expect("code")).collect();
        assert_eq!(codes, ["remittance_id_required", "amount_negative", "job_id_repeated"]);

        // The operator sees both partners, and totals that are their sums.
        let admin = get(&app, &format!("/api/v1/admin/cod?{}", around_today()), &operator).await;
        let rows = admin["partners"].as_array().expect("partners");
        let row = |id: i64| rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("partner {id} in {admin}"));
        assert_eq!(figures(row(partner_id)), figures(&after));
        assert_eq!(row(partner_id)["name"], "Bưu điện Việt Nam");
        assert_eq!(figures(row(other_id)), (1, their_cod, 0, their_cod));
        assert_eq!(rows.len(), 2);
        let total = collected_total + their_cod;
        assert_eq!(figures(&admin["totals"]), (4, total, remitted, total - remitted));

        // The farmer: jobs 0 and 1 remitted (paid out, job 1 less the 5,000 VND never collected); job 2 and the
        // other partner's delivery owed; job 3 not delivered, so in neither.
        let cod = get(&app, "/api/v1/me/cod", &farmer.token).await;
        assert_eq!(cod["paid_out_shipments"], 2);
        assert_eq!(cod["paid_out_vnd"], values[0] + values[1] - 5_000);
        assert_eq!(cod["owed_shipments"], 2);
        assert_eq!(cod["owed_vnd"], values[2] + their_value);

        // The other partner remits; the farmer's money has then all reached the marketplace.
        let theirs_body = json!({"remittance_id": "rem-1", "amount_vnd": their_cod, "job_ids": [their_id]});
        TestApp::expect_json(remit(&app, &other_key, &theirs_body).await, 200).await;
        let wrong_partner = json!({"remittance_id": "rem-3", "amount_vnd": collected[2], "job_ids": [ids[2]]});
        assert_eq!(job_error(&app, &other_key, &wrong_partner).await, "job_unknown");
        let last = json!({"remittance_id": "rem-2", "amount_vnd": collected[2], "job_ids": [ids[2]]});
        TestApp::expect_json(remit(&app, &key, &last).await, 200).await;
        let cod = get(&app, "/api/v1/me/cod", &farmer.token).await;
        assert_eq!((cod["owed_shipments"].as_i64(), cod["owed_vnd"].as_i64()), (Some(0), Some(0)));
        assert_eq!(cod["paid_out_vnd"], values[0] + values[1] - 5_000 + values[2] + their_value);
        let admin = get(&app, &format!("/api/v1/admin/cod?{}", around_today()), &operator).await;
        assert_eq!(figures(&admin["totals"]), (4, total, total, 0));
    }

    concurrent_identical_remittances_are_recorded_once(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        app.open_jobs(2).await;
        let jobs = app.claim(&key, 2, 600).await;
        let mut amount = 0;
        for job in &jobs {
            let cod = job_of(job).1;
            deliver(&app, &key, job, cod).await;
            amount += cod;
        }
        let ids: Vec<i64> = jobs.iter().map(|j| job_of(j).0).collect();
        let body = json!({"remittance_id": format!("rem-{}", random_suffix()), "amount_vnd": amount, "job_ids": ids});
        let app = std::sync::Arc::new(app);
        let sends: Vec<_> = (0..6)
            .map(|_| {
                let (app, key, body) = (app.clone(), key.clone(), body.clone());
                tokio::spawn(async move { TestApp::expect_json(remit(&app, &key, &body).await, 200).await })
            })
            .collect();
        let mut answers = Vec::new();
        for send in sends {
            answers.push(send.await.expect("send"));
        }
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
        let view = get(&app, &format!("/api/v1/partner/cod?{}", around_today()), &key).await;
        assert_eq!(figures(&view), (2, amount, amount, 0));
    }

    a_delivery_paid_by_transfer_is_paid_out_and_no_cod(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let placed = app.transfer_order(&farmer).await;
        app.accept_first_shipment(&farmer, &placed).await;
        app.mark_paid(&operator, &placed).await;
        let job = app.claim(&key, 1, 600).await.remove(0);
        assert_eq!(job["cod_vnd"], 0);
        let nothing = get(&app, "/api/v1/me/cod", &farmer.token).await;
        let farmer_view = |paid_out: i64, shipments: i64| json!({"owed_vnd": 0, "owed_shipments": 0,
            "paid_out_vnd": paid_out, "paid_out_shipments": shipments, "shortfall_vnd": 0, "discrepancies": []});
        assert_eq!(nothing, farmer_view(0, 0));
        deliver_collecting(&app, &key, &job, None, None).await;

        let cod = get(&app, "/api/v1/me/cod", &farmer.token).await;
        assert_eq!(cod, farmer_view(240_000, 1));
        let view = get(&app, &format!("/api/v1/partner/cod?{}", around_today()), &key).await;
        assert_eq!(figures(&view), (0, 0, 0, 0), "no cash was collected");
        let id = job_of(&job).0;
        let remit_it = json!({"remittance_id": "rem-1", "amount_vnd": 0, "job_ids": [id]});
        assert_eq!(job_error(&app, &key, &remit_it).await, "cod_not_collected");
    }

    bad_periods_are_refused(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let bad = app.request("GET", "/api/v1/partner/cod?from=2026-13-01", Some(&key)).send().await.expect("sent");
        let problem = assert_problem(bad, 422, "validation_failed").await;
        assert_eq!((problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()), (Some("from"), Some("date_invalid")));
        let reversed = "/api/v1/admin/cod?from=2026-11-24&to=2026-11-23";
        let problem = assert_problem(app.request("GET", reversed, Some(&operator)).send().await.expect("sent"), 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["code"], "period_reversed");
        let long = "/api/v1/partner/cod?from=2025-01-01&to=2026-01-02";
        let problem = assert_problem(app.request("GET", long, Some(&key)).send().await.expect("sent"), 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["code"], "period_too_long");
        let english = app.request("GET", "/api/v1/partner/cod?to=soon", Some(&key)).header("Accept-Language", "en");
        let problem = assert_problem(english.send().await.expect("sent"), 422, "validation_failed").await;
        assert!(problem["errors"][0]["message"].as_str().expect("message").contains("YYYY-MM-DD"), "{problem}");
    }
}
