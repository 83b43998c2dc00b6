//! What happens to an order after it is placed: farmers answer their shipments, buyers cancel, deadlines
//! pass. Stock goes back exactly once, and every change that tells someone something queues its email in the
//! same transaction.

use chrono::{Duration, NaiveDateTime};

use super::store::{self, OrderRow};
use crate::db::Conn;
use crate::domain::status::{OrderStatus, PaymentStatus, ShipmentStatus};
use crate::error::AppError;
use crate::fulfilment::rules::{self as fulfilment, OrderToShip};
use crate::mail::templates::{Template, lang_of};
use crate::outbox;

/// When a farmer's answer is due.
pub fn respond_by(now: NaiveDateTime, hours: u64) -> NaiveDateTime {
    now + Duration::hours(i64::try_from(hours).unwrap_or(24))
}

/// What fulfilment needs to know of an order to open its carrier jobs.
fn to_ship(order: &OrderRow) -> OrderToShip {
    OrderToShip {
        id: order.id,
        ward_code: order.ward_code,
        province_code: order.province_code,
        payment_method: order.payment_method,
        payable: order.status == OrderStatus::Placed,
        paid: order.payment_status == PaymentStatus::Paid,
    }
}

/// Opens the carrier jobs of the order's accepted shipments that can go (see `fulfilment::rules::open_jobs`).
pub fn open_jobs(conn: &mut Conn<'_>, order_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let order = store::order_by_id(conn, order_id)?;
    fulfilment::open_jobs(conn, &to_ship(&order), now)
}

/// Withdraws a shipment still waiting or accepted (refused once its parcel is with a carrier); its stock
/// goes back once. `false` when it was not in a state to withdraw.
fn withdraw(
    conn: &mut Conn<'_>,
    shipment_id: i64,
    from: &[ShipmentStatus],
    to: ShipmentStatus,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    // Refuses (and so rolls the whole change back) once the parcel is with a carrier.
    fulfilment::cancel_job(conn, shipment_id, now)?;
    if !store::move_shipment(conn, shipment_id, from, to, Some(reason), now)? {
        return Ok(false);
    }
    store::restore_stock(conn, shipment_id)?;
    Ok(true)
}

fn tell_buyer(
    conn: &mut Conn<'_>,
    order: &OrderRow,
    template: Template,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let mut values = vec![("name", order.buyer_name.as_str()), ("code", order.code.as_str())];
    values.extend(reason.map(|reason| ("reason", reason)));
    outbox::notify(conn, order.buyer_email.as_deref(), template, lang_of(&order.lang), &values, now)
}

/// A farmer accepts a waiting shipment; its carrier job opens if the order can ship. `false` when it was not
/// waiting.
pub fn accept_shipment(conn: &mut Conn<'_>, shipment_id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    if !store::move_shipment(conn, shipment_id, ShipmentStatus::WAITING, ShipmentStatus::Accepted, None, now)? {
        return Ok(false);
    }
    let (order_id, _, _) = store::shipment(conn, shipment_id)?.ok_or_else(AppError::not_found)?;
    open_jobs(conn, order_id, now)?;
    Ok(true)
}

/// A farmer turns a shipment down: its stock goes back (once) and the buyer is told.
pub fn reject_shipment(
    conn: &mut Conn<'_>,
    shipment_id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    if !withdraw(conn, shipment_id, ShipmentStatus::GOING_AHEAD, ShipmentStatus::Rejected, reason, now)? {
        return Ok(false);
    }
    let (order_id, _, _) = store::shipment(conn, shipment_id)?.ok_or_else(AppError::not_found)?;
    let order = store::order_by_id(conn, order_id)?;
    tell_buyer(conn, &order, Template::ShipmentRejected, Some(reason), now)?;
    Ok(true)
}

/// Cancels an order and every shipment not yet answered or accepted, putting their stock back once; 409 once
/// a parcel has been picked up, `false` when the order is cancelled already.
pub fn cancel_whole_order(
    conn: &mut Conn<'_>,
    order_id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let order = store::order_by_id(conn, order_id)?;
    if order.status != OrderStatus::Placed {
        return Ok(false);
    }
    for (id, ..) in store::order_shipments(conn, order_id)? {
        withdraw(conn, id, ShipmentStatus::GOING_AHEAD, ShipmentStatus::Cancelled, reason, now)?;
    }
    store::set_order_status(conn, order_id, OrderStatus::Cancelled, now)?;
    store::void_unpaid(conn, order_id, now)?;
    tell_buyer(conn, &order, Template::OrderCancelled, Some(reason), now)?;
    Ok(true)
}

/// What the maintenance loop did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expired {
    pub shipments: usize,
    pub orders: usize,
}

/// Cancels shipments nobody answered by their deadline and bank-transfer orders unpaid after
/// `unpaid_hours`, restoring stock. Each step is a conditional update, so several instances running it at
/// once still cancel (and restore) each thing once.
pub fn expire_due(conn: &mut Conn<'_>, now: NaiveDateTime, unpaid_hours: u64) -> Result<Expired, AppError> {
    let mut expired = Expired::default();
    for id in store::overdue_shipments(conn, now)? {
        let expired_reason = "farmer did not answer in time";
        if withdraw(conn, id, ShipmentStatus::WAITING, ShipmentStatus::Cancelled, expired_reason, now)? {
            expired.shipments += 1;
            let (order_id, _, _) = store::shipment(conn, id)?.ok_or_else(AppError::not_found)?;
            let order = store::order_by_id(conn, order_id)?;
            tell_buyer(conn, &order, Template::ShipmentExpired, None, now)?;
        }
    }
    let cutoff = now - Duration::hours(i64::try_from(unpaid_hours).unwrap_or(24));
    for id in store::unpaid_orders(conn, cutoff)? {
        if cancel_whole_order(conn, id, "chưa nhận được chuyển khoản", now)? {
            expired.orders += 1;
        }
    }
    Ok(expired)
}
