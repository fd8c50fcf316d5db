//! `GET /api/reports?year=&period=h1|year` and its `.csv` and `.xlsx` downloads
//! ([`crate::domain::report`]).

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tramyte_shared::policy::Role;

use crate::domain::report::files::{to_csv, to_xlsx};
use crate::domain::report::{Period, Report, ReportError, RoundReport, parse_year, report};
use crate::domain::summary::Viewer;
use crate::http::AppState;
use crate::http::error::ApiError;

impl From<ReportError> for ApiError {
    fn from(err: ReportError) -> Self {
        match err {
            ReportError::BadYear | ReportError::BadPeriod => ApiError::BadRequest(err.to_string()),
            ReportError::List(err) => err.into(),
            ReportError::Catalog(err) => err.into(),
        }
    }
}

/// Routes: `GET /api/reports`, `/api/reports.csv`, `/api/reports.xlsx`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/reports", get(get_report))
        .route("/api/reports.csv", get(get_csv))
        .route("/api/reports.xlsx", get(get_xlsx))
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    year: Option<String>,
    period: Option<String>,
}

/// Checks the caller may see reports and reads the query; then makes the report.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    query: &ReportQuery,
) -> Result<RoundReport, ApiError> {
    if let Some(principal) = &viewer.0
        && !matches!(
            principal.role,
            Role::Reviewer | Role::ProvincialAdmin | Role::SystemAdmin
        )
    {
        return Err(ApiError::Forbidden(format!(
            "reports are for reviewers, not a {}",
            principal.role.as_str()
        )));
    }
    let year = parse_year(query.year.as_deref())?;
    let period = Period::parse(query.period.as_deref())?;
    Ok(report(&state.store, year, period, viewer.scope_of()).await?)
}

async fn get_report(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(answer(&state, &viewer, &query).await?.report))
}

/// The download headers: content type and `attachment; filename="bao-cao-2024-h1.EXT"`.
fn download(
    report: &Report,
    content_type: &'static str,
    ext: &str,
) -> [(axum::http::HeaderName, String); 2] {
    crate::http::attachment(
        content_type,
        &format!("bao-cao-{}-{}.{ext}", report.year, report.period),
    )
}

async fn get_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ReportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let report = answer(&state, &viewer, &query).await?;
    let body = to_csv(&report).map_err(|err| ApiError::Internal(Box::new(err)))?;
    Ok((
        download(&report.report, "text/csv; charset=utf-8", "csv"),
        body,
    ))
}

async fn get_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ReportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let report = answer(&state, &viewer, &query).await?;
    let body = to_xlsx(&report).map_err(|err| ApiError::Internal(Box::new(err)))?;
    Ok((download(&report.report, crate::http::XLSX, "xlsx"), body))
}
