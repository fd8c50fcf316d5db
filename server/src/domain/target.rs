//! Yearly targets (chỉ tiêu giao) of a reviewing unit: which communes must reach the national
//! criteria this year, which must maintain them, and a local minimum total when it is stricter
//! than the national rule (seed 004: every ward ≥ 95/100). `GET/PUT /api/targets?unit=&year=`;
//! a PUT replaces the unit's targets for that year, validated whole.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tramyte_shared::points::Points;

use crate::store::{Store, StoreError};
use crate::with_pool;

/// Most targets one unit may have in a year.
pub const MAX_TARGETS: usize = 20_000;

/// What a commune must do this year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Reach the national criteria this year (xã đạt mới).
    Reach,
    /// Maintain them (duy trì).
    Maintain,
}

impl TargetKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Reach => "reach",
            TargetKind::Maintain => "maintain",
        }
    }
}

/// One commune's target, as set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub commune: String,
    pub kind: TargetKind,
    /// A minimum total stricter than the national rule, if any.
    #[serde(default)]
    pub local_min_score: Option<Points>,
}

/// One target as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRow {
    pub unit: String,
    pub year: i32,
    pub commune: String,
    pub commune_name: Option<String>,
    pub kind: String,
    pub local_min_score: Option<Points>,
}

/// Why targets were not stored.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("year {0} is not between 2000 and 2100")]
    BadYear(i64),
    #[error("{0} is not a health department or health centre")]
    NotAReviewingUnit(String),
    #[error("{0} is not a known commune")]
    UnknownCommune(String),
    #[error("commune {0} is listed twice")]
    Duplicate(String),
    #[error("more than {MAX_TARGETS} targets")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TargetError {
    fn from(err: sqlx::Error) -> Self {
        TargetError::Store(StoreError::Query(err))
    }
}

fn check_year(year: i64) -> Result<i32, TargetError> {
    if (2000..=2100).contains(&year) {
        Ok(year as i32)
    } else {
        Err(TargetError::BadYear(year))
    }
}

/// Replaces the targets of `unit` for `year` with `targets`, after checking them all.
pub async fn replace(
    store: &Store,
    unit: &str,
    year: i64,
    targets: &[Target],
) -> Result<(), TargetError> {
    let year = check_year(year)?;
    if targets.len() > MAX_TARGETS {
        return Err(TargetError::TooMany);
    }
    let kind: Option<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT kind FROM units WHERE code = $1").bind(unit).fetch_optional(pool).await?
    });
    if !matches!(
        kind.as_ref().map(|(k,)| k.as_str()),
        Some("health_department" | "health_centre")
    ) {
        return Err(TargetError::NotAReviewingUnit(
            unit.chars().take(32).collect(),
        ));
    }
    let communes: BTreeSet<String> = with_pool!(store, pool => {
        sqlx::query_as::<_, (String,)>("SELECT code FROM units WHERE kind = 'commune'").fetch_all(pool).await?
    })
    .into_iter()
    .map(|(code,)| code)
    .collect();
    let mut seen = BTreeSet::new();
    for target in targets {
        if !communes.contains(&target.commune) {
            return Err(TargetError::UnknownCommune(
                target.commune.chars().take(32).collect(),
            ));
        }
        if !seen.insert(target.commune.as_str()) {
            return Err(TargetError::Duplicate(target.commune.clone()));
        }
    }
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
            .bind(&target.commune)
            .bind(target.kind.as_str())
            .bind(target.local_min_score.map(Points::to_f64))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

type TargetColumns = (String, i32, String, Option<String>, String, Option<f64>);

/// The targets of `year` (of one unit, or of every unit), of the communes in `communes` (`None`:
/// all), by unit and commune.
pub async fn list(
    store: &Store,
    unit: Option<&str>,
    year: i64,
    communes: Option<&BTreeSet<String>>,
) -> Result<Vec<TargetRow>, TargetError> {
    let year = check_year(year)?;
    let rows: Vec<TargetColumns> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT t.unit, t.year, t.commune, u.name, t.kind, t.local_min_score FROM targets t \
             LEFT JOIN units u ON u.code = t.commune \
             WHERE t.year = $1 AND ($2 IS NULL OR t.unit = $2) ORDER BY t.unit, t.commune",
        )
        .bind(year)
        .bind(unit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .filter(|(_, _, commune, ..)| communes.is_none_or(|set| set.contains(commune)))
        .map(
            |(unit, year, commune, commune_name, kind, local_min_score)| TargetRow {
                unit,
                year,
                commune,
                commune_name,
                kind,
                local_min_score: local_min_score.and_then(|p| Points::from_f64(p).ok()),
            },
        )
        .collect())
}
