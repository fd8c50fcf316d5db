//! `tramyte round open`: open a round (kỳ đánh giá) for communes.

use std::io::Write;

use super::{io, open};
use crate::config::RoundCommand;
use crate::domain::round::{OpenRound, open_round};

/// Runs `tramyte round …`.
pub async fn round(command: RoundCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        RoundCommand::Open {
            round,
            catalog,
            revision,
            commune,
            zone,
            database,
        } => {
            let mut zones = std::collections::BTreeMap::new();
            for pair in &zone {
                let (code, number) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--zone {pair}: expected CODE=ZONE, e.g. 16024=2"))?;
                let number: i64 = number
                    .trim()
                    .parse()
                    .map_err(|_| format!("--zone {pair}: the zone is not a number"))?;
                zones.insert(code.trim().to_owned(), number);
            }
            let request = OpenRound {
                round,
                catalog,
                revision,
                communes: (!commune.is_empty()).then_some(commune),
                zones,
            };
            let store = open(&database.url()).await?;
            let result = open_round(&store, None, &request, "cli").await;
            store.close().await;
            let opened = result.map_err(|err| err.to_string())?;
            writeln!(
                out,
                "round {round} ({}): {} documents created, {} existed already \
                 (assessments: {} created, {} existed; rosters: {} created, {} existed)",
                request.catalog,
                opened.created,
                opened.existing,
                opened.assessments.created,
                opened.assessments.existing,
                opened.rosters.created,
                opened.rosters.existing
            )
            .map_err(io)?;
            for id in &opened.documents {
                writeln!(out, "{}", id.url()).map_err(io)?;
            }
        }
    }
    Ok(())
}
