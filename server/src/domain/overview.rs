//! The reviewer's overview of a round (`GET /api/overview?round=2024`): every assessment of the
//! round in the caller's scope, from the summary rows (never the documents), with counts by
//! status and verdict and progress against the year's targets (e.g. 9 of 13 communes approved).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tramyte_shared::workflow::{Status, StatusChange, status_at};

use crate::domain::summary::{self, Filter, ListError};
use crate::domain::target::TargetError;
use crate::store::Store;

/// Progress of one reviewing unit against one kind of target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetProgress {
    pub unit: String,
    /// `reach` or `maintain`.
    pub kind: String,
    /// Communes with this target.
    pub communes: usize,
    /// Of them, those whose assessment of the round is approved (or recognized, maintained).
    pub approved: usize,
    /// Of them, those without an assessment in this round.
    pub not_opened: usize,
    /// Of them, those whose current verdict is `pass` (and the local minimum met, if any).
    pub passing: usize,
}

/// The overview of one round.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub round: u16,
    /// Every assessment of the round in scope, as `GET /api/documents` lists them (joined from
    /// each row's stored JSON fields: 10,000 rows are not decoded and encoded again).
    pub documents: Box<RawValue>,
    /// Assessments by status.
    pub by_status: BTreeMap<String, usize>,
    /// Assessments by verdict (`none` while the catalog is unknown).
    pub by_verdict: BTreeMap<String, usize>,
    /// Assessments with at least one open conflict.
    pub with_conflicts: usize,
    /// Progress against the year's targets, per unit and kind.
    pub targets: Vec<TargetProgress>,
}

/// Why the overview could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    Targets(#[from] TargetError),
}

/// `$columns` of the targets of year `$1` over the communes of `$2` (a JSON array; NULL: every
/// commune), each with its commune's assessment of that round (`c`, the one holding its place in
/// `commune_documents`) and that assessment's summary (`s`); then `$tail`.
macro_rules! targets_sql {
    ($columns:literal, $in_json_2:literal, $tail:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM targets t \
             LEFT JOIN commune_documents c ON c.commune = t.commune AND c.kind = 'assessment' \
                 AND c.round = t.year \
             LEFT JOIN document_summaries s ON s.document_id = c.document_id \
             WHERE t.year = $1 AND ($2 IS NULL OR t.commune IN (",
            $in_json_2,
            ")) ",
            $tail
        )
    };
}

/// Progress against targets, counted by the database: per unit and kind, the communes, those
/// approved, those without an assessment of the round, those passing. The approved statuses are
/// `Status::counts_as_approved`'s, written out for SQL (a test checks that they agree).
macro_rules! progress_sql {
    ($in_json_2:literal) => {
        targets_sql!(
            "t.unit, t.kind, COUNT(*), \
             SUM(CASE WHEN s.status IN ('approved', 'recognized', 'maintained') THEN 1 ELSE 0 END), \
             SUM(CASE WHEN c.document_id IS NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN s.verdict = 'pass' AND (t.local_min_score IS NULL \
                 OR COALESCE(s.review_total, s.self_total) >= t.local_min_score) THEN 1 ELSE 0 END)",
            $in_json_2,
            "GROUP BY t.unit, t.kind ORDER BY t.unit, t.kind"
        )
    };
}

type ProgressRow = (String, String, i64, Option<i64>, Option<i64>, Option<i64>);

/// Status, verdict, whether conflicted (1) or not (0), and how many assessments.
type StatusCount = (String, String, i32, i64);

/// Assessments of the round counted by status, verdict and whether they have open conflicts.
macro_rules! counts_sql {
    ($in_json_2:literal) => {
        concat!(
            "SELECT COALESCE(s.status, 'none'), COALESCE(s.verdict, 'none'), \
             CASE WHEN s.open_conflicts > 0 THEN 1 ELSE 0 END, COUNT(*) \
             FROM document_summaries s \
             WHERE s.kind = 'assessment' AND s.round = $1 AND ($2 IS NULL OR s.commune IN (",
            $in_json_2,
            ")) GROUP BY 1, 2, 3"
        )
    };
}

/// The overview of `round` over `communes` (`None`: every commune).
pub async fn overview(
    store: &Store,
    round: u16,
    communes: Option<Vec<String>>,
) -> Result<Overview, OverviewError> {
    let scope = communes
        .as_ref()
        .map(|c| serde_json::to_string(c).unwrap_or_else(|_| "[]".to_owned()));
    let filter = Filter {
        communes,
        kind: Some("assessment".to_owned()),
        round: Some(i32::from(round)),
        ..Filter::default()
    };
    // The listing, the counts and the targets' progress are independent reads, made at once
    // on separate connections.
    let listing = async {
        let counts_query = async {
            let counts: Result<Vec<StatusCount>, sqlx::Error> =
                crate::fetch_in_scope!(store, counts_sql, i32::from(round), &scope);
            counts.map_err(|err| OverviewError::List(ListError::from(err)))
        };
        let (documents, counts) =
            futures_util::future::join(summary::list_json(store, &filter), counts_query).await;
        Ok::<_, OverviewError>((documents?, counts?))
    };
    let (listed, targets) =
        futures_util::future::join(listing, target_progress(store, round, scope.as_deref())).await;
    let (documents, counts) = listed?;
    let targets = targets?;
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
        documents,
        by_status,
        by_verdict,
        with_conflicts,
        targets,
    })
}

/// Progress against the targets of year `round` over `scope` (a JSON array of commune codes;
/// `None`: every commune), counted by the database: per unit and kind, sorted by both.
pub async fn target_progress(
    store: &Store,
    round: u16,
    scope: Option<&str>,
) -> Result<Vec<TargetProgress>, ListError> {
    let year = i32::from(round);
    let progress: Vec<ProgressRow> = crate::fetch_in_scope!(store, progress_sql, year, scope)?;
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

/// One target with its commune's assessment, for counting progress at a date in Rust.
macro_rules! target_rows_sql {
    ($in_json_2:literal) => {
        targets_sql!(
            "t.unit, t.kind, t.local_min_score, c.document_id, s.status, s.status_history, \
             s.verdict, COALESCE(s.review_total, s.self_total)",
            $in_json_2,
            "ORDER BY t.unit, t.kind"
        )
    };
}

/// A target and its commune's assessment: unit, kind, local minimum, the assessment's id,
/// status, status history (JSON), verdict and decisive total.
pub type TargetRow = (
    String,
    String,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<f64>,
);

/// Progress against the targets of year `round` as the statuses stood at `cutoff` (unix
/// milliseconds; see [`tramyte_shared::workflow::status_at`]): what a report of a past period
/// shows. Verdicts and totals are the current ones. With a cutoff after every change it counts
/// what [`target_progress`] counts.
pub async fn target_progress_at(
    store: &Store,
    round: u16,
    scope: Option<&str>,
    cutoff: i64,
) -> Result<Vec<TargetProgress>, ListError> {
    let year = i32::from(round);
    let rows: Vec<TargetRow> = crate::fetch_in_scope!(store, target_rows_sql, year, scope)?;
    Ok(tally_targets(rows, cutoff))
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
pub fn tally_targets(rows: Vec<TargetRow>, cutoff: i64) -> Vec<TargetProgress> {
    let mut progress: Vec<TargetProgress> = Vec::new();
    for (unit, kind, local_min, document, status, history, verdict, total) in rows {
        let at = match progress.last_mut() {
            Some(last) if last.unit == unit && last.kind == kind => last,
            _ => {
                progress.push(TargetProgress {
                    unit,
                    kind,
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

#[cfg(test)]
mod tests {
    use tramyte_shared::workflow::Status;

    #[test]
    fn the_sql_counts_as_approved_exactly_what_the_workflow_does() {
        let sql = progress_sql!("?");
        let listed: Vec<&str> = Status::ALL
            .into_iter()
            .filter(|status| status.counts_as_approved())
            .map(Status::name)
            .collect();
        let written = listed
            .iter()
            .map(|name| format!("'{name}'"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(sql.contains(&format!("s.status IN ({written})")), "{sql}");
    }
}
