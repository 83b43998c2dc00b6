//! Community helpers: enrol farmers of their team's communes (with the farmer's consent), list them, take a
//! farmer's consent in person (the farmer types their PIN), and reset a PIN after checking the farmer in
//! person (the rules are in `rules`, shared with the web app). Acting for a farmer elsewhere goes through
//! `X-On-Behalf-Of` (see `auth::ActingFarmer`), only while the farmer consents, and everything is audited.

pub mod rules;
pub mod store;

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::Profile;
use crate::auth::Helper;
use crate::consents::Consent;
use crate::consents::rules::CONSENT_VERSION;
use crate::domain::status::ConsentPurpose;
use crate::error::{AppError, Problem};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery};
use crate::state::AppState;
use rules::{Enrolling, TeamFarmer};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(enroll_farmer).service(list_farmers).service(consent_in_person).service(reset_pin);
}

#[derive(Deserialize, ToSchema)]
pub struct EnrolmentRequest {
    pub phone: String,
    pub name: String,
    /// A commune of the helper's team.
    pub ward_code: i32,
    /// Typed by the farmer on the helper's phone.
    pub pin: String,
    /// The farmer agreed that this team may help them and act for them, for every purpose (list produce,
    /// answer orders, reset the PIN): must be `true`. Recorded as a consent the farmer can revoke.
    pub consent: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Enrolment {
    pub farmer: Profile,
    /// Version of the consent text the farmer agreed to, stored with the consent.
    pub consent_version: String,
}

#[derive(Serialize, ToSchema)]
pub struct TeamFarmerPage {
    pub items: Vec<TeamFarmer>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct InPersonConsentRequest {
    /// The farmer's PIN, typed by the farmer on the helper's phone.
    pub pin: String,
    /// What the team may do for the farmer: at least one.
    pub purposes: Vec<ConsentPurpose>,
}

#[derive(Deserialize, ToSchema)]
pub struct PinResetRequest {
    /// The farmer's new PIN, typed by the farmer.
    pub new_pin: String,
    /// The helper saw the farmer and their ID in person: must be `true`.
    pub identity_checked: bool,
}

/// A helper opens a farmer's account with the farmer present: the farmer types the PIN and consents.
#[utoipa::path(
    tag = "helpers",
    security(("bearer" = [])),
    request_body = EnrolmentRequest,
    responses(
        (status = 201, description = "Farmer enrolled (the farmer logs in on their own phone)", body = Enrolment),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Helpers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The phone already has a farmer account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, no consent, or a commune outside the team", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/helper/farmers")]
async fn enroll_farmer(
    state: web::Data<AppState>,
    Helper(helper): Helper,
    ApiJson(body): ApiJson<EnrolmentRequest>,
) -> Result<HttpResponse, AppError> {
    let enrolling = Enrolling {
        phone: &body.phone,
        name: &body.name,
        ward_code: body.ward_code,
        pin: &body.pin,
        consent: body.consent,
    };
    let farmer = rules::enrol(&state, &helper, &enrolling).await?;
    Ok(HttpResponse::Created().json(Enrolment { farmer, consent_version: CONSENT_VERSION.to_owned() }))
}

/// The farmers of the helper's team's communes. Those with a live consent for the team come with their phone
/// (`consenting: true`); the others only with their name and commune, `consenting: false` and no phone, so the
/// helper can find them to ask for their consent in person. `can_act` is false for both those who do not
/// consent and those who revoked this helper.
#[utoipa::path(
    tag = "helpers",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of farmers", body = TeamFarmerPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Helpers only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/helper/farmers")]
async fn list_farmers(
    state: web::Data<AppState>,
    Helper(helper): Helper,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<web::Json<TeamFarmerPage>, AppError> {
    let (items, next_cursor) = rules::households(&state, &helper, Page::of(&query)?).await?;
    Ok(web::Json(TeamFarmerPage { items, next_cursor }))
}

/// The farmer, in person, agrees on the helper's phone that the helper's team may act for them: they type
/// their PIN (a wrong one counts against their PIN lockout, as at login) and the purposes are recorded as a
/// consent the farmer can see and revoke; it replaces the farmer's live consent to the team.
#[utoipa::path(
    tag = "helpers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The farmer's id")),
    request_body = InPersonConsentRequest,
    responses(
        (status = 201, description = "Consent recorded", body = Consent),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Helpers only, not revoked by the farmer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the team's communes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong PIN, or no purpose", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong PINs for this farmer; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/helper/farmers/{id}/consents")]
async fn consent_in_person(
    state: web::Data<AppState>,
    Helper(helper): Helper,
    farmer_id: web::Path<i64>,
    ApiJson(body): ApiJson<InPersonConsentRequest>,
) -> Result<HttpResponse, AppError> {
    let consent = rules::consent_in_person(&state, &helper, farmer_id.into_inner(), body.pin, body.purposes).await?;
    Ok(HttpResponse::Created().json(consent))
}

/// A helper sets a new PIN typed by the farmer, after checking the farmer in person and while the farmer's
/// consent covers PIN resets; the farmer's sessions end, a lockout from wrong PINs is lifted, and the reset is
/// audited and told to the farmer (email, text, in-app) in the same transaction.
#[utoipa::path(
    tag = "helpers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The farmer's id")),
    request_body = PinResetRequest,
    responses(
        (status = 204, description = "PIN reset"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Helpers only, not revoked, with the farmer's consent to PIN resets (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the team's communes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unacceptable PIN or no in-person check", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/helper/farmers/{id}/pin-reset")]
async fn reset_pin(
    state: web::Data<AppState>,
    Helper(helper): Helper,
    farmer_id: web::Path<i64>,
    ApiJson(body): ApiJson<PinResetRequest>,
) -> Result<HttpResponse, AppError> {
    rules::reset_pin(&state, &helper, farmer_id.into_inner(), &body.new_pin, body.identity_checked).await?;
    Ok(HttpResponse::NoContent().finish())
}
