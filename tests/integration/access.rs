//! Access enforced on every change, over real websockets against the real server: every role
//! against every kind of field, reading another commune, a forged actor, ended sessions, a
//! token used to sign as someone else, bad frames from a signed-in user (sign-in throttling:
//! `sign_in.rs`).
//! Every refusal leaves the stored document unchanged.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tramyte_server::config::DocKindArg;
use tramyte_server::store::Store;
use tramyte_shared::assessment::{
    Answer, Side, append_event, set_note, set_review_comment, set_score, set_zone,
};
use tramyte_shared::commune::Zone;
use tramyte_shared::id::{ItemId, PersonId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::Role;
use tramyte_shared::roster::{Group, Person, put_person};
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::client::ClientEvent;
use tramyte_shared::workflow::{DecisionRef, EventKind};
use tramyte_tests::people::{PASSWORD, seed_units, user};
use tramyte_tests::sync_client::{SETTLE, SyncClient};
use tramyte_tests::{Backend, TestServer, backends, spawn_server_on};

struct World {
    server: TestServer,
    store: Store,
    tokens: Vec<(Role, &'static str, String)>,
    assessment: DocumentId,
    other_commune: DocumentId,
    roster: DocumentId,
}

async fn create(store: &Store, kind: DocKindArg, json: serde_json::Value) -> DocumentId {
    tramyte_server::cli::create_document(store, kind, json.as_object().unwrap())
        .await
        .unwrap()
}

async fn world(backend: Backend) -> World {
    let server = spawn_server_on(backend, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    let people: [(Role, &'static str, &[&str]); 6] = [
        (Role::VillageHealthWorker, "mai.vhw", &["16024-T1"]),
        (Role::StationStaff, "lan.tyt", &["16024"]),
        (Role::StationHead, "hung.truongtram", &["16024"]),
        (Role::Reviewer, "thu.ttyt", &["38-405-TTYT"]),
        (Role::ProvincialAdmin, "binh.syt", &["38-SYT"]),
        (Role::SystemAdmin, "quantri", &[]),
    ];
    let mut tokens = Vec::new();
    for (role, id, units) in people {
        tokens.push((role, id, user(&store, id, role, units).await));
    }
    let assessment_of = |commune: &str| serde_json::json!({"commune": commune, "catalog": "QD1300-2023", "round": 2024, "zone": 1, "unit_type": "xa"});
    let assessment = create(&store, DocKindArg::Assessment, assessment_of("16024")).await;
    let other_commune = create(&store, DocKindArg::Assessment, assessment_of("16025")).await;
    let roster = create(
        &store,
        DocKindArg::Roster,
        serde_json::json!({"commune": "16024"}),
    )
    .await;
    World {
        server,
        store,
        tokens,
        assessment,
        other_commune,
        roster,
    }
}

impl World {
    fn token(&self, role: Role) -> (&'static str, String) {
        let (_, id, token) = self.tokens.iter().find(|(r, _, _)| *r == role).unwrap();
        (id, token.clone())
    }

    async fn stored_heads(&self, id: DocumentId) -> Vec<automerge::ChangeHash> {
        let chunks = tramyte_server::store::document::load(&self.store, id)
            .await
            .unwrap()
            .unwrap();
        let mut doc = tramyte_shared::sync::hub::load_chunks(&chunks).unwrap();
        let mut heads = doc.get_heads();
        heads.sort();
        heads
    }

    /// Connects as `role`, opens `doc`, makes `change` and reports whether the server took it
    /// (`Ok`) or closed the connection with an error (`Err(message)`). A refused change must
    /// leave the stored document as it was.
    async fn attempt(
        &self,
        role: Role,
        doc: DocumentId,
        change: impl FnOnce(&mut AutoCommit, &UserId),
    ) -> Result<(), String> {
        let (user_id, token) = self.token(role);
        let mut client = SyncClient::new(&format!("{user_id}-phone"));
        client.connect_as(&self.server.url(), Some(&token)).await;
        client.request(doc).await;
        client.settle(doc).await;
        let before = self.stored_heads(doc).await;
        let by = UserId::parse(user_id).unwrap();
        client.edit(doc, |d| change(d, &by)).await;
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            client.pump_for(Duration::from_millis(50)).await;
            if !client.is_online() {
                assert_eq!(
                    self.stored_heads(doc).await,
                    before,
                    "a refused change is stored nowhere"
                );
                return Err(client.closed_with.clone().unwrap_or_default());
            }
            if client.client.in_sync(&doc) {
                return Ok(());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no answer to {role:?}'s change"
            );
        }
    }
}

fn item(id: &str) -> ItemId {
    ItemId::parse(id).unwrap()
}

fn points(value: f64) -> Answer {
    Answer::Points(Points::from_f64(value).unwrap())
}

#[tokio::test]
async fn every_role_against_every_kind_of_field() {
    for backend in backends().await {
        every_role_against_every_kind_of_field_on(backend).await;
    }
}

async fn every_role_against_every_kind_of_field_on(backend: Backend) {
    use Role::*;
    let world = world(backend).await;
    let (a, r) = (world.assessment, world.roster);
    type Change = Box<dyn FnOnce(&mut AutoCommit, &UserId)>;
    let self_score = || -> Change {
        Box::new(|d, by| {
            set_score(d, Side::SelfAssessment, &item("TC2"), points(8.5), by, 1).unwrap()
        })
    };
    let review_score = || -> Change {
        Box::new(|d, by| set_score(d, Side::Review, &item("TC2"), points(7.0), by, 1).unwrap())
    };
    let note = || -> Change {
        Box::new(|d, _| set_note(d, &item("TC3"), "Có biên bản họp", 1).unwrap())
    };
    let comment = || -> Change {
        Box::new(|d, _| set_review_comment(d, &item("TC3"), "Thiếu minh chứng", 1).unwrap())
    };
    let zone = || -> Change { Box::new(|d, _| set_zone(d, Zone::new(2).unwrap(), 1).unwrap()) };
    let event = |kind: EventKind| -> Change {
        Box::new(move |d, by| drop(append_event(d, &kind, by, 1, "").unwrap()))
    };
    let own_entry = || -> Change {
        Box::new(|d, _| {
            let person = Person {
                name: "Lò Thị Mai (thử)".into(),
                ..Person::default()
            };
            put_person(
                d,
                Group::VillageWorker,
                &PersonId::parse("vhw-1").unwrap(),
                &person,
                1,
            )
            .unwrap()
        })
    };
    let staff_entry = |id: &'static str| -> Change {
        Box::new(move |d, _| {
            let person = Person {
                name: format!("Nhân viên {id} (thử)"),
                ..Person::default()
            };
            put_person(d, Group::Staff, &PersonId::parse(id).unwrap(), &person, 1).unwrap()
        })
    };
    let header =
        || -> Change { Box::new(|d, _| d.put(automerge::ROOT, "commune", "16025").unwrap()) };
    let recognize = EventKind::Recognize {
        decision: DecisionRef {
            number: "123/QĐ-UBND".into(),
            date: "2024-12-20".into(),
        },
    };

    let cases: Vec<(Role, &str, DocumentId, Change, bool)> = vec![
        (VillageHealthWorker, "self score", a, self_score(), false),
        (VillageHealthWorker, "note", a, note(), true),
        (
            VillageHealthWorker,
            "own roster entry",
            r,
            own_entry(),
            true,
        ),
        (
            VillageHealthWorker,
            "staff roster entry",
            r,
            staff_entry("bs-1"),
            false,
        ),
        (StationStaff, "self score", a, self_score(), true),
        (StationStaff, "review score", a, review_score(), false),
        (StationStaff, "submit", a, event(EventKind::Submit), false),
        (
            StationStaff,
            "staff roster entry",
            r,
            staff_entry("bs-2"),
            true,
        ),
        (StationHead, "submit", a, event(EventKind::Submit), true),
        (StationHead, "review comment", a, comment(), false),
        (StationHead, "zone", a, zone(), false),
        (StationHead, "commune of the document", a, header(), false),
        (Reviewer, "review score", a, review_score(), true),
        (Reviewer, "review comment", a, comment(), true),
        (Reviewer, "return", a, event(EventKind::Return), true),
        (Reviewer, "self score", a, self_score(), false),
        (Reviewer, "recognize", a, event(recognize.clone()), false),
        (Reviewer, "roster", r, staff_entry("bs-3"), false),
        (ProvincialAdmin, "recognize", a, event(recognize), true),
        (ProvincialAdmin, "zone", a, zone(), true),
        (ProvincialAdmin, "review score", a, review_score(), false),
        (SystemAdmin, "commune of the document", a, header(), false),
    ];
    let mut failures = Vec::new();
    for (role, what, doc, change, allowed) in cases {
        let result = world.attempt(role, doc, change).await;
        match (&result, allowed) {
            (Ok(()), true) => {}
            (Err(message), false) if message.contains("refused at `") => {}
            _ => failures.push(format!(
                "{role:?} writing {what}: expected allowed={allowed}, got {result:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn another_communes_document_is_unavailable_like_a_missing_one() {
    for backend in backends().await {
        another_communes_document_is_unavailable_like_a_missing_one_on(backend).await;
    }
}

async fn another_communes_document_is_unavailable_like_a_missing_one_on(backend: Backend) {
    let world = world(backend).await;
    let (_, token) = world.token(Role::StationStaff);
    let mut client = SyncClient::new("lan-phone");
    client.connect_as(&world.server.url(), Some(&token)).await;
    client.request(world.other_commune).await;
    let missing = tramyte_server::store::document::new_document_id().unwrap();
    client.request(missing).await;
    client
        .pump_until(SETTLE, |_, events| {
            events.contains(&ClientEvent::Unavailable(world.other_commune))
                && events.contains(&ClientEvent::Unavailable(missing))
        })
        .await;
    let other = client.client.doc_mut(&world.other_commune).unwrap();
    assert!(
        other.get_heads().is_empty(),
        "nothing of it reached the phone"
    );
    // The reviewer of the district sees both communes.
    let (_, token) = world.token(Role::Reviewer);
    let mut reviewer = SyncClient::new("thu-phone");
    reviewer.connect_as(&world.server.url(), Some(&token)).await;
    reviewer.request(world.other_commune).await;
    reviewer.settle(world.other_commune).await;
}

#[tokio::test]
async fn a_forged_actor_and_a_signature_of_someone_else_are_refused() {
    for backend in backends().await {
        a_forged_actor_and_a_signature_of_someone_else_are_refused_on(backend).await;
    }
}

async fn a_forged_actor_and_a_signature_of_someone_else_are_refused_on(backend: Backend) {
    let world = world(backend).await;
    let doc = world.assessment;
    // Lan's phone writes with a known actor id.
    let actor = ActorId::from(b"lan-phone-actor-1".to_vec());
    let forged = actor.clone();
    world
        .attempt(Role::StationStaff, doc, move |d, by| {
            d.set_actor(actor);
            set_score(d, Side::SelfAssessment, &item("TC1"), points(10.0), by, 1).unwrap();
        })
        .await
        .unwrap();
    // Hùng uses Lan's actor id.
    let result = world
        .attempt(Role::StationHead, doc, move |d, by| {
            d.set_actor(forged);
            set_note(d, &item("TC1"), "giả mạo", 1).unwrap();
            let _ = by;
        })
        .await;
    assert!(
        result
            .as_ref()
            .is_err_and(|e| e.contains("belongs to another user")),
        "{result:?}"
    );
    // Lan's token, but the score signed as Hùng.
    let result = world
        .attempt(Role::StationStaff, doc, |d, _| {
            let hung = UserId::parse("hung.truongtram").unwrap();
            set_score(d, Side::SelfAssessment, &item("TC4"), points(4.5), &hung, 1).unwrap();
        })
        .await;
    assert!(
        result
            .as_ref()
            .is_err_and(|e| e.contains("signed by the person")),
        "{result:?}"
    );
}

#[tokio::test]
async fn ended_sessions_close_their_sockets_and_open_no_new_ones() {
    for backend in backends().await {
        ended_sessions_close_their_sockets_and_open_no_new_ones_on(backend).await;
    }
}

async fn ended_sessions_close_their_sockets_and_open_no_new_ones_on(backend: Backend) {
    let world = world(backend).await;
    let url = world.server.url();
    let (user_id, token) = world.token(Role::StationStaff);
    let mut phone = SyncClient::new("lan-phone");
    phone.connect_as(&url, Some(&token)).await;
    phone.request(world.assessment).await;
    phone.settle(world.assessment).await;

    tramyte_server::domain::account::set_disabled(&world.store, user_id, true)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while phone.is_online() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a disabled user's socket closes within seconds"
        );
        phone.pump_for(Duration::from_millis(100)).await;
    }
    assert!(
        phone
            .closed_with
            .as_deref()
            .is_some_and(|m| m.contains("session ended")),
        "{:?}",
        phone.closed_with
    );
    let refused = tokio_tungstenite::connect_async(format!(
        "{}/sync?token={token}",
        url.replacen("http", "ws", 1)
    ))
    .await;
    assert!(refused.is_err(), "a disabled user's token opens nothing");

    // A revoked (signed-out) session and an expired one.
    let (head, head_token) = world.token(Role::StationHead);
    let session = tramyte_server::domain::account::authenticate(&world.store, &head_token)
        .await
        .unwrap();
    tramyte_server::domain::account::sign_out(&world.store, &session.token_hash)
        .await
        .unwrap();
    let refused = tokio_tungstenite::connect_async(format!(
        "{}/sync?token={head_token}",
        url.replacen("http", "ws", 1)
    ))
    .await;
    assert!(refused.is_err(), "a signed-out token opens nothing");
    let (expiring, _) = tramyte_server::domain::account::sign_in(&world.store, head, PASSWORD, "d")
        .await
        .unwrap();
    let hash = tramyte_server::domain::account::hash_token(&expiring);
    tramyte_server::with_pool!(&world.store, pool => {
        tramyte_server::sqlx::query("UPDATE sessions SET expires_at = 1 WHERE token_hash = $1")
            .bind(&hash)
            .execute(pool)
            .await
            .unwrap();
    });
    let refused = tokio_tungstenite::connect_async(format!(
        "{}/sync?token={expiring}",
        url.replacen("http", "ws", 1)
    ))
    .await;
    assert!(refused.is_err(), "an expired token opens nothing");
}

#[tokio::test]
async fn a_signed_in_users_garbage_closes_only_their_socket_and_changes_nothing() {
    for backend in backends().await {
        a_signed_in_users_garbage_closes_only_their_socket_and_changes_nothing_on(backend).await;
    }
}

async fn a_signed_in_users_garbage_closes_only_their_socket_and_changes_nothing_on(
    backend: Backend,
) {
    let world = world(backend).await;
    let before = world.stored_heads(world.assessment).await;
    let (_, token) = world.token(Role::StationStaff);
    let mut phone = SyncClient::new("lan-phone");
    phone.connect_as(&world.server.url(), Some(&token)).await;
    phone.request(world.assessment).await;
    phone.settle(world.assessment).await;
    let bad = tramyte_shared::sync::message::Message::Sync {
        sender_id: "lan-phone".into(),
        target_id: "server".into(),
        document_id: world.assessment,
        data: vec![0x42, 0x01, 0xff, 0xff, 0xff, 0xff],
    };
    phone.send_raw(WsMessage::Binary(bad.encode().into())).await;
    assert!(phone.expect_closed().await.contains("sync message"));
    let mut big = SyncClient::new("lan-phone-2");
    big.connect_as(&world.server.url(), Some(&token)).await;
    // Over the 8 MiB default: the server cuts the connection, with an error if it gets to say so.
    if big
        .try_send_raw(WsMessage::Binary(vec![0xa1; 9 << 20].into()))
        .await
    {
        assert!(big.expect_closed().await.contains("bad websocket frame"));
    }
    assert!(!big.is_online());
    assert_eq!(world.stored_heads(world.assessment).await, before);
}
