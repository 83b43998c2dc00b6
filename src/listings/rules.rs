//! Listing rules as plain functions: turning what a farmer typed (a title, "25k/kg", "2 tạ", "2 kg") into a
//! listing with every inferred field. Creation and edits read price and quantity through one rule,
//! [`read_amounts`], so "2 tạ" means 200 kg and "3 chục" 30 quả whichever way they arrive.

use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema, SchemaFormat};

use crate::domain::Invalid;
use crate::domain::money::{Vnd, parse_price_per_unit};
use crate::domain::quantity::{Quantity, Unit, parse_unit};
use crate::domain::text::{Lines, refuse_control_characters};
use crate::domain::weight::{MAX_UNIT_WEIGHT_G, parse_weight_g, typical_g};
use crate::error::{AppError, FieldError, Text};
use crate::reference::Reference;
use crate::reference::categories::Category;

/// A number, or text to parse ("25k", "25.000đ", "2 tạ"). Anything else (true, a list, null) is kept as
/// `Other`, so that the rule can say in plain words what the field takes instead of serde's text.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum NumberOrText {
    Number(i64),
    /// Read as the text it is written as: `2.5` is 2,5.
    Decimal(f64),
    Text(String),
    Other(serde::de::IgnoredAny),
}

/// What a number-or-text field takes, said in both languages when something else came.
pub struct Takes {
    pub field: &'static str,
    vi: &'static str,
    en: &'static str,
}

pub const PRICE: Takes = Takes {
    field: "price",
    vi: "Giá (price) là một số đồng hoặc chữ như 25k",
    en: "a number of đồng or text like 25k",
};
pub const QUANTITY: Takes = Takes {
    field: "quantity",
    vi: "Số lượng (quantity) là một số hoặc chữ như 2 tạ",
    en: "a number or text like 2 tạ",
};
pub const UNIT_WEIGHT: Takes = Takes {
    field: "unit_weight",
    vi: "Cân nặng một đơn vị (unit_weight) là một số gam hoặc chữ như 2 kg",
    en: "a number of grams or text like 2 kg",
};

impl NumberOrText {
    /// The value as text for the parsers, or why it cannot be read.
    pub fn text(&self, takes: &Takes) -> Result<String, FieldError> {
        match self {
            NumberOrText::Number(number) => Ok(number.to_string()),
            NumberOrText::Decimal(number) => Ok(number.to_string()),
            NumberOrText::Text(text) => {
                refuse_control_characters(text, Lines::One).map_err(|e| e.at(takes.field))?;
                Ok(text.clone())
            }
            NumberOrText::Other(_) => Err(FieldError::new(
                takes.field,
                "invalid_type",
                Text::new(format!("{}.", takes.vi), format!("`{}` must be {}.", takes.field, takes.en)),
            )),
        }
    }
}

/// The OpenAPI form of [`NumberOrText`]: an integer or a string.
pub fn number_or_text(description: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
        )
        .item(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .into()
}

/// Which unit price and quantity texts are read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitBasis {
    /// The listing's unit (an edit) or the one the farmer chose: every text must be in it or convert to it.
    Fixed(Unit),
    /// The category's unit: the texts decide, and this is used when they name none.
    Default(Unit),
}

/// Price and quantity read in one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amounts {
    pub unit: Unit,
    /// Per one `unit`.
    pub price_vnd: Option<i64>,
    pub quantity: Option<i64>,
}

/// The one rule for creation and edits: reads price text (`25k/kg`, `1tr/tạ`, `100k/chục`) and quantity text
/// (`2 tạ`, `3 chục`, `100 quả`) and gives both in one unit, converting multiples (tạ → kg, chục → quả) and
/// refusing with `unit_conflict` what does not convert (quả → kg).
pub fn read_amounts(
    basis: UnitBasis,
    price: Option<&NumberOrText>,
    quantity: Option<&NumberOrText>,
) -> Result<Amounts, Vec<FieldError>> {
    let price = price.map(|p| p.text(&PRICE).and_then(|t| parse_price_per_unit(&t).map_err(|e| e.at("price"))));
    let quantity = quantity.map(|q| q.text(&QUANTITY).and_then(|t| Quantity::parse(&t).map_err(|e| e.at("quantity"))));
    let (price, quantity) = match (price.transpose(), quantity.transpose()) {
        (Ok(price), Ok(quantity)) => (price, quantity),
        (price, quantity) => return Err([price.err(), quantity.err()].into_iter().flatten().collect()),
    };
    let fixed = match basis {
        UnitBasis::Fixed(unit) => Some(unit),
        UnitBasis::Default(_) => None,
    };
    let said = one_unit(fixed, price.and_then(|(_, unit)| unit), quantity.and_then(|q| q.unit))
        .map_err(|conflict| vec![conflict.invalid().at(conflict.field())])?;
    let unit = match basis {
        UnitBasis::Fixed(unit) => unit,
        UnitBasis::Default(unit) => said.unwrap_or(unit),
    };
    Ok(Amounts { unit, price_vnd: price.map(|(vnd, _)| vnd.amount()), quantity: quantity.map(|q| q.amount) })
}

/// Two units that do not convert into each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitConflict {
    /// The unit that holds: the listing's, else the price's.
    pub unit: Unit,
    pub other: Unit,
    /// The text in `other`, when `unit` is the listing's; `None` when the price and the quantity disagree.
    pub text: Option<&'static str>,
}

/// The unit that the listing's unit (`fixed`), the price and the quantity agree on, in that order of say; `None`
/// when none names one.
pub fn one_unit(
    fixed: Option<Unit>,
    price: Option<Unit>,
    quantity: Option<Unit>,
) -> Result<Option<Unit>, UnitConflict> {
    let Some(unit) = fixed.or(price).or(quantity) else { return Ok(None) };
    for (text, said) in [("price", price), ("quantity", quantity)] {
        if let Some(other) = said.filter(|said| *said != unit) {
            return Err(UnitConflict { unit, other, text: fixed.map(|_| text) });
        }
    }
    Ok(Some(unit))
}

impl UnitConflict {
    /// The request field to blame: the text that disagrees with the listing, else the unit.
    pub fn field(&self) -> &'static str {
        self.text.unwrap_or("unit")
    }

    pub fn invalid(&self) -> Invalid {
        let (unit, other) = (self.unit.name_vi(), self.other.name_vi());
        let (vi, en) = match self.text {
            Some(text) => (
                format!(
                    "Tin bán theo {unit}, còn {} ghi theo {other}: không đổi sang {unit} được. Hãy ghi theo {unit}.",
                    if text == "price" { "giá" } else { "số lượng" }
                ),
                format!(
                    "The listing is sold per {unit} but the {text} is in {other}, which does not convert to {unit}. \
                     Give it in {unit}."
                ),
            ),
            None => (
                format!(
                    "Giá tính theo {unit} nhưng số lượng ghi theo {other}; hai đơn vị này không đổi cho nhau được. \
                     Hãy ghi cùng một đơn vị."
                ),
                format!(
                    "The price is per {unit} but the quantity is in {other}; these units do not convert. Use one \
                     unit for both."
                ),
            ),
        };
        Invalid::new("unit_conflict", vi, en)
    }
}

/// A weight the farmer stated for one unit: a number of grams, or text such as `2 kg`, `800 g`.
pub fn read_unit_weight(value: &NumberOrText) -> Result<i32, FieldError> {
    let grams = match value {
        NumberOrText::Number(grams) => i32::try_from(*grams).ok().filter(|g| (1..=MAX_UNIT_WEIGHT_G).contains(g)),
        _ => return parse_weight_g(&value.text(&UNIT_WEIGHT)?).map_err(|e| e.at(UNIT_WEIGHT.field)),
    };
    grams.ok_or_else(|| {
        let invalid = Invalid::new(
            "unit_weight_out_of_range",
            "Cân nặng một đơn vị là số gam từ 1 đến 1.000.000 (1 tấn).",
            "The weight of one unit is a number of grams from 1 to 1,000,000 (a tonne).",
        );
        invalid.at(UNIT_WEIGHT.field)
    })
}

/// Grams in one unit, for shipping fees: fixed by the unit (kg, lít), else as the farmer stated, else the
/// typical piece of the produce (`seeds/piece_weights.csv`), else the category's when it is the category's
/// unit, else the unit's typical weight.
pub fn unit_weight_g(
    unit: Unit,
    stated: Option<i32>,
    title: &str,
    category: Option<&Category>,
    reference: &Reference,
) -> i32 {
    unit.weight_g()
        .or(stated)
        .or_else(|| reference.piece_weights.weight_g(title, unit))
        .or_else(|| category.filter(|c| c.default_unit == unit).map(|c| c.unit_weight_g))
        .unwrap_or_else(|| typical_g(unit))
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
    pub unit_weight: Option<&'a NumberOrText>,
}

/// A title as typed, its runs of spaces made one: capitals and marks stay as the farmer wrote them.
pub fn parse_title(title: &str) -> Result<String, Invalid> {
    refuse_control_characters(title, Lines::One)?;
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
pub fn resolve(given: &Given<'_>, reference: &Reference) -> Result<Resolved, AppError> {
    let categories = &reference.categories;
    let title = parse_title(given.title).map_err(|e| e.at("title"));
    let unit = given.unit.map(|unit| refuse_control_characters(unit, Lines::One).and_then(|()| parse_unit(unit)));
    let unit = unit.transpose().map_err(|e| e.at("unit"));
    let category = match given.category {
        Some(code) => refuse_control_characters(code, Lines::One)
            .map_err(|e| e.at("category"))
            .and_then(|()| categories.get(code).ok_or_else(|| unknown_category(code))),
        None => categories.infer(given.title).ok_or_else(not_inferred),
    };
    let stated = given.unit_weight.map(read_unit_weight).transpose();
    let basis = match (&unit, &category) {
        (Ok(Some(unit)), _) => UnitBasis::Fixed(*unit),
        (_, Ok(category)) => UnitBasis::Default(category.default_unit),
        _ => UnitBasis::Default(Unit::Kg),
    };
    let amounts = read_amounts(basis, Some(given.price), Some(given.quantity));
    let (title, category, stated, amounts) = match (title, unit, category, stated, amounts) {
        (Ok(title), Ok(_), Ok(category), Ok(stated), Ok(amounts)) => (title, category, stated, amounts),
        (title, unit, category, stated, amounts) => {
            let mut errors: Vec<FieldError> =
                [title.err(), unit.err(), category.err(), stated.err()].into_iter().flatten().collect();
            errors.extend(amounts.err().unwrap_or_default());
            return Err(AppError::validation(errors));
        }
    };
    let (Some(price_vnd), Some(quantity)) = (amounts.price_vnd, amounts.quantity) else {
        return Err(AppError::invalid_field("price", "required", Text::new("Thiếu giá.", "The price is required.")));
    };
    Ok(Resolved {
        unit_weight_g: unit_weight_g(amounts.unit, stated, &title, Some(category), reference),
        title,
        category_code: category.code.clone(),
        price_vnd,
        unit: amounts.unit,
        quantity,
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

/// Why a listing has no category: its title names no known produce.
pub fn not_inferred() -> FieldError {
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
    let price = Vnd::new(price_vnd).map(|v| v.to_string()).unwrap_or_else(|_| format!("{price_vnd}đ"));
    let stock = if quantity == 0 { "hết hàng".to_owned() } else { format!("còn {quantity} {}", unit.name_vi()) };
    format!("{title} · {category_name} · {price}/{} · {stock}", unit.name_vi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_like_a_confirmation_line() {
        assert_eq!(
            summary("Xoài cát", "Trái cây", 25_000, Unit::Kg, 200),
            "Xoài cát · Trái cây · 25.000đ/kg · còn 200 kg"
        );
        assert_eq!(summary("Trứng gà", "Trứng", 3_500, Unit::Qua, 0), "Trứng gà · Trứng · 3.500đ/quả · hết hàng");
    }

    fn text(value: &str) -> NumberOrText {
        NumberOrText::Text(value.to_owned())
    }

    fn amounts(basis: UnitBasis, price: Option<&str>, quantity: Option<&str>) -> Result<Amounts, Vec<&'static str>> {
        let (price, quantity) = (price.map(text), quantity.map(text));
        read_amounts(basis, price.as_ref(), quantity.as_ref()).map_err(|e| e.iter().map(|e| e.code).collect())
    }

    #[test]
    fn one_rule_converts_what_converts_and_refuses_the_rest() {
        use Unit::*;
        use UnitBasis::*;
        let read = |unit, price, quantity| Amounts { unit, price_vnd: price, quantity };
        assert_eq!(amounts(Fixed(Qua), None, Some("3 chục")), Ok(read(Qua, None, Some(30))));
        assert_eq!(amounts(Fixed(Kg), None, Some("2 tạ")), Ok(read(Kg, None, Some(200))));
        assert_eq!(amounts(Fixed(Kg), Some("1tr/tạ"), Some("40")), Ok(read(Kg, Some(10_000), Some(40))));
        assert_eq!(amounts(Fixed(Qua), Some("100k/chục"), None), Ok(read(Qua, Some(10_000), None)));
        assert_eq!(amounts(Fixed(Qua), None, Some("2 tạ")), Err(vec!["unit_conflict"]));
        assert_eq!(amounts(Fixed(Kg), None, Some("100 quả")), Err(vec!["unit_conflict"]));
        assert_eq!(amounts(Fixed(Kg), None, Some("3 chục")), Err(vec!["unit_conflict"]));
        assert_eq!(amounts(Fixed(Kg), Some("28k/quả"), None), Err(vec!["unit_conflict"]));
        assert_eq!(amounts(Default(Kg), Some("40k/quả"), Some("100")), Ok(read(Qua, Some(40_000), Some(100))));
        assert_eq!(amounts(Default(Qua), Some("25k"), Some("2 tạ")), Ok(read(Kg, Some(25_000), Some(200))));
        assert_eq!(amounts(Default(Kg), Some("40k/quả"), Some("2 tạ")), Err(vec!["unit_conflict"]));
        assert_eq!(
            amounts(Default(Kg), Some("25.5"), Some("nhiều")),
            Err(vec!["price_ambiguous", "quantity_not_understood"])
        );
    }

    #[test]
    fn conflicts_blame_the_text_that_disagrees_with_the_listing() {
        let conflict = |fixed, price, quantity| one_unit(fixed, price, quantity).err();
        let listing = conflict(Some(Unit::Kg), None, Some(Unit::Qua));
        assert_eq!(listing.map(|c| c.field()), Some("quantity"));
        assert!(listing.is_some_and(|c| c.invalid().message.vi.contains("Tin bán theo kg")));
        let texts = conflict(None, Some(Unit::Qua), Some(Unit::Kg));
        assert_eq!(texts.map(|c| (c.field(), c.unit)), Some(("unit", Unit::Qua)));
        assert_eq!(one_unit(None, None, Some(Unit::Nai)), Ok(Some(Unit::Nai)));
        assert_eq!(one_unit(None, None, None), Ok(None));
    }

    #[test]
    fn wrong_types_and_control_characters_are_named_in_plain_words() {
        let wrong = NumberOrText::Other(serde::de::IgnoredAny).text(&PRICE).err();
        assert!(wrong.as_ref().is_some_and(|e| e.field == "price" && e.code == "invalid_type"));
        assert!(wrong.is_some_and(|e| e.message.en == "`price` must be a number of đồng or text like 25k."));
        assert_eq!(
            text("25k\0").text(&QUANTITY).err().map(|e| (e.field, e.code)),
            Some(("quantity".into(), "control_character"))
        );
        assert_eq!(NumberOrText::Decimal(2.5).text(&QUANTITY).ok().as_deref(), Some("2.5"));
        assert_eq!(read_unit_weight(&NumberOrText::Number(800)), Ok(800));
        assert_eq!(read_unit_weight(&text("2 kg")), Ok(2000));
        assert_eq!(read_unit_weight(&NumberOrText::Number(0)).err().map(|e| e.code), Some("unit_weight_out_of_range"));
        assert_eq!(read_unit_weight(&text("2")).err().map(|e| e.code), Some("unit_weight_not_understood"));
    }
}
