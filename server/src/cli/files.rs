//! `tramyte files sweep`: delete the evidence files (tệp minh chứng) no document has named for
//! a while, and say which.

use std::io::Write;

use super::{io, open};
use crate::store::now_millis;

/// `tramyte files sweep`: deletes the files no document has named for the given days and says
/// which.
pub async fn files(
    command: crate::config::FilesCommand,
    out: &mut impl Write,
) -> Result<(), String> {
    let crate::config::FilesCommand::Sweep {
        file_sweep_days,
        database,
    } = command;
    let store = open(&database.url()).await?;
    let limits = crate::domain::file::FileLimits {
        keep_unreferenced: std::time::Duration::from_secs(
            file_sweep_days.saturating_mul(24 * 3600),
        ),
        ..crate::domain::file::FileLimits::default()
    };
    let result = crate::domain::file::sweep(&store, &limits, now_millis()).await;
    store.close().await;
    let report = result.map_err(|err| format!("sweeping files: {err}"))?;
    print_sweep(&report, file_sweep_days, out)
}

/// Prints what a sweep deleted: one line per file, then the totals.
pub fn print_sweep(
    report: &crate::domain::file::SweepReport,
    days: u64,
    out: &mut impl Write,
) -> Result<(), String> {
    for file in &report.deleted {
        writeln!(
            out,
            "deleted {} {} {} bytes (uploaded {})",
            file.sha256,
            file.media_type,
            file.size,
            crate::domain::audit::iso8601(file.created_at)
        )
        .map_err(io)?;
    }
    writeln!(
        out,
        "{} files no document has named for {days} days deleted ({} bytes); {} parts of unfinished uploads deleted",
        report.deleted.len(),
        report.bytes(),
        report.orphan_parts
    )
    .map_err(io)
}
