//! The websocket handshake of `/sync`, done here rather than by axum's `WebSocketUpgrade` so
//! that the socket is tokio-tungstenite's own: axum's `Message` cannot send a message as
//! fragments, which is what keeps a socket's write buffer small ([`super::socket`]).
//!
//! The checks and refusals are axum's (0.8), in its order and words: `GET` (HTTP/1.1 and older;
//! the route never took HTTP/2's `CONNECT`), `Connection: upgrade`, `Upgrade: websocket`, a
//! `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`, and a connection hyper can upgrade. No
//! subprotocol is chosen (none is answered, as before).

use std::future::Future;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::reframe::Reframe;

/// A websocket of `/sync` once upgraded (its reads through [`Reframe`]).
pub type Socket = WebSocketStream<Reframe<TokioIo<Upgraded>>>;

/// A `GET /sync` that asks for a websocket, checked; [`SyncUpgrade::on_upgrade`] answers it.
#[must_use]
pub struct SyncUpgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

impl std::fmt::Debug for SyncUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncUpgrade")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Why a request for a websocket was refused, with axum's status and words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeRefused {
    #[error("Request method must be `GET`")]
    MethodNotGet,
    #[error("Connection header did not include 'upgrade'")]
    InvalidConnectionHeader,
    #[error("`Upgrade` header did not include 'websocket'")]
    InvalidUpgradeHeader,
    #[error("`Sec-WebSocket-Version` header did not include '13'")]
    InvalidWebSocketVersionHeader,
    #[error("`Sec-WebSocket-Key` header missing")]
    WebSocketKeyHeaderMissing,
    #[error("WebSocket request couldn't be upgraded since no upgrade state was present")]
    ConnectionNotUpgradable,
}

impl IntoResponse for UpgradeRefused {
    fn into_response(self) -> Response {
        let status = match self {
            UpgradeRefused::MethodNotGet => StatusCode::METHOD_NOT_ALLOWED,
            UpgradeRefused::ConnectionNotUpgradable => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SyncUpgrade {
    type Rejection = UpgradeRefused;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // HTTP/2's websockets (RFC 8441) use `CONNECT`, which the `GET` route never sees.
        if parts.version > Version::HTTP_11 || parts.method != Method::GET {
            return Err(UpgradeRefused::MethodNotGet);
        }
        if !header_contains(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(UpgradeRefused::InvalidConnectionHeader);
        }
        if !header_eq(&parts.headers, header::UPGRADE, "websocket") {
            return Err(UpgradeRefused::InvalidUpgradeHeader);
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or(UpgradeRefused::WebSocketKeyHeaderMissing)?
            .clone();
        if !header_eq(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return Err(UpgradeRefused::InvalidWebSocketVersionHeader);
        }
        // What `hyper::upgrade::on` takes from a request.
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(UpgradeRefused::ConnectionNotUpgradable)?;
        Ok(SyncUpgrade { key, on_upgrade })
    }
}

impl SyncUpgrade {
    /// Answers `101 Switching Protocols`; once hyper has handed the connection over, runs
    /// `serve` on it as a websocket with `config` (a client's large frames read as fragments,
    /// [`Reframe`]), or `failed` if the upgrade never completes.
    pub fn on_upgrade<F, Fut>(
        self,
        config: WebSocketConfig,
        failed: impl FnOnce(hyper::Error) + Send + 'static,
        serve: F,
    ) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let accept = derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        let max_frame = config.max_frame_size.unwrap_or(usize::MAX);
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        Reframe::new(TokioIo::new(upgraded), max_frame),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    serve(socket).await;
                }
                Err(err) => failed(err),
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        response
    }
}

/// Whether `key`'s value is `value`, ignoring ASCII case.
fn header_eq(headers: &HeaderMap, key: HeaderName, value: &str) -> bool {
    headers
        .get(&key)
        .is_some_and(|header| header.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
}

/// Whether `key`'s value contains `value` (lower case), ignoring ASCII case.
fn header_contains(headers: &HeaderMap, key: HeaderName, value: &str) -> bool {
    headers
        .get(&key)
        .and_then(|header| header.to_str().ok())
        .is_some_and(|header| header.to_ascii_lowercase().contains(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: Method, headers: &[(&str, &str)]) -> Parts {
        let mut request = axum::http::Request::builder().method(method).uri("/sync");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    const HANDSHAKE: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    async fn refused(method: Method, headers: &[(&str, &str)]) -> Option<UpgradeRefused> {
        SyncUpgrade::from_request_parts(&mut parts(method, headers), &())
            .await
            .err()
    }

    #[tokio::test]
    async fn a_request_that_is_not_a_websocket_handshake_is_refused_as_axum_did() {
        assert_eq!(
            refused(Method::POST, &HANDSHAKE).await,
            Some(UpgradeRefused::MethodNotGet)
        );
        assert_eq!(
            refused(Method::GET, &HANDSHAKE[1..]).await,
            Some(UpgradeRefused::InvalidConnectionHeader)
        );
        let without = |name: &str| -> Vec<(&str, &str)> {
            HANDSHAKE.into_iter().filter(|(n, _)| *n != name).collect()
        };
        assert_eq!(
            refused(Method::GET, &without("upgrade")).await,
            Some(UpgradeRefused::InvalidUpgradeHeader)
        );
        assert_eq!(
            refused(Method::GET, &without("sec-websocket-key")).await,
            Some(UpgradeRefused::WebSocketKeyHeaderMissing)
        );
        let mut version_8 = without("sec-websocket-version");
        version_8.push(("sec-websocket-version", "8"));
        assert_eq!(
            refused(Method::GET, &version_8).await,
            Some(UpgradeRefused::InvalidWebSocketVersionHeader)
        );
        // A well-formed handshake on a connection hyper cannot upgrade (no `OnUpgrade`).
        assert_eq!(
            refused(Method::GET, &HANDSHAKE).await,
            Some(UpgradeRefused::ConnectionNotUpgradable)
        );
        let response = UpgradeRefused::ConnectionNotUpgradable.into_response();
        assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
