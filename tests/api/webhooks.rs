//! Push as well as pull: a partner registers a webhook, and new jobs in its provinces and their cancellations
//! reach a real HTTP endpoint through the outbox, signed with the shared secret, retried until they arrive,
//! each with the same event id on every attempt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::{ExpressionMethods, RunQueryDsl};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{PROVINCE_DAK_LAK, TestApp, assert_problem};
use crate::on_both_backends;

const SECRET: &str = "whsec-test-3f9a7c1e5b2d4f60";

/// One call the endpoint received.
#[derive(Clone, Debug)]
struct Call {
    headers: HashMap<String, String>,
    body: String,
    /// What the endpoint answered.
    status: u16,
}

impl Call {
    fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_ascii_lowercase()).map_or("", String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// What a partner does with a call: recompute the signature over "{timestamp}.{body}" with its secret.
    fn verifies_with(&self, secret: &str) -> bool {
        let Some(signature) = self.header("X-Nongsan-Signature").strip_prefix("sha256=") else { return false };
        let Ok(signature) = hex::decode(signature) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{}.{}", self.header("X-Nongsan-Timestamp"), self.body).as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

#[derive(Default)]
struct Recorded {
    calls: Mutex<Vec<Call>>,
    /// The status the endpoint answers with.
    status: AtomicU16,
}

/// A partner's webhook endpoint on a free local port: records every call and answers `status`.
struct Receiver {
    url: String,
    recorded: Arc<Recorded>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let recorded = Arc::new(Recorded { status: AtomicU16::new(status), ..Recorded::default() });
        let shared = web::Data::from(recorded.clone());
        let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(record)))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind");
        let url = format!("http://127.0.0.1:{}/hooks/nongsan", server.addrs()[0].port());
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver { url, recorded, handle }
    }

    fn answer(&self, status: u16) {
        self.recorded.status.store(status, Ordering::SeqCst);
    }

    fn calls(&self) -> Vec<Call> {
        self.recorded.calls.lock().expect("calls").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn record(request: HttpRequest, body: web::Bytes, recorded: web::Data<Recorded>) -> HttpResponse {
    let status = recorded.status.load(Ordering::SeqCst);
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = String::from_utf8_lossy(&body).into_owned();
    recorded.calls.lock().expect("calls").push(Call { headers, body, status });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status")).finish()
}

async fn register(app: &TestApp, key: &str, url: &str, secret: &str) -> reqwest::Response {
    let body = json!({"url": url, "secret": secret});
    app.request("PUT", "/api/v1/partner/webhook", Some(key)).json(&body).send().await.expect("sent")
}

/// Runs the outbox as the background sender would.
async fn deliver(app: &TestApp) {
    app.run_outbox().await.expect("outbox runs");
}

/// Makes every waiting row due now instead of after its backoff.
async fn skip_backoff(app: &TestApp) {
    app.db
        .write(|conn| {
            let due = diesel::sql_query("UPDATE outbox SET next_attempt_at = created_at WHERE status = 'pending'");
            nongsan::with_conn!(conn, |c| due.execute(c))?;
            Ok(())
        })
        .await
        .expect("rows due");
}

#[derive(diesel::QueryableByName, Debug)]
struct OutboxRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    last_error: Option<String>,
}

/// The webhook rows of the outbox, oldest first.
async fn webhook_rows(app: &TestApp) -> Vec<OutboxRow> {
    app.db
        .read(|conn| {
            let query =
                diesel::sql_query("SELECT status, last_error FROM outbox WHERE channel = 'webhook' ORDER BY id");
            Ok(nongsan::with_conn!(conn, |c| query.load::<OutboxRow>(c))?)
        })
        .await
        .expect("outbox rows")
}

/// A partner serving Đắk Lắk with its webhook at `url`: its API key.
async fn partner_with_webhook(app: &TestApp, url: &str) -> String {
    let operator = app.operator_token().await;
    let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
    TestApp::expect_json(register(app, &key, url, SECRET).await, 200).await;
    key
}

/// The id of the first job open to `key`, if any.
async fn open_job_id(app: &TestApp, key: &str) -> Option<i64> {
    let jobs = app.request("GET", "/api/v1/partner/jobs", Some(key)).send().await.expect("sent");
    TestApp::expect_json(jobs, 200).await["jobs"][0]["id"].as_i64()
}

on_both_backends! {
    a_new_job_reaches_the_webhook_signed_with_the_shared_secret(app) {
        let receiver = Receiver::start(200).await;
        let key = partner_with_webhook(&app, &receiver.url).await;
        // A partner elsewhere, with a webhook too, hears nothing of Đắk Lắk's jobs.
        let elsewhere = Receiver::start(200).await;
        let operator = app.operator_token().await;
        let (_, _, other_key) = app.partner(&operator, &[1]).await;
        TestApp::expect_json(register(&app, &other_key, &elsewhere.url, SECRET).await, 200).await;

        app.open_jobs(1).await;
        deliver(&app).await;
        deliver(&app).await;

        let calls = receiver.calls();
        assert_eq!(calls.len(), 1, "exactly one call: {calls:?}");
        let call = &calls[0];
        assert!(call.verifies_with(SECRET), "the signature verifies with the shared secret: {call:?}");
        assert!(!call.verifies_with("whsec-some-other-secret"), "and with no other secret");
        assert_eq!(call.header("Content-Type"), "application/json");
        let timestamp: i64 = call.header("X-Nongsan-Timestamp").parse().expect("unix seconds");
        assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 300, "a fresh timestamp: {timestamp}");
        let body = call.json();
        assert_eq!(body["type"], "job.available");
        assert_eq!(call.header("X-Nongsan-Event-Id"), body["event_id"].as_str().expect("event id"));
        assert!(call.header("X-Nongsan-Event-Id").starts_with("evt_"), "{call:?}");
        assert_eq!(body["job"]["id"], open_job_id(&app, &key).await.expect("open job"));
        assert_eq!(body["job"]["pickup"]["province_code"], PROVINCE_DAK_LAK);
        assert!(elsewhere.calls().is_empty(), "{:?}", elsewhere.calls());
    }

    a_call_that_fails_is_retried_until_it_arrives_once_with_the_same_event_id(app) {
        // First nothing listens at the registered URL.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr");
        let key = partner_with_webhook(&app, &format!("http://{dead}/hooks")).await;
        app.open_jobs(1).await;
        deliver(&app).await;
        let waiting = webhook_rows(&app).await;
        assert_eq!(waiting.len(), 1, "one call");
        assert_eq!(waiting[0].status, "pending", "waits in the outbox");
        assert!(waiting[0].last_error.is_some(), "with the reason it failed: {waiting:?}");

        // Then the partner moves its endpoint, which is down (500): the waiting call goes to the new URL.
        let receiver = Receiver::start(500).await;
        TestApp::expect_json(register(&app, &key, &receiver.url, SECRET).await, 200).await;
        deliver(&app).await;
        assert!(receiver.calls().is_empty(), "not before its backoff");
        skip_backoff(&app).await;
        deliver(&app).await;
        assert_eq!(receiver.calls().len(), 1, "tried again");
        assert_eq!(webhook_rows(&app).await[0].status, "pending", "and still waiting after a 500");

        // Back up: the call arrives, and is never sent again.
        receiver.answer(200);
        skip_backoff(&app).await;
        deliver(&app).await;
        skip_backoff(&app).await;
        deliver(&app).await;
        let calls = receiver.calls();
        assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [500, 200], "{calls:?}");
        assert!(calls.iter().all(|c| c.verifies_with(SECRET)), "{calls:?}");
        assert_eq!(calls[0].body, calls[1].body, "the same call");
        assert_eq!(calls[0].header("X-Nongsan-Event-Id"), calls[1].header("X-Nongsan-Event-Id"));
        assert_eq!(calls[1].header("X-Nongsan-Event-Id"), calls[1].json()["event_id"].as_str().expect("event id"));
        assert_eq!(webhook_rows(&app).await[0].status, "sent");
    }

    a_cancelled_job_is_pushed_too(app) {
        let receiver = Receiver::start(200).await;
        let key = partner_with_webhook(&app, &receiver.url).await;
        let open = app.open_jobs(1).await;
        let cancel = format!("/api/v1/orders/{}/cancel?phone={}", open[0].order_code, open[0].buyer_phone.replace(' ', ""));
        assert_eq!(app.post(&cancel, None, &json!({})).await.status(), 200);
        // Both calls wait in the outbox: one run sends them in the order they happened.
        deliver(&app).await;

        let calls = receiver.calls();
        let kinds: Vec<Value> = calls.iter().map(|c| c.json()["type"].clone()).collect();
        assert_eq!(kinds, [json!("job.available"), json!("job.cancelled")], "{calls:?}");
        let cancelled = calls[1].json();
        assert!(calls[1].verifies_with(SECRET));
        assert_eq!(cancelled["job"]["id"], calls[0].json()["job"]["id"]);
        assert_eq!(cancelled["job"]["status"], "cancelled");
        assert_eq!(calls[1].header("X-Nongsan-Event-Id"), cancelled["event_id"].as_str().expect("event id"));
        assert_ne!(calls[0].header("X-Nongsan-Event-Id"), calls[1].header("X-Nongsan-Event-Id"));
        assert_eq!(open_job_id(&app, &key).await, None, "nothing left to claim");
    }

    a_webhook_needs_a_url_and_a_long_secret_which_is_never_sent_back(app) {
        let operator = app.operator_token().await;
        let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;

        let problem = assert_problem(register(&app, &key, "ftp://partner.example/hook", "short").await, 422, "validation_failed").await;
        let codes: Vec<&str> = problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["code"].as_str()).collect();
        assert_eq!(codes, ["url_invalid", "secret_length"], "{problem}");
        for url in ["not a url", "http://", "/hooks/relative", "javascript:alert(1)"] {
            let problem = assert_problem(register(&app, &key, url, SECRET).await, 422, "validation_failed").await;
            assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
        }
        let long = format!("https://partner.example/{}", "a".repeat(500));
        let problem = assert_problem(register(&app, &key, &long, SECRET).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["code"], "url_too_long");
        let english = app
            .request("PUT", "/api/v1/partner/webhook", Some(&key))
            .header("Accept-Language", "en")
            .json(&json!({"url": "https://127.0.0.1/hook", "secret": "x".repeat(201)}))
            .send()
            .await
            .expect("sent");
        let problem = assert_problem(english, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["message"], "The secret must be 16 to 200 characters.");

        // Tests may use loopback hosts (NONGSAN_ALLOW_LOCAL_WEBHOOKS); partners may not, see below.
        let saved = register(&app, &key, "https://127.0.0.1/hooks/nongsan", SECRET).await;
        let text = saved.text().await.expect("body");
        assert!(!text.contains(SECRET), "the secret is never sent back: {text}");
        let saved: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(saved["url"], "https://127.0.0.1/hooks/nongsan");
        assert!(saved["updated_at"].is_string(), "{saved}");
    }

    a_removed_webhook_gets_no_more_calls(app) {
        let receiver = Receiver::start(200).await;
        let key = partner_with_webhook(&app, &receiver.url).await;
        // A call queued while the webhook was there is dropped once it is gone.
        app.open_jobs(1).await;
        let removed = app.request("DELETE", "/api/v1/partner/webhook", Some(&key)).send().await.expect("sent");
        assert_eq!(removed.status(), 204);
        deliver(&app).await;
        let rows = webhook_rows(&app).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!((rows[0].status.as_str(), rows[0].last_error.as_deref()), ("sent", Some("no webhook registered")));
        // And nothing is queued for later jobs.
        app.open_jobs(1).await;
        deliver(&app).await;
        assert!(receiver.calls().is_empty(), "{:?}", receiver.calls());
        let again = app.request("DELETE", "/api/v1/partner/webhook", Some(&key)).send().await.expect("sent");
        assert_eq!(again.status(), 204, "removing twice is fine");
    }
}

/// A partner's webhook cannot point the service inside its own network: not plain http, not loopback, private
/// or link-local (the cloud's metadata address), by address or by name; and a host that does not resolve is
/// refused too.
#[tokio::test]
async fn a_webhook_must_be_https_to_a_public_host() {
    let app = TestApp::sqlite_with(|settings| settings.allow_local_webhooks = false).await;
    let operator = app.operator_token().await;
    let (_, _, key) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
    for (url, code) in [
        ("http://169.254.169.254/", "url_not_https"),
        ("https://169.254.169.254/latest/meta-data", "url_not_public"),
        ("https://127.0.0.1/", "url_not_public"),
        ("https://10.0.0.1/", "url_not_public"),
        ("https://[::1]/", "url_not_public"),
        ("https://localhost/", "url_not_public"),
        ("https://[::ffff:192.168.1.1]/", "url_not_public"),
        ("https://nothing-here.invalid/", "url_unresolved"),
    ] {
        let problem = assert_problem(register(&app, &key, url, SECRET).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{url}: {problem}");
    }
}

/// A webhook that no longer passes the check (registered while its name pointed elsewhere, or before the
/// check existed) gets no call: the URL and its addresses are checked again before each one.
#[tokio::test]
async fn a_webhook_that_no_longer_passes_the_check_gets_no_call() {
    let app = TestApp::sqlite_with(|settings| settings.allow_local_webhooks = false).await;
    let receiver = Receiver::start(200).await;
    let operator = app.operator_token().await;
    let (partner_id, _, _) = app.partner(&operator, &[PROVINCE_DAK_LAK]).await;
    let (url, now) = (receiver.url.clone(), app.clock.now());
    app.db
        .write(move |conn| {
            use nongsan::db::schema::partner_webhooks;
            let row = (
                partner_webhooks::partner_id.eq(partner_id),
                partner_webhooks::url.eq(url),
                partner_webhooks::secret.eq(SECRET),
                partner_webhooks::updated_at.eq(now),
            );
            nongsan::with_conn!(conn, |c| diesel::insert_into(partner_webhooks::table).values(row).execute(c))?;
            Ok(())
        })
        .await
        .expect("a webhook written as registered before");

    app.open_jobs(1).await;
    deliver(&app).await;
    assert!(receiver.calls().is_empty(), "no call reaches the local address");
    let rows = webhook_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, "pending", "kept for a later check: {rows:?}");
    assert!(rows[0].last_error.as_deref().is_some_and(|error| error.contains("https://")), "{rows:?}");
}
