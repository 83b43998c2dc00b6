//! Operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, Problem};
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

/// Counters and latencies in the Prometheus text format.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
#[get("/metrics")]
async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(telemetry::prometheus().render())
}

/// This document.
#[utoipa::path(tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
#[get("/openapi.json")]
async fn openapi_json(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().insert_header((CONTENT_TYPE, "application/json")).body(document.0.clone())
}
