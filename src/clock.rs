//! The one clock of the service. Handlers and background loops ask it for the time and hand that to the
//! rules, which take `now` as a parameter; a test moves it forward to see a deadline pass without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::error::{AppError, Text};

/// Vietnam keeps UTC+7 all year.
pub const VIETNAM_UTC_OFFSET_HOURS: i64 = 7;

/// A UTC instant as a clock in Vietnam shows it.
pub fn in_vietnam(at: NaiveDateTime) -> NaiveDateTime {
    at + Duration::hours(VIETNAM_UTC_OFFSET_HOURS)
}

/// A UTC instant as a person in Vietnam reads it: `14:30 03/12/2026`.
pub fn vietnam_time(at: NaiveDateTime) -> String {
    in_vietnam(at).format("%H:%M %d/%m/%Y").to_string()
}

/// Quiet hours in Vietnam: reminders and digests are not sent from 21:00 to 07:00.
const QUIET_FROM_HOUR: u32 = 21;
const QUIET_UNTIL_HOUR: u32 = 7;

/// `at`, or the end of the quiet hours (07:00 Vietnam time) when `at` falls inside them; in UTC.
pub fn after_quiet_hours(at: NaiveDateTime) -> NaiveDateTime {
    let local = in_vietnam(at);
    let hour = chrono::Timelike::hour(&local);
    let morning = |date: chrono::NaiveDate| {
        date.and_hms_opt(QUIET_UNTIL_HOUR, 0, 0).map_or(at, |m| m - Duration::hours(VIETNAM_UTC_OFFSET_HOURS))
    };
    if hour >= QUIET_FROM_HOUR {
        local.date().succ_opt().map_or(at, morning)
    } else if hour < QUIET_UNTIL_HOUR {
        morning(local.date())
    } else {
        at
    }
}

/// The hour (Vietnam time) at which each day's digest of what helpers did closes: the end of the working day,
/// before the quiet hours.
const DIGEST_HOUR: u32 = 18;

/// The latest close of a daily digest at or before `at` (18:00 Vietnam time, today or yesterday); in UTC.
pub fn digest_cutoff(at: NaiveDateTime) -> NaiveDateTime {
    let local = in_vietnam(at);
    let close = |date: chrono::NaiveDate| {
        date.and_hms_opt(DIGEST_HOUR, 0, 0).map_or(at, |c| c - Duration::hours(VIETNAM_UTC_OFFSET_HOURS))
    };
    let today = close(local.date());
    if today <= at { today } else { local.date().pred_opt().map_or(at, close) }
}

/// Whole days of the Vietnamese calendar, as a look-up filters by them: from the start of `from` to the end of
/// `to` (both included), in UTC; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VietnamDays {
    /// At or after this instant.
    pub since: Option<NaiveDateTime>,
    /// Before this instant.
    pub until: Option<NaiveDateTime>,
}

impl VietnamDays {
    /// The days from `from` to `to`; a 422 on `to` when it comes before `from`.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<VietnamDays, AppError> {
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(AppError::invalid_field(
                "to",
                "period_reversed",
                Text::new("Ngày `to` phải từ ngày `from` trở đi.", "`to` must not be before `from`."),
            ));
        }
        let start = |date: NaiveDate| date.and_time(NaiveTime::MIN) - Duration::hours(VIETNAM_UTC_OFFSET_HOURS);
        Ok(VietnamDays { since: from.map(start), until: to.and_then(|to| to.succ_opt()).map(start) })
    }
}

/// UTC wall-clock time, shifted by an offset that only tests change. Cheap to clone; clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    /// Now, in UTC (the database keeps UTC timestamps without a zone).
    pub fn now(&self) -> NaiveDateTime {
        Utc::now().naive_utc() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward, for tests of deadlines.
    pub fn advance(&self, by: Duration) {
        self.offset_seconds.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time")
    }

    #[test]
    fn quiet_hours_run_from_21_to_07_vietnam_time() {
        // 23:00 in Vietnam is 16:00 UTC; 07:00 the next morning is 00:00 UTC.
        assert_eq!(after_quiet_hours(utc("2026-12-03 16:00")), utc("2026-12-04 00:00"));
        // 05:30 in Vietnam (22:30 UTC the day before) waits until 07:00 the same Vietnamese day.
        assert_eq!(after_quiet_hours(utc("2026-12-03 22:30")), utc("2026-12-04 00:00"));
        // 20:59 and 07:00 in Vietnam are daytime.
        assert_eq!(after_quiet_hours(utc("2026-12-03 13:59")), utc("2026-12-03 13:59"));
        assert_eq!(after_quiet_hours(utc("2026-12-04 00:00")), utc("2026-12-04 00:00"));
    }

    #[test]
    fn vietnam_days_run_from_midnight_to_midnight_utc_plus_7() {
        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let days = VietnamDays::new(date("2026-12-03"), date("2026-12-03")).expect("one day");
        assert_eq!(days.since, Some(utc("2026-12-02 17:00")));
        assert_eq!(days.until, Some(utc("2026-12-03 17:00")));
        assert_eq!(VietnamDays::new(None, None).expect("open"), VietnamDays::default());
        let reversed = VietnamDays::new(date("2026-12-04"), date("2026-12-03")).expect_err("reversed");
        assert_eq!((reversed.errors[0].field.as_str(), reversed.errors[0].code), ("to", "period_reversed"));
    }

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::default();
        let clone = clock.clone();
        let before = clone.now();
        clock.advance(Duration::hours(25));
        let after = clone.now();
        assert!(after - before >= Duration::hours(25), "{before} -> {after}");
        assert!(after - before < Duration::hours(25) + Duration::seconds(5));
    }
}
