//! Command line and configuration: every flag also reads a `TRAMYTE_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The `tramyte` command line.
#[derive(Debug, Parser)]
#[command(
    name = "tramyte",
    version,
    about = "tramyte: commune health station assessments (Bộ tiêu chí quốc gia về y tế xã), offline-first",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    /// Log format: readable text or one JSON object per line.
    #[arg(long, global = true, env = "TRAMYTE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// What the binary is asked to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app, the REST API and the sync websocket.
    Serve(ServeArgs),
    /// Check, import, list and show criteria catalogs (bộ tiêu chí).
    #[command(subcommand)]
    Catalog(CatalogCommand),
}

/// `tramyte catalog …`
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Validate a catalog file and list every problem, without touching any database.
    Check {
        /// The catalog file (JSON, see docs/catalog-format.md).
        file: PathBuf,
    },
    /// Validate a catalog file and, only if it is valid as a whole, store it as a new revision.
    Import {
        /// The catalog file (JSON, see docs/catalog-format.md).
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the newest revision of every catalog (shipped and imported).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Show one catalog: criteria, indicators, points and the pass rule.
    Show {
        /// The catalog code, e.g. QD1300-2023.
        code: String,
        /// A given revision instead of the newest.
        #[arg(long)]
        revision: Option<u32>,
        /// Print the catalog file format (JSON) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Which database to use; shared by every subcommand that needs one.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` (embedded, the default) or `postgres://…` (several nodes).
    /// Defaults to `sqlite://DATA_DIR/tramyte.db`.
    #[arg(long, env = "TRAMYTE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory for the embedded database and other local state; created if missing.
    #[arg(long, env = "TRAMYTE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl DatabaseArgs {
    /// The database URL, defaulting to SQLite in the data directory.
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&self.data_dir))
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Options of `tramyte serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (use port 0 for any free port).
    #[arg(long, env = "TRAMYTE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Development mode: accept any document from anyone, without authentication.
    #[arg(long, env = "TRAMYTE_OPEN")]
    pub open: bool,
}

/// Everything the server needs to start, independent of how it was given.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub open: bool,
}

impl Config {
    /// A configuration for tests and tools: any free port on 127.0.0.1, SQLite in `data_dir`.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: default_database_url(&data_dir),
            data_dir,
            open: false,
        }
    }
}

impl From<ServeArgs> for Config {
    fn from(args: ServeArgs) -> Self {
        Config {
            addr: args.addr,
            database_url: args.database.url(),
            data_dir: args.database.data_dir,
            open: args.open,
        }
    }
}

fn default_database_url(data_dir: &std::path::Path) -> String {
    crate::store::sqlite_url_in(data_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_defaults_to_sqlite_in_the_data_dir() {
        let cli = Cli::try_parse_from(["tramyte", "serve", "--data-dir", "/tmp/x"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve")
        };
        let config = Config::from(args);
        assert_eq!(config.database_url, "sqlite:///tmp/x/tramyte.db");
        assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
        assert!(!config.open);
    }

    #[test]
    fn an_unknown_flag_is_an_error() {
        assert!(Cli::try_parse_from(["tramyte", "serve", "--nope"]).is_err());
    }
}
