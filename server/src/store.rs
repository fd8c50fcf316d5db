//! The database behind the server: SQLite embedded by default, PostgreSQL for several nodes.
//!
//! Both are reached through sqlx with the same operations; which one is used is decided once, by
//! the scheme of the database URL.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub mod account;
pub mod backup;
pub mod catalog;
pub mod document;
pub mod file;
pub mod round_view;
pub mod summary;
pub mod target;
pub mod throttle;
pub mod unit;

/// How long to wait for the database before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Failures of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {url}: use sqlite://FILE or postgres://…")]
    UnsupportedUrl { url: String },
    #[error("invalid database URL {url}: {source}")]
    InvalidUrl { url: String, source: sqlx::Error },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot reach the database at {url}: {source}")]
    Unreachable { url: String, source: sqlx::Error },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored data does not read: {0}")]
    Corrupt(String),
}

/// Runs `$body` with `$pool` bound to the SQLite or the PostgreSQL pool of `$store`: the body is
/// written once and type-checked for each database.
#[macro_export]
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool, _) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Like [`with_pool!`], for a write transaction: on SQLite, `$body` runs in this process's write
/// turn ([`SqliteSide::write`]) with `$pool` bound to the one writer connection
/// ([`SqliteSide::writer`]); on PostgreSQL, with the pool.
#[macro_export]
macro_rules! with_write_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(_, side) => {
                let _turn = side.write.clone().lock_owned().await;
                let $pool = &side.writer;
                $body
            }
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Serialises this process's SQLite write transactions (see [`SqliteSide::write`]).
pub type WriteLock = std::sync::Arc<tokio::sync::Mutex<()>>;

/// What an SQLite store has besides its main pool.
#[derive(Debug, Clone)]
pub struct SqliteSide {
    /// Writers take turns ([`with_write_pool!`]). Why: SQLite has one write lock per file.
    /// Writers that collide fall back to its busy handler, which sleeps and retries; under load
    /// that turned 5 ms commits into 1–2 s waits. Queueing the writes here instead keeps them
    /// in order and without sleeps.
    pub write: WriteLock,
    /// The one connection write transactions use ([`with_write_pool!`]): SQLite discards a
    /// connection's page cache whenever another connection wrote since it last read, so writes
    /// rotating over the pool's connections read every page they touch again (measured with
    /// the sync benchmark: 10% less server CPU per change on this one connection). Never
    /// closed for idleness, so its cache stays warm.
    pub writer: SqlitePool,
    /// Connections for listings of thousands of rows (the overview, reports), opened when first
    /// used, that read through a memory map instead of a system call per page. Kept apart so
    /// the mapped pages count against the server's memory only where they pay off.
    pub listing: SqlitePool,
}

/// A pool on one of the supported databases.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool, SqliteSide),
    Postgres(PgPool),
}

impl Store {
    /// Connects to the database named by `url`, creating an SQLite file (and its directory) when
    /// missing.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let shown = redact(url);
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|source| StoreError::InvalidUrl {
                    url: shown.clone(),
                    source,
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed transaction survives power loss, not only a process crash.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if let Some(dir) = options.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            let listing = SqlitePoolOptions::new()
                .max_connections(3)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_lazy_with(options.clone().pragma("mmap_size", "268435456"));
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(CONNECT_TIMEOUT)
                .idle_timeout(None)
                .max_lifetime(None)
                // Statement journals (a copy of each page a many-row statement changes, kept to
                // undo that statement alone) in memory instead of a temporary file: 6% less
                // CPU per change, 1 MiB more peak (docs/measurements.md). Durability does not
                // depend on them: the WAL does.
                .connect_lazy_with(options.clone().pragma("temp_store", "memory"));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|source| StoreError::Unreachable { url: shown, source })?;
            let side = SqliteSide {
                write: WriteLock::default(),
                writer,
                listing,
            };
            Ok(Store::Sqlite(pool, side))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options =
                PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
                    url: shown.clone(),
                    source,
                })?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|source| StoreError::Unreachable { url: shown, source })?;
            Ok(Store::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl { url: shown })
        }
    }

    /// Applies the migrations embedded in the binary that this database has not seen yet.
    /// Several nodes may start at once: sqlx serialises them with a lock.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(pool, _) => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
        .map_err(|err| StoreError::Migrate(err.to_string()))
    }

    /// Applies the embedded migrations up to `version` only: a database as an older release
    /// left it, for tests of what a later migration does to existing rows.
    pub async fn migrate_up_to(&self, version: i64) -> Result<(), StoreError> {
        let older = |migrator: sqlx::migrate::Migrator| {
            let migrations: Vec<_> = migrator
                .iter()
                .filter(|migration| migration.version <= version)
                .cloned()
                .collect();
            let mut migrator = migrator;
            migrator.migrations = std::borrow::Cow::Owned(migrations);
            migrator
        };
        match self {
            Store::Sqlite(pool, _) => older(sqlx::migrate!("./migrations/sqlite")).run(pool).await,
            Store::Postgres(pool) => {
                older(sqlx::migrate!("./migrations/postgres"))
                    .run(pool)
                    .await
            }
        }
        .map_err(|err| StoreError::Migrate(err.to_string()))
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// Which database this is, for logs: "sqlite" or "postgres".
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(..) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Answers `Ok` when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(pool, _) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
            Store::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
        }
        Ok(())
    }

    /// Whether the database is empty: no units and no users.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let (units, users): (i64, i64) = with_pool!(self, pool => {
            sqlx::query_as("SELECT (SELECT COUNT(*) FROM units), (SELECT COUNT(*) FROM users)")
                .fetch_one(pool)
                .await?
        });
        Ok(units == 0 && users == 0)
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(pool, side) => {
                side.writer.close().await;
                side.listing.close().await;
                pool.close().await;
            }
            Store::Postgres(pool) => pool.close().await,
        }
    }
}

/// The current time in unix milliseconds, as stored in the database.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// The default embedded database file inside a data directory.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("tramyte.db").display())
}

/// A database URL with its password replaced by `***`, safe to log or print.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("postgres://me:secret@db:5432/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(redact("postgres://me@db/x"), "postgres://me@db/x");
        assert_eq!(
            redact("sqlite://data/tramyte.db"),
            "sqlite://data/tramyte.db"
        );
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_with_its_name() {
        let err = Store::connect("mysql://x").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported database URL mysql://x: use sqlite://FILE or postgres://…"
        );
    }

    #[tokio::test]
    async fn sqlite_file_and_its_directory_are_created() {
        let dir = std::env::temp_dir().join(format!("tramyte-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::connect(&sqlite_url_in(&dir.join("nested")))
            .await
            .unwrap();
        store.ping().await.unwrap();
        assert!(dir.join("nested/tramyte.db").exists());
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
