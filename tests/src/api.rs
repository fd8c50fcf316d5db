//! Calls to the REST API for tests: JSON in, status and JSON out, with a session token.

use reqwest::StatusCode;
use serde_json::Value;

/// Sends `method path` with an optional JSON body and bearer token; returns the status and the
/// body as JSON (`Value::Null` when it is not JSON).
pub async fn call(
    base_url: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{base_url}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|err| panic!("{path}: {err}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `GET path` as the holder of `token`.
pub async fn get(base_url: &str, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    call(base_url, reqwest::Method::GET, path, token, None).await
}

/// `POST path` with a JSON body.
pub async fn post(
    base_url: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    call(base_url, reqwest::Method::POST, path, token, Some(body)).await
}

/// `PUT path` with a JSON body.
pub async fn put(
    base_url: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    call(base_url, reqwest::Method::PUT, path, token, Some(body)).await
}
