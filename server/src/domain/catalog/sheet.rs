//! Indicator sheets (bảng chấm điểm) as XLSX: the template a province fills, reading a filled
//! sheet into the catalog file format, and writing any catalog back to the same layout.
//!
//! A sheet is read cell by cell into the catalog JSON and validated whole by the one catalog
//! parser (`tramyte_shared::catalog::parse_catalog`); each problem it finds is reported at the
//! sheet, row and column it came from (`Chỉ tiêu!H7: must be more than 0`), every problem at
//! once, and nothing of an invalid sheet is kept.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::{Map, Value, json};
use tramyte_shared::catalog::{
    Catalog, CatalogErrors, DecisionKind, Measure, ScoringRule, parse_catalog,
};

/// The set's own fields: one row each, the key in column A and the value in column B.
pub const SET_SHEET: &str = "Bộ tiêu chí";
/// One row per indicator (or per criterion scored as a whole).
pub const INDICATOR_SHEET: &str = "Chỉ tiêu";
/// One row per decision behind the set.
pub const DECISION_SHEET: &str = "Quyết định";

/// The set sheet's keys, with their Vietnamese and English explanation.
const SET_FIELDS: [(&str, &str); 8] = [
    ("code", "Mã bộ tiêu chí, ví dụ QD1300-2023 / set code"),
    ("revision", "Lần sửa đổi, số nguyên từ 1 / revision number"),
    (
        "title_vi",
        "Tên bộ tiêu chí (tiếng Việt) / title in Vietnamese",
    ),
    (
        "title_en",
        "Tên tiếng Anh (có thể để trống) / title in English, optional",
    ),
    (
        "note",
        "Ghi chú về nguồn (có thể để trống) / where the data comes from, optional",
    ),
    (
        "total_min_percent",
        "Tổng điểm tối thiểu, % / minimum total, percent",
    ),
    (
        "criterion_min_percent",
        "Điểm tối thiểu mỗi tiêu chí, % / minimum per criterion, percent",
    ),
    (
        "no_failed_knockout",
        "Không được trượt điểm liệt: có/không / no knockout may fail: yes/no",
    ),
];

/// The indicator sheet's columns: JSON field, header (Vietnamese / English).
const COLUMNS: [(&str, &str); 15] = [
    ("criterion_id", "Mã tiêu chí / criterion id"),
    ("criterion_name_vi", "Tên tiêu chí / criterion name"),
    (
        "criterion_name_en",
        "Tên tiêu chí (tiếng Anh) / criterion name in English",
    ),
    (
        "criterion_max_points",
        "Điểm tối đa của tiêu chí / criterion max points",
    ),
    (
        "id",
        "Mã chỉ tiêu (trống: chấm cả tiêu chí) / indicator id (empty: criterion as a whole)",
    ),
    ("name_vi", "Nội dung chỉ tiêu / indicator wording"),
    ("name_en", "Nội dung (tiếng Anh) / wording in English"),
    ("max_points", "Điểm tối đa / max points"),
    ("scoring", "Cách chấm: points, yes_no, bands / scoring kind"),
    ("measure", "Đo bằng (bands): percent, count / measure"),
    (
        "bands",
        "Mức (bands): ngưỡng:điểm; … ví dụ 80:10; 50:5 / min:points; …",
    ),
    ("knockout", "Điểm liệt: x / knockout: x"),
    (
        "zones",
        "Vùng áp dụng: 1,2,3 (trống: tất cả) / zones (empty: all)",
    ),
    (
        "unit_types",
        "Loại đơn vị: xa,phuong,dac_khu (trống: tất cả) / unit types",
    ),
    ("evidence_hint", "Minh chứng cần có / evidence to attach"),
];

const DECISION_COLUMNS: [(&str, &str); 4] = [
    ("number", "Số quyết định, ví dụ 1300/QĐ-BYT / number"),
    ("date", "Ngày ký YYYY-MM-DD / date signed"),
    ("issuer", "Cơ quan ban hành / issuer"),
    ("kind", "Loại: issued, correction, amendment / kind"),
];

/// The most entries an indicator sheet's archive may hold.
pub const MAX_ARCHIVE_ENTRIES: usize = 256;
/// The most bytes an indicator sheet may expand to (all its parts inflated).
pub const MAX_EXPANDED_BYTES: u64 = 64 << 20;

/// A place in the workbook: sheet, 1-based row, column letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub sheet: &'static str,
    pub row: u32,
    pub column: u16,
}

impl Cell {
    /// The column as a spreadsheet writes it: `A`, `H`, `AB`.
    pub fn column_letter(&self) -> String {
        column_letter(self.column)
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}!{}{}",
            self.sheet,
            column_letter(self.column),
            self.row
        )
    }
}

/// One problem of a sheet, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetProblem {
    /// The cell (or, for a problem of a whole sheet, its first cell).
    pub cell: Cell,
    pub message: String,
}

/// Why a sheet was not read; nothing of it was kept.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("not an XLSX workbook: {0}")]
    NotAWorkbook(String),
    #[error(
        "the workbook expands to more than {} MiB or holds more than {MAX_ARCHIVE_ENTRIES} \
         parts; an indicator sheet is far smaller",
        MAX_EXPANDED_BYTES >> 20
    )]
    TooLarge,
    #[error("{count} problem{plural} in the sheet:{list}", count = .0.len(), plural = if .0.len() == 1 { "" } else { "s" }, list = list(.0))]
    Problems(Vec<SheetProblem>),
    #[error("cannot write the workbook: {0}")]
    Write(#[from] XlsxError),
}

fn list(problems: &[SheetProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  {}: {}", p.cell, p.message))
        .collect()
}

/// The empty template, with headers and instructions in Vietnamese and English.
pub fn template() -> Result<Vec<u8>, SheetError> {
    write(None)
}

/// Any catalog in the sheet layout; reading it back gives the same catalog.
pub fn export(catalog: &Catalog) -> Result<Vec<u8>, SheetError> {
    write(Some(catalog))
}

fn write(catalog: Option<&Catalog>) -> Result<Vec<u8>, SheetError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold().set_text_wrap();
    {
        let sheet = workbook.add_worksheet().set_name(SET_SHEET)?;
        header(
            sheet,
            &[
                ("key", "Trường / field"),
                ("value", "Giá trị / value"),
                ("help", "Hướng dẫn / instructions"),
            ],
            &bold,
        )?;
        for (i, (key, help)) in SET_FIELDS.iter().enumerate() {
            let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
            sheet.write_string(row, 0, *key)?;
            sheet.write_string(row, 2, *help)?;
            let Some(catalog) = catalog else { continue };
            match *key {
                "code" => sheet.write_string(row, 1, catalog.code.as_str())?,
                "revision" => sheet.write_number(row, 1, f64::from(catalog.revision))?,
                "title_vi" => sheet.write_string(row, 1, &catalog.title_vi)?,
                "title_en" => sheet.write_string(row, 1, &catalog.title_en)?,
                "note" => sheet.write_string(row, 1, catalog.note.as_deref().unwrap_or(""))?,
                "total_min_percent" => {
                    sheet.write_number(row, 1, f64::from(catalog.pass_rule.total_min_percent))?
                }
                "criterion_min_percent" => sheet.write_number(
                    row,
                    1,
                    f64::from(catalog.pass_rule.criterion_min_percent),
                )?,
                _ => sheet.write_string(
                    row,
                    1,
                    if catalog.pass_rule.no_failed_knockout {
                        "có"
                    } else {
                        "không"
                    },
                )?,
            };
        }
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(1, 40)?;
        sheet.set_column_width(2, 70)?;
    }
    {
        let sheet = workbook.add_worksheet().set_name(INDICATOR_SHEET)?;
        header(sheet, &COLUMNS, &bold)?;
        sheet.set_freeze_panes(1, 0)?;
        let mut row = 1u32;
        for criterion in catalog.map_or(&[][..], |c| &c.criteria[..]) {
            let criterion_cells = |sheet: &mut Worksheet, row: u32| -> Result<(), XlsxError> {
                sheet.write_string(row, 0, criterion.id.as_str())?;
                sheet.write_string(row, 1, &criterion.name_vi)?;
                sheet.write_string(row, 2, &criterion.name_en)?;
                sheet.write_number(row, 3, criterion.max_points.to_f64())?;
                Ok(())
            };
            if criterion.indicators.is_empty() {
                criterion_cells(sheet, row)?;
                row += 1;
            }
            for (i, indicator) in criterion.indicators.iter().enumerate() {
                if i == 0 {
                    criterion_cells(sheet, row)?;
                } else {
                    sheet.write_string(row, 0, criterion.id.as_str())?;
                }
                sheet.write_string(row, 4, indicator.id.as_str())?;
                sheet.write_string(row, 5, &indicator.name_vi)?;
                sheet.write_string(row, 6, &indicator.name_en)?;
                sheet.write_number(row, 7, indicator.max_points.to_f64())?;
                match &indicator.scoring {
                    ScoringRule::Points => sheet.write_string(row, 8, "points")?,
                    ScoringRule::YesNo => sheet.write_string(row, 8, "yes_no")?,
                    ScoringRule::Bands { measure, bands } => {
                        sheet.write_string(row, 8, "bands")?;
                        sheet.write_string(
                            row,
                            9,
                            match measure {
                                Measure::Percent => "percent",
                                Measure::Count => "count",
                            },
                        )?;
                        let text: Vec<String> = bands
                            .iter()
                            .map(|band| format!("{}:{}", band.min, band.points))
                            .collect();
                        sheet.write_string(row, 10, text.join("; "))?
                    }
                };
                if indicator.knockout {
                    sheet.write_string(row, 11, "x")?;
                }
                let zones: Vec<String> = indicator
                    .applies_to
                    .zones
                    .iter()
                    .map(|z| z.get().to_string())
                    .collect();
                if zones.len() < 3 {
                    sheet.write_string(row, 12, zones.join(","))?;
                }
                let types: Vec<&str> = indicator
                    .applies_to
                    .unit_types
                    .iter()
                    .map(|t| t.as_str())
                    .collect();
                if types.len() < 3 {
                    sheet.write_string(row, 13, types.join(","))?;
                }
                if let Some(hint) = &indicator.evidence_hint {
                    sheet.write_string(row, 14, hint)?;
                }
                row += 1;
            }
        }
        for (column, width) in [(1u16, 36.0), (5, 50.0), (10, 24.0), (14, 36.0)] {
            sheet.set_column_width(column, width)?;
        }
    }
    {
        let sheet = workbook.add_worksheet().set_name(DECISION_SHEET)?;
        header(sheet, &DECISION_COLUMNS, &bold)?;
        for (i, decision) in catalog
            .map_or(&[][..], |c| &c.decisions[..])
            .iter()
            .enumerate()
        {
            let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
            sheet.write_string(row, 0, &decision.number)?;
            sheet.write_string(row, 1, &decision.date)?;
            sheet.write_string(row, 2, &decision.issuer)?;
            sheet.write_string(
                row,
                3,
                match decision.kind {
                    DecisionKind::Issued => "issued",
                    DecisionKind::Correction => "correction",
                    DecisionKind::Amendment => "amendment",
                },
            )?;
        }
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(2, 24)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn header(sheet: &mut Worksheet, columns: &[(&str, &str)], bold: &Format) -> Result<(), XlsxError> {
    for (i, (_, title)) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(i).unwrap_or(u16::MAX), *title, bold)?;
    }
    Ok(())
}

/// A sheet's cells, by 0-based (row, column).
struct Grid {
    name: &'static str,
    cells: BTreeMap<(u32, u32), Data>,
    rows: u32,
}

impl Grid {
    fn text(&self, row: u32, column: u32) -> Option<String> {
        match self.cells.get(&(row, column))? {
            Data::String(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
            Data::Float(value) => Some(format_number(*value)),
            Data::Int(value) => Some(value.to_string()),
            Data::Bool(value) => Some(value.to_string()),
            Data::DateTime(value) => Some(excel_date(value.as_f64())),
            Data::DateTimeIso(text) | Data::DurationIso(text) => Some(text.clone()),
            Data::Error(_) | Data::Empty => None,
        }
    }

    fn cell(&self, row: u32, column: u32) -> Cell {
        Cell {
            sheet: self.name,
            row: row + 1,
            column: u16::try_from(column).unwrap_or(u16::MAX),
        }
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// An Excel date serial as `YYYY-MM-DD` (days since 1899-12-30).
fn excel_date(serial: f64) -> String {
    // 25,569 days from 1899-12-30 to 1970-01-01.
    crate::domain::date::civil_date(serial.floor() as i64 - 25_569)
}

/// Reads a filled sheet into a catalog, validated whole by the catalog parser; every problem is
/// reported at its cell. Also returns the catalog file (JSON) it stands for, to store.
pub fn import(bytes: &[u8]) -> Result<(Catalog, String), SheetError> {
    check_archive(bytes)?;
    let mut workbook =
        Xlsx::new(Cursor::new(bytes)).map_err(|err| SheetError::NotAWorkbook(err.to_string()))?;
    let mut problems = Vec::new();
    let mut grid = |name: &'static str, problems: &mut Vec<SheetProblem>| -> Option<Grid> {
        match workbook.worksheet_range(name) {
            Ok(range) => {
                let mut cells = BTreeMap::new();
                let mut rows = 0;
                for (row, column, value) in range.used_cells() {
                    let (row, column) = match range.start() {
                        Some((r0, c0)) => (row as u32 + r0, column as u32 + c0),
                        None => (row as u32, column as u32),
                    };
                    rows = rows.max(row + 1);
                    cells.insert((row, column), value.clone());
                }
                Some(Grid { name, cells, rows })
            }
            Err(_) => {
                problems.push(SheetProblem {
                    cell: Cell {
                        sheet: name,
                        row: 1,
                        column: 0,
                    },
                    message: format!("the sheet `{name}` is missing (start from the template)"),
                });
                None
            }
        }
    };
    let set = grid(SET_SHEET, &mut problems);
    let indicators = grid(INDICATOR_SHEET, &mut problems);
    let decisions = grid(DECISION_SHEET, &mut problems);
    let (Some(set), Some(indicators), Some(decisions)) = (set, indicators, decisions) else {
        return Err(SheetError::Problems(problems));
    };
    let mut places: BTreeMap<String, Cell> = BTreeMap::new();
    let mut root = read_set(&set, &mut places, &mut problems);
    root.insert(
        "criteria".into(),
        read_indicators(&indicators, &mut places, &mut problems),
    );
    root.insert("decisions".into(), read_decisions(&decisions, &mut places));
    let source = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
    match parse_catalog(&source) {
        Ok(catalog) if problems.is_empty() => Ok((catalog, source)),
        Ok(_) => Err(SheetError::Problems(problems)),
        Err(errors) => {
            problems.extend(locate(&errors, &places));
            problems.sort_by_key(|p| (p.cell.sheet, p.cell.row, p.cell.column));
            problems.dedup();
            Err(SheetError::Problems(problems))
        }
    }
}

/// Reads the archive itself, inflating every part within [`MAX_EXPANDED_BYTES`] in all (whatever
/// sizes its headers declare), before a library that would inflate it without limit sees it.
fn check_archive(bytes: &[u8]) -> Result<(), SheetError> {
    use std::io::Read;
    let not_a_workbook = |err: &dyn std::fmt::Display| SheetError::NotAWorkbook(err.to_string());
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|err| not_a_workbook(&err))?;
    if archive.len() > MAX_ARCHIVE_ENTRIES {
        return Err(SheetError::TooLarge);
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let part = archive
            .by_index(index)
            .map_err(|err| not_a_workbook(&err))?;
        let allowed = MAX_EXPANDED_BYTES - total;
        let read = std::io::copy(&mut part.take(allowed + 1), &mut std::io::sink())
            .map_err(|err| not_a_workbook(&err))?;
        total += read;
        if total > MAX_EXPANDED_BYTES {
            return Err(SheetError::TooLarge);
        }
    }
    Ok(())
}

/// The catalog parser's problems at their cells: the longest recorded prefix of each path.
fn locate(errors: &CatalogErrors, places: &BTreeMap<String, Cell>) -> Vec<SheetProblem> {
    errors
        .problems
        .iter()
        .map(|problem| {
            let mut path = problem.location.as_str();
            let cell = loop {
                if let Some(cell) = places.get(path) {
                    break cell.clone();
                }
                match path.rfind(['.', '[']) {
                    Some(end) => path = &path[..end],
                    None => {
                        break Cell {
                            sheet: SET_SHEET,
                            row: 1,
                            column: 0,
                        };
                    }
                }
            };
            SheetProblem {
                cell,
                message: problem.error.to_string(),
            }
        })
        .collect()
}

/// A number as the catalog file writes it (a whole number without a fraction; a decimal comma
/// read as a point), or the text itself for the parser to refuse at its cell.
fn number_or_text(text: &str) -> Value {
    let numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || c == '-');
    match text.replace(',', ".").parse::<f64>() {
        Ok(number) if numeric && number.fract() == 0.0 && number.abs() < 1e15 => {
            json!(number as i64)
        }
        Ok(number) if numeric => json!(number),
        _ => json!(text),
    }
}

fn yes(text: &str) -> Option<bool> {
    match text.to_lowercase().as_str() {
        "x" | "có" | "co" | "yes" | "true" | "1" => Some(true),
        "không" | "khong" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

fn read_set(
    grid: &Grid,
    places: &mut BTreeMap<String, Cell>,
    problems: &mut Vec<SheetProblem>,
) -> Map<String, Value> {
    let mut root = Map::new();
    root.insert(
        "format".into(),
        json!(tramyte_shared::catalog::FORMAT_VERSION),
    );
    let mut pass = Map::new();
    places.insert(String::new(), grid.cell(0, 0));
    places.insert("pass_rule".into(), grid.cell(0, 0));
    for row in 1..grid.rows {
        let Some(key) = grid.text(row, 0) else {
            continue;
        };
        let value = grid.text(row, 1);
        let cell = grid.cell(row, 1);
        match key.as_str() {
            "code" | "title_vi" | "title_en" | "note" => {
                places.insert(key.clone(), cell);
                if let Some(value) = value {
                    root.insert(key, json!(value));
                } else if key == "title_en" {
                    root.insert(key, json!(""));
                }
            }
            "revision" => {
                places.insert(key.clone(), cell);
                if let Some(value) = value {
                    root.insert(key, number_or_text(&value));
                }
            }
            "total_min_percent" | "criterion_min_percent" => {
                places.insert(format!("pass_rule.{key}"), cell);
                if let Some(value) = value {
                    pass.insert(key, number_or_text(&value));
                }
            }
            "no_failed_knockout" => {
                places.insert(format!("pass_rule.{key}"), cell.clone());
                match value.as_deref().map(yes) {
                    Some(Some(flag)) => {
                        pass.insert(key, json!(flag));
                    }
                    Some(None) => problems.push(SheetProblem {
                        cell,
                        message: "write có or không (yes or no)".into(),
                    }),
                    None => {}
                }
            }
            _ => problems.push(SheetProblem {
                cell: grid.cell(row, 0),
                message: format!("unknown field `{key}` (the template lists the fields)"),
            }),
        }
    }
    root.insert("pass_rule".into(), Value::Object(pass));
    root
}

fn read_indicators(
    grid: &Grid,
    places: &mut BTreeMap<String, Cell>,
    problems: &mut Vec<SheetProblem>,
) -> Value {
    let column = |name: &str| {
        COLUMNS
            .iter()
            .position(|(field, _)| *field == name)
            .unwrap_or(0) as u32
    };
    let mut criteria: Vec<Map<String, Value>> = Vec::new();
    let mut criterion_ids: Vec<String> = Vec::new();
    for row in 1..grid.rows {
        let text = |name: &str| grid.text(row, column(name));
        if COLUMNS.iter().all(|(name, _)| text(name).is_none()) {
            continue;
        }
        let Some(criterion_id) = text("criterion_id") else {
            problems.push(SheetProblem {
                cell: grid.cell(row, 0),
                message: "every row needs its criterion id".into(),
            });
            continue;
        };
        let index = match criterion_ids.iter().position(|id| *id == criterion_id) {
            Some(index) if index + 1 == criterion_ids.len() => index,
            Some(_) => {
                problems.push(SheetProblem {
                    cell: grid.cell(row, 0),
                    message: format!("the rows of criterion {criterion_id} must follow each other"),
                });
                continue;
            }
            None => {
                let index = criteria.len();
                let path = format!("criteria[{index}]");
                places.insert(path.clone(), grid.cell(row, 0));
                places.insert(format!("{path}.id"), grid.cell(row, column("criterion_id")));
                places.insert(
                    format!("{path}.name_vi"),
                    grid.cell(row, column("criterion_name_vi")),
                );
                places.insert(
                    format!("{path}.name_en"),
                    grid.cell(row, column("criterion_name_en")),
                );
                places.insert(
                    format!("{path}.max_points"),
                    grid.cell(row, column("criterion_max_points")),
                );
                let mut criterion = Map::new();
                criterion.insert("id".into(), json!(criterion_id));
                if let Some(name) = text("criterion_name_vi") {
                    criterion.insert("name_vi".into(), json!(name));
                }
                criterion.insert(
                    "name_en".into(),
                    json!(text("criterion_name_en").unwrap_or_default()),
                );
                if let Some(max) = text("criterion_max_points") {
                    criterion.insert("max_points".into(), number_or_text(&max));
                }
                criteria.push(criterion);
                criterion_ids.push(criterion_id.clone());
                index
            }
        };
        let Some(indicator_id) = text("id") else {
            continue;
        };
        let criterion = &mut criteria[index];
        let list = criterion
            .entry("indicators")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .map(|list| list.len())
            .unwrap_or_default();
        let path = format!("criteria[{index}].indicators[{list}]");
        places.insert(path.clone(), grid.cell(row, column("id")));
        for field in [
            "id",
            "name_vi",
            "name_en",
            "max_points",
            "knockout",
            "evidence_hint",
        ] {
            places.insert(format!("{path}.{field}"), grid.cell(row, column(field)));
        }
        places.insert(format!("{path}.scoring"), grid.cell(row, column("scoring")));
        places.insert(
            format!("{path}.scoring.kind"),
            grid.cell(row, column("scoring")),
        );
        places.insert(
            format!("{path}.scoring.measure"),
            grid.cell(row, column("measure")),
        );
        places.insert(
            format!("{path}.scoring.bands"),
            grid.cell(row, column("bands")),
        );
        places.insert(
            format!("{path}.applies_to"),
            grid.cell(row, column("zones")),
        );
        places.insert(
            format!("{path}.applies_to.zones"),
            grid.cell(row, column("zones")),
        );
        places.insert(
            format!("{path}.applies_to.unit_types"),
            grid.cell(row, column("unit_types")),
        );
        let mut indicator = Map::new();
        indicator.insert("id".into(), json!(indicator_id));
        if let Some(name) = text("name_vi") {
            indicator.insert("name_vi".into(), json!(name));
        }
        indicator.insert("name_en".into(), json!(text("name_en").unwrap_or_default()));
        if let Some(max) = text("max_points") {
            indicator.insert("max_points".into(), number_or_text(&max));
        }
        let mut scoring = Map::new();
        if let Some(kind) = text("scoring") {
            scoring.insert("kind".into(), json!(kind));
        }
        if let Some(measure) = text("measure") {
            scoring.insert("measure".into(), json!(measure));
        }
        if let Some(bands) = text("bands") {
            let mut list = Vec::new();
            for part in bands.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                match part.split_once(':') {
                    Some((min, points)) => list.push(json!({"min": number_or_text(min.trim()), "points": number_or_text(points.trim())})),
                    None => problems.push(SheetProblem {
                        cell: grid.cell(row, column("bands")),
                        message: format!("band `{part}` is not written min:points (e.g. 80:10; 50:5)"),
                    }),
                }
            }
            scoring.insert("bands".into(), Value::Array(list));
        }
        indicator.insert("scoring".into(), Value::Object(scoring));
        match text("knockout").as_deref().map(yes) {
            Some(Some(flag)) => {
                indicator.insert("knockout".into(), json!(flag));
            }
            Some(None) => problems.push(SheetProblem {
                cell: grid.cell(row, column("knockout")),
                message: "write x for a knockout indicator, or leave it empty".into(),
            }),
            None => {}
        }
        let mut applies = Map::new();
        if let Some(zones) = text("zones") {
            let list: Vec<Value> = zones.split(',').map(|z| number_or_text(z.trim())).collect();
            applies.insert("zones".into(), Value::Array(list));
        }
        if let Some(types) = text("unit_types") {
            let list: Vec<Value> = types.split(',').map(|t| json!(t.trim())).collect();
            applies.insert("unit_types".into(), Value::Array(list));
        }
        if !applies.is_empty() {
            indicator.insert("applies_to".into(), Value::Object(applies));
        }
        if let Some(hint) = text("evidence_hint") {
            indicator.insert("evidence_hint".into(), json!(hint));
        }
        if let Some(list) = criterion
            .get_mut("indicators")
            .and_then(Value::as_array_mut)
        {
            list.push(Value::Object(indicator));
        }
    }
    Value::Array(criteria.into_iter().map(Value::Object).collect())
}

fn read_decisions(grid: &Grid, places: &mut BTreeMap<String, Cell>) -> Value {
    let mut decisions = Vec::new();
    for row in 1..grid.rows {
        if (0..4).all(|c| grid.text(row, c).is_none()) {
            continue;
        }
        let path = format!("decisions[{}]", decisions.len());
        places.insert(path.clone(), grid.cell(row, 0));
        let mut decision = Map::new();
        for (c, (field, _)) in DECISION_COLUMNS.iter().enumerate() {
            let c = c as u32;
            places.insert(format!("{path}.{field}"), grid.cell(row, c));
            if let Some(value) = grid.text(row, c) {
                decision.insert((*field).into(), json!(value));
            }
        }
        decisions.push(Value::Object(decision));
    }
    Value::Array(decisions)
}

fn column_letter(column: u16) -> String {
    let mut n = u32::from(column) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_round_trips_through_the_sheet() {
        for catalog in tramyte_shared::catalog::shipped_catalogs() {
            let bytes = export(&catalog).unwrap();
            let (back, _) = import(&bytes).unwrap();
            assert_eq!(back, catalog);
        }
    }

    /// A fictional province's sheet (an illustration, not the official annex): indicators of
    /// every scoring kind, a knockout, zones, unit types, evidence hints, two decisions.
    const FICTIONAL: &str = r#"{
      "format": 1, "code": "MINH-HOA-2025", "revision": 2,
      "title_vi": "Bảng chấm điểm minh họa (tỉnh giả định)", "title_en": "Illustrative sheet",
      "note": "Minh họa, không phải phụ lục chính thức",
      "decisions": [
        {"number": "1300/QĐ-BYT", "date": "2023-03-09", "issuer": "Bộ Y tế", "kind": "issued"},
        {"number": "99/QĐ-SYT", "date": "2025-01-15", "issuer": "Sở Y tế (giả định)", "kind": "amendment"}
      ],
      "pass_rule": {"total_min_percent": 80, "criterion_min_percent": 50, "no_failed_knockout": true},
      "criteria": [
        {"id": "TC1", "name_vi": "Chỉ đạo, điều hành", "name_en": "Direction", "max_points": 14,
         "indicators": [
           {"id": "1.1", "name_vi": "Có kế hoạch y tế năm", "max_points": 4, "scoring": {"kind": "yes_no"}, "knockout": true,
            "evidence_hint": "Kế hoạch có chữ ký"},
           {"id": "1.2", "name_vi": "Tỷ lệ hộ có sổ", "name_en": "Households with a record", "max_points": 6.5,
            "scoring": {"kind": "bands", "measure": "percent", "bands": [{"min": 80, "points": 6.5}, {"min": 50.5, "points": 3}]},
            "applies_to": {"zones": [1, 2], "unit_types": ["xa"]}},
           {"id": "1.3", "name_vi": "Giao ban", "max_points": 3.5, "scoring": {"kind": "points"},
            "applies_to": {"zones": [3], "unit_types": ["phuong", "dac_khu"]}}
         ]},
        {"id": "TC2", "name_vi": "Nhân lực", "name_en": "", "max_points": 86}
      ]
    }"#;

    #[test]
    fn a_sheet_with_indicators_of_every_kind_round_trips() {
        let catalog = parse_catalog(FICTIONAL).unwrap();
        let (back, source) = import(&export(&catalog).unwrap()).unwrap();
        assert_eq!(back, catalog);
        assert_eq!(parse_catalog(&source).unwrap(), catalog);
    }

    /// A workbook written as a person would fill the template: text in every cell.
    fn filled(set: &[(&str, &str)], rows: &[&[&str]], decisions: &[&[&str]]) -> Vec<u8> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet().set_name(SET_SHEET).unwrap();
        for (i, (key, value)) in set.iter().enumerate() {
            sheet.write_string(i as u32 + 1, 0, *key).unwrap();
            sheet.write_string(i as u32 + 1, 1, *value).unwrap();
        }
        let sheet = workbook.add_worksheet().set_name(INDICATOR_SHEET).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, *text).unwrap();
            }
        }
        let sheet = workbook.add_worksheet().set_name(DECISION_SHEET).unwrap();
        for (r, row) in decisions.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, *text).unwrap();
            }
        }
        workbook.save_to_buffer().unwrap()
    }

    #[test]
    fn every_problem_of_a_sheet_is_reported_at_its_cell_at_once() {
        let set = [
            ("code", "MINH-HOA"),
            ("revision", "1"),
            ("title_vi", "Minh họa"),
            ("total_min_percent", "80"),
            ("criterion_min_percent", "50"),
            ("no_failed_knockout", "có"),
            ("colour", "xanh"),
        ];
        let rows: [&[&str]; 5] = [
            // Indicator points 4 + 5 = 9 do not add up to the criterion's 10.
            &[
                "TC1",
                "Chỉ đạo",
                "",
                "10",
                "1.1",
                "Kế hoạch",
                "",
                "4",
                "yes_no",
            ],
            &["TC1", "", "", "", "1.2", "Sổ hộ", "", "5", "stars"],
            // The same indicator id twice; a band without its points; a zone that is not 1–3.
            &[
                "TC2",
                "Nhân lực",
                "",
                "6",
                "1.1",
                "Bác sĩ",
                "",
                "6",
                "bands",
                "percent",
                "80:6; 50",
            ],
            &[
                "TC2", "", "", "", "2.2", "Y sĩ", "", "0", "points", "", "", "", "4",
            ],
            &["", "", "", "", "2.3", "Hộ sinh", "", "1", "points"],
        ];
        let decisions: [&[&str]; 1] = [&["1300/QĐ-BYT", "9/3/2023", "Bộ Y tế", "issued"]];
        let problems = match import(&filled(&set, &rows, &decisions)) {
            Err(SheetError::Problems(problems)) => problems,
            other => panic!("{other:?}"),
        };
        let found: Vec<String> = problems
            .iter()
            .map(|p| format!("{} {}", p.cell, p.message))
            .collect();
        for (cell, words) in [
            ("Bộ tiêu chí!A8", "unknown field `colour`"),
            ("Chỉ tiêu!A6", "criterion id"),
            ("Chỉ tiêu!D2", "add up to 9"),
            ("Chỉ tiêu!I3", "unknown scoring kind `stars`"),
            ("Chỉ tiêu!E4", "already used"),
            ("Chỉ tiêu!K4", "band `50`"),
            ("Chỉ tiêu!H5", "more than 0"),
            ("Chỉ tiêu!M5", "out of range"),
            ("Quyết định!B2", "YYYY-MM-DD"),
        ] {
            assert!(
                found
                    .iter()
                    .any(|f| f.starts_with(cell) && f.contains(words)),
                "{cell}: {words} in {found:#?}"
            );
        }
    }

    #[test]
    fn a_workbook_that_inflates_beyond_the_limit_is_refused_before_it_is_read() {
        use std::io::Write;
        let mut archive = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        archive
            .start_file("xl/worksheets/sheet1.xml", options)
            .unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..=(MAX_EXPANDED_BYTES >> 20) {
            archive.write_all(&zeros).unwrap();
        }
        let bomb = archive.finish().unwrap().into_inner();
        assert!(bomb.len() < 1 << 20, "{} bytes on the wire", bomb.len());
        assert!(matches!(import(&bomb), Err(SheetError::TooLarge)));
        assert!(matches!(
            import(b"not a zip"),
            Err(SheetError::NotAWorkbook(_))
        ));
    }

    #[test]
    fn the_template_is_a_sheet_with_nothing_in_it_yet() {
        let problems = match import(&template().unwrap()) {
            Err(SheetError::Problems(problems)) => problems,
            other => panic!("{other:?}"),
        };
        let cells: Vec<String> = problems.iter().map(|p| p.cell.to_string()).collect();
        assert!(
            cells.contains(&"Bộ tiêu chí!B2".to_owned()),
            "{cells:?}: the code is missing"
        );
    }

    #[test]
    fn dates_and_columns_read_as_people_write_them() {
        assert_eq!(excel_date(45_000.0), "2023-03-15");
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(7), "H");
        assert_eq!(column_letter(27), "AB");
    }
}
