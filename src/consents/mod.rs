//! A farmer's consents: which community team may act for them, for what (list produce, answer orders, reset
//! the PIN), since when, given how; the farmer lists and revokes them. A helper acts for a farmer only while
//! the farmer has a live consent for the helper's team (`auth::helper_access`); consents given on a helper's
//! phone (at enrolment, or by typing the PIN) are recorded by `helpers`.

pub mod rules;
pub mod store;

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::FarmerSelf;
use crate::domain::status::{ConsentGivenBy, ConsentPurpose};
use crate::error::{AppError, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use rules::Giving;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(give_consent).service(my_consents).service(revoke_consent);
}

/// A team, a helper, a farmer or a partner, by id and name.
#[derive(Serialize, ToSchema)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// What a farmer agreed a community team may do for them.
#[derive(Serialize, ToSchema)]
pub struct Consent {
    pub id: i64,
    pub team: Named,
    pub purposes: Vec<ConsentPurpose>,
    /// The consent text agreed to.
    pub consent_version: String,
    pub given_by: ConsentGivenBy,
    /// The helper on whose phone it was given (in person, at enrolment).
    pub helper: Option<Named>,
    pub given_at: DateTime<Utc>,
    /// When it ended: revoked by the farmer (or with one of the team's helpers), or replaced by a newer consent
    /// to the same team. `null` while it is live.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentList {
    pub items: Vec<Consent>,
}

#[derive(Deserialize, ToSchema)]
pub struct ConsentRequest {
    /// The community team that may act (a helper's own profile shows it as `team`).
    pub team_id: i64,
    /// At least one.
    pub purposes: Vec<ConsentPurpose>,
}

/// The farmer agrees that a community team may act for them, for the purposes named; it replaces the farmer's
/// live consent to that team.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ConsentRequest,
    responses(
        (status = 201, description = "Consent recorded", body = Consent),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers only, for themselves", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No purpose, an unknown purpose or an unknown team", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/consents")]
async fn give_consent(
    state: web::Data<AppState>,
    FarmerSelf(farmer): FarmerSelf,
    ApiJson(body): ApiJson<ConsentRequest>,
) -> Result<HttpResponse, AppError> {
    let giving = Giving {
        farmer_id: farmer.id,
        team_id: body.team_id,
        purposes: body.purposes,
        given_by: ConsentGivenBy::Farmer,
        helper_id: None,
    };
    let now = state.clock.now();
    let consent = state.db.write(move |conn| rules::give(conn, &giving, now)).await?;
    Ok(HttpResponse::Created().json(consent))
}

/// The farmer's consents, live and revoked, newest first.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The farmer's consents", body = ConsentList),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers only, for themselves", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/consents")]
async fn my_consents(
    state: web::Data<AppState>,
    FarmerSelf(farmer): FarmerSelf,
) -> Result<web::Json<ConsentList>, AppError> {
    let items = state.db.read(move |conn| rules::consents_of(conn, farmer.id)).await?;
    Ok(web::Json(ConsentList { items }))
}

/// The farmer revokes a consent: from this moment the team's helpers get 403 `consent_required`.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The consent's id")),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers only, for themselves", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such consent of this farmer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/consents/{id}")]
async fn revoke_consent(
    state: web::Data<AppState>,
    FarmerSelf(farmer): FarmerSelf,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    rules::withdraw(&state.db, farmer.id, id.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
