//! Vietnamese text folding: the one normaliser behind every search.
//!
//! Farmers and buyers type on cheap phones, often without the Vietnamese keyboard: "xoai cat" must find
//! "Xoài cát", "CA PHE" must find "Cà phê", and NFC or NFD input must not matter.

use super::Invalid;
use crate::error::{FieldError, Text};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Case-folds, strips tone and vowel marks (NFD, then drops combining marks), maps đ/Đ to d and collapses
/// runs of whitespace to one space, trimmed.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    let lower: String = text.chars().flat_map(char::to_lowercase).collect();
    for c in lower.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !folded.is_empty();
            continue;
        }
        if pending_space {
            folded.push(' ');
            pending_space = false;
        }
        folded.push(if c == 'đ' { 'd' } else { c });
    }
    folded
}

/// The searchable form of a text: [`fold`]ed, with everything that is not a letter or digit turned into a
/// word break. Stored next to names and titles; queries are split with [`search_terms`].
pub fn search_key(text: &str) -> String {
    search_terms(text).join(" ")
}

/// The words of a query, in searchable form. Punctuation (and SQL `LIKE` wildcards) never survive.
pub fn search_terms(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_owned).collect()
}

/// Where a typed text may break lines: descriptions and notes may, names and codes may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Refuses NUL and the other control characters, which no keyboard types and which would garble what others
/// read. Line breaks and tabs are kept where a text may span lines.
pub fn refuse_control_characters(text: &str, lines: Lines) -> Result<(), Invalid> {
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Invalid::new(
            "control_character",
            "Có ký tự không gõ được từ bàn phím (như NUL); hãy xoá rồi gõ lại.",
            "There is a character no keyboard types (such as NUL); delete it and type the text again.",
        ));
    }
    Ok(())
}

/// A text as a person typed it, trimmed; empty counts as absent. Refused when it is longer than `max`
/// characters or holds a control character (see [`refuse_control_characters`]).
pub fn typed_text(field: &str, value: Option<&str>, max: usize, lines: Lines) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    refuse_control_characters(value, lines).map_err(|invalid| invalid.at(field))?;
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            "text_too_long",
            Text::new(format!("`{field}` dài tối đa {max} ký tự."), format!("`{field}` is at most {max} characters.")),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A one-line text of at most `max` characters, trimmed; empty counts as absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    typed_text(field, value, max, Lines::One)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_marks_and_maps_d() {
        assert_eq!(fold("Xoài cát Hòa Lộc"), "xoai cat hoa loc");
        assert_eq!(fold("ĐẮK LẮK"), "dak lak");
        assert_eq!(fold("Cà phê  Robusta\t"), "ca phe robusta");
        assert_eq!(fold("  Phường   Buôn Ma Thuột "), "phuong buon ma thuot");
        assert_eq!(fold("Thừa Thiên Huế"), "thua thien hue");
    }

    #[test]
    fn nfc_and_nfd_inputs_fold_alike() {
        let nfc: String = "Sầu riêng Ri6 Đồng Tháp".nfc().collect();
        let nfd: String = "Sầu riêng Ri6 Đồng Tháp".nfd().collect();
        assert_ne!(nfc, nfd);
        assert_eq!(fold(&nfc), fold(&nfd));
        assert_eq!(fold(&nfc), "sau rieng ri6 dong thap");
    }

    #[test]
    fn typed_texts_refuse_control_characters_but_keep_line_breaks_where_allowed() {
        assert_eq!(typed_text("note", Some("  gọi trước  "), 10, Lines::One), Ok(Some("gọi trước".to_owned())));
        assert_eq!(typed_text("note", Some("   "), 10, Lines::One), Ok(None));
        assert_eq!(typed_text("note", Some("a\nb\tc"), 10, Lines::Many), Ok(Some("a\nb\tc".to_owned())));
        let code = |value: &str, lines| typed_text("note", Some(value), 10, lines).expect_err("refused").code;
        assert_eq!(code("a\nb", Lines::One), "control_character");
        assert_eq!(code("a\u{0}b", Lines::Many), "control_character");
        assert_eq!(code("a\u{1b}[31m", Lines::Many), "control_character");
        assert_eq!(code("quá dài rồi đấy", Lines::Many), "text_too_long");
    }

    #[test]
    fn control_character_are_refused_but_line_breaks_may_stay() {
        let code = |text: &str, lines: Lines| refuse_control_characters(text, lines).err().map(|e| e.code);
        assert_eq!(code("Xoài cát Hòa Lộc", Lines::One), None);
        assert_eq!(code("Xoài\0cát", Lines::One), Some("control_character"));
        assert_eq!(code("Xoài\u{7}", Lines::Many), Some("control_character"));
        assert_eq!(code("dòng 1\ndòng 2", Lines::One), Some("control_character"));
        assert_eq!(code("dòng 1\r\n\tdòng 2", Lines::Many), None);
    }

    #[test]
    fn search_terms_drop_punctuation_and_wildcards() {
        assert_eq!(search_terms("Xuân Hương - Đà Lạt"), vec!["xuan", "huong", "da", "lat"]);
        assert_eq!(search_terms("100% _ca_ phê!"), vec!["100", "ca", "phe"]);
        assert_eq!(search_key("Phường Cam Ly - Đà Lạt"), "phuong cam ly da lat");
    }

    proptest! {
        #[test]
        fn fold_is_idempotent_and_canonical(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
            prop_assert!(!once.chars().any(|c| is_combining_mark(c) || c == 'đ' || c == 'Đ'));
            prop_assert!(!once.chars().any(|c| c.is_whitespace() && c != ' '));
        }

        #[test]
        fn fold_ignores_normal_form_and_case(s in "[a-zA-ZàáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵĐÀÁÂÊÔƠƯ ]{0,30}") {
            let nfc: String = s.nfc().collect();
            let nfd: String = s.nfd().collect();
            prop_assert_eq!(fold(&nfc), fold(&nfd));
            prop_assert_eq!(fold(&s.to_uppercase()), fold(&s));
            prop_assert!(fold(&s).is_ascii());
        }

        #[test]
        fn search_key_has_only_alphanumeric_words(s in "\\PC{0,40}") {
            let key = search_key(&s);
            prop_assert!(key.split(' ').all(|w| !w.is_empty() || key.is_empty()));
            prop_assert!(key.chars().all(|c| c == ' ' || c.is_alphanumeric()));
            prop_assert_eq!(search_key(&key), key.clone());
        }
    }
}
