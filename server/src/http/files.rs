//! `PUT /api/files/{sha256}?commune=` and `GET /api/files/{sha256}`: evidence files, uploaded
//! streamed (hashed and sniffed as they come, never held whole) and served to the people who
//! may read a document naming them ([`crate::domain::file`]); and `GET
//! /api/documents/{id}/dossier.zip`, an assessment with its files as one ZIP
//! ([`crate::domain::dossier`]).

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tramyte_shared::policy;
use tramyte_shared::rest::StoredFile;

use crate::domain::file;
use crate::domain::summary::Viewer;
use crate::http::AppState;
use crate::http::error::ApiError;

/// Routes for files; the body limit of the upload is the file limit (the file's own checks
/// answer 413 before it is reached).
pub fn routes(max_file_bytes: u64) -> Router<AppState> {
    let limit = usize::try_from(max_file_bytes.saturating_add(1)).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/api/files/{sha256}",
            get(get_file)
                .put(put_file)
                .layer(DefaultBodyLimit::max(limit)),
        )
        .route("/api/documents/{id}/dossier.zip", get(dossier_zip))
}

/// Query of `PUT /api/files/{sha256}`.
#[derive(Debug, Deserialize)]
struct PutQuery {
    commune: Option<String>,
}

async fn put_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(sha256): Path<String>,
    Query(query): Query<PutQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<StoredFile>), ApiError> {
    let refused = |reason: &'static str| state.metrics.file_upload("refused", reason, 0);
    let Some(commune) = query
        .commune
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
    else {
        refused("bad_request");
        return Err(ApiError::BadRequest(
            "say which commune the file is for: ?commune=<commune code>".to_owned(),
        ));
    };
    if let Some(principal) = &viewer.0
        && !policy::may_upload_file(principal, &commune)
    {
        refused("scope");
        return Err(ApiError::Forbidden(format!(
            "a {} may not upload files for commune {}",
            principal.role.as_str(),
            commune.chars().take(20).collect::<String>()
        )));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let received = file::receive(
        &state.store,
        &state.files,
        &sha256,
        &commune,
        declared,
        body.into_data_stream(),
        crate::store::now_millis(),
    )
    .await;
    match received {
        Ok(stored) => {
            let (status, outcome) = if stored.created {
                (StatusCode::CREATED, "stored")
            } else {
                (StatusCode::OK, "duplicate")
            };
            state.metrics.file_upload(outcome, "none", stored.size);
            Ok((status, Json(stored)))
        }
        Err(err) => {
            refused(err.reason());
            Err(err.into())
        }
    }
}

async fn get_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let file = file::readable(&state.store, viewer.0.as_ref(), &sha256)
        .await?
        .ok_or(ApiError::NotFound)?;
    let content_type = HeaderValue::from_str(&file.media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let body = Body::from_stream(file::read(state.store.clone(), &file));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A PDF is handed to the device's own reader: the site's Content-Security-Policy
    // (`object-src 'none'`) may keep a browser's built-in viewer from showing it inline, and
    // phones download PDFs anyway. Images open in the page.
    if file.media_type == "application/pdf"
        && let Ok(value) = HeaderValue::from_str(&format!(
            "attachment; filename=\"minh-chung-{}.pdf\"",
            &sha256[..sha256.len().min(12)]
        ))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /api/documents/{id}/dossier.zip`: the assessment's summary, its evidence entries and
/// every evidence file on the server, for those who may read it (404 otherwise, as for no
/// document). Streamed as it is written.
async fn dossier_zip(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    use tramyte_shared::sync::DocumentId;
    use tramyte_shared::sync::hub::load_chunks;
    let id = DocumentId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let chunks = crate::store::document::load(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut doc = load_chunks(&chunks).map_err(|err| ApiError::Internal(Box::new(err)))?;
    if let Some(principal) = &viewer.0
        && !policy::may_read(principal, doc.document())
    {
        return Err(ApiError::NotFound);
    }
    let view = tramyte_shared::assessment::read_assessment(&doc)
        .map_err(|_| ApiError::BadRequest("only an assessment has a dossier".to_owned()))?;
    let summary = crate::domain::summary::stored(&state.store, id).await?;
    let plan =
        crate::domain::dossier::plan(&state.store, &view, summary.as_ref().map(|s| &s.record))
            .await
            .map_err(|err| ApiError::Internal(Box::new(err)))?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let store = state.store.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let out = std::io::BufWriter::with_capacity(64 << 10, ChannelWriter(sender.clone()));
        let written = crate::domain::dossier::write_zip(out, &plan, |blob, seq| {
            runtime.block_on(crate::store::file::read_part(&store, blob, seq))
        });
        if let Err(err) = written {
            tracing::warn!(error = %err, "a dossier download stopped");
            let _ = sender.blocking_send(Err(std::io::Error::other(err.to_string())));
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let name = format!("ho-so-{}-{}.zip", view.commune, view.round);
    Ok((
        crate::http::attachment("application/zip", &name),
        Body::from_stream(stream),
    )
        .into_response())
}

/// Sends what the ZIP writer writes to the response, a buffer at a time (the channel's bound
/// holds the writer back when the client reads slowly).
struct ChannelWriter(tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(buf.to_vec()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
