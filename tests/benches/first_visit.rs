//! Benchmark (not a test): a station phone's first and repeat visit on Lighthouse's "Slow 4G"
//! with a 4× CPU slowdown (`tests/e2e/first_visit_bench.mjs`): time to the sign-in form and the
//! bytes over the network, against the release PWA in `web/dist` (build it first with
//! `cargo xtask pwa`). Knob: `FIRST_VISIT_RUNS` (3).

use tramyte_tests::browser::Script;
use tramyte_tests::spawn_server;

#[tokio::main]
async fn main() {
    let server = spawn_server().await;
    let runs = std::env::var("FIRST_VISIT_RUNS").unwrap_or_else(|_| "3".to_owned());
    let script = Script::start_with(
        "first_visit_bench",
        &server.url(),
        &[("FIRST_VISIT_RUNS", &runs)],
    );
    script.finish().await;
}
