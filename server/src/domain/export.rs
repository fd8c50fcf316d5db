//! Exported files (CSV and XLSX): the one place where text that came from people (unit names,
//! notes, device names, user names) is neutralised so that a spreadsheet cannot take it for a
//! formula (xuất tệp an toàn).
//!
//! A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
//! apostrophe (`'=1+1`), in CSV and XLSX alike, so what a reviewer opens is the text, never a
//! formula. Two exceptions keep the files useful: a cell that is a plain decimal number
//! (`-1`, `-0.5`: nothing a spreadsheet could run) is left as it is, and numeric cells are
//! written as numbers by their writers and never pass through here. Files that tramyte reads
//! back (the units CSV) undo the apostrophe with [`read_text_cell`], so an export imports as
//! the same units.

use std::borrow::Cow;

/// Characters that make a spreadsheet read a cell as a formula (or as a DDE call).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A plain decimal number: an optional `-`, digits, and optionally `.` and digits.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// The text of a cell as exported: an apostrophe before text a spreadsheet would take for a
/// formula, the text itself otherwise.
pub fn text_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) && !is_plain_number(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text a cell held before [`text_cell`], for files tramyte reads back: the apostrophe
/// it added is taken off again.
pub fn read_text_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) && !is_plain_number(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_starts_a_formula_is_neutralised_and_numbers_are_not() {
        for (text, exported) in [
            ("=1+1", "'=1+1"),
            ("+84 912", "'+84 912"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=cmd", "'\t=cmd"),
            ("\r=cmd", "'\r=cmd"),
            ("-", "'-"),
            ("-1.", "'-1."),
            ("-.5", "'-.5"),
            ("-1e5", "'-1e5"),
            ("-1", "-1"),
            ("-12.5", "-12.5"),
            ("Xã Thiệu Vận", "Xã Thiệu Vận"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(text_cell(text), exported, "{text:?}");
            assert_eq!(
                read_text_cell(&text_cell(text)),
                text,
                "{text:?} reads back"
            );
        }
        // An apostrophe someone typed themselves stays.
        assert_eq!(read_text_cell("'Thôn 1"), "'Thôn 1");
    }
}
