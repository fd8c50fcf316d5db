//! The `document_summaries` table: one row per document, written in the transaction that
//! stores its change ([`crate::store::document`]) or on its own ([`refresh`]), and the listings
//! read from it (`GET /api/documents`, the overview, what opening a round answers).
//!
//! Ordering: persists of one document may commit out of order, and nodes sharing PostgreSQL
//! each summarize their own copy. A row records the document's change count; a summary of
//! fewer changes never overwrites one of more (a merge holds more changes than either side).

use std::borrow::Cow;
use std::sync::LazyLock;

use serde::Serialize;
use sqlx::query::QueryAs;
use tramyte_shared::assessment::ChangedAfterSubmission;
use tramyte_shared::points::Points;
use tramyte_shared::rest::criteria_points;
use tramyte_shared::summary::{CriterionPoints, Summary};
use tramyte_shared::sync::DocumentId;

use crate::store::{Store, StoreError, now_millis};
use crate::with_pool;

/// A summary as stored: every column but the id and the last change.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRecord {
    pub kind: &'static str,
    pub commune: Option<String>,
    pub round: Option<i32>,
    pub catalog: Option<String>,
    pub catalog_revision: Option<i32>,
    pub status: Option<String>,
    /// JSON array of [`tramyte_shared::workflow::StatusChange`].
    pub status_history: String,
    pub self_total: Option<f64>,
    pub review_total: Option<f64>,
    pub verdict: Option<String>,
    pub verdict_side: Option<String>,
    /// JSON array.
    pub reasons: String,
    /// JSON array.
    pub criteria: String,
    pub open_conflicts: i32,
    pub problem: Option<String>,
    pub changes: i64,
    /// JSON of [`ChangedAfterSubmission`], if the station changed anything unseen.
    pub changed_after_submission: Option<String>,
}

/// The serde name of a unit-like enum value (`"submitted"`, `"pass"`, `"self"`).
fn name_of(value: &impl Serialize) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Some(name),
        _ => None,
    }
}

impl SummaryRecord {
    /// The columns of a summary.
    pub fn of(summary: &Summary) -> SummaryRecord {
        SummaryRecord {
            kind: summary.kind.as_str(),
            commune: summary.commune.clone(),
            round: summary.round.map(i32::from),
            catalog: summary.catalog.clone(),
            catalog_revision: summary
                .catalog_revision
                .map(|r| i32::try_from(r).unwrap_or(i32::MAX)),
            status: summary.status.as_ref().and_then(name_of),
            status_history: serde_json::to_string(&summary.status_history)
                .unwrap_or_else(|_| "[]".to_owned()),
            self_total: summary.self_total.map(Points::to_f64),
            review_total: summary.review_total.map(Points::to_f64),
            verdict: summary.verdict.as_ref().and_then(name_of),
            verdict_side: summary.verdict_side.as_ref().and_then(name_of),
            reasons: serde_json::to_string(&summary.reasons).unwrap_or_else(|_| "[]".to_owned()),
            criteria: serde_json::to_string(&summary.criteria).unwrap_or_else(|_| "[]".to_owned()),
            open_conflicts: i32::try_from(summary.open_conflicts).unwrap_or(i32::MAX),
            problem: summary.problem.clone(),
            changes: i64::try_from(summary.changes).unwrap_or(i64::MAX),
            changed_after_submission: summary
                .changed_after_submission
                .as_ref()
                .and_then(|late| serde_json::to_string(late).ok()),
        }
    }

    /// The `listing` column of document `id`: the members of its [`DocumentRow`] JSON object
    /// that this record decides, without braces (the listing query adds the commune's name and
    /// the last change, which change on their own).
    pub fn listing(&self, id: &str) -> String {
        let points = |value: Option<f64>| value.and_then(|v| Points::from_f64(v).ok());
        let fields = ListedFields {
            id,
            url: format!("automerge:{id}"),
            kind: self.kind,
            commune: self.commune.as_deref(),
            round: self.round,
            catalog: self.catalog.as_deref(),
            status: self.status.as_deref(),
            self_total: points(self.self_total),
            review_total: points(self.review_total),
            verdict: self.verdict.as_deref(),
            open_conflicts: self.open_conflicts,
            criteria: serde_json::from_str(&self.criteria).unwrap_or_default(),
            changed_after_submission: self
                .changed_after_submission
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
        };
        let object = serde_json::to_string(&fields).unwrap_or_else(|_| "{}".to_owned());
        object[1..object.len() - 1].to_owned()
    }
}

/// The fields of a [`DocumentRow`] that its summary decides, named as there.
#[derive(Serialize)]
struct ListedFields<'a> {
    id: &'a str,
    url: String,
    kind: &'a str,
    commune: Option<&'a str>,
    round: Option<i32>,
    catalog: Option<&'a str>,
    status: Option<&'a str>,
    self_total: Option<Points>,
    review_total: Option<Points>,
    verdict: Option<&'a str>,
    open_conflicts: i32,
    /// Points per criterion ([`CriterionPoints`]), for the overview's heat map and charts, as
    /// short arrays ([`criteria_points`]); left out while nothing is scored against a catalog.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "criteria_points::serialize"
    )]
    criteria: Vec<CriterionPoints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_after_submission: Option<ChangedAfterSubmission>,
}

/// The head of a summary upsert (its columns), shared with the many-row upsert of
/// [`crate::store::document::persist`].
pub const SUMMARY_INTO: &str = "INSERT INTO document_summaries (document_id, kind, commune, \
     round, catalog, catalog_revision, status, self_total, review_total, verdict, verdict_side, \
     reasons, criteria, open_conflicts, problem, changes, last_change_at, last_change_by, \
     updated_at, status_history, listing, changed_after_submission) ";

/// The tail of a summary upsert: the update that never goes back to fewer changes.
pub const SUMMARY_ON_CONFLICT: &str = " ON CONFLICT (document_id) DO UPDATE SET \
     kind = excluded.kind, commune = excluded.commune, round = excluded.round, \
     catalog = excluded.catalog, catalog_revision = excluded.catalog_revision, \
     status = excluded.status, self_total = excluded.self_total, \
     review_total = excluded.review_total, verdict = excluded.verdict, \
     verdict_side = excluded.verdict_side, reasons = excluded.reasons, \
     criteria = excluded.criteria, open_conflicts = excluded.open_conflicts, \
     problem = excluded.problem, changes = excluded.changes, updated_at = excluded.updated_at, \
     status_history = excluded.status_history, listing = excluded.listing, \
     changed_after_submission = excluded.changed_after_submission \
     WHERE document_summaries.changes <= excluded.changes";

/// The one-row summary upsert.
static UPSERT_SUMMARY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SUMMARY_INTO}VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22){SUMMARY_ON_CONFLICT}"
    )
});

/// Writes a summary inside an open transaction (of either database): inserts the row, or
/// updates it unless it already holds a summary of more changes. With `last` (`(at, by)`,
/// `by` a user id if a person made it), also records the last change, unless a later one is
/// already recorded.
pub async fn upsert_summary<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    id: &str,
    record: &SummaryRecord,
    now: i64,
    last: Option<(i64, Option<&str>)>,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i32>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(UPSERT_SUMMARY.as_str())
        .bind(id)
        .bind(record.kind)
        .bind(&record.commune)
        .bind(record.round)
        .bind(&record.catalog)
        .bind(record.catalog_revision)
        .bind(&record.status)
        .bind(record.self_total)
        .bind(record.review_total)
        .bind(&record.verdict)
        .bind(&record.verdict_side)
        .bind(&record.reasons)
        .bind(&record.criteria)
        .bind(record.open_conflicts)
        .bind(&record.problem)
        .bind(record.changes)
        .bind(last.map(|(at, _)| at))
        .bind(last.and_then(|(_, by)| by))
        .bind(now)
        .bind(&record.status_history)
        .bind(record.listing(id))
        .bind(&record.changed_after_submission)
        .execute(&mut **tx)
        .await?;
    if let Some((at, by)) = last {
        sqlx::query(
            "UPDATE document_summaries SET last_change_at = $2, last_change_by = $3 \
             WHERE document_id = $1 AND (last_change_at IS NULL OR last_change_at <= $2)",
        )
        .bind(id)
        .bind(at)
        .bind(by)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Writes a summary on its own (after merging another node's chunks): the content columns
/// only, and only if it summarizes at least as many changes as the stored row.
pub async fn refresh(
    store: &Store,
    id: DocumentId,
    record: &SummaryRecord,
    files: Option<&[String]>,
) -> Result<(), StoreError> {
    let id = id.to_string();
    let now = now_millis();
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        upsert_summary(&mut tx, &id, record, now, None).await?;
        if let Some(files) = files {
            crate::store::file::write_references(&mut tx, &[(id.as_str(), record.changes, files)], now)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A summary row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSummary {
    pub record: SummaryRecord,
    pub last_change_at: Option<i64>,
    pub last_change_by: Option<String>,
}

type SummaryColumns = (
    String,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<String>,
    String,
    String,
    i32,
    Option<String>,
    i64,
    Option<String>,
);

/// The stored summary of one document, if it has one.
pub async fn stored(store: &Store, id: DocumentId) -> Result<Option<StoredSummary>, StoreError> {
    type Head = (String, Option<i64>, Option<String>, Option<String>);
    let row: Option<Head> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT kind, last_change_at, last_change_by, changed_after_submission \
             FROM document_summaries WHERE document_id = $1",
        )
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?
    });
    let Some((_, last_change_at, last_change_by, changed_after_submission)) = row else {
        return Ok(None);
    };
    let columns: SummaryColumns = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT kind, commune, round, catalog, catalog_revision, status, self_total, \
             review_total, verdict, verdict_side, reasons, criteria, open_conflicts, problem, \
             changes, status_history FROM document_summaries WHERE document_id = $1",
        )
        .bind(id.to_string())
        .fetch_one(pool)
        .await?
    });
    let (
        kind,
        commune,
        round,
        catalog,
        catalog_revision,
        status,
        self_total,
        review_total,
        verdict,
        verdict_side,
        reasons,
        criteria,
        open_conflicts,
        problem,
        changes,
        status_history,
    ) = columns;
    let kind = tramyte_shared::summary::Kind::parse(&kind)
        .unwrap_or(tramyte_shared::summary::Kind::Json)
        .as_str();
    Ok(Some(StoredSummary {
        record: SummaryRecord {
            kind,
            commune,
            round,
            catalog,
            catalog_revision,
            status,
            status_history: status_history.unwrap_or_else(|| "[]".to_owned()),
            self_total,
            review_total,
            verdict,
            verdict_side,
            reasons,
            criteria,
            open_conflicts,
            problem,
            changes,
            changed_after_submission,
        },
        last_change_at,
        last_change_by,
    }))
}

/// Documents without a summary row, or with one written before `status_history` existed, after
/// id `after` in id order, `limit` at most: id, creation time and creator.
pub async fn without_summary(
    store: &Store,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, i64, String)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT d.id, d.created_at, d.created_by FROM documents d \
             LEFT JOIN document_summaries s ON s.document_id = d.id \
             WHERE (s.document_id IS NULL OR s.status_history IS NULL) AND d.id > $2 \
             ORDER BY d.id LIMIT $1",
        )
        .bind(limit)
        .bind(after)
        .fetch_all(pool)
        .await?
    }))
}

/// Writes the summary the start-up backfill computed for document `id`, and its last change
/// (`last_at`, by `last_by`) unless one is recorded already.
pub async fn write_backfilled(
    store: &Store,
    id: &str,
    record: &SummaryRecord,
    now: i64,
    last_at: i64,
    last_by: Option<&str>,
) -> Result<(), StoreError> {
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        upsert_summary(&mut tx, id, record, now, None).await?;
        sqlx::query(
            "UPDATE document_summaries SET last_change_at = $2, last_change_by = $3 \
             WHERE document_id = $1 AND last_change_at IS NULL",
        )
        .bind(id)
        .bind(last_at)
        .bind(last_by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// One document as listed (a REST type).
pub use tramyte_shared::rest::DocumentRow;

/// Which rows to list. Every field narrows the list; `None` does not.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only the communes in the scope of the user with this id: those of their units, as
    /// `unit_communes` holds them (joined in SQL; `None`: every commune).
    pub scope_of: Option<String>,
    pub commune: Option<String>,
    pub kind: Option<String>,
    pub round: Option<i32>,
    pub status: Option<String>,
    /// Only these documents.
    pub ids: Option<Vec<String>>,
}

/// Most rows one listing answers; a caller who needs more narrows the filter.
pub const MAX_LISTED: usize = 50_000;

/// Why rows could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(
        "more than {MAX_LISTED} documents match; narrow the list with commune, kind, round or status"
    )]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ListError {
    fn from(err: sqlx::Error) -> Self {
        ListError::Store(StoreError::Query(err))
    }
}

/// The columns of a [`DocumentRow`], in the order [`to_row`] reads them.
const ROW_COLUMNS: &str = "s.document_id, s.kind, s.commune, u.name, s.round, s.catalog, \
     s.status, s.self_total, s.review_total, s.verdict, s.open_conflicts, s.last_change_at, \
     s.last_change_by, s.changed_after_submission, s.criteria";

/// What [`list_json_by`] reads of each row besides its object: the name it is ordered by (its
/// commune's name, else its commune's code, kept by the database with the object), its commune
/// and its id ([`RowOrder`]).
const ORDER_COLUMNS: &str = "s.listed_name, s.commune, s.document_id";

/// What [`list_json_by`] reads of each row to tally its rows ([`Tally`]): status, verdict and
/// open conflicts. (Totals are left in the rows' objects: SQLite writing 10,000 of them as text
/// took 4–5 ms, and only targets with a local minimum need them.)
const TALLY_COLUMNS: [&str; 3] = ["s.status", "s.verdict", "s.open_conflicts"];

/// The listing statement: `columns` of the summaries that [`bind_filter`]'s `$1`–`$6` select,
/// in listing order, at most `$7` rows. `$1` is a user whose scope is joined; `$6` a JSON array
/// of document ids, read by each database its own way. `table`: `document_summaries`, or on
/// PostgreSQL [`LISTED_APART`] when `columns` are among its own.
fn list_sql(columns: &str, table: &str, postgres: bool) -> String {
    // The units are joined only for their names, which the stored objects already hold.
    let units = if columns.contains("u.") {
        "LEFT JOIN units u ON u.code = s.commune"
    } else {
        ""
    };
    let in_json = |n: u8| {
        if postgres {
            format!("SELECT jsonb_array_elements_text(${n}::text::jsonb)")
        } else {
            format!("SELECT value FROM json_each(${n})")
        }
    };
    format!(
        "SELECT {columns} FROM {table} s {units} \
         WHERE s.kind IN ('assessment', 'roster') AND {scope} \
         AND ($2 IS NULL OR s.commune = $2) AND ($3 IS NULL OR s.kind = $3) \
         AND ($4 IS NULL OR s.round = $4) AND ($5 IS NULL OR s.status = $5) \
         AND ($6 IS NULL OR s.document_id IN ({ids})) {LISTING_ORDER} LIMIT $7",
        scope = crate::store::unit::in_scope_of("s.commune", 1),
        ids = in_json(6),
    )
}

/// The listing's order. NULLs are placed explicitly: the databases disagree on where they go.
const LISTING_ORDER: &str = "ORDER BY s.commune IS NULL, s.commune, s.kind, s.round IS NULL, \
     s.round DESC, s.document_id";

/// [`list`]'s statement on SQLite.
static SQLITE_LIST: LazyLock<String> =
    LazyLock::new(|| list_sql(ROW_COLUMNS, "document_summaries", false));
/// [`list`]'s statement on PostgreSQL.
static POSTGRES_LIST: LazyLock<String> =
    LazyLock::new(|| list_sql(ROW_COLUMNS, "document_summaries", true));
/// [`list_json`]'s statement on PostgreSQL: each row's stored object.
static POSTGRES_LIST_LISTED: LazyLock<String> =
    LazyLock::new(|| list_sql("s.listed", LISTED_APART, true));

/// PostgreSQL's copy of the summaries' columns the listings read (migration 0018: the
/// listed object, the name it is ordered by, and the columns they filter, order and count by),
/// kept by the database from each summary write. A summary row is about 1.8 KB, its listed
/// part 0.5 KB: the department's overview read 6,667 pages of summaries and 1,281 of this
/// (8.5 ms instead of 17–18 for the statement). SQLite reads the summaries themselves.
const LISTED_APART: &str = "document_listed";

type ListedRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    i32,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
);

/// A filter's documents as the JSON array the listing queries read.
fn filter_ids(filter: &Filter) -> Option<String> {
    filter
        .ids
        .as_ref()
        .map(|items| serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned()))
}

/// Binds `$1`–`$6` of a listing query: the user whose scope is joined, commune, kind, round,
/// status and the documents (JSON, as [`filter_ids`] wrote them) of `filter`.
fn bind_filter<'q, DB, O>(
    query: QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>,
    filter: &'q Filter,
    ids: &'q Option<String>,
) -> QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i32>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(&filter.scope_of)
        .bind(&filter.commune)
        .bind(&filter.kind)
        .bind(filter.round)
        .bind(&filter.status)
        .bind(ids)
}

/// Rows one listing query reads at most: one more than it answers, to tell when there are more.
const LISTED_LIMIT: i64 = MAX_LISTED as i64 + 1;

/// The rows matching `filter`, sorted by commune, then kind, then round (newest first).
pub async fn list(store: &Store, filter: &Filter) -> Result<Vec<DocumentRow>, ListError> {
    let ids = filter_ids(filter);
    let rows: Vec<ListedRow> = match store {
        Store::Sqlite(pool, _) => {
            bind_filter(sqlx::query_as(SQLITE_LIST.as_str()), filter, &ids)
                .bind(LISTED_LIMIT)
                .fetch_all(pool)
                .await?
        }
        Store::Postgres(pool) => {
            bind_filter(sqlx::query_as(POSTGRES_LIST.as_str()), filter, &ids)
                .bind(LISTED_LIMIT)
                .fetch_all(pool)
                .await?
        }
    };
    if rows.len() > MAX_LISTED {
        return Err(ListError::TooMany);
    }
    Ok(rows.into_iter().map(to_row).collect())
}

fn to_row(row: ListedRow) -> DocumentRow {
    let (
        id,
        kind,
        commune,
        commune_name,
        round,
        catalog,
        status,
        self_total,
        review_total,
        verdict,
        open_conflicts,
        last_change_at,
        last_change_by,
        changed_after_submission,
        criteria,
    ) = row;
    let points = |value: Option<f64>| value.and_then(|v| Points::from_f64(v).ok());
    DocumentRow {
        url: format!("automerge:{id}"),
        id,
        kind,
        commune,
        commune_name,
        round,
        catalog,
        status,
        self_total: points(self_total),
        review_total: points(review_total),
        verdict,
        open_conflicts,
        changed_after_submission: changed_after_submission
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok()),
        criteria: serde_json::from_str::<Vec<CriterionPoints>>(&criteria).unwrap_or_default(),
        last_change_at,
        last_change_by,
    }
}

/// The listing's statement on SQLite, joined by the database itself: the number of rows, then
/// `aggregates`, each an SQL `group_concat` of the selected rows (an overview of 10,000
/// communes is one row to read, not 10,000 through the driver).
fn sqlite_list_aggregates(aggregates: &str) -> String {
    format!(
        "SELECT COUNT(*), {aggregates} FROM document_summaries s \
         WHERE s.kind IN ('assessment', 'roster') \
         AND {scope} \
         AND ($2 IS NULL OR s.commune = $2) AND ($3 IS NULL OR s.kind = $3) \
         AND ($4 IS NULL OR s.round = $4) AND ($5 IS NULL OR s.status = $5) \
         AND ($6 IS NULL OR s.document_id IN (SELECT value FROM json_each($6)))",
        scope = crate::store::unit::in_scope_of("s.commune", 1),
    )
}

/// [`list_json`]'s statement on SQLite: the JSON array of the rows' stored objects.
static SQLITE_LIST_JSON: LazyLock<String> = LazyLock::new(|| {
    sqlite_list_aggregates(&format!(
        "'[' || COALESCE(group_concat(s.listed, ',' {LISTING_ORDER}), '') || ']'"
    ))
});

/// [`list_json_by`]'s rows: the assessments of round `$1`, in the scope of the user bound as
/// `$2` when `scoped`. Written for that case alone (not [`list_sql`]'s `$n IS NULL OR …` for
/// every filter) so that the databases find the round by its index, not by reading every row of
/// every year. SQLite joins the scope as a semi-join. PostgreSQL is given the scope as a
/// condition ([`crate::store::unit::in_scope_of`]), which it checks against a hash of the
/// scope's communes: as a semi-join, it expects about 3 communes per unit (most units are
/// communes covering themselves) and looks each of a department's 10,000 up by index: the
/// department reviewer's rows took 67–81 ms p50 that way, 36–40 this way (the overview bench).
fn round_rows(scoped: bool, postgres: bool) -> String {
    let scope = match (scoped, postgres) {
        (false, _) => String::new(),
        (true, false) => format!(
            " AND s.commune IN ({})",
            crate::store::unit::communes_of_user_sql(2)
        ),
        (true, true) => format!(" AND {}", crate::store::unit::in_scope_of("s.commune", 2)),
    };
    let table = if postgres {
        LISTED_APART
    } else {
        "document_summaries"
    };
    format!("FROM {table} s WHERE s.kind = 'assessment' AND s.round = $1{scope}")
}

/// [`list_json_by`]'s statements on SQLite (unscoped, scoped), in no order (the server orders
/// them): the number of rows and two texts of one line per row, in the same order — each row's
/// [`ORDER_COLUMNS`] and [`TALLY_COLUMNS`] as JSON values separated by tabs, and each row's
/// stored object. JSON text holds no raw tab or line break (serde and `json_quote` escape
/// them), so the lines split without parsing.
static SQLITE_ROUND_LISTING: LazyLock<[String; 2]> = LazyLock::new(|| {
    let prefix = ORDER_COLUMNS
        .split(", ")
        .chain(TALLY_COLUMNS)
        .map(|column| format!("json_quote({column})"))
        .collect::<Vec<_>>()
        .join(" || char(9) || ");
    [false, true].map(|scoped| {
        format!(
            "SELECT COUNT(*), COALESCE(group_concat({prefix}, char(10)), ''), \
             COALESCE(group_concat(s.listed, char(10)), '') {}",
            round_rows(scoped, false)
        )
    })
});

/// [`list_json_by`]'s statements on PostgreSQL (unscoped, scoped), in no order: each row's
/// stored object, its [`ORDER_COLUMNS`] and its [`TALLY_COLUMNS`].
static POSTGRES_ROUND_LISTING: LazyLock<[String; 2]> = LazyLock::new(|| {
    [false, true].map(|scoped| {
        format!(
            "SELECT s.listed, {ORDER_COLUMNS}, {} {} LIMIT {LISTED_LIMIT}",
            TALLY_COLUMNS.join(", "),
            round_rows(scoped, true)
        )
    })
});

/// [`list`] as the JSON array the API answers: each row's stored object (`listed`, which the
/// database builds from the row's `listing` fields, written by serde, its commune's name and its
/// last change; migration 0016), joined.
pub async fn list_json(store: &Store, filter: &Filter) -> Result<ListedArray, ListError> {
    let ids = filter_ids(filter);
    let array = match store {
        Store::Sqlite(_, side) => {
            let (count, array): (i64, String) =
                bind_filter(sqlx::query_as(SQLITE_LIST_JSON.as_str()), filter, &ids)
                    .fetch_one(&side.listing)
                    .await?;
            if usize::try_from(count).unwrap_or(usize::MAX) > MAX_LISTED {
                return Err(ListError::TooMany);
            }
            array
        }
        Store::Postgres(pool) => {
            let query = sqlx::query_as(POSTGRES_LIST_LISTED.as_str());
            let rows: Vec<(String,)> = bind_filter(query, filter, &ids)
                .bind(LISTED_LIMIT)
                .fetch_all(pool)
                .await?;
            if rows.len() > MAX_LISTED {
                return Err(ListError::TooMany);
            }
            join_objects(rows.iter().map(|(object,)| object.as_str()))
        }
    };
    Ok(ListedArray(array))
}

/// The assessments of `round` in the scope of user `scope_of` (`None`: every commune), as
/// [`list_json`] lists them, ordered by `key` of each row's name (its commune's name, else its
/// commune's code), rows of equal keys by commune code, then id ([`RowOrder`]), with how many
/// rows of each status, verdict and conflict state it holds: the overview's communes in
/// Vietnamese order and its counts from one read, `key` being a collation's sort key (the store
/// knows no collation). The databases send the rows unordered: ordering them there too would
/// sort every row's text (PostgreSQL spills 10,000 of them to disk).
pub async fn list_json_by<K: Ord>(
    store: &Store,
    round: i32,
    scope_of: Option<&str>,
    key: impl Fn(&str) -> K,
) -> Result<OrderedListing, ListError> {
    let statement = usize::from(scope_of.is_some());
    // Each row's sort key, order, stored object and state (an index into the tally).
    let mut rows: Vec<(K, RowOrder<'_>, &str, usize)>;
    let mut tally = Tally::default();
    let sqlite_text: (String, String);
    let postgres_rows: Vec<NamedRow>;
    match store {
        Store::Sqlite(_, side) => {
            let mut query = sqlx::query_as(SQLITE_ROUND_LISTING[statement].as_str()).bind(round);
            if let Some(user) = scope_of {
                query = query.bind(user);
            }
            let (count, prefixes, objects): (i64, String, String) =
                query.fetch_one(&side.listing).await?;
            if usize::try_from(count).unwrap_or(usize::MAX) > MAX_LISTED {
                return Err(ListError::TooMany);
            }
            sqlite_text = (prefixes, objects);
            let prefixes = sqlite_text.0.split('\n').filter(|line| !line.is_empty());
            let objects = sqlite_text.1.split('\n').filter(|line| !line.is_empty());
            rows = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
            for (prefix, object) in prefixes.zip(objects) {
                let (name, order, state) = RowOrder::parse(prefix).ok_or_else(|| {
                    ListError::Store(StoreError::Query(sqlx::Error::Protocol(format!(
                        "a listing line is not its order's and tally's fields: {prefix}"
                    ))))
                })?;
                rows.push((key(&name), order, object, tally.add(state)));
            }
            if rows.len() != usize::try_from(count).unwrap_or(0) {
                return Err(ListError::Store(StoreError::Query(sqlx::Error::Protocol(
                    "the listing's lines do not match its rows".to_owned(),
                ))));
            }
        }
        Store::Postgres(pool) => {
            let mut query = sqlx::query_as(POSTGRES_ROUND_LISTING[statement].as_str()).bind(round);
            if let Some(user) = scope_of {
                query = query.bind(user);
            }
            postgres_rows = query.fetch_all(pool).await?;
            if postgres_rows.len() > MAX_LISTED {
                return Err(ListError::TooMany);
            }
            rows = Vec::with_capacity(postgres_rows.len());
            for (object, name, commune, id, status, verdict, conflicts) in &postgres_rows {
                let state = tally.add(RowState {
                    status: status.as_deref().map(Cow::Borrowed),
                    verdict: verdict.as_deref().map(Cow::Borrowed),
                    conflicted: *conflicts > 0,
                });
                let order = RowOrder {
                    commune: commune.as_deref().map(Cow::Borrowed),
                    id: Cow::Borrowed(id),
                };
                rows.push((key(name), order, object.as_str(), state));
            }
        }
    }
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.key().cmp(&b.1.key())));
    let listed = rows.len();
    let mut array =
        String::with_capacity(2 + rows.iter().map(|row| row.2.len() + 1).sum::<usize>());
    let mut facts = Vec::with_capacity(listed);
    array.push('[');
    for (index, (_, order, object, state)) in rows.into_iter().enumerate() {
        if index > 0 {
            array.push(',');
        }
        let start = array.len();
        array.push_str(object);
        facts.push(RowFacts {
            id: order.id.into_owned(),
            state,
            object: start..array.len(),
        });
    }
    array.push(']');
    Ok(OrderedListing {
        array: ListedArray(array),
        rows: listed,
        tally: tally.into_counts(),
        facts,
    })
}

/// [`list_json_by`]'s answer.
#[derive(Debug)]
pub struct OrderedListing {
    /// The rows' stored objects, ordered, as one JSON array.
    pub array: ListedArray,
    /// How many rows.
    pub rows: usize,
    /// How many rows of each status and verdict (`None`: the row has none), with open
    /// conflicts (`true`) or not, in the order first seen.
    pub tally: Vec<(StateCount, usize)>,
    /// Each row's id, state and place in the array, in the array's order.
    pub facts: Vec<RowFacts>,
}

impl OrderedListing {
    /// The stored object of the row `facts` are of.
    pub fn object(&self, facts: &RowFacts) -> &str {
        self.array.get().get(facts.object.clone()).unwrap_or("")
    }
}

/// What a listed row is besides its object: its id, its state (an index into
/// [`OrderedListing::tally`]) and where its object is in [`OrderedListing::array`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFacts {
    pub id: String,
    pub state: usize,
    pub object: std::ops::Range<usize>,
}

/// A row's status, verdict and whether it has open conflicts, as [`OrderedListing::tally`]
/// counts them.
pub type StateCount = (Option<String>, Option<String>, bool);

/// A row's [`TALLY_COLUMNS`], borrowed from what the database sent.
#[derive(Debug, PartialEq)]
struct RowState<'a> {
    status: Option<Cow<'a, str>>,
    verdict: Option<Cow<'a, str>>,
    conflicted: bool,
}

/// Rows counted by [`RowState`]: a listing has few distinct states, so a short list searched
/// in place, without a key made for each row.
#[derive(Debug, Default)]
struct Tally<'a> {
    counts: Vec<(RowState<'a>, usize)>,
}

impl<'a> Tally<'a> {
    /// Counts a row of `state`; its index among the states seen.
    fn add(&mut self, state: RowState<'a>) -> usize {
        match self.counts.iter().position(|(seen, _)| *seen == state) {
            Some(index) => {
                self.counts[index].1 += 1;
                index
            }
            None => {
                self.counts.push((state, 1));
                self.counts.len() - 1
            }
        }
    }

    /// The states seen, in that order, with their counts.
    fn into_counts(self) -> Vec<(StateCount, usize)> {
        self.counts
            .into_iter()
            .map(|(state, n)| {
                let owned = |text: Option<Cow<'a, str>>| text.map(Cow::into_owned);
                let state = (owned(state.status), owned(state.verdict), state.conflicted);
                (state, n)
            })
            .collect()
    }
}

/// The order of rows of equal names in [`list_json_by`]: by commune (rows without one last),
/// then id. (The overview lists one assessment per commune, so this is the listing's own order
/// there, [`LISTING_ORDER`].)
#[derive(Debug)]
struct RowOrder<'a> {
    commune: Option<Cow<'a, str>>,
    id: Cow<'a, str>,
}

impl<'a> RowOrder<'a> {
    /// Reads a line of [`SQLITE_ROUND_LISTING`]'s prefixes: the name, the order's fields and the
    /// tally's, as JSON values separated by tabs.
    fn parse(line: &'a str) -> Option<(Cow<'a, str>, RowOrder<'a>, RowState<'a>)> {
        let mut fields = line.split('\t');
        let mut next = || fields.next();
        let name = serde_json::from_str::<Cow<'a, str>>(next()?).ok()?;
        let commune = serde_json::from_str::<Option<Cow<'a, str>>>(next()?).ok()?;
        let id = serde_json::from_str::<Cow<'a, str>>(next()?).ok()?;
        let status = serde_json::from_str::<Option<Cow<'a, str>>>(next()?).ok()?;
        let verdict = serde_json::from_str::<Option<Cow<'a, str>>>(next()?).ok()?;
        let conflicts = next()?.parse::<i64>().ok()?;
        let state = RowState {
            status,
            verdict,
            conflicted: conflicts > 0,
        };
        Some((name, RowOrder { commune, id }, state))
    }

    /// Rows without a commune last.
    fn key(&self) -> (bool, &Option<Cow<'a, str>>, &Cow<'a, str>) {
        (self.commune.is_none(), &self.commune, &self.id)
    }
}

/// Rows' stored objects joined into the listing's JSON array.
fn join_objects<'a>(objects: impl Iterator<Item = &'a str> + Clone) -> String {
    let mut array = String::with_capacity(2 + objects.clone().map(|o| o.len() + 1).sum::<usize>());
    array.push('[');
    for (index, object) in objects.enumerate() {
        if index > 0 {
            array.push(',');
        }
        array.push_str(object);
    }
    array.push(']');
    array
}

/// Rows' stored objects joined into the JSON array a listing answers. Only this server writes
/// them (serde, and the database's triggers of migration 0016 from serde's fields), so the
/// array goes out as it is: parsing it again to check it took 6–7 ms for 10,000 rows, a
/// seventh of an overview. (The tests parse every listing they read.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedArray(String);

impl ListedArray {
    /// An array from the text of one, for tests.
    #[cfg(test)]
    pub(crate) fn from_text(text: &str) -> ListedArray {
        ListedArray(text.to_owned())
    }

    /// The array's JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ListedArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A row of [`POSTGRES_ROUND_LISTING`]: its stored object, its [`ORDER_COLUMNS`] and its
/// [`TALLY_COLUMNS`].
type NamedRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    i32,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_fields_are_the_rows_fields_as_serde_writes_them() {
        let record = SummaryRecord {
            kind: "assessment",
            commune: Some("16024".to_owned()),
            round: Some(2024),
            catalog: Some("QD1300-2023".to_owned()),
            catalog_revision: Some(1),
            status: Some("approved".to_owned()),
            status_history: "[]".to_owned(),
            self_total: Some(85.5),
            review_total: Some(90.0),
            verdict: Some("pass".to_owned()),
            verdict_side: Some("review".to_owned()),
            reasons: "[]".to_owned(),
            criteria: r#"[{"id":"TC1","max":14,"required":7,"self":6.5}]"#.to_owned(),
            open_conflicts: 2,
            problem: None,
            changes: 7,
            changed_after_submission: Some(
                r#"{"items":["TC4"],"by":["lan"],"at":9000}"#.to_owned(),
            ),
        };
        let fields = record.listing("abc\"d");
        assert!(
            fields.contains(r#""self_total":85.5,"review_total":90,"#),
            "{fields}"
        );
        assert!(
            fields.contains(r#""criteria":[["TC1",14,7,6.5]]"#),
            "criteria as short arrays: {fields}"
        );
        let row: DocumentRow = serde_json::from_str(&format!(
            r#"{{{fields},"commune_name":null,"last_change_at":null,"last_change_by":null}}"#
        ))
        .unwrap();
        assert_eq!(
            row,
            DocumentRow {
                id: "abc\"d".to_owned(),
                url: "automerge:abc\"d".to_owned(),
                kind: "assessment".to_owned(),
                commune: Some("16024".to_owned()),
                commune_name: None,
                round: Some(2024),
                catalog: Some("QD1300-2023".to_owned()),
                status: Some("approved".to_owned()),
                self_total: Some(Points::from_halves(171)),
                review_total: Some(Points::whole(90)),
                verdict: Some("pass".to_owned()),
                open_conflicts: 2,
                changed_after_submission: Some(ChangedAfterSubmission {
                    items: vec!["TC4".to_owned()],
                    by: vec!["lan".to_owned()],
                    actors: Vec::new(),
                    at: 9000,
                }),
                criteria: vec![CriterionPoints {
                    id: "TC1".to_owned(),
                    max: Points::whole(14),
                    required: Points::whole(7),
                    self_points: Some(Points::from_halves(13)),
                    review_points: None,
                }],
                last_change_at: None,
                last_change_by: None,
            }
        );
    }

    #[test]
    fn a_listing_line_gives_its_order_and_its_state_and_the_tally_counts_states() {
        let line = "\"X\\u00e3 \\\"A\\\"\"\t\"16024\"\t\"doc-1\"\t\"approved\"\tnull\t3";
        let (name, order, state) = RowOrder::parse(line).expect("a line");
        assert_eq!(name, "Xã \"A\"");
        assert_eq!(order.commune.as_deref(), Some("16024"));
        assert_eq!(order.id, "doc-1");
        assert_eq!(
            state,
            RowState {
                status: Some(Cow::Borrowed("approved")),
                verdict: None,
                conflicted: true,
            }
        );
        assert!(
            RowOrder::parse("\"name\"\tnull\t\"doc\"").is_none(),
            "no tally fields"
        );

        let mut tally = Tally::default();
        let state =
            |status: Option<&'static str>, verdict: Option<&'static str>, conflicted| RowState {
                status: status.map(Cow::Borrowed),
                verdict: verdict.map(Cow::Borrowed),
                conflicted,
            };
        let added = [
            tally.add(state(Some("draft"), None, false)),
            tally.add(state(Some("approved"), Some("pass"), false)),
            tally.add(state(Some("draft"), None, false)),
            tally.add(state(Some("draft"), None, true)),
        ];
        assert_eq!(added, [0, 1, 0, 2], "each row's state by its index");
        let owned = |text: &str| Some(text.to_owned());
        assert_eq!(
            tally.into_counts(),
            vec![
                ((owned("draft"), None, false), 2),
                ((owned("approved"), owned("pass"), false), 1),
                ((owned("draft"), None, true), 1),
            ]
        );
    }
}
