//! The impact report's rules: what each figure counts, and the report assembled from the rollups
//! (`rollups`): the monthly ones for the whole months of a period, the daily ones for the days around them.
//!
//! Where a figure belongs: a farmer's figures (enrolment, their shipments, their listings) belong to the
//! farmer's commune and to the helper who enrolled them (none when they joined alone); a listing made on a
//! farmer's behalf belongs to the helper who made it. The day of a figure is the Vietnamese day of its event:
//! enrolment, order placed (`orders`, `goods_value_vnd`), accepted (`active_sellers`, time to accept),
//! rejected or cancelled, delivered (`delivered_*`, `cod_collected_vnd`, time to deliver).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::rollups::{add_histogram, first_of_month, month_name, next_month, vietnam_day};
use super::store::{self, Bucket, Count, Cut, Figures, Grain, Key, MonthDurations, Scope, Sums};
use crate::db::{Conn, Db};
use crate::domain::status::{DurationMeasure, ReportGroup};
use crate::error::{AppError, Lang, Text};
use crate::reference::places::Places;

/// The longest period a report covers.
const MAX_PERIOD_DAYS: i64 = 3660;

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
    /// Today in Vietnam: nothing after it is counted yet, so a period reaching past it reads its month whole.
    pub today: NaiveDate,
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
    let from = date("from", request.from)?.unwrap_or(first_of_month(last));
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
    Ok(Query { from, to, group, province, ward, today })
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

    fn add_month(&mut self, durations: &MonthDurations) -> Result<(), AppError> {
        let histogram =
            if durations.measure == DurationMeasure::Accept.as_str() { &mut self.accept } else { &mut self.deliver };
        add_histogram(&durations.histogram, histogram)
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
    /// Month histograms, and how they are cut.
    month_durations: Vec<MonthDurations>,
    cut: Option<Cut>,
    sellers: Vec<Count>,
    live: Vec<Count>,
    /// For month rows: live listings at the end of each month; and the period's sellers, who do not add up
    /// over months.
    month_live: Vec<(String, i64)>,
    all_sellers: i64,
    helpers: Vec<(i64, String, Option<i64>)>,
    teams: Vec<(i64, String)>,
}

/// How a period splits over the rollups: its whole months `[first, end)` and the days around them.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    months: Option<(NaiveDate, NaiveDate)>,
    days: Vec<(NaiveDate, NaiveDate)>,
}

/// A month is whole in `[from, to)` when the period starts by its first day and ends after its last, or
/// after today (its later days hold nothing yet).
fn parts(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Parts {
    let mut first = first_of_month(from);
    if first < from {
        first = next_month(first);
    }
    let mut end = first;
    while end < to && (next_month(end) <= to || (to > today && end <= today)) {
        end = next_month(end);
    }
    if end == first {
        return Parts { months: None, days: vec![(from, to)] };
    }
    let days = [(from, first), (end, to)].into_iter().filter(|(start, stop)| start < stop).collect();
    Parts { months: Some((first, end)), days }
}

/// Which month histograms serve a report: by province, commune or helper, as its rows and its place need.
/// None: helpers within one commune, read from the days.
fn cut_of(query: &Query) -> Option<Cut> {
    match (query.group, query.ward) {
        (ReportGroup::Province | ReportGroup::Month, None) => Some(Cut::Province),
        (ReportGroup::Province | ReportGroup::Month | ReportGroup::Ward, _) => Some(Cut::Ward),
        (ReportGroup::Team | ReportGroup::Helper, None) => Some(Cut::Helper),
        (ReportGroup::Team | ReportGroup::Helper, Some(_)) => None,
    }
}

fn read(conn: &mut Conn<'_>, query: &Query) -> Result<Read, AppError> {
    let scope = |grain, from: String, to: String| Scope { grain, from, to, province: query.province, ward: query.ward };
    let whole = scope(Grain::Days, query.from.to_string(), query.to.to_string());
    let parts = parts(query.from, query.to, query.today);
    let months = parts.months.map(|(first, end)| scope(Grain::Months, month_name(first), month_name(end)));
    let days: Vec<Scope> =
        parts.days.iter().map(|(from, to)| scope(Grain::Days, from.to_string(), to.to_string())).collect();
    let key = match query.group {
        ReportGroup::Province | ReportGroup::Ward => Key::Ward,
        ReportGroup::Team | ReportGroup::Helper => Key::Helper,
        ReportGroup::Month => Key::Month,
    };
    let (mut sums, mut buckets, mut month_durations) = (Vec::new(), Vec::new(), Vec::new());
    for part in days.iter().chain(&months) {
        sums.extend(store::sums(conn, part, key)?);
    }
    let cut = cut_of(query).filter(|_| months.is_some());
    match (cut, &months) {
        (Some(cut), Some(months)) => {
            month_durations = store::month_durations(conn, months, cut)?;
            for part in &days {
                buckets.extend(store::durations(conn, part, key)?);
            }
        }
        _ => buckets = store::durations(conn, &whole, key)?,
    }
    let sellers = if key == Key::Month {
        let mut sellers = Vec::new();
        for part in days.iter().chain(&months) {
            sellers.extend(store::active_sellers(conn, part, key)?);
        }
        sellers
    } else {
        store::active_sellers(conn, &whole, key)?
    };
    let live = store::listings_live(conn, &whole, key)?;
    let (mut month_live, mut all_sellers) = (Vec::new(), sellers.iter().map(|count| count.count).sum());
    if key == Key::Month {
        all_sellers = store::active_sellers(conn, &whole, Key::Ward)?.iter().map(|count| count.count).sum();
        for month in months_of(query.from, query.to) {
            let at_end = scope(Grain::Days, whole.from.clone(), next_month(month).min(query.to).to_string());
            let count = store::listings_live(conn, &at_end, Key::Ward)?.iter().map(|count| count.count).sum();
            month_live.push((month_name(month), count));
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
            .chain(month_durations.iter().map(|durations| durations.helper_id))
            .collect();
        helpers = store::helpers(conn, &ids.into_iter().collect::<Vec<_>>())?;
        let team_ids: BTreeSet<i64> = helpers.iter().filter_map(|(_, _, team)| *team).collect();
        teams = store::teams(conn, &team_ids.into_iter().collect::<Vec<_>>())?;
    }
    Ok(Read { sums, buckets, month_durations, cut, sellers, live, month_live, all_sellers, helpers, teams })
}

/// The first day of each month the period touches.
fn months_of(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut month = first_of_month(from);
    let mut all = Vec::new();
    while month < to {
        all.push(month);
        month = next_month(month);
    }
    all
}

/// A province's row: its sort order, key and name.
fn province_row(places: &Places, code: i32) -> (i64, String, String) {
    let name = places.province(code).map(|p| p.name.clone()).unwrap_or_default();
    (i64::from(code), code.to_string(), name)
}

/// Which row a rollup key goes to, with the row's sort order and name.
fn row_of(query: &Query, key: &str, places: &Places, read: &Read, lang: Lang) -> (i64, String, String) {
    let number: i64 = key.parse().unwrap_or(0);
    let nobody = |vi: &str, en: &str| if lang == Lang::En { en.to_owned() } else { vi.to_owned() };
    let helper = |id: i64| read.helpers.iter().find(|(helper, ..)| *helper == id);
    match query.group {
        ReportGroup::Province => {
            let ward = i32::try_from(number).ok().and_then(|code| places.ward(code));
            province_row(places, ward.map_or(0, |ward| ward.province_code))
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
        let row = row_of(self.query, key, self.places, self.read, self.lang);
        self.tally_of(row)
    }

    fn tally_of(&mut self, (order, key, name): (i64, String, String)) -> &mut Tally {
        &mut self.rows.entry((order, key)).or_insert_with(|| (name, Tally::default())).1
    }

    /// The row a month histogram goes to.
    fn month_tally(&mut self, durations: &MonthDurations, cut: Cut) -> &mut Tally {
        if self.query.group == ReportGroup::Month {
            return self.tally(&durations.month);
        }
        match cut {
            Cut::Province => self.tally_of(province_row(self.places, durations.province_code)),
            Cut::Ward => self.tally(&durations.ward_code.to_string()),
            Cut::Helper => self.tally(&durations.helper_id.to_string()),
        }
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
    if let Some(cut) = read.cut {
        for durations in &read.month_durations {
            rows.month_tally(durations, cut).add_month(durations)?;
            total.add_month(durations)?;
        }
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
    fn a_period_reads_its_whole_months_and_the_days_around_them() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
        let today = day("2026-12-04");
        let year = parts(day("2025-12-04"), day("2026-12-05"), today);
        assert_eq!(year.months, Some((day("2026-01-01"), day("2027-01-01"))));
        assert_eq!(year.days, vec![(day("2025-12-04"), day("2026-01-01"))]);
        let closed = parts(day("2026-01-01"), day("2026-03-15"), today);
        assert_eq!(closed.months, Some((day("2026-01-01"), day("2026-03-01"))));
        assert_eq!(closed.days, vec![(day("2026-03-01"), day("2026-03-15"))]);
        let inside = parts(day("2026-03-02"), day("2026-03-30"), today);
        assert_eq!(inside, Parts { months: None, days: vec![(day("2026-03-02"), day("2026-03-30"))] });
        let this_month = parts(day("2026-12-01"), day("2026-12-03"), today);
        assert_eq!(this_month.months, None);
    }
}
