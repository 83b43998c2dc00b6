//! The queries behind the search index: the change feed (`catalogue_changes`, written by triggers) and the
//! rows the index keeps.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::super::store::{ListingRow, PublicFarmer, listing_columns, listing_joins};
use crate::db::Conn;
use crate::db::schema::{catalogue_changes, categories, listings, media, provinces, users, wards};
use crate::domain::status::{ListingStatus, Role};
use crate::error::AppError;
use crate::with_conn;

/// What a change row is about (the `kind` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Listing(i64),
    /// A farmer's name, commune or role: their storefront and the name on their listings.
    Farmer(i64),
}

/// A change row: its subject and its number.
pub struct Change {
    pub subject: Subject,
    pub seq: i64,
}

/// PostgreSQL takes a change's number before its transaction commits, so a lower number can become visible
/// after a higher one was read. Rather than track gaps, every read also takes the rows whose transaction
/// started within this window (re-applying nothing already applied): a transaction that lasts less than it
/// is never missed. SQLite commits one writer at a time, in number order, and needs no window.
const LATE_COMMIT_WINDOW: &str = "catalogue_changes.changed_at > LOCALTIMESTAMP - interval '10 seconds'";

/// The number of the last change (0 when there was none).
pub fn last_change(conn: &mut Conn<'_>) -> Result<i64, AppError> {
    let last = with_conn!(conn, |c| catalogue_changes::table
        .select(diesel::dsl::max(catalogue_changes::seq))
        .first::<Option<i64>>(c))?;
    Ok(last.unwrap_or(0))
}

/// Changes numbered above `above`, and (PostgreSQL) those of transactions started in the last seconds.
pub fn changes_since(conn: &mut Conn<'_>, above: i64) -> Result<Vec<Change>, AppError> {
    let late_commits = matches!(conn, Conn::Pg(_));
    let columns = (catalogue_changes::kind, catalogue_changes::subject_id, catalogue_changes::seq);
    let mut rows: Vec<(i32, i64, i64)> = with_conn!(conn, |c| catalogue_changes::table
        .select(columns)
        .filter(catalogue_changes::seq.gt(above))
        .load(c))?;
    if late_commits {
        // A query of its own: with `OR` the two conditions would scan the whole table (195 ms at a million
        // listings, every 250 ms) instead of using one index each.
        rows.extend(with_conn!(conn, |c| catalogue_changes::table
            .select(columns)
            .filter(sql::<Bool>(LATE_COMMIT_WINDOW))
            .load::<(i32, i64, i64)>(c))?);
        rows.sort_unstable();
        rows.dedup();
    }
    Ok(rows
        .into_iter()
        .map(|(kind, id, seq)| Change {
            subject: if kind == 2 { Subject::Farmer(id) } else { Subject::Listing(id) },
            seq,
        })
        .collect())
}

/// A listing with its searchable title (`search_key` of the title, between spaces).
pub type Indexed = (ListingRow, String);

/// Active listings (sold out included) after `after_id`, by id: the index is built from these, page by page.
pub fn active_listings(conn: &mut Conn<'_>, after_id: i64, limit: i64) -> Result<Vec<Indexed>, AppError> {
    Ok(with_conn!(conn, |c| listing_joins!()
        .select((listing_columns!(), listings::title_search))
        .filter(listings::status.eq(ListingStatus::Active))
        .filter(listings::id.gt(after_id))
        .order(listings::id)
        .limit(limit)
        .load(c))?)
}

/// These listings as they are now, whatever their status (absent: deleted).
pub fn listings_by_id(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<Indexed>, AppError> {
    Ok(with_conn!(conn, |c| listing_joins!()
        .select((listing_columns!(), listings::title_search))
        .filter(listings::id.eq_any(ids))
        .load(c))?)
}

/// The active listings of these farmers (their name is on each).
pub fn listings_of_farmers(conn: &mut Conn<'_>, farmer_ids: &[i64]) -> Result<Vec<Indexed>, AppError> {
    Ok(with_conn!(conn, |c| listing_joins!()
        .select((listing_columns!(), listings::title_search))
        .filter(listings::farmer_id.eq_any(farmer_ids))
        .filter(listings::status.eq(ListingStatus::Active))
        .load(c))?)
}

/// Farmers as buyers see them: every one (`None`), or these.
pub fn public_farmers(conn: &mut Conn<'_>, ids: Option<&[i64]>) -> Result<Vec<PublicFarmer>, AppError> {
    Ok(with_conn!(conn, |c| {
        let mut query = users::table
            .inner_join(wards::table.inner_join(provinces::table))
            .filter(users::role.eq(Role::Farmer))
            .select((users::id, users::name, wards::code, wards::name, provinces::code, provinces::name))
            .into_boxed();
        if let Some(ids) = ids {
            query = query.filter(users::id.eq_any(ids));
        }
        query.load(c)
    })?)
}
