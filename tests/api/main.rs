//! One integration-test binary (one link, shared helpers) that drives the real HTTP service.

mod helpers;

mod errors;
mod operations;
mod redis_outage;
mod reference;
mod schema;
