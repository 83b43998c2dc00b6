//! The partner's routes (API key): list, claim, read, release and extend jobs, and report their events.

use actix_web::{get, post, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::rules::{self, Event, LEASE_SECONDS, Outcome};
use super::store::{self, JobFilter};
use super::view::{ClaimedJobs, Holder, Job, JobList, job_views};
use crate::auth::Partner;
use crate::db::Conn;
use crate::domain::status::JobStatus;
use crate::domain::text::{Lines, optional_text, typed_text};
use crate::error::{AppError, FieldError, Problem, Text};
use crate::http::{ApiJson, ApiQuery, Page};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `available` (default: open to claim in the partner's provinces) or a status of the partner's own jobs.
    pub status: Option<String>,
    /// Only jobs picked up in this province.
    pub province: Option<i32>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A status among those `allowed`; the error lists them.
fn parse_status(field: &str, text: &str, allowed: impl Fn(JobStatus) -> bool) -> Result<JobStatus, FieldError> {
    JobStatus::parse(text).filter(|status| allowed(*status)).ok_or_else(|| {
        let names: Vec<&str> = JobStatus::ALL.iter().filter(|s| allowed(**s)).map(|s| s.as_str()).collect();
        FieldError::new(
            field,
            "status_unknown",
            Text::new(
                format!("Trạng thái phải là một trong: {}.", names.join(", ")),
                format!("The status must be one of: {}.", names.join(", ")),
            ),
        )
    })
}

/// Jobs open to claim in the partner's provinces (no names, phones or streets), or the partner's own jobs in
/// a status (with details).
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(JobQuery),
    responses(
        (status = 200, description = "One page of jobs", body = JobList),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status or province, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/partner/jobs")]
pub async fn list_jobs(
    state: web::Data<AppState>,
    Partner(key): Partner,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<web::Json<JobList>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let status = match query.status.as_deref() {
        None => JobStatus::Available,
        Some(text) => parse_status("status", text, |_| true).map_err(|error| AppError::validation(vec![error]))?,
    };
    let (reference, now) = (state.reference.clone(), state.clock.now());
    let jobs = state
        .db
        .read(move |conn| {
            let mut provinces = crate::partners::store::served_provinces(conn, key.partner_id)?;
            if let Some(province) = query.province {
                if !provinces.contains(&province) {
                    return Err(AppError::invalid_field(
                        "province",
                        "province_not_served",
                        Text::new("Đơn vị không phục vụ tỉnh này.", "This partner does not serve that province."),
                    ));
                }
                provinces = vec![province];
            }
            let filter = match status {
                JobStatus::Available => JobFilter::Available(&provinces),
                other => JobFilter::Held(key.partner_id, other),
            };
            let mut rows = store::list_jobs(conn, &filter, page.fetch_limit(), page.offset)?;
            if let JobFilter::Held(..) = filter {
                rows.retain(|job| provinces.contains(&job.pickup_province_code));
            }
            job_views(conn, &reference.places, rows, Some(Holder { partner_id: key.partner_id, now }))
        })
        .await?;
    let (jobs, next_cursor) = page.finish(jobs);
    Ok(web::Json(JobList { jobs, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
pub struct ClaimRequest {
    /// How many jobs to take at most, 1 to 100 (default 10).
    pub limit: Option<i64>,
    /// How long the claim holds without a pickup, 1 to 86,400 seconds (default 900).
    pub lease_seconds: Option<i64>,
}

fn check_lease_seconds(value: Option<i64>) -> Result<i64, FieldError> {
    let seconds = value.unwrap_or(900);
    if LEASE_SECONDS.contains(&seconds) {
        Ok(seconds)
    } else {
        Err(FieldError::new(
            "lease_seconds",
            "lease_seconds_range",
            Text::new("`lease_seconds` từ 1 đến 86.400.", "`lease_seconds` must be 1 to 86,400."),
        ))
    }
}

/// Claims up to `limit` open jobs in the partner's provinces, atomically: each job goes to exactly one
/// partner. The answer carries their full details and the lease (fencing token) that holds them.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    request_body = ClaimRequest,
    responses(
        (status = 200, description = "The jobs now held (possibly none)", body = ClaimedJobs),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `lease_seconds`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partner/jobs/claim")]
pub async fn claim_jobs(
    state: web::Data<AppState>,
    Partner(key): Partner,
    ApiJson(body): ApiJson<ClaimRequest>,
) -> Result<web::Json<ClaimedJobs>, AppError> {
    let limit = body.limit.unwrap_or(10);
    let limit = if (1..=100).contains(&limit) {
        Ok(limit)
    } else {
        Err(FieldError::new(
            "limit",
            "limit_out_of_range",
            Text::new("`limit` từ 1 đến 100.", "`limit` must be 1 to 100."),
        ))
    };
    let lease_seconds = check_lease_seconds(body.lease_seconds);
    let (limit, lease_seconds) = crate::validate!(limit, lease_seconds);
    let (reference, now) = (state.reference.clone(), state.clock.now());
    let jobs = state
        .db
        .write(move |conn| {
            let provinces = crate::partners::store::served_provinces(conn, key.partner_id)?;
            let jobs = rules::claim(conn, key.partner_id, &provinces, limit, lease_seconds, now)?;
            job_views(conn, &reference.places, jobs, Some(Holder { partner_id: key.partner_id, now }))
        })
        .await?;
    metrics::counter!("job_claims_total").increment(u64::try_from(jobs.len()).unwrap_or_default());
    Ok(web::Json(ClaimedJobs { jobs }))
}

/// One job: without names, phones or streets unless this partner holds it. 404 for jobs of other provinces or
/// held by another partner.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this partner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/partner/jobs/{id}")]
pub async fn get_job(
    state: web::Data<AppState>,
    Partner(key): Partner,
    id: web::Path<i64>,
) -> Result<web::Json<Job>, AppError> {
    let (id, reference, now) = (id.into_inner(), state.reference.clone(), state.clock.now());
    let job = state
        .db
        .read(move |conn| {
            let provinces = crate::partners::store::served_provinces(conn, key.partner_id)?;
            let job = rules::visible_to(store::job(conn, id)?, key.partner_id, &provinces)?;
            job_views(conn, &reference.places, vec![job], Some(Holder { partner_id: key.partner_id, now }))
        })
        .await?;
    job.into_iter().next().map(web::Json).ok_or_else(AppError::not_found)
}

#[derive(Deserialize, ToSchema)]
pub struct ReleaseRequest {
    pub lease_id: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ExtendRequest {
    pub lease_id: String,
    /// The lease's new length from now, 1 to 86,400 seconds (default 900).
    pub lease_seconds: Option<i64>,
}

/// Runs a lease operation on a job this partner can see, then answers with the job.
async fn with_lease(
    state: &web::Data<AppState>,
    partner_id: i64,
    id: i64,
    operation: impl FnOnce(&mut Conn<'_>) -> Result<(), AppError> + Send + 'static,
) -> Result<web::Json<Job>, AppError> {
    let (reference, now) = (state.reference.clone(), state.clock.now());
    let job = state
        .db
        .write(move |conn| {
            let provinces = crate::partners::store::served_provinces(conn, partner_id)?;
            rules::visible_to(store::job_to_change(conn, id)?, partner_id, &provinces)?;
            operation(conn)?;
            let jobs = store::job(conn, id)?.into_iter().collect();
            job_views(conn, &reference.places, jobs, Some(Holder { partner_id, now }))
        })
        .await?;
    job.into_iter().next().map(web::Json).ok_or_else(AppError::not_found)
}

/// Gives a claimed job back before pickup, so another partner can take it at once.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    request_body = ReleaseRequest,
    responses(
        (status = 200, description = "Released: the job is open to claim again", body = Job),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this partner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The lease is not live (expired or replaced)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partner/jobs/{id}/release")]
pub async fn release_job(
    state: web::Data<AppState>,
    Partner(key): Partner,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<ReleaseRequest>,
) -> Result<web::Json<Job>, AppError> {
    let (id, now, max_attempts) = (id.into_inner(), state.clock.now(), state.settings.max_claim_attempts);
    let job =
        with_lease(&state, key.partner_id, id, move |conn| rules::release(conn, id, &body.lease_id, now, max_attempts))
            .await?;
    metrics::counter!("job_releases_total").increment(1);
    Ok(job)
}

/// Extends a claim's lease, e.g. when the van is late; the lease must still be live.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    request_body = ExtendRequest,
    responses(
        (status = 200, description = "The job with its new lease end", body = Job),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this partner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The lease is not live (expired or replaced)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `lease_seconds`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partner/jobs/{id}/extend")]
pub async fn extend_lease(
    state: web::Data<AppState>,
    Partner(key): Partner,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<ExtendRequest>,
) -> Result<web::Json<Job>, AppError> {
    let seconds = check_lease_seconds(body.lease_seconds).map_err(|e| AppError::validation(vec![e]))?;
    let (id, now) = (id.into_inner(), state.clock.now());
    with_lease(&state, key.partner_id, id, move |conn| rules::extend(conn, id, &body.lease_id, seconds, now)).await
}

#[derive(Deserialize, ToSchema)]
pub struct EventRequest {
    /// The partner's own id for this report (1 to 100 characters): a resend with the same id is a no-op.
    pub event_id: String,
    /// picked_up, pickup_failed, in_transit, out_for_delivery, delivery_failed, delivered, returning,
    /// returned, lost or damaged.
    pub status: String,
    pub occurred_at: DateTime<Utc>,
    /// Required until the job is picked up: the live lease of the claim.
    pub lease_id: Option<String>,
    pub tracking_code: Option<String>,
    /// The carrier's own status text.
    pub carrier_status: Option<String>,
    pub note: Option<String>,
    /// On delivery of a COD job: the cash collected.
    pub cod_collected_vnd: Option<i64>,
    /// Required when less cash than due was collected (e.g. the buyer took only part of the parcel); the
    /// difference stays a discrepancy until an operator resolves it. At most 300 characters.
    pub cod_shortfall_reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EventAnswer {
    pub outcome: Outcome,
    pub job: Job,
}

/// Reports a step of a job this partner holds. States only move forward: a late report is recorded but
/// moves nothing, an impossible one is 409 with the current state, a repeated `event_id` is accepted once.
#[utoipa::path(
    tag = "fulfilment",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    request_body = EventRequest,
    responses(
        (status = 200, description = "Applied, recorded as late, or a duplicate", body = EventAnswer),
        (status = 401, description = "No or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Partner keys only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job for this partner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Impossible transition, not claimed, or the lease is not live", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad status, time, text, lease or COD amount", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partner/jobs/{id}/events")]
pub async fn report_event(
    state: web::Data<AppState>,
    Partner(key): Partner,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<EventRequest>,
) -> Result<web::Json<EventAnswer>, AppError> {
    let event_id = match optional_text("event_id", Some(&body.event_id), 100) {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(FieldError::new(
            "event_id",
            "event_id_required",
            Text::new(
                "Cần `event_id` để không ghi trùng.",
                "`event_id` is required, so a resend is not recorded twice.",
            ),
        )),
        Err(error) => Err(error),
    };
    let status = parse_status("status", &body.status, JobStatus::is_reportable);
    let now = state.clock.now();
    let occurred_at = if body.occurred_at.naive_utc() <= now + Duration::minutes(5) {
        Ok(body.occurred_at.naive_utc())
    } else {
        Err(FieldError::new(
            "occurred_at",
            "occurred_in_future",
            Text::new("`occurred_at` không được ở tương lai.", "`occurred_at` cannot be in the future."),
        ))
    };
    let tracking_code = optional_text("tracking_code", body.tracking_code.as_deref(), 64);
    let carrier_status = optional_text("carrier_status", body.carrier_status.as_deref(), 100);
    let note = typed_text("note", body.note.as_deref(), 500, Lines::Many);
    let shortfall_reason = optional_text("cod_shortfall_reason", body.cod_shortfall_reason.as_deref(), 300);
    let (event_id, status, occurred_at, tracking_code, carrier_status, note, shortfall_reason) =
        crate::validate!(event_id, status, occurred_at, tracking_code, carrier_status, note, shortfall_reason);
    let (id, partner_id, max_attempts) = (id.into_inner(), key.partner_id, state.settings.max_claim_attempts);
    let (reference, now) = (state.reference.clone(), state.clock.now());
    let answer = state
        .db
        .write(move |conn| {
            let provinces = crate::partners::store::served_provinces(conn, partner_id)?;
            let job = rules::visible_to(store::job_to_change(conn, id)?, partner_id, &provinces)?;
            let event = Event {
                event_id: &event_id,
                status,
                occurred_at,
                lease_id: body.lease_id.as_deref(),
                tracking_code: tracking_code.as_deref(),
                carrier_status: carrier_status.as_deref(),
                note: note.as_deref(),
                cod_collected_vnd: body.cod_collected_vnd,
                cod_shortfall_reason: shortfall_reason.as_deref(),
            };
            let outcome = rules::record_event(conn, &job, partner_id, &event, max_attempts, now)?;
            let jobs = store::job(conn, id)?.into_iter().collect();
            let job = job_views(conn, &reference.places, jobs, Some(Holder { partner_id, now }))?
                .into_iter()
                .next()
                .ok_or_else(AppError::not_found)?;
            Ok(EventAnswer { outcome, job })
        })
        .await?;
    Ok(web::Json(answer))
}
