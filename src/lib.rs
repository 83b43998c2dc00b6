//! nongsan: an agricultural e-marketplace backend for rural households in Vietnam.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod fulfilment;
pub mod health;
pub mod helpers;
pub mod http;
pub mod listings;
pub mod mail;
pub mod media;
pub mod orders;
pub mod outbox;
pub mod partners;
pub mod reference;
pub mod startup;
pub mod telemetry;
