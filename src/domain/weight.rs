//! How much one unit weighs, for shipping: what a farmer states ("2 kg", "800 g", "1,5 ký", "3 lạng",
//! "khoảng 2 kg") and the typical weight of a unit when nothing better is known.

use super::Invalid;
use super::quantity::{Unit, unit_from_word};
use super::reading::{Shape, Spelling, Token, lex};

/// The heaviest single unit a listing may state: a tonne (a buffalo, a pallet).
pub const MAX_UNIT_WEIGHT_G: i32 = 1_000_000;

const GRAM: Spelling = Spelling { marked: &[], plain: &["g", "gr", "gam", "gram"] };
/// A lạng is 100 g in the north.
const LANG: Spelling = Spelling { marked: &["lạng"], plain: &["lang"] };
const ABOUT: Spelling = Spelling {
    marked: &["khoảng", "tầm", "chừng", "cỡ", "nặng"],
    plain: &["khoang", "tam", "chung", "nang"],
};

/// Typical grams in one unit when neither the farmer, the produce nor the category says.
pub fn typical_g(unit: Unit) -> i32 {
    match unit {
        Unit::Kg | Unit::Lit => 1000,
        Unit::Qua | Unit::Bo | Unit::Mo | Unit::Khay => 300,
        Unit::Nai => 1500,
        Unit::Buong => 12_000,
        Unit::Con => 1500,
        Unit::Hop | Unit::Tui | Unit::Goi => 500,
        Unit::Chai => 700,
        Unit::Bao => 25_000,
        Unit::Thung => 10_000,
        Unit::Vi => 1500,
    }
}

/// Reads a weight as people state it: `2 kg`, `2kg`, `1,5 ký`, `800 g`, `800 gram`, `3 lạng` (300 g), with
/// khoảng, tầm or nặng before it. Gives whole grams, from 1 g to [`MAX_UNIT_WEIGHT_G`]; a number alone is
/// refused, since "2" could be kilograms or grams.
pub fn parse_weight_g(input: &str) -> Result<i32, Invalid> {
    let shown = input.trim();
    let tokens = lex(input);
    let mut rest = tokens.as_slice();
    while let [Token::Word(word), after @ ..] = rest {
        if !word.is(&ABOUT) {
            break;
        }
        rest = after;
    }
    let grams_per = |token: &Token| match token {
        Token::Word(word) if word.is(&GRAM) => Some(1),
        Token::Word(word) if word.is(&LANG) => Some(100),
        Token::Word(word) if unit_from_word(&word.raw) == Some(Unit::Kg) => Some(1000),
        _ => None,
    };
    let milligrams = match rest {
        [Token::Number(number), unit] if number.shape == Shape::Clear => {
            grams_per(unit).map(|grams| number.milli().saturating_mul(grams))
        }
        _ => None,
    };
    let Some(milligrams) = milligrams else {
        return Err(Invalid::new(
            "unit_weight_not_understood",
            format!("Không hiểu cân nặng \"{shown}\". Hãy ghi như 2 kg, 800 g hoặc 3 lạng."),
            format!("The weight \"{shown}\" was not understood. Write e.g. 2 kg, 800 g or 3 lạng."),
        ));
    };
    match i32::try_from(milligrams / 1000) {
        Ok(grams) if milligrams % 1000 == 0 && (1..=MAX_UNIT_WEIGHT_G).contains(&grams) => Ok(grams),
        _ => Err(Invalid::new(
            "unit_weight_out_of_range",
            format!("Cân nặng mỗi đơn vị phải là số gam chẵn, từ 1 g đến 1 tấn (\"{shown}\")."),
            format!("The weight of one unit must be whole grams, from 1 g to a tonne (\"{shown}\")."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stated_weights_in_grams() {
        for (input, grams) in [
            ("2 kg", 2000),
            ("2kg", 2000),
            ("1,5 ký", 1500),
            ("1.2 kí", 1200),
            ("2 cân", 2000),
            ("800 g", 800),
            ("800g", 800),
            ("500 gram", 500),
            ("3 lạng", 300),
            ("khoảng 2 kg", 2000),
            ("tầm 3 ký", 3000),
            ("nặng khoảng 2,5 kg", 2500),
            ("1000 kg", 1_000_000),
        ] {
            assert_eq!(parse_weight_g(input), Ok(grams), "{input}");
        }
    }

    #[test]
    fn unclear_weights_are_refused() {
        let code = |input: &str| parse_weight_g(input).err().map(|e| e.code);
        for input in ["2", "", "hai ký", "2 quả", "2 kg 300", "2 tạ", "-2 kg", "2,55,5 kg"] {
            assert_eq!(code(input), Some("unit_weight_not_understood"), "{input}");
        }
        for input in ["0 kg", "0,5 g", "1001 kg", "99999999999999999999999 kg"] {
            assert_eq!(code(input), Some("unit_weight_out_of_range"), "{input}");
        }
        let message = parse_weight_g("2").err().map(|e| e.message.en.into_owned());
        assert!(message.is_some_and(|m| m.contains("\"2\"") && m.contains("800 g")));
    }

    #[test]
    fn every_unit_has_a_typical_weight() {
        for unit in Unit::ALL {
            assert!(typical_g(unit) > 0, "{unit:?}");
            assert_eq!(unit.weight_g().unwrap_or(typical_g(unit)), typical_g(unit), "{unit:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_in_range(input in "\\PC{0,30}") {
            if let Ok(grams) = parse_weight_g(&input) {
                prop_assert!((1..=MAX_UNIT_WEIGHT_G).contains(&grams));
            }
        }
    }
}
