//! A listing as the in-memory catalogue keeps it: the names many listings share (category, commune,
//! province, farmer, unit) are kept once, and the unique text in boxed strings, at about half the size of a
//! `ListingRow`; a read puts the row back together.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::super::store::ListingRow;
use crate::domain::status::ListingStatus;

/// Names shared by many listings, one copy of each.
#[derive(Default)]
pub struct Names {
    names: HashSet<Arc<str>>,
}

impl Names {
    fn share(&mut self, name: String) -> Arc<str> {
        if let Some(shared) = self.names.get(name.as_str()) {
            return shared.clone();
        }
        let shared: Arc<str> = name.into();
        self.names.insert(shared.clone());
        shared
    }

    /// Forgets names no listing uses any more (a farmer renamed, say).
    pub fn forget_unused(&mut self) {
        self.names.retain(|name| Arc::strong_count(name) > 1);
    }
}

pub struct Kept {
    pub id: i64,
    title: Box<str>,
    description: Option<Box<str>>,
    pub category_code: Arc<str>,
    category_name_vi: Arc<str>,
    category_name_en: Arc<str>,
    pub price_vnd: i64,
    unit: Arc<str>,
    unit_weight_g: i32,
    pub quantity: i64,
    pub status: ListingStatus,
    pub farmer_id: i64,
    farmer_name: Arc<str>,
    pub ward_code: i32,
    ward_name: Arc<str>,
    pub province_code: i32,
    province_name: Arc<str>,
    photo: Option<Box<Photo>>,
    available_from: Option<NaiveDateTime>,
    ocop_stars: Option<i32>,
    vietgap: bool,
    organic: bool,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    hidden_reason: Option<Box<str>>,
}

struct Photo {
    id: Option<i64>,
    display_name: Option<Box<str>>,
    thumb_name: Option<Box<str>>,
}

impl Kept {
    pub fn keep(row: ListingRow, names: &mut Names) -> Kept {
        let photo = (row.photo_id.is_some() || row.display_name.is_some() || row.thumb_name.is_some()).then(|| {
            Box::new(Photo {
                id: row.photo_id,
                display_name: row.display_name.map(String::into_boxed_str),
                thumb_name: row.thumb_name.map(String::into_boxed_str),
            })
        });
        Kept {
            id: row.id,
            title: row.title.into_boxed_str(),
            description: row.description.map(String::into_boxed_str),
            category_code: names.share(row.category_code),
            category_name_vi: names.share(row.category_name_vi),
            category_name_en: names.share(row.category_name_en),
            price_vnd: row.price_vnd,
            unit: names.share(row.unit),
            unit_weight_g: row.unit_weight_g,
            quantity: row.quantity,
            status: row.status,
            farmer_id: row.farmer_id,
            farmer_name: names.share(row.farmer_name),
            ward_code: row.ward_code,
            ward_name: names.share(row.ward_name),
            province_code: row.province_code,
            province_name: names.share(row.province_name),
            photo,
            available_from: row.available_from,
            ocop_stars: row.ocop_stars,
            vietgap: row.vietgap,
            organic: row.organic,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            hidden_reason: row.hidden_reason.map(String::into_boxed_str),
        }
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn unit(&self) -> &str {
        &self.unit
    }

    pub fn thumb_name(&self) -> Option<&str> {
        self.photo.as_ref().and_then(|photo| photo.thumb_name.as_deref())
    }

    pub fn farmer_name(&self) -> &str {
        &self.farmer_name
    }

    pub fn ward_name(&self) -> &str {
        &self.ward_name
    }

    pub fn province_name(&self) -> &str {
        &self.province_name
    }

    /// The row as the database holds it.
    pub fn row(&self) -> ListingRow {
        let text = |text: &str| text.to_owned();
        let photo = self.photo.as_deref();
        ListingRow {
            id: self.id,
            title: text(&self.title),
            description: self.description.as_deref().map(text),
            category_code: text(&self.category_code),
            category_name_vi: text(&self.category_name_vi),
            category_name_en: text(&self.category_name_en),
            price_vnd: self.price_vnd,
            unit: text(&self.unit),
            unit_weight_g: self.unit_weight_g,
            quantity: self.quantity,
            status: self.status,
            farmer_id: self.farmer_id,
            farmer_name: text(&self.farmer_name),
            ward_code: self.ward_code,
            ward_name: text(&self.ward_name),
            province_code: self.province_code,
            province_name: text(&self.province_name),
            photo_id: photo.and_then(|photo| photo.id),
            display_name: photo.and_then(|photo| photo.display_name.as_deref()).map(text),
            thumb_name: photo.and_then(|photo| photo.thumb_name.as_deref()).map(text),
            available_from: self.available_from,
            ocop_stars: self.ocop_stars,
            vietgap: self.vietgap,
            organic: self.organic,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            hidden_reason: self.hidden_reason.as_deref().map(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_listing_reads_back_as_it_came_and_shares_its_names() {
        let row = |id: i64, photo: bool| ListingRow {
            id,
            title: "Xoài cát Hòa Lộc".into(),
            description: Some("Trái to, ngọt".into()),
            category_code: "trai_cay".into(),
            category_name_vi: "Trái cây".into(),
            category_name_en: "Fruit".into(),
            price_vnd: 25_000,
            unit: "kg".into(),
            unit_weight_g: 1000,
            quantity: 200,
            status: ListingStatus::Active,
            farmer_id: 7,
            farmer_name: "Nguyễn Văn An".into(),
            ward_code: 24778,
            ward_name: "Phường Đà Lạt".into(),
            province_code: 68,
            province_name: "Lâm Đồng".into(),
            photo_id: photo.then_some(3),
            display_name: photo.then(|| "a.webp".into()),
            thumb_name: photo.then(|| "a-thumb.webp".into()),
            available_from: None,
            ocop_stars: Some(4),
            vietgap: true,
            organic: false,
            version: 2,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
            hidden_reason: None,
        };
        let mut names = Names::default();
        let (first, second) = (Kept::keep(row(1, true), &mut names), Kept::keep(row(2, false), &mut names));
        assert_eq!(first.row(), row(1, true));
        assert_eq!(second.row(), row(2, false));
        assert!(Arc::ptr_eq(&first.farmer_name, &second.farmer_name));
        drop((first, second));
        names.forget_unused();
        assert!(names.names.is_empty());
    }
}
