//! JSON body and query extractors whose failures are specific problems: malformed JSON is 400 with the
//! position, a wrong or missing field is 422 naming the field, a non-JSON body is 415, too big is 413.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError, Kind, Text};

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<ApiJson<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json_content_type(req);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(AppError::new(
                    Kind::UnsupportedMediaType,
                    "unsupported_media_type",
                    Text::new(
                        "Nội dung phải là JSON (Content-Type: application/json).",
                        "The body must be JSON (Content-Type: application/json).",
                    ),
                )
                .into());
            }
            let body = body.await.map_err(body_error)?;
            Ok(ApiJson(parse_json(&body)?))
        })
    }
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(CONTENT_TYPE) else { return true };
    let Ok(value) = value.to_str() else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn body_error(error: actix_web::Error) -> AppError {
    match error.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => AppError::new(
            Kind::PayloadTooLarge,
            "payload_too_large",
            Text::new("Dữ liệu gửi lên quá lớn.", "The request body is too large."),
        ),
        _ => AppError::new(
            Kind::BadRequest,
            "unreadable_body",
            Text::new("Không đọc được nội dung yêu cầu.", "The request body could not be read."),
        ),
    }
}

/// Parses a JSON document, naming the offending field on failure. Every request body is a JSON object
/// (serde would also read a struct from an array of its fields' values).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|error| malformed(&error))?;
        return Err(AppError::invalid_field(
            "body",
            "invalid_type",
            Text::new("Nội dung phải là một đối tượng JSON.", "The body must be a JSON object."),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() { field_error(&path, &inner.to_string(), Source::Body) } else { malformed(&inner) }
    })?;
    deserializer.end().map_err(|error| malformed(&error))?;
    Ok(value)
}

fn malformed(error: &serde_json::Error) -> AppError {
    let (line, column) = (error.line(), error.column());
    AppError::new(
        Kind::BadRequest,
        "malformed_json",
        Text::new(
            format!("JSON không hợp lệ (dòng {line}, cột {column})."),
            format!("Malformed JSON (line {line}, column {column})."),
        ),
    )
}

/// Where a refused value came from: the JSON body or the query string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Body,
    Query,
}

/// A 422 for a value serde refused, naming the field and saying what it expects in plain words: serde's
/// own text never reaches a person. serde reports a missing field at its parent (an unknown or repeated one
/// at the parent too), so those are re-pointed at the field.
fn field_error(path: &str, message: &str, source: Source) -> AppError {
    let named = |prefix: &str| message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_owned);
    let join = |name: &str| if path == "." { name.to_owned() } else { format!("{path}.{name}") };
    let here = match (path, source) {
        (".", Source::Body) => "body".to_owned(),
        (".", Source::Query) => "query".to_owned(),
        (path, _) => path.to_owned(),
    };
    let field_error = if let Some(name) = named("missing field `") {
        FieldError::new(
            join(&name),
            "required",
            Text::new(format!("Thiếu trường bắt buộc `{name}`."), format!("The field `{name}` is required.")),
        )
    } else if let Some(name) = named("unknown field `") {
        FieldError::new(
            here,
            "unknown_field",
            Text::new(format!("Không có trường `{name}`."), format!("There is no field `{name}`.")),
        )
    } else if let Some(name) = named("duplicate field `") {
        FieldError::new(
            join(&name),
            "repeated",
            Text::new(format!("`{name}` chỉ được gửi một lần."), format!("`{name}` may be given only once.")),
        )
    } else {
        let (vi, en) = expectation(message);
        FieldError::new(here.clone(), "invalid_type", Text::new(format!("`{here}` {vi}."), format!("`{here}` {en}.")))
    };
    AppError::validation(vec![field_error])
}

/// What a refused value should have been, from serde's description of it, in Vietnamese and English.
fn expectation(message: &str) -> (String, String) {
    // serde_json ends its messages with " at line L column C".
    let message = message.split(" at line ").next().unwrap_or(message);
    let expected = message.rsplit_once("expected ").map_or("", |(_, expected)| expected);
    if let Some((_, choices)) = message.split_once("expected one of ") {
        let choices = choices.replace('`', "");
        return (format!("phải là một trong: {choices}"), format!("must be one of: {choices}"));
    }
    let whole = |(vi, en): (&str, &str)| (format!("phải là một số nguyên{vi}"), format!("must be a whole number{en}"));
    match expected {
        "i64" | "i32" | "i16" | "i8" => whole(("", "")),
        "u64" | "u32" | "u16" | "u8" | "usize" => whole((" không âm", " of 0 or more")),
        "f64" | "f32" => ("phải là một số".into(), "must be a number".into()),
        "a boolean" => ("phải là true hoặc false".into(), "must be true or false".into()),
        "a string" | "a borrowed string" => {
            ("phải là chữ (trong dấu ngoặc kép)".into(), "must be text (in quotes)".into())
        }
        "a sequence" => ("phải là một danh sách [...]".into(), "must be a list [...]".into()),
        _ if expected.starts_with("struct ") || expected == "a map" => {
            ("phải là một đối tượng {...}".into(), "must be an object {...}".into())
        }
        _ if message.contains("untagged enum") => (
            "phải là một số hoặc chữ, ví dụ 25000 hoặc \"25k\"".into(),
            "must be a number or text, e.g. 25000 or \"25k\"".into(),
        ),
        _ if message.contains("invalid digit")
            || message.contains("parse integer")
            || message.contains("too large") =>
        {
            whole(("", ""))
        }
        _ if message.contains("input") => (
            "phải là ngày (YYYY-MM-DD) hoặc thời điểm RFC 3339, ví dụ 2026-11-23T08:00:00Z".into(),
            "must be a date (YYYY-MM-DD) or an RFC 3339 time, e.g. 2026-11-23T08:00:00Z".into(),
        ),
        _ => ("không đúng dạng".into(), "is not in the expected form".into()),
    }
}

/// Query-string parameters, with the same field-naming errors as [`ApiJson`].
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<ApiQuery<T>, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        )));
        std::future::ready(parsed.map(ApiQuery).map_err(|error| {
            let path = error.path().to_string();
            field_error(&path, &error.into_inner().to_string(), Source::Query).into()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        listing_id: i64,
        quantity: u32,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Basket {
        items: Vec<Item>,
    }

    fn field_of(error: &AppError) -> (&str, &str) {
        (error.errors[0].field.as_str(), error.errors[0].code)
    }

    #[test]
    fn refused_values_are_explained_without_parser_text() {
        let english = |body: &[u8]| {
            let error = parse_json::<Basket>(body).expect_err("refused");
            error.errors[0].message.en.to_string()
        };
        assert_eq!(
            english(br#"{"items":[{"listing_id":"x","quantity":1}]}"#),
            "`items[0].listing_id` must be a whole number."
        );
        assert_eq!(
            english(br#"{"items":[{"listing_id":1,"quantity":-1}]}"#),
            "`items[0].quantity` must be a whole number of 0 or more."
        );
        assert_eq!(english(br#"{"items":{}}"#), "`items` must be a list [...].");
        for message in ["invalid digit found in string", "data did not match any variant of untagged enum NumberOrText"]
        {
            let (vi, en) = expectation(message);
            assert!(!vi.contains("enum") && !en.contains("digit") && !en.contains("enum"), "{vi} / {en}");
        }
        assert_eq!(
            expectation("unknown variant `card`, expected one of `cod`, `bank_transfer`").1,
            "must be one of: cod, bank_transfer"
        );
        let repeated = field_error(".", "duplicate field `limit`", Source::Query);
        assert_eq!((repeated.errors[0].field.as_str(), repeated.errors[0].code), ("limit", "repeated"));
    }

    #[test]
    fn malformed_json_is_400_with_position() {
        let error = parse_json::<Basket>(b"{\"items\": [").expect_err("malformed");
        assert_eq!((error.kind, error.code), (Kind::BadRequest, "malformed_json"));
        let error = parse_json::<Basket>(b"{\"items\": []} trailing").expect_err("trailing");
        assert_eq!(error.code, "malformed_json");
        assert_eq!(parse_json::<Basket>(b"").expect_err("empty").code, "malformed_json");
    }

    #[test]
    fn wrong_missing_and_unknown_fields_are_named() {
        let wrong = parse_json::<Basket>(br#"{"items":[{"listing_id":1,"quantity":"many"}]}"#).expect_err("type");
        assert_eq!(wrong.kind, Kind::Unprocessable);
        assert_eq!(field_of(&wrong), ("items[0].quantity", "invalid_type"));
        let missing = parse_json::<Basket>(br#"{"items":[{"listing_id":1}]}"#).expect_err("missing");
        assert_eq!(field_of(&missing), ("items[0].quantity", "required"));
        let missing_top = parse_json::<Basket>(b"{}").expect_err("missing");
        assert_eq!(field_of(&missing_top), ("items", "required"));
        let unknown = parse_json::<Basket>(br#"{"items":[{"listing_id":1,"quantity":1,"x":2}]}"#).expect_err("unknown");
        assert_eq!(field_of(&unknown), ("items[0].x", "unknown_field"));
        let top = parse_json::<Basket>(b"42").expect_err("not an object");
        assert_eq!(field_of(&top), ("body", "invalid_type"));
        let array = parse_json::<Basket>(b" [[]]").expect_err("an array of the fields");
        assert_eq!((array.kind, field_of(&array)), (Kind::Unprocessable, ("body", "invalid_type")));
        assert_eq!(parse_json::<Basket>(b"[").expect_err("malformed").code, "malformed_json");
    }
}
