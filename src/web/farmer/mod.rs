//! The farmer's pages: log in or sign up with phone and PIN (`account`), what needs an answer first and the
//! answers to orders (`orders`), listing from a photo and three fields or one sentence (`new_listing`), their
//! listings (`listings`), their money and who acted for them (`oversight`), what they were told and how
//! (`messages`). Every page works on the farmer's seat (`super::seat`): the farmer, or a helper acting for
//! them, who uses the very same pages and is audited exactly as the API audits them.

pub mod account;
pub mod listings;
pub mod messages;
pub mod new_listing;
pub mod orders;
pub mod oversight;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::seat::{Seat, farmer_seat};
use super::visitor::Visitor;
use super::words::farmer::Farmer;
use super::{Frame, page_with_status, see_other};
use crate::domain::status::Role;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "farmer_refused.html")]
struct Refused {
    frame: Frame,
    w: &'static Farmer,
}

/// The seat of a farmer page, or the answer for whoever has none: the log-in page (nobody logged in; 401 for a
/// form, which cannot act for nobody), `/helper` to choose a household (a helper acting for nobody), or 403
/// (buyers and operators, whose accounts cannot sell).
pub async fn seat_or_door(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    visitor: &Visitor,
) -> Result<Result<Seat, HttpResponse>, AppError> {
    if let Some(seat) = farmer_seat(state, visitor).await? {
        return Ok(Ok(seat));
    }
    let door = match visitor.user.as_ref().map(|user| user.role) {
        None | Some(Role::Farmer) => {
            let status =
                if req.method() == actix_web::http::Method::GET { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
            account::login_page(req, visitor, status)?
        }
        Some(Role::Helper) => see_other(visitor, "/helper").finish(),
        Some(Role::Buyer | Role::Operator) => {
            let refused = Refused { frame: Frame::new(visitor, req), w: Farmer::of(visitor.lang) };
            page_with_status(visitor, &refused, StatusCode::FORBIDDEN)?
        }
    };
    Ok(Err(door))
}

/// The farmer's own seat, for what is theirs alone (who acts for them, their messages): a helper acting for
/// them is refused (the API's `FarmerSelf`).
pub async fn own_seat(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    visitor: &Visitor,
) -> Result<Result<Seat, HttpResponse>, AppError> {
    match seat_or_door(state, req, visitor).await? {
        Ok(seat) if seat.acting.on_behalf() => Err(crate::auth::wrong_role()),
        other => Ok(other),
    }
}

/// A form's idempotency key: the one it carries (400 when too long), else none (the write is then not keyed,
/// as in the API without the header).
fn form_key(posted: &str) -> Result<Option<String>, AppError> {
    if posted.trim().is_empty() { Ok(None) } else { crate::idempotency::check_key(posted).map(Some) }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(account::routes)
        .configure(orders::routes)
        .configure(new_listing::routes)
        .configure(listings::routes)
        .configure(messages::routes)
        .configure(oversight::routes);
}
