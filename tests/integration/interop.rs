//! The official JavaScript client, `@automerge/automerge-repo` 2.x with its websocket adapter,
//! run by Node, syncs with our server in open mode: one peer creates a document, another finds
//! it by URL, their concurrent edits converge, and after a server restart a third finds it; a
//! document many websocket fragments long goes both ways between it, the server and our client.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, Value};
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::client::Client;
use tramyte_tests::browser::Script;
use tramyte_tests::sync_client::{SETTLE, SyncClient};
use tramyte_tests::{Backend, backends, spawn_server_on};

#[tokio::test]
async fn the_official_automerge_repo_client_creates_finds_and_converges() {
    for backend in backends().await {
        the_official_automerge_repo_client_creates_finds_and_converges_on(backend).await;
    }
}

async fn the_official_automerge_repo_client_creates_finds_and_converges_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| config.open = true).await;
    let mut script = Script::start("repo_interop", &server.url());
    script.wait_for("server-restart").await;
    server.restart().await;
    script.go().await;
    script.finish().await;
    server.stop().await;
}

/// A document many websocket fragments long syncs both ways between our server, the official
/// client (Node's `ws` reassembles the fragments the server sends and sends one large frame of
/// its own) and our Rust client (tokio-tungstenite, the same both ways).
#[tokio::test]
async fn a_document_of_many_fragments_syncs_both_ways_with_the_official_client_and_ours() {
    for backend in backends().await {
        a_document_of_many_fragments_syncs_both_ways_on(backend).await;
    }
}

/// Text no compressor shrinks much (random base64 letters), `len` characters.
fn random_text(len: usize, mut state: u64) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..len)
        .map(|_| {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            char::from(LETTERS[(x >> 58) as usize])
        })
        .collect()
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A text or string at the root of a client's copy of a document.
fn text_of(client: &Client, id: DocumentId, key: &str) -> Option<String> {
    let doc = client.doc(&id)?;
    match doc.get(automerge::ROOT, key).ok()?? {
        (Value::Object(ObjType::Text), text) => doc.text(&text).ok(),
        (Value::Scalar(scalar), _) => scalar.as_str().map(str::to_owned),
        _ => None,
    }
}

/// Whether a client has the official client's text, whole (its length then).
fn from_js(client: &Client, id: DocumentId) -> Option<usize> {
    let text = text_of(client, id, "fromJs")?;
    let sha = text_of(client, id, "fromJsSha256")?;
    (sha256(&text) == sha).then_some(text.len())
}

async fn a_document_of_many_fragments_syncs_both_ways_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| config.open = true).await;
    let url = server.url();
    // 96 KiB of text: even compressed, its sync messages are dozens of the server's 2 KiB
    // frames, and many of the 2 KiB fragments it reads a client's large frame as.
    let dossier = random_text(96 << 10, 0x5eed);
    let mut doc = AutoCommit::new();
    let text = doc
        .put_object(automerge::ROOT, "dossier", ObjType::Text)
        .unwrap();
    doc.splice_text(&text, 0, 0, &dossier).unwrap();
    doc.commit();
    assert!(
        doc.save().len() > 40 << 10,
        "{} bytes saved",
        doc.save().len()
    );
    let id = tramyte_server::store::document::new_document_id().unwrap();
    let mut writer = SyncClient::new("rust-writer");
    writer.connect(&url).await;
    writer.insert(id, doc).await;
    writer.settle(id).await;

    let mut script = Script::start_with(
        "large_document",
        &url,
        &[
            ("LARGE_DOC_URL", &id.url()),
            ("LARGE_DOC_SHA256", &sha256(&dossier)),
        ],
    );
    script.wait_for("rust-read").await;
    // The official client's text reaches the writer, still connected, and a fresh reader.
    writer
        .pump_until(SETTLE, |client, _| from_js(client, id).is_some())
        .await;
    let mut reader = SyncClient::new("rust-reader");
    reader.connect(&url).await;
    reader.request(id).await;
    reader
        .pump_until(SETTLE, |client, _| {
            from_js(client, id).is_some() && text_of(client, id, "dossier").is_some()
        })
        .await;
    for client in [&writer, &reader] {
        assert!(from_js(&client.client, id).is_some_and(|len| len > 96 << 10));
        assert_eq!(
            text_of(&client.client, id, "dossier").map(|text| sha256(&text)),
            Some(sha256(&dossier)),
            "{backend:?}"
        );
    }
    script.go().await;
    script.finish().await;
    server.stop().await;
}
