//! The typical weight of one piece, bunch or pack of a produce (`seeds/piece_weights.csv`), so that two durians
//! ship as the 6 kg they weigh rather than as two apples.
//!
//! The file has the columns `keyword,unit,weight_g`: an accent-free keyword of the title, the unit it is sold
//! in, and the grams of one such unit. A title's longest whole-word keyword listed with the listing's unit
//! wins ("sau rieng ri6" over "sau rieng", "trung ga" over "ga").

use serde::Deserialize;

use super::keywords::Keywords;
use crate::domain::quantity::Unit;
use crate::domain::weight::MAX_UNIT_WEIGHT_G;

/// The table shipped with the code.
pub const SEEDED_CSV: &str = include_str!("../../seeds/piece_weights.csv");

pub struct PieceWeights {
    keywords: Keywords<(Unit, i32)>,
}

#[derive(Deserialize)]
struct Row {
    keyword: String,
    unit: String,
    weight_g: i32,
}

impl PieceWeights {
    /// The table in `seeds/piece_weights.csv`.
    pub fn seeded() -> Result<PieceWeights, String> {
        PieceWeights::from_csv(SEEDED_CSV)
    }

    /// Reads and checks a table; errors name the line and what is wrong with it.
    pub fn from_csv(text: &str) -> Result<PieceWeights, String> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for record in reader.deserialize::<Row>() {
            let row = record.map_err(|e| format!("piece weights: {e}"))?;
            let line = rows.len() + 2;
            let unit = Unit::parse_code(&row.unit)
                .ok_or_else(|| format!("piece weights line {line}: unknown unit {:?}", row.unit))?;
            if row.keyword.is_empty() || !(1..=MAX_UNIT_WEIGHT_G).contains(&row.weight_g) {
                return Err(format!("piece weights line {line}: a keyword and a weight of 1 g to 1 tonne are needed"));
            }
            rows.push((row.keyword, (unit, row.weight_g)));
        }
        Ok(PieceWeights { keywords: Keywords::new(rows.iter().map(|(keyword, value)| (keyword.as_str(), *value))) })
    }

    /// Grams in one `unit` of what `title` names, when the table knows it.
    pub fn weight_g(&self, title: &str, unit: Unit) -> Option<i32> {
        self.keywords.best(title, |(listed, _)| *listed == unit).map(|(_, grams)| *grams)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_keyword_listed_with_the_unit_wins() {
        let table = PieceWeights::seeded().expect("seeded table");
        let weight = |title: &str, unit: Unit| table.weight_g(title, unit);
        assert_eq!(weight("Sầu riêng Ri6", Unit::Qua), Some(3000));
        assert_eq!(weight("sau rieng Monthong loai 1", Unit::Qua), Some(3500));
        assert_eq!(weight("Sầu riêng Cái Mơn", Unit::Qua), Some(2500));
        assert_eq!(weight("Sầu riêng Ri6", Unit::Kg), None);
        assert_eq!(weight("Trứng gà ta", Unit::Qua), Some(60));
        assert_eq!(weight("Trứng gà ta", Unit::Vi), Some(1900));
        assert_eq!(weight("Gà ta thả vườn", Unit::Con), Some(1800));
        assert_eq!(weight("Chuối sứ", Unit::Nai), Some(1500));
        assert_eq!(weight("Chuối sứ", Unit::Buong), Some(12_000));
        assert_eq!(weight("Dừa xiêm Bến Tre", Unit::Qua), Some(1500));
        assert_eq!(weight("Dưa hấu Long An", Unit::Qua), Some(3000));
        assert_eq!(weight("Nấm đùi gà", Unit::Khay), Some(250));
        assert_eq!(weight("Bơ sáp", Unit::Bo), None, "bơ is not a bunch");
        assert_eq!(weight("Mít tố nữ", Unit::Qua), Some(2000));
    }

    #[test]
    fn broken_tables_are_refused_with_the_line() {
        let header = "keyword,unit,weight_g\n";
        for (rows, expected) in [
            ("mit,qua,8000\nmit,thung2,500\n", "line 3: unknown unit \"thung2\""),
            ("mit,qua,0\n", "line 2: a keyword and a weight"),
            (",qua,10\n", "line 2: a keyword"),
            ("mit,qua,tám\n", "piece weights:"),
        ] {
            let error = PieceWeights::from_csv(&format!("{header}{rows}")).err().unwrap_or_default();
            assert!(error.contains(expected), "{rows:?}: {error}");
        }
    }
}
