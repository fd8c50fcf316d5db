//! The field app in headless Chromium, two station staff of one commune: offline edits of
//! different criteria, of the same one and of the same note; a reload mid-typing; reconnection
//! and merge with the conflict shown on both; its resolution seen by the other; a cold start
//! offline (`tests/e2e/field_app.mjs`).

use serde_json::json;
use tramyte_server::config::DocKindArg;
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, open_assessment, seed_units, user};
use tramyte_tests::{Backend, backends, spawn_server_on};

#[tokio::test]
async fn two_station_staff_edit_offline_merge_and_resolve_a_conflict() {
    for backend in backends().await {
        two_station_staff_edit_offline_merge_and_resolve_a_conflict_on(backend).await;
    }
}

async fn two_station_staff_edit_offline_merge_and_resolve_a_conflict_on(backend: Backend) {
    let mut server = spawn_server_on(backend, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    user(&store, "nv2", Role::StationStaff, &["16024"]).await;
    open_assessment(&store, "16024").await;
    let roster = json!({"commune": "16024"});
    tramyte_server::cli::create_document(&store, DocKindArg::Roster, roster.as_object().unwrap())
        .await
        .unwrap();
    drop(store);

    let mut script = Script::start_with(
        "field_app",
        &server.url(),
        &[("TRAMYTE_TEST_PASSWORD", PASSWORD)],
    );
    script.wait_for("server-down").await;
    server.stop().await;
    script.go().await;
    script.wait_for("server-up").await;
    server.restart().await;
    script.go().await;
    script.wait_for("server-down-again").await;
    server.stop().await;
    script.go().await;
    script.finish().await;
}
