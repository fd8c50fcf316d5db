//! The assessment document (hồ sơ đánh giá): one per (commune, criteria set, round), an automerge
//! document shared by the station, the reviewers and the province.
//!
//! Layout (schema 1):
//!
//! ```text
//! { kind: "assessment", schema: 1,
//!   commune, catalog, catalog_revision, round, zone, unit_type,
//!   items: { <item id>: {                      // every catalog item, created with the document
//!       self_score:   { points | met | measured, by, at },   // a register: see below
//!       review_score: { points | met | measured, by, at },
//!       note: Text, review_comment: Text,       // several people can type at once
//!       evidence: { <evidence id>: { label, reference, added_by, added_at,
//!                                     file?, media_type?, size?, file_name?, thumbnail? } } } },
//!   events: [ { kind, by, at, comment, heads?, decision_number?, decision_date? } ] }
//! ```
//!
//! Why the containers are created with the document: if two offline replicas each created
//! `items["1.1"]`, automerge would keep only one of the two maps and the other's writes would
//! vanish. The server creates the document once, with every container, and replicas only fill
//! them.
//!
//! Scores are registers: each write puts a fresh map holding the answer with `by` (user) and
//! `at` (time) at `self_score` / `review_score`. Two people who score one item offline leave
//! two concurrent maps, which [`score_values`] returns with the actor of each, until a new write
//! resolves them. `by`/`at` live inside the value, not in change metadata, because (1) they then
//! travel atomically with the value they describe, (2) a phone can show "set by whom, when"
//! offline without asking the server to map actors to users, and (3) change times are only
//! seconds and actors are per device, not per person. The server's policy checks that `by` is
//! the authenticated user who sent the change.

use std::collections::{BTreeMap, BTreeSet};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, Prop, ReadDoc, ScalarValue, Value};
use autosurgeon::Hydrate;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::commune::{UnitType, Zone};
use crate::document::{
    self, DocumentError, commit, get_i64, get_map, get_scalar, get_str, get_text, require_map,
    scalar_i64,
};
use crate::files::{AttachedFile, MediaType, is_sha256_hex};
use crate::id::{CommuneCode, EvidenceId, ItemId, UserId};
use crate::points::Points;
use crate::workflow::{DecisionRef, Event, EventKind, WorkflowState};

/// The `kind` of an assessment document.
pub const KIND: &str = "assessment";
/// The schema version this code writes (and the newest it reads).
pub const SCHEMA: u64 = 1;

const ITEMS: &str = "items";
const EVENTS: &str = "events";

/// Which side scores: the station's self-assessment or the reviewer's appraisal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The station's self score (tự chấm).
    #[serde(rename = "self")]
    SelfAssessment,
    /// The reviewer's score (điểm thẩm định).
    Review,
}

impl Side {
    /// The item key its score is stored under.
    pub fn key(self) -> &'static str {
        match self {
            Side::SelfAssessment => "self_score",
            Side::Review => "review_score",
        }
    }
}

/// An answer to an indicator; the catalog's scoring rule turns it into points.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Points given directly (free-points rule, or a whole criterion).
    Points(Points),
    /// Met or not (yes/no rule).
    Met(bool),
    /// A measured percentage or count (bands rule).
    Measured(f64),
}

/// A score as written: the answer, who wrote it and when.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreValue {
    /// The answer.
    pub answer: Answer,
    /// User id of the writer.
    pub by: String,
    /// When (unix milliseconds, the writer's clock).
    pub at: i64,
}

/// One of possibly several concurrent values of a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConcurrentValue {
    /// The automerge actor (hex) that wrote it.
    pub actor: String,
    /// The value.
    pub value: ScoreValue,
    /// Whether automerge picks this one as the current value (the one scored).
    pub winning: bool,
}

/// An evidence reference (minh chứng): a document, photo or figure backing a score.
///
/// Stored as one signed map: `{ label, reference, added_by, added_at }` and, when a file is
/// attached, the flat fields `file, media_type, size, file_name, thumbnail?` (see
/// [`crate::files`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// What it is, e.g. "Biên bản họp Ban chỉ đạo 03/2025".
    pub label: String,
    /// Where it is: a URL, a shelf, a register number (free text).
    pub reference: String,
    /// User id of who attached it.
    pub added_by: String,
    /// When (unix milliseconds).
    pub added_at: i64,
    /// The attached file (tệp đính kèm), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<AttachedFile>,
}

/// An evidence map as stored, every field optional.
#[derive(Hydrate)]
struct StoredEvidence {
    #[autosurgeon(missing = "Default::default")]
    label: String,
    #[autosurgeon(missing = "Default::default")]
    reference: String,
    #[autosurgeon(missing = "Default::default")]
    added_by: String,
    #[autosurgeon(with = "crate::document::timestamp")]
    added_at: i64,
    #[autosurgeon(missing = "Default::default")]
    file: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    media_type: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    size: Option<document::Count>,
    #[autosurgeon(missing = "Default::default")]
    file_name: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    thumbnail: Option<String>,
}

impl Hydrate for Evidence {
    fn hydrate_map<D: autosurgeon::ReadDoc>(
        doc: &D,
        obj: &ObjId,
    ) -> Result<Self, autosurgeon::HydrateError> {
        let stored = StoredEvidence::hydrate_map(doc, obj)?;
        // A file is read only whole: an id and a type this app knows (the server's schema
        // refuses anything else, so a partial one can only come from a newer app).
        let file = match (
            stored.file,
            stored.media_type.as_deref().and_then(MediaType::parse),
        ) {
            (Some(sha256), Some(media_type)) if is_sha256_hex(&sha256) => Some(AttachedFile {
                sha256,
                media_type,
                size: stored.size.map(|c| c.0).unwrap_or_default(),
                name: stored.file_name.unwrap_or_default(),
                thumbnail: stored.thumbnail.filter(|t| is_sha256_hex(t)),
            }),
            _ => None,
        };
        Ok(Evidence {
            label: stored.label,
            reference: stored.reference,
            added_by: stored.added_by,
            added_at: stored.added_at,
            file,
        })
    }
}

/// Writes an evidence entry whole as a fresh map at `key` of `list` (shared with the roster).
pub(crate) fn write_evidence(
    doc: &mut AutoCommit,
    list: &ObjId,
    key: &str,
    evidence: &Evidence,
) -> Result<(), DocumentError> {
    let fresh = doc.put_object(list, key, ObjType::Map)?;
    doc.put(&fresh, "label", evidence.label.as_str())?;
    doc.put(&fresh, "reference", evidence.reference.as_str())?;
    doc.put(&fresh, "added_by", evidence.added_by.as_str())?;
    doc.put(
        &fresh,
        "added_at",
        ScalarValue::Timestamp(evidence.added_at),
    )?;
    if let Some(file) = &evidence.file {
        doc.put(&fresh, "file", file.sha256.as_str())?;
        doc.put(&fresh, "media_type", file.media_type.as_str())?;
        doc.put(&fresh, "size", ScalarValue::Uint(file.size))?;
        doc.put(&fresh, "file_name", file.name.as_str())?;
        if let Some(thumbnail) = &file.thumbnail {
            doc.put(&fresh, "thumbnail", thumbnail.as_str())?;
        }
    }
    Ok(())
}

/// What the server needs to open an assessment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAssessment {
    /// The commune assessed.
    pub commune: CommuneCode,
    /// The round (year).
    pub round: u16,
    /// The commune's zone this round.
    pub zone: Zone,
    /// The commune's unit type.
    pub unit_type: UnitType,
}

/// Everything in an assessment document, read at once (the winning value of each score).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssessmentView {
    /// Schema version of the document.
    pub schema: u64,
    /// Commune code.
    pub commune: String,
    /// Catalog code.
    pub catalog: String,
    /// Catalog revision it was opened with.
    pub catalog_revision: u32,
    /// Round (year).
    pub round: u16,
    /// Zone this round.
    pub zone: Zone,
    /// Unit type.
    pub unit_type: UnitType,
    /// Items by id.
    pub items: BTreeMap<String, ItemView>,
    /// Workflow events, in document order.
    pub events: Vec<Event>,
}

impl AssessmentView {
    /// The workflow state derived from the events.
    pub fn workflow(&self) -> WorkflowState {
        crate::workflow::status(&self.events)
    }
}

/// One item of an assessment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ItemView {
    /// The station's self score (winning value).
    pub self_score: Option<ScoreValue>,
    /// The reviewer's score (winning value).
    pub review_score: Option<ScoreValue>,
    /// Sides whose score has concurrent values waiting to be resolved.
    pub conflicts: Vec<Side>,
    /// Collaborative note (ghi chú).
    pub note: String,
    /// Reviewer's comment (nhận xét).
    pub review_comment: String,
    /// Evidence by id.
    pub evidence: BTreeMap<String, Evidence>,
}

impl ItemView {
    /// The winning score of one side.
    pub fn score(&self, side: Side) -> Option<&ScoreValue> {
        match side {
            Side::SelfAssessment => self.self_score.as_ref(),
            Side::Review => self.review_score.as_ref(),
        }
    }
}

/// Creates an assessment with every item of `catalog`, and commits it.
pub fn new_assessment(
    catalog: &Catalog,
    new: &NewAssessment,
    at: i64,
) -> Result<AutoCommit, DocumentError> {
    let mut doc = AutoCommit::new();
    document::put_header(&mut doc, KIND, SCHEMA)?;
    let root = automerge::ROOT;
    doc.put(&root, "commune", new.commune.as_str())?;
    doc.put(&root, "catalog", catalog.code.as_str())?;
    doc.put(&root, "catalog_revision", u64::from(catalog.revision))?;
    doc.put(&root, "round", u64::from(new.round))?;
    doc.put(&root, "zone", u64::from(new.zone.get()))?;
    doc.put(&root, "unit_type", new.unit_type.as_str())?;
    let items = doc.put_object(&root, ITEMS, ObjType::Map)?;
    for item in catalog.items() {
        let entry = doc.put_object(&items, item.id().as_str(), ObjType::Map)?;
        doc.put_object(&entry, "note", ObjType::Text)?;
        doc.put_object(&entry, "review_comment", ObjType::Text)?;
        doc.put_object(&entry, "evidence", ObjType::Map)?;
    }
    doc.put_object(&root, EVENTS, ObjType::List)?;
    commit(&mut doc, at, "open assessment");
    Ok(doc)
}

fn item_obj(doc: &AutoCommit, item: &str) -> Result<ObjId, DocumentError> {
    let items = require_map(doc, &automerge::ROOT, ITEMS, ITEMS)?;
    get_map(doc, &items, item)?.ok_or_else(|| DocumentError::UnknownItem(item.to_string()))
}

/// Writes a score, resolving any conflict on it.
pub fn set_score(
    doc: &mut AutoCommit,
    side: Side,
    item: &ItemId,
    answer: Answer,
    by: &UserId,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = item_obj(doc, item.as_str())?;
    let score = doc.put_object(&entry, side.key(), ObjType::Map)?;
    match answer {
        Answer::Points(points) => doc.put(&score, "points", points.to_f64())?,
        Answer::Met(met) => doc.put(&score, "met", met)?,
        Answer::Measured(value) => doc.put(&score, "measured", value)?,
    }
    doc.put(&score, "by", by.as_str())?;
    doc.put(&score, "at", ScalarValue::Timestamp(at))?;
    commit(doc, at, &format!("{} {item}", side.key()));
    Ok(())
}

/// Removes a score (and any conflict on it).
pub fn clear_score(
    doc: &mut AutoCommit,
    side: Side,
    item: &ItemId,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = item_obj(doc, item.as_str())?;
    doc.delete(&entry, side.key())?;
    commit(doc, at, &format!("clear {} {item}", side.key()));
    Ok(())
}

/// Reads one score map; `None` if it holds no answer this version understands.
fn read_score(doc: &AutoCommit, score: &ObjId) -> Result<Option<ScoreValue>, DocumentError> {
    let number = |value: Option<ScalarValue>| match value {
        Some(ScalarValue::F64(f)) => Some(f),
        other => scalar_i64(other.as_ref()).map(|i| i as f64),
    };
    let answer = if let Some(points) = number(get_scalar(doc, score, "points")?) {
        Points::from_f64(points).ok().map(Answer::Points)
    } else if let Some(ScalarValue::Boolean(met)) = get_scalar(doc, score, "met")? {
        Some(Answer::Met(met))
    } else {
        number(get_scalar(doc, score, "measured")?)
            .filter(|m| m.is_finite())
            .map(Answer::Measured)
    };
    Ok(answer.map(|answer| ScoreValue {
        answer,
        by: get_str(doc, score, "by").ok().flatten().unwrap_or_default(),
        at: get_i64(doc, score, "at").ok().flatten().unwrap_or_default(),
    }))
}

/// Every concurrent value of a score with the actor that wrote it; one value when there is no
/// conflict, none when unscored. The last one is the winner automerge picks.
pub fn score_values(
    doc: &AutoCommit,
    side: Side,
    item: &ItemId,
) -> Result<Vec<ConcurrentValue>, DocumentError> {
    let entry = item_obj(doc, item.as_str())?;
    let all = doc.get_all(&entry, side.key())?;
    let count = all.len();
    let mut values = Vec::with_capacity(count);
    for (i, (value, id)) in all.into_iter().enumerate() {
        let Value::Object(ObjType::Map) = value else {
            continue;
        };
        let actor = match &id {
            automerge::ObjId::Id(_, actor, _) => actor.to_hex_string(),
            automerge::ObjId::Root => String::new(),
        };
        if let Some(value) = read_score(doc, &id)? {
            values.push(ConcurrentValue {
                actor,
                value,
                winning: i + 1 == count,
            });
        }
    }
    Ok(values)
}

fn text_obj(doc: &mut AutoCommit, entry: &ObjId, key: &str) -> Result<ObjId, DocumentError> {
    match doc.get(entry, key)? {
        Some((Value::Object(ObjType::Text), id)) => Ok(id),
        _ => Ok(doc.put_object(entry, key, ObjType::Text)?),
    }
}

/// Sets the item's collaborative note; only the difference from the current text is written, so
/// concurrent typing by several people merges.
pub fn set_note(
    doc: &mut AutoCommit,
    item: &ItemId,
    text: &str,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = item_obj(doc, item.as_str())?;
    let note = text_obj(doc, &entry, "note")?;
    doc.update_text(&note, text)?;
    commit(doc, at, &format!("note {item}"));
    Ok(())
}

/// Sets the reviewer's comment on an item (collaborative text, like the note).
pub fn set_review_comment(
    doc: &mut AutoCommit,
    item: &ItemId,
    text: &str,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = item_obj(doc, item.as_str())?;
    let comment = text_obj(doc, &entry, "review_comment")?;
    doc.update_text(&comment, text)?;
    commit(doc, at, &format!("review comment {item}"));
    Ok(())
}

/// Adds an evidence reference on an item, or replaces one whole (an entry is signed by who
/// added it, so it is never edited field by field).
pub fn put_evidence(
    doc: &mut AutoCommit,
    item: &ItemId,
    id: &EvidenceId,
    evidence: &Evidence,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = item_obj(doc, item.as_str())?;
    let list = require_map(doc, &entry, "evidence", "evidence")?;
    write_evidence(doc, &list, id.as_str(), evidence)?;
    commit(doc, at, &format!("evidence {item}"));
    Ok(())
}

/// Removes an evidence reference from an item.
pub fn remove_evidence(
    doc: &mut AutoCommit,
    item: &ItemId,
    id: &EvidenceId,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = item_obj(doc, item.as_str())?;
    let list = require_map(doc, &entry, "evidence", "evidence")?;
    doc.delete(&list, id.as_str())?;
    commit(doc, at, &format!("remove evidence {item}"));
    Ok(())
}

/// Moves an open assessment to a newer revision of its criteria set (see
/// [`Catalog::changes_to`]): items whose id, points and rule are unchanged keep their scores;
/// the others' scores are cleared, to be scored again; new items get their containers; the
/// revision and who moved it (`revision_move`: from, to, by, at) are recorded. Refuses another
/// criteria set, a revision that is not newer, and an assessment past the station's hands (only
/// a draft or a returned one moves). Notes and evidence stay everywhere.
pub fn move_to_revision(
    doc: &mut AutoCommit,
    newer: &Catalog,
    by: &UserId,
    at: i64,
    older: &Catalog,
) -> Result<crate::catalog::RevisionChanges, DocumentError> {
    let view = read_assessment(doc)?;
    if view.catalog != newer.code.as_str() || older.code != newer.code {
        return Err(DocumentError::Refused(format!(
            "the assessment is scored with {}, not {}",
            view.catalog, newer.code
        )));
    }
    if view.catalog_revision != older.revision || newer.revision <= older.revision {
        return Err(DocumentError::Refused(format!(
            "the assessment is on revision {}; it moves only to a newer one than {}",
            view.catalog_revision, older.revision
        )));
    }
    let status = view.workflow().status;
    if !matches!(
        status,
        crate::workflow::Status::Draft | crate::workflow::Status::Returned
    ) {
        return Err(DocumentError::Refused(format!(
            "the assessment is {status:?}: only a draft or a returned one moves to a new revision"
        )));
    }
    let changes = older.changes_to(newer);
    let items = require_map(doc, &automerge::ROOT, ITEMS, ITEMS)?;
    for id in &changes.rescore {
        if let Some(entry) = get_map(doc, &items, id)? {
            for side in [Side::SelfAssessment, Side::Review] {
                doc.delete(&entry, side.key())?;
            }
        }
    }
    for id in &changes.added {
        if get_map(doc, &items, id)?.is_none() {
            let entry = doc.put_object(&items, id.as_str(), ObjType::Map)?;
            doc.put_object(&entry, "note", ObjType::Text)?;
            doc.put_object(&entry, "review_comment", ObjType::Text)?;
            doc.put_object(&entry, "evidence", ObjType::Map)?;
        }
    }
    doc.put(
        automerge::ROOT,
        "catalog_revision",
        u64::from(newer.revision),
    )?;
    let moved = doc.put_object(automerge::ROOT, "revision_move", ObjType::Map)?;
    doc.put(&moved, "from", u64::from(older.revision))?;
    doc.put(&moved, "to", u64::from(newer.revision))?;
    doc.put(&moved, "by", by.as_str())?;
    doc.put(&moved, "at", at)?;
    commit(
        doc,
        at,
        &format!("move to revision {} of {}", newer.revision, newer.code),
    );
    Ok(changes)
}

/// Changes the commune's zone for this round.
pub fn set_zone(doc: &mut AutoCommit, zone: Zone, at: i64) -> Result<(), DocumentError> {
    doc.put(automerge::ROOT, "zone", u64::from(zone.get()))?;
    commit(doc, at, "zone");
    Ok(())
}

/// Appends a workflow event and returns its id. An approval's heads must be heads of this
/// document (take them from [`document::heads`] when the reviewer approves).
pub fn append_event(
    doc: &mut AutoCommit,
    kind: &EventKind,
    by: &UserId,
    at: i64,
    comment: &str,
) -> Result<String, DocumentError> {
    if let EventKind::Approve { heads } = kind {
        document::parse_heads(doc, heads)?;
    }
    let events = match doc.get(automerge::ROOT, EVENTS)? {
        Some((Value::Object(ObjType::List), id)) => id,
        _ => {
            return Err(DocumentError::Missing {
                path: EVENTS.to_string(),
            });
        }
    };
    let end = doc.length(&events);
    let event = doc.insert_object(&events, end, ObjType::Map)?;
    doc.put(&event, "kind", kind.name())?;
    doc.put(&event, "by", by.as_str())?;
    doc.put(&event, "at", ScalarValue::Timestamp(at))?;
    doc.put(&event, "comment", comment)?;
    match kind {
        EventKind::Approve { heads } => {
            let list = doc.put_object(&event, "heads", ObjType::List)?;
            for (i, head) in heads.iter().enumerate() {
                doc.insert(&list, i, head.as_str())?;
            }
        }
        EventKind::Recognize { decision }
        | EventKind::Maintain {
            decision: Some(decision),
        }
        | EventKind::Withdraw {
            decision: Some(decision),
        } => {
            doc.put(&event, "decision_number", decision.number.as_str())?;
            doc.put(&event, "decision_date", decision.date.as_str())?;
        }
        _ => {}
    }
    commit(doc, at, &format!("event {}", kind.name()));
    Ok(event.to_string())
}

/// Reads the workflow events, in document order.
pub fn read_events(doc: &AutoCommit) -> Result<Vec<Event>, DocumentError> {
    events_in(&document::Version::current(doc))
}

/// Reads the workflow events as they were at `heads` (what the author of a change with these
/// dependencies saw), in document order.
pub fn read_events_at(
    doc: &automerge::Automerge,
    heads: &[automerge::ChangeHash],
) -> Result<Vec<Event>, DocumentError> {
    events_in(&document::Version::at(doc, heads))
}

/// The events list's object and its elements' ids, as of one version of the document.
pub fn event_ids<D: ReadDoc>(
    version: &document::Version<'_, D>,
) -> Result<Option<(ObjId, Vec<ObjId>)>, DocumentError> {
    let Some((Value::Object(ObjType::List), events)) = version.get(&automerge::ROOT, EVENTS)?
    else {
        return Ok(None);
    };
    let mut ids = Vec::new();
    for index in 0..version.length(&events) {
        if let Some((_, id)) = version.get(&events, index)? {
            ids.push(id);
        }
    }
    Ok(Some((events, ids)))
}

fn events_in<D: ReadDoc>(version: &document::Version<'_, D>) -> Result<Vec<Event>, DocumentError> {
    let Some((_, ids)) = event_ids(version)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for id in ids {
        if !matches!(version.object_type(&id), Some(ObjType::Map)) {
            continue;
        }
        let text = |key: &str| version.str(&id, key).map(Option::unwrap_or_default);
        let name = text("kind")?;
        let decision = || -> Result<Option<DecisionRef>, DocumentError> {
            let number = version.str(&id, "decision_number")?;
            let date = version.str(&id, "decision_date")?;
            Ok(number.map(|number| DecisionRef {
                number,
                date: date.unwrap_or_default(),
            }))
        };
        let kind = match name.as_str() {
            "submit" => EventKind::Submit,
            "return" => EventKind::Return,
            "appraise" => EventKind::Appraise,
            "approve" => EventKind::Approve {
                heads: version.string_list(&id, "heads")?,
            },
            "recognize" => match decision()? {
                Some(decision) => EventKind::Recognize { decision },
                None => EventKind::Unknown { name },
            },
            "maintain" => EventKind::Maintain {
                decision: decision()?,
            },
            "withdraw" => EventKind::Withdraw {
                decision: decision()?,
            },
            "reopen" => EventKind::Reopen,
            "acknowledge" => EventKind::Acknowledge,
            _ => EventKind::Unknown { name },
        };
        out.push(Event {
            id: id.to_string(),
            kind,
            by: text("by")?,
            at: scalar_i64(version.scalar(&id, "at")?.as_ref()).unwrap_or_default(),
            comment: text("comment")?,
        });
    }
    Ok(out)
}

fn read_item(doc: &AutoCommit, entry: &ObjId) -> Result<ItemView, DocumentError> {
    let mut view = ItemView::default();
    for side in [Side::SelfAssessment, Side::Review] {
        let all = doc.get_all(entry, side.key())?;
        if all.len() > 1 {
            view.conflicts.push(side);
        }
        // The winner is the last value automerge reports.
        let winner = match all.last() {
            Some((Value::Object(ObjType::Map), id)) => read_score(doc, id)?,
            _ => None,
        };
        match side {
            Side::SelfAssessment => view.self_score = winner,
            Side::Review => view.review_score = winner,
        }
    }
    view.note = get_text(doc, entry, "note")?;
    view.review_comment = get_text(doc, entry, "review_comment")?;
    if get_map(doc, entry, "evidence")?.is_some() {
        view.evidence = autosurgeon::hydrate_prop(doc, entry, "evidence")?;
    }
    Ok(view)
}

/// Reads the whole assessment. Accepts every schema up to [`SCHEMA`].
pub fn read_assessment(doc: &AutoCommit) -> Result<AssessmentView, DocumentError> {
    let schema = document::check_header(doc, KIND, SCHEMA)?;
    let root = automerge::ROOT;
    let required_str = |key: &'static str| -> Result<String, DocumentError> {
        get_str(doc, &root, key)?.ok_or(DocumentError::Missing {
            path: key.to_string(),
        })
    };
    let bad = |path: &str, expected: &'static str| DocumentError::BadValue {
        path: path.to_string(),
        expected,
    };
    let commune = required_str("commune")?;
    let catalog = required_str("catalog")?;
    let catalog_revision = get_i64(doc, &root, "catalog_revision")?.map_or(Ok(1), |r| {
        u32::try_from(r).map_err(|_| bad("catalog_revision", "a revision"))
    })?;
    let round = get_i64(doc, &root, "round")?
        .ok_or(DocumentError::Missing {
            path: "round".to_string(),
        })
        .and_then(|r| u16::try_from(r).map_err(|_| bad("round", "a year")))?;
    let zone = get_i64(doc, &root, "zone")?
        .ok_or(DocumentError::Missing {
            path: "zone".to_string(),
        })
        .and_then(|z| Zone::new(z).map_err(|_| bad("zone", "1, 2 or 3")))?;
    let unit_type = UnitType::parse(&required_str("unit_type")?)
        .map_err(|_| bad("unit_type", "xa, phuong or dac_khu"))?;
    let mut items = BTreeMap::new();
    if let Some(items_obj) = get_map(doc, &root, ITEMS)? {
        for key in doc.keys(&items_obj) {
            if let Some(entry) = get_map(doc, &items_obj, &key)? {
                items.insert(key, read_item(doc, &entry)?);
            }
        }
    }
    Ok(AssessmentView {
        schema,
        commune,
        catalog,
        catalog_revision,
        round,
        zone,
        unit_type,
        items,
        events: read_events(doc)?,
    })
}

/// Station-side changes made concurrently with the submission in force, that no reviewer has
/// seen yet (thay đổi sau khi nộp): an edit made offline before its author heard of the
/// submission is kept, and the reviewer is told until they acknowledge it, appraise, approve or
/// return the dossier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChangedAfterSubmission {
    /// Items whose self score, note or evidence changed.
    pub items: Vec<String>,
    /// Who: the user ids that signed the changed values (and, filled in by the server, the
    /// people whose devices made unsigned changes such as notes).
    pub by: Vec<String>,
    /// The automerge actors (hex) of the changes, for the server to name.
    #[serde(skip)]
    pub actors: Vec<String>,
    /// When the latest of them was made (unix milliseconds, its author's clock, to the second).
    pub at: i64,
}

/// What the station changed, concurrently with the submission in force, that no reviewer's
/// event has seen; `None` when there is nothing (or no submission in force).
pub fn changed_after_submission(
    doc: &mut AutoCommit,
    workflow: &WorkflowState,
) -> Result<Option<ChangedAfterSubmission>, DocumentError> {
    let Some(submission) = &workflow.submission else {
        return Ok(None);
    };
    // What the submitter and every later reviewer's event had seen.
    let mut seen = Vec::new();
    for event in std::iter::once(submission).chain(&workflow.acknowledged) {
        let hash = doc
            .document()
            .import_obj(event)
            .ok()
            .and_then(|obj| doc.hash_for_opid(&obj));
        seen.extend(hash);
    }
    if seen.is_empty() {
        return Ok(None);
    }
    let station_item = |keys: &[String]| match keys {
        [items, item, field, ..]
            if items == ITEMS && matches!(field.as_str(), "self_score" | "note" | "evidence") =>
        {
            Some(item.clone())
        }
        _ => None,
    };
    // Cheap first: whether anything of the station's side differs from what they saw.
    let now = doc.get_heads();
    let mut items = BTreeSet::new();
    for patch in doc.diff(&seen, &now) {
        let mut keys: Vec<String> = patch
            .path
            .iter()
            .map(|(_, prop)| match prop {
                Prop::Map(key) => key.clone(),
                Prop::Seq(_) => "#".to_owned(),
            })
            .collect();
        if let automerge::PatchAction::PutMap { key, .. }
        | automerge::PatchAction::DeleteMap { key } = &patch.action
        {
            keys.push(key.clone());
        }
        items.extend(station_item(&keys));
    }
    if items.is_empty() {
        return Ok(None);
    }
    // Then who and when, from the changes themselves.
    let mut late = ChangedAfterSubmission {
        items: items.into_iter().collect(),
        ..ChangedAfterSubmission::default()
    };
    let automerge = doc.document();
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for change in automerge.get_changes(&seen) {
        let expanded = change.decode();
        let actor = expanded.actor_id.to_hex_string();
        let mut station = false;
        let mut signers = Vec::new();
        for op in &expanded.operations {
            let automerge::legacy::ObjectId::Id(obj) = &op.obj else {
                continue;
            };
            let id = format!("{}@{}", obj.0, obj.1);
            if !paths.contains_key(&id) {
                let path = document::object_path(automerge, &id).map(|(path, _)| path);
                paths.insert(id.clone(), path.unwrap_or_default());
            }
            let mut keys = paths.get(&id).cloned().unwrap_or_default();
            if let automerge::legacy::Key::Map(key) = &op.key {
                keys.push(key.to_string());
            }
            if station_item(&keys).is_none() {
                continue;
            }
            station = true;
            if let automerge::legacy::OpType::Put(ScalarValue::Str(text)) = &op.action
                && matches!(keys.last().map(String::as_str), Some("by" | "added_by"))
            {
                signers.push(text.to_string());
            }
        }
        if !station {
            continue;
        }
        late.at = late.at.max(expanded.time.saturating_mul(1000));
        if signers.is_empty() {
            late.actors.push(actor);
        }
        late.by.extend(signers);
    }
    late.by.sort();
    late.by.dedup();
    late.actors.sort();
    late.actors.dedup();
    Ok(Some(late))
}

/// The assessment as a reviewer decided it: the values at the heads that were approved while an
/// approval is in force (an approved record does not change under anyone), the current ones
/// otherwise; the events (so the status) are always the current ones.
pub fn read_decided(doc: &mut AutoCommit) -> Result<AssessmentView, DocumentError> {
    let current = read_assessment(doc)?;
    let workflow = current.workflow();
    match workflow.approval {
        Some(approval) if workflow.status.rests_on_an_approval() => {
            let heads = document::parse_heads(doc, &approval.heads)?;
            let approved = doc.fork_at(&heads)?;
            Ok(AssessmentView {
                events: current.events,
                ..read_assessment(&approved)?
            })
        }
        _ => Ok(current),
    }
}

/// What changed since `heads` (e.g. since an approval), outside the workflow events: item ids,
/// or root fields such as `zone`; sorted.
pub fn changed_since(doc: &mut AutoCommit, heads: &[String]) -> Result<Vec<String>, DocumentError> {
    let before = document::parse_heads(doc, heads)?;
    let after = doc.get_heads();
    let mut changed = BTreeSet::new();
    for patch in doc.diff(&before, &after) {
        let mut keys: Vec<String> = patch
            .path
            .iter()
            .map(|(_, prop)| match prop {
                Prop::Map(key) => key.clone(),
                Prop::Seq(index) => index.to_string(),
            })
            .collect();
        match &patch.action {
            automerge::PatchAction::PutMap { key, .. }
            | automerge::PatchAction::DeleteMap { key } => keys.push(key.clone()),
            automerge::PatchAction::Conflict {
                prop: Prop::Map(key),
            } => keys.push(key.clone()),
            _ => {}
        }
        match keys.as_slice() {
            [] => {}
            [first, ..] if first == EVENTS => {}
            [first, item, ..] if first == ITEMS => {
                changed.insert(item.clone());
            }
            [first, ..] => {
                changed.insert(first.clone());
            }
        }
    }
    Ok(changed.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::catalog::shipped_catalogs;
    use crate::workflow::Status;

    fn qd1300() -> Catalog {
        shipped_catalogs().remove(0)
    }

    fn open() -> AutoCommit {
        let new = NewAssessment {
            commune: CommuneCode::parse("16279").unwrap(),
            round: 2025,
            zone: Zone::new(2).unwrap(),
            unit_type: UnitType::Xa,
        };
        new_assessment(&qd1300(), &new, 1_700_000_000_000)
            .unwrap()
            .with_actor(ActorId::from(&[1u8; 16][..]))
    }

    fn fork(doc: &mut AutoCommit, actor: u8) -> AutoCommit {
        doc.fork().with_actor(ActorId::from(&[actor; 16][..]))
    }

    fn id(s: &str) -> ItemId {
        ItemId::parse(s).unwrap()
    }

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    /// QĐ 1300 as revision 2: TC2 worth 11 points (to score again), TC3 split into two
    /// indicators (TC3 gone, 3.1 and 3.2 new), the rest unchanged.
    fn qd1300_revised() -> Catalog {
        let mut json: serde_json::Value = serde_json::from_str(&qd1300().to_json()).unwrap();
        json["revision"] = 2.into();
        json["criteria"][1]["max_points"] = 11.into();
        json["criteria"][2]["indicators"] = serde_json::json!([
            { "id": "3.1", "name_vi": "TEST a", "max_points": 6, "scoring": { "kind": "points" } },
            { "id": "3.2", "name_vi": "TEST b", "max_points": 6, "scoring": { "kind": "yes_no" } }
        ]);
        crate::catalog::parse_catalog(&json.to_string()).unwrap()
    }

    #[test]
    fn moving_to_a_newer_revision_keeps_unchanged_scores_and_clears_the_others() {
        let mut doc = open();
        for (item, points) in [("TC1", 12), ("TC2", 8)] {
            set_score(
                &mut doc,
                Side::SelfAssessment,
                &id(item),
                Answer::Points(Points::whole(points)),
                &user("lan"),
                10,
            )
            .unwrap();
        }
        // A phone scores offline while the server moves the document.
        let mut phone = fork(&mut doc, 2);
        set_score(
            &mut phone,
            Side::SelfAssessment,
            &id("TC4"),
            Answer::Points(Points::whole(9)),
            &user("lan"),
            11,
        )
        .unwrap();
        let newer = qd1300_revised();
        let changes = move_to_revision(&mut doc, &newer, &user("binh.syt"), 20, &qd1300()).unwrap();
        assert_eq!(changes.rescore, ["TC2"]);
        assert_eq!(changes.added, ["3.1", "3.2"]);
        assert_eq!(changes.removed, ["TC3"]);
        doc.merge(&mut phone).unwrap();

        let view = read_assessment(&doc).unwrap();
        assert_eq!(view.catalog_revision, 2);
        let score = |item: &str| {
            view.items
                .get(item)
                .and_then(|i| i.self_score.as_ref())
                .map(|s| s.answer)
        };
        assert_eq!(score("TC1"), Some(Answer::Points(Points::whole(12))));
        assert_eq!(score("TC2"), None, "to be scored again");
        assert_eq!(score("TC4"), Some(Answer::Points(Points::whole(9))));
        assert!(view.items.contains_key("3.1"));
        // The new items take scores like any other; the old revision is refused next time.
        set_score(
            &mut doc,
            Side::SelfAssessment,
            &id("3.2"),
            Answer::Met(true),
            &user("lan"),
            30,
        )
        .unwrap();
        let again = move_to_revision(&mut doc, &newer, &user("binh.syt"), 40, &qd1300());
        assert!(again.is_err());
    }

    #[test]
    fn a_new_assessment_has_every_item_and_no_scores() {
        let doc = open();
        let view = read_assessment(&doc).unwrap();
        assert_eq!(view.items.len(), 10);
        assert_eq!(view.round, 2025);
        assert_eq!(view.zone.get(), 2);
        assert!(view.items.values().all(|i| i.self_score.is_none()));
        assert_eq!(view.workflow().status, Status::Draft);
    }

    #[test]
    fn two_offline_scores_stay_visible_until_a_new_value_is_written() {
        let mut a = open();
        let mut b = fork(&mut a, 2);
        set_score(
            &mut a,
            Side::SelfAssessment,
            &id("TC1"),
            Answer::Points(Points::whole(12)),
            &user("lan"),
            10,
        )
        .unwrap();
        set_score(
            &mut b,
            Side::SelfAssessment,
            &id("TC1"),
            Answer::Points(Points::from_halves(27)),
            &user("minh"),
            11,
        )
        .unwrap();
        a.merge(&mut b).unwrap();

        let values = score_values(&a, Side::SelfAssessment, &id("TC1")).unwrap();
        let shown: Vec<(String, String, bool)> = values
            .iter()
            .map(|v| (v.actor[..4].to_string(), v.value.by.clone(), v.winning))
            .collect();
        assert_eq!(
            shown,
            [
                ("0101".to_string(), "lan".to_string(), false),
                ("0202".to_string(), "minh".to_string(), true)
            ]
        );
        let view = read_assessment(&a).unwrap();
        assert_eq!(view.items["TC1"].conflicts, [Side::SelfAssessment]);

        set_score(
            &mut a,
            Side::SelfAssessment,
            &id("TC1"),
            Answer::Points(Points::whole(13)),
            &user("lan"),
            20,
        )
        .unwrap();
        let values = score_values(&a, Side::SelfAssessment, &id("TC1")).unwrap();
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].value.answer, Answer::Points(Points::whole(13)));
        assert!(
            read_assessment(&a).unwrap().items["TC1"]
                .conflicts
                .is_empty()
        );
    }

    #[test]
    fn notes_typed_concurrently_keep_both_edits() {
        let mut a = open();
        set_note(&mut a, &id("TC2"), "Có 5 cán bộ.", 1).unwrap();
        let mut b = fork(&mut a, 2);
        set_note(&mut a, &id("TC2"), "Có 5 cán bộ. Có bác sĩ.", 2).unwrap();
        set_note(&mut b, &id("TC2"), "Trạm có 5 cán bộ.", 3).unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(
            read_assessment(&a).unwrap().items["TC2"].note,
            "Trạm có 5 cán bộ. Có bác sĩ."
        );
    }

    #[test]
    fn evidence_is_keyed_by_id() {
        let mut a = open();
        let mut b = fork(&mut a, 2);
        let photo = Evidence {
            label: "Ảnh trạm".to_string(),
            reference: "sha256:ab".to_string(),
            added_by: "lan".to_string(),
            added_at: 5,
            file: None,
        };
        put_evidence(
            &mut a,
            &id("TC3"),
            &EvidenceId::parse("e1").unwrap(),
            &photo,
            5,
        )
        .unwrap();
        put_evidence(
            &mut b,
            &id("TC3"),
            &EvidenceId::parse("e2").unwrap(),
            &photo,
            6,
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let view = read_assessment(&a).unwrap();
        let ids: Vec<&String> = view.items["TC3"].evidence.keys().collect();
        assert_eq!(ids, ["e1", "e2"]);
        assert_eq!(view.items["TC3"].evidence["e1"], photo);
        remove_evidence(&mut a, &id("TC3"), &EvidenceId::parse("e1").unwrap(), 7).unwrap();
        assert_eq!(read_assessment(&a).unwrap().items["TC3"].evidence.len(), 1);
    }

    #[test]
    fn an_attached_file_is_written_flat_and_read_back() {
        let mut a = open();
        let scan = Evidence {
            label: "Quyết định kiện toàn Ban chỉ đạo".to_string(),
            reference: String::new(),
            added_by: "lan".to_string(),
            added_at: 5,
            file: Some(AttachedFile {
                sha256: "ab".repeat(32),
                media_type: MediaType::Jpeg,
                size: 381_204,
                name: "IMG_0042.jpg".to_string(),
                thumbnail: Some("cd".repeat(32)),
            }),
        };
        let pdf = Evidence {
            file: Some(AttachedFile {
                sha256: "ef".repeat(32),
                media_type: MediaType::Pdf,
                size: 9,
                name: "bien-ban.pdf".to_string(),
                thumbnail: None,
            }),
            ..scan.clone()
        };
        let e = |s: &str| EvidenceId::parse(s).unwrap();
        put_evidence(&mut a, &id("TC3"), &e("e1"), &scan, 5).unwrap();
        put_evidence(&mut a, &id("TC3"), &e("e2"), &pdf, 5).unwrap();
        // Stored flat in the entry's map, as the contract says.
        let json = document::to_json(&a);
        let stored = &json["items"]["TC3"]["evidence"]["e1"];
        assert_eq!(stored["file"], "ab".repeat(32));
        assert_eq!(stored["media_type"], "image/jpeg");
        assert_eq!(stored["size"], 381_204);
        assert_eq!(stored["file_name"], "IMG_0042.jpg");
        assert_eq!(stored["thumbnail"], "cd".repeat(32));
        assert!(
            json["items"]["TC3"]["evidence"]["e2"]
                .get("thumbnail")
                .is_none()
        );
        let view = read_assessment(&a).unwrap();
        assert_eq!(view.items["TC3"].evidence["e1"], scan);
        assert_eq!(view.items["TC3"].evidence["e2"], pdf);
        // After a save and a load too.
        let loaded = AutoCommit::load(&a.save()).unwrap();
        assert_eq!(
            read_assessment(&loaded).unwrap().items["TC3"].evidence["e1"],
            scan
        );
    }

    #[test]
    fn unknown_items_are_refused() {
        let mut doc = open();
        let err = set_score(
            &mut doc,
            Side::Review,
            &id("9.9"),
            Answer::Met(true),
            &user("x"),
            1,
        );
        assert!(matches!(err, Err(DocumentError::UnknownItem(i)) if i == "9.9"));
    }

    #[test]
    fn an_approval_records_heads_and_later_edits_show_as_changed() {
        let mut doc = open();
        let reviewer = user("thamdinh");
        set_score(
            &mut doc,
            Side::Review,
            &id("TC1"),
            Answer::Points(Points::whole(12)),
            &reviewer,
            1,
        )
        .unwrap();
        append_event(&mut doc, &EventKind::Submit, &user("tram"), 2, "").unwrap();
        append_event(&mut doc, &EventKind::Appraise, &reviewer, 3, "").unwrap();
        let heads = document::heads(&mut doc);
        append_event(
            &mut doc,
            &EventKind::Approve {
                heads: heads.clone(),
            },
            &reviewer,
            4,
            "Đạt",
        )
        .unwrap();
        assert_eq!(
            changed_since(&mut doc, &heads).unwrap(),
            Vec::<String>::new()
        );

        set_note(&mut doc, &id("TC4"), "bổ sung", 5).unwrap();
        set_zone(&mut doc, Zone::new(3).unwrap(), 6).unwrap();
        assert_eq!(changed_since(&mut doc, &heads).unwrap(), ["TC4", "zone"]);

        let view = read_assessment(&doc).unwrap();
        let state = view.workflow();
        assert_eq!(state.status, Status::Approved);
        assert_eq!(state.approval.unwrap().heads, heads);
    }

    #[test]
    fn an_approval_of_unknown_heads_is_refused() {
        let mut doc = open();
        let heads = vec!["00".repeat(32)];
        let err = append_event(&mut doc, &EventKind::Approve { heads }, &user("r"), 1, "");
        assert!(matches!(err, Err(DocumentError::UnknownHead(_))));
    }

    #[test]
    fn concurrent_submit_and_return_reach_one_status_everywhere() {
        let mut station = open();
        append_event(&mut station, &EventKind::Submit, &user("tram"), 1, "").unwrap();
        let mut reviewer = fork(&mut station, 2);
        append_event(
            &mut reviewer,
            &EventKind::Return,
            &user("r"),
            2,
            "Thiếu minh chứng",
        )
        .unwrap();
        append_event(
            &mut station,
            &EventKind::Submit,
            &user("tram"),
            3,
            "nộp lại",
        )
        .unwrap();
        let mut merged_a = station.fork();
        merged_a.merge(&mut reviewer).unwrap();
        let mut merged_b = reviewer.fork();
        merged_b.merge(&mut station).unwrap();
        let a = read_assessment(&merged_a).unwrap().workflow();
        let b = read_assessment(&merged_b).unwrap().workflow();
        // Whichever order automerge gives the concurrent re-submit and return, it is the same
        // on both replicas, and so is the status.
        assert_eq!(a, b);
        assert_eq!(
            read_events(&merged_a).unwrap(),
            read_events(&merged_b).unwrap()
        );
    }

    #[test]
    fn reads_a_hand_built_v1_document() {
        // Built with raw automerge calls, as a v1 writer (or a JavaScript client) would: whole
        // points written as integers, a note as a plain string, no evidence map, an unknown
        // field, and an event kind from the future.
        let mut doc = AutoCommit::new();
        let root = automerge::ROOT;
        doc.put(&root, "kind", "assessment").unwrap();
        doc.put(&root, "schema", 1_i64).unwrap();
        doc.put(&root, "commune", "00004").unwrap();
        doc.put(&root, "catalog", "QD1300-2023").unwrap();
        doc.put(&root, "round", 2024_i64).unwrap();
        doc.put(&root, "zone", 1_i64).unwrap();
        doc.put(&root, "unit_type", "phuong").unwrap();
        doc.put(&root, "colour", "blue").unwrap();
        let items = doc.put_object(&root, "items", ObjType::Map).unwrap();
        let tc1 = doc.put_object(&items, "TC1", ObjType::Map).unwrap();
        let score = doc.put_object(&tc1, "self_score", ObjType::Map).unwrap();
        doc.put(&score, "points", 12_i64).unwrap();
        doc.put(&score, "by", "lan").unwrap();
        doc.put(&score, "at", 1_i64).unwrap();
        doc.put(&tc1, "note", "ghi chú").unwrap();
        let events = doc.put_object(&root, "events", ObjType::List).unwrap();
        let e = doc.insert_object(&events, 0, ObjType::Map).unwrap();
        doc.put(&e, "kind", "submit").unwrap();
        let e = doc.insert_object(&events, 1, ObjType::Map).unwrap();
        doc.put(&e, "kind", "escalate").unwrap();
        doc.commit();

        let view = read_assessment(&doc).unwrap();
        assert_eq!(view.catalog_revision, 1);
        assert_eq!(view.unit_type, UnitType::Phuong);
        let tc1 = &view.items["TC1"];
        assert_eq!(
            tc1.self_score.as_ref().unwrap().answer,
            Answer::Points(Points::whole(12))
        );
        assert_eq!(tc1.note, "ghi chú");
        assert!(tc1.evidence.is_empty());
        let state = view.workflow();
        assert_eq!(state.status, Status::Submitted);
        assert_eq!(state.ignored[0].kind, "escalate");
    }

    #[test]
    fn newer_schemas_and_other_kinds_are_refused() {
        let mut doc = open();
        doc.put(automerge::ROOT, "schema", SCHEMA + 1).unwrap();
        assert!(matches!(
            read_assessment(&doc),
            Err(DocumentError::NewerSchema { .. })
        ));
        doc.put(automerge::ROOT, "kind", "roster").unwrap();
        assert!(matches!(
            read_assessment(&doc),
            Err(DocumentError::WrongKind { .. })
        ));
    }
}
