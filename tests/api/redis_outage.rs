//! Redis going away after start: requests keep succeeding from the in-process cache, `/readyz` says 503
//! until Redis is back. Runs its own `redis-server` on a free port so it can stop and restart it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{TestApp, assert_problem, settings_for};

/// A private redis-server, killed when dropped (also when the test fails half-way).
struct RedisServer(Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16) -> RedisServer {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let server = RedisServer(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server did not open port {port}");
}

async fn readyz_status(app: &TestApp) -> u16 {
    app.get("/readyz").await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_survive_a_redis_outage_and_readiness_reports_it() {
    if Command::new("redis-server").arg("--version").output().is_err() {
        eprintln!("redis-server not installed: Redis outage test skipped");
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let redis = start_redis(port);

    let data_dir = tempfile::tempdir().expect("temp dir");
    let url = data_dir.path().join("test.db").display().to_string();
    let settings = settings_for(data_dir.path(), url, Some(format!("redis://127.0.0.1:{port}")));
    let app = TestApp::start(settings, data_dir, None).await;

    assert_eq!(readyz_status(&app).await, 200);
    assert_eq!(app.get_json("/api/v1/provinces").await["items"].as_array().map(Vec::len), Some(34));

    drop(redis);
    for _ in 0..3 {
        let wards = app.get_json("/api/v1/wards?q=da%20lat").await;
        assert!(!wards["items"].as_array().expect("items").is_empty());
        assert_eq!(app.get_json("/api/v1/provinces").await["items"].as_array().map(Vec::len), Some(34));
    }
    assert_problem(app.get("/readyz").await, 503, "cache_unavailable").await;

    let _redis = start_redis(port);
    let mut status = 0;
    for _ in 0..50 {
        status = readyz_status(&app).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "readiness did not recover after Redis came back");
    assert_eq!(app.get_json("/api/v1/categories").await["items"].as_array().map(|c| c.len() >= 20), Some(true));
}
