//! Queries of the operators' own: who is suspended, and their audit log.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{operator_audit, partners, teams, users};
use crate::domain::status::{OperatorAction, OperatorSubject, Role, Suspendable};
use crate::error::AppError;
use crate::with_conn;

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
