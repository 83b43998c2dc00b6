//! An order as its buyer sees it (and, one shipment of it, as its farmer sees it): shipments, lines, the
//! delivery timeline and what is left to pay.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, OrderRow};
use super::vietqr;
use crate::config::Settings;
use crate::db::Conn;
use crate::domain::status::{OrderStatus, PaymentMethod, PaymentStatus, ShipmentStatus};
use crate::error::AppError;
use crate::fulfilment::rules::{Delivery, deliveries};
use crate::listings::FarmerRef;
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
    pub reject_reason: Option<String>,
    pub lines: Vec<OrderLine>,
    /// The way to the buyer, once a carrier job exists: status, carrier, tracking code, timeline.
    pub delivery: Option<Delivery>,
}

#[derive(Serialize, ToSchema)]
pub struct VietQrPayment {
    /// The EMVCo payload a banking app scans.
    pub payload: String,
    pub qr_url: String,
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
    /// `placed` or `cancelled`.
    pub status: OrderStatus,
    pub buyer_name: String,
    pub ward: PlaceRef,
    pub street: String,
    pub items_total_vnd: i64,
    pub shipping_total_vnd: i64,
    pub total_vnd: i64,
    pub payment: Payment,
    pub shipments: Vec<Shipment>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub next_cursor: Option<String>,
}

/// The VietQR of a transfer of `amount` for order `code`, to the marketplace's account.
pub fn vietqr_for(settings: &Settings, code: &str, amount: i64) -> Option<VietQrPayment> {
    let qr = vietqr::VietQr {
        bank_bin: &settings.bank_bin,
        account: &settings.bank_account,
        amount_vnd: amount,
        purpose: code,
    };
    qr.payload().ok().map(|payload| VietQrPayment { payload, qr_url: format!("/api/v1/orders/{code}/qr.png") })
}

/// Loads an order with its shipments, lines and deliveries.
pub fn load_order(conn: &mut Conn<'_>, state: &AppState, order_id: i64) -> Result<Order, AppError> {
    let order = store::order_by_id(conn, order_id)?;
    let shipments = store::order_shipments(conn, order_id)?;
    let lines = store::order_lines(conn, order_id)?;
    let mut deliveries = deliveries(conn, order_id)?;
    let shipments = shipments
        .into_iter()
        .map(|(id, farmer_id, farmer_name, status, weight_g, items_total_vnd, fee_vnd, reject_reason, _)| Shipment {
            id,
            farmer: FarmerRef { id: farmer_id, name: farmer_name },
            status,
            weight_g,
            items_total_vnd,
            fee_vnd,
            reject_reason,
            lines: lines
                .iter()
                .filter(|line| line.0 == id)
                .map(|(_, listing_id, title, unit, price_vnd, quantity, line_total_vnd)| OrderLine {
                    listing_id: *listing_id,
                    title: title.clone(),
                    unit: unit.clone(),
                    price_vnd: *price_vnd,
                    quantity: *quantity,
                    line_total_vnd: *line_total_vnd,
                })
                .collect(),
            delivery: deliveries.remove(&id),
        })
        .collect();
    Ok(view(state, order, shipments))
}

fn view(state: &AppState, order: OrderRow, shipments: Vec<Shipment>) -> Order {
    let awaiting =
        order.payment_method == PaymentMethod::BankTransfer && order.payment_status == PaymentStatus::AwaitingTransfer;
    let vietqr = awaiting.then(|| vietqr_for(&state.settings, &order.code, order.total_vnd)).flatten();
    Order {
        ward: state.reference.places.ward_place(order.ward_code),
        code: order.code,
        status: order.status,
        buyer_name: order.buyer_name,
        street: order.street,
        items_total_vnd: order.items_total_vnd,
        shipping_total_vnd: order.shipping_total_vnd,
        total_vnd: order.total_vnd,
        payment: Payment { method: order.payment_method, status: order.payment_status, vietqr },
        shipments,
        created_at: order.created_at.and_utc(),
    }
}
