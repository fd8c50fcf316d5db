//! `GET /sync`: the websocket of the sync service ([`crate::sync`]), authenticated at the
//! upgrade (open mode excepted).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};

use crate::domain::account;
use crate::http::auth::token_of;
use crate::http::error::ApiError;
use crate::http::{AppState, request_id_of};
use crate::sync::SyncUpgrade;

/// `GET /sync`: upgrades to a websocket speaking the automerge-repo protocol.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    upgrade: SyncUpgrade,
) -> Response {
    let service = state.sync.clone();
    if let Some(refused) = service.screen(addr, &headers) {
        return refused;
    }
    // Authentication happens here, before the upgrade: a client without a valid session never
    // gets a socket (except in open mode, which accepts anyone).
    let session = if service.is_open() {
        None
    } else {
        let Some(token) = token_of(&headers, uri.query()) else {
            return ApiError::Unauthorized("sign in first".to_owned()).into_response();
        };
        match account::authenticate(&state.store, &token).await {
            Ok(session) => Some(session),
            Err(err) => return ApiError::from(err).into_response(),
        }
    };
    service.accept(upgrade, addr, request_id_of(&headers), session)
}
