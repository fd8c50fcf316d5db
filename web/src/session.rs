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
const DOCUMENTS_KEY: &str = "tramyte.documents";
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
            platform::remove_local(DOCUMENTS_KEY);
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
                if let Ok(json) = serde_json::to_string(&list) {
                    platform::store_local(DOCUMENTS_KEY, &json);
                }
                let ids = self.prefetched(&list);
                self.documents.set(list);
                self.repo.want(&ids);
            }
            Err(ApiError::Unauthorized(_)) => self.expired.set(true),
            Err(_) => {}
        }
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
    let documents: Vec<DocumentRow> = platform::load_local(DOCUMENTS_KEY)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    let signed_in = me.is_some();
    let session = Session {
        me: RwSignal::new(me),
        expired: RwSignal::new(false),
        documents: RwSignal::new(documents),
        repo: Repo::new(),
        hold: StoredValue::new(Hold::Off),
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
