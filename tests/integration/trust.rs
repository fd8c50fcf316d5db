//! The dossier as a record (hồ sơ), over real websockets on both databases: every operation of
//! a change is judged (values that lose a conflict included), signed entries are replaced
//! whole, workflow events are appended at the end only, no change can make a dossier
//! unreadable, and submitted and approved dossiers are frozen — with edits made offline before
//! a submission kept and reported to the reviewer. Every refusal has its positive control and
//! leaves the stored document holding exactly the changes it held.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue};
use serde_json::Value;
use tramyte_server::store::Store;
use tramyte_shared::assessment::{Answer, Side, append_event, set_score};
use tramyte_shared::id::{ItemId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::workflow::EventKind;
use tramyte_tests::api;
use tramyte_tests::people::{open_assessment, seed_units, user};
use tramyte_tests::sync_client::{SETTLE, SyncClient};
use tramyte_tests::{Backend, TestServer, backends, spawn_server_on};

/// One server with the test communes, four people and the 2024 assessment of Thiệu Vận.
struct Scene {
    server: TestServer,
    store: Store,
    people: Vec<(&'static str, String)>,
    dossier: DocumentId,
}

async fn scene(backend: Backend) -> Scene {
    let server = spawn_server_on(backend, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    let mut people = Vec::new();
    for (id, role, unit) in [
        ("lan.tyt", Role::StationStaff, "16024"),
        ("hung.truongtram", Role::StationHead, "16024"),
        ("thu.ttyt", Role::Reviewer, "38-405-TTYT"),
    ] {
        people.push((id, user(&store, id, role, &[unit]).await));
    }
    let dossier = open_assessment(&store, "16024").await;
    Scene {
        server,
        store,
        people,
        dossier,
    }
}

/// What a person's phone or desk does.
enum Outcome {
    Accepted,
    Refused(String),
}

impl Scene {
    fn token(&self, who: &str) -> String {
        self.people
            .iter()
            .find(|(id, _)| *id == who)
            .unwrap()
            .1
            .clone()
    }

    /// Every change stored for the dossier, by hash, sorted: what "stored nowhere" compares.
    /// (Not the chunks themselves: the server may compact them into one snapshot at any moment,
    /// which changes the chunks but not the changes they hold.)
    async fn stored(&self) -> Vec<String> {
        let chunks = tramyte_server::store::document::load(&self.store, self.dossier)
            .await
            .unwrap()
            .unwrap();
        let mut doc = AutoCommit::new();
        for chunk in chunks {
            doc.load_incremental(&chunk.bytes).unwrap();
        }
        let mut stored: Vec<String> = doc
            .get_changes(&[])
            .iter()
            .map(|change| change.hash().to_string())
            .collect();
        stored.sort();
        stored
    }

    /// A device of `who`, online and holding the dossier as the server has it.
    async fn device(&self, who: &str) -> SyncClient {
        let mut client = SyncClient::new(&format!("{who}-{}", rand_suffix()));
        client
            .connect_as(&self.server.url(), Some(&self.token(who)))
            .await;
        client.request(self.dossier).await;
        client.settle(self.dossier).await;
        client
    }

    /// Makes `change` on `device` (online) and waits for the server's answer. A refusal must
    /// leave the stored dossier byte for byte as it was.
    async fn offer(
        &self,
        device: &mut SyncClient,
        who: &str,
        change: impl FnOnce(&mut AutoCommit, &UserId),
    ) -> Outcome {
        let before = self.stored().await;
        let by = UserId::parse(who).unwrap();
        device.edit(self.dossier, |doc| change(doc, &by)).await;
        self.answer(device, before).await
    }

    /// Waits until `device` is in sync with the server, or refused.
    async fn answer(&self, device: &mut SyncClient, before: Vec<String>) -> Outcome {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            device.pump_for(Duration::from_millis(50)).await;
            if !device.is_online() {
                assert_eq!(
                    self.stored().await,
                    before,
                    "a refused change is stored nowhere"
                );
                return Outcome::Refused(device.closed_with.clone().unwrap_or_default());
            }
            if device.client.in_sync(&self.dossier) {
                return Outcome::Accepted;
            }
            assert!(tokio::time::Instant::now() < deadline, "no answer");
        }
    }

    /// `change` as `who` on a fresh device: accepted, or why not.
    async fn attempt(&self, who: &str, change: impl FnOnce(&mut AutoCommit, &UserId)) -> Outcome {
        let mut device = self.device(who).await;
        self.offer(&mut device, who, change).await
    }

    /// The dossier's row in the reviewer's listing.
    async fn listed(&self) -> Value {
        let (status, body) = api::get(
            &self.server.url(),
            "/api/documents?kind=assessment",
            Some(&self.token("thu.ttyt")),
        )
        .await;
        assert!(status.is_success(), "{status}: {body}");
        body["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["id"] == self.dossier.to_string())
            .cloned()
            .expect("the dossier is listed")
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn refused(outcome: Outcome, expected: &str) {
    match outcome {
        Outcome::Refused(reason) => assert!(reason.contains(expected), "refused with: {reason}"),
        Outcome::Accepted => panic!("accepted; expected a refusal mentioning {expected:?}"),
    }
}

fn accepted(outcome: Outcome) {
    if let Outcome::Refused(reason) = outcome {
        panic!("refused: {reason}");
    }
}

fn score(doc: &mut AutoCommit, side: Side, item: &str, points: f64, by: &UserId) {
    let answer = Answer::Points(Points::from_f64(points).unwrap());
    set_score(doc, side, &ItemId::parse(item).unwrap(), answer, by, 1_000).unwrap();
}

fn event(doc: &mut AutoCommit, kind: EventKind, by: &UserId, comment: &str) {
    append_event(doc, &kind, by, 1_000, comment).unwrap();
}

fn item_obj(doc: &AutoCommit, id: &str) -> automerge::ObjId {
    let (_, items) = doc.get(ROOT, "items").unwrap().unwrap();
    doc.get(&items, id).unwrap().unwrap().1
}

#[tokio::test]
async fn a_value_naming_someone_else_is_refused_even_where_it_loses_a_conflict() {
    for backend in backends().await {
        let scene = scene(backend).await;
        let outcome = scene
            .attempt("lan.tyt", |doc, lan| {
                // A second actor of the same device signs as the reviewer and loses the conflict.
                let mut other = doc.fork().with_actor(ActorId::from(&[0u8; 16][..]));
                score(
                    &mut other,
                    Side::SelfAssessment,
                    "TC1",
                    2.0,
                    &UserId::parse("thu.ttyt").unwrap(),
                );
                score(doc, Side::SelfAssessment, "TC1", 9.0, lan);
                doc.merge(&mut other).unwrap();
            })
            .await;
        refused(outcome, "signed by the person");
        accepted(
            scene
                .attempt("lan.tyt", |doc, lan| {
                    score(doc, Side::SelfAssessment, "TC1", 9.0, lan)
                })
                .await,
        );
    }
}

#[tokio::test]
async fn a_colleagues_signed_score_is_replaced_whole_never_edited_inside() {
    for backend in backends().await {
        let scene = scene(backend).await;
        accepted(
            scene
                .attempt("lan.tyt", |doc, lan| {
                    score(doc, Side::SelfAssessment, "TC1", 5.0, lan)
                })
                .await,
        );
        let outcome = scene
            .attempt("hung.truongtram", |doc, _| {
                let entry = item_obj(doc, "TC1");
                let (_, signed) = doc.get(&entry, "self_score").unwrap().unwrap();
                doc.put(&signed, "points", 9.0).unwrap();
            })
            .await;
        refused(outcome, "replace the entry whole");
        accepted(
            scene
                .attempt("hung.truongtram", |doc, hung| {
                    score(doc, Side::SelfAssessment, "TC1", 9.0, hung)
                })
                .await,
        );
        assert_eq!(scene.listed().await["self_total"], 9);
    }
}

#[tokio::test]
async fn workflow_events_are_appended_at_the_end_only() {
    for backend in backends().await {
        let scene = scene(backend).await;
        accepted(
            scene
                .attempt("hung.truongtram", |doc, hung| {
                    event(doc, EventKind::Submit, hung, "")
                })
                .await,
        );
        let outcome = scene
            .attempt("thu.ttyt", |doc, thu| {
                let (_, events) = doc.get(ROOT, "events").unwrap().unwrap();
                let early = doc.insert_object(&events, 0, ObjType::Map).unwrap();
                doc.put(&early, "kind", "return").unwrap();
                doc.put(&early, "by", thu.as_str()).unwrap();
                doc.put(&early, "at", ScalarValue::Timestamp(1)).unwrap();
                doc.put(&early, "comment", "").unwrap();
            })
            .await;
        refused(outcome, "appended after the last one");
        accepted(
            scene
                .attempt("thu.ttyt", |doc, thu| {
                    event(doc, EventKind::Return, thu, "Thiếu")
                })
                .await,
        );
        assert_eq!(scene.listed().await["status"], "returned");
    }
}

#[tokio::test]
async fn a_value_of_the_wrong_shape_is_refused_and_the_dossier_stays_readable() {
    for backend in backends().await {
        let scene = scene(backend).await;
        accepted(
            scene
                .attempt("lan.tyt", |doc, lan| {
                    score(doc, Side::SelfAssessment, "TC1", 6.0, lan)
                })
                .await,
        );
        let outcome = scene
            .attempt("lan.tyt", |doc, _| {
                let entry = item_obj(doc, "TC1");
                let (_, evidence) = doc.get(&entry, "evidence").unwrap().unwrap();
                doc.put(&evidence, "e1", 42).unwrap();
            })
            .await;
        refused(outcome, "`items.TC1.evidence.e1` holds a map");
        let row = scene.listed().await;
        assert_eq!(row["self_total"], 6, "{row}");
        accepted(
            scene
                .attempt("lan.tyt", |doc, lan| {
                    let evidence = tramyte_shared::assessment::Evidence {
                        label: "Biên bản họp (thử)".into(),
                        reference: "so-1".into(),
                        added_by: lan.to_string(),
                        added_at: 1_000,
                        file: None,
                    };
                    let id = tramyte_shared::id::EvidenceId::parse("e1").unwrap();
                    let item = ItemId::parse("TC1").unwrap();
                    tramyte_shared::assessment::put_evidence(doc, &item, &id, &evidence, 1_000)
                        .unwrap();
                })
                .await,
        );
    }
}

#[tokio::test]
async fn a_submitted_dossier_is_frozen_for_the_station_and_offline_edits_are_reported() {
    for backend in backends().await {
        let scene = scene(backend).await;
        // Lan's phone goes offline before the submission and keeps working.
        let mut offline = scene.device("lan.tyt").await;
        offline.disconnect().await;
        let lan = UserId::parse("lan.tyt").unwrap();
        offline
            .edit(scene.dossier, |doc| {
                score(doc, Side::SelfAssessment, "TC4", 5.0, &lan)
            })
            .await;

        accepted(
            scene
                .attempt("hung.truongtram", |doc, hung| {
                    event(doc, EventKind::Submit, hung, "")
                })
                .await,
        );
        assert!(scene.listed().await["changed_after_submission"].is_null());
        // Having seen the submission, the station cannot change its side.
        refused(
            scene
                .attempt("lan.tyt", |doc, lan| {
                    score(doc, Side::SelfAssessment, "TC2", 7.0, lan)
                })
                .await,
            "submitted",
        );
        // The reviewer works on theirs.
        accepted(
            scene
                .attempt("thu.ttyt", |doc, thu| {
                    score(doc, Side::Review, "TC2", 6.0, thu)
                })
                .await,
        );

        // The offline edit, made before the phone heard of the submission, is kept and reported.
        let before = scene.stored().await;
        offline
            .connect_as(&scene.server.url(), Some(&scene.token("lan.tyt")))
            .await;
        accepted(scene.answer(&mut offline, before).await);
        let row = scene.listed().await;
        assert_eq!(row["status"], "submitted");
        assert_eq!(
            row["changed_after_submission"]["items"],
            serde_json::json!(["TC4"]),
            "{row}"
        );
        assert_eq!(
            row["changed_after_submission"]["by"],
            serde_json::json!(["lan.tyt"])
        );

        // Until the reviewer acknowledges it.
        accepted(
            scene
                .attempt("thu.ttyt", |doc, thu| {
                    event(doc, EventKind::Acknowledge, thu, "")
                })
                .await,
        );
        assert!(scene.listed().await["changed_after_submission"].is_null());
    }
}

#[tokio::test]
async fn an_approved_dossier_is_frozen_and_listed_as_it_was_approved() {
    for backend in backends().await {
        let scene = scene(backend).await;
        accepted(
            scene
                .attempt("lan.tyt", |doc, lan| {
                    score(doc, Side::SelfAssessment, "TC1", 8.0, lan)
                })
                .await,
        );
        accepted(
            scene
                .attempt("hung.truongtram", |doc, hung| {
                    event(doc, EventKind::Submit, hung, "")
                })
                .await,
        );
        // The reviewer's second device scores offline while the first approves.
        let mut laptop = scene.device("thu.ttyt").await;
        laptop.disconnect().await;
        let thu = UserId::parse("thu.ttyt").unwrap();
        laptop
            .edit(scene.dossier, |doc| {
                score(doc, Side::Review, "TC2", 3.0, &thu)
            })
            .await;
        accepted(
            scene
                .attempt("thu.ttyt", |doc, thu| {
                    score(doc, Side::Review, "TC1", 7.5, thu);
                    event(doc, EventKind::Appraise, thu, "");
                    let heads = tramyte_shared::document::heads(doc);
                    event(doc, EventKind::Approve { heads }, thu, "");
                })
                .await,
        );
        let row = scene.listed().await;
        assert_eq!(
            (row["status"].clone(), row["review_total"].clone()),
            ("approved".into(), 7.5.into())
        );

        // Nobody edits an approved dossier.
        refused(
            scene
                .attempt("thu.ttyt", |doc, thu| {
                    score(doc, Side::Review, "TC1", 9.0, thu)
                })
                .await,
            "approved",
        );
        refused(
            scene
                .attempt("lan.tyt", |doc, lan| {
                    score(doc, Side::SelfAssessment, "TC1", 9.0, lan)
                })
                .await,
            "approved",
        );
        // An edit concurrent with the approval is kept, but the record shows what was approved.
        let before = scene.stored().await;
        laptop
            .connect_as(&scene.server.url(), Some(&scene.token("thu.ttyt")))
            .await;
        accepted(scene.answer(&mut laptop, before).await);
        assert_eq!(scene.listed().await["review_total"], 7.5);

        // Reopening needs a reason; then the review side is open again.
        refused(
            scene
                .attempt("thu.ttyt", |doc, thu| {
                    event(doc, EventKind::Reopen, thu, "")
                })
                .await,
            "reason",
        );
        accepted(
            scene
                .attempt("thu.ttyt", |doc, thu| {
                    event(doc, EventKind::Reopen, thu, "Chấm lại TC2 (thử)");
                    score(doc, Side::Review, "TC2", 4.0, thu);
                })
                .await,
        );
        let row = scene.listed().await;
        assert_eq!(row["status"], "appraised");
        assert_eq!(row["review_total"], 11.5, "{row}");
    }
}
