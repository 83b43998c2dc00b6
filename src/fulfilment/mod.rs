//! Fulfilment: partners (postal and logistics companies) pull jobs, one per accepted shipment, claim them
//! under leases with fencing tokens, and report a forward-only status history that buyers, farmers and
//! helpers all see as the shipment's timeline.
//!
//! Routes by caller: `jobs` (partners), `operator`, `webhooks` (partners register where pushes go), `cod`
//! (cash on delivery, for partners, operators and farmers). Rules: `rules` and the status machine
//! `machine`; `view` builds a job as a partner sees it; `store` holds the queries.

pub mod cod;
pub mod jobs;
pub mod machine;
pub mod operator;
pub mod rules;
pub mod store;
pub mod view;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(jobs::list_jobs)
        .service(jobs::claim_jobs)
        .service(jobs::get_job)
        .service(jobs::release_job)
        .service(jobs::extend_lease)
        .service(jobs::report_event)
        .service(operator::flagged_jobs)
        .configure(cod::routes)
        .configure(webhooks::routes);
}
