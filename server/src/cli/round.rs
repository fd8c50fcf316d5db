//! `tramyte round open` and `tramyte round move`: open a round (kỳ đánh giá) for communes, move
//! its open assessments to a newer revision of their criteria set.

use std::io::Write;

use super::{io, open};
use crate::config::{RoundArgs, RoundCommand};
use crate::domain::round::{MoveRound, OpenRound, move_round, open_round};

/// Runs `tramyte round …`.
pub async fn round(command: RoundCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        RoundCommand::Open {
            round:
                RoundArgs {
                    round,
                    catalog,
                    revision,
                    commune,
                },
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
        RoundCommand::Move {
            round:
                RoundArgs {
                    round,
                    catalog,
                    revision,
                    commune,
                },
            by,
            database,
        } => {
            let request = MoveRound {
                round,
                catalog,
                revision,
                communes: (!commune.is_empty()).then_some(commune),
            };
            let store = open(&database.url()).await?;
            let result = move_as(&store, &by, &request).await;
            store.close().await;
            let moved = result?;
            writeln!(
                out,
                "round {round} ({}) → revision {}: {} moved, {} left as they are",
                request.catalog,
                moved.revision,
                moved.moved.len(),
                moved.skipped.len()
            )
            .map_err(io)?;
            for assessment in &moved.moved {
                let rescore = &assessment.changes.rescore;
                writeln!(
                    out,
                    "moved {} ({}) from revision {}; to score again: {}",
                    assessment.commune,
                    assessment.id,
                    assessment.from,
                    if rescore.is_empty() {
                        "nothing".to_owned()
                    } else {
                        rescore.join(", ")
                    }
                )
                .map_err(io)?;
            }
            for skipped in &moved.skipped {
                writeln!(
                    out,
                    "left {} ({}): {}",
                    skipped.commune, skipped.id, skipped.reason
                )
                .map_err(io)?;
            }
        }
    }
    Ok(())
}

/// Moves as the operator, with every commune and catalog in reach, signed by user `by`.
async fn move_as(
    store: &crate::store::Store,
    by: &str,
    request: &MoveRound,
) -> Result<tramyte_shared::rest::MovedRound, String> {
    let user = crate::domain::account::find_user(store, by)
        .await
        .map_err(|err| format!("--by {by}: {err}"))?;
    if user.disabled
        || !matches!(
            user.role,
            tramyte_shared::policy::Role::SystemAdmin
                | tramyte_shared::policy::Role::ProvincialAdmin
        )
    {
        return Err(format!(
            "--by {by}: only an enabled system or provincial administrator moves a round"
        ));
    }
    let principal = tramyte_shared::policy::Principal {
        user: user.id,
        role: tramyte_shared::policy::Role::SystemAdmin,
        scope: tramyte_shared::policy::Scope::All,
        person: None,
    };
    move_round(store, &principal, request, "cli")
        .await
        .map_err(|err| err.to_string())
}
