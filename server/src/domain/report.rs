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

use std::collections::{BTreeMap, HashMap};

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};
use tramyte_shared::catalog::Catalog;
use tramyte_shared::points::Points;
use tramyte_shared::scoring::Verdict;
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

/// One criterion across the communes of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionReport {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
    /// The catalog's maximum.
    pub max: f64,
    /// Mean points of the assessments that scored it (to 0.01), `None` if none did.
    pub average: Option<f64>,
    /// How many assessments scored it.
    #[serde(skip)]
    pub scored: usize,
    /// Communes below the minimum, in commune order.
    pub below_minimum: Vec<BelowMinimum>,
}

/// The report of one round and period.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub year: u16,
    /// `h1` or `year`.
    pub period: &'static str,
    /// First day of the period, `YYYY-MM-DD`.
    pub from: String,
    /// Last day of the period.
    pub to: String,
    /// The statuses are those at the end of this day (`to` once the period has ended, today
    /// before that).
    pub as_of: String,
    /// Whether the period has ended (the statuses are those at its end).
    pub period_ended: bool,
    /// Assessments of the round in the caller's scope.
    pub communes: usize,
    /// Of them, those submitted or further along ([`Status::counts_as_submitted`]).
    pub submitted: usize,
    /// Of them, those approved, recognized or maintained.
    pub approved: usize,
    /// Of them, those whose current verdict is `pass`.
    pub passing: usize,
    /// The criteria of the round's catalog(s), in catalog order.
    pub criteria: Vec<CriterionReport>,
    /// Progress against the year's targets, as in the overview.
    pub targets: Vec<TargetProgress>,
    /// The assessments, as `GET /api/documents` lists them.
    pub rows: Vec<DocumentRow>,
    /// Points per criterion of each row (same order as `rows` and `criteria`).
    #[serde(skip)]
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

/// The report of round `year` over `communes` (`None`: every commune).
///
/// Points per criterion are the side the summary's verdict is of: the review once the reviewer
/// scored anything in the assessment, the station's self score before that — the same side as
/// the verdict counted in `passing`. A commune is below a criterion's minimum once that side
/// has points for the criterion and they are less than the minimum.
pub async fn report(
    store: &Store,
    year: u16,
    period: Period,
    communes: Option<Vec<String>>,
) -> Result<Report, ReportError> {
    let (filter, scope) = summary::round_assessments(year, communes);
    let rows = summary::list(store, &filter).await?;
    let details = round_view::report_details(store, i32::from(year), scope.as_deref()).await?;
    let now = crate::store::now_millis();
    let end = period.end_millis(year);
    let cutoff = end.min(now);
    let targets = target_progress_at(store, year, scope.as_deref(), cutoff).await?;
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
) -> Report {
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
                scored: 0,
                below_minimum: Vec::new(),
            });
        }
    }
    let mut sums = vec![0_u64; criteria.len()];
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
                criteria[at].scored += 1;
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
    for (criterion, sum) in criteria.iter_mut().zip(sums) {
        if criterion.scored > 0 {
            let mean = sum as f64 / 2.0 / criterion.scored as f64;
            criterion.average = Some((mean * 100.0).round() / 100.0);
        }
    }
    let status_is =
        |row: &DocumentRow, counts: fn(&str) -> bool| row.status.as_deref().is_some_and(counts);
    let (from, to) = period.dates(year);
    Report {
        year,
        period: period.as_str(),
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
        points,
    }
}

/// A status as the downloads show it: the screen's Vietnamese label.
fn status_vi(status: Option<&str>) -> &str {
    match status {
        Some(name) => match Status::parse(name) {
            Some(status) => status.label_vi(),
            None => name,
        },
        None => "",
    }
}

/// A verdict as the downloads show it: the screen's Vietnamese label.
fn verdict_vi(verdict: Option<&str>) -> &str {
    match verdict {
        Some(name) => match Verdict::parse(name) {
            Some(verdict) => verdict.label_vi(),
            None => name,
        },
        None => "",
    }
}

/// A target kind as the downloads show it.
fn target_kind_vi(kind: &str) -> &str {
    match kind {
        "reach" => "Đạt mới",
        "maintain" => "Duy trì",
        other => other,
    }
}

/// Header of the per-commune table (CSV and the "Xã" sheet): fixed columns, then one per
/// criterion, then open conflicts.
fn commune_header(report: &Report) -> Vec<String> {
    let mut header: Vec<String> = [
        "Mã xã",
        "Tên xã",
        "Trạng thái",
        "Điểm tự chấm",
        "Điểm thẩm định",
        "Kết quả",
    ]
    .map(str::to_owned)
    .into();
    header.extend(report.criteria.iter().map(|c| csv_text(&c.id)));
    header.push("Xung đột chưa giải quyết".to_owned());
    header
}

/// The summary figures (CSV and the "Tổng hợp" sheet): label and value.
fn figures(report: &Report) -> Vec<(&'static str, String)> {
    vec![
        ("Năm", report.year.to_string()),
        (
            "Kỳ báo cáo",
            Period::parse(Some(report.period))
                .unwrap_or(Period::Year)
                .label_vi()
                .to_owned(),
        ),
        ("Từ ngày", report.from.clone()),
        ("Đến ngày", report.to.clone()),
        ("Trạng thái tính đến ngày", report.as_of.clone()),
        ("Điểm", "theo hồ sơ hiện tại".to_owned()),
        ("Số xã đánh giá", report.communes.to_string()),
        ("Đã nộp", report.submitted.to_string()),
        ("Đã thông qua", report.approved.to_string()),
        ("Đạt", report.passing.to_string()),
    ]
}

/// Header of the targets table.
const TARGET_HEADER: [&str; 6] = [
    "Đơn vị",
    "Mục tiêu",
    "Số xã",
    "Đã thông qua",
    "Chưa mở đánh giá",
    "Đạt",
];

/// A text cell of the CSV, neutralised for spreadsheets ([`crate::domain::export::text_cell`]).
fn csv_text(text: &str) -> String {
    crate::domain::export::text_cell(text).into_owned()
}

/// A text cell of the XLSX, neutralised the same way as the CSV's.
fn write_text(sheet: &mut Worksheet, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
    sheet.write_string(row, col, crate::domain::export::text_cell(text))?;
    Ok(())
}

/// The report as CSV: a UTF-8 byte order mark (so spreadsheets read Vietnamese), one line per
/// commune ([`commune_header`]), a blank line, the summary figures, a blank line, the targets.
pub fn to_csv(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    let section = |records: Vec<Vec<String>>| -> Result<Vec<u8>, csv::Error> {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        for record in records {
            writer.write_record(record)?;
        }
        writer
            .into_inner()
            .map_err(|err| csv::Error::from(err.into_error()))
    };
    let mut communes = vec![commune_header(report)];
    for (row, points) in report.rows.iter().zip(&report.points) {
        let show = |p: Option<Points>| p.map(|p| p.to_string()).unwrap_or_default();
        let mut line = vec![
            csv_text(row.commune.as_deref().unwrap_or("")),
            csv_text(row.commune_name.as_deref().unwrap_or("")),
            status_vi(row.status.as_deref()).to_owned(),
            show(row.self_total),
            show(row.review_total),
            verdict_vi(row.verdict.as_deref()).to_owned(),
        ];
        line.extend(points.iter().map(|p| show(*p)));
        line.push(row.open_conflicts.to_string());
        communes.push(line);
    }
    out.extend(section(communes)?);
    out.extend(b"\r\n");
    let figures = figures(report)
        .into_iter()
        .map(|(label, value)| vec![label.to_owned(), value])
        .collect();
    out.extend(section(figures)?);
    if !report.targets.is_empty() {
        out.extend(b"\r\n");
        let mut targets = vec![TARGET_HEADER.map(str::to_owned).to_vec()];
        for t in &report.targets {
            targets.push(vec![
                csv_text(&t.unit),
                target_kind_vi(&t.kind).to_owned(),
                t.communes.to_string(),
                t.approved.to_string(),
                t.not_opened.to_string(),
                t.passing.to_string(),
            ]);
        }
        out.extend(section(targets)?);
    }
    Ok(out)
}

/// A column index, or an error when a sheet would need more columns than a spreadsheet has.
fn column(index: usize) -> Result<u16, XlsxError> {
    u16::try_from(index).map_err(|_| XlsxError::ParameterError("too many columns".to_owned()))
}

/// A row index.
fn row_index(index: usize) -> Result<u32, XlsxError> {
    u32::try_from(index).map_err(|_| XlsxError::ParameterError("too many rows".to_owned()))
}

fn write_header(sheet: &mut Worksheet, row: u32, titles: &[String]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (i, title) in titles.iter().enumerate() {
        sheet.write_string_with_format(row, column(i)?, title, &bold)?;
    }
    Ok(())
}

fn write_points(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    points: Option<Points>,
) -> Result<(), XlsxError> {
    if let Some(points) = points {
        sheet.write_number(row, col, points.to_f64())?;
    }
    Ok(())
}

/// The report as an XLSX workbook: sheet "Tổng hợp" (figures and targets), "Xã" (one row per
/// commune, as in the CSV) and "Tiêu chí" (max, average and communes below the minimum).
pub fn to_xlsx(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();

    let sheet = workbook.add_worksheet();
    sheet.set_name("Tổng hợp")?;
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 18)?;
    for (i, (label, value)) in figures(report).into_iter().enumerate() {
        let r = row_index(i)?;
        sheet.write_string_with_format(r, 0, label, &bold)?;
        match value.parse::<f64>() {
            Ok(number) if label != "Từ ngày" && label != "Đến ngày" => {
                sheet.write_number(r, 1, number)?;
            }
            _ => {
                write_text(sheet, r, 1, &value)?;
            }
        }
    }
    if !report.targets.is_empty() {
        let start = figures(report).len() + 1;
        write_header(sheet, row_index(start)?, &TARGET_HEADER.map(str::to_owned))?;
        for (i, t) in report.targets.iter().enumerate() {
            let r = row_index(start + 1 + i)?;
            write_text(sheet, r, 0, &t.unit)?;
            sheet.write_string(r, 1, target_kind_vi(&t.kind))?;
            for (col, n) in [t.communes, t.approved, t.not_opened, t.passing]
                .into_iter()
                .enumerate()
            {
                sheet.write_number(r, column(col + 2)?, n as f64)?;
            }
        }
    }

    let sheet = workbook.add_worksheet();
    sheet.set_name("Xã")?;
    let header = commune_header(report);
    write_header(sheet, 0, &header)?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_column_width(1, 28)?;
    sheet.set_column_width(2, 18)?;
    for (i, (row, points)) in report.rows.iter().zip(&report.points).enumerate() {
        let r = row_index(i + 1)?;
        write_text(sheet, r, 0, row.commune.as_deref().unwrap_or(""))?;
        write_text(sheet, r, 1, row.commune_name.as_deref().unwrap_or(""))?;
        sheet.write_string(r, 2, status_vi(row.status.as_deref()))?;
        write_points(sheet, r, 3, row.self_total)?;
        write_points(sheet, r, 4, row.review_total)?;
        sheet.write_string(r, 5, verdict_vi(row.verdict.as_deref()))?;
        for (c, p) in points.iter().enumerate() {
            write_points(sheet, r, column(6 + c)?, *p)?;
        }
        sheet.write_number(r, column(6 + points.len())?, row.open_conflicts)?;
    }

    let sheet = workbook.add_worksheet();
    sheet.set_name("Tiêu chí")?;
    let header = [
        "Mã tiêu chí",
        "Tên tiêu chí",
        "Điểm tối đa",
        "Điểm trung bình",
        "Số xã đã chấm",
        "Số xã dưới mức tối thiểu",
        "Xã dưới mức tối thiểu (điểm/mức tối thiểu)",
    ]
    .map(str::to_owned);
    write_header(sheet, 0, &header)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(6, 60)?;
    for (i, c) in report.criteria.iter().enumerate() {
        let r = row_index(i + 1)?;
        write_text(sheet, r, 0, &c.id)?;
        write_text(sheet, r, 1, &c.name_vi)?;
        sheet.write_number(r, 2, c.max)?;
        if let Some(average) = c.average {
            sheet.write_number(r, 3, average)?;
        }
        sheet.write_number(r, 4, c.scored as f64)?;
        sheet.write_number(r, 5, c.below_minimum.len() as f64)?;
        let below = c
            .below_minimum
            .iter()
            .map(|b| {
                format!(
                    "{} ({}/{})",
                    b.commune_name.as_deref().unwrap_or(&b.commune),
                    b.points,
                    b.required
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        write_text(sheet, r, 6, &below)?;
    }
    workbook.save_to_buffer()
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
        let report = compute(2024, Period::H1, when, rows, details, Vec::new(), &catalogs);
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
        let report = compute(2024, Period::H1, NOW, rows, details, Vec::new(), &catalogs);
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
        assert_eq!(report.points[0][0], Some(max));
        assert_eq!(report.points[2][0], None);

        let csv = String::from_utf8(to_csv(&report).unwrap()).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains(&format!("99102,Xã 99102,Bị trả lại,60,,Không đạt,{low}")),
            "{csv}"
        );
        assert!(
            csv.contains("\r\n\r\nNăm,2024\r\nKỳ báo cáo,6 tháng đầu năm\r\n"),
            "{csv}"
        );
        let xlsx = to_xlsx(&report).unwrap();
        assert!(xlsx.starts_with(b"PK"), "a zip archive");
    }

    #[test]
    fn csv_text_cannot_start_a_formula() {
        assert_eq!(csv_text("=1+1"), "'=1+1");
        assert_eq!(csv_text("Xã Thiệu Vận"), "Xã Thiệu Vận");
    }
}
