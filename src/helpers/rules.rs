//! What a helper does, for the API and the web app alike: enrol a farmer (present, typing their own PIN,
//! consenting), list the team's households, reset a PIN after an in-person check.

use actix_web::web;
use serde::Serialize;
use utoipa::ToSchema;

use super::store;
use crate::accounts::Profile;
use crate::accounts::rules::{self as accounts, FarmerSignup, load_profile};
use crate::accounts::store::profile;
use crate::audit;
use crate::auth::rate_limit::PER_ACCOUNT;
use crate::auth::secrets::hash_secret;
use crate::auth::{SessionUser, helper_access, require_access};
use crate::clock::in_vietnam;
use crate::domain::account::{Pin, parse_name};
use crate::domain::phone::Phone;
use crate::domain::status::AuditAction;
use crate::error::{AppError, Kind, Lang, Text};
use crate::http::Page;
use crate::mail::templates::Template;
use crate::outbox;
use crate::reference::WardRef;
use crate::state::AppState;
use crate::validate;

/// A farmer being enrolled, as typed on the helper's phone.
pub struct Enrolling<'a> {
    pub phone: &'a str,
    pub name: &'a str,
    pub ward_code: i32,
    /// Typed by the farmer.
    pub pin: &'a str,
    /// The farmer agreed that the team may help them and act for them.
    pub consent: bool,
}

/// A household (a farmer) of the helper's team's communes.
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

pub fn team_of(helper: &SessionUser) -> Result<i64, AppError> {
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

/// Opens the farmer's account in one of the team's communes; the farmer logs in on their own phone.
pub async fn enrol(
    state: &web::Data<AppState>,
    helper: &SessionUser,
    enrolling: &Enrolling<'_>,
) -> Result<Profile, AppError> {
    let team_id = team_of(helper)?;
    must_be_true(
        enrolling.consent,
        "consent",
        "consent_required",
        Text::new(
            "Cần sự đồng ý của nông dân trước khi tạo tài khoản.",
            "The farmer's consent is required to open the account.",
        ),
    )?;
    let phone = Phone::parse(enrolling.phone).map_err(|e| e.at("phone"));
    let name = parse_name(enrolling.name).map_err(|e| e.at("name"));
    let pin = Pin::parse(enrolling.pin).map_err(|e| e.at("pin"));
    let (phone, name, pin) = validate!(phone, name, pin);
    let pin_hash = hash_secret(pin.expose().to_owned()).await?;
    let signup = FarmerSignup { phone, name, ward_code: enrolling.ward_code, pin_hash, enrolled_by: Some(helper.id) };
    let (reference, now) = (state.reference.clone(), state.clock.now());
    state
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
        .await
}

/// One page of the households of the helper's team's communes, and whether more follow.
pub async fn households(
    state: &web::Data<AppState>,
    helper: &SessionUser,
    page: Page,
) -> Result<(Vec<TeamFarmer>, Option<String>), AppError> {
    let team_id = team_of(helper)?;
    let helper_id = helper.id;
    let rows = state
        .db
        .read(move |conn| store::team_farmers(conn, team_id, helper_id, page.fetch_limit(), page.offset))
        .await?;
    let (rows, next_cursor) = page.finish(rows);
    let households = rows
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
    Ok((households, next_cursor))
}

/// The communes the helper's team covers (where it may enrol households).
pub async fn team_communes(state: &web::Data<AppState>, helper: &SessionUser) -> Result<Vec<WardRef>, AppError> {
    let team_id = team_of(helper)?;
    let codes = state.db.read(move |conn| store::team_ward_codes(conn, team_id)).await?;
    Ok(codes.into_iter().filter_map(|code| state.reference.places.ward_ref(code)).collect())
}

/// The farmer a helper may act for, by id: their name, or the API's 403 (revoked) / 404 (not in the team).
pub async fn household(state: &web::Data<AppState>, helper: &SessionUser, farmer_id: i64) -> Result<String, AppError> {
    let (helper_id, team_id) = (helper.id, helper.team_id);
    require_access(state.db.read(move |conn| helper_access(conn, helper_id, team_id, farmer_id)).await?)?;
    Ok(state.db.read(move |conn| profile(conn, farmer_id)).await?.name)
}

/// Sets a new PIN typed by the farmer, after the helper checked them in person: the farmer's sessions end,
/// a lockout from wrong PINs is lifted, and the reset is audited and emailed (when the farmer has an email)
/// in the same transaction.
pub async fn reset_pin(
    state: &web::Data<AppState>,
    helper: &SessionUser,
    farmer_id: i64,
    new_pin: &str,
    identity_checked: bool,
) -> Result<(), AppError> {
    let (helper_id, team_id, helper_name) = (helper.id, helper.team_id, helper.name.clone());
    require_access(state.db.read(move |conn| helper_access(conn, helper_id, team_id, farmer_id)).await?)?;
    must_be_true(
        identity_checked,
        "identity_checked",
        "identity_check_required",
        Text::new(
            "Chỉ đặt lại mã PIN sau khi đã gặp và xác minh nông dân trực tiếp.",
            "Reset a PIN only after checking the farmer in person.",
        ),
    )?;
    let pin = Pin::parse(new_pin).map_err(|e| AppError::validation(vec![e.at("new_pin")]))?;
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
                [("name", farmer.name.as_str()), ("helper_name", helper_name.as_str()), ("time", time.as_str())];
            let to = outbox::Person {
                user_id: Some(farmer_id),
                email: farmer.email.as_deref(),
                phone: farmer.phone.as_deref(),
            };
            outbox::notify(conn, to, Template::PinReset, Lang::Vi, &values, now)?;
            Ok(farmer.phone)
        })
        .await?;
    // The farmer was checked in person: a lockout from earlier wrong PINs ends with the new PIN.
    if let Some(phone) = phone {
        PER_ACCOUNT.reset(&state.cache, &accounts::pin_login_subject(&phone)).await;
    }
    Ok(())
}
