//! The review loop in headless Chromium: submit → overview → return with a comment on one
//! criterion → evidence added → resubmit → appraise → approve → approved in the overview →
//! a later change shown since the approval → recognized by the province → in the report and
//! its XLSX (read back here) → a user added by the province signs in
//! (`tests/e2e/review_loop.mjs`); and an appraisal made offline on a dossier the reviewer kept on
//! the device, which reaches the station once back online (`tests/e2e/offline_appraisal.mjs`).

use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, current_round, open_assessment_of, seed_units, user};
use tramyte_tests::{Backend, backends, spawn_server_on};

#[tokio::test]
async fn submit_return_fix_resubmit_approve() {
    for backend in backends().await {
        submit_return_fix_resubmit_approve_on(backend).await;
    }
}

async fn submit_return_fix_resubmit_approve_on(backend: Backend) {
    let server = spawn_server_on(backend, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "tt1", Role::StationHead, &["16024"]).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    user(&store, "rv1", Role::Reviewer, &["38-405-TTYT"]).await;
    user(&store, "syt1", Role::ProvincialAdmin, &["38-SYT"]).await;
    // This year's round: the report of a year counts statuses as of its end, and the browser
    // records every step today.
    let round = current_round();
    open_assessment_of(&store, "16024", round).await;
    drop(store);
    let round = round.to_string();
    let xlsx = server.data_dir().join("report.xlsx");
    let mut script = Script::start_with(
        "review_loop",
        &server.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("TRAMYTE_XLSX_OUT", xlsx.to_str().unwrap()),
            ("TRAMYTE_ROUND", &round),
        ],
    );
    script.wait_for("xlsx-written").await;
    let bytes = std::fs::read(&xlsx).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    assert!(
        strings.contains("Xã Thiệu Vận (thử)") && strings.contains("Đã công nhận"),
        "the XLSX holds the recognized commune by name and status: {strings}"
    );
    script.go().await;
    script.finish().await;
}

#[tokio::test]
async fn a_reviewer_appraises_offline_a_dossier_kept_on_the_device() {
    let server = spawn_server_on(Backend::Sqlite, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "tt1", Role::StationHead, &["16024"]).await;
    user(&store, "rv1", Role::Reviewer, &["38-405-TTYT"]).await;
    open_assessment_of(&store, "16024", current_round()).await;
    drop(store);
    let script = Script::start_with(
        "offline_appraisal",
        &server.url(),
        &[("TRAMYTE_TEST_PASSWORD", PASSWORD)],
    );
    script.finish().await;
}
