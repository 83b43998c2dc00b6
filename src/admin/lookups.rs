//! What an operator looks up, for the API and the web app alike: farmers (and one farmer whole), helpers with
//! their team, teams with their communes and helpers, partners with their keys (never a secret), listings of
//! any status, and the helpers' audit log. Each list is paged the same way ([`Page`]), newest first, and each
//! filter that cannot be met is a 422 on its field. Orders are looked up in `orders::lookup`; refunds owed are
//! `GET /admin/refunds`.

use actix_web::web;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, HelperAuditFilter, PersonFilter, PersonRow};
use crate::clock::VietnamDays;
use crate::consents::{Consent, Named, rules::consents_of};
use crate::domain::phone::Phone;
use crate::domain::status::{AuditAction, AuditEntity, ListingStatus, Role};
use crate::domain::text::search_terms;
use crate::error::{AppError, FieldError, Text};
use crate::http::Page;
use crate::listings::{self, Listing};
use crate::reference::{PlaceRef, WardRef};
use crate::state::AppState;

/// A farmer or a helper in an operator's list.
#[derive(Serialize, ToSchema)]
pub struct PersonSummary {
    pub id: i64,
    pub name: String,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Farmers: their commune.
    pub ward: Option<WardRef>,
    /// Helpers: their community team.
    pub team: Option<Named>,
    /// Set while suspended.
    pub suspended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One farmer, whole, as an operator reads them.
#[derive(Serialize, ToSchema)]
pub struct FarmerDetails {
    pub farmer: PersonSummary,
    /// Every consent they gave a team, live and ended, newest first.
    pub consents: Vec<Consent>,
    /// Their listings, whatever the status.
    pub listings: i64,
}

/// A community team with the communes it covers and its helpers.
#[derive(Serialize, ToSchema)]
pub struct TeamDetails {
    pub id: i64,
    pub name: String,
    pub wards: Vec<PlaceRef>,
    pub helpers: Vec<Named>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A partner's API key as operators see it: never the key, nor its hash.
#[derive(Serialize, ToSchema)]
pub struct KeyDetails {
    pub id: i64,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A partner with the provinces it serves and its keys.
#[derive(Serialize, ToSchema)]
pub struct PartnerDetails {
    pub id: i64,
    pub name: String,
    pub provinces: Vec<PlaceRef>,
    pub keys: Vec<KeyDetails>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One thing a helper did for a farmer.
#[derive(Serialize, ToSchema)]
pub struct HelperAct {
    pub id: i64,
    pub helper: Named,
    pub farmer: Named,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// Text given in a query, or `None` when left empty.
pub fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// A phone typed any way, as stored (E.164); a 422 on `phone` when it cannot be a Vietnamese mobile.
pub fn phone_filter(phone: Option<&str>) -> Result<Option<String>, FieldError> {
    given(phone).map(|phone| Phone::parse(phone).map(|p| p.as_str().to_owned()).map_err(|e| e.at("phone"))).transpose()
}

/// A province code that exists, or a 422 on `province`.
pub fn province_filter(state: &AppState, code: Option<i32>) -> Result<Option<i32>, FieldError> {
    match code {
        Some(code) if state.reference.places.province(code).is_none() => Err(FieldError::new(
            "province",
            "unknown_province",
            Text::new(format!("Không có tỉnh mã {code}."), format!("There is no province {code}.")),
        )),
        code => Ok(code),
    }
}

fn ward_filter(state: &AppState, code: Option<i32>) -> Result<Option<i32>, FieldError> {
    code.map(|code| {
        state
            .reference
            .places
            .known_ward(code)
            .map(|ward| ward.code)
            .map_err(|e| FieldError { field: "ward".into(), ..e })
    })
    .transpose()
}

fn person(state: &AppState, row: PersonRow) -> PersonSummary {
    PersonSummary {
        ward: row.ward_code.and_then(|code| state.reference.places.ward_ref(code)),
        team: row.team_id.zip(row.team_name).map(|(id, name)| Named { id, name }),
        id: row.id,
        name: row.name,
        phone: row.phone,
        email: row.email,
        suspended_at: row.suspended_at.map(|at| at.and_utc()),
        created_at: row.created_at.and_utc(),
    }
}

/// Farmers (`role` farmer) or helpers, as asked.
pub struct PeopleQuery<'a> {
    pub role: Role,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub province: Option<i32>,
    pub ward: Option<i32>,
    pub team_id: Option<i64>,
}

/// People of one role matching the query, newest first; one more than `page.limit` may come back.
pub async fn people(
    state: &web::Data<AppState>,
    query: &PeopleQuery<'_>,
    page: Page,
) -> Result<Vec<PersonSummary>, AppError> {
    let (phone, province, ward) =
        (phone_filter(query.phone), province_filter(state, query.province), ward_filter(state, query.ward));
    let (phone, province, ward) = crate::validate!(phone, province, ward);
    let filter = PersonFilter {
        role: query.role,
        id: None,
        name: given(query.name).map(str::to_owned),
        phone,
        province,
        ward,
        team_id: query.team_id,
    };
    let rows = state.db.read(move |conn| store::people(conn, &filter, page.fetch_limit(), page.offset)).await?;
    Ok(rows.into_iter().map(|row| person(state, row)).collect())
}

/// One farmer whole: profile, consents to teams, how many listings; 404 when there is no such farmer.
pub async fn farmer(state: &web::Data<AppState>, id: i64) -> Result<FarmerDetails, AppError> {
    let (row, consents, listings) = state
        .db
        .read(move |conn| {
            let row = store::person(conn, Role::Farmer, id)?.ok_or_else(AppError::not_found)?;
            Ok((row, consents_of(conn, id)?, listings::store::count_of_farmer(conn, id)?))
        })
        .await?;
    Ok(FarmerDetails { farmer: person(state, row), consents, listings })
}

/// Teams whose name holds `name`, with their communes and helpers, newest first.
pub async fn teams(state: &web::Data<AppState>, name: Option<&str>, page: Page) -> Result<Vec<TeamDetails>, AppError> {
    let name = given(name).map(str::to_owned);
    let (teams, wards, helpers) = state
        .db
        .read(move |conn| {
            let teams = store::teams(conn, name.as_deref(), page.fetch_limit(), page.offset)?;
            let ids: Vec<i64> = teams.iter().map(|team| team.0).collect();
            Ok((teams, store::wards_of_teams(conn, &ids)?, store::helpers_of_teams(conn, &ids)?))
        })
        .await?;
    let places = &state.reference.places;
    Ok(teams
        .into_iter()
        .map(|(id, name, created_at, suspended_at)| TeamDetails {
            id,
            name,
            wards: wards.iter().filter(|(team, _)| *team == id).map(|(_, code)| places.ward_place(*code)).collect(),
            helpers: helpers
                .iter()
                .filter(|(team, ..)| *team == Some(id))
                .map(|(_, helper, name)| Named { id: *helper, name: name.clone() })
                .collect(),
            suspended_at: suspended_at.map(|at| at.and_utc()),
            created_at: created_at.and_utc(),
        })
        .collect())
}

/// Partners whose name holds `name`, with their provinces and keys, newest first.
pub async fn partners(
    state: &web::Data<AppState>,
    name: Option<&str>,
    page: Page,
) -> Result<Vec<PartnerDetails>, AppError> {
    let name = given(name).map(str::to_owned);
    let (partners, provinces, keys) = state
        .db
        .read(move |conn| {
            let partners = store::partners(conn, name.as_deref(), page.fetch_limit(), page.offset)?;
            let ids: Vec<i64> = partners.iter().map(|partner| partner.0).collect();
            Ok((partners, store::provinces_of_partners(conn, &ids)?, store::keys_of_partners(conn, &ids)?))
        })
        .await?;
    let places = &state.reference.places;
    Ok(partners
        .into_iter()
        .map(|(id, name, created_at, suspended_at)| PartnerDetails {
            id,
            name,
            provinces: provinces
                .iter()
                .filter(|(partner, _)| *partner == id)
                .map(|(_, code)| places.province_place(*code))
                .collect(),
            keys: keys
                .iter()
                .filter(|key| key.0 == id)
                .map(|(_, key_id, prefix, created_at, revoked_at)| KeyDetails {
                    id: *key_id,
                    prefix: prefix.clone(),
                    created_at: created_at.and_utc(),
                    revoked_at: revoked_at.map(|at| at.and_utc()),
                })
                .collect(),
            suspended_at: suspended_at.map(|at| at.and_utc()),
            created_at: created_at.and_utc(),
        })
        .collect())
}

/// Listings as asked, any status.
#[derive(Default)]
pub struct ListingQuery<'a> {
    /// Words of the title, typed with or without accents.
    pub q: Option<&'a str>,
    pub farmer_id: Option<i64>,
    pub province: Option<i32>,
    pub status: Option<ListingStatus>,
    pub hidden: bool,
}

/// Listings matching the query, newest first, each with the reason it is hidden, if it is.
pub async fn listings(
    state: &web::Data<AppState>,
    query: &ListingQuery<'_>,
    page: Page,
) -> Result<Vec<Listing>, AppError> {
    let province = province_filter(state, query.province)?;
    let filter = listings::store::ListingFilter {
        terms: search_terms(given(query.q).unwrap_or_default()).into_iter().take(8).collect(),
        farmer_id: query.farmer_id,
        province,
        status: query.status,
        hidden: query.hidden,
    };
    let rows = state
        .db
        .read(move |conn| listings::store::search_listings(conn, &filter, page.fetch_limit(), page.offset))
        .await?;
    Ok(rows.into_iter().map(Listing::from).collect())
}

/// Lines of the helpers' audit log, newest first: what helpers did for farmers, by farmer, helper and days
/// (Vietnam time).
pub async fn helper_audit(
    state: &web::Data<AppState>,
    farmer_id: Option<i64>,
    actor_id: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    page: Page,
) -> Result<Vec<HelperAct>, AppError> {
    let days = VietnamDays::new(from, to)?;
    let filter = HelperAuditFilter { farmer_id, actor_id, since: days.since, until: days.until };
    let (rows, farmers) = state
        .db
        .read(move |conn| {
            let rows = store::helper_audit(conn, &filter, page.fetch_limit(), page.offset)?;
            let farmer_ids: Vec<i64> = rows.iter().map(|row| row.3).collect();
            Ok((rows, store::names(conn, &farmer_ids)?))
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, actor_id, actor_name, farmer_id, action, entity_id, at)| HelperAct {
            id,
            helper: Named { id: actor_id, name: actor_name },
            farmer: Named {
                id: farmer_id,
                name: farmers.iter().find(|(f, _)| *f == farmer_id).map(|(_, name)| name.clone()).unwrap_or_default(),
            },
            action,
            entity: action.entity(),
            entity_id,
            at: at.and_utc(),
        })
        .collect())
}

/// One listing of any status, with the reason it is hidden, if it is; 404 when there is no such listing.
pub async fn listing(state: &web::Data<AppState>, id: i64) -> Result<Listing, AppError> {
    let row = state.db.read(move |conn| listings::store::listing(conn, id)).await?;
    row.map(Listing::from).ok_or_else(AppError::not_found)
}
