//! Test harness: each test spawns the real application on a free port with a database of its own
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).

use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::{Connection, PgConnection, RunQueryDsl};
use nongsan::accounts::rules::{PasswordAccount, open_password_account};
use nongsan::auth::Role;
use nongsan::clock::Clock;
use nongsan::config::Settings;
use nongsan::db::Db;
use nongsan::mail::Mailer;
use nongsan::reference::Reference;
use nongsan::startup::Application;
use nongsan::state::AppState;
use rand::Rng;
use serde_json::{Value, json};

/// Generates, for each test body, one test on SQLite (in-process cache) and one on PostgreSQL (with Redis
/// when `TEST_REDIS_URL` is set). The PostgreSQL variant is skipped, saying so, without `TEST_DATABASE_URL`;
/// `.ci/run` always sets it.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::TestApp::sqlite().await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::helpers::TestApp::postgres().await else { return };
                $body
            }
        }
    )*};
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub db: Db,
    pub mailer: Mailer,
    pub phones: nongsan::sms::Phones,
    /// The app's clock: a test moves it forward to see deadlines pass.
    pub clock: Clock,
    pub reference: std::sync::Arc<Reference>,
    /// The app's cache (pages and counters), for the background steps a test runs itself.
    pub cache: nongsan::cache::Cache,
    handle: ServerHandle,
    _data_dir: tempfile::TempDir,
    database: Option<TestDatabase>,
}

pub fn random_suffix() -> String {
    format!("{:012x}", rand::rng().random::<u64>() & 0xffff_ffff_ffff)
}

/// A PostgreSQL database created for one test and dropped after it.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub fn create() -> Option<TestDatabase> {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty())?;
        let name = format!("nongsan_test_{}", random_suffix());
        let mut admin = PgConnection::establish(&admin_url).expect("TEST_DATABASE_URL must be reachable");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create test database");
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Some(TestDatabase { admin_url, name, url })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin);
        }
    }
}

pub fn settings_for(data_dir: &std::path::Path, database_url: String, redis_url: Option<String>) -> Settings {
    let mut settings = Settings::embedded_defaults();
    settings.addr = "127.0.0.1:0".into();
    settings.data_dir = data_dir.to_owned();
    settings.database_url = Some(database_url);
    settings.redis_url = redis_url;
    settings.cache_prefix = format!("nongsan-test-{}", random_suffix());
    settings.db_pool_size = 4;
    settings.workers = Some(2);
    // The test receivers of webhook calls listen on http://127.0.0.1.
    settings.allow_local_webhooks = true;
    settings.sms_inbound_secret = Some(SMS_INBOUND_SECRET.into());
    settings.bank_notify_key = Some(BANK_NOTIFY_KEY.into());
    // Many tests place dozens of orders from one phone and address: throttles are off unless a test turns
    // them on (`tests/api/throttles.rs`). The login lockout holds regardless.
    settings.throttles.enabled = false;
    settings
}

/// The key the test SMS gateway signs the replies it forwards with.
pub const SMS_INBOUND_SECRET: &str = "sms-inbound-test-secret";

/// The key the test bank-notification service sends (`Authorization: Apikey …`).
pub const BANK_NOTIFY_KEY: &str = "bank-notify-test-key";

/// A phone as typed (`091 234 5678`) in E.164 (`+84912345678`), as messages are addressed.
pub fn e164(phone: &str) -> String {
    format!("+84{}", &phone.replace(' ', "")[1..])
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        TestApp::sqlite_with(|_| {}).await
    }

    /// A SQLite app with adjusted settings.
    pub async fn sqlite_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let url = data_dir.path().join("test.db").display().to_string();
        let mut settings = settings_for(data_dir.path(), url, None);
        adjust(&mut settings);
        TestApp::start(settings, data_dir, None).await
    }

    /// `None` (and a note on stderr) when no PostgreSQL is configured for tests.
    pub async fn postgres() -> Option<TestApp> {
        TestApp::postgres_with(|_| {}).await
    }

    pub async fn postgres_with(adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let Some(database) = TestDatabase::create() else {
            eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
            return None;
        };
        let data_dir = tempfile::tempdir().expect("temp dir");
        let redis = std::env::var("TEST_REDIS_URL").ok().filter(|url| !url.is_empty());
        let mut settings = settings_for(data_dir.path(), database.url.clone(), redis);
        adjust(&mut settings);
        Some(TestApp::start(settings, data_dir, Some(database)).await)
    }

    /// Starts the application as `main` does, with an in-memory mailer to read what it sent.
    pub async fn start(settings: Settings, data_dir: tempfile::TempDir, database: Option<TestDatabase>) -> TestApp {
        let mut state = AppState::start(settings.clone()).await.expect("state starts");
        // Mail goes to memory unless a test points the app at a real SMTP server.
        if settings.smtp_url.is_none() {
            state.mailer = Mailer::in_memory(&settings).expect("mailer");
        }
        let (mailer, phones, db, clock, reference, cache) = (
            state.mailer.clone(),
            state.phones.clone(),
            state.db.clone(),
            state.clock.clone(),
            state.reference.clone(),
            state.cache.clone(),
        );
        let app = Application::build(state).await.expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        TestApp {
            address,
            client,
            settings,
            db,
            mailer,
            phones,
            clock,
            reference,
            cache,
            handle,
            _data_dir: data_dir,
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn is_postgres(&self) -> bool {
        self.database.is_some()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    /// Another instance of the service on the same database and cache (a second node behind a balancer).
    pub async fn another_instance(&self) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut settings = self.settings.clone();
        settings.data_dir = data_dir.path().to_owned();
        TestApp::start(settings, data_dir, None).await
    }

    /// A request with an optional bearer token.
    pub fn request(&self, method: &str, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let builder = self.client.request(method.parse().expect("method"), self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        self.request("POST", path, token).json(body).send().await.expect("request sent")
    }

    /// Places an order under an `Idempotency-Key`, as a guest or with a buyer's token.
    pub async fn place_order(&self, token: Option<&str>, key: &str, body: &Value) -> reqwest::Response {
        let request = self.request("POST", "/api/v1/orders", token).header("Idempotency-Key", key);
        request.json(body).send().await.expect("request sent")
    }

    /// Points the app's texts at other gateways (the sender reads these settings; the server needs none of
    /// them), as `SMS_URL`, `ZNS_URL`… would at start; instances started after this share them.
    pub fn with_phones(mut self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        adjust(&mut self.settings);
        self.phones = nongsan::sms::Phones::from_settings(&self.settings).expect("phone gateways");
        self
    }

    /// Forwards a text reply as the SMS gateway does, signed with `secret`.
    pub async fn sms_reply(&self, secret: &str, id: &str, from: &str, text: &str) -> reqwest::Response {
        let body = json!({"id": id, "from": from, "text": text}).to_string();
        let signature = format!("sha256={}", hex::encode(nongsan::outbox::hmac_sha256(secret, body.as_bytes())));
        let request = self.request("POST", "/api/v1/sms/inbound", None).header("X-Nongsan-Signature", signature);
        request.header("Content-Type", "application/json").body(body).send().await.expect("request sent")
    }

    /// The bank-notification service reports an incoming transfer of `amount` with this memo, its id `id`.
    pub async fn bank_transfer(&self, id: i64, memo: &str, amount: i64) -> reqwest::Response {
        let body = json!({
            "id": id, "gateway": "Vietcombank", "transactionDate": "2026-12-03 14:30:00",
            "accountNumber": "0011001234567", "subAccount": null, "code": null, "content": memo,
            "transferType": "in", "transferAmount": amount, "accumulated": 19_077_000,
            "referenceCode": format!("FT{id}"), "description": memo,
        });
        let request = self.request("POST", "/api/v1/payments/bank-notifications", None);
        request.header("Authorization", format!("Apikey {BANK_NOTIFY_KEY}")).json(&body).send().await.expect("sent")
    }

    /// Runs the outbox sender once on every lane, as the background loops do: how many messages went out
    /// (a text handed from Zalo to SMS counts on both lanes).
    pub async fn run_outbox(&self) -> Result<usize, nongsan::error::AppError> {
        let mut done = 0;
        for channel in nongsan::domain::status::Channel::ALL {
            done += self.run_lane(*channel).await?;
        }
        Ok(done)
    }

    /// Runs the sender of one channel once: how many of its messages went out.
    pub async fn run_lane(&self, channel: nongsan::domain::status::Channel) -> Result<usize, nongsan::error::AppError> {
        let senders = nongsan::outbox::Senders {
            mailer: self.mailer.clone(),
            phones: self.phones.clone(),
            local_webhooks: self.settings.allow_local_webhooks,
        };
        nongsan::outbox::deliver_due(&self.db, &senders, &self.clock, channel).await
    }

    /// Asserts the status and returns the JSON body.
    pub async fn expect_json(response: reqwest::Response, status: u16) -> Value {
        let actual = response.status().as_u16();
        let body = response.text().await.expect("body");
        assert_eq!(actual, status, "unexpected answer: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// A farmer signed up in `ward`: (id, token, phone as typed, PIN).
    pub async fn farmer(&self, ward: i32) -> Farmer {
        let phone = fresh_phone();
        let body = json!({"phone": phone, "name": "Nguyễn Thị Lan", "ward_code": ward, "pin": "482915"});
        let created = TestApp::expect_json(self.post("/api/v1/farmers", None, &body).await, 201).await;
        Farmer {
            id: created["farmer"]["id"].as_i64().expect("id"),
            token: created["token"].as_str().expect("token").to_owned(),
            phone,
            pin: "482915".to_owned(),
        }
    }

    /// An operator created as `nongsan admin create-operator` does, logged in.
    pub async fn operator_token(&self) -> String {
        let (email, password) = self.operator_account().await;
        self.login(&email, password).await
    }

    /// An operator account as `nongsan admin create-operator` makes it: (email, password).
    pub async fn operator_account(&self) -> (String, &'static str) {
        let email = format!("ops-{}@nongsan.test", random_suffix());
        let account = PasswordAccount {
            role: Role::Operator,
            name: "Vận hành",
            email: Some(&email),
            phone: None,
            password: "operator-password",
            ward_code: None,
            team_id: None,
            welcome: None,
        };
        open_password_account(&self.db, &self.reference.places, &account, self.clock.now()).await.expect("operator");
        (email, "operator-password")
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let answer = self.post("/api/v1/auth/login", None, &json!({"login": login, "password": password})).await;
        TestApp::expect_json(answer, 200).await["token"].as_str().expect("token").to_owned()
    }

    /// A team covering `wards` and one helper in it, logged in: (team id, helper id, token).
    pub async fn team_with_helper(&self, operator: &str, wards: &[i32]) -> (i64, i64, String) {
        let team =
            self.post("/api/v1/admin/teams", Some(operator), &json!({"name": "Tổ hỗ trợ", "ward_codes": wards})).await;
        let team_id = TestApp::expect_json(team, 201).await["id"].as_i64().expect("team id");
        let (helper_id, token) = self.helper_in(operator, team_id).await;
        (team_id, helper_id, token)
    }

    pub async fn helper_in(&self, operator: &str, team_id: i64) -> (i64, String) {
        let email = format!("helper-{}@nongsan.test", random_suffix());
        let body = json!({"name": "Cán bộ Minh", "email": email, "password": "helper-password"});
        let helper = self.post(&format!("/api/v1/admin/teams/{team_id}/helpers"), Some(operator), &body).await;
        let helper_id = TestApp::expect_json(helper, 201).await["id"].as_i64().expect("helper id");
        (helper_id, self.login(&email, "helper-password").await)
    }

    /// The farmer agrees in their app that `team_id` may act for them, for every purpose: the consent.
    pub async fn consent(&self, farmer_token: &str, team_id: i64) -> Value {
        let body = json!({"team_id": team_id, "purposes": ["list_produce", "answer_orders", "reset_pin"]});
        TestApp::expect_json(self.post("/api/v1/me/consents", Some(farmer_token), &body).await, 201).await
    }

    /// A partner serving `provinces` and one API key: (partner id, key id, key).
    pub async fn partner(&self, operator: &str, provinces: &[i32]) -> (i64, i64, String) {
        let body = json!({"name": "Bưu điện Việt Nam", "province_codes": provinces});
        let partner = self.post("/api/v1/admin/partners", Some(operator), &body).await;
        let partner_id = TestApp::expect_json(partner, 201).await["id"].as_i64().expect("partner id");
        let (key_id, key) = self.new_key(operator, partner_id).await;
        (partner_id, key_id, key)
    }

    pub async fn new_key(&self, operator: &str, partner_id: i64) -> (i64, String) {
        let key = self.post(&format!("/api/v1/admin/partners/{partner_id}/keys"), Some(operator), &json!({})).await;
        let key = TestApp::expect_json(key, 201).await;
        (key["id"].as_i64().expect("key id"), key["key"].as_str().expect("key").to_owned())
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the workers wind down on their own threads.
        drop(self.handle.stop(false));
    }
}

/// Asserts a problem+json answer with this status and code, and returns it.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.expect("problem body");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status, "{problem}");
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()), "{problem}");
    problem
}

/// Wards used by the tests: two communes of Đắk Lắk and one of Lâm Đồng.
pub const WARD_BUON_MA_THUOT: i32 = 24133;
pub const WARD_DA_LAT: i32 = 24778;
pub const WARD_EA_KAO: i32 = 24169;

#[derive(Clone)]
pub struct Farmer {
    pub id: i64,
    pub token: String,
    pub phone: String,
    pub pin: String,
}

/// A free port for a server a test starts later (aiosmtpd, Redis, chromedriver, a restarted app). Taken below
/// the kernel's ephemeral range (32768–60999): a port from `bind(0)` that is let go can be handed straight
/// to another test's listener in the meantime, and the test would then talk to the wrong server.
pub fn port_for_a_later_server() -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    // Each test binary run starts at its own place, so two runs side by side rarely meet.
    let _ = NEXT.compare_exchange(
        0,
        20_000 + u16::try_from(std::process::id() % 10_000).expect("under 10,000"),
        std::sync::atomic::Ordering::SeqCst,
        std::sync::atomic::Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(port < 32_000, "no free port left below the ephemeral range");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A Vietnamese mobile number no other test uses, in the local form people type (`091 xxx xxxx`).
pub fn fresh_phone() -> String {
    let digits = rand::rng().random_range(0..10_000_000u32);
    format!("091 {:03} {:04}", digits / 10_000, digits % 10_000)
}

#[derive(diesel::QueryableByName)]
struct DumpRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    row: String,
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Everything the database holds, as text: every row of every table (PostgreSQL), or the raw bytes of
/// the database file and its write-ahead log (SQLite).
pub async fn dump_database(app: &TestApp) -> String {
    let url = app.settings.database_url.clone().expect("database url");
    tokio::task::spawn_blocking(move || {
        if !url.starts_with("postgres") {
            let mut bytes = std::fs::read(&url).expect("database file");
            bytes.extend(std::fs::read(format!("{url}-wal")).unwrap_or_default());
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        let mut conn = PgConnection::establish(&url).expect("postgres");
        let tables = diesel::sql_query(
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .load::<TableName>(&mut conn)
        .expect("tables");
        let mut dump = String::new();
        for table in tables {
            let rows = diesel::sql_query(format!("SELECT row_to_json(t)::text AS row FROM \"{}\" t", table.name))
                .load::<DumpRow>(&mut conn)
                .expect("rows");
            rows.into_iter().for_each(|r| dump.push_str(&r.row));
        }
        dump
    })
    .await
    .expect("dump")
}

/// A multipart/form-data body with one file field `photo`: (content type, body).
pub fn photo_form(bytes: &[u8], file_name: &str) -> (String, Vec<u8>) {
    let boundary = format!("nongsan{}", random_suffix());
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    pub async fn upload(&self, token: &str, bytes: &[u8], file_name: &str) -> reqwest::Response {
        let (content_type, body) = photo_form(bytes, file_name);
        self.request("POST", "/api/v1/media", Some(token))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// A listing of `farmer` made from the three fields a farmer types.
    pub async fn listing(&self, token: &str, title: &str, price: &str, quantity: &str) -> Value {
        let body = json!({"title": title, "price": price, "quantity": quantity});
        TestApp::expect_json(self.post("/api/v1/listings", Some(token), &body).await, 201).await
    }
}

/// A guest's cash-on-delivery order of `quantity` units of a listing, to 12 Trần Phú in Đà Lạt.
pub fn guest_order(listing_id: &Value, quantity: i64, phone: &str) -> Value {
    json!({
        "items": [{"listing_id": listing_id, "quantity": quantity}],
        "buyer": {"name": "Lê Mai", "phone": phone, "email": "mai@example.vn"},
        "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
    })
}

/// The Đắk Lắk province code (Buôn Ma Thuột and Ea Kao are in it).
pub const PROVINCE_DAK_LAK: i32 = 66;

/// An order placed and accepted, so its one shipment is an open fulfilment job picked up in Đắk Lắk.
pub struct OpenJob {
    pub order_code: String,
    pub buyer_phone: String,
    pub farmer: Farmer,
}

impl TestApp {
    /// A farmer in Buôn Ma Thuột with auto-accept on and one listing; `jobs` COD orders of one unit each
    /// (1 kg, 80,000 VND + fee) from guests in Đà Lạt, each becoming one open job.
    pub async fn open_jobs(&self, jobs: usize) -> Vec<OpenJob> {
        let farmer = self.farmer(WARD_BUON_MA_THUOT).await;
        let auto = self.request("PATCH", "/api/v1/me", Some(&farmer.token)).json(&json!({"auto_accept": true}));
        assert_eq!(auto.send().await.expect("sent").status(), 200);
        let listing = self.listing(&farmer.token, "Sầu riêng Ri6", "80k/kg", &format!("{} kg", jobs * 2)).await;
        let mut open = Vec::with_capacity(jobs);
        for _ in 0..jobs {
            let phone = fresh_phone();
            let body = guest_order(&listing["id"], 1, &phone);
            let order = TestApp::expect_json(self.place_order(None, &random_suffix(), &body).await, 201).await;
            open.push(OpenJob {
                order_code: order["code"].as_str().expect("code").to_owned(),
                buyer_phone: phone,
                farmer: farmer.clone(),
            });
        }
        open
    }

    /// Claims jobs with a partner key: the answer's `jobs`.
    pub async fn claim(&self, key: &str, limit: i64, lease_seconds: i64) -> Vec<Value> {
        let body = json!({"limit": limit, "lease_seconds": lease_seconds});
        let claimed = TestApp::expect_json(self.post("/api/v1/partner/jobs/claim", Some(key), &body).await, 200).await;
        claimed["jobs"].as_array().expect("jobs").clone()
    }

    /// Reports a job event with a partner key.
    pub async fn job_event(&self, key: &str, job_id: i64, event: &Value) -> reqwest::Response {
        self.post(&format!("/api/v1/partner/jobs/{job_id}/events"), Some(key), event).await
    }
}

impl TestApp {
    /// A guest's bank-transfer order, to Đà Lạt, of 2 kg from a new coffee listing of `farmer` (240,000 VND).
    pub async fn transfer_order(&self, farmer: &Farmer) -> Value {
        let listing = self.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
        let body = json!({
            "items": [{"listing_id": listing["id"], "quantity": 2}],
            "buyer": {"name": "Lê Mai", "phone": fresh_phone()},
            "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
            "payment_method": "bank_transfer",
        });
        TestApp::expect_json(self.place_order(None, &random_suffix(), &body).await, 201).await
    }

    /// The farmer accepts the order's first shipment.
    pub async fn accept_first_shipment(&self, farmer: &Farmer, order: &Value) {
        let accept = format!("/api/v1/shipments/{}/accept", order["shipments"][0]["id"]);
        assert_eq!(self.request("POST", &accept, Some(&farmer.token)).send().await.expect("sent").status(), 204);
    }

    /// An operator records the order's transfer as arrived.
    pub async fn mark_paid(&self, operator: &str, order: &Value) {
        let paid = format!("/api/v1/admin/orders/{}/payment", order["code"].as_str().expect("code"));
        assert_eq!(self.request("POST", &paid, Some(operator)).send().await.expect("sent").status(), 200);
    }
}

/// A phone as a query parameter (`+84…` percent-encoded).
pub fn phone_param(phone: &str) -> String {
    format!("%2B84{}", &phone.replace(' ', "")[1..])
}

impl TestApp {
    /// An order as its guest buyer sees it (with their phone).
    pub async fn guest_view(&self, code: &Value, phone: &str) -> Value {
        let code = code.as_str().expect("order code");
        self.get_json(&format!("/api/v1/orders/{code}?phone={}", phone_param(phone))).await
    }

    /// The farmer rejects a shipment with a reason.
    pub async fn reject_shipment(&self, farmer: &Farmer, shipment_id: &Value, reason: &str) -> reqwest::Response {
        self.post(&format!("/api/v1/shipments/{shipment_id}/reject"), Some(&farmer.token), &json!({"reason": reason}))
            .await
    }

    /// A partner reports a job event now: `status` with extra fields (lease, COD…).
    pub async fn report(&self, key: &str, job_id: i64, status: &str, extra: Value) -> reqwest::Response {
        let mut body = json!({"event_id": random_suffix(), "status": status, "occurred_at": chrono::Utc::now()});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        self.job_event(key, job_id, &body).await
    }

    /// Emails the outbox has sent to `to` so far (after running it once more).
    pub async fn emails_to(&self, to: &str) -> Vec<nongsan::mail::Email> {
        self.run_outbox().await.expect("outbox runs");
        self.mailer.sent().into_iter().filter(|mail| mail.to == to).collect()
    }
}
