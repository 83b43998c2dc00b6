//! Listing photos: what a farmer's phone uploads becomes two small, upright, metadata-free JPEGs.
//!
//! Farmers photograph produce on cheap phones and buyers browse on 3G, so every upload is normalised once,
//! on the way in: decoded with hard limits (an upload is untrusted input: a "decompression bomb" must be
//! refused from its header), turned upright from the EXIF orientation, flattened to RGB, shrunk to a
//! display image (long side ≤ 1280 px) and a thumbnail (long side ≤ 320 px), and re-encoded as baseline
//! JPEG. Re-encoding drops every byte of metadata the phone wrote (EXIF with the farm's GPS position, XMP,
//! ICC), which protects the seller's privacy and saves bytes.
//!
//! [`process_photo`] is synchronous and CPU-bound (about a tenth of a second per 12 MP photo on one core,
//! up to ~300 MB of memory for the largest accepted image): the HTTP layer runs it with
//! `tokio::task::spawn_blocking` behind a semaphore with one permit per core, as it does for password
//! hashing, so a burst of uploads queues instead of stalling the runtime or exhausting memory.
//!
//! The results are stored by [`MediaStore`] under names derived from their SHA-256, so a name is a
//! cache-forever URL and storing the same photo twice costs nothing.

mod pipeline;
pub mod sample;
mod store;

use std::borrow::Cow;

use crate::error::{AppError, Kind, Text};

pub use pipeline::{
    DISPLAY_LONG_SIDE, DISPLAY_QUALITY, MAX_DECODE_BYTES, MAX_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES, ProcessedPhoto,
    THUMB_LONG_SIDE, THUMB_QUALITY, process_photo,
};
pub use store::MediaStore;

/// Why an uploaded photo was refused: a stable `code`, the HTTP kind and a message in both languages that
/// says exactly what is wrong (and, where the farmer can do something about it, what to do).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {}", message.en)]
pub struct PhotoError {
    pub kind: Kind,
    /// Stable snake_case code clients can branch on.
    pub code: &'static str,
    pub message: Text,
    /// What the decoder said, for the logs only (never shown: it is English jargon and may echo input).
    pub cause: Option<String>,
}

impl PhotoError {
    fn new(kind: Kind, code: &'static str, vi: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        PhotoError { kind, code, message: Text::new(vi, en), cause: None }
    }

    fn with_cause(mut self, cause: impl ToString) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub(crate) fn empty() -> Self {
        PhotoError::new(
            Kind::Unprocessable,
            "photo_empty",
            "Tệp ảnh trống (0 byte). Hãy chọn lại ảnh.",
            "The photo file is empty (0 bytes). Please choose the photo again.",
        )
    }

    pub(crate) fn too_large(len: usize) -> Self {
        let limit = MAX_UPLOAD_BYTES / (1024 * 1024);
        let got = megabytes(len);
        PhotoError::new(
            Kind::PayloadTooLarge,
            "photo_too_large",
            format!(
                "Ảnh quá lớn ({got} MB): tối đa {limit} MB. Hãy chọn ảnh khác hoặc chụp với độ phân giải thấp hơn."
            ),
            format!(
                "The photo is too large ({got} MB): at most {limit} MB. Choose another photo or take it at a lower \
                 resolution."
            ),
        )
    }

    pub(crate) fn unsupported_format() -> Self {
        PhotoError::new(
            Kind::UnsupportedMediaType,
            "photo_unsupported_format",
            "Tệp này không phải ảnh JPEG, PNG hay WebP. Chỉ nhận ảnh JPEG, PNG hoặc WebP.",
            "This file is not a JPEG, PNG or WebP image. Only JPEG, PNG and WebP photos are accepted.",
        )
    }

    /// A JPEG/PNG/WebP that uses a rare variant the decoder does not read (CMYK, 12-bit, arithmetic coding…).
    pub(crate) fn unsupported_variant(cause: impl ToString) -> Self {
        PhotoError::new(
            Kind::UnsupportedMediaType,
            "photo_unsupported_format",
            "Không đọc được kiểu ảnh đặc biệt này. Chỉ nhận ảnh JPEG, PNG hoặc WebP thông thường: hãy lưu lại ảnh \
             dưới dạng JPEG rồi gửi lại.",
            "This special kind of image cannot be read. Only ordinary JPEG, PNG and WebP photos are accepted: save \
             the photo again as JPEG and resend it.",
        )
        .with_cause(cause)
    }

    pub(crate) fn too_many_pixels(width: u32, height: u32) -> Self {
        let megapixels = u64::from(width) * u64::from(height) / 1_000_000;
        let (max_mp, max_side) = (MAX_PIXELS / 1_000_000, MAX_SIDE);
        PhotoError::new(
            Kind::Unprocessable,
            "photo_too_many_pixels",
            format!(
                "Ảnh quá nhiều điểm ảnh ({width}×{height}, khoảng {megapixels} triệu): tối đa {max_mp} triệu điểm \
                 ảnh và mỗi cạnh tối đa {max_side} điểm ảnh."
            ),
            format!(
                "The photo has too many pixels ({width}×{height}, about {megapixels} megapixels): at most {max_mp} \
                 megapixels and {max_side} pixels per side."
            ),
        )
    }

    /// The decoder's own limits tripped before we knew the dimensions (a second line of defence).
    pub(crate) fn over_decoder_limits(cause: impl ToString) -> Self {
        let (max_mp, max_side) = (MAX_PIXELS / 1_000_000, MAX_SIDE);
        PhotoError::new(
            Kind::Unprocessable,
            "photo_too_many_pixels",
            format!("Ảnh quá nhiều điểm ảnh: tối đa {max_mp} triệu điểm ảnh và mỗi cạnh tối đa {max_side} điểm ảnh."),
            format!("The photo has too many pixels: at most {max_mp} megapixels and {max_side} pixels per side."),
        )
        .with_cause(cause)
    }

    pub(crate) fn corrupt(cause: impl ToString) -> Self {
        PhotoError::new(
            Kind::Unprocessable,
            "photo_corrupt",
            "Không đọc được ảnh: tệp bị hỏng hoặc chưa tải lên hết. Hãy thử gửi lại.",
            "The photo could not be read: the file is damaged or was not uploaded completely. Please try again.",
        )
        .with_cause(cause)
    }

    /// Resizing or encoding failed: our bug, not the farmer's photo.
    pub(crate) fn internal(cause: impl ToString) -> Self {
        PhotoError::new(
            Kind::Internal,
            "photo_processing_failed",
            "Lỗi hệ thống khi xử lý ảnh. Hãy thử lại sau.",
            "A system error occurred while processing the photo. Please try again later.",
        )
        .with_cause(cause)
    }
}

/// Whole megabytes, rounded up, so a 15.2 MB file never reads as "15 MB" next to a 15 MB limit.
fn megabytes(len: usize) -> usize {
    len.div_ceil(1024 * 1024)
}

impl From<PhotoError> for AppError {
    fn from(e: PhotoError) -> AppError {
        let error = AppError::new(e.kind, e.code, e.message);
        match e.cause {
            Some(cause) => error.with_source(anyhow::anyhow!(cause)),
            None => error,
        }
    }
}
