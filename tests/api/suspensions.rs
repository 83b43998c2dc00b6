//! Operators stop a bad actor (issue 16): a suspended helper, team, partner and farmer each get 403 with a
//! code of their own until reinstated, a suspended farmer's listings leave the catalogue, a suspended
//! partner's webhook gets no call, and every act is in the operators' audit log. Also what a partner keeps
//! of a job: a trace of each claim and release, a call that keeps failing given up, and no contacts once a
//! job ended two weeks ago.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::gateway::Gateway;
use crate::helpers::{
    PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, assert_problem, fresh_phone, guest_order, random_suffix,
};
use crate::on_both_backends;
use crate::pages::PageVisitor;
use nongsan::db::schema::{fulfilment_jobs, job_holds, outbox};
use nongsan::domain::status::{Channel, HoldEnding, OutboxStatus};

async fn set(
    app: &TestApp,
    operator: &str,
    method: &str,
    subject: &str,
    id: i64,
    reason: Option<&str>,
) -> reqwest::Response {
    let request = app.request(method, &format!("/api/v1/admin/suspensions/{subject}/{id}"), Some(operator));
    let request = if method == "PUT" { request.json(&json!({ "reason": reason })) } else { request };
    request.send().await.expect("sent")
}

async fn suspend(app: &TestApp, operator: &str, subject: &str, id: i64) {
    let answer =
        TestApp::expect_json(set(app, operator, "PUT", subject, id, Some("Lừa đảo người bán")).await, 200).await;
    assert!(answer["suspended_at"].is_string(), "{answer}");
}

async fn reinstate(app: &TestApp, operator: &str, subject: &str, id: i64) {
    let answer = TestApp::expect_json(set(app, operator, "DELETE", subject, id, None).await, 200).await;
    assert!(answer["suspended_at"].is_null(), "{answer}");
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request("GET", path, Some(token)).send().await.expect("sent")
}

async fn searched(app: &TestApp, words: &str) -> Vec<Value> {
    let found = app.get_json(&format!("/api/v1/listings?q={words}")).await;
    found["items"].as_array().expect("items").clone()
}

on_both_backends! {
    a_suspended_helper_team_partner_and_farmer_each_get_403_until_reinstated_and_it_is_all_audited(app) {
        let operator = app.operator_token().await;
        let (team_id, helper_id, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
        let (partner_id, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let listing = app.listing(&farmer.token, "Măng cụt Lái Thiêu", "60k/kg", "30 kg").await;
        let paused = app.listing(&farmer.token, "Chôm chôm nhãn", "40k/kg", "30 kg").await;
        let pause = app.request("PATCH", &format!("/api/v1/listings/{}", paused["id"]), Some(&farmer.token))
            .json(&json!({"status": "paused"})).send().await.expect("sent");
        assert_eq!(pause.status(), 200);

        // Only operators, only with a reason, only something that exists.
        assert_problem(set(&app, &helper, "PUT", "helper", helper_id, Some("x")).await, 403, "forbidden_role").await;
        assert_problem(set(&app, &operator, "PUT", "helper", helper_id, None).await, 422, "validation_failed").await;
        assert_problem(set(&app, &operator, "PUT", "helper", 999_999, Some("x")).await, 404, "not_found").await;
        assert_problem(set(&app, &operator, "PUT", "farmer", helper_id, Some("x")).await, 404, "not_found").await;
        assert_problem(set(&app, &operator, "PUT", "wizard", helper_id, Some("x")).await, 404, "not_found").await;

        suspend(&app, &operator, "helper", helper_id).await;
        assert_problem(status_of(&app, "/api/v1/helper/farmers", &helper).await, 403, "account_suspended").await;
        reinstate(&app, &operator, "helper", helper_id).await;
        assert_eq!(status_of(&app, "/api/v1/helper/farmers", &helper).await.status(), 200);

        suspend(&app, &operator, "team", team_id).await;
        assert_problem(status_of(&app, "/api/v1/helper/farmers", &helper).await, 403, "team_suspended").await;
        reinstate(&app, &operator, "team", team_id).await;
        assert_eq!(status_of(&app, "/api/v1/helper/farmers", &helper).await.status(), 200);

        suspend(&app, &operator, "partner", partner_id).await;
        assert_problem(status_of(&app, "/api/v1/partner/jobs", &key).await, 403, "partner_suspended").await;
        reinstate(&app, &operator, "partner", partner_id).await;
        assert_eq!(status_of(&app, "/api/v1/partner/jobs", &key).await.status(), 200);

        assert_eq!(searched(&app, "mang cut").await.len(), 1);
        suspend(&app, &operator, "farmer", farmer.id).await;
        // Suspending again changes nothing (but is recorded).
        suspend(&app, &operator, "farmer", farmer.id).await;
        assert_problem(status_of(&app, "/api/v1/me", &farmer.token).await, 403, "account_suspended").await;
        let acting = app.request("GET", "/api/v1/me", Some(&helper)).header("X-On-Behalf-Of", farmer.id.to_string());
        assert_problem(acting.send().await.expect("sent"), 403, "farmer_suspended").await;
        assert!(searched(&app, "mang cut").await.is_empty(), "a suspended farmer's listing leaves the catalogue");
        let order = guest_order(&listing["id"], 1, &fresh_phone());
        let refused = app.place_order(None, &random_suffix(), &order).await;
        assert_eq!(refused.status(), 422, "no order on a suspended farmer's listing");
        reinstate(&app, &operator, "farmer", farmer.id).await;
        assert_eq!(status_of(&app, "/api/v1/me", &farmer.token).await.status(), 200);
        assert_eq!(searched(&app, "mang cut").await.len(), 1, "back in the catalogue");
        assert!(searched(&app, "chom chom").await.is_empty(), "what the farmer paused stays paused");

        let audit = TestApp::expect_json(status_of(&app, "/api/v1/admin/audit?limit=100", &operator).await, 200).await;
        let acts: Vec<(String, String)> = audit["items"].as_array().expect("items").iter()
            .map(|a| (a["action"].as_str().unwrap_or_default().to_owned(), a["subject"].as_str().unwrap_or_default().to_owned()))
            .collect();
        assert_eq!(acts.len(), 9, "{audit}");
        assert_eq!(acts[0], ("reinstate".to_owned(), "farmer".to_owned()));
        assert_eq!(acts[8], ("suspend".to_owned(), "helper".to_owned()));
        assert_eq!(audit["items"][8]["reason"], "Lừa đảo người bán");
        let about = format!("/api/v1/admin/audit?subject=partner&subject_id={partner_id}");
        let about = TestApp::expect_json(status_of(&app, &about, &operator).await, 200).await;
        assert_eq!(about["items"].as_array().map(Vec::len), Some(2), "{about}");
    }

    an_operator_suspends_and_reinstates_from_the_page_and_a_missing_reason_is_said_beside_its_field(app) {
        let operator = app.operator_token().await;
        let (partner_id, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let mut browser = PageVisitor::new(&app);
        browser.cookies.insert("ns_session".into(), operator);
        browser.get("/operator").await.assert_shows("Tạm ngừng hoặc cho hoạt động lại");
        let id = partner_id.to_string();
        let fields = |reason: &'static str, action: &'static str| {
            [("subject", "partner"), ("id", id.as_str()), ("reason", reason), ("action", action)]
        };
        let refused = browser.post("/operator/suspensions", &fields("", "suspend")).await;
        assert_eq!(refused.status, 422);
        refused.assert_shows("id=\"stop-reason-e\"");
        assert_eq!(status_of(&app, "/api/v1/partner/jobs", &key).await.status(), 200);
        let done = browser.post("/operator/suspensions", &fields("Giao hàng giả", "suspend")).await;
        assert_eq!(done.status, 201);
        done.assert_shows(&format!("Đã tạm ngừng đối tác (mã {partner_id})"));
        assert_problem(status_of(&app, "/api/v1/partner/jobs", &key).await, 403, "partner_suspended").await;
        let back = browser.post("/operator/suspensions", &fields("", "reinstate")).await;
        back.assert_shows(&format!("Đã cho hoạt động lại đối tác (mã {partner_id})"));
        assert_eq!(status_of(&app, "/api/v1/partner/jobs", &key).await.status(), 200);
    }

    a_suspended_partners_webhook_gets_no_call(app) {
        let operator = app.operator_token().await;
        let (partner_id, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let receiver = Gateway::start().await;
        let hook = app.request("PUT", "/api/v1/partner/webhook", Some(&key))
            .json(&json!({"url": receiver.url, "secret": "whsec-suspended-0123456789"})).send().await.expect("sent");
        assert_eq!(hook.status(), 200);
        app.open_jobs(1).await;
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(receiver.received().len(), 1, "told while active");
        suspend(&app, &operator, "partner", partner_id).await;
        app.open_jobs(1).await;
        app.run_outbox().await.expect("outbox runs");
        assert_eq!(receiver.received().len(), 1, "a suspended partner is told nothing");
    }

    a_partner_call_that_keeps_failing_is_given_up_and_flagged(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        // A port nothing listens on: every call fails at once.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let url = format!("http://127.0.0.1:{}/hook", dead.local_addr().expect("addr").port());
        drop(dead);
        let hook = app.request("PUT", "/api/v1/partner/webhook", Some(&key))
            .json(&json!({"url": url, "secret": "whsec-failing-0123456789"})).send().await.expect("sent");
        assert_eq!(hook.status(), 200);
        app.open_jobs(1).await;
        let webhook_rows = |app: &TestApp| {
            let db = app.db.clone();
            async move {
                db.read(|conn| Ok(nongsan::with_conn!(conn, |c| outbox::table
                    .filter(outbox::channel.eq(Channel::Webhook))
                    .select((outbox::status, outbox::attempts))
                    .load::<(OutboxStatus, i32)>(c))?)).await.expect("rows")
            }
        };
        for _ in 0..nongsan::outbox::WEBHOOK_ATTEMPTS {
            app.run_lane(Channel::Webhook).await.expect("lane runs");
            app.clock.advance(Duration::minutes(11));
        }
        let rows = webhook_rows(&app).await;
        assert_eq!(rows, vec![(OutboxStatus::Failed, nongsan::outbox::WEBHOOK_ATTEMPTS)]);
        app.clock.advance(Duration::hours(1));
        assert_eq!(app.run_lane(Channel::Webhook).await.expect("lane runs"), 0);
        assert_eq!(webhook_rows(&app).await, rows, "no attempt after giving up");
    }

    claim_read_release_leaves_a_trace_and_counts_as_an_attempt(app) {
        let operator = app.operator_token().await;
        let (partner_id, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        app.open_jobs(1).await;
        let job = app.claim(&key, 1, 60).await.remove(0);
        let id = job["id"].as_i64().expect("id");
        assert!(job["details"]["dropoff"]["phone"].is_string(), "the holder reads the contacts");
        let release = app.post(&format!("/api/v1/partner/jobs/{id}/release"), Some(&key), &json!({"lease_id": job["lease"]["lease_id"]})).await;
        let released = TestApp::expect_json(release, 200).await;
        assert_eq!((released["status"].as_str(), released["attempts"].as_i64()), (Some("available"), Some(1)));
        // Claimed again and left to lapse.
        app.claim(&key, 1, 60).await;
        app.clock.advance(Duration::seconds(61));
        let (db, now) = (app.db.clone(), app.clock.now());
        assert_eq!(db.write(move |conn| nongsan::fulfilment::store::sweep_expired_leases(conn, now, 5)).await.expect("sweep"), 1);
        let holds: Vec<(i64, Option<HoldEnding>, bool)> = app.db.read(move |conn| Ok(nongsan::with_conn!(conn, |c| job_holds::table
            .filter(job_holds::job_id.eq(id))
            .order(job_holds::id)
            .select((job_holds::partner_id, job_holds::ending, job_holds::ended_at.is_not_null()))
            .load(c))?)).await.expect("holds");
        assert_eq!(holds, vec![(partner_id, Some(HoldEnding::Released), true), (partner_id, Some(HoldEnding::Lapsed), true)]);
        let attempts: i32 = app.db.read(move |conn| Ok(nongsan::with_conn!(conn, |c| fulfilment_jobs::table.find(id).select(fulfilment_jobs::attempts).first(c))?)).await.expect("job");
        assert_eq!(attempts, 2);
    }

    a_partner_sees_a_delivered_jobs_contacts_for_fourteen_days_then_no_longer(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        app.open_jobs(1).await;
        let job = app.claim(&key, 1, 600).await.remove(0);
        let (id, lease) = (job["id"].as_i64().expect("id"), job["lease"]["lease_id"].clone());
        let picked = json!({"event_id": "p1", "status": "picked_up", "occurred_at": chrono::Utc::now(), "lease_id": lease});
        assert_eq!(app.job_event(&key, id, &picked).await.status(), 200);
        let delivered = json!({"event_id": "d1", "status": "delivered", "occurred_at": chrono::Utc::now(), "cod_collected_vnd": job["cod_vnd"]});
        assert_eq!(app.job_event(&key, id, &delivered).await.status(), 200);
        let path = format!("/api/v1/partner/jobs/{id}");
        app.clock.advance(Duration::days(13));
        let seen = TestApp::expect_json(status_of(&app, &path, &key).await, 200).await;
        assert!(seen["details"]["dropoff"]["phone"].is_string(), "{seen}");
        app.clock.advance(Duration::days(2));
        let seen = TestApp::expect_json(status_of(&app, &path, &key).await, 200).await;
        assert!(seen["details"].is_null(), "{seen}");
        assert_eq!(seen["status"], "delivered", "the job itself stays visible");
    }
}
