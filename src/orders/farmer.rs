//! The farmer's routes (a helper may act for them): their shipments, accepting and rejecting; the rules are
//! in `answering`, shared with the web app.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answering::{self, Answer, FarmerShipment};
use crate::auth::ActingFarmer;
use crate::error::{AppError, Lang, Problem};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery};
use crate::idempotency;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct FarmerShipmentPage {
    pub items: Vec<FarmerShipment>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RejectRequest {
    pub reason: String,
}

/// The farmer's shipments, newest first (a helper may look for them; audited).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(PageQuery, ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    responses(
        (status = 200, description = "One page of shipments", body = FarmerShipmentPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/shipments")]
pub async fn my_shipments(
    state: web::Data<AppState>,
    lang: Lang,
    acting: ActingFarmer,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<web::Json<FarmerShipmentPage>, AppError> {
    let page = Page::of(&query)?;
    let items = answering::farmer_shipments(&state, &acting, lang, page).await?;
    let (items, next_cursor) = page.finish(items);
    Ok(web::Json(FarmerShipmentPage { items, next_cursor }))
}

/// The farmer accepts a shipment in one tap. With an `Idempotency-Key`, sending it again answers 204 again
/// and changes nothing (without one, the second gets 409).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Shipment id"),
        ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional: one random value per answer (at most 200 characters), the same when it is sent again"),
    ),
    responses(
        (status = 204, description = "Accepted (or accepted before under this key)"),
        (status = 400, description = "Idempotency-Key blank or too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shipment of this farmer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for an answer, or the same key still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The same key used for another answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/shipments/{id}/accept")]
pub async fn accept_shipment(
    state: web::Data<AppState>,
    req: HttpRequest,
    acting: ActingFarmer,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let key = idempotency::optional_key_of(&req)?;
    answering::answer(&state, &acting, id.into_inner(), Answer::Accept, key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The farmer rejects a shipment with a reason: its stock goes back and the buyer is emailed. With an
/// `Idempotency-Key`, sending it again answers 204 again and changes nothing.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Shipment id"),
        ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional: one random value per answer (at most 200 characters), the same when it is sent again"),
    ),
    request_body = RejectRequest,
    responses(
        (status = 204, description = "Rejected (or rejected before under this key)"),
        (status = 400, description = "Idempotency-Key blank or too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shipment of this farmer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered, the parcel is already with the carrier, or the same key still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given, or the same key used for another answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/shipments/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    req: HttpRequest,
    acting: ActingFarmer,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<RejectRequest>,
) -> Result<HttpResponse, AppError> {
    let key = idempotency::optional_key_of(&req)?;
    let answer = Answer::reject(&body.reason)?;
    answering::answer(&state, &acting, id.into_inner(), answer, key).await?;
    Ok(HttpResponse::NoContent().finish())
}
