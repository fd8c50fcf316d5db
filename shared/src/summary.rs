//! The summary of a document (tóm tắt hồ sơ): what a reviewer's overview shows of it — kind,
//! commune, round, workflow status, self and review totals, points per criterion, the verdict
//! with its reasons and the number of open conflicts — computed from the document alone.
//!
//! The server stores one summary row per document, written in the transaction that stores each
//! change, so an overview of thousands of communes reads rows, never documents. The same pure
//! code can run in the browser. It is split in two steps so the server can read the document
//! where it lives (the sync hub's task) and score it elsewhere: [`read_facts`] copies what is
//! needed out of the automerge document, [`summarize_facts`] scores it against its catalog.
//!
//! Rules:
//! - A side's total is `None` until at least one item of that side is scored (an untouched
//!   assessment has no self total, not a total of 0).
//! - The verdict is the review side's once the reviewer has scored anything, the self side's
//!   before that (see [`Summary::verdict_side`]).
//! - `open_conflicts` counts items with concurrent values on either side's score.
//! - An approved dossier is summarized at the heads that were approved (its status is the
//!   current one): edits concurrent with the approval never change what was approved.
//! - `changed_after_submission` lists what the station changed, concurrently with its
//!   submission, that no reviewer has seen ([`assessment::changed_after_submission`]).
//! - A document that cannot be read or scored (a catalog this server does not know, a broken
//!   field) still gets a summary: what could be read, and [`Summary::problem`] says why the rest
//!   is missing.

use std::collections::BTreeSet;

use automerge::{AutoCommit, ReadDoc};
use serde::{Deserialize, Serialize};

use crate::assessment::{self, AssessmentView, ChangedAfterSubmission, Side, read_decided};
use crate::catalog::Catalog;
use crate::document::{get_i64, get_str};
use crate::points::Points;
use crate::roster;
use crate::scoring::{self, Outcome, Reason, ScoreReport, Verdict};
use crate::workflow::{Status, StatusChange};

/// What a document is, as its summary names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An assessment (hồ sơ đánh giá).
    Assessment,
    /// A roster (danh sách nhân lực).
    Roster,
    /// Anything else (JSON documents made by an administrator or an open-mode client).
    Json,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Assessment => "assessment",
            Kind::Roster => "roster",
            Kind::Json => "json",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Assessment, Kind::Roster, Kind::Json]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// What [`read_facts`] copies out of a document: plain data, cheap to move between threads.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    /// The document's kind.
    pub kind: Kind,
    /// Its root `commune`, if any.
    pub commune: Option<String>,
    /// Its root `round`, if any.
    pub round: Option<u16>,
    /// How many automerge changes the document holds. Grows with every change, and a merge of
    /// two diverged versions holds more than either: the server keeps the summary of the larger.
    pub changes: u64,
    /// The assessment as decided ([`assessment::read_decided`]), or why it could not be read.
    pub assessment: Option<Result<AssessmentView, String>>,
    /// What the station changed after its submission, unseen by a reviewer.
    pub changed_after_submission: Option<ChangedAfterSubmission>,
    /// The evidence files the document names ([`crate::files::referenced`]), and for an
    /// approved dossier those of the version approved too.
    pub files: BTreeSet<String>,
}

impl Facts {
    /// The catalog an assessment needs to be scored: its code and revision.
    pub fn catalog(&self) -> Option<(&str, u32)> {
        match &self.assessment {
            Some(Ok(view)) => Some((view.catalog.as_str(), view.catalog_revision)),
            _ => None,
        }
    }
}

/// Points of one criterion on each side. A side not scored yet is left out of the JSON (the
/// overview carries ten of these per commune).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionPoints {
    /// Criterion id.
    pub id: String,
    /// Applicable maximum.
    pub max: Points,
    /// Minimum to pass.
    pub required: Points,
    /// The station's points, once one of its items has a self score.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_points: Option<Points>,
    /// The reviewer's points, once one of its items has a review score.
    #[serde(rename = "review", default, skip_serializing_if = "Option::is_none")]
    pub review_points: Option<Points>,
}

/// The summary of one document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// What the document is.
    pub kind: Kind,
    /// Commune code.
    pub commune: Option<String>,
    /// Round (year), for assessments.
    pub round: Option<u16>,
    /// Catalog code, for assessments.
    pub catalog: Option<String>,
    /// Catalog revision, for assessments.
    pub catalog_revision: Option<u32>,
    /// Workflow status, for assessments.
    pub status: Option<Status>,
    /// Every status change with its date, for assessments: a report of a past period reads the
    /// status as it stood then ([`crate::workflow::status_at`]).
    pub status_history: Vec<StatusChange>,
    /// The station's total, once anything is self-scored.
    pub self_total: Option<Points>,
    /// The reviewer's total, once anything is review-scored.
    pub review_total: Option<Points>,
    /// The verdict of [`Summary::verdict_side`].
    pub verdict: Option<Verdict>,
    /// Which side the verdict is of: the review once the reviewer scored anything, else self.
    pub verdict_side: Option<Side>,
    /// Every reason of the verdict.
    pub reasons: Vec<Reason>,
    /// Points per criterion, in catalog order.
    pub criteria: Vec<CriterionPoints>,
    /// Items whose self or review score has concurrent values waiting to be resolved.
    pub open_conflicts: u32,
    /// What the station changed after its submission, unseen by a reviewer.
    pub changed_after_submission: Option<ChangedAfterSubmission>,
    /// The document's change count (see [`Facts::changes`]).
    pub changes: u64,
    /// Why part of the summary is missing, if it is.
    pub problem: Option<String>,
}

/// Copies what a summary needs out of a document.
pub fn read_facts(doc: &mut AutoCommit) -> Facts {
    let text = |key: &str| get_str(doc, &automerge::ROOT, key).ok().flatten();
    let kind = match text(crate::document::KIND_KEY).as_deref() {
        Some(assessment::KIND) => Kind::Assessment,
        Some(roster::KIND) => Kind::Roster,
        _ => Kind::Json,
    };
    let commune = text("commune");
    let round = get_i64(doc, &automerge::ROOT, "round")
        .ok()
        .flatten()
        .and_then(|r| u16::try_from(r).ok());
    let assessment =
        (kind == Kind::Assessment).then(|| read_decided(doc).map_err(|err| err.to_string()));
    let changed_after_submission = match &assessment {
        Some(Ok(view)) => assessment::changed_after_submission(doc, &view.workflow())
            .ok()
            .flatten(),
        _ => None,
    };
    let mut files = crate::files::referenced(doc);
    if let Some(Ok(view)) = &assessment {
        let decided = view.items.values().flat_map(|item| item.evidence.values());
        for file in decided.filter_map(|evidence| evidence.file.as_ref()) {
            files.extend(file.ids().map(str::to_owned));
        }
    }
    Facts {
        kind,
        commune,
        round,
        changes: doc.stats().num_changes,
        assessment,
        changed_after_submission,
        files,
    }
}

/// Summarizes what [`read_facts`] read. `catalog` is the one [`Facts::catalog`] names (`None`
/// when this server does not have it: the summary then says so in `problem`).
pub fn summarize_facts(facts: &Facts, catalog: Option<&Catalog>) -> Summary {
    let mut summary = Summary {
        kind: facts.kind,
        commune: facts.commune.clone(),
        round: facts.round,
        catalog: None,
        catalog_revision: None,
        status: None,
        status_history: Vec::new(),
        self_total: None,
        review_total: None,
        verdict: None,
        verdict_side: None,
        reasons: Vec::new(),
        criteria: Vec::new(),
        open_conflicts: 0,
        changed_after_submission: facts.changed_after_submission.clone(),
        changes: facts.changes,
        problem: None,
    };
    let view = match &facts.assessment {
        None => return summary,
        Some(Err(problem)) => {
            summary.problem = Some(problem.clone());
            return summary;
        }
        Some(Ok(view)) => view,
    };
    summary.round = Some(view.round);
    summary.catalog = Some(view.catalog.clone());
    summary.catalog_revision = Some(view.catalog_revision);
    let workflow = view.workflow();
    summary.status = Some(workflow.status);
    summary.status_history = workflow.history;
    let conflicts = view
        .items
        .values()
        .filter(|item| !item.conflicts.is_empty())
        .count();
    summary.open_conflicts = u32::try_from(conflicts).unwrap_or(u32::MAX);
    let Some(catalog) = catalog.filter(|c| c.revision == view.catalog_revision) else {
        summary.problem = Some(format!(
            "catalog {} revision {} is not known here",
            view.catalog, view.catalog_revision
        ));
        return summary;
    };
    let reports = scoring::score(catalog, view, Side::SelfAssessment)
        .and_then(|own| scoring::score(catalog, view, Side::Review).map(|review| (own, review)));
    let (own, review) = match reports {
        Ok(reports) => reports,
        Err(err) => {
            summary.problem = Some(err.to_string());
            return summary;
        }
    };
    summary.self_total = any_scored(&own).then_some(own.total);
    summary.review_total = any_scored(&review).then_some(review.total);
    let decisive = if summary.review_total.is_some() {
        &review
    } else {
        &own
    };
    summary.verdict = Some(decisive.verdict);
    summary.verdict_side = Some(decisive.side);
    summary.reasons = decisive.reasons.clone();
    summary.criteria = own
        .criteria
        .iter()
        .zip(&review.criteria)
        .map(|(own, review)| CriterionPoints {
            id: own.id.clone(),
            max: own.max,
            required: own.required,
            self_points: criterion_scored(own).then_some(own.points),
            review_points: criterion_scored(review).then_some(review.points),
        })
        .collect();
    summary
}

/// Reads and summarizes a document at once.
pub fn summarize(doc: &mut AutoCommit, catalog: Option<&Catalog>) -> Summary {
    summarize_facts(&read_facts(doc), catalog)
}

fn any_scored(report: &ScoreReport) -> bool {
    report.criteria.iter().any(criterion_scored)
}

fn criterion_scored(criterion: &scoring::CriterionScore) -> bool {
    criterion
        .items
        .iter()
        .any(|item| matches!(item.outcome, Outcome::Scored { .. }))
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::assessment::{
        Answer, NewAssessment, append_event, new_assessment, read_assessment, set_score,
    };
    use crate::catalog::shipped_catalogs;
    use crate::commune::{UnitType, Zone};
    use crate::id::{CommuneCode, ItemId, UserId};
    use crate::workflow::EventKind;

    fn qd1300() -> Catalog {
        shipped_catalogs().remove(0)
    }

    fn open() -> AutoCommit {
        let new = NewAssessment {
            commune: CommuneCode::parse("16024").unwrap(),
            round: 2024,
            zone: Zone::new(1).unwrap(),
            unit_type: UnitType::Xa,
        };
        new_assessment(&qd1300(), &new, 1_700_000_000_000)
            .unwrap()
            .with_actor(ActorId::from(&[1u8; 16][..]))
    }

    fn score(doc: &mut AutoCommit, side: Side, item: &str, points: u32, by: &str) {
        set_score(
            doc,
            side,
            &ItemId::parse(item).unwrap(),
            Answer::Points(Points::whole(points)),
            &UserId::parse(by).unwrap(),
            1,
        )
        .unwrap();
    }

    #[test]
    fn a_new_assessment_is_a_draft_without_totals() {
        let summary = summarize(&mut open(), Some(&qd1300()));
        assert_eq!(summary.kind, Kind::Assessment);
        assert_eq!(summary.commune.as_deref(), Some("16024"));
        assert_eq!(summary.round, Some(2024));
        assert_eq!(summary.catalog.as_deref(), Some("QD1300-2023"));
        assert_eq!(summary.status, Some(Status::Draft));
        assert_eq!((summary.self_total, summary.review_total), (None, None));
        assert_eq!(summary.verdict, Some(Verdict::Incomplete));
        assert_eq!(summary.verdict_side, Some(Side::SelfAssessment));
        assert_eq!(summary.criteria.len(), 10);
        assert!(summary.criteria.iter().all(|c| c.self_points.is_none()));
        assert_eq!(summary.problem, None);
    }

    #[test]
    fn totals_criteria_and_the_verdict_follow_the_scores() {
        let catalog = qd1300();
        let mut doc = open();
        score(&mut doc, Side::SelfAssessment, "TC1", 10, "lan");
        score(&mut doc, Side::SelfAssessment, "TC2", 3, "lan");
        let summary = summarize(&mut doc, Some(&catalog));
        assert_eq!(summary.self_total, Some(Points::whole(13)));
        assert_eq!(summary.criteria[0].self_points, Some(Points::whole(10)));
        assert_eq!(summary.criteria[2].self_points, None);
        assert_eq!(summary.verdict_side, Some(Side::SelfAssessment));

        // Once the reviewer scores, the verdict is the review's, with its reasons.
        score(&mut doc, Side::Review, "TC1", 9, "thu");
        let summary = summarize(&mut doc, Some(&catalog));
        assert_eq!(summary.review_total, Some(Points::whole(9)));
        assert_eq!(summary.verdict_side, Some(Side::Review));
        let view = read_assessment(&doc).unwrap();
        let review = scoring::score(&catalog, &view, Side::Review).unwrap();
        assert_eq!(summary.verdict, Some(review.verdict));
        assert_eq!(summary.reasons, review.reasons);
    }

    #[test]
    fn concurrent_scores_count_as_open_conflicts_and_the_status_follows_events() {
        let mut a = open();
        let mut b = a.fork().with_actor(ActorId::from(&[2u8; 16][..]));
        score(&mut a, Side::SelfAssessment, "TC3", 5, "lan");
        score(&mut b, Side::SelfAssessment, "TC3", 6, "minh");
        a.merge(&mut b).unwrap();
        append_event(
            &mut a,
            &EventKind::Submit,
            &UserId::parse("hung").unwrap(),
            2,
            "",
        )
        .unwrap();
        let summary = summarize(&mut a, Some(&qd1300()));
        assert_eq!(summary.open_conflicts, 1);
        assert_eq!(summary.status, Some(Status::Submitted));
        assert_eq!(
            summary.status_history,
            [StatusChange {
                at: 2,
                status: Status::Submitted
            }]
        );
        assert!(summary.changes > read_facts(&mut b).changes);
    }

    #[test]
    fn an_unknown_catalog_still_gives_status_and_says_why_scores_are_missing() {
        let mut doc = open();
        score(&mut doc, Side::SelfAssessment, "TC1", 10, "lan");
        let summary = summarize(&mut doc, None);
        assert_eq!(summary.status, Some(Status::Draft));
        assert_eq!(summary.self_total, None);
        assert_eq!(
            summary.problem.as_deref(),
            Some("catalog QD1300-2023 revision 1 is not known here")
        );
    }

    #[test]
    fn rosters_and_other_documents_have_no_scores() {
        let mut roster =
            crate::roster::new_roster(&CommuneCode::parse("16024").unwrap(), 1).unwrap();
        let summary = summarize(&mut roster, None);
        assert_eq!(summary.kind, Kind::Roster);
        assert_eq!(summary.commune.as_deref(), Some("16024"));
        assert_eq!((summary.status, summary.verdict), (None, None));
        assert_eq!(summary.problem, None);

        let summary = summarize(&mut AutoCommit::new(), None);
        assert_eq!((summary.kind, summary.commune), (Kind::Json, None));
    }

    #[test]
    fn a_broken_assessment_says_why() {
        let mut doc = open();
        automerge::transaction::Transactable::delete(&mut doc, automerge::ROOT, "zone").unwrap();
        let summary = summarize(&mut doc, Some(&qd1300()));
        assert_eq!(summary.kind, Kind::Assessment);
        assert_eq!(summary.round, Some(2024));
        assert_eq!(summary.status, None);
        assert_eq!(summary.problem.as_deref(), Some("`zone` is missing"));
    }

    #[test]
    fn an_approved_dossier_is_summarized_at_the_heads_that_were_approved() {
        let catalog = qd1300();
        let mut doc = open();
        score(&mut doc, Side::SelfAssessment, "TC1", 10, "lan");
        let mut late = doc.fork().with_actor(ActorId::from(&[9u8; 16][..]));
        let user = |name: &str| UserId::parse(name).unwrap();
        append_event(&mut doc, &EventKind::Submit, &user("hung"), 2, "").unwrap();
        score(&mut doc, Side::Review, "TC1", 9, "thu");
        append_event(&mut doc, &EventKind::Appraise, &user("thu"), 3, "").unwrap();
        let heads = crate::document::heads(&mut doc);
        append_event(&mut doc, &EventKind::Approve { heads }, &user("thu"), 4, "").unwrap();
        // An edit concurrent with all of it arrives after the approval.
        score(&mut late, Side::SelfAssessment, "TC1", 3, "lan");
        score(&mut late, Side::Review, "TC1", 2, "thu");
        doc.merge(&mut late).unwrap();
        let summary = summarize(&mut doc, Some(&catalog));
        assert_eq!(summary.status, Some(Status::Approved));
        assert_eq!(summary.self_total, Some(Points::whole(10)));
        assert_eq!(summary.review_total, Some(Points::whole(9)));
        assert_eq!(summary.open_conflicts, 0);
        // The current document does hold the later values.
        let now = read_assessment(&doc).unwrap();
        assert_eq!(now.items["TC1"].conflicts, [Side::Review]);
        let own = now.items["TC1"].self_score.as_ref().map(|s| s.answer);
        assert_eq!(own, Some(Answer::Points(Points::whole(3))));
    }

    #[test]
    fn station_edits_concurrent_with_the_submission_are_reported_until_acknowledged() {
        let catalog = qd1300();
        let mut doc = open();
        let mut offline = doc.fork().with_actor(ActorId::from(&[7u8; 16][..]));
        let user = |name: &str| UserId::parse(name).unwrap();
        append_event(&mut doc, &EventKind::Submit, &user("hung"), 2_000, "").unwrap();
        assert_eq!(
            summarize(&mut doc, Some(&catalog)).changed_after_submission,
            None
        );

        score(&mut offline, Side::SelfAssessment, "TC4", 5, "lan");
        crate::assessment::set_note(&mut offline, &ItemId::parse("TC2").unwrap(), "thêm", 9_000)
            .unwrap();
        doc.merge(&mut offline).unwrap();
        let late = summarize(&mut doc, Some(&catalog))
            .changed_after_submission
            .expect("reported");
        assert_eq!(late.items, ["TC2", "TC4"]);
        assert_eq!(late.by, ["lan"]);
        assert_eq!(late.actors, ["07".repeat(16)]);
        assert_eq!(late.at, 9_000);

        // A reviewer's own work after the submission is not the station's.
        score(&mut doc, Side::Review, "TC1", 9, "thu");
        append_event(&mut doc, &EventKind::Acknowledge, &user("thu"), 10_000, "").unwrap();
        assert_eq!(
            summarize(&mut doc, Some(&catalog)).changed_after_submission,
            None
        );
    }
}
