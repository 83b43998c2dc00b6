//! What the farmer keeps an eye on: their money (the API's `/me/cod` view: delivered and paid, not in yet,
//! arrived), which teams they let act for them (the API's consents) and who acted for them (the API's audit
//! log), with the right to withdraw a consent or stop a helper. These are the farmer's own, as in the API: a
//! helper acting for them is refused.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use super::{own_seat, seat_or_door};
use crate::accounts::rules::{audit_of, revoke_helper};
use crate::consents::rules::{consents_of, withdraw};
use crate::domain::money::format_vnd;
use crate::domain::status::{AuditAction, ConsentPurpose};
use crate::error::AppError;
use crate::fulfilment::cod;
use crate::http::Page;
use crate::state::AppState;
use crate::web::visitor::{Form, Visitor};
use crate::web::words::farmer::Farmer;
use crate::web::{Frame, page, see_other};

#[derive(Template)]
#[template(path = "farmer_money.html")]
struct MoneyPage {
    frame: Frame,
    w: &'static Farmer,
    delivered: String,
    delivered_count: i64,
    owed: String,
    owed_count: i64,
    paid: String,
    paid_count: i64,
    shortfall: Option<String>,
}

#[get("/farmer/money")]
async fn money(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let seat = match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    let figures = cod::farmer_view(&state, &seat.acting).await?;
    let page_ = MoneyPage {
        frame: seat.frame(&visitor, &req),
        w: Farmer::of(visitor.lang),
        delivered: format_vnd(figures.owed_vnd.saturating_add(figures.paid_out_vnd)),
        delivered_count: figures.owed_shipments.saturating_add(figures.paid_out_shipments),
        owed: format_vnd(figures.owed_vnd),
        owed_count: figures.owed_shipments,
        paid: format_vnd(figures.paid_out_vnd),
        paid_count: figures.paid_out_shipments,
        shortfall: (figures.shortfall_vnd > 0).then(|| format_vnd(figures.shortfall_vnd)),
    };
    page(&visitor, &page_)
}

/// A helper who acted for the farmer.
struct Helper {
    id: i64,
    name: String,
    done: usize,
    revoked: bool,
}

/// One thing done for the farmer.
struct Done {
    what: &'static str,
    who: String,
    when: String,
}

/// A live consent: a team that may act for the farmer.
struct TeamConsent {
    id: i64,
    team: String,
    /// What the team may do, in the farmer's words.
    purposes: String,
    since: String,
}

#[derive(Template)]
#[template(path = "farmer_helpers.html")]
struct HelpersPage {
    frame: Frame,
    w: &'static Farmer,
    consents: Vec<TeamConsent>,
    helpers: Vec<Helper>,
    lines: Vec<Done>,
    notice: Option<&'static str>,
}

/// A consent's purpose, in the farmer's words.
fn purpose(w: &Farmer, purpose: ConsentPurpose) -> &'static str {
    match purpose {
        ConsentPurpose::ListProduce => w.purpose_list_produce,
        ConsentPurpose::AnswerOrders => w.purpose_answer_orders,
        ConsentPurpose::ResetPin => w.purpose_reset_pin,
    }
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    crate::clock::vietnam_time(at.naive_utc())
}

/// What an audited action was, in the farmer's words.
fn what(w: &Farmer, action: AuditAction) -> &'static str {
    match action {
        AuditAction::Enroll => w.did_enroll,
        AuditAction::ViewProfile => w.did_view_profile,
        AuditAction::UpdateProfile => w.did_update_profile,
        AuditAction::PinReset => w.did_pin_reset,
        AuditAction::UploadPhoto => w.did_upload_photo,
        AuditAction::CreateListing => w.did_create_listing,
        AuditAction::UpdateListing => w.did_update_listing,
        AuditAction::ViewListings => w.did_view_listings,
        AuditAction::ViewShipments => w.did_view_shipments,
        AuditAction::AcceptShipment => w.did_accept_shipment,
        AuditAction::RejectShipment => w.did_reject_shipment,
        AuditAction::AcceptShipmentBySms => w.did_accept_shipment_by_sms,
        AuditAction::RejectShipmentBySms => w.did_reject_shipment_by_sms,
        AuditAction::ViewCod => w.did_view_cod,
    }
}

/// The audit lines a page shows: the latest, enough to see who has been acting.
const LINES_SHOWN: u32 = 100;

#[get("/farmer/helpers")]
async fn helpers(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let seat = match own_seat(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    let w = Farmer::of(visitor.lang);
    let page_of = Page::from_query(Some(LINES_SHOWN), None)?;
    let (items, _) = page_of.finish(audit_of(&state.db, seat.farmer_id(), page_of).await?);
    let mut helpers: Vec<Helper> = Vec::new();
    for item in &items {
        match helpers.iter_mut().find(|helper| helper.id == item.actor.id) {
            Some(helper) => helper.done += 1,
            None => helpers.push(Helper {
                id: item.actor.id,
                name: item.actor.name.clone(),
                done: 1,
                revoked: item.actor.revoked,
            }),
        }
    }
    let lines = items
        .into_iter()
        .map(|item| Done { what: what(w, item.action), who: item.actor.name, when: when(item.at) })
        .collect();
    let farmer_id = seat.farmer_id();
    let consents = state
        .db
        .read(move |conn| consents_of(conn, farmer_id))
        .await?
        .into_iter()
        .filter(|consent| consent.revoked_at.is_none())
        .map(|consent| TeamConsent {
            id: consent.id,
            team: consent.team.name,
            purposes: consent.purposes.iter().map(|p| purpose(w, *p)).collect::<Vec<_>>().join(", "),
            since: when(consent.given_at),
        })
        .collect();
    let notice = match req.query_string() {
        "revoked=1" => Some(w.revoked_notice),
        "withdrawn=1" => Some(w.consent_withdrawn_notice),
        _ => None,
    };
    page(&visitor, &HelpersPage { frame: seat.frame(&visitor, &req), w, consents, helpers, lines, notice })
}

#[post("/farmer/helpers/{id}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
    Form(_): Form<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let seat = match own_seat(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    revoke_helper(&state.db, seat.farmer_id(), id.into_inner(), state.clock.now()).await?;
    Ok(see_other(&visitor, "/farmer/helpers?revoked=1").finish())
}

/// The farmer withdraws a consent: the team's helpers can no longer act for them, from this request on.
#[post("/farmer/consents/{id}/withdraw")]
async fn withdraw_consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
    Form(_): Form<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let seat = match own_seat(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    withdraw(&state.db, seat.farmer_id(), id.into_inner(), state.clock.now()).await?;
    Ok(see_other(&visitor, "/farmer/helpers?withdrawn=1").finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(money).service(helpers).service(revoke).service(withdraw_consent);
}
