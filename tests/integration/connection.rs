//! The connection state tells the truth, in headless Chromium (`tests/e2e/connection_state.mjs`):
//! when the browser goes offline, and when the network goes silent without closing anything
//! (only the app's heartbeat can tell), the status line stops saying "connected" within 10 s;
//! a note typed meanwhile is one unsynced edit; everything syncs when the network returns.

use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, open_assessment, seed_units, user};
use tramyte_tests::silence::SilentFront;
use tramyte_tests::{TestServer, spawn_server};

async fn station_with_an_open_assessment() -> TestServer {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    user(&store, "nv2", Role::StationStaff, &["16024"]).await;
    open_assessment(&store, "16024").await;
    drop(store);
    server
}

#[tokio::test]
async fn the_browser_going_offline_shows_at_once_and_edits_sync_when_it_returns() {
    let mut server = station_with_an_open_assessment().await;
    let script = Script::start_with(
        "connection_state",
        &server.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("TRAMYTE_TEST_MODE", "offline"),
        ],
    );
    script.finish().await;
    server.stop().await;
}

#[tokio::test]
async fn a_connection_gone_silent_is_noticed_by_the_heartbeat_within_ten_seconds() {
    let mut server = station_with_an_open_assessment().await;
    let front = SilentFront::start(&server.url()).await;
    let mut script = Script::start_with(
        "connection_state",
        front.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("TRAMYTE_TEST_MODE", "silent"),
        ],
    );
    script.wait_for("silence").await;
    front.silence();
    script.go().await;
    script.wait_for("restore").await;
    front.restore();
    script.go().await;
    script.finish().await;
    server.stop().await;
}
