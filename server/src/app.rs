//! Start-up and shutdown: bind, connect the database, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::http::{AppState, MetricsAccess, router};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::sync::SyncService;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "another tramyte server already serves the SQLite database {0}: one SQLite database has \
         one server (use PostgreSQL for several nodes)"
    )]
    AlreadyServed(String),
    #[error(transparent)]
    Lock(#[from] crate::store::backup::BackupError),
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// A bound, connected server that has not started serving yet.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    node: String,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    /// `--metrics-addr`'s listener, serving `GET /metrics` alone.
    metrics_listener: Option<TcpListener>,
    /// The embedded database's serving lock (`store::backup::ServingLock`), released once
    /// the database is closed.
    serving_lock: Option<crate::store::backup::ServingLock>,
}

impl Application {
    /// Creates the data directory, connects the database and binds the listener.
    pub async fn build(config: Config) -> Result<Application, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        // Held while this process serves: `tramyte restore` refuses to replace the file under it.
        let serving_lock = crate::store::backup::sqlite_file(&config.database_url)
            .map(|file| {
                crate::store::backup::ServingLock::acquire(&file).map_err(|err| match err {
                    crate::store::backup::BackupError::InUse(path) => {
                        StartError::AlreadyServed(path)
                    }
                    other => StartError::Lock(other),
                })
            })
            .transpose()?;
        let store = Store::connect(&config.database_url).await?;
        store.migrate().await?;
        // Documents stored before summaries existed (or by an older version) get theirs now.
        let summarized = crate::domain::summary::backfill(
            &store,
            &crate::domain::summary::CatalogCache::default(),
        )
        .await?;
        if summarized > 0 {
            tracing::info!(
                documents = summarized,
                "summarized documents that had no summary"
            );
        }
        let placed = crate::domain::round::register_existing(&store).await?;
        if placed > 0 {
            tracing::info!(documents = placed, "gave documents their commune's place");
        }
        let listener = bind(config.addr).map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
        let node = new_node_id();
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut sync_config = config.sync.clone();
        sync_config.open = config.open;
        let sync = SyncService::start(
            store.clone(),
            sync_config,
            node.clone(),
            shutdown.clone(),
            tracker.clone(),
        );
        let metrics = Arc::new(Metrics::new(sync.shared_metrics()));
        let metrics_access = match &config.metrics_token {
            Some(token) => MetricsAccess::Token(token.as_str().into()),
            None => MetricsAccess::Off,
        };
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let state = AppState {
            store,
            open: config.open,
            sync,
            client: config.client.clone(),
            metrics,
            metrics_access,
            files: config.files,
        };
        Ok(Application {
            listener,
            state,
            node,
            shutdown,
            tracker,
            metrics_listener,
            serving_lock,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The address `--metrics-addr` actually bound, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// This process's node id (random per start), as announced to other nodes.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The database this server uses.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish and closes the
    /// database pool, so nothing is left half-written.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let Application {
            listener,
            state,
            shutdown: token,
            tracker,
            metrics_listener,
            serving_lock,
            ..
        } = self;
        let store = state.store.clone();
        if let Some(metrics_listener) = metrics_listener {
            let metrics = crate::http::metrics_router(state.clone());
            let token = token.clone();
            tracker.spawn(async move {
                let served = axum::serve(metrics_listener, metrics)
                    .with_graceful_shutdown(token.cancelled_owned())
                    .await;
                if let Err(err) = served {
                    tracing::error!(%err, "the metrics listener stopped");
                }
            });
        }
        tracker.spawn(sweep_files_daily(
            store.clone(),
            state.files,
            token.clone(),
            crate::store::now_millis,
        ));
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        let signal = {
            let token = token.clone();
            async move {
                shutdown.await;
                // Websockets close themselves on this; plain requests finish under axum.
                token.cancel();
            }
        };
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await;
        token.cancel();
        // Let sockets close and every started persist commit before the pool goes away.
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not finish within {SHUTDOWN_GRACE:?} of shutdown");
        }
        store.close().await;
        drop(serving_lock);
        served.map_err(StartError::Serve)
    }
}

/// How often the server sweeps files no document names any more.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Sweeps evidence files once a day (the first an hour after start) until `stop`; `now` is the
/// clock (unix milliseconds). Several nodes may sweep at once: each deletion is checked again in
/// its own transaction.
async fn sweep_files_daily(
    store: Store,
    limits: crate::domain::file::FileLimits,
    stop: CancellationToken,
    now: fn() -> i64,
) {
    let first = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    let mut every = tokio::time::interval_at(first, SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        match crate::domain::file::sweep(&store, &limits, now()).await {
            Ok(report) if report.deleted.is_empty() && report.orphan_parts == 0 => {}
            Ok(report) => tracing::info!(
                files = report.deleted.len(),
                bytes = report.bytes(),
                orphan_parts = report.orphan_parts,
                "swept evidence files no document names any more"
            ),
            Err(err) => {
                tracing::warn!(error = %err, "the file sweep failed; it runs again tomorrow")
            }
        }
    }
}

/// Raises this process's open-files limit to its hard limit (every websocket, every database
/// connection and every file is one) and answers the limit now in force, if known.
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            let raised = Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                return limit.maximum;
            }
        }
        limit.current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Fewer open files than this and the operator is told how to allow more.
pub const OPEN_FILES_WANTED: u64 = 65_536;

/// How long shutdown waits for sockets to close and persists to commit.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// A random node id: 8 bytes in hex.
fn new_node_id() -> String {
    let mut bytes = [0u8; 8];
    // Without an OS random source the node id only needs to differ between processes.
    if getrandom::fill(&mut bytes).is_err() {
        bytes = u64::from(std::process::id()).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn the_open_files_limit_is_raised_to_the_hard_limit() {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        // Start from a lowered soft limit, as many systems set one (1024).
        let start = getrlimit(Resource::Nofile);
        let lowered = Rlimit {
            current: Some(start.maximum.unwrap_or(1024).min(1024)),
            maximum: start.maximum,
        };
        setrlimit(Resource::Nofile, lowered).unwrap();
        let answered = super::raise_open_files_limit();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(answered, now.current);
        if now.maximum.is_some() {
            assert_eq!(now.current, now.maximum, "the soft limit is the hard one");
        }
        assert_eq!(
            super::raise_open_files_limit(),
            answered,
            "a second call changes nothing"
        );
    }
}

/// The listen backlog asked for: phones that reconnect at once after a restart wait in it rather
/// than being refused (the kernel caps it at `net.core.somaxconn`; tokio's default is 1024).
const LISTEN_BACKLOG: u32 = 4096;

/// Binds the public listener with [`LISTEN_BACKLOG`] (address reuse as tokio's own `bind`).
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
