//! Health, readiness, metrics and the OpenAPI document.

use std::collections::BTreeSet;

use serde_json::Value;

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
