//! Partners pull fulfilment jobs: exclusive claims under leases, a forward-only status history, and the
//! same timeline for buyer, farmer and helper.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, assert_problem};
use crate::on_both_backends;

fn event(event_id: &str, status: &str, lease: Option<&Value>) -> Value {
    let mut body = json!({"event_id": event_id, "status": status, "occurred_at": chrono::Utc::now()});
    if let Some(lease) = lease {
        body["lease_id"] = lease.clone();
    }
    body
}

on_both_backends! {
    a_job_shows_no_phone_or_street_before_its_claim(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let (_, _, elsewhere) = app.partner(&operator, &[1]).await;
        let open = app.open_jobs(1).await;
        let listed = app.request("GET", "/api/v1/partner/jobs", Some(&key)).send().await.expect("sent");
        let listed = TestApp::expect_json(listed, 200).await;
        let job = &listed["jobs"][0];
        let text = listed.to_string();
        assert!(!text.contains("Trần Phú") && !text.contains(&open[0].buyer_phone.replace(' ', "")[1..]), "{text}");
        assert!(!text.contains(&open[0].farmer.phone.replace(' ', "")[1..]), "{text}");
        assert_eq!(job["details"], Value::Null);
        assert_eq!(job["pickup"]["province"]["code"], PROVINCE_DAK_LAK);
        assert!(job["cod_vnd"].as_i64().expect("cod") > 80_000, "{job}");
        let path = format!("/api/v1/partner/jobs/{}", job["id"]);
        let one = TestApp::expect_json(app.request("GET", &path, Some(&key)).send().await.expect("sent"), 200).await;
        assert_eq!(one["details"], Value::Null);
        assert_problem(app.request("GET", &path, Some(&elsewhere)).send().await.expect("sent"), 404, "not_found").await;
        assert!(app.claim(&elsewhere, 10, 60).await.is_empty(), "a partner of another province claims nothing");

        let claimed = app.claim(&key, 10, 60).await;
        assert_eq!(claimed.len(), 1);
        let details = &claimed[0]["details"];
        assert_eq!(details["order_code"], open[0].order_code.as_str());
        assert!(details["dropoff"]["address"].as_str().expect("address").starts_with("12 Trần Phú"), "{details}");
        assert!(details["dropoff"]["phone"].as_str().is_some() && details["pickup"]["phone"].as_str().is_some());
        assert!(claimed[0]["lease"]["lease_id"].as_str().is_some_and(|l| l.starts_with("lse_")));
    }

    an_expired_lease_frees_the_job_and_its_lease_id_is_refused(app) {
        let operator = app.operator_token().await;
        let (_, _, first) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let (_, _, second) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        app.open_jobs(1).await;
        let claimed = app.claim(&first, 1, 1).await;
        let (id, old_lease) = (claimed[0]["id"].as_i64().expect("id"), claimed[0]["lease"]["lease_id"].clone());
        assert!(app.claim(&second, 1, 60).await.is_empty(), "held while the lease is live");
        tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
        let late = app.job_event(&first, id, &event("e1", "picked_up", Some(&old_lease))).await;
        assert_problem(late, 409, "lease_not_live").await;
        let now = app.clock.now();
        let swept = app
            .db
            .write(move |conn| nongsan::fulfilment::store::sweep_expired_leases(conn, now, 3))
            .await
            .expect("sweep");
        assert_eq!(swept, 1);
        let again = app.claim(&second, 1, 60).await;
        assert_eq!(again[0]["id"], id);
        assert_eq!(again[0]["attempts"], 1, "the lapsed claim counts");
        let extend = json!({"lease_id": old_lease, "lease_seconds": 60});
        assert_problem(app.post(&format!("/api/v1/partner/jobs/{id}/extend"), Some(&first), &extend).await, 404, "not_found").await;
        let release = json!({"lease_id": old_lease});
        let stale = app.post(&format!("/api/v1/partner/jobs/{id}/release"), Some(&second), &release).await;
        assert_problem(stale, 409, "lease_not_live").await;
        let picked = app.job_event(&second, id, &event("e1", "picked_up", Some(&again[0]["lease"]["lease_id"]))).await;
        assert_eq!(TestApp::expect_json(picked, 200).await["outcome"], "applied");
    }

    states_only_move_forward_and_an_event_counts_once(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let open = app.open_jobs(2).await;
        let claimed = app.claim(&key, 2, 60).await;
        let (id, lease) = (claimed[0]["id"].as_i64().expect("id"), claimed[0]["lease"]["lease_id"].clone());
        let no_lease = assert_problem(app.job_event(&key, id, &event("p0", "picked_up", None)).await, 422, "validation_failed").await;
        assert_eq!(no_lease["errors"][0]["code"], "lease_required");
        let picked = app.job_event(&key, id, &event("p1", "picked_up", Some(&lease))).await;
        assert_eq!(TestApp::expect_json(picked, 200).await["job"]["lease"], Value::Null);
        let cod = claimed[0]["cod_vnd"].as_i64().expect("cod");
        let no_cash = app.job_event(&key, id, &event("d0", "delivered", None)).await;
        assert_eq!(assert_problem(no_cash, 422, "validation_failed").await["errors"][0]["code"], "cod_collected_required");
        let mut delivered = event("d1", "delivered", None);
        delivered["cod_collected_vnd"] = json!(cod);
        let answer = TestApp::expect_json(app.job_event(&key, id, &delivered).await, 200).await;
        assert_eq!((answer["outcome"].as_str(), answer["job"]["status"].as_str()), (Some("applied"), Some("delivered")));
        let late = TestApp::expect_json(app.job_event(&key, id, &event("t1", "in_transit", None)).await, 200).await;
        assert_eq!((late["outcome"].as_str(), late["job"]["status"].as_str()), (Some("late"), Some("delivered")));
        let again = TestApp::expect_json(app.job_event(&key, id, &event("t1", "in_transit", None)).await, 200).await;
        assert_eq!(again["outcome"], "duplicate");
        assert_problem(app.job_event(&key, id, &event("r1", "returning", None)).await, 409, "job_state").await;

        // The buyer's order page shows the timeline: picked up, delivered, and the late scan once.
        let order = format!("/api/v1/orders/{}?phone={}", open[0].order_code, open[0].buyer_phone.replace(' ', ""));
        let order = app.get_json(&order).await;
        let delivery = &order["shipments"][0]["delivery"];
        let steps: Vec<(&str, bool)> = delivery["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| (e["status"].as_str().expect("status"), e["applied"].as_bool().expect("applied")))
            .collect();
        assert_eq!(steps, [("picked_up", true), ("delivered", true), ("in_transit", false)]);
        assert_eq!(delivery["status"], "delivered");
        assert_eq!(delivery["carrier"], "Bưu điện Việt Nam");
        // The farmer sees the same timeline.
        let mine = app.request("GET", "/api/v1/me/shipments", Some(&open[0].farmer.token)).send().await.expect("sent");
        let mine = TestApp::expect_json(mine, 200).await;
        let theirs = mine["items"].as_array().expect("items").iter().find(|s| s["order_code"] == open[0].order_code.as_str()).expect("shipment");
        assert_eq!(theirs["shipment"]["delivery"], *delivery);

        // The second job: cancelled by its buyer before pickup, so a pickup is 409.
        let (other, other_lease) = (claimed[1]["id"].as_i64().expect("id"), claimed[1]["lease"]["lease_id"].clone());
        let cancel = format!("/api/v1/orders/{}/cancel?phone={}", open[1].order_code, open[1].buyer_phone.replace(' ', ""));
        assert_eq!(app.post(&cancel, None, &json!({})).await.status(), 200);
        let refused = app.job_event(&key, other, &event("p2", "picked_up", Some(&other_lease))).await;
        assert_problem(refused, 409, "job_state").await;
        // And the delivered order can no longer be cancelled.
        let cancel = format!("/api/v1/orders/{}/cancel?phone={}", open[0].order_code, open[0].buyer_phone.replace(' ', ""));
        assert_problem(app.post(&cancel, None, &json!({})).await, 409, "already_picked_up").await;
    }
}

on_both_backends! {
    a_transfer_order_becomes_a_job_only_once_paid(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let placed = app.transfer_order(&farmer).await;
        app.accept_first_shipment(&farmer, &placed).await;
        assert!(app.claim(&key, 10, 60).await.is_empty(), "accepted but unpaid: no carrier is sent");
        app.mark_paid(&operator, &placed).await;
        let claimed = app.claim(&key, 10, 60).await;
        assert_eq!(claimed.len(), 1);
        assert_eq!((claimed[0]["cod_vnd"].as_i64(), claimed[0]["declared_value_vnd"].as_i64()), (Some(0), Some(240_000)));
        assert_eq!(claimed[0]["weight_g"], 2_000);
        assert_eq!(claimed[0]["details"]["items"], "Cà phê Robusta × 2 kg");
    }

    the_buyer_is_emailed_at_each_step_they_wait_for(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
        app.open_jobs(1).await;
        app.run_outbox().await.expect("outbox");
        let before = app.mailer.sent().len();
        let job = &app.claim(&key, 1, 60).await[0];
        let id = job["id"].as_i64().expect("id");
        let mut steps = vec![event("s1", "picked_up", Some(&job["lease"]["lease_id"])), event("s2", "in_transit", None)];
        steps.extend(["out_for_delivery", "delivery_failed", "out_for_delivery"].iter().enumerate().map(|(i, s)| event(&format!("s{}", i + 3), s, None)));
        let mut delivered = event("s6", "delivered", None);
        delivered["cod_collected_vnd"] = job["cod_vnd"].clone();
        steps.push(delivered);
        for step in &steps {
            assert_eq!(TestApp::expect_json(app.job_event(&key, id, step).await, 200).await["outcome"], "applied", "{step}");
        }
        app.run_outbox().await.expect("outbox");
        let subjects: Vec<String> = app.mailer.sent()[before..].iter().filter(|m| m.to == "mai@example.vn").map(|m| m.subject.clone()).collect();
        let expected = ["hàng đã được lấy", "đang giao tới bạn", "chưa giao được", "đang giao tới bạn", "đã giao thành công"];
        assert_eq!(subjects.len(), expected.len(), "{subjects:?}");
        for (subject, words) in subjects.iter().zip(expected) {
            assert!(subject.contains(words), "{subject} should say {words}");
        }
    }
}

/// `workers` concurrent claimers from three partners drain `jobs` jobs; each job is claimed exactly once.
async fn drain(apps: Vec<Arc<TestApp>>, jobs: usize) {
    let app = &apps[0];
    let operator = app.operator_token().await;
    let mut keys = Vec::new();
    for _ in 0..3 {
        keys.push(app.partner(&operator, &[PROVINCE_DAK_LAK]).await.2);
    }
    let open = app.open_jobs(jobs).await;
    assert_eq!(open.len(), jobs);
    let mut workers = Vec::new();
    for worker in 0..8 {
        let (app, key) = (apps[worker % apps.len()].clone(), keys[worker % 3].clone());
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = app.claim(&key, 7, 300).await;
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.iter().map(|job| job["id"].as_i64().expect("id")));
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("worker"));
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), jobs, "claims");
    assert_eq!(distinct.len(), jobs, "each job once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_workers_drain_a_thousand_jobs_exactly_once_on_sqlite() {
    drain(vec![Arc::new(TestApp::sqlite_with(|s| s.db_timeout_ms = 60_000).await)], 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_workers_drain_a_thousand_jobs_exactly_once_on_postgres() {
    let Some(app) = TestApp::postgres_with(|s| s.db_timeout_ms = 60_000).await else { return };
    drain(vec![Arc::new(app)], 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_workers_on_two_instances_drain_a_thousand_jobs_exactly_once_on_postgres() {
    let Some(app) = TestApp::postgres_with(|s| s.db_timeout_ms = 60_000).await else { return };
    let second = app.another_instance().await;
    drain(vec![Arc::new(app), Arc::new(second)], 1_000).await;
}
