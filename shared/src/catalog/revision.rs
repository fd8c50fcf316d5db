//! What moving an assessment from one revision of a criteria set to a newer one keeps: every
//! item (indicator, or criterion scored whole) with the same id, maximum points and scoring rule
//! keeps its scores; the others must be scored again.

use serde::{Deserialize, Serialize};

use super::Catalog;

/// How the scored items of two revisions of one criteria set differ (ids in the newer
/// revision's order; removed ones in the older's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionChanges {
    /// Same id, maximum points and scoring rule: their scores stay.
    pub kept: Vec<String>,
    /// Same id, but other points or another rule: their scores are cleared, to be scored again.
    pub rescore: Vec<String>,
    /// New in the newer revision: to be scored.
    pub added: Vec<String>,
    /// No longer in the newer revision: their scores no longer count.
    pub removed: Vec<String>,
}

impl RevisionChanges {
    /// Everything that must be scored (again) after the move.
    pub fn to_score(&self) -> impl Iterator<Item = &str> {
        self.rescore.iter().chain(&self.added).map(String::as_str)
    }
}

impl Catalog {
    /// What moving an assessment from this revision to `newer` keeps and what it asks to score
    /// again (see [`RevisionChanges`]).
    pub fn changes_to(&self, newer: &Catalog) -> RevisionChanges {
        let mut changes = RevisionChanges::default();
        for item in newer.items() {
            let id = item.id().as_str().to_owned();
            match self.item(&id) {
                Some(old) if old.max_points() == item.max_points() && old.rule() == item.rule() => {
                    changes.kept.push(id);
                }
                Some(_) => changes.rescore.push(id),
                None => changes.added.push(id),
            }
        }
        changes.removed = self
            .items()
            .map(|item| item.id().as_str().to_owned())
            .filter(|id| newer.item(id).is_none())
            .collect();
        changes
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::parse_catalog;

    const OLDER: &str = r#"{
      "format": 1, "code": "TEST-MOVE", "revision": 1,
      "title_vi": "TEST: chuyển", "title_en": "TEST move",
      "pass_rule": { "total_min_percent": 80, "criterion_min_percent": 50 },
      "criteria": [
        { "id": "C1", "name_vi": "TEST một", "max_points": 6,
          "indicators": [
            { "id": "1.1", "name_vi": "TEST a", "max_points": 4, "scoring": { "kind": "points" } },
            { "id": "1.2", "name_vi": "TEST b", "max_points": 2, "scoring": { "kind": "yes_no" } } ] },
        { "id": "C2", "name_vi": "TEST hai", "max_points": 4 },
        { "id": "C3", "name_vi": "TEST ba", "max_points": 2 } ]
    }"#;

    #[test]
    fn unchanged_items_keep_their_scores_and_the_rest_is_listed() {
        let older = parse_catalog(OLDER).unwrap();
        // 1.1 reworded only (kept), 1.2 now worth 3 (rescore), C2 split into indicators (C2
        // removed, 2.1 and 2.2 added), C3 unchanged.
        let newer = OLDER
            .replace(r#""revision": 1"#, r#""revision": 2"#)
            .replace("TEST a", "TEST a, sửa lời")
            .replace(r#""max_points": 6"#, r#""max_points": 7"#)
            .replace(
                r#""max_points": 2, "scoring": { "kind": "yes_no" }"#,
                r#""max_points": 3, "scoring": { "kind": "yes_no" }"#,
            )
            .replace(
                r#"{ "id": "C2", "name_vi": "TEST hai", "max_points": 4 }"#,
                r#"{ "id": "C2", "name_vi": "TEST hai", "max_points": 4, "indicators": [
                    { "id": "2.1", "name_vi": "TEST c", "max_points": 2, "scoring": { "kind": "points" } },
                    { "id": "2.2", "name_vi": "TEST d", "max_points": 2, "scoring": { "kind": "points" } } ] }"#,
            );
        let newer = parse_catalog(&newer).unwrap();
        let changes = older.changes_to(&newer);
        assert_eq!(changes.kept, ["1.1", "C3"]);
        assert_eq!(changes.rescore, ["1.2"]);
        assert_eq!(changes.added, ["2.1", "2.2"]);
        assert_eq!(changes.removed, ["C2"]);
        assert_eq!(
            changes.to_score().collect::<Vec<_>>(),
            ["1.2", "2.1", "2.2"]
        );
        assert_eq!(older.changes_to(&older).kept.len(), 4);
        assert!(older.changes_to(&older).to_score().next().is_none());
    }
}
