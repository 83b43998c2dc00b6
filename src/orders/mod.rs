//! Ordering nationwide: quotes, orders that never oversell and survive retries (Idempotency-Key), one
//! shipment per farmer with its own fee, COD or VietQR transfer, farmer confirmation, cancellation.

pub mod codes;
pub mod service;
pub mod store;
pub mod tariff;
pub mod vietqr;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::PageQuery;
use crate::accounts::service::audit;
use crate::auth::{ActingFarmer, AnyUser, MaybeUser, Role, SessionUser, wrong_role};
use crate::domain::account::{parse_email, parse_name};
use crate::domain::phone::Phone;
use crate::error::{AppError, Kind, Lang, Problem, Text};
use crate::fulfilment::service::{Delivery, open_jobs};
use crate::http::{ApiJson, Page};
use crate::listings::{FarmerRef, PlaceRef};
use crate::mail::templates::{Template, lang_of};
use crate::startup::AppState;
use crate::validate;
use service::{Item, check_items, notify, now, price_basket, reject_shipment, respond_by, take_all_stock};
use store::KeyState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(quote)
        .service(place_order)
        .service(get_order)
        .service(cancel_order)
        .service(order_qr)
        .service(my_orders)
        .service(my_shipments)
        .service(accept_shipment)
        .service(reject)
        .service(mark_paid);
}

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

#[derive(Serialize, ToSchema)]
pub struct OrderLine {
    pub listing_id: i64,
    pub title: String,
    pub unit: String,
    pub price_vnd: i64,
    pub quantity: i64,
    pub line_total_vnd: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Shipment {
    pub id: i64,
    pub farmer: FarmerRef,
    /// `pending` (waiting for the farmer), `accepted`, `rejected`, `cancelled`.
    pub status: String,
    pub weight_g: i64,
    pub items_total_vnd: i64,
    pub fee_vnd: i64,
    pub reject_reason: Option<String>,
    pub lines: Vec<OrderLine>,
    /// The way to the buyer, once a carrier job exists: status, carrier, tracking code, timeline.
    pub delivery: Option<Delivery>,
}

#[derive(Serialize, ToSchema)]
pub struct VietQrPayment {
    /// The EMVCo payload a banking app scans.
    pub payload: String,
    pub qr_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct Payment {
    pub method: String,
    /// `cod`, `awaiting_transfer`, `paid`, `void`.
    pub status: String,
    pub vietqr: Option<VietQrPayment>,
}

#[derive(Serialize, ToSchema)]
pub struct Order {
    /// Short, read-aloud-safe code with a check character.
    pub code: String,
    /// `placed` or `cancelled`.
    pub status: String,
    pub buyer_name: String,
    pub ward: PlaceRef,
    pub street: String,
    pub items_total_vnd: i64,
    pub shipping_total_vnd: i64,
    pub total_vnd: i64,
    pub payment: Payment,
    pub shipments: Vec<Shipment>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GuestQuery {
    /// Guests: the order's phone number, in any common form.
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RejectRequest {
    pub reason: String,
}

fn ward_name(conn: &mut crate::db::Conn<'_>, code: i32) -> Result<(String, i32), AppError> {
    use crate::db::schema::wards;
    use diesel::prelude::*;
    Ok(crate::with_conn!(conn, |c| wards::table.find(code).select((wards::name, wards::province_code)).first(c))?)
}

fn vietqr_for(state: &AppState, code: &str, amount: i64) -> Option<VietQrPayment> {
    let qr = vietqr::VietQr {
        bank_bin: &state.settings.bank_bin,
        account: &state.settings.bank_account,
        amount_vnd: amount,
        purpose: code,
    };
    qr.payload().ok().map(|payload| VietQrPayment { payload, qr_url: format!("/api/v1/orders/{code}/qr.png") })
}

/// Loads an order with its shipments and lines, as its buyer sees it.
fn load_order(conn: &mut crate::db::Conn<'_>, state: &AppState, order_id: i64) -> Result<Order, AppError> {
    let order = store::order_by_id(conn, order_id)?;
    let shipments = store::order_shipments(conn, order_id)?;
    let lines = store::order_lines(conn, order_id)?;
    let mut deliveries = crate::fulfilment::service::deliveries(conn, order_id)?;
    let (ward, _) = ward_name(conn, order.ward_code)?;
    let shipments = shipments
        .into_iter()
        .map(|(id, farmer_id, farmer_name, status, weight_g, items_total_vnd, fee_vnd, reject_reason, _)| Shipment {
            id,
            farmer: FarmerRef { id: farmer_id, name: farmer_name },
            status,
            weight_g,
            items_total_vnd,
            fee_vnd,
            reject_reason,
            lines: lines
                .iter()
                .filter(|line| line.0 == id)
                .map(|(_, listing_id, title, unit, price_vnd, quantity, line_total_vnd)| OrderLine {
                    listing_id: *listing_id,
                    title: title.clone(),
                    unit: unit.clone(),
                    price_vnd: *price_vnd,
                    quantity: *quantity,
                    line_total_vnd: *line_total_vnd,
                })
                .collect(),
            delivery: deliveries.remove(&id),
        })
        .collect();
    let vietqr = (order.payment_method == "bank_transfer" && order.payment_status == "awaiting_transfer")
        .then(|| vietqr_for(state, &order.code, order.total_vnd))
        .flatten();
    Ok(Order {
        code: order.code,
        status: order.status,
        buyer_name: order.buyer_name,
        ward: PlaceRef { code: order.ward_code, name: ward },
        street: order.street,
        items_total_vnd: order.items_total_vnd,
        shipping_total_vnd: order.shipping_total_vnd,
        total_vnd: order.total_vnd,
        payment: Payment { method: order.payment_method, status: order.payment_status, vietqr },
        shipments,
        created_at: order.created_at.and_utc(),
    })
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
async fn quote(state: web::Data<AppState>, ApiJson(body): ApiJson<QuoteRequest>) -> Result<web::Json<Quote>, AppError> {
    let items = check_items(&body.items)?;
    let state2 = state.clone();
    let ward_code = body.ward_code;
    let basket = state
        .db
        .read(move |conn| {
            crate::accounts::service::check_ward(conn, ward_code)?;
            let (_, province) = ward_name(conn, ward_code)?;
            price_basket(conn, &items, province, &state2.tariff)
        })
        .await?;
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

fn idempotency_key(req: &HttpRequest) -> Result<String, AppError> {
    let key = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::new(
            Kind::BadRequest,
            "idempotency_key_required",
            Text::new(
                "Thiếu tiêu đề Idempotency-Key (một mã ngẫu nhiên cho mỗi lần đặt hàng, giữ nguyên khi gửi lại).",
                "The Idempotency-Key header is required (one random value per order, the same on retries).",
            ),
        ));
    }
    Ok(key.to_owned())
}

/// Places an order. Retries with the same `Idempotency-Key` and body get the first answer; nothing is
/// ordered twice and stock is never oversold.
#[utoipa::path(
    tag = "orders",
    request_body = OrderRequest,
    params(("Idempotency-Key" = String, Header, description = "One random value per order, the same on every retry")),
    responses(
        (status = 201, description = "Order placed (or the first answer, replayed)", body = Order),
        (status = 400, description = "No Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys cannot order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Short stock (nothing taken), or the same key still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or the same key with a different body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders")]
async fn place_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeUser(user): MaybeUser,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let key = idempotency_key(&req)?;
    let request: OrderRequest = crate::http::parse_json(&body)?;
    let (buyer, items) = order_details(&state, user.as_ref(), &request).await?;
    let scope = match &user {
        Some(user) => format!("buyer:{}", user.id),
        None => format!("guest:{}", buyer.phone),
    };
    let canonical =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).map_err(AppError::internal)?)
            .map_err(AppError::internal)?;
    let hash = hex::encode(Sha256::digest(&canonical));

    let (claim_scope, claim_key, claim_hash) = (scope.clone(), key.clone(), hash.clone());
    match state.db.write(move |conn| store::claim_key(conn, &claim_scope, &claim_key, &claim_hash, now())).await? {
        KeyState::Fresh => {}
        KeyState::Done(status, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
            return Ok(HttpResponse::build(status).insert_header((CONTENT_TYPE, content_type)).body(body));
        }
        KeyState::Running => {
            return Err(AppError::new(
                Kind::Conflict,
                "request_in_progress",
                Text::new(
                    "Đơn hàng này đang được xử lý; vui lòng chờ giây lát rồi thử lại.",
                    "This order is still being placed; retry in a moment.",
                ),
            ));
        }
        KeyState::Mismatch => {
            return Err(AppError::new(
                Kind::Unprocessable,
                "idempotency_key_reused",
                Text::new(
                    "Idempotency-Key này đã dùng cho một đơn khác; hãy dùng mã mới cho đơn mới.",
                    "This Idempotency-Key was used for a different order; use a new key for a new order.",
                ),
            ));
        }
    }

    let lang = Lang::of(&req);
    let outcome = create_order(&state, user.as_ref(), buyer, items, &request, lang, &scope, &key).await;
    match outcome {
        Ok(order) => {
            let body = serde_json::to_string(&order).map_err(AppError::internal)?;
            Ok(HttpResponse::Created().insert_header((CONTENT_TYPE, "application/json")).body(body))
        }
        Err(error) if error.kind == Kind::Conflict || error.kind == Kind::Unprocessable => {
            // The answer is final for this request: a retry with the same key gets it again.
            let problem = serde_json::to_string(&error.problem(lang, None)).map_err(AppError::internal)?;
            let status = error.kind.status().as_u16();
            state.db.write(move |conn| store::complete_key(conn, &scope, &key, status, &problem)).await?;
            Err(error)
        }
        Err(error) => {
            state.db.write(move |conn| store::release_key(conn, &scope, &key)).await?;
            Err(error)
        }
    }
}

/// The validated buyer details and items of an order request.
async fn order_details(
    state: &AppState,
    user: Option<&SessionUser>,
    request: &OrderRequest,
) -> Result<(ValidBuyer, Vec<Item>), AppError> {
    if user.is_some_and(|u| u.role != Role::Buyer) {
        return Err(wrong_role());
    }
    let items = check_items(&request.items);
    let buyer = match (&request.buyer, user) {
        (Some(details), _) => {
            let name = parse_name(&details.name).map_err(|e| e.at("buyer.name"));
            let phone = Phone::parse(&details.phone).map_err(|e| e.at("buyer.phone"));
            let email = details.email.as_deref().map(parse_email).transpose().map_err(|e| e.at("buyer.email"));
            let (name, phone, email) = validate!(name, phone, email);
            Ok(ValidBuyer { name, phone: phone.as_str().to_owned(), email })
        }
        (None, Some(user)) => {
            let id = user.id;
            let profile = state.db.read(move |conn| crate::accounts::service::load_profile(conn, id)).await?;
            match profile.phone {
                Some(phone) => Ok(ValidBuyer { name: profile.name, phone, email: profile.email }),
                None => Err(AppError::invalid_field(
                    "buyer.phone",
                    "phone_required",
                    Text::new(
                        "Cần số điện thoại để người giao hàng liên hệ.",
                        "A phone number is needed for delivery.",
                    ),
                )),
            }
        }
        (None, None) => Err(AppError::invalid_field(
            "buyer",
            "buyer_required",
            Text::new("Cần tên và số điện thoại người nhận.", "The buyer's name and phone are needed."),
        )),
    };
    let items = items?;
    Ok((buyer?, items))
}

struct ValidBuyer {
    name: String,
    phone: String,
    email: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn create_order(
    state: &web::Data<AppState>,
    user: Option<&SessionUser>,
    buyer: ValidBuyer,
    items: Vec<Item>,
    request: &OrderRequest,
    lang: Lang,
    scope: &str,
    key: &str,
) -> Result<Order, AppError> {
    let method = request.payment_method.clone().unwrap_or_else(|| "cod".to_owned());
    if method != "cod" && method != "bank_transfer" {
        return Err(AppError::invalid_field(
            "payment_method",
            "payment_method_unknown",
            Text::new("Thanh toán bằng cod hoặc bank_transfer.", "Pay by cod or bank_transfer."),
        ));
    }
    let street = request.address.street.trim().to_owned();
    if street.is_empty() || street.chars().count() > 200 {
        return Err(AppError::invalid_field(
            "address.street",
            "street_required",
            Text::new(
                "Cần địa chỉ (số nhà, thôn, đường), tối đa 200 ký tự.",
                "The street address is needed (at most 200 characters).",
            ),
        ));
    }
    let (ward_code, note) = (request.address.ward_code, request.note.clone());
    let buyer_id = user.map(|u| u.id);
    let (scope, key) = (scope.to_owned(), key.to_owned());
    let state2 = state.clone();
    let order = state
        .db
        .write(move |conn| {
            crate::accounts::service::check_ward(conn, ward_code)?;
            let (_, province) = ward_name(conn, ward_code)?;
            let basket = price_basket(conn, &items, province, &state2.tariff)?;
            take_all_stock(conn, &basket)?;
            let now = now();
            let mut code = codes::new_order_code(&mut rand::rng());
            while store::code_taken(conn, &code)? {
                code = codes::new_order_code(&mut rand::rng());
            }
            let total = basket.items_total_vnd + basket.shipping_total_vnd;
            let order_id = store::insert_order(
                conn,
                &store::NewOrder {
                    code: &code,
                    buyer_id,
                    buyer_name: &buyer.name,
                    buyer_phone: &buyer.phone,
                    buyer_email: buyer.email.as_deref(),
                    ward_code,
                    province_code: province,
                    street: &street,
                    note: note.as_deref(),
                    payment_method: &method,
                    payment_status: if method == "cod" { "cod" } else { "awaiting_transfer" },
                    status: "placed",
                    items_total_vnd: basket.items_total_vnd,
                    shipping_total_vnd: basket.shipping_total_vnd,
                    total_vnd: total,
                    lang: if lang == Lang::En { "en" } else { "vi" },
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let mut auto_accepted = false;
            for group in &basket.groups {
                let (farmer_email, auto_accept) = store::farmer_preferences(conn, group.farmer_id)?;
                auto_accepted |= auto_accept;
                let shipment_id = store::insert_shipment(
                    conn,
                    &store::NewShipment {
                        order_id,
                        farmer_id: group.farmer_id,
                        status: if auto_accept { "accepted" } else { "pending" },
                        weight_g: group.weight_g,
                        items_total_vnd: group.items_total_vnd,
                        fee_vnd: group.fee_vnd,
                        stock_restored: false,
                        respond_by: respond_by(now, state2.settings.confirm_hours),
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                for line in &group.lines {
                    store::insert_line(
                        conn,
                        &store::NewLine {
                            order_id,
                            shipment_id,
                            listing_id: line.listing.id,
                            title: &line.listing.title,
                            unit: &line.listing.unit,
                            price_vnd: line.listing.price_vnd,
                            quantity: line.quantity,
                            line_total_vnd: line.line_total_vnd,
                        },
                    )?;
                }
                let hours = state2.settings.confirm_hours.to_string();
                notify(
                    conn,
                    farmer_email.as_deref(),
                    Template::NewOrder,
                    Lang::Vi,
                    &[("code", &code), ("hours", &hours)],
                )?;
            }
            if auto_accepted {
                open_jobs(conn, order_id, now)?;
            }
            let total = total.to_string();
            let values = [("name", buyer.name.as_str()), ("code", code.as_str()), ("total", total.as_str())];
            notify(conn, buyer.email.as_deref(), Template::OrderPlaced, lang, &values)?;
            let order = load_order(conn, &state2, order_id)?;
            let body = serde_json::to_string(&order).map_err(AppError::internal)?;
            store::complete_key(conn, &scope, &key, 201, &body)?;
            Ok(order)
        })
        .await?;
    crate::listings::catalogue::invalidate(&state.cache).await;
    Ok(order)
}

/// The order, for its buyer (token) or a guest who gives the order's phone; anyone else gets 404.
async fn authorised_order(
    state: &web::Data<AppState>,
    user: Option<SessionUser>,
    code: &str,
    phone: Option<&str>,
) -> Result<store::OrderRow, AppError> {
    let code = codes::normalise_order_code(code).ok_or_else(AppError::not_found)?;
    let order = state.db.read(move |conn| store::order_by_code(conn, &code)).await?.ok_or_else(AppError::not_found)?;
    let by_token = user.is_some_and(|u| Some(u.id) == order.buyer_id);
    let by_phone = phone.and_then(|p| Phone::parse(p).ok()).is_some_and(|p| p.as_str() == order.buyer_phone);
    if by_token || by_phone { Ok(order) } else { Err(AppError::not_found()) }
}

/// An order with its shipments.
#[utoipa::path(
    tag = "orders",
    params(("code" = String, Path, description = "Order code"), GuestQuery),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys cannot see orders", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders/{code}")]
async fn get_order(
    state: web::Data<AppState>,
    MaybeUser(user): MaybeUser,
    code: web::Path<String>,
    crate::http::ApiQuery(query): crate::http::ApiQuery<GuestQuery>,
) -> Result<web::Json<Order>, AppError> {
    let order = authorised_order(&state, user, &code, query.phone.as_deref()).await?;
    let state2 = state.clone();
    Ok(web::Json(state.db.read(move |conn| load_order(conn, &state2, order.id)).await?))
}

/// The buyer cancels: possible until a shipment is picked up; stock goes back exactly once.
#[utoipa::path(
    tag = "orders",
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
async fn cancel_order(
    state: web::Data<AppState>,
    MaybeUser(user): MaybeUser,
    code: web::Path<String>,
    crate::http::ApiQuery(query): crate::http::ApiQuery<GuestQuery>,
) -> Result<web::Json<Order>, AppError> {
    let order = authorised_order(&state, user, &code, query.phone.as_deref()).await?;
    let state2 = state.clone();
    let cancelled = state
        .db
        .write(move |conn| {
            if !service::cancel_whole_order(conn, order.id, "theo yêu cầu của người mua")? {
                return Err(AppError::new(
                    Kind::Conflict,
                    "order_not_cancellable",
                    Text::new("Đơn hàng này đã hủy.", "This order is already cancelled."),
                ));
            }
            load_order(conn, &state2, order.id)
        })
        .await?;
    crate::listings::catalogue::invalidate(&state.cache).await;
    Ok(web::Json(cancelled))
}

/// The VietQR code of a bank-transfer order, as a PNG to scan with any Vietnamese banking app.
#[utoipa::path(
    tag = "orders",
    params(("code" = String, Path, description = "Order code"), GuestQuery),
    responses(
        (status = 200, description = "PNG image", content_type = "image/png", body = Vec<u8>),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys cannot see orders", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this caller, or not awaiting a transfer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders/{code}/qr.png")]
async fn order_qr(
    state: web::Data<AppState>,
    MaybeUser(user): MaybeUser,
    code: web::Path<String>,
    crate::http::ApiQuery(query): crate::http::ApiQuery<GuestQuery>,
) -> Result<HttpResponse, AppError> {
    let order = authorised_order(&state, user, &code, query.phone.as_deref()).await?;
    if order.payment_status != "awaiting_transfer" {
        return Err(AppError::not_found());
    }
    let payment = vietqr_for(&state, &order.code, order.total_vnd).ok_or_else(AppError::not_found)?;
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
async fn my_orders(
    state: web::Data<AppState>,
    AnyUser(user): AnyUser,
    crate::http::ApiQuery(query): crate::http::ApiQuery<PageQuery>,
) -> Result<web::Json<OrderPage>, AppError> {
    if user.role != Role::Buyer {
        return Err(wrong_role());
    }
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let state2 = state.clone();
    let orders = state
        .db
        .read(move |conn| {
            let ids = store::buyer_order_ids(conn, user.id, page.fetch_limit(), page.offset)?;
            ids.into_iter().map(|id| load_order(conn, &state2, id)).collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let (items, next_cursor) = page.finish(orders);
    Ok(web::Json(OrderPage { items, next_cursor }))
}

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
async fn my_shipments(
    state: web::Data<AppState>,
    acting: ActingFarmer,
    crate::http::ApiQuery(query): crate::http::ApiQuery<PageQuery>,
) -> Result<web::Json<FarmerShipmentPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let state2 = state.clone();
    let items = state
        .db
        .write(move |conn| {
            audit(conn, &acting, "view_shipments", "farmer", None)?;
            let rows = store::farmer_shipment_orders(conn, acting.farmer_id, page.fetch_limit(), page.offset)?;
            let mut items = Vec::with_capacity(rows.len());
            for (shipment_id, order_id) in rows {
                let order = load_order(conn, &state2, order_id)?;
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
        })
        .await?;
    let (items, next_cursor) = page.finish(items);
    Ok(web::Json(FarmerShipmentPage { items, next_cursor }))
}

fn shipment_conflict(status: &str) -> AppError {
    AppError::new(
        Kind::Conflict,
        "shipment_state",
        Text::new(format!("Phần đơn này đang ở trạng thái {status}."), format!("This shipment is {status}.")),
    )
}

/// The farmer's shipment `id`, or 404 (another farmer's shipment exists but is not theirs to see).
fn own_shipment(conn: &mut crate::db::Conn<'_>, acting: &ActingFarmer, id: i64) -> Result<String, AppError> {
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
async fn accept_shipment(
    state: web::Data<AppState>,
    acting: ActingFarmer,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    state
        .db
        .write(move |conn| {
            let status = own_shipment(conn, &acting, id)?;
            if !store::move_shipment(conn, id, &["pending"], "accepted", None, now())? {
                return Err(shipment_conflict(&status));
            }
            let (order_id, _, _) = store::shipment(conn, id)?.ok_or_else(AppError::not_found)?;
            open_jobs(conn, order_id, now())?;
            audit(conn, &acting, "accept_shipment", "shipment", Some(id.to_string()))
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
async fn reject(
    state: web::Data<AppState>,
    acting: ActingFarmer,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<RejectRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 300 {
        return Err(AppError::invalid_field(
            "reason",
            "reason_required",
            Text::new(
                "Hãy cho người mua biết lý do (tối đa 300 ký tự).",
                "Tell the buyer why (at most 300 characters).",
            ),
        ));
    }
    state
        .db
        .write(move |conn| {
            let status = own_shipment(conn, &acting, id)?;
            if !reject_shipment(conn, id, &reason)? {
                return Err(shipment_conflict(&status));
            }
            audit(conn, &acting, "reject_shipment", "shipment", Some(id.to_string()))
        })
        .await?;
    crate::listings::catalogue::invalidate(&state.cache).await;
    Ok(HttpResponse::NoContent().finish())
}

/// An operator records that a bank transfer arrived; the buyer is told.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Order code")),
    responses(
        (status = 200, description = "Marked as paid", body = Order),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not awaiting a transfer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/orders/{code}/payment")]
async fn mark_paid(
    state: web::Data<AppState>,
    _operator: crate::auth::Operator,
    code: web::Path<String>,
) -> Result<web::Json<Order>, AppError> {
    let code = codes::normalise_order_code(&code).ok_or_else(AppError::not_found)?;
    let state2 = state.clone();
    let order = state
        .db
        .write(move |conn| {
            let order = store::order_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
            if !store::mark_paid(conn, order.id, now())? {
                return Err(AppError::new(
                    Kind::Conflict,
                    "not_awaiting_transfer",
                    Text::new("Đơn này không chờ chuyển khoản.", "This order is not awaiting a transfer."),
                ));
            }
            open_jobs(conn, order.id, now())?;
            let values = [("name", order.buyer_name.as_str()), ("code", order.code.as_str())];
            notify(conn, order.buyer_email.as_deref(), Template::PaymentReceived, lang_of(&order.lang), &values)?;
            load_order(conn, &state2, order.id)
        })
        .await?;
    Ok(web::Json(order))
}

/// The maintenance loop of one instance: cancels what ran out of time (see `service::expire_due`).
pub fn spawn_expiry(db: crate::db::Db, unpaid_hours: u64) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            ticks.tick().await;
            match db.write(move |conn| service::expire_due(conn, now(), unpaid_hours)).await {
                Ok(expired) if expired != service::Expired::default() => {
                    tracing::info!(?expired, "expired orders and shipments")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "order expiry"),
            }
        }
    });
}
