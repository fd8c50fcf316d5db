//! Documents in the database: a row per document and its content-addressed chunks.
//!
//! Every write is one transaction (chunks ready together share one: [`persist`]), committed
//! before the caller hears of success, and every write of content also writes the document's
//! summary row (see [`crate::store::summary`]); on PostgreSQL the same transaction notifies the other
//! server nodes (`NOTIFY tramyte_chunks`), which is delivered only if it commits.

use tramyte_shared::sync::{Chunk, ChunkKey, ChunkKind, DocumentId};

use crate::store::summary::SummaryRecord;
use crate::store::{Store, StoreError, now_millis};
use crate::with_pool;

/// The statement that inserts a chunk (of either database), ignoring one already there: the
/// caller executes it inside its open transaction.
fn insert_chunk<'q, DB>(
    id: &'q str,
    chunk: &'q Chunk,
    now: i64,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO chunks (document_id, key, kind, data, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (document_id, key) DO NOTHING",
    )
    .bind(id)
    .bind(chunk.key.as_str())
    .bind(chunk.kind.as_str())
    .bind(chunk.bytes.as_slice())
    .bind(now)
}

/// The PostgreSQL channel on which nodes announce stored chunks: payload `<node id> <document id>`.
pub const CHUNKS_CHANNEL: &str = "tramyte_chunks";

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// Assessment of a commune for a round (hồ sơ đánh giá).
    Assessment,
    /// Roster of a commune's station (danh sách nhân lực).
    Roster,
    /// Anything else: created by an administrator from JSON or by a client in open mode.
    Json,
}

impl DocumentKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Assessment => "assessment",
            DocumentKind::Roster => "roster",
            DocumentKind::Json => "json",
        }
    }
}

/// Every chunk of a document, or `None` when there is no such document.
pub async fn load(store: &Store, id: DocumentId) -> Result<Option<Vec<Chunk>>, StoreError> {
    let id = id.to_string();
    let exists: Option<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT id FROM documents WHERE id = $1").bind(&id).fetch_optional(pool).await?
    });
    if exists.is_none() {
        return Ok(None);
    }
    let rows: Vec<(String, String, Vec<u8>)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT key, kind, data FROM chunks WHERE document_id = $1 ORDER BY seq")
            .bind(&id)
            .fetch_all(pool)
            .await?
    });
    Ok(Some(rows.into_iter().map(to_chunk).collect()))
}

fn to_chunk((key, kind, bytes): (String, String, Vec<u8>)) -> Chunk {
    Chunk {
        key: ChunkKey::from_stored(key),
        kind: ChunkKind::parse(&kind).unwrap_or(ChunkKind::Incremental),
        bytes,
    }
}

/// A document the server creates (a round opening, the demo, `tramyte doc create`).
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub id: DocumentId,
    pub kind: DocumentKind,
    /// Who or what created it, for the `documents` row.
    pub created_by: &'a str,
    /// The user the creation is recorded against as the last change, if a person did it.
    pub by_user: Option<&'a str>,
    /// The last change as the document itself dates it (`(at, by)`), for a document made with
    /// a history of its own (the demo's); `None`: the creation, now, by `by_user`.
    pub dated: Option<(i64, Option<&'a str>)>,
    pub snapshot: &'a Chunk,
    /// Its summary, written in the same transaction.
    pub summary: &'a SummaryRecord,
    /// The commune's place it takes (`commune_documents`), if any.
    pub slot: Option<Slot<'a>>,
}

/// A commune's place for a document: its assessment of a round, or its roster (round 0).
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub commune: &'a str,
    pub kind: DocumentKind,
    pub round: i32,
    /// Create nothing if another document has the place; otherwise create the document anyway
    /// and leave the place to the other one.
    pub required: bool,
}

/// What [`create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The document is stored.
    Created,
    /// Its required slot was taken (by an earlier or a concurrent creation): nothing stored.
    SlotTaken,
}

/// Creates a document with its first chunk and its summary, and claims its slot, in one
/// transaction. Fails if the id is taken.
pub async fn create(
    store: &Store,
    new: &NewDocument<'_>,
    node: &str,
) -> Result<Created, StoreError> {
    let id = new.id;
    let id_text = id.to_string();
    let now = now_millis();
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, $2, $3, $4)")
            .bind(&id_text)
            .bind(new.kind.as_str())
            .bind(now)
            .bind(new.created_by)
            .execute(&mut *tx)
            .await?;
        if let Some(slot) = &new.slot {
            // A concurrent claim of the same place waits here (PostgreSQL) or never overlaps
            // (SQLite's single writer), then finds the place taken.
            let claimed = sqlx::query(
                "INSERT INTO commune_documents (commune, kind, round, document_id) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(slot.commune)
            .bind(slot.kind.as_str())
            .bind(slot.round)
            .bind(&id_text)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 && slot.required {
                tx.rollback().await?;
                return Ok(Created::SlotTaken);
            }
        }
        insert_chunk(&id_text, new.snapshot, now)
            .execute(&mut *tx)
            .await?;
        crate::store::summary::upsert_summary(
            &mut tx,
            &id_text,
            new.summary,
            now,
            Some(new.dated.unwrap_or((now, new.by_user))),
        )
        .await?;
        // Delivered to the other nodes only if this commits.
        if store.is_postgres() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHUNKS_CHANNEL)
                .bind(format!("{node} {id}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(Created::Created)
}

/// Who sent a chunk: recorded for every change in it. An incremental chunk's row keeps it as
/// JSON (column `chunks.provenance`, without `new_actors`) until compaction moves it into
/// `changes`; its changes were received at the chunk's `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    pub user: String,
    pub device: String,
    /// Each change: its hash and its actor.
    pub changes: Vec<(String, String)>,
    /// Actors to bind to `user` now; refused if one belongs to someone else.
    #[serde(skip)]
    pub new_actors: Vec<String>,
}

impl Provenance {
    fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|err| StoreError::Corrupt(err.to_string()))
    }

    fn from_json(text: &str) -> Result<Provenance, StoreError> {
        serde_json::from_str(text).map_err(|err| {
            StoreError::Corrupt(format!("a chunk's stored provenance does not read: {err}"))
        })
    }
}

/// Why a chunk was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("actor {actor} belongs to another user")]
    ForeignActor { actor: String },
    #[error("document {document} is no longer on catalog revision {revision}")]
    RevisionChanged { document: String, revision: i32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PersistError {
    fn from(err: sqlx::Error) -> Self {
        PersistError::Store(StoreError::Query(err))
    }
}

/// Every actor binding: actor id and user.
pub async fn actor_bindings(store: &Store) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT actor, user_id FROM actors").fetch_all(pool).await?
    }))
}

/// Rows one multi-row statement writes at most (SQLite allows 32,766 bound values).
const ROWS_PER_STATEMENT: usize = 200;

/// One chunk to store (see [`persist`]).
#[derive(Debug, Clone)]
pub struct PersistJob {
    pub id: DocumentId,
    pub chunk: Chunk,
    /// With the document row (open mode): its kind and who created it.
    pub created: Option<(DocumentKind, String)>,
    pub provenance: Provenance,
    /// The document's summary after this chunk (`None` only if the caller could not read the
    /// document).
    pub summary: Option<SummaryRecord>,
    /// The evidence files the document names after this chunk, written with its summary
    /// ([`crate::store::file`]); `None` leaves the stored references as they are.
    pub files: Option<Vec<String>>,
    /// Store this only if the document's summary is still on this catalog revision (a round
    /// moved to a newer revision: compare-and-set, so that two moves at once, on one node or
    /// several, cannot both apply); else [`persist`] stores nothing and answers
    /// [`PersistError::RevisionChanged`].
    pub on_revision: Option<i32>,
}

/// Stores chunks, each with the provenance of its changes and its document's summary after
/// them, and the document rows of those created in open mode, all in **one** transaction (one
/// commit, one fsync: group commit): every chunk is committed, or none is. Storing the same chunk
/// twice is harmless. Jobs are applied in order, so a later summary of the same document wins
/// (a summary row never goes back to fewer changes anyway). `now` (unix milliseconds) is when
/// the chunks were received, as the rows record it.
pub async fn persist(
    store: &Store,
    jobs: &[PersistJob],
    node: &str,
    now: i64,
) -> Result<(), PersistError> {
    // Each id written out once (base58check hashes it twice): used by every statement below.
    let texts: Vec<String> = jobs.iter().map(|job| job.id.to_string()).collect();
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        // Actor bindings and created documents first, in order: a foreign actor fails it all.
        for (job, id_text) in jobs.iter().zip(&texts) {
            let PersistJob { created, provenance, on_revision, .. } = job;
            if let Some(revision) = on_revision {
                // Takes the row's lock (PostgreSQL: a concurrent move waits here, then finds the
                // revision changed; SQLite's writes take turns anyway).
                let held = sqlx::query(
                    "UPDATE document_summaries SET catalog_revision = catalog_revision \
                     WHERE document_id = $1 AND COALESCE(catalog_revision, $2) = $2",
                )
                .bind(id_text)
                .bind(*revision)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if held == 0 {
                    tx.rollback().await?;
                    return Err(PersistError::RevisionChanged {
                        document: id_text.clone(),
                        revision: *revision,
                    });
                }
            }
            for actor in &provenance.new_actors {
                sqlx::query(
                    "INSERT INTO actors (actor, user_id, device, first_seen) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (actor) DO NOTHING",
                )
                .bind(actor)
                .bind(&provenance.user)
                .bind(&provenance.device)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let owner: Option<(String,)> = sqlx::query_as("SELECT user_id FROM actors WHERE actor = $1")
                    .bind(actor)
                    .fetch_optional(&mut *tx)
                    .await?;
                if owner.is_some_and(|(owner,)| owner != provenance.user) {
                    return Err(PersistError::ForeignActor { actor: actor.clone() });
                }
            }
            if let Some((kind, created_by)) = created {
                sqlx::query(
                    "INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id_text)
                .bind(kind.as_str())
                .bind(now)
                .bind(created_by.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        // Then every chunk with its changes' provenance, and every document's summary, many
        // rows per statement (each statement is a round trip to the database or its thread).
        // Not prepared and cached: their text varies with the number of rows, and a cache of
        // each variant costs memory on every pooled connection.
        let with_text: Vec<(&PersistJob, &String)> = jobs.iter().zip(&texts).collect();
        for part in with_text.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO chunks (document_id, key, kind, data, created_at, provenance) ",
            );
            let mut provenance = Vec::with_capacity(part.len());
            for (job, _) in part {
                provenance.push(job.provenance.to_json()?);
            }
            query.push_values(part.iter().zip(provenance), |mut row, ((job, id_text), provenance)| {
                row.push_bind((*id_text).clone())
                    .push_bind(job.chunk.key.as_str().to_owned())
                    .push_bind(job.chunk.kind.as_str())
                    .push_bind(job.chunk.bytes.clone())
                    .push_bind(now)
                    .push_bind(provenance);
            });
            query.push(" ON CONFLICT (document_id, key) DO NOTHING");
            query.build().persistent(false).execute(&mut *tx).await?;
        }
        // One summary per document: the one after the most changes (what applying them in
        // order leaves, since a row never goes back to fewer changes), last changed by the
        // sender of its last chunk here.
        let mut latest: Vec<(DocumentId, &str, &SummaryRecord, &str)> = Vec::new();
        let mut files: Vec<(DocumentId, &str, i64, &[String])> = Vec::new();
        for (job, id_text) in jobs.iter().zip(&texts) {
            let Some(summary) = &job.summary else { continue };
            let user = job.provenance.user.as_str();
            match latest.iter_mut().find(|(id, ..)| *id == job.id) {
                Some(entry) => {
                    if summary.changes >= entry.2.changes {
                        entry.2 = summary;
                    }
                    entry.3 = user;
                }
                None => latest.push((job.id, id_text, summary, user)),
            }
            if let Some(named) = &job.files {
                match files.iter_mut().find(|(id, ..)| *id == job.id) {
                    Some(entry) if summary.changes >= entry.2 => {
                        entry.2 = summary.changes;
                        entry.3 = named.as_slice();
                    }
                    Some(_) => {}
                    None => files.push((job.id, id_text.as_str(), summary.changes, named.as_slice())),
                }
            }
        }
        for part in latest.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new(crate::store::summary::SUMMARY_INTO);
            query.push_values(part, |mut row, (_, id_text, record, user)| {
                row.push_bind((*id_text).to_owned())
                    .push_bind(record.kind)
                    .push_bind(record.commune.clone())
                    .push_bind(record.round)
                    .push_bind(record.catalog.clone())
                    .push_bind(record.catalog_revision)
                    .push_bind(record.status.clone())
                    .push_bind(record.self_total)
                    .push_bind(record.review_total)
                    .push_bind(record.verdict.clone())
                    .push_bind(record.verdict_side.clone())
                    .push_bind(record.reasons.clone())
                    .push_bind(record.criteria.clone())
                    .push_bind(record.open_conflicts)
                    .push_bind(record.problem.clone())
                    .push_bind(record.changes)
                    .push_bind(Some(now))
                    .push_bind(Some((*user).to_owned()))
                    .push_bind(now)
                    .push_bind(record.status_history.clone())
                    .push_bind(record.listing(id_text))
                    .push_bind(record.changed_after_submission.clone());
            });
            query.push(crate::store::summary::SUMMARY_ON_CONFLICT);
            query.build().persistent(false).execute(&mut *tx).await?;
            // The upsert leaves the last change alone when the row was already there.
            let mut query = sqlx::QueryBuilder::new(
                "UPDATE document_summaries SET last_change_at = ",
            );
            query.push_bind(now).push(", last_change_by = CASE document_id");
            for (_, id_text, _, user) in part {
                query
                    .push(" WHEN ")
                    .push_bind((*id_text).to_owned())
                    .push(" THEN ")
                    .push_bind((*user).to_owned());
            }
            query
                .push(" END WHERE (last_change_at IS NULL OR last_change_at <= ")
                .push_bind(now)
                .push(") AND document_id IN (");
            let mut ids = query.separated(", ");
            for (_, id_text, ..) in part {
                ids.push_bind((*id_text).to_owned());
            }
            query.push(")");
            query.build().persistent(false).execute(&mut *tx).await?;
        }
        // The files each document names, beside the summary they go with.
        let files: Vec<(&str, i64, &[String])> =
            files.iter().map(|(_, id_text, changes, named)| (*id_text, *changes, *named)).collect();
        crate::store::file::write_references(&mut tx, &files, now).await?;
        if store.is_postgres() {
            // Delivered to the other nodes only if this commits; once per document, all in
            // one statement (one round trip, not one per document).
            let mut notified = std::collections::HashSet::new();
            let payloads: Vec<String> = jobs
                .iter()
                .zip(&texts)
                .filter(|(job, _)| notified.insert(job.id))
                .map(|(_, id_text)| format!("{node} {id_text}"))
                .collect();
            let payloads = serde_json::to_string(&payloads).unwrap_or_else(|_| "[]".to_owned());
            sqlx::query(
                "SELECT pg_notify($1, payload) \
                 FROM jsonb_array_elements_text($2::text::jsonb) AS payload",
            )
            .bind(CHUNKS_CHANNEL)
            .bind(&payloads)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Who sent each change of a document, when: `hash → (user, device, received_at)`. From the
/// `changes` rows (compacted chunks, and chunks stored before chunks kept their provenance) and
/// from the provenance of the chunks still stored.
pub async fn provenance(
    store: &Store,
    id: DocumentId,
) -> Result<std::collections::HashMap<String, (String, String, i64)>, StoreError> {
    let id_text = id.to_string();
    // The chunks first: compaction only ever moves provenance from them into `changes`, so a
    // compaction between the two reads leaves nothing out.
    let kept: Vec<(String, i64)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT provenance, created_at FROM chunks \
             WHERE document_id = $1 AND provenance IS NOT NULL",
        )
        .bind(&id_text)
        .fetch_all(pool)
        .await?
    });
    let rows: Vec<(String, String, String, i64)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT hash, user_id, device, received_at FROM changes WHERE document_id = $1",
        )
        .bind(&id_text)
        .fetch_all(pool)
        .await?
    });
    let mut by_hash: std::collections::HashMap<String, (String, String, i64)> = rows
        .into_iter()
        .map(|(hash, user, device, at)| (hash, (user, device, at)))
        .collect();
    for (text, at) in kept {
        let provenance = Provenance::from_json(&text)?;
        for (hash, _) in provenance.changes {
            by_hash
                .entry(hash)
                .or_insert_with(|| (provenance.user.clone(), provenance.device.clone(), at));
        }
    }
    Ok(by_hash)
}

/// When the last stored change of a document came and who sent it, if any was recorded.
pub async fn last_change(store: &Store, id: &str) -> Result<Option<(i64, String)>, StoreError> {
    // The chunks first, as in [`provenance`].
    let kept: Option<(i64, String)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT created_at, provenance FROM chunks \
             WHERE document_id = $1 AND provenance IS NOT NULL \
             ORDER BY created_at DESC, seq DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    });
    let row: Option<(i64, String)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT received_at, user_id FROM changes WHERE document_id = $1 \
             ORDER BY received_at DESC, hash LIMIT 1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    });
    let kept = match kept {
        Some((at, text)) => Some((at, Provenance::from_json(&text)?.user)),
        None => None,
    };
    Ok(match (row, kept) {
        (Some(row), Some(kept)) => Some(if kept.0 >= row.0 { kept } else { row }),
        (row, kept) => row.or(kept),
    })
}

/// Stores a snapshot and deletes the chunks it replaces, in one transaction.
pub async fn compact(
    store: &Store,
    id: DocumentId,
    snapshot: &Chunk,
    replaces: &[ChunkKey],
) -> Result<(), StoreError> {
    let id_text = id.to_string();
    let now = now_millis();
    crate::with_write_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        insert_chunk(&id_text, snapshot, now)
            .execute(&mut *tx)
            .await?;
        // The replaced chunks' provenance outlives them, in `changes`.
        let kept: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT key, provenance, created_at FROM chunks \
             WHERE document_id = $1 AND provenance IS NOT NULL",
        )
        .bind(&id_text)
        .fetch_all(&mut *tx)
        .await?;
        let replaced: std::collections::HashSet<&str> = replaces
            .iter()
            .map(ChunkKey::as_str)
            .filter(|key| *key != snapshot.key.as_str())
            .collect();
        let mut moved = Vec::new();
        for (key, text, received_at) in kept {
            if replaced.contains(key.as_str()) {
                let Provenance { user, device, changes, .. } = Provenance::from_json(&text)?;
                for (hash, actor) in changes {
                    moved.push((hash, actor, user.clone(), device.clone(), received_at));
                }
            }
        }
        for part in moved.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO changes (document_id, hash, actor, user_id, device, received_at) ",
            );
            query.push_values(part, |mut row, (hash, actor, user, device, received_at)| {
                row.push_bind(id_text.clone())
                    .push_bind(hash.clone())
                    .push_bind(actor.clone())
                    .push_bind(user.clone())
                    .push_bind(device.clone())
                    .push_bind(*received_at);
            });
            query.push(" ON CONFLICT (document_id, hash) DO NOTHING");
            query.build().persistent(false).execute(&mut *tx).await?;
        }
        for key in replaces {
            if *key == snapshot.key {
                continue;
            }
            sqlx::query("DELETE FROM chunks WHERE document_id = $1 AND key = $2")
                .bind(&id_text)
                .bind(key.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Every document id with its kind, oldest first.
pub async fn list(store: &Store) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT id, kind FROM documents ORDER BY created_at, id").fetch_all(pool).await?
    }))
}

/// A new random document id.
pub fn new_document_id() -> Result<DocumentId, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|err| format!("no random source for a document id: {err}"))?;
    Ok(DocumentId::from_bytes(bytes))
}

/// The id of the document holding a commune's place (`commune_documents`), if any.
pub async fn slot_holder(
    store: &Store,
    commune: &str,
    kind: DocumentKind,
    round: i32,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT document_id FROM commune_documents WHERE commune = $1 AND kind = $2 AND round = $3")
            .bind(commune)
            .bind(kind.as_str())
            .bind(round)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(|(id,)| id))
}

/// Gives the documents that hold no place yet their commune's place when it is free, oldest
/// first; how many it gave.
pub async fn register_existing(store: &Store) -> Result<u64, StoreError> {
    Ok(crate::with_write_pool!(store, pool => {
        sqlx::query(
            "INSERT INTO commune_documents (commune, kind, round, document_id) \
             SELECT s.commune, s.kind, COALESCE(s.round, 0), s.document_id \
             FROM document_summaries s JOIN documents d ON d.id = s.document_id \
             WHERE s.kind IN ('assessment', 'roster') AND s.commune IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM commune_documents c WHERE c.document_id = s.document_id) \
             ORDER BY d.created_at, d.id \
             ON CONFLICT DO NOTHING",
        )
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: DocumentId, bytes: &[u8], user: &str, changes: i64, created: bool) -> PersistJob {
        PersistJob {
            id,
            chunk: Chunk::new(ChunkKind::Incremental, bytes.to_vec()),
            created: created.then(|| (DocumentKind::Json, format!("{user} (test)"))),
            provenance: Provenance {
                user: user.to_owned(),
                device: "test".to_owned(),
                changes: vec![(format!("hash-{id}-{changes}"), format!("actor-{user}"))],
                new_actors: Vec::new(),
            },
            summary: Some(SummaryRecord {
                kind: "json",
                commune: None,
                round: None,
                catalog: None,
                catalog_revision: None,
                status: None,
                status_history: "[]".to_owned(),
                self_total: None,
                review_total: None,
                verdict: None,
                verdict_side: None,
                reasons: "[]".to_owned(),
                criteria: "[]".to_owned(),
                open_conflicts: 0,
                problem: None,
                changes,
                changed_after_submission: None,
            }),
            files: None,
            on_revision: None,
        }
    }

    #[tokio::test]
    async fn a_group_stores_every_chunk_and_the_latest_summary_of_each_document() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let (a, b) = (
            crate::store::document::new_document_id().unwrap(),
            crate::store::document::new_document_id().unwrap(),
        );
        let group = [
            job(a, b"a1", "lan", 1, true),
            job(b, b"b1", "hoa", 1, true),
            job(a, b"a2", "minh", 2, false),
            // The same chunk again (a peer resending): harmless.
            job(a, b"a2", "minh", 2, false),
        ];
        persist(&store, &group, "node", now_millis()).await.unwrap();
        assert_eq!(load(&store, a).await.unwrap().unwrap().len(), 2);
        assert_eq!(load(&store, b).await.unwrap().unwrap().len(), 1);
        assert_eq!(provenance(&store, a).await.unwrap().len(), 2);
        let stored = crate::store::summary::stored(&store, a)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.record.changes, 2);
        assert_eq!(stored.last_change_by.as_deref(), Some("minh"));
        // A later group never takes a summary back to fewer changes.
        persist(
            &store,
            &[job(a, b"a0", "lan", 1, false)],
            "node",
            now_millis(),
        )
        .await
        .unwrap();
        let stored = crate::store::summary::stored(&store, a)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.record.changes, 2);
        assert_eq!(stored.last_change_by.as_deref(), Some("lan"));
        let stored = crate::store::summary::stored(&store, b)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.last_change_by.as_deref(), Some("hoa"));
    }

    #[tokio::test]
    async fn the_files_a_document_names_follow_its_latest_summary_even_out_of_order() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let a = crate::store::document::new_document_id().unwrap();
        let sha = |c: char| c.to_string().repeat(64);
        let named = |mut job: PersistJob, files: &[String]| {
            job.files = Some(files.to_vec());
            job
        };
        let (x, y, z) = (sha('a'), sha('b'), sha('c'));
        let id = a.to_string();
        persist(
            &store,
            &[named(
                job(a, b"a1", "lan", 1, true),
                std::slice::from_ref(&x),
            )],
            "n",
            10,
        )
        .await
        .unwrap();
        // Two versions in one group: the later one's files.
        let group = [
            named(job(a, b"a2", "lan", 2, false), &[x.clone(), y.clone()]),
            named(job(a, b"a3", "lan", 3, false), &[y.clone(), z.clone()]),
        ];
        persist(&store, &group, "n", 20).await.unwrap();
        let referenced = crate::store::file::referenced_by(&store, &id)
            .await
            .unwrap();
        assert_eq!(referenced, [y.clone(), z.clone()]);
        // A persist of fewer changes that commits late leaves them alone.
        persist(
            &store,
            &[named(
                job(a, b"a2b", "hoa", 2, false),
                std::slice::from_ref(&x),
            )],
            "n",
            30,
        )
        .await
        .unwrap();
        let referenced = crate::store::file::referenced_by(&store, &id)
            .await
            .unwrap();
        assert_eq!(referenced, [y.clone(), z.clone()]);
        // A job that knows nothing of files changes nothing.
        persist(&store, &[job(a, b"a4", "lan", 4, false)], "n", 40)
            .await
            .unwrap();
        let referenced = crate::store::file::referenced_by(&store, &id)
            .await
            .unwrap();
        assert_eq!(referenced, [y, z]);
    }
}
