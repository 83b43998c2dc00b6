//! The buyer's routes: quotes, placing an order (guest or logged in), reading, cancelling and paying it.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::buying::{self, OrderRequest};
use super::placement::{self, Item, check_items};
use super::store;
use super::view::{Order, OrderPage, load_order};
use crate::auth::rate_limit::{Throttles, client_address};
use crate::auth::{AnyUser, MaybeUser, Role, wrong_role};
use crate::error::{AppError, Lang, Problem};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery};
use crate::idempotency;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct QuoteRequest {
    pub items: Vec<Item>,
    /// Delivery commune.
    pub ward_code: i32,
}

#[derive(Serialize, ToSchema)]
pub struct QuoteLine {
    pub listing_id: i64,
    pub title: String,
    pub unit: String,
    pub price_vnd: i64,
    pub quantity: i64,
    pub line_total_vnd: i64,
    /// Units on sale now.
    pub available: i64,
}

#[derive(Serialize, ToSchema)]
pub struct QuoteShipment {
    pub farmer_id: i64,
    pub farmer_name: String,
    pub weight_g: i64,
    pub items_total_vnd: i64,
    pub fee_vnd: i64,
    pub lines: Vec<QuoteLine>,
}

#[derive(Serialize, ToSchema)]
pub struct Quote {
    pub shipments: Vec<QuoteShipment>,
    pub items_total_vnd: i64,
    pub shipping_total_vnd: i64,
    pub total_vnd: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GuestQuery {
    /// Guests: the order's phone number, in any common form.
    pub phone: Option<String>,
}

/// Prices a basket for a delivery commune: one shipment per farmer, each with its fee.
#[utoipa::path(
    tag = "orders",
    request_body = QuoteRequest,
    responses(
        (status = 200, description = "The priced basket", body = Quote),
        (status = 422, description = "Unknown commune, listing not on sale, bad quantity", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many quotes and searches from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/quotes")]
pub async fn quote(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiJson(body): ApiJson<QuoteRequest>,
) -> Result<web::Json<Quote>, AppError> {
    Throttles::of(&state).search(&client_address(&req)).await?;
    let items = check_items(&body.items).map_err(AppError::validation)?;
    let province = state.reference.places.known_ward(body.ward_code)?.province_code;
    let reference = state.reference.clone();
    let basket = state.db.read(move |conn| placement::price_basket(conn, &reference, &items, province)).await?;
    let shipments = basket
        .groups
        .into_iter()
        .map(|group| QuoteShipment {
            farmer_name: group.lines.first().map(|line| line.listing.farmer_name.clone()).unwrap_or_default(),
            farmer_id: group.farmer_id,
            weight_g: group.weight_g,
            items_total_vnd: group.items_total_vnd,
            fee_vnd: group.fee_vnd,
            lines: group
                .lines
                .into_iter()
                .map(|line| QuoteLine {
                    listing_id: line.listing.id,
                    title: line.listing.title,
                    unit: line.listing.unit,
                    price_vnd: line.listing.price_vnd,
                    quantity: line.quantity,
                    line_total_vnd: line.line_total_vnd,
                    available: line.listing.quantity,
                })
                .collect(),
        })
        .collect();
    Ok(web::Json(Quote {
        shipments,
        items_total_vnd: basket.items_total_vnd,
        shipping_total_vnd: basket.shipping_total_vnd,
        total_vnd: basket.items_total_vnd + basket.shipping_total_vnd,
    }))
}

/// Places an order. Retries with the same `Idempotency-Key` and body get the order it placed; nothing is
/// ordered twice and stock is never oversold. A refused request leaves its key free for the corrected retry.
#[utoipa::path(
    tag = "orders",
    request_body = OrderRequest,
    security((), ("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "One random value per order (at most 200 characters), the same on every retry")),
    responses(
        (status = 201, description = "Order placed (or the order this key placed, for a retry)", body = Order),
        (status = 400, description = "No Idempotency-Key, or one too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys cannot order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Short stock (nothing taken), or the same key still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed), or the same key with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Guests: too many orders with this phone or from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders")]
pub async fn place_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeUser(user): MaybeUser,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let key = idempotency::key_of(&req)?;
    let request: OrderRequest = crate::http::parse_json(&body)?;
    let hash = idempotency::request_hash(&body)?;
    let (lang, address) = (Lang::of(&req), client_address(&req));
    let order = buying::place_once(&state, user.as_ref(), &request, (&key, hash), (lang, &address)).await?;
    let body = serde_json::to_string(&order).map_err(AppError::internal)?;
    Ok(HttpResponse::Created().insert_header((CONTENT_TYPE, "application/json")).body(body))
}

/// An order with its shipments, what is still due and the refunds owed.
#[utoipa::path(
    tag = "orders",
    security((), ("bearer" = [])),
    params(("code" = String, Path, description = "Order code"), GuestQuery),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys cannot see orders", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many look-ups of this order with a wrong phone; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders/{code}")]
pub async fn get_order(
    state: web::Data<AppState>,
    lang: Lang,
    MaybeUser(user): MaybeUser,
    code: web::Path<String>,
    ApiQuery(query): ApiQuery<GuestQuery>,
) -> Result<web::Json<Order>, AppError> {
    let order = buying::order_for(&state, user.as_ref(), &code, query.phone.as_deref()).await?;
    Ok(web::Json(buying::view(&state, order.id, lang).await?))
}

/// The buyer cancels: possible until a shipment is picked up; stock goes back exactly once, and what was paid
/// is owed back.
#[utoipa::path(
    tag = "orders",
    security((), ("bearer" = [])),
    params(("code" = String, Path, description = "Order code"), GuestQuery),
    responses(
        (status = 200, description = "Cancelled", body = Order),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys cannot see orders", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many look-ups of this order with a wrong phone; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled, or a parcel is already with the carrier", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{code}/cancel")]
pub async fn cancel_order(
    state: web::Data<AppState>,
    lang: Lang,
    MaybeUser(user): MaybeUser,
    code: web::Path<String>,
    ApiQuery(query): ApiQuery<GuestQuery>,
) -> Result<web::Json<Order>, AppError> {
    let order = buying::order_for(&state, user.as_ref(), &code, query.phone.as_deref()).await?;
    Ok(web::Json(buying::cancel(&state, order.id, lang).await?))
}

/// The VietQR code of a bank-transfer order awaiting payment, for the amount still due, as a PNG to scan
/// with any Vietnamese banking app.
#[utoipa::path(
    tag = "orders",
    security((), ("bearer" = [])),
    params(("code" = String, Path, description = "Order code"), GuestQuery),
    responses(
        (status = 200, description = "PNG image", content_type = "image/png", body = crate::http::Binary),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys cannot see orders", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many look-ups of this order with a wrong phone; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to pay by transfer: cash on delivery, paid, or nothing left to deliver", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders/{code}/qr.png")]
pub async fn order_qr(
    state: web::Data<AppState>,
    lang: Lang,
    MaybeUser(user): MaybeUser,
    code: web::Path<String>,
    ApiQuery(query): ApiQuery<GuestQuery>,
) -> Result<HttpResponse, AppError> {
    let order = buying::order_for(&state, user.as_ref(), &code, query.phone.as_deref()).await?;
    let png = buying::qr_png(&state, order.id, lang).await?;
    Ok(HttpResponse::Ok().insert_header((CONTENT_TYPE, "image/png")).body(png))
}

/// A buyer's orders, newest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of orders", body = OrderPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Buyers only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/orders")]
pub async fn my_orders(
    state: web::Data<AppState>,
    lang: Lang,
    AnyUser(user): AnyUser,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<web::Json<OrderPage>, AppError> {
    if user.role != Role::Buyer {
        return Err(wrong_role());
    }
    let page = Page::of(&query)?;
    let state2 = state.clone();
    let orders = state
        .db
        .read(move |conn| {
            let ids = store::buyer_order_ids(conn, user.id, page.fetch_limit(), page.offset)?;
            ids.into_iter().map(|id| load_order(conn, &state2, id, lang)).collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let (items, next_cursor) = page.finish(orders);
    Ok(web::Json(OrderPage { items, next_cursor }))
}
