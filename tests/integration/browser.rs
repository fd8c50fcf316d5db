//! In headless Chromium: the app loads, the service worker controls the page, the server goes
//! away, and a reload still renders the app; a new version deployed while the app is open is
//! offered, and taken when the person reloads, without downloading the wasm again; a reviewer's
//! page whose wasm cannot be fetched says so, and opens once it can.

use tramyte_tests::browser::Script;
use tramyte_tests::deploy::NextVersionFront;
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

#[tokio::test]
async fn a_new_version_is_offered_and_taken_when_the_person_reloads_without_the_unchanged_wasm() {
    let server = spawn_server().await;
    let front = NextVersionFront::start(&server.url()).await;
    let mut script = Script::start("update_banner", front.url());
    script.wait_for("deploy").await;
    let wasm_before = front.fetched(".wasm");
    assert!(wasm_before > 0, "the first visit downloaded the wasm");
    front.deploy_next_version();
    script.go().await;
    script.finish().await;
    assert_eq!(
        front.fetched(".wasm"),
        wasm_before,
        "the new version took the unchanged wasm (named by its content) from the old cache"
    );
}

#[tokio::test]
async fn a_lazy_page_that_cannot_load_says_so_and_opens_once_it_can() {
    let server = spawn_server().await;
    let script = Script::start("lazy_page", &server.url());
    script.finish().await;
}
