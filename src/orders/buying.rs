//! What a buyer does with an order, the one path the API and the web app share: place it once per
//! `Idempotency-Key` (every field checked at once, the key claimed, the order placed and the key answered
//! with its code in one transaction; a retry gets the order this key placed, in its own language), see it
//! (by token, or as a guest with its phone), pay it by VietQR, cancel it.

use actix_web::web;
use chrono::SubsecRound;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::placement::{self, Item, Placement, ValidBuyer};
use super::rules::cancel_whole_order;
use super::store::{self, OrderRow};
use super::view::{Order, load_order};
use super::{codes, vietqr};
use crate::auth::rate_limit::Throttles;
use crate::auth::{Role, SessionUser, wrong_role};
use crate::domain::phone::Phone;
use crate::domain::status::ReasonCode;
use crate::error::{AppError, FieldError, Kind, Lang, Text};
use crate::idempotency::{self, Keyed, Once};
use crate::listings::catalogue;
use crate::state::AppState;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct BuyerDetails {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct Address {
    pub ward_code: i32,
    /// Street, hamlet, house number.
    pub street: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OrderRequest {
    pub items: Vec<Item>,
    /// Guests give it; a logged-in buyer's account details are used when absent.
    pub buyer: Option<BuyerDetails>,
    pub address: Address,
    /// `cod` (default) or `bank_transfer`.
    pub payment_method: Option<String>,
    pub note: Option<String>,
}

/// Places the order the request asks for, once per key: the order placed, or the one this key placed before.
/// `hash` fingerprints the request as sent (`idempotency::request_hash`), so the same key with another
/// request is refused. A guest's order counts against the guest order limits of its phone and of `address`
/// (the client's) once per key: a replay does not count again, a refused field check does not count at all.
pub async fn place_once(
    state: &web::Data<AppState>,
    user: Option<&SessionUser>,
    request: &OrderRequest,
    (key, hash): (&str, String),
    (lang, address): (Lang, &str),
) -> Result<Order, AppError> {
    let placement = checked_order(state, user, request, lang).await?;
    let guest_phone = user.is_none().then(|| placement.order.buyer.phone.clone());
    let scope = match user {
        Some(user) => format!("buyer:{}", user.id),
        None => guest_scope(&placement.order.buyer.phone),
    };
    let keyed = Keyed { scope, key: key.to_owned(), hash };
    if let Some(phone) = guest_phone.filter(|_| Throttles::of(state).enabled()) {
        // A replay is free: only a key not answered yet counts against the guest limits.
        let asked = keyed.clone();
        if let Some(answer) = state.db.read(move |conn| idempotency::answer_of(conn, &asked)).await? {
            return order_by_code(state, placed_code(&answer.body), lang).await;
        }
        Throttles::of(state).guest_order(address, &phone).await?;
    }
    match create_order(state, placement, keyed).await? {
        Once::Now(order) => Ok(order),
        // The order this key placed, as it is now, in this request's language.
        Once::Before(answer) => order_by_code(state, placed_code(&answer.body), lang).await,
    }
}

/// The code a key's answer names (keys answered before issue 13 stored the whole order).
fn placed_code(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|order| order.get("code")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.to_owned())
}

async fn order_by_code(state: &web::Data<AppState>, code: String, lang: Lang) -> Result<Order, AppError> {
    let state2 = state.clone();
    state
        .db
        .read(move |conn| {
            let order = store::order_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
            load_order(conn, &state2, order.id, lang)
        })
        .await
}

/// The buyer's details: as given, or from the logged-in buyer's account.
async fn buyer_details(
    state: &AppState,
    user: Option<&SessionUser>,
    given: Option<&BuyerDetails>,
) -> Result<Result<ValidBuyer, Vec<FieldError>>, AppError> {
    if user.is_some_and(|u| u.role != Role::Buyer) {
        return Err(wrong_role());
    }
    Ok(match (given, user) {
        (Some(details), _) => placement::check_buyer(&details.name, &details.phone, details.email.as_deref()),
        (None, Some(user)) => {
            let id = user.id;
            let account = state.db.read(move |conn| crate::accounts::store::profile(conn, id)).await?;
            match account.phone {
                Some(phone) => Ok(ValidBuyer { name: account.name, phone, email: account.email }),
                None => Err(vec![FieldError::new(
                    "buyer.phone",
                    "phone_required",
                    Text::new(
                        "Cần số điện thoại để người giao hàng liên hệ.",
                        "A phone number is needed for delivery.",
                    ),
                )]),
            }
        }
        (None, None) => Err(vec![FieldError::new(
            "buyer",
            "buyer_required",
            Text::new("Cần tên và số điện thoại người nhận.", "The buyer's name and phone are needed."),
        )]),
    })
}

/// Every field of an order request checked at once: one answer lists every problem.
pub async fn checked_order(
    state: &AppState,
    user: Option<&SessionUser>,
    request: &OrderRequest,
    lang: Lang,
) -> Result<Placement, AppError> {
    let buyer = buyer_details(state, user, request.buyer.as_ref()).await?;
    let order = placement::OrderFields {
        items: &request.items,
        ward_code: request.address.ward_code,
        street: &request.address.street,
        note: request.note.as_deref(),
        payment_method: request.payment_method.as_deref(),
    };
    Ok(Placement {
        order: placement::check_order(&state.reference.places, buyer, &order)?,
        buyer_id: user.map(|u| u.id),
        lang,
        confirm_hours: state.settings.confirm_hours,
        bank_account: state.settings.bank_account.clone(),
    })
}

/// Places the order in one transaction with the key's claim, which stores the order's code as the key's
/// answer: a retry sent meanwhile waits for this transaction, then gets the order (or the key, if nothing was
/// placed). `Before`: the key had placed an order already.
async fn create_order(
    state: &web::Data<AppState>,
    placement: Placement,
    keyed: Keyed,
) -> Result<Once<Order>, AppError> {
    // What PostgreSQL keeps of a time, so the order built from what was written reads as it will read back.
    let now = state.clock.now().trunc_subsecs(6);
    let state2 = state.clone();
    let placed = state
        .db
        .write(move |conn| {
            let code = codes::new_order_code(&mut rand::rng());
            let answer = idempotency::Answer { status: 201, body: code.clone() };
            if let Some(before) = idempotency::claim(conn, &keyed, Some(&answer), now)? {
                return Ok(Once::Before(before));
            }
            let order = placement::place(conn, &state2, &placement, code, now)?;
            if order.code != answer.body {
                // The code drawn first was taken by another order: the key answers the one this order got.
                idempotency::complete(conn, &keyed.scope, &keyed.key, 201, &order.code)?;
            }
            Ok(Once::Now(order))
        })
        .await?;
    if matches!(placed, Once::Now(_)) {
        catalogue::invalidate(&state.cache).await;
    }
    Ok(placed)
}

/// Whose `Idempotency-Key`s a guest's orders are placed under: their phone's (E.164).
pub fn guest_scope(phone: &str) -> String {
    format!("guest:{phone}")
}

/// The order, for its buyer (token) or a guest who gives the order's phone; anyone else gets 404. A wrong
/// phone counts against the order's limit of failed look-ups (429 past it); the right one is never refused.
pub async fn order_for(
    state: &web::Data<AppState>,
    user: Option<&SessionUser>,
    code: &str,
    phone: Option<&str>,
) -> Result<OrderRow, AppError> {
    let code = codes::normalise_order_code(code).ok_or_else(AppError::not_found)?;
    let order = state.db.read(move |conn| store::order_by_code(conn, &code)).await?.ok_or_else(AppError::not_found)?;
    let by_token = user.is_some_and(|u| Some(u.id) == order.buyer_id);
    let by_phone = phone.and_then(|p| Phone::parse(p).ok()).is_some_and(|p| p.as_str() == order.buyer_phone);
    match phone {
        _ if by_token || by_phone => Ok(order),
        Some(_) => Err(Throttles::of(state).failed_lookup(&order.code).await),
        None => Err(AppError::not_found()),
    }
}

/// An order as its buyer sees it, in their language.
pub async fn view(state: &web::Data<AppState>, order_id: i64, lang: Lang) -> Result<Order, AppError> {
    let state2 = state.clone();
    state.db.read(move |conn| load_order(conn, &state2, order_id, lang)).await
}

/// The buyer cancels the order (possible until a shipment is picked up); 409 when it is cancelled already.
pub async fn cancel(state: &web::Data<AppState>, order_id: i64, lang: Lang) -> Result<Order, AppError> {
    let (state2, now) = (state.clone(), state.clock.now());
    let cancelled = state
        .db
        .write(move |conn| {
            if cancel_whole_order(conn, order_id, ReasonCode::BuyerCancelled, now)?.is_none() {
                return Err(AppError::new(
                    Kind::Conflict,
                    "order_not_cancellable",
                    Text::new("Đơn hàng này đã hủy.", "This order is already cancelled."),
                ));
            }
            load_order(conn, &state2, order_id, lang)
        })
        .await?;
    catalogue::invalidate(&state.cache).await;
    Ok(cancelled)
}

/// The VietQR image of the transfer still due; 409 when nothing is to be paid by transfer.
pub async fn qr_png(state: &web::Data<AppState>, order_id: i64, lang: Lang) -> Result<Vec<u8>, AppError> {
    let Some(payment) = view(state, order_id, lang).await?.payment.vietqr else {
        return Err(AppError::new(
            Kind::Conflict,
            "no_payment_due",
            Text::new(
                "Đơn này không cần chuyển khoản: thanh toán khi nhận hàng, đã thanh toán, hoặc không còn hàng nào được giao.",
                "Nothing is to be paid by transfer for this order: cash on delivery, already paid, or nothing left to deliver.",
            ),
        ));
    };
    vietqr::qr_png(&payment.payload).map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_answer_names_the_order_it_placed() {
        assert_eq!(placed_code("NS-7KQ-4M9-XHC"), "NS-7KQ-4M9-XHC");
        assert_eq!(placed_code(r#"{"code": "NS-7KQ-4M9-XHC", "status": "placed"}"#), "NS-7KQ-4M9-XHC");
    }
}
