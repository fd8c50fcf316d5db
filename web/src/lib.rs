//! The tramyte progressive web app: Leptos, client-side rendered, offline-first.
//!
//! Architecture invariant: this crate never depends on `tramyte-server`; it talks to it only over
//! HTTP and the sync websocket, and shares `tramyte-shared` with it.

// Edits are closures returning the shared library's `DocumentError`, which carries automerge's
// errors and is large on native targets (where CI also lints this crate); it is built once per
// failed edit, so its size costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod app;
pub mod chart;
pub mod desk;
pub mod evidence;
pub mod i18n;
pub mod journal;
pub mod local;
pub mod media;
pub mod names;
pub mod page;
pub mod platform;
pub mod repo;
pub mod session;
pub mod split;

// The unit tests beside the code run in the browser, like `tests/component.rs`.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app on `<body>`, replacing the boot placeholder.
pub fn start() {
    console_error_panic_hook::set_once();
    platform::remove_boot_placeholder();
    leptos::mount::mount_to_body(app::App);
}
