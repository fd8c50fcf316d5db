//! `/api/catalogs…`: the criteria sets (as JSON, as indicator sheets) and the preview of an
//! imported sheet ([`crate::domain::catalog`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tramyte_shared::catalog::Catalog;
use tramyte_shared::policy::Role;
use tramyte_shared::rest::{CatalogList, CatalogSummary, SheetPreview, SheetProblem, SheetRefused};

use crate::domain::catalog::{self, Access, ImportOutcome, Publisher, StoredCatalog};
use crate::domain::summary::Viewer;
use crate::http::error::ApiError;
use crate::http::{AppState, SHEET_LIMIT, XLSX, attachment};

/// Routes: `GET|POST /api/catalogs`, `/api/catalogs/{code}`, the sheets,
/// `POST /api/catalogs/preview`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/catalogs",
            get(list_catalogs)
                .post(publish_sheet)
                .layer(axum::extract::DefaultBodyLimit::max(SHEET_LIMIT)),
        )
        .route("/api/catalogs/{code}", get(get_catalog))
        .route("/api/catalogs/template.xlsx", get(catalog_template))
        .route("/api/catalogs/{code}/sheet.xlsx", get(catalog_sheet))
        .route(
            "/api/catalogs/preview",
            axum::routing::post(preview_sheet)
                .layer(axum::extract::DefaultBodyLimit::max(SHEET_LIMIT)),
        )
}

/// What the caller may see (see [`Access::of`]).
async fn access(state: &AppState, viewer: &Viewer) -> Result<Access, ApiError> {
    Ok(Access::of(&state.store, viewer.0.as_ref()).await?)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    /// Every revision, not only the newest of each set.
    #[serde(default)]
    all: bool,
}

/// `GET /api/catalogs[?all=true]`: the newest revision (or every revision) of every criteria
/// set the caller may use: the national ones and their province's (all for system
/// administrators).
async fn list_catalogs(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Json<CatalogList>, ApiError> {
    let access = access(&state, &viewer).await?;
    let catalogs = if query.all {
        catalog::all_for(&state.store, &access).await?
    } else {
        catalog::latest_for(&state.store, &access).await?
    };
    Ok(Json(CatalogList {
        catalogs: catalogs.iter().map(StoredCatalog::summary).collect(),
    }))
}

#[derive(Debug, Deserialize)]
struct RevisionQuery {
    revision: Option<u32>,
}

/// A catalog the caller may see; another province's is not found, as a missing one.
async fn visible(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
    revision: Option<u32>,
) -> Result<StoredCatalog, ApiError> {
    let access = access(state, viewer).await?;
    catalog::find_for(&state.store, code, revision, &access)
        .await?
        .visible()
        .ok_or(ApiError::NotFound)
}

/// `GET /api/catalogs/{code}[?revision=N]`: one criteria set in the catalog file format, which
/// the PWA keeps offline. Like every REST call, only within a session (or in open mode).
async fn get_catalog(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<Json<Catalog>, ApiError> {
    let stored = visible(&state, &viewer, &code, query.revision).await?;
    Ok(Json(stored.catalog))
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
    viewer: Viewer,
    Path(code): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<axum::response::Response, ApiError> {
    let stored = visible(&state, &viewer, &code, query.revision).await?;
    let bytes = catalog::sheet::export(&stored.catalog).map_err(sheet_error)?;
    let name = format!(
        "{}-{}.xlsx",
        stored.catalog.code.as_str(),
        stored.catalog.revision
    );
    Ok(xlsx(bytes, &name))
}

/// Refuses anyone but administrators (open mode lets everyone through).
fn require_admin(viewer: &Viewer) -> Result<(), ApiError> {
    if let Some(principal) = &viewer.0
        && !matches!(principal.role, Role::SystemAdmin | Role::ProvincialAdmin)
    {
        return Err(ApiError::Forbidden(
            "only administrators bring indicator sheets".to_owned(),
        ));
    }
    Ok(())
}

/// Reads an indicator sheet whole: the catalog, or the 422 answer with every problem at its
/// cell.
async fn read_sheet(
    body: axum::body::Bytes,
) -> Result<Result<Catalog, axum::response::Response>, ApiError> {
    use axum::response::IntoResponse;
    // Inflating and reading up to 64 MiB of XML is CPU work: off the async workers.
    let read = tokio::task::spawn_blocking(move || catalog::sheet::import(&body))
        .await
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    match read {
        Ok((catalog, _)) => Ok(Ok(catalog)),
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
            Ok(Err(
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            ))
        }
        Err(
            err @ (catalog::sheet::SheetError::NotAWorkbook(_)
            | catalog::sheet::SheetError::TooLarge),
        ) => Err(ApiError::BadRequest(err.to_string())),
        Err(err) => Err(sheet_error(err)),
    }
}

/// `POST /api/catalogs/preview` (an XLSX body, administrators): the catalog as it will be
/// scored, or 422 with every problem at its cell. Stores nothing.
async fn preview_sheet(
    viewer: Viewer,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    require_admin(&viewer)?;
    Ok(match read_sheet(body).await? {
        Ok(catalog) => Json(SheetPreview { catalog }).into_response(),
        Err(refused) => refused,
    })
}

/// `POST /api/catalogs` (an XLSX body, system and provincial administrators): validated whole
/// as the preview is (422 with every problem, nothing stored), then stored as the next revision
/// of its code: 201 with its listing line (200 when the newest revision holds the same already).
/// A provincial administrator's revision belongs to their province; they may not publish into
/// a code that is national or another province's (403).
async fn publish_sheet(
    State(state): State<AppState>,
    viewer: Viewer,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    require_admin(&viewer)?;
    let catalog = match read_sheet(body).await? {
        Ok(catalog) => catalog,
        Err(refused) => return Ok(refused),
    };
    let publisher = match &viewer.0 {
        Some(principal) => Publisher::of(&state.store, principal).await?,
        None => operator(),
    };
    let published = catalog::publish(
        &state.store,
        catalog,
        &publisher,
        crate::store::now_millis(),
    )
    .await;
    let published = match published {
        Ok(published) => published,
        Err(
            err @ (catalog::CatalogStoreError::NotYours { .. }
            | catalog::CatalogStoreError::NoProvince),
        ) => return Err(ApiError::Forbidden(err.to_string())),
        Err(err @ catalog::CatalogStoreError::Busy(_)) => {
            return Err(ApiError::Conflict(err.to_string()));
        }
        Err(err) => return Err(err.into()),
    };
    let status = match published.outcome {
        ImportOutcome::Imported => StatusCode::CREATED,
        ImportOutcome::AlreadyPresent => StatusCode::OK,
    };
    let summary: CatalogSummary = published.stored.summary();
    Ok((status, Json(summary)).into_response())
}

/// Open mode publishes as the operator does: national, by nobody.
fn operator() -> Publisher {
    Publisher {
        user: None,
        access: Access::Everything,
        province: None,
    }
}
