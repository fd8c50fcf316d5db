//! Benchmark (not a test): the reviewer's overview of a round over many communes, on SQLite and
//! on PostgreSQL. Fills a fresh database with generated communes (units), one assessment summary
//! each and a target each, then times `overview::overview` — the query behind
//! `GET /api/overview?round=` — for a system administrator (no scope), a reviewer of the
//! province's health department, whose scope is every commune, and a reviewer of a health centre
//! covering 30 communes (scopes joined from `unit_communes`); then the overview's parts for the
//! department's reviewer one by one (rows in Vietnamese order with their counts and states,
//! the places of the targets' assessments, units) and the ordered listing of
//! `GET /api/documents`, to show where the time goes.
//! Prints p50/p95/max per case; the issue's target is p95 ≤ 50 ms for 10,000 communes.
//!
//! Run with `cargo bench -p tramyte-tests --bench overview`. Knobs (environment):
//! `OVERVIEW_BENCH_COMMUNES` (10000), `OVERVIEW_BENCH_RUNS` (100),
//! `OVERVIEW_BENCH_BACKENDS` (`sqlite,postgres`; PostgreSQL is skipped when it does not answer).

use std::time::{Duration, Instant};

use tramyte_server::domain::summary::{self, Filter, SummaryRecord};
use tramyte_server::domain::target::{Target, TargetKind};
use tramyte_server::domain::{collation, overview};
use tramyte_server::store::Store;
use tramyte_server::store::round_view;
use tramyte_server::with_pool;
use tramyte_shared::workflow::Status;
use tramyte_tests::Backend;
use tramyte_tests::server::{TestDatabase, postgres_admin_url};

const ROUND: u16 = 2024;
const UNIT: &str = "BENCH-TTYT";
/// Runs not timed first: every pooled connection prepares its statements once.
const WARMUP: usize = 20;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn code(i: usize) -> String {
    format!("{:05}", 10_000 + i)
}

/// The 30 communes (of `n`) the health centre `B-KV` covers.
fn district(n: usize) -> Vec<String> {
    (0..n.min(30))
        .map(|i| code(i * (n / 30).max(1) % n))
        .collect()
}

/// The reviewer of the province's health department (every commune) and of `B-KV` (30).
const PROVINCE_REVIEWER: &str = "bench.syt";
const DISTRICT_REVIEWER: &str = "bench.kv";

/// A plausible summary row for commune `i`.
fn record(i: usize) -> SummaryRecord {
    const STATUSES: [&str; 5] = ["draft", "submitted", "returned", "appraised", "approved"];
    const VERDICTS: [&str; 3] = ["pass", "fail", "incomplete"];
    let self_total = 60.0 + (i % 80) as f64 / 2.0;
    let criteria: Vec<String> = (1..=10)
        .map(|c| format!(r#"{{"id":"TC{c}","max":10,"required":5,"self":8,"review":null}}"#))
        .collect();
    SummaryRecord {
        kind: "assessment",
        commune: Some(code(i)),
        round: Some(i32::from(ROUND)),
        catalog: Some("QD1300-2023".to_owned()),
        catalog_revision: Some(1),
        status: Some(STATUSES[i % STATUSES.len()].to_owned()),
        status_history: {
            // Submitted in March, returned or further along a month later.
            let step = |k: usize, status: &str| {
                format!(
                    r#"{{"at":{},"status":"{status}"}}"#,
                    1_709_251_200_000 + k as i64 * 2_592_000_000
                )
            };
            let mut history = Vec::new();
            match STATUSES[i % STATUSES.len()] {
                "draft" => {}
                "submitted" => history.push(step(0, "submitted")),
                other => {
                    history.push(step(0, "submitted"));
                    if other == "approved" {
                        history.push(step(1, "appraised"));
                    }
                    history.push(step(2, other));
                }
            }
            format!("[{}]", history.join(","))
        },
        self_total: Some(self_total),
        review_total: i.is_multiple_of(3).then_some(self_total - 2.0),
        verdict: Some(VERDICTS[i % VERDICTS.len()].to_owned()),
        verdict_side: Some("self".to_owned()),
        reasons: r#"[{"reason":"incomplete","missing":["TC9"]}]"#.to_owned(),
        criteria: format!("[{}]", criteria.join(",")),
        open_conflicts: i32::from(i.is_multiple_of(50)),
        problem: None,
        changes: 40,
        changed_after_submission: None,
    }
}

/// Units, documents, summaries (and a roster summary per commune, which the overview skips) and
/// targets for `n` communes.
async fn fill(store: &Store, n: usize) {
    let mut csv = String::from(
        "code,kind,name,parent,unit_type,covers\nB,province,Tỉnh Thử,,,\nBENCH-TTYT,health_centre,TTYT Thử,B,,\nB-SYT,health_department,Sở Y tế Thử,B,,\n",
    );
    csv.push_str(&format!(
        "B-KV,health_centre,TTYT khu vực Thử,B,,{}\n",
        district(n).join(";")
    ));
    for i in 0..n {
        csv.push_str(&format!("{},commune,Xã Thử {i},B,xa,\n", code(i)));
    }
    tramyte_server::domain::unit::import(store, &csv)
        .await
        .expect("bench units");
    for (id, unit) in [(PROVINCE_REVIEWER, "B-SYT"), (DISTRICT_REVIEWER, "B-KV")] {
        let reviewer = tramyte_server::domain::account::NewUser {
            id: id.to_owned(),
            display_name: id.to_owned(),
            role: tramyte_shared::policy::Role::Reviewer,
            person: None,
            units: vec![unit.to_owned()],
            password: "bench-password".to_owned(),
        };
        tramyte_server::domain::account::add_user(store, &reviewer)
            .await
            .expect("bench reviewer");
    }
    let now = 1_704_067_200_000_i64;
    with_pool!(store, pool => {
        let mut tx = pool.begin().await.expect("begin");
        for i in 0..n {
            for (kind, record) in [("assessment", record(i)), ("roster", roster(i))] {
                let id = format!("bench-{kind}-{i}");
                tramyte_server::sqlx::query("INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, $2, $3, 'bench')")
                    .bind(&id)
                    .bind(kind)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .expect("document");
                // Each document holds its commune's place, as opening a round makes it: the
                // targets' progress joins its assessment through it.
                tramyte_server::sqlx::query("INSERT INTO commune_documents (commune, kind, round, document_id) VALUES ($1, $2, $3, $4)")
                    .bind(code(i))
                    .bind(kind)
                    .bind(if kind == "assessment" { i32::from(ROUND) } else { 0 })
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .expect("commune's document");
                let by = format!("user{}", i % 97);
                tramyte_server::store::summary::upsert_summary(
                    &mut tx,
                    &id,
                    &record,
                    now,
                    Some((now + i as i64, Some(by.as_str()))),
                )
                .await
                .expect("summary");
            }
        }
        tx.commit().await.expect("commit");
    });
    let targets: Vec<Target> = (0..n)
        .map(|i| Target {
            commune: code(i),
            kind: if i.is_multiple_of(4) {
                TargetKind::Maintain
            } else {
                TargetKind::Reach
            },
            local_min_score: None,
        })
        .collect();
    tramyte_server::domain::target::replace(store, UNIT, i64::from(ROUND), &targets)
        .await
        .expect("targets");
    match store {
        Store::Sqlite(pool, _) => {
            tramyte_server::sqlx::query("ANALYZE")
                .execute(pool)
                .await
                .expect("analyze");
        }
        Store::Postgres(pool) => {
            tramyte_server::sqlx::query("ANALYZE")
                .execute(pool)
                .await
                .expect("analyze");
        }
    }
}

fn roster(i: usize) -> SummaryRecord {
    let mut record = record(i);
    record.kind = "roster";
    record.round = None;
    record.catalog = None;
    record.status = None;
    record.self_total = None;
    record.review_total = None;
    record.verdict = None;
    record.reasons = "[]".to_owned();
    record.criteria = "[]".to_owned();
    record
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let n = knob("OVERVIEW_BENCH_COMMUNES", 10_000);
    let runs = knob("OVERVIEW_BENCH_RUNS", 100).max(1);
    let wanted =
        std::env::var("OVERVIEW_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    let mut backends = Vec::new();
    if wanted.contains("sqlite") {
        backends.push(Backend::Sqlite);
    }
    if wanted.contains("postgres") {
        match Store::connect(&postgres_admin_url()).await {
            Ok(store) => {
                store.close().await;
                backends.push(Backend::Postgres);
            }
            Err(err) => eprintln!("PostgreSQL skipped: {err}"),
        }
    }
    let mut table = Vec::new();
    for backend in backends {
        let database = TestDatabase::new(backend).await;
        let store = Store::connect(&database.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let started = Instant::now();
        fill(&store, n).await;
        eprintln!(
            "{backend:?}: filled {n} communes in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let cases: [(&str, Option<String>, usize); 3] = [
            ("system admin (all)", None, n),
            (
                "reviewer, scope = all",
                Some(PROVINCE_REVIEWER.to_owned()),
                n,
            ),
            (
                "district reviewer (30)",
                Some(DISTRICT_REVIEWER.to_owned()),
                district(n).len(),
            ),
        ];
        for (name, scope, expected) in cases {
            let mut times = Vec::with_capacity(runs);
            let mut rows = 0;
            for run in 0..runs + WARMUP {
                let start = Instant::now();
                let result = overview::overview(&store, ROUND, scope.clone())
                    .await
                    .expect("overview");
                if run >= WARMUP {
                    times.push(start.elapsed());
                }
                rows = result.by_status.values().sum::<usize>();
                // Every commune has a target and its assessment: each target is counted, and
                // found opened.
                let targets = &result.targets;
                assert_eq!(targets.iter().map(|t| t.communes).sum::<usize>(), expected);
                assert_eq!(targets.iter().map(|t| t.not_opened).sum::<usize>(), 0);
                let approved = result
                    .by_status
                    .iter()
                    .filter(|(status, _)| Status::name_counts_as_approved(status))
                    .map(|(_, n)| n)
                    .sum::<usize>();
                assert_eq!(targets.iter().map(|t| t.approved).sum::<usize>(), approved);
            }
            assert_eq!(rows, expected, "{name}: assessments in its overview");
            times.sort();
            table.push(format!(
                "{:<10} {:<24} {:>6} {:>8} {:>8} {:>8}",
                format!("{backend:?}"),
                name,
                rows,
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(*times.last().unwrap_or(&Duration::ZERO)),
            ));
        }
        // Where the time of the department reviewer's case goes: its parts alone, one after
        // another (the overview runs them at once, on separate connections), and the ordered
        // listing `GET /api/documents` answers, for comparison.
        let filter = Filter {
            scope_of: Some(PROVINCE_REVIEWER.to_owned()),
            kind: Some("assessment".to_owned()),
            round: Some(i32::from(ROUND)),
            ..Filter::default()
        };
        let mut parts: Vec<(&str, Vec<Duration>)> = vec![
            ("  part: rows and counts", Vec::new()),
            ("  part: targets' places", Vec::new()),
            ("  part: units", Vec::new()),
            ("  /api/documents rows", Vec::new()),
        ];
        let scope = Some(PROVINCE_REVIEWER);
        for run in 0..runs + WARMUP {
            let mut times = [Duration::ZERO; 4];
            let start = Instant::now();
            summary::list_json_by(&store, i32::from(ROUND), scope, collation::cached_sort_key)
                .await
                .expect("rows");
            times[0] = start.elapsed();
            let start = Instant::now();
            round_view::target_slots(&store, i32::from(ROUND), scope)
                .await
                .expect("targets");
            times[1] = start.elapsed();
            let start = Instant::now();
            overview::covering_units(&store, scope)
                .await
                .expect("units");
            times[2] = start.elapsed();
            let start = Instant::now();
            summary::list_json(&store, &filter).await.expect("listing");
            times[3] = start.elapsed();
            if run >= WARMUP {
                for (part, time) in parts.iter_mut().zip(times) {
                    part.1.push(time);
                }
            }
        }
        for (name, mut times) in parts {
            times.sort();
            table.push(format!(
                "{:<10} {:<24} {:>6} {:>8} {:>8} {:>8}",
                format!("{backend:?}"),
                name,
                n,
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(*times.last().unwrap_or(&Duration::ZERO)),
            ));
        }
        store.close().await;
    }
    println!("overview of round {ROUND}, {n} communes, {runs} runs each (ms):");
    println!(
        "{:<10} {:<24} {:>6} {:>8} {:>8} {:>8}",
        "database", "caller", "rows", "p50", "p95", "max"
    );
    for line in table {
        println!("{line}");
    }
}
