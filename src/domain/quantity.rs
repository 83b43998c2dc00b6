//! Quantities as farmers write them ("50 ký", "2 tạ", "5 chục quả", "còn 200 kg") and the units listings are
//! sold in.
//!
//! A word counts when it carries its Vietnamese marks spelled right or no marks at all. A word with other
//! marks is a different word: tá is a dozen and tạ is 100 kg, bò is a cow and bó is a bunch. Such words are
//! refused, not guessed.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;
use super::reading::{Shape, Spelling, Token, Word, decimal, group_thousands, lex};

/// The most of one unit a listing can offer: a thousand tonnes.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// What a listing is counted in. The code (`kg`, `qua`, …) is what the API and the database carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Kilogram.
    Kg,
    /// One piece: a fruit, an egg, a seedling.
    Qua,
    /// A hand of bananas.
    Nai,
    /// A whole bunch of bananas (several hands).
    Buong,
    /// A bunch of vegetables or flowers.
    Bo,
    /// A handful of leafy vegetables.
    Mo,
    /// One animal.
    Con,
    /// A box.
    Hop,
    /// A bottle.
    Chai,
    /// A litre.
    Lit,
    /// A bag.
    Tui,
    /// A sack.
    Bao,
    /// A crate or carton.
    Thung,
    /// A tray.
    Khay,
    /// A card of eggs.
    Vi,
    /// A pack.
    Goi,
}

impl Unit {
    pub const ALL: [Unit; 16] = [
        Unit::Kg,
        Unit::Qua,
        Unit::Nai,
        Unit::Buong,
        Unit::Bo,
        Unit::Mo,
        Unit::Con,
        Unit::Hop,
        Unit::Chai,
        Unit::Lit,
        Unit::Tui,
        Unit::Bao,
        Unit::Thung,
        Unit::Khay,
        Unit::Vi,
        Unit::Goi,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Kg => "kg",
            Unit::Qua => "qua",
            Unit::Nai => "nai",
            Unit::Buong => "buong",
            Unit::Bo => "bo",
            Unit::Mo => "mo",
            Unit::Con => "con",
            Unit::Hop => "hop",
            Unit::Chai => "chai",
            Unit::Lit => "lit",
            Unit::Tui => "tui",
            Unit::Bao => "bao",
            Unit::Thung => "thung",
            Unit::Khay => "khay",
            Unit::Vi => "vi",
            Unit::Goi => "goi",
        }
    }

    /// Reads a code as the API and the database carry it (`kg`, `qua`, …). What people type goes to
    /// [`unit_from_word`] instead.
    pub fn parse_code(code: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|unit| unit.as_str() == code)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Unit::Kg => "kg",
            Unit::Qua => "quả",
            Unit::Nai => "nải",
            Unit::Buong => "buồng",
            Unit::Bo => "bó",
            Unit::Mo => "mớ",
            Unit::Con => "con",
            Unit::Hop => "hộp",
            Unit::Chai => "chai",
            Unit::Lit => "lít",
            Unit::Tui => "túi",
            Unit::Bao => "bao",
            Unit::Thung => "thùng",
            Unit::Khay => "khay",
            Unit::Vi => "vỉ",
            Unit::Goi => "gói",
        }
    }

    /// Grams in one unit, when the unit alone decides it. A litre of milk or fish sauce weighs about a kilogram.
    /// A quả, bó or hộp weighs whatever the produce or the farmer says.
    pub fn weight_g(self) -> Option<i32> {
        match self {
            Unit::Kg | Unit::Lit => Some(1000),
            _ => None,
        }
    }

    fn spelling(self) -> &'static Spelling {
        match self {
            Unit::Kg => &Spelling {
                marked: &["ký", "kí", "cân", "kilô"],
                plain: &["kg", "ky", "ki", "can", "kilo", "kilogram", "kilogam"],
            },
            Unit::Qua => &Spelling { marked: &["quả", "qủa", "trái"], plain: &["qua", "trai"] },
            Unit::Nai => &Spelling { marked: &["nải"], plain: &["nai"] },
            Unit::Buong => &Spelling { marked: &["buồng"], plain: &["buong"] },
            Unit::Bo => &Spelling { marked: &["bó"], plain: &["bo"] },
            Unit::Mo => &Spelling { marked: &["mớ"], plain: &["mo"] },
            Unit::Con => &Spelling { marked: &[], plain: &["con"] },
            Unit::Hop => &Spelling { marked: &["hộp"], plain: &["hop"] },
            Unit::Chai => &Spelling { marked: &[], plain: &["chai"] },
            Unit::Lit => &Spelling { marked: &["lít"], plain: &["lit", "l", "litre", "liter"] },
            Unit::Tui => &Spelling { marked: &["túi"], plain: &["tui"] },
            Unit::Bao => &Spelling { marked: &[], plain: &["bao"] },
            Unit::Thung => &Spelling { marked: &["thùng"], plain: &["thung"] },
            Unit::Khay => &Spelling { marked: &[], plain: &["khay"] },
            Unit::Vi => &Spelling { marked: &["vỉ"], plain: &["vi"] },
            Unit::Goi => &Spelling { marked: &["gói"], plain: &["goi"] },
        }
    }
}

/// The unit named by a word typed after a number or a slash, e.g. `kg`, `ký`, `quả`, `trái`, `nải`, `lít`, `l`,
/// `thùng` or `túi`. Accepts the correct Vietnamese marks or none, in any case and in NFC or NFD.
///
/// A basket or a crate nobody sells by (sọt, két, giỏ, bịch) is not a unit and gives `None`.
pub fn unit_from_word(word: &str) -> Option<Unit> {
    let word = Word::new(word.trim());
    Unit::ALL.into_iter().find(|unit| word.is(unit.spelling()))
}

/// An explicit unit field: a code (`kg`, `qua`) or a word (`ký`, `Trái`, `lít`).
pub fn parse_unit(input: &str) -> Result<Unit, Invalid> {
    let text = input.trim();
    if text.is_empty() {
        return Err(Invalid::new(
            "unit_required",
            format!("Vui lòng chọn đơn vị: {UNITS_VI}."),
            format!("Please choose a unit: {UNITS_EN}."),
        ));
    }
    if let Some(unit) = Unit::parse_code(text).or_else(|| unit_from_word(text)) {
        return Ok(unit);
    }
    let container = is_container(&Word::new(text));
    Err(Invalid::new(
        "unit_unknown",
        format!(
            "Không hiểu đơn vị \"{text}\".{} Hãy chọn một trong: {UNITS_VI}.",
            if container { CONTAINER_VI } else { "" }
        ),
        format!("Unknown unit \"{text}\".{} Use one of: {UNITS_EN}.", if container { CONTAINER_EN } else { "" }),
    ))
}

const UNITS_VI: &str = "kg, quả, nải, buồng, bó, mớ, con, hộp, chai, lít, túi, bao, thùng, khay, vỉ, gói";
const UNITS_EN: &str = "kg, quả (piece), nải (hand), buồng (bunch of bananas), bó (bunch), mớ (handful), con \
    (head), hộp (box), chai (bottle), lít (litre), túi (bag), bao (sack), thùng (crate), khay (tray), vỉ (egg card), \
    gói (pack)";
const CONTAINER_VI: &str =
    " Sọt, két, giỏ, bịch có nhiều cỡ khác nhau nên không dùng làm đơn vị; hãy ghi số kg (ví dụ 20 kg).";
const CONTAINER_EN: &str =
    " Baskets and bags come in many sizes, so they are not units; give the weight in kg (e.g. 20 kg).";

/// How much of something there is: a whole number of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quantity {
    /// From 0 (sold out) to [`MAX_QUANTITY`].
    pub amount: i64,
    /// `None` when the text named no unit. The listing's category then decides.
    pub unit: Option<Unit>,
}

impl Quantity {
    /// Accepts `50`, `50kg`, `50 ký`, `2 tạ` (200 kg), `3 yến` (30 kg), `1,5 tấn` (1500 kg), `1 tạ 2`
    /// (120 kg), `2 yến rưỡi` (25 kg), `5 chục` or `5 chục quả` (50 quả), `2 tá` (24 quả), `1.000 kg`, `còn
    /// 200 kg` and `hết` (0). A leading còn, có, khoảng or tầm is skipped. Stock figures are the farmer's own
    /// estimate and are shown back to them, so "khoảng 200 kg" is taken as 200 kg.
    pub fn parse(input: &str) -> Result<Quantity, Invalid> {
        let shown = input.trim();
        let tokens = lex(input);
        if tokens.is_empty() {
            return Err(Invalid::new(
                "quantity_required",
                "Vui lòng nhập số lượng (ví dụ 50 kg).",
                "Please enter a quantity (e.g. 50 kg).",
            ));
        }
        let mut rest = tokens.as_slice();
        while let [Token::Word(word), after @ ..] = rest {
            if !word.is(&LEADING) {
                break;
            }
            rest = after;
        }
        let sold_out = |token: &Token| matches!(token, Token::Word(word) if word.is(&SOLD_OUT));
        let goods = |token: &Token| matches!(token, Token::Word(word) if word.is(&GOODS));
        match rest {
            [only] | [only, _] if sold_out(only) && rest.get(1).is_none_or(goods) => {
                return Ok(Quantity { amount: 0, unit: None });
            }
            [Token::Symbol('-' | '−' | '–'), Token::Number(_), ..] => {
                return Err(Invalid::new(
                    "quantity_negative",
                    format!("Số lượng không thể âm (\"{shown}\"). Hết hàng thì ghi 0."),
                    format!("A quantity cannot be negative (\"{shown}\"). Write 0 when sold out."),
                ));
            }
            _ => {}
        }
        let reading = read(rest).map_err(|problem| problem.invalid(shown, rest))?;
        reading.check(shown)
    }
}

impl fmt::Display for Quantity {
    /// `1.500 kg`, `50 quả`, `12`: the way it is read back, and parsed again.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let amount = group_thousands(u128::from(self.amount.unsigned_abs()));
        match self.unit {
            Some(unit) => write!(f, "{amount} {}", unit.name_vi()),
            None => f.write_str(&amount),
        }
    }
}

const LEADING: Spelling =
    Spelling { marked: &["còn", "có", "khoảng", "tầm"], plain: &["con", "co", "khoang", "tam"] };
const SOLD_OUT: Spelling = Spelling { marked: &["hết"], plain: &["het"] };
const GOODS: Spelling = Spelling { marked: &["hàng"], plain: &["hang"] };
const HALF: Spelling = Spelling { marked: &["rưỡi", "rưởi"], plain: &["ruoi"] };
const CONTAINERS: Spelling =
    Spelling { marked: &["sọt", "két", "giỏ", "bịch"], plain: &["sot", "ket", "gio", "bich"] };
/// Without marks, "ta" is tạ (100 kg) or tá (a dozen).
const TA: Spelling = Spelling { marked: &[], plain: &["ta"] };

fn is_container(word: &Word) -> bool {
    word.is(&CONTAINERS)
}

/// A word that multiplies the number before it: a weight in kg or a count of pieces.
struct Scale {
    spelling: Spelling,
    factor: u128,
    /// Tạ, yến and tấn are weights: the unit is kg.
    mass: bool,
}

static SCALES: [Scale; 5] = [
    Scale { spelling: Spelling { marked: &["tấn"], plain: &["tan"] }, factor: 1000, mass: true },
    Scale { spelling: Spelling { marked: &["tạ"], plain: &[] }, factor: 100, mass: true },
    Scale { spelling: Spelling { marked: &["yến"], plain: &["yen"] }, factor: 10, mass: true },
    Scale { spelling: Spelling { marked: &["chục"], plain: &["chuc"] }, factor: 10, mass: false },
    Scale { spelling: Spelling { marked: &["tá"], plain: &[] }, factor: 12, mass: false },
];

/// The multiple a word names in a sentence (tấn, tạ, yến, chục, tá), as spelled here. Typed without marks,
/// "ta" is taken as tạ: in a sentence about produce it is the 100 kg that farmers sell by.
pub(crate) fn multiple_name(word: &Word) -> Option<&'static str> {
    match SCALES.iter().find(|scale| word.is(&scale.spelling)) {
        Some(scale) => scale.spelling.marked.first().copied(),
        None => word.is(&TA).then_some("tạ"),
    }
}

fn scale_of(token: Option<&Token>) -> Option<&'static Scale> {
    match token {
        Some(Token::Word(word)) => SCALES.iter().find(|scale| word.is(&scale.spelling)),
        _ => None,
    }
}

fn unit_of(token: Option<&Token>) -> Option<Unit> {
    match token {
        Some(Token::Word(word)) => Unit::ALL.into_iter().find(|unit| word.is(unit.spelling())),
        _ => None,
    }
}

/// What was read before the range and whole-number checks: thousandths of the unit.
struct Reading {
    milli: u128,
    unit: Option<Unit>,
}

impl Reading {
    fn check(self, shown: &str) -> Result<Quantity, Invalid> {
        let whole = self.milli / 1000;
        let unit_vi = self.unit.map(|unit| format!(" {}", unit.name_vi())).unwrap_or_default();
        if whole > MAX_QUANTITY as u128 {
            let (vi, en) = if whole < 1_000_000_000_000_000_000 {
                let grouped = group_thousands(whole);
                (format!(" là {grouped}{unit_vi}"), format!(" is {}{unit_vi}", grouped.replace('.', ",")))
            } else {
                (String::new(), String::new())
            };
            return Err(Invalid::new(
                "quantity_too_large",
                format!("Số lượng tối đa là 1.000.000; \"{shown}\"{vi}."),
                format!("The largest quantity is 1,000,000; \"{shown}\"{en}."),
            ));
        }
        if !self.milli.is_multiple_of(1000) {
            let (below, above) = (whole, whole + 1);
            let (vi, en) = if below == 0 {
                (format!("{above}{unit_vi}"), format!("{above}{unit_vi}"))
            } else {
                (format!("{below}{unit_vi} hoặc {above}{unit_vi}"), format!("{below}{unit_vi} or {above}{unit_vi}"))
            };
            return Err(Invalid::new(
                "quantity_not_whole",
                format!(
                    "Số lượng phải là số nguyên: \"{shown}\" là {}{unit_vi}. Hãy ghi {vi}.",
                    decimal(self.milli, ',')
                ),
                format!(
                    "The quantity must be a whole number: \"{shown}\" is {}{unit_vi}. Write {en}.",
                    decimal(self.milli, '.')
                ),
            ));
        }
        // Cannot fail: whole ≤ MAX_QUANTITY.
        Ok(Quantity { amount: i64::try_from(whole).unwrap_or(MAX_QUANTITY), unit: self.unit })
    }
}

/// Why the tokens did not read as a quantity: the token at this index, or nothing numeric at all.
enum Problem {
    NoNumber,
    At(usize),
}

impl Problem {
    fn invalid(self, shown: &str, tokens: &[Token]) -> Invalid {
        let (token, before) = match self {
            Problem::NoNumber => (None, &[][..]),
            Problem::At(index) => (tokens.get(index), &tokens[..index.min(tokens.len())]),
        };
        let after_mass = before.iter().any(|token| scale_of(Some(token)).is_some_and(|scale| scale.mass));
        match token {
            None => Invalid::new(
                "quantity_not_understood",
                format!("Không thấy con số trong \"{shown}\". Hãy ghi số lượng bằng chữ số, ví dụ 50 kg."),
                format!("No number found in \"{shown}\". Write the quantity in digits, e.g. 50 kg."),
            ),
            Some(Token::Number(numeral)) if numeral.shape == Shape::Ambiguous => Invalid::new(
                "quantity_not_understood",
                format!(
                    "Không rõ số \"{}\": dấu chấm, phẩy ở đây có thể là dấu tách hàng nghìn hay dấu thập phân. Hãy \
                        ghi rõ, ví dụ 1500 hoặc 1,5.",
                    numeral.raw
                ),
                format!(
                    "The number \"{}\" is unclear: its dots and commas could separate thousands or mark decimals. \
                        Write e.g. 1500 or 1,5.",
                    numeral.raw
                ),
            ),
            Some(Token::Number(numeral)) if numeral.shape == Shape::Malformed => Invalid::new(
                "quantity_not_understood",
                format!(
                    "Không hiểu cách viết số \"{}\": dấu tách hàng nghìn phải đứng trước đúng 3 chữ số (1.000), dấu \
                        thập phân trước 1–2 chữ số (1,5).",
                    numeral.raw
                ),
                format!(
                    "The number \"{}\" was not understood: a thousands separator comes before exactly 3 digits \
                        (1.000), a decimal mark before 1–2 digits (1,5).",
                    numeral.raw
                ),
            ),
            Some(Token::Word(word)) if is_container(word) => Invalid::new(
                "quantity_not_understood",
                format!("Không dùng \"{}\" làm đơn vị trong \"{shown}\".{CONTAINER_VI}", word.raw),
                format!("\"{}\" in \"{shown}\" is not a unit.{CONTAINER_EN}", word.raw),
            ),
            Some(Token::Word(word)) if after_mass && unit_of(token).is_some() => Invalid::new(
                "quantity_not_understood",
                format!(
                    "Tạ, yến, tấn đã là kg nên không đi với \"{raw}\" (\"{shown}\"). Hãy ghi số kg hoặc số {raw}.",
                    raw = word.raw
                ),
                format!(
                    "Tạ, yến and tấn are already kg, so \"{raw}\" cannot follow them (\"{shown}\"). Give the kg or \
                     the number of {raw}.",
                    raw = word.raw
                ),
            ),
            Some(Token::Word(word)) if word.is(&TA) => Invalid::new(
                "quantity_not_understood",
                format!(
                    "\"{}\" không dấu có thể là tạ (100 kg) hay tá (12 cái). Hãy gõ có dấu hoặc ghi số kg.",
                    word.raw
                ),
                format!(
                    "Without accents, \"{}\" is either tạ (100 kg) or tá (a dozen). Type the accent or give the kg.",
                    word.raw
                ),
            ),
            Some(token) => Invalid::new(
                "quantity_not_understood",
                format!(
                    "Không hiểu \"{}\" trong \"{shown}\". Hãy ghi như 50 kg, 2 tạ, 100 quả, 5 chục; đơn vị: \
                        {UNITS_VI}.",
                    token.raw()
                ),
                format!(
                    "\"{}\" in \"{shown}\" was not understood. Write e.g. 50 kg, 2 tạ, 100 quả, 5 chục; units: \
                        {UNITS_EN}.",
                    token.raw()
                ),
            ),
        }
    }
}

/// Reads `number [scale [tail]] [unit [rưỡi]]`, where the tail after a scale is rưỡi (half), a number of a
/// smaller unit (`1 tạ 5 kg`, `1 tấn 2 tạ`, `5 chục 2 quả`), or the digits that follow as in speech (`1 tạ 2`
/// is 1,2 tạ = 120 kg).
fn read(tokens: &[Token]) -> Result<Reading, Problem> {
    let at = Problem::At;
    let Some(Token::Number(number)) = tokens.first() else {
        return Err(if tokens.iter().any(|t| matches!(t, Token::Number(_))) { at(0) } else { Problem::NoNumber });
    };
    if number.shape != Shape::Clear {
        return Err(at(0));
    }
    let mut index = 1;
    let mut milli = number.milli();
    let mut unit = None;
    let half = |token: Option<&Token>| matches!(token, Some(Token::Word(word)) if word.is(&HALF));
    if let Some(scale) = scale_of(tokens.get(index)) {
        index += 1;
        milli = milli.saturating_mul(scale.factor);
        // A chục (or tá) counts pieces: "3 chục" is 30 quả, never 30 kg.
        unit = Some(if scale.mass { Unit::Kg } else { Unit::Qua });
        let mut unit_named = false;
        match tokens.get(index) {
            token if half(token) => {
                milli = milli.saturating_add(scale.factor * 500);
                index += 1;
            }
            Some(Token::Number(tail)) if number.fraction.is_empty() => {
                let value = tail.integer().ok_or(at(index))?;
                let next = tokens.get(index + 1);
                let smaller = scale_of(next).filter(|s| s.mass == scale.mass && s.factor < scale.factor);
                let named = unit_of(next).filter(|u| !scale.mass || *u == Unit::Kg);
                if let Some(smaller) = smaller {
                    if value.saturating_mul(smaller.factor) >= scale.factor {
                        return Err(at(index));
                    }
                    milli = milli.saturating_add(value * smaller.factor * 1000);
                    index += 2;
                } else if let Some(named) = named {
                    if value >= scale.factor {
                        return Err(at(index));
                    }
                    milli = milli.saturating_add(value * 1000);
                    unit = Some(named);
                    unit_named = true;
                    index += 2;
                } else if scale.mass && !tail.grouped && tail.whole.len() <= zeros(scale.factor) {
                    milli = milli.saturating_add(value * scale.factor * 1000 / 10u128.pow(tail.whole.len() as u32));
                    index += 1;
                } else if !scale.mass && value < scale.factor {
                    milli = milli.saturating_add(value * 1000);
                    index += 1;
                } else {
                    return Err(at(index));
                }
            }
            _ => {}
        }
        if !unit_named && let Some(named) = unit_of(tokens.get(index)) {
            // Tạ, yến and tấn are already kg: "3 yến quả" is not a number of pieces.
            if scale.mass && named != Unit::Kg {
                return Err(at(index));
            }
            unit = Some(named);
            index += 1;
        }
    } else if let Some(named) = unit_of(tokens.get(index)) {
        unit = Some(named);
        index += 1;
        if half(tokens.get(index)) {
            milli = milli.saturating_add(500);
            index += 1;
        }
    }
    if index < tokens.len() {
        return Err(at(index));
    }
    Ok(Reading { milli, unit })
}

/// The number of zeros of a power of ten: 1000 → 3.
fn zeros(factor: u128) -> usize {
    factor.to_string().trim_start_matches('1').len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;

    fn quantity(input: &str) -> Result<(i64, Option<Unit>), &'static str> {
        Quantity::parse(input).map(|q| (q.amount, q.unit)).map_err(|e| e.code)
    }

    #[test]
    fn accepted_quantities() {
        use Unit::*;
        for (input, amount, unit) in [
            ("50", 50, None),
            ("50kg", 50, Some(Kg)),
            ("50 kg", 50, Some(Kg)),
            ("50 KG", 50, Some(Kg)),
            ("50 ký", 50, Some(Kg)),
            ("50 kí", 50, Some(Kg)),
            ("50 ky", 50, Some(Kg)),
            ("50 cân", 50, Some(Kg)),
            ("2 tạ", 200, Some(Kg)),
            ("3 yến", 30, Some(Kg)),
            ("3 yen", 30, Some(Kg)),
            ("1 tấn", 1000, Some(Kg)),
            ("1 tan", 1000, Some(Kg)),
            ("1,5 tấn", 1500, Some(Kg)),
            ("1.5 tấn", 1500, Some(Kg)),
            ("0,5 tấn", 500, Some(Kg)),
            ("1,5 yến", 15, Some(Kg)),
            ("2 tạ kg", 200, Some(Kg)),
            ("1 tạ 2", 120, Some(Kg)),
            ("1 tạ 25", 125, Some(Kg)),
            ("1 tấn 250", 1250, Some(Kg)),
            ("1 tạ 5 kg", 105, Some(Kg)),
            ("1 tấn 2 tạ", 1200, Some(Kg)),
            ("2 yến rưỡi", 25, Some(Kg)),
            ("1 tấn rưỡi", 1500, Some(Kg)),
            ("100 quả", 100, Some(Qua)),
            ("100 trái", 100, Some(Qua)),
            ("100 qủa", 100, Some(Qua)),
            ("100 qua", 100, Some(Qua)),
            ("20 bó", 20, Some(Bo)),
            ("20 bo", 20, Some(Bo)),
            ("10 con", 10, Some(Con)),
            ("4 hộp", 4, Some(Hop)),
            ("6 chai", 6, Some(Chai)),
            ("3 lít", 3, Some(Lit)),
            ("3 l", 3, Some(Lit)),
            ("5 gói", 5, Some(Goi)),
            ("5 túi", 5, Some(Tui)),
            ("2 thùng", 2, Some(Thung)),
            ("2 bao", 2, Some(Bao)),
            ("40 nải", 40, Some(Nai)),
            ("20 buồng", 20, Some(Buong)),
            ("100 mớ", 100, Some(Mo)),
            ("80 khay", 80, Some(Khay)),
            ("50 vỉ", 50, Some(Vi)),
            ("5 chục", 50, Some(Qua)),
            ("5 chục quả", 50, Some(Qua)),
            ("5 chục 2 quả", 52, Some(Qua)),
            ("5 chục 2", 52, Some(Qua)),
            ("2 chục rưỡi", 25, Some(Qua)),
            ("2 tá", 24, Some(Qua)),
            ("3 chục bó", 30, Some(Bo)),
            ("1.000 kg", 1000, Some(Kg)),
            ("1,000 kg", 1000, Some(Kg)),
            ("1 000 kg", 1000, Some(Kg)),
            ("2,0 kg", 2, Some(Kg)),
            ("còn 200 kg", 200, Some(Kg)),
            ("con 200 kg", 200, Some(Kg)),
            ("Còn khoảng 2 tạ", 200, Some(Kg)),
            ("có 30 bó", 30, Some(Bo)),
            ("tầm 1 tấn", 1000, Some(Kg)),
            ("0", 0, None),
            ("0 kg", 0, Some(Kg)),
            ("hết", 0, None),
            ("Hết hàng", 0, None),
            ("1000000", 1_000_000, None),
            ("1 000 tấn", 1_000_000, Some(Kg)),
            ("  50\u{a0}kg ", 50, Some(Kg)),
        ] {
            assert_eq!(quantity(input), Ok((amount, unit)), "{input}");
        }
    }

    #[test]
    fn refused_quantities_get_specific_codes() {
        for (input, code) in [
            ("", "quantity_required"),
            ("   ", "quantity_required"),
            ("kg", "quantity_not_understood"),
            ("nhiều", "quantity_not_understood"),
            ("50 kg xoài", "quantity_not_understood"),
            ("2 sọt", "quantity_not_understood"),
            ("2 bịch", "quantity_not_understood"),
            ("2 ta", "quantity_not_understood"),
            ("2 tá trứng", "quantity_not_understood"),
            ("10 bò", "quantity_not_understood"),
            ("10 bơ", "quantity_not_understood"),
            ("10 còn", "quantity_not_understood"),
            ("3 yến quả", "quantity_not_understood"),
            ("1 tạ 150 kg", "quantity_not_understood"),
            ("1 tấn 15 tạ", "quantity_not_understood"),
            ("1 yến 25", "quantity_not_understood"),
            ("50 gram", "quantity_not_understood"),
            ("1.200,000 kg", "quantity_not_understood"),
            ("25.0000 kg", "quantity_not_understood"),
            ("hết xoài", "quantity_not_understood"),
            ("2,5 kg", "quantity_not_whole"),
            ("0,5 quả", "quantity_not_whole"),
            ("2 ký rưỡi", "quantity_not_whole"),
            ("1,25 yến", "quantity_not_whole"),
            ("1,5", "quantity_not_whole"),
            ("1000001", "quantity_too_large"),
            ("1.001 tấn", "quantity_too_large"),
            ("99999999999999999999999999999999999999999 tấn", "quantity_too_large"),
            ("-5", "quantity_negative"),
            ("-5 kg", "quantity_negative"),
        ] {
            assert_eq!(quantity(input), Err(code), "{input}");
        }
    }

    #[test]
    fn messages_say_what_was_not_understood() {
        let error =
            |input: &str| Quantity::parse(input).err().map(|e| (e.message.vi.into_owned(), e.message.en.into_owned()));
        let (vi, en) = error("50 thúng").unwrap_or_default();
        assert!(vi.contains("\"thúng\"") && en.contains("\"thúng\""), "{vi} / {en}");
        let (vi, en) = error("2 sọt").unwrap_or_default();
        assert!(vi.contains("Sọt, két") && en.contains("Baskets"), "{vi} / {en}");
        let (vi, en) = error("2,5 kg").unwrap_or_default();
        assert!(vi.contains("2,5 kg") && vi.contains("2 kg hoặc 3 kg"), "{vi}");
        assert!(en.contains("2.5 kg") && en.contains("2 kg or 3 kg"), "{en}");
        let (vi, _) = error("0,5 quả").unwrap_or_default();
        assert!(vi.contains("Hãy ghi 1 quả"), "{vi}");
        let (vi, en) = error("3 yến quả").unwrap_or_default();
        assert!(vi.contains("đã là kg") && vi.contains("số quả") && en.contains("number of quả"), "{vi} / {en}");
        let (vi, en) = error("1000001").unwrap_or_default();
        assert!(vi.contains("1.000.001") && en.contains("1,000,001"), "{vi} / {en}");
        let (vi, _) = error("2 ta").unwrap_or_default();
        assert!(vi.contains("tạ (100 kg)") && vi.contains("tá (12"), "{vi}");
    }

    #[test]
    fn normal_form_and_case_do_not_matter() {
        for input in ["2 tạ", "100 quả", "còn 200 ký", "5 chục trái", "2 yến rưỡi", "Hết hàng", "3 LÍT"]
        {
            let nfc: String = input.nfc().collect();
            let nfd: String = input.nfd().collect();
            assert_ne!(nfc, nfd, "{input}");
            assert!(quantity(&nfc).is_ok(), "{input}");
            assert_eq!(quantity(&nfc), quantity(&nfd), "{input}");
            assert_eq!(quantity(&nfc.to_uppercase()), quantity(&nfc), "{input}");
        }
    }

    #[test]
    fn units_codes_words_and_serde() {
        for unit in Unit::ALL {
            assert_eq!(Unit::parse_code(unit.as_str()), Some(unit));
            assert_eq!(unit_from_word(unit.name_vi()), Some(unit));
            assert_eq!(unit_from_word(unit.as_str()), Some(unit));
            assert_eq!(parse_unit(&unit.name_vi().to_uppercase()), Ok(unit));
            assert_eq!(serde_json::to_string(&unit).ok(), Some(format!("\"{}\"", unit.as_str())));
        }
        assert_eq!(Unit::parse_code("ký"), None);
        assert_eq!(Unit::parse_code("KG"), None);
        for (word, unit) in
            [("kí", Unit::Kg), ("can", Unit::Kg), ("Trái", Unit::Qua), ("tui", Unit::Tui), ("l", Unit::Lit)]
        {
            assert_eq!(unit_from_word(word), Some(unit), "{word}");
        }
        for word in ["sọt", "sot", "bò", "bơ", "quà", "tạ", "", "kg kg"] {
            assert_eq!(unit_from_word(word), None, "{word}");
        }
        assert_eq!(Unit::Kg.weight_g(), Some(1000));
        assert_eq!(Unit::Lit.weight_g(), Some(1000));
        assert_eq!(Unit::Qua.weight_g(), None);
        assert_eq!(
            parse_unit(" "),
            Err(Invalid::new(
                "unit_required",
                format!("Vui lòng chọn đơn vị: {UNITS_VI}."),
                format!("Please choose a unit: {UNITS_EN}.")
            ))
        );
        let unknown = parse_unit("sọt").err();
        assert_eq!(unknown.as_ref().map(|e| e.code), Some("unit_unknown"));
        assert!(unknown.is_some_and(|e| e.message.vi.contains(UNITS_VI) && e.message.en.contains(UNITS_EN)));
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Quantity { amount: 1500, unit: Some(Unit::Kg) }.to_string(), "1.500 kg");
        assert_eq!(Quantity { amount: 50, unit: Some(Unit::Qua) }.to_string(), "50 quả");
        assert_eq!(Quantity { amount: 12, unit: None }.to_string(), "12");
    }

    fn any_unit() -> impl Strategy<Value = Option<Unit>> {
        prop::option::of(prop::sample::select(Unit::ALL.to_vec()))
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_in_range(input in "\\PC{0,40}") {
            if let Ok(q) = Quantity::parse(&input) {
                prop_assert!((0..=MAX_QUANTITY).contains(&q.amount));
            }
            let _ = parse_unit(&input);
            let _ = unit_from_word(&input);
        }

        #[test]
        fn made_of_quantity_words_never_panics(words in prop::collection::vec(prop::sample::select(vec![
            "1", "25", "1.000", "1,5", "0", "-", " ", "kg", "tạ", "tá", "ta", "tấn", "yến", "chục", "rưỡi", "quả",
            "còn", "hết", "hàng", "thùng", "999999999999999999999999999999", "1 000", ",", ".",
        ]), 0..8)) {
            let input = words.join(" ");
            if let Ok(q) = Quantity::parse(&input) {
                prop_assert!((0..=MAX_QUANTITY).contains(&q.amount));
            }
            let _ = Quantity::parse(&words.concat());
        }

        #[test]
        fn n_kg_is_n_kg(n in 0..=MAX_QUANTITY) {
            prop_assert_eq!(quantity(&format!("{n} kg")), Ok((n, Some(Unit::Kg))));
            prop_assert_eq!(quantity(&format!("{n}kg")), Ok((n, Some(Unit::Kg))));
        }

        #[test]
        fn display_round_trips(amount in 0..=MAX_QUANTITY, unit in any_unit()) {
            let q = Quantity { amount, unit };
            prop_assert_eq!(Quantity::parse(&q.to_string()), Ok(q));
        }

        #[test]
        fn tonnes_with_one_decimal_are_whole_kg(tonnes in 0i64..1000, tenth in 0i64..10) {
            let expected = (tonnes * 1000 + tenth * 100, Some(Unit::Kg));
            prop_assert_eq!(quantity(&format!("{tonnes},{tenth} tấn")), Ok(expected));
        }
    }
}
