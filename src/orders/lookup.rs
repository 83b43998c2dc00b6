//! An operator looks orders up (by code, buyer's phone, status, province, days) and reads one whole: what
//! its buyer sees, and the buyer's contact, the farmers' phones, the carriers' jobs and the refunds. Every
//! read of one order is recorded in the operators' audit log. Shared by the API and the web app.

use actix_web::web;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::codes;
use super::operator::AdminRefund;
use super::store::{self, OrderFilter, OrderRow};
use super::view::{Order, load_order};
use crate::admin;
use crate::admin::lookups::{given, phone_filter, province_filter};
use crate::clock::VietnamDays;
use crate::consents::Named;
use crate::domain::phone::Phone;
use crate::domain::status::{JobStatus, OperatorAction, OperatorSubject, OrderStatus, PaymentMethod, PaymentStatus};
use crate::error::{AppError, FieldError, Lang, Text};
use crate::fulfilment;
use crate::http::Page;
use crate::reference::PlaceRef;
use crate::state::AppState;

/// One order in a list of search results.
#[derive(Serialize, ToSchema)]
pub struct OrderSummary {
    pub code: String,
    pub status: OrderStatus,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub buyer_name: String,
    /// E.164.
    pub buyer_phone: String,
    pub ward: PlaceRef,
    pub province: PlaceRef,
    pub total_vnd: i64,
    pub created_at: DateTime<Utc>,
}

/// How to reach the buyer, and what they wrote.
#[derive(Serialize, ToSchema)]
pub struct BuyerContact {
    /// Their account, when they ordered logged in (a guest has none).
    pub account_id: Option<i64>,
    pub phone: String,
    pub email: Option<String>,
    pub note: Option<String>,
    /// The language they are written to in.
    pub lang: String,
}

/// How to reach a farmer of the order.
#[derive(Serialize, ToSchema)]
pub struct OrderFarmer {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A carrier's job for one shipment, whoever holds it now.
#[derive(Serialize, ToSchema)]
pub struct CarrierJob {
    pub id: i64,
    pub shipment_id: i64,
    pub status: JobStatus,
    /// The partner holding (or last holding) the job.
    pub partner: Option<Named>,
    pub tracking_code: Option<String>,
    pub cod_vnd: i64,
    pub cod_collected_vnd: Option<i64>,
    /// Flagged for an operator (leases kept lapsing).
    pub needs_operator: bool,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Everything about an order, as an operator reads it.
#[derive(Serialize, ToSchema)]
pub struct OrderDetails {
    /// The order as its buyer sees it: shipments with their farmers and lines, payment, delivery timelines.
    pub order: Order,
    pub buyer: BuyerContact,
    pub farmers: Vec<OrderFarmer>,
    pub jobs: Vec<CarrierJob>,
    pub refunds: Vec<AdminRefund>,
}

/// The look-up as asked, before it is checked.
#[derive(Default)]
pub struct OrderQuery<'a> {
    pub code: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub status: Option<OrderStatus>,
    pub province: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

fn not_a_code(field: &str) -> FieldError {
    FieldError::new(
        field,
        "invalid_order_code",
        Text::new("Mã đơn không đúng (ví dụ NS-7KQ-4M9-XHC).", "Not an order code (e.g. NS-7KQ-4M9-XHC)."),
    )
}

/// Checks a look-up: a code that fails its check symbol, a phone that is no Vietnamese mobile, an unknown
/// province or days the wrong way round are each a 422 on their field.
pub fn order_filter(state: &AppState, query: &OrderQuery<'_>) -> Result<OrderFilter, AppError> {
    let code = given(query.code).map(|code| codes::normalise_order_code(code).ok_or_else(|| not_a_code("code")));
    let (code, phone, province) = (code.transpose(), phone_filter(query.phone), province_filter(state, query.province));
    let (code, phone, province_code) = crate::validate!(code, phone, province);
    let days = VietnamDays::new(query.from, query.to)?;
    Ok(OrderFilter { code, phone, status: query.status, province_code, since: days.since, until: days.until })
}

/// What one search box holds: an order code, or else a buyer's phone (422 on `q` when it is neither).
pub fn code_or_phone(text: &str) -> Result<OrderFilter, AppError> {
    if let Some(code) = codes::normalise_order_code(text) {
        return Ok(OrderFilter { code: Some(code), ..OrderFilter::default() });
    }
    match Phone::parse(text) {
        Ok(phone) => Ok(OrderFilter { phone: Some(phone.as_str().to_owned()), ..OrderFilter::default() }),
        Err(_) => Err(AppError::invalid_field(
            "q",
            "not_code_or_phone",
            Text::new(
                "Hãy nhập mã đơn (NS-7KQ-4M9-XHC) hoặc số điện thoại người mua.",
                "Type an order code (NS-7KQ-4M9-XHC) or the buyer's phone.",
            ),
        )),
    }
}

fn summary(state: &AppState, row: OrderRow) -> OrderSummary {
    let places = &state.reference.places;
    OrderSummary {
        ward: places.ward_place(row.ward_code),
        province: places.province_place(row.province_code),
        code: row.code,
        status: row.status,
        payment_method: row.payment_method,
        payment_status: row.payment_status,
        buyer_name: row.buyer_name,
        buyer_phone: row.buyer_phone,
        total_vnd: row.total_vnd,
        created_at: row.created_at.and_utc(),
    }
}

/// The orders matching `filter`, newest first; one more than `page.limit` may come back, for `page.finish`.
pub async fn search(
    state: &web::Data<AppState>,
    filter: OrderFilter,
    page: Page,
) -> Result<Vec<OrderSummary>, AppError> {
    let rows = state.db.read(move |conn| store::search_orders(conn, &filter, page.fetch_limit(), page.offset)).await?;
    Ok(rows.into_iter().map(|row| summary(state, row)).collect())
}

/// Everything about the order `code` (typed any way [`codes::normalise_order_code`] reads), with the read
/// recorded in the operators' audit log in the same transaction. 404 when there is no such order.
pub async fn read(
    state: &web::Data<AppState>,
    operator_id: i64,
    code: &str,
    lang: Lang,
) -> Result<OrderDetails, AppError> {
    let code = codes::normalise_order_code(code).ok_or_else(AppError::not_found)?;
    let (reader, now) = (state.clone(), state.clock.now());
    state
        .db
        .write(move |conn| {
            let row = store::order_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
            let act = admin::store::Act {
                operator_id,
                action: OperatorAction::ReadOrder,
                subject: OperatorSubject::Order,
                subject_id: row.id,
                reason: "",
            };
            admin::store::record(conn, &act, now)?;
            let order = load_order(conn, &reader, row.id, lang)?;
            let mut farmers: Vec<OrderFarmer> = Vec::new();
            for shipment in &order.shipments {
                if farmers.iter().any(|f| f.id == shipment.farmer.id) {
                    continue;
                }
                let contact = store::farmer_contact(conn, shipment.farmer.id)?;
                farmers.push(OrderFarmer {
                    id: contact.id,
                    name: shipment.farmer.name.clone(),
                    phone: contact.phone,
                    email: contact.email,
                });
            }
            let jobs = fulfilment::store::jobs_of_order(conn, row.id)?;
            let partner_ids: Vec<i64> = jobs.iter().filter_map(|job| job.partner_id).collect();
            let partners = fulfilment::store::partner_names(conn, &partner_ids)?;
            let jobs = jobs
                .into_iter()
                .map(|job| CarrierJob {
                    partner: job.partner_id.and_then(|id| {
                        let name = partners.iter().find(|(p, _)| *p == id).map(|(_, name)| name.clone())?;
                        Some(Named { id, name })
                    }),
                    id: job.id,
                    shipment_id: job.shipment_id,
                    status: job.status,
                    tracking_code: job.tracking_code,
                    cod_vnd: job.cod_vnd,
                    cod_collected_vnd: job.cod_collected_vnd,
                    needs_operator: job.needs_operator,
                    created_at: job.created_at.and_utc(),
                    delivered_at: job.delivered_at.map(|at| at.and_utc()),
                })
                .collect();
            let refunds = store::refunds_of_order(conn, row.id)?
                .into_iter()
                .map(|refund| AdminRefund::of(refund, row.code.clone()))
                .collect();
            let buyer = BuyerContact {
                account_id: row.buyer_id,
                phone: row.buyer_phone,
                email: row.buyer_email,
                note: store::order_note(conn, row.id)?,
                lang: row.lang,
            };
            Ok(OrderDetails { order, buyer, farmers, jobs, refunds })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_box_reads_a_code_or_else_a_phone() {
        let code = codes::new_order_code(&mut rand::rng());
        let typed = code.replace('-', " ").to_lowercase();
        assert_eq!(code_or_phone(&typed).expect("code").code, Some(code));
        let phone = code_or_phone("0912 345 678").expect("phone");
        assert_eq!((phone.code, phone.phone.as_deref()), (None, Some("+84912345678")));
        let neither = code_or_phone("xoài").expect_err("neither");
        assert_eq!((neither.errors[0].field.as_str(), neither.errors[0].code), ("q", "not_code_or_phone"));
    }
}
