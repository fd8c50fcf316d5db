//! Criteria sets (bộ tiêu chí) and their indicator sheets (bảng chấm điểm), for reviewers and
//! administrators: every revision the caller may use with its sheet to download, the empty
//! template; for provincial and system administrators an uploaded sheet checked by the server
//! (every problem at its sheet, row and column, or the criteria and indicators as they will be
//! scored) and then published as the next revision; and a round opened on a chosen revision, or
//! its open assessments moved to a newer one. Needs the network.

use leptos::prelude::*;
use tramyte_shared::catalog::{Applicability, Catalog, Measure, ScoringRule};
use tramyte_shared::commune::{UnitType, Zone};
use tramyte_shared::policy::Role;

use crate::api::{self, CatalogSummary, MovedRound, SheetAnswer, SheetProblem};
use crate::i18n::{I18n, Lang, use_i18n};
use crate::page::api_problem;
use crate::session::use_session;

/// What the last uploaded sheet turned out to be.
#[derive(Debug, Clone, PartialEq)]
enum Checked {
    Problems(Vec<SheetProblem>),
    Valid(Box<Catalog>),
}

/// `/catalogs`.
#[component]
pub fn CatalogsPage() -> impl IntoView {
    let i18n = use_i18n();
    let role = use_session()
        .me
        .with_untracked(|me| me.as_ref().map(|m| m.user.role));
    let administers = matches!(role, Some(Role::ProvincialAdmin | Role::SystemAdmin));
    let catalogs = RwSignal::new(None::<Vec<CatalogSummary>>);
    let problem = RwSignal::new(None::<String>);
    let reload = move || {
        leptos::task::spawn_local(async move {
            match api::catalogs().await {
                Ok(list) => catalogs.set(Some(list)),
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    reload();
    view! {
        <nav class="crumbs"><a href="/">{i18n.pick_fn("← Trang chính", "← Home")}</a></nav>
        <section class="card">
            <h1>{i18n.pick_fn("Bộ tiêu chí", "Criteria sets")}</h1>
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
            <p>
                <a class="button secondary" href="/api/catalogs/template.xlsx" download=""
                    data-testid="template-link">
                    {i18n.pick_fn("Tải bảng chấm điểm mẫu (XLSX)", "Download the indicator sheet template (XLSX)")}
                </a>
            </p>
            <CatalogTable catalogs=catalogs/>
        </section>
        {administers.then(|| view! { <SheetUpload on_published=reload/> })}
        <RoundOnRevision catalogs=catalogs/>
    }
}

/// Every revision the caller may use, each with its sheet to download.
#[component]
fn CatalogTable(catalogs: RwSignal<Option<Vec<CatalogSummary>>>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = move || {
        catalogs
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(move |c| {
                let href = format!(
                    "/api/catalogs/{}/sheet.xlsx?revision={}",
                    js_sys::encode_uri_component(&c.code),
                    c.revision
                );
                let title = if i18n.lang() == Lang::En && !c.title_en.is_empty() {
                    c.title_en.clone()
                } else {
                    c.title_vi.clone()
                };
                let owner = c
                    .province
                    .clone()
                    .unwrap_or_else(|| i18n.pick("Quốc gia", "National").to_owned());
                view! {
                    <tr data-catalog=c.code.clone() data-revision=c.revision.to_string()>
                        <td>{c.code.clone()}</td>
                        <td>{title}</td>
                        <td class="num">{c.revision}</td>
                        <td>{owner}</td>
                        <td class="num">{c.criteria}" / "{c.indicators}</td>
                        <td class="num">{i18n.num(c.max_points)}</td>
                        <td><a href=href download="">"XLSX"</a></td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <table class="figures-table" data-testid="catalogs">
            <thead><tr>
                <th>{i18n.pick_fn("Mã", "Code")}</th>
                <th>{i18n.pick_fn("Tên", "Title")}</th>
                <th>{i18n.pick_fn("Lần sửa đổi", "Revision")}</th>
                <th>{i18n.pick_fn("Thuộc", "Belongs to")}</th>
                <th>{i18n.pick_fn("Tiêu chí / chỉ tiêu", "Criteria / indicators")}</th>
                <th>{i18n.pick_fn("Điểm tối đa", "Max points")}</th>
                <th>{i18n.pick_fn("Bảng chấm điểm", "Sheet")}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Upload a filled sheet: every problem, or the preview, then publish.
#[component]
fn SheetUpload(on_published: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let file_input = NodeRef::<leptos::html::Input>::new();
    let checked = RwSignal::new(None::<Checked>);
    let published = RwSignal::new(None::<CatalogSummary>);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let picked = move || {
        file_input
            .get_untracked()
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
    };
    let preview = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(file) = picked() else {
            problem.set(Some(
                i18n.pick("Hãy chọn một tệp XLSX", "Choose an XLSX file")
                    .to_owned(),
            ));
            return;
        };
        busy.set(true);
        published.set(None);
        leptos::task::spawn_local(async move {
            match api::preview_sheet(&file).await {
                Ok(SheetAnswer::Valid(catalog)) => {
                    checked.set(Some(Checked::Valid(Box::new(catalog))));
                    problem.set(None);
                }
                Ok(SheetAnswer::Problems(problems)) => {
                    checked.set(Some(Checked::Problems(problems)));
                    problem.set(None);
                }
                Err(err) => {
                    checked.set(None);
                    problem.set(Some(api_problem(i18n, &err)));
                }
            }
            busy.set(false);
        });
    };
    let publish = move |_| {
        let Some(file) = picked() else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::publish_sheet(&file).await {
                Ok(SheetAnswer::Valid(summary)) => {
                    published.set(Some(summary));
                    checked.set(None);
                    problem.set(None);
                    on_published();
                }
                Ok(SheetAnswer::Problems(problems)) => {
                    checked.set(Some(Checked::Problems(problems)))
                }
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
            busy.set(false);
        });
    };
    let forget = move |_| {
        checked.set(None);
        published.set(None);
    };
    let result = move || {
        checked.get().map(|checked| match checked {
            Checked::Problems(problems) => problems_view(i18n, problems),
            Checked::Valid(catalog) => view! {
                {preview_view(i18n, &catalog)}
                <button type="button" data-testid="publish" disabled=move || busy.get() on:click=publish>
                    {i18n.pick_fn("Công bố thành lần sửa đổi mới", "Publish as a new revision")}
                </button>
            }
            .into_any(),
        })
    };
    let done = move || {
        published.get().map(|p| {
            let text = match i18n.lang() {
                Lang::Vi => format!("Đã công bố {} — lần sửa đổi {}", p.code, p.revision),
                Lang::En => format!("Published {} — revision {}", p.code, p.revision),
            };
            view! { <p class="notice" role="status" data-testid="published">{text}</p> }
        })
    };
    view! {
        <section class="card">
            <h2>{i18n.pick_fn("Đưa bảng chấm điểm lên", "Bring an indicator sheet")}</h2>
            <p class="hint">{i18n.pick_fn(
                "Điền bảng chấm điểm mẫu rồi chọn tệp: máy chủ kiểm tra toàn bộ và chỉ ra mọi lỗi (trang tính, dòng, cột). Chưa lưu gì cho đến khi bấm Công bố.",
                "Fill the template, then pick the file: the server checks it whole and shows every problem (sheet, row, column). Nothing is kept until you publish.",
            )}</p>
            <form class="form" on:submit=preview>
                <label><span>{i18n.pick_fn("Tệp bảng chấm điểm (XLSX)", "Indicator sheet file (XLSX)")}</span>
                    <input type="file" node_ref=file_input data-testid="sheet-file" on:change=forget
                        accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/></label>
                <button type="submit" data-testid="preview" disabled=move || busy.get()>
                    {i18n.pick_fn("Kiểm tra và xem trước", "Check and preview")}
                </button>
            </form>
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
            {done}
            {result}
        </section>
    }
}

/// Every problem of a sheet, at its place.
fn problems_view(i18n: I18n, problems: Vec<SheetProblem>) -> AnyView {
    let count = problems.len();
    let heading = match i18n.lang() {
        Lang::Vi => format!("{count} lỗi trong bảng chấm điểm — chưa lưu gì"),
        Lang::En => format!("{count} problems in the sheet — nothing was kept"),
    };
    view! {
        <div class="sheet-problems" role="alert">
            <h3 data-testid="problem-count" data-count=count.to_string()>{heading}</h3>
            <table class="figures-table" data-testid="sheet-problems">
                <thead><tr>
                    <th>{i18n.pick("Trang tính", "Sheet")}</th>
                    <th>{i18n.pick("Dòng", "Row")}</th>
                    <th>{i18n.pick("Cột", "Column")}</th>
                    <th>{i18n.pick("Lỗi", "Problem")}</th>
                </tr></thead>
                <tbody>
                    {problems.into_iter().map(|p| view! {
                        <tr data-cell=p.cell.clone()>
                            <td>{p.sheet}</td>
                            <td class="num">{p.row}</td>
                            <td>{p.column}</td>
                            <td>{p.message}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// How an item is scored, in words.
fn rule_text(i18n: I18n, rule: &ScoringRule) -> String {
    match rule {
        ScoringRule::Points => i18n
            .pick("Chấm điểm (0,5)", "Points (0.5 steps)")
            .to_owned(),
        ScoringRule::YesNo => i18n.pick("Đạt / không đạt", "Met / not met").to_owned(),
        ScoringRule::Bands { measure, bands } => {
            let unit = match measure {
                Measure::Percent => "%",
                Measure::Count => "",
            };
            let bands: Vec<String> = bands
                .iter()
                .map(|b| format!("≥ {}{unit}: {}", i18n.num(b.min), i18n.num(b.points)))
                .collect();
            format!("{} {}", i18n.pick("Theo mức:", "Bands:"), bands.join("; "))
        }
    }
}

/// Where an indicator applies, when not everywhere.
fn applies_text(i18n: I18n, applies: &Applicability) -> String {
    let mut parts = Vec::new();
    if applies.zones.len() < Zone::ALL.len() {
        let zones: Vec<String> = applies.zones.iter().map(ToString::to_string).collect();
        parts.push(format!(
            "{} {}",
            i18n.pick("vùng", "zones"),
            zones.join(", ")
        ));
    }
    if applies.unit_types.len() < UnitType::ALL.len() {
        let types: Vec<&str> = applies.unit_types.iter().map(|t| t.as_str()).collect();
        parts.push(types.join(", "));
    }
    parts.join(" · ")
}

/// A valid sheet as it will be scored: the pass rule, each criterion and its indicators.
fn preview_view(i18n: I18n, catalog: &Catalog) -> AnyView {
    let rule = &catalog.pass_rule;
    let rule_line = match i18n.lang() {
        Lang::Vi => format!(
            "Đạt khi tổng điểm ≥ {}%, mỗi tiêu chí ≥ {}%{}",
            rule.total_min_percent,
            rule.criterion_min_percent,
            if rule.no_failed_knockout {
                ", không trượt chỉ tiêu điểm liệt"
            } else {
                ""
            }
        ),
        Lang::En => format!(
            "Passes with a total ≥ {}%, each criterion ≥ {}%{}",
            rule.total_min_percent,
            rule.criterion_min_percent,
            if rule.no_failed_knockout {
                ", no knockout indicator failed"
            } else {
                ""
            }
        ),
    };
    let criteria = catalog.criteria.iter().map(|criterion| {
        let name = if i18n.lang() == Lang::En && !criterion.name_en.is_empty() {
            criterion.name_en.clone()
        } else {
            criterion.name_vi.clone()
        };
        let rows = if criterion.indicators.is_empty() {
            vec![view! {
                <tr data-item=criterion.id.to_string()>
                    <td>{criterion.id.to_string()}</td>
                    <td>{i18n.pick("Chấm chung cả tiêu chí", "Scored as a whole")}</td>
                    <td class="num">{i18n.num(criterion.max_points)}</td>
                    <td>{rule_text(i18n, &ScoringRule::Points)}</td>
                    <td></td>
                    <td></td>
                </tr>
            }.into_any()]
        } else {
            criterion.indicators.iter().map(|indicator| {
                let wording = if i18n.lang() == Lang::En && !indicator.name_en.is_empty() {
                    indicator.name_en.clone()
                } else {
                    indicator.name_vi.clone()
                };
                view! {
                    <tr data-item=indicator.id.to_string() class:knockout=indicator.knockout>
                        <td>{indicator.id.to_string()}</td>
                        <td>{wording}</td>
                        <td class="num">{i18n.num(indicator.max_points)}</td>
                        <td>{rule_text(i18n, &indicator.scoring)}</td>
                        <td>{indicator.knockout.then(|| view! {
                            <span class="badge" data-testid="knockout">{i18n.pick("Điểm liệt", "Knockout")}</span>
                        })}</td>
                        <td>{applies_text(i18n, &indicator.applies_to)}</td>
                    </tr>
                }.into_any()
            }).collect()
        };
        view! {
            <h4 data-criterion=criterion.id.to_string()>
                {format!("{}. {name} — {} {}", criterion.id, i18n.num(criterion.max_points), i18n.pick("điểm", "points"))}
            </h4>
            <table class="figures-table">
                <thead><tr>
                    <th>{i18n.pick("Mã", "Id")}</th>
                    <th>{i18n.pick("Nội dung", "Wording")}</th>
                    <th>{i18n.pick("Điểm", "Points")}</th>
                    <th>{i18n.pick("Cách chấm", "Scoring")}</th>
                    <th>{i18n.pick("Điểm liệt", "Knockout")}</th>
                    <th>{i18n.pick("Áp dụng", "Applies to")}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    }).collect_view();
    let title = if i18n.lang() == Lang::En && !catalog.title_en.is_empty() {
        catalog.title_en.clone()
    } else {
        catalog.title_vi.clone()
    };
    view! {
        <div class="sheet-preview" data-testid="sheet-preview">
            <h3>{format!("{} — {title}", catalog.code)}</h3>
            <p>{format!("{} {} · {} {}", i18n.pick("Tổng điểm", "Total points"), i18n.num(catalog.max_points()),
                i18n.pick("chỉ tiêu:", "indicators:"), catalog.items().count())}</p>
            <p>{rule_line}</p>
            {catalog.note.clone().map(|note| view! { <p class="hint">{note}</p> })}
            {criteria}
        </div>
    }
    .into_any()
}

/// A round opened on a chosen revision, or its open assessments moved to a newer one.
#[component]
fn RoundOnRevision(catalogs: RwSignal<Option<Vec<CatalogSummary>>>) -> impl IntoView {
    let i18n = use_i18n();
    let year = RwSignal::new(js_sys::Date::new_0().get_full_year() as u16);
    let chosen_code = RwSignal::new(None::<String>);
    let chosen_revision = RwSignal::new(None::<u32>);
    // The codes, each once, in the server's order.
    let codes = Memo::new(move |_| {
        let mut codes: Vec<String> = Vec::new();
        for c in catalogs.get().unwrap_or_default() {
            if !codes.contains(&c.code) {
                codes.push(c.code);
            }
        }
        codes
    });
    let code = Memo::new(move |_| {
        chosen_code
            .get()
            .or_else(|| codes.with(|c| c.first().cloned()))
    });
    // The chosen set's revisions, newest first: the newest is the default.
    let revisions = Memo::new(move |_| {
        let code = code.get();
        let mut revisions: Vec<u32> = catalogs
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| Some(&c.code) == code.as_ref())
            .map(|c| c.revision)
            .collect();
        revisions.sort_unstable_by(|a, b| b.cmp(a));
        revisions
    });
    let revision = Memo::new(move |_| {
        chosen_revision
            .get()
            .filter(|r| revisions.with(|all| all.contains(r)))
            .or_else(|| revisions.with(|r| r.first().copied()))
    });
    let problem = RwSignal::new(None::<String>);
    let opened = RwSignal::new(None::<String>);
    let moved = RwSignal::new(None::<MovedRound>);
    // The set, year and revision chosen (none while no set is offered).
    let chosen = move || {
        Some((
            code.get_untracked()?,
            year.get_untracked(),
            revision.get_untracked(),
        ))
    };
    let open = move |_| {
        let Some((code, year, revision)) = chosen() else {
            return;
        };
        moved.set(None);
        leptos::task::spawn_local(async move {
            match api::open_round_on(year, &code, revision).await {
                Ok(done) => {
                    let rev = revision.map(|r| r.to_string()).unwrap_or_default();
                    let round = match i18n.lang() {
                        Lang::Vi => format!("Kỳ {year} theo {code} lần sửa đổi {rev}"),
                        Lang::En => format!("Round {year} on {code} revision {rev}"),
                    };
                    opened.set(Some(crate::page::round_opened_text(i18n, &round, &done)));
                    problem.set(None);
                }
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    let move_round = move |_| {
        let Some((code, year, revision)) = chosen() else {
            return;
        };
        opened.set(None);
        leptos::task::spawn_local(async move {
            match api::move_round(year, &code, revision).await {
                Ok(answer) => {
                    moved.set(Some(answer));
                    problem.set(None);
                }
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    view! {
        <section class="card">
            <h2>{i18n.pick_fn("Kỳ đánh giá theo bộ tiêu chí", "A round on a criteria set")}</h2>
            <div class="form">
                <label><span>{i18n.pick_fn("Năm", "Year")}</span>
                    <input type="number" min="2000" max="2100" data-testid="round-year" prop:value=move || year.get().to_string()
                        on:change=move |ev| { if let Ok(y) = event_target_value(&ev).trim().parse() { year.set(y) } }/></label>
                <label><span>{i18n.pick_fn("Bộ tiêu chí", "Criteria set")}</span>
                    <select data-testid="round-catalog" on:change=move |ev| {
                        chosen_code.set(Some(event_target_value(&ev)));
                        chosen_revision.set(None);
                    }>
                        {move || codes.get().into_iter().map(|c| view! {
                            <option value=c.clone() selected=Some(&c) == code.get().as_ref()>{c.clone()}</option>
                        }).collect_view()}
                    </select></label>
                <label><span>{i18n.pick_fn("Lần sửa đổi", "Revision")}</span>
                    <select data-testid="round-revision" on:change=move |ev| chosen_revision.set(event_target_value(&ev).parse().ok())>
                        {move || revisions.get().into_iter().enumerate().map(|(i, r)| view! {
                            <option value=r.to_string() selected=Some(r) == revision.get()>
                                {if i == 0 { format!("{r} ({})", i18n.pick("mới nhất", "newest")) } else { r.to_string() }}
                            </option>
                        }).collect_view()}
                    </select></label>
            </div>
            <div class="links">
                <button type="button" data-testid="open-round" on:click=open>
                    {i18n.pick_fn("Mở kỳ đánh giá", "Open the round")}
                </button>
                <button type="button" class="secondary" data-testid="move-round" on:click=move_round>
                    {i18n.pick_fn("Chuyển phiếu đang mở sang lần sửa đổi này", "Move open assessments to this revision")}
                </button>
            </div>
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
            <Show when=move || opened.with(Option::is_some)>
                <p class="notice" role="status" data-testid="round-opened">{move || opened.get()}</p>
            </Show>
            {move || moved.get().map(|m| moved_view(i18n, m))}
        </section>
    }
}

/// What a move did: each assessment moved with what must be scored again, each one skipped
/// with why.
fn moved_view(i18n: I18n, moved: MovedRound) -> AnyView {
    let heading = match i18n.lang() {
        Lang::Vi => format!(
            "Lần sửa đổi {}: đã chuyển {} phiếu, giữ nguyên {} phiếu",
            moved.revision,
            moved.moved.len(),
            moved.skipped.len()
        ),
        Lang::En => format!(
            "Revision {}: {} assessments moved, {} left as they were",
            moved.revision,
            moved.moved.len(),
            moved.skipped.len()
        ),
    };
    let none = i18n.pick("không có", "none");
    view! {
        <div class="notice" role="status" data-testid="round-moved">
            <p><strong>{heading}</strong></p>
            <ul>
                {moved.moved.into_iter().map(|m| {
                    let to_score: Vec<&str> = m.changes.to_score().collect();
                    let to_score = if to_score.is_empty() { none.to_owned() } else { to_score.join(", ") };
                    view! {
                        <li data-moved=m.commune.clone()>
                            {format!("{} ({} {}) — {} {}; {} {}",
                                m.commune, i18n.pick("từ lần", "from revision"), m.from,
                                i18n.pick("cần chấm lại:", "to score again:"), to_score,
                                i18n.pick("giữ điểm:", "scores kept:"), m.changes.kept.len())}
                        </li>
                    }
                }).collect_view()}
                {moved.skipped.into_iter().map(|s| view! {
                    <li data-skipped=s.commune.clone()>
                        {format!("{} — {} {}", s.commune, i18n.pick("không chuyển:", "not moved:"), s.reason)}
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}
