//! `/api/catalogs…`: the criteria sets (as JSON, as indicator sheets) and the preview of an
//! imported sheet ([`crate::domain::catalog`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tramyte_shared::catalog::Catalog;
use tramyte_shared::rest::{CatalogList, SheetPreview, SheetProblem, SheetRefused};

use crate::domain::catalog::{self, StoredCatalog};
use crate::domain::summary::Viewer;
use crate::http::error::ApiError;
use crate::http::{AppState, SHEET_LIMIT, XLSX, attachment};

/// Routes: `GET /api/catalogs`, `/api/catalogs/{code}`, the sheets, `POST /api/catalogs/preview`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/catalogs", get(list_catalogs))
        .route("/api/catalogs/{code}", get(get_catalog))
        .route("/api/catalogs/template.xlsx", get(catalog_template))
        .route("/api/catalogs/{code}/sheet.xlsx", get(catalog_sheet))
        .route(
            "/api/catalogs/preview",
            axum::routing::post(preview_sheet)
                .layer(axum::extract::DefaultBodyLimit::max(SHEET_LIMIT)),
        )
}

/// `GET /api/catalogs`: the newest revision of every criteria set.
async fn list_catalogs(
    State(state): State<AppState>,
    _signed_in: Viewer,
) -> Result<Json<CatalogList>, ApiError> {
    let catalogs = catalog::latest(&state.store).await?;
    Ok(Json(CatalogList {
        catalogs: catalogs.iter().map(StoredCatalog::summary).collect(),
    }))
}

#[derive(Debug, Deserialize)]
struct RevisionQuery {
    revision: Option<u32>,
}

/// `GET /api/catalogs/{code}[?revision=N]`: one criteria set in the catalog file format, which
/// the PWA keeps offline. Like every REST call, only within a session (or in open mode).
async fn get_catalog(
    State(state): State<AppState>,
    _signed_in: Viewer,
    Path(code): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<Json<Catalog>, ApiError> {
    match catalog::find(&state.store, &code, query.revision).await? {
        Some(stored) => Ok(Json(stored.catalog)),
        None => Err(ApiError::NotFound),
    }
}

/// An XLSX download.
fn xlsx(bytes: Vec<u8>, name: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (attachment(XLSX, name), bytes).into_response()
}

fn sheet_error(err: catalog::sheet::SheetError) -> ApiError {
    ApiError::Internal(Box::new(err))
}

/// `GET /api/catalogs/template.xlsx`: the indicator sheet to fill (bảng chấm điểm).
async fn catalog_template(_signed_in: Viewer) -> Result<axum::response::Response, ApiError> {
    let bytes = catalog::sheet::template().map_err(sheet_error)?;
    Ok(xlsx(bytes, "bang-cham-diem-mau.xlsx"))
}

/// `GET /api/catalogs/{code}/sheet.xlsx[?revision=N]`: a catalog as an indicator sheet.
async fn catalog_sheet(
    State(state): State<AppState>,
    _signed_in: Viewer,
    Path(code): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<axum::response::Response, ApiError> {
    let stored = catalog::find(&state.store, &code, query.revision)
        .await?
        .ok_or(ApiError::NotFound)?;
    let bytes = catalog::sheet::export(&stored.catalog).map_err(sheet_error)?;
    let name = format!(
        "{}-{}.xlsx",
        stored.catalog.code.as_str(),
        stored.catalog.revision
    );
    Ok(xlsx(bytes, &name))
}

/// `POST /api/catalogs/preview` (an XLSX body, administrators): the catalog as it will be
/// scored, or 422 with every problem at its cell. Stores nothing.
async fn preview_sheet(
    Viewer(viewer): Viewer,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    use tramyte_shared::policy::Role;
    if let Some(principal) = &viewer
        && !matches!(principal.role, Role::SystemAdmin | Role::ProvincialAdmin)
    {
        return Err(ApiError::Forbidden(
            "only administrators bring indicator sheets".to_owned(),
        ));
    }
    // Inflating and reading up to 64 MiB of XML is CPU work: off the async workers.
    let read = tokio::task::spawn_blocking(move || catalog::sheet::import(&body))
        .await
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    match read {
        Ok((catalog, _)) => Ok(Json(SheetPreview { catalog }).into_response()),
        Err(catalog::sheet::SheetError::Problems(problems)) => {
            let problems: Vec<SheetProblem> = problems
                .into_iter()
                .map(|problem| SheetProblem {
                    cell: problem.cell.to_string(),
                    sheet: problem.cell.sheet.to_owned(),
                    row: problem.cell.row,
                    column: problem.cell.column_letter(),
                    message: problem.message,
                })
                .collect();
            let body = SheetRefused {
                error: "invalid_sheet".to_owned(),
                message: format!(
                    "{} problem(s) in the sheet; nothing was kept",
                    problems.len()
                ),
                problems,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
        Err(
            err @ (catalog::sheet::SheetError::NotAWorkbook(_)
            | catalog::sheet::SheetError::TooLarge),
        ) => Err(ApiError::BadRequest(err.to_string())),
        Err(err) => Err(sheet_error(err)),
    }
}
