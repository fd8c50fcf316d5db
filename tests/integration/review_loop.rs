//! The review loop in headless Chromium: submit → overview → return with a comment on one
//! criterion → evidence added → resubmit → appraise → approve → approved in the overview →
//! a later change shown since the approval → recognized by the province
//! (`tests/e2e/review_loop.mjs`).

use serde_json::json;
use tramyte_server::config::DocKindArg;
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, seed_units, user};
use tramyte_tests::spawn_server;

#[tokio::test]
async fn submit_return_fix_resubmit_approve() {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "tt1", Role::StationHead, &["16024"]).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    user(&store, "rv1", Role::Reviewer, &["38-405-TTYT"]).await;
    user(&store, "syt1", Role::ProvincialAdmin, &["38-SYT"]).await;
    let assessment = json!({"commune": "16024", "catalog": "QD1300-2023", "round": 2024, "zone": 1, "unit_type": "xa"});
    tramyte_server::cli::create_document(
        &store,
        DocKindArg::Assessment,
        assessment.as_object().unwrap(),
    )
    .await
    .unwrap();
    drop(store);
    let script = Script::start_with(
        "review_loop",
        &server.url(),
        &[("TRAMYTE_TEST_PASSWORD", PASSWORD)],
    );
    script.finish().await;
}
