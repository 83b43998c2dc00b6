//! The buyer's routes: quotes, placing an order (guest or logged in), reading, cancelling and paying it.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::placement::{self, Item, Placement, ValidBuyer, check_items};
use super::rules::cancel_whole_order;
use super::store::{self, OrderRow};
use super::view::{Order, OrderPage, load_order};
use super::{codes, vietqr};
use crate::auth::{AnyUser, MaybeUser, Role, SessionUser, wrong_role};
use crate::domain::phone::Phone;
use crate::domain::status::ReasonCode;
use crate::error::{AppError, FieldError, Kind, Lang, Problem, Text};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery};
use crate::idempotency::{self, Answer};
use crate::listings::catalogue;
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

#[derive(Deserialize, Serialize, ToSchema)]
pub struct BuyerDetails {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct Address {
    pub ward_code: i32,
    /// Street, hamlet, house number.
    pub street: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OrderRequest {
    pub items: Vec<Item>,
    /// Guests give it; a logged-in buyer's account details are used when absent.
    pub buyer: Option<BuyerDetails>,
    pub address: Address,
    /// `cod` (default) or `bank_transfer`.
    pub payment_method: Option<String>,
    pub note: Option<String>,
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
    )
)]
#[post("/quotes")]
pub async fn quote(
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<QuoteRequest>,
) -> Result<web::Json<Quote>, AppError> {
    let items = check_items(&body.items).map_err(AppError::validation)?;
    let province = state.reference.places.known_ward(body.ward_code)?.province_code;
    let reference = state.reference.clone();
    let basket = state.db.read(move |conn| placement::price_basket(conn, &reference, &items, province)).await?;
    let shipments = basket
        .groups
        .into_iter()
        .map(|group| QuoteShipment {
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
    let lang = Lang::of(&req);
    let placement = checked_order(&state, user.as_ref(), &request, lang).await?;
    let scope = match &user {
        Some(user) => format!("buyer:{}", user.id),
        None => format!("guest:{}", placement.order.buyer.phone),
    };
    let hash = idempotency::request_hash(&body)?;
    let (claim_scope, claim_key, now) = (scope.clone(), key.clone(), state.clock.now());
    match state.db.write(move |conn| idempotency::claim(conn, &claim_scope, &claim_key, &hash, now)).await? {
        None => {}
        // The order this key placed, as it is now, in this request's language.
        Some(Answer { status: 201, body: code }) => return created(&order_by_code(&state, code, lang).await?),
        Some(answer) => return Ok(idempotency::replay(answer)),
    }
    match create_order(&state, placement, (&scope, &key)).await {
        Ok(order) => Ok(created(&order)?),
        Err(error) => {
            // Only a placed order is remembered: the corrected retry may use the same key.
            state.db.write(move |conn| idempotency::release(conn, &scope, &key)).await?;
            Err(error)
        }
    }
}

fn created(order: &Order) -> Result<HttpResponse, AppError> {
    let body = serde_json::to_string(order).map_err(AppError::internal)?;
    Ok(HttpResponse::Created().insert_header((CONTENT_TYPE, "application/json")).body(body))
}

async fn order_by_code(state: &web::Data<AppState>, code: String, lang: Lang) -> Result<Order, AppError> {
    let state2 = state.clone();
    state
        .db
        .read(move |conn| {
            let order = store::order_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
            load_order(conn, &state2, order.id, lang)
        })
        .await
}

/// The buyer's details: as given, or from the logged-in buyer's account.
async fn buyer_details(
    state: &AppState,
    user: Option<&SessionUser>,
    given: Option<&BuyerDetails>,
) -> Result<Result<ValidBuyer, Vec<FieldError>>, AppError> {
    if user.is_some_and(|u| u.role != Role::Buyer) {
        return Err(wrong_role());
    }
    Ok(match (given, user) {
        (Some(details), _) => placement::check_buyer(&details.name, &details.phone, details.email.as_deref()),
        (None, Some(user)) => {
            let id = user.id;
            let account = state.db.read(move |conn| crate::accounts::store::profile(conn, id)).await?;
            match account.phone {
                Some(phone) => Ok(ValidBuyer { name: account.name, phone, email: account.email }),
                None => Err(vec![FieldError::new(
                    "buyer.phone",
                    "phone_required",
                    Text::new(
                        "Cần số điện thoại để người giao hàng liên hệ.",
                        "A phone number is needed for delivery.",
                    ),
                )]),
            }
        }
        (None, None) => Err(vec![FieldError::new(
            "buyer",
            "buyer_required",
            Text::new("Cần tên và số điện thoại người nhận.", "The buyer's name and phone are needed."),
        )]),
    })
}

/// Every field of an order request checked at once: one answer lists every problem.
async fn checked_order(
    state: &AppState,
    user: Option<&SessionUser>,
    request: &OrderRequest,
    lang: Lang,
) -> Result<Placement, AppError> {
    let buyer = buyer_details(state, user, request.buyer.as_ref()).await?;
    let order = placement::OrderFields {
        items: &request.items,
        ward_code: request.address.ward_code,
        street: &request.address.street,
        note: request.note.as_deref(),
        payment_method: request.payment_method.as_deref(),
    };
    Ok(Placement {
        order: placement::check_order(&state.reference.places, buyer, &order)?,
        buyer_id: user.map(|u| u.id),
        lang,
        confirm_hours: state.settings.confirm_hours,
    })
}

/// Places the order; the key is answered with its code in the same transaction.
async fn create_order(
    state: &web::Data<AppState>,
    placement: Placement,
    (scope, key): (&str, &str),
) -> Result<Order, AppError> {
    let (scope, key, now, state2) = (scope.to_owned(), key.to_owned(), state.clock.now(), state.clone());
    let lang = placement.lang;
    let order = state
        .db
        .write(move |conn| {
            let order_id = placement::place(conn, &state2.reference, &placement, now)?;
            let order = load_order(conn, &state2, order_id, lang)?;
            idempotency::complete(conn, &scope, &key, 201, &order.code)?;
            Ok(order)
        })
        .await?;
    catalogue::invalidate(&state.cache).await;
    Ok(order)
}

/// The order, for its buyer (token) or a guest who gives the order's phone; anyone else gets 404.
async fn authorised_order(
    state: &web::Data<AppState>,
    user: Option<SessionUser>,
    code: &str,
    phone: Option<&str>,
) -> Result<OrderRow, AppError> {
    let code = codes::normalise_order_code(code).ok_or_else(AppError::not_found)?;
    let order = state.db.read(move |conn| store::order_by_code(conn, &code)).await?.ok_or_else(AppError::not_found)?;
    let by_token = user.is_some_and(|u| Some(u.id) == order.buyer_id);
    let by_phone = phone.and_then(|p| Phone::parse(p).ok()).is_some_and(|p| p.as_str() == order.buyer_phone);
    if by_token || by_phone { Ok(order) } else { Err(AppError::not_found()) }
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
    let order = authorised_order(&state, user, &code, query.phone.as_deref()).await?;
    let state2 = state.clone();
    Ok(web::Json(state.db.read(move |conn| load_order(conn, &state2, order.id, lang)).await?))
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
    let order = authorised_order(&state, user, &code, query.phone.as_deref()).await?;
    let (state2, now) = (state.clone(), state.clock.now());
    let cancelled = state
        .db
        .write(move |conn| {
            if cancel_whole_order(conn, order.id, ReasonCode::BuyerCancelled, now)?.is_none() {
                return Err(AppError::new(
                    Kind::Conflict,
                    "order_not_cancellable",
                    Text::new("Đơn hàng này đã hủy.", "This order is already cancelled."),
                ));
            }
            load_order(conn, &state2, order.id, lang)
        })
        .await?;
    catalogue::invalidate(&state.cache).await;
    Ok(web::Json(cancelled))
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
    let order = authorised_order(&state, user, &code, query.phone.as_deref()).await?;
    let state2 = state.clone();
    let shown = state.db.read(move |conn| load_order(conn, &state2, order.id, lang)).await?;
    let Some(payment) = shown.payment.vietqr else {
        return Err(AppError::new(
            Kind::Conflict,
            "no_payment_due",
            Text::new(
                "Đơn này không cần chuyển khoản: thanh toán khi nhận hàng, đã thanh toán, hoặc không còn hàng nào được giao.",
                "Nothing is to be paid by transfer for this order: cash on delivery, already paid, or nothing left to deliver.",
            ),
        ));
    };
    let png = vietqr::qr_png(&payment.payload).map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
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
