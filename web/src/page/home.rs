//! The first screen: what the app is for, and that it works offline.

use leptos::prelude::*;

use crate::i18n::{Key, use_i18n};

/// The start page.
#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" aria-labelledby="home-title">
            <h1 id="home-title">{move || i18n.t(Key::HomeTitle)}</h1>
            <p>{move || i18n.t(Key::HomeIntro)}</p>
            <ol class="steps">
                <li>{move || i18n.t(Key::StepSelfAssess)}</li>
                <li>{move || i18n.t(Key::StepAppraise)}</li>
                <li>{move || i18n.t(Key::StepRecognize)}</li>
            </ol>
            <p class="hint">{move || i18n.t(Key::OfflineReady)}</p>
        </section>
    }
}
