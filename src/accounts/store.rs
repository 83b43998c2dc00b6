//! Queries over people, sessions and helpers' revocations.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::Conn;
use crate::db::schema::{helper_revocations, sessions, teams, users};
use crate::domain::status::Role;
use crate::error::{AppError, Kind, Text};
use crate::outbox::Preferences;
use crate::with_conn;

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub role: Role,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub ward_code: Option<i32>,
    pub team_id: Option<i64>,
    pub secret_hash: &'a str,
    pub enrolled_by: Option<i64>,
    pub consent_version: Option<&'a str>,
    pub consent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Creates an account; a phone or email already used by an account of the same role is 409.
pub fn insert_user(conn: &mut Conn<'_>, user: &NewUser<'_>) -> Result<i64, AppError> {
    let inserted =
        with_conn!(conn, |c| diesel::insert_into(users::table).values(user).returning(users::id).get_result(c));
    inserted.map_err(|error| match unique_violation_on(&error) {
        Some(column) if column.contains("phone") => AppError::new(
            Kind::Conflict,
            "phone_taken",
            Text::new(
                "Số điện thoại này đã có tài khoản. Hãy đăng nhập bằng mã PIN hoặc nhờ cán bộ hỗ trợ đặt lại mã PIN.",
                "This phone number already has an account. Log in with its PIN, or ask a helper to reset the PIN.",
            ),
        ),
        Some(_) => AppError::new(
            Kind::Conflict,
            "email_taken",
            Text::new("Email này đã có tài khoản. Hãy đăng nhập.", "This email already has an account. Please log in."),
        ),
        None => error.into(),
    })
}

/// The constraint (PostgreSQL) or message (SQLite) of a unique violation, which names the column.
fn unique_violation_on(error: &DieselError) -> Option<String> {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            Some(info.constraint_name().map_or_else(|| info.message().to_owned(), str::to_owned))
        }
        _ => None,
    }
}

/// What login needs to know of an account.
#[derive(Queryable)]
pub struct Credentials {
    pub id: i64,
    pub role: Role,
    pub secret_hash: String,
}

pub fn farmer_credentials(conn: &mut Conn<'_>, phone: &str) -> Result<Option<Credentials>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::role.eq(Role::Farmer))
        .filter(users::phone.eq(phone))
        .select((users::id, users::role, users::secret_hash))
        .first(c)
        .optional())?)
}

/// Password accounts (buyers, helpers, operators) whose email or phone is `email`/`phone`.
pub fn password_credentials(
    conn: &mut Conn<'_>,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Vec<Credentials>, AppError> {
    let (email, phone) = (email.map(str::to_owned), phone.map(str::to_owned));
    Ok(with_conn!(conn, |c| users::table
        .filter(users::role.ne(Role::Farmer))
        .filter(users::email.eq(&email).or(users::phone.eq(&phone)))
        .select((users::id, users::role, users::secret_hash))
        .order(users::id)
        .load(c))?)
}

pub fn secret_hash(conn: &mut Conn<'_>, user_id: i64) -> Result<String, AppError> {
    Ok(with_conn!(conn, |c| users::table.find(user_id).select(users::secret_hash).first(c))?)
}

pub fn set_secret_hash(conn: &mut Conn<'_>, user_id: i64, hash: &str, now: NaiveDateTime) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(users::table.find(user_id))
        .set((users::secret_hash.eq(hash), users::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}

pub fn create_session(
    conn: &mut Conn<'_>,
    user_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    let row = (
        sessions::user_id.eq(user_id),
        sessions::token_hash.eq(token_hash),
        sessions::created_at.eq(now),
        sessions::expires_at.eq(expires_at),
    );
    with_conn!(conn, |c| diesel::insert_into(sessions::table).values(row).execute(c))?;
    Ok(())
}

pub fn revoke_session(conn: &mut Conn<'_>, session_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(sessions::table.find(session_id))
        .set(sessions::revoked_at.eq(now))
        .execute(c))?;
    Ok(())
}

/// Ends every live session of a person (after a PIN or password change or reset).
pub fn revoke_all_sessions(conn: &mut Conn<'_>, user_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(
        sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null())
    )
    .set(sessions::revoked_at.eq(now))
    .execute(c))?;
    Ok(())
}

/// A person as they see themself.
#[derive(Queryable)]
pub struct ProfileRecord {
    pub id: i64,
    pub role: Role,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub ward_code: Option<i32>,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub auto_accept: bool,
    pub messages: Preferences,
    pub created_at: NaiveDateTime,
}

pub fn profile(conn: &mut Conn<'_>, user_id: i64) -> Result<ProfileRecord, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .left_join(teams::table)
        .filter(users::id.eq(user_id))
        .select((
            users::id,
            users::role,
            users::name,
            users::phone,
            users::email,
            users::ward_code,
            users::team_id,
            teams::name.nullable(),
            users::auto_accept,
            (users::email_messages, users::text_messages, users::zalo_messages),
            users::created_at,
        ))
        .first(c))?)
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub email: Option<String>,
    pub ward_code: Option<i32>,
    pub auto_accept: Option<bool>,
    pub email_messages: Option<bool>,
    pub text_messages: Option<bool>,
    pub zalo_messages: Option<bool>,
    pub updated_at: NaiveDateTime,
}

impl ProfileChange {
    /// A change of nothing but the time: fill in what changes.
    pub fn nothing(updated_at: NaiveDateTime) -> Self {
        ProfileChange {
            name: None,
            email: None,
            ward_code: None,
            auto_accept: None,
            email_messages: None,
            text_messages: None,
            zalo_messages: None,
            updated_at,
        }
    }
}

pub fn update_profile(conn: &mut Conn<'_>, user_id: i64, change: &ProfileChange) -> Result<(), AppError> {
    let updated = with_conn!(conn, |c| diesel::update(users::table.find(user_id)).set(change).execute(c));
    updated.map(drop).map_err(|error| match unique_violation_on(&error) {
        Some(_) => AppError::invalid_field(
            "email",
            "email_taken",
            Text::new("Email này đã được tài khoản khác dùng.", "This email is used by another account."),
        ),
        None => error.into(),
    })
}

/// Withdraws a helper's right to act for a farmer (idempotent). `false` when there is no such helper.
pub fn revoke_helper(
    conn: &mut Conn<'_>,
    farmer_id: i64,
    helper_id: i64,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let is_helper: bool = with_conn!(conn, |c| diesel::select(diesel::dsl::exists(
        users::table.filter(users::id.eq(helper_id)).filter(users::role.eq(Role::Helper))
    ))
    .get_result(c))?;
    if !is_helper {
        return Ok(false);
    }
    let row = (
        helper_revocations::farmer_id.eq(farmer_id),
        helper_revocations::helper_id.eq(helper_id),
        helper_revocations::revoked_at.eq(now),
    );
    with_conn!(conn, |c| diesel::insert_into(helper_revocations::table)
        .values(row)
        .on_conflict((helper_revocations::farmer_id, helper_revocations::helper_id))
        .do_nothing()
        .execute(c))?;
    Ok(true)
}
