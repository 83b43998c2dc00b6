//! Vietnamese mobile numbers, accepted in any common form and kept as E.164.

use std::fmt;

use phonenumber::{Mode, Type, country};

use super::Invalid;

/// A Vietnamese mobile number in E.164 form, e.g. `+84912345678`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `0912 345 678`, `0912.345.678`, `+84912345678`, `84-912-345-678`, `(+84) 912 345 678`, …
    pub fn parse(input: &str) -> Result<Phone, Invalid> {
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}')).collect();
        if compact.is_empty() {
            return Err(Invalid::new("phone_required", "Vui lòng nhập số điện thoại.", "Please enter a phone number."));
        }
        let (plus, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                "phone_invalid_characters",
                "Số điện thoại chỉ gồm chữ số (ví dụ 0912 345 678).",
                "A phone number has only digits (e.g. 0912 345 678).",
            ));
        }
        let national = if let Some(rest) = digits.strip_prefix("84").filter(|rest| plus || rest.len() >= 9) {
            rest.strip_prefix('0').unwrap_or(rest)
        } else if plus {
            return Err(Invalid::new(
                "phone_not_vietnamese",
                "Chỉ nhận số điện thoại Việt Nam (+84).",
                "Only Vietnamese phone numbers (+84) are accepted.",
            ));
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest
        } else {
            digits
        };
        check_national(national)?;
        let number = phonenumber::parse(Some(country::VN), format!("+84{national}"))
            .ok()
            .filter(|n| n.is_valid() && matches!(n.number_type(&phonenumber::metadata::DATABASE), Type::Mobile));
        match number {
            Some(number) => Ok(Phone(number.format().mode(Mode::E164).to_string())),
            None => Err(Invalid::new(
                "phone_not_mobile",
                format!("Đầu số 0{} không phải số di động Việt Nam đang dùng.", &national[..2]),
                format!("0{} is not a Vietnamese mobile prefix in use.", &national[..2]),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: never a whole number (`+84912***678`).
    pub fn masked(&self) -> String {
        let visible_end = self.0.len().saturating_sub(3);
        format!("{}***{}", &self.0[..6.min(visible_end)], &self.0[visible_end..])
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The checks that explain the usual mistakes better than "invalid": wrong length, the pre-2018 11-digit
/// mobile numbers (01xx), landlines (02xx).
fn check_national(national: &str) -> Result<(), Invalid> {
    if national.len() < 9 {
        return Err(Invalid::new(
            "phone_too_short",
            format!("Số điện thoại thiếu số: cần 10 số bắt đầu bằng 0, bạn nhập {} số.", national.len() + 1),
            format!("Too few digits: a mobile number has 10 digits starting with 0; you typed {}.", national.len() + 1),
        ));
    }
    if national.starts_with('2') {
        return Err(Invalid::new(
            "phone_landline",
            "Đây là số máy bàn; vui lòng nhập số di động.",
            "This is a landline number; please enter a mobile number.",
        ));
    }
    if national.starts_with('1') {
        return Err(Invalid::new(
            "phone_old_prefix",
            "Đầu số 01x cũ đã đổi sang 10 số từ năm 2018 (ví dụ 0123… thành 083…). Vui lòng nhập số mới.",
            "The old 01x prefixes became 10-digit numbers in 2018 (e.g. 0123… is now 083…). Please enter the new number.",
        ));
    }
    if national.len() > 9 {
        return Err(Invalid::new(
            "phone_too_long",
            format!("Số điện thoại thừa số: cần 10 số bắt đầu bằng 0, bạn nhập {} số.", national.len() + 1),
            format!(
                "Too many digits: a mobile number has 10 digits starting with 0; you typed {}.",
                national.len() + 1
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_forms_give_the_same_e164() {
        for input in [
            "0912 345 678",
            "0912.345.678",
            "+84912345678",
            "84-912-345-678",
            "(+84) 912 345 678",
            "84912345678",
            "+84 0912 345 678",
            "912345678",
        ] {
            assert_eq!(Phone::parse(input).map(|p| p.0), Ok("+84912345678".to_owned()), "{input}");
        }
        assert_eq!(Phone::parse("0386 123 456").map(|p| p.0), Ok("+84386123456".to_owned()));
    }

    #[test]
    fn mistakes_get_specific_codes() {
        let code = |input: &str| Phone::parse(input).map_err(|e| e.code);
        assert_eq!(code("1234567"), Err("phone_too_short"));
        assert_eq!(code("0123 456 789"), Err("phone_old_prefix"));
        assert_eq!(code("01234567890"), Err("phone_old_prefix"));
        assert_eq!(code("09123456789"), Err("phone_too_long"));
        assert_eq!(code("024 3826 1234"), Err("phone_landline"));
        assert_eq!(code("+1 415 555 2671"), Err("phone_not_vietnamese"));
        assert_eq!(code("09l2345678"), Err("phone_invalid_characters"));
        assert_eq!(code(""), Err("phone_required"));
        assert_eq!(code("0612 345 678"), Err("phone_not_mobile"));
    }

    #[test]
    fn masked_hides_the_middle() {
        assert_eq!(Phone::parse("0912345678").map(|p| p.masked()), Ok("+84912***678".to_owned()));
    }

    proptest! {
        #[test]
        fn never_panics_and_accepted_numbers_round_trip(input in "\\PC{0,24}") {
            if let Ok(phone) = Phone::parse(&input) {
                prop_assert!(phone.0.starts_with("+84") && phone.0.len() == 12);
                prop_assert_eq!(Phone::parse(&phone.0), Ok(phone.clone()));
            }
        }

        #[test]
        fn valid_mobiles_parse_from_every_form(prefix in prop::sample::select(vec!["90", "91", "93", "94", "96", "97", "98", "86", "88", "70", "77", "79", "81", "83", "85", "32", "35", "38", "56", "58"]), rest in "[0-9]{7}") {
            let national = format!("{prefix}{rest}");
            let expected = format!("+84{national}");
            prop_assert_eq!(Phone::parse(&format!("0{national}")).map(|p| p.0), Ok(expected.clone()));
            prop_assert_eq!(Phone::parse(&format!("+84 {national}")).map(|p| p.0), Ok(expected.clone()));
            prop_assert_eq!(Phone::parse(&format!("84-{}-{}", &national[..3], &national[3..])).map(|p| p.0), Ok(expected));
        }
    }
}
