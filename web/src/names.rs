//! People's display names for the user ids documents record (who set a score, who returned a
//! dossier, who changed what): asked of the server in batches (`GET /api/names`), learned from
//! the signed-in person and from presence messages, and remembered on the phone for offline use.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;

use crate::platform;

/// Where the names are remembered (cleared with the rest when another person signs in).
pub const CACHE_KEY: &str = "tramyte.names";

/// The names known so far, provided as context.
#[derive(Clone, Copy)]
pub struct Names {
    known: RwSignal<BTreeMap<String, String>>,
    /// Ids asked of the server already (found or not), and those waiting for the next batch.
    asked: StoredValue<BTreeSet<String>>,
    waiting: StoredValue<BTreeSet<String>>,
}

impl Names {
    /// The display name of user `id` (reactive): the id itself until the name is known.
    pub fn of(&self, id: &str) -> String {
        if let Some(name) = self.known.with(|known| known.get(id).cloned()) {
            return name;
        }
        self.ask(id);
        id.to_owned()
    }

    /// Learns a name seen elsewhere (the signed-in person, a presence message).
    pub fn learn(&self, id: &str, name: &str) {
        if id.is_empty() || name.is_empty() {
            return;
        }
        let new = self
            .known
            .with_untracked(|known| known.get(id).map(String::as_str) != Some(name));
        if new {
            self.known.update(|known| {
                known.insert(id.to_owned(), name.to_owned());
            });
            self.remember();
        }
    }

    /// Queues `id` for the next batch; the batch goes once the current render is done.
    fn ask(&self, id: &str) {
        if id.is_empty() || self.asked.with_value(|asked| asked.contains(id)) {
            return;
        }
        let first = self.waiting.with_value(BTreeSet::is_empty);
        self.waiting.update_value(|waiting| {
            waiting.insert(id.to_owned());
        });
        if !first {
            return;
        }
        let names = *self;
        leptos::task::spawn_local(async move {
            let ids: Vec<String> = names
                .waiting
                .try_update_value(std::mem::take)
                .unwrap_or_default()
                .into_iter()
                .take(tramyte_shared::rest::MAX_NAMES)
                .collect();
            if ids.is_empty() {
                return;
            }
            // Asked once: a render meanwhile does not ask again.
            names
                .asked
                .update_value(|asked| asked.extend(ids.iter().cloned()));
            let Ok(found) = crate::api::names(&ids).await else {
                // Offline: ask again the next time one is shown.
                names
                    .asked
                    .update_value(|asked| asked.retain(|id| !ids.contains(id)));
                return;
            };
            if !found.is_empty() {
                names.known.update(|known| known.extend(found));
                names.remember();
            }
        });
    }

    fn remember(&self) {
        let json = self
            .known
            .with_untracked(|known| serde_json::to_string(known).ok());
        if let Some(json) = json {
            platform::store_local(CACHE_KEY, &json);
        }
    }
}

/// Provides [`Names`], starting from the names remembered on the phone.
pub fn provide_names() -> Names {
    let known: BTreeMap<String, String> = platform::load_local(CACHE_KEY)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    let names = Names {
        known: RwSignal::new(known),
        asked: StoredValue::new(BTreeSet::new()),
        waiting: StoredValue::new(BTreeSet::new()),
    };
    provide_context(names);
    names
}

/// The [`Names`] provided by the app (provided here when a component is mounted alone).
pub fn use_names() -> Names {
    use_context::<Names>().unwrap_or_else(provide_names)
}
