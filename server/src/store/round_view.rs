//! Reads over one round (or year) in a scope, for the overview and the reports: targets with
//! their communes' assessments (counted by the database, or row by row), and the assessments'
//! per-criterion details (the overview's rows and counts are the listing's,
//! [`crate::store::summary::list_json_by`]). All read the summary rows, never documents, and
//! run on SQLite's listing connections.
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

/// The targets of year `$1` grouped by unit and kind: how many, and where each target's
/// commune has its assessment of that round (the document holding its place in
/// `commune_documents`), as one text of `document local-minimum` pairs joined by commas (`-`:
/// no local minimum; a commune without one is left out). `{agg}` is the database's way to join
/// a group's texts. The assessments' states come from the overview's listing
/// ([`crate::store::summary::RowFacts`]), so the wide summary rows are read once, not twice.
/// Document ids are Base58 and minimums numbers: neither holds a comma or a space.
const TARGET_SLOTS: &str = "SELECT t.unit, t.kind, COUNT(*), \
     {agg}(c.document_id || ' ' || COALESCE(CAST(t.local_min_score AS TEXT), '-'), ',') \
     FROM targets t \
     LEFT JOIN commune_documents c ON c.commune = t.commune AND c.kind = 'assessment' \
         AND c.round = t.year \
     WHERE t.year = $1 AND ($2 IS NULL OR t.commune IN ({scope})) \
     GROUP BY t.unit, t.kind ORDER BY t.unit, t.kind";

/// Unit, kind, targets, and the places of their communes' assessments ([`TARGET_SLOTS`]).
pub type SlotsRow = (String, String, i64, Option<String>);

/// The targets of `year` in the scope of user `scope_of` per unit and kind, sorted by both,
/// each group with where its communes' assessments are ([`TARGET_SLOTS`]).
pub async fn target_slots(
    store: &Store,
    year: i32,
    scope_of: Option<&str>,
) -> Result<Vec<SlotsRow>, sqlx::Error> {
    let agg = match store {
        Store::Sqlite(..) => "group_concat",
        Store::Postgres(_) => "string_agg",
    };
    fetch_in_scope(store, &TARGET_SLOTS.replace("{agg}", agg), year, scope_of).await
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
