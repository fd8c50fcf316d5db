//! Reading an overview answer ([`Overview`]) in parts: everything but its documents and its
//! first rows at once, the other rows later, a part at a time. The reviewer's desk shows its
//! first screen of 10,000 communes from the first hundred rows, and decodes the other 4.9 MB
//! after that screen is painted.
//!
//! serde_json reads a value whole; a reading is stopped here by an error of our own once it
//! has the rows it wanted, what it read being kept outside serde, and where the next row
//! starts noted (found, not decoded). The documents come last in an answer, so nothing else is
//! left unread.

use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;

use super::{DocumentRow, Overview};

/// The message of the error that stops a reading once it has the rows it wanted; any other
/// error is the answer's.
const ENOUGH: &str = "enough rows for now";

/// Reads an overview answer up to its first `first` rows: the answer with those rows as its
/// documents, and where the next row starts in `bytes` (`None`: there is none). Fields written
/// after the documents would be left unread (the server writes none).
pub fn read_first(
    bytes: &[u8],
    first: usize,
) -> Result<(Overview<Vec<DocumentRow>>, Option<usize>), serde_json::Error> {
    let mut fields: Vec<(String, &RawValue)> = Vec::new();
    let mut rows = Rows::new(bytes, first);
    let outcome = serde_json::Deserializer::from_slice(bytes).deserialize_map(HeadVisitor {
        fields: &mut fields,
        rows: &mut rows,
    });
    if let Err(err) = outcome
        && rows.next.is_none()
    {
        return Err(err);
    }
    // The other fields as they were written, read into their types at once.
    let mut others = String::from("{\"documents\":[]");
    for (key, value) in &fields {
        others.push(',');
        others.push_str(&serde_json::to_string(key)?);
        others.push(':');
        others.push_str(value.get());
    }
    others.push('}');
    let mut overview: Overview<Vec<DocumentRow>> = serde_json::from_str(&others)?;
    overview.documents = rows.read;
    Ok((overview, rows.next))
}

/// Reads at most `max` rows of an answer's documents from the one starting at `at` (as
/// [`read_first`] or this function noted it, or just after the array's opening bracket), and
/// where the row after them starts (`None`: there is none). The separator before the row
/// becomes an opening bracket in `bytes`, so the rows from there read as an array; the answer
/// being compact JSON, nothing stands between. Any array of rows of one type reads so (the
/// list of documents, `GET /api/documents`, too).
pub fn read_more<T: DeserializeOwned>(
    bytes: &mut [u8],
    at: usize,
    max: usize,
) -> Result<(Vec<T>, Option<usize>), serde_json::Error> {
    let open = at
        .checked_sub(1)
        .filter(|&open| matches!(bytes.get(open), Some(b',' | b'[')))
        .ok_or_else(|| {
            <serde_json::Error as serde::de::Error>::custom(format!("no row starts at {at}"))
        })?;
    bytes[open] = b'[';
    let slice = &bytes[open..];
    let mut rows = Rows::new(slice, max);
    let outcome = RowsSeed(&mut rows).deserialize(&mut serde_json::Deserializer::from_slice(slice));
    match (outcome, rows.next) {
        (Err(err), None) => Err(err),
        (_, next) => Ok((rows.read, next.map(|next| open + next))),
    }
}

/// Rows read from a JSON array, at most `max`, and where the next one starts.
struct Rows<T> {
    /// Where the bytes read begin (an address), to tell where the next row starts.
    base: usize,
    max: usize,
    read: Vec<T>,
    /// The offset of the row after the last one read, when there is one.
    next: Option<usize>,
}

impl<T> Rows<T> {
    fn new(bytes: &[u8], max: usize) -> Rows<T> {
        Rows {
            base: bytes.as_ptr() as usize,
            max,
            read: Vec::with_capacity(max.min(4_096)),
            next: None,
        }
    }
}

/// The answer's map: every field kept as it was written, but the documents read as [`Rows`].
struct HeadVisitor<'a, 'de> {
    fields: &'a mut Vec<(String, &'de RawValue)>,
    rows: &'a mut Rows<DocumentRow>,
}

impl<'de> Visitor<'de> for HeadVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the overview")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "documents" {
                map.next_value_seed(RowsSeed(self.rows))?;
            } else {
                let value = map.next_value::<&'de RawValue>()?;
                self.fields.push((key, value));
            }
        }
        Ok(())
    }
}

/// Reads a JSON array of rows into [`Rows`], stopping with [`ENOUGH`] at the row after its
/// `max`th, whose start it notes.
struct RowsSeed<'a, T>(&'a mut Rows<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for RowsSeed<'_, T> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for RowsSeed<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the documents")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let rows = self.0;
        loop {
            if rows.read.len() >= rows.max {
                return match seq.next_element::<&'de RawValue>()? {
                    Some(raw) => {
                        rows.next = Some(raw.get().as_ptr() as usize - rows.base);
                        Err(serde::de::Error::custom(ENOUGH))
                    }
                    None => Ok(()),
                };
            }
            match seq.next_element::<T>()? {
                Some(row) => rows.read.push(row),
                None => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize) -> String {
        format!(
            r#"{{"id":"doc{i}","url":"automerge:doc{i}","kind":"assessment","commune":"{code}","round":2026,"status":"draft","self_total":{i}.5,"open_conflicts":0,"criteria":[["TC1",10,5,{p}]],"commune_name":"Xã \"{i}\", ấp","last_change_at":{i},"last_change_by":null}}"#,
            code = 80_000 + i,
            p = i % 11,
        )
    }

    fn answer(n: usize) -> String {
        let rows: Vec<String> = (0..n).map(row).collect();
        format!(
            r#"{{"round":2026,"count":{n},"by_status":{{"draft":{n}}},"by_verdict":{{}},"with_conflicts":0,"targets":[],"units":[{{"code":"U","name":"Đơn vị","communes":["80000"]}}],"documents":[{}]}}"#,
            rows.join(",")
        )
    }

    /// Every row, read in parts of `part` after the first `first`.
    fn in_parts(text: &str, first: usize, part: usize) -> Overview<Vec<DocumentRow>> {
        let mut bytes = text.as_bytes().to_vec();
        let (mut overview, mut next) = read_first(&bytes, first).unwrap();
        assert!(overview.documents.len() <= first);
        while let Some(at) = next {
            let (rows, after) = read_more::<DocumentRow>(&mut bytes, at, part).unwrap();
            assert!(!rows.is_empty() && rows.len() <= part);
            overview.documents.extend(rows);
            next = after;
        }
        overview
    }

    #[test]
    fn an_answer_read_in_parts_is_the_answer_read_whole() {
        for n in [0, 1, 2, 5, 99, 100, 101, 250] {
            let text = answer(n);
            let whole: Overview<Vec<DocumentRow>> = serde_json::from_str(&text).unwrap();
            assert_eq!(whole.documents.len(), n);
            for (first, part) in [(0, 1), (1, 1), (100, 7), (3, 1000), (1000, 1)] {
                assert_eq!(
                    in_parts(&text, first, part),
                    whole,
                    "{n} rows, {first} then {part}"
                );
            }
        }
    }

    #[test]
    fn the_first_read_stops_after_its_rows_and_says_where_the_next_starts() {
        let text = answer(10);
        let (overview, next) = read_first(text.as_bytes(), 3).unwrap();
        assert_eq!(overview.count, 10);
        assert_eq!(overview.by_status.get("draft"), Some(&10));
        assert_eq!(overview.units[0].name, "Đơn vị");
        let ids: Vec<&str> = overview.documents.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["doc0", "doc1", "doc2"]);
        assert!(text[next.unwrap()..].starts_with(r#"{"id":"doc3""#));
    }

    #[test]
    fn any_list_of_rows_reads_in_parts_from_after_its_opening_bracket() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Named {
            id: String,
        }
        for n in [0, 1, 2, 7] {
            let ids: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"id":"d{i}","x":[1]}}"#))
                .collect();
            let mut bytes = format!(r#"{{"documents":[{}]}}"#, ids.join(",")).into_bytes();
            let mut next = Some(r#"{"documents":["#.len());
            let mut read = Vec::new();
            while let Some(at) = next {
                let (part, after) = read_more::<Named>(&mut bytes, at, 3).unwrap();
                assert!(part.len() <= 3 && (part.len() == 3 || after.is_none()));
                read.extend(part);
                next = after;
            }
            let want: Vec<Named> = (0..n)
                .map(|i| Named {
                    id: format!("d{i}"),
                })
                .collect();
            assert_eq!(read, want, "{n} rows");
        }
        let mut cut = br#"{"documents":[{"id":"d0"},{"id":"d1"}"#.to_vec();
        assert!(
            read_more::<Named>(&mut cut, 14, 5).is_err(),
            "a list cut off is an error"
        );
    }

    #[test]
    fn a_broken_answer_is_an_error_not_fewer_rows() {
        let text = answer(5);
        let broken = &text[..text.len() - 40];
        assert!(read_first(broken.as_bytes(), 100).is_err());
        let mut bytes = broken.as_bytes().to_vec();
        let (_, next) = read_first(&bytes, 1).unwrap();
        let mut at = next;
        let mut failed = false;
        while let Some(from) = at {
            match read_more::<DocumentRow>(&mut bytes, from, 1) {
                Ok((_, after)) => at = after,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "the cut row is an error");
        assert!(read_more::<DocumentRow>(&mut answer(3).into_bytes(), 5, 1).is_err());
    }
}
