//! Operator endpoints: community teams and their helpers, partners and their API keys. Operators
//! themselves are created from the command line (`nongsan admin create-operator`).

use actix_web::{HttpResponse, delete, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::Profile;
use crate::accounts::rules::{PasswordAccount, load_profile, open_password_account};
use crate::auth::secrets::new_api_key;
use crate::auth::{Operator, Role};
use crate::domain::account::parse_name;
use crate::error::{AppError, FieldError, Problem, Text};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate;
use crate::{helpers, partners};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_team).service(create_helper).service(create_partner).service(create_key).service(revoke_key);
}

#[derive(Deserialize, ToSchema)]
pub struct TeamRequest {
    pub name: String,
    /// The communes the team covers.
    pub ward_codes: Vec<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct Team {
    pub id: i64,
    pub name: String,
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

#[derive(Serialize, ToSchema)]
pub struct PartnerCreated {
    pub id: i64,
    pub name: String,
    pub province_codes: Vec<i32>,
}

/// A new API key. `key` is shown only here, once: only its hash is kept.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub id: i64,
    pub key: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
}

fn codes_required(field: &str, codes: &[i32]) -> Result<(), FieldError> {
    if codes.is_empty() || codes.len() > 1000 {
        return Err(FieldError::new(
            field,
            "codes_required",
            Text::new("Cần từ 1 đến 1000 mã.", "Give 1 to 1000 codes."),
        ));
    }
    Ok(())
}

fn unknown_codes(field: &str, unknown: &[i32]) -> AppError {
    AppError::invalid_field(
        field,
        "unknown_codes",
        Text::new(format!("Không có các mã: {unknown:?}."), format!("Unknown codes: {unknown:?}.")),
    )
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
    let name = parse_name(&body.name).map_err(|e| e.at("name"));
    let wards = codes_required("ward_codes", &body.ward_codes).map(|()| body.ward_codes);
    let (name, ward_codes) = validate!(name, wards);
    let unknown = state.reference.places.unknown_wards(&ward_codes);
    if !unknown.is_empty() {
        return Err(unknown_codes("ward_codes", &unknown));
    }
    let now = state.clock.now();
    let team = state
        .db
        .write(move |conn| {
            let id = helpers::store::insert_team(conn, &name, &ward_codes, now)?;
            Ok(Team { id, name, ward_codes })
        })
        .await?;
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
    let account = PasswordAccount {
        role: Role::Helper,
        name: &body.name,
        email: body.email.as_deref(),
        phone: body.phone.as_deref(),
        password: &body.password,
        ward_code: None,
        team_id: Some(team_id.into_inner()),
        welcome: None,
    };
    let helper_id = open_password_account(&state.db, &state.reference.places, &account, state.clock.now()).await?;
    let reference = state.reference.clone();
    let profile = state.db.read(move |conn| load_profile(conn, &reference.places, helper_id)).await?;
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
    let name = parse_name(&body.name).map_err(|e| e.at("name"));
    let provinces = codes_required("province_codes", &body.province_codes).map(|()| body.province_codes);
    let (name, province_codes) = validate!(name, provinces);
    let unknown = state.reference.places.unknown_provinces(&province_codes);
    if !unknown.is_empty() {
        return Err(unknown_codes("province_codes", &unknown));
    }
    let now = state.clock.now();
    let partner = state
        .db
        .write(move |conn| {
            let id = partners::store::insert_partner(conn, &name, &province_codes, now)?;
            Ok(PartnerCreated { id, name, province_codes })
        })
        .await?;
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
    let partner_id = partner_id.into_inner();
    let (key, prefix, hash) = new_api_key();
    let created_at = state.clock.now().and_utc();
    let stored_prefix = prefix.clone();
    let id = state
        .db
        .write(move |conn| {
            partners::store::partner(conn, partner_id)?.ok_or_else(AppError::not_found)?;
            partners::store::insert_key(conn, partner_id, &stored_prefix, &hash, created_at.naive_utc())
        })
        .await?;
    Ok(HttpResponse::Created().json(ApiKeyCreated { id, key, prefix, created_at }))
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
