//! The sync websocket at `/sync`: a thin tokio driver around the sans-IO
//! [`Hub`](tramyte_shared::sync::hub::Hub).
//!
//! One task (the hub task) owns the hub and carries out its outputs: frames go to the
//! connection tasks through bounded queues, loads run as tracked tasks that report back, and
//! persists go to the persister task, which stores every chunk that is ready together in one
//! transaction (group commit: one commit and fsync for many changes) and then reports each.
//! Each websocket has one connection task that reads frames, writes what the hub sends, pings
//! to drop dead peers and closes on shutdown.
//!
//! Why one hub task: automerge documents are not shared between threads, and one task keeps
//! the order of events per document trivially right. The CPU per change is small (measured by
//! the sync benchmark); documents are sharded over several hubs if that ever stops being true.
//!
//! The hub contains panics per document itself; the hub task is supervised all the same: if it
//! ever stops, it is started again (its connections are closed with an `error` and reconnect),
//! and after [`MAX_RESTARTS`] restarts within a minute the node stops serving sync and says so
//! on `/healthz`. Memory per connection is bounded by
//! [`SyncConfig::max_connection_memory`]: frames read but not yet handled, frames queued to
//! send, and what decoding one message may take.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::hub::{
    ConnId, Hub, HubConfig, Input, Limits, LoadOutcome, Output, Ticket,
};
use tramyte_shared::sync::message::Message;

use crate::domain::account::Session;
use crate::domain::summary::{CatalogCache, SummaryRecord};
use crate::metrics::SyncMetrics;
use crate::store::Store;
use crate::store::document::{self, DocumentKind, PersistJob, Provenance};

/// Limits and behaviour of the sync endpoint.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Development mode: any client may create and read any document.
    pub open: bool,
    /// Largest websocket frame (and message) accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Websocket connections one IP address may hold.
    pub max_connections_per_address: usize,
    /// Frames queued for one connection before it is dropped as too slow.
    pub outbound_queue: usize,
    /// Ping interval; a peer silent for two intervals is dropped.
    pub keepalive: Duration,
    /// The hub's own limits.
    pub limits: Limits,
    /// Compaction threshold (see [`HubConfig::compaction_min_bytes`]).
    pub compaction_min_bytes: usize,
    /// Memory one connection may make the server hold: frames read and not yet handled, frames
    /// queued to send (one frame more when a single frame is larger), and decoding one sync
    /// message (inflated data included).
    pub max_connection_memory: usize,
    /// Browser origins allowed to open `/sync` besides the server's own (`https://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// Test hook (see [`HubConfig::panic_on_document`]); no flag sets it.
    pub panic_on_document: Option<DocumentId>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            open: false,
            max_frame_bytes: 8 << 20,
            max_connections_per_address: 1_000,
            outbound_queue: 1_024,
            keepalive: Duration::from_secs(20),
            limits: Limits::default(),
            compaction_min_bytes: 64 << 10,
            max_connection_memory: 64 << 20,
            allowed_origins: Vec::new(),
            panic_on_document: None,
        }
    }
}

/// Restarts of the hub task within [`RESTART_WINDOW`] after which the node stops serving sync.
pub const MAX_RESTARTS: usize = 3;
const RESTART_WINDOW: Duration = Duration::from_secs(60);
/// How long the hub task may go without handling anything before `/healthz` says it is stuck
/// (it ticks every second when idle).
const HUB_STALL: Duration = Duration::from_secs(10);
/// How long a socket closed for a bad frame stays open unread, so the client can read the
/// `error` before the close (closing with unread input resets the connection at once).
const LINGER: Duration = Duration::from_secs(2);

/// Read and write buffer of each websocket.
const SOCKET_BUFFER_BYTES: usize = 8 << 10;

/// The user recorded for changes sent in open mode.
pub const OPEN_MODE_USER: &str = "(open mode)";

/// Who is at the other end of a connection, for provenance and session ends.
#[derive(Debug, Clone)]
struct Who {
    user: String,
    device: String,
    token_hash: Option<String>,
}

enum Command {
    Register {
        conn: ConnId,
        outbound: Outlet,
        who: Who,
    },
    /// A frame from a connection, with the share of its memory budget the frame holds until
    /// the hub has handled it.
    Frame(Input, OwnedSemaphorePermit),
    /// These sessions were revoked or expired: close their connections.
    EndSessions(Vec<String>),
    Input(Input),
    /// Another node stored chunks of this document.
    RemoteChange(DocumentId),
    /// Notifications from other nodes may have been missed (the listener was not yet, or no
    /// longer, listening): read every document in memory again from the database.
    RemoteChangeAll,
}

enum Outbound {
    Frame(Vec<u8>),
    Close(String),
}

/// The hub task's end of a connection's outbound queue, and the bytes waiting in it.
struct Outlet {
    sender: mpsc::Sender<Outbound>,
    queued: Arc<AtomicUsize>,
}

/// Whether the hub serves: `/healthz` reads it.
#[derive(Debug)]
struct HubHealth {
    started: Instant,
    serving: AtomicBool,
    /// Milliseconds after `started` when the hub task last handled something.
    heartbeat_ms: AtomicU64,
    stopped_because: Mutex<Option<String>>,
}

impl HubHealth {
    fn beat(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.heartbeat_ms.store(now, Ordering::Relaxed);
    }

    fn stop(&self, reason: String) {
        *self
            .stopped_because
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reason);
        self.serving.store(false, Ordering::Relaxed);
    }
}

/// A handle on the running sync service; cheap to clone.
#[derive(Clone)]
pub struct SyncService {
    commands: mpsc::Sender<Command>,
    config: Arc<SyncConfig>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    per_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
    next_conn: Arc<AtomicU64>,
    started: Instant,
    health: Arc<HubHealth>,
    metrics: Arc<SyncMetrics>,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SyncService {
    /// Starts the hub task (and, on PostgreSQL, the listener for other nodes' changes).
    pub fn start(
        store: Store,
        config: SyncConfig,
        node: String,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> SyncService {
        let (commands, receiver) = mpsc::channel(4_096);
        let mut hub_config = HubConfig::new(format!("tramyte-{node}"));
        hub_config.open = config.open;
        hub_config.limits = config.limits.clone();
        hub_config.limits.sync_message.memory_budget =
            u64::try_from(config.max_connection_memory).unwrap_or(u64::MAX);
        hub_config.compaction_min_bytes = config.compaction_min_bytes;
        hub_config.panic_on_document = config.panic_on_document;
        let started = Instant::now();
        let health = Arc::new(HubHealth {
            started,
            serving: AtomicBool::new(true),
            heartbeat_ms: AtomicU64::new(0),
            stopped_because: Mutex::new(None),
        });
        let metrics = Arc::new(SyncMetrics::default());
        let service = SyncService {
            commands: commands.clone(),
            config: Arc::new(config),
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
            per_address: Arc::new(Mutex::new(HashMap::new())),
            next_conn: Arc::new(AtomicU64::new(0)),
            started,
            health: health.clone(),
            metrics: metrics.clone(),
        };
        let catalogs = CatalogCache::default();
        let (persists, persist_queue) = mpsc::unbounded_channel();
        let persister = Persister {
            store: store.clone(),
            node: node.clone(),
            catalogs: catalogs.clone(),
            commands: commands.clone(),
            tracker: tracker.clone(),
            metrics: metrics.clone(),
        };
        tracker.spawn(persister.run(persist_queue));
        let new_driver = {
            let (commands, store, tracker) = (commands.clone(), store.clone(), tracker.clone());
            let (health, metrics) = (health.clone(), metrics.clone());
            move || HubDriver {
                hub: Hub::new(hub_config.clone()),
                persists: persists.clone(),
                commands: commands.clone(),
                connections: HashMap::new(),
                who: HashMap::new(),
                in_memory: HashSet::new(),
                catalogs: catalogs.clone(),
                store: store.clone(),
                tracker: tracker.clone(),
                started,
                health: health.clone(),
                metrics: metrics.clone(),
            }
        };
        let run_hub = {
            let shutdown = shutdown.clone();
            hub_runner(
                move |receiver: &mut mpsc::Receiver<Command>| -> HubRun<'_> {
                    Box::pin(new_driver().run(receiver, shutdown.clone()))
                },
            )
        };
        tracker.spawn(supervise(
            run_hub,
            receiver,
            shutdown.clone(),
            health,
            metrics,
        ));
        tracker.spawn(watch_sessions(
            store.clone(),
            commands.clone(),
            shutdown.clone(),
        ));
        if let Store::Postgres(pool) = store {
            tracker.spawn(listen_for_other_nodes(pool, node, commands, shutdown));
        }
        service
    }

    fn now_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// `Ok` while the hub serves; otherwise why not (for `/healthz`).
    pub fn serving(&self) -> Result<(), String> {
        if !self.health.serving.load(Ordering::Relaxed) {
            let reason = self
                .health
                .stopped_because
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone()
                .unwrap_or_else(|| "stopped".to_owned());
            return Err(format!("the sync hub is not serving: {reason}"));
        }
        let beat = Duration::from_millis(self.health.heartbeat_ms.load(Ordering::Relaxed));
        let silent = self.started.elapsed().saturating_sub(beat);
        if silent > HUB_STALL {
            return Err(format!(
                "the sync hub has handled nothing for {} s",
                silent.as_secs()
            ));
        }
        Ok(())
    }

    /// Marks the hub stopped, as the supervisor does when it gives up (for tests of `/healthz`).
    #[cfg(test)]
    pub(crate) fn stop_for_test(&self, reason: &str) {
        self.health.stop(reason.to_owned());
    }

    /// The counters `/metrics` shows.
    pub fn metrics(&self) -> &SyncMetrics {
        &self.metrics
    }

    /// The same counters, to register them with every other metric (`metrics::Metrics`).
    pub fn shared_metrics(&self) -> Arc<SyncMetrics> {
        self.metrics.clone()
    }

    /// Whether the hub task has not stopped for good (what `tramyte_sync_hub_serving` says).
    pub fn hub_running(&self) -> bool {
        self.health.serving.load(Ordering::Relaxed)
    }
}

/// One run of the hub task, borrowing the command queue (which outlives it).
type HubRun<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// Gives a closure the signature [`supervise`] takes (closures do not infer it themselves).
fn hub_runner<T, F>(run: F) -> F
where
    F: for<'a> FnMut(&'a mut mpsc::Receiver<T>) -> HubRun<'a>,
{
    run
}

/// Runs the hub task, and starts it again if it panics or stops while the server is not
/// stopping; after [`MAX_RESTARTS`] restarts within [`RESTART_WINDOW`] it gives up, and
/// `/healthz` says sync is not served. Connections the failed task held are closed (their
/// outbound queues go away with it) and reconnect to the new one.
async fn supervise<T: Send>(
    mut run_hub: impl for<'a> FnMut(&'a mut mpsc::Receiver<T>) -> HubRun<'a>,
    mut receiver: mpsc::Receiver<T>,
    shutdown: CancellationToken,
    health: Arc<HubHealth>,
    metrics: Arc<SyncMetrics>,
) {
    let mut restarts: Vec<Instant> = Vec::new();
    loop {
        health.beat();
        let run = AssertUnwindSafe(run_hub(&mut receiver))
            .catch_unwind()
            .await;
        if shutdown.is_cancelled() {
            return;
        }
        let why = match run {
            Ok(()) => "the hub task stopped".to_owned(),
            Err(payload) => match payload.downcast_ref::<&str>() {
                Some(text) => format!("the hub task panicked: {text}"),
                None => match payload.downcast_ref::<String>() {
                    Some(text) => format!("the hub task panicked: {text}"),
                    None => "the hub task panicked".to_owned(),
                },
            },
        };
        restarts.retain(|at| at.elapsed() < RESTART_WINDOW);
        if restarts.len() >= MAX_RESTARTS {
            tracing::error!(reason = %why, "the sync hub failed {MAX_RESTARTS} times within a minute; sync is no longer served");
            health.stop(format!(
                "{why} ({} restarts within a minute)",
                restarts.len()
            ));
            return;
        }
        restarts.push(Instant::now());
        metrics.hub_restarted();
        tracing::error!(reason = %why, "the sync hub stopped; starting it again");
    }
}

impl SyncService {
    /// The checks of a `GET /sync` before its caller is authenticated: whether sync is served
    /// at all (503), and whether a browser page from another site asks (403). A browser page
    /// from another site must not use the visitor's session cookie here (cross-site websocket
    /// hijacking): browsers always send `Origin`; other clients need not. Answers the refusal, if
    /// any.
    pub fn screen(&self, addr: SocketAddr, headers: &axum::http::HeaderMap) -> Option<Response> {
        if let Err(reason) = self.serving() {
            return Some((StatusCode::SERVICE_UNAVAILABLE, reason).into_response());
        }
        if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok());
            let allowed = origin
                .to_str()
                .is_ok_and(|origin| origin_allowed(origin, host, &self.config.allowed_origins));
            if !allowed {
                self.metrics.refused("origin_not_allowed");
                tracing::warn!(%addr, origin = ?origin, "refused a websocket from another origin");
                return Some(
                    (
                        StatusCode::FORBIDDEN,
                        "this origin may not open /sync (see --allowed-origins)",
                    )
                        .into_response(),
                );
            }
        }
        None
    }

    /// Whether anyone may sync without signing in (`--open`).
    pub fn is_open(&self) -> bool {
        self.config.open
    }

    /// Upgrades an authenticated (or, in open mode, anonymous) `GET /sync` to a websocket
    /// speaking the automerge-repo protocol, unless its address has too many already (429).
    /// `request_id` names the request in the socket's span.
    pub fn accept(
        self,
        upgrade: WebSocketUpgrade,
        addr: SocketAddr,
        request_id: String,
        session: Option<Session>,
    ) -> Response {
        let service = self;
        let limit = service.config.max_connections_per_address;
        {
            let mut per_address = service
                .per_address
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let count = per_address.entry(addr.ip()).or_default();
            if *count >= limit {
                tracing::warn!(%addr, limit, "refused a websocket: too many connections from one address");
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("more than {limit} connections from one address"),
                )
                    .into_response();
            }
            *count += 1;
        }
        let max = service.config.max_frame_bytes;
        // Small buffers: tungstenite's 128 KiB defaults cost ~135 KiB per idle connection (and a
        // memset per read); frames larger than this are still read, in more steps.
        upgrade
            .read_buffer_size(SOCKET_BUFFER_BYTES)
            .write_buffer_size(SOCKET_BUFFER_BYTES)
            .max_message_size(max)
            .max_frame_size(max)
            .on_failed_upgrade({
                let service = service.clone();
                move |_| release_address(&service, addr.ip())
            })
            .on_upgrade(move |socket| {
                use tracing::Instrument;
                let tracker = service.tracker.clone();
                // The socket's own span, carrying the id of the request that opened it.
                let span = tracing::info_span!(
                    "websocket",
                    request_id = %request_id,
                    user = session.as_ref().map_or("open", |s| s.user.id.as_str()),
                );
                tracker.track_future(serve_socket(socket, addr, service, session).instrument(span))
            })
    }
}

/// Whether a browser `Origin` may open `/sync`: the server's own (the `Host` the request was
/// sent to, over http or https, default ports implied) or one of `allowed` (exact origins,
/// compared without case and trailing slash; `null` only if listed).
pub fn origin_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if allowed
        .iter()
        .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return true;
    }
    let (Some(host), Some((scheme, authority))) = (host, origin.split_once("://")) else {
        return false;
    };
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let host = host.trim().to_ascii_lowercase();
    let strip =
        |text: &str| -> String { text.strip_suffix(default_port).unwrap_or(text).to_owned() };
    !authority.is_empty() && strip(authority) == strip(&host)
}

fn release_address(service: &SyncService, ip: IpAddr) {
    let mut per_address = service
        .per_address
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(count) = per_address.get_mut(&ip) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            per_address.remove(&ip);
        }
    }
}

/// One websocket, from upgrade to close.
async fn serve_socket(
    socket: WebSocket,
    addr: SocketAddr,
    service: SyncService,
    session: Option<Session>,
) {
    let conn = ConnId(service.next_conn.fetch_add(1, Ordering::Relaxed));
    let (outbound, mut outbound_rx) = mpsc::channel(service.config.outbound_queue);
    let queued = Arc::new(AtomicUsize::new(0));
    let outbound = Outlet {
        sender: outbound,
        queued: queued.clone(),
    };
    // Frames read and not yet handled by the hub hold permits of this budget (in bytes): a
    // client that sends faster than the hub handles is simply not read meanwhile.
    let budget = u32::try_from(service.config.max_connection_memory)
        .unwrap_or(u32::MAX)
        .clamp(1, u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
    let inbound = Arc::new(Semaphore::new(budget as usize));
    let who = match &session {
        Some(session) => Who {
            user: session.user.id.clone(),
            device: session.device.clone(),
            token_hash: Some(session.token_hash.clone()),
        },
        None => Who {
            user: OPEN_MODE_USER.to_owned(),
            device: format!("{addr}"),
            token_hash: None,
        },
    };
    let principal = session.map(|session| session.principal);
    let connected = Input::Connected {
        conn,
        now_ms: service.now_ms(),
        principal,
    };
    let registered = service
        .commands
        .send(Command::Register {
            conn,
            outbound,
            who,
        })
        .await
        .is_ok()
        && service
            .commands
            .send(Command::Input(connected))
            .await
            .is_ok();
    if !registered {
        release_address(&service, addr.ip());
        return;
    }
    tracing::debug!(conn = conn.0, %addr, "sync connection opened");
    service.metrics.connection_opened();
    let (mut sink, mut stream) = socket.split();
    let mut linger = false;
    let keepalive = service.config.keepalive;
    let mut ping = tokio::time::interval(keepalive);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let close_reason: Option<(u16, String)> = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    last_heard = Instant::now();
                    let share = u32::try_from(bytes.len()).unwrap_or(u32::MAX).clamp(1, budget);
                    let Ok(permit) = inbound.clone().acquire_many_owned(share).await else {
                        break Some((1011, "the server is stopping".to_owned()));
                    };
                    let input = Input::Frame { conn, frame: bytes.to_vec(), now_ms: service.now_ms() };
                    if service.commands.send(Command::Frame(input, permit)).await.is_err() {
                        break Some((1001, "the server is stopping".to_owned()));
                    }
                }
                Some(Ok(WsMessage::Text(_))) => {
                    service.metrics.refused("text_frame");
                    let reason = "text frames are not part of the protocol; send CBOR in binary frames".to_owned();
                    let _ = sink.send(WsMessage::Binary(Message::Error { message: reason.clone() }.encode().into())).await;
                    break Some((1003, reason));
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => last_heard = Instant::now(),
                Some(Ok(WsMessage::Close(_))) | None => break None,
                Some(Err(err)) => {
                    // Oversized frames and broken websocket framing end here, usually with
                    // the rest of the frame still unread.
                    let text = err.to_string();
                    let (label, code) = if text.contains("too long") || text.contains("Space limit") {
                        ("frame_too_large", 1009)
                    } else {
                        ("bad_websocket_frame", 1002)
                    };
                    service.metrics.refused(label);
                    let reason = format!("bad websocket frame: {text}");
                    let _ = sink.send(WsMessage::Binary(Message::Error { message: reason.clone() }.encode().into())).await;
                    linger = true;
                    break Some((code, reason));
                }
            },
            out = outbound_rx.recv() => match out {
                Some(Outbound::Frame(frame)) => {
                    queued.fetch_sub(frame.len(), Ordering::Relaxed);
                    if sink.send(WsMessage::Binary(frame.into())).await.is_err() {
                        break None;
                    }
                }
                Some(Outbound::Close(reason)) => break Some((1008, reason)),
                None => {
                    // The hub task let go of this connection without a word: it was too slow
                    // to read, or the hub task was restarted.
                    let reason = "the server dropped this connection (too slow to read what it sends, or its sync service restarted); reconnect".to_owned();
                    let _ = sink.send(WsMessage::Binary(Message::Error { message: reason.clone() }.encode().into())).await;
                    break Some((1011, reason));
                }
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > keepalive * 2 {
                    break Some((1001, "no answer to pings".to_owned()));
                }
                if sink.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break None;
                }
            }
            () = service.shutdown.cancelled() => break Some((1001, "the server is stopping".to_owned())),
        }
    };
    if let Some((code, reason)) = close_reason {
        tracing::debug!(conn = conn.0, %addr, code, %reason, "closing a sync connection");
        let reason: String = reason.chars().take(100).collect();
        let _ = sink
            .send(WsMessage::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
    let _ = sink.close().await;
    if linger {
        // The client may still be sending the rest of an oversized frame: closing now would
        // reset the connection and lose the `error` above before the client reads it.
        tokio::select! {
            () = tokio::time::sleep(LINGER) => {}
            () = service.shutdown.cancelled() => {}
        }
    }
    drop((sink, stream));
    service.metrics.connection_closed();
    let _ = service
        .commands
        .send(Command::Input(Input::Disconnected { conn }))
        .await;
    release_address(&service, addr.ip());
}

/// The hub task's state.
struct HubDriver {
    hub: Hub,
    /// To the persister task (unbounded like the tasks it replaces: the hub never waits).
    persists: mpsc::UnboundedSender<QueuedPersist>,
    commands: mpsc::Sender<Command>,
    connections: HashMap<ConnId, Outlet>,
    who: HashMap<ConnId, Who>,
    in_memory: HashSet<DocumentId>,
    catalogs: CatalogCache,
    store: Store,
    tracker: TaskTracker,
    started: Instant,
    health: Arc<HubHealth>,
    metrics: Arc<SyncMetrics>,
}

impl HubDriver {
    async fn run(mut self, receiver: &mut mpsc::Receiver<Command>, shutdown: CancellationToken) {
        match document::actor_bindings(&self.store).await {
            Ok(bindings) => {
                for (actor, user) in bindings {
                    self.hub.bind_actor(actor, user);
                }
            }
            // The storage still refuses a foreign actor when it stores the change.
            Err(err) => tracing::error!(error = %err, "could not load actor bindings"),
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            self.health.beat();
            tokio::select! {
                command = receiver.recv() => match command {
                    Some(Command::Register { conn, outbound, who }) => {
                        self.connections.insert(conn, outbound);
                        self.who.insert(conn, who);
                    }
                    Some(Command::Frame(input, permit)) => {
                        self.handle(input);
                        drop(permit);
                    }
                    Some(Command::EndSessions(hashes)) => {
                        let ended: Vec<ConnId> = self
                            .who
                            .iter()
                            .filter(|(_, who)| who.token_hash.as_ref().is_some_and(|h| hashes.contains(h)))
                            .map(|(conn, _)| *conn)
                            .collect();
                        for conn in ended {
                            let reason = "your session ended (signed out, expired or disabled); sign in again".to_owned();
                            self.handle(Input::Kick { conn, reason });
                        }
                    }
                    Some(Command::Input(input)) => self.handle(input),
                    Some(Command::RemoteChange(document)) => self.fetch_remote(document),
                    Some(Command::RemoteChangeAll) => {
                        let documents: Vec<DocumentId> = self.in_memory.iter().copied().collect();
                        for document in documents {
                            self.fetch_remote(document);
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    let now_ms = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
                    self.handle(Input::Tick { now_ms });
                }
                () = shutdown.cancelled(), if self.connections.is_empty() => break,
            }
        }
    }

    fn handle(&mut self, input: Input) {
        if let Input::Disconnected { conn } = &input {
            self.connections.remove(conn);
            self.who.remove(conn);
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            let text: String = match &input {
                Input::Frame { conn, frame, .. } => {
                    let kind = Message::decode(frame).map(|m| m.type_name().to_owned());
                    format!("frame from {}: {kind:?}", conn.0)
                }
                other => format!("{other:?}").chars().take(160).collect(),
            };
            tracing::trace!(input = %text, "hub input");
        }
        let remote = match &input {
            Input::RemoteChunks { document, .. } => Some(*document),
            _ => None,
        };
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            for output in self.hub.handle(input) {
                if let Some(more) = self.carry_out(output) {
                    queue.push(more);
                }
            }
        }
        if let Some(document) = remote {
            self.refresh_summary(document);
        }
        self.metrics.set_documents(self.hub.documents_in_memory());
    }

    /// Writes the summary of a document that merged another node's chunks: that node stored
    /// the summary of its own copy, this one may hold changes it had not seen.
    fn refresh_summary(&mut self, document: DocumentId) {
        let Some(facts) = self.facts_of(&document) else {
            return;
        };
        let (store, catalogs) = (self.store.clone(), self.catalogs.clone());
        self.tracker.spawn(async move {
            let record = SummaryRecord::of(&catalogs.summarize(&store, &facts).await);
            if let Err(err) = crate::domain::summary::refresh(&store, document, &record).await {
                tracing::warn!(%document, error = %err, "could not refresh a summary");
            }
        });
    }

    /// What a summary needs of a document in memory; the people behind unsigned changes made
    /// after a submission are named from the hub's actor bindings.
    fn facts_of(&mut self, document: &DocumentId) -> Option<tramyte_shared::summary::Facts> {
        let mut facts = tramyte_shared::summary::read_facts(self.hub.document_mut(document)?);
        crate::domain::summary::name_devices(&mut facts, |actor| self.hub.actor_user(actor));
        Some(facts)
    }

    /// Carries out one output; returns an input to feed back at once (a dropped connection).
    fn carry_out(&mut self, output: Output) -> Option<Input> {
        if tracing::enabled!(tracing::Level::TRACE) {
            let text: String = match &output {
                Output::Send { conn, frame } => {
                    let kind = Message::decode(frame).map(|m| m.type_name().to_owned());
                    format!("send to {}: {kind:?}", conn.0)
                }
                other => format!("{other:?}").chars().take(160).collect(),
            };
            tracing::trace!(output = %text, "hub output");
        }
        match output {
            Output::Send { conn, frame } => {
                let outlet = self.connections.get(&conn)?;
                let len = frame.len();
                let queued = outlet.queued.load(Ordering::Relaxed);
                // Over its memory budget (one frame always fits an empty queue), or full (a
                // peer that does not read), or gone: drop it; its task closes with an error.
                let over = queued > 0 && queued + len > self.max_connection_memory();
                // Counted before it is queued: the socket task subtracts it once taken.
                outlet.queued.fetch_add(len, Ordering::Relaxed);
                if over || outlet.sender.try_send(Outbound::Frame(frame)).is_err() {
                    if let Some(outlet) = self.connections.remove(&conn)
                        && !outlet.sender.is_closed()
                    {
                        self.metrics.refused("too_slow");
                    }
                    return Some(Input::Disconnected { conn });
                }
            }
            Output::Close { conn, reason } => {
                if let Some(outlet) = self.connections.remove(&conn) {
                    let _ = outlet.sender.try_send(Outbound::Close(reason));
                }
            }
            Output::Refused { reason, .. } => self.metrics.refused(reason),
            Output::PanicContained { document, message } => {
                self.metrics.panic_contained();
                let document = document.map(|d| d.to_string()).unwrap_or_default();
                tracing::error!(%document, %message, "a panic was contained: the document was dropped from memory and its peers closed");
            }
            Output::Load { document } => {
                self.in_memory.insert(document);
                let (store, commands) = (self.store.clone(), self.commands.clone());
                self.tracker.spawn(async move {
                    let outcome = match document::load(&store, document).await {
                        Ok(Some(chunks)) => LoadOutcome::Found(chunks),
                        Ok(None) => LoadOutcome::NotFound,
                        Err(err) => LoadOutcome::Failed(err.to_string()),
                    };
                    let _ = commands
                        .send(Command::Input(Input::Loaded { document, outcome }))
                        .await;
                });
            }
            Output::Persist {
                document,
                ticket,
                chunk,
                created,
                sender,
                changes,
                new_actors,
            } => {
                // Read here, on the hub task, from the document as it is after this change;
                // scored and stored in the persist's own transaction.
                let facts = self.facts_of(&document);
                let who = self.who.get(&sender).cloned().unwrap_or(Who {
                    user: OPEN_MODE_USER.to_owned(),
                    device: "unknown".to_owned(),
                    token_hash: None,
                });
                let created =
                    created.then(|| (DocumentKind::Json, format!("{} ({})", who.user, who.device)));
                let job = PersistJob {
                    id: document,
                    chunk,
                    created,
                    provenance: Provenance {
                        user: who.user,
                        device: who.device,
                        changes,
                        new_actors,
                    },
                    summary: None,
                };
                let queued = QueuedPersist { ticket, facts, job };
                if let Err(mpsc::error::SendError(queued)) = self.persists.send(queued) {
                    // The persister is gone (stopping): this change is not stored.
                    return Some(Input::PersistFailed {
                        document,
                        ticket: queued.ticket,
                        error: "the server is stopping".to_owned(),
                    });
                }
            }
            Output::Compact {
                document,
                ticket,
                snapshot,
                replaces,
            } => {
                let (store, commands) = (self.store.clone(), self.commands.clone());
                self.tracker.spawn(async move {
                    let input =
                        match document::compact(&store, document, &snapshot, &replaces).await {
                            Ok(()) => Input::Persisted { document, ticket },
                            Err(err) => Input::PersistFailed {
                                document,
                                ticket,
                                error: err.to_string(),
                            },
                        };
                    let _ = commands.send(Command::Input(input)).await;
                });
            }
            Output::Evicted { document } => {
                self.in_memory.remove(&document);
            }
            Output::Problem { document, message } => {
                let document = document.map(|d| d.to_string()).unwrap_or_default();
                tracing::error!(%document, %message, "sync problem");
            }
        }
        None
    }

    fn max_connection_memory(&self) -> usize {
        usize::try_from(self.hub.config().limits.sync_message.memory_budget).unwrap_or(usize::MAX)
    }

    /// Loads the chunks another node stored, if this node has the document in memory.
    fn fetch_remote(&mut self, document: DocumentId) {
        if !self.in_memory.contains(&document) {
            return;
        }
        let (store, commands) = (self.store.clone(), self.commands.clone());
        self.tracker.spawn(async move {
            match document::load(&store, document).await {
                Ok(Some(chunks)) => {
                    let _ = commands
                        .send(Command::Input(Input::RemoteChunks { document, chunks }))
                        .await;
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(%document, error = %err, "could not load another node's change")
                }
            }
        });
    }
}

/// A persist the hub asked for, waiting for its turn in a group commit.
struct QueuedPersist {
    ticket: Ticket,
    /// The document as it is after this chunk, read on the hub task; scored by the persister.
    facts: Option<tramyte_shared::summary::Facts>,
    job: PersistJob,
}

/// Chunks stored in one transaction at most.
const MAX_GROUP: usize = 256;

/// Group commits under way at once: SQLite has one writer (more would only queue on
/// [`with_write_pool!`](crate::with_write_pool)); PostgreSQL overlaps two (measured on two
/// cores: four gave lower throughput and a higher p95).
fn group_commits(store: &Store) -> usize {
    if store.is_postgres() { 2 } else { 1 }
}

/// Stores the chunks the hub emits. While a group commit is under way, newly emitted chunks
/// queue; the next group takes all of them (up to [`MAX_GROUP`]) in one transaction, and only
/// after it commits is each one reported [`Input::Persisted`] to the hub. If a group fails, each
/// of its chunks is stored again alone, so one refused chunk (a foreign actor) fails only
/// itself, exactly as if it had been stored alone in the first place.
struct Persister {
    store: Store,
    node: String,
    catalogs: CatalogCache,
    commands: mpsc::Sender<Command>,
    tracker: TaskTracker,
    metrics: Arc<SyncMetrics>,
}

impl Persister {
    async fn run(self, mut queue: mpsc::UnboundedReceiver<QueuedPersist>) {
        let this = Arc::new(self);
        let slots = Arc::new(tokio::sync::Semaphore::new(group_commits(&this.store)));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(more) => group.push(more),
                    Err(_) => break,
                }
            }
            let persister = this.clone();
            this.tracker.spawn(async move {
                persister.store_group(group).await;
                drop(slot);
            });
        }
    }

    async fn store_group(&self, group: Vec<QueuedPersist>) {
        let mut tickets = Vec::with_capacity(group.len());
        let mut jobs = Vec::with_capacity(group.len());
        for QueuedPersist {
            ticket,
            facts,
            mut job,
        } in group
        {
            if let Some(facts) = &facts {
                let summary = self.catalogs.summarize(&self.store, facts).await;
                job.summary = Some(SummaryRecord::of(&summary));
            }
            tickets.push((job.id, ticket));
            jobs.push(job);
        }
        let now = crate::store::now_millis();
        let commit_started = Instant::now();
        let results: Vec<Result<(), String>> =
            match document::persist(&self.store, &jobs, &self.node, now).await {
                Ok(()) => {
                    self.metrics.committed(jobs.len(), commit_started.elapsed());
                    vec![Ok(()); jobs.len()]
                }
                Err(err) if jobs.len() == 1 => vec![Err(err.to_string())],
                Err(_) => {
                    let mut results = Vec::with_capacity(jobs.len());
                    for job in &jobs {
                        let result = document::persist(
                            &self.store,
                            std::slice::from_ref(job),
                            &self.node,
                            now,
                        )
                        .await
                        .map_err(|err| err.to_string());
                        results.push(result);
                    }
                    results
                }
            };
        for ((document, ticket), result) in tickets.into_iter().zip(results) {
            let input = match result {
                Ok(()) => Input::Persisted { document, ticket },
                Err(error) => Input::PersistFailed {
                    document,
                    ticket,
                    error,
                },
            };
            if self.commands.send(Command::Input(input)).await.is_err() {
                return;
            }
        }
    }
}

/// How often connections are checked against revoked and expired sessions.
const SESSION_CHECK: Duration = Duration::from_secs(2);

/// Closes the connections of sessions that were revoked (sign-out, disabled user, new password,
/// on any node or from the command line) or that expired.
async fn watch_sessions(
    store: Store,
    commands: mpsc::Sender<Command>,
    shutdown: CancellationToken,
) {
    let mut since = crate::store::now_millis();
    let mut interval = tokio::time::interval(SESSION_CHECK);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let now = crate::store::now_millis();
        match crate::domain::account::sessions_ended_since(&store, since, now).await {
            Ok(hashes) => {
                since = now;
                if !hashes.is_empty() && commands.send(Command::EndSessions(hashes)).await.is_err()
                {
                    return;
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not check for ended sessions"),
        }
    }
}

/// Listens for other nodes' `NOTIFY tramyte_chunks` and tells the hub task.
async fn listen_for_other_nodes(
    pool: sqlx::PgPool,
    node: String,
    commands: mpsc::Sender<Command>,
    shutdown: CancellationToken,
) {
    let mut listener = loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(document::CHUNKS_CHANNEL).await {
                Ok(()) => {
                    // Clients may have opened documents before this node was listening: what
                    // other nodes stored meanwhile is read now.
                    if commands.send(Command::RemoteChangeAll).await.is_err() {
                        return;
                    }
                    break listener;
                }
                Err(err) => tracing::warn!(error = %err, "cannot LISTEN for other nodes; retrying"),
            },
            Err(err) => {
                tracing::warn!(error = %err, "cannot connect a listener for other nodes; retrying")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            () = shutdown.cancelled() => return,
        }
    };
    loop {
        tokio::select! {
            notification = listener.recv() => match notification {
                Ok(notification) => {
                    let mut parts = notification.payload().split(' ');
                    let (Some(from), Some(id)) = (parts.next(), parts.next()) else { continue };
                    if from == node {
                        continue;
                    }
                    if let Ok(document) = DocumentId::parse(id)
                        && commands.send(Command::RemoteChange(document)).await.is_err()
                    {
                        return;
                    }
                }
                // PgListener reconnects by itself on the next `recv`; notifications sent while it
                // was away are lost, so once it has had a moment to reconnect, every document in
                // memory is read again.
                Err(err) => {
                    tracing::warn!(error = %err, "listening for other nodes failed");
                    let commands = commands.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let _ = commands.send(Command::RemoteChangeAll).await;
                    });
                }
            },
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::origin_allowed;

    #[test]
    fn only_the_servers_own_origin_and_listed_ones_may_open_sync() {
        let none: Vec<String> = Vec::new();
        let host = Some("tramyte.example:8080");
        assert!(origin_allowed("http://tramyte.example:8080", host, &none));
        assert!(origin_allowed("https://TRAMYTE.example:8080/", host, &none));
        assert!(!origin_allowed("http://evil.example:8080", host, &none));
        assert!(!origin_allowed("http://tramyte.example:8081", host, &none));
        assert!(!origin_allowed("http://tramyte.example", host, &none));
        assert!(!origin_allowed("null", host, &none));
        assert!(!origin_allowed("ftp://tramyte.example:8080", host, &none));
        assert!(!origin_allowed("http://tramyte.example:8080", None, &none));
        // Default ports may be written or not, on either side.
        assert!(origin_allowed(
            "https://tramyte.example",
            Some("tramyte.example:443"),
            &none
        ));
        assert!(origin_allowed(
            "https://tramyte.example:443",
            Some("tramyte.example"),
            &none
        ));
        assert!(origin_allowed(
            "http://tramyte.example",
            Some("tramyte.example"),
            &none
        ));
        // An allow-list for other web clients.
        let listed = vec!["https://app.example.org".to_owned(), "null".to_owned()];
        assert!(origin_allowed("https://app.example.org", host, &listed));
        assert!(origin_allowed("null", host, &listed));
        assert!(!origin_allowed(
            "https://app.example.org.evil",
            host,
            &listed
        ));
    }
}

#[cfg(test)]
mod supervision_tests {
    use super::*;

    fn health() -> Arc<HubHealth> {
        Arc::new(HubHealth {
            started: Instant::now(),
            serving: AtomicBool::new(true),
            heartbeat_ms: AtomicU64::new(0),
            stopped_because: Mutex::new(None),
        })
    }

    /// A hub task that panics `panics` times, then serves until shutdown.
    async fn run_with_panics(panics: usize) -> (Arc<HubHealth>, Arc<SyncMetrics>) {
        let (health, metrics) = (health(), Arc::new(SyncMetrics::default()));
        let (_commands, receiver) = mpsc::channel::<()>(1);
        let shutdown = CancellationToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let run_hub = {
            let (runs, shutdown) = (runs.clone(), shutdown.clone());
            hub_runner(move |_: &mut mpsc::Receiver<()>| -> HubRun<'_> {
                let (runs, shutdown) = (runs.clone(), shutdown.clone());
                Box::pin(async move {
                    if runs.fetch_add(1, Ordering::SeqCst) < panics {
                        panic!("the hub task failed (test)");
                    }
                    shutdown.cancel();
                })
            })
        };
        supervise(run_hub, receiver, shutdown, health.clone(), metrics.clone()).await;
        (health, metrics)
    }

    #[tokio::test]
    async fn a_hub_task_that_panics_is_started_again() {
        let (health, metrics) = run_with_panics(2).await;
        assert!(health.serving.load(Ordering::Relaxed));
        assert!(
            crate::metrics::Metrics::new(metrics.clone())
                .render(true)
                .contains("tramyte_sync_hub_restarts_total 2")
        );
    }

    #[tokio::test]
    async fn a_hub_task_that_keeps_panicking_stops_sync_and_says_why() {
        let (health, metrics) = run_with_panics(usize::MAX).await;
        assert!(!health.serving.load(Ordering::Relaxed));
        let reason = health.stopped_because.lock().unwrap().clone().unwrap();
        assert!(
            reason.contains("the hub task panicked: the hub task failed (test)"),
            "{reason}"
        );
        assert!(
            crate::metrics::Metrics::new(metrics.clone())
                .render(false)
                .contains(&format!("tramyte_sync_hub_restarts_total {MAX_RESTARTS}"))
        );
    }
}
