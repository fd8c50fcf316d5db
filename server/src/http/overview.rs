//! `GET /api/overview?round=`: the reviewer's overview of a round ([`crate::domain::overview`]).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tramyte_shared::policy::Role;

use crate::domain::overview::{Overview, OverviewError, overview};
use crate::domain::summary::Viewer;
use crate::http::AppState;
use crate::http::error::ApiError;

impl From<OverviewError> for ApiError {
    fn from(err: OverviewError) -> Self {
        match err {
            OverviewError::List(err) => err.into(),
            OverviewError::Targets(err) => err.into(),
        }
    }
}

/// Routes: `GET /api/overview?round=`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/overview", get(get_overview))
}

#[derive(Debug, Deserialize)]
struct OverviewQuery {
    round: Option<String>,
}

async fn get_overview(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<Overview>, ApiError> {
    if let Some(principal) = &viewer.0
        && !matches!(
            principal.role,
            Role::Reviewer | Role::ProvincialAdmin | Role::SystemAdmin
        )
    {
        return Err(ApiError::Forbidden(format!(
            "the overview is for reviewers, not a {}",
            principal.role.as_str()
        )));
    }
    let round = query
        .round
        .as_deref()
        .and_then(|r| r.trim().parse::<u16>().ok())
        .ok_or_else(|| ApiError::BadRequest("round must be given as a year".to_owned()))?;
    Ok(Json(
        overview(&state.store, round, viewer.communes()).await?,
    ))
}
