//! Queries of the messages capability: replies received, farmers by phone, shipments waiting for an answer,
//! the helpers' changes for the daily digest, the in-app list.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{audit_log, notifications, orders, shipments, sms_inbound, users};
use crate::domain::status::{AuditAction, ReplyOutcome, Role, ShipmentStatus};
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

/// `(farmer, helper)` for each change a helper made for a farmer in `(from, until]` (looks at their pages are
/// in the farmer's audit list, not in the digest), for farmers whose digest up to `until` is not yet sent.
pub fn helper_changes(
    conn: &mut Conn<'_>,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Vec<(i64, i64)>, AppError> {
    let undigested =
        users::table.filter(users::digest_through.is_null().or(users::digest_through.lt(until))).select(users::id);
    Ok(with_conn!(conn, |c| audit_log::table
        .filter(audit_log::created_at.gt(from))
        .filter(audit_log::created_at.le(until))
        .filter(audit_log::actor_id.ne(audit_log::farmer_id))
        .filter(audit_log::action.eq_any(AuditAction::CHANGES))
        .filter(audit_log::farmer_id.eq_any(undigested))
        .order(audit_log::id)
        .select((audit_log::farmer_id, audit_log::actor_id))
        .load(c))?)
}

/// Claims a farmer's digest up to `until`; `false` when another instance sent it first.
pub fn claim_digest(conn: &mut Conn<'_>, farmer_id: i64, until: NaiveDateTime) -> Result<bool, AppError> {
    let target =
        users::table.find(farmer_id).filter(users::digest_through.is_null().or(users::digest_through.lt(until)));
    Ok(with_conn!(conn, |c| diesel::update(target).set(users::digest_through.eq(until)).execute(c))? == 1)
}

/// The names of some people, in the order of their ids.
pub fn names_of(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<String>, AppError> {
    let query = users::table.filter(users::id.eq_any(ids)).order(users::id).select(users::name);
    Ok(with_conn!(conn, |c| query.load(c))?)
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
    Ok((items, unread(conn, user_id)?))
}

/// How many of a person's notifications are unread.
pub fn unread(conn: &mut Conn<'_>, user_id: i64) -> Result<i64, AppError> {
    let unread =
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null());
    Ok(with_conn!(conn, |c| unread.count().get_result(c))?)
}

/// Marks every unread notification of a person read.
pub fn mark_read(conn: &mut Conn<'_>, user_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let unread =
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null());
    with_conn!(conn, |c| diesel::update(unread).set(notifications::read_at.eq(now)).execute(c))?;
    Ok(())
}
