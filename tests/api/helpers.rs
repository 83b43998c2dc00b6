//! Test harness: each test spawns the real application on a free port with a database of its own
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).

use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::{Connection, PgConnection, RunQueryDsl};
use nongsan::config::Settings;
use nongsan::mail::Mailer;
use nongsan::startup::{Application, Components};
use rand::Rng;
use serde_json::Value;

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
    settings
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let url = data_dir.path().join("test.db").display().to_string();
        let settings = settings_for(data_dir.path(), url, None);
        TestApp::start(settings, data_dir, None).await
    }

    /// `None` (and a note on stderr) when no PostgreSQL is configured for tests.
    pub async fn postgres() -> Option<TestApp> {
        let Some(database) = TestDatabase::create() else {
            eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
            return None;
        };
        let data_dir = tempfile::tempdir().expect("temp dir");
        let redis = std::env::var("TEST_REDIS_URL").ok().filter(|url| !url.is_empty());
        let settings = settings_for(data_dir.path(), database.url.clone(), redis);
        Some(TestApp::start(settings, data_dir, Some(database)).await)
    }

    /// Starts the application as `main` does, with an in-memory mailer to read what it sent.
    pub async fn start(settings: Settings, data_dir: tempfile::TempDir, database: Option<TestDatabase>) -> TestApp {
        let mut components = Components::start(&settings).await.expect("components start");
        components.mailer = Mailer::in_memory(&settings).expect("mailer");
        let app = Application::build(settings.clone(), components).expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        TestApp { address, client, settings, handle, _data_dir: data_dir, database }
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
