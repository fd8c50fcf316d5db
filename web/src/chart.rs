//! Charts (biểu đồ) drawn as SVG by our own code from [`tramyte_shared::figures`]: the status
//! funnel, the distribution of totals with the pass line, each criterion's average against its
//! minimum. Each chart is an image with a spoken name, and carries its numbers as text and as
//! `data-` attributes, so what it draws can be read and checked.

use leptos::prelude::*;
use tramyte_shared::figures::{self, Bin, CriterionAverage, FunnelStage};
use tramyte_shared::workflow::Status;

use crate::api::{DocumentRow, MonthProgress};
use crate::i18n::{I18n, Lang};
use crate::page::status_label;

/// Width of every chart's drawing, in SVG units (it scales to its box).
const WIDTH: f64 = 360.0;

/// How many dossiers reached each stage, as horizontal bars.
#[component]
pub fn FunnelChart(i18n: I18n, stages: [FunnelStage; 4]) -> impl IntoView {
    let most = stages.iter().map(|s| s.count).max().unwrap_or(0).max(1) as f64;
    let label = move |stage: &FunnelStage| match (stage.stage, i18n.lang()) {
        (tramyte_shared::workflow::Status::Draft, Lang::Vi) => "Đã mở",
        (tramyte_shared::workflow::Status::Draft, Lang::En) => "Opened",
        (status, _) => status_label(i18n, status),
    };
    let height = stages.len() * 26 + 4;
    let spoken = move || {
        let parts: Vec<String> = stages
            .iter()
            .map(|s| format!("{}: {}", label(s), s.count))
            .collect();
        parts.join(", ")
    };
    view! {
        <figure class="chart-box">
            <figcaption>{i18n.pick_fn("Tiến độ hồ sơ", "Where the dossiers stand")}</figcaption>
            <svg class="chart" role="img" data-testid="chart-funnel" viewBox=format!("0 0 {WIDTH} {height}")
                aria-label=spoken>
                {stages.iter().enumerate().map(|(i, stage)| {
                    let y = i * 26 + 2;
                    let width = stage.count as f64 / most * 200.0;
                    let stage = *stage;
                    view! {
                        <g data-stage=stage.stage.name() data-count=stage.count.to_string()>
                            <text x="0" y=(y + 15).to_string() class="label">{move || label(&stage)}</text>
                            <rect x="110" y=y.to_string() height="20" width=format!("{width:.1}") class="bar"></rect>
                            <text x=format!("{:.1}", 116.0 + width) y=(y + 15).to_string() class="value">{stage.count.to_string()}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

/// The distribution of totals (percent of the maximum) as vertical bars, with the pass line.
#[component]
pub fn TotalsChart(i18n: I18n, bins: Vec<Bin>, pass_percent: Option<u32>) -> impl IntoView {
    const TOP: f64 = 8.0;
    const BASE: f64 = 120.0;
    const LEFT: f64 = 20.0;
    let plot = WIDTH - LEFT - 8.0;
    let most = bins.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
    let x_of = move |percent: f64| LEFT + percent / 100.0 * plot;
    let total: usize = bins.iter().map(|b| b.count).sum();
    let spoken = {
        let listed = bins
            .iter()
            .filter(|b| b.count > 0)
            .map(|b| format!("{}–{} %: {}", b.from, b.to, b.count))
            .collect::<Vec<_>>()
            .join(", ");
        move || {
            let pass = pass_percent
                .map(|p| match i18n.lang() {
                    Lang::Vi => format!("; ngưỡng đạt {p} %"),
                    Lang::En => format!("; pass line {p} %"),
                })
                .unwrap_or_default();
            match i18n.lang() {
                Lang::Vi => format!("Phân bố tổng điểm của {total} hồ sơ: {listed}{pass}"),
                Lang::En => format!("Totals of {total} dossiers: {listed}{pass}"),
            }
        }
    };
    view! {
        <figure class="chart-box">
            <figcaption>{i18n.pick_fn("Phân bố tổng điểm (% điểm tối đa)", "Distribution of totals (% of maximum)")}</figcaption>
            <svg class="chart" role="img" data-testid="chart-totals" data-total=total.to_string()
                viewBox=format!("0 0 {WIDTH} 140") aria-label=spoken>
                {bins.iter().map(|bin| {
                    let height = bin.count as f64 / most * (BASE - TOP);
                    let x = x_of(f64::from(bin.from));
                    let width = (x_of(f64::from(bin.to)) - x - 1.0).max(1.0);
                    view! {
                        <rect class="bar" x=format!("{x:.1}") y=format!("{:.1}", BASE - height)
                            width=format!("{width:.1}") height=format!("{height:.1}")
                            data-from=bin.from.to_string() data-count=bin.count.to_string()></rect>
                    }
                }).collect_view()}
                <line class="axis" x1=LEFT.to_string() x2=format!("{:.1}", LEFT + plot) y1=BASE.to_string() y2=BASE.to_string()></line>
                {[0u32, 50, 100].map(|p| view! {
                    <text class="label" x=format!("{:.1}", x_of(f64::from(p)) - 6.0) y="134">{p.to_string()}</text>
                }).collect_view()}
                {pass_percent.map(|p| {
                    let x = x_of(f64::from(p));
                    view! {
                        <line class="pass-line" data-testid="pass-line" data-percent=p.to_string()
                            x1=format!("{x:.1}") x2=format!("{x:.1}") y1=TOP.to_string() y2=BASE.to_string()></line>
                        <text class="value" x=format!("{:.1}", x - 70.0) y="18">
                            {move || match i18n.lang() { Lang::Vi => format!("ngưỡng đạt {p} %"), Lang::En => format!("pass line {p} %") }}
                        </text>
                    }
                })}
            </svg>
        </figure>
    }
}

/// Each criterion's average points against its minimum (the tick) and maximum (the track).
#[component]
pub fn CriteriaChart(i18n: I18n, averages: Vec<CriterionAverage>) -> impl IntoView {
    const LEFT: f64 = 44.0;
    const TRACK: f64 = 220.0;
    let height = averages.len() * 22 + 4;
    let spoken = {
        let averages = averages.clone();
        move || {
            averages
                .iter()
                .map(|c| {
                    let average = c
                        .average
                        .map(|a| i18n.num(format!("{a:.1}")))
                        .unwrap_or_else(|| "–".into());
                    match i18n.lang() {
                        Lang::Vi => format!(
                            "{} trung bình {average}, tối thiểu {}",
                            c.id,
                            i18n.num(format!("{:.1}", c.required))
                        ),
                        Lang::En => {
                            format!("{} average {average}, minimum {:.1}", c.id, c.required)
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    view! {
        <figure class="chart-box">
            <figcaption>{i18n.pick_fn("Điểm trung bình theo tiêu chí (vạch: mức tối thiểu)", "Average points per criterion (tick: minimum)")}</figcaption>
            <svg class="chart" role="img" data-testid="chart-criteria" viewBox=format!("0 0 {WIDTH} {height}") aria-label=spoken>
                {averages.iter().enumerate().map(|(i, c)| {
                    let y = i * 22 + 2;
                    let share = |v: f64| if c.max > 0.0 { (v / c.max).clamp(0.0, 1.0) } else { 0.0 };
                    let width = c.average.map_or(0.0, |a| share(a) * TRACK);
                    let tick = LEFT + share(c.required) * TRACK;
                    let below = c.average.is_some_and(|a| a < c.required);
                    let text = {
                        let (average, max) = (c.average, c.max);
                        move || average.map(|a| i18n.num(format!("{a:.1}/{max}"))).unwrap_or_else(|| "–".into())
                    };
                    view! {
                        <g data-criterion=c.id.clone() data-average=c.average.map(|a| format!("{a:.2}")).unwrap_or_default()>
                            <text x="0" y=(y + 14).to_string() class="label">{c.id.clone()}</text>
                            <rect x=LEFT.to_string() y=y.to_string() height="16" width=TRACK.to_string() class="track"></rect>
                            <rect x=LEFT.to_string() y=y.to_string() height="16" width=format!("{width:.1}")
                                class=if below { "bar below-minimum" } else { "bar" }></rect>
                            <line class="minimum" x1=format!("{tick:.1}") x2=format!("{tick:.1}") y1=(y as f64 - 1.0).to_string() y2=(y + 17).to_string()></line>
                            <text x=format!("{:.1}", LEFT + TRACK + 6.0) y=(y + 13).to_string() class="value">{text}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

/// Progress against the year's targets month by month: the communes approved by the end of
/// each month (bars) against the communes with a target (the line).
#[component]
pub fn MonthsChart(i18n: I18n, months: Vec<MonthProgress>) -> impl IntoView {
    const TOP: f64 = 14.0;
    const BASE: f64 = 120.0;
    const LEFT: f64 = 20.0;
    let slot = (WIDTH - LEFT - 8.0) / 12.0;
    let most = months
        .iter()
        .map(|m| m.communes.max(m.approved))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let y_of = move |n: usize| BASE - n as f64 / most * (BASE - TOP);
    let target = months.last().map_or(0, |m| m.communes);
    let spoken = {
        let listed = months
            .iter()
            .map(|m| format!("{}: {}/{}", m.month, m.approved, m.communes))
            .collect::<Vec<_>>()
            .join(", ");
        move || match i18n.lang() {
            Lang::Vi => {
                format!("Số xã được thông qua theo tháng (trên số xã có mục tiêu): {listed}")
            }
            Lang::En => format!("Communes approved by month (of those with a target): {listed}"),
        }
    };
    view! {
        <figure class="chart-box">
            <figcaption>{i18n.pick_fn("Tiến độ mục tiêu năm theo tháng", "Progress against the year's targets by month")}</figcaption>
            <svg class="chart" role="img" data-testid="chart-months" viewBox=format!("0 0 {WIDTH} 140") aria-label=spoken>
                {months.iter().map(|m| {
                    let x = LEFT + f64::from(m.month - 1) * slot + 2.0;
                    let y = y_of(m.approved);
                    view! {
                        <g data-month=m.month.to_string() data-approved=m.approved.to_string() data-communes=m.communes.to_string()>
                            <rect class="bar" x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{:.1}", slot - 4.0) height=format!("{:.1}", BASE - y)></rect>
                            <text class="label" x=format!("{:.1}", x + 2.0) y="134">{m.month.to_string()}</text>
                        </g>
                    }
                }).collect_view()}
                <line class="pass-line" x1=LEFT.to_string() x2=format!("{:.1}", WIDTH - 8.0) y1=format!("{:.1}", y_of(target)) y2=format!("{:.1}", y_of(target))></line>
                <text class="value" x=LEFT.to_string() y=format!("{:.1}", y_of(target) - 3.0)>
                    {move || match i18n.lang() { Lang::Vi => format!("{target} xã có mục tiêu"), Lang::En => format!("{target} communes with a target") }}
                </text>
                <line class="axis" x1=LEFT.to_string() x2=format!("{:.1}", WIDTH - 8.0) y1=BASE.to_string() y2=BASE.to_string()></line>
            </svg>
        </figure>
    }
}

/// The charts of a round's assessments (the overview and the printed report): where the
/// dossiers stand, the distribution of totals against the catalog's pass line, and each
/// criterion's average against its minimum.
pub fn round_charts<R: std::borrow::Borrow<DocumentRow>>(
    i18n: I18n,
    rows: &[R],
) -> impl IntoView + use<R> {
    let assessments: Vec<&DocumentRow> = rows
        .iter()
        .map(std::borrow::Borrow::borrow)
        .filter(|r| r.kind == "assessment")
        .collect();
    let stages = figures::funnel(
        assessments
            .iter()
            .filter_map(|r| r.status.as_deref().and_then(Status::parse)),
    );
    let bins = figures::histogram(
        assessments
            .iter()
            .filter_map(|r| figures::total_percent(&r.criteria)),
        5,
    );
    let pass_percent = assessments
        .iter()
        .find_map(|r| r.catalog.as_deref().and_then(crate::page::catalog_for))
        .map(|catalog| catalog.pass_rule.total_min_percent);
    let averages = figures::criterion_averages(assessments.iter().map(|r| r.criteria.as_slice()));
    view! {
        <div class="chart-grid">
            <FunnelChart i18n=i18n stages=stages/>
            <TotalsChart i18n=i18n bins=bins pass_percent=pass_percent/>
            {(!averages.is_empty()).then(|| view! { <CriteriaChart i18n=i18n averages=averages/> })}
        </div>
    }
}
