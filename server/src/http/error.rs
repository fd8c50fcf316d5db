//! The one error type of the REST API: logs internals, tells the client only what it can act on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    Throttled {
        message: String,
        retry_after_secs: i64,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("the database is not answering")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::InsufficientStorage(_) => {
                (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<crate::domain::catalog::CatalogStoreError> for ApiError {
    fn from(err: crate::domain::catalog::CatalogStoreError) -> Self {
        use crate::domain::catalog::CatalogStoreError;
        match err {
            CatalogStoreError::Store(err) => ApiError::Unavailable(err),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

impl From<crate::domain::account::AccountError> for ApiError {
    fn from(err: crate::domain::account::AccountError) -> Self {
        use crate::domain::account::AccountError as E;
        match err {
            E::WrongCredentials | E::InvalidSession | E::Disabled => {
                ApiError::Unauthorized(err.to_string())
            }
            E::Throttled { retry_after_secs } => ApiError::Throttled {
                message: err.to_string(),
                retry_after_secs,
            },
            E::UnknownUser(_) => ApiError::NotFound,
            E::Exists(_) => ApiError::Conflict(err.to_string()),
            E::BadUserId(_) | E::WeakPassword | E::UnknownUnit(_) => {
                ApiError::BadRequest(err.to_string())
            }
            E::Hashing(_) => ApiError::Internal(Box::new(err)),
            E::Store(err) => ApiError::Unavailable(err),
        }
    }
}

impl From<crate::domain::file::FileError> for ApiError {
    fn from(err: crate::domain::file::FileError) -> Self {
        use crate::domain::file::FileError as E;
        match err {
            E::BadId(_) | E::HashMismatch { .. } | E::Body(_) => {
                ApiError::BadRequest(err.to_string())
            }
            E::TooLarge { .. } => ApiError::TooLarge(err.to_string()),
            E::UnsupportedType => ApiError::UnsupportedMediaType(err.to_string()),
            E::OverQuota { .. } => ApiError::InsufficientStorage(err.to_string()),
            E::Store(err) => ApiError::Unavailable(err),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        ApiError::Unavailable(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            ApiError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable")
            }
            ApiError::Internal(source) => tracing::error!(error = %source, "internal error"),
            _ => {}
        }
        let retry_after = match &self {
            ApiError::Throttled {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let body = ErrorBody {
            error: code,
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}
