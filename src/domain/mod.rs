//! Validated domain values and the parsers that make them from what people type.

pub mod text;
