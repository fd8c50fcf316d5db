//! The evidence files' pieces of the editors (assessment items, roster people): the buttons that
//! take a photo or pick a file, and one attached file as the lists show it (thumbnail, a link
//! that opens it full size, where it is).
//!
//! Thumbnails and files are named by the server's path, `/api/files/{sha}`: the service worker
//! answers from the phone's copy when it holds one (so they show offline, even before upload),
//! the server otherwise. A file the server does not have yet (attached on another phone that has
//! not uploaded it) shows as such.

use leptos::prelude::*;
use tramyte_shared::files::{AttachedFile, MediaType};
use tramyte_shared::id::EvidenceId;
use wasm_bindgen::JsCast;

use crate::i18n::use_i18n;
use crate::media::{Attached, use_media};
use crate::platform;

/// The files an `<input type=file>`'s change event carries; the input is emptied, so picking
/// the same file again fires again.
pub fn take_files(ev: &leptos::ev::Event) -> Vec<web_sys::File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let files = input
        .files()
        .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
        .unwrap_or_default();
    input.set_value("");
    files
}

/// A fresh entry id and the entry's file fields for a file just kept on the phone.
pub fn entry_parts(kept: &Attached) -> Option<(EvidenceId, AttachedFile)> {
    let prefix: String = kept.sha256.chars().take(8).collect();
    let id = EvidenceId::parse(&format!("e{}-{prefix}", platform::now_millis())).ok()?;
    let file = AttachedFile {
        sha256: kept.sha256.clone(),
        media_type: MediaType::parse(&kept.media_type)?,
        size: kept.size,
        name: kept.name.clone(),
        thumbnail: kept.thumbnail.clone(),
    };
    Some((id, file))
}

/// Keeps each picked file on the phone (IndexedDB committed, [`crate::media::attach`]) and then
/// hands `write` its name and the new entry's id and file fields, one file after another; a
/// file that cannot be kept is said in `problem` and skipped. The order (kept first, entry
/// second) means a reload in between leaves a kept file no entry names, never an entry without
/// its file.
pub async fn keep_each(
    files: Vec<web_sys::File>,
    commune: &str,
    i18n: crate::i18n::I18n,
    problem: RwSignal<Option<String>>,
    mut write: impl FnMut(String, EvidenceId, AttachedFile),
) {
    for file in files {
        let kept = match crate::media::attach(&file, commune, i18n).await {
            Ok(kept) => kept,
            Err(message) => {
                problem.set(Some(message));
                continue;
            }
        };
        if let Some((id, attached)) = entry_parts(&kept) {
            write(kept.name, id, attached);
        }
    }
}

/// "Take a photo" (the camera) and "Pick a photo or PDF" (gallery, files); `on_files` gets the
/// input's change event (read it with [`take_files`]).
#[component]
pub fn AttachButtons<F>(on_files: F, busy: RwSignal<bool>) -> impl IntoView
where
    F: Fn(leptos::ev::Event) + Clone + 'static,
{
    let i18n = use_i18n();
    let camera = on_files.clone();
    view! {
        <div class="attach">
            <label class="button secondary">
                {i18n.pick_fn("Chụp ảnh", "Take a photo")}
                <input type="file" accept="image/*" capture="environment" class="visually-hidden"
                    data-testid="evidence-photo" disabled=move || busy.get()
                    on:change=camera/>
            </label>
            <label class="button secondary">
                {i18n.pick_fn("Chọn ảnh hoặc PDF", "Pick a photo or PDF")}
                <input type="file" accept="image/*,application/pdf" multiple class="visually-hidden"
                    data-testid="evidence-file" disabled=move || busy.get()
                    on:change=on_files/>
            </label>
            <Show when=move || busy.get()>
                <span class="hint" role="status">{i18n.pick_fn("Đang xử lý tệp…", "Preparing the file…")}</span>
            </Show>
        </div>
    }
}

/// One attached file: its thumbnail (or its kind), opening full size, and where it is.
#[component]
pub fn FileView(file: AttachedFile) -> impl IntoView {
    let i18n = use_i18n();
    let media = use_media();
    let missing = RwSignal::new(false);
    let sha = file.sha256.clone();
    let state = Memo::new(move |_| media.state(&sha));
    let href = format!("/api/files/{}", file.sha256);
    let preview = match &file.thumbnail {
        Some(thumbnail) => view! {
            <img src=format!("/api/files/{thumbnail}") alt="" loading="lazy" decoding="async"
                data-testid="evidence-thumbnail" on:error=move |_| missing.set(true)/>
        }
        .into_any(),
        None => view! { <span class="file-kind">"PDF"</span> }.into_any(),
    };
    view! {
        <a class="evidence-file" href=href target="_blank" rel="noopener" data-testid="evidence-open"
            title=file.name.clone()>
            {preview}
        </a>
        <span class="hint file-state" data-testid="file-state"
            data-state=move || state.get().map(|s| s.code()).unwrap_or(if missing.get() { "missing" } else { "" })>
            {move || match state.get() {
                Some(s) => s.label(i18n),
                None if missing.get() => i18n.pick("Chưa có trên máy chủ", "Not on the server yet").into(),
                None => String::new(),
            }}
        </span>
    }
}
