//! Printable official forms (A4) of one assessment, from the copy on this device: the commune's
//! self-scoring sheet (bảng tự chấm điểm) and the appraisal minutes (biên bản thẩm định) with the
//! points per criterion, the total, the verdict and its reasons, the reviewer's comments and the
//! signature blocks, named and dated from the workflow's events. Always in Vietnamese: they are
//! official papers. The browser's print dialog saves them as PDF.

use leptos::prelude::*;
use tramyte_shared::assessment::{self, AssessmentView, Side};
use tramyte_shared::catalog::Catalog;
use tramyte_shared::points::Points;
use tramyte_shared::scoring::{self, Outcome, ScoreReport};
use tramyte_shared::workflow::EventKind;

use crate::i18n::{Lang, use_i18n};
use crate::page::{catalog_at, document_param, reason_text};
use crate::session::use_session;

/// Which form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Bảng tự chấm điểm: the station's side.
    SelfScoring,
    /// Biên bản thẩm định: both sides, the review deciding.
    AppraisalMinutes,
}

/// `/assessment/:id/self-sheet`.
#[component]
pub fn SelfSheetPage() -> impl IntoView {
    view! { <PrintedForm form=Form::SelfScoring/> }
}

/// `/assessment/:id/minutes`.
#[component]
pub fn MinutesPage() -> impl IntoView {
    view! { <PrintedForm form=Form::AppraisalMinutes/> }
}

#[component]
fn PrintedForm(form: Form) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let repo = session.repo.clone();
    let id = document_param();
    let documents = session.documents;
    let body = move || {
        let id = id()?;
        repo.want(&[id.to_string()]);
        let view = repo
            .read(&id, |doc| assessment::read_assessment(doc).ok())
            .flatten()?;
        let catalog = catalog_at(&view.catalog, view.catalog_revision)?;
        let commune_name = documents
            .with(|docs| {
                docs.iter()
                    .find(|d| d.commune_code() == view.commune)
                    .and_then(|d| d.commune_name.clone())
            })
            .unwrap_or_else(|| format!("xã {}", view.commune));
        Some(sheet(form, &view, &catalog, &commune_name))
    };
    let print = |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <nav class="crumbs no-print">
            {move || id().map(|id| view! { <a href=format!("/assessment/{id}")>{i18n.pick_fn("← Hồ sơ", "← The dossier")}</a> })}
        </nav>
        <div class="no-print actions">
            <button type="button" on:click=print>{i18n.pick_fn("In / lưu PDF", "Print / save as PDF")}</button>
            {move || (i18n.lang() == Lang::En).then(|| view! {
                <p class="hint">"Official forms are printed in Vietnamese."</p>
            })}
        </div>
        {move || body().unwrap_or_else(|| view! {
            <p class="card hint" role="status">"Hồ sơ chưa có trên máy. Nó sẽ được tải về khi có mạng."</p>
        }.into_any())}
    }
}

/// Points as Vietnamese papers write them (`6,5`), `–` when none.
fn points(value: Option<Points>) -> String {
    value.map_or_else(
        || "–".to_owned(),
        |p| crate::i18n::decimal(Lang::Vi, &p.to_string()),
    )
}

/// Whether any item of criterion `id` is scored on this report's side.
fn criterion_scored(report: &ScoreReport, id: &str) -> bool {
    report.criteria.iter().any(|c| {
        c.id == id
            && c.items
                .iter()
                .any(|i| matches!(i.outcome, Outcome::Scored { .. }))
    })
}

fn sheet(form: Form, view: &AssessmentView, catalog: &Catalog, commune: &str) -> AnyView {
    let own = scoring::score(catalog, view, Side::SelfAssessment).ok();
    let review = scoring::score(catalog, view, Side::Review).ok();
    let decisive: Option<&ScoreReport> = match form {
        Form::SelfScoring => own.as_ref(),
        Form::AppraisalMinutes => review.as_ref(),
    };
    let names = crate::names::use_names();
    let i18n = use_i18n();
    let decision = catalog
        .decisions
        .first()
        .map(|d| format!("{} ngày {} của {}", d.number, d.date, d.issuer))
        .unwrap_or_default();
    let title = match form {
        Form::SelfScoring => "BẢNG TỰ CHẤM ĐIỂM",
        Form::AppraisalMinutes => "BIÊN BẢN THẨM ĐỊNH",
    };
    let event_of =
        |wanted: fn(&EventKind) -> bool| view.events.iter().rev().find(|e| wanted(&e.kind));
    let submitted = event_of(|k| matches!(k, EventKind::Submit));
    let appraised = event_of(|k| matches!(k, EventKind::Appraise | EventKind::Approve { .. }));
    let signer = |event: Option<&tramyte_shared::workflow::Event>| {
        event.map(|e| (names.of(&e.by), crate::platform::format_date(e.at)))
    };
    let comment_of = |criterion: &tramyte_shared::catalog::Criterion| {
        let mut ids = vec![criterion.id.to_string()];
        ids.extend(criterion.indicators.iter().map(|i| i.id.to_string()));
        ids.iter()
            .filter_map(|id| view.items.get(id))
            .map(|item| item.review_comment.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let row_of = |report: Option<&ScoreReport>, id: &str| {
        report.and_then(|r| r.criteria.iter().find(|c| c.id == id).cloned())
    };
    let rows = catalog
        .criteria
        .iter()
        .enumerate()
        .map(|(at, criterion)| {
            let id = criterion.id.to_string();
            let mine = row_of(own.as_ref(), &id);
            let theirs = row_of(review.as_ref(), &id);
            let scale = mine.as_ref().or(theirs.as_ref());
            let scored_own = own.as_ref().is_some_and(|r| criterion_scored(r, &id));
            let scored_review = review.as_ref().is_some_and(|r| criterion_scored(r, &id));
            let self_points = points(mine.as_ref().filter(|_| scored_own).map(|c| c.points));
            let review_points = points(theirs.as_ref().filter(|_| scored_review).map(|c| c.points));
            let comment = comment_of(criterion);
            view! {
                <tr data-criterion=id.clone()>
                    <td class="num">{(at + 1).to_string()}</td>
                    <td>{format!("{id}. {}", criterion.name_vi)}</td>
                    <td class="num">{points(scale.map(|c| c.max))}</td>
                    <td class="num">{points(scale.map(|c| c.required))}</td>
                    <td class="num" data-testid="self-points">{self_points}</td>
                    {(form == Form::AppraisalMinutes).then(|| view! {
                        <td class="num" data-testid="review-points">{review_points}</td>
                        <td>{comment}</td>
                    })}
                </tr>
            }
        })
        .collect_view();
    let scored = |report: &ScoreReport| {
        report.criteria.iter().any(|c| {
            c.items
                .iter()
                .any(|i| matches!(i.outcome, Outcome::Scored { .. }))
        })
    };
    let total =
        |report: Option<&ScoreReport>| points(report.filter(|r| scored(r)).map(|r| r.total));
    let verdict = decisive.map(|r| r.verdict.label_vi()).unwrap_or("–");
    let reasons: Vec<String> = decisive
        .map(|r| {
            r.reasons
                .iter()
                .map(|reason| reason_text(i18n, reason))
                .collect()
        })
        .unwrap_or_default();
    let (left_role, right_role, left, right) = match form {
        Form::SelfScoring => (
            "NGƯỜI LẬP BIỂU",
            "TRƯỞNG TRẠM Y TẾ",
            None,
            signer(submitted),
        ),
        Form::AppraisalMinutes => (
            "ĐẠI DIỆN TRẠM Y TẾ",
            "TRƯỞNG ĐOÀN THẨM ĐỊNH",
            signer(submitted),
            signer(appraised),
        ),
    };
    let block = |role: &'static str, who: Option<(String, String)>| {
        let (name, date) = who.unwrap_or_default();
        view! {
            <div class="signature">
                <p class="date">{if date.is_empty() { "Ngày … tháng … năm …".to_owned() } else { format!("Ngày {date}") }}</p>
                <p><strong>{role}</strong></p>
                <p class="hint">"(Ký, ghi rõ họ tên)"</p>
                <p class="name">{name}</p>
            </div>
        }
    };
    view! {
        <article class="official-form" data-testid="official-form" lang="vi">
            <header class="form-head">
                <div>
                    <p><strong>{match form { Form::SelfScoring => format!("TRẠM Y TẾ {}", commune.to_uppercase()), Form::AppraisalMinutes => "ĐƠN VỊ THẨM ĐỊNH".to_owned() }}</strong></p>
                </div>
                <div class="motto">
                    <p><strong>"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"</strong></p>
                    <p><strong>"Độc lập - Tự do - Hạnh phúc"</strong></p>
                </div>
            </header>
            <h1>{title}</h1>
            <p class="subtitle">{format!("Bộ tiêu chí quốc gia về y tế xã ({}) — năm {}", catalog.code.as_str(), view.round)}</p>
            <p class="subtitle">{format!("{commune} · theo Quyết định {decision}")}</p>
            <table class="form-table">
                <thead>
                    <tr>
                        <th>"STT"</th><th>"Tiêu chí"</th><th>"Điểm tối đa"</th><th>"Điểm tối thiểu"</th><th>"Điểm tự chấm"</th>
                        {(form == Form::AppraisalMinutes).then(|| view! { <th>"Điểm thẩm định"</th><th>"Nhận xét"</th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
                <tfoot>
                    <tr>
                        <th colspan="2">"Tổng cộng"</th>
                        <th class="num">{points(own.as_ref().map(|r| r.max))}</th>
                        <th class="num">{points(own.as_ref().map(|r| r.required))}</th>
                        <th class="num" data-testid="self-total">{total(own.as_ref())}</th>
                        {(form == Form::AppraisalMinutes).then(|| view! {
                            <th class="num" data-testid="review-total">{total(review.as_ref())}</th><th></th>
                        })}
                    </tr>
                </tfoot>
            </table>
            <p class="verdict-line" data-testid="form-verdict"><strong>"Kết quả: "</strong>{verdict}</p>
            {(!reasons.is_empty()).then(|| view! {
                <ul class="reasons">{reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
            })}
            <div class="signatures">
                {block(left_role, left)}
                {block(right_role, right)}
            </div>
        </article>
    }
    .into_any()
}
