//! The reviewer's overview of a round (`GET /api/overview?round=2024`): every assessment of the
//! round in the caller's scope, from the summary rows (never the documents), with counts by
//! status and verdict and progress against the year's targets (e.g. 9 of 13 communes approved).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use tramyte_shared::workflow::{Status, StatusChange, status_at};

use crate::domain::collation;
use crate::domain::summary::{self, ListError, ListedArray, OrderedListing, RowFacts};
use crate::domain::target::TargetError;
use crate::store::{Store, round_view};

/// A reviewing unit and the communes its coverage includes (a REST type).
pub use tramyte_shared::rest::CoveringUnit;
/// Progress against the year's targets at the end of one month (a REST type).
pub use tramyte_shared::rest::MonthProgress;
/// Progress of one reviewing unit against one kind of target (a REST type).
pub use tramyte_shared::rest::TargetProgress;

/// The overview of one round: the documents travel as the JSON their summary rows hold.
pub type Overview = tramyte_shared::rest::Overview<ListedArray>;

/// Why the overview could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    Targets(#[from] TargetError),
}

/// The overview of `round` in the scope of user `scope_of` (`None`: every commune).
pub async fn overview(
    store: &Store,
    round: u16,
    scope_of: Option<String>,
) -> Result<Overview, OverviewError> {
    let scope = scope_of.as_deref();
    // The listing (which also counts its rows by status and verdict, and gives each one's
    // state for the targets), the targets' places and the units are independent reads, made
    // at once on separate connections. The communes come in Vietnamese order (the desk's
    // default), so no device ranks them.
    let (listed, slots, units) = futures_util::future::join3(
        summary::list_json_by(store, i32::from(round), scope, collation::cached_sort_key),
        round_view::target_slots(store, i32::from(round), scope),
        covering_units(store, scope),
    )
    .await;
    let listed = listed?;
    let targets = target_progress(&slots.map_err(ListError::from)?, &listed);
    let units = units?;
    let mut by_status = BTreeMap::new();
    let mut by_verdict = BTreeMap::new();
    let mut with_conflicts = 0;
    for ((status, verdict, conflicted), n) in listed.tally {
        let none = || "none".to_owned();
        *by_status.entry(status.unwrap_or_else(none)).or_insert(0) += n;
        *by_verdict.entry(verdict.unwrap_or_else(none)).or_insert(0) += n;
        if conflicted {
            with_conflicts += n;
        }
    }
    Ok(Overview {
        round,
        count: listed.rows,
        documents: listed.array,
        by_status,
        by_verdict,
        with_conflicts,
        targets,
        units,
    })
}

/// The reviewing units whose coverage includes communes in the scope of user `scope_of`
/// (`None`: every commune), each with those communes, by unit code: the desk filters its rows
/// by unit (after the 2025 reform a commune sits under its province and is reviewed by a
/// regional health centre, so a unit's communes are its coverage, not a subtree of the listing).
pub async fn covering_units(
    store: &Store,
    scope_of: Option<&str>,
) -> Result<Vec<CoveringUnit>, ListError> {
    let rows = crate::store::unit::reviewing_coverage(store, scope_of)
        .await
        .map_err(ListError::from)?;
    Ok(rows
        .into_iter()
        .map(|(code, name, communes)| CoveringUnit {
            code,
            name,
            communes,
        })
        .collect())
}

/// Progress against the targets of a year per unit and kind, sorted by both, from the places
/// of their communes' assessments (`slots`, [`round_view::target_slots`]) and those
/// assessments' states as the round's listing read them (`listed`): a target's commune is
/// approved when its assessment's status counts as approved, passing when its verdict passes
/// and its decisive total reaches the target's local minimum, if any. A place whose assessment
/// is not in the listing counts as opened, neither approved nor passing.
pub fn target_progress(
    slots: &[round_view::SlotsRow],
    listed: &OrderedListing,
) -> Vec<TargetProgress> {
    let states: Vec<(bool, bool)> = listed
        .tally
        .iter()
        .map(|((status, verdict, _), _)| {
            (
                status
                    .as_deref()
                    .is_some_and(Status::name_counts_as_approved),
                verdict.as_deref() == Some("pass"),
            )
        })
        .collect();
    let by_id: HashMap<&str, &RowFacts> = listed.facts.iter().map(|f| (f.id.as_str(), f)).collect();
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    slots
        .iter()
        .map(|(unit, kind, communes, places)| {
            let mut progress = TargetProgress {
                unit: unit.clone(),
                kind: kind.clone(),
                communes: count(*communes),
                approved: 0,
                not_opened: count(*communes),
                passing: 0,
            };
            for place in places
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter(|p| !p.is_empty())
            {
                progress.not_opened = progress.not_opened.saturating_sub(1);
                let (document, local_min) = place.split_once(' ').unwrap_or((place, "-"));
                let Some(facts) = by_id.get(document) else {
                    continue;
                };
                let (approved, passes) = states.get(facts.state).copied().unwrap_or_default();
                if approved {
                    progress.approved += 1;
                }
                // The total is read from the row's object, for the few targets with a minimum.
                let local_min = local_min.parse::<f64>().ok();
                if passes
                    && reaches_local_minimum(local_min, || decisive_total(listed.object(facts)))
                {
                    progress.passing += 1;
                }
            }
            progress
        })
        .collect()
}

/// The decisive total of a listed row's object: the review's, else the self-assessment's.
fn decisive_total(object: &str) -> Option<f64> {
    #[derive(Deserialize)]
    struct Totals {
        self_total: Option<f64>,
        review_total: Option<f64>,
    }
    let totals: Totals = serde_json::from_str(object).ok()?;
    totals.review_total.or(totals.self_total)
}

pub use crate::store::round_view::TargetRow;

/// Progress against the targets of year `round` in the scope of user `scope_of` month by month:
/// for every month of the year that has begun by `now` (unix milliseconds), the communes with a
/// target and those approved as the statuses stood at the month's end (or now, for the current
/// month), summed over units and kinds.
pub async fn target_progress_by_month(
    store: &Store,
    round: u16,
    scope_of: Option<&str>,
    now: i64,
) -> Result<Vec<MonthProgress>, ListError> {
    let rows = round_view::targets_with_assessments(store, i32::from(round), scope_of).await?;
    let year = i64::from(round);
    let mut months = Vec::new();
    for month in 1..=12u8 {
        let start = crate::domain::date::vietnam_midnight(year, i64::from(month), 1);
        if start > now {
            break;
        }
        let (next_year, next_month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, i64::from(month) + 1)
        };
        let end = (crate::domain::date::vietnam_midnight(next_year, next_month, 1) - 1).min(now);
        let tallied = tally_targets(&rows, end);
        months.push(MonthProgress {
            month,
            communes: tallied.iter().map(|t| t.communes).sum(),
            approved: tallied.iter().map(|t| t.approved).sum(),
        });
    }
    Ok(months)
}

/// Progress against the targets of year `round` as the statuses stood at `cutoff` (unix
/// milliseconds; see [`tramyte_shared::workflow::status_at`]): what a report of a past period
/// shows. Verdicts and totals are the current ones. With a cutoff after every change it counts
/// what [`target_progress`] counts.
pub async fn target_progress_at(
    store: &Store,
    round: u16,
    scope_of: Option<&str>,
    cutoff: i64,
) -> Result<Vec<TargetProgress>, ListError> {
    let year = i32::from(round);
    let rows = round_view::targets_with_assessments(store, year, scope_of).await?;
    Ok(tally_targets(&rows, cutoff))
}

/// The status of a summary row at `cutoff`, from its stored history (JSON); the current status
/// when the row has no history yet (written before the column, not yet backfilled).
pub fn status_at_cutoff(
    status: Option<&str>,
    history: Option<&str>,
    cutoff: i64,
) -> Option<String> {
    let history = history.and_then(|h| serde_json::from_str::<Vec<HistoryEntry>>(h).ok());
    match (status, history) {
        (Some(_), Some(history)) => {
            let changes: Vec<StatusChange> = history
                .into_iter()
                .filter_map(|entry| {
                    Some(StatusChange {
                        at: entry.at,
                        status: Status::parse(&entry.status)?,
                    })
                })
                .collect();
            Some(status_at(&changes, cutoff).name().to_owned())
        }
        (status, _) => status.map(str::to_owned),
    }
}

/// A stored [`StatusChange`].
#[derive(Debug, Deserialize)]
struct HistoryEntry {
    at: i64,
    status: String,
}

/// Counts progress per unit and kind (rows sorted by both), statuses taken at `cutoff`.
pub fn tally_targets(rows: &[TargetRow], cutoff: i64) -> Vec<TargetProgress> {
    let mut progress: Vec<TargetProgress> = Vec::new();
    for (unit, kind, local_min, document, status, history, verdict, total) in rows {
        let at = match progress.last_mut() {
            Some(last) if last.unit == *unit && last.kind == *kind => last,
            _ => {
                progress.push(TargetProgress {
                    unit: unit.clone(),
                    kind: kind.clone(),
                    communes: 0,
                    approved: 0,
                    not_opened: 0,
                    passing: 0,
                });
                progress.last_mut().expect("just pushed")
            }
        };
        at.communes += 1;
        let status = status_at_cutoff(status.as_deref(), history.as_deref(), cutoff);
        if status
            .as_deref()
            .is_some_and(tramyte_shared::workflow::Status::name_counts_as_approved)
        {
            at.approved += 1;
        }
        if document.is_none() {
            at.not_opened += 1;
        }
        if verdict.as_deref() == Some("pass") && reaches_local_minimum(*local_min, || *total) {
            at.passing += 1;
        }
    }
    progress
}

/// Whether an assessment's decisive total (`total`, asked for only when needed) reaches a
/// target's local minimum; without one, the national rule (its verdict) alone decides.
fn reaches_local_minimum(local_min: Option<f64>, total: impl FnOnce() -> Option<f64>) -> bool {
    local_min.is_none_or(|min| total().is_some_and(|total| total >= min))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_count_their_communes_assessments_as_the_listing_read_them() {
        let owned = |text: &str| Some(text.to_owned());
        // Four listed rows (objects trimmed to what the targets read), their states and places.
        let objects = [
            ("a", 0, r#"{"id":"a","self_total":90,"review_total":96}"#),
            ("b", 0, r#"{"id":"b","self_total":97,"review_total":90.5}"#),
            ("c", 1, r#"{"id":"c","self_total":99,"review_total":null}"#),
            (
                "d",
                2,
                r#"{"id":"d","self_total":null,"review_total":null}"#,
            ),
        ];
        let mut array = String::from("[");
        let mut facts = Vec::new();
        for (index, (id, state, object)) in objects.into_iter().enumerate() {
            if index > 0 {
                array.push(',');
            }
            let start = array.len();
            array.push_str(object);
            facts.push(RowFacts {
                id: id.to_owned(),
                state,
                object: start..array.len(),
            });
        }
        array.push(']');
        let listed = OrderedListing {
            array: ListedArray::from_text(&array),
            rows: 4,
            tally: vec![
                ((owned("approved"), owned("pass"), false), 2),
                ((owned("recognized"), owned("fail"), true), 1),
                ((owned("submitted"), owned("pass"), false), 1),
            ],
            facts,
        };
        let slots = vec![
            // Reach: a's review meets the local 95, b's review does not (its self score would);
            // d passes without a minimum; e is not in the listing (opened, nothing more); one
            // commune has no assessment yet.
            (
                "TTYT".to_owned(),
                "reach".to_owned(),
                5,
                owned("a 95,b 95.0,d -,e -"),
            ),
            // Maintain: c is approved (recognized) but fails its verdict.
            ("TTYT".to_owned(), "maintain".to_owned(), 1, owned("c -")),
            // A unit none of whose communes has an assessment.
            ("KV".to_owned(), "reach".to_owned(), 2, None),
        ];
        let row =
            |unit: &str, kind: &str, communes, approved, not_opened, passing| TargetProgress {
                unit: unit.to_owned(),
                kind: kind.to_owned(),
                communes,
                approved,
                not_opened,
                passing,
            };
        assert_eq!(
            target_progress(&slots, &listed),
            vec![
                row("TTYT", "reach", 5, 2, 1, 2),
                row("TTYT", "maintain", 1, 1, 0, 0),
                row("KV", "reach", 2, 0, 2, 0),
            ]
        );
        assert_eq!(decisive_total(listed.object(&listed.facts[2])), Some(99.0));
        assert_eq!(decisive_total(listed.object(&listed.facts[3])), None);
    }
}
