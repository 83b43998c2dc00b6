//! What an operator sets up, for the API and the web app alike: community teams and their helpers,
//! partners and their API keys; and the lists to pick them from.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::Profile;
use crate::accounts::rules::{PasswordAccount, load_profile, open_password_account};
use crate::auth::Role;
use crate::auth::secrets::new_api_key;
use crate::domain::account::parse_name;
use crate::error::{AppError, FieldError, Text};
use crate::state::AppState;
use crate::validate;
use crate::{helpers, partners};

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
