//! Listing rules as plain functions: turning what a farmer typed (a title, "25k", "2 tạ") into a listing
//! with every inferred field, and splitting one spoken-style sentence into those fields.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::Invalid;
use crate::domain::money::{Vnd, parse_price_per_unit};
use crate::domain::quantity::{Quantity, Unit, parse_unit};
use crate::domain::text::fold;
use crate::error::{AppError, FieldError, Text};
use crate::reference::categories::Categories;

/// A number, or text to parse ("25k", "25.000đ", "2 tạ").
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NumberOrText {
    Number(i64),
    Text(String),
}

impl NumberOrText {
    pub fn to_text(&self) -> String {
        match self {
            NumberOrText::Number(n) => n.to_string(),
            NumberOrText::Text(text) => text.clone(),
        }
    }
}

/// Typical weight of one unit when the category's default unit is a different one.
fn typical_weight_g(unit: Unit) -> i32 {
    match unit {
        Unit::Kg | Unit::Lit => 1000,
        Unit::Qua => 300,
        Unit::Bo => 300,
        Unit::Con => 1500,
        Unit::Hop => 500,
        Unit::Chai => 700,
        Unit::Goi => 500,
    }
}

/// Everything inferred for a listing, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub title: String,
    pub category_code: String,
    pub price_vnd: i64,
    pub unit: Unit,
    pub unit_weight_g: i32,
    pub quantity: i64,
}

/// What a farmer gave; only the title, price and quantity are needed.
pub struct Given<'a> {
    pub title: &'a str,
    pub price: &'a NumberOrText,
    pub quantity: &'a NumberOrText,
    pub unit: Option<&'a str>,
    pub category: Option<&'a str>,
}

pub fn parse_title(title: &str) -> Result<String, Invalid> {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    match title.chars().count() {
        0..=2 => Err(Invalid::new(
            "title_too_short",
            "Tên sản phẩm cần ít nhất 3 ký tự (ví dụ: Xoài cát Hòa Lộc).",
            "The title needs at least 3 characters (e.g. Xoài cát Hòa Lộc).",
        )),
        3..=120 => Ok(title),
        _ => Err(Invalid::new(
            "title_too_long",
            "Tên sản phẩm dài tối đa 120 ký tự.",
            "The title can be at most 120 characters.",
        )),
    }
}

/// Resolves category, unit, weight, price and quantity, naming every field that could not be understood.
pub fn resolve(given: &Given<'_>, categories: &Categories) -> Result<Resolved, AppError> {
    let title = parse_title(given.title).map_err(|e| e.at("title"));
    let price = parse_price_per_unit(&given.price.to_text()).map_err(|e| e.at("price"));
    let quantity = Quantity::parse(&given.quantity.to_text()).map_err(|e| e.at("quantity"));
    let unit = given.unit.map(parse_unit).transpose().map_err(|e| e.at("unit"));
    let category = match given.category {
        Some(code) => categories.get(code).ok_or_else(|| unknown_category(code)),
        None => categories.infer(given.title).ok_or_else(not_inferred),
    };
    let (title, (price, price_unit), quantity, unit, category) =
        crate::validate!(title, price, quantity, unit, category);
    let price_unit =
        price_unit.as_deref().map(parse_unit).transpose().map_err(|e| AppError::validation(vec![e.at("price")]))?;

    // The unit: said explicitly, or in the quantity ("2 tạ"), or after the price ("25k/kg"), or the category's.
    let candidates = [unit, quantity.unit, price_unit];
    let mut said = candidates.iter().flatten();
    let unit = said.next().copied().unwrap_or(category.default_unit);
    if let Some(other) = said.find(|u| **u != unit) {
        return Err(AppError::invalid_field(
            "unit",
            "unit_conflict",
            Text::new(
                format!("Đơn vị không khớp: {} và {}.", unit.name_vi(), other.name_vi()),
                format!("The units disagree: {} and {}.", unit.as_str(), other.as_str()),
            ),
        ));
    }
    let unit_weight_g = match unit.weight_g() {
        Some(weight) => weight,
        None if unit == category.default_unit => category.unit_weight_g,
        None => typical_weight_g(unit),
    };
    Ok(Resolved {
        title,
        category_code: category.code.clone(),
        price_vnd: price.amount(),
        unit,
        unit_weight_g,
        quantity: quantity.amount,
    })
}

fn unknown_category(code: &str) -> FieldError {
    FieldError::new(
        "category",
        "category_unknown",
        Text::new(
            format!("Không có loại nông sản `{code}`; xem /api/v1/categories."),
            format!("There is no category `{code}`; see /api/v1/categories."),
        ),
    )
}

fn not_inferred() -> FieldError {
    FieldError::new(
        "category",
        "category_not_inferred",
        Text::new(
            "Chưa nhận ra loại nông sản từ tên; hãy chọn loại (category).",
            "The category could not be told from the title; please choose one (category).",
        ),
    )
}

/// The one line a phone shows to confirm: "Xoài cát · Trái cây · 25.000đ/kg · còn 200 kg".
pub fn summary(title: &str, category_name: &str, price_vnd: i64, unit: Unit, quantity: i64) -> String {
    let price = Vnd::parse(&price_vnd.to_string()).map(|v| v.to_string()).unwrap_or_else(|_| format!("{price_vnd}đ"));
    let stock = if quantity == 0 { "hết hàng".to_owned() } else { format!("còn {quantity} {}", unit.name_vi()) };
    format!("{title} · {category_name} · {price}/{} · {stock}", unit.name_vi())
}

/// What one sentence said, field by field; what was not understood is listed, not guessed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sentence {
    pub title: Option<String>,
    pub price: Option<String>,
    pub quantity: Option<String>,
}

/// Splits "xoài cát hòa lộc 25k/kg còn 2 tạ" (or "… còn 2 tạ giá 25k") into title, price text and
/// quantity text. The title is everything before the first number or marker word; "giá" starts the
/// price and "còn"/"có" the quantity; an unmarked number group is the price when it looks like money.
pub fn split_sentence(text: &str) -> Sentence {
    let words: Vec<&str> = text.split_whitespace().collect();
    let is_marker = |word: &str| matches!(word.to_lowercase().as_str(), "giá" | "còn" | "có" | "số lượng");
    let starts_number = |word: &str| word.chars().next().is_some_and(|c| c.is_ascii_digit());
    let title_end = words.iter().position(|w| is_marker(w) || starts_number(w)).unwrap_or(words.len());
    let mut sentence = Sentence::default();
    if title_end > 0 {
        let mut title = words[..title_end].join(" ");
        if let Some(first) = title.chars().next() {
            title.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
        }
        sentence.title = Some(title);
    }
    // Segments: each starts at a marker or at a number that follows a complete segment.
    let mut segments: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
    for word in &words[title_end..] {
        let lower = word.to_lowercase();
        if is_marker(word) {
            segments.push((Some(if lower == "giá" { "price" } else { "quantity" }), Vec::new()));
        } else if starts_number(word)
            && segments.last().is_none_or(|(_, w)| !w.is_empty() && w.iter().any(|w| starts_number(w)))
        {
            segments.push((None, vec![word]));
        } else if let Some((_, segment)) = segments.last_mut() {
            segment.push(word);
        }
    }
    for (marker, segment) in segments {
        let text = segment.join(" ");
        let role = marker.unwrap_or_else(|| if looks_like_money(&text) { "price" } else { "quantity" });
        let slot = if role == "price" { &mut sentence.price } else { &mut sentence.quantity };
        if slot.is_none() {
            *slot = Some(text);
        }
    }
    sentence
}

fn looks_like_money(text: &str) -> bool {
    let folded = fold(text);
    folded.contains('/')
        || ["k", "tr", "trieu", "nghin", "ngan", "d", "dong", "vnd", "cu"].iter().any(|suffix| {
            folded
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.trim_start_matches(|c: char| c.is_ascii_digit()) == *suffix)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_into_title_price_and_quantity() {
        let s = split_sentence("xoài cát hòa lộc 25k/kg còn 2 tạ");
        assert_eq!(s.title.as_deref(), Some("Xoài cát hòa lộc"));
        assert_eq!(s.price.as_deref(), Some("25k/kg"));
        assert_eq!(s.quantity.as_deref(), Some("2 tạ"));

        let s = split_sentence("Bưởi da xanh còn 300 quả giá 40.000đ");
        assert_eq!((s.price.as_deref(), s.quantity.as_deref()), (Some("40.000đ"), Some("300 quả")));

        let s = split_sentence("Gạo ST25 25 nghìn 50 kg");
        assert_eq!(s.title.as_deref(), Some("Gạo ST25"));
        assert_eq!((s.price.as_deref(), s.quantity.as_deref()), (Some("25 nghìn"), Some("50 kg")));

        assert_eq!(split_sentence("   "), Sentence::default());
        assert_eq!(split_sentence("rau muống").price, None);
    }

    #[test]
    fn summary_reads_like_a_confirmation_line() {
        assert_eq!(
            summary("Xoài cát", "Trái cây", 25_000, Unit::Kg, 200),
            "Xoài cát · Trái cây · 25.000đ/kg · còn 200 kg"
        );
        assert_eq!(summary("Trứng gà", "Trứng", 3_500, Unit::Qua, 0), "Trứng gà · Trứng · 3.500đ/quả · hết hàng");
    }
}
