//! The PostgreSQL every test run uses: the one `TRAMYTE_TEST_POSTGRES` names, or the local one
//! on 127.0.0.1:5432 when it answers, or else a throwaway cluster of our own (initdb and pg_ctl
//! on a temporary directory and a free port, Debian's packages installed when missing), stopped
//! and removed when the run ends, whether it passed or not.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::{Result, apt_install, check, is_root};

/// The server the tests use when nothing is set and it answers.
const LOCAL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A PostgreSQL that answers, for the length of a test run.
pub enum TestPostgres {
    /// A server that was already running.
    Running { url: String },
    /// A cluster started for this run; stopped and deleted on drop.
    Throwaway(Cluster),
}

impl TestPostgres {
    /// The URL of a database the tests may connect to as an administrator (they create and drop
    /// their own databases through it).
    pub fn url(&self) -> &str {
        match self {
            TestPostgres::Running { url } => url,
            TestPostgres::Throwaway(cluster) => &cluster.url,
        }
    }

    /// Finds or starts one. A server named by `TRAMYTE_TEST_POSTGRES` must answer: it is an
    /// error when it does not (the person asked for that one).
    pub fn provide() -> Result<TestPostgres> {
        if let Ok(url) = std::env::var("TRAMYTE_TEST_POSTGRES") {
            return if answers(&url) {
                eprintln!("xtask: PostgreSQL at TRAMYTE_TEST_POSTGRES answers: the tests use it");
                Ok(TestPostgres::Running { url })
            } else {
                Err(format!(
                    "TRAMYTE_TEST_POSTGRES={url} does not answer; unset it to let the tests \
                     start a PostgreSQL of their own"
                )
                .into())
            };
        }
        if answers(LOCAL) {
            eprintln!("xtask: PostgreSQL answers on 127.0.0.1:5432: the tests use it");
            return Ok(TestPostgres::Running {
                url: LOCAL.to_owned(),
            });
        }
        eprintln!("xtask: no PostgreSQL answers on 127.0.0.1:5432: starting a throwaway cluster");
        Cluster::start().map(TestPostgres::Throwaway)
    }
}

/// A PostgreSQL cluster in a temporary directory, owned by this run.
pub struct Cluster {
    url: String,
    dir: PathBuf,
    bin: PathBuf,
    /// The system user that runs the server when we are root (PostgreSQL refuses to run as root).
    run_as: Option<&'static str>,
}

impl Cluster {
    fn start() -> Result<Cluster> {
        let bin = match server_binaries() {
            Some(bin) => bin,
            None => {
                apt_install(&["postgresql"])?;
                server_binaries().ok_or("PostgreSQL's initdb is missing after installing it")?
            }
        };
        let run_as = is_root().then_some("postgres");
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("tramyte-postgres-{}-{port}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        if let Some(user) = run_as {
            check(Command::new("chown").arg(format!("{user}:")).arg(&dir))?;
        }
        let cluster = Cluster {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            run_as,
        };
        let data = cluster.dir.join("data");
        check(
            cluster
                .command("initdb")
                .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
                .args(["--no-locale", "--no-sync", "-D"])
                .arg(&data),
        )?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=300 -c fsync=off",
            cluster.dir.display()
        );
        check(
            cluster
                .command("pg_ctl")
                .args(["start", "--wait", "--timeout=60", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-o", &options]),
        )?;
        if !answers(&cluster.url) {
            return Err(format!("the throwaway PostgreSQL on port {port} does not answer").into());
        }
        eprintln!("xtask: throwaway PostgreSQL answers at {}", cluster.url);
        Ok(cluster)
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let stopped = self
            .command("pg_ctl")
            .args(["stop", "--mode=immediate", "--wait", "-D"])
            .arg(self.dir.join("data"))
            .output();
        if !stopped.is_ok_and(|out| out.status.success()) {
            eprintln!(
                "xtask: could not stop the throwaway PostgreSQL in {}",
                self.dir.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed PostgreSQL's binary directory (Debian's layout).
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Whether a TCP connection to the URL's host and port opens within two seconds.
fn answers(url: &str) -> bool {
    let Some(host_port) = host_port(url) else {
        return false;
    };
    std::net::ToSocketAddrs::to_socket_addrs(&host_port.as_str())
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
        })
}

/// `host:port` of a `postgres://user@host:port/db` URL (port 5432 when absent).
fn host_port(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = rest.split(['/', '?']).next()?;
    if host.is_empty() {
        return None;
    }
    Some(if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    })
}

#[cfg(test)]
mod tests {
    use super::{Cluster, answers, host_port};

    #[test]
    fn a_throwaway_cluster_answers_and_is_gone_once_dropped() {
        let cluster = Cluster::start().expect("a throwaway cluster starts");
        let (url, dir) = (cluster.url.clone(), cluster.dir.clone());
        assert!(answers(&url), "{url} answers");
        assert!(dir.join("data/PG_VERSION").is_file());
        drop(cluster);
        assert!(!answers(&url), "{url} is stopped");
        assert!(!dir.exists(), "{} is removed", dir.display());
    }

    #[test]
    fn host_and_port_come_out_of_the_url() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/postgres").as_deref(),
            Some("127.0.0.1:5432")
        );
        assert_eq!(
            host_port("postgres://u:p@db.example/x?sslmode=disable").as_deref(),
            Some("db.example:5432")
        );
        assert_eq!(host_port("not a url"), None);
    }
}
