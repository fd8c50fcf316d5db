//! Content codings: which one a request's `Accept-Encoding` allows, and gzip for API answers.
//!
//! The PWA's files are compressed once at build time (brotli and gzip files beside each, see
//! `assets`); JSON and CSV answers of the API above [`MIN_COMPRESSED_BYTES`] are gzipped as they
//! go out, since a listing of thousands of communes shrinks to a fraction on slow mobile data.

use std::io::Write;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// API answers smaller than this go as they are (gzip's own header and the CPU are not worth it).
pub const MIN_COMPRESSED_BYTES: usize = 1024;
/// Answers larger than this are compressed on a blocking thread.
const INLINE_BYTES: usize = 64 * 1024;
/// The most an API answer is read into memory to be compressed (they are built in memory).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// A content coding the server can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// The token in `Content-Encoding` (and the suffix of the prebuilt file: `br`, `gz`).
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// The codings among `offered` the request accepts, best first: highest `q` (absent means 1),
/// ties in the order of `offered`. `*` stands for any coding not named; `q=0` refuses.
pub fn accepted(headers: &HeaderMap, offered: &[Coding]) -> Vec<Coding> {
    let mut named: Vec<(String, f32)> = Vec::new();
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            if token.is_empty() {
                continue;
            }
            let q = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            named.push((token, q));
        }
    }
    let quality = |coding: Coding| {
        let aliases: &[&str] = match coding {
            Coding::Brotli => &["br"],
            Coding::Gzip => &["gzip", "x-gzip"],
        };
        named
            .iter()
            .find(|(token, _)| aliases.contains(&token.as_str()))
            .or_else(|| named.iter().find(|(token, _)| token == "*"))
            .map_or(0.0, |(_, q)| *q)
    };
    let mut ranked: Vec<(usize, Coding, f32)> = offered
        .iter()
        .enumerate()
        .map(|(rank, coding)| (rank, *coding, quality(*coding)))
        .filter(|(_, _, q)| *q > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    ranked.into_iter().map(|(_, coding, _)| coding).collect()
}

/// Adds `Accept-Encoding` to a response's `Vary` (its content depends on it).
pub fn vary_on_accept_encoding(headers: &mut HeaderMap) {
    let present = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("accept-encoding"));
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// Middleware: gzips JSON and CSV answers of at least [`MIN_COMPRESSED_BYTES`] when the request
/// accepts gzip. Everything else (the PWA's files, already compressed; websockets; XLSX, a zip)
/// passes untouched.
pub async fn compress_api(request: Request, next: Next) -> Response {
    let gzip = accepted(request.headers(), &[Coding::Gzip]).contains(&Coding::Gzip);
    let response = next.run(request).await;
    let compressible = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/csv"));
    if !compressible || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    vary_on_accept_encoding(&mut parts.headers);
    if !gzip {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(%err, "an API answer could not be read to be compressed");
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if bytes.len() < MIN_COMPRESSED_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let compressed = if bytes.len() <= INLINE_BYTES {
        gzip_bytes(&bytes)
    } else {
        let input = bytes.clone();
        tokio::task::spawn_blocking(move || gzip_bytes(&input))
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err)))
    };
    match compressed {
        Ok(compressed) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(Coding::Gzip.token()),
            );
            Response::from_parts(parts, Body::from(compressed))
        }
        Err(err) => {
            tracing::warn!(%err, "gzip failed; the answer goes uncompressed");
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}

fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::new(6),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(value: &str) -> Vec<Coding> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        accepted(&headers, &[Coding::Brotli, Coding::Gzip])
    }

    #[test]
    fn accept_encoding_ranks_the_codings_the_server_offers() {
        assert_eq!(
            accepts("gzip, deflate, br, zstd"),
            vec![Coding::Brotli, Coding::Gzip]
        );
        assert_eq!(accepts("gzip"), vec![Coding::Gzip]);
        assert_eq!(
            accepts("br;q=0.5, gzip"),
            vec![Coding::Gzip, Coding::Brotli]
        );
        assert_eq!(accepts("br;q=0, *"), vec![Coding::Gzip]);
        assert_eq!(accepts("identity"), vec![]);
        assert_eq!(accepts("*;q=0"), vec![]);
        assert_eq!(accepted(&HeaderMap::new(), &[Coding::Brotli]), vec![]);
    }
}
