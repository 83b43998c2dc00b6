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
        if inner.is_data() { field_error(&path, &inner.to_string()) } else { malformed(&inner) }
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
            format!("Malformed JSON (line {line}, column {column}): {error}"),
        ),
    )
}

/// A 422 for a value serde refused. serde reports a missing field at its parent (an unknown one at
/// itself), so that case is re-pointed at the field.
fn field_error(path: &str, message: &str) -> AppError {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    let unknown = message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next());
    let join = |name: &str| if path == "." { name.to_owned() } else { format!("{path}.{name}") };
    let field_error = match (missing, unknown) {
        (Some(name), _) => FieldError::new(
            join(name),
            "required",
            Text::new(format!("Thiếu trường bắt buộc `{name}`."), format!("The field `{name}` is required.")),
        ),
        (_, Some(name)) => FieldError::new(
            path,
            "unknown_field",
            Text::new(format!("Không có trường `{name}`."), format!("There is no field `{name}`.")),
        ),
        _ => FieldError::new(
            if path == "." { "body".to_owned() } else { path.to_owned() },
            "invalid_type",
            Text::new(format!("Giá trị không đúng kiểu: {message}."), format!("Wrong value: {message}.")),
        ),
    };
    AppError::validation(vec![field_error])
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
            field_error(&path, &error.into_inner().to_string()).into()
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
