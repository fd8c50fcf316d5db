//! `tramyte units …`: import and export organisation units (đơn vị) as CSV.

use std::io::Write;

use super::{io, open, read};
use crate::config::UnitsCommand;
use crate::domain::unit;

/// Runs `tramyte units …`.
pub async fn units(command: UnitsCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        UnitsCommand::Import { file, database } => {
            let text = read(&file)?;
            let store = open(&database.url()).await?;
            let result = unit::import(&store, &text).await;
            store.close().await;
            let count = result.map_err(|err| format!("{}: {err}", file.display()))?;
            writeln!(out, "imported {count} units from {}", file.display()).map_err(io)?;
        }
        UnitsCommand::Export { database } => {
            let store = open(&database.url()).await?;
            let result = unit::all(&store).await;
            store.close().await;
            write!(
                out,
                "{}",
                unit::to_csv(&result.map_err(|err| err.to_string())?)
            )
            .map_err(io)?;
        }
    }
    Ok(())
}
