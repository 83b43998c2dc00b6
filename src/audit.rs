//! The audit log: what a community helper did for a farmer, which the farmer reads at `/me/audit`. Every
//! capability records here; nothing is written when farmers act for themselves, so their plain reads stay
//! on the read path.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::ActingFarmer;
use crate::db::schema::{audit_log, helper_revocations, users};
use crate::db::{Conn, Db};
use crate::domain::status::AuditAction;
use crate::error::AppError;
use crate::with_conn;

/// One line of what was done for a farmer.
pub struct Entry {
    pub actor_id: i64,
    pub farmer_id: i64,
    pub action: AuditAction,
    pub entity_id: Option<String>,
}

pub fn record(conn: &mut Conn<'_>, entry: &Entry, now: NaiveDateTime) -> Result<(), AppError> {
    let row = (
        audit_log::actor_id.eq(entry.actor_id),
        audit_log::farmer_id.eq(entry.farmer_id),
        audit_log::action.eq(entry.action),
        audit_log::entity.eq(entry.action.entity()),
        audit_log::entity_id.eq(&entry.entity_id),
        audit_log::created_at.eq(now),
    );
    with_conn!(conn, |c| diesel::insert_into(audit_log::table).values(row).execute(c))?;
    Ok(())
}

/// Records `action` when a helper is acting for the farmer; nothing when the farmer acts for themself.
pub fn record_acting(
    conn: &mut Conn<'_>,
    acting: &ActingFarmer,
    action: AuditAction,
    entity_id: Option<String>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    if !acting.on_behalf() {
        return Ok(());
    }
    record(conn, &Entry { actor_id: acting.actor.id, farmer_id: acting.farmer_id, action, entity_id }, now)
}

/// Runs a read for a farmer. A helper's look is recorded, so it runs in a write transaction; the farmer's
/// own read stays on the read pool (with SQLite's one writer, reads must not queue behind writes).
pub async fn read_for<T, F>(
    db: &Db,
    acting: &ActingFarmer,
    action: AuditAction,
    now: NaiveDateTime,
    work: F,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn<'_>) -> Result<T, AppError> + Send + 'static,
{
    if !acting.on_behalf() {
        return db.read(work).await;
    }
    let acting = acting.clone();
    db.write(move |conn| {
        record_acting(conn, &acting, action, None, now)?;
        work(conn)
    })
    .await
}

/// One recorded line as the farmer reads it.
pub struct Line {
    pub id: i64,
    pub actor_id: i64,
    pub actor_name: String,
    pub action: AuditAction,
    pub entity: crate::domain::status::AuditEntity,
    pub entity_id: Option<String>,
    pub at: NaiveDateTime,
    /// The farmer has revoked the helper since.
    pub revoked: bool,
}

/// What was done for a farmer, newest first.
pub fn lines(conn: &mut Conn<'_>, farmer_id: i64, limit: i64, offset: i64) -> Result<Vec<Line>, AppError> {
    let rows: Vec<LineRow> = with_conn!(conn, |c| audit_log::table
        .inner_join(users::table.on(users::id.eq(audit_log::actor_id)))
        .left_join(
            helper_revocations::table.on(helper_revocations::farmer_id
                .eq(audit_log::farmer_id)
                .and(helper_revocations::helper_id.eq(audit_log::actor_id))),
        )
        .filter(audit_log::farmer_id.eq(farmer_id))
        .order(audit_log::id.desc())
        .select((
            audit_log::id,
            audit_log::actor_id,
            users::name,
            audit_log::action,
            audit_log::entity,
            audit_log::entity_id,
            audit_log::created_at,
            helper_revocations::revoked_at.nullable(),
        ))
        .limit(limit)
        .offset(offset)
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(id, actor_id, actor_name, action, entity, entity_id, at, revoked_at)| Line {
            id,
            actor_id,
            actor_name,
            action,
            entity,
            entity_id,
            at,
            revoked: revoked_at.is_some(),
        })
        .collect())
}

type LineRow = (
    i64,
    i64,
    String,
    AuditAction,
    crate::domain::status::AuditEntity,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);
