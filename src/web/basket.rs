//! The basket (several farmers, one order) and the checkout: name, phone, commune, street, how to pay; the
//! fee of each farmer's parcel shown before the order is placed. The basket lives in a cookie (listing ids
//! and quantities; prices are always read again), the order is placed by `orders::buying`, once per key.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::forms::{WardChoice, field_messages, plain_words, resolve_ward};
use super::visitor::{Form, Visitor};
use super::words::buyer::Buyer;
use super::{Frame, new_key, page, page_with_status, see_other};
use crate::auth::rate_limit::client_address;
use crate::domain::money::format_vnd;
use crate::domain::quantity::Unit;
use crate::domain::status::PaymentMethod;
use crate::error::{AppError, FieldError, Kind};
use crate::idempotency;
use crate::orders::buying::{self, Address, BuyerDetails, OrderRequest};
use crate::orders::placement::{self, Item, PricedLine};
use crate::state::AppState;

/// The cookie that holds the basket: `listing:quantity,…`.
pub const BASKET_COOKIE: &str = "ns_basket";
/// The commune last delivered to, so fees can show in the basket.
pub const WARD_COOKIE: &str = "ns_ward";
/// The phone a guest ordered with, so their orders open without asking for it.
pub const PHONE_COOKIE: &str = "ns_phone";
/// The codes of the orders placed from this browser, newest first.
pub const ORDERS_COOKIE: &str = "ns_orders";
/// What a basket holds at most (as an order does).
const MAX_LINES: usize = 50;

/// The basket a request carries.
pub fn basket_of(req: &HttpRequest) -> Vec<Item> {
    let cookie = req.cookie(BASKET_COOKIE);
    let text = cookie.as_ref().map_or("", |cookie| cookie.value());
    text.split(',')
        .filter_map(|pair| {
            let (id, quantity) = pair.split_once(':')?;
            Some(Item { listing_id: id.parse().ok()?, quantity: quantity.parse().ok().filter(|q| *q > 0)? })
        })
        .take(MAX_LINES)
        .collect()
}

fn basket_cookie(items: &[Item]) -> String {
    items.iter().map(|item| format!("{}:{}", item.listing_id, item.quantity)).collect::<Vec<_>>().join(",")
}

/// One line as the basket shows it.
pub struct Line {
    pub listing_id: i64,
    pub title: String,
    pub quantity: i64,
    pub unit: String,
    pub price: String,
    pub total: String,
    pub available: i64,
}

/// The lines of one farmer, and their parcel's fee when the commune is known.
pub struct Group {
    pub farmer: String,
    pub lines: Vec<Line>,
    pub goods: String,
    pub fee: Option<String>,
}

fn line_of(line: &PricedLine) -> Line {
    let unit = Unit::parse_code(&line.listing.unit)
        .map_or_else(|| line.listing.unit.clone(), |unit| unit.name_vi().to_owned());
    Line {
        listing_id: line.listing.id,
        title: line.listing.title.clone(),
        quantity: line.quantity,
        price: format!("{}/{unit}", format_vnd(line.listing.price_vnd)),
        total: format_vnd(line.line_total_vnd),
        available: line.listing.quantity,
        unit,
    }
}

/// The basket priced: groups per farmer (with fees when `ward` is known), the total, and the items that are
/// no longer on sale (dropped).
struct Priced {
    groups: Vec<Group>,
    total: String,
    kept: Vec<Item>,
    dropped: bool,
}

async fn price(state: &web::Data<AppState>, items: Vec<Item>, ward: Option<i32>) -> Result<Priced, AppError> {
    let reference = state.reference.clone();
    let province = ward.and_then(|code| reference.places.ward(code)).map(|ward| ward.province_code);
    state
        .db
        .read(move |conn| {
            // Listings no longer on sale leave the basket rather than block it.
            let mut kept = items;
            let mut dropped = false;
            let groups: BTreeMap<i64, Vec<PricedLine>> = loop {
                if kept.is_empty() {
                    break BTreeMap::new();
                }
                match placement::basket_lines(conn, &kept) {
                    Ok(groups) => break groups,
                    Err(error) if !error.errors.is_empty() => {
                        let gone = unavailable(&error.errors, &kept);
                        kept.retain(|item| !gone.contains(&item.listing_id));
                        dropped = true;
                    }
                    Err(error) => return Err(error),
                }
            };
            let fees: BTreeMap<i64, i64> = match province {
                Some(province) if !kept.is_empty() => placement::price_basket(conn, &reference, &kept, province)?
                    .groups
                    .iter()
                    .map(|group| (group.farmer_id, group.fee_vnd))
                    .collect(),
                _ => BTreeMap::new(),
            };
            let mut total = 0;
            let groups = groups
                .into_iter()
                .map(|(farmer_id, lines)| {
                    let goods: i64 = lines.iter().map(|line| line.line_total_vnd).sum();
                    let fee = fees.get(&farmer_id).copied();
                    total += goods + fee.unwrap_or(0);
                    Group {
                        farmer: lines.first().map(|line| line.listing.farmer_name.clone()).unwrap_or_default(),
                        lines: lines.iter().map(line_of).collect(),
                        goods: format_vnd(goods),
                        fee: fee.map(format_vnd),
                    }
                })
                .collect();
            Ok(Priced { groups, total: format_vnd(total), kept, dropped })
        })
        .await
}

/// The listings a 422 of `basket_lines` names (`items[i].listing_id`).
fn unavailable(errors: &[FieldError], items: &[Item]) -> Vec<i64> {
    errors
        .iter()
        .filter_map(|error| error.field.strip_prefix("items[")?.split(']').next()?.parse::<usize>().ok())
        .filter_map(|index| items.get(index).map(|item| item.listing_id))
        .collect()
}

fn ward_of(req: &HttpRequest) -> Option<i32> {
    req.cookie(WARD_COOKIE).and_then(|cookie| cookie.value().parse().ok())
}

#[derive(Template)]
#[template(path = "basket.html")]
struct BasketPage {
    frame: Frame,
    w: &'static Buyer,
    groups: Vec<Group>,
    total: String,
    fees_known: bool,
    dropped: bool,
}

#[get("/basket")]
async fn show_basket(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let priced = price(&state, basket_of(&req), ward_of(&req)).await?;
    let fees_known = priced.groups.iter().all(|group| group.fee.is_some());
    let page_ = BasketPage {
        frame: Frame::new(&visitor, &req),
        w: Buyer::of(visitor.lang),
        total: priced.total,
        fees_known,
        dropped: priced.dropped,
        groups: priced.groups,
    };
    let mut response = page(&visitor, &page_)?;
    if priced.dropped {
        response
            .add_cookie(&visitor.remembered(BASKET_COOKIE, basket_cookie(&priced.kept)))
            .map_err(AppError::internal)?;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct BasketForm {
    listing_id: i64,
    quantity: Option<String>,
    /// `add`, `set` or `remove`.
    action: String,
    /// `checkout` goes on to the checkout ("buy now").
    then: Option<String>,
}

/// Adds to the basket, changes a quantity or takes a line out.
#[post("/basket")]
async fn change_basket(req: HttpRequest, visitor: Visitor, Form(form): Form<BasketForm>) -> HttpResponse {
    let mut items = basket_of(&req);
    let quantity = form.quantity.as_deref().and_then(|q| q.trim().parse::<i64>().ok()).unwrap_or(1).clamp(1, 100_000);
    let room = items.len() < MAX_LINES;
    match (form.action.as_str(), items.iter_mut().find(|item| item.listing_id == form.listing_id)) {
        ("remove", _) => items.retain(|item| item.listing_id != form.listing_id),
        ("set", Some(item)) => item.quantity = quantity,
        ("add", Some(item)) => item.quantity = (item.quantity + quantity).min(100_000),
        ("add" | "set", None) if room => items.push(Item { listing_id: form.listing_id, quantity }),
        _ => {}
    }
    let to = if form.then.as_deref() == Some("checkout") { "/checkout" } else { "/basket" };
    let mut response = see_other(&visitor, to);
    visitor.remember(&mut response, BASKET_COOKIE, basket_cookie(&items));
    response.finish()
}

/// What the checkout form holds.
#[derive(Default, Deserialize)]
struct CheckoutForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    ward_code: Option<String>,
    #[serde(default)]
    ward_text: String,
    #[serde(default)]
    street: String,
    payment_method: Option<String>,
    #[serde(default)]
    idempotency_key: String,
    /// `place` once the buyer has seen the fees.
    step: Option<String>,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    frame: Frame,
    w: &'static Buyer,
    form: CheckoutForm,
    ward_choices: Vec<WardChoice>,
    errors: BTreeMap<String, String>,
    /// Set once every field is right: the priced order to confirm.
    review: Option<Priced>,
    transfer: bool,
    /// Why the order could not be placed (short stock, a listing no longer on sale).
    notice: Option<String>,
}

impl CheckoutPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[get("/checkout")]
async fn checkout(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    if basket_of(&req).is_empty() {
        return Ok(see_other(&visitor, "/basket").finish());
    }
    let mut form = CheckoutForm { idempotency_key: new_key(), ..CheckoutForm::default() };
    if let Some(user) = &visitor.user {
        let id = user.id;
        let account = state.db.read(move |conn| crate::accounts::store::profile(conn, id)).await?;
        form.name = account.name;
        form.phone = account.phone.unwrap_or_default();
        if let Some(ward) = account.ward_code.and_then(|code| state.reference.places.ward_ref(code)) {
            form.ward_code = Some(ward.code.to_string());
            form.ward_text = format!("{}, {}", ward.name, ward.province.name);
        }
    }
    let page_ = CheckoutPage {
        frame: Frame::new(&visitor, &req),
        w: Buyer::of(visitor.lang),
        form,
        ward_choices: Vec::new(),
        errors: BTreeMap::new(),
        review: None,
        transfer: false,
        notice: None,
    };
    page(&visitor, &page_)
}

#[post("/checkout")]
async fn place(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<CheckoutForm>,
) -> Result<HttpResponse, AppError> {
    let items = basket_of(&req);
    if items.is_empty() {
        return Ok(see_other(&visitor, "/basket").finish());
    }
    let w = Buyer::of(visitor.lang);
    let ward = resolve_ward(&state, form.ward_code.as_deref(), &form.ward_text);
    let request = OrderRequest {
        items: items.clone(),
        buyer: Some(BuyerDetails { name: form.name.clone(), phone: form.phone.clone(), email: None }),
        address: Address { ward_code: *ward.as_ref().unwrap_or(&0), street: form.street.clone() },
        payment_method: form.payment_method.clone(),
        note: None,
    };
    let user = visitor.user.as_ref().filter(|user| user.role == crate::domain::status::Role::Buyer);
    let transfer = form.payment_method.as_deref() == Some(PaymentMethod::BankTransfer.as_str());
    let mut errors = match buying::checked_order(&state, user, &request, visitor.lang).await {
        Ok(_) => BTreeMap::new(),
        Err(error) if error.kind == Kind::Unprocessable => field_messages(&error, visitor.lang),
        Err(error) => return Err(error),
    };
    let (ward, ward_choices) = match ward {
        Ok(code) => (Some(code), Vec::new()),
        Err(choices) => {
            errors.insert("address.ward_code".to_owned(), w.choose_commune.to_owned());
            (None, choices)
        }
    };
    let shown = |form, ward_choices, errors, review, notice| CheckoutPage {
        frame: Frame::new(&visitor, &req),
        w,
        form,
        ward_choices,
        errors,
        review,
        transfer,
        notice,
    };
    if !errors.is_empty() {
        let page_ = shown(form, ward_choices, errors, None, None);
        return page_with_status(&visitor, &page_, StatusCode::UNPROCESSABLE_ENTITY);
    }
    if form.step.as_deref() == Some("change") {
        return page(&visitor, &shown(form, ward_choices, errors, None, None));
    }
    if form.step.as_deref() != Some("place") {
        let review = price(&state, items, ward).await?;
        return page(&visitor, &shown(form, ward_choices, errors, Some(review), None));
    }
    let hash = idempotency::request_hash(&serde_json::to_vec(&request).map_err(AppError::internal)?)?;
    let key = if form.idempotency_key.is_empty() { new_key() } else { form.idempotency_key.clone() };
    let address = client_address(&req);
    let order = match buying::place_once(&state, user, &request, (&key, hash), (visitor.lang, &address)).await {
        Ok(order) => order,
        Err(error) if matches!(error.kind, Kind::Conflict | Kind::Unprocessable | Kind::TooManyRequests) => {
            let notice = plain_words(&error, visitor.lang);
            let review = price(&state, items, ward).await?;
            let page_ = shown(form, ward_choices, errors, Some(review), Some(notice));
            return page_with_status(&visitor, &page_, error.kind.status());
        }
        Err(error) => return Err(error),
    };
    let mut response = see_other(&visitor, &format!("/orders/{}?placed=1", order.code));
    visitor.forget(&mut response, BASKET_COOKIE);
    if let Some(ward) = ward {
        visitor.remember(&mut response, WARD_COOKIE, ward.to_string());
    }
    if let Ok(phone) = crate::domain::phone::Phone::parse(&form.phone) {
        visitor.remember(&mut response, PHONE_COOKIE, phone.as_str().to_owned());
    }
    let earlier = req.cookie(ORDERS_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    let codes: Vec<&str> =
        std::iter::once(order.code.as_str()).chain(earlier.split(',').filter(|c| !c.is_empty())).take(10).collect();
    visitor.remember(&mut response, ORDERS_COOKIE, codes.join(","));
    Ok(response.finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_basket).service(change_basket).service(checkout).service(place);
}
