//! Benchmark (not a test): scoring a full assessment of 10 criteria × 5 indicators, and merging
//! 10 replicas × 100 edits. Prints median and p95. Run with `cargo bench -p tramyte-shared`.
//! Targets: scoring ≤ 100 µs, the merge ≤ 50 ms.

// Test and bench code: a panic on bad fixture data is the wanted failure.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use automerge::{ActorId, AutoCommit};
use tramyte_shared::assessment::{
    self, Answer, NewAssessment, Side, read_assessment, set_note, set_score,
};
use tramyte_shared::catalog::{Catalog, parse_catalog};
use tramyte_shared::commune::{UnitType, Zone};
use tramyte_shared::document::merge_all;
use tramyte_shared::id::{CommuneCode, ItemId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::scoring::score;

/// A made-up TEST catalog of 10 criteria × 5 indicators (2 points each) with every rule kind.
fn test_catalog() -> Catalog {
    let mut criteria = Vec::new();
    for c in 1..=10 {
        let mut indicators = Vec::new();
        for i in 1..=5 {
            let scoring = match i % 3 {
                0 => r#"{"kind": "yes_no"}"#.to_string(),
                1 => r#"{"kind": "points"}"#.to_string(),
                _ => r#"{"kind": "bands", "measure": "percent", "bands": [{"min": 90, "points": 2}, {"min": 50, "points": 1}]}"#.to_string(),
            };
            let knockout = i == 3;
            indicators.push(format!(
                r#"{{"id": "{c}.{i}", "name_vi": "TEST {c}.{i}", "max_points": 2, "scoring": {scoring}, "knockout": {knockout}}}"#
            ));
        }
        criteria.push(format!(
            r#"{{"id": "C{c}", "name_vi": "TEST {c}", "max_points": 10, "indicators": [{}]}}"#,
            indicators.join(",")
        ));
    }
    let source = format!(
        r#"{{"format": 1, "code": "TEST-BENCH", "title_vi": "TEST bench", "decisions": [],
            "pass_rule": {{"total_min_percent": 80, "criterion_min_percent": 50}},
            "criteria": [{}]}}"#,
        criteria.join(",")
    );
    match parse_catalog(&source) {
        Ok(catalog) => catalog,
        Err(errors) => panic!("{errors}"),
    }
}

fn answer_for(catalog: &Catalog, id: &ItemId, n: u32) -> Answer {
    match catalog.item(id.as_str()).map(|i| i.rule().clone()) {
        Some(tramyte_shared::catalog::ScoringRule::YesNo) => Answer::Met(!n.is_multiple_of(5)),
        Some(tramyte_shared::catalog::ScoringRule::Bands { .. }) => {
            Answer::Measured(f64::from(40 + n % 60))
        }
        _ => Answer::Points(Points::from_halves(n % 5)),
    }
}

fn open(catalog: &Catalog) -> AutoCommit {
    let new = NewAssessment {
        commune: CommuneCode::parse("16279").unwrap(),
        round: 2025,
        zone: Zone::new(2).unwrap(),
        unit_type: UnitType::Xa,
    };
    assessment::new_assessment(catalog, &new, 0).unwrap()
}

fn figures(name: &str, mut samples: Vec<Duration>, target: Duration) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p95 = samples[(samples.len() * 95 / 100).min(samples.len() - 1)];
    let verdict = if p95 <= target { "ok" } else { "OVER TARGET" };
    println!(
        "{name:<44} median {median:>10.1?}  p95 {p95:>10.1?}  (target {target:?}, {} runs) {verdict}",
        samples.len()
    );
}

fn bench_scoring(catalog: &Catalog) {
    let mut doc = open(catalog);
    let user = UserId::parse("tram").unwrap();
    let ids: Vec<ItemId> = catalog.items().map(|i| i.id().clone()).collect();
    for (n, id) in ids.iter().enumerate() {
        let answer = answer_for(catalog, id, n as u32 * 7);
        set_score(&mut doc, Side::SelfAssessment, id, answer, &user, 1).unwrap();
        set_note(&mut doc, id, "Có minh chứng kèm theo.", 2).unwrap();
    }
    let view = read_assessment(&doc).unwrap();
    let report = score(catalog, &view, Side::SelfAssessment).unwrap();
    println!(
        "scored {} items: {} {}/{}",
        ids.len(),
        report.verdict,
        report.total,
        report.max
    );

    let mut samples = Vec::new();
    for _ in 0..2_000 {
        let start = Instant::now();
        black_box(score(black_box(catalog), black_box(&view), Side::SelfAssessment).unwrap());
        samples.push(start.elapsed());
    }
    figures(
        "score (10 criteria x 5 indicators)",
        samples,
        Duration::from_micros(100),
    );

    let mut samples = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        let view = read_assessment(black_box(&doc)).unwrap();
        black_box(score(catalog, &view, Side::SelfAssessment).unwrap());
        samples.push(start.elapsed());
    }
    figures(
        "read document + score (for reference)",
        samples,
        Duration::from_millis(5),
    );
}

/// 10 replicas forked from one assessment, each with 100 edits (scores on both sides, notes).
fn replicas(catalog: &Catalog, run: u32) -> (AutoCommit, Vec<AutoCommit>) {
    let ids: Vec<ItemId> = catalog.items().map(|i| i.id().clone()).collect();
    let mut origin = open(catalog);
    let replicas = (0..10u8)
        .map(|r| {
            let mut doc = origin.fork().with_actor(ActorId::from(&[r + 1; 16][..]));
            let user = UserId::parse(&format!("user{r}")).unwrap();
            for e in 0..100u32 {
                let n = e * 31 + u32::from(r) * 17 + run;
                let id = &ids[(n as usize) % ids.len()];
                let at = i64::from(e);
                if e % 4 == 3 {
                    set_note(&mut doc, id, &format!("ghi chú {r} {e}"), at).unwrap();
                } else {
                    let side = if e % 2 == 0 {
                        Side::SelfAssessment
                    } else {
                        Side::Review
                    };
                    set_score(&mut doc, side, id, answer_for(catalog, id, n), &user, at).unwrap();
                }
            }
            doc
        })
        .collect();
    (origin, replicas)
}

fn bench_merge(catalog: &Catalog) {
    let mut batched = Vec::new();
    let mut pairwise = Vec::new();
    for run in 0..15u32 {
        let (mut origin, mut others) = replicas(catalog, run);
        let start = Instant::now();
        merge_all(&mut origin, &mut others).unwrap();
        batched.push(start.elapsed());
        black_box(read_assessment(&origin).unwrap());

        let (mut origin, mut others) = replicas(catalog, run);
        let start = Instant::now();
        for other in &mut others {
            origin.merge(other).unwrap();
        }
        pairwise.push(start.elapsed());
    }
    figures(
        "merge 10 replicas x 100 edits (merge_all)",
        batched,
        Duration::from_millis(50),
    );
    figures(
        "  same, one merge() per replica",
        pairwise,
        Duration::from_millis(50),
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let catalog = test_catalog();
    bench_scoring(&catalog);
    bench_merge(&catalog);
}
