//! The `targets` table: each reviewing unit's yearly targets, one row per commune.

use crate::store::{Store, StoreError};
use crate::with_pool;

/// One target to store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewTarget<'a> {
    pub commune: &'a str,
    /// `reach` or `maintain`.
    pub kind: &'a str,
    pub local_min_score: Option<f64>,
}

/// Replaces the targets of `unit` for `year` with `targets`, in one transaction.
pub async fn replace(
    store: &Store,
    unit: &str,
    year: i32,
    targets: &[NewTarget<'_>],
) -> Result<(), StoreError> {
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM targets WHERE unit = $1 AND year = $2")
            .bind(unit)
            .bind(year)
            .execute(&mut *tx)
            .await?;
        for target in targets {
            sqlx::query(
                "INSERT INTO targets (unit, year, commune, kind, local_min_score) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(unit)
            .bind(year)
            .bind(target.commune)
            .bind(target.kind)
            .bind(target.local_min_score)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A stored target: unit, year, commune, the commune's name, kind, local minimum.
pub type TargetColumns = (String, i32, String, Option<String>, String, Option<f64>);

/// The targets of `year` (of `unit`, or of every unit), by unit and commune.
pub async fn list(
    store: &Store,
    year: i32,
    unit: Option<&str>,
) -> Result<Vec<TargetColumns>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT t.unit, t.year, t.commune, u.name, t.kind, t.local_min_score FROM targets t \
             LEFT JOIN units u ON u.code = t.commune \
             WHERE t.year = $1 AND ($2 IS NULL OR t.unit = $2) ORDER BY t.unit, t.commune",
        )
        .bind(year)
        .bind(unit)
        .fetch_all(pool)
        .await?
    }))
}
