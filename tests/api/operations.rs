//! Health, readiness, metrics and the OpenAPI document.

use std::collections::BTreeSet;

use nongsan::listings::demo::seed_demo;
use nongsan::state::AppState;
use serde_json::{Value, json};

use crate::helpers::{TestApp, WARD_DA_LAT, assert_problem, guest_order, phone_param};
use crate::on_both_backends;

/// Every `$ref` in the document, to check each one resolves.
fn collect_refs(value: &Value, refs: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                refs.insert(reference.clone());
            }
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

on_both_backends! {
    health_and_readiness_name_the_backends(app) {
        assert_eq!(app.get_json("/healthz").await["status"], "ok");
        let ready = app.get_json("/readyz").await;
        assert_eq!(ready["status"], "ready");
        let expected_db = if app.is_postgres() { "postgresql" } else { "sqlite" };
        assert_eq!(ready["database"], expected_db);
        let expected_cache = if app.settings.redis_url.is_some() { "redis" } else { "in-process" };
        assert_eq!(ready["cache"], expected_cache);
    }

    metrics_count_requests_by_route(app) {
        app.get("/api/v1/provinces").await;
        let response = app.get("/metrics").await;
        assert!(response.headers()["content-type"].to_str().expect("type").starts_with("text/plain"));
        let text = response.text().await.expect("text");
        assert!(text.contains("# TYPE http_requests_total counter"), "{text}");
        assert!(text.contains("route=\"/api/v1/provinces\""), "{text}");
    }

    openapi_document_is_valid_and_every_route_in_it_is_served(app) {
        let doc = app.get_json("/openapi.json").await;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

        let mut refs = BTreeSet::new();
        collect_refs(&doc, &mut refs);
        for reference in &refs {
            let pointer = reference.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "unresolved {reference}");
        }

        let paths = doc["paths"].as_object().expect("paths");
        for expected in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/api/v1/provinces",
            "/api/v1/provinces/{code}/wards", "/api/v1/wards", "/api/v1/categories"] {
            assert!(paths.contains_key(expected), "{expected} not documented");
        }
        for (path, item) in paths {
            let concrete = path.replace("{code}", "1");
            for (method, operation) in item.as_object().expect("path item") {
                let responses = operation["responses"].as_object().expect("responses");
                assert!(responses.values().all(|r| r["description"].is_string()), "{method} {path}: response without description");
                let response = app.client.request(method.to_uppercase().parse().expect("method"), app.url(&concrete))
                    .send().await.expect("sent");
                assert!(![404, 405].contains(&response.status().as_u16()) || path.contains('{'),
                    "{method} {path} documented but not served: {}", response.status());
                if response.status() == 404 {
                    let problem: Value = response.json().await.expect("problem");
                    assert_ne!(problem["code"], "route_not_found", "{method} {path} documented but not served");
                }
            }
        }
    }
}

/// With a metrics token set, `/metrics` is closed without it, even from this machine, and open with it.
#[tokio::test]
async fn metrics_need_the_token_once_one_is_set() {
    let app = TestApp::sqlite_with(|settings| settings.metrics_token = Some("metrics-token-for-tests".into())).await;
    let refused = app.get("/metrics").await;
    assert_problem(refused, 401, "metrics_token_required").await;
    let wrong = app.request("GET", "/metrics", Some("another-token")).send().await.expect("sent");
    assert_problem(wrong, 401, "metrics_token_required").await;
    let read = app.request("GET", "/metrics", Some("metrics-token-for-tests")).send().await.expect("sent");
    assert_eq!(read.status(), 200);
    assert!(read.text().await.expect("text").contains("http_requests_total"));
}

/// Demo farmers share a public PIN: the demo goes only on a database of its own, unless forced.
#[tokio::test]
async fn the_demo_is_not_seeded_over_real_accounts_unless_forced() {
    let app = TestApp::sqlite().await;
    let state = AppState::start(app.settings.clone()).await.expect("the service's state");
    let first = seed_demo(&state, 10, false).await.expect("a database without accounts takes the demo");
    assert_eq!(first.listings, 10);
    seed_demo(&state, 10, false).await.expect("demo farmers are not real accounts: seeding again is fine");

    let body = json!({"phone": "0987 654 321", "name": "Lò Văn Páo", "ward_code": WARD_DA_LAT, "pin": "582047"});
    TestApp::expect_json(app.post("/api/v1/farmers", None, &body).await, 201).await;
    let refused = seed_demo(&state, 20, false).await.expect_err("a real account is there");
    assert!(refused.to_string().contains("1 accounts that are not demo farmers"), "{refused}");
    let forced = seed_demo(&state, 20, true).await.expect("--force seeds anyway");
    assert_eq!(forced.listings, 10, "the ten missing");
}

/// What is said to one person is never kept by an HTTP cache: their profile, a guest's order looked up by
/// phone, a page of the web app with its cookies. What is the same for everyone stays cacheable.
#[tokio::test]
async fn personal_answers_are_not_stored_by_http_caches() {
    let app = TestApp::sqlite().await;
    let no_store = |response: &reqwest::Response| response.headers()["cache-control"] == "no-store";
    let farmer = app.farmer(WARD_DA_LAT).await;
    let me = app.request("GET", "/api/v1/me", Some(&farmer.token)).send().await.expect("sent");
    assert!(no_store(&me), "{:?}", me.headers());

    let listing = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "45k/kg", "200 kg").await;
    let placed = app.place_order(None, "no-store", &guest_order(&listing["id"], 1, "0912 345 678")).await;
    let order = TestApp::expect_json(placed, 201).await;
    let code = order["code"].as_str().expect("code");
    let view = app.get(&format!("/api/v1/orders/{code}?phone={}", phone_param("0912 345 678"))).await;
    assert_eq!(view.status(), 200);
    assert!(no_store(&view), "{:?}", view.headers());
    let page = app.request("GET", "/farmer", None).header("Cookie", "ns_lang=vi").send().await.expect("sent");
    assert!(no_store(&page), "{:?}", page.headers());

    let catalogue = app.request("GET", "/api/v1/listings", Some(&farmer.token)).send().await.expect("sent");
    let caching = catalogue.headers()["cache-control"].to_str().expect("text").to_owned();
    assert!(caching.starts_with("public"), "the catalogue is the same for everyone: {caching}");
}
