//! The official JavaScript client, `@automerge/automerge-repo` 2.x with its websocket adapter,
//! run by Node, syncs with our server in open mode: one peer creates a document, another finds
//! it by URL, their concurrent edits converge, and after a server restart a third finds it.

use tramyte_tests::browser::Script;
use tramyte_tests::{Backend, spawn_server_on};

#[tokio::test]
async fn the_official_automerge_repo_client_creates_finds_and_converges() {
    let mut server = spawn_server_on(Backend::Sqlite, |config| config.open = true).await;
    let mut script = Script::start("repo_interop", &server.url());
    script.wait_for("server-restart").await;
    server.restart().await;
    script.go().await;
    script.finish().await;
    server.stop().await;
}
