//! Queries over bank transfers and the payment exceptions operators resolve.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{bank_transfers, orders, payment_exceptions};
use crate::domain::status::{
    DiscrepancyStatus, ExceptionResolution, PaymentExceptionKind, TransferDirection, TransferOutcome,
};
use crate::error::AppError;
use crate::with_conn;

/// A bank transfer as the notification service reported it.
#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = bank_transfers)]
pub struct NewTransfer {
    pub notification_id: i64,
    pub gateway: String,
    pub transferred_at: NaiveDateTime,
    pub account_number: String,
    pub content: String,
    pub direction: TransferDirection,
    pub amount_vnd: i64,
    pub reference_code: Option<String>,
    pub outcome: TransferOutcome,
    pub received_at: NaiveDateTime,
}

/// Stores a transfer the first time its notification comes: its id, or `None` when it was stored before.
/// On PostgreSQL a resend arriving while the first is being handled waits on the unique key, then finds it.
pub fn insert_transfer(conn: &mut Conn<'_>, transfer: &NewTransfer) -> Result<Option<i64>, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(bank_transfers::table)
        .values(transfer)
        .on_conflict(bank_transfers::notification_id)
        .do_nothing()
        .returning(bank_transfers::id)
        .get_result(c)
        .optional())?)
}

/// What became of the transfer of a notification stored before.
pub fn outcome_of(conn: &mut Conn<'_>, notification_id: i64) -> Result<TransferOutcome, AppError> {
    Ok(with_conn!(conn, |c| bank_transfers::table
        .filter(bank_transfers::notification_id.eq(notification_id))
        .select(bank_transfers::outcome)
        .first(c))?)
}

/// Records what a transfer turned out to be, and the order it paid or names.
pub fn set_outcome(
    conn: &mut Conn<'_>,
    transfer_id: i64,
    outcome: TransferOutcome,
    order_id: Option<i64>,
) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(bank_transfers::table.find(transfer_id))
        .set((bank_transfers::outcome.eq(outcome), bank_transfers::order_id.eq(order_id)))
        .execute(c))?;
    Ok(())
}

pub fn open_exception(
    conn: &mut Conn<'_>,
    transfer_id: i64,
    kind: PaymentExceptionKind,
    order_id: Option<i64>,
    expected_vnd: Option<i64>,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    let row = (
        payment_exceptions::transfer_id.eq(transfer_id),
        payment_exceptions::kind.eq(kind),
        payment_exceptions::order_id.eq(order_id),
        payment_exceptions::expected_vnd.eq(expected_vnd),
        payment_exceptions::status.eq(DiscrepancyStatus::Open),
        payment_exceptions::created_at.eq(now),
    );
    Ok(with_conn!(conn, |c| diesel::insert_into(payment_exceptions::table)
        .values(row)
        .returning(payment_exceptions::id)
        .get_result(c))?)
}

/// A payment exception with its transfer and the codes of the orders it names and paid.
#[derive(Queryable, Clone, Debug)]
pub struct ExceptionRow {
    pub id: i64,
    pub kind: PaymentExceptionKind,
    pub status: DiscrepancyStatus,
    pub order_id: Option<i64>,
    pub order_code: Option<String>,
    pub expected_vnd: Option<i64>,
    pub resolution: Option<ExceptionResolution>,
    pub applied_order_id: Option<i64>,
    pub refund_vnd: Option<i64>,
    pub note: Option<String>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub notification_id: i64,
    pub gateway: String,
    pub transferred_at: NaiveDateTime,
    pub content: String,
    pub amount_vnd: i64,
    pub reference_code: Option<String>,
}

macro_rules! exceptions_with_transfers {
    () => {
        payment_exceptions::table
            .inner_join(bank_transfers::table)
            .left_join(orders::table.on(orders::id.nullable().eq(payment_exceptions::order_id)))
            .select((
                payment_exceptions::id,
                payment_exceptions::kind,
                payment_exceptions::status,
                payment_exceptions::order_id,
                orders::code.nullable(),
                payment_exceptions::expected_vnd,
                payment_exceptions::resolution,
                payment_exceptions::applied_order_id,
                payment_exceptions::refund_vnd,
                payment_exceptions::note,
                payment_exceptions::resolved_by,
                payment_exceptions::resolved_at,
                payment_exceptions::created_at,
                bank_transfers::notification_id,
                bank_transfers::gateway,
                bank_transfers::transferred_at,
                bank_transfers::content,
                bank_transfers::amount_vnd,
                bank_transfers::reference_code,
            ))
    };
}

/// An exception as operators read it: with the code of the order its money paid, if it paid one.
pub struct Exception {
    pub row: ExceptionRow,
    pub applied_order_code: Option<String>,
}

/// The rows with the codes of the orders their money paid.
fn with_applied_codes(conn: &mut Conn<'_>, rows: Vec<ExceptionRow>) -> Result<Vec<Exception>, AppError> {
    let ids: Vec<i64> = rows.iter().filter_map(|row| row.applied_order_id).collect();
    let codes: Vec<(i64, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        with_conn!(conn, |c| orders::table.filter(orders::id.eq_any(&ids)).select((orders::id, orders::code)).load(c))?
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let code = codes.iter().find(|(id, _)| Some(*id) == row.applied_order_id).map(|(_, code)| code.clone());
            Exception { row, applied_order_code: code }
        })
        .collect())
}

/// Exceptions in one status, oldest first, `limit` from `offset`.
pub fn exceptions(
    conn: &mut Conn<'_>,
    status: DiscrepancyStatus,
    limit: i64,
    offset: i64,
) -> Result<Vec<Exception>, AppError> {
    let rows = with_conn!(conn, |c| exceptions_with_transfers!()
        .filter(payment_exceptions::status.eq(status))
        .order(payment_exceptions::id)
        .limit(limit)
        .offset(offset)
        .load(c))?;
    with_applied_codes(conn, rows)
}

pub fn exception(conn: &mut Conn<'_>, id: i64) -> Result<Option<Exception>, AppError> {
    let row =
        with_conn!(conn, |c| exceptions_with_transfers!().filter(payment_exceptions::id.eq(id)).first(c).optional())?;
    Ok(with_applied_codes(conn, row.into_iter().collect())?.pop())
}

/// How an operator resolved an exception.
pub struct Resolution<'a> {
    pub resolution: ExceptionResolution,
    pub applied_order_id: Option<i64>,
    pub refund_vnd: Option<i64>,
    pub note: Option<&'a str>,
    pub operator_id: i64,
}

/// Closes an open exception; `false` when it was resolved already (by a concurrent operator, say).
pub fn resolve(
    conn: &mut Conn<'_>,
    id: i64,
    resolution: &Resolution<'_>,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let open = payment_exceptions::table
        .filter(payment_exceptions::id.eq(id))
        .filter(payment_exceptions::status.eq(DiscrepancyStatus::Open));
    let updated = with_conn!(conn, |c| diesel::update(open)
        .set((
            payment_exceptions::status.eq(DiscrepancyStatus::Resolved),
            payment_exceptions::resolution.eq(resolution.resolution),
            payment_exceptions::applied_order_id.eq(resolution.applied_order_id),
            payment_exceptions::refund_vnd.eq(resolution.refund_vnd),
            payment_exceptions::note.eq(resolution.note),
            payment_exceptions::resolved_by.eq(resolution.operator_id),
            payment_exceptions::resolved_at.eq(now),
        ))
        .execute(c))?;
    Ok(updated == 1)
}
