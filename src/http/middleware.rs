//! The middlewares every request passes: request context (id, tracing span, metrics, access log) on the
//! outside, gzip, `no-store` on personal answers, and the problem renderer on the inside, which gives every
//! 4xx/5xx one shape.

use std::cell::RefCell;
use std::io::Write;
use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse};
use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};
use rand::Rng;
use tracing::Instrument;

use crate::error::{AppError, Kind, Lang};

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const PROBLEM_JSON: &str = "application/problem+json";

/// The request's id: the caller's `X-Request-Id` when it is sane, otherwise a fresh one.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn request_id_of(req: &ServiceRequest) -> String {
    let given = req.headers().get(&X_REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| {
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    match given {
        Some(id) => id.to_owned(),
        None => format!("{:016x}", rand::rng().random::<u64>()),
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let span = tracing::info_span!("request", id = %request_id, %method, path = %req.path());
    let mut res = next.call(req).instrument(span.clone()).await?;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(X_REQUEST_ID, value);
    }
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route).record(elapsed.as_secs_f64());
    span.in_scope(|| tracing::info!(status, elapsed_us = elapsed.as_micros() as u64, "served"));
    Ok(res)
}

/// Renders every error response as RFC 9457 problem+json in the caller's language, whether it came from
/// an [`AppError`] or from actix itself (unmatched route, bad path parameter, …). Causes of 5xx are logged.
pub async fn render_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let lang = Lang::of(req.request());
    // Handlers' and extractors' errors arrive here as responses carrying the error; only a failing
    // middleware could return `Err`, and there is none inside this one.
    let res = next.call(req).await?;
    let status = res.status();
    // A problem document, or a page that shows its own errors (a form with what to correct).
    let rendered = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes() || v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || rendered {
        return Ok(res.map_into_left_body());
    }
    Ok(into_problem(res, lang).map_into_right_body())
}

/// How the web app shows an error to a browser: the page it renders for a problem (from `web`, registered
/// as app data at wiring, so this layer does not depend on the pages).
pub struct HtmlErrors(pub fn(&actix_web::HttpRequest, &crate::error::Problem, Lang) -> Option<String>);

/// A browser asking for a page (not the API) is shown a page.
fn wants_page(req: &actix_web::HttpRequest) -> bool {
    let accepts_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    accepts_html && !req.path().starts_with("/api/")
}

fn into_problem<B>(res: ServiceResponse<B>, lang: Lang) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let fallback;
    let error = match res.response().error().and_then(|e| e.as_error::<AppError>()) {
        Some(error) => error,
        None => {
            fallback = match Kind::from_status(status) {
                Kind::NotFound => AppError::not_found(),
                kind => AppError::bare(kind),
            };
            if status.is_server_error() {
                let cause = res.response().error().map(ToString::to_string).unwrap_or_default();
                tracing::error!(%status, %cause, "request failed");
            }
            &fallback
        }
    };
    if let Some(source) = error.source_error() {
        tracing::error!(code = error.code, error = format!("{source:#}"), "request failed");
    }
    let request_id = res.request().extensions().get::<RequestId>().map(|id| id.0.clone());
    let document = error.problem(lang, request_id.as_deref());
    let page = res
        .request()
        .app_data::<actix_web::web::Data<HtmlErrors>>()
        .filter(|_| wants_page(res.request()))
        .and_then(|pages| (pages.0)(res.request(), &document, lang));
    let (content_type, body) = match page {
        Some(html) => ("text/html; charset=utf-8", html),
        None => (PROBLEM_JSON, serde_json::to_string(&document).unwrap_or_default()),
    };
    let retry_after = error.retry_after;

    let (request, original) = res.into_parts();
    let mut problem = HttpResponse::build(status);
    problem.insert_header((header::CONTENT_TYPE, content_type));
    for name in [header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(value) = original.headers().get(&name) {
            problem.insert_header((name, value.clone()));
        }
    }
    if let Some(seconds) = retry_after {
        problem.insert_header((header::RETRY_AFTER, seconds));
    }
    ServiceResponse::new(request, problem.body(body))
}

/// Smallest body worth compressing, and the largest compressed inline (bigger ones are not JSON pages).
const GZIP_MIN: u64 = 1024;
const GZIP_MAX: u64 = 4 * 1024 * 1024;

pub fn accepts_gzip(headers: &header::HeaderMap) -> bool {
    let header = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or_default();
    header.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused =
            parts.any(|p| p.trim().strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0)));
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// gzip for JSON and text answers, done inline with the fast level: a 20-item catalogue page (~7 KB)
/// shrinks to ~2.5 KB for phones on 3G in a few tens of microseconds. (actix's `Compress` hands every
/// body over 1 KB to the blocking pool, which cost more than the compression itself.)
///
/// Each thread keeps one deflate state and resets it per answer: a new one is some 300 KB to allocate and
/// clear, which cost more than compressing the page (a fifth of a search's time went to the allocator).
pub fn gzip(bytes: &[u8]) -> std::io::Result<Bytes> {
    thread_local! {
        static DEFLATE: RefCell<DeflateEncoder<Vec<u8>>> =
            RefCell::new(DeflateEncoder::new(Vec::new(), Compression::fast()));
    }
    // RFC 1952: magic, deflate, no flags, no time, fastest, unknown system.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255];
    let mut out = Vec::with_capacity(HEADER.len() + bytes.len() / 3 + 64);
    out.extend_from_slice(&HEADER);
    let mut out = DEFLATE.with_borrow_mut(|deflate| {
        // Each answer leaves a fresh stream into an empty output behind; this answer's output takes its place,
        // and `reset` finishes the stream, hands the output back and clears the state for the next.
        *deflate.get_mut() = out;
        deflate.write_all(bytes)?;
        deflate.reset(Vec::new())
    })?;
    let mut crc = Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    Ok(Bytes::from(out))
}

/// Whether the request speaks for a person: it carries a credential (a bearer token, the web app's cookies)
/// or names a phone (a guest's order look-up).
fn speaks_for_someone(req: &ServiceRequest) -> bool {
    req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().contains_key(header::COOKIE)
        || req.query_string().split('&').any(|pair| pair.starts_with("phone="))
}

/// Personal answers are never stored by an HTTP cache (a shared phone's browser, a proxy on the way):
/// `Cache-Control: no-store` on every answer to a request that speaks for someone, except answers that say
/// they are the same for everyone (`public`). The web app's service worker keeps a farmer's own pages by
/// itself and forgets them at log-out.
pub async fn personal_no_store(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let personal = speaks_for_someone(&req);
    let mut res = next.call(req).await?;
    let public = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|directive| directive.trim() == "public"));
    if personal && !public {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

pub async fn gzip_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, Bytes>>, Error> {
    let wants_gzip = accepts_gzip(req.headers());
    let res = next.call(req).await?;
    let compressible = wants_gzip
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
            t.starts_with("application/json") || t.starts_with("application/problem+json") || t.starts_with("text/")
        })
        && matches!(res.response().body().size(), BodySize::Sized(n) if (GZIP_MIN..=GZIP_MAX).contains(&n));
    if !compressible {
        return Ok(res.map_into_left_body());
    }
    let (request, response) = res.into_parts();
    let (mut head, body) = response.into_parts();
    let bytes =
        actix_web::body::to_bytes(body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let compressed = gzip(&bytes)?;
    head.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    head.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(ServiceResponse::new(request, head.set_body(compressed)).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("valid gzip");
        out
    }

    #[test]
    fn gzip_round_trips_one_answer_after_another_on_the_same_thread() {
        let page = r#"{"items":[{"title":"Xoài cát Hòa Lộc"}]}"#.repeat(300).into_bytes();
        // Larger than the first guess at the output's size, and not compressible: the output has to grow.
        let noise: Vec<u8> = (0..200_000_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        for body in [page.as_slice(), b"".as_slice(), noise.as_slice(), page.as_slice()] {
            let zipped = gzip(body).expect("compressed");
            assert_eq!(gunzip(&zipped), body);
        }
        assert!(gzip(&page).expect("compressed").len() < page.len() / 10);
    }
}
