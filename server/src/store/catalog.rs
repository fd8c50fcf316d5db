//! The `catalogs` table: imported criteria sets, each revision stored once as its normalised
//! JSON (the shipped ones are compiled in, [`crate::domain::catalog`]).

use crate::store::{Store, StoreError};
use crate::with_pool;

/// Every stored revision (code, revision, source), ordered by code and revision.
pub async fn all(store: &Store) -> Result<Vec<(String, i64, String)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT code, revision, source FROM catalogs ORDER BY code, revision")
            .fetch_all(pool)
            .await?
    }))
}

/// Stores a revision unless one with that code and revision is there; whether it did (1) or not (0).
pub async fn insert(
    store: &Store,
    code: &str,
    revision: i64,
    source: &str,
    now_millis: i64,
) -> Result<u64, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query(
            "INSERT INTO catalogs (code, revision, source, imported_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code, revision) DO NOTHING",
        )
        .bind(code)
        .bind(revision)
        .bind(source)
        .bind(now_millis)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}
