//! Vietnamese alphabetical order (thứ tự chữ cái tiếng Việt) of names: ICU4X's collator for
//! `vi` with its compiled CLDR data (An, Ân, D, Đ, Ngọc before Nguyên, U, Ư, tones after the
//! letter). The overview's communes come in this order, so no device ranks thousands of names
//! before it can show the first rows; the browser test holds it to Chromium's
//! `Intl.Collator("vi")` on every name it shows.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

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

/// Names whose sort keys are made at most, kept by [`cached_sort_key`]; past it the cache starts
/// again empty (a country's communes are about 10,000 names).
const MAX_CACHED_KEYS: usize = 100_000;

/// Sort keys made so far, by name.
static KEYS: LazyLock<Mutex<HashMap<String, Arc<[u8]>>>> = LazyLock::new(Default::default);

/// A name's [`sort_key`], made once per name in this process: communes' names seldom change,
/// and an overview of 10,000 communes would otherwise make 10,000 keys per request (measured
/// ~10 ms of its time on SQLite).
pub fn cached_sort_key(name: &str) -> Arc<[u8]> {
    let keys = || KEYS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(key) = keys().get(name) {
        return Arc::clone(key);
    }
    let key: Arc<[u8]> = sort_key(name).into();
    let mut cached = keys();
    if cached.len() >= MAX_CACHED_KEYS {
        cached.clear();
    }
    cached.insert(name.to_owned(), Arc::clone(&key));
    key
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;

    /// The collator's own comparison of two names, which their [`sort_key`]s must agree with.
    fn compare(a: &str, b: &str) -> Ordering {
        match VIETNAMESE.as_ref() {
            Some(collator) => collator.compare(a, b),
            None => a.cmp(b),
        }
    }

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
    fn a_cached_key_is_the_key() {
        for name in IN_ORDER {
            assert_eq!(&*cached_sort_key(name), sort_key(name).as_slice());
            assert_eq!(&*cached_sort_key(name), sort_key(name).as_slice(), "again");
        }
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
