//! Documents in the database: a row per document and its content-addressed chunks.
//!
//! Every write is one transaction, committed before the caller hears of success; on PostgreSQL
//! the same transaction notifies the other server nodes (`NOTIFY tramyte_chunks`), which is
//! delivered only if it commits.

use tramyte_shared::sync::{Chunk, ChunkKey, ChunkKind, DocumentId};

use crate::store::{Store, StoreError, now_millis};
use crate::with_pool;

/// Inserts a chunk inside an open transaction (of either database), ignoring one already there.
macro_rules! insert_chunk {
    ($tx:expr, $id:expr, $chunk:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO chunks (document_id, key, kind, data, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (document_id, key) DO NOTHING",
        )
        .bind($id)
        .bind($chunk.key.as_str())
        .bind($chunk.kind.as_str())
        .bind($chunk.bytes.as_slice())
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
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

/// Creates a document with its first chunk. Fails if the id is taken.
pub async fn create(
    store: &Store,
    id: DocumentId,
    kind: DocumentKind,
    created_by: &str,
    snapshot: &Chunk,
    node: &str,
) -> Result<(), StoreError> {
    let id_text = id.to_string();
    let now = now_millis();
    with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, $2, $3, $4)")
            .bind(&id_text)
            .bind(kind.as_str())
            .bind(now)
            .bind(created_by)
            .execute(&mut *tx)
            .await?;
        insert_chunk!(tx, &id_text, snapshot, now);
        tx.commit().await?;
    });
    notify(store, node, id).await;
    Ok(())
}

/// Stores one chunk of a document; with `created`, also the document row (open mode). Storing
/// the same chunk twice is harmless.
pub async fn persist(
    store: &Store,
    id: DocumentId,
    chunk: &Chunk,
    created: Option<(DocumentKind, &str)>,
    node: &str,
) -> Result<(), StoreError> {
    let id_text = id.to_string();
    let now = now_millis();
    with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        if let Some((kind, created_by)) = created {
            sqlx::query(
                "INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id_text)
            .bind(kind.as_str())
            .bind(now)
            .bind(created_by)
            .execute(&mut *tx)
            .await?;
        }
        insert_chunk!(tx, &id_text, chunk, now);
        tx.commit().await?;
    });
    notify(store, node, id).await;
    Ok(())
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
    with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        insert_chunk!(tx, &id_text, snapshot, now);
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

/// Tells the other nodes (PostgreSQL only) that a document has new chunks. Best effort: a node
/// that misses it still serves every stored chunk when it next loads the document.
async fn notify(store: &Store, node: &str, id: DocumentId) {
    if let Store::Postgres(pool) = store {
        let payload = format!("{node} {id}");
        if let Err(err) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHUNKS_CHANNEL)
            .bind(&payload)
            .execute(pool)
            .await
        {
            tracing::warn!(error = %err, "could not notify the other nodes");
        }
    }
}
