//! Email behind one small interface: `.eml` files in `<data dir>/outbox` by default, an SMTP server with
//! `SMTP_URL`, or memory (tests). What the emails say lives in `assets/email/` (see `templates`).

pub mod templates;

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// One plain-text email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

/// Mail carries people's names, order codes and PIN-reset notices: it leaves this machine encrypted
/// (`smtps://`, or `smtp://…?tls=required`), unless `SMTP_ALLOW_PLAIN=true` says otherwise.
fn refuse_plain_smtp(url: &str, allow_plain: bool) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).context("invalid SMTP_URL")?;
    let encrypted =
        parsed.scheme() == "smtps" || parsed.query_pairs().any(|(key, value)| key == "tls" && value == "required");
    let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let here = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    anyhow::ensure!(
        encrypted || here || allow_plain,
        "SMTP_URL sends mail without TLS to another machine: use smtps:// or ?tls=required, or set SMTP_ALLOW_PLAIN=true"
    );
    Ok(())
}

#[derive(Clone)]
enum Transport {
    Files(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Memory(Arc<Mutex<Vec<Email>>>),
}

impl Mailer {
    /// SMTP when `SMTP_URL` is set, otherwise files in the outbox folder (created here).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let transport = match &settings.smtp_url {
            Some(url) => {
                refuse_plain_smtp(url, settings.smtp_allow_plain)?;
                Transport::Smtp(
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).context("invalid SMTP_URL")?.build(),
                )
            }
            None => Transport::Files(file_transport(&settings.outbox_dir())?),
        };
        Ok(Mailer { from: parse_from(&settings.mail_from)?, transport })
    }

    /// A mailer that keeps what it sends, for tests.
    pub fn in_memory(settings: &Settings) -> anyhow::Result<Mailer> {
        Ok(Mailer { from: parse_from(&settings.mail_from)?, transport: Transport::Memory(Arc::default()) })
    }

    pub fn backend_name(&self) -> &'static str {
        match self.transport {
            Transport::Files(_) => "files",
            Transport::Smtp(_) => "smtp",
            Transport::Memory(_) => "memory",
        }
    }

    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        self.deliver(email, None).await
    }

    /// Sends an email whose `Message-ID` is derived from `key`: if a crash makes the outbox send it again,
    /// mail systems see the same id and can drop the copy.
    pub async fn send_keyed(&self, email: &Email, key: &str) -> anyhow::Result<()> {
        self.deliver(email, Some(format!("<{key}@{}>", self.from.email.domain()))).await
    }

    async fn deliver(&self, email: &Email, message_id: Option<String>) -> anyhow::Result<()> {
        let message = Message::builder()
            .message_id(message_id)
            .from(self.from.clone())
            .to(email.to.parse().with_context(|| format!("invalid recipient {}", email.to))?)
            .subject(&email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())?;
        match &self.transport {
            Transport::Files(files) => drop(files.send(message).await?),
            Transport::Smtp(smtp) => drop(smtp.send(message).await?),
            Transport::Memory(sent) => {
                sent.lock().map_err(|_| anyhow::anyhow!("mail store poisoned"))?.push(email.clone())
            }
        }
        Ok(())
    }

    /// What an in-memory mailer has sent so far (empty for the other backends).
    pub fn sent(&self) -> Vec<Email> {
        match &self.transport {
            Transport::Memory(sent) => sent.lock().map(|sent| sent.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

fn file_transport(dir: &Path) -> anyhow::Result<AsyncFileTransport<Tokio1Executor>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the outbox {}", dir.display()))?;
    Ok(AsyncFileTransport::new(dir))
}

fn parse_from(from: &str) -> anyhow::Result<Mailbox> {
    from.parse().with_context(|| format!("MAIL_FROM is not an email address: {from}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome() -> Email {
        Email { to: "lan@example.vn".into(), subject: "Chào mừng".into(), body: "Xin chào chị Lan".into() }
    }

    #[tokio::test]
    async fn file_backend_writes_an_eml_per_email() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::embedded_defaults();
        settings.data_dir = dir.path().to_owned();
        let mailer = Mailer::from_settings(&settings).expect("mailer");
        assert_eq!(mailer.backend_name(), "files");
        mailer.send(&welcome()).await.expect("sent");
        let files: Vec<_> = std::fs::read_dir(settings.outbox_dir()).expect("outbox").flatten().collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(files[0].path()).expect("eml");
        assert!(eml.contains("To: lan@example.vn"), "{eml}");
        mailer.send_keyed(&welcome(), "outbox-42").await.expect("sent");
        let emls: Vec<String> = std::fs::read_dir(settings.outbox_dir())
            .expect("outbox")
            .flatten()
            .map(|f| std::fs::read_to_string(f.path()).expect("eml"))
            .collect();
        assert!(emls.iter().any(|eml| eml.contains("Message-ID: <outbox-42@nongsan.vn>")), "{emls:?}");
    }

    #[tokio::test]
    async fn memory_backend_keeps_emails_and_bad_recipients_fail() {
        let mailer = Mailer::in_memory(&Settings::embedded_defaults()).expect("mailer");
        mailer.send(&welcome()).await.expect("sent");
        assert_eq!(mailer.sent(), vec![welcome()]);
        let bad = Email { to: "not an address".into(), ..welcome() };
        assert!(mailer.send(&bad).await.is_err());
    }

    #[test]
    fn mail_leaves_the_machine_encrypted_unless_allowed() {
        assert!(refuse_plain_smtp("smtp://mail.example.vn:25", false).is_err());
        assert!(refuse_plain_smtp("smtp://mail.example.vn:25?tls=opportunistic", false).is_err());
        assert!(refuse_plain_smtp("smtp://mail.example.vn:25", true).is_ok());
        assert!(refuse_plain_smtp("smtps://user:pass@mail.example.vn", false).is_ok());
        assert!(refuse_plain_smtp("smtp://mail.example.vn:587?tls=required", false).is_ok());
        assert!(refuse_plain_smtp("smtp://127.0.0.1:2525", false).is_ok());
        assert!(refuse_plain_smtp("smtp://localhost:2525", false).is_ok());
        assert!(refuse_plain_smtp("smtp://[::1]:2525", false).is_ok());
    }
}
