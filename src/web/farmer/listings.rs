//! The farmer's listings: change the price and what is left, pause and sell again, with the API's edit rule
//! (`listings::selling::update`: price and stock read in the listing's unit, the same checks, the same audit).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::seat_or_door;
use crate::domain::money::format_vnd;
use crate::domain::status::ListingStatus;
use crate::error::{AppError, Kind};
use crate::http::Page;
use crate::listings::rules::NumberOrText;
use crate::listings::{Listing, ListingUpdate, selling};
use crate::state::AppState;
use crate::web::forms::field_messages;
use crate::web::seat::Seat;
use crate::web::visitor::{Form, Visitor};
use crate::web::words::farmer::Farmer;
use crate::web::{Frame, page_with_status, see_other};

/// Listings a page shows.
const PER_PAGE: u32 = 30;

/// One listing with its edit form.
struct Row {
    id: i64,
    title: String,
    thumb: Option<String>,
    unit: String,
    price: String,
    status: &'static str,
    paused: bool,
    sold_out: bool,
    /// Why an operator hid it, while hidden: the farmer cannot sell it again then.
    hidden_reason: Option<String>,
    /// What the fields hold: the listing's figures, or what was typed when it was refused.
    price_value: String,
    quantity_value: String,
    errors: BTreeMap<String, String>,
    saved: bool,
}

#[derive(Template)]
#[template(path = "farmer_listings.html")]
struct ListingsPage {
    frame: Frame,
    w: &'static Farmer,
    notice: Option<&'static str>,
    rows: Vec<Row>,
    next: Option<String>,
}

fn row(w: &Farmer, listing: Listing) -> Row {
    let paused = listing.status == ListingStatus::Paused;
    let status = match (paused, listing.sold_out) {
        _ if listing.hidden_reason.is_some() => w.hidden,
        (true, _) => w.paused,
        (false, true) => w.sold_out,
        (false, false) => w.on_sale,
    };
    Row {
        id: listing.id,
        thumb: listing.photo.map(|photo| photo.thumb_url),
        price: format!("{}/{}", format_vnd(listing.price_vnd), listing.unit_name),
        price_value: listing.price_vnd.to_string(),
        quantity_value: listing.quantity.to_string(),
        unit: listing.unit_name,
        title: listing.title,
        status,
        paused,
        sold_out: listing.sold_out,
        hidden_reason: listing.hidden_reason,
        errors: BTreeMap::new(),
        saved: false,
    }
}

#[derive(Deserialize)]
struct ListingsQuery {
    cursor: Option<String>,
    listed: Option<i64>,
    saved: Option<i64>,
}

/// A listing whose edit was refused: what was typed, and why.
struct Refused {
    id: i64,
    price: String,
    quantity: String,
    errors: BTreeMap<String, String>,
}

async fn listings_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    visitor: &Visitor,
    seat: &Seat,
    (query, refused): (ListingsQuery, Option<Refused>),
) -> Result<HttpResponse, AppError> {
    let w = Farmer::of(visitor.lang);
    let page = Page::from_query(Some(PER_PAGE), query.cursor.as_deref())?;
    let (listings, next_cursor) = page.finish(selling::own_listings(state, &seat.acting, page).await?);
    let mut rows: Vec<Row> = listings
        .into_iter()
        .filter(|listing| listing.status != ListingStatus::Archived)
        .map(|listing| row(w, listing))
        .collect();
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    for row in &mut rows {
        row.saved = query.saved == Some(row.id);
        if let Some(refused) = refused.as_ref().filter(|refused| refused.id == row.id) {
            row.price_value.clone_from(&refused.price);
            row.quantity_value.clone_from(&refused.quantity);
            row.errors.clone_from(&refused.errors);
        }
    }
    let page_ = ListingsPage {
        frame: seat.frame(visitor, req),
        w,
        notice: query.listed.map(|_| w.listed),
        rows,
        next: next_cursor.map(|cursor| format!("/farmer/listings?cursor={cursor}")),
    };
    page_with_status(visitor, &page_, status)
}

#[get("/farmer/listings")]
async fn show_listings(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<ListingsQuery>,
) -> Result<HttpResponse, AppError> {
    match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => listings_page(&state, &req, &visitor, &seat, (query.into_inner(), None)).await,
        Err(door) => Ok(door),
    }
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    price: String,
    #[serde(default)]
    quantity: String,
    /// `save` (price and stock), `pause` or `resume`.
    #[serde(default)]
    action: String,
}

#[post("/farmer/listings/{id}")]
async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<HttpResponse, AppError> {
    let seat = match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    let id = id.into_inner();
    let text = |value: &str| Some(NumberOrText::Text(value.to_owned()));
    let change = match form.action.as_str() {
        "pause" => ListingUpdate { status: Some(ListingStatus::Paused), ..ListingUpdate::default() },
        "resume" => ListingUpdate { status: Some(ListingStatus::Active), ..ListingUpdate::default() },
        _ => ListingUpdate { price: text(&form.price), quantity: text(&form.quantity), ..ListingUpdate::default() },
    };
    match selling::update(&state, &seat.acting, id, change).await {
        Ok(_) => Ok(see_other(&visitor, &format!("/farmer/listings?saved={id}#listing-{id}")).finish()),
        Err(error) if error.kind == Kind::Unprocessable => {
            let errors = field_messages(&error, visitor.lang);
            let refused = Refused { id, price: form.price, quantity: form.quantity, errors };
            let query = ListingsQuery { cursor: None, listed: None, saved: None };
            listings_page(&state, &req, &visitor, &seat, (query, Some(refused))).await
        }
        Err(error) => Err(error),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_listings).service(edit);
}
