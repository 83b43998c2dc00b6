//! What a farmer (or a helper acting for them) does with the orders they receive, the one path the API and
//! the web app share: see their shipments, accept one in a tap, reject one with a reason. An answer sent with
//! an `Idempotency-Key` is given once however often a phone sends it again (an offline queue, a lost reply):
//! the retry gets the first answer and changes nothing.

use actix_web::web;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::rules;
use super::store;
use super::view::{Shipment, load_order};
use crate::audit;
use crate::auth::ActingFarmer;
use crate::cache::Cache;
use crate::db::{Conn, Db};
use crate::domain::status::{AuditAction, ConsentPurpose, ShipmentStatus};
use crate::domain::text::optional_text;
use crate::error::{AppError, Kind, Lang, Text};
use crate::http::Page;
use crate::idempotency::{self, Keyed};
use crate::listings::catalogue;
use crate::reference::PlaceRef;
use crate::state::AppState;

/// One of the farmer's shipments with what they need to know of its order.
#[derive(Serialize, ToSchema)]
pub struct FarmerShipment {
    pub order_code: String,
    pub buyer_name: String,
    pub ward: PlaceRef,
    pub shipment: Shipment,
}

/// The farmer's shipments, newest first (a helper's look is audited). One more than `page.limit` may come
/// back: `page.finish` turns it into the next cursor.
pub async fn farmer_shipments(
    state: &web::Data<AppState>,
    acting: &ActingFarmer,
    lang: Lang,
    page: Page,
) -> Result<Vec<FarmerShipment>, AppError> {
    let (state2, farmer_id) = (state.clone(), acting.farmer_id);
    let view = move |conn: &mut Conn<'_>| shipments_of(conn, &state2, farmer_id, lang, page.fetch_limit(), page.offset);
    audit::read_for(&state.db, acting, AuditAction::ViewShipments, state.clock.now(), view).await
}

/// A farmer's shipments with their orders, newest first: `limit` of them after `offset`.
pub fn shipments_of(
    conn: &mut Conn<'_>,
    state: &AppState,
    farmer_id: i64,
    lang: Lang,
    limit: i64,
    offset: i64,
) -> Result<Vec<FarmerShipment>, AppError> {
    let rows = store::farmer_shipment_orders(conn, farmer_id, limit, offset)?;
    let mut items = Vec::with_capacity(rows.len());
    for (shipment_id, order_id) in rows {
        let order = load_order(conn, state, order_id, lang)?;
        if let Some(shipment) = order.shipments.into_iter().find(|s| s.id == shipment_id) {
            items.push(FarmerShipment {
                order_code: order.code,
                buyer_name: order.buyer_name,
                ward: order.ward,
                shipment,
            });
        }
    }
    Ok(items)
}

/// A farmer's answer to a shipment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Accept,
    /// With the reason the buyer is told, as the farmer gave it.
    Reject(String),
}

impl Answer {
    /// A rejection with its reason checked: one line, at most 300 characters, not empty.
    pub fn reject(reason: &str) -> Result<Answer, AppError> {
        match optional_text("reason", Some(reason), 300)? {
            Some(reason) => Ok(Answer::Reject(reason)),
            None => Err(AppError::invalid_field(
                "reason",
                "reason_required",
                Text::new("Hãy cho người mua biết lý do.", "Tell the buyer why."),
            )),
        }
    }

    fn action(&self) -> AuditAction {
        match self {
            Answer::Accept => AuditAction::AcceptShipment,
            Answer::Reject(_) => AuditAction::RejectShipment,
        }
    }
}

fn shipment_conflict(status: ShipmentStatus) -> AppError {
    AppError::new(
        Kind::Conflict,
        "shipment_state",
        Text::new(format!("Phần đơn này đang ở trạng thái {status}."), format!("This shipment is {status}.")),
    )
}

/// The farmer's shipment `id`, or 404 (another farmer's shipment exists but is not theirs to see).
fn own_shipment(conn: &mut Conn<'_>, acting: &ActingFarmer, id: i64) -> Result<ShipmentStatus, AppError> {
    match store::shipment(conn, id)? {
        Some((_, farmer_id, status)) if farmer_id == acting.farmer_id => Ok(status),
        _ => Err(AppError::not_found()),
    }
}

/// Gives the answer in the caller's transaction: 409 when the shipment is no longer waiting for it.
fn give(
    conn: &mut Conn<'_>,
    acting: &ActingFarmer,
    id: i64,
    answer: &Answer,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    let status = own_shipment(conn, acting, id)?;
    let given = match answer {
        Answer::Accept => rules::accept_shipment(conn, id, now)?,
        Answer::Reject(reason) => rules::reject_shipment(conn, id, reason, now)?,
    };
    if !given {
        return Err(shipment_conflict(status));
    }
    audit::record_acting(conn, acting, answer.action(), Some(id.to_string()), now)
}

/// Answers shipment `id` for the farmer, once per `key` when one is given: a retry with the same key and
/// answer changes nothing and succeeds as the first did; the same key with another answer is 422.
pub async fn answer(
    state: &web::Data<AppState>,
    acting: &ActingFarmer,
    id: i64,
    answer: Answer,
    key: Option<String>,
) -> Result<(), AppError> {
    acting.may(ConsentPurpose::AnswerOrders)?;
    let now = state.clock.now();
    let keyed = match key {
        Some(key) => {
            let asked = json!({"shipment_id": id, "action": answer.action(), "answer": match &answer {
                Answer::Accept => None,
                Answer::Reject(reason) => Some(reason),
            }});
            let hash = idempotency::request_hash(&serde_json::to_vec(&asked).map_err(AppError::internal)?)?;
            Some(Keyed { scope: format!("farmer:{}", acting.farmer_id), key, hash })
        }
        None => None,
    };
    let (acting2, answer2) = (acting.clone(), answer.clone());
    state
        .db
        .write(move |conn| {
            // The key joins the answer's transaction: a retry sent while the first runs waits, then finds
            // the key answered and changes nothing.
            let done = idempotency::Answer { status: 204, body: String::new() };
            if let Some(keyed) = &keyed
                && idempotency::claim(conn, keyed, Some(&done), now)?.is_some()
            {
                return Ok(());
            }
            give(conn, &acting2, id, &answer2, now)
        })
        .await?;
    if matches!(answer, Answer::Reject(_)) {
        // The stock went back on sale.
        catalogue::invalidate(&state.cache).await;
    }
    Ok(())
}

/// Runs [`rules::expire_due`] (shipments nobody answered, transfers that never came) as the background step
/// does and, when stock came back, makes every cached catalogue page stale: the restored listings show at
/// once rather than when the page cache lapses.
pub async fn expire_due(
    db: &Db,
    cache: &Cache,
    now: chrono::NaiveDateTime,
    unpaid_hours: u64,
) -> Result<rules::Expired, AppError> {
    let expired = db.write(move |conn| rules::expire_due(conn, now, unpaid_hours)).await?;
    if expired != rules::Expired::default() {
        catalogue::invalidate(cache).await;
    }
    Ok(expired)
}
