//! The fuzz target against the real server, briefly: mutated frames (whole CBOR frames, and
//! real sync payloads mutated inside well-formed `sync` frames) each on a fresh connection,
//! while a client keeps syncing. Afterwards that client has had every acknowledgement, no panic
//! was even contained, a new client joins within a second and `/healthz` is 200.
//!
//! A few hundred frames in CI (`TRAMYTE_FUZZ_CASES` for more, `TRAMYTE_FUZZ_SEED` for another
//! sequence; `cargo xtask fuzz` sets both). The in-process fuzz target with shrinking is
//! `shared/tests/fuzz_hub.rs`.

use std::time::{Duration, Instant};

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tramyte_server::config::DocKindArg;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::message::Message;
use tramyte_tests::hostile::{healthz, keep_editing, metrics, raw_join, sample};
use tramyte_tests::sync_client::SyncClient;
use tramyte_tests::{Backend, backends, spawn_server_on};

/// xorshift64*: a tiny deterministic generator, so a failing sequence can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: [u8; 10] = [0x00, 0x01, 0x02, 0x07, 0x0a, 0x42, 0x43, 0x7f, 0x80, 0xff];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len().max(1);
        let at = rng.below(len);
        match rng.below(6) {
            0 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = INTERESTING[rng.below(INTERESTING.len())];
                }
            }
            2 => {
                let more: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| INTERESTING[rng.below(INTERESTING.len())])
                    .collect();
                let at = at.min(bytes.len());
                bytes.splice(at..at, more);
            }
            3 => {
                let end = (at + 1 + rng.below(32)).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            4 => {
                let end = (at + 1 + rng.below(64)).min(bytes.len());
                if at < end {
                    let piece = bytes[at..end].to_vec();
                    let to = rng.below(bytes.len() + 1);
                    bytes.splice(to..to, piece);
                }
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

/// Real sync payloads about `stored` (a peer that forked it and edited), and real frames.
fn seeds(stored: &mut automerge::AutoCommit, id: DocumentId) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut peer = stored.fork();
    peer.put(automerge::ROOT, "zone", 2).unwrap();
    peer.commit();
    peer.put(automerge::ROOT, "note", "đạt chuẩn").unwrap();
    peer.commit();
    let mut server = stored.fork();
    let (mut ps, mut ss) = (automerge::sync::State::new(), automerge::sync::State::new());
    let mut payloads = Vec::new();
    for _ in 0..4 {
        if let Some(message) = peer.sync().generate_sync_message(&mut ps) {
            let bytes = message.encode();
            payloads.push(bytes.clone());
            server
                .sync()
                .receive_sync_message(&mut ss, automerge::sync::Message::decode(&bytes).unwrap())
                .unwrap();
        }
        if let Some(message) = server.sync().generate_sync_message(&mut ss) {
            peer.sync().receive_sync_message(&mut ps, message).unwrap();
        }
    }
    let frames = payloads
        .iter()
        .map(|data| {
            Message::Sync {
                sender_id: "fuzz".into(),
                target_id: "server".into(),
                document_id: id,
                data: data.clone(),
            }
            .encode()
        })
        .chain([Message::Ephemeral {
            sender_id: "fuzz".into(),
            target_id: "server".into(),
            document_id: id,
            session_id: "s".into(),
            count: 1,
            data: vec![0xa0],
        }
        .encode()])
        .collect();
    (payloads, frames)
}

#[tokio::test]
async fn fuzz_server_mutated_frames_hurt_no_one_else() {
    for backend in backends().await {
        fuzz_server_mutated_frames_hurt_no_one_else_on(backend).await;
    }
}

async fn fuzz_server_mutated_frames_hurt_no_one_else_on(backend: Backend) {
    let cases: usize = std::env::var("TRAMYTE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150);
    let seed: u64 = std::env::var("TRAMYTE_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    let mut server = spawn_server_on(backend, |config| config.open = true).await;
    let url = server.url();
    let store = tramyte_server::store::Store::connect(&server.config.database_url)
        .await
        .unwrap();
    let object = serde_json::json!({"title": "Trạm Y tế xã Thiệu Toán"});
    let target =
        tramyte_server::cli::create_document(&store, DocKindArg::Json, object.as_object().unwrap())
            .await
            .unwrap();
    let chunks = tramyte_server::store::document::load(&store, target)
        .await
        .unwrap()
        .unwrap();
    store.close().await;
    let mut stored = tramyte_shared::sync::hub::load_chunks(&chunks).unwrap();
    let (payloads, frames) = seeds(&mut stored, target);

    let (stop_tx, stop) = watch::channel(false);
    let (steady, progress) = keep_editing(
        &url,
        tramyte_server::store::document::new_document_id().unwrap(),
        3,
        stop,
    )
    .await;

    let mut rng = Rng(seed.max(1));
    let started = Instant::now();
    for case in 0..cases {
        let frame = if rng.below(2) == 0 {
            let seed_frame = &frames[rng.below(frames.len())];
            mutate(&mut rng, seed_frame)
        } else {
            let seed_payload = &payloads[rng.below(payloads.len())];
            let data = mutate(&mut rng, seed_payload);
            Message::Sync {
                sender_id: "fuzz".into(),
                target_id: "server".into(),
                document_id: target,
                data,
            }
            .encode()
        };
        let mut socket = raw_join(&url, &format!("fuzz-{case}")).await;
        socket
            .send(WsMessage::Binary(frame.clone().into()))
            .await
            .unwrap_or_else(|err| panic!("case {case} (seed {seed}): {err}"));
        // Refused frames close the socket at once; accepted ones are answered or ignored.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(100);
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
            if matches!(message, WsMessage::Close(_)) {
                break;
            }
        }
        drop(socket);
        let text = metrics(&url).await;
        assert_eq!(
            sample(&text, "tramyte_sync_panics_contained_total"),
            0,
            "case {case} (seed {seed}) made the hub panic: frame {frame:02x?}"
        );
    }
    let elapsed = started.elapsed();

    let joined = Instant::now();
    let mut newcomer = SyncClient::new("newcomer");
    newcomer.connect(&url).await;
    assert!(joined.elapsed() < Duration::from_secs(1));
    newcomer.request(target).await;
    newcomer.settle(target).await;
    let (status, body) = healthz(&url).await;
    assert_eq!(status, 200, "{body}");
    let done = *progress.borrow();
    let mut progress = progress;
    progress.wait_for(|n| *n > done).await.unwrap();
    stop_tx.send(true).unwrap();
    let steady = steady.await.unwrap();
    assert!(steady.client.is_online());
    eprintln!(
        "fuzz: {cases} frames (seed {seed}) in {elapsed:?}; the steady client had {} acknowledgements, the slowest in {:?}",
        steady.acks.len(),
        steady.acks.iter().max()
    );
    server.stop().await;
}
