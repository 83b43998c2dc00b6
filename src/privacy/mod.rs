//! People own their data (Decree 13/2023/NĐ-CP, the Personal Data Protection Law): a person gets everything
//! stored about them as JSON and can erase themself. Erasure anonymises: the rows that the books need (orders,
//! their lines and totals, shipments, refunds, the audit log) stay without name, phone, email or street.
//! Guest buyers, who have no login, prove the order's phone with a one-time code sent to it by SMS.
//!
//! Routes: `GET /api/v1/me/export`, `DELETE /api/v1/me`, `POST /api/v1/orders/{code}/privacy-code`,
//! `POST /api/v1/orders/{code}/export`, `POST /api/v1/orders/{code}/erase`. Rules: `rules`; queries: `store`.

pub mod rules;
pub mod store;

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::{AuditItem, Profile};
use crate::auth::rate_limit::client_address;
use crate::auth::{AnyUser, Role};
use crate::domain::status::{Channel, OutboxStatus};
use crate::error::{AppError, Lang, Problem, Text};
use crate::http::ApiJson;
use crate::listings::Listing;
use crate::messages::Notification;
use crate::orders::answering::FarmerShipment;
use crate::orders::view::Order;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(export_me).service(erase_me).service(ask_code).service(guest_export).service(guest_erase);
}

/// A session of the person (the token itself is never stored, so never shown).
#[derive(Serialize, ToSchema)]
pub struct SessionRecord {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was ended (logged out, or a PIN or password change).
    pub ended_at: Option<DateTime<Utc>>,
}

/// A photo the person uploaded.
#[derive(Serialize, ToSchema)]
pub struct StoredPhoto {
    pub id: i64,
    pub url: String,
    pub thumb_url: String,
    pub uploaded_at: DateTime<Utc>,
}

/// How the buyer gave themself for an order (the order view shows only part of it).
#[derive(Serialize, ToSchema)]
pub struct OrderContact {
    pub buyer_name: String,
    pub buyer_phone: String,
    pub buyer_email: Option<String>,
    pub street: String,
    pub note: Option<String>,
}

/// An order the person placed.
#[derive(Serialize, ToSchema)]
pub struct Purchase {
    pub contact: OrderContact,
    pub order: Order,
}

/// An email or text the service queued to the person.
#[derive(Serialize, ToSchema)]
pub struct SentMessage {
    pub id: i64,
    pub channel: Channel,
    /// The message kind: `order_placed`, `new_order`, …
    pub kind: String,
    /// The email address or phone it went to.
    pub to: String,
    pub subject: String,
    /// An email's text; for a text message, JSON with its `text`.
    pub body: String,
    pub status: OutboxStatus,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Everything stored about a person with an account. Lists a role does not have are empty.
#[derive(Serialize, ToSchema)]
pub struct PersonalData {
    pub exported_at: DateTime<Utc>,
    pub profile: Profile,
    /// Every consent they gave a helpers' team, live and ended.
    pub consents: Vec<crate::consents::Consent>,
    pub sessions: Vec<SessionRecord>,
    /// Farmers: every listing, whatever its status.
    pub listings: Vec<Listing>,
    pub photos: Vec<StoredPhoto>,
    /// Buyers: the orders placed from the account, with the contact details given for each.
    pub orders: Vec<Purchase>,
    /// Farmers: their part of each order they received.
    pub shipments: Vec<FarmerShipment>,
    /// Farmers: what helpers did for them.
    pub audit: Vec<AuditItem>,
    /// The in-app list of what the service told them.
    pub notifications: Vec<Notification>,
    /// The emails and texts sent to the account's (and its orders') email addresses and phones.
    pub messages: Vec<SentMessage>,
}

/// Everything stored about a guest buyer: their orders placed without an account with this phone.
#[derive(Serialize, ToSchema)]
pub struct GuestData {
    pub exported_at: DateTime<Utc>,
    pub orders: Vec<Purchase>,
    pub messages: Vec<SentMessage>,
}

/// Confirms an erasure: farmers give their PIN, buyers their password.
#[derive(Deserialize, ToSchema)]
pub struct EraseRequest {
    pub pin: Option<String>,
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    /// The order's phone, in any common form.
    pub phone: String,
}

#[derive(Serialize, ToSchema)]
pub struct CodeSent {
    /// The code works until then (15 minutes), once, with at most 5 tries.
    pub expires_at: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
pub struct GuestProof {
    /// The order's phone, in any common form.
    pub phone: String,
    /// The 6-digit code texted to it.
    pub code: String,
}

/// Everything stored about the logged-in person, as JSON (never cached). Helpers and operators get their
/// own account's data.
#[utoipa::path(
    tag = "privacy",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Everything stored about the person", body = PersonalData),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "People only (not partner keys)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/export")]
async fn export_me(
    state: web::Data<AppState>,
    lang: Lang,
    AnyUser(user): AnyUser,
) -> Result<web::Json<PersonalData>, AppError> {
    let (state2, now) = (state.clone(), state.clock.now());
    let data = state.db.read(move |conn| rules::personal_data(conn, &state2, user.id, lang, now)).await?;
    Ok(web::Json(data))
}

/// Erases the logged-in farmer or buyer, confirmed with their PIN or password: name, phone, email, commune
/// and addresses are anonymised everywhere, the messages sent to them forgotten, sessions ended, listings
/// withdrawn; orders keep their goods and money for the books. Every order must be finished first. A wrong PIN
/// counts against the login's lockout.
#[utoipa::path(
    tag = "privacy",
    security(("bearer" = [])),
    request_body = EraseRequest,
    responses(
        (status = 204, description = "Erased: the account no longer opens, its phone and email are free"),
        (status = 401, description = "Not logged in, or the wrong PIN or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers and buyers only (staff accounts are closed by an operator)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`orders_open`: these orders (codes in `errors`) must finish first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The PIN or password is missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong PINs or passwords; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me")]
async fn erase_me(
    state: web::Data<AppState>,
    req: HttpRequest,
    AnyUser(user): AnyUser,
    ApiJson(body): ApiJson<EraseRequest>,
) -> Result<HttpResponse, AppError> {
    let (field, secret) = match user.role {
        Role::Farmer => ("pin", body.pin),
        _ => ("password", body.password),
    };
    let Some(secret) = secret else {
        let text = Text::new("Hãy nhập mã PIN / mật khẩu để xác nhận.", "Give your PIN / password to confirm.");
        return Err(AppError::invalid_field(field, "required", text));
    };
    rules::confirm_secret(&state, &user, secret, &client_address(&req)).await?;
    rules::erase_me(&state, user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A guest buyer asks for a one-time code, texted to the order's phone, to export or erase the data of their
/// orders placed without an account with that phone. A new code voids the earlier ones; 3 an hour per order.
#[utoipa::path(
    tag = "privacy",
    request_body = CodeRequest,
    params(("code" = String, Path, description = "Order code")),
    responses(
        (status = 202, description = "The code is on its way by SMS", body = CodeSent),
        (status = 404, description = "No guest order with this code and phone", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_codes`; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{code}/privacy-code")]
async fn ask_code(
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<HttpResponse, AppError> {
    let order = rules::guest_order(&state, &code, &body.phone).await?;
    let expires_at = rules::send_code(&state, &order, lang).await?;
    Ok(HttpResponse::Accepted().json(CodeSent { expires_at: expires_at.and_utc() }))
}

/// Everything stored about a guest buyer (their orders placed without an account with this phone), with the
/// one-time code texted to it. The code is used up.
#[utoipa::path(
    tag = "privacy",
    request_body = GuestProof,
    params(("code" = String, Path, description = "Order code")),
    responses(
        (status = 200, description = "Everything stored about the guest", body = GuestData),
        (status = 403, description = "`privacy_code_invalid`: wrong, used or expired code, or out of tries", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No guest order with this code and phone", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not 6 digits", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{code}/export")]
async fn guest_export(
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    ApiJson(body): ApiJson<GuestProof>,
) -> Result<HttpResponse, AppError> {
    let order = rules::guest_order(&state, &code, &body.phone).await?;
    let code_id = rules::check_code(&state, &order, &body.code).await?;
    let (state2, now) = (state.clone(), state.clock.now());
    let data = state
        .db
        .write(move |conn| {
            rules::use_code(conn, code_id, now)?;
            rules::guest_data(conn, &state2, &order.buyer_phone, lang, now)
        })
        .await?;
    // The request carries no credential header, so the middleware cannot tell it is personal.
    Ok(HttpResponse::Ok().insert_header(CacheControl(vec![CacheDirective::NoStore])).json(data))
}

/// Erases a guest buyer's orders placed without an account with this phone, with the one-time code texted to
/// it: as `DELETE /api/v1/me` does for an account, once every one of them is finished. The code is used up
/// (not when the answer is 409).
#[utoipa::path(
    tag = "privacy",
    request_body = GuestProof,
    params(("code" = String, Path, description = "Order code")),
    responses(
        (status = 204, description = "Erased: the orders keep their goods and money, nothing about the buyer"),
        (status = 403, description = "`privacy_code_invalid`: wrong, used or expired code, or out of tries", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No guest order with this code and phone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`orders_open`: these orders (codes in `errors`) must finish first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not 6 digits", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{code}/erase")]
async fn guest_erase(
    state: web::Data<AppState>,
    code: web::Path<String>,
    ApiJson(body): ApiJson<GuestProof>,
) -> Result<HttpResponse, AppError> {
    let order = rules::guest_order(&state, &code, &body.phone).await?;
    let code_id = rules::check_code(&state, &order, &body.code).await?;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            rules::use_code(conn, code_id, now)?;
            rules::erase_guest(conn, &order.buyer_phone, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
