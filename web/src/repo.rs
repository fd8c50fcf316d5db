//! The documents on this phone and their sync with the server: the browser driver of the
//! sans-IO [`tramyte_shared::sync::client::Client`].
//!
//! Every local edit is journaled synchronously in `localStorage` ([`crate::journal`]) and saved
//! to IndexedDB (asynchronously, in order; the journal entries go once the save is committed),
//! then offered to the server. What the server has
//! acknowledged is tracked per document as its heads (`ack:<id>` in IndexedDB), so the number of
//! local edits not yet on the server survives a restart ([`tramyte_shared::sync::pending`]: a
//! note typed in one go is one edit).
//!
//! The connection state tells the truth: the browser's `offline` event drops the socket at once,
//! and a heartbeat the page itself sends and hears ([`tramyte_shared::sync::heartbeat`]) gives
//! up a connection that went silent within 10 s, dropping the socket without waiting for its
//! close. "Connected" is shown only between the server's handshake answer and the socket's end.
//! The websocket reconnects with exponential backoff and jitter (about 1 s doubling to 30 s),
//! and at once when the browser says it is online again.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use automerge::{AutoCommit, ChangeHash, ReadDoc};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use tramyte_shared::sync::client::{Client, ClientEvent};
use tramyte_shared::sync::document_id::DocumentId;
use tramyte_shared::sync::heartbeat::{Beat, Heartbeat, TICK_MS};
use tramyte_shared::sync::pending::unsynced_edits;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::local;

const LAST_SYNC_KEY: &str = "last_sync";
/// While the browser says it is offline, one attempt in this many is made anyway.
const OFFLINE_SKIPS_BEFORE_TRYING: u32 = 6;
const ACTORS_KEY: &str = "actors";

/// The connection to the server, as the status line shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Not connected (offline, or waiting to retry).
    Offline,
    /// Opening the websocket or shaking hands.
    Connecting,
    /// Connected and syncing.
    Online,
}

/// The reactive face of the repo, for the interface.
#[derive(Clone, Copy)]
pub struct RepoStatus {
    pub link: ReadSignal<Link>,
    /// Local edits the server has not acknowledged yet.
    pub pending: ReadSignal<usize>,
    /// When the server last acknowledged everything (unix ms).
    pub last_sync: ReadSignal<Option<i64>>,
    /// Bumped whenever any document changes (locally or from the server).
    pub revision: ReadSignal<u64>,
    /// The last storage or sync problem, for the person to see.
    pub problem: ReadSignal<Option<String>>,
    /// Documents the server said it does not have or will not show.
    pub unavailable: ReadSignal<BTreeSet<String>>,
}

struct Setters {
    link: WriteSignal<Link>,
    pending: WriteSignal<usize>,
    last_sync: WriteSignal<Option<i64>>,
    revision: WriteSignal<u64>,
    problem: WriteSignal<Option<String>>,
    unavailable: WriteSignal<BTreeSet<String>>,
}

struct Inner {
    client: Client,
    socket: Option<WebSocket>,
    /// Per document: the heads the server is known to have.
    acked: BTreeMap<DocumentId, Vec<ChangeHash>>,
    /// This tab's automerge actor (random per tab: two tabs must never share one).
    actor: automerge::ActorId,
    /// Every actor this phone has written with (hex), ours included: their changes are local.
    local_actors: BTreeSet<String>,
    /// Liveness of the connection and the retry schedule.
    heartbeat: Heartbeat,
    retry_timer: Option<i32>,
    /// The browser's `online`/`offline` listeners and the heartbeat's tick are installed.
    listening: bool,
    /// Attempts skipped in a row because the browser said it was offline.
    offline_skips: u32,
    stopped: bool,
    /// Saves run one after another, newest bytes last.
    save_chain: Rc<RefCell<Option<js_sys::Promise>>>,
    set: Setters,
    revision: u64,
    url: String,
    ephemeral_handler: Option<Rc<dyn Fn(ClientEvent)>>,
}

/// The documents of the signed-in person, kept on the phone and synced.
#[derive(Clone)]
pub struct Repo {
    // Leptos wants `Send` values; the browser has one thread, and `SendWrapper` checks that.
    inner: SendWrapper<Rc<RefCell<Inner>>>,
    pub status: RepoStatus,
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

fn random_hex(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let byte = (js_sys::Math::random() * 256.0) as u8;
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn sync_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let (protocol, host) = location
        .map(|l| {
            (
                l.protocol().unwrap_or_default(),
                l.host().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/sync")
}

impl Repo {
    /// A repo with no documents and no connection yet.
    pub fn new() -> Repo {
        let (link, set_link) = signal(Link::Offline);
        let (pending, set_pending) = signal(0usize);
        let (last_sync, set_last_sync) = signal(None::<i64>);
        let (revision, set_revision) = signal(0u64);
        let (problem, set_problem) = signal(None::<String>);
        let (unavailable, set_unavailable) = signal(BTreeSet::new());
        let actor = automerge::ActorId::random();
        let local_actors = BTreeSet::from([actor.to_hex_string()]);
        let client = Client::new(format!("tramyte-web-{}", random_hex(8)));
        Repo {
            inner: SendWrapper::new(Rc::new(RefCell::new(Inner {
                client,
                socket: None,
                acked: BTreeMap::new(),
                actor,
                local_actors,
                heartbeat: Heartbeat::new(),
                retry_timer: None,
                listening: false,
                offline_skips: 0,
                stopped: false,
                save_chain: Rc::new(RefCell::new(None)),
                set: Setters {
                    link: set_link,
                    pending: set_pending,
                    last_sync: set_last_sync,
                    revision: set_revision,
                    problem: set_problem,
                    unavailable: set_unavailable,
                },
                revision: 0,
                url: sync_url(),
                ephemeral_handler: None,
            }))),
            status: RepoStatus {
                link,
                pending,
                last_sync,
                revision,
                problem,
                unavailable,
            },
        }
    }

    /// Loads every document kept on the phone, with what the server had acknowledged of each.
    pub async fn load_local(&self) {
        let known = local::load_meta(ACTORS_KEY).await.ok().flatten();
        let actors = {
            let mut inner = self.inner.borrow_mut();
            for actor in known.iter().flat_map(|k| k.split(',')) {
                if !actor.is_empty() {
                    inner.local_actors.insert(actor.to_owned());
                }
            }
            inner
                .local_actors
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        };
        if let Err(err) = local::save_meta(ACTORS_KEY, &actors).await {
            self.report(format!("{err}"));
        }
        let ids = match local::doc_ids().await {
            Ok(ids) => ids,
            Err(err) => {
                self.report(format!("{err}"));
                return;
            }
        };
        for id in ids {
            let Ok(document) = id.parse::<DocumentId>() else {
                continue;
            };
            let bytes = match local::load_doc(&id).await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => continue,
                Err(err) => {
                    self.report(format!("{err}"));
                    continue;
                }
            };
            let Ok(mut doc) = AutoCommit::load(&bytes) else {
                self.report(format!("document {id} on this phone is damaged"));
                continue;
            };
            // Edits journaled but not yet in IndexedDB when the page went away.
            let journal = crate::journal::entries(&id);
            for (_, changes) in &journal {
                if let Err(err) = doc.load_incremental(changes) {
                    self.report(format!("an unsaved edit of {id} does not load: {err}"));
                }
            }
            tramyte_shared::document::forget_patches(&mut doc);
            let resave = (!journal.is_empty()).then(|| doc.save());
            let acked = local::load_meta(&format!("ack:{id}"))
                .await
                .ok()
                .flatten()
                .map(|text| {
                    text.split(',')
                        .filter_map(|h| h.parse::<ChangeHash>().ok())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let mut inner = self.inner.borrow_mut();
            doc.set_actor(inner.actor.clone());
            inner.acked.insert(document, acked);
            let frames = inner.client.insert(document, doc);
            send_all(&inner, frames);
            drop(inner);
            if let Some(bytes) = resave {
                self.save(document, bytes);
            }
        }
        if let Ok(Some(last)) = local::load_meta(LAST_SYNC_KEY).await {
            self.inner
                .borrow()
                .set
                .last_sync
                .set(last.parse::<i64>().ok());
        }
        // Pages opened before the documents were loaded read them now.
        self.bump();
    }

    /// Makes sure these documents are on the phone (asks the server for the missing ones).
    pub fn want(&self, ids: &[String]) {
        let mut inner = self.inner.borrow_mut();
        for id in ids {
            let Ok(document) = id.parse::<DocumentId>() else {
                continue;
            };
            if inner.client.doc(&document).is_none() {
                let frames = inner.client.request(document);
                send_all(&inner, frames);
            }
        }
    }

    /// Whether a document is on this device with content (reactive, like [`Repo::read`]).
    pub fn holds(&self, id: &str) -> bool {
        let Ok(document) = id.parse::<DocumentId>() else {
            return false;
        };
        self.read(&document, |_| ()).is_some()
    }

    /// The ids of every document on this device with content (reactive, like [`Repo::read`]):
    /// one pass, for a list that asks of many documents.
    pub fn held(&self) -> std::collections::HashSet<String> {
        self.status.revision.track();
        let inner = self.inner.borrow();
        inner
            .client
            .documents()
            .filter(|id| {
                inner
                    .client
                    .doc(id)
                    .is_some_and(|doc| doc.keys(automerge::ROOT).next().is_some())
            })
            .map(ToString::to_string)
            .collect()
    }

    /// Reads a document (subscribes the caller to [`RepoStatus::revision`]).
    pub fn read<T>(&self, id: &DocumentId, read: impl FnOnce(&AutoCommit) -> T) -> Option<T> {
        self.status.revision.track();
        let inner = self.inner.borrow();
        let doc = inner.client.doc(id)?;
        // A requested document stays empty until the server sends it.
        doc.keys(automerge::ROOT).next()?;
        Some(read(doc))
    }

    /// Edits a document: the edit runs on the phone's copy, which is saved, then synced.
    pub fn change<T, E: std::fmt::Display>(
        &self,
        id: &DocumentId,
        edit: impl FnOnce(&mut AutoCommit) -> Result<T, E>,
    ) -> Result<T, String> {
        let (result, bytes) = {
            let mut inner = self.inner.borrow_mut();
            let actor = inner.actor.clone();
            let doc = inner
                .client
                .doc_mut(id)
                .ok_or_else(|| "document not on this phone".to_owned())?;
            if doc.get_actor() != &actor {
                doc.set_actor(actor);
            }
            let before = doc.get_heads();
            let result = edit(doc).map_err(|e| e.to_string())?;
            // Journaled synchronously before anything else, so a reload cannot lose it.
            let changes = doc.save_after(&before);
            if !changes.is_empty() {
                crate::journal::append(&id.to_string(), &changes);
            }
            let bytes = doc.save();
            (result, bytes)
        };
        self.save(*id, bytes);
        let frames = self.inner.borrow_mut().client.sync(*id);
        send_all(&self.inner.borrow(), frames);
        self.bump();
        Ok(result)
    }

    /// Reads a document through calls that need `&mut` without changing it (diffs, heads);
    /// subscribes the caller to [`RepoStatus::revision`].
    pub fn inspect<T>(
        &self,
        id: &DocumentId,
        read: impl FnOnce(&mut AutoCommit) -> T,
    ) -> Option<T> {
        self.status.revision.track();
        let mut inner = self.inner.borrow_mut();
        let doc = inner.client.doc_mut(id)?;
        doc.keys(automerge::ROOT).next()?;
        Some(read(doc))
    }

    /// A document's current heads, hex (what an approval records).
    pub fn heads(&self, id: &DocumentId) -> Vec<String> {
        self.inner
            .borrow_mut()
            .client
            .doc_mut(id)
            .map(|doc| doc.get_heads().iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// Starts the connection (and keeps it up until [`Repo::stop`]).
    pub fn start(&self) {
        let listen = {
            let mut inner = self.inner.borrow_mut();
            inner.stopped = false;
            !std::mem::replace(&mut inner.listening, true)
        };
        self.connect();
        if !listen {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let repo = self.clone();
        let online = Closure::<dyn Fn()>::new(move || repo.retry_now());
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        online.forget();
        let repo = self.clone();
        let offline = Closure::<dyn Fn()>::new(move || repo.drop_socket());
        let _ =
            window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        offline.forget();
        let repo = self.clone();
        let tick = Closure::<dyn Fn()>::new(move || repo.tick());
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            TICK_MS as i32,
        );
        tick.forget();
    }

    /// Closes the connection for good (sign-out).
    pub fn stop(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.stopped = true;
        if let Some(timer) = inner.retry_timer.take()
            && let Some(window) = web_sys::window()
        {
            window.clear_timeout_with_handle(timer);
        }
        if let Some(socket) = inner.socket.take() {
            forget_handlers(&socket);
            let _ = socket.close();
        }
        inner.client.disconnected();
        inner.heartbeat.closed();
        inner.set.link.set(Link::Offline);
    }

    /// The heartbeat's tick: probes a quiet connection, gives up a silent one.
    fn tick(&self) {
        let beat = {
            let mut inner = self.inner.borrow_mut();
            if inner.socket.is_none() {
                return;
            }
            inner.heartbeat.tick(now())
        };
        match beat {
            Beat::Wait => {}
            Beat::Probe => {
                let inner = self.inner.borrow();
                if let Some(frame) = inner.client.heartbeat() {
                    send_all(&inner, vec![frame]);
                }
            }
            Beat::Dead => self.drop_socket(),
        }
    }

    /// Drops the socket at once (the network went away, or it stopped answering): a dead
    /// connection's close can take minutes, so its handlers go first and nothing waits for it.
    fn drop_socket(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            let Some(socket) = inner.socket.take() else {
                return;
            };
            forget_handlers(&socket);
            let _ = socket.close();
            inner.client.disconnected();
            inner.heartbeat.closed();
            inner.set.link.set(Link::Offline);
        }
        self.schedule_retry();
        self.refresh();
    }

    /// Sends an ephemeral message (presence) about a document, when connected.
    pub fn broadcast(&self, id: DocumentId, session: &str, count: u64, data: Vec<u8>) {
        let inner = self.inner.borrow();
        if let Some(frame) = inner.client.ephemeral(id, session, count, data) {
            send_all(&inner, vec![frame]);
        }
    }

    /// Who receives ephemeral messages (the presence component).
    pub fn on_ephemeral(&self, handler: impl Fn(ClientEvent) + 'static) {
        self.inner.borrow_mut().ephemeral_handler = Some(Rc::new(handler));
    }

    fn retry_now(&self) {
        let waiting = {
            let mut inner = self.inner.borrow_mut();
            if inner.stopped || inner.socket.is_some() {
                false
            } else {
                if let Some(timer) = inner.retry_timer.take()
                    && let Some(window) = web_sys::window()
                {
                    window.clear_timeout_with_handle(timer);
                }
                inner.heartbeat.reset_backoff();
                true
            }
        };
        if waiting {
            self.connect();
        }
    }

    fn connect(&self) {
        let url = {
            let mut inner = self.inner.borrow_mut();
            if inner.stopped || inner.socket.is_some() {
                return;
            }
            // While the browser says it is offline, attempts wait for its `online` event (only
            // every few backoff periods is one tried anyway, in case the browser is wrong).
            let browser_online = web_sys::window().is_none_or(|w| w.navigator().on_line());
            if browser_online {
                inner.offline_skips = 0;
            } else {
                inner.offline_skips += 1;
                if !inner
                    .offline_skips
                    .is_multiple_of(OFFLINE_SKIPS_BEFORE_TRYING)
                {
                    drop(inner);
                    self.schedule_retry();
                    return;
                }
            }
            inner.url.clone()
        };
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(_) => {
                self.schedule_retry();
                return;
            }
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let repo = self.clone();
        let on_open = Closure::<dyn Fn()>::new(move || {
            let mut inner = repo.inner.borrow_mut();
            let join = inner.client.connect();
            send_all(&inner, vec![join]);
        });
        let repo = self.clone();
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                repo.receive(&js_sys::Uint8Array::new(&buffer).to_vec());
            }
        });
        let repo = self.clone();
        let closed_socket = socket.clone();
        let on_close = Closure::<dyn Fn()>::new(move || repo.closed(&closed_socket));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The socket owns its handlers for its whole life.
        on_open.forget();
        on_message.forget();
        on_close.forget();
        let mut inner = self.inner.borrow_mut();
        inner.socket = Some(socket);
        inner.heartbeat.connecting(now());
        inner.set.link.set(Link::Connecting);
    }

    fn closed(&self, socket: &WebSocket) {
        {
            let mut inner = self.inner.borrow_mut();
            // Only the current socket's end matters.
            if inner.socket.as_ref() != Some(socket) {
                return;
            }
            inner.socket = None;
            inner.client.disconnected();
            inner.heartbeat.closed();
            inner.set.link.set(Link::Offline);
        }
        self.schedule_retry();
    }

    fn schedule_retry(&self) {
        let mut inner = self.inner.borrow_mut();
        if inner.stopped || inner.retry_timer.is_some() {
            return;
        }
        let delay = inner.heartbeat.next_retry(js_sys::Math::random());
        let repo = self.clone();
        let retry = Closure::once_into_js(move || {
            repo.inner.borrow_mut().retry_timer = None;
            repo.connect();
        });
        if let Some(window) = web_sys::window() {
            inner.retry_timer = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    retry.unchecked_ref(),
                    delay as i32,
                )
                .ok();
        }
    }

    fn receive(&self, frame: &[u8]) {
        let step = {
            let mut inner = self.inner.borrow_mut();
            inner.heartbeat.heard(now());
            match inner.client.receive(frame) {
                Ok(step) => step,
                Err(err) => {
                    inner.set.problem.set(Some(err.to_string()));
                    if let Some(socket) = inner.socket.as_ref() {
                        let _ = socket.close();
                    }
                    return;
                }
            }
        };
        send_all(&self.inner.borrow(), step.frames);
        let mut changed = false;
        for event in step.events {
            match event {
                ClientEvent::Connected { .. } => {
                    let mut inner = self.inner.borrow_mut();
                    inner.heartbeat.ready(now());
                    inner.set.link.set(Link::Online);
                    inner.set.problem.set(None);
                }
                ClientEvent::Changed(id) => {
                    changed = true;
                    let bytes = self
                        .inner
                        .borrow_mut()
                        .client
                        .doc_mut(&id)
                        .map(|doc| doc.save());
                    if let Some(bytes) = bytes {
                        self.save(id, bytes);
                    }
                }
                ClientEvent::Unavailable(id) => {
                    let set = self.inner.borrow().set.unavailable;
                    set.update(|u| {
                        u.insert(id.to_string());
                    });
                }
                event @ ClientEvent::Ephemeral { .. } => {
                    let handler = self.inner.borrow().ephemeral_handler.clone();
                    if let Some(handler) = handler {
                        handler(event);
                    }
                }
            }
        }
        if changed {
            self.bump();
        } else {
            self.refresh();
        }
    }

    /// Saves a document's bytes to IndexedDB after every save before it; once committed, drops
    /// the journal entries the bytes include.
    fn save(&self, id: DocumentId, bytes: Vec<u8>) {
        let chain = self.inner.borrow().save_chain.clone();
        let repo = self.clone();
        let previous = chain.borrow_mut().take();
        let key = id.to_string();
        let covered = crate::journal::newest(&key);
        let future = async move {
            if let Some(previous) = previous {
                let _ = wasm_bindgen_futures::JsFuture::from(previous).await;
            }
            match local::save_doc(&key, &bytes).await {
                Ok(()) => {
                    if let Some(covered) = covered {
                        crate::journal::drop_through(&key, covered);
                    }
                }
                Err(err) => repo.report(format!("{err}")),
            }
            Ok(JsValue::UNDEFINED)
        };
        let promise = wasm_bindgen_futures::future_to_promise(future);
        *chain.borrow_mut() = Some(promise);
    }

    fn report(&self, problem: String) {
        self.inner.borrow().set.problem.set(Some(problem));
    }

    fn bump(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.revision += 1;
            let revision = inner.revision;
            inner.set.revision.set(revision);
        }
        self.refresh();
    }

    /// Recounts unacknowledged changes and records newly acknowledged heads.
    fn refresh(&self) {
        let mut newly_acked = Vec::new();
        let (pending, all_synced) = {
            let mut inner = self.inner.borrow_mut();
            let ids: Vec<DocumentId> = inner.client.documents().copied().collect();
            let mut pending = 0;
            let mut all_synced = inner.client.is_ready();
            for id in ids {
                if inner.client.in_sync(&id) {
                    let heads = inner
                        .client
                        .doc_mut(&id)
                        .map(|d| d.get_heads())
                        .unwrap_or_default();
                    if inner.acked.get(&id) != Some(&heads) {
                        inner.acked.insert(id, heads.clone());
                        newly_acked.push((id, heads));
                    }
                    continue;
                }
                all_synced = false;
                let acked = inner.acked.get(&id).cloned().unwrap_or_default();
                let actors = inner.local_actors.clone();
                if let Some(doc) = inner.client.doc_mut(&id) {
                    pending += unsynced_edits(doc, &acked, &actors);
                }
            }
            (pending, all_synced)
        };
        let set = &self.inner.borrow().set;
        set.pending.set(pending);
        if all_synced && !newly_acked.is_empty() {
            set.last_sync.set(Some(now()));
        }
        if !newly_acked.is_empty() {
            let repo = self.clone();
            let stamp = all_synced.then(now);
            wasm_bindgen_futures::spawn_local(async move {
                for (id, heads) in newly_acked {
                    let text = heads
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",");
                    if let Err(err) = local::save_meta(&format!("ack:{id}"), &text).await {
                        repo.report(format!("{err}"));
                    }
                }
                if let Some(stamp) = stamp {
                    let _ = local::save_meta(LAST_SYNC_KEY, &stamp.to_string()).await;
                }
            });
        }
    }
}

impl Default for Repo {
    fn default() -> Self {
        Repo::new()
    }
}

/// Takes a socket's handlers off, so a socket given up says nothing more.
fn forget_handlers(socket: &WebSocket) {
    socket.set_onopen(None);
    socket.set_onmessage(None);
    socket.set_onclose(None);
}

fn send_all(inner: &Inner, frames: Vec<Vec<u8>>) {
    let Some(socket) = inner.socket.as_ref() else {
        return;
    };
    if socket.ready_state() != WebSocket::OPEN {
        return;
    }
    for frame in frames {
        if socket.send_with_u8_array(&frame).is_err() {
            break;
        }
    }
}
