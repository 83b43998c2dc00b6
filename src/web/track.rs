//! Following an order: the orders placed from this phone, one order with each farmer's parcel as a timeline
//! (ordered, accepted, picked up, on the way, delivered — or why it stopped), the VietQR code while a
//! transfer is due, and cancelling while nothing has left a farm. A guest's orders open with the phone they
//! ordered with (remembered in a cookie, or typed once).

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::basket::{ORDERS_COOKIE, PHONE_COOKIE};
use super::visitor::{Form, Visitor};
use super::words::buyer::Buyer;
use super::{Frame, page, see_other};
use crate::domain::money::format_vnd;
use crate::domain::status::{JobStatus, OrderStatus, PaymentMethod, RefundStatus, Role, ShipmentStatus};
use crate::error::AppError;
use crate::orders::buying;
use crate::orders::view::{Order, Shipment};
use crate::state::AppState;

/// One step of a parcel's way.
pub struct Step {
    pub label: &'static str,
    pub done: bool,
    pub when: Option<String>,
    /// A step where the way stopped (declined, cancelled, not delivered).
    pub stopped: bool,
    pub detail: Option<String>,
}

/// A farmer's parcel as the buyer follows it.
pub struct Parcel {
    pub farmer: String,
    pub lines: Vec<String>,
    pub fee: String,
    pub carrier: Option<String>,
    pub tracking_code: Option<String>,
    pub steps: Vec<Step>,
}

pub(super) fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    // Vietnam time: the buyer reads it on their phone, in their own hours.
    (at + chrono::Duration::hours(7)).format("%H:%M %d/%m").to_string()
}

/// The steps of one parcel, from its shipment and its carrier job.
fn steps(w: &Buyer, order: &Order, shipment: &Shipment) -> Vec<Step> {
    let step = |label, done: bool, at: Option<chrono::DateTime<chrono::Utc>>| Step {
        label,
        done,
        when: at.filter(|_| done).map(when),
        stopped: false,
        detail: None,
    };
    let stop = |label, detail: Option<String>| Step { label, done: true, when: None, stopped: true, detail };
    let mut steps = vec![step(w.step_placed, true, Some(order.created_at))];
    let reason = shipment.reject_reason.clone();
    match shipment.status {
        ShipmentStatus::Rejected => {
            steps.push(stop(w.step_rejected, reason));
            return steps;
        }
        ShipmentStatus::Cancelled if shipment.delivery.is_none() => {
            steps.push(stop(w.step_cancelled, reason));
            return steps;
        }
        _ => {}
    }
    let accepted = shipment.status != ShipmentStatus::Pending;
    steps.push(step(w.step_accepted, accepted, None));
    let job = shipment.delivery.as_ref().map(|delivery| delivery.status);
    let at = |wanted: &[JobStatus]| {
        shipment.delivery.as_ref().and_then(|delivery| {
            delivery.events.iter().rev().find(|e| e.applied && wanted.contains(&e.status)).map(|e| e.occurred_at)
        })
    };
    let picked_up = !matches!(job, None | Some(JobStatus::Available | JobStatus::Claimed | JobStatus::PickupFailed));
    let on_the_way = picked_up && job != Some(JobStatus::PickedUp);
    steps.push(step(w.step_picked_up, picked_up, at(&[JobStatus::PickedUp])));
    match job {
        Some(
            JobStatus::Returning | JobStatus::Returned | JobStatus::Lost | JobStatus::Damaged | JobStatus::Cancelled,
        ) => {
            steps.push(stop(w.step_failed, reason));
        }
        Some(JobStatus::DeliveryFailed) => {
            steps.push(step(w.step_on_the_way, true, at(&[JobStatus::InTransit, JobStatus::OutForDelivery])));
            steps.push(stop(w.step_failed, None));
        }
        _ => {
            steps.push(step(w.step_on_the_way, on_the_way, at(&[JobStatus::InTransit, JobStatus::OutForDelivery])));
            steps.push(step(w.step_delivered, job == Some(JobStatus::Delivered), at(&[JobStatus::Delivered])));
        }
    }
    steps
}

pub(super) fn parcel(w: &Buyer, order: &Order, shipment: &Shipment) -> Parcel {
    Parcel {
        farmer: shipment.farmer.name.clone(),
        lines: shipment.lines.iter().map(|line| format!("{} × {} {}", line.title, line.quantity, line.unit)).collect(),
        fee: format_vnd(shipment.fee_vnd),
        carrier: shipment.delivery.as_ref().and_then(|d| d.carrier.clone()),
        tracking_code: shipment.delivery.as_ref().and_then(|d| d.tracking_code.clone()),
        steps: steps(w, order, shipment),
    }
}

/// What an order's status means to its buyer.
pub(super) fn status_text(w: &Buyer, status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => w.status_placed,
        OrderStatus::Confirmed => w.status_confirmed,
        OrderStatus::InDelivery => w.status_in_delivery,
        OrderStatus::Completed => w.status_completed,
        OrderStatus::PartlyCancelled => w.status_partly_cancelled,
        OrderStatus::Cancelled => w.status_cancelled,
    }
}

/// The transfer still due, when the order is paid by VietQR.
struct Transfer {
    amount: String,
    memo: String,
    account: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    frame: Frame,
    w: &'static Buyer,
    code: String,
    placed: bool,
    status: &'static str,
    parcels: Vec<Parcel>,
    total: String,
    due: Option<String>,
    refund: Option<String>,
    refunded: Option<String>,
    transfer: Option<Transfer>,
    cancellable: bool,
    deliver_to: String,
}

#[derive(Template)]
#[template(path = "order_phone.html")]
struct AskPhone {
    frame: Frame,
    w: &'static Buyer,
    code: String,
    wrong: bool,
}

fn phone_of(req: &HttpRequest) -> Option<String> {
    req.cookie(PHONE_COOKIE).map(|cookie| cookie.value().to_owned())
}

fn buyer_of(visitor: &Visitor) -> Option<&crate::auth::SessionUser> {
    visitor.user.as_ref().filter(|user| user.role == Role::Buyer)
}

#[derive(Deserialize)]
struct OrderQuery {
    placed: Option<String>,
}

#[get("/orders/{code}")]
async fn order_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    code: web::Path<String>,
    query: web::Query<OrderQuery>,
) -> Result<HttpResponse, AppError> {
    let w = Buyer::of(visitor.lang);
    let row = match buying::order_for(&state, buyer_of(&visitor), &code, phone_of(&req).as_deref()).await {
        Ok(row) => row,
        Err(_) => {
            let ask = AskPhone { frame: Frame::new(&visitor, &req), w, code: code.into_inner(), wrong: false };
            return page(&visitor, &ask);
        }
    };
    let order = buying::view(&state, row.id, visitor.lang).await?;
    let refund_total = |status| {
        let sum: i64 = order.refunds.iter().filter(|r| r.status == status).map(|r| r.amount_vnd).sum();
        (sum > 0).then(|| format_vnd(sum))
    };
    let transfer = order.payment.vietqr.as_ref().map(|qr| Transfer {
        amount: format_vnd(qr.amount_vnd),
        memo: qr.memo.clone(),
        account: state.settings.bank_account.clone(),
    });
    let page_ = OrderPage {
        frame: Frame::new(&visitor, &req),
        w,
        placed: query.placed.is_some(),
        status: status_text(w, order.status),
        parcels: order.shipments.iter().map(|shipment| parcel(w, &order, shipment)).collect(),
        total: format_vnd(order.total_vnd),
        due: (order.due_vnd > 0 && order.payment.method == PaymentMethod::Cod).then(|| format_vnd(order.due_vnd)),
        refund: refund_total(RefundStatus::Owed),
        refunded: refund_total(RefundStatus::Done),
        transfer,
        cancellable: matches!(order.status, OrderStatus::Placed | OrderStatus::Confirmed),
        deliver_to: format!("{}, {}, {}", order.buyer_name, order.street, order.ward.name),
        code: order.code,
    };
    page(&visitor, &page_)
}

#[derive(Deserialize)]
struct LookUp {
    code: String,
    phone: String,
}

/// A guest opens an order with its code and the phone they ordered with; the phone is remembered.
#[post("/orders/look-up")]
async fn look_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<LookUp>,
) -> Result<HttpResponse, AppError> {
    match buying::order_for(&state, None, &form.code, Some(&form.phone)).await {
        Ok(row) => {
            let mut response = see_other(&visitor, &format!("/orders/{}", row.code));
            if let Ok(phone) = crate::domain::phone::Phone::parse(&form.phone) {
                visitor.remember(&mut response, PHONE_COOKIE, phone.as_str().to_owned());
            }
            Ok(response.finish())
        }
        Err(_) => {
            let w = Buyer::of(visitor.lang);
            let ask = AskPhone { frame: Frame::new(&visitor, &req), w, code: form.code, wrong: true };
            super::page_with_status(&visitor, &ask, actix_web::http::StatusCode::NOT_FOUND)
        }
    }
}

/// The VietQR image of the transfer due, for the order page (the phone stays in its cookie, not the URL).
#[get("/orders/{code}/qr.png")]
async fn order_qr(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let row = buying::order_for(&state, buyer_of(&visitor), &code, phone_of(&req).as_deref()).await?;
    let png = buying::qr_png(&state, row.id, visitor.lang).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/png"))
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .body(png))
}

#[post("/orders/{code}/cancel")]
async fn cancel_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    code: web::Path<String>,
    Form(_): Form<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let row = buying::order_for(&state, buyer_of(&visitor), &code, phone_of(&req).as_deref()).await?;
    buying::cancel(&state, row.id, visitor.lang).await?;
    Ok(see_other(&visitor, &format!("/orders/{}", row.code)).finish())
}

/// One order in the list.
struct Listed {
    code: String,
    status: &'static str,
    total: String,
    date: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    frame: Frame,
    w: &'static Buyer,
    orders: Vec<Listed>,
}

/// The orders of this phone: a buyer's account, or the codes a guest placed from this browser.
#[get("/orders")]
async fn orders_page(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let w = Buyer::of(visitor.lang);
    let ids: Vec<i64> = match buyer_of(&visitor) {
        Some(user) => {
            let id = user.id;
            state.db.read(move |conn| crate::orders::store::buyer_order_ids(conn, id, 20, 0)).await?
        }
        None => {
            let codes = req.cookie(ORDERS_COOKIE).map(|cookie| cookie.value().to_owned()).unwrap_or_default();
            let phone = phone_of(&req);
            let mut ids = Vec::new();
            for code in codes.split(',').filter(|code| !code.is_empty()) {
                if let Ok(row) = buying::order_for(&state, None, code, phone.as_deref()).await {
                    ids.push(row.id);
                }
            }
            ids
        }
    };
    let mut orders = Vec::with_capacity(ids.len());
    for id in ids {
        let order = buying::view(&state, id, visitor.lang).await?;
        orders.push(Listed {
            status: status_text(w, order.status),
            total: format_vnd(order.total_vnd),
            date: when(order.created_at),
            code: order.code,
        });
    }
    page(&visitor, &OrdersPage { frame: Frame::new(&visitor, &req), w, orders })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `look-up` before `{code}`, which would otherwise take it.
    cfg.service(orders_page).service(look_up).service(order_qr).service(cancel_order).service(order_page);
}
