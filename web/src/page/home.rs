//! The start page: sign in, then the communes of one's scope with their current assessment.

use leptos::prelude::*;
use tramyte_shared::assessment::{self, Side};
use tramyte_shared::policy::Role;
use tramyte_shared::scoring::{self, Verdict};
use tramyte_shared::sync::document_id::DocumentId;

use crate::api::{ApiError, DocumentRow};
use crate::i18n::{I18n, Key, Lang, use_i18n};
use crate::page::{catalog_at, role_name, status_name, verdict_class, verdict_name};
use crate::session::use_session;

/// The start page.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    let signed_in = move || session.me.with(Option::is_some);
    let expired = session.expired;
    view! {
        <Show when=signed_in fallback=|| view! { <Intro/> <SignInForm/> }>
            <Show when=move || expired.get()>
                <SignInForm/>
            </Show>
            <Communes/>
        </Show>
    }
}

#[component]
fn Intro() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" aria-labelledby="home-title">
            <h1 id="home-title">{i18n.t_fn(Key::HomeTitle)}</h1>
            <p>{i18n.t_fn(Key::HomeIntro)}</p>
            <ol class="steps">
                <li>{i18n.t_fn(Key::StepSelfAssess)}</li>
                <li>{i18n.t_fn(Key::StepAppraise)}</li>
                <li>{i18n.t_fn(Key::StepRecognize)}</li>
            </ol>
            <p class="hint">{i18n.t_fn(Key::OfflineReady)}</p>
        </section>
    }
}

/// Sign-in: needs the network once.
#[component]
fn SignInForm() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let remembered = session
        .me
        .get_untracked()
        .map(|me| me.user.id)
        .unwrap_or_default();
    let user = RwSignal::new(remembered);
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        problem.set(None);
        let session = session.clone();
        leptos::task::spawn_local(async move {
            let result = session
                .sign_in(&user.get_untracked(), &password.get_untracked())
                .await;
            busy.set(false);
            match result {
                Ok(()) => password.set(String::new()),
                Err(err) => problem.set(Some(sign_in_problem(i18n, &err))),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="signin-title">
            <h2 id="signin-title">{i18n.pick_fn("Đăng nhập", "Sign in")}</h2>
            <form class="form" on:submit=submit>
                <label>
                    <span>{i18n.pick_fn("Tên đăng nhập", "User name")}</span>
                    <input type="text" name="user" autocomplete="username" required
                        autocapitalize="none"
                        prop:value=move || user.get()
                        on:input=move |ev| user.set(event_target_value(&ev))/>
                </label>
                <label>
                    <span>{i18n.pick_fn("Mật khẩu", "Password")}</span>
                    <input type="password" name="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {crate::page::problem_line(problem.read_only(), "error", "alert")}
                <button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { i18n.pick("Đang đăng nhập…", "Signing in…") } else { i18n.pick("Đăng nhập", "Sign in") }}
                </button>
                <p class="hint">{i18n.pick_fn(
                    "Cần có mạng để đăng nhập lần đầu; sau đó ứng dụng làm việc cả khi không có mạng.",
                    "Signing in needs the network once; afterwards the app works offline.",
                )}</p>
            </form>
        </section>
    }
}

fn sign_in_problem(i18n: I18n, err: &ApiError) -> String {
    match err {
        ApiError::Unreachable => i18n
            .pick(
                "Không kết nối được máy chủ. Hãy thử lại khi có mạng.",
                "Cannot reach the server. Try again when online.",
            )
            .to_owned(),
        ApiError::Unauthorized(_) => i18n
            .pick(
                "Sai tên đăng nhập hoặc mật khẩu.",
                "Wrong user name or password.",
            )
            .to_owned(),
        ApiError::Throttled {
            retry_after_secs, ..
        } => {
            let wait = crate::page::wait_text(i18n, *retry_after_secs);
            match i18n.lang() {
                Lang::Vi => format!(
                    "Đăng nhập sai nhiều lần từ thiết bị này. Hãy thử lại sau {wait}. \
                     Nếu quên mật khẩu, hãy nhờ quản trị viên đặt mật khẩu mới."
                ),
                Lang::En => format!(
                    "Too many failed sign-ins from this device. Try again in {wait}. \
                     If you forgot your password, ask an administrator for a new one."
                ),
            }
        }
        ApiError::Refused { message, .. } => message.clone(),
        ApiError::Unreadable(_) => crate::page::api_problem(i18n, err),
    }
}

/// The communes in scope, each with its newest assessment and its roster.
#[component]
fn Communes() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let me = session.me;
    let documents = session.documents;
    let sign_out = {
        let session = session.clone();
        move |_| {
            let session = session.clone();
            leptos::task::spawn_local(async move { session.sign_out().await });
        }
    };
    let by_commune = Memo::new(move |_| {
        let mut by_commune: std::collections::BTreeMap<String, Vec<DocumentRow>> =
            Default::default();
        for row in documents.get() {
            by_commune
                .entry(row.commune_code().to_owned())
                .or_default()
                .push(row);
        }
        by_commune.into_values().collect::<Vec<_>>()
    });
    // A reviewer may cover thousands of communes: the home page shows a few cards, those with a
    // dossier on this device first, and the overview the rest.
    let repo = session.repo.clone();
    let communes = move || {
        let mut all = by_commune.get();
        if all.len() > HOME_CARDS {
            let held = repo.held();
            all.sort_by_key(|rows| !rows.iter().any(|r| held.contains(&r.id)));
            all.truncate(HOME_CARDS);
        }
        all
    };
    let more = move || by_commune.with(Vec::len).saturating_sub(HOME_CARDS);
    view! {
        <section class="card who">
            <div>
                <strong data-testid="signed-in-as">{move || me.get().map(|m| m.user.display_name)}</strong>
                <span class="hint">" · "{move || me.get().map(|m| role_name(i18n, m.user.role))}</span>
            </div>
            <button type="button" class="secondary" on:click=sign_out>
                {i18n.pick_fn("Đăng xuất", "Sign out")}
            </button>
        </section>
        <Show when=move || matches!(me.get().map(|m| m.user.role), Some(Role::Reviewer | Role::ProvincialAdmin | Role::SystemAdmin))>
            <a class="button wide" href="/overview">{i18n.pick_fn("Tổng quan kỳ đánh giá", "Round overview")}</a>
            <a class="button secondary wide" href="/reports">{i18n.pick_fn("Báo cáo", "Reports")}</a>
            <a class="button secondary wide" href="/catalogs">{i18n.pick_fn("Bộ tiêu chí và bảng chấm điểm", "Criteria sets and indicator sheets")}</a>
        </Show>
        <Show when=move || matches!(me.get().map(|m| m.user.role), Some(Role::ProvincialAdmin | Role::SystemAdmin))>
            <a class="button secondary wide" href="/admin">{i18n.pick_fn("Quản trị người dùng và đơn vị", "Users and units")}</a>
        </Show>
        <Show when=move || documents.with(Vec::is_empty)>
            <p class="card hint">{i18n.pick_fn(
                "Chưa có hồ sơ nào trên máy. Khi có mạng, danh sách sẽ được tải về.",
                "No documents on this phone yet. They download when the phone is online.",
            )}</p>
        </Show>
        <For each=communes key=|rows| rows.first().map(|r| r.commune_code().to_owned()) let:rows>
            <CommuneCard rows=rows/>
        </For>
        <Show when=move || { more() > 0 }>
            <p class="card hint" data-testid="more-communes">
                {move || match i18n.lang() {
                    Lang::Vi => format!("Và {} xã khác: xem ở ", more()),
                    Lang::En => format!("And {} more communes: see the ", more()),
                }}
                <a href="/overview">{i18n.pick_fn("tổng quan kỳ đánh giá", "round overview")}</a>"."
            </p>
        </Show>
    }
}

/// Most commune cards the home page shows.
const HOME_CARDS: usize = 30;

/// One commune: its station, the current round's assessment and the roster.
#[component]
fn CommuneCard(rows: Vec<DocumentRow>) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let first = rows.first().cloned();
    let name = first
        .as_ref()
        .map(DocumentRow::commune_label)
        .unwrap_or_default();
    let mut assessments: Vec<DocumentRow> = rows
        .iter()
        .filter(|r| r.kind == "assessment")
        .cloned()
        .collect();
    assessments.sort_by_key(|r| std::cmp::Reverse(r.round));
    let roster = rows.iter().find(|r| r.kind == "roster").cloned();
    let current = assessments.first().cloned();
    let older: Vec<DocumentRow> = assessments.iter().skip(1).cloned().collect();
    let repo = session.repo.clone();
    let live = current.clone().map(|row| {
        let repo = repo.clone();
        move || {
            let id: DocumentId = row.id.parse().ok()?;
            repo.read(&id, |doc| {
                let view = assessment::read_assessment(doc).ok()?;
                let catalog = catalog_at(&view.catalog, view.catalog_revision)?;
                let side = Side::SelfAssessment;
                let report = scoring::score(&catalog, &view, side).ok()?;
                Some((view.workflow().status, report))
            })
            .flatten()
        }
    });
    let summary = move || {
        let row = current.clone()?;
        let (status, total, max, verdict, missing, conflicts) =
            match live.as_ref().and_then(|f| f()) {
                Some((status, report)) => {
                    let missing = report
                        .reasons
                        .iter()
                        .find_map(|r| match r {
                            scoring::Reason::Incomplete { missing } => Some(missing.len()),
                            _ => None,
                        })
                        .unwrap_or(0);
                    (
                        Some(status.name().to_owned()),
                        i18n.num(report.total),
                        i18n.num(report.max),
                        Some(report.verdict),
                        missing,
                        report.conflicts.len(),
                    )
                }
                None => (
                    row.status.clone(),
                    row.self_total
                        .map(|t| i18n.num(t))
                        .unwrap_or_else(|| "–".into()),
                    "100".into(),
                    row.verdict.as_deref().and_then(Verdict::parse),
                    0,
                    usize::try_from(row.open_conflicts).unwrap_or(0),
                ),
            };
        let href = format!("/assessment/{}", row.id);
        let round = row.round.map(|r| r.to_string()).unwrap_or_default();
        Some(view! {
            <div class="current">
                <p>
                    {i18n.pick_fn("Kỳ đánh giá ", "Round ")}{round.clone()}
                    " · "
                    <span class="badge" data-testid="status">{status.as_deref().map(|s| status_name(i18n, s)).unwrap_or_default()}</span>
                </p>
                <p class="score">
                    <span data-testid="self-total">{total}</span>" / "{max}
                    " "
                    <span class=verdict_class(verdict)>
                        {verdict.map(|v| verdict_name(i18n, v)).unwrap_or_default()}
                    </span>
                </p>
                <Show when=move || { missing > 0 }>
                    <p class="hint">{move || match i18n.lang() {
                        crate::i18n::Lang::Vi => format!("Còn {missing} mục chưa chấm"),
                        crate::i18n::Lang::En => format!("{missing} items not scored yet"),
                    }}</p>
                </Show>
                <Show when=move || { conflicts > 0 }>
                    <p class="warn">{move || match i18n.lang() {
                        crate::i18n::Lang::Vi => format!("{conflicts} mục có giá trị xung đột"),
                        crate::i18n::Lang::En => format!("{conflicts} items with conflicting values"),
                    }}</p>
                </Show>
                <a class="button" href=href.clone()>{i18n.pick_fn("Mở phiếu đánh giá", "Open the assessment")}</a>
            </div>
        })
    };
    view! {
        <section class="card commune" data-commune=first.as_ref().map(|r| r.commune_code().to_owned())>
            <h2>{name}</h2>
            {summary}
            <div class="links">
                {roster.map(|r| view! {
                    <a class="button secondary" href=format!("/roster/{}", r.id)>
                        {i18n.pick_fn("Nhân lực và y tế thôn bản", "Staff and village health workers")}
                    </a>
                })}
                {older.into_iter().map(|r| {
                    let label = format!("{}", r.round.unwrap_or_default());
                    view! { <a class="button secondary" href=format!("/assessment/{}", r.id)>{label}</a> }
                }).collect_view()}
            </div>
        </section>
    }
}
