//! Queries of the messages capability: replies received, farmers by phone, shipments waiting for an answer,
//! the in-app list.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{notifications, orders, shipments, sms_inbound, users};
use crate::domain::status::{ReplyOutcome, Role, ShipmentStatus};
use crate::error::AppError;
use crate::with_conn;

/// Records a reply by its gateway id; `false` when that id was received before (a replay or a retry).
pub fn record_inbound(
    conn: &mut Conn<'_>,
    gateway_id: &str,
    sender: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let row = (
        sms_inbound::gateway_id.eq(gateway_id),
        sms_inbound::sender.eq(sender),
        sms_inbound::outcome.eq(ReplyOutcome::Received),
        sms_inbound::received_at.eq(now),
    );
    let inserted =
        with_conn!(conn, |c| diesel::insert_into(sms_inbound::table).values(row).on_conflict_do_nothing().execute(c))?;
    Ok(inserted == 1)
}

/// What became of a reply, kept with it.
pub fn set_outcome(conn: &mut Conn<'_>, gateway_id: &str, outcome: ReplyOutcome) -> Result<(), AppError> {
    let target = sms_inbound::table.find(gateway_id);
    with_conn!(conn, |c| diesel::update(target).set(sms_inbound::outcome.eq(outcome)).execute(c))?;
    Ok(())
}

/// The farmer whose account has this phone (E.164).
pub fn farmer_by_phone(conn: &mut Conn<'_>, phone: &str) -> Result<Option<i64>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::phone.eq(phone))
        .filter(users::role.eq(Role::Farmer))
        .select(users::id)
        .first(c)
        .optional())?)
}

/// One shipment waiting for its farmer's answer.
#[derive(Queryable, Debug)]
pub struct Waiting {
    pub shipment_id: i64,
    pub farmer_id: i64,
    pub order_code: String,
    pub respond_by: NaiveDateTime,
}

/// The farmer's shipments waiting for an answer, the most urgent first.
pub fn waiting_shipments(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Vec<Waiting>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(orders::table)
        .filter(shipments::farmer_id.eq(farmer_id))
        .filter(shipments::status.eq_any(ShipmentStatus::WAITING))
        .order((shipments::respond_by, shipments::id))
        .select((shipments::id, shipments::farmer_id, orders::code, shipments::respond_by))
        .load(c))?)
}

/// Waiting shipments due by `until` (and not yet overdue) whose farmer has not been reminded.
pub fn unreminded(conn: &mut Conn<'_>, now: NaiveDateTime, until: NaiveDateTime) -> Result<Vec<Waiting>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(orders::table)
        .filter(shipments::status.eq_any(ShipmentStatus::WAITING))
        .filter(shipments::reminded_at.is_null())
        .filter(shipments::respond_by.gt(now))
        .filter(shipments::respond_by.le(until))
        .order(shipments::id)
        .select((shipments::id, shipments::farmer_id, orders::code, shipments::respond_by))
        .limit(500)
        .load(c))?)
}

/// Marks a shipment's farmer reminded; `false` when another instance did it first.
pub fn mark_reminded(conn: &mut Conn<'_>, shipment_id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    let target = shipments::table.find(shipment_id).filter(shipments::reminded_at.is_null());
    Ok(with_conn!(conn, |c| diesel::update(target).set(shipments::reminded_at.eq(now)).execute(c))? == 1)
}

/// One line of a person's in-app list.
#[derive(Queryable)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub text: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// A person's newest notifications (up to `limit`) and how many are unread in all.
pub fn notifications(conn: &mut Conn<'_>, user_id: i64, limit: i64) -> Result<(Vec<NotificationRow>, i64), AppError> {
    let items = with_conn!(conn, |c| notifications::table
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::id.desc())
        .select((
            notifications::id,
            notifications::kind,
            notifications::text,
            notifications::created_at,
            notifications::read_at,
        ))
        .limit(limit)
        .load(c))?;
    let unread =
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null());
    let unread = with_conn!(conn, |c| unread.count().get_result(c))?;
    Ok((items, unread))
}

/// Marks every unread notification of a person read.
pub fn mark_read(conn: &mut Conn<'_>, user_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let unread =
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null());
    with_conn!(conn, |c| diesel::update(unread).set(notifications::read_at.eq(now)).execute(c))?;
    Ok(())
}
