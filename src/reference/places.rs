//! Provinces and communes in memory: 34 provinces and 3,321 communes/wards change only with the seeds, so
//! every name, region and commune search is answered without the database.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::store::{ProvinceRecord, WardRecord};
use crate::domain::text::search_key;
use crate::error::{FieldError, Text};

/// A place by code and name, as every answer that mentions one shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlaceRef {
    pub code: i32,
    pub name: String,
}

/// A commune with its province.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct WardRef {
    pub code: i32,
    pub name: String,
    pub province: PlaceRef,
}

pub struct Province {
    pub code: i32,
    pub name: String,
    pub division_type: String,
    pub codename: String,
    pub phone_code: i32,
    /// `north`, `central` or `south`: the zone used for shipping fees.
    pub region: String,
}

pub struct Ward {
    pub code: i32,
    pub name: String,
    pub division_type: String,
    pub province_code: i32,
    /// The name in accent-free search form, ` `-separated words.
    search: String,
}

/// Which communes a search returns: those of one province or of the whole country whose name has every term
/// as the start of a word ("buon ma" finds "Phường Buôn Ma Thuột"; "uon" finds nothing).
pub struct WardSearch<'a> {
    pub province: Option<i32>,
    pub terms: &'a [String],
    pub limit: usize,
    pub offset: usize,
}

pub struct Places {
    /// By code.
    provinces: Vec<Province>,
    /// Closest names first for searches: shorter names first (a query covers more of them), then by code.
    wards: Vec<Ward>,
    ward_index: HashMap<i32, usize>,
    province_index: HashMap<i32, usize>,
}

impl Places {
    pub fn new(mut provinces: Vec<ProvinceRecord>, wards: Vec<WardRecord>) -> Places {
        provinces.sort_by_key(|province| province.code);
        let provinces: Vec<Province> = provinces
            .into_iter()
            .map(|p| Province {
                code: p.code,
                name: p.name,
                division_type: p.division_type,
                codename: p.codename,
                phone_code: p.phone_code,
                region: p.region,
            })
            .collect();
        let mut wards: Vec<Ward> = wards
            .into_iter()
            .map(|w| Ward {
                search: search_key(&w.name),
                code: w.code,
                name: w.name,
                division_type: w.division_type,
                province_code: w.province_code,
            })
            .collect();
        wards.sort_by_key(|ward| (ward.search.chars().count(), ward.code));
        let ward_index = wards.iter().enumerate().map(|(index, ward)| (ward.code, index)).collect();
        let province_index = provinces.iter().enumerate().map(|(index, p)| (p.code, index)).collect();
        Places { provinces, wards, ward_index, province_index }
    }

    pub fn provinces(&self) -> &[Province] {
        &self.provinces
    }

    pub fn province(&self, code: i32) -> Option<&Province> {
        self.province_index.get(&code).map(|index| &self.provinces[*index])
    }

    pub fn ward(&self, code: i32) -> Option<&Ward> {
        self.ward_index.get(&code).map(|index| &self.wards[*index])
    }

    /// The commune a request names in `ward_code`, or a 422 saying where to find one.
    pub fn known_ward(&self, code: i32) -> Result<&Ward, FieldError> {
        self.ward(code).ok_or_else(|| {
            FieldError::new(
                "ward_code",
                "unknown_ward",
                Text::new(
                    "Không có xã/phường với mã này; hãy chọn từ danh sách /api/v1/wards.",
                    "No commune/ward has this code; pick one from /api/v1/wards.",
                ),
            )
        })
    }

    /// The commune and its province, by code.
    pub fn ward_ref(&self, code: i32) -> Option<WardRef> {
        let ward = self.ward(code)?;
        let province = self.province(ward.province_code)?;
        Some(WardRef {
            code,
            name: ward.name.clone(),
            province: PlaceRef { code: province.code, name: province.name.clone() },
        })
    }

    /// A commune as a reference; an unknown code keeps its code with an empty name.
    pub fn ward_place(&self, code: i32) -> PlaceRef {
        PlaceRef { code, name: self.ward(code).map(|ward| ward.name.clone()).unwrap_or_default() }
    }

    /// A province as a reference; an unknown code keeps its code with an empty name.
    pub fn province_place(&self, code: i32) -> PlaceRef {
        PlaceRef { code, name: self.province(code).map(|province| province.name.clone()).unwrap_or_default() }
    }

    /// The codes among `codes` that are not communes.
    pub fn unknown_wards(&self, codes: &[i32]) -> Vec<i32> {
        codes.iter().copied().filter(|code| self.ward(*code).is_none()).collect()
    }

    /// The codes among `codes` that are not provinces.
    pub fn unknown_provinces(&self, codes: &[i32]) -> Vec<i32> {
        codes.iter().copied().filter(|code| self.province(*code).is_none()).collect()
    }

    /// The region of a province (empty when unknown, which fees count as another region).
    pub fn region_of(&self, province: i32) -> &str {
        self.province(province).map_or("", |province| province.region.as_str())
    }

    /// One page of matching communes, closest names first.
    pub fn search_wards(&self, search: &WardSearch<'_>) -> Vec<&Ward> {
        self.wards
            .iter()
            .filter(|ward| search.province.is_none_or(|province| ward.province_code == province))
            .filter(|ward| search.terms.iter().all(|term| starts_a_word(&ward.search, term)))
            .skip(search.offset)
            .take(search.limit)
            .collect()
    }
}

fn starts_a_word(words: &str, term: &str) -> bool {
    words.split(' ').any(|word| word.starts_with(term))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        let province = |code, name: &str, region: &str| ProvinceRecord {
            code,
            name: name.into(),
            division_type: "tỉnh".into(),
            codename: String::new(),
            phone_code: 0,
            region: region.into(),
        };
        let ward = |code, name: &str, province_code| WardRecord {
            code,
            name: name.into(),
            division_type: "phường".into(),
            province_code,
        };
        Places::new(
            vec![province(66, "Đắk Lắk", "central"), province(96, "Cà Mau", "south")],
            vec![ward(3, "Phường Buôn Ma Thuột", 66), ward(1, "Phường Cà Mau", 96), ward(2, "Xã Ea Kao", 66)],
        )
    }

    #[test]
    fn searches_match_word_starts_without_accents_shortest_first() {
        let places = places();
        let names = |terms: &[&str], province| {
            let terms: Vec<String> = terms.iter().map(|t| (*t).to_owned()).collect();
            let search = WardSearch { province, terms: &terms, limit: 10, offset: 0 };
            places.search_wards(&search).into_iter().map(|w| w.name.clone()).collect::<Vec<_>>()
        };
        assert_eq!(names(&["buon", "ma"], None), ["Phường Buôn Ma Thuột"]);
        assert_eq!(names(&["ma"], None), ["Phường Cà Mau", "Phường Buôn Ma Thuột"]);
        assert_eq!(names(&["au"], None), Vec::<String>::new());
        assert_eq!(names(&[], Some(66)), ["Xã Ea Kao", "Phường Buôn Ma Thuột"]);
    }

    #[test]
    fn lookups_by_code() {
        let places = places();
        let ward = places.ward_ref(2).expect("ward");
        assert_eq!((ward.name.as_str(), ward.province.name.as_str()), ("Xã Ea Kao", "Đắk Lắk"));
        assert_eq!(places.region_of(96), "south");
        assert_eq!(places.region_of(1), "");
        assert_eq!(places.ward_place(99).name, "");
    }
}
