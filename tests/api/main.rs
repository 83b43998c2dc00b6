//! One integration-test binary (one link, shared helpers) that drives the real HTTP service.

mod browser;
mod gateway;
mod helpers;

mod accounts;
mod answers;
mod authorization;
mod cod;
mod consents;
mod crash;
mod errors;
mod fulfilment;
mod fuzz;
mod impact_report;
mod listings;
mod messages;
mod money;
mod operations;
mod orders;
mod page_matrix;
mod pages;
mod parse_corpus;
mod privacy;
mod redis_outage;
mod reference;
mod reliability;
mod schema;
mod smtp;
mod structure;
mod suspensions;
mod throttles;
mod told;
mod web_buyer;
mod web_farmer;
mod web_people;
mod webhooks;
