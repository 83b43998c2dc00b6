//! Reference data: provinces, their communes/wards and produce categories. Public and cached.

pub mod seed;
pub mod store;

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::Db;
use crate::domain::text::search_terms;
use crate::error::{AppError, Problem};
use crate::http::{ApiQuery, Page, cached_json};
use crate::listings::categories::{Categories, CategoryRow};
use crate::startup::AppState;

/// Reference data changes only with a new release, so clients and the cache may keep it this long.
const MAX_AGE: Duration = Duration::from_secs(3600);

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_provinces).service(list_province_wards).service(search_wards).service(list_categories);
}

#[derive(Serialize, ToSchema)]
pub struct Province {
    /// Code of the General Statistics Office.
    pub code: i32,
    pub name: String,
    /// `tỉnh` or `thành phố trung ương`.
    pub division_type: String,
    pub codename: String,
    pub phone_code: i32,
    /// `north`, `central` or `south`: the zone used for shipping fees.
    pub region: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProvinceList {
    pub items: Vec<Province>,
}

#[derive(Serialize, ToSchema)]
pub struct ProvinceRef {
    pub code: i32,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Ward {
    pub code: i32,
    pub name: String,
    /// `xã`, `phường` or `đặc khu`.
    pub division_type: String,
    pub province: ProvinceRef,
}

#[derive(Serialize, ToSchema)]
pub struct WardList {
    pub items: Vec<Ward>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WardQuery {
    /// Words of the name, with or without accents, in any case: `buon ma thuot`, `Đà Lạt`.
    pub q: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Category {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// Unit a listing of this category is sold in unless it says otherwise: kg, qua, bo, con, hop, chai, lit, goi.
    pub default_unit: String,
    /// Weight of one default unit in grams, for shipping.
    pub unit_weight_g: i32,
    /// Vietnamese words that put a listing title in this category.
    pub keywords: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<Category>,
}

/// All 34 provinces and centrally-run cities (since 1 July 2025).
#[utoipa::path(tag = "reference", responses((status = 200, description = "The provinces, by code", body = ProvinceList)))]
#[get("/provinces")]
async fn list_provinces(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let key = format!("ref:{}:provinces", seed::version());
    cached_json(&req, &state.cache, &key, MAX_AGE, || async {
        let records = state.db.read(store::provinces).await?;
        let items = records
            .into_iter()
            .map(|p| Province {
                code: p.code,
                name: p.name,
                division_type: p.division_type,
                codename: p.codename,
                phone_code: p.phone_code,
                region: p.region,
            })
            .collect();
        Ok(ProvinceList { items })
    })
    .await
}

/// The communes and wards of one province, optionally filtered by name.
#[utoipa::path(
    tag = "reference",
    params(("code" = i32, Path, description = "Province code"), WardQuery),
    responses(
        (status = 200, description = "One page of matching wards", body = WardList),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/provinces/{code}/wards")]
async fn list_province_wards(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<i32>,
    ApiQuery(query): ApiQuery<WardQuery>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    ward_page(state, req, Some(code), query).await
}

/// Communes and wards across the country whose name matches `q`, accent- and case-insensitively.
#[utoipa::path(
    tag = "reference",
    params(WardQuery),
    responses(
        (status = 200, description = "One page of matching wards", body = WardList),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/wards")]
async fn search_wards(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiQuery(query): ApiQuery<WardQuery>,
) -> Result<HttpResponse, AppError> {
    ward_page(state, req, None, query).await
}

async fn ward_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    province: Option<i32>,
    query: WardQuery,
) -> Result<HttpResponse, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let terms = search_terms(query.q.as_deref().unwrap_or_default());
    let scope = province.map_or_else(|| "all".to_owned(), |code| code.to_string());
    let key = format!("ref:{}:wards:{scope}:{}:{}:{}", seed::version(), terms.join(" "), page.offset, page.limit);
    let db = state.db.clone();
    cached_json(&req, &state.cache, &key, MAX_AGE, || async move {
        let filter = store::WardFilter { province, terms, limit: page.fetch_limit(), offset: page.offset };
        let records = db
            .read(move |conn| {
                if let Some(code) = filter.province
                    && !store::province_exists(conn, code)?
                {
                    return Err(AppError::not_found());
                }
                store::wards(conn, &filter)
            })
            .await?;
        let (records, next_cursor) = page.finish(records);
        let items = records
            .into_iter()
            .map(|w| Ward {
                code: w.code,
                name: w.name,
                division_type: w.division_type,
                province: ProvinceRef { code: w.province_code, name: w.province_name },
            })
            .collect();
        Ok(WardList { items, next_cursor })
    })
    .await
}

/// Produce categories, with the keywords that infer a listing's category from its title.
#[utoipa::path(tag = "reference", responses((status = 200, description = "The categories, in display order", body = CategoryList)))]
#[get("/categories")]
async fn list_categories(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let key = format!("ref:{}:categories", seed::version());
    cached_json(&req, &state.cache, &key, MAX_AGE, || async {
        let records = state.db.read(store::categories).await?;
        let items = records
            .into_iter()
            .map(|c| Category {
                code: c.code,
                name_vi: c.name_vi,
                name_en: c.name_en,
                default_unit: c.default_unit,
                unit_weight_g: c.unit_weight_g,
                keywords: c.keywords.split('|').map(str::to_owned).collect(),
            })
            .collect();
        Ok(CategoryList { items })
    })
    .await
}

/// The categories as the listing rules use them (read once at start-up: they change only with the seeds).
pub async fn load_categories(db: &Db) -> Result<Categories, AppError> {
    let records = db.read(store::categories).await?;
    let rows = records
        .into_iter()
        .map(|c| CategoryRow {
            code: c.code,
            name_vi: c.name_vi,
            name_en: c.name_en,
            default_unit: c.default_unit,
            unit_weight_g: c.unit_weight_g,
            keywords: c.keywords,
        })
        .collect();
    Ok(Categories::new(rows))
}
