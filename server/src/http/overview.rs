//! `GET /api/overview?round=`: the reviewer's overview of a round, and `GET
//! /api/overview/months?round=`: its progress against the targets month by month
//! ([`crate::domain::overview`]).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tramyte_shared::policy::Role;

use crate::domain::overview::{MonthProgress, OverviewError, overview, target_progress_by_month};
use crate::domain::summary::Viewer;
use crate::http::error::ApiError;
use crate::http::{AppState, json_ending_in_listing};

impl From<OverviewError> for ApiError {
    fn from(err: OverviewError) -> Self {
        match err {
            OverviewError::List(err) => err.into(),
            OverviewError::Targets(err) => err.into(),
        }
    }
}

/// Routes: `GET /api/overview?round=`, `GET /api/overview/months?round=`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/overview", get(get_overview))
        .route("/api/overview/months", get(get_months))
}

/// The overview is for reviewers and administrators; a round is a year.
fn round_for_reviewers(viewer: &Viewer, query: &OverviewQuery) -> Result<u16, ApiError> {
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
    query
        .round
        .as_deref()
        .and_then(|r| r.trim().parse::<u16>().ok())
        .ok_or_else(|| ApiError::BadRequest("round must be given as a year".to_owned()))
}

async fn get_months(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<Vec<MonthProgress>>, ApiError> {
    let round = round_for_reviewers(&viewer, &query)?;
    let scope = viewer.scope_of();
    let now = crate::store::now_millis();
    Ok(Json(
        target_progress_by_month(&state.store, round, scope.as_deref(), now).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct OverviewQuery {
    round: Option<String>,
}

async fn get_overview(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Result<axum::response::Response, ApiError> {
    let round = round_for_reviewers(&viewer, &query)?;
    let (head, documents) = overview(&state.store, round, viewer.scope_of())
        .await?
        .without_documents();
    json_ending_in_listing(&head, &documents)
}
