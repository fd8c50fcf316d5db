//! The reviewer's pages (overview, reports, administration) as routes loaded on demand.
//!
//! With the `split` feature (the PWA that `cargo xtask` builds) each page's view is a Leptos
//! `#[lazy]` function: `wasm_split_cli_support` moves the code only it reaches into a wasm file of
//! its own, fetched the first time the route opens (and precached by the service worker, so every
//! page still opens offline). A station phone's first load leaves the reviewer's pages out.
//! Without the feature (component tests, native lints) the same routes resolve at once.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::page::admin::AdminPage;
use crate::page::overview::OverviewPage;
use crate::page::report::ReportPage;

/// A route whose page is `$page`, its view behind the lazy function `$view`.
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
                $view().await
            }
        }

        #[cfg_attr(feature = "split", leptos::lazy)]
        async fn $view() -> AnyView {
            view! { <$page/> }.into_any()
        }
    };
}

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
    /// `/admin`: users and units.
    AdminRoute,
    admin_view,
    AdminPage
);
