//! Content codings: which one a request's `Accept-Encoding` allows, and gzip for API answers.
//!
//! The PWA's files are compressed once at build time (brotli and gzip files beside each, see
//! `assets`); JSON and CSV answers of the API above [`MIN_COMPRESSED_BYTES`] are gzipped as they
//! go out, since a listing of thousands of communes shrinks to a fraction on slow mobile data.

use axum::http::{HeaderMap, HeaderValue, header};

/// API answers smaller than this go as they are (gzip's own header and the CPU are not worth it).
pub const MIN_COMPRESSED_BYTES: usize = 1024;
const _: () = assert!(MIN_COMPRESSED_BYTES <= u16::MAX as usize);

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

/// The layer that gzips JSON and CSV answers of at least [`MIN_COMPRESSED_BYTES`] when the
/// request accepts gzip, as they stream out (tower-http). Everything else (the PWA's files, already
/// compressed; websockets; XLSX, a zip) passes untouched.
pub fn compress_api()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{Predicate, SizeAbove};
    let json_or_csv = |_: axum::http::StatusCode,
                       _: axum::http::Version,
                       headers: &HeaderMap,
                       _: &axum::http::Extensions| {
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/csv"))
    };
    tower_http::compression::CompressionLayer::new()
        .no_br()
        .no_deflate()
        .no_zstd()
        .compress_when(SizeAbove::new(MIN_COMPRESSED_BYTES as u16).and(json_or_csv))
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
