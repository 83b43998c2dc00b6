//! Throttles beyond logins (issue 16, SECURITY.md findings 2, 10, 11, 12): each answers 429 with
//! `Retry-After` and a code of its own past its budget; `NONGSAN_THROTTLE=off` lifts them but not the login
//! lockout; the client address comes from a trusted proxy's header only when one is named, IPv6 per /64; and
//! photos never attached to a listing are removed after a day.

use nongsan::config::Settings;
use nongsan::media::{MediaStore, sample};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, WARD_BUON_MA_THUOT, assert_problem, fresh_phone, guest_order, phone_param, random_suffix,
};

/// Runs each body on SQLite (in-process counters) and on PostgreSQL with Redis when configured, with
/// settings adjusted by `$adjust` (TestApp turns the throttles off by default).
macro_rules! on_both_backends_with {
    ($($name:ident($app:ident, $adjust:path) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = TestApp::sqlite_with($adjust).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = TestApp::postgres_with($adjust).await else { return };
                $body
            }
        }
    )*};
}

/// The service as deployed: every throttle on, with its default budget.
fn defaults(settings: &mut Settings) {
    settings.throttles.enabled = true;
}

/// Searches limited to 5 a minute, so a test need not send 600.
fn few_searches(settings: &mut Settings) {
    settings.throttles.enabled = true;
    settings.throttles.searches_per_address = 5;
}

/// Behind a proxy that writes `X-Forwarded-For`, 3 searches a minute.
fn behind_proxy(settings: &mut Settings) {
    settings.throttles.enabled = true;
    settings.throttles.searches_per_address = 3;
    settings.throttles.trusted_proxy = Some("X-Forwarded-For".into());
}

/// As `NONGSAN_THROTTLE=off` sets it.
fn throttle_off(settings: &mut Settings) {
    settings.throttles.enabled = false;
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"].to_str().expect("header").parse().expect("seconds")
}

/// A listing with plenty of stock, for many small orders.
async fn plenty(app: &TestApp) -> Value {
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    app.listing(&farmer.token, "Cà phê Robusta", "120k", "500 kg").await
}

async fn sign_up_farmer(app: &TestApp, phone: &str) -> reqwest::Response {
    let body = json!({"phone": phone, "name": "Nguyễn Thị Lan", "ward_code": WARD_BUON_MA_THUOT, "pin": "482915"});
    app.post("/api/v1/farmers", None, &body).await
}

async fn search(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let request = app.request("GET", "/api/v1/listings?q=ca%20phe", None);
    let request = match forwarded_for {
        Some(address) => request.header("X-Forwarded-For", format!("198.51.100.1, {address}")),
        None => request,
    };
    request.send().await.expect("sent")
}

on_both_backends_with! {
    a_burst_of_guest_orders_from_one_phone_is_429_past_ten_and_a_replay_does_not_count(app, defaults) {
        let listing = plenty(&app).await;
        let phone = fresh_phone();
        let body = guest_order(&listing["id"], 1, &phone);
        let first_key = random_suffix();
        let first = TestApp::expect_json(app.place_order(None, &first_key, &body).await, 201).await;
        for _ in 1..10 {
            assert_eq!(app.place_order(None, &random_suffix(), &body).await.status(), 201);
        }
        // The retry of an order already placed answers that order and takes nothing from the budget.
        let replay = TestApp::expect_json(app.place_order(None, &first_key, &body).await, 201).await;
        assert_eq!(replay["code"], first["code"]);

        let refused = app.place_order(None, &random_suffix(), &body).await;
        let wait = retry_after(&refused);
        assert!((1..=3600).contains(&wait), "{wait}");
        let problem = assert_problem(refused, 429, "too_many_orders").await;
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("thử lại sau")), "{problem}");
        // Another buyer on the same address (carrier NAT) still orders.
        let other = guest_order(&listing["id"], 1, &fresh_phone());
        assert_eq!(app.place_order(None, &random_suffix(), &other).await.status(), 201);
    }

    a_burst_of_wrong_phones_on_one_order_is_429_past_ten_while_the_right_phone_still_works(app, defaults) {
        let listing = plenty(&app).await;
        let phone = fresh_phone();
        let order = TestApp::expect_json(app.place_order(None, &random_suffix(), &guest_order(&listing["id"], 1, &phone)).await, 201).await;
        let code = order["code"].as_str().expect("code");
        // Without a phone there is nothing to guess: 404, not counted.
        assert_problem(app.get(&format!("/api/v1/orders/{code}")).await, 404, "not_found").await;
        for _ in 0..10 {
            let guess = app.get(&format!("/api/v1/orders/{code}?phone={}", phone_param(&fresh_phone()))).await;
            assert_problem(guess, 404, "not_found").await;
        }
        let guess = app.get(&format!("/api/v1/orders/{code}?phone={}", phone_param(&fresh_phone()))).await;
        assert!((1..=3600).contains(&retry_after(&guess)));
        assert_problem(guess, 429, "too_many_lookups").await;
        let cancel = app.request("POST", &format!("/api/v1/orders/{code}/cancel?phone={}", phone_param(&fresh_phone())), None);
        assert_problem(cancel.send().await.expect("sent"), 429, "too_many_lookups").await;
        // The buyer is never locked out of their own order.
        assert_eq!(app.guest_view(&order["code"], &phone).await["code"], order["code"]);
        // Another order's budget is its own.
        let other = TestApp::expect_json(app.place_order(None, &random_suffix(), &guest_order(&listing["id"], 1, &phone)).await, 201).await;
        let guess = app.get(&format!("/api/v1/orders/{}?phone={}", other["code"].as_str().expect("code"), phone_param(&fresh_phone()))).await;
        assert_problem(guess, 404, "not_found").await;
    }

    sign_ups_are_429_past_three_per_phone_and_twenty_per_address(app, defaults) {
        let phone = fresh_phone();
        assert_eq!(sign_up_farmer(&app, &phone).await.status(), 201);
        // Refused sign-ups count too: each tells whether the phone has an account.
        assert_problem(sign_up_farmer(&app, &phone).await, 409, "phone_taken").await;
        let as_buyer = json!({"name": "Lê Mai", "phone": phone, "password": "mật khẩu dài"});
        assert_ne!(app.post("/api/v1/buyers", None, &as_buyer).await.status(), 429);
        // The same phone typed another way is the same phone.
        let e164 = format!("+84{}", &phone.replace(' ', "")[1..]);
        let refused = sign_up_farmer(&app, &e164).await;
        assert!((1..=3600).contains(&retry_after(&refused)));
        assert_problem(refused, 429, "too_many_sign_ups").await;

        // Four from this address so far; sixteen more fit, the twenty-first does not.
        for _ in 0..16 {
            assert_eq!(sign_up_farmer(&app, &fresh_phone()).await.status(), 201);
        }
        assert_problem(sign_up_farmer(&app, &fresh_phone()).await, 429, "too_many_sign_ups").await;
        let buyer = json!({"name": "Lê Mai", "email": format!("mai-{}@example.vn", random_suffix()), "password": "mật khẩu dài"});
        assert_problem(app.post("/api/v1/buyers", None, &buyer).await, 429, "too_many_sign_ups").await;
    }

    searches_and_quotes_share_a_per_minute_budget_per_address(app, few_searches) {
        let listing = plenty(&app).await;
        for _ in 0..4 {
            assert_eq!(search(&app, None).await.status(), 200);
        }
        let quote = json!({"items": [{"listing_id": listing["id"], "quantity": 1}], "ward_code": WARD_BUON_MA_THUOT});
        assert_eq!(app.post("/api/v1/quotes", None, &quote).await.status(), 200);
        let refused = search(&app, None).await;
        assert!((1..=60).contains(&retry_after(&refused)));
        assert_problem(refused, 429, "too_many_searches").await;
        assert_problem(app.post("/api/v1/quotes", None, &quote).await, 429, "too_many_searches").await;
        // Without a trusted proxy, a forwarding header is the client's own words and changes nothing.
        assert_problem(search(&app, Some("203.0.113.50")).await, 429, "too_many_searches").await;
    }

    behind_a_trusted_proxy_two_ipv6_addresses_of_one_64_share_a_budget(app, behind_proxy) {
        for address in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:eeee:dddd:cccc"] {
            assert_eq!(search(&app, Some(address)).await.status(), 200, "{address}");
        }
        let same_64 = search(&app, Some("2001:db8:1:2:aaaa::9")).await;
        assert_problem(same_64, 429, "too_many_searches").await;
        // The next /64 and an IPv4 client have budgets of their own: the connection's address (the proxy's)
        // and the values before the last hop (the client's own words) are not what counts.
        assert_eq!(search(&app, Some("2001:db8:1:3::1")).await.status(), 200);
        assert_eq!(search(&app, Some("203.0.113.7")).await.status(), 200);
    }

    with_throttles_off_a_burst_goes_through_but_the_login_lockout_holds(app, throttle_off) {
        let listing = plenty(&app).await;
        let body = guest_order(&listing["id"], 1, &fresh_phone());
        for _ in 0..12 {
            assert_eq!(app.place_order(None, &random_suffix(), &body).await.status(), 201);
        }
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let (wrong, right) = (json!({"phone": farmer.phone, "pin": "000001"}), json!({"phone": farmer.phone, "pin": farmer.pin}));
        for _ in 0..5 {
            assert_problem(app.post("/api/v1/auth/pin-login", None, &wrong).await, 401, "invalid_credentials").await;
        }
        assert_problem(app.post("/api/v1/auth/pin-login", None, &right).await, 429, "too_many_attempts").await;
    }

    photo_uploads_are_limited_per_farmer_per_day(app, few_photos) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        for seed in 0..2 {
            assert_eq!(app.upload(&farmer.token, &sample::demo_photo(64, 48, seed), "p.jpg").await.status(), 201);
        }
        let refused = app.upload(&farmer.token, &sample::demo_photo(64, 48, 9), "p.jpg").await;
        let wait = retry_after(&refused);
        assert!((3600..=24 * 3600).contains(&wait), "{wait}");
        assert_problem(refused, 429, "too_many_photos").await;
        let other = app.farmer(WARD_BUON_MA_THUOT).await;
        assert_eq!(app.upload(&other.token, &sample::demo_photo(64, 48, 9), "p.jpg").await.status(), 201);
    }

    a_photo_never_attached_is_removed_after_a_day_and_the_rest_stay(app, throttle_off) {
        let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
        let upload = |seed: u64| {
            let token = farmer.token.clone();
            let app = &app;
            async move { TestApp::expect_json(app.upload(&token, &sample::demo_photo(64, 48, seed), "p.jpg").await, 201).await }
        };
        let shown = upload(1).await;
        // The same photo sent twice (a retry over 3G) is two rows and one file; one of them is shown.
        let twin = upload(1).await;
        let stray = upload(2).await;
        let body = json!({"title": "Xoài cát Hòa Lộc", "price": "25k", "quantity": "2 tạ", "photo_ids": [shown["id"]]});
        TestApp::expect_json(app.post("/api/v1/listings", Some(&farmer.token), &body).await, 201).await;

        let files = MediaStore::new(app.settings.media_dir());
        let clean = || nongsan::listings::photos::remove_unattached(&app.db, &files, app.clock.now());
        assert_eq!(clean().await.expect("cleanup"), 0, "nothing is a day old yet");
        app.clock.advance(chrono::TimeDelta::hours(25));
        let fresh = upload(3).await;
        assert_eq!(clean().await.expect("cleanup"), 2, "the stray photo and the unshown twin");
        assert_eq!(clean().await.expect("cleanup"), 0, "each row goes once");

        for gone in ["url", "thumb_url"] {
            assert_eq!(app.get(stray[gone].as_str().expect("url")).await.status(), 404, "{gone}");
        }
        // The twin's file is the shown photo's: it stays, as does a photo uploaded today.
        for kept in [&shown, &twin, &fresh] {
            assert_eq!(app.get(kept["url"].as_str().expect("url")).await.status(), 200);
        }
    }
}

/// Two photos a day, so a test need not upload 100.
fn few_photos(settings: &mut Settings) {
    settings.throttles.enabled = true;
    settings.throttles.photos_per_farmer = 2;
}
