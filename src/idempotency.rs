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

use crate::db::Conn;
use crate::db::schema::idempotency_keys;
use crate::error::{AppError, Kind, Text};
use crate::with_conn;

/// The longest key accepted.
const MAX_KEY_LENGTH: usize = 200;

/// Longer than any transaction using a key can take (the database timeout is seconds).
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(120);

/// The request's `Idempotency-Key`; 400 when it is missing.
pub fn key_of(req: &HttpRequest) -> Result<String, AppError> {
    let key = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > MAX_KEY_LENGTH {
        return Err(AppError::new(
            Kind::BadRequest,
            "idempotency_key_required",
            Text::new(
                "Thiếu tiêu đề Idempotency-Key (một mã ngẫu nhiên cho mỗi lần đặt hàng, giữ nguyên khi gửi lại).",
                "The Idempotency-Key header is required (one random value per order, the same on retries).",
            ),
        ));
    }
    Ok(key.to_owned())
}

/// SHA-256 (hex) of a JSON body in canonical form, so retries that format it differently still match.
pub fn request_hash(body: &[u8]) -> Result<String, AppError> {
    let value = serde_json::from_slice::<serde_json::Value>(body).map_err(AppError::internal)?;
    let canonical = serde_json::to_vec(&value).map_err(AppError::internal)?;
    Ok(hex::encode(Sha256::digest(&canonical)))
}

/// What a key already knows.
pub enum Claim {
    /// Never seen: this request owns it now.
    Fresh,
    /// Seen with another body.
    Mismatch,
    /// The first request is still being answered.
    Running,
    /// Answered: replay this status and body.
    Done(u16, String),
}

/// Claims a key in its own transaction, so a concurrent retry sees it as running.
pub fn claim(conn: &mut Conn<'_>, scope: &str, key: &str, hash: &str, now: NaiveDateTime) -> Result<Claim, AppError> {
    let row = (
        idempotency_keys::scope.eq(scope),
        idempotency_keys::idem_key.eq(key),
        idempotency_keys::request_hash.eq(hash),
        idempotency_keys::created_at.eq(now),
    );
    let inserted = with_conn!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (stored_hash, status, body, created_at): (String, Option<i32>, Option<String>, NaiveDateTime) =
        with_conn!(conn, |c| idempotency_keys::table
            .find((scope, key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::response_status,
                idempotency_keys::response_body,
                idempotency_keys::created_at,
            ))
            .first(c))?;
    Ok(match (stored_hash == hash, status, body) {
        (false, _, _) => Claim::Mismatch,
        (true, Some(status), Some(body)) => Claim::Done(u16::try_from(status).unwrap_or(500), body),
        // Claimed but never answered for this long: the instance that claimed it died before the transaction
        // that answers it committed, so this request may take the key over.
        (true, _, _) if created_at < now - ABANDONED_AFTER => {
            let taken = with_conn!(conn, |c| diesel::update(
                idempotency_keys::table
                    .find((scope, key))
                    .filter(idempotency_keys::response_status.is_null())
                    .filter(idempotency_keys::created_at.eq(created_at))
            )
            .set(idempotency_keys::created_at.eq(now))
            .execute(c))?;
            if taken == 1 { Claim::Fresh } else { Claim::Running }
        }
        (true, _, _) => Claim::Running,
    })
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

/// The answer to a request whose key is already claimed: the stored answer, or why there is none.
pub fn answer_claimed(claim: Claim) -> Result<Option<HttpResponse>, AppError> {
    match claim {
        Claim::Fresh => Ok(None),
        Claim::Done(status, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
            Ok(Some(HttpResponse::build(status).insert_header((CONTENT_TYPE, content_type)).body(body)))
        }
        Claim::Running => Err(AppError::new(
            Kind::Conflict,
            "request_in_progress",
            Text::new(
                "Đơn hàng này đang được xử lý; vui lòng chờ giây lát rồi thử lại.",
                "This order is still being placed; retry in a moment.",
            ),
        )),
        Claim::Mismatch => Err(AppError::new(
            Kind::Unprocessable,
            "idempotency_key_reused",
            Text::new(
                "Idempotency-Key này đã dùng cho một đơn khác; hãy dùng mã mới cho đơn mới.",
                "This Idempotency-Key was used for a different order; use a new key for a new order.",
            ),
        )),
    }
}
