//! The subcommands other than `serve` (dòng lệnh): what they print and how they fail, one file
//! per subcommand. Each prints to the `out` it is given and returns the line to tell the
//! person when it fails.

use std::path::Path;

use crate::store::Store;

mod backup;
mod catalog;
mod demo;
mod document;
mod files;
mod round;
mod units;
mod user;

pub use backup::{backup, restore};
pub use catalog::catalog;
pub use demo::{demo, print_demo};
pub use document::{create_document, doc};
pub use files::{files, print_sweep};
pub use round::round;
pub use units::units;
pub use user::user;

/// Opens the database at `url`, migrated to this binary's schema.
async fn open(url: &str) -> Result<Store, String> {
    let store = Store::connect(url).await.map_err(|err| err.to_string())?;
    store.migrate().await.map_err(|err| err.to_string())?;
    Ok(store)
}

/// A text file's contents, or a line saying why it cannot be read.
fn read(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|err| format!("cannot read {}: {err}", file.display()))
}

/// The line to tell when the output cannot be written.
fn io(err: std::io::Error) -> String {
    format!("cannot write the output: {err}")
}
