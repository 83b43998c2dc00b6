//! The operator's console over what others made: look up farmers (and read one whole), helpers, teams,
//! partners with their keys, listings and the helpers' audit log, all paged alike; hide a listing with a
//! reason and show it again. The rules are in `lookups` and `rules`.

use actix_web::{get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::lookups::{
    self, FarmerDetails, HelperAct, ListingQuery, PartnerDetails, PeopleQuery, PersonSummary, TeamDetails,
};
use super::rules;
use crate::auth::Operator;
use crate::domain::status::{ListingStatus, Role};
use crate::error::{AppError, Problem};
use crate::http::{ApiJson, ApiQuery, Page};
use crate::listings::Listing;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FarmerQuery {
    /// Part of the name, as written (with its accents).
    pub q: Option<String>,
    /// Their phone, typed any way.
    pub phone: Option<String>,
    /// Province code of their commune.
    pub province: Option<i32>,
    /// Their commune's code.
    pub ward: Option<i32>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonSummary>,
    pub next_cursor: Option<String>,
}

/// Looks farmers up by name, phone, province or commune.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(FarmerQuery),
    responses(
        (status = 200, description = "One page, newest first", body = PersonPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A phone that cannot be one, an unknown province or commune, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/farmers")]
pub(super) async fn find_farmers(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<FarmerQuery>,
) -> Result<web::Json<PersonPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let asked = PeopleQuery {
        role: Role::Farmer,
        name: query.q.as_deref(),
        phone: query.phone.as_deref(),
        province: query.province,
        ward: query.ward,
        team_id: None,
    };
    let (items, next_cursor) = page.finish(lookups::people(&state, &asked, page).await?);
    Ok(web::Json(PersonPage { items, next_cursor }))
}

/// One farmer whole: profile, the teams they consented to, how many listings, whether suspended.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Farmer id")),
    responses(
        (status = 200, description = "The farmer", body = FarmerDetails),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/farmers/{id}")]
pub(super) async fn read_farmer(
    state: web::Data<AppState>,
    _operator: Operator,
    id: web::Path<i64>,
) -> Result<web::Json<FarmerDetails>, AppError> {
    Ok(web::Json(lookups::farmer(&state, id.into_inner()).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HelperQuery {
    /// Part of the name, as written (with its accents).
    pub q: Option<String>,
    /// Their phone, typed any way.
    pub phone: Option<String>,
    pub team_id: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Looks helpers up by name, phone or team; each with their team.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(HelperQuery),
    responses(
        (status = 200, description = "One page, newest first", body = PersonPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A phone that cannot be one, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/helpers")]
pub(super) async fn find_helpers(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<HelperQuery>,
) -> Result<web::Json<PersonPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let asked = PeopleQuery {
        role: Role::Helper,
        name: query.q.as_deref(),
        phone: query.phone.as_deref(),
        province: None,
        ward: None,
        team_id: query.team_id,
    };
    let (items, next_cursor) = page.finish(lookups::people(&state, &asked, page).await?);
    Ok(web::Json(PersonPage { items, next_cursor }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NameQuery {
    /// Part of the name, as written (with its accents).
    pub q: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamPage {
    pub items: Vec<TeamDetails>,
    pub next_cursor: Option<String>,
}

/// Community teams, each with the communes it covers and its helpers.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(NameQuery),
    responses(
        (status = 200, description = "One page, newest first", body = TeamPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/teams")]
pub(super) async fn find_teams(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<NameQuery>,
) -> Result<web::Json<TeamPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let (items, next_cursor) = page.finish(lookups::teams(&state, query.q.as_deref(), page).await?);
    Ok(web::Json(TeamPage { items, next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct PartnerPage {
    pub items: Vec<PartnerDetails>,
    pub next_cursor: Option<String>,
}

/// Partners, each with the provinces it serves and its API keys (prefix, created, revoked: never the key).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(NameQuery),
    responses(
        (status = 200, description = "One page, newest first", body = PartnerPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/partners")]
pub(super) async fn find_partners(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<NameQuery>,
) -> Result<web::Json<PartnerPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let (items, next_cursor) = page.finish(lookups::partners(&state, query.q.as_deref(), page).await?);
    Ok(web::Json(PartnerPage { items, next_cursor }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminListingQuery {
    /// Words of the title, with or without accents.
    pub q: Option<String>,
    pub farmer_id: Option<i64>,
    /// Province code of where the produce comes from.
    pub province: Option<i32>,
    pub status: Option<ListingStatus>,
    /// `true`: only the listings an operator hid.
    pub hidden: Option<bool>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminListingPage {
    pub items: Vec<Listing>,
    pub next_cursor: Option<String>,
}

/// Listings of any status, each with the reason it is hidden when an operator hid it.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AdminListingQuery),
    responses(
        (status = 200, description = "One page, newest first", body = AdminListingPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status or province, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/listings")]
pub(super) async fn find_listings(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<AdminListingQuery>,
) -> Result<web::Json<AdminListingPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let asked = ListingQuery {
        q: query.q.as_deref(),
        farmer_id: query.farmer_id,
        province: query.province,
        status: query.status,
        hidden: query.hidden.unwrap_or(false),
    };
    let (items, next_cursor) = page.finish(lookups::listings(&state, &asked, page).await?);
    Ok(web::Json(AdminListingPage { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
pub struct HideRequest {
    /// Why, 3 to 300 characters: the farmer is told it.
    pub reason: String,
}

/// Hides a listing from buyers (catalogue, search, its page) with a reason the farmer is told; the farmer
/// cannot put it back on sale until it is unhidden. Audited; hiding again records the new reason.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Listing id")),
    request_body = HideRequest,
    responses(
        (status = 200, description = "Hidden", body = Listing),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one shorter than 3 or longer than 300 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/listings/{id}/hide")]
pub(super) async fn hide_listing(
    state: web::Data<AppState>,
    Operator(operator): Operator,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<HideRequest>,
) -> Result<web::Json<Listing>, AppError> {
    Ok(web::Json(rules::hide_listing(&state, operator.id, id.into_inner(), &body.reason).await?))
}

/// Shows a hidden listing again: back on sale if it was when hidden. Audited.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Listing id")),
    responses(
        (status = 200, description = "No longer hidden", body = Listing),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/listings/{id}/unhide")]
pub(super) async fn unhide_listing(
    state: web::Data<AppState>,
    Operator(operator): Operator,
    id: web::Path<i64>,
) -> Result<web::Json<Listing>, AppError> {
    Ok(web::Json(rules::unhide_listing(&state, operator.id, id.into_inner()).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HelperAuditQuery {
    pub farmer_id: Option<i64>,
    /// The helper who acted.
    pub actor_id: Option<i64>,
    /// On or after this day (Vietnam time), `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// On or before this day (Vietnam time), `YYYY-MM-DD`.
    pub to: Option<NaiveDate>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HelperActPage {
    pub items: Vec<HelperAct>,
    pub next_cursor: Option<String>,
}

/// What helpers did for farmers (the log each farmer reads at `/me/audit`), by farmer, helper and days.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(HelperAuditQuery),
    responses(
        (status = 200, description = "One page, newest first", body = HelperActPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Days that are not dates or are the wrong way round, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/helper-audit")]
pub(super) async fn helper_audit(
    state: web::Data<AppState>,
    _operator: Operator,
    ApiQuery(query): ApiQuery<HelperAuditQuery>,
) -> Result<web::Json<HelperActPage>, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let acts = lookups::helper_audit(&state, query.farmer_id, query.actor_id, query.from, query.to, page).await?;
    let (items, next_cursor) = page.finish(acts);
    Ok(web::Json(HelperActPage { items, next_cursor }))
}
