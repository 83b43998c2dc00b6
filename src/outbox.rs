//! The one way a message leaves the service. Emails and partner webhook calls are written to the `outbox`
//! table in the same transaction as the change they tell about, and a background sender delivers them with
//! retries and backoff. Rows are claimed in the database (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has
//! one writer), so two instances never send the same row, and a crash, a dead SMTP server or a partner's dead
//! endpoint only delays delivery.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::clock::Clock;
use crate::db::schema::{outbox, partner_webhooks};
use crate::db::{Conn, Db};
use crate::domain::status::{Channel, OutboxStatus, sql_literal};
use crate::error::{AppError, Lang};
use crate::mail::templates::Template;
use crate::mail::{Email, Mailer};
use crate::with_conn;

/// How long a claimed row stays reserved for the instance sending it.
const LEASE: Duration = Duration::from_secs(60);
const BATCH: i64 = 20;
const POLL: Duration = Duration::from_millis(500);

/// The event id of the call, also in the body: receivers drop one they have seen (retries resend it).
pub const EVENT_ID_HEADER: &str = "X-Nongsan-Event-Id";
/// Unix seconds when the call was sent; part of what is signed.
pub const TIMESTAMP_HEADER: &str = "X-Nongsan-Timestamp";
/// `sha256=<hex>`: see [`sign`].
pub const SIGNATURE_HEADER: &str = "X-Nongsan-Signature";
/// A slow partner endpoint must not hold up the sender loop (and the email behind it) for long.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// One row to send: on `channel` to `recipient` (an email address, or a partner's id for a webhook call).
struct Queued<'a> {
    channel: Channel,
    recipient: &'a str,
    subject: &'a str,
    body: &'a str,
}

fn enqueue(conn: &mut Conn<'_>, message: &Queued<'_>, now: NaiveDateTime) -> Result<(), AppError> {
    let row = (
        outbox::channel.eq(message.channel),
        outbox::recipient.eq(message.recipient),
        outbox::subject.eq(message.subject),
        outbox::body.eq(message.body),
        outbox::status.eq(OutboxStatus::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::created_at.eq(now),
    );
    with_conn!(conn, |c| diesel::insert_into(outbox::table).values(row).execute(c))?;
    Ok(())
}

/// Queues an email; call inside the transaction of the change it reports.
pub fn enqueue_email(conn: &mut Conn<'_>, email: &Email, now: NaiveDateTime) -> Result<(), AppError> {
    let message = Queued { channel: Channel::Email, recipient: &email.to, subject: &email.subject, body: &email.body };
    enqueue(conn, &message, now)
}

/// Queues the email `template` says to a person, if they have an address (phone-only people have none).
pub fn notify(
    conn: &mut Conn<'_>,
    to: Option<&str>,
    template: Template,
    lang: Lang,
    values: &[(&str, &str)],
    now: NaiveDateTime,
) -> Result<(), AppError> {
    match to {
        Some(to) => enqueue_email(conn, &template.render(lang, to, values), now),
        None => Ok(()),
    }
}

/// Queues a call to a partner's webhook; `body` is the JSON posted and carries its `event_id`.
pub fn enqueue_webhook(
    conn: &mut Conn<'_>,
    partner_id: i64,
    kind: &str,
    body: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let partner = partner_id.to_string();
    enqueue(conn, &Queued { channel: Channel::Webhook, recipient: &partner, subject: kind, body }, now)
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    channel: Channel,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

/// Takes the due rows for `LEASE`: `SKIP_LOCKED` becomes `FOR UPDATE SKIP LOCKED` on PostgreSQL.
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE status = {} AND next_attempt_at <= $2 \
         AND (locked_until IS NULL OR locked_until < $2) ORDER BY id LIMIT $3 SKIP_LOCKED) \
         RETURNING id, channel, recipient, subject, body, attempts",
        sql_literal(OutboxStatus::Pending.as_str())
    )
});

fn claim(conn: &mut Conn<'_>, now: NaiveDateTime) -> Result<Vec<Claimed>, AppError> {
    let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let rows = match conn {
        Conn::Pg(c) => diesel::sql_query(CLAIM.replace("SKIP_LOCKED", "FOR UPDATE SKIP LOCKED"))
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(BATCH)
            .load(&mut **c),
        // One writer at a time: the claim is atomic without row locks.
        Conn::Sqlite(c) => diesel::sql_query(CLAIM.replace("SKIP_LOCKED", "").replace('$', "?"))
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(BATCH)
            .load(&mut **c),
    };
    // RETURNING comes back in no set order; send in the order things happened (a job's `job.available`
    // before its `job.cancelled`, an order's pickup email before its delivery email).
    let mut rows: Vec<Claimed> = rows?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

fn backoff(attempts: i32) -> chrono::Duration {
    chrono::Duration::seconds(2_i64.saturating_pow(u32::try_from(attempts.clamp(0, 10)).unwrap_or(10)).min(600))
}

/// What became of one attempt at a row.
enum Attempt {
    /// Finished for good; `note` says why when there was nobody left to deliver to.
    Done { note: Option<&'static str> },
    /// Not delivered: tried again after the backoff.
    Retry(String),
}

/// Records an attempt on its row and lets go of the claim; the same for every channel.
fn finish(conn: &mut Conn<'_>, id: i64, attempts: i32, attempt: &Attempt, now: NaiveDateTime) -> Result<(), AppError> {
    let target = outbox::table.find(id);
    let unlocked = outbox::locked_until.eq(None::<NaiveDateTime>);
    match attempt {
        // Without a note the last failure stays, to tell why a delivery came late.
        Attempt::Done { note } => with_conn!(conn, |c| diesel::update(target)
            .set((
                outbox::status.eq(OutboxStatus::Sent),
                outbox::sent_at.eq(now),
                unlocked,
                note.map(|n| outbox::last_error.eq(n)),
            ))
            .execute(c))?,
        Attempt::Retry(error) => with_conn!(conn, |c| diesel::update(target)
            .set((outbox::next_attempt_at.eq(now + backoff(attempts)), unlocked, outbox::last_error.eq(error)))
            .execute(c))?,
    };
    Ok(())
}

/// Delivers what is due on its channel; returns how many rows are done with (sent, or nobody to send to).
pub async fn deliver_due(db: &Db, mailer: &Mailer, clock: &Clock) -> Result<usize, AppError> {
    // Rows go out one after another, in order. No row is started unless the claim still covers one more slow
    // call: past its lease another instance may claim the row and send it a second time.
    let stop_at = Instant::now() + LEASE.saturating_sub(2 * WEBHOOK_TIMEOUT);
    let now = clock.now();
    let mut claimed = db.write(move |conn| claim(conn, now)).await?.into_iter();
    let mut done = 0;
    while let Some(row) = claimed.next() {
        if Instant::now() >= stop_at {
            let unsent: Vec<i64> = std::iter::once(row.id).chain(claimed.map(|row| row.id)).collect();
            db.write(move |conn| release(conn, &unsent)).await?;
            break;
        }
        let attempt = match row.channel {
            Channel::Webhook => post_webhook(db, &row, clock).await,
            Channel::Email => send_email(mailer, &row).await,
        };
        let (id, attempts) = (row.id, row.attempts);
        match &attempt {
            Attempt::Done { .. } => done += 1,
            Attempt::Retry(error) => {
                tracing::warn!(id, attempts, channel = row.channel.as_str(), error, "not delivered yet; will retry")
            }
        }
        let now = clock.now();
        db.write(move |conn| finish(conn, id, attempts, &attempt, now)).await?;
    }
    Ok(done)
}

/// Gives back rows claimed but not tried, as if never claimed, so that the next run takes them at once.
fn release(conn: &mut Conn<'_>, ids: &[i64]) -> Result<(), AppError> {
    let rows = outbox::table.filter(outbox::id.eq_any(ids));
    with_conn!(conn, |c| diesel::update(rows)
        .set((outbox::locked_until.eq(None::<NaiveDateTime>), outbox::attempts.eq(outbox::attempts - 1)))
        .execute(c))?;
    Ok(())
}

async fn send_email(mailer: &Mailer, row: &Claimed) -> Attempt {
    let email = Email { to: row.recipient.clone(), subject: row.subject.clone(), body: row.body.clone() };
    match mailer.send_keyed(&email, &format!("outbox-{}", row.id)).await {
        Ok(()) => Attempt::Done { note: None },
        Err(error) => Attempt::Retry(format!("{error:#}")),
    }
}

/// One client for every call (it keeps connections to partners open between calls). Redirects are not
/// followed: a signed call goes only to the URL the partner registered.
static HTTP: LazyLock<Result<reqwest::Client, String>> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| format!("{:#}", anyhow::Error::from(error)))
});

/// `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`. The timestamp is signed with the body so that a
/// captured call cannot be passed off as a fresh one; receivers recompute this and reject old timestamps.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length, so this is never reached.
        return String::new();
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs one queued call to the partner's webhook.
async fn post_webhook(db: &Db, row: &Claimed, clock: &Clock) -> Attempt {
    match try_post_webhook(db, row, clock).await {
        Ok(attempt) => attempt,
        Err(error) => Attempt::Retry(format!("{error:#}")),
    }
}

async fn try_post_webhook(db: &Db, row: &Claimed, clock: &Clock) -> anyhow::Result<Attempt> {
    let Ok(partner_id) = row.recipient.parse::<i64>() else { return Ok(Attempt::Done { note: Some("bad recipient") }) };
    // Looked up now, not when queued: the partner may have changed its URL or secret, or stopped pushes.
    let webhook: Option<(String, String)> = db
        .read(move |conn| {
            let target =
                partner_webhooks::table.find(partner_id).select((partner_webhooks::url, partner_webhooks::secret));
            Ok(with_conn!(conn, |c| target.first(c).optional())?)
        })
        .await?;
    let Some((url, secret)) = webhook else { return Ok(Attempt::Done { note: Some("no webhook registered") }) };
    let client = HTTP.as_ref().map_err(|error| anyhow::anyhow!("no HTTP client: {error}"))?;
    let timestamp = clock.now().and_utc().timestamp();
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_ID_HEADER, event_id(row))
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, sign(&secret, timestamp, &row.body))
        .body(row.body.clone())
        .send()
        .await
        // The URL may carry credentials: keep it out of logs and `last_error`.
        .map_err(reqwest::Error::without_url)?;
    anyhow::ensure!(response.status().is_success(), "webhook answered {}", response.status());
    Ok(Attempt::Done { note: None })
}

/// The `event_id` the body carries (every queued call has one); the row id if it somehow does not.
fn event_id(row: &Claimed) -> String {
    serde_json::from_str::<serde_json::Value>(&row.body)
        .ok()
        .and_then(|body| body.get("event_id")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("outbox_{}", row.id))
}

/// The sender loop of one instance: runs until the process ends.
pub async fn run_sender(db: Db, mailer: Mailer, clock: Clock) {
    loop {
        match deliver_due(&db, &mailer, &clock).await {
            Ok(sent) if sent == usize::try_from(BATCH).unwrap_or(0) => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "outbox sender"),
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Python: hmac.new(b"whsec-0123456789abcdef", b'1763884800.{"event_id":"evt_1"}', "sha256").hexdigest()
        assert_eq!(
            sign("whsec-0123456789abcdef", 1_763_884_800, r#"{"event_id":"evt_1"}"#),
            "sha256=eb9dc2ae2cd6cb482bf960877be2b8ca279d3d3c0e4a76c939caf55d72f648f7"
        );
    }
}
