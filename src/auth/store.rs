//! Queries behind authentication.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{api_keys, consent_purposes, consents, helper_revocations, sessions, team_wards, users};
use crate::domain::status::{ConsentPurpose, Role};
use crate::error::AppError;
use crate::with_conn;

/// (user id, role, name, team id, session id) of a live session.
pub type SessionRow = (i64, Role, String, Option<i64>, i64);

pub fn live_session(conn: &mut Conn<'_>, hash: &str, now: NaiveDateTime) -> Result<Option<SessionRow>, AppError> {
    Ok(with_conn!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((users::id, users::role, users::name, users::team_id, sessions::id))
        .first(c)
        .optional())?)
}

/// (partner id, key id) of a live API key.
pub fn live_api_key(conn: &mut Conn<'_>, hash: &str) -> Result<Option<(i64, i64)>, AppError> {
    Ok(with_conn!(conn, |c| api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::partner_id, api_keys::id))
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
    let in_team: bool = with_conn!(conn, |c| diesel::select(exists(
        users::table.filter(users::id.eq(farmer_id)).filter(users::role.eq(Role::Farmer)).filter(
            users::ward_code.eq_any(
                team_wards::table.filter(team_wards::team_id.eq(team_id)).select(team_wards::ward_code.nullable())
            )
        )
    ))
    .get_result(c))?;
    if !in_team {
        return Ok(HelperAccess::NotInTeam);
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
