//! Reports (báo cáo) of a round for reviewers — 6-monthly (1/1–30/6) and yearly: how many
//! assessments were submitted, approved and pass, points per criterion across communes, the
//! communes below each criterion's minimum, progress against targets — as JSON
//! (`GET /api/reports?year=&period=h1|year`) and as CSV and XLSX downloads
//! (`/api/reports.csv`, `/api/reports.xlsx`). Computed from the summary rows, never documents.
//!
//! Period: a round is a year; `h1` is 1 January to 30 June, `year` the whole year, each ending at
//! midnight in Vietnam (UTC+7). A summary keeps every workflow status change with the date its
//! author's device gave it, so once a period has ended its report counts each assessment in the
//! status it had at the end (submitted, approved, targets' approvals): the 6-monthly report of
//! 2024 made in 2026 still says what stood on 30 June 2024. Points, verdicts and conflicts are the
//! assessment's current ones (a summary does not keep old scores); the report says so. Before the
//! period ends, the report is of the statuses so far.

pub mod files;

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use tramyte_shared::catalog::Catalog;
use tramyte_shared::points::Points;
use tramyte_shared::workflow::Status;

use crate::domain::catalog::{self, CatalogStoreError};
use crate::domain::date::{vietnam_date, vietnam_midnight};
use crate::domain::overview::{TargetProgress, status_at_cutoff, target_progress_at};
use crate::domain::summary::{self, DocumentRow, ListError};
use crate::store::Store;
use crate::store::round_view::{self, DetailRow};

/// Which part of the year a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The first half: 1 January to 30 June (báo cáo 6 tháng).
    H1,
    /// The whole year (báo cáo năm).
    Year,
}

impl Period {
    /// Reads `h1` or `year`; nothing (or blank) is `year`.
    pub fn parse(text: Option<&str>) -> Result<Period, ReportError> {
        match text.map(str::trim) {
            None | Some("") | Some("year") => Ok(Period::Year),
            Some("h1") => Ok(Period::H1),
            Some(_) => Err(ReportError::BadPeriod),
        }
    }

    /// The name in URLs and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::H1 => "h1",
            Period::Year => "year",
        }
    }

    /// First and last day of the period in `year`, `YYYY-MM-DD`.
    pub fn dates(self, year: u16) -> (String, String) {
        let last = match self {
            Period::H1 => "06-30",
            Period::Year => "12-31",
        };
        (format!("{year:04}-01-01"), format!("{year:04}-{last}"))
    }

    /// The last millisecond of the period in `year`, Vietnam time (UTC+7), as unix milliseconds.
    pub fn end_millis(self, year: u16) -> i64 {
        let (next_year, next_month) = match self {
            Period::H1 => (i64::from(year), 7),
            Period::Year => (i64::from(year) + 1, 1),
        };
        vietnam_midnight(next_year, next_month, 1) - 1
    }

    /// How the CSV and XLSX name the period.
    fn label_vi(self) -> &'static str {
        match self {
            Period::H1 => "6 tháng đầu năm",
            Period::Year => "Cả năm",
        }
    }
}

/// Reads the year of a report: a round between 2000 and 2100, as rounds and targets allow.
pub fn parse_year(text: Option<&str>) -> Result<u16, ReportError> {
    text.and_then(|t| t.trim().parse::<u16>().ok())
        .filter(|year| (2000..=2100).contains(year))
        .ok_or(ReportError::BadYear)
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("year must be given as a year between 2000 and 2100")]
    BadYear,
    #[error("period must be `h1` (1 January to 30 June) or `year`")]
    BadPeriod,
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    Catalog(#[from] CatalogStoreError),
}

impl From<sqlx::Error> for ReportError {
    fn from(err: sqlx::Error) -> Self {
        ReportError::List(ListError::from(err))
    }
}

/// A commune whose points on a criterion are below its minimum (a REST type).
pub use tramyte_shared::rest::BelowMinimum;

/// One criterion across the communes of a report, and the report itself (REST types).
pub use tramyte_shared::rest::{CriterionReport, Report};

/// A report as computed: what `GET /api/reports` answers, and the columns only the downloads
/// show.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundReport {
    pub report: Report,
    /// How many assessments scored each criterion (in the order of `report.criteria`).
    pub scored: Vec<usize>,
    /// Points per criterion of each row (in the order of `report.rows` and `report.criteria`).
    pub points: Vec<Vec<Option<Points>>>,
}

/// A criterion as stored in a summary's `criteria` JSON.
#[derive(Debug, Deserialize)]
struct StoredCriterion {
    id: String,
    max: Points,
    #[serde(default)]
    required: Option<Points>,
    #[serde(rename = "self", default)]
    self_points: Option<Points>,
    #[serde(rename = "review", default)]
    review_points: Option<Points>,
}

/// The report of round `year` in the scope of user `scope_of` (`None`: every commune).
///
/// Points per criterion are the side the summary's verdict is of: the review once the reviewer
/// scored anything in the assessment, the station's self score before that — the same side as
/// the verdict counted in `passing`. A commune is below a criterion's minimum once that side
/// has points for the criterion and they are less than the minimum.
pub async fn report(
    store: &Store,
    year: u16,
    period: Period,
    scope_of: Option<String>,
) -> Result<RoundReport, ReportError> {
    let filter = summary::round_assessments(year, scope_of);
    let scope = filter.scope_of.as_deref();
    let rows = summary::list(store, &filter).await?;
    let details = round_view::report_details(store, i32::from(year), scope).await?;
    let now = crate::store::now_millis();
    let end = period.end_millis(year);
    let cutoff = end.min(now);
    let targets = target_progress_at(store, year, scope, cutoff).await?;
    let catalogs = catalog::all(store).await?;
    let when = When {
        cutoff,
        ended: now > end,
    };
    Ok(compute(
        year, period, when, rows, details, targets, &catalogs,
    ))
}

/// The moment a report's statuses are taken at.
#[derive(Debug, Clone, Copy)]
struct When {
    /// Unix milliseconds: the period's end, or now if it has not ended.
    cutoff: i64,
    /// Whether the period has ended.
    ended: bool,
}

/// The report from the rows read: pure, so it is tested without a database.
fn compute(
    year: u16,
    period: Period,
    when: When,
    mut rows: Vec<DocumentRow>,
    details: Vec<DetailRow>,
    targets: Vec<TargetProgress>,
    catalogs: &[catalog::StoredCatalog],
) -> RoundReport {
    struct Detail {
        catalog: Option<(String, u32)>,
        review: bool,
        criteria: Vec<StoredCriterion>,
        history: Option<String>,
    }
    let details: HashMap<String, Detail> = details
        .into_iter()
        .map(|(id, code, revision, side, criteria, history)| {
            let criteria = serde_json::from_str(&criteria).unwrap_or_else(|err| {
                tracing::warn!(%id, error = %err, "a summary's criteria do not read");
                Vec::new()
            });
            let catalog = code.zip(revision.and_then(|r| u32::try_from(r).ok()));
            let review = side.as_deref() == Some("review");
            (
                id,
                Detail {
                    catalog,
                    review,
                    criteria,
                    history,
                },
            )
        })
        .collect();
    // Each assessment in the status it had at the cutoff.
    for row in &mut rows {
        let history = details.get(&row.id).and_then(|d| d.history.as_deref());
        row.status = status_at_cutoff(row.status.as_deref(), history, when.cutoff);
    }
    // The catalogs of the listed assessments, the most used first: their criteria, in order.
    let mut used: BTreeMap<(String, u32), usize> = BTreeMap::new();
    for row in &rows {
        if let Some(key) = details.get(&row.id).and_then(|d| d.catalog.clone()) {
            *used.entry(key).or_insert(0) += 1;
        }
    }
    let mut used: Vec<((String, u32), usize)> = used.into_iter().collect();
    used.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let find = |(code, revision): &(String, u32)| -> Option<&Catalog> {
        catalogs
            .iter()
            .map(|stored| &stored.catalog)
            .find(|c| c.code.as_str() == code && c.revision == *revision)
    };
    let mut criteria: Vec<CriterionReport> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for (key, _) in &used {
        for criterion in find(key).iter().flat_map(|c| &c.criteria) {
            let id = criterion.id.as_str().to_owned();
            if position.contains_key(&id) {
                continue;
            }
            position.insert(id.clone(), criteria.len());
            criteria.push(CriterionReport {
                id,
                name_vi: criterion.name_vi.clone(),
                name_en: criterion.name_en.clone(),
                max: criterion.max_points.to_f64(),
                average: None,
                below_minimum: Vec::new(),
            });
        }
    }
    let mut sums = vec![0_u64; criteria.len()];
    let mut scored_by = vec![0_usize; criteria.len()];
    let mut points = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut line = vec![None; criteria.len()];
        if let Some(detail) = details.get(&row.id) {
            let percent = detail
                .catalog
                .as_ref()
                .and_then(find)
                .map(|c| c.pass_rule.criterion_min_percent);
            for stored in &detail.criteria {
                let Some(&at) = position.get(&stored.id) else {
                    continue;
                };
                let scored = if detail.review {
                    stored.review_points
                } else {
                    stored.self_points
                };
                let Some(scored) = scored else { continue };
                line[at] = Some(scored);
                sums[at] += u64::from(scored.halves());
                scored_by[at] += 1;
                let required = percent
                    .map(|p| stored.max.share_ceil(p))
                    .or(stored.required);
                if let Some(required) = required
                    && scored < required
                {
                    criteria[at].below_minimum.push(BelowMinimum {
                        commune: row.commune.clone().unwrap_or_default(),
                        commune_name: row.commune_name.clone(),
                        points: scored.to_f64(),
                        required: required.to_f64(),
                    });
                }
            }
        }
        points.push(line);
    }
    for ((criterion, sum), &scored) in criteria.iter_mut().zip(sums).zip(&scored_by) {
        if scored > 0 {
            let mean = sum as f64 / 2.0 / scored as f64;
            criterion.average = Some((mean * 100.0).round() / 100.0);
        }
    }
    let status_is =
        |row: &DocumentRow, counts: fn(&str) -> bool| row.status.as_deref().is_some_and(counts);
    let (from, to) = period.dates(year);
    let report = Report {
        year,
        period: period.as_str().to_owned(),
        from,
        to,
        as_of: vietnam_date(when.cutoff),
        period_ended: when.ended,
        communes: rows.len(),
        submitted: rows
            .iter()
            .filter(|r| status_is(r, Status::name_counts_as_submitted))
            .count(),
        approved: rows
            .iter()
            .filter(|r| status_is(r, Status::name_counts_as_approved))
            .count(),
        passing: rows
            .iter()
            .filter(|r| r.verdict.as_deref() == Some("pass"))
            .count(),
        criteria,
        targets,
        rows,
    };
    RoundReport {
        report,
        scored: scored_by,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tramyte_shared::catalog::shipped_catalogs;

    fn row(id: &str, commune: &str, status: &str, verdict: &str) -> DocumentRow {
        DocumentRow {
            id: id.to_owned(),
            url: format!("automerge:{id}"),
            kind: "assessment".to_owned(),
            commune: Some(commune.to_owned()),
            commune_name: Some(format!("Xã {commune}")),
            round: Some(2024),
            catalog: Some("QD1300-2023".to_owned()),
            status: Some(status.to_owned()),
            self_total: Some(Points::whole(60)),
            review_total: None,
            verdict: Some(verdict.to_owned()),
            open_conflicts: 0,
            changed_after_submission: None,
            criteria: Vec::new(),
            last_change_at: None,
            last_change_by: None,
        }
    }

    fn detail(id: &str, side: &str, criteria: serde_json::Value) -> DetailRow {
        (
            id.to_owned(),
            Some("QD1300-2023".to_owned()),
            Some(1),
            Some(side.to_owned()),
            criteria.to_string(),
            None,
        )
    }

    const NOW: When = When {
        cutoff: i64::MAX,
        ended: true,
    };

    fn catalogs() -> Vec<catalog::StoredCatalog> {
        shipped_catalogs()
            .into_iter()
            .map(|catalog| catalog::StoredCatalog {
                catalog,
                origin: catalog::Origin::Shipped,
                province: None,
                published_by: None,
            })
            .collect()
    }

    #[test]
    fn periods_and_years_are_read_strictly() {
        assert_eq!(Period::parse(None).unwrap(), Period::Year);
        assert_eq!(Period::parse(Some("h1")).unwrap(), Period::H1);
        assert!(matches!(
            Period::parse(Some("h2")),
            Err(ReportError::BadPeriod)
        ));
        assert_eq!(
            Period::H1.dates(2024),
            ("2024-01-01".to_owned(), "2024-06-30".to_owned())
        );
        assert_eq!(Period::Year.dates(2024).1, "2024-12-31");
        assert_eq!(parse_year(Some(" 2024 ")).unwrap(), 2024);
        for bad in [None, Some(""), Some("24x"), Some("1999"), Some("70000")] {
            assert!(
                matches!(parse_year(bad), Err(ReportError::BadYear)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn periods_end_at_midnight_in_vietnam() {
        let h1 = Period::H1.end_millis(2024);
        // 2024-07-01T00:00:00+07:00 is 2024-06-30T17:00:00Z = 1,719,766,800,000 ms.
        assert_eq!(h1, 1_719_766_800_000 - 1);
        assert_eq!(vietnam_date(h1), "2024-06-30");
        assert_eq!(vietnam_date(h1 + 1), "2024-07-01");
        let year = Period::Year.end_millis(2024);
        assert_eq!(vietnam_date(year), "2024-12-31");
        assert_eq!(vietnam_date(year + 1), "2025-01-01");
    }

    #[test]
    fn a_past_period_counts_the_status_each_assessment_had_at_its_end() {
        let catalogs = catalogs();
        let end = Period::H1.end_millis(2024);
        let history = |changes: &[(i64, &str)]| {
            let list: Vec<serde_json::Value> = changes
                .iter()
                .map(|(at, status)| serde_json::json!({"at": at, "status": status}))
                .collect();
            Some(serde_json::Value::from(list).to_string())
        };
        let rows = vec![
            row("a", "99101", "approved", "pass"),
            row("b", "99102", "approved", "pass"),
            row("c", "99103", "submitted", "pass"),
        ];
        let mut details = vec![
            detail("a", "review", serde_json::json!([])),
            detail("b", "review", serde_json::json!([])),
            detail("c", "self", serde_json::json!([])),
        ];
        details[0].5 = history(&[
            (end - 3, "submitted"),
            (end - 2, "appraised"),
            (end, "approved"),
        ]);
        details[1].5 = history(&[
            (end - 3, "submitted"),
            (end + 1, "appraised"),
            (end + 2, "approved"),
        ]);
        details[2].5 = history(&[(end + 5, "submitted")]);
        let when = When {
            cutoff: end,
            ended: true,
        };
        let computed = compute(2024, Period::H1, when, rows, details, Vec::new(), &catalogs);
        let report = &computed.report;
        let statuses: Vec<&str> = report
            .rows
            .iter()
            .map(|r| r.status.as_deref().unwrap())
            .collect();
        assert_eq!(statuses, ["approved", "submitted", "draft"]);
        assert_eq!((report.submitted, report.approved), (2, 1));
        assert_eq!(report.as_of, "2024-06-30");
        assert!(report.period_ended);
        // Verdicts are the current ones.
        assert_eq!(report.passing, 3);
    }

    #[test]
    fn points_come_from_the_verdict_side_and_minimums_from_the_pass_rule() {
        let catalogs = catalogs();
        let tc1 = &catalogs[0].catalog.criteria[0];
        let max = tc1.max_points;
        let percent = catalogs[0].catalog.pass_rule.criterion_min_percent;
        let required = max.share_ceil(percent);
        let low = Points::from_halves(required.halves() - 1);
        let rows = vec![
            row("a", "99101", "approved", "pass"),
            row("b", "99102", "returned", "fail"),
            row("c", "99103", "draft", "incomplete"),
        ];
        let id = tc1.id.as_str();
        let details = vec![
            // The review side decides: its TC1 is the maximum, the self score is ignored.
            detail(
                "a",
                "review",
                serde_json::json!([{"id": id, "max": max, "required": required, "self": 0, "review": max}]),
            ),
            detail(
                "b",
                "self",
                serde_json::json!([{"id": id, "max": max, "required": required, "self": low, "review": null}]),
            ),
            detail("c", "self", serde_json::json!([])),
        ];
        let computed = compute(2024, Period::H1, NOW, rows, details, Vec::new(), &catalogs);
        let report = &computed.report;
        assert_eq!(
            (
                report.communes,
                report.submitted,
                report.approved,
                report.passing
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(
            (report.from.as_str(), report.to.as_str()),
            ("2024-01-01", "2024-06-30")
        );
        assert_eq!(report.criteria.len(), catalogs[0].catalog.criteria.len());
        let first = &report.criteria[0];
        assert_eq!(first.name_vi, tc1.name_vi);
        let mean = (max.to_f64() + low.to_f64()) / 2.0;
        assert_eq!(first.average, Some((mean * 100.0).round() / 100.0));
        assert_eq!(
            first.below_minimum,
            vec![BelowMinimum {
                commune: "99102".to_owned(),
                commune_name: Some("Xã 99102".to_owned()),
                points: low.to_f64(),
                required: required.to_f64(),
            }]
        );
        assert_eq!(report.criteria[1].average, None);
        assert_eq!(computed.points[0][0], Some(max));
        assert_eq!(computed.points[2][0], None);

        let csv = String::from_utf8(files::to_csv(&computed).unwrap()).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains(&format!("99102,Xã 99102,Bị trả lại,60,,Không đạt,{low}")),
            "{csv}"
        );
        assert!(
            csv.contains("\r\n\r\nNăm,2024\r\nKỳ báo cáo,6 tháng đầu năm\r\n"),
            "{csv}"
        );
        let xlsx = files::to_xlsx(&computed).unwrap();
        assert!(xlsx.starts_with(b"PK"), "a zip archive");
    }
}
