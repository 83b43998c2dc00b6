//! Queries over the reference tables.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{categories, provinces, wards};
use crate::error::AppError;
use crate::with_conn;

diesel::define_sql_function!(fn length(text: diesel::sql_types::Text) -> diesel::sql_types::Integer);

#[derive(Queryable, Selectable)]
#[diesel(table_name = provinces)]
pub struct ProvinceRecord {
    pub code: i32,
    pub name: String,
    pub division_type: String,
    pub codename: String,
    pub phone_code: i32,
    pub region: String,
}

#[derive(Queryable)]
pub struct WardRecord {
    pub code: i32,
    pub name: String,
    pub division_type: String,
    pub province_code: i32,
    pub province_name: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct CategoryRecord {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub default_unit: String,
    pub unit_weight_g: i32,
    pub keywords: String,
}

pub fn provinces(conn: &mut Conn<'_>) -> Result<Vec<ProvinceRecord>, AppError> {
    Ok(with_conn!(conn, |c| provinces::table.order(provinces::code).select(ProvinceRecord::as_select()).load(c))?)
}

pub fn province_exists(conn: &mut Conn<'_>, code: i32) -> Result<bool, AppError> {
    Ok(with_conn!(conn, |c| diesel::select(diesel::dsl::exists(provinces::table.find(code))).get_result(c))?)
}

/// Which wards to return: those of one province or of the whole country, matching every search term as
/// the start of a word of the name ("buon ma" finds "Phường Buôn Ma Thuột", "ma" does not find "Cà Mau").
pub struct WardFilter {
    pub province: Option<i32>,
    pub terms: Vec<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Matching wards, closest names first (shorter names first: the query covers more of them).
pub fn wards(conn: &mut Conn<'_>, filter: &WardFilter) -> Result<Vec<WardRecord>, AppError> {
    // Built inside `with_conn!`: a boxed query belongs to one backend.
    let records = with_conn!(conn, |c| {
        let mut query = wards::table
            .inner_join(provinces::table)
            .select((wards::code, wards::name, wards::division_type, wards::province_code, provinces::name))
            .order((length(wards::name_search), wards::code))
            .limit(filter.limit)
            .offset(filter.offset)
            .into_boxed();
        if let Some(province) = filter.province {
            query = query.filter(wards::province_code.eq(province));
        }
        for term in &filter.terms {
            let word_start =
                wards::name_search.like(format!("{term}%")).or(wards::name_search.like(format!("% {term}%")));
            query = query.filter(word_start);
        }
        query.load(c)
    })?;
    Ok(records)
}

pub fn categories(conn: &mut Conn<'_>) -> Result<Vec<CategoryRecord>, AppError> {
    Ok(with_conn!(conn, |c| categories::table
        .order(categories::sort_order)
        .select(CategoryRecord::as_select())
        .load(c))?)
}

/// Names of some communes, by code.
pub fn ward_names(conn: &mut Conn<'_>, codes: &[i32]) -> Result<HashMap<i32, String>, AppError> {
    let rows: Vec<(i32, String)> = with_conn!(conn, |c| wards::table
        .filter(wards::code.eq_any(codes))
        .select((wards::code, wards::name))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// Names of some provinces, by code.
pub fn province_names(conn: &mut Conn<'_>, codes: &[i32]) -> Result<HashMap<i32, String>, AppError> {
    let rows: Vec<(i32, String)> = with_conn!(conn, |c| provinces::table
        .filter(provinces::code.eq_any(codes))
        .select((provinces::code, provinces::name))
        .load(c))?;
    Ok(rows.into_iter().collect())
}
