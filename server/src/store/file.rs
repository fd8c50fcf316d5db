//! Evidence files in the database (`files`, `file_parts`, `file_communes`, `file_usage`,
//! `file_references`; see migration `0012_files.sql`): content-addressed by SHA-256, stored once,
//! in parts of [`PART_BYTES`], so that a backup of the database is a backup of the files and
//! several nodes share them.
//!
//! An upload writes its parts one small transaction at a time while the body streams in (never
//! holding the whole body, nor the database's writer for the length of an upload), under a blob
//! id of its own; [`commit_upload`] then makes them the file in one transaction (insert-if-absent
//! on the SHA-256, the commune's quota charged with a conditional update), or the caller
//! [`discard`]s them. The references from documents are written with each document's summary
//! ([`write_references`], used by `store::document::persist` and `store::summary::refresh`).

use crate::store::{Store, StoreError};
use crate::with_pool;

/// The most bytes of one stored part.
pub const PART_BYTES: usize = 256 << 10;

/// A stored file's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub sha256: String,
    pub blob: String,
    pub media_type: String,
    pub size: i64,
    pub created_at: i64,
}

type FileColumns = (String, String, String, i64, i64);

fn row((sha256, blob, media_type, size, created_at): FileColumns) -> FileRow {
    FileRow {
        sha256,
        blob,
        media_type,
        size,
        created_at,
    }
}

/// The file named `sha256`, if stored.
pub async fn find(store: &Store, sha256: &str) -> Result<Option<FileRow>, StoreError> {
    let found: Option<FileColumns> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT sha256, blob, media_type, size, created_at FROM files WHERE sha256 = $1",
        )
        .bind(sha256)
        .fetch_optional(pool)
        .await?
    });
    Ok(found.map(row))
}

/// Stores part `seq` of an upload's blob (its own transaction).
pub async fn put_part(
    store: &Store,
    blob: &str,
    seq: i64,
    data: &[u8],
    now: i64,
) -> Result<(), StoreError> {
    crate::with_write_pool!(store, pool => {
        sqlx::query(
            "INSERT INTO file_parts (blob, seq, data, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (blob, seq) DO UPDATE SET data = excluded.data",
        )
        .bind(blob)
        .bind(seq)
        .bind(data)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Deletes the parts of a blob that became no file (a refused or duplicate upload).
pub async fn discard(store: &Store, blob: &str) -> Result<(), StoreError> {
    crate::with_write_pool!(store, pool => {
        sqlx::query("DELETE FROM file_parts WHERE blob = $1 AND blob NOT IN (SELECT blob FROM files)")
            .bind(blob)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Part `seq` of a blob, if there is one.
pub async fn read_part(store: &Store, blob: &str, seq: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let found: Option<(Vec<u8>,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT data FROM file_parts WHERE blob = $1 AND seq = $2")
            .bind(blob)
            .bind(seq)
            .fetch_optional(pool)
            .await?
    });
    Ok(found.map(|(data,)| data))
}

/// An upload whose bytes were checked (hash, type, size) and whose parts are stored under
/// `blob` (or, when the file was already stored, not written again).
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    pub sha256: &'a str,
    pub blob: &'a str,
    pub media_type: &'a str,
    pub size: i64,
    pub commune: &'a str,
}

/// What [`commit_upload`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// The file is stored now, from this upload's parts.
    Created,
    /// It was stored already (this upload's parts are not used: discard them).
    Existed,
    /// Nothing changed: the commune's files would exceed `quota` bytes (`used` now).
    OverQuota { used: i64 },
}

/// Makes an upload's parts the file `sha256` unless it exists (one transaction: the primary key
/// decides between concurrent uploads of the same bytes), records the commune it was uploaded
/// for, and charges its size to that commune once, only within `quota`.
pub async fn commit_upload(
    store: &Store,
    upload: &Upload<'_>,
    quota: i64,
    now: i64,
) -> Result<Committed, StoreError> {
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO files (sha256, blob, media_type, size, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(upload.sha256)
        .bind(upload.blob)
        .bind(upload.media_type)
        .bind(upload.size)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let new_for_commune = sqlx::query(
            "INSERT INTO file_communes (sha256, commune, uploaded_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256, commune) DO NOTHING",
        )
        .bind(upload.sha256)
        .bind(upload.commune)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if new_for_commune {
            // The stored size (the same bytes, so the same size, but the row is the truth).
            let (size,): (i64,) = sqlx::query_as("SELECT size FROM files WHERE sha256 = $1")
                .bind(upload.sha256)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO file_usage (commune, bytes) VALUES ($1, 0) ON CONFLICT (commune) DO NOTHING",
            )
            .bind(upload.commune)
            .execute(&mut *tx)
            .await?;
            let charged = sqlx::query(
                "UPDATE file_usage SET bytes = bytes + $2 WHERE commune = $1 AND bytes + $2 <= $3",
            )
            .bind(upload.commune)
            .bind(size)
            .bind(quota)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !charged {
                let (used,): (i64,) =
                    sqlx::query_as("SELECT bytes FROM file_usage WHERE commune = $1")
                        .bind(upload.commune)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.rollback().await?;
                return Ok(Committed::OverQuota { used });
            }
        }
        tx.commit().await?;
        Ok(if created { Committed::Created } else { Committed::Existed })
    })
}

/// Bytes of files charged to a commune.
pub async fn usage(store: &Store, commune: &str) -> Result<i64, StoreError> {
    let found: Option<(i64,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT bytes FROM file_usage WHERE commune = $1")
            .bind(commune)
            .fetch_optional(pool)
            .await?
    });
    Ok(found.map_or(0, |(bytes,)| bytes))
}

/// How much the database holds: files, their parts (those of uploads under way or cut off
/// included), and the files' bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub files: i64,
    pub parts: i64,
    pub bytes: i64,
}

/// [`Totals`] now.
pub async fn totals(store: &Store) -> Result<Totals, StoreError> {
    let (files, parts, bytes): (i64, i64, i64) = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM files), (SELECT COUNT(*) FROM file_parts), \
             (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files)",
        )
        .fetch_one(pool)
        .await?
    });
    Ok(Totals {
        files,
        parts,
        bytes,
    })
}

/// Whether the file was uploaded for `commune` already (then it is not charged again).
pub async fn uploaded_for(store: &Store, sha256: &str, commune: &str) -> Result<bool, StoreError> {
    // COUNT(*) is a BIGINT on both databases (PostgreSQL's `SELECT 1` is an INT4, which
    // does not decode as i64: every upload of a file already uploaded for its commune was
    // answered 503 there).
    let (count,): (i64,) = with_pool!(store, pool => {
        sqlx::query_as("SELECT COUNT(*) FROM file_communes WHERE sha256 = $1 AND commune = $2")
            .bind(sha256)
            .bind(commune)
            .fetch_one(pool)
            .await?
    });
    Ok(count > 0)
}

/// The communes whose readers may read the file: those of the documents that name it now, and
/// those it was uploaded for.
pub async fn reader_communes(store: &Store, sha256: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT s.commune FROM file_references r \
             JOIN document_summaries s ON s.document_id = r.document_id \
             WHERE r.sha256 = $1 AND r.dropped_at IS NULL AND s.commune IS NOT NULL \
             UNION SELECT commune FROM file_communes WHERE sha256 = $1",
        )
        .bind(sha256)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(|(commune,)| commune).collect())
}

/// The files a document names now, in order.
pub async fn referenced_by(store: &Store, document_id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT sha256 FROM file_references WHERE document_id = $1 AND dropped_at IS NULL \
             ORDER BY sha256",
        )
        .bind(document_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(|(sha,)| sha).collect())
}

/// Replaces, inside an open transaction, the references of documents whose summary row holds
/// exactly the given change count (a persist of fewer changes that committed late leaves the
/// newer references alone): `docs` is a slice of `(document id, changes, file ids)`.
pub async fn write_references<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    docs: &[(&str, i64, &[String])],
    now: i64,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> (String, i64): sqlx::FromRow<'r, DB::Row>,
{
    // At most 100 documents a statement: their ids and kept files stay well within
    // SQLite's 32,766 bound values.
    for part in docs.chunks(100) {
        // Which of these documents' rows hold these very change counts.
        let mut query = sqlx::QueryBuilder::new(
            "SELECT document_id, changes FROM document_summaries WHERE document_id IN (",
        );
        let mut ids = query.separated(", ");
        for (id, ..) in part {
            ids.push_bind((*id).to_owned());
        }
        query.push(")");
        let stored: Vec<(String, i64)> = query
            .build_query_as()
            .persistent(false)
            .fetch_all(&mut **tx)
            .await?;
        let current: Vec<&(&str, i64, &[String])> = part
            .iter()
            .filter(|(id, changes, _)| {
                stored.iter().any(|(stored_id, stored_changes)| {
                    stored_id.as_str() == *id && stored_changes == changes
                })
            })
            .collect();
        if current.is_empty() {
            continue;
        }
        // References these versions no longer hold are dropped; those they still hold are
        // left as they are (no row rewritten at every change).
        let mut query = sqlx::QueryBuilder::new("UPDATE file_references SET dropped_at = ");
        query.push_bind(now).push(" WHERE dropped_at IS NULL AND (");
        for (index, (id, _, files)) in current.iter().enumerate() {
            if index > 0 {
                query.push(" OR ");
            }
            query.push("(document_id = ").push_bind((*id).to_owned());
            if !files.is_empty() {
                query.push(" AND sha256 NOT IN (");
                let mut kept = query.separated(", ");
                for file in files.iter() {
                    kept.push_bind(file.clone());
                }
                query.push(")");
            }
            query.push(")");
        }
        query.push(")");
        query.build().persistent(false).execute(&mut **tx).await?;
        let rows: Vec<(&str, &String)> = current
            .iter()
            .flat_map(|(id, _, files)| files.iter().map(move |file| (*id, file)))
            .collect();
        for rows in rows.chunks(400) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO file_references (sha256, document_id, dropped_at) ",
            );
            query.push_values(rows, |mut row, (id, file)| {
                row.push_bind((*file).clone())
                    .push_bind((*id).to_owned())
                    .push_bind(None::<i64>);
            });
            query.push(
                " ON CONFLICT (sha256, document_id) DO UPDATE SET dropped_at = NULL \
                     WHERE file_references.dropped_at IS NOT NULL",
            );
            query.build().persistent(false).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// A file the sweep deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweptFile {
    pub sha256: String,
    pub media_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// Files uploaded before `cutoff` that no document names, nor named at or after `cutoff`: the
/// sweep's candidates, oldest first.
pub async fn unreferenced_since(store: &Store, cutoff: i64) -> Result<Vec<SweptFile>, StoreError> {
    let rows: Vec<(String, String, i64, i64)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT f.sha256, f.media_type, f.size, f.created_at FROM files f \
             WHERE f.created_at < $1 AND NOT EXISTS (SELECT 1 FROM file_references r \
               WHERE r.sha256 = f.sha256 AND (r.dropped_at IS NULL OR r.dropped_at >= $1)) \
             ORDER BY f.created_at, f.sha256",
        )
        .bind(cutoff)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(sha256, media_type, size, created_at)| SweptFile {
            sha256,
            media_type,
            size,
            created_at,
        })
        .collect())
}

/// Deletes one file if it is still unreferenced as [`unreferenced_since`] says (checked again
/// in the deleting transaction, so a reference written meanwhile keeps it): its parts, its
/// communes and their charge. Whether it was deleted.
pub async fn delete_unreferenced(
    store: &Store,
    sha256: &str,
    cutoff: i64,
) -> Result<bool, StoreError> {
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let found: Option<(String, i64)> = sqlx::query_as(
            "SELECT f.blob, f.size FROM files f WHERE f.sha256 = $1 AND f.created_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM file_references r WHERE r.sha256 = f.sha256 \
               AND (r.dropped_at IS NULL OR r.dropped_at >= $2))",
        )
        .bind(sha256)
        .bind(cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((blob, size)) = found else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query(
            "UPDATE file_usage SET bytes = CASE WHEN bytes > $2 THEN bytes - $2 ELSE 0 END \
             WHERE commune IN (SELECT commune FROM file_communes WHERE sha256 = $1)",
        )
        .bind(sha256)
        .bind(size)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM file_communes WHERE sha256 = $1")
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM files WHERE sha256 = $1")
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM file_parts WHERE blob = $1")
            .bind(&blob)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Forgets references dropped before `cutoff` (they no longer keep anything), and deletes
/// parts older than `orphans_before` that belong to no file (uploads a crash cut off). How many
/// parts it deleted.
pub async fn tidy(store: &Store, cutoff: i64, orphans_before: i64) -> Result<u64, StoreError> {
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM file_references WHERE dropped_at IS NOT NULL AND dropped_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        let parts = sqlx::query(
            "DELETE FROM file_parts WHERE created_at < $1 AND blob NOT IN (SELECT blob FROM files)",
        )
        .bind(orphans_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(parts)
    })
}
