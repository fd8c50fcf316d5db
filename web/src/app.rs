//! The app's frame: header with network status and language switch, update banner, routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::i18n::{Key, provide_i18n, use_i18n};
use crate::page::home::HomePage;
use crate::page::not_found::NotFoundPage;
use crate::platform;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    provide_i18n();
    view! {
        <Router>
            <Header/>
            <UpdateBanner/>
            <main id="main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage/>
                </Routes>
            </main>
            <StorageNotice/>
        </Router>
    }
}

/// Brand, network status and the language switch.
#[component]
fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let online = platform::online_signal();
    let switch = move |_| i18n.set(i18n.lang().other());
    view! {
        <header class="topbar">
            <a class="brand" href="/" aria-label=move || i18n.t(Key::AppTagline)>
                <img src="/icons/icon-192.png" alt="" width="32" height="32"/>
                <span>{move || i18n.t(Key::AppName)}</span>
            </a>
            <span
                class="net"
                class:offline=move || !online.get()
                role="status"
                data-testid="network-status"
            >
                {move || if online.get() { i18n.t(Key::Online) } else { i18n.t(Key::Offline) }}
            </span>
            <button
                type="button"
                class="lang"
                aria-label=move || i18n.t(Key::SwitchLanguageLabel)
                on:click=switch
            >
                {move || i18n.t(Key::SwitchLanguage)}
            </button>
        </header>
    }
}

/// "A new version is available — reload", shown when a new service worker is waiting.
#[component]
fn UpdateBanner() -> impl IntoView {
    let i18n = use_i18n();
    let available = platform::update_available_signal();
    view! {
        <Show when=move || available.get()>
            <div class="banner" role="alert">
                <span>{move || i18n.t(Key::UpdateAvailable)}</span>
                <button type="button" on:click=|_| platform::apply_update()>
                    {move || i18n.t(Key::Reload)}
                </button>
            </div>
        </Show>
    }
}

/// Asks for persistent storage once and says what a refusal risks.
#[component]
fn StorageNotice() -> impl IntoView {
    let i18n = use_i18n();
    let granted = LocalResource::new(platform::request_persistent_storage);
    let refused = move || matches!(granted.get(), Some(Some(false)));
    view! {
        <Show when=refused>
            <p class="notice" role="note">{move || i18n.t(Key::StorageNotPersistent)}</p>
        </Show>
    }
}
