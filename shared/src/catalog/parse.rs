//! Reading and validating a catalog source: every problem at once, nothing accepted partially.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::line::LineIndex;
use super::{
    Applicability, Band, Catalog, CatalogError, CatalogErrors, CatalogProblem, Criterion, Decision,
    DecisionKind, FORMAT_VERSION, Indicator, Measure, PassRule, ScoringRule,
};
use crate::commune::{UnitType, Zone};
use crate::id::{CatalogCode, ItemId};
use crate::points::Points;

/// Parses and validates a catalog from its JSON source.
///
/// On failure, returns every problem found, each with its location (e.g.
/// `criteria[2].indicators[0].max_points`) and line.
pub fn parse_catalog(source: &str) -> Result<Catalog, CatalogErrors> {
    let value: Value = match serde_json::from_str(source) {
        Ok(value) => value,
        Err(e) => {
            return Err(CatalogErrors {
                problems: vec![CatalogProblem {
                    location: String::new(),
                    line: Some(e.line()),
                    error: CatalogError::Syntax {
                        message: e.to_string(),
                    },
                }],
            });
        }
    };
    let mut walker = Walker::default();
    let catalog = walker.catalog(&value);
    if walker.problems.is_empty()
        && let Some(catalog) = catalog
    {
        return Ok(catalog);
    }
    let lines = LineIndex::build(source);
    let mut problems: Vec<CatalogProblem> = walker
        .problems
        .into_iter()
        .map(|(location, error)| CatalogProblem {
            line: lines.line_of(&location),
            location,
            error,
        })
        .collect();
    // In file order (stable, so problems on one line keep the order they were found in).
    problems.sort_by_key(|p| p.line);
    Err(CatalogErrors { problems })
}

/// Walks the JSON value, collecting problems with their paths and building what it can.
#[derive(Default)]
struct Walker {
    problems: Vec<(String, CatalogError)>,
    /// Where each item id was first seen.
    ids: HashMap<String, String>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn wrong_type(expected: &str) -> CatalogError {
    CatalogError::WrongType {
        expected: expected.to_string(),
    }
}

impl Walker {
    fn problem(&mut self, path: String, error: CatalogError) {
        self.problems.push((path, error));
    }

    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(object) = value.as_object() else {
            self.problem(path.to_string(), wrong_type("an object"));
            return None;
        };
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                self.problem(join(path, key), CatalogError::UnknownField);
            }
        }
        Some(object)
    }

    /// A required field; reports it missing.
    fn field<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let value = object.get(key);
        if value.is_none() {
            self.problem(join(path, key), CatalogError::Missing);
        }
        value
    }

    fn string(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<String> {
        let value = if required {
            self.field(object, path, key)?
        } else {
            object.get(key)?
        };
        match value.as_str() {
            Some(s) if required && s.trim().is_empty() => {
                self.problem(join(path, key), CatalogError::Empty);
                None
            }
            Some(s) => Some(s.to_string()),
            None => {
                self.problem(join(path, key), wrong_type("a string"));
                None
            }
        }
    }

    fn optional_string(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<String> {
        self.string(object, path, key, false)
            .filter(|s| !s.trim().is_empty())
    }

    fn item_id(&mut self, object: &Map<String, Value>, path: &str) -> Option<ItemId> {
        let text = self.string(object, path, "id", true)?;
        let location = join(path, "id");
        match ItemId::parse(&text) {
            Ok(id) => {
                if let Some(first) = self.ids.get(id.as_str()) {
                    let first = first.clone();
                    self.problem(location, CatalogError::DuplicateId { id: text, first });
                } else {
                    self.ids.insert(text, location);
                }
                Some(id)
            }
            Err(e) => {
                self.problem(
                    location,
                    CatalogError::BadId {
                        message: e.to_string(),
                    },
                );
                None
            }
        }
    }

    fn points(&mut self, value: &Value, path: String) -> Option<Points> {
        let Some(number) = value.as_f64() else {
            self.problem(path, wrong_type("a number"));
            return None;
        };
        match Points::from_f64(number) {
            Ok(points) => Some(points),
            Err(e) => {
                self.problem(
                    path,
                    CatalogError::BadPoints {
                        message: e.to_string(),
                    },
                );
                None
            }
        }
    }

    /// Required positive max points.
    fn max_points(&mut self, object: &Map<String, Value>, path: &str) -> Option<Points> {
        let value = self.field(object, path, "max_points")?;
        let points = self.points(value, join(path, "max_points"))?;
        if points == Points::ZERO {
            self.problem(join(path, "max_points"), CatalogError::ZeroPoints);
            return None;
        }
        Some(points)
    }

    fn integer(&mut self, value: &Value, path: String, min: u32, max: u32) -> Option<u32> {
        let Some(number) = value.as_u64().or_else(|| value.as_i64().map(|_| u64::MAX)) else {
            self.problem(path, wrong_type("a whole number"));
            return None;
        };
        match u32::try_from(number) {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let shown = value.to_string();
                self.problem(
                    path,
                    CatalogError::OutOfRange {
                        value: shown,
                        min,
                        max,
                    },
                );
                None
            }
        }
    }

    fn bool(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        default: bool,
    ) -> Option<bool> {
        match object.get(key) {
            None => Some(default),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.problem(join(path, key), wrong_type("true or false"));
                None
            }
        }
    }

    fn array<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Vec<Value>> {
        let value = if required {
            self.field(object, path, key)?
        } else {
            object.get(key)?
        };
        let array = value.as_array();
        if array.is_none() {
            self.problem(join(path, key), wrong_type("a list"));
        }
        array
    }

    fn catalog(&mut self, value: &Value) -> Option<Catalog> {
        let allowed = [
            "format",
            "code",
            "revision",
            "title_vi",
            "title_en",
            "note",
            "decisions",
            "pass_rule",
            "criteria",
        ];
        let object = self.object(value, "", &allowed)?;
        let format = match self.field(object, "", "format") {
            Some(v) => match v.as_u64() {
                Some(n) if n == u64::from(FORMAT_VERSION) => Some(FORMAT_VERSION),
                Some(n) => {
                    self.problem(
                        "format".to_string(),
                        CatalogError::UnsupportedFormat {
                            found: n,
                            supported: FORMAT_VERSION,
                        },
                    );
                    None
                }
                None => {
                    self.problem("format".to_string(), wrong_type("a whole number"));
                    None
                }
            },
            None => None,
        };
        let code = self.string(object, "", "code", true).and_then(|text| {
            CatalogCode::parse(&text)
                .map_err(|e| {
                    self.problem(
                        "code".to_string(),
                        CatalogError::BadId {
                            message: e.to_string(),
                        },
                    )
                })
                .ok()
        });
        let revision = match object.get("revision") {
            None => Some(1),
            Some(v) => self.integer(v, "revision".to_string(), 1, u32::MAX),
        };
        let title_vi = self.string(object, "", "title_vi", true);
        let title_en = self
            .optional_string(object, "", "title_en")
            .unwrap_or_default();
        let note = self.optional_string(object, "", "note");
        let decisions = self.decisions(object);
        let pass_rule = self
            .field(object, "", "pass_rule")
            .and_then(|v| self.pass_rule(v));
        let criteria = self.criteria(object);
        Some(Catalog {
            format: format?,
            code: code?,
            revision: revision?,
            title_vi: title_vi?,
            title_en,
            note,
            decisions: decisions?,
            pass_rule: pass_rule?,
            criteria: criteria?,
        })
    }

    fn decisions(&mut self, object: &Map<String, Value>) -> Option<Vec<Decision>> {
        let Some(list) = self.array(object, "", "decisions", false) else {
            return (!object.contains_key("decisions")).then(Vec::new);
        };
        let mut decisions = Vec::new();
        let mut complete = true;
        for (i, value) in list.iter().enumerate() {
            let path = format!("decisions[{i}]");
            let decision = self.decision(value, &path);
            complete &= decision.is_some();
            decisions.extend(decision);
        }
        complete.then_some(decisions)
    }

    fn decision(&mut self, value: &Value, path: &str) -> Option<Decision> {
        let object = self.object(value, path, &["number", "date", "issuer", "kind"])?;
        let number = self.string(object, path, "number", true);
        let date = self.string(object, path, "date", true).and_then(|date| {
            if is_iso_date(&date) {
                Some(date)
            } else {
                self.problem(join(path, "date"), CatalogError::BadDate { found: date });
                None
            }
        });
        let issuer = self
            .optional_string(object, path, "issuer")
            .unwrap_or_default();
        let kind = self
            .string(object, path, "kind", true)
            .and_then(|kind| match kind.as_str() {
                "issued" => Some(DecisionKind::Issued),
                "correction" => Some(DecisionKind::Correction),
                "amendment" => Some(DecisionKind::Amendment),
                _ => {
                    self.problem(
                        join(path, "kind"),
                        CatalogError::UnknownDecisionKind { found: kind },
                    );
                    None
                }
            });
        Some(Decision {
            number: number?,
            date: date?,
            issuer,
            kind: kind?,
        })
    }

    fn pass_rule(&mut self, value: &Value) -> Option<PassRule> {
        let path = "pass_rule";
        let allowed = [
            "total_min_percent",
            "criterion_min_percent",
            "no_failed_knockout",
        ];
        let object = self.object(value, path, &allowed)?;
        let total = self
            .field(object, path, "total_min_percent")
            .and_then(|v| self.integer(v, join(path, "total_min_percent"), 1, 100));
        let criterion = self
            .field(object, path, "criterion_min_percent")
            .and_then(|v| self.integer(v, join(path, "criterion_min_percent"), 0, 100));
        let knockout = self.bool(object, path, "no_failed_knockout", true);
        Some(PassRule {
            total_min_percent: total?,
            criterion_min_percent: criterion?,
            no_failed_knockout: knockout?,
        })
    }

    fn criteria(&mut self, object: &Map<String, Value>) -> Option<Vec<Criterion>> {
        let list = self.array(object, "", "criteria", true)?;
        if list.is_empty() {
            self.problem("criteria".to_string(), CatalogError::Empty);
            return None;
        }
        let mut criteria = Vec::new();
        let mut complete = true;
        for (i, value) in list.iter().enumerate() {
            let criterion = self.criterion(value, &format!("criteria[{i}]"));
            complete &= criterion.is_some();
            criteria.extend(criterion);
        }
        complete.then_some(criteria)
    }

    fn criterion(&mut self, value: &Value, path: &str) -> Option<Criterion> {
        let allowed = ["id", "name_vi", "name_en", "max_points", "indicators"];
        let object = self.object(value, path, &allowed)?;
        let id = self.item_id(object, path);
        let name_vi = self.string(object, path, "name_vi", true);
        let name_en = self
            .optional_string(object, path, "name_en")
            .unwrap_or_default();
        let max_points = self.max_points(object, path);
        let mut indicators = Vec::new();
        let mut complete = true;
        // The indicators' maxima, when every one of them is readable (for the sum check).
        let mut maxima: Option<Vec<Points>> = Some(Vec::new());
        if let Some(list) = self.array(object, path, "indicators", false) {
            for (i, value) in list.iter().enumerate() {
                let max = value
                    .get("max_points")
                    .and_then(Value::as_f64)
                    .and_then(|m| Points::from_f64(m).ok());
                maxima = maxima.zip(max).map(|(mut all, max)| {
                    all.push(max);
                    all
                });
                let indicator = self.indicator(value, &format!("{path}.indicators[{i}]"));
                complete &= indicator.is_some();
                indicators.extend(indicator);
            }
        } else {
            complete &= !object.contains_key("indicators");
        }
        if let (Some(max), Some(maxima)) = (max_points, maxima)
            && !maxima.is_empty()
        {
            let sum: Points = maxima.into_iter().sum();
            if sum != max {
                self.problem(
                    join(path, "max_points"),
                    CatalogError::PointsDoNotSum { sum, max },
                );
            }
        }
        if !complete {
            return None;
        }
        Some(Criterion {
            id: id?,
            name_vi: name_vi?,
            name_en,
            max_points: max_points?,
            indicators,
        })
    }

    fn indicator(&mut self, value: &Value, path: &str) -> Option<Indicator> {
        let allowed = [
            "id",
            "name_vi",
            "name_en",
            "max_points",
            "scoring",
            "knockout",
            "applies_to",
            "evidence_hint",
        ];
        let object = self.object(value, path, &allowed)?;
        let id = self.item_id(object, path);
        let name_vi = self.string(object, path, "name_vi", true);
        let name_en = self
            .optional_string(object, path, "name_en")
            .unwrap_or_default();
        let max_points = self.max_points(object, path);
        let scoring = self
            .field(object, path, "scoring")
            .and_then(|v| self.scoring(v, &join(path, "scoring"), max_points));
        let knockout = self.bool(object, path, "knockout", false);
        let applies_to = match object.get("applies_to") {
            None => Some(Applicability::default()),
            Some(v) => self.applicability(v, &join(path, "applies_to")),
        };
        let evidence_hint = self.optional_string(object, path, "evidence_hint");
        Some(Indicator {
            id: id?,
            name_vi: name_vi?,
            name_en,
            max_points: max_points?,
            scoring: scoring?,
            knockout: knockout?,
            applies_to: applies_to?,
            evidence_hint,
        })
    }

    fn scoring(&mut self, value: &Value, path: &str, max: Option<Points>) -> Option<ScoringRule> {
        let object = self.object(value, path, &["kind", "measure", "bands"])?;
        let kind = self.string(object, path, "kind", true)?;
        let extra = |key: &str| object.contains_key(key);
        match kind.as_str() {
            "points" | "yes_no" => {
                for key in ["measure", "bands"] {
                    if extra(key) {
                        self.problem(join(path, key), CatalogError::UnknownField);
                    }
                }
                if extra("measure") || extra("bands") {
                    return None;
                }
                Some(if kind == "points" {
                    ScoringRule::Points
                } else {
                    ScoringRule::YesNo
                })
            }
            "bands" => {
                let measure =
                    self.string(object, path, "measure", true)
                        .and_then(|m| match m.as_str() {
                            "percent" => Some(Measure::Percent),
                            "count" => Some(Measure::Count),
                            _ => {
                                self.problem(
                                    join(path, "measure"),
                                    CatalogError::UnknownMeasure { found: m },
                                );
                                None
                            }
                        });
                let bands = self.bands(object, path, measure, max);
                Some(ScoringRule::Bands {
                    measure: measure?,
                    bands: bands?,
                })
            }
            _ => {
                self.problem(
                    join(path, "kind"),
                    CatalogError::UnknownRuleKind { found: kind },
                );
                None
            }
        }
    }

    fn bands(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        measure: Option<Measure>,
        max: Option<Points>,
    ) -> Option<Vec<Band>> {
        let list = self.array(object, path, "bands", true)?;
        if list.is_empty() {
            self.problem(join(path, "bands"), CatalogError::Empty);
            return None;
        }
        let mut bands: Vec<Band> = Vec::new();
        let mut complete = true;
        for (i, value) in list.iter().enumerate() {
            let band_path = format!("{path}.bands[{i}]");
            let Some(band) = self.object(value, &band_path, &["min", "points"]) else {
                complete = false;
                continue;
            };
            let min = self.field(band, &band_path, "min").and_then(|v| {
                let min_path = join(&band_path, "min");
                let limit = if measure == Some(Measure::Percent) {
                    100
                } else {
                    u32::MAX
                };
                match v.as_f64() {
                    Some(m) if m.is_finite() && m >= 0.0 && m <= f64::from(limit) => Some(m),
                    Some(_) => {
                        let value = v.to_string();
                        self.problem(
                            min_path,
                            CatalogError::OutOfRange {
                                value,
                                min: 0,
                                max: limit,
                            },
                        );
                        None
                    }
                    None => {
                        self.problem(min_path, wrong_type("a number"));
                        None
                    }
                }
            });
            let points = self
                .field(band, &band_path, "points")
                .and_then(|v| self.points(v, join(&band_path, "points")));
            if let (Some(points), Some(max)) = (points, max)
                && points > max
            {
                self.problem(
                    join(&band_path, "points"),
                    CatalogError::BandAboveMax { points, max },
                );
                complete = false;
            }
            if let Some(min) = min
                && bands.iter().any(|b| b.min == min)
            {
                self.problem(join(&band_path, "min"), CatalogError::DuplicateBand { min });
                complete = false;
            }
            match (min, points) {
                (Some(min), Some(points)) => bands.push(Band { min, points }),
                _ => complete = false,
            }
        }
        if !complete {
            return None;
        }
        if let Some(max) = max
            && !bands.iter().any(|b| b.points == max)
        {
            self.problem(
                join(path, "bands"),
                CatalogError::BandsNeverReachMax { max },
            );
            return None;
        }
        bands.sort_by(|a, b| b.min.total_cmp(&a.min));
        Some(bands)
    }

    fn applicability(&mut self, value: &Value, path: &str) -> Option<Applicability> {
        let object = self.object(value, path, &["zones", "unit_types"])?;
        let mut result = Applicability::default();
        let mut complete = true;
        if let Some(list) = self.array(object, path, "zones", false) {
            let mut zones = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let zone_path = format!("{path}.zones[{i}]");
                match v.as_i64().map(Zone::new) {
                    Some(Ok(zone)) => zones.push(zone),
                    _ => {
                        let value = v.to_string();
                        self.problem(
                            zone_path,
                            CatalogError::OutOfRange {
                                value,
                                min: 1,
                                max: 3,
                            },
                        );
                        complete = false;
                    }
                }
            }
            if list.is_empty() {
                self.problem(join(path, "zones"), CatalogError::Empty);
                complete = false;
            }
            zones.sort();
            zones.dedup();
            result.zones = zones;
        } else {
            complete &= !object.contains_key("zones");
        }
        if let Some(list) = self.array(object, path, "unit_types", false) {
            let mut units = Vec::new();
            for (i, v) in list.iter().enumerate() {
                match v.as_str().map(UnitType::parse) {
                    Some(Ok(unit)) => units.push(unit),
                    _ => {
                        let found = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        self.problem(
                            format!("{path}.unit_types[{i}]"),
                            CatalogError::BadUnitType { found },
                        );
                        complete = false;
                    }
                }
            }
            if list.is_empty() {
                self.problem(join(path, "unit_types"), CatalogError::Empty);
                complete = false;
            }
            units.sort();
            units.dedup();
            result.unit_types = units;
        } else {
            complete &= !object.contains_key("unit_types");
        }
        complete.then_some(result)
    }
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_iso_date(s: &str) -> bool {
    let bytes = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range.clone())
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
            && s.get(range).and_then(|t| t.parse::<u32>().ok()).is_some()
    };
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return false;
    }
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let number = |range| {
        s.get(range)
            .and_then(|t: &str| t.parse::<u32>().ok())
            .unwrap_or(0)
    };
    (1..=12).contains(&number(5..7)) && (1..=31).contains(&number(8..10))
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(source: &str, expected: Expect) {
        let actual = match parse_catalog(source) {
            Ok(catalog) => format!("ok: {} ({} criteria)", catalog.code, catalog.criteria.len()),
            Err(errors) => errors.to_string(),
        };
        expected.assert_eq(&actual);
    }

    #[test]
    fn accepts_the_test_fixture() {
        check(
            include_str!("../../tests/fixtures/test-catalog-indicators.json"),
            expect![[r#"ok: TEST-INDICATORS (3 criteria)"#]],
        );
    }

    #[test]
    fn reports_a_syntax_error_with_its_line() {
        check(
            "{\n  \"format\": 1,\n  \"code\": \n}",
            expect![[r#"
                1 problem in the catalog
                  line 4: (file): not valid JSON: expected value at line 4 column 1"#]],
        );
    }

    #[test]
    fn reports_every_problem_at_once_with_locations_and_lines() {
        let source = r#"{
  "format": 1,
  "code": "TEST-BROKEN",
  "title_vi": "TEST hỏng",
  "colour": "red",
  "decisions": [{ "number": "1/QĐ", "date": "2023-13-01", "kind": "issued" }],
  "pass_rule": { "total_min_percent": 120, "criterion_min_percent": 50 },
  "criteria": [
    {
      "id": "C1",
      "name_vi": "TEST 1",
      "max_points": 10,
      "indicators": [
        { "id": "1.1", "name_vi": "a", "max_points": 4, "scoring": { "kind": "points" } },
        { "id": "1.1", "name_vi": "b", "max_points": 2.3, "scoring": { "kind": "guess" } },
        { "id": "1.3", "name_vi": "c", "max_points": 3, "scoring": { "kind": "bands", "measure": "percent",
          "bands": [ { "min": 150, "points": 3 }, { "min": 50, "points": 4 } ] } }
      ]
    },
    {
      "id": "C2",
      "name_vi": "",
      "max_points": 5,
      "indicators": [
        { "id": "2 1", "name_vi": "d", "max_points": 2, "scoring": { "kind": "yes_no" },
          "applies_to": { "zones": [1, 4], "unit_types": ["thi_tran"] } },
        { "id": "2.2", "name_vi": "e", "max_points": 2, "scoring": { "kind": "yes_no" } }
      ]
    }
  ]
}"#;
        check(
            source,
            expect![[r#"
                13 problems in the catalog
                  line 5: colour: unknown field
                  line 6: decisions[0].date: `2023-13-01` is not a date written YYYY-MM-DD
                  line 7: pass_rule.total_min_percent: 120 is out of range 1 to 100
                  line 15: criteria[0].indicators[1].id: id `1.1` is already used at criteria[0].indicators[0].id
                  line 15: criteria[0].indicators[1].max_points: 2.3 is not a multiple of 0.5
                  line 15: criteria[0].indicators[1].scoring.kind: unknown scoring kind `guess` (expected points, yes_no or bands)
                  line 17: criteria[0].indicators[2].scoring.bands[0].min: 150 is out of range 0 to 100
                  line 17: criteria[0].indicators[2].scoring.bands[1].points: band points 4 are more than the indicator's max_points 3
                  line 22: criteria[1].name_vi: must not be empty
                  line 23: criteria[1].max_points: indicator points add up to 4, but the criterion's max_points is 5
                  line 25: criteria[1].indicators[0].id: criterion or indicator id `2 1` has a character other than ASCII letters, digits and `. _ - : @`
                  line 26: criteria[1].indicators[0].applies_to.zones[1]: 4 is out of range 1 to 3
                  line 26: criteria[1].indicators[0].applies_to.unit_types[0]: `thi_tran` is not a unit type (expected xa, phuong or dac_khu)"#]],
        );
    }

    #[test]
    fn rejects_an_unsupported_format_and_missing_criteria() {
        check(
            r#"{"format": 2, "code": "X", "title_vi": "x", "pass_rule": {"total_min_percent": 80, "criterion_min_percent": 50}}"#,
            expect![[r#"
                2 problems in the catalog
                  line 1: format: format 2 is not supported (this version reads format 1)
                  line 1: criteria: missing"#]],
        );
    }

    #[test]
    fn dates_must_be_iso() {
        assert!(is_iso_date("2023-03-09"));
        assert!(!is_iso_date("09/03/2023"));
        assert!(!is_iso_date("2023-00-09"));
        assert!(!is_iso_date("2023-3-9"));
        assert!(!is_iso_date("２０２３-03-09"));
    }
}
