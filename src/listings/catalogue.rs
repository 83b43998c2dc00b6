//! The public catalogue: filters, accent-free word-start search, keyset pages, listing pages and storefronts,
//! all answered from the in-memory index (`index`), and a cache of hot pages that any listing change
//! invalidates at once on every instance (the version key lives in Redis when configured).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::index::{CatalogueIndex, Kept};
use super::store::{After, CatalogueFilter, PublicFarmer, Sort};
use super::{FarmerRef, Listing, media_url};
use crate::auth::rate_limit::{Throttles, client_address};
use crate::cache::Cache;
use crate::domain::quantity::Unit;
use crate::domain::text::search_terms;
use crate::error::{AppError, FieldError, Problem, Text};
use crate::http::{ApiQuery, DEFAULT_LIMIT, MAX_LIMIT, cached_json, etag_json};
use crate::reference::PlaceRef;
use crate::state::AppState;

/// Bumped by every listing change, after it commits: the key of cached pages, and what tells the index of
/// every instance sharing Redis to catch up before answering.
pub(super) const VERSION_KEY: &str = "catalogue:version";
/// The version counter never expires in practice.
const VERSION_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Makes every cached catalogue page stale, on every instance sharing the cache.
pub async fn invalidate(cache: &Cache) {
    cache.increment(VERSION_KEY, VERSION_LIFETIME).await;
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Words, with or without accents, each matching the start of a word of the title.
    pub q: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Province code of origin.
    pub province: Option<i32>,
    /// Commune/ward code of origin.
    pub ward: Option<i32>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// `relevance` (default; freshest matches first), `newest`, `price_asc`, `price_desc`.
    #[param(pattern = "^(relevance|newest|price_asc|price_desc)$")]
    pub sort: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A catalogue line: what a phone shows in a list.
#[derive(Serialize, ToSchema)]
pub struct CatalogueItem {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub price_vnd: i64,
    pub unit: Unit,
    pub quantity: i64,
    pub thumb_url: Option<String>,
    pub farmer: FarmerRef,
    pub ward: PlaceRef,
    pub province: PlaceRef,
}

#[derive(Serialize, ToSchema)]
pub struct CataloguePage {
    pub items: Vec<CatalogueItem>,
    pub next_cursor: Option<String>,
}

fn invalid(field: &str, code: &'static str, vi: &str, en: &str) -> FieldError {
    FieldError::new(field, code, Text::new(vi.to_owned(), en.to_owned()))
}

fn parse_sort(sort: Option<&str>) -> Result<Sort, FieldError> {
    match sort.unwrap_or("relevance") {
        "relevance" => Ok(Sort::Relevance),
        "newest" => Ok(Sort::Newest),
        "price_asc" => Ok(Sort::PriceAsc),
        "price_desc" => Ok(Sort::PriceDesc),
        _ => Err(invalid(
            "sort",
            "sort_unknown",
            "Sắp xếp theo relevance, newest, price_asc hoặc price_desc.",
            "Sort by relevance, newest, price_asc or price_desc.",
        )),
    }
}

fn encode_cursor(sort: Sort, last: &CatalogueItem) -> String {
    let raw = match sort {
        Sort::PriceAsc | Sort::PriceDesc => format!("p{}:{}", last.price_vnd, last.id),
        Sort::Relevance | Sort::Newest => format!("i{}", last.id),
    };
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(sort: Sort, cursor: &str) -> Result<After, FieldError> {
    let bad = || {
        invalid(
            "cursor",
            "invalid_cursor",
            "`cursor` không hợp lệ; hãy dùng `next_cursor` của trang trước.",
            "Invalid `cursor`; use the previous page's `next_cursor`.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = std::str::from_utf8(&bytes).map_err(|_| bad())?;
    match (sort, raw.split_at_checked(1)) {
        (Sort::PriceAsc | Sort::PriceDesc, Some(("p", rest))) => {
            let (price, id) = rest.split_once(':').ok_or_else(bad)?;
            Ok(After::PriceId(price.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?))
        }
        (Sort::Relevance | Sort::Newest, Some(("i", id))) => Ok(After::Id(id.parse().map_err(|_| bad())?)),
        _ => Err(bad()),
    }
}

pub fn filter_from(query: &CatalogueQuery) -> Result<CatalogueFilter, AppError> {
    let sort = parse_sort(query.sort.as_deref());
    let limit = match query.limit.unwrap_or(DEFAULT_LIMIT) {
        limit @ 1..=MAX_LIMIT => Ok(i64::from(limit)),
        _ => Err(invalid("limit", "limit_out_of_range", "`limit` phải từ 1 đến 100.", "`limit` must be 1 to 100.")),
    };
    let prices = match (query.min_price, query.max_price) {
        (Some(min), Some(max)) if min > max => Err(invalid(
            "min_price",
            "price_range_empty",
            "Giá thấp nhất lớn hơn giá cao nhất.",
            "min_price is above max_price.",
        )),
        _ => Ok(()),
    };
    let (sort, limit, ()) = crate::validate!(sort, limit, prices);
    let after = query.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| decode_cursor(sort, c)).transpose();
    let after = after.map_err(|e| AppError::validation(vec![e]))?;
    Ok(CatalogueFilter {
        terms: search_terms(query.q.as_deref().unwrap_or_default()).into_iter().take(8).collect(),
        category: query.category.clone(),
        province: query.province,
        ward: query.ward,
        min_price: query.min_price,
        max_price: query.max_price,
        sort,
        after,
        limit,
    })
}

/// The cache key of a page: the same query typed differently ("Xoài", "xoai") shares one entry.
fn page_key(version: u64, filter: &CatalogueFilter) -> String {
    format!(
        "catalogue:{version}:{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        filter.terms.join(" "),
        filter.category,
        filter.province,
        filter.ward,
        filter.min_price,
        filter.max_price,
        filter.sort,
        filter.after,
        filter.limit
    )
}

impl From<&Kept> for CatalogueItem {
    fn from(kept: &Kept) -> CatalogueItem {
        CatalogueItem {
            id: kept.id,
            title: kept.title().to_owned(),
            category: kept.category_code.to_string(),
            price_vnd: kept.price_vnd,
            unit: Unit::parse_code(kept.unit()).unwrap_or(Unit::Kg),
            quantity: kept.quantity,
            thumb_url: kept.thumb_name().map(media_url),
            farmer: FarmerRef { id: kept.farmer_id, name: kept.farmer_name().to_owned() },
            ward: PlaceRef { code: kept.ward_code, name: kept.ward_name().to_owned() },
            province: PlaceRef { code: kept.province_code, name: kept.province_name().to_owned() },
        }
    }
}

/// One page of the catalogue, from the index.
pub async fn load_page(index: &CatalogueIndex, filter: CatalogueFilter) -> Result<CataloguePage, AppError> {
    let (sort, limit) = (filter.sort, usize::try_from(filter.limit).unwrap_or(usize::MAX));
    // A closure: `CatalogueItem::from` names one lifetime of `&Kept`, and the index lends rows of any.
    let card = |kept: &Kept| CatalogueItem::from(kept);
    let mut items = index.page(&CatalogueFilter { limit: filter.limit + 1, ..filter }, card).await?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| encode_cursor(sort, last))
    } else {
        None
    };
    Ok(CataloguePage { items, next_cursor })
}

/// Active listings with stock, filtered, searched and sorted.
#[utoipa::path(
    tag = "catalogue",
    params(CatalogueQuery),
    responses(
        (status = 200, description = "One page of listings", body = CataloguePage),
        (status = 422, description = "Bad filter, sort, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many quotes and searches from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings")]
pub async fn list_catalogue(
    state: web::Data<AppState>,
    index: web::Data<CatalogueIndex>,
    req: HttpRequest,
    ApiQuery(query): ApiQuery<CatalogueQuery>,
) -> Result<HttpResponse, AppError> {
    Throttles::of(&state).search(&client_address(&req)).await?;
    let filter = filter_from(&query)?;
    let max_age = Duration::from_secs(state.settings.catalogue_cache_secs);
    if max_age.is_zero() {
        return Ok(HttpResponse::Ok().json(load_page(&index, filter).await?));
    }
    let version = state.cache.count(VERSION_KEY).await.count;
    let key = page_key(version, &filter);
    cached_json(&req, &state.cache, &key, max_age, || load_page(&index, filter)).await
}

/// A farmer's public page: name, commune and what they sell. No phone number.
#[derive(Serialize, ToSchema)]
pub struct Storefront {
    pub farmer: FarmerRef,
    pub ward: PlaceRef,
    pub province: PlaceRef,
    pub listings: Vec<Listing>,
}

/// A farmer's storefront (up to 100 listings on sale). Answers `If-None-Match` with 304.
#[utoipa::path(
    tag = "catalogue",
    params(("id" = i64, Path, description = "Farmer id")),
    responses(
        (status = 200, description = "The storefront; `ETag` header set", body = Storefront),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 404, description = "No such farmer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/farmers/{id}")]
pub async fn storefront(
    index: web::Data<CatalogueIndex>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    etag_json(&req, &storefront_of(&index, id.into_inner()).await?)
}

/// A listing as buyers see it: active ones only (sold out included); 404 otherwise.
pub async fn public_listing(index: &CatalogueIndex, id: i64) -> Result<Listing, AppError> {
    match index.listing(id).await? {
        Some(row) => Ok(Listing::from(row)),
        None => Err(AppError::not_found()),
    }
}

/// A farmer's public page; 404 for anyone who is not a farmer.
pub async fn storefront_of(index: &CatalogueIndex, farmer_id: i64) -> Result<Storefront, AppError> {
    let (farmer, rows) = index.storefront(farmer_id, 100).await?.ok_or_else(AppError::not_found)?;
    let (id, name, ward_code, ward_name, province_code, province_name) = PublicFarmer::clone(&farmer);
    Ok(Storefront {
        farmer: FarmerRef { id, name },
        ward: PlaceRef { code: ward_code, name: ward_name },
        province: PlaceRef { code: province_code, name: province_name },
        listings: rows.into_iter().map(Listing::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_per_sort_and_refuse_the_wrong_kind() {
        let row = CatalogueItem {
            id: 42,
            title: String::new(),
            category: String::new(),
            price_vnd: 25_000,
            unit: Unit::Kg,
            quantity: 1,
            thumb_url: None,
            farmer: FarmerRef { id: 1, name: String::new() },
            ward: PlaceRef { code: 1, name: String::new() },
            province: PlaceRef { code: 1, name: String::new() },
        };
        let by_price = encode_cursor(Sort::PriceAsc, &row);
        assert_eq!(decode_cursor(Sort::PriceAsc, &by_price), Ok(After::PriceId(25_000, 42)));
        assert!(decode_cursor(Sort::Newest, &by_price).is_err());
        let by_id = encode_cursor(Sort::Newest, &row);
        assert_eq!(decode_cursor(Sort::Relevance, &by_id), Ok(After::Id(42)));
        assert!(decode_cursor(Sort::Newest, "garbage!").is_err());
    }
}
