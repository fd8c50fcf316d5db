//! Scoring (chấm điểm): points per item and criterion, the total, and the verdict with every
//! reason, for the self-assessment or the review side. Pure and deterministic: the browser
//! shows exactly what the server stores in its summary.
//!
//! Rules:
//! - Items that do not apply to the commune's zone and unit type count neither in points nor in
//!   the maximum; thresholds are percentages of the applicable maximum.
//! - A knockout indicator (điểm liệt) fails when it scores 0.
//! - An unscored item, or one whose answer does not fit its rule, is open. The verdict is
//!   `fail` as soon as a failure is certain (a knockout failed, or a threshold cannot be reached
//!   even with full points on every open item), else `incomplete` while items are open, else
//!   `pass`.
//! - Conflicting concurrent scores are scored by automerge's winning value and listed in
//!   [`ScoreReport::conflicts`], so the verdict can be shown as provisional.

use std::fmt;

use serde::Serialize;

use crate::assessment::{Answer, AssessmentView, Side};
use crate::catalog::{Catalog, Measure, ScoringRule};
use crate::points::Points;

/// Why scoring could not run, or why an answer does not fit its rule.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ScoringError {
    #[error("the assessment uses catalog `{assessment}`, not `{catalog}`")]
    CatalogMismatch { catalog: String, assessment: String },
    #[error("{points} points is more than the maximum {max}")]
    AboveMax { points: Points, max: Points },
    #[error("the answer is {found}, but this item is scored by {rule}")]
    WrongAnswerKind {
        found: &'static str,
        rule: &'static str,
    },
    #[error("the measured value {value} is not a valid {measure}")]
    BadMeasure { value: f64, measure: &'static str },
}

/// How one item came out.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Scored.
    Scored { points: Points },
    /// No score on this side yet.
    Missing,
    /// The answer does not fit the item's rule.
    Invalid { problem: String },
    /// Does not apply to this commune.
    NotApplicable,
}

/// One item's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemScore {
    /// Item id.
    pub id: String,
    /// Maximum points.
    pub max: Points,
    /// Whether it is a knockout indicator.
    pub knockout: bool,
    /// Result.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// One criterion's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CriterionScore {
    /// Criterion id.
    pub id: String,
    /// Points earned.
    pub points: Points,
    /// Applicable maximum.
    pub max: Points,
    /// Minimum to pass (the pass rule's percentage of `max`, rounded up to a half point).
    pub required: Points,
    /// Its items.
    pub items: Vec<ItemScore>,
}

/// The overall verdict (kết quả).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Meets the criteria (đạt).
    Pass,
    /// Does not (không đạt).
    Fail,
    /// Items are still open and no failure is certain yet.
    Incomplete,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 3] = [Verdict::Pass, Verdict::Fail, Verdict::Incomplete];

    /// The stored name (as serialized: `pass`, `fail`, `incomplete`).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Incomplete => "incomplete",
        }
    }

    /// Its name in Vietnamese, as the app shows it and the downloads write it.
    pub fn label_vi(self) -> &'static str {
        match self {
            Verdict::Pass => "Đạt",
            Verdict::Fail => "Không đạt",
            Verdict::Incomplete => "Chưa đủ",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Verdict> {
        Verdict::ALL
            .into_iter()
            .find(|verdict| verdict.name() == name)
    }
}

/// A reason behind the verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// The total is (or can only end) below the threshold.
    TotalBelowThreshold {
        total: Points,
        required: Points,
        max: Points,
    },
    /// A criterion is (or can only end) below its minimum.
    CriterionBelowMinimum {
        criterion: String,
        points: Points,
        required: Points,
        max: Points,
    },
    /// A knockout indicator scored 0.
    KnockoutFailed { indicator: String },
    /// An answer does not fit its item's rule.
    InvalidAnswer { item: String, problem: String },
    /// Items without a score.
    Incomplete { missing: Vec<String> },
}

/// The result of scoring one side of an assessment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreReport {
    /// Which side.
    pub side: Side,
    /// Catalog code.
    pub catalog: String,
    /// Points earned.
    pub total: Points,
    /// Applicable maximum.
    pub max: Points,
    /// Minimum total to pass.
    pub required: Points,
    /// Maximum points of the items still open (missing or invalid).
    pub open: Points,
    /// Per criterion, in catalog order.
    pub criteria: Vec<CriterionScore>,
    /// The verdict.
    pub verdict: Verdict,
    /// Every reason for it (empty on a pass).
    pub reasons: Vec<Reason>,
    /// Items whose score on this side has unresolved concurrent values.
    pub conflicts: Vec<String>,
}

/// Points for an answer under a rule.
pub fn points_for(
    rule: &ScoringRule,
    max: Points,
    answer: &Answer,
) -> Result<Points, ScoringError> {
    let found = match answer {
        Answer::Points(_) => "points",
        Answer::Met(_) => "yes/no",
        Answer::Measured(_) => "a measured value",
    };
    match (rule, answer) {
        (ScoringRule::Points, Answer::Points(points)) => {
            if *points > max {
                Err(ScoringError::AboveMax {
                    points: *points,
                    max,
                })
            } else {
                Ok(*points)
            }
        }
        (ScoringRule::YesNo, Answer::Met(met)) => Ok(if *met { max } else { Points::ZERO }),
        (ScoringRule::Bands { measure, bands }, Answer::Measured(value)) => {
            let (limit, name) = match measure {
                Measure::Percent => (100.0, "percentage"),
                Measure::Count => (f64::MAX, "count"),
            };
            if !value.is_finite() || *value < 0.0 || *value > limit {
                return Err(ScoringError::BadMeasure {
                    value: *value,
                    measure: name,
                });
            }
            // Bands are sorted highest `min` first by the catalog parser.
            Ok(bands
                .iter()
                .find(|band| *value >= band.min)
                .map_or(Points::ZERO, |band| band.points))
        }
        (rule, _) => Err(ScoringError::WrongAnswerKind {
            found,
            rule: match rule {
                ScoringRule::Points => "points",
                ScoringRule::YesNo => "yes/no",
                ScoringRule::Bands { .. } => "bands of a measured value",
            },
        }),
    }
}

/// Scores one side of an assessment against its catalog.
pub fn score(
    catalog: &Catalog,
    assessment: &AssessmentView,
    side: Side,
) -> Result<ScoreReport, ScoringError> {
    if assessment.catalog != catalog.code.as_str() {
        return Err(ScoringError::CatalogMismatch {
            catalog: catalog.code.to_string(),
            assessment: assessment.catalog.clone(),
        });
    }
    let rule = catalog.pass_rule;
    let mut criteria = Vec::with_capacity(catalog.criteria.len());
    let mut knockouts = Vec::new();
    let mut invalid = Vec::new();
    let mut missing = Vec::new();
    let mut conflicts = Vec::new();
    let mut open_by_criterion = Vec::with_capacity(catalog.criteria.len());
    for criterion in &catalog.criteria {
        let mut points = Points::ZERO;
        let mut max = Points::ZERO;
        let mut open = Points::ZERO;
        let mut items = Vec::new();
        for item in criterion.items() {
            let id = item.id().as_str();
            let entry = assessment.items.get(id);
            if entry.is_some_and(|e| e.conflicts.contains(&side)) {
                conflicts.push(id.to_string());
            }
            let outcome = if !item.applies(assessment.zone, assessment.unit_type) {
                Outcome::NotApplicable
            } else {
                max = max.saturating_add(item.max_points());
                match entry.and_then(|e| e.score(side)) {
                    None => {
                        open = open.saturating_add(item.max_points());
                        missing.push(id.to_string());
                        Outcome::Missing
                    }
                    Some(value) => {
                        match points_for(item.rule(), item.max_points(), &value.answer) {
                            Ok(earned) => {
                                points = points.saturating_add(earned);
                                if item.knockout()
                                    && earned == Points::ZERO
                                    && rule.no_failed_knockout
                                {
                                    knockouts.push(id.to_string());
                                }
                                Outcome::Scored { points: earned }
                            }
                            Err(problem) => {
                                open = open.saturating_add(item.max_points());
                                invalid.push((id.to_string(), problem.to_string()));
                                Outcome::Invalid {
                                    problem: problem.to_string(),
                                }
                            }
                        }
                    }
                }
            };
            items.push(ItemScore {
                id: id.to_string(),
                max: item.max_points(),
                knockout: item.knockout(),
                outcome,
            });
        }
        criteria.push(CriterionScore {
            id: criterion.id.to_string(),
            points,
            max,
            required: max.share_ceil(rule.criterion_min_percent),
            items,
        });
        open_by_criterion.push(open);
    }

    let total: Points = criteria.iter().map(|c| c.points).sum();
    let max: Points = criteria.iter().map(|c| c.max).sum();
    let open: Points = open_by_criterion.iter().copied().sum();
    let required = max.share_ceil(rule.total_min_percent);
    let mut reasons = Vec::new();
    // A failure is certain when even full points on every open item cannot reach the minimum.
    if total.saturating_add(open) < required {
        reasons.push(Reason::TotalBelowThreshold {
            total,
            required,
            max,
        });
    }
    for (criterion, open) in criteria.iter().zip(&open_by_criterion) {
        if criterion.points.saturating_add(*open) < criterion.required {
            reasons.push(Reason::CriterionBelowMinimum {
                criterion: criterion.id.clone(),
                points: criterion.points,
                required: criterion.required,
                max: criterion.max,
            });
        }
    }
    reasons.extend(
        knockouts
            .into_iter()
            .map(|indicator| Reason::KnockoutFailed { indicator }),
    );
    let failed = !reasons.is_empty();
    let still_open = !missing.is_empty() || !invalid.is_empty();
    reasons.extend(
        invalid
            .into_iter()
            .map(|(item, problem)| Reason::InvalidAnswer { item, problem }),
    );
    if !missing.is_empty() {
        reasons.push(Reason::Incomplete { missing });
    }
    let verdict = if failed {
        Verdict::Fail
    } else if still_open {
        Verdict::Incomplete
    } else {
        Verdict::Pass
    };
    Ok(ScoreReport {
        side,
        catalog: catalog.code.to_string(),
        total,
        max,
        required,
        open,
        criteria,
        verdict,
        reasons,
        conflicts,
    })
}

/// A local target stricter than the national rule (chỉ tiêu giao), e.g. "every ward ≥ 95/100"
/// (seed 004). Checked separately: the national verdict is unchanged by it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocalTarget {
    /// What the plan calls it.
    pub label: String,
    /// Minimum total.
    pub min_total: Points,
}

/// How a report fares against a local target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TargetOutcome {
    /// Reached.
    Met,
    /// Not reached, and cannot be with the items still open.
    Missed { total: Points, min_total: Points },
    /// Not reached yet; open items could still reach it.
    Incomplete { total: Points, min_total: Points },
}

/// Checks a report against a local target.
pub fn check_local_target(report: &ScoreReport, target: &LocalTarget) -> TargetOutcome {
    let (total, min_total) = (report.total, target.min_total);
    if total >= min_total {
        TargetOutcome::Met
    } else if total.saturating_add(report.open) < min_total {
        TargetOutcome::Missed { total, min_total }
    } else {
        TargetOutcome::Incomplete { total, min_total }
    }
}

impl fmt::Display for TargetOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetOutcome::Met => f.write_str("met"),
            TargetOutcome::Missed { total, min_total } => {
                write!(f, "missed: {total} is below {min_total}")
            }
            TargetOutcome::Incomplete { total, min_total } => {
                write!(f, "open: {total} so far, needs {min_total}")
            }
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Incomplete => "incomplete",
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::TotalBelowThreshold {
                total,
                required,
                max,
            } => {
                write!(f, "total {total}/{max} is below the required {required}")
            }
            Reason::CriterionBelowMinimum {
                criterion,
                points,
                required,
                max,
            } => {
                write!(
                    f,
                    "criterion {criterion} {points}/{max} is below its minimum {required}"
                )
            }
            Reason::KnockoutFailed { indicator } => {
                write!(f, "knockout indicator {indicator} failed")
            }
            Reason::InvalidAnswer { item, problem } => write!(f, "item {item}: {problem}"),
            Reason::Incomplete { missing } => write!(f, "not scored yet: {}", missing.join(", ")),
        }
    }
}

impl fmt::Display for ScoreReport {
    /// A compact plain-text rendering (for the CLI, logs and snapshot tests).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::SelfAssessment => "self",
            Side::Review => "review",
        };
        writeln!(
            f,
            "{side} {}: {} {}/{} (needs {})",
            self.catalog, self.verdict, self.total, self.max, self.required
        )?;
        for criterion in &self.criteria {
            write!(
                f,
                "  {} {}/{} (needs {})",
                criterion.id, criterion.points, criterion.max, criterion.required
            )?;
            let indicators =
                criterion.items.len() > 1 || criterion.items.iter().any(|i| i.id != criterion.id);
            if indicators {
                let items: Vec<String> = criterion
                    .items
                    .iter()
                    .map(|item| {
                        let ko = if item.knockout { " KO" } else { "" };
                        match &item.outcome {
                            Outcome::Scored { points } => {
                                format!("{} {points}/{}{ko}", item.id, item.max)
                            }
                            Outcome::Missing => format!("{} -/{}{ko}", item.id, item.max),
                            Outcome::Invalid { .. } => format!("{} ?/{}{ko}", item.id, item.max),
                            Outcome::NotApplicable => format!("{} n/a", item.id),
                        }
                    })
                    .collect();
                write!(f, ": {}", items.join(", "))?;
            } else if criterion
                .items
                .iter()
                .any(|i| i.outcome == Outcome::Missing)
            {
                write!(f, " not scored")?;
            }
            writeln!(f)?;
        }
        for reason in &self.reasons {
            writeln!(f, "  - {reason}")?;
        }
        if !self.conflicts.is_empty() {
            writeln!(f, "  conflicts: {}", self.conflicts.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
