//! Email that is never lost, against a real SMTP server (Python's aiosmtpd): while the server is down
//! orders and account changes still succeed and their emails wait in the outbox, written in the same
//! transaction as the change; once the server is back each arrives exactly once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::prelude::*;
use nongsan::db::schema::{audit_log, outbox, users};
use nongsan::domain::status::Channel;
use serde_json::json;

use crate::helpers::{
    TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, assert_problem, fresh_phone, random_suffix, settings_for,
};

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
    let mut server = SmtpServer(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // Someone answers: make sure it is this aiosmtpd, not another server on the port.
            std::thread::sleep(Duration::from_millis(100));
            if let Ok(Some(status)) = server.0.try_wait() {
                panic!("aiosmtpd stopped ({status}): port {port} belongs to another server");
            }
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

/// An app (SQLite) whose SMTP server is down: (python with aiosmtpd, the SMTP port, the maildir, the app).
async fn app_with_smtp_down() -> Option<(String, u16, PathBuf, TestApp)> {
    let Some(python) = smtp_python() else {
        eprintln!("aiosmtpd not available (set TEST_SMTP_PYTHON): SMTP test skipped");
        return None;
    };
    let port = crate::helpers::port_for_a_later_server();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let maildir = data_dir.path().join("maildir");
    let url = data_dir.path().join("test.db").display().to_string();
    let mut settings = settings_for(data_dir.path(), url, None);
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    let app = TestApp::start(settings, data_dir, None).await;
    assert_eq!(app.mailer.backend_name(), "smtp");
    Some((python, port, maildir, app))
}

/// Runs the outbox until `expected` emails have arrived (a failed attempt is retried after its backoff, 2 s
/// for the first failure), then once more to see that nothing arrives twice.
async fn deliver_all(app: &TestApp, maildir: &Path, expected: usize) -> Vec<String> {
    let mut arrived = Vec::new();
    for _ in 0..40 {
        app.run_outbox().await.expect("outbox");
        arrived = delivered(maildir);
        if arrived.len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.run_outbox().await.expect("outbox");
    let arrived_again = delivered(maildir);
    assert_eq!(arrived.len(), expected, "each email arrives");
    assert_eq!(arrived_again.len(), expected, "and never twice");
    arrived_again
}

/// When the outbox rows to `to` were written: each is in the transaction of the change it reports.
async fn queued_at(app: &TestApp, to: &str) -> Vec<chrono::NaiveDateTime> {
    let to = to.to_owned();
    app.db
        .read(move |conn| {
            let rows = outbox::table.filter(outbox::recipient.eq(to)).select(outbox::created_at);
            Ok(nongsan::with_conn!(conn, |c| rows.load(c))?)
        })
        .await
        .expect("outbox rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_wait_while_smtp_is_down_and_arrive_once_when_it_is_back() {
    let Some((python, port, maildir, app)) = app_with_smtp_down().await else { return };

    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    let listing = app.listing(&farmer.token, "Cà phê Robusta", "120k", "50 kg").await;
    let email = format!("mai-{}@example.vn", random_suffix());
    let body = json!({
        "items": [{"listing_id": listing["id"], "quantity": 1}],
        "buyer": {"name": "Lê Mai", "phone": fresh_phone(), "email": email},
        "address": {"ward_code": WARD_DA_LAT, "street": "12 Trần Phú"},
    });
    for _ in 0..3 {
        let placed = app.place_order(None, &random_suffix(), &body).await;
        assert_eq!(placed.status(), 201, "orders succeed while SMTP is down");
    }
    assert_eq!(app.run_lane(Channel::Email).await.expect("outbox"), 0, "no email can be sent yet");

    let _server = start_smtp(&python, port, &maildir);
    let arrived = deliver_all(&app, &maildir, 3).await;
    assert!(arrived.iter().all(|m| m.contains(&email)), "{arrived:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_and_pin_reset_notices_are_written_with_their_change_and_survive_an_outage() {
    let Some((python, port, maildir, app)) = app_with_smtp_down().await else { return };

    // The welcome email is written in the transaction that opens the account: same time, and none for an
    // account that was refused.
    let buyer_email = format!("mai-{}@example.vn", random_suffix());
    let buyer = json!({"name": "Lê Mai", "email": buyer_email, "password": "rau-sach-2025"});
    let created = TestApp::expect_json(app.post("/api/v1/buyers", None, &buyer).await, 201).await;
    let buyer_id = created["buyer"]["id"].as_i64().expect("id");
    let opened: chrono::NaiveDateTime = app
        .db
        .read(move |conn| {
            Ok(nongsan::with_conn!(conn, |c| users::table.find(buyer_id).select(users::created_at).first(c))?)
        })
        .await
        .expect("buyer row");
    assert_eq!(queued_at(&app, &buyer_email).await, vec![opened], "welcome queued with the account");
    assert_problem(app.post("/api/v1/buyers", None, &buyer).await, 409, "email_taken").await;
    assert_eq!(queued_at(&app, &buyer_email).await.len(), 1, "a refused sign-up queues nothing");

    // The PIN-reset notice is written in the transaction of the reset, with its audit line.
    let operator = app.operator_token().await;
    let (team_id, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    app.consent(&farmer.token, team_id).await;
    let farmer_email = format!("lan-{}@example.vn", random_suffix());
    let profile = app.request("PATCH", "/api/v1/me", Some(&farmer.token)).json(&json!({"email": farmer_email}));
    assert_eq!(profile.send().await.expect("sent").status(), 200);
    let path = format!("/api/v1/helper/farmers/{}/pin-reset", farmer.id);
    let reset = app.post(&path, Some(&helper), &json!({"new_pin": "639251", "identity_checked": true})).await;
    assert_eq!(reset.status(), 204, "the reset succeeds while SMTP is down");
    let farmer_id = farmer.id;
    let audited: chrono::NaiveDateTime = app
        .db
        .read(move |conn| {
            let line = audit_log::table.filter(audit_log::farmer_id.eq(farmer_id)).select(audit_log::created_at);
            Ok(nongsan::with_conn!(conn, |c| line.first(c))?)
        })
        .await
        .expect("audit line");
    assert_eq!(queued_at(&app, &farmer_email).await, vec![audited], "notice queued with the reset");
    assert_eq!(app.run_lane(Channel::Email).await.expect("outbox"), 0, "no email can be sent yet");

    let _server = start_smtp(&python, port, &maildir);
    let arrived = deliver_all(&app, &maildir, 2).await;
    assert_eq!(arrived.iter().filter(|m| m.contains(&buyer_email)).count(), 1, "{arrived:?}");
    assert_eq!(arrived.iter().filter(|m| m.contains(&farmer_email)).count(), 1, "{arrived:?}");
}
