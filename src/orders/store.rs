//! Queries over orders, shipments, stock and idempotency keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{listings, order_lines, orders, refunds, shipments, users};
use crate::domain::status::{
    ListingStatus, OrderStatus, PaymentMethod, PaymentStatus, ReasonCode, RefundStatus, ShipmentStatus,
};
use crate::error::AppError;
use crate::outbox::{Person, Preferences};
use crate::with_conn;

/// What an order needs to know of a listing, with how its farmer is told.
#[derive(Queryable, Clone)]
pub struct OrderableListing {
    pub id: i64,
    pub farmer_id: i64,
    pub farmer_name: String,
    pub title: String,
    pub unit: String,
    pub unit_weight_g: i32,
    pub price_vnd: i64,
    pub quantity: i64,
    pub status: ListingStatus,
    pub province_code: i32,
    pub farmer: FarmerContact,
    pub farmer_wants: Preferences,
}

/// The listings `ids` with their farmers, in one query.
pub fn orderable(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<OrderableListing>, AppError> {
    Ok(with_conn!(conn, |c| listings::table
        .inner_join(users::table.on(users::id.eq(listings::farmer_id)))
        .filter(listings::id.eq_any(ids))
        .select((
            listings::id,
            listings::farmer_id,
            users::name,
            listings::title,
            listings::unit,
            listings::unit_weight_g,
            listings::price_vnd,
            listings::quantity,
            listings::status,
            listings::province_code,
            (users::id, users::email, users::phone, users::auto_accept),
            (users::email_messages, users::text_messages, users::zalo_messages),
        ))
        .load(c))?)
}

/// Takes `n` units if at least `n` are left and the listing is on sale: the one statement that makes
/// overselling impossible (a CHECK keeps stock from going negative whatever happens).
pub fn take_stock(conn: &mut Conn<'_>, listing_id: i64, n: i64) -> Result<bool, AppError> {
    let taken = with_conn!(conn, |c| diesel::update(
        listings::table
            .filter(listings::id.eq(listing_id))
            .filter(listings::quantity.ge(n))
            .filter(listings::status.eq(ListingStatus::Active))
    )
    .set((listings::quantity.eq(listings::quantity - n), listings::version.eq(listings::version + 1)))
    .execute(c))?;
    Ok(taken == 1)
}

pub fn put_back_stock(conn: &mut Conn<'_>, listing_id: i64, n: i64) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(listings::table.find(listing_id))
        .set((listings::quantity.eq(listings::quantity + n), listings::version.eq(listings::version + 1)))
        .execute(c))?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = orders)]
pub struct NewOrder<'a> {
    pub code: &'a str,
    pub buyer_id: Option<i64>,
    pub buyer_name: &'a str,
    pub buyer_phone: &'a str,
    pub buyer_email: Option<&'a str>,
    pub ward_code: i32,
    pub province_code: i32,
    pub street: &'a str,
    pub note: Option<&'a str>,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub status: OrderStatus,
    pub items_total_vnd: i64,
    pub shipping_total_vnd: i64,
    pub total_vnd: i64,
    pub lang: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Writes the order; `None` when its code is taken already (draw another).
pub fn insert_order(conn: &mut Conn<'_>, order: &NewOrder<'_>) -> Result<Option<i64>, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(orders::table)
        .values(order)
        .on_conflict(orders::code)
        .do_nothing()
        .returning(orders::id)
        .get_result(c)
        .optional())?)
}

/// Every column given (no `DEFAULT`), so that SQLite too writes a batch in one statement.
#[derive(Insertable)]
#[diesel(table_name = shipments, treat_none_as_default_value = false)]
pub struct NewShipment {
    pub order_id: i64,
    pub farmer_id: i64,
    pub status: ShipmentStatus,
    pub weight_g: i64,
    pub items_total_vnd: i64,
    pub fee_vnd: i64,
    pub stock_restored: bool,
    pub respond_by: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set when the farmer accepts automatically.
    pub accepted_at: Option<NaiveDateTime>,
}

/// Writes an order's shipments in one statement: (shipment id, farmer id) of each (one shipment per farmer).
pub fn insert_shipments(conn: &mut Conn<'_>, shipments: &[NewShipment]) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(shipments::table)
        .values(shipments)
        .returning((shipments::id, shipments::farmer_id))
        .get_results(c))?)
}

/// Every column given (no `DEFAULT`), so that SQLite too writes a batch in one statement.
#[derive(Insertable)]
#[diesel(table_name = order_lines, treat_none_as_default_value = false)]
pub struct NewLine<'a> {
    pub order_id: i64,
    pub shipment_id: i64,
    pub listing_id: i64,
    pub title: &'a str,
    pub unit: &'a str,
    pub price_vnd: i64,
    pub quantity: i64,
    pub line_total_vnd: i64,
}

/// Writes an order's lines in one statement.
pub fn insert_lines(conn: &mut Conn<'_>, lines: &[NewLine<'_>]) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::insert_into(order_lines::table).values(lines).execute(c))?;
    Ok(())
}

#[derive(Queryable, Clone)]
pub struct OrderRow {
    pub id: i64,
    pub code: String,
    pub buyer_id: Option<i64>,
    pub buyer_name: String,
    pub buyer_phone: String,
    pub buyer_email: Option<String>,
    pub ward_code: i32,
    pub province_code: i32,
    pub street: String,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub status: OrderStatus,
    pub items_total_vnd: i64,
    pub shipping_total_vnd: i64,
    pub total_vnd: i64,
    pub lang: String,
    pub created_at: NaiveDateTime,
}

macro_rules! order_columns {
    () => {
        (
            orders::id,
            orders::code,
            orders::buyer_id,
            orders::buyer_name,
            orders::buyer_phone,
            orders::buyer_email,
            orders::ward_code,
            orders::province_code,
            orders::street,
            orders::payment_method,
            orders::payment_status,
            orders::status,
            orders::items_total_vnd,
            orders::shipping_total_vnd,
            orders::total_vnd,
            orders::lang,
            orders::created_at,
        )
    };
}

pub fn order_by_code(conn: &mut Conn<'_>, code: &str) -> Result<Option<OrderRow>, AppError> {
    Ok(with_conn!(conn, |c| orders::table.filter(orders::code.eq(code)).select(order_columns!()).first(c).optional())?)
}

pub fn order_by_id(conn: &mut Conn<'_>, id: i64) -> Result<OrderRow, AppError> {
    Ok(with_conn!(conn, |c| orders::table.find(id).select(order_columns!()).first(c))?)
}

/// Reads an order to change its payment or cancel it. On PostgreSQL the row is locked until the transaction
/// ends, so a transfer being matched and the unpaid-order expiry (or a cancellation) queue behind each other
/// and each decides on what the other did; SQLite's one writer does that by itself.
pub fn order_to_change(conn: &mut Conn<'_>, id: i64) -> Result<OrderRow, AppError> {
    let query = orders::table.find(id).select(order_columns!());
    Ok(match conn {
        Conn::Pg(c) => query.for_update().first(&mut **c),
        Conn::Sqlite(c) => query.first(&mut **c),
    }?)
}

/// Orders awaiting a transfer whose code begins with `prefix` (canonical, `NS-7KQ-4M`), a few at most.
pub fn awaiting_transfer_by_code_prefix(conn: &mut Conn<'_>, prefix: &str) -> Result<Vec<OrderRow>, AppError> {
    Ok(with_conn!(conn, |c| orders::table
        .filter(orders::code.like(format!("{prefix}%")))
        .filter(orders::payment_status.eq(PaymentStatus::AwaitingTransfer))
        .select(order_columns!())
        .order(orders::id)
        .limit(20)
        .load(c))?)
}

pub fn buyer_order_ids(conn: &mut Conn<'_>, buyer_id: i64, limit: i64, offset: i64) -> Result<Vec<i64>, AppError> {
    Ok(with_conn!(conn, |c| orders::table
        .filter(orders::buyer_id.eq(buyer_id))
        .order(orders::id.desc())
        .select(orders::id)
        .limit(limit)
        .offset(offset)
        .load(c))?)
}

/// A shipment as its order shows it.
#[derive(Queryable)]
pub struct ShipmentRow {
    pub id: i64,
    pub farmer_id: i64,
    pub farmer_name: String,
    pub status: ShipmentStatus,
    pub weight_g: i64,
    pub items_total_vnd: i64,
    pub fee_vnd: i64,
    /// What the farmer typed when rejecting.
    pub reject_reason: Option<String>,
    /// Why the system withdrew it.
    pub reason_code: Option<ReasonCode>,
    /// When the farmer's answer is due.
    pub respond_by: NaiveDateTime,
}

pub fn order_shipments(conn: &mut Conn<'_>, order_id: i64) -> Result<Vec<ShipmentRow>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(users::table.on(users::id.eq(shipments::farmer_id)))
        .filter(shipments::order_id.eq(order_id))
        .order(shipments::id)
        .select((
            shipments::id,
            shipments::farmer_id,
            users::name,
            shipments::status,
            shipments::weight_g,
            shipments::items_total_vnd,
            shipments::fee_vnd,
            shipments::reject_reason,
            shipments::reason_code,
            shipments::respond_by,
        ))
        .load(c))?)
}

/// (shipment id, listing id, title, unit, price, quantity, line total)
pub type LineRow = (i64, i64, String, String, i64, i64, i64);

pub fn order_lines(conn: &mut Conn<'_>, order_id: i64) -> Result<Vec<LineRow>, AppError> {
    Ok(with_conn!(conn, |c| order_lines::table
        .filter(order_lines::order_id.eq(order_id))
        .order(order_lines::id)
        .select((
            order_lines::shipment_id,
            order_lines::listing_id,
            order_lines::title,
            order_lines::unit,
            order_lines::price_vnd,
            order_lines::quantity,
            order_lines::line_total_vnd,
        ))
        .load(c))?)
}

/// (order id, farmer id, status) of a shipment.
pub fn shipment(conn: &mut Conn<'_>, id: i64) -> Result<Option<(i64, i64, ShipmentStatus)>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .find(id)
        .select((shipments::order_id, shipments::farmer_id, shipments::status))
        .first(c)
        .optional())?)
}

/// Moves a shipment from one of `from` to `to`, with the farmer's reason or the system's; `false` when it was
/// not in one of them (a concurrent change won).
pub fn move_shipment(
    conn: &mut Conn<'_>,
    id: i64,
    from: &[ShipmentStatus],
    to: ShipmentStatus,
    reason: Option<&str>,
    reason_code: Option<ReasonCode>,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let target = shipments::table.filter(shipments::id.eq(id)).filter(shipments::status.eq_any(from));
    let moving = (
        shipments::status.eq(to),
        shipments::reject_reason.eq(reason),
        shipments::reason_code.eq(reason_code),
        shipments::updated_at.eq(now),
    );
    // When it was accepted, and when it was rejected or cancelled: the impact report's days of those events.
    let moved = match to {
        ShipmentStatus::Accepted => {
            with_conn!(conn, |c| diesel::update(target).set((moving, shipments::accepted_at.eq(now))).execute(c))?
        }
        ShipmentStatus::Rejected | ShipmentStatus::Cancelled => {
            with_conn!(conn, |c| diesel::update(target).set((moving, shipments::withdrawn_at.eq(now))).execute(c))?
        }
        ShipmentStatus::Pending => with_conn!(conn, |c| diesel::update(target).set(moving).execute(c))?,
    };
    Ok(moved == 1)
}

/// Puts a shipment's stock back, exactly once: the flag flips in the same transaction.
pub fn restore_stock(conn: &mut Conn<'_>, shipment_id: i64) -> Result<(), AppError> {
    let flipped = with_conn!(conn, |c| diesel::update(
        shipments::table.filter(shipments::id.eq(shipment_id)).filter(shipments::stock_restored.eq(false))
    )
    .set(shipments::stock_restored.eq(true))
    .execute(c))?;
    if flipped == 0 {
        return Ok(());
    }
    let lines: Vec<(i64, i64)> = with_conn!(conn, |c| order_lines::table
        .filter(order_lines::shipment_id.eq(shipment_id))
        .select((order_lines::listing_id, order_lines::quantity))
        .load(c))?;
    for (listing_id, quantity) in lines {
        put_back_stock(conn, listing_id, quantity)?;
    }
    Ok(())
}

/// Shipments of a farmer, newest first: (shipment id, order id).
pub fn farmer_shipment_orders(
    conn: &mut Conn<'_>,
    farmer_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .filter(shipments::farmer_id.eq(farmer_id))
        .order(shipments::id.desc())
        .select((shipments::id, shipments::order_id))
        .limit(limit)
        .offset(offset)
        .load(c))?)
}

/// How a farmer is reached, and whether they accept every order without a tap.
#[derive(Queryable, Clone)]
pub struct FarmerContact {
    pub id: i64,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub auto_accept: bool,
}

impl FarmerContact {
    pub fn person(&self) -> Person<'_> {
        Person { user_id: Some(self.id), email: self.email.as_deref(), phone: self.phone.as_deref() }
    }
}

pub fn farmer_contact(conn: &mut Conn<'_>, farmer_id: i64) -> Result<FarmerContact, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .find(farmer_id)
        .select((users::id, users::email, users::phone, users::auto_accept))
        .first(c))?)
}

/// What a shipment holds: (title, unit code, quantity) of each line.
pub fn shipment_items(conn: &mut Conn<'_>, shipment_id: i64) -> Result<Vec<(String, String, i64)>, AppError> {
    Ok(with_conn!(conn, |c| order_lines::table
        .filter(order_lines::shipment_id.eq(shipment_id))
        .order(order_lines::id)
        .select((order_lines::title, order_lines::unit, order_lines::quantity))
        .load(c))?)
}

/// Pending shipments whose farmer did not answer in time.
pub fn overdue_shipments(conn: &mut Conn<'_>, now: NaiveDateTime) -> Result<Vec<i64>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .filter(shipments::status.eq(ShipmentStatus::Pending))
        .filter(shipments::respond_by.lt(now))
        .select(shipments::id)
        .limit(500)
        .load(c))?)
}

/// Bank-transfer orders still unpaid since before `cutoff` (a cancelled order's payment is void).
pub fn unpaid_orders(conn: &mut Conn<'_>, cutoff: NaiveDateTime) -> Result<Vec<i64>, AppError> {
    Ok(with_conn!(conn, |c| orders::table
        .filter(orders::payment_status.eq(PaymentStatus::AwaitingTransfer))
        .filter(orders::created_at.lt(cutoff))
        .select(orders::id)
        .limit(500)
        .load(c))?)
}

/// Marks a transfer as received; `false` when the order was not awaiting one.
pub fn mark_paid(conn: &mut Conn<'_>, id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    let updated = with_conn!(conn, |c| diesel::update(
        orders::table.filter(orders::id.eq(id)).filter(orders::payment_status.eq(PaymentStatus::AwaitingTransfer))
    )
    .set((orders::payment_status.eq(PaymentStatus::Paid), orders::updated_at.eq(now)))
    .execute(c))?;
    Ok(updated == 1)
}

/// Money owed back for a shipment.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = refunds)]
pub struct RefundRow {
    pub id: i64,
    pub order_id: i64,
    pub shipment_id: i64,
    pub amount_vnd: i64,
    pub status: RefundStatus,
    pub created_at: NaiveDateTime,
    pub done_at: Option<NaiveDateTime>,
}

pub fn refund_of(conn: &mut Conn<'_>, shipment_id: i64) -> Result<Option<RefundRow>, AppError> {
    Ok(with_conn!(conn, |c| refunds::table
        .filter(refunds::shipment_id.eq(shipment_id))
        .select(RefundRow::as_select())
        .first(c)
        .optional())?)
}

pub fn refunds_of_order(conn: &mut Conn<'_>, order_id: i64) -> Result<Vec<RefundRow>, AppError> {
    Ok(with_conn!(conn, |c| refunds::table
        .filter(refunds::order_id.eq(order_id))
        .order(refunds::id)
        .select(RefundRow::as_select())
        .load(c))?)
}

/// Refunds in one status (or all), oldest first, with their order's code.
pub fn refunds(
    conn: &mut Conn<'_>,
    status: Option<RefundStatus>,
    limit: i64,
    offset: i64,
) -> Result<Vec<(RefundRow, String)>, AppError> {
    Ok(with_conn!(conn, |c| {
        let query = refunds::table
            .inner_join(orders::table)
            .order(refunds::id)
            .select((RefundRow::as_select(), orders::code))
            .limit(limit)
            .offset(offset)
            .into_boxed();
        match status {
            Some(status) => query.filter(refunds::status.eq(status)).load(c),
            None => query.load(c),
        }
    })?)
}

/// Marks a refund paid back (once: a second call changes nothing); the refund, or `None` when there is none.
pub fn refund_done(
    conn: &mut Conn<'_>,
    id: i64,
    operator_id: i64,
    now: NaiveDateTime,
) -> Result<Option<RefundRow>, AppError> {
    with_conn!(conn, |c| diesel::update(
        refunds::table.filter(refunds::id.eq(id)).filter(refunds::status.eq(RefundStatus::Owed))
    )
    .set((refunds::status.eq(RefundStatus::Done), refunds::done_at.eq(now), refunds::done_by.eq(operator_id)))
    .execute(c))?;
    Ok(with_conn!(conn, |c| refunds::table.find(id).select(RefundRow::as_select()).first(c).optional())?)
}

/// What an operator looks orders up by; every part is optional and they all hold together.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    /// Canonical order code.
    pub code: Option<String>,
    /// The buyer's phone in E.164.
    pub phone: Option<String>,
    pub status: Option<OrderStatus>,
    /// Of the delivery address.
    pub province_code: Option<i32>,
    /// Placed at or after.
    pub since: Option<NaiveDateTime>,
    /// Placed before.
    pub until: Option<NaiveDateTime>,
}

/// The orders that match, newest first, `limit` from `offset`.
pub fn search_orders(
    conn: &mut Conn<'_>,
    filter: &OrderFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<OrderRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = orders::table.select(order_columns!()).into_boxed();
        if let Some(code) = &filter.code {
            query = query.filter(orders::code.eq(code));
        }
        if let Some(phone) = &filter.phone {
            query = query.filter(orders::buyer_phone.eq(phone));
        }
        if let Some(status) = filter.status {
            query = query.filter(orders::status.eq(status));
        }
        if let Some(province) = filter.province_code {
            query = query.filter(orders::province_code.eq(province));
        }
        if let Some(since) = filter.since {
            query = query.filter(orders::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(orders::created_at.lt(until));
        }
        query.order(orders::id.desc()).limit(limit).offset(offset).load(c)
    })?)
}

/// The note the buyer left with the order.
pub fn order_note(conn: &mut Conn<'_>, id: i64) -> Result<Option<String>, AppError> {
    Ok(with_conn!(conn, |c| orders::table.find(id).select(orders::note).first(c))?)
}
