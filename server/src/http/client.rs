//! Who is on the other end of a request (máy khách): the client's address and whether it came
//! over HTTPS, from the socket, or from the headers of a reverse proxy the operator trusts.
//!
//! tramyte serves plain HTTP; HTTPS ends at a proxy in front of it. Two settings say so:
//! `--secure-cookies` (every session cookie is `Secure`), and `--trusted-proxy ADDR` (requests
//! whose socket peer is one of these addresses are believed about the client's address, the
//! last `X-Forwarded-For` entry, and scheme, `X-Forwarded-Proto: https` makes the cookie
//! `Secure`). Headers from anyone else are ignored, so a client cannot pick the address its
//! sign-in failures count against.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::http::AppState;
use crate::http::error::ApiError;

/// How the server learns about its clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// Mark the session cookie `Secure` on every response (the server is reached over HTTPS).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<IpAddr>,
}

/// The client of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address (its proxy's, when the proxy is not trusted).
    pub address: IpAddr,
    /// Whether the client reached us over HTTPS, as far as we know.
    pub https: bool,
}

impl Client {
    /// Works out the client from the socket peer and, when the peer is a trusted proxy, the
    /// headers it added.
    pub fn of(peer: IpAddr, headers: &HeaderMap, options: &ClientOptions) -> Client {
        let peer = peer.to_canonical();
        if !options.trusted_proxies.contains(&peer) {
            return Client {
                address: peer,
                https: false,
            };
        }
        // The proxy appends the address it saw last; earlier entries are the client's word.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok());
        let https = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next_back())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        Client {
            address: forwarded.map_or(peer, |ip| ip.to_canonical()),
            https,
        }
    }

    /// Whether a cookie set for this client should be `Secure`.
    pub fn secure_cookie(&self, options: &ClientOptions) -> bool {
        options.secure_cookies || self.https
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Without a socket (a router called in-process), the client is this machine.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.ip());
        Ok(Client::of(peer, &parts.headers, &state.client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let sent = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let untrusted = Client::of(proxy, &sent, &ClientOptions::default());
        assert_eq!(untrusted.address, proxy);
        assert!(!untrusted.https);
        let options = ClientOptions {
            secure_cookies: false,
            trusted_proxies: vec![proxy],
        };
        let trusted = Client::of(proxy, &sent, &options);
        assert_eq!(trusted.address, "203.0.113.7".parse::<IpAddr>().unwrap());
        assert!(trusted.https && trusted.secure_cookie(&options));
        let plain = Client::of(proxy, &headers(&[]), &options);
        assert_eq!(plain.address, proxy);
        assert!(!plain.secure_cookie(&options));
        let always = ClientOptions {
            secure_cookies: true,
            trusted_proxies: Vec::new(),
        };
        assert!(plain.secure_cookie(&always));
    }
}
