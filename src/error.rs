//! The one error type of the service and its RFC 9457 `application/problem+json` form.
//!
//! Handlers and extractors return [`AppError`]; the problem renderer (`http::render_problems`) turns it (and
//! any other 4xx/5xx that actix produces) into a problem document in the caller's language. Internal causes
//! are logged there, never sent. A leaf: it imports nothing of this crate.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::{FromRequest, HttpRequest, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The language of the texts a caller reads: Vietnamese unless they ask for English.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    /// Picks from `Accept-Language` the preferred of the languages we speak (highest `q`, first wins ties).
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let mut best = (Lang::Vi, 0.0_f32);
        for part in header.unwrap_or_default().split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("en") => Lang::En,
                Some("vi") => Lang::Vi,
                _ => continue,
            };
            if quality > best.1 {
                best = (lang, quality);
            }
        }
        best.0
    }

    pub fn of(req: &HttpRequest) -> Lang {
        Lang::from_accept_language(req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
    }
}

impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Lang, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(Lang::of(req)))
    }
}

/// A message in both languages; the caller's [`Lang`] picks one when the response is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub vi: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Text {
    pub fn new(vi: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Text {
        Text { vi: vi.into(), en: en.into() }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// What went wrong, as far as HTTP is concerned. Each kind has one status and one title.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl Kind {
    pub fn status(self) -> StatusCode {
        match self {
            Kind::BadRequest => StatusCode::BAD_REQUEST,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(self) -> Text {
        let (vi, en) = match self {
            Kind::BadRequest => ("Yêu cầu không hợp lệ", "Bad request"),
            Kind::Unauthorized => ("Cần đăng nhập", "Authentication required"),
            Kind::Forbidden => ("Không có quyền", "Not allowed"),
            Kind::NotFound => ("Không tìm thấy", "Not found"),
            Kind::MethodNotAllowed => ("Phương thức không được hỗ trợ", "Method not allowed"),
            Kind::Conflict => ("Xung đột dữ liệu", "Conflict"),
            Kind::PayloadTooLarge => ("Dữ liệu gửi lên quá lớn", "Payload too large"),
            Kind::UnsupportedMediaType => ("Định dạng dữ liệu không được hỗ trợ", "Unsupported media type"),
            Kind::Unprocessable => ("Dữ liệu chưa đúng", "Invalid data"),
            Kind::TooManyRequests => ("Quá nhiều yêu cầu", "Too many requests"),
            Kind::Unavailable => ("Dịch vụ tạm thời gián đoạn", "Service temporarily unavailable"),
            Kind::Internal => ("Lỗi hệ thống", "Internal error"),
        };
        Text::new(vi, en)
    }

    /// The `code` used when nothing more specific is known (e.g. errors raised by actix itself).
    pub fn default_code(self) -> &'static str {
        match self {
            Kind::BadRequest => "bad_request",
            Kind::Unauthorized => "unauthenticated",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not_found",
            Kind::MethodNotAllowed => "method_not_allowed",
            Kind::Conflict => "conflict",
            Kind::PayloadTooLarge => "payload_too_large",
            Kind::UnsupportedMediaType => "unsupported_media_type",
            Kind::Unprocessable => "validation_failed",
            Kind::TooManyRequests => "rate_limited",
            Kind::Unavailable => "service_unavailable",
            Kind::Internal => "internal_error",
        }
    }

    pub fn from_status(status: StatusCode) -> Kind {
        match status.as_u16() {
            401 => Kind::Unauthorized,
            403 => Kind::Forbidden,
            404 => Kind::NotFound,
            405 => Kind::MethodNotAllowed,
            409 => Kind::Conflict,
            413 => Kind::PayloadTooLarge,
            415 => Kind::UnsupportedMediaType,
            422 => Kind::Unprocessable,
            429 => Kind::TooManyRequests,
            503 => Kind::Unavailable,
            400..=499 => Kind::BadRequest,
            _ => Kind::Internal,
        }
    }
}

/// One invalid field of a request, for the `errors` list of a validation problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: Text) -> FieldError {
        FieldError { field: field.into(), code, message }
    }
}

/// The service's one error type; boxed, so `Result`s stay small on the happy path.
#[derive(Debug)]
pub struct AppError(Box<ErrorDetails>);

#[derive(Debug)]
pub struct ErrorDetails {
    pub kind: Kind,
    /// Stable snake_case code clients can branch on.
    pub code: &'static str,
    pub detail: Option<Text>,
    pub errors: Vec<FieldError>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
    /// The methods a path does allow, for 405.
    allow: Option<String>,
    /// Logged, never sent.
    source: Option<anyhow::Error>,
}

impl std::ops::Deref for AppError {
    type Target = ErrorDetails;

    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl AppError {
    pub fn new(kind: Kind, code: &'static str, detail: Text) -> AppError {
        AppError(Box::new(ErrorDetails { code, detail: Some(detail), ..ErrorDetails::bare(kind) }))
    }

    /// A 422 listing every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> AppError {
        let mut error = AppError::new(
            Kind::Unprocessable,
            "validation_failed",
            Text::new("Một số thông tin chưa đúng.", "Some fields are invalid."),
        );
        error.0.errors = errors;
        error
    }

    /// A 422 for a single field.
    pub fn invalid_field(field: &str, code: &'static str, message: Text) -> AppError {
        AppError::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn not_found() -> AppError {
        AppError::new(
            Kind::NotFound,
            "not_found",
            Text::new("Không tìm thấy nội dung bạn yêu cầu.", "The requested resource was not found."),
        )
    }

    /// An error whose cause must be logged but not shown: the caller sees a plain 500.
    pub fn internal(source: impl Into<anyhow::Error>) -> AppError {
        AppError::bare(Kind::Internal).with_source(source)
    }

    /// An error of a kind with its default code and no detail.
    pub fn bare(kind: Kind) -> AppError {
        AppError(Box::new(ErrorDetails::bare(kind)))
    }

    pub fn unavailable(code: &'static str, detail: Text, source: impl Into<anyhow::Error>) -> AppError {
        let mut error = AppError::new(Kind::Unavailable, code, detail).with_source(source);
        error.set_retry_after(1);
        error
    }

    /// The answer when the database cannot be reached or is overloaded: 503, cause logged.
    pub fn database_unavailable(source: impl Into<anyhow::Error>) -> AppError {
        AppError::unavailable(
            "database_unavailable",
            Text::new(
                "Cơ sở dữ liệu tạm thời không phản hồi, vui lòng thử lại sau giây lát.",
                "The database is not responding right now; please retry in a moment.",
            ),
            source,
        )
    }

    pub fn with_source(mut self, source: impl Into<anyhow::Error>) -> AppError {
        self.0.source = Some(source.into());
        self
    }

    /// Lists the fields or items a conflict is about (e.g. each short listing of an order).
    pub fn set_errors(&mut self, errors: Vec<FieldError>) {
        self.0.errors = errors;
    }

    pub fn set_retry_after(&mut self, seconds: u64) {
        self.0.retry_after = Some(seconds);
    }

    pub fn with_allow(mut self, methods: String) -> AppError {
        self.0.allow = Some(methods);
        self
    }

    pub fn source_error(&self) -> Option<&anyhow::Error> {
        self.source.as_ref()
    }

    pub fn problem(&self, lang: Lang, request_id: Option<&str>) -> Problem {
        let status = self.kind.status();
        Problem {
            r#type: format!("https://nongsan.vn/problems/{}", self.code.replace('_', "-")),
            title: self.kind.title().get(lang).to_owned(),
            status: status.as_u16(),
            detail: self.detail.as_ref().map(|d| d.get(lang).to_owned()),
            code: self.code.to_owned(),
            errors: self
                .errors
                .iter()
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    code: e.code.to_owned(),
                    message: e.message.get(lang).to_owned(),
                })
                .collect(),
            request_id: request_id.map(str::to_owned),
        }
    }
}

impl ErrorDetails {
    fn bare(kind: Kind) -> ErrorDetails {
        ErrorDetails {
            kind,
            code: kind.default_code(),
            detail: None,
            errors: Vec::new(),
            retry_after: None,
            allow: None,
            source: None,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code, self.kind.status())?;
        if let Some(source) = &self.source {
            write!(f, ": {source:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    // The body is written by the problem renderer, which knows the caller's language.
    fn error_response(&self) -> actix_web::HttpResponse {
        let mut response = actix_web::HttpResponse::build(self.status_code());
        if let Some(allow) = &self.allow {
            response.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
        }
        response.finish()
    }
}

/// One invalid field is a 422 listing it.
impl From<FieldError> for AppError {
    fn from(error: FieldError) -> AppError {
        AppError::validation(vec![error])
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::not_found(),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => AppError::database_unavailable(error),
            // SQLite answers "database is locked" when busy_timeout runs out: a transient overload.
            Error::DatabaseError(_, ref info) if info.message().contains("database is locked") => {
                AppError::database_unavailable(error)
            }
            other => AppError::internal(other),
        }
    }
}

/// RFC 9457 problem details, as sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the problem type.
    pub r#type: String,
    /// Short summary in the caller's language.
    pub title: String,
    pub status: u16,
    /// What happened, in the caller's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable snake_case code.
    pub code: String,
    /// Invalid fields (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// The `X-Request-Id` of the request, to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// Path of the field in the request, e.g. `items[0].quantity`.
    pub field: String,
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_defaults_to_vietnamese_and_honours_quality() {
        assert_eq!(Lang::from_accept_language(None), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("fr-FR")), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("en")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("vi;q=0.9, en;q=0.8")), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("vi;q=0.5, en-GB;q=0.8")), Lang::En);
    }

    #[test]
    fn problem_uses_the_requested_language_and_keeps_the_code() {
        let error = AppError::invalid_field("q", "q_required", Text::new("Cần từ khóa", "Query needed"));
        let vi = error.problem(Lang::Vi, Some("r1"));
        let en = error.problem(Lang::En, None);
        assert_eq!((vi.status, vi.code.as_str()), (422, "validation_failed"));
        assert_eq!(vi.title, "Dữ liệu chưa đúng");
        assert_eq!(en.title, "Invalid data");
        assert_eq!(en.errors[0].message, "Query needed");
        assert_eq!(vi.request_id.as_deref(), Some("r1"));
    }
}
