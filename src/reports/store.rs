//! Queries of the impact report: the events of one day that the rollup step aggregates, the rollup tables
//! it writes, and the sums the report reads from them (never from the order tables).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use super::rollups::{DayRollup, MonthHistogram, NO_HELPER, NO_WARD, Window};
use super::sql::{execute, scoped};
use crate::db::Conn;
use crate::db::schema::{
    audit_log, fulfilment_jobs, listings, report_days, report_durations, report_listings_live, report_month_durations,
    report_months, report_seller_days, report_seller_months, report_watermark, shipments, users,
};
use crate::domain::status::{AuditAction, ListingStatus, Role, ShipmentStatus};
use crate::error::AppError;
use crate::with_conn;

/// Where a farmer's figures go: their commune and the helper who enrolled them.
pub type Place = (Option<i32>, Option<i64>);

/// Rows a batch insert carries at once (SQLite binds at most 32,766 values per statement).
const BATCH: usize = 1000;

pub fn watermark(conn: &mut Conn<'_>) -> Result<Option<NaiveDateTime>, AppError> {
    let query = report_watermark::table.find(1).select(report_watermark::through);
    Ok(with_conn!(conn, |c| query.first(c).optional())?)
}

pub fn set_watermark(conn: &mut Conn<'_>, through: NaiveDateTime) -> Result<(), AppError> {
    let row = (report_watermark::id.eq(1), report_watermark::through.eq(through));
    with_conn!(conn, |c| diesel::insert_into(report_watermark::table)
        .values(row)
        .on_conflict(report_watermark::id)
        .do_update()
        .set(report_watermark::through.eq(through))
        .execute(c))?;
    Ok(())
}

/// Serialises rollup writers across instances (PostgreSQL; SQLite has one writer anyway) until the
/// transaction ends, so two never rebuild the same day at once.
pub fn lock_rollups(conn: &mut Conn<'_>) -> Result<(), AppError> {
    if let Conn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7236833)").execute(&mut **c)?;
    }
    Ok(())
}

/// The earliest time anything the report counts happened, for the first run.
pub fn first_event(conn: &mut Conn<'_>) -> Result<Option<NaiveDateTime>, AppError> {
    let farmers = users::table.filter(users::role.eq(Role::Farmer)).select(diesel::dsl::min(users::created_at));
    let first_farmer: Option<NaiveDateTime> = with_conn!(conn, |c| farmers.first(c))?;
    let first_shipment: Option<NaiveDateTime> =
        with_conn!(conn, |c| shipments::table.select(diesel::dsl::min(shipments::created_at)).first(c))?;
    Ok(first_farmer.into_iter().chain(first_shipment).min())
}

/// The times of the events of every row changed at or after `since`: the days they fall on are aggregated
/// again (a shipment answered, cancelled or delivered on a later day changes that later day, and its own).
pub fn touched_times(conn: &mut Conn<'_>, since: NaiveDateTime) -> Result<Vec<NaiveDateTime>, AppError> {
    let farmers: Vec<NaiveDateTime> = with_conn!(conn, |c| users::table
        .filter(users::role.eq(Role::Farmer))
        .filter(users::updated_at.ge(since))
        .select(users::created_at)
        .load(c))?;
    type ShipmentTimes = (NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>);
    let moved: Vec<ShipmentTimes> = with_conn!(conn, |c| shipments::table
        .filter(shipments::updated_at.ge(since))
        .select((shipments::created_at, shipments::accepted_at, shipments::withdrawn_at))
        .load(c))?;
    let delivered: Vec<Option<NaiveDateTime>> = with_conn!(conn, |c| fulfilment_jobs::table
        .filter(fulfilment_jobs::updated_at.ge(since))
        .filter(fulfilment_jobs::delivered_at.is_not_null())
        .select(fulfilment_jobs::delivered_at)
        .load(c))?;
    let listed: Vec<NaiveDateTime> = with_conn!(conn, |c| audit_log::table
        .filter(audit_log::created_at.ge(since))
        .filter(audit_log::action.eq(AuditAction::CreateListing))
        .select(audit_log::created_at)
        .load(c))?;
    let shipment_times =
        moved.into_iter().flat_map(|(created, accepted, withdrawn)| [Some(created), accepted, withdrawn]);
    Ok(farmers.into_iter().chain(listed).chain(shipment_times.chain(delivered).flatten()).collect())
}

/// Farmers who joined within the window.
pub fn enrolments(conn: &mut Conn<'_>, window: Window) -> Result<Vec<Place>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::role.eq(Role::Farmer))
        .filter(users::created_at.ge(window.start).and(users::created_at.lt(window.end)))
        .select((users::ward_code, users::enrolled_by))
        .load(c))?)
}

/// Shipments (a farmer's part of an order) placed within the window, and the value of their goods.
pub fn placed(conn: &mut Conn<'_>, window: Window) -> Result<Vec<(Place, i64)>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(users::table.on(users::id.eq(shipments::farmer_id)))
        .filter(shipments::created_at.ge(window.start).and(shipments::created_at.lt(window.end)))
        .select(((users::ward_code, users::enrolled_by), shipments::items_total_vnd))
        .load(c))?)
}

/// A shipment accepted within the window: its farmer, when it was placed and when accepted.
pub type Accepted = (Place, i64, NaiveDateTime, Option<NaiveDateTime>);

pub fn accepted(conn: &mut Conn<'_>, window: Window) -> Result<Vec<Accepted>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(users::table.on(users::id.eq(shipments::farmer_id)))
        .filter(shipments::accepted_at.ge(window.start).and(shipments::accepted_at.lt(window.end)))
        .select((
            (users::ward_code, users::enrolled_by),
            shipments::farmer_id,
            shipments::created_at,
            shipments::accepted_at
        ))
        .load(c))?)
}

/// Shipments rejected or cancelled within the window, and which of the two.
pub fn withdrawn(conn: &mut Conn<'_>, window: Window) -> Result<Vec<(Place, ShipmentStatus)>, AppError> {
    Ok(with_conn!(conn, |c| shipments::table
        .inner_join(users::table.on(users::id.eq(shipments::farmer_id)))
        .filter(shipments::withdrawn_at.ge(window.start).and(shipments::withdrawn_at.lt(window.end)))
        .select(((users::ward_code, users::enrolled_by), shipments::status))
        .load(c))?)
}

/// A shipment delivered within the window: its goods, the cash collected, when ordered and delivered.
pub type Delivered = (Place, i64, Option<i64>, NaiveDateTime, Option<NaiveDateTime>);

pub fn delivered(conn: &mut Conn<'_>, window: Window) -> Result<Vec<Delivered>, AppError> {
    Ok(with_conn!(conn, |c| fulfilment_jobs::table
        .inner_join(shipments::table)
        .inner_join(users::table.on(users::id.eq(shipments::farmer_id)))
        .filter(fulfilment_jobs::delivered_at.ge(window.start).and(fulfilment_jobs::delivered_at.lt(window.end)))
        .select((
            (users::ward_code, users::enrolled_by),
            shipments::items_total_vnd,
            fulfilment_jobs::cod_collected_vnd,
            shipments::created_at,
            fulfilment_jobs::delivered_at,
        ))
        .load(c))?)
}

/// Listings a helper made on a farmer's behalf within the window: the farmer's commune and the helper.
pub fn listings_by_helpers(conn: &mut Conn<'_>, window: Window) -> Result<Vec<(Option<i32>, i64)>, AppError> {
    Ok(with_conn!(conn, |c| audit_log::table
        .inner_join(users::table.on(users::id.eq(audit_log::farmer_id)))
        .filter(audit_log::action.eq(AuditAction::CreateListing))
        .filter(audit_log::actor_id.ne(audit_log::farmer_id))
        .filter(audit_log::created_at.ge(window.start).and(audit_log::created_at.lt(window.end)))
        .select((users::ward_code, audit_log::actor_id))
        .load(c))?)
}

/// Replaces the rollups of one day with `rollup`.
pub fn replace_day(conn: &mut Conn<'_>, day: &str, rollup: &DayRollup) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(report_days::table.filter(report_days::day.eq(day))).execute(c))?;
    with_conn!(conn, |c| diesel::delete(report_durations::table.filter(report_durations::day.eq(day))).execute(c))?;
    with_conn!(conn, |c| diesel::delete(report_seller_days::table.filter(report_seller_days::day.eq(day))).execute(c))?;
    let figures: Vec<_> = rollup
        .figures
        .iter()
        .map(|(&(ward, helper), f)| {
            (
                report_days::day.eq(day),
                report_days::ward_code.eq(ward),
                report_days::helper_id.eq(helper),
                report_days::self_enrolled.eq(f.self_enrolled),
                report_days::enrolled_by_helper.eq(f.enrolled_by_helper),
                report_days::orders.eq(f.orders),
                report_days::goods_value_vnd.eq(f.goods_value_vnd),
                report_days::delivered_shipments.eq(f.delivered_shipments),
                report_days::delivered_value_vnd.eq(f.delivered_value_vnd),
                report_days::cancelled_shipments.eq(f.cancelled_shipments),
                report_days::rejected_shipments.eq(f.rejected_shipments),
                report_days::cod_collected_vnd.eq(f.cod_collected_vnd),
                report_days::listings_by_helpers.eq(f.listings_by_helpers),
            )
        })
        .collect();
    for batch in figures.chunks(BATCH) {
        with_conn!(conn, |c| diesel::insert_into(report_days::table).values(batch).execute(c))?;
    }
    let durations: Vec<_> = rollup
        .durations
        .iter()
        .map(|(&(ward, helper, measure, tenths), &count)| {
            (
                report_durations::day.eq(day),
                report_durations::ward_code.eq(ward),
                report_durations::helper_id.eq(helper),
                report_durations::measure.eq(measure.as_str()),
                report_durations::tenths.eq(tenths),
                report_durations::shipments.eq(count),
            )
        })
        .collect();
    for batch in durations.chunks(BATCH) {
        with_conn!(conn, |c| diesel::insert_into(report_durations::table).values(batch).execute(c))?;
    }
    let sellers: Vec<_> = rollup
        .sellers
        .iter()
        .map(|&farmer| (report_seller_days::farmer_id.eq(farmer), report_seller_days::day.eq(day)))
        .collect();
    for batch in sellers.chunks(BATCH) {
        with_conn!(conn, |c| diesel::insert_into(report_seller_days::table).values(batch).execute(c))?;
    }
    Ok(())
}

/// Live listings (the catalogue's rule: active with stock) per farmer's commune and enrolling helper.
pub fn live_listings(conn: &mut Conn<'_>) -> Result<Vec<(Place, i64)>, AppError> {
    Ok(with_conn!(conn, |c| listings::table
        .inner_join(users::table.on(users::id.eq(listings::farmer_id)))
        .filter(listings::status.eq(ListingStatus::Active))
        .filter(listings::quantity.gt(0))
        .group_by((users::ward_code, users::enrolled_by))
        .select(((users::ward_code, users::enrolled_by), diesel::dsl::count_star()))
        .load(c))?)
}

/// Keeps `counts` as the live listings of `day`.
pub fn replace_live_listings(conn: &mut Conn<'_>, day: &str, counts: &[(i32, i64, i64)]) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(report_listings_live::table.filter(report_listings_live::day.eq(day)))
        .execute(c))?;
    let rows: Vec<_> = counts
        .iter()
        .map(|&(ward, helper, count)| {
            (
                report_listings_live::day.eq(day),
                report_listings_live::ward_code.eq(ward),
                report_listings_live::helper_id.eq(helper),
                report_listings_live::listings.eq(count),
            )
        })
        .collect();
    for batch in rows.chunks(BATCH) {
        with_conn!(conn, |c| diesel::insert_into(report_listings_live::table).values(batch).execute(c))?;
    }
    Ok(())
}

/// The additive figures, as the rollup tables name their columns.
const FIGURES: [&str; 10] = [
    "self_enrolled",
    "enrolled_by_helper",
    "orders",
    "goods_value_vnd",
    "delivered_shipments",
    "delivered_value_vnd",
    "cancelled_shipments",
    "rejected_shipments",
    "cod_collected_vnd",
    "listings_by_helpers",
];

/// Re-sums the figures and the sellers of `month` (`YYYY-MM`) from its days `[first, next)`.
pub fn resum_month(conn: &mut Conn<'_>, month: &str, first: &str, next: &str) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(report_months::table.filter(report_months::month.eq(month))).execute(c))?;
    with_conn!(conn, |c| diesel::delete(report_seller_months::table.filter(report_seller_months::month.eq(month)))
        .execute(c))?;
    let sums = FIGURES.map(|column| format!("SUM({column})")).join(", ");
    let figures = format!(
        "INSERT INTO report_months (month, ward_code, helper_id, {columns}) SELECT $1, ward_code, helper_id, {sums} \
         FROM report_days WHERE day >= $2 AND day < $3 GROUP BY ward_code, helper_id",
        columns = FIGURES.join(", "),
    );
    execute(conn, &figures, [month, first, next])?;
    let sellers = "INSERT INTO report_seller_months (month, farmer_id) SELECT DISTINCT $1, farmer_id \
                   FROM report_seller_days WHERE day >= $2 AND day < $3";
    execute(conn, sellers, [month, first, next])
}

/// A bucket of the day histograms of a month, with the province of its commune.
#[derive(QueryableByName, Debug)]
pub struct MonthBucket {
    #[diesel(sql_type = Integer)]
    pub province_code: i32,
    #[diesel(sql_type = Integer)]
    pub ward_code: i32,
    #[diesel(sql_type = BigInt)]
    pub helper_id: i64,
    #[diesel(sql_type = Text)]
    pub measure: String,
    #[diesel(sql_type = Integer)]
    pub tenths: i32,
    #[diesel(sql_type = BigInt)]
    pub shipments: i64,
}

/// The duration buckets of the days of `scope`, summed per commune, helper, measure and tenths.
pub fn buckets_of_days(conn: &mut Conn<'_>, scope: &Scope) -> Result<Vec<MonthBucket>, AppError> {
    let text = format!(
        "SELECT w.province_code, d.ward_code, d.helper_id, d.measure, d.tenths, \
         CAST(SUM(d.shipments) AS BIGINT) AS shipments FROM report_durations d JOIN wards w ON w.code = d.ward_code \
         WHERE d.day >= $1 AND d.day < $2{place} GROUP BY w.province_code, d.ward_code, d.helper_id, d.measure, d.tenths",
        place = scope.place_filter("d.ward_code"),
    );
    scoped(conn, &text, scope)
}

/// Replaces the duration histograms of `month` with `histograms`.
pub fn replace_month_durations(
    conn: &mut Conn<'_>,
    month: &str,
    histograms: &[MonthHistogram],
) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::delete(
        report_month_durations::table.filter(report_month_durations::month.eq(month))
    )
    .execute(c))?;
    let rows: Vec<_> = histograms
        .iter()
        .map(|(province, ward, helper, measure, histogram)| {
            (
                report_month_durations::month.eq(month),
                report_month_durations::province_code.eq(province),
                report_month_durations::ward_code.eq(ward),
                report_month_durations::helper_id.eq(helper),
                report_month_durations::measure.eq(measure),
                report_month_durations::histogram.eq(histogram),
            )
        })
        .collect();
    for batch in rows.chunks(BATCH) {
        with_conn!(conn, |c| diesel::insert_into(report_month_durations::table).values(batch).execute(c))?;
    }
    Ok(())
}

/// What the report's rows are keyed by in the rollups: provinces and communes both read by commune (the
/// province of a commune is reference data), teams and helpers both by helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Ward,
    Helper,
    Month,
}

impl Key {
    fn column(self, grain: Grain) -> &'static str {
        match (self, grain) {
            (Key::Ward, _) => "CAST(ward_code AS TEXT)",
            (Key::Helper, _) => "CAST(helper_id AS TEXT)",
            (Key::Month, Grain::Days) => "substr(day, 1, 7)",
            (Key::Month, Grain::Months) => "month",
        }
    }
}

/// Which rollups a report reads: the daily ones, or the monthly ones for the whole months of its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    Days,
    Months,
}

impl Grain {
    /// The table of figures and its period column.
    fn figures(self) -> (&'static str, &'static str) {
        match self {
            Grain::Days => ("report_days", "day"),
            Grain::Months => ("report_months", "month"),
        }
    }
}

/// Which rollup rows a report reads: the periods `[from, to)` (days `YYYY-MM-DD`, or months `YYYY-MM`) and
/// optionally one province or one commune.
pub struct Scope {
    pub grain: Grain,
    pub from: String,
    pub to: String,
    pub province: Option<i32>,
    pub ward: Option<i32>,
}

impl Scope {
    /// The place filter, on a table whose commune column is `ward_column`; binds `$3`.
    fn place_filter(&self, ward_column: &str) -> String {
        match (self.ward, self.province) {
            (Some(_), _) => format!(" AND {ward_column} = $3"),
            (None, Some(_)) => format!(" AND {ward_column} IN (SELECT code FROM wards WHERE province_code = $3)"),
            (None, None) => " AND $3 = $3".to_owned(),
        }
    }

    pub(super) fn place(&self) -> i32 {
        self.ward.or(self.province).unwrap_or(0)
    }
}

/// The additive figures of one commune and helper on one day, or summed over a report's row.
#[derive(QueryableByName, Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    #[diesel(sql_type = BigInt)]
    pub self_enrolled: i64,
    #[diesel(sql_type = BigInt)]
    pub enrolled_by_helper: i64,
    #[diesel(sql_type = BigInt)]
    pub orders: i64,
    #[diesel(sql_type = BigInt)]
    pub goods_value_vnd: i64,
    #[diesel(sql_type = BigInt)]
    pub delivered_shipments: i64,
    #[diesel(sql_type = BigInt)]
    pub delivered_value_vnd: i64,
    #[diesel(sql_type = BigInt)]
    pub cancelled_shipments: i64,
    #[diesel(sql_type = BigInt)]
    pub rejected_shipments: i64,
    #[diesel(sql_type = BigInt)]
    pub cod_collected_vnd: i64,
    #[diesel(sql_type = BigInt)]
    pub listings_by_helpers: i64,
}

impl Figures {
    pub fn add(&mut self, other: &Figures) {
        self.self_enrolled += other.self_enrolled;
        self.enrolled_by_helper += other.enrolled_by_helper;
        self.orders += other.orders;
        self.goods_value_vnd += other.goods_value_vnd;
        self.delivered_shipments += other.delivered_shipments;
        self.delivered_value_vnd += other.delivered_value_vnd;
        self.cancelled_shipments += other.cancelled_shipments;
        self.rejected_shipments += other.rejected_shipments;
        self.cod_collected_vnd += other.cod_collected_vnd;
        self.listings_by_helpers += other.listings_by_helpers;
    }
}

/// The figures of one row key, summed over the scope.
#[derive(QueryableByName, Debug)]
pub struct Sums {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(embed)]
    pub figures: Figures,
}

pub fn sums(conn: &mut Conn<'_>, scope: &Scope, key: Key) -> Result<Vec<Sums>, AppError> {
    let columns = FIGURES.map(|column| format!("CAST(SUM({column}) AS BIGINT) AS {column}")).join(", ");
    let (table, period) = scope.grain.figures();
    let text = format!(
        "SELECT {key} AS key, {columns} FROM {table} WHERE {period} >= $1 AND {period} < $2{place} GROUP BY {key}",
        key = key.column(scope.grain),
        place = scope.place_filter("ward_code"),
    );
    scoped(conn, &text, scope)
}

/// One bucket of a duration histogram.
#[derive(QueryableByName, Debug)]
pub struct Bucket {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub measure: String,
    #[diesel(sql_type = Integer)]
    pub tenths: i32,
    #[diesel(sql_type = BigInt)]
    pub shipments: i64,
}

/// The day histograms of `scope` (days).
pub fn durations(conn: &mut Conn<'_>, scope: &Scope, key: Key) -> Result<Vec<Bucket>, AppError> {
    let text = format!(
        "SELECT {key} AS key, measure, tenths, CAST(SUM(shipments) AS BIGINT) AS shipments FROM report_durations \
         WHERE day >= $1 AND day < $2{place} GROUP BY {key}, measure, tenths",
        key = key.column(Grain::Days),
        place = scope.place_filter("ward_code"),
    );
    scoped(conn, &text, scope)
}

/// Which month histograms a report reads (see `rollups::NO_WARD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    Province,
    Ward,
    Helper,
}

/// A month histogram as stored.
#[derive(QueryableByName, Debug)]
pub struct MonthDurations {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Integer)]
    pub province_code: i32,
    #[diesel(sql_type = Integer)]
    pub ward_code: i32,
    #[diesel(sql_type = BigInt)]
    pub helper_id: i64,
    #[diesel(sql_type = Text)]
    pub measure: String,
    #[diesel(sql_type = Text)]
    pub histogram: String,
}

/// The month histograms of `scope` (months) cut as `cut`, in its province or commune.
pub fn month_durations(conn: &mut Conn<'_>, scope: &Scope, cut: Cut) -> Result<Vec<MonthDurations>, AppError> {
    let cut_filter = match cut {
        Cut::Province => format!("ward_code = {NO_WARD} AND helper_id = {NO_HELPER}"),
        Cut::Ward => format!("ward_code <> {NO_WARD} AND helper_id = {NO_HELPER}"),
        Cut::Helper => format!("ward_code = {NO_WARD} AND helper_id <> {NO_HELPER}"),
    };
    let place = match (scope.ward, scope.province) {
        (Some(_), _) => " AND ward_code = $3",
        (None, Some(_)) => " AND province_code = $3",
        (None, None) => " AND $3 = $3",
    };
    let text = format!(
        "SELECT month, province_code, ward_code, helper_id, measure, histogram FROM report_month_durations \
         WHERE month >= $1 AND month < $2 AND {cut_filter}{place}"
    );
    scoped(conn, &text, scope)
}

/// A count per row key.
#[derive(QueryableByName, Debug)]
pub struct Count {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Farmers with a shipment accepted within the scope, per commune or enrolling helper (each farmer has one
/// of each, so these add up; read from the days whatever the grain) or per month (a farmer selling in two
/// months counts in both).
pub fn active_sellers(conn: &mut Conn<'_>, scope: &Scope, key: Key) -> Result<Vec<Count>, AppError> {
    let place = scope.place_filter("u.ward_code");
    let farmer = Role::Farmer.as_str();
    let text = match key {
        Key::Ward | Key::Helper => format!(
            "SELECT CAST({column} AS TEXT) AS key, COUNT(*) AS count FROM users u WHERE u.role = '{farmer}' \
             AND EXISTS (SELECT 1 FROM report_seller_days d WHERE d.farmer_id = u.id AND d.day >= $1 AND d.day < $2)\
             {place} GROUP BY {column}",
            column = if key == Key::Ward { "u.ward_code" } else { "COALESCE(u.enrolled_by, 0)" },
        ),
        Key::Month if scope.grain == Grain::Months => format!(
            "SELECT d.month AS key, COUNT(*) AS count FROM report_seller_months d \
             JOIN users u ON u.id = d.farmer_id WHERE d.month >= $1 AND d.month < $2{place} GROUP BY d.month"
        ),
        Key::Month => format!(
            "SELECT substr(d.day, 1, 7) AS key, COUNT(DISTINCT d.farmer_id) AS count FROM report_seller_days d \
             JOIN users u ON u.id = d.farmer_id WHERE d.day >= $1 AND d.day < $2{place} GROUP BY substr(d.day, 1, 7)"
        ),
    };
    scoped(conn, &text, scope)
}

/// Live listings as of the start of `scope.to`: the last count taken before that day.
pub fn listings_live(conn: &mut Conn<'_>, scope: &Scope, key: Key) -> Result<Vec<Count>, AppError> {
    let key = if key == Key::Month { Key::Ward } else { key };
    let text = format!(
        "SELECT {key} AS key, CAST(SUM(listings) AS BIGINT) AS count FROM report_listings_live \
         WHERE day = (SELECT MAX(day) FROM report_listings_live WHERE day < $2) AND $1 = $1{place} GROUP BY {key}",
        key = key.column(Grain::Days),
        place = scope.place_filter("ward_code"),
    );
    scoped(conn, &text, scope)
}

/// Names of helpers and the team each belongs to.
pub fn helpers(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<(i64, String, Option<i64>)>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name, users::team_id))
        .load(c))?)
}

/// Names of teams.
pub fn teams(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<(i64, String)>, AppError> {
    use crate::db::schema::teams;
    Ok(with_conn!(conn, |c| teams::table.filter(teams::id.eq_any(ids)).select((teams::id, teams::name)).load(c))?)
}
