//! The shape of each document (lược đồ hồ sơ) as the server enforces it: for every path an
//! operation can touch, what it may hold and whether it may be deleted.
//!
//! Paths are the keys from the root down; an element of a list or text is written `#` (its
//! position does not matter to its shape). Anything not described here is refused, so no change
//! can put a value where the readers expect another, or add what no reader knows: every
//! document the server stores reads and summarizes.
//!
//! Signed entries (a score, an evidence entry, a workflow event) are filled in only by the
//! change that creates them: once written, they are replaced whole or deleted, never edited
//! field by field (which could keep another person's signature on values they never set).

use automerge::{ObjType, ScalarValue};

use crate::points::Points;

/// What an operation does, as the schema sees it.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// Creates an object of this type.
    Make(ObjType),
    /// Puts (or, in a list or text, inserts) a scalar.
    Put(&'a ScalarValue),
    /// Deletes a key or an element.
    Delete,
    /// Increments a counter, or marks a text span: no document of ours has either.
    Other,
}

/// Where an operation writes.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The path of the value written: its container's path and the key (or `#`).
    pub path: &'a [String],
    /// Whether it inserts a new element into a list or text.
    pub insert: bool,
    /// Whether its container was created by the same change.
    pub in_new_object: bool,
}

/// Checks one operation of a document of `kind` against the schema; the error says what the
/// path may hold.
pub fn check(kind: &str, target: Target<'_>, write: Write<'_>) -> Result<(), String> {
    let path: Vec<&str> = target.path.iter().map(String::as_str).collect();
    let shape = match kind {
        crate::assessment::KIND => assessment(&path),
        crate::roster::KIND => roster(&path),
        _ => return Ok(()),
    };
    shape.allows(target, write)
}

/// What a path may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Written when the document is created; nobody changes it.
    Fixed,
    /// Not part of the document.
    Unknown,
    /// A map that is replaced whole or deleted.
    ReplaceableMap,
    /// A map that is replaced whole, never deleted (people and villages are marked as left).
    KeptMap,
    /// A field of a signed entry: written only by the change that creates the entry.
    Signed(Scalar),
    /// A field of an unsigned entry (a roster person), edited in place.
    Field(Scalar),
    /// A field of an unsigned entry that may also be removed.
    OptionalField(Scalar),
    /// A character of a collaborative text: inserted or deleted.
    TextCharacter,
    /// A new element at the end of the workflow list (where it goes is the policy's check).
    AppendedEvent,
    /// A list created inside a new signed entry, filled by the same change.
    SignedList,
    /// An element of such a list.
    SignedListElement(Scalar),
}

/// The scalar a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Text,
    /// A text or null (an absent option).
    TextOrNull,
    Bool,
    /// A finite number of points: a multiple of 0.5, not negative.
    Points,
    /// A finite number.
    Number,
    /// A whole number, not negative.
    Count,
    /// A time: a timestamp or a whole number of milliseconds.
    Time,
    /// 1, 2 or 3.
    Zone,
    /// A change hash in hex.
    Hash,
    /// A file's id: the SHA-256 of its bytes, 64 lowercase hex characters.
    FileId,
    /// One of the media types accepted as evidence files.
    MediaType,
}

fn assessment(path: &[&str]) -> Shape {
    use Shape::*;
    match path {
        ["zone"] => Field(Scalar::Zone),
        [
            "kind" | "schema" | "commune" | "catalog" | "catalog_revision" | "round" | "unit_type"
            | "items" | "events",
        ] => Fixed,
        ["items", _] => Fixed,
        ["items", _, "self_score" | "review_score"] => ReplaceableMap,
        ["items", _, "note" | "review_comment" | "evidence"] => Fixed,
        ["items", _, "self_score" | "review_score", field] => match *field {
            "points" => Signed(Scalar::Points),
            "measured" => Signed(Scalar::Number),
            "met" => Signed(Scalar::Bool),
            "by" => Signed(Scalar::Text),
            "at" => Signed(Scalar::Time),
            _ => Unknown,
        },
        ["items", _, "note" | "review_comment", "#"] => TextCharacter,
        ["items", _, "evidence", _] => ReplaceableMap,
        ["items", _, "evidence", _, field] => evidence_field(field),
        ["events", "#"] => AppendedEvent,
        ["events", "#", field] => match *field {
            "kind" | "by" | "comment" | "decision_number" | "decision_date" => Signed(Scalar::Text),
            "at" => Signed(Scalar::Time),
            "heads" => SignedList,
            _ => Unknown,
        },
        ["events", "#", "heads", "#"] => SignedListElement(Scalar::Hash),
        _ => Unknown,
    }
}

/// A field of a signed evidence entry (of an item or of a person); the file fields are
/// described in [`crate::files`].
fn evidence_field(field: &str) -> Shape {
    use Shape::*;
    match field {
        "label" | "reference" | "added_by" | "file_name" => Signed(Scalar::Text),
        "added_at" => Signed(Scalar::Time),
        "file" | "thumbnail" => Signed(Scalar::FileId),
        "media_type" => Signed(Scalar::MediaType),
        "size" => Signed(Scalar::Count),
        _ => Unknown,
    }
}

fn roster(path: &[&str]) -> Shape {
    use Shape::*;
    match path {
        ["kind" | "schema" | "commune" | "staff" | "village_workers" | "villages"] => Fixed,
        ["staff" | "village_workers", _] => KeptMap,
        ["staff" | "village_workers", _, field] => match *field {
            "name" | "title" | "qualification" | "role" | "status" => Field(Scalar::Text),
            "village" => OptionalField(Scalar::TextOrNull),
            "training" | "evidence" => KeptMap,
            _ => Unknown,
        },
        ["staff" | "village_workers", _, "evidence", _] => ReplaceableMap,
        ["staff" | "village_workers", _, "evidence", _, field] => evidence_field(field),
        ["staff" | "village_workers", _, "training", _] => ReplaceableMap,
        ["staff" | "village_workers", _, "training", _, field] => match *field {
            "course" | "kind" => Field(Scalar::Text),
            "months" | "year" => Field(Scalar::Count),
            _ => Unknown,
        },
        ["villages", _] => KeptMap,
        ["villages", _, "name"] => Field(Scalar::Text),
        _ => Unknown,
    }
}

impl Shape {
    fn allows(self, target: Target<'_>, write: Write<'_>) -> Result<(), String> {
        use Shape::*;
        let map_only = |deletable: bool| match write {
            Write::Make(ObjType::Map) if !target.insert => Ok(()),
            Write::Delete if deletable => Ok(()),
            Write::Delete => Err("is marked as left, never deleted".to_owned()),
            _ => Err("holds a map, written whole".to_owned()),
        };
        let scalar = |scalar: Scalar, deletable: bool| match write {
            Write::Put(value) if !target.insert => scalar.accepts(value),
            Write::Delete if deletable => Ok(()),
            _ => Err(format!("holds {}", scalar.describe())),
        };
        match self {
            Fixed => Err("is set when the document is created; nobody changes it".to_owned()),
            Unknown => Err("is not part of this document".to_owned()),
            ReplaceableMap => map_only(true),
            KeptMap => map_only(false),
            Signed(_) | SignedListElement(_) | SignedList if !target.in_new_object => {
                Err("is part of a signed entry: replace the entry whole".to_owned())
            }
            Signed(kind) => scalar(kind, false),
            Field(kind) => scalar(kind, false),
            OptionalField(kind) => scalar(kind, true),
            TextCharacter => match write {
                Write::Put(ScalarValue::Str(_)) if target.insert => Ok(()),
                Write::Delete if !target.insert => Ok(()),
                _ => Err("is a text: characters are inserted or deleted".to_owned()),
            },
            AppendedEvent => match write {
                Write::Make(ObjType::Map) if target.insert => Ok(()),
                _ => Err("workflow events are only appended, never edited or deleted".to_owned()),
            },
            SignedList => match write {
                Write::Make(ObjType::List) if !target.insert => Ok(()),
                _ => Err("holds a list".to_owned()),
            },
            SignedListElement(kind) => match write {
                Write::Put(value) if target.insert => kind.accepts(value),
                _ => Err(format!("holds {}", kind.describe())),
            },
        }
    }
}

impl Scalar {
    fn describe(self) -> &'static str {
        match self {
            Scalar::Text => "a text",
            Scalar::TextOrNull => "a text or nothing",
            Scalar::Bool => "true or false",
            Scalar::Points => "points: a multiple of 0.5, not negative",
            Scalar::Number => "a finite number",
            Scalar::Count => "a whole number, not negative",
            Scalar::Time => "a time",
            Scalar::Zone => "a zone: 1, 2 or 3",
            Scalar::Hash => "a change hash",
            Scalar::FileId => "a file id: the SHA-256 of its bytes in lowercase hex",
            Scalar::MediaType => {
                "a media type: image/jpeg, image/png, image/webp or application/pdf"
            }
        }
    }

    fn accepts(self, value: &ScalarValue) -> Result<(), String> {
        let number = match value {
            ScalarValue::Int(i) => Some(*i as f64),
            ScalarValue::Uint(u) => Some(*u as f64),
            ScalarValue::F64(f) => Some(*f),
            _ => None,
        };
        let whole = number.filter(|n| n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15);
        let ok = match self {
            Scalar::Text => matches!(value, ScalarValue::Str(_)),
            Scalar::TextOrNull => matches!(value, ScalarValue::Str(_) | ScalarValue::Null),
            Scalar::Bool => matches!(value, ScalarValue::Boolean(_)),
            Scalar::Points => number.is_some_and(|n| Points::from_f64(n).is_ok()),
            Scalar::Number => number.is_some_and(f64::is_finite),
            Scalar::Count => whole.is_some_and(|n| n >= 0.0),
            Scalar::Time => matches!(value, ScalarValue::Timestamp(_)) || whole.is_some(),
            Scalar::Zone => whole.is_some_and(|n| (1.0..=3.0).contains(&n)),
            Scalar::Hash => matches!(value, ScalarValue::Str(text)
                if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())),
            Scalar::FileId => {
                matches!(value, ScalarValue::Str(text) if crate::files::is_sha256_hex(text))
            }
            Scalar::MediaType => matches!(value, ScalarValue::Str(text)
                if crate::files::MediaType::parse(text).is_some()),
        };
        if ok {
            Ok(())
        } else {
            Err(format!("holds {}", self.describe()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(str::to_owned).collect()
    }

    fn put(kind: &str, at: &str, value: ScalarValue, in_new_object: bool) -> Result<(), String> {
        let path = path(at);
        check(
            kind,
            Target {
                path: &path,
                insert: false,
                in_new_object,
            },
            Write::Put(&value),
        )
    }

    #[test]
    fn a_number_where_a_map_belongs_is_refused() {
        let path = path("items.TC1.evidence.e1");
        let target = Target {
            path: &path,
            insert: false,
            in_new_object: false,
        };
        let err = check("assessment", target, Write::Put(&ScalarValue::Int(42))).unwrap_err();
        assert_eq!(err, "holds a map, written whole");
        check("assessment", target, Write::Make(ObjType::Map)).unwrap();
        check("assessment", target, Write::Delete).unwrap();
        assert!(check("assessment", target, Write::Make(ObjType::List)).is_err());
    }

    #[test]
    fn fields_of_a_signed_entry_are_written_only_with_the_entry() {
        let value = || ScalarValue::F64(7.5);
        put("assessment", "items.TC1.self_score.points", value(), true).unwrap();
        let err = put("assessment", "items.TC1.self_score.points", value(), false).unwrap_err();
        assert!(err.contains("replace the entry whole"), "{err}");
        // Roster people are not signed: their fields are edited in place.
        put(
            "roster",
            "staff.p1.name",
            ScalarValue::Str("Lan".into()),
            false,
        )
        .unwrap();
    }

    #[test]
    fn values_are_checked_against_their_field() {
        let cases = [
            ("items.TC1.self_score.points", ScalarValue::F64(7.25), false),
            ("items.TC1.self_score.points", ScalarValue::F64(-1.0), false),
            ("items.TC1.self_score.points", ScalarValue::Int(7), true),
            (
                "items.TC1.self_score.measured",
                ScalarValue::F64(f64::NAN),
                false,
            ),
            (
                "items.TC1.self_score.met",
                ScalarValue::Str("yes".into()),
                false,
            ),
            ("items.TC1.self_score.met", ScalarValue::Boolean(true), true),
            ("items.TC1.self_score.at", ScalarValue::Timestamp(5), true),
            (
                "items.TC1.self_score.at",
                ScalarValue::Str("now".into()),
                false,
            ),
            (
                "items.TC1.self_score.colour",
                ScalarValue::Str("red".into()),
                false,
            ),
            ("events.#.heads.#", ScalarValue::Str("ab".into()), false),
        ];
        for (at, value, allowed) in cases {
            let path = path(at);
            let insert = at.ends_with('#');
            let result = check(
                "assessment",
                Target {
                    path: &path,
                    insert,
                    in_new_object: true,
                },
                Write::Put(&value),
            );
            assert_eq!(result.is_ok(), allowed, "{at} = {value:?}: {result:?}");
        }
        assert!(put("assessment", "zone", ScalarValue::Uint(2), false).is_ok());
        assert!(put("assessment", "zone", ScalarValue::Uint(4), false).is_err());
        assert!(put("assessment", "round", ScalarValue::Uint(2030), false).is_err());
        assert!(put("assessment", "extra", ScalarValue::Uint(1), false).is_err());
        assert!(
            put(
                "roster",
                "staff.p.training.t.months",
                ScalarValue::Int(-2),
                false
            )
            .is_err()
        );
        assert!(put("roster", "staff.p.village", ScalarValue::Null, false).is_ok());
        assert!(put("roster", "staff.p.status", ScalarValue::Int(1), false).is_err());
    }

    #[test]
    fn file_fields_of_evidence_hold_a_sha256_and_a_known_type() {
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let text = |s: &str| ScalarValue::Str(s.into());
        for prefix in ["items.TC1.evidence.e1", "staff.p1.evidence.e1"] {
            let kind = if prefix.starts_with("items") {
                "assessment"
            } else {
                "roster"
            };
            let at = |field: &str| format!("{prefix}.{field}");
            let cases = [
                ("file", text(sha), true),
                ("file", text(&sha.to_uppercase()), false),
                ("file", text(&sha[..63]), false),
                ("file", text("not-a-hash"), false),
                ("thumbnail", text(sha), true),
                ("thumbnail", ScalarValue::Int(1), false),
                ("media_type", text("image/jpeg"), true),
                ("media_type", text("application/pdf"), true),
                ("media_type", text("image/gif"), false),
                ("media_type", text("text/html"), false),
                ("size", ScalarValue::Uint(123_456), true),
                ("size", ScalarValue::Int(-1), false),
                ("size", ScalarValue::F64(1.5), false),
                ("file_name", text("giay-chung-nhan.pdf"), true),
                ("label", text("Giấy chứng nhận"), true),
                ("colour", text("red"), false),
            ];
            for (field, value, allowed) in cases {
                let result = put(kind, &at(field), value.clone(), true);
                assert_eq!(
                    result.is_ok(),
                    allowed,
                    "{kind} {field} = {value:?}: {result:?}"
                );
            }
            // Signed: never edited after the change that made the entry.
            assert!(put(kind, &at("file"), text(sha), false).is_err());
        }
        // A person's evidence map is kept; its entries are replaced whole or deleted.
        let path = path("staff.p1.evidence");
        let target = Target {
            path: &path,
            insert: false,
            in_new_object: false,
        };
        check("roster", target, Write::Make(ObjType::Map)).unwrap();
        assert!(check("roster", target, Write::Delete).is_err());
        let path = self::path("village_workers.p1.evidence.e1");
        let target = Target {
            path: &path,
            insert: false,
            in_new_object: false,
        };
        check("roster", target, Write::Delete).unwrap();
    }

    #[test]
    fn people_and_villages_are_never_deleted_and_documents_of_other_kinds_are_free() {
        for at in ["staff.p1", "village_workers.p2", "villages.v1"] {
            let path = path(at);
            let target = Target {
                path: &path,
                insert: false,
                in_new_object: false,
            };
            assert!(check("roster", target, Write::Delete).is_err(), "{at}");
        }
        let path = path("anything.at.all");
        let target = Target {
            path: &path,
            insert: false,
            in_new_object: false,
        };
        check("json", target, Write::Other).unwrap();
    }
}
