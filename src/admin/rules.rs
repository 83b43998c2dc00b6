//! What an operator does, for the API and the web app alike: set up community teams and their helpers,
//! partners and their API keys (and the lists to pick them from); suspend and reinstate a bad actor, hide a
//! listing with a reason and show it again; each act audited.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::Profile;
use crate::accounts::rules::{PasswordAccount, load_profile, open_password_account};
use crate::auth::Role;
use crate::auth::secrets::new_api_key;
use crate::domain::account::parse_name;
use crate::domain::status::{OperatorAction, OperatorSubject, Suspendable};
use crate::domain::text::optional_text;
use crate::error::{AppError, FieldError, Lang, Text};
use crate::http::Page;
use crate::listings::Listing;
use crate::mail::templates::Template;
use crate::state::AppState;
use crate::validate;
use crate::{helpers, listings, outbox, partners};

use super::store;

#[derive(Serialize, ToSchema)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub ward_codes: Vec<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct PartnerCreated {
    pub id: i64,
    pub name: String,
    pub province_codes: Vec<i32>,
}

/// A new API key. `key` is shown only here, once: only its hash is kept.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub id: i64,
    pub key: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
}

/// A helper account to open, as the operator typed it.
pub struct NewHelper<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password: &'a str,
}

fn codes_required(field: &str, codes: &[i32]) -> Result<(), FieldError> {
    if codes.is_empty() || codes.len() > 1000 {
        return Err(FieldError::new(
            field,
            "codes_required",
            Text::new("Cần từ 1 đến 1000 mã.", "Give 1 to 1000 codes."),
        ));
    }
    Ok(())
}

fn unknown_codes(field: &str, unknown: &[i32]) -> AppError {
    AppError::invalid_field(
        field,
        "unknown_codes",
        Text::new(format!("Không có các mã: {unknown:?}."), format!("Unknown codes: {unknown:?}.")),
    )
}

/// A community team covering some communes.
pub async fn create_team(state: &web::Data<AppState>, name: &str, ward_codes: Vec<i32>) -> Result<Team, AppError> {
    let name = parse_name(name).map_err(|e| e.at("name"));
    let wards = codes_required("ward_codes", &ward_codes).map(|()| ward_codes);
    let (name, ward_codes) = validate!(name, wards);
    let unknown = state.reference.places.unknown_wards(&ward_codes);
    if !unknown.is_empty() {
        return Err(unknown_codes("ward_codes", &unknown));
    }
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let id = helpers::store::insert_team(conn, &name, &ward_codes, now)?;
            Ok(Team { id, name, ward_codes })
        })
        .await
}

/// A helper account in a team (404 when there is no such team).
pub async fn create_helper(
    state: &web::Data<AppState>,
    team_id: i64,
    helper: &NewHelper<'_>,
) -> Result<Profile, AppError> {
    let account = PasswordAccount {
        role: Role::Helper,
        name: helper.name,
        email: helper.email,
        phone: helper.phone,
        password: helper.password,
        ward_code: None,
        team_id: Some(team_id),
        welcome: None,
    };
    let helper_id = open_password_account(&state.db, &state.reference.places, &account, state.clock.now()).await?;
    let reference = state.reference.clone();
    state.db.read(move |conn| load_profile(conn, &reference.places, helper_id)).await
}

/// A partner organisation and the provinces whose pickups it serves.
pub async fn create_partner(
    state: &web::Data<AppState>,
    name: &str,
    province_codes: Vec<i32>,
) -> Result<PartnerCreated, AppError> {
    let name = parse_name(name).map_err(|e| e.at("name"));
    let provinces = codes_required("province_codes", &province_codes).map(|()| province_codes);
    let (name, province_codes) = validate!(name, provinces);
    let unknown = state.reference.places.unknown_provinces(&province_codes);
    if !unknown.is_empty() {
        return Err(unknown_codes("province_codes", &unknown));
    }
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let id = partners::store::insert_partner(conn, &name, &province_codes, now)?;
            Ok(PartnerCreated { id, name, province_codes })
        })
        .await
}

/// A new API key for a partner (404 when there is no such partner); a partner may hold several.
pub async fn create_key(state: &web::Data<AppState>, partner_id: i64) -> Result<ApiKeyCreated, AppError> {
    let (key, prefix, hash) = new_api_key();
    let created_at = state.clock.now().and_utc();
    let stored_prefix = prefix.clone();
    let id = state
        .db
        .write(move |conn| {
            partners::store::partner(conn, partner_id)?.ok_or_else(AppError::not_found)?;
            partners::store::insert_key(conn, partner_id, &stored_prefix, &hash, created_at.naive_utc())
        })
        .await?;
    Ok(ApiKeyCreated { id, key, prefix, created_at })
}

/// (id, name) of every team and every partner, newest first, to pick from.
pub async fn teams_and_partners(
    state: &web::Data<AppState>,
) -> Result<(Vec<(i64, String)>, Vec<(i64, String)>), AppError> {
    state.db.read(|conn| Ok((helpers::store::team_names(conn)?, partners::store::partner_names(conn)?))).await
}

/// Whether someone is suspended now, as an operator reads it.
#[derive(Serialize, ToSchema)]
pub struct Suspension {
    pub subject: Suspendable,
    pub id: i64,
    /// When the suspension began; `null` once reinstated.
    pub suspended_at: Option<DateTime<Utc>>,
}

/// Longest reason an operator writes.
const REASON_MAX: usize = 500;

/// Suspends (`reason` required) or reinstates a helper, team, partner or farmer, recorded in the operators'
/// audit log in the same transaction; doing it again changes nothing but is recorded too. From the next
/// request on, a suspended caller gets 403 (`auth`), a suspended partner's webhook gets no call, and a
/// suspended farmer's listings leave the catalogue until reinstated. 404 when there is no such subject.
pub async fn set_suspension(
    state: &web::Data<AppState>,
    operator_id: i64,
    subject: Suspendable,
    id: i64,
    action: OperatorAction,
    reason: Option<&str>,
) -> Result<Suspension, AppError> {
    let suspend = match action {
        OperatorAction::Suspend => true,
        OperatorAction::Reinstate => false,
        _ => {
            return Err(AppError::invalid_field(
                "action",
                "not_a_suspension",
                Text::new("Chỉ được tạm ngừng hoặc khôi phục.", "Only suspend or reinstate."),
            ));
        }
    };
    let reason = optional_text("reason", reason, REASON_MAX).map_err(|e| AppError::validation(vec![e]))?;
    if suspend && reason.is_none() {
        return Err(AppError::invalid_field(
            "reason",
            "reason_required",
            Text::new("Hãy ghi lý do tạm ngừng.", "Say why you suspend them."),
        ));
    }
    let now = state.clock.now();
    let suspension = state
        .db
        .write(move |conn| {
            let was = store::suspended_at(conn, subject, id)?.ok_or_else(AppError::not_found)?;
            let suspended_at = if suspend { Some(was.unwrap_or(now)) } else { None };
            store::set_suspended_at(conn, subject, id, suspended_at)?;
            if subject == Suspendable::Farmer {
                if suspend {
                    listings::store::pause_for_suspension(conn, id, now)?;
                } else {
                    listings::store::resume_after_suspension(conn, id, now)?;
                }
            }
            let reason = reason.as_deref().unwrap_or_default();
            let act = store::Act { operator_id, action, subject: subject.into(), subject_id: id, reason };
            store::record(conn, &act, now)?;
            Ok(Suspension { subject, id, suspended_at: suspended_at.map(|at| at.and_utc()) })
        })
        .await?;
    if subject == Suspendable::Farmer {
        listings::catalogue::invalidate(&state.cache).await;
    }
    Ok(suspension)
}

/// One act in the operators' audit log.
#[derive(Serialize, ToSchema)]
pub struct OperatorAct {
    pub id: i64,
    pub operator_id: i64,
    pub operator_name: String,
    pub action: OperatorAction,
    pub subject: OperatorSubject,
    pub subject_id: i64,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The operators' audit log, newest first, optionally about one subject.
pub async fn acts(
    state: &web::Data<AppState>,
    about: Option<(OperatorSubject, i64)>,
    page: Page,
) -> Result<Vec<OperatorAct>, AppError> {
    let rows = state.db.read(move |conn| store::acts(conn, about, page.fetch_limit(), page.offset)).await?;
    Ok(rows
        .into_iter()
        .map(|(id, operator_id, name, action, subject, subject_id, reason, at)| OperatorAct {
            id,
            operator_id,
            operator_name: name,
            action,
            subject,
            subject_id,
            reason,
            at: at.and_utc(),
        })
        .collect())
}

/// Shortest and longest reason for hiding a listing.
const HIDE_REASON_CHARS: std::ops::RangeInclusive<usize> = 3..=300;

fn hide_reason(reason: &str) -> Result<String, AppError> {
    let reason = optional_text("reason", Some(reason), *HIDE_REASON_CHARS.end())?;
    match reason {
        Some(reason) if HIDE_REASON_CHARS.contains(&reason.chars().count()) => Ok(reason),
        _ => Err(AppError::invalid_field(
            "reason",
            "reason_required",
            Text::new(
                "Hãy ghi lý do ẩn tin (3 đến 300 ký tự): người bán sẽ đọc được.",
                "Say why the listing is hidden (3 to 300 characters): the farmer reads it.",
            ),
        )),
    }
}

/// Hides a listing from buyers (catalogue, search, its page) for `reason`, which the farmer is told through the
/// outbox; the farmer cannot put it back on sale until an operator unhides it. Audited; 404 when there is no
/// such listing. Hiding again records the new reason.
pub async fn hide_listing(
    state: &web::Data<AppState>,
    operator_id: i64,
    id: i64,
    reason: &str,
) -> Result<Listing, AppError> {
    let reason = hide_reason(reason)?;
    let now = state.clock.now();
    let listing = state
        .db
        .write(move |conn| {
            let farmer_id =
                listings::store::hide(conn, id, operator_id, &reason, now)?.ok_or_else(AppError::not_found)?;
            let act = store::Act {
                operator_id,
                action: OperatorAction::HideListing,
                subject: OperatorSubject::Listing,
                subject_id: id,
                reason: &reason,
            };
            store::record(conn, &act, now)?;
            let listing = listings::store::listing(conn, id)?.ok_or_else(AppError::not_found)?;
            // An erased farmer is no longer there to tell.
            if let Some(farmer) = store::person(conn, Role::Farmer, farmer_id)? {
                let to = outbox::Person {
                    user_id: Some(farmer_id),
                    email: farmer.email.as_deref(),
                    phone: farmer.phone.as_deref(),
                };
                let values = [("title", listing.title.as_str()), ("reason", reason.as_str())];
                outbox::notify(conn, to, Template::ListingHidden, Lang::Vi, &values, now)?;
            }
            Ok(Listing::from(listing))
        })
        .await?;
    listings::catalogue::invalidate(&state.cache).await;
    Ok(listing)
}

/// Puts a hidden listing back as it was (on sale if it was when hidden); audited. 404 when there is no such
/// listing; unhiding one that is not hidden changes nothing but is recorded.
pub async fn unhide_listing(state: &web::Data<AppState>, operator_id: i64, id: i64) -> Result<Listing, AppError> {
    let now = state.clock.now();
    let listing = state
        .db
        .write(move |conn| {
            let listing = listings::store::listing(conn, id)?.ok_or_else(AppError::not_found)?;
            let suspended = store::suspended_at(conn, Suspendable::Farmer, listing.farmer_id)?.flatten().is_some();
            listings::store::unhide(conn, id, suspended, now)?;
            let act = store::Act {
                operator_id,
                action: OperatorAction::UnhideListing,
                subject: OperatorSubject::Listing,
                subject_id: id,
                reason: "",
            };
            store::record(conn, &act, now)?;
            listings::store::listing(conn, id)?.ok_or_else(AppError::not_found).map(Listing::from)
        })
        .await?;
    listings::catalogue::invalidate(&state.cache).await;
    Ok(listing)
}
