//! Community helpers: enrol farmers of their team's communes (with the farmer's consent), list them, and
//! reset a PIN after checking the farmer in person. Acting for a farmer elsewhere goes through
//! `X-On-Behalf-Of` (see `auth::ActingFarmer`), and everything is audited.

pub mod store;

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::Profile;
use crate::accounts::rules::{self as accounts, CONSENT_VERSION, FarmerSignup, load_profile};
use crate::accounts::store::profile;
use crate::audit;
use crate::auth::rate_limit::PER_ACCOUNT;
use crate::auth::secrets::hash_secret;
use crate::auth::{Helper, SessionUser, helper_access, require_access};
use crate::clock::in_vietnam;
use crate::domain::account::{Pin, parse_name};
use crate::domain::phone::Phone;
use crate::domain::status::AuditAction;
use crate::error::{AppError, Kind, Lang, Problem, Text};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery};
use crate::mail::templates::Template;
use crate::outbox;
use crate::state::AppState;
use crate::validate;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(enroll_farmer).service(list_farmers).service(reset_pin);
}

#[derive(Deserialize, ToSchema)]
pub struct EnrolmentRequest {
    pub phone: String,
    pub name: String,
    /// A commune of the helper's team.
    pub ward_code: i32,
    /// Typed by the farmer on the helper's phone.
    pub pin: String,
    /// The farmer agreed that this team may help them and act for them: must be `true`.
    pub consent: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Enrolment {
    pub farmer: Profile,
    /// Version of the consent text the farmer agreed to, stored with the account.
    pub consent_version: String,
}

#[derive(Serialize, ToSchema)]
pub struct TeamFarmer {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub ward_code: Option<i32>,
    pub ward_name: String,
    /// Whether this helper enrolled the farmer.
    pub enrolled_by_me: bool,
    /// `false` once the farmer revoked this helper.
    pub can_act: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TeamFarmerPage {
    pub items: Vec<TeamFarmer>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct PinResetRequest {
    /// The farmer's new PIN, typed by the farmer.
    pub new_pin: String,
    /// The helper saw the farmer and their ID in person: must be `true`.
    pub identity_checked: bool,
}

fn team_of(helper: &SessionUser) -> Result<i64, AppError> {
    helper.team_id.ok_or_else(|| {
        AppError::new(
            Kind::Forbidden,
            "no_team",
            Text::new("Bạn chưa thuộc nhóm hỗ trợ nào.", "You are not in a community team."),
        )
    })
}

fn must_be_true(value: bool, field: &str, code: &'static str, text: Text) -> Result<(), AppError> {
    if value { Ok(()) } else { Err(AppError::invalid_field(field, code, text)) }
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
    let team_id = team_of(&helper)?;
    must_be_true(
        body.consent,
        "consent",
        "consent_required",
        Text::new(
            "Cần sự đồng ý của nông dân trước khi tạo tài khoản.",
            "The farmer's consent is required to open the account.",
        ),
    )?;
    let phone = Phone::parse(&body.phone).map_err(|e| e.at("phone"));
    let name = parse_name(&body.name).map_err(|e| e.at("name"));
    let pin = Pin::parse(&body.pin).map_err(|e| e.at("pin"));
    let (phone, name, pin) = validate!(phone, name, pin);
    let pin_hash = hash_secret(pin.expose().to_owned()).await?;
    let signup = FarmerSignup { phone, name, ward_code: body.ward_code, pin_hash, enrolled_by: Some(helper.id) };
    let (reference, now) = (state.reference.clone(), state.clock.now());
    let farmer = state
        .db
        .write(move |conn| {
            reference.places.known_ward(signup.ward_code)?;
            if !store::team_covers(conn, team_id, signup.ward_code)? {
                return Err(AppError::invalid_field(
                    "ward_code",
                    "ward_outside_team",
                    Text::new(
                        "Xã/phường này không thuộc địa bàn nhóm của bạn.",
                        "This commune is not one your team covers.",
                    ),
                ));
            }
            let id = accounts::insert_farmer(conn, &reference.places, &signup, now)?;
            load_profile(conn, &reference.places, id)
        })
        .await?;
    Ok(HttpResponse::Created().json(Enrolment { farmer, consent_version: CONSENT_VERSION.to_owned() }))
}

/// The farmers of the helper's team's communes.
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
    let team_id = team_of(&helper)?;
    let page = Page::of(&query)?;
    let helper_id = helper.id;
    let rows = state
        .db
        .read(move |conn| store::team_farmers(conn, team_id, helper_id, page.fetch_limit(), page.offset))
        .await?;
    let (rows, next_cursor) = page.finish(rows);
    let items = rows
        .into_iter()
        .map(|(id, name, phone, ward_code, ward_name, enrolled_by, revoked)| TeamFarmer {
            id,
            name,
            phone,
            ward_code,
            ward_name,
            enrolled_by_me: enrolled_by == Some(helper_id),
            can_act: !revoked,
        })
        .collect();
    Ok(web::Json(TeamFarmerPage { items, next_cursor }))
}

/// A helper sets a new PIN typed by the farmer, after checking the farmer in person; the farmer's sessions
/// end, a lockout from wrong PINs is lifted, and the reset is audited and emailed (when the farmer has an
/// email) in the same transaction.
#[utoipa::path(
    tag = "helpers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The farmer's id")),
    request_body = PinResetRequest,
    responses(
        (status = 204, description = "PIN reset"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Helpers only, not revoked", body = Problem, content_type = "application/problem+json"),
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
    let farmer_id = farmer_id.into_inner();
    let (helper_id, team_id) = (helper.id, helper.team_id);
    require_access(state.db.read(move |conn| helper_access(conn, helper_id, team_id, farmer_id)).await?)?;
    must_be_true(
        body.identity_checked,
        "identity_checked",
        "identity_check_required",
        Text::new(
            "Chỉ đặt lại mã PIN sau khi đã gặp và xác minh nông dân trực tiếp.",
            "Reset a PIN only after checking the farmer in person.",
        ),
    )?;
    let pin = Pin::parse(&body.new_pin).map_err(|e| AppError::validation(vec![e.at("new_pin")]))?;
    let hash = hash_secret(pin.expose().to_owned()).await?;
    let now = state.clock.now();
    let phone = state
        .db
        .write(move |conn| {
            accounts::set_secret(conn, farmer_id, &hash, now)?;
            let entry = audit::Entry { actor_id: helper_id, farmer_id, action: AuditAction::PinReset, entity_id: None };
            audit::record(conn, &entry, now)?;
            let farmer = profile(conn, farmer_id)?;
            let time = in_vietnam(now).format("%H:%M %d/%m/%Y").to_string();
            let values =
                [("name", farmer.name.as_str()), ("helper_name", helper.name.as_str()), ("time", time.as_str())];
            outbox::notify(conn, farmer.email.as_deref(), Template::PinReset, Lang::Vi, &values, now)?;
            Ok(farmer.phone)
        })
        .await?;
    // The farmer was checked in person: a lockout from earlier wrong PINs ends with the new PIN.
    if let Some(phone) = phone {
        PER_ACCOUNT.reset(&state.cache, &accounts::pin_login_subject(&phone)).await;
    }
    Ok(HttpResponse::NoContent().finish())
}
