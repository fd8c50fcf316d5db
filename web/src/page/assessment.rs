//! The assessment editor (phiếu tự đánh giá): criteria as sections with points so far and their
//! minimum, each item with the input its scoring rule needs, the shared note, evidence, the
//! reviewer's comment, conflicts to resolve, field history, and the workflow actions the
//! signed-in role may take. The total and the verdict update as one types.
//!
//! On a phone the criteria are collapsed to one summary line each (points against the minimum,
//! conflicts, reviewer comments, missing input) and open one at a time (`<details name>`); a
//! jump list above them puts the criteria that need attention first.

use leptos::prelude::*;
use tramyte_shared::assessment::{self, Answer, AssessmentView, ConcurrentValue, Evidence, Side};
use tramyte_shared::catalog::{Criterion, Item, Measure, ScoringRule};
use tramyte_shared::commune::Zone;
use tramyte_shared::id::{EvidenceId, ItemId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::{self, Field, Freeze, Role};
use tramyte_shared::scoring::{self, Outcome, Reason, ScoreReport};
use tramyte_shared::sync::document_id::DocumentId;
use tramyte_shared::workflow::{self, DecisionRef, EventKind, Status};

use crate::api;
use crate::i18n::{I18n, Lang, use_i18n};
use crate::page::{catalog_at, reason_text, status_label, verdict_class, verdict_name};
use crate::platform;
use crate::repo::Repo;
use crate::session::{Session, use_session};

/// `/assessment/:id`.
#[component]
pub fn AssessmentPage() -> impl IntoView {
    let id = crate::page::document_param();
    move || match id() {
        Some(id) => view! { <AssessmentEditor id=id/> }.into_any(),
        None => view! { <crate::page::not_found::NotFoundPage/> }.into_any(),
    }
}

/// Everything an item component needs, shared by the page.
#[derive(Clone)]
struct Ctx {
    id: DocumentId,
    repo: Repo,
    session: Session,
    view: Memo<Option<AssessmentView>>,
    report: Memo<Option<ScoreReport>>,
    side: Side,
}

impl Ctx {
    fn user(&self) -> Option<UserId> {
        self.session
            .me
            .with_untracked(|me| me.as_ref().and_then(|m| UserId::parse(&m.user.id).ok()))
    }

    /// Whether the signed-in person may write `field` now: their role allows it and the dossier
    /// is not frozen for that side (it follows the document: a submission arriving greys the
    /// station's inputs).
    fn may(&self, field: Field) -> Memo<bool> {
        let principal = self.session.principal();
        let view = self.view;
        Memo::new(move |_| {
            let status = view.with(|v| v.as_ref().map(|v| v.workflow().status));
            match (&principal, status) {
                (Some(p), Some(status)) => policy::may_write_at(p, &field, status),
                _ => false,
            }
        })
    }

    /// Runs an edit on the document, reporting a refusal to the person.
    fn edit<E: std::fmt::Display>(
        &self,
        problem: RwSignal<Option<String>>,
        edit: impl FnOnce(&mut automerge::AutoCommit, &UserId, i64) -> Result<(), E>,
    ) {
        let Some(user) = self.user() else {
            return;
        };
        let at = platform::now_millis();
        match self.repo.change(&self.id, |doc| edit(doc, &user, at)) {
            Ok(()) => problem.set(None),
            Err(err) => problem.set(Some(err)),
        }
    }
}

#[component]
pub fn AssessmentEditor(id: DocumentId) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let repo = session.repo.clone();
    repo.want(&[id.to_string()]);
    let side = if session.role() == Some(Role::Reviewer) {
        Side::Review
    } else {
        Side::SelfAssessment
    };
    let view = {
        let repo = repo.clone();
        Memo::new(move |_| {
            repo.read(&id, |doc| assessment::read_assessment(doc).ok())
                .flatten()
        })
    };
    let catalog = Memo::new(move |_| {
        view.with(|v| {
            v.as_ref()
                .and_then(|v| catalog_at(&v.catalog, v.catalog_revision))
        })
    });
    let report = Memo::new(move |_| {
        let catalog = catalog.get()?;
        view.with(|v| {
            v.as_ref()
                .and_then(|v| scoring::score(&catalog, v, side).ok())
        })
    });
    // The station's own files stay on its phones: those attached on another phone are
    // downloaded once (the outbox's cap evicts the least recently used beyond it).
    let station = matches!(
        session.role(),
        Some(Role::StationStaff | Role::StationHead | Role::VillageHealthWorker)
    );
    let own_files = Memo::new(move |_| {
        view.with(|v| {
            let v = v.as_ref()?;
            let mut ids: Vec<String> = v
                .items
                .values()
                .flat_map(|item| item.evidence.values())
                .filter_map(|e| e.file.as_ref())
                .flat_map(|f| f.ids().map(str::to_owned).collect::<Vec<_>>())
                .collect();
            ids.sort();
            Some((v.commune.clone(), ids))
        })
    });
    Effect::new(move |_| {
        if let Some((commune, ids)) = own_files
            .get()
            .filter(|(_, ids)| station && !ids.is_empty())
        {
            crate::media::keep(ids.into_iter().map(|id| (id, commune.clone())).collect());
        }
    });
    let ctx = Ctx {
        id,
        repo: repo.clone(),
        session: session.clone(),
        view,
        report,
        side,
    };
    let unavailable = repo.status.unavailable;
    let loading = move || {
        // The dossier is here but the criteria set it names is not (a province's set, or a
        // newer revision, fetched when the phone is online and kept for offline use).
        if let Some((code, revision)) =
            view.with(|v| v.as_ref().map(|v| (v.catalog.clone(), v.catalog_revision)))
        {
            return match i18n.lang() {
                crate::i18n::Lang::Vi => format!(
                    "Bộ tiêu chí {code} (lần ban hành {revision}) của hồ sơ này chưa có trên máy. \
                     Nó sẽ được tải về khi có mạng; nếu vẫn không có, bạn không được xem bộ tiêu chí này."
                ),
                crate::i18n::Lang::En => format!(
                    "The criteria set {code} (revision {revision}) this dossier is scored on is not on \
                     the phone yet. It downloads when online; if it never does, you may not see that set."
                ),
            };
        }
        if unavailable.with(|u| u.contains(&id.to_string())) {
            i18n.pick(
                "Máy chủ không có hồ sơ này, hoặc bạn không có quyền xem.",
                "The server does not have this document, or you may not see it.",
            )
            .to_owned()
        } else {
            i18n.pick(
                "Hồ sơ chưa có trên máy. Nó sẽ được tải về khi có mạng.",
                "This document is not on the phone yet. It downloads when online.",
            )
            .to_owned()
        }
    };
    let wide = platform::wide_screen_signal();
    // Rebuilt only when the document appears or its catalog changes, never on an edit: the
    // inputs keep their focus while people type.
    let loaded = Memo::new(move |_| view.with(Option::is_some));
    let body = move || {
        let catalog = catalog.get()?;
        loaded.get().then(|| {
            let ctx = ctx.clone();
            let (side_ctx, side_catalog) = (ctx.clone(), catalog.clone());
            view! {
                <PresenceLine id=ctx.id/>
                <Summary ctx=ctx.clone()/>
                <Workflow ctx=ctx.clone()/>
                <Show when=move || wide.get()>
                    <SideBySide ctx=side_ctx.clone() catalog=side_catalog.clone()/>
                </Show>
                <JumpList ctx=ctx.clone() criteria=catalog.criteria.clone()/>
                {catalog.criteria.iter().map(|criterion| view! {
                    <CriterionSection ctx=ctx.clone() criterion=criterion.clone()/>
                }).collect_view()}
            }
        })
    };
    view! {
        <nav class="crumbs">
            <a href="/">{i18n.pick_fn("← Trang chính", "← Home")}</a>
            " · "<a href=format!("/assessment/{id}/self-sheet")>{i18n.pick_fn("In bảng tự chấm điểm", "Print the self-scoring sheet")}</a>
            " · "<a href=format!("/assessment/{id}/minutes")>{i18n.pick_fn("In biên bản thẩm định", "Print the appraisal minutes")}</a>
        </nav>
        {move || body().map(IntoAny::into_any).unwrap_or_else(|| view! {
            <p class="card hint" role="status">{loading}</p>
        }.into_any())}
    }
}

/// Commune, round, status, total and verdict with its reasons, and the open conflicts.
#[component]
fn Summary(ctx: Ctx) -> impl IntoView {
    let i18n = use_i18n();
    let names = crate::names::use_names();
    let view = ctx.view;
    let report = ctx.report;
    let side = ctx.side;
    let title = move || {
        view.with(|v| {
            v.as_ref().map(|v| {
                let name = ctx
                    .session
                    .documents
                    .with(|docs| {
                        docs.iter()
                            .find(|d| d.commune_code() == v.commune)
                            .and_then(|d| d.commune_name.clone())
                    })
                    .unwrap_or_else(|| v.commune.clone());
                format!("{name} — {}", v.round)
            })
        })
    };
    let status = move || view.with(|v| v.as_ref().map(|v| v.workflow().status));
    let changed_since_approval = {
        let repo = ctx.repo.clone();
        let id = ctx.id;
        move || {
            let heads = view.with(|v| v.as_ref()?.workflow().approval.map(|a| a.heads))?;
            repo.inspect(&id, |doc| assessment::changed_since(doc, &heads).ok())
                .flatten()
        }
    };
    // Read-only for this person's side, and why (khóa hồ sơ): `Some(true)` once approved.
    let frozen = {
        let role = ctx.session.role();
        move || {
            let status = status()?;
            let side = match role? {
                Role::StationStaff | Role::StationHead | Role::VillageHealthWorker => {
                    Freeze::StationSide
                }
                _ => Freeze::ReviewSide,
            };
            side.refuses(status)?;
            Some(!matches!(status, Status::Submitted | Status::Appraised))
        }
    };
    // What the station changed offline, concurrently with its submission, and no reviewer saw.
    let late = {
        let repo = ctx.repo.clone();
        let id = ctx.id;
        move || {
            let state = view.with(|v| v.as_ref().map(AssessmentView::workflow))?;
            state.submission.as_ref()?;
            repo.inspect(&id, |doc| {
                assessment::changed_after_submission(doc, &state).ok()
            })
            .flatten()
            .flatten()
        }
    };
    // Who made the unsigned changes (notes, removals): the server knows whose device it was.
    let late_names = RwSignal::new(Vec::<String>::new());
    {
        let late = late.clone();
        let id = ctx.id.to_string();
        Effect::new(move |_| {
            let Some(at) = late().map(|l| l.at) else {
                return;
            };
            let Some(commune) = view.with_untracked(|v| v.as_ref().map(|v| v.commune.clone()))
            else {
                return;
            };
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let Ok(rows) = api::assessments_of(&commune).await else {
                    return;
                };
                let names = rows
                    .into_iter()
                    .find(|row| row.id == id)
                    .and_then(|row| row.changed_after_submission)
                    .filter(|listed| listed.at >= at)
                    .map(|listed| listed.by)
                    .unwrap_or_default();
                late_names.set(names);
            });
        });
    }
    let may_acknowledge = {
        let role = ctx.session.role();
        move || {
            role.is_some_and(|r| policy::may_record_event(r, &EventKind::Acknowledge))
                && status()
                    .is_some_and(|s| workflow::transition(s, &EventKind::Acknowledge).is_some())
        }
    };
    let late_problem = RwSignal::new(None::<String>);
    let acknowledge = {
        let ctx = ctx.clone();
        move || {
            ctx.edit(late_problem, |doc, user, at| {
                assessment::append_event(doc, &EventKind::Acknowledge, user, at, "").map(drop)
            });
        }
    };
    // The province sets the commune's zone for the round (vùng); it changes which indicators apply.
    let may_zone = ctx.may(Field::Zone);
    let zone = move || view.with(|v| v.as_ref().map(|v| v.zone));
    let zone_problem = RwSignal::new(None::<String>);
    let set_zone = {
        let ctx = ctx.clone();
        move |ev: leptos::ev::Event| {
            let Some(zone) = event_target_value(&ev)
                .parse::<i64>()
                .ok()
                .and_then(|z| Zone::new(z).ok())
            else {
                return;
            };
            ctx.edit(zone_problem, move |doc, _, at| {
                assessment::set_zone(doc, zone, at)
            });
        }
    };
    let side_label = move || match side {
        Side::SelfAssessment => i18n.pick("Điểm tự chấm", "Self score"),
        Side::Review => i18n.pick("Điểm thẩm định", "Review score"),
    };
    view! {
        <section class="card summary" aria-labelledby="assessment-title">
            <h1 id="assessment-title">{title}</h1>
            <p>
                <span class="badge" data-testid="status">
                    {move || status().map(|s| status_label(i18n, s)).unwrap_or_default()}
                </span>
                " "
                <label class="zone">
                    <span>{i18n.pick_fn("Vùng", "Zone")}</span>
                    <select disabled=move || !may_zone.get() on:change=set_zone>
                        {Zone::ALL.into_iter().map(|z| view! {
                            <option value=z.get().to_string() selected=move || zone() == Some(z)>{z.get()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </p>
            {crate::page::problem_line(zone_problem.read_only(), "error", "alert")}
            {move || report.get().map(|r| {
                let verdict_class = verdict_class(Some(r.verdict));
                let reasons: Vec<Reason> = r.reasons.clone();
                view! {
                    <p class="score">
                        {side_label}": "
                        <strong data-testid="total">{i18n.num(r.total)}</strong>
                        " / "{i18n.num(r.max)}
                        " · "{i18n.pick_fn("cần", "needs")}" "{i18n.num(r.required)}
                        " · "
                        <span class=verdict_class data-testid="verdict">{verdict_name(i18n, r.verdict)}</span>
                    </p>
                    <ul class="reasons">
                        {reasons.into_iter().map(|reason| view! {
                            <li>{move || reason_text(i18n, &reason)}</li>
                        }).collect_view()}
                    </ul>
                }
            })}
            {move || {
                let conflicts = report.with(|r| r.as_ref().map(|r| r.conflicts.clone()).unwrap_or_default());
                (!conflicts.is_empty()).then(|| view! {
                    <div class="conflicts" role="region" aria-label=i18n.pick_fn("Xung đột", "Conflicts") data-testid="conflicts">
                        <strong>{i18n.pick_fn("Giá trị xung đột cần chọn:", "Conflicting values to resolve:")}</strong>
                        <ul>
                            {conflicts.into_iter().map(|item| {
                                let href = format!("#item-{item}");
                                view! { <li><a href=href>{item.clone()}</a></li> }
                            }).collect_view()}
                        </ul>
                    </div>
                })
            }}
            {move || frozen().map(|approved| view! {
                <p class="frozen" role="status" data-testid="frozen">
                    {if approved {
                        i18n.pick_fn(
                            "Hồ sơ đã được thông qua nên không ai sửa được. Người thẩm định có thể mở lại hồ sơ, kèm lý do.",
                            "The dossier is approved: nobody can change it. A reviewer can reopen it, with a reason.",
                        )
                    } else {
                        i18n.pick_fn(
                            "Hồ sơ đã nộp: phần tự đánh giá chỉ xem, không sửa được. Đơn vị thẩm định có thể trả lại hồ sơ để trạm sửa.",
                            "The dossier is submitted: the self-assessment is read-only. The reviewing body can return it for the station to change.",
                        )
                    }}
                </p>
            })}
            {move || late().map(|late| {
                let acknowledge = acknowledge.clone();
                view! {
                <div class="warn" role="status" data-testid="changed-after-submission">
                    <strong>{i18n.pick_fn("Trạm đã thay đổi sau khi nộp: ", "Changed by the station after submission: ")}</strong>
                    {late.items.iter().map(|item| {
                        let href = format!("#item-{item}");
                        view! { <a href=href>{item.clone()}</a>" " }
                    }).collect_view()}
                    <span class="hint">
                        {move || {
                            let mut by: Vec<String> = late.by.iter().map(|id| names.of(id)).collect();
                            by.extend(late_names.get().iter().map(|id| names.of(id)));
                            by.sort();
                            by.dedup();
                            (!by.is_empty()).then(|| format!("— {} ", by.join(", ")))
                        }}
                        {platform::format_time(late.at)}
                    </span>
                    <Show when=move || may_acknowledge()>
                        <button type="button" on:click={
                            let acknowledge = acknowledge.clone();
                            move |_| acknowledge()
                        }>{i18n.pick_fn("Đã xem các thay đổi", "Acknowledge the changes")}</button>
                    </Show>
                </div>
                }
            })}
            {crate::page::problem_line(late_problem.read_only(), "error", "alert")}
            {move || changed_since_approval().filter(|c| !c.is_empty()).map(|changed| view! {
                <p class="warn" data-testid="changed-since-approval">
                    {i18n.pick_fn("Đã thay đổi sau khi thông qua: ", "Changed since the approval: ")}
                    {changed.join(", ")}
                </p>
            })}
            <p class="hint">
                <a href=format!("/api/documents/{}/audit.csv", ctx.id) download="">
                    {i18n.pick_fn("Tải nhật ký thay đổi (CSV)", "Download the change log (CSV)")}
                </a>
                " · "
                <a href=format!("/api/documents/{}/dossier.zip", ctx.id) download="" data-testid="dossier-zip">
                    {i18n.pick_fn("Tải hồ sơ kèm minh chứng (ZIP)", "Download the dossier with its evidence (ZIP)")}
                </a>
            </p>
        </section>
    }
}

/// Submit (station head), return / appraise / approve (reviewer); the reviewer's last comment.
#[component]
fn Workflow(ctx: Ctx) -> impl IntoView {
    let i18n = use_i18n();
    let names = crate::names::use_names();
    let view = ctx.view;
    let report = ctx.report;
    let role = ctx.session.role();
    let problem = RwSignal::new(None::<String>);
    let comment = RwSignal::new(String::new());
    let decision_number = RwSignal::new(String::new());
    let decision_date = RwSignal::new(String::new());
    let status = move || view.with(|v| v.as_ref().map(|v| v.workflow().status));
    let last_return = move || {
        view.with(|v| {
            let v = v.as_ref()?;
            let state = v.workflow();
            if state.status != Status::Returned {
                return None;
            }
            v.events
                .iter()
                .rev()
                .find(|e| matches!(e.kind, EventKind::Return))
                .map(|e| (e.comment.clone(), e.by.clone(), e.at))
        })
    };
    let can = move |kind: &EventKind| {
        let allowed = role.is_some_and(|r| policy::may_record_event(r, kind));
        allowed && status().is_some_and(|s| workflow::transition(s, kind).is_some())
    };
    let record = {
        let ctx = ctx.clone();
        move |kind: EventKind| {
            let text = comment.get_untracked();
            if matches!(kind, EventKind::Submit) {
                let mut open = Vec::new();
                if let Some(r) = report.get_untracked() {
                    for reason in &r.reasons {
                        if let Reason::Incomplete { missing } = reason {
                            open.extend(missing.iter().cloned());
                        }
                    }
                    for item in &r.conflicts {
                        open.push(format!("{item} ({})", i18n.pick("xung đột", "conflict")));
                    }
                }
                let question = if open.is_empty() {
                    i18n.pick("Nộp hồ sơ tự đánh giá?", "Submit the self-assessment?")
                        .to_owned()
                } else {
                    format!(
                        "{}\n{}\n\n{}",
                        i18n.pick(
                            "Còn các mục chưa hoàn thành:",
                            "These items are not complete:"
                        ),
                        open.join(", "),
                        i18n.pick("Vẫn nộp hồ sơ?", "Submit anyway?")
                    )
                };
                if !platform::confirm(&question) {
                    return;
                }
            }
            let decision = {
                let number = decision_number.get_untracked().trim().to_owned();
                let date = decision_date.get_untracked().trim().to_owned();
                (!number.is_empty() && !date.is_empty()).then_some(DecisionRef { number, date })
            };
            if matches!(kind, EventKind::Reopen) && text.trim().is_empty() {
                problem.set(Some(
                    i18n.pick(
                        "Mở lại hồ sơ đã thông qua cần ghi lý do (ý kiến kèm theo).",
                        "Reopening an approved dossier needs a reason (the comment).",
                    )
                    .to_owned(),
                ));
                return;
            }
            let kind = match kind {
                EventKind::Approve { .. } => {
                    let heads = ctx.repo.heads(&ctx.id);
                    EventKind::Approve { heads }
                }
                EventKind::Recognize { .. } => match decision {
                    Some(decision) => EventKind::Recognize { decision },
                    None => {
                        problem.set(Some(
                            i18n.pick(
                                "Công nhận cần số và ngày quyết định.",
                                "Recognition needs the decision's number and date.",
                            )
                            .to_owned(),
                        ));
                        return;
                    }
                },
                EventKind::Maintain { .. } => EventKind::Maintain { decision },
                EventKind::Withdraw { .. } => EventKind::Withdraw { decision },
                other => other,
            };
            ctx.edit(problem, |doc, user, at| {
                assessment::append_event(doc, &kind, user, at, &text).map(drop)
            });
            comment.set(String::new());
            decision_number.set(String::new());
            decision_date.set(String::new());
        }
    };
    let reviewer = matches!(
        role,
        Some(Role::Reviewer | Role::ProvincialAdmin | Role::SystemAdmin)
    );
    let province = matches!(role, Some(Role::ProvincialAdmin | Role::SystemAdmin));
    let recognition = move || view.with(|v| v.as_ref().and_then(|v| v.workflow().recognition));
    let button = move |kind: EventKind, label: &'static str, label_en: &'static str| {
        let record = record.clone();
        let shown = kind.clone();
        view! {
            <Show when=move || can(&shown)>
                <button type="button" on:click={
                    let record = record.clone();
                    let kind = kind.clone();
                    move |_| record(kind.clone())
                }>{i18n.pick_fn(label, label_en)}</button>
            </Show>
        }
    };
    let recognize = EventKind::Recognize {
        decision: DecisionRef {
            number: String::new(),
            date: String::new(),
        },
    };
    let all_kinds = [
        EventKind::Submit,
        EventKind::Return,
        EventKind::Appraise,
        EventKind::Approve { heads: Vec::new() },
        recognize.clone(),
        EventKind::Maintain { decision: None },
        EventKind::Withdraw { decision: None },
        EventKind::Reopen,
    ];
    // Shown only when there is something to read or do.
    let shown = move || reviewer || last_return().is_some() || all_kinds.iter().any(can);
    view! {
        <Show when=shown>
        <section class="card workflow" aria-label=i18n.pick_fn("Quy trình", "Workflow")>
            {move || last_return().map(|(text, by, at)| {
                // The items the reviewer commented on: what the return is about.
                let commented: Vec<String> = view.with(|v| v.as_ref().map(|v| v.items.iter()
                    .filter(|(_, item)| !item.review_comment.trim().is_empty())
                    .map(|(id, _)| id.clone())
                    .collect()).unwrap_or_default());
                view! {
                <div class="returned" role="note" data-testid="return-comment">
                    <strong>{i18n.pick_fn("Hồ sơ bị trả lại: ", "Returned: ")}</strong>
                    {text.clone()}
                    <span class="hint">" — "{names.of(&by)}", "{platform::format_time(at)}</span>
                    {(!commented.is_empty()).then(|| view! {
                        <p class="return-items" data-testid="return-items">
                            {i18n.pick_fn("Nhận xét tại: ", "Comments on: ")}
                            {commented.into_iter().map(|item| view! {
                                <a href=format!("#item-{item}")>{item.clone()}</a>" "
                            }).collect_view()}
                        </p>
                    })}
                </div>
                }
            })}
            <Show when=move || reviewer>
                <label class="block">
                    <span>{i18n.pick_fn("Ý kiến kèm theo", "Comment")}</span>
                    <textarea prop:value=move || comment.get()
                        on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                </label>
            </Show>
            <div class="actions">
                {button(EventKind::Submit, "Nộp hồ sơ", "Submit")}
                {button(EventKind::Return, "Trả lại", "Return")}
                {button(EventKind::Appraise, "Đã thẩm định", "Appraised")}
                {button(EventKind::Approve { heads: Vec::new() }, "Thông qua", "Approve")}
                {button(recognize.clone(), "Công nhận", "Recognize")}
                {button(EventKind::Maintain { decision: None }, "Duy trì", "Maintain")}
                {button(EventKind::Withdraw { decision: None }, "Thu hồi", "Withdraw")}
                {button(EventKind::Reopen, "Mở lại (kèm lý do)", "Reopen (with a reason)")}
            </div>
            <Show when=move || province>
                <div class="filters">
                    <label class="block">
                        <span>{i18n.pick_fn("Số quyết định", "Decision number")}</span>
                        <input type="text" placeholder="1234/QĐ-UBND" prop:value=move || decision_number.get()
                            on:input=move |ev| decision_number.set(event_target_value(&ev))/>
                    </label>
                    <label class="block">
                        <span>{i18n.pick_fn("Ngày quyết định", "Decision date")}</span>
                        <input type="date" prop:value=move || decision_date.get()
                            on:input=move |ev| decision_date.set(event_target_value(&ev))/>
                    </label>
                </div>
            </Show>
            {move || recognition().map(|d| {
                // Recognition lasts three years (QĐ 1300): valid until the same day three years on.
                let until = d.date.get(..4).and_then(|y| y.parse::<u32>().ok())
                    .map(|y| format!("{}{}", y + 3, &d.date[4..]))
                    .unwrap_or_default();
                view! {
                    <p class="recognized" data-testid="recognition">
                        {i18n.pick_fn("Quyết định công nhận ", "Recognized by decision ")}
                        {d.number.clone()}", "{d.date.clone()}" · "
                        {i18n.pick_fn("hiệu lực đến ", "valid until ")}{until.clone()}
                    </p>
                }
            })}
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
        </section>
        </Show>
    }
}

/// The staffing facts of the commune's roster, shown with the staffing criterion (TC2).
#[component]
fn StaffingFacts(ctx: Ctx) -> impl IntoView {
    let i18n = use_i18n();
    let commune = move || ctx.view.with(|v| v.as_ref().map(|v| v.commune.clone()));
    let roster = move || {
        let commune = commune()?;
        ctx.session.documents.with(|docs| {
            docs.iter()
                .find(|d| d.kind == "roster" && d.commune_code() == commune)
                .and_then(|d| d.id.parse::<DocumentId>().ok())
        })
    };
    let repo = ctx.repo.clone();
    let facts = move || {
        let id = roster()?;
        repo.read(&id, |doc| {
            tramyte_shared::roster::read_roster(doc)
                .ok()
                .map(|r| (id, tramyte_shared::roster::staffing(&r)))
        })
        .flatten()
    };
    move || {
        facts().map(|(id, f)| {
            view! {
                <div class="facts-box" data-testid="staffing-facts">
                    <strong>{i18n.pick_fn("Theo danh sách nhân lực: ", "From the roster: ")}</strong>
                    {move || if f.doctor_on_staff { i18n.pick("có bác sĩ", "a doctor on staff") } else { i18n.pick("chưa có bác sĩ", "no doctor on staff") }}
                    "; "
                    {match i18n.lang() {
                        Lang::Vi => format!("{}/{} thôn, bản có nhân viên y tế đào tạo ≥ 6 tháng", f.villages_with_trained_worker, f.villages),
                        Lang::En => format!("{}/{} villages with a worker trained ≥ 6 months", f.villages_with_trained_worker, f.villages),
                    }}
                    " · "<a href=format!("/roster/{id}")>{i18n.pick_fn("Xem", "Open")}</a>
                </div>
            }
        })
    }
}

/// One criterion: its points so far against its maximum and minimum, then its items.
#[component]
fn CriterionSection(ctx: Ctx, criterion: Criterion) -> impl IntoView {
    let i18n = use_i18n();
    let report = ctx.report;
    let criterion_id = criterion.id.as_str().to_owned();
    let score = {
        let criterion_id = criterion_id.clone();
        move || {
            report.with(|r| {
                r.as_ref()?
                    .criteria
                    .iter()
                    .find(|c| c.id == criterion_id)
                    .map(|c| (c.points, c.max, c.required))
            })
        }
    };
    let name_vi = criterion.name_vi.clone();
    let name_en = if criterion.name_en.is_empty() {
        criterion.name_vi.clone()
    } else {
        criterion.name_en.clone()
    };
    let items: Vec<(String, String, String, Points, ScoringRule, bool)> = criterion
        .items()
        .iter()
        .map(|item: &Item<'_>| {
            let (vi, en) = match item.indicator {
                Some(i) => (i.name_vi.clone(), i.name_en.clone()),
                None => (String::new(), String::new()),
            };
            (
                item.id().as_str().to_owned(),
                vi,
                en,
                item.max_points(),
                item.rule().clone(),
                item.knockout(),
            )
        })
        .collect();
    let heading_id = format!("criterion-{criterion_id}");
    let details_id = format!("open-{criterion_id}");
    let state = {
        let ctx = ctx.clone();
        let criterion_id = criterion_id.clone();
        move || criterion_state(&ctx, &criterion_id)
    };
    view! {
        <details class="card criterion" id=details_id name="criteria" data-criterion=criterion_id.clone()>
            <summary>
                <h2 id=heading_id>
                    {criterion_id.clone()}". "
                    {move || if i18n.lang() == Lang::Vi { name_vi.clone() } else { name_en.clone() }}
                </h2>
                <span class="criterion-line" data-testid="criterion-line">
                    {move || summary_line(i18n, &state())}
                </span>
            </summary>
            {move || score().map(|(points, max, required)| {
                let met = points >= required;
                view! {
                    <p class="criterion-score" class:met=met>
                        <strong>{i18n.num(points)}</strong>" / "{i18n.num(max)}" "
                        {i18n.pick_fn("điểm", "points")}" · "
                        {move || if met { i18n.pick("đạt mức tối thiểu ", "meets its minimum ") } else { i18n.pick("chưa đạt mức tối thiểu ", "below its minimum ") }}
                        {i18n.num(required)}
                    </p>
                }
            })}
            {(criterion_id == "TC2").then(|| view! { <StaffingFacts ctx=ctx.clone()/> })}
            {items.into_iter().map(|(item, vi, en, max, rule, knockout)| view! {
                <ItemEditor ctx=ctx.clone() item=item name_vi=vi name_en=en max=max rule=rule knockout=knockout/>
            }).collect_view()}
        </details>
    }
}

/// One criterion's line of the side-by-side table.
#[derive(Clone, Debug, Default, PartialEq)]
struct SideRow {
    own: Option<Points>,
    review: Option<Points>,
    scale: Option<(Points, Points)>,
    comments: String,
    evidence: usize,
}

/// On a desk (a wide screen): every criterion in one compact table, the station's and the
/// reviewer's points side by side against the maximum and minimum, the reviewer's comments and
/// the evidence count inline; a row opens its criterion below. For a reviewer, each criterion's
/// items follow it with the review score and comment editable in place (written as the sections
/// below write them; disabled while the dossier is frozen for the review). The table is built
/// once from the catalog and its cells follow the document, so an input keeps its focus while
/// the points update. Phones keep the summary lines.
#[component]
fn SideBySide(ctx: Ctx, catalog: tramyte_shared::catalog::Catalog) -> impl IntoView {
    let i18n = use_i18n();
    let view = ctx.view;
    let scored_catalog = catalog.clone();
    let lines = Memo::new(move |_| {
        let catalog = &scored_catalog;
        view.with(|v| {
            let v = v.as_ref()?;
            let own = scoring::score(catalog, v, Side::SelfAssessment).ok()?;
            let review = scoring::score(catalog, v, Side::Review).ok()?;
            let scored = |c: &scoring::CriterionScore| {
                c.items
                    .iter()
                    .any(|i| matches!(i.outcome, Outcome::Scored { .. }))
            };
            Some(
                catalog
                    .criteria
                    .iter()
                    .map(|criterion| {
                        let id = criterion.id.as_str();
                        let mine = own.criteria.iter().find(|c| c.id == id);
                        let theirs = review.criteria.iter().find(|c| c.id == id);
                        let items: Vec<&tramyte_shared::assessment::ItemView> = criterion
                            .items()
                            .iter()
                            .filter_map(|item| v.items.get(item.id().as_str()))
                            .collect();
                        let comments: Vec<String> = items
                            .iter()
                            .map(|i| i.review_comment.trim().to_owned())
                            .filter(|c| !c.is_empty())
                            .collect();
                        SideRow {
                            own: mine.filter(|c| scored(c)).map(|c| c.points),
                            review: theirs.filter(|c| scored(c)).map(|c| c.points),
                            scale: mine.map(|c| (c.max, c.required)),
                            comments: comments.join(" · "),
                            evidence: items.iter().map(|i| i.evidence.len()).sum(),
                        }
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .unwrap_or_default()
    });
    let shown = move |p: Option<Points>| p.map(|p| i18n.num(p)).unwrap_or_else(|| "–".into());
    let reviewer = ctx.side == Side::Review;
    let problem = RwSignal::new(None::<String>);
    let body = catalog
        .criteria
        .iter()
        .enumerate()
        .map(|(at, criterion)| {
            let id = criterion.id.as_str().to_owned();
            let line = move || lines.with(|l| l.get(at).cloned().unwrap_or_default());
            let target = format!("open-{id}");
            let below = move |p: Option<Points>, scale: Option<(Points, Points)>| {
                scale.is_some_and(|(_, min)| p.is_some_and(|p| p < min))
            };
            let items = reviewer.then(|| {
                criterion
                    .items()
                    .iter()
                    .map(|item| {
                        side_item_row(
                            ctx.clone(),
                            i18n,
                            item.id().as_str().to_owned(),
                            item.max_points(),
                            item.rule().clone(),
                            problem,
                        )
                    })
                    .collect_view()
            });
            view! {
                <tr data-criterion=id.clone() class="criterion-row">
                    <th scope="row"><a href=format!("#{target}") on:click=move |ev| { ev.prevent_default(); open_criterion(&target); }>{id.clone()}</a></th>
                    <td class="num">{move || shown(line().scale.map(|s| s.0))}</td>
                    <td class="num">{move || shown(line().scale.map(|s| s.1))}</td>
                    <td class="num" class:below=move || { let l = line(); below(l.own, l.scale) } data-testid="side-self">{move || shown(line().own)}</td>
                    <td class="num" class:below=move || { let l = line(); below(l.review, l.scale) } data-testid="side-review">{move || shown(line().review)}</td>
                    <td data-testid="side-comments">{move || line().comments}</td>
                    <td class="num">{move || line().evidence.to_string()}</td>
                </tr>
                {items}
            }
        })
        .collect_view();
    view! {
        <section class="card side-by-side" aria-labelledby="side-by-side-title">
            <h2 id="side-by-side-title">{i18n.pick_fn("Tự chấm và thẩm định", "Self score and review")}</h2>
            <table class="figures-table" data-testid="side-by-side">
                <thead>
                    <tr>
                        <th scope="col">{i18n.pick_fn("Tiêu chí", "Criterion")}</th>
                        <th scope="col">{i18n.pick_fn("Tối đa", "Maximum")}</th>
                        <th scope="col">{i18n.pick_fn("Tối thiểu", "Minimum")}</th>
                        <th scope="col">{i18n.pick_fn("Tự chấm", "Self")}</th>
                        <th scope="col">{i18n.pick_fn("Thẩm định", "Review")}</th>
                        <th scope="col">{i18n.pick_fn("Nhận xét", "Comments")}</th>
                        <th scope="col">{i18n.pick_fn("Minh chứng", "Evidence")}</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
        </section>
    }
}

/// One item under its criterion in the side-by-side table, for a reviewer: the station's
/// answer, the review score and the reviewer's comment, editable in place (Tab moves from one
/// to the next; a value is written when it is committed — Enter, or leaving the field).
fn side_item_row(
    ctx: Ctx,
    i18n: I18n,
    item: String,
    max: Points,
    rule: ScoringRule,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let Ok(item_id) = ItemId::parse(&item) else {
        return ().into_any();
    };
    let view = ctx.view;
    let may_score = ctx.may(Field::ReviewScore { item: item.clone() });
    let may_comment = ctx.may(Field::ReviewComment { item: item.clone() });
    let item_view = item_memo(view, &item);
    let station = move || {
        item_view
            .with(|v| {
                v.as_ref()
                    .and_then(|v| v.self_score.as_ref())
                    .map(|s| answer_text(i18n, &s.answer))
            })
            .unwrap_or_else(|| "–".to_owned())
    };
    let current = move || item_view.with(|v| v.as_ref().and_then(|v| v.review_score.clone()));
    let write = {
        let ctx = ctx.clone();
        let item_id = item_id.clone();
        move |answer: Answer| {
            let item_id = item_id.clone();
            ctx.edit(problem, move |doc, user, at| {
                assessment::set_score(doc, Side::Review, &item_id, answer, user, at)
            });
        }
    };
    let score_label = {
        let item = item.clone();
        move || {
            format!(
                "{} {item} {}",
                i18n.pick("Điểm thẩm định", "Review score"),
                i18n.pick("(bảng)", "(table)")
            )
        }
    };
    let input = match rule {
        ScoringRule::YesNo => {
            let value = move || match current().map(|v| v.answer) {
                Some(Answer::Met(true)) => "yes",
                Some(Answer::Met(false)) => "no",
                _ => "",
            };
            view! {
                <select aria-label=score_label data-testid="side-review-input" disabled=move || !may_score.get()
                    prop:value=value
                    on:change=move |ev| match event_target_value(&ev).as_str() {
                        "yes" => write(Answer::Met(true)),
                        "no" => write(Answer::Met(false)),
                        _ => {}
                    }>
                    <option value="">"–"</option>
                    <option value="yes">{i18n.pick_fn("Đạt", "Met")}</option>
                    <option value="no">{i18n.pick_fn("Không đạt", "Not met")}</option>
                </select>
            }
            .into_any()
        }
        rule => {
            let measured = matches!(rule, ScoringRule::Bands { .. });
            let value = move || match current().map(|v| v.answer) {
                Some(Answer::Points(p)) => p.to_string(),
                Some(Answer::Measured(m)) => m.to_string(),
                _ => String::new(),
            };
            view! {
                <input type="number" inputmode="decimal" step=if measured { "any" } else { "0.5" } min="0"
                    max=(!measured).then(|| max.to_string())
                    aria-label=score_label data-testid="side-review-input" disabled=move || !may_score.get()
                    prop:value=value
                    on:change=move |ev| {
                        let text = event_target_value(&ev).replace(',', ".");
                        let text = text.trim();
                        if text.is_empty() { return; }
                        if measured {
                            match text.parse::<f64>() {
                                Ok(v) if v.is_finite() && v >= 0.0 => write(Answer::Measured(v)),
                                _ => problem.set(Some(i18n.pick("Giá trị đo không hợp lệ", "Not a valid measured value").to_owned())),
                            }
                        } else {
                            match text.parse::<f64>().ok().and_then(|f| Points::from_f64(f).ok()) {
                                Some(points) if points <= max => write(Answer::Points(points)),
                                _ => problem.set(Some(match i18n.lang() {
                                    Lang::Vi => format!("Điểm phải từ 0 đến {}, theo bước 0,5", i18n.num(max)),
                                    Lang::En => format!("Points go from 0 to {max} in steps of 0.5"),
                                })),
                            }
                        }
                    }/>
            }
            .into_any()
        }
    };
    let comment = review_comment_of(item_view);
    let on_comment = write_review_comment(&ctx, problem, &item_id);
    let comment_label = {
        let item = item.clone();
        move || {
            format!(
                "{} {item} {}",
                i18n.pick("Nhận xét của đơn vị thẩm định về", "Reviewer's comment on"),
                i18n.pick("(bảng)", "(table)")
            )
        }
    };
    view! {
        <tr class="item-row" data-item=item.clone()>
            <th scope="row" class="item-id">{item.clone()}</th>
            <td class="num">{i18n.num(max)}</td>
            <td></td>
            <td class="num" data-testid="side-item-self">{station}</td>
            <td>{input}</td>
            <td><input type="text" aria-label=comment_label data-testid="side-comment-input"
                disabled=move || !may_comment.get() prop:value=comment on:change=on_comment/></td>
            <td></td>
        </tr>
    }
    .into_any()
}

/// What a criterion's summary line and the jump list say of it.
#[derive(Debug, Clone, Default, PartialEq)]
struct CriterionState {
    points: Option<(Points, Points, Points)>,
    conflicts: usize,
    comments: usize,
    missing: usize,
}

impl CriterionState {
    /// Conflicts, missing input, points below the minimum, or reviewer comments.
    fn needs_attention(&self) -> bool {
        self.conflicts > 0
            || self.missing > 0
            || self.comments > 0
            || self
                .points
                .is_some_and(|(points, _, required)| points < required)
    }
}

fn criterion_state(ctx: &Ctx, criterion_id: &str) -> CriterionState {
    let side = ctx.side;
    let (points, items) = ctx
        .report
        .with(|r| {
            let c = r.as_ref()?.criteria.iter().find(|c| c.id == criterion_id)?;
            let missing = c
                .items
                .iter()
                .filter(|i| matches!(i.outcome, Outcome::Missing | Outcome::Invalid { .. }))
                .count();
            let ids: Vec<String> = c.items.iter().map(|i| i.id.clone()).collect();
            Some(((c.points, c.max, c.required, missing), ids))
        })
        .map_or((None, Vec::new()), |(p, ids)| (Some(p), ids));
    let (conflicts, comments) = ctx.view.with(|v| {
        v.as_ref().map_or((0, 0), |v| {
            let items: Vec<_> = items.iter().filter_map(|id| v.items.get(id)).collect();
            (
                items.iter().filter(|i| i.conflicts.contains(&side)).count(),
                items
                    .iter()
                    .filter(|i| !i.review_comment.trim().is_empty())
                    .count(),
            )
        })
    });
    CriterionState {
        points: points.map(|(p, m, r, _)| (p, m, r)),
        conflicts,
        comments,
        missing: points.map_or(0, |(_, _, _, missing)| missing),
    }
}

fn summary_line(i18n: I18n, state: &CriterionState) -> String {
    let mut parts = Vec::new();
    if let Some((points, max, required)) = state.points {
        let mark = if points >= required { "✓" } else { "✗" };
        parts.push(format!(
            "{points}/{max} {} {required} {mark}",
            i18n.pick("điểm · tối thiểu", "points · minimum")
        ));
    }
    if state.conflicts > 0 {
        parts.push(format!(
            "{} {}",
            state.conflicts,
            i18n.pick("xung đột", "conflicts")
        ));
    }
    if state.comments > 0 {
        parts.push(format!(
            "{} {}",
            state.comments,
            i18n.pick("nhận xét", "comments")
        ));
    }
    if state.missing > 0 {
        parts.push(format!(
            "{} {}",
            state.missing,
            i18n.pick("mục chưa nhập", "to fill in")
        ));
    }
    parts.join(" · ")
}

/// Buttons to each criterion, those needing attention first; a button opens its criterion
/// (closing the one open) and brings it into view.
#[component]
fn JumpList(ctx: Ctx, criteria: Vec<Criterion>) -> impl IntoView {
    let i18n = use_i18n();
    let ids: Vec<String> = criteria.iter().map(|c| c.id.as_str().to_owned()).collect();
    let entries = move || {
        let mut entries: Vec<(String, CriterionState)> = ids
            .iter()
            .map(|id| (id.clone(), criterion_state(&ctx, id)))
            .collect();
        // Stable: catalog order within each group.
        entries.sort_by_key(|(_, state)| !state.needs_attention());
        entries
    };
    view! {
        <nav class="card jump" aria-label=i18n.pick_fn("Đi tới tiêu chí", "Go to a criterion")
            data-testid="jump-list">
            <ul>
                {move || entries().into_iter().map(|(id, state)| {
                    let attention = state.needs_attention();
                    let line = summary_line(i18n, &state);
                    let target = format!("open-{id}");
                    view! {
                        <li>
                            <button type="button" class="jump-to" class:attention=attention
                                data-criterion=id.clone()
                                on:click=move |_| open_criterion(&target)>
                                <strong>{id.clone()}</strong>" "<span>{line}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </nav>
    }
}

/// Opens a criterion's `<details>` (the browser closes the one open) and scrolls to it.
fn open_criterion(dom_id: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(dom_id))
    {
        let _ = element.set_attribute("open", "");
        element.scroll_into_view();
    }
}

fn answer_text(i18n: I18n, answer: &Answer) -> String {
    match answer {
        Answer::Points(p) => format!("{} {}", i18n.num(p), i18n.pick("điểm", "points")),
        Answer::Met(true) => i18n.pick("Đạt", "Met").to_owned(),
        Answer::Met(false) => i18n.pick("Không đạt", "Not met").to_owned(),
        Answer::Measured(v) => i18n.num(v),
    }
}

/// One scored item: input by rule, conflicts, note, evidence, reviewer's comment, history.
#[component]
fn ItemEditor(
    ctx: Ctx,
    item: String,
    name_vi: String,
    name_en: String,
    max: Points,
    rule: ScoringRule,
    knockout: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let names = crate::names::use_names();
    let Ok(item_id) = ItemId::parse(&item) else {
        return ().into_any();
    };
    let side = ctx.side;
    let view = ctx.view;
    let problem = RwSignal::new(None::<String>);
    let may_score = ctx.may(match side {
        Side::SelfAssessment => Field::SelfScore { item: item.clone() },
        Side::Review => Field::ReviewScore { item: item.clone() },
    });
    let may_note = ctx.may(Field::Note { item: item.clone() });
    let may_evidence = ctx.may(Field::Evidence { item: item.clone() });
    let may_comment = ctx.may(Field::ReviewComment { item: item.clone() });
    let item_view = item_memo(view, &item);
    let outcome = {
        let item = item.clone();
        let report = ctx.report;
        move || {
            report.with(|r| {
                r.as_ref()?
                    .criteria
                    .iter()
                    .flat_map(|c| c.items.iter())
                    .find(|i| i.id == item)
                    .map(|i| i.outcome.clone())
            })
        }
    };
    let current = move || item_view.with(|v| v.as_ref().and_then(|v| v.score(side).cloned()));
    let conflicted =
        move || item_view.with(|v| v.as_ref().is_some_and(|v| v.conflicts.contains(&side)));
    let write = {
        let ctx = ctx.clone();
        let item_id = item_id.clone();
        move |answer: Answer| {
            let item_id = item_id.clone();
            ctx.edit(problem, move |doc, user, at| {
                assessment::set_score(doc, side, &item_id, answer, user, at)
            });
        }
    };
    let clear = {
        let ctx = ctx.clone();
        let item_id = item_id.clone();
        move |_| {
            let item_id = item_id.clone();
            ctx.edit(problem, move |doc, _, at| {
                assessment::clear_score(doc, side, &item_id, at)
            });
        }
    };
    let label = {
        let item = item.clone();
        move || {
            format!(
                "{} {item}",
                match side {
                    Side::SelfAssessment => i18n.pick("Điểm tự chấm", "Self score"),
                    Side::Review => i18n.pick("Điểm thẩm định", "Review score"),
                }
            )
        }
    };
    let input = {
        let write = write.clone();
        let label = label.clone();
        match rule.clone() {
            ScoringRule::Points => {
                let value = move || match current().map(|v| v.answer) {
                    Some(Answer::Points(p)) => p.to_string(),
                    _ => String::new(),
                };
                view! {
                    <input type="number" inputmode="decimal" step="0.5" min="0" max=max.to_string()
                        aria-label=label.clone() data-testid="score-input" disabled=move || !may_score.get()
                        prop:value=value
                        on:change=move |ev| {
                            let text = event_target_value(&ev).replace(',', ".");
                            if text.trim().is_empty() { return; }
                            match text.trim().parse::<f64>().ok().and_then(|f| Points::from_f64(f).ok()) {
                                Some(points) if points <= max => write(Answer::Points(points)),
                                _ => problem.set(Some(match i18n.lang() {
                                    Lang::Vi => format!("Điểm phải từ 0 đến {}, theo bước 0,5", i18n.num(max)),
                                    Lang::En => format!("Points go from 0 to {max} in steps of 0.5"),
                                })),
                            }
                        }/>
                    <span class="max">" / "{move || i18n.num(max)}</span>
                }
                .into_any()
            }
            ScoringRule::YesNo => {
                let met = move || match current().map(|v| v.answer) {
                    Some(Answer::Met(m)) => Some(m),
                    _ => None,
                };
                let yes = write.clone();
                let no = write.clone();
                view! {
                    <div class="toggle" role="group" aria-label=label.clone()>
                        <button type="button" class="choice" disabled=move || !may_score.get()
                            aria-pressed=move || (met() == Some(true)).to_string()
                            on:click=move |_| yes(Answer::Met(true))>{i18n.pick_fn("Đạt", "Met")}</button>
                        <button type="button" class="choice" disabled=move || !may_score.get()
                            aria-pressed=move || (met() == Some(false)).to_string()
                            on:click=move |_| no(Answer::Met(false))>{i18n.pick_fn("Không đạt", "Not met")}</button>
                    </div>
                }
                .into_any()
            }
            ScoringRule::Bands { measure, .. } => {
                let value = move || match current().map(|v| v.answer) {
                    Some(Answer::Measured(m)) => m.to_string(),
                    _ => String::new(),
                };
                let unit = match measure {
                    Measure::Percent => "%",
                    Measure::Count => "",
                };
                view! {
                    <input type="number" inputmode="decimal" step="any" min="0"
                        aria-label=label.clone() data-testid="score-input" disabled=move || !may_score.get()
                        prop:value=value
                        on:change=move |ev| {
                            let text = event_target_value(&ev).replace(',', ".");
                            match text.trim().parse::<f64>() {
                                Ok(v) if v.is_finite() && v >= 0.0 => write(Answer::Measured(v)),
                                _ => problem.set(Some(i18n.pick("Giá trị đo không hợp lệ", "Not a valid measured value").to_owned())),
                            }
                        }/>
                    <span class="max">{unit}</span>
                }
                .into_any()
            }
        }
    };
    let outcome_text = move || match outcome() {
        Some(Outcome::Scored { points }) => {
            format!("= {} {}", i18n.num(points), i18n.pick("điểm", "points"))
        }
        Some(Outcome::Missing) => i18n.pick("chưa chấm", "not scored").to_owned(),
        Some(Outcome::Invalid { problem }) => problem,
        Some(Outcome::NotApplicable) => i18n.pick("không áp dụng", "not applicable").to_owned(),
        None => String::new(),
    };
    let conflict_values = {
        let ctx = ctx.clone();
        let item_id = item_id.clone();
        move || -> Vec<ConcurrentValue> {
            if !conflicted() {
                return Vec::new();
            }
            ctx.repo
                .read(&ctx.id, |doc| {
                    assessment::score_values(doc, side, &item_id).ok()
                })
                .flatten()
                .unwrap_or_default()
        }
    };
    let keep = write.clone();
    let note = move || item_view.with(|v| v.as_ref().map(|v| v.note.clone()).unwrap_or_default());
    let review_comment = review_comment_of(item_view);
    let on_note = {
        let ctx = ctx.clone();
        let item_id = item_id.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            let item_id = item_id.clone();
            ctx.edit(problem, move |doc, _, at| {
                assessment::set_note(doc, &item_id, &text, at)
            });
        }
    };
    let on_comment = write_review_comment(&ctx, problem, &item_id);
    // Each comment box says which item it is about (ten boxes, ten names).
    let comment_label = {
        let item = item.clone();
        move || {
            format!(
                "{} {item}",
                i18n.pick("Nhận xét của đơn vị thẩm định về", "Reviewer's comment on")
            )
        }
    };
    let item_dom_id = format!("item-{item}");
    // A criterion scored as a whole has its name in the section heading already.
    let has_title = !name_vi.is_empty();
    let title = {
        let item = item.clone();
        move || {
            let name = if i18n.lang() == Lang::En && !name_en.is_empty() {
                name_en.clone()
            } else {
                name_vi.clone()
            };
            if name.is_empty() {
                item.clone()
            } else {
                format!("{item}. {name}")
            }
        }
    };
    view! {
        <article class="item" id=item_dom_id data-item=item.clone() class:conflict=conflicted>
            {has_title.then(|| view! {
                <h3>{title.clone()}
                    {knockout.then(|| view! { <span class="badge bad">{i18n.pick_fn("điểm liệt", "knockout")}</span> })}
                </h3>
            })}
            <div class="score-row">
                {input}
                <span class="outcome" data-testid="outcome">{outcome_text}</span>
                <Show when=move || may_score.get() && current().is_some()>
                    <button type="button" class="secondary small" on:click=clear.clone()
                        aria-label=i18n.pick_fn("Xoá điểm", "Clear the score")>"×"</button>
                </Show>
            </div>
            {(side == Side::Review).then(|| view! {
                <p class="hint station-score" data-testid="station-score">
                    {i18n.pick_fn("Trạm tự chấm: ", "Station's score: ")}
                    {move || item_view.with(|v| v.as_ref().and_then(|v| v.self_score.as_ref()).map(|s| answer_text(i18n, &s.answer))).unwrap_or_else(|| "–".to_owned())}
                </p>
            })}
            {move || current().map(|v| view! {
                <p class="hint who-set" data-testid="set-by">
                    {i18n.pick_fn("Người nhập: ", "Set by: ")}{names.of(&v.by)}", "{platform::format_time(v.at)}
                </p>
            })}
            {move || {
                let values = conflict_values();
                (!values.is_empty()).then(|| {
                    let keep = keep.clone();
                    view! {
                        <div class="conflict-box" role="group" data-testid="conflict"
                            aria-label=i18n.pick_fn("Các giá trị xung đột", "Conflicting values")>
                            <p><strong>{i18n.pick_fn("Hai người đã nhập khác nhau. Giữ giá trị nào?", "Two people entered different values. Keep which?")}</strong></p>
                            <ul>
                                {values.into_iter().map(|value| {
                                    let keep = keep.clone();
                                    let answer = value.value.answer;
                                    let text = answer_text(i18n, &answer);
                                    let by = names.of(&value.value.by);
                                    let who = format!("{by}, {}", platform::format_time(value.value.at));
                                    let aria = format!("{} {text} ({by})", i18n.pick("Giữ", "Keep"));
                                    view! {
                                        <li>
                                            <span class="value">{text.clone()}</span>
                                            <span class="hint">" — "{who}</span>
                                            <Show when=move || may_score.get()>
                                                <button type="button" class="small" aria-label=aria.clone()
                                                    on:click={ let keep = keep.clone(); move |_| keep(answer) }>
                                                    {i18n.pick_fn("Giữ giá trị này", "Keep this one")}
                                                </button>
                                            </Show>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </div>
                    }
                })
            }}
            <label class="block">
                <span>{i18n.pick_fn("Ghi chú chung", "Shared note")}</span>
                <textarea rows="2" data-testid="note" disabled=move || !may_note.get()
                    aria-label={ let item = item.clone(); move || format!("{} {item}", i18n.pick("Ghi chú", "Note")) }
                    prop:value=note on:input=on_note></textarea>
            </label>
            <Show when=move || !review_comment().is_empty() || may_comment.get()>
                <label class="block review-comment">
                    <span>{i18n.pick_fn("Nhận xét của đơn vị thẩm định", "Reviewer's comment")}</span>
                    <textarea rows="2" data-testid="review-comment" disabled=move || !may_comment.get()
                        aria-label=comment_label.clone()
                        prop:value=review_comment on:input=on_comment.clone()></textarea>
                </label>
            </Show>
            <EvidenceList ctx=ctx.clone() item=item_id.clone() item_view=item_view may=may_evidence/>
            <History ctx=ctx.clone() path=format!("items.{item}")/>
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
        </article>
    }
    .into_any()
}

/// Evidence (minh chứng) of an item: list, add a reference, attach photos or PDFs, remove.
#[component]
fn EvidenceList(
    ctx: Ctx,
    item: ItemId,
    item_view: Memo<Option<assessment::ItemView>>,
    may: Memo<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let names = crate::names::use_names();
    let label = RwSignal::new(String::new());
    let reference = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let list = move || {
        item_view.with(|v| {
            v.as_ref()
                .map(|v| {
                    v.evidence
                        .iter()
                        .map(|(k, e)| (k.clone(), e.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let add = {
        let ctx = ctx.clone();
        let item = item.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = label.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            let Ok(id) = EvidenceId::parse(&format!("e{}", platform::now_millis())) else {
                return;
            };
            let item = item.clone();
            let place = reference.get_untracked();
            ctx.edit(problem, move |doc, user, at| {
                let evidence = Evidence {
                    label: text.trim().to_owned(),
                    reference: place.trim().to_owned(),
                    added_by: user.as_str().to_owned(),
                    added_at: at,
                    file: None,
                };
                assessment::put_evidence(doc, &item, &id, &evidence, at)
            });
            label.set(String::new());
            reference.set(String::new());
        }
    };
    let busy = RwSignal::new(false);
    // Each picked file is kept on the phone first (IndexedDB committed), then its entry is
    // written: a reload in between leaves a kept file no entry names, never an entry without
    // its file.
    let on_files = {
        let ctx = ctx.clone();
        let item = item.clone();
        move |ev: leptos::ev::Event| {
            let files = crate::evidence::take_files(&ev);
            if files.is_empty() {
                return;
            }
            let commune = ctx
                .view
                .with_untracked(|v| v.as_ref().map(|v| v.commune.clone()))
                .unwrap_or_default();
            let text = label.get_untracked().trim().to_owned();
            let ctx = ctx.clone();
            let item = item.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                crate::evidence::keep_each(files, &commune, i18n, problem, |name, id, attached| {
                    let item = item.clone();
                    let label = if text.is_empty() { name } else { text.clone() };
                    ctx.edit(problem, move |doc, user, at| {
                        let evidence = Evidence {
                            label,
                            reference: String::new(),
                            added_by: user.as_str().to_owned(),
                            added_at: at,
                            file: Some(attached),
                        };
                        assessment::put_evidence(doc, &item, &id, &evidence, at)
                    });
                })
                .await;
                label.set(String::new());
                busy.set(false);
            });
        }
    };
    let remove = {
        let ctx = ctx.clone();
        move |key: String| {
            let Ok(id) = EvidenceId::parse(&key) else {
                return;
            };
            let item = item.clone();
            ctx.edit(problem, move |doc, _, at| {
                assessment::remove_evidence(doc, &item, &id, at)
            });
        }
    };
    view! {
        <details class="evidence">
            <summary>{i18n.pick_fn("Minh chứng", "Evidence")}" ("{move || list().len()}")"</summary>
            <ul>
                {move || list().into_iter().map(|(key, e)| {
                    let remove = remove.clone();
                    view! {
                        <li data-testid="evidence-entry">
                            {e.file.clone().map(|file| view! { <crate::evidence::FileView file=file/> })}
                            <span>{e.label.clone()}</span>
                            {(!e.reference.is_empty()).then(|| view! { <span class="hint">" — "{e.reference.clone()}</span> })}
                            <span class="hint">" ("{names.of(&e.added_by)}")"</span>
                            <Show when=move || may.get()>
                                <button type="button" class="secondary small"
                                    aria-label=i18n.pick_fn("Xoá minh chứng", "Remove evidence")
                                    on:click={ let remove = remove.clone(); let key = key.clone(); move |_| remove(key.clone()) }>"×"</button>
                            </Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <Show when=move || may.get()>
                <form class="form inline" on:submit=add.clone()>
                    <input type="text" placeholder=i18n.pick_fn("Tên minh chứng", "What it is")
                        aria-label=i18n.pick_fn("Tên minh chứng", "What it is")
                        prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev))/>
                    <input type="text" placeholder=i18n.pick_fn("Nơi lưu / đường dẫn", "Where it is / link")
                        aria-label=i18n.pick_fn("Nơi lưu / đường dẫn", "Where it is / link")
                        prop:value=move || reference.get() on:input=move |ev| reference.set(event_target_value(&ev))/>
                    <button type="submit">{i18n.pick_fn("Thêm minh chứng", "Add evidence")}</button>
                </form>
                <crate::evidence::AttachButtons on_files=on_files.clone() busy=busy/>
            </Show>
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
        </details>
    }
}

/// Who set this field, when, old → new (asks the server; needs the network).
#[component]
fn History(ctx: Ctx, path: String) -> impl IntoView {
    let i18n = use_i18n();
    let names = crate::names::use_names();
    let rows = RwSignal::new(None::<Result<Vec<api::HistoryRow>, api::ApiError>>);
    let load = {
        let path = path.clone();
        let id = ctx.id.to_string();
        move |_| {
            let path = path.clone();
            let id = id.clone();
            leptos::task::spawn_local(async move {
                rows.set(Some(api::history(&id, &path).await));
            });
        }
    };
    view! {
        <details class="history" on:toggle=load>
            <summary>{i18n.pick_fn("Lịch sử thay đổi", "History")}</summary>
            {move || match rows.get() {
                None => view! { <p class="hint">"…"</p> }.into_any(),
                Some(Err(_)) => view! { <p class="hint">{i18n.pick_fn("Cần có mạng để xem lịch sử.", "History needs the network.")}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="hint">{i18n.pick_fn("Chưa có thay đổi nào trên máy chủ.", "No changes on the server yet.")}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="history-rows">
                        {list.into_iter().rev().map(|row| {
                            let at = if row.change_time > 0 { row.change_time } else { row.received_at };
                            let short = row.field.split('.').skip(2).collect::<Vec<_>>().join(".");
                            view! {
                                <li>
                                    <span class="hint">{platform::format_time(at)}" · "{names.of(&row.user)}</span>
                                    " "{short}": "{if row.old.is_empty() { "∅".to_owned() } else { row.old.clone() }}" → "{row.new.clone()}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </details>
    }
}

/// How often this tab says it has the document open, and how long a silent peer stays shown.
const PRESENCE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
const PRESENCE_FORGET_MS: i64 = 15_000;

#[derive(serde::Serialize, serde::Deserialize)]
struct Presence {
    user: String,
    name: String,
    #[serde(default)]
    leaving: bool,
}

/// While online: who else has this assessment open (ephemeral messages, never stored).
#[component]
fn PresenceLine(id: DocumentId) -> impl IntoView {
    let i18n = use_i18n();
    let names = crate::names::use_names();
    let session = use_session();
    let repo = session.repo.clone();
    let others = RwSignal::new(std::collections::BTreeMap::<String, (String, i64)>::new());
    repo.on_ephemeral(move |event| {
        let tramyte_shared::sync::client::ClientEvent::Ephemeral {
            document,
            sender,
            data,
            ..
        } = event
        else {
            return;
        };
        if document != id {
            return;
        }
        let Ok(presence) = serde_json::from_slice::<Presence>(&data) else {
            return;
        };
        names.learn(&presence.user, &presence.name);
        others.update(|map| {
            if presence.leaving {
                map.remove(&sender);
            } else {
                map.insert(sender, (presence.name, platform::now_millis()));
            }
        });
    });
    let me = session.me.get_untracked();
    let session_id = format!("{}", platform::now_millis());
    let count = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let announce = {
        let repo = repo.clone();
        let me = me.clone();
        let session_id = session_id.clone();
        send_wrapper::SendWrapper::new(move |leaving: bool| {
            let Some(me) = me.as_ref() else { return };
            let presence = Presence {
                user: me.user.id.clone(),
                name: me.user.display_name.clone(),
                leaving,
            };
            if let Ok(data) = serde_json::to_vec(&presence) {
                count.set(count.get() + 1);
                repo.broadcast(id, &session_id, count.get(), data);
            }
        })
    };
    let announce = std::sync::Arc::new(announce);
    let tick = {
        let announce = announce.clone();
        move || {
            (**announce)(false);
            let now = platform::now_millis();
            others.update(|map| map.retain(|_, (_, seen)| now - *seen < PRESENCE_FORGET_MS));
        }
    };
    tick();
    let handle = set_interval_with_handle(tick, PRESENCE_EVERY).ok();
    on_cleanup(move || {
        if let Some(handle) = handle {
            handle.clear();
        }
        (**announce)(true);
    });
    let names = move || {
        others.with(|map| {
            let mut names: Vec<String> = map.values().map(|(name, _)| name.clone()).collect();
            names.sort();
            names.dedup();
            names
        })
    };
    view! {
        <Show when=move || !names().is_empty()>
            <p class="presence" role="status" data-testid="presence">
                {i18n.pick_fn("Đang mở cùng lúc: ", "Also open by: ")}{move || names().join(", ")}
            </p>
        </Show>
    }
}

/// One item of the document, as a memo of the document's view.
fn item_memo(view: Memo<Option<AssessmentView>>, item: &str) -> Memo<Option<assessment::ItemView>> {
    let item = item.to_owned();
    Memo::new(move |_| view.with(|v| v.as_ref().and_then(|v| v.items.get(&item).cloned())))
}

/// The reviewer's comment on an item, as it reads now.
fn review_comment_of(item_view: Memo<Option<assessment::ItemView>>) -> impl Fn() -> String + Copy {
    move || {
        item_view.with(|v| {
            v.as_ref()
                .map(|v| v.review_comment.clone())
                .unwrap_or_default()
        })
    }
}

/// Writes what a comment box holds as the reviewer's comment on `item_id`.
fn write_review_comment(
    ctx: &Ctx,
    problem: RwSignal<Option<String>>,
    item_id: &ItemId,
) -> impl Fn(leptos::ev::Event) + Clone + 'static {
    let ctx = ctx.clone();
    let item_id = item_id.clone();
    move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        let item_id = item_id.clone();
        ctx.edit(problem, move |doc, _, at| {
            assessment::set_review_comment(doc, &item_id, &text, at)
        });
    }
}
