//! `GET /api/documents`: the documents a viewer may see, from their summary rows; and how a
//! request becomes a [`Viewer`] (signed in, or anyone in open mode).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::routing::get;
use serde::Deserialize;

use crate::domain::summary::{Filter, ListError, Viewer, list_json};
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::http::{AppState, json_ending_in_listing};

impl From<ListError> for ApiError {
    fn from(err: ListError) -> Self {
        match err {
            ListError::TooMany => ApiError::BadRequest(err.to_string()),
            ListError::Store(err) => ApiError::Unavailable(err),
        }
    }
}

impl axum::extract::FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let has_token = crate::http::auth::token_of(&parts.headers, parts.uri.query()).is_some();
        if state.open && !has_token {
            return Ok(Viewer(None));
        }
        let Authenticated(session) = Authenticated::from_request_parts(parts, state).await?;
        Ok(Viewer(Some(session.principal)))
    }
}

/// Routes: `GET /api/documents`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/documents", get(list_documents))
}

/// Query of `GET /api/documents`: every field optional.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    commune: Option<String>,
    kind: Option<String>,
    round: Option<String>,
    status: Option<String>,
}

impl ListQuery {
    fn filter(self, viewer: &Viewer) -> Result<Filter, ApiError> {
        let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let kind = blank(self.kind);
        if let Some(kind) = &kind
            && kind != "assessment"
            && kind != "roster"
        {
            return Err(ApiError::BadRequest(format!(
                "kind `{}` is not assessment or roster",
                kind.chars().take(40).collect::<String>()
            )));
        }
        let round = match blank(self.round) {
            None => None,
            Some(text) => Some(
                text.trim()
                    .parse::<u16>()
                    .map(i32::from)
                    .map_err(|_| ApiError::BadRequest("round must be a year".to_owned()))?,
            ),
        };
        let status = blank(self.status);
        if let Some(status) = &status
            && tramyte_shared::workflow::Status::parse(status).is_none()
        {
            return Err(ApiError::BadRequest(format!(
                "status must be one of {}",
                tramyte_shared::workflow::Status::ALL
                    .map(|s| s.name())
                    .join(", ")
            )));
        }
        Ok(Filter {
            scope_of: viewer.scope_of(),
            commune: blank(self.commune).map(|c| c.trim().to_owned()),
            kind,
            round,
            status,
            ids: None,
        })
    }
}

/// `GET /api/documents[?commune=&kind=&round=&status=]`: `{"documents": [DocumentRow…]}`,
/// the rows as the store wrote them.
async fn list_documents(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<axum::response::Response, ApiError> {
    let filter = query.filter(&viewer)?;
    let listed = list_json(&state.store, &filter).await?;
    json_ending_in_listing(
        &tramyte_shared::rest::DocumentList { documents: () },
        &listed,
    )
}
