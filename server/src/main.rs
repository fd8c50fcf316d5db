//! The `tramyte` binary: a thin shell around the server library.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use tramyte_server::config::{Cli, Command};
use tramyte_server::http::assets;
use tramyte_server::{Application, Config, app, cli, demo, store, telemetry};

/// jemalloc instead of the system allocator: automerge's apply and the sync path allocate many
/// short-lived buffers larger than glibc's per-thread caches take, and glibc spent about a
/// seventh of the server's CPU per change in `malloc`/`free`. Measured with the sync benchmark
/// (5 interleaved pairs): 11% less server CPU per change, p95 lower, peak memory 4 MiB higher
/// (docs/measurements.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("tramyte: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(Config::from(args)).await,
            Command::Catalog(command) => cli::catalog(command, &mut std::io::stdout().lock()).await,
            Command::Doc(command) => cli::doc(command, &mut std::io::stdout().lock()).await,
            Command::Units(command) => cli::units(command, &mut std::io::stdout().lock()).await,
            Command::User(command) => cli::user(command, &mut std::io::stdout().lock()).await,
            Command::Round(command) => cli::round(command, &mut std::io::stdout().lock()).await,
            Command::Backup { to, database } => {
                cli::backup(&database, &to, &mut std::io::stdout().lock()).await
            }
            Command::Restore {
                from,
                check,
                database,
            } => cli::restore(&database, &from, check, &mut std::io::stdout().lock()).await,
            Command::Demo { database } => cli::demo(&database, &mut std::io::stdout().lock()).await,
            Command::Files(command) => cli::files(command, &mut std::io::stdout().lock()).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tramyte: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout as clap writes them; a usage error is one line and exit 2.
fn usage_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("tramyte: {first} (see 'tramyte --help')");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    if config.open {
        for _ in 0..3 {
            tracing::warn!(
                "OPEN MODE: any client may create and read any document WITHOUT SIGNING IN. Development only."
            );
        }
    }
    match app::raise_open_files_limit() {
        Some(limit) if limit < app::OPEN_FILES_WANTED => tracing::warn!(
            limit,
            "open files are limited to {limit}: each phone's websocket takes one, so at most about \
             {} phones can be connected at once; raise the hard limit (systemd LimitNOFILE=, \
             ulimit -Hn) for more",
            limit.saturating_sub(200)
        ),
        Some(limit) => tracing::info!(limit, "open files limit"),
        None => {}
    }
    let database = store::redact(&config.database_url);
    let demo_on_empty = config.demo_on_empty;
    let metrics_by_token = config.metrics_token.is_some();
    let application = Application::build(config)
        .await
        .map_err(|err| err.to_string())?;
    if !assets::pwa_is_built() {
        tracing::warn!(
            "the web app is not built into this server; build it with `cargo xtask run`"
        );
    }
    // First start on an empty database: the demo, so there is something to look at.
    let store = application.store();
    if demo_on_empty
        && demo::database_is_empty(store)
            .await
            .map_err(|err| err.to_string())?
    {
        let loaded = demo::load(store, false, store::now_millis())
            .await
            .map_err(|err| format!("loading the demo: {err}"))?;
        cli::print_demo(&loaded, &mut std::io::stdout().lock())?;
    }
    let addr = application.local_addr();
    tracing::info!(%addr, database = %database, kind = application.store().kind(), "tramyte is serving");
    println!("tramyte is serving on http://{addr}/ (database: {database})");
    match application.metrics_addr() {
        Some(metrics) => println!("tramyte serves its metrics on http://{metrics}/metrics"),
        None if metrics_by_token => {
            println!("tramyte serves its metrics on http://{addr}/metrics with the metrics token")
        }
        None => tracing::info!(
            "metrics are not served (set --metrics-addr or --metrics-token to serve them)"
        ),
    }
    application
        .run_until_stopped(app::shutdown_signal())
        .await
        .map_err(|err| err.to_string())
}
