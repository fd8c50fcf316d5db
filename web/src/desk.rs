//! The reviewer's desk (bàn làm việc): the overview as a table on wide screens — one row per
//! commune with status, totals, verdict, each criterion's points coloured against its minimum
//! (a heat map), conflicts, changes after submission and last activity — sortable by any column
//! in Vietnamese collation, navigable by keyboard, and fluid with 10,000 communes: only the rows
//! in view (and a few around them) are in the page.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use tramyte_shared::figures::{current_points, reviewed};
use tramyte_shared::points::Points;
use tramyte_shared::scoring::Verdict;
use tramyte_shared::summary::CriterionPoints;
use tramyte_shared::workflow::Status;

use crate::api::DocumentRow;
use crate::i18n::{I18n, Lang};
use crate::names::Names;
use crate::page::{status_name, verdict_class, verdict_name};
use crate::platform;

/// Height of one table row, in CSS pixels (`.desk-table tr` holds it): the window of rows in
/// the page is computed from it.
pub const ROW_PX: f64 = 36.0;
/// Rows kept in the page above and below the ones in view.
const OVERSCAN: usize = 12;

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

/// The rank of each document id when the communes are ordered by name in Vietnamese (the
/// browser's collation); computed once per list, then every sort is a plain comparison.
pub fn commune_ranks(rows: &[Arc<DocumentRow>]) -> HashMap<String, usize> {
    let names: Vec<String> = rows.iter().map(|r| r.commune_label()).collect();
    rows.iter()
        .zip(platform::vietnamese_ranks(&names))
        .map(|(row, rank)| (row.id.clone(), rank))
        .collect()
}

/// Sorts rows by `sort`; ties (and the commune column) follow the communes' Vietnamese order.
/// Each row's rank is looked up once, not at every comparison; the rows are shared, so the sort
/// moves pointers.
pub fn sort_rows(rows: &mut Vec<Arc<DocumentRow>>, sort: Sort, ranks: &HashMap<String, usize>) {
    use std::cmp::Ordering;
    let mut keyed: Vec<(usize, Arc<DocumentRow>)> = std::mem::take(rows)
        .into_iter()
        .map(|r| (ranks.get(&r.id).copied().unwrap_or(usize::MAX), r))
        .collect();
    let number = |value: Option<f64>| value.unwrap_or(f64::NEG_INFINITY);
    let status_order = |r: &DocumentRow| {
        r.status
            .as_deref()
            .and_then(Status::parse)
            .and_then(|s| Status::ALL.iter().position(|x| *x == s))
            .unwrap_or(usize::MAX)
    };
    let verdict_order = |r: &DocumentRow| match r.verdict.as_deref().and_then(Verdict::parse) {
        Some(Verdict::Pass) => 2,
        Some(Verdict::Incomplete) => 1,
        Some(Verdict::Fail) => 0,
        None => -1,
    };
    let criterion = |r: &DocumentRow, at: usize| {
        let side = reviewed(&r.criteria);
        number(r.criteria.get(at).and_then(|c| current_points(c, side)))
    };
    keyed.sort_by(|(rank_a, a), (rank_b, b)| {
        let by_column = match sort.column {
            Column::Commune => Ordering::Equal,
            Column::Status => status_order(a).cmp(&status_order(b)),
            Column::SelfTotal => a.self_total.cmp(&b.self_total),
            Column::ReviewTotal => a.review_total.cmp(&b.review_total),
            Column::Verdict => verdict_order(a).cmp(&verdict_order(b)),
            Column::Criterion(at) => criterion(a, at).total_cmp(&criterion(b, at)),
            Column::Conflicts => a.open_conflicts.cmp(&b.open_conflicts),
            Column::ChangedAfterSubmission => a
                .changed_after_submission
                .is_some()
                .cmp(&b.changed_after_submission.is_some()),
            Column::Activity => a.last_change_at.cmp(&b.last_change_at),
        };
        let by_column = if sort.descending {
            by_column.reverse()
        } else {
            by_column
        };
        let by_name = rank_a.cmp(rank_b);
        let by_name = if sort.column == Column::Commune && sort.descending {
            by_name.reverse()
        } else {
            by_name
        };
        by_column.then(by_name)
    });
    rows.extend(keyed.into_iter().map(|(_, r)| r));
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
    // A new order or filter starts at the top.
    Effect::new(move |_| {
        rows.track();
        active.set(None);
        if let Some(el) = container.get_untracked() {
            el.set_scroll_top(0);
        }
        scroll_top.set(0.0);
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
                if let Some(id) =
                    now.and_then(|i| rows.with_untracked(|r| r.get(i).map(|r| r.id.clone())))
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
    let header = move |column: Column, label: Signal<String>| {
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
            <th scope="col" aria-sort=aria_sort>
                <button type="button" class="sort" on:click=move |_| sort.update(|s| *s = s.clicked(column))>
                    {move || label.get()}{mark}
                </button>
            </th>
        }
    };
    let text = move |vi: &'static str, en: &'static str| {
        Signal::derive(move || i18n.pick(vi, en).to_owned())
    };
    let visible = move || {
        let (from, span) = (first.get(), span.get());
        rows.with(|rows| {
            let to = (from + span).min(rows.len());
            rows.get(from.min(to)..to)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, row)| (from + i, row.clone()))
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
                        {header(Column::Commune, text("Xã", "Commune"))}
                        {header(Column::Status, text("Trạng thái", "Status"))}
                        {header(Column::SelfTotal, text("Tự chấm", "Self"))}
                        {header(Column::ReviewTotal, text("Thẩm định", "Review"))}
                        {header(Column::Verdict, text("Kết luận", "Verdict"))}
                        {move || criteria.get().into_iter().enumerate().map(|(at, id)| {
                            header(Column::Criterion(at), Signal::derive(move || id.clone()))
                        }).collect_view()}
                        {header(Column::Conflicts, text("Xung đột", "Conflicts"))}
                        {header(Column::ChangedAfterSubmission, text("Sửa sau nộp", "Changed late"))}
                        {header(Column::Activity, text("Hoạt động gần nhất", "Last activity"))}
                        <th scope="col">{move || i18n.pick("Trên máy", "On device")}</th>
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true" style:height=spacer_above></tr>
                    <For each=visible key=|(at, r)| (*at, r.id.clone(), r.status.clone(), r.last_change_at, r.self_total, r.review_total, r.open_conflicts)
                        children=move |(at, row)| desk_row(i18n, names, row, at, criteria.with_untracked(Vec::len), active)/>
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
/// Shows whether it is here.
pub fn keep_offline_button(i18n: I18n, id: String, name: String) -> impl IntoView {
    let repo = crate::session::use_session().repo;
    let here = {
        let (repo, id) = (repo.clone(), id.clone());
        Memo::new(move |_| repo.holds(&id))
    };
    let asked = RwSignal::new(false);
    let label = move || match (i18n.lang(), here.get()) {
        (Lang::Vi, true) => format!("Hồ sơ {name} đã có trên máy"),
        (Lang::Vi, false) => format!("Tải hồ sơ {name} về máy để làm việc không cần mạng"),
        (Lang::En, true) => format!("The dossier of {name} is on this device"),
        (Lang::En, false) => format!("Download the dossier of {name} to work without network"),
    };
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

/// One commune's row, at position `at` of the rows.
fn desk_row(
    i18n: I18n,
    names: Names,
    row: Arc<DocumentRow>,
    at: usize,
    columns: usize,
    active: RwSignal<Option<usize>>,
) -> impl IntoView {
    let name = row.commune_label();
    let status = row.status.clone().unwrap_or_default();
    let verdict = row.verdict.as_deref().and_then(Verdict::parse);
    let points =
        move |value: Option<f64>| move || value.map(|t| i18n.num(t)).unwrap_or_else(|| "–".into());
    let side = reviewed(&row.criteria);
    let cells = (0..columns)
        .map(|at| {
            let Some(c) = row.criteria.get(at) else {
                return view! { <td class="heat none"></td> }.into_any();
            };
            let class = heat_class(c, side);
            let current = current_points(c, side);
            let (max, required, id) = (c.max.to_f64(), c.required.to_f64(), c.id.clone());
            let title = move || {
                let shown = current.map(|p| i18n.num(p)).unwrap_or_else(|| "–".into());
                match i18n.lang() {
                    Lang::Vi => format!(
                        "{id}: {shown} / {} (tối thiểu {})",
                        i18n.num(max),
                        i18n.num(required)
                    ),
                    Lang::En => format!("{id}: {shown} of {max} (minimum {required})"),
                }
            };
            view! { <td class=class title=title.clone() aria-label=title>{points(current)}</td> }
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
    let conflicts_name = move || match i18n.lang() {
        Lang::Vi => format!("{conflicts} xung đột chưa giải quyết"),
        Lang::En => format!("{conflicts} open conflicts"),
    };
    let by = row.last_change_by.clone();
    let status_attribute = status.clone();
    view! {
        <tr id=format!("desk-row-{}", row.id) aria-rowindex=(at + 2).to_string()
            class:active=move || active.get() == Some(at)
            data-commune=row.commune_code().to_owned() data-status=status_attribute>
            <th scope="row"><a href=format!("/assessment/{}", row.id) tabindex="-1">{name}</a></th>
            <td><span class="badge">{move || status_name(i18n, &status)}</span></td>
            <td class="num">{points(row.self_total.map(Points::to_f64))}</td>
            <td class="num">{points(row.review_total.map(Points::to_f64))}</td>
            <td><span class=verdict_class(verdict)>{move || verdict.map(|v| verdict_name(i18n, v))}</span></td>
            {cells}
            <td class="num">{(conflicts > 0).then(|| view! {
                <span class="warn" role="img" data-testid="conflict-count" aria-label=conflicts_name title=conflicts_name>{format!("⚠ {conflicts}")}</span>
            })}</td>
            <td>{late}</td>
            <td class="hint">{row.last_change_at.map(platform::format_time)}{by.map(|b| move || format!(" · {}", names.of(&b)))}</td>
            <td>{keep_offline_button(i18n, row.id.clone(), row.commune_label())}</td>
        </tr>
    }
}
