//! HTTP plumbing shared by every capability: extractors, middleware, the problem renderer, unmatched
//! routes and cached JSON responses.

mod extract;
mod middleware;
mod page;
mod unmatched;

use std::future::Future;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Bytes;
use serde::Serialize;

pub use extract::{ApiJson, ApiQuery, parse_json};
pub use middleware::{RequestId, render_problems, request_context};
pub use page::{DEFAULT_LIMIT, MAX_LIMIT, Page};
pub use unmatched::{RouteTable, unmatched};

use crate::cache::Cache;
use crate::error::AppError;

/// Answers JSON from the cache, computing and storing it on a miss. For public data that any client may
/// also cache for `max_age`.
pub async fn cached_json<T, F, Fut>(
    cache: &Cache,
    key: &str,
    max_age: Duration,
    compute: F,
) -> Result<HttpResponse, AppError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let body = match cache.get(key).await {
        Some(body) => body,
        None => {
            let body = Bytes::from(serde_json::to_vec(&compute().await?).map_err(AppError::internal)?);
            cache.set(key, body.clone(), max_age).await;
            body
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, format!("public, max-age={}", max_age.as_secs())))
        .body(body))
}
