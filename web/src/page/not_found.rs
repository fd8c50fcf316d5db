//! Shown for a path the app does not know.

use leptos::prelude::*;

use crate::i18n::{Key, use_i18n};

/// The fallback route.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h1>{i18n.t_fn(Key::NotFoundTitle)}</h1>
            <a class="button" href="/">{i18n.t_fn(Key::BackHome)}</a>
        </section>
    }
}
