//! `nongsan seed --demo`: a realistic catalogue to try the service and to benchmark it — farmers in
//! communes across the country, listings in every category (titles from `seeds/category_samples.csv`),
//! generated photos. Demo farmers have phones +8491000xxxx and the PIN `482915`.

use chrono::Duration;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::store::{self, NewListing, NewMedia};
use crate::accounts::rules::{FarmerSignup, insert_farmer};
use crate::auth::secrets::hash_secret;
use crate::db::schema::{listings, users, wards};
use crate::domain::phone::Phone;
use crate::domain::quantity::Unit;
use crate::domain::status::{ListingStatus, Role};
use crate::domain::text::search_key;
use crate::media::{process_photo, sample};
use crate::state::AppState;
use crate::with_conn;

pub const DEMO_PIN: &str = "482915";
const PHOTOS: u64 = 12;
const BATCH: usize = 1000;

const FAMILY_NAMES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const GIVEN_NAMES: &[&str] = &[
    "Văn Nam",
    "Thị Lan",
    "Văn Hùng",
    "Thị Mai",
    "Minh Tuấn",
    "Thị Hoa",
    "Văn Bình",
    "Thị Thu",
    "Quốc Bảo",
    "Thị Hạnh",
    "Văn Phúc",
    "Ngọc Ánh",
    "Đức Thắng",
    "Thị Yến",
];
const QUALIFIERS: &[&str] =
    &["", " loại 1", " loại 2", " nhà trồng", " tươi", " sạch", " vụ mới", " size lớn", " đặc biệt", " hàng tuyển"];

#[derive(Debug)]
pub struct DemoReport {
    pub farmers: usize,
    pub listings: usize,
}

fn farmer_phone(n: usize) -> String {
    format!("+8491000{n:04}")
}

fn price_for(unit: Unit, rng: &mut StdRng) -> i64 {
    let (low, high) = match unit {
        Unit::Kg => (8, 400),
        Unit::Qua => (2, 80),
        Unit::Bo => (5, 40),
        Unit::Con => (80, 900),
        Unit::Chai | Unit::Lit => (40, 600),
        _ => (20, 500),
    };
    rng.random_range(low..=high) * 1000
}

/// Demo farmers' phones: `+8491000` and four digits (see `farmer_phone`).
const DEMO_PHONES: &str = "+8491000____";

/// Adds demo farmers and listings until there are `listings` demo listings (running it again adds none).
/// Demo farmers share a public PIN, so a database with accounts other than demo farmers (a real one) is
/// refused unless `force`.
pub async fn seed_demo(state: &AppState, listings: usize, force: bool) -> anyhow::Result<DemoReport> {
    let (db, media, categories) = (&state.db, &state.media, &state.reference.categories);
    let real_accounts: i64 = db
        .read(|conn| {
            Ok(with_conn!(conn, |c| users::table
                .filter(users::phone.is_null().or(users::phone.not_like(DEMO_PHONES)))
                .count()
                .get_result(c))?)
        })
        .await?;
    anyhow::ensure!(
        force || real_accounts == 0,
        "this database has {real_accounts} accounts that are not demo farmers; demo farmers log in with the public \
         PIN {DEMO_PIN}, so the demo is seeded only on a database of its own (or pass --force)"
    );
    let farmers = (listings / 40).clamp(10, 5000);
    let mut rng = StdRng::seed_from_u64(20250701);
    let pin_hash = hash_secret(DEMO_PIN.to_owned()).await?;
    let ward_codes: Vec<i32> =
        db.read(|conn| Ok(with_conn!(conn, |c| wards::table.select(wards::code).order(wards::code).load(c))?)).await?;

    let mut farmer_ids = Vec::with_capacity(farmers);
    for n in 0..farmers {
        let phone = Phone::parse(&farmer_phone(n)).map_err(|e| anyhow::anyhow!("demo phone: {}", e.message.en))?;
        let name = format!(
            "{} {}",
            FAMILY_NAMES[n % FAMILY_NAMES.len()],
            GIVEN_NAMES[(n / FAMILY_NAMES.len()) % GIVEN_NAMES.len()]
        );
        let ward_code = ward_codes[rng.random_range(0..ward_codes.len())];
        let signup =
            FarmerSignup { phone: phone.clone(), name, ward_code, pin_hash: pin_hash.clone(), enrolled_by: None };
        let (reference, now) = (state.reference.clone(), state.clock.now());
        let id = db
            .write(move |conn| {
                let existing: Option<i64> = with_conn!(conn, |c| users::table
                    .filter(users::role.eq(Role::Farmer))
                    .filter(users::phone.eq(phone.as_str()))
                    .select(users::id)
                    .first(c)
                    .optional())?;
                match existing {
                    Some(id) => Ok(id),
                    None => insert_farmer(conn, &reference.places, &signup, now),
                }
            })
            .await?;
        farmer_ids.push(id);
    }

    let existing: i64 = {
        let ids = farmer_ids.clone();
        db.read(move |conn| {
            Ok(with_conn!(conn, |c| listings::table.filter(listings::farmer_id.eq_any(&ids)).count().get_result(c))?)
        })
        .await?
    };
    let missing = listings.saturating_sub(usize::try_from(existing).unwrap_or(0));

    let mut photo_ids = Vec::new();
    if missing > 0 {
        for seed in 0..PHOTOS {
            let jpeg = sample::demo_photo(800, 600, seed);
            let processed = tokio::task::spawn_blocking(move || process_photo(&jpeg)).await??;
            let display = media.save(&processed.display, "jpg").await?;
            let thumb = media.save(&processed.thumb, "jpg").await?;
            let owner_id = farmer_ids[0];
            let (width, height, bytes) =
                (processed.width as i32, processed.height as i32, processed.display.len() as i32);
            let now = state.clock.now();
            let id = db
                .write(move |conn| {
                    let photo = NewMedia {
                        owner_id,
                        display_name: &display,
                        thumb_name: &thumb,
                        width,
                        height,
                        bytes,
                        created_at: now,
                    };
                    store::insert_media(conn, &photo)
                })
                .await?;
            photo_ids.push(id);
        }
    }

    let samples: Vec<(String, String)> =
        csv::Reader::from_reader(include_str!("../../seeds/category_samples.csv").as_bytes())
            .records()
            .filter_map(Result::ok)
            .map(|r| (r[0].to_owned(), r[1].to_owned()))
            .filter(|(_, code)| categories.get(code).is_some())
            .collect();
    let homes: Vec<(i64, i32, i32)> = {
        let ids = farmer_ids.clone();
        db.read(move |conn| {
            Ok(with_conn!(conn, |c| users::table
                .inner_join(wards::table)
                .filter(users::id.eq_any(&ids))
                .select((users::id, wards::code, wards::province_code))
                .load(c))?)
        })
        .await?
    };

    let started = state.clock.now();
    let mut created = 0;
    while created < missing {
        let batch = BATCH.min(missing - created);
        let mut rows = Vec::with_capacity(batch);
        for i in 0..batch {
            let (title, code) = &samples[rng.random_range(0..samples.len())];
            let category = categories.get(code).ok_or_else(|| anyhow::anyhow!("category {code}"))?;
            let title = format!("{title}{}", QUALIFIERS[rng.random_range(0..QUALIFIERS.len())]);
            let (farmer_id, ward_code, province_code) = homes[rng.random_range(0..homes.len())];
            let unit = category.default_unit;
            rows.push(DemoListing {
                farmer_id,
                title_search: format!(" {} ", search_key(&title)),
                title,
                category_code: category.code.clone(),
                unit: unit.as_str(),
                unit_weight_g: category.unit_weight_g,
                price_vnd: price_for(unit, &mut rng),
                quantity: rng.random_range(1..=500),
                ward_code,
                province_code,
                photo_id: photo_ids.get(rng.random_range(0..photo_ids.len().max(1))).copied(),
                at: started - Duration::minutes(i64::try_from(missing - created - i).unwrap_or(0)),
            });
        }
        db.write(move |conn| {
            let new: Vec<NewListing<'_>> = rows.iter().map(DemoListing::as_new).collect();
            store::insert_listings(conn, &new)
        })
        .await?;
        created += batch;
    }
    Ok(DemoReport { farmers, listings: missing })
}

/// A generated listing, owned so it can travel to the blocking pool.
struct DemoListing {
    farmer_id: i64,
    title: String,
    title_search: String,
    category_code: String,
    unit: &'static str,
    unit_weight_g: i32,
    price_vnd: i64,
    quantity: i64,
    ward_code: i32,
    province_code: i32,
    photo_id: Option<i64>,
    at: chrono::NaiveDateTime,
}

impl DemoListing {
    fn as_new(&self) -> NewListing<'_> {
        NewListing {
            farmer_id: self.farmer_id,
            title: &self.title,
            title_search: &self.title_search,
            description: None,
            category_code: &self.category_code,
            unit: self.unit,
            unit_weight_g: self.unit_weight_g,
            price_vnd: self.price_vnd,
            quantity: self.quantity,
            status: ListingStatus::Active,
            ward_code: self.ward_code,
            province_code: self.province_code,
            photo_id: self.photo_id,
            available_from: None,
            ocop_stars: None,
            vietgap: false,
            organic: false,
            version: 1,
            created_at: self.at,
            updated_at: self.at,
        }
    }
}
