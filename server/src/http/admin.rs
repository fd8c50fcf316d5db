//! Administration over HTTP: users (add, list, disable, enable, reset a password) and
//! organisation units (import and export as CSV). For system and provincial administrators.
//!
//! Administrators are scoped: a provincial administrator sees and changes only what lies in
//! their province's subtree ([`Managed`]): users attached only to units inside it, with a role
//! no higher than their own; units, parents and coverage inside it. System administrators (and
//! the command line, which runs as the server's operator) act everywhere.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tramyte_shared::policy::Role;
use tramyte_shared::rest::{AddUser, Imported, ManagedUnit, NewPassword, UnitList, UserList};

use crate::domain::account::{self, AccountError, NewUser};
use crate::http::AppState;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;

/// The largest units CSV `POST /api/units` accepts (413 beyond).
pub const UNITS_CSV_LIMIT: usize = 16 << 20;
use crate::domain::unit::{self, Managed, UnitError};

const ADMINS: &[Role] = &[Role::SystemAdmin, Role::ProvincialAdmin];

/// Routes under `/api/users` and `/api/units`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list_users).post(add_user))
        .route("/api/users/{id}/disable", post(disable_user))
        .route("/api/users/{id}/enable", post(enable_user))
        .route("/api/users/{id}/password", post(reset_password))
        .route(
            "/api/units",
            get(export_units)
                .post(import_units)
                // A whole country's units, villages included, as CSV.
                .layer(axum::extract::DefaultBodyLimit::max(UNITS_CSV_LIMIT)),
        )
}

/// What the signed-in administrator manages; refuses everyone else.
pub async fn managed(state: &AppState, who: &Authenticated) -> Result<Managed, ApiError> {
    who.require(ADMINS)?;
    managed_by(state, who).await
}

/// What `who` manages, whatever their role: everything for a system administrator, their
/// subtree for anyone else (a reviewer's attached units, for instance).
pub async fn managed_by(state: &AppState, who: &Authenticated) -> Result<Managed, ApiError> {
    if who.0.user.role == Role::SystemAdmin {
        Ok(Managed::Everything)
    } else {
        Ok(unit::managed_subtree(&state.store, &who.0.user.id).await?)
    }
}

/// Roles from the lowest: an administrator gives or manages no role above their own.
fn rank(role: Role) -> usize {
    Role::ALL
        .iter()
        .position(|r| *r == role)
        .unwrap_or(usize::MAX)
}

fn above_own(who: &Authenticated, role: Role) -> bool {
    rank(role) > rank(who.0.user.role)
}

/// The same answer for a user outside the subtree and for one that does not exist, so a
/// provincial administrator learns nothing of other provinces' accounts.
fn not_managed(id: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "user {} is not among the users you manage",
        id.chars().take(64).collect::<String>()
    ))
}

async fn list_users(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<UserList>, ApiError> {
    let managed = managed(&state, &who).await?;
    let users = account::list_users(&state.store)
        .await?
        .into_iter()
        .filter(|user| managed.user(&user.units))
        .collect();
    Ok(Json(UserList { users }))
}

async fn add_user(
    State(state): State<AppState>,
    who: Authenticated,
    Json(body): Json<AddUser>,
) -> Result<impl IntoResponse, ApiError> {
    let managed = managed(&state, &who).await?;
    if above_own(&who, body.role) {
        return Err(ApiError::Forbidden(format!(
            "a {} may not create a {}",
            who.0.user.role.as_str(),
            body.role.as_str()
        )));
    }
    if let Some(outside) = body.units.iter().find(|u| !managed.unit(u)) {
        return Err(ApiError::Forbidden(format!(
            "unit {} is outside the units you manage",
            outside.chars().take(32).collect::<String>()
        )));
    }
    if !managed.user(&body.units) {
        return Err(ApiError::BadRequest(
            "give the user at least one unit you manage".to_owned(),
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

/// Refuses unless `who` manages the user `id`: inside their subtree, no role above their own.
async fn guard_target(state: &AppState, who: &Authenticated, id: &str) -> Result<(), ApiError> {
    let managed = managed(state, who).await?;
    let target = match account::find_user(&state.store, id).await {
        Ok(target) => target,
        Err(AccountError::UnknownUser(_)) if managed != Managed::Everything => {
            return Err(not_managed(id));
        }
        Err(err) => return Err(err.into()),
    };
    if !managed.user(&target.units) {
        return Err(not_managed(id));
    }
    if above_own(who, target.role) {
        return Err(ApiError::Forbidden(format!(
            "a {} does not manage a {}",
            who.0.user.role.as_str(),
            target.role.as_str()
        )));
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

#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

/// `GET /api/units`: the managed units as CSV (the import format), or as JSON with
/// `?format=json`.
async fn export_units(
    State(state): State<AppState>,
    who: Authenticated,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let managed = managed(&state, &who).await?;
    let units = managed.filter_units(unit::all(&state.store).await?);
    if query.format.as_deref() == Some("json") {
        let units = units
            .into_iter()
            .map(|u| ManagedUnit {
                code: u.code,
                kind: u.kind.as_str().to_owned(),
                name: u.name,
                parent: u.parent,
            })
            .collect();
        return Ok(Json(UnitList { units }).into_response());
    }
    Ok((
        [(CONTENT_TYPE, "text/csv; charset=utf-8")],
        unit::to_csv(&units),
    )
        .into_response())
}

async fn import_units(
    State(state): State<AppState>,
    who: Authenticated,
    body: String,
) -> Result<Json<Imported>, ApiError> {
    let managed = managed(&state, &who).await?;
    match unit::import_managed(&state.store, &body, &managed).await {
        Ok(imported) => Ok(Json(Imported { imported })),
        Err(err @ UnitError::Invalid(_)) => Err(ApiError::BadRequest(err.to_string())),
        Err(err @ UnitError::Outside(_)) => Err(ApiError::Forbidden(err.to_string())),
        Err(UnitError::Store(err)) => Err(ApiError::Unavailable(err)),
    }
}
