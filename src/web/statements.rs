//! A farmer's monthly statement (the API's `/me/statements`): a month's deliveries and where the farmer's
//! share stands, each line with what it counts in plain words, a month switcher and the CSV. For the farmer
//! and a helper acting for them (audited as the API audits it), and for operators, of any farmer.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::farmer::seat_or_door;
use super::operator::operator_or_page;
use super::visitor::Visitor;
use super::words::farmer::Farmer;
use super::{Frame, or_show, page};
use crate::domain::money::format_vnd;
use crate::error::AppError;
use crate::fulfilment::cod::statement::{Month, lines};
use crate::fulfilment::cod::{Statement, StatementQuery, acting_farmer_statement, farmer_statement_for_operator};
use crate::state::AppState;

/// One line of the statement as the page shows it.
struct Shown {
    label: String,
    meaning: String,
    amount: String,
}

/// A month to go to: (`YYYY-MM` for the link, `MM/YYYY` to read).
struct MonthLink {
    value: String,
    label: String,
}

impl MonthLink {
    fn of(month: Month) -> MonthLink {
        MonthLink { value: month.to_string(), label: month.as_people_write_it() }
    }
}

#[derive(Template)]
#[template(path = "farmer_statements.html")]
struct StatementPage {
    frame: Frame,
    w: &'static Farmer,
    /// Where the page is: its links add `?month=`.
    base: String,
    /// The farmer's name, for an operator.
    farmer: Option<String>,
    month: MonthLink,
    previous: MonthLink,
    /// None for this month: nothing is delivered in the future.
    next: Option<MonthLink>,
    deliveries: i64,
    /// What happened in the month.
    delivered: Vec<Shown>,
    /// Where the farmer's share stands.
    standing: Vec<Shown>,
    active: Vec<MonthLink>,
}

/// The last lines of a statement: where the farmer's share stands (the others are about the month's deliveries).
const STANDING_LINES: usize = 3;

/// The statement's page, or its CSV when asked for.
fn shown(
    state: &AppState,
    req: &HttpRequest,
    visitor: &Visitor,
    (frame, base, farmer): (Frame, String, Option<String>),
    (statement, format): (Statement, Option<&str>),
) -> Result<HttpResponse, AppError> {
    let lang = visitor.lang;
    if crate::http::csv::wants_csv(req, format)? {
        return statement.csv(lang);
    }
    let mut delivered: Vec<Shown> = lines(&statement.figures)
        .into_iter()
        // A shortfall line only when cash was collected short.
        .filter(|line| line.field != "cod_shortfall_vnd" || line.amount_vnd > 0)
        .map(|line| Shown {
            label: line.label.get(lang).to_owned(),
            meaning: line.meaning.get(lang).to_owned(),
            amount: format_vnd(line.amount_vnd),
        })
        .collect();
    let standing = delivered.split_off(delivered.len().saturating_sub(STANDING_LINES));
    let month = statement.period;
    let page_ = StatementPage {
        frame,
        w: Farmer::of(lang),
        base,
        farmer,
        month: MonthLink::of(month),
        previous: MonthLink::of(month.previous()),
        next: (month < Month::containing(state.clock.now())).then(|| MonthLink::of(month.next())),
        deliveries: statement.figures.deliveries,
        delivered,
        standing,
        active: statement.months.iter().copied().map(MonthLink::of).collect(),
    };
    page(visitor, &page_)
}

#[get("/farmer/statements")]
async fn farmers_statement(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, AppError> {
    let seat = match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    let statement = acting_farmer_statement(&state, &seat.acting, query.month.as_deref()).await?;
    let frame = seat.frame(&visitor, &req);
    shown(&state, &req, &visitor, (frame, "/farmer/statements".to_owned(), None), (statement, query.format.as_deref()))
}

/// Any farmer's statement, for operators.
#[get("/operator/farmers/{id}/statements")]
async fn operators_statement(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let farmer_id = id.into_inner();
    let statement = farmer_statement_for_operator(&state, farmer_id, query.month.as_deref()).await?;
    let base = format!("/operator/farmers/{farmer_id}/statements");
    let farmer = Some(statement.farmer_name.clone());
    shown(&state, &req, &visitor, (Frame::new(&visitor, &req), base, farmer), (statement, query.format.as_deref()))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(farmers_statement).service(operators_statement);
}
