//! Reads over one round (or year) in a scope, for the overview and the reports: assessments
//! counted by status and verdict, targets with their communes' assessments (counted by the
//! database, or row by row), and the assessments' per-criterion details. All read the summary
//! rows, never documents, and run on SQLite's listing connections.
//!
//! A scope is the id of a user bound as `$2` (NULL: every commune): `{scope}` in a query marks
//! where it is joined: the communes of that user's units, as `unit_communes` holds them.

use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::store::Store;

/// Runs `sql` (with `{scope}` where the scope is joined) for `year` (`$1`) and the scope of the
/// user `scope_of` (`$2`; `None`: every commune).
async fn fetch_in_scope<T>(
    store: &Store,
    sql: &str,
    year: i32,
    scope_of: Option<&str>,
) -> Result<Vec<T>, sqlx::Error>
where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
{
    let sql = sql.replace("{scope}", &crate::store::unit::communes_of_user_sql(2));
    match store {
        Store::Sqlite(_, side) => {
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(year)
                .bind(scope_of)
                .fetch_all(&side.listing)
                .await
        }
        Store::Postgres(pool) => {
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(year)
                .bind(scope_of)
                .fetch_all(pool)
                .await
        }
    }
}

/// Assessments of round `$1` counted by status, verdict and whether they have open conflicts.
const STATUS_COUNTS: &str = "SELECT COALESCE(s.status, 'none'), COALESCE(s.verdict, 'none'), \
     CASE WHEN s.open_conflicts > 0 THEN 1 ELSE 0 END, COUNT(*) \
     FROM document_summaries s \
     WHERE s.kind = 'assessment' AND s.round = $1 AND ($2 IS NULL OR s.commune IN ({scope})) \
     GROUP BY 1, 2, 3";

/// Status, verdict, whether conflicted (1) or not (0), and how many assessments.
pub type StatusCount = (String, String, i32, i64);

/// The assessments of `round` in the scope of user `scope_of`, counted by status, verdict and
/// open conflicts.
pub async fn status_counts(
    store: &Store,
    round: i32,
    scope_of: Option<&str>,
) -> Result<Vec<StatusCount>, sqlx::Error> {
    fetch_in_scope(store, STATUS_COUNTS, round, scope_of).await
}

/// Progress against the targets of year `$1`, counted by the database: per unit and kind, the
/// communes, those approved, those without an assessment of the round, those passing. Each
/// target is joined with its commune's assessment of that round (`c`, the one holding its place
/// in `commune_documents`) and that assessment's summary (`s`). The approved statuses are
/// `Status::counts_as_approved`'s, written out for SQL (a test checks that they agree).
pub const TARGET_PROGRESS: &str = "SELECT t.unit, t.kind, COUNT(*), \
     SUM(CASE WHEN s.status IN ('approved', 'recognized', 'maintained') THEN 1 ELSE 0 END), \
     SUM(CASE WHEN c.document_id IS NULL THEN 1 ELSE 0 END), \
     SUM(CASE WHEN s.verdict = 'pass' AND (t.local_min_score IS NULL \
         OR COALESCE(s.review_total, s.self_total) >= t.local_min_score) THEN 1 ELSE 0 END) \
     FROM targets t \
     LEFT JOIN commune_documents c ON c.commune = t.commune AND c.kind = 'assessment' \
         AND c.round = t.year \
     LEFT JOIN document_summaries s ON s.document_id = c.document_id \
     WHERE t.year = $1 AND ($2 IS NULL OR t.commune IN ({scope})) \
     GROUP BY t.unit, t.kind ORDER BY t.unit, t.kind";

/// Unit, kind, communes, approved, not opened, passing.
pub type ProgressRow = (String, String, i64, Option<i64>, Option<i64>, Option<i64>);

/// Progress against the targets of `year` in the scope of user `scope_of`, per unit and kind,
/// sorted by both.
pub async fn target_progress(
    store: &Store,
    year: i32,
    scope_of: Option<&str>,
) -> Result<Vec<ProgressRow>, sqlx::Error> {
    fetch_in_scope(store, TARGET_PROGRESS, year, scope_of).await
}

/// Each target of year `$1` with its commune's assessment, as [`TARGET_PROGRESS`] joins them.
const TARGETS_WITH_ASSESSMENTS: &str = "SELECT t.unit, t.kind, t.local_min_score, \
     c.document_id, s.status, s.status_history, s.verdict, \
     COALESCE(s.review_total, s.self_total) \
     FROM targets t \
     LEFT JOIN commune_documents c ON c.commune = t.commune AND c.kind = 'assessment' \
         AND c.round = t.year \
     LEFT JOIN document_summaries s ON s.document_id = c.document_id \
     WHERE t.year = $1 AND ($2 IS NULL OR t.commune IN ({scope})) \
     ORDER BY t.unit, t.kind";

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

/// Every target of `year` in the scope of user `scope_of` with its commune's assessment, by unit
/// and kind: for counting progress at a date in Rust.
pub async fn targets_with_assessments(
    store: &Store,
    year: i32,
    scope_of: Option<&str>,
) -> Result<Vec<TargetRow>, sqlx::Error> {
    fetch_in_scope(store, TARGETS_WITH_ASSESSMENTS, year, scope_of).await
}

/// The assessments of round `$1`: what a report needs beyond their listing.
const REPORT_DETAILS: &str = "SELECT document_id, catalog, catalog_revision, verdict_side, \
     criteria, status_history FROM document_summaries WHERE kind = 'assessment' AND round = $1 \
     AND ($2 IS NULL OR commune IN ({scope}))";

/// Per assessment: id, catalog, revision, verdict side, per-criterion JSON, status history JSON.
pub type DetailRow = (
    String,
    Option<String>,
    Option<i32>,
    Option<String>,
    String,
    Option<String>,
);

/// The details of the assessments of round `year` in the scope of user `scope_of`.
pub async fn report_details(
    store: &Store,
    year: i32,
    scope_of: Option<&str>,
) -> Result<Vec<DetailRow>, sqlx::Error> {
    fetch_in_scope(store, REPORT_DETAILS, year, scope_of).await
}

#[cfg(test)]
mod tests {
    use tramyte_shared::workflow::Status;

    #[test]
    fn the_sql_counts_as_approved_exactly_what_the_workflow_does() {
        let sql = super::TARGET_PROGRESS;
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
