//! The HTTP surface: health check, REST API and the PWA, assembled into one axum router.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use tramyte_shared::catalog::Catalog;

use crate::catalog::{self, CatalogSummary, StoredCatalog};
use axum::routing::get;

use crate::error::ApiError;
use crate::store::Store;
use crate::summary::Viewer;

/// How long `/healthz` waits for the database before answering 503.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub open: bool,
    pub sync: crate::sync::SyncService,
    /// How clients' addresses and HTTPS are known (cookies, sign-in throttling).
    pub client: crate::client::ClientOptions,
}

/// The whole application as a router, so tests can call it without a socket.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/catalogs", get(list_catalogs))
        .route("/api/catalogs/{code}", get(get_catalog))
        .route("/sync", get(crate::sync::upgrade))
        .merge(crate::auth::routes())
        .merge(crate::admin::routes())
        .merge(crate::audit::routes())
        .merge(crate::summary::routes())
        .merge(crate::round::routes())
        .merge(crate::target::routes())
        .merge(crate::overview::routes())
        .merge(crate::report::routes())
        .fallback(crate::assets::serve)
        .layer(axum::middleware::from_fn(crate::encoding::compress_api))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// The Content-Security-Policy of every response. The PWA runs under it: scripts only from
/// this origin as files (no inline script, no `eval`), `'wasm-unsafe-eval'` so the browser may
/// compile the app's wasm, styles only from `app.css`, fetches and the `/sync` websocket only to
/// this origin, and no page may frame it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the hardening headers to every response (those a handler set itself are kept).
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// 200 when the sync hub serves and the database answers within [`HEALTH_TIMEOUT`]; 503 with
/// the reason otherwise.
async fn healthz(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Err(reason) = state.sync.serving() {
        tracing::warn!(%reason, "health check: sync is not served");
        let body = serde_json::json!({"error": "unavailable", "message": reason});
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    database_health(&state).await.into_response()
}

async fn database_health(state: &AppState) -> Result<&'static str, ApiError> {
    match tokio::time::timeout(HEALTH_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok("ok"),
        Ok(Err(err)) => Err(ApiError::Unavailable(err)),
        Err(_elapsed) => Err(ApiError::Unavailable(crate::store::StoreError::Query(
            sqlx::Error::PoolTimedOut,
        ))),
    }
}

/// `GET /metrics`: the sync service's counters in the Prometheus text format. No session, like
/// `/healthz`: it holds counts only.
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let text = state.sync.metrics().render(state.sync.hub_running());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// `GET /api/catalogs`: the newest revision of every criteria set.
#[derive(Debug, Serialize)]
struct CatalogList {
    catalogs: Vec<CatalogSummary>,
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn state() -> AppState {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let sync = crate::sync::SyncService::start(
            store.clone(),
            crate::sync::SyncConfig::default(),
            "test".into(),
            tokio_util::sync::CancellationToken::new(),
            tokio_util::task::TaskTracker::new(),
        );
        AppState {
            store,
            open: false,
            sync,
            client: crate::client::ClientOptions::default(),
        }
    }

    #[tokio::test]
    async fn healthz_answers_ok_while_the_database_answers() {
        let state = state().await;
        let response = router(state.clone())
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);

        state.store.close().await;
        let response = router(state)
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn healthz_answers_503_with_the_reason_when_the_sync_hub_stopped() {
        let state = state().await;
        state
            .sync
            .stop_for_test("the hub task panicked: boom (3 restarts within a minute)");
        let response = router(state.clone())
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("the sync hub is not serving: the hub task panicked: boom"),
            "{body}"
        );
        let response = router(state)
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("tramyte_sync_hub_serving 0"));
    }

    #[tokio::test]
    async fn unknown_api_paths_are_404_not_the_app_shell() {
        let response = router(state().await)
            .oneshot(Request::get("/api/nothing").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn catalogs_are_listed_and_served_whole_within_a_session() {
        let state = state().await;
        let app = router(state.clone());
        for path in ["/api/catalogs", "/api/catalogs/QD1300-2023"] {
            let response = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
        let new = crate::account::NewUser {
            id: "quantri".into(),
            display_name: "Quản trị (thử)".into(),
            role: tramyte_shared::policy::Role::SystemAdmin,
            person: None,
            units: Vec::new(),
            password: "mật-khẩu-thử-1".into(),
        };
        crate::account::add_user(&state.store, &new).await.unwrap();
        let (token, _) = crate::account::sign_in(&state.store, "quantri", "mật-khẩu-thử-1", "t")
            .await
            .unwrap();
        let get = |path: &str| {
            Request::get(path)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap()
        };
        let response = app.clone().oneshot(get("/api/catalogs")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(list["catalogs"][0]["code"], "QD1300-2023");
        assert_eq!(list["catalogs"][0]["max_points"], 100);

        let response = app
            .clone()
            .oneshot(get("/api/catalogs/QD1300-2023"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let catalog: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(catalog["criteria"].as_array().unwrap().len(), 10);
        assert_eq!(catalog["criteria"][1]["name_vi"], "Nhân lực y tế");
        // What the server sends is a valid catalog file again.
        tramyte_shared::catalog::parse_catalog(std::str::from_utf8(&body).unwrap()).unwrap();

        let response = app.oneshot(get("/api/catalogs/NOPE")).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
