//! Command line and configuration: every flag also reads a `TRAMYTE_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::sync::SyncConfig;

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
    /// Create, list and show documents (for administrators and tests).
    #[command(subcommand)]
    Doc(DocCommand),
    /// Import and export organisation units (province, district, health bodies, communes, villages).
    #[command(subcommand)]
    Units(UnitsCommand),
    /// Add, list, disable, enable users and reset their passwords.
    #[command(subcommand)]
    User(UserCommand),
    /// Open an assessment round for communes (idempotent).
    #[command(subcommand)]
    Round(RoundCommand),
    /// Write a consistent copy of the embedded SQLite database to FILE, while the server runs.
    Backup {
        /// The backup file to write; must not exist.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Check a backup and restore it as the embedded SQLite database (the server must be
    /// stopped; the file it replaces is kept as `tramyte.db.before-restore`).
    Restore {
        /// The backup file to restore.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Only check the backup and say what it holds; change nothing.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Evidence files: the sweep of files no document names any more.
    #[command(subcommand)]
    Files(FilesCommand),
    /// Load the demo (Thanh Hóa, Thiệu Hóa, 13 communes, the 2024 round; fictional people) where
    /// missing, and print the demo accounts with new passwords.
    Demo {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `tramyte files …`
#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Delete every file that no document has named for the given number of days (and the
    /// parts of uploads a crash cut off), and say what was deleted.
    Sweep {
        /// Days a file no document names is kept.
        #[arg(long, env = "TRAMYTE_FILE_SWEEP_DAYS", default_value_t = crate::domain::file::DEFAULT_SWEEP_DAYS)]
        file_sweep_days: u64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Which round, criteria set (and revision) and communes `tramyte round …` acts on.
#[derive(Debug, Clone, Args)]
pub struct RoundArgs {
    /// The year.
    #[arg(long)]
    pub round: u16,
    /// The criteria set, e.g. QD1300-2023.
    #[arg(long)]
    pub catalog: String,
    /// Its revision (opening: the one to open on; moving: the one to move to); default: the
    /// newest.
    #[arg(long)]
    pub revision: Option<u32>,
    /// Commune codes (repeat or separate with commas); default: every commune.
    #[arg(long, value_delimiter = ',')]
    pub commune: Vec<String>,
}

/// `tramyte round …`
#[derive(Debug, Subcommand)]
pub enum RoundCommand {
    /// Create each commune's assessment of the round (and its roster if it has none); running
    /// it again creates nothing new.
    Open {
        #[command(flatten)]
        round: RoundArgs,
        /// Zone of a commune for the round, as CODE=ZONE (repeat); default 1.
        #[arg(long, value_delimiter = ',')]
        zone: Vec<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Move the round's open assessments (draft or returned) of a criteria set to a newer
    /// revision: scores of unchanged indicators are kept, the others must be scored again (each
    /// listed); the change is signed by `--by`. Run it while the server is stopped, or use the
    /// web app (`POST /api/rounds/move`), which also sends the change to connected phones.
    Move {
        #[command(flatten)]
        round: RoundArgs,
        /// The administrator recorded as having moved it (an existing user id).
        #[arg(long)]
        by: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `tramyte units …`
#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// Validate a units CSV whole (every problem with its line) and, only if valid, store it.
    ///
    /// Columns: code,kind,name,parent,unit_type,covers — kind is province, district,
    /// health_department, health_centre, commune or village; covers lists commune codes (;).
    Import {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print every unit as CSV, in the import format.
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `tramyte user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. Without --password-stdin a random password is generated and printed once.
    Add {
        /// Login name (3 to 64 of letters, digits, . _ - @); also what documents record.
        id: String,
        /// Name shown to people.
        #[arg(long)]
        name: String,
        /// village_health_worker, station_staff, station_head, reviewer, provincial_admin or system_admin.
        #[arg(long)]
        role: String,
        /// Unit codes the user covers (repeat or separate with commas).
        #[arg(long, value_delimiter = ',')]
        unit: Vec<String>,
        /// For a village health worker: their entry in the commune's roster.
        #[arg(long)]
        person: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List users with role, units and whether they are disabled.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Disable a user: every session of theirs ends at once.
    Disable {
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Enable a disabled user again.
    Enable {
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set a new password (ends the user's sessions). Random and printed unless --password-stdin.
    ResetPassword {
        id: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `tramyte doc …`
#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// Create a document and print its `automerge:` URL.
    ///
    /// assessment: {"commune": "16024", "catalog": "QD1300-2023", "round": 2024, "zone": 1,
    /// "unit_type": "xa"}; roster: {"commune": "16024"}; json: any JSON object, stored as is.
    Create {
        /// What the document is.
        #[arg(long, value_enum)]
        kind: DocKindArg,
        /// The JSON file describing it.
        #[arg(long)]
        json: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List every document with its kind.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print a document as JSON.
    Show {
        /// The document's `automerge:` URL or id.
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// The kinds `tramyte doc create` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocKindArg {
    Assessment,
    Roster,
    Json,
}

/// `tramyte catalog …`
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Validate a catalog file and list every problem, without touching any database.
    Check {
        /// The catalog file: JSON (see docs/catalog-format.md) or an indicator sheet (`.xlsx`,
        /// see `tramyte catalog template`).
        file: PathBuf,
    },
    /// Validate a catalog file and, only if it is valid as a whole, store it as a new revision.
    Import {
        /// The catalog file: JSON or an indicator sheet (`.xlsx`).
        file: PathBuf,
        /// The province (its unit code) a new criteria set belongs to; default: national. A
        /// revision of a known set always belongs to that set's province.
        #[arg(long, value_name = "CODE")]
        province: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write the indicator sheet template (XLSX, Vietnamese with English beside) to fill in.
    Template {
        /// The file to write.
        #[arg(long, value_name = "FILE.xlsx")]
        to: PathBuf,
    },
    /// Write a catalog as an indicator sheet (XLSX); importing it gives the same catalog.
    Export {
        /// The catalog code, e.g. QD1300-2023.
        code: String,
        /// A given revision instead of the newest.
        #[arg(long)]
        revision: Option<u32>,
        /// The file to write.
        #[arg(long, value_name = "FILE.xlsx")]
        to: PathBuf,
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

    /// Do not load the demo on the first start with an empty database (for production).
    #[arg(long, env = "TRAMYTE_NO_DEMO")]
    pub no_demo: bool,

    /// The server is reached over HTTPS (through a proxy): mark the session cookie `Secure`.
    #[arg(long, env = "TRAMYTE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Address of a reverse proxy whose `X-Forwarded-For` (the client's address, for sign-in
    /// throttling) and `X-Forwarded-Proto` (`https`: a `Secure` cookie) are believed; repeat or
    /// separate with commas.
    #[arg(long, env = "TRAMYTE_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,

    /// Serve `GET /metrics` (Prometheus text) on this separate address, without a token, e.g.
    /// 127.0.0.1:9464 (keep it off the public network). Without it or `--metrics-token`, metrics
    /// are not served.
    #[arg(long, env = "TRAMYTE_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Serve `GET /metrics` on the public port to requests with `Authorization: Bearer TOKEN`.
    #[arg(long, env = "TRAMYTE_METRICS_TOKEN")]
    pub metrics_token: Option<String>,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub files: FileArgs,
}

/// The limits on evidence files (tệp minh chứng).
#[derive(Debug, Clone, Args)]
pub struct FileArgs {
    /// Largest evidence file accepted, in bytes (photos are downscaled on the phone; PDFs are
    /// kept as they are).
    #[arg(long, env = "TRAMYTE_MAX_FILE_BYTES", default_value_t = tramyte_shared::files::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_bytes: u64,
    /// Bytes of evidence files one commune may store (a file counts once per commune).
    #[arg(long, env = "TRAMYTE_COMMUNE_FILE_QUOTA", default_value_t = crate::domain::file::DEFAULT_COMMUNE_QUOTA)]
    pub commune_file_quota: u64,
    /// Days a file that no document names is kept before the daily sweep deletes it.
    #[arg(long, env = "TRAMYTE_FILE_SWEEP_DAYS", default_value_t = crate::domain::file::DEFAULT_SWEEP_DAYS)]
    pub file_sweep_days: u64,
}

impl FileArgs {
    /// The limits these flags describe.
    pub fn limits(&self) -> crate::domain::file::FileLimits {
        crate::domain::file::FileLimits {
            max_file_bytes: self.max_file_bytes,
            commune_quota: self.commune_file_quota,
            keep_unreferenced: std::time::Duration::from_secs(
                self.file_sweep_days.saturating_mul(24 * 3600),
            ),
        }
    }
}

/// The sync endpoint's explicit limits.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest websocket frame accepted, in bytes.
    #[arg(long, env = "TRAMYTE_MAX_FRAME_BYTES", default_value_t = 8 << 20)]
    pub max_frame_bytes: usize,
    /// Sustained messages per second one connection may send.
    #[arg(long, env = "TRAMYTE_MAX_MESSAGES_PER_SECOND", default_value_t = 200)]
    pub max_messages_per_second: u32,
    /// Messages one connection may send in a burst (initial sync sends one per document).
    #[arg(long, env = "TRAMYTE_MESSAGE_BURST", default_value_t = 4_000)]
    pub message_burst: u32,
    /// Documents one connection may have open at once.
    #[arg(
        long,
        env = "TRAMYTE_MAX_DOCUMENTS_PER_CONNECTION",
        default_value_t = 2_000
    )]
    pub max_documents_per_connection: usize,
    /// Websocket connections one IP address may hold.
    #[arg(
        long,
        env = "TRAMYTE_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 1_000
    )]
    pub max_connections_per_address: usize,
    /// Stored size one document may reach, in bytes.
    #[arg(long, env = "TRAMYTE_MAX_DOCUMENT_BYTES", default_value_t = 64 << 20)]
    pub max_document_bytes: usize,
    /// Memory one sync connection may make the server hold, in bytes: frames read and not yet
    /// handled, frames queued to send, and decoding one sync message (inflated data included).
    #[arg(long, env = "TRAMYTE_MAX_CONNECTION_MEMORY", default_value_t = 64 << 20)]
    pub max_connection_memory: usize,
    /// Browser origins other than the server's own that may open the sync websocket, comma
    /// separated (e.g. `https://app.example.org`). Clients that send no `Origin` are not affected.
    #[arg(long, env = "TRAMYTE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

impl LimitArgs {
    /// The sync configuration these limits describe.
    pub fn sync_config(&self) -> SyncConfig {
        let mut config = SyncConfig {
            max_frame_bytes: self.max_frame_bytes,
            max_connections_per_address: self.max_connections_per_address,
            max_connection_memory: self.max_connection_memory,
            allowed_origins: self
                .allowed_origins
                .iter()
                .map(|origin| origin.trim().to_owned())
                .filter(|origin| !origin.is_empty())
                .collect(),
            ..SyncConfig::default()
        };
        config.limits.messages_per_second = self.max_messages_per_second;
        config.limits.message_burst = self.message_burst;
        config.limits.max_documents_per_connection = self.max_documents_per_connection;
        config.limits.max_document_bytes = self.max_document_bytes;
        config
    }
}

/// Everything the server needs to start, independent of how it was given.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub open: bool,
    /// Load the demo when the database is empty (no units, no users) at start.
    pub demo_on_empty: bool,
    /// The sync endpoint's limits (`open` above overrides its own flag).
    pub sync: SyncConfig,
    /// Secure cookies and trusted proxies.
    pub client: crate::http::client::ClientOptions,
    /// A separate address serving `GET /metrics` alone (`--metrics-addr`).
    pub metrics_addr: Option<SocketAddr>,
    /// The bearer token of `GET /metrics` on the public port (`--metrics-token`); off without.
    pub metrics_token: Option<String>,
    /// The limits on evidence files.
    pub files: crate::domain::file::FileLimits,
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
            demo_on_empty: false,
            sync: SyncConfig::default(),
            client: crate::http::client::ClientOptions::default(),
            metrics_addr: None,
            metrics_token: None,
            files: crate::domain::file::FileLimits::default(),
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
            demo_on_empty: !args.no_demo,
            sync: args.limits.sync_config(),
            client: crate::http::client::ClientOptions {
                secure_cookies: args.secure_cookies,
                trusted_proxies: args
                    .trusted_proxy
                    .iter()
                    .map(|ip| ip.to_canonical())
                    .collect(),
            },
            metrics_addr: args.metrics_addr,
            metrics_token: args.metrics_token.filter(|token| !token.is_empty()),
            files: args.files.limits(),
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
    fn secure_cookies_and_trusted_proxies_are_flags() {
        let cli = Cli::try_parse_from([
            "tramyte",
            "serve",
            "--secure-cookies",
            "--trusted-proxy",
            "10.0.0.2,::1",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve")
        };
        let config = Config::from(args);
        assert!(config.client.secure_cookies);
        assert_eq!(config.client.trusted_proxies.len(), 2);
        assert!(Cli::try_parse_from(["tramyte", "serve", "--trusted-proxy", "proxy"]).is_err());
    }

    #[test]
    fn sync_memory_and_origins_come_from_flags_or_the_environment() {
        let cli = Cli::try_parse_from([
            "tramyte",
            "serve",
            "--max-connection-memory",
            "1048576",
            "--allowed-origins",
            "https://a.example, https://b.example",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve")
        };
        let config = Config::from(args);
        assert_eq!(config.sync.max_connection_memory, 1 << 20);
        assert_eq!(
            config.sync.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        let defaults = Cli::try_parse_from(["tramyte", "serve"]).unwrap();
        let Command::Serve(args) = defaults.command else {
            panic!("serve")
        };
        let config = Config::from(args);
        assert_eq!(config.sync.max_connection_memory, 64 << 20);
        assert!(config.sync.allowed_origins.is_empty());
    }

    #[test]
    fn file_limits_come_from_flags_with_sensible_defaults() {
        let defaults = Cli::try_parse_from(["tramyte", "serve"]).unwrap();
        let Command::Serve(args) = defaults.command else {
            panic!("serve")
        };
        let config = Config::from(args);
        assert_eq!(config.files.max_file_bytes, 10 << 20);
        assert_eq!(config.files.commune_quota, 2 << 30);
        assert_eq!(config.files.keep_unreferenced.as_secs(), 30 * 24 * 3600);
        let cli = Cli::try_parse_from([
            "tramyte",
            "serve",
            "--max-file-bytes",
            "1000",
            "--commune-file-quota",
            "5000",
            "--file-sweep-days",
            "2",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve")
        };
        let config = Config::from(args);
        assert_eq!(config.files.max_file_bytes, 1000);
        assert_eq!(config.files.commune_quota, 5000);
        assert_eq!(config.files.keep_unreferenced.as_secs(), 2 * 24 * 3600);
    }

    #[test]
    fn an_unknown_flag_is_an_error() {
        assert!(Cli::try_parse_from(["tramyte", "serve", "--nope"]).is_err());
    }
}
