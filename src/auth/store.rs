//! Queries behind authentication.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{
    api_keys, consent_purposes, consents, helper_revocations, partners, sessions, team_wards, teams, users,
};
use crate::domain::status::{ConsentPurpose, Role};
use crate::error::AppError;
use crate::with_conn;

/// A live session: who, and whether an operator suspended them or their team.
#[derive(Queryable)]
pub struct SessionRow {
    pub user_id: i64,
    pub role: Role,
    pub name: String,
    pub team_id: Option<i64>,
    pub session_id: i64,
    pub suspended: Option<NaiveDateTime>,
    pub team_suspended: Option<NaiveDateTime>,
}

pub fn live_session(conn: &mut Conn<'_>, hash: &str, now: NaiveDateTime) -> Result<Option<SessionRow>, AppError> {
    Ok(with_conn!(conn, |c| sessions::table
        .inner_join(users::table.left_join(teams::table))
        .filter(sessions::token_hash.eq(hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            users::id,
            users::role,
            users::name,
            users::team_id,
            sessions::id,
            users::suspended_at,
            teams::suspended_at.nullable(),
        ))
        .first(c)
        .optional())?)
}

/// (partner id, key id, when the partner was suspended) of a live API key.
pub fn live_api_key(conn: &mut Conn<'_>, hash: &str) -> Result<Option<(i64, i64, Option<NaiveDateTime>)>, AppError> {
    Ok(with_conn!(conn, |c| api_keys::table
        .inner_join(partners::table)
        .filter(api_keys::key_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::partner_id, api_keys::id, partners::suspended_at))
        .first(c)
        .optional())?)
}

/// Whether a helper may act for a farmer.
#[derive(Debug, PartialEq, Eq)]
pub enum HelperAccess {
    /// For the purposes of the farmer's live consents to the helper's team (never empty).
    Allowed(Vec<ConsentPurpose>),
    /// In the team's communes, but the farmer has no live consent for the helper's team.
    NoConsent,
    /// The farmer withdrew this helper's right.
    Revoked,
    /// An operator suspended the farmer: nobody acts for them until reinstated.
    FarmerSuspended,
    /// No such farmer in the communes of the helper's team (which one it is stays private).
    NotInTeam,
}

pub fn helper_access(
    conn: &mut Conn<'_>,
    helper_id: i64,
    team_id: Option<i64>,
    farmer_id: i64,
) -> Result<HelperAccess, AppError> {
    let Some(team_id) = team_id else { return Ok(HelperAccess::NotInTeam) };
    let in_team: Option<Option<NaiveDateTime>> =
        with_conn!(conn, |c| users::table
            .filter(users::id.eq(farmer_id))
            .filter(users::role.eq(Role::Farmer))
            .filter(users::ward_code.eq_any(
                team_wards::table.filter(team_wards::team_id.eq(team_id)).select(team_wards::ward_code.nullable())
            ))
            .select(users::suspended_at)
            .first(c)
            .optional())?;
    match in_team {
        None => return Ok(HelperAccess::NotInTeam),
        Some(Some(_)) => return Ok(HelperAccess::FarmerSuspended),
        Some(None) => {}
    }
    let revoked: bool =
        with_conn!(conn, |c| diesel::select(exists(helper_revocations::table.find((farmer_id, helper_id))))
            .get_result(c))?;
    if revoked {
        return Ok(HelperAccess::Revoked);
    }
    let purposes = live_purposes(conn, farmer_id, team_id)?;
    Ok(if purposes.is_empty() { HelperAccess::NoConsent } else { HelperAccess::Allowed(purposes) })
}

/// The purposes of a farmer's live consents to a team.
fn live_purposes(conn: &mut Conn<'_>, farmer_id: i64, team_id: i64) -> Result<Vec<ConsentPurpose>, AppError> {
    Ok(with_conn!(conn, |c| consent_purposes::table
        .inner_join(consents::table)
        .filter(consents::farmer_id.eq(farmer_id))
        .filter(consents::team_id.eq(team_id))
        .filter(consents::revoked_at.is_null())
        .select(consent_purposes::purpose)
        .distinct()
        .load(c))?)
}
