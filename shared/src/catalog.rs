//! Criteria catalogs (bộ tiêu chí) as versioned data: criteria, indicators, scoring rules and
//! the pass rule. The file format is documented in `docs/catalog-format.md`.
//!
//! Architecture invariant: a [`Catalog`] only exists once it is fully valid. The single way in is
//! [`parse_catalog`], which reports every problem at once (with its location and line) and
//! accepts nothing partially; the server's import, the API and the browser's offline cache all
//! go through it.

mod line;
mod parse;
mod revision;

use serde::Serialize;

use crate::commune::{UnitType, Zone};
use crate::id::{CatalogCode, ItemId};
use crate::points::Points;

pub use parse::parse_catalog;
pub use revision::RevisionChanges;

/// The catalog file format this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The catalogs that ship with tramyte, as their JSON sources.
///
/// Only what is confirmed is shipped: `QD1300-2023` at criterion level (its indicator sheet is
/// imported by each province). `QD4667-2014` is not shipped because its criterion points are not
/// confirmed.
pub const SHIPPED_SOURCES: &[&str] = &[include_str!("../catalogs/QD1300-2023.json")];

/// The shipped catalogs, parsed. (A test checks that every shipped source parses.)
pub fn shipped_catalogs() -> Vec<Catalog> {
    SHIPPED_SOURCES
        .iter()
        .filter_map(|source| parse_catalog(source).ok())
        .collect()
}

/// A criteria set (bộ tiêu chí), e.g. `QD1300-2023`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Catalog {
    /// File format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// Code of the set, e.g. `QD1300-2023`.
    pub code: CatalogCode,
    /// Revision of this data for the same code (a province's fuller indicator sheet is a new
    /// revision); starts at 1.
    pub revision: u32,
    /// Vietnamese title.
    pub title_vi: String,
    /// English title (may be empty).
    pub title_en: String,
    /// Where the data comes from and what it leaves out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Decisions (quyết định) that issue or correct the set.
    pub decisions: Vec<Decision>,
    /// Pass rule (điều kiện đạt).
    pub pass_rule: PassRule,
    /// Criteria (tiêu chí), in order.
    pub criteria: Vec<Criterion>,
}

/// A decision (quyết định) behind a catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Number, e.g. `1300/QĐ-BYT`.
    pub number: String,
    /// Date signed, `YYYY-MM-DD`.
    pub date: String,
    /// Issuing body, e.g. `Bộ Y tế`.
    pub issuer: String,
    /// What the decision does to the set.
    pub kind: DecisionKind,
}

/// What a decision does to a criteria set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Issues the set (ban hành).
    Issued,
    /// Corrects it (đính chính).
    Correction,
    /// Amends it (sửa đổi, bổ sung).
    Amendment,
}

/// Pass rule (điều kiện đạt): all three parts must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PassRule {
    /// The total must be at least this percentage of the (applicable) maximum.
    pub total_min_percent: u32,
    /// Every criterion must score at least this percentage of its (applicable) maximum.
    pub criterion_min_percent: u32,
    /// No knockout indicator (điểm liệt) may fail.
    pub no_failed_knockout: bool,
}

/// A criterion (tiêu chí).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Criterion {
    /// Id, e.g. `TC2`.
    pub id: ItemId,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name (may be empty).
    pub name_en: String,
    /// Maximum points; equals the sum of its indicators' maxima when it has indicators.
    pub max_points: Points,
    /// Indicators (chỉ tiêu). Empty: the criterion is scored as a whole, 0 to max in steps of 0.5.
    pub indicators: Vec<Indicator>,
}

/// An indicator (chỉ tiêu) of a criterion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Indicator {
    /// Id, e.g. `1.1`; unique in the whole catalog.
    pub id: ItemId,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name (may be empty).
    pub name_en: String,
    /// Maximum points.
    pub max_points: Points,
    /// How an answer turns into points.
    pub scoring: ScoringRule,
    /// Knockout indicator (điểm liệt): scoring 0 on it fails the whole assessment.
    pub knockout: bool,
    /// Which communes the indicator applies to.
    pub applies_to: Applicability,
    /// What evidence (minh chứng) to attach, shown to the station.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_hint: Option<String>,
}

/// How an answer turns into points (cách chấm điểm).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoringRule {
    /// Free points from 0 to max in steps of 0.5.
    Points,
    /// Yes/no: all or nothing.
    YesNo,
    /// Threshold bands: a measured percentage or count gets the points of the highest band whose
    /// `min` it reaches, else 0.
    Bands {
        /// What is measured.
        measure: Measure,
        /// Bands, highest `min` first.
        bands: Vec<Band>,
    },
}

/// The free-points rule, for criteria scored as a whole.
pub static WHOLE_CRITERION_RULE: ScoringRule = ScoringRule::Points;

/// What a banded indicator measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// A percentage, 0 to 100.
    Percent,
    /// A count (people, visits, days...).
    Count,
}

/// One threshold band.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Band {
    /// The measured value must be at least this.
    pub min: f64,
    /// Points given.
    pub points: Points,
}

/// Which communes an indicator applies to (áp dụng). Not applicable indicators count neither in
/// the points nor in the maximum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Applicability {
    /// Zones (vùng) it applies to.
    pub zones: Vec<Zone>,
    /// Unit types it applies to.
    pub unit_types: Vec<UnitType>,
}

impl Default for Applicability {
    fn default() -> Self {
        Applicability {
            zones: Zone::ALL.to_vec(),
            unit_types: UnitType::ALL.to_vec(),
        }
    }
}

impl Applicability {
    /// Whether a commune of this zone and unit type is concerned.
    pub fn includes(&self, zone: Zone, unit_type: UnitType) -> bool {
        self.zones.contains(&zone) && self.unit_types.contains(&unit_type)
    }
}

/// Something an assessment scores: an indicator, or a criterion that has no indicators.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    /// The criterion it belongs to (itself when scored as a whole).
    pub criterion: &'a Criterion,
    /// The indicator, if the item is one.
    pub indicator: Option<&'a Indicator>,
}

impl<'a> Item<'a> {
    /// The id an assessment keys this item by.
    pub fn id(&self) -> &'a ItemId {
        match self.indicator {
            Some(indicator) => &indicator.id,
            None => &self.criterion.id,
        }
    }

    /// Maximum points.
    pub fn max_points(&self) -> Points {
        match self.indicator {
            Some(indicator) => indicator.max_points,
            None => self.criterion.max_points,
        }
    }

    /// The scoring rule (free points for a whole criterion).
    pub fn rule(&self) -> &'a ScoringRule {
        match self.indicator {
            Some(indicator) => &indicator.scoring,
            None => &WHOLE_CRITERION_RULE,
        }
    }

    /// Whether it is a knockout indicator.
    pub fn knockout(&self) -> bool {
        self.indicator.is_some_and(|i| i.knockout)
    }

    /// Whether it applies to a commune of this zone and unit type.
    pub fn applies(&self, zone: Zone, unit_type: UnitType) -> bool {
        self.indicator
            .is_none_or(|i| i.applies_to.includes(zone, unit_type))
    }
}

impl Criterion {
    /// The items this criterion is scored by: its indicators, or itself.
    pub fn items(&self) -> Vec<Item<'_>> {
        if self.indicators.is_empty() {
            vec![Item {
                criterion: self,
                indicator: None,
            }]
        } else {
            self.indicators
                .iter()
                .map(|indicator| Item {
                    criterion: self,
                    indicator: Some(indicator),
                })
                .collect()
        }
    }
}

impl Catalog {
    /// Every scored item, criterion by criterion.
    pub fn items(&self) -> impl Iterator<Item = Item<'_>> {
        self.criteria.iter().flat_map(Criterion::items)
    }

    /// The scored item with this id.
    pub fn item(&self, id: &str) -> Option<Item<'_>> {
        self.items().find(|item| item.id().as_str() == id)
    }

    /// The criterion with this id.
    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id.as_str() == id)
    }

    /// The sum of the criteria maxima.
    pub fn max_points(&self) -> Points {
        self.criteria.iter().map(|c| c.max_points).sum()
    }

    /// The catalog as pretty JSON in the file format (what `parse_catalog` reads back).
    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings, numbers and vectors cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// One problem found in a catalog source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatalogProblem {
    /// Where, as a path such as `criteria[2].indicators[0].max_points` (empty: the whole file).
    pub location: String,
    /// The 1-based line of that location in the source, where it could be found.
    pub line: Option<usize>,
    /// What is wrong.
    pub error: CatalogError,
}

/// What can be wrong in a catalog source.
#[derive(Clone, Debug, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CatalogError {
    #[error("not valid JSON: {message}")]
    Syntax { message: String },
    #[error("missing")]
    Missing,
    #[error("expected {expected}")]
    WrongType { expected: String },
    #[error("unknown field")]
    UnknownField,
    #[error("must not be empty")]
    Empty,
    #[error("{message}")]
    BadId { message: String },
    #[error("{message}")]
    BadPoints { message: String },
    #[error("must be more than 0")]
    ZeroPoints,
    #[error("format {found} is not supported (this version reads format {supported})")]
    UnsupportedFormat { found: u64, supported: u32 },
    #[error("id `{id}` is already used at {first}")]
    DuplicateId { id: String, first: String },
    #[error("indicator points add up to {sum}, but the criterion's max_points is {max}")]
    PointsDoNotSum { sum: Points, max: Points },
    #[error("unknown scoring kind `{found}` (expected points, yes_no or bands)")]
    UnknownRuleKind { found: String },
    #[error("unknown measure `{found}` (expected percent or count)")]
    UnknownMeasure { found: String },
    #[error("unknown decision kind `{found}` (expected issued, correction or amendment)")]
    UnknownDecisionKind { found: String },
    #[error("{value} is out of range {min} to {max}")]
    OutOfRange { value: String, min: u32, max: u32 },
    #[error("band points {points} are more than the indicator's max_points {max}")]
    BandAboveMax { points: Points, max: Points },
    #[error("no band gives the indicator's max_points {max}")]
    BandsNeverReachMax { max: Points },
    #[error("two bands have the same min {min}")]
    DuplicateBand { min: f64 },
    #[error("`{found}` is not a unit type (expected xa, phuong or dac_khu)")]
    BadUnitType { found: String },
    #[error("`{found}` is not a date written YYYY-MM-DD")]
    BadDate { found: String },
}

/// Every problem found in a catalog source; nothing of it was accepted.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
pub struct CatalogErrors {
    /// The problems, in the order they appear in the source.
    pub problems: Vec<CatalogProblem>,
}

impl std::fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.problems.len();
        write!(
            f,
            "{count} problem{} in the catalog",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for CatalogProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        let location = if self.location.is_empty() {
            "(file)"
        } else {
            &self.location
        };
        write!(f, "{location}: {}", self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_source_parses() {
        for source in SHIPPED_SOURCES {
            if let Err(errors) = parse_catalog(source) {
                panic!("{errors}");
            }
        }
        assert_eq!(shipped_catalogs().len(), SHIPPED_SOURCES.len());
    }

    #[test]
    fn qd1300_has_the_confirmed_criteria_and_pass_rule() {
        let catalogs = shipped_catalogs();
        let qd1300 = catalogs
            .iter()
            .find(|c| c.code.as_str() == "QD1300-2023")
            .unwrap();
        let points: Vec<String> = qd1300
            .criteria
            .iter()
            .map(|c| format!("{} {}", c.id, c.max_points))
            .collect();
        assert_eq!(
            points.join(", "),
            "TC1 14, TC2 10, TC3 12, TC4 9, TC5 19, TC6 12, TC7 6, TC8 11, TC9 3, TC10 4"
        );
        assert_eq!(qd1300.max_points(), Points::whole(100));
        assert_eq!(
            qd1300.pass_rule,
            PassRule {
                total_min_percent: 80,
                criterion_min_percent: 50,
                no_failed_knockout: true
            }
        );
        // Indicator wording, points and knockouts are not confirmed: none is shipped.
        assert!(qd1300.criteria.iter().all(|c| c.indicators.is_empty()));
        let numbers: Vec<&str> = qd1300.decisions.iter().map(|d| d.number.as_str()).collect();
        assert_eq!(numbers, ["1300/QĐ-BYT", "1453/QĐ-BYT"]);
    }

    #[test]
    fn serialised_catalogs_parse_back_to_the_same_value() {
        for catalog in shipped_catalogs() {
            assert_eq!(parse_catalog(&catalog.to_json()), Ok(catalog));
        }
        let fixture = parse_catalog(include_str!(
            "../tests/fixtures/test-catalog-indicators.json"
        ))
        .unwrap();
        assert_eq!(parse_catalog(&fixture.to_json()), Ok(fixture));
    }

    #[test]
    fn the_example_in_the_format_documentation_parses() {
        let doc = include_str!("../../docs/catalog-format.md");
        let example = doc
            .split("```json")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap();
        let catalog = parse_catalog(example).unwrap();
        assert_eq!(catalog.max_points(), Points::whole(10));
    }

    #[test]
    fn items_are_indicators_or_whole_criteria() {
        let fixture = parse_catalog(include_str!(
            "../tests/fixtures/test-catalog-indicators.json"
        ))
        .unwrap();
        let ids: Vec<&str> = fixture.items().map(|i| i.id().as_str()).collect();
        assert_eq!(ids, ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "C3"]);
        let c3 = fixture.item("C3").unwrap();
        assert_eq!(c3.rule(), &ScoringRule::Points);
        assert!(!c3.knockout());
        assert!(fixture.item("1.2").unwrap().knockout());
    }
}
