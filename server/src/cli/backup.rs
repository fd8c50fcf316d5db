//! `tramyte backup` and `tramyte restore`: a consistent copy (sao lưu) of the embedded database.

use std::io::Write;
use std::path::Path;

use super::{io, open};
use crate::config::DatabaseArgs;

/// Runs `tramyte backup --to FILE`: a consistent copy of the embedded database, taken while a
/// server may be serving it.
pub async fn backup(
    database: &DatabaseArgs,
    to: &Path,
    out: &mut impl Write,
) -> Result<(), String> {
    let url = database.url();
    if crate::store::backup::sqlite_file(&url).is_none() {
        return Err(crate::store::backup::BackupError::NotSqlite.to_string());
    }
    let store = open(&url).await?;
    let result = store.back_up_to(to).await;
    store.close().await;
    result.map_err(|err| err.to_string())?;
    let contents = crate::store::backup::check_backup(to)
        .await
        .map_err(|err| err.to_string())?;
    writeln!(
        out,
        "backed up to {}: {}",
        to.display(),
        describe_backup(&contents)
    )
    .map_err(io)
}

/// Runs `tramyte restore --from FILE [--check]`.
pub async fn restore(
    database: &DatabaseArgs,
    from: &Path,
    check_only: bool,
    out: &mut impl Write,
) -> Result<(), String> {
    use crate::store::backup;
    if check_only {
        let contents = backup::check_backup(from)
            .await
            .map_err(|err| err.to_string())?;
        return writeln!(
            out,
            "{} is a good backup: {}",
            from.display(),
            describe_backup(&contents)
        )
        .map_err(io);
    }
    let url = database.url();
    let file =
        backup::sqlite_file(&url).ok_or_else(|| backup::BackupError::NotSqlite.to_string())?;
    let contents = backup::restore(from, &file)
        .await
        .map_err(|err| err.to_string())?;
    writeln!(
        out,
        "restored {} into {}: {}",
        from.display(),
        file.display(),
        describe_backup(&contents)
    )
    .map_err(io)
}

fn describe_backup(contents: &crate::store::backup::BackupContents) -> String {
    format!(
        "{} documents ({} stored chunks), {} users, {} units, schema {}",
        contents.documents,
        contents.chunks,
        contents.users,
        contents.units,
        contents.schema_version
    )
}
