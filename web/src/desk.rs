//! The reviewer's desk (bàn làm việc): the overview as a table on wide screens — one row per
//! commune with status, totals, verdict, each criterion's points coloured against its minimum
//! (a heat map), conflicts, changes after submission and last activity — sortable by any column
//! in Vietnamese collation, navigable by keyboard, and fluid with 10,000 communes: only the rows
//! in view (and a few around them) are in the page.

use std::sync::Arc;

use leptos::prelude::*;
use tramyte_shared::figures::{current_points, reviewed};
use tramyte_shared::points::Points;
use tramyte_shared::scoring::Verdict;
use tramyte_shared::summary::CriterionPoints;
use tramyte_shared::workflow::Status;

use crate::api::DocumentRow;
use crate::i18n::{I18n, Lang, decimal};
use crate::names::Names;
use crate::page::{status_name, verdict_class, verdict_name};
use crate::platform;
use crate::repo::Repo;

/// Height of one table row, in CSS pixels (`.desk-table tr` holds it): the window of rows in
/// the page is computed from it.
pub const ROW_PX: f64 = 36.0;
/// Rows kept in the page above and below the ones in view.
const OVERSCAN: usize = 6;

/// A column the rows can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Commune,
    Status,
    SelfTotal,
    ReviewTotal,
    Verdict,
    /// The criterion at this position of the catalog.
    Criterion(usize),
    Conflicts,
    ChangedAfterSubmission,
    Activity,
}

/// The order of the rows: a column and a direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Sort {
    /// The first click on a column sorts names A→Z and numbers highest first; the next click
    /// turns it round.
    pub fn clicked(self, column: Column) -> Sort {
        if self.column == column {
            Sort {
                column,
                descending: !self.descending,
            }
        } else {
            Sort {
                column,
                descending: !matches!(column, Column::Commune | Column::Status),
            }
        }
    }
}

/// Sorts rows by `sort`. `rows` come in the communes' Vietnamese order, as the server answers
/// them (its collation, one order for every device: see `shared::rest::Overview`), filtered
/// perhaps but never reordered: the commune column keeps or turns that order round, and every
/// other column is a stable sort, so its ties stay in that order. Each row's value in the
/// column is found once, not at every comparison; the rows are shared, so the sort moves
/// pointers.
pub fn sort_rows(rows: &mut Vec<Arc<DocumentRow>>, sort: Sort) {
    let number = |value: Option<f64>| value.unwrap_or(f64::NEG_INFINITY);
    let points = |value: Option<Points>| number(value.map(Points::to_f64));
    let value = |r: &DocumentRow| -> f64 {
        match sort.column {
            Column::Commune => 0.0,
            Column::Status => r
                .status
                .as_deref()
                .and_then(Status::parse)
                .and_then(|s| Status::ALL.iter().position(|x| *x == s))
                .map_or(f64::INFINITY, |at| at as f64),
            Column::SelfTotal => points(r.self_total),
            Column::ReviewTotal => points(r.review_total),
            Column::Verdict => match r.verdict.as_deref().and_then(Verdict::parse) {
                Some(Verdict::Pass) => 2.0,
                Some(Verdict::Incomplete) => 1.0,
                Some(Verdict::Fail) => 0.0,
                None => -1.0,
            },
            Column::Criterion(at) => {
                let side = reviewed(&r.criteria);
                number(r.criteria.get(at).and_then(|c| current_points(c, side)))
            }
            Column::Conflicts => f64::from(r.open_conflicts),
            Column::ChangedAfterSubmission => {
                f64::from(u8::from(r.changed_after_submission.is_some()))
            }
            Column::Activity => r.last_change_at.map_or(f64::NEG_INFINITY, |at| at as f64),
        }
    };
    if sort.column == Column::Commune {
        if sort.descending {
            rows.reverse();
        }
        return;
    }
    let mut keyed: Vec<(f64, Arc<DocumentRow>)> = std::mem::take(rows)
        .into_iter()
        .map(|r| (value(&r), r))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        let by_column = a.total_cmp(b);
        if sort.descending {
            by_column.reverse()
        } else {
            by_column
        }
    });
    rows.extend(keyed.into_iter().map(|(_, r)| r));
}

/// A row not decoded yet: it stands in the table for one of the answer's rows while they are
/// read, after the first screen's (see the overview page); drawn as an empty line.
pub fn pending_row() -> DocumentRow {
    DocumentRow {
        id: String::new(),
        url: String::new(),
        kind: String::new(),
        commune: None,
        commune_name: None,
        round: None,
        catalog: None,
        status: None,
        self_total: None,
        review_total: None,
        verdict: None,
        open_conflicts: 0,
        changed_after_submission: None,
        criteria: Vec::new(),
        last_change_at: None,
        last_change_by: None,
    }
}

/// Whether `row` is a [`pending_row`].
pub fn is_pending(row: &DocumentRow) -> bool {
    row.id.is_empty()
}

/// How a criterion's cell is coloured: below its minimum, met, or near its maximum (90 % and
/// more); `none` while unscored (on the side the dossier is read on, see [`reviewed`]).
pub fn heat_class(criterion: &CriterionPoints, reviewed: bool) -> &'static str {
    match current_points(criterion, reviewed) {
        None => "heat none",
        Some(points) if points < criterion.required.to_f64() => "heat below",
        Some(points) if points >= criterion.max.to_f64() * 0.9 => "heat high",
        Some(_) => "heat met",
    }
}

/// The table of the desk. `rows` are already filtered and sorted; `sort` is changed by the
/// column headers; `criteria` names the criterion columns.
#[component]
pub fn DeskTable(
    i18n: I18n,
    names: Names,
    rows: Memo<Vec<Arc<DocumentRow>>>,
    sort: RwSignal<Sort>,
    criteria: Memo<Vec<String>>,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let container = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(640.0f64);
    let active = RwSignal::new(None::<usize>);
    // The window of rows in the page changes only when the first row in view does.
    let first =
        Memo::new(move |_| ((scroll_top.get() / ROW_PX).floor() as usize).saturating_sub(OVERSCAN));
    let span = Memo::new(move |_| (viewport.get() / ROW_PX).ceil() as usize + 2 * OVERSCAN);
    // A new order or filter starts at the top; rows that were pending, now read in the same
    // order (the same first row), leave the table where the person is.
    Effect::new(move |before: Option<(bool, usize)>| {
        let now = rows.with(|rows| {
            (
                rows.last().is_some_and(|r| is_pending(r)),
                rows.first().map_or(0, |r| Arc::as_ptr(r) as usize),
            )
        });
        let filled = before.is_some_and(|(pending, first)| pending && first == now.1);
        if !filled {
            active.set(None);
            if let Some(el) = container.get_untracked() {
                el.set_scroll_top(0);
            }
            scroll_top.set(0.0);
        }
        now
    });
    let on_scroll = move |_| {
        if let Some(el) = container.get_untracked() {
            scroll_top.set(f64::from(el.scroll_top()));
            viewport.set(f64::from(el.client_height()));
        }
    };
    // Keeps the active row in view (below the sticky header).
    let reveal = move |at: usize| {
        let Some(el) = container.get_untracked() else {
            return;
        };
        let header = el
            .query_selector("thead")
            .ok()
            .flatten()
            .map_or(ROW_PX, |h| f64::from(h.client_height()));
        let top = at as f64 * ROW_PX;
        let (shown_from, height) = (f64::from(el.scroll_top()), f64::from(el.client_height()));
        if top < shown_from {
            el.set_scroll_top(top as i32);
        } else if top + ROW_PX > shown_from + height - header {
            el.set_scroll_top((top + ROW_PX - (height - header)).ceil() as i32);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let len = rows.with_untracked(Vec::len);
        if len == 0 {
            return;
        }
        let page = ((viewport.get_untracked() / ROW_PX) as usize)
            .saturating_sub(2)
            .max(1);
        let now = active.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowDown" => now.map_or(0, |i| (i + 1).min(len - 1)),
            "ArrowUp" => now.map_or(0, |i| i.saturating_sub(1)),
            "PageDown" => now.map_or(0, |i| (i + page).min(len - 1)),
            "PageUp" => now.map_or(0, |i| i.saturating_sub(page)),
            "Home" => 0,
            "End" => len - 1,
            "Enter" => {
                if let Some(id) = now
                    .and_then(|i| rows.with_untracked(|r| r.get(i).map(|r| r.id.clone())))
                    .filter(|id| !id.is_empty())
                {
                    ev.prevent_default();
                    navigate(&format!("/assessment/{id}"), Default::default());
                }
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        active.set(Some(next));
        reveal(next);
    };
    // `class` sets the column's width (the table's layout is fixed: see `app.css`).
    let header = move |column: Column, label: Signal<String>, class: &'static str| {
        let aria_sort = move || {
            let s = sort.get();
            if s.column != column {
                "none"
            } else if s.descending {
                "descending"
            } else {
                "ascending"
            }
        };
        let mark = move || {
            let s = sort.get();
            if s.column != column {
                ""
            } else if s.descending {
                " ▼"
            } else {
                " ▲"
            }
        };
        view! {
            <th scope="col" class=class aria-sort=aria_sort>
                <button type="button" class="sort" on:click=move |_| sort.update(|s| *s = s.clicked(column))>
                    {move || label.get()}{mark}
                </button>
            </th>
        }
    };
    let text = move |vi: &'static str, en: &'static str| {
        Signal::derive(move || i18n.pick(vi, en).to_owned())
    };
    // The rows in the window, each with what its drawing depends on besides its row.
    let repo = crate::session::use_session().repo;
    let visible = move || {
        let (from, span) = (first.get(), span.get());
        let lang = i18n.lang();
        let held = repo.held();
        rows.with(|rows| {
            let to = (from + span).min(rows.len());
            rows.get(from.min(to)..to)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, row)| Placed {
                    at: from + i,
                    here: held.contains(&row.id),
                    row: row.clone(),
                    lang,
                })
                .collect::<Vec<_>>()
        })
    };
    let spacer_above = move || format!("{}px", first.get() as f64 * ROW_PX);
    let spacer_below = move || {
        let shown_to = (first.get() + span.get()).min(rows.with(Vec::len));
        format!(
            "{}px",
            rows.with(Vec::len).saturating_sub(shown_to) as f64 * ROW_PX
        )
    };
    let row_dom_id = |id: &str| format!("desk-row-{id}");
    let active_id = move || {
        active
            .get()
            .and_then(|i| rows.with(|r| r.get(i).map(|r| row_dom_id(&r.id))))
    };
    view! {
        <div class="desk-table" node_ref=container on:scroll=on_scroll data-testid="desk-table">
            <table role="grid" tabindex="0" aria-rowcount=move || (rows.with(Vec::len) + 1).to_string()
                aria-activedescendant=active_id on:keydown=on_key
                aria-label=move || i18n.pick("Bảng tổng quan các xã", "Overview of the communes")>
                <thead>
                    <tr aria-rowindex="1">
                        {header(Column::Commune, text("Xã", "Commune"), "col-commune")}
                        {header(Column::Status, text("Trạng thái", "Status"), "col-status")}
                        {header(Column::SelfTotal, text("Tự chấm", "Self"), "col-total")}
                        {header(Column::ReviewTotal, text("Thẩm định", "Review"), "col-total")}
                        {header(Column::Verdict, text("Kết luận", "Verdict"), "col-verdict")}
                        {move || criteria.get().into_iter().enumerate().map(|(at, id)| {
                            header(Column::Criterion(at), Signal::derive(move || id.clone()), "col-criterion")
                        }).collect_view()}
                        {header(Column::Conflicts, text("Xung đột", "Conflicts"), "col-conflicts")}
                        {header(Column::ChangedAfterSubmission, text("Sửa sau nộp", "Changed late"), "col-late")}
                        {header(Column::Activity, text("Hoạt động gần nhất", "Last activity"), "col-activity")}
                        <th scope="col" class="col-device">{move || i18n.pick("Trên máy", "On device")}</th>
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true" style:height=spacer_above></tr>
                    <For each=visible key=Placed::key
                        children=move |placed| untrack(|| desk_row(i18n, names, placed, criteria.with_untracked(Vec::len), active))/>
                    <tr class="spacer" aria-hidden="true" style:height=spacer_below></tr>
                </tbody>
            </table>
        </div>
        <p class="hint" data-testid="desk-count">{move || match i18n.lang() {
            Lang::Vi => format!("{} xã · ↑ ↓ để chọn, Enter để mở", rows.with(Vec::len)),
            Lang::En => format!("{} communes · ↑ ↓ to choose, Enter to open", rows.with(Vec::len)),
        }}</p>
    }
}

/// Keeps a dossier on this device for work without network (a reviewer's visit to a station):
/// fetched now, stored like every document the device has, synced when the network is back.
/// Shows whether it is here (`here`, see [`held_signal`]).
pub fn keep_offline_button(
    i18n: I18n,
    repo: Repo,
    id: String,
    name: String,
    here: Signal<bool>,
) -> impl IntoView {
    let asked = RwSignal::new(false);
    let label = move || keep_offline_label(i18n.lang(), &name, here.get());
    view! {
        <button type="button" class="keep-offline secondary" data-testid="keep-offline"
            data-here=move || here.get().to_string()
            aria-label=label.clone() title=label
            disabled=move || here.get()
            on:click=move |_| {
                asked.set(true);
                repo.want(std::slice::from_ref(&id));
            }>
            {move || if here.get() { "✓" } else if asked.get() { "…" } else { "⤓" }}
        </button>
    }
}

/// The spoken name of the keep-offline button.
fn keep_offline_label(lang: Lang, name: &str, here: bool) -> String {
    match (lang, here) {
        (Lang::Vi, true) => format!("Hồ sơ {name} đã có trên máy"),
        (Lang::Vi, false) => format!("Tải hồ sơ {name} về máy để làm việc không cần mạng"),
        (Lang::En, true) => format!("The dossier of {name} is on this device"),
        (Lang::En, false) => format!("Download the dossier of {name} to work without network"),
    }
}

/// Whether the dossier `id` is on this device (reactive), for [`keep_offline_button`].
pub fn held_signal(repo: Repo, id: String) -> Signal<bool> {
    Memo::new(move |_| repo.holds(&id)).into()
}

/// A row of the window of rows in the page: its position among the rows, the row, and what its
/// drawing depends on besides the row — the language and whether its dossier is on this device.
/// A row is drawn once for these (its cells are plain text, not one reactive effect each) and
/// drawn again when one changes: a scroll that moves the window draws only the rows new to it.
#[derive(Clone)]
struct Placed {
    at: usize,
    row: Arc<DocumentRow>,
    lang: Lang,
    here: bool,
}

impl Placed {
    /// The identity of what is drawn: a row of a new answer is a new `Arc` (its address). The
    /// page builds a new answer's `Arc`s while the rows shown are still alive (`Shown::of`,
    /// then the signal is set), so a new row never takes the address of one still drawn.
    fn key(&self) -> (usize, usize, Lang, bool) {
        (
            self.at,
            Arc::as_ptr(&self.row) as usize,
            self.lang,
            self.here,
        )
    }
}

/// One commune's row, drawn in the language of `placed` (read by the caller).
fn desk_row(
    i18n: I18n,
    names: Names,
    placed: Placed,
    columns: usize,
    active: RwSignal<Option<usize>>,
) -> impl IntoView {
    let Placed {
        at,
        row,
        lang,
        here,
    } = placed;
    if is_pending(&row) {
        return view! {
            <tr class="pending" aria-rowindex=(at + 2).to_string() aria-busy="true">
                <th scope="row">"…"</th>
            </tr>
        }
        .into_any();
    }
    let name = row.commune_label();
    let status = row.status.clone().unwrap_or_default();
    let verdict = row.verdict.as_deref().and_then(Verdict::parse);
    let points = |value: Option<f64>| {
        value.map_or_else(|| "–".to_owned(), |t| decimal(lang, &t.to_string()))
    };
    let side = reviewed(&row.criteria);
    let cells = (0..columns)
        .map(|at| {
            let Some(c) = row.criteria.get(at) else {
                return view! { <td class="heat none"></td> }.into_any();
            };
            let current = current_points(c, side);
            let (max, required) = (c.max.to_f64(), c.required.to_f64());
            let shown = points(current);
            let title = match lang {
                Lang::Vi => format!(
                    "{}: {shown} / {} (tối thiểu {})",
                    c.id,
                    decimal(lang, &max.to_string()),
                    decimal(lang, &required.to_string())
                ),
                Lang::En => format!("{}: {shown} of {max} (minimum {required})", c.id),
            };
            view! { <td class=heat_class(c, side) title=title.clone() aria-label=title>{shown}</td> }
                .into_any()
        })
        .collect_view();
    let late = row.changed_after_submission.clone().map(|late| {
        let items = late.items.join(", ");
        let by = late.by.clone();
        let title = move || {
            format!(
                "{}{items} — {}",
                i18n.pick("Trạm đã thay đổi sau khi nộp: ", "Changed by the station after submission: "),
                by.iter().map(|id| names.of(id)).collect::<Vec<_>>().join(", ")
            )
        };
        view! { <span class="warn" title=title.clone() aria-label=title data-testid="changed-after-submission">"✎"</span> }
    });
    let conflicts = row.open_conflicts;
    let conflicts_name = match lang {
        Lang::Vi => format!("{conflicts} xung đột chưa giải quyết"),
        Lang::En => format!("{conflicts} open conflicts"),
    };
    let by = row.last_change_by.clone();
    // The keep-offline button of a row: drawn again when the dossier arrives (`here` is part of
    // the row's key), so only the "asked" glyph reacts.
    let keep = {
        let (id, asked) = (row.id.clone(), RwSignal::new(false));
        let repo = crate::session::use_session().repo;
        let label = keep_offline_label(lang, &name, here);
        view! {
            <button type="button" class="keep-offline secondary" data-testid="keep-offline"
                data-here=here.to_string() aria-label=label.clone() title=label disabled=here
                on:click=move |_| {
                    asked.set(true);
                    repo.want(std::slice::from_ref(&id));
                }>
                {move || if here { "✓" } else if asked.get() { "…" } else { "⤓" }}
            </button>
        }
    };
    view! {
        <tr id=format!("desk-row-{}", row.id) aria-rowindex=(at + 2).to_string()
            class:active=move || active.get() == Some(at)
            data-commune=row.commune_code().to_owned() data-status=status.clone()>
            <th scope="row"><a href=format!("/assessment/{}", row.id) tabindex="-1">{name}</a></th>
            <td><span class="badge">{status_name(i18n, &status)}</span></td>
            <td class="num">{points(row.self_total.map(Points::to_f64))}</td>
            <td class="num">{points(row.review_total.map(Points::to_f64))}</td>
            <td><span class=verdict_class(verdict)>{verdict.map(|v| verdict_name(i18n, v))}</span></td>
            {cells}
            <td class="num">{(conflicts > 0).then(|| view! {
                <span class="warn" role="img" data-testid="conflict-count" aria-label=conflicts_name.clone() title=conflicts_name>{format!("⚠ {conflicts}")}</span>
            })}</td>
            <td>{late}</td>
            <td class="hint">{row.last_change_at.map(platform::format_time)}{by.map(|b| move || format!(" · {}", names.of(&b)))}</td>
            <td>{keep}</td>
        </tr>
    }
    .into_any()
}
