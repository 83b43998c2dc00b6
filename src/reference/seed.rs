//! Reference data compiled into the binary from `seeds/` and loaded at start-up.
//!
//! Each file is loaded in one transaction and remembered with its checksum in `seed_runs`, so a restart
//! with unchanged seeds writes nothing and a changed file is upserted (rows are never deleted: other
//! tables refer to them).

use std::sync::LazyLock;

use chrono::Utc;
use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::db::schema::{categories, provinces, seed_runs, wards};
use crate::db::{Conn, Db};
use crate::domain::text::search_key;
use crate::error::AppError;
use crate::with_conn;

struct SeedFile {
    name: &'static str,
    content: &'static str,
    load: fn(&mut Conn<'_>, &str) -> Result<usize, AppError>,
}

/// In dependency order: wards refer to provinces.
const SEEDS: &[SeedFile] = &[
    SeedFile { name: "provinces.csv", content: include_str!("../../seeds/provinces.csv"), load: load_provinces },
    SeedFile { name: "wards.csv", content: include_str!("../../seeds/wards.csv"), load: load_wards },
    SeedFile { name: "categories.csv", content: include_str!("../../seeds/categories.csv"), load: load_categories },
];

fn checksum(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// A short fingerprint of all reference data, for cache keys: changed seeds never serve stale pages.
pub fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let all: String = SEEDS.iter().map(|seed| checksum(seed.content)).collect();
        checksum(&all)[..12].to_owned()
    });
    &VERSION
}

/// What one seed file did at start-up.
#[derive(Debug)]
pub struct SeedOutcome {
    pub name: &'static str,
    /// Rows written, or `None` when the file was unchanged and skipped.
    pub rows: Option<usize>,
}

pub async fn load_all(db: &Db) -> Result<Vec<SeedOutcome>, AppError> {
    let mut outcomes = Vec::with_capacity(SEEDS.len());
    for seed in SEEDS {
        let rows = db.write(move |conn| load_if_changed(conn, seed)).await?;
        outcomes.push(SeedOutcome { name: seed.name, rows });
    }
    Ok(outcomes)
}

fn load_if_changed(conn: &mut Conn<'_>, seed: &SeedFile) -> Result<Option<usize>, AppError> {
    let checksum = checksum(seed.content);
    let loaded: Option<String> =
        with_conn!(conn, |c| seed_runs::table.find(seed.name).select(seed_runs::checksum).first(c).optional())?;
    if loaded.as_deref() == Some(checksum.as_str()) {
        return Ok(None);
    }
    let rows = (seed.load)(conn, seed.content)?;
    let run = (
        seed_runs::name.eq(seed.name),
        seed_runs::checksum.eq(&checksum),
        seed_runs::applied_at.eq(Utc::now().naive_utc()),
    );
    with_conn!(conn, |c| diesel::insert_into(seed_runs::table)
        .values(run)
        .on_conflict(seed_runs::name)
        .do_update()
        .set((
            seed_runs::checksum.eq(excluded(seed_runs::checksum)),
            seed_runs::applied_at.eq(excluded(seed_runs::applied_at))
        ))
        .execute(c))?;
    Ok(Some(rows))
}

fn parse_csv<T: for<'de> Deserialize<'de>>(content: &str) -> Result<Vec<T>, AppError> {
    csv::Reader::from_reader(content.as_bytes()).deserialize().collect::<Result<_, _>>().map_err(AppError::internal)
}

#[derive(Deserialize)]
struct ProvinceRow {
    code: i32,
    name: String,
    division_type: String,
    codename: String,
    phone_code: i32,
    region: String,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = provinces, primary_key(code))]
struct NewProvince {
    code: i32,
    name_search: String,
    name: String,
    division_type: String,
    codename: String,
    phone_code: i32,
    region: String,
}

fn load_provinces(conn: &mut Conn<'_>, content: &str) -> Result<usize, AppError> {
    let rows: Vec<NewProvince> = parse_csv::<ProvinceRow>(content)?
        .into_iter()
        .map(|r| NewProvince {
            code: r.code,
            name_search: search_key(&r.name),
            name: r.name,
            division_type: r.division_type,
            codename: r.codename,
            phone_code: r.phone_code,
            region: r.region,
        })
        .collect();
    for row in &rows {
        with_conn!(conn, |c| diesel::insert_into(provinces::table)
            .values(row)
            .on_conflict(provinces::code)
            .do_update()
            .set(row)
            .execute(c))?;
    }
    Ok(rows.len())
}

#[derive(Deserialize)]
struct WardRow {
    code: i32,
    name: String,
    division_type: String,
    codename: String,
    province_code: i32,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = wards, primary_key(code))]
struct NewWard {
    code: i32,
    name_search: String,
    name: String,
    division_type: String,
    codename: String,
    province_code: i32,
}

fn load_wards(conn: &mut Conn<'_>, content: &str) -> Result<usize, AppError> {
    let rows: Vec<NewWard> = parse_csv::<WardRow>(content)?
        .into_iter()
        .map(|r| NewWard {
            code: r.code,
            name_search: search_key(&r.name),
            name: r.name,
            division_type: r.division_type,
            codename: r.codename,
            province_code: r.province_code,
        })
        .collect();
    for row in &rows {
        with_conn!(conn, |c| diesel::insert_into(wards::table)
            .values(row)
            .on_conflict(wards::code)
            .do_update()
            .set(row)
            .execute(c))?;
    }
    Ok(rows.len())
}

#[derive(Deserialize, Insertable, AsChangeset)]
#[diesel(table_name = categories, primary_key(code))]
struct CategoryRow {
    code: String,
    name_vi: String,
    name_en: String,
    default_unit: String,
    unit_weight_g: i32,
    keywords: String,
    #[serde(skip)]
    sort_order: i32,
}

fn load_categories(conn: &mut Conn<'_>, content: &str) -> Result<usize, AppError> {
    let mut rows = parse_csv::<CategoryRow>(content)?;
    for (position, row) in (1..).zip(rows.iter_mut()) {
        row.sort_order = position;
    }
    for row in &rows {
        with_conn!(conn, |c| diesel::insert_into(categories::table)
            .values(row)
            .on_conflict(categories::code)
            .do_update()
            .set(row)
            .execute(c))?;
    }
    Ok(rows.len())
}
