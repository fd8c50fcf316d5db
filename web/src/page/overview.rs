//! The reviewer's overview (tổng quan): every commune in scope for a round with status, self and
//! review score, verdict, open conflicts and last activity; filter and sort; progress against the
//! year's targets; charts of the round; a filter by reviewing unit (the communes its coverage
//! includes). On a wide screen the communes are a table with a heat map
//! of the criteria ([`crate::desk`]); a phone keeps one card per commune. Read from the server's
//! summaries; the last answer is kept for offline use.

use std::sync::Arc;

use leptos::prelude::*;

use crate::api::{self, ApiError, DocumentRow, Overview};
use crate::chart::round_charts;
use crate::desk::{Column, DeskTable, Sort, sort_rows};
use crate::i18n::{Lang, use_i18n};
use crate::page::{api_problem, status_name, verdict_class, verdict_name};
use crate::platform;
use crate::session::use_session;
use tramyte_shared::points::Points;
use tramyte_shared::scoring::Verdict;
use tramyte_shared::workflow::Status;

/// Where the last overview answer is kept for offline use (`.2`: answers whose rows come in
/// the server's Vietnamese order; the previous key's answers are dropped).
const CACHE_KEY: &str = "tramyte.overview.2";
/// The previous [`CACHE_KEY`].
const OLD_CACHE_KEY: &str = "tramyte.overview";

/// Rows of an answer decoded in one task after its first rows: about 25 ms of a desktop's
/// time at 4× slowdown, so the page paints and answers input between them.
const ROWS_PER_TASK: usize = 1_000;

/// An overview as the page holds it: the answer without its rows, and the rows each behind an
/// `Arc`, so the table, the cards, the filters and the charts share them instead of copying
/// 10,000 rows at every step. The rows come in the communes' Vietnamese order (the server's).
#[derive(Clone)]
struct Shown {
    overview: Overview,
    rows: Vec<Arc<DocumentRow>>,
    /// Whether every row is decoded. Until then `rows` are the first rows of the answer, then
    /// one [`crate::desk::pending_row`] for each row still to decode: the table shows the
    /// first screen and its full length, in the default order; filters, other orders, the
    /// charts and the targets editor wait for every row.
    complete: bool,
}

impl Shown {
    /// A whole answer.
    fn of(mut overview: Overview) -> Shown {
        let rows = std::mem::take(&mut overview.documents)
            .into_iter()
            .map(Arc::new)
            .collect();
        Shown {
            overview,
            rows,
            complete: true,
        }
    }

    /// An answer of which only the first rows are decoded, of `overview.count` rows.
    fn first(overview: Overview) -> Shown {
        let count = overview.count;
        let mut shown = Shown::of(overview);
        let pending = Arc::new(crate::desk::pending_row());
        shown.rows.resize(count.max(shown.rows.len()), pending);
        shown.complete = false;
        shown
    }

    /// The rest of the answer's rows, decoded (the first rows' `Arc`s stay, so the rows
    /// already drawn are not drawn again).
    fn complete(&mut self, more: Vec<DocumentRow>) {
        self.rows.retain(|r| !crate::desk::is_pending(r));
        self.rows.extend(more.into_iter().map(Arc::new));
        self.complete = true;
    }
}
/// The largest overview kept for offline use.
const CACHE_MAX_BYTES: usize = 1 << 20;

/// `/overview`.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let i18n = use_i18n();
    let names = crate::names::use_names();
    let session = use_session();
    let documents = session.documents;
    // Reviewers set the targets of their own unit.
    let my_unit = session.me.with_untracked(|me| {
        me.as_ref()
            .filter(|m| m.user.role == tramyte_shared::policy::Role::Reviewer)
            .and_then(|m| m.user.units.first().cloned())
    });
    // The round shown: the one the reviewer typed, else the latest round among their documents
    // (followed as the list arrives after sign-in), else this year.
    let chosen = RwSignal::new(None::<u16>);
    let round = Memo::new(move |_| {
        chosen
            .get()
            .unwrap_or_else(|| documents.with(|d| crate::page::latest_round(d)))
    });
    platform::remove_local(OLD_CACHE_KEY);
    let data = RwSignal::new(cached());
    let problem = RwSignal::new(None::<String>);
    let status_filter = RwSignal::new(String::new());
    let verdict_filter = RwSignal::new(String::new());
    // A reviewing unit's code: only the communes its coverage includes.
    let unit_filter = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new(Sort {
        column: Column::Commune,
        descending: false,
    });
    let wide = platform::wide_screen_signal();
    let refetch = RwSignal::new(0u32);
    // Each ask is numbered: an answer that comes back after a newer ask was made (a slow first
    // load, then a save's refetch) is stale and dropped, never shown over the newer one.
    let asked = StoredValue::new(0u64);
    // The session's list of documents waits for the first answer and all its rows (see
    // `Session::hold_documents`); released the frame after them, or when the answer fails.
    session.hold_documents();
    Effect::new(move |_| {
        let round = round.get();
        refetch.track();
        let ask = asked.get_value() + 1;
        asked.set_value(ask);
        let session = session.clone();
        leptos::task::spawn_local(async move {
            let answer = api::overview(round).await;
            // Stale, or the page was left meanwhile (its values are disposed).
            let current = move || asked.try_get_value() == Some(ask);
            if current() {
                show_answer(answer, data, problem, i18n, current).await;
            }
            // After the frame that draws the rows (whether this page is still open or not).
            platform::next_frame().await;
            platform::next_task().await;
            session.release_documents();
        });
    });
    // Progress against the targets month by month, asked on its own (the overview stays quick).
    let months = RwSignal::new(None::<Vec<api::MonthProgress>>);
    let months_asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        let round = round.get();
        refetch.track();
        let ask = months_asked.get_value() + 1;
        months_asked.set_value(ask);
        leptos::task::spawn_local(async move {
            let answer = api::overview_months(round).await.ok();
            if months_asked.try_get_value() == Some(ask) {
                months.set(answer);
            }
        });
    });
    // Opening a round creates one assessment per commune in scope; twice creates nothing new.
    let opened = RwSignal::new(None::<String>);
    let open_round = move |_| {
        let year = round.get_untracked();
        leptos::task::spawn_local(async move {
            let catalog = tramyte_shared::catalog::shipped_catalogs()
                .first()
                .map(|c| c.code.to_string())
                .unwrap_or_default();
            match api::open_round(year, &catalog).await {
                Ok(done) => {
                    let round = match i18n.lang() {
                        Lang::Vi => format!("Kỳ {year}"),
                        Lang::En => format!("Round {year}"),
                    };
                    opened.set(Some(crate::page::round_opened_text(i18n, &round, &done)));
                    refetch.update(|n| *n += 1);
                }
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    let editor_communes = Memo::new(move |_| {
        let round = round.get();
        data.with(|d| {
            d.as_ref()
                .filter(|d| d.overview.round == round && d.complete)
                .map(|d| {
                    d.rows
                        .iter()
                        .map(|r| (r.commune_code().to_owned(), r.commune_label()))
                        .collect::<Vec<(String, String)>>()
                })
                .unwrap_or_default()
        })
    });
    // Every row of the round shown, in the communes' Vietnamese order (the server's).
    let round_rows = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .filter(|d| d.overview.round == round.get())
                .map(|d| d.rows.clone())
                .unwrap_or_default()
        })
    });
    // Whether every row of the answer is decoded (see `Shown::complete`).
    let complete = Memo::new(move |_| data.with(|d| d.as_ref().is_none_or(|d| d.complete)));
    let rows = Memo::new(move |_| {
        let sort = sort.get();
        let mut rows = round_rows.get();
        if !complete.get() {
            // The first rows in the answer's order; filters and orders once every row is read.
            return rows;
        }
        let status = status_filter.get();
        if !status.is_empty() {
            rows.retain(|r| r.status.as_deref() == Some(status.as_str()));
        }
        let unit = unit_filter.get();
        if !unit.is_empty() {
            let covered: std::collections::HashSet<String> = data.with_untracked(|d| {
                d.as_ref()
                    .and_then(|d| d.overview.units.iter().find(|u| u.code == unit))
                    .map(|u| u.communes.iter().cloned().collect())
                    .unwrap_or_default()
            });
            rows.retain(|r| covered.contains(r.commune_code()));
        }
        let verdict = verdict_filter.get();
        if !verdict.is_empty() {
            rows.retain(|r| r.verdict.as_deref().unwrap_or("none") == verdict);
        }
        let needle = search.get().trim().to_lowercase();
        if !needle.is_empty() {
            rows.retain(|r| {
                r.commune_code().contains(&needle)
                    || r.commune_label().to_lowercase().contains(&needle)
            });
        }
        sort_rows(&mut rows, sort);
        rows
    });
    // The criterion columns: those of the first row scored against a catalog.
    let criteria = Memo::new(move |_| {
        round_rows.with(|rows| {
            rows.iter()
                .find(|r| !r.criteria.is_empty())
                .map(|r| r.criteria.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    // Whether the round shown has rows (the targets editor is offered then).
    let has_rows = Memo::new(move |_| round_rows.with(|rows| !rows.is_empty()));
    // The charts read every row of the round: they are drawn once the rows have been painted
    // (the frame after new rows, then a task), so the table never waits for them.
    let charts_drawn = RwSignal::new(0u32);
    Effect::new(move |_| {
        round_rows.track();
        request_animation_frame(move || {
            set_timeout(
                move || charts_drawn.update(|n| *n += 1),
                std::time::Duration::ZERO,
            );
        });
    });
    let statuses = Status::ALL.map(Status::name);
    view! {
        <nav class="crumbs"><a href="/">{i18n.pick_fn("← Trang chính", "← Home")}</a></nav>
        <section class="card" aria-labelledby="overview-title">
            <h1 id="overview-title">{i18n.pick_fn("Tổng quan kỳ đánh giá", "Round overview")}</h1>
            <label class="block">
                <span>{i18n.pick_fn("Kỳ (năm)", "Round (year)")}</span>
                <input type="number" min="2000" max="2100" prop:value=move || round.get().to_string()
                    on:change=move |ev| { if let Ok(r) = event_target_value(&ev).parse::<u16>() { chosen.set(Some(r)) } }/>
            </label>
            {crate::page::problem_line(problem.read_only(), "notice", "status")}
            <Show when=move || data.with(|d| d.as_ref().is_some_and(|d| d.overview.round == round.get() && d.rows.is_empty()))>
                <p class="hint">{i18n.pick_fn("Kỳ này chưa được mở cho xã nào.", "This round is not open for any commune yet.")}</p>
            </Show>
            <button type="button" class="secondary" on:click=open_round>
                {move || match i18n.lang() {
                    Lang::Vi => format!("Mở kỳ đánh giá {} cho các xã phụ trách", round.get()),
                    Lang::En => format!("Open round {} for the communes covered", round.get()),
                }}
            </button>
            <a href="/catalogs">{i18n.pick_fn("Mở theo bộ tiêu chí, lần sửa đổi khác…", "Open on another criteria set or revision…")}</a>
            <Show when=move || opened.with(Option::is_some)>
                <p class="hint" role="status" data-testid="round-opened">{move || opened.get()}</p>
            </Show>
            {move || data.with(|d| d.as_ref().filter(|d| d.overview.round == round.get())
                .map(|d| (d.overview.targets.clone(), d.overview.by_status.clone())))
                .map(|(targets, by_status)| {
                view! {
                    <ul class="targets" data-testid="targets">
                        {targets.into_iter().map(|t| {
                            let percent = (t.approved * 100).checked_div(t.communes).unwrap_or(0);
                            let text = match (i18n.lang(), t.kind.as_str()) {
                                (Lang::Vi, "maintain") => format!("Duy trì: {} / {} xã đã được thông qua", t.approved, t.communes),
                                (Lang::Vi, _) => format!("Mục tiêu năm: {} / {} xã đã được thông qua", t.approved, t.communes),
                                (Lang::En, "maintain") => format!("To maintain: {} of {} communes approved", t.approved, t.communes),
                                (Lang::En, _) => format!("This year's target: {} of {} communes approved", t.approved, t.communes),
                            };
                            view! {
                                <li>
                                    <span>{text}</span>
                                    <progress max="100" value=percent.to_string()></progress>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <p class="hint">
                        {by_status.into_iter().map(|(s, n)| format!("{}: {n}", status_name(i18n, &s))).collect::<Vec<_>>().join(" · ")}
                    </p>
                }
            })}
            <div class="filters">
                <label class="block">
                    <span>{i18n.pick_fn("Trạng thái", "Status")}</span>
                    <select on:change=move |ev| status_filter.set(event_target_value(&ev))>
                        <option value="">{i18n.pick_fn("Tất cả", "All")}</option>
                        {statuses.into_iter().map(|s| view! { <option value=s>{move || status_name(i18n, s)}</option> }).collect_view()}
                    </select>
                </label>
                <label class="block">
                    <span>{i18n.pick_fn("Kết luận", "Verdict")}</span>
                    <select on:change=move |ev| verdict_filter.set(event_target_value(&ev))>
                        <option value="">{i18n.pick_fn("Tất cả", "All")}</option>
                        {[Verdict::Pass, Verdict::Fail, Verdict::Incomplete].map(|v| view! {
                            <option value=v.name()>{move || verdict_name(i18n, v)}</option>
                        }).collect_view()}
                        <option value="none">{i18n.pick_fn("Chưa có", "None yet")}</option>
                    </select>
                </label>
                <label class="block">
                    <span>{i18n.pick_fn("Đơn vị thẩm định", "Reviewing unit")}</span>
                    <select on:change=move |ev| unit_filter.set(event_target_value(&ev))>
                        <option value="">{i18n.pick_fn("Tất cả", "All")}</option>
                        {move || data.with(|d| d.as_ref().map(|d| d.overview.units.iter()
                            .map(|u| (u.code.clone(), u.name.clone())).collect::<Vec<_>>()).unwrap_or_default())
                            .into_iter().map(|(code, name)| {
                                let chosen = code.clone();
                                view! { <option value=code selected=move || unit_filter.get() == chosen>{name}</option> }
                            }).collect_view()}
                    </select>
                </label>
                <label class="block">
                    <span>{i18n.pick_fn("Tìm xã", "Find a commune")}</span>
                    <input type="search" prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))/>
                </label>
                <Show when=move || !wide.get()>
                    <label class="block">
                        <span>{i18n.pick_fn("Sắp xếp", "Sort by")}</span>
                        <select on:change=move |ev| sort.set(match event_target_value(&ev).as_str() {
                            "score" => Sort { column: Column::SelfTotal, descending: true },
                            "activity" => Sort { column: Column::Activity, descending: true },
                            _ => Sort { column: Column::Commune, descending: false },
                        })>
                            <option value="commune" selected=move || sort.get().column == Column::Commune>{i18n.pick_fn("Tên xã", "Commune")}</option>
                            <option value="score" selected=move || sort.get().column == Column::SelfTotal>{i18n.pick_fn("Điểm tự chấm", "Self score")}</option>
                            <option value="activity" selected=move || sort.get().column == Column::Activity>{i18n.pick_fn("Hoạt động gần nhất", "Last activity")}</option>
                        </select>
                    </label>
                </Show>
            </div>
        </section>
        {move || {
            let unit = my_unit.clone()?;
            let round = round.get();
            // Built once per round, not on every refresh of the overview (the cached answer,
            // then the server's): a choice being made stays. Its communes follow the answer.
            has_rows.get().then(|| view! {
                <TargetsEditor unit=unit round=round communes=editor_communes.into() on_saved=move || refetch.update(|n| *n += 1)/>
            })
        }}
        <Show when=move || wide.get() fallback=move || view! {
            <section class="card">
            <ul class="overview-rows" data-testid="overview-rows">
                <For each=move || rows.get().into_iter().filter(|r| !crate::desk::is_pending(r)) key=|r| (r.id.clone(), r.status.clone(), r.last_change_at, r.self_total) let:row>
                    <li data-commune=row.commune.clone() data-status=row.status.clone().unwrap_or_default()>
                        <a href=format!("/assessment/{}", row.id)><strong>{row.commune_label()}</strong></a>
                        <span class="badge">{let s = row.status.clone().unwrap_or_default(); move || status_name(i18n, &s)}</span>
                        <span>
                            {i18n.pick_fn("Tự chấm ", "Self ")}{let total = row.self_total; move || total.map(|t| i18n.num(t)).unwrap_or_else(|| "–".into())}
                            " · "{i18n.pick_fn("Thẩm định ", "Review ")}{let total = row.review_total; move || total.map(|t| i18n.num(t)).unwrap_or_else(|| "–".into())}
                        </span>
                        {let verdict = row.verdict.as_deref().and_then(Verdict::parse);
                         view! { <span class=verdict_class(verdict)>{move || verdict.map(|v| verdict_name(i18n, v))}</span> }}
                        {(row.open_conflicts > 0).then(|| {
                            let n = row.open_conflicts;
                            let name = move || match i18n.lang() {
                                Lang::Vi => format!("{n} xung đột chưa giải quyết"),
                                Lang::En => format!("{n} open conflicts"),
                            };
                            view! { <span class="warn" role="img" data-testid="conflict-count" aria-label=name title=name>{format!("⚠ {n}")}</span> }
                        })}
                        {row.changed_after_submission.clone().map(|late| {
                            let items = late.items.join(", ");
                            let by = late.by.clone();
                            view! {
                                <span class="warn" data-testid="changed-after-submission"
                                    title=move || format!("{}{items} — {}", i18n.pick("Trạm đã thay đổi sau khi nộp: ", "Changed by the station after submission: "),
                                        by.iter().map(|id| names.of(id)).collect::<Vec<_>>().join(", "))>
                                    {i18n.pick_fn("✎ sửa sau khi nộp", "✎ changed after submission")}
                                </span>
                            }
                        })}
                        <span class="hint">{row.last_change_at.map(platform::format_time)}{row.last_change_by.clone().map(|b| move || format!(" · {}", names.of(&b)))}</span>
                        {let repo = use_session().repo; crate::desk::keep_offline_button(i18n, repo.clone(), row.id.clone(), row.commune_label(), crate::desk::held_signal(repo, row.id.clone()))}
                    </li>
                </For>
            </ul>
            </section>
        }>
            <section class="card desk-wide">
                <DeskTable i18n=i18n names=names rows=rows sort=sort criteria=criteria/>
            </section>
        </Show>
        {move || {
            // Drawn after the rows have been shown (see `charts_drawn`).
            charts_drawn.track();
            let rows = round_rows.get_untracked();
            (complete.get_untracked() && !rows.is_empty()).then(|| view! {
                <section class="card charts" aria-labelledby="charts-title" data-testid="overview-charts">
                    <h2 id="charts-title">{i18n.pick_fn("Biểu đồ của kỳ", "Charts of the round")}</h2>
                    {let charts = round_charts(i18n, &rows); platform::mark("overview:charts"); charts}
                    {move || months.get().filter(|m| m.iter().any(|m| m.communes > 0)).map(|m| view! {
                        <crate::chart::MonthsChart i18n=i18n months=m/>
                    })}
                </section>
            })
        }}
    }
}

/// The overview answer last kept for offline use.
fn cached() -> Option<Shown> {
    platform::load_local(CACHE_KEY)
        .and_then(|json| serde_json::from_str(&json).ok())
        .map(Shown::of)
}

/// Shows an overview answer: its first rows at once, then the frame after, once the rest has
/// arrived, the other rows a part per task, while `current` says the answer is still the one
/// wanted (no newer ask, the page not left); or the problem.
async fn show_answer(
    answer: Result<(Overview, api::Arriving), ApiError>,
    data: RwSignal<Option<Shown>>,
    problem: RwSignal<Option<String>>,
    i18n: crate::i18n::I18n,
    current: impl Fn() -> bool,
) {
    let unreachable = || {
        i18n.pick(
            "Không có mạng: đang hiển thị số liệu lần tải trước.",
            "Offline: showing the figures last downloaded.",
        )
        .to_owned()
    };
    let (overview, arriving) = match answer {
        Ok(answer) => answer,
        Err(ApiError::Unreachable) => {
            problem.set(Some(unreachable()));
            return;
        }
        Err(err) => {
            problem.set(Some(api_problem(i18n, &err)));
            return;
        }
    };
    let first = overview.documents.len();
    let count = overview.count;
    // An answer that does not say how many rows it has is shown when all are read.
    let partial = count > first;
    let mut whole = None;
    if partial {
        problem.set(None);
        data.set(Some(Shown::first(overview)));
        platform::next_frame().await;
        platform::next_task().await;
    } else {
        whole = Some(Shown::of(overview));
    }
    let (rest, kept) = match arriving.arrived(CACHE_MAX_BYTES).await {
        Ok(arrived) => arrived,
        // Cut off after its first rows: the answer last kept, if any, rather than a part.
        Err(err) => {
            if current() {
                data.set(cached());
                problem.set(Some(match err {
                    ApiError::Unreachable => unreachable(),
                    err => api_problem(i18n, &err),
                }));
            }
            return;
        }
    };
    if !current() {
        return;
    }
    problem.set(None);
    let Some(mut rest) = rest else {
        keep(kept);
        if let Some(shown) = whole {
            data.set(Some(shown));
        } else {
            data.update(|d| {
                if let Some(d) = d {
                    d.complete(Vec::new());
                }
            });
        }
        return;
    };
    let mut more = Vec::with_capacity(count.saturating_sub(first));
    loop {
        if !current() {
            return;
        }
        match rest.next(ROWS_PER_TASK) {
            Ok((rows, next)) => {
                more.extend(rows);
                match next {
                    Some(next) => rest = next,
                    None => break,
                }
            }
            // A broken row: the answer last kept, if any, rather than a part.
            Err(err) => {
                data.set(cached());
                problem.set(Some(api_problem(i18n, &err)));
                return;
            }
        }
        if partial {
            platform::next_task().await;
        }
    }
    platform::mark("overview:decoded");
    if !current() {
        return;
    }
    keep(kept);
    match whole {
        Some(mut shown) => {
            shown.complete(more);
            data.set(Some(shown));
        }
        None => data.update(|d| {
            if let Some(d) = d {
                d.complete(more);
            }
        }),
    }
}

/// Keeps an answer read whole and without fault for offline use, when it was small enough to
/// keep: the browser keeps about 5 MB for the whole app, so a province's overview is not kept
/// (the last one kept is dropped, so it is never shown as current), nor one the browser
/// refuses to keep (its storage full).
fn keep(kept: Option<Vec<u8>>) {
    let kept = match kept.as_deref().map(std::str::from_utf8) {
        Some(Ok(text)) => platform::store_local(CACHE_KEY, text),
        _ => false,
    };
    if !kept {
        platform::remove_local(CACHE_KEY);
    }
}

/// Most communes the targets editor shows at once.
const TARGET_ROWS_SHOWN: usize = 200;

/// The yearly targets of the signed-in reviewer's unit: per commune, reach or maintain, and a
/// local minimum total when stricter than the national rule.
#[component]
pub fn TargetsEditor(
    unit: String,
    round: u16,
    communes: Signal<Vec<(String, String)>>,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let choices = RwSignal::new(std::collections::BTreeMap::<String, (String, String)>::new());
    let problem = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    // The rows are built only while the editor is open, and at most [`TARGET_ROWS_SHOWN`] of
    // them (narrowed by a name): a province's thousands of communes stay out of the page.
    let opened = RwSignal::new(false);
    let narrow = RwSignal::new(String::new());
    let shown_communes = Memo::new(move |_| {
        let needle = narrow.get().trim().to_lowercase();
        communes.with(|all| {
            all.iter()
                .filter(|(code, name)| {
                    needle.is_empty()
                        || code.contains(&needle)
                        || name.to_lowercase().contains(&needle)
                })
                .take(TARGET_ROWS_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let communes_len = Memo::new(move |_| communes.with(Vec::len));
    {
        let unit = unit.clone();
        leptos::task::spawn_local(async move {
            match api::targets(&unit, round).await {
                Ok(list) => choices.set(
                    list.into_iter()
                        .map(|t| {
                            let min = t.local_min_score.map(|m| m.to_string()).unwrap_or_default();
                            (t.commune, (t.kind, min))
                        })
                        .collect(),
                ),
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    }
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // A minimum that is not a number of half points is said, never dropped in silence.
        let mut targets: Vec<api::Target> = Vec::new();
        for (commune, (kind, min)) in choices.get_untracked() {
            let Some(kind) = api::TargetKind::parse(&kind) else {
                continue;
            };
            let min = min.replace(',', ".");
            let local_min_score = match min.trim() {
                "" => None,
                text => match text
                    .parse::<f64>()
                    .ok()
                    .and_then(|v| Points::from_f64(v).ok())
                {
                    Some(points) if points <= Points::whole(100) => Some(points),
                    _ => {
                        problem.set(Some(match i18n.lang() {
                            Lang::Vi => format!("Điểm tối thiểu của xã {commune} phải từ 0 đến 100, theo bước 0,5 (ví dụ 95 hoặc 92,5)."),
                            Lang::En => format!("The minimum of commune {commune} must be 0 to 100 in steps of 0.5 (e.g. 95 or 92.5)."),
                        }));
                        saved.set(false);
                        return;
                    }
                },
            };
            targets.push(api::Target {
                commune,
                kind,
                local_min_score,
            });
        }
        let unit = unit.clone();
        leptos::task::spawn_local(async move {
            match api::set_targets(&unit, round, &targets).await {
                Ok(()) => {
                    problem.set(None);
                    saved.set(true);
                    on_saved();
                }
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    view! {
        <details class="card targets-editor" on:toggle=move |ev| {
            use wasm_bindgen::JsCast;
            let is_open = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| el.has_attribute("open"));
            opened.set(is_open);
        }>
            <summary>{move || match i18n.lang() {
                Lang::Vi => format!("Giao mục tiêu năm {round}"),
                Lang::En => format!("Set the targets of {round}"),
            }}</summary>
            <form class="form" on:submit=save>
                <Show when=move || { communes_len.get() > TARGET_ROWS_SHOWN }>
                    <label class="block">
                        <span>{i18n.pick_fn("Tìm xã", "Find a commune")}</span>
                        <input type="search" prop:value=move || narrow.get()
                            on:input=move |ev| narrow.set(event_target_value(&ev))/>
                    </label>
                    <p class="hint">{move || {
                        let (shown, total) = (shown_communes.with(Vec::len), communes_len.get());
                        match i18n.lang() {
                            Lang::Vi => format!("Hiển thị {shown} / {total} xã; gõ tên để tìm xã khác. Mục tiêu đã chọn của mọi xã đều được lưu."),
                            Lang::En => format!("Showing {shown} of {total} communes; type a name to find others. The targets chosen for every commune are saved."),
                        }
                    }}</p>
                </Show>
                {move || opened.get().then(|| shown_communes.get().into_iter().map(|(code, name)| {
                    let kind_code = code.clone();
                    let min_code = code.clone();
                    let set_code = code.clone();
                    let set_min_code = code.clone();
                    view! {
                        <div class="target-row">
                            <span>{name.clone()}</span>
                            <select aria-label=format!("{} {name}", i18n.pick("Mục tiêu", "Target"))
                                on:change=move |ev| {
                                    let kind = event_target_value(&ev);
                                    choices.update(|c| { c.entry(set_code.clone()).or_default().0 = kind; });
                                    saved.set(false);
                                }>
                                <option value="" selected=move || choices.with(|c| c.get(&kind_code).is_none_or(|t| t.0.is_empty()))>"—"</option>
                                <option value="reach" selected={ let code = code.clone(); move || choices.with(|c| c.get(&code).is_some_and(|t| t.0 == "reach")) }>
                                    {i18n.pick_fn("Đạt chuẩn mới", "Reach")}</option>
                                <option value="maintain" selected={ let code = code.clone(); move || choices.with(|c| c.get(&code).is_some_and(|t| t.0 == "maintain")) }>
                                    {i18n.pick_fn("Duy trì", "Maintain")}</option>
                            </select>
                            <input type="number" min="0" max="100" step="0.5" inputmode="decimal"
                                aria-label=format!("{} {name}", i18n.pick("Điểm tối thiểu địa phương", "Local minimum score"))
                                placeholder=i18n.pick_fn("Tối thiểu địa phương", "Local minimum")
                                prop:value=move || choices.with(|c| c.get(&min_code).map(|t| t.1.clone()).unwrap_or_default())
                                on:input=move |ev| {
                                    let min = event_target_value(&ev);
                                    choices.update(|c| { c.entry(set_min_code.clone()).or_default().1 = min; });
                                    saved.set(false);
                                }/>
                        </div>
                    }
                }).collect_view())}
                <button type="submit">{i18n.pick_fn("Lưu mục tiêu", "Save the targets")}</button>
                <Show when=move || saved.get()>
                    <p class="hint" role="status">{i18n.pick_fn("Đã lưu.", "Saved.")}</p>
                </Show>
                {crate::page::problem_line(problem.read_only(), "error", "alert")}
            </form>
        </details>
    }
}
