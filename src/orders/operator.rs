//! The operator's routes over orders: looking them up and reading one whole (audited), recording a transfer,
//! and the refunds owed to buyers.

use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::lookup::{self, OrderDetails, OrderQuery, OrderSummary};
use super::store::{self, RefundRow};
use super::view::{Order, load_order};
use super::{codes, rules};
use crate::auth::Operator;
use crate::domain::status::{OrderStatus, RefundStatus};
use crate::error::{AppError, Kind, Lang, Problem, Text};
use crate::http::{ApiQuery, Page};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderSearchQuery {
    /// The order code, typed any way (case, dashes, spaces and the `NS` prefix do not matter).
    pub code: Option<String>,
    /// The buyer's phone, typed any way (`0912 345 678`, `+84912345678`, `84-912-345-678`…).
    pub phone: Option<String>,
    pub status: Option<OrderStatus>,
    /// Province code of the delivery address.
    pub province: Option<i32>,
    /// Placed on or after this day (Vietnam time), `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// Placed on or before this day (Vietnam time), `YYYY-MM-DD`.
    pub to: Option<NaiveDate>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderSearchPage {
    pub items: Vec<OrderSummary>,
    pub next_cursor: Option<String>,
}

/// Looks orders up, newest first: every filter given must hold.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(OrderSearchQuery),
    responses(
        (status = 200, description = "One page of matching orders", body = OrderSearchPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A code or phone that cannot be one, an unknown status or province, days the wrong way round, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/orders")]
pub async fn search_orders(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<OrderSearchQuery>,
) -> Result<web::Json<OrderSearchPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let asked = OrderQuery {
        code: query.code.as_deref(),
        phone: query.phone.as_deref(),
        status: query.status,
        province: query.province,
        from: query.from,
        to: query.to,
    };
    let filter = lookup::order_filter(&state, &asked)?;
    let (items, next_cursor) = page.finish(lookup::search(&state, filter, page).await?);
    Ok(web::Json(OrderSearchPage { items, next_cursor }))
}

/// Everything about one order: buyer and address, shipments with their farmers and lines, payment, carriers'
/// jobs with tracking and events, refunds. The read is recorded in the operators' audit log.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Order code, typed any way")),
    responses(
        (status = 200, description = "The order", body = OrderDetails),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/orders/{code}")]
pub async fn read_order(
    state: web::Data<AppState>,
    lang: Lang,
    Operator(operator): Operator,
    code: web::Path<String>,
) -> Result<web::Json<OrderDetails>, AppError> {
    Ok(web::Json(lookup::read(&state, operator.id, &code, lang).await?))
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
        (status = 409, description = "Not awaiting a transfer (cash on delivery, paid, or nothing left to deliver)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/orders/{code}/payment")]
pub async fn mark_paid(
    state: web::Data<AppState>,
    lang: Lang,
    _operator: Operator,
    code: web::Path<String>,
) -> Result<web::Json<Order>, AppError> {
    let code = codes::normalise_order_code(&code).ok_or_else(AppError::not_found)?;
    let (state2, now) = (state.clone(), state.clock.now());
    let order = state
        .db
        .write(move |conn| {
            let order = store::order_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
            if !rules::mark_paid(conn, &order, now)? {
                return Err(AppError::new(
                    Kind::Conflict,
                    "not_awaiting_transfer",
                    Text::new("Đơn này không chờ chuyển khoản.", "This order is not awaiting a transfer."),
                ));
            }
            load_order(conn, &state2, order.id, lang)
        })
        .await?;
    Ok(web::Json(order))
}

/// Money owed back to a buyer.
#[derive(Serialize, ToSchema)]
pub struct AdminRefund {
    pub id: i64,
    pub order_code: String,
    pub shipment_id: i64,
    pub amount_vnd: i64,
    pub status: RefundStatus,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

impl AdminRefund {
    pub(super) fn of(row: RefundRow, order_code: String) -> AdminRefund {
        AdminRefund {
            id: row.id,
            order_code,
            shipment_id: row.shipment_id,
            amount_vnd: row.amount_vnd,
            status: row.status,
            created_at: row.created_at.and_utc(),
            done_at: row.done_at.map(|at| at.and_utc()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RefundPage {
    pub items: Vec<AdminRefund>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefundQuery {
    /// `owed` (default) or `done`.
    pub status: Option<RefundStatus>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Refunds owed to buyers (or done), oldest first: what to pay back, to which order.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(RefundQuery),
    responses(
        (status = 200, description = "One page of refunds", body = RefundPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad status, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/refunds")]
pub async fn list_refunds(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<RefundQuery>,
) -> Result<web::Json<RefundPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let status = query.status.unwrap_or(RefundStatus::Owed);
    let rows = state.db.read(move |conn| store::refunds(conn, Some(status), page.fetch_limit(), page.offset)).await?;
    let (rows, next_cursor) = page.finish(rows);
    let items = rows.into_iter().map(|(row, code)| AdminRefund::of(row, code)).collect();
    Ok(web::Json(RefundPage { items, next_cursor }))
}

/// Records that a refund was paid back to the buyer. Doing it again changes nothing.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Refund id")),
    responses(
        (status = 200, description = "The refund, done", body = AdminRefund),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such refund", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/refunds/{id}/done")]
pub async fn refund_done(
    state: web::Data<AppState>,
    Operator(operator): Operator,
    id: web::Path<i64>,
) -> Result<web::Json<AdminRefund>, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let refund = state
        .db
        .write(move |conn| {
            let refund = store::refund_done(conn, id, operator.id, now)?.ok_or_else(AppError::not_found)?;
            let code = store::order_by_id(conn, refund.order_id)?.code;
            Ok(AdminRefund::of(refund, code))
        })
        .await?;
    Ok(web::Json(refund))
}
