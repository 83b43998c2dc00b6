//! The operator's view of fulfilment.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, JobFilter};
use super::view::{Job, job_views};
use crate::auth::Operator;
use crate::error::{AppError, Problem};
use crate::http::{ApiQuery, Page, PageQuery};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct FlaggedJobPage {
    pub items: Vec<Job>,
    pub next_cursor: Option<String>,
}

/// Open jobs whose claims ran out too often without a pickup: an operator should call the farmer.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of flagged jobs", body = FlaggedJobPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/jobs/flagged")]
pub async fn flagged_jobs(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<web::Json<FlaggedJobPage>, AppError> {
    let page = Page::of(&query)?;
    let reference = state.reference.clone();
    let jobs = state
        .db
        .read(move |conn| {
            let rows = store::list_jobs(conn, &JobFilter::NeedsOperator, page.fetch_limit(), page.offset)?;
            job_views(conn, &reference.places, rows, None)
        })
        .await?;
    let (items, next_cursor) = page.finish(jobs);
    Ok(web::Json(FlaggedJobPage { items, next_cursor }))
}
