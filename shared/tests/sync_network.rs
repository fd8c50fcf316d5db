//! The sync engine without sockets: a hub, an in-memory store and several clients exchange
//! frames in memory until nothing moves.
#![allow(clippy::unwrap_used)] // tests unwrap what they just built

use std::collections::{HashMap, VecDeque};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, Value};
use tramyte_shared::sync::client::{Client, ClientEvent};
use tramyte_shared::sync::hub::{ConnId, Hub, HubConfig, Input, LoadOutcome, Output};
use tramyte_shared::sync::message::Message;
use tramyte_shared::sync::{Chunk, DocumentId};

struct Peer {
    client: Client,
    conn: ConnId,
    online: bool,
    inbox: VecDeque<Vec<u8>>,
    events: Vec<ClientEvent>,
    errors: Vec<String>,
}

/// A hub, its storage and its clients, all in memory.
struct Net {
    hub: Hub,
    storage: HashMap<DocumentId, Vec<Chunk>>,
    peers: Vec<Peer>,
    to_hub: VecDeque<Input>,
    now_ms: i64,
    next_conn: u64,
    /// While set, persists are kept here instead of being committed.
    hold_persists: bool,
    held: Vec<(DocumentId, tramyte_shared::sync::hub::Ticket, Chunk)>,
    fail_persists: bool,
    outputs: Vec<Output>,
}

impl Net {
    fn new(open: bool) -> Net {
        let mut config = HubConfig::new("server");
        config.open = open;
        Net::with_config(config)
    }

    fn with_config(config: HubConfig) -> Net {
        Net {
            hub: Hub::new(config),
            storage: HashMap::new(),
            peers: Vec::new(),
            to_hub: VecDeque::new(),
            now_ms: 1_000,
            next_conn: 0,
            hold_persists: false,
            held: Vec::new(),
            fail_persists: false,
            outputs: Vec::new(),
        }
    }

    /// Adds a client and connects it.
    fn add_client(&mut self, name: &str) -> usize {
        self.peers.push(Peer {
            client: Client::new(name),
            conn: ConnId(u64::MAX),
            online: false,
            inbox: VecDeque::new(),
            events: Vec::new(),
            errors: Vec::new(),
        });
        let index = self.peers.len() - 1;
        self.connect(index);
        index
    }

    fn connect(&mut self, index: usize) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        let peer = &mut self.peers[index];
        peer.conn = conn;
        peer.online = true;
        self.to_hub.push_back(Input::Connected {
            conn,
            now_ms: self.now_ms,
            principal: None,
        });
        let join = peer.client.connect();
        self.to_hub.push_back(Input::Frame {
            conn,
            frame: join,
            now_ms: self.now_ms,
        });
    }

    fn disconnect(&mut self, index: usize) {
        let peer = &mut self.peers[index];
        peer.online = false;
        peer.client.disconnected();
        peer.inbox.clear();
        self.to_hub
            .push_back(Input::Disconnected { conn: peer.conn });
    }

    fn send_frames(&mut self, index: usize, frames: Vec<Vec<u8>>) {
        let peer = &self.peers[index];
        if !peer.online {
            return;
        }
        for frame in frames {
            self.to_hub.push_back(Input::Frame {
                conn: peer.conn,
                frame,
                now_ms: self.now_ms,
            });
        }
    }

    /// Runs until no frame or event is pending.
    fn run(&mut self) {
        for _ in 0..100_000 {
            if let Some(input) = self.to_hub.pop_front() {
                for output in self.hub.handle(input) {
                    self.carry_out(output);
                }
                continue;
            }
            let Some(index) = self
                .peers
                .iter()
                .position(|p| p.online && !p.inbox.is_empty())
            else {
                return;
            };
            let frame = self.peers[index].inbox.pop_front().unwrap();
            match self.peers[index].client.receive(&frame) {
                Ok(step) => {
                    self.peers[index].events.extend(step.events);
                    self.send_frames(index, step.frames);
                }
                Err(err) => {
                    self.peers[index].errors.push(err.to_string());
                    self.disconnect(index);
                }
            }
        }
        panic!("the network did not settle");
    }

    fn carry_out(&mut self, output: Output) {
        self.outputs.push(output.clone());
        match output {
            Output::Send { conn, frame } => {
                if let Some(peer) = self.peers.iter_mut().find(|p| p.conn == conn && p.online) {
                    peer.inbox.push_back(frame);
                }
            }
            Output::Close { conn, .. } => {
                if let Some(index) = self.peers.iter().position(|p| p.conn == conn && p.online) {
                    // The hub already forgot the connection; deliver what was sent, then drop.
                    let frames: Vec<Vec<u8>> = self.peers[index].inbox.drain(..).collect();
                    for frame in frames {
                        match self.peers[index].client.receive(&frame) {
                            Ok(step) => self.peers[index].events.extend(step.events),
                            Err(err) => self.peers[index].errors.push(err.to_string()),
                        }
                    }
                    self.peers[index].online = false;
                    self.peers[index].client.disconnected();
                }
            }
            Output::Load { document } => {
                let outcome = match self.storage.get(&document) {
                    Some(chunks) => LoadOutcome::Found(chunks.clone()),
                    None => LoadOutcome::NotFound,
                };
                self.to_hub.push_back(Input::Loaded { document, outcome });
            }
            Output::Persist {
                document,
                ticket,
                chunk,
                ..
            } => {
                if self.fail_persists {
                    self.to_hub.push_back(Input::PersistFailed {
                        document,
                        ticket,
                        error: "disk full".into(),
                    });
                } else if self.hold_persists {
                    self.held.push((document, ticket, chunk));
                } else {
                    self.storage.entry(document).or_default().push(chunk);
                    self.to_hub.push_back(Input::Persisted { document, ticket });
                }
            }
            Output::Compact {
                document,
                ticket,
                snapshot,
                replaces,
            } => {
                let chunks = self.storage.entry(document).or_default();
                chunks.retain(|c| !replaces.contains(&c.key));
                chunks.push(snapshot);
                self.to_hub.push_back(Input::Persisted { document, ticket });
            }
            Output::Evicted { .. }
            | Output::Problem { .. }
            | Output::Refused { .. }
            | Output::PanicContained { .. } => {}
        }
    }

    /// Commits the oldest held persist only, then lets the network settle.
    fn release_one(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let (document, ticket, chunk) = self.held.remove(0);
        self.storage.entry(document).or_default().push(chunk);
        self.to_hub.push_back(Input::Persisted { document, ticket });
        self.run();
    }

    fn release_held(&mut self) {
        for (document, ticket, chunk) in std::mem::take(&mut self.held) {
            self.storage.entry(document).or_default().push(chunk);
            self.to_hub.push_back(Input::Persisted { document, ticket });
        }
        self.run();
    }

    fn edit(&mut self, index: usize, document: DocumentId, change: impl FnOnce(&mut AutoCommit)) {
        let doc = self.peers[index].client.doc_mut(&document).unwrap();
        change(doc);
        doc.commit();
        let frames = self.peers[index].client.sync(document);
        self.send_frames(index, frames);
    }

    /// Peer `index` creates [`new_document`] as `document` and the network settles.
    fn insert_document(&mut self, index: usize, document: DocumentId) {
        let frames = self.peers[index].client.insert(document, new_document());
        self.send_frames(index, frames);
        self.run();
    }

    fn heads(&mut self, index: usize, document: DocumentId) -> Vec<automerge::ChangeHash> {
        self.peers[index]
            .client
            .doc_mut(&document)
            .unwrap()
            .get_heads()
    }

    fn doc(&self, index: usize, document: &DocumentId) -> &AutoCommit {
        self.peers[index].client.doc(document).unwrap()
    }
}

fn doc_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

fn new_document() -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Vận")
        .unwrap();
    doc.put_object(automerge::ROOT, "note", ObjType::Text)
        .unwrap();
    doc.commit();
    doc
}

fn text_of(doc: &AutoCommit) -> String {
    let (_, note) = doc.get(automerge::ROOT, "note").unwrap().unwrap();
    doc.text(&note).unwrap()
}

fn string_values(doc: &AutoCommit, key: &str) -> Vec<String> {
    let mut values: Vec<String> = doc
        .get_all(automerge::ROOT, key)
        .unwrap()
        .into_iter()
        .filter_map(|(value, _)| match value {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(text) => Some(text.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    values.sort();
    values
}

#[test]
fn two_clients_edit_offline_and_converge_with_the_conflict_kept() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    let b = net.add_client("phone-b");
    net.run();
    let id = doc_id(1);
    net.insert_document(a, id);
    let frames = net.peers[b].client.request(id);
    net.send_frames(b, frames);
    net.run();
    assert_eq!(net.heads(b, id), net.heads(a, id));

    net.disconnect(a);
    net.disconnect(b);
    net.run();
    net.edit(a, id, |doc| {
        doc.put(automerge::ROOT, "zone", 2).unwrap();
        doc.put(automerge::ROOT, "self_score", "7.5").unwrap();
        let (_, note) = doc.get(automerge::ROOT, "note").unwrap().unwrap();
        doc.splice_text(&note, 0, 0, "Phòng khám ").unwrap();
    });
    net.edit(b, id, |doc| {
        doc.put(automerge::ROOT, "village_workers", 24).unwrap();
        doc.put(automerge::ROOT, "self_score", "8").unwrap();
        let (_, note) = doc.get(automerge::ROOT, "note").unwrap().unwrap();
        doc.splice_text(&note, 0, 0, "đạt chuẩn").unwrap();
    });
    net.connect(a);
    net.connect(b);
    net.run();

    assert_eq!(net.heads(a, id), net.heads(b, id));
    assert!(
        net.peers[a].client.in_sync(&id) && net.peers[b].client.in_sync(&id),
        "both know the server has it all"
    );
    let (doc_a, doc_b) = (net.doc(a, &id), net.doc(b, &id));
    assert_eq!(
        string_values(doc_a, "self_score"),
        vec!["7.5", "8"],
        "the conflict stays visible"
    );
    assert_eq!(string_values(doc_b, "self_score"), vec!["7.5", "8"]);
    assert!(doc_a.get(automerge::ROOT, "zone").unwrap().is_some());
    assert!(
        doc_b
            .get(automerge::ROOT, "village_workers")
            .unwrap()
            .is_some()
    );
    let text = text_of(doc_a);
    assert_eq!(text, text_of(doc_b));
    assert!(
        text.contains("Phòng khám ") && text.contains("đạt chuẩn"),
        "{text}"
    );
    // What the hub stored loads into the same document.
    let mut stored = tramyte_shared::sync::hub::load_chunks(&net.storage[&id]).unwrap();
    assert_eq!(stored.get_heads(), net.heads(a, id));
    assert!(net.peers.iter().all(|p| p.errors.is_empty()));
}

#[test]
fn clients_reconnecting_under_slow_persists_converge_and_know_it() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    let b = net.add_client("phone-b");
    net.run();
    let id = doc_id(11);
    net.insert_document(a, id);
    let frames = net.peers[b].client.request(id);
    net.send_frames(b, frames);
    net.run();
    net.disconnect(a);
    net.disconnect(b);
    net.run();
    net.edit(a, id, |doc| doc.put(automerge::ROOT, "from_a", 1).unwrap());
    net.edit(b, id, |doc| doc.put(automerge::ROOT, "from_b", 2).unwrap());
    // Both reconnect while every persist is slow: their messages cross the pending persists.
    net.hold_persists = true;
    net.connect(a);
    net.connect(b);
    net.run();
    for _ in 0..20 {
        net.release_one();
    }
    net.hold_persists = false;
    net.run();
    assert_eq!(net.heads(a, id), net.heads(b, id));
    assert!(
        net.peers[a].client.in_sync(&id),
        "{}",
        net.peers[a].client.debug_heads(&id)
    );
    assert!(
        net.peers[b].client.in_sync(&id),
        "{}",
        net.peers[b].client.debug_heads(&id)
    );
}

#[test]
fn nothing_acknowledges_a_change_before_it_is_persisted() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    net.run();
    let id = doc_id(2);
    let frames = net.peers[a].client.insert(id, new_document());
    net.send_frames(a, frames);
    net.hold_persists = true;
    net.outputs.clear();
    net.run();
    assert_eq!(net.held.len(), 1, "the change waits to be persisted");
    let persist_at = net
        .outputs
        .iter()
        .position(|o| matches!(o, Output::Persist { .. }))
        .unwrap();
    let sync_after_persist = net.outputs[persist_at..].iter().any(|o| {
        matches!(o, Output::Send { frame, .. } if matches!(Message::decode(frame), Ok(Message::Sync { .. })))
    });
    assert!(
        !sync_after_persist,
        "no sync message goes out while the change is not durable"
    );

    net.release_held();
    let mut stored = tramyte_shared::sync::hub::load_chunks(&net.storage[&id]).unwrap();
    assert_eq!(stored.get_heads(), net.heads(a, id));
    assert!(
        net.outputs
            .iter()
            .skip(persist_at)
            .any(|o| matches!(o, Output::Send { .. }))
    );
}

#[test]
fn unknown_documents_are_unavailable_and_only_open_mode_creates_them() {
    for open in [false, true] {
        let mut net = Net::new(open);
        let a = net.add_client("phone-a");
        net.run();
        let frames = net.peers[a].client.request(doc_id(3));
        net.send_frames(a, frames);
        net.run();
        assert!(
            net.peers[a]
                .events
                .contains(&ClientEvent::Unavailable(doc_id(3))),
            "a request: unavailable"
        );

        let frames = net.peers[a].client.insert(doc_id(4), new_document());
        net.send_frames(a, frames);
        net.run();
        let created = net.storage.contains_key(&doc_id(4));
        assert_eq!(
            created, open,
            "a sync creates the document only in open mode (open: {open})"
        );
        assert_eq!(
            net.peers[a]
                .events
                .contains(&ClientEvent::Unavailable(doc_id(4))),
            !open
        );
    }
}

#[test]
fn the_heartbeat_is_answered_at_once_without_storage_even_in_open_mode() {
    use tramyte_shared::sync::heartbeat::HEARTBEAT_DOCUMENT;
    for open in [false, true] {
        let mut net = Net::new(open);
        let a = net.add_client("phone-a");
        net.run();
        net.outputs.clear();
        net.peers[a].events.clear();
        let probe = net.peers[a].client.heartbeat().expect("connected");
        net.send_frames(a, vec![probe]);
        net.run();
        let answers: Vec<Message> = net
            .outputs
            .iter()
            .filter_map(|o| match o {
                Output::Send { frame, .. } => Message::decode(frame).ok(),
                _ => None,
            })
            .collect();
        assert!(
            matches!(answers.as_slice(), [Message::DocUnavailable { document_id, .. }] if *document_id == HEARTBEAT_DOCUMENT),
            "one doc-unavailable answers the probe: {answers:?}"
        );
        assert!(
            !net.outputs.iter().any(|o| matches!(o, Output::Load { .. })),
            "the heartbeat never touches storage"
        );
        assert!(
            net.peers[a].events.is_empty(),
            "the client keeps the answer to itself"
        );
        assert!(net.peers[a].errors.is_empty());
        // Not even a `sync` creates the heartbeat's document in open mode.
        let frames = net.peers[a]
            .client
            .insert(HEARTBEAT_DOCUMENT, new_document());
        net.send_frames(a, frames);
        net.run();
        assert!(!net.storage.contains_key(&HEARTBEAT_DOCUMENT));
    }
    assert!(
        Client::new("offline").heartbeat().is_none(),
        "no probe before the handshake"
    );
}

#[test]
fn a_stored_document_is_served_after_eviction() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    net.run();
    let id = doc_id(5);
    net.insert_document(a, id);
    net.disconnect(a);
    net.run();
    assert_eq!(
        net.hub.documents_in_memory(),
        0,
        "no one has it open: evicted"
    );
    let b = net.add_client("phone-b");
    net.run();
    let frames = net.peers[b].client.request(id);
    net.send_frames(b, frames);
    net.run();
    assert_eq!(net.heads(b, id), net.heads(a, id));
}

#[test]
fn garbage_closes_only_that_connection_with_an_error() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    let b = net.add_client("phone-b");
    net.run();
    let conn_a = net.peers[a].conn;
    net.outputs.clear();
    net.to_hub.push_back(Input::Frame {
        conn: conn_a,
        frame: vec![0xff, 0x13, 0x37],
        now_ms: 1,
    });
    net.run();
    assert!(!net.peers[a].online);
    assert!(
        net.peers[a].errors.iter().any(|e| e.contains("not CBOR")),
        "{:?}",
        net.peers[a].errors
    );
    // A sync whose data is not an automerge sync message, from the other peer.
    let conn_b = net.peers[b].conn;
    let bad = Message::Sync {
        sender_id: "phone-b".into(),
        target_id: "server".into(),
        document_id: doc_id(6),
        data: vec![1, 2, 3],
    };
    net.to_hub.push_back(Input::Frame {
        conn: conn_b,
        frame: bad.encode(),
        now_ms: 1,
    });
    net.run();
    assert!(
        net.peers[b]
            .errors
            .iter()
            .any(|e| e.contains("not an automerge sync message"))
    );
    // A third client still syncs.
    let c = net.add_client("phone-c");
    net.run();
    let frames = net.peers[c].client.insert(doc_id(7), new_document());
    net.send_frames(c, frames);
    net.run();
    assert!(net.storage.contains_key(&doc_id(7)));
}

#[test]
fn the_handshake_requires_join_with_version_1() {
    let mut net = Net::new(true);
    net.to_hub.push_back(Input::Connected {
        conn: ConnId(90),
        now_ms: 0,
        principal: None,
    });
    let join = Message::Join {
        sender_id: "old".into(),
        supported_protocol_versions: vec!["0".into()],
        metadata: None,
    };
    net.to_hub.push_back(Input::Frame {
        conn: ConnId(90),
        frame: join.encode(),
        now_ms: 0,
    });
    net.to_hub.push_back(Input::Connected {
        conn: ConnId(91),
        now_ms: 0,
        principal: None,
    });
    let early = Message::Leave {
        sender_id: "rude".into(),
    };
    net.to_hub.push_back(Input::Frame {
        conn: ConnId(91),
        frame: early.encode(),
        now_ms: 0,
    });
    net.to_hub.push_back(Input::Connected {
        conn: ConnId(92),
        now_ms: 0,
        principal: None,
    });
    net.to_hub.push_back(Input::Tick { now_ms: 60_000 });
    net.run();
    let errors: Vec<(ConnId, String)> = net
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { conn, frame } => match Message::decode(frame) {
                Ok(Message::Error { message }) => Some((*conn, message)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert!(
        errors[0].0 == ConnId(90) && errors[0].1.contains("unsupported protocol versions"),
        "{errors:?}"
    );
    assert!(
        errors[1].0 == ConnId(91) && errors[1].1.contains("expected join, got leave"),
        "{errors:?}"
    );
    assert!(
        errors[2].0 == ConnId(92) && errors[2].1.contains("no join message"),
        "{errors:?}"
    );
    assert_eq!(net.hub.connections(), 0);
}

#[test]
fn ephemeral_messages_reach_the_other_peers_of_the_document() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    let b = net.add_client("phone-b");
    let c = net.add_client("phone-c");
    net.run();
    let id = doc_id(8);
    net.insert_document(a, id);
    let frames = net.peers[b].client.request(id);
    net.send_frames(b, frames);
    net.run();
    let frame = net.peers[a]
        .client
        .ephemeral(id, "session-a", 1, b"\xa1\x64name\x64Lan\x20".to_vec())
        .unwrap();
    net.send_frames(a, vec![frame]);
    // One that claims another sender: relayed as sent by the connection's own peer id.
    let spoofed = Message::Ephemeral {
        sender_id: "phone-c".into(),
        target_id: "server".into(),
        document_id: id,
        session_id: "session-a".into(),
        count: 2,
        data: vec![0xa0],
    };
    net.send_frames(a, vec![spoofed.encode()]);
    net.run();
    let seen: Vec<&ClientEvent> = net.peers[b]
        .events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Ephemeral { .. }))
        .collect();
    assert_eq!(seen.len(), 2);
    assert!(
        matches!(seen[0], ClientEvent::Ephemeral { sender, session, count: 1, .. } if sender == "phone-a" && session == "session-a")
    );
    assert!(
        matches!(seen[1], ClientEvent::Ephemeral { sender, count: 2, .. } if sender == "phone-a"),
        "the claimed sender is not believed: {:?}",
        seen[1]
    );
    assert!(
        !net.peers[c]
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::Ephemeral { .. })),
        "c does not have it open"
    );
    assert!(
        !net.peers[a]
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::Ephemeral { .. })),
        "not echoed"
    );
}

#[test]
fn a_failed_persist_disconnects_and_the_change_arrives_on_reconnect() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    net.run();
    let id = doc_id(9);
    net.insert_document(a, id);
    net.fail_persists = true;
    net.edit(a, id, |doc| doc.put(automerge::ROOT, "zone", 3).unwrap());
    net.run();
    assert!(!net.peers[a].online, "the peer is told to reconnect");
    assert!(
        net.peers[a]
            .errors
            .iter()
            .any(|e| e.contains("could not store a change"))
    );
    let stored = tramyte_shared::sync::hub::load_chunks(&net.storage[&id]).unwrap();
    assert!(
        stored.get(automerge::ROOT, "zone").unwrap().is_none(),
        "the failed change is not stored"
    );

    net.fail_persists = false;
    net.connect(a);
    net.run();
    let mut stored = tramyte_shared::sync::hub::load_chunks(&net.storage[&id]).unwrap();
    assert_eq!(stored.get_heads(), net.heads(a, id), "the client resent it");
}

#[test]
fn increments_are_compacted_into_a_snapshot_that_loads_the_same() {
    let mut config = HubConfig::new("server");
    config.open = true;
    config.compaction_min_bytes = 1;
    let mut net = Net::with_config(config);
    let a = net.add_client("phone-a");
    net.run();
    let id = doc_id(10);
    net.insert_document(a, id);
    for i in 0..20 {
        net.edit(a, id, |doc| doc.put(automerge::ROOT, "counter", i).unwrap());
        net.run();
    }
    assert!(
        net.outputs
            .iter()
            .any(|o| matches!(o, Output::Compact { .. }))
    );
    let chunks = &net.storage[&id];
    assert!(
        chunks.len() < 5,
        "compaction keeps few chunks ({})",
        chunks.len()
    );
    let mut stored = tramyte_shared::sync::hub::load_chunks(chunks).unwrap();
    assert_eq!(stored.get_heads(), net.heads(a, id));
}

#[test]
fn a_flooding_connection_is_closed() {
    let mut config = HubConfig::new("server");
    config.limits.messages_per_second = 10;
    config.limits.message_burst = 20;
    let mut net = Net::with_config(config);
    let a = net.add_client("phone-a");
    net.run();
    let conn = net.peers[a].conn;
    for _ in 0..30 {
        let frame = Message::DocUnavailable {
            sender_id: "phone-a".into(),
            target_id: "server".into(),
            document_id: doc_id(1),
        };
        net.to_hub.push_back(Input::Frame {
            conn,
            frame: frame.encode(),
            now_ms: 1_000,
        });
    }
    net.run();
    assert!(
        net.peers[a]
            .errors
            .iter()
            .any(|e| e.contains("more than 10 messages per second")),
        "{:?}",
        net.peers[a].errors
    );
}

#[test]
fn too_many_documents_on_one_connection_is_refused() {
    let mut config = HubConfig::new("server");
    config.open = true;
    config.limits.max_documents_per_connection = 2;
    let mut net = Net::with_config(config);
    let a = net.add_client("phone-a");
    net.run();
    for n in 20..23 {
        let frames = net.peers[a].client.insert(doc_id(n), new_document());
        net.send_frames(a, frames);
        net.run();
    }
    assert!(
        net.peers[a]
            .errors
            .iter()
            .any(|e| e.contains("more than 2 documents open")),
        "{:?}",
        net.peers[a].errors
    );
}

/// A sync frame from peer `index` carrying exactly these change bytes (what a peer whose sync
/// state thinks the hub lacks them sends), heads set to `heads`.
fn frame_with_changes(
    net: &Net,
    index: usize,
    document: DocumentId,
    heads: Vec<automerge::ChangeHash>,
    changes: Vec<Vec<u8>>,
) -> Vec<u8> {
    let mut heads = heads;
    heads.sort();
    let message = automerge::sync::Message {
        heads,
        need: Vec::new(),
        have: Vec::new(),
        changes: changes.into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    Message::Sync {
        sender_id: net.peers[index].client.peer_id().to_owned(),
        target_id: "server".to_owned(),
        document_id: document,
        data: message.encode(),
    }
    .encode()
}

/// One change made on a copy of `base`: its hash and raw bytes.
fn change_on(base: &mut AutoCommit, key: &str, value: i64) -> (automerge::ChangeHash, Vec<u8>) {
    base.put(automerge::ROOT, key, value).unwrap();
    base.commit();
    let change = base.get_last_local_change().unwrap();
    (change.hash(), change.raw_bytes().to_vec())
}

/// The provenance of every persist since `from`: each change's hash, in order.
fn persisted_hashes(net: &Net, from: usize) -> Vec<String> {
    net.outputs[from..]
        .iter()
        .filter_map(|output| match output {
            Output::Persist { changes, .. } => Some(changes.iter().map(|(hash, _)| hash.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn stored_chunks_hold_exactly_what_was_applied_with_queued_and_repeated_changes() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    net.run();
    let id = doc_id(11);
    net.insert_document(a, id);
    let mut line = net.peers[a].client.doc_mut(&id).unwrap().fork();
    let (first, first_bytes) = change_on(&mut line, "x", 1);
    let (second, second_bytes) = change_on(&mut line, "y", 2);
    let mut branch = net.peers[a].client.doc_mut(&id).unwrap().fork();
    let (third, third_bytes) = change_on(&mut branch, "z", 3);

    // The second change alone: its dependency is missing, automerge holds it back and nothing
    // is stored or acknowledged.
    let from = net.outputs.len();
    let frame = frame_with_changes(&net, a, id, vec![second], vec![second_bytes.clone()]);
    net.send_frames(a, vec![frame]);
    net.run();
    assert!(
        persisted_hashes(&net, from).is_empty(),
        "nothing applied yet"
    );

    // The first change releases the held one: both are stored, with the third.
    let from = net.outputs.len();
    let frame = frame_with_changes(
        &net,
        a,
        id,
        vec![second, third],
        vec![first_bytes.clone(), third_bytes],
    );
    net.send_frames(a, vec![frame]);
    net.run();
    let mut stored = persisted_hashes(&net, from);
    stored.sort();
    let mut expected = vec![first.to_string(), second.to_string(), third.to_string()];
    expected.sort();
    assert_eq!(stored, expected, "each applied change's provenance once");

    // A change sent again with a new one: only the new one is recorded.
    let (fourth, fourth_bytes) = change_on(&mut line, "w", 4);
    let from = net.outputs.len();
    let frame = frame_with_changes(
        &net,
        a,
        id,
        vec![fourth, third],
        vec![first_bytes, fourth_bytes],
    );
    net.send_frames(a, vec![frame]);
    net.run();
    assert_eq!(persisted_hashes(&net, from), vec![fourth.to_string()]);

    let mut reloaded = tramyte_shared::sync::hub::load_chunks(&net.storage[&id]).unwrap();
    let mut heads = reloaded.get_heads();
    heads.sort();
    let mut expected = vec![third, fourth];
    expected.sort();
    assert_eq!(
        heads, expected,
        "the stored chunks load every applied change"
    );
    for (key, value) in [("x", 1), ("y", 2), ("z", 3), ("w", 4)] {
        let (value_read, _) = reloaded.get(automerge::ROOT, key).unwrap().unwrap();
        assert_eq!(value_read, Value::from(value), "{key}");
    }
}

#[test]
fn a_panic_in_one_document_closes_its_peers_and_spares_the_rest() {
    let doomed = doc_id(30);
    let mut config = HubConfig::new("server");
    config.open = true;
    config.panic_on_document = Some(doomed);
    let mut net = Net::with_config(config);
    net.storage.insert(
        doomed,
        vec![Chunk::new(
            tramyte_shared::sync::ChunkKind::Snapshot,
            new_document().save(),
        )],
    );
    let healthy = net.add_client("healthy");
    let reader = net.add_client("reader");
    let writer = net.add_client("writer");
    net.run();
    net.insert_document(healthy, doc_id(31));
    for peer in [reader, writer] {
        let frames = net.peers[peer].client.request(doomed);
        net.send_frames(peer, frames);
    }
    net.run();
    assert!(net.peers[reader].client.in_sync(&doomed));

    let from = net.outputs.len();
    net.edit(writer, doomed, |doc| {
        doc.put(automerge::ROOT, "zone", 2).unwrap();
    });
    net.run();
    for peer in [reader, writer] {
        assert!(!net.peers[peer].online, "{peer} was closed");
        assert!(
            net.peers[peer]
                .errors
                .iter()
                .any(|e| e.contains("failed while handling document")),
            "{:?}",
            net.peers[peer].errors
        );
    }
    let contained: Vec<&Output> = net.outputs[from..]
        .iter()
        .filter(|o| matches!(o, Output::PanicContained { .. }))
        .collect();
    assert!(
        matches!(contained.as_slice(), [Output::PanicContained { document: Some(d), message }]
            if *d == doomed && message.contains("test hook")),
        "{contained:?}"
    );
    assert!(
        !net.outputs[from..]
            .iter()
            .any(|o| matches!(o, Output::Persist { document, .. } if *document == doomed)),
        "nothing of the panicking apply is stored"
    );
    assert_eq!(
        net.hub.documents_in_memory(),
        1,
        "only the healthy document stays in memory"
    );

    // The healthy client is served on; the doomed document is loaded again for a new reader.
    net.edit(healthy, doc_id(31), |doc| {
        doc.put(automerge::ROOT, "after", 1).unwrap();
    });
    net.run();
    assert!(net.peers[healthy].online);
    assert!(net.peers[healthy].client.in_sync(&doc_id(31)));
    net.connect(reader);
    net.run();
    let frames = net.peers[reader].client.request(doomed);
    net.send_frames(reader, frames);
    net.run();
    assert!(net.peers[reader].online);
    assert!(net.peers[reader].client.in_sync(&doomed));
}

#[test]
fn refusals_are_reported_with_a_label() {
    let mut net = Net::new(true);
    let a = net.add_client("phone-a");
    net.run();
    let frame = Message::Sync {
        sender_id: "phone-a".into(),
        target_id: "server".into(),
        document_id: doc_id(40),
        // A Bloom filter with 0 bits per entry (issue 24).
        data: vec![0x42, 0x00, 0x00, 0x01, 0x00, 0x03, 0x01, 0x00, 0x07, 0x00],
    };
    net.send_frames(a, vec![frame.encode()]);
    net.run();
    let conn = net.peers[a].conn;
    assert!(
        net.outputs.iter().any(|o| matches!(o,
            Output::Refused { conn: c, reason: "sync_message_bloom_filter" } if *c == conn)),
        "{:?}",
        net.outputs
    );
    assert!(
        net.peers[a]
            .errors
            .iter()
            .any(|e| e.contains("0 bits per entry"))
    );
}
