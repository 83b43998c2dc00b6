//! Accounts: farmers (phone + PIN), buyers (password), login, sessions, the caller's own profile, and the
//! farmer's oversight of helpers (audit log, revocation).

pub mod rules;
pub mod store;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit;
use crate::auth::rate_limit::{Throttles, client_address};
use crate::auth::{AnyUser, FarmerSelf, Me, Role, wrong_role};
use crate::domain::account::{Password, Pin, parse_email, parse_name};
use crate::domain::status::{AuditAction, AuditEntity};
use crate::error::{AppError, Lang, Problem, Text};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery};
use crate::outbox::Preferences;
use crate::reference::WardRef;
use crate::state::AppState;
use crate::validate;
use rules::{load_profile, open_session};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sign_up_farmer)
        .service(pin_login)
        .service(sign_up_buyer)
        .service(password_login)
        .service(logout)
        .service(get_me)
        .service(update_me)
        .service(change_pin)
        .service(change_password)
        .service(my_audit)
        .service(revoke_helper);
}

#[derive(Serialize, ToSchema)]
pub struct TeamRef {
    pub id: i64,
    pub name: String,
}

/// A person's account as they (or a helper acting for them) see it.
#[derive(Serialize, ToSchema)]
pub struct Profile {
    pub id: i64,
    pub role: Role,
    pub name: String,
    /// E.164, e.g. `+84912345678`.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Home commune (farmers: where produce comes from).
    pub ward: Option<WardRef>,
    /// Helpers: their community team.
    pub team: Option<TeamRef>,
    /// Farmers: new orders are accepted without a tap.
    pub auto_accept: Option<bool>,
    /// How they want to be told (the in-app list is always kept).
    pub messages: Preferences,
    pub created_at: DateTime<Utc>,
}

/// A new login session. The token is shown once: send it as `Authorization: Bearer <token>`.
#[derive(Serialize, ToSchema)]
pub struct AuthSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub role: Role,
    pub user: Profile,
}

#[derive(Serialize, ToSchema)]
pub struct FarmerCreated {
    pub farmer: Profile,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct BuyerCreated {
    pub buyer: Profile,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A fresh token after a PIN or password change (all other sessions were ended).
#[derive(Serialize, ToSchema)]
pub struct NewToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
pub struct FarmerSignupRequest {
    /// Any common form: `0912 345 678`, `+84912345678`, `84-912-345-678`.
    pub phone: String,
    pub name: String,
    /// Commune/ward code (see `/api/v1/wards`).
    pub ward_code: i32,
    /// 6 digits, not trivial (not 111111, 123456, 121212, …).
    pub pin: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PinLoginRequest {
    pub phone: String,
    pub pin: String,
}

#[derive(Deserialize, ToSchema)]
pub struct BuyerSignupRequest {
    pub name: String,
    /// Email and/or phone: at least one.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// At least 8 characters.
    pub password: String,
    /// Default delivery commune.
    pub ward_code: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordLoginRequest {
    /// Email or phone number.
    pub login: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub email: Option<String>,
    pub ward_code: Option<i32>,
    /// Farmers: accept every new order automatically.
    pub auto_accept: Option<bool>,
    /// Turn emails, texts, or Zalo (texts then come as SMS) on or off; fields left out stay as they are.
    pub messages: Option<PreferencesUpdate>,
}

#[derive(Deserialize, ToSchema)]
pub struct PreferencesUpdate {
    pub email: Option<bool>,
    pub texts: Option<bool>,
    pub zalo: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct PinChange {
    pub current_pin: String,
    pub new_pin: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Actor {
    pub id: i64,
    pub name: String,
    /// The farmer has withdrawn this helper's right to act for them.
    pub revoked: bool,
}

/// Something done on a farmer's behalf.
#[derive(Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    /// The helper who did it.
    pub actor: Actor,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    pub next_cursor: Option<String>,
}

async fn session_answer(state: &web::Data<AppState>, user_id: i64, role: Role) -> Result<AuthSession, AppError> {
    let (token, expires_at) = open_session(&state.db, user_id, state.clock.now()).await?;
    Ok(AuthSession { token, expires_at, role, user: profile_of(state, user_id).await? })
}

async fn profile_of(state: &web::Data<AppState>, user_id: i64) -> Result<Profile, AppError> {
    let reference = state.reference.clone();
    state.db.read(move |conn| load_profile(conn, &reference.places, user_id)).await
}

/// A farmer opens an account with phone, name, commune and a 6-digit PIN.
#[utoipa::path(
    tag = "accounts",
    request_body = FarmerSignupRequest,
    responses(
        (status = 201, description = "Account opened and logged in", body = FarmerCreated),
        (status = 409, description = "The phone already has a farmer account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid phone, name, commune or PIN", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this address or with this phone; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/farmers")]
async fn sign_up_farmer(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiJson(body): ApiJson<FarmerSignupRequest>,
) -> Result<HttpResponse, AppError> {
    Throttles::of(&state).sign_up(&client_address(&req), Some(&body.phone)).await?;
    let farmer_id = rules::sign_up_farmer(&state, &body.phone, &body.name, body.ward_code, &body.pin).await?;
    let session = session_answer(&state, farmer_id, Role::Farmer).await?;
    let created = FarmerCreated { farmer: session.user, token: session.token, expires_at: session.expires_at };
    Ok(HttpResponse::Created().json(created))
}

/// A farmer logs in with phone and PIN. 5 wrong PINs per phone in 15 minutes lock it for the rest of them.
#[utoipa::path(
    tag = "accounts",
    request_body = PinLoginRequest,
    responses(
        (status = 200, description = "Logged in", body = AuthSession),
        (status = 401, description = "Wrong phone or PIN", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a phone number", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong PINs; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/pin-login")]
async fn pin_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiJson(body): ApiJson<PinLoginRequest>,
) -> Result<web::Json<AuthSession>, AppError> {
    let (user_id, role) = rules::pin_log_in(&state, &body.phone, body.pin, &client_address(&req)).await?;
    Ok(web::Json(session_answer(&state, user_id, role).await?))
}

/// A buyer opens an account (optional: guests can order too).
#[utoipa::path(
    tag = "accounts",
    request_body = BuyerSignupRequest,
    responses(
        (status = 201, description = "Account opened and logged in", body = BuyerCreated),
        (status = 409, description = "Email or phone already has a buyer account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this address or with this phone; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/buyers")]
async fn sign_up_buyer(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiJson(body): ApiJson<BuyerSignupRequest>,
) -> Result<HttpResponse, AppError> {
    Throttles::of(&state).sign_up(&client_address(&req), body.phone.as_deref()).await?;
    let account = rules::PasswordAccount {
        role: Role::Buyer,
        name: &body.name,
        email: body.email.as_deref(),
        phone: body.phone.as_deref(),
        password: &body.password,
        ward_code: body.ward_code,
        team_id: None,
        welcome: Some(Lang::of(&req)),
    };
    let buyer_id =
        rules::open_password_account(&state.db, &state.reference.places, &account, state.clock.now()).await?;
    let session = session_answer(&state, buyer_id, Role::Buyer).await?;
    Ok(HttpResponse::Created().json(BuyerCreated {
        buyer: session.user,
        token: session.token,
        expires_at: session.expires_at,
    }))
}

/// Buyers, helpers and operators log in with email or phone and password.
#[utoipa::path(
    tag = "accounts",
    request_body = PasswordLoginRequest,
    responses(
        (status = 200, description = "Logged in", body = AuthSession),
        (status = 401, description = "Wrong login or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Login is neither an email nor a phone number", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn password_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiJson(body): ApiJson<PasswordLoginRequest>,
) -> Result<web::Json<AuthSession>, AppError> {
    let (user_id, role) = rules::password_login(&state, &body.login, body.password, &client_address(&req)).await?;
    Ok(web::Json(session_answer(&state, user_id, role).await?))
}

/// Ends the session of the token used.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys have no session", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn logout(state: web::Data<AppState>, AnyUser(user): AnyUser) -> Result<HttpResponse, AppError> {
    rules::end_session(&state.db, user.session_id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account; a helper with `X-On-Behalf-Of` sees the farmer's (audited).
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    responses(
        (status = 200, description = "The account", body = Profile),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed (partner key, revoked helper, no consent)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
async fn get_me(state: web::Data<AppState>, me: Me) -> Result<web::Json<Profile>, AppError> {
    let profile = match me {
        Me::Farmer(acting) => {
            let (reference, farmer_id) = (state.reference.clone(), acting.farmer_id);
            let view = move |conn: &mut crate::db::Conn<'_>| load_profile(conn, &reference.places, farmer_id);
            audit::read_for(&state.db, &acting, AuditAction::ViewProfile, state.clock.now(), view).await?
        }
        Me::Other(user) => profile_of(&state, user.id).await?,
    };
    Ok(web::Json(profile))
}

/// Changes name, email, home commune or how the person is told; a helper may do it for a farmer (audited) while
/// the farmer's consent covers listing produce (name, commune) or answering orders (`auto_accept`), never the
/// farmer's email.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The updated account", body = Profile),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed (partner key, revoked helper, no consent, a helper changing the email)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me")]
async fn update_me(
    state: web::Data<AppState>,
    me: Me,
    ApiJson(body): ApiJson<ProfileUpdate>,
) -> Result<web::Json<Profile>, AppError> {
    let name = body.name.as_deref().map(parse_name).transpose().map_err(|e| e.at("name"));
    let email = body.email.as_deref().map(parse_email).transpose().map_err(|e| e.at("email"));
    let ward = body.ward_code.map(|code| state.reference.places.known_ward(code).map(|_| code)).transpose();
    let (name, email, ward_code) = validate!(name, email, ward);
    let (reference, now) = (state.reference.clone(), state.clock.now());
    let messages = body.messages.unwrap_or(PreferencesUpdate { email: None, texts: None, zalo: None });
    let change = store::ProfileChange {
        name,
        email,
        ward_code,
        auto_accept: body.auto_accept,
        email_messages: messages.email,
        text_messages: messages.texts,
        zalo_messages: messages.zalo,
        updated_at: now,
    };
    let profile = state
        .db
        .write(move |conn| {
            let user_id = match &me {
                Me::Farmer(acting) => {
                    rules::may_change_profile(acting, &change)?;
                    audit::record_acting(conn, acting, AuditAction::UpdateProfile, None, now)?;
                    acting.farmer_id
                }
                Me::Other(_) if change.auto_accept.is_some() => {
                    return Err(AppError::invalid_field(
                        "auto_accept",
                        "farmers_only",
                        Text::new("Chỉ nông dân mới tự động nhận đơn.", "Only farmers accept orders."),
                    ));
                }
                Me::Other(user) => user.id,
            };
            store::update_profile(conn, user_id, &change)?;
            load_profile(conn, &reference.places, user_id)
        })
        .await?;
    Ok(web::Json(profile))
}

/// A farmer changes their PIN; every other session ends.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = PinChange,
    responses(
        (status = 200, description = "PIN changed; the new token replaces the old one", body = NewToken),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers only, and only for themselves", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current PIN or unacceptable new PIN", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current secrets; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/pin")]
async fn change_pin(
    state: web::Data<AppState>,
    FarmerSelf(farmer): FarmerSelf,
    ApiJson(body): ApiJson<PinChange>,
) -> Result<web::Json<NewToken>, AppError> {
    let new_pin = Pin::parse(&body.new_pin).map_err(|e| AppError::validation(vec![e.at("new_pin")]))?;
    let (token, expires_at) =
        rules::change_secret(&state, farmer.id, body.current_pin, new_pin.expose().to_owned(), true).await?;
    Ok(web::Json(NewToken { token, expires_at }))
}

/// A buyer, helper or operator changes their password; every other session ends.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Password changed; the new token replaces the old one", body = NewToken),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers use a PIN", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or too short new one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current secrets; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
async fn change_password(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<web::Json<NewToken>, AppError> {
    if user.role == Role::Farmer {
        return Err(wrong_role());
    }
    let new_password =
        Password::parse(&body.new_password).map_err(|e| AppError::validation(vec![e.at("new_password")]))?;
    let (token, expires_at) =
        rules::change_secret(&state, user.id, body.current_password, new_password.expose().to_owned(), false).await?;
    Ok(web::Json(NewToken { token, expires_at }))
}

/// What helpers did on the farmer's behalf, newest first.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of the audit log", body = AuditPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers only, for themselves", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/audit")]
async fn my_audit(
    state: web::Data<AppState>,
    FarmerSelf(farmer): FarmerSelf,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<web::Json<AuditPage>, AppError> {
    let page = Page::of(&query)?;
    let (items, next_cursor) = page.finish(rules::audit_of(&state.db, farmer.id, page).await?);
    Ok(web::Json(AuditPage { items, next_cursor }))
}

/// The farmer withdraws a helper's right to act for them; from then on the helper gets 403.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("helper_id" = i64, Path, description = "The helper's id (from the audit log)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers only, for themselves", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such helper", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/helpers/{helper_id}")]
async fn revoke_helper(
    state: web::Data<AppState>,
    FarmerSelf(farmer): FarmerSelf,
    helper_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    rules::revoke_helper(&state.db, farmer.id, helper_id.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
