//! `GET/PUT /api/targets?unit=&year=`: a reviewing unit's yearly targets
//! ([`crate::domain::target`]).

use std::collections::BTreeSet;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tramyte_shared::policy::Role;
use tramyte_shared::rest::PutTargets;

use crate::domain::summary::Viewer;
use crate::domain::target::{TargetError, list, replace};
use crate::http::AppState;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;

impl From<TargetError> for ApiError {
    fn from(err: TargetError) -> Self {
        match err {
            TargetError::Store(err) => ApiError::Unavailable(err),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

/// Routes: `GET /api/targets?year=[&unit=]`, `PUT /api/targets?unit=&year=`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/targets", get(get_targets).put(put_targets))
}

#[derive(Debug, Deserialize)]
struct TargetQuery {
    unit: Option<String>,
    year: Option<String>,
}

impl TargetQuery {
    fn year(&self) -> Result<i64, ApiError> {
        self.year
            .as_deref()
            .and_then(|y| y.trim().parse::<i64>().ok())
            .ok_or_else(|| ApiError::BadRequest("year must be given as a number".to_owned()))
    }

    fn unit(&self) -> Option<&str> {
        self.unit
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }
}

/// The answer to both methods.
pub use tramyte_shared::rest::TargetList;

async fn get_targets(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<TargetQuery>,
) -> Result<Json<TargetList>, ApiError> {
    let year = query.year()?;
    let communes: Option<BTreeSet<String>> = viewer.communes().map(|c| c.into_iter().collect());
    Ok(Json(TargetList {
        unit: query.unit().map(str::to_owned),
        year,
        targets: list(&state.store, query.unit(), year, communes.as_ref()).await?,
    }))
}

/// Who may set targets: reviewers of the unit itself, for communes in their scope; provincial
/// administrators for the reviewing units and communes of their subtree
/// ([`crate::domain::unit::Managed`]); system administrators everywhere.
async fn put_targets(
    State(state): State<AppState>,
    who: Authenticated,
    Query(query): Query<TargetQuery>,
    body: Result<Json<PutTargets>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<TargetList>, ApiError> {
    who.require(&[Role::Reviewer, Role::ProvincialAdmin, Role::SystemAdmin])?;
    let Json(body) = body.map_err(|err| ApiError::BadRequest(err.body_text()))?;
    let year = query.year()?;
    let unit = query
        .unit()
        .ok_or_else(|| ApiError::BadRequest("unit must be given".to_owned()))?;
    let session = &who.0;
    if session.user.role == Role::Reviewer && !session.user.units.iter().any(|u| u == unit) {
        return Err(ApiError::Forbidden(format!(
            "only reviewers of {} set its targets",
            unit.chars().take(32).collect::<String>()
        )));
    }
    if session.user.role != Role::SystemAdmin
        && let Some(outside) = body
            .targets
            .iter()
            .find(|t| !session.principal.covers(&t.commune))
    {
        return Err(ApiError::Forbidden(format!(
            "commune {} is outside your scope",
            outside.commune.chars().take(32).collect::<String>()
        )));
    }
    if session.user.role == Role::ProvincialAdmin {
        let managed = crate::http::admin::managed_by(&state, &who).await?;
        if !managed.unit(unit) {
            return Err(ApiError::Forbidden(format!(
                "unit {} is outside the units you manage",
                unit.chars().take(32).collect::<String>()
            )));
        }
        if let Some(outside) = body.targets.iter().find(|t| !managed.commune(&t.commune)) {
            return Err(ApiError::Forbidden(format!(
                "commune {} is outside the units you manage",
                outside.commune.chars().take(32).collect::<String>()
            )));
        }
    }
    replace(&state.store, unit, year, &body.targets).await?;
    let communes: Option<BTreeSet<String>> = Viewer(Some(session.principal.clone()))
        .communes()
        .map(|c| c.into_iter().collect());
    Ok(Json(TargetList {
        unit: Some(unit.to_owned()),
        year,
        targets: list(&state.store, Some(unit), year, communes.as_ref()).await?,
    }))
}
