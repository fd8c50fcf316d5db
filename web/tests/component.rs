//! Component tests in headless Chromium (`wasm-bindgen-test`): the app mounts, speaks
//! Vietnamese by default and remembers the switch to English.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // tests unwrap what they just built

use tramyte_web::app::App;
use tramyte_web::i18n::STORAGE_KEY;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A fresh container for one mount (the test runner keeps its own output in `<body>`).
fn container() -> web_sys::HtmlElement {
    let element: web_sys::HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    document().body().unwrap().append_child(&element).unwrap();
    element
}

fn heading(root: &web_sys::HtmlElement) -> String {
    root.query_selector("h1")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap()
}

async fn next_tick() {
    let promise = js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL);
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_app_mounts_in_vietnamese_and_the_switch_to_english_is_remembered() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.remove_item(STORAGE_KEY).unwrap();
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), App);
    next_tick().await;
    assert_eq!(heading(&root), "Trạm Y tế xã");
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("vi")
    );

    let switch: web_sys::HtmlElement = root
        .query_selector("button[aria-label='Chuyển sang tiếng Anh']")
        .unwrap()
        .expect("the language switch has an accessible label")
        .dyn_into()
        .unwrap();
    switch.click();
    next_tick().await;
    assert_eq!(heading(&root), "Commune health station");
    assert_eq!(
        storage.get_item(STORAGE_KEY).unwrap().as_deref(),
        Some("en")
    );
    drop(handle);
    root.remove();

    // A fresh mount (a reload) starts in the remembered language.
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), App);
    next_tick().await;
    assert_eq!(heading(&root), "Commune health station");
    drop(handle);
    root.remove();
    storage.remove_item(STORAGE_KEY).unwrap();
}

#[wasm_bindgen_test]
async fn every_button_has_an_accessible_name() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), App);
    next_tick().await;
    let buttons = root.query_selector_all("button").unwrap();
    assert!(buttons.length() > 0);
    for index in 0..buttons.length() {
        let button: web_sys::Element = buttons.item(index).unwrap().dyn_into().unwrap();
        let label = button.get_attribute("aria-label").unwrap_or_default();
        let text = button.text_content().unwrap_or_default();
        assert!(
            !label.trim().is_empty() || !text.trim().is_empty(),
            "button {index} has a name"
        );
    }
    drop(handle);
    root.remove();
}
