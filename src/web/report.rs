//! The operator's impact report page: the period, province and grouping as a plain GET form, the report's
//! table, a bar chart of the goods sold per row drawn as SVG on the server, and a CSV download. The figures
//! are the API's (`reports::rules`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::forms::field_messages;
use super::operator::operator_or_page;
use super::visitor::Visitor;
use super::words::people::People;
use super::{Frame, or_show, page_with_status};
use crate::domain::money::format_vnd;
use crate::domain::status::ReportGroup;
use crate::error::AppError;
use crate::reference::PlaceRef;
use crate::reports::rules::{self, ImpactReport, ImpactRow};
use crate::reports::{ImpactQuery, csv_response};
use crate::state::AppState;

/// Width of the chart's drawing, in its own units (the SVG scales to the screen).
const CHART_WIDTH: i64 = 320;
/// Height of one bar and its label.
const BAR_STEP: i64 = 34;

/// One bar of the chart: its label above, the bar below.
struct Bar {
    label: String,
    value: String,
    label_y: i64,
    bar_y: i64,
    width: i64,
}

/// One line of the table, its figures as people read them.
struct Line {
    name: String,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "operator_report.html")]
struct ReportPage {
    frame: Frame,
    w: &'static People,
    provinces: Vec<PlaceRef>,
    groups: Vec<(&'static str, &'static str)>,
    query: ImpactQuery,
    /// The period shown (the defaults filled in), for the date fields.
    from: String,
    to: String,
    headers: Vec<&'static str>,
    lines: Vec<Line>,
    total: Option<Line>,
    bars: Vec<Bar>,
    chart_height: i64,
    csv_href: String,
    errors: BTreeMap<String, String>,
}

impl ReportPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn chosen_group(&self, group: &str) -> bool {
        self.query.group.as_deref().unwrap_or(ReportGroup::Province.as_str()) == group
    }

    fn chosen_province(&self, code: &i32) -> bool {
        self.query.province.as_deref() == Some(code.to_string().as_str())
    }
}

fn line(row: &ImpactRow) -> Line {
    let hours = |hours: Option<f64>| hours.map_or_else(|| "–".to_owned(), |hours| format!("{hours:.1}"));
    let cells = vec![
        row.households_enrolled.to_string(),
        row.self_enrolled.to_string(),
        row.enrolled_by_helper.to_string(),
        row.active_sellers.to_string(),
        row.listings_live.to_string(),
        row.listings_by_helpers.to_string(),
        row.orders.to_string(),
        format_vnd(row.goods_value_vnd),
        row.delivered_shipments.to_string(),
        format_vnd(row.delivered_value_vnd),
        row.cancelled_shipments.to_string(),
        row.rejected_shipments.to_string(),
        format_vnd(row.cod_collected_vnd),
        hours(row.median_hours_to_accept),
        hours(row.median_hours_to_deliver),
    ];
    Line { name: row.name.clone(), cells }
}

/// Bars of the goods sold per row, the longest as wide as the chart.
fn bars(report: &ImpactReport) -> Vec<Bar> {
    let most = report.rows.iter().map(|row| row.goods_value_vnd).max().unwrap_or(0).max(1);
    (0_i64..)
        .zip(&report.rows)
        .map(|(n, row)| Bar {
            label: row.name.clone(),
            value: format_vnd(row.goods_value_vnd),
            label_y: n * BAR_STEP + 12,
            bar_y: n * BAR_STEP + 16,
            width: (row.goods_value_vnd * CHART_WIDTH / most).max(1),
        })
        .collect()
}

/// The query string of the same report as CSV.
fn csv_href(report: &ImpactReport) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("from", &report.from.to_string()).append_pair("to", &report.to.to_string());
    query.append_pair("group", report.group.as_str());
    if let Some(province) = report.province {
        query.append_pair("province", &province.to_string());
    }
    format!("/operator/report.csv?{}", query.finish())
}

#[get("/operator/report")]
async fn report_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<ImpactQuery>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let (places, w, query) = (&state.reference.places, People::of(visitor.lang), query.into_inner());
    let mut page_ = ReportPage {
        frame: Frame::new(&visitor, &req),
        w,
        provinces: places.provinces().iter().map(|p| places.province_place(p.code)).collect(),
        groups: vec![
            (ReportGroup::Province.as_str(), w.by_province),
            (ReportGroup::Ward.as_str(), w.by_ward),
            (ReportGroup::Month.as_str(), w.by_month),
            (ReportGroup::Team.as_str(), w.by_team),
            (ReportGroup::Helper.as_str(), w.by_helper),
        ],
        from: query.from.clone().unwrap_or_default(),
        to: query.to.clone().unwrap_or_default(),
        query,
        headers: vec![
            w.col_households,
            w.col_self_enrolled,
            w.col_by_helper,
            w.col_active_sellers,
            w.col_listings_live,
            w.col_listings_by_helpers,
            w.col_orders,
            w.col_goods_value,
            w.col_delivered,
            w.col_delivered_value,
            w.col_cancelled,
            w.col_rejected,
            w.col_cod,
            w.col_hours_to_accept,
            w.col_hours_to_deliver,
        ],
        lines: Vec::new(),
        total: None,
        bars: Vec::new(),
        chart_height: 0,
        csv_href: String::new(),
        errors: BTreeMap::new(),
    };
    let (now, lang) = (state.clock.now(), visitor.lang);
    let asked = rules::checked_report(&state.db, places, &page_.query.request(), now, lang).await;
    let status = match asked {
        Ok(report) => {
            page_.from = report.from.to_string();
            page_.to = report.to.to_string();
            page_.lines = report.rows.iter().map(line).collect();
            page_.total = Some(line(&report.total));
            page_.bars = bars(&report);
            page_.chart_height = i64::try_from(report.rows.len()).unwrap_or(0) * BAR_STEP + 4;
            page_.csv_href = csv_href(&report);
            StatusCode::OK
        }
        Err(error) if error.kind.status().is_client_error() => {
            page_.errors = field_messages(&error, visitor.lang);
            error.kind.status()
        }
        Err(error) => return Err(error),
    };
    page_with_status(&visitor, &page_, status)
}

/// The same report as a CSV file, for the page's download link (the API's `format=csv` needs a token).
#[get("/operator/report.csv")]
async fn report_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<ImpactQuery>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let (places, now) = (&state.reference.places, state.clock.now());
    csv_response(&rules::checked_report(&state.db, places, &query.request(), now, visitor.lang).await?)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(report_page).service(report_csv);
}
