//! The `users`, `user_units` and `sessions` tables: people who sign in (or sign documents), the
//! units they belong to (their scope: those units' communes, `store::unit`), and sessions
//! stored as token hashes ([`crate::domain::account`] says what a session is and how passwords
//! are checked).

use crate::store::{Store, StoreError};
use crate::with_pool;

/// A user to add, with the hash of their password.
#[derive(Debug, Clone, Copy)]
pub struct NewUserRow<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub person: Option<&'a str>,
    pub password_hash: &'a str,
    pub units: &'a [String],
}

/// Adds an enabled user and their units, unless the id exists; how many users it added (0 or 1).
pub async fn insert_user(store: &Store, new: &NewUserRow<'_>, now: i64) -> Result<u64, StoreError> {
    Ok(with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, display_name, role, person, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(new.id)
        .bind(new.display_name)
        .bind(new.role)
        .bind(new.person)
        .bind(new.password_hash)
        .bind(false)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            for code in new.units {
                sqlx::query("INSERT INTO user_units (user_id, unit) VALUES ($1, $2)")
                    .bind(new.id)
                    .bind(code)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        inserted
    }))
}

/// Adds a disabled person without a password (`!` is no password hash: nothing verifies
/// against it) attached to `unit`, unless the id exists.
pub async fn insert_person(
    store: &Store,
    id: &str,
    display_name: &str,
    role: &str,
    unit: &str,
    now: i64,
) -> Result<(), StoreError> {
    with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, display_name, role, person, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, NULL, '!', $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(display_name)
        .bind(role)
        .bind(true)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            sqlx::query("INSERT INTO user_units (user_id, unit) VALUES ($1, $2)")
                .bind(id)
                .bind(unit)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A user as stored: id, display name, role, person, disabled.
pub type UserColumns = (String, String, String, Option<String>, bool);

/// Every user, by id.
pub async fn users(store: &Store) -> Result<Vec<UserColumns>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT id, display_name, role, person, disabled FROM users ORDER BY id").fetch_all(pool).await?
    }))
}

/// The user `id`, if there is one.
pub async fn user(store: &Store, id: &str) -> Result<Option<UserColumns>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT id, display_name, role, person, disabled FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// The units user `id` belongs to, in order.
pub async fn units_of_user(store: &Store, id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT unit FROM user_units WHERE user_id = $1 ORDER BY unit")
            .bind(id)
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(|(unit,)| unit).collect())
}

/// Every (user, unit) pair, by user and unit.
pub async fn user_units(store: &Store) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT user_id, unit FROM user_units ORDER BY user_id, unit").fetch_all(pool).await?
    }))
}

/// The role of user `id`, if there is one.
pub async fn role_of(store: &Store, id: &str) -> Result<Option<String>, StoreError> {
    let role: Option<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT role FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?
    });
    Ok(role.map(|(role,)| role))
}

/// The id and display name of the users among `ids` (a JSON array of texts).
pub async fn display_names(store: &Store, ids: &str) -> Result<Vec<(String, String)>, StoreError> {
    Ok(match store {
        Store::Sqlite(pool, _) => {
            sqlx::query_as(
                "SELECT id, display_name FROM users WHERE id IN (SELECT value FROM json_each($1))",
            )
            .bind(ids)
            .fetch_all(pool)
            .await?
        }
        Store::Postgres(pool) => {
            sqlx::query_as(
                "SELECT id, display_name FROM users \
                 WHERE id IN (SELECT jsonb_array_elements_text($1::text::jsonb))",
            )
            .bind(ids)
            .fetch_all(pool)
            .await?
        }
    })
}

/// Disables (or enables) user `id`; disabling revokes their sessions at `now`. How many users
/// it changed (0: no such user).
pub async fn set_disabled(
    store: &Store,
    id: &str,
    disabled: bool,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let changed = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(disabled)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if disabled {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        changed
    }))
}

/// Sets user `id`'s password hash and revokes their sessions at `now`. How many users it
/// changed (0: no such user).
pub async fn set_password(
    store: &Store,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        changed
    }))
}

/// User `id`'s password hash and whether they are disabled.
pub async fn credentials(store: &Store, id: &str) -> Result<Option<(String, bool)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT password_hash, disabled FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?
    }))
}

/// Stores a new session.
pub async fn insert_session(
    store: &Store,
    token_hash: &str,
    user: &str,
    device: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, device, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(device)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The user, device and expiry of the session `token_hash` if it is valid at `now` (not
/// expired, not revoked, its user enabled).
pub async fn valid_session(
    store: &Store,
    token_hash: &str,
    now: i64,
) -> Result<Option<(String, String, i64)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT s.user_id, s.device, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled = $3",
        )
        .bind(token_hash)
        .bind(now)
        .bind(false)
        .fetch_optional(pool)
        .await?
    }))
}

/// Revokes a session at `now`.
pub async fn revoke_session(store: &Store, token_hash: &str, now: i64) -> Result<(), StoreError> {
    with_pool!(store, pool => {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(token_hash)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The token hashes of sessions revoked, or expired, in `[since, now)`.
pub async fn sessions_ended_between(
    store: &Store,
    since: i64,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT token_hash FROM sessions WHERE (revoked_at >= $1 AND revoked_at < $2) \
             OR (expires_at >= $1 AND expires_at < $2)",
        )
        .bind(since)
        .bind(now)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(|(hash,)| hash).collect())
}
