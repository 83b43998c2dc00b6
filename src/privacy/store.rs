//! Queries of the privacy capability: what is stored about a person across the tables, the one-time codes of
//! guest buyers, and the updates that anonymise a person everywhere.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{
    fulfilment_jobs, idempotency_keys, job_events, listings, media, notifications, orders, outbox, privacy_codes,
    refunds, sessions, shipments, sms_inbound, users,
};
use crate::domain::status::{Channel, ListingStatus, OrderStatus, OutboxStatus, RefundStatus, ShipmentStatus};
use crate::error::AppError;
use crate::with_conn;

/// What is written where a person's name or street was.
pub const ERASED: &str = "(đã xoá)";
/// Stored in place of an erased person's PIN or password hash: no secret ever verifies against it.
const NO_SECRET: &str = "erased";

/// Whose purchases: an account's, or a guest's (orders placed without an account, with this phone).
#[derive(Clone, Copy)]
pub enum Buyer<'a> {
    Account(i64),
    Guest(&'a str),
}

/// The ids of a buyer's orders, oldest first.
pub fn bought_orders(conn: &mut Conn<'_>, buyer: Buyer<'_>) -> Result<Vec<i64>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = orders::table.select(orders::id).order(orders::id).into_boxed();
        query = match buyer {
            Buyer::Account(id) => query.filter(orders::buyer_id.eq(id)),
            Buyer::Guest(phone) => query.filter(orders::buyer_id.is_null()).filter(orders::buyer_phone.eq(phone)),
        };
        query.load(c)
    })?)
}

/// The codes of the orders among `ids` that are not finished: still under way, or with money owed back.
pub fn unfinished(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<String>, AppError> {
    let owed = refunds::table.filter(refunds::status.eq(RefundStatus::Owed)).select(refunds::order_id);
    Ok(with_conn!(conn, |c| orders::table
        .filter(orders::id.eq_any(ids))
        .filter(orders::status.eq_any(OrderStatus::OPEN).or(orders::id.eq_any(owed)))
        .order(orders::id)
        .select(orders::code)
        .load(c))?)
}

/// The codes of the unfinished orders a farmer still has a part to play in (one shipment per farmer an order).
pub fn unfinished_sales(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Vec<String>, AppError> {
    Ok(with_conn!(conn, |c| orders::table
        .inner_join(shipments::table)
        .filter(shipments::farmer_id.eq(farmer_id))
        .filter(shipments::status.eq_any(ShipmentStatus::GOING_AHEAD))
        .filter(orders::status.eq_any(OrderStatus::OPEN))
        .order(orders::id)
        .select(orders::code)
        .load(c))?)
}

/// How the buyer of an order is reached, as they gave it.
#[derive(Queryable)]
pub struct OrderContact {
    pub order_id: i64,
    pub buyer_name: String,
    pub buyer_phone: String,
    pub buyer_email: Option<String>,
    pub street: String,
    pub note: Option<String>,
}

pub fn order_contacts(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<OrderContact>, AppError> {
    Ok(with_conn!(conn, |c| orders::table
        .filter(orders::id.eq_any(ids))
        .order(orders::id)
        .select((
            orders::id,
            orders::buyer_name,
            orders::buyer_phone,
            orders::buyer_email,
            orders::street,
            orders::note,
        ))
        .load(c))?)
}

/// An account's phone and email.
pub fn account_contact(conn: &mut Conn<'_>, user_id: i64) -> Result<(Option<String>, Option<String>), AppError> {
    Ok(with_conn!(conn, |c| users::table.find(user_id).select((users::phone, users::email)).first(c))?)
}

/// (id, created, expires, ended) of each of a person's sessions; never the token's hash.
pub type SessionRow = (i64, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>);

pub fn sessions_of(conn: &mut Conn<'_>, user_id: i64) -> Result<Vec<SessionRow>, AppError> {
    Ok(with_conn!(conn, |c| sessions::table
        .filter(sessions::user_id.eq(user_id))
        .order(sessions::id)
        .select((sessions::id, sessions::created_at, sessions::expires_at, sessions::revoked_at))
        .load(c))?)
}

/// (id, display name, thumbnail name, uploaded at) of the photos a person uploaded.
pub type PhotoRow = (i64, String, String, NaiveDateTime);

pub fn photos_of(conn: &mut Conn<'_>, owner_id: i64) -> Result<Vec<PhotoRow>, AppError> {
    Ok(with_conn!(conn, |c| media::table
        .filter(media::owner_id.eq(owner_id))
        .order(media::id)
        .select((media::id, media::display_name, media::thumb_name, media::created_at))
        .load(c))?)
}

/// One email or text the service queued to a person.
#[derive(Queryable)]
pub struct MessageRow {
    pub id: i64,
    pub channel: Channel,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: OutboxStatus,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// The emails and texts queued to any of these addresses and phones (partners' webhook calls never are).
pub fn messages_to(conn: &mut Conn<'_>, recipients: &[String]) -> Result<Vec<MessageRow>, AppError> {
    Ok(with_conn!(conn, |c| outbox::table
        .filter(outbox::recipient.eq_any(recipients))
        .filter(outbox::channel.ne(Channel::Webhook))
        .order(outbox::id)
        .select((
            outbox::id,
            outbox::channel,
            outbox::kind,
            outbox::recipient,
            outbox::subject,
            outbox::body,
            outbox::status,
            outbox::created_at,
            outbox::sent_at,
        ))
        .load(c))?)
}

/// Anonymises orders: who bought and where it went is gone; what was bought and paid stays for the books.
/// The carriers' notes on their parcels (who took a parcel at the door) go too.
pub fn erase_orders(conn: &mut Conn<'_>, ids: &[i64], now: NaiveDateTime) -> Result<(), AppError> {
    let target = orders::table.filter(orders::id.eq_any(ids));
    let erased = (
        orders::buyer_name.eq(ERASED),
        orders::buyer_phone.eq(""),
        orders::buyer_email.eq(None::<String>),
        orders::street.eq(ERASED),
        orders::note.eq(None::<String>),
        orders::updated_at.eq(now),
    );
    with_conn!(conn, |c| diesel::update(target).set(erased).execute(c))?;
    let jobs = fulfilment_jobs::table.filter(fulfilment_jobs::order_id.eq_any(ids)).select(fulfilment_jobs::id);
    let notes = job_events::table.filter(job_events::job_id.eq_any(jobs));
    with_conn!(conn, |c| diesel::update(notes).set(job_events::note.eq(None::<String>)).execute(c))?;
    Ok(())
}

/// Forgets the messages to these addresses and phones: those still waiting are dropped, those sent keep only
/// their kind and when (what they cost), without recipient or text.
pub fn erase_messages(conn: &mut Conn<'_>, recipients: &[String]) -> Result<(), AppError> {
    let theirs =
        || outbox::table.filter(outbox::recipient.eq_any(recipients)).filter(outbox::channel.ne(Channel::Webhook));
    let waiting = theirs().filter(outbox::status.eq(OutboxStatus::Pending));
    with_conn!(conn, |c| diesel::delete(waiting).execute(c))?;
    let blank = (
        outbox::recipient.eq(""),
        outbox::subject.eq(outbox::kind),
        outbox::body.eq(""),
        outbox::last_error.eq(None::<String>),
    );
    with_conn!(conn, |c| diesel::update(theirs()).set(blank).execute(c))?;
    Ok(())
}

/// Forgets the `Idempotency-Key`s kept under a scope that names a person (a guest's phone): a retry after the
/// erasure is a new request.
pub fn forget_keys(conn: &mut Conn<'_>, scope: &str) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(idempotency_keys::table.filter(idempotency_keys::scope.eq(scope))).execute(c))?;
    Ok(())
}

/// Forgets the phone that text replies came from.
pub fn erase_replies(conn: &mut Conn<'_>, phone: &str) -> Result<(), AppError> {
    let from = sms_inbound::table.filter(sms_inbound::sender.eq(phone));
    with_conn!(conn, |c| diesel::update(from).set(sms_inbound::sender.eq("")).execute(c))?;
    Ok(())
}

/// Takes a farmer's listings out of the catalogue for good, without the words they wrote about them (titles
/// stay: orders name what was bought).
pub fn withdraw_listings(conn: &mut Conn<'_>, farmer_id: i64, now: NaiveDateTime) -> Result<usize, AppError> {
    let theirs = listings::table.filter(listings::farmer_id.eq(farmer_id));
    let withdrawn = (
        listings::status.eq(ListingStatus::Archived),
        listings::description.eq(None::<String>),
        listings::version.eq(listings::version + 1),
        listings::updated_at.eq(now),
    );
    Ok(with_conn!(conn, |c| diesel::update(theirs).set(withdrawn).execute(c))?)
}

/// Forgets the reasons a farmer typed when rejecting orders (the system's reason codes stay).
pub fn erase_reject_reasons(conn: &mut Conn<'_>, farmer_id: i64) -> Result<(), AppError> {
    let theirs = shipments::table.filter(shipments::farmer_id.eq(farmer_id));
    with_conn!(conn, |c| diesel::update(theirs).set(shipments::reject_reason.eq(None::<String>)).execute(c))?;
    Ok(())
}

/// Ends and forgets every session of a person, and their in-app list of messages.
pub fn delete_sessions_and_notifications(conn: &mut Conn<'_>, user_id: i64) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(c))?;
    with_conn!(conn, |c| diesel::delete(notifications::table.filter(notifications::user_id.eq(user_id))).execute(c))?;
    Ok(())
}

/// Anonymises an account: no name, phone, email or commune, and no secret that could open it. The row stays so
/// the orders and the audit log that point at it stay whole; the phone is free for a new account.
pub fn erase_account(conn: &mut Conn<'_>, user_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let erased = (
        users::name.eq(ERASED),
        users::phone.eq(None::<String>),
        users::email.eq(None::<String>),
        users::ward_code.eq(None::<i32>),
        users::secret_hash.eq(NO_SECRET),
        users::auto_accept.eq(false),
        users::erased_at.eq(Some(now)),
        users::updated_at.eq(now),
    );
    with_conn!(conn, |c| diesel::update(users::table.find(user_id)).set(erased).execute(c))?;
    Ok(())
}

/// Stores a new one-time code for an order, voiding the order's earlier ones.
pub fn insert_code(
    conn: &mut Conn<'_>,
    order_id: i64,
    code_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    let earlier =
        privacy_codes::table.filter(privacy_codes::order_id.eq(order_id)).filter(privacy_codes::used_at.is_null());
    with_conn!(conn, |c| diesel::update(earlier).set(privacy_codes::used_at.eq(Some(now))).execute(c))?;
    let row = (
        privacy_codes::order_id.eq(order_id),
        privacy_codes::code_hash.eq(code_hash),
        privacy_codes::created_at.eq(now),
        privacy_codes::expires_at.eq(expires_at),
    );
    with_conn!(conn, |c| diesel::insert_into(privacy_codes::table).values(row).execute(c))?;
    Ok(())
}

/// How many codes were asked for an order since `since`.
pub fn codes_since(conn: &mut Conn<'_>, order_id: i64, since: NaiveDateTime) -> Result<i64, AppError> {
    let asked =
        privacy_codes::table.filter(privacy_codes::order_id.eq(order_id)).filter(privacy_codes::created_at.gt(since));
    Ok(with_conn!(conn, |c| asked.count().get_result(c))?)
}

/// Takes one try of the order's live code before it is checked (so parallel guesses cannot share a try):
/// (code id, hash), or `None` when no code is live (none asked, used, expired, or out of tries).
pub fn take_try(
    conn: &mut Conn<'_>,
    order_id: i64,
    max_tries: i32,
    now: NaiveDateTime,
) -> Result<Option<(i64, String)>, AppError> {
    let live = privacy_codes::table
        .filter(privacy_codes::order_id.eq(order_id))
        .filter(privacy_codes::used_at.is_null())
        .filter(privacy_codes::expires_at.gt(now))
        .filter(privacy_codes::attempts.lt(max_tries));
    Ok(with_conn!(conn, |c| diesel::update(live)
        .set(privacy_codes::attempts.eq(privacy_codes::attempts + 1))
        .returning((privacy_codes::id, privacy_codes::code_hash))
        .get_result(c)
        .optional())?)
}

/// Uses a code up; `false` when it was used (or voided) in the meantime.
pub fn use_code(conn: &mut Conn<'_>, id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    let unused = privacy_codes::table.find(id).filter(privacy_codes::used_at.is_null());
    Ok(with_conn!(conn, |c| diesel::update(unused).set(privacy_codes::used_at.eq(Some(now))).execute(c))? == 1)
}

/// Forgets the codes asked through these orders.
pub fn delete_codes(conn: &mut Conn<'_>, order_ids: &[i64]) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(privacy_codes::table.filter(privacy_codes::order_id.eq_any(order_ids)))
        .execute(c))?;
    Ok(())
}
