//! Who may do what (phân quyền): roles, scopes, and which parts of which document a role may
//! write. One pure policy: the server enforces it on every incoming change, the PWA uses it to
//! show only what a person may change.
//!
//! A change is judged by every operation it carries ([`judge::check_changes`]): each one's path
//! is classified into a [`Field`], checked against the document's [`schema`], against the
//! principal's role, and against the dossier's freeze as the change's author saw it. Values that
//! name a person (`by`, `added_by`) must name the principal.

use std::collections::BTreeSet;

use automerge::{Automerge, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

use crate::workflow::{EventKind, Status};

pub mod judge;
pub mod schema;

pub use judge::check_changes;

/// A role (vai trò).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Village health worker (nhân viên y tế thôn, bản).
    VillageHealthWorker,
    /// Station staff (nhân viên trạm y tế).
    StationStaff,
    /// Station head (trưởng trạm).
    StationHead,
    /// Reviewer of a district, regional or provincial health body (thẩm định).
    Reviewer,
    /// Provincial administrator (Sở Y tế).
    ProvincialAdmin,
    /// System administrator.
    SystemAdmin,
}

impl Role {
    /// Every role, from the village upwards.
    pub const ALL: [Role; 6] = [
        Role::VillageHealthWorker,
        Role::StationStaff,
        Role::StationHead,
        Role::Reviewer,
        Role::ProvincialAdmin,
        Role::SystemAdmin,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::VillageHealthWorker => "village_health_worker",
            Role::StationStaff => "station_staff",
            Role::StationHead => "station_head",
            Role::Reviewer => "reviewer",
            Role::ProvincialAdmin => "provincial_admin",
            Role::SystemAdmin => "system_admin",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Works at a station (writes the self-assessment side).
    fn at_station(self) -> bool {
        matches!(self, Role::StationStaff | Role::StationHead)
    }
}

/// The communes a person's documents may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every commune (system administrators).
    All,
    /// These commune codes, already expanded from the units the person covers.
    Communes(BTreeSet<String>),
}

impl Scope {
    /// Whether the two scopes share a commune. People see one another's display names (who set
    /// a value, who commented, who is online) only then: a name is not a directory lookup for
    /// communes one does not work with.
    pub fn overlaps(&self, other: &Scope) -> bool {
        match (self, other) {
            (Scope::All, Scope::All) => true,
            (Scope::All, Scope::Communes(communes)) | (Scope::Communes(communes), Scope::All) => {
                !communes.is_empty()
            }
            (Scope::Communes(a), Scope::Communes(b)) => !a.is_disjoint(b),
        }
    }
}

/// An authenticated person, as the policy needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user id (written into `by` fields).
    pub user: String,
    pub role: Role,
    pub scope: Scope,
    /// For a village health worker: their own entry in the roster.
    pub person: Option<String>,
}

impl Principal {
    /// Whether the person's scope covers a commune.
    pub fn covers(&self, commune: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Communes(communes) => communes.contains(commune),
        }
    }
}

/// The commune a document belongs to (its root `commune`), if it has one.
pub fn document_commune(doc: &Automerge) -> Option<String> {
    match doc.get(automerge::ROOT, "commune").ok().flatten() {
        Some((Value::Scalar(scalar), _)) => match scalar.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The document's root `kind`.
pub fn document_kind(doc: &Automerge) -> Option<String> {
    match doc.get(automerge::ROOT, "kind").ok().flatten() {
        Some((Value::Scalar(scalar), _)) => match scalar.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether documents of `kind` have a schema every change is checked against (assessments and
/// rosters; other documents are free-form JSON).
pub fn has_schema(kind: &str) -> bool {
    kind == crate::assessment::KIND || kind == crate::roster::KIND
}

/// Whether the principal may see the document: system administrators see everything; others
/// only documents of a commune their scope covers.
pub fn may_read(principal: &Principal, doc: &Automerge) -> bool {
    may_read_commune(principal, document_commune(doc).as_deref())
}

/// [`may_read`] for a document whose commune is already known.
pub fn may_read_commune(principal: &Principal, commune: Option<&str>) -> bool {
    principal.role == Role::SystemAdmin || commune.is_some_and(|commune| principal.covers(commune))
}

/// Whether the principal may upload evidence files (tệp minh chứng) for `commune`: their scope
/// covers it and their role writes evidence of one of its documents (an assessment item's, or a
/// roster person's: station people, village health workers for their own entry, system
/// administrators).
pub fn may_upload_file(principal: &Principal, commune: &str) -> bool {
    may_read_commune(principal, Some(commune))
        && (principal.role.at_station()
            || matches!(
                principal.role,
                Role::VillageHealthWorker | Role::SystemAdmin
            ))
}

/// A part of a document, as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `kind`, `schema`, `commune`, `catalog`, `round`, `unit_type`, the `items` map itself...:
    /// written by the server when it creates the document, never by a client.
    Fixed,
    /// The commune's zone for the round.
    Zone,
    /// The station's score of an item.
    SelfScore { item: String },
    /// The shared note of an item.
    Note { item: String },
    /// Evidence references of an item.
    Evidence { item: String },
    /// The reviewer's score of an item.
    ReviewScore { item: String },
    /// The reviewer's comment on an item.
    ReviewComment { item: String },
    /// An event of the workflow list.
    Event,
    /// A person of the roster (`staff` or `village_workers`).
    Person { group: String, person: String },
    /// A village of the roster.
    Village { village: String },
    /// Anything else.
    Other,
}

/// Which part of a document of `kind` a path is in.
pub fn classify(kind: &str, path: &[String]) -> Field {
    let at = |i: usize| path.get(i).map(String::as_str);
    match (kind, at(0)) {
        ("assessment", Some("zone")) if path.len() == 1 => Field::Zone,
        ("assessment", Some("items")) => {
            let Some(item) = at(1) else {
                return Field::Fixed;
            };
            let item = item.to_owned();
            match at(2) {
                Some("self_score") => Field::SelfScore { item },
                Some("note") => Field::Note { item },
                Some("evidence") => Field::Evidence { item },
                Some("review_score") => Field::ReviewScore { item },
                Some("review_comment") => Field::ReviewComment { item },
                _ => Field::Fixed,
            }
        }
        ("assessment", Some("events")) => Field::Event,
        ("roster", Some(group @ ("staff" | "village_workers"))) => match at(1) {
            Some(person) => Field::Person {
                group: group.to_owned(),
                person: person.to_owned(),
            },
            None => Field::Fixed,
        },
        ("roster", Some("villages")) => match at(1) {
            Some(village) => Field::Village {
                village: village.to_owned(),
            },
            None => Field::Fixed,
        },
        (
            _,
            Some(
                "kind" | "schema" | "commune" | "catalog" | "catalog_revision" | "round"
                | "unit_type",
            ),
        ) => Field::Fixed,
        _ => Field::Other,
    }
}

/// Whether a role may write a field (before looking at values). The PWA asks this to decide
/// what to show as editable.
pub fn may_write(principal: &Principal, field: &Field) -> bool {
    let role = principal.role;
    if role == Role::SystemAdmin {
        return !matches!(field, Field::Fixed);
    }
    match field {
        Field::Fixed | Field::Other => false,
        Field::Zone => matches!(role, Role::Reviewer | Role::ProvincialAdmin),
        Field::SelfScore { .. } | Field::Evidence { .. } => role.at_station(),
        Field::Note { .. } => role.at_station() || role == Role::VillageHealthWorker,
        Field::ReviewScore { .. } | Field::ReviewComment { .. } => role == Role::Reviewer,
        // Which events, exactly, is [`may_record_event`]'s question.
        Field::Event => !matches!(role, Role::VillageHealthWorker | Role::StationStaff),
        Field::Person { group, person } => {
            role.at_station()
                || (role == Role::VillageHealthWorker
                    && group == "village_workers"
                    && principal.person.as_deref() == Some(person.as_str()))
        }
        Field::Village { .. } => role.at_station(),
    }
}

/// Whether a role may record a workflow event of this kind.
pub fn may_record_event(role: Role, kind: &EventKind) -> bool {
    match kind {
        EventKind::Submit => matches!(role, Role::StationHead | Role::SystemAdmin),
        EventKind::Return | EventKind::Appraise | EventKind::Approve { .. } => {
            matches!(role, Role::Reviewer | Role::SystemAdmin)
        }
        EventKind::Maintain { .. } => matches!(
            role,
            Role::Reviewer | Role::ProvincialAdmin | Role::SystemAdmin
        ),
        EventKind::Recognize { .. } | EventKind::Withdraw { .. } => {
            matches!(role, Role::ProvincialAdmin | Role::SystemAdmin)
        }
        EventKind::Reopen | EventKind::Acknowledge => {
            matches!(role, Role::Reviewer | Role::SystemAdmin)
        }
        EventKind::Unknown { .. } => role == Role::SystemAdmin,
    }
}

/// Why a change was refused: the first path the principal may not write, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused at `{path}`: {reason}")]
pub struct Refusal {
    pub path: String,
    pub reason: String,
}

/// Which side of a dossier a field is on, for freezing (khóa hồ sơ): after `submit` the
/// station's side is read-only until a `return`; after `approve` both sides are, until a
/// `return` or a `reopen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freeze {
    /// Self scores, notes and evidence.
    StationSide,
    /// Review scores and comments, and the zone.
    ReviewSide,
}

impl Freeze {
    /// The side a field is on, if it is on one.
    pub fn of(field: &Field) -> Option<Freeze> {
        match field {
            Field::SelfScore { .. } | Field::Note { .. } | Field::Evidence { .. } => {
                Some(Freeze::StationSide)
            }
            Field::ReviewScore { .. } | Field::ReviewComment { .. } | Field::Zone => {
                Some(Freeze::ReviewSide)
            }
            _ => None,
        }
    }

    /// Why this side is read-only at `status`, if it is.
    pub fn refuses(self, status: Status) -> Option<&'static str> {
        let approved = status.rests_on_an_approval();
        match self {
            _ if approved => Some(
                "the dossier was approved: nobody changes it until a reviewer reopens it with a reason",
            ),
            Freeze::StationSide if !matches!(status, Status::Draft | Status::Returned) => Some(
                "the dossier was submitted: the station's side is read-only until a reviewer returns it",
            ),
            _ => None,
        }
    }
}

/// [`may_write`], and the field is not frozen at the dossier's `status`: what the PWA offers as
/// editable.
pub fn may_write_at(principal: &Principal, field: &Field, status: Status) -> bool {
    may_write(principal, field)
        && Freeze::of(field).is_none_or(|side| side.refuses(status).is_none())
}

fn event_kind_named(name: &str) -> EventKind {
    match name {
        "submit" => EventKind::Submit,
        "return" => EventKind::Return,
        "appraise" => EventKind::Appraise,
        "approve" => EventKind::Approve { heads: Vec::new() },
        "recognize" => EventKind::Recognize {
            decision: crate::workflow::DecisionRef {
                number: String::new(),
                date: String::new(),
            },
        },
        "maintain" => EventKind::Maintain { decision: None },
        "withdraw" => EventKind::Withdraw { decision: None },
        "reopen" => EventKind::Reopen,
        "acknowledge" => EventKind::Acknowledge,
        other => EventKind::Unknown {
            name: other.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{
        Answer, NewAssessment, Side, append_event, new_assessment, set_note, set_review_comment,
    };
    use crate::catalog::shipped_catalogs;
    use crate::commune::{UnitType, Zone};
    use crate::id::{CommuneCode, ItemId, PersonId, UserId};
    use crate::points::Points;
    use crate::roster::{Group, Person, new_roster, put_person};
    use automerge::AutoCommit;
    use automerge::transaction::Transactable;

    fn principal(role: Role, user: &str) -> Principal {
        Principal {
            user: user.to_owned(),
            role,
            scope: Scope::Communes(["16024".to_owned()].into()),
            person: Some("vhw-1".to_owned()),
        }
    }

    #[test]
    fn scopes_overlap_only_where_they_share_a_commune() {
        let communes =
            |codes: &[&str]| Scope::Communes(codes.iter().map(|c| (*c).to_owned()).collect());
        assert!(communes(&["16024", "16025"]).overlaps(&communes(&["16025"])));
        assert!(!communes(&["16024"]).overlaps(&communes(&["16025"])));
        assert!(Scope::All.overlaps(&communes(&["16024"])));
        assert!(communes(&["16024"]).overlaps(&Scope::All));
        assert!(Scope::All.overlaps(&Scope::All));
        assert!(
            !Scope::All.overlaps(&communes(&[])),
            "a person without communes shares none"
        );
    }

    fn assessment() -> AutoCommit {
        let catalog = shipped_catalogs().remove(0);
        let new = NewAssessment {
            commune: CommuneCode::parse("16024").unwrap(),
            round: 2024,
            zone: Zone::new(1).unwrap(),
            unit_type: UnitType::Xa,
        };
        new_assessment(&catalog, &new, 1).unwrap()
    }

    /// Applies `change` as `who` to a copy of `doc` and judges it.
    fn judge(
        doc: &mut AutoCommit,
        who: &Principal,
        change: impl FnOnce(&mut AutoCommit),
    ) -> Result<(), Refusal> {
        let mut copy = doc.fork();
        let before = copy.get_heads();
        change(&mut copy);
        copy.commit();
        let kind = document_kind(doc.document()).unwrap();
        let changes = copy.get_changes(&before);
        check_changes(Some(who), &kind, copy.document(), || changes)
    }

    fn score(user: &str, side: Side) -> impl FnOnce(&mut AutoCommit) {
        let user = user.to_owned();
        move |doc| {
            let item = ItemId::parse("TC2").unwrap();
            let answer = Answer::Points(Points::from_f64(7.5).unwrap());
            crate::assessment::set_score(
                doc,
                side,
                &item,
                answer,
                &UserId::parse(&user).unwrap(),
                2,
            )
            .unwrap();
        }
    }

    fn event(kind: EventKind, user: &str) -> impl FnOnce(&mut AutoCommit) {
        let user = user.to_owned();
        move |doc| {
            append_event(doc, &kind, &UserId::parse(&user).unwrap(), 3, "").unwrap();
        }
    }

    #[test]
    fn every_role_against_every_kind_of_assessment_field() {
        use Role::*;
        type Change = Box<dyn FnOnce(&mut AutoCommit)>;
        let cases: Vec<(Role, &str, Change, bool)> = vec![
            (
                StationStaff,
                "self score",
                Box::new(score("u", Side::SelfAssessment)),
                true,
            ),
            (
                StationHead,
                "self score",
                Box::new(score("u", Side::SelfAssessment)),
                true,
            ),
            (
                VillageHealthWorker,
                "self score",
                Box::new(score("u", Side::SelfAssessment)),
                false,
            ),
            (
                Reviewer,
                "self score",
                Box::new(score("u", Side::SelfAssessment)),
                false,
            ),
            (
                Reviewer,
                "review score",
                Box::new(score("u", Side::Review)),
                true,
            ),
            (
                StationStaff,
                "review score",
                Box::new(score("u", Side::Review)),
                false,
            ),
            (
                ProvincialAdmin,
                "review score",
                Box::new(score("u", Side::Review)),
                false,
            ),
            (
                VillageHealthWorker,
                "note",
                Box::new(|d: &mut AutoCommit| {
                    set_note(d, &ItemId::parse("TC1").unwrap(), "Ghi chú", 2).unwrap()
                }),
                true,
            ),
            (
                Reviewer,
                "note",
                Box::new(|d: &mut AutoCommit| {
                    set_note(d, &ItemId::parse("TC1").unwrap(), "Ghi chú", 2).unwrap()
                }),
                false,
            ),
            (
                Reviewer,
                "review comment",
                Box::new(|d: &mut AutoCommit| {
                    set_review_comment(d, &ItemId::parse("TC1").unwrap(), "Thiếu minh chứng", 2)
                        .unwrap()
                }),
                true,
            ),
            (
                StationHead,
                "review comment",
                Box::new(|d: &mut AutoCommit| {
                    set_review_comment(d, &ItemId::parse("TC1").unwrap(), "x", 2).unwrap()
                }),
                false,
            ),
            (
                Reviewer,
                "zone",
                Box::new(|d: &mut AutoCommit| {
                    crate::assessment::set_zone(d, Zone::new(2).unwrap(), 2).unwrap()
                }),
                true,
            ),
            (
                StationHead,
                "zone",
                Box::new(|d: &mut AutoCommit| {
                    crate::assessment::set_zone(d, Zone::new(2).unwrap(), 2).unwrap()
                }),
                false,
            ),
            (
                StationHead,
                "submit",
                Box::new(event(EventKind::Submit, "u")),
                true,
            ),
            (
                StationStaff,
                "submit",
                Box::new(event(EventKind::Submit, "u")),
                false,
            ),
            (
                Reviewer,
                "submit",
                Box::new(event(EventKind::Submit, "u")),
                false,
            ),
            (
                Reviewer,
                "return",
                Box::new(event(EventKind::Return, "u")),
                true,
            ),
            (
                Reviewer,
                "appraise",
                Box::new(event(EventKind::Appraise, "u")),
                true,
            ),
            (
                StationHead,
                "approve",
                Box::new(event(EventKind::Approve { heads: vec![] }, "u")),
                false,
            ),
            (
                ProvincialAdmin,
                "recognize",
                Box::new(event(
                    EventKind::Recognize {
                        decision: crate::workflow::DecisionRef {
                            number: "1/QĐ-UBND".into(),
                            date: "2024-12-01".into(),
                        },
                    },
                    "u",
                )),
                true,
            ),
            (
                Reviewer,
                "recognize",
                Box::new(event(
                    EventKind::Recognize {
                        decision: crate::workflow::DecisionRef {
                            number: "1/QĐ-UBND".into(),
                            date: "2024-12-01".into(),
                        },
                    },
                    "u",
                )),
                false,
            ),
            (
                ProvincialAdmin,
                "withdraw",
                Box::new(event(EventKind::Withdraw { decision: None }, "u")),
                true,
            ),
            (
                StationHead,
                "header",
                Box::new(|d: &mut AutoCommit| {
                    d.put(automerge::ROOT, "commune", "99999").unwrap();
                }),
                false,
            ),
            (
                SystemAdmin,
                "header",
                Box::new(|d: &mut AutoCommit| {
                    d.put(automerge::ROOT, "round", 2030).unwrap();
                }),
                false,
            ),
            (
                StationHead,
                "unknown root key",
                Box::new(|d: &mut AutoCommit| {
                    d.put(automerge::ROOT, "extra", 1).unwrap();
                }),
                false,
            ),
        ];
        let mut failures = Vec::new();
        for (role, what, change, allowed) in cases {
            let mut doc = assessment();
            let result = judge(&mut doc, &principal(role, "u"), change);
            if result.is_ok() != allowed {
                failures.push(format!(
                    "{role:?} writing {what}: expected allowed={allowed}, got {result:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_change_signed_as_someone_else_is_refused() {
        let mut doc = assessment();
        let err = judge(
            &mut doc,
            &principal(Role::StationStaff, "lan"),
            score("hoa", Side::SelfAssessment),
        )
        .unwrap_err();
        assert_eq!(err.path, "items.TC2.self_score.by");
        assert!(err.reason.contains("signed by the person"));
    }

    #[test]
    fn workflow_events_are_append_only() {
        let mut doc = assessment();
        event(EventKind::Submit, "head")(&mut doc);
        let head = principal(Role::StationHead, "head");
        // Editing the existing event's comment, even one's own.
        let err = judge(&mut doc, &head, |d| {
            let (_, events) = d.get(automerge::ROOT, "events").unwrap().unwrap();
            let (_, first) = d.get(&events, 0).unwrap().unwrap();
            d.put(&first, "comment", "sửa lại").unwrap();
        })
        .unwrap_err();
        assert!(err.reason.contains("signed entry"), "{err}");
        // Deleting it.
        let reviewer = principal(Role::Reviewer, "rev");
        let err = judge(&mut doc, &reviewer, |d| {
            let (_, events) = d.get(automerge::ROOT, "events").unwrap().unwrap();
            d.delete(&events, 0).unwrap();
        })
        .unwrap_err();
        assert!(err.reason.contains("never edited or deleted"), "{err}");
        // Appending is fine.
        judge(&mut doc, &reviewer, event(EventKind::Return, "rev")).unwrap();
    }

    #[test]
    fn a_village_health_worker_writes_only_their_own_roster_entry() {
        let mut doc = new_roster(&CommuneCode::parse("16024").unwrap(), 1).unwrap();
        let person = |name: &str| Person {
            name: name.to_owned(),
            ..Person::default()
        };
        let vhw = principal(Role::VillageHealthWorker, "vhw");
        judge(&mut doc, &vhw, |d| {
            put_person(
                d,
                Group::VillageWorker,
                &PersonId::parse("vhw-1").unwrap(),
                &person("Lò Thị Mai (thử)"),
                2,
            )
            .unwrap()
        })
        .unwrap();
        let err = judge(&mut doc, &vhw, |d| {
            put_person(
                d,
                Group::VillageWorker,
                &PersonId::parse("vhw-2").unwrap(),
                &person("Người khác"),
                2,
            )
            .unwrap()
        })
        .unwrap_err();
        assert!(err.path.starts_with("village_workers.vhw-2"), "{err}");
        let staff = principal(Role::StationStaff, "staff");
        judge(&mut doc, &staff, |d| {
            put_person(
                d,
                Group::Staff,
                &PersonId::parse("bs-1").unwrap(),
                &person("BS. Nguyễn Văn A (thử)"),
                2,
            )
            .unwrap()
        })
        .unwrap();
        let reviewer = principal(Role::Reviewer, "rev");
        assert!(
            judge(&mut doc, &reviewer, |d| {
                put_person(
                    d,
                    Group::Staff,
                    &PersonId::parse("bs-2").unwrap(),
                    &person("x"),
                    2,
                )
                .unwrap()
            })
            .is_err()
        );
    }

    #[test]
    fn evidence_files_are_judged_by_their_id_and_type_on_items_and_people() {
        use crate::assessment::{Evidence, put_evidence};
        use crate::files::{AttachedFile, MediaType};
        use crate::id::EvidenceId;
        use crate::roster::put_person_evidence;
        let photo = |sha256: String, media_type: MediaType| Evidence {
            label: "Giấy chứng nhận".to_owned(),
            reference: String::new(),
            added_by: "lan".to_owned(),
            added_at: 3,
            file: Some(AttachedFile {
                sha256,
                media_type,
                size: 1234,
                name: "anh.jpg".to_owned(),
                thumbnail: None,
            }),
        };
        let good = "0123456789abcdef".repeat(4);
        let lan = principal(Role::StationStaff, "lan");
        let e1 = EvidenceId::parse("e1").unwrap();
        let item = ItemId::parse("TC1").unwrap();

        let mut doc = assessment();
        let attach = |evidence: Evidence| {
            let e1 = e1.clone();
            let item = item.clone();
            move |d: &mut AutoCommit| put_evidence(d, &item, &e1, &evidence, 3).unwrap()
        };
        judge(&mut doc, &lan, attach(photo(good.clone(), MediaType::Jpeg))).unwrap();
        let err = judge(
            &mut doc,
            &lan,
            attach(photo("zz".repeat(32), MediaType::Jpeg)),
        )
        .unwrap_err();
        assert_eq!(err.path, "items.TC1.evidence.e1.file");
        // Entries written by a client that skips `put_evidence`: a type outside the four, and
        // a file without its type and size.
        let raw = |fields: Vec<(&'static str, &'static str)>| {
            let item = item.clone();
            move |d: &mut AutoCommit| {
                let (_, items) = d.get(automerge::ROOT, "items").unwrap().unwrap();
                let (_, entry) = d.get(&items, item.as_str()).unwrap().unwrap();
                let (_, list) = d.get(&entry, "evidence").unwrap().unwrap();
                let fresh = d.put_object(&list, "e2", automerge::ObjType::Map).unwrap();
                d.put(&fresh, "added_by", "lan").unwrap();
                d.put(&fresh, "added_at", 3).unwrap();
                for (key, value) in fields {
                    d.put(&fresh, key, value).unwrap();
                }
            }
        };
        const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let err = judge(
            &mut doc,
            &lan,
            raw(vec![("file", SHA), ("media_type", "text/html")]),
        )
        .unwrap_err();
        assert_eq!(err.path, "items.TC1.evidence.e2.media_type");
        assert!(err.reason.contains("media type"), "{err}");
        let err = judge(&mut doc, &lan, raw(vec![("file", SHA)])).unwrap_err();
        assert!(err.reason.contains("media_type"), "{err}");

        // The same rules on a roster person's certificate; a reviewer may not add one.
        let mut roster = new_roster(&CommuneCode::parse("16024").unwrap(), 1).unwrap();
        let bs1 = PersonId::parse("bs-1").unwrap();
        let add = |evidence: Evidence| {
            let e1 = e1.clone();
            let bs1 = bs1.clone();
            move |d: &mut AutoCommit| {
                put_person_evidence(d, Group::Staff, &bs1, &e1, &evidence, 3).unwrap()
            }
        };
        put_person(&mut roster, Group::Staff, &bs1, &Person::default(), 2).unwrap();
        judge(&mut roster, &lan, add(photo(good.clone(), MediaType::Pdf))).unwrap();
        let err = judge(
            &mut roster,
            &lan,
            add(photo(good.to_uppercase(), MediaType::Pdf)),
        )
        .unwrap_err();
        assert_eq!(err.path, "staff.bs-1.evidence.e1.file");
        let err = judge(
            &mut roster,
            &principal(Role::Reviewer, "lan"),
            add(photo(good.clone(), MediaType::Pdf)),
        )
        .unwrap_err();
        assert!(err.reason.contains("may not change"), "{err}");
    }

    #[test]
    fn reading_needs_a_scope_that_covers_the_commune() {
        let mut doc = assessment();
        assert!(may_read(
            &principal(Role::StationStaff, "u"),
            doc.document()
        ));
        let mut elsewhere = principal(Role::Reviewer, "u");
        elsewhere.scope = Scope::Communes(["16025".to_owned()].into());
        assert!(!may_read(&elsewhere, doc.document()));
        elsewhere.role = Role::SystemAdmin;
        assert!(may_read(&elsewhere, doc.document()));
    }
}
