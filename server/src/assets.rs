//! The built PWA (`web/dist`), embedded in release binaries and read from disk in debug builds.
//!
//! Every response carries an `ETag` (the file's SHA-256) and `Cache-Control: no-cache`, so browsers
//! revalidate cheaply and a new deployment is picked up by the service worker at once.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

/// The files produced by `cargo xtask` in `web/dist`.
#[derive(Embed)]
#[folder = "../web/dist/"]
#[allow_missing = true]
struct Pwa;

/// The page that boots the app; served for every path that is a client-side route.
const INDEX: &str = "index.html";

/// Whether the PWA was built into (or next to) this binary.
pub fn pwa_is_built() -> bool {
    Pwa::get(INDEX).is_some()
}

/// Serves a file of the PWA, or the app shell for client-side routes (paths without an extension).
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { INDEX } else { path };
    if let Some(file) = Pwa::get(path) {
        return respond(path, file, &headers);
    }
    let is_route = !path.rsplit('/').next().unwrap_or_default().contains('.');
    let reserved = path.starts_with("api/") || path == "sync";
    if is_route && !reserved {
        if let Some(file) = Pwa::get(INDEX) {
            return respond(INDEX, file, &headers);
        }
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The web app is not built into this server. Build it with `cargo xtask run`.",
        )
            .into_response();
    }
    (StatusCode::NOT_FOUND, "Not found").into_response()
}

fn respond(path: &str, file: rust_embed::EmbeddedFile, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(content_type(path, file.metadata.mimetype())) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    response
}

/// The content type, with the PWA's own extensions that generic tables get wrong or miss.
fn content_type<'a>(path: &str, guessed: &'a str) -> &'a str {
    if path.ends_with(".webmanifest") {
        "application/manifest+json"
    } else if path.ends_with(".wasm") {
        "application/wasm"
    } else if path.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else if path.ends_with(".html") {
        "text/html; charset=utf-8"
    } else if path.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        guessed
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}
