//! Judging a change by every operation it carries (xét từng thao tác của một thay đổi).
//!
//! The server receives changes, applies them to a scratch copy of the document, and hands them
//! here with that copy. Each change is decoded into its operations, and every operation is
//! judged on its own — including values that lose a concurrent conflict or that the same change
//! overwrites, which never show in the merged document:
//!
//! - its path must fit the document's [`schema`](super::schema) (type, shape, signed entries
//!   written whole);
//! - the principal's role must be allowed to write that [`Field`];
//! - the dossier must not be frozen for that side **as the change's author saw it**: the
//!   workflow status at the change's dependencies (after `submit` the station side, after
//!   `approve` both sides, until a `return` or `reopen`);
//! - a value naming a person (`by`, `added_by`) must name the principal;
//! - a workflow event is appended after the last event its author saw, and records only what
//!   the principal's role may record; an approval records exactly the heads its author saw.
//!
//! Deciding by what the author saw (causality), never by clocks, means an edit made offline
//! before its author heard of a submission is kept: it is concurrent with the submission, and
//! the summary reports it as "changed after submission".

use std::collections::HashMap;

use automerge::legacy::{ElementId, Key, ObjectId, OpType};
use automerge::{Automerge, Change, ChangeHash, ObjType, ScalarValue};

use super::schema::{self, Target, Write};
use super::{Field, Principal, Refusal, Role, classify, event_kind_named, may_record_event};
use super::{Freeze, may_write};
use crate::assessment;
use crate::document::Version;
use crate::workflow::{self, Status};

/// Judges `changes`, already applied to `doc` (a scratch copy), for `principal` (`None` in open
/// mode: then only the schema and the workflow's shape are checked). `kind` is the document's
/// kind as stored before the changes. `changes` is called only when the operations are needed.
pub fn check_changes(
    principal: Option<&Principal>,
    kind: &str,
    doc: &Automerge,
    changes: impl FnOnce() -> Vec<Change>,
) -> Result<(), Refusal> {
    if kind != assessment::KIND && kind != crate::roster::KIND {
        // Documents of other kinds have no schema; only system administrators (or anyone, in
        // open mode) write them.
        return match principal {
            Some(principal) if principal.role != Role::SystemAdmin => Err(Refusal {
                path: String::new(),
                reason: format!("a {} may not change this document", principal.role.as_str()),
            }),
            _ => Ok(()),
        };
    }
    let mut judge = Judge {
        principal,
        kind,
        doc,
        containers: HashMap::new(),
        has_events: None,
    };
    for change in changes() {
        judge.change(&change)?;
    }
    Ok(())
}

struct Judge<'a> {
    principal: Option<&'a Principal>,
    kind: &'a str,
    doc: &'a Automerge,
    /// Paths and types of objects that existed before the change being judged, by id.
    containers: HashMap<String, (Vec<String>, ObjType)>,
    /// Whether the document has any workflow event (if not, every change saw a draft).
    has_events: Option<bool>,
}

/// An object the change being judged creates, and what the change writes into it.
#[derive(Debug)]
struct Made {
    path: Vec<String>,
    typ: ObjType,
    /// The counter of the object it was created in, if that one is new too.
    parent: Option<u64>,
    /// The scalars put into it, by key (for lists: the key is `#`), in order.
    values: Vec<(String, ScalarValue)>,
}

/// The workflow as the author of a change saw it.
#[derive(Debug)]
struct Seen {
    status: Status,
    /// The id (`counter@actor`) of the last event they saw.
    last_event: Option<String>,
}

fn refusal(path: &[String], reason: impl Into<String>) -> Refusal {
    Refusal {
        path: path.join("."),
        reason: reason.into(),
    }
}

impl Judge<'_> {
    fn change(&mut self, change: &Change) -> Result<(), Refusal> {
        let expanded = change.decode();
        let actor = expanded.actor_id.clone();
        let start = expanded.start_op.get();
        let end = start.saturating_add(expanded.operations.len() as u64);
        let mut made: HashMap<u64, Made> = HashMap::new();
        let mut seen: Option<Seen> = None;
        let mut appended: Option<String> = None;
        for (offset, op) in expanded.operations.iter().enumerate() {
            let id = start + offset as u64;
            let (mut path, in_new_object, parent) = match &op.obj {
                ObjectId::Root => (Vec::new(), false, None),
                ObjectId::Id(obj) if obj.1 == actor && (start..end).contains(&obj.0) => {
                    match made.get(&obj.0) {
                        Some(container) => (container.path.clone(), true, Some(obj.0)),
                        None => {
                            return Err(refusal(&[], "an operation names an object made after it"));
                        }
                    }
                }
                ObjectId::Id(obj) => (
                    self.container(&format!("{}@{}", obj.0, obj.1))?.0,
                    false,
                    None,
                ),
            };
            path.push(match &op.key {
                Key::Map(key) => key.to_string(),
                Key::Seq(_) => "#".to_owned(),
            });
            let write = match &op.action {
                OpType::Make(typ) => Write::Make(*typ),
                OpType::Put(value) => Write::Put(value),
                OpType::Delete => Write::Delete,
                OpType::Increment(_) | OpType::MarkBegin(_) | OpType::MarkEnd(_) => Write::Other,
            };
            let target = Target {
                path: &path,
                insert: op.insert,
                in_new_object,
            };
            schema::check(self.kind, target, write)
                .map_err(|why| refusal(&path, format!("`{}` {why}", path.join("."))))?;
            let field = classify(self.kind, &path);
            if let Some(principal) = self.principal {
                self.check_principal(principal, &path, &field, &op.action)?;
                if let Some(freeze) = Freeze::of(&field) {
                    let status = self.seen(&mut seen, &expanded.deps)?.status;
                    if let Some(reason) = freeze.refuses(status) {
                        return Err(refusal(&path, reason));
                    }
                }
            }
            if path.len() == 2 && field == Field::Event {
                // Appended right after the last event its author saw (or one this change added).
                let after = match &op.key {
                    Key::Seq(ElementId::Id(element)) => {
                        Some(format!("{}@{}", element.0, element.1))
                    }
                    _ => None,
                };
                let expected = match appended.take() {
                    Some(previous) => Some(previous),
                    None => self.seen(&mut seen, &expanded.deps)?.last_event.clone(),
                };
                if after != expected {
                    return Err(refusal(
                        &path,
                        "workflow events are appended after the last one, never before",
                    ));
                }
                appended = Some(format!("{id}@{actor}"));
            }
            if let (OpType::Put(value), Some(parent)) = (&op.action, parent)
                && let Some(container) = made.get_mut(&parent)
            {
                let key = path.last().cloned().unwrap_or_default();
                container.values.push((key, value.clone()));
            }
            if let OpType::Make(typ) = op.action {
                made.insert(
                    id,
                    Made {
                        path,
                        typ,
                        parent,
                        values: Vec::new(),
                    },
                );
            }
        }
        self.check_made(&made, &expanded.deps)
    }

    /// Role and signature of one operation.
    fn check_principal(
        &self,
        principal: &Principal,
        path: &[String],
        field: &Field,
        action: &OpType,
    ) -> Result<(), Refusal> {
        if !may_write(principal, field) {
            return Err(refusal(
                path,
                format!("a {} may not change this", principal.role.as_str()),
            ));
        }
        let key = path.last().map(String::as_str);
        if let OpType::Put(value) = action {
            if matches!(key, Some("by" | "added_by"))
                && !matches!(value, ScalarValue::Str(text) if text.as_str() == principal.user)
            {
                return Err(refusal(
                    path,
                    "a change may only be signed by the person who makes it",
                ));
            }
            if *field == Field::Event
                && key == Some("kind")
                && let ScalarValue::Str(name) = value
                && !may_record_event(principal.role, &event_kind_named(name))
            {
                return Err(refusal(
                    path,
                    format!("a {} may not record `{name}`", principal.role.as_str()),
                ));
            }
        }
        Ok(())
    }

    /// What every entry the change creates must hold once the change is done.
    fn check_made(&self, made: &HashMap<u64, Made>, deps: &[ChangeHash]) -> Result<(), Refusal> {
        for (counter, entry) in made {
            let has = |key: &str| entry.values.iter().any(|(k, _)| k == key);
            let text = |key: &str| {
                entry.values.iter().rev().find_map(|(k, v)| match v {
                    ScalarValue::Str(text) if k == key => Some(text.to_string()),
                    _ => None,
                })
            };
            let path: Vec<&str> = entry.path.iter().map(String::as_str).collect();
            let missing = |what: &str| {
                Err(refusal(
                    &entry.path,
                    format!("a new entry here must have {what}"),
                ))
            };
            match (self.kind, path.as_slice()) {
                ("assessment", ["items", _, "self_score" | "review_score"]) => {
                    if !(has("by") && has("at")) {
                        return missing("`by` and `at`");
                    }
                    if !(has("points") || has("met") || has("measured")) {
                        return missing("an answer (`points`, `met` or `measured`)");
                    }
                }
                ("assessment", ["items", _, "evidence", _])
                | ("roster", ["staff" | "village_workers", _, "evidence", _]) => {
                    if !(has("added_by") && has("added_at")) {
                        return missing("`added_by` and `added_at`");
                    }
                    if has("file") && !(has("media_type") && has("size")) {
                        return missing("a `media_type` and a `size` with its `file`");
                    }
                }
                ("assessment", ["events", "#"]) => {
                    if !(has("kind") && has("by") && has("at")) {
                        return missing("`kind`, `by` and `at`");
                    }
                    let kind = text("kind").unwrap_or_default();
                    if kind == "reopen" && text("comment").is_none_or(|c| c.trim().is_empty()) {
                        return missing("a reason (`comment`) to reopen an approved dossier");
                    }
                    if kind == "approve" {
                        let mut heads: Vec<String> = made
                            .values()
                            .filter(|list| {
                                list.parent == Some(*counter)
                                    && list.typ == ObjType::List
                                    && list.path.last().map(String::as_str) == Some("heads")
                            })
                            .flat_map(|list| list.values.iter())
                            .filter_map(|(_, value)| match value {
                                ScalarValue::Str(text) => Some(text.to_string()),
                                _ => None,
                            })
                            .collect();
                        heads.sort();
                        let mut seen: Vec<String> =
                            deps.iter().map(ChangeHash::to_string).collect();
                        seen.sort();
                        if heads != seen {
                            return Err(refusal(
                                &entry.path,
                                "an approval records exactly the heads its author saw",
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The path and type of an object that existed before the change.
    fn container(&mut self, id: &str) -> Result<(Vec<String>, ObjType), Refusal> {
        if let Some(found) = self.containers.get(id) {
            return Ok(found.clone());
        }
        let (path, typ) = crate::document::object_path(self.doc, id)
            .ok_or_else(|| refusal(&[], format!("object {id} is not in this document")))?;
        self.containers.insert(id.to_owned(), (path.clone(), typ));
        Ok((path, typ))
    }

    /// The workflow as the author saw it (computed once per change, when needed).
    fn seen<'s>(
        &mut self,
        seen: &'s mut Option<Seen>,
        deps: &[ChangeHash],
    ) -> Result<&'s Seen, Refusal> {
        match seen {
            Some(found) => Ok(found),
            None => {
                let found = self.read_seen(deps)?;
                Ok(seen.insert(found))
            }
        }
    }

    fn read_seen(&mut self, deps: &[ChangeHash]) -> Result<Seen, Refusal> {
        let doc = self.doc;
        let has_events = *self.has_events.get_or_insert_with(|| {
            assessment::event_ids(&Version::current(doc))
                .ok()
                .flatten()
                .is_some_and(|(_, ids)| !ids.is_empty())
        });
        if !has_events || self.kind != assessment::KIND {
            return Ok(Seen {
                status: Status::Draft,
                last_event: None,
            });
        }
        let unreadable =
            |err: crate::document::DocumentError| refusal(&["events".to_owned()], err.to_string());
        let events = assessment::read_events_at(doc, deps).map_err(unreadable)?;
        let last_event = assessment::event_ids(&Version::at(doc, deps))
            .map_err(unreadable)?
            .and_then(|(_, ids)| ids.last().map(ToString::to_string));
        Ok(Seen {
            status: workflow::status(&events).status,
            last_event,
        })
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};

    use super::*;
    use crate::assessment::{Answer, NewAssessment, Side, append_event, new_assessment, set_score};
    use crate::catalog::shipped_catalogs;
    use crate::commune::{UnitType, Zone};
    use crate::id::{CommuneCode, ItemId, UserId};
    use crate::points::Points;
    use crate::policy::Scope;
    use crate::workflow::EventKind;

    fn who(role: Role, user: &str) -> Principal {
        Principal {
            user: user.to_owned(),
            role,
            scope: Scope::Communes(["16024".to_owned()].into()),
            person: None,
        }
    }

    fn server_copy() -> AutoCommit {
        let new = NewAssessment {
            commune: CommuneCode::parse("16024").unwrap(),
            round: 2024,
            zone: Zone::new(1).unwrap(),
            unit_type: UnitType::Xa,
        };
        new_assessment(&shipped_catalogs().remove(0), &new, 1).unwrap()
    }

    fn replica(server: &mut AutoCommit, actor: u8) -> AutoCommit {
        server.fork().with_actor(ActorId::from(&[actor; 16][..]))
    }

    /// Offers what `phone` has to the server as the hub does: merged into a scratch copy,
    /// judged, kept only if accepted.
    fn offer(
        server: &mut AutoCommit,
        phone: &mut AutoCommit,
        by: &Principal,
    ) -> Result<(), Refusal> {
        let before = server.get_heads();
        let mut scratch = server.fork();
        scratch.merge(phone).unwrap();
        let doc = scratch.document();
        check_changes(Some(by), assessment::KIND, doc, || doc.get_changes(&before))?;
        *server = scratch;
        Ok(())
    }

    fn score(doc: &mut AutoCommit, side: Side, item: &str, points: f64, by: &str) {
        set_score(
            doc,
            side,
            &ItemId::parse(item).unwrap(),
            Answer::Points(Points::from_f64(points).unwrap()),
            &UserId::parse(by).unwrap(),
            10,
        )
        .unwrap();
    }

    fn event(doc: &mut AutoCommit, kind: EventKind, by: &str, comment: &str) {
        append_event(doc, &kind, &UserId::parse(by).unwrap(), 20, comment).unwrap();
    }

    fn item(doc: &AutoCommit, id: &str) -> automerge::ObjId {
        let (_, items) = doc.get(ROOT, "items").unwrap().unwrap();
        doc.get(&items, id).unwrap().unwrap().1
    }

    #[test]
    fn a_value_signed_as_someone_else_is_refused_even_where_it_loses_a_conflict() {
        let mut server = server_copy();
        let lan = who(Role::StationStaff, "lan");
        // Two devices of lan's, one of which signs as hoa; automerge lets the higher actor win,
        // so hoa's value only shows as a conflict flag in the merged document.
        let mut winning = replica(&mut server, 0xf0);
        let mut losing = replica(&mut server, 0x01);
        score(&mut winning, Side::SelfAssessment, "TC1", 5.0, "lan");
        score(&mut losing, Side::SelfAssessment, "TC1", 6.0, "hoa");
        winning.merge(&mut losing).unwrap();
        let err = offer(&mut server, &mut winning, &lan).unwrap_err();
        assert_eq!(err.path, "items.TC1.self_score.by");
        assert!(err.reason.contains("signed by the person"), "{err}");

        // Overwritten within one change: only the last value shows, the first is judged too.
        let mut phone = replica(&mut server, 2);
        let entry = item(&phone, "TC1");
        let first = phone
            .put_object(&entry, "self_score", ObjType::Map)
            .unwrap();
        phone.put(&first, "points", 6.0).unwrap();
        phone.put(&first, "by", "hoa").unwrap();
        phone.put(&first, "at", ScalarValue::Timestamp(1)).unwrap();
        let second = phone
            .put_object(&entry, "self_score", ObjType::Map)
            .unwrap();
        phone.put(&second, "points", 5.0).unwrap();
        phone.put(&second, "by", "lan").unwrap();
        phone.put(&second, "at", ScalarValue::Timestamp(1)).unwrap();
        phone.commit();
        let err = offer(&mut server, &mut phone, &lan).unwrap_err();
        assert_eq!(err.path, "items.TC1.self_score.by");

        // Positive control: signed by lan throughout.
        let mut phone = replica(&mut server, 3);
        score(&mut phone, Side::SelfAssessment, "TC1", 5.0, "lan");
        offer(&mut server, &mut phone, &lan).unwrap();
    }

    #[test]
    fn a_colleagues_score_is_replaced_whole_never_edited_inside() {
        let mut server = server_copy();
        let mut lan_phone = replica(&mut server, 1);
        score(&mut lan_phone, Side::SelfAssessment, "TC1", 5.0, "lan");
        offer(&mut server, &mut lan_phone, &who(Role::StationStaff, "lan")).unwrap();

        let head = who(Role::StationHead, "minh");
        let mut minh_phone = replica(&mut server, 2);
        let entry = item(&minh_phone, "TC1");
        let (_, signed) = minh_phone.get(&entry, "self_score").unwrap().unwrap();
        minh_phone.put(&signed, "points", 9.0).unwrap();
        minh_phone.commit();
        let err = offer(&mut server, &mut minh_phone, &head).unwrap_err();
        assert_eq!(err.path, "items.TC1.self_score.points");
        assert!(err.reason.contains("replace the entry whole"), "{err}");

        let mut minh_phone = replica(&mut server, 3);
        score(&mut minh_phone, Side::SelfAssessment, "TC1", 9.0, "minh");
        offer(&mut server, &mut minh_phone, &head).unwrap();
    }

    #[test]
    fn an_event_is_appended_after_the_last_one_its_author_saw() {
        let mut server = server_copy();
        let head = who(Role::StationHead, "minh");
        let reviewer = who(Role::Reviewer, "rev");
        let mut phone = replica(&mut server, 1);
        event(&mut phone, EventKind::Submit, "minh", "");
        offer(&mut server, &mut phone, &head).unwrap();

        // A return inserted before the submission.
        let mut desk = replica(&mut server, 2);
        let (_, events) = desk.get(ROOT, "events").unwrap().unwrap();
        let early = desk.insert_object(&events, 0, ObjType::Map).unwrap();
        desk.put(&early, "kind", "return").unwrap();
        desk.put(&early, "by", "rev").unwrap();
        desk.put(&early, "at", ScalarValue::Timestamp(1)).unwrap();
        desk.commit();
        let err = offer(&mut server, &mut desk, &reviewer).unwrap_err();
        assert!(err.reason.contains("appended after the last one"), "{err}");

        // Two offline appends after the same last event are both at the end for their authors.
        let mut desk = replica(&mut server, 3);
        let mut phone = replica(&mut server, 4);
        event(&mut desk, EventKind::Appraise, "rev", "");
        event(&mut phone, EventKind::Submit, "minh", "lại");
        offer(&mut server, &mut desk, &reviewer).unwrap();
        offer(&mut server, &mut phone, &head).unwrap();
        assert_eq!(assessment::read_events(&server).unwrap().len(), 3);
    }

    #[test]
    fn a_number_where_an_evidence_entry_belongs_is_refused() {
        let mut server = server_copy();
        let mut phone = replica(&mut server, 1);
        let entry = item(&phone, "TC1");
        let (_, evidence) = phone.get(&entry, "evidence").unwrap().unwrap();
        phone.put(&evidence, "e1", 42).unwrap();
        phone.commit();
        let err = offer(&mut server, &mut phone, &who(Role::StationStaff, "lan")).unwrap_err();
        assert_eq!(err.path, "items.TC1.evidence.e1");
        assert!(err.reason.contains("holds a map"), "{err}");
    }

    #[test]
    fn a_submitted_dossier_refuses_station_edits_made_after_seeing_the_submission() {
        let mut server = server_copy();
        let lan = who(Role::StationStaff, "lan");
        let mut offline = replica(&mut server, 1); // forked before the submission
        let mut phone = replica(&mut server, 2);
        event(&mut phone, EventKind::Submit, "minh", "");
        offer(&mut server, &mut phone, &who(Role::StationHead, "minh")).unwrap();

        let mut seen_it = replica(&mut server, 3);
        score(&mut seen_it, Side::SelfAssessment, "TC2", 7.0, "lan");
        let err = offer(&mut server, &mut seen_it, &lan).unwrap_err();
        assert!(err.reason.contains("submitted"), "{err}");

        // Made offline before the submission reached the phone: concurrent, kept.
        score(&mut offline, Side::SelfAssessment, "TC2", 7.0, "lan");
        offer(&mut server, &mut offline, &lan).unwrap();

        // The reviewer still works on their side.
        let mut desk = replica(&mut server, 4);
        score(&mut desk, Side::Review, "TC2", 6.0, "rev");
        offer(&mut server, &mut desk, &who(Role::Reviewer, "rev")).unwrap();
    }

    #[test]
    fn an_approved_dossier_is_frozen_until_reopened_with_a_reason() {
        let mut server = server_copy();
        let reviewer = who(Role::Reviewer, "rev");
        let mut phone = replica(&mut server, 1);
        event(&mut phone, EventKind::Submit, "minh", "");
        offer(&mut server, &mut phone, &who(Role::StationHead, "minh")).unwrap();
        let mut desk = replica(&mut server, 2);
        event(&mut desk, EventKind::Appraise, "rev", "");
        let heads = crate::document::heads(&mut desk);
        event(&mut desk, EventKind::Approve { heads }, "rev", "");
        offer(&mut server, &mut desk, &reviewer).unwrap();

        let mut desk = replica(&mut server, 3);
        score(&mut desk, Side::Review, "TC1", 4.0, "rev");
        let err = offer(&mut server, &mut desk, &reviewer).unwrap_err();
        assert!(err.reason.contains("approved"), "{err}");

        let mut desk = replica(&mut server, 4);
        event(&mut desk, EventKind::Reopen, "rev", "  ");
        let err = offer(&mut server, &mut desk, &reviewer).unwrap_err();
        assert!(err.reason.contains("reason"), "{err}");

        let mut desk = replica(&mut server, 5);
        event(&mut desk, EventKind::Reopen, "rev", "Sai điểm TC1");
        score(&mut desk, Side::Review, "TC1", 4.0, "rev");
        offer(&mut server, &mut desk, &reviewer).unwrap();

        // Reopened for the review side only: the station's side stays submitted.
        let mut phone = replica(&mut server, 6);
        score(&mut phone, Side::SelfAssessment, "TC1", 4.0, "lan");
        let err = offer(&mut server, &mut phone, &who(Role::StationStaff, "lan")).unwrap_err();
        assert!(err.reason.contains("submitted"), "{err}");
    }

    #[test]
    fn an_approval_records_exactly_the_heads_its_author_saw() {
        let mut server = server_copy();
        let mut desk = replica(&mut server, 1);
        let stale = crate::document::heads(&mut desk);
        event(&mut desk, EventKind::Appraise, "rev", "");
        event(&mut desk, EventKind::Approve { heads: stale }, "rev", "");
        let err = offer(&mut server, &mut desk, &who(Role::Reviewer, "rev")).unwrap_err();
        assert!(err.reason.contains("exactly the heads"), "{err}");
    }
}
