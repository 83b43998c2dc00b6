//! The farmer's home: what needs an answer first (new orders with the time left to answer, accepted in one tap
//! or declined with a reason picked from a short list), then the recent orders and where they stand. Answers go
//! through `orders::answering`, once per form key, so a form sent again (the offline queue, a double tap) never
//! answers twice.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use super::{form_key, seat_or_door};
use crate::clock::in_vietnam;
use crate::domain::money::format_vnd;
use crate::domain::status::{JobStatus, ShipmentStatus};
use crate::error::{AppError, Kind, Lang, Text};
use crate::http::Page;
use crate::orders::answering::{self, Answer, FarmerShipment};
use crate::state::AppState;
use crate::web::seat::Seat;
use crate::web::shop::Choice;
use crate::web::visitor::{Form, Visitor};
use crate::web::words::farmer::Farmer;
use crate::web::{Frame, new_key, page_with_status, see_other};

/// How many of the latest shipments the home reads: the new ones are among them (they are answered or expire
/// within a day), and the recent ones shown after them.
const SHIPMENTS_READ: u32 = 50;
/// How many answered ones the home shows.
const RECENT_SHOWN: usize = 10;

/// One order of the farmer's, as the home shows it.
struct Parcel {
    id: i64,
    code: String,
    buyer: String,
    place: String,
    lines: Vec<String>,
    goods: String,
    /// New orders: when the answer is due, in plain words.
    deadline: String,
    /// Answered ones: where the parcel stands.
    status: &'static str,
    stopped: bool,
    reason: Option<String>,
    accept_key: String,
    reject_key: String,
    /// Why the last answer to it was refused.
    error: Option<String>,
}

/// A message at the top of the home.
struct Notice {
    text: String,
    warn: bool,
}

#[derive(Template)]
#[template(path = "farmer_home.html")]
struct Home {
    frame: Frame,
    w: &'static Farmer,
    notice: Option<Notice>,
    waiting: Vec<Parcel>,
    recent: Vec<Parcel>,
    reasons: Vec<Choice>,
    /// The farmer's unread messages (none shown to a helper acting for them).
    unread: i64,
}

/// When an answer is due, as a farmer reads it: "Trả lời trước 14:30 ngày mai (còn 23 giờ)".
fn deadline_words(now: NaiveDateTime, due: NaiveDateTime, lang: Lang) -> String {
    let (local_now, local_due) = (in_vietnam(now), in_vietnam(due));
    let time = local_due.format("%H:%M").to_string();
    let day = if local_due.date() == local_now.date() {
        Text::new("hôm nay", "today")
    } else if Some(local_due.date()) == local_now.date().succ_opt() {
        Text::new("ngày mai", "tomorrow")
    } else {
        let date = local_due.format("%d/%m").to_string();
        Text::new(format!("ngày {date}"), format!("on {date}"))
    };
    let left = due - now;
    let words = if left <= Duration::zero() {
        Text::new("Đã hết giờ trả lời", "The time to answer is up")
    } else if left < Duration::hours(1) {
        let minutes = left.num_minutes().max(1);
        Text::new(
            format!("Trả lời trước {time} {} (còn {minutes} phút)", day.vi),
            format!("Answer by {time} {} ({minutes} minutes left)", day.en),
        )
    } else {
        let hours = left.num_hours();
        Text::new(
            format!("Trả lời trước {time} {} (còn {hours} giờ)", day.vi),
            format!("Answer by {time} {} ({hours} hours left)", day.en),
        )
    };
    words.get(lang).to_owned()
}

/// Where an answered parcel stands, and whether its way stopped there.
fn standing(w: &Farmer, item: &FarmerShipment) -> (&'static str, bool) {
    let job = item.shipment.delivery.as_ref().map(|delivery| delivery.status);
    match (item.shipment.status, job) {
        (ShipmentStatus::Pending, _) => (w.shipment_pending, false),
        (ShipmentStatus::Rejected, _) => (w.shipment_rejected, true),
        (ShipmentStatus::Cancelled, _) => (w.shipment_cancelled, true),
        (
            ShipmentStatus::Accepted,
            None | Some(JobStatus::Available | JobStatus::Claimed | JobStatus::PickupFailed),
        ) => (w.shipment_to_pick_up, false),
        (ShipmentStatus::Accepted, Some(JobStatus::Delivered)) => (w.shipment_delivered, false),
        (
            ShipmentStatus::Accepted,
            Some(
                JobStatus::DeliveryFailed
                | JobStatus::Returning
                | JobStatus::Returned
                | JobStatus::Lost
                | JobStatus::Damaged
                | JobStatus::Cancelled,
            ),
        ) => (w.shipment_not_delivered, true),
        (ShipmentStatus::Accepted, Some(JobStatus::PickedUp | JobStatus::InTransit | JobStatus::OutForDelivery)) => {
            (w.shipment_on_the_way, false)
        }
    }
}

fn parcel(w: &Farmer, item: FarmerShipment, now: NaiveDateTime, lang: Lang) -> Parcel {
    let (status, stopped) = standing(w, &item);
    let shipment = item.shipment;
    Parcel {
        id: shipment.id,
        lines: shipment.lines.iter().map(|line| format!("{} × {} {}", line.title, line.quantity, line.unit)).collect(),
        goods: format_vnd(shipment.items_total_vnd),
        deadline: deadline_words(now, shipment.respond_by.naive_utc(), lang),
        status,
        stopped,
        reason: shipment.reject_reason,
        code: item.order_code,
        buyer: item.buyer_name,
        place: item.ward.name,
        accept_key: new_key(),
        reject_key: new_key(),
        error: None,
    }
}

/// The reasons a farmer picks from to decline, in the words the buyer is told.
fn reasons(w: &Farmer) -> Vec<Choice> {
    [
        ("out_of_stock", w.reason_out_of_stock),
        ("not_ready", w.reason_not_ready),
        ("cannot_send", w.reason_cannot_send),
        ("too_far", w.reason_too_far),
        ("other", w.reason_other),
    ]
    .into_iter()
    .map(|(value, label)| Choice { value: value.to_owned(), label: label.to_owned(), chosen: false })
    .collect()
}

/// What the home shows when something went wrong with an answer.
enum Trouble {
    /// Above everything (an order answered already, or gone).
    Notice(Notice),
    /// Beside the reason of one order's decline.
    Reason(i64, String),
}

async fn home_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    visitor: &Visitor,
    seat: &Seat,
    trouble: Option<Trouble>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let w = Farmer::of(visitor.lang);
    let page = Page::from_query(Some(SHIPMENTS_READ), None)?;
    let (items, _) = page.finish(answering::farmer_shipments(state, &seat.acting, visitor.lang, page).await?);
    let now = state.clock.now();
    let (mut waiting, mut recent) = (Vec::new(), Vec::new());
    for item in items {
        let pending = item.shipment.status == ShipmentStatus::Pending;
        let shown = parcel(w, item, now, visitor.lang);
        if pending {
            waiting.push(shown);
        } else if recent.len() < RECENT_SHOWN {
            recent.push(shown);
        }
    }
    // The answer due first comes first.
    waiting.reverse();
    let notice = match trouble {
        Some(Trouble::Notice(notice)) => Some(notice),
        Some(Trouble::Reason(id, message)) => {
            if let Some(parcel) = waiting.iter_mut().find(|parcel| parcel.id == id) {
                parcel.error = Some(message);
            }
            None
        }
        None => match req.query_string() {
            "done=accepted" => Some(Notice { text: w.accepted.to_owned(), warn: false }),
            "done=rejected" => Some(Notice { text: w.rejected.to_owned(), warn: false }),
            _ => None,
        },
    };
    let farmer_id = seat.farmer_id();
    let unread = if seat.acting.on_behalf() {
        0
    } else {
        state.db.read(move |conn| crate::messages::store::unread(conn, farmer_id)).await?
    };
    let home = Home { frame: seat.frame(visitor, req), w, notice, waiting, recent, reasons: reasons(w), unread };
    page_with_status(visitor, &home, status)
}

#[get("/farmer")]
async fn show_home(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => home_page(&state, &req, &visitor, &seat, None, StatusCode::OK).await,
        Err(door) => Ok(door),
    }
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    idempotency_key: String,
    /// A reason's value from the list (`other`: the typed one).
    reason: Option<String>,
    #[serde(default)]
    other: String,
}

/// The reason the buyer is told: what the farmer typed, else the words of the one picked (as the farmer read
/// them); "another reason" with nothing typed is no reason.
fn reason_of(w: &Farmer, form: &AnswerForm) -> String {
    if !form.other.trim().is_empty() {
        return form.other.clone();
    }
    let picked = reasons(w).into_iter().find(|reason| Some(&reason.value) == form.reason.as_ref());
    picked.filter(|reason| reason.value != "other").map(|reason| reason.label).unwrap_or_default()
}

/// Accepts (`/farmer/orders/{id}/accept`) or declines (`/reject`, with a reason) and goes home; an answer
/// refused (already answered, gone, no reason) shows there.
#[post("/farmer/orders/{id}/{answer:accept|reject}")]
async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    Form(form): Form<AnswerForm>,
) -> Result<HttpResponse, AppError> {
    let (id, decline) = (path.0, path.1 == "reject");
    let seat = match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    let key = form_key(&form.idempotency_key)?;
    let given = if decline { Answer::reject(&reason_of(Farmer::of(visitor.lang), &form)) } else { Ok(Answer::Accept) };
    let outcome = match given {
        Ok(given) => answering::answer(&state, &seat.acting, id, given, key).await,
        Err(error) => Err(error),
    };
    let error = match outcome {
        Ok(()) => {
            let done = if decline { "/farmer?done=rejected" } else { "/farmer?done=accepted" };
            return Ok(see_other(&visitor, done).finish());
        }
        Err(error) if matches!(error.kind, Kind::Conflict | Kind::NotFound | Kind::Unprocessable) => error,
        Err(error) => return Err(error),
    };
    let trouble = match error.errors.first() {
        Some(field) => Trouble::Reason(id, field.message.get(visitor.lang).to_owned()),
        None => {
            let text = error.detail.as_ref().map(|detail| detail.get(visitor.lang).to_owned()).unwrap_or_default();
            Trouble::Notice(Notice { text, warn: true })
        }
    };
    home_page(&state, &req, &visitor, &seat, Some(trouble), error.kind.status()).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_home).service(answer);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("a time")
    }

    #[test]
    fn deadlines_read_in_vietnam_hours_with_the_time_left() {
        // 02:00 UTC is 09:00 in Vietnam.
        let now = at("2026-12-03 02:00");
        assert_eq!(deadline_words(now, at("2026-12-03 07:30"), Lang::Vi), "Trả lời trước 14:30 hôm nay (còn 5 giờ)");
        assert_eq!(deadline_words(now, at("2026-12-04 01:00"), Lang::En), "Answer by 08:00 tomorrow (23 hours left)");
        assert_eq!(deadline_words(now, at("2026-12-03 02:40"), Lang::Vi), "Trả lời trước 09:40 hôm nay (còn 40 phút)");
        assert_eq!(deadline_words(now, at("2026-12-06 02:00"), Lang::En), "Answer by 09:00 on 06/12 (72 hours left)");
        assert_eq!(deadline_words(now, at("2026-12-03 01:59"), Lang::Vi), "Đã hết giờ trả lời");
    }

    #[test]
    fn a_reason_picked_is_told_in_the_words_the_farmer_read() {
        let form = |reason: &str, other: &str| AnswerForm {
            idempotency_key: String::new(),
            reason: Some(reason.to_owned()),
            other: other.to_owned(),
        };
        assert_eq!(reason_of(Farmer::of(Lang::Vi), &form("out_of_stock", "")), "Hết hàng");
        assert_eq!(reason_of(Farmer::of(Lang::En), &form("too_far", "")), "Too far to send");
        assert_eq!(reason_of(Farmer::of(Lang::Vi), &form("other", "Mưa to, đường ngập")), "Mưa to, đường ngập");
        assert_eq!(reason_of(Farmer::of(Lang::Vi), &form("out_of_stock", "Mưa to")), "Mưa to", "typed words win");
        assert_eq!(reason_of(Farmer::of(Lang::Vi), &form("other", "")), "");
        assert_eq!(reason_of(Farmer::of(Lang::Vi), &form("made-up", "")), "");
    }
}
