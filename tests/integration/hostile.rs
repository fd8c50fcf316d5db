//! Hostile clients against the real server over real websockets (issue 24), on SQLite and
//! PostgreSQL: the frames that used to stop sync for every client are refused to their sender
//! alone, while another client keeps getting acknowledgements, a new one joins within a second
//! and `/healthz` stays 200. Also: a forced panic in one document, oversized frames, the
//! memory budget of a message, browser origins and the sender of ephemeral messages.

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tramyte_server::config::DocKindArg;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::client::ClientEvent;
use tramyte_shared::sync::message::Message;
use tramyte_tests::hostile::{
    healthz, keep_editing, metrics, node_script, open_with_origin, raw_join, read_until_closed,
    sample,
};
use tramyte_tests::sync_client::{SETTLE, SyncClient};
use tramyte_tests::{Backend, TestServer, backends, spawn_server_on};

fn new_id() -> DocumentId {
    tramyte_server::store::document::new_document_id().unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.split_whitespace().collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A stored document (created by the server, as in production) with one change; its heads.
async fn stored_document(server: &TestServer) -> (DocumentId, Vec<automerge::ChangeHash>) {
    let store = tramyte_server::store::Store::connect(&server.config.database_url)
        .await
        .unwrap();
    let object = serde_json::json!({"title": "Trạm Y tế xã Thiệu Toán"});
    let id =
        tramyte_server::cli::create_document(&store, DocKindArg::Json, object.as_object().unwrap())
            .await
            .unwrap();
    let chunks = tramyte_server::store::document::load(&store, id)
        .await
        .unwrap()
        .unwrap();
    let mut doc = tramyte_shared::sync::hub::load_chunks(&chunks).unwrap();
    store.close().await;
    (id, doc.get_heads())
}

/// A `sync` frame about `document` carrying `data`, as `sender` would send it.
fn sync_frame(sender: &str, document: DocumentId, data: Vec<u8>) -> Vec<u8> {
    Message::Sync {
        sender_id: sender.to_owned(),
        target_id: "server".to_owned(),
        document_id: document,
        data,
    }
    .encode()
}

/// The four frames of issue 24, each built against a stored document.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// `need` names one stored change twice: `42 00 02 <hash> <hash> 00 00`.
    DuplicateNeed,
    /// A Bloom filter with entries but 0 bits per entry: `01 00 07`.
    ZeroBitsPerEntry,
    /// A Bloom filter claiming 4,294,967,295 probes: `01 01 ffffffff0f 00`.
    AbsurdProbes,
    /// A `documentId` of 80,000 base58 characters.
    LongDocumentId,
}

impl Hostile {
    fn frame(self, document: DocumentId, heads: &[automerge::ChangeHash]) -> Vec<u8> {
        match self {
            Hostile::DuplicateNeed => {
                let mut data = hex("42 00 02");
                data.extend(heads[0].0);
                data.extend(heads[0].0);
                data.extend(hex("00 00"));
                sync_frame("hostile", document, data)
            }
            Hostile::ZeroBitsPerEntry => {
                sync_frame("hostile", document, hex("42 00 00 01 00 03 01 00 07 00"))
            }
            Hostile::AbsurdProbes => sync_frame(
                "hostile",
                document,
                hex("42 00 00 01 00 08 01 01 ff ff ff ff 0f 00 00"),
            ),
            Hostile::LongDocumentId => {
                // The same map a `sync` frame is, with the id replaced by 80,000 characters.
                let long = "2".repeat(80_000);
                let value = ciborium::Value::Map(vec![
                    ("type".into(), "sync".into()),
                    ("senderId".into(), "hostile".into()),
                    ("targetId".into(), "server".into()),
                    ("documentId".into(), long.into()),
                    (
                        "data".into(),
                        ciborium::Value::Bytes(vec![0x42, 0, 0, 0, 0]),
                    ),
                ]);
                let mut out = Vec::new();
                ciborium::ser::into_writer(&value, &mut out).unwrap();
                out
            }
        }
    }

    /// What the `error` sent to the offending socket says.
    fn expected_error(self) -> &'static str {
        match self {
            Hostile::DuplicateNeed => "need names the same change twice",
            Hostile::ZeroBitsPerEntry => "0 bits per entry",
            Hostile::AbsurdProbes => "4294967295 probes",
            Hostile::LongDocumentId => "`documentId` is longer than",
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Hostile::DuplicateNeed => "sync_message_duplicate_hash",
            Hostile::ZeroBitsPerEntry | Hostile::AbsurdProbes => "sync_message_bloom_filter",
            Hostile::LongDocumentId => "field_too_long",
        }
    }
}

/// The scenario for one frame on one backend.
async fn one_client_cannot_stop_sync_for_everyone(backend: Backend, hostile: Hostile) {
    let mut server = spawn_server_on(backend, |config| config.open = true).await;
    let url = server.url();
    let (target, heads) = stored_document(&server).await;

    // Another client keeps editing its own document throughout.
    let (stop_tx, stop) = watch::channel(false);
    let (steady, mut progress) = keep_editing(&url, new_id(), 6, stop).await;
    progress.wait_for(|n| *n >= 2).await.unwrap();

    // The hostile client has the stored document open (it synced it like anyone may), then
    // sends the frame.
    let mut hostile_client = SyncClient::new("hostile-peer");
    hostile_client.connect(&url).await;
    hostile_client.request(target).await;
    hostile_client.settle(target).await;
    hostile_client
        .send_raw(WsMessage::Binary(hostile.frame(target, &heads).into()))
        .await;
    let sent_at = Instant::now();
    let error = hostile_client.expect_closed().await;
    assert!(
        error.contains(hostile.expected_error()),
        "{backend:?} {hostile:?}: {error}"
    );
    assert!(
        sent_at.elapsed() < Duration::from_secs(1),
        "{backend:?} {hostile:?}: refused after {:?}",
        sent_at.elapsed()
    );

    // A new client joins within a second, and the stored document is still served.
    let started = Instant::now();
    let mut newcomer = SyncClient::new("newcomer");
    newcomer.connect(&url).await;
    let joined = started.elapsed();
    assert!(
        joined < Duration::from_secs(1),
        "{backend:?} {hostile:?}: a new client took {joined:?} to join"
    );
    newcomer.request(target).await;
    newcomer.settle(target).await;
    let (status, body) = healthz(&url).await;
    assert_eq!(status, 200, "{backend:?} {hostile:?}: {body}");

    // The steady client got every acknowledgement, before and after.
    let seen = *progress.borrow();
    progress.wait_for(|n| *n >= seen + 2).await.unwrap();
    stop_tx.send(true).unwrap();
    let steady = steady.await.unwrap();
    assert!(steady.client.is_online(), "{backend:?} {hostile:?}");
    assert!(steady.acks.len() >= 6, "{:?}", steady.acks);
    let slowest = steady.acks.iter().max().copied().unwrap_or_default();
    assert!(
        slowest < Duration::from_secs(5),
        "{backend:?} {hostile:?}: an acknowledgement took {slowest:?}"
    );

    let text = metrics(&url).await;
    let refused = format!(
        "tramyte_sync_refused_total{{reason=\"{}\"}}",
        hostile.reason()
    );
    assert_eq!(sample(&text, &refused), 1, "{text}");
    assert_eq!(sample(&text, "tramyte_sync_panics_contained_total"), 0);
    server.stop().await;
}

#[tokio::test]
async fn hostile_need_naming_one_change_twice_is_refused_to_its_sender_alone() {
    for backend in backends().await {
        one_client_cannot_stop_sync_for_everyone(backend, Hostile::DuplicateNeed).await;
    }
}

#[tokio::test]
async fn hostile_bloom_filter_with_zero_bits_per_entry_is_refused_to_its_sender_alone() {
    for backend in backends().await {
        one_client_cannot_stop_sync_for_everyone(backend, Hostile::ZeroBitsPerEntry).await;
    }
}

#[tokio::test]
async fn hostile_bloom_filter_with_absurd_probes_is_refused_to_its_sender_alone() {
    for backend in backends().await {
        one_client_cannot_stop_sync_for_everyone(backend, Hostile::AbsurdProbes).await;
    }
}

#[tokio::test]
async fn hostile_document_id_of_80000_characters_is_refused_to_its_sender_alone() {
    for backend in backends().await {
        one_client_cannot_stop_sync_for_everyone(backend, Hostile::LongDocumentId).await;
    }
}

/// The test hook makes applying changes to one document panic: that document's peers get an
/// `error` and are closed, other documents stay served, `/metrics` counts the panic, `/healthz`
/// stays 200, and the document is served again (from storage) afterwards.
#[tokio::test]
async fn hostile_a_panic_in_one_document_costs_that_document_only() {
    for backend in backends().await {
        let database = tramyte_tests::server::TestDatabase::new(backend).await;
        let doomed = {
            // Created before the server starts, so the hook can name it.
            let store = tramyte_server::store::Store::connect(&database.url)
                .await
                .unwrap();
            store.migrate().await.unwrap();
            let object = serde_json::json!({"title": "Trạm Y tế xã Thiệu Vũ"});
            let id = tramyte_server::cli::create_document(
                &store,
                DocKindArg::Json,
                object.as_object().unwrap(),
            )
            .await
            .unwrap();
            store.close().await;
            id
        };
        let mut server = tramyte_tests::server::spawn_server_on_database(database, |config| {
            config.open = true;
            config.sync.panic_on_document = Some(doomed);
        })
        .await;
        let url = server.url();
        let (stop_tx, stop) = watch::channel(false);
        let (steady, mut progress) = keep_editing(&url, new_id(), 4, stop).await;
        progress.wait_for(|n| *n >= 1).await.unwrap();

        // A reader has the doomed document open; a writer's change makes the hub panic.
        let mut reader = SyncClient::new("reader");
        reader.connect(&url).await;
        reader.request(doomed).await;
        reader.settle(doomed).await;
        let mut writer = SyncClient::new("writer");
        writer.connect(&url).await;
        writer.request(doomed).await;
        writer.settle(doomed).await;
        writer
            .edit(doomed, |doc| {
                doc.put(automerge::ROOT, "zone", 2).unwrap();
            })
            .await;
        for client in [&mut writer, &mut reader] {
            let error = client.expect_closed().await;
            assert!(
                error.contains(&format!("failed while handling document {doomed}")),
                "{backend:?}: {error}"
            );
        }

        let seen = *progress.borrow();
        progress.wait_for(|n| *n >= seen + 2).await.unwrap();
        let (status, body) = healthz(&url).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        let text = metrics(&url).await;
        assert_eq!(
            sample(&text, "tramyte_sync_panics_contained_total"),
            1,
            "{text}"
        );

        // The document is read again from storage for the next reader (without the change
        // that never got stored).
        let mut later = SyncClient::new("later");
        later.connect(&url).await;
        later.request(doomed).await;
        later.settle(doomed).await;
        let doc = later.client.doc(&doomed).unwrap();
        use automerge::ReadDoc;
        assert!(doc.get(automerge::ROOT, "title").unwrap().is_some());

        stop_tx.send(true).unwrap();
        let steady = steady.await.unwrap();
        assert!(steady.client.is_online(), "{backend:?}");
        server.stop().await;
    }
}

/// A frame over `--max-frame-bytes` gets its `error` before the close, even while the client
/// is still sending it (the server lingers instead of resetting the connection).
#[tokio::test]
async fn hostile_oversized_frame_gets_an_error_before_the_close() {
    for backend in backends().await {
        hostile_oversized_frame_gets_an_error_before_the_close_on(backend).await;
    }
}

async fn hostile_oversized_frame_gets_an_error_before_the_close_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| {
        config.open = true;
        config.sync.max_frame_bytes = 64 << 10;
    })
    .await;
    let url = server.url();
    for size in [100 << 10, 16 << 20] {
        let socket = raw_join(&url, "oversized").await;
        let (mut sink, mut stream) = socket.split();
        // Sent from another task: the server stops reading after the frame's header.
        let sending = tokio::spawn(async move {
            let _ = sink.send(WsMessage::Binary(vec![0u8; size].into())).await;
            sink
        });
        let errors = read_until_closed(&mut stream).await;
        assert!(
            errors.iter().any(|e| e.contains("bad websocket frame")),
            "{size} bytes: {errors:?}"
        );
        drop(stream);
        let _ = tokio::time::timeout(SETTLE, sending).await;
    }
    let text = metrics(&url).await;
    assert_eq!(
        sample(
            &text,
            "tramyte_sync_refused_total{reason=\"frame_too_large\"}"
        ),
        2,
        "{text}"
    );
    server.stop().await;
}

/// The same with Node's `ws`, which gives up reading as soon as its write fails: the server
/// used to close at once with the rest of the frame unread, which resets the connection, and
/// this client saw 1006 and no `error` (3 times out of 3 against the code before the fix).
#[tokio::test]
async fn hostile_oversized_frame_error_reaches_a_node_ws_client() {
    for backend in backends().await {
        hostile_oversized_frame_error_reaches_a_node_ws_client_on(backend).await;
    }
}

async fn hostile_oversized_frame_error_reaches_a_node_ws_client_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| {
        config.open = true;
        config.sync.max_frame_bytes = 64 << 10;
    })
    .await;
    let url = server.url();
    for size in [(100 << 10).to_string(), (16 << 20).to_string()] {
        let (ok, output) = node_script("oversized_frame", &[&url, &size]).await;
        assert!(ok, "{size} bytes: {output}");
    }
    server.stop().await;
}

/// A sync message whose compressed part inflates beyond the connection's memory budget is
/// refused before anything inflates it whole.
#[tokio::test]
async fn hostile_compressed_changes_beyond_the_memory_budget_are_refused() {
    for backend in backends().await {
        hostile_compressed_changes_beyond_the_memory_budget_are_refused_on(backend).await;
    }
}

async fn hostile_compressed_changes_beyond_the_memory_budget_are_refused_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| {
        config.open = true;
        config.sync.max_connection_memory = 1 << 20;
    })
    .await;
    let url = server.url();
    // A saved document with one large text: its columns are DEFLATE-compressed.
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "note", "đạt chuẩn ".repeat(200_000))
        .unwrap();
    doc.commit();
    let saved = doc.save();
    assert!(saved.len() < 1 << 20, "{} bytes saved", saved.len());
    let data = automerge::sync::Message {
        heads: doc.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: saved.into(),
        flags: None,
        version: automerge::sync::MessageVersion::V2,
    }
    .encode();
    let mut client = SyncClient::new("bomb");
    client.connect(&url).await;
    client
        .send_raw(WsMessage::Binary(sync_frame("bomb", new_id(), data).into()))
        .await;
    let error = client.expect_closed().await;
    assert!(error.contains("bytes of memory"), "{error}");
    let text = metrics(&url).await;
    assert_eq!(
        sample(
            &text,
            "tramyte_sync_refused_total{reason=\"sync_message_memory\"}"
        ),
        1,
        "{text}"
    );
    server.stop().await;
}

/// `/sync` refuses a browser page from another origin (403) and accepts the server's own, the
/// allow-listed ones and clients that send no `Origin` (Node, native apps).
#[tokio::test]
async fn hostile_sync_refuses_browser_origins_other_than_its_own() {
    for backend in backends().await {
        hostile_sync_refuses_browser_origins_other_than_its_own_on(backend).await;
    }
}

async fn hostile_sync_refuses_browser_origins_other_than_its_own_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| {
        config.open = true;
        config.sync.allowed_origins = vec!["https://app.example.org".to_owned()];
    })
    .await;
    let url = server.url();
    let own = url.clone();
    assert_eq!(open_with_origin(&url, None).await, 101);
    assert_eq!(open_with_origin(&url, Some(&own)).await, 101);
    assert_eq!(
        open_with_origin(&url, Some("https://app.example.org")).await,
        101
    );
    assert_eq!(
        open_with_origin(&url, Some("http://evil.example")).await,
        403
    );
    assert_eq!(open_with_origin(&url, Some("null")).await, 403);
    let port = server.addr.port();
    assert_eq!(
        open_with_origin(&url, Some(&format!("http://localhost:{}", port + 1))).await,
        403
    );
    let text = metrics(&url).await;
    assert_eq!(
        sample(
            &text,
            "tramyte_sync_refused_total{reason=\"origin_not_allowed\"}"
        ),
        3,
        "{text}"
    );
    server.stop().await;
}

/// Ephemeral messages reach the other peers as sent by the peer id the sender gave in its
/// `join`, whatever `senderId` the message claims.
#[tokio::test]
async fn hostile_ephemeral_messages_carry_the_senders_own_peer_id() {
    for backend in backends().await {
        hostile_ephemeral_messages_carry_the_senders_own_peer_id_on(backend).await;
    }
}

async fn hostile_ephemeral_messages_carry_the_senders_own_peer_id_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| config.open = true).await;
    let url = server.url();
    let id = new_id();
    let mut a = SyncClient::new("phone-a");
    a.connect(&url).await;
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "title", "x").unwrap();
    doc.commit();
    a.insert(id, doc).await;
    a.settle(id).await;
    let mut b = SyncClient::new("phone-b");
    b.connect(&url).await;
    b.request(id).await;
    b.settle(id).await;
    let spoofed = Message::Ephemeral {
        sender_id: "the-district-reviewer".to_owned(),
        target_id: "server".to_owned(),
        document_id: id,
        session_id: "session-a".to_owned(),
        count: 1,
        data: vec![0xa0],
    };
    a.send_raw(WsMessage::Binary(spoofed.encode().into())).await;
    b.pump_until(SETTLE, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Ephemeral { .. }))
    })
    .await;
    let senders: Vec<&String> = b
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Ephemeral { sender, .. } => Some(sender),
            _ => None,
        })
        .collect();
    assert_eq!(senders, vec!["phone-a"]);
    server.stop().await;
}
