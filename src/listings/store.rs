//! Queries over listings and photos.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::db::Conn;
use crate::db::schema::{categories, listing_photos, listings, media, provinces, users, wards};
use crate::domain::status::{ListingStatus, Role};
use crate::error::AppError;
use crate::with_conn;

#[derive(Insertable)]
#[diesel(table_name = media)]
pub struct NewMedia<'a> {
    pub owner_id: i64,
    pub display_name: &'a str,
    pub thumb_name: &'a str,
    pub width: i32,
    pub height: i32,
    pub bytes: i32,
    pub created_at: NaiveDateTime,
}

pub fn insert_media(conn: &mut Conn<'_>, photo: &NewMedia<'_>) -> Result<i64, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(media::table).values(photo).returning(media::id).get_result(c))?)
}

/// The photos among `ids` that `owner_id` uploaded.
pub fn owned_media(conn: &mut Conn<'_>, owner_id: i64, ids: &[i64]) -> Result<Vec<i64>, AppError> {
    Ok(with_conn!(conn, |c| media::table
        .filter(media::owner_id.eq(owner_id))
        .filter(media::id.eq_any(ids))
        .select(media::id)
        .load(c))?)
}

/// A photo row that no listing shows, as literal SQL over `media` (diesel has no correlated subqueries).
const UNATTACHED: &str = "NOT EXISTS (SELECT 1 FROM listings WHERE listings.photo_id = media.id) \
     AND NOT EXISTS (SELECT 1 FROM listing_photos WHERE listing_photos.media_id = media.id)";

/// Photos uploaded before `cutoff` that no listing shows: id, display and thumbnail file names.
pub fn unattached_media(
    conn: &mut Conn<'_>,
    cutoff: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(i64, String, String)>, AppError> {
    Ok(with_conn!(conn, |c| media::table
        .filter(media::created_at.lt(cutoff))
        .filter(sql::<Bool>(UNATTACHED))
        .select((media::id, media::display_name, media::thumb_name))
        .order(media::id)
        .limit(limit)
        .load(c))?)
}

/// Deletes photo `id` if it is still unattached and older than `cutoff`: false when another instance
/// deleted it first or a listing has shown it since.
pub fn delete_unattached_media(conn: &mut Conn<'_>, id: i64, cutoff: NaiveDateTime) -> Result<bool, AppError> {
    let deleted = with_conn!(conn, |c| diesel::delete(
        media::table.filter(media::id.eq(id)).filter(media::created_at.lt(cutoff)).filter(sql::<Bool>(UNATTACHED))
    )
    .execute(c))?;
    Ok(deleted == 1)
}

/// Whether a photo row still names file `name` (files are named by content, so rows may share one).
pub fn media_file_in_use(conn: &mut Conn<'_>, name: &str) -> Result<bool, AppError> {
    Ok(with_conn!(conn, |c| diesel::select(diesel::dsl::exists(
        media::table.filter(media::display_name.eq(name).or(media::thumb_name.eq(name)))
    ))
    .get_result(c))?)
}

/// A farmer's commune and its province: where their produce comes from.
pub fn farmer_home(conn: &mut Conn<'_>, farmer_id: i64) -> Result<(i32, i32), AppError> {
    Ok(with_conn!(conn, |c| users::table
        .inner_join(wards::table)
        .filter(users::id.eq(farmer_id))
        .select((wards::code, wards::province_code))
        .first(c))?)
}

#[derive(Insertable)]
#[diesel(table_name = listings)]
pub struct NewListing<'a> {
    pub farmer_id: i64,
    pub title: &'a str,
    pub title_search: &'a str,
    pub description: Option<&'a str>,
    pub category_code: &'a str,
    pub unit: &'a str,
    pub unit_weight_g: i32,
    pub price_vnd: i64,
    pub quantity: i64,
    pub status: ListingStatus,
    pub ward_code: i32,
    pub province_code: i32,
    pub photo_id: Option<i64>,
    pub available_from: Option<NaiveDateTime>,
    pub ocop_stars: Option<i32>,
    pub vietgap: bool,
    pub organic: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_listing(conn: &mut Conn<'_>, listing: &NewListing<'_>, photo_ids: &[i64]) -> Result<i64, AppError> {
    let id: i64 = with_conn!(conn, |c| diesel::insert_into(listings::table)
        .values(listing)
        .returning(listings::id)
        .get_result(c))?;
    for (position, media_id) in (0..).zip(photo_ids) {
        let row = (
            listing_photos::listing_id.eq(id),
            listing_photos::media_id.eq(media_id),
            listing_photos::position.eq(position),
        );
        with_conn!(conn, |c| diesel::insert_into(listing_photos::table).values(row).execute(c))?;
    }
    Ok(id)
}

/// Many listings at once (demo catalogues); no photos beyond the main one.
pub fn insert_listings(conn: &mut Conn<'_>, rows: &[NewListing<'_>]) -> Result<usize, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(listings::table).values(rows).execute(c))?)
}

/// A listing with everything shown about it.
#[derive(Queryable, Clone, Debug, PartialEq)]
pub struct ListingRow {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub category_code: String,
    pub category_name_vi: String,
    pub category_name_en: String,
    pub price_vnd: i64,
    pub unit: String,
    pub unit_weight_g: i32,
    pub quantity: i64,
    pub status: ListingStatus,
    pub farmer_id: i64,
    pub farmer_name: String,
    pub ward_code: i32,
    pub ward_name: String,
    pub province_code: i32,
    pub province_name: String,
    pub photo_id: Option<i64>,
    pub display_name: Option<String>,
    pub thumb_name: Option<String>,
    pub available_from: Option<NaiveDateTime>,
    pub ocop_stars: Option<i32>,
    pub vietgap: bool,
    pub organic: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Why an operator hid it, while hidden.
    pub hidden_reason: Option<String>,
}

/// One listing query text for detail, "my listings", storefronts and the search index.
macro_rules! listing_joins {
    () => {
        listings::table
            .inner_join(users::table.on(users::id.eq(listings::farmer_id)))
            .inner_join(wards::table.on(wards::code.eq(listings::ward_code)))
            .inner_join(provinces::table.on(provinces::code.eq(listings::province_code)))
            .inner_join(categories::table.on(categories::code.eq(listings::category_code)))
            .left_join(media::table.on(media::id.nullable().eq(listings::photo_id)))
    };
}

/// The columns of a [`ListingRow`].
macro_rules! listing_columns {
    () => {
        (
            listings::id,
            listings::title,
            listings::description,
            listings::category_code,
            categories::name_vi,
            categories::name_en,
            listings::price_vnd,
            listings::unit,
            listings::unit_weight_g,
            listings::quantity,
            listings::status,
            listings::farmer_id,
            users::name,
            listings::ward_code,
            wards::name,
            listings::province_code,
            provinces::name,
            listings::photo_id,
            media::display_name.nullable(),
            media::thumb_name.nullable(),
            listings::available_from,
            listings::ocop_stars,
            listings::vietgap,
            listings::organic,
            listings::version,
            listings::created_at,
            listings::updated_at,
            listings::hidden_reason,
        )
    };
}

macro_rules! listing_rows {
    () => {
        listing_joins!().select(listing_columns!())
    };
}
pub(super) use {listing_columns, listing_joins};

pub fn listing(conn: &mut Conn<'_>, id: i64) -> Result<Option<ListingRow>, AppError> {
    Ok(with_conn!(conn, |c| listing_rows!().filter(listings::id.eq(id)).first(c).optional())?)
}

/// A farmer's own listings, all statuses, newest first.
pub fn farmer_listings(
    conn: &mut Conn<'_>,
    farmer_id: i64,
    only_visible: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<ListingRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = listing_rows!().filter(listings::farmer_id.eq(farmer_id)).into_boxed();
        if only_visible {
            // The catalogue's rule, as `index::visible` applies it.
            query = query.filter(listings::status.eq(ListingStatus::Active)).filter(listings::quantity.gt(0));
        }
        query.order(listings::id.desc()).limit(limit).offset(offset).load(c)
    })?)
}

/// Who sells a listing, in which unit, and under which title: (farmer id, unit code, title).
pub fn listing_sale(conn: &mut Conn<'_>, id: i64) -> Result<Option<(i64, String, String)>, AppError> {
    Ok(with_conn!(conn, |c| listings::table
        .find(id)
        .select((listings::farmer_id, listings::unit, listings::title))
        .first(c)
        .optional())?)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = listings)]
pub struct ListingChange {
    pub title: Option<String>,
    pub title_search: Option<String>,
    pub description: Option<String>,
    pub price_vnd: Option<i64>,
    pub quantity: Option<i64>,
    pub unit_weight_g: Option<i32>,
    pub status: Option<ListingStatus>,
}

/// Applies a change and bumps the version (the listing's ETag).
pub fn update_listing(
    conn: &mut Conn<'_>,
    id: i64,
    change: &ListingChange,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    with_conn!(conn, |c| diesel::update(listings::table.find(id))
        .set((change, listings::version.eq(listings::version + 1), listings::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}

/// Takes a suspended farmer's live listings out of the catalogue: paused, and marked so that reinstating the
/// farmer resumes exactly these (not the ones the farmer paused).
pub fn pause_for_suspension(conn: &mut Conn<'_>, farmer_id: i64, now: NaiveDateTime) -> Result<usize, AppError> {
    let live =
        listings::table.filter(listings::farmer_id.eq(farmer_id)).filter(listings::status.eq(ListingStatus::Active));
    Ok(with_conn!(conn, |c| diesel::update(live)
        .set((
            listings::status.eq(ListingStatus::Paused),
            listings::paused_by_suspension.eq(true),
            listings::version.eq(listings::version + 1),
            listings::updated_at.eq(now),
        ))
        .execute(c))?)
}

/// Puts back in the catalogue what [`pause_for_suspension`] took out, but for what an operator hid since: that
/// waits for unhiding, which puts it back on sale.
pub fn resume_after_suspension(conn: &mut Conn<'_>, farmer_id: i64, now: NaiveDateTime) -> Result<usize, AppError> {
    let paused =
        listings::table.filter(listings::farmer_id.eq(farmer_id)).filter(listings::paused_by_suspension.eq(true));
    with_conn!(conn, |c| diesel::update(paused.filter(listings::hidden_at.is_not_null()))
        .set((listings::paused_by_suspension.eq(false), listings::paused_by_hiding.eq(true)))
        .execute(c))?;
    Ok(with_conn!(conn, |c| diesel::update(paused)
        .set((
            listings::status.eq(ListingStatus::Active),
            listings::paused_by_suspension.eq(false),
            listings::version.eq(listings::version + 1),
            listings::updated_at.eq(now),
        ))
        .execute(c))?)
}

/// A farmer as buyers see them: (id, name, ward code, ward name, province code, province name).
pub type PublicFarmer = (i64, String, i32, String, i32, String);

pub fn public_farmer(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Option<PublicFarmer>, AppError> {
    Ok(with_conn!(conn, |c| users::table
        .inner_join(wards::table.inner_join(provinces::table))
        .filter(users::id.eq(farmer_id))
        .filter(users::role.eq(Role::Farmer))
        .select((users::id, users::name, wards::code, wards::name, provinces::code, provinces::name))
        .first(c)
        .optional())?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Matching listings, freshest first (same order as `Newest`).
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
}

/// Where the previous page ended (keyset paging: stable under inserts, fast at any depth).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    Id(i64),
    PriceId(i64, i64),
}

pub struct CatalogueFilter {
    /// Words that must each start a word of the title (accent-free form).
    pub terms: Vec<String>,
    pub category: Option<String>,
    pub province: Option<i32>,
    pub ward: Option<i32>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: Sort,
    pub after: Option<After>,
    pub limit: i64,
}

/// What an operator looks listings up by; every part is optional.
#[derive(Default)]
pub struct ListingFilter {
    /// Words that must each start a word of the title (accent-free form).
    pub terms: Vec<String>,
    pub farmer_id: Option<i64>,
    pub province: Option<i32>,
    pub status: Option<ListingStatus>,
    /// Only those an operator hid.
    pub hidden: bool,
}

/// Every listing matching `filter`, any status, newest first.
pub fn search_listings(
    conn: &mut Conn<'_>,
    filter: &ListingFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<ListingRow>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = listing_rows!().into_boxed();
        for term in &filter.terms {
            query = query.filter(listings::title_search.like(format!("% {term}%")));
        }
        if let Some(farmer_id) = filter.farmer_id {
            query = query.filter(listings::farmer_id.eq(farmer_id));
        }
        if let Some(province) = filter.province {
            query = query.filter(listings::province_code.eq(province));
        }
        if let Some(status) = filter.status {
            query = query.filter(listings::status.eq(status));
        }
        if filter.hidden {
            query = query.filter(listings::hidden_at.is_not_null());
        }
        query.order(listings::id.desc()).limit(limit).offset(offset).load(c)
    })?)
}

/// How many listings a farmer has, whatever their status.
pub fn count_of_farmer(conn: &mut Conn<'_>, farmer_id: i64) -> Result<i64, AppError> {
    Ok(with_conn!(conn, |c| listings::table.filter(listings::farmer_id.eq(farmer_id)).count().get_result(c))?)
}

/// Whether an operator has hidden the listing (so the farmer cannot put it back on sale).
pub fn is_hidden(conn: &mut Conn<'_>, id: i64) -> Result<bool, AppError> {
    let hidden = listings::table.find(id).filter(listings::hidden_at.is_not_null());
    Ok(with_conn!(conn, |c| diesel::select(diesel::dsl::exists(hidden)).get_result(c))?)
}

/// Takes a listing out of the catalogue for `reason`: paused (marked when it was on sale, so that unhiding
/// puts it back) and marked hidden. Hiding again only changes the reason. The listing's farmer, or `None`
/// when there is no such listing.
pub fn hide(
    conn: &mut Conn<'_>,
    id: i64,
    operator_id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Option<i64>, AppError> {
    let Some((farmer_id, status)) = with_conn!(conn, |c| listings::table
        .find(id)
        .select((listings::farmer_id, listings::status))
        .first::<(i64, ListingStatus)>(c)
        .optional())?
    else {
        return Ok(None);
    };
    if status == ListingStatus::Active {
        with_conn!(conn, |c| diesel::update(listings::table.find(id))
            .set((listings::status.eq(ListingStatus::Paused), listings::paused_by_hiding.eq(true)))
            .execute(c))?;
    }
    with_conn!(conn, |c| diesel::update(listings::table.find(id))
        .set((
            listings::hidden_at.eq(now),
            listings::hidden_by.eq(operator_id),
            listings::hidden_reason.eq(reason),
            listings::version.eq(listings::version + 1),
            listings::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(Some(farmer_id))
}

/// Lifts the hiding: a listing that was on sale when hidden goes back on sale, unless its farmer is suspended
/// now (then it waits for the reinstatement, as their other listings do). False when there is no such listing.
pub fn unhide(conn: &mut Conn<'_>, id: i64, farmer_suspended: bool, now: NaiveDateTime) -> Result<bool, AppError> {
    let was_live = listings::table.find(id).filter(listings::paused_by_hiding.eq(true));
    if farmer_suspended {
        with_conn!(conn, |c| diesel::update(was_live).set(listings::paused_by_suspension.eq(true)).execute(c))?;
    } else {
        with_conn!(conn, |c| diesel::update(was_live).set(listings::status.eq(ListingStatus::Active)).execute(c))?;
    }
    let changed = with_conn!(conn, |c| diesel::update(listings::table.find(id))
        .set((
            listings::hidden_at.eq(None::<NaiveDateTime>),
            listings::hidden_by.eq(None::<i64>),
            listings::hidden_reason.eq(None::<String>),
            listings::paused_by_hiding.eq(false),
            listings::version.eq(listings::version + 1),
            listings::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(changed == 1)
}
