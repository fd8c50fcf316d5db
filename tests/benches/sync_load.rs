//! Benchmark (not a test): the sync server under load, as a separate release process. N websocket
//! clients × M documents × K changes on SQLite and on PostgreSQL (acknowledged changes per second,
//! change→acknowledgement latency p50/p95/p99, server CPU per change, server peak memory), then
//! how many idle connections one server holds and at what memory (each one an authenticated
//! phone's socket, woken once at the end and timed until the server answers it). Prints a table
//! at the end, with a machine reference (automerge's apply of one change, timed in-process) for comparing
//! figures measured on different machines.
//!
//! Run with `cargo xtask bench` (it builds `target/release/tramyte` first), or
//! `TRAMYTE_BIN=target/release/tramyte cargo bench -p tramyte-tests --bench sync_load` (without
//! `TRAMYTE_BIN`, the `tramyte` next to the bench's target directory, however old it is).
//! Knobs (environment): `SYNC_BENCH_CLIENTS` (200), `SYNC_BENCH_DOCS` (5), `SYNC_BENCH_CHANGES`
//! (10), `SYNC_BENCH_PAUSE_MS` (0: a client's next change follows its acknowledgement at once;
//! more models people's pace), `SYNC_BENCH_BACKENDS` (`sqlite,postgres`), `SYNC_BENCH_IDLE`
//! (10000; 0 skips), `SYNC_BENCH_IDLE_HOLD_SECS` (5), `SYNC_BENCH_IDLE_SOURCES` (the number of
//! 127.0.0.x source addresses the idle sockets are spread over: one per 20,000, at least 2, by
//! default, as one address reaches one server port from about 28,000 ephemeral ports), `SYNC_BENCH_IDLE_OPEN`
//! (set: open mode, no sign-in), `SYNC_BENCH_IDLE_DOC_KIB` (with `SYNC_BENCH_IDLE_OPEN`: every
//! idle phone first syncs one shared document of about this many KiB, as a phone that has its
//! dossier; 0, the default, only shakes hands), `SYNC_BENCH_IDLE_DOC_SEND` (set, with
//! `SYNC_BENCH_IDLE_DOC_KIB`: every idle phone instead sends that document to the server, whole in
//! one sync message, as a phone that made its dossier offline; the server already has it, so it
//! stores nothing new), `SYNC_BENCH_TIMEOUT_SECS` (300, the bound of every phase).
//! The idle phase needs an open-files limit above its count in both processes (`ulimit -n`).
//! Targets on a 2-core machine with the defaults: p95 ≤ 50 ms, ≤ 0.1 ms server CPU per change,
//! server peak ≤ 60 MiB; 10,000 idle connections in ≤ 500 MiB; 100,000 (issue 23) in ≤ 1.5 GB,
//! each answered within 1 s when it wakes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinError, JoinSet};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::client::Client;
use tramyte_tests::Backend;
use tramyte_tests::process::{ServerProcess, tramyte_binary};
use tramyte_tests::server::{TestDatabase, postgres_admin_url};
use tramyte_tests::sync_client::SyncClient;

/// Targets of the issue, for the default run on 2 cores.
const TARGET_P95_MS: f64 = 50.0;
const TARGET_CPU_MS_PER_CHANGE: f64 = 0.1;
const TARGET_PEAK_MIB: f64 = 60.0;
const TARGET_IDLE_MIB: f64 = 500.0;
/// 100,000 idle connections (every station phone of the country) in at most this many bytes.
const TARGET_COUNTRY_BYTES: f64 = 1.5e9;
const COUNTRY_CONNECTIONS: f64 = 100_000.0;
/// A woken connection's heartbeat is answered within this.
const TARGET_WAKE_MS: f64 = 1_000.0;
/// Idle connections woken at once (each timed from its heartbeat to the server's answer).
const WAKE_CONCURRENCY: usize = 64;
/// Idle connections per source address by default (one address reaches one server port from
/// about 28,000 ephemeral ports).
const IDLE_PER_SOURCE: usize = 20_000;
/// Phones (sessions) per user in the idle phase: a commune's staff share a few accounts.
const IDLE_SESSIONS_PER_USER: usize = 10;

/// Clients connecting and creating their documents at once during the setup phase.
const SETUP_CONCURRENCY: usize = 64;
/// Idle websockets being opened at once.
const IDLE_CONCURRENCY: usize = 128;
/// Failed attempts after which opening idle connections stops.
const IDLE_MAX_FAILURES: usize = 50;
/// The bound of one connection attempt (TCP, upgrade, join → peer).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone)]
struct Settings {
    clients: usize,
    docs: usize,
    changes: usize,
    pause: Duration,
    backends: Vec<Backend>,
    idle: usize,
    idle_hold: Duration,
    idle_sources: usize,
    idle_open: bool,
    idle_doc_kib: usize,
    idle_doc_send: bool,
    phase_timeout: Duration,
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        let backends = match std::env::var("SYNC_BENCH_BACKENDS") {
            Ok(list) => list
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(|name| match name {
                    "sqlite" => Ok(Backend::Sqlite),
                    "postgres" | "postgresql" => Ok(Backend::Postgres),
                    other => Err(format!(
                        "SYNC_BENCH_BACKENDS: unknown backend {other:?} (use sqlite,postgres)"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Err(_) => vec![Backend::Sqlite, Backend::Postgres],
        };
        Ok(Settings {
            clients: number("SYNC_BENCH_CLIENTS", 200)?,
            docs: number("SYNC_BENCH_DOCS", 5)?,
            changes: number("SYNC_BENCH_CHANGES", 10)?,
            pause: Duration::from_millis(number("SYNC_BENCH_PAUSE_MS", 0)? as u64),
            backends,
            idle: number("SYNC_BENCH_IDLE", 10_000)?,
            idle_hold: Duration::from_secs(number("SYNC_BENCH_IDLE_HOLD_SECS", 5)? as u64),
            idle_sources: number("SYNC_BENCH_IDLE_SOURCES", 0)?,
            idle_open: std::env::var_os("SYNC_BENCH_IDLE_OPEN").is_some(),
            idle_doc_kib: number("SYNC_BENCH_IDLE_DOC_KIB", 0)?,
            idle_doc_send: std::env::var_os("SYNC_BENCH_IDLE_DOC_SEND").is_some(),
            phase_timeout: Duration::from_secs(
                number("SYNC_BENCH_TIMEOUT_SECS", 300)?.max(1) as u64
            ),
        })
    }
}

fn number(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number, got {text:?}")),
        Err(_) => Ok(default),
    }
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // `cargo test --benches` runs bench binaries with `--bench` absent: do nothing then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("sync_load: {err}");
            return ExitCode::from(2);
        }
    };
    quiet_task_panics();
    let ticks = clock_ticks_per_second();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    eprintln!(
        "sync_load: server {}, {} cores, {} clock ticks/s, open files limit {}",
        tramyte_binary().display(),
        cores,
        ticks,
        open_files_limit().unwrap_or_else(|| "unknown".to_owned())
    );

    let reference = machine_reference();
    eprintln!("sync_load: machine reference: {reference:.1} µs per applied change");

    let mut loads = Vec::new();
    if settings.clients > 0 && settings.docs > 0 && settings.changes > 0 {
        for &backend in &settings.backends {
            loads.push(load_phase(&settings, backend, ticks).await);
        }
    }
    let idle = if settings.idle > 0 {
        Some(idle_phase(&settings).await)
    } else {
        None
    };

    println!();
    if !loads.is_empty() {
        println!("{}", load_table(&settings, &loads, cores, reference));
    }
    if let Some(idle) = &idle {
        println!("{}", idle_table(idle));
    }
    let failed = loads.iter().any(|load| match &load.outcome {
        Outcome::Ran(run) => !run.failures.is_empty(),
        Outcome::Skipped(_) => false,
    });
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

// ---------------------------------------------------------------------------------------------
// The load phase: N clients × M documents × K changes.

#[derive(Debug)]
struct Load {
    backend: Backend,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    Skipped(String),
    Ran(Box<Run>),
}

#[derive(Debug, Default)]
struct Run {
    clients_ready: usize,
    setup: Duration,
    measured: Duration,
    latencies: Vec<Duration>,
    /// Why clients stopped early, with how many did.
    failures: BTreeMap<String, usize>,
    server_cpu: Cpu,
    bench_cpu: Cpu,
    machine_cpu: Cpu,
    server_hwm_kib: Option<u64>,
    server_rss_kib: Option<u64>,
    server_rss_after_setup_kib: Option<u64>,
    server_rss_after_disconnect_kib: Option<u64>,
    /// How busy the machine was (percent of all cores) during one second before the measured
    /// phase, while the bench and the server were idle: others' work that competes with both.
    busy_before_percent: Option<f64>,
}

/// CPU time used during the measured phase, in milliseconds (`None` when /proc was unreadable).
#[derive(Debug, Default, Clone, Copy)]
struct Cpu(Option<f64>);

async fn load_phase(settings: &Settings, backend: Backend, ticks: f64) -> Load {
    let name = backend_name(backend);
    if backend == Backend::Postgres
        && let Err(reason) = postgres_answers().await
    {
        eprintln!("sync_load: {name}: skipped ({reason})");
        return Load {
            backend,
            outcome: Outcome::Skipped(reason),
        };
    }
    let database = TestDatabase::new(backend).await;
    let data_dir = database.data_dir().display().to_string();
    let server = ServerProcess::start(&[
        "--open",
        "--database-url",
        &database.url,
        "--data-dir",
        &data_dir,
    ])
    .await;
    let pid = server.child.id().expect("the server process has an id");
    let mut run = Run::default();
    let (clients, docs, changes, pause) = (
        settings.clients,
        settings.docs,
        settings.changes,
        settings.pause,
    );

    // Setup (not measured): every client connects and creates its documents.
    eprintln!("sync_load: {name}: {clients} clients connect and create {docs} documents each …");
    let started = Instant::now();
    let semaphore = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut setup = JoinSet::new();
    for index in 0..clients {
        let (url, semaphore) = (server.url.clone(), semaphore.clone());
        setup.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            let mut client = SyncClient::new(&format!("bench-{index}"));
            client.connect(&url).await;
            let mut ids: Vec<DocumentId> = Vec::with_capacity(docs);
            for doc in 0..docs {
                let id = tramyte_server::store::document::new_document_id()
                    .expect("a random document id");
                client.insert(id, new_document(index, doc)).await;
                ids.push(id);
            }
            for id in &ids {
                client.settle(*id).await;
            }
            (client, ids)
        });
    }
    let ready = join_all(&mut setup, settings.phase_timeout, &mut run.failures).await;
    run.setup = started.elapsed();
    run.clients_ready = ready.len();

    // Measured: each client makes K changes to each of its documents, one at a time, each timed
    // from the edit to the server's acknowledgement (sent once the change is committed).
    eprintln!(
        "sync_load: {name}: {} clients make {changes} changes to each of their documents …",
        ready.len()
    );
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(clients * docs * changes)));
    run.server_rss_after_setup_kib = process_status(pid).and_then(|s| s.rss_kib);
    run.busy_before_percent = machine_busy_percent(Duration::from_secs(1), ticks).await;
    let (server_before, bench_before, machine_before) = (
        process_ticks(&pid.to_string()),
        process_ticks("self"),
        machine_busy_ticks(),
    );
    let started = Instant::now();
    let mut measured = JoinSet::new();
    let ready_count = u32::try_from(ready.len()).unwrap_or(u32::MAX).max(1);
    for (index, (mut client, ids)) in (0u32..).zip(ready) {
        let latencies = latencies.clone();
        measured.spawn(async move {
            // With a pause, clients start spread over one pause, so changes arrive evenly
            // instead of in waves of every client at once.
            tokio::time::sleep(pause * index / ready_count).await;
            for change in 0..changes {
                for id in &ids {
                    let start = Instant::now();
                    client.edit(*id, |doc| edit(doc, change)).await;
                    client.settle(*id).await;
                    let took = start.elapsed();
                    latencies
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push(took);
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
            // Returned, so the connection stays open until every client is done.
            client
        });
    }
    let finished = join_all(&mut measured, settings.phase_timeout, &mut run.failures).await;
    run.measured = started.elapsed();
    let (server_after, bench_after, machine_after) = (
        process_ticks(&pid.to_string()),
        process_ticks("self"),
        machine_busy_ticks(),
    );
    run.server_cpu = cpu_ms(server_before, server_after, ticks);
    run.bench_cpu = cpu_ms(bench_before, bench_after, ticks);
    run.machine_cpu = cpu_ms(machine_before, machine_after, ticks);
    let status = process_status(pid);
    run.server_hwm_kib = status.as_ref().and_then(|s| s.hwm_kib);
    run.server_rss_kib = status.as_ref().and_then(|s| s.rss_kib);
    run.latencies = std::mem::take(
        &mut *latencies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    // Every client leaves: the server drops their documents from memory.
    drop(finished);
    tokio::time::sleep(Duration::from_secs(2)).await;
    run.server_rss_after_disconnect_kib = process_status(pid).and_then(|s| s.rss_kib);
    server.kill().await;
    drop(database);
    eprintln!(
        "sync_load: {name}: {} changes acknowledged in {:.1} s",
        run.latencies.len(),
        run.measured.as_secs_f64()
    );
    Load {
        backend,
        outcome: Outcome::Ran(Box::new(run)),
    }
}

/// A document like an assessment's first version: a title, a zone, a text note.
fn new_document(client: usize, doc: usize) -> AutoCommit {
    let mut document = AutoCommit::new();
    document
        .put(
            automerge::ROOT,
            "title",
            format!("Trạm Y tế xã {client}-{doc}"),
        )
        .expect("put a title");
    document
        .put(automerge::ROOT, "zone", 1)
        .expect("put a zone");
    document
        .put_object(automerge::ROOT, "note", ObjType::Text)
        .expect("create the note");
    document.commit();
    document
}

/// One change as a station's staff makes it: a score and a few words of the note.
fn edit(doc: &mut AutoCommit, change: usize) {
    doc.put(
        automerge::ROOT,
        format!("score_{}", change % 10),
        format!("{}.5", change % 3),
    )
    .expect("put a score");
    let (_, note) = doc
        .get(automerge::ROOT, "note")
        .expect("read the note")
        .expect("the note exists");
    let length = doc.length(&note);
    doc.splice_text(&note, length, 0, "đã kiểm tra; ")
        .expect("append to the note");
}

/// Documents, changes per document and rounds of [`machine_reference`].
const REFERENCE_DOCS: usize = 100;
const REFERENCE_CHANGES: usize = 10;
const REFERENCE_ROUNDS: usize = 5;

/// How fast this machine is, so that figures from different machines can be compared: the
/// microseconds automerge takes to apply one of the bench's changes to a copy of its document
/// (what the server does with each change it receives), the best of several rounds. Single
/// threaded, while nothing else of the bench runs.
fn machine_reference() -> f64 {
    let sources: Vec<(Vec<u8>, Vec<Vec<u8>>)> = (0..REFERENCE_DOCS)
        .map(|doc| {
            let mut source = new_document(0, doc);
            let base = source.save();
            let changes = (0..REFERENCE_CHANGES)
                .map(|change| {
                    edit(&mut source, change);
                    source.commit();
                    let last = source
                        .get_last_local_change()
                        .expect("the edit made a change");
                    last.raw_bytes().to_vec()
                })
                .collect();
            (base, changes)
        })
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..REFERENCE_ROUNDS {
        let mut copies: Vec<AutoCommit> = sources
            .iter()
            .map(|(base, _)| AutoCommit::load(base).expect("the saved document loads"))
            .collect();
        let start = Instant::now();
        for (copy, (_, changes)) in copies.iter_mut().zip(&sources) {
            for bytes in changes {
                copy.load_incremental(bytes).expect("the change applies");
            }
        }
        let per_change =
            start.elapsed().as_secs_f64() * 1e6 / (REFERENCE_DOCS * REFERENCE_CHANGES) as f64;
        best = best.min(per_change);
        // Every change was applied (none is held back waiting for another).
        for (copy, (_, changes)) in copies.iter_mut().zip(&sources) {
            assert_eq!(copy.get_changes(&[]).len(), changes.len() + 1);
        }
    }
    best
}

/// Waits for every task of `set` (at most `timeout`); a task that panicked or did not finish
/// is counted in `failures` by its reason.
async fn join_all<T: 'static>(
    set: &mut JoinSet<T>,
    timeout: Duration,
    failures: &mut BTreeMap<String, usize>,
) -> Vec<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut done = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, set.join_next()).await {
            Ok(Some(Ok(value))) => done.push(value),
            Ok(Some(Err(err))) => *failures.entry(panic_reason(err)).or_default() += 1,
            Ok(None) => break,
            Err(_) => {
                let left = set.len();
                set.abort_all();
                *failures
                    .entry(format!(
                        "not done within the phase bound of {} s (SYNC_BENCH_TIMEOUT_SECS)",
                        timeout.as_secs()
                    ))
                    .or_default() += left;
                break;
            }
        }
    }
    done
}

fn panic_reason(err: JoinError) -> String {
    let reason = match err.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic".to_owned()),
        Err(err) => err.to_string(),
    };
    // "bench-17: timed out waiting; [ours …]": one line per kind of failure, not per client.
    let reason = match reason.split_once(": ") {
        Some((peer, rest)) if peer.starts_with("bench-") => rest.to_owned(),
        _ => reason,
    };
    reason.chars().take(240).collect()
}

/// Prints the first few panics of client tasks (the bench reports them all in its table); the
/// main thread's panics are printed as usual.
fn quiet_task_panics() {
    let default = std::panic::take_hook();
    let shown = AtomicUsize::new(0);
    std::panic::set_hook(Box::new(move |info| {
        let main = std::thread::current().name() == Some("main");
        let count = shown.fetch_add(usize::from(!main), Ordering::Relaxed);
        if main || count < 3 {
            default(info);
        } else if count == 3 {
            eprintln!("sync_load: further client failures are counted in the table, not printed");
        }
    }));
}

async fn postgres_answers() -> Result<(), String> {
    let url = postgres_admin_url();
    match tokio::time::timeout(
        Duration::from_secs(10),
        tramyte_server::store::Store::connect(&url),
    )
    .await
    {
        Ok(Ok(store)) => {
            store.close().await;
            Ok(())
        }
        Ok(Err(err)) => Err(format!("PostgreSQL does not answer: {err}")),
        Err(_) => Err("PostgreSQL does not answer within 10 s".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// The idle phase: how many joined, silent connections one server holds.

#[derive(Debug, Default)]
struct Idle {
    requested: usize,
    open_mode: bool,
    /// The shared document each phone synced first, in KiB (0: none).
    doc_kib: usize,
    /// Whether each phone sent that document (rather than fetched it).
    doc_sent: bool,
    sources: usize,
    users: usize,
    opened: usize,
    dropped: usize,
    failures: usize,
    first_failure: Option<String>,
    first_drop: Option<String>,
    open_time: Duration,
    before: Option<Status>,
    /// This process (the clients' side, with 4 KiB read buffers), for comparison.
    bench_before: Option<Status>,
    bench_held: Option<Status>,
    held: Option<Status>,
    /// The kernel's memory for TCP buffers (`/proc/net/sockstat`, pages) before and while held.
    tcp_pages_before: Option<u64>,
    tcp_pages_held: Option<u64>,
    /// The kernel's slab memory (`/proc/meminfo`, KiB) before and while held: socket structures
    /// of both ends, since the clients run on this machine too.
    slab_kib_before: Option<u64>,
    slab_kib_held: Option<u64>,
    /// Heartbeat → answer of every woken connection, in milliseconds (sorted).
    wake_ms: Vec<f64>,
    /// Woken connections that got no answer (closed, or not within the phase bound).
    wake_unanswered: usize,
    after_close: Option<Status>,
}

/// What a held connection is asked to do: answer a heartbeat and say how long the server took.
type Wake = tokio::sync::oneshot::Sender<Result<Duration, String>>;

async fn idle_phase(settings: &Settings) -> Idle {
    let sources = match settings.idle_sources {
        0 => settings.idle.div_ceil(IDLE_PER_SOURCE).max(2),
        n => n,
    }
    .min(250);
    let mut idle = Idle {
        requested: settings.idle,
        open_mode: settings.idle_open,
        doc_kib: if settings.idle_open {
            settings.idle_doc_kib
        } else {
            0
        },
        doc_sent: settings.idle_doc_send,
        sources,
        ..Idle::default()
    };
    let database = TestDatabase::new(Backend::Sqlite).await;
    let data_dir = database.data_dir().display().to_string();
    // One session per connection, as every phone has its own, stored before the server starts.
    let tokens = if settings.idle_open {
        Vec::new()
    } else {
        eprintln!("sync_load: idle: storing {} sessions …", settings.idle);
        let (tokens, users) = idle_sessions(&database.url, settings.idle).await;
        idle.users = users;
        tokens
    };
    let limit = settings.idle.max(20_000).to_string();
    let mut args = vec![
        "--database-url",
        &database.url,
        "--data-dir",
        &data_dir,
        "--max-connections-per-address",
        &limit,
    ];
    if settings.idle_open {
        // Open mode: no sign-in, so the handshake is all a connection costs.
        args.push("--open");
    }
    let server = ServerProcess::start(&args).await;
    let pid = server.child.id().expect("the server process has an id");
    idle.before = process_status(pid);
    idle.bench_before = process_status(std::process::id());
    idle.tcp_pages_before = tcp_memory_pages();
    idle.slab_kib_before = slab_kib();
    let url = format!("{}/sync", server.url.replacen("http://", "ws://", 1));
    // A document every phone syncs first (open mode only: anyone may read any document).
    let shared_doc = if idle.doc_kib > 0 {
        let (id, whole) = seed_shared_document(&server.url, idle.doc_kib).await;
        Some(SharedDoc {
            id,
            whole: idle.doc_sent.then(|| Arc::new(whole)),
        })
    } else {
        None
    };
    let server_addr: std::net::SocketAddr = server
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("the server's address");
    eprintln!(
        "sync_load: idle: opening {} connections from {sources} source addresses …",
        settings.idle
    );

    let (stop, stopped) = watch::channel(false);
    let dropped = Arc::new(AtomicUsize::new(0));
    let first_drop = Arc::new(Mutex::new(None::<String>));
    let mut holders = JoinSet::new();
    let mut wakers: Vec<tokio::sync::mpsc::Sender<Wake>> = Vec::new();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + settings.phase_timeout;
    let tokens = Arc::new(tokens);
    let mut attempts = futures_util::stream::iter(0..settings.idle)
        .map(|index| {
            let source = std::net::Ipv4Addr::new(127, 0, 0, 1 + (index % sources) as u8);
            let token = tokens.get(index).cloned();
            open_idle(
                url.clone(),
                server_addr,
                source,
                token,
                shared_doc.clone(),
                index,
            )
        })
        .buffer_unordered(IDLE_CONCURRENCY);
    loop {
        match tokio::time::timeout_at(deadline, attempts.next()).await {
            Ok(Some(Ok((socket, client)))) => {
                idle.opened += 1;
                let (waker, woken) = tokio::sync::mpsc::channel(1);
                wakers.push(waker);
                holders.spawn(hold(
                    socket,
                    client,
                    woken,
                    stopped.clone(),
                    dropped.clone(),
                    first_drop.clone(),
                ));
                if idle.opened.is_multiple_of(1_000) {
                    eprintln!("sync_load: idle: {} open", idle.opened);
                }
            }
            Ok(Some(Err(reason))) => {
                idle.failures += 1;
                idle.first_failure.get_or_insert(reason);
                if idle.failures >= IDLE_MAX_FAILURES {
                    break;
                }
            }
            Ok(None) => break,
            Err(_) => {
                idle.first_failure.get_or_insert(format!(
                    "not all open within the phase bound of {} s",
                    settings.phase_timeout.as_secs()
                ));
                break;
            }
        }
    }
    drop(attempts);
    idle.open_time = started.elapsed();
    eprintln!(
        "sync_load: idle: {} open after {:.1} s; holding them {} s …",
        idle.opened,
        idle.open_time.as_secs_f64(),
        settings.idle_hold.as_secs()
    );
    tokio::time::sleep(settings.idle_hold).await;
    idle.held = process_status(pid);
    idle.bench_held = process_status(std::process::id());
    idle.tcp_pages_held = tcp_memory_pages();
    idle.slab_kib_held = slab_kib();
    idle.dropped = dropped.load(Ordering::Relaxed);
    idle.first_drop = first_drop
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();

    // Every phone wakes once (a few dozen at a time) and sends the app's heartbeat.
    eprintln!("sync_load: idle: waking each of them once …");
    let wake_deadline = tokio::time::Instant::now() + settings.phase_timeout;
    let mut answers = futures_util::stream::iter(wakers)
        .map(|waker| async move {
            let (answer, answered) = tokio::sync::oneshot::channel();
            if waker.send(answer).await.is_err() {
                return Err("the connection was gone".to_owned());
            }
            answered
                .await
                .unwrap_or_else(|_| Err("the connection was gone".to_owned()))
        })
        .buffer_unordered(WAKE_CONCURRENCY);
    loop {
        match tokio::time::timeout_at(wake_deadline, answers.next()).await {
            Ok(Some(Ok(took))) => idle.wake_ms.push(took.as_secs_f64() * 1000.0),
            Ok(Some(Err(reason))) => {
                idle.wake_unanswered += 1;
                idle.first_drop.get_or_insert(reason);
            }
            Ok(None) => break,
            Err(_) => {
                idle.wake_unanswered = idle.opened.saturating_sub(idle.wake_ms.len());
                break;
            }
        }
    }
    drop(answers);
    idle.wake_ms.sort_by(f64::total_cmp);

    let _ = stop.send(true);
    let closing = tokio::time::timeout(Duration::from_secs(60), async {
        while holders.join_next().await.is_some() {}
    })
    .await;
    if closing.is_err() {
        holders.abort_all();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    idle.after_close = process_status(pid);
    server.kill().await;
    drop(database);
    idle
}

/// Stores `count` sessions (one per phone) of station staff, [`IDLE_SESSIONS_PER_USER`] per user,
/// in the database at `url`; returns their tokens and how many users hold them.
async fn idle_sessions(url: &str, count: usize) -> (Vec<String>, usize) {
    use tramyte_server::domain::account::hash_token;
    use tramyte_server::store::{Store, account, now_millis};
    let store = Store::connect(url)
        .await
        .expect("connect the idle phase's database");
    store.migrate().await.expect("the idle phase's schema");
    tramyte_server::domain::unit::import(
        &store,
        "code,kind,name,parent,unit_type,covers\nI,province,Tỉnh Thử,,,\n90001,commune,Xã Thử,I,xa,\n",
    )
    .await
    .expect("the idle phase's units");
    let now = now_millis();
    let users = count.div_ceil(IDLE_SESSIONS_PER_USER);
    let units = vec!["90001".to_owned()];
    for user in 0..users {
        let id = format!("phone-user-{user}");
        let row = account::NewUserRow {
            id: &id,
            display_name: "Nhân viên thử",
            role: "station_staff",
            person: None,
            // Not a password hash: nobody signs in with it (the sessions are stored directly).
            password_hash: "!",
            units: &units,
        };
        account::insert_user(&store, &row, now)
            .await
            .expect("an idle phase user");
    }
    let tokens: Vec<String> = (0..count)
        .map(|i| format!("{:016x}{:048x}", i, 0xbe_u64.wrapping_mul(i as u64 + 1)))
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        let user = format!("phone-user-{}", i / IDLE_SESSIONS_PER_USER);
        account::insert_session(
            &store,
            &hash_token(token),
            &user,
            &format!("phone {i}"),
            now,
            now + 86_400_000,
        )
        .await
        .expect("an idle phase session");
    }
    store.close().await;
    (tokens, users)
}

/// The document every idle phone syncs first.
#[derive(Debug, Clone)]
struct SharedDoc {
    id: DocumentId,
    /// With `SYNC_BENCH_IDLE_DOC_SEND`: the data of a sync message that carries all of it, which
    /// each phone sends.
    whole: Option<Arc<Vec<u8>>>,
}

/// Stores a document of about `kib` KiB (one text of random hexadecimal digits, which nothing
/// compresses) through a client of its own; returns its id and the data of a sync message that
/// carries all of it (what a phone that has it sends to a server it thinks has nothing).
async fn seed_shared_document(base_url: &str, kib: usize) -> (DocumentId, Vec<u8>) {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&0x5eed_u64.to_le_bytes());
    let id = DocumentId::from_bytes(bytes);
    let mut doc = AutoCommit::new();
    // xorshift64*: digits no compressor finds a pattern in.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let text: String = (0..kib * 1024)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            char::from_digit((x >> 60) as u32, 16).unwrap_or('0')
        })
        .collect();
    doc.put(automerge::ROOT, "dossier", text)
        .expect("the shared document's text");
    doc.commit();
    let whole = automerge::sync::Message {
        heads: doc.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: doc.save().into(),
        flags: None,
        version: automerge::sync::MessageVersion::V2,
    }
    .encode();
    let mut seeder = SyncClient::new("idle-seeder");
    seeder.connect(base_url).await;
    seeder.insert(id, doc).await;
    seeder.settle(id).await;
    seeder.disconnect().await;
    (id, whole)
}

/// Opens `ws://…/sync` from `source` (a 127.0.0.x address) with `token` (none in open mode),
/// completes the join/peer handshake and, given `shared`, syncs that document (fetches it, or
/// sends it whole and waits for the server's answer).
async fn open_idle(
    url: String,
    server: std::net::SocketAddr,
    source: std::net::Ipv4Addr,
    token: Option<String>,
    shared: Option<SharedDoc>,
    index: usize,
) -> Result<(Socket, Client), String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tramyte_shared::sync::message::Message;
    let attempt = async {
        let tcp = tokio::net::TcpSocket::new_v4().map_err(|err| format!("socket: {err}"))?;
        tcp.bind((source, 0).into())
            .map_err(|err| format!("bind {source}: {err}"))?;
        let stream = tcp
            .connect(server)
            .await
            .map_err(|err| format!("connect from {source}: {err}"))?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|err| format!("request: {err}"))?;
        if let Some(token) = token {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|err| format!("token header: {err}"))?;
            request.headers_mut().insert("authorization", value);
        }
        // Small buffers: this process holds as many sockets as the server.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 << 10)
            .write_buffer_size(0);
        let (mut socket, _) = tokio_tungstenite::client_async_with_config(
            request,
            MaybeTlsStream::Plain(stream),
            Some(config),
        )
        .await
        .map_err(|err| format!("upgrade: {err}"))?;
        let mut client = Client::new(format!("idle-{index}"));
        socket
            .send(WsMessage::Binary(client.connect().into()))
            .await
            .map_err(|err| format!("send join: {err}"))?;
        let mut requested = false;
        let mut server_peer = None;
        while let Some(message) = socket.next().await {
            match message.map_err(|err| format!("before peer: {err}"))? {
                WsMessage::Binary(frame) => {
                    match Message::decode(&frame) {
                        Ok(Message::Peer { sender_id, .. }) => server_peer = Some(sender_id),
                        Ok(Message::Sync { document_id, .. })
                            if shared.as_ref().is_some_and(|doc| {
                                doc.whole.is_some() && doc.id == document_id
                            }) =>
                        {
                            // The server's answer to the document this phone sent.
                            return Ok((socket, client));
                        }
                        _ => {}
                    }
                    let step = client
                        .receive(&frame)
                        .map_err(|err| format!("handshake: {err}"))?;
                    for frame in step.frames {
                        socket
                            .send(WsMessage::Binary(frame.into()))
                            .await
                            .map_err(|err| format!("send: {err}"))?;
                    }
                    let synced = match &shared {
                        None => true,
                        Some(SharedDoc {
                            id,
                            whole: Some(whole),
                        }) => {
                            if client.is_ready() && !requested {
                                requested = true;
                                let target_id = server_peer.clone().ok_or("no peer message")?;
                                let sync = Message::Sync {
                                    sender_id: client.peer_id().to_owned(),
                                    target_id,
                                    document_id: *id,
                                    data: whole.as_ref().clone(),
                                };
                                socket
                                    .send(WsMessage::Binary(sync.encode().into()))
                                    .await
                                    .map_err(|err| format!("send the document: {err}"))?;
                            }
                            false
                        }
                        Some(SharedDoc { id, whole: None }) => {
                            let id = *id;
                            if client.is_ready() && !requested {
                                requested = true;
                                for frame in client.request(id) {
                                    socket
                                        .send(WsMessage::Binary(frame.into()))
                                        .await
                                        .map_err(|err| format!("send request: {err}"))?;
                                }
                            }
                            client.doc(&id).is_some_and(|doc| {
                                doc.get(automerge::ROOT, "dossier").ok().flatten().is_some()
                            })
                        }
                    };
                    if client.is_ready() && synced {
                        return Ok((socket, client));
                    }
                }
                WsMessage::Close(frame) => return Err(format!("closed before peer: {frame:?}")),
                _ => {}
            }
        }
        Err("closed before peer".to_owned())
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no handshake within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))
        })
}

/// Keeps a socket open and read (so pings are answered) until told to close it; when woken,
/// sends the app's heartbeat and reports how long the server took to answer it.
async fn hold(
    mut socket: Socket,
    client: Client,
    mut woken: tokio::sync::mpsc::Receiver<Wake>,
    mut stop: watch::Receiver<bool>,
    dropped: Arc<AtomicUsize>,
    first_drop: Arc<Mutex<Option<String>>>,
) {
    use tramyte_shared::sync::heartbeat::HEARTBEAT_DOCUMENT;
    use tramyte_shared::sync::message::Message;
    // The wake being timed: its answer and when its heartbeat was sent.
    let mut waking: Option<(Wake, Instant)> = None;
    loop {
        tokio::select! {
            message = socket.next() => {
                let reason = match message {
                    Some(Ok(WsMessage::Close(frame))) => format!("closed by the server: {frame:?}"),
                    Some(Err(err)) => format!("socket error: {err}"),
                    None => "the server closed the socket".to_owned(),
                    Some(Ok(WsMessage::Binary(frame))) => {
                        let heartbeat_answer = matches!(
                            Message::decode(&frame),
                            Ok(Message::DocUnavailable { document_id, .. }) if document_id == HEARTBEAT_DOCUMENT
                        );
                        if heartbeat_answer && let Some((answer, sent)) = waking.take() {
                            let _ = answer.send(Ok(sent.elapsed()));
                        }
                        continue;
                    }
                    Some(Ok(_)) => continue,
                };
                if let Some((answer, _)) = waking.take() {
                    let _ = answer.send(Err(reason.clone()));
                }
                dropped.fetch_add(1, Ordering::Relaxed);
                first_drop
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .get_or_insert(reason);
                return;
            }
            Some(answer) = woken.recv(), if waking.is_none() => {
                let Some(frame) = client.heartbeat() else {
                    let _ = answer.send(Err("no handshake".to_owned()));
                    continue;
                };
                let sent = Instant::now();
                if let Err(err) = socket.send(WsMessage::Binary(frame.into())).await {
                    let _ = answer.send(Err(format!("send heartbeat: {err}")));
                    continue;
                }
                waking = Some((answer, sent));
            }
            _ = stop.changed() => {
                let _ = tokio::time::timeout(Duration::from_secs(5), socket.close(None)).await;
                return;
            }
        }
    }
}

/// The kernel's slab memory (`Slab:` in `/proc/meminfo`, KiB).
fn slab_kib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|line| line.starts_with("Slab:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The kernel's memory for TCP (`/proc/net/sockstat`, the `mem` of its `TCP:` line, in pages).
fn tcp_memory_pages() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = text.lines().find(|line| line.starts_with("TCP:"))?;
    let mut words = line.split_whitespace();
    while let Some(word) = words.next() {
        if word == "mem" {
            return words.next()?.parse().ok();
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// /proc: CPU time and memory.

/// `getconf CLK_TCK`, else Linux's usual 100.
fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process (`self` or a pid), in clock ticks.
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis,
    // where field 3 (state) is the first; utime and stime are fields 14 and 15.
    let (_, after) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy time of every core of the machine (user, nice, system, irq, softirq, steal), in ticks.
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let values: Vec<u64> = line
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal …
    Some(
        [0, 1, 2, 5, 6, 7]
            .iter()
            .filter_map(|&i| values.get(i))
            .sum(),
    )
}

fn cpu_ms(before: Option<u64>, after: Option<u64>, ticks: f64) -> Cpu {
    Cpu(before
        .zip(after)
        .map(|(b, a)| a.saturating_sub(b) as f64 * 1000.0 / ticks))
}

#[derive(Debug, Clone, Copy, Default)]
struct Status {
    rss_kib: Option<u64>,
    hwm_kib: Option<u64>,
}

/// VmRSS and VmHWM of a process.
fn process_status(pid: u32) -> Option<Status> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    };
    Some(Status {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
    })
}

/// How busy all cores are over `sample`, in percent.
async fn machine_busy_percent(sample: Duration, ticks: f64) -> Option<f64> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let before = machine_busy_ticks();
    tokio::time::sleep(sample).await;
    let Cpu(ms) = cpu_ms(before, machine_busy_ticks(), ticks);
    ms.map(|ms| ms / 10.0 / sample.as_secs_f64() / cores)
}

/// This process's soft limit on open files.
fn open_files_limit() -> Option<String> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3).map(str::to_owned)
}

// ---------------------------------------------------------------------------------------------
// The report.

fn mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| k as f64 / 1024.0)
}

/// Nearest-rank percentile of sorted samples, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    Some(sorted[index].as_secs_f64() * 1000.0)
}

fn show(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.decimals$}"))
}

fn verdict(value: Option<f64>, target: f64) -> &'static str {
    match value {
        Some(v) if v <= target => "met",
        Some(_) => "NOT met",
        None => "n/a",
    }
}

fn load_table(settings: &Settings, loads: &[Load], cores: usize, reference: f64) -> String {
    let mut out = String::new();
    let expected = settings.clients * settings.docs * settings.changes;
    let _ = writeln!(
        out,
        "sync load: {} clients × {} documents × {} changes = {expected} changes per backend, \
         one websocket per client, each client waiting for the acknowledgement (the change is \
         committed) and then {} ms before its next change.",
        settings.clients,
        settings.docs,
        settings.changes,
        settings.pause.as_millis()
    );
    let _ = writeln!(
        out,
        "The bench's own clients share the {cores} cores with the server (and PostgreSQL): \
         see the bench and other CPU rows."
    );
    let _ = writeln!(
        out,
        "Machine reference: automerge applies one of these changes in {reference:.1} µs here \
         (best of {REFERENCE_ROUNDS} rounds of {} changes, measured before the servers start). \
         Machines of the same kind differed by up to 1.7× in this project: compare CPU figures from \
         different machines through it.",
        REFERENCE_DOCS * REFERENCE_CHANGES
    );
    let _ = writeln!(out);
    let mut rows: Vec<(String, Vec<String>, String)> = Vec::new();
    let mut row = |label: &str, target: &str, value: &dyn Fn(&Run) -> String| {
        let cells = loads
            .iter()
            .map(|load| match &load.outcome {
                Outcome::Ran(run) => value(run),
                Outcome::Skipped(_) => "skipped".to_owned(),
            })
            .collect();
        rows.push((label.to_owned(), cells, target.to_owned()));
    };
    let sorted = |run: &Run| {
        let mut latencies = run.latencies.clone();
        latencies.sort();
        latencies
    };
    let per_change = |cpu: Cpu, run: &Run| {
        let n = run.latencies.len();
        cpu.0.filter(|_| n > 0).map(|ms| ms / n as f64)
    };
    row("clients ready after setup", "", &|run| {
        format!("{}/{}", run.clients_ready, settings.clients)
    });
    row("setup (connect + create docs)", "", &|run| {
        format!("{:.1} s", run.setup.as_secs_f64())
    });
    row("acknowledged changes", "", &|run| {
        format!("{}/{expected}", run.latencies.len())
    });
    row("measured phase", "", &|run| {
        format!("{:.2} s", run.measured.as_secs_f64())
    });
    row("throughput (acked changes/s)", "", &|run| {
        let seconds = run.measured.as_secs_f64();
        show(
            (seconds > 0.0).then(|| run.latencies.len() as f64 / seconds),
            0,
        )
    });
    row("latency p50 (ms)", "", &|run| {
        show(percentile_ms(&sorted(run), 50.0), 1)
    });
    row("latency p95 (ms)", &format!("≤ {TARGET_P95_MS}"), &|run| {
        let p95 = percentile_ms(&sorted(run), 95.0);
        format!("{} {}", show(p95, 1), verdict(p95, TARGET_P95_MS))
    });
    row("latency p99 (ms)", "", &|run| {
        show(percentile_ms(&sorted(run), 99.0), 1)
    });
    row("latency max (ms)", "", &|run| {
        show(percentile_ms(&sorted(run), 100.0), 1)
    });
    row(
        "server CPU per change (ms)",
        &format!("≤ {TARGET_CPU_MS_PER_CHANGE}"),
        &|run| {
            let value = per_change(run.server_cpu, run);
            format!(
                "{} {}",
                show(value, 3),
                verdict(value, TARGET_CPU_MS_PER_CHANGE)
            )
        },
    );
    row("server CPU, measured phase (ms)", "", &|run| {
        show(run.server_cpu.0, 0)
    });
    row("bench CPU per change (ms)", "", &|run| {
        show(per_change(run.bench_cpu, run), 3)
    });
    row("other CPU per change (ms)*", "", &|run| {
        let other = match (run.machine_cpu.0, run.server_cpu.0, run.bench_cpu.0) {
            (Some(all), Some(server), Some(bench)) => Cpu(Some((all - server - bench).max(0.0))),
            _ => Cpu(None),
        };
        show(per_change(other, run), 3)
    });
    row("machine CPU busy (of all cores)", "", &|run| {
        let seconds = run.measured.as_secs_f64();
        show(
            run.machine_cpu
                .0
                .filter(|_| seconds > 0.0)
                .map(|ms| ms / 10.0 / seconds / cores as f64),
            0,
        ) + " %"
    });
    row("machine busy before, bench idle (1 s)", "", &|run| {
        show(run.busy_before_percent, 0) + " %"
    });
    row(
        "server peak memory VmHWM (MiB)",
        &format!("≤ {TARGET_PEAK_MIB}"),
        &|run| {
            let peak = mib(run.server_hwm_kib);
            format!("{} {}", show(peak, 1), verdict(peak, TARGET_PEAK_MIB))
        },
    );
    row("server VmRSS after setup (MiB)", "", &|run| {
        show(mib(run.server_rss_after_setup_kib), 1)
    });
    row("server VmRSS at the end (MiB)", "", &|run| {
        show(mib(run.server_rss_kib), 1)
    });
    row("server VmRSS after clients left (MiB)", "", &|run| {
        show(mib(run.server_rss_after_disconnect_kib), 1)
    });
    row("client failures", "", &|run| {
        run.failures.values().sum::<usize>().to_string()
    });

    let headers: Vec<&str> = loads
        .iter()
        .map(|load| backend_name(load.backend))
        .collect();
    let label_width = rows
        .iter()
        .map(|(l, ..)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for (_, cells, _) in &rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |label: &str, cells: &[String], target: &str| {
        let mut text = format!("{label:<label_width$}");
        for (cell, width) in cells.iter().zip(&widths) {
            let _ = write!(text, " | {cell:>width$}");
        }
        let _ = write!(text, " | {target}");
        text.trim_end().to_owned()
    };
    let header_cells: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let _ = writeln!(out, "{}", line("", &header_cells, "target"));
    let _ = writeln!(
        out,
        "{}",
        "-".repeat(label_width + widths.iter().map(|w| w + 3).sum::<usize>() + 9)
    );
    for (label, cells, target) in &rows {
        let _ = writeln!(out, "{}", line(label, cells, target));
    }
    let _ = writeln!(
        out,
        "* other: the machine's busy time minus the server's and the bench's: PostgreSQL, \
         kernel threads, interrupts (disk flushes, loopback networking), anything else running."
    );
    for load in loads {
        let name = backend_name(load.backend);
        match &load.outcome {
            Outcome::Skipped(reason) => {
                let _ = writeln!(out, "{name}: skipped: {reason}");
            }
            Outcome::Ran(run) => {
                for (reason, count) in &run.failures {
                    let _ = writeln!(out, "{name}: {count} client(s) failed: {reason}");
                }
            }
        }
    }
    out
}

/// Growth of VmRSS per connection, in KiB.
/// How many KiB of resident memory each of `connections` added between two readings.
fn per_connection_kib(
    before: Option<Status>,
    during: Option<Status>,
    connections: usize,
) -> Option<f64> {
    let before = before.and_then(|s| s.rss_kib);
    let during = during.and_then(|s| s.rss_kib);
    before
        .zip(during)
        .filter(|_| connections > 0)
        .map(|(b, d)| d.saturating_sub(b) as f64 / connections as f64)
}

fn idle_table(idle: &Idle) -> String {
    let mut out = String::new();
    let held = idle.opened.saturating_sub(idle.dropped);
    let _ = writeln!(
        out,
        "idle connections (one server, SQLite, {}; joined and silent, pings answered; from {} source addresses):",
        if idle.open_mode && idle.doc_kib > 0 {
            format!(
                "open mode, each first {} a {} KiB document",
                if idle.doc_sent { "sent" } else { "fetched" },
                idle.doc_kib
            )
        } else if idle.open_mode {
            "open mode".to_owned()
        } else {
            format!("each with its own session, {} users", idle.users)
        },
        idle.sources
    );
    let server_kib = per_connection_kib(idle.before, idle.held, held);
    // What every station phone of the country would take: the server before any connection,
    // plus 100,000 times what one held connection added.
    let country = server_kib
        .zip(idle.before.and_then(|s| s.rss_kib))
        .map(|(per, base)| (base as f64 + per * COUNTRY_CONNECTIONS) * 1024.0);
    let wake = |q: f64| {
        (!idle.wake_ms.is_empty()).then(|| {
            let rank = (q * idle.wake_ms.len() as f64).ceil() as usize;
            format!("{:.1}", idle.wake_ms[rank.clamp(1, idle.wake_ms.len()) - 1])
        })
    };
    let over_target = idle
        .wake_ms
        .iter()
        .filter(|&&ms| ms > TARGET_WAKE_MS)
        .count();
    let rows: Vec<(&str, String)> = vec![
        ("requested", idle.requested.to_string()),
        (
            "opened (join → peer done)",
            format!("{} in {:.1} s", idle.opened, idle.open_time.as_secs_f64()),
        ),
        ("failed attempts", idle.failures.to_string()),
        ("dropped by the server while held", idle.dropped.to_string()),
        ("held", held.to_string()),
        (
            "server VmRSS before (MiB)",
            show(mib(idle.before.and_then(|s| s.rss_kib)), 1),
        ),
        (
            "server VmRSS while held (MiB)",
            show(mib(idle.held.and_then(|s| s.rss_kib)), 1),
        ),
        (
            "server VmHWM while held (MiB)",
            format!(
                "{} (target ≤ {TARGET_IDLE_MIB} for 10,000: {})",
                show(mib(idle.held.and_then(|s| s.hwm_kib)), 1),
                verdict(mib(idle.held.and_then(|s| s.hwm_kib)), TARGET_IDLE_MIB)
            ),
        ),
        ("server RSS per held connection (KiB)", show(server_kib, 1)),
        (
            "projected for 100,000 (GB)",
            format!(
                "{} (target ≤ {:.1}: {})",
                show(country.map(|b| b / 1e9), 2),
                TARGET_COUNTRY_BYTES / 1e9,
                verdict(country, TARGET_COUNTRY_BYTES)
            ),
        ),
        (
            "kernel TCP memory, before → held (pages)",
            format!(
                "{} → {}",
                idle.tcp_pages_before
                    .map_or("?".to_owned(), |p| p.to_string()),
                idle.tcp_pages_held
                    .map_or("?".to_owned(), |p| p.to_string())
            ),
        ),
        (
            "kernel slab per held connection, both ends (KiB)",
            show(
                idle.slab_kib_before
                    .zip(idle.slab_kib_held)
                    .filter(|_| held > 0)
                    .map(|(b, h)| h.saturating_sub(b) as f64 / held as f64),
                1,
            ),
        ),
        (
            "bench RSS per held connection (KiB)*",
            show(
                per_connection_kib(idle.bench_before, idle.bench_held, held),
                1,
            ),
        ),
        (
            "woken: heartbeat → answer p50/p99/max (ms)",
            format!(
                "{} / {} / {} of {} answered, {} unanswered",
                wake(0.50).unwrap_or_else(|| "?".to_owned()),
                wake(0.99).unwrap_or_else(|| "?".to_owned()),
                idle.wake_ms
                    .last()
                    .map_or("?".to_owned(), |ms| format!("{ms:.1}")),
                idle.wake_ms.len(),
                idle.wake_unanswered
            ),
        ),
        (
            "woken: answered later than 1 s",
            format!(
                "{over_target} (target 0: {})",
                if idle.wake_ms.is_empty() || idle.wake_unanswered > 0 {
                    "not met (some unanswered)"
                } else if over_target == 0 {
                    "met"
                } else {
                    "not met"
                }
            ),
        ),
        (
            "server VmRSS after closing them (MiB)",
            show(mib(idle.after_close.and_then(|s| s.rss_kib)), 1),
        ),
    ];
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in rows {
        let _ = writeln!(out, "  {label:<width$}  {value}");
    }
    let _ = writeln!(
        out,
        "  * the client side of the same sockets (tokio-tungstenite with 4 KiB read buffers)"
    );
    if let Some(reason) = &idle.first_failure {
        let _ = writeln!(out, "  first failure: {reason}");
    }
    if let Some(reason) = &idle.first_drop {
        let _ = writeln!(out, "  first drop: {reason}");
    }
    if held < idle.requested {
        let _ = writeln!(
            out,
            "  NOT all {} held: the highest count reached is {held}",
            idle.requested
        );
    }
    out
}
