//! Operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.

use std::net::IpAddr;

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::secrets::token_hash;
use crate::error::{AppError, Kind, Problem, Text};
use crate::state::AppState;
use crate::telemetry;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics).service(openapi_json);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    /// `postgresql` or `sqlite`.
    pub database: &'static str,
    /// `redis` or `in-process`.
    pub cache: &'static str,
}

/// The OpenAPI document of this service, served as generated from the code.
pub struct OpenApiJson(pub String);

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The database and (when configured) Redis answer; 503 otherwise, so a load balancer stops sending traffic.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "Database or Redis unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Readiness>, AppError> {
    state.db.ping().await?;
    state.cache.ping().await?;
    Ok(web::Json(Readiness { status: "ready", database: state.db.backend().name(), cache: state.cache.backend_name() }))
}

/// Counters and latencies in the Prometheus text format. With `NONGSAN_METRICS_TOKEN` set, only for
/// `Authorization: Bearer <that token>`; without it, only for connections from this machine.
#[utoipa::path(
    tag = "operations",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "The metrics token is set and was not sent", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No metrics token is set and the caller is not on this machine", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let bearer = req.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok());
    let peer = req.peer_addr().map(|address| address.ip());
    may_read_metrics(state.settings.metrics_token.as_deref(), bearer, peer)?;
    // Read here rather than counted per statement through the recorder: one atomic load per scrape.
    ::metrics::counter!("db_statements_total").absolute(state.db.statements());
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(telemetry::prometheus().render()))
}

/// The metrics say what the service is doing and for whom (routes, volumes): not for everyone.
fn may_read_metrics(token: Option<&str>, authorization: Option<&str>, peer: Option<IpAddr>) -> Result<(), AppError> {
    match token {
        // Digests compared, so the comparison takes the same time whatever the guess.
        Some(token) => match authorization.and_then(|header| header.strip_prefix("Bearer ")) {
            Some(sent) if token_hash(sent) == token_hash(token) => Ok(()),
            _ => Err(AppError::new(
                Kind::Unauthorized,
                "metrics_token_required",
                Text::new("Cần mã đọc số liệu (Bearer).", "The metrics token is required (Bearer)."),
            )),
        },
        None if peer.is_some_and(|ip| ip.is_loopback()) => Ok(()),
        None => Err(AppError::new(
            Kind::Forbidden,
            "metrics_local_only",
            Text::new(
                "Số liệu chỉ đọc được từ chính máy chủ, hoặc với NONGSAN_METRICS_TOKEN.",
                "Metrics can be read from this machine only, or with NONGSAN_METRICS_TOKEN.",
            ),
        )),
    }
}

/// This document.
#[utoipa::path(tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
#[get("/openapi.json")]
async fn openapi_json(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().insert_header((CONTENT_TYPE, "application/json")).body(document.0.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_need_the_token_when_set_else_this_machine() {
        let here: Option<IpAddr> = "127.0.0.1".parse().ok();
        let away: Option<IpAddr> = "203.162.4.191".parse().ok();
        assert!(may_read_metrics(None, None, here).is_ok());
        assert!(may_read_metrics(None, None, "::1".parse().ok()).is_ok());
        assert!(may_read_metrics(None, Some("Bearer anything"), away).is_err());
        assert!(may_read_metrics(Some("s3cret-token"), Some("Bearer s3cret-token"), away).is_ok());
        assert!(may_read_metrics(Some("s3cret-token"), None, here).is_err(), "the token holds on this machine too");
        assert!(may_read_metrics(Some("s3cret-token"), Some("Bearer wrong"), here).is_err());
        assert!(may_read_metrics(Some("s3cret-token"), Some("s3cret-token"), here).is_err(), "Bearer only");
    }
}
