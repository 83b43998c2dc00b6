//! Queries over fulfilment jobs, their events and leases.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{
    cod_discrepancies, fulfilment_jobs, job_events, job_holds, order_lines, orders, partners, shipments, users, wards,
};
use crate::domain::status::{DiscrepancyStatus, HoldEnding, JobStatus, ShipmentStatus};
use crate::error::AppError;
use crate::with_conn;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = fulfilment_jobs)]
pub struct JobRow {
    pub id: i64,
    pub shipment_id: i64,
    pub order_id: i64,
    pub pickup_province_code: i32,
    pub pickup_ward_code: i32,
    pub dropoff_province_code: i32,
    pub dropoff_ward_code: i32,
    pub weight_g: i64,
    pub cod_vnd: i64,
    pub declared_value_vnd: i64,
    pub item_summary: String,
    pub status: JobStatus,
    pub partner_id: Option<i64>,
    pub lease_id: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub attempts: i32,
    pub needs_operator: bool,
    pub tracking_code: Option<String>,
    pub cod_collected_vnd: Option<i64>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// When the job last changed (for a final status: when it ended).
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = fulfilment_jobs)]
pub struct NewJob<'a> {
    pub shipment_id: i64,
    pub order_id: i64,
    pub pickup_province_code: i32,
    pub pickup_ward_code: i32,
    pub dropoff_province_code: i32,
    pub dropoff_ward_code: i32,
    pub weight_g: i64,
    pub cod_vnd: i64,
    pub declared_value_vnd: i64,
    pub item_summary: &'a str,
    pub status: JobStatus,
    pub attempts: i32,
    pub needs_operator: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts the job of a shipment unless it has one; `None` when it already had.
pub fn insert_job(conn: &mut Conn<'_>, job: &NewJob<'_>) -> Result<Option<JobRow>, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(fulfilment_jobs::table)
        .values(job)
        .on_conflict(fulfilment_jobs::shipment_id)
        .do_nothing()
        .returning(JobRow::as_returning())
        .get_result(c)
        .optional())?)
}

/// What opening a job needs to know of an accepted shipment that has none yet:
/// (shipment id, farmer's ward, farmer's province, weight, items total, fee).
pub type OpenableShipment = (i64, i32, i32, i64, i64, i64);

pub fn shipments_without_job(conn: &mut Conn<'_>, order_id: i64) -> Result<Vec<OpenableShipment>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(users::table.on(users::id.eq(shipments::farmer_id)))
        .inner_join(wards::table.on(users::ward_code.eq(wards::code.nullable())))
        .left_join(fulfilment_jobs::table)
        .filter(shipments::order_id.eq(order_id))
        .filter(shipments::status.eq(ShipmentStatus::Accepted))
        .filter(fulfilment_jobs::id.is_null())
        .order(shipments::id)
        .select((
            shipments::id,
            wards::code,
            wards::province_code,
            shipments::weight_g,
            shipments::items_total_vnd,
            shipments::fee_vnd,
        ))
        .load(c))?)
}

/// (title, unit, quantity) of a shipment's lines.
pub fn shipment_lines(conn: &mut Conn<'_>, shipment_id: i64) -> Result<Vec<(String, String, i64)>, AppError> {
    Ok(with_conn!(conn, |c| order_lines::table
        .filter(order_lines::shipment_id.eq(shipment_id))
        .order(order_lines::id)
        .select((order_lines::title, order_lines::unit, order_lines::quantity))
        .load(c))?)
}

/// Reads one job to change it. On PostgreSQL the row is locked, so events and lease changes on one job queue
/// behind each other instead of deciding on stale state; SQLite's one writer does that by itself.
macro_rules! job_for_update {
    ($conn:expr, $query:expr) => {
        match $conn {
            Conn::Pg(c) => $query.select(JobRow::as_select()).for_update().first(&mut **c).optional(),
            Conn::Sqlite(c) => $query.select(JobRow::as_select()).first(&mut **c).optional(),
        }
    };
}

pub fn job(conn: &mut Conn<'_>, id: i64) -> Result<Option<JobRow>, AppError> {
    Ok(with_conn!(conn, |c| fulfilment_jobs::table.find(id).select(JobRow::as_select()).first(c).optional())?)
}

pub fn job_to_change(conn: &mut Conn<'_>, id: i64) -> Result<Option<JobRow>, AppError> {
    Ok(job_for_update!(conn, fulfilment_jobs::table.find(id))?)
}

pub fn job_of_shipment(conn: &mut Conn<'_>, shipment_id: i64) -> Result<Option<JobRow>, AppError> {
    Ok(job_for_update!(conn, fulfilment_jobs::table.filter(fulfilment_jobs::shipment_id.eq(shipment_id)))?)
}

pub fn jobs_of_order(conn: &mut Conn<'_>, order_id: i64) -> Result<Vec<JobRow>, AppError> {
    Ok(with_conn!(conn, |c| fulfilment_jobs::table
        .filter(fulfilment_jobs::order_id.eq(order_id))
        .select(JobRow::as_select())
        .load(c))?)
}

/// Takes up to `limit` available jobs picked up in `provinces` for `partner_id`. On PostgreSQL the rows are
/// locked with `SKIP LOCKED`, so concurrent claimers take disjoint jobs without waiting on each other;
/// SQLite has one writer, which makes the select-then-update atomic by itself.
pub fn claim(
    conn: &mut Conn<'_>,
    partner_id: i64,
    provinces: &[i32],
    limit: i64,
    lease: (&str, NaiveDateTime),
    now: NaiveDateTime,
) -> Result<Vec<JobRow>, AppError> {
    let available = fulfilment_jobs::table
        .filter(fulfilment_jobs::status.eq(JobStatus::Available))
        .filter(fulfilment_jobs::pickup_province_code.eq_any(provinces))
        .order(fulfilment_jobs::id)
        .limit(limit)
        .select(fulfilment_jobs::id);
    let ids: Vec<i64> = match conn {
        Conn::Pg(c) => available.for_update().skip_locked().load(&mut **c),
        Conn::Sqlite(c) => available.load(&mut **c),
    }?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (lease_id, expires_at) = lease;
    let mut claimed: Vec<JobRow> =
        with_conn!(conn, |c| diesel::update(fulfilment_jobs::table.filter(fulfilment_jobs::id.eq_any(&ids)))
            .set((
                fulfilment_jobs::status.eq(JobStatus::Claimed),
                fulfilment_jobs::partner_id.eq(partner_id),
                fulfilment_jobs::lease_id.eq(lease_id),
                fulfilment_jobs::lease_expires_at.eq(expires_at),
                fulfilment_jobs::updated_at.eq(now),
            ))
            .returning(JobRow::as_returning())
            .get_results(c))?;
    // RETURNING comes back in no set order.
    claimed.sort_by_key(|job| job.id);
    let holds: Vec<_> = claimed
        .iter()
        .map(|job| {
            (
                job_holds::job_id.eq(job.id),
                job_holds::partner_id.eq(partner_id),
                job_holds::lease_id.eq(lease_id),
                job_holds::claimed_at.eq(now),
            )
        })
        .collect();
    with_conn!(conn, |c| diesel::insert_into(job_holds::table).values(&holds).execute(c))?;
    Ok(claimed)
}

/// Sets the lease's end, if `lease_id` is the job's live lease; `false` otherwise.
pub fn extend_lease(
    conn: &mut Conn<'_>,
    id: i64,
    lease_id: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let changed = with_conn!(conn, |c| diesel::update(live_lease(id, lease_id, now))
        .set((fulfilment_jobs::lease_expires_at.eq(expires_at), fulfilment_jobs::updated_at.eq(now)))
        .execute(c))?;
    Ok(changed == 1)
}

/// What a job becomes when a claim came to nothing (given back or left to lapse): back in the pool, the
/// attempt counted, and flagged for an operator once `max_attempts` claims came to nothing.
macro_rules! back_to_pool {
    ($max_attempts:expr, $now:expr) => {
        (
            fulfilment_jobs::status.eq(JobStatus::Available),
            fulfilment_jobs::partner_id.eq(None::<i64>),
            fulfilment_jobs::lease_id.eq(None::<String>),
            fulfilment_jobs::lease_expires_at.eq(None::<NaiveDateTime>),
            fulfilment_jobs::attempts.eq(fulfilment_jobs::attempts + 1),
            fulfilment_jobs::needs_operator
                .eq(fulfilment_jobs::needs_operator.or(fulfilment_jobs::attempts.ge($max_attempts - 1))),
            fulfilment_jobs::updated_at.eq($now),
        )
    };
}

/// Ends the traces of the open holds whose lease is among `leases` (a subquery of the jobs concerned).
macro_rules! end_holds {
    ($conn:expr, $leases:expr, $ending:expr, $now:expr) => {
        with_conn!($conn, |c| diesel::update(
            job_holds::table
                .filter(job_holds::ended_at.is_null())
                .filter(job_holds::lease_id.nullable().eq_any($leases))
        )
        .set((job_holds::ended_at.eq($now), job_holds::ending.eq($ending)))
        .execute(c))
    };
}

/// Gives a claimed job back to the pool, if `lease_id` is its live lease; `false` otherwise. It counts as a
/// claim that came to nothing, and its hold's trace ends `released`.
pub fn release(
    conn: &mut Conn<'_>,
    id: i64,
    lease_id: &str,
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<bool, AppError> {
    end_holds!(conn, live_lease(id, lease_id, now).select(fulfilment_jobs::lease_id), HoldEnding::Released, now)?;
    let changed = with_conn!(conn, |c| diesel::update(live_lease(id, lease_id, now))
        .set(back_to_pool!(max_attempts, now))
        .execute(c))?;
    Ok(changed == 1)
}

type LiveLease<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            diesel::dsl::Filter<fulfilment_jobs::table, diesel::dsl::Eq<fulfilment_jobs::id, i64>>,
            diesel::dsl::Eq<fulfilment_jobs::status, JobStatus>,
        >,
        diesel::dsl::Eq<fulfilment_jobs::lease_id, &'a str>,
    >,
    diesel::dsl::Gt<fulfilment_jobs::lease_expires_at, NaiveDateTime>,
>;

fn live_lease(id: i64, lease_id: &str, now: NaiveDateTime) -> LiveLease<'_> {
    fulfilment_jobs::table
        .filter(fulfilment_jobs::id.eq(id))
        .filter(fulfilment_jobs::status.eq(JobStatus::Claimed))
        .filter(fulfilment_jobs::lease_id.eq(lease_id))
        .filter(fulfilment_jobs::lease_expires_at.gt(now))
}

/// Returns to the pool every job whose lease ran out by `now`, counting the attempt and flagging the job for
/// an operator once `max_attempts` claims have run out; the holds' traces end `lapsed`. Conditional
/// statements: instances sweeping at once each return a job at most once.
pub fn sweep_expired_leases(conn: &mut Conn<'_>, now: NaiveDateTime, max_attempts: i32) -> Result<usize, AppError> {
    let lapsed = || {
        fulfilment_jobs::table
            .filter(fulfilment_jobs::status.eq(JobStatus::Claimed))
            .filter(fulfilment_jobs::lease_expires_at.le(now))
    };
    end_holds!(conn, lapsed().select(fulfilment_jobs::lease_id), HoldEnding::Lapsed, now)?;
    Ok(with_conn!(conn, |c| diesel::update(lapsed()).set(back_to_pool!(max_attempts, now)).execute(c))?)
}

/// The changes one applied event makes to its job.
#[derive(AsChangeset, Default)]
#[diesel(table_name = fulfilment_jobs)]
pub struct JobChange<'a> {
    pub status: Option<JobStatus>,
    /// `Some(None)` clears the holder (a failed pickup hands the job back).
    pub partner_id: Option<Option<i64>>,
    pub lease_id: Option<Option<&'a str>>,
    pub lease_expires_at: Option<Option<NaiveDateTime>>,
    pub attempts: Option<i32>,
    pub needs_operator: Option<bool>,
    pub tracking_code: Option<&'a str>,
    pub cod_collected_vnd: Option<i64>,
    pub delivered_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn change_job(conn: &mut Conn<'_>, id: i64, change: &JobChange<'_>) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(fulfilment_jobs::table.find(id)).set(change).execute(c))?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = job_events)]
pub struct NewEvent<'a> {
    pub job_id: i64,
    pub partner_id: i64,
    pub event_id: &'a str,
    pub status: JobStatus,
    pub applied: bool,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub tracking_code: Option<&'a str>,
    pub carrier_status: Option<&'a str>,
    pub note: Option<&'a str>,
    pub cod_collected_vnd: Option<i64>,
}

pub fn insert_event(conn: &mut Conn<'_>, event: &NewEvent<'_>) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::insert_into(job_events::table).values(event).execute(c))?;
    Ok(())
}

/// (status, applied) of an event already recorded under `event_id` for the job.
pub fn recorded_event(conn: &mut Conn<'_>, job_id: i64, event_id: &str) -> Result<Option<(JobStatus, bool)>, AppError> {
    Ok(with_conn!(conn, |c| job_events::table
        .filter(job_events::job_id.eq(job_id))
        .filter(job_events::event_id.eq(event_id))
        .select((job_events::status, job_events::applied))
        .first(c)
        .optional())?)
}

#[derive(Queryable, Clone, Debug)]
pub struct EventRow {
    pub job_id: i64,
    pub status: JobStatus,
    pub applied: bool,
    pub occurred_at: NaiveDateTime,
    pub tracking_code: Option<String>,
    pub carrier_status: Option<String>,
    pub note: Option<String>,
}

/// The events of some jobs, in the order they happened.
pub fn events(conn: &mut Conn<'_>, job_ids: &[i64]) -> Result<Vec<EventRow>, AppError> {
    Ok(with_conn!(conn, |c| job_events::table
        .filter(job_events::job_id.eq_any(job_ids))
        .order((job_events::occurred_at, job_events::id))
        .select((
            job_events::job_id,
            job_events::status,
            job_events::applied,
            job_events::occurred_at,
            job_events::tracking_code,
            job_events::carrier_status,
            job_events::note,
        ))
        .load(c))?)
}

pub fn partner_names(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<(i64, String)>, AppError> {
    Ok(with_conn!(conn, |c| partners::table
        .filter(partners::id.eq_any(ids))
        .select((partners::id, partners::name))
        .load(c))?)
}

/// Who and where, for the partner holding a job: (job id, order code, farmer name, farmer phone, buyer name,
/// buyer phone, street).
pub type ContactRow = (i64, String, String, Option<String>, String, String, String);

pub fn contacts(conn: &mut Conn<'_>, job_ids: &[i64]) -> Result<Vec<ContactRow>, AppError> {
    Ok(with_conn!(conn, |c| fulfilment_jobs::table
        .inner_join(orders::table)
        .inner_join(shipments::table.inner_join(users::table.on(users::id.eq(shipments::farmer_id))))
        .filter(fulfilment_jobs::id.eq_any(job_ids))
        .select((
            fulfilment_jobs::id,
            orders::code,
            users::name,
            users::phone,
            orders::buyer_name,
            orders::buyer_phone,
            orders::street,
        ))
        .load(c))?)
}

/// Which jobs a partner lists.
pub enum JobFilter<'a> {
    /// Open to claim in these provinces.
    Available(&'a [i32]),
    /// Held by this partner, in this status.
    Held(i64, JobStatus),
    /// Flagged for an operator after too many claims ran out.
    NeedsOperator,
}

pub fn list_jobs(
    conn: &mut Conn<'_>,
    filter: &JobFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<JobRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let query = fulfilment_jobs::table.select(JobRow::as_select()).order(fulfilment_jobs::id).into_boxed();
        let query = match filter {
            JobFilter::Available(provinces) => query
                .filter(fulfilment_jobs::status.eq(JobStatus::Available))
                .filter(fulfilment_jobs::pickup_province_code.eq_any(provinces.to_vec())),
            JobFilter::Held(partner_id, status) => {
                query.filter(fulfilment_jobs::partner_id.eq(*partner_id)).filter(fulfilment_jobs::status.eq(*status))
            }
            JobFilter::NeedsOperator => query
                .filter(fulfilment_jobs::needs_operator.eq(true))
                .filter(fulfilment_jobs::status.eq_any([JobStatus::Available, JobStatus::Claimed])),
        };
        query.limit(limit).offset(offset).load(c)
    })?)
}

/// Who to tell about an order's parcel.
#[derive(Queryable)]
pub struct Buyer {
    pub order_code: String,
    pub buyer_id: Option<i64>,
    pub name: String,
    pub email: Option<String>,
    pub phone: String,
    pub lang: String,
}

/// How the farmer of a shipment is reached: (id, email, phone).
pub fn farmer_of(conn: &mut Conn<'_>, shipment_id: i64) -> Result<(i64, Option<String>, Option<String>), AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(users::table.on(users::id.eq(shipments::farmer_id)))
        .filter(shipments::id.eq(shipment_id))
        .select((users::id, users::email, users::phone))
        .first(c))?)
}

pub fn buyer_of(conn: &mut Conn<'_>, order_id: i64) -> Result<Buyer, AppError> {
    Ok(with_conn!(conn, |c| orders::table
        .find(order_id)
        .select((
            orders::code,
            orders::buyer_id,
            orders::buyer_name,
            orders::buyer_email,
            orders::buyer_phone,
            orders::lang
        ))
        .first(c))?)
}

#[derive(Insertable)]
#[diesel(table_name = cod_discrepancies)]
pub struct NewDiscrepancy<'a> {
    pub job_id: i64,
    pub partner_id: i64,
    pub expected_vnd: i64,
    pub collected_vnd: i64,
    pub reason: &'a str,
    pub status: DiscrepancyStatus,
    pub created_at: NaiveDateTime,
}

/// Records a COD shortfall (one per job: a delivery is applied once).
pub fn insert_discrepancy(conn: &mut Conn<'_>, discrepancy: &NewDiscrepancy<'_>) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::insert_into(cod_discrepancies::table)
        .values(discrepancy)
        .on_conflict(cod_discrepancies::job_id)
        .do_nothing()
        .execute(c))?;
    Ok(())
}
