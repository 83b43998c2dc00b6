//! The operator's routes over orders.

use actix_web::{post, web};

use super::rules::open_jobs;
use super::view::{Order, load_order};
use super::{codes, store};
use crate::auth::Operator;
use crate::error::{AppError, Kind, Problem, Text};
use crate::mail::templates::{Template, lang_of};
use crate::outbox;
use crate::state::AppState;

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
pub async fn mark_paid(
    state: web::Data<AppState>,
    _operator: Operator,
    code: web::Path<String>,
) -> Result<web::Json<Order>, AppError> {
    let code = codes::normalise_order_code(&code).ok_or_else(AppError::not_found)?;
    let (state2, now) = (state.clone(), state.clock.now());
    let order = state
        .db
        .write(move |conn| {
            let order = store::order_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
            if !store::mark_paid(conn, order.id, now)? {
                return Err(AppError::new(
                    Kind::Conflict,
                    "not_awaiting_transfer",
                    Text::new("Đơn này không chờ chuyển khoản.", "This order is not awaiting a transfer."),
                ));
            }
            open_jobs(conn, order.id, now)?;
            let values = [("name", order.buyer_name.as_str()), ("code", order.code.as_str())];
            let lang = lang_of(&order.lang);
            outbox::notify(conn, order.buyer_email.as_deref(), Template::PaymentReceived, lang, &values, now)?;
            load_order(conn, &state2, order.id)
        })
        .await?;
    Ok(web::Json(order))
}
