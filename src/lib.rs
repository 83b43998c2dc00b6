//! nongsan: an agricultural e-marketplace backend for rural households in Vietnam.
//!
//! Layers, lowest first (see ARCHITECTURE.md): infrastructure (`config`, `error`, `db`, `cache`, `mail`,
//! `media`, `telemetry`, `clock`), validated values (`domain`), reference data (`reference`), the application
//! state (`state`), the shared core (`http`, `auth`, `audit`, `outbox`, `idempotency`), the capabilities,
//! the web app's pages over them (`web`),
//! and on top the wiring (`startup`, `background`) that nothing imports.

// A panic is never the answer to a request: errors are values, outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod accounts;
pub mod admin;
pub mod allocator;
pub mod audit;
pub mod auth;
pub mod background;
pub mod cache;
pub mod clock;
pub mod config;
pub mod consents;
pub mod db;
pub mod domain;
pub mod egress;
pub mod error;
pub mod fulfilment;
pub mod health;
pub mod helpers;
pub mod http;
pub mod idempotency;
pub mod listings;
pub mod mail;
pub mod media;
pub mod messages;
pub mod orders;
pub mod outbox;
pub mod partners;
pub mod payments;
pub mod privacy;
pub mod progress;
pub mod reference;
pub mod reports;
pub mod sms;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
