//! Queries over community teams and the farmers of their communes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{consents, helper_revocations, team_wards, teams, users, wards};
use crate::domain::status::Role;
use crate::error::AppError;
use crate::with_conn;

pub fn insert_team(conn: &mut Conn<'_>, name: &str, ward_codes: &[i32], now: NaiveDateTime) -> Result<i64, AppError> {
    let id: i64 = with_conn!(conn, |c| diesel::insert_into(teams::table)
        .values((teams::name.eq(name), teams::created_at.eq(now)))
        .returning(teams::id)
        .get_result(c))?;
    for code in ward_codes {
        with_conn!(conn, |c| diesel::insert_into(team_wards::table)
            .values((team_wards::team_id.eq(id), team_wards::ward_code.eq(code)))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(id)
}

pub fn team_covers(conn: &mut Conn<'_>, team_id: i64, ward_code: i32) -> Result<bool, AppError> {
    Ok(with_conn!(conn, |c| diesel::select(diesel::dsl::exists(team_wards::table.find((team_id, ward_code))))
        .get_result(c))?)
}

/// (id, name, phone, ward code, ward name, enrolled by, revoked this helper?, live consent for the team?) of
/// farmers in the team's communes.
pub type TeamFarmerRow = (i64, String, Option<String>, Option<i32>, String, Option<i64>, bool, bool);

pub fn team_farmers(
    conn: &mut Conn<'_>,
    team_id: i64,
    helper_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<TeamFarmerRow>, AppError> {
    let revoked = diesel::dsl::exists(
        helper_revocations::table
            .filter(helper_revocations::farmer_id.eq(users::id))
            .filter(helper_revocations::helper_id.eq(helper_id)),
    );
    let consenting = diesel::dsl::exists(
        consents::table
            .filter(consents::farmer_id.eq(users::id))
            .filter(consents::team_id.eq(team_id))
            .filter(consents::revoked_at.is_null()),
    );
    Ok(with_conn!(conn, |c| users::table
        .inner_join(wards::table)
        .inner_join(team_wards::table.on(team_wards::ward_code.eq(wards::code)))
        .filter(team_wards::team_id.eq(team_id))
        .filter(users::role.eq(Role::Farmer))
        .order(users::id)
        .select((
            users::id,
            users::name,
            users::phone,
            users::ward_code,
            wards::name,
            users::enrolled_by,
            revoked,
            consenting
        ))
        .limit(limit)
        .offset(offset)
        .load(c))?)
}

/// (id, name) of every team, newest first.
pub fn team_names(conn: &mut Conn<'_>) -> Result<Vec<(i64, String)>, AppError> {
    Ok(with_conn!(conn, |c| teams::table.order(teams::id.desc()).select((teams::id, teams::name)).load(c))?)
}

/// The codes of the communes a team covers.
pub fn team_ward_codes(conn: &mut Conn<'_>, team_id: i64) -> Result<Vec<i32>, AppError> {
    Ok(with_conn!(conn, |c| team_wards::table
        .filter(team_wards::team_id.eq(team_id))
        .order(team_wards::ward_code)
        .select(team_wards::ward_code)
        .load(c))?)
}
