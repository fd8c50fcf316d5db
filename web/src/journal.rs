//! A write-ahead journal of local edits (nhật ký sửa đổi chưa lưu) in `localStorage`.
//!
//! IndexedDB is asynchronous: a page reloaded or closed right after an edit can lose the save
//! still waiting in the queue. `localStorage` is written synchronously, inside the input
//! handler, so every edit's automerge changes are appended here first, each with a sequence
//! number; once IndexedDB has committed a save of the document, the entries that save covered
//! are dropped. On start the remaining entries are applied to the saved document (applying a
//! change twice does nothing), so nothing typed is lost on reload.
//!
//! One key per document, `tramyte.journal.<id>`, holding `seq:hex` entries separated by commas;
//! only edits not yet in IndexedDB are kept, so it stays small.

const PREFIX: &str = "tramyte.journal.";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn key(document: &str) -> String {
    format!("{PREFIX}{document}")
}

/// The entries of a document's journal: sequence number and change bytes, oldest first.
pub fn entries(document: &str) -> Vec<(u64, Vec<u8>)> {
    let Some(text) = storage().and_then(|s| s.get_item(&key(document)).ok().flatten()) else {
        return Vec::new();
    };
    parse(&text)
}

/// Appends a local edit's changes; returns its sequence number (`None` when `localStorage`
/// refused it, e.g. full: the edit is then only as safe as its IndexedDB save).
pub fn append(document: &str, changes: &[u8]) -> Option<u64> {
    let storage = storage()?;
    let key = key(document);
    let mut text = storage.get_item(&key).ok().flatten().unwrap_or_default();
    let seq = parse(&text).last().map_or(1, |(seq, _)| seq + 1);
    if !text.is_empty() {
        text.push(',');
    }
    text.push_str(&format!("{seq}:"));
    for byte in changes {
        text.push_str(&format!("{byte:02x}"));
    }
    storage.set_item(&key, &text).ok()?;
    Some(seq)
}

/// The newest sequence number of a document's journal (what a save issued now covers); read
/// without decoding the entries, since every save asks.
pub fn newest(document: &str) -> Option<u64> {
    let text = storage()?.get_item(&key(document)).ok()??;
    let (seq, _) = text.rsplit(',').next()?.split_once(':')?;
    seq.parse().ok()
}

/// Drops the entries up to `covered` (a save that included them is committed).
pub fn drop_through(document: &str, covered: u64) {
    let Some(storage) = storage() else { return };
    let key = key(document);
    let Some(text) = storage.get_item(&key).ok().flatten() else {
        return;
    };
    let kept: Vec<&str> = text
        .split(',')
        .filter(|entry| {
            entry
                .split_once(':')
                .and_then(|(seq, _)| seq.parse::<u64>().ok())
                .is_none_or(|seq| seq > covered)
        })
        .collect();
    if kept.is_empty() {
        let _ = storage.remove_item(&key);
    } else {
        let _ = storage.set_item(&key, &kept.join(","));
    }
}

/// Forgets every journal (another person signs in on this phone).
pub fn clear_all() {
    let Some(storage) = storage() else { return };
    let length = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..length)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(PREFIX))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}

/// Reads `seq:hex` entries; a damaged entry is skipped.
fn parse(text: &str) -> Vec<(u64, Vec<u8>)> {
    text.split(',')
        .filter_map(|entry| {
            let (seq, hex) = entry.split_once(':')?;
            let seq = seq.parse().ok()?;
            if hex.len() % 2 != 0 {
                return None;
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            Some((seq, bytes))
        })
        .collect()
}

// Run by `wasm-bindgen-test-runner` in headless Chromium (`cargo xtask test`).
#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn entries_read_back_and_damaged_ones_are_skipped() {
        assert_eq!(
            super::parse("1:00ff,2:zz,3:0a0b,x:00,4:abc"),
            vec![(1, vec![0x00, 0xff]), (3, vec![0x0a, 0x0b])]
        );
        assert_eq!(super::parse(""), Vec::new());
    }
}
