//! Prices in Vietnamese đồng, read the way people write them: `25k`, `25.000đ`, `1,2 triệu`, `1tr2`, `2 triệu
//! rưỡi`, `1 củ`.
//!
//! A price is never guessed. When a text could mean two amounts (`25.5`), it is refused with a message that
//! shows how to write it unmistakably.

use std::fmt;

use super::Invalid;
use super::quantity::{Quantity, Unit, unit_from_word};
use super::reading::{Numeral, Shape, Spelling, Token, Word, group_thousands, lex};

/// The highest price of one unit: 1 tỷ đồng.
pub const MAX_PRICE: i64 = 1_000_000_000;

/// A price in whole đồng, from 1 to [`MAX_PRICE`]. Displayed as Vietnamese write prices: `25.000đ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vnd(i64);

impl Vnd {
    /// An amount already in đồng (a JSON number, a stored value), checked against the same range as
    /// [`Vnd::parse`].
    pub fn new(amount: i64) -> Result<Vnd, Invalid> {
        check(u128::from(amount.max(0).unsigned_abs()), amount < 0, &amount.to_string())
    }

    /// Accepts `25000`, `25k`, `25.000đ`, `25,000 VND`, `25 000 đồng`, `25 nghìn`, `2 trăm nghìn`, `1,2 triệu`,
    /// `1.5tr`, `1tr2` (1.200.000), `1tr250`, `2 triệu 5` (2.500.000), `2 triệu rưỡi`, `1 triệu 200 nghìn` and
    /// `1 củ`. Case, marks and NFC/NFD do not matter.
    ///
    /// A price with a unit (`25k/kg`) is refused with `price_has_unit`. [`parse_price_per_unit`] splits it.
    pub fn parse(input: &str) -> Result<Vnd, Invalid> {
        let shown = input.trim();
        if let Some((_, unit)) = shown.split_once('/') {
            let unit = unit.trim();
            return Err(if unit.is_empty() {
                not_understood(shown, Some(&Token::Symbol('/')))
            } else {
                has_unit(shown, unit)
            });
        }
        let tokens = lex(input);
        if tokens.is_empty() {
            return Err(Invalid::new("price_required", "Vui lòng nhập giá.", "Please enter a price."));
        }
        let (negative, tokens) = match tokens.split_first() {
            Some((Token::Symbol('-' | '−' | '–'), rest)) if matches!(rest.first(), Some(Token::Number(_))) => {
                (true, rest)
            }
            _ => (false, tokens.as_slice()),
        };
        check(read(shown, tokens)?, negative, shown)
    }

    /// Whole đồng.
    pub fn amount(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Vnd {
    /// `25.000đ`, `1.200.000đ`, `500đ`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_vnd(self.0))
    }
}

/// Any amount of đồng as people read it: `200.000đ`, `0đ`, `-5.000đ`.
pub fn format_vnd(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}{}đ", group_thousands(u128::from(amount.unsigned_abs())))
}

/// Reads a price written with what it buys, `25k/kg`, `25.000đ / ký`, `100k/chục`, `1tr/tạ` or `50k/2 kg`,
/// as the price of one unit listings are sold in (25.000đ per kg, 10.000đ per quả, 10.000đ per kg, 25.000đ per
/// kg). Without a slash, the unit is `None`.
pub fn parse_price_per_unit(input: &str) -> Result<(Vnd, Option<Unit>), Invalid> {
    let Some((price, basis)) = input.split_once('/') else {
        return Ok((Vnd::parse(input)?, None));
    };
    let vnd = Vnd::parse(price)?;
    let basis = price_basis(basis).map_err(|_| {
        let shown = input.trim();
        Invalid::new(
            "price_not_understood",
            format!("Không hiểu đơn vị sau dấu / trong \"{shown}\". Hãy ghi như 25k/kg, 100k/chục, 1tr/tạ."),
            format!(
                "The unit after the slash in \"{shown}\" was not understood. Write e.g. 25k/kg, 100k/chục, 1tr/tạ."
            ),
        )
    })?;
    Ok((per_one(vnd, basis)?, basis.unit))
}

/// What a price buys, as written after it: `kg`, `1 kg`, `một ký`, `mỗi bó`, `tạ` (100 kg), `chục` (10 quả),
/// `2 kg`. Always has a unit and a count of at least one.
pub fn price_basis(text: &str) -> Result<Quantity, Invalid> {
    let text = text.trim();
    let text = match text.split_once(char::is_whitespace) {
        Some((first, rest)) if Word::new(first).is(&ONE) => rest,
        _ => text,
    };
    let counted = if text.starts_with(|c: char| c.is_ascii_digit()) { text.to_owned() } else { format!("1 {text}") };
    match Quantity::parse(&counted) {
        Ok(basis) if basis.amount > 0 && basis.unit.is_some() => Ok(basis),
        Ok(_) => Err(Invalid::new(
            "price_not_understood",
            format!("\"{text}\" không phải đơn vị bán."),
            format!("\"{text}\" is not a unit to sell by."),
        )),
        Err(invalid) => Err(invalid),
    }
}

/// The price of one unit when `vnd` buys `basis` (`1tr` for a tạ is 10.000đ a kg). Refused when it does not
/// divide into whole đồng, rather than rounded.
pub fn per_one(vnd: Vnd, basis: Quantity) -> Result<Vnd, Invalid> {
    let (amount, count) = (vnd.amount(), basis.amount.max(1));
    if amount % count != 0 {
        let unit = basis.unit.map_or("", Unit::name_vi);
        return Err(Invalid::new(
            "price_not_divisible",
            format!(
                "{vnd} cho {basis} không chia đều thành giá mỗi {unit}. Hãy ghi giá của 1 {unit} (ví dụ {}/{unit}).",
                Vnd(amount / count)
            ),
            format!(
                "{vnd} for {basis} does not divide into a whole price per {unit}. Give the price of 1 {unit} (e.g. \
                    {}/{unit}).",
                Vnd(amount / count)
            ),
        ));
    }
    Vnd::new(amount / count)
}

/// A word after the number that multiplies it.
struct Multiplier {
    spelling: Spelling,
    value: u128,
    /// Digits that `value` adds: 3 for nghìn, 6 for triệu.
    zeros: usize,
}

static MULTIPLIERS: [Multiplier; 5] = [
    Multiplier { spelling: Spelling { marked: &[], plain: &["k"] }, value: 1_000, zeros: 3 },
    Multiplier {
        // "ngìn" is how the word is often typed.
        spelling: Spelling { marked: &["nghìn", "ngàn", "ngìn"], plain: &["nghin", "ngan", "ngin"] },
        value: 1_000,
        zeros: 3,
    },
    Multiplier { spelling: Spelling { marked: &["triệu"], plain: &["trieu", "tr"] }, value: 1_000_000, zeros: 6 },
    // Slang: "1 củ" is a million.
    Multiplier { spelling: Spelling { marked: &["củ"], plain: &["cu"] }, value: 1_000_000, zeros: 6 },
    Multiplier {
        spelling: Spelling { marked: &["tỷ", "tỉ"], plain: &["ty", "ti"] }, value: 1_000_000_000, zeros: 9
    },
];

const CURRENCY: Spelling = Spelling { marked: &["đ", "đồng", "vnđ"], plain: &["d", "dong", "vnd"] };
const HUNDRED: Spelling = Spelling { marked: &["trăm"], plain: &["tram"] };
/// "một ký", "mỗi bó": one of the unit.
const ONE: Spelling = Spelling { marked: &["một", "mỗi"], plain: &["mot", "moi"] };
const HALF: Spelling = Spelling { marked: &["rưỡi", "rưởi"], plain: &["ruoi"] };

/// How a word reads inside a price, for readers of whole sentences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PriceWord {
    /// k, nghìn, triệu, củ, tỷ.
    Multiplier,
    Hundred,
    Half,
    Currency,
}

pub(crate) fn price_word(word: &Word) -> Option<PriceWord> {
    if MULTIPLIERS.iter().any(|m| word.is(&m.spelling)) {
        return Some(PriceWord::Multiplier);
    }
    [(&HUNDRED, PriceWord::Hundred), (&HALF, PriceWord::Half), (&CURRENCY, PriceWord::Currency)]
        .into_iter()
        .find_map(|(spelling, reading)| word.is(spelling).then_some(reading))
}

fn multiplier_of(token: Option<&Token>) -> Option<&'static Multiplier> {
    match token {
        Some(Token::Word(word)) => MULTIPLIERS.iter().find(|m| word.is(&m.spelling)),
        _ => None,
    }
}

fn is_word(token: Option<&Token>, spelling: &Spelling) -> bool {
    matches!(token, Some(Token::Word(word)) if word.is(spelling))
}

/// Reads `number [multiplier [tail]] [currency]` into đồng (saturating far above the limit). The tail after
/// a multiplier is rưỡi (half), a number of a smaller multiplier (`1 triệu 200 nghìn`), up to three digits
/// read as in speech (`1tr2` is 1,2 triệu, `1tr250` is 1,25 triệu), or all the lower digits (`2 triệu
/// 500.000`).
fn read(shown: &str, tokens: &[Token]) -> Result<u128, Invalid> {
    let Some(Token::Number(number)) = tokens.first() else {
        return Err(not_understood(shown, tokens.iter().any(|t| matches!(t, Token::Number(_))).then(|| &tokens[0])));
    };
    match number.shape {
        Shape::Clear => {}
        Shape::Ambiguous => return Err(mixed_separators(shown, number)),
        Shape::Malformed => return Err(malformed(shown, number)),
    }
    let mut index = 1;
    // "2 trăm nghìn" is 200 nghìn: hundreds of what follows.
    let hundreds = is_word(tokens.get(index), &HUNDRED);
    let value = if hundreds {
        index += 1;
        number.milli().saturating_mul(100)
    } else {
        number.milli()
    };
    let milli = match multiplier_of(tokens.get(index)) {
        Some(multiplier) => {
            index += 1;
            let mut milli = value.saturating_mul(multiplier.value);
            match tokens.get(index) {
                token if is_word(token, &HALF) => {
                    milli = milli.saturating_add(multiplier.value * 500);
                    index += 1;
                }
                Some(Token::Number(tail)) if number.fraction.is_empty() => {
                    let value = tail.integer().ok_or_else(|| not_understood(shown, tokens.get(index)))?;
                    let length = tail.whole.len();
                    if let Some(smaller) = multiplier_of(tokens.get(index + 1)).filter(|m| m.value < multiplier.value) {
                        if value.saturating_mul(smaller.value) >= multiplier.value {
                            return Err(not_understood(shown, tokens.get(index)));
                        }
                        milli = milli.saturating_add(value * smaller.value * 1000);
                        index += 2;
                    } else if !tail.grouped && length <= 3 {
                        milli = milli.saturating_add(value * multiplier.value * 1000 / 10u128.pow(length as u32));
                        index += 1;
                    } else if length == multiplier.zeros {
                        milli = milli.saturating_add(value * 1000);
                        index += 1;
                    } else {
                        return Err(not_understood(shown, tokens.get(index)));
                    }
                }
                _ => {}
            }
            milli
        }
        None if !hundreds && !number.fraction.is_empty() && number.milli() > 0 => {
            return Err(if number.grouped { not_whole(shown) } else { ambiguous(shown, number) });
        }
        None => value,
    };
    if is_word(tokens.get(index), &CURRENCY) || matches!(tokens.get(index), Some(Token::Symbol('₫'))) {
        index += 1;
    }
    if let Some(unit) = tokens[index.min(tokens.len())..].iter().find_map(|token| match token {
        Token::Word(word) if unit_from_word(&word.raw).is_some() => Some(word),
        _ => None,
    }) {
        return Err(has_unit(shown, &unit.raw));
    }
    if index < tokens.len() {
        return Err(not_understood(shown, tokens.get(index)));
    }
    // Too high says more than a fraction, and a saturated value has one.
    if !milli.is_multiple_of(1000) && milli / 1000 <= MAX_PRICE as u128 {
        return Err(not_whole(shown));
    }
    Ok(milli / 1000)
}

fn check(amount: u128, negative: bool, shown: &str) -> Result<Vnd, Invalid> {
    if negative || amount == 0 {
        return Err(Invalid::new(
            "price_too_low",
            format!("Giá phải lớn hơn 0đ (bạn nhập \"{shown}\")."),
            format!("The price must be more than 0đ (\"{shown}\" given)."),
        ));
    }
    if amount > MAX_PRICE as u128 {
        let (vi, en) = if amount < 1_000_000_000_000_000_000 {
            let amount = group_thousands(amount);
            (format!(": \"{shown}\" là {amount}đ"), format!(": \"{shown}\" is {amount}đ"))
        } else {
            (String::new(), String::new())
        };
        return Err(Invalid::new(
            "price_too_high",
            format!("Giá tối đa là 1 tỷ đồng (1.000.000.000đ){vi}. Kiểm tra lại số chữ số 0."),
            format!("The highest price is 1 tỷ đồng (1.000.000.000đ){en}. Check the number of zeros."),
        ));
    }
    // Cannot fail: amount ≤ MAX_PRICE.
    Ok(Vnd(i64::try_from(amount).unwrap_or(MAX_PRICE)))
}

fn has_unit(shown: &str, unit: &str) -> Invalid {
    Invalid::new(
        "price_has_unit",
        format!("Giá \"{shown}\" có kèm đơn vị \"{unit}\". Hãy ghi giá và đơn vị riêng, ví dụ giá 25000 và đơn vị kg."),
        format!(
            "The price \"{shown}\" includes the unit \"{unit}\". Send the price and the unit separately, e.g. 25000 \
                and kg."
        ),
    )
}

/// The first token that made no sense, or `None` when there was no number at all.
fn not_understood(shown: &str, token: Option<&Token>) -> Invalid {
    match token {
        None => Invalid::new(
            "price_not_understood",
            format!("Không thấy số tiền trong \"{shown}\". Hãy ghi giá bằng chữ số, ví dụ 25000 hoặc 25k."),
            format!("No amount found in \"{shown}\". Write the price in digits, e.g. 25000 or 25k."),
        ),
        Some(token) => Invalid::new(
            "price_not_understood",
            format!(
                "Không hiểu \"{}\" trong giá \"{shown}\". Hãy ghi giá như 25000, 25.000đ, 25k, 1tr2 hoặc 1,5 triệu.",
                token.raw()
            ),
            format!(
                "\"{}\" in the price \"{shown}\" was not understood. Write prices like 25000, 25.000đ, 25k, 1tr2 or \
                    1,5 triệu.",
                token.raw()
            ),
        ),
    }
}

fn malformed(shown: &str, number: &Numeral) -> Invalid {
    Invalid::new(
        "price_not_understood",
        format!(
            "Không hiểu cách viết số \"{}\" trong giá \"{shown}\": dấu chấm hay phẩy tách hàng nghìn phải đứng \
                trước đúng 3 chữ số (25.000).",
            number.raw
        ),
        format!(
            "The number \"{}\" in the price \"{shown}\" was not understood: a thousands separator comes before \
                exactly 3 digits (25.000).",
            number.raw
        ),
    )
}

fn mixed_separators(shown: &str, number: &Numeral) -> Invalid {
    Invalid::new(
        "price_ambiguous",
        format!(
            "Không rõ số \"{}\" trong giá \"{shown}\": dấu chấm, phẩy ở đây có thể là dấu tách hàng nghìn hay dấu \
                thập phân. Hãy ghi rõ, ví dụ 1.200.000, 1200000 hoặc 1,2 triệu.",
            number.raw
        ),
        format!(
            "The number \"{}\" in the price \"{shown}\" is unclear: its dots and commas could separate thousands or \
                mark decimals. Write e.g. 1.200.000, 1200000 or 1,2 triệu.",
            number.raw
        ),
    )
}

/// `25.5` could be 25,5 đồng or 25.500đ. The message shows how to write the larger reading unmistakably.
fn ambiguous(shown: &str, number: &Numeral) -> Invalid {
    let full = group_thousands(number.milli());
    let short = format!("{},{}k", number.whole, number.fraction.trim_end_matches('0')).replace(",k", "k");
    Invalid::new(
        "price_ambiguous",
        format!(
            "Giá \"{shown}\" không rõ: dấu chấm hay phẩy trước 1–2 chữ số chỉ là dấu thập phân khi có k, nghìn hay \
                triệu theo sau. Nếu là {full}đ, hãy ghi {full} hoặc {short}."
        ),
        format!(
            "The price \"{shown}\" is unclear: a dot or comma before 1–2 digits is a decimal mark only when k, \
                nghìn or triệu follows. If you mean {full}đ, write {full} or {short}."
        ),
    )
}

fn not_whole(shown: &str) -> Invalid {
    Invalid::new(
        "price_not_whole",
        format!("Giá phải là số đồng chẵn: \"{shown}\" có phần lẻ dưới 1 đồng."),
        format!("The price must be whole đồng: \"{shown}\" has a fraction of a đồng."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;

    fn price(input: &str) -> Result<i64, &'static str> {
        Vnd::parse(input).map(Vnd::amount).map_err(|e| e.code)
    }

    #[test]
    fn accepted_prices() {
        for (input, amount) in [
            ("25000", 25_000),
            ("25k", 25_000),
            ("25K", 25_000),
            ("25 k", 25_000),
            ("25.000", 25_000),
            ("25.000đ", 25_000),
            ("25.000 Đ", 25_000),
            ("25,000 VND", 25_000),
            ("25.000 VNĐ", 25_000),
            ("25000₫", 25_000),
            ("25 000 đồng", 25_000),
            ("25 000 dong", 25_000),
            ("25 nghìn", 25_000),
            ("25 NGHÌN", 25_000),
            ("25 ngàn", 25_000),
            ("25 ngan", 25_000),
            ("25 nghin dong", 25_000),
            ("25 ngìn", 25_000),
            ("2 trăm nghìn", 200_000),
            ("1,5 trăm nghìn", 150_000),
            ("1,2 triệu", 1_200_000),
            ("1.5tr", 1_500_000),
            ("1TR2", 1_200_000),
            ("1tr2", 1_200_000),
            ("1tr25", 1_250_000),
            ("1tr250", 1_250_000),
            ("1tr05", 1_050_000),
            ("2 triệu 5", 2_500_000),
            ("2 trieu 5", 2_500_000),
            ("2 triệu rưỡi", 2_500_000),
            ("25 nghìn rưỡi", 25_500),
            ("1 triệu 200 nghìn", 1_200_000),
            ("1tr200k", 1_200_000),
            ("2 triệu 500.000", 2_500_000),
            ("2 triệu 500.000 đồng", 2_500_000),
            ("1 củ", 1_000_000),
            ("1 cu", 1_000_000),
            ("2 củ rưỡi", 2_500_000),
            ("500đ", 500),
            ("500", 500),
            ("1.200.000đ", 1_200_000),
            ("1.200.000", 1_200_000),
            ("1 200 000", 1_200_000),
            ("2,5k", 2_500),
            ("25,50k", 25_500),
            ("25k5", 25_500),
            ("0,5k", 500),
            ("1.500k", 1_500_000),
            ("1 tỷ", 1_000_000_000),
            ("1 tỉ", 1_000_000_000),
            ("0,5 tỷ", 500_000_000),
            ("  25k\t", 25_000),
        ] {
            assert_eq!(price(input), Ok(amount), "{input}");
        }
    }

    #[test]
    fn refused_prices_get_specific_codes() {
        for (input, code) in [
            ("", "price_required"),
            ("  ", "price_required"),
            ("abc", "price_not_understood"),
            ("đ", "price_not_understood"),
            ("khoảng 25k", "price_not_understood"),
            ("25 usd", "price_not_understood"),
            ("$25", "price_not_understood"),
            ("25.0000", "price_not_understood"),
            ("25 5", "price_not_understood"),
            ("1tr2000", "price_not_understood"),
            ("1,5tr2", "price_not_understood"),
            ("25k 5k", "price_not_understood"),
            ("1 triệu 1500 nghìn", "price_not_understood"),
            ("25 tá", "price_not_understood"),
            ("25.5", "price_ambiguous"),
            ("25,5", "price_ambiguous"),
            ("25.00", "price_ambiguous"),
            ("25.5đ", "price_ambiguous"),
            ("1.200,000", "price_ambiguous"),
            ("0.500", "price_ambiguous"),
            ("25.000,50đ", "price_not_whole"),
            ("0", "price_too_low"),
            ("0đ", "price_too_low"),
            ("0,0", "price_too_low"),
            ("-5000", "price_too_low"),
            ("-25k", "price_too_low"),
            ("1,5 tỷ", "price_too_high"),
            ("2 tỷ", "price_too_high"),
            ("1000000001", "price_too_high"),
            ("99999999999999999999999999999999999999999999", "price_too_high"),
            ("25k/kg", "price_has_unit"),
            ("25.000đ/ký", "price_has_unit"),
            ("25k/quả", "price_has_unit"),
            ("25k kg", "price_has_unit"),
            ("25kg", "price_has_unit"),
            ("25k một ký", "price_has_unit"),
        ] {
            assert_eq!(price(input), Err(code), "{input}");
        }
    }

    #[test]
    fn messages_quote_what_was_not_understood() {
        let error =
            |input: &str| Vnd::parse(input).err().map(|e| (e.message.vi.into_owned(), e.message.en.into_owned()));
        let (vi, en) = error("25 usd").unwrap_or_default();
        assert!(vi.contains("\"usd\"") && vi.contains("\"25 usd\"") && en.contains("\"usd\""), "{vi} / {en}");
        let (vi, en) = error("25.5").unwrap_or_default();
        assert!(vi.contains("25.500") && vi.contains("25,5k") && en.contains("25.500"), "{vi} / {en}");
        let (vi, _) = error("25.00").unwrap_or_default();
        assert!(vi.contains("ghi 25.000 hoặc 25k"), "{vi}");
        let (vi, en) = error("25k/kg").unwrap_or_default();
        assert!(vi.contains("\"kg\"") && en.contains("separately, e.g. 25000 and kg."), "{vi} / {en}");
        let (vi, _) = error("/").unwrap_or_default();
        assert!(vi.contains("Không hiểu \"/\""), "{vi}");
        let (vi, _) = error("2 tỷ").unwrap_or_default();
        assert!(vi.contains("2.000.000.000đ"), "{vi}");
    }

    #[test]
    fn normal_form_and_case_do_not_matter() {
        for input in ["25 nghìn đồng", "1,2 triệu", "1 củ", "2 triệu rưỡi", "25.000 Đồng", "25 ngàn đ"]
        {
            let nfc: String = input.nfc().collect();
            let nfd: String = input.nfd().collect();
            assert_ne!(nfc, nfd, "{input}");
            assert!(price(&nfc).is_ok(), "{input}");
            assert_eq!(price(&nfc), price(&nfd), "{input}");
            assert_eq!(price(&nfc.to_uppercase()), price(&nfc), "{input}");
        }
    }

    #[test]
    fn display_as_vietnamese_write_prices() {
        let shown = |amount: i64| Vnd::new(amount).map(|v| v.to_string());
        assert_eq!(shown(25_000), Ok("25.000đ".to_owned()));
        assert_eq!(shown(1_200_000), Ok("1.200.000đ".to_owned()));
        assert_eq!(shown(500), Ok("500đ".to_owned()));
        assert_eq!(shown(1_000_000_000), Ok("1.000.000.000đ".to_owned()));
        assert_eq!(Vnd::new(0).map_err(|e| e.code), Err("price_too_low"));
        assert_eq!(Vnd::new(-1).map_err(|e| e.code), Err("price_too_low"));
        assert_eq!(Vnd::new(i64::MIN).map_err(|e| e.code), Err("price_too_low"));
        assert_eq!(Vnd::new(1_000_000_001).map_err(|e| e.code), Err("price_too_high"));
    }

    #[test]
    fn price_per_unit_is_the_price_of_one_unit() {
        use Unit::*;
        let split = |input: &str| parse_price_per_unit(input).map(|(v, u)| (v.amount(), u)).map_err(|e| e.code);
        assert_eq!(split("25k/kg"), Ok((25_000, Some(Kg))));
        assert_eq!(split("25.000đ / ký"), Ok((25_000, Some(Kg))));
        assert_eq!(split("35k/1kg"), Ok((35_000, Some(Kg))));
        assert_eq!(split("30k/ một ký"), Ok((30_000, Some(Kg))));
        assert_eq!(split("1tr2/tạ"), Ok((12_000, Some(Kg))));
        assert_eq!(split("500k/yến"), Ok((50_000, Some(Kg))));
        assert_eq!(split("118 triệu/tấn"), Ok((118_000, Some(Kg))));
        assert_eq!(split("100k/chục"), Ok((10_000, Some(Qua))));
        assert_eq!(split("50k/2 kg"), Ok((25_000, Some(Kg))));
        assert_eq!(split("25k/nải"), Ok((25_000, Some(Nai))));
        assert_eq!(split("180k/thùng"), Ok((180_000, Some(Thung))));
        assert_eq!(split("25k"), Ok((25_000, None)));
        assert_eq!(split("25k/"), Err("price_not_understood"));
        assert_eq!(split("25k/ngày"), Err("price_not_understood"));
        assert_eq!(split("25k/kg/ngày"), Err("price_not_understood"));
        assert_eq!(split("/kg"), Err("price_required"));
        assert_eq!(split("25.5/kg"), Err("price_ambiguous"));
        assert_eq!(split("25k/tạ"), Ok((250, Some(Kg))));
        assert_eq!(split("25.001/tạ"), Err("price_not_divisible"));
        let message = parse_price_per_unit("1.000.050/tạ").err().map(|e| e.message.vi.into_owned());
        assert!(message.is_some_and(|m| m.contains("1.000.050đ cho 100 kg") && m.contains("10.000đ/kg")));
    }

    fn dotted(n: i64, separator: char) -> String {
        group_thousands(u128::from(n.unsigned_abs())).replace('.', &separator.to_string())
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_in_range(input in "\\PC{0,40}") {
            if let Ok(vnd) = Vnd::parse(&input) {
                prop_assert!((1..=MAX_PRICE).contains(&vnd.amount()));
            }
            if let Ok((vnd, unit)) = parse_price_per_unit(&input) {
                prop_assert!((1..=MAX_PRICE).contains(&vnd.amount()));
                prop_assert_eq!(unit.is_some(), input.contains('/'));
            }
        }

        #[test]
        fn made_of_price_words_never_panics(words in prop::collection::vec(prop::sample::select(vec![
            "1", "25", "1.000", "1,5", "0", "-", " ", "k", "tr", "triệu", "tỷ", "củ", "rưỡi", "đ", "nghìn", "kg",
            "999999999999999999999999999999", "250", "500.000", ",", ".", "/", "₫",
        ]), 0..8)) {
            for input in [words.join(" "), words.concat()] {
                if let Ok(vnd) = Vnd::parse(&input) {
                    prop_assert!((1..=MAX_PRICE).contains(&vnd.amount()));
                }
            }
        }

        #[test]
        fn display_round_trips(amount in 1..=MAX_PRICE) {
            let vnd = Vnd::new(amount);
            prop_assert!(vnd.is_ok());
            if let Ok(vnd) = vnd {
                prop_assert_eq!(Vnd::parse(&vnd.to_string()), Ok(vnd));
            }
        }

        #[test]
        fn thousand_separators_round_trip(n in 1..1_000_000_000i64) {
            prop_assert_eq!(price(&dotted(n, '.')), Ok(n));
            prop_assert_eq!(price(&dotted(n, ',')), Ok(n));
            prop_assert_eq!(price(&dotted(n, ' ')), Ok(n));
            prop_assert_eq!(price(&n.to_string()), Ok(n));
            prop_assert_eq!(price(&format!("{} VND", dotted(n, ','))), Ok(n));
        }

        #[test]
        fn thousands_with_k(n in 1..=1_000_000i64) {
            prop_assert_eq!(price(&format!("{n}k")), Ok(n * 1000));
            prop_assert_eq!(price(&format!("{n} nghìn")), Ok(n * 1000));
        }

        #[test]
        fn millions_in_speech(millions in 1..=999i64, tail in 0..=999i64) {
            let expected = millions * 1_000_000 + tail * 1000;
            prop_assert_eq!(price(&format!("{millions}tr{tail:03}")), Ok(expected));
            prop_assert_eq!(price(&format!("{millions} triệu {tail} nghìn")), Ok(expected));
        }
    }
}
