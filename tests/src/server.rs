//! A real tramyte server for one test: its own port, its own data directory, stopped on demand.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tramyte_server::{Application, Config};

/// A running server and the directory that holds its database.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    data_dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The directory holding this server's database.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir.0
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
}

/// Starts a server on 127.0.0.1:0 with a fresh SQLite database.
pub async fn spawn_server() -> TestServer {
    let data_dir = TempDir::new("server");
    let config = Config::for_data_dir(data_dir.0.clone());
    spawn_with(config, data_dir).await
}

async fn spawn_with(config: Config, data_dir: TempDir) -> TestServer {
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
    TestServer {
        addr,
        data_dir,
        stop: Some(stop),
        task: Some(task),
    }
}

/// A directory under the system's temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a new, empty, uniquely named directory.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let unique = format!(
            "tramyte-test-{label}-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default()
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
