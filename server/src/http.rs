//! The HTTP surface: health check, REST API and the PWA, assembled into one axum router.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::http::error::ApiError;
use crate::store::Store;
use crate::store::summary::ListedArray;

pub mod admin;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod catalogs;
pub mod client;
pub mod documents;
pub mod encoding;
pub mod error;
pub mod files;
pub mod overview;
pub mod reports;
pub mod rounds;
pub mod sync;
pub mod targets;

/// How long `/healthz` waits for the database before answering 503.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub open: bool,
    pub sync: crate::sync::SyncService,
    /// How clients' addresses and HTTPS are known (cookies, sign-in throttling).
    pub client: crate::http::client::ClientOptions,
    /// Every metric; `/metrics` writes them out.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Where `/metrics` is served (see [`MetricsAccess`]).
    pub metrics_access: MetricsAccess,
    /// The limits on evidence files.
    pub files: crate::domain::file::FileLimits,
}

/// Where `GET /metrics` is served: never on the public port without a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Not on the public port (the default; `--metrics-addr` may serve it on another address).
    #[default]
    Off,
    /// On the public port, to requests with `Authorization: Bearer TOKEN` (`--metrics-token`).
    Token(std::sync::Arc<str>),
}

/// How long a REST request may take before it is answered 408 (downloads of reports get
/// [`DOWNLOAD_TIMEOUT`]); the `/sync` upgrade answers at once and its socket is not limited.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a report or audit download may take.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest JSON body a REST route accepts (413 beyond); the units CSV import has its own.
pub const API_BODY_LIMIT: usize = 256 << 10;

/// The header carrying each request's id, set when the client sent none and echoed back.
const REQUEST_ID: &str = "x-request-id";

/// Request ids: a random prefix per process and a counter (`3f9a…-42`), short and unique across
/// nodes and restarts.
#[derive(Debug, Clone)]
struct RequestIds {
    prefix: std::sync::Arc<str>,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        let mut bytes = [0u8; 4];
        if getrandom::fill(&mut bytes).is_err() {
            bytes = std::process::id().to_le_bytes();
        }
        RequestIds {
            prefix: bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into(),
            next: Default::default(),
        }
    }
}

impl tower_http::request_id::MakeRequestId for RequestIds {
    fn make_request_id<B>(
        &mut self,
        _request: &axum::http::Request<B>,
    ) -> Option<tower_http::request_id::RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        axum::http::HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(tower_http::request_id::RequestId::new)
    }
}

/// The request's id (`x-request-id`), or `-` when it has none.
pub fn request_id_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .map_or_else(|| "-".to_owned(), |id| id.chars().take(64).collect())
}

/// One span per HTTP request, with its id, method and path.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = %request_id_of(request.headers()),
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// The whole application as a router, so tests can call it without a socket.
pub fn router(state: AppState) -> Router {
    use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
    use tower_http::timeout::TimeoutLayer;
    use tower_http::trace::{DefaultOnResponse, TraceLayer};
    let request_id = axum::http::HeaderName::from_static(REQUEST_ID);
    let timeout = |limit| TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limit);
    let rest = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(catalogs::routes())
        .merge(auth::routes())
        .merge(admin::routes())
        .merge(documents::routes())
        .merge(rounds::routes())
        .merge(targets::routes())
        .merge(overview::routes())
        .layer(timeout(REQUEST_TIMEOUT));
    // Uploads and downloads of files take the download's time (10 MiB over a slow line).
    let downloads = Router::new()
        .merge(files::routes(state.files.max_file_bytes))
        .merge(audit::routes())
        .merge(reports::routes())
        .layer(timeout(DOWNLOAD_TIMEOUT));
    Router::new()
        .merge(rest)
        .merge(downloads)
        // The upgrade answers at once; the socket it opens lives on, unlimited by time.
        .route("/sync", get(sync::upgrade))
        // Every matched route is counted under its pattern (never its path: no ids in labels).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT))
        .fallback(crate::http::assets::serve)
        .layer(crate::http::encoding::compress_api())
        .layer(axum::middleware::map_response(security_headers))
        // Outermost last: an id for every request (kept if the client sent one), its span, and
        // the id echoed in the response.
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG)),
        )
        .layer(SetRequestIdLayer::new(request_id, RequestIds::default()))
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

/// Counts one answered request of a matched route: its pattern, method, status and latency.
async fn count_request(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    state.metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `GET /metrics` on the public port: only with the `--metrics-token` as a bearer token; 404
/// when metrics are off this port.
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let MetricsAccess::Token(token) = &state.metrics_access else {
        return ApiError::NotFound.into_response();
    };
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if !presented.is_some_and(|presented| constant_time_eq(presented.as_bytes(), token.as_bytes()))
    {
        return ApiError::Unauthorized("the metrics token is missing or wrong".to_owned())
            .into_response();
    }
    metrics_text(&state).into_response()
}

/// The router of `--metrics-addr`: `GET /metrics` alone, without a token.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { metrics_text(&state) }),
        )
        .with_state(state)
}

fn metrics_text(state: &AppState) -> impl axum::response::IntoResponse + use<> {
    let text = state.metrics.render(state.sync.hub_running());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// Compares without returning early, so the time taken says nothing about the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON answer whose last field, `documents`, is a listing's array: `head` is the answer
/// with `()` in that field (serde writes `"documents":null` last, as the REST types order their
/// fields), and the array takes the place of that `null` as it is ([`ListedArray`]).
pub fn json_ending_in_listing(
    head: &impl serde::Serialize,
    listed: &ListedArray,
) -> Result<axum::response::Response, ApiError> {
    const NULL_LAST: &[u8] = b"\"documents\":null}";
    let mut body = serde_json::to_vec(head).map_err(|err| ApiError::Internal(Box::new(err)))?;
    if !body.ends_with(NULL_LAST) {
        return Err(ApiError::Internal(
            "an answer's documents are not its last field".into(),
        ));
    }
    body.truncate(body.len() - b"null}".len());
    body.reserve_exact(listed.get().len() + 1);
    body.extend_from_slice(listed.get().as_bytes());
    body.push(b'}');
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// The largest indicator sheet `POST /api/catalogs/preview` reads (413 beyond).
pub const SHEET_LIMIT: usize = 4 << 20;

/// The content type of XLSX downloads.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The headers of a download: its type, and the file name the browser saves it under.
pub fn attachment(content_type: &str, file_name: &str) -> [(axum::http::HeaderName, String); 2] {
    [
        (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
        (
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ),
    ]
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
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::new(sync.shared_metrics()));
        AppState {
            store,
            open: false,
            sync,
            client: crate::http::client::ClientOptions::default(),
            metrics,
            metrics_access: MetricsAccess::Token("test-token".into()),
            files: crate::domain::file::FileLimits::default(),
        }
    }

    #[tokio::test]
    async fn a_listing_takes_the_place_of_the_last_field() {
        let listed = ListedArray::from_text(r#"[{"id":"a"},{"id":"b"}]"#);
        let head = tramyte_shared::rest::DocumentList { documents: () };
        let response = json_ending_in_listing(&head, &listed).unwrap();
        assert_eq!(
            response.headers()[axum::http::header::CONTENT_TYPE],
            "application/json"
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"documents": [{"id": "a"}, {"id": "b"}]})
        );

        // Whatever does not end in its documents is refused, not spliced.
        let head = serde_json::json!({"documents": null, "round": 2024});
        assert!(json_ending_in_listing(&head, &listed).is_err());
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
            .oneshot(
                Request::get("/metrics")
                    .header("authorization", "Bearer test-token")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("tramyte_sync_hub_serving 0"));
    }

    #[tokio::test]
    async fn every_answer_carries_a_request_id_and_a_clients_own_is_echoed() {
        let state = state().await;
        let response = router(state.clone())
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(id.contains('-') && id.len() > 2, "{id}");
        let second = router(state.clone())
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_ne!(second.headers()["x-request-id"], id.as_str());
        let echoed = router(state)
            .oneshot(
                Request::get("/api/catalogs")
                    .header("x-request-id", "phone-7")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "phone-7");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_with_413_before_any_handler_reads_it() {
        let big = format!(
            "{{\"user\":\"{}\",\"password\":\"x\"}}",
            "a".repeat(API_BODY_LIMIT)
        );
        let response = router(state().await)
            .oneshot(
                Request::post("/api/session")
                    .header("content-type", "application/json")
                    .body(Body::from(big))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // Just under the limit, the same route reads the body (and refuses the credentials).
        let small = r#"{"user":"nobody","password":"wrong password"}"#;
        let response = router(state().await)
            .oneshot(
                Request::post("/api/session")
                    .header("content-type", "application/json")
                    .body(Body::from(small))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
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
        let new = crate::domain::account::NewUser {
            id: "quantri".into(),
            display_name: "Quản trị (thử)".into(),
            role: tramyte_shared::policy::Role::SystemAdmin,
            person: None,
            units: Vec::new(),
            password: "mật-khẩu-thử-1".into(),
        };
        crate::domain::account::add_user(&state.store, &new)
            .await
            .unwrap();
        let (token, _) =
            crate::domain::account::sign_in(&state.store, "quantri", "mật-khẩu-thử-1", "t")
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
