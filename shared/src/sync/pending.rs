//! Local edits the server has not acknowledged yet, counted as a person counts them.
//!
//! The editor commits one automerge change per keystroke (so that nothing typed is lost), but a
//! note typed in one go is one edit to the person who typed it. Every change the app makes
//! carries a message naming what it changed (`note TC1`, `self TC3`, `person …`; see
//! `document::commit`), so consecutive local changes with the same message are one edit.
//! Derived from the document's own changes, the count survives a restart, and it reaches zero
//! only once the server's acknowledged heads cover every local change.

use std::collections::BTreeSet;

use automerge::{AutoCommit, ChangeHash};

/// Local edits (changes by one of `actors`, hex) that are not among the ancestors of `acked`
/// (the heads the server is known to have stored); consecutive changes with the same message
/// count once.
pub fn unsynced_edits(
    doc: &mut AutoCommit,
    acked: &[ChangeHash],
    actors: &BTreeSet<String>,
) -> usize {
    // Only heads the phone knows can anchor the count.
    let known: Vec<ChangeHash> = acked
        .iter()
        .copied()
        .filter(|h| doc.get_change_by_hash(h).is_some())
        .collect();
    let changes = doc.get_changes(&known);
    count_edits(
        changes
            .iter()
            .map(|change| {
                (
                    change.actor_id().to_hex_string(),
                    change.message().map(str::to_owned),
                )
            })
            .filter(|(actor, _)| actors.contains(actor)),
    )
}

/// Counts edits in local changes given in causal order as (actor, message): a change with the
/// same actor and message as the one before it continues the same edit; a change without a
/// message is an edit of its own.
pub fn count_edits(changes: impl IntoIterator<Item = (String, Option<String>)>) -> usize {
    let mut count = 0;
    let mut previous: Option<(String, String)> = None;
    for (actor, message) in changes {
        let current = message.map(|message| (actor, message));
        if current.is_none() || current != previous {
            count += 1;
        }
        previous = current;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::{ObjType, ROOT, ReadDoc};

    fn edit(doc: &mut AutoCommit, message: &str, f: impl FnOnce(&mut AutoCommit)) {
        f(doc);
        doc.commit_with(CommitOptions::default().with_message(message));
    }

    #[test]
    fn a_note_typed_one_key_at_a_time_is_one_edit() {
        let mut doc = AutoCommit::new();
        let actors = BTreeSet::from([doc.get_actor().to_hex_string()]);
        let note = doc.put_object(ROOT, "note", ObjType::Text).unwrap();
        doc.commit_with(CommitOptions::default().with_message("open"));
        let acked = doc.get_heads();
        for key in "Họp giao ban sáng thứ hai".chars() {
            edit(&mut doc, "note TC1", |doc| {
                let end = doc.length(&note);
                doc.splice_text(&note, end, 0, &key.to_string()).unwrap();
            });
        }
        assert_eq!(unsynced_edits(&mut doc, &acked, &actors), 1);
        edit(&mut doc, "self TC2", |doc| {
            doc.put(ROOT, "score", 5).unwrap()
        });
        edit(&mut doc, "self TC2", |doc| {
            doc.put(ROOT, "score", 6).unwrap()
        });
        assert_eq!(unsynced_edits(&mut doc, &acked, &actors), 2);
        edit(&mut doc, "note TC1", |doc| {
            doc.splice_text(&note, 0, 0, "!").unwrap();
        });
        assert_eq!(
            unsynced_edits(&mut doc, &acked, &actors),
            3,
            "back to the note after another field is another edit"
        );
        // Once the server has the heads, nothing is pending.
        let heads = doc.get_heads();
        assert_eq!(unsynced_edits(&mut doc, &heads, &actors), 0);
        assert_eq!(doc.text(&note).unwrap().chars().count(), 26);
    }

    #[test]
    fn changes_of_others_do_not_count_and_unnamed_changes_count_each() {
        let mut theirs = AutoCommit::new();
        edit(&mut theirs, "note TC1", |doc| {
            doc.put(ROOT, "a", 1).unwrap()
        });
        let mut doc = theirs.fork();
        let actors = BTreeSet::from([doc.get_actor().to_hex_string()]);
        assert_eq!(unsynced_edits(&mut doc, &[], &actors), 0);
        doc.put(ROOT, "b", 1).unwrap();
        doc.commit();
        doc.put(ROOT, "b", 2).unwrap();
        doc.commit();
        assert_eq!(unsynced_edits(&mut doc, &[], &actors), 2);
        assert_eq!(
            count_edits([
                ("a".into(), Some("x".into())),
                ("b".into(), Some("x".into())),
                ("b".into(), Some("x".into())),
            ]),
            2,
            "two tabs (two actors) editing the same field are two edits"
        );
    }
}
