//! The reviewer's dossier as one ZIP (hồ sơ nén): the assessment's summary (`tom-tat.csv`), its
//! evidence entries (`minh-chung.csv`) and every evidence file that is on the server, named by
//! criterion (`TC3/e1-bien-ban-hop.pdf`). Written as a stream: one part of one file in memory at
//! a time, whatever the dossier's size.

use std::collections::HashSet;
use std::io::Write;

use tramyte_shared::assessment::{Answer, AssessmentView, ScoreValue};
use tramyte_shared::files::MediaType;

use crate::domain::export::text_cell;
use crate::store::file::{self as stored, FileRow};
use crate::store::summary::SummaryRecord;
use crate::store::{Store, StoreError};

/// Why a dossier could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DossierError {
    #[error("writing the dossier: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the dossier: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the dossier: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A file of the dossier and where it goes in the ZIP.
#[derive(Debug, Clone)]
pub struct Planned {
    pub path: String,
    pub file: FileRow,
}

/// What the ZIP will hold: the two CSV files and the evidence files.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub summary_csv: Vec<u8>,
    pub evidence_csv: Vec<u8>,
    pub files: Vec<Planned>,
}

/// A name safe in a ZIP on every system: no folders, no control characters, at most 80
/// characters, ending with the type's extension.
fn safe_name(name: &str, media_type: MediaType) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .take(80)
        .collect();
    // The extension it came with, if any, gives way to the type's.
    let stem = match clean.rsplit_once('.') {
        Some((stem, ext))
            if (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => clean.as_str(),
    };
    let stem = stem.trim().trim_start_matches('.');
    let stem = if stem.is_empty() { "tep" } else { stem };
    format!("{stem}.{}", media_type.extension())
}

fn answer_text(score: Option<&ScoreValue>) -> String {
    match score.map(|s| &s.answer) {
        None => String::new(),
        Some(Answer::Points(points)) => points.to_f64().to_string(),
        Some(Answer::Met(true)) => "đạt".to_owned(),
        Some(Answer::Met(false)) => "không đạt".to_owned(),
        Some(Answer::Measured(value)) => value.to_string(),
    }
}

/// Plans the dossier of `view`: which stored files go where, and the two CSV files.
pub async fn plan(
    store: &Store,
    view: &AssessmentView,
    summary: Option<&SummaryRecord>,
) -> Result<Plan, DossierError> {
    let mut summary_csv = csv::Writer::from_writer(Vec::new());
    summary_csv.write_record(["truong", "gia_tri"])?;
    let status = summary.and_then(|s| s.status.clone()).unwrap_or_default();
    let verdict = summary.and_then(|s| s.verdict.clone()).unwrap_or_default();
    let total = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    for (field, value) in [
        ("xa", view.commune.clone()),
        ("dot", view.round.to_string()),
        (
            "bo_tieu_chi",
            format!("{} r{}", view.catalog, view.catalog_revision),
        ),
        ("trang_thai", status),
        ("tu_cham", total(summary.and_then(|s| s.self_total))),
        ("tham_dinh", total(summary.and_then(|s| s.review_total))),
        ("ket_luan", verdict),
    ] {
        summary_csv.write_record([field, text_cell(&value).as_ref()])?;
    }
    let mut evidence_csv = csv::Writer::from_writer(Vec::new());
    evidence_csv.write_record([
        "tieu_chi",
        "tu_cham",
        "tham_dinh",
        "minh_chung",
        "ten",
        "tham_chieu",
        "nguoi_them",
        "tep",
        "loai",
        "kich_thuoc",
        "trong_zip",
    ])?;
    let mut files = Vec::new();
    let mut used = HashSet::new();
    for (item, entry) in &view.items {
        for (id, evidence) in &entry.evidence {
            let mut in_zip = String::new();
            if let Some(file) = &evidence.file {
                match stored::find(store, &file.sha256).await? {
                    Some(row) => {
                        let mut path =
                            format!("{item}/{id}-{}", safe_name(&file.name, file.media_type));
                        if !used.insert(path.clone()) {
                            path = format!(
                                "{item}/{id}-{}-{}",
                                &file.sha256[..8],
                                safe_name(&file.name, file.media_type)
                            );
                            used.insert(path.clone());
                        }
                        in_zip = path.clone();
                        files.push(Planned { path, file: row });
                    }
                    None => in_zip = "(chưa có trên máy chủ)".to_owned(),
                }
            }
            let (name, kind, size) = match &evidence.file {
                Some(file) => (
                    file.name.clone(),
                    file.media_type.as_str().to_owned(),
                    file.size.to_string(),
                ),
                None => Default::default(),
            };
            let cells = [
                item.clone(),
                answer_text(entry.self_score.as_ref()),
                answer_text(entry.review_score.as_ref()),
                id.clone(),
                evidence.label.clone(),
                evidence.reference.clone(),
                evidence.added_by.clone(),
                name,
                kind,
                size,
                in_zip,
            ];
            let cells: Vec<String> = cells.iter().map(|c| text_cell(c).into_owned()).collect();
            evidence_csv.write_record(&cells)?;
        }
    }
    Ok(Plan {
        summary_csv: summary_csv.into_inner().map_err(|err| err.into_error())?,
        evidence_csv: evidence_csv.into_inner().map_err(|err| err.into_error())?,
        files,
    })
}

/// Writes the planned dossier as a ZIP to `out` (which need not seek), reading each file part
/// by part through `read_part(blob, seq)`. The CSV files are deflated; photos and PDFs are
/// stored as they are (already compressed).
pub fn write_zip<W: Write>(
    out: W,
    plan: &Plan,
    mut read_part: impl FnMut(&str, i64) -> Result<Option<Vec<u8>>, StoreError>,
) -> Result<(), DossierError> {
    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new_stream(out);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(false);
    zip.start_file("tom-tat.csv", deflated)?;
    zip.write_all(&plan.summary_csv)?;
    zip.start_file("minh-chung.csv", deflated)?;
    zip.write_all(&plan.evidence_csv)?;
    for planned in &plan.files {
        zip.start_file(planned.path.as_str(), stored)?;
        let mut seq = 0;
        while let Some(part) = read_part(&planned.file.blob, seq)? {
            zip.write_all(&part)?;
            seq += 1;
        }
    }
    zip.finish()?.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_zip_stay_in_their_folder_and_keep_their_type() {
        assert_eq!(
            safe_name("biên bản họp.pdf", MediaType::Pdf),
            "biên bản họp.pdf"
        );
        assert_eq!(
            safe_name("../../etc/passwd", MediaType::Jpeg),
            "_.._etc_passwd.jpg"
        );
        assert_eq!(safe_name("a/b.jpeg", MediaType::Jpeg), "a_b.jpg");
        assert_eq!(safe_name("anh.exe", MediaType::Png), "anh.png");
        assert_eq!(safe_name("", MediaType::Webp), "tep.webp");
        assert_eq!(safe_name("a\u{0}b", MediaType::Jpeg), "a_b.jpg");
    }
}
