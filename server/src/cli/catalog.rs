//! `tramyte catalog …`: check, template, export, import, list and show criteria sets (bộ tiêu chí).

use std::io::Write;
use std::path::Path;

use tramyte_shared::catalog::{Catalog, ScoringRule, parse_catalog};

use super::{io, open, read};
use crate::config::{CatalogCommand, DatabaseArgs};
use crate::domain::catalog::{self, ImportOutcome, StoredCatalog};
use crate::store::now_millis;

/// Runs `tramyte catalog …`, printing to `out`. The error is what to tell the person.
pub async fn catalog(command: CatalogCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        CatalogCommand::Check { file } => {
            let (catalog, _) = read_catalog(&file)?;
            writeln!(out, "{}: valid — {}", file.display(), describe(&catalog)).map_err(io)?;
        }
        CatalogCommand::Template { to } => {
            let bytes = catalog::sheet::template().map_err(|err| err.to_string())?;
            std::fs::write(&to, bytes).map_err(|err| format!("{}: {err}", to.display()))?;
            writeln!(
                out,
                "wrote the indicator sheet template to {}",
                to.display()
            )
            .map_err(io)?;
        }
        CatalogCommand::Export {
            code,
            revision,
            to,
            database,
        } => {
            let stored = find_catalog(&database, &code, revision).await?;
            let bytes = catalog::sheet::export(&stored.catalog).map_err(|err| err.to_string())?;
            std::fs::write(&to, bytes).map_err(|err| format!("{}: {err}", to.display()))?;
            writeln!(
                out,
                "wrote {} to {}",
                describe(&stored.catalog),
                to.display()
            )
            .map_err(io)?;
        }
        CatalogCommand::Import {
            file,
            province,
            database,
        } => {
            // Validate before touching the database, so a bad file never needs one.
            let (_, source) = read_catalog(&file)?;
            let store = open(&database.url()).await?;
            let result =
                catalog::import_into(&store, &source, province.as_deref(), now_millis()).await;
            store.close().await;
            let (catalog, outcome) = result.map_err(|err| format!("{}: {err}", file.display()))?;
            let verb = match outcome {
                ImportOutcome::Imported => "imported",
                ImportOutcome::AlreadyPresent => "already imported, nothing changed",
            };
            writeln!(out, "{verb}: {}", describe(&catalog)).map_err(io)?;
        }
        CatalogCommand::List { json, database } => {
            let store = open(&database.url()).await?;
            let result = catalog::latest(&store).await;
            store.close().await;
            let summaries: Vec<_> = result
                .map_err(|err| err.to_string())?
                .iter()
                .map(StoredCatalog::summary)
                .collect();
            if json {
                let text =
                    serde_json::to_string_pretty(&summaries).map_err(|err| err.to_string())?;
                writeln!(out, "{text}").map_err(io)?;
            } else {
                writeln!(
                    out,
                    "{:<20} {:>8} {:>6} {:>8} {:>10}  {:<8}  {:<8}  title",
                    "code", "revision", "max", "criteria", "indicators", "origin", "province"
                )
                .map_err(io)?;
                for s in summaries {
                    let origin = match s.origin {
                        catalog::Origin::Shipped => "shipped",
                        catalog::Origin::Imported => "imported",
                    };
                    writeln!(
                        out,
                        "{:<20} {:>8} {:>6} {:>8} {:>10}  {:<8}  {:<8}  {}",
                        s.code,
                        s.revision,
                        s.max_points.to_string(),
                        s.criteria,
                        s.indicators,
                        origin,
                        s.province.as_deref().unwrap_or("national"),
                        s.title_vi
                    )
                    .map_err(io)?;
                }
            }
        }
        CatalogCommand::Show {
            code,
            revision,
            json,
            database,
        } => {
            let stored = find_catalog(&database, &code, revision).await?;
            if json {
                writeln!(out, "{}", stored.catalog.to_json()).map_err(io)?;
            } else {
                show(&stored.catalog, out).map_err(io)?;
            }
        }
    }
    Ok(())
}

/// The stored catalog `code` (a given revision, or the newest), or a line saying it is missing.
async fn find_catalog(
    database: &DatabaseArgs,
    code: &str,
    revision: Option<u32>,
) -> Result<StoredCatalog, String> {
    let store = open(&database.url()).await?;
    let result = catalog::find(&store, code, revision).await;
    store.close().await;
    result
        .map_err(|err| err.to_string())?
        .ok_or_else(|| match revision {
            Some(revision) => {
                format!("no catalog {code} revision {revision} (see `tramyte catalog list`)")
            }
            None => format!("no catalog {code} (see `tramyte catalog list`)"),
        })
}

/// A catalog file, JSON or an indicator sheet (`.xlsx`), validated whole: the catalog and the
/// JSON to store.
fn read_catalog(file: &Path) -> Result<(Catalog, String), String> {
    let is_sheet = file
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("xlsx"));
    if is_sheet {
        let bytes = std::fs::read(file).map_err(|err| format!("{}: {err}", file.display()))?;
        return catalog::sheet::import(&bytes).map_err(|err| format!("{}: {err}", file.display()));
    }
    let source = read(file)?;
    let catalog =
        parse_catalog(&source).map_err(|errors| format!("{}: {errors}", file.display()))?;
    Ok((catalog, source))
}

/// "QD1300-2023 revision 1: 10 criteria, 0 indicators, 100 points — title".
fn describe(catalog: &Catalog) -> String {
    let indicators: usize = catalog.criteria.iter().map(|c| c.indicators.len()).sum();
    format!(
        "{} revision {}: {} criteria, {} indicators, {} points — {}",
        catalog.code.as_str(),
        catalog.revision,
        catalog.criteria.len(),
        indicators,
        catalog.max_points(),
        catalog.title_vi
    )
}

fn show(catalog: &Catalog, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{}", describe(catalog))?;
    if !catalog.title_en.is_empty() {
        writeln!(out, "  {}", catalog.title_en)?;
    }
    for decision in &catalog.decisions {
        writeln!(
            out,
            "  decision {} of {} ({:?})",
            decision.number, decision.date, decision.kind
        )?;
    }
    let rule = &catalog.pass_rule;
    writeln!(
        out,
        "  pass rule: total ≥ {}% of the maximum, each criterion ≥ {}% of its maximum{}",
        rule.total_min_percent,
        rule.criterion_min_percent,
        if rule.no_failed_knockout {
            ", no failed knockout indicator"
        } else {
            ""
        }
    )?;
    if let Some(note) = &catalog.note {
        writeln!(out, "  note: {note}")?;
    }
    for criterion in &catalog.criteria {
        writeln!(
            out,
            "{:<6} {:>5}  {}",
            criterion.id.as_str(),
            criterion.max_points.to_string(),
            criterion.name_vi
        )?;
        if criterion.indicators.is_empty() {
            writeln!(
                out,
                "{:<6} {:>5}    scored as a whole, 0 to {} in steps of 0.5",
                "", "", criterion.max_points
            )?;
        }
        for indicator in &criterion.indicators {
            let rule = match &indicator.scoring {
                ScoringRule::Points => "points".to_owned(),
                ScoringRule::YesNo => "yes/no".to_owned(),
                ScoringRule::Bands { measure, bands } => {
                    format!("{} bands ({measure:?})", bands.len())
                }
            };
            let knockout = if indicator.knockout { ", knockout" } else { "" };
            writeln!(
                out,
                "  {:<6} {:>5}  {} [{rule}{knockout}]",
                indicator.id.as_str(),
                indicator.max_points.to_string(),
                indicator.name_vi
            )?;
        }
    }
    Ok(())
}
