//! Browser tests: Debian's Chromium, headless at 360×740 through one shared chromedriver, driving the real
//! service (`TestApp`) on a fresh database, as a person on a cheap phone would. Each journey counts its inputs,
//! runs the accessibility check (axe-core) on the pages it visits, fails on any console error (CSP violations
//! included), and saves its screens to `docs/screens/`.
//!
//! Without Chromium or chromedriver, or with `NONGSAN_BROWSER_TESTS=skip`, each browser test says
//! "skipped: …" and passes. A journey for another kind of person is a new module here using `page::Browser`.
//!
//! `bench` holds the page-weight and 3G measurements: ignored tests run by hand against a release build.

pub mod axe;
pub mod driver;
pub mod page;
pub mod proxy;

mod bench;
mod buyer;
mod farmer;
mod harness;
mod helper;
