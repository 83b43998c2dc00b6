//! VietQR: the NAPAS flavour of the EMVCo merchant-presented QR that every Vietnamese banking app scans to
//! prefill a transfer (bank, account, amount and message), so buyers paying by transfer cannot mistype the
//! order code we reconcile on.
//!
//! The payload is a string of TLV fields: a 2-digit tag, a 2-digit decimal length in characters, then the
//! value; it ends with tag `63`, a CRC-16/CCITT-FALSE over everything before its value.

use std::fmt;

use crc::{CRC_16_IBM_3740, Crc};
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode};

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), as EMVCo specifies.
const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// NAPAS's application identifier, which tells banking apps the QR is a VietQR transfer.
const NAPAS_GUID: &str = "A000000727";
/// Service code for a transfer to an account number (`QRIBFTTC` would be to a card number).
const TO_ACCOUNT: &str = "QRIBFTTA";
const MAX_AMOUNT_VND: i64 = 9_999_999_999;
const MAX_PURPOSE_CHARS: usize = 25;
const MAX_ACCOUNT_CHARS: usize = 19;

/// A transfer to prefill: which account gets how much for which order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VietQr<'a> {
    /// The bank's 6-digit NAPAS BIN, e.g. `970436` for Vietcombank.
    pub bank_bin: &'a str,
    /// Account number (some banks issue letters in virtual accounts).
    pub account: &'a str,
    pub amount_vnd: i64,
    /// The transfer message: the order code, which is how the payment is matched to the order.
    pub purpose: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VietQrError {
    BankBin(String),
    Account(String),
    Amount(i64),
    Purpose(String),
    /// `parse_tlv` could not read a field starting at this byte offset.
    Tlv {
        at: usize,
        problem: &'static str,
    },
    /// The payload does not fit in a QR code.
    Qr(String),
    Png(String),
}

impl fmt::Display for VietQrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BankBin(bin) => write!(f, "VietQR bank BIN must be 6 digits (e.g. 970436), got {bin:?}"),
            Self::Account(account) => {
                write!(f, "VietQR account must be 1 to {MAX_ACCOUNT_CHARS} letters or digits, got {account:?}")
            }
            Self::Amount(amount) => write!(f, "VietQR amount must be 1 to {MAX_AMOUNT_VND} VND, got {amount}"),
            Self::Purpose(purpose) => write!(
                f,
                "VietQR transfer message must be 1 to {MAX_PURPOSE_CHARS} printable ASCII characters, got {purpose:?}"
            ),
            Self::Tlv { at, problem } => write!(f, "malformed EMVCo QR payload at byte {at}: {problem}"),
            Self::Qr(error) => write!(f, "cannot draw VietQR code: {error}"),
            Self::Png(error) => write!(f, "cannot encode VietQR PNG: {error}"),
        }
    }
}

impl std::error::Error for VietQrError {}

impl VietQr<'_> {
    /// The EMVCo payload for a dynamic (one payment) QR, with its CRC.
    pub fn payload(&self) -> Result<String, VietQrError> {
        self.validate()?;
        let mut beneficiary = String::new();
        push_field(&mut beneficiary, "00", self.bank_bin);
        push_field(&mut beneficiary, "01", self.account);
        let mut merchant = String::new();
        push_field(&mut merchant, "00", NAPAS_GUID);
        push_field(&mut merchant, "01", &beneficiary);
        push_field(&mut merchant, "02", TO_ACCOUNT);
        let mut additional = String::new();
        push_field(&mut additional, "08", self.purpose);

        let mut payload = String::with_capacity(160);
        push_field(&mut payload, "00", "01");
        // 12 = dynamic: the amount is fixed and the code is for this payment only.
        push_field(&mut payload, "01", "12");
        push_field(&mut payload, "38", &merchant);
        push_field(&mut payload, "53", "704");
        push_field(&mut payload, "54", &self.amount_vnd.to_string());
        push_field(&mut payload, "58", "VN");
        push_field(&mut payload, "62", &additional);
        payload.push_str("6304");
        let crc = CRC16.checksum(payload.as_bytes());
        payload.push_str(&format!("{crc:04X}"));
        Ok(payload)
    }

    fn validate(&self) -> Result<(), VietQrError> {
        if self.bank_bin.len() != 6 || !self.bank_bin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VietQrError::BankBin(self.bank_bin.to_owned()));
        }
        if !(1..=MAX_ACCOUNT_CHARS).contains(&self.account.len())
            || !self.account.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(VietQrError::Account(self.account.to_owned()));
        }
        if !(1..=MAX_AMOUNT_VND).contains(&self.amount_vnd) {
            return Err(VietQrError::Amount(self.amount_vnd));
        }
        // Banking apps show and forward the message as typed; accents and control characters get mangled.
        if !(1..=MAX_PURPOSE_CHARS).contains(&self.purpose.len())
            || !self.purpose.bytes().all(|b| (b' '..=b'~').contains(&b))
        {
            return Err(VietQrError::Purpose(self.purpose.to_owned()));
        }
        Ok(())
    }
}

/// Appends one TLV field; callers keep values under 100 characters.
fn push_field(out: &mut String, tag: &str, value: &str) {
    out.push_str(tag);
    out.push_str(&format!("{:02}", value.chars().count()));
    out.push_str(value);
}

/// The top-level `(tag, value)` fields of an EMVCo payload, in order; parse a value again for its sub-fields.
///
/// Lengths count characters, not bytes, as in the EMVCo examples with Chinese merchant names.
pub fn parse_tlv(payload: &str) -> Result<Vec<(String, String)>, VietQrError> {
    let mut fields = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let at = payload.len() - rest.len();
        let header = rest.as_bytes().get(..4).ok_or(VietQrError::Tlv { at, problem: "truncated tag or length" })?;
        if !header.iter().all(u8::is_ascii_digit) {
            return Err(VietQrError::Tlv { at, problem: "tag and length must be 4 digits" });
        }
        let len = usize::from(header[2] - b'0') * 10 + usize::from(header[3] - b'0');
        // The header is ASCII, so byte 4 is a character boundary.
        let (value, after) =
            split_chars(&rest[4..], len).ok_or(VietQrError::Tlv { at, problem: "value shorter than its length" })?;
        fields.push((rest[..2].to_owned(), value.to_owned()));
        rest = after;
    }
    Ok(fields)
}

/// Splits after `n` characters, or `None` if there are fewer.
fn split_chars(s: &str, n: usize) -> Option<(&str, &str)> {
    let end = s.char_indices().map(|(i, _)| i).chain(std::iter::once(s.len())).nth(n)?;
    Some(s.split_at(end))
}

/// Whether the payload ends in `6304` and four uppercase hex digits that match the CRC of everything
/// up to and including that `6304` (over its UTF-8 bytes).
pub fn crc_ok(payload: &str) -> bool {
    let bytes = payload.as_bytes();
    let Some(split) = bytes.len().checked_sub(4) else {
        return false;
    };
    let (body, crc) = bytes.split_at(split);
    body.ends_with(b"6304") && format!("{:04X}", CRC16.checksum(body)).as_bytes() == crc
}

/// The payload drawn as a black-on-white PNG: error correction M (survives a smudged print or a
/// phone screen's glare), 8-pixel modules and the standard 4-module quiet zone so scanners find it.
pub fn qr_png(payload: &str) -> Result<Vec<u8>, VietQrError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| VietQrError::Qr(e.to_string()))?;
    let image = code.render::<Luma<u8>>().module_dimensions(8, 8).quiet_zone(true).build();
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(image.as_raw(), image.width(), image.height(), ExtendedColorType::L8)
        .map_err(|e| VietQrError::Png(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The example in EMVCo QRCPS-MPM, with a Chinese merchant name: its CRC covers UTF-8 bytes.
    const EMVCO_SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

    /// A VietQR issued by a live payment gateway (payOS) for a virtual account, found in a public dump.
    const GATEWAY_SAMPLE: &str = "00020101021238590010A000000727012900069704180115V3CAS62627239240208QRIBFTTA530370454063750005802VN62250821CSPZKHEL6A2 NTK O000463044729";

    /// A VietQR for an MB Bank virtual account, as embedded in a public app.
    const MB_SAMPLE: &str = "00020101021238570010A000000727012700069704220113VQRQACLNP26800208QRIBFTTA530370454061000005802VN62270823Thanh toan don hang ABC6304CE4C";

    fn order() -> VietQr<'static> {
        VietQr { bank_bin: "970436", account: "0011001234567", amount_vnd: 150_000, purpose: "NS-7KQ-4M9-XHC" }
    }

    fn field<'f>(fields: &'f [(String, String)], tag: &str) -> &'f str {
        fields.iter().find(|(t, _)| t == tag).map(|(_, v)| v.as_str()).unwrap()
    }

    #[test]
    fn emvco_sample_crc_is_a13a() {
        let body = EMVCO_SAMPLE.strip_suffix("A13A").unwrap();
        assert_eq!(CRC16.checksum(body.as_bytes()), 0xA13A);
        assert!(crc_ok(EMVCO_SAMPLE));
    }

    #[test]
    fn emvco_sample_parses_with_character_lengths() {
        let fields = parse_tlv(EMVCO_SAMPLE).unwrap();
        assert_eq!(field(&fields, "64"), "0002ZH0104最佳运输0202北京");
        assert_eq!(field(&fields, "54"), "23.72");
        assert_eq!(fields.last().unwrap(), &("63".to_owned(), "A13A".to_owned()));
        let local = parse_tlv(field(&fields, "64")).unwrap();
        assert_eq!(field(&local, "01"), "最佳运输");
    }

    #[test]
    fn matches_payloads_issued_by_banks_and_gateways() {
        let samples = [
            (
                VietQr {
                    bank_bin: "970418",
                    account: "V3CAS6262723924",
                    amount_vnd: 375_000,
                    purpose: "CSPZKHEL6A2 NTK O0004",
                },
                GATEWAY_SAMPLE,
            ),
            (
                VietQr {
                    bank_bin: "970422",
                    account: "VQRQACLNP2680",
                    amount_vnd: 100_000,
                    purpose: "Thanh toan don hang ABC",
                },
                MB_SAMPLE,
            ),
        ];
        for (qr, expected) in samples {
            assert_eq!(qr.payload().unwrap(), expected);
            assert!(crc_ok(expected));
        }
    }

    #[test]
    fn payload_fields_decode_to_the_inputs() {
        let payload = order().payload().unwrap();
        assert!(crc_ok(&payload), "{payload}");
        let fields = parse_tlv(&payload).unwrap();
        let tags: Vec<&str> = fields.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(tags, ["00", "01", "38", "53", "54", "58", "62", "63"]);
        assert_eq!(field(&fields, "00"), "01");
        assert_eq!(field(&fields, "01"), "12");
        assert_eq!(field(&fields, "53"), "704");
        assert_eq!(field(&fields, "54"), "150000");
        assert_eq!(field(&fields, "58"), "VN");
        let merchant = parse_tlv(field(&fields, "38")).unwrap();
        assert_eq!(field(&merchant, "00"), "A000000727");
        assert_eq!(field(&merchant, "02"), "QRIBFTTA");
        let beneficiary = parse_tlv(field(&merchant, "01")).unwrap();
        assert_eq!(field(&beneficiary, "00"), "970436");
        assert_eq!(field(&beneficiary, "01"), "0011001234567");
        let additional = parse_tlv(field(&fields, "62")).unwrap();
        assert_eq!(field(&additional, "08"), "NS-7KQ-4M9-XHC");
        assert!(payload.starts_with("000201010212"));
        assert_eq!(&payload[payload.len() - 8..payload.len() - 4], "6304");
    }

    #[test]
    fn bad_inputs_are_refused_with_the_reason() {
        let ok = order();
        let cases = [
            VietQr { bank_bin: "97043", ..ok },
            VietQr { bank_bin: "9704366", ..ok },
            VietQr { bank_bin: "97043a", ..ok },
            VietQr { account: "", ..ok },
            VietQr { account: "01234567890123456789", ..ok },
            VietQr { account: "0011-001", ..ok },
            VietQr { account: "00110012345é", ..ok },
            VietQr { amount_vnd: 0, ..ok },
            VietQr { amount_vnd: -5, ..ok },
            VietQr { amount_vnd: 10_000_000_000, ..ok },
            VietQr { purpose: "", ..ok },
            VietQr { purpose: "Thanh toán đơn hàng", ..ok },
            VietQr { purpose: "NS-7KQ-4M9-XHC NS-7KQ-4M9-X", ..ok },
            VietQr { purpose: "NS\n7KQ", ..ok },
        ];
        for case in cases {
            let error = case.payload().unwrap_err();
            assert!(error.to_string().starts_with("VietQR "), "{error}");
        }
        assert_eq!(VietQr { amount_vnd: 0, ..ok }.payload(), Err(VietQrError::Amount(0)));
        assert!(VietQr { account: "0123456789012345678", amount_vnd: MAX_AMOUNT_VND, ..ok }.payload().is_ok());
        assert!(VietQr { purpose: "Thanh toan don hang NS-7KQ", ..ok }.payload().is_err());
        assert!(VietQr { purpose: "Thanh toan don hang NS-7K", ..ok }.payload().is_ok());
    }

    #[test]
    fn malformed_tlv_is_reported_where_it_breaks() {
        assert_eq!(parse_tlv(""), Ok(vec![]));
        assert_eq!(parse_tlv("00020101"), Err(VietQrError::Tlv { at: 6, problem: "truncated tag or length" }));
        assert_eq!(
            parse_tlv("0002010103ab"),
            Err(VietQrError::Tlv { at: 6, problem: "value shorter than its length" })
        );
        assert_eq!(
            parse_tlv("000201X10201"),
            Err(VietQrError::Tlv { at: 6, problem: "tag and length must be 4 digits" })
        );
        assert_eq!(parse_tlv("最佳"), Err(VietQrError::Tlv { at: 0, problem: "tag and length must be 4 digits" }));
    }

    #[test]
    fn crc_ok_rejects_short_lowercase_and_missing_tag() {
        let payload = order().payload().unwrap();
        assert!(!crc_ok(""));
        assert!(!crc_ok("6304"));
        assert!(!crc_ok(&payload.to_lowercase()));
        let without_tag = format!("{}{}", &payload[..payload.len() - 8], &payload[payload.len() - 4..]);
        assert!(!crc_ok(&without_tag));
    }

    #[test]
    fn png_is_a_decodable_qr_image() {
        let png = qr_png(&order().payload().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let image = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_luma8();
        assert_eq!(image.width(), image.height());
        assert_eq!(image.width() % 8, 0);
        // Versions run 21, 25, …, 177 modules; plus 4 quiet modules each side.
        let modules = image.width() / 8 - 8;
        assert!(modules >= 21 && (modules - 21).is_multiple_of(4), "{modules}");
        assert!(image.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
        // Quiet zone is white; the top-left finder pattern starts dark right after it.
        assert_eq!(image.get_pixel(0, 0).0[0], 255);
        assert_eq!(image.get_pixel(31, 31).0[0], 255);
        assert_eq!(image.get_pixel(32, 32).0[0], 0);
    }

    #[test]
    fn too_much_data_for_a_qr_is_an_error() {
        let huge = "9".repeat(8000);
        assert!(matches!(qr_png(&huge), Err(VietQrError::Qr(_))));
    }

    proptest! {
        #[test]
        fn any_valid_transfer_round_trips(
            bin in "[0-9]{6}",
            account in "[0-9A-Za-z]{1,19}",
            amount in 1..=MAX_AMOUNT_VND,
            purpose in "[ -~]{1,25}",
        ) {
            let qr = VietQr { bank_bin: &bin, account: &account, amount_vnd: amount, purpose: &purpose };
            let payload = qr.payload().unwrap();
            prop_assert!(crc_ok(&payload));
            let fields = parse_tlv(&payload).unwrap();
            let rebuilt: String = fields.iter().map(|(t, v)| format!("{t}{:02}{v}", v.chars().count())).collect();
            prop_assert_eq!(&rebuilt, &payload);
            prop_assert_eq!(field(&fields, "54").parse::<i64>().unwrap(), amount);
            let merchant = parse_tlv(field(&fields, "38")).unwrap();
            let beneficiary = parse_tlv(field(&merchant, "01")).unwrap();
            prop_assert_eq!(field(&beneficiary, "00"), bin.as_str());
            prop_assert_eq!(field(&beneficiary, "01"), account.as_str());
            let additional = parse_tlv(field(&fields, "62")).unwrap();
            prop_assert_eq!(field(&additional, "08"), purpose.as_str());
        }

        #[test]
        fn crc_catches_any_single_changed_character(
            amount in 1..=MAX_AMOUNT_VND,
            at in any::<prop::sample::Index>(),
            new in b' '..=b'~',
        ) {
            let payload = VietQr { amount_vnd: amount, ..order() }.payload().unwrap();
            let mut bytes = payload.clone().into_bytes();
            let at = at.index(bytes.len());
            prop_assume!(bytes[at] != new);
            bytes[at] = new;
            prop_assert!(!crc_ok(&String::from_utf8(bytes).unwrap()));
        }

        #[test]
        fn parse_tlv_never_panics(input in "\\PC{0,60}") {
            let _ = parse_tlv(&input);
            let _ = crc_ok(&input);
        }
    }
}
