//! Evidence files (tệp minh chứng) on the phone, through `js/media.js`: a picked photo or PDF is
//! prepared (images downscaled to 1600 px JPEG with EXIF orientation applied and location
//! dropped, a 320 px thumbnail beside it, SHA-256 of each) and kept in IndexedDB **before** the
//! evidence entry naming it is written to the document; an outbox uploads what is kept whenever
//! the phone is online. The byte handling is JavaScript (the browser's decoder, canvas and
//! WebCrypto): the wasm only asks and shows.
//!
//! Each file's state ([`FileState`]) is one map, refreshed whenever `media.js` fires
//! `tramyte-files`. The service worker answers `GET /api/files/{sha}` from the phone's copy, so
//! `<img src>` and links name the server's path and open offline too.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::i18n::I18n;

#[wasm_bindgen(module = "/js/media.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = mediaAttach)]
    async fn media_attach(file: &web_sys::File, commune: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = mediaStates)]
    async fn media_states() -> Result<JsValue, JsValue>;
    // Imported by the wasm straight from the snippet's path (no shim in the glue): `cargo xtask
    // pwa` renames the snippet but keeps that path as the glue's key for it.
    #[wasm_bindgen(js_name = mediaStart)]
    fn media_start();
    #[wasm_bindgen(js_name = mediaKick)]
    fn media_kick();
    #[wasm_bindgen(catch, js_name = mediaKeep)]
    async fn media_keep(json: &str) -> Result<JsValue, JsValue>;
}

/// The event `media.js` fires on `window` when a file's state changes.
const EVENT: &str = "tramyte-files";

/// A file attached on this phone, as the evidence entry records it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Attached {
    pub sha256: String,
    pub media_type: String,
    pub size: u64,
    pub name: String,
    pub thumbnail: Option<String>,
}

/// Where a file the phone holds is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Only on this phone (chỉ có trên máy này): waiting for the network.
    Local,
    /// Being uploaded now.
    Uploading,
    /// On the server.
    Server,
    /// The server refused it (permanent), with its reason.
    Refused(String),
}

impl FileState {
    /// The state in the interface's language.
    pub fn label(&self, i18n: I18n) -> String {
        match self {
            FileState::Local => i18n
                .pick("Chỉ có trên máy này", "Only on this phone")
                .into(),
            FileState::Uploading => i18n.pick("Đang tải lên", "Uploading").into(),
            FileState::Server => i18n.pick("Đã lên máy chủ", "On the server").into(),
            FileState::Refused(reason) => format!(
                "{} ({reason})",
                i18n.pick("Máy chủ từ chối tệp này", "The server refused this file")
            ),
        }
    }

    /// A stable word for tests and styles.
    pub fn code(&self) -> &'static str {
        match self {
            FileState::Local => "local",
            FileState::Uploading => "uploading",
            FileState::Server => "server",
            FileState::Refused(_) => "refused",
        }
    }
}

#[derive(Deserialize)]
struct StateRow {
    sha: String,
    state: String,
    reason: Option<String>,
}

/// The files this phone holds and their states, provided as context.
#[derive(Clone, Copy)]
pub struct Media {
    pub states: RwSignal<HashMap<String, FileState>>,
}

impl Media {
    /// A file's state, when the phone holds it.
    pub fn state(&self, sha: &str) -> Option<FileState> {
        self.states.with(|s| s.get(sha).cloned())
    }

    /// Reads every state again.
    pub fn refresh(self) {
        leptos::task::spawn_local(async move {
            let Ok(value) = media_states().await else {
                return;
            };
            let rows: Vec<StateRow> = serde_wasm_json(&value).unwrap_or_default();
            let map = rows
                .into_iter()
                .map(|row| {
                    let state = match row.state.as_str() {
                        "uploading" => FileState::Uploading,
                        "server" => FileState::Server,
                        "refused" => FileState::Refused(row.reason.unwrap_or_default()),
                        _ => FileState::Local,
                    };
                    (row.sha, state)
                })
                .collect();
            self.states.set(map);
        });
    }
}

/// A JS value through JSON (the few small records `media.js` returns).
fn serde_wasm_json<T: serde::de::DeserializeOwned>(value: &JsValue) -> Option<T> {
    let text = js_sys::JSON::stringify(value).ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

/// Provides [`Media`] and keeps it current.
pub fn provide_media() -> Media {
    let media = Media {
        states: RwSignal::new(HashMap::new()),
    };
    provide_context(media);
    let handle = window_event_listener_untyped(EVENT, move |_| media.refresh());
    // The app lives as long as the page: the listener is never removed.
    std::mem::forget(handle);
    media.refresh();
    media
}

/// The media states provided by the app.
pub fn use_media() -> Media {
    expect_context::<Media>()
}

/// Starts the outbox (uploads what waits now and whenever the phone is online).
pub fn start() {
    media_start();
}

/// Asks the outbox to try now (the sync connection came back).
pub fn kick() {
    media_kick();
}

/// Keeps these files of the person's own commune on the phone (each one not held yet is
/// downloaded, when online): `(sha, commune)` pairs.
pub fn keep(files: Vec<(String, String)>) {
    #[derive(serde::Serialize)]
    struct Wanted {
        sha: String,
        commune: String,
    }
    let list: Vec<Wanted> = files
        .into_iter()
        .map(|(sha, commune)| Wanted { sha, commune })
        .collect();
    let Ok(json) = serde_json::to_string(&list) else {
        return;
    };
    leptos::task::spawn_local(async move {
        let _ = media_keep(&json).await;
    });
}

/// Prepares and keeps `file` for `commune`; resolves once IndexedDB has committed it. The error
/// is for the person to read.
pub async fn attach(file: &web_sys::File, commune: &str, i18n: I18n) -> Result<Attached, String> {
    match media_attach(file, commune).await {
        Ok(value) => serde_wasm_json(&value).ok_or_else(|| "unexpected answer".to_owned()),
        Err(error) => {
            let code = js_sys::Reflect::get(&error, &JsValue::from_str("code"))
                .ok()
                .and_then(|c| c.as_string())
                .unwrap_or_default();
            let message = js_sys::Reflect::get(&error, &JsValue::from_str("message"))
                .ok()
                .and_then(|c| c.as_string())
                .unwrap_or_default();
            Err(match code.as_str() {
                "too_large" => i18n
                    .pick(
                        "Tệp PDF lớn hơn 10 MB nên không đính kèm được. Hãy chụp ảnh từng trang hoặc nén tệp lại.",
                        "This PDF is larger than 10 MB and cannot be attached. Photograph the pages or compress it.",
                    )
                    .into(),
                "unsupported" => i18n
                    .pick(
                        "Chỉ đính kèm được ảnh hoặc tệp PDF.",
                        "Only photos and PDF files can be attached.",
                    )
                    .into(),
                "unreadable" => i18n
                    .pick(
                        "Không đọc được ảnh này. Hãy chụp lại hoặc chọn ảnh khác.",
                        "This image could not be read. Take it again or pick another.",
                    )
                    .into(),
                _ => format!(
                    "{}: {message}",
                    i18n.pick("Không lưu được tệp trên máy", "The file could not be kept")
                ),
            })
        }
    }
}
