//! Queries of the operators' own: who is suspended, their audit log, and their look-ups of people, teams,
//! partners and the helpers' audit log.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{
    api_keys, audit_log, operator_audit, partner_provinces, partners, team_wards, teams, users, wards,
};
use crate::domain::status::{AuditAction, OperatorAction, OperatorSubject, Role, Suspendable};
use crate::error::AppError;
use crate::with_conn;

/// The `LIKE` pattern for names that hold `text` as typed: `%` and `_` in it are letters, not wildcards
/// (escaped with `\`).
fn holding(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// When `subject` was suspended: `None` when there is no such helper, team, partner or farmer, `Some(None)`
/// when it is not suspended.
pub fn suspended_at(
    conn: &mut Conn<'_>,
    subject: Suspendable,
    id: i64,
) -> Result<Option<Option<NaiveDateTime>>, AppError> {
    let person = |role: Role| users::table.find(id).filter(users::role.eq(role)).select(users::suspended_at);
    Ok(match subject {
        Suspendable::Helper => with_conn!(conn, |c| person(Role::Helper).first(c).optional())?,
        Suspendable::Farmer => with_conn!(conn, |c| person(Role::Farmer).first(c).optional())?,
        Suspendable::Team => {
            with_conn!(conn, |c| teams::table.find(id).select(teams::suspended_at).first(c).optional())?
        }
        Suspendable::Partner => {
            with_conn!(conn, |c| partners::table.find(id).select(partners::suspended_at).first(c).optional())?
        }
    })
}

/// Sets (`Some`) or clears (`None`) when `subject` was suspended.
pub fn set_suspended_at(
    conn: &mut Conn<'_>,
    subject: Suspendable,
    id: i64,
    at: Option<NaiveDateTime>,
) -> Result<(), AppError> {
    match subject {
        Suspendable::Helper | Suspendable::Farmer => {
            with_conn!(conn, |c| diesel::update(users::table.find(id)).set(users::suspended_at.eq(at)).execute(c))?
        }
        Suspendable::Team => {
            with_conn!(conn, |c| diesel::update(teams::table.find(id)).set(teams::suspended_at.eq(at)).execute(c))?
        }
        Suspendable::Partner => with_conn!(conn, |c| diesel::update(partners::table.find(id))
            .set(partners::suspended_at.eq(at))
            .execute(c))?,
    };
    Ok(())
}

/// Whether a partner may be called and may call: it exists and is not suspended.
pub fn partner_active(conn: &mut Conn<'_>, partner_id: i64) -> Result<bool, AppError> {
    let active = partners::table.find(partner_id).filter(partners::suspended_at.is_null());
    Ok(with_conn!(conn, |c| diesel::select(exists(active)).get_result(c))?)
}

/// One act of an operator, as recorded.
pub struct Act<'a> {
    pub operator_id: i64,
    pub action: OperatorAction,
    pub subject: OperatorSubject,
    pub subject_id: i64,
    pub reason: &'a str,
}

pub fn record(conn: &mut Conn<'_>, act: &Act<'_>, now: NaiveDateTime) -> Result<(), AppError> {
    let row = (
        operator_audit::operator_id.eq(act.operator_id),
        operator_audit::action.eq(act.action),
        operator_audit::subject.eq(act.subject),
        operator_audit::subject_id.eq(act.subject_id),
        operator_audit::reason.eq(act.reason),
        operator_audit::created_at.eq(now),
    );
    with_conn!(conn, |c| diesel::insert_into(operator_audit::table).values(row).execute(c))?;
    Ok(())
}

/// (id, operator id, operator name, action, subject, subject id, reason, at) of one recorded act.
pub type ActRow = (i64, i64, String, OperatorAction, OperatorSubject, i64, String, NaiveDateTime);

/// The newest acts first, optionally of one subject, `limit` from `offset`.
pub fn acts(
    conn: &mut Conn<'_>,
    about: Option<(OperatorSubject, i64)>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ActRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let query = operator_audit::table
            .inner_join(users::table)
            .select((
                operator_audit::id,
                operator_audit::operator_id,
                users::name,
                operator_audit::action,
                operator_audit::subject,
                operator_audit::subject_id,
                operator_audit::reason,
                operator_audit::created_at,
            ))
            .order(operator_audit::id.desc())
            .limit(limit)
            .offset(offset)
            .into_boxed();
        match about {
            Some((subject, id)) => {
                query.filter(operator_audit::subject.eq(subject)).filter(operator_audit::subject_id.eq(id)).load(c)
            }
            None => query.load(c),
        }
    })?)
}

/// What an operator looks people up by (farmers or helpers); every part but the role is optional.
pub struct PersonFilter {
    pub role: Role,
    pub id: Option<i64>,
    /// Part of the name, as typed.
    pub name: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub province: Option<i32>,
    pub ward: Option<i32>,
    pub team_id: Option<i64>,
}

/// A person as an operator's list shows them.
#[derive(Queryable)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub ward_code: Option<i32>,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub suspended_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// The people matching `filter`, newest first (erased accounts left out).
pub fn people(conn: &mut Conn<'_>, filter: &PersonFilter, limit: i64, offset: i64) -> Result<Vec<PersonRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = users::table
            .left_join(teams::table)
            .left_join(wards::table)
            .filter(users::role.eq(filter.role))
            .filter(users::erased_at.is_null())
            .select((
                users::id,
                users::name,
                users::phone,
                users::email,
                users::ward_code,
                users::team_id,
                teams::name.nullable(),
                users::suspended_at,
                users::created_at,
            ))
            .into_boxed();
        if let Some(id) = filter.id {
            query = query.filter(users::id.eq(id));
        }
        if let Some(name) = &filter.name {
            query = query.filter(users::name.like(holding(name)).escape('\\'));
        }
        if let Some(phone) = &filter.phone {
            query = query.filter(users::phone.eq(phone));
        }
        if let Some(province) = filter.province {
            query = query.filter(wards::province_code.nullable().eq(province));
        }
        if let Some(ward) = filter.ward {
            query = query.filter(users::ward_code.eq(ward));
        }
        if let Some(team_id) = filter.team_id {
            query = query.filter(users::team_id.eq(team_id));
        }
        query.order(users::id.desc()).limit(limit).offset(offset).load(c)
    })?)
}

/// A person of `role`, as the list shows them; `None` when there is no such one.
pub fn person(conn: &mut Conn<'_>, role: Role, id: i64) -> Result<Option<PersonRow>, AppError> {
    let filter =
        PersonFilter { role, id: Some(id), name: None, phone: None, province: None, ward: None, team_id: None };
    Ok(people(conn, &filter, 1, 0)?.pop())
}

/// (id, name, created, suspended) of a team or a partner.
pub type OrganisationRow = (i64, String, NaiveDateTime, Option<NaiveDateTime>);

/// The teams whose name holds `name`, newest first.
pub fn teams(
    conn: &mut Conn<'_>,
    name: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<OrganisationRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query =
            teams::table.select((teams::id, teams::name, teams::created_at, teams::suspended_at)).into_boxed();
        if let Some(name) = name {
            query = query.filter(teams::name.like(holding(name)).escape('\\'));
        }
        query.order(teams::id.desc()).limit(limit).offset(offset).load(c)
    })?)
}

/// (team id, ward code) of each commune the teams cover.
pub fn wards_of_teams(conn: &mut Conn<'_>, team_ids: &[i64]) -> Result<Vec<(i64, i32)>, AppError> {
    Ok(with_conn!(conn, |c| team_wards::table
        .filter(team_wards::team_id.eq_any(team_ids))
        .select((team_wards::team_id, team_wards::ward_code))
        .order((team_wards::team_id, team_wards::ward_code))
        .load(c))?)
}

/// (team id, helper id, name) of the teams' helpers.
pub fn helpers_of_teams(conn: &mut Conn<'_>, team_ids: &[i64]) -> Result<Vec<(Option<i64>, i64, String)>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::role.eq(Role::Helper))
        .filter(users::team_id.eq_any(team_ids))
        .select((users::team_id, users::id, users::name))
        .order(users::id)
        .load(c))?)
}

/// (id, name, created, suspended) of the partners whose name holds `name`, newest first.
pub fn partners(
    conn: &mut Conn<'_>,
    name: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<OrganisationRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = partners::table
            .select((partners::id, partners::name, partners::created_at, partners::suspended_at))
            .into_boxed();
        if let Some(name) = name {
            query = query.filter(partners::name.like(holding(name)).escape('\\'));
        }
        query.order(partners::id.desc()).limit(limit).offset(offset).load(c)
    })?)
}

/// (partner id, province code) of each province the partners serve.
pub fn provinces_of_partners(conn: &mut Conn<'_>, partner_ids: &[i64]) -> Result<Vec<(i64, i32)>, AppError> {
    Ok(with_conn!(conn, |c| partner_provinces::table
        .filter(partner_provinces::partner_id.eq_any(partner_ids))
        .select((partner_provinces::partner_id, partner_provinces::province_code))
        .order((partner_provinces::partner_id, partner_provinces::province_code))
        .load(c))?)
}

/// (partner id, key id, prefix, created, revoked) of the partners' keys: never the hash.
pub type KeyRow = (i64, i64, String, NaiveDateTime, Option<NaiveDateTime>);

pub fn keys_of_partners(conn: &mut Conn<'_>, partner_ids: &[i64]) -> Result<Vec<KeyRow>, AppError> {
    Ok(with_conn!(conn, |c| api_keys::table
        .filter(api_keys::partner_id.eq_any(partner_ids))
        .select((api_keys::partner_id, api_keys::id, api_keys::prefix, api_keys::created_at, api_keys::revoked_at))
        .order(api_keys::id)
        .load(c))?)
}

/// What an operator reads the helpers' audit log by; every part is optional.
#[derive(Default)]
pub struct HelperAuditFilter {
    pub farmer_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// (id, actor id, actor name, farmer id, action, entity id, at) of one line of the helpers' audit log.
pub type HelperAuditRow = (i64, i64, String, i64, AuditAction, Option<String>, NaiveDateTime);

/// Lines of the helpers' audit log matching `filter`, newest first.
pub fn helper_audit(
    conn: &mut Conn<'_>,
    filter: &HelperAuditFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<HelperAuditRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = audit_log::table
            .inner_join(users::table.on(users::id.eq(audit_log::actor_id)))
            .select((
                audit_log::id,
                audit_log::actor_id,
                users::name,
                audit_log::farmer_id,
                audit_log::action,
                audit_log::entity_id,
                audit_log::created_at,
            ))
            .into_boxed();
        if let Some(farmer_id) = filter.farmer_id {
            query = query.filter(audit_log::farmer_id.eq(farmer_id));
        }
        if let Some(actor_id) = filter.actor_id {
            query = query.filter(audit_log::actor_id.eq(actor_id));
        }
        if let Some(since) = filter.since {
            query = query.filter(audit_log::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(audit_log::created_at.lt(until));
        }
        query.order(audit_log::id.desc()).limit(limit).offset(offset).load(c)
    })?)
}

/// (id, name) of these people.
pub fn names(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<(i64, String)>, AppError> {
    Ok(with_conn!(conn, |c| users::table.filter(users::id.eq_any(ids)).select((users::id, users::name)).load(c))?)
}

#[cfg(test)]
mod tests {
    use super::holding;

    #[test]
    fn wildcards_typed_in_a_name_are_matched_as_letters() {
        assert_eq!(holding("Hợp tác xã"), "%Hợp tác xã%");
        assert_eq!(holding("50%_giảm"), "%50\\%\\_giảm%");
        assert_eq!(holding("a\\b"), "%a\\\\b%");
    }
}
