//! Property test: replicas that edit offline and then merge in different orders end with the
//! same documents, the same workflow status and the same scores.

// Test and bench code: a panic on bad fixture data is the wanted failure.
#![allow(clippy::unwrap_used)]

use automerge::{ActorId, AutoCommit};
use proptest::prelude::*;
use tramyte_shared::assessment::{
    self, Answer, Evidence, NewAssessment, Side, append_event, read_assessment, score_values,
};
use tramyte_shared::catalog::{Catalog, parse_catalog};
use tramyte_shared::commune::{UnitType, Zone};
use tramyte_shared::document;
use tramyte_shared::id::{
    CommuneCode, EvidenceId, ItemId, PersonId, TrainingId, UserId, VillageId,
};
use tramyte_shared::points::Points;
use tramyte_shared::roster::{
    self, CourseKind, Employment, Group, Person, Title, Training, Village, read_roster, staffing,
};
use tramyte_shared::scoring::score;
use tramyte_shared::workflow::{DecisionRef, EventKind};

const REPLICAS: usize = 3;

fn catalog() -> Catalog {
    parse_catalog(include_str!("fixtures/test-catalog-indicators.json")).unwrap()
}

#[derive(Clone, Debug)]
enum Edit {
    Score {
        side: bool,
        item: usize,
        answer: Answer,
    },
    ClearScore {
        side: bool,
        item: usize,
    },
    Note {
        item: usize,
        text: String,
    },
    Evidence {
        item: usize,
        id: u8,
        label: String,
    },
    RemoveEvidence {
        item: usize,
        id: u8,
    },
    Event {
        kind: u8,
    },
    Person {
        worker: bool,
        id: u8,
        name: String,
        title: u8,
        village: Option<u8>,
    },
    Leave {
        worker: bool,
        id: u8,
    },
    Training {
        worker: bool,
        person: u8,
        id: u8,
        months: u32,
        kind: u8,
    },
    Village {
        id: u8,
        name: String,
    },
}

#[derive(Clone, Debug)]
enum Step {
    Edit { replica: usize, edit: Edit },
    Sync { from: usize, to: usize },
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        (0u32..=50).prop_map(|h| Answer::Points(Points::from_halves(h))),
        any::<bool>().prop_map(Answer::Met),
        (0u32..=240).prop_map(|h| Answer::Measured(f64::from(h) / 2.0)),
    ]
}

fn edit(items: usize) -> impl Strategy<Value = Edit> {
    let text = "[a-zđ ]{0,12}";
    prop_oneof![
        4 => (any::<bool>(), 0..items, answer()).prop_map(|(side, item, answer)| Edit::Score { side, item, answer }),
        1 => (any::<bool>(), 0..items).prop_map(|(side, item)| Edit::ClearScore { side, item }),
        2 => (0..items, text).prop_map(|(item, text)| Edit::Note { item, text }),
        1 => (0..items, 0u8..3, text).prop_map(|(item, id, label)| Edit::Evidence { item, id, label }),
        1 => (0..items, 0u8..3).prop_map(|(item, id)| Edit::RemoveEvidence { item, id }),
        2 => (0u8..7).prop_map(|kind| Edit::Event { kind }),
        2 => (any::<bool>(), 0u8..4, text, 0u8..9, proptest::option::of(0u8..3))
            .prop_map(|(worker, id, name, title, village)| Edit::Person { worker, id, name, title, village }),
        1 => (any::<bool>(), 0u8..4).prop_map(|(worker, id)| Edit::Leave { worker, id }),
        1 => (any::<bool>(), 0u8..4, 0u8..2, 1u32..9, 0u8..3)
            .prop_map(|(worker, person, id, months, kind)| Edit::Training { worker, person, id, months, kind }),
        1 => (0u8..3, text).prop_map(|(id, name)| Edit::Village { id, name }),
    ]
}

fn steps(items: usize) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        4 => (0..REPLICAS, edit(items)).prop_map(|(replica, edit)| Step::Edit { replica, edit }),
        1 => (0..REPLICAS, 0..REPLICAS).prop_map(|(from, to)| Step::Sync { from, to }),
    ];
    proptest::collection::vec(step, 1..40)
}

struct Replica {
    assessment: AutoCommit,
    roster: AutoCommit,
}

fn group(worker: bool) -> Group {
    if worker {
        Group::VillageWorker
    } else {
        Group::Staff
    }
}

/// Applies one edit; edits that the document refuses (e.g. training for a person this replica
/// has not seen yet) are simply skipped, as the UI would not offer them.
fn apply(replica: &mut Replica, who: usize, at: i64, edit: &Edit, item_ids: &[ItemId]) {
    let user = UserId::parse(&format!("user{who}")).unwrap();
    let side = |review: bool| {
        if review {
            Side::Review
        } else {
            Side::SelfAssessment
        }
    };
    let doc = &mut replica.assessment;
    let roster = &mut replica.roster;
    let pid = |id: u8| PersonId::parse(&format!("p{id}")).unwrap();
    let _ = match edit {
        Edit::Score {
            side: s,
            item,
            answer,
        } => assessment::set_score(doc, side(*s), &item_ids[*item], *answer, &user, at),
        Edit::ClearScore { side: s, item } => {
            assessment::clear_score(doc, side(*s), &item_ids[*item], at)
        }
        Edit::Note { item, text } => assessment::set_note(doc, &item_ids[*item], text, at),
        Edit::Evidence { item, id, label } => {
            let evidence = Evidence {
                label: label.clone(),
                reference: format!("sha256:{id}"),
                added_by: user.to_string(),
                added_at: at,
                file: None,
            };
            let id = EvidenceId::parse(&format!("e{id}")).unwrap();
            assessment::put_evidence(doc, &item_ids[*item], &id, &evidence, at)
        }
        Edit::RemoveEvidence { item, id } => {
            let id = EvidenceId::parse(&format!("e{id}")).unwrap();
            assessment::remove_evidence(doc, &item_ids[*item], &id, at)
        }
        Edit::Event { kind } => {
            let kind = match kind {
                0 => EventKind::Submit,
                1 => EventKind::Return,
                2 => EventKind::Appraise,
                3 => EventKind::Approve {
                    heads: document::heads(doc),
                },
                4 => EventKind::Recognize {
                    decision: DecisionRef {
                        number: "1/QĐ-UBND".into(),
                        date: "2025-01-01".into(),
                    },
                },
                5 => EventKind::Maintain { decision: None },
                _ => EventKind::Withdraw { decision: None },
            };
            append_event(doc, &kind, &user, at, "").map(|_| ())
        }
        Edit::Person {
            worker,
            id,
            name,
            title,
            village,
        } => {
            let titles = [
                Title::Doctor,
                Title::Assistant,
                Title::ObstetricPaediatricAssistant,
                Title::Midwife,
                Title::Nurse,
                Title::Pharmacist,
                Title::TraditionalMedicine,
                Title::Population,
                Title::Other,
            ];
            let person = Person {
                name: name.clone(),
                title: titles[usize::from(*title) % titles.len()],
                village: village.map(|v| format!("v{v}")),
                ..Person::default()
            };
            roster::put_person(roster, group(*worker), &pid(*id), &person, at)
        }
        Edit::Leave { worker, id } => {
            roster::set_employment(roster, group(*worker), &pid(*id), Employment::Left, at)
        }
        Edit::Training {
            worker,
            person,
            id,
            months,
            kind,
        } => {
            let kinds = [
                CourseKind::VillageHealthWorker,
                CourseKind::FamilyMedicine,
                CourseKind::Other,
            ];
            let training = Training {
                course: "course".into(),
                kind: kinds[usize::from(*kind) % kinds.len()],
                months: *months,
                year: 2024,
            };
            let id = TrainingId::parse(&format!("t{id}")).unwrap();
            roster::put_training(roster, group(*worker), &pid(*person), &id, &training, at)
        }
        Edit::Village { id, name } => {
            let id = VillageId::parse(&format!("v{id}")).unwrap();
            roster::put_village(roster, &id, &Village { name: name.clone() }, at)
        }
    };
}

/// Everything a replica shows, to compare across replicas.
fn observe(replica: &mut Replica, catalog: &Catalog, item_ids: &[ItemId]) -> String {
    let view = read_assessment(&replica.assessment).unwrap();
    let state = view.workflow();
    let changed = state
        .approval
        .as_ref()
        .map(|a| assessment::changed_since(&mut replica.assessment, &a.heads).unwrap());
    let mut conflicts = Vec::new();
    for id in item_ids {
        for side in [Side::SelfAssessment, Side::Review] {
            conflicts.push(score_values(&replica.assessment, side, id).unwrap());
        }
    }
    let scores =
        [Side::SelfAssessment, Side::Review].map(|side| score(catalog, &view, side).unwrap());
    let roster = read_roster(&replica.roster).unwrap();
    let facts = staffing(&roster);
    format!(
        "{:?}\n{view:?}\n{state:?}\n{changed:?}\n{conflicts:?}\n{scores:?}\n{roster:?}\n{facts:?}\n{:?}",
        document::heads(&mut replica.assessment),
        document::heads(&mut replica.roster),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_merge_order(
        steps in steps(7),
        orders in proptest::collection::vec(Just((0..REPLICAS).collect::<Vec<_>>()).prop_shuffle(), REPLICAS),
    ) {
        let catalog = catalog();
        let item_ids: Vec<ItemId> = catalog.items().map(|i| i.id().clone()).collect();
        let new = NewAssessment {
            commune: CommuneCode::parse("16279").unwrap(),
            round: 2025,
            zone: Zone::new(2).unwrap(),
            unit_type: UnitType::Xa,
        };
        let mut origin = assessment::new_assessment(&catalog, &new, 0).unwrap();
        let mut origin_roster = roster::new_roster(&new.commune, 0).unwrap();
        let mut replicas: Vec<Replica> = (0..REPLICAS)
            .map(|i| {
                let actor = ActorId::from(&[u8::try_from(i + 1).unwrap(); 16][..]);
                Replica {
                    assessment: origin.fork().with_actor(actor.clone()),
                    roster: origin_roster.fork().with_actor(actor),
                }
            })
            .collect();

        for (at, step) in steps.iter().enumerate() {
            match step {
                Step::Edit { replica, edit } => {
                    apply(&mut replicas[*replica], *replica, at as i64, edit, &item_ids);
                }
                Step::Sync { from, to } if from != to => {
                    let mut source_doc = replicas[*from].assessment.fork();
                    let mut source_roster = replicas[*from].roster.fork();
                    replicas[*to].assessment.merge(&mut source_doc).unwrap();
                    replicas[*to].roster.merge(&mut source_roster).unwrap();
                }
                Step::Sync { .. } => {}
            }
        }

        // Everyone sends their changes out, then each replica merges the others in its own order.
        let mut snapshots: Vec<(AutoCommit, AutoCommit)> = replicas
            .iter_mut()
            .map(|r| (r.assessment.fork(), r.roster.fork()))
            .collect();
        for (i, replica) in replicas.iter_mut().enumerate() {
            for &j in &orders[i] {
                if j != i {
                    replica.assessment.merge(&mut snapshots[j].0).unwrap();
                    replica.roster.merge(&mut snapshots[j].1).unwrap();
                }
            }
        }

        let first = observe(&mut replicas[0], &catalog, &item_ids);
        for replica in &mut replicas[1..] {
            prop_assert_eq!(&observe(replica, &catalog, &item_ids), &first);
        }
    }
}
