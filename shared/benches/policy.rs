//! Benchmark (not a test): the sync hub taking signed changes to an assessment, in process — what
//! judging each change costs the server. One station staff member's phone sends 400 edits (self
//! scores and note typing, one sync message each) through the sans-IO hub; only the hub's own
//! work is timed (the persists are answered at once). Prints the hub's time per change, signed in
//! (every operation judged) and in open mode (the schema only). Run with
//! `cargo bench -p tramyte-shared --bench policy`.

// Test and bench code: a panic on bad fixture data is the wanted failure.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::AutoCommit;
use tramyte_shared::assessment::{self, Answer, NewAssessment, Side, set_note, set_score};
use tramyte_shared::catalog::shipped_catalogs;
use tramyte_shared::commune::{UnitType, Zone};
use tramyte_shared::id::{CommuneCode, ItemId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::{Principal, Role, Scope};
use tramyte_shared::sync::client::Client;
use tramyte_shared::sync::hub::{ConnId, Hub, HubConfig, Input, LoadOutcome, Output};
use tramyte_shared::sync::{Chunk, ChunkKind, DocumentId};

const CHANGES: usize = 400;
const RUNS: usize = 7;

fn dossier() -> AutoCommit {
    let new = NewAssessment {
        commune: CommuneCode::parse("16024").unwrap(),
        round: 2024,
        zone: Zone::new(1).unwrap(),
        unit_type: UnitType::Xa,
    };
    assessment::new_assessment(&shipped_catalogs().remove(0), &new, 1).unwrap()
}

/// Feeds `input` to the hub and everything that follows from it, until quiet; returns the time
/// the hub spent.
fn settle(
    hub: &mut Hub,
    client: &mut Client,
    conn: ConnId,
    id: DocumentId,
    input: Input,
) -> Duration {
    let mut spent = Duration::ZERO;
    let mut pending = vec![input];
    while let Some(input) = pending.pop() {
        let started = Instant::now();
        let outputs = hub.handle(input);
        spent += started.elapsed();
        for output in outputs {
            match output {
                Output::Persist {
                    document, ticket, ..
                } => pending.push(Input::Persisted { document, ticket }),
                Output::Compact {
                    document, ticket, ..
                } => pending.push(Input::Persisted { document, ticket }),
                Output::Send { frame, .. } => {
                    let step = client.receive(&frame).unwrap();
                    for frame in step.frames {
                        pending.push(Input::Frame {
                            conn,
                            frame,
                            now_ms: 0,
                        });
                    }
                }
                Output::Close { reason, .. } => panic!("the hub closed the connection: {reason}"),
                Output::Load { document } => {
                    assert_eq!(document, id);
                    let snapshot = Chunk::new(ChunkKind::Snapshot, dossier_bytes());
                    pending.push(Input::Loaded {
                        document,
                        outcome: LoadOutcome::Found(vec![snapshot]),
                    });
                }
                _ => {}
            }
        }
    }
    spent
}

fn dossier_bytes() -> Vec<u8> {
    thread_local! {
        static BYTES: Vec<u8> = dossier().save();
    }
    BYTES.with(Clone::clone)
}

/// The hub's time per change over one run of [`CHANGES`] edits.
fn run(signed: bool) -> Duration {
    let mut config = HubConfig::new("server");
    config.open = !signed;
    let mut hub = Hub::new(config);
    let conn = ConnId(1);
    let principal = signed.then(|| Principal {
        user: "lan".to_owned(),
        role: Role::StationStaff,
        scope: Scope::Communes(["16024".to_owned()].into()),
        person: None,
    });
    let id = DocumentId::from_bytes([7; 16]);
    let mut client = Client::new("lan-phone");
    let join = client.connect();
    settle(
        &mut hub,
        &mut client,
        conn,
        id,
        Input::Connected {
            conn,
            now_ms: 0,
            principal,
        },
    );
    settle(
        &mut hub,
        &mut client,
        conn,
        id,
        Input::Frame {
            conn,
            frame: join,
            now_ms: 0,
        },
    );
    for frame in client.request(id) {
        settle(
            &mut hub,
            &mut client,
            conn,
            id,
            Input::Frame {
                conn,
                frame,
                now_ms: 0,
            },
        );
    }
    assert!(client.in_sync(&id), "the phone has the dossier");
    let lan = UserId::parse("lan").unwrap();
    let items: Vec<ItemId> = (1..=10)
        .map(|i| ItemId::parse(&format!("TC{i}")).unwrap())
        .collect();
    let mut spent = Duration::ZERO;
    let mut note = String::new();
    for n in 0..CHANGES {
        let doc = client.doc_mut(&id).unwrap();
        let item = &items[n % items.len()];
        if n % 2 == 0 {
            let answer = Answer::Points(Points::from_halves(u32::try_from(n % 9).unwrap()));
            set_score(doc, Side::SelfAssessment, item, answer, &lan, 1_000).unwrap();
        } else {
            note.push_str("ghi chú ");
            set_note(doc, &items[0], &note, 1_000).unwrap();
        }
        for frame in client.sync(id) {
            spent += settle(
                &mut hub,
                &mut client,
                conn,
                id,
                Input::Frame {
                    conn,
                    frame,
                    now_ms: 0,
                },
            );
        }
    }
    assert!(client.in_sync(&id), "every change acknowledged");
    spent / u32::try_from(CHANGES).unwrap()
}

fn main() {
    for (name, signed) in [("signed in (judged)", true), ("open mode", false)] {
        let mut samples: Vec<Duration> = (0..RUNS).map(|_| run(signed)).collect();
        samples.sort();
        println!(
            "policy: hub time per change, {name}: median {:.1} µs (min {:.1}, max {:.1}; {RUNS} runs × {CHANGES} changes)",
            samples[RUNS / 2].as_secs_f64() * 1e6,
            samples[0].as_secs_f64() * 1e6,
            samples[RUNS - 1].as_secs_f64() * 1e6,
        );
    }
}
