//! Reference data: provinces, their communes/wards, produce categories, the shipping tariff and typical piece
//! weights. Compiled into the binary from `seeds/`, written to the database at start-up (`seed`) and then held
//! in memory ([`Reference`]), where every capability and the public endpoints below read it.

pub mod categories;
pub mod keywords;
pub mod piece_weights;
pub mod places;
pub mod seed;
pub mod store;
pub mod tariff;

use std::time::Duration;

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::Db;
use crate::domain::text::search_terms;
use crate::error::{AppError, Problem};
use crate::http::{ApiQuery, Page};
use categories::Categories;
use piece_weights::PieceWeights;
use places::WardSearch;
pub use places::{PlaceRef, Places, WardRef};
use tariff::Tariff;

/// What the service knows of the country and its produce; read-only after start-up.
pub struct Reference {
    pub places: Places,
    pub categories: Categories,
    pub tariff: Tariff,
    pub piece_weights: PieceWeights,
}

impl Reference {
    /// Reads the seeded tables (run `seed::load_all` first) and the tariff and piece weights compiled into the
    /// binary.
    pub async fn load(db: &Db) -> anyhow::Result<Reference> {
        let (provinces, wards, categories) = db
            .read(|conn| Ok((store::provinces(conn)?, store::wards(conn)?, store::categories(conn)?)))
            .await
            .map_err(|e| anyhow::anyhow!("reading reference data failed: {e}"))?;
        let tariff = Tariff::seeded().map_err(|e| anyhow::anyhow!("seeds/shipping_tariff.csv: {e}"))?;
        let piece_weights = PieceWeights::seeded().map_err(|e| anyhow::anyhow!("seeds/piece_weights.csv: {e}"))?;
        let categories = Categories::new(categories);
        Ok(Reference { places: Places::new(provinces, wards), categories, tariff, piece_weights })
    }
}

/// Reference data changes only with a new release, so clients may keep it this long.
const MAX_AGE: Duration = Duration::from_secs(3600);

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_provinces).service(list_province_wards).service(search_wards).service(list_categories);
}

/// JSON that any client may keep for [`MAX_AGE`].
fn public_json<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, format!("public, max-age={}", MAX_AGE.as_secs()))).json(value)
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
pub struct Ward {
    pub code: i32,
    pub name: String,
    /// `xã`, `phường` or `đặc khu`.
    pub division_type: String,
    pub province: PlaceRef,
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
async fn list_provinces(reference: web::Data<Reference>) -> HttpResponse {
    let items = reference
        .places
        .provinces()
        .iter()
        .map(|p| Province {
            code: p.code,
            name: p.name.clone(),
            division_type: p.division_type.clone(),
            codename: p.codename.clone(),
            phone_code: p.phone_code,
            region: p.region.clone(),
        })
        .collect();
    public_json(&ProvinceList { items })
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
    reference: web::Data<Reference>,
    code: web::Path<i32>,
    ApiQuery(query): ApiQuery<WardQuery>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    reference.places.province(code).ok_or_else(AppError::not_found)?;
    ward_page(&reference.places, Some(code), &query)
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
    reference: web::Data<Reference>,
    ApiQuery(query): ApiQuery<WardQuery>,
) -> Result<HttpResponse, AppError> {
    ward_page(&reference.places, None, &query)
}

fn ward_page(places: &Places, province: Option<i32>, query: &WardQuery) -> Result<HttpResponse, AppError> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let terms = search_terms(query.q.as_deref().unwrap_or_default());
    let search = WardSearch {
        province,
        terms: &terms,
        limit: usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX),
        offset: usize::try_from(page.offset).unwrap_or(usize::MAX),
    };
    let (wards, next_cursor) = page.finish(places.search_wards(&search));
    let items = wards
        .into_iter()
        .map(|ward| Ward {
            code: ward.code,
            name: ward.name.clone(),
            division_type: ward.division_type.clone(),
            province: places.province_place(ward.province_code),
        })
        .collect();
    Ok(public_json(&WardList { items, next_cursor }))
}

/// Produce categories, with the keywords that infer a listing's category from its title.
#[utoipa::path(tag = "reference", responses((status = 200, description = "The categories, in display order", body = CategoryList)))]
#[get("/categories")]
async fn list_categories(reference: web::Data<Reference>) -> HttpResponse {
    let items = reference
        .categories
        .all()
        .iter()
        .map(|c| Category {
            code: c.code.clone(),
            name_vi: c.name_vi.clone(),
            name_en: c.name_en.clone(),
            default_unit: c.default_unit.as_str().to_owned(),
            unit_weight_g: c.unit_weight_g,
            keywords: c.keywords.clone(),
        })
        .collect();
    public_json(&CategoryList { items })
}
