//! Yearly targets (chỉ tiêu giao) of a reviewing unit: which communes must reach the national
//! criteria this year, which must maintain them, and a local minimum total when it is stricter
//! than the national rule (seed 004: every ward ≥ 95/100). `GET/PUT /api/targets?unit=&year=`;
//! a PUT replaces the unit's targets for that year, validated whole.

use std::collections::BTreeSet;

use tramyte_shared::points::Points;

use crate::store::{Store, StoreError, target};

/// Most targets one unit may have in a year.
pub const MAX_TARGETS: usize = 20_000;

/// What a commune must do this year, one commune's target as set and as listed (REST types).
pub use tramyte_shared::rest::{Target, TargetKind, TargetRow};

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
    let kind = crate::store::unit::kind_of(store, unit).await?;
    if !matches!(kind.as_deref(), Some("health_department" | "health_centre")) {
        return Err(TargetError::NotAReviewingUnit(
            unit.chars().take(32).collect(),
        ));
    }
    let communes: BTreeSet<String> = crate::store::unit::commune_codes(store)
        .await?
        .into_iter()
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
    let rows: Vec<target::NewTarget<'_>> = targets
        .iter()
        .map(|target| target::NewTarget {
            commune: &target.commune,
            kind: target.kind.as_str(),
            local_min_score: target.local_min_score.map(Points::to_f64),
        })
        .collect();
    target::replace(store, unit, year, &rows).await?;
    Ok(())
}

/// The targets of `year` (of one unit, or of every unit), of the communes in `communes` (`None`:
/// all), by unit and commune.
pub async fn list(
    store: &Store,
    unit: Option<&str>,
    year: i64,
    communes: Option<&BTreeSet<String>>,
) -> Result<Vec<TargetRow>, TargetError> {
    let year = check_year(year)?;
    let rows = target::list(store, year, unit).await?;
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
