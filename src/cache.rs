//! Cache shared by all instances through Redis when `REDIS_URL` is set, in-process otherwise.
//!
//! Redis only makes things fast and shared; nothing correctness-critical lives here. When Redis stops
//! answering, every operation falls back to the in-process store (logged once per outage), calls skip
//! Redis for a short while instead of waiting on it each time, and `/readyz` reports 503 until it is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use moka::Expiry;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, FromRedisValue, Pipeline};

use crate::error::{AppError, Text};

/// Longest a cache call may wait on Redis before the in-process store answers instead.
const REDIS_OP_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, calls go straight to the in-process store for this long before Redis is tried again.
const REDIS_RETRY_AFTER: Duration = Duration::from_secs(1);
const LOCAL_CAPACITY: u64 = 50_000;

#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    prefix: String,
    local: moka::future::Cache<String, Entry>,
    /// Counters (rate limits) apart from cached pages: a flood of pages cannot evict them.
    local_counters: moka::future::Cache<String, Arc<LocalCounter>>,
    redis: Option<RedisStore>,
}

/// A counter within a time window, e.g. failed logins in the last 15 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub count: u64,
    /// Until the window ends and the count starts again from zero.
    pub resets_in: Duration,
}

struct LocalCounter {
    count: AtomicU64,
    started: Instant,
    window: Duration,
}

impl LocalCounter {
    fn read(&self) -> Count {
        Count {
            count: self.count.load(Ordering::Relaxed),
            resets_in: self.window.saturating_sub(self.started.elapsed()),
        }
    }
}

#[derive(Clone)]
struct Entry {
    value: Bytes,
    ttl: Duration,
}

struct EntryTtl;

impl Expiry<String, Arc<LocalCounter>> for EntryTtl {
    fn expire_after_create(&self, _: &String, counter: &Arc<LocalCounter>, _: std::time::Instant) -> Option<Duration> {
        Some(counter.window)
    }
}

impl Expiry<String, Entry> for EntryTtl {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: std::time::Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

struct RedisStore {
    conn: ConnectionManager,
    epoch: Instant,
    /// Milliseconds since `epoch` before which Redis is not tried (0: try now).
    skip_until_ms: AtomicU64,
    down: AtomicBool,
}

impl Cache {
    pub fn in_process(prefix: &str) -> Cache {
        Cache::with_redis(prefix, None)
    }

    /// A Redis-backed cache. Connects lazily: an unreachable Redis does not stop the service from starting.
    pub fn redis(url: &str, prefix: &str) -> anyhow::Result<Cache> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_OP_TIMEOUT))
            .set_response_timeout(Some(REDIS_OP_TIMEOUT))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        let store =
            RedisStore { conn, epoch: Instant::now(), skip_until_ms: AtomicU64::new(0), down: AtomicBool::new(false) };
        Ok(Cache::with_redis(prefix, Some(store)))
    }

    fn with_redis(prefix: &str, redis: Option<RedisStore>) -> Cache {
        let local = moka::future::Cache::builder().max_capacity(LOCAL_CAPACITY).expire_after(EntryTtl).build();
        let local_counters = moka::future::Cache::builder().max_capacity(LOCAL_CAPACITY).expire_after(EntryTtl).build();
        Cache { inner: Arc::new(Inner { prefix: prefix.to_owned(), local, local_counters, redis }) }
    }

    /// Whether other instances see what this one stores (Redis).
    pub fn is_shared(&self) -> bool {
        self.inner.redis.is_some()
    }

    pub fn backend_name(&self) -> &'static str {
        if self.inner.redis.is_some() { "redis" } else { "in-process" }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.inner.prefix)
    }

    pub async fn get(&self, key: &str) -> Option<Bytes> {
        let key = self.key(key);
        if let Some(redis) = &self.inner.redis
            && let Some(found) = redis.run::<Option<Vec<u8>>>(Cmd::get(&key)).await
        {
            return found.map(Bytes::from);
        }
        self.inner.local.get(&key).await.map(|entry| entry.value)
    }

    pub async fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        let key = self.key(key);
        if let Some(redis) = &self.inner.redis {
            let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            if redis.run::<()>(Cmd::pset_ex(&key, value.as_ref(), millis)).await.is_some() {
                return;
            }
        }
        self.inner.local.insert(key, Entry { value, ttl }).await;
    }

    pub async fn delete(&self, key: &str) {
        let key = self.key(key);
        if let Some(redis) = &self.inner.redis {
            redis.run::<()>(Cmd::del(&key)).await;
        }
        self.inner.local.invalidate(&key).await;
    }

    /// The current count of a windowed counter (zero when it does not exist or its window ended).
    pub async fn count(&self, key: &str) -> Count {
        let key = self.key(key);
        if let Some(redis) = &self.inner.redis {
            let mut read = redis::pipe();
            read.get(&key).pttl(&key);
            if let Some((count, ttl)) = redis.run::<(Option<u64>, i64)>(read).await {
                return redis_count(count.unwrap_or(0), ttl);
            }
        }
        match self.inner.local_counters.get(&key).await {
            Some(counter) => counter.read(),
            None => Count { count: 0, resets_in: Duration::ZERO },
        }
    }

    /// Adds one to a counter whose window starts with its first increment.
    pub async fn increment(&self, key: &str, window: Duration) -> Count {
        let key = self.key(key);
        if let Some(redis) = &self.inner.redis {
            let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut bump = redis::pipe();
            bump.atomic().cmd("SET").arg(&key).arg(0).arg("PX").arg(millis).arg("NX").ignore().incr(&key, 1).pttl(&key);
            if let Some((count, ttl)) = redis.run::<(u64, i64)>(bump).await {
                return redis_count(count, ttl);
            }
        }
        let fresh = || Arc::new(LocalCounter { count: AtomicU64::new(0), started: Instant::now(), window });
        let counter = self.inner.local_counters.get_with(key, async { fresh() }).await;
        // The value this increment made, not a later read: concurrent callers each see their own count.
        let count = counter.count.fetch_add(1, Ordering::Relaxed) + 1;
        Count { count, ..counter.read() }
    }

    /// Deletes a counter (e.g. failed logins after a successful one).
    pub async fn reset(&self, key: &str) {
        let key = self.key(key);
        if let Some(redis) = &self.inner.redis {
            redis.run::<()>(Cmd::del(&key)).await;
        }
        self.inner.local_counters.invalidate(&key).await;
    }

    /// `Ok` when the shared store answers (always, in-process); for `/readyz`.
    pub async fn ping(&self) -> Result<(), AppError> {
        let Some(redis) = &self.inner.redis else { return Ok(()) };
        let mut conn = redis.conn.clone();
        let answer = tokio::time::timeout(REDIS_OP_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn)).await;
        match answer {
            Ok(Ok(_)) => {
                redis.mark_up();
                Ok(())
            }
            Ok(Err(error)) => Err(redis_unavailable(error)),
            Err(elapsed) => Err(redis_unavailable(elapsed)),
        }
    }
}

fn redis_count(count: u64, ttl_ms: i64) -> Count {
    Count { count, resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)) }
}

fn redis_unavailable(source: impl Into<anyhow::Error>) -> AppError {
    AppError::unavailable(
        "cache_unavailable",
        Text::new("Máy chủ Redis không phản hồi.", "Redis is not responding."),
        source,
    )
}

enum Request {
    Cmd(Cmd),
    Pipeline(Pipeline),
}

impl From<Cmd> for Request {
    fn from(cmd: Cmd) -> Request {
        Request::Cmd(cmd)
    }
}

impl From<Pipeline> for Request {
    fn from(pipeline: Pipeline) -> Request {
        Request::Pipeline(pipeline)
    }
}

impl RedisStore {
    /// Runs one command or pipeline; `None` when Redis is down (the caller falls back to the in-process store).
    async fn run<T: FromRedisValue>(&self, cmd: impl Into<Request>) -> Option<T> {
        let request = cmd.into();
        if self.elapsed_ms() < self.skip_until_ms.load(Ordering::Relaxed) {
            return None;
        }
        let mut conn = self.conn.clone();
        let query = async {
            match &request {
                Request::Cmd(cmd) => cmd.query_async::<T>(&mut conn).await,
                Request::Pipeline(pipeline) => pipeline.query_async::<T>(&mut conn).await,
            }
        };
        match tokio::time::timeout(REDIS_OP_TIMEOUT, query).await {
            Ok(Ok(value)) => {
                self.mark_up();
                Some(value)
            }
            Ok(Err(error)) => {
                self.mark_down(&error);
                None
            }
            Err(elapsed) => {
                self.mark_down(&elapsed);
                None
            }
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn mark_down(&self, error: &dyn std::fmt::Display) {
        let retry_at = self.elapsed_ms() + u64::try_from(REDIS_RETRY_AFTER.as_millis()).unwrap_or(1000);
        self.skip_until_ms.store(retry_at, Ordering::Relaxed);
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, "Redis unreachable: degraded to the in-process cache");
        }
    }

    fn mark_up(&self) {
        self.skip_until_ms.store(0, Ordering::Relaxed);
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!("Redis reachable again: shared cache restored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_cache_stores_expires_and_deletes() {
        let cache = Cache::in_process("t");
        assert_eq!(cache.get("a").await, None);
        cache.set("a", Bytes::from_static(b"1"), Duration::from_secs(60)).await;
        cache.set("short", Bytes::from_static(b"2"), Duration::from_millis(30)).await;
        assert_eq!(cache.get("a").await, Some(Bytes::from_static(b"1")));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(cache.get("short").await, None);
        cache.delete("a").await;
        assert_eq!(cache.get("a").await, None);
        assert!(cache.ping().await.is_ok());
    }

    #[tokio::test]
    async fn in_process_counters_count_within_their_window() {
        let cache = Cache::in_process("t");
        assert_eq!(cache.count("c").await.count, 0);
        let window = Duration::from_millis(100);
        assert_eq!(cache.increment("c", window).await.count, 1);
        let second = cache.increment("c", window).await;
        assert_eq!(second.count, 2);
        assert!(second.resets_in <= window && second.resets_in > Duration::ZERO);
        assert_eq!(cache.count("c").await.count, 2);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(cache.count("c").await.count, 0);
        cache.increment("c", window).await;
        cache.reset("c").await;
        assert_eq!(cache.count("c").await.count, 0);
    }

    #[tokio::test]
    async fn a_flood_of_pages_evicts_no_counter() {
        let cache = Cache::in_process("t");
        let window = Duration::from_secs(60);
        cache.increment("rate:login:account:x", window).await;
        for page in 0..LOCAL_CAPACITY + 5_000 {
            cache.set(&format!("page:{page}"), Bytes::from_static(b"p"), window).await;
        }
        cache.inner.local.run_pending_tasks().await;
        assert!(cache.inner.local.entry_count() <= LOCAL_CAPACITY);
        assert_eq!(cache.count("rate:login:account:x").await.count, 1);
    }

    #[tokio::test]
    async fn unreachable_redis_degrades_to_in_process_and_is_not_ready() {
        // Port 1 on localhost refuses connections at once.
        let cache = Cache::redis("redis://127.0.0.1:1", "t").expect("valid url");
        cache.set("k", Bytes::from_static(b"v"), Duration::from_secs(60)).await;
        assert_eq!(cache.get("k").await, Some(Bytes::from_static(b"v")));
        assert_eq!(cache.ping().await.map_err(|e| e.code), Err("cache_unavailable"));
    }
}
