//! The farmer's monthly statement (the API's `/me/statements`): a month's deliveries and where the farmer's
//! share stands, each line with what it counts in plain words, a month switcher and the CSV. A helper acting
//! for the farmer sees it too (audited as the API audits it).

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::seat_or_door;
use crate::domain::money::format_vnd;
use crate::error::AppError;
use crate::fulfilment::cod::statement::{Month, lines};
use crate::fulfilment::cod::{StatementQuery, acting_farmer_statement};
use crate::state::AppState;
use crate::web::visitor::Visitor;
use crate::web::words::farmer::Farmer;
use crate::web::{Frame, page};

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

#[get("/farmer/statements")]
async fn statements(
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
    if crate::http::csv::wants_csv(&req, query.format.as_deref())? {
        return statement.csv(visitor.lang);
    }
    let lang = visitor.lang;
    let mut shown: Vec<Shown> = lines(&statement.figures)
        .into_iter()
        // A shortfall line only when cash was collected short.
        .filter(|line| line.field != "cod_shortfall_vnd" || line.amount_vnd > 0)
        .map(|line| Shown {
            label: line.label.get(lang).to_owned(),
            meaning: line.meaning.get(lang).to_owned(),
            amount: format_vnd(line.amount_vnd),
        })
        .collect();
    let standing = shown.split_off(shown.len().saturating_sub(STANDING_LINES));
    let month = statement.period;
    let page_ = StatementPage {
        frame: seat.frame(&visitor, &req),
        w: Farmer::of(lang),
        month: MonthLink::of(month),
        previous: MonthLink::of(month.previous()),
        next: (month < Month::containing(state.clock.now())).then(|| MonthLink::of(month.next())),
        deliveries: statement.figures.deliveries,
        delivered: shown,
        standing,
        active: statement.months.iter().copied().map(MonthLink::of).collect(),
    };
    page(&visitor, &page_)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(statements);
}
