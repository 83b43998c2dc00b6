//! COD reconciliation: the cash partners collected on delivery, what they remitted (handed over to the
//! marketplace) and what is still outstanding, per partner and in total; and per farmer, what the
//! marketplace still owes them and what has reached it. Routes here; rules in `rules`, queries in `store`.

pub mod rules;
pub mod statement;
pub mod store;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit;
use crate::auth::{ActingFarmer, Operator, Partner};
use crate::domain::status::{AuditAction, DiscrepancyStatus};
use crate::domain::text::{Lines, typed_text};
use crate::error::{AppError, Lang, Problem};
use crate::http::{ApiJson, ApiQuery};
use crate::state::AppState;
use rules::{Period, check_remittance, record, vietnam_date};
use statement::{Month, MonthFigures};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(record_remittance)
        .service(partner_cod)
        .service(operator_cod)
        .service(farmer_cod)
        .service(resolve_discrepancy)
        .service(farmer_statement)
        .service(operator_statement);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodQuery {
    /// First Vietnam day (UTC+7) of deliveries counted, `YYYY-MM-DD` (default: `to`).
    pub from: Option<String>,
    /// Last Vietnam day counted, inclusive (default: today in Vietnam). At most 366 days after `from`.
    pub to: Option<String>,
}

impl CodQuery {
    /// The period asked for, with today in Vietnam as the default.
    fn period(&self, now: chrono::NaiveDateTime) -> Result<Period, AppError> {
        Period::parse(self.from.as_deref(), self.to.as_deref(), vietnam_date(now))
    }
}

/// Cash on delivery over a set of delivered jobs.
#[derive(Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CodFigures {
    /// Delivered COD jobs counted.
    pub jobs: i64,
    /// Cash collected from buyers on delivery.
    pub collected_vnd: i64,
    /// Of that, what the partner has remitted to the marketplace.
    pub remitted_vnd: i64,
    /// Collected but not remitted yet: `collected_vnd - remitted_vnd`.
    pub outstanding_vnd: i64,
}

impl CodFigures {
    pub fn new(jobs: i64, collected_vnd: i64, remitted_vnd: i64) -> CodFigures {
        CodFigures { jobs, collected_vnd, remitted_vnd, outstanding_vnd: collected_vnd.saturating_sub(remitted_vnd) }
    }
}

impl std::ops::Add for CodFigures {
    type Output = CodFigures;

    fn add(self, other: CodFigures) -> CodFigures {
        CodFigures::new(
            self.jobs.saturating_add(other.jobs),
            self.collected_vnd.saturating_add(other.collected_vnd),
            self.remitted_vnd.saturating_add(other.remitted_vnd),
        )
    }
}

/// Cash collected short of what was due on a delivery, standing until an operator resolves it.
#[derive(Serialize, ToSchema)]
pub struct Discrepancy {
    pub id: i64,
    pub job_id: i64,
    pub order_code: String,
    pub partner_id: i64,
    /// What was due from the buyer.
    pub expected_vnd: i64,
    /// What the carrier collected.
    pub collected_vnd: i64,
    /// `expected_vnd - collected_vnd`.
    pub shortfall_vnd: i64,
    /// The carrier's reason.
    pub reason: String,
    pub status: DiscrepancyStatus,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// What the operator decided.
    pub resolution_note: Option<String>,
}

impl From<store::DiscrepancyRow> for Discrepancy {
    fn from(row: store::DiscrepancyRow) -> Discrepancy {
        Discrepancy {
            id: row.id,
            job_id: row.job_id,
            order_code: row.order_code,
            partner_id: row.partner_id,
            expected_vnd: row.expected_vnd,
            collected_vnd: row.collected_vnd,
            shortfall_vnd: row.expected_vnd.saturating_sub(row.collected_vnd),
            reason: row.reason,
            status: row.status,
            created_at: row.created_at.and_utc(),
            resolved_at: row.resolved_at.map(|at| at.and_utc()),
            resolution_note: row.resolution_note,
        }
    }
}

/// The open discrepancies of a view and the cash they lack in all.
fn open_discrepancies(rows: Vec<store::DiscrepancyRow>) -> (i64, Vec<Discrepancy>) {
    let discrepancies: Vec<Discrepancy> = rows.into_iter().map(Discrepancy::from).collect();
    (discrepancies.iter().map(|d| d.shortfall_vnd).sum(), discrepancies)
}

/// A partner's COD over a period.
#[derive(Serialize, ToSchema)]
pub struct PartnerCod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(flatten)]
    pub figures: CodFigures,
    /// Cash short on its deliveries, whatever their day, until an operator resolves it.
    pub shortfall_vnd: i64,
    pub discrepancies: Vec<Discrepancy>,
}

/// One partner's line of the operator's COD view.
#[derive(Serialize, ToSchema)]
pub struct PartnerCodRow {
    pub id: i64,
    pub name: String,
    #[serde(flatten)]
    pub figures: CodFigures,
}

/// Every partner's COD over a period.
#[derive(Serialize, ToSchema)]
pub struct OperatorCod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Partners with COD deliveries in the period, by id.
    pub partners: Vec<PartnerCodRow>,
    pub totals: CodFigures,
    /// Cash short on deliveries, whatever their day, until resolved.
    pub shortfall_vnd: i64,
    pub discrepancies: Vec<Discrepancy>,
}

#[derive(Deserialize, ToSchema)]
pub struct RemittanceRequest {
    /// The partner's own id for this remittance, 1 to 100 characters. Sending it again with the same body
    /// answers the same and changes nothing; with another body it is refused.
    pub remittance_id: String,
    /// The cash handed over: exactly the sum of the jobs' `cod_collected_vnd`.
    pub amount_vnd: i64,
    /// The delivered COD jobs this settles: 1 to 1,000 of the partner's own, each once.
    pub job_ids: Vec<i64>,
}

/// A recorded remittance.
#[derive(Serialize, ToSchema)]
pub struct Remittance {
    pub remittance_id: String,
    pub amount_vnd: i64,
    /// In ascending order.
    pub job_ids: Vec<i64>,
    pub created_at: DateTime<Utc>,
}

/// What the marketplace owes a farmer for their delivered shipments. Amounts count only money received:
/// when a carrier collected less than due, the farmer's share is what was collected less the fee, and the
/// rest stands as a discrepancy.
#[derive(Serialize, ToSchema)]
pub struct FarmerCod {
    /// The farmer's share of delivered shipments whose money has not reached the marketplace yet (COD the
    /// carrier has not remitted).
    pub owed_vnd: i64,
    pub owed_shipments: i64,
    /// The farmer's share of delivered shipments whose money has reached the marketplace (COD remitted, or
    /// the order paid by bank transfer).
    pub paid_out_vnd: i64,
    pub paid_out_shipments: i64,
    /// Cash short on the farmer's deliveries, until an operator resolves it.
    pub shortfall_vnd: i64,
    pub discrepancies: Vec<Discrepancy>,
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveRequest {
    /// What was decided (e.g. "người mua trả bù 5.000đ"), at most 500 characters.
    pub note: Option<String>,
}

/// Reports cash handed over to the marketplace for delivered COD jobs. Every job must be this partner's,
/// delivered with COD collected and in no other remittance, and `amount_vnd` must be the sum collected on
/// them. Idempotent on `remittance_id`: the same id and body answer the same again and change nothing.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    request_body = RemittanceRequest,
    responses(
        (status = 200, description = "Recorded (or recorded before under this id with the same body)", body = Remittance),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same remittance being recorded at the same moment: retry", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields; `jobs_not_remittable` (each job's reason in `errors`), `amount_mismatch` (the expected sum in `detail`) or `remittance_id_reused`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partner/cod/remittances")]
async fn record_remittance(
    state: web::Data<AppState>,
    Partner(key): Partner,
    ApiJson(body): ApiJson<RemittanceRequest>,
) -> Result<web::Json<Remittance>, AppError> {
    let (remittance, now) = (check_remittance(body)?, state.clock.now());
    let answer = state.db.write(move |conn| record(conn, key.partner_id, &remittance, now)).await?;
    Ok(web::Json(answer))
}

/// The partner's COD for jobs delivered in a period of Vietnam days: collected, remitted, outstanding.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(CodQuery),
    responses(
        (status = 200, description = "The partner's figures", body = PartnerCod),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad date, `from` after `to`, or over 366 days", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/partner/cod")]
async fn partner_cod(
    state: web::Data<AppState>,
    Partner(key): Partner,
    ApiQuery(query): ApiQuery<CodQuery>,
) -> Result<web::Json<PartnerCod>, AppError> {
    let period = query.period(state.clock.now())?;
    let partner = key.partner_id;
    let (rows, open) = state
        .db
        .read(move |conn| {
            let figures = store::figures_by_partner(conn, Some(partner), period)?;
            Ok((figures, store::open_discrepancies(conn, store::Concerning::Partner(partner))?))
        })
        .await?;
    let figures = rows.into_iter().map(|(_, _, figures)| figures).next().unwrap_or_default();
    let (shortfall_vnd, discrepancies) = open_discrepancies(open);
    Ok(web::Json(PartnerCod { from: period.from, to: period.to, figures, shortfall_vnd, discrepancies }))
}

/// Every partner's COD for jobs delivered in a period of Vietnam days, and the totals.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(CodQuery),
    responses(
        (status = 200, description = "One line per partner with COD deliveries, and the totals", body = OperatorCod),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad date, `from` after `to`, or over 366 days", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/cod")]
async fn operator_cod(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<CodQuery>,
) -> Result<web::Json<OperatorCod>, AppError> {
    let period = query.period(state.clock.now())?;
    let (rows, open) = state
        .db
        .read(move |conn| {
            let figures = store::figures_by_partner(conn, None, period)?;
            Ok((figures, store::open_discrepancies(conn, store::Concerning::Everyone)?))
        })
        .await?;
    let totals = rows.iter().fold(CodFigures::default(), |sum, (_, _, figures)| sum + *figures);
    let partners = rows.into_iter().map(|(id, name, figures)| PartnerCodRow { id, name, figures }).collect();
    let (shortfall_vnd, discrepancies) = open_discrepancies(open);
    Ok(web::Json(OperatorCod { from: period.from, to: period.to, partners, totals, shortfall_vnd, discrepancies }))
}

/// What the farmer is owed for delivered shipments, and what has been paid out (a helper may look; audited).
/// "Paid out" counts money that has reached the marketplace (COD remitted by the carrier, or a bank
/// transfer): payouts from the marketplace to farmers' bank accounts are not modelled yet.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    responses(
        (status = 200, description = "The farmer's figures over all delivered shipments", body = FarmerCod),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/cod")]
async fn farmer_cod(state: web::Data<AppState>, acting: ActingFarmer) -> Result<web::Json<FarmerCod>, AppError> {
    Ok(web::Json(farmer_view(&state, &acting).await?))
}

/// What the marketplace owes the farmer and what has reached it, over all their delivered shipments (a helper's
/// look is audited): the one view of `/me/cod` and the farmer's money page.
pub async fn farmer_view(state: &AppState, acting: &ActingFarmer) -> Result<FarmerCod, AppError> {
    let farmer_id = acting.farmer_id;
    let view = move |conn: &mut crate::db::Conn<'_>| {
        let figures = store::farmer_figures(conn, farmer_id)?;
        Ok((figures, store::open_discrepancies(conn, store::Concerning::Farmer(farmer_id))?))
    };
    let (figures, open) = audit::read_for(&state.db, acting, AuditAction::ViewCod, state.clock.now(), view).await?;
    let (shortfall_vnd, discrepancies) = open_discrepancies(open);
    let store::FarmerFigures { owed_vnd, owed_shipments, paid_out_vnd, paid_out_shipments } = figures;
    Ok(FarmerCod { owed_vnd, owed_shipments, paid_out_vnd, paid_out_shipments, shortfall_vnd, discrepancies })
}

/// An operator settles a COD shortfall (the buyer paid the rest, the marketplace bears it, …): it leaves the
/// partner's, operator's and farmer's views. Settling it again changes nothing.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Discrepancy id")),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "The discrepancy, resolved", body = Discrepancy),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such discrepancy", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Note too long or with control characters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/cod/discrepancies/{id}/resolve")]
async fn resolve_discrepancy(
    state: web::Data<AppState>,
    Operator(operator): Operator,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<ResolveRequest>,
) -> Result<web::Json<Discrepancy>, AppError> {
    let note = typed_text("note", body.note.as_deref(), 500, Lines::Many)?;
    let (id, now) = (id.into_inner(), state.clock.now());
    let resolved = state
        .db
        .write(move |conn| store::resolve_discrepancy(conn, id, operator.id, note.as_deref(), now))
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(web::Json(Discrepancy::from(resolved)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// The month, `YYYY-MM`, in Vietnam time (UTC+7); default: this month.
    pub month: Option<String>,
    /// `csv` or `json`; default: JSON, or CSV when `Accept` names `text/csv`.
    pub format: Option<String>,
}

/// A farmer's monthly statement: what was delivered in a month of Vietnam time, what buyers paid for it and
/// how, and where the farmer's share stands.
#[derive(Serialize, ToSchema)]
pub struct Statement {
    pub farmer_id: i64,
    pub farmer_name: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The month's first instant (00:00 of its first day in Vietnam), UTC.
    pub from: DateTime<Utc>,
    /// The next month's first instant, UTC (not included).
    pub to: DateTime<Utc>,
    #[serde(flatten)]
    pub figures: MonthFigures,
    /// The months in which something was delivered or money arrived for the farmer, newest first (`YYYY-MM`).
    pub active_months: Vec<String>,
    #[serde(skip)]
    pub period: Month,
    #[serde(skip)]
    pub months: Vec<Month>,
}

impl Statement {
    /// The farmer's statement for `month` from all their delivered shipments.
    fn new(farmer_id: i64, farmer_name: String, month: Month, deliveries: &[store::StatementDelivery]) -> Statement {
        let (from, to) = month.utc_bounds();
        let months = statement::active_months(deliveries);
        Statement {
            farmer_id,
            farmer_name,
            month: month.to_string(),
            from: from.and_utc(),
            to: to.and_utc(),
            figures: statement::month_figures(deliveries, month),
            active_months: months.iter().map(Month::to_string).collect(),
            period: month,
            months,
        }
    }

    /// The statement as a CSV file in `lang`.
    pub fn csv(&self, lang: Lang) -> Result<HttpResponse, AppError> {
        let rows = statement::csv_rows(&self.farmer_name, self.period, &self.figures, lang);
        crate::http::csv::attachment(&format!("so-tien-{}-{}.csv", self.farmer_id, self.month), &rows)
    }

    /// JSON, or CSV when asked for.
    fn answer(&self, req: &HttpRequest, format: Option<&str>) -> Result<HttpResponse, AppError> {
        if crate::http::csv::wants_csv(req, format)? {
            self.csv(Lang::of(req))
        } else {
            Ok(HttpResponse::Ok().json(self))
        }
    }
}

/// The farmer's name and delivered shipments; `None` when `farmer_id` is no farmer.
type StatementSource = Option<(String, Vec<store::StatementDelivery>)>;

fn statement_source(conn: &mut crate::db::Conn<'_>, farmer_id: i64) -> Result<StatementSource, AppError> {
    let Some(name) = store::farmer_name(conn, farmer_id)? else { return Ok(None) };
    Ok(Some((name, store::statement_deliveries(conn, farmer_id)?)))
}

/// The statement of the acting farmer for a month (default: this month); a helper's look is audited as a
/// look at the farmer's money. The one view of `/me/statements` and the farmer's statement page.
pub async fn acting_farmer_statement(
    state: &AppState,
    acting: &ActingFarmer,
    month: Option<&str>,
) -> Result<Statement, AppError> {
    let now = state.clock.now();
    let month = Month::parse_or_current(month, now)?;
    let farmer_id = acting.farmer_id;
    let read = move |conn: &mut crate::db::Conn<'_>| statement_source(conn, farmer_id);
    let (name, deliveries) =
        audit::read_for(&state.db, acting, AuditAction::ViewCod, now, read).await?.ok_or_else(AppError::not_found)?;
    Ok(Statement::new(farmer_id, name, month, &deliveries))
}

/// What a statement looks like as CSV (UTF-8 with a byte-order mark; headers and lines in the caller's language).
const STATEMENT_CSV: &str = "Nông dân,Tháng,Mã,Mục,Số tiền (đồng),Nghĩa là\n\
    Nguyễn Thị Lan,2026-11,goods_sold_vnd,Tiền hàng đã giao,400000,Giá hàng của các đơn giao xong trong tháng …\n";

/// The farmer's monthly statement (a helper may look; audited): per month of Vietnam time, the goods
/// delivered, the delivery fees buyers paid (for the carrier, not the farmer's money), the cash collected on
/// delivery, the bank transfers, the farmer's share, and where it stands: not in yet at the month's start,
/// arrived in the month, not in yet at its end. Payouts from the marketplace to farmers are not modelled:
/// "paid out" is the farmer's share once its money has reached the marketplace (cash when the carrier
/// remits it, a transfer when the shipment is delivered), as in `/me/cod`. Each field says what it counts.
/// As CSV (`?format=csv` or `Accept: text/csv`): UTF-8 with a byte-order mark, one row per line (farmer,
/// month, code, line, amount in VND, what it means), in the caller's language.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(StatementQuery, ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    responses(
        (status = 200, description = "The statement as JSON, or as CSV (see the description)", content(
            (Statement = "application/json"),
            (String = "text/csv", example = json!(STATEMENT_CSV)),
        )),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`month` not a month as `YYYY-MM` (`month_invalid`), or `format` neither `csv` nor `json`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/statements")]
async fn farmer_statement(
    state: web::Data<AppState>,
    req: HttpRequest,
    acting: ActingFarmer,
    ApiQuery(query): ApiQuery<StatementQuery>,
) -> Result<HttpResponse, AppError> {
    acting_farmer_statement(&state, &acting, query.month.as_deref()).await?.answer(&req, query.format.as_deref())
}

/// A farmer's monthly statement, for operators: the same as the farmer's `/me/statements`.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The farmer's id"), StatementQuery),
    responses(
        (status = 200, description = "The statement as JSON, or as CSV (see `/me/statements`)", content(
            (Statement = "application/json"),
            (String = "text/csv", example = json!(STATEMENT_CSV)),
        )),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`month` not a month as `YYYY-MM` (`month_invalid`), or `format` neither `csv` nor `json`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/farmers/{id}/statements")]
async fn operator_statement(
    state: web::Data<AppState>,
    req: HttpRequest,
    _operator: Operator,
    id: web::Path<i64>,
    ApiQuery(query): ApiQuery<StatementQuery>,
) -> Result<HttpResponse, AppError> {
    farmer_statement_for_operator(&state, id.into_inner(), query.month.as_deref())
        .await?
        .answer(&req, query.format.as_deref())
}

/// Any farmer's statement for a month (default: this month), for an operator; 404 when `farmer_id` is no
/// farmer.
pub async fn farmer_statement_for_operator(
    state: &AppState,
    farmer_id: i64,
    month: Option<&str>,
) -> Result<Statement, AppError> {
    let month = Month::parse_or_current(month, state.clock.now())?;
    let (name, deliveries) =
        state.db.read(move |conn| statement_source(conn, farmer_id)).await?.ok_or_else(AppError::not_found)?;
    Ok(Statement::new(farmer_id, name, month, &deliveries))
}
