//! What every tramyte automerge document shares: `kind` and `schema` at the root, the error type,
//! commits stamped with the caller's time, and small typed readers.
//!
//! Schema rule: a document's `schema` is the version of the writer that created it. Readers
//! accept every version up to their own ([`DocumentError::NewerSchema`] otherwise, so an old app
//! asks to be updated instead of misreading). Versions only add fields; a reader fills a missing
//! field with its default, and ignores fields it does not know.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value};

/// Why a document could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("this is a `{found}` document, not `{expected}`")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    #[error("schema {found} is newer than this app reads ({supported}); update the app")]
    NewerSchema { found: u64, supported: u64 },
    #[error("`{path}` is missing")]
    Missing { path: String },
    #[error("`{path}` is not {expected}")]
    BadValue {
        path: String,
        expected: &'static str,
    },
    #[error("item `{0}` is not in this assessment")]
    UnknownItem(String),
    #[error("person `{0}` is not in this roster")]
    UnknownPerson(String),
    #[error("`{0}` is not a change hash of this document")]
    UnknownHead(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Automerge(#[from] automerge::AutomergeError),
    #[error(transparent)]
    Hydrate(#[from] autosurgeon::HydrateError),
    #[error(transparent)]
    Reconcile(#[from] autosurgeon::ReconcileError),
}

/// Root key naming the document's kind (`assessment`, `roster`).
pub const KIND_KEY: &str = "kind";
/// Root key holding the schema version.
pub const SCHEMA_KEY: &str = "schema";

/// Reads and checks `kind` and `schema`; returns the schema version.
pub fn check_header(
    doc: &AutoCommit,
    kind: &'static str,
    supported: u64,
) -> Result<u64, DocumentError> {
    let found = get_str(doc, &automerge::ROOT, KIND_KEY)?.ok_or(DocumentError::Missing {
        path: KIND_KEY.to_string(),
    })?;
    if found != kind {
        return Err(DocumentError::WrongKind {
            expected: kind,
            found,
        });
    }
    let schema = get_i64(doc, &automerge::ROOT, SCHEMA_KEY)?.ok_or(DocumentError::Missing {
        path: SCHEMA_KEY.to_string(),
    })?;
    let schema = u64::try_from(schema).map_err(|_| DocumentError::BadValue {
        path: SCHEMA_KEY.to_string(),
        expected: "a positive version",
    })?;
    if schema > supported {
        return Err(DocumentError::NewerSchema {
            found: schema,
            supported,
        });
    }
    Ok(schema)
}

/// Writes `kind` and `schema` into a new document.
pub(crate) fn put_header(
    doc: &mut AutoCommit,
    kind: &'static str,
    schema: u64,
) -> Result<(), DocumentError> {
    doc.put(automerge::ROOT, KIND_KEY, kind)?;
    doc.put(automerge::ROOT, SCHEMA_KEY, schema)?;
    Ok(())
}

/// Commits pending operations with the caller's time (unix milliseconds; automerge keeps
/// seconds) and a short message, so the history reads well in an audit export.
pub(crate) fn commit(doc: &mut AutoCommit, at: i64, message: &str) {
    doc.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(at.div_euclid(1000)),
    );
}

/// Merges the changes of several replicas at once: every change `doc` lacks is collected
/// (once, even when several replicas hold it) and applied in one batch. Much faster than one
/// `merge` per replica, because automerge's fixed cost per applied batch is paid once.
pub fn merge_all(doc: &mut AutoCommit, others: &mut [AutoCommit]) -> Result<(), DocumentError> {
    let mut seen = std::collections::HashSet::new();
    let mut changes = Vec::new();
    for other in others.iter_mut() {
        for change in doc.get_changes_added(other) {
            if seen.insert(change.hash()) {
                changes.push(change);
            }
        }
    }
    doc.apply_changes_batch(changes)?;
    Ok(())
}

/// Drops what automerge recorded for patches nobody asked for. automerge 0.12 records a patch
/// event for every character of text that a *remote* change inserts (sync, incremental load,
/// merge) even while the document's patch log is inactive, and keeps them until the document is
/// dropped: a server holding documents open for hours would grow with every note typed. Call it
/// after applying remote changes; it costs nothing when there is nothing recorded.
pub fn forget_patches(doc: &mut AutoCommit) {
    doc.reset_diff_cursor();
}

/// The document's current heads as hex strings (what an approval records).
pub fn heads(doc: &mut AutoCommit) -> Vec<String> {
    let mut heads: Vec<String> = doc.get_heads().iter().map(ChangeHash::to_string).collect();
    heads.sort();
    heads
}

/// Parses hex heads and checks that the document has each of them.
pub fn parse_heads(
    doc: &mut AutoCommit,
    heads: &[String],
) -> Result<Vec<ChangeHash>, DocumentError> {
    heads
        .iter()
        .map(|hex| {
            let hash: ChangeHash = hex
                .parse()
                .map_err(|_| DocumentError::UnknownHead(hex.clone()))?;
            match doc.get_change_by_hash(&hash) {
                Some(_) => Ok(hash),
                None => Err(DocumentError::UnknownHead(hex.clone())),
            }
        })
        .collect()
}

/// The map object at `key`, if there is one.
pub(crate) fn get_map(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
) -> Result<Option<ObjId>, DocumentError> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Object(ObjType::Map | ObjType::Table), id)) => Some(id),
        _ => None,
    })
}

/// The map object at `key`, which must exist.
pub(crate) fn require_map(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
    path: &str,
) -> Result<ObjId, DocumentError> {
    get_map(doc, obj, key)?.ok_or_else(|| DocumentError::Missing {
        path: path.to_string(),
    })
}

/// The scalar at `key`, if there is one.
pub(crate) fn get_scalar(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
) -> Result<Option<ScalarValue>, DocumentError> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Scalar(s), _)) => Some(s.into_owned()),
        _ => None,
    })
}

/// A string at `key`.
pub(crate) fn get_str(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
) -> Result<Option<String>, DocumentError> {
    Ok(match get_scalar(doc, obj, key)? {
        Some(ScalarValue::Str(s)) => Some(s.to_string()),
        _ => None,
    })
}

/// An integer (or timestamp) at `key`.
pub(crate) fn get_i64(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
) -> Result<Option<i64>, DocumentError> {
    Ok(scalar_i64(get_scalar(doc, obj, key)?.as_ref()))
}

/// An integer from any integer-like scalar (JavaScript clients write whole numbers as `int`).
pub(crate) fn scalar_i64(value: Option<&ScalarValue>) -> Option<i64> {
    match value? {
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(*i),
        ScalarValue::Uint(u) => i64::try_from(*u).ok(),
        ScalarValue::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        _ => None,
    }
}

/// The text of the Text object (or plain string) at `key`; empty when absent.
pub(crate) fn get_text(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<String, DocumentError> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Object(ObjType::Text), id)) => doc.text(&id)?,
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    })
}

/// One version of a document to read: the current one, or the one at some heads (what the
/// author of a change saw). Readers written against it work for both.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a, D: ReadDoc> {
    doc: &'a D,
    heads: Option<&'a [ChangeHash]>,
}

impl<'a, D: ReadDoc> Version<'a, D> {
    /// The document as it is.
    pub fn current(doc: &'a D) -> Self {
        Version { doc, heads: None }
    }

    /// The document as it was at `heads`.
    pub fn at(doc: &'a D, heads: &'a [ChangeHash]) -> Self {
        Version {
            doc,
            heads: Some(heads),
        }
    }

    /// The value at `prop` of `obj`.
    pub fn get(
        &self,
        obj: &ObjId,
        prop: impl Into<automerge::Prop>,
    ) -> Result<Option<(Value<'a>, ObjId)>, DocumentError> {
        Ok(match self.heads {
            None => self.doc.get(obj, prop)?,
            Some(heads) => self.doc.get_at(obj, prop, heads)?,
        })
    }

    /// The length of a list or text.
    pub fn length(&self, obj: &ObjId) -> usize {
        match self.heads {
            None => self.doc.length(obj),
            Some(heads) => self.doc.length_at(obj, heads),
        }
    }

    /// The type of an object, if it is one.
    pub fn object_type(&self, obj: &ObjId) -> Option<ObjType> {
        self.doc.object_type(obj).ok()
    }

    /// The scalar at `key`.
    pub fn scalar(&self, obj: &ObjId, key: &str) -> Result<Option<ScalarValue>, DocumentError> {
        Ok(match self.get(obj, key)? {
            Some((Value::Scalar(s), _)) => Some(s.into_owned()),
            _ => None,
        })
    }

    /// The string at `key`.
    pub fn str(&self, obj: &ObjId, key: &str) -> Result<Option<String>, DocumentError> {
        Ok(match self.scalar(obj, key)? {
            Some(ScalarValue::Str(s)) => Some(s.to_string()),
            _ => None,
        })
    }

    /// The strings of the list at `key` (other values skipped).
    pub fn string_list(&self, obj: &ObjId, key: &str) -> Result<Vec<String>, DocumentError> {
        let Some((Value::Object(ObjType::List), list)) = self.get(obj, key)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for index in 0..self.length(&list) {
            if let Some((Value::Scalar(s), _)) = self.get(&list, index)?
                && let ScalarValue::Str(s) = s.as_ref()
            {
                out.push(s.to_string());
            }
        }
        Ok(out)
    }
}

/// The path (keys from the root; list and text elements as `#`) and type of the object whose
/// id is `id` (`counter@actor`), if the document has it — visible or not (an object that lost a
/// conflict or was deleted still has the path it was created at).
///
/// automerge 0.12 panics (an assertion in `seek_list_opid`) walking up from an object inside a
/// list element that was deleted in some histories; such an object has no path here (`None`),
/// so a change touching it is refused instead of costing its document
/// (`docs/automerge-defects.md`). The walk only reads, so the document is unharmed.
pub fn object_path(doc: &automerge::Automerge, id: &str) -> Option<(Vec<String>, ObjType)> {
    let (obj, typ) = doc.import(id).ok()?;
    let walk = std::panic::AssertUnwindSafe(|| {
        doc.parents(&obj).ok().map(|parents| {
            parents
                .path()
                .into_iter()
                .map(|(_, prop)| match prop {
                    automerge::Prop::Map(key) => key,
                    automerge::Prop::Seq(_) => "#".to_owned(),
                })
                .collect::<Vec<String>>()
        })
    });
    let path = std::panic::catch_unwind(walk).ok().flatten()?;
    Some((path, typ))
}

/// Timestamps (unix milliseconds) stored as automerge `timestamp` scalars, for autosurgeon
/// fields: `#[autosurgeon(with = "crate::document::timestamp")]`.
/// A whole number, not negative, however it was stored (an unsigned or signed integer, or a
/// whole float from a JavaScript writer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Count(pub(crate) u64);

impl autosurgeon::Hydrate for Count {
    fn hydrate_uint(u: u64) -> Result<Self, autosurgeon::HydrateError> {
        Ok(Count(u))
    }
    fn hydrate_int(i: i64) -> Result<Self, autosurgeon::HydrateError> {
        u64::try_from(i)
            .map(Count)
            .map_err(|_| autosurgeon::HydrateError::unexpected("a count", i.to_string()))
    }
    fn hydrate_f64(f: f64) -> Result<Self, autosurgeon::HydrateError> {
        if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 {
            Ok(Count(f as u64))
        } else {
            Err(autosurgeon::HydrateError::unexpected(
                "a count",
                f.to_string(),
            ))
        }
    }
}

pub(crate) mod timestamp {
    use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc};

    struct Millis(i64);

    impl Hydrate for Millis {
        fn hydrate_timestamp(t: i64) -> Result<Self, HydrateError> {
            Ok(Millis(t))
        }
        fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
            Ok(Millis(i))
        }
        fn hydrate_uint(u: u64) -> Result<Self, HydrateError> {
            i64::try_from(u)
                .map(Millis)
                .map_err(|_| HydrateError::unexpected("a timestamp", "a huge integer".to_string()))
        }
        fn hydrate_none() -> Result<Self, HydrateError> {
            Ok(Millis(0))
        }
    }

    pub(crate) fn hydrate<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<i64, HydrateError> {
        Millis::hydrate(doc, obj, prop).map(|m| m.0)
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;

    #[test]
    fn merge_all_gives_the_same_document_as_one_merge_per_replica() {
        let mut origin = AutoCommit::new();
        put_header(&mut origin, "test", 1).unwrap();
        commit(&mut origin, 0, "open");
        let mut replicas: Vec<AutoCommit> = (1..=3u8)
            .map(|r| {
                let mut doc = origin.fork().with_actor(ActorId::from(&[r; 16][..]));
                doc.put(automerge::ROOT, "x", i64::from(r)).unwrap();
                doc.put(automerge::ROOT, format!("k{r}"), "v").unwrap();
                commit(&mut doc, 1, "edit");
                doc
            })
            .collect();
        // Replica 2 already holds replica 1's change: it must be applied once.
        let (first, rest) = replicas.split_at_mut(1);
        rest[0].merge(&mut first[0]).unwrap();

        let mut batched = origin.fork();
        merge_all(&mut batched, &mut replicas).unwrap();
        let mut pairwise = origin.fork();
        for replica in &mut replicas {
            pairwise.merge(replica).unwrap();
        }
        assert_eq!(heads(&mut batched), heads(&mut pairwise));
        assert_eq!(batched.get_all(automerge::ROOT, "x").unwrap().len(), 3);
        assert_eq!(heads(&mut batched).len(), 3);
    }

    #[test]
    fn headers_are_checked() {
        let mut doc = AutoCommit::new();
        assert!(matches!(
            check_header(&doc, "roster", 1),
            Err(DocumentError::Missing { .. })
        ));
        put_header(&mut doc, "roster", 2).unwrap();
        assert!(matches!(
            check_header(&doc, "roster", 1),
            Err(DocumentError::NewerSchema {
                found: 2,
                supported: 1
            })
        ));
        assert_eq!(check_header(&doc, "roster", 3).unwrap(), 2);
    }
}

/// The document as plain JSON (maps, lists, text as strings; of concurrent values, the one
/// automerge shows as winning). For exports, debugging and tests.
pub fn to_json(doc: &impl ReadDoc) -> serde_json::Value {
    object_to_json(doc, &automerge::ROOT, ObjType::Map)
}

fn object_to_json(doc: &impl ReadDoc, obj: &ObjId, kind: ObjType) -> serde_json::Value {
    match kind {
        ObjType::Map | ObjType::Table => {
            let mut map = serde_json::Map::new();
            for key in doc.keys(obj) {
                if let Ok(Some((value, id))) = doc.get(obj, key.as_str()) {
                    map.insert(key, value_to_json(doc, value, &id));
                }
            }
            serde_json::Value::Object(map)
        }
        ObjType::List => serde_json::Value::Array(
            (0..doc.length(obj))
                .filter_map(|index| doc.get(obj, index).ok().flatten())
                .map(|(value, id)| value_to_json(doc, value, &id))
                .collect(),
        ),
        ObjType::Text => serde_json::Value::String(doc.text(obj).unwrap_or_default()),
    }
}

fn value_to_json(doc: &impl ReadDoc, value: Value<'_>, id: &ObjId) -> serde_json::Value {
    match value {
        Value::Object(kind) => object_to_json(doc, id, kind),
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(text) => serde_json::Value::String(text.to_string()),
            ScalarValue::Int(n) => serde_json::Value::from(*n),
            ScalarValue::Uint(n) => serde_json::Value::from(*n),
            ScalarValue::F64(f) => serde_json::Value::from(*f),
            ScalarValue::Counter(c) => serde_json::Value::from(i64::from(c)),
            ScalarValue::Timestamp(t) => serde_json::Value::from(*t),
            ScalarValue::Boolean(b) => serde_json::Value::Bool(*b),
            ScalarValue::Null => serde_json::Value::Null,
            ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } => serde_json::Value::Null,
        },
    }
}

/// Writes a JSON object's fields into a map of the document (strings as scalar strings).
pub fn put_json(
    doc: &mut AutoCommit,
    obj: &ObjId,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), DocumentError> {
    for (key, value) in object {
        put_json_value(doc, obj, automerge::Prop::Map(key.clone()), value)?;
    }
    Ok(())
}

fn put_json_value(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: automerge::Prop,
    value: &serde_json::Value,
) -> Result<(), DocumentError> {
    use serde_json::Value as J;
    match value {
        J::Object(map) => {
            let child = put_object_at(doc, obj, prop, ObjType::Map)?;
            put_json(doc, &child, map)
        }
        J::Array(items) => {
            let child = put_object_at(doc, obj, prop, ObjType::List)?;
            for (index, item) in items.iter().enumerate() {
                put_json_value(doc, &child, automerge::Prop::Seq(index), item)?;
            }
            Ok(())
        }
        J::Null => put_scalar_at(doc, obj, prop, ScalarValue::Null),
        J::Bool(b) => put_scalar_at(doc, obj, prop, ScalarValue::Boolean(*b)),
        J::String(text) => put_scalar_at(doc, obj, prop, ScalarValue::Str(text.as_str().into())),
        J::Number(n) => {
            let scalar = n
                .as_i64()
                .map(ScalarValue::Int)
                .or_else(|| n.as_u64().map(ScalarValue::Uint))
                .unwrap_or_else(|| ScalarValue::F64(n.as_f64().unwrap_or_default()));
            put_scalar_at(doc, obj, prop, scalar)
        }
    }
}

/// Puts (in a map) or inserts (in a list) a new object.
fn put_object_at(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: automerge::Prop,
    kind: ObjType,
) -> Result<ObjId, DocumentError> {
    Ok(match prop {
        automerge::Prop::Map(key) => doc.put_object(obj, key, kind)?,
        automerge::Prop::Seq(index) => doc.insert_object(obj, index, kind)?,
    })
}

/// Puts (in a map) or inserts (in a list) a scalar.
fn put_scalar_at(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: automerge::Prop,
    value: ScalarValue,
) -> Result<(), DocumentError> {
    match prop {
        automerge::Prop::Map(key) => doc.put(obj, key, value)?,
        automerge::Prop::Seq(index) => doc.insert(obj, index, value)?,
    }
    Ok(())
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn json_goes_in_and_comes_back_out_the_same() {
        let value = serde_json::json!({
            "title": "Trạm Y tế xã Thiệu Vận",
            "zone": 2,
            "ratio": 0.5,
            "ok": true,
            "none": null,
            "villages": [{"name": "Thôn 1"}, {"name": "Thôn 2"}],
            "nested": {"deep": [1, 2, 3]}
        });
        let mut doc = AutoCommit::new();
        put_json(&mut doc, &automerge::ROOT, value.as_object().unwrap()).unwrap();
        assert_eq!(to_json(&doc), value);
    }
}
