//! What a farmer (or a helper acting for them) does with their listings, the one path the API and the web app
//! share: understand a sentence, list produce once per `Idempotency-Key` (a phone that sends it again, from an
//! offline queue or after a lost reply, gets the listing it made, never a second one), edit price, stock and
//! status, and see their own listings.

use actix_web::web;
use chrono::NaiveDate;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::rules::{self, Given, Resolved, UnitBasis};
use super::{CategoryRef, Labels, Listing, ListingUpdate, ParseIssue, ParsedListing, catalogue, photos, store};
use crate::audit;
use crate::auth::ActingFarmer;
use crate::db::Conn;
use crate::domain::quantity::Unit;
use crate::domain::status::{AuditAction, ConsentPurpose, ListingStatus};
use crate::domain::text::{Lines, refuse_control_characters, search_key, typed_text};
use crate::error::{AppError, Kind, Lang, Text};
use crate::http::Page;
use crate::idempotency::{self, Keyed, Once};
use crate::reference::Reference;
use crate::state::AppState;

/// Turns one sentence into listing fields without saving anything; every field left empty is explained.
pub fn understand(text: &str, reference: &Reference, lang: Lang) -> Result<ParsedListing, AppError> {
    refuse_control_characters(text, Lines::Many).map_err(|e| AppError::validation(vec![e.at("text")]))?;
    let read = super::sentence::read(text);
    let category = read.title.as_deref().and_then(|t| reference.categories.infer(t));
    let mut errors: Vec<ParseIssue> = read
        .issues
        .into_iter()
        .map(|issue| ParseIssue {
            field: issue.field.to_owned(),
            code: issue.invalid.code.to_owned(),
            message: issue.invalid.message.get(lang).to_owned(),
            suggestion_vnd: issue.suggestion_vnd,
        })
        .collect();
    if category.is_none() {
        let why = rules::not_inferred();
        errors.push(ParseIssue {
            field: why.field,
            code: why.code.to_owned(),
            message: why.message.get(lang).to_owned(),
            suggestion_vnd: None,
        });
    }
    let title = read.title.as_deref().unwrap_or_default();
    let unit_weight_g =
        read.unit.map(|unit| rules::unit_weight_g(unit, read.unit_weight_g, title, category, reference));
    let summary = match (&read.title, category, read.price_vnd, read.unit, read.quantity) {
        (Some(title), Some(category), Some(price), Some(unit), Some(quantity)) => {
            Some(rules::summary(title, &category.name_vi, price, unit, quantity))
        }
        _ => None,
    };
    Ok(ParsedListing {
        title: read.title,
        price_vnd: read.price_vnd,
        unit: read.unit,
        quantity: read.quantity,
        unit_weight_g,
        category: category.map(|c| CategoryRef {
            code: c.code.clone(),
            name_vi: c.name_vi.clone(),
            name_en: c.name_en.clone(),
        }),
        summary,
        errors,
    })
}

/// The farmer's description: up to 2000 characters, line breaks allowed.
fn description(text: Option<&str>) -> Result<Option<String>, AppError> {
    typed_text("description", text, 2000, Lines::Many).map_err(|error| AppError::validation(vec![error]))
}

fn check_labels(labels: &Labels) -> Result<(), AppError> {
    match labels.ocop_stars {
        Some(stars) if !(1..=5).contains(&stars) => Err(AppError::invalid_field(
            "labels.ocop_stars",
            "ocop_stars_range",
            Text::new("Số sao OCOP từ 1 đến 5.", "OCOP stars are 1 to 5."),
        )),
        _ => Ok(()),
    }
}

/// A listing ready to create: everything inferred from what the farmer gave, and the rest of the request.
pub struct NewListing {
    pub resolved: Resolved,
    pub description: Option<String>,
    pub labels: Labels,
    /// Photos uploaded before; the first is the main one.
    pub photo_ids: Vec<i64>,
    pub available_from: Option<NaiveDate>,
}

/// What else a listing may carry besides the fields a farmer types.
#[derive(Default)]
pub struct Extras<'a> {
    pub description: Option<&'a str>,
    pub labels: Option<Labels>,
    pub photo_ids: Vec<i64>,
    pub available_from: Option<NaiveDate>,
}

/// Checks and infers a listing (category, unit, weight), naming every field that is not understood.
pub fn check(given: &Given<'_>, extras: Extras<'_>, reference: &Reference) -> Result<NewListing, AppError> {
    let resolved = rules::resolve(given, reference)?;
    let description = description(extras.description)?;
    let labels = extras.labels.unwrap_or_default();
    check_labels(&labels)?;
    Ok(NewListing { resolved, description, labels, photo_ids: extras.photo_ids, available_from: extras.available_from })
}

impl NewListing {
    /// The fingerprint of what is asked for, so that the same key with another listing is refused. A photo sent
    /// along (not uploaded yet) counts by its bytes.
    fn fingerprint(&self, photo: Option<&[u8]>) -> Result<String, AppError> {
        let resolved = &self.resolved;
        let asked = json!({
            "title": resolved.title,
            "category": resolved.category_code,
            "price_vnd": resolved.price_vnd,
            "unit": resolved.unit.as_str(),
            "unit_weight_g": resolved.unit_weight_g,
            "quantity": resolved.quantity,
            "description": self.description,
            "labels": self.labels,
            "photo_ids": self.photo_ids,
            "photo": photo.map(|bytes| hex::encode(Sha256::digest(bytes))),
            "available_from": self.available_from,
        });
        idempotency::request_hash(&serde_json::to_vec(&asked).map_err(AppError::internal)?)
    }
}

/// Creates the listing in the caller's transaction (answering `keyed` in it, when given): its id.
fn insert(
    conn: &mut Conn<'_>,
    acting: &ActingFarmer,
    new: &NewListing,
    keyed: Option<&Keyed>,
    now: chrono::NaiveDateTime,
) -> Result<i64, AppError> {
    let farmer_id = acting.farmer_id;
    let owned = store::owned_media(conn, farmer_id, &new.photo_ids)?;
    if let Some(unknown) = new.photo_ids.iter().find(|id| !owned.contains(id)) {
        return Err(AppError::invalid_field(
            "photo_ids",
            "photo_unknown",
            Text::new(format!("Không có ảnh số {unknown} của bạn."), format!("You have no photo {unknown}.")),
        ));
    }
    let (ward_code, province_code) = store::farmer_home(conn, farmer_id)?;
    let resolved = &new.resolved;
    let title_search = format!(" {} ", search_key(&resolved.title));
    let row = store::NewListing {
        farmer_id,
        title: &resolved.title,
        title_search: &title_search,
        description: new.description.as_deref(),
        category_code: &resolved.category_code,
        unit: resolved.unit.as_str(),
        unit_weight_g: resolved.unit_weight_g,
        price_vnd: resolved.price_vnd,
        quantity: resolved.quantity,
        status: ListingStatus::Active,
        ward_code,
        province_code,
        photo_id: new.photo_ids.first().copied(),
        available_from: new.available_from.and_then(|d| d.and_hms_opt(0, 0, 0)),
        ocop_stars: new.labels.ocop_stars,
        vietgap: new.labels.vietgap,
        organic: new.labels.organic,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let id = store::insert_listing(conn, &row, &new.photo_ids)?;
    audit::record_acting(conn, acting, AuditAction::CreateListing, Some(id.to_string()), now)?;
    if let Some(keyed) = keyed {
        idempotency::complete(conn, &keyed.scope, &keyed.key, 201, &id.to_string())?;
    }
    Ok(id)
}

/// Lists produce for the farmer, once per `key` when one is given: a retry gets the listing this key made (as
/// it is now) and creates nothing. A `photo` sent along is stored first (as `POST /media` stores it) and becomes
/// the main photo; it is stored only when the key is new.
pub async fn create_once(
    state: &web::Data<AppState>,
    acting: &ActingFarmer,
    mut new: NewListing,
    photo: Option<Vec<u8>>,
    key: Option<String>,
) -> Result<Listing, AppError> {
    acting.may(ConsentPurpose::ListProduce)?;
    let now = state.clock.now();
    let keyed = match key {
        Some(key) => {
            let hash = new.fingerprint(photo.as_deref())?;
            Some(Keyed { scope: format!("farmer:{}", acting.farmer_id), key, hash })
        }
        None => None,
    };
    let work = {
        let (acting, keyed) = (acting.clone(), keyed.clone());
        move || async move {
            if let Some(bytes) = photo {
                new.photo_ids.insert(0, photos::store_photo(state, &acting, bytes).await?.id);
            }
            state.db.write(move |conn| insert(conn, &acting, &new, keyed.as_ref(), now)).await
        }
    };
    let id = match &keyed {
        Some(keyed) => match idempotency::run_once(&state.db, keyed, now, work).await? {
            Once::Now(id) => id,
            Once::Before(answer) => answer.body.parse().map_err(AppError::internal)?,
        },
        None => work().await?,
    };
    catalogue::invalidate(&state.cache).await;
    let row = state.db.read(move |conn| store::listing(conn, id)).await?.ok_or_else(AppError::not_found)?;
    Ok(Listing::from(row))
}

/// One-tap edits of the farmer's listing `id` (404 when it is not theirs): price and quantity read in the
/// listing's unit, as at creation ("2 tạ" on a kg listing is 200; on one sold per quả it is refused).
pub async fn update(
    state: &web::Data<AppState>,
    acting: &ActingFarmer,
    id: i64,
    body: ListingUpdate,
) -> Result<Listing, AppError> {
    acting.may(ConsentPurpose::ListProduce)?;
    let title = body.title.as_deref().map(rules::parse_title).transpose().map_err(|e| e.at("title"));
    let stated_weight = body.unit_weight.as_ref().map(rules::read_unit_weight).transpose();
    let (title, stated_weight) = crate::validate!(title, stated_weight);
    let description = description(body.description.as_deref())?;
    let (now, reference, acting) = (state.clock.now(), state.reference.clone(), acting.clone());
    let listing = state
        .db
        .write(move |conn| {
            let Some((owner, unit, current_title)) = store::listing_sale(conn, id)? else {
                return Err(AppError::not_found());
            };
            if owner != acting.farmer_id {
                return Err(AppError::not_found());
            }
            if body.status == Some(ListingStatus::Active) && store::is_hidden(conn, id)? {
                return Err(AppError::new(
                    Kind::Conflict,
                    "listing_hidden",
                    Text::new(
                        "Nông San đã ẩn tin này; chỉ Nông San mới mở lại được. Lý do ghi ở tin.",
                        "Nong San hid this listing; only Nong San can put it back. The reason is on the listing.",
                    ),
                ));
            }
            let unit = Unit::parse_code(&unit).unwrap_or(Unit::Kg);
            let amounts = rules::read_amounts(UnitBasis::Fixed(unit), body.price.as_ref(), body.quantity.as_ref())
                .map_err(AppError::validation)?;
            let weighed_title = title.as_deref().unwrap_or(&current_title);
            let change = store::ListingChange {
                title_search: title.as_deref().map(|t| format!(" {} ", search_key(t))),
                unit_weight_g: stated_weight
                    .map(|grams| rules::unit_weight_g(unit, Some(grams), weighed_title, None, &reference)),
                title,
                description,
                price_vnd: amounts.price_vnd,
                quantity: amounts.quantity,
                status: body.status,
            };
            store::update_listing(conn, id, &change, now)?;
            audit::record_acting(conn, &acting, AuditAction::UpdateListing, Some(id.to_string()), now)?;
            store::listing(conn, id)?.ok_or_else(AppError::not_found)
        })
        .await?;
    catalogue::invalidate(&state.cache).await;
    Ok(Listing::from(listing))
}

/// The farmer's own listings, every status, newest first (a helper's look is audited); one more than
/// `page.limit` may come back, for `page.finish`.
pub async fn own_listings(state: &AppState, acting: &ActingFarmer, page: Page) -> Result<Vec<Listing>, AppError> {
    let farmer_id = acting.farmer_id;
    let view =
        move |conn: &mut Conn<'_>| store::farmer_listings(conn, farmer_id, false, page.fetch_limit(), page.offset);
    let rows = audit::read_for(&state.db, acting, AuditAction::ViewListings, state.clock.now(), view).await?;
    Ok(rows.into_iter().map(Listing::from).collect())
}
