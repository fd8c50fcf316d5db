//! Browser end-to-end scripts (`tests/e2e/*.mjs`), run by Node with playwright-core driving
//! Debian's headless Chromium.
//!
//! A script talks to its test over a line protocol: it prints `WAIT <what>` on stdout when it
//! needs the test to act (stop the server, say), and continues when the test answers `GO` on its
//! stdin. It exits 0 when every check passed; otherwise its stderr says which failed.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The longest a browser script may run before the test fails.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium binary: `TRAMYTE_CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("TRAMYTE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "Chromium not found at {}: run the tests with `cargo xtask test`, which installs it",
        path.display()
    );
    path
}

fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

/// A browser script in progress.
#[derive(Debug)]
pub struct Script {
    name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Script {
    /// Starts `tests/e2e/<name>.mjs` with `base_url` as its first argument.
    pub fn start(name: &str, base_url: &str) -> Script {
        Script::start_with(name, base_url, &[])
    }

    /// [`Script::start`] with extra environment variables for the script.
    pub fn start_with(name: &str, base_url: &str, env: &[(&str, &str)]) -> Script {
        let dir = e2e_dir();
        assert!(
            dir.join("node_modules/playwright-core").exists(),
            "playwright-core is not installed in {}: run the tests with `cargo xtask test`",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join(format!("{name}.mjs")))
            .arg(base_url)
            .env("TRAMYTE_CHROMIUM", chromium())
            .envs(env.iter().copied())
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        Script {
            name: name.to_owned(),
            child,
            stdin,
            stdout,
        }
    }

    /// Waits until the script prints `WAIT <what>`; fails if it ends or says something else.
    pub async fn wait_for(&mut self, what: &str) {
        let expected = format!("WAIT {what}");
        let line = tokio::time::timeout(SCRIPT_TIMEOUT, async {
            loop {
                match self
                    .stdout
                    .next_line()
                    .await
                    .expect("read the script's output")
                {
                    Some(line) if line == expected => return line,
                    Some(line) => eprintln!("[{}] {line}", self.name),
                    None => panic!("script {} ended before `{expected}`", self.name),
                }
            }
        })
        .await;
        assert!(
            line.is_ok(),
            "script {} did not reach `{expected}` in time",
            self.name
        );
    }

    /// Lets the script go on after a `WAIT`.
    pub async fn go(&mut self) {
        self.stdin
            .write_all(b"GO\n")
            .await
            .expect("write to the script");
        self.stdin.flush().await.expect("flush the script's stdin");
    }

    /// Waits for the script to end and fails the test unless it exited successfully.
    pub async fn finish(mut self) {
        let status = tokio::time::timeout(SCRIPT_TIMEOUT, async {
            while let Ok(Some(line)) = self.stdout.next_line().await {
                eprintln!("[{}] {line}", self.name);
            }
            self.child.wait().await.expect("wait for the script")
        })
        .await
        .unwrap_or_else(|_| panic!("script {} did not finish in time", self.name));
        assert!(
            status.success(),
            "browser script {} failed ({status}); see its output above",
            self.name
        );
    }
}
