//! HTTP plumbing shared by every capability: extractors, middleware, the problem renderer, unmatched
//! routes and cached JSON responses.

pub mod csv;
mod extract;
mod middleware;
mod page;
mod unmatched;

use std::future::Future;
use std::time::Duration;

use std::io::Read;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use actix_web::{HttpRequest, HttpResponse};
use flate2::read::GzDecoder;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use extract::{ApiJson, ApiQuery, parse_json};
pub use middleware::{
    HtmlErrors, RequestId, accepts_gzip, gzip, gzip_responses, personal_no_store, render_problems, request_context,
};
pub use page::{DEFAULT_LIMIT, MAX_LIMIT, Page, PageQuery};
pub use unmatched::{RouteTable, bad_path_parameter, unmatched};

use crate::cache::Cache;
use crate::error::AppError;

/// A file answered as raw bytes (a photo, a QR image), as the OpenAPI document describes it.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// Answers JSON from the cache, computing and storing it on a miss. For public data that any client may
/// also cache for `max_age`. Pages are kept gzipped, as most clients take them, so a hit costs no work.
pub async fn cached_json<T, F, Fut>(
    req: &HttpRequest,
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
    let compressed = match cache.get(key).await {
        Some(compressed) => compressed,
        None => {
            let json = serde_json::to_vec(&compute().await?).map_err(AppError::internal)?;
            let compressed = gzip(&json).map_err(AppError::internal)?;
            cache.set(key, compressed.clone(), max_age).await;
            compressed
        }
    };
    let mut response = HttpResponse::Ok();
    response
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, format!("public, max-age={}", max_age.as_secs())))
        .insert_header((VARY, "accept-encoding"));
    if accepts_gzip(req.headers()) {
        return Ok(response.insert_header((CONTENT_ENCODING, "gzip")).body(compressed));
    }
    let mut json = Vec::with_capacity(compressed.len() * 3);
    GzDecoder::new(compressed.as_ref()).read_to_end(&mut json).map_err(AppError::internal)?;
    Ok(response.body(json))
}

/// Answers JSON with an `ETag` derived from the body, or 304 when the caller already has it: a phone on 3G
/// re-opening a listing downloads nothing when nothing changed.
pub fn etag_json<T: Serialize>(req: &HttpRequest, value: &T) -> Result<HttpResponse, AppError> {
    let body = serde_json::to_vec(value).map_err(AppError::internal)?;
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..24]);
    let has_it = req.headers().get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|tags| {
        tags.split(',').map(|tag| tag.trim().trim_start_matches("W/")).any(|tag| tag == etag || tag == "*")
    });
    let mut response = if has_it { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((ETAG, etag)).insert_header((CACHE_CONTROL, "no-cache"));
    if has_it {
        return Ok(response.finish());
    }
    Ok(response.insert_header((CONTENT_TYPE, "application/json")).body(body))
}
