//! Messages that reach people where they are. Sending is the outbox's (`crate::outbox`, gateways in
//! `crate::sms`); this capability receives a farmer's text reply, forwarded by the SMS gateway, and answers
//! their order with it, reminds farmers of orders about to lapse, and lists in the app what each person was
//! told.
//!
//! Routes: `POST /api/v1/sms/inbound` (the gateway, signed), `GET /api/v1/me/notifications` and
//! `POST /api/v1/me/notifications/read` (any logged-in person). Rules: `rules`; queries: `store`.

pub mod rules;
pub mod store;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AnyUser;
use crate::domain::status::ReplyOutcome;
use crate::domain::text::optional_text;
use crate::error::{AppError, Kind, Problem, Text};
use crate::http::parse_json;
use crate::listings::catalogue;
use crate::outbox::SIGNATURE_HEADER;
use crate::state::AppState;
use rules::Inbound;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(inbound_sms).service(my_notifications).service(read_notifications);
}

/// One thing the service told the person (also by email or text when they have one).
#[derive(Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    /// The message kind: `new_order`, `order_placed`, `shipment_accepted`, …
    pub kind: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

impl From<store::NotificationRow> for Notification {
    fn from(row: store::NotificationRow) -> Notification {
        Notification {
            id: row.id,
            kind: row.kind,
            text: row.text,
            created_at: row.created_at.and_utc(),
            read: row.read_at.is_some(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    /// The newest 50, newest first.
    pub items: Vec<Notification>,
    /// Unread ones in all.
    pub unread: i64,
}

/// What the service told the logged-in person, newest first, with how many are unread.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The newest notifications", body = NotificationList),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "People only (not partner keys)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/notifications")]
pub async fn my_notifications(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
) -> Result<web::Json<NotificationList>, AppError> {
    let (rows, unread) = state.db.read(move |conn| store::notifications(conn, user.id, rules::INBOX_SHOWN)).await?;
    let items = rows.into_iter().map(Notification::from).collect();
    Ok(web::Json(NotificationList { items, unread }))
}

/// Marks every notification of the logged-in person read.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "All read"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "People only (not partner keys)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/notifications/read")]
pub async fn read_notifications(state: web::Data<AppState>, AnyUser(user): AnyUser) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    state.db.write(move |conn| store::mark_read(conn, user.id, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A text a person sent to the service's number, as the gateway forwards it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundSms {
    /// The gateway's id of the message: a message is handled once, however often it is forwarded.
    pub id: String,
    /// The sender's phone, `+84…`.
    pub from: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct InboundAnswer {
    pub outcome: ReplyOutcome,
}

/// Whether `header` is `sha256=<hex HMAC-SHA256(secret, body)>`, compared in constant time.
fn signed(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(signature) = header.and_then(|h| h.strip_prefix("sha256=")).and_then(|hex| hex::decode(hex).ok()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

fn unsigned() -> AppError {
    AppError::new(
        Kind::Unauthorized,
        "bad_signature",
        Text::new("Chữ ký X-Nongsan-Signature không hợp lệ.", "X-Nongsan-Signature is missing or wrong."),
    )
}

/// The SMS gateway forwards a text sent to the service: a farmer's `1` (or `C`, `Có`, `OK`) accepts their
/// waiting order, `2` (or `K`, `Không`) with an optional reason rejects it, as the app's buttons do; with
/// several orders waiting the reply names the order code. Signed with `SMS_INBOUND_SECRET`; a gateway id
/// seen before changes nothing.
#[utoipa::path(
    tag = "messages",
    request_body = InboundSms,
    params(("X-Nongsan-Signature" = String, Header, description = "`sha256=<hex HMAC-SHA256(SMS_INBOUND_SECRET, raw body)>`")),
    responses(
        (status = 200, description = "What the reply did", body = InboundAnswer),
        (status = 401, description = "No valid signature", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sms/inbound")]
pub async fn inbound_sms(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<web::Json<InboundAnswer>, AppError> {
    let header = req.headers().get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok());
    let secret = state.settings.sms_inbound_secret.as_deref().ok_or_else(unsigned)?;
    if !signed(secret, &body, header) {
        return Err(unsigned());
    }
    let sms: InboundSms = parse_json(&body)?;
    let gateway_id = optional_text("id", Some(&sms.id), 200)
        .map_err(|error| AppError::validation(vec![error]))?
        .ok_or_else(|| {
            AppError::invalid_field("id", "required", Text::new("Thiếu mã tin nhắn.", "The message id is required."))
        })?;
    let now = state.clock.now();
    let outcome = state
        .db
        .write(move |conn| {
            let inbound = Inbound { gateway_id: &gateway_id, from: &sms.from, text: &sms.text };
            rules::handle_reply(conn, &inbound, now)
        })
        .await?;
    if outcome == ReplyOutcome::Rejected {
        // The stock went back on sale.
        catalogue::invalidate(&state.cache).await;
    }
    Ok(web::Json(InboundAnswer { outcome }))
}
