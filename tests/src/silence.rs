//! A TCP front for the real server that can go silent: while [`SilentFront::silence`] holds,
//! it forwards nothing either way and closes nothing, as a mobile network that drops out does.
//! The browser's connection then looks open, and only the app's own heartbeat can tell.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The running front (stops accepting when dropped).
#[derive(Debug)]
pub struct SilentFront {
    url: String,
    silent: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl SilentFront {
    /// Listens on 127.0.0.1:0 in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> SilentFront {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a local address");
        let (silent, watcher) = watch::channel(false);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let watcher = watcher.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::spawn(pump(client_read, server_write, watcher.clone()));
                    tokio::spawn(pump(server_read, client_write, watcher));
                });
            }
        });
        SilentFront {
            url: format!("http://{addr}"),
            silent,
            task,
        }
    }

    /// Where the browser goes.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// From now on nothing goes through, and nothing is closed.
    pub fn silence(&self) {
        self.silent.send_replace(true);
    }

    /// Everything held goes through again.
    pub fn restore(&self) {
        self.silent.send_replace(false);
    }
}

impl Drop for SilentFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies bytes from `from` to `to`, holding them (and the end of the stream) while silent.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut silent: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = from.read(&mut buffer).await.unwrap_or(0);
        if silent.wait_for(|silent| !*silent).await.is_err() {
            return;
        }
        if read == 0 {
            let _ = to.shutdown().await;
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
