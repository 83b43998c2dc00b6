//! The operator's page of bank transfers to check: every open payment exception (the transfer, what the memo
//! said, the order it names and why it paid nothing by itself), each with three forms: apply it to an order
//! (its code typed, or the one the memo names), record a refund owed to the payer, or close it with a note.
//! The rules are the API's (`payments::rules`).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::forms::answer;
use super::operator::operator_or_page;
use super::visitor::{Form, Visitor};
use super::words::payments::Payments;
use super::{Frame, or_show, page_with_status};
use crate::clock::vietnam_time;
use crate::domain::money::format_vnd;
use crate::domain::status::{DiscrepancyStatus, ExceptionResolution, PaymentExceptionKind};
use crate::error::AppError;
use crate::http::{MAX_LIMIT, Page};
use crate::payments::rules::{self, Resolve};
use crate::state::AppState;

/// One open exception as the page shows it.
struct Row {
    id: i64,
    why: &'static str,
    amount: String,
    expected: Option<String>,
    memo: String,
    bank: String,
    at: String,
    order_code: Option<String>,
}

#[derive(Template)]
#[template(path = "operator_payments.html")]
struct PaymentsPage {
    frame: Frame,
    w: &'static Payments,
    rows: Vec<Row>,
    /// More are open than the page shows.
    more: bool,
    /// What was just done.
    done: Option<String>,
    /// The exception an answer is about, with what was wrong beside its fields.
    about: Option<i64>,
    errors: BTreeMap<String, String>,
    refusal: Option<String>,
}

impl PaymentsPage {
    fn error(&self, id: &i64, field: &str) -> Option<&String> {
        self.errors.get(field).filter(|_| self.about == Some(*id))
    }

    fn refused(&self, id: &i64) -> Option<&String> {
        self.refusal.as_ref().filter(|_| self.about == Some(*id))
    }
}

fn why(w: &Payments, kind: PaymentExceptionKind) -> &'static str {
    match kind {
        PaymentExceptionKind::Partial => w.partial,
        PaymentExceptionKind::Excess => w.excess,
        PaymentExceptionKind::Duplicate => w.duplicate,
        PaymentExceptionKind::Late => w.late,
        PaymentExceptionKind::Unmatched => w.unmatched,
    }
}

/// The page, after `outcome` of one exception's form (none when simply opened).
async fn payments_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    req: &HttpRequest,
    about: Option<i64>,
    outcome: Result<Option<String>, AppError>,
) -> Result<HttpResponse, AppError> {
    let w = Payments::of(visitor.lang);
    let page = Page::from_query(Some(MAX_LIMIT), None)?;
    let (open, more) = page.finish(rules::exceptions(state, DiscrepancyStatus::Open, page).await?);
    let rows = open
        .into_iter()
        .map(|exception| {
            let row = exception.row;
            Row {
                id: row.id,
                why: why(w, row.kind),
                amount: format_vnd(row.amount_vnd),
                expected: row.expected_vnd.map(format_vnd),
                memo: row.content,
                bank: row.gateway,
                at: vietnam_time(row.transferred_at),
                order_code: row.order_code,
            }
        })
        .collect();
    let mut page_ = PaymentsPage {
        frame: Frame::new(visitor, req),
        w,
        rows,
        more: more.is_some(),
        done: None,
        about,
        errors: BTreeMap::new(),
        refusal: None,
    };
    let answer = answer(outcome, visitor.lang, about.is_some())?;
    (page_.done, page_.errors, page_.refusal) = (answer.done.flatten(), answer.errors, answer.refusal);
    page_with_status(visitor, &page_, answer.status)
}

#[get("/operator/payments")]
async fn payments(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    payments_page(&state, &visitor, &req, None, Ok(None)).await
}

#[derive(Deserialize)]
struct ResolveForm {
    action: ExceptionResolution,
    #[serde(default)]
    order_code: String,
    #[serde(default)]
    note: String,
}

#[post("/operator/payments/{id}/resolve")]
async fn resolve(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
    Form(form): Form<ResolveForm>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let Some(operator) = visitor.user.as_ref() else { return Err(crate::auth::wrong_role()) };
    let w = Payments::of(visitor.lang);
    let given = |text: String| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    let resolve = Resolve {
        action: form.action,
        order_code: given(form.order_code),
        note: given(form.note),
        operator_id: operator.id,
    };
    let id = id.into_inner();
    let outcome = rules::resolve_exception(&state, id, resolve).await.map(|exception| {
        let row = exception.row;
        let said = match (row.resolution, exception.applied_order_code) {
            (Some(ExceptionResolution::Apply), Some(code)) => format!("{} {code}", w.applied_to),
            (Some(ExceptionResolution::Refund), _) => w.refund_recorded.to_owned(),
            _ => w.closed.to_owned(),
        };
        let refund = row
            .refund_vnd
            .filter(|refund| *refund > 0)
            .map(|refund| format!(" {} {}", w.owed_back, format_vnd(refund)));
        Some(format!("{said}{}", refund.unwrap_or_default()))
    });
    payments_page(&state, &visitor, &req, Some(id), outcome).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(payments).service(resolve);
}
