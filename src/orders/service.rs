//! Ordering rules: pricing a basket per farmer, placing an order that never oversells, and the farmer's
//! and buyer's answers to it. Every change that tells someone something queues its email in the same
//! transaction (see `outbox`).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime, Utc};

use super::store::{self, OrderableListing};
use super::tariff::{Tariff, zone};
use crate::db::Conn;
use crate::domain::quantity::Unit;
use crate::error::Lang;
use crate::error::{AppError, FieldError, Kind, Text};
use crate::fulfilment::service as fulfilment;
use crate::mail::templates::{Template, lang_of};
use crate::outbox;

/// One line of a basket, as asked.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct Item {
    pub listing_id: i64,
    /// Whole units of the listing's unit.
    pub quantity: i64,
}

pub struct PricedLine {
    pub listing: OrderableListing,
    pub quantity: i64,
    pub line_total_vnd: i64,
}

/// The part of a basket one farmer ships.
pub struct FarmerGroup {
    pub farmer_id: i64,
    pub lines: Vec<PricedLine>,
    pub weight_g: i64,
    pub items_total_vnd: i64,
    pub fee_vnd: i64,
}

pub struct Basket {
    pub groups: Vec<FarmerGroup>,
    pub items_total_vnd: i64,
    pub shipping_total_vnd: i64,
}

/// Merges repeated listings and checks quantities.
pub fn check_items(items: &[Item]) -> Result<Vec<Item>, AppError> {
    if items.is_empty() || items.len() > 50 {
        return Err(AppError::invalid_field(
            "items",
            "items_count",
            Text::new("Giỏ hàng cần từ 1 đến 50 sản phẩm.", "A basket holds 1 to 50 items."),
        ));
    }
    let mut merged: BTreeMap<i64, i64> = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if !(1..=100_000).contains(&item.quantity) {
            errors.push(FieldError::new(
                format!("items[{index}].quantity"),
                "quantity_range",
                Text::new("Số lượng từ 1 đến 100.000.", "Quantity is 1 to 100,000."),
            ));
        }
        *merged.entry(item.listing_id).or_default() += item.quantity;
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    Ok(merged.into_iter().map(|(listing_id, quantity)| Item { listing_id, quantity }).collect())
}

/// Prices a basket delivered to `province`: lines grouped by farmer, each group's weight and fee.
pub fn price_basket(conn: &mut Conn<'_>, items: &[Item], province: i32, tariff: &Tariff) -> Result<Basket, AppError> {
    let ids: Vec<i64> = items.iter().map(|i| i.listing_id).collect();
    let listings = store::orderable(conn, &ids)?;
    let mut groups: BTreeMap<i64, Vec<PricedLine>> = BTreeMap::new();
    let mut unavailable = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match listings.iter().find(|l| l.id == item.listing_id && l.status == "active") {
            Some(listing) => groups.entry(listing.farmer_id).or_default().push(PricedLine {
                listing: listing.clone(),
                quantity: item.quantity,
                line_total_vnd: listing.price_vnd.saturating_mul(item.quantity),
            }),
            None => unavailable.push(FieldError::new(
                format!("items[{index}].listing_id"),
                "listing_unavailable",
                Text::new(
                    format!("Sản phẩm {} không còn bán.", item.listing_id),
                    format!("Listing {} is not on sale.", item.listing_id),
                ),
            )),
        }
    }
    if !unavailable.is_empty() {
        return Err(AppError::validation(unavailable));
    }
    let to_region = store::region_of(conn, province)?;
    let mut basket = Basket { groups: Vec::new(), items_total_vnd: 0, shipping_total_vnd: 0 };
    for (farmer_id, lines) in groups {
        let from = lines[0].listing.province_code;
        let from_region = store::region_of(conn, from)?;
        let weight_g: i64 = lines.iter().map(|l| l.quantity.saturating_mul(i64::from(l.listing.unit_weight_g))).sum();
        let items_total_vnd: i64 = lines.iter().map(|l| l.line_total_vnd).sum();
        let fee_vnd = tariff.fee_vnd(zone(from, &from_region, province, &to_region), weight_g);
        basket.items_total_vnd += items_total_vnd;
        basket.shipping_total_vnd += fee_vnd;
        basket.groups.push(FarmerGroup { farmer_id, lines, weight_g, items_total_vnd, fee_vnd });
    }
    Ok(basket)
}

/// Takes the stock of every line, or none: 409 naming each short listing and what is left.
pub fn take_all_stock(conn: &mut Conn<'_>, basket: &Basket) -> Result<(), AppError> {
    let mut short = Vec::new();
    for line in basket.groups.iter().flat_map(|g| &g.lines) {
        if !store::take_stock(conn, line.listing.id, line.quantity)? {
            let left = store::orderable(conn, &[line.listing.id])?.first().map_or(0, |l| l.quantity);
            let unit = Unit::parse_code(&line.listing.unit).map_or("", Unit::name_vi);
            short.push(FieldError::new(
                format!("listing:{}", line.listing.id),
                "insufficient_stock",
                Text::new(
                    format!("{}: chỉ còn {left} {unit}.", line.listing.title),
                    format!("{}: only {left} {} left.", line.listing.title, line.listing.unit),
                ),
            ));
        }
    }
    if short.is_empty() {
        return Ok(());
    }
    let mut error = AppError::new(
        Kind::Conflict,
        "insufficient_stock",
        Text::new(
            "Không đủ hàng cho một số sản phẩm; chưa có gì được đặt.",
            "Some items are short; nothing was ordered.",
        ),
    );
    error.set_errors(short);
    Err(error)
}

pub fn respond_by(now: NaiveDateTime, hours: u64) -> NaiveDateTime {
    now + Duration::hours(i64::try_from(hours).unwrap_or(24))
}

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Queues an email if there is an address to send it to.
pub fn notify(
    conn: &mut Conn<'_>,
    to: Option<&str>,
    template: Template,
    lang: Lang,
    values: &[(&str, &str)],
) -> Result<(), AppError> {
    match to {
        Some(to) => outbox::enqueue(conn, &template.render(lang, to, values), now()),
        None => Ok(()),
    }
}

/// A farmer turns a shipment down: its stock goes back (once) and the buyer is told.
pub fn reject_shipment(conn: &mut Conn<'_>, shipment_id: i64, reason: &str) -> Result<bool, AppError> {
    fulfilment::cancel_job(conn, shipment_id, now())?;
    if !store::move_shipment(conn, shipment_id, &["pending", "accepted"], "rejected", Some(reason), now())? {
        return Ok(false);
    }
    store::restore_stock(conn, shipment_id)?;
    let (order_id, _, _) = store::shipment(conn, shipment_id)?.ok_or_else(AppError::not_found)?;
    let order = store::order_by_id(conn, order_id)?;
    let values = [("name", order.buyer_name.as_str()), ("code", order.code.as_str()), ("reason", reason)];
    notify(conn, order.buyer_email.as_deref(), Template::ShipmentRejected, lang_of(&order.lang), &values)?;
    Ok(true)
}

/// Cancels an order and every shipment not yet answered or accepted, putting their stock back once; 409 once
/// a parcel has been picked up.
pub fn cancel_whole_order(conn: &mut Conn<'_>, order_id: i64, reason: &str) -> Result<bool, AppError> {
    let order = store::order_by_id(conn, order_id)?;
    if order.status != "placed" {
        return Ok(false);
    }
    for (id, ..) in store::order_shipments(conn, order_id)? {
        // Refuses (and so rolls the whole cancellation back) once any parcel is with a carrier.
        fulfilment::cancel_job(conn, id, now())?;
        if store::move_shipment(conn, id, &["pending", "accepted"], "cancelled", Some(reason), now())? {
            store::restore_stock(conn, id)?;
        }
    }
    let payment = if order.payment_status == "paid" { "paid" } else { "void" };
    store::set_order_status(conn, order_id, "cancelled", payment, now())?;
    let values = [("name", order.buyer_name.as_str()), ("code", order.code.as_str()), ("reason", reason)];
    notify(conn, order.buyer_email.as_deref(), Template::OrderCancelled, lang_of(&order.lang), &values)?;
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
        if store::move_shipment(conn, id, &["pending"], "cancelled", Some("farmer did not answer in time"), now)? {
            store::restore_stock(conn, id)?;
            expired.shipments += 1;
            let (order_id, _, _) = store::shipment(conn, id)?.ok_or_else(AppError::not_found)?;
            let order = store::order_by_id(conn, order_id)?;
            let values = [("name", order.buyer_name.as_str()), ("code", order.code.as_str())];
            notify(conn, order.buyer_email.as_deref(), Template::ShipmentExpired, lang_of(&order.lang), &values)?;
        }
    }
    let cutoff = now - Duration::hours(i64::try_from(unpaid_hours).unwrap_or(24));
    for id in store::unpaid_orders(conn, cutoff)? {
        if cancel_whole_order(conn, id, "chưa nhận được chuyển khoản")? {
            expired.orders += 1;
        }
    }
    Ok(expired)
}
