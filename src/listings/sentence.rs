//! One sentence as a farmer types it ("Bán 50 ký bưởi da xanh giá 40 nghìn một ký", "xoai cat 25k/kg con 2
//! ta", "Sầu riêng Ri6 250k 1 trái, 1 trái khoảng 3 ký, còn 40 trái") read into listing fields. What is
//! missing or unclear is left empty and explained, never guessed: "giá 25" could be 25 đồng or 25.000đ.
//!
//! The words are found here; the numbers are read by the same parsers as the listing form
//! ([`Vnd::parse`], [`Quantity::parse`], [`price_basis`], [`parse_weight_g`]), and price and quantity meet
//! in one unit by the rule creation and edits use ([`one_unit`]). Steps, each over what the earlier ones left:
//! the selling words that open a sentence (bán, cần bán, nhà có…), the prices (an amount with k, nghìn or đ,
//! after "giá", or with what it buys: "40 một trái"), the weights of one piece, the quantities (after còn,
//! có, khoảng, sl…, or with a unit), and last the name: the first run of words left, up to a comma.

use crate::domain::Invalid;
use crate::domain::money::{PriceWord, Vnd, per_one, price_basis, price_word};
use crate::domain::quantity::{Quantity, Unit, multiple_name, unit_from_word};
use crate::domain::reading::{Numeral, Spaced, Token, Word, lex_spaced};
use crate::domain::weight::parse_weight_g;
use crate::listings::rules::one_unit;

/// What one sentence says. A field is `None` when the sentence does not say it clearly, and then `issues`
/// has a line for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sentence {
    /// The produce as typed: capitals, marks and typos kept, runs of spaces made one.
    pub title: Option<String>,
    /// Per one `unit`.
    pub price_vnd: Option<i64>,
    pub unit: Option<Unit>,
    pub quantity: Option<i64>,
    /// Grams in one unit, when the sentence states it ("1 quả khoảng 2 kg").
    pub unit_weight_g: Option<i32>,
    pub issues: Vec<Issue>,
}

/// Why a field is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub field: &'static str,
    pub invalid: Invalid,
    /// For `price_ambiguous`: the price in đồng if the number meant thousands.
    pub suggestion_vnd: Option<i64>,
}

/// Words that open a sentence before a selling verb: "Nhà mình có", "Cần bán", "Bên em đang có".
const OPENERS: &[&str] = &[
    "nhà", "mình", "mk", "mik", "em", "e", "tôi", "tui", "tớ", "anh", "chị", "bên", "vườn", "gia", "đình", "hiện",
    "đang", "cần", "mới",
];
const SELLING_VERBS: &[&[&str]] = &[&["thanh", "lý"], &["thu", "hoạch"], &["bán"], &["có"], &["còn"], &["dư"], &["xả"]];
/// "Bán gấp", "Bán sỉ", "Thu hoạch được".
const AFTER_VERB: &[&str] = &["gấp", "sỉ", "lẻ", "buôn", "được"];
/// After "giá": "giá bán", "giá tại vườn", "giá chỉ".
const PRICE_FILLERS: &[&str] = &["bán", "chỉ", "sỉ", "lẻ", "là", "tại", "vườn", "khoảng", "tầm", "chừng", "từ"];
const QUANTITY_MARKS: &[&str] =
    &["còn", "có", "khoảng", "tầm", "hơn", "chừng", "gần", "trên", "sl", "tổng", "cộng", "lại", "tồn", "dư", "sẵn"];
const ABOUT: &[&str] = &["khoảng", "tầm", "chừng", "cỡ", "nặng"];
const RANGE: &[&str] = &["đến", "tới"];
/// How the remarks after a listing open: "ai cần liên hệ", "ship toàn quốc", "hàng nhà vườn".
const REMARKS: &[&str] = &[
    "ai", "cần", "liên", "lh", "ib", "inbox", "nhắn", "gọi", "alo", "zalo", "sđt", "đt", "call", "ship", "giao", "bao",
    "hàng", "free", "miễn", "xin", "cảm", "mới", "không", "chất", "đảm", "uy", "nhận", "còn", "có", "giá", "nhà",
    "mình", "em", "bên", "nha", "nhé", "ạ",
];
/// "một ký", "mỗi bó", "1 trái": one of the unit.
const ONE: &[&str] = &["một", "mỗi"];
/// Units that hold produce, whose weight may follow them directly.
const PACKS: &[Unit] = &[Unit::Hop, Unit::Chai, Unit::Tui, Unit::Bao, Unit::Thung, Unit::Khay, Unit::Vi, Unit::Goi];
/// Punctuation that ends a name: "Bưởi da xanh, hàng nhà vườn".
const BREAKS: &[char] = &[',', '.', ';', '!', '?', ':', '(', ')', '[', ']', '…'];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Free,
    Opening,
    PriceMark,
    Price,
    Weight,
    QuantityMark,
    Quantity,
}

/// A price as found: the amount and what it buys, as text for the parsers.
struct PriceText {
    amount: String,
    /// Whether k, nghìn, triệu or đ said the scale; a bare "25" does not.
    scaled: bool,
    basis: Option<String>,
}

struct Reader {
    tokens: Vec<Spaced>,
    roles: Vec<Role>,
}

/// Reads one sentence. This is the rule behind `POST /listings/parse`.
pub fn read(text: &str) -> Sentence {
    let tokens = lex_spaced(text);
    let mut reader = Reader { roles: vec![Role::Free; tokens.len()], tokens };
    reader.mark_opening();
    let price = reader.mark_prices();
    let weight = reader.mark_weights();
    let quantity = reader.mark_quantities();
    let title = reader.title();
    assemble(title, price, weight, quantity)
}

fn assemble(
    title: Option<String>,
    price: Option<PriceText>,
    weight: Option<String>,
    quantity: Option<String>,
) -> Sentence {
    let mut issues = Vec::new();
    if title.is_none() {
        issues.push(missing("title", "title_missing", "tên sản phẩm", "the produce's name", "Xoài cát Hòa Lộc"));
    }
    let basis = price.as_ref().and_then(|p| p.basis.as_deref()).map(price_basis);
    let price_unit = basis.as_ref().and_then(|b| b.as_ref().ok()).and_then(|b| b.unit);
    let price_vnd = match price {
        None => Err(missing("price", "price_missing", "giá", "the price", "25k/kg")),
        Some(price) => read_price(&price, basis).map_err(|(invalid, suggestion_vnd)| Issue {
            field: "price",
            invalid,
            suggestion_vnd,
        }),
    };
    let quantity = match quantity.as_deref().map(Quantity::parse) {
        None => Err(missing("quantity", "quantity_missing", "số lượng", "the quantity", "còn 2 tạ")),
        Some(parsed) => parsed.map_err(|invalid| Issue { field: "quantity", invalid, suggestion_vnd: None }),
    };
    let (unit, quantity) = match one_unit(None, price_unit, quantity.as_ref().ok().and_then(|q| q.unit)) {
        Ok(unit) => (unit, quantity.map(|q| q.amount)),
        Err(conflict) => {
            let issue = Issue { field: "quantity", invalid: conflict.invalid(), suggestion_vnd: None };
            (Some(conflict.unit), Err(issue))
        }
    };
    let price_vnd = price_vnd.map_err(|issue| issues.push(issue)).ok();
    if unit.is_none() {
        issues.push(missing("unit", "unit_missing", "đơn vị bán", "the unit it is sold by", "25k/kg, còn 100 quả"));
    }
    let quantity = quantity.map_err(|issue| issues.push(issue)).ok();
    Sentence { title, price_vnd, unit, quantity, unit_weight_g: weight.and_then(|w| parse_weight_g(&w).ok()), issues }
}

/// The price of one unit; a bare number below 1000 is asked about, with the thousands it likely means.
fn read_price(price: &PriceText, basis: Option<Result<Quantity, Invalid>>) -> Result<i64, (Invalid, Option<i64>)> {
    let vnd = Vnd::parse(&price.amount).map_err(|invalid| (invalid, None))?;
    if !price.scaled && vnd.amount() < 1000 {
        let (amount, suggestion) = (vnd.amount(), Vnd::new(vnd.amount() * 1000).ok());
        let shown = suggestion.map_or_else(|| format!("{amount}.000đ"), |s| s.to_string());
        let invalid = Invalid::new(
            "price_ambiguous",
            format!("Giá \"{amount}\" chưa rõ: {amount} đồng hay {shown}? Nếu là {shown}, hãy ghi {amount}k."),
            format!(
                "The price \"{amount}\" is unclear: {amount} đồng or {shown}? If you mean {shown}, write {amount}k."
            ),
        );
        return Err((invalid, suggestion.map(Vnd::amount)));
    }
    let per_unit = match basis {
        None => Ok(vnd),
        Some(basis) => basis.and_then(|basis| per_one(vnd, basis)),
    };
    per_unit.map(Vnd::amount).map_err(|invalid| (invalid, None))
}

fn missing(field: &'static str, code: &'static str, what_vi: &str, what_en: &str, example: &str) -> Issue {
    let invalid = Invalid::new(
        code,
        format!("Chưa thấy {what_vi}. Hãy ghi thêm, ví dụ: {example}."),
        format!("The sentence does not give {what_en}. Add it, e.g. {example}."),
    );
    Issue { field, invalid, suggestion_vnd: None }
}

fn word_of(token: Option<&Spaced>) -> Option<&Word> {
    match token {
        Some(Spaced { token: Token::Word(word), .. }) => Some(word),
        _ => None,
    }
}

fn is_any(word: &Word, words: &[&str]) -> bool {
    words.iter().any(|w| word.is_spelled(w))
}

/// A unit named after a number or a slash; marks typed wrong are forgiven there (`nãi` is nải), though
/// "còn" stays còn.
fn unit_of(word: &Word) -> Option<Unit> {
    unit_from_word(&word.raw).or_else(|| (!is_any(word, QUANTITY_MARKS)).then(|| unit_from_word(word.folded()))?)
}

/// A price word, forgiving a doubled last letter (`ngànn`).
fn price_word_of(word: &Word) -> Option<PriceWord> {
    price_word(word).or_else(|| undoubled(word).and_then(|w| price_word(&w)))
}

/// The word without its last letter when that letter was typed twice.
fn undoubled(word: &Word) -> Option<Word> {
    let mut chars: Vec<char> = word.raw.chars().collect();
    let doubled = chars.len() > 2 && chars[chars.len() - 1] == chars[chars.len() - 2];
    chars.pop();
    doubled.then(|| Word::new(&chars.iter().collect::<String>()))
}

/// Grams per kilogram, hundred grams (lạng) or gram, for a weight unit word.
fn is_weight_unit(word: &Word) -> bool {
    unit_from_word(&word.raw) == Some(Unit::Kg) || is_any(word, &["g", "gr", "gam", "gram", "lạng"])
}

impl Reader {
    fn token(&self, at: usize) -> Option<&Spaced> {
        self.tokens.get(at)
    }

    fn free(&self, at: usize) -> bool {
        self.roles.get(at) == Some(&Role::Free)
    }

    fn free_word(&self, at: usize) -> Option<&Word> {
        word_of(self.token(at)).filter(|_| self.free(at))
    }

    fn is_number(&self, at: usize) -> bool {
        matches!(self.token(at), Some(Spaced { token: Token::Number(_), .. }))
    }

    fn is_symbol(&self, at: usize, symbol: char) -> bool {
        matches!(self.token(at), Some(Spaced { token: Token::Symbol(c), .. }) if *c == symbol)
    }

    fn mark(&mut self, range: std::ops::Range<usize>, role: Role) {
        for at in range {
            if let Some(slot) = self.roles.get_mut(at) {
                *slot = role;
            }
        }
    }

    /// The text of tokens for a parser: spaced words, with units and multiples spelled as the parsers know them.
    fn text(&self, range: std::ops::Range<usize>) -> String {
        let words: Vec<String> = self.tokens[range]
            .iter()
            .map(|spaced| match &spaced.token {
                Token::Word(word) => match (multiple_name(word), unit_of(word), price_word(word)) {
                    (Some(multiple), _, _) => multiple.to_owned(),
                    (None, Some(unit), None) => unit.name_vi().to_owned(),
                    (None, None, None) => {
                        undoubled(word).filter(|w| price_word(w).is_some()).map_or_else(|| word.raw.clone(), |w| w.raw)
                    }
                    _ => word.raw.clone(),
                },
                token => token.raw(),
            })
            .collect();
        words.join(" ")
    }

    /// A number that may start an amount: not typed onto a name (`Ri6`, `ST25`), though it may be onto a
    /// marker (`còn1`, `gia25k`).
    fn starts_amount(&self, at: usize) -> bool {
        let Some(Spaced { token: Token::Number(_), spaced }) = self.token(at) else { return false };
        let glued_to_name = at > 0
            && !spaced
            && word_of(self.token(at - 1)).is_some_and(|w| {
                !is_any(w, QUANTITY_MARKS) && !w.is_spelled("giá") && !SELLING_VERBS.iter().any(|v| is_any(w, v))
            });
        self.free(at) && !glued_to_name
    }

    /// The selling words a sentence opens with, up to the last verb: "Bán", "Cần bán", "Nhà mình có", "Có
    /// bán", "Thanh lý gấp"; "còn" only before a quantity ("Con gà" is not "Còn gà").
    fn mark_opening(&mut self) {
        let (mut at, mut opening) = (0, 0);
        loop {
            let verb = SELLING_VERBS.iter().find(|verb| {
                let spelled = |(i, w): (usize, &&str)| word_of(self.token(at + i)).is_some_and(|x| x.is_spelled(w));
                verb.iter().enumerate().all(spelled) && (**verb != ["còn"] || self.quantity_follows(at + 1))
            });
            if let Some(verb) = verb {
                at += verb.len();
                at += usize::from(word_of(self.token(at)).is_some_and(|w| is_any(w, AFTER_VERB)));
                opening = at;
            } else if word_of(self.token(at)).is_some_and(|w| is_any(w, OPENERS)) {
                at += 1;
            } else {
                break;
            }
        }
        self.mark(0..opening, Role::Opening);
    }

    /// Whether a number follows, after any quantity words: "còn khoảng 2 tạ".
    fn quantity_follows(&self, mut at: usize) -> bool {
        while word_of(self.token(at)).is_some_and(|w| is_any(w, QUANTITY_MARKS)) {
            at += 1;
        }
        self.is_number(at)
    }

    /// Marks every price and gives the first: "giá" and what follows, an amount with k/nghìn/đ, or a number
    /// with what it buys ("18/ký", "40 một trái").
    fn mark_prices(&mut self) -> Option<PriceText> {
        let mut first = None;
        let mut at = 0;
        while at < self.tokens.len() {
            let said = self.free_word(at).filter(|w| w.is_spelled("giá"));
            let mut start = at + usize::from(said.is_some());
            while said.is_some()
                && (self.free_word(start).is_some_and(|w| is_any(w, PRICE_FILLERS)) || self.is_symbol(start, ':'))
            {
                start += 1;
            }
            // Without marks "gia" is also già (ripe, old: "chuối già"): a marker only before a number.
            let forced = said.is_some_and(|w| !w.raw.is_ascii() || self.is_number(start));
            if forced {
                self.mark(at..start, Role::PriceMark);
            } else {
                start = at;
            }
            match self.price_at(at, start, forced) {
                Some((end, price)) => {
                    first = first.or(Some(price));
                    at = end;
                }
                None => at = start.max(at + 1),
            }
        }
        first
    }

    /// A price whose amount starts at `start`, "giá" and its fillers (if any) starting at `said`.
    fn price_at(&mut self, said: usize, start: usize, forced: bool) -> Option<(usize, PriceText)> {
        if !self.starts_amount(start) {
            return None;
        }
        let (amount_end, scaled) = self.amount_end(start);
        let after = self.basis_at(amount_end, scaled);
        let before = after.is_none().then(|| self.basis_before(said)).flatten().filter(|_| forced || scaled);
        if !forced && !scaled && after.is_none() {
            return None;
        }
        let end = after.as_ref().map_or(amount_end, |(end, _)| *end);
        if let Some((first, _)) = before {
            self.mark(first..said, Role::Price);
        }
        let basis = after.or(before).map(|(_, text)| text);
        let price = PriceText { amount: self.text(start..amount_end), scaled, basis };
        self.mark(start..end, Role::Price);
        Some((end, price))
    }

    /// What a price buys, before it: `1 ký 25k`, `mỗi bó 5k`, `1kg giá 25k`; not after a quantity word
    /// (`còn 1 tạ 25k/kg` is stock and a price).
    fn basis_before(&self, at: usize) -> Option<(usize, String)> {
        let (one, measure) = (at.checked_sub(2)?, at - 1);
        let word = self.free_word(measure)?;
        let is_one = self.free_word(one).is_some_and(|w| is_any(w, ONE))
            || (self.free(one)
                && matches!(self.token(one), Some(Spaced { token: Token::Number(n), .. }) if n.raw == "1"));
        let after_marker = one > 0 && word_of(self.token(one - 1)).is_some_and(|w| is_any(w, QUANTITY_MARKS));
        let measure = unit_of(word).is_some() || multiple_name(word).is_some();
        (is_one && measure && !after_marker).then(|| (one, self.text(one..at)))
    }

    /// Where an amount starting at a number ends: `25k`, `25 nghìn đồng`, `1tr2`, `1 triệu 2`, `3 nghìn 5`,
    /// `1 triệu rưỡi`, `2 trăm nghìn`, `25.000đ`; and whether a word said its scale. A number after the
    /// multiplier is its spoken tail unless a unit follows it (`25k 2 tạ` is a price and a quantity).
    fn amount_end(&self, start: usize) -> (usize, bool) {
        let price_word_at = |at: usize| word_of(self.token(at)).and_then(price_word_of);
        let measure_at =
            |at: usize| word_of(self.token(at)).is_some_and(|w| unit_of(w).is_some() || multiple_name(w).is_some());
        let mut at = start + 1;
        let mut scaled = false;
        if price_word_at(at) == Some(PriceWord::Hundred) {
            at += 1;
        }
        if price_word_at(at) == Some(PriceWord::Multiplier) {
            at += 1;
            scaled = true;
            let short = |n: &Numeral| n.integer().is_some_and(|v| v < 1000);
            let tail = matches!(self.token(at), Some(Spaced { token: Token::Number(n), .. }) if short(n));
            if self.is_number(at) && price_word_at(at + 1) == Some(PriceWord::Multiplier) {
                at += 2;
            } else if (tail && !measure_at(at + 1)) || price_word_at(at) == Some(PriceWord::Half) {
                at += 1;
            }
        }
        if price_word_at(at) == Some(PriceWord::Currency) || self.is_symbol(at, '₫') {
            at += 1;
            scaled = true;
        }
        (at, scaled)
    }

    /// What a price buys, after it: `/kg`, `/1kg`, `/ 2 kg`, `một ký`, `1 cân`, `mỗi bó`, and right after a
    /// scaled amount a unit alone (`250k con`), unless that word is "còn" before a number.
    fn basis_at(&self, start: usize, scaled: bool) -> Option<(usize, String)> {
        let mut at = start;
        let slash = self.is_symbol(at, '/');
        if slash {
            at += 1;
        }
        let counted = (slash && self.is_number(at))
            || word_of(self.token(at)).is_some_and(|w| is_any(w, ONE))
            || matches!(self.token(at), Some(Spaced { token: Token::Number(n), .. }) if n.raw == "1");
        let measure_at = if counted { at + 1 } else { at };
        let word = word_of(self.token(measure_at))?;
        let measure = unit_of(word).is_some() || multiple_name(word).is_some();
        let marker_before_number = is_any(word, QUANTITY_MARKS) && self.is_number(measure_at + 1);
        let bare = !slash && !counted;
        if !measure || !self.free(measure_at) || (bare && (!scaled || marker_before_number)) {
            return None;
        }
        Some((measure_at + 1, self.text(at..measure_at + 1)))
    }

    /// Marks the weights of one piece and gives the first: "1 quả khoảng 2 kg", "250k/trái tầm 3 ký",
    /// "hộp 500g", "2kg/trái".
    fn mark_weights(&mut self) -> Option<String> {
        let mut first = None;
        for at in 0..self.tokens.len() {
            let found = self.weight_after_piece(at).or_else(|| self.weight_per_piece(at));
            if let Some((range, weight)) = found {
                first = first.or(Some(weight));
                self.mark(range, Role::Weight);
            }
        }
        first
    }

    /// `[1|một|mỗi] piece [khoảng…] number weight-unit`, the piece free or what a price bought.
    fn weight_after_piece(&self, piece: usize) -> Option<(std::ops::Range<usize>, String)> {
        let word = word_of(self.token(piece))?;
        let is_piece =
            unit_of(word).is_some_and(|u| u != Unit::Kg) && matches!(self.roles[piece], Role::Free | Role::Price);
        if !is_piece {
            return None;
        }
        let one = piece > 0
            && (word_of(self.token(piece - 1)).is_some_and(|w| is_any(w, ONE))
                || matches!(self.token(piece - 1), Some(Spaced { token: Token::Number(n), .. }) if n.raw == "1"));
        let mut at = piece + 1;
        while self.free_word(at).is_some_and(|w| is_any(w, ABOUT)) || (self.free(at) && self.is_symbol(at, '~')) {
            at += 1;
        }
        let about = at > piece + 1;
        let unit = self.free_word(at + 1).filter(|w| is_weight_unit(w))?;
        let grams = unit_from_word(&unit.raw) != Some(Unit::Kg);
        // A pack is described by what it holds: "thùng 10kg", "bao 50 ký".
        let pack = unit_of(word).is_some_and(|u| PACKS.contains(&u));
        if !self.free(at) || !self.is_number(at) || !(about || one || grams || pack) {
            return None;
        }
        let start = match (self.roles[piece], one) {
            (Role::Free, true) => piece - 1,
            _ => piece + 1,
        };
        Some((start..at + 2, self.text(at..at + 2)))
    }

    /// `number weight-unit / piece`: "2kg/trái".
    fn weight_per_piece(&self, at: usize) -> Option<(std::ops::Range<usize>, String)> {
        let per_piece = self.free(at)
            && self.is_number(at)
            && self.free_word(at + 1).is_some_and(is_weight_unit)
            && self.is_symbol(at + 2, '/')
            && self.free_word(at + 3).and_then(unit_of).is_some_and(|u| u != Unit::Kg);
        per_piece.then(|| (at..at + 4, self.text(at..at + 2)))
    }

    /// Marks every quantity and gives the first: after còn, có, khoảng, sl, số lượng… (`còn 200`), or with a
    /// unit or multiple (`2 tạ`, `50 ký`, `3 chục quả`).
    fn mark_quantities(&mut self) -> Option<String> {
        let mut first = None;
        let mut at = 0;
        while at < self.tokens.len() {
            let mut start = at;
            while self
                .free_word(start)
                .is_some_and(|w| is_any(w, QUANTITY_MARKS) || w.is_spelled("số") || w.is_spelled("lượng"))
                || (start > at && self.free(start) && self.is_symbol(start, ':'))
            {
                start += 1;
            }
            let marked = start > at;
            // "2-3 tấn", "2 đến 3 tạ": the lower figure, in the unit after the higher.
            let range = self.is_symbol(start + 1, '-') || self.free_word(start + 1).is_some_and(|w| is_any(w, RANGE));
            let last = if range && self.is_number(start + 2) { start + 2 } else { start };
            let found =
                self.starts_amount(start).then(|| self.quantity_end(last)).filter(|end| marked || *end > last + 1);
            match found {
                Some(end) => {
                    let text = format!("{} {}", self.text(start..start + 1), self.text(last + 1..end));
                    first = first.or(Some(text));
                    self.mark(at..start, Role::QuantityMark);
                    self.mark(start..end, Role::Quantity);
                    at = end;
                }
                None => at += 1,
            }
        }
        first
    }

    /// Where `number [multiple [rưỡi | number unit]] [unit [rưỡi]]` ends.
    fn quantity_end(&self, start: usize) -> usize {
        let free_word = |at: usize| self.free_word(at);
        let half = |at: usize| free_word(at).and_then(price_word_of) == Some(PriceWord::Half);
        let mut at = start + 1;
        if free_word(at).and_then(multiple_name).is_some() {
            at += 1;
            if half(at) {
                at += 1;
            } else if self.free(at)
                && self.is_number(at)
                && free_word(at + 1).is_some_and(|w| unit_of(w).is_some() || multiple_name(w).is_some())
            {
                at += 2;
            }
        }
        if free_word(at).and_then(unit_of).is_some() {
            at += 1;
            if half(at) {
                at += 1;
            }
        }
        at
    }

    /// The first run of free words, up to a comma or period, that names something. A run set off by a comma
    /// after the price or quantity that opens like a remark ("…, ai cần liên hệ") is one, unless a price or
    /// quantity follows it.
    fn title(&self) -> Option<String> {
        let is_break =
            |at: usize| matches!(self.token(at), Some(Spaced { token: Token::Symbol(c), .. }) if BREAKS.contains(c));
        let mut at = 0;
        let mut amounts_seen = false;
        while at < self.tokens.len() {
            if !self.free(at) || is_break(at) {
                amounts_seen |= matches!(self.roles[at], Role::Price | Role::Quantity);
                at += 1;
                continue;
            }
            let start = at;
            while at < self.tokens.len() && self.free(at) && !is_break(at) {
                at += 1;
            }
            let after_break = start > 0 && is_break(start - 1);
            let amount_follows = self.roles.get(at).is_some_and(|r| *r != Role::Free);
            let names = self.tokens[start..at]
                .iter()
                .any(|t| matches!(&t.token, Token::Word(w) if w.raw.chars().any(char::is_alphabetic)));
            let remark = word_of(self.token(start)).is_some_and(|w| is_any(w, REMARKS));
            if names && !(after_break && amounts_seen && !amount_follows && remark) {
                return Some(self.title_text(start..at));
            }
        }
        None
    }

    /// Tokens as typed, one space where there was any, without punctuation at either end.
    fn title_text(&self, range: std::ops::Range<usize>) -> String {
        let tokens = &self.tokens[range];
        let is_symbol = |t: &&Spaced| matches!(t.token, Token::Symbol(_));
        let start = tokens.iter().position(|t| !is_symbol(&t)).unwrap_or(tokens.len());
        let end = tokens.iter().rposition(|t| !is_symbol(&t)).map_or(start, |end| end + 1);
        let mut title = String::new();
        for (i, spaced) in tokens[start..end].iter().enumerate() {
            if i > 0 && spaced.spaced {
                title.push(' ');
            }
            title.push_str(&spaced.token.raw());
        }
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Title, price, unit code, quantity and error codes.
    type Fields<Title> = (Option<Title>, Option<i64>, Option<&'static str>, Option<i64>, Vec<&'static str>);

    fn fields(text: &str) -> Fields<String> {
        let read = read(text);
        let codes = read.issues.iter().map(|issue| issue.invalid.code).collect();
        (read.title, read.price_vnd, read.unit.map(Unit::as_str), read.quantity, codes)
    }

    #[test]
    fn sentences_as_farmers_type_them() {
        let cases: &[(&str, Fields<&str>)] = &[
            ("Bán gấp 2 tấn khoai lang, giá 8k/kg", (Some("khoai lang"), Some(8000), Some("kg"), Some(2000), vec![])),
            (
                "Cần bán 1 tấn cà phê nhân, giá 120 nghìn/kg",
                (Some("cà phê nhân"), Some(120_000), Some("kg"), Some(1000), vec![]),
            ),
            ("Mận tam hoa 30k/kg còn 3 tạ", (Some("Mận tam hoa"), Some(30_000), Some("kg"), Some(300), vec![])),
            ("Gạo ST25 giá sỉ 25k/kg, SL 2 tấn", (Some("Gạo ST25"), Some(25_000), Some("kg"), Some(2000), vec![])),
            ("Trứng gà ta 3k5/quả, còn 500 quả", (Some("Trứng gà ta"), Some(3500), Some("qua"), Some(500), vec![])),
            ("Hạt điều W320 250k/kg còn 1 tạ", (Some("Hạt điều W320"), Some(250_000), Some("kg"), Some(100), vec![])),
            ("Cá lóc đồng 90k/kg, khoảng 50kg", (Some("Cá lóc đồng"), Some(90_000), Some("kg"), Some(50), vec![])),
            (
                "tôm sú 250k/kg còn 30kg, liên hệ 0909123456",
                (Some("tôm sú"), Some(250_000), Some("kg"), Some(30), vec![]),
            ),
            (
                "Mật ong hoa cà phê 1 lít 250k, còn 40 lít",
                (Some("Mật ong hoa cà phê"), Some(250_000), Some("lit"), Some(40), vec![]),
            ),
            ("Xoài cát mỗi ký 35 nghìn, còn 2 tạ", (Some("Xoài cát"), Some(35_000), Some("kg"), Some(200), vec![])),
            (
                "Mình có 3 tấn sắn tươi, giá 3 nghìn 5/kg",
                (Some("sắn tươi"), Some(3500), Some("kg"), Some(3000), vec![]),
            ),
            ("Thanh long 10k/kg còn 2 tấn rưỡi", (Some("Thanh long"), Some(10_000), Some("kg"), Some(2500), vec![])),
            (
                "Nhãn xuồng cơm vàng giá 35k, còn lại 5 tạ",
                (Some("Nhãn xuồng cơm vàng"), Some(35_000), Some("kg"), Some(500), vec![]),
            ),
            (
                "Chuối già hương 20k/nải",
                (Some("Chuối già hương"), Some(20_000), Some("nai"), None, vec!["quantity_missing"]),
            ),
            (
                "Nước mắm Phú Quốc 40 độ 150k/chai có 60 chai",
                (Some("Nước mắm Phú Quốc 40 độ"), Some(150_000), Some("chai"), Some(60), vec![]),
            ),
            (
                "Xoài cát Hòa Lộc - 25k/kg - còn 2 tạ",
                (Some("Xoài cát Hòa Lộc"), Some(25_000), Some("kg"), Some(200), vec![]),
            ),
            (
                "Bán sỉ chanh không hạt 12k/kg, sl 3 tấn",
                (Some("chanh không hạt"), Some(12_000), Some("kg"), Some(3000), vec![]),
            ),
            ("Con gà trống 300k, còn 5 con", (Some("Con gà trống"), Some(300_000), Some("con"), Some(5), vec![])),
            ("GIÁ 25K/KG, CÒN 2 TẠ XOÀI CÁT", (Some("XOÀI CÁT"), Some(25_000), Some("kg"), Some(200), vec![])),
            ("hello", (Some("hello"), None, None, None, vec!["price_missing", "unit_missing", "quantity_missing"])),
            ("Xoài 25k", (Some("Xoài"), Some(25_000), None, None, vec!["unit_missing", "quantity_missing"])),
            ("2 tạ", (None, None, Some("kg"), Some(200), vec!["title_missing", "price_missing"])),
            ("", (None, None, None, None, vec!["title_missing", "price_missing", "unit_missing", "quantity_missing"])),
            ("Sầu riêng 25k/tạ còn 1 tấn", (Some("Sầu riêng"), Some(250), Some("kg"), Some(1000), vec![])),
            (
                "Sầu riêng 25.001 đồng/tạ còn 1 tấn",
                (Some("Sầu riêng"), None, Some("kg"), Some(1000), vec!["price_not_divisible"]),
            ),
            (
                "Nhà em còn khoảng 500 ký chanh, giá 12 ngàn 1 ký",
                (Some("chanh"), Some(12_000), Some("kg"), Some(500), vec![]),
            ),
            ("Thu hoạch được 3 tấn lúa, bán 7k/kg", (Some("lúa"), Some(7000), Some("kg"), Some(3000), vec![])),
            ("Mít Thái 25k/kg còn 2-3 tấn", (Some("Mít Thái"), Some(25_000), Some("kg"), Some(2000), vec![])),
            (
                "Giá 45k/kg, còn 3 tạ, sầu riêng Ri6",
                (Some("sầu riêng Ri6"), Some(45_000), Some("kg"), Some(300), vec![]),
            ),
            (
                "Còn 5 tạ, liên hệ 0912345678",
                (None, None, Some("kg"), Some(500), vec!["title_missing", "price_missing"]),
            ),
            (
                "Cam sành 150k/thùng 10kg còn 50 thùng",
                (Some("Cam sành"), Some(150_000), Some("thung"), Some(50), vec![]),
            ),
            (
                "Dưa lưới 45k/kg, 1 trái tầm 1,5kg, còn 200 trái",
                (Some("Dưa lưới"), Some(45_000), Some("kg"), None, vec!["unit_conflict"]),
            ),
        ];
        for (text, (title, price, unit, quantity, codes)) in cases {
            let expected = (title.map(str::to_owned), *price, *unit, *quantity, codes.clone());
            assert_eq!(fields(text), expected, "{text}");
        }
    }

    #[test]
    fn a_bare_small_price_is_asked_about_with_the_thousands_it_likely_means() {
        let read = read("Xoài cát giá 25 còn 2 tạ");
        assert_eq!((read.price_vnd, read.unit, read.quantity), (None, Some(Unit::Kg), Some(200)));
        let issue = read.issues.first();
        assert_eq!(
            issue.map(|i| (i.field, i.invalid.code, i.suggestion_vnd)),
            Some(("price", "price_ambiguous", Some(25_000)))
        );
        assert!(
            issue.is_some_and(|i| i.invalid.message.vi.contains("25.000đ") && i.invalid.message.en.contains("25k"))
        );
    }

    #[test]
    fn the_weight_of_one_piece_is_read_when_stated() {
        for (text, grams) in [
            ("Sầu riêng Ri6 250k 1 trái, 1 trái khoảng 3 ký, còn 40 trái", Some(3000)),
            ("Sầu riêng Ri6 250k/trái khoảng 3kg còn 40 trái", Some(3000)),
            ("Bưởi da xanh 2kg/trái, 60k/trái, còn 300 trái", Some(2000)),
            ("Dâu tây 80k/hộp 500g còn 50 hộp", Some(500)),
            ("Mít 20k/kg, 1 quả 8 cân, còn 2 tạ", Some(8000)),
            ("Dừa xiêm 12k/trái còn 2 tạ", None),
        ] {
            assert_eq!(read(text).unit_weight_g, grams, "{text}");
        }
        let read = read("Sầu riêng Ri6 250k/trái khoảng 3kg còn 40 trái");
        assert_eq!((read.title.as_deref(), read.quantity, read.issues.len()), (Some("Sầu riêng Ri6"), Some(40), 0));
    }
}
