//! A report as files (tệp báo cáo): CSV and XLSX in Vietnamese, every text cell neutralised for
//! spreadsheets ([`crate::domain::export`]).

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use tramyte_shared::points::Points;
use tramyte_shared::scoring::Verdict;
use tramyte_shared::workflow::Status;

use super::{Period, Report, RoundReport};

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
            Period::parse(Some(&report.period))
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
pub fn to_csv(computed: &RoundReport) -> Result<Vec<u8>, csv::Error> {
    let report = &computed.report;
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
    for (row, points) in report.rows.iter().zip(&computed.points) {
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
pub fn to_xlsx(computed: &RoundReport) -> Result<Vec<u8>, XlsxError> {
    let report = &computed.report;
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
    for (i, (row, points)) in report.rows.iter().zip(&computed.points).enumerate() {
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
    for (i, (c, scored)) in report.criteria.iter().zip(&computed.scored).enumerate() {
        let r = row_index(i + 1)?;
        write_text(sheet, r, 0, &c.id)?;
        write_text(sheet, r, 1, &c.name_vi)?;
        sheet.write_number(r, 2, c.max)?;
        if let Some(average) = c.average {
            sheet.write_number(r, 3, average)?;
        }
        sheet.write_number(r, 4, *scored as f64)?;
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

    #[test]
    fn csv_text_cannot_start_a_formula() {
        assert_eq!(csv_text("=1+1"), "'=1+1");
        assert_eq!(csv_text("Xã Thiệu Vận"), "Xã Thiệu Vận");
    }
}
