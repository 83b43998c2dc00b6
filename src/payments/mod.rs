//! Bank transfers reconcile themselves: the bank-notification service tells us of every transfer to the
//! service's account, each is matched to the order its memo names (`matching`) and pays it when the amount is
//! exact; the rest waits in an exceptions list operators resolve (`rules`).

pub mod matching;
pub mod rules;
pub mod store;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, get, post, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Operator;
use crate::auth::secrets::token_hash;
use crate::clock::VIETNAM_UTC_OFFSET_HOURS;
use crate::domain::status::{
    DiscrepancyStatus, ExceptionResolution, PaymentExceptionKind, TransferDirection, TransferOutcome,
};
use crate::domain::text::{Lines, typed_text};
use crate::error::{AppError, FieldError, Kind, Problem, Text};
use crate::http::{ApiJson, ApiQuery, Page, parse_json};
use crate::state::AppState;
use store::{Exception, NewTransfer};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(bank_notification).service(list_exceptions).service(resolve_exception);
}

/// An incoming (or outgoing) transfer on the service's bank account, in the common shape of Vietnamese
/// bank-notification services; other fields are ignored.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankNotification {
    /// The service's id of the transfer: a transfer is handled once, however often it is sent.
    pub id: i64,
    /// The bank, e.g. `Vietcombank`.
    pub gateway: String,
    /// When the bank booked it, Vietnam time: `2026-12-03 14:30:00`.
    #[schema(example = "2026-12-03 14:30:00")]
    pub transaction_date: String,
    pub account_number: String,
    /// The transfer's memo, as the bank delivers it.
    pub content: String,
    /// `in` (money received) or `out` (kept, never matched).
    pub transfer_type: TransferDirection,
    /// Whole VND.
    pub transfer_amount: i64,
    pub reference_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationAnswer {
    /// Always `true`: the transfer is stored, so the service need not send it again.
    pub success: bool,
    /// `paid` (it paid an order), `exception` (an operator will see to it) or `outgoing`.
    pub outcome: TransferOutcome,
}

fn unauthorized() -> AppError {
    AppError::new(
        Kind::Unauthorized,
        "bad_api_key",
        Text::new("Cần khóa Authorization: Apikey hợp lệ.", "A valid `Authorization: Apikey` key is required."),
    )
}

/// Whether `authorization` is `Apikey <key>` for the configured key (digests compared, so the comparison
/// takes the same time whatever the guess). No key configured: nobody is.
fn has_key(configured: Option<&str>, authorization: Option<&str>) -> bool {
    let sent = authorization.and_then(|header| {
        let (scheme, key) = header.split_once(' ')?;
        scheme.eq_ignore_ascii_case("apikey").then_some(key.trim())
    });
    matches!((configured, sent), (Some(key), Some(sent)) if token_hash(sent) == token_hash(key))
}

const TEXT_MAX: usize = 1000;

fn field_text(field: &str, value: &str) -> Result<String, FieldError> {
    Ok(typed_text(field, Some(value), TEXT_MAX, Lines::Many)?.unwrap_or_default())
}

/// A notification checked and turned into the transfer to store.
fn transfer_of(notification: BankNotification, now: NaiveDateTime) -> Result<NewTransfer, AppError> {
    let mut errors = Vec::new();
    let at = NaiveDateTime::parse_from_str(notification.transaction_date.trim(), "%Y-%m-%d %H:%M:%S");
    if at.is_err() {
        errors.push(FieldError::new(
            "transactionDate",
            "invalid_date",
            Text::new(
                "`transactionDate` phải có dạng YYYY-MM-DD HH:MM:SS (giờ Việt Nam).",
                "`transactionDate` must be YYYY-MM-DD HH:MM:SS (Vietnam time).",
            ),
        ));
    }
    if notification.transfer_amount <= 0 {
        errors.push(FieldError::new(
            "transferAmount",
            "invalid_amount",
            Text::new("`transferAmount` phải là số đồng lớn hơn 0.", "`transferAmount` must be more than 0 VND."),
        ));
    }
    let mut text = |field: &str, value: &str| field_text(field, value).map_err(|e| errors.push(e)).unwrap_or_default();
    let gateway = text("gateway", &notification.gateway);
    let account_number = text("accountNumber", &notification.account_number);
    let content = text("content", &notification.content);
    let reference_code = notification.reference_code.as_deref().map(|code| text("referenceCode", code));
    let (Ok(at), true) = (at, errors.is_empty()) else {
        return Err(AppError::validation(errors));
    };
    let outcome = match notification.transfer_type {
        TransferDirection::In => TransferOutcome::Exception,
        TransferDirection::Out => TransferOutcome::Outgoing,
    };
    Ok(NewTransfer {
        notification_id: notification.id,
        gateway,
        transferred_at: at - Duration::hours(VIETNAM_UTC_OFFSET_HOURS),
        account_number,
        content,
        direction: notification.transfer_type,
        amount_vnd: notification.transfer_amount,
        reference_code: reference_code.filter(|code| !code.is_empty()),
        outcome,
        received_at: now,
    })
}

/// The bank-notification service reports a transfer on the service's account. An incoming transfer whose
/// memo names an order awaiting exactly that amount pays it (the buyer is told, the parcels can go); any other
/// goes to the exceptions list, the order unchanged. Every authenticated notification is answered 200 once
/// stored, matched or not; the same `id` again changes nothing and gets the same answer.
#[utoipa::path(
    tag = "payments",
    security(("bank_apikey" = [])),
    request_body = BankNotification,
    responses(
        (status = 200, description = "Stored (and matched, or listed for an operator)", body = NotificationAnswer),
        (status = 401, description = "No `Authorization: Apikey <BANK_NOTIFY_KEY>`, a wrong one, or no key configured", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/payments/bank-notifications")]
pub async fn bank_notification(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<web::Json<NotificationAnswer>, AppError> {
    let authorization = req.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok());
    if !has_key(state.settings.bank_notify_key.as_deref(), authorization) {
        return Err(unauthorized());
    }
    let now = state.clock.now();
    let transfer = transfer_of(parse_json(&body)?, now)?;
    let outcome = state.db.write(move |conn| rules::receive(conn, &transfer, now)).await?;
    Ok(web::Json(NotificationAnswer { success: true, outcome }))
}

/// A transfer as the bank reported it.
#[derive(Serialize, ToSchema)]
pub struct Transfer {
    pub notification_id: i64,
    pub gateway: String,
    pub transferred_at: DateTime<Utc>,
    /// The memo, as the bank delivered it.
    pub content: String,
    pub amount_vnd: i64,
    pub reference_code: Option<String>,
}

/// A transfer that paid no order by itself.
#[derive(Serialize, ToSchema)]
pub struct PaymentException {
    pub id: i64,
    pub kind: PaymentExceptionKind,
    /// `open` or `resolved`.
    pub status: DiscrepancyStatus,
    pub transfer: Transfer,
    /// The order the memo names, when it names one.
    pub order_code: Option<String>,
    /// What that order awaited when the money came (partial and excess transfers).
    pub expected_vnd: Option<i64>,
    pub resolution: Option<ExceptionResolution>,
    /// The order the money paid (`apply`).
    pub applied_order_code: Option<String>,
    /// What is owed back to the payer (`refund`, or what `apply` left over).
    pub refund_vnd: Option<i64>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<Exception> for PaymentException {
    fn from(exception: Exception) -> PaymentException {
        let row = exception.row;
        PaymentException {
            id: row.id,
            kind: row.kind,
            status: row.status,
            transfer: Transfer {
                notification_id: row.notification_id,
                gateway: row.gateway,
                transferred_at: row.transferred_at.and_utc(),
                content: row.content,
                amount_vnd: row.amount_vnd,
                reference_code: row.reference_code,
            },
            order_code: row.order_code,
            expected_vnd: row.expected_vnd,
            resolution: row.resolution,
            applied_order_code: exception.applied_order_code,
            refund_vnd: row.refund_vnd,
            note: row.note,
            created_at: row.created_at.and_utc(),
            resolved_at: row.resolved_at.map(|at| at.and_utc()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExceptionPage {
    pub items: Vec<PaymentException>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionQuery {
    /// `open` (default) or `resolved`.
    pub status: Option<DiscrepancyStatus>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Bank transfers that paid no order by themselves (partial, excess, duplicate, late, unmatched), oldest
/// first.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(ExceptionQuery),
    responses(
        (status = 200, description = "One page of payment exceptions", body = ExceptionPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad status, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/payments/exceptions")]
pub async fn list_exceptions(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<ExceptionQuery>,
) -> Result<web::Json<ExceptionPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let status = query.status.unwrap_or(DiscrepancyStatus::Open);
    let rows = rules::exceptions(&state, status, page).await?;
    let (rows, next_cursor) = page.finish(rows);
    Ok(web::Json(ExceptionPage { items: rows.into_iter().map(PaymentException::from).collect(), next_cursor }))
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveRequest {
    /// `apply` (the money pays an order), `refund` (it is owed back to the payer) or `ignore`.
    pub action: ExceptionResolution,
    /// The order the money pays (`apply`); by default the one the memo names.
    pub order_code: Option<String>,
    pub note: Option<String>,
}

/// An operator resolves a payment exception, recorded in the operators' audit log: `apply` pays an order
/// awaiting a transfer the amount covers (what is left over is owed back to the payer), `refund` records the
/// amount as owed back to the payer, `ignore` closes it with the note.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Payment exception id")),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "The exception, resolved", body = PaymentException),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such exception", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Resolved already, or the order does not await a transfer this amount covers", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown order code, or a note too long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/payments/exceptions/{id}/resolve")]
pub async fn resolve_exception(
    state: web::Data<AppState>,
    Operator(operator): Operator,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<ResolveRequest>,
) -> Result<web::Json<PaymentException>, AppError> {
    let resolve =
        rules::Resolve { action: body.action, order_code: body.order_code, note: body.note, operator_id: operator.id };
    Ok(web::Json(rules::resolve_exception(&state, id.into_inner(), resolve).await?.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_key_is_let_in() {
        let key = Some("bank-key-0123");
        assert!(has_key(key, Some("Apikey bank-key-0123")));
        assert!(has_key(key, Some("apikey bank-key-0123")));
        assert!(!has_key(key, Some("Apikey bank-key-0124")));
        assert!(!has_key(key, Some("Bearer bank-key-0123")));
        assert!(!has_key(key, Some("bank-key-0123")));
        assert!(!has_key(key, None));
        assert!(!has_key(None, Some("Apikey ")), "no key configured: nobody");
        assert!(!has_key(None, None));
    }

    fn notification(date: &str, amount: i64) -> BankNotification {
        BankNotification {
            id: 92704,
            gateway: "Vietcombank".into(),
            transaction_date: date.into(),
            account_number: "0011001234567".into(),
            content: "NSM4NC9G2R9 chuyen tien".into(),
            transfer_type: TransferDirection::In,
            transfer_amount: amount,
            reference_code: Some("MBVCB.3278907687".into()),
        }
    }

    #[test]
    fn the_bank_time_is_vietnam_time() {
        let now = NaiveDateTime::default();
        let transfer = transfer_of(notification("2026-12-03 14:30:00", 240_000), now).unwrap();
        assert_eq!(transfer.transferred_at.to_string(), "2026-12-03 07:30:00");
        assert_eq!(transfer.outcome, TransferOutcome::Exception, "until it pays an order");
    }

    #[test]
    fn a_bad_date_or_amount_is_refused_field_by_field() {
        let now = NaiveDateTime::default();
        let error = transfer_of(notification("03/12/2026 14:30", 0), now).unwrap_err();
        let fields: Vec<String> =
            error.problem(crate::error::Lang::En, None).errors.iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["transactionDate", "transferAmount"]);
    }
}
