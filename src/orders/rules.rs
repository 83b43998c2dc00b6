//! What happens to an order after it is placed: farmers answer their shipments, buyers cancel, deadlines
//! pass, transfers arrive. Stock goes back exactly once, the order's status follows its shipments
//! (`progress`), a paid shipment that will not be delivered is owed back, and every change that tells someone
//! something queues its email in the same transaction.

use chrono::{Duration, NaiveDateTime};

use super::store::{self, OrderRow};
use crate::clock::in_vietnam;
use crate::db::Conn;
use crate::domain::money::format_vnd;
use crate::domain::quantity::Unit;
use crate::domain::status::{OrderStatus, PaymentStatus, ReasonCode, ShipmentStatus};
use crate::error::{AppError, Lang, Text};
use crate::fulfilment::rules::{self as fulfilment, OrderToShip};
use crate::mail::templates::{Template, lang_of};
use crate::outbox::{self, Person};
use crate::progress;

/// When a farmer's answer is due.
pub fn respond_by(now: NaiveDateTime, hours: u64) -> NaiveDateTime {
    now + Duration::hours(i64::try_from(hours).unwrap_or(24))
}

/// The deadline as the farmer reads it, in Vietnam time: `08:00 24/11`.
pub fn deadline_text(respond_by: NaiveDateTime) -> String {
    in_vietnam(respond_by).format("%H:%M %d/%m").to_string()
}

/// What a shipment holds, short enough for a text: `2 kg Sầu riêng Ri6, 1 quả Mít`.
pub fn items_summary(lines: &[(&str, &str, i64)]) -> String {
    let line = |(title, unit, quantity): &(&str, &str, i64)| {
        let unit = Unit::parse_code(unit).map_or("", Unit::name_vi);
        format!("{quantity} {unit} {title}").replace("  ", " ")
    };
    lines.iter().map(line).collect::<Vec<_>>().join(", ")
}

/// How the buyer of an order is reached: the phone every order has, and the email if they gave one.
pub fn buyer_of(order: &OrderRow) -> Person<'_> {
    Person { user_id: order.buyer_id, email: order.buyer_email.as_deref(), phone: Some(&order.buyer_phone) }
}

/// What fulfilment needs to know of an order to open its carrier jobs.
fn to_ship(order: &OrderRow) -> OrderToShip {
    OrderToShip {
        id: order.id,
        ward_code: order.ward_code,
        province_code: order.province_code,
        payment_method: order.payment_method,
        payable: order.status != OrderStatus::Cancelled,
        paid: order.payment_status == PaymentStatus::Paid,
    }
}

/// Opens the carrier jobs of the order's accepted shipments that can go (see `fulfilment::rules::open_jobs`).
pub fn open_jobs(conn: &mut Conn<'_>, order_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let order = store::order_by_id(conn, order_id)?;
    fulfilment::open_jobs(conn, &to_ship(&order), now)
}

/// Why a shipment is withdrawn: what the farmer typed, or a reason the system gave.
#[derive(Clone, Copy, Debug)]
pub enum Reason<'a> {
    Farmer(&'a str),
    System(ReasonCode),
}

/// A system reason in the reader's language.
pub fn reason_text(code: ReasonCode) -> Text {
    match code {
        ReasonCode::Expired => Text::new("người bán chưa xác nhận đúng hạn", "the seller did not answer in time"),
        ReasonCode::Unpaid => Text::new("chưa nhận được chuyển khoản", "the bank transfer did not arrive"),
        ReasonCode::BuyerCancelled => Text::new("theo yêu cầu của người mua", "at the buyer's request"),
    }
}

impl Reason<'_> {
    fn text(self, lang: Lang) -> String {
        match self {
            Reason::Farmer(text) => text.to_owned(),
            Reason::System(code) => reason_text(code).get(lang).to_owned(),
        }
    }
}

/// Withdraws a shipment in one of the states `from` (refused once its parcel is with a carrier): its stock
/// goes back once and, if it was paid for, its refund is owed. `false` when it was not in such a state.
fn withdraw(
    conn: &mut Conn<'_>,
    shipment_id: i64,
    from: &[ShipmentStatus],
    to: ShipmentStatus,
    reason: Reason<'_>,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    // Refuses (and so rolls the whole change back) once the parcel is with a carrier.
    fulfilment::cancel_job(conn, shipment_id, now)?;
    let (typed, code) = match reason {
        Reason::Farmer(text) => (Some(text), None),
        Reason::System(code) => (None, Some(code)),
    };
    if !store::move_shipment(conn, shipment_id, from, to, typed, code, now)? {
        return Ok(false);
    }
    store::restore_stock(conn, shipment_id)?;
    progress::refund_if_paid(conn, shipment_id, now)?;
    Ok(true)
}

/// The sentence of an email that says what happens to the money of what was withdrawn.
fn money_note(refund_vnd: i64, lang: Lang) -> String {
    let note = if refund_vnd > 0 {
        let amount = format_vnd(refund_vnd);
        Text::new(
            format!("Bạn đã thanh toán nên sẽ được hoàn lại {amount}."),
            format!("You have paid, so {amount} will be refunded to you."),
        )
    } else {
        Text::new("Bạn không phải trả tiền cho phần này.", "You do not pay for it.")
    };
    note.get(lang).to_owned()
}

/// Tells the buyer that shipments were withdrawn: `whole` when it ended the order, `partial` otherwise.
fn tell_buyer(
    conn: &mut Conn<'_>,
    order: &OrderRow,
    (whole, partial): (Template, Template),
    reason: Reason<'_>,
    refund_vnd: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let status = progress::refresh(conn, order.id, now)?;
    let template = if status == OrderStatus::Cancelled { whole } else { partial };
    let lang = lang_of(&order.lang);
    let (reason, money) = (reason.text(lang), money_note(refund_vnd, lang));
    let values = [("name", order.buyer_name.as_str()), ("code", &order.code), ("reason", &reason), ("money", &money)];
    outbox::notify(conn, buyer_of(order), template, lang, &values, now)
}

/// The refund just recorded for a shipment, if any.
fn refunded(conn: &mut Conn<'_>, shipment_id: i64) -> Result<i64, AppError> {
    Ok(store::refund_of(conn, shipment_id)?.map_or(0, |refund| refund.amount_vnd))
}

/// A farmer accepts a waiting shipment; its carrier job opens if the order can ship, and the buyer is told.
/// `false` when it was not waiting.
pub fn accept_shipment(conn: &mut Conn<'_>, shipment_id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    let accepted = ShipmentStatus::Accepted;
    if !store::move_shipment(conn, shipment_id, ShipmentStatus::WAITING, accepted, None, None, now)? {
        return Ok(false);
    }
    let (order_id, _, _) = store::shipment(conn, shipment_id)?.ok_or_else(AppError::not_found)?;
    open_jobs(conn, order_id, now)?;
    progress::refresh(conn, order_id, now)?;
    let order = store::order_by_id(conn, order_id)?;
    let values = [("name", order.buyer_name.as_str()), ("code", order.code.as_str())];
    outbox::notify(conn, buyer_of(&order), Template::ShipmentAccepted, lang_of(&order.lang), &values, now)?;
    Ok(true)
}

/// A farmer turns a shipment down: its stock goes back (once), a payment for it is owed back, and the buyer
/// is told whether that was part of the order or all of it.
pub fn reject_shipment(
    conn: &mut Conn<'_>,
    shipment_id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let reason = Reason::Farmer(reason);
    if !withdraw(conn, shipment_id, ShipmentStatus::GOING_AHEAD, ShipmentStatus::Rejected, reason, now)? {
        return Ok(false);
    }
    let (order_id, _, _) = store::shipment(conn, shipment_id)?.ok_or_else(AppError::not_found)?;
    let order = store::order_by_id(conn, order_id)?;
    let refund = refunded(conn, shipment_id)?;
    let templates = (Template::OrderRejected, Template::ShipmentRejected);
    tell_buyer(conn, &order, templates, reason, refund, now)?;
    Ok(true)
}

/// Whether the buyer (or the unpaid-transfer timer) may try to cancel: not when it is cancelled already. A
/// parcel already with a carrier (or delivered) makes the cancellation fail with 409 `already_picked_up`
/// (`fulfilment::rules::cancel_job`).
pub fn cancellable(status: OrderStatus) -> bool {
    status != OrderStatus::Cancelled
}

/// Cancels an order and every shipment not yet answered or accepted, putting their stock back once and
/// owing back what was paid; 409 once a parcel has been picked up. Returns how many shipments were cancelled,
/// or `None` when the order cannot be cancelled any more.
pub fn cancel_whole_order(
    conn: &mut Conn<'_>,
    order_id: i64,
    code: ReasonCode,
    now: NaiveDateTime,
) -> Result<Option<usize>, AppError> {
    let order = store::order_to_change(conn, order_id)?;
    if !cancellable(order.status) {
        return Ok(None);
    }
    let (reason, mut cancelled, mut refund) = (Reason::System(code), 0, 0);
    for shipment in store::order_shipments(conn, order_id)? {
        if withdraw(conn, shipment.id, ShipmentStatus::GOING_AHEAD, ShipmentStatus::Cancelled, reason, now)? {
            cancelled += 1;
            refund += refunded(conn, shipment.id)?;
            // The farmer stops preparing it.
            let farmer = store::farmer_contact(conn, shipment.farmer_id)?;
            let reason = reason.text(Lang::Vi);
            let values = [("code", order.code.as_str()), ("reason", reason.as_str())];
            outbox::notify(conn, farmer.person(), Template::FarmerOrderCancelled, Lang::Vi, &values, now)?;
        }
    }
    let templates = (Template::OrderCancelled, Template::OrderCancelled);
    tell_buyer(conn, &order, templates, reason, refund, now)?;
    Ok(Some(cancelled))
}

/// What the maintenance loop did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Shipments cancelled, for either reason.
    pub shipments: usize,
    /// Bank-transfer orders cancelled because the money did not arrive.
    pub orders: usize,
}

/// Cancels bank-transfer orders unpaid after `unpaid_hours`, then shipments nobody answered by their
/// deadline, restoring stock. Each step is a conditional update, so several instances running it at once
/// still cancel (and restore) each thing once.
pub fn expire_due(conn: &mut Conn<'_>, now: NaiveDateTime, unpaid_hours: u64) -> Result<Expired, AppError> {
    let mut expired = Expired::default();
    let cutoff = now - Duration::hours(i64::try_from(unpaid_hours).unwrap_or(24));
    for id in store::unpaid_orders(conn, cutoff)? {
        // A transfer matched since the list was read wins: the order is locked and read again.
        if store::order_to_change(conn, id)?.payment_status != PaymentStatus::AwaitingTransfer {
            continue;
        }
        if let Some(shipments) = cancel_whole_order(conn, id, ReasonCode::Unpaid, now)? {
            expired.orders += 1;
            expired.shipments += shipments;
        }
    }
    let reason = Reason::System(ReasonCode::Expired);
    for id in store::overdue_shipments(conn, now)? {
        if withdraw(conn, id, ShipmentStatus::WAITING, ShipmentStatus::Cancelled, reason, now)? {
            expired.shipments += 1;
            let (order_id, _, _) = store::shipment(conn, id)?.ok_or_else(AppError::not_found)?;
            let order = store::order_by_id(conn, order_id)?;
            let (templates, refund) = ((Template::OrderExpired, Template::ShipmentExpired), refunded(conn, id)?);
            tell_buyer(conn, &order, templates, reason, refund, now)?;
        }
    }
    Ok(expired)
}

/// An operator records that the transfer of an order arrived: its accepted shipments can ship now.
/// `false` when it was not awaiting one.
pub fn mark_paid(conn: &mut Conn<'_>, order: &OrderRow, now: NaiveDateTime) -> Result<bool, AppError> {
    if !store::mark_paid(conn, order.id, now)? {
        return Ok(false);
    }
    open_jobs(conn, order.id, now)?;
    let values = [("name", order.buyer_name.as_str()), ("code", order.code.as_str())];
    let lang = lang_of(&order.lang);
    outbox::notify(conn, buyer_of(order), Template::PaymentReceived, lang, &values, now)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_order_cannot_be_cancelled_again() {
        for status in OrderStatus::ALL {
            assert_eq!(cancellable(*status), *status != OrderStatus::Cancelled, "{status:?}");
        }
    }

    #[test]
    fn emails_say_what_happens_to_the_money() {
        assert_eq!(money_note(240_000, Lang::Vi), "Bạn đã thanh toán nên sẽ được hoàn lại 240.000đ.");
        assert_eq!(money_note(0, Lang::En), "You do not pay for it.");
        assert_eq!(Reason::System(ReasonCode::Unpaid).text(Lang::En), "the bank transfer did not arrive");
        assert_eq!(Reason::Farmer("hết hàng").text(Lang::En), "hết hàng");
    }
}
