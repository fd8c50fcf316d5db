//! In headless Chromium: the app loads, the service worker controls the page, the server goes
//! away, and a reload still renders the app.

use tramyte_tests::browser::Script;
use tramyte_tests::spawn_server;

#[tokio::test]
async fn the_app_reloads_and_renders_with_the_server_gone() {
    let mut server = spawn_server().await;
    let mut script = Script::start("offline_reload", &server.url());
    script.wait_for("server-down").await;
    server.stop().await;
    script.go().await;
    script.finish().await;
}
