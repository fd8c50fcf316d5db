//! Reports (báo cáo) of a reviewing body: 6-monthly (1/1–30/6) and yearly — pass rates, charts
//! of the period (where the dossiers stood, totals against the pass line, each criterion's
//! average against its minimum, progress against the year's targets month by month from `GET
//! /api/overview/months`), communes below each criterion's minimum, targets met —
//! printable, with CSV and XLSX downloads made by the server.

use leptos::prelude::*;

use crate::api::{self, Report};
use crate::i18n::{Lang, use_i18n};

/// `/reports`.
#[component]
pub fn ReportPage() -> impl IntoView {
    let i18n = use_i18n();
    let documents = crate::session::use_session().documents;
    // The year shown: the one chosen, else the latest round among the person's assessments (as
    // the overview opens), else this year.
    let chosen = RwSignal::new(None::<u16>);
    let year = Memo::new(move |_| {
        chosen
            .get()
            .unwrap_or_else(|| documents.with(|d| crate::page::latest_round(d)))
    });
    let period = RwSignal::new("year".to_owned());
    let report = RwSignal::new(None::<Result<Report, api::ApiError>>);
    // Progress against the year's targets month by month (the overview's chart), asked beside
    // the report; `None` until it comes, or when it cannot (the report shows without it).
    let months = RwSignal::new(None::<Vec<api::MonthProgress>>);
    // Each request has a generation; only the answer to the latest one is shown, so a slow
    // answer for an earlier choice never replaces a later one. An answer that arrives after the
    // page was left finds the generation disposed and is dropped (`try_`: never a panic).
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (y, p) = (year.get(), period.get());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        report.set(None);
        months.set(None);
        let half = p == "h1";
        leptos::task::spawn_local(async move {
            let answer = api::report(y, &p).await;
            if generation.try_get_value() == Some(mine) {
                report.set(Some(answer));
            }
        });
        leptos::task::spawn_local(async move {
            let answer = api::overview_months(y).await.ok();
            if generation.try_get_value() == Some(mine) {
                // The first half year's report shows its own six months.
                months.set(answer.map(|mut list| {
                    list.retain(|m| !half || m.month <= 6);
                    list
                }));
            }
        });
    });
    let download = move |ext: &str| {
        format!(
            "/api/reports.{ext}?year={}&period={}",
            year.get(),
            period.get()
        )
    };
    let print = |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <nav class="crumbs no-print"><a href="/">{i18n.pick_fn("← Trang chính", "← Home")}</a></nav>
        <section class="card no-print">
            <h1>{i18n.pick_fn("Báo cáo", "Reports")}</h1>
            <div class="filters">
                <label class="block">
                    <span>{i18n.pick_fn("Năm", "Year")}</span>
                    <input type="number" min="2000" max="2100" prop:value=move || year.get().to_string()
                        on:change=move |ev| { if let Ok(y) = event_target_value(&ev).parse::<u16>() { chosen.set(Some(y)) } }/>
                </label>
                <label class="block">
                    <span>{i18n.pick_fn("Kỳ báo cáo", "Period")}</span>
                    <select on:change=move |ev| period.set(event_target_value(&ev))>
                        <option value="year">{i18n.pick_fn("Cả năm", "Whole year")}</option>
                        <option value="h1">{i18n.pick_fn("6 tháng đầu năm (1/1–30/6)", "First half (1 Jan–30 Jun)")}</option>
                    </select>
                </label>
            </div>
            <div class="actions">
                <button type="button" on:click=print>{i18n.pick_fn("In báo cáo", "Print")}</button>
                <a class="button secondary" href=move || download("csv") download="">"CSV"</a>
                <a class="button secondary" href=move || download("xlsx") download="">"XLSX"</a>
            </div>
        </section>
        {move || match report.get() {
            None => view! { <p class="card hint">"…"</p> }.into_any(),
            Some(Err(api::ApiError::Unreachable)) => view! {
                <p class="card hint">{i18n.pick_fn("Báo cáo cần có mạng.", "Reports need the network.")}</p>
            }.into_any(),
            Some(Err(err)) => view! { <p class="card error" role="alert">{crate::page::api_problem(i18n, &err)}</p> }.into_any(),
            Some(Ok(r)) => view! { <ReportBody report=r months=months.read_only()/> }.into_any(),
        }}
    }
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

#[component]
fn ReportBody(
    report: Report,
    months: ReadSignal<Option<Vec<api::MonthProgress>>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let vi = move || i18n.lang() == Lang::Vi;
    let r = report.clone();
    let heading = move || {
        if vi() {
            format!(
                "Báo cáo {} ({} – {})",
                if r.period == "h1" {
                    "6 tháng đầu năm"
                } else {
                    "năm"
                },
                r.from,
                r.to
            )
        } else {
            format!(
                "{} report ({} – {})",
                if r.period == "h1" {
                    "Half-year"
                } else {
                    "Yearly"
                },
                r.from,
                r.to
            )
        }
    };
    let (as_of, ended) = (report.as_of.clone(), report.period_ended);
    let as_of_line = move || {
        let date = as_of.clone();
        match (vi(), ended) {
            (true, true) => format!(
                "Trạng thái hồ sơ tính đến hết ngày {date} (theo ngày ghi trên từng bước); điểm và kết quả theo hồ sơ hiện tại."
            ),
            (true, false) => format!(
                "Kỳ báo cáo chưa kết thúc: trạng thái hồ sơ tính đến ngày {date}; điểm và kết quả theo hồ sơ hiện tại."
            ),
            (false, true) => format!(
                "Statuses as they stood at the end of {date} (by the date recorded with each step); points and verdicts as they are now."
            ),
            (false, false) => format!(
                "The period has not ended: statuses as of {date}; points and verdicts as they are now."
            ),
        }
    };
    let rows = report.rows.clone();
    let below = report.criteria.clone();
    let targets = report.targets.clone();
    let (communes, submitted, approved, passing) = (
        report.communes,
        report.submitted,
        report.approved,
        report.passing,
    );
    view! {
        <section class="card report" aria-labelledby="report-title" data-testid="report" data-year=report.year.to_string()>
            <h2 id="report-title">{heading}</h2>
            <p class="hint" data-testid="as-of">{as_of_line}</p>
            <table class="figures">
                <tbody>
                    <tr><th>{i18n.pick_fn("Số xã đánh giá", "Communes assessed")}</th><td data-testid="communes">{communes}</td></tr>
                    <tr><th>{i18n.pick_fn("Đã nộp hồ sơ", "Submitted")}</th><td>{submitted}" ("{percent(submitted, communes)}")"</td></tr>
                    <tr><th>{i18n.pick_fn("Đã được thông qua", "Approved")}</th><td data-testid="approved">{approved}" ("{percent(approved, communes)}")"</td></tr>
                    <tr><th>{i18n.pick_fn("Đạt (kết quả hiện tại: thẩm định nếu đã chấm, nếu không thì tự chấm)", "Passing (current verdict: the review's once scored, else the self score)")}</th><td>{passing}" ("{percent(passing, communes)}")"</td></tr>
                </tbody>
            </table>
            {(!targets.is_empty()).then(|| view! {
                <h3>{i18n.pick_fn("Mục tiêu", "Targets")}</h3>
                <ul>
                    {targets.into_iter().map(|t| view! {
                        <li>{move || if vi() {
                            format!("{}: {} / {} xã được thông qua", if t.kind == "maintain" { "Duy trì" } else { "Đạt mới" }, t.approved, t.communes)
                        } else {
                            format!("{}: {} of {} communes approved", if t.kind == "maintain" { "Maintain" } else { "Reach" }, t.approved, t.communes)
                        }}</li>
                    }).collect_view()}
                </ul>
            })}
            <h3>{i18n.pick_fn("Biểu đồ", "Charts")}</h3>
            {crate::chart::round_charts(i18n, &rows)}
            {move || months.get().filter(|m| m.iter().any(|m| m.communes > 0)).map(|m| view! {
                <div class="chart-grid" data-testid="report-months">
                    <crate::chart::MonthsChart i18n=i18n months=m/>
                </div>
            })}
            <h3>{i18n.pick_fn("Xã dưới mức tối thiểu của tiêu chí", "Communes below a criterion's minimum")}</h3>
            {below.iter().all(|c| c.below_minimum.is_empty()).then(|| view! {
                <p class="hint">{i18n.pick_fn("Không có xã nào.", "None.")}</p>
            })}
            <ul class="below">
                {below.into_iter().filter(|c| !c.below_minimum.is_empty()).map(|c| {
                    let name = if i18n.lang() == Lang::En && !c.name_en.is_empty() { c.name_en.clone() } else { c.name_vi.clone() };
                    let list = c.below_minimum.iter().map(|b| format!("{} ({}/{})", b.commune_name.clone().unwrap_or_else(|| b.commune.clone()), i18n.num(b.points), i18n.num(b.required))).collect::<Vec<_>>().join(", ");
                    view! { <li><strong>{c.id.clone()}" "{name}": "</strong>{list}</li> }
                }).collect_view()}
            </ul>
        </section>
    }
}
