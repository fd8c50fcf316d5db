//! When each demo dossier moved (kế hoạch minh họa): the dated steps of the 2024 communes and
//! wards, and of the current round relative to the day the demo is loaded.

use tramyte_shared::commune::UnitType;
use tramyte_shared::id::ItemId;
use tramyte_shared::points::Points;

use super::*;

/// How a demo assessment is made: the unit, its scores, and when each step happened.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) round: u16,
    pub(super) unit_type: UnitType,
    /// Who reviews it.
    pub(super) reviewer: &'static str,
    /// Whether two staff score TC2 offline, leaving a conflict.
    pub(super) conflict: bool,
    /// How many items a draft has scored (`None`: as many as its index, modulo the items).
    pub(super) drafted: Option<usize>,
    pub(super) state: &'static str,
    /// When self-assessment starts (unix milliseconds).
    pub(super) start: i64,
    /// Each step's time (unix milliseconds), `None` when the dossier has not got there.
    pub(super) submitted: Option<i64>,
    /// Returned (for a returned dossier) or appraised.
    pub(super) reviewed: Option<i64>,
    pub(super) approved: Option<i64>,
    pub(super) maintained: Option<i64>,
    /// Half-points below the maximum on the review side, taken one per item, or `None` for
    /// review scores spread between 80% and 100% of each item.
    pub(super) review_deduction: Option<u32>,
}

/// A demo date at `hour`:00 in Vietnam; empty is `None`.
pub(super) fn at(date: &str, hour: i64) -> Result<Option<i64>, String> {
    if date.is_empty() {
        return Ok(None);
    }
    vietnam_millis(date, hour)
        .map(Some)
        .ok_or_else(|| format!("`{date}` is not a date"))
}

pub(super) fn commune_plan(index: usize) -> Result<Plan, String> {
    let (submitted, reviewed, approved) = DATES[index];
    let dates = [submitted, reviewed, approved, ""];
    let mut plan = dated_plan(
        UnitType::Xa,
        STATES[index],
        "2024-03-04",
        index,
        dates,
        None,
    )?;
    plan.conflict = COMMUNES[index].0 == CONFLICT_COMMUNE;
    Ok(plan)
}

/// The year of `now` in Vietnam: the current round.
pub fn current_year(now: i64) -> u16 {
    crate::domain::date::vietnam_date(now)
        .get(..4)
        .and_then(|year| year.parse().ok())
        .unwrap_or(ROUND)
}

/// The plan of the current round's `index`th commune: its steps [`CURRENT_DAYS_AGO`] days
/// before `now`, none before 1 January (early in January, steps a day apart, in order).
pub(super) fn current_plan(index: usize, now: i64) -> Result<Plan, String> {
    const DAY: i64 = 86_400_000;
    let round = current_year(now);
    let year_start = vietnam_millis(&format!("{round:04}-01-01"), 8).ok_or("bad year")?;
    let (start, submitted, reviewed, approved) = CURRENT_DAYS_AGO[index];
    let at = |days: i64, step: i64| (now - days * DAY).max(year_start + step * DAY);
    let step = |days: i64, step: i64| (days > 0).then(|| at(days, step));
    Ok(Plan {
        round,
        unit_type: UnitType::Xa,
        reviewer: "demo.ttytkv",
        conflict: CURRENT_COMMUNES[index].0 == CURRENT_CONFLICT_COMMUNE,
        // Drafts in progress: some criteria scored, the latest one barely started.
        drafted: Some((index + 4) % 10),
        state: CURRENT_STATES[index],
        start: at(start, 0),
        submitted: step(submitted, 1),
        reviewed: step(reviewed, 2),
        approved: step(approved, 3),
        maintained: None,
        review_deduction: None,
    })
}

pub(super) fn ward_plan(index: usize) -> Result<Plan, String> {
    let (submitted, appraised, approved, maintained) = WARD_DATES[index];
    let dates = [submitted, appraised, approved, maintained];
    let deduction = Some(WARD_DEDUCTIONS[index]);
    dated_plan(
        UnitType::Phuong,
        WARD_STATES[index],
        "2024-03-11",
        index,
        dates,
        deduction,
    )
}

/// The plan of the `index`th commune or ward of a list: started on `first_day` plus `index`
/// days, then submitted, reviewed, approved and maintained on `dates` (empty: not yet).
pub(super) fn dated_plan(
    unit_type: UnitType,
    state: &'static str,
    first_day: &str,
    index: usize,
    [submitted, reviewed, approved, maintained]: [&str; 4],
    review_deduction: Option<u32>,
) -> Result<Plan, String> {
    let start = vietnam_millis(first_day, 8).ok_or("bad start")? + index as i64 * 86_400_000;
    Ok(Plan {
        round: ROUND,
        unit_type,
        reviewer: if unit_type == UnitType::Xa {
            "demo.ttyt"
        } else {
            "demo.ttyt.lb"
        },
        conflict: false,
        drafted: None,
        state,
        start,
        submitted: at(submitted, 9)?,
        reviewed: at(reviewed, 8)?,
        approved: at(approved, 10)?,
        maintained: at(maintained, 14)?,
        review_deduction,
    })
}

/// Item points at the maximum but for `deduction` half-points, taken one from each item (in
/// catalog order, items worth at least a point first) until none is left.
pub(super) fn deducted(items: &[(ItemId, Points)], deduction: u32) -> Vec<Points> {
    let mut points: Vec<u32> = items.iter().map(|(_, max)| max.halves()).collect();
    let mut left = deduction;
    while left > 0 {
        let before = left;
        for halves in points.iter_mut().filter(|h| **h >= 2) {
            if left == 0 {
                break;
            }
            *halves -= 1;
            left -= 1;
        }
        if left == before {
            break;
        }
    }
    points.into_iter().map(Points::from_halves).collect()
}
