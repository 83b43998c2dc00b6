//! COD reconciliation: the cash partners collected on delivery, what they remitted (handed over to the
//! marketplace) and what is still outstanding, per partner and in total; and per farmer, what the
//! marketplace still owes them and what has reached it. Routes here; rules in `rules`, queries in `store`.

pub mod rules;
pub mod store;

use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit;
use crate::auth::{ActingFarmer, Operator, Partner};
use crate::domain::status::AuditAction;
use crate::error::{AppError, Problem};
use crate::http::{ApiJson, ApiQuery};
use crate::state::AppState;
use rules::{Period, check_remittance, record, vietnam_date};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(record_remittance).service(partner_cod).service(operator_cod).service(farmer_cod);
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

/// A partner's COD over a period.
#[derive(Serialize, ToSchema)]
pub struct PartnerCod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(flatten)]
    pub figures: CodFigures,
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

/// What the marketplace owes a farmer for their delivered shipments.
#[derive(Serialize, ToSchema)]
pub struct FarmerCod {
    /// Items total of delivered shipments whose money has not reached the marketplace yet (COD the
    /// carrier has not remitted).
    pub owed_vnd: i64,
    pub owed_shipments: i64,
    /// Items total of delivered shipments whose money has reached the marketplace (COD remitted, or the
    /// order paid by bank transfer).
    pub paid_out_vnd: i64,
    pub paid_out_shipments: i64,
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
    let rows = state.db.read(move |conn| store::figures_by_partner(conn, Some(key.partner_id), period)).await?;
    let figures = rows.into_iter().map(|(_, _, figures)| figures).next().unwrap_or_default();
    Ok(web::Json(PartnerCod { from: period.from, to: period.to, figures }))
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
    let rows = state.db.read(move |conn| store::figures_by_partner(conn, None, period)).await?;
    let totals = rows.iter().fold(CodFigures::default(), |sum, (_, _, figures)| sum + *figures);
    let partners = rows.into_iter().map(|(id, name, figures)| PartnerCodRow { id, name, figures }).collect();
    Ok(web::Json(OperatorCod { from: period.from, to: period.to, partners, totals }))
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
        (status = 403, description = "Farmers and their helpers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/cod")]
async fn farmer_cod(state: web::Data<AppState>, acting: ActingFarmer) -> Result<web::Json<FarmerCod>, AppError> {
    let farmer_id = acting.farmer_id;
    let view = move |conn: &mut crate::db::Conn<'_>| store::farmer_figures(conn, farmer_id);
    let figures = audit::read_for(&state.db, &acting, AuditAction::ViewCod, state.clock.now(), view).await?;
    Ok(web::Json(figures))
}
