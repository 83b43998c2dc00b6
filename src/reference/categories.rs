//! The produce categories in memory, and inferring a listing's category from its title.
//!
//! Categories are reference data loaded from `seeds/categories.csv`, so they are read once at start-up.
//! Inference: the longest seeded keyword that occurs in the title as whole words wins ("tiêu đen" beats
//! "đen"), compared in accent-free form so "xoai cat" and "Xoài cát" agree.

use super::keywords::Keywords;
use super::store::CategoryRecord;
use crate::domain::quantity::Unit;

#[derive(Clone, Debug)]
pub struct Category {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub default_unit: Unit,
    /// Weight of one default unit, for shipping.
    pub unit_weight_g: i32,
    /// The words that put a title in this category, as seeded.
    pub keywords: Vec<String>,
}

pub struct Categories {
    categories: Vec<Category>,
    /// Each keyword with the index of its category in `categories`.
    keywords: Keywords<usize>,
}

impl Categories {
    /// Builds the index; rows with a unit code the service does not know are skipped (and logged).
    pub fn new(rows: Vec<CategoryRecord>) -> Categories {
        let mut categories = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(default_unit) = Unit::parse_code(&row.default_unit) else {
                tracing::warn!(category = row.code, unit = row.default_unit, "category with an unknown unit skipped");
                continue;
            };
            categories.push(Category {
                code: row.code,
                name_vi: row.name_vi,
                name_en: row.name_en,
                default_unit,
                unit_weight_g: row.unit_weight_g,
                keywords: row.keywords.split('|').map(str::to_owned).collect(),
            });
        }
        let keywords = Keywords::new(
            categories
                .iter()
                .enumerate()
                .flat_map(|(index, category)| category.keywords.iter().map(move |keyword| (keyword.as_str(), index))),
        );
        Categories { categories, keywords }
    }

    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn all(&self) -> &[Category] {
        &self.categories
    }

    /// The category whose longest keyword occurs in `title` as whole words (earliest in the title on ties).
    pub fn infer(&self, title: &str) -> Option<&Category> {
        self.keywords.best(title, |_| true).and_then(|index| self.categories.get(*index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> Categories {
        let mut reader = csv::Reader::from_reader(include_str!("../../seeds/categories.csv").as_bytes());
        let rows = reader
            .records()
            .map(|record| {
                let r = record.expect("category row");
                CategoryRecord {
                    code: r[0].to_owned(),
                    name_vi: r[1].to_owned(),
                    name_en: r[2].to_owned(),
                    default_unit: r[3].to_owned(),
                    unit_weight_g: r[4].parse().expect("weight"),
                    keywords: r[5].to_owned(),
                }
            })
            .collect();
        Categories::new(rows)
    }

    #[test]
    fn every_seeded_sample_title_gets_its_category() {
        let categories = seeded();
        assert!(categories.all().len() >= 20);
        let mut reader = csv::Reader::from_reader(include_str!("../../seeds/category_samples.csv").as_bytes());
        let mut checked = 0;
        for record in reader.records() {
            let r = record.expect("sample row");
            let inferred = categories.infer(&r[0]).map(|c| c.code.as_str());
            assert_eq!(inferred, Some(&r[1]), "{}", &r[0]);
            checked += 1;
        }
        assert!(checked >= 150, "{checked} samples");
    }

    #[test]
    fn inference_ignores_accents_case_and_prefers_longer_keywords() {
        let categories = seeded();
        let code = |title: &str| categories.infer(title).map(|c| c.code.clone());
        assert_eq!(code("XOAI CAT HOA LOC"), code("Xoài cát Hòa Lộc"));
        assert_eq!(code("Xoài cát Hòa Lộc").as_deref(), Some("trai_cay"));
        assert_eq!(code("Cà phê Robusta rang mộc").as_deref(), Some("ca_phe"));
        assert_eq!(code("Tiêu đen Phú Quốc").as_deref(), Some("ho_tieu"));
        assert_eq!(code("Hàng đẹp giá rẻ"), None);
    }
}
