//! The phone's own storage (IndexedDB, through `js/idb.js`): documents as automerge bytes and
//! small records (the document list, acknowledged heads, last sync) as strings.
//!
//! Writes resolve only when IndexedDB has committed them, so what the app reports as saved
//! survives a closed tab or a sleeping phone.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/idb.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = idbGet)]
    async fn idb_get(store: &str, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = idbPut)]
    async fn idb_put(store: &str, key: &str, value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = idbDelete)]
    async fn idb_delete(store: &str, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = idbKeys)]
    async fn idb_keys(store: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = idbClear)]
    async fn idb_clear() -> Result<JsValue, JsValue>;
}

const DOCS: &str = "docs";
const META: &str = "meta";

/// Why local storage failed (full, unavailable, blocked), in the browser's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError(pub String);

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn error(value: JsValue) -> StorageError {
    let text = value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"));
    StorageError(text)
}

/// A document's saved bytes.
pub async fn load_doc(id: &str) -> Result<Option<Vec<u8>>, StorageError> {
    let value = idb_get(DOCS, id).await.map_err(error)?;
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    Ok(Some(Uint8Array::new(&value).to_vec()))
}

/// Saves a document's bytes (the whole document; automerge compresses it).
pub async fn save_doc(id: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let array = Uint8Array::from(bytes);
    idb_put(DOCS, id, &array).await.map_err(error)?;
    Ok(())
}

/// Ids of every document on the phone.
pub async fn doc_ids() -> Result<Vec<String>, StorageError> {
    let keys = idb_keys(DOCS).await.map_err(error)?;
    Ok(js_sys::Array::from(&keys)
        .iter()
        .filter_map(|k| k.as_string())
        .collect())
}

/// Removes a document.
pub async fn delete_doc(id: &str) -> Result<(), StorageError> {
    idb_delete(DOCS, id).await.map_err(error)?;
    Ok(())
}

/// A small record.
pub async fn load_meta(key: &str) -> Result<Option<String>, StorageError> {
    let value = idb_get(META, key).await.map_err(error)?;
    Ok(value.as_string())
}

/// Saves a small record.
pub async fn save_meta(key: &str, value: &str) -> Result<(), StorageError> {
    idb_put(META, key, &JsValue::from_str(value))
        .await
        .map_err(error)?;
    Ok(())
}

/// Forgets everything (sign-out of another person on a shared phone).
pub async fn clear() -> Result<(), StorageError> {
    idb_clear().await.map_err(error)?;
    Ok(())
}
