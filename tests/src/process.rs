//! The `tramyte` binary as a separate process, for tests that must kill it (SIGKILL).

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `tramyte` binary: `TRAMYTE_BIN`, else the one cargo built beside this test binary.
pub fn tramyte_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TRAMYTE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/integration-<hash> → target/<profile>/tramyte
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("tramyte"))
        .expect("the target directory");
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo xtask test` (or `cargo nextest run --workspace`)",
        path.display()
    );
    path
}

/// A running `tramyte serve` process.
#[derive(Debug)]
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
}

impl ServerProcess {
    /// Starts `tramyte serve --addr 127.0.0.1:0 --no-demo ARGS…` and waits until it says where it
    /// serves.
    pub async fn start(args: &[&str]) -> ServerProcess {
        let mut child = Command::new(tramyte_binary())
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            // An empty database stays empty: tests and benches bring their own data.
            .arg("--no-demo")
            .args(args)
            .env("TRAMYTE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start tramyte");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read tramyte's output") {
                if let Some(rest) = line.strip_prefix("tramyte is serving on ") {
                    return rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches('/')
                        .to_owned();
                }
            }
            panic!("tramyte exited before serving");
        })
        .await
        .expect("tramyte starts within 30 s");
        ServerProcess { child, url }
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL tramyte");
        let _ = self.child.wait().await;
    }
}
