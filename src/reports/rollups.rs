//! The rollups behind the impact report, kept current off the write path by a background step (so orders are
//! never slowed by counters): per Vietnamese day, commune and enrolling helper, and per month re-summed from
//! the days, with duration histograms per month cut by province, commune and helper.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use super::store::{self, Accepted, Delivered, Figures, Grain, MonthBucket, Place, Scope};
use crate::clock::{VIETNAM_UTC_OFFSET_HOURS, in_vietnam};
use crate::db::{Conn, Db};
use crate::domain::status::{DurationMeasure, ShipmentStatus};
use crate::error::AppError;

/// Rows changed this long before the last run are looked at again: a transaction stamps its rows with the
/// time it started, and may commit after a run that began later.
const MARGIN_MINUTES: i64 = 10;

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
/// time), re-sums the months of those days, then counts today's live listings. Returns how many days were aggregated.
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
    let months: BTreeSet<NaiveDate> = days.iter().map(|&day| first_of_month(day)).collect();
    for month in months {
        let (name, first, next) = (month_name(month), month.to_string(), next_month(month).to_string());
        // Read and written under the one lock: a month summed from days another instance is replacing would
        // stay wrong until one of its days changes again.
        db.write(move |conn| {
            store::lock_rollups(conn)?;
            store::resum_month(conn, &name, &first, &next)?;
            let days = Scope { grain: Grain::Days, from: first, to: next, province: None, ward: None };
            let histograms = month_histograms(&store::buckets_of_days(conn, &days)?);
            store::replace_month_durations(conn, &name, &histograms)
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

/// The first day of the month of `day`.
pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The first day of the month after the month starting on `month`.
pub fn next_month(month: NaiveDate) -> NaiveDate {
    month.checked_add_months(chrono::Months::new(1)).map_or(NaiveDate::MAX, first_of_month)
}

/// A month as the rollups name it, `YYYY-MM`.
pub fn month_name(month: NaiveDate) -> String {
    month.format("%Y-%m").to_string()
}

/// Where a month histogram counts: the province cut has no commune (0) and no helper (-1), the commune cut
/// no helper, the helper cut no commune.
pub const NO_WARD: i32 = 0;
pub const NO_HELPER: i64 = -1;

/// One month histogram row: province, commune, helper, measure and its "tenths:shipments" pairs.
pub type MonthHistogram = (i32, i32, i64, &'static str, String);

/// Cuts a month's day buckets three ways (per province, per commune, per helper within a province), each
/// histogram written whole in one row.
pub fn month_histograms(buckets: &[MonthBucket]) -> Vec<MonthHistogram> {
    let mut cuts: BTreeMap<(i32, i32, i64, &'static str), BTreeMap<i32, i64>> = BTreeMap::new();
    for bucket in buckets {
        let Some(measure) = DurationMeasure::parse(&bucket.measure) else { continue };
        let province = bucket.province_code;
        for place in [
            (province, NO_WARD, NO_HELPER),
            (province, bucket.ward_code, NO_HELPER),
            (province, NO_WARD, bucket.helper_id),
        ] {
            *cuts
                .entry((place.0, place.1, place.2, measure.as_str()))
                .or_default()
                .entry(bucket.tenths)
                .or_default() += bucket.shipments;
        }
    }
    cuts.into_iter()
        .map(|((province, ward, helper, measure), histogram)| {
            (province, ward, helper, measure, encode_histogram(&histogram))
        })
        .collect()
}

/// A histogram as stored: `tenths:shipments` pairs, comma-separated, in order of tenths.
pub fn encode_histogram(histogram: &BTreeMap<i32, i64>) -> String {
    histogram.iter().map(|(tenths, shipments)| format!("{tenths}:{shipments}")).collect::<Vec<_>>().join(",")
}

/// Reads a stored histogram back, adding its buckets to `into`.
pub fn add_histogram(text: &str, into: &mut BTreeMap<i32, i64>) -> Result<(), AppError> {
    for pair in text.split(',').filter(|pair| !pair.is_empty()) {
        let parsed =
            pair.split_once(':').and_then(|(tenths, shipments)| Some((tenths.parse().ok()?, shipments.parse().ok()?)));
        let (tenths, shipments): (i32, i64) =
            parsed.ok_or_else(|| AppError::internal(anyhow::anyhow!("unreadable histogram bucket {pair:?}")))?;
        *into.entry(tenths).or_default() += shipments;
    }
    Ok(())
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

    #[test]
    fn a_month_is_cut_by_province_commune_and_helper_and_its_histograms_read_back() {
        let bucket = |ward_code, helper_id, tenths, shipments| MonthBucket {
            province_code: 1,
            ward_code,
            helper_id,
            measure: "accept".to_owned(),
            tenths,
            shipments,
        };
        let histograms = month_histograms(&[bucket(10, 0, 5, 2), bucket(11, 7, 5, 1), bucket(11, 0, 30, 4)]);
        let find = |ward, helper| {
            histograms.iter().find(|h| (h.1, h.2) == (ward, helper)).map(|h| h.4.clone()).expect("a cut")
        };
        assert_eq!(find(NO_WARD, NO_HELPER), "5:3,30:4");
        assert_eq!(find(11, NO_HELPER), "5:1,30:4");
        assert_eq!(find(NO_WARD, 0), "5:2,30:4");
        assert_eq!(find(NO_WARD, 7), "5:1");
        assert_eq!(histograms.len(), 5);
        let mut read = BTreeMap::new();
        add_histogram(&find(NO_WARD, NO_HELPER), &mut read).expect("readable");
        add_histogram("5:1", &mut read).expect("readable");
        assert_eq!(read, BTreeMap::from([(5, 4), (30, 4)]));
        assert!(add_histogram("5:x", &mut read).is_err());
    }

    #[test]
    fn months_run_from_their_first_day_to_the_next_first_day() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        assert_eq!(first_of_month(day), NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"));
        assert_eq!(next_month(first_of_month(day)), NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"));
        assert_eq!(month_name(day), "2026-12");
    }
}
