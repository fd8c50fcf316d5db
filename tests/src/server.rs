//! A real tramyte server for one test: its own port, its own database (SQLite in a temporary
//! directory, or a fresh PostgreSQL database), stopped and restarted on demand.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tramyte_server::{Application, Config};

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use (`TRAMYTE_TEST_POSTGRES`, default the local one).
pub fn postgres_admin_url() -> String {
    std::env::var("TRAMYTE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The backends every storage test runs against: SQLite and PostgreSQL, always. A PostgreSQL
/// that does not answer fails the test loudly; `cargo xtask test` provides one (the local server,
/// or a throwaway cluster of its own when none answers).
pub async fn backends() -> Vec<Backend> {
    match tramyte_server::store::Store::connect(&postgres_admin_url()).await {
        Ok(store) => {
            store.close().await;
            vec![Backend::Sqlite, Backend::Postgres]
        }
        Err(err) => panic!(
            "PostgreSQL does not answer at {} ({err}): run the tests with `cargo xtask test`, \
             which starts one when none answers, or point TRAMYTE_TEST_POSTGRES at one",
            postgres_admin_url()
        ),
    }
}

/// A database for one test, dropped with it.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    dir: TempDir,
    postgres_name: Option<String>,
}

impl TestDatabase {
    /// A fresh, empty database of this backend.
    pub async fn new(backend: Backend) -> TestDatabase {
        let dir = TempDir::new("db");
        match backend {
            Backend::Sqlite => TestDatabase {
                url: tramyte_server::store::sqlite_url_in(&dir.0),
                backend,
                dir,
                postgres_name: None,
            },
            Backend::Postgres => {
                let name = format!("tramyte_test_{}", unique_suffix());
                let admin = tramyte_server::store::Store::connect(&postgres_admin_url())
                    .await
                    .expect("PostgreSQL");
                let tramyte_server::store::Store::Postgres(pool) = &admin else {
                    panic!("expected PostgreSQL")
                };
                sqlx_execute(pool, &format!("CREATE DATABASE {name}")).await;
                admin.close().await;
                let base = postgres_admin_url();
                let url = match base.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("TRAMYTE_TEST_POSTGRES has no database part: {base}"),
                };
                TestDatabase {
                    url,
                    backend,
                    dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    /// The directory for the server's local state.
    pub fn data_dir(&self) -> &Path {
        &self.dir.0
    }
}

async fn sqlx_execute(pool: &sqlx_pool::PgPool, sql: &str) {
    sqlx_pool::query(sqlx_pool::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

/// sqlx, as re-exported for the tests' own administration queries.
mod sqlx_pool {
    pub use tramyte_server::sqlx::{AssertSqlSafe, PgPool, query};
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_name.take() {
            // Dropping runs outside any runtime: use a small one of its own.
            let admin_url = postgres_admin_url();
            let _ = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    if let Ok(tramyte_server::store::Store::Postgres(pool)) =
                        tramyte_server::store::Store::connect(&admin_url).await
                    {
                        let _ = sqlx_pool::query(sqlx_pool::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&pool)
                        .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The `--metrics-token` of every test server (`hostile::metrics` presents it).
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// A test server's configuration: any free port on 127.0.0.1, SQLite in `data_dir`, metrics
/// behind [`METRICS_TOKEN`].
fn test_config(data_dir: PathBuf) -> Config {
    let mut config = Config::for_data_dir(data_dir);
    config.metrics_token = Some(METRICS_TOKEN.to_owned());
    config
}

/// A running server and the database it uses.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _database: Option<TestDatabase>,
    _data_dir: Option<TempDir>,
}

impl TestServer {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The directory holding this server's local state.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Shuts the server down gracefully and waits until it has stopped.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task panicked");
        }
    }

    /// Stops the server and starts it again on the same address and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut config = self.config.clone();
        config.addr = self.addr;
        let (addr, stop, task) = start(config).await;
        self.addr = addr;
        self.stop = Some(stop);
        self.task = Some(task);
    }
}

/// Starts a server on 127.0.0.1:0 with a fresh SQLite database.
pub async fn spawn_server() -> TestServer {
    spawn_server_with(|_| {}).await
}

/// Starts a server on 127.0.0.1:0 with a fresh SQLite database and a changed configuration.
pub async fn spawn_server_with(change: impl FnOnce(&mut Config)) -> TestServer {
    let data_dir = TempDir::new("server");
    let mut config = test_config(data_dir.0.clone());
    change(&mut config);
    let (addr, stop, task) = start(config.clone()).await;
    TestServer {
        addr,
        config,
        stop: Some(stop),
        task: Some(task),
        _database: None,
        _data_dir: Some(data_dir),
    }
}

/// Starts a server on a database of its own of `backend`.
pub async fn spawn_server_on(backend: Backend, change: impl FnOnce(&mut Config)) -> TestServer {
    let database = TestDatabase::new(backend).await;
    let mut config = test_config(database.data_dir().to_path_buf());
    config.database_url = database.url.clone();
    change(&mut config);
    let (addr, stop, task) = start(config.clone()).await;
    TestServer {
        addr,
        config,
        stop: Some(stop),
        task: Some(task),
        _database: Some(database),
        _data_dir: None,
    }
}

/// Starts a server on a database prepared beforehand (say, with a document a test hook names).
pub async fn spawn_server_on_database(
    database: TestDatabase,
    change: impl FnOnce(&mut Config),
) -> TestServer {
    let mut config = test_config(database.data_dir().to_path_buf());
    config.database_url = database.url.clone();
    change(&mut config);
    let (addr, stop, task) = start(config.clone()).await;
    TestServer {
        addr,
        config,
        stop: Some(stop),
        task: Some(task),
        _database: Some(database),
        _data_dir: None,
    }
}

/// Starts another server (node) on the same database as `first`.
pub async fn spawn_node_beside(first: &TestServer) -> TestServer {
    let mut config = first.config.clone();
    config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let (addr, stop, task) = start(config.clone()).await;
    TestServer {
        addr,
        config,
        stop: Some(stop),
        task: Some(task),
        _database: None,
        _data_dir: None,
    }
}

async fn start(config: Config) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<()>) {
    let application = Application::build(config).await.expect("server starts");
    let addr = application.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        application
            .run_until_stopped(shutdown)
            .await
            .expect("server runs");
    });
    (addr, stop, task)
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    )
}

/// A directory under the system's temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a new, empty, uniquely named directory.
    pub fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("tramyte-test-{label}-{}", unique_suffix()));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
