//! Exactly-once under retries and across instances: every order asked for N times with one key is one
//! order, every partner event sent twice counts once, and two instances on one database share orders,
//! claims and the outbox without doing anything twice.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{PROVINCE_DAK_LAK, TestApp, WARD_BUON_MA_THUOT, fresh_phone, guest_order, random_suffix};
use crate::on_both_backends;
use nongsan::db::schema::{job_events, order_lines, outbox};

const ORDERS: usize = 40;

/// Sends one order with its key: a copy sent while another runs waits for it and answers the same order, so
/// every copy is acknowledged at once. Returns the order code.
async fn place_copy(app: &TestApp, key: &str, body: &Value) -> String {
    let answer = app.place_order(None, key, body).await;
    match answer.status().as_u16() {
        201 => answer.json::<Value>().await.expect("order")["code"].as_str().expect("code").into(),
        other => panic!("copy of {key} answered {other}: {}", answer.text().await.unwrap_or_default()),
    }
}

/// Orders of a listing in the database (lines, since each order here has one line).
async fn orders_of(app: &TestApp, listing_id: i64) -> i64 {
    app.db
        .read(move |conn| {
            Ok(nongsan::with_conn!(conn, |c| order_lines::table
                .filter(order_lines::listing_id.eq(listing_id))
                .count()
                .get_result::<i64>(c))?)
        })
        .await
        .expect("count")
}

/// Each of `ORDERS` orders sent 3 to 5 times at once with its key, spread over `apps`: exactly `ORDERS`
/// orders exist, every copy of one order answers 201 and the same code, and the stock went down by `ORDERS`.
async fn retry_storm(apps: &[Arc<TestApp>]) {
    let app = &apps[0];
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "500 kg").await;
    let listing_id = listing["id"].as_i64().expect("id");
    let mut copies = Vec::new();
    for n in 0..ORDERS {
        let (key, body) = (random_suffix(), guest_order(&listing["id"], 1, &fresh_phone()));
        for copy in 0..3 + n % 3 {
            let (app, key, body) = (apps[copy % apps.len()].clone(), key.clone(), body.clone());
            copies.push(tokio::spawn(async move { (key.clone(), place_copy(&app, &key, &body).await) }));
        }
    }
    let mut codes: HashMap<String, Vec<String>> = HashMap::new();
    for copy in copies {
        let (key, code) = copy.await.expect("copy");
        codes.entry(key).or_default().push(code);
    }
    assert_eq!(codes.len(), ORDERS);
    assert!(codes.values().all(|c| c.iter().all(|code| *code == c[0])), "one code per key: {codes:?}");
    assert_eq!(orders_of(app, listing_id).await, ORDERS as i64, "exactly one order per key");
    let left = app.get_json(&format!("/api/v1/listings/{listing_id}")).await["quantity"].as_i64();
    assert_eq!(left, Some(500 - ORDERS as i64), "stock taken once per order");
    eprintln!(
        "retry storm: {} orders, {} copies, each answered 201 at once, 0 duplicates",
        ORDERS,
        codes.values().map(Vec::len).sum::<usize>(),
    );
}

/// Every event of a partner sent twice at once: each is recorded and applied once.
async fn events_sent_twice(apps: &[Arc<TestApp>]) {
    let app = &apps[0];
    let operator = app.operator_token().await;
    let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
    app.open_jobs(10).await;
    let jobs = app.claim(&key, 10, 300).await;
    let mut sends = Vec::new();
    for job in &jobs {
        let id = job["id"].as_i64().expect("id");
        let body = json!({"event_id": format!("pickup-{id}"), "status": "picked_up", "occurred_at": chrono::Utc::now(), "lease_id": job["lease"]["lease_id"]});
        for copy in 0..2 {
            let (app, key, body) = (apps[copy % apps.len()].clone(), key.clone(), body.clone());
            sends.push(tokio::spawn(async move {
                TestApp::expect_json(app.job_event(&key, id, &body).await, 200).await["outcome"]
                    .as_str()
                    .map(str::to_owned)
            }));
        }
    }
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for send in sends {
        *outcomes.entry(send.await.expect("send").expect("outcome")).or_default() += 1;
    }
    assert_eq!(outcomes, HashMap::from([("applied".to_owned(), 10), ("duplicate".to_owned(), 10)]));
    let recorded = app
        .db
        .read(|conn| Ok(nongsan::with_conn!(conn, |c| job_events::table.count().get_result::<i64>(c))?))
        .await
        .expect("count");
    assert_eq!(recorded, 10, "each event recorded once");
}

on_both_backends! {
    a_retry_storm_places_each_order_once(app) {
        retry_storm(&[Arc::new(app)]).await;
    }

    partner_events_sent_twice_count_once(app) {
        events_sent_twice(&[Arc::new(app)]).await;
    }
}

/// Two instances on one PostgreSQL and one Redis: retried orders and repeated events land once, both
/// outbox senders together send each email once, and a listing change on one is seen on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_orders_events_outbox_and_listings_exactly_once() {
    let Some(first) = TestApp::postgres().await else { return };
    if first.settings.redis_url.is_none() {
        eprintln!("TEST_REDIS_URL not set: two-instance test skipped");
        return;
    }
    let second = first.another_instance().await;
    let apps = [Arc::new(first), Arc::new(second)];
    retry_storm(&apps).await;
    events_sent_twice(&apps).await;

    let senders = apps.iter().map(|app| {
        let app = app.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            for _ in 0..20 {
                sent += app.run_lane(nongsan::domain::status::Channel::Email).await.expect("outbox");
            }
            sent
        })
    });
    let mut sent = 0;
    for sender in senders.collect::<Vec<_>>() {
        sent += sender.await.expect("sender");
    }
    let rows = apps[0]
        .db
        .read(|conn| {
            Ok(nongsan::with_conn!(conn, |c| outbox::table
                .filter(outbox::channel.eq("email"))
                .select(outbox::status)
                .load::<String>(c))?)
        })
        .await
        .expect("outbox");
    assert!(rows.iter().all(|status| status == "sent"), "every email went out");
    assert_eq!(sent, rows.len(), "two senders, each email once");
    let mailed = apps.iter().map(|app| app.mailer.sent().len()).sum::<usize>();
    assert_eq!(mailed, rows.len());

    let farmer = apps[0].farmer(WARD_BUON_MA_THUOT).await;
    let listing = apps[0].listing(&farmer.token, "Bơ sáp", "45k", "100 kg").await;
    let path = format!("/api/v1/listings/{}", listing["id"]);
    assert_eq!(apps[1].get_json(&path).await["price_vnd"], 45_000);
    let patch = apps[0].request("PATCH", &path, Some(&farmer.token)).json(&json!({"price": "39k"}));
    assert_eq!(patch.send().await.expect("sent").status(), 200);
    assert_eq!(apps[1].get_json(&path).await["price_vnd"], 39_000, "seen on the other instance at once");
}
