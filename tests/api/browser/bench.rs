//! Benchmarks, not tests (ignored; run by hand, figures in `BENCHMARKS.md`), against a running release build
//! with the demo catalogue at `NONGSAN_BENCH_URL` (default `http://127.0.0.1:8080`):
//!
//! ```sh
//! cargo run --release -- seed --demo --listings 5000 && cargo run --release &
//! cargo test --test api browser::bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - Page weights: Chromium reaches the service through a proxy here that counts every byte the service sends
//!   (status lines, headers, compressed bodies: what goes over the air), photos blocked. A first visit is a
//!   page opened with the browser's cache, service worker and its caches cleared (cookies kept, so the basket
//!   and the order are still there); a later visit is the same page opened again.
//! - `/` on throttled 3G (DevTools `Network.emulateNetworkConditions`: 1.6 Mbit/s down, 750 kbit/s up, 300 ms
//!   round trips), cold cache: first contentful paint and the load event, median of five.

use serde_json::{Value, json};

use super::page::{Browser, Options};
use super::proxy::Proxy;

fn target() -> String {
    std::env::var("NONGSAN_BENCH_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned())
}

/// Opens `path` and counts what the service sent for it.
async fn weigh(browser: &mut Browser, proxy: &Proxy, path: &str) -> u64 {
    let before = proxy.received();
    browser.open(path).await;
    proxy.settle(before).await
}

/// Empties the browser's cache, service worker and its caches (a phone that never came); cookies stay.
async fn forget_files(browser: &Browser, origin: &str) {
    browser.cdp("Network.clearBrowserCache", json!({})).await;
    let storage = json!({"origin": origin, "storageTypes": "service_workers,cache_storage"});
    browser.cdp("Storage.clearDataForOrigin", storage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand against a release build with the demo catalogue (see BENCHMARKS.md)"]
async fn page_weights_first_and_later_visit() {
    let proxy = Proxy::start(&target()).await;
    let Some(mut browser) = Browser::start_on(&proxy.address, "bench-weights", Options::default()).await else {
        return;
    };
    browser.cdp("Network.enable", json!({})).await;
    browser.cdp("Network.setBlockedURLs", json!({"urls": ["*/media/*"]})).await;

    // A buyer's way through the app, so the basket, the checkout and the order have something in them.
    browser.open("/?q=xoai").await;
    browser.tap_on("#results a.card").await;
    let listing = browser.path().await;
    let farmer = browser.script("return document.querySelector('main a[href^=\"/farmers/\"]').pathname;", vec![]).await;
    let farmer = farmer.as_str().expect("the listing links its farmer").to_owned();
    browser.tap("Thêm vào giỏ").await;
    browser.tap("Đặt hàng").await;
    browser.type_into("#name", "Lê Thị Mai").await;
    browser.type_into("#phone", "0912 345 678").await;
    browser.type_into("#ward_text", "lam vien").await;
    browser.choose_labelled("Phường Lâm Viên - Đà Lạt").await;
    browser.type_into("#street", "12 Trần Phú").await;
    browser.tap("Xem phí giao và tổng tiền").await;
    browser.tap("Đặt hàng").await;
    let order = browser.path().await;
    let order = order.split('?').next().unwrap_or_default().to_owned();

    let buyer_pages =
        ["/", "/?q=xoai+cat", listing.as_str(), farmer.as_str(), "/basket", "/checkout", &order, "/orders"];
    println!("| page | first visit | later visit |\n|---|---:|---:|");
    weigh_each(&mut browser, &proxy, &buyer_pages).await;

    // The helpers', operators' and farmers' doors, then the pages of a new farmer (a fresh phone each run)
    // with one listing.
    weigh_each(&mut browser, &proxy, &["/helper", "/operator", "/farmer", "/farmer/signup"]).await;
    browser.open("/farmer/signup").await;
    browser.type_into("#name", "Trần Văn Hùng").await;
    browser.type_into("#phone", &format!("09{:08}", std::process::id() % 100_000_000)).await;
    browser.type_into("#ward_text", "lam vien").await;
    browser.choose_labelled("Phường Lâm Viên - Đà Lạt").await;
    browser.tap_keypad("582047").await;
    browser.tap("Đăng ký").await;
    browser.open("/farmer/listings/new").await;
    browser.type_into("#sentence", "Xoài cát 45k/kg còn 200kg").await;
    browser.tap("Xem lại trước khi đăng").await;
    browser.tap("Đúng rồi, đăng bán").await;
    let farmer_pages = ["/farmer", "/farmer/listings/new", "/farmer/listings", "/farmer/money", "/farmer/helpers"];
    weigh_each(&mut browser, &proxy, &farmer_pages).await;
}

/// Prints each page's first and later visit as a table row.
async fn weigh_each(browser: &mut Browser, proxy: &Proxy, pages: &[&str]) {
    for page in pages {
        forget_files(browser, &proxy.address).await;
        let first = weigh(browser, proxy, page).await;
        let later = weigh(browser, proxy, page).await;
        let kb = |bytes: u64| format!("{:.1} KB", bytes as f64 / 1024.0);
        println!("| `{page}` | {} | {} |", kb(first), kb(later));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand against a release build with the demo catalogue (see BENCHMARKS.md)"]
async fn home_on_throttled_3g() {
    let base = target();
    let mut paints = Vec::new();
    let mut loads = Vec::new();
    for run in 0..5 {
        let Some(mut browser) = Browser::start_on(&base, &format!("bench-3g-{run}"), Options::default()).await else {
            return;
        };
        browser.cdp("Network.enable", json!({})).await;
        browser.cdp("Network.clearBrowserCache", json!({})).await;
        let conditions = json!({
            "offline": false,
            "latency": 300,
            "downloadThroughput": 1_600_000 / 8,
            "uploadThroughput": 750_000 / 8,
        });
        browser.cdp("Network.emulateNetworkConditions", conditions).await;
        browser.open("/").await;
        let timing: Value = browser
            .script(
                "const paint = performance.getEntriesByName('first-contentful-paint')[0];
                 const nav = performance.getEntriesByType('navigation')[0];
                 return {paint: paint ? paint.startTime : null, load: nav.loadEventEnd, bytes: nav.transferSize};",
                vec![],
            )
            .await;
        let paint = timing["paint"].as_f64().expect("a first contentful paint");
        let load = timing["load"].as_f64().expect("a load event");
        println!("run {run}: first contentful paint {paint:.0} ms, load {load:.0} ms");
        paints.push(paint);
        loads.push(load);
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    println!(
        "/ on 3G (1.6 Mbit/s, 750 kbit/s, 300 ms), cold: first contentful paint {:.0} ms, load {:.0} ms (median of 5)",
        median(&mut paints),
        median(&mut loads)
    );
}
