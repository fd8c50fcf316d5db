//! Every page but the start page as a route loaded on demand: the dossier editor and the roster
//! (a station phone opens them after signing in), the reviewer's pages (overview, reports,
//! criteria sets, administration) and the printed forms.
//!
//! With the `split` feature (the PWA that `cargo xtask` builds) each page's view is a split
//! function (`wasm_split`, what Leptos's `#[lazy]` expands to): `wasm-split-cli` moves the code
//! only it reaches into a wasm file of its own, fetched the first time the route opens (and
//! precached by the service worker, so every page still opens offline). A station phone's first
//! load is the frame, the sign-in and the start page; the service worker keeps the other pages'
//! files in the background once it is installed. Should the file not load (a first visit that went
//! offline before the service worker kept it), the route says so instead of stopping the app, and
//! the next visit to the route tries again. Without the feature (component tests, native lints)
//! the same routes resolve at once.

use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;
use leptos_router::LazyRoute;

use crate::i18n::{Key, use_i18n};
use crate::page::admin::AdminPage;
use crate::page::assessment::AssessmentPage;
use crate::page::catalogs::CatalogsPage;
use crate::page::overview::OverviewPage;
use crate::page::print::{MinutesPage, SelfSheetPage};
use crate::page::report::ReportPage;
use crate::page::roster::RosterPage;

/// A route whose page is `$page`, its view behind the split function `$view`.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident, $view:ident, $page:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_: Self) -> AnyView {
                #[cfg(feature = "split")]
                let view = $view().await;
                #[cfg(not(feature = "split"))]
                let view = $view();
                view.unwrap_or_else(|_| view! { <PageUnavailable/> }.into_any())
            }
        }

        #[cfg_attr(
            feature = "split",
            leptos::wasm_split::wasm_split($view, wasm_split_path = ::leptos::wasm_split, fallible)
        )]
        fn $view() -> Result<AnyView, SplitLoaderError> {
            Ok(view! { <$page/> }.into_any())
        }
    };
}

lazy_page!(
    /// `/assessment/:id`: the dossier editor.
    AssessmentRoute,
    assessment_view,
    AssessmentPage
);
lazy_page!(
    /// `/roster/:id`: the commune's roster of staff and village health workers.
    RosterRoute,
    roster_view,
    RosterPage
);
lazy_page!(
    /// `/overview`: the reviewer's overview, targets and round opening.
    OverviewRoute,
    overview_view,
    OverviewPage
);
lazy_page!(
    /// `/reports`: the period's report and its downloads.
    ReportRoute,
    report_view,
    ReportPage
);
lazy_page!(
    /// `/catalogs`: criteria sets, their indicator sheets, and rounds on a chosen revision.
    CatalogsRoute,
    catalogs_view,
    CatalogsPage
);
lazy_page!(
    /// `/admin`: users and units.
    AdminRoute,
    admin_view,
    AdminPage
);

lazy_page!(
    /// `/assessment/:id/self-sheet`: the self-scoring sheet to print.
    SelfSheetRoute,
    self_sheet_view,
    SelfSheetPage
);
lazy_page!(
    /// `/assessment/:id/minutes`: the appraisal minutes to print.
    MinutesRoute,
    minutes_view,
    MinutesPage
);

/// A page whose code could not be loaded.
#[component]
fn PageUnavailable() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" role="alert">
            <h1>
                {i18n.pick_fn(
                    "Chưa tải được trang này",
                    "This page could not be loaded",
                )}
            </h1>
            <p>
                {i18n.pick_fn(
                    "Lần đầu mở trang này cần có mạng. Hãy thử lại khi có mạng.",
                    "The first time this page opens it needs the network. Try again when online.",
                )}
            </p>
            <a class="button" href="/">{i18n.t_fn(Key::BackHome)}</a>
        </section>
    }
}
