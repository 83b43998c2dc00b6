//! The web app's files, compiled into the binary from `assets/web/static/`. Each is served under a name that
//! carries a hash of its content (`/static/app.3f2a9c1e.css`), so phones keep it for good and fetch it again
//! only when it changes; gzip is done once, at start-up. The service worker and the manifest keep fixed names:
//! browsers look for them there.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, IF_NONE_MATCH, VARY};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::http::{accepts_gzip, gzip};

/// One file as compiled in.
struct File {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// Served at `/{name}` (never hashed) rather than under `/static/`.
    fixed: bool,
}

macro_rules! file {
    ($name:literal, $content_type:literal) => {
        File {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../assets/web/static/", $name)),
            fixed: false,
        }
    };
    ($name:literal, $content_type:literal, fixed) => {
        File { fixed: true, ..file!($name, $content_type) }
    };
}

const FILES: &[File] = &[
    file!("app.css", "text/css; charset=utf-8"),
    file!("app.js", "text/javascript; charset=utf-8"),
    file!("icons.svg", "image/svg+xml"),
    file!("icon-192.png", "image/png", fixed),
    file!("icon-512.png", "image/png", fixed),
    file!("sw.js", "text/javascript; charset=utf-8", fixed),
    file!("manifest.webmanifest", "application/manifest+json", fixed),
];

/// A file ready to serve.
struct Served {
    file: &'static File,
    gzipped: Option<Bytes>,
    etag: String,
}

struct Catalogue {
    /// Path (`/static/app.3f2a9c1e.css`, `/sw.js`) to file.
    by_path: HashMap<String, Served>,
    /// File name to the path it is served at.
    paths: HashMap<&'static str, String>,
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let mut by_path = HashMap::new();
    let mut paths = HashMap::new();
    for file in FILES {
        let hash = hex::encode(Sha256::digest(file.bytes));
        let path = if file.fixed {
            format!("/{}", file.name)
        } else {
            let (stem, extension) = file.name.rsplit_once('.').unwrap_or((file.name, ""));
            format!("/static/{stem}.{}.{extension}", &hash[..10])
        };
        let compressible = file.content_type.starts_with("text/")
            || file.content_type.contains("svg")
            || file.content_type.contains("json");
        let gzipped = compressible.then(|| gzip(file.bytes).ok()).flatten();
        paths.insert(file.name, path.clone());
        by_path.insert(path, Served { file, gzipped, etag: format!("\"{}\"", &hash[..16]) });
    }
    Catalogue { by_path, paths }
});

/// Where the app's file `name` is served (its content-hashed path).
pub fn path_of(name: &str) -> &'static str {
    CATALOGUE.paths.get(name).map_or("", String::as_str)
}

fn serve(req: &HttpRequest) -> Result<HttpResponse, AppError> {
    let served = CATALOGUE.by_path.get(req.path()).ok_or_else(AppError::not_found)?;
    let seen = req.headers().get(IF_NONE_MATCH).is_some_and(|tag| tag.as_bytes() == served.etag.as_bytes());
    if seen {
        return Ok(HttpResponse::NotModified().insert_header(("ETag", served.etag.as_str())).finish());
    }
    let mut response = HttpResponse::Ok();
    response.insert_header((CONTENT_TYPE, served.file.content_type)).insert_header(("ETag", served.etag.as_str()));
    // Hashed names never change meaning; the fixed ones are checked on every load.
    let caching = if served.file.fixed { "no-cache" } else { "public, max-age=31536000, immutable" };
    response.insert_header((CACHE_CONTROL, caching)).insert_header((VARY, "accept-encoding"));
    match &served.gzipped {
        Some(gzipped) if accepts_gzip(req.headers()) => {
            Ok(response.insert_header((CONTENT_ENCODING, "gzip")).body(gzipped.clone()))
        }
        _ => Ok(response.body(served.file.bytes)),
    }
}

#[get("/static/{file}")]
async fn static_file(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req)
}

#[get("/sw.js")]
async fn service_worker(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req)
}

#[get("/manifest.webmanifest")]
async fn manifest(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req)
}

#[get("/{icon:icon-(192|512)\\.png}")]
async fn icon(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(static_file).service(service_worker).service(manifest).service(icon);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_content_hashed_path_except_the_fixed_ones() {
        assert!(path_of("app.css").starts_with("/static/app.") && path_of("app.css").ends_with(".css"));
        assert_eq!(path_of("sw.js"), "/sw.js");
        assert_eq!(path_of("nope.css"), "");
        for file in FILES {
            assert!(CATALOGUE.by_path.contains_key(path_of(file.name)), "{}", file.name);
        }
    }
}
