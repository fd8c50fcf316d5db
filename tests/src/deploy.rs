//! A front for the real server that can put a new version of the app in place, as a deployment
//! does: after [`NextVersionFront::deploy_next_version`] it serves the service worker (`/sw.js`)
//! with a new version stamp, and everything else as the server does. Browser tests of the
//! "new version available" banner go through it.
//!
//! It forwards `GET` requests only (what the app shell needs before anyone signs in), without
//! the browser's validators, so every answer is a full `200` the browser compares anew.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// The version stamp's line in `sw.js`, as `cargo xtask` writes it.
const VERSION_LINE: &str = "const VERSION = '";

#[derive(Clone)]
struct Front {
    upstream: String,
    client: reqwest::Client,
    next: Arc<AtomicBool>,
    fetched: Arc<Mutex<Vec<String>>>,
}

/// The running front (stops when dropped).
#[derive(Debug)]
pub struct NextVersionFront {
    url: String,
    next: Arc<AtomicBool>,
    fetched: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl NextVersionFront {
    /// Listens on 127.0.0.1:0 in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> NextVersionFront {
        let next = Arc::new(AtomicBool::new(false));
        let fetched = Arc::new(Mutex::new(Vec::new()));
        let front = Front {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            next: next.clone(),
            fetched: fetched.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a local address");
        let app = Router::new().fallback(forward).with_state(front);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the front serves");
        });
        NextVersionFront {
            url: format!("http://{addr}"),
            next,
            fetched,
            task,
        }
    }

    /// Where the browser goes.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many requests for paths ending with `suffix` the front has forwarded.
    pub fn fetched(&self, suffix: &str) -> usize {
        self.fetched
            .lock()
            .map(|paths| paths.iter().filter(|p| p.ends_with(suffix)).count())
            .unwrap_or_default()
    }

    /// From now on `/sw.js` carries the next version's stamp (`next-` before the current one).
    pub fn deploy_next_version(&self) {
        self.next.store(true, Ordering::SeqCst);
    }
}

impl Drop for NextVersionFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(front): State<Front>, method: Method, uri: Uri) -> Response {
    if method != Method::GET {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "the front forwards GET only",
        )
            .into_response();
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    if let Ok(mut fetched) = front.fetched.lock() {
        fetched.push(uri.path().to_owned());
    }
    let answer = match front
        .client
        .get(format!("{}{path}", front.upstream))
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(err) => return (StatusCode::BAD_GATEWAY, err.to_string()).into_response(),
    };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let Ok(body) = answer.bytes().await else {
        return (StatusCode::BAD_GATEWAY, "the server's answer broke off").into_response();
    };
    let body = if uri.path() == "/sw.js" && front.next.load(Ordering::SeqCst) {
        let text = String::from_utf8_lossy(&body).into_owned();
        if !text.contains(VERSION_LINE) {
            let problem = format!("sw.js has no version stamp line `{VERSION_LINE}…`");
            return (StatusCode::INTERNAL_SERVER_ERROR, problem).into_response();
        }
        text.replacen(VERSION_LINE, &format!("{VERSION_LINE}next-"), 1)
            .into_bytes()
    } else {
        body.to_vec()
    };
    let mut response = (status, body).into_response();
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
