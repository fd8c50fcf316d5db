//! `tramyte doc …`: create, list and show documents (hồ sơ) from the command line.

use std::io::Write;

use tramyte_shared::sync::{Chunk, ChunkKind, DocumentId};

use super::{io, open, read};
use crate::config::{DocCommand, DocKindArg};
use crate::domain::catalog;
use crate::domain::summary::{CatalogCache, SummaryRecord};
use crate::store::document::{self, DocumentKind, NewDocument, Slot};
use crate::store::{Store, now_millis};

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
