//! The app's frame: header with sync status and language switch, update banner, routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, path};

use crate::i18n::{Key, provide_i18n, use_i18n};
use crate::page::home::HomePage;
use crate::page::not_found::NotFoundPage;
use crate::platform;
use crate::repo::Link;
use crate::session::{provide_session, use_session};
use crate::split::{
    AdminRoute, AssessmentRoute, CatalogsRoute, MinutesRoute, OverviewRoute, ReportRoute,
    RosterRoute, SelfSheetRoute,
};

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    provide_i18n();
    let me = provide_session().me;
    crate::media::provide_media();
    let names = crate::names::provide_names();
    Effect::new(move |_| {
        if let Some(me) = me.get() {
            names.learn(&me.user.id, &me.user.display_name);
        }
    });
    view! {
        <Router>
            <Header/>
            <SyncStatus/>
            <UpdateBanner/>
            <main id="main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/assessment/:id") view={Lazy::<AssessmentRoute>::new()}/>
                    <Route path=path!("/assessment/:id/self-sheet") view={Lazy::<SelfSheetRoute>::new()}/>
                    <Route path=path!("/assessment/:id/minutes") view={Lazy::<MinutesRoute>::new()}/>
                    <Route path=path!("/roster/:id") view={Lazy::<RosterRoute>::new()}/>
                    // The reviewer's pages, loaded on demand (see `split`).
                    <Route path=path!("/overview") view={Lazy::<OverviewRoute>::new()}/>
                    <Route path=path!("/reports") view={Lazy::<ReportRoute>::new()}/>
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()}/>
                    <Route path=path!("/catalogs") view={Lazy::<CatalogsRoute>::new()}/>
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
            <a class="brand" href="/" aria-label=i18n.t_fn(Key::AppTagline)>
                <img src="/icons/icon-192.png" alt="" width="32" height="32"/>
                <span>{i18n.t_fn(Key::AppName)}</span>
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
                aria-label=i18n.t_fn(Key::SwitchLanguageLabel)
                on:click=switch
            >
                {i18n.t_fn(Key::SwitchLanguage)}
            </button>
        </header>
    }
}

/// The sync line: connected or not, local changes not yet on the server, last full sync.
#[component]
fn SyncStatus() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let status = session.repo.status;
    let signed_in = move || session.me.with(Option::is_some);
    let link = move || match status.link.get() {
        Link::Online => i18n.pick("Đã kết nối máy chủ", "Connected to the server"),
        Link::Connecting => i18n.pick("Đang kết nối…", "Connecting…"),
        Link::Offline => i18n.pick(
            "Chưa kết nối — vẫn làm việc bình thường",
            "Not connected — keep working",
        ),
    };
    let pending = move || {
        let n = status.pending.get();
        match (n, i18n.lang()) {
            (0, crate::i18n::Lang::Vi) => "Mọi thay đổi đã lên máy chủ".to_owned(),
            (0, crate::i18n::Lang::En) => "Every change is on the server".to_owned(),
            (n, crate::i18n::Lang::Vi) => format!("{n} thay đổi chưa đồng bộ"),
            (n, crate::i18n::Lang::En) => format!("{n} changes not yet synced"),
        }
    };
    let last = move || {
        status.last_sync.get().map(|at| {
            format!(
                "{} {}",
                i18n.pick("Đồng bộ lần cuối", "Last synced"),
                platform::format_time(at)
            )
        })
    };
    let expired = session.expired;
    view! {
        <Show when=signed_in>
            <div class="sync" role="status" aria-live="polite" data-testid="sync-status"
                 data-link=move || format!("{:?}", status.link.get()).to_lowercase()
                 data-pending=move || status.pending.get().to_string()>
                <span class="dot" class:on=move || status.link.get() == Link::Online></span>
                <span>{link}</span>
                <span class="pending" data-testid="pending">{pending}</span>
                <span class="last">{last}</span>
            </div>
            {crate::page::problem_line(status.problem, "notice", "alert")}
            <Show when=move || expired.get()>
                <p class="notice" role="alert">
                    {i18n.pick_fn(
                        "Phiên đăng nhập đã hết hạn. Dữ liệu trên máy vẫn còn; hãy đăng nhập lại để đồng bộ.",
                        "Your session has ended. Data on this phone is kept; sign in again to sync.",
                    )}
                </p>
            </Show>
        </Show>
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
                <span>{i18n.t_fn(Key::UpdateAvailable)}</span>
                <button type="button" on:click=|_| platform::apply_update()>
                    {i18n.t_fn(Key::Reload)}
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
            <p class="notice" role="note">{i18n.t_fn(Key::StorageNotPersistent)}</p>
        </Show>
    }
}
