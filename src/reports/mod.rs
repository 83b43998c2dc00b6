//! The impact report for operators: households enrolled, sales and deliveries by province, commune, month,
//! team or helper, as JSON or as CSV a spreadsheet opens with Vietnamese intact. It reads per-day rollups
//! that `rollups::run_rollups` keeps current in the background, so it stays fast however many orders there are.

pub mod rollups;
pub mod rules;
mod sql;
pub mod store;

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Operator;
use crate::error::{AppError, Lang, Problem, Text};
use crate::http::ApiQuery;
use crate::state::AppState;
use rules::{ImpactReport, ImpactRow};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(impact);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImpactQuery {
    /// Only this province (code).
    pub province: Option<String>,
    /// Only this commune (code).
    pub ward: Option<String>,
    /// First day, `YYYY-MM-DD`, Vietnam time (default: the first of the current month).
    pub from: Option<String>,
    /// The day after the last day, `YYYY-MM-DD` (default: tomorrow): the period is `[from, to)`.
    pub to: Option<String>,
    /// `province` (default), `ward`, `month`, `team` or `helper`.
    pub group: Option<String>,
    /// `csv` for CSV (as `Accept: text/csv` does), `json` (default).
    pub format: Option<String>,
}

impl ImpactQuery {
    pub fn request(&self) -> rules::Request<'_> {
        rules::Request {
            province: self.province.as_deref(),
            ward: self.ward.as_deref(),
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            group: self.group.as_deref(),
        }
    }
}

/// The impact report: one row per group and a total row, from rollups brought current every minute.
///
/// A farmer's figures (enrolment, shipments, listings) count in the farmer's commune and province, and for
/// `team`/`helper` under the helper who enrolled them (`0`: joined alone); a listing a helper made for a
/// farmer counts under that helper. Each figure counts the events of `[from, to)` (Vietnam time):
/// `active_sellers` are farmers with a shipment accepted in the period, `orders` are farmers' shipments
/// placed, `listings_live` is the count taken by the last rollup before `to`. Medians are hours with one
/// decimal, the median of the durations each rounded to a tenth of an hour; `null` without data.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(ImpactQuery),
    responses(
        (status = 200, description = "The report, as JSON or as CSV (UTF-8 with a BOM, the total row last)", content(
            (ImpactReport = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad date, empty period, unknown group, province or commune", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/reports/impact")]
async fn impact(
    state: web::Data<AppState>,
    _operator: Operator,
    request: HttpRequest,
    ApiQuery(query): ApiQuery<ImpactQuery>,
) -> Result<HttpResponse, AppError> {
    let csv = wants_csv(&request, query.format.as_deref())?;
    let (places, now, lang) = (&state.reference.places, state.clock.now(), Lang::of(&request));
    let report = rules::checked_report(&state.db, places, &query.request(), now, lang).await?;
    Ok(if csv { csv_response(&report)? } else { HttpResponse::Ok().json(report) })
}

/// Whether the report is wanted as CSV: `format=csv`, or `Accept: text/csv` without a `format`.
fn wants_csv(request: &HttpRequest, format: Option<&str>) -> Result<bool, AppError> {
    match format.filter(|format| !format.is_empty()) {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(AppError::invalid_field(
            "format",
            "unknown_format",
            Text::new("`format` là `csv` hoặc `json`.", "`format` is `csv` or `json`."),
        )),
        None => Ok(request
            .headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"))),
    }
}

/// The columns of the CSV, in order.
pub const CSV_HEADER: [&str; 19] = [
    "key",
    "name",
    "households_enrolled",
    "self_enrolled",
    "enrolled_by_helper",
    "active_sellers",
    "listings_live",
    "listings_by_helpers",
    "orders",
    "goods_value_vnd",
    "delivered_shipments",
    "delivered_value_vnd",
    "cancelled_shipments",
    "rejected_shipments",
    "cod_collected_vnd",
    "median_hours_to_accept",
    "median_hours_to_deliver",
    "from",
    "to",
];

fn csv_record(row: &ImpactRow, report: &ImpactReport) -> Vec<String> {
    let median = |hours: Option<f64>| hours.map(|hours| format!("{hours:.1}")).unwrap_or_default();
    let mut record = vec![row.key.clone(), row.name.clone()];
    record.extend(
        [
            row.households_enrolled,
            row.self_enrolled,
            row.enrolled_by_helper,
            row.active_sellers,
            row.listings_live,
            row.listings_by_helpers,
            row.orders,
            row.goods_value_vnd,
            row.delivered_shipments,
            row.delivered_value_vnd,
            row.cancelled_shipments,
            row.rejected_shipments,
            row.cod_collected_vnd,
        ]
        .map(|figure| figure.to_string()),
    );
    record.extend([median(row.median_hours_to_accept), median(row.median_hours_to_deliver)]);
    record.extend([report.from.to_string(), report.to.to_string()]);
    record
}

/// The report as CSV: UTF-8 with a byte-order mark (so spreadsheet programs read Vietnamese right), a
/// header row, the rows and the total row last.
pub fn csv_bytes(report: &ImpactReport) -> Result<Vec<u8>, AppError> {
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(CSV_HEADER).map_err(AppError::internal)?;
    for row in report.rows.iter().chain([&report.total]) {
        writer.write_record(csv_record(row, report)).map_err(AppError::internal)?;
    }
    writer.into_inner().map_err(|error| AppError::internal(anyhow::anyhow!("{error}")))
}

pub fn csv_response(report: &ImpactReport) -> Result<HttpResponse, AppError> {
    let file = format!("impact-{}-{}-{}.csv", report.group, report.from, report.to);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(file)],
        })
        .body(csv_bytes(report)?))
}
