//! The operator's look-ups: orders found by code or the buyer's phone (one box), one order whole (the read is
//! audited, as in the API), and one listing, to hide with a reason or show again. The rules are the API's
//! (`orders::lookup`, `admin::lookups`, `admin::rules`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::forms::{Refusal, plain_words};
use super::operator::operator_or_page;
use super::track::{Parcel, parcel, status_text, when};
use super::visitor::{Form, Visitor};
use super::words::buyer::Buyer;
use super::words::lookups::Lookups;
use super::{Frame, or_show, page, page_with_status};
use crate::admin::{lookups as admin_lookups, rules};
use crate::domain::money::format_vnd;
use crate::domain::status::{PaymentMethod, RefundStatus};
use crate::error::AppError;
use crate::http::Page;
use crate::listings::Listing;
use crate::orders::lookup::{self, OrderDetails};
use crate::orders::store::OrderFilter;
use crate::state::AppState;

/// One order in the list.
struct Found {
    code: String,
    status: &'static str,
    buyer: String,
    total: String,
    date: String,
}

#[derive(Template)]
#[template(path = "operator_orders.html")]
struct OrdersPage {
    frame: Frame,
    l: &'static Lookups,
    q: String,
    orders: Vec<Found>,
    /// Where the next page is, when there is one.
    more: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    cursor: Option<String>,
}

/// Orders by code or the buyer's phone; the newest without either.
#[get("/operator/orders")]
async fn find_orders(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let (l, b) = (Lookups::of(visitor.lang), Buyer::of(visitor.lang));
    let q = query.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let mut page_ = OrdersPage { frame: Frame::new(&visitor, &req), l, q, orders: Vec::new(), more: None, error: None };
    let filter = if page_.q.is_empty() { Ok(OrderFilter::default()) } else { lookup::code_or_phone(&page_.q) };
    let found = match filter {
        Ok(filter) => {
            let at = Page::from_query(None, query.cursor.as_deref())?;
            Ok(at.finish(lookup::search(&state, filter, at).await?))
        }
        Err(error) => Err(error),
    };
    let status = match found {
        Ok((orders, next)) => {
            page_.orders = orders
                .into_iter()
                .map(|order| Found {
                    status: status_text(b, order.status),
                    buyer: format!("{} · {}", order.buyer_name, order.buyer_phone),
                    total: format_vnd(order.total_vnd),
                    date: when(order.created_at),
                    code: order.code,
                })
                .collect();
            let q: String = form_urlencoded::byte_serialize(page_.q.as_bytes()).collect();
            page_.more = next.map(|cursor| format!("/operator/orders?q={q}&cursor={cursor}"));
            StatusCode::OK
        }
        Err(error) if error.kind.status().is_client_error() => {
            page_.error = Some(plain_words(&error, visitor.lang));
            error.kind.status()
        }
        Err(error) => return Err(error),
    };
    page_with_status(&visitor, &page_, status)
}

/// What an operator needs of a farmer's parcel besides what the buyer sees.
struct ParcelExtra {
    phone: Option<String>,
    /// (id, title) of the listings it holds, to open.
    listings: Vec<(i64, String)>,
    /// The carrier's job: "#id · status · partner".
    job: Option<String>,
}

#[derive(Template)]
#[template(path = "operator_order.html")]
struct OrderPage {
    frame: Frame,
    l: &'static Lookups,
    w: &'static Buyer,
    code: String,
    status: &'static str,
    buyer: String,
    phone: String,
    email: Option<String>,
    address: String,
    note: Option<String>,
    payment: String,
    total: String,
    due: Option<String>,
    /// Each parcel as its buyer sees it, and what else an operator needs of it.
    parcels: Vec<(Parcel, ParcelExtra)>,
    refunds: Vec<String>,
}

fn order_page(l: &'static Lookups, w: &'static Buyer, frame: Frame, details: OrderDetails) -> OrderPage {
    let OrderDetails { order, buyer, farmers, jobs, refunds } = details;
    let parcels = order
        .shipments
        .iter()
        .map(|shipment| {
            let extra = ParcelExtra {
                phone: farmers.iter().find(|f| f.id == shipment.farmer.id).and_then(|f| f.phone.clone()),
                listings: shipment.lines.iter().map(|line| (line.listing_id, line.title.clone())).collect(),
                job: jobs.iter().find(|job| job.shipment_id == shipment.id).map(|job| {
                    let partner = job.partner.as_ref().map(|p| format!(" · {}", p.name)).unwrap_or_default();
                    format!("#{} · {}{partner}", job.id, job.status)
                }),
            };
            (parcel(w, &order, shipment), extra)
        })
        .collect();
    let method = match order.payment.method {
        PaymentMethod::Cod => l.cod,
        PaymentMethod::BankTransfer => l.transfer,
    };
    let refund_word = |status| if status == RefundStatus::Owed { w.refund } else { w.refunded };
    OrderPage {
        frame,
        l,
        w,
        status: status_text(w, order.status),
        buyer: order.buyer_name.clone(),
        phone: buyer.phone,
        email: buyer.email,
        address: format!("{}, {}", order.street, order.ward.name),
        note: buyer.note,
        payment: format!("{method} · {}", order.payment.status),
        total: format_vnd(order.total_vnd),
        due: (order.due_vnd > 0).then(|| format_vnd(order.due_vnd)),
        parcels,
        refunds: refunds
            .iter()
            .map(|refund| format!("{}: {}", refund_word(refund.status), format_vnd(refund.amount_vnd)))
            .collect(),
        code: order.code,
    }
}

/// One order whole, for an operator: the read is recorded in the operators' audit log.
#[get("/operator/orders/{code}")]
async fn read_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let Some(operator) = visitor.user.as_ref() else { return Err(crate::auth::wrong_role()) };
    let details = lookup::read(&state, operator.id, &code, visitor.lang).await?;
    let (l, w) = (Lookups::of(visitor.lang), Buyer::of(visitor.lang));
    page(&visitor, &order_page(l, w, Frame::new(&visitor, &req), details))
}

#[derive(Template)]
#[template(path = "operator_listing.html")]
struct ListingPage {
    frame: Frame,
    l: &'static Lookups,
    listing: Listing,
    price: String,
    /// What was just done.
    done: Option<&'static str>,
    errors: BTreeMap<String, String>,
    refusal: Option<String>,
}

/// The listing page after `outcome` (of hiding or showing again; none when simply opened).
async fn listing_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    req: &HttpRequest,
    id: i64,
    outcome: Result<Option<&'static str>, AppError>,
) -> Result<HttpResponse, AppError> {
    let listing = admin_lookups::listing(state, id).await?;
    let mut page_ = ListingPage {
        frame: Frame::new(visitor, req),
        l: Lookups::of(visitor.lang),
        price: format!("{}/{}", format_vnd(listing.price_vnd), listing.unit_name),
        listing,
        done: None,
        errors: BTreeMap::new(),
        refusal: None,
    };
    let status = match outcome {
        Ok(done) => {
            page_.done = done;
            StatusCode::OK
        }
        Err(error) => {
            let refusal = Refusal::of(error, visitor.lang)?;
            (page_.errors, page_.refusal) = (refusal.errors, refusal.said);
            refusal.status
        }
    };
    page_with_status(visitor, &page_, status)
}

#[get("/operator/listings/{id}")]
async fn show_listing(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    listing_page(&state, &visitor, &req, id.into_inner(), Ok(None)).await
}

#[derive(Deserialize)]
struct HideForm {
    reason: String,
}

#[post("/operator/listings/{id}/hide")]
async fn hide(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
    Form(form): Form<HideForm>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let Some(operator) = visitor.user.as_ref() else { return Err(crate::auth::wrong_role()) };
    let id = id.into_inner();
    let l = Lookups::of(visitor.lang);
    let outcome = rules::hide_listing(&state, operator.id, id, &form.reason).await.map(|_| Some(l.hidden_now));
    listing_page(&state, &visitor, &req, id, outcome).await
}

#[post("/operator/listings/{id}/unhide")]
async fn unhide(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
    Form(_): Form<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let Some(operator) = visitor.user.as_ref() else { return Err(crate::auth::wrong_role()) };
    let id = id.into_inner();
    let l = Lookups::of(visitor.lang);
    let outcome = rules::unhide_listing(&state, operator.id, id).await.map(|_| Some(l.unhidden_now));
    listing_page(&state, &visitor, &req, id, outcome).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(find_orders).service(read_order).service(show_listing).service(hide).service(unhide);
}
