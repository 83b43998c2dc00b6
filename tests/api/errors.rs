//! One error model: every error is problem+json with a stable code, Vietnamese unless asked otherwise.

use crate::helpers::assert_problem;
use crate::on_both_backends;

on_both_backends! {
    unknown_routes_are_404_problems_in_the_callers_language(app) {
        let vi = assert_problem(app.get("/api/v1/nothing-here").await, 404, "route_not_found").await;
        assert_eq!(vi["title"], "Không tìm thấy");
        let en = app.client.get(app.url("/api/v1/nothing-here")).header("Accept-Language", "en-US,en;q=0.9").send().await.expect("sent");
        let en = assert_problem(en, 404, "route_not_found").await;
        assert_eq!(en["title"], "Not found");
        assert!(en["detail"].as_str().is_some_and(|d| d.contains("/api/v1/nothing-here")));
    }

    wrong_methods_are_405_with_allow(app) {
        let response = app.client.delete(app.url("/api/v1/provinces")).send().await.expect("sent");
        assert_eq!(response.headers()["allow"], "GET");
        let problem = assert_problem(response, 405, "method_not_allowed").await;
        assert_eq!(problem["title"], "Phương thức không được hỗ trợ");
        let with_param = app.client.post(app.url("/api/v1/provinces/1/wards")).send().await.expect("sent");
        assert_problem(with_param, 405, "method_not_allowed").await;
    }

    every_response_carries_a_request_id_and_problems_quote_it(app) {
        let response = app.client.get(app.url("/nope")).header("X-Request-Id", "trace-123").send().await.expect("sent");
        assert_eq!(response.headers()["x-request-id"], "trace-123");
        let problem = assert_problem(response, 404, "route_not_found").await;
        assert_eq!(problem["request_id"], "trace-123");
        let fresh = app.get("/healthz").await;
        assert!(fresh.headers()["x-request-id"].to_str().is_ok_and(|id| id.len() == 16));
    }
}
