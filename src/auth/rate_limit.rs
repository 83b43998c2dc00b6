//! Limits on failed logins, per account and per client address. Counted in Redis when configured, so all
//! instances see the same count; in process otherwise.

use std::time::Duration;

use crate::auth::secrets::token_hash;
use crate::cache::Cache;
use crate::error::{AppError, Kind, Text};

pub struct Limit {
    name: &'static str,
    max_failures: u64,
    window: Duration,
}

/// 5 wrong PINs or passwords per account in 15 minutes: a 6-digit PIN cannot be guessed online.
pub const PER_ACCOUNT: Limit = Limit { name: "account", max_failures: 5, window: Duration::from_secs(15 * 60) };
/// Per client address, across accounts: stops one device from walking through many phones.
pub const PER_ADDRESS: Limit = Limit { name: "address", max_failures: 50, window: Duration::from_secs(15 * 60) };

fn too_many(resets_in: Duration) -> AppError {
    let seconds = resets_in.as_secs().max(1);
    let minutes = seconds.div_ceil(60);
    let mut error = AppError::new(
        Kind::TooManyRequests,
        "too_many_attempts",
        Text::new(
            format!("Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."),
            format!("Too many failed attempts. Please try again in {minutes} minutes."),
        ),
    );
    error.set_retry_after(seconds);
    error
}

impl Limit {
    /// Keys hold a hash of the subject: phone numbers and addresses do not end up in Redis in clear.
    fn key(&self, subject: &str) -> String {
        format!("rate:login:{}:{}", self.name, &token_hash(subject)[..24])
    }

    /// 429 with `Retry-After` once the failures reached the limit.
    pub async fn check(&self, cache: &Cache, subject: &str) -> Result<(), AppError> {
        let count = cache.count(&self.key(subject)).await;
        if count.count < self.max_failures { Ok(()) } else { Err(too_many(count.resets_in)) }
    }

    /// Takes one attempt before the secret is checked (a success gives it back with `reset`). Counting first
    /// makes the limit hold under concurrency: a burst of parallel guesses cannot all pass a check made
    /// before any of them is recorded.
    pub async fn take(&self, cache: &Cache, subject: &str) -> Result<(), AppError> {
        let count = cache.increment(&self.key(subject), self.window).await;
        if count.count <= self.max_failures { Ok(()) } else { Err(too_many(count.resets_in)) }
    }

    pub async fn record_failure(&self, cache: &Cache, subject: &str) {
        cache.increment(&self.key(subject), self.window).await;
    }

    pub async fn reset(&self, cache: &Cache, subject: &str) {
        cache.reset(&self.key(subject)).await;
    }
}
