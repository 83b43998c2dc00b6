//! Delivery: each channel's lane claims the rows that are due, sends them one after another and records
//! what came of each (sent, retry later, handed from Zalo to SMS, given up).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::clock::Clock;
use crate::db::schema::{outbox, partner_webhooks, partners};
use crate::db::{Conn, Db};
use crate::domain::status::{Channel, OutboxStatus, sql_literal};
use crate::egress;
use crate::error::{AppError, Lang};
use crate::mail::{Email, Mailer};
use crate::sms::{Phones, ZnsOutcome};
use crate::with_conn;

/// How long a claimed row stays reserved for the instance sending it.
const LEASE: Duration = Duration::from_secs(60);
const BATCH: i64 = 20;
const POLL: Duration = Duration::from_millis(500);
/// A failed message is tried again at most this far apart while it is young, then less often.
const YOUNG_RETRY_CAP_SECONDS: i64 = 30;
const YOUNG_FOR_MINUTES: i64 = 10;
const OLD_RETRY_CAP_SECONDS: i64 = 600;
/// The event id of the call, also in the body: receivers drop one they have seen (retries resend it).
pub const EVENT_ID_HEADER: &str = "X-Nongsan-Event-Id";
/// Unix seconds when the call was sent; part of what is signed.
pub const TIMESTAMP_HEADER: &str = "X-Nongsan-Timestamp";
/// `sha256=<hex>`: see [`sign`].
pub const SIGNATURE_HEADER: &str = "X-Nongsan-Signature";
/// Attempts at one partner call before it is given up and flagged `failed`: with the backoff, a partner
/// endpoint failing for about 13 hours. Emails and texts are ours to deliver and keep being retried.
pub const WEBHOOK_ATTEMPTS: i32 = 100;
/// A slow partner endpoint must not hold up the sender loop (and the email behind it) for long.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    channel: Channel,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
}

impl Claimed {
    /// The id a gateway sees: the same on every retry of the row, so it can drop a repeat.
    fn message_id(&self) -> String {
        format!("outbox-{}", self.id)
    }
}

/// Takes the due rows of one channel for `LEASE`: `SKIP_LOCKED` becomes `FOR UPDATE SKIP LOCKED` on
/// PostgreSQL.
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE status = {} AND channel = $4 AND next_attempt_at <= $2 \
         AND (locked_until IS NULL OR locked_until < $2) ORDER BY id LIMIT $3 SKIP_LOCKED) \
         RETURNING id, channel, kind, recipient, subject, body, attempts, created_at",
        sql_literal(OutboxStatus::Pending.as_str())
    )
});

fn claim(conn: &mut Conn<'_>, channel: Channel, now: NaiveDateTime) -> Result<Vec<Claimed>, AppError> {
    let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let rows = match conn {
        Conn::Pg(c) => diesel::sql_query(CLAIM.replace("SKIP_LOCKED", "FOR UPDATE SKIP LOCKED"))
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(BATCH)
            .bind::<Text, _>(channel)
            .load(&mut **c),
        // One writer at a time: the claim is atomic without row locks.
        Conn::Sqlite(c) => diesel::sql_query(CLAIM.replace("SKIP_LOCKED", "").replace('$', "?"))
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(BATCH)
            .bind::<Text, _>(channel)
            .load(&mut **c),
    };
    // RETURNING comes back in no set order; send in the order things happened (a job's `job.available`
    // before its `job.cancelled`, an order's pickup email before its delivery email).
    let mut rows: Vec<Claimed> = rows?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// Doubling waits, at most 30 s apart while the message is under 10 minutes old (someone waits for it),
/// then up to 10 minutes apart.
fn backoff(attempts: i32, age: chrono::Duration) -> chrono::Duration {
    let doubling = 2_i64.saturating_pow(u32::try_from(attempts.clamp(0, 10)).unwrap_or(10));
    let cap = if age < chrono::Duration::minutes(YOUNG_FOR_MINUTES) {
        YOUNG_RETRY_CAP_SECONDS
    } else {
        OLD_RETRY_CAP_SECONDS
    };
    chrono::Duration::seconds(doubling.min(cap))
}

/// What became of one attempt at a row.
enum Attempt {
    /// Finished for good; `note` says why when there was nobody left to deliver to; `segments` is what an
    /// SMS cost.
    Done { note: Option<&'static str>, segments: Option<i32> },
    /// Not delivered: tried again after the backoff.
    Retry(String),
    /// Zalo cannot carry it: the same row (same message id) goes to the SMS lane, due at once.
    ToSms(String),
    /// A partner call that failed [`WEBHOOK_ATTEMPTS`] times: no more tries, flagged `failed`.
    GaveUp(String),
}

impl Attempt {
    fn result(&self) -> &'static str {
        match self {
            Attempt::Done { note: None, .. } => "ok",
            Attempt::Done { note: Some(_), .. } => "dropped",
            Attempt::Retry(_) => "retry",
            Attempt::ToSms(_) => "to_sms",
            Attempt::GaveUp(_) => OutboxStatus::Failed.as_str(),
        }
    }
}

/// Records an attempt on its row and lets go of the claim; the same for every channel.
fn finish(conn: &mut Conn<'_>, row: &Claimed, attempt: &Attempt, now: NaiveDateTime) -> Result<(), AppError> {
    let target = outbox::table.find(row.id);
    let unlocked = outbox::locked_until.eq(None::<NaiveDateTime>);
    match attempt {
        // Without a note the last failure stays, to tell why a delivery came late.
        Attempt::Done { note, segments } => with_conn!(conn, |c| diesel::update(target)
            .set((
                outbox::status.eq(OutboxStatus::Sent),
                outbox::sent_at.eq(now),
                outbox::segments.eq(*segments),
                unlocked,
                note.map(|n| outbox::last_error.eq(n)),
            ))
            .execute(c))?,
        Attempt::Retry(error) => with_conn!(conn, |c| diesel::update(target)
            .set((
                outbox::next_attempt_at.eq(now + backoff(row.attempts, now - row.created_at)),
                unlocked,
                outbox::last_error.eq(error),
            ))
            .execute(c))?,
        Attempt::GaveUp(error) => with_conn!(conn, |c| diesel::update(target)
            .set((outbox::status.eq(OutboxStatus::Failed), unlocked, outbox::last_error.eq(error)))
            .execute(c))?,
        Attempt::ToSms(reason) => with_conn!(conn, |c| diesel::update(target)
            .set((
                outbox::channel.eq(Channel::Sms),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                unlocked,
                outbox::last_error.eq(reason),
            ))
            .execute(c))?,
    };
    Ok(())
}

/// What sends: email, and the SMS and Zalo gateways.
#[derive(Clone)]
pub struct Senders {
    pub mailer: Mailer,
    pub phones: Phones,
    /// Webhook calls may go to `http` and loopback hosts (`NONGSAN_ALLOW_LOCAL_WEBHOOKS`: tests, development).
    pub local_webhooks: bool,
}

/// Delivers what is due on one channel (a lane: a slow SMS gateway never holds up email, nor the other way
/// round); returns how many rows are done with (sent, handed to SMS, or nobody to send to).
pub async fn deliver_due(db: &Db, senders: &Senders, clock: &Clock, channel: Channel) -> Result<usize, AppError> {
    let now = clock.now();
    if channel == Channel::Zns && !senders.phones.has_zalo() {
        return db.write(move |conn| hand_zalo_lane_to_sms(conn, now)).await;
    }
    // Rows go out one after another, in order. No row is started unless the claim still covers one more slow
    // call: past its lease another instance may claim the row and send it a second time.
    let stop_at = Instant::now() + LEASE.saturating_sub(2 * WEBHOOK_TIMEOUT);
    let mut claimed = db.write(move |conn| claim(conn, channel, now)).await?.into_iter();
    let mut done = 0;
    while let Some(row) = claimed.next() {
        if Instant::now() >= stop_at {
            let unsent: Vec<i64> = std::iter::once(row.id).chain(claimed.map(|row| row.id)).collect();
            db.write(move |conn| release(conn, &unsent)).await?;
            break;
        }
        let attempt = match row.channel {
            Channel::Webhook => post_webhook(db, &row, clock, senders.local_webhooks).await,
            Channel::Email => send_email(&senders.mailer, &row).await,
            Channel::Zns => send_zns(&senders.phones, &row).await,
            Channel::Sms => send_sms(&senders.phones, &row).await,
        };
        metrics::counter!(
            "messages_total",
            "channel" => row.channel.as_str(),
            "kind" => row.kind.clone(),
            "result" => attempt.result()
        )
        .increment(1);
        match &attempt {
            Attempt::Done { segments, .. } => {
                done += 1;
                if let Some(segments) = segments {
                    metrics::counter!("sms_segments_total", "kind" => row.kind.clone())
                        .increment(u64::try_from(*segments).unwrap_or_default());
                }
            }
            Attempt::ToSms(reason) => {
                done += 1;
                tracing::info!(id = row.id, reason, "not for Zalo; goes by SMS");
            }
            Attempt::Retry(error) => {
                let (id, attempts, channel) = (row.id, row.attempts, row.channel.as_str());
                tracing::warn!(id, attempts, channel, error, "not delivered yet; will retry")
            }
            Attempt::GaveUp(error) => {
                let (id, partner) = (row.id, row.recipient.as_str());
                tracing::error!(id, partner, error, "partner call failed {WEBHOOK_ATTEMPTS} times; given up")
            }
        }
        let now = clock.now();
        db.write(move |conn| finish(conn, &row, &attempt, now)).await?;
    }
    Ok(done)
}

/// Without Zalo set up every text goes by SMS: the Zalo lane hands over all it holds in one statement, due
/// when it was due (quiet hours kept), instead of claiming and trying each row (two writes a text, and under
/// load a backlog that every claim had to read past).
static HAND_ZALO_LANE_TO_SMS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET channel = {}, attempts = 0, last_error = 'ZNS not set up' \
         WHERE status = {} AND channel = {} AND (locked_until IS NULL OR locked_until < $1) RETURNING kind",
        sql_literal(Channel::Sms.as_str()),
        sql_literal(OutboxStatus::Pending.as_str()),
        sql_literal(Channel::Zns.as_str()),
    )
});

#[derive(QueryableByName)]
struct HandedOver {
    #[diesel(sql_type = Text)]
    kind: String,
}

fn hand_zalo_lane_to_sms(conn: &mut Conn<'_>, now: NaiveDateTime) -> Result<usize, AppError> {
    let handed = with_conn!(conn, |c| diesel::sql_query(HAND_ZALO_LANE_TO_SMS.as_str())
        .bind::<Timestamp, _>(now)
        .load::<HandedOver>(c))?;
    let mut by_kind: HashMap<String, u64> = HashMap::new();
    for row in &handed {
        *by_kind.entry(row.kind.clone()).or_default() += 1;
    }
    for (kind, count) in by_kind {
        metrics::counter!("messages_total", "channel" => Channel::Zns.as_str(), "kind" => kind, "result" => "to_sms")
            .increment(count);
    }
    Ok(handed.len())
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
    match mailer.send_keyed(&email, &row.message_id()).await {
        Ok(()) => Attempt::Done { note: None, segments: None },
        Err(error) => Attempt::Retry(format!("{error:#}")),
    }
}

/// A queued text: what the SMS says and the values a Zalo template fills in.
fn text_of(row: &Claimed) -> Option<(String, Value)> {
    let mut body: Value = serde_json::from_str(&row.body).ok()?;
    let text = body.get("text")?.as_str()?.to_owned();
    Some((text, body.get_mut("data").map(Value::take).unwrap_or_default()))
}

async fn send_zns(phones: &Phones, row: &Claimed) -> Attempt {
    let Some((_, data)) = text_of(row) else { return Attempt::Done { note: Some("unreadable text"), segments: None } };
    let client = match gateway_client() {
        Ok(client) => client,
        Err(retry) => return retry,
    };
    match phones.send_zns(client, &row.message_id(), &row.recipient, &row.kind, &data).await {
        ZnsOutcome::Sent => Attempt::Done { note: None, segments: None },
        ZnsOutcome::UseSms(reason) => Attempt::ToSms(reason),
        ZnsOutcome::Failed(error) => Attempt::Retry(error),
    }
}

async fn send_sms(phones: &Phones, row: &Claimed) -> Attempt {
    let Some((text, _)) = text_of(row) else { return Attempt::Done { note: Some("unreadable text"), segments: None } };
    let client = match gateway_client() {
        Ok(client) => client,
        Err(retry) => return retry,
    };
    let sms = phones.prepare(&text);
    match phones.send_sms(client, &row.message_id(), &row.recipient, &sms).await {
        Ok(()) => Attempt::Done { note: None, segments: Some(sms.segments) },
        Err(error) => Attempt::Retry(format!("{error:#}")),
    }
}

/// How every outgoing call is made. Redirects are not followed: a call goes only to the URL configured or
/// registered (and checked).
fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(WEBHOOK_TIMEOUT).redirect(reqwest::redirect::Policy::none())
}

/// One client for the gateways' calls (it keeps their connections open between calls). A webhook call gets a
/// client of its own, pinned to the addresses just checked.
static HTTP: LazyLock<Result<reqwest::Client, String>> =
    LazyLock::new(|| client_builder().build().map_err(|error| format!("{:#}", anyhow::Error::from(error))));

/// The gateways' client; a message that finds none is tried again later.
fn gateway_client() -> Result<&'static reqwest::Client, Attempt> {
    HTTP.as_ref().map_err(|error| Attempt::Retry(format!("no HTTP client: {error}")))
}

/// `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`. The timestamp is signed with the body so that a
/// captured call cannot be passed off as a fresh one; receivers recompute this and reject old timestamps.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret, format!("{timestamp}.{body}").as_bytes())))
}

/// HMAC-SHA256 of `message` under `secret`.
pub fn hmac_sha256(secret: &str, message: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length, so this is never reached.
        return Vec::new();
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// POSTs one queued call to the partner's webhook; a call that keeps failing is given up.
async fn post_webhook(db: &Db, row: &Claimed, clock: &Clock, local_webhooks: bool) -> Attempt {
    match try_post_webhook(db, row, clock, local_webhooks).await {
        Ok(attempt) => attempt,
        Err(error) if row.attempts >= WEBHOOK_ATTEMPTS => Attempt::GaveUp(format!("{error:#}")),
        Err(error) => Attempt::Retry(format!("{error:#}")),
    }
}

async fn try_post_webhook(db: &Db, row: &Claimed, clock: &Clock, local_webhooks: bool) -> anyhow::Result<Attempt> {
    let Ok(partner_id) = row.recipient.parse::<i64>() else {
        return Ok(Attempt::Done { note: Some("bad recipient"), segments: None });
    };
    // Looked up now, not when queued: the partner may have changed its URL or secret, or stopped pushes.
    let webhook: Option<(String, String, Option<NaiveDateTime>)> = db
        .read(move |conn| {
            let target = partner_webhooks::table
                .inner_join(partners::table)
                .filter(partners::id.eq(partner_id))
                .select((partner_webhooks::url, partner_webhooks::secret, partners::suspended_at));
            Ok(with_conn!(conn, |c| target.first(c).optional())?)
        })
        .await?;
    let (url, secret) = match webhook {
        None => return Ok(Attempt::Done { note: Some("no webhook registered"), segments: None }),
        Some((_, _, Some(_))) => return Ok(Attempt::Done { note: Some("partner suspended"), segments: None }),
        Some((url, secret, None)) => (url, secret),
    };
    // Checked again before each call (the name may resolve elsewhere than when it was registered: DNS
    // rebinding), and the call goes to the addresses checked, not to a second lookup.
    let refused = |refused: egress::Refused| anyhow::anyhow!("{}", refused.message.get(Lang::En));
    let target = egress::check_form(&url, local_webhooks).map_err(refused)?;
    let addresses = egress::resolve(&target, local_webhooks).await.map_err(refused)?;
    let client = client_builder().resolve_to_addrs(target.host_str().unwrap_or_default(), &addresses).build()?;
    let timestamp = clock.now().and_utc().timestamp();
    let response = client
        .post(target)
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
    Ok(Attempt::Done { note: None, segments: None })
}

/// The `event_id` the body carries (every queued call has one); the row id if it somehow does not.
fn event_id(row: &Claimed) -> String {
    serde_json::from_str::<serde_json::Value>(&row.body)
        .ok()
        .and_then(|body| body.get("event_id")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("outbox_{}", row.id))
}

/// Starts the sender of one instance: a loop per channel, each running until the process ends.
pub fn spawn_senders(db: &Db, senders: &Senders, clock: &Clock) {
    for channel in Channel::ALL {
        let (db, senders, clock, channel) = (db.clone(), senders.clone(), clock.clone(), *channel);
        tokio::spawn(async move {
            loop {
                match deliver_due(&db, &senders, &clock, channel).await {
                    Ok(sent) if sent >= usize::try_from(BATCH).unwrap_or(0) => continue,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, channel = channel.as_str(), "outbox sender"),
                }
                tokio::time::sleep(POLL).await;
            }
        });
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

    #[test]
    fn retries_stay_30_seconds_apart_for_ten_minutes_then_back_off_further() {
        let young = chrono::Duration::minutes(3);
        assert_eq!(backoff(1, young), chrono::Duration::seconds(2));
        assert_eq!(backoff(9, young), chrono::Duration::seconds(30));
        let old = chrono::Duration::minutes(11);
        assert_eq!(backoff(9, old), chrono::Duration::seconds(512));
        assert_eq!(backoff(30, old), chrono::Duration::seconds(600));
    }
}
