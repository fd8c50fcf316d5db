//! Backups of the embedded database (sao lưu): a consistent copy of a running server's SQLite
//! file (`VACUUM INTO`, one read transaction, so writers go on meanwhile), the check of a copy
//! before it is restored, and the lock a serving process holds so that nothing is restored
//! under it. PostgreSQL is backed up with its own tools (`pg_dump`; the README says how).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::{Store, StoreError};

/// What a backup file holds, as checked before it is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupContents {
    /// The newest migration applied to it.
    pub schema_version: i64,
    pub documents: i64,
    pub chunks: i64,
    pub users: i64,
    pub units: i64,
}

/// Failures of backup and restore, each saying what the operator can do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "`tramyte backup` copies the embedded SQLite database; back up PostgreSQL with pg_dump \
         (see the README)"
    )]
    NotSqlite,
    #[error("{0} already exists: choose a new file name (a backup never overwrites)")]
    TargetExists(String),
    #[error("{path} is not a tramyte backup: {reason}")]
    NotABackup { path: String, reason: String },
    #[error(
        "{path} was written by a newer tramyte (schema {found}, this one knows up to {known}): \
         restore it with that version"
    )]
    Newer {
        path: String,
        found: i64,
        known: i64,
    },
    #[error(
        "a tramyte server is serving {0}: stop it before restoring (backups are taken while it \
         runs; restores are not)"
    )]
    InUse(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BackupError {
    fn io(path: &Path, source: std::io::Error) -> BackupError {
        BackupError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The file of an `sqlite:` database URL; `None` for other databases and in-memory ones.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    SqliteConnectOptions::from_str(url)
        .ok()
        .map(|options| options.get_filename().to_path_buf())
}

impl Store {
    /// Writes a consistent copy of this (SQLite) database to `to`, a file that must not exist.
    /// Runs beside a serving process: it reads one snapshot while the server keeps committing.
    pub async fn back_up_to(&self, to: &Path) -> Result<(), BackupError> {
        let Store::Sqlite(pool, _) = self else {
            return Err(BackupError::NotSqlite);
        };
        if to.exists() {
            return Err(BackupError::TargetExists(to.display().to_string()));
        }
        let target = to.to_str().ok_or_else(|| BackupError::NotABackup {
            path: to.display().to_string(),
            reason: "the path is not UTF-8".to_owned(),
        })?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(pool)
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }
}

/// Opens `file` read-only and checks that it is a whole, readable tramyte database of a schema
/// this binary knows: SQLite's integrity check, the migrations table, the main tables.
pub async fn check_backup(file: &Path) -> Result<BackupContents, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: file.display().to_string(),
        reason,
    };
    if !file.is_file() {
        return Err(not_a_backup("no such file".to_owned()));
    }
    let options = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true);
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .map_err(|err| not_a_backup(err.to_string()))?;
    let result = read_contents(&mut connection, file).await;
    let _ = connection.close().await;
    result
}

async fn read_contents(
    connection: &mut SqliteConnection,
    file: &Path,
) -> Result<BackupContents, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: file.display().to_string(),
        reason,
    };
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut *connection)
        .await
        .map_err(|err| not_a_backup(err.to_string()))?;
    if integrity != "ok" {
        return Err(not_a_backup(format!("SQLite integrity check: {integrity}")));
    }
    let schema_version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *connection)
            .await
            .map_err(|_| not_a_backup("it has no tramyte schema".to_owned()))?;
    let schema_version =
        schema_version.ok_or_else(|| not_a_backup("no migration was applied".to_owned()))?;
    let known = sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or_default();
    if schema_version > known {
        return Err(BackupError::Newer {
            path: file.display().to_string(),
            found: schema_version,
            known,
        });
    }
    let mut count = async |table: &str| -> Result<i64, BackupError> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *connection)
            .await
            .map_err(|err| not_a_backup(format!("table {table}: {err}")))
    };
    Ok(BackupContents {
        schema_version,
        documents: count("documents").await?,
        chunks: count("chunks").await?,
        users: count("users").await?,
        units: count("units").await?,
    })
}

/// Replaces the SQLite database `database` with the backup `from` (checked first). The file
/// that was there, if any, is kept beside it as `NAME.before-restore`, never deleted. Refused
/// while a server serves `database`.
pub async fn restore(from: &Path, database: &Path) -> Result<BackupContents, BackupError> {
    let contents = check_backup(from).await?;
    let _lock = ServingLock::acquire(database)?;
    if let Some(dir) = database.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|err| BackupError::io(dir, err))?;
    }
    let incoming = with_suffix(database, ".restoring");
    std::fs::copy(from, &incoming).map_err(|err| BackupError::io(&incoming, err))?;
    File::open(&incoming)
        .and_then(|file| file.sync_all())
        .map_err(|err| BackupError::io(&incoming, err))?;
    if database.exists() {
        let kept = with_suffix(database, ".before-restore");
        std::fs::rename(database, &kept).map_err(|err| BackupError::io(database, err))?;
    }
    // The old database's write-ahead log belongs to the old file: it must not be replayed
    // into the restored one.
    for suffix in ["-wal", "-shm"] {
        let side = with_suffix(database, suffix);
        if side.exists() {
            std::fs::remove_file(&side).map_err(|err| BackupError::io(&side, err))?;
        }
    }
    std::fs::rename(&incoming, database).map_err(|err| BackupError::io(database, err))?;
    Ok(contents)
}

/// An exclusive lock on `DATABASE.serving`, held by a serving process for its lifetime (and by
/// a restore while it runs): a restore never replaces a database a server has open.
#[derive(Debug)]
pub struct ServingLock {
    _file: File,
}

impl ServingLock {
    /// Takes the lock of the SQLite database `database`, or says that a server holds it.
    pub fn acquire(database: &Path) -> Result<ServingLock, BackupError> {
        let path = with_suffix(database, ".serving");
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| BackupError::io(dir, err))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|err| BackupError::io(&path, err))?;
        match file.try_lock() {
            Ok(()) => Ok(ServingLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                Err(BackupError::InUse(database.display().to_string()))
            }
            Err(TryLockError::Error(err)) => Err(BackupError::io(&path, err)),
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_serving_lock_on_the_same_database_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("tramyte-lock-{}", std::process::id()));
        let database = dir.join("tramyte.db");
        let first = ServingLock::acquire(&database).unwrap();
        assert!(matches!(
            ServingLock::acquire(&database),
            Err(BackupError::InUse(_))
        ));
        drop(first);
        ServingLock::acquire(&database).unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn only_sqlite_urls_have_a_file() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/tramyte/tramyte.db"),
            Some(PathBuf::from("/var/lib/tramyte/tramyte.db"))
        );
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
