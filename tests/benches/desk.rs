//! Benchmark (not a test): the reviewer's desk in headless Chromium over a round of generated
//! communes (`tests/e2e/desk_bench.mjs`): data → first rows, a sort by a criterion column, a
//! scroll to the end (frames over 20 ms), on a desktop profile and with a 4× CPU slowdown.
//! The goal: each under 200 ms after the data has arrived, with 10,000 communes.
//!
//! Run with `cargo bench -p tramyte-tests --bench desk` after `cargo xtask pwa` (the server
//! serves `web/dist`). Knobs: `DESK_BENCH_COMMUNES` (10000), `DESK_BENCH_RUNS` (5),
//! `DESK_BENCH_MARKS` (set: also print the page's own marks after the data arrived — bytes
//! read, decoded, names ranked, charts drawn — to tell where the time goes), `DESK_BENCH_TRACE`
//! (a file: a Chromium performance trace of the last desktop run, from opening the page to the
//! end of the scroll, for the browser's performance panel).

use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, current_round, user};
use tramyte_tests::spawn_server;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let communes = knob("DESK_BENCH_COMMUNES", 10_000);
    let runs = knob("DESK_BENCH_RUNS", 5);
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url)
        .await
        .expect("connect");
    tramyte_tests::generated::fill_round(&store, "B-SYT", communes, current_round()).await;
    user(&store, "rvdesk", Role::Reviewer, &["B-SYT"]).await;
    drop(store);
    let (communes, runs) = (communes.to_string(), runs.to_string());
    let script = Script::start_with(
        "desk_bench",
        &server.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("TRAMYTE_TEST_COMMUNES", &communes),
            ("DESK_BENCH_RUNS", &runs),
        ],
    );
    script.finish().await;
}
