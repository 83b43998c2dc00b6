//! Crash safety. The real binary runs as a child process under a concurrent order load and is killed with
//! SIGKILL and restarted several times (SQLite and PostgreSQL): every acknowledged order survives whole,
//! retrying an unanswered request with its Idempotency-Key never orders twice, stock is conserved and the
//! outbox resumes. And PostgreSQL connections cut under load (`pg_terminate_backend`): failures are 503
//! and the service recovers without a restart.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use nongsan::config::DatabaseTarget;
use nongsan::db::Db;
use nongsan::db::schema::{idempotency_keys, listings, order_lines, orders, outbox, shipments};
use rand::Rng;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDatabase, WARD_BUON_MA_THUOT, WARD_DA_LAT, fresh_phone, random_suffix};

const CLIENTS: usize = 12;
const KILLS: usize = 3;
const STOCK: i64 = 100_000;

/// The service binary running as a child process, on a fixed port so that it can be restarted in place.
struct Server {
    child: Option<Child>,
    port: u16,
    data_dir: PathBuf,
    database_url: String,
    log: PathBuf,
}

impl Server {
    fn start(data_dir: &Path, database_url: &str) -> Server {
        let port = crate::helpers::port_for_a_later_server();
        let mut server = Server {
            child: None,
            port,
            data_dir: data_dir.to_owned(),
            database_url: database_url.to_owned(),
            log: data_dir.join("server.log"),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        // Appending: the log of every run of the server ends up in one file, for a failing test to show.
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_nongsan"))
            .arg("serve")
            .env("NONGSAN_ADDR", format!("127.0.0.1:{}", self.port))
            .env("NONGSAN_DATA_DIR", &self.data_dir)
            .env("DATABASE_URL", &self.database_url)
            .env("DB_POOL_SIZE", "4")
            .env("NONGSAN_WORKERS", "2")
            .env("RUST_LOG", "warn")
            // Hundreds of guest orders from this one address: a load test, not abuse.
            .env("NONGSAN_THROTTLE", "off")
            .env_remove("REDIS_URL")
            .env_remove("SMTP_URL")
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("nongsan starts");
        self.child = Some(child);
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown hook, no flush, transactions cut wherever they are.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().expect("child status")) {
                panic!("server exited with {status}: {}", std::fs::read_to_string(&self.log).unwrap_or_default());
            }
            let ready = client.get(format!("{}/readyz", self.base())).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server not ready in 30 s: {}", std::fs::read_to_string(&self.log).unwrap_or_default());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One order a client asked for: its key, body, and the code if a 201 came back.
#[derive(Clone)]
struct Asked {
    key: String,
    body: Value,
    /// `+84…`, as the service stores it.
    phone: String,
    email: String,
    quantity: i64,
    code: Option<String>,
}

fn normalised(phone: &str) -> String {
    format!("+84{}", &phone.replace(' ', "")[1..])
}

fn new_order(listing_id: i64) -> Asked {
    let (key, phone) = (random_suffix(), fresh_phone());
    let email = format!("crash-{key}@example.vn");
    let quantity = rand::rng().random_range(1..=3);
    let body = json!({
        "items": [{"listing_id": listing_id, "quantity": quantity}],
        "buyer": {"name": "Lê Mai", "phone": phone, "email": email},
        "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
    });
    Asked { key, body, phone: normalised(&phone), email, quantity, code: None }
}

/// Sends an order once: `Ok(code)` on 201, `Err(what happened)` otherwise (down, 503…).
async fn send_order(client: &reqwest::Client, base: &str, asked: &Asked) -> Result<String, String> {
    let sent = client
        .post(format!("{base}/api/v1/orders"))
        .header("Idempotency-Key", &asked.key)
        .json(&asked.body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = sent.status().as_u16();
    let body: Value = sent.json().await.map_err(|e| format!("{status} cut short: {e}"))?;
    match (status, body["code"].as_str()) {
        (201, Some(code)) => Ok(code.to_owned()),
        (_, code) => Err(format!("{status} {}", code.unwrap_or_default())),
    }
}

async fn signup_and_list(client: &reqwest::Client, base: &str) -> i64 {
    let body =
        json!({"phone": fresh_phone(), "name": "Nguyễn Thị Lan", "ward_code": WARD_BUON_MA_THUOT, "pin": "482915"});
    let farmer: Value = client
        .post(format!("{base}/api/v1/farmers"))
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("farmer");
    let token = farmer["token"].as_str().expect("token");
    let body = json!({"title": "Cà phê Robusta", "price": "120k", "quantity": format!("{STOCK} kg")});
    let listing =
        client.post(format!("{base}/api/v1/listings")).bearer_auth(token).json(&body).send().await.expect("sent");
    assert_eq!(listing.status(), 201);
    listing.json::<Value>().await.expect("listing")["id"].as_i64().expect("id")
}

/// `with_conn!` over a short-lived connection of the test's own.
fn test_db(database_url: &str) -> Db {
    let target = if database_url.starts_with("postgres") {
        DatabaseTarget::Postgres(database_url.to_owned())
    } else {
        DatabaseTarget::Sqlite(PathBuf::from(database_url))
    };
    Db::connect(&target, 2, Duration::from_secs(10)).expect("test connection")
}

async fn kill_restart_under_load(backend: &str, data_dir: &Path, database_url: &str) {
    let started = Instant::now();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let mut server = Server::start(data_dir, database_url);
    server.wait_ready(&client).await;
    let base = server.base();
    let listing_id = signup_and_list(&client, &base).await;

    // The load: CLIENTS tasks placing orders until told to stop; a request with no answer stays unanswered
    // (its key is retried later, as a real client would).
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicUsize::new(0));
    let asked = Arc::new(Mutex::new(Vec::<Asked>::new()));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (stop, requests, asked, client, base) =
            (stop.clone(), requests.clone(), asked.clone(), client.clone(), base.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let mut order = new_order(listing_id);
                requests.fetch_add(1, Ordering::Relaxed);
                let answer = send_order(&client, &base, &order).await;
                let down = answer.is_err();
                order.code = answer.ok();
                asked.lock().expect("asked").push(order);
                if down {
                    // The server is down or restarting: do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    let mut last_kill = chrono::Utc::now().naive_utc();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(1000..2000))).await;
        server.kill();
        last_kill = chrono::Utc::now().naive_utc();
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.spawn();
        server.wait_ready(&client).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for task in clients {
        task.await.expect("client");
    }
    let mut asked = Arc::try_unwrap(asked).ok().expect("clients done").into_inner().expect("asked");
    let acknowledged = asked.iter().filter(|a| a.code.is_some()).count();
    let unanswered = asked.len() - acknowledged;

    // A new client for the checks: none of its connections can be left over from a killed server.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");

    // 1. Every acknowledged order is there, whole, as its buyer sees it.
    for order in asked.iter().filter(|a| a.code.is_some()) {
        let code = order.code.as_deref().expect("code");
        let page = client
            .get(format!("{base}/api/v1/orders/{code}?phone={}", order.phone.replace('+', "%2B")))
            .send()
            .await
            .expect("sent");
        assert_eq!(page.status(), 200, "acknowledged order {code} lost");
        let page: Value = page.json().await.expect("order");
        let shipments = page["shipments"].as_array().expect("shipments");
        assert_eq!(shipments.len(), 1, "{page}");
        let lines = shipments[0]["lines"].as_array().expect("lines");
        assert_eq!(lines.len(), 1, "{page}");
        assert_eq!(lines[0]["quantity"].as_i64(), Some(order.quantity), "{page}");
    }

    // 2. A key is claimed in the transaction that places its order: a request the crash cut short leaves no
    // claim behind (the retries below would otherwise wait 2 minutes for it, answered 409).
    let db = test_db(database_url);
    let stuck: Vec<String> = db
        .read(|conn| {
            Ok(nongsan::with_conn!(conn, |c| idempotency_keys::table
                .filter(idempotency_keys::response_status.is_null())
                .select(idempotency_keys::scope)
                .load::<String>(c))?)
        })
        .await
        .expect("claims");
    assert_eq!(stuck, Vec::<String>::new(), "claims left unanswered by the crash");

    // Unanswered requests whose order did commit before the crash (the client just never heard).
    let placed_phones: HashSet<String> = db
        .read(|conn| Ok(nongsan::with_conn!(conn, |c| orders::table.select(orders::buyer_phone).load(c))?))
        .await
        .expect("orders")
        .into_iter()
        .collect();
    let committed_unheard = asked.iter().filter(|a| a.code.is_none() && placed_phones.contains(&a.phone)).count();

    // 3. Every key is sent again, unanswered or not, until it answers 201: unanswered ones get their order
    // (placed now, or found placed before the crash), answered ones replay the same code.
    let mut found_after_restart = 0;
    for order in &mut asked {
        let mut answer = Err(String::new());
        for _ in 0..100 {
            answer = send_order(&client, &base, order).await;
            match &answer {
                Ok(_) => break,
                Err(e) if e.starts_with("503") => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("key {} answered {e}", order.key),
            }
        }
        let code = answer.unwrap_or_else(|e| panic!("key {} never answered: {e}", order.key));
        match &order.code {
            Some(first) => assert_eq!(*first, code, "a replay must give the first code"),
            None => found_after_restart += 1,
        }
        order.code = Some(code);
    }

    // 4. The database: one order per key, each with its shipment, line and email; stock conserved.
    let (order_rows, shipment_rows, line_rows, mail_rows, remaining) = db
        .read(move |conn| {
            let order_rows: Vec<(i64, String, Option<String>)> = nongsan::with_conn!(conn, |c| orders::table
                .select((orders::id, orders::code, orders::buyer_email))
                .load(c))?;
            let shipment_rows: Vec<(i64, i64, bool)> = nongsan::with_conn!(conn, |c| shipments::table
                .select((shipments::id, shipments::order_id, shipments::stock_restored))
                .load(c))?;
            let line_rows: Vec<(i64, i64, i64)> = nongsan::with_conn!(conn, |c| order_lines::table
                .filter(order_lines::listing_id.eq(listing_id))
                .select((order_lines::order_id, order_lines::shipment_id, order_lines::quantity))
                .load(c))?;
            let mail_rows: Vec<(String, String)> = nongsan::with_conn!(conn, |c| outbox::table
                .filter(outbox::channel.eq("email"))
                .select((outbox::recipient, outbox::status))
                .load(c))?;
            let remaining: i64 =
                nongsan::with_conn!(conn, |c| listings::table.find(listing_id).select(listings::quantity).first(c))?;
            Ok((order_rows, shipment_rows, line_rows, mail_rows, remaining))
        })
        .await
        .expect("database");
    let codes: HashSet<&str> = asked.iter().filter_map(|a| a.code.as_deref()).collect();
    assert_eq!(codes.len(), asked.len(), "one code per key");
    let stored: HashSet<&str> = order_rows.iter().map(|(_, code, _)| code.as_str()).collect();
    assert_eq!(order_rows.len(), asked.len(), "exactly one order per key asked for: no duplicates");
    assert_eq!(stored, codes, "the orders are those the keys answered");
    let with_shipment: HashSet<i64> = shipment_rows.iter().map(|(_, order, _)| *order).collect();
    let with_line: HashSet<i64> = line_rows.iter().map(|(order, _, _)| *order).collect();
    let mails: HashMap<&str, usize> = mail_rows.iter().fold(HashMap::new(), |mut m, (to, _)| {
        *m.entry(to.as_str()).or_default() += 1;
        m
    });
    let emails: HashMap<&str, &str> =
        asked.iter().map(|a| (a.code.as_deref().expect("answered"), a.email.as_str())).collect();
    for (id, code, email) in &order_rows {
        assert!(with_shipment.contains(id), "order {code} has no shipment");
        assert!(with_line.contains(id), "order {code} has no line");
        let email = email.as_deref().expect("every order here has an email");
        assert_eq!(Some(email), emails.get(code.as_str()).copied(), "order {code} is its key's order");
        assert_eq!(mails.get(email), Some(&1), "order {code}: one email to {email}");
    }
    let restored: HashSet<i64> = shipment_rows.iter().filter(|s| s.2).map(|s| s.0).collect();
    let sold: i64 = line_rows.iter().filter(|l| !restored.contains(&l.1)).map(|l| l.2).sum();
    let asked_units: i64 = asked.iter().map(|a| a.quantity).sum();
    assert_eq!(line_rows.iter().map(|l| l.2).sum::<i64>(), asked_units, "each order's units, once");
    assert_eq!(STOCK, remaining + sold, "stock conserved: initial = remaining + sold − restored");

    // 5. The outbox resumes: the restarted server's sender delivers every row, including those queued
    // before a crash (a row sent but not yet marked when the server died may be sent twice: at least once).
    // Rows a killed server had claimed stay leased to it for 60 s (outbox.rs `LEASE`); those leases, all
    // taken before the last kill, are aged here instead of waiting a minute.
    let long_ago = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("date").and_hms_opt(0, 0, 0).expect("time");
    let stranded = db
        .write(move |conn| {
            Ok(nongsan::with_conn!(conn, |c| diesel::update(
                outbox::table
                    .filter(outbox::status.eq("pending"))
                    .filter(outbox::locked_until.lt(last_kill + chrono::Duration::seconds(60)))
            )
            .set(outbox::locked_until.eq(long_ago))
            .execute(c))?)
        })
        .await
        .expect("age leases");
    let deadline = Instant::now() + Duration::from_secs(20);
    let pending = loop {
        let pending = db
            .read(|conn| {
                Ok(nongsan::with_conn!(conn, |c| outbox::table
                    .filter(outbox::status.ne("sent"))
                    .count()
                    .get_result::<i64>(c))?)
            })
            .await
            .expect("outbox");
        if pending == 0 || Instant::now() > deadline {
            break pending;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(pending, 0, "outbox rows still not sent 20 s after the last restart");
    let files = std::fs::read_dir(data_dir.join("outbox")).expect("outbox folder").count();
    assert!(files >= mail_rows.len(), "{files} mail files for {} outbox rows", mail_rows.len());

    eprintln!(
        "crash test ({backend}): {} requests sent, {acknowledged} acknowledged 201, {unanswered} unanswered at the \
         time ({} claims left unanswered, {committed_unheard} committed but unheard), {found_after_restart} placed or \
         found on retry after restart, \
         {} orders = {} keys, 0 duplicates, {KILLS} SIGKILLs, {} emails sent ({files} files), stock {STOCK} = \
         {remaining} left + {sold} sold ({stranded} emails leased by a killed server), {:.1} s",
        requests.load(Ordering::Relaxed),
        stuck.len(),
        order_rows.len(),
        asked.len(),
        mail_rows.len(),
        started.elapsed().as_secs_f64(),
    );
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_order_load_on_sqlite_loses_and_duplicates_nothing() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let url = data_dir.path().join("crash.db").display().to_string();
    kill_restart_under_load("sqlite", data_dir.path(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_order_load_on_postgres_loses_and_duplicates_nothing() {
    let Some(database) = TestDatabase::create() else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
        return;
    };
    let data_dir = tempfile::tempdir().expect("temp dir");
    kill_restart_under_load("postgresql", data_dir.path(), &database.url).await;
}

/// One request of the light load, and what came of it.
struct Outcome {
    status: Option<u16>,
    content_type: String,
    body: String,
    took: Duration,
}

async fn timed(request: reqwest::RequestBuilder) -> Outcome {
    let start = Instant::now();
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let content_type =
                response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let body = response.text().await.unwrap_or_default();
            Outcome { status: Some(status), content_type, body, took: start.elapsed() }
        }
        Err(error) => {
            Outcome { status: None, content_type: String::new(), body: error.to_string(), took: start.elapsed() }
        }
    }
}

/// Kills every server connection of the test's database, from an admin connection (a stand-in for a
/// PostgreSQL restart, which would break the other tests sharing the cluster).
async fn cut_connections(database_url: &str) -> usize {
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let name = database_url.rsplit('/').next().expect("database name").to_owned();
    tokio::task::spawn_blocking(move || {
        #[derive(QueryableByName)]
        struct Killed {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            killed: bool,
        }
        let mut admin = PgConnection::establish(&admin_url).expect("admin connection");
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<diesel::sql_types::Text, _>(name)
        .load::<Killed>(&mut admin)
        .expect("terminate")
        .iter()
        .filter(|k| k.killed)
        .count()
    })
    .await
    .expect("cut")
}

/// A mix of catalogue reads, order pages and new orders, as one request.
fn light_request(app: &TestApp, listing_id: i64, order: &(String, String), n: usize) -> reqwest::RequestBuilder {
    match n % 4 {
        0 => app.request("GET", "/api/v1/listings?q=ca%20phe", None),
        1 => app.request("GET", &format!("/api/v1/listings/{listing_id}"), None),
        2 => app.request("GET", &format!("/api/v1/orders/{}?phone={}", order.0, order.1.replace('+', "%2B")), None),
        _ => app
            .request("POST", "/api/v1/orders", None)
            .header("Idempotency-Key", random_suffix())
            .json(&new_order(listing_id).body),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_cut_under_load_answer_503_and_recover() {
    let Some(app) = TestApp::postgres_with(|s| {
        s.db_timeout_ms = 1000;
        s.db_pool_size = 4;
    })
    .await
    else {
        return;
    };
    let base = app.address.clone();
    let listing_id = signup_and_list(&app.client, &base).await;
    let first = new_order(listing_id);
    let code = send_order(&app.client, &base, &first).await.expect("first order");
    let order = (code, first.phone.clone());

    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for task in 0..6 {
        let (app, stop, order) = (app.clone(), stop.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            let mut n = task;
            while !stop.load(Ordering::Relaxed) {
                outcomes.push(timed(light_request(&app, listing_id, &order, n)).await);
                n += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            outcomes
        }));
    }
    let mut cut = 0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cut += cut_connections(&app.settings.database_url.clone().expect("url")).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.expect("task"));
    }

    // After the cut, without a restart: the service answers normally again within a few seconds, and then
    // keeps doing so on every pooled connection (a dead connection kept in the pool would fail later).
    let cut_at = Instant::now();
    let mut recovered = None;
    while cut_at.elapsed() < Duration::from_secs(5) {
        let probe = timed(light_request(&app, listing_id, &order, 3)).await;
        if probe.status == Some(201) {
            recovered = Some(cut_at.elapsed());
            break;
        }
        outcomes.push(probe);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut after = Vec::new();
    for n in 0..24 {
        after.push(timed(light_request(&app, listing_id, &order, n)).await);
    }

    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.status.is_none_or(|s| s >= 400)).collect();
    let slowest = outcomes.iter().map(|o| o.took).max().unwrap_or_default();
    eprintln!(
        "connections cut: {cut} backends terminated in 3 rounds, {} requests, {} failed ({:?}), slowest {:?}, \
         recovered after {:?}, {} of {} requests after recovery succeeded",
        outcomes.len(),
        failed.len(),
        failed.iter().fold(HashMap::<String, usize>::new(), |mut m, o| {
            let code = serde_json::from_str::<Value>(&o.body).map(|p| p["code"].to_string()).unwrap_or_default();
            *m.entry(format!("{:?} {code}", o.status)).or_default() += 1;
            m
        }),
        slowest,
        recovered,
        after.iter().filter(|o| o.status.is_some_and(|s| s < 400)).count(),
        after.len(),
    );
    assert!(cut > 0, "the cut must have hit live connections");
    assert!(outcomes.iter().all(|o| o.status.is_some()), "no request hangs or loses its answer");
    assert!(slowest < Duration::from_secs(5), "a request took {slowest:?} (database timeout: 1 s)");
    for failure in &failed {
        let status = failure.status.expect("answered");
        assert!(status >= 500, "a connection cut is no client error: {status} {}", failure.body);
        assert_eq!(failure.content_type, "application/problem+json", "{}", failure.body);
        assert_eq!(status, 503, "a broken connection is 503, never 500: {}", failure.body);
    }
    assert!(recovered.is_some(), "no order placed within 5 s of the cut");
    for outcome in &after {
        assert!(outcome.status.is_some_and(|s| s < 400), "after recovery: {:?} {}", outcome.status, outcome.body);
    }
}
