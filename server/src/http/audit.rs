//! `GET /api/documents/{id}/audit.csv` and `GET /api/documents/{id}/history`: a document's
//! provenance ([`crate::domain::audit`]) for those who may read it.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use tramyte_shared::policy;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::hub::load_chunks;

use crate::domain::audit::{AuditRow, audit_rows, iso8601};
use crate::http::AppState;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::store::document;

/// Routes for a document's audit and field history.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/documents/{id}/audit.csv", get(audit_csv))
        .route("/api/documents/{id}/history", get(history))
}

/// Loads a document the caller may read, or 404 (the same answer as for no document at all).
async fn readable_rows(
    state: &AppState,
    who: &Authenticated,
    id: &str,
) -> Result<Vec<AuditRow>, ApiError> {
    let id = DocumentId::parse(id).map_err(|_| ApiError::NotFound)?;
    let chunks = document::load(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut doc = load_chunks(&chunks).map_err(|err| ApiError::Internal(Box::new(err)))?;
    if !policy::may_read(&who.0.principal, doc.document()) {
        return Err(ApiError::NotFound);
    }
    let provenance = document::provenance(&state.store, id).await?;
    Ok(audit_rows(doc.document(), &provenance))
}

async fn audit_csv(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let rows = readable_rows(&state, &who, &id).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "received_at",
        "change_time",
        "user",
        "device",
        "field",
        "old",
        "new",
        "change",
    ];
    writer
        .write_record(header)
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    for row in rows {
        let received = if row.received_at > 0 {
            iso8601(row.received_at)
        } else {
            String::new()
        };
        // Every cell is text from the document or its senders: neutralised for spreadsheets.
        let text = crate::domain::export::text_cell;
        writer
            .write_record([
                text(&received).as_ref(),
                &text(&iso8601(row.change_time)),
                &text(&row.user),
                &text(&row.device),
                &text(&row.field),
                &text(&row.old),
                &text(&row.new),
                &text(&row.change),
            ])
            .map_err(|err| ApiError::Internal(Box::new(err)))?;
    }
    let body = writer
        .into_inner()
        .map_err(|err| ApiError::Internal(Box::new(err.into_error())))?;
    let name = format!("audit-{}.csv", id.chars().take(40).collect::<String>());
    Ok((
        crate::http::attachment("text/csv; charset=utf-8", &name),
        body,
    ))
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    path: String,
}

async fn history(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    let rows = readable_rows(&state, &who, &id).await?;
    let prefix = format!("{}.", query.path);
    Ok(Json(
        rows.into_iter()
            .filter(|row| row.field == query.path || row.field.starts_with(&prefix))
            .collect(),
    ))
}
