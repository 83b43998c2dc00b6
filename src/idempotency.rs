//! `Idempotency-Key`: a write that creates money or stock effects is done once however often a flaky
//! network makes the client send it. The first request claims the key; its answer is stored and replayed to
//! every retry with the same body; the same key with another body is refused. Any write can use it: give it
//! a scope (whose keys these are) and the request body.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys;
use crate::db::{Conn, Db};
use crate::error::{AppError, Kind, Text};
use crate::with_conn;

/// The longest key accepted.
const MAX_KEY_LENGTH: usize = 200;

/// Longer than any transaction using a key can take (the database timeout is seconds).
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(120);

/// The request's `Idempotency-Key`; 400 when it is missing or too long.
pub fn key_of(req: &HttpRequest) -> Result<String, AppError> {
    check_key(req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default())
}

/// A key as sent (a header, a form's field): 400 when it is blank or too long.
pub fn check_key(key: &str) -> Result<String, AppError> {
    let key = key.trim();
    if key.len() > MAX_KEY_LENGTH {
        return Err(AppError::new(
            Kind::BadRequest,
            "idempotency_key_too_long",
            Text::new(
                format!("Idempotency-Key dài tối đa {MAX_KEY_LENGTH} ký tự (gửi {} ký tự).", key.len()),
                format!("The Idempotency-Key can be at most {MAX_KEY_LENGTH} characters (got {}).", key.len()),
            ),
        ));
    }
    if key.is_empty() {
        return Err(AppError::new(
            Kind::BadRequest,
            "idempotency_key_required",
            Text::new(
                "Thiếu tiêu đề Idempotency-Key (một mã ngẫu nhiên cho mỗi yêu cầu, giữ nguyên khi gửi lại).",
                "The Idempotency-Key header is required (one random value per request, the same on retries).",
            ),
        ));
    }
    Ok(key.to_owned())
}

/// The request's `Idempotency-Key` where sending one is optional (a farmer's answers and listings): `None`
/// without the header; 400 when it is blank or too long.
pub fn optional_key_of(req: &HttpRequest) -> Result<Option<String>, AppError> {
    if req.headers().contains_key("idempotency-key") { key_of(req).map(Some) } else { Ok(None) }
}

/// SHA-256 (hex) of a JSON body in canonical form, so retries that format it differently still match.
pub fn request_hash(body: &[u8]) -> Result<String, AppError> {
    let value = serde_json::from_slice::<serde_json::Value>(body).map_err(AppError::internal)?;
    let canonical = serde_json::to_vec(&value).map_err(AppError::internal)?;
    Ok(hex::encode(Sha256::digest(&canonical)))
}

/// The answer stored under a key, to give every retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Claims `keyed` for this request. `None`: the key is this request's now. `Some`: the key was answered, and
/// this is the answer. 422 when the key was used with another body; 409 while a request that claimed it in
/// a transaction of its own ([`run_once`]) is still running.
///
/// Claimed in the transaction that does the work, with `answer` (what this request answers if that
/// transaction commits), the key commits or rolls back with the work, and a concurrent retry waits on the
/// claim until the first transaction ends (PostgreSQL's unique index; SQLite's one writer), then gets its
/// answer, or the key if it rolled back. Without an answer the key stays unanswered until [`complete`].
pub fn claim(
    conn: &mut Conn<'_>,
    keyed: &Keyed,
    answer: Option<&Answer>,
    now: NaiveDateTime,
) -> Result<Option<Answer>, AppError> {
    let (scope, key, hash) = (keyed.scope.as_str(), keyed.key.as_str(), keyed.hash.as_str());
    let answered = (
        idempotency_keys::response_status.eq(answer.map(|a| i32::from(a.status))),
        idempotency_keys::response_body.eq(answer.map(|a| a.body.as_str())),
    );
    let row = (
        idempotency_keys::scope.eq(scope),
        idempotency_keys::idem_key.eq(key),
        idempotency_keys::request_hash.eq(hash),
        idempotency_keys::created_at.eq(now),
        answered,
    );
    let inserted = with_conn!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(None);
    }
    let (stored_hash, stored, created_at) = stored(conn, keyed)?.ok_or_else(in_progress)?;
    match (stored_hash == hash, stored) {
        (false, _) => Err(key_reused()),
        (true, Some(answer)) => Ok(Some(answer)),
        // Claimed but never answered for this long: the instance that claimed it died before the transaction
        // that answers it committed, so this request may take the key over.
        (true, None) if created_at < now - ABANDONED_AFTER => {
            let taken = with_conn!(conn, |c| diesel::update(
                idempotency_keys::table
                    .find((scope, key))
                    .filter(idempotency_keys::response_status.is_null())
                    .filter(idempotency_keys::created_at.eq(created_at))
            )
            .set((idempotency_keys::created_at.eq(now), answered))
            .execute(c))?;
            if taken == 1 { Ok(None) } else { Err(in_progress()) }
        }
        (true, None) => Err(in_progress()),
    }
}

/// The answer stored for `keyed` when it was answered for the same request (a replay), without claiming it.
pub fn answer_of(conn: &mut Conn<'_>, keyed: &Keyed) -> Result<Option<Answer>, AppError> {
    Ok(stored(conn, keyed)?.and_then(|(hash, answer, _)| answer.filter(|_| hash == keyed.hash)))
}

/// The key's request hash, its answer once there is one, and when it was claimed.
fn stored(conn: &mut Conn<'_>, keyed: &Keyed) -> Result<Option<(String, Option<Answer>, NaiveDateTime)>, AppError> {
    let row: Option<(String, Option<i32>, Option<String>, NaiveDateTime)> =
        with_conn!(conn, |c| idempotency_keys::table
            .find((&keyed.scope, &keyed.key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::response_status,
                idempotency_keys::response_body,
                idempotency_keys::created_at,
            ))
            .first(c)
            .optional())?;
    Ok(row.map(|(hash, status, body, created_at)| {
        let answer =
            status.zip(body).map(|(status, body)| Answer { status: u16::try_from(status).unwrap_or(500), body });
        (hash, answer, created_at)
    }))
}

/// Stores the answer of a claimed key; call in the transaction that did the work, so both commit together.
pub fn complete(conn: &mut Conn<'_>, scope: &str, key: &str, status: u16, body: &str) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(idempotency_keys::table.find((scope, key)))
        .set((idempotency_keys::response_status.eq(i32::from(status)), idempotency_keys::response_body.eq(body)))
        .execute(c))?;
    Ok(())
}

/// Forgets a key whose request failed before answering, so the client's retry can run again.
pub fn release(conn: &mut Conn<'_>, scope: &str, key: &str) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(
        idempotency_keys::table.find((scope, key)).filter(idempotency_keys::response_status.is_null())
    )
    .execute(c))?;
    Ok(())
}

/// One key of one caller, with the fingerprint (`request_hash`) of what it asks for.
#[derive(Clone, Debug)]
pub struct Keyed {
    /// Whose keys these are (`buyer:7`, `farmer:12`): two callers may pick the same key.
    pub scope: String,
    pub key: String,
    pub hash: String,
}

/// What a keyed write did: its work now, or nothing because the key was answered before (the stored answer).
pub enum Once<T> {
    Now(T),
    Before(Answer),
}

/// Runs `work` once per key, for work that cannot run in one transaction with the claim (a listing's photo is
/// stored first): claims the key in its own transaction (a concurrent retry sees it as running, 409),
/// gives a retry the stored answer, and frees the key when `work` fails, so the corrected retry may use it.
/// `work` answers the key with [`complete`] in the transaction that makes the change, so both commit together.
pub async fn run_once<T, F, Fut>(db: &Db, keyed: &Keyed, now: NaiveDateTime, work: F) -> Result<Once<T>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let claimed = keyed.clone();
    let answered = db.write(move |conn| claim(conn, &claimed, None, now)).await?;
    if let Some(answer) = answered {
        return Ok(Once::Before(answer));
    }
    match work().await {
        Ok(done) => Ok(Once::Now(done)),
        Err(error) => {
            let (scope, key) = (keyed.scope.clone(), keyed.key.clone());
            db.write(move |conn| release(conn, &scope, &key)).await?;
            Err(error)
        }
    }
}

/// A stored answer, as sent the first time.
pub fn replay(answer: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::CREATED);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    HttpResponse::build(status).insert_header((CONTENT_TYPE, content_type)).body(answer.body)
}

fn in_progress() -> AppError {
    AppError::new(
        Kind::Conflict,
        "request_in_progress",
        Text::new(
            "Yêu cầu này đang được xử lý; vui lòng chờ giây lát rồi thử lại.",
            "This request is still being handled; retry in a moment.",
        ),
    )
}

fn key_reused() -> AppError {
    AppError::new(
        Kind::Unprocessable,
        "idempotency_key_reused",
        Text::new(
            "Idempotency-Key này đã dùng cho một yêu cầu khác; hãy dùng mã mới cho yêu cầu mới.",
            "This Idempotency-Key was used for a different request; use a new key for a new request.",
        ),
    )
}
