//! What a bank transfer does: it pays the order its memo names when the amount is exactly what the order
//! awaits, and anything else waits in the exceptions list, the order unchanged, until an operator applies
//! the money to an order, records a refund owed to the payer, or closes it with a note.

use actix_web::web;
use chrono::NaiveDateTime;

use super::matching;
use super::store::{self, Exception, ExceptionRow, NewTransfer, Resolution};
use crate::admin::store::{self as audit, Act};
use crate::db::Conn;
use crate::domain::status::{
    DiscrepancyStatus, ExceptionResolution, OperatorAction, OperatorSubject, PaymentExceptionKind, PaymentMethod,
    PaymentStatus, TransferDirection, TransferOutcome,
};
use crate::domain::text::{Lines, typed_text};
use crate::error::{AppError, Kind, Text};
use crate::http::Page;
use crate::orders::codes;
use crate::orders::rules::mark_paid;
use crate::orders::store::{self as orders, OrderRow};
use crate::progress;
use crate::state::AppState;

/// Where a transfer goes.
enum Verdict {
    /// It pays this order (locked), exactly.
    Pays(OrderRow),
    Exception {
        kind: PaymentExceptionKind,
        order_id: Option<i64>,
        expected_vnd: Option<i64>,
    },
}

fn unmatched() -> Verdict {
    Verdict::Exception { kind: PaymentExceptionKind::Unmatched, order_id: None, expected_vnd: None }
}

/// What `amount_vnd` does to an order its verified code names, read locked so that the unpaid-order expiry or
/// a cancellation either finished before (the transfer is late) or waits for this to finish.
fn judge(conn: &mut Conn<'_>, order_id: i64, amount_vnd: i64) -> Result<Verdict, AppError> {
    let order = orders::order_to_change(conn, order_id)?;
    let exception = |kind, expected_vnd| Verdict::Exception { kind, order_id: Some(order_id), expected_vnd };
    if order.payment_method != PaymentMethod::BankTransfer {
        return Ok(exception(PaymentExceptionKind::Unmatched, None));
    }
    Ok(match order.payment_status {
        PaymentStatus::Paid => exception(PaymentExceptionKind::Duplicate, None),
        PaymentStatus::Void => exception(PaymentExceptionKind::Late, None),
        PaymentStatus::Cod => exception(PaymentExceptionKind::Unmatched, None),
        PaymentStatus::AwaitingTransfer => {
            let due = progress::due_of_order(conn, order_id, order.payment_status)?;
            if amount_vnd == due {
                Verdict::Pays(order)
            } else if amount_vnd < due {
                exception(PaymentExceptionKind::Partial, Some(due))
            } else {
                exception(PaymentExceptionKind::Excess, Some(due))
            }
        }
    })
}

/// The order a memo and an amount name (`payments::matching` has the rule).
fn verdict(conn: &mut Conn<'_>, memo: &str, amount_vnd: i64) -> Result<Verdict, AppError> {
    let found = matching::codes_in(memo);
    for code in &found.whole {
        if let Some(order) = orders::order_by_code(conn, code)? {
            return judge(conn, order.id, amount_vnd);
        }
    }
    for prefix in &found.cut {
        let mut exact = Vec::new();
        for order in orders::awaiting_transfer_by_code_prefix(conn, prefix)? {
            if progress::due_of_order(conn, order.id, order.payment_status)? == amount_vnd {
                exact.push(order.id);
            }
        }
        if let [order_id] = exact[..] {
            // Read again, locked: only a payment that is still exact goes through.
            return Ok(match judge(conn, order_id, amount_vnd)? {
                pays @ Verdict::Pays(_) => pays,
                Verdict::Exception { .. } => unmatched(),
            });
        }
    }
    Ok(unmatched())
}

/// Stores a notified transfer and does what it says, once: a resend of the same notification changes nothing
/// and answers what the first did.
pub fn receive(conn: &mut Conn<'_>, transfer: &NewTransfer, now: NaiveDateTime) -> Result<TransferOutcome, AppError> {
    let Some(transfer_id) = store::insert_transfer(conn, transfer)? else {
        return store::outcome_of(conn, transfer.notification_id);
    };
    if transfer.direction == TransferDirection::Out {
        return Ok(transfer.outcome);
    }
    match verdict(conn, &transfer.content, transfer.amount_vnd)? {
        Verdict::Pays(order) => {
            if !mark_paid(conn, &order, now)? {
                // The order was read locked and awaiting: this cannot happen, and must not pass silently.
                return Err(AppError::internal(anyhow::anyhow!("order {} not paid after matching", order.id)));
            }
            store::set_outcome(conn, transfer_id, TransferOutcome::Paid, Some(order.id))?;
            Ok(TransferOutcome::Paid)
        }
        Verdict::Exception { kind, order_id, expected_vnd } => {
            store::set_outcome(conn, transfer_id, TransferOutcome::Exception, order_id)?;
            store::open_exception(conn, transfer_id, kind, order_id, expected_vnd, now)?;
            Ok(TransferOutcome::Exception)
        }
    }
}

const NOTE_MAX: usize = 500;

/// What an operator asks to do with an exception.
pub struct Resolve {
    pub action: ExceptionResolution,
    /// The order the money pays (`apply`); by default the order the exception names.
    pub order_code: Option<String>,
    pub note: Option<String>,
    pub operator_id: i64,
}

fn conflict(code: &'static str, text: Text) -> AppError {
    AppError::new(Kind::Conflict, code, text)
}

/// The order the money of an exception is applied to, and what of it is owed back: 409 unless that order
/// awaits a transfer the amount covers.
fn apply_to(
    conn: &mut Conn<'_>,
    exception: &ExceptionRow,
    order_code: Option<&str>,
    now: NaiveDateTime,
) -> Result<(i64, i64), AppError> {
    let order_id = match order_code {
        Some(typed) => {
            let code = codes::normalise_order_code(typed).ok_or_else(no_such_order)?;
            orders::order_by_code(conn, &code)?.ok_or_else(no_such_order)?.id
        }
        None => exception.order_id.ok_or_else(|| {
            AppError::invalid_field(
                "order_code",
                "required",
                Text::new("Hãy ghi mã đơn được trả bằng khoản tiền này.", "Say which order this money pays."),
            )
        })?,
    };
    let order = orders::order_to_change(conn, order_id)?;
    let awaiting =
        order.payment_method == PaymentMethod::BankTransfer && order.payment_status == PaymentStatus::AwaitingTransfer;
    if !awaiting {
        return Err(conflict(
            "not_awaiting_transfer",
            Text::new("Đơn này không chờ chuyển khoản.", "This order is not awaiting a transfer."),
        ));
    }
    let due = progress::due_of_order(conn, order_id, order.payment_status)?;
    if exception.amount_vnd < due {
        return Err(conflict(
            "amount_short",
            Text::new(
                "Số tiền chuyển ít hơn số tiền đơn còn phải trả.",
                "The amount transferred is less than the order still owes.",
            ),
        ));
    }
    if !mark_paid(conn, &order, now)? {
        return Err(AppError::internal(anyhow::anyhow!("order {order_id} not paid while locked and awaiting")));
    }
    Ok((order_id, exception.amount_vnd - due))
}

fn already_resolved() -> AppError {
    conflict("already_resolved", Text::new("Khoản này đã được xử lý.", "This exception is resolved already."))
}

fn no_such_order() -> AppError {
    AppError::invalid_field(
        "order_code",
        "unknown_order",
        Text::new("Không có đơn nào mang mã này.", "No order has this code."),
    )
}

/// Resolves an open exception, in the operators' audit log: `apply` pays an order with the money (what is
/// beyond what it owed is a refund owed to the payer), `refund` records the whole amount as owed back to the
/// payer, `ignore` closes it with the note. 404 when there is none, 409 when it is resolved already.
pub fn resolve(conn: &mut Conn<'_>, id: i64, resolve: &Resolve, now: NaiveDateTime) -> Result<Exception, AppError> {
    let exception = store::exception(conn, id)?.ok_or_else(AppError::not_found)?.row;
    if exception.status == DiscrepancyStatus::Resolved {
        return Err(already_resolved());
    }
    let (applied_order_id, refund_vnd) = match resolve.action {
        ExceptionResolution::Apply => {
            let (order_id, refund) = apply_to(conn, &exception, resolve.order_code.as_deref(), now)?;
            (Some(order_id), Some(refund))
        }
        ExceptionResolution::Refund => (None, Some(exception.amount_vnd)),
        ExceptionResolution::Ignore => (None, None),
    };
    let resolution = Resolution {
        resolution: resolve.action,
        applied_order_id,
        refund_vnd,
        note: resolve.note.as_deref(),
        operator_id: resolve.operator_id,
    };
    // Conditional on being open, so of two operators at once one wins and the other is told (and rolled back).
    if !store::resolve(conn, id, &resolution, now)? {
        return Err(already_resolved());
    }
    let reason = match &resolve.note {
        Some(note) => format!("{}: {note}", resolve.action),
        None => resolve.action.to_string(),
    };
    let act = Act {
        operator_id: resolve.operator_id,
        action: OperatorAction::ResolvePaymentException,
        subject: OperatorSubject::PaymentException,
        subject_id: id,
        reason: &reason,
    };
    audit::record(conn, &act, now)?;
    store::exception(conn, id)?.ok_or_else(AppError::not_found)
}

/// Exceptions in one status, a page of them (one more than the page, for `Page::finish`).
pub async fn exceptions(
    state: &web::Data<AppState>,
    status: DiscrepancyStatus,
    page: Page,
) -> Result<Vec<Exception>, AppError> {
    state.db.read(move |conn| store::exceptions(conn, status, page.fetch_limit(), page.offset)).await
}

/// [`resolve`] in a transaction of its own, its note checked first; the exception as it is now.
pub async fn resolve_exception(
    state: &web::Data<AppState>,
    id: i64,
    mut resolve: Resolve,
) -> Result<Exception, AppError> {
    resolve.note = typed_text("note", resolve.note.as_deref(), NOTE_MAX, Lines::Many)?;
    let now = state.clock.now();
    state.db.write(move |conn| self::resolve(conn, id, &resolve, now)).await
}
