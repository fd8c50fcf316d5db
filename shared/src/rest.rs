//! Bodies of REST requests and answers that the server and the web app both read and write,
//! defined once here: plain serde types, no IO. Fields a newer server added carry
//! `#[serde(default)]` so that what a phone remembered still reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assessment::ChangedAfterSubmission;
use crate::points::Points;
use crate::policy::Role;

pub mod overview_parts;

/// Documents of one kind a round opening needed: created now, or there already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    pub created: usize,
    pub existing: usize,
}

/// What `POST /api/rounds` did, by kind (the totals stay for older clients).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedCounts {
    /// Documents created now, assessments and rosters together.
    pub created: usize,
    /// Documents that were there already, assessments and rosters together.
    pub existing: usize,
    /// The round's assessments.
    #[serde(default)]
    pub assessments: KindCounts,
    /// The communes' rosters (created only for communes without one).
    #[serde(default)]
    pub rosters: KindCounts,
}

/// The most user ids one `GET /api/names` resolves.
pub const MAX_NAMES: usize = 200;

/// The answer to `GET /api/names?ids=a,b`: the display name of each id that names a user
/// (ids of nobody are left out, so the app shows them as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    pub names: BTreeMap<String, String>,
}

/// A person who signs in, as `GET /api/me`, the sign-in and `GET /api/users` describe them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub role: Role,
    /// The roster person this user is, if any.
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// The units they are attached to.
    #[serde(default)]
    pub units: Vec<String>,
}

/// Who is signed in (`GET /api/me`, and the answer to `POST /api/session`), as the PWA keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: User,
    /// The communes the user's scope covers (`null`: all).
    pub communes: Option<Vec<String>>,
    pub expires_at: i64,
}

/// Progress of one reviewing unit against one kind of target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetProgress {
    pub unit: String,
    /// `reach` or `maintain`.
    pub kind: String,
    /// Communes with this target.
    pub communes: usize,
    /// Of them, those whose assessment of the round is approved (or recognized, maintained).
    pub approved: usize,
    /// Of them, those without an assessment in this round.
    pub not_opened: usize,
    /// Of them, those whose current verdict is `pass` (and the local minimum met, if any).
    pub passing: usize,
}

/// Communes with a target of the year and, of them, those approved as statuses stood at the end
/// of one month of the round's year (`GET /api/overview/months?round=`: the overview's chart of
/// progress month by month; months after today are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthProgress {
    /// 1 to 12.
    pub month: u8,
    pub communes: usize,
    pub approved: usize,
}

/// The reviewer's overview of a round (`GET /api/overview?round=`). `D` is how the documents
/// travel: the server writes them as JSON it already holds, the app reads them as rows.
///
/// The documents come last, after their `count`: a reader can size the table and show the
/// first rows before it has decoded the other thousands (the desk does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview<D> {
    pub round: u16,
    /// How many documents there are (0 in answers of older servers, which did not say).
    #[serde(default)]
    pub count: usize,
    /// Assessments by status.
    #[serde(default)]
    pub by_status: BTreeMap<String, usize>,
    /// Assessments by verdict (`none` while the catalog is unknown).
    #[serde(default)]
    pub by_verdict: BTreeMap<String, usize>,
    /// Assessments with at least one open conflict.
    #[serde(default)]
    pub with_conflicts: usize,
    /// Progress against the year's targets, per unit and kind.
    #[serde(default)]
    pub targets: Vec<TargetProgress>,
    /// The reviewing units whose coverage includes communes in scope, each with those communes
    /// (the desk filters its rows by unit), by unit code.
    #[serde(default)]
    pub units: Vec<CoveringUnit>,
    /// Every assessment of the round in scope, as `GET /api/documents` lists them, in the
    /// communes' Vietnamese alphabetical order (by name, else code; see the server's
    /// `domain::collation`), then as listed (commune code, round, id): the desk's default
    /// order, and the ties of every other. Written last (see above).
    pub documents: D,
}

impl<D> Overview<D> {
    /// The overview without its documents (`()`, written as `null`, last), and its documents:
    /// a server that holds them as JSON already writes the first and puts them in that place.
    pub fn without_documents(self) -> (Overview<()>, D) {
        let Overview {
            round,
            count,
            by_status,
            by_verdict,
            with_conflicts,
            targets,
            units,
            documents,
        } = self;
        let head = Overview {
            round,
            count,
            by_status,
            by_verdict,
            with_conflicts,
            targets,
            units,
            documents: (),
        };
        (head, documents)
    }
}

/// A reviewing unit (a health department or centre, e.g. a regional health centre — Trung tâm Y
/// tế khu vực) and the communes in the caller's scope its coverage includes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveringUnit {
    pub code: String,
    pub name: String,
    pub communes: Vec<String>,
}

/// One field changed by one change (`GET /api/documents/{id}/history`, and each line of
/// `audit.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// When the server stored the change (unix ms; 0 if it came before provenance was kept).
    pub received_at: i64,
    /// The change's own time, from the device that made it (unix ms).
    pub change_time: i64,
    pub user: String,
    #[serde(default)]
    pub device: String,
    /// The field, as a dotted path (`items.TC2.self_score.points`).
    pub field: String,
    pub old: String,
    pub new: String,
    /// The change hash.
    #[serde(default)]
    pub change: String,
}

/// One document as listed (`GET /api/documents`, the overview's rows, what opening a round
/// answers). The phone keeps the list offline: fields added later read as their default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRow {
    /// Base58 document id.
    pub id: String,
    /// `automerge:<id>`.
    #[serde(default)]
    pub url: String,
    /// `assessment` or `roster`.
    pub kind: String,
    #[serde(default)]
    pub commune: Option<String>,
    /// The unit's name, if the commune is a known unit.
    #[serde(default)]
    pub commune_name: Option<String>,
    #[serde(default)]
    pub round: Option<i32>,
    #[serde(default)]
    pub catalog: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub self_total: Option<Points>,
    #[serde(default)]
    pub review_total: Option<Points>,
    #[serde(default)]
    pub verdict: Option<String>,
    #[serde(default)]
    pub open_conflicts: i32,
    /// What the station changed after its submission, unseen by a reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_after_submission: Option<ChangedAfterSubmission>,
    /// Points per criterion on each side, in catalog order (assessments scored against a
    /// catalog): the desk's heat map and charts. Written short ([`criteria_points`]: one array
    /// per criterion); the objects of older answers still read.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "criteria_points"
    )]
    pub criteria: Vec<crate::summary::CriterionPoints>,
    #[serde(default)]
    pub last_change_at: Option<i64>,
    #[serde(default)]
    pub last_change_by: Option<String>,
}

impl DocumentRow {
    /// The commune's code, empty for a document of no commune.
    pub fn commune_code(&self) -> &str {
        self.commune.as_deref().unwrap_or_default()
    }

    /// The commune's name, or its code when the name is not known.
    pub fn commune_label(&self) -> String {
        self.commune_name
            .clone()
            .unwrap_or_else(|| self.commune_code().to_owned())
    }
}

/// A listing's points per criterion, short: each criterion an array `[id, max, required, self,
/// review]` (`["TC1",14,7,6.5]`: trailing sides not scored are left out, a missing side before
/// a scored one is `null`) instead of an object naming every member — an overview of 10,000
/// communes carries 100,000 of them, and arrays are less than half the bytes and quicker to
/// decode in the browser. Reading also accepts the objects ([`CriterionPoints`]' own form) that
/// older servers wrote and phones kept.
///
/// [`CriterionPoints`]: crate::summary::CriterionPoints
pub mod criteria_points {
    use std::fmt;

    use serde::de::{self, MapAccess, SeqAccess, Visitor};
    use serde::ser::SerializeTuple;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::points::Points;
    use crate::summary::CriterionPoints;

    /// One criterion as an array.
    struct Short<'a>(&'a CriterionPoints);

    impl Serialize for Short<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let c = self.0;
            let len = match (c.self_points, c.review_points) {
                (_, Some(_)) => 5,
                (Some(_), None) => 4,
                (None, None) => 3,
            };
            let mut tuple = serializer.serialize_tuple(len)?;
            tuple.serialize_element(&c.id)?;
            tuple.serialize_element(&c.max)?;
            tuple.serialize_element(&c.required)?;
            if len > 3 {
                tuple.serialize_element(&c.self_points)?;
            }
            if len > 4 {
                tuple.serialize_element(&c.review_points)?;
            }
            tuple.end()
        }
    }

    /// Writes the criteria as arrays.
    pub fn serialize<S: Serializer>(
        criteria: &[CriterionPoints],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(criteria.iter().map(Short))
    }

    /// One criterion, read from an array or an object.
    struct Either(CriterionPoints);

    impl<'de> Deserialize<'de> for Either {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Either, D::Error> {
            struct EitherVisitor;
            impl<'de> Visitor<'de> for EitherVisitor {
                type Value = Either;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a criterion's points as [id, max, required, self, review]")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Either, A::Error> {
                    let id: String = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                    let max: Points = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                    let required: Points = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(2, &self))?;
                    let self_points = seq.next_element::<Option<Points>>()?.flatten();
                    let review_points = seq.next_element::<Option<Points>>()?.flatten();
                    Ok(Either(CriterionPoints {
                        id,
                        max,
                        required,
                        self_points,
                        review_points,
                    }))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Either, A::Error> {
                    CriterionPoints::deserialize(de::value::MapAccessDeserializer::new(map))
                        .map(Either)
                }
            }
            deserializer.deserialize_any(EitherVisitor)
        }
    }

    /// Reads the criteria, arrays or objects.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<CriterionPoints>, D::Error> {
        let list: Vec<Either> = Vec::deserialize(deserializer)?;
        Ok(list.into_iter().map(|Either(c)| c).collect())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Row {
            #[serde(with = "super")]
            criteria: Vec<CriterionPoints>,
        }

        fn criterion(self_points: Option<u32>, review_points: Option<u32>) -> CriterionPoints {
            CriterionPoints {
                id: "TC1".to_owned(),
                max: Points::whole(14),
                required: Points::whole(7),
                self_points: self_points.map(Points::from_halves),
                review_points: review_points.map(Points::from_halves),
            }
        }

        #[test]
        fn criteria_travel_as_short_arrays_and_read_back() {
            let row = Row {
                criteria: vec![
                    criterion(None, None),
                    criterion(Some(13), None),
                    criterion(None, Some(14)),
                    criterion(Some(1), Some(2)),
                ],
            };
            let json = serde_json::to_string(&row).unwrap();
            assert_eq!(
                json,
                r#"{"criteria":[["TC1",14,7],["TC1",14,7,6.5],["TC1",14,7,null,7],["TC1",14,7,0.5,1]]}"#
            );
            assert_eq!(serde_json::from_str::<Row>(&json).unwrap(), row);
        }

        #[test]
        fn the_objects_older_servers_wrote_still_read() {
            let json = r#"{"criteria":[{"id":"TC1","max":14,"required":7,"self":6.5},["TC1",14,7,null,7]]}"#;
            assert_eq!(
                serde_json::from_str::<Row>(json).unwrap().criteria,
                vec![criterion(Some(13), None), criterion(None, Some(14))]
            );
        }

        #[test]
        fn a_short_array_is_refused() {
            assert!(serde_json::from_str::<Row>(r#"{"criteria":[["TC1",14]]}"#).is_err());
        }
    }
}

/// A commune whose points on a criterion are below its minimum, in a report
/// (`GET /api/reports`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BelowMinimum {
    pub commune: String,
    #[serde(default)]
    pub commune_name: Option<String>,
    pub points: f64,
    /// The criterion's minimum for this commune: the catalog pass rule's
    /// `criterion_min_percent` of the commune's applicable maximum, rounded up to 0.5.
    pub required: f64,
}

/// What a commune must do this year (`PUT /api/targets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Reach the national criteria this year (xã đạt mới).
    Reach,
    /// Maintain them (duy trì).
    Maintain,
}

impl TargetKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Reach => "reach",
            TargetKind::Maintain => "maintain",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<TargetKind> {
        match name {
            "reach" => Some(TargetKind::Reach),
            "maintain" => Some(TargetKind::Maintain),
            _ => None,
        }
    }
}

/// One commune's target, as set (`PUT /api/targets?unit=&year=`, in `{"targets": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub commune: String,
    pub kind: TargetKind,
    /// A minimum total stricter than the national rule, if any.
    #[serde(default)]
    pub local_min_score: Option<Points>,
}

/// One target as listed (`GET /api/targets?unit=&year=`, in `{"targets": [...]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRow {
    pub unit: String,
    pub year: i32,
    pub commune: String,
    #[serde(default)]
    pub commune_name: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub local_min_score: Option<Points>,
}

/// Signing in (`POST /api/session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub user: String,
    pub password: String,
    /// What the person calls this device, shown in their sessions and the audit.
    #[serde(default)]
    pub device: Option<String>,
}

/// The answer to `POST /api/session`: who signed in, and a token for clients without cookies
/// (sent as `Authorization: Bearer`; the PWA uses the `HttpOnly` cookie instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    #[serde(flatten)]
    pub me: Me,
    pub token: String,
}

/// The documents in the caller's scope (`GET /api/documents`): `D` is `Vec<DocumentRow>`
/// where read, or the rows as JSON the server wrote once (as for [`Overview`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentList<D = Vec<DocumentRow>> {
    pub documents: D,
}

/// The users an administrator manages (`GET /api/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<User>,
}

/// A user to add, with their first password (`POST /api/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUser {
    pub id: String,
    pub display_name: String,
    pub role: Role,
    /// The roster person this user is, if any.
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub units: Vec<String>,
    pub password: String,
}

/// A new password for a user (`POST /api/users/{id}/password`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPassword {
    pub password: String,
}

/// An organisation unit (đơn vị) an administrator manages, as `GET /api/units?format=json`
/// lists it (the PWA offers these as choices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedUnit {
    pub code: String,
    /// `province`, `district`, `commune`, `department`, `centre`, … as the units CSV names them.
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub parent: Option<String>,
}

/// The answer to `GET /api/units?format=json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitList {
    pub units: Vec<ManagedUnit>,
}

/// The answer to `POST /api/units` (a units CSV, validated whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub imported: usize,
}

/// The targets a unit set for a year (the answer to `GET` and `PUT /api/targets?unit=&year=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetList {
    #[serde(default)]
    pub unit: Option<String>,
    pub year: i64,
    pub targets: Vec<TargetRow>,
}

/// The body of `PUT /api/targets?unit=&year=`: every target of that unit and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutTargets {
    pub targets: Vec<Target>,
}

/// What `POST /api/rounds` opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRound {
    /// The year.
    pub round: u16,
    /// The criteria set.
    pub catalog: String,
    /// Its revision; absent: the newest the caller may use (national or their province's).
    #[serde(default)]
    pub revision: Option<u32>,
    /// The communes; absent: every commune the caller covers.
    #[serde(default)]
    pub communes: Option<Vec<String>>,
    /// Zone (1 to 3) per commune for this round; 1 when not given. Ignored for assessments
    /// that exist already (their zone is changed in the document).
    #[serde(default)]
    pub zones: BTreeMap<String, i64>,
}

/// The answer to `POST /api/rounds`: the counts and every document the round needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenedRound {
    #[serde(flatten)]
    pub counts: OpenedCounts,
    #[serde(default)]
    pub documents: Vec<DocumentRow>,
}

/// The body of `POST /api/rounds/move`: moves the round's open assessments (drafts and returned
/// ones) of a criteria set to a newer revision of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveRound {
    pub round: u16,
    pub catalog: String,
    /// The revision to move to; absent: the newest the caller may use.
    #[serde(default)]
    pub revision: Option<u32>,
    /// The communes; absent: every commune the caller covers.
    #[serde(default)]
    pub communes: Option<Vec<String>>,
}

/// One assessment a move changed: what must be scored again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedAssessment {
    pub id: String,
    pub commune: String,
    pub from: u32,
    pub changes: crate::catalog::RevisionChanges,
}

/// The answer to `POST /api/rounds/move`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedRound {
    /// The revision the assessments are on now.
    pub revision: u32,
    pub moved: Vec<MovedAssessment>,
    /// Assessments left as they are, each with why (already on it, submitted, …).
    pub skipped: Vec<SkippedAssessment>,
}

/// An assessment a move left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedAssessment {
    pub id: String,
    pub commune: String,
    pub reason: String,
}

/// One criterion across the communes of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionReport {
    pub id: String,
    pub name_vi: String,
    #[serde(default)]
    pub name_en: String,
    /// The catalog's maximum.
    pub max: f64,
    /// Mean points of the assessments that scored it (to 0.01), `None` if none did.
    #[serde(default)]
    pub average: Option<f64>,
    /// Communes below the minimum, in commune order.
    #[serde(default)]
    pub below_minimum: Vec<BelowMinimum>,
}

/// The 6-monthly or yearly report of one round (báo cáo 6 tháng / năm,
/// `GET /api/reports?year=&period=h1|year`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub year: u16,
    /// `h1` or `year`.
    pub period: String,
    /// First day of the period, `YYYY-MM-DD`.
    pub from: String,
    /// Last day of the period.
    pub to: String,
    /// The statuses are those at the end of this day (`to` once the period has ended, today
    /// before that).
    #[serde(default)]
    pub as_of: String,
    /// Whether the period has ended (the statuses are those at its end).
    #[serde(default)]
    pub period_ended: bool,
    /// Assessments of the round in the caller's scope.
    pub communes: usize,
    /// Of them, those submitted or further along
    /// ([`crate::workflow::Status::counts_as_submitted`]).
    #[serde(default)]
    pub submitted: usize,
    /// Of them, those approved, recognized or maintained.
    pub approved: usize,
    /// Of them, those whose current verdict is `pass`.
    pub passing: usize,
    /// The criteria of the round's catalog(s), in catalog order.
    #[serde(default)]
    pub criteria: Vec<CriterionReport>,
    /// Progress against the year's targets, as in the overview.
    #[serde(default)]
    pub targets: Vec<TargetProgress>,
    /// The assessments, as `GET /api/documents` lists them.
    #[serde(default)]
    pub rows: Vec<DocumentRow>,
}

/// Where a criteria set comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogOrigin {
    /// Built into the server.
    Shipped,
    /// Imported into the database by an administrator.
    Imported,
}

/// One line of the catalog listing (bộ tiêu chí), as `GET /api/catalogs` and
/// `tramyte catalog list --json` give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSummary {
    pub code: String,
    pub revision: u32,
    pub title_vi: String,
    #[serde(default)]
    pub title_en: String,
    pub max_points: Points,
    pub criteria: usize,
    pub indicators: usize,
    pub origin: CatalogOrigin,
    /// The province (its unit code) the revision belongs to; absent: national (shipped, or
    /// published by a system administrator or the server's operator).
    #[serde(default)]
    pub province: Option<String>,
    /// Who published it (a user id); absent: shipped, or imported by the server's operator.
    #[serde(default)]
    pub published_by: Option<String>,
}

/// The answer to `GET /api/catalogs`: the newest revision of every criteria set the caller may
/// use (national ones and their province's), each revision with `?all=true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogList {
    pub catalogs: Vec<CatalogSummary>,
}

/// One problem of an indicator sheet (bảng chấm điểm), at its cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetProblem {
    /// `Chỉ tiêu!H7`.
    pub cell: String,
    pub sheet: String,
    pub row: u32,
    pub column: String,
    pub message: String,
}

/// The answer to `POST /api/catalogs/preview` when the sheet is valid: the catalog as it will
/// be scored (a client reads `catalog` back through [`crate::catalog::parse_catalog`], the one
/// catalog parser, so this type is only written).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetPreview {
    pub catalog: crate::catalog::Catalog,
}

/// The answer (422) to `POST /api/catalogs/preview` when the sheet has problems: all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetRefused {
    /// `invalid_sheet`.
    pub error: String,
    pub message: String,
    pub problems: Vec<SheetProblem>,
}

/// The answer to `PUT /api/files/{sha256}`: what the server holds (201 with `created: true`
/// when stored by this request, 200 with `created: false` when it was already there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// The file's id: the SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// The type sniffed from its bytes (`image/jpeg`, `image/png`, `image/webp`,
    /// `application/pdf`).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Whether this request stored it.
    pub created: bool,
}
