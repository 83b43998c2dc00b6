//! Push as well as pull: new jobs and cancellations are POSTed to the webhooks of the partners serving the
//! pickup province. Calls are queued in the outbox in the transaction of the change, so none is lost; the
//! outbox signs and sends them (`crate::outbox`). Partners register or drop their webhook here.

use std::ops::RangeInclusive;

use actix_web::{HttpResponse, delete, put, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::store::JobRow;
use crate::auth::Partner;
use crate::db::Conn;
use crate::db::schema::{partner_provinces, partner_webhooks, partners};
use crate::egress;
use crate::error::{AppError, FieldError, Problem, Text};
use crate::http::ApiJson;
use crate::outbox;
use crate::state::AppState;
use crate::with_conn;

pub const JOB_AVAILABLE: &str = "job.available";
pub const JOB_CANCELLED: &str = "job.cancelled";

/// Queues one call per partner with a webhook that serves the job's pickup province, telling it `kind`
/// happened to the job; a suspended partner is told nothing.
pub fn enqueue(conn: &mut Conn<'_>, job: &JobRow, kind: &str, now: NaiveDateTime) -> Result<(), AppError> {
    let partners: Vec<i64> = with_conn!(conn, |c| partner_provinces::table
        .inner_join(partner_webhooks::table.on(partner_webhooks::partner_id.eq(partner_provinces::partner_id)))
        .inner_join(partners::table)
        .filter(partner_provinces::province_code.eq(job.pickup_province_code))
        .filter(partners::suspended_at.is_null())
        .select(partner_provinces::partner_id)
        .load(c))?;
    if partners.is_empty() {
        return Ok(());
    }
    for partner_id in partners {
        let body = serde_json::json!({
            // Receivers drop a delivery whose event id they have seen: retries resend the same one.
            "event_id": format!("evt_{:032x}", rand::rng().random::<u128>()),
            "type": kind,
            "occurred_at": now.and_utc(),
            "job": {
                "id": job.id,
                "status": job.status,
                "pickup": {"ward_code": job.pickup_ward_code, "province_code": job.pickup_province_code},
                "dropoff": {"ward_code": job.dropoff_ward_code, "province_code": job.dropoff_province_code},
                "weight_g": job.weight_g,
                "cod_vnd": job.cod_vnd,
            },
        });
        outbox::enqueue_webhook(conn, partner_id, kind, &body.to_string(), now)?;
    }
    Ok(())
}

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(put_webhook).service(delete_webhook);
}

const URL_MAX_CHARS: usize = 500;
const SECRET_CHARS: RangeInclusive<usize> = 16..=200;

#[derive(Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// Where new jobs and cancellations are POSTed: an `https://` URL of at most 500 characters whose host is a
    /// public Internet address (not loopback, private, link-local or the like).
    pub url: String,
    /// Shared secret the calls are signed with (`X-Nongsan-Signature: sha256=<hex HMAC-SHA256(secret,
    /// "{X-Nongsan-Timestamp}.{body}")>`), 16 to 200 characters. Never shown again.
    pub secret: String,
}

/// The webhook in use; the secret is never sent back.
#[derive(Serialize, ToSchema)]
pub struct Webhook {
    pub url: String,
    pub updated_at: DateTime<Utc>,
}

/// The URL, if partners may be called there: at most 500 characters, `https`, a public host
/// (`crate::egress`).
async fn check_url(url: &str, allow_local: bool) -> Result<String, FieldError> {
    if url.chars().count() > URL_MAX_CHARS {
        return Err(FieldError::new(
            "url",
            "url_too_long",
            Text::new("Địa chỉ webhook dài tối đa 500 ký tự.", "The webhook URL can be at most 500 characters."),
        ));
    }
    let to_field = |refused: egress::Refused| FieldError::new("url", refused.code, refused.message);
    let parsed = egress::check_form(url, allow_local).map_err(to_field)?;
    egress::resolve(&parsed, allow_local).await.map_err(to_field)?;
    Ok(parsed.into())
}

fn check_secret(secret: &str) -> Result<String, FieldError> {
    if SECRET_CHARS.contains(&secret.chars().count()) {
        return Ok(secret.to_owned());
    }
    Err(FieldError::new(
        "secret",
        "secret_length",
        Text::new("Khóa bí mật dài từ 16 đến 200 ký tự.", "The secret must be 16 to 200 characters."),
    ))
}

/// Registers (or replaces) the partner's webhook: from now on new jobs in its provinces and their
/// cancellations are POSTed there as well, signed with the secret, each carrying an event id
/// (`X-Nongsan-Event-Id`) to drop repeats by. Calls still queued go to the new URL with the new secret.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    request_body = WebhookRequest,
    responses(
        (status = 200, description = "The webhook now in use", body = Webhook),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad URL or secret", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/partner/webhook")]
async fn put_webhook(
    state: web::Data<AppState>,
    Partner(key): Partner,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> Result<web::Json<Webhook>, AppError> {
    let url = check_url(&body.url, state.settings.allow_local_webhooks).await;
    let secret = check_secret(&body.secret);
    let (url, secret) = crate::validate!(url, secret);
    let (partner_id, updated_at, saved) = (key.partner_id, state.clock.now(), url.clone());
    state.db.write(move |conn| save(conn, partner_id, &saved, &secret, updated_at)).await?;
    Ok(web::Json(Webhook { url, updated_at: updated_at.and_utc() }))
}

/// Stops pushes to the partner's webhook (calls still queued are dropped); pulling jobs goes on as before.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "No webhook any more (also when there was none)"),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/partner/webhook")]
async fn delete_webhook(state: web::Data<AppState>, Partner(key): Partner) -> Result<HttpResponse, AppError> {
    state
        .db
        .write(move |conn| {
            with_conn!(conn, |c| diesel::delete(partner_webhooks::table.find(key.partner_id)).execute(c))?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the partner's webhook, or replaces the one it had.
fn save(conn: &mut Conn<'_>, partner_id: i64, url: &str, secret: &str, now: NaiveDateTime) -> Result<(), AppError> {
    let row = (
        partner_webhooks::partner_id.eq(partner_id),
        partner_webhooks::url.eq(url),
        partner_webhooks::secret.eq(secret),
        partner_webhooks::updated_at.eq(now),
    );
    with_conn!(conn, |c| diesel::insert_into(partner_webhooks::table)
        .values(&row)
        .on_conflict(partner_webhooks::partner_id)
        .do_update()
        .set((
            partner_webhooks::url.eq(excluded(partner_webhooks::url)),
            partner_webhooks::secret.eq(excluded(partner_webhooks::secret)),
            partner_webhooks::updated_at.eq(excluded(partner_webhooks::updated_at)),
        ))
        .execute(c))?;
    Ok(())
}
