//! Benchmark (not a test): our sync server side by side with the official
//! `@automerge/automerge-repo-sync-server` (npm, pinned in `tests/e2e/package.json`), both driven
//! by the official JavaScript clients (`tests/e2e/official_bench.mjs`: `@automerge/automerge`
//! over `ws` with the documented protocol, and automerge-repo's `Repo` with its websocket
//! adapter). Runs are interleaved: for each pair and client mode, the official server, then
//! `tramyte serve --open --no-demo` on each backend, each a fresh process with fresh storage.
//! Prints every run (acknowledged changes/s, change→acknowledgement p50/p95/p99, server CPU per
//! acknowledged change from /proc/<pid>/stat, server VmHWM, the Node client's own CPU, sync
//! messages and bytes per change each way, the load average), then the ratios ours/official of
//! the medians. First, in-process and before any server starts: what automerge takes to apply
//! one of these changes (as the server does with each one it receives) when the official
//! client made it (`tests/e2e/official_changes.mjs`) and when automerge in Rust made the same
//! edit (as our bench's clients do), best of several rounds.
//!
//! Needs `cd tests/e2e && npm ci` and a release server:
//! `cargo build --release -p tramyte-server --bin tramyte`, then
//! `TRAMYTE_BIN=$CARGO_TARGET_DIR/release/tramyte cargo bench -p tramyte-tests --bench official`.
//! Knobs (environment): `OFFICIAL_BENCH_CLIENTS` (200), `OFFICIAL_BENCH_DOCS` (5),
//! `OFFICIAL_BENCH_CHANGES` (10), `OFFICIAL_BENCH_MODES` (`raw,repo`), `OFFICIAL_BENCH_BACKENDS`
//! (`sqlite,postgres`), `OFFICIAL_BENCH_PAIRS` (2), `OFFICIAL_BENCH_TIMEOUT_SECS` (300, the bound
//! of each phase of a run; a whole run is bounded by twice that plus a minute).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tramyte_tests::Backend;
use tramyte_tests::process::{ServerProcess, tramyte_binary};
use tramyte_tests::server::{TempDir, TestDatabase};

#[derive(Debug, Clone)]
struct Settings {
    clients: usize,
    docs: usize,
    changes: usize,
    modes: Vec<String>,
    backends: Vec<Backend>,
    pairs: usize,
    timeout: Duration,
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

fn list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        let backends = list("OFFICIAL_BENCH_BACKENDS", "sqlite,postgres")
            .iter()
            .map(|name| match name.as_str() {
                "sqlite" => Ok(Backend::Sqlite),
                "postgres" | "postgresql" => Ok(Backend::Postgres),
                other => Err(format!(
                    "OFFICIAL_BENCH_BACKENDS: unknown backend {other:?}"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let modes = list("OFFICIAL_BENCH_MODES", "raw,repo");
        if let Some(mode) = modes.iter().find(|m| *m != "raw" && *m != "repo") {
            return Err(format!(
                "OFFICIAL_BENCH_MODES: unknown mode {mode:?} (raw, repo)"
            ));
        }
        Ok(Settings {
            clients: number("OFFICIAL_BENCH_CLIENTS", 200)?,
            docs: number("OFFICIAL_BENCH_DOCS", 5)?,
            changes: number("OFFICIAL_BENCH_CHANGES", 10)?,
            modes,
            backends,
            pairs: number("OFFICIAL_BENCH_PAIRS", 2)?.max(1),
            timeout: Duration::from_secs(number("OFFICIAL_BENCH_TIMEOUT_SECS", 300)?.max(1) as u64),
        })
    }
}

/// Which server a run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Official,
    Ours(Backend),
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Official => "official",
            Server::Ours(Backend::Sqlite) => "tramyte sqlite",
            Server::Ours(Backend::Postgres) => "tramyte postgres",
        }
    }
}

#[derive(Debug)]
struct Run {
    pair: usize,
    mode: String,
    server: Server,
    /// The Node client's JSON line, or why there is none.
    result: Result<Value, String>,
}

fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

#[tokio::main]
async fn main() -> ExitCode {
    if !std::env::args().any(|arg| arg == "--bench") {
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("official: {err}");
            return ExitCode::from(2);
        }
    };
    if !e2e_dir()
        .join("node_modules/@automerge/automerge-repo-sync-server")
        .exists()
    {
        eprintln!("official: run `cd tests/e2e && npm ci` first");
        return ExitCode::from(2);
    }
    eprintln!(
        "official: our server {}, {} cores",
        tramyte_binary().display(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let apply = apply_reference().await;
    match &apply {
        Ok(apply) => eprintln!("official: {}", apply.line()),
        Err(err) => eprintln!("official: apply reference skipped: {err}"),
    }
    let mut runs = Vec::new();
    for pair in 1..=settings.pairs {
        for mode in &settings.modes {
            runs.push(Run {
                pair,
                mode: mode.clone(),
                server: Server::Official,
                result: official_run(&settings, mode).await,
            });
            for &backend in &settings.backends {
                runs.push(Run {
                    pair,
                    mode: mode.clone(),
                    server: Server::Ours(backend),
                    result: our_run(&settings, mode, backend).await,
                });
            }
        }
    }
    println!();
    if let Ok(apply) = &apply {
        println!("{}", apply.line());
    }
    println!("{}", report(&settings, &runs));
    if runs.iter().all(|run| {
        run.result
            .as_ref()
            .is_ok_and(|v| v["failures"].as_object().is_some_and(|f| f.is_empty()))
    }) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The official server on a free port of 127.0.0.1 with a temporary storage directory.
async fn official_run(settings: &Settings, mode: &str) -> Result<Value, String> {
    let storage = TempDir::new("official-sync-server");
    let mut child = Command::new("node")
        .arg("official_server.mjs")
        .current_dir(e2e_dir())
        .env("PORT", "0")
        .env("DATA_DIR", &storage.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("start the official server: {err}"))?;
    let pid = child.id().ok_or("the official server has no pid")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("official sync server listening on ") {
                return Some(url.trim().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or("the official server did not start within 30 s")?;
    // Its further output is read and dropped, so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    eprintln!("official: {mode} clients against the official server at {url} …");
    let result = clients(settings, mode, &url, pid).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    drop(storage);
    result
}

async fn our_run(settings: &Settings, mode: &str, backend: Backend) -> Result<Value, String> {
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
    let pid = server.child.id().ok_or("our server has no pid")?;
    let url = format!("{}/sync", server.url.replacen("http://", "ws://", 1));
    eprintln!(
        "official: {mode} clients against tramyte ({}) at {url} …",
        Server::Ours(backend).name()
    );
    let result = clients(settings, mode, &url, pid).await;
    server.kill().await;
    drop(database);
    result
}

/// Runs `official_bench.mjs` against `url`; its JSON line.
async fn clients(settings: &Settings, mode: &str, url: &str, pid: u32) -> Result<Value, String> {
    let mut child = Command::new("node")
        .arg("official_bench.mjs")
        .current_dir(e2e_dir())
        .env("OFFICIAL_BENCH_URL", url)
        .env("OFFICIAL_BENCH_MODE", mode)
        .env("OFFICIAL_BENCH_CLIENTS", settings.clients.to_string())
        .env("OFFICIAL_BENCH_DOCS", settings.docs.to_string())
        .env("OFFICIAL_BENCH_CHANGES", settings.changes.to_string())
        .env(
            "OFFICIAL_BENCH_TIMEOUT_SECS",
            settings.timeout.as_secs().to_string(),
        )
        .env("OFFICIAL_BENCH_SERVER_PID", pid.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("start node: {err}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let bound = settings.timeout * 2 + Duration::from_secs(60);
    let output = tokio::time::timeout(bound, async {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        let _ = child.wait().await;
        text
    })
    .await
    .map_err(|_| format!("the clients did not finish within {} s", bound.as_secs()))?;
    let line = output
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or_else(|| format!("no result line from the clients: {output:?}"))?;
    serde_json::from_str(line).map_err(|err| format!("unreadable result {line:?}: {err}"))
}

// ---------------------------------------------------------------------------------------------
// What one change costs automerge to apply, by who made it.

const REFERENCE_DOCS: usize = 100;
const REFERENCE_CHANGES: usize = 10;
const REFERENCE_ROUNDS: usize = 15;

/// Documents (saved first version, raw changes) to apply.
type Sources = Vec<(Vec<u8>, Vec<Vec<u8>>)>;

#[derive(Debug)]
struct ApplyReference {
    official_us: f64,
    official_bytes: f64,
    rust_us: f64,
    rust_bytes: f64,
    /// The Rust edits applied to the official client's first versions.
    rust_on_official_us: f64,
}

impl ApplyReference {
    fn line(&self) -> String {
        format!(
            "apply reference (in-process, best of {REFERENCE_ROUNDS} rounds of {} changes): a \
             change made by the official client {:.1} µs ({:.0} bytes), the same edit made by \
             automerge in Rust {:.1} µs ({:.0} bytes), ratio {:.2}; the Rust edit on the \
             official client's first version {:.1} µs",
            REFERENCE_DOCS * REFERENCE_CHANGES,
            self.official_us,
            self.official_bytes,
            self.rust_us,
            self.rust_bytes,
            self.official_us / self.rust_us,
            self.rust_on_official_us
        )
    }
}

async fn apply_reference() -> Result<ApplyReference, String> {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new("node")
            .arg("official_changes.mjs")
            .arg(REFERENCE_DOCS.to_string())
            .arg(REFERENCE_CHANGES.to_string())
            .current_dir(e2e_dir())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| "official_changes.mjs took over 60 s".to_owned())?
    .map_err(|err| format!("start node: {err}"))?;
    let value: Value = serde_json::from_slice(&output.stdout)
        .map_err(|err| format!("official_changes.mjs: {err}"))?;
    let official: Sources = value
        .as_array()
        .ok_or("official_changes.mjs: not a list")?
        .iter()
        .map(|doc| {
            let base = unhex(doc["base"].as_str().unwrap_or_default())?;
            let changes = doc["changes"]
                .as_array()
                .ok_or("no changes")?
                .iter()
                .map(|c| unhex(c.as_str().unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((base, changes))
        })
        .collect::<Result<_, String>>()?;
    let rust: Sources = (0..REFERENCE_DOCS)
        .map(|doc| {
            let mut source = AutoCommit::new();
            source
                .put(automerge::ROOT, "title", format!("Trạm Y tế xã 0-{doc}"))
                .expect("title");
            source.put(automerge::ROOT, "zone", 1).expect("zone");
            source
                .put_object(automerge::ROOT, "note", ObjType::Text)
                .expect("note");
            source.commit();
            let base = source.save();
            let changes = rust_edits(&mut source);
            (base, changes)
        })
        .collect();
    // The same Rust edits on the official client's first versions: separates the change from
    // the document it is applied to.
    let rust_on_official: Sources = official
        .iter()
        .map(|(base, _)| {
            let mut source = AutoCommit::load(base).map_err(|err| err.to_string())?;
            Ok((base.clone(), rust_edits(&mut source)))
        })
        .collect::<Result<_, String>>()?;
    // Alternated, so that all see the same machine (this machine is shared: best of many rounds).
    let (mut official_us, mut rust_us, mut rust_on_official_us) =
        (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..REFERENCE_ROUNDS {
        official_us = official_us.min(apply_all(&official)?);
        rust_us = rust_us.min(apply_all(&rust)?);
        rust_on_official_us = rust_on_official_us.min(apply_all(&rust_on_official)?);
    }
    let mean_bytes = |sources: &Sources| {
        let changes: Vec<&Vec<u8>> = sources.iter().flat_map(|(_, c)| c).collect();
        changes.iter().map(|c| c.len()).sum::<usize>() as f64 / changes.len().max(1) as f64
    };
    Ok(ApplyReference {
        official_us,
        official_bytes: mean_bytes(&official),
        rust_us,
        rust_bytes: mean_bytes(&rust),
        rust_on_official_us,
    })
}

/// The bench's K edits (a score, a few words appended to the note), made by automerge in Rust;
/// their raw bytes.
fn rust_edits(source: &mut AutoCommit) -> Vec<Vec<u8>> {
    (0..REFERENCE_CHANGES)
        .map(|change| {
            source
                .put(
                    automerge::ROOT,
                    format!("score_{}", change % 10),
                    format!("{}.5", change % 3),
                )
                .expect("score");
            let (_, note) = source
                .get(automerge::ROOT, "note")
                .expect("read")
                .expect("the note");
            let length = source.length(&note);
            source
                .splice_text(&note, length, 0, "đã kiểm tra; ")
                .expect("append");
            let hash = source.commit().expect("a change");
            source
                .get_change_by_hash(&hash)
                .expect("the change")
                .raw_bytes()
                .to_vec()
        })
        .collect()
}

/// Microseconds per change to apply every document's changes to a copy of its first version.
fn apply_all(sources: &Sources) -> Result<f64, String> {
    let mut copies = sources
        .iter()
        .map(|(base, _)| AutoCommit::load(base).map_err(|err| err.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let count: usize = sources.iter().map(|(_, c)| c.len()).sum();
    let start = Instant::now();
    for (copy, (_, changes)) in copies.iter_mut().zip(sources) {
        for bytes in changes {
            copy.load_incremental(bytes)
                .map_err(|err| err.to_string())?;
        }
    }
    let took = start.elapsed().as_secs_f64() * 1e6 / count.max(1) as f64;
    for (copy, (_, changes)) in copies.iter_mut().zip(sources) {
        if copy.get_changes(&[]).len() != changes.len() + 1 {
            return Err("a change was not applied".to_owned());
        }
    }
    Ok(took)
}

fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err("odd hex length".to_owned());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|err| err.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The report.

fn field(value: &Value, name: &str) -> Option<f64> {
    value.get(name).and_then(Value::as_f64)
}

/// Per acknowledged change, from the measured phase's message counters.
fn per_change(value: &Value, name: &str) -> Option<f64> {
    let acked = field(value, "acked").filter(|n| *n > 0.0)?;
    value["measuredMessages"][name].as_f64().map(|v| v / acked)
}

fn show(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.decimals$}"))
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// What one column reads from a run's result.
type Get = fn(&Value) -> Option<f64>;

type Column = (&'static str, Get, usize);

const COLUMNS: [Column; 13] = [
    ("acked/s", |v| field(v, "changesPerSecond"), 0),
    ("p50 ms", |v| field(v, "p50"), 1),
    ("p95 ms", |v| field(v, "p95"), 1),
    ("p99 ms", |v| field(v, "p99"), 1),
    ("srv CPU ms/chg", |v| field(v, "serverCpuMsPerChange"), 3),
    (
        "srv VmHWM MiB",
        |v| field(v, "serverHwmKib").map(|k| k / 1024.0),
        1,
    ),
    (
        "client CPU ms/chg",
        |v| Some(field(v, "clientCpuMs")? / field(v, "acked").filter(|n| *n > 0.0)?),
        3,
    ),
    ("msgs sent/chg", |v| per_change(v, "sent"), 2),
    ("msgs recv/chg", |v| per_change(v, "received"), 2),
    ("B sent/chg", |v| per_change(v, "sentBytes"), 0),
    ("B recv/chg", |v| per_change(v, "receivedBytes"), 0),
    ("have/chg", |v| per_change(v, "haveEntries"), 2),
    ("acked", |v| field(v, "acked"), 0),
];

fn report(settings: &Settings, runs: &[Run]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "official clients: {} clients × {} documents × {} changes per run, one websocket per \
         client, each change timed from the edit to the server's sync message whose heads \
         include it (ours sends it once the change is committed; the official server once it is \
         in memory). Runs interleaved, each server a fresh process with fresh storage; the \
         Node clients share the cores with the server: see client CPU.",
        settings.clients, settings.docs, settings.changes
    );
    let _ = writeln!(out);
    let mut header = format!("{:<4} {:<5} {:<17}", "pair", "mode", "server");
    for (name, _, _) in COLUMNS {
        let _ = write!(header, " | {name:>9}");
    }
    let _ = write!(header, " | load avg before → after");
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "{}", "-".repeat(header.chars().count()));
    for run in runs {
        let mut line = format!("{:<4} {:<5} {:<17}", run.pair, run.mode, run.server.name());
        match &run.result {
            Ok(value) => {
                for (_, get, decimals) in COLUMNS {
                    let _ = write!(line, " | {:>9}", show(get(value), decimals));
                }
                let _ = write!(
                    line,
                    " | {} → {}",
                    value["loadBefore"].as_str().unwrap_or("n/a"),
                    value["loadAfter"].as_str().unwrap_or("n/a")
                );
                if let Some(failures) = value["failures"].as_object().filter(|f| !f.is_empty()) {
                    let _ = write!(line, " | FAILURES {failures:?}");
                }
            }
            Err(reason) => {
                let _ = write!(line, " | FAILED: {reason}");
            }
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "ratios ours/official of the medians over the pairs:");
    let ratios: [(&str, Get); 5] = [
        ("server CPU per change", COLUMNS[4].1),
        ("server peak memory", COLUMNS[5].1),
        ("p95", COLUMNS[2].1),
        ("p50", COLUMNS[1].1),
        ("acked changes/s", COLUMNS[0].1),
    ];
    for mode in &settings.modes {
        let values = |server: Server, get: Get| {
            median(
                runs.iter()
                    .filter(|r| r.server == server && &r.mode == mode)
                    .filter_map(|r| r.result.as_ref().ok().and_then(get))
                    .collect(),
            )
        };
        for &backend in &settings.backends {
            let mut line = format!("  {mode:<5} {:<17}", Server::Ours(backend).name());
            for (name, get) in ratios {
                let ratio = values(Server::Ours(backend), get)
                    .zip(values(Server::Official, get))
                    .filter(|(_, official)| *official > 0.0)
                    .map(|(ours, official)| ours / official);
                let _ = write!(line, "  {name} {}", show(ratio, 2));
            }
            let _ = writeln!(out, "{line}");
        }
    }
    out
}
