//! The queries of COD reconciliation.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, sql};
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::CodFigures;
use super::rules::{Period, RemittableJob};
use crate::db::Conn;
use crate::db::schema::{cod_discrepancies, cod_remittances, fulfilment_jobs, orders, partners, shipments, users};
use crate::domain::status::{DiscrepancyStatus, JobStatus, PaymentMethod, Role, sql_literal};
use crate::error::AppError;
use crate::with_conn;

/// `SUM(expr)` as a BIGINT, 0 over no rows (PostgreSQL sums BIGINT as NUMERIC).
fn sum(expr: &str) -> SqlLiteral<BigInt> {
    sql(&format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

/// The partner's jobs among `ids`, locked on PostgreSQL until the transaction ends.
pub fn lock_jobs(conn: &mut Conn<'_>, partner_id: i64, ids: &[i64]) -> Result<Vec<RemittableJob>, AppError> {
    let query = fulfilment_jobs::table
        .filter(fulfilment_jobs::partner_id.eq(partner_id))
        .filter(fulfilment_jobs::id.eq_any(ids))
        .order(fulfilment_jobs::id)
        .select((
            fulfilment_jobs::id,
            fulfilment_jobs::status,
            fulfilment_jobs::cod_collected_vnd,
            fulfilment_jobs::remittance_id,
        ));
    let rows: Vec<(i64, JobStatus, Option<i64>, Option<i64>)> = match conn {
        Conn::Pg(c) => query.for_update().load(&mut **c),
        Conn::Sqlite(c) => query.load(&mut **c),
    }?;
    Ok(rows
        .into_iter()
        .map(|(id, status, cod_collected_vnd, remittance)| RemittableJob { id, status, cod_collected_vnd, remittance })
        .collect())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = cod_remittances)]
pub struct RemittanceRow {
    pub id: i64,
    pub remittance_id: String,
    pub amount_vnd: i64,
    pub request_hash: String,
    pub created_at: NaiveDateTime,
}

pub fn remittance(
    conn: &mut Conn<'_>,
    partner_id: i64,
    remittance_id: &str,
) -> Result<Option<RemittanceRow>, AppError> {
    Ok(with_conn!(conn, |c| cod_remittances::table
        .filter(cod_remittances::partner_id.eq(partner_id))
        .filter(cod_remittances::remittance_id.eq(remittance_id))
        .select(RemittanceRow::as_select())
        .first(c)
        .optional())?)
}

#[derive(Insertable)]
#[diesel(table_name = cod_remittances)]
pub struct NewRemittance<'a> {
    pub partner_id: i64,
    pub remittance_id: &'a str,
    pub amount_vnd: i64,
    pub request_hash: &'a str,
    pub created_at: NaiveDateTime,
}

/// Inserts the remittance; `None` when the partner already has one under this id.
pub fn insert_remittance(conn: &mut Conn<'_>, new: &NewRemittance<'_>) -> Result<Option<i64>, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(cod_remittances::table)
        .values(new)
        .on_conflict((cod_remittances::partner_id, cod_remittances::remittance_id))
        .do_nothing()
        .returning(cod_remittances::id)
        .get_result(c)
        .optional())?)
}

/// Settles the jobs that no remittance settled yet; how many it settled.
pub fn attach_jobs(conn: &mut Conn<'_>, remittance: i64, ids: &[i64]) -> Result<usize, AppError> {
    Ok(with_conn!(conn, |c| diesel::update(
        fulfilment_jobs::table.filter(fulfilment_jobs::id.eq_any(ids)).filter(fulfilment_jobs::remittance_id.is_null())
    )
    .set(fulfilment_jobs::remittance_id.eq(remittance))
    .execute(c))?)
}

pub fn remitted_job_ids(conn: &mut Conn<'_>, remittance: i64) -> Result<Vec<i64>, AppError> {
    Ok(with_conn!(conn, |c| fulfilment_jobs::table
        .filter(fulfilment_jobs::remittance_id.eq(remittance))
        .order(fulfilment_jobs::id)
        .select(fulfilment_jobs::id)
        .load(c))?)
}

/// (partner id, name, figures) of each partner (or just `partner`) with COD jobs delivered in the period,
/// summed by the database.
pub fn figures_by_partner(
    conn: &mut Conn<'_>,
    partner: Option<i64>,
    period: Period,
) -> Result<Vec<(i64, String, CodFigures)>, AppError> {
    let (start, end) = period.utc_bounds();
    let rows: Vec<(i64, String, i64, i64, i64)> = with_conn!(conn, |c| {
        let query = fulfilment_jobs::table
            .inner_join(partners::table)
            .filter(fulfilment_jobs::status.eq(JobStatus::Delivered))
            .filter(fulfilment_jobs::cod_collected_vnd.is_not_null())
            .filter(fulfilment_jobs::delivered_at.ge(start))
            .filter(fulfilment_jobs::delivered_at.lt(end))
            .group_by((partners::id, partners::name))
            .order(partners::id)
            .select((
                partners::id,
                partners::name,
                count_star(),
                sum("fulfilment_jobs.cod_collected_vnd"),
                sum(
                    "CASE WHEN fulfilment_jobs.remittance_id IS NULL THEN 0 ELSE fulfilment_jobs.cod_collected_vnd END",
                ),
            ))
            .into_boxed();
        match partner {
            Some(partner) => query.filter(fulfilment_jobs::partner_id.eq(partner)).load(c),
            None => query.load(c),
        }
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, name, jobs, collected, remitted)| (id, name, CodFigures::new(jobs, collected, remitted)))
        .collect())
}

/// Money has not reached the marketplace: cash on delivery the carrier has not remitted yet.
fn owed() -> String {
    format!(
        "orders.payment_method = {} AND fulfilment_jobs.remittance_id IS NULL",
        sql_literal(PaymentMethod::Cod.as_str())
    )
}

/// The farmer's share of a delivered shipment, counting only money received: the goods when paid by
/// transfer; what the carrier collected less the fee when cash on delivery (the goods, unless it was short).
fn farmer_share() -> String {
    let kept = "COALESCE(fulfilment_jobs.cod_collected_vnd, 0) - shipments.fee_vnd";
    format!(
        "CASE WHEN orders.payment_method = {} THEN (CASE WHEN {kept} > 0 THEN {kept} ELSE 0 END) \
         ELSE shipments.items_total_vnd END",
        sql_literal(PaymentMethod::Cod.as_str())
    )
}

/// A farmer's delivered shipments, split by whether their money has reached the marketplace.
pub struct FarmerFigures {
    pub owed_vnd: i64,
    pub owed_shipments: i64,
    pub paid_out_vnd: i64,
    pub paid_out_shipments: i64,
}

/// The farmer's delivered shipments, split by whether their money has reached the marketplace.
pub fn farmer_figures(conn: &mut Conn<'_>, farmer_id: i64) -> Result<FarmerFigures, AppError> {
    let (owed, share) = (owed(), farmer_share());
    let (owed_vnd, owed_shipments, paid_out_vnd, paid_out_shipments) = with_conn!(conn, |c| fulfilment_jobs::table
        .inner_join(shipments::table)
        .inner_join(orders::table)
        .filter(shipments::farmer_id.eq(farmer_id))
        .filter(fulfilment_jobs::status.eq(JobStatus::Delivered))
        .select((
            sum(&format!("CASE WHEN {owed} THEN {share} ELSE 0 END")),
            sum(&format!("CASE WHEN {owed} THEN 1 ELSE 0 END")),
            sum(&format!("CASE WHEN {owed} THEN 0 ELSE {share} END")),
            sum(&format!("CASE WHEN {owed} THEN 0 ELSE 1 END")),
        ))
        .first::<(i64, i64, i64, i64)>(c))?;
    Ok(FarmerFigures { owed_vnd, owed_shipments, paid_out_vnd, paid_out_shipments })
}

/// A COD shortfall with its order's code.
#[derive(Queryable)]
pub struct DiscrepancyRow {
    pub id: i64,
    pub job_id: i64,
    pub order_code: String,
    pub partner_id: i64,
    pub expected_vnd: i64,
    pub collected_vnd: i64,
    pub reason: String,
    pub status: DiscrepancyStatus,
    pub created_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
    pub resolution_note: Option<String>,
}

/// Whose discrepancies a view shows.
#[derive(Clone, Copy, Debug)]
pub enum Concerning {
    Partner(i64),
    Farmer(i64),
    Everyone,
}

macro_rules! discrepancy_rows {
    () => {
        cod_discrepancies::table
            .inner_join(fulfilment_jobs::table.inner_join(orders::table).inner_join(shipments::table))
            .select((
                cod_discrepancies::id,
                cod_discrepancies::job_id,
                orders::code,
                cod_discrepancies::partner_id,
                cod_discrepancies::expected_vnd,
                cod_discrepancies::collected_vnd,
                cod_discrepancies::reason,
                cod_discrepancies::status,
                cod_discrepancies::created_at,
                cod_discrepancies::resolved_at,
                cod_discrepancies::resolution_note,
            ))
    };
}

/// The discrepancies still open, oldest first (at most 500: an operator settles them long before).
pub fn open_discrepancies(conn: &mut Conn<'_>, concerning: Concerning) -> Result<Vec<DiscrepancyRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let query = discrepancy_rows!()
            .filter(cod_discrepancies::status.eq(DiscrepancyStatus::Open))
            .order(cod_discrepancies::id)
            .limit(500)
            .into_boxed();
        match concerning {
            Concerning::Partner(id) => query.filter(cod_discrepancies::partner_id.eq(id)).load(c),
            Concerning::Farmer(id) => query.filter(shipments::farmer_id.eq(id)).load(c),
            Concerning::Everyone => query.load(c),
        }
    })?)
}

/// Resolves a discrepancy (once: a second call keeps the first resolution); `None` when there is none.
pub fn resolve_discrepancy(
    conn: &mut Conn<'_>,
    id: i64,
    operator_id: i64,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<Option<DiscrepancyRow>, AppError> {
    with_conn!(conn, |c| diesel::update(
        cod_discrepancies::table
            .filter(cod_discrepancies::id.eq(id))
            .filter(cod_discrepancies::status.eq(DiscrepancyStatus::Open))
    )
    .set((
        cod_discrepancies::status.eq(DiscrepancyStatus::Resolved),
        cod_discrepancies::resolved_at.eq(now),
        cod_discrepancies::resolved_by.eq(operator_id),
        cod_discrepancies::resolution_note.eq(note),
    ))
    .execute(c))?;
    Ok(with_conn!(conn, |c| discrepancy_rows!().filter(cod_discrepancies::id.eq(id)).first(c).optional())?)
}

/// One delivered shipment of a farmer, as a monthly statement counts it.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct StatementDelivery {
    pub delivered_at: NaiveDateTime,
    pub payment_method: PaymentMethod,
    pub items_total_vnd: i64,
    pub fee_vnd: i64,
    /// Cash the carrier collected (COD only).
    pub cod_collected_vnd: Option<i64>,
    /// The farmer's share, as `/me/cod` counts it.
    pub share_vnd: i64,
    /// When the carrier remitted the cash (COD only).
    pub remitted_at: Option<NaiveDateTime>,
}

/// The farmer's name, if `farmer_id` is a farmer.
pub fn farmer_name(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Option<String>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::id.eq(farmer_id))
        .filter(users::role.eq(Role::Farmer))
        .select(users::name)
        .first(c)
        .optional())?)
}

/// Every delivered shipment of the farmer, in the order they were delivered.
pub fn statement_deliveries(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Vec<StatementDelivery>, AppError> {
    let share = farmer_share();
    Ok(with_conn!(conn, |c| fulfilment_jobs::table
        .inner_join(shipments::table)
        .inner_join(orders::table)
        .left_join(cod_remittances::table)
        .filter(shipments::farmer_id.eq(farmer_id))
        .filter(fulfilment_jobs::status.eq(JobStatus::Delivered))
        .filter(fulfilment_jobs::delivered_at.is_not_null())
        .order((fulfilment_jobs::delivered_at, fulfilment_jobs::id))
        .select((
            fulfilment_jobs::delivered_at.assume_not_null(),
            orders::payment_method,
            shipments::items_total_vnd,
            shipments::fee_vnd,
            fulfilment_jobs::cod_collected_vnd,
            sql::<BigInt>(&share),
            cod_remittances::created_at.nullable(),
        ))
        .load(c))?)
}
