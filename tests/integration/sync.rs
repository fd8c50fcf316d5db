//! Sync over real websockets on 127.0.0.1 against the real server, on SQLite and PostgreSQL.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tramyte_server::config::DocKindArg;
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::client::ClientEvent;
use tramyte_tests::sync_client::{SETTLE, SyncClient, converge};
use tramyte_tests::{Backend, backends, spawn_node_beside, spawn_server_on};

/// Creates an assessment of the 2024 round for a commune, as the server does when a round opens.
pub async fn new_assessment(store: &tramyte_server::store::Store, commune: &str) -> DocumentId {
    let object = serde_json::json!({
        "commune": commune, "catalog": "QD1300-2023", "round": 2024, "zone": 1, "unit_type": "xa"
    });
    tramyte_server::cli::create_document(store, DocKindArg::Assessment, object.as_object().unwrap())
        .await
        .unwrap()
}

fn new_id() -> DocumentId {
    tramyte_server::store::document::new_document_id().unwrap()
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

fn strings(doc: &AutoCommit, key: &str) -> Vec<String> {
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

fn note(doc: &AutoCommit) -> String {
    let (_, id) = doc.get(automerge::ROOT, "note").unwrap().unwrap();
    doc.text(&id).unwrap()
}

fn heads(client: &mut SyncClient, id: DocumentId) -> Vec<automerge::ChangeHash> {
    let mut heads = client.client.doc_mut(&id).unwrap().get_heads();
    heads.sort();
    heads
}

#[tokio::test]
async fn two_clients_edit_offline_and_converge_with_the_conflict_kept() {
    for backend in backends().await {
        let mut server = spawn_server_on(backend, |config| config.open = true).await;
        let id = new_id();
        let mut a = SyncClient::new("phone-a");
        a.connect(&server.url()).await;
        a.insert(id, new_document()).await;
        a.settle(id).await;
        let mut b = SyncClient::new("phone-b");
        b.connect(&server.url()).await;
        b.request(id).await;
        b.settle(id).await;
        assert_eq!(
            b.client
                .doc(&id)
                .unwrap()
                .get(automerge::ROOT, "title")
                .unwrap()
                .unwrap()
                .0
                .as_str(),
            Some("Trạm Y tế xã Thiệu Vận")
        );

        a.disconnect().await;
        b.disconnect().await;
        a.edit(id, |doc| {
            doc.put(automerge::ROOT, "zone", 2).unwrap();
            doc.put(automerge::ROOT, "self_score", "7.5").unwrap();
            let (_, text) = doc.get(automerge::ROOT, "note").unwrap().unwrap();
            doc.splice_text(&text, 0, 0, "Phòng khám ").unwrap();
        })
        .await;
        b.edit(id, |doc| {
            doc.put(automerge::ROOT, "villages", 24).unwrap();
            doc.put(automerge::ROOT, "self_score", "8").unwrap();
            let (_, text) = doc.get(automerge::ROOT, "note").unwrap().unwrap();
            doc.splice_text(&text, 0, 0, "đạt chuẩn").unwrap();
        })
        .await;
        a.connect(&server.url()).await;
        b.connect(&server.url()).await;
        converge(&mut [&mut a, &mut b], id).await;
        assert_eq!(
            heads(&mut a, id),
            heads(&mut b, id),
            "{backend:?}: converged"
        );
        for client in [&a, &b] {
            let doc = client.client.doc(&id).unwrap();
            assert_eq!(
                strings(doc, "self_score"),
                vec!["7.5", "8"],
                "{backend:?}: the conflict stays"
            );
            assert!(doc.get(automerge::ROOT, "zone").unwrap().is_some());
            assert!(doc.get(automerge::ROOT, "villages").unwrap().is_some());
            let text = note(doc);
            assert!(
                text.contains("Phòng khám ") && text.contains("đạt chuẩn"),
                "{text}"
            );
        }
        assert_eq!(
            note(a.client.doc(&id).unwrap()),
            note(b.client.doc(&id).unwrap())
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn documents_survive_a_restart_and_unknown_ones_are_unavailable() {
    for backend in backends().await {
        let mut server = spawn_server_on(backend, |_| {}).await;
        // A server-created document (not open mode: clients cannot create documents).
        let store = tramyte_server::store::Store::connect(&server.config.database_url)
            .await
            .unwrap();
        tramyte_tests::people::seed_units(&store).await;
        let token =
            tramyte_tests::people::user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let id = new_assessment(&store, "16024").await;
        store.close().await;

        let mut a = SyncClient::new("phone-a");
        a.connect_as(&server.url(), Some(&token)).await;
        a.request(id).await;
        a.settle(id).await;
        a.edit(id, |doc| {
            let item = tramyte_shared::id::ItemId::parse("TC2").unwrap();
            let answer = tramyte_shared::assessment::Answer::Points(
                tramyte_shared::points::Points::from_f64(8.5).unwrap(),
            );
            let by = tramyte_shared::id::UserId::parse("lan.tyt").unwrap();
            tramyte_shared::assessment::set_score(
                doc,
                tramyte_shared::assessment::Side::SelfAssessment,
                &item,
                answer,
                &by,
                1,
            )
            .unwrap();
        })
        .await;
        a.settle(id).await;
        let expected = heads(&mut a, id);

        let unknown = new_id();
        a.request(unknown).await;
        a.pump_until(SETTLE, |_, events| {
            events.contains(&ClientEvent::Unavailable(unknown))
        })
        .await;
        let created_by_client = new_id();
        a.insert(created_by_client, new_document()).await;
        a.pump_until(SETTLE, |_, events| {
            events.contains(&ClientEvent::Unavailable(created_by_client))
        })
        .await;

        a.disconnect().await;
        server.restart().await;
        let mut b = SyncClient::new("phone-b");
        b.connect_as(&server.url(), Some(&token)).await;
        b.request(id).await;
        b.settle(id).await;
        assert_eq!(
            heads(&mut b, id),
            expected,
            "{backend:?}: served after a restart"
        );
        b.request(created_by_client).await;
        b.pump_until(SETTLE, |_, events| {
            events.contains(&ClientEvent::Unavailable(created_by_client))
        })
        .await;
        server.stop().await;
    }
}

#[tokio::test]
async fn garbage_and_oversized_frames_close_only_that_socket() {
    for backend in backends().await {
        garbage_and_oversized_frames_close_only_that_socket_on(backend).await;
    }
}

async fn garbage_and_oversized_frames_close_only_that_socket_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| {
        config.open = true;
        config.sync.max_frame_bytes = 64 << 10;
    })
    .await;
    let mut healthy = SyncClient::new("healthy");
    healthy.connect(&server.url()).await;
    let id = new_id();
    healthy.insert(id, new_document()).await;
    healthy.settle(id).await;

    let mut garbage = SyncClient::new("garbage");
    garbage.connect(&server.url()).await;
    garbage
        .send_raw(WsMessage::Binary(vec![0xff, 0x00, 0x13, 0x37].into()))
        .await;
    assert!(garbage.expect_closed().await.contains("not CBOR"));

    let mut oversized = SyncClient::new("oversized");
    oversized.connect(&server.url()).await;
    oversized
        .send_raw(WsMessage::Binary(vec![0u8; 100 << 10].into()))
        .await;
    assert!(
        oversized
            .expect_closed()
            .await
            .contains("bad websocket frame")
    );

    let mut text = SyncClient::new("text");
    text.connect(&server.url()).await;
    text.send_raw(WsMessage::Text("hello".into())).await;
    assert!(text.expect_closed().await.contains("text frames"));

    let mut bad_sync = SyncClient::new("bad-sync");
    bad_sync.connect(&server.url()).await;
    let frame = tramyte_shared::sync::message::Message::Sync {
        sender_id: "bad-sync".into(),
        target_id: "server".into(),
        document_id: id,
        data: vec![0x42, 0xff, 0xff, 0xff],
    };
    bad_sync
        .send_raw(WsMessage::Binary(frame.encode().into()))
        .await;
    let error = bad_sync.expect_closed().await;
    assert!(error.contains("sync message"), "{error}");

    // The healthy client still syncs.
    healthy
        .edit(id, |doc| {
            doc.put(automerge::ROOT, "after", "still fine").unwrap()
        })
        .await;
    healthy.settle(id).await;
    assert!(healthy.is_online());
    server.stop().await;
}

#[tokio::test]
async fn a_change_on_one_node_reaches_a_client_of_another_within_a_second() {
    // `backends()` fails loudly when PostgreSQL does not answer: this test never skips.
    assert!(backends().await.contains(&Backend::Postgres));
    let mut first = spawn_server_on(Backend::Postgres, |config| config.open = true).await;
    let mut second = spawn_node_beside(&first).await;
    let id = new_id();
    let mut a = SyncClient::new("on-first");
    a.connect(&first.url()).await;
    a.insert(id, new_document()).await;
    a.settle(id).await;
    let mut b = SyncClient::new("on-second");
    b.connect(&second.url()).await;
    b.request(id).await;
    b.settle(id).await;

    a.edit(id, |doc| doc.put(automerge::ROOT, "zone", 1).unwrap())
        .await;
    a.settle(id).await;
    let started = std::time::Instant::now();
    b.pump_until(Duration::from_secs(5), |client, _| {
        client
            .doc(&id)
            .is_some_and(|doc| doc.get(automerge::ROOT, "zone").ok().flatten().is_some())
    })
    .await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "the change took {elapsed:?} to cross nodes"
    );
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_dropped() {
    for backend in backends().await {
        a_peer_that_stops_answering_pings_is_dropped_on(backend).await;
    }
}

async fn a_peer_that_stops_answering_pings_is_dropped_on(backend: Backend) {
    // A peer is dropped after two keepalive periods without a word. One second (not less): a
    // loaded machine can hold the lively client's task for a few hundred milliseconds, and it
    // must still count as answering.
    let mut server = spawn_server_on(backend, |config| {
        config.open = true;
        config.sync.keepalive = Duration::from_secs(1);
    })
    .await;
    let mut silent = SyncClient::new("silent");
    silent.connect(&server.url()).await;
    // Not reading means not answering pings (tungstenite answers them while reading): wait,
    // without reading, until the server says it holds no connection (10 s at most).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = tramyte_tests::hostile::metrics(&server.url()).await;
        if tramyte_tests::hostile::sample(&metrics, "tramyte_sync_connections") == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server still holds the silent connection after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    silent.pump_for(Duration::from_millis(500)).await;
    assert!(
        !silent.is_online(),
        "the server closed the silent connection"
    );

    let mut lively = SyncClient::new("lively");
    lively.connect(&server.url()).await;
    lively.pump_for(Duration::from_millis(3_500)).await;
    assert!(lively.is_online(), "a peer that answers pings stays");
    server.stop().await;
}
