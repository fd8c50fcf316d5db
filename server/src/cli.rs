//! The subcommands other than `serve`: what they print and how they fail.

use std::io::Write;
use std::path::Path;

use tramyte_shared::catalog::{Catalog, ScoringRule, parse_catalog};

use tramyte_shared::sync::{Chunk, ChunkKind, DocumentId};

use crate::domain::catalog::{self, ImportOutcome, StoredCatalog};
use tramyte_shared::policy::Role;

use crate::config::{
    CatalogCommand, DatabaseArgs, DocCommand, DocKindArg, RoundCommand, UnitsCommand, UserCommand,
};
use crate::domain::account::{self, NewUser};
use crate::domain::round::{OpenRound, open_round};
use crate::domain::summary::{CatalogCache, SummaryRecord};
use crate::domain::unit;
use crate::store::document::{self, DocumentKind, NewDocument, Slot};
use crate::store::{Store, now_millis};

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
        CatalogCommand::Import { file, database } => {
            // Validate before touching the database, so a bad file never needs one.
            let (_, source) = read_catalog(&file)?;
            let store = open(&database.url()).await?;
            let result = catalog::import(&store, &source, now_millis()).await;
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
                    "{:<20} {:>8} {:>6} {:>8} {:>10}  {:<8}  title",
                    "code", "revision", "max", "criteria", "indicators", "origin"
                )
                .map_err(io)?;
                for s in summaries {
                    let origin = match s.origin {
                        catalog::Origin::Shipped => "shipped",
                        catalog::Origin::Imported => "imported",
                    };
                    writeln!(
                        out,
                        "{:<20} {:>8} {:>6} {:>8} {:>10}  {:<8}  {}",
                        s.code,
                        s.revision,
                        s.max_points.to_string(),
                        s.criteria,
                        s.indicators,
                        origin,
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

/// Runs `tramyte doc …`, printing to `out`.
pub async fn doc(command: DocCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        DocCommand::Create {
            kind,
            json,
            database,
        } => {
            let text = read(&json)?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|err| format!("{}: not JSON: {err}", json.display()))?;
            let object = value
                .as_object()
                .ok_or_else(|| format!("{}: expected a JSON object", json.display()))?;
            let store = open(&database.url()).await?;
            let result = create_document(&store, kind, object).await;
            store.close().await;
            let id = result.map_err(|err| format!("{}: {err}", json.display()))?;
            writeln!(out, "{}", id.url()).map_err(io)?;
        }
        DocCommand::List { database } => {
            let store = open(&database.url()).await?;
            let result = document::list(&store).await;
            store.close().await;
            for (id, kind) in result.map_err(|err| err.to_string())? {
                writeln!(out, "automerge:{id}\t{kind}").map_err(io)?;
            }
        }
        DocCommand::Show { id, database } => {
            let id = DocumentId::parse(&id).map_err(|err| err.to_string())?;
            let store = open(&database.url()).await?;
            let result = document::load(&store, id).await;
            store.close().await;
            let chunks = result
                .map_err(|err| err.to_string())?
                .ok_or_else(|| format!("no document {}", id.url()))?;
            let doc = tramyte_shared::sync::hub::load_chunks(&chunks)
                .map_err(|err| format!("document {} does not load: {err}", id.url()))?;
            let json = tramyte_shared::document::to_json(&doc);
            let text = serde_json::to_string_pretty(&json).map_err(|err| err.to_string())?;
            writeln!(out, "{text}").map_err(io)?;
        }
    }
    Ok(())
}

/// Creates a document of `kind` from its JSON description; returns its id.
pub async fn create_document(
    store: &Store,
    kind: DocKindArg,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<DocumentId, String> {
    use tramyte_shared::assessment::{NewAssessment, new_assessment};
    use tramyte_shared::commune::{UnitType, Zone};
    use tramyte_shared::id::CommuneCode;

    let text = |key: &str| -> Result<&str, String> {
        object
            .get(key)
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("`{key}` is missing or not text"))
    };
    let number = |key: &str| -> Result<i64, String> {
        object
            .get(key)
            .and_then(|v| v.as_i64())
            .ok_or_else(|| format!("`{key}` is missing or not a whole number"))
    };
    let now = now_millis();
    let (mut doc, stored_kind) = match kind {
        DocKindArg::Assessment => {
            let commune =
                CommuneCode::parse(text("commune")?).map_err(|err| format!("`commune`: {err}"))?;
            let code = text("catalog")?;
            let stored = catalog::find(store, code, None)
                .await
                .map_err(|err| err.to_string())?
                .ok_or_else(|| format!("no catalog {code} (see `tramyte catalog list`)"))?;
            let round =
                u16::try_from(number("round")?).map_err(|_| "`round` is not a year".to_owned())?;
            let zone = Zone::new(number("zone")?).map_err(|err| format!("`zone`: {err}"))?;
            let unit_type =
                UnitType::parse(text("unit_type")?).map_err(|err| format!("`unit_type`: {err}"))?;
            let new = NewAssessment {
                commune,
                round,
                zone,
                unit_type,
            };
            let doc = new_assessment(&stored.catalog, &new, now).map_err(|err| err.to_string())?;
            (doc, DocumentKind::Assessment)
        }
        DocKindArg::Roster => {
            let commune =
                CommuneCode::parse(text("commune")?).map_err(|err| format!("`commune`: {err}"))?;
            let doc =
                tramyte_shared::roster::new_roster(&commune, now).map_err(|err| err.to_string())?;
            (doc, DocumentKind::Roster)
        }
        DocKindArg::Json => {
            let mut doc = automerge::AutoCommit::new();
            tramyte_shared::document::put_json(&mut doc, &automerge::ROOT, object)
                .map_err(|err| err.to_string())?;
            doc.commit();
            (doc, DocumentKind::Json)
        }
    };
    let id = document::new_document_id()?;
    let snapshot = Chunk::new(ChunkKind::Snapshot, doc.save());
    let facts = tramyte_shared::summary::read_facts(&mut doc);
    let summary = CatalogCache::default().summarize(store, &facts).await;
    // The commune's place, if still free, so that opening the round later finds this one.
    let slot = match (stored_kind, &facts.commune) {
        (DocumentKind::Assessment | DocumentKind::Roster, Some(commune)) => Some(Slot {
            commune,
            kind: stored_kind,
            round: facts.round.map_or(0, i32::from),
            required: false,
        }),
        _ => None,
    };
    let new = NewDocument {
        id,
        kind: stored_kind,
        created_by: "tramyte doc create",
        by_user: None,
        dated: None,
        snapshot: &snapshot,
        summary: &SummaryRecord::of(&summary),
        slot,
    };
    document::create(store, &new, "cli")
        .await
        .map_err(|err| err.to_string())?;
    Ok(id)
}

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

/// Runs `tramyte user …`.
pub async fn user(command: UserCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        UserCommand::Add {
            id,
            name,
            role,
            unit,
            person,
            password_stdin,
            database,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("role `{role}` is not one of {}", roles.join(", "))
            })?;
            let (password, generated) = password(password_stdin)?;
            let store = open(&database.url()).await?;
            let new = NewUser {
                id: id.clone(),
                display_name: name,
                role,
                person,
                units: unit,
                password: password.clone(),
            };
            let result = account::add_user(&store, &new).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "added {id} ({})", role.as_str()).map_err(io)?;
            if generated {
                writeln!(out, "password: {password}").map_err(io)?;
            }
        }
        UserCommand::List { database } => {
            let store = open(&database.url()).await?;
            let result = account::list_users(&store).await;
            store.close().await;
            for user in result.map_err(|err| err.to_string())? {
                let state = if user.disabled { "disabled" } else { "active" };
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.role.as_str(),
                    state,
                    user.units.join(","),
                    user.display_name
                )
                .map_err(io)?;
            }
        }
        UserCommand::Disable { id, database } => {
            let store = open(&database.url()).await?;
            let result = account::set_disabled(&store, &id, true).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "disabled {id}; their sessions have ended").map_err(io)?;
        }
        UserCommand::Enable { id, database } => {
            let store = open(&database.url()).await?;
            let result = account::set_disabled(&store, &id, false).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "enabled {id}").map_err(io)?;
        }
        UserCommand::ResetPassword {
            id,
            password_stdin,
            database,
        } => {
            let (password, generated) = password(password_stdin)?;
            let store = open(&database.url()).await?;
            let result = account::reset_password(&store, &id, &password).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "new password set for {id}; their sessions have ended").map_err(io)?;
            if generated {
                writeln!(out, "password: {password}").map_err(io)?;
            }
        }
    }
    Ok(())
}

/// Runs `tramyte round …`.
pub async fn round(command: RoundCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        RoundCommand::Open {
            round,
            catalog,
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

/// Runs `tramyte demo`: loads what is missing of the demo and prints its accounts.
pub async fn demo(database: &DatabaseArgs, out: &mut impl Write) -> Result<(), String> {
    let store = open(&database.url()).await?;
    let result = crate::demo::load(&store, true, now_millis()).await;
    store.close().await;
    let loaded = result.map_err(|err| format!("loading the demo: {err}"))?;
    print_demo(&loaded, out)
}

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

/// Prints what loading the demo did and the demo accounts with their passwords.
pub fn print_demo(loaded: &crate::demo::Loaded, out: &mut impl Write) -> Result<(), String> {
    writeln!(
        out,
        "Demo data (round {}: Thanh Hóa's district of Thiệu Hóa, 13 communes, and Hà Nội's Long Biên, 14 wards; this year's round: 8 communes under Thanh Hóa reviewed by a regional health centre; fictional people, illustrative codes and names): {} documents created",
        crate::demo::ROUND,
        loaded.documents
    )
    .map_err(io)?;
    if loaded.accounts.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Demo accounts (passwords shown once; `tramyte demo` sets new ones):"
    )
    .map_err(io)?;
    for account in &loaded.accounts {
        writeln!(
            out,
            "  {:<16} {:<22} {}",
            account.user,
            account.role.as_str(),
            account.password
        )
        .map_err(io)?;
    }
    Ok(())
}

/// The password to set: the first line of stdin, or a generated one (and whether it was).
fn password(from_stdin: bool) -> Result<(String, bool), String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|err| format!("cannot read the password: {err}"))?;
        return Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false));
    }
    Ok((account::generate_password()?, true))
}

async fn open(url: &str) -> Result<Store, String> {
    let store = Store::connect(url).await.map_err(|err| err.to_string())?;
    store.migrate().await.map_err(|err| err.to_string())?;
    Ok(store)
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

fn read(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|err| format!("cannot read {}: {err}", file.display()))
}

fn io(err: std::io::Error) -> String {
    format!("cannot write the output: {err}")
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
