//! The one clock of the service. Handlers and background loops ask it for the time and hand that to the
//! rules, which take `now` as a parameter; a test moves it forward to see a deadline pass without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDateTime, Utc};

/// Vietnam keeps UTC+7 all year.
pub const VIETNAM_UTC_OFFSET_HOURS: i64 = 7;

/// A UTC instant as a clock in Vietnam shows it.
pub fn in_vietnam(at: NaiveDateTime) -> NaiveDateTime {
    at + Duration::hours(VIETNAM_UTC_OFFSET_HOURS)
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
