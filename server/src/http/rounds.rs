//! `POST /api/rounds`: opening a round ([`crate::domain::round`]) for the communes the caller
//! covers.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use tramyte_shared::policy::{Principal, Role, Scope};
use tramyte_shared::rest::OpenedCounts;
use tramyte_shared::sync::DocumentId;

use crate::domain::round::{MoveRound, MovedRound, OPENERS, OpenRound, RoundError, open_round};
use crate::domain::summary::{self, Filter};
use crate::http::AppState;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;

impl From<RoundError> for ApiError {
    fn from(err: RoundError) -> Self {
        match err {
            RoundError::Store(err) => ApiError::Unavailable(err),
            RoundError::OutOfScope(_) | RoundError::NotYourCatalog(_) => {
                ApiError::Forbidden(err.to_string())
            }
            RoundError::Document(_) => ApiError::Internal(Box::new(err)),
            _ => ApiError::BadRequest(err.to_string()),
        }
    }
}

/// Routes: `POST /api/rounds`, `POST /api/rounds/move`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/rounds", post(open))
        .route("/api/rounds/move", post(move_round))
}

/// `POST /api/rounds/move` (administrators): the round's open assessments of a criteria set
/// move to a newer revision; the answer lists, for each, what must be scored again.
async fn move_round(
    State(state): State<AppState>,
    who: Authenticated,
    body: Result<Json<MoveRound>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<MovedRound>, ApiError> {
    who.require(&[Role::ProvincialAdmin, Role::SystemAdmin])?;
    let Json(request) = body.map_err(|err| ApiError::BadRequest(err.body_text()))?;
    let principal = round_scope(&state, &who).await?;
    let moved = crate::domain::round::move_round(&state.store, &principal, &request, "api").await?;
    for assessment in &moved.moved {
        if let Ok(id) = DocumentId::parse(&assessment.id) {
            state.sync.stored_by_server(id).await;
        }
    }
    Ok(Json(moved))
}

/// Who acts on a round, and over which communes: a provincial administrator only over their
/// subtree, not over communes their health department was given to cover elsewhere.
async fn round_scope(state: &AppState, who: &Authenticated) -> Result<Principal, ApiError> {
    let mut principal = who.0.principal.clone();
    if principal.role == Role::ProvincialAdmin
        && let Scope::Communes(communes) = &mut principal.scope
    {
        let managed = crate::http::admin::managed_by(state, who).await?;
        communes.retain(|commune| managed.commune(commune));
    }
    Ok(principal)
}

/// The answer to `POST /api/rounds`.
pub use tramyte_shared::rest::OpenedRound;

async fn open(
    State(state): State<AppState>,
    who: Authenticated,
    body: Result<Json<OpenRound>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<OpenedRound>, ApiError> {
    who.require(OPENERS)?;
    let Json(request) = body.map_err(|err| ApiError::BadRequest(err.body_text()))?;
    let principal = round_scope(&state, &who).await?;
    let opened = open_round(&state.store, Some(&principal), &request, "api").await?;
    let filter = Filter {
        ids: Some(opened.documents.iter().map(DocumentId::to_string).collect()),
        ..Filter::default()
    };
    Ok(Json(OpenedRound {
        counts: OpenedCounts {
            created: opened.created,
            existing: opened.existing,
            assessments: opened.assessments,
            rosters: opened.rosters,
        },
        documents: summary::list(&state.store, &filter).await?,
    }))
}
