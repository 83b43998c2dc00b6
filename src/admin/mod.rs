//! Operator endpoints: community teams and their helpers, partners and their API keys, suspending and
//! reinstating a bad actor, hiding a listing, the operators' own audit log, and looking up farmers, helpers,
//! teams, partners, listings and the helpers' audit log. Operators themselves are created from the
//! command line (`nongsan admin create-operator`).

pub mod console;
pub mod lookups;
pub mod rules;
pub mod store;

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::Profile;
use crate::auth::Operator;
use crate::domain::status::{OperatorAction, OperatorSubject, Suspendable};
use crate::error::{AppError, Problem};
use crate::http::{ApiJson, ApiQuery, Page};
use crate::partners;
use crate::state::AppState;
use rules::{ApiKeyCreated, OperatorAct, PartnerCreated, Suspension, Team};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_team)
        .service(create_helper)
        .service(create_partner)
        .service(create_key)
        .service(revoke_key)
        .service(suspend)
        .service(reinstate)
        .service(operator_audit)
        .service(console::find_farmers)
        .service(console::read_farmer)
        .service(console::find_helpers)
        .service(console::find_teams)
        .service(console::find_partners)
        .service(console::find_listings)
        .service(console::hide_listing)
        .service(console::unhide_listing)
        .service(console::helper_audit);
}

#[derive(Deserialize, ToSchema)]
pub struct TeamRequest {
    pub name: String,
    /// The communes the team covers.
    pub ward_codes: Vec<i32>,
}

#[derive(Deserialize, ToSchema)]
pub struct HelperRequest {
    pub name: String,
    /// Phone and/or email to log in with: at least one.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// At least 8 characters; the helper should change it at first login.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PartnerRequest {
    pub name: String,
    /// Provinces whose pickups the partner serves.
    pub province_codes: Vec<i32>,
}

/// Creates a community team covering some communes.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = TeamRequest,
    responses(
        (status = 201, description = "Team created", body = Team),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or commune codes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/teams")]
async fn create_team(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiJson(body): ApiJson<TeamRequest>,
) -> Result<HttpResponse, AppError> {
    let team = rules::create_team(&state, &body.name, body.ward_codes).await?;
    Ok(HttpResponse::Created().json(team))
}

/// Creates a helper account in a team.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Team id")),
    request_body = HelperRequest,
    responses(
        (status = 201, description = "Helper created", body = Profile),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Phone or email already used by a helper", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/teams/{id}/helpers")]
async fn create_helper(
    state: web::Data<AppState>,
    _operator: Operator,
    team_id: web::Path<i64>,
    ApiJson(body): ApiJson<HelperRequest>,
) -> Result<HttpResponse, AppError> {
    let account = rules::NewHelper {
        name: &body.name,
        phone: body.phone.as_deref(),
        email: body.email.as_deref(),
        password: &body.password,
    };
    let profile = rules::create_helper(&state, team_id.into_inner(), &account).await?;
    Ok(HttpResponse::Created().json(profile))
}

/// Registers a partner organisation and the provinces it serves.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = PartnerRequest,
    responses(
        (status = 201, description = "Partner created", body = PartnerCreated),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or province codes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/partners")]
async fn create_partner(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiJson(body): ApiJson<PartnerRequest>,
) -> Result<HttpResponse, AppError> {
    let partner = rules::create_partner(&state, &body.name, body.province_codes).await?;
    Ok(HttpResponse::Created().json(partner))
}

/// Issues a new API key for a partner; a partner may hold several.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Partner id")),
    responses(
        (status = 201, description = "Key created; shown this once", body = ApiKeyCreated),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/partners/{id}/keys")]
async fn create_key(
    state: web::Data<AppState>,
    _operator: Operator,
    partner_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(rules::create_key(&state, partner_id.into_inner()).await?))
}

/// Revokes one API key; the partner's other keys keep working.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Partner id"), ("key_id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key for this partner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/partners/{id}/keys/{key_id}")]
async fn revoke_key(
    state: web::Data<AppState>,
    _operator: Operator,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (partner_id, key_id) = path.into_inner();
    let now = state.clock.now();
    let revoked = state.db.write(move |conn| partners::store::revoke_key(conn, partner_id, key_id, now)).await?;
    if revoked { Ok(HttpResponse::NoContent().finish()) } else { Err(AppError::not_found()) }
}

#[derive(Deserialize, ToSchema)]
pub struct SuspensionRequest {
    /// Why, for the operators' audit log: required to suspend, optional to reinstate.
    pub reason: Option<String>,
}

/// Suspends a helper, a team (all its helpers), a partner (its keys get 403, its webhook gets no call) or a
/// farmer (they get 403, their listings leave the catalogue); audited. Suspending again changes nothing.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("subject" = Suspendable, Path, description = "`helper`, `team`, `partner` or `farmer`"),
        ("id" = i64, Path, description = "Its id"),
    ),
    request_body = SuspensionRequest,
    responses(
        (status = 200, description = "Suspended", body = Suspension),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such helper, team, partner or farmer (or no such kind)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one too long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/admin/suspensions/{subject}/{id}")]
async fn suspend(
    state: web::Data<AppState>,
    Operator(operator): Operator,
    path: web::Path<(Suspendable, i64)>,
    ApiJson(body): ApiJson<SuspensionRequest>,
) -> Result<web::Json<Suspension>, AppError> {
    let (subject, id) = path.into_inner();
    let reason = body.reason.as_deref();
    Ok(web::Json(rules::set_suspension(&state, operator.id, subject, id, OperatorAction::Suspend, reason).await?))
}

/// Reinstates what was suspended (a farmer's listings paused by the suspension come back); audited.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("subject" = Suspendable, Path, description = "`helper`, `team`, `partner` or `farmer`"),
        ("id" = i64, Path, description = "Its id"),
    ),
    responses(
        (status = 200, description = "Reinstated", body = Suspension),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such helper, team, partner or farmer (or no such kind)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/suspensions/{subject}/{id}")]
async fn reinstate(
    state: web::Data<AppState>,
    Operator(operator): Operator,
    path: web::Path<(Suspendable, i64)>,
) -> Result<web::Json<Suspension>, AppError> {
    let (subject, id) = path.into_inner();
    Ok(web::Json(rules::set_suspension(&state, operator.id, subject, id, OperatorAction::Reinstate, None).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OperatorAuditQuery {
    /// Only the acts about this kind of subject (with `subject_id`).
    pub subject: Option<OperatorSubject>,
    pub subject_id: Option<i64>,
    /// At most this many (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OperatorAuditPage {
    pub items: Vec<OperatorAct>,
    pub next_cursor: Option<String>,
}

/// What operators did (suspensions and reinstatements, orders read, listings hidden), newest first.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(OperatorAuditQuery),
    responses(
        (status = 200, description = "One page of the operators' audit log", body = OperatorAuditPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/audit")]
async fn operator_audit(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<OperatorAuditQuery>,
) -> Result<web::Json<OperatorAuditPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let about = query.subject.zip(query.subject_id);
    let (items, next_cursor) = page.finish(rules::acts(&state, about, page).await?);
    Ok(web::Json(OperatorAuditPage { items, next_cursor }))
}
