//! Administration over HTTP: users (add, list, disable, enable, reset a password) and
//! organisation units (import and export as CSV). For system and provincial administrators.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tramyte_shared::policy::Role;

use crate::account::{self, NewUser, User};
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::http::AppState;
use crate::unit::{self, UnitError};

const ADMINS: &[Role] = &[Role::SystemAdmin, Role::ProvincialAdmin];

/// Routes under `/api/users` and `/api/units`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list_users).post(add_user))
        .route("/api/users/{id}/disable", post(disable_user))
        .route("/api/users/{id}/enable", post(enable_user))
        .route("/api/users/{id}/password", post(reset_password))
        .route("/api/units", get(export_units).post(import_units))
}

#[derive(Debug, Serialize)]
struct UserList {
    users: Vec<User>,
}

async fn list_users(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<UserList>, ApiError> {
    who.require(ADMINS)?;
    Ok(Json(UserList {
        users: account::list_users(&state.store).await?,
    }))
}

#[derive(Debug, Deserialize)]
struct AddUser {
    id: String,
    display_name: String,
    role: Role,
    #[serde(default)]
    person: Option<String>,
    #[serde(default)]
    units: Vec<String>,
    password: String,
}

async fn add_user(
    State(state): State<AppState>,
    who: Authenticated,
    Json(body): Json<AddUser>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(ADMINS)?;
    if body.role == Role::SystemAdmin && who.0.user.role != Role::SystemAdmin {
        return Err(ApiError::Forbidden(
            "only a system administrator creates system administrators".to_owned(),
        ));
    }
    let new = NewUser {
        id: body.id,
        display_name: body.display_name,
        role: body.role,
        person: body.person,
        units: body.units,
        password: body.password,
    };
    account::add_user(&state.store, &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(account::find_user(&state.store, &new.id).await?),
    ))
}

async fn guard_target(state: &AppState, who: &Authenticated, id: &str) -> Result<(), ApiError> {
    who.require(ADMINS)?;
    let target = account::find_user(&state.store, id).await?;
    if target.role == Role::SystemAdmin && who.0.user.role != Role::SystemAdmin {
        return Err(ApiError::Forbidden(
            "only a system administrator manages system administrators".to_owned(),
        ));
    }
    Ok(())
}

async fn disable_user(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    guard_target(&state, &who, &id).await?;
    account::set_disabled(&state.store, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable_user(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    guard_target(&state, &who, &id).await?;
    account::set_disabled(&state.store, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct NewPassword {
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
    Json(body): Json<NewPassword>,
) -> Result<StatusCode, ApiError> {
    guard_target(&state, &who, &id).await?;
    account::reset_password(&state.store, &id, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export_units(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<impl IntoResponse, ApiError> {
    who.require(ADMINS)?;
    let units = unit::all(&state.store).await?;
    Ok((
        [(CONTENT_TYPE, "text/csv; charset=utf-8")],
        unit::to_csv(&units),
    ))
}

#[derive(Debug, Serialize)]
struct Imported {
    imported: usize,
}

async fn import_units(
    State(state): State<AppState>,
    who: Authenticated,
    body: String,
) -> Result<Json<Imported>, ApiError> {
    who.require(ADMINS)?;
    match unit::import(&state.store, &body).await {
        Ok(imported) => Ok(Json(Imported { imported })),
        Err(err @ UnitError::Invalid(_)) => Err(ApiError::BadRequest(err.to_string())),
        Err(UnitError::Store(err)) => Err(ApiError::Unavailable(err)),
    }
}
