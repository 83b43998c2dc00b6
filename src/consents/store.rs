//! Queries over farmers' consents to community teams.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{consent_purposes, consents, teams, users};
use crate::domain::status::{ConsentGivenBy, ConsentPurpose, Role};
use crate::error::AppError;
use crate::with_conn;

#[derive(Insertable)]
#[diesel(table_name = consents)]
pub struct NewConsent<'a> {
    pub farmer_id: i64,
    pub team_id: i64,
    pub consent_version: &'a str,
    pub given_by: ConsentGivenBy,
    pub helper_id: Option<i64>,
    pub given_at: NaiveDateTime,
}

/// Records a consent and its purposes: its id.
pub fn insert(conn: &mut Conn<'_>, consent: &NewConsent<'_>, purposes: &[ConsentPurpose]) -> Result<i64, AppError> {
    let id: i64 = with_conn!(conn, |c| diesel::insert_into(consents::table)
        .values(consent)
        .returning(consents::id)
        .get_result(c))?;
    let rows: Vec<_> =
        purposes.iter().map(|p| (consent_purposes::consent_id.eq(id), consent_purposes::purpose.eq(*p))).collect();
    with_conn!(conn, |c| diesel::insert_into(consent_purposes::table).values(&rows).execute(c))?;
    Ok(id)
}

/// Ends a farmer's live consents to a team.
pub fn revoke_team(conn: &mut Conn<'_>, farmer_id: i64, team_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(
        consents::table
            .filter(consents::farmer_id.eq(farmer_id))
            .filter(consents::team_id.eq(team_id))
            .filter(consents::revoked_at.is_null())
    )
    .set(consents::revoked_at.eq(now))
    .execute(c))?;
    Ok(())
}

/// Ends the farmer's consent `id` (a revoked one keeps its time). `false` when the farmer has no such consent.
pub fn revoke(conn: &mut Conn<'_>, farmer_id: i64, id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    let theirs: bool = with_conn!(conn, |c| diesel::select(diesel::dsl::exists(
        consents::table.filter(consents::id.eq(id)).filter(consents::farmer_id.eq(farmer_id))
    ))
    .get_result(c))?;
    if theirs {
        with_conn!(conn, |c| diesel::update(consents::table.find(id).filter(consents::revoked_at.is_null()))
            .set(consents::revoked_at.eq(now))
            .execute(c))?;
    }
    Ok(theirs)
}

/// (id, team id, team name, version, given by, helper id, helper name, given at, revoked at) of a consent.
pub type ConsentRow =
    (i64, i64, String, String, ConsentGivenBy, Option<i64>, Option<String>, NaiveDateTime, Option<NaiveDateTime>);

/// Every consent a farmer gave, newest first.
pub fn of_farmer(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Vec<ConsentRow>, AppError> {
    Ok(with_conn!(conn, |c| consents::table
        .inner_join(teams::table)
        .left_join(users::table.on(consents::helper_id.eq(users::id.nullable())))
        .filter(consents::farmer_id.eq(farmer_id))
        .order(consents::id.desc())
        .select((
            consents::id,
            consents::team_id,
            teams::name,
            consents::consent_version,
            consents::given_by,
            consents::helper_id,
            users::name.nullable(),
            consents::given_at,
            consents::revoked_at,
        ))
        .load(c))?)
}

/// (consent id, purpose) of a farmer's consents.
pub fn purposes_of(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Vec<(i64, ConsentPurpose)>, AppError> {
    Ok(with_conn!(conn, |c| consent_purposes::table
        .inner_join(consents::table)
        .filter(consents::farmer_id.eq(farmer_id))
        .select((consent_purposes::consent_id, consent_purposes::purpose))
        .load(c))?)
}

pub fn team_exists(conn: &mut Conn<'_>, team_id: i64) -> Result<bool, AppError> {
    Ok(with_conn!(conn, |c| diesel::select(diesel::dsl::exists(teams::table.find(team_id))).get_result(c))?)
}

/// The team of a helper; `None` for anyone else.
pub fn helper_team(conn: &mut Conn<'_>, helper_id: i64) -> Result<Option<i64>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::id.eq(helper_id))
        .filter(users::role.eq(Role::Helper))
        .select(users::team_id)
        .first::<Option<i64>>(c)
        .optional())?
    .flatten())
}
