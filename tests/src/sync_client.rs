//! A sync client for tests: the shared sans-IO [`Client`] driven over a real websocket
//! (tokio-tungstenite) to the server's `/sync`.

use std::time::Duration;

use automerge::AutoCommit;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::client::{Client, ClientEvent};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for the network to settle.
pub const SETTLE: Duration = Duration::from_secs(10);

/// A client with its documents, online or offline.
#[derive(Debug)]
pub struct SyncClient {
    pub client: Client,
    socket: Option<Socket>,
    pub events: Vec<ClientEvent>,
    pub closed_with: Option<String>,
}

impl SyncClient {
    /// A client that is not connected yet.
    pub fn new(peer_id: &str) -> SyncClient {
        SyncClient {
            client: Client::new(peer_id),
            socket: None,
            events: Vec::new(),
            closed_with: None,
        }
    }

    /// Connects to `ws://ADDR/sync` and completes the handshake (open mode: no sign-in).
    pub async fn connect(&mut self, base_url: &str) {
        self.connect_as(base_url, None).await;
    }

    /// Connects with a session token (sent as `?token=`) and completes the handshake.
    pub async fn connect_as(&mut self, base_url: &str, token: Option<&str>) {
        let mut url = format!("{}/sync", base_url.replacen("http://", "ws://", 1));
        if let Some(token) = token {
            url.push_str(&format!("?token={token}"));
        }
        let (mut socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .unwrap_or_else(|err| panic!("{url}: {err}"));
        socket
            .send(WsMessage::Binary(self.client.connect().into()))
            .await
            .expect("send join");
        self.socket = Some(socket);
        self.closed_with = None;
        self.pump_until(SETTLE, |client, _| client.is_ready()).await;
    }

    /// Drops the connection (the documents stay, as on a phone going offline).
    pub async fn disconnect(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
        self.client.disconnected();
    }

    pub fn is_online(&self) -> bool {
        self.socket.is_some()
    }

    /// Sends frames to the server (dropped while offline).
    pub async fn send(&mut self, frames: Vec<Vec<u8>>) {
        let Some(socket) = self.socket.as_mut() else {
            return;
        };
        for frame in frames {
            if socket.send(WsMessage::Binary(frame.into())).await.is_err() {
                self.socket = None;
                self.client.disconnected();
                return;
            }
        }
    }

    /// Starts syncing a document this client has.
    pub async fn insert(&mut self, id: DocumentId, doc: AutoCommit) {
        let frames = self.client.insert(id, doc);
        self.send(frames).await;
    }

    /// Asks the server for a document.
    pub async fn request(&mut self, id: DocumentId) {
        let frames = self.client.request(id);
        self.send(frames).await;
    }

    /// Edits a document locally (and tells the server, when online).
    pub async fn edit(&mut self, id: DocumentId, change: impl FnOnce(&mut AutoCommit)) {
        let doc = self
            .client
            .doc_mut(&id)
            .expect("the client has the document");
        change(doc);
        doc.commit();
        let frames = self.client.sync(id);
        self.send(frames).await;
    }

    /// Handles incoming frames until `done` holds; panics after `timeout`.
    pub async fn pump_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&mut Client, &[ClientEvent]) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&mut self.client, &self.events) {
            let Some(socket) = self.socket.as_mut() else {
                panic!(
                    "{}: disconnected while waiting ({:?})",
                    self.client.peer_id(),
                    self.closed_with
                );
            };
            let next = tokio::time::timeout_at(deadline, socket.next()).await;
            match next {
                Err(_) => {
                    let ids: Vec<DocumentId> = self.client.documents().copied().collect();
                    let states: Vec<String> =
                        ids.iter().map(|id| self.client.debug_heads(id)).collect();
                    panic!("{}: timed out waiting; {states:?}", self.client.peer_id())
                }
                Ok(None) => {
                    self.socket = None;
                    self.client.disconnected();
                }
                Ok(Some(Err(err))) => {
                    self.closed_with = Some(err.to_string());
                    self.socket = None;
                    self.client.disconnected();
                }
                Ok(Some(Ok(WsMessage::Binary(frame)))) => match self.client.receive(&frame) {
                    Ok(step) => {
                        self.events.extend(step.events);
                        self.send(step.frames).await;
                    }
                    Err(err) => {
                        self.closed_with = Some(err.to_string());
                        self.disconnect().await;
                    }
                },
                Ok(Some(Ok(WsMessage::Close(frame)))) => {
                    self.closed_with = frame.map(|f| f.reason.to_string());
                    self.socket = None;
                    self.client.disconnected();
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Handles whatever arrives during `duration`.
    pub async fn pump_for(&mut self, duration: Duration) {
        let deadline = tokio::time::Instant::now() + duration;
        while let Some(socket) = self.socket.as_mut() {
            match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) => return,
                Ok(Some(Ok(WsMessage::Binary(frame)))) => match self.client.receive(&frame) {
                    Ok(step) => {
                        self.events.extend(step.events);
                        self.send(step.frames).await;
                    }
                    Err(err) => {
                        self.closed_with = Some(err.to_string());
                        self.disconnect().await;
                    }
                },
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    self.socket = None;
                    self.client.disconnected();
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Waits until the server has this client's version of the document.
    pub async fn settle(&mut self, id: DocumentId) {
        self.pump_until(SETTLE, |client, _| client.in_sync(&id))
            .await;
    }

    /// Reads frames until the server closes the connection; returns the `error` it sent.
    /// Answers what it reads as a client would (a local change may need another round of the
    /// sync protocol before it is sent), but never lets a failed send hide the `error` still to
    /// be read.
    pub async fn expect_closed(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + SETTLE;
        let mut error = None;
        let mut sending = true;
        while let Some(socket) = self.socket.as_mut() {
            match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) => panic!(
                    "the server did not close the connection of {}",
                    self.client.peer_id()
                ),
                Ok(Some(Ok(WsMessage::Binary(frame)))) => match self.client.receive(&frame) {
                    Ok(step) => {
                        for frame in step.frames {
                            if sending {
                                sending =
                                    socket.send(WsMessage::Binary(frame.into())).await.is_ok();
                            }
                        }
                    }
                    Err(err) => error = Some(err.to_string()),
                },
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    self.socket = None;
                    self.client.disconnected();
                }
                Ok(Some(Ok(_))) => {}
            }
        }
        error.expect("an error message before the close")
    }

    /// The raw socket, to send frames a well-behaved client would not.
    pub async fn send_raw(&mut self, message: WsMessage) {
        self.socket
            .as_mut()
            .expect("online")
            .send(message)
            .await
            .expect("send");
    }

    /// Like [`SyncClient::send_raw`], but the server may cut the connection while it is being
    /// sent (a frame over the size limit): returns whether the whole frame went out.
    pub async fn try_send_raw(&mut self, message: WsMessage) -> bool {
        let sent = self
            .socket
            .as_mut()
            .expect("online")
            .send(message)
            .await
            .is_ok();
        if !sent {
            self.socket = None;
            self.client.disconnected();
        }
        sent
    }
}

/// Lets every client exchange frames until all have the same version of the document and know
/// the server has it; panics after [`SETTLE`].
pub async fn converge(clients: &mut [&mut SyncClient], id: DocumentId) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        for client in clients.iter_mut() {
            client.pump_for(Duration::from_millis(20)).await;
        }
        let mut heads = Vec::new();
        let mut all_in_sync = true;
        for client in clients.iter_mut() {
            all_in_sync &= client.client.in_sync(&id);
            let mut h = client
                .client
                .doc_mut(&id)
                .map(|doc| doc.get_heads())
                .unwrap_or_default();
            h.sort();
            heads.push(h);
        }
        if all_in_sync && heads.windows(2).all(|pair| pair[0] == pair[1]) {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            let states: Vec<String> = clients
                .iter_mut()
                .map(|c| c.client.debug_heads(&id))
                .collect();
            panic!("the clients did not converge: {states:?}");
        }
    }
}
