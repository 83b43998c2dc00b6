//! Privacy rules: gathering everything stored about a person, erasing it (anonymised where the books need the
//! row), and the one-time codes that stand in for a login for guest buyers.

use actix_web::web;
use chrono::{Duration, NaiveDateTime};
use rand::Rng;

use super::store::{self, Buyer};
use super::{GuestData, OrderContact, PersonalData, Purchase, SentMessage, SessionRecord, StoredPhoto};
use crate::accounts::rules::{audit_item, check_login, load_profile, pin_login_subject};
use crate::accounts::store::Credentials;
use crate::audit;
use crate::auth::secrets::{hash_secret, verify_secret};
use crate::auth::{SessionUser, wrong_role};
use crate::db::Conn;
use crate::domain::status::Role;
use crate::error::{AppError, FieldError, Kind, Lang, Text};
use crate::listings::{Listing, catalogue, media_url};
use crate::mail::templates::Template;
use crate::messages::Notification;
use crate::orders::answering::shipments_of;
use crate::orders::buying::{guest_scope, order_for};
use crate::orders::store::OrderRow;
use crate::orders::view::load_order;
use crate::outbox::{self, Person};
use crate::state::AppState;

/// How long a guest's one-time code works.
pub const CODE_MINUTES: i64 = 15;
/// Wrong tries after which a code is void.
pub const CODE_TRIES: i32 = 5;
/// Codes an order may ask for in an hour: each is a text to pay for, and a fresh set of tries.
pub const CODES_PER_HOUR: i64 = 3;
/// Everything: an export is not paged.
const ALL: i64 = i64::MAX;

/// Everything stored about a person with an account, in their language.
pub fn personal_data(
    conn: &mut Conn<'_>,
    state: &AppState,
    user_id: i64,
    lang: Lang,
    now: NaiveDateTime,
) -> Result<PersonalData, AppError> {
    let profile = load_profile(conn, &state.reference.places, user_id)?;
    let (phone, email) = store::account_contact(conn, user_id)?;
    let bought = store::bought_orders(conn, Buyer::Account(user_id))?;
    let mut recipients: Vec<String> = phone.into_iter().chain(email).collect();
    let orders = purchases(conn, state, &bought, lang, &mut recipients)?;
    let listings = crate::listings::store::farmer_listings(conn, user_id, false, ALL, 0)?;
    let (notifications, _) = crate::messages::store::notifications(conn, user_id, ALL)?;
    Ok(PersonalData {
        exported_at: now.and_utc(),
        profile,
        consents: crate::consents::rules::consents_of(conn, user_id)?,
        sessions: store::sessions_of(conn, user_id)?
            .into_iter()
            .map(|(id, created_at, expires_at, ended_at)| SessionRecord {
                id,
                created_at: created_at.and_utc(),
                expires_at: expires_at.and_utc(),
                ended_at: ended_at.map(|at| at.and_utc()),
            })
            .collect(),
        listings: listings.into_iter().map(Listing::from).collect(),
        photos: store::photos_of(conn, user_id)?
            .into_iter()
            .map(|(id, display, thumb, at)| StoredPhoto {
                id,
                url: media_url(&display),
                thumb_url: media_url(&thumb),
                uploaded_at: at.and_utc(),
            })
            .collect(),
        orders,
        shipments: shipments_of(conn, state, user_id, lang, ALL, 0)?,
        audit: audit::lines(conn, user_id, ALL, 0)?.into_iter().map(audit_item).collect(),
        notifications: notifications.into_iter().map(Notification::from).collect(),
        messages: messages(conn, &recipients)?,
    })
}

/// Everything stored about a guest buyer: the orders placed without an account with this phone (E.164).
pub fn guest_data(
    conn: &mut Conn<'_>,
    state: &AppState,
    phone: &str,
    lang: Lang,
    now: NaiveDateTime,
) -> Result<GuestData, AppError> {
    let bought = store::bought_orders(conn, Buyer::Guest(phone))?;
    let mut recipients = vec![phone.to_owned()];
    let orders = purchases(conn, state, &bought, lang, &mut recipients)?;
    Ok(GuestData { exported_at: now.and_utc(), orders, messages: messages(conn, &recipients)? })
}

/// The orders with the contact details given for each; adds those phones and emails to `recipients`.
fn purchases(
    conn: &mut Conn<'_>,
    state: &AppState,
    ids: &[i64],
    lang: Lang,
    recipients: &mut Vec<String>,
) -> Result<Vec<Purchase>, AppError> {
    let mut bought = Vec::with_capacity(ids.len());
    for contact in store::order_contacts(conn, ids)? {
        recipients.push(contact.buyer_phone.clone());
        recipients.extend(contact.buyer_email.clone());
        let order = load_order(conn, state, contact.order_id, lang)?;
        let contact = OrderContact {
            buyer_name: contact.buyer_name,
            buyer_phone: contact.buyer_phone,
            buyer_email: contact.buyer_email,
            street: contact.street,
            note: contact.note,
        };
        bought.push(Purchase { contact, order });
    }
    Ok(bought)
}

fn messages(conn: &mut Conn<'_>, recipients: &[String]) -> Result<Vec<SentMessage>, AppError> {
    Ok(store::messages_to(conn, recipients)?
        .into_iter()
        .map(|row| SentMessage {
            id: row.id,
            channel: row.channel,
            kind: row.kind,
            to: row.recipient,
            subject: row.subject,
            body: row.body,
            status: row.status,
            created_at: row.created_at.and_utc(),
            sent_at: row.sent_at.map(|at| at.and_utc()),
        })
        .collect())
}

/// 409 naming the orders that must finish before a person's data can be erased.
fn refuse_unfinished(codes: Vec<String>) -> Result<(), AppError> {
    if codes.is_empty() {
        return Ok(());
    }
    let list = codes.join(", ");
    let mut error = AppError::new(
        Kind::Conflict,
        "orders_open",
        Text::new(
            format!("Các đơn sau chưa xong, hãy chờ chúng hoàn tất hoặc huỷ trước khi xoá dữ liệu: {list}."),
            format!("These orders are not finished; wait for them or cancel them before erasing your data: {list}."),
        ),
    );
    error.set_errors(
        codes
            .into_iter()
            .map(|code| {
                let text = Text::new(format!("Đơn {code} chưa xong."), format!("Order {code} is not finished."));
                FieldError::new(format!("order:{code}"), "order_open", text)
            })
            .collect(),
    );
    Err(error)
}

/// Anonymises orders and forgets the messages sent about them to the buyer (and to `recipients`).
fn erase_purchases(
    conn: &mut Conn<'_>,
    ids: &[i64],
    mut recipients: Vec<String>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    for contact in store::order_contacts(conn, ids)? {
        recipients.push(contact.buyer_phone);
        recipients.extend(contact.buyer_email);
    }
    store::erase_orders(conn, ids, now)?;
    store::erase_messages(conn, &recipients)?;
    recipients.iter().try_for_each(|recipient| store::erase_replies(conn, recipient))?;
    store::delete_codes(conn, ids)
}

/// Erases a person with an account once none of their orders (bought or sold) is unfinished. Whether listings
/// left the catalogue.
pub fn erase_person(conn: &mut Conn<'_>, user_id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    let bought = store::bought_orders(conn, Buyer::Account(user_id))?;
    let mut open = store::unfinished(conn, &bought)?;
    open.extend(store::unfinished_sales(conn, user_id)?);
    refuse_unfinished(open)?;
    let (phone, email) = store::account_contact(conn, user_id)?;
    erase_purchases(conn, &bought, phone.into_iter().chain(email).collect(), now)?;
    let withdrawn = store::withdraw_listings(conn, user_id, now)?;
    store::erase_reject_reasons(conn, user_id)?;
    store::delete_sessions_and_notifications(conn, user_id)?;
    store::erase_account(conn, user_id, now)?;
    Ok(withdrawn > 0)
}

/// Erases a guest buyer's orders (placed without an account with this phone) once none is unfinished.
pub fn erase_guest(conn: &mut Conn<'_>, phone: &str, now: NaiveDateTime) -> Result<(), AppError> {
    let bought = store::bought_orders(conn, Buyer::Guest(phone))?;
    refuse_unfinished(store::unfinished(conn, &bought)?)?;
    store::forget_keys(conn, &guest_scope(phone))?;
    erase_purchases(conn, &bought, Vec::new(), now)
}

/// Checks the PIN (farmers) or password (buyers) a person confirms an erasure with, under the login's limits
/// (a wrong one counts against the same lockout as a wrong login): 401 when wrong, 429 once locked. Helpers
/// and operators are staff accounts, closed by an operator.
pub async fn confirm_secret(
    state: &AppState,
    user: &SessionUser,
    secret: String,
    address: &str,
) -> Result<(), AppError> {
    if !matches!(user.role, Role::Farmer | Role::Buyer) {
        return Err(wrong_role());
    }
    let id = user.id;
    let (hash, (phone, email)) = state
        .db
        .read(move |conn| Ok((crate::accounts::store::secret_hash(conn, id)?, store::account_contact(conn, id)?)))
        .await?;
    let pin = user.role == Role::Farmer;
    let login = if pin { phone.unwrap_or_default() } else { email.or(phone).unwrap_or_default() };
    let subject = if pin { pin_login_subject(&login) } else { format!("login:{login}") };
    let candidate = Credentials { id, role: user.role, secret_hash: hash };
    check_login(state, &subject, address, secret, vec![candidate], pin).await.map(drop)
}

/// Erases the logged-in person after `confirm_secret`.
pub async fn erase_me(state: &web::Data<AppState>, user_id: i64) -> Result<(), AppError> {
    let now = state.clock.now();
    if state.db.write(move |conn| erase_person(conn, user_id, now)).await? {
        catalogue::invalidate(&state.cache).await;
    }
    Ok(())
}

/// A guest's order, found by its code and the phone it was placed with: 404 otherwise, and for orders placed
/// from an account (their buyer logs in and uses `/me/export`).
pub async fn guest_order(state: &web::Data<AppState>, code: &str, phone: &str) -> Result<OrderRow, AppError> {
    let order = order_for(state, None, code, Some(phone)).await?;
    if order.buyer_id.is_some() { Err(AppError::not_found()) } else { Ok(order) }
}

fn too_many_codes() -> AppError {
    let mut error = AppError::new(
        Kind::TooManyRequests,
        "too_many_codes",
        Text::new(
            format!("Đơn này đã xin {CODES_PER_HOUR} mã trong một giờ qua. Vui lòng thử lại sau."),
            format!("{CODES_PER_HOUR} codes were asked for this order in the past hour. Please try again later."),
        ),
    );
    error.set_retry_after(3600);
    error
}

/// Texts a new one-time code to the phone of a guest's order (voiding its earlier codes): when it expires.
pub async fn send_code(state: &AppState, order: &OrderRow, lang: Lang) -> Result<NaiveDateTime, AppError> {
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let hash = hash_secret(code.clone()).await?;
    let now = state.clock.now();
    let expires_at = now + Duration::minutes(CODE_MINUTES);
    let (order_id, order_code, phone) = (order.id, order.code.clone(), order.buyer_phone.clone());
    state
        .db
        .write(move |conn| {
            if store::codes_since(conn, order_id, now - Duration::hours(1))? >= CODES_PER_HOUR {
                return Err(too_many_codes());
            }
            store::insert_code(conn, order_id, &hash, now, expires_at)?;
            let to = Person { user_id: None, email: None, phone: Some(phone.as_str()) };
            let minutes = CODE_MINUTES.to_string();
            let values = [("otp", code.as_str()), ("code", order_code.as_str()), ("minutes", minutes.as_str())];
            outbox::notify(conn, to, Template::PrivacyCode, lang, &values, now)
        })
        .await?;
    Ok(expires_at)
}

fn wrong_code() -> AppError {
    AppError::new(
        Kind::Forbidden,
        "privacy_code_invalid",
        Text::new(
            "Mã xác nhận không đúng hoặc đã hết hạn. Hãy xin mã mới.",
            "The code is wrong, used or expired. Ask for a new one.",
        ),
    )
}

/// Checks a guest's one-time code for an order (each check takes one of its tries first): the id of the code,
/// to use up in the transaction of what it allows. 403 when wrong, used, expired or out of tries.
pub async fn check_code(state: &AppState, order: &OrderRow, code: &str) -> Result<i64, AppError> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid_field(
            "code",
            "code_format",
            Text::new("Mã xác nhận gồm 6 chữ số.", "The code is 6 digits."),
        ));
    }
    let (order_id, now) = (order.id, state.clock.now());
    let taken = state.db.write(move |conn| store::take_try(conn, order_id, CODE_TRIES, now)).await?;
    let Some((id, hash)) = taken else { return Err(wrong_code()) };
    if verify_secret(code.to_owned(), Some(hash)).await? { Ok(id) } else { Err(wrong_code()) }
}

/// Uses up a checked code inside the transaction of what it allows: a code is good for one answer.
pub fn use_code(conn: &mut Conn<'_>, id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    if store::use_code(conn, id, now)? { Ok(()) } else { Err(wrong_code()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_orders_are_named_in_the_conflict() {
        let error = refuse_unfinished(vec!["NS-7KQ-4M9-XHC".into(), "NS-M4N-C9G-2R9".into()]).expect_err("open");
        assert_eq!(error.code, "orders_open");
        assert_eq!(error.kind, Kind::Conflict);
        assert!(error.detail.as_ref().is_some_and(|d| d.en.contains("NS-7KQ-4M9-XHC, NS-M4N-C9G-2R9")));
        assert_eq!(error.errors.len(), 2);
        assert_eq!(error.errors[1].field, "order:NS-M4N-C9G-2R9");
        assert!(refuse_unfinished(Vec::new()).is_ok());
    }
}
