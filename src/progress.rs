//! Where an order stands, from its shipments and their deliveries: its status, what the buyer still owes,
//! and the refunds owed when paid-for goods will not arrive. Orders (answers, cancellations, expiry,
//! payments) and fulfilment (carriers' reports) both move shipments; both call in here in the same
//! transaction, so the stored status is always current and neither capability imports the other for it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{fulfilment_jobs, orders, refunds, shipments};
use crate::domain::status::{JobStatus, OrderStatus, PaymentStatus, RefundStatus, ShipmentStatus};
use crate::error::AppError;
use crate::with_conn;

/// Where one shipment is, as far as the buyer and the money are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The farmer has not answered yet.
    Waiting,
    /// Accepted; not with a carrier yet.
    Confirmed,
    /// With a carrier.
    OnTheWay,
    Delivered,
    /// It left the farm but will not arrive: returned, lost or damaged.
    Undelivered,
    /// Rejected by the farmer, cancelled, or expired.
    Withdrawn,
}

impl Part {
    pub fn of(shipment: ShipmentStatus, job: Option<JobStatus>) -> Part {
        use JobStatus::*;
        match (shipment, job) {
            (ShipmentStatus::Pending, _) => Part::Waiting,
            (ShipmentStatus::Rejected | ShipmentStatus::Cancelled, _) => Part::Withdrawn,
            (ShipmentStatus::Accepted, None | Some(Available | Claimed | PickupFailed | Cancelled)) => Part::Confirmed,
            (ShipmentStatus::Accepted, Some(PickedUp | InTransit | OutForDelivery | DeliveryFailed | Returning)) => {
                Part::OnTheWay
            }
            (ShipmentStatus::Accepted, Some(Delivered)) => Part::Delivered,
            (ShipmentStatus::Accepted, Some(Returned | Lost | Damaged)) => Part::Undelivered,
        }
    }

    /// It will never reach the buyer.
    pub fn ended_undelivered(self) -> bool {
        matches!(self, Part::Withdrawn | Part::Undelivered)
    }
}

/// The order's status from its shipments (see `OrderStatus` for what each means).
pub fn order_status(parts: &[Part]) -> OrderStatus {
    let going: Vec<Part> = parts.iter().copied().filter(|part| !part.ended_undelivered()).collect();
    if going.is_empty() {
        OrderStatus::Cancelled
    } else if going.contains(&Part::Waiting) {
        OrderStatus::Placed
    } else if going.iter().all(|part| *part == Part::Delivered) {
        if going.len() == parts.len() { OrderStatus::Completed } else { OrderStatus::PartlyCancelled }
    } else if going.iter().any(|part| matches!(part, Part::OnTheWay | Part::Delivered)) {
        OrderStatus::InDelivery
    } else {
        OrderStatus::Confirmed
    }
}

/// What the buyer still has to pay, given each shipment's part and price (goods + fee): cash on delivery
/// for what has not arrived yet, or the transfer for everything still going ahead; nothing once paid or void.
pub fn due_vnd(payment: PaymentStatus, shipments: &[(Part, i64)]) -> i64 {
    let owed =
        |counts: fn(Part) -> bool| shipments.iter().filter(|(part, _)| counts(*part)).map(|(_, amount)| amount).sum();
    match payment {
        PaymentStatus::Cod => owed(|part| matches!(part, Part::Waiting | Part::Confirmed | Part::OnTheWay)),
        PaymentStatus::AwaitingTransfer => owed(|part| !part.ended_undelivered()),
        PaymentStatus::Paid | PaymentStatus::Void => 0,
    }
}

/// A shipment's part and price (goods + fee), with its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShipmentPart {
    pub id: i64,
    pub part: Part,
    pub amount_vnd: i64,
}

/// The shipments of an order, each with its delivery's state.
pub fn shipment_parts(conn: &mut Conn<'_>, order_id: i64) -> Result<Vec<ShipmentPart>, AppError> {
    let rows: Vec<(i64, ShipmentStatus, Option<JobStatus>, i64, i64)> = with_conn!(conn, |c| shipments::table
        .left_join(fulfilment_jobs::table)
        .filter(shipments::order_id.eq(order_id))
        .order(shipments::id)
        .select((
            shipments::id,
            shipments::status,
            fulfilment_jobs::status.nullable(),
            shipments::items_total_vnd,
            shipments::fee_vnd,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(id, shipment, job, items, fee)| ShipmentPart {
            id,
            part: Part::of(shipment, job),
            amount_vnd: items.saturating_add(fee),
        })
        .collect())
}

/// What the buyer of an order still has to pay (`due_vnd`), from its stored shipments.
pub fn due_of_order(conn: &mut Conn<'_>, order_id: i64, payment: PaymentStatus) -> Result<i64, AppError> {
    let parts: Vec<(Part, i64)> =
        shipment_parts(conn, order_id)?.into_iter().map(|shipment| (shipment.part, shipment.amount_vnd)).collect();
    Ok(due_vnd(payment, &parts))
}

/// Stores the order's status as its shipments now make it, and voids the payment asked of an order nothing of
/// which will be delivered. Returns the status.
pub fn refresh(conn: &mut Conn<'_>, order_id: i64, now: NaiveDateTime) -> Result<OrderStatus, AppError> {
    let parts: Vec<Part> = shipment_parts(conn, order_id)?.into_iter().map(|s| s.part).collect();
    let status = order_status(&parts);
    with_conn!(conn, |c| diesel::update(orders::table.find(order_id).filter(orders::status.ne(status)))
        .set((orders::status.eq(status), orders::updated_at.eq(now)))
        .execute(c))?;
    if status == OrderStatus::Cancelled {
        let unpaid = [PaymentStatus::Cod, PaymentStatus::AwaitingTransfer];
        with_conn!(conn, |c| diesel::update(
            orders::table.find(order_id).filter(orders::payment_status.eq_any(unpaid))
        )
        .set((orders::payment_status.eq(PaymentStatus::Void), orders::updated_at.eq(now)))
        .execute(c))?;
    }
    Ok(status)
}

/// Records the refund owed for a shipment that will not be delivered, if its order was paid: its goods and
/// fee, once (one refund per shipment). Returns the amount when a refund was recorded now.
pub fn refund_if_paid(conn: &mut Conn<'_>, shipment_id: i64, now: NaiveDateTime) -> Result<Option<i64>, AppError> {
    let (order_id, payment, items, fee): (i64, PaymentStatus, i64, i64) = with_conn!(conn, |c| shipments::table
        .inner_join(orders::table)
        .filter(shipments::id.eq(shipment_id))
        .select((orders::id, orders::payment_status, shipments::items_total_vnd, shipments::fee_vnd))
        .first(c))?;
    if payment != PaymentStatus::Paid {
        return Ok(None);
    }
    let amount = items.saturating_add(fee);
    let row = (
        refunds::order_id.eq(order_id),
        refunds::shipment_id.eq(shipment_id),
        refunds::amount_vnd.eq(amount),
        refunds::status.eq(RefundStatus::Owed),
        refunds::created_at.eq(now),
    );
    let inserted = with_conn!(conn, |c| diesel::insert_into(refunds::table)
        .values(row)
        .on_conflict(refunds::shipment_id)
        .do_nothing()
        .execute(c))?;
    Ok((inserted == 1).then_some(amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Part::*;

    #[test]
    fn shipments_become_parts() {
        use JobStatus as J;
        let cases = [
            (ShipmentStatus::Pending, None, Waiting),
            (ShipmentStatus::Rejected, None, Withdrawn),
            (ShipmentStatus::Cancelled, Some(J::Cancelled), Withdrawn),
            (ShipmentStatus::Accepted, None, Confirmed),
            (ShipmentStatus::Accepted, Some(J::Claimed), Confirmed),
            (ShipmentStatus::Accepted, Some(J::PickupFailed), Confirmed),
            (ShipmentStatus::Accepted, Some(J::InTransit), OnTheWay),
            (ShipmentStatus::Accepted, Some(J::DeliveryFailed), OnTheWay),
            (ShipmentStatus::Accepted, Some(J::Delivered), Delivered),
            (ShipmentStatus::Accepted, Some(J::Returned), Undelivered),
            (ShipmentStatus::Accepted, Some(J::Lost), Undelivered),
        ];
        for (shipment, job, part) in cases {
            assert_eq!(Part::of(shipment, job), part, "{shipment:?} {job:?}");
        }
    }

    #[test]
    fn an_order_follows_its_shipments_to_the_end() {
        let cases: &[(&[Part], OrderStatus)] = &[
            (&[Waiting], OrderStatus::Placed),
            (&[Waiting, Confirmed], OrderStatus::Placed),
            (&[Waiting, Withdrawn], OrderStatus::Placed),
            (&[Confirmed, Confirmed], OrderStatus::Confirmed),
            (&[Confirmed, Withdrawn], OrderStatus::Confirmed),
            (&[Confirmed, OnTheWay], OrderStatus::InDelivery),
            (&[Delivered, Confirmed], OrderStatus::InDelivery),
            (&[Delivered, Delivered], OrderStatus::Completed),
            (&[Delivered, Withdrawn], OrderStatus::PartlyCancelled),
            (&[Delivered, Undelivered], OrderStatus::PartlyCancelled),
            (&[Withdrawn, Withdrawn], OrderStatus::Cancelled),
            (&[Undelivered], OrderStatus::Cancelled),
        ];
        for (parts, status) in cases {
            assert_eq!(order_status(parts), *status, "{parts:?}");
        }
    }

    #[test]
    fn what_is_due_depends_on_how_the_buyer_pays() {
        let shipments = [(Waiting, 100), (Delivered, 200), (Withdrawn, 400), (OnTheWay, 800)];
        assert_eq!(due_vnd(PaymentStatus::Cod, &shipments), 900, "delivered parcels were paid at the door");
        assert_eq!(due_vnd(PaymentStatus::AwaitingTransfer, &shipments), 1_100, "withdrawn ones are not asked");
        assert_eq!(due_vnd(PaymentStatus::Paid, &shipments), 0);
        assert_eq!(due_vnd(PaymentStatus::Void, &shipments), 0);
    }
}
