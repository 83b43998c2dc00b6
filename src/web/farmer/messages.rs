//! The farmer's messages: what the service told them (the API's `/me/notifications`, read as the page opens,
//! as a chat app marks a conversation read) and how they want to be told (the API's `PATCH /me`). Both are the
//! farmer's own: a helper acting for them is refused.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::own_seat;
use crate::accounts::rules::choose_how_told;
use crate::error::AppError;
use crate::messages::rules::open_inbox;
use crate::outbox::Preferences;
use crate::state::AppState;
use crate::web::visitor::{Form, Visitor};
use crate::web::words::farmer::Farmer;
use crate::web::{Frame, page, see_other};

/// One message as the page shows it.
struct Line {
    text: String,
    when: String,
    new: bool,
}

#[derive(Template)]
#[template(path = "farmer_messages.html")]
struct MessagesPage {
    frame: Frame,
    w: &'static Farmer,
    lines: Vec<Line>,
    told: Preferences,
    has_email: bool,
    saved_now: bool,
}

#[get("/farmer/messages")]
async fn messages(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let seat = match own_seat(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    let farmer_id = seat.farmer_id();
    let rows = open_inbox(&state.db, farmer_id, state.clock.now()).await?;
    let account = state.db.read(move |conn| crate::accounts::store::profile(conn, farmer_id)).await?;
    let lines = rows
        .into_iter()
        .map(|row| Line {
            text: row.text,
            when: crate::clock::vietnam_time(row.created_at),
            new: row.read_at.is_none(),
        })
        .collect();
    let page_ = MessagesPage {
        frame: seat.frame(&visitor, &req),
        w: Farmer::of(visitor.lang),
        lines,
        told: account.messages,
        has_email: account.email.is_some(),
        saved_now: req.query_string() == "saved=1",
    };
    page(&visitor, &page_)
}

/// Ticked boxes arrive, unticked ones do not.
#[derive(Deserialize)]
struct HowToldForm {
    texts: Option<String>,
    zalo: Option<String>,
    email: Option<String>,
}

#[post("/farmer/messages/how")]
async fn how_told(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<HowToldForm>,
) -> Result<HttpResponse, AppError> {
    let seat = match own_seat(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    let told = Preferences { email: form.email.is_some(), texts: form.texts.is_some(), zalo: form.zalo.is_some() };
    choose_how_told(&state.db, seat.farmer_id(), told, state.clock.now()).await?;
    Ok(see_other(&visitor, "/farmer/messages?saved=1").finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(messages).service(how_told);
}
