//! The roster (nhân lực): station staff, villages with their health worker, training records,
//! and the staffing facts the criteria look at (doctor on staff, villages with a worker trained
//! at least six months).

use leptos::prelude::*;
use tramyte_shared::assessment::Evidence;
use tramyte_shared::id::{EvidenceId, PersonId, TrainingId, VillageId};
use tramyte_shared::policy::{self, Field};
use tramyte_shared::roster::{
    self, CourseKind, Employment, Group, Person, PersonEntry, RosterView, Title, Training, Village,
};
use tramyte_shared::sync::document_id::DocumentId;

use crate::i18n::{I18n, Lang, use_i18n};
use crate::platform;
use crate::session::use_session;

/// `/roster/:id`.
#[component]
pub fn RosterPage() -> impl IntoView {
    let id = crate::page::document_param();
    move || match id() {
        Some(id) => view! { <RosterEditor id=id/> }.into_any(),
        None => view! { <crate::page::not_found::NotFoundPage/> }.into_any(),
    }
}

fn title_name(i18n: I18n, title: Title) -> &'static str {
    match title {
        Title::Doctor => i18n.pick("Bác sĩ", "Doctor"),
        Title::Assistant => i18n.pick("Y sĩ", "Assistant physician"),
        Title::ObstetricPaediatricAssistant => {
            i18n.pick("Y sĩ sản nhi", "Obstetric-paediatric assistant")
        }
        Title::Midwife => i18n.pick("Hộ sinh", "Midwife"),
        Title::Nurse => i18n.pick("Điều dưỡng", "Nurse"),
        Title::Pharmacist => i18n.pick("Dược sĩ", "Pharmacist"),
        Title::TraditionalMedicine => i18n.pick("Y học cổ truyền", "Traditional medicine"),
        Title::Population => i18n.pick("Dân số", "Population officer"),
        Title::Other => i18n.pick("Khác", "Other"),
    }
}

const TITLES: [Title; 9] = [
    Title::Doctor,
    Title::Assistant,
    Title::ObstetricPaediatricAssistant,
    Title::Midwife,
    Title::Nurse,
    Title::Pharmacist,
    Title::TraditionalMedicine,
    Title::Population,
    Title::Other,
];

/// An edit of the roster at a time (unix ms).
type RosterEdit = Box<dyn FnOnce(&mut automerge::AutoCommit, i64) -> Result<(), String>>;

#[component]
fn RosterEditor(id: DocumentId) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let repo = session.repo.clone();
    repo.want(&[id.to_string()]);
    let view = {
        let repo = repo.clone();
        Memo::new(move |_| {
            repo.read(&id, |doc| roster::read_roster(doc).ok())
                .flatten()
        })
    };
    let principal = session.principal();
    let may_staff = principal.as_ref().is_some_and(|p| {
        policy::may_write(
            p,
            &Field::Person {
                group: "staff".into(),
                person: "new".into(),
            },
        )
    });
    let may_villages = principal.as_ref().is_some_and(|p| {
        policy::may_write(
            p,
            &Field::Village {
                village: "new".into(),
            },
        )
    });
    let problem = RwSignal::new(None::<String>);
    let edit = {
        let repo = repo.clone();
        move |f: RosterEdit| {
            let at = platform::now_millis();
            match repo.change(&id, |doc| f(doc, at)) {
                Ok(()) => problem.set(None),
                Err(err) => problem.set(Some(err)),
            }
        }
    };
    // New person form.
    let new_name = RwSignal::new(String::new());
    let new_title = RwSignal::new(Title::Other);
    let new_group = RwSignal::new(Group::Staff);
    let new_village = RwSignal::new(String::new());
    let add_person = {
        let edit = edit.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let name = new_name.get_untracked().trim().to_owned();
            if name.is_empty() {
                return;
            }
            let Ok(person_id) = PersonId::parse(&format!("p{}", platform::now_millis())) else {
                return;
            };
            let group = new_group.get_untracked();
            let village = new_village.get_untracked();
            let person = Person {
                name,
                title: new_title.get_untracked(),
                village: (group == Group::VillageWorker && !village.is_empty()).then_some(village),
                ..Person::default()
            };
            edit(Box::new(move |doc, at| {
                roster::put_person(doc, group, &person_id, &person, at).map_err(|e| e.to_string())
            }));
            new_name.set(String::new());
        }
    };
    let village_name = RwSignal::new(String::new());
    let add_village = {
        let edit = edit.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let name = village_name.get_untracked().trim().to_owned();
            if name.is_empty() {
                return;
            }
            let Ok(village_id) = VillageId::parse(&format!("v{}", platform::now_millis())) else {
                return;
            };
            edit(Box::new(move |doc, at| {
                roster::put_village(doc, &village_id, &Village { name }, at)
                    .map_err(|e| e.to_string())
            }));
            village_name.set(String::new());
        }
    };
    let facts = move || view.with(|v| v.as_ref().map(roster::staffing));
    let body = move || {
        let roster = view.get()?;
        let add_person = add_person.clone();
        let add_village = add_village.clone();
        Some(view! {
            <section class="card">
                <h1>{i18n.pick_fn("Nhân lực trạm y tế", "Station staffing")}</h1>
                {move || facts().map(|f| view! {
                    <ul class="facts" data-testid="staffing-facts">
                        <li class:met=f.doctor_on_staff>{i18n.pick_fn("Có bác sĩ làm việc: ", "Doctor on staff: ")}
                            {if f.doctor_on_staff { i18n.pick("có", "yes") } else { i18n.pick("không", "no") }}</li>
                        <li>{i18n.pick_fn("Nhân viên đang làm việc: ", "Active staff: ")}{f.active_staff}</li>
                        <li>{i18n.pick_fn("Thôn, bản có nhân viên y tế đào tạo ≥ 6 tháng: ", "Villages with a worker trained ≥ 6 months: ")}
                            {f.villages_with_trained_worker}" / "{f.villages}
                            {f.trained_village_percent().map(|p| format!(" ({p:.0}%)"))}</li>
                    </ul>
                })}
            </section>
            <PeopleList title_vi="Nhân viên trạm" title_en="Station staff" group=Group::Staff
                people=roster.staff.clone() roster=roster.clone() id=id edit_allowed=may_staff/>
            <PeopleList title_vi="Nhân viên y tế thôn, bản" title_en="Village health workers" group=Group::VillageWorker
                people=roster.village_workers.clone() roster=roster.clone() id=id edit_allowed=may_staff/>
            <section class="card">
                <h2>{i18n.pick_fn("Thôn, bản", "Villages")}</h2>
                <ul class="villages">
                    {roster.villages.iter().map(|(vid, village)| {
                        let workers: Vec<String> = roster.health_workers_of(vid).map(|(_, p)| p.person.name.clone()).collect();
                        view! {
                            <li>
                                <strong>{village.name.clone()}</strong>" — "
                                {if workers.is_empty() { i18n.pick("chưa có nhân viên y tế", "no health worker").to_owned() } else { workers.join(", ") }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <Show when=move || may_villages>
                    <form class="form inline" on:submit=add_village.clone()>
                        <input type="text" aria-label=i18n.pick_fn("Tên thôn, bản", "Village name")
                            placeholder=i18n.pick_fn("Tên thôn, bản", "Village name")
                            prop:value=move || village_name.get() on:input=move |ev| village_name.set(event_target_value(&ev))/>
                        <button type="submit">{i18n.pick_fn("Thêm thôn", "Add village")}</button>
                    </form>
                </Show>
            </section>
            <Show when=move || may_staff>
                <section class="card">
                    <h2>{i18n.pick_fn("Thêm người", "Add a person")}</h2>
                    <form class="form" on:submit=add_person.clone()>
                        <label><span>{i18n.pick_fn("Họ và tên", "Full name")}</span>
                            <input type="text" prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev))/></label>
                        <label><span>{i18n.pick_fn("Thuộc", "Group")}</span>
                            // The form is rebuilt with the roster after each addition: every
                            // choice is shown from its signal, so what the form shows is what the
                            // next person is added as.
                            <select data-testid="new-person-group" on:change=move |ev| new_group.set(if event_target_value(&ev) == "village" { Group::VillageWorker } else { Group::Staff })>
                                <option value="staff" selected=move || new_group.get() == Group::Staff>{i18n.pick_fn("Nhân viên trạm", "Station staff")}</option>
                                <option value="village" selected=move || new_group.get() == Group::VillageWorker>{i18n.pick_fn("Nhân viên y tế thôn, bản", "Village health worker")}</option>
                            </select></label>
                        <label><span>{i18n.pick_fn("Chức danh", "Title")}</span>
                            <select on:change=move |ev| new_title.set(Title::parse_lenient(&event_target_value(&ev)))>
                                {TITLES.iter().map(|t| view! { <option value=t.as_str() selected=move || new_title.get() == *t>{move || title_name(i18n, *t)}</option> }).collect_view()}
                            </select></label>
                        <Show when=move || new_group.get() == Group::VillageWorker>
                            <label><span>{i18n.pick_fn("Thôn, bản phụ trách", "Village served")}</span>
                                <select on:change=move |ev| new_village.set(event_target_value(&ev))>
                                    <option value="" selected=move || new_village.get().is_empty()>"—"</option>
                                    {view.get().map(|r| r.villages.into_iter().map(|(vid, v)| {
                                        let chosen = vid.clone();
                                        view! { <option value=vid selected=move || new_village.get() == chosen>{v.name}</option> }
                                    }).collect_view())}
                                </select></label>
                        </Show>
                        <button type="submit">{i18n.pick_fn("Thêm", "Add")}</button>
                    </form>
                </section>
            </Show>
        })
    };
    view! {
        <nav class="crumbs"><a href="/">{i18n.pick_fn("← Trang chính", "← Home")}</a></nav>
        {move || body().map(IntoAny::into_any).unwrap_or_else(|| view! {
            <p class="card hint" role="status">{i18n.pick_fn(
                "Danh sách nhân lực chưa có trên máy. Nó sẽ được tải về khi có mạng.",
                "The roster is not on the phone yet. It downloads when online.",
            )}</p>
        }.into_any())}
        {crate::page::problem_line(problem.read_only(), "error", "alert")}
    }
}

/// A person's evidence (e.g. training certificates): the files attached, and attaching a photo
/// or PDF where allowed (kept on the phone first, then the entry written, like an item's).
#[component]
fn PersonEvidence(
    id: DocumentId,
    group: Group,
    person: String,
    commune: String,
    entries: std::collections::BTreeMap<String, Evidence>,
    may: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let repo = use_session().repo;
    let Ok(person) = PersonId::parse(&person) else {
        return ().into_any();
    };
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let user = use_session()
        .me
        .with_untracked(|me| me.as_ref().map(|m| m.user.id.clone()))
        .unwrap_or_default();
    let on_files = {
        let repo = repo.clone();
        let person = person.clone();
        move |ev: leptos::ev::Event| {
            let files = crate::evidence::take_files(&ev);
            if files.is_empty() {
                return;
            }
            let (repo, person, commune, user) =
                (repo.clone(), person.clone(), commune.clone(), user.clone());
            busy.set(true);
            leptos::task::spawn_local(async move {
                crate::evidence::keep_each(
                    files,
                    &commune,
                    i18n,
                    problem,
                    |name, evidence_id, attached| {
                        let at = platform::now_millis();
                        let evidence = Evidence {
                            label: name,
                            reference: String::new(),
                            added_by: user.clone(),
                            added_at: at,
                            file: Some(attached),
                        };
                        if let Err(err) = repo.change(&id, |doc| {
                            roster::put_person_evidence(
                                doc,
                                group,
                                &person,
                                &evidence_id,
                                &evidence,
                                at,
                            )
                        }) {
                            problem.set(Some(err));
                        }
                    },
                )
                .await;
                busy.set(false);
            });
        }
    };
    let remove = move |key: String| {
        let Ok(evidence_id) = EvidenceId::parse(&key) else {
            return;
        };
        if let Err(err) = repo.change(&id, |doc| {
            roster::remove_person_evidence(
                doc,
                group,
                &person,
                &evidence_id,
                platform::now_millis(),
            )
        }) {
            problem.set(Some(err));
        }
    };
    view! {
        <ul class="evidence" data-testid="person-evidence">
            {entries.into_iter().map(|(key, e)| {
                let remove = remove.clone();
                view! {
                    <li data-testid="evidence-entry">
                        {e.file.clone().map(|file| view! { <crate::evidence::FileView file=file/> })}
                        <span>{e.label.clone()}</span>
                        {may.then(|| view! {
                            <button type="button" class="secondary small"
                                aria-label=i18n.pick_fn("Xoá minh chứng", "Remove evidence")
                                on:click=move |_| remove(key.clone())>"×"</button>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
        {may.then(|| view! { <crate::evidence::AttachButtons on_files=on_files busy=busy/> })}
        {crate::page::problem_line(problem.read_only(), "error", "alert")}
    }
    .into_any()
}

/// A list of people with their training; adding a training record where allowed.
#[component]
fn PeopleList(
    title_vi: &'static str,
    title_en: &'static str,
    group: Group,
    people: std::collections::BTreeMap<String, PersonEntry>,
    roster: RosterView,
    id: DocumentId,
    edit_allowed: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let repo = session.repo.clone();
    let principal = session.principal();
    view! {
        <section class="card">
            <h2>{i18n.pick_fn(title_vi, title_en)}" ("{people.len()}")"</h2>
            <ul class="people">
                {people.into_iter().map(|(pid, entry)| {
                    let village = entry.person.village.as_ref().and_then(|v| roster.villages.get(v)).map(|v| v.name.clone());
                    let trainings: Vec<Training> = entry.training.values().cloned().collect();
                    let vhw_months = entry.months_of(CourseKind::VillageHealthWorker);
                    let repo = repo.clone();
                    let course = RwSignal::new(String::new());
                    let months = RwSignal::new(String::new());
                    let evidence = entry.evidence.clone();
                    let pid_for_add = pid.clone();
                    let pid_for_status = pid.clone();
                    let repo_for_status = repo.clone();
                    let active = entry.active();
                    // A village health worker may update their own record.
                    let group_key = if group == Group::VillageWorker { "village_workers" } else { "staff" };
                    let may_edit = edit_allowed
                        || principal.as_ref().is_some_and(|p| {
                            policy::may_write(p, &Field::Person { group: group_key.into(), person: pid.clone() })
                        });
                    let add_training = move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        let name = course.get_untracked().trim().to_owned();
                        let Ok(m) = months.get_untracked().trim().parse::<u32>() else { return };
                        if name.is_empty() { return; }
                        let (Ok(person), Ok(training_id)) = (PersonId::parse(&pid_for_add), TrainingId::parse(&format!("t{}", platform::now_millis()))) else { return };
                        let kind = if group == Group::VillageWorker { CourseKind::VillageHealthWorker } else { CourseKind::Other };
                        let year = js_sys::Date::new_0().get_full_year();
                        let training = Training { course: name, kind, months: m, year };
                        let _ = repo.change(&id, |doc| roster::put_training(doc, group, &person, &training_id, &training, platform::now_millis()));
                        course.set(String::new());
                        months.set(String::new());
                    };
                    view! {
                        <li class:left=!entry.active()>
                            <strong>{entry.person.name.clone()}</strong>
                            " · "{move || title_name(i18n, entry.person.title)}
                            {village.map(|v| view! { " · "{v} })}
                            {(group == Group::VillageWorker).then(|| view! {
                                <span class="hint">" · "{move || match i18n.lang() { Lang::Vi => format!("{vhw_months} tháng đào tạo"), Lang::En => format!("{vhw_months} months of training") }}</span>
                            })}
                            <ul class="training">
                                {trainings.into_iter().map(|t| view! { <li>{t.course}" — "{t.months}{i18n.pick_fn(" tháng", " months")}", "{t.year}</li> }).collect_view()}
                            </ul>
                            <PersonEvidence id=id group=group person=pid.clone() commune=roster.commune.clone()
                                entries=evidence may=may_edit/>
                            <Show when=move || may_edit>
                                <button type="button" class="secondary small"
                                    on:click={
                                        let repo = repo_for_status.clone();
                                        let pid = pid_for_status.clone();
                                        move |_| {
                                            let Ok(person) = PersonId::parse(&pid) else { return };
                                            let status = if active { Employment::Left } else { Employment::Active };
                                            let _ = repo.change(&id, |doc| roster::set_employment(doc, group, &person, status, platform::now_millis()));
                                        }
                                    }>
                                    {move || if active { i18n.pick("Đánh dấu đã nghỉ việc", "Mark as left") } else { i18n.pick("Đánh dấu đang làm việc", "Mark as active") }}
                                </button>
                                <form class="form inline" on:submit=add_training.clone()>
                                    <input type="text" aria-label=i18n.pick_fn("Khoá đào tạo", "Course")
                                        placeholder=i18n.pick_fn("Khoá đào tạo", "Course")
                                        prop:value=move || course.get() on:input=move |ev| course.set(event_target_value(&ev))/>
                                    <input type="number" min="0" inputmode="numeric" aria-label=i18n.pick_fn("Số tháng", "Months")
                                        placeholder=i18n.pick_fn("Số tháng", "Months")
                                        prop:value=move || months.get() on:input=move |ev| months.set(event_target_value(&ev))/>
                                    <button type="submit">{i18n.pick_fn("Thêm đào tạo", "Add training")}</button>
                                </form>
                            </Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
