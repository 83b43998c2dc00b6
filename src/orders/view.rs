//! An order as its buyer sees it (and, one shipment of it, as its farmer sees it): shipments, lines, the
//! delivery timeline and what is left to pay.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::rules::reason_text;
use super::store::{self, OrderRow, RefundRow};
use super::vietqr;
use crate::config::Settings;
use crate::db::Conn;
use crate::domain::status::{OrderStatus, PaymentMethod, PaymentStatus, ReasonCode, RefundStatus, ShipmentStatus};
use crate::error::{AppError, Lang};
use crate::fulfilment::rules::{Delivery, deliveries};
use crate::listings::FarmerRef;
use crate::progress::{self, Part};
use crate::reference::PlaceRef;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct OrderLine {
    pub listing_id: i64,
    pub title: String,
    pub unit: String,
    pub price_vnd: i64,
    pub quantity: i64,
    pub line_total_vnd: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Shipment {
    pub id: i64,
    pub farmer: FarmerRef,
    /// `pending` (waiting for the farmer), `accepted`, `rejected`, `cancelled`.
    pub status: ShipmentStatus,
    pub weight_g: i64,
    pub items_total_vnd: i64,
    pub fee_vnd: i64,
    /// Why it was rejected or cancelled, in the reader's language (a farmer's own words as typed).
    pub reject_reason: Option<String>,
    /// Set when the system withdrew it: `expired`, `unpaid` or `buyer_cancelled`.
    pub reason_code: Option<ReasonCode>,
    /// When the farmer's answer is due; a shipment still pending then is cancelled.
    pub respond_by: DateTime<Utc>,
    pub lines: Vec<OrderLine>,
    /// The way to the buyer, once a carrier job exists: status, carrier, tracking code, timeline.
    pub delivery: Option<Delivery>,
}

#[derive(Serialize, ToSchema)]
pub struct VietQrPayment {
    /// The EMVCo payload a banking app scans: the amount due and the order code as the transfer's memo.
    pub payload: String,
    /// The QR as a PNG; it works for the guest who placed the order as given (it carries their phone).
    pub qr_url: String,
    pub amount_vnd: i64,
    /// What to type as the transfer's content when not scanning.
    pub memo: String,
}

/// Money owed back to the buyer for a shipment that will not be delivered.
#[derive(Serialize, ToSchema)]
pub struct Refund {
    pub shipment_id: i64,
    pub amount_vnd: i64,
    /// `owed`, then `done` once an operator has paid it back.
    pub status: RefundStatus,
}

#[derive(Serialize, ToSchema)]
pub struct Payment {
    pub method: PaymentMethod,
    /// `cod`, `awaiting_transfer`, `paid`, `void`.
    pub status: PaymentStatus,
    pub vietqr: Option<VietQrPayment>,
}

#[derive(Serialize, ToSchema)]
pub struct Order {
    /// Short, read-aloud-safe code with a check character.
    pub code: String,
    pub status: OrderStatus,
    pub buyer_name: String,
    pub ward: PlaceRef,
    pub street: String,
    pub items_total_vnd: i64,
    pub shipping_total_vnd: i64,
    /// What was ordered: goods and fees of every shipment, whatever became of them.
    pub total_vnd: i64,
    /// What the buyer still has to pay: cash for what has not arrived yet, or the transfer awaited.
    pub due_vnd: i64,
    /// Money owed back for paid shipments that will not be delivered.
    pub refunds: Vec<Refund>,
    pub payment: Payment,
    pub shipments: Vec<Shipment>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub next_cursor: Option<String>,
}

/// The VietQR of a transfer of `amount` for the order, to the marketplace's account.
pub fn vietqr_for(settings: &Settings, order: &OrderRow, amount: i64) -> Option<VietQrPayment> {
    let qr = vietqr::VietQr {
        bank_bin: &settings.bank_bin,
        account: &settings.bank_account,
        amount_vnd: amount,
        purpose: &order.code,
    };
    let phone: String = form_urlencoded::byte_serialize(order.buyer_phone.as_bytes()).collect();
    qr.payload().ok().map(|payload| VietQrPayment {
        payload,
        qr_url: format!("/api/v1/orders/{}/qr.png?phone={phone}", order.code),
        amount_vnd: amount,
        memo: order.code.clone(),
    })
}

/// What the buyer of a loaded order still has to pay.
pub fn due_of(order: &OrderRow, shipments: &[Shipment]) -> i64 {
    let parts: Vec<(Part, i64)> = shipments
        .iter()
        .map(|s| (Part::of(s.status, s.delivery.as_ref().map(|d| d.status)), s.items_total_vnd + s.fee_vnd))
        .collect();
    progress::due_vnd(order.payment_status, &parts)
}

/// Loads an order with its shipments, lines, deliveries and refunds, in the reader's language.
pub fn load_order(conn: &mut Conn<'_>, state: &AppState, order_id: i64, lang: Lang) -> Result<Order, AppError> {
    let order = store::order_by_id(conn, order_id)?;
    let shipments = store::order_shipments(conn, order_id)?;
    let lines = store::order_lines(conn, order_id)?;
    let refunds = store::refunds_of_order(conn, order_id)?;
    let mut deliveries = deliveries(conn, order_id)?;
    let shipments = shipments
        .into_iter()
        .map(|row| Shipment {
            id: row.id,
            farmer: FarmerRef { id: row.farmer_id, name: row.farmer_name },
            status: row.status,
            weight_g: row.weight_g,
            items_total_vnd: row.items_total_vnd,
            fee_vnd: row.fee_vnd,
            reject_reason: match row.reason_code {
                Some(code) => Some(reason_text(code).get(lang).to_owned()),
                None => row.reject_reason,
            },
            reason_code: row.reason_code,
            respond_by: row.respond_by.and_utc(),
            lines: lines
                .iter()
                .filter(|line| line.0 == row.id)
                .map(|(_, listing_id, title, unit, price_vnd, quantity, line_total_vnd)| OrderLine {
                    listing_id: *listing_id,
                    title: title.clone(),
                    unit: unit.clone(),
                    price_vnd: *price_vnd,
                    quantity: *quantity,
                    line_total_vnd: *line_total_vnd,
                })
                .collect(),
            delivery: deliveries.remove(&row.id),
        })
        .collect();
    Ok(order_view(state, order, shipments, refunds))
}

/// An order from its parts, read back or just written.
pub fn order_view(state: &AppState, order: OrderRow, shipments: Vec<Shipment>, refunds: Vec<RefundRow>) -> Order {
    let due_vnd = due_of(&order, &shipments);
    let awaiting = order.payment_method == PaymentMethod::BankTransfer
        && order.payment_status == PaymentStatus::AwaitingTransfer
        && due_vnd > 0;
    let vietqr = awaiting.then(|| vietqr_for(&state.settings, &order, due_vnd)).flatten();
    let refunds = refunds
        .into_iter()
        .map(|refund| Refund { shipment_id: refund.shipment_id, amount_vnd: refund.amount_vnd, status: refund.status })
        .collect();
    Order {
        ward: state.reference.places.ward_place(order.ward_code),
        code: order.code,
        status: order.status,
        buyer_name: order.buyer_name,
        street: order.street,
        items_total_vnd: order.items_total_vnd,
        shipping_total_vnd: order.shipping_total_vnd,
        total_vnd: order.total_vnd,
        due_vnd,
        refunds,
        payment: Payment { method: order.payment_method, status: order.payment_status, vietqr },
        shipments,
        created_at: order.created_at.and_utc(),
    }
}
