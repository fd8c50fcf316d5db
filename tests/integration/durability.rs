//! An acknowledged change is never lost: the server process is killed with SIGKILL right after
//! acknowledging, and after a restart every acknowledged change is there. Who sent each change
//! is not lost either when its chunks are compacted.

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use tramyte_server::store::Store;
use tramyte_server::store::document::{self, DocumentKind, PersistJob, Provenance};
use tramyte_shared::sync::{Chunk, ChunkKey, ChunkKind, DocumentId};
use tramyte_tests::process::ServerProcess;
use tramyte_tests::server::{TempDir, TestDatabase};
use tramyte_tests::sync_client::SyncClient;
use tramyte_tests::{Backend, backends};

const EDITS: i64 = 40;

#[tokio::test]
async fn nothing_acknowledged_is_lost_when_the_server_is_killed() {
    for backend in backends().await {
        let database = TestDatabase::new(backend).await;
        let data_dir = TempDir::new("sigkill");
        let mut args = vec!["--open", "--data-dir", data_dir.0.to_str().unwrap()];
        if backend == Backend::Postgres {
            args.extend(["--database-url", database.url.as_str()]);
        }
        let server = ServerProcess::start(&args).await;
        let id = tramyte_server::store::document::new_document_id().unwrap();
        let mut phone = SyncClient::new("phone");
        phone.connect(&server.url).await;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Vận")
            .unwrap();
        doc.commit();
        phone.insert(id, doc).await;
        phone.settle(id).await;
        for i in 0..EDITS {
            phone
                .edit(id, |doc| {
                    doc.put(automerge::ROOT, format!("edit-{i}"), i).unwrap()
                })
                .await;
            // Acknowledged: the server has told us it has this version.
            phone.settle(id).await;
        }
        server.kill().await;

        let server = ServerProcess::start(&args).await;
        let mut fresh = SyncClient::new("fresh");
        fresh.connect(&server.url).await;
        fresh.request(id).await;
        fresh.settle(id).await;
        let doc = fresh.client.doc(&id).unwrap();
        for i in 0..EDITS {
            assert!(
                doc.get(automerge::ROOT, format!("edit-{i}"))
                    .unwrap()
                    .is_some(),
                "{backend:?}: edit {i} survived"
            );
        }
        server.kill().await;
    }
}

/// A stored chunk of one change, sent by `user`.
fn job(id: DocumentId, bytes: &[u8], user: &str, hash: &str) -> PersistJob {
    PersistJob {
        id,
        chunk: Chunk::new(ChunkKind::Incremental, bytes.to_vec()),
        created: Some((DocumentKind::Json, format!("{user} (test)"))),
        provenance: Provenance {
            user: user.to_owned(),
            device: format!("{user}'s phone"),
            changes: vec![(hash.to_owned(), format!("actor-{user}"))],
            new_actors: Vec::new(),
        },
        summary: None,
        files: None,
        on_revision: None,
    }
}

#[tokio::test]
async fn who_sent_each_change_is_kept_when_its_chunks_are_compacted() {
    for backend in backends().await {
        let database = TestDatabase::new(backend).await;
        let store = Store::connect(&database.url).await.unwrap();
        store.migrate().await.unwrap();
        let id = tramyte_server::store::document::new_document_id().unwrap();
        let received = tramyte_server::store::now_millis();
        document::persist(&store, &[job(id, b"c1", "lan", "h1")], "node", received)
            .await
            .unwrap();
        // Received a moment later.
        document::persist(
            &store,
            &[job(id, b"c2", "minh", "h2")],
            "node",
            received + 5,
        )
        .await
        .unwrap();
        let before = document::provenance(&store, id).await.unwrap();
        let who: Vec<(&str, &str, &str)> = {
            let mut who: Vec<_> = before
                .iter()
                .map(|(hash, (user, device, _))| (hash.as_str(), user.as_str(), device.as_str()))
                .collect();
            who.sort();
            who
        };
        assert_eq!(
            who,
            [("h1", "lan", "lan's phone"), ("h2", "minh", "minh's phone")],
            "{backend:?}"
        );
        let (h1_at, h2_at) = (before["h1"].2, before["h2"].2);
        assert!(h1_at < h2_at, "{backend:?}: received in order");
        let id_text = id.to_string();
        let last = document::last_change(&store, &id_text).await.unwrap();
        assert_eq!(last, Some((h2_at, "minh".to_owned())), "{backend:?}");

        let replaced: Vec<ChunkKey> = document::load(&store, id)
            .await
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|chunk| chunk.key)
            .collect();
        assert_eq!(replaced.len(), 2);
        let snapshot = Chunk::new(ChunkKind::Snapshot, b"snapshot".to_vec());
        document::compact(&store, id, &snapshot, &replaced)
            .await
            .unwrap();
        let left = document::load(&store, id).await.unwrap().unwrap();
        assert_eq!(left.len(), 1, "{backend:?}: only the snapshot is left");
        assert_eq!(
            document::provenance(&store, id).await.unwrap(),
            before,
            "{backend:?}: the same senders, devices and times after compaction"
        );
        let last = document::last_change(&store, &id_text).await.unwrap();
        assert_eq!(last, Some((h2_at, "minh".to_owned())), "{backend:?}");
        store.close().await;
    }
}
