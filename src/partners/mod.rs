//! Partner organisations (postal and logistics companies) calling with API keys.

pub mod store;

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Partner;
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(partner_me);
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyRef {
    pub id: i64,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
}

#[derive(Serialize, ToSchema)]
pub struct PartnerProfile {
    pub id: i64,
    pub name: String,
    /// Provinces whose pickups this partner serves.
    pub province_codes: Vec<i32>,
    /// The key this request used.
    pub key: ApiKeyRef,
}

/// Which partner a key belongs to, and what it serves: a first call to check an integration.
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The partner of the key", body = PartnerProfile),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/partner/me")]
async fn partner_me(state: web::Data<AppState>, Partner(key): Partner) -> Result<web::Json<PartnerProfile>, AppError> {
    let (name, province_codes, prefix) = state
        .db
        .read(move |conn| {
            let (name, codes) = store::partner(conn, key.partner_id)?.ok_or_else(AppError::not_found)?;
            Ok((name, codes, store::key_prefix(conn, key.key_id)?))
        })
        .await?;
    Ok(web::Json(PartnerProfile {
        id: key.partner_id,
        name,
        province_codes,
        key: ApiKeyRef { id: key.key_id, prefix },
    }))
}
