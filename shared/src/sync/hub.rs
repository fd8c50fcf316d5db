//! The server side of sync (the protocol's "receiving peer"), sans-IO.
//!
//! [`Hub::handle`] takes one [`Input`] (a connection opened or closed, a frame received, a
//! document loaded, a chunk persisted, a tick) and returns the [`Output`]s to carry out, in
//! order (send a frame, close a connection, load a document, persist a chunk). It never blocks,
//! reads a clock or touches a socket, so the same code runs under tokio on the server and in
//! plain loops in tests.
//!
//! Durability rule: after a frame changes a document, the new changes go out as
//! [`Output::Persist`], and **no** sync message about that document leaves the hub until
//! [`Input::Persisted`] says the chunk is committed. A sync message carries the hub's heads, which
//! is what acknowledges a change to its sender; so nothing is acknowledged before it is durable.
//! If persisting fails, the document is dropped from memory and its peers are disconnected:
//! they still hold their changes and send them again when they reconnect.
//!
//! Hostile input: every `sync`/`request` payload is checked by
//! [`validate_sync_message`](super::validate::validate_sync_message) before automerge decodes it,
//! and each refusal is reported as [`Output::Refused`] with a stable label. A panic while
//! handling one event (in automerge or here) is caught in [`Hub::handle`]: the document the
//! event concerned is dropped from memory, its peers are closed with an `error`, and
//! [`Output::PanicContained`] says so; every other document and peer is served on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};

use super::chunk::{Chunk, ChunkKey, ChunkKind};
use super::document_id::DocumentId;
use super::heartbeat::HEARTBEAT_DOCUMENT;
use super::message::{Message, PROTOCOL_VERSION, PeerId, PeerMetadata};
use super::validate::{SyncLimits, validate_sync_message};
use crate::policy::{self, Principal};

/// A connection, numbered by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Names one persist or compaction, so its completion can be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// The hub's explicit limits; each one closes the offending connection with an `error`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Documents one connection may have open at once.
    pub max_documents_per_connection: usize,
    /// Sustained messages per second per connection.
    pub messages_per_second: u32,
    /// Messages a connection may send in a burst above the sustained rate (initial sync of many
    /// documents sends one request each).
    pub message_burst: u32,
    /// Stored size a document may reach, in bytes.
    pub max_document_bytes: usize,
    /// How long a new connection may wait before sending `join`, in milliseconds.
    pub join_timeout_ms: i64,
    /// What one sync message may hold, its decoding's memory included.
    pub sync_message: SyncLimits,
    /// Bytes of `data` one ephemeral message may carry (it is copied to every peer).
    pub max_ephemeral_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_documents_per_connection: 2_000,
            messages_per_second: 200,
            message_burst: 4_000,
            max_document_bytes: 64 << 20,
            join_timeout_ms: 10_000,
            sync_message: SyncLimits::default(),
            max_ephemeral_bytes: 64 << 10,
        }
    }
}

/// How the hub behaves.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The hub's own peer id, sent in `peer` and as `senderId`.
    pub peer_id: PeerId,
    /// Development mode: a `sync` for an unknown document creates it (like the reference
    /// automerge-repo sync server). Otherwise only documents that exist are served.
    pub open: bool,
    pub limits: Limits,
    /// Incremental chunks are compacted into a snapshot once they outgrow it and this size.
    pub compaction_min_bytes: usize,
    /// Test hook: applying a sync message that carries changes to this document panics, to
    /// show that the panic is contained. Set only by tests through code; no flag, variable or
    /// message can set it.
    pub panic_on_document: Option<DocumentId>,
}

impl HubConfig {
    /// Defaults with the given peer id.
    pub fn new(peer_id: impl Into<PeerId>) -> HubConfig {
        HubConfig {
            peer_id: peer_id.into(),
            open: false,
            limits: Limits::default(),
            compaction_min_bytes: 64 << 10,
            panic_on_document: None,
        }
    }
}

/// What the storage found for a document.
#[derive(Debug, Clone)]
pub enum LoadOutcome {
    /// Every stored chunk of the document.
    Found(Vec<Chunk>),
    /// No such document.
    NotFound,
    /// The storage failed; the text is for logs.
    Failed(String),
}

/// An event for the hub.
#[derive(Debug, Clone)]
pub enum Input {
    /// A connection was accepted; `principal` is who signed in (`None` only in open mode).
    Connected {
        conn: ConnId,
        now_ms: i64,
        principal: Option<Principal>,
    },
    /// Ends a connection with an error (its session was revoked, say).
    Kick { conn: ConnId, reason: String },
    /// A binary frame arrived on a connection.
    Frame {
        conn: ConnId,
        frame: Vec<u8>,
        now_ms: i64,
    },
    /// A connection is gone.
    Disconnected { conn: ConnId },
    /// The answer to [`Output::Load`].
    Loaded {
        document: DocumentId,
        outcome: LoadOutcome,
    },
    /// A chunk of [`Output::Persist`] or [`Output::Compact`] is committed.
    Persisted {
        document: DocumentId,
        ticket: Ticket,
    },
    /// A chunk of [`Output::Persist`] or [`Output::Compact`] could not be stored.
    PersistFailed {
        document: DocumentId,
        ticket: Ticket,
        error: String,
    },
    /// Chunks another server node stored for a document (multi-node deployments).
    RemoteChunks {
        document: DocumentId,
        chunks: Vec<Chunk>,
    },
    /// Time passes (closes connections that never joined).
    Tick { now_ms: i64 },
}

/// An effect for the driver to carry out, in order.
#[derive(Debug, Clone)]
pub enum Output {
    /// Send a binary frame.
    Send { conn: ConnId, frame: Vec<u8> },
    /// Close a connection (an `error` frame was sent before it when there was a reason).
    Close { conn: ConnId, reason: String },
    /// Load every chunk of a document and answer with [`Input::Loaded`].
    Load { document: DocumentId },
    /// Commit this chunk, then answer [`Input::Persisted`] (or [`Input::PersistFailed`]).
    Persist {
        document: DocumentId,
        ticket: Ticket,
        chunk: Chunk,
        /// The document did not exist before (created in open mode).
        created: bool,
        /// The connection whose frame made the change.
        sender: ConnId,
        /// Each change in the chunk: its hash and its actor, for provenance.
        changes: Vec<(String, String)>,
        /// Actors seen for the first time, now bound to the sender's user: the storage must
        /// refuse the chunk if another node bound one of them to someone else meanwhile.
        new_actors: Vec<String>,
    },
    /// Store `snapshot` and delete the chunks it replaces, in one transaction; then answer
    /// [`Input::Persisted`].
    Compact {
        document: DocumentId,
        ticket: Ticket,
        snapshot: Chunk,
        replaces: Vec<ChunkKey>,
    },
    /// The document left memory (no connection has it open).
    Evicted { document: DocumentId },
    /// Something the operator should know about; nothing a client did wrong.
    Problem {
        document: Option<DocumentId>,
        message: String,
    },
    /// A connection's message was refused (it was sent an `error` and closed); `reason` is a
    /// short stable label (`sync_message_bloom_filter`, `rate_limit`, …) for metrics.
    Refused { conn: ConnId, reason: &'static str },
    /// A panic was caught: the document it concerned (if any) was dropped from memory and its
    /// peers closed; everything else is served on.
    PanicContained {
        document: Option<DocumentId>,
        message: String,
    },
}

/// The sync hub: every open connection and every document in memory.
#[derive(Debug)]
pub struct Hub {
    config: HubConfig,
    conns: HashMap<ConnId, Conn>,
    docs: HashMap<DocumentId, Slot>,
    next_ticket: u64,
    /// Which user each automerge actor id belongs to.
    actors: HashMap<String, String>,
    /// The document the event being handled concerns, once known: what a panic costs.
    current: Option<DocumentId>,
    /// Connections waiting for the document being loaded (`Input::Loaded`), closed too if its
    /// handling panics.
    current_waiters: Vec<ConnId>,
}

#[derive(Debug)]
struct Conn {
    connected_at: i64,
    principal: Option<Principal>,
    peer_id: Option<PeerId>,
    bucket: TokenBucket,
    docs: HashMap<DocumentId, sync::State>,
}

#[derive(Debug)]
enum Slot {
    Loading {
        pending: Vec<Pending>,
        remote: Vec<Chunk>,
    },
    Ready(Box<Loaded>),
}

#[derive(Debug)]
struct Pending {
    conn: ConnId,
    request: bool,
    message: sync::Message,
}

#[derive(Debug)]
struct Loaded {
    doc: AutoCommit,
    peers: BTreeSet<ConnId>,
    /// Persists not yet committed: while any is, no sync message about this document goes out.
    in_flight: BTreeSet<Ticket>,
    /// The chunks the document is made of (stored, or being stored), with their sizes.
    chunks: BTreeMap<ChunkKey, (ChunkKind, usize)>,
    compacting: Option<(Ticket, Vec<ChunkKey>, ChunkKey, usize)>,
    created: bool,
    /// The document's kind and commune, read once: no client may change them.
    kind: String,
    commune: Option<String>,
    /// Peers whose messages arrived while a persist was in flight: each gets an answer once it
    /// is committed, even if automerge thinks the peer already knows our heads (it told us its
    /// heads, but has not heard that we have its changes).
    owed: BTreeSet<ConnId>,
}

#[derive(Debug)]
struct TokenBucket {
    tokens: f64,
    last_ms: i64,
}

impl Hub {
    /// An empty hub.
    pub fn new(config: HubConfig) -> Hub {
        Hub {
            config,
            conns: HashMap::new(),
            docs: HashMap::new(),
            next_ticket: 0,
            actors: HashMap::new(),
            current: None,
            current_waiters: Vec::new(),
        }
    }

    /// Records that an actor id belongs to a user (bindings stored earlier, or by another node).
    pub fn bind_actor(&mut self, actor: String, user: String) {
        self.actors.insert(actor, user);
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Documents in memory.
    pub fn documents_in_memory(&self) -> usize {
        self.docs.len()
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// A document in memory and ready, to read (the server summarizes it after a change).
    pub fn document(&self, document: &DocumentId) -> Option<&AutoCommit> {
        match self.docs.get(document) {
            Some(Slot::Ready(loaded)) => Some(&loaded.doc),
            _ => None,
        }
    }

    /// [`Hub::document`], for automerge's readers that need `&mut` (reading at other heads).
    pub fn document_mut(&mut self, document: &DocumentId) -> Option<&mut AutoCommit> {
        match self.docs.get_mut(document) {
            Some(Slot::Ready(loaded)) => Some(&mut loaded.doc),
            _ => None,
        }
    }

    /// The user an automerge actor id is bound to, if it is known here.
    pub fn actor_user(&self, actor: &str) -> Option<&str> {
        self.actors.get(actor).map(String::as_str)
    }

    /// Handles one event and returns what to do, in order.
    ///
    /// A panic while handling it is contained (see [`Hub::contain_panic`]); the outputs produced
    /// before the panic are kept (each was consistent when it was made: a sync message goes out
    /// only once everything it acknowledges is stored, and a `Close` must reach its socket).
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.current = input_document(&input);
        let conn = input_conn(&input);
        let handled = catch_unwind(AssertUnwindSafe(|| self.dispatch(input, &mut out)));
        if let Err(payload) = handled {
            let message = panic_message(payload.as_ref());
            self.contain_panic(self.current, conn, message, &mut out);
        }
        self.current = None;
        self.current_waiters.clear();
        out
    }

    /// After a panic: drops `document` from memory and closes every connection that was
    /// syncing it or waiting for it with an `error`; without a document, closes the connection
    /// whose frame was being handled. Nothing of the document that was not stored stays
    /// anywhere: its peers resend what they have when they reconnect, and persists still in
    /// flight complete against a document no longer in memory (their answers are ignored).
    fn contain_panic(
        &mut self,
        document: Option<DocumentId>,
        conn: Option<ConnId>,
        message: String,
        out: &mut Vec<Output>,
    ) {
        out.push(Output::PanicContained { document, message });
        let mut victims: BTreeSet<ConnId> = BTreeSet::new();
        if let Some(document) = document {
            match self.docs.remove(&document) {
                Some(Slot::Loading { pending, .. }) => {
                    victims.extend(pending.iter().map(|p| p.conn));
                }
                Some(Slot::Ready(loaded)) => victims.extend(loaded.peers.iter().copied()),
                None => {}
            }
            for (id, c) in &mut self.conns {
                if c.docs.remove(&document).is_some() {
                    victims.insert(*id);
                }
            }
            out.push(Output::Evicted { document });
        }
        victims.extend(conn);
        victims.extend(std::mem::take(&mut self.current_waiters));
        let reason = match document {
            Some(document) => format!(
                "the server failed while handling document {document} and dropped it from memory; reconnect to sync it again"
            ),
            None => "the server failed while handling this connection's message".to_owned(),
        };
        for victim in victims {
            self.fail(victim, reason.clone(), out);
        }
    }

    fn dispatch(&mut self, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Kick { conn, reason } => self.fail(conn, reason, out),
            Input::Connected {
                conn,
                now_ms,
                principal,
            } => {
                let bucket = TokenBucket {
                    tokens: f64::from(self.config.limits.message_burst),
                    last_ms: now_ms,
                };
                self.conns.insert(
                    conn,
                    Conn {
                        connected_at: now_ms,
                        principal,
                        peer_id: None,
                        bucket,
                        docs: HashMap::new(),
                    },
                );
            }
            Input::Frame {
                conn,
                frame,
                now_ms,
            } => self.on_frame(conn, &frame, now_ms, out),
            Input::Disconnected { conn } => self.drop_conn(conn, out),
            Input::Loaded { document, outcome } => self.on_loaded(document, outcome, out),
            Input::Persisted { document, ticket } => self.on_persisted(document, ticket, out),
            Input::PersistFailed {
                document,
                ticket,
                error,
            } => self.on_persist_failed(document, ticket, &error, out),
            Input::RemoteChunks { document, chunks } => {
                self.on_remote_chunks(document, chunks, out)
            }
            Input::Tick { now_ms } => {
                let timeout = self.config.limits.join_timeout_ms;
                let late: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.peer_id.is_none() && now_ms - c.connected_at > timeout)
                    .map(|(id, _)| *id)
                    .collect();
                for conn in late {
                    self.refuse(
                        conn,
                        "handshake",
                        format!("no join message within {timeout} ms"),
                        out,
                    );
                }
            }
        }
    }

    fn on_frame(&mut self, conn_id: ConnId, frame: &[u8], now_ms: i64, out: &mut Vec<Output>) {
        let limits = &self.config.limits;
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        if !conn
            .bucket
            .take(now_ms, limits.messages_per_second, limits.message_burst)
        {
            let reason = format!(
                "more than {} messages per second",
                limits.messages_per_second
            );
            return self.refuse(conn_id, "rate_limit", reason, out);
        }
        let message = match Message::decode(frame) {
            Ok(message) => message,
            Err(err) => return self.refuse(conn_id, err.label(), err.to_string(), out),
        };
        if conn.peer_id.is_none() {
            // Handshake: the first message must be `join` with version 1.
            return match message {
                Message::Join {
                    sender_id,
                    supported_protocol_versions,
                    ..
                } => {
                    if !supported_protocol_versions
                        .iter()
                        .any(|v| v == PROTOCOL_VERSION)
                    {
                        let reason = format!(
                            "unsupported protocol versions {supported_protocol_versions:?}; this server speaks \"{PROTOCOL_VERSION}\""
                        );
                        return self.refuse(conn_id, "handshake", reason, out);
                    }
                    conn.peer_id = Some(sender_id.clone());
                    let peer = Message::Peer {
                        sender_id: self.config.peer_id.clone(),
                        target_id: sender_id,
                        selected_protocol_version: PROTOCOL_VERSION.to_owned(),
                        metadata: Some(PeerMetadata {
                            storage_id: None,
                            is_ephemeral: false,
                        }),
                    };
                    out.push(Output::Send {
                        conn: conn_id,
                        frame: peer.encode(),
                    });
                }
                other => {
                    let reason = format!("expected join, got {}", other.type_name());
                    self.refuse(conn_id, "handshake", reason, out)
                }
            };
        }
        match message {
            Message::Request {
                document_id, data, ..
            } => self.on_sync(conn_id, document_id, &data, true, out),
            Message::Sync {
                document_id, data, ..
            } => self.on_sync(conn_id, document_id, &data, false, out),
            // The sender named in the message is ignored: peers are told who sent it by the
            // connection it came from.
            Message::Ephemeral {
                document_id,
                session_id,
                count,
                data,
                ..
            } => self.relay_ephemeral(conn_id, document_id, session_id, count, data, out),
            Message::Leave { .. } => {
                self.drop_conn(conn_id, out);
                out.push(Output::Close {
                    conn: conn_id,
                    reason: "the peer left".to_owned(),
                });
            }
            Message::Error { message } => {
                self.drop_conn(conn_id, out);
                out.push(Output::Close {
                    conn: conn_id,
                    reason: format!("the peer reported an error: {message}"),
                });
            }
            Message::Join { .. } | Message::Peer { .. } => self.refuse(
                conn_id,
                "handshake",
                format!("unexpected {} after the handshake", message.type_name()),
                out,
            ),
            // The peer does not have a document, or gossips heads: nothing to do.
            Message::DocUnavailable { .. } | Message::Other { .. } => {}
        }
    }

    fn on_sync(
        &mut self,
        conn_id: ConnId,
        document: DocumentId,
        data: &[u8],
        request: bool,
        out: &mut Vec<Output>,
    ) {
        // Checked by our own reading first: automerge 0.12 panics or allocates without bound on
        // some malformed messages (docs/automerge-defects.md).
        if let Err(err) = validate_sync_message(data, &self.config.limits.sync_message) {
            return self.refuse(
                conn_id,
                err.label(),
                format!("refused sync message for {document}: {err}"),
                out,
            );
        }
        // The clients' heartbeat (`sync::heartbeat`): answered at once, never loaded or created.
        if document == HEARTBEAT_DOCUMENT {
            return self.send_unavailable(conn_id, document, out);
        }
        self.current = Some(document);
        let message = match sync::Message::decode(data) {
            Ok(message) => message,
            Err(err) => {
                return self.refuse(
                    conn_id,
                    "sync_message_malformed",
                    format!("not an automerge sync message for {document}: {err}"),
                    out,
                );
            }
        };
        let limit = self.config.limits.max_documents_per_connection;
        let Some(conn) = self.conns.get(&conn_id) else {
            return;
        };
        if !conn.docs.contains_key(&document) && conn.docs.len() >= limit {
            return self.refuse(
                conn_id,
                "too_many_documents",
                format!("more than {limit} documents open on one connection"),
                out,
            );
        }
        match self.docs.get_mut(&document) {
            Some(Slot::Ready(loaded)) => {
                if !conn.docs.contains_key(&document) && !readable(conn.principal.as_ref(), loaded)
                {
                    return self.send_unavailable(conn_id, document, out);
                }
                self.apply(conn_id, document, message, out)
            }
            Some(Slot::Loading { pending, .. }) => pending.push(Pending {
                conn: conn_id,
                request,
                message,
            }),
            None => {
                self.docs.insert(
                    document,
                    Slot::Loading {
                        pending: vec![Pending {
                            conn: conn_id,
                            request,
                            message,
                        }],
                        remote: Vec::new(),
                    },
                );
                out.push(Output::Load { document });
            }
        }
    }

    /// Applies a sync message to a document in memory and answers it (once durable).
    fn apply(
        &mut self,
        conn_id: ConnId,
        document: DocumentId,
        message: sync::Message,
        out: &mut Vec<Output>,
    ) {
        if self.config.panic_on_document == Some(document) && !message.changes.is_empty() {
            panic!("forced panic while applying a sync message to {document} (test hook)");
        }
        if let Err(reason) = self.try_apply(conn_id, document, message, out) {
            return self.refuse(conn_id, "change_refused", reason, out);
        }
        self.sync_peers(document, out);
    }

    fn try_apply(
        &mut self,
        conn_id: ConnId,
        document: DocumentId,
        message: sync::Message,
        out: &mut Vec<Output>,
    ) -> Result<(), String> {
        let max_bytes = self.config.limits.max_document_bytes;
        let (Some(conn), Some(Slot::Ready(loaded))) =
            (self.conns.get_mut(&conn_id), self.docs.get_mut(&document))
        else {
            return Ok(());
        };
        let incoming: usize = message.changes.iter().map(<[u8]>::len).sum();
        if loaded.stored_bytes() + incoming > max_bytes {
            return Err(format!(
                "document {document} would grow beyond {max_bytes} bytes"
            ));
        }
        let state = conn.docs.entry(document).or_default();
        loaded.peers.insert(conn_id);
        let before = loaded.doc.get_heads();
        // The bytes of the message's changes, kept to be stored as they came when they are
        // exactly what the apply adds (see `added_changes`).
        let incoming =
            (!message.changes.is_empty() && nothing_queued(&mut loaded.doc)).then(|| {
                message
                    .changes
                    .iter()
                    .flatten()
                    .copied()
                    .collect::<Vec<u8>>()
            });
        let mut new_actors = Vec::new();
        let judged = conn.principal.is_some() || policy::has_schema(&loaded.kind);
        if judged && !message.changes.is_empty() {
            // Judged on a scratch copy: a refused change touches nothing that stays.
            let principal = conn.principal.as_ref();
            let mut scratch = loaded.doc.fork();
            let mut scratch_state = state.clone();
            scratch
                .sync()
                .receive_sync_message(&mut scratch_state, message)
                .map_err(|err| {
                    format!("automerge refused the sync message for {document}: {err}")
                })?;
            if let Some(principal) = principal {
                for change in scratch.get_changes_meta(&before) {
                    let actor = change.actor.to_hex_string();
                    match self.actors.get(&actor) {
                        Some(owner) if *owner != principal.user => {
                            return Err(format!("refused: actor {actor} belongs to another user"));
                        }
                        Some(_) => {}
                        None => new_actors.push(actor),
                    }
                }
            }
            let doc = scratch.document();
            policy::check_changes(principal, &loaded.kind, doc, || doc.get_changes(&before))
                .map_err(|refusal| format!("{refusal} (document {document})"))?;
            if let Some(principal) = principal {
                for actor in &new_actors {
                    self.actors.insert(actor.clone(), principal.user.clone());
                }
            }
            loaded.doc = scratch;
            *state = scratch_state;
        } else {
            loaded
                .doc
                .sync()
                .receive_sync_message(state, message)
                .map_err(|err| {
                    format!("automerge refused the sync message for {document}: {err}")
                })?;
        }
        crate::document::forget_patches(&mut loaded.doc);
        let after = loaded.doc.get_heads();
        if before != after {
            let (changes, bytes) = added_changes(&mut loaded.doc, &before, incoming);
            let chunk = Chunk::new(ChunkKind::Incremental, bytes);
            let ticket = Ticket(self.next_ticket);
            self.next_ticket += 1;
            loaded.in_flight.insert(ticket);
            loaded.chunks.insert(
                chunk.key.clone(),
                (ChunkKind::Incremental, chunk.bytes.len()),
            );
            let created = std::mem::take(&mut loaded.created);
            out.push(Output::Persist {
                document,
                ticket,
                chunk,
                created,
                sender: conn_id,
                changes,
                new_actors,
            });
        }
        if !loaded.in_flight.is_empty() {
            loaded.owed.insert(conn_id);
        }
        Ok(())
    }

    /// Sends every peer of the document what it lacks, unless a change is still being persisted.
    fn sync_peers(&mut self, document: DocumentId, out: &mut Vec<Output>) {
        let Some(Slot::Ready(loaded)) = self.docs.get_mut(&document) else {
            return;
        };
        if !loaded.in_flight.is_empty() {
            return;
        }
        let owed = std::mem::take(&mut loaded.owed);
        let heads = loaded.doc.get_heads();
        for peer in &loaded.peers {
            let Some(conn) = self.conns.get_mut(peer) else {
                continue;
            };
            let (Some(state), Some(target)) = (conn.docs.get_mut(&document), conn.peer_id.clone())
            else {
                continue;
            };
            if owed.contains(peer) {
                state.have_responded = false;
            }
            // A peer still to answer our last message, with our heads as we last sent them, gets
            // nothing: automerge returns `None` then, but only after building the message — for a
            // peer that has nothing yet, a whole save of the document, compressed. Asked for every
            // peer on every change, that made N phones fetching one dossier cost N² saves.
            if state.have_responded && state.in_flight && state.last_sent_heads == heads {
                continue;
            }
            if let Some(message) = loaded.doc.sync().generate_sync_message(state) {
                let frame = Message::Sync {
                    sender_id: self.config.peer_id.clone(),
                    target_id: target,
                    document_id: document,
                    data: message.encode(),
                }
                .encode();
                out.push(Output::Send { conn: *peer, frame });
            }
        }
    }

    fn on_loaded(&mut self, document: DocumentId, outcome: LoadOutcome, out: &mut Vec<Output>) {
        let Some(Slot::Loading { pending, remote }) = self.docs.remove(&document) else {
            return;
        };
        self.current_waiters = pending.iter().map(|p| p.conn).collect();
        let mut doc = match outcome {
            LoadOutcome::Found(chunks) => match load_chunks(&chunks) {
                Ok(doc) => {
                    let mut loaded = Loaded::new(doc, false);
                    for chunk in &chunks {
                        loaded
                            .chunks
                            .insert(chunk.key.clone(), (chunk.kind, chunk.bytes.len()));
                    }
                    Some(loaded)
                }
                Err(err) => {
                    out.push(Output::Problem {
                        document: Some(document),
                        message: format!("stored chunks do not load: {err}"),
                    });
                    for p in &pending {
                        self.fail(
                            p.conn,
                            format!("the server cannot read document {document}"),
                            out,
                        );
                    }
                    return;
                }
            },
            LoadOutcome::NotFound => None,
            LoadOutcome::Failed(error) => {
                out.push(Output::Problem {
                    document: Some(document),
                    message: format!("loading failed: {error}"),
                });
                for p in &pending {
                    self.fail(
                        p.conn,
                        format!("the server could not load document {document}; try again"),
                        out,
                    );
                }
                return;
            }
        };
        if let Some(loaded) = doc.as_mut() {
            for chunk in remote {
                if let Err(message) = loaded.incorporate(chunk) {
                    out.push(Output::Problem {
                        document: Some(document),
                        message,
                    });
                }
            }
        }
        for Pending {
            conn,
            request,
            message,
        } in pending
        {
            if !self.conns.contains_key(&conn) {
                continue;
            }
            if doc.is_none() && !request && self.config.open {
                doc = Some(Loaded::new(AutoCommit::new(), true));
            }
            match doc.take() {
                Some(loaded)
                    if !readable(
                        self.conns.get(&conn).and_then(|c| c.principal.as_ref()),
                        &loaded,
                    ) =>
                {
                    doc = Some(loaded);
                    self.send_unavailable(conn, document, out);
                }
                Some(loaded) => {
                    self.docs.insert(document, Slot::Ready(Box::new(loaded)));
                    self.apply(conn, document, message, out);
                    if let Some(Slot::Ready(loaded)) = self.docs.remove(&document) {
                        doc = Some(*loaded);
                    }
                }
                None => self.send_unavailable(conn, document, out),
            }
        }
        if let Some(loaded) = doc {
            self.docs.insert(document, Slot::Ready(Box::new(loaded)));
            self.maybe_evict(document, out);
        }
    }

    fn send_unavailable(&mut self, conn_id: ConnId, document: DocumentId, out: &mut Vec<Output>) {
        let Some(target) = self.conns.get(&conn_id).and_then(|c| c.peer_id.clone()) else {
            return;
        };
        let frame = Message::DocUnavailable {
            sender_id: self.config.peer_id.clone(),
            target_id: target,
            document_id: document,
        }
        .encode();
        out.push(Output::Send {
            conn: conn_id,
            frame,
        });
    }

    fn on_persisted(&mut self, document: DocumentId, ticket: Ticket, out: &mut Vec<Output>) {
        let Some(Slot::Ready(loaded)) = self.docs.get_mut(&document) else {
            return;
        };
        if loaded.in_flight.remove(&ticket) {
            self.sync_peers(document, out);
            self.maybe_compact(document, out);
        } else if let Some((compaction, replaced, key, size)) = loaded.compacting.take() {
            if compaction == ticket {
                for key in &replaced {
                    loaded.chunks.remove(key);
                }
                loaded.chunks.insert(key, (ChunkKind::Snapshot, size));
            } else {
                loaded.compacting = Some((compaction, replaced, key, size));
            }
        }
        self.maybe_evict(document, out);
    }

    fn on_persist_failed(
        &mut self,
        document: DocumentId,
        ticket: Ticket,
        error: &str,
        out: &mut Vec<Output>,
    ) {
        let Some(Slot::Ready(loaded)) = self.docs.get_mut(&document) else {
            return;
        };
        let compaction = loaded
            .compacting
            .as_ref()
            .is_some_and(|(t, ..)| *t == ticket);
        if !compaction && !loaded.in_flight.contains(&ticket) {
            // A persist of an earlier copy of the document (dropped after a panic or a failed
            // persist, then loaded again): this copy never counted on it.
            return;
        }
        if compaction {
            // The chunks it would have replaced are all still stored: nothing is lost.
            loaded.compacting = None;
            out.push(Output::Problem {
                document: Some(document),
                message: format!("compaction failed: {error}"),
            });
            self.maybe_evict(document, out);
            return;
        }
        out.push(Output::Problem {
            document: Some(document),
            message: format!(
                "a change could not be stored ({error}); disconnecting its peers so they resend it"
            ),
        });
        let peers: Vec<ConnId> = loaded.peers.iter().copied().collect();
        self.docs.remove(&document);
        for conn in peers {
            self.fail(
                conn,
                format!("the server could not store a change to {document}; reconnect to retry"),
                out,
            );
        }
        out.push(Output::Evicted { document });
    }

    fn on_remote_chunks(
        &mut self,
        document: DocumentId,
        chunks: Vec<Chunk>,
        out: &mut Vec<Output>,
    ) {
        match self.docs.get_mut(&document) {
            Some(Slot::Loading { remote, .. }) => remote.extend(chunks),
            Some(Slot::Ready(loaded)) => {
                let before = loaded.doc.get_heads();
                let mut problems = Vec::new();
                for chunk in chunks {
                    if let Err(err) = loaded.incorporate(chunk) {
                        problems.push(err);
                    }
                }
                for message in problems {
                    out.push(Output::Problem {
                        document: Some(document),
                        message,
                    });
                }
                if loaded.doc.get_heads() != before {
                    self.sync_peers(document, out);
                }
            }
            None => {}
        }
    }

    fn maybe_compact(&mut self, document: DocumentId, out: &mut Vec<Output>) {
        let min = self.config.compaction_min_bytes;
        let Some(Slot::Ready(loaded)) = self.docs.get_mut(&document) else {
            return;
        };
        if loaded.compacting.is_some() || !loaded.in_flight.is_empty() {
            return;
        }
        let (mut snapshot_bytes, mut incremental_bytes) = (0, 0);
        for (kind, size) in loaded.chunks.values() {
            match kind {
                ChunkKind::Snapshot => snapshot_bytes += size,
                ChunkKind::Incremental => incremental_bytes += size,
            }
        }
        if incremental_bytes < min.max(snapshot_bytes) {
            return;
        }
        let snapshot = Chunk::new(ChunkKind::Snapshot, loaded.doc.save());
        let replaces: Vec<ChunkKey> = loaded
            .chunks
            .keys()
            .filter(|k| **k != snapshot.key)
            .cloned()
            .collect();
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        loaded.compacting = Some((
            ticket,
            replaces.clone(),
            snapshot.key.clone(),
            snapshot.bytes.len(),
        ));
        out.push(Output::Compact {
            document,
            ticket,
            snapshot,
            replaces,
        });
    }

    fn maybe_evict(&mut self, document: DocumentId, out: &mut Vec<Output>) {
        if let Some(Slot::Ready(loaded)) = self.docs.get(&document)
            && loaded.peers.is_empty()
            && loaded.in_flight.is_empty()
            && loaded.compacting.is_none()
        {
            self.docs.remove(&document);
            out.push(Output::Evicted { document });
        }
    }

    /// Forwards an ephemeral message to the document's other peers, as sent by the peer id the
    /// connection gave in its `join` (never the `senderId` the message claims).
    fn relay_ephemeral(
        &mut self,
        conn_id: ConnId,
        document: DocumentId,
        session_id: String,
        count: u64,
        data: Vec<u8>,
        out: &mut Vec<Output>,
    ) {
        let max = self.config.limits.max_ephemeral_bytes;
        if data.len() > max {
            let reason = format!("an ephemeral message carries more than {max} bytes");
            return self.refuse(conn_id, "ephemeral_too_large", reason, out);
        }
        let Some(conn) = self.conns.get(&conn_id) else {
            return;
        };
        let Some(sender_id) = conn.peer_id.clone() else {
            return;
        };
        if !conn.docs.contains_key(&document) {
            return;
        }
        let Some(Slot::Ready(loaded)) = self.docs.get(&document) else {
            return;
        };
        for peer in loaded.peers.iter().filter(|p| **p != conn_id) {
            let Some(target) = self.conns.get(peer).and_then(|c| c.peer_id.clone()) else {
                continue;
            };
            let frame = Message::Ephemeral {
                sender_id: sender_id.clone(),
                target_id: target,
                document_id: document,
                session_id: session_id.clone(),
                count,
                data: data.clone(),
            }
            .encode();
            out.push(Output::Send { conn: *peer, frame });
        }
    }

    /// Refuses a connection's message: [`Output::Refused`] with a label for metrics, then
    /// `error` and close.
    fn refuse(&mut self, conn: ConnId, label: &'static str, reason: String, out: &mut Vec<Output>) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        out.push(Output::Refused {
            conn,
            reason: label,
        });
        self.fail(conn, reason, out);
    }

    /// Sends `error` and closes the connection; forgets it at once.
    fn fail(&mut self, conn: ConnId, reason: String, out: &mut Vec<Output>) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        out.push(Output::Send {
            conn,
            frame: Message::Error {
                message: reason.clone(),
            }
            .encode(),
        });
        self.drop_conn(conn, out);
        out.push(Output::Close { conn, reason });
    }

    fn drop_conn(&mut self, conn_id: ConnId, out: &mut Vec<Output>) {
        let Some(conn) = self.conns.remove(&conn_id) else {
            return;
        };
        for document in conn.docs.keys() {
            if let Some(Slot::Ready(loaded)) = self.docs.get_mut(document) {
                loaded.peers.remove(&conn_id);
            }
            self.maybe_evict(*document, out);
        }
    }
}

impl Loaded {
    fn new(mut doc: AutoCommit, created: bool) -> Loaded {
        let kind = policy::document_kind(doc.document()).unwrap_or_default();
        let commune = policy::document_commune(doc.document());
        Loaded {
            kind,
            commune,
            doc,
            peers: BTreeSet::new(),
            in_flight: BTreeSet::new(),
            chunks: BTreeMap::new(),
            compacting: None,
            created,
            owed: BTreeSet::new(),
        }
    }

    fn stored_bytes(&self) -> usize {
        self.chunks.values().map(|(_, size)| size).sum()
    }

    /// Merges a chunk stored elsewhere; already known chunks are skipped.
    fn incorporate(&mut self, chunk: Chunk) -> Result<(), String> {
        if self.chunks.contains_key(&chunk.key) {
            return Ok(());
        }
        self.doc
            .load_incremental(&chunk.bytes)
            .map_err(|err| format!("a stored chunk does not load: {err}"))?;
        crate::document::forget_patches(&mut self.doc);
        self.chunks
            .insert(chunk.key, (chunk.kind, chunk.bytes.len()));
        Ok(())
    }
}

/// The document an event concerns, when the event says so itself (a frame's document is known
/// once it is decoded).
fn input_document(input: &Input) -> Option<DocumentId> {
    match input {
        Input::Loaded { document, .. }
        | Input::Persisted { document, .. }
        | Input::PersistFailed { document, .. }
        | Input::RemoteChunks { document, .. } => Some(*document),
        Input::Connected { .. }
        | Input::Kick { .. }
        | Input::Frame { .. }
        | Input::Disconnected { .. }
        | Input::Tick { .. } => None,
    }
}

/// The connection an event comes from, if one.
fn input_conn(input: &Input) -> Option<ConnId> {
    match input {
        Input::Connected { conn, .. }
        | Input::Kick { conn, .. }
        | Input::Frame { conn, .. }
        | Input::Disconnected { conn } => Some(*conn),
        _ => None,
    }
}

/// The text of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Whether a connection may see a document: anyone in open mode, otherwise the policy.
fn readable(principal: Option<&Principal>, loaded: &Loaded) -> bool {
    principal.is_none_or(|principal| policy::may_read_commune(principal, loaded.commune.as_deref()))
}

/// Whether no change waits in the document for a dependency it lacks.
fn nothing_queued(doc: &mut AutoCommit) -> bool {
    doc.get_missing_deps(&[]).is_empty()
}

/// The changes an apply added since `before`: each one's hash and actor (for provenance), and
/// bytes that load them all (the chunk to store).
///
/// The bytes are the message's own (`incoming`) when nothing waited for a dependency before the
/// apply and nothing waits after it: then the apply added exactly the message's changes that
/// the document lacked, and loading the message's bytes again adds the same (a change the
/// document had is skipped on load). Otherwise automerge writes the added changes out again,
/// which costs a walk over the document.
fn added_changes(
    doc: &mut AutoCommit,
    before: &[automerge::ChangeHash],
    incoming: Option<Vec<u8>>,
) -> (Vec<(String, String)>, Vec<u8>) {
    let incoming = incoming.filter(|_| nothing_queued(doc));
    let changes = doc
        .get_changes_meta(before)
        .iter()
        .map(|change| (change.hash.to_string(), change.actor.to_hex_string()))
        .collect();
    let bytes = incoming.unwrap_or_else(|| {
        doc.get_changes(before)
            .iter()
            .flat_map(|change| change.raw_bytes().iter().copied())
            .collect()
    });
    (changes, bytes)
}

/// Loads a document from its stored chunks (a snapshot and incremental changes, any order).
pub fn load_chunks(chunks: &[Chunk]) -> Result<AutoCommit, automerge::AutomergeError> {
    let mut doc = AutoCommit::new();
    for chunk in chunks {
        doc.load_incremental(&chunk.bytes)?;
    }
    crate::document::forget_patches(&mut doc);
    Ok(doc)
}

impl TokenBucket {
    fn take(&mut self, now_ms: i64, per_second: u32, burst: u32) -> bool {
        let elapsed = (now_ms - self.last_ms).max(0) as f64 / 1000.0;
        self.last_ms = now_ms.max(self.last_ms);
        self.tokens = (self.tokens + elapsed * f64::from(per_second)).min(f64::from(burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
