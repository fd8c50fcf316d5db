//! The `catalogs` table: imported criteria sets, each revision stored once as its normalised
//! JSON (the shipped ones are compiled in, [`crate::domain::catalog`]).

use crate::store::{Store, StoreError};
use crate::with_pool;

/// One stored revision: code, revision, source, province (`None`: national), published by.
pub type CatalogRow = (String, i64, String, Option<String>, Option<String>);

/// Every stored revision, ordered by code and revision.
pub async fn all(store: &Store) -> Result<Vec<CatalogRow>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as(
            // `revision` is an INTEGER: 32 bits on PostgreSQL.
            "SELECT code, CAST(revision AS BIGINT), source, province, published_by FROM catalogs \
             ORDER BY code, revision",
        )
            .fetch_all(pool)
            .await?
    }))
}

/// Stores a revision (of `province`, `None`: national) unless one with that code and revision is there; whether it did (1) or not (0).
pub async fn insert(
    store: &Store,
    code: &str,
    revision: i64,
    source: &str,
    province: Option<&str>,
    published_by: Option<&str>,
    now_millis: i64,
) -> Result<u64, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query(
            "INSERT INTO catalogs (code, revision, source, imported_at, province, published_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code, revision) DO NOTHING",
        )
        .bind(code)
        .bind(revision)
        .bind(source)
        .bind(now_millis)
        .bind(province)
        .bind(published_by)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}
