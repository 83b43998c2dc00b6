//! How numbers and words are read from what people type: the tokenizer that quantities
//! ([`crate::domain::quantity`]) and prices ([`crate::domain::money`]) share.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::domain::text::fold;

/// The words that mean one thing: spelled with their Vietnamese marks exactly (`marked`, NFC, lower
/// case), or with no marks at all (`plain`).
pub(crate) struct Spelling {
    pub(crate) marked: &'static [&'static str],
    pub(crate) plain: &'static [&'static str],
}

/// A run of letters as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) raw: String,
    marked: String,
    folded: String,
}

impl Word {
    pub(crate) fn new(raw: &str) -> Word {
        let raw: String = raw.nfc().collect();
        let marked = raw.to_lowercase().nfc().collect();
        Word { folded: fold(&raw), marked, raw }
    }

    /// Whether this is one of `spelling`'s words. Marks either match exactly or are absent, because a
    /// word with other marks is another word (tá, tạ).
    pub(crate) fn is(&self, spelling: &Spelling) -> bool {
        if self.marked.is_ascii() {
            spelling.plain.contains(&self.folded.as_str())
        } else {
            spelling.marked.contains(&self.marked.as_str())
        }
    }

    /// Whether this is `marked` (lower case, NFC) as spelled there or typed without marks, as [`Word::is`].
    pub(crate) fn is_spelled(&self, marked: &str) -> bool {
        if self.marked.is_ascii() { self.folded == fold(marked) } else { self.marked == marked }
    }

    /// Lower case, without marks: what is left when marks were typed wrong (`nãi` for `nải`).
    pub(crate) fn folded(&self) -> &str {
        &self.folded
    }
}

/// How a run of digits and separators reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Clear,
    /// Dots and commas both used as thousand separators (`1.200,000`), or a group after a leading zero
    /// (`0.500`): nobody can tell which is meant.
    Ambiguous,
    /// Groups of the wrong length (`25.0000`, `25 5`).
    Malformed,
}

/// A number as typed. `.` and `,` followed by exactly three digits separate thousands (as do single
/// spaces); followed by one or two digits, they are a decimal mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Numeral {
    pub(crate) raw: String,
    /// Digits before the decimal mark, separators removed.
    pub(crate) whole: String,
    /// The one or two digits after a decimal mark, if any.
    pub(crate) fraction: String,
    /// Whether thousand separators were used.
    pub(crate) grouped: bool,
    pub(crate) shape: Shape,
}

impl Numeral {
    fn new(raw: String, groups: Vec<String>, separators: Vec<char>) -> Numeral {
        let mut numeral =
            Numeral { raw, whole: String::new(), fraction: String::new(), grouped: false, shape: Shape::Clear };
        let (Some(first), Some((&last_sep, thousands))) = (groups.first(), separators.split_last()) else {
            numeral.whole = groups.concat();
            return numeral;
        };
        let last = &groups[groups.len() - 1];
        let thousand = thousands.first().copied().unwrap_or(last_sep);
        let well_grouped = (1..=3).contains(&first.len())
            && groups[1..groups.len() - 1].iter().all(|g| g.len() == 3)
            && thousands.iter().all(|s| *s == thousand);
        let decimal_mark = matches!(last_sep, '.' | ',') && (1..=2).contains(&last.len());
        numeral.shape = if last_sep == thousand && last.len() == 3 && well_grouped {
            numeral.whole = groups.concat();
            numeral.grouped = true;
            if first.starts_with('0') { Shape::Ambiguous } else { Shape::Clear }
        } else if decimal_mark && thousands.is_empty() {
            numeral.whole.clone_from(first);
            numeral.fraction.clone_from(last);
            Shape::Clear
        } else if decimal_mark && last_sep != thousand && well_grouped {
            numeral.whole = groups[..groups.len() - 1].concat();
            numeral.fraction.clone_from(last);
            numeral.grouped = true;
            if first.starts_with('0') { Shape::Ambiguous } else { Shape::Clear }
        } else if last.len() == 3 && last_sep != thousand && matches!(last_sep, '.' | ',') {
            Shape::Ambiguous
        } else {
            Shape::Malformed
        };
        numeral
    }

    /// The number in thousandths, saturating far above any limit.
    pub(crate) fn milli(&self) -> u128 {
        digits(&self.whole).saturating_mul(1000).saturating_add(digits(&format!("{:0<3}", self.fraction)))
    }

    /// The number, when it is a clear whole number.
    pub(crate) fn integer(&self) -> Option<u128> {
        (self.shape == Shape::Clear && self.fraction.is_empty()).then(|| digits(&self.whole))
    }
}

fn digits(text: &str) -> u128 {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u128, |value, b| value.saturating_mul(10).saturating_add(u128::from(b - b'0')))
}

/// One piece of what was typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    Number(Numeral),
    Word(Word),
    Symbol(char),
}

impl Token {
    /// As typed, for messages.
    pub(crate) fn raw(&self) -> String {
        match self {
            Token::Number(numeral) => numeral.raw.clone(),
            Token::Word(word) => word.raw.clone(),
            Token::Symbol(c) => c.to_string(),
        }
    }
}

/// Splits text into numbers, words and other symbols. Whitespace separates tokens, except a single space
/// between digit groups (`25 000`).
pub(crate) fn lex(input: &str) -> Vec<Token> {
    scan(input, true).into_iter().map(|spaced| spaced.token).collect()
}

/// A token and whether whitespace came before it: `Ri6` is a word and a number typed together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spaced {
    pub(crate) token: Token,
    pub(crate) spaced: bool,
}

/// Like [`lex`], keeping where whitespace was; every space separates (in a sentence, `034 45k` is two
/// numbers).
pub(crate) fn lex_spaced(input: &str) -> Vec<Spaced> {
    scan(input, false)
}

fn scan(input: &str, spaced_groups: bool) -> Vec<Spaced> {
    let mut chars: Vec<char> = Vec::with_capacity(input.len());
    for c in input.nfc() {
        if c.is_whitespace() {
            if chars.last().is_some_and(|last| *last != ' ') {
                chars.push(' ');
            }
        } else {
            chars.push(c);
        }
    }
    let is_letter = |c: char| c.is_alphabetic() || is_combining_mark(c);
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let spaced = start > 0 && chars[start - 1] == ' ';
        if c == ' ' {
            i += 1;
        } else if c.is_ascii_digit() {
            let (mut groups, mut separators) = (Vec::new(), Vec::new());
            loop {
                let run = i;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                groups.push(chars[run..i].iter().collect::<String>());
                match (chars.get(i), chars.get(i + 1)) {
                    (Some(&sep @ ('.' | ',' | ' ')), Some(next))
                        if next.is_ascii_digit() && (sep != ' ' || spaced_groups) =>
                    {
                        separators.push(sep);
                        i += 1;
                    }
                    _ => break,
                }
            }
            let token = Token::Number(Numeral::new(chars[start..i].iter().collect(), groups, separators));
            tokens.push(Spaced { token, spaced });
        } else if is_letter(c) {
            while chars.get(i).is_some_and(|c| is_letter(*c)) {
                i += 1;
            }
            let token = Token::Word(Word::new(&chars[start..i].iter().collect::<String>()));
            tokens.push(Spaced { token, spaced });
        } else {
            tokens.push(Spaced { token: Token::Symbol(c), spaced });
            i += 1;
        }
    }
    tokens
}

/// `1200000` → `1.200.000`, as Vietnamese write numbers.
pub(crate) fn group_thousands(value: u128) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    grouped
}

/// Thousandths as a decimal with the given mark and no trailing zeros: 2500 → `2,5`.
pub(crate) fn decimal(milli: u128, mark: char) -> String {
    let fraction = format!("{:03}", milli % 1000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() { (milli / 1000).to_string() } else { format!("{}{mark}{fraction}", milli / 1000) }
}
