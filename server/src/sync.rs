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

mod hub;
mod persister;
mod reframe;
mod socket;
mod upgrade;
mod watch;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::hub::{
    ConnId, Hub, HubConfig, Input, Limits, LoadOutcome, Output, Ticket,
};
use tramyte_shared::sync::message::Message;

use crate::domain::account::Session;
use crate::metrics::SyncMetrics;
use crate::store::Store;
use crate::store::document::{self, DocumentKind, PersistJob, Provenance};

use crate::domain::summary::{CatalogCache, SummaryRecord};
use hub::HubDriver;
use persister::Persister;
use socket::{release_address, serve_socket};
pub use upgrade::{Socket, SyncUpgrade, UpgradeRefused};
use watch::{listen_for_other_nodes, watch_sessions};

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

/// Each websocket's read buffer, allocated with the socket and kept while it is open: most of
/// what an idle phone costs the server (with 8 KiB, 19.3 KiB per authenticated idle connection;
/// docs/measurements.md). A frame larger than this is still read whole, in more reads; a change's
/// sync message usually fits.
const READ_BUFFER_BYTES: usize = 2 << 10;
/// How much a websocket buffers before writing (every send is flushed at once anyway).
const WRITE_BUFFER_BYTES: usize = 8 << 10;
/// The largest websocket frame the server writes, header included: a larger message goes out
/// as fragments (RFC 6455 §5.4) of at most this. tungstenite writes each frame whole into its
/// write buffer and keeps the buffer's capacity while the socket is open, so this bounds what an
/// idle phone keeps on the server after a large message (before, the whole message: 56 KiB after
/// a 64 KiB dossier). 2 KiB, as the read buffer: a synced idle phone costs at most 2 KiB more
/// than one that only shook hands, and a 64 KiB dossier takes 32 writes, a few µs beside the
/// sync work that made it. Most sync messages (a change, heads) fit in one frame and go as before.
const WRITE_FRAME_BYTES: usize = 2 << 10;

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

    /// Tells the hub that the server itself stored a change to `document` (a round moved to a
    /// newer revision): the hub reloads it, as it does another node's, and sends the change to
    /// the phones that have it open. A document nobody has open is left for its next load.
    pub async fn stored_by_server(&self, document: DocumentId) {
        let _ = self.commands.send(Command::RemoteChange(document)).await;
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
        upgrade: SyncUpgrade,
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
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(WRITE_BUFFER_BYTES)
            .max_message_size(Some(max))
            .max_frame_size(Some(max));
        let failed = {
            let service = service.clone();
            move |_| release_address(&service, addr.ip())
        };
        upgrade.on_upgrade(config, failed, move |socket| {
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
