//! Validated domain values and the parsers that make them from what people type.
//!
//! Each parser returns [`Invalid`] with a stable code and a message that says what was wrong in words a
//! farmer understands; the HTTP layer attaches the field name.

pub mod account;
pub mod money;
pub mod phone;
pub mod quantity;
pub mod reading;
pub mod status;
pub mod text;
pub mod weight;

use crate::error::{FieldError, Text};

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: Text,
}

impl Invalid {
    pub fn new(code: &'static str, vi: impl Into<String>, en: impl Into<String>) -> Invalid {
        Invalid { code, message: Text::new(vi.into(), en.into()) }
    }

    /// The same problem, as the error of one request field.
    pub fn at(self, field: &str) -> FieldError {
        FieldError::new(field, self.code, self.message)
    }
}

/// Unwraps several `Result<T, FieldError>` at once, or returns a 422 listing every invalid field:
/// `let (phone, pin) = validate!(phone, pin);`
#[macro_export]
macro_rules! validate {
    ($($field:ident),+ $(,)?) => {
        match ($($field,)+) {
            ($(Ok($field),)+) => ($($field),+),
            ($($field,)+) => {
                return Err($crate::error::AppError::validation(
                    [$($field.err()),+].into_iter().flatten().collect(),
                ))
            }
        }
    };
}
