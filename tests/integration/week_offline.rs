//! A week offline: a phone and two colleagues share one dossier of 47 items; the phone goes
//! offline and edits all 47 (one change each) while the colleagues edit 10 items each through the
//! server; the phone reconnects (a fresh sync state) and syncs. With our client (the shared
//! sans-IO `Client`) and with the official one (`tests/e2e/week_offline.mjs`), on both
//! backends: the three replicas converge with every change present. Round trips, sync bytes
//! against the raw changes' bytes and time are printed (figures, not asserted).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ObjType, ReadDoc};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::client::Client;
use tramyte_shared::sync::message::Message;
use tramyte_tests::browser::Script;
use tramyte_tests::{Backend, backends, spawn_server_on};

const ITEMS: usize = 47;
const COLLEAGUE_EDITS: usize = 10;
const WAIT: Duration = Duration::from_secs(20);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One replica with its connection, counting the sync messages it exchanges.
struct Peer {
    client: Client,
    socket: Option<Socket>,
    document: DocumentId,
    sent: usize,
    sent_bytes: usize,
    received: usize,
    received_bytes: usize,
    rounds: usize,
    awaiting_reply: bool,
}

/// The automerge sync message a frame carries, if any.
fn payload(frame: &[u8]) -> Option<usize> {
    match Message::decode(frame).ok()? {
        Message::Sync { data, .. } | Message::Request { data, .. } => Some(data.len()),
        _ => None,
    }
}

impl Peer {
    fn new(name: &str, document: DocumentId) -> Peer {
        Peer {
            client: Client::new(name),
            socket: None,
            document,
            sent: 0,
            sent_bytes: 0,
            received: 0,
            received_bytes: 0,
            rounds: 0,
            awaiting_reply: false,
        }
    }

    fn reset_counters(&mut self) {
        (
            self.sent,
            self.sent_bytes,
            self.received,
            self.received_bytes,
        ) = (0, 0, 0, 0);
        (self.rounds, self.awaiting_reply) = (0, false);
    }

    async fn connect(&mut self, base_url: &str) {
        let url = format!("{}/sync", base_url.replacen("http://", "ws://", 1));
        let (mut socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("connect");
        socket
            .send(WsMessage::Binary(self.client.connect().into()))
            .await
            .expect("send join");
        self.socket = Some(socket);
        self.pump_until("connected", |peer| peer.client.is_ready())
            .await;
    }

    async fn disconnect(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
        self.client.disconnected();
    }

    async fn send(&mut self, frames: Vec<Vec<u8>>) {
        for frame in frames {
            if let Some(bytes) = payload(&frame) {
                if !self.awaiting_reply {
                    self.rounds += 1;
                    self.awaiting_reply = true;
                }
                self.sent += 1;
                self.sent_bytes += bytes;
            }
            let socket = self.socket.as_mut().expect("online");
            socket
                .send(WsMessage::Binary(frame.into()))
                .await
                .expect("send a frame");
        }
    }

    async fn pump_until(&mut self, what: &str, mut done: impl FnMut(&mut Peer) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(self) {
            let socket = self.socket.as_mut().expect("online");
            let frame = match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) => panic!("{}: not {what} within {WAIT:?}", self.client.peer_id()),
                Ok(Some(Ok(WsMessage::Binary(frame)))) => frame,
                Ok(Some(Ok(_))) => continue,
                Ok(other) => panic!("{}: connection ended: {other:?}", self.client.peer_id()),
            };
            if let Some(bytes) = payload(&frame) {
                self.received += 1;
                self.received_bytes += bytes;
                self.awaiting_reply = false;
            }
            let step = self.client.receive(&frame).expect("a valid frame");
            self.send(step.frames).await;
        }
    }

    /// Waits until the server has exactly this replica's version and `extra` holds.
    async fn settle(&mut self, what: &str, mut extra: impl FnMut(&mut Peer) -> bool) {
        let document = self.document;
        self.pump_until(what, |peer| peer.client.in_sync(&document) && extra(peer))
            .await;
    }

    fn doc(&self) -> &AutoCommit {
        self.client.doc(&self.document).expect("the document")
    }

    fn heads(&mut self) -> Vec<ChangeHash> {
        let mut heads = self
            .client
            .doc_mut(&self.document)
            .expect("the document")
            .get_heads();
        heads.sort();
        heads
    }

    /// One local change; sent at once when online. Returns its raw bytes and hash.
    async fn edit(&mut self, change: impl FnOnce(&mut AutoCommit)) -> (ChangeHash, usize) {
        let doc = self.client.doc_mut(&self.document).expect("the document");
        change(doc);
        let hash = doc.commit().expect("the edit made a change");
        let bytes = doc
            .get_change_by_hash(&hash)
            .expect("the change")
            .raw_bytes()
            .len();
        if self.socket.is_some() {
            let frames = self.client.sync(self.document);
            self.send(frames).await;
        }
        (hash, bytes)
    }

    fn hashes(&mut self) -> BTreeSet<ChangeHash> {
        self.client
            .doc_mut(&self.document)
            .expect("the document")
            .get_changes(&[])
            .iter()
            .map(|change| change.hash())
            .collect()
    }
}

/// The dossier: 47 items, each with a score and a text note.
fn dossier() -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Vận")
        .expect("title");
    let items = doc
        .put_object(automerge::ROOT, "items", ObjType::Map)
        .expect("items");
    for i in 1..=ITEMS {
        let item = doc
            .put_object(&items, format!("item_{i}"), ObjType::Map)
            .expect("an item");
        doc.put(&item, "score", 0).expect("score");
        doc.put_object(&item, "note", ObjType::Text).expect("note");
    }
    doc.commit();
    doc
}

fn edit_item(doc: &mut AutoCommit, item: usize, score: i64, words: &str) {
    let (_, items) = doc
        .get(automerge::ROOT, "items")
        .expect("read")
        .expect("items");
    let (_, entry) = doc
        .get(&items, format!("item_{item}"))
        .expect("read")
        .expect("the item");
    doc.put(&entry, "score", score).expect("score");
    let (_, note) = doc.get(&entry, "note").expect("read").expect("the note");
    doc.splice_text(&note, 0, 0, words).expect("note");
}

#[tokio::test]
async fn a_phone_back_after_a_week_offline_converges_with_two_colleagues() {
    for backend in backends().await {
        a_phone_back_after_a_week_offline_converges_on(backend).await;
    }
}

async fn a_phone_back_after_a_week_offline_converges_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| config.open = true).await;
    let url = server.url();
    let document =
        tramyte_server::store::document::new_document_id().expect("a random document id");
    let mut phone = Peer::new("phone", document);
    phone.connect(&url).await;
    let frames = phone.client.insert(document, dossier());
    phone.send(frames).await;
    phone.settle("stored", |_| true).await;
    let mut colleagues = [
        Peer::new("colleague-1", document),
        Peer::new("colleague-2", document),
    ];
    for colleague in &mut colleagues {
        colleague.connect(&url).await;
        let frames = colleague.client.request(document);
        colleague.send(frames).await;
        colleague
            .settle("loaded", |peer| !peer.heads().is_empty())
            .await;
    }
    phone.disconnect().await;

    // A week offline: every item edited on the phone, ten by each colleague meanwhile.
    let mut every_change = Vec::new();
    let mut raw_bytes = 0;
    for i in 1..=ITEMS {
        let words = format!("Đã kiểm tra mục {i}; ");
        let (hash, bytes) = phone
            .edit(|doc| edit_item(doc, i, 1 + (i as i64 % 3), &words))
            .await;
        every_change.push(hash);
        raw_bytes += bytes;
    }
    for (n, colleague) in colleagues.iter_mut().enumerate() {
        for k in 0..COLLEAGUE_EDITS {
            let item = 1 + (n * 17 + k * 3) % ITEMS;
            let words = format!("Đồng nghiệp {}: đã xem; ", n + 1);
            let (hash, bytes) = colleague.edit(|doc| edit_item(doc, item, 2, &words)).await;
            every_change.push(hash);
            raw_bytes += bytes;
            colleague.settle("acknowledged", |_| true).await;
        }
    }

    // The phone comes back.
    let colleague_heads: Vec<ChangeHash> = colleagues.iter_mut().flat_map(Peer::heads).collect();
    phone.reset_counters();
    let started = Instant::now();
    phone.connect(&url).await;
    let frames = phone.client.sync(document);
    phone.send(frames).await;
    phone
        .settle("merged and acknowledged", |peer| {
            let hashes = peer.hashes();
            colleague_heads.iter().all(|head| hashes.contains(head))
        })
        .await;
    let took = started.elapsed();
    let exchanged = phone.sent_bytes + phone.received_bytes;
    eprintln!(
        "week offline ({backend:?}, our client): {} round trips, {} messages sent / {} received, \
         {} + {} = {exchanged} sync bytes for {raw_bytes} bytes of raw changes ({:.2}×), {:.1} ms",
        phone.rounds,
        phone.sent,
        phone.received,
        phone.sent_bytes,
        phone.received_bytes,
        exchanged as f64 / raw_bytes as f64,
        took.as_secs_f64() * 1000.0
    );

    // The colleagues hear of the phone's changes; all three replicas hold every change.
    let phone_heads = phone.heads();
    for colleague in &mut colleagues {
        colleague
            .settle("caught up", |peer| peer.heads() == phone_heads)
            .await;
    }
    let hashes: Vec<BTreeSet<ChangeHash>> = std::iter::once(&mut phone)
        .chain(colleagues.iter_mut())
        .map(Peer::hashes)
        .collect();
    for (peer, set) in hashes.iter().enumerate() {
        for hash in &every_change {
            assert!(set.contains(hash), "replica {peer} lacks change {hash}");
        }
        assert_eq!(set, &hashes[0], "replica {peer} differs from the phone");
    }
    let json =
        |peer: &Peer| serde_json::to_string(&automerge::AutoSerde::from(peer.doc())).expect("json");
    assert_eq!(json(&phone), json(&colleagues[0]));
    assert_eq!(json(&phone), json(&colleagues[1]));
    phone.disconnect().await;
    for colleague in &mut colleagues {
        colleague.disconnect().await;
    }

    // The same with the official client (automerge 3.x in Node).
    let script = Script::start("week_offline", &url);
    script.finish().await;
    server.stop().await;
}
