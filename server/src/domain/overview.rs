//! The reviewer's overview of a round (`GET /api/overview?round=2024`): every assessment of the
//! round in the caller's scope, from the summary rows (never the documents), with counts by
//! status and verdict and progress against the year's targets (e.g. 9 of 13 communes approved).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use tramyte_shared::workflow::{Status, StatusChange, status_at};

use crate::domain::collation;
use crate::domain::summary::{self, ListError};
use crate::domain::target::TargetError;
use crate::store::{Store, round_view};

/// A reviewing unit and the communes its coverage includes (a REST type).
pub use tramyte_shared::rest::CoveringUnit;
/// Progress against the year's targets at the end of one month (a REST type).
pub use tramyte_shared::rest::MonthProgress;
/// Progress of one reviewing unit against one kind of target (a REST type).
pub use tramyte_shared::rest::TargetProgress;

/// The overview of one round: the documents travel as the JSON their summary rows hold.
pub type Overview = tramyte_shared::rest::Overview<Box<RawValue>>;

/// Why the overview could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    Targets(#[from] TargetError),
}

/// The overview of `round` in the scope of user `scope_of` (`None`: every commune).
pub async fn overview(
    store: &Store,
    round: u16,
    scope_of: Option<String>,
) -> Result<Overview, OverviewError> {
    let filter = summary::round_assessments(round, scope_of);
    let scope = filter.scope_of.as_deref();
    // The listing, the counts, the targets' progress and the units are independent reads, made
    // at once on separate connections.
    let listing = async {
        let counts_query = async {
            round_view::status_counts(store, i32::from(round), scope)
                .await
                .map_err(|err| OverviewError::List(ListError::from(err)))
        };
        // The communes in Vietnamese order (the desk's default), so no device ranks them.
        let listing = summary::list_json_by(store, &filter, collation::cached_sort_key);
        let (documents, counts) = futures_util::future::join(listing, counts_query).await;
        Ok::<_, OverviewError>((documents?, counts?))
    };
    let (listed, targets, units) = futures_util::future::join3(
        listing,
        target_progress(store, round, scope),
        covering_units(store, scope),
    )
    .await;
    let ((documents, listed), counts) = listed?;
    let targets = targets?;
    let units = units?;
    let count = |n: Option<i64>| usize::try_from(n.unwrap_or(0)).unwrap_or(0);
    let mut by_status = BTreeMap::new();
    let mut by_verdict = BTreeMap::new();
    let mut with_conflicts = 0;
    for (status, verdict, conflicted, n) in counts {
        let n = count(Some(n));
        *by_status.entry(status).or_insert(0) += n;
        *by_verdict.entry(verdict).or_insert(0) += n;
        if conflicted == 1 {
            with_conflicts += n;
        }
    }
    Ok(Overview {
        round,
        count: listed,
        documents,
        by_status,
        by_verdict,
        with_conflicts,
        targets,
        units,
    })
}

/// The reviewing units whose coverage includes communes in the scope of user `scope_of`
/// (`None`: every commune), each with those communes, by unit code: the desk filters its rows
/// by unit (after the 2025 reform a commune sits under its province and is reviewed by a
/// regional health centre, so a unit's communes are its coverage, not a subtree of the listing).
pub async fn covering_units(
    store: &Store,
    scope_of: Option<&str>,
) -> Result<Vec<CoveringUnit>, ListError> {
    let rows = crate::store::unit::reviewing_coverage(store, scope_of)
        .await
        .map_err(ListError::from)?;
    Ok(rows
        .into_iter()
        .map(|(code, name, communes)| CoveringUnit {
            code,
            name,
            communes,
        })
        .collect())
}

/// Progress against the targets of year `round` in the scope of user `scope_of` (`None`:
/// every commune), counted by the database: per unit and kind, sorted by both.
pub async fn target_progress(
    store: &Store,
    round: u16,
    scope_of: Option<&str>,
) -> Result<Vec<TargetProgress>, ListError> {
    let year = i32::from(round);
    let progress = round_view::target_progress(store, year, scope_of).await?;
    let count = |n: Option<i64>| usize::try_from(n.unwrap_or(0)).unwrap_or(0);
    Ok(progress
        .into_iter()
        .map(
            |(unit, kind, communes, approved, not_opened, passing)| TargetProgress {
                unit,
                kind,
                communes: count(Some(communes)),
                approved: count(approved),
                not_opened: count(not_opened),
                passing: count(passing),
            },
        )
        .collect())
}

pub use crate::store::round_view::TargetRow;

/// Progress against the targets of year `round` in the scope of user `scope_of` month by month:
/// for every month of the year that has begun by `now` (unix milliseconds), the communes with a
/// target and those approved as the statuses stood at the month's end (or now, for the current
/// month), summed over units and kinds.
pub async fn target_progress_by_month(
    store: &Store,
    round: u16,
    scope_of: Option<&str>,
    now: i64,
) -> Result<Vec<MonthProgress>, ListError> {
    let rows = round_view::targets_with_assessments(store, i32::from(round), scope_of).await?;
    let year = i64::from(round);
    let mut months = Vec::new();
    for month in 1..=12u8 {
        let start = crate::domain::date::vietnam_midnight(year, i64::from(month), 1);
        if start > now {
            break;
        }
        let (next_year, next_month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, i64::from(month) + 1)
        };
        let end = (crate::domain::date::vietnam_midnight(next_year, next_month, 1) - 1).min(now);
        let tallied = tally_targets(&rows, end);
        months.push(MonthProgress {
            month,
            communes: tallied.iter().map(|t| t.communes).sum(),
            approved: tallied.iter().map(|t| t.approved).sum(),
        });
    }
    Ok(months)
}

/// Progress against the targets of year `round` as the statuses stood at `cutoff` (unix
/// milliseconds; see [`tramyte_shared::workflow::status_at`]): what a report of a past period
/// shows. Verdicts and totals are the current ones. With a cutoff after every change it counts
/// what [`target_progress`] counts.
pub async fn target_progress_at(
    store: &Store,
    round: u16,
    scope_of: Option<&str>,
    cutoff: i64,
) -> Result<Vec<TargetProgress>, ListError> {
    let year = i32::from(round);
    let rows = round_view::targets_with_assessments(store, year, scope_of).await?;
    Ok(tally_targets(&rows, cutoff))
}

/// The status of a summary row at `cutoff`, from its stored history (JSON); the current status
/// when the row has no history yet (written before the column, not yet backfilled).
pub fn status_at_cutoff(
    status: Option<&str>,
    history: Option<&str>,
    cutoff: i64,
) -> Option<String> {
    let history = history.and_then(|h| serde_json::from_str::<Vec<HistoryEntry>>(h).ok());
    match (status, history) {
        (Some(_), Some(history)) => {
            let changes: Vec<StatusChange> = history
                .into_iter()
                .filter_map(|entry| {
                    Some(StatusChange {
                        at: entry.at,
                        status: Status::parse(&entry.status)?,
                    })
                })
                .collect();
            Some(status_at(&changes, cutoff).name().to_owned())
        }
        (status, _) => status.map(str::to_owned),
    }
}

/// A stored [`StatusChange`].
#[derive(Debug, Deserialize)]
struct HistoryEntry {
    at: i64,
    status: String,
}

/// Counts progress per unit and kind (rows sorted by both), statuses taken at `cutoff`.
pub fn tally_targets(rows: &[TargetRow], cutoff: i64) -> Vec<TargetProgress> {
    let mut progress: Vec<TargetProgress> = Vec::new();
    for (unit, kind, local_min, document, status, history, verdict, total) in rows {
        let at = match progress.last_mut() {
            Some(last) if last.unit == *unit && last.kind == *kind => last,
            _ => {
                progress.push(TargetProgress {
                    unit: unit.clone(),
                    kind: kind.clone(),
                    communes: 0,
                    approved: 0,
                    not_opened: 0,
                    passing: 0,
                });
                progress.last_mut().expect("just pushed")
            }
        };
        at.communes += 1;
        let status = status_at_cutoff(status.as_deref(), history.as_deref(), cutoff);
        if status
            .as_deref()
            .is_some_and(tramyte_shared::workflow::Status::name_counts_as_approved)
        {
            at.approved += 1;
        }
        if document.is_none() {
            at.not_opened += 1;
        }
        let meets_minimum = match (local_min, total) {
            (None, _) => true,
            (Some(min), Some(total)) => total >= min,
            (Some(_), None) => false,
        };
        if verdict.as_deref() == Some("pass") && meets_minimum {
            at.passing += 1;
        }
    }
    progress
}
