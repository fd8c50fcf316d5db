//! Signing in over HTTP: the session cookie for the PWA, a bearer token or a `token` query
//! parameter for other clients, and the [`Authenticated`] extractor every protected handler
//! takes.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use tramyte_shared::policy::{Role, Scope};
use tramyte_shared::rest::{MAX_NAMES, Me, Names, SignIn, SignedIn};

use crate::domain::account::{self, SESSION_MILLIS, Session};
use crate::http::AppState;
use crate::http::client::Client;
use crate::http::error::ApiError;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "tramyte_session";

/// A request made within a valid session.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Session);

impl Authenticated {
    /// Fails unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.user.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} may not do this",
                self.0.user.role.as_str()
            )))
        }
    }
}

/// The token a request carries: the cookie, then `Authorization: Bearer`, then `?token=`.
pub fn token_of(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let from_cookie = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|cookies| {
            cookies.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == COOKIE_NAME && !value.is_empty()).then(|| value.to_owned())
            })
        });
    let from_bearer = || {
        headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned())
    };
    let from_query = || {
        query?.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == "token" && !value.is_empty()).then(|| value.to_owned())
        })
    };
    from_cookie.or_else(from_bearer).or_else(from_query)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token_of(&parts.headers, parts.uri.query())
            .ok_or_else(|| ApiError::Unauthorized("sign in first".to_owned()))?;
        let session = account::authenticate(&state.store, &token).await?;
        Ok(Authenticated(session))
    }
}

/// Routes: `POST /api/session` (sign in), `DELETE /api/session` (sign out), `GET /api/me`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/session", post(sign_in).delete(sign_out))
        .route("/api/me", axum::routing::get(me))
        .route("/api/names", axum::routing::get(names))
}

#[derive(Debug, Deserialize)]
struct NamesQuery {
    /// User ids, separated by commas.
    #[serde(default)]
    ids: String,
}

/// `GET /api/names?ids=a,b`: people's display names for the user ids the app shows (who set a
/// score, who returned a dossier, who changed what). Only names of people whose communes overlap
/// the asker's come back (and the asker's own): knowing an id is not enough to learn who it is.
async fn names(
    State(state): State<AppState>,
    who: Authenticated,
    axum::extract::Query(query): axum::extract::Query<NamesQuery>,
) -> Result<Json<Names>, ApiError> {
    let ids: Vec<String> = query
        .ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.len() > MAX_NAMES {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_NAMES} ids at once"
        )));
    }
    let names = account::display_names_for(&state.store, &who.0.principal, &ids).await?;
    Ok(Json(Names { names }))
}

/// Who is signed in in `session`, as the PWA keeps it.
fn me_of(session: &Session) -> Me {
    let communes = match &session.principal.scope {
        Scope::All => None,
        Scope::Communes(set) => Some(set.iter().cloned().collect()),
    };
    Me {
        user: session.user.clone(),
        communes,
        expires_at: session.expires_at,
    }
}

/// The session cookie's attributes: `HttpOnly`, `SameSite=Strict`, and `Secure` when the
/// client came over HTTPS ([`Client::secure_cookie`]).
fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "Path=/; HttpOnly; SameSite=Strict; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Strict"
    }
}

async fn sign_in(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> Result<Response, ApiError> {
    let device = body
        .device
        .filter(|d| !d.trim().is_empty())
        .or_else(|| {
            headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown device".to_owned());
    let signed_in = account::sign_in_from(
        &state.store,
        body.user.trim(),
        &body.password,
        &device,
        &crate::domain::throttle::address_key(client.address),
        crate::store::now_millis(),
    )
    .await;
    if matches!(
        signed_in,
        Err(account::AccountError::WrongCredentials | account::AccountError::Disabled)
    ) {
        state.metrics.sign_in_failed();
    }
    let (token, session) = signed_in?;
    let cookie = format!(
        "{COOKIE_NAME}={token}; {}; Max-Age={}",
        cookie_attributes(client.secure_cookie(&state.client)),
        SESSION_MILLIS / 1000
    );
    let mut response = Json(SignedIn {
        me: me_of(&session),
        token,
    })
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

async fn sign_out(
    State(state): State<AppState>,
    client: Client,
    Authenticated(session): Authenticated,
) -> Result<Response, ApiError> {
    account::sign_out(&state.store, &session.token_hash).await?;
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    let cookie = format!(
        "{COOKIE_NAME}=; {}; Max-Age=0",
        cookie_attributes(client.secure_cookie(&state.client))
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

async fn me(Authenticated(session): Authenticated) -> Json<Me> {
    Json(me_of(&session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_cookie_then_bearer_then_query() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            token_of(&headers, Some("a=1&token=q")),
            Some("q".to_owned())
        );
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(token_of(&headers, Some("token=q")), Some("b".to_owned()));
        headers.insert(
            COOKIE,
            HeaderValue::from_static("theme=dark; tramyte_session=c"),
        );
        assert_eq!(token_of(&headers, Some("token=q")), Some("c".to_owned()));
        assert_eq!(token_of(&HeaderMap::new(), None), None);
    }
}
