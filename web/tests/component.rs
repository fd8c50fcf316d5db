//! Component tests in headless Chromium (`wasm-bindgen-test`): the app mounts, speaks
//! Vietnamese by default and remembers the switch to English; IndexedDB keeps documents; the
//! assessment editor scores as one types and offers only what the role may do.
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

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Waits up to five seconds for an element.
async fn wait_for(root: &web_sys::HtmlElement, selector: &str) -> web_sys::HtmlElement {
    for _ in 0..100 {
        if let Some(found) = root.query_selector(selector).unwrap() {
            return found.dyn_into().unwrap();
        }
        sleep(50).await;
    }
    panic!("`{selector}` did not appear");
}

#[wasm_bindgen_test]
async fn documents_and_records_survive_in_indexeddb() {
    use tramyte_web::local;
    local::save_doc("doc-a", &[1, 2, 3]).await.unwrap();
    local::save_doc("doc-a", &[4, 5]).await.unwrap();
    local::save_meta("ack:doc-a", "h1,h2").await.unwrap();
    assert_eq!(local::load_doc("doc-a").await.unwrap(), Some(vec![4, 5]));
    assert_eq!(local::load_doc("nothing").await.unwrap(), None);
    assert!(
        local::doc_ids()
            .await
            .unwrap()
            .contains(&"doc-a".to_owned())
    );
    assert_eq!(
        local::load_meta("ack:doc-a").await.unwrap().as_deref(),
        Some("h1,h2")
    );
    local::delete_doc("doc-a").await.unwrap();
    assert_eq!(local::load_doc("doc-a").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn the_editor_scores_as_one_types_and_offers_only_what_the_role_may_do() {
    use leptos::prelude::*;
    use tramyte_shared::assessment::{NewAssessment, new_assessment};
    use tramyte_shared::catalog::shipped_catalogs;
    use tramyte_shared::commune::{UnitType, Zone};
    use tramyte_shared::id::CommuneCode;
    use tramyte_shared::sync::document_id::DocumentId;
    use tramyte_web::page::assessment::AssessmentEditor;

    let catalog = shipped_catalogs().remove(0);
    let new = NewAssessment {
        commune: CommuneCode::parse("16024").unwrap(),
        round: 2024,
        zone: Zone::new(1).unwrap(),
        unit_type: UnitType::parse("xa").unwrap(),
    };
    let mut doc = new_assessment(&catalog, &new, 0).unwrap();
    let id = DocumentId::from_bytes([7; 16]);
    tramyte_web::local::save_doc(&id.to_string(), &doc.save())
        .await
        .unwrap();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.remove_item(STORAGE_KEY).unwrap();
    storage
        .set_item(
            "tramyte.me",
            r#"{"user":{"id":"nv1","display_name":"NV 1","role":"station_staff","units":["16024"]},"communes":["16024"],"expires_at":0}"#,
        )
        .unwrap();

    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        tramyte_web::i18n::provide_i18n();
        tramyte_web::session::provide_session();
        view! { <AssessmentEditor id=id/> }
    });
    let input: web_sys::HtmlInputElement = wait_for(&root, "input[aria-label='Điểm tự chấm TC1']")
        .await
        .dyn_into()
        .unwrap();
    assert!(!input.disabled(), "station staff score their station");
    let total = || {
        root.query_selector("[data-testid=total]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    assert_eq!(total(), "0");
    input.set_value("12");
    input
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    next_tick().await;
    assert_eq!(total(), "12", "the total follows the input at once");

    // Above the maximum: refused with a message, nothing written.
    input.set_value("15");
    input
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    next_tick().await;
    assert_eq!(total(), "12");
    let alert = wait_for(&root, "[data-item=TC1] [role=alert]").await;
    assert!(
        alert.text_content().unwrap().contains("14"),
        "the message names the maximum"
    );

    let buttons: Vec<String> = (0..root.query_selector_all("button").unwrap().length())
        .filter_map(|i| root.query_selector_all("button").unwrap().item(i))
        .filter_map(|b| b.text_content())
        .collect();
    assert!(
        !buttons.iter().any(|b| b == "Nộp hồ sơ" || b == "Thông qua"),
        "station staff may neither submit nor approve: {buttons:?}"
    );
    let verdict = wait_for(&root, "[data-testid=verdict]").await;
    assert_eq!(verdict.text_content().unwrap(), "Chưa đủ");

    // The edit reached the phone's storage.
    sleep(200).await;
    let saved = tramyte_web::local::load_doc(&id.to_string())
        .await
        .unwrap()
        .unwrap();
    let saved = automerge::AutoCommit::load(&saved).unwrap();
    let view = tramyte_shared::assessment::read_assessment(&saved).unwrap();
    assert!(view.items["TC1"].self_score.is_some());
    drop(handle);
    storage.remove_item("tramyte.me").unwrap();
    tramyte_web::local::clear().await.unwrap();
}
