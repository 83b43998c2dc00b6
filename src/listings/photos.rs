//! Photo upload (`POST /api/v1/media`) and serving (`GET /media/…`). Decoding and resizing run on the
//! blocking pool, at most one per core at a time, so a burst of 12 MP uploads queues instead of taking
//! all memory or starving the async workers.

use std::sync::LazyLock;

use actix_multipart::Multipart;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use super::media_url;
use super::store::{self, NewMedia};
use crate::audit;
use crate::auth::ActingFarmer;
use crate::auth::rate_limit::Throttles;
use crate::db::Db;
use crate::domain::status::{AuditAction, ConsentPurpose};
use crate::error::{AppError, Kind, Problem, Text};
use crate::media::{MAX_UPLOAD_BYTES, MediaStore, ProcessedPhoto, process_photo};
use crate::state::AppState;

static PIPELINE_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));

/// A multipart form with the photo in the field `photo` (JPEG, PNG or WebP, up to 15 MB).
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the request body for OpenAPI; the handler streams the form itself.
pub struct PhotoUpload {
    #[schema(value_type = String, format = Binary)]
    photo: Vec<u8>,
}

/// A stored photo: a display size (long side ≤ 1280 px) and a thumbnail (≤ 320 px), both metadata-free.
#[derive(Serialize, ToSchema)]
pub struct Photo {
    pub id: i64,
    pub url: String,
    pub thumb_url: String,
    pub width: i32,
    pub height: i32,
    /// Size of the display image.
    pub bytes: i32,
}

fn bad_form(code: &'static str, vi: &str, en: &str) -> AppError {
    AppError::new(Kind::BadRequest, code, Text::new(vi.to_owned(), en.to_owned()))
}

/// A multipart form as read: its text fields and the bytes of its `photo` field (a field left without a file
/// counts as none).
#[derive(Default)]
pub struct Parts {
    pub fields: Vec<(String, String)>,
    pub photo: Option<Vec<u8>>,
}

impl Parts {
    /// The text of field `name`, when sent.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(field, _)| field == name).map(|(_, value)| value.as_str())
    }
}

/// The text fields of a form may hold this much in all (the photo has its own limit).
const FIELDS_LIMIT: usize = 64 * 1024;

fn too_large() -> AppError {
    AppError::new(
        Kind::PayloadTooLarge,
        "photo_too_large",
        Text::new("Ảnh quá lớn: tối đa 15 MB.", "The photo is too large: 15 MB at most."),
    )
}

/// Reads a multipart form, refusing more than the upload limit as soon as it is passed.
pub async fn read_parts(mut form: Multipart) -> Result<Parts, AppError> {
    let mut parts = Parts::default();
    let mut text_bytes = 0;
    while let Some(field) = form.next().await {
        let mut field = field
            .map_err(|_| bad_form("multipart_invalid", "Biểu mẫu tải ảnh bị lỗi.", "The upload form is malformed."))?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "photo" { MAX_UPLOAD_BYTES } else { FIELDS_LIMIT - text_bytes };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|_| bad_form("multipart_invalid", "Tải ảnh bị gián đoạn.", "The upload was interrupted."))?;
            if bytes.len() + chunk.len() > limit {
                return Err(if name == "photo" { too_large() } else { AppError::bare(Kind::PayloadTooLarge) });
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "photo" {
            parts.photo = parts.photo.or(Some(bytes).filter(|bytes| !bytes.is_empty()));
        } else {
            text_bytes += bytes.len();
            let text = String::from_utf8(bytes)
                .map_err(|_| bad_form("multipart_invalid", "Biểu mẫu bị lỗi.", "The form is malformed."))?;
            parts.fields.push((name, text));
        }
    }
    Ok(parts)
}

async fn run_pipeline(bytes: Vec<u8>) -> Result<ProcessedPhoto, AppError> {
    let _slot = PIPELINE_SLOTS.acquire().await.map_err(AppError::internal)?;
    let processed = tokio::task::spawn_blocking(move || process_photo(&bytes)).await.map_err(AppError::internal)?;
    Ok(processed?)
}

fn to_i32(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Uploads a produce photo (a helper may upload for a farmer; audited).
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("X-On-Behalf-Of" = Option<i64>, Header, description = "Helpers: the farmer acted for")),
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = Photo),
        (status = 400, description = "Malformed form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Farmers, and their helpers while the farmer consents (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such farmer in the helper's team", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More than 15 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JPEG, PNG or WebP, or not a multipart form", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Corrupt, truncated or too many pixels", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many photos for this farmer today; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/media")]
async fn upload_photo(
    state: web::Data<AppState>,
    req: HttpRequest,
    acting: ActingFarmer,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_form {
        return Err(AppError::new(
            Kind::UnsupportedMediaType,
            "multipart_required",
            Text::new(
                "Gửi ảnh bằng biểu mẫu multipart/form-data, trường `photo`.",
                "Send the photo as multipart/form-data in the field `photo`.",
            ),
        ));
    }
    let parts = read_parts(Multipart::new(req.headers(), payload)).await?;
    let bytes = parts.photo.ok_or_else(|| {
        AppError::invalid_field(
            "photo",
            "photo_required",
            Text::new("Hãy gửi ảnh trong trường `photo`.", "Send the photo in the form field `photo`."),
        )
    })?;
    Ok(HttpResponse::Created().json(store_photo(&state, &acting, bytes).await?))
}

/// Stores a produce photo for the farmer (display size and thumbnail, metadata stripped), audited when a helper
/// uploads it: the one path of `POST /media` and of a photo posted with a web form.
pub async fn store_photo(state: &AppState, acting: &ActingFarmer, bytes: Vec<u8>) -> Result<Photo, AppError> {
    acting.may(ConsentPurpose::ListProduce)?;
    Throttles::of(state).photo_upload(acting.farmer_id).await?;
    let processed = run_pipeline(bytes).await?;
    let display = state.media.save(&processed.display, "jpg").await.map_err(AppError::internal)?;
    let thumb = state.media.save(&processed.thumb, "jpg").await.map_err(AppError::internal)?;
    let (width, height, size) =
        (to_i32(processed.width as usize), to_i32(processed.height as usize), to_i32(processed.display.len()));
    let (display_name, thumb_name, now, acting) = (display.clone(), thumb.clone(), state.clock.now(), acting.clone());
    let id = state
        .db
        .write(move |conn| {
            let photo = NewMedia {
                owner_id: acting.farmer_id,
                display_name: &display_name,
                thumb_name: &thumb_name,
                width,
                height,
                bytes: size,
                created_at: now,
            };
            let id = store::insert_media(conn, &photo)?;
            audit::record_acting(conn, &acting, AuditAction::UploadPhoto, Some(id.to_string()), now)?;
            Ok(id)
        })
        .await?;
    Ok(Photo { id, url: media_url(&display), thumb_url: media_url(&thumb), width, height, bytes: size })
}

/// A photo no listing shows is deleted once it is this old.
pub const UNATTACHED_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Photos looked at per cleanup pass; the next pass takes the rest.
const CLEANUP_BATCH: i64 = 200;

/// Deletes photos uploaded more than a day before `now` that no listing shows, rows then files: how many.
/// Each row is claimed by a conditional delete, so instances running this at once delete each row once; a
/// file goes only when no row names it any more (the same photo uploaded twice is one file).
pub async fn remove_unattached(db: &Db, files: &MediaStore, now: NaiveDateTime) -> Result<usize, AppError> {
    let cutoff = now - UNATTACHED_FOR;
    let candidates = db.read(move |conn| store::unattached_media(conn, cutoff, CLEANUP_BATCH)).await?;
    let mut removed = 0;
    for (id, display, thumb) in candidates {
        let unused = db
            .write(move |conn| {
                if !store::delete_unattached_media(conn, id, cutoff)? {
                    return Ok(None);
                }
                let mut unused = Vec::new();
                for name in [display, thumb] {
                    if !store::media_file_in_use(conn, &name)? {
                        unused.push(name);
                    }
                }
                Ok(Some(unused))
            })
            .await?;
        let Some(unused) = unused else { continue };
        removed += 1;
        for name in unused {
            files.remove(&name).await.map_err(AppError::internal)?;
        }
    }
    Ok(removed)
}

/// A stored photo. Names derive from the content, so a name never changes meaning: cached for a year.
#[utoipa::path(
    tag = "listings",
    params(("shard" = String, Path, description = "First two hex digits"), ("name" = String, Path, description = "File name")),
    responses(
        (status = 200, description = "The JPEG", content_type = "image/jpeg", body = crate::http::Binary),
        (status = 404, description = "No such photo", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{shard}/{name}")]
async fn serve_photo(state: web::Data<AppState>, path: web::Path<(String, String)>) -> Result<HttpResponse, AppError> {
    let (shard, name) = path.into_inner();
    let file = state.media.path_of(&format!("{shard}/{name}")).ok_or_else(AppError::not_found)?;
    let bytes = tokio::fs::read(file).await.map_err(|_| AppError::not_found())?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/jpeg"))
        .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes))
}

pub fn upload_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload_photo);
}

pub fn serving_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(serve_photo);
}
