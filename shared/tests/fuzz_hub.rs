//! A fuzz target for the sync hub, in process and sans-IO, on stable Rust (proptest): mutated
//! CBOR frames and mutated real automerge sync payloads from a hostile connection, while a
//! healthy client syncs another document. Properties: nothing panics (not even a panic the
//! hub would contain), every refused connection gets an `error` before its close, and the
//! healthy client's next change is still acknowledged.
//!
//! CI runs a few hundred cases with a fixed seed; `cargo xtask fuzz` runs many more with fresh
//! seeds (`TRAMYTE_FUZZ_CASES`, `TRAMYTE_FUZZ_SEED`). Inputs that once broke something are kept
//! at the end of this file as named regression tests.
#![allow(clippy::unwrap_used)] // tests unwrap what they just built

use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ReadDoc};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tramyte_shared::sync::client::Client;
use tramyte_shared::sync::hub::{ConnId, Hub, HubConfig, Input, LoadOutcome, Output};
use tramyte_shared::sync::message::{Message, PeerMetadata};
use tramyte_shared::sync::{Chunk, ChunkKind, DocumentId};

const STORED: DocumentId = DocumentId::from_bytes([1; 16]);
const HEALTHY: DocumentId = DocumentId::from_bytes([2; 16]);

/// A hub with its storage, one healthy client and hostile connections.
struct World {
    hub: Hub,
    storage: HashMap<DocumentId, Vec<Chunk>>,
    healthy: Client,
    healthy_conn: ConnId,
    healthy_inbox: VecDeque<Vec<u8>>,
    healthy_closed: bool,
    queue: VecDeque<Input>,
    next_conn: u64,
    now_ms: i64,
    /// Every output, for the checks.
    outputs: Vec<Output>,
}

impl World {
    fn new() -> World {
        let mut config = HubConfig::new("server");
        config.open = true;
        let mut world = World {
            hub: Hub::new(config),
            storage: HashMap::new(),
            healthy: Client::new("healthy"),
            healthy_conn: ConnId(0),
            healthy_inbox: VecDeque::new(),
            healthy_closed: false,
            queue: VecDeque::new(),
            next_conn: 1,
            now_ms: 1_000,
            outputs: Vec::new(),
        };
        world.storage.insert(
            STORED,
            vec![Chunk::new(ChunkKind::Snapshot, seeds().saved.clone())],
        );
        world.queue.push_back(Input::Connected {
            conn: world.healthy_conn,
            now_ms: world.now_ms,
            principal: None,
        });
        let join = world.healthy.connect();
        world.frame(world.healthy_conn, join);
        world.run();
        let frames = world.healthy.insert(HEALTHY, healthy_document());
        for frame in frames {
            world.frame(world.healthy_conn, frame);
        }
        world.run();
        assert!(world.healthy.in_sync(&HEALTHY), "the healthy client syncs");
        world
    }

    fn frame(&mut self, conn: ConnId, frame: Vec<u8>) {
        self.queue.push_back(Input::Frame {
            conn,
            frame,
            now_ms: self.now_ms,
        });
    }

    /// A new hostile connection that joined properly; its frames follow.
    fn hostile(&mut self, frames: Vec<Vec<u8>>) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.queue.push_back(Input::Connected {
            conn,
            now_ms: self.now_ms,
            principal: None,
        });
        let join = Message::Join {
            sender_id: format!("hostile-{}", conn.0),
            supported_protocol_versions: vec!["1".into()],
            metadata: Some(PeerMetadata::default()),
        };
        self.frame(conn, join.encode());
        for frame in frames {
            self.frame(conn, frame);
        }
        conn
    }

    fn run(&mut self) {
        for _ in 0..10_000 {
            if let Some(input) = self.queue.pop_front() {
                let outputs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.hub.handle(input)
                }))
                .unwrap_or_else(|_| panic!("a panic escaped Hub::handle"));
                for output in outputs {
                    self.carry_out(output);
                }
                continue;
            }
            let Some(frame) = self.healthy_inbox.pop_front() else {
                return;
            };
            let step = self.healthy.receive(&frame).unwrap();
            for frame in step.frames {
                self.frame(self.healthy_conn, frame);
            }
        }
        panic!("the hub did not settle");
    }

    fn carry_out(&mut self, output: Output) {
        match &output {
            Output::Send { conn, frame } if *conn == self.healthy_conn => {
                self.healthy_inbox.push_back(frame.clone());
            }
            Output::Close { conn, .. } if *conn == self.healthy_conn => {
                self.healthy_closed = true;
            }
            Output::Load { document } => {
                let outcome = match self.storage.get(document) {
                    Some(chunks) => LoadOutcome::Found(chunks.clone()),
                    None => LoadOutcome::NotFound,
                };
                self.queue.push_back(Input::Loaded {
                    document: *document,
                    outcome,
                });
            }
            Output::Persist {
                document,
                ticket,
                chunk,
                ..
            } => {
                self.storage
                    .entry(*document)
                    .or_default()
                    .push(chunk.clone());
                self.queue.push_back(Input::Persisted {
                    document: *document,
                    ticket: *ticket,
                });
            }
            Output::Compact {
                document, ticket, ..
            } => self.queue.push_back(Input::Persisted {
                document: *document,
                ticket: *ticket,
            }),
            _ => {}
        }
        self.outputs.push(output);
    }

    /// The properties, after the hostile frames were handled.
    fn check(&mut self) -> Result<(), TestCaseError> {
        for output in &self.outputs {
            if let Output::PanicContained { document, message } = output {
                return Err(TestCaseError::fail(format!(
                    "a panic was contained for {document:?}: {message}"
                )));
            }
        }
        // Every close of a hostile connection that the hub decided comes after an `error`.
        for (i, output) in self.outputs.iter().enumerate() {
            if let Output::Close { conn, reason } = output
                && !reason.starts_with("the peer")
            {
                let told = self.outputs[..i].iter().any(|o| {
                    matches!(o, Output::Send { conn: c, frame } if c == conn
                        && matches!(Message::decode(frame), Ok(Message::Error { .. })))
                });
                prop_assert!(told, "closed {conn:?} without an error: {reason}");
            }
        }
        prop_assert!(!self.healthy_closed, "the healthy client was closed");
        // The healthy client's next change is acknowledged.
        let doc = self.healthy.doc_mut(&HEALTHY).unwrap();
        let n = doc
            .get(automerge::ROOT, "counter")
            .unwrap()
            .map_or(0, |_| 1);
        doc.put(automerge::ROOT, "counter", n + 1).unwrap();
        doc.commit();
        for frame in self.healthy.sync(HEALTHY) {
            self.frame(self.healthy_conn, frame);
        }
        self.run();
        prop_assert!(
            self.healthy.in_sync(&HEALTHY),
            "the healthy client's change was not acknowledged"
        );
        Ok(())
    }
}

fn healthy_document() -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Vận")
        .unwrap();
    doc.commit();
    doc
}

/// Real frames and sync payloads to start mutating from.
struct Seeds {
    stored: AutoCommit,
    /// Hashes of the stored document's changes, and of the peer's own changes.
    stored_hashes: Vec<[u8; 32]>,
    peer_hashes: Vec<[u8; 32]>,
    /// The peer's own changes, as raw chunks, and the peer's whole document saved.
    peer_changes: Vec<Vec<u8>>,
    peer_saved: Vec<u8>,
    /// The stored document, saved.
    saved: Vec<u8>,
    /// Sync payloads a peer that forked the stored document sends it.
    payloads: Vec<Vec<u8>>,
    /// Whole frames of every message type.
    frames: Vec<Vec<u8>>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut stored = AutoCommit::new();
        stored
            .put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Toán")
            .unwrap();
        let note = stored
            .put_object(automerge::ROOT, "note", automerge::ObjType::Text)
            .unwrap();
        stored.splice_text(&note, 0, 0, "đạt chuẩn").unwrap();
        stored.commit();
        for i in 0..5 {
            stored.put(automerge::ROOT, format!("score{i}"), i).unwrap();
            stored.commit();
        }
        let mut peer = stored.fork();
        peer.put(automerge::ROOT, "zone", 2).unwrap();
        peer.commit();
        peer.splice_text(&note, 0, 0, "Phòng khám ").unwrap();
        peer.commit();
        let stored_hashes: Vec<[u8; 32]> =
            stored.get_changes(&[]).iter().map(|c| c.hash().0).collect();
        let peer_own = peer.get_changes(&stored.get_heads());
        let peer_hashes: Vec<[u8; 32]> = peer_own.iter().map(|c| c.hash().0).collect();
        let peer_changes: Vec<Vec<u8>> = peer_own.iter().map(|c| c.raw_bytes().to_vec()).collect();
        let peer_saved = peer.save();
        let mut server = stored.fork();
        let mut payloads = Vec::new();
        let (mut peer_state, mut server_state) =
            (automerge::sync::State::new(), automerge::sync::State::new());
        for _ in 0..4 {
            if let Some(message) = peer.sync().generate_sync_message(&mut peer_state) {
                let bytes = message.encode();
                payloads.push(bytes.clone());
                let message = automerge::sync::Message::decode(&bytes).unwrap();
                server
                    .sync()
                    .receive_sync_message(&mut server_state, message)
                    .unwrap();
            }
            if let Some(message) = server.sync().generate_sync_message(&mut server_state) {
                peer.sync()
                    .receive_sync_message(&mut peer_state, message)
                    .unwrap();
            }
        }
        // A version 2 message (the whole document) and one that needs the stored heads.
        payloads.push(
            automerge::sync::Message {
                heads: peer.get_heads(),
                need: Vec::new(),
                have: Vec::new(),
                changes: peer.save().into(),
                flags: None,
                version: automerge::sync::MessageVersion::V2,
            }
            .encode(),
        );
        let mut need = stored.get_heads();
        need.sort();
        payloads.push(
            automerge::sync::Message {
                heads: Vec::new(),
                need,
                have: Vec::new(),
                changes: Vec::<Vec<u8>>::new().into(),
                flags: None,
                version: automerge::sync::MessageVersion::V1,
            }
            .encode(),
        );
        let sync = |data: &Vec<u8>| Message::Sync {
            sender_id: "hostile".into(),
            target_id: "server".into(),
            document_id: STORED,
            data: data.clone(),
        };
        let mut frames: Vec<Vec<u8>> = payloads.iter().map(|p| sync(p).encode()).collect();
        frames.extend(
            [
                Message::Request {
                    sender_id: "hostile".into(),
                    target_id: "server".into(),
                    document_id: STORED,
                    data: payloads[0].clone(),
                },
                Message::Ephemeral {
                    sender_id: "hostile".into(),
                    target_id: "server".into(),
                    document_id: STORED,
                    session_id: "s".into(),
                    count: 3,
                    data: vec![0xa1, 0x61, 0x78, 0x01],
                },
                Message::DocUnavailable {
                    sender_id: "hostile".into(),
                    target_id: "server".into(),
                    document_id: STORED,
                },
                Message::Join {
                    sender_id: "again".into(),
                    supported_protocol_versions: vec!["1".into()],
                    metadata: Some(PeerMetadata {
                        storage_id: Some("storage".into()),
                        is_ephemeral: true,
                    }),
                },
                Message::Leave {
                    sender_id: "hostile".into(),
                },
                Message::Error {
                    message: "boom".into(),
                },
                Message::Other {
                    message_type: "remote-heads-changed".into(),
                },
            ]
            .iter()
            .map(Message::encode),
        );
        Seeds {
            saved: stored.save(),
            stored,
            stored_hashes,
            peer_hashes,
            peer_changes,
            peer_saved,
            payloads,
            frames,
        }
    })
}

/// One byte-level change.
#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        value: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Duplicate {
        from: usize,
        len: usize,
        to: usize,
    },
    Truncate {
        at: usize,
    },
    /// Writes a LEB128 number (a count or a length, often).
    Number {
        at: usize,
        value: u64,
    },
}

/// Bytes fuzzers find interesting in this format.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(0x00),
        Just(0x01),
        Just(0x02),
        Just(0x07),
        Just(0x0a),
        Just(0x42),
        Just(0x43),
        Just(0x7f),
        Just(0x80),
        Just(0xff),
        any::<u8>(),
    ]
}

fn mutation() -> BoxedStrategy<Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (at, interesting_byte()).prop_map(|(at, value)| Mutation::Set { at, value }),
        (at, proptest::collection::vec(interesting_byte(), 1..40))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at, 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at, 1usize..128, any::<usize>()).prop_map(|(from, len, to)| Mutation::Duplicate {
            from,
            len,
            to
        }),
        at.prop_map(|at| Mutation::Truncate { at }),
        (
            at,
            prop_oneof![
                Just(0u64),
                Just(1),
                Just(2),
                Just(32),
                Just(u64::from(u32::MAX)),
                Just(u64::MAX),
                any::<u64>()
            ]
        )
            .prop_map(|(at, value)| Mutation::Number { at, value }),
    ]
    .boxed()
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        let len = bytes.len().max(1);
        match mutation {
            Mutation::Flip { at, bit } => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= 1 << bit;
                }
            }
            Mutation::Set { at, value } => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b = *value;
                }
            }
            Mutation::Insert { at, bytes: more } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, more.iter().copied());
            }
            Mutation::Delete { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Duplicate { from, len: n, to } => {
                let from = from % len;
                let end = (from + n).min(bytes.len());
                if from < end {
                    let piece: Vec<u8> = bytes[from..end].to_vec();
                    let to = to % (bytes.len() + 1);
                    bytes.splice(to..to, piece);
                }
            }
            Mutation::Truncate { at } => bytes.truncate(at % len),
            Mutation::Number { at, value } => {
                let at = at % (bytes.len() + 1);
                let mut leb = Vec::new();
                let mut n = *value;
                loop {
                    let byte = (n & 0x7f) as u8;
                    n >>= 7;
                    if n == 0 {
                        leb.push(byte);
                        break;
                    }
                    leb.push(byte | 0x80);
                }
                let end = (at + leb.len()).min(bytes.len());
                bytes.splice(at..end, leb);
            }
        }
    }
    bytes
}

/// A hash a sync message may name: one of the stored document's changes, one of the peer's,
/// or any 32 bytes.
#[derive(Debug, Clone)]
enum HashPick {
    Stored(usize),
    Peer(usize),
    Any([u8; 32]),
}

fn hash_pick() -> BoxedStrategy<HashPick> {
    prop_oneof![
        4 => any::<usize>().prop_map(HashPick::Stored),
        2 => any::<usize>().prop_map(HashPick::Peer),
        1 => any::<[u8; 32]>().prop_map(HashPick::Any),
    ]
    .boxed()
}

/// A Bloom filter as written on the wire, parameters and length chosen freely.
#[derive(Debug, Clone)]
struct BloomModel {
    entries: u64,
    bits_per_entry: u64,
    probes: u64,
    /// Bytes more (or, negative, fewer) than the parameters call for.
    slack: i8,
    fill: u8,
}

fn interesting_number() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(2),
        Just(7),
        Just(10),
        Just(32),
        Just(33),
        Just(255),
        Just(1 << 20),
        Just(u64::from(u32::MAX)),
        Just(u64::MAX),
        0u64..64,
    ]
}

fn bloom_model() -> impl Strategy<Value = Option<BloomModel>> {
    prop_oneof![
        1 => Just(None),
        4 => (
            interesting_number(),
            interesting_number(),
            interesting_number(),
            prop_oneof![4 => Just(0i8), 1 => -3i8..4],
            any::<u8>()
        )
            .prop_map(|(entries, bits_per_entry, probes, slack, fill)| {
                Some(BloomModel {
                    // The bits are written out: keep their count sane, the parameters not.
                    entries: entries.min(4_096),
                    bits_per_entry,
                    probes,
                    slack,
                    fill,
                })
            }),
    ]
}

/// A change entry: one of the peer's changes (whole, cut short or with a byte changed), the
/// peer's saved document, or the stored document's own bytes.
#[derive(Debug, Clone)]
enum ChangePick {
    Peer(usize),
    Cut(usize, usize),
    Poke(usize, usize, u8),
    Saved,
    SavedPoke(usize, u8),
    Empty,
}

fn change_pick() -> impl Strategy<Value = ChangePick> {
    prop_oneof![
        4 => any::<usize>().prop_map(ChangePick::Peer),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(i, at)| ChangePick::Cut(i, at)),
        2 => (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(i, at, v)| ChangePick::Poke(i, at, v)),
        1 => Just(ChangePick::Saved),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, v)| ChangePick::SavedPoke(at, v)),
        1 => Just(ChangePick::Empty),
    ]
}

/// A sync message written field by field, so that counts, duplicates and Bloom parameters
/// are explored on purpose rather than by luck.
#[derive(Debug, Clone)]
struct SyncModel {
    v2: bool,
    heads: Vec<HashPick>,
    need: Vec<HashPick>,
    have: Vec<(Vec<HashPick>, Option<BloomModel>)>,
    changes: Vec<ChangePick>,
    flags: Option<Vec<u8>>,
}

fn sync_model() -> impl Strategy<Value = SyncModel> {
    let hashes = proptest::collection::vec(hash_pick(), 0..5);
    (
        any::<bool>(),
        hashes.clone(),
        hashes.clone(),
        proptest::collection::vec((hashes, bloom_model()), 0..3),
        proptest::collection::vec(change_pick(), 0..4),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..4)),
    )
        .prop_map(|(v2, heads, need, have, changes, flags)| SyncModel {
            v2,
            heads,
            need,
            have,
            changes,
            flags,
        })
}

fn leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

impl SyncModel {
    fn encode(&self) -> Vec<u8> {
        let seeds = seeds();
        let hash = |pick: &HashPick| -> [u8; 32] {
            match pick {
                HashPick::Stored(i) => seeds.stored_hashes[i % seeds.stored_hashes.len()],
                HashPick::Peer(i) => seeds.peer_hashes[i % seeds.peer_hashes.len()],
                HashPick::Any(bytes) => *bytes,
            }
        };
        let hashes = |out: &mut Vec<u8>, picks: &[HashPick]| {
            leb(out, picks.len() as u64);
            for pick in picks {
                out.extend(hash(pick));
            }
        };
        let mut out = vec![if self.v2 { 0x43 } else { 0x42 }];
        hashes(&mut out, &self.heads);
        hashes(&mut out, &self.need);
        leb(&mut out, self.have.len() as u64);
        for (last_sync, bloom) in &self.have {
            hashes(&mut out, last_sync);
            let mut bytes = Vec::new();
            if let Some(bloom) = bloom {
                leb(&mut bytes, bloom.entries);
                leb(&mut bytes, bloom.bits_per_entry);
                leb(&mut bytes, bloom.probes);
                let wanted = bloom
                    .entries
                    .saturating_mul(bloom.bits_per_entry)
                    .div_ceil(8);
                let len = (wanted.min(1 << 16) as i64 + i64::from(bloom.slack)).max(0) as usize;
                bytes.extend(std::iter::repeat_n(bloom.fill, len));
            }
            leb(&mut out, bytes.len() as u64);
            out.extend(bytes);
        }
        leb(&mut out, self.changes.len() as u64);
        for change in &self.changes {
            let pick = |i: &usize| seeds.peer_changes[i % seeds.peer_changes.len()].clone();
            let bytes = match change {
                ChangePick::Peer(i) => pick(i),
                ChangePick::Cut(i, at) => {
                    let mut bytes = pick(i);
                    bytes.truncate(at % bytes.len().max(1));
                    bytes
                }
                ChangePick::Poke(i, at, value) => {
                    let mut bytes = pick(i);
                    let len = bytes.len().max(1);
                    if let Some(b) = bytes.get_mut(at % len) {
                        *b = *value;
                    }
                    bytes
                }
                ChangePick::Saved => seeds.peer_saved.clone(),
                ChangePick::SavedPoke(at, value) => {
                    let mut bytes = seeds.peer_saved.clone();
                    let len = bytes.len().max(1);
                    if let Some(b) = bytes.get_mut(at % len) {
                        *b = *value;
                    }
                    bytes
                }
                ChangePick::Empty => Vec::new(),
            };
            leb(&mut out, bytes.len() as u64);
            out.extend(bytes);
        }
        if let Some(flags) = &self.flags {
            leb(&mut out, flags.len() as u64);
            out.extend(flags);
        }
        out
    }
}

/// A hostile frame: a whole frame mutated, a real sync payload mutated inside a well-formed
/// `sync` (or `request`) frame, or a sync message written from a model (then perhaps mutated),
/// so that it reaches the sync message checks and automerge.
fn hostile_frame() -> impl Strategy<Value = Vec<u8>> {
    let frames = seeds().frames.len();
    let payloads = seeds().payloads.len();
    let mutations = proptest::collection::vec(mutation(), 1..6);
    let wrap = |data: Vec<u8>, request: bool| {
        let (sender_id, target_id) = ("hostile".to_owned(), "server".to_owned());
        if request {
            Message::Request {
                sender_id,
                target_id,
                document_id: STORED,
                data,
            }
            .encode()
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id: STORED,
                data,
            }
            .encode()
        }
    };
    prop_oneof![
        (
            sync_model(),
            proptest::collection::vec(mutation(), 0..2),
            any::<bool>()
        )
            .prop_map(move |(model, m, request)| wrap(mutate(&model.encode(), &m), request)),
        (0..frames, mutations.clone()).prop_map(|(i, m)| mutate(&seeds().frames[i], &m)),
        (0..payloads, mutations, any::<bool>())
            .prop_map(move |(i, m, request)| wrap(mutate(&seeds().payloads[i], &m), request)),
    ]
}

/// Runs `cases` cases: a fixed seed unless `TRAMYTE_FUZZ_SEED` names one (or `random`).
fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("TRAMYTE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    match std::env::var("TRAMYTE_FUZZ_SEED").ok().as_deref() {
        Some("random") => TestRunner::new(config),
        other => {
            let seed: u64 = other.and_then(|s| s.parse().ok()).unwrap_or(24);
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
        }
    }
}

fn check_frames(frames: Vec<Vec<u8>>) -> Result<(), TestCaseError> {
    let mut world = World::new();
    for frame in frames {
        world.hostile(vec![frame]);
    }
    world.run();
    world.check()
}

#[test]
fn fuzz_hub_hostile_frames_hurt_no_one_else() {
    let mut runner = runner(300);
    let result = runner.run(
        &proptest::collection::vec(hostile_frame(), 1..4),
        check_frames,
    );
    if let Err(err) = result {
        panic!("{err}");
    }
}

/// Several hostile frames on one connection, after a proper sync of the stored document.
#[test]
fn fuzz_hub_hostile_frames_after_a_real_sync_hurt_no_one_else() {
    let mut runner = runner(150);
    let result = runner.run(
        &proptest::collection::vec(hostile_frame(), 1..4),
        |frames| {
            let mut world = World::new();
            let mut all = vec![
                Message::Request {
                    sender_id: "hostile".into(),
                    target_id: "server".into(),
                    document_id: STORED,
                    data: seeds().payloads[0].clone(),
                }
                .encode(),
            ];
            all.extend(frames);
            world.hostile(all);
            world.run();
            world.check()
        },
    );
    if let Err(err) = result {
        panic!("{err}");
    }
}

/// The seeds themselves are accepted (a fuzzer whose seeds are refused tests little).
#[test]
fn fuzz_hub_seeds_are_well_formed() {
    let seeds = seeds();
    assert!(seeds.payloads.len() >= 4, "{}", seeds.payloads.len());
    for payload in &seeds.payloads {
        tramyte_shared::sync::validate::validate_sync_message(
            payload,
            &tramyte_shared::sync::validate::SyncLimits::default(),
        )
        .unwrap();
    }
    let mut world = World::new();
    let conn = world.hostile(vec![seeds.frames[0].clone()]);
    world.run();
    assert!(
        !world
            .outputs
            .iter()
            .any(|o| matches!(o, Output::Close { conn: c, .. } if *c == conn)),
        "a real sync frame is not refused"
    );
    world.check().unwrap();
}

// Regression tests: inputs found by this fuzzer (or by issue 24's run against the server),
// kept by name.

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.split_whitespace().collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn sync_frame(data: Vec<u8>) -> Vec<u8> {
    Message::Sync {
        sender_id: "hostile".into(),
        target_id: "server".into(),
        document_id: STORED,
        data,
    }
    .encode()
}

#[test]
fn regression_issue_24_duplicate_need() {
    let mut stored = seeds().stored.clone();
    let head = stored.get_heads()[0];
    let mut data = hex("42 00 02");
    data.extend(head.0);
    data.extend(head.0);
    data.extend(hex("00 00"));
    check_frames(vec![sync_frame(data)]).unwrap();
}

#[test]
fn regression_issue_24_bloom_with_zero_bits_per_entry() {
    check_frames(vec![sync_frame(hex("42 00 00 01 00 03 01 00 07 00"))]).unwrap();
}

#[test]
fn regression_issue_24_bloom_with_absurd_probes() {
    check_frames(vec![sync_frame(hex(
        "42 00 00 01 00 08 01 01 ff ff ff ff 0f 00 00",
    ))])
    .unwrap();
}

/// Found by `fuzz_hub_hostile_frames_hurt_no_one_else`: `heads` naming the stored document's two
/// changes in descending order made automerge's own next message trip its `debug_assert!` that
/// hash lists are sorted (`sync.rs:820`, "hashes were not sorted"). Now refused as unsorted.
#[test]
fn regression_fuzz_unsorted_heads() {
    let mut hashes = seeds().stored_hashes.clone();
    hashes.sort();
    hashes.reverse();
    let mut data = vec![0x42, hashes.len() as u8];
    for hash in &hashes {
        data.extend(hash);
    }
    data.extend(hex("00 00 00"));
    let mut world = World::new();
    let conn = world.hostile(vec![sync_frame(data)]);
    world.run();
    assert!(world.outputs.iter().any(|o| matches!(o,
        Output::Refused { conn: c, reason: "sync_message_unsorted_hashes" } if *c == conn)));
    world.check().unwrap();
}
