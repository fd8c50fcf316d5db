//! Thin wrappers over the browser: local storage, `<html lang>`, network status, persistent
//! storage and the service worker's "new version" signal (raised by `static/pwa.js`).
//!
//! Every function here tolerates a missing API (old browsers, tests) and never panics.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;

/// The event `pwa.js` dispatches on `window` when a new version is installed and waiting.
pub const UPDATE_EVENT: &str = "tramyte-update-available";

/// Reads a value from `localStorage`.
pub fn load_local(key: &str) -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    storage.get_item(key).ok()?
}

/// Writes a value to `localStorage`; whether it was written (not when storage is unavailable
/// or full).
pub fn store_local(key: &str, value: &str) -> bool {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        storage.set_item(key, value).is_ok()
    } else {
        false
    }
}

/// Whether `localStorage` holds a value for `key`.
pub fn has_local(key: &str) -> bool {
    load_local(key).is_some()
}

/// Sets `<html lang="…">`, so screen readers pronounce the interface correctly.
pub fn set_document_lang(tag: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", tag);
    }
}

/// Removes the "loading…" placeholder of `index.html` once the app is about to render.
pub fn remove_boot_placeholder() {
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
}

/// Whether the browser believes it is online, updated by its `online`/`offline` events.
pub fn online_signal() -> ReadSignal<bool> {
    let initial = web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true);
    let (online, set_online) = signal(initial);
    let on = window_event_listener(leptos::ev::online, move |_| set_online.set(true));
    let off = window_event_listener(leptos::ev::offline, move |_| set_online.set(false));
    on_cleanup(move || {
        on.remove();
        off.remove();
    });
    online
}

/// Whether the window is wide enough for the desk's table (at least [`WIDE_SCREEN_PX`] CSS
/// pixels), updated as it is resized; phones keep one card per row.
pub fn wide_screen_signal() -> ReadSignal<bool> {
    let width = || {
        web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .unwrap_or(0.0)
    };
    let (wide, set_wide) = signal(width() >= WIDE_SCREEN_PX);
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        let now = width() >= WIDE_SCREEN_PX;
        if now != wide.get_untracked() {
            set_wide.set(now);
        }
    });
    on_cleanup(move || handle.remove());
    wide
}

/// The narrowest window, in CSS pixels, that shows the desk's table.
pub const WIDE_SCREEN_PX: f64 = 900.0;

/// Becomes `true` when a new version of the app is waiting to take over.
pub fn update_available_signal() -> ReadSignal<bool> {
    let already = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("__tramyteUpdate")).ok())
        .is_some_and(|worker| !worker.is_undefined() && !worker.is_null());
    let (available, set_available) = signal(already);
    let handle = window_event_listener_untyped(UPDATE_EVENT, move |_| set_available.set(true));
    on_cleanup(move || handle.remove());
    available
}

/// Activates the waiting version and reloads (see `window.tramyteApplyUpdate` in `pwa.js`).
pub fn apply_update() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let apply = js_sys::Reflect::get(&window, &JsValue::from_str("tramyteApplyUpdate"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match apply {
        Some(apply) => drop(apply.call0(&window)),
        None => drop(window.location().reload()),
    }
}

/// Asks for persistent storage. `Some(true)` when granted, `Some(false)` when refused, `None`
/// when the browser has no such API.
pub async fn request_persistent_storage() -> Option<bool> {
    let storage = web_sys::window()?.navigator().storage();
    let persisted = wasm_bindgen_futures::JsFuture::from(storage.persisted().ok()?)
        .await
        .ok()?;
    if persisted.as_bool() == Some(true) {
        return Some(true);
    }
    let granted = wasm_bindgen_futures::JsFuture::from(storage.persist().ok()?)
        .await
        .ok()?;
    granted.as_bool()
}

/// Removes a value from `localStorage`.
pub fn remove_local(key: &str) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.remove_item(key);
    }
}

/// Reloads the page.
pub fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Sets a named mark on the page's performance timeline (`performance.mark`), which benchmarks
/// read to tell where time goes; nothing when the API is missing.
pub fn mark(name: &str) {
    let performance = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("performance")).ok());
    let Some(performance) = performance.filter(|p| !p.is_undefined()) else {
        return;
    };
    if let Some(mark) = js_sys::Reflect::get(&performance, &JsValue::from_str("mark"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        let _ = mark.call1(&performance, &JsValue::from_str(name));
    }
}

/// Now, unix milliseconds (the device's clock).
pub fn now_millis() -> i64 {
    js_sys::Date::now() as i64
}

/// A unix-millisecond time as `dd/mm/yyyy hh:mm` in the device's time zone.
pub fn format_time(millis: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    format!(
        "{} {:02}:{:02}",
        format_date(millis),
        date.get_hours(),
        date.get_minutes()
    )
}

/// A unix-millisecond time's day as `dd/mm/yyyy` in the device's time zone.
pub fn format_date(millis: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    format!(
        "{:02}/{:02}/{}",
        date.get_date(),
        date.get_month() + 1,
        date.get_full_year()
    )
}

/// Resolves at the page's next animation frame, before it is painted (at once without a
/// window).
pub async fn next_frame() {
    resolved_by(|window, resolve| window.request_animation_frame(resolve)).await;
}

/// Resolves in a task of its own (`setTimeout` 0), so the page can paint and answer input in
/// between (at once without a window).
pub async fn next_task() {
    resolved_by(|window, resolve| window.set_timeout_with_callback(resolve)).await;
}

/// Resolves when the window calls back the function `ask` hands it (at once without a window,
/// or when the window refuses).
async fn resolved_by(ask: impl Fn(&web_sys::Window, &js_sys::Function) -> Result<i32, JsValue>) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let asked = web_sys::window().map(|w| ask(&w, &resolve));
        if !matches!(asked, Some(Ok(_))) {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Asks the person to confirm (the browser's own dialog); `false` when it cannot ask.
pub fn confirm(message: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}
