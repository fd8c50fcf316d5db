//! Route components, one per file, each named `…Page`, and the names they share.

pub mod admin;
pub mod assessment;
pub mod catalogs;
pub mod home;
pub mod not_found;
pub mod overview;
pub mod print;
pub mod report;
pub mod roster;

use std::sync::OnceLock;

use tramyte_shared::catalog::{Catalog, shipped_catalogs};
use tramyte_shared::policy::Role;
use tramyte_shared::scoring::{Reason, Verdict};
use tramyte_shared::workflow::Status;

use crate::i18n::{I18n, Lang};

/// The `:id` of a document route, reactive; `None` when it is not a document id.
pub fn document_param() -> impl Fn() -> Option<tramyte_shared::sync::document_id::DocumentId> + Copy
{
    let params = leptos_router::hooks::use_params_map();
    move || {
        use leptos::prelude::Read;
        params.read().get("id").and_then(|s| s.parse().ok())
    }
}

/// The latest round among the person's assessments, else this year: where the overview and
/// the reports open.
pub fn latest_round(documents: &[crate::api::DocumentRow]) -> u16 {
    documents
        .iter()
        .filter(|d| d.kind == "assessment")
        .filter_map(|d| d.round.and_then(|r| u16::try_from(r).ok()))
        .max()
        .unwrap_or_else(|| js_sys::Date::new_0().get_full_year() as u16)
}

/// The newest revision of the criteria set with this code that the phone knows (shipped, or
/// fetched for a document and kept).
pub fn catalog_for(code: &str) -> Option<Catalog> {
    learned::track();
    let shipped = shipped().iter().filter(|c| c.code.as_str() == code);
    let fetched = learned::all(|c| c.code.as_str() == code);
    shipped.cloned().chain(fetched).max_by_key(|c| c.revision)
}

/// One revision of a criteria set, as a document names it: shipped, kept on the phone, or else
/// fetched from the server (`GET /api/catalogs/{code}?revision=`) and kept for offline use;
/// `None` until it arrives (reactive: a caller inside a memo or view runs again then).
pub fn catalog_at(code: &str, revision: u32) -> Option<Catalog> {
    learned::track();
    shipped()
        .iter()
        .find(|c| c.code.as_str() == code && c.revision == revision)
        .cloned()
        .or_else(|| learned::get(code, revision))
}

fn shipped() -> &'static [Catalog] {
    static CATALOGS: OnceLock<Vec<Catalog>> = OnceLock::new();
    CATALOGS.get_or_init(shipped_catalogs)
}

/// The revisions of criteria sets fetched from the server, kept in `localStorage` (a province's
/// indicator sheet is a few kilobytes), so a station scores offline on the sheet its round uses.
mod learned {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    use leptos::prelude::*;
    use tramyte_shared::catalog::{Catalog, parse_catalog};

    use crate::platform;

    thread_local! {
        static KNOWN: RefCell<Vec<Catalog>> = const { RefCell::new(Vec::new()) };
        static ASKED: RefCell<BTreeSet<(String, u32)>> = const { RefCell::new(BTreeSet::new()) };
        static ARRIVED: ArcTrigger = ArcTrigger::new();
    }

    fn key(code: &str, revision: u32) -> String {
        format!("tramyte.catalog.{code}@{revision}")
    }

    /// Runs a reactive caller again when a fetched catalog arrives.
    pub fn track() {
        ARRIVED.with(|t| t.track());
    }

    /// Every kept catalog that `keep` accepts.
    pub fn all(keep: impl Fn(&Catalog) -> bool) -> Vec<Catalog> {
        KNOWN.with(|known| known.borrow().iter().filter(|c| keep(c)).cloned().collect())
    }

    /// A kept revision, else `None` while it is fetched (once per run of the app).
    pub fn get(code: &str, revision: u32) -> Option<Catalog> {
        let found = KNOWN.with(|known| {
            known
                .borrow()
                .iter()
                .find(|c| c.code.as_str() == code && c.revision == revision)
                .cloned()
        });
        if found.is_some() {
            return found;
        }
        let kept = platform::load_local(&key(code, revision))
            .and_then(|json| parse_catalog(&json).ok())
            .filter(|c| c.code.as_str() == code && c.revision == revision);
        if let Some(catalog) = kept {
            KNOWN.with(|known| known.borrow_mut().push(catalog.clone()));
            return Some(catalog);
        }
        let first_ask = ASKED.with(|asked| asked.borrow_mut().insert((code.to_owned(), revision)));
        if first_ask {
            let code = code.to_owned();
            leptos::task::spawn_local(async move {
                match crate::api::catalog(&code, revision).await {
                    Ok((catalog, json)) if catalog.revision == revision => {
                        platform::store_local(&key(&code, revision), &json);
                        KNOWN.with(|known| known.borrow_mut().push(catalog));
                        ARRIVED.with(|t| t.notify());
                    }
                    // Offline: asked again the next time it is needed. Refused (a set the
                    // person may not see): not asked again until the app starts again.
                    Err(crate::api::ApiError::Unreachable) => {
                        ASKED.with(|asked| asked.borrow_mut().remove(&(code, revision)));
                    }
                    _ => {}
                }
            });
        }
        None
    }
}

/// What opening a round did, for the person: `round` names it (`Kỳ 2026`, or with its criteria
/// set and revision), then the assessments and rosters created and already there.
pub fn round_opened_text(i18n: I18n, round: &str, done: &crate::api::OpenedRound) -> String {
    let (a, r) = (done.assessments, done.rosters);
    match i18n.lang() {
        Lang::Vi => format!(
            "{round}: {} phiếu đánh giá mới, {} phiếu đã có; {} danh sách nhân lực mới, {} danh sách đã có.",
            a.created, a.existing, r.created, r.existing
        ),
        Lang::En => format!(
            "{round}: {} assessments created, {} already there; {} rosters created, {} already there.",
            a.created, a.existing, r.created, r.existing
        ),
    }
}

/// A role's name.
pub fn role_name(i18n: I18n, role: Role) -> &'static str {
    match role {
        Role::VillageHealthWorker => i18n.pick("Nhân viên y tế thôn, bản", "Village health worker"),
        Role::StationStaff => i18n.pick("Nhân viên trạm y tế", "Station staff"),
        Role::StationHead => i18n.pick("Trưởng trạm y tế", "Station head"),
        Role::Reviewer => i18n.pick("Thẩm định", "Reviewer"),
        Role::ProvincialAdmin => i18n.pick("Sở Y tế", "Provincial health department"),
        Role::SystemAdmin => i18n.pick("Quản trị hệ thống", "System administrator"),
    }
}

/// A status, as the interface names it.
pub fn status_label(i18n: I18n, status: Status) -> &'static str {
    let en = match status {
        Status::Draft => "Draft",
        Status::Submitted => "Submitted",
        Status::Returned => "Returned",
        Status::Appraised => "Appraised",
        Status::Approved => "Approved",
        Status::Recognized => "Recognized",
        Status::Maintained => "Maintained",
        Status::Withdrawn => "Withdrawn",
    };
    i18n.pick(status.label_vi(), en)
}

/// A status, from its stored name (as the server lists it).
pub fn status_name(i18n: I18n, status: &str) -> &'static str {
    Status::parse(status).map_or_else(
        || i18n.pick("Không rõ", "Unknown"),
        |status| status_label(i18n, status),
    )
}

/// The CSS class of a verdict (`verdict pass`, ...).
pub fn verdict_class(verdict: Option<Verdict>) -> String {
    format!("verdict {}", verdict.map_or("", Verdict::name))
}

/// A verdict's name.
pub fn verdict_name(i18n: I18n, verdict: Verdict) -> &'static str {
    let en = match verdict {
        Verdict::Pass => "Pass",
        Verdict::Fail => "Fail",
        Verdict::Incomplete => "Incomplete",
    };
    i18n.pick(verdict.label_vi(), en)
}

/// A reason of the verdict, as a sentence.
pub fn reason_text(i18n: I18n, reason: &Reason) -> String {
    let vi = i18n.lang() == Lang::Vi;
    match reason {
        Reason::TotalBelowThreshold {
            total, required, ..
        } => {
            let (total, required) = (i18n.num(total), i18n.num(required));
            if vi {
                format!("Tổng điểm {total} thấp hơn mức đạt {required}")
            } else {
                format!("Total {total} is below the pass mark {required}")
            }
        }
        Reason::CriterionBelowMinimum {
            criterion,
            points,
            required,
            ..
        } => {
            let (points, required) = (i18n.num(points), i18n.num(required));
            if vi {
                format!("{criterion}: {points} điểm, cần tối thiểu {required}")
            } else {
                format!("{criterion}: {points} points, needs at least {required}")
            }
        }
        Reason::KnockoutFailed { indicator } => {
            if vi {
                format!("Chỉ tiêu điểm liệt {indicator} không đạt")
            } else {
                format!("Knockout indicator {indicator} failed")
            }
        }
        Reason::InvalidAnswer { item, problem } => format!("{item}: {problem}"),
        Reason::Incomplete { missing } => {
            if vi {
                format!("Chưa chấm: {}", missing.join(", "))
            } else {
                format!("Not scored yet: {}", missing.join(", "))
            }
        }
    }
}

/// A wait of `secs` seconds as people say it: seconds under two minutes, minutes above.
pub fn wait_text(i18n: I18n, secs: u64) -> String {
    let vi = i18n.lang() == Lang::Vi;
    match (secs, vi) {
        (0..120, true) => format!("{} giây", secs.max(1)),
        (0..120, false) => format!("{} s", secs.max(1)),
        (_, true) => format!("{} phút", secs.div_ceil(60)),
        (_, false) => format!("{} min", secs.div_ceil(60)),
    }
}

/// What went wrong with a REST call, for a person: offline, signed out, too many attempts, or
/// the server's own reason behind a short label (not allowed, not valid).
pub fn api_problem(i18n: I18n, err: &crate::api::ApiError) -> String {
    use crate::api::ApiError;
    match err {
        ApiError::Unreachable => i18n
            .pick(
                "Không kết nối được máy chủ. Hãy thử lại khi có mạng.",
                "Cannot reach the server. Try again when online.",
            )
            .to_owned(),
        ApiError::Unauthorized(_) => i18n
            .pick(
                "Phiên đăng nhập đã hết; hãy đăng nhập lại.",
                "Your session ended; sign in again.",
            )
            .to_owned(),
        ApiError::Throttled {
            retry_after_secs, ..
        } => format!(
            "{} {}",
            i18n.pick(
                "Quá nhiều yêu cầu; hãy thử lại sau",
                "Too many requests; try again in"
            ),
            wait_text(i18n, *retry_after_secs)
        ),
        ApiError::Refused {
            status: 403,
            message,
        } => format!(
            "{}: {message}",
            i18n.pick(
                "Không được phép (ngoài phạm vi bạn quản lý)",
                "Not allowed (outside what you manage)"
            )
        ),
        ApiError::Refused {
            status: 400,
            message,
        } => format!("{}: {message}", i18n.pick("Không hợp lệ", "Not valid")),
        ApiError::Refused { message, .. } => message.clone(),
        ApiError::Unreadable(detail) => {
            web_sys::console::warn_1(&format!("unreadable answer: {detail}").into());
            i18n.pick(
                "Không đọc được câu trả lời của máy chủ (bị cắt giữa chừng hoặc sai dạng). \
                 Hãy thử lại.",
                "The server's answer could not be read (cut off on the way, or not in the \
                 expected form). Try again.",
            )
            .to_owned()
        }
    }
}

/// A problem's message in a paragraph of `class` and ARIA `role`, shown while there is one.
/// One function for every such line, so its view code is compiled once.
pub fn problem_line(
    problem: leptos::prelude::ReadSignal<Option<String>>,
    class: &'static str,
    role: &'static str,
) -> leptos::prelude::AnyView {
    use leptos::prelude::*;
    view! {
        <Show when=move || problem.with(Option::is_some)>
            <p class=class role=role>{move || problem.get()}</p>
        </Show>
    }
    .into_any()
}
