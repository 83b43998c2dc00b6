//! Produce listings: create in a few taps (everything else inferred), quick edits, a farmer's own list,
//! the public catalogue with accent-free search, listing pages and farmer storefronts. What a farmer does with
//! their listings is in `selling`, shared with the web app; the routes here are thin.

pub mod catalogue;
pub mod demo;
pub mod index;
pub mod photos;
pub mod rules;
pub mod selling;
pub mod sentence;
pub mod store;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::ActingFarmer;
use crate::domain::quantity::Unit;
use crate::domain::status::ListingStatus;
use crate::error::{AppError, Lang, Problem};
use crate::http::{ApiJson, ApiQuery, Page, PageQuery, etag_json};
use crate::reference::PlaceRef;
use crate::state::AppState;
use rules::{Given, NumberOrText};
use utoipa::openapi::{RefOr, Schema};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(photos::upload_routes)
        .service(parse_listing)
        .service(create_listing)
        .service(update_listing)
        .service(my_listings)
        .service(catalogue::list_catalogue)
        .service(get_listing)
        .service(catalogue::storefront);
}

#[derive(Serialize, ToSchema)]
pub struct CategoryRef {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

#[derive(Serialize, ToSchema)]
pub struct FarmerRef {
    pub id: i64,
    /// Display name only: a farmer's phone is never shown to buyers.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct PhotoRef {
    pub id: i64,
    pub url: String,
    pub thumb_url: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct Labels {
    /// OCOP rating, 1 to 5 stars.
    pub ocop_stars: Option<i32>,
    #[serde(default)]
    pub vietgap: bool,
    #[serde(default)]
    pub organic: bool,
}

/// A listing with every field, inferred ones included.
#[derive(Serialize, ToSchema)]
pub struct Listing {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub category: CategoryRef,
    pub price_vnd: i64,
    pub unit: Unit,
    /// The unit as Vietnamese people write it: kg, quả, bó…
    pub unit_name: String,
    pub unit_weight_g: i32,
    /// Whole units in stock; 0 is sold out.
    pub quantity: i64,
    pub sold_out: bool,
    pub status: ListingStatus,
    pub photo: Option<PhotoRef>,
    pub farmer: FarmerRef,
    /// Origin commune.
    pub ward: PlaceRef,
    pub province: PlaceRef,
    pub available_from: Option<NaiveDate>,
    pub labels: Labels,
    /// The confirmation line: "Xoài cát · Trái cây · 25.000đ/kg · còn 200 kg".
    pub summary: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set while an operator has hidden the listing: why. Buyers do not see it and only an operator can put it
    /// back on sale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_reason: Option<String>,
}

pub fn media_url(name: &str) -> String {
    format!("/media/{name}")
}

impl From<store::ListingRow> for Listing {
    fn from(row: store::ListingRow) -> Listing {
        let unit = Unit::parse_code(&row.unit).unwrap_or(Unit::Kg);
        let photo = match (row.photo_id, row.display_name, row.thumb_name) {
            (Some(id), Some(display), Some(thumb)) => {
                Some(PhotoRef { id, url: media_url(&display), thumb_url: media_url(&thumb) })
            }
            _ => None,
        };
        Listing {
            summary: rules::summary(&row.title, &row.category_name_vi, row.price_vnd, unit, row.quantity),
            id: row.id,
            title: row.title,
            description: row.description,
            category: CategoryRef {
                code: row.category_code,
                name_vi: row.category_name_vi,
                name_en: row.category_name_en,
            },
            price_vnd: row.price_vnd,
            unit,
            unit_name: unit.name_vi().to_owned(),
            unit_weight_g: row.unit_weight_g,
            quantity: row.quantity,
            sold_out: row.quantity == 0,
            status: row.status,
            photo,
            farmer: FarmerRef { id: row.farmer_id, name: row.farmer_name },
            ward: PlaceRef { code: row.ward_code, name: row.ward_name },
            province: PlaceRef { code: row.province_code, name: row.province_name },
            available_from: row.available_from.map(|at| at.date()),
            labels: Labels { ocop_stars: row.ocop_stars, vietgap: row.vietgap, organic: row.organic },
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            hidden_reason: row.hidden_reason,
        }
    }
}

fn price_schema() -> RefOr<Schema> {
    rules::number_or_text(
        "A number of đồng, or text: \"25k\", \"25.000đ\", \"1tr2\", or with what it buys: \"25k/kg\", \"1tr/tạ\" \
         (10.000đ a kg), \"100k/chục\" (10.000đ a quả). The price is stored per unit of the listing.",
    )
}

fn quantity_schema() -> RefOr<Schema> {
    rules::number_or_text(
        "A number of the listing's unit, or text: \"200\", \"2 tạ\" (200 kg), \"50 ký\", \"100 quả\", \"3 chục\" (30 \
         quả). A unit that does not convert into the listing's is refused (`unit_conflict`).",
    )
}

fn unit_weight_schema() -> RefOr<Schema> {
    rules::number_or_text(
        "Weight of one unit, for shipping: a number of grams, or text: \"2 kg\", \"800 g\", \"3 lạng\". Default: the \
         typical weight of the produce's pieces, else the category's, else the unit's. Kg and lít weigh what they say.",
    )
}

#[derive(Deserialize, ToSchema)]
pub struct NewListingRequest {
    /// e.g. "Xoài cát Hòa Lộc": the category is inferred from it.
    pub title: String,
    #[schema(schema_with = price_schema)]
    pub price: NumberOrText,
    #[schema(schema_with = quantity_schema)]
    pub quantity: NumberOrText,
    /// Unit code or word (kg, quả, nải, bó, thùng…); default: from the quantity or price text, else the
    /// category's.
    pub unit: Option<String>,
    #[schema(schema_with = unit_weight_schema)]
    pub unit_weight: Option<NumberOrText>,
    /// Category code; default: inferred from the title.
    pub category: Option<String>,
    /// Photos uploaded with POST /api/v1/media; the first is the main one.
    #[serde(default)]
    pub photo_ids: Vec<i64>,
    pub description: Option<String>,
    /// Harvest or availability date (YYYY-MM-DD).
    pub available_from: Option<NaiveDate>,
    pub labels: Option<Labels>,
}

/// Price and quantity are read in the listing's unit, as at creation: "2 tạ" on a kg listing is 200, on a
/// listing sold per quả it is refused.
#[derive(Default, Deserialize, ToSchema)]
pub struct ListingUpdate {
    #[schema(schema_with = price_schema)]
    pub price: Option<NumberOrText>,
    #[schema(schema_with = quantity_schema)]
    pub quantity: Option<NumberOrText>,
    #[schema(schema_with = unit_weight_schema)]
    pub unit_weight: Option<NumberOrText>,
    /// `active` (resume), `paused` or `archived`.
    pub status: Option<ListingStatus>,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ParseRequest {
    /// One sentence, e.g. "xoài cát hòa lộc 25k/kg còn 2 tạ".
    pub text: String,
}

/// What a sentence says. Every null field is explained in `errors`; nothing is guessed.
#[derive(Serialize, ToSchema)]
pub struct ParsedListing {
    /// The produce as typed: capitals, marks and typos kept.
    pub title: Option<String>,
    /// Per one `unit`.
    pub price_vnd: Option<i64>,
    pub unit: Option<Unit>,
    pub quantity: Option<i64>,
    /// Grams in one unit, as a listing would ship it: as the sentence states ("1 quả khoảng 2 kg"), else
    /// typical for the produce, the category or the unit. Null when the unit is.
    pub unit_weight_g: Option<i32>,
    pub category: Option<CategoryRef>,
    /// The confirmation line, when every field is known.
    pub summary: Option<String>,
    pub errors: Vec<ParseIssue>,
}

#[derive(Serialize, ToSchema)]
pub struct ParseIssue {
    /// The field that is null because of this.
    pub field: String,
    /// `title_missing`, `price_missing`, `price_ambiguous`, `unit_missing`, `quantity_missing`,
    /// `unit_conflict`, `category_not_inferred`, or why a number could not be read (`price_too_high`…).
    pub code: String,
    /// In the caller's language (`Accept-Language`).
    pub message: String,
    /// For `price_ambiguous`: the price if the number meant thousands of đồng ("giá 25" → 25000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion_vnd: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ListingPage {
    pub items: Vec<Listing>,
    pub next_cursor: Option<String>,
}

/// Turns one sentence into listing fields without saving anything.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    request_body = ParseRequest,
    responses(
        (status = 200, description = "What was understood, and what was not", body = ParsedListing),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The text has control characters", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/parse")]
async fn parse_listing(
    state: web::Data<AppState>,
    lang: Lang,
    _farmer: ActingFarmer,
    ApiJson(body): ApiJson<ParseRequest>,
) -> Result<web::Json<ParsedListing>, AppError> {
    Ok(web::Json(selling::understand(&body.text, &state.reference, lang)?))
}

/// Lists produce: only a title, a price and a quantity are needed; the answer shows every inferred field. With
/// an `Idempotency-Key`, sending the same listing again answers with the listing it made and lists nothing more.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(
        ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional: one random value per listing (at most 200 characters), the same when it is sent again"),
    ),
    request_body = NewListingRequest,
    responses(
        (status = 201, description = "Listed (or, for a key sent before, the listing it made)", body = Listing),
        (status = 400, description = "Idempotency-Key blank or too long", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same key still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Price, quantity, unit or category not understood, or the same key used for another listing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings")]
async fn create_listing(
    state: web::Data<AppState>,
    req: HttpRequest,
    acting: ActingFarmer,
    ApiJson(body): ApiJson<NewListingRequest>,
) -> Result<HttpResponse, AppError> {
    let key = crate::idempotency::optional_key_of(&req)?;
    let given = Given {
        title: &body.title,
        price: &body.price,
        quantity: &body.quantity,
        unit: body.unit.as_deref(),
        category: body.category.as_deref(),
        unit_weight: body.unit_weight.as_ref(),
    };
    let extras = selling::Extras {
        description: body.description.as_deref(),
        labels: body.labels,
        photo_ids: body.photo_ids,
        available_from: body.available_from,
    };
    let new = selling::check(&given, extras, &state.reference)?;
    let listing = selling::create_once(&state, &acting, new, None, key).await?;
    Ok(HttpResponse::Created().json(listing))
}

/// One-tap edits: price, quantity (0 = sold out), pause, resume, archive, title, description, weight of one
/// unit. Price and quantity are read in the listing's unit.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Listing id"), ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    request_body = ListingUpdate,
    responses(
        (status = 200, description = "The updated listing", body = Listing),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing of this farmer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Put back on sale while an operator has hidden it (`listing_hidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/listings/{id}")]
async fn update_listing(
    state: web::Data<AppState>,
    acting: ActingFarmer,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<ListingUpdate>,
) -> Result<web::Json<Listing>, AppError> {
    Ok(web::Json(selling::update(&state, &acting, id.into_inner(), body).await?))
}

/// The farmer's own listings, every status, newest first.
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(PageQuery, ("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    responses(
        (status = 200, description = "One page", body = ListingPage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/listings")]
async fn my_listings(
    state: web::Data<AppState>,
    acting: ActingFarmer,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<web::Json<ListingPage>, AppError> {
    let page = Page::of(&query)?;
    let (items, next_cursor) = page.finish(selling::own_listings(&state, &acting, page).await?);
    Ok(web::Json(ListingPage { items, next_cursor }))
}

/// A listing as buyers see it (active ones, sold out included). Answers `If-None-Match` with 304.
#[utoipa::path(
    tag = "catalogue",
    params(("id" = i64, Path, description = "Listing id")),
    responses(
        (status = 200, description = "The listing; `ETag` header set", body = Listing),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 404, description = "No such listing on sale", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}")]
async fn get_listing(
    index: web::Data<index::CatalogueIndex>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    etag_json(&req, &catalogue::public_listing(&index, id.into_inner()).await?)
}
