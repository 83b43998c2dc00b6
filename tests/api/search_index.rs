//! The catalogue's in-memory index follows the database: another instance sees a change within a second,
//! the instance that made it sees it at once, and an index built at start answers exactly what the
//! database holds.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, WARD_EA_KAO};
use nongsan::config::Settings;
use nongsan::db::Conn;
use nongsan::db::schema::listings;
use nongsan::domain::status::ListingStatus;
use nongsan::listings::catalogue::{CatalogueQuery, filter_from};
use nongsan::listings::store::Sort;
use nongsan::with_conn;

/// The page cache off: every answer comes from the index.
fn no_page_cache(settings: &mut Settings) {
    settings.catalogue_cache_secs = 0;
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect()
}

/// Asks `path` until `found` holds for the answer, for one second at most.
async fn within_a_second(app: &TestApp, path: &str, found: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let page = app.get_json(path).await;
        if found(&page) {
            return page;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{path} still answers {page} after one second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn patch(app: &TestApp, token: &str, id: i64, body: &Value) {
    let request = app.request("PATCH", &format!("/api/v1/listings/{id}"), Some(token));
    assert_eq!(request.json(body).send().await.expect("sent").status(), 200, "PATCH {body}");
}

async fn found_on_another_instance_within_a_second(first: TestApp) {
    let second = first.another_instance().await;
    let farmer = first.farmer(WARD_BUON_MA_THUOT).await;
    let listing = first.listing(&farmer.token, "Sầu riêng Ri6", "80k", "50 kg").await;
    let id = listing["id"].as_i64().expect("id");
    within_a_second(&second, "/api/v1/listings?q=sau%20rieng", |page| ids(page) == vec![id]).await;

    patch(&first, &farmer.token, id, &json!({"title": "Sầu riêng Musang King", "price": "120k"})).await;
    let page = within_a_second(&second, "/api/v1/listings?q=musang", |page| ids(page) == vec![id]).await;
    assert_eq!(page["items"][0]["price_vnd"], 120_000);
    assert_eq!(second.get_json(&format!("/api/v1/listings/{id}")).await["title"], "Sầu riêng Musang King");
    assert!(ids(&second.get_json("/api/v1/listings?q=ri6").await).is_empty(), "the old title is forgotten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_created_or_edited_on_one_instance_is_found_on_another_within_a_second() {
    let Some(first) = TestApp::postgres_with(no_page_cache).await else { return };
    if first.settings.redis_url.is_none() {
        eprintln!("TEST_REDIS_URL not set: two-instance index test skipped");
        return;
    }
    found_on_another_instance_within_a_second(first).await;
}

/// Without Redis, the change feed alone (read every 250 ms) carries the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_change_feed_alone_brings_it_within_a_second() {
    let without_redis = |settings: &mut Settings| {
        no_page_cache(settings);
        settings.redis_url = None;
    };
    found_on_another_instance_within_a_second(TestApp::sqlite_with(without_redis).await).await;
    let Some(first) = TestApp::postgres_with(without_redis).await else { return };
    found_on_another_instance_within_a_second(first).await;
}

async fn changes_show_at_once_on_the_instance_that_made_them(app: TestApp) {
    let farmer = app.farmer(WARD_DA_LAT).await;
    let listing = app.listing(&farmer.token, "Dâu tây Đà Lạt", "120k", "30 kg").await;
    let id = listing["id"].as_i64().expect("id");
    assert_eq!(ids(&app.get_json("/api/v1/listings?q=dau%20tay").await), vec![id]);
    let storefront = app.get_json(&format!("/api/v1/farmers/{}", farmer.id)).await;
    assert_eq!(storefront["listings"][0]["id"], id);

    patch(&app, &farmer.token, id, &json!({"title": "Dâu tây Mộc Châu", "quantity": 0})).await;
    assert!(ids(&app.get_json("/api/v1/listings?q=moc%20chau").await).is_empty(), "sold out leaves the catalogue");
    assert_eq!(app.get_json(&format!("/api/v1/listings/{id}")).await["sold_out"], true, "its page stays");
    patch(&app, &farmer.token, id, &json!({"quantity": 12})).await;
    let page = app.get_json("/api/v1/listings?q=moc%20chau").await;
    assert_eq!((ids(&page), page["items"][0]["quantity"].as_i64()), (vec![id], Some(12)));
    assert!(ids(&app.get_json("/api/v1/listings?q=da%20lat").await).is_empty(), "the old title is forgotten");

    patch(&app, &farmer.token, id, &json!({"status": "paused"})).await;
    assert!(ids(&app.get_json("/api/v1/listings?q=dau").await).is_empty());
    assert_eq!(app.get(&format!("/api/v1/listings/{id}")).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_show_at_once_on_the_instance_that_made_them_sqlite() {
    changes_show_at_once_on_the_instance_that_made_them(TestApp::sqlite_with(no_page_cache).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_show_at_once_on_the_instance_that_made_them_postgres() {
    let Some(app) = TestApp::postgres_with(no_page_cache).await else { return };
    changes_show_at_once_on_the_instance_that_made_them(app).await;
}

/// Every page of `query` from the API, following the cursors: the ids, prices and quantities shown.
async fn all_pages(app: &TestApp, query: &[(&str, String)]) -> Vec<(i64, i64, i64)> {
    let mut shown = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params: Vec<(&str, String)> = query.to_vec();
        params.push(("limit", "3".to_owned()));
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor.clone()));
        }
        let path = format!("/api/v1/listings?{}", serde_urlencoded::to_string(&params).expect("query"));
        let page = app.get_json(&path).await;
        for item in page["items"].as_array().expect("items") {
            let number = |field: &str| item[field].as_i64().expect("number");
            shown.push((number("id"), number("price_vnd"), number("quantity")));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return shown,
        }
    }
}

/// What the database answers for the same query, in one page.
async fn from_database(app: &TestApp, query: &[(&str, String)]) -> Vec<(i64, i64, i64)> {
    let value = |name: &str| query.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone());
    let number = |name: &str| value(name).map(|v| v.parse::<i64>().expect("number"));
    let catalogue_query = CatalogueQuery {
        q: value("q"),
        category: value("category"),
        province: number("province").map(|p| i32::try_from(p).expect("code")),
        ward: number("ward").map(|w| i32::try_from(w).expect("code")),
        min_price: number("min_price"),
        max_price: number("max_price"),
        sort: value("sort"),
        limit: None,
        cursor: None,
    };
    let filter = filter_from(&catalogue_query).expect("a valid query");
    // The catalogue's rules written as one plain query over the table, no index of any kind.
    let in_sql = move |conn: &mut Conn<'_>| {
        Ok(with_conn!(conn, |c| {
            let mut query = listings::table
                .select((listings::id, listings::price_vnd, listings::quantity))
                .filter(listings::status.eq(ListingStatus::Active))
                .filter(listings::quantity.gt(0))
                .into_boxed();
            for term in &filter.terms {
                query = query.filter(listings::title_search.like(format!("% {term}%")));
            }
            if let Some(category) = &filter.category {
                query = query.filter(listings::category_code.eq(category.clone()));
            }
            if let Some(province) = filter.province {
                query = query.filter(listings::province_code.eq(province));
            }
            if let Some(ward) = filter.ward {
                query = query.filter(listings::ward_code.eq(ward));
            }
            if let Some(min) = filter.min_price {
                query = query.filter(listings::price_vnd.ge(min));
            }
            if let Some(max) = filter.max_price {
                query = query.filter(listings::price_vnd.le(max));
            }
            match filter.sort {
                Sort::PriceAsc => query.order((listings::price_vnd.asc(), listings::id.asc())),
                Sort::PriceDesc => query.order((listings::price_vnd.desc(), listings::id.desc())),
                Sort::Relevance | Sort::Newest => query.order(listings::id.desc()),
            }
            .load(c)
        })?)
    };
    app.db.read(in_sql).await.expect("database answers")
}

async fn the_index_built_at_start_answers_what_the_database_holds(app: TestApp) {
    let operator = app.operator_token().await;
    let mut made = Vec::new();
    for (ward, titles) in [
        (WARD_DA_LAT, ["Dâu tây Đà Lạt", "Cà chua bi", "Cải thảo", "Atiso tươi", "Cà phê Arabica Cầu Đất"]),
        (WARD_BUON_MA_THUOT, ["Cà phê Robusta", "Bơ sáp 034", "Sầu riêng Ri6", "Tiêu đen", "Xoài cát chu"]),
        (WARD_EA_KAO, ["Cà tím", "Bắp nếp", "Chuối già", "Cá rô đồng", "Mật ong hoa cà phê"]),
    ] {
        let farmer = app.farmer(ward).await;
        for (n, title) in (1_i64..).zip(titles) {
            let listing = app.listing(&farmer.token, title, &format!("{}k", 10 * (n % 3 + 1)), "20 kg").await;
            made.push((farmer.token.clone(), listing["id"].as_i64().expect("id")));
        }
    }
    // Paused, sold out, hidden, archived, a changed price: none of it may be lost.
    let (token, id) = &made[1];
    patch(&app, token, *id, &json!({"status": "paused"})).await;
    let (token, id) = &made[6];
    patch(&app, token, *id, &json!({"quantity": 0})).await;
    let (token, id) = &made[12];
    patch(&app, token, *id, &json!({"status": "archived"})).await;
    let (token, id) = &made[3];
    patch(&app, token, *id, &json!({"price": "77k"})).await;
    let hide = json!({"reason": "Ảnh không đúng sản phẩm"});
    let hidden = app.post(&format!("/api/v1/admin/listings/{}/hide", made[9].1), Some(&operator), &hide).await;
    assert_eq!(hidden.status(), 200);

    let rebuilt = app.another_instance().await;
    let text = |s: &str| s.to_owned();
    let queries: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("q", text("ca"))],
        vec![("q", text("CÀ PHÊ"))],
        vec![("q", text("c"))],
        vec![("q", text("ca")), ("sort", text("price_asc"))],
        vec![("q", text("ca")), ("sort", text("price_desc"))],
        vec![("sort", text("price_asc"))],
        vec![("sort", text("price_desc")), ("min_price", text("15000")), ("max_price", text("30000"))],
        vec![("category", text("ca_phe")), ("sort", text("newest"))],
        vec![("category", text("trai_cay")), ("province", text("66"))],
        vec![("ward", WARD_EA_KAO.to_string()), ("sort", text("price_asc"))],
        vec![("q", text("xoai tieu"))],
        vec![("q", text("oai"))],
    ];
    for query in &queries {
        let expected = from_database(&app, query).await;
        assert_eq!(all_pages(&rebuilt, query).await, expected, "rebuilt index, query {query:?}");
        assert_eq!(all_pages(&app, query).await, expected, "followed index, query {query:?}");
    }
    assert!(!from_database(&app, &queries[0]).await.is_empty());
    assert_eq!(from_database(&app, &queries[0]).await.len(), 11, "15 made, 4 out of the catalogue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_built_at_start_answers_what_the_database_holds_sqlite() {
    the_index_built_at_start_answers_what_the_database_holds(TestApp::sqlite_with(no_page_cache).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_built_at_start_answers_what_the_database_holds_postgres() {
    let Some(app) = TestApp::postgres_with(no_page_cache).await else { return };
    the_index_built_at_start_answers_what_the_database_holds(app).await;
}
