//! What people choose when they open an account: PIN, password, name, email.

use super::Invalid;

/// A farmer's 6-digit PIN. Trivial ones (one digit repeated, straight runs, short repeated patterns) are
/// refused: with only a million PINs, the ones everyone tries first must not be allowed.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub fn parse(input: &str) -> Result<Pin, Invalid> {
        let pin = input.trim();
        if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                "pin_format",
                "Mã PIN phải gồm đúng 6 chữ số.",
                "The PIN must be exactly 6 digits.",
            ));
        }
        let digits: Vec<i8> = pin.bytes().map(|b| (b - b'0') as i8).collect();
        if digits.iter().all(|d| *d == digits[0]) {
            return Err(Invalid::new(
                "pin_trivial",
                "Mã PIN quá dễ đoán: không dùng 6 số giống nhau.",
                "This PIN is too easy to guess: do not use one digit six times.",
            ));
        }
        let steps: Vec<i8> = digits.windows(2).map(|w| w[1] - w[0]).collect();
        if steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1) {
            return Err(Invalid::new(
                "pin_trivial",
                "Mã PIN quá dễ đoán: không dùng dãy số liên tiếp như 123456 hay 654321.",
                "This PIN is too easy to guess: do not use a run like 123456 or 654321.",
            ));
        }
        if pin[..2].repeat(3) == pin || pin[..3].repeat(2) == pin {
            return Err(Invalid::new(
                "pin_trivial",
                "Mã PIN quá dễ đoán: không lặp lại một nhóm số như 121212 hay 123123.",
                "This PIN is too easy to guess: do not repeat a group like 121212 or 123123.",
            ));
        }
        Ok(Pin(pin.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(******)")
    }
}

/// A buyer's, helper's or operator's password: 8 to 128 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(input: &str) -> Result<Password, Invalid> {
        let length = input.chars().count();
        if length < 8 {
            return Err(Invalid::new(
                "password_too_short",
                format!("Mật khẩu cần ít nhất 8 ký tự (bạn nhập {length})."),
                format!("The password needs at least 8 characters ({length} given)."),
            ));
        }
        if length > 128 {
            return Err(Invalid::new(
                "password_too_long",
                "Mật khẩu dài tối đa 128 ký tự.",
                "The password can be at most 128 characters.",
            ));
        }
        Ok(Password(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(********)")
    }
}

/// A person's or organisation's name as shown to others: trimmed, whitespace collapsed, 2–100 characters.
pub fn parse_name(input: &str) -> Result<String, Invalid> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let length = name.chars().count();
    if length < 2 {
        return Err(Invalid::new(
            "name_too_short",
            "Vui lòng nhập tên (ít nhất 2 ký tự).",
            "Please enter a name (at least 2 characters).",
        ));
    }
    if length > 100 {
        return Err(Invalid::new(
            "name_too_long",
            "Tên dài tối đa 100 ký tự.",
            "A name can be at most 100 characters.",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new(
            "name_invalid",
            "Tên chứa ký tự không hợp lệ.",
            "The name contains invalid characters.",
        ));
    }
    Ok(name)
}

/// An email address, lower-cased (lettre's parser decides what is an address).
pub fn parse_email(input: &str) -> Result<String, Invalid> {
    let email = input.trim().to_lowercase();
    match email.parse::<lettre::Address>() {
        Ok(_) if email.len() <= 254 => Ok(email),
        _ => Err(Invalid::new(
            "email_invalid",
            "Địa chỉ email không hợp lệ (ví dụ lan@example.vn).",
            "Not a valid email address (e.g. lan@example.vn).",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trivial_pins_are_refused_with_the_reason() {
        for trivial in
            ["111111", "000000", "123456", "234567", "654321", "987654", "012345", "121212", "123123", "909090"]
        {
            assert_eq!(Pin::parse(trivial).map_err(|e| e.code), Err("pin_trivial"), "{trivial}");
        }
        for wrong in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            assert_eq!(Pin::parse(wrong).map_err(|e| e.code), Err("pin_format"), "{wrong}");
        }
        assert!(Pin::parse("482915").is_ok());
        assert!(Pin::parse("135792").is_ok());
        assert_eq!(format!("{:?}", Pin::parse("482915")), "Ok(Pin(******))");
    }

    #[test]
    fn passwords_names_and_emails() {
        assert_eq!(Password::parse("short").map_err(|e| e.code), Err("password_too_short"));
        assert!(Password::parse("mật khẩu dài").is_ok());
        assert_eq!(parse_name("  Nguyễn   Thị  Lan "), Ok("Nguyễn Thị Lan".to_owned()));
        assert_eq!(parse_name(" A ").map_err(|e| e.code), Err("name_too_short"));
        assert_eq!(parse_email(" Lan@Example.VN "), Ok("lan@example.vn".to_owned()));
        assert_eq!(parse_email("lan@").map_err(|e| e.code), Err("email_invalid"));
    }

    proptest! {
        #[test]
        fn pin_parser_never_panics_and_accepts_only_six_digits(input in "\\PC{0,10}") {
            if let Ok(pin) = Pin::parse(&input) {
                prop_assert!(pin.0.len() == 6 && pin.0.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
