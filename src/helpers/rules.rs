//! What a helper does, for the API and the web app alike: enrol a farmer (present, typing their own PIN,
//! consenting), list the team's households (phones only of those who consented), take a farmer's consent in
//! person (the farmer types their PIN), reset a PIN after an in-person check (with the farmer's consent).

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
use crate::auth::{HelperAccess, SessionUser, consent_required, helper_access, require_access};
use crate::clock::vietnam_time;
use crate::consents::Consent;
use crate::consents::rules::{self as consents, Giving};
use crate::domain::account::{Pin, parse_name};
use crate::domain::phone::Phone;
use crate::domain::status::{AuditAction, ConsentGivenBy, ConsentPurpose};
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

/// A household (a farmer) of the helper's team's communes. Of a farmer who has no live consent for the team
/// (or revoked this helper), only the name and commune: no phone.
#[derive(Serialize, ToSchema)]
pub struct TeamFarmer {
    pub id: i64,
    pub name: String,
    /// Only while the farmer consents to the team and has not revoked this helper.
    pub phone: Option<String>,
    pub ward_code: Option<i32>,
    pub ward_name: String,
    /// Whether this helper enrolled the farmer.
    pub enrolled_by_me: bool,
    /// The farmer has a live consent for the helper's team.
    pub consenting: bool,
    /// The farmer withdrew this helper's right to act for them.
    pub revoked_me: bool,
    /// The helper may act for the farmer: `consenting`, and not `revoked_me`.
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
            // Agreeing at enrolment lets the helper's team do everything a consent covers.
            let giving = Giving {
                farmer_id: id,
                team_id,
                purposes: ConsentPurpose::ALL.to_vec(),
                given_by: ConsentGivenBy::Enrolment,
                helper_id: signup.enrolled_by,
            };
            consents::give(conn, &giving, now)?;
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
        .map(|(id, name, phone, ward_code, ward_name, enrolled_by, revoked, consenting)| TeamFarmer {
            id,
            name,
            phone: phone.filter(|_| consenting && !revoked),
            ward_code,
            ward_name,
            enrolled_by_me: enrolled_by == Some(helper_id),
            consenting,
            revoked_me: revoked,
            can_act: consenting && !revoked,
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

/// The farmer a helper may act for, by id: their name, or the API's 403 (no consent, revoked) / 404 (not in
/// the team).
pub async fn household(state: &web::Data<AppState>, helper: &SessionUser, farmer_id: i64) -> Result<String, AppError> {
    access(state, helper, farmer_id).await?;
    Ok(state.db.read(move |conn| profile(conn, farmer_id)).await?.name)
}

/// What the farmer's live consent lets this helper do for them, or the API's 403 / 404.
async fn access(
    state: &web::Data<AppState>,
    helper: &SessionUser,
    farmer_id: i64,
) -> Result<Vec<ConsentPurpose>, AppError> {
    let (helper_id, team_id) = (helper.id, helper.team_id);
    require_access(state.db.read(move |conn| helper_access(conn, helper_id, team_id, farmer_id)).await?)
}

/// The farmer, in person, types their PIN on the helper's phone to agree that the helper's team may act for
/// them for `purposes`. A wrong PIN counts against the farmer's PIN lockout, as a wrong login does (422, then
/// 429); a revoked helper gets 403 and a farmer outside the team's communes 404, as for acting.
pub async fn consent_in_person(
    state: &web::Data<AppState>,
    helper: &SessionUser,
    farmer_id: i64,
    pin: String,
    purposes: Vec<ConsentPurpose>,
) -> Result<Consent, AppError> {
    let team_id = team_of(helper)?;
    let purposes = consents::purposes(&purposes)?;
    let helper_id = helper.id;
    // Consenting is the point: only a farmer outside the team's communes or who revoked this helper is refused.
    let access = state.db.read(move |conn| helper_access(conn, helper_id, Some(team_id), farmer_id)).await?;
    if access != HelperAccess::NoConsent {
        require_access(access)?;
    }
    let phone = state.db.read(move |conn| profile(conn, farmer_id)).await?.phone.unwrap_or_default();
    if !accounts::check_secret(state, &accounts::pin_login_subject(&phone), farmer_id, pin).await? {
        return Err(AppError::invalid_field(
            "pin",
            "wrong_pin",
            Text::new("Mã PIN không đúng. Hãy để nông dân nhập lại.", "Wrong PIN. Let the farmer type it again."),
        ));
    }
    let giving =
        Giving { farmer_id, team_id, purposes, given_by: ConsentGivenBy::InPerson, helper_id: Some(helper_id) };
    let now = state.clock.now();
    state.db.write(move |conn| consents::give(conn, &giving, now)).await
}

/// Sets a new PIN typed by the farmer, after the helper checked them in person and while the farmer's consent
/// covers PIN resets (else 403 `consent_required`): the farmer's sessions end, a lockout from wrong PINs is
/// lifted, and the reset is audited and told to the farmer (email, text, in-app) in the same transaction.
pub async fn reset_pin(
    state: &web::Data<AppState>,
    helper: &SessionUser,
    farmer_id: i64,
    new_pin: &str,
    identity_checked: bool,
) -> Result<(), AppError> {
    let (helper_id, helper_name) = (helper.id, helper.name.clone());
    if !access(state, helper, farmer_id).await?.contains(&ConsentPurpose::ResetPin) {
        return Err(consent_required(Some(ConsentPurpose::ResetPin)));
    }
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
            let time = vietnam_time(now);
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
