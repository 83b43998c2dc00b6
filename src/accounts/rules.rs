//! Account rules: opening accounts, logging in, sessions, PIN and password changes.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::store::{self, NewUser};
use super::{Actor, AuditItem, Profile, TeamRef};
use crate::audit;
use crate::auth::ActingFarmer;
use crate::auth::rate_limit::{PER_ACCOUNT, PER_ADDRESS};
use crate::auth::secrets::{hash_secret, new_session_token, verify_secret};
use crate::consents;
use crate::consents::rules::CONSENT_VERSION;
use crate::db::{Conn, Db};
use crate::domain::account::{Password, Pin, parse_email, parse_name};
use crate::domain::phone::Phone;
use crate::domain::status::{AuditAction, ConsentPurpose, Role};
use crate::error::{AppError, Kind, Lang, Text};
use crate::http::Page;
use crate::mail::templates::Template;
use crate::outbox;
use crate::reference::Places;
use crate::state::AppState;
use crate::validate;

/// How long a login lasts: farmers on shared or cheap phones should not have to log in every week.
pub const SESSION_LIFETIME: Duration = Duration::days(30);

/// What the login limit counts a farmer's PIN attempts under.
pub fn pin_login_subject(phone: &str) -> String {
    format!("farmer:{phone}")
}

/// A farmer account to open (by the farmer, or by a helper with the farmer's consent).
pub struct FarmerSignup {
    pub phone: Phone,
    pub name: String,
    pub ward_code: i32,
    pub pin_hash: String,
    pub enrolled_by: Option<i64>,
}

/// Opens a farmer account; an enrolment by a helper records the consent and an audit line.
pub fn insert_farmer(
    conn: &mut Conn<'_>,
    places: &Places,
    signup: &FarmerSignup,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    places.known_ward(signup.ward_code)?;
    let id = store::insert_user(
        conn,
        &NewUser {
            role: Role::Farmer,
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
        let entry = audit::Entry { actor_id: helper_id, farmer_id: id, action: AuditAction::Enroll, entity_id: None };
        audit::record(conn, &entry, now)?;
    }
    Ok(id)
}

/// A farmer opens their own account with what they typed (phone in any common form, name, commune, PIN):
/// every field checked at once, the PIN hashed off the async runtime. The new account's id.
pub async fn sign_up_farmer(
    state: &AppState,
    phone: &str,
    name: &str,
    ward_code: i32,
    pin: &str,
) -> Result<i64, AppError> {
    let phone = Phone::parse(phone).map_err(|e| e.at("phone"));
    let name = parse_name(name).map_err(|e| e.at("name"));
    let pin = Pin::parse(pin).map_err(|e| e.at("pin"));
    let (phone, name, pin) = validate!(phone, name, pin);
    let pin_hash = hash_secret(pin.expose().to_owned()).await?;
    let signup = FarmerSignup { phone, name, ward_code, pin_hash, enrolled_by: None };
    let (reference, now) = (state.reference.clone(), state.clock.now());
    state.db.write(move |conn| insert_farmer(conn, &reference.places, &signup, now)).await
}

/// A farmer logs in with phone and PIN from `address`, under the login limits (5 wrong PINs a phone in 15
/// minutes): the account it opens, 401 for a wrong pair, 429 once locked.
pub async fn pin_log_in(state: &AppState, phone: &str, pin: String, address: &str) -> Result<(i64, Role), AppError> {
    let phone = Phone::parse(phone).map_err(|e| AppError::validation(vec![e.at("phone")]))?;
    let subject = pin_login_subject(phone.as_str());
    let candidates =
        state.db.read(move |conn| Ok(store::farmer_credentials(conn, phone.as_str())?.into_iter().collect())).await?;
    check_login(state, &subject, address, pin, candidates, true).await
}

/// Ends one session (logging out): its token opens nothing from now on, in the API or the web app.
pub async fn end_session(db: &Db, session_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    db.write(move |conn| store::revoke_session(conn, session_id, now)).await
}

/// What helpers did for a farmer, newest first (one more than `page.limit`, for `page.finish`), each line
/// saying whether the farmer has since revoked that helper.
pub async fn audit_of(db: &Db, farmer_id: i64, page: Page) -> Result<Vec<AuditItem>, AppError> {
    let lines = db.read(move |conn| audit::lines(conn, farmer_id, page.fetch_limit(), page.offset)).await?;
    Ok(lines.into_iter().map(audit_item).collect())
}

/// A line of the audit log as the farmer reads it.
pub fn audit_item(line: audit::Line) -> AuditItem {
    AuditItem {
        id: line.id,
        actor: Actor { id: line.actor_id, name: line.actor_name, revoked: line.revoked },
        action: line.action,
        entity: line.entity,
        entity_id: line.entity_id,
        at: line.at.and_utc(),
    }
}

/// The farmer withdraws a helper's right to act for them (again: no change), and their live consent to the
/// helper's team with it; 404 when there is no such helper.
pub async fn revoke_helper(db: &Db, farmer_id: i64, helper_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let revoked = db
        .write(move |conn| {
            let revoked = store::revoke_helper(conn, farmer_id, helper_id, now)?;
            if revoked {
                consents::rules::withdraw_from_team_of(conn, farmer_id, helper_id, now)?;
            }
            Ok(revoked)
        })
        .await?;
    if revoked { Ok(()) } else { Err(AppError::not_found()) }
}

/// A person chooses how they are told (the app's settings; the API's `PATCH /me` sets any of the three).
pub async fn choose_how_told(
    db: &Db,
    user_id: i64,
    told: outbox::Preferences,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let change = store::ProfileChange {
        email_messages: Some(told.email),
        text_messages: Some(told.texts),
        zalo_messages: Some(told.zalo),
        ..store::ProfileChange::nothing(now)
    };
    db.write(move |conn| store::update_profile(conn, user_id, &change)).await
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
    /// Send a welcome email in this language when the account has an email address.
    pub welcome: Option<Lang>,
}

/// Validates and opens a password account; the welcome email, if any, is queued in the same transaction.
pub async fn open_password_account(
    db: &Db,
    places: &Places,
    account: &PasswordAccount<'_>,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
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
    if let Some(code) = account.ward_code {
        places.known_ward(code)?;
    }
    let hash = hash_secret(password.expose().to_owned()).await?;
    let (role, ward_code, team_id, welcome) = (account.role, account.ward_code, account.team_id, account.welcome);
    db.write(move |conn| {
        if let Some(team_id) = team_id
            && !consents::store::team_exists(conn, team_id)?
        {
            return Err(AppError::not_found());
        }
        let id = store::insert_user(
            conn,
            &NewUser {
                role,
                name: &name,
                phone: phone.as_ref().map(Phone::as_str),
                email: email.as_deref(),
                ward_code,
                team_id,
                secret_hash: &hash,
                enrolled_by: None,
                consent_version: None,
                consent_at: None,
                created_at: now,
                updated_at: now,
            },
        )?;
        if let Some(lang) = welcome {
            let to = outbox::Person { user_id: Some(id), email: email.as_deref(), phone: None };
            outbox::notify(conn, to, Template::WelcomeBuyer, lang, &[("name", &name)], now)?;
        }
        Ok(id)
    })
    .await
}

/// A new session for a person: the token (shown once) and when it expires.
pub async fn open_session(db: &Db, user_id: i64, now: NaiveDateTime) -> Result<(String, DateTime<Utc>), AppError> {
    let (token, hash) = new_session_token();
    let expires_at = now + SESSION_LIFETIME;
    db.write(move |conn| store::create_session(conn, user_id, &hash, now, expires_at)).await?;
    Ok((token, expires_at.and_utc()))
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
            opened = Some((candidate.id, candidate.role));
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

/// A login with email or phone and password (buyers, helpers, operators): the account and its role, or the
/// API's 401 / 422 / 429.
pub async fn password_login(
    state: &AppState,
    login: &str,
    password: String,
    address: &str,
) -> Result<(i64, Role), AppError> {
    let (email, phone) = if login.contains('@') {
        (Some(parse_email(login).map_err(|e| AppError::validation(vec![e.at("login")]))?), None)
    } else {
        (None, Some(Phone::parse(login).map_err(|e| AppError::validation(vec![e.at("login")]))?))
    };
    let subject = format!("login:{}", email.as_deref().unwrap_or_else(|| phone.as_ref().map_or("", Phone::as_str)));
    let candidates = state
        .db
        .read(move |conn| store::password_credentials(conn, email.as_deref(), phone.as_ref().map(Phone::as_str)))
        .await?;
    check_login(state, &subject, address, password, candidates, false).await
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
    if !check_secret(state, &format!("change-secret:{user_id}"), user_id, current).await? {
        let field = if pin { "current_pin" } else { "current_password" };
        return Err(AppError::invalid_field(
            field,
            "wrong_current_secret",
            Text::new("Mã PIN / mật khẩu hiện tại không đúng.", "The current PIN / password is wrong."),
        ));
    }
    let hash = hash_secret(new).await?;
    let now = state.clock.now();
    state.db.write(move |conn| set_secret(conn, user_id, &hash, now)).await?;
    open_session(&state.db, user_id, now).await
}

/// Checks a person's secret under the per-account limit of logins, counted as `subject`: 429 once locked,
/// `false` for a wrong secret (the attempt stays counted), `true` for the right one (the count starts over).
pub async fn check_secret(state: &AppState, subject: &str, user_id: i64, secret: String) -> Result<bool, AppError> {
    PER_ACCOUNT.take(&state.cache, subject).await?;
    let stored = state.db.read(move |conn| store::secret_hash(conn, user_id)).await?;
    let right = verify_secret(secret, Some(stored)).await?;
    if right {
        PER_ACCOUNT.reset(&state.cache, subject).await;
    }
    Ok(right)
}

/// Stores a new PIN or password hash and ends every session of the person.
pub fn set_secret(conn: &mut Conn<'_>, user_id: i64, hash: &str, now: NaiveDateTime) -> Result<(), AppError> {
    store::set_secret_hash(conn, user_id, hash, now)?;
    store::revoke_all_sessions(conn, user_id, now)
}

/// What a helper acting for a farmer may change of the profile: never the email (the farmer's way to hear of
/// a PIN reset; 403), the name and commune buyers see with consent to list produce, `auto_accept` with consent
/// to answer orders. The farmer changes their own freely.
pub fn may_change_profile(acting: &ActingFarmer, change: &store::ProfileChange) -> Result<(), AppError> {
    if acting.on_behalf() && change.email.is_some() {
        return Err(AppError::new(
            Kind::Forbidden,
            "contact_is_the_farmers",
            Text::new(
                "Chỉ nông dân mới đổi được email và số điện thoại của mình.",
                "Only the farmer can change their own email and phone number.",
            ),
        ));
    }
    if change.name.is_some() || change.ward_code.is_some() {
        acting.may(ConsentPurpose::ListProduce)?;
    }
    if change.auto_accept.is_some() {
        acting.may(ConsentPurpose::AnswerOrders)?;
    }
    Ok(())
}

pub fn load_profile(conn: &mut Conn<'_>, places: &Places, user_id: i64) -> Result<Profile, AppError> {
    let record = store::profile(conn, user_id)?;
    Ok(Profile {
        id: record.id,
        role: record.role,
        name: record.name,
        phone: record.phone,
        email: record.email,
        ward: record.ward_code.and_then(|code| places.ward_ref(code)),
        team: record.team_id.zip(record.team_name).map(|(id, name)| TeamRef { id, name }),
        auto_accept: (record.role == Role::Farmer).then_some(record.auto_accept),
        messages: record.messages,
        created_at: record.created_at.and_utc(),
    })
}
