//! Account rules: opening accounts, logging in, sessions, PIN and password changes.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::store::{self, AuditEntry, NewUser};
use super::{Profile, ProvinceRef, TeamRef, WardRef};
use crate::auth::rate_limit::{PER_ACCOUNT, PER_ADDRESS};
use crate::auth::secrets::{hash_secret, new_session_token, verify_secret};
use crate::auth::{ActingFarmer, Role};
use crate::db::{Conn, Db};
use crate::domain::account::{Password, parse_email, parse_name};
use crate::domain::phone::Phone;
use crate::error::Lang;
use crate::error::{AppError, Kind, Text};
use crate::helpers;
use crate::mail::templates::Template;
use crate::startup::AppState;
use crate::validate;

/// How long a login lasts: farmers on shared or cheap phones should not have to log in every week.
pub const SESSION_LIFETIME: Duration = Duration::days(30);
/// The consent text a farmer agrees to when a helper enrolls them; stored with each enrolment.
pub const CONSENT_VERSION: &str = "2025-07-helper-consent-v1";

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// A farmer account to open (by the farmer, or by a helper with the farmer's consent).
pub struct FarmerSignup {
    pub phone: Phone,
    pub name: String,
    pub ward_code: i32,
    pub pin_hash: String,
    pub enrolled_by: Option<i64>,
}

fn unknown_ward() -> AppError {
    AppError::invalid_field(
        "ward_code",
        "unknown_ward",
        Text::new(
            "Không có xã/phường với mã này; hãy chọn từ danh sách /api/v1/wards.",
            "No commune/ward has this code; pick one from /api/v1/wards.",
        ),
    )
}

pub fn check_ward(conn: &mut Conn<'_>, ward_code: i32) -> Result<(), AppError> {
    if store::ward_exists(conn, ward_code)? { Ok(()) } else { Err(unknown_ward()) }
}

/// Opens a farmer account; an enrolment by a helper records the consent and an audit line.
pub fn insert_farmer(conn: &mut Conn<'_>, signup: &FarmerSignup) -> Result<i64, AppError> {
    check_ward(conn, signup.ward_code)?;
    let now = now();
    let id = store::insert_user(
        conn,
        &NewUser {
            role: Role::Farmer.as_str(),
            name: &signup.name,
            phone: Some(signup.phone.as_str()),
            email: None,
            ward_code: Some(signup.ward_code),
            team_id: None,
            secret_hash: &signup.pin_hash,
            enrolled_by: signup.enrolled_by,
            consent_version: signup.enrolled_by.map(|_| CONSENT_VERSION),
            consent_at: signup.enrolled_by.map(|_| now),
            created_at: now,
            updated_at: now,
        },
    )?;
    if let Some(helper_id) = signup.enrolled_by {
        let entry =
            AuditEntry { actor_id: helper_id, farmer_id: id, action: "enroll", entity: "farmer", entity_id: None };
        store::record_audit(conn, &entry, now)?;
    }
    Ok(id)
}

/// What a buyer, helper or operator gives to open an account that logs in with a password.
pub struct PasswordAccount<'a> {
    pub role: Role,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub password: &'a str,
    /// Buyers: default delivery commune.
    pub ward_code: Option<i32>,
    /// Helpers: their team (404 when it does not exist).
    pub team_id: Option<i64>,
}

/// Validates and opens a password account; returns its id and email.
pub async fn open_password_account(db: &Db, account: &PasswordAccount<'_>) -> Result<(i64, Option<String>), AppError> {
    let name = parse_name(account.name).map_err(|e| e.at("name"));
    let email = account.email.map(parse_email).transpose().map_err(|e| e.at("email"));
    let phone = account.phone.map(Phone::parse).transpose().map_err(|e| e.at("phone"));
    let password = Password::parse(account.password).map_err(|e| e.at("password"));
    let (name, email, phone, password) = validate!(name, email, phone, password);
    if email.is_none() && phone.is_none() {
        return Err(AppError::invalid_field(
            "email",
            "email_or_phone_required",
            Text::new("Cần email hoặc số điện thoại để đăng nhập.", "An email or a phone number is needed to log in."),
        ));
    }
    let hash = hash_secret(password.expose().to_owned()).await?;
    let (role, ward_code, team_id, stored_email) = (account.role, account.ward_code, account.team_id, email.clone());
    let id = db
        .write(move |conn| {
            if let Some(code) = ward_code {
                check_ward(conn, code)?;
            }
            if let Some(team_id) = team_id
                && !helpers::store::team_exists(conn, team_id)?
            {
                return Err(AppError::not_found());
            }
            let now = now();
            store::insert_user(
                conn,
                &NewUser {
                    role: role.as_str(),
                    name: &name,
                    phone: phone.as_ref().map(Phone::as_str),
                    email: stored_email.as_deref(),
                    ward_code,
                    team_id,
                    secret_hash: &hash,
                    enrolled_by: None,
                    consent_version: None,
                    consent_at: None,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    Ok((id, email))
}

/// A new session for a person: the token (shown once) and when it expires.
pub async fn open_session(db: &Db, user_id: i64) -> Result<(String, DateTime<Utc>), AppError> {
    let (token, hash) = new_session_token();
    let now = Utc::now();
    let expires_at = now + SESSION_LIFETIME;
    db.write(move |conn| store::create_session(conn, user_id, &hash, now.naive_utc(), expires_at.naive_utc())).await?;
    Ok((token, expires_at))
}

fn wrong_credentials(pin: bool) -> AppError {
    let (vi, en) = if pin {
        ("Số điện thoại hoặc mã PIN không đúng.", "Wrong phone number or PIN.")
    } else {
        ("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong login or password.")
    };
    AppError::new(Kind::Unauthorized, "invalid_credentials", Text::new(vi, en))
}

/// Checks a secret against the accounts a login names, under the per-account and per-address limits.
/// Returns the account it opened, or 401 (unknown accounts cost the same time as wrong secrets).
pub async fn check_login(
    state: &AppState,
    subject: &str,
    address: &str,
    secret: String,
    candidates: Vec<store::Credentials>,
    pin: bool,
) -> Result<(i64, Role), AppError> {
    PER_ADDRESS.check(&state.cache, address).await?;
    PER_ACCOUNT.take(&state.cache, subject).await?;
    let mut opened = None;
    if candidates.is_empty() {
        verify_secret(secret.clone(), None).await?;
    }
    for candidate in candidates {
        if verify_secret(secret.clone(), Some(candidate.secret_hash)).await? {
            opened = Role::parse(&candidate.role).map(|role| (candidate.id, role));
            break;
        }
    }
    match opened {
        Some(account) => {
            PER_ACCOUNT.reset(&state.cache, subject).await;
            Ok(account)
        }
        None => {
            // The account's attempt was taken before the check.
            PER_ADDRESS.record_failure(&state.cache, address).await;
            Err(wrong_credentials(pin))
        }
    }
}

/// Replaces a person's PIN or password after checking the current one; ends all their sessions and opens
/// a new one for the device that made the change.
pub async fn change_secret(
    state: &AppState,
    user_id: i64,
    current: String,
    new: String,
    pin: bool,
) -> Result<(String, DateTime<Utc>), AppError> {
    // A stolen session must not become a way to guess the PIN: the current one gets the login's limit.
    let subject = format!("change-secret:{user_id}");
    PER_ACCOUNT.take(&state.cache, &subject).await?;
    let stored = state.db.read(move |conn| store::secret_hash(conn, user_id)).await?;
    if !verify_secret(current, Some(stored)).await? {
        let field = if pin { "current_pin" } else { "current_password" };
        return Err(AppError::invalid_field(
            field,
            "wrong_current_secret",
            Text::new("Mã PIN / mật khẩu hiện tại không đúng.", "The current PIN / password is wrong."),
        ));
    }
    PER_ACCOUNT.reset(&state.cache, &subject).await;
    replace_secret(&state.db, user_id, new, None).await?;
    open_session(&state.db, user_id).await
}

/// Stores a new PIN or password and ends every session; with `audit`, records who did it.
pub async fn replace_secret(
    db: &Db,
    user_id: i64,
    new: String,
    audit: Option<AuditEntry<'static>>,
) -> Result<(), AppError> {
    let hash = hash_secret(new).await?;
    db.write(move |conn| {
        let now = now();
        store::set_secret_hash(conn, user_id, &hash, now)?;
        store::revoke_all_sessions(conn, user_id, now)?;
        if let Some(entry) = &audit {
            store::record_audit(conn, entry, now)?;
        }
        Ok(())
    })
    .await
}

/// Writes what a helper did for a farmer; nothing when the farmer acted themself.
pub fn audit(
    conn: &mut Conn<'_>,
    acting: &ActingFarmer,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
) -> Result<(), AppError> {
    if !acting.on_behalf() {
        return Ok(());
    }
    let entry = AuditEntry { actor_id: acting.actor.id, farmer_id: acting.farmer_id, action, entity, entity_id };
    store::record_audit(conn, &entry, now())
}

pub fn load_profile(conn: &mut Conn<'_>, user_id: i64) -> Result<Profile, AppError> {
    let record = store::profile(conn, user_id)?;
    let role =
        Role::parse(&record.role).ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {}", record.role)))?;
    let ward = match (record.ward_code, record.ward_name, record.province_code, record.province_name) {
        (Some(code), Some(name), Some(province_code), Some(province_name)) => {
            Some(WardRef { code, name, province: ProvinceRef { code: province_code, name: province_name } })
        }
        _ => None,
    };
    let team = record.team_id.zip(record.team_name).map(|(id, name)| TeamRef { id, name });
    Ok(Profile {
        id: record.id,
        role,
        name: record.name,
        phone: record.phone,
        email: record.email,
        ward,
        team,
        auto_accept: (role == Role::Farmer).then_some(record.auto_accept),
        created_at: record.created_at.and_utc(),
    })
}

/// Sends a notice by email when the person has one. Delivery problems are logged, never shown: the
/// account change itself succeeded. (The durable outbox arrives with ordering.)
pub async fn notify(state: &AppState, to: Option<String>, template: Template, lang: Lang, values: &[(&str, &str)]) {
    let Some(to) = to else { return };
    let email = template.render(lang, &to, values);
    if let Err(error) = state.mailer.send(&email).await {
        tracing::warn!(error = format!("{error:#}"), ?template, "notice email not sent");
    }
}
