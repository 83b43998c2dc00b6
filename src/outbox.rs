//! Email that is never lost: notices are written to the `outbox` table in the same transaction as the change
//! they tell about, and a background sender delivers them with retries and backoff. Rows are claimed in the
//! database (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer), so two instances never send the
//! same row, and a crash or a dead SMTP server only delays mail.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use crate::db::schema::outbox;
use crate::db::{Conn, Db};
use crate::error::AppError;
use crate::mail::{Email, Mailer};
use crate::with_conn;

/// How long a claimed row stays reserved for the instance sending it.
const LEASE: Duration = Duration::from_secs(60);
const BATCH: i64 = 20;
const POLL: Duration = Duration::from_millis(500);

/// Queues an email; call inside the transaction of the change it reports.
pub fn enqueue(conn: &mut Conn<'_>, email: &Email, now: NaiveDateTime) -> Result<(), AppError> {
    let row = (
        outbox::recipient.eq(&email.to),
        outbox::subject.eq(&email.subject),
        outbox::body.eq(&email.body),
        outbox::status.eq("pending"),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::created_at.eq(now),
    );
    with_conn!(conn, |c| diesel::insert_into(outbox::table).values(row).execute(c))?;
    Ok(())
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

const CLAIM: &str = "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
    WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
    AND (locked_until IS NULL OR locked_until < $2) ORDER BY id LIMIT $3 SKIP_LOCKED) \
    RETURNING id, recipient, subject, body, attempts";

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
    Ok(rows?)
}

fn backoff(attempts: i32) -> chrono::Duration {
    chrono::Duration::seconds(2_i64.saturating_pow(u32::try_from(attempts.clamp(0, 10)).unwrap_or(10)).min(600))
}

/// Sends what is due; returns how many emails went out.
pub async fn deliver_due(db: &Db, mailer: &Mailer) -> Result<usize, AppError> {
    let claimed = db.write(|conn| claim(conn, Utc::now().naive_utc())).await?;
    let mut sent = 0;
    for row in claimed {
        let email = Email { to: row.recipient, subject: row.subject, body: row.body };
        let outcome = mailer.send(&email).await;
        let (id, attempts) = (row.id, row.attempts);
        let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
        db.write(move |conn| {
            let now = Utc::now().naive_utc();
            let target = outbox::table.find(id);
            match &error {
                None => with_conn!(conn, |c| diesel::update(target)
                    .set((
                        outbox::status.eq("sent"),
                        outbox::sent_at.eq(now),
                        outbox::locked_until.eq(None::<NaiveDateTime>)
                    ))
                    .execute(c))?,
                Some(error) => with_conn!(conn, |c| diesel::update(target)
                    .set((
                        outbox::next_attempt_at.eq(now + backoff(attempts)),
                        outbox::locked_until.eq(None::<NaiveDateTime>),
                        outbox::last_error.eq(error),
                    ))
                    .execute(c))?,
            };
            Ok(())
        })
        .await?;
        match outcome {
            Ok(()) => sent += 1,
            Err(error) => tracing::warn!(id, attempts, error = format!("{error:#}"), "email not sent yet; will retry"),
        }
    }
    Ok(sent)
}

/// The sender loop of one instance.
pub fn spawn_sender(db: Db, mailer: Mailer) {
    tokio::spawn(async move {
        loop {
            match deliver_due(&db, &mailer).await {
                Ok(sent) if sent == usize::try_from(BATCH).unwrap_or(0) => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "outbox sender"),
            }
            tokio::time::sleep(POLL).await;
        }
    });
}
