//! Vietnamese alphabetical order (thứ tự chữ cái tiếng Việt) of names: ICU4X's collator for
//! `vi` with its compiled CLDR data (An, Ân, D, Đ, Ngọc before Nguyên, U, Ư, tones after the
//! letter). The overview's communes come in this order, so no device ranks thousands of names
//! before it can show the first rows; the browser test holds it to Chromium's
//! `Intl.Collator("vi")` on every name it shows.

use std::cmp::Ordering;
use std::sync::LazyLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};

/// The Vietnamese collator with the default options (tertiary strength, as `Intl.Collator`'s
/// `sort` usage), built once from the compiled data.
static VIETNAMESE: LazyLock<Option<CollatorBorrowed<'static>>> = LazyLock::new(|| {
    Collator::try_new(
        icu_locale_core::locale!("vi").into(),
        CollatorOptions::default(),
    )
    .inspect_err(|err| tracing::error!(error = %err, "no Vietnamese collation data"))
    .ok()
});

/// A name's sort key: keys compare as bytes in the names' Vietnamese order (equal keys: names
/// equal in that order). Without collation data (never with the compiled data) the name's own
/// bytes, so listings still come out in some stable order.
pub fn sort_key(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() * 3);
    match VIETNAMESE.as_ref() {
        Some(collator) => {
            let Ok(()) = collator.write_sort_key_to(name, &mut key);
        }
        None => key.extend_from_slice(name.as_bytes()),
    }
    key
}

/// Compares two names in Vietnamese order (what their [`sort_key`]s say).
pub fn compare(a: &str, b: &str) -> Ordering {
    match VIETNAMESE.as_ref() {
        Some(collator) => collator.compare(a, b),
        None => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser test's list (`tests/e2e/vietnamese_sort.mjs`), in the order Chromium's
    /// `Intl.Collator("vi")` gives it.
    const IN_ORDER: [&str; 11] = [
        "Xã An Khánh (thử)",
        "Xã Ân Thi (thử)",
        "Xã Dương Liễu (thử)",
        "Xã Đông Sơn (thử)",
        "Xã Tân Châu (thử)",
        "Xã Thiệu Giao (thử)",
        "Xã Thiệu Ngọc (thử)",
        "Xã Thiệu Nguyên (thử)",
        "Xã Thiệu Vận (thử)",
        "Xã Uy Nỗ (thử)",
        "Xã Ưng Hòa (thử)",
    ];

    #[test]
    fn names_sort_in_vietnamese_order_by_key_and_by_comparison() {
        let mut names = IN_ORDER.to_vec();
        names.reverse();
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(names, IN_ORDER);
        names.reverse();
        names.sort_by(|a, b| compare(a, b));
        assert_eq!(names, IN_ORDER);
    }

    #[test]
    fn letters_with_marks_follow_their_base_letter_and_tones_come_after_the_letter() {
        for (before, after) in [
            ("a", "ă"),
            ("ă", "â"),
            ("d", "đ"),
            ("Dương", "Đông"),
            ("o", "ô"),
            ("ô", "ơ"),
            ("u", "ư"),
            ("Uy", "Ưng"),
            ("Ngọc", "Nguyên"),
            ("Tân", "Thiệu"),
            ("ba", "bà"),
            ("bà", "bá"),
        ] {
            assert_eq!(compare(before, after), Ordering::Less, "{before} < {after}");
            assert!(
                sort_key(before) < sort_key(after),
                "{before} < {after} by key"
            );
        }
    }
}
