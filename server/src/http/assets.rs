//! The built PWA (`web/dist`), embedded in release binaries and read from disk in debug builds.
//!
//! The build writes `FILE.br` (brotli) and `FILE.gz` (gzip) beside each file that compresses;
//! a file is answered with the best of them the request's `Accept-Encoding` allows (`Vary:
//! Accept-Encoding`), else as it is. Every response carries an `ETag` (the SHA-256 of the bytes
//! sent). Files whose names carry a hash of their content (`name.<16 hex digits>.ext`: the wasm,
//! the scripts, the styles) are `immutable` for a year; every other file (`index.html`, `sw.js`,
//! the manifest, icons) is `no-cache`, so browsers revalidate cheaply and a new deployment is
//! picked up by the service worker at once.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::http::encoding::{self, Coding};

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

/// How long browsers keep a file whose name carries its content's hash.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn respond(path: &str, file: rust_embed::EmbeddedFile, headers: &HeaderMap) -> Response {
    let content_type = content_type(path, file.metadata.mimetype()).to_owned();
    let (coding, file) = encoding::accepted(headers, &[Coding::Brotli, Coding::Gzip])
        .into_iter()
        .find_map(|coding| {
            let suffix = match coding {
                Coding::Brotli => "br",
                Coding::Gzip => "gz",
            };
            Pwa::get(&format!("{path}.{suffix}")).map(|variant| (Some(coding), variant))
        })
        .unwrap_or((None, file));
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
    let cache = if is_fingerprinted(path) {
        IMMUTABLE
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Some(coding) = coding {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    encoding::vary_on_accept_encoding(headers);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    response
}

/// Whether a file's name carries a hash of its content (`name.<16 hex digits>.ext`, as
/// `cargo xtask` names the wasm, the scripts and the styles).
pub fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts.get(parts.len() - 2).is_some_and(|hash| {
            hash.len() == 16 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
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

#[cfg(test)]
mod tests {
    #[test]
    fn names_with_a_content_hash_are_recognised() {
        assert!(super::is_fingerprinted(
            "pkg/tramyte_web_bg.0123456789abcdef.wasm"
        ));
        assert!(super::is_fingerprinted("boot.fedcba9876543210.js"));
        assert!(!super::is_fingerprinted("sw.js"));
        assert!(!super::is_fingerprinted("index.html"));
        assert!(!super::is_fingerprinted("boot.0123456789ABCDEF.js"));
        assert!(!super::is_fingerprinted("icons/icon-192.png"));
    }
}
