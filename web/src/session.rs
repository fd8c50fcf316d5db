//! Who is signed in on this phone, the documents of their scope, and the repo that keeps them.
//!
//! Signing in needs the network once; afterwards the person and the list of their documents are
//! remembered (`localStorage`), so the app opens offline with everything on the phone. A session
//! the server no longer accepts asks for the password again but never deletes local changes;
//! only a different person signing in on the same phone clears the previous one's data.

use leptos::prelude::*;
use tramyte_shared::policy::{Principal, Role, Scope};

use crate::api::{self, ApiError, DocumentRow, Me};
use crate::platform;
use crate::repo::Repo;

const ME_KEY: &str = "tramyte.me";
/// How many entries the kept list of documents is in (see [`keep_documents`]); an older
/// version kept the whole list here, as JSON.
const DOCUMENTS_KEY: &str = "tramyte.documents";
/// Rows of the list of documents in one `localStorage` entry, each written in a task of its
/// own: a reviewer's 10,000 rows written as one entry held the page's thread ~140 ms under a
/// 4× CPU slowdown (a scroll, a click waited for it).
const DOCUMENTS_PER_ENTRY: usize = 1_000;
const LAST_USER_KEY: &str = "tramyte.last_user";

/// The signed-in state, provided as context.
#[derive(Clone)]
pub struct Session {
    /// The signed-in person (`None`: show the sign-in page).
    pub me: RwSignal<Option<Me>>,
    /// The session ended on the server: ask for the password again (local data kept).
    pub expired: RwSignal<bool>,
    /// Documents of the person's scope, as last listed by the server.
    pub documents: RwSignal<Vec<DocumentRow>>,
    /// The documents and their sync.
    pub repo: Repo,
    /// Whether a refresh of `documents` waits for a page's own answer
    /// ([`Session::hold_documents`]).
    hold: StoredValue<Hold>,
    /// Counts the lists kept for offline use: a keeping that sees a newer one begun stops.
    keeping: StoredValue<u64>,
}

/// A refresh of the list of documents held back (see [`Session::hold_documents`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hold {
    /// Refreshes go at once.
    Off,
    /// Held; none asked yet.
    On,
    /// Held, and one was asked: it goes at the release.
    Asked,
}

impl Session {
    /// The policy's view of the signed-in person.
    pub fn principal(&self) -> Option<Principal> {
        self.me.with(|me| {
            me.as_ref().map(|me| Principal {
                user: me.user.id.clone(),
                role: me.user.role,
                scope: match &me.communes {
                    None => Scope::All,
                    Some(list) => Scope::Communes(list.iter().cloned().collect()),
                },
                person: me.user.person.clone(),
            })
        })
    }

    /// The signed-in person's role.
    pub fn role(&self) -> Option<Role> {
        self.me.with(|me| me.as_ref().map(|me| me.user.role))
    }

    /// The documents of `list` this phone fetches and keeps in sync without being asked: every
    /// one for the people of a station (their commune's few dossiers, ready offline); none for
    /// reviewers and administrators, whose scope may be thousands of communes — a dossier they
    /// open is fetched then and kept (see [`Repo::want`]), like the ones already on the phone.
    fn prefetched(&self, list: &[DocumentRow]) -> Vec<String> {
        let station = self.role_untracked().is_some_and(|role| {
            matches!(
                role,
                Role::StationStaff | Role::StationHead | Role::VillageHealthWorker
            )
        });
        if station {
            list.iter().map(|d| d.id.clone()).collect()
        } else {
            Vec::new()
        }
    }

    fn role_untracked(&self) -> Option<Role> {
        self.me
            .with_untracked(|me| me.as_ref().map(|me| me.user.role))
    }

    /// Signs in online; clears the phone first when another person was signed in before.
    pub async fn sign_in(&self, user: &str, password: &str) -> Result<(), ApiError> {
        let device = device_name();
        let me = api::sign_in(user, password, &device).await?;
        let previous = platform::load_local(LAST_USER_KEY);
        if previous.as_deref().is_some_and(|p| p != me.user.id) {
            self.repo.stop();
            let _ = crate::local::clear().await;
            crate::journal::clear_all();
            forget_documents();
            platform::remove_local(crate::names::CACHE_KEY);
            // A clean repo for the new person: reload the app.
            platform::store_local(LAST_USER_KEY, &me.user.id);
            remember(&me);
            platform::reload();
            return Ok(());
        }
        platform::store_local(LAST_USER_KEY, &me.user.id);
        remember(&me);
        let first = self.me.get_untracked().is_none();
        self.me.set(Some(me));
        self.expired.set(false);
        if first {
            self.open().await;
        } else {
            self.repo.stop();
            self.repo.start();
        }
        self.refresh_documents().await;
        Ok(())
    }

    /// Signs out on the server and on the phone. Unsynced changes stay on the phone.
    pub async fn sign_out(&self) {
        let _ = api::sign_out().await;
        self.repo.stop();
        platform::remove_local(ME_KEY);
        self.me.set(None);
    }

    /// Loads the phone's documents and connects.
    async fn open(&self) {
        self.repo.load_local().await;
        let ids = self.documents.with_untracked(|list| self.prefetched(list));
        self.repo.want(&ids);
        self.repo.start();
        crate::media::start();
    }

    /// Holds the refresh of the list of documents until [`Session::release_documents`] (a
    /// refresh asked meanwhile goes then). The overview holds it while its own answer comes and
    /// its first rows are drawn: for a reviewer the list is the same thousands of rows (4.9 MB
    /// for 10,000 communes), and its answer, decoded on the same thread, came in between.
    pub fn hold_documents(&self) {
        self.hold.update_value(|hold| {
            if *hold == Hold::Off {
                *hold = Hold::On;
            }
        });
    }

    /// Ends [`Session::hold_documents`]: the refresh asked meanwhile goes now.
    pub fn release_documents(&self) {
        let asked = self
            .hold
            .try_update_value(|hold| std::mem::replace(hold, Hold::Off) == Hold::Asked)
            .unwrap_or(false);
        if asked {
            let session = self.clone();
            leptos::task::spawn_local(async move { session.refresh_documents().await });
        }
    }

    /// Asks the server for the list of documents (when online) and fetches new ones; while the
    /// list is held ([`Session::hold_documents`]), at the release.
    pub async fn refresh_documents(&self) {
        let held = self
            .hold
            .try_update_value(|hold| {
                if *hold == Hold::Off {
                    return false;
                }
                *hold = Hold::Asked;
                true
            })
            .unwrap_or(false);
        if held {
            return;
        }
        match api::documents().await {
            Ok(list) => {
                let ids = self.prefetched(&list);
                self.documents.set(list);
                self.repo.want(&ids);
                // Kept in tasks of its own: whoever waits for the refresh (signing in) does
                // not wait for the keeping.
                let session = self.clone();
                leptos::task::spawn_local(async move { session.keep_documents().await });
            }
            Err(ApiError::Unauthorized(_)) => self.expired.set(true),
            Err(_) => {}
        }
    }

    /// Keeps the list of documents for opening offline, [`DOCUMENTS_PER_ENTRY`] rows an entry
    /// and a task. The count of entries goes first and comes back last, so an app that opens
    /// meanwhile finds no list rather than a mix of two; a newer list begun meanwhile takes
    /// over. An entry the browser refuses (its quota full) leaves no list kept.
    async fn keep_documents(&self) {
        self.keeping.update_value(|n| *n += 1);
        let this = self.keeping.get_value();
        let current = move || self.keeping.try_get_value() == Some(this);
        forget_documents();
        let mut entries = 0;
        loop {
            let from = entries * DOCUMENTS_PER_ENTRY;
            let json = self.documents.with_untracked(|list| {
                list.get(from..(from + DOCUMENTS_PER_ENTRY).min(list.len()))
                    .filter(|part| !part.is_empty() || from == 0)
                    .map(serde_json::to_string)
            });
            let Some(Ok(json)) = json else {
                break;
            };
            if !platform::store_local(&documents_entry(entries), &json) {
                forget_documents();
                return;
            }
            entries += 1;
            platform::next_task().await;
            if !current() {
                return;
            }
        }
        platform::store_local(DOCUMENTS_KEY, &entries.to_string());
    }

    /// Checks the session with the server (when online).
    pub async fn check(&self) {
        match api::me().await {
            Ok(me) => {
                remember(&me);
                self.me.set(Some(me));
                self.expired.set(false);
            }
            Err(ApiError::Unauthorized(_)) => self.expired.set(true),
            Err(_) => {}
        }
    }
}

/// The key of the kept list's entry `at`.
fn documents_entry(at: usize) -> String {
    format!("{DOCUMENTS_KEY}.{at}")
}

/// The list of documents kept for offline use: empty when none is, or one of its entries is
/// missing or unreadable (never a part of it as the whole).
fn kept_documents() -> Vec<DocumentRow> {
    let Some(kept) = platform::load_local(DOCUMENTS_KEY) else {
        return Vec::new();
    };
    if let Ok(whole) = serde_json::from_str::<Vec<DocumentRow>>(&kept) {
        return whole;
    }
    let Ok(entries) = kept.parse::<usize>() else {
        return Vec::new();
    };
    let mut list = Vec::new();
    for at in 0..entries {
        match platform::load_local(&documents_entry(at))
            .map(|json| serde_json::from_str::<Vec<DocumentRow>>(&json))
        {
            Some(Ok(part)) => list.extend(part),
            _ => return Vec::new(),
        }
    }
    list
}

/// Removes the kept list of documents: its count, then its entries, and any entry after them
/// that a keeping cut short left.
fn forget_documents() {
    let entries = platform::load_local(DOCUMENTS_KEY).and_then(|n| n.parse::<usize>().ok());
    platform::remove_local(DOCUMENTS_KEY);
    let mut at = 0;
    while at < entries.unwrap_or(0) || platform::has_local(&documents_entry(at)) {
        platform::remove_local(&documents_entry(at));
        at += 1;
    }
}

fn remember(me: &Me) {
    if let Ok(json) = serde_json::to_string(me) {
        platform::store_local(ME_KEY, &json);
    }
}

fn device_name() -> String {
    let agent = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    let short: String = agent.chars().take(120).collect();
    format!("tramyte web · {short}")
}

/// Provides the session from what the phone remembers, and starts syncing if someone is
/// signed in.
pub fn provide_session() -> Session {
    let me: Option<Me> =
        platform::load_local(ME_KEY).and_then(|json| serde_json::from_str(&json).ok());
    let documents = kept_documents();
    let signed_in = me.is_some();
    let session = Session {
        me: RwSignal::new(me),
        expired: RwSignal::new(false),
        documents: RwSignal::new(documents),
        repo: Repo::new(),
        hold: StoredValue::new(Hold::Off),
        keeping: StoredValue::new(0),
    };
    provide_context(session.clone());
    // A socket that drops while the browser is online may mean the session ended (signed out
    // elsewhere, disabled, new password): ask the server, so the person can sign in again.
    {
        let session = session.clone();
        let link = session.repo.status.link;
        Effect::new(move |previous: Option<crate::repo::Link>| {
            let now = link.get();
            let online = web_sys::window().is_some_and(|w| w.navigator().on_line());
            // The server is back: evidence files waiting for their backoff go now.
            if now == crate::repo::Link::Online && previous != Some(crate::repo::Link::Online) {
                crate::media::kick();
            }
            if previous == Some(crate::repo::Link::Online)
                && now == crate::repo::Link::Offline
                && online
                && session.me.with_untracked(Option::is_some)
            {
                let session = session.clone();
                leptos::task::spawn_local(async move { session.check().await });
            }
            now
        });
    }
    if signed_in {
        let session = session.clone();
        leptos::task::spawn_local(async move {
            session.open().await;
            session.check().await;
            session.refresh_documents().await;
        });
    }
    session
}

/// The session provided by the app.
pub fn use_session() -> Session {
    expect_context::<Session>()
}

// Run by `wasm-bindgen-test-runner` in headless Chromium (`cargo xtask test`).
#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::{DOCUMENTS_KEY, documents_entry, forget_documents, kept_documents};
    use crate::platform::{has_local, store_local};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn row(id: &str) -> String {
        format!(r#"{{"id":"{id}","kind":"assessment"}}"#)
    }

    #[wasm_bindgen_test]
    fn the_kept_list_reads_whole_or_not_at_all() {
        // An older version's list, kept whole.
        store_local(DOCUMENTS_KEY, &format!("[{},{}]", row("a"), row("b")));
        let ids =
            |list: Vec<crate::api::DocumentRow>| list.into_iter().map(|d| d.id).collect::<Vec<_>>();
        assert_eq!(ids(kept_documents()), ["a", "b"]);
        // In entries, read in order.
        store_local(&documents_entry(0), &format!("[{},{}]", row("a"), row("b")));
        store_local(&documents_entry(1), &format!("[{}]", row("c")));
        store_local(DOCUMENTS_KEY, "2");
        assert_eq!(ids(kept_documents()), ["a", "b", "c"]);
        // An entry missing or damaged: no list, never a part of it.
        store_local(&documents_entry(1), "[{");
        assert!(kept_documents().is_empty());
        store_local(&documents_entry(1), &format!("[{}]", row("c")));
        store_local(DOCUMENTS_KEY, "3");
        assert!(kept_documents().is_empty());
        // Forgetting removes the count, the entries and an entry a cut-short keeping left.
        store_local(DOCUMENTS_KEY, "1");
        forget_documents();
        assert!(!has_local(DOCUMENTS_KEY));
        assert!(!has_local(&documents_entry(0)) && !has_local(&documents_entry(1)));
        assert!(kept_documents().is_empty());
    }
}
