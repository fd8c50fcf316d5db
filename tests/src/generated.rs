//! Generated rounds for the reviewer's desk: many communes with a stored summary each (what
//! the overview reads), written straight into the database so a browser test can open a round
//! of 10,000 communes in seconds. Names need Vietnamese collation (An, Ân, D, Đ, Ngọc, Nguyên,
//! Tân, Thiệu, U, Ư) and the points vary, so every sort has something to prove.

use tramyte_server::domain::summary::SummaryRecord;
use tramyte_server::store::Store;
use tramyte_server::with_pool;

/// The name stems, in Vietnamese alphabetical order.
pub const STEMS: [&str; 10] = [
    "An", "Ân", "Dương", "Đông", "Ngọc", "Nguyên", "Tân", "Thiệu", "Uy", "Ưng",
];

/// The statuses the generated dossiers cycle through.
pub const STATUSES: [&str; 5] = ["draft", "submitted", "returned", "appraised", "approved"];

/// The generated province's regional health centre, which covers every fiftieth commune.
pub const REGIONAL_CENTRE: &str = "B-TTKV1";

/// Commune `i`'s code (five digits, as official codes are): fictional, from 80000.
pub fn code(i: usize) -> String {
    (80_000 + i).to_string()
}

/// Commune `i`'s name: the stems take turns, so sorting by name is not the generation order.
pub fn name(i: usize) -> String {
    format!("Xã {} {:05} (thử)", STEMS[i % STEMS.len()], i / STEMS.len())
}

/// Commune `i`'s points on criterion `c` (1–10) of 10, in halves: 0 to 10 (13 is prime to
/// 21, so every criterion takes every value across the communes).
pub fn criterion_points(i: usize, c: usize) -> f64 {
    ((i * 13 + c * 7) % 21) as f64 / 2.0
}

fn record(i: usize, round: u16) -> SummaryRecord {
    let criteria: Vec<String> = (1..=10)
        .map(|c| {
            let points = criterion_points(i, c);
            format!(r#"{{"id":"TC{c}","max":10,"required":5,"self":{points}}}"#)
        })
        .collect();
    let total: f64 = (1..=10).map(|c| criterion_points(i, c)).sum();
    let verdict = if (1..=10).all(|c| criterion_points(i, c) >= 5.0) && total >= 80.0 {
        "pass"
    } else {
        "fail"
    };
    SummaryRecord {
        kind: "assessment",
        commune: Some(code(i)),
        round: Some(i32::from(round)),
        catalog: Some("QD1300-2023".to_owned()),
        catalog_revision: Some(1),
        status: Some(STATUSES[i % STATUSES.len()].to_owned()),
        status_history: "[]".to_owned(),
        self_total: Some(total),
        review_total: None,
        verdict: Some(verdict.to_owned()),
        verdict_side: Some("self".to_owned()),
        reasons: "[]".to_owned(),
        criteria: format!("[{}]", criteria.join(",")),
        open_conflicts: i32::from(i.is_multiple_of(97)),
        problem: None,
        changes: 1,
        changed_after_submission: None,
    }
}

/// Communes `0..n` of province `B` with one assessment summary each in `round`, the
/// province's health department `department` (whose reviewers cover them all) and a regional
/// health centre covering every fiftieth ([`REGIONAL_CENTRE`]); imported here.
pub async fn fill_round(store: &Store, department: &str, n: usize, round: u16) {
    let mut csv = format!(
        "code,kind,name,parent,unit_type,covers\nB,province,Tỉnh Thử,,,\n{department},health_department,Sở Y tế Thử,B,,\n"
    );
    for i in 0..n {
        csv.push_str(&format!("{},commune,{},B,xa,\n", code(i), name(i)));
    }
    // A regional health centre (Trung tâm Y tế khu vực) under the province, covering every
    // fiftieth commune: the desk's filter by unit.
    let covered: Vec<String> = (0..n).filter(|i| i % 50 == 0).map(code).collect();
    csv.push_str(&format!(
        "{REGIONAL_CENTRE},health_centre,Trung tâm Y tế khu vực Thử,B,,{}\n",
        covered.join(";")
    ));
    tramyte_server::domain::unit::import(store, &csv)
        .await
        .expect("generated units");
    let now = tramyte_server::store::now_millis();
    with_pool!(store, pool => {
        let mut tx = pool.begin().await.expect("begin");
        for i in 0..n {
            let id = format!("generated-{i}");
            tramyte_server::sqlx::query(
                "INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, 'assessment', $2, 'generator')",
            )
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .expect("document");
            let record = record(i, round);
            tramyte_server::store::summary::upsert_summary(
                &mut tx,
                &id,
                &record,
                now,
                Some((now - i as i64 * 60_000, None)),
            )
            .await
            .expect("summary");
        }
        tx.commit().await.expect("commit");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cycle_through_the_stems_and_points_stay_on_the_scale() {
        assert_eq!(name(0), "Xã An 00000 (thử)");
        assert_eq!(name(11), "Xã Ân 00001 (thử)");
        assert_eq!(name(9_999), "Xã Ưng 00999 (thử)");
        for c in 1..=10 {
            let mut seen: Vec<f64> = (0..21).map(|i| criterion_points(i, c)).collect();
            seen.sort_by(f64::total_cmp);
            seen.dedup();
            assert_eq!(
                seen.len(),
                21,
                "criterion {c} takes every half point from 0 to 10"
            );
            assert_eq!((seen[0], seen[20]), (0.0, 10.0));
        }
    }
}
