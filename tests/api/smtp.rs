//! Email that is never lost, against a real SMTP server (Python's aiosmtpd): while the server is down
//! orders still succeed and their emails wait in the outbox; once it is back each arrives exactly once.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, fresh_phone, random_suffix, settings_for};

/// A Python with aiosmtpd: `TEST_SMTP_PYTHON` (set by `.ci/run`) or the system's `python3`.
fn smtp_python() -> Option<String> {
    let python = std::env::var("TEST_SMTP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let ok =
        Command::new(&python).args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    ok.then_some(python)
}

struct SmtpServer(Child);

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_smtp(python: &str, port: u16, maildir: &Path) -> SmtpServer {
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd starts");
    let server = SmtpServer(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("aiosmtpd did not open port {port}");
}

fn delivered(maildir: &Path) -> Vec<String> {
    let new: PathBuf = maildir.join("new");
    std::fs::read_dir(new)
        .map(|dir| dir.flatten().filter_map(|f| std::fs::read_to_string(f.path()).ok()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_wait_while_smtp_is_down_and_arrive_once_when_it_is_back() {
    let Some(python) = smtp_python() else {
        eprintln!("aiosmtpd not available (set TEST_SMTP_PYTHON): SMTP test skipped");
        return;
    };
    let port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let maildir = data_dir.path().join("maildir");
    let url = data_dir.path().join("test.db").display().to_string();
    let mut settings = settings_for(data_dir.path(), url, None);
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    let app = TestApp::start(settings, data_dir, None).await;
    assert_eq!(app.mailer.backend_name(), "smtp");

    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
    let email = format!("mai-{}@example.vn", random_suffix());
    let body = json!({
        "items": [{"listing_id": listing["id"], "quantity": 1}],
        "buyer": {"name": "Lê Mai", "phone": fresh_phone(), "email": email},
        "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
    });
    for _ in 0..3 {
        let placed = app.request("POST", "/api/v1/orders", None).header("Idempotency-Key", random_suffix()).json(&body);
        assert_eq!(placed.send().await.expect("sent").status(), 201, "orders succeed while SMTP is down");
    }
    assert_eq!(app.run_outbox().await.expect("outbox"), 0, "nothing can be sent yet");

    let _server = start_smtp(&python, port, &maildir);
    // The failed attempt is retried after its backoff (2 s for the first failure).
    let mut arrived = Vec::new();
    for _ in 0..40 {
        app.run_outbox().await.expect("outbox");
        arrived = delivered(&maildir);
        if arrived.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.run_outbox().await.expect("outbox");
    let arrived_again = delivered(&maildir);
    assert_eq!(arrived.len(), 3, "one confirmation per order");
    assert_eq!(arrived_again.len(), 3, "and never twice");
    assert!(arrived_again.iter().all(|m| m.contains(&email)), "{arrived_again:?}");
}
