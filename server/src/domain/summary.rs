//! Document summaries: what an overview shows of each document, computed by
//! `tramyte_shared::summary` from the document in memory and stored beside it
//! ([`crate::store::summary`], in the transaction that stores its change), so listings and
//! overviews never load documents.
//!
//! Here: the catalogs cache the summaries are scored with, the names of the devices that changed
//! a dossier after its submission, the start-up backfill for documents stored before summaries
//! existed, and [`Viewer`], who is asking for a listing.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tramyte_shared::catalog::Catalog;
use tramyte_shared::policy::{Principal, Role, Scope};
use tramyte_shared::summary::{Facts, Summary, summarize_facts};
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::hub::load_chunks;

use crate::domain::catalog;
use crate::store::{Store, StoreError, document, now_millis, summary};

/// The summary rows and listings, as stored (re-exported: callers speak of summaries here).
pub use crate::store::summary::{
    DocumentRow, Filter, ListError, ListedArray, MAX_LISTED, OrderedListing, RowFacts,
    StoredSummary, SummaryRecord, list, list_json, list_json_by, refresh, stored,
};

/// The assessments of `round` in the scope of user `scope_of` (`None`: every commune), as the
/// listing's filter; the round's other reads take the same `filter.scope_of`.
pub fn round_assessments(round: u16, scope_of: Option<String>) -> Filter {
    Filter {
        scope_of,
        kind: Some("assessment".to_owned()),
        round: Some(i32::from(round)),
        ..Filter::default()
    }
}

/// Catalogs by code and revision.
type Catalogs = HashMap<(String, u32), Arc<Catalog>>;

/// Criteria catalogs by code and revision, loaded from the database once each. A stored
/// revision never changes, so a cached one never goes stale.
#[derive(Debug, Clone, Default)]
pub struct CatalogCache {
    known: Arc<RwLock<Catalogs>>,
}

impl CatalogCache {
    /// The catalog `code` at `revision`, if this server has it.
    pub async fn get(&self, store: &Store, code: &str, revision: u32) -> Option<Arc<Catalog>> {
        let key = (code.to_owned(), revision);
        if let Some(found) = self
            .known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
        {
            return Some(found.clone());
        }
        match catalog::find(store, code, Some(revision)).await {
            Ok(Some(stored)) => {
                let found = Arc::new(stored.catalog);
                self.known
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(key, found.clone());
                Some(found)
            }
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(%code, revision, error = %err, "could not read a catalog to summarize with");
                None
            }
        }
    }

    /// Scores what was read of a document with its catalog.
    pub async fn summarize(&self, store: &Store, facts: &Facts) -> Summary {
        let catalog = match facts.catalog() {
            Some((code, revision)) => self.get(store, code, revision).await,
            None => None,
        };
        summarize_facts(facts, catalog.as_deref())
    }
}

/// Names the people whose devices made the unsigned station changes (notes, removals) that a
/// summary reports as changed after submission, from the actor bindings (`owner`).
pub fn name_devices<'a>(facts: &mut Facts, owner: impl Fn(&str) -> Option<&'a str>) {
    if let Some(late) = facts.changed_after_submission.as_mut() {
        for actor in &late.actors {
            if let Some(user) = owner(actor) {
                late.by.push(user.to_owned());
            }
        }
        late.by.sort();
        late.by.dedup();
    }
}

/// How many documents the start-up backfill reads at once before writing their summaries.
const BACKFILL_BATCH: i64 = 200;

/// Gives every document without a summary row one, and recomputes rows written before a column
/// existed (`status_history` NULL), by loading the document; the last change is taken from the
/// recorded provenance. Runs at start, so databases from before summaries work. Each document is
/// visited once per run. Returns how many rows it wrote.
pub async fn backfill(store: &Store, catalogs: &CatalogCache) -> Result<usize, StoreError> {
    let mut written = 0;
    let mut after = String::new();
    loop {
        let missing = summary::without_summary(store, &after, BACKFILL_BATCH).await?;
        let Some((last_id, ..)) = missing.last() else {
            return Ok(written);
        };
        after = last_id.clone();
        for (id_text, created_at, _created_by) in missing {
            let record = match DocumentId::parse(&id_text) {
                Ok(id) => match document::load(store, id).await? {
                    Some(chunks) => match load_chunks(&chunks) {
                        Ok(mut doc) => {
                            let mut facts = tramyte_shared::summary::read_facts(&mut doc);
                            if facts.changed_after_submission.is_some() {
                                let owners = document::actor_bindings(store).await?;
                                name_devices(&mut facts, |actor| {
                                    owners
                                        .iter()
                                        .find(|(a, _)| a == actor)
                                        .map(|(_, user)| user.as_str())
                                });
                            }
                            SummaryRecord::of(&catalogs.summarize(store, &facts).await)
                        }
                        Err(err) => unreadable(format!("the stored chunks do not load: {err}")),
                    },
                    None => continue,
                },
                Err(err) => unreadable(format!("the document id is not valid: {err}")),
            };
            let last = document::last_change(store, &id_text).await?;
            let last = last.unwrap_or((created_at, String::new()));
            let last_by = Some(last.1.as_str()).filter(|by| !by.is_empty());
            let now = now_millis();
            summary::write_backfilled(store, &id_text, &record, now, last.0, last_by).await?;
            written += 1;
        }
    }
}

/// The record of a document that cannot be read at all.
fn unreadable(problem: String) -> SummaryRecord {
    let mut record = SummaryRecord::of(&summarize_facts(
        &Facts {
            kind: tramyte_shared::summary::Kind::Json,
            commune: None,
            round: None,
            changes: 0,
            assessment: None,
            changed_after_submission: None,
            files: Default::default(),
        },
        None,
    ));
    record.problem = Some(problem);
    record
}

/// Who is asking: a signed-in principal, or anyone in open mode (who sees everything).
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<Principal>);

impl Viewer {
    /// The communes this viewer may see (`None`: all).
    pub fn communes(&self) -> Option<Vec<String>> {
        self.scoped().and_then(|principal| match &principal.scope {
            Scope::All => None,
            Scope::Communes(set) => Some(set.iter().cloned().collect()),
        })
    }

    /// The user whose scope a listing joins for this viewer (`None`: every commune): the same
    /// communes as [`Viewer::communes`], which the session read from the same rows.
    pub fn scope_of(&self) -> Option<String> {
        self.scoped().and_then(|principal| match &principal.scope {
            Scope::All => None,
            Scope::Communes(_) => Some(principal.user.clone()),
        })
    }

    /// The principal, unless it sees every commune by its role.
    fn scoped(&self) -> Option<&Principal> {
        self.0
            .as_ref()
            .filter(|principal| principal.role != Role::SystemAdmin)
    }
}
