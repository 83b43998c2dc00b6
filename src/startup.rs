//! The wiring: every route of every capability, the OpenAPI document, the middleware and the HTTP server.
//! It knows every module; none imports it (only `main` and the tests do).

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, UtoipaApp, scope};

use crate::error::{Problem, ProblemField};
use crate::health::OpenApiJson;
use crate::http::{
    HtmlErrors, RouteTable, bad_path_parameter, gzip_responses, personal_no_store, render_problems, request_context,
    unmatched,
};
use crate::listings::index::CatalogueIndex;
use crate::state::AppState;
use crate::{
    accounts, admin, consents, fulfilment, health, helpers, listings, messages, orders, partners, payments, privacy,
    reference, reports, telemetry, web as pages,
};

const PROBLEM_JSON: &str = "application/problem+json";

/// Largest JSON body accepted (photos have their own limit).
const JSON_BODY_LIMIT: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "nongsan", description = "Agricultural e-marketplace for rural households in Vietnam."),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// Session tokens and partner API keys both travel as `Authorization: Bearer …`; the bank-notification
/// service sends `Authorization: Apikey <BANK_NOTIFY_KEY>`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "bank_apikey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Apikey <BANK_NOTIFY_KEY>`",
            ))),
        );
    }
}

/// Registers every route; `utoipa-actix-web` documents each as it is registered, so the OpenAPI document
/// cannot miss one.
fn with_routes<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi()).configure(health::routes).configure(listings::photos::serving_routes).service(
        scope::scope("/api/v1")
            .configure(reference::routes)
            .configure(accounts::routes)
            .configure(consents::routes)
            .configure(helpers::routes)
            .configure(listings::routes)
            .configure(orders::routes)
            .configure(partners::routes)
            .configure(fulfilment::routes)
            .configure(messages::routes)
            .configure(payments::routes)
            .configure(privacy::routes)
            .configure(admin::routes)
            .configure(reports::routes),
    )
}

/// The OpenAPI document of every route the service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = with_routes(App::new().into_utoipa_app()).split_for_parts().1;
    document_extractor_problems(&mut api);
    api
}

/// Documents, on every operation that uses them, the problems the shared extractors answer before a
/// handler runs: a JSON body (`ApiJson`) that is malformed (400), too large (413), not JSON (415) or has a
/// missing or wrong field (422), and an `X-On-Behalf-Of` (`ActingFarmer`) that is not a farmer id (422).
/// An operation's own description of a status wins.
fn document_extractor_problems(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            let json_body = matches!(&operation.request_body, Some(RefOr::T(body)) if body.content.contains_key("application/json"));
            let on_behalf = operation
                .parameters
                .iter()
                .flatten()
                .any(|parameter| matches!(parameter, RefOr::T(parameter) if parameter.name == "X-On-Behalf-Of"));
            let mut problems = Vec::new();
            if json_body {
                problems.extend([
                    ("400", "Malformed JSON"),
                    ("413", "Body too large"),
                    ("415", "Body is not JSON"),
                    ("422", "A field is missing or invalid"),
                ]);
            }
            if on_behalf {
                problems.push(("422", "X-On-Behalf-Of is not a farmer id"));
            }
            for (status, description) in problems {
                operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
                    let problem = Content::new(Some(Ref::from_schema_name("Problem")));
                    RefOr::T(ResponseBuilder::new().description(description).content(PROBLEM_JSON, problem).build())
                });
            }
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Builds the catalogue's index from the database, then listens.
    pub async fn build(state: AppState) -> anyhow::Result<Application> {
        let index = web::Data::new(
            CatalogueIndex::start(&state.db, &state.cache)
                .await
                .map_err(|e| anyhow::anyhow!("building the catalogue index: {e:?}"))?,
        );
        let addr = &state.settings.addr;
        let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            addr = %listener.local_addr()?,
            database = state.db.backend().name(),
            cache = state.cache.backend_name(),
            mail = state.mailer.backend_name(),
            "nongsan serving"
        );
        let workers = state.settings.workers;
        let reference = web::Data::from(state.reference.clone());
        let state = web::Data::new(state);
        telemetry::prometheus();
        let api = openapi();
        let routes = web::Data::new(RouteTable::from_openapi(&api));
        let document = web::Data::new(OpenApiJson(api.to_json()?));
        let html_errors = web::Data::new(HtmlErrors(pages::error_page));
        let server = HttpServer::new(move || {
            let app = App::new()
                .app_data(state.clone())
                .app_data(index.clone())
                .app_data(reference.clone())
                .app_data(routes.clone())
                .app_data(document.clone())
                .app_data(html_errors.clone())
                .app_data(web::PayloadConfig::new(JSON_BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(bad_path_parameter))
                .into_utoipa_app();
            with_routes(app)
                .into_app()
                .configure(pages::routes)
                .default_service(web::to(unmatched))
                .wrap(from_fn(render_problems))
                .wrap(from_fn(personal_no_store))
                .wrap(from_fn(gzip_responses))
                .wrap(from_fn(request_context))
        });
        let server = match workers {
            Some(workers) => server.workers(workers),
            None => server,
        };
        let server = server.listen(listener)?.shutdown_timeout(10).run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM (or a stop through the handle), finishing requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
