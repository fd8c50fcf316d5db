//! What the reviewer's charts (biểu đồ) show, computed from the overview's rows: the status
//! funnel, the distribution of totals against the pass line, each criterion's average against
//! its minimum. Pure arithmetic, so the numbers a chart draws are the numbers a test checks.

use crate::summary::CriterionPoints;
use crate::workflow::Status;

/// Whether a dossier's figures are read on the review side: once the reviewer scored anything,
/// as its verdict is ([`crate::summary::Summary::verdict_side`]).
pub fn reviewed(criteria: &[CriterionPoints]) -> bool {
    criteria.iter().any(|c| c.review_points.is_some())
}

/// A criterion's points on the side its dossier is read on ([`reviewed`]): the review's once
/// the reviewer scored anything (a criterion the reviewer has not scored yet has none), else the
/// station's.
pub fn current_points(criterion: &CriterionPoints, reviewed: bool) -> Option<f64> {
    if reviewed {
        criterion.review_points
    } else {
        criterion.self_points
    }
    .map(crate::points::Points::to_f64)
}

/// One stage of the funnel (phễu trạng thái): how many dossiers reached at least this stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunnelStage {
    /// The stage, named by the status that marks it.
    pub stage: Status,
    pub count: usize,
}

/// How many dossiers of the round reached each stage: opened (every dossier, named `Draft`),
/// submitted, appraised and approved. A returned dossier was submitted; a recognized or
/// maintained one was approved (and so appraised); a withdrawn one was approved once.
pub fn funnel(statuses: impl IntoIterator<Item = Status>) -> [FunnelStage; 4] {
    let mut counts = [0usize; 4];
    for status in statuses {
        counts[0] += 1;
        if status.counts_as_submitted() {
            counts[1] += 1;
        }
        if status == Status::Appraised || status.rests_on_an_approval() {
            counts[2] += 1;
        }
        if status.rests_on_an_approval() {
            counts[3] += 1;
        }
    }
    let stages = [
        Status::Draft,
        Status::Submitted,
        Status::Appraised,
        Status::Approved,
    ];
    std::array::from_fn(|i| FunnelStage {
        stage: stages[i],
        count: counts[i],
    })
}

/// A dossier's current total as a percentage of its applicable maximum (the sum of its
/// criteria's maxima); `None` while nothing is scored or the maximum is unknown.
pub fn total_percent(criteria: &[CriterionPoints]) -> Option<f64> {
    let max: f64 = criteria.iter().map(|c| c.max.to_f64()).sum();
    let side = reviewed(criteria);
    let scored: Vec<f64> = criteria
        .iter()
        .filter_map(|c| current_points(c, side))
        .collect();
    (max > 0.0 && !scored.is_empty()).then(|| scored.iter().sum::<f64>() * 100.0 / max)
}

/// One bar of the distribution of totals: dossiers whose total is at least `from` and below
/// `to` percent of the maximum (the last bar includes 100).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bin {
    pub from: u32,
    pub to: u32,
    pub count: usize,
}

/// Totals (percentages of the maximum) counted in bars `width` percent wide from 0 to 100.
pub fn histogram(percents: impl IntoIterator<Item = f64>, width: u32) -> Vec<Bin> {
    let width = width.clamp(1, 100);
    let bars = 100_u32.div_ceil(width);
    let mut bins: Vec<Bin> = (0..bars)
        .map(|i| Bin {
            from: i * width,
            to: ((i + 1) * width).min(100),
            count: 0,
        })
        .collect();
    for percent in percents {
        if !percent.is_finite() {
            continue;
        }
        let clamped = percent.clamp(0.0, 100.0);
        // Truncation is the binning: 74.5 % belongs to the bar from 70 to 75.
        let index = ((clamped / f64::from(width)) as usize).min(bins.len() - 1);
        bins[index].count += 1;
    }
    bins
}

/// One criterion across the dossiers of a round.
#[derive(Clone, Debug, PartialEq)]
pub struct CriterionAverage {
    /// Criterion id (`TC1`).
    pub id: String,
    /// The average of the current points of the dossiers that scored it.
    pub average: Option<f64>,
    /// The average minimum and maximum over the same dossiers (they differ only where a
    /// criterion's applicable items differ between communes).
    pub required: f64,
    pub max: f64,
    /// Dossiers that scored it.
    pub scored: usize,
    /// Of them, those below its minimum.
    pub below: usize,
}

/// Each criterion's average against its minimum, in the order the criteria first appear.
pub fn criterion_averages<'a>(
    dossiers: impl IntoIterator<Item = &'a [CriterionPoints]>,
) -> Vec<CriterionAverage> {
    struct Sums {
        points: f64,
        required: f64,
        max: f64,
        scored: usize,
        below: usize,
    }
    let mut order: Vec<(String, Sums)> = Vec::new();
    for criteria in dossiers {
        let side = reviewed(criteria);
        for criterion in criteria {
            let at = match order.iter().position(|(id, _)| *id == criterion.id) {
                Some(at) => at,
                None => {
                    order.push((
                        criterion.id.clone(),
                        Sums {
                            points: 0.0,
                            required: 0.0,
                            max: 0.0,
                            scored: 0,
                            below: 0,
                        },
                    ));
                    order.len() - 1
                }
            };
            if let Some(points) = current_points(criterion, side) {
                let sums = &mut order[at].1;
                sums.points += points;
                sums.required += criterion.required.to_f64();
                sums.max += criterion.max.to_f64();
                sums.scored += 1;
                if points < criterion.required.to_f64() {
                    sums.below += 1;
                }
            } else if order[at].1.scored == 0 {
                // Unscored everywhere so far: still show its scale.
                order[at].1.required = criterion.required.to_f64();
                order[at].1.max = criterion.max.to_f64();
            }
        }
    }
    order
        .into_iter()
        .map(|(id, sums)| {
            let n = sums.scored as f64;
            let per = |sum: f64| if sums.scored > 0 { sum / n } else { sum };
            CriterionAverage {
                id,
                average: (sums.scored > 0).then(|| sums.points / n),
                required: per(sums.required),
                max: per(sums.max),
                scored: sums.scored,
                below: sums.below,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::Points;

    fn criterion(id: &str, own: Option<u32>, review: Option<u32>) -> CriterionPoints {
        CriterionPoints {
            id: id.to_owned(),
            max: Points::whole(10),
            required: Points::whole(5),
            self_points: own.map(Points::whole),
            review_points: review.map(Points::whole),
        }
    }

    #[test]
    fn the_funnel_counts_what_reached_each_stage() {
        let stages = funnel([
            Status::Draft,
            Status::Submitted,
            Status::Returned,
            Status::Appraised,
            Status::Approved,
            Status::Recognized,
            Status::Withdrawn,
        ]);
        let counts: Vec<usize> = stages.iter().map(|s| s.count).collect();
        assert_eq!(counts, [7, 6, 4, 3]);
        assert_eq!(stages[3].stage, Status::Approved);
    }

    #[test]
    fn a_total_is_read_on_the_review_side_once_scored_there() {
        let dossier = [
            criterion("TC1", Some(8), Some(6)),
            criterion("TC2", Some(9), None),
        ];
        // 6 of 20: the reviewer scored TC1 only, and the station's 9 no longer counts.
        assert_eq!(total_percent(&dossier), Some(30.0));
        let own = [
            criterion("TC1", Some(8), None),
            criterion("TC2", Some(9), None),
        ];
        assert_eq!(total_percent(&own), Some(85.0));
        assert_eq!(total_percent(&[criterion("TC1", None, None)]), None);
    }

    #[test]
    fn totals_fall_in_their_bars_and_100_in_the_last() {
        let bins = histogram([0.0, 74.5, 75.0, 99.9, 100.0, f64::NAN, 130.0], 5);
        assert_eq!(bins.len(), 20);
        assert_eq!((bins[0].from, bins[0].to, bins[0].count), (0, 5, 1));
        assert_eq!(bins[14].count, 1, "74.5 % is in 70–75");
        assert_eq!(bins[15].count, 1, "75 % is in 75–80");
        assert_eq!((bins[19].from, bins[19].to, bins[19].count), (95, 100, 3));
        assert_eq!(
            bins.iter().map(|b| b.count).sum::<usize>(),
            6,
            "NaN is left out"
        );
        let uneven = histogram([100.0], 30);
        assert_eq!(
            uneven.iter().map(|b| (b.from, b.to)).collect::<Vec<_>>(),
            [(0, 30), (30, 60), (60, 90), (90, 100)]
        );
        assert_eq!(uneven[3].count, 1);
    }

    #[test]
    fn averages_count_only_the_dossiers_that_scored_a_criterion() {
        let a = [
            criterion("TC1", Some(8), None),
            criterion("TC2", None, None),
        ];
        let b = [
            criterion("TC1", Some(9), Some(3)),
            criterion("TC2", None, None),
        ];
        let averages = criterion_averages([&a[..], &b[..]]);
        assert_eq!(averages.len(), 2);
        assert_eq!(averages[0].id, "TC1");
        assert_eq!(
            averages[0].average,
            Some(5.5),
            "(8 + 3) / 2: the review counts"
        );
        assert_eq!((averages[0].scored, averages[0].below), (2, 1));
        assert_eq!((averages[0].required, averages[0].max), (5.0, 10.0));
        assert_eq!(averages[1].average, None);
        assert_eq!((averages[1].required, averages[1].max), (5.0, 10.0));
    }
}
