//! The official JavaScript client, `@automerge/automerge-repo` 2.x with its websocket adapter,
//! run by Node, syncs with our server in open mode: one peer creates a document, another finds
//! it by URL, their concurrent edits converge, and after a server restart a third finds it.

use tramyte_tests::browser::Script;
use tramyte_tests::{Backend, backends, spawn_server_on};

#[tokio::test]
async fn the_official_automerge_repo_client_creates_finds_and_converges() {
    for backend in backends().await {
        the_official_automerge_repo_client_creates_finds_and_converges_on(backend).await;
    }
}

async fn the_official_automerge_repo_client_creates_finds_and_converges_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |config| config.open = true).await;
    let mut script = Script::start("repo_interop", &server.url());
    script.wait_for("server-restart").await;
    server.restart().await;
    script.go().await;
    script.finish().await;
    server.stop().await;
}
