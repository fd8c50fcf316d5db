//! Property test: whatever changes people of every role send — well-formed edits through the
//! app's own functions, and raw operations of any type at any path, signed by anyone, from
//! phones that were offline — what the policy accepts always leaves a document that reads and
//! summarizes, and a frozen side never changes after its author saw the freeze.

// Test code: a panic on bad fixture data is the wanted failure.
#![allow(clippy::unwrap_used)]

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use proptest::prelude::*;
use tramyte_shared::assessment::{
    self, Answer, Evidence, NewAssessment, Side, append_event, read_assessment, set_note, set_score,
};
use tramyte_shared::catalog::{Catalog, shipped_catalogs};
use tramyte_shared::commune::{UnitType, Zone};
use tramyte_shared::id::{CommuneCode, EvidenceId, ItemId, PersonId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::{self, Principal, Role, Scope};
use tramyte_shared::roster::{self, Group, Person, read_roster};
use tramyte_shared::summary::summarize;
use tramyte_shared::workflow::EventKind;

const USERS: [&str; 3] = ["lan", "hung", "thu"];
const KEYS: [&str; 16] = [
    "points", "met", "measured", "by", "at", "label", "added_by", "kind", "comment", "zone",
    "name", "village", "months", "TC1", "e1", "x",
];

fn catalog() -> Catalog {
    shipped_catalogs().remove(0)
}

fn new_assessment() -> AutoCommit {
    let new = NewAssessment {
        commune: CommuneCode::parse("16024").unwrap(),
        round: 2024,
        zone: Zone::new(1).unwrap(),
        unit_type: UnitType::Xa,
    };
    assessment::new_assessment(&catalog(), &new, 1).unwrap()
}

#[derive(Clone, Debug)]
enum Raw {
    Put { obj: usize, key: usize, value: u8 },
    Make { obj: usize, key: usize, typ: u8 },
    Insert { obj: usize, value: u8 },
    Delete { obj: usize, key: usize },
}

#[derive(Clone, Debug)]
enum Edit {
    Score {
        review: bool,
        item: usize,
        halves: u32,
    },
    Note {
        item: usize,
        text: String,
    },
    Evidence {
        item: usize,
        id: u8,
    },
    Event {
        kind: u8,
        comment: bool,
    },
    Person {
        id: u8,
    },
    Raw(Vec<Raw>),
}

#[derive(Clone, Debug)]
struct Step {
    role: usize,
    /// Who the edit signs as (usually the sender).
    signer: usize,
    sender: usize,
    /// Made on a copy this many steps old (offline), not the latest.
    stale: usize,
    edit: Edit,
}

fn raw() -> impl Strategy<Value = Raw> {
    prop_oneof![
        (any::<usize>(), 0..KEYS.len(), any::<u8>()).prop_map(|(obj, key, value)| Raw::Put {
            obj,
            key,
            value
        }),
        (any::<usize>(), 0..KEYS.len(), 0..4u8).prop_map(|(obj, key, typ)| Raw::Make {
            obj,
            key,
            typ
        }),
        (any::<usize>(), any::<u8>()).prop_map(|(obj, value)| Raw::Insert { obj, value }),
        (any::<usize>(), 0..KEYS.len()).prop_map(|(obj, key)| Raw::Delete { obj, key }),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<bool>(), 0..10usize, 0..30u32)
            .prop_map(|(review, item, halves)| Edit::Score { review, item, halves }),
        1 => (0..10usize, "[a-z ]{0,6}").prop_map(|(item, text)| Edit::Note { item, text }),
        1 => (0..10usize, 0..3u8).prop_map(|(item, id)| Edit::Evidence { item, id }),
        2 => (0..9u8, any::<bool>()).prop_map(|(kind, comment)| Edit::Event { kind, comment }),
        1 => (0..3u8).prop_map(|id| Edit::Person { id }),
        3 => prop::collection::vec(raw(), 1..4).prop_map(Edit::Raw),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..6usize,
        0..3usize,
        0..3usize,
        prop_oneof![3 => Just(0usize), 1 => 1..4usize],
        edit(),
    )
        .prop_map(|(role, signer, sender, stale, edit)| Step {
            role,
            signer: if signer == 2 {
                (sender + 1) % 3
            } else {
                sender
            },
            sender,
            stale,
            edit,
        })
}

/// Every object of the document (visible), with its type: where raw operations aim.
fn objects(doc: &AutoCommit) -> Vec<(ObjId, ObjType)> {
    let mut found = vec![(ROOT, ObjType::Map)];
    let mut next = 0;
    while next < found.len() {
        let (obj, typ) = found[next].clone();
        next += 1;
        let children: Vec<(ObjId, ObjType)> = match typ {
            ObjType::Map | ObjType::Table => doc
                .keys(&obj)
                .filter_map(|key| match doc.get(&obj, key.as_str()).ok().flatten() {
                    Some((Value::Object(t), id)) => Some((id, t)),
                    _ => None,
                })
                .collect(),
            ObjType::List => (0..doc.length(&obj))
                .filter_map(|i| match doc.get(&obj, i).ok().flatten() {
                    Some((Value::Object(t), id)) => Some((id, t)),
                    _ => None,
                })
                .collect(),
            ObjType::Text => Vec::new(),
        };
        found.extend(children);
    }
    found
}

fn scalar(value: u8, signer: &str) -> ScalarValue {
    match value % 8 {
        0 => ScalarValue::Int(i64::from(value)),
        1 => ScalarValue::F64(f64::from(value) / 4.0),
        2 => ScalarValue::Str(signer.into()),
        3 => ScalarValue::Boolean(value.is_multiple_of(2)),
        4 => ScalarValue::Null,
        5 => ScalarValue::Timestamp(i64::from(value)),
        6 => ScalarValue::Str("submit".into()),
        _ => ScalarValue::Counter(i64::from(value).into()),
    }
}

fn apply_raw(doc: &mut AutoCommit, ops: &[Raw], signer: &str) {
    for op in ops {
        let objects = objects(doc);
        let pick = |i: usize| objects[i % objects.len()].clone();
        let _ = match op {
            Raw::Put { obj, key, value } => match pick(*obj) {
                (obj, ObjType::Map) => doc.put(&obj, KEYS[*key], scalar(*value, signer)).err(),
                (obj, ObjType::List) if doc.length(&obj) > 0 => {
                    doc.put(&obj, 0, scalar(*value, signer)).err()
                }
                _ => None,
            },
            Raw::Make { obj, key, typ } => {
                let typ =
                    [ObjType::Map, ObjType::List, ObjType::Text, ObjType::Map][usize::from(*typ)];
                match pick(*obj) {
                    (obj, ObjType::Map) => doc.put_object(&obj, KEYS[*key], typ).err(),
                    (obj, ObjType::List) => doc.insert_object(&obj, 0, typ).err(),
                    _ => None,
                }
            }
            Raw::Insert { obj, value } => match pick(*obj) {
                (obj, ObjType::List) => {
                    let end = doc.length(&obj);
                    doc.insert(&obj, end, scalar(*value, signer)).err()
                }
                (obj, ObjType::Text) => doc.splice_text(&obj, 0, 0, "z").err(),
                _ => None,
            },
            Raw::Delete { obj, key } => match pick(*obj) {
                (obj, ObjType::Map) => doc.delete(&obj, KEYS[*key]).err(),
                (obj, _) if doc.length(&obj) > 0 => doc.delete(&obj, 0).err(),
                _ => None,
            },
        };
    }
}

fn apply(doc: &mut AutoCommit, edit: &Edit, signer: &UserId, roster: bool) {
    let items: Vec<ItemId> = catalog().items().map(|i| i.id().clone()).collect();
    match (edit, roster) {
        (Edit::Raw(ops), _) => apply_raw(doc, ops, signer.as_str()),
        (Edit::Person { id }, true) => {
            let person = Person {
                name: format!("Người {id} (thử)"),
                ..Person::default()
            };
            let group = if id.is_multiple_of(2) {
                Group::Staff
            } else {
                Group::VillageWorker
            };
            let id = PersonId::parse(&format!("p{id}")).unwrap();
            let _ = roster::put_person(doc, group, &id, &person, 5);
        }
        (_, true) => {}
        (
            Edit::Score {
                review,
                item,
                halves,
            },
            false,
        ) => {
            let side = if *review {
                Side::Review
            } else {
                Side::SelfAssessment
            };
            let answer = Answer::Points(Points::from_halves(*halves));
            set_score(doc, side, &items[*item], answer, signer, 5).unwrap();
        }
        (Edit::Note { item, text }, false) => set_note(doc, &items[*item], text, 5).unwrap(),
        (Edit::Evidence { item, id }, false) => {
            let evidence = Evidence {
                label: format!("Minh chứng {id}"),
                reference: String::new(),
                added_by: signer.to_string(),
                added_at: 5,
                file: None,
            };
            let id = EvidenceId::parse(&format!("e{id}")).unwrap();
            assessment::put_evidence(doc, &items[*item], &id, &evidence, 5).unwrap();
        }
        (Edit::Event { kind, comment }, false) => {
            let kind = match kind {
                0 => EventKind::Submit,
                1 => EventKind::Return,
                2 => EventKind::Appraise,
                3 => EventKind::Approve {
                    heads: tramyte_shared::document::heads(doc),
                },
                4 => EventKind::Reopen,
                5 => EventKind::Acknowledge,
                6 => EventKind::Maintain { decision: None },
                7 => EventKind::Withdraw { decision: None },
                _ => EventKind::Unknown {
                    name: "escalate".into(),
                },
            };
            let comment = if *comment { "lý do" } else { "" };
            append_event(doc, &kind, signer, 5, comment).unwrap();
        }
        (Edit::Person { .. }, false) => {}
    }
    doc.commit();
}

/// Runs the steps against one document kind; checks the property after each.
fn run(steps: &[Step], roster: bool) -> Result<(), TestCaseError> {
    let mut stored = if roster {
        roster::new_roster(&CommuneCode::parse("16024").unwrap(), 1).unwrap()
    } else {
        new_assessment()
    };
    let kind = if roster { "roster" } else { "assessment" };
    let mut history = vec![stored.fork()];
    for (n, step) in steps.iter().enumerate() {
        let role = Role::ALL[step.role];
        let principal = Principal {
            user: USERS[step.sender].to_owned(),
            role,
            scope: Scope::Communes(["16024".to_owned()].into()),
            person: Some("p1".to_owned()),
        };
        let base = history.len().saturating_sub(1 + step.stale);
        let mut phone = history[base]
            .fork()
            .with_actor(ActorId::from(&[n as u8 + 1, step.sender as u8][..]));
        let status_seen = (!roster).then(|| read_assessment(&phone).unwrap().workflow().status);
        apply(
            &mut phone,
            &step.edit,
            &UserId::parse(USERS[step.signer]).unwrap(),
            roster,
        );

        let before = stored.get_heads();
        let mut scratch = stored.fork();
        scratch.merge(&mut phone).unwrap();
        let doc = scratch.document();
        let verdict =
            policy::check_changes(Some(&principal), kind, doc, || doc.get_changes(&before));
        if verdict.is_err() {
            continue;
        }
        // Accepted: the stored document still reads and summarizes.
        if roster {
            prop_assert!(read_roster(&scratch).is_ok(), "{:?}", read_roster(&scratch));
        } else {
            let view = read_assessment(&scratch);
            prop_assert!(view.is_ok(), "step {n} {step:?}: {view:?}");
            let summary = summarize(&mut scratch, Some(&catalog()));
            prop_assert_eq!(summary.problem, None, "step {} {:?}", n, step);
            // A side frozen as the author saw it did not change.
            if let Some(status) = status_seen {
                let old = read_assessment(&stored).unwrap();
                let new = read_assessment(&scratch).unwrap();
                for (item, after) in &new.items {
                    let before = &old.items[item];
                    for (freeze, changed) in [
                        (
                            policy::Freeze::StationSide,
                            before.self_score != after.self_score
                                || before.evidence != after.evidence,
                        ),
                        (
                            policy::Freeze::ReviewSide,
                            before.review_score != after.review_score
                                || before.review_comment != after.review_comment,
                        ),
                    ] {
                        // A stale phone's change may merge with newer ones: only a change made
                        // on the latest copy is compared whole.
                        if step.stale == 0 && changed {
                            prop_assert!(
                                freeze.refuses(status).is_none(),
                                "step {n} {step:?}: {item} changed on a frozen side ({status:?})"
                            );
                        }
                    }
                }
            }
        }
        stored = scratch;
        history.push(stored.fork());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn what_the_policy_accepts_in_an_assessment_always_reads_and_summarizes(
        steps in prop::collection::vec(step(), 1..24)
    ) {
        run(&steps, false)?;
    }

    #[test]
    fn what_the_policy_accepts_in_a_roster_always_reads(
        steps in prop::collection::vec(step(), 1..16)
    ) {
        run(&steps, true)?;
    }
}
