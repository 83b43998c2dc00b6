//! Queries over the reference tables, read once at start-up (see `Reference::load`).

use diesel::prelude::*;

use crate::db::Conn;
use crate::db::schema::{categories, provinces, wards};
use crate::error::AppError;
use crate::with_conn;

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

#[derive(Queryable, Selectable)]
#[diesel(table_name = wards)]
pub struct WardRecord {
    pub code: i32,
    pub name: String,
    pub division_type: String,
    pub province_code: i32,
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

pub fn wards(conn: &mut Conn<'_>) -> Result<Vec<WardRecord>, AppError> {
    Ok(with_conn!(conn, |c| wards::table.order(wards::code).select(WardRecord::as_select()).load(c))?)
}

/// In display order.
pub fn categories(conn: &mut Conn<'_>) -> Result<Vec<CategoryRecord>, AppError> {
    Ok(with_conn!(conn, |c| categories::table
        .order(categories::sort_order)
        .select(CategoryRecord::as_select())
        .load(c))?)
}
