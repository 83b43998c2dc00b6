//! Queries over partner organisations and their API keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{api_keys, partner_provinces, partners};
use crate::error::AppError;
use crate::with_conn;

pub fn insert_partner(
    conn: &mut Conn<'_>,
    name: &str,
    province_codes: &[i32],
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    let id: i64 = with_conn!(conn, |c| diesel::insert_into(partners::table)
        .values((partners::name.eq(name), partners::created_at.eq(now)))
        .returning(partners::id)
        .get_result(c))?;
    for code in province_codes {
        with_conn!(conn, |c| diesel::insert_into(partner_provinces::table)
            .values((partner_provinces::partner_id.eq(id), partner_provinces::province_code.eq(code)))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(id)
}

/// (name, served province codes) of a partner, if it exists.
pub fn partner(conn: &mut Conn<'_>, partner_id: i64) -> Result<Option<(String, Vec<i32>)>, AppError> {
    let name: Option<String> =
        with_conn!(conn, |c| partners::table.find(partner_id).select(partners::name).first(c).optional())?;
    let Some(name) = name else { return Ok(None) };
    Ok(Some((name, served_provinces(conn, partner_id)?)))
}

/// The codes of the provinces whose pickups a partner serves (one query: partners' hot path).
pub fn served_provinces(conn: &mut Conn<'_>, partner_id: i64) -> Result<Vec<i32>, AppError> {
    Ok(with_conn!(conn, |c| partner_provinces::table
        .filter(partner_provinces::partner_id.eq(partner_id))
        .order(partner_provinces::province_code)
        .select(partner_provinces::province_code)
        .load(c))?)
}

pub fn insert_key(
    conn: &mut Conn<'_>,
    partner_id: i64,
    prefix: &str,
    hash: &str,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(with_conn!(conn, |c| diesel::insert_into(api_keys::table)
        .values((
            api_keys::partner_id.eq(partner_id),
            api_keys::prefix.eq(prefix),
            api_keys::key_hash.eq(hash),
            api_keys::created_at.eq(now),
        ))
        .returning(api_keys::id)
        .get_result(c))?)
}

/// Revokes one key of a partner (idempotent); `false` when the partner has no such key.
pub fn revoke_key(conn: &mut Conn<'_>, partner_id: i64, key_id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    let key = api_keys::table.filter(api_keys::id.eq(key_id)).filter(api_keys::partner_id.eq(partner_id));
    let exists: bool = with_conn!(conn, |c| diesel::select(diesel::dsl::exists(key)).get_result(c))?;
    if exists {
        with_conn!(conn, |c| diesel::update(key.filter(api_keys::revoked_at.is_null()))
            .set(api_keys::revoked_at.eq(now))
            .execute(c))?;
    }
    Ok(exists)
}

pub fn key_prefix(conn: &mut Conn<'_>, key_id: i64) -> Result<String, AppError> {
    Ok(with_conn!(conn, |c| api_keys::table.find(key_id).select(api_keys::prefix).first(c))?)
}

/// (id, name) of every partner, newest first.
pub fn partner_names(conn: &mut Conn<'_>) -> Result<Vec<(i64, String)>, AppError> {
    Ok(with_conn!(conn, |c| partners::table.order(partners::id.desc()).select((partners::id, partners::name)).load(c))?)
}
