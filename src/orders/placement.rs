//! Placing an order: the basket checked and priced per farmer, the buyer's details checked, then one
//! transaction that takes the stock of every line (or none), writes the order with one shipment per farmer,
//! and queues the emails. Nothing is ever oversold: stock is taken by a conditional decrement.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use super::codes;
use super::rules::{deadline_text, items_summary, respond_by};
use super::store::{self, OrderRow, OrderableListing};
use super::view::{self, Order};
use crate::db::Conn;
use crate::domain::account::{parse_email, parse_name};
use crate::domain::money::format_vnd;
use crate::domain::phone::Phone;
use crate::domain::quantity::Unit;
use crate::domain::status::{ListingStatus, OrderStatus, PaymentMethod, ShipmentStatus};
use crate::domain::text::{Lines, typed_text};
use crate::error::{AppError, FieldError, Kind, Lang, Text};
use crate::fulfilment::rules::{OrderToShip, deliveries, open_jobs};
use crate::listings::FarmerRef;
use crate::mail::templates::Template;
use crate::outbox::{self, Notice};
use crate::reference::tariff::zone;
use crate::reference::{Places, Reference};
use crate::state::AppState;

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
pub fn check_items(items: &[Item]) -> Result<Vec<Item>, Vec<FieldError>> {
    if items.is_empty() || items.len() > 50 {
        return Err(vec![FieldError::new(
            "items",
            "items_count",
            Text::new("Giỏ hàng cần từ 1 đến 50 sản phẩm.", "A basket holds 1 to 50 items."),
        )]);
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
        return Err(errors);
    }
    Ok(merged.into_iter().map(|(listing_id, quantity)| Item { listing_id, quantity }).collect())
}

/// Prices a basket delivered to `province`: lines grouped by farmer, each group's weight and fee.
pub fn price_basket(
    conn: &mut Conn<'_>,
    reference: &Reference,
    items: &[Item],
    province: i32,
) -> Result<Basket, AppError> {
    let groups = basket_lines(conn, items)?;
    let places = &reference.places;
    let mut basket = Basket { groups: Vec::new(), items_total_vnd: 0, shipping_total_vnd: 0 };
    for (farmer_id, lines) in groups {
        let from = lines[0].listing.province_code;
        let weight_g: i64 = lines.iter().map(|l| l.quantity.saturating_mul(i64::from(l.listing.unit_weight_g))).sum();
        let items_total_vnd: i64 = lines.iter().map(|l| l.line_total_vnd).sum();
        let zone = zone(from, places.region_of(from), province, places.region_of(province));
        let fee_vnd = reference.tariff.fee_vnd(zone, weight_g);
        basket.items_total_vnd += items_total_vnd;
        basket.shipping_total_vnd += fee_vnd;
        basket.groups.push(FarmerGroup { farmer_id, lines, weight_g, items_total_vnd, fee_vnd });
    }
    Ok(basket)
}

/// The lines of a basket priced and grouped by farmer (before any fee: that needs the delivery commune);
/// 422 naming each listing that is not on sale.
pub fn basket_lines(conn: &mut Conn<'_>, items: &[Item]) -> Result<BTreeMap<i64, Vec<PricedLine>>, AppError> {
    let ids: Vec<i64> = items.iter().map(|i| i.listing_id).collect();
    let listings = store::orderable(conn, &ids)?;
    let mut groups: BTreeMap<i64, Vec<PricedLine>> = BTreeMap::new();
    let mut unavailable = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match listings.iter().find(|l| l.id == item.listing_id && l.status == ListingStatus::Active) {
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
    Ok(groups)
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

/// The buyer's checked details.
#[derive(Debug)]
pub struct ValidBuyer {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
}

/// Checks a guest's name, phone and email (each problem listed).
pub fn check_buyer(name: &str, phone: &str, email: Option<&str>) -> Result<ValidBuyer, Vec<FieldError>> {
    let name = parse_name(name).map_err(|e| e.at("buyer.name"));
    let phone = Phone::parse(phone).map_err(|e| e.at("buyer.phone"));
    let email = email.map(parse_email).transpose().map_err(|e| e.at("buyer.email"));
    match (name, phone, email) {
        (Ok(name), Ok(phone), Ok(email)) => Ok(ValidBuyer { name, phone: phone.as_str().to_owned(), email }),
        (name, phone, email) => Err([name.err(), phone.err(), email.err()].into_iter().flatten().collect()),
    }
}

/// The payment method asked for: cash on delivery unless it says otherwise.
pub fn check_payment_method(method: Option<&str>) -> Result<PaymentMethod, FieldError> {
    match method {
        None => Ok(PaymentMethod::Cod),
        Some(text) => PaymentMethod::parse(text).ok_or_else(|| {
            FieldError::new(
                "payment_method",
                "payment_method_unknown",
                Text::new("Thanh toán bằng cod hoặc bank_transfer.", "Pay by cod or bank_transfer."),
            )
        }),
    }
}

/// The street of the delivery address, trimmed.
pub fn check_street(street: &str) -> Result<String, FieldError> {
    let required = || {
        FieldError::new(
            "address.street",
            "street_required",
            Text::new(
                "Cần địa chỉ (số nhà, thôn, đường), tối đa 200 ký tự.",
                "The street address is needed (at most 200 characters).",
            ),
        )
    };
    match typed_text("address.street", Some(street), 200, Lines::One) {
        Ok(Some(street)) => Ok(street),
        Ok(None) => Err(required()),
        Err(error) if error.code == "text_too_long" => Err(required()),
        Err(error) => Err(error),
    }
}

/// An order request's fields, as sent.
pub struct OrderFields<'a> {
    pub items: &'a [Item],
    pub ward_code: i32,
    pub street: &'a str,
    pub note: Option<&'a str>,
    pub payment_method: Option<&'a str>,
}

/// An order's fields, checked.
pub struct CheckedOrder {
    pub buyer: ValidBuyer,
    pub items: Vec<Item>,
    pub ward_code: i32,
    pub street: String,
    pub note: Option<String>,
    pub payment_method: PaymentMethod,
}

/// Checks every field at once, so one answer lists every problem (the buyer's details were checked by the
/// caller, who may have read them from the buyer's account).
pub fn check_order(
    places: &Places,
    buyer: Result<ValidBuyer, Vec<FieldError>>,
    fields: &OrderFields<'_>,
) -> Result<CheckedOrder, AppError> {
    let items = check_items(fields.items);
    let ward = places
        .known_ward(fields.ward_code)
        .map(|_| fields.ward_code)
        .map_err(|error| FieldError { field: "address.ward_code".to_owned(), ..error });
    let street = check_street(fields.street);
    let note = typed_text("note", fields.note, 500, Lines::Many);
    let method = check_payment_method(fields.payment_method);
    match (items, buyer, ward, street, note, method) {
        (Ok(items), Ok(buyer), Ok(ward_code), Ok(street), Ok(note), Ok(payment_method)) => {
            Ok(CheckedOrder { buyer, items, ward_code, street, note, payment_method })
        }
        (items, buyer, ward, street, note, method) => {
            let mut errors: Vec<FieldError> = items.err().unwrap_or_default();
            errors.extend(buyer.err().unwrap_or_default());
            errors.extend([ward.err(), street.err(), note.err(), method.err()].into_iter().flatten());
            Err(AppError::validation(errors))
        }
    }
}

/// Everything an order needs, checked, with who places it.
pub struct Placement {
    pub order: CheckedOrder,
    pub buyer_id: Option<i64>,
    /// The buyer's language, for their emails.
    pub lang: Lang,
    /// Hours each farmer has to answer.
    pub confirm_hours: u64,
    /// The account a bank transfer goes to, told to the buyer.
    pub bank_account: String,
}

/// Writes the order in the caller's transaction under `code` (another one if it is taken): stock, order,
/// shipments (one per farmer), lines, the farmers' and the buyer's messages, each kind in one statement, and
/// the carrier jobs of farmers who accept automatically. Returns the order as its buyer sees it, built from
/// what was written (`now` with the microseconds the databases keep, so it reads the same when read back).
pub fn place(
    conn: &mut Conn<'_>,
    state: &AppState,
    placement: &Placement,
    mut code: String,
    now: NaiveDateTime,
) -> Result<Order, AppError> {
    let order = &placement.order;
    let province = state.reference.places.known_ward(order.ward_code)?.province_code;
    let basket = price_basket(conn, &state.reference, &order.items, province)?;
    take_all_stock(conn, &basket)?;
    let buyer = &order.buyer;
    let mut row = OrderRow {
        id: 0,
        code: String::new(),
        buyer_id: placement.buyer_id,
        buyer_name: buyer.name.clone(),
        buyer_phone: buyer.phone.clone(),
        buyer_email: buyer.email.clone(),
        ward_code: order.ward_code,
        province_code: province,
        street: order.street.clone(),
        payment_method: order.payment_method,
        payment_status: order.payment_method.initial_status(),
        status: OrderStatus::Placed,
        items_total_vnd: basket.items_total_vnd,
        shipping_total_vnd: basket.shipping_total_vnd,
        total_vnd: basket.items_total_vnd + basket.shipping_total_vnd,
        lang: if placement.lang == Lang::En { "en" } else { "vi" }.to_owned(),
        created_at: now,
    };
    row.id = loop {
        let new = store::NewOrder {
            code: &code,
            buyer_id: row.buyer_id,
            buyer_name: &row.buyer_name,
            buyer_phone: &row.buyer_phone,
            buyer_email: row.buyer_email.as_deref(),
            ward_code: row.ward_code,
            province_code: row.province_code,
            street: &row.street,
            note: order.note.as_deref(),
            payment_method: row.payment_method,
            payment_status: row.payment_status,
            status: row.status,
            items_total_vnd: row.items_total_vnd,
            shipping_total_vnd: row.shipping_total_vnd,
            total_vnd: row.total_vnd,
            lang: &row.lang,
            created_at: now,
            updated_at: now,
        };
        match store::insert_order(conn, &new)? {
            Some(id) => break id,
            None => code = codes::new_order_code(&mut rand::rng()),
        }
    };
    row.code = code;
    let respond_by = respond_by(now, placement.confirm_hours);
    let shipments = write_shipments(conn, row.id, &basket, respond_by, now)?;
    notify_placed(conn, placement, &row, &shipments, now)?;
    let auto_accepted = shipments.iter().any(|(group, _)| group.auto_accept());
    let mut deliveries = if auto_accepted {
        let to_ship = OrderToShip {
            id: row.id,
            ward_code: row.ward_code,
            province_code: row.province_code,
            payment_method: row.payment_method,
            payable: true,
            paid: false,
        };
        open_jobs(conn, &to_ship, now)?;
        deliveries(conn, row.id)?
    } else {
        HashMap::new()
    };
    let shipments = shipments
        .into_iter()
        .map(|(group, id)| view::Shipment {
            id,
            farmer: FarmerRef { id: group.farmer_id, name: group.lines[0].listing.farmer_name.clone() },
            status: group.initial_status(),
            weight_g: group.weight_g,
            items_total_vnd: group.items_total_vnd,
            fee_vnd: group.fee_vnd,
            reject_reason: None,
            reason_code: None,
            respond_by: respond_by.and_utc(),
            lines: group
                .lines
                .iter()
                .map(|line| view::OrderLine {
                    listing_id: line.listing.id,
                    title: line.listing.title.clone(),
                    unit: line.listing.unit.clone(),
                    price_vnd: line.listing.price_vnd,
                    quantity: line.quantity,
                    line_total_vnd: line.line_total_vnd,
                })
                .collect(),
            delivery: deliveries.remove(&id),
        })
        .collect();
    Ok(view::order_view(state, row, shipments, Vec::new()))
}

impl FarmerGroup {
    fn auto_accept(&self) -> bool {
        self.lines[0].listing.farmer.auto_accept
    }

    /// Accepted at once when the farmer accepts every order without a tap, else waiting for them.
    fn initial_status(&self) -> ShipmentStatus {
        if self.auto_accept() { ShipmentStatus::Accepted } else { ShipmentStatus::Pending }
    }
}

/// Writes one shipment per farmer, then every line, in two statements: each group with its shipment's id.
fn write_shipments<'a>(
    conn: &mut Conn<'_>,
    order_id: i64,
    basket: &'a Basket,
    respond_by: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Vec<(&'a FarmerGroup, i64)>, AppError> {
    let new: Vec<store::NewShipment> = basket
        .groups
        .iter()
        .map(|group| store::NewShipment {
            order_id,
            farmer_id: group.farmer_id,
            status: group.initial_status(),
            weight_g: group.weight_g,
            items_total_vnd: group.items_total_vnd,
            fee_vnd: group.fee_vnd,
            stock_restored: false,
            respond_by,
            created_at: now,
            updated_at: now,
            accepted_at: group.auto_accept().then_some(now),
        })
        .collect();
    // The rows come back in no promised order: matched by farmer, who has one shipment per order.
    let ids: HashMap<i64, i64> =
        store::insert_shipments(conn, &new)?.into_iter().map(|(id, farmer_id)| (farmer_id, id)).collect();
    let written = basket
        .groups
        .iter()
        .map(|group| match ids.get(&group.farmer_id) {
            Some(id) => Ok((group, *id)),
            None => Err(AppError::internal(anyhow::anyhow!("no shipment written for farmer {}", group.farmer_id))),
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let lines: Vec<store::NewLine<'_>> = written
        .iter()
        .flat_map(|(group, shipment_id)| {
            group.lines.iter().map(move |line| store::NewLine {
                order_id,
                shipment_id: *shipment_id,
                listing_id: line.listing.id,
                title: &line.listing.title,
                unit: &line.listing.unit,
                price_vnd: line.listing.price_vnd,
                quantity: line.quantity,
                line_total_vnd: line.line_total_vnd,
            })
        })
        .collect();
    store::insert_lines(conn, &lines)?;
    Ok(written)
}

/// Queues, at once, each farmer's message (what, how much, the deadline) and the buyer's (code, total and,
/// for a bank transfer, where to send it).
fn notify_placed(
    conn: &mut Conn<'_>,
    placement: &Placement,
    order: &OrderRow,
    shipments: &[(&FarmerGroup, i64)],
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let hours = placement.confirm_hours.to_string();
    let deadline = deadline_text(respond_by(now, placement.confirm_hours));
    let items: Vec<String> = shipments
        .iter()
        .map(|(group, _)| {
            let lines: Vec<(&str, &str, i64)> =
                group.lines.iter().map(|l| (l.listing.title.as_str(), l.listing.unit.as_str(), l.quantity)).collect();
            items_summary(&lines)
        })
        .collect();
    let code = order.code.as_str();
    let farmer_values: Vec<[(&str, &str); 4]> = items
        .iter()
        .map(|items| [("code", code), ("hours", &hours), ("items", items), ("deadline", &deadline)])
        .collect();
    let mut notices: Vec<Notice<'_>> = shipments
        .iter()
        .zip(&farmer_values)
        .map(|((group, _), values)| {
            let listing = &group.lines[0].listing;
            Notice {
                to: listing.farmer.person(),
                wants: Some(listing.farmer_wants),
                template: Template::NewOrder,
                lang: Lang::Vi,
                values,
            }
        })
        .collect();
    let total = format_vnd(order.total_vnd);
    let payment = match order.payment_method {
        PaymentMethod::BankTransfer => Text::new(
            format!(" Chuyển khoản {total} vào TK {}, nội dung {code}.", placement.bank_account),
            format!(" Transfer {total} to account {}, memo {code}.", placement.bank_account),
        )
        .get(placement.lang)
        .to_owned(),
        PaymentMethod::Cod => String::new(),
    };
    let values = [("name", order.buyer_name.as_str()), ("code", code), ("total", &total), ("payment", &payment)];
    let to = outbox::Person {
        user_id: placement.buyer_id,
        email: order.buyer_email.as_deref(),
        phone: Some(&order.buyer_phone),
    };
    notices.push(Notice { to, wants: None, template: Template::OrderPlaced, lang: placement.lang, values: &values });
    outbox::notify_all(conn, &notices, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn baskets_merge_repeated_listings_and_refuse_bad_quantities() {
        let item = |listing_id, quantity| Item { listing_id, quantity };
        let merged = check_items(&[item(2, 1), item(1, 3), item(2, 4)]).expect("valid");
        assert_eq!(merged.iter().map(|i| (i.listing_id, i.quantity)).collect::<Vec<_>>(), [(1, 3), (2, 5)]);
        let bad = check_items(&[item(1, 0), item(2, 100_001)]).expect_err("quantities");
        assert_eq!(fields(&bad), [("items[0].quantity", "quantity_range"), ("items[1].quantity", "quantity_range")]);
        assert_eq!(fields(&check_items(&[]).expect_err("empty")), [("items", "items_count")]);
    }

    #[test]
    fn payment_defaults_to_cash_on_delivery_and_streets_are_trimmed() {
        assert_eq!(check_payment_method(None).expect("default"), PaymentMethod::Cod);
        assert_eq!(check_payment_method(Some("bank_transfer")).expect("transfer"), PaymentMethod::BankTransfer);
        let unknown = check_payment_method(Some("card")).expect_err("unknown");
        assert_eq!((unknown.field.as_str(), unknown.code), ("payment_method", "payment_method_unknown"));
        assert_eq!(check_street("  12 Trần Phú ").expect("street"), "12 Trần Phú");
        for street in ["   ".to_owned(), "x".repeat(201)] {
            assert_eq!(check_street(&street).expect_err("street").code, "street_required");
        }
        assert_eq!(check_street("12 Trần\u{0} Phú").expect_err("NUL").code, "control_character");
    }

    #[test]
    fn a_guest_buyer_is_checked_field_by_field() {
        let buyer = check_buyer("Lê Mai", "0912 345 678", None).expect("valid");
        assert_eq!((buyer.name.as_str(), buyer.phone.as_str()), ("Lê Mai", "+84912345678"));
        let bad = check_buyer("", "123", Some("not an email")).expect_err("invalid");
        let names: Vec<&str> = fields(&bad).into_iter().map(|(field, _)| field).collect();
        assert_eq!(names, ["buyer.name", "buyer.phone", "buyer.email"]);
    }
}
