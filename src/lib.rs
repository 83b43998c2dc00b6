//! nongsan: an agricultural e-marketplace backend for rural households in Vietnam.

pub mod cache;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod http;
pub mod mail;
pub mod reference;
pub mod startup;
pub mod telemetry;
