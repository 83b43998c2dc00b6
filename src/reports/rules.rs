//! The impact report's rules: what each figure counts, the per-day rollups a background step keeps current
//! (so orders are never slowed by counters), and the report assembled from them.
//!
//! Where a figure belongs: a farmer's figures (enrolment, their shipments, their listings) belong to the
//! farmer's commune and to the helper who enrolled them (none when they joined alone); a listing made on a
//! farmer's behalf belongs to the helper who made it. The day of a figure is the Vietnamese day of its event:
//! enrolment, order placed (`orders`, `goods_value_vnd`), accepted (`active_sellers`, time to accept),
//! rejected or cancelled, delivered (`delivered_*`, `cod_collected_vnd`, time to deliver).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, Accepted, Bucket, Count, Delivered, Figures, Key, Place, Scope, Sums};
use crate::clock::{VIETNAM_UTC_OFFSET_HOURS, in_vietnam};
use crate::db::{Conn, Db};
use crate::domain::status::{DurationMeasure, ReportGroup, ShipmentStatus};
use crate::error::{AppError, Lang, Text};
use crate::reference::places::Places;

/// Rows changed this long before the last run are looked at again: a transaction stamps its rows with the
/// time it started, and may commit after a run that began later.
const MARGIN_MINUTES: i64 = 10;

/// The longest period a report covers.
const MAX_PERIOD_DAYS: i64 = 3660;

/// The UTC instants of one Vietnamese day.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

impl Window {
    pub fn of(day: NaiveDate) -> Window {
        let start = day.and_time(chrono::NaiveTime::MIN) - Duration::hours(VIETNAM_UTC_OFFSET_HOURS);
        Window { start, end: start + Duration::days(1) }
    }
}

/// The Vietnamese day of a UTC instant.
pub fn vietnam_day(at: NaiveDateTime) -> NaiveDate {
    in_vietnam(at).date()
}

/// What happened on one day, as the store reads it.
#[derive(Default)]
pub struct DayEvents {
    pub enrolments: Vec<Place>,
    pub placed: Vec<(Place, i64)>,
    pub accepted: Vec<Accepted>,
    pub withdrawn: Vec<(Place, ShipmentStatus)>,
    pub delivered: Vec<Delivered>,
    pub listings_by_helpers: Vec<(Option<i32>, i64)>,
}

/// The rollups of one day: figures and duration histograms per commune and helper, and who sold.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DayRollup {
    pub figures: BTreeMap<(i32, i64), Figures>,
    pub durations: HashMap<(i32, i64, DurationMeasure, i32), i64>,
    pub sellers: BTreeSet<i64>,
}

/// A duration in tenths of an hour (6-minute buckets), rounded to the nearest, half up; never negative.
pub fn tenths_of_hour(from: NaiveDateTime, to: NaiveDateTime) -> i32 {
    let seconds = (to - from).num_seconds().max(0);
    i32::try_from((seconds + 180) / 360).unwrap_or(i32::MAX)
}

/// Aggregates one day's events. Farmers without a commune (erased) are left out.
pub fn aggregate(events: &DayEvents) -> DayRollup {
    let mut rollup = DayRollup::default();
    let mut add = |(ward, helper): Place, change: &dyn Fn(&mut Figures)| {
        if let Some(ward) = ward {
            change(rollup.figures.entry((ward, helper.unwrap_or(0))).or_default());
        }
    };
    for &place in &events.enrolments {
        if place.1.is_some() {
            add(place, &|f| f.enrolled_by_helper += 1);
        } else {
            add(place, &|f| f.self_enrolled += 1);
        }
    }
    for &(place, value) in &events.placed {
        add(place, &|f| {
            f.orders += 1;
            f.goods_value_vnd += value;
        });
    }
    for &(place, status) in &events.withdrawn {
        match status {
            ShipmentStatus::Rejected => add(place, &|f| f.rejected_shipments += 1),
            ShipmentStatus::Cancelled => add(place, &|f| f.cancelled_shipments += 1),
            ShipmentStatus::Pending | ShipmentStatus::Accepted => {}
        }
    }
    for &(place, value, cod, _, _) in &events.delivered {
        add(place, &|f| {
            f.delivered_shipments += 1;
            f.delivered_value_vnd += value;
            f.cod_collected_vnd += cod.unwrap_or(0);
        });
    }
    for &(ward, helper) in &events.listings_by_helpers {
        add((ward, Some(helper)), &|f| f.listings_by_helpers += 1);
    }
    let mut time = |(ward, helper): Place, measure: DurationMeasure, from: NaiveDateTime, to: NaiveDateTime| {
        if let Some(ward) = ward {
            *rollup.durations.entry((ward, helper.unwrap_or(0), measure, tenths_of_hour(from, to))).or_default() += 1;
        }
    };
    for &(place, _, placed, accepted) in &events.accepted {
        if let Some(accepted) = accepted {
            time(place, DurationMeasure::Accept, placed, accepted);
        }
    }
    for &(place, _, _, placed, delivered) in &events.delivered {
        if let Some(delivered) = delivered {
            time(place, DurationMeasure::Deliver, placed, delivered);
        }
    }
    rollup.sellers =
        events.accepted.iter().filter(|(place, ..)| place.0.is_some()).map(|&(_, farmer, ..)| farmer).collect();
    rollup
}

fn day_events(conn: &mut Conn<'_>, window: Window) -> Result<DayEvents, AppError> {
    Ok(DayEvents {
        enrolments: store::enrolments(conn, window)?,
        placed: store::placed(conn, window)?,
        accepted: store::accepted(conn, window)?,
        withdrawn: store::withdrawn(conn, window)?,
        delivered: store::delivered(conn, window)?,
        listings_by_helpers: store::listings_by_helpers(conn, window)?,
    })
}

/// Brings the rollups current: aggregates again every day touched since the last run (every day, the first
/// time), then counts today's live listings. Returns how many days were aggregated.
pub async fn run_rollups(db: &Db, now: NaiveDateTime) -> Result<usize, AppError> {
    let today = vietnam_day(now);
    let days: BTreeSet<NaiveDate> = db
        .read(move |conn| {
            Ok(match store::watermark(conn)? {
                Some(mark) => {
                    let since = mark - Duration::minutes(MARGIN_MINUTES);
                    store::touched_times(conn, since)?.into_iter().map(vietnam_day).collect()
                }
                None => store::first_event(conn)?
                    .map(|first| vietnam_day(first).iter_days().take_while(|day| *day <= today).collect())
                    .unwrap_or_default(),
            })
        })
        .await?;
    for &day in &days {
        db.write(move |conn| {
            store::lock_rollups(conn)?;
            let rollup = aggregate(&day_events(conn, Window::of(day))?);
            store::replace_day(conn, &day.to_string(), &rollup)
        })
        .await?;
    }
    db.write(move |conn| {
        store::lock_rollups(conn)?;
        let counts: Vec<(i32, i64, i64)> = store::live_listings(conn)?
            .into_iter()
            .filter_map(|((ward, helper), count)| Some((ward?, helper.unwrap_or(0), count)))
            .collect();
        store::replace_live_listings(conn, &today.to_string(), &counts)?;
        store::set_watermark(conn, now)
    })
    .await?;
    Ok(days.len())
}

/// The report's parameters, as received.
#[derive(Debug, Default)]
pub struct Request<'a> {
    pub province: Option<&'a str>,
    pub ward: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub group: Option<&'a str>,
}

/// The report's parameters, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group: ReportGroup,
    pub province: Option<i32>,
    pub ward: Option<i32>,
}

fn invalid(field: &str, code: &'static str, vi: String, en: String) -> AppError {
    AppError::invalid_field(field, code, Text::new(vi, en))
}

fn date(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    let Some(text) = text.filter(|text| !text.is_empty()) else { return Ok(None) };
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|_| text.len() == 10);
    parsed.map(Some).ok_or_else(|| {
        let vi = format!("`{field}` là một ngày dạng NĂM-THÁNG-NGÀY, ví dụ 2026-01-31.");
        let en = format!("`{field}` is a date as YEAR-MONTH-DAY, e.g. 2026-01-31.");
        invalid(field, "invalid_date", vi, en)
    })
}

fn code(field: &str, text: Option<&str>) -> Result<Option<i32>, AppError> {
    let Some(text) = text.filter(|text| !text.is_empty()) else { return Ok(None) };
    text.parse().map(Some).map_err(|_| {
        invalid(field, "invalid_code", format!("`{field}` là một mã số."), format!("`{field}` is a numeric code."))
    })
}

/// Checks the parameters. Without dates the period is the current month up to today (Vietnam time).
pub fn check(request: &Request<'_>, places: &Places, now: NaiveDateTime) -> Result<Query, AppError> {
    let today = vietnam_day(now);
    let to = date("to", request.to)?.unwrap_or(today + Duration::days(1));
    let last = to.pred_opt().unwrap_or(to);
    let from = date("from", request.from)?.unwrap_or(last.with_day(1).unwrap_or(last));
    if from >= to {
        let (vi, en) = ("`from` phải trước `to`.".to_owned(), "`from` must be before `to`.".to_owned());
        return Err(invalid("from", "empty_period", vi, en));
    }
    if (to - from).num_days() > MAX_PERIOD_DAYS {
        let vi = format!("Một báo cáo dài tối đa {MAX_PERIOD_DAYS} ngày.");
        let en = format!("A report covers at most {MAX_PERIOD_DAYS} days.");
        return Err(invalid("to", "period_too_long", vi, en));
    }
    let group = match request.group.filter(|text| !text.is_empty()) {
        None => ReportGroup::Province,
        Some(text) => ReportGroup::parse(text).ok_or_else(|| {
            let vi = "`group` là `province`, `ward`, `month`, `team` hoặc `helper`.".to_owned();
            let en = "`group` is `province`, `ward`, `month`, `team` or `helper`.".to_owned();
            invalid("group", "unknown_group", vi, en)
        })?,
    };
    let province = code("province", request.province)?;
    if let Some(code) = province.filter(|code| places.province(*code).is_none()) {
        let (vi, en) = (format!("Không có tỉnh mã {code}."), format!("There is no province with code {code}."));
        return Err(invalid("province", "unknown_province", vi, en));
    }
    let ward = code("ward", request.ward)?;
    if let Some(code) = ward {
        let found = places.ward(code).ok_or_else(|| {
            let (vi, en) = (format!("Không có xã/phường mã {code}."), format!("There is no commune with code {code}."));
            invalid("ward", "unknown_ward", vi, en)
        })?;
        if province.is_some_and(|province| province != found.province_code) {
            let vi = format!("Xã/phường mã {code} không thuộc tỉnh đã chọn.");
            let en = format!("The commune with code {code} is not in the chosen province.");
            return Err(invalid("ward", "ward_not_in_province", vi, en));
        }
    }
    Ok(Query { from, to, group, province, ward })
}

/// One row of the impact report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct ImpactRow {
    /// The province or commune code, the month (`YYYY-MM`), the team or helper id (`0`: farmers who joined
    /// alone, no team); `total` on the total row.
    pub key: String,
    pub name: String,
    /// Farmers who joined in the period: `self_enrolled` + `enrolled_by_helper`.
    pub households_enrolled: i64,
    pub self_enrolled: i64,
    pub enrolled_by_helper: i64,
    /// Farmers with at least one shipment accepted in the period.
    pub active_sellers: i64,
    /// Listings live (active, with stock) at the end of the period (for a month row: of that month).
    pub listings_live: i64,
    /// Listings a helper made on a farmer's behalf in the period.
    pub listings_by_helpers: i64,
    /// Farmers' parts of orders (shipments) placed in the period: an order from two farmers counts twice.
    pub orders: i64,
    /// Value of the goods of those shipments (shipping fees left out).
    pub goods_value_vnd: i64,
    pub delivered_shipments: i64,
    pub delivered_value_vnd: i64,
    /// Shipments cancelled in the period: by the buyer, unpaid, or not answered in time.
    pub cancelled_shipments: i64,
    pub rejected_shipments: i64,
    /// Cash collected on delivery by the carriers, for the shipments delivered in the period.
    pub cod_collected_vnd: i64,
    /// Median hours from order to the farmer's acceptance, for shipments accepted in the period; each
    /// duration is first rounded to a tenth of an hour (the rollups keep 6-minute buckets). `null`: none.
    pub median_hours_to_accept: Option<f64>,
    /// Median hours from order to delivery, for shipments delivered in the period; rounded the same way.
    pub median_hours_to_deliver: Option<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ImpactReport {
    /// First day of the period (Vietnam time).
    pub from: NaiveDate,
    /// Day after the last day of the period.
    pub to: NaiveDate,
    pub group: ReportGroup,
    pub province: Option<i32>,
    pub ward: Option<i32>,
    pub rows: Vec<ImpactRow>,
    pub total: ImpactRow,
}

/// The median of a histogram of tenths of an hour, in hours: the middle value, or the mean of the two
/// middle values rounded half up to a tenth.
pub fn median_hours(histogram: &BTreeMap<i32, i64>) -> Option<f64> {
    let count: i64 = histogram.values().sum();
    if count == 0 {
        return None;
    }
    let nth = |position: i64| {
        let mut seen = 0;
        histogram.iter().find_map(|(&tenths, &n)| {
            seen += n;
            (seen > position).then_some(i64::from(tenths))
        })
    };
    let (low, high) = (nth((count - 1) / 2)?, nth(count / 2)?);
    // Tenths are whole numbers far below 2^52: the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    Some(((low + high + 1) / 2) as f64 / 10.0)
}

/// A row being summed up, before its medians are taken.
#[derive(Default)]
struct Tally {
    sums: Figures,
    active_sellers: i64,
    listings_live: i64,
    accept: BTreeMap<i32, i64>,
    deliver: BTreeMap<i32, i64>,
}

impl Tally {
    fn add_bucket(&mut self, bucket: &Bucket) {
        let histogram =
            if bucket.measure == DurationMeasure::Accept.as_str() { &mut self.accept } else { &mut self.deliver };
        *histogram.entry(bucket.tenths).or_default() += bucket.shipments;
    }

    fn row(&self, key: String, name: String) -> ImpactRow {
        let s = &self.sums;
        ImpactRow {
            key,
            name,
            households_enrolled: s.self_enrolled + s.enrolled_by_helper,
            self_enrolled: s.self_enrolled,
            enrolled_by_helper: s.enrolled_by_helper,
            active_sellers: self.active_sellers,
            listings_live: self.listings_live,
            listings_by_helpers: s.listings_by_helpers,
            orders: s.orders,
            goods_value_vnd: s.goods_value_vnd,
            delivered_shipments: s.delivered_shipments,
            delivered_value_vnd: s.delivered_value_vnd,
            cancelled_shipments: s.cancelled_shipments,
            rejected_shipments: s.rejected_shipments,
            cod_collected_vnd: s.cod_collected_vnd,
            median_hours_to_accept: median_hours(&self.accept),
            median_hours_to_deliver: median_hours(&self.deliver),
        }
    }
}

/// What the rollups said, keyed as they are stored (commune, helper or month).
struct Read {
    sums: Vec<Sums>,
    buckets: Vec<Bucket>,
    sellers: Vec<Count>,
    live: Vec<Count>,
    /// For month rows: live listings at the end of each month; and the period's sellers, who do not add up
    /// over months.
    month_live: Vec<(String, i64)>,
    all_sellers: i64,
    helpers: Vec<(i64, String, Option<i64>)>,
    teams: Vec<(i64, String)>,
}

fn read(conn: &mut Conn<'_>, query: &Query) -> Result<Read, AppError> {
    let scope =
        Scope { from: query.from.to_string(), to: query.to.to_string(), province: query.province, ward: query.ward };
    let key = match query.group {
        ReportGroup::Province | ReportGroup::Ward => Key::Ward,
        ReportGroup::Team | ReportGroup::Helper => Key::Helper,
        ReportGroup::Month => Key::Month,
    };
    let sums = store::sums(conn, &scope, key)?;
    let buckets = store::durations(conn, &scope, key)?;
    let sellers = store::active_sellers(conn, &scope, key)?;
    let live = store::listings_live(conn, &scope, key)?;
    let (mut month_live, mut all_sellers) = (Vec::new(), sellers.iter().map(|count| count.count).sum());
    if key == Key::Month {
        all_sellers = store::active_sellers(conn, &scope, Key::Ward)?.iter().map(|count| count.count).sum();
        for month in months(query.from, query.to) {
            let end = next_month(month).min(query.to).to_string();
            let at_end = Scope { to: end, from: scope.from.clone(), ..scope };
            let count = store::listings_live(conn, &at_end, Key::Ward)?.iter().map(|count| count.count).sum();
            month_live.push((month.format("%Y-%m").to_string(), count));
        }
    }
    let (mut helpers, mut teams) = (Vec::new(), Vec::new());
    if key == Key::Helper {
        let ids: BTreeSet<i64> = sums
            .iter()
            .map(|s| &s.key)
            .chain(sellers.iter().map(|c| &c.key))
            .chain(live.iter().map(|c| &c.key))
            .filter_map(|key| key.parse().ok())
            .collect();
        helpers = store::helpers(conn, &ids.into_iter().collect::<Vec<_>>())?;
        let team_ids: BTreeSet<i64> = helpers.iter().filter_map(|(_, _, team)| *team).collect();
        teams = store::teams(conn, &team_ids.into_iter().collect::<Vec<_>>())?;
    }
    Ok(Read { sums, buckets, sellers, live, month_live, all_sellers, helpers, teams })
}

/// The first day of each month the period touches.
fn months(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut month = from.with_day(1).unwrap_or(from);
    let mut all = Vec::new();
    while month < to {
        all.push(month);
        month = next_month(month);
    }
    all
}

fn next_month(month: NaiveDate) -> NaiveDate {
    month.checked_add_months(chrono::Months::new(1)).unwrap_or(NaiveDate::MAX).with_day(1).unwrap_or(NaiveDate::MAX)
}

/// Which row a rollup key goes to, with the row's sort order and name.
fn row_of(query: &Query, key: &str, places: &Places, read: &Read, lang: Lang) -> (i64, String, String) {
    let number: i64 = key.parse().unwrap_or(0);
    let nobody = |vi: &str, en: &str| if lang == Lang::En { en.to_owned() } else { vi.to_owned() };
    let helper = |id: i64| read.helpers.iter().find(|(helper, ..)| *helper == id);
    match query.group {
        ReportGroup::Province => {
            let code =
                i32::try_from(number).ok().and_then(|code| places.ward(code)).map_or(0, |ward| ward.province_code);
            let name = places.province(code).map(|p| p.name.clone()).unwrap_or_default();
            (i64::from(code), code.to_string(), name)
        }
        ReportGroup::Ward => {
            let ward = i32::try_from(number).ok().and_then(|code| places.ward(code));
            let name = ward.map(|w| {
                format!("{}, {}", w.name, places.province(w.province_code).map(|p| p.name.as_str()).unwrap_or_default())
            });
            (number, key.to_owned(), name.unwrap_or_default())
        }
        ReportGroup::Month => (0, key.to_owned(), key.to_owned()),
        ReportGroup::Helper => match helper(number) {
            Some((id, name, _)) => (*id, id.to_string(), name.clone()),
            None => (0, "0".to_owned(), nobody("Không qua người hỗ trợ", "No helper")),
        },
        ReportGroup::Team => match helper(number).and_then(|(_, _, team)| *team) {
            Some(team) => {
                let name = read.teams.iter().find(|(id, _)| *id == team).map(|(_, name)| name.clone());
                (team, team.to_string(), name.unwrap_or_default())
            }
            None => (0, "0".to_owned(), nobody("Không thuộc nhóm nào", "No team")),
        },
    }
}

/// The rows of a report being summed up, by sort order and key.
struct Rows<'a> {
    query: &'a Query,
    places: &'a Places,
    read: &'a Read,
    lang: Lang,
    rows: BTreeMap<(i64, String), (String, Tally)>,
}

impl Rows<'_> {
    fn tally(&mut self, key: &str) -> &mut Tally {
        let (order, key, name) = row_of(self.query, key, self.places, self.read, self.lang);
        &mut self.rows.entry((order, key)).or_insert_with(|| (name, Tally::default())).1
    }
}

/// The report asked for by `request`, once its parameters are checked.
pub async fn checked_report(
    db: &Db,
    places: &Places,
    request: &Request<'_>,
    now: NaiveDateTime,
    lang: Lang,
) -> Result<ImpactReport, AppError> {
    let query = check(request, places, now)?;
    impact_report(db, places, query, lang).await
}

/// The impact report of `query`, from the rollups.
pub async fn impact_report(db: &Db, places: &Places, query: Query, lang: Lang) -> Result<ImpactReport, AppError> {
    let read = {
        let query = query.clone();
        db.read(move |conn| read(conn, &query)).await?
    };
    let mut rows = Rows { query: &query, places, read: &read, lang, rows: BTreeMap::new() };
    let mut total = Tally::default();
    for sums in &read.sums {
        rows.tally(&sums.key).sums.add(&sums.figures);
        total.sums.add(&sums.figures);
    }
    for bucket in &read.buckets {
        rows.tally(&bucket.key).add_bucket(bucket);
        total.add_bucket(bucket);
    }
    for count in &read.sellers {
        rows.tally(&count.key).active_sellers += count.count;
    }
    if query.group == ReportGroup::Month {
        for (month, count) in read.month_live.iter().filter(|(_, count)| *count > 0) {
            rows.tally(month).listings_live += count;
        }
    } else {
        for count in &read.live {
            rows.tally(&count.key).listings_live += count.count;
        }
    }
    let rows = rows.rows;
    total.active_sellers = read.all_sellers;
    total.listings_live = read.live.iter().map(|count| count.count).sum();
    let rows = rows.into_iter().map(|((_, key), (name, tally))| tally.row(key, name)).collect();
    let total_name = if lang == Lang::En { "Total" } else { "Tổng cộng" };
    Ok(ImpactReport {
        from: query.from,
        to: query.to,
        group: query.group,
        province: query.province,
        ward: query.ward,
        rows,
        total: total.row("total".to_owned(), total_name.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("time")
    }

    #[test]
    fn durations_round_to_the_nearest_tenth_of_an_hour() {
        let start = at("2026-12-01 00:00:00");
        assert_eq!(tenths_of_hour(start, at("2026-12-01 00:02:59")), 0);
        assert_eq!(tenths_of_hour(start, at("2026-12-01 00:03:00")), 1);
        assert_eq!(tenths_of_hour(start, at("2026-12-01 02:30:00")), 25);
        assert_eq!(tenths_of_hour(at("2026-12-01 01:00:00"), start), 0);
    }

    #[test]
    fn a_median_is_the_middle_or_the_mean_of_the_two_middles() {
        let histogram = |pairs: &[(i32, i64)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
        assert_eq!(median_hours(&histogram(&[])), None);
        assert_eq!(median_hours(&histogram(&[(25, 1)])), Some(2.5));
        assert_eq!(median_hours(&histogram(&[(10, 2), (30, 1)])), Some(1.0));
        assert_eq!(median_hours(&histogram(&[(10, 1), (31, 1)])), Some(2.1));
        assert_eq!(median_hours(&histogram(&[(10, 1), (20, 1), (30, 1), (300, 1)])), Some(2.5));
    }

    #[test]
    fn a_vietnamese_day_starts_at_17_utc_the_day_before() {
        let window = Window::of(NaiveDate::from_ymd_opt(2026, 12, 3).expect("date"));
        assert_eq!(window.start, at("2026-12-02 17:00:00"));
        assert_eq!(window.end, at("2026-12-03 17:00:00"));
        assert_eq!(vietnam_day(at("2026-12-02 17:00:00")), NaiveDate::from_ymd_opt(2026, 12, 3).expect("date"));
    }

    #[test]
    fn a_day_aggregates_by_commune_and_enrolling_helper() {
        let placed = at("2026-12-01 01:00:00");
        let events = DayEvents {
            enrolments: vec![(Some(1), None), (Some(1), Some(7)), (None, None)],
            placed: vec![((Some(1), Some(7)), 50_000), ((Some(1), Some(7)), 20_000)],
            accepted: vec![((Some(1), Some(7)), 42, placed, Some(at("2026-12-01 03:30:00")))],
            withdrawn: vec![((Some(1), None), ShipmentStatus::Rejected), ((Some(1), None), ShipmentStatus::Cancelled)],
            delivered: vec![((Some(1), Some(7)), 50_000, Some(65_000), placed, Some(at("2026-12-02 01:00:00")))],
            listings_by_helpers: vec![(Some(1), 9)],
        };
        let rollup = aggregate(&events);
        let by_helper = &rollup.figures[&(1, 7)];
        assert_eq!((by_helper.enrolled_by_helper, by_helper.orders, by_helper.goods_value_vnd), (1, 2, 70_000));
        assert_eq!((by_helper.delivered_value_vnd, by_helper.cod_collected_vnd), (50_000, 65_000));
        let alone = &rollup.figures[&(1, 0)];
        assert_eq!((alone.self_enrolled, alone.rejected_shipments, alone.cancelled_shipments), (1, 1, 1));
        assert_eq!(rollup.figures[&(1, 9)].listings_by_helpers, 1);
        assert_eq!(rollup.durations[&(1, 7, DurationMeasure::Accept, 25)], 1);
        assert_eq!(rollup.durations[&(1, 7, DurationMeasure::Deliver, 240)], 1);
        assert_eq!(rollup.sellers, BTreeSet::from([42]));
    }
}
