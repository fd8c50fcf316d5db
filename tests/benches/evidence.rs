//! Benchmark (not a test): a station phone attaches 50 camera-sized photos (4000×3000, 3–4 MB)
//! offline, then syncs them (`tests/e2e/evidence_bench.mjs`): time to downscale and keep each,
//! bytes kept and uploaded, time until all are on the server; and the server's CPU time over the
//! upload (this process: the server runs in it, the browser does not). Against the release PWA
//! in `web/dist` (build it first with `cargo xtask pwa`). Knob: `EVIDENCE_PHOTOS` (50).

use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, current_round, open_assessment_of, seed_units, user};
use tramyte_tests::spawn_server;

/// CPU seconds this process has used (user + system), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main]
async fn main() {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url)
        .await
        .expect("the bench server's database");
    seed_units(&store).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    open_assessment_of(&store, "16024", current_round()).await;
    drop(store);
    let photos = std::env::var("EVIDENCE_PHOTOS").unwrap_or_else(|_| "50".to_owned());
    let mut script = Script::start_with(
        "evidence_bench",
        &server.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("EVIDENCE_PHOTOS", &photos),
        ],
    );
    script.wait_for("photos-made").await;
    script.go().await;
    script.wait_for("attached").await;
    let before = cpu_seconds();
    script.go().await;
    script.finish().await;
    let spent = cpu_seconds() - before;
    println!("RESULT server process CPU during the upload and the sync: {spent:.2} s");
}
