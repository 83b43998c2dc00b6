//! The farmer's routes (a helper may act for them): their shipments, accepting and rejecting.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules;
use super::store;
use super::view::{Shipment, load_order};
use crate::audit;
use crate::auth::ActingFarmer;
use crate::db::Conn;
use crate::domain::status::{AuditAction, ShipmentStatus};
use crate::domain::text::optional_text;
use crate::error::{AppError, Kind, Lang, Problem, Text};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery};
use crate::listings::catalogue;
use crate::reference::PlaceRef;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct FarmerShipment {
    pub order_code: String,
    pub buyer_name: String,
    pub ward: PlaceRef,
    pub shipment: Shipment,
}

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
        (status = 403, description = "Farmers and their helpers only", body = Problem, content_type = "application/problem+json"),
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
    let (state2, farmer_id) = (state.clone(), acting.farmer_id);
    let view = move |conn: &mut Conn<'_>| {
        let rows = store::farmer_shipment_orders(conn, farmer_id, page.fetch_limit(), page.offset)?;
        let mut items = Vec::with_capacity(rows.len());
        for (shipment_id, order_id) in rows {
            let order = load_order(conn, &state2, order_id, lang)?;
            if let Some(shipment) = order.shipments.into_iter().find(|s| s.id == shipment_id) {
                items.push(FarmerShipment {
                    order_code: order.code,
                    buyer_name: order.buyer_name,
                    ward: order.ward,
                    shipment,
                });
            }
        }
        Ok(items)
    };
    let items = audit::read_for(&state.db, &acting, AuditAction::ViewShipments, state.clock.now(), view).await?;
    let (items, next_cursor) = page.finish(items);
    Ok(web::Json(FarmerShipmentPage { items, next_cursor }))
}

fn shipment_conflict(status: ShipmentStatus) -> AppError {
    AppError::new(
        Kind::Conflict,
        "shipment_state",
        Text::new(format!("Phần đơn này đang ở trạng thái {status}."), format!("This shipment is {status}.")),
    )
}

/// The farmer's shipment `id`, or 404 (another farmer's shipment exists but is not theirs to see).
fn own_shipment(conn: &mut Conn<'_>, acting: &ActingFarmer, id: i64) -> Result<ShipmentStatus, AppError> {
    match store::shipment(conn, id)? {
        Some((_, farmer_id, status)) if farmer_id == acting.farmer_id => Ok(status),
        _ => Err(AppError::not_found()),
    }
}

/// The farmer accepts a shipment in one tap.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Shipment id"), ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    responses(
        (status = 204, description = "Accepted"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers and their helpers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shipment of this farmer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for an answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/shipments/{id}/accept")]
pub async fn accept_shipment(
    state: web::Data<AppState>,
    acting: ActingFarmer,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    state
        .db
        .write(move |conn| {
            let status = own_shipment(conn, &acting, id)?;
            if !rules::accept_shipment(conn, id, now)? {
                return Err(shipment_conflict(status));
            }
            audit::record_acting(conn, &acting, AuditAction::AcceptShipment, Some(id.to_string()), now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The farmer rejects a shipment with a reason: its stock goes back and the buyer is emailed.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Shipment id"), ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    request_body = RejectRequest,
    responses(
        (status = 204, description = "Rejected"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers and their helpers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shipment of this farmer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered, or the parcel is already with the carrier", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/shipments/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    acting: ActingFarmer,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<RejectRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let reason = match optional_text("reason", Some(&body.reason), 300)? {
        Some(reason) => reason,
        None => {
            return Err(AppError::invalid_field(
                "reason",
                "reason_required",
                Text::new("Hãy cho người mua biết lý do.", "Tell the buyer why."),
            ));
        }
    };
    state
        .db
        .write(move |conn| {
            let status = own_shipment(conn, &acting, id)?;
            if !rules::reject_shipment(conn, id, &reason, now)? {
                return Err(shipment_conflict(status));
            }
            audit::record_acting(conn, &acting, AuditAction::RejectShipment, Some(id.to_string()), now)
        })
        .await?;
    catalogue::invalidate(&state.cache).await;
    Ok(HttpResponse::NoContent().finish())
}
