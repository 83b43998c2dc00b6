//! Messages to phones behind one small interface, as `mail` is for email. SMS goes to text files in
//! `<data dir>/outbox/sms` by default, to any gateway speaking `{"id", "to", "text"}` JSON with `SMS_URL`, or
//! to eSMS.vn with `SMS_PROVIDER=esms`. Zalo ZNS (template messages to a phone's Zalo) is used first when
//! `ZNS_URL` is set and the message kind has a template in `ZNS_TEMPLATES`; the outbox hands a message the
//! ZNS answers cannot take over to SMS.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::config::{Settings, SmsProvider};

/// The eSMS.vn endpoint that sends one message to a list of phones (their public REST API, v4).
const ESMS_URL: &str = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/";
/// eSMS answers `CodeResult` "100" when it accepted the message.
const ESMS_ACCEPTED: &str = "100";

/// ZNS `error` codes that mean this phone cannot get a Zalo message, so waiting would not help: -118 (no Zalo
/// account, or a disabled one), -119 (the account cannot receive ZNS) and -139 (the user refused ZNS).
/// Assumed from Zalo's published ZNS error table; they were not checked against a live account.
pub const ZNS_NOT_REACHABLE: [i64; 3] = [-118, -119, -139];

/// Where SMS go.
#[derive(Clone, Debug)]
enum SmsGateway {
    /// One `.txt` file per message in this folder.
    Files(PathBuf),
    /// `POST {"id", "to", "text"}`; a 2xx is accepted.
    Json(String),
    Esms(Esms),
}

#[derive(Clone, Debug)]
struct Esms {
    url: String,
    api_key: String,
    secret_key: String,
    brandname: String,
    sms_type: String,
}

#[derive(Clone, Debug)]
struct Zns {
    url: String,
    access_token: String,
    /// Message kind → approved template id.
    templates: HashMap<String, String>,
}

/// Everything that sends to phones, built from the settings.
#[derive(Clone, Debug)]
pub struct Phones {
    sms: SmsGateway,
    zns: Option<Zns>,
    /// Send SMS in UCS-2 with Vietnamese diacritics (70 characters a segment) rather than unaccented GSM-7.
    unicode: bool,
}

/// One SMS ready to go: its text as sent and how many segments it costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsText {
    pub text: String,
    pub segments: i32,
}

/// What ZNS made of a message.
#[derive(Debug, PartialEq, Eq)]
pub enum ZnsOutcome {
    Sent,
    /// It cannot go by Zalo (not set up, no template for its kind, or the phone cannot get ZNS): send an SMS.
    UseSms(String),
    /// A failure that may pass: try ZNS again later.
    Failed(String),
}

impl Phones {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Phones> {
        let sms = match (settings.sms_provider, &settings.sms_url) {
            (SmsProvider::Json, Some(url)) => SmsGateway::Json(url.clone()),
            (SmsProvider::Json, None) => SmsGateway::Files(settings.sms_outbox_dir()),
            (SmsProvider::Esms, url) => {
                let required = |value: &Option<String>, name: &str| {
                    value.clone().with_context(|| format!("SMS_PROVIDER=esms needs {name}"))
                };
                SmsGateway::Esms(Esms {
                    url: url.clone().unwrap_or_else(|| ESMS_URL.to_owned()),
                    api_key: required(&settings.esms_api_key, "ESMS_API_KEY")?,
                    secret_key: required(&settings.esms_secret_key, "ESMS_SECRET_KEY")?,
                    brandname: required(&settings.esms_brandname, "ESMS_BRANDNAME")?,
                    sms_type: settings.esms_sms_type.clone(),
                })
            }
        };
        let zns = match &settings.zns_url {
            Some(url) => Some(Zns {
                url: url.clone(),
                access_token: settings.zns_access_token.clone().context("ZNS_URL needs ZNS_ACCESS_TOKEN")?,
                templates: parse_templates(settings.zns_templates.as_deref().unwrap_or_default())?,
            }),
            None => None,
        };
        Ok(Phones { sms, zns, unicode: settings.sms_unicode })
    }

    pub fn backend_name(&self) -> &'static str {
        match self.sms {
            SmsGateway::Files(_) => "files",
            SmsGateway::Json(_) => "json",
            SmsGateway::Esms(_) => "esms",
        }
    }

    /// The SMS `text` becomes, as this service sends it.
    pub fn prepare(&self, text: &str) -> SmsText {
        prepare(text, self.unicode)
    }

    /// Sends one SMS; `id` is stable across retries of the same message (gateways may drop repeats).
    pub async fn send_sms(&self, client: &reqwest::Client, id: &str, to: &str, sms: &SmsText) -> anyhow::Result<()> {
        match &self.sms {
            SmsGateway::Files(dir) => {
                tokio::fs::create_dir_all(dir).await.with_context(|| format!("cannot create {}", dir.display()))?;
                let file = format!("To: {to}\nId: {id}\nSegments: {}\n\n{}\n", sms.segments, sms.text);
                tokio::fs::write(dir.join(format!("{id}.txt")), file).await?;
            }
            SmsGateway::Json(url) => {
                let body = json!({"id": id, "to": to, "text": sms.text});
                let response = client.post(url).json(&body).send().await.map_err(reqwest::Error::without_url)?;
                anyhow::ensure!(response.status().is_success(), "SMS gateway answered {}", response.status());
            }
            SmsGateway::Esms(esms) => {
                let body = json!({
                    "ApiKey": esms.api_key,
                    "SecretKey": esms.secret_key,
                    "Brandname": esms.brandname,
                    "SmsType": esms.sms_type,
                    "Phone": to.trim_start_matches('+'),
                    "Content": sms.text,
                    "IsUnicode": if self.unicode { "1" } else { "0" },
                    "RequestId": id,
                });
                let response = client.post(&esms.url).json(&body).send().await.map_err(reqwest::Error::without_url)?;
                let status = response.status();
                let answer: Value = response.json().await.unwrap_or_default();
                let code = answer.get("CodeResult").and_then(Value::as_str).unwrap_or_default();
                anyhow::ensure!(status.is_success() && code == ESMS_ACCEPTED, "eSMS answered {status} {code}");
            }
        }
        Ok(())
    }

    /// Whether Zalo messages can be tried at all (`ZNS_URL` set).
    pub fn has_zalo(&self) -> bool {
        self.zns.is_some()
    }

    /// Tries a Zalo template message of `kind` with `data` as its parameters.
    pub async fn send_zns(&self, client: &reqwest::Client, id: &str, to: &str, kind: &str, data: &Value) -> ZnsOutcome {
        let Some(zns) = &self.zns else { return ZnsOutcome::UseSms("ZNS not set up".into()) };
        let Some(template_id) = zns.templates.get(kind) else {
            return ZnsOutcome::UseSms(format!("no ZNS template for {kind}"));
        };
        let body = json!({
            "phone": to.trim_start_matches('+'),
            "template_id": template_id,
            "template_data": data,
            "tracking_id": id,
        });
        let sent = client.post(&zns.url).header("access_token", &zns.access_token).json(&body).send().await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return ZnsOutcome::Failed(format!("{:#}", anyhow::Error::from(error.without_url()))),
        };
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or_default();
        zns_outcome(status.as_u16(), &answer)
    }
}

/// Reads what ZNS answered: HTTP 200 with `error` 0 is sent; an unreachable phone's code falls back to SMS
/// whether it came with a 200 or a 4xx; anything else is tried again.
fn zns_outcome(status: u16, answer: &Value) -> ZnsOutcome {
    let error = answer.get("error").and_then(Value::as_i64);
    match error {
        Some(0) if (200..300).contains(&status) => ZnsOutcome::Sent,
        Some(code) if ZNS_NOT_REACHABLE.contains(&code) && (200..500).contains(&status) => {
            ZnsOutcome::UseSms(format!("ZNS error {code}"))
        }
        _ => ZnsOutcome::Failed(format!("ZNS answered {status} error {}", error.unwrap_or_default())),
    }
}

/// `kind=template_id,…` (spaces allowed around each part).
fn parse_templates(setting: &str) -> anyhow::Result<HashMap<String, String>> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((kind, id)) if !kind.trim().is_empty() && !id.trim().is_empty() => {
                Ok((kind.trim().to_owned(), id.trim().to_owned()))
            }
            _ => anyhow::bail!("ZNS_TEMPLATES: `{pair}` is not kind=template_id"),
        })
        .collect()
}

/// Vietnamese without diacritics (`đ` becomes `d`), for GSM-7 SMS. A character GSM-7 lacks becomes `?`.
pub fn unaccented(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c if is_gsm7(c) => c,
            _ => '?',
        })
        .collect()
}

/// In the GSM 03.38 basic set without escapes (the printable ASCII it shares, which is all these texts use).
fn is_gsm7(c: char) -> bool {
    (c.is_ascii_graphic() || c == ' ' || c == '\n')
        && !matches!(c, '[' | ']' | '{' | '}' | '\\' | '^' | '~' | '|' | '`')
}

/// Segments an SMS costs: 160 GSM-7 characters in one, 153 each when split (the rest is the joining
/// header); 70 and 67 for UCS-2.
pub fn segments(text: &str, unicode: bool) -> i32 {
    let (single, part) = if unicode { (70, 67) } else { (160, 153) };
    let length = if unicode { text.encode_utf16().count() } else { text.chars().count() };
    let count = if length <= single { 1 } else { length.div_ceil(part) };
    i32::try_from(count).unwrap_or(i32::MAX)
}

pub fn prepare(text: &str, unicode: bool) -> SmsText {
    let text = if unicode { text.nfc().collect() } else { unaccented(text) };
    SmsText { segments: segments(&text, unicode), text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_loses_its_diacritics_for_gsm7() {
        assert_eq!(unaccented("Đơn mới: Sầu riêng, trả lời trước 08:00"), "Don moi: Sau rieng, tra loi truoc 08:00");
        assert_eq!(unaccented("Không có hàng ~"), "Khong co hang ?");
    }

    #[test]
    fn segments_follow_the_gsm7_and_ucs2_limits() {
        assert_eq!(segments(&"a".repeat(160), false), 1);
        assert_eq!(segments(&"a".repeat(161), false), 2);
        assert_eq!(segments(&"a".repeat(306), false), 2);
        assert_eq!(segments(&"a".repeat(307), false), 3);
        assert_eq!(segments(&"ơ".repeat(70), true), 1);
        assert_eq!(segments(&"ơ".repeat(71), true), 2);
        let sms = prepare("Nông Sản: đơn NS-7KQ-4M9-XHC đã giao xong.", false);
        assert_eq!(sms, SmsText { text: "Nong San: don NS-7KQ-4M9-XHC da giao xong.".into(), segments: 1 });
    }

    #[test]
    fn zns_answers_for_unreachable_phones_fall_back_whether_200_or_4xx() {
        assert_eq!(zns_outcome(200, &json!({"error": 0, "message": "Success"})), ZnsOutcome::Sent);
        for status in [200, 400] {
            let answer = json!({"error": -118, "message": "Zalo account not existed"});
            assert!(matches!(zns_outcome(status, &answer), ZnsOutcome::UseSms(_)), "{status}");
        }
        assert!(matches!(zns_outcome(200, &json!({"error": -124})), ZnsOutcome::Failed(_)));
        assert!(matches!(zns_outcome(500, &json!({"error": -118})), ZnsOutcome::Failed(_)));
        assert!(matches!(zns_outcome(502, &Value::Null), ZnsOutcome::Failed(_)));
    }

    #[test]
    fn zns_templates_are_kind_equals_id_pairs() {
        let templates = parse_templates(" new_order=101, order_placed = 102 ,").expect("valid");
        assert_eq!(templates.get("new_order").map(String::as_str), Some("101"));
        assert_eq!(templates.get("order_placed").map(String::as_str), Some("102"));
        assert!(parse_templates("new_order").is_err());
    }
}
