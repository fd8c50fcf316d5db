//! The `sign_in_throttle` table: one counter of failed sign-ins per (scope, account, address),
//! changed only by compare-and-set on its `generation` ([`crate::domain::throttle`] says why).

use crate::store::{Store, StoreError};
use crate::{with_pool, with_write_pool};

/// Which counter: `scope` is `account` (per account and address) or `address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleKey<'a> {
    pub scope: &'a str,
    pub account: &'a str,
    pub address: &'a str,
}

/// A counter's figures as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub failures: i64,
    pub last_failure_at: i64,
    pub next_allowed_at: i64,
}

type Row = (i64, i64, i64, i64);

/// The counter of `key` and its generation, if there is one.
pub async fn read(
    store: &Store,
    key: &ThrottleKey<'_>,
) -> Result<Option<(Counts, i64)>, StoreError> {
    let row: Option<Row> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT failures, last_failure_at, next_allowed_at, generation FROM sign_in_throttle \
             WHERE scope = $1 AND account = $2 AND address = $3",
        )
        .bind(key.scope)
        .bind(key.account)
        .bind(key.address)
        .fetch_optional(pool)
        .await?
    });
    Ok(
        row.map(|(failures, last_failure_at, next_allowed_at, generation)| {
            (
                Counts {
                    failures,
                    last_failure_at,
                    next_allowed_at,
                },
                generation,
            )
        }),
    )
}

/// Writes `counts` if the row is still at `generation` (`None`: still absent); whether it did.
pub async fn compare_and_set(
    store: &Store,
    key: &ThrottleKey<'_>,
    generation: Option<i64>,
    counts: Counts,
) -> Result<bool, StoreError> {
    let written = with_write_pool!(store, pool => {
        match generation {
            None => sqlx::query(
                "INSERT INTO sign_in_throttle (scope, account, address, failures, last_failure_at, \
                 next_allowed_at, generation) VALUES ($1, $2, $3, $4, $5, $6, 0) \
                 ON CONFLICT (scope, account, address) DO NOTHING",
            )
            .bind(key.scope)
            .bind(key.account)
            .bind(key.address)
            .bind(counts.failures)
            .bind(counts.last_failure_at)
            .bind(counts.next_allowed_at)
            .execute(pool)
            .await?
            .rows_affected(),
            Some(generation) => sqlx::query(
                "UPDATE sign_in_throttle SET failures = $4, last_failure_at = $5, \
                 next_allowed_at = $6, generation = generation + 1 \
                 WHERE scope = $1 AND account = $2 AND address = $3 AND generation = $7",
            )
            .bind(key.scope)
            .bind(key.account)
            .bind(key.address)
            .bind(counts.failures)
            .bind(counts.last_failure_at)
            .bind(counts.next_allowed_at)
            .bind(generation)
            .execute(pool)
            .await?
            .rows_affected(),
        }
    });
    Ok(written == 1)
}

/// Gives a claim at `generation` back: the row as it was `before` (`None`: absent) if nobody
/// claimed it since, else one failure less.
pub async fn give_back(
    store: &Store,
    key: &ThrottleKey<'_>,
    generation: i64,
    before: Option<Counts>,
) -> Result<(), StoreError> {
    with_write_pool!(store, pool => {
        let restored = match before {
            None => sqlx::query(
                "DELETE FROM sign_in_throttle WHERE scope = $1 AND account = $2 AND address = $3 \
                 AND generation = $4",
            )
            .bind(key.scope)
            .bind(key.account)
            .bind(key.address)
            .bind(generation)
            .execute(pool)
            .await?
            .rows_affected(),
            Some(before) => sqlx::query(
                "UPDATE sign_in_throttle SET failures = $4, last_failure_at = $5, \
                 next_allowed_at = $6, generation = generation + 1 \
                 WHERE scope = $1 AND account = $2 AND address = $3 AND generation = $7",
            )
            .bind(key.scope)
            .bind(key.account)
            .bind(key.address)
            .bind(before.failures)
            .bind(before.last_failure_at)
            .bind(before.next_allowed_at)
            .bind(generation)
            .execute(pool)
            .await?
            .rows_affected(),
        };
        if restored == 0 {
            sqlx::query(
                "UPDATE sign_in_throttle SET failures = failures - 1, generation = generation + 1 \
                 WHERE scope = $1 AND account = $2 AND address = $3 AND failures > 0",
            )
            .bind(key.scope)
            .bind(key.account)
            .bind(key.address)
            .execute(pool)
            .await?;
        }
    });
    Ok(())
}

/// Deletes the counter of `key`.
pub async fn forget(store: &Store, key: &ThrottleKey<'_>) -> Result<(), StoreError> {
    with_write_pool!(store, pool => {
        sqlx::query(
            "DELETE FROM sign_in_throttle WHERE scope = $1 AND account = $2 AND address = $3",
        )
        .bind(key.scope)
        .bind(key.account)
        .bind(key.address)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Claims (each a counter and the generation it was claimed at) stand as failures found out at
/// `now`: their waits are counted from now rather than from the claim. Then counters whose last
/// failure is before `forget_before` and whose wait is over are deleted.
pub async fn stand_as_failures(
    store: &Store,
    claims: &[(ThrottleKey<'_>, i64)],
    now: i64,
    forget_before: i64,
) -> Result<(), StoreError> {
    with_write_pool!(store, pool => {
        for (key, generation) in claims {
            sqlx::query(
                "UPDATE sign_in_throttle SET next_allowed_at = CASE WHEN next_allowed_at > last_failure_at \
                 THEN next_allowed_at + ($4 - last_failure_at) ELSE next_allowed_at END, \
                 last_failure_at = $4, generation = generation + 1 \
                 WHERE scope = $1 AND account = $2 AND address = $3 AND generation = $5 \
                 AND last_failure_at <= $4",
            )
            .bind(key.scope)
            .bind(key.account)
            .bind(key.address)
            .bind(now)
            .bind(*generation)
            .execute(pool)
            .await?;
        }
        sqlx::query("DELETE FROM sign_in_throttle WHERE last_failure_at < $1 AND next_allowed_at < $2")
            .bind(forget_before)
            .bind(now)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Deletes an account's counters at every address.
pub async fn forget_account(store: &Store, account: &str) -> Result<(), StoreError> {
    with_write_pool!(store, pool => {
        sqlx::query("DELETE FROM sign_in_throttle WHERE scope = 'account' AND account = $1")
            .bind(account)
            .execute(pool)
            .await?;
    });
    Ok(())
}
