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
    // The dossiers on this device, asked once for every slot (a set of ids).
    let repo = crate::session::use_session().repo;
    let held = Memo::new(move |_| repo.held());
    // The slots of the window: as many as rows in it, each drawing the row at its place.
    let slots = move || {
        let shown = rows
            .with(Vec::len)
            .saturating_sub(first.get())
            .min(span.get());
        let columns = criteria.with(Vec::len);
        (0..shown)
            .map(move |slot| (slot, columns))
            .collect::<Vec<_>>()
    };
    let window = Window {
        i18n,
        names,
        rows,
        first,
        held,
        active,
    };
    let spacer_above = move || format!("{}px", first.get() as f64 * ROW_PX);
    let spacer_below = move || {
        let shown_to = (first.get() + span.get()).min(rows.with(Vec::len));
        format!(
            "{}px",
            rows.with(Vec::len).saturating_sub(shown_to) as f64 * ROW_PX
        )
    };
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
                    <For each=slots key=|slot| *slot
                        children=move |(slot, columns)| desk_slot(window, slot, columns)/>
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
            {move || keep_offline_glyph(here.get(), asked.get())}
        </button>
    }
}

/// What the keep-offline button shows: the dossier on the device, asked for, or to fetch.
fn keep_offline_glyph(here: bool, asked: bool) -> &'static str {
    if here {
        "✓"
    } else if asked {
        "…"
    } else {
        "⤓"
    }
}

/// The id of a commune's row in the page (`aria-activedescendant` names it).
fn row_dom_id(id: &str) -> String {
    format!("desk-row-{id}")
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

/// What every slot of the table's window reads: the rows, the first row in the window, and
/// what a row's drawing depends on besides the row.
#[derive(Clone, Copy)]
struct Window {
    i18n: I18n,
    names: Names,
    rows: Memo<Vec<Arc<DocumentRow>>>,
    first: Memo<usize>,
    held: Memo<std::collections::HashSet<String>>,
    active: RwSignal<Option<usize>>,
}

/// One slot of the window: a table row drawn once, into which the row at its place (the
/// window's first row and `slot` after it) is written — again when the window moves, the rows
/// change, the language changes or its dossier arrives on this device. A scroll that moves the
/// window writes the new rows' text and attributes into the rows already in the page, and only
/// what differs from what the slot last wrote: no element is made or dropped.
fn desk_slot(window: Window, slot: usize, columns: usize) -> impl IntoView {
    let (first, active) = (window.first, window.active);
    let tr = NodeRef::<leptos::html::Tr>::new();
    let repo = crate::session::use_session().repo;
    // The dossier of the row the slot shows (for its keep-offline button), and the one asked
    // for from it.
    let shown = StoredValue::new(String::new());
    let asked = RwSignal::new(None::<String>);
    Effect::new(move |state: Option<Option<(Cells, Written)>>| {
        let state = state.flatten();
        let at = first.get() + slot;
        let row = window.rows.with(|rows| rows.get(at).cloned());
        let (Some(row), Some(element)) = (row, tr.get()) else {
            return state;
        };
        let (cells, mut written) =
            state.unwrap_or_else(|| (Cells::of(&element, columns), Written::default()));
        shown.set_value(row.id.clone());
        let here = window.held.with(|held| held.contains(&row.id));
        let asked = asked.with(|asked| asked.as_deref() == Some(row.id.as_str()));
        written.next = 0;
        write_row(
            &cells,
            &mut written,
            window.i18n,
            window.names,
            at,
            &row,
            (here, asked),
        );
        Some((cells, written))
    });
    let criterion_cells = (0..columns)
        .map(|_| view! { <td class="heat none"></td> })
        .collect_view();
    view! {
        <tr node_ref=tr class:active=move || active.get() == Some(first.get() + slot)>
            <th scope="row"><a tabindex="-1"></a></th>
            <td><span class="badge"></span></td>
            <td class="num"></td>
            <td class="num"></td>
            <td><span></span></td>
            {criterion_cells}
            <td class="num"></td>
            <td></td>
            <td class="hint"></td>
            <td>
                <button type="button" class="keep-offline secondary" data-testid="keep-offline"
                    on:click=move |_| {
                        let id = shown.get_value();
                        if !id.is_empty() {
                            asked.set(Some(id.clone()));
                            repo.want(std::slice::from_ref(&id));
                        }
                    }></button>
            </td>
        </tr>
    }
}

/// The elements of a slot's row that its rows are written into, found once.
struct Cells {
    row: web_sys::Element,
    link: web_sys::Element,
    status: web_sys::Element,
    self_total: web_sys::Element,
    review_total: web_sys::Element,
    verdict: web_sys::Element,
    criteria: Vec<web_sys::Element>,
    conflicts: web_sys::Element,
    late: web_sys::Element,
    activity: web_sys::Element,
    keep: web_sys::Element,
}

impl Cells {
    /// The cells of `row`, drawn by [`desk_slot`] with `columns` criterion cells.
    fn of(row: &web_sys::Element, columns: usize) -> Cells {
        let mut cells = std::iter::successors(row.first_element_child(), |cell| {
            cell.next_element_sibling()
        });
        let mut next = || cells.next().unwrap_or_else(|| row.clone());
        let inner = |cell: web_sys::Element| cell.first_element_child().unwrap_or(cell);
        let link = inner(next());
        let status = inner(next());
        let self_total = next();
        let review_total = next();
        let verdict = inner(next());
        let criteria = (0..columns).map(|_| next()).collect();
        let (conflicts, late, activity) = (next(), next(), next());
        let keep = inner(next());
        Cells {
            row: row.clone(),
            link,
            status,
            self_total,
            review_total,
            verdict,
            criteria,
            conflicts,
            late,
            activity,
            keep,
        }
    }
}

/// Where a value goes in an element.
#[derive(Clone, Copy)]
enum Part {
    Text,
    /// Markup, escaped by the caller ([`escape`]).
    Markup,
    Attribute(&'static str),
}

/// What a slot last wrote, in the order it writes (the same every time): a value equal to the
/// last one written there is not written again.
#[derive(Default)]
struct Written {
    values: Vec<Option<String>>,
    next: usize,
}

impl Written {
    /// Writes `value` as `part` of `element` (`None`: the attribute removed, the text empty)
    /// unless it is what this place holds already.
    fn put(&mut self, element: &web_sys::Element, part: Part, value: Option<&str>) {
        let at = self.next;
        self.next += 1;
        if let Some(last) = self.values.get(at)
            && last.as_deref() == value
        {
            return;
        }
        match (part, value) {
            (Part::Text, value) => element.set_text_content(value),
            (Part::Markup, value) => element.set_inner_html(value.unwrap_or_default()),
            (Part::Attribute(name), Some(value)) => {
                let _ = element.set_attribute(name, value);
            }
            (Part::Attribute(name), None) => {
                let _ = element.remove_attribute(name);
            }
        }
        let value = value.map(str::to_owned);
        match self.values.get_mut(at) {
            Some(last) => *last = value,
            None => self.values.push(value),
        }
    }
}

/// Text made safe to put in markup, as an element's text or an attribute's value.
fn escape(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => safe.push_str("&amp;"),
            '<' => safe.push_str("&lt;"),
            '>' => safe.push_str("&gt;"),
            '"' => safe.push_str("&quot;"),
            '\'' => safe.push_str("&#39;"),
            c => safe.push(c),
        }
    }
    safe
}

/// Writes the commune's row at position `at` into a slot's `cells`, in the language of
/// `i18n` (read here, so the slot writes again when it changes). `device` says whether its
/// dossier is on this device and whether this slot asked for it.
fn write_row(
    cells: &Cells,
    written: &mut Written,
    i18n: I18n,
    names: Names,
    at: usize,
    row: &DocumentRow,
    (here, asked): (bool, bool),
) {
    use Part::{Attribute, Markup, Text};
    let lang = i18n.lang();
    let pending = is_pending(row);
    let row_el = &cells.row;
    written.put(
        row_el,
        Attribute("aria-rowindex"),
        Some(&(at + 2).to_string()),
    );
    written.put(row_el, Attribute("aria-busy"), pending.then_some("true"));
    let dom_id = (!pending).then(|| row_dom_id(&row.id));
    written.put(row_el, Attribute("id"), dom_id.as_deref());
    written.put(
        row_el,
        Attribute("data-commune"),
        (!pending).then(|| row.commune_code()),
    );
    let status = row.status.clone().unwrap_or_default();
    written.put(
        row_el,
        Attribute("data-status"),
        (!pending).then_some(status.as_str()),
    );
    let href = (!pending).then(|| format!("/assessment/{}", row.id));
    written.put(&cells.link, Attribute("href"), href.as_deref());
    let name = if pending {
        "…".to_owned()
    } else {
        row.commune_label()
    };
    written.put(&cells.link, Text, Some(&name));
    written.put(&cells.status, Attribute("hidden"), pending.then_some(""));
    written.put(
        &cells.status,
        Text,
        (!pending).then(|| status_name(i18n, &status)),
    );
    let points = |value: Option<f64>| {
        if pending {
            String::new()
        } else {
            value.map_or_else(|| "–".to_owned(), |t| decimal(lang, &t.to_string()))
        }
    };
    written.put(
        &cells.self_total,
        Text,
        Some(&points(row.self_total.map(Points::to_f64))),
    );
    written.put(
        &cells.review_total,
        Text,
        Some(&points(row.review_total.map(Points::to_f64))),
    );
    let verdict = row.verdict.as_deref().and_then(Verdict::parse);
    written.put(
        &cells.verdict,
        Attribute("class"),
        Some(&verdict_class(verdict)),
    );
    written.put(&cells.verdict, Text, verdict.map(|v| verdict_name(i18n, v)));
    let side = reviewed(&row.criteria);
    for (column, cell) in cells.criteria.iter().enumerate() {
        let Some(c) = row.criteria.get(column) else {
            written.put(cell, Attribute("class"), Some("heat none"));
            written.put(cell, Attribute("title"), None);
            written.put(cell, Attribute("aria-label"), None);
            written.put(cell, Text, None);
            continue;
        };
        let shown = points(current_points(c, side));
        let (max, required) = (c.max.to_f64(), c.required.to_f64());
        let title = match lang {
            Lang::Vi => format!(
                "{}: {shown} / {} (tối thiểu {})",
                c.id,
                decimal(lang, &max.to_string()),
                decimal(lang, &required.to_string())
            ),
            Lang::En => format!("{}: {shown} of {max} (minimum {required})", c.id),
        };
        written.put(cell, Attribute("class"), Some(heat_class(c, side)));
        written.put(cell, Attribute("title"), Some(&title));
        written.put(cell, Attribute("aria-label"), Some(&title));
        written.put(cell, Text, Some(&shown));
    }
    let conflicts = (row.open_conflicts > 0).then(|| {
        let n = row.open_conflicts;
        let spoken = escape(&match lang {
            Lang::Vi => format!("{n} xung đột chưa giải quyết"),
            Lang::En => format!("{n} open conflicts"),
        });
        format!(
            r#"<span class="warn" role="img" data-testid="conflict-count" aria-label="{spoken}" title="{spoken}">⚠ {n}</span>"#
        )
    });
    written.put(&cells.conflicts, Markup, conflicts.as_deref());
    let late = row.changed_after_submission.as_ref().map(|late| {
        let title = escape(&format!(
            "{}{} — {}",
            i18n.pick("Trạm đã thay đổi sau khi nộp: ", "Changed by the station after submission: "),
            late.items.join(", "),
            late.by.iter().map(|id| names.of(id)).collect::<Vec<_>>().join(", ")
        ));
        format!(
            r#"<span class="warn" title="{title}" aria-label="{title}" data-testid="changed-after-submission">✎</span>"#
        )
    });
    written.put(&cells.late, Markup, late.as_deref());
    let activity = format!(
        "{}{}",
        row.last_change_at
            .map(platform::format_time)
            .unwrap_or_default(),
        row.last_change_by
            .as_ref()
            .map(|by| format!(" · {}", names.of(by)))
            .unwrap_or_default()
    );
    written.put(&cells.activity, Text, Some(&activity));
    let label = keep_offline_label(lang, &name, here);
    written.put(&cells.keep, Attribute("hidden"), pending.then_some(""));
    written.put(
        &cells.keep,
        Attribute("data-here"),
        Some(if here { "true" } else { "false" }),
    );
    written.put(&cells.keep, Attribute("aria-label"), Some(&label));
    written.put(&cells.keep, Attribute("title"), Some(&label));
    written.put(&cells.keep, Attribute("disabled"), here.then_some(""));
    written.put(&cells.keep, Text, Some(keep_offline_glyph(here, asked)));
}

// Run by `wasm-bindgen-test-runner` in headless Chromium (`cargo xtask test`).
#[cfg(all(test, target_arch = "wasm32"))]
#[allow(clippy::unwrap_used)] // tests unwrap what they just built
mod tests {
    use super::{Part, Written, escape};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn markup_is_escaped() {
        assert_eq!(
            escape(r#"Xã "Ân" <b>&'x'"#),
            "Xã &quot;Ân&quot; &lt;b&gt;&amp;&#39;x&#39;"
        );
    }

    #[wasm_bindgen_test]
    fn a_slot_writes_only_what_changed() {
        let document = web_sys::window().unwrap().document().unwrap();
        let cell = document.create_element("td").unwrap();
        let mut written = Written::default();
        let write = |written: &mut Written, text: Option<&str>, title: Option<&str>| {
            written.next = 0;
            written.put(&cell, Part::Text, text);
            written.put(&cell, Part::Attribute("title"), title);
        };
        write(&mut written, Some("6,5"), Some("TC1"));
        assert_eq!(cell.text_content().as_deref(), Some("6,5"));
        assert_eq!(cell.get_attribute("title").as_deref(), Some("TC1"));
        // The same values are not written again: a change made behind the slot's back stays.
        cell.set_text_content(Some("behind"));
        write(&mut written, Some("6,5"), Some("TC1"));
        assert_eq!(cell.text_content().as_deref(), Some("behind"));
        // New ones are; an attribute without a value is removed.
        write(&mut written, Some("7"), None);
        assert_eq!(cell.text_content().as_deref(), Some("7"));
        assert!(!cell.has_attribute("title"));
        let markup = document.create_element("td").unwrap();
        let mut written = Written::default();
        written.put(
            &markup,
            Part::Markup,
            Some(&format!("<span>{}</span>", escape("<i>"))),
        );
        assert_eq!(markup.inner_html(), "<span>&lt;i&gt;</span>");
    }
}
