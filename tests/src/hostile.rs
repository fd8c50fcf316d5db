//! Support for the hostile-client tests: raw websockets that send what a well-behaved client
//! would not, a client that keeps editing while they do, and `/healthz` and `/metrics` reads.

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::message::{Message, PeerMetadata};

use crate::sync_client::{SETTLE, SyncClient};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `ws://…/sync` of a server.
pub fn sync_url(base_url: &str) -> String {
    format!("{}/sync", base_url.replacen("http://", "ws://", 1))
}

/// Opens `/sync` and completes the handshake as `peer_id`, by hand.
pub async fn raw_join(base_url: &str, peer_id: &str) -> Socket {
    let url = sync_url(base_url);
    let (mut socket, _) = tokio_tungstenite::connect_async(&url)
        .await
        .unwrap_or_else(|err| panic!("{url}: {err}"));
    let join = Message::Join {
        sender_id: peer_id.to_owned(),
        supported_protocol_versions: vec!["1".to_owned()],
        metadata: Some(PeerMetadata::default()),
    };
    socket
        .send(WsMessage::Binary(join.encode().into()))
        .await
        .expect("send join");
    match tokio::time::timeout(SETTLE, socket.next()).await {
        Ok(Some(Ok(WsMessage::Binary(frame)))) => {
            assert!(
                matches!(Message::decode(&frame), Ok(Message::Peer { .. })),
                "expected peer"
            );
        }
        other => panic!("no peer message: {other:?}"),
    }
    socket
}

/// Opens `/sync` with an `Origin` header; returns the HTTP status of a refusal, or 101.
pub async fn open_with_origin(base_url: &str, origin: Option<&str>) -> u16 {
    let mut request = sync_url(base_url)
        .into_client_request()
        .expect("a websocket request");
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("an origin header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut socket, response)) => {
            let _ = socket.close(None).await;
            response.status().as_u16()
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(err) => panic!("unexpected websocket failure: {err}"),
    }
}

/// Reads until the server closes; returns the text of every `error` message it sent first.
pub async fn read_until_closed(
    stream: &mut (
             impl futures_util::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>>
             + Unpin
         ),
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    let mut errors = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => panic!("the server did not close the connection (errors so far: {errors:?})"),
            Ok(Some(Ok(WsMessage::Binary(frame)))) => {
                if let Ok(Message::Error { message }) = Message::decode(&frame) {
                    errors.push(message);
                }
            }
            Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return errors,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Runs `tests/e2e/<name>.mjs` with Node (no browser) and `args`; returns whether it exited 0
/// and what it printed.
pub async fn node_script(name: &str, args: &[&str]) -> (bool, String) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        dir.join("node_modules/ws").exists(),
        "the npm packages of {} are not installed: run the tests with `cargo xtask test` (or `npm ci` there)",
        dir.display()
    );
    let output = tokio::process::Command::new("node")
        .arg(dir.join(format!("{name}.mjs")))
        .args(args)
        .current_dir(&dir)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// `GET /healthz`: the status code and the body.
pub async fn healthz(base_url: &str) -> (u16, String) {
    let response = reqwest::get(format!("{base_url}/healthz"))
        .await
        .expect("healthz answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// `GET /metrics` as text.
pub async fn metrics(base_url: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{base_url}/metrics"))
        .bearer_auth(crate::server::METRICS_TOKEN)
        .send()
        .await
        .expect("metrics answers");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap_or_default()
}

/// The value of one sample (`name` includes its labels, e.g. `x{reason="y"}`), 0 if absent.
pub fn sample(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

/// What a client that kept editing one document saw.
#[derive(Debug)]
pub struct Steady {
    pub client: SyncClient,
    /// How long each edit took to be acknowledged.
    pub acks: Vec<Duration>,
}

/// Starts a client that creates `document` and edits it, waiting for each acknowledgement,
/// until `stop` turns true (and at least `min_edits` times). `progress` counts edits done.
pub async fn keep_editing(
    base_url: &str,
    document: DocumentId,
    min_edits: usize,
    stop: watch::Receiver<bool>,
) -> (tokio::task::JoinHandle<Steady>, watch::Receiver<usize>) {
    let mut client = SyncClient::new("steady");
    client.connect(base_url).await;
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Vận")
        .expect("put");
    doc.commit();
    client.insert(document, doc).await;
    client.settle(document).await;
    let (progress_tx, progress) = watch::channel(0usize);
    let task = tokio::spawn(async move {
        let mut acks = Vec::new();
        let mut i = 0i64;
        while acks.len() < min_edits || !*stop.borrow() {
            let started = Instant::now();
            client
                .edit(document, |doc| {
                    doc.put(automerge::ROOT, "counter", i).expect("put");
                })
                .await;
            client.settle(document).await;
            acks.push(started.elapsed());
            i += 1;
            let _ = progress_tx.send(acks.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Steady { client, acks }
    });
    (task, progress)
}
