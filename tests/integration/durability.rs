//! An acknowledged change is never lost: the server process is killed with SIGKILL right after
//! acknowledging, and after a restart every acknowledged change is there.

use automerge::ReadDoc;
use automerge::transaction::Transactable;
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
        let id = tramyte_server::cli::new_document_id().unwrap();
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
