//! Provenance for people: who changed which field of a document, when, from what to what.
//! `GET /api/documents/{id}/audit.csv` exports every change; `GET /api/documents/{id}/history`
//! answers "who set this value, when" for a field (`?path=items.TC2.self_score`).
//!
//! Rows come from the document's own history (each change diffed against its dependencies)
//! joined with what the server recorded when it stored each change (user, device, time).

use std::collections::{HashMap, HashSet};

use automerge::{Automerge, ObjId, PatchAction, Prop, ReadDoc, ScalarValue, Value};

/// One field changed by one change (a REST type).
pub use tramyte_shared::rest::AuditRow;

/// Every field every change touched, in causal order.
pub fn audit_rows(
    doc: &Automerge,
    provenance: &HashMap<String, (String, String, i64)>,
) -> Vec<AuditRow> {
    let mut rows = Vec::new();
    for change in doc.get_changes(&[]) {
        let before: Vec<_> = change.deps().to_vec();
        let after = vec![change.hash()];
        let hash = change.hash().to_string();
        let (user, device, received_at) = provenance.get(&hash).cloned().unwrap_or_else(|| {
            (
                format!("actor {}", change.actor_id().to_hex_string()),
                String::new(),
                0,
            )
        });
        let mut texts_done: HashSet<ObjId> = HashSet::new();
        for patch in doc.diff(&before, &after) {
            let base: Vec<String> = patch.path.iter().map(|(_, prop)| prop_text(prop)).collect();
            let field = |key: Option<String>| {
                let mut parts = base.clone();
                parts.extend(key);
                parts.join(".")
            };
            let (field, old, new) = match &patch.action {
                PatchAction::PutMap { key, value, .. } => {
                    let old = value_at(doc, &patch.obj, Prop::Map(key.clone()), &before);
                    (
                        field(Some(key.clone())),
                        old,
                        value_text(doc, &value.0, &value.1, &after),
                    )
                }
                PatchAction::PutSeq { index, value, .. } => {
                    let old = value_at(doc, &patch.obj, Prop::Seq(*index), &before);
                    (
                        field(Some(index.to_string())),
                        old,
                        value_text(doc, &value.0, &value.1, &after),
                    )
                }
                PatchAction::Insert { index, values, .. } => {
                    let new: Vec<String> = values
                        .iter()
                        .map(|(v, id, _)| value_text(doc, v, id, &after))
                        .collect();
                    (
                        field(Some(index.to_string())),
                        String::new(),
                        new.join(", "),
                    )
                }
                PatchAction::SpliceText { .. } => {
                    if !texts_done.insert(patch.obj.clone()) {
                        continue;
                    }
                    let old = doc.text_at(&patch.obj, &before).unwrap_or_default();
                    let new = doc.text_at(&patch.obj, &after).unwrap_or_default();
                    (field(None), old, new)
                }
                PatchAction::DeleteMap { key } => {
                    let old = value_at(doc, &patch.obj, Prop::Map(key.clone()), &before);
                    (field(Some(key.clone())), old, String::new())
                }
                PatchAction::DeleteSeq { index, length } => (
                    field(Some(index.to_string())),
                    format!("({length} removed)"),
                    String::new(),
                ),
                PatchAction::Increment { prop, value } => (
                    field(Some(prop_text(prop))),
                    String::new(),
                    format!("+{value}"),
                ),
                PatchAction::Conflict { .. } | PatchAction::Mark { .. } => continue,
            };
            rows.push(AuditRow {
                received_at,
                change_time: change.timestamp(),
                user: user.clone(),
                device: device.clone(),
                field,
                old,
                new,
                change: hash.clone(),
            });
        }
    }
    rows
}

fn value_at(doc: &Automerge, obj: &ObjId, prop: Prop, heads: &[automerge::ChangeHash]) -> String {
    match doc.get_at(obj, prop, heads) {
        Ok(Some((value, id))) => value_text(doc, &value, &id, heads),
        _ => String::new(),
    }
}

fn value_text(
    doc: &Automerge,
    value: &Value<'_>,
    id: &ObjId,
    heads: &[automerge::ChangeHash],
) -> String {
    match value {
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(text) => text.to_string(),
            ScalarValue::Null => "null".to_owned(),
            ScalarValue::Timestamp(ms) => iso8601(*ms),
            other => other.to_string(),
        },
        Value::Object(automerge::ObjType::Text) => doc.text_at(id, heads).unwrap_or_default(),
        Value::Object(kind) => format!("({kind})"),
    }
}

fn prop_text(prop: &Prop) -> String {
    match prop {
        Prop::Map(key) => key.clone(),
        Prop::Seq(index) => index.to_string(),
    }
}

/// `2024-05-17T03:04:05Z` from unix milliseconds (UTC).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::AutoCommit;
    use automerge::transaction::Transactable;

    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_716_000_000_000), "2024-05-18T02:40:00Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn each_change_lists_the_fields_it_touched_with_old_and_new_values() {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "zone", 1).unwrap();
        let note = doc
            .put_object(automerge::ROOT, "note", automerge::ObjType::Text)
            .unwrap();
        doc.commit();
        doc.put(automerge::ROOT, "zone", 2).unwrap();
        doc.splice_text(&note, 0, 0, "Đã kiểm tra").unwrap();
        doc.commit();
        let rows = audit_rows(doc.document(), &HashMap::new());
        let summary: Vec<(String, String, String)> = rows
            .iter()
            .map(|r| (r.field.clone(), r.old.clone(), r.new.clone()))
            .collect();
        assert!(
            summary.contains(&("zone".into(), "1".into(), "2".into())),
            "{summary:?}"
        );
        assert!(
            summary.contains(&("note".into(), String::new(), "Đã kiểm tra".into())),
            "{summary:?}"
        );
        assert!(
            summary.contains(&("zone".into(), String::new(), "1".into())),
            "{summary:?}"
        );
    }
}
