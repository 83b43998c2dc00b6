//! The one way a message leaves the service. Emails, texts to phones (Zalo ZNS, else SMS) and partner
//! webhook calls are written to the `outbox` table in the same transaction as the change they tell about, and
//! a background sender delivers them with retries and backoff, one lane per channel. Rows are claimed in the
//! database (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer), so two instances never send the
//! same row, and a crash, a dead SMTP server, SMS gateway or partner endpoint only delays delivery.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::clock;
use crate::db::Conn;
use crate::db::schema::{notifications, outbox, users};
use crate::domain::status::{Channel, OutboxStatus};
use crate::error::{AppError, Lang};
use crate::mail::templates::Template;
use crate::with_conn;

/// Texts queued to one phone in an hour beyond which more are dropped: a loop (an auto-responder answering
/// our replies, a bug) must not run up the SMS bill or flood someone's phone. A farmer's order texts are never
/// dropped (`Template::must_reach_the_farmer`).
pub const TEXTS_PER_PHONE_PER_HOUR: i64 = 20;

mod delivery;

pub use delivery::{
    EVENT_ID_HEADER, SIGNATURE_HEADER, Senders, TIMESTAMP_HEADER, WEBHOOK_ATTEMPTS, deliver_due, hmac_sha256, sign,
    spawn_senders,
};

/// One row to send: on `channel` to `recipient` (an email address, a partner's id for a webhook call, a phone
/// in E.164 for a text), not before `next_attempt_at`.
#[derive(Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)] // one statement for a batch on SQLite too
struct Queued<'a> {
    channel: Channel,
    kind: &'a str,
    recipient: String,
    subject: String,
    body: String,
    status: OutboxStatus,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

impl<'a> Queued<'a> {
    fn pending(channel: Channel, kind: &'a str, to: String, subject: String, body: String, now: NaiveDateTime) -> Self {
        let (status, attempts) = (OutboxStatus::Pending, 0);
        Queued { channel, kind, recipient: to, subject, body, status, attempts, next_attempt_at: now, created_at: now }
    }
}

/// Who a message is for, by the ways they can be reached.
#[derive(Clone, Copy, Debug, Default)]
pub struct Person<'a> {
    /// Their account, if they have one: the message is also listed in the app (`/me/notifications`), and
    /// their [`Preferences`] apply.
    pub user_id: Option<i64>,
    pub email: Option<&'a str>,
    /// In E.164 (`+84…`), as accounts and orders keep it.
    pub phone: Option<&'a str>,
}

/// How a person with an account wants to be told (`PATCH /me`). The in-app list is always kept, and a
/// notice that protects the account (a PIN reset) ignores these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Queryable, Serialize, ToSchema)]
pub struct Preferences {
    /// Emails, when the account has an address.
    pub email: bool,
    /// Texts to the phone at all.
    pub texts: bool,
    /// Texts by Zalo when the phone has it (else SMS); `false` sends plain SMS.
    pub zalo: bool,
}

impl Preferences {
    pub const EVERY_CHANNEL: Preferences = Preferences { email: true, texts: true, zalo: true };
}

/// What `template` says to a person, to queue with [`notify_all`].
pub struct Notice<'a> {
    pub to: Person<'a>,
    /// Their choices when the caller has read them already; `None` reads them.
    pub wants: Option<Preferences>,
    pub template: Template,
    pub lang: Lang,
    pub values: &'a [(&'a str, &'a str)],
}

/// Queues the message `template` says to a person, in the transaction of the change it reports: an email if
/// they have an address, a text to their phone (Zalo, else SMS) if they have one, each as they prefer, and a
/// line in the app's list if they have an account.
pub fn notify(
    conn: &mut Conn<'_>,
    to: Person<'_>,
    template: Template,
    lang: Lang,
    values: &[(&str, &str)],
    now: NaiveDateTime,
) -> Result<(), AppError> {
    notify_all(conn, &[Notice { to, wants: None, template, lang, values }], now)
}

/// Queues several messages as [`notify`] does, in a few statements whatever their number: the choices not
/// given, one bounded count per phone texted (the per-phone cap), then one insert into the outbox and one
/// into the in-app list.
pub fn notify_all(conn: &mut Conn<'_>, notices: &[Notice<'_>], now: NaiveDateTime) -> Result<(), AppError> {
    // Choices matter only when there is a channel to choose: the app's list is always kept.
    let chooses = |n: &Notice<'_>| (n.to.email.is_some() || n.to.phone.is_some()) && !n.template.protects_the_account();
    let unknown: Vec<i64> =
        notices.iter().filter(|n| chooses(n) && n.wants.is_none()).filter_map(|n| n.to.user_id).collect();
    let read: HashMap<i64, Preferences> = if unknown.is_empty() {
        HashMap::new()
    } else {
        let query = users::table
            .filter(users::id.eq_any(&unknown))
            .select((users::id, (users::email_messages, users::text_messages, users::zalo_messages)));
        with_conn!(conn, |c| query.load::<(i64, Preferences)>(c))?.into_iter().collect()
    };
    let mut rows = Vec::new();
    let mut listed = Vec::new();
    let mut texts = Vec::new();
    for notice in notices {
        let (to, template) = (notice.to, notice.template);
        let wants = match (chooses(notice), notice.wants, to.user_id) {
            (true, Some(wants), _) => wants,
            (true, None, Some(user_id)) => read.get(&user_id).copied().unwrap_or(Preferences::EVERY_CHANNEL),
            _ => Preferences::EVERY_CHANNEL,
        };
        if let Some(email) =
            to.email.filter(|_| wants.email).and_then(|to| template.render(notice.lang, to, notice.values))
        {
            rows.push(Queued::pending(Channel::Email, template.kind(), email.to, email.subject, email.body, now));
        }
        let Some(text) = template.text(notice.lang, notice.values) else { continue };
        if let Some(user_id) = to.user_id {
            listed.push((
                notifications::user_id.eq(user_id),
                notifications::kind.eq(template.kind()),
                notifications::text.eq(text.clone()),
                notifications::created_at.eq(now),
            ));
        }
        if let Some(phone) = to.phone.filter(|_| wants.texts) {
            // On the Zalo lane, which sends it or hands it to the SMS lane, with what its template needs.
            let lane = if wants.zalo { Channel::Zns } else { Channel::Sms };
            let data: serde_json::Map<String, Value> =
                notice.values.iter().map(|(key, value)| ((*key).to_owned(), Value::from(*value))).collect();
            let body = json!({"text": text, "data": data}).to_string();
            let due = if template.waits_for_daytime() { clock::after_quiet_hours(now) } else { now };
            let queued = Queued::pending(lane, template.kind(), phone.into(), template.kind().into(), body, now);
            let queued = Queued { next_attempt_at: due, ..queued };
            if template.must_reach_the_farmer() { rows.push(queued) } else { texts.push(queued) }
        }
    }
    rows.extend(within_cap(conn, texts, now)?);
    if !rows.is_empty() {
        with_conn!(conn, |c| diesel::insert_into(outbox::table).values(&rows).execute(c))?;
    }
    if !listed.is_empty() {
        with_conn!(conn, |c| diesel::insert_into(notifications::table).values(&listed).execute(c))?;
    }
    Ok(())
}

/// The texts that keep each phone under `TEXTS_PER_PHONE_PER_HOUR` (counting those queued in the last hour,
/// the farmers' order texts that are never dropped among them, and these in order); the others are dropped,
/// counted as `capped`.
fn within_cap<'a>(
    conn: &mut Conn<'_>,
    texts: Vec<Queued<'a>>,
    now: NaiveDateTime,
) -> Result<Vec<Queued<'a>>, AppError> {
    let mut phones: Vec<&str> = texts.iter().map(|text| text.recipient.as_str()).collect();
    phones.sort_unstable();
    phones.dedup();
    let mut sent = texts_this_hour(conn, &phones, now)?;
    let mut within = |text: &Queued<'_>| {
        let count = sent.entry(text.recipient.clone()).or_default();
        *count += 1;
        if *count > TEXTS_PER_PHONE_PER_HOUR {
            tracing::warn!(kind = text.kind, "per-phone cap reached; text dropped");
            let kind = text.kind.to_owned();
            metrics::counter!("messages_total", "channel" => "sms", "kind" => kind, "result" => "capped").increment(1);
        }
        *count <= TEXTS_PER_PHONE_PER_HOUR
    };
    Ok(texts.into_iter().filter(|text| within(text)).collect())
}

#[derive(QueryableByName)]
struct RecentText {
    #[diesel(sql_type = Text)]
    recipient: String,
}

/// The texts queued to each phone in the hour before `now`, counted up to one past the cap, in one
/// statement: the cap is all that is asked, and counting a busy farmer's whole hour (hundreds of order
/// texts) on every order made the outbox the database's busiest table.
fn texts_this_hour(conn: &mut Conn<'_>, phones: &[&str], now: NaiveDateTime) -> Result<HashMap<String, i64>, AppError> {
    if phones.is_empty() {
        return Ok(HashMap::new());
    }
    let one_phone = |i: usize| {
        format!(
            "SELECT recipient FROM (SELECT recipient FROM outbox WHERE recipient = ${} AND created_at > ${} LIMIT {}) \
             AS phone{i}",
            2 * i + 1,
            2 * i + 2,
            TEXTS_PER_PHONE_PER_HOUR + 1
        )
    };
    let sql = (0..phones.len()).map(one_phone).collect::<Vec<_>>().join(" UNION ALL ");
    let since = now - chrono::Duration::hours(1);
    // `$n` is a numbered parameter on PostgreSQL and a named one on SQLite, numbered in order of appearance.
    let recent = with_conn!(conn, |c| {
        let mut query = diesel::sql_query(&sql).into_boxed();
        for phone in phones {
            query = query.bind::<Text, _>(*phone).bind::<Timestamp, _>(since);
        }
        query.load::<RecentText>(c)
    })?;
    let mut counts = HashMap::new();
    for text in recent {
        *counts.entry(text.recipient).or_default() += 1;
    }
    Ok(counts)
}

/// Queues a call to a partner's webhook; `body` is the JSON posted and carries its `event_id`.
pub fn enqueue_webhook(
    conn: &mut Conn<'_>,
    partner_id: i64,
    kind: &str,
    body: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let row = Queued::pending(Channel::Webhook, kind, partner_id.to_string(), kind.into(), body.into(), now);
    with_conn!(conn, |c| diesel::insert_into(outbox::table).values(&row).execute(c))?;
    Ok(())
}
