//! Evidence files in headless Chromium: a station phone attaches a photo offline, keeps it
//! through a reload, uploads it once online, and a reviewer on another phone sees its thumbnail
//! and opens it (`tests/e2e/evidence_files.mjs`); the phone's downscaler keeps the aspect ratio,
//! applies the EXIF orientation and drops EXIF (`tests/e2e/evidence_downscale.mjs`); a training
//! certificate attached to a roster person is uploaded, a PDF over the phone's limit is refused
//! with a message, and one the server refuses is shown as refused (`roster_evidence.mjs`); the
//! offline cache deletes uploaded files least recently used first, never one not on the server
//! (`evidence_cache.mjs`).

use tramyte_server::config::DocKindArg;
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, current_round, open_assessment_of, seed_units, user};
use tramyte_tests::{Backend, backends, spawn_server_on};

#[tokio::test]
async fn a_photo_attached_offline_reaches_the_reviewer() {
    for backend in backends().await {
        a_photo_attached_offline_reaches_the_reviewer_on(backend).await;
    }
}

async fn a_photo_attached_offline_reaches_the_reviewer_on(backend: Backend) {
    let server = spawn_server_on(backend, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    user(&store, "rv1", Role::Reviewer, &["38-405-TTYT"]).await;
    open_assessment_of(&store, "16024", current_round()).await;
    drop(store);
    let script = Script::start_with(
        "evidence_files",
        &server.url(),
        &[("TRAMYTE_TEST_PASSWORD", PASSWORD)],
    );
    script.finish().await;
}

#[tokio::test]
async fn the_downscaler_keeps_proportions_and_applies_exif_orientation() {
    let server = spawn_server_on(Backend::Sqlite, |_| {}).await;
    Script::start("evidence_downscale", &server.url())
        .finish()
        .await;
}

#[tokio::test]
async fn the_offline_cache_deletes_least_recently_used_uploaded_files_only() {
    let server = spawn_server_on(Backend::Sqlite, |_| {}).await;
    Script::start("evidence_cache", &server.url())
        .finish()
        .await;
}

#[tokio::test]
async fn a_training_certificate_on_the_roster_and_refused_files_are_shown() {
    for backend in backends().await {
        a_training_certificate_on_the_roster_and_refused_files_are_shown_on(backend).await;
    }
}

async fn a_training_certificate_on_the_roster_and_refused_files_are_shown_on(backend: Backend) {
    // Under the phone's 10 MB, over this server's limit: the server refuses it.
    const SERVER_MAX: u64 = 200_000;
    let server = spawn_server_on(backend, |config| {
        config.files.max_file_bytes = SERVER_MAX;
    })
    .await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    open_assessment_of(&store, "16024", current_round()).await;
    let roster = serde_json::json!({"commune": "16024"});
    tramyte_server::cli::create_document(&store, DocKindArg::Roster, roster.as_object().unwrap())
        .await
        .unwrap();
    drop(store);
    let script = Script::start_with(
        "roster_evidence",
        &server.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("TRAMYTE_TEST_SERVER_MAX", &SERVER_MAX.to_string()),
        ],
    );
    script.finish().await;
}
