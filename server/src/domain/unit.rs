//! Organisation units (đơn vị): province → (district or health body) → commune → village, and
//! the communes each reviewing body covers. Imported from CSV, validated whole before anything
//! is written, every problem reported with its line.
//!
//! CSV columns (header required): `code,kind,name,parent,unit_type,covers` where `kind` is one
//! of [`UnitKind`], `parent` is the code of the enclosing unit (empty for a province),
//! `unit_type` is `xa`/`phuong`/`dac_khu` for communes, and `covers` lists commune codes a
//! reviewing body covers beyond its own subtree, separated by `;`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::store::{Store, StoreError, unit};

/// What a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// Province or city (tỉnh, thành phố).
    Province,
    /// District (huyện, quận), before 1/7/2025.
    District,
    /// Provincial health department (Sở Y tế).
    HealthDepartment,
    /// District or regional health centre (Trung tâm Y tế).
    HealthCentre,
    /// Commune, ward or special zone (xã, phường, đặc khu).
    Commune,
    /// Village or residential group (thôn, bản, tổ dân phố).
    Village,
}

impl UnitKind {
    const ALL: [UnitKind; 6] = [
        UnitKind::Province,
        UnitKind::District,
        UnitKind::HealthDepartment,
        UnitKind::HealthCentre,
        UnitKind::Commune,
        UnitKind::Village,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::District => "district",
            UnitKind::HealthDepartment => "health_department",
            UnitKind::HealthCentre => "health_centre",
            UnitKind::Commune => "commune",
            UnitKind::Village => "village",
        }
    }

    fn parse(text: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// A body that reviews communes.
    pub fn reviews(self) -> bool {
        matches!(self, UnitKind::HealthDepartment | UnitKind::HealthCentre)
    }
}

/// One unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: String,
    pub kind: UnitKind,
    pub name: String,
    pub parent: Option<String>,
    pub unit_type: Option<String>,
    pub covers: Vec<String>,
}

/// A problem in a units file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitProblem {
    /// 1-based line in the file (0: the file as a whole).
    pub line: usize,
    pub message: String,
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error("{} problem(s) in the units file; nothing was imported:{}", .0.len(), .0.iter().map(|p| format!("\n  line {}: {}", p.line, p.message)).collect::<String>())]
    Invalid(Vec<UnitProblem>),
    #[error("{} row(s) of the units file are outside the units you manage; nothing was imported:{}", .0.len(), .0.iter().map(|p| format!("\n  line {}: {}", p.line, p.message)).collect::<String>())]
    Outside(Vec<UnitProblem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for UnitError {
    fn from(err: sqlx::Error) -> Self {
        UnitError::Store(StoreError::Query(err))
    }
}

/// Parses and validates a units CSV against the units already stored. Returns every unit or
/// every problem.
pub fn parse_units(csv_text: &str, existing: &[Unit]) -> Result<Vec<Unit>, Vec<UnitProblem>> {
    parse_lines(csv_text, existing).map(|units| units.into_iter().map(|(_, unit)| unit).collect())
}

/// [`parse_units`], each unit with its line.
fn parse_lines(csv_text: &str, existing: &[Unit]) -> Result<Vec<(usize, Unit)>, Vec<UnitProblem>> {
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(err) => {
            return Err(vec![UnitProblem {
                line: 1,
                message: format!("unreadable header: {err}"),
            }]);
        }
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(code_at), Some(kind_at), Some(name_at), Some(parent_at)) = (
        column("code"),
        column("kind"),
        column("name"),
        column("parent"),
    ) else {
        return Err(vec![UnitProblem {
            line: 1,
            message:
                "the header must have code, kind, name and parent (and may have unit_type, covers)"
                    .to_owned(),
        }]);
    };
    let (type_at, covers_at) = (column("unit_type"), column("covers"));
    let mut units: Vec<(usize, Unit)> = Vec::new();
    let mut lines_of: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err
                    .position()
                    .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                problems.push(UnitProblem {
                    line,
                    message: format!("unreadable row: {err}"),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
        // A cell our own export neutralised (`'=…`) reads as the text it was.
        let get = |at: Option<usize>| {
            crate::domain::export::read_text_cell(at.and_then(|i| record.get(i)).unwrap_or(""))
                .to_owned()
        };
        let code = get(Some(code_at));
        let kind_text = get(Some(kind_at));
        let name = get(Some(name_at));
        let parent = Some(get(Some(parent_at))).filter(|p| !p.is_empty());
        let unit_type = Some(get(type_at)).filter(|t| !t.is_empty());
        let covers: Vec<String> = get(covers_at)
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let mut problem = |message: String| problems.push(UnitProblem { line, message });
        if code.is_empty()
            || code.len() > 32
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            problem(format!(
                "code `{code}` must be 1 to 32 letters, digits, - or _"
            ));
            continue;
        }
        let Some(kind) = UnitKind::parse(&kind_text) else {
            let kinds: Vec<&str> = UnitKind::ALL.iter().map(|k| k.as_str()).collect();
            problem(format!(
                "kind `{kind_text}` is not one of {}",
                kinds.join(", ")
            ));
            continue;
        };
        if name.is_empty() {
            problem(format!("unit {code} has no name"));
        }
        if kind == UnitKind::Commune
            && !(code.len() == 5 && code.chars().all(|c| c.is_ascii_digit()))
        {
            problem(format!(
                "commune code `{code}` must be the official 5 digits"
            ));
        }
        if let Some(unit_type) = &unit_type
            && (kind != UnitKind::Commune
                || tramyte_shared::commune::UnitType::parse(unit_type).is_err())
        {
            problem(format!(
                "unit_type `{unit_type}` is only for communes: xa, phuong or dac_khu"
            ));
        }
        if !covers.is_empty() && !kind.reviews() {
            problem(format!(
                "only a health department or health centre covers communes, not a {}",
                kind.as_str()
            ));
        }
        if let Some(first) = lines_of.insert(code.clone(), line) {
            problem(format!("code {code} is already used on line {first}"));
        }
        units.push((
            line,
            Unit {
                code,
                kind,
                name,
                parent,
                unit_type,
                covers,
            },
        ));
    }
    // Cross-row checks against the file and what is stored.
    let mut all: BTreeMap<String, (UnitKind, Option<String>)> = existing
        .iter()
        .map(|u| (u.code.clone(), (u.kind, u.parent.clone())))
        .collect();
    for (_, unit) in &units {
        all.insert(unit.code.clone(), (unit.kind, unit.parent.clone()));
    }
    for (line, unit) in &units {
        let line = *line;
        match &unit.parent {
            None if unit.kind != UnitKind::Province => problems.push(UnitProblem {
                line,
                message: format!("{} {} needs a parent", unit.kind.as_str(), unit.code),
            }),
            Some(parent) if !all.contains_key(parent) => problems.push(UnitProblem {
                line,
                message: format!("parent {parent} of {} is unknown", unit.code),
            }),
            _ => {}
        }
        for commune in &unit.covers {
            match all.get(commune) {
                Some((UnitKind::Commune, _)) => {}
                Some((kind, _)) => problems.push(UnitProblem {
                    line,
                    message: format!(
                        "{} covers {commune}, which is a {}, not a commune",
                        unit.code,
                        kind.as_str()
                    ),
                }),
                None => problems.push(UnitProblem {
                    line,
                    message: format!("{} covers unknown commune {commune}", unit.code),
                }),
            }
        }
        // A cycle: walking up the parents comes back.
        let mut seen = BTreeSet::new();
        let mut at = Some(unit.code.clone());
        while let Some(code) = at {
            if !seen.insert(code.clone()) {
                problems.push(UnitProblem {
                    line,
                    message: format!("{} is its own ancestor (a cycle)", unit.code),
                });
                break;
            }
            at = all.get(&code).and_then(|(_, parent)| parent.clone());
        }
    }
    if problems.is_empty() {
        Ok(units)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// Every stored unit.
pub async fn all(store: &Store) -> Result<Vec<Unit>, StoreError> {
    let rows = unit::all(store).await?;
    let coverage = unit::coverage(store).await?;
    let mut covers: HashMap<String, Vec<String>> = HashMap::new();
    for (unit, commune) in coverage {
        covers.entry(unit).or_default().push(commune);
    }
    Ok(rows
        .into_iter()
        .map(|(code, kind, name, parent, unit_type)| Unit {
            covers: covers.remove(&code).unwrap_or_default(),
            kind: UnitKind::parse(&kind).unwrap_or(UnitKind::Village),
            code,
            name,
            parent,
            unit_type,
        })
        .collect())
}

/// Validates a units CSV whole, then stores it in one transaction (new units are added, known
/// codes updated). Returns how many units the file had. For the command line and the demo,
/// which act everywhere; administrators import through [`import_managed`].
pub async fn import(store: &Store, csv_text: &str) -> Result<usize, UnitError> {
    import_managed(store, csv_text, &Managed::Everything).await
}

/// [`import`] by someone who manages only `managed`: every row must stay inside it (see
/// [`Managed::problems_of`]), or nothing is written.
pub async fn import_managed(
    store: &Store,
    csv_text: &str,
    managed: &Managed,
) -> Result<usize, UnitError> {
    let existing = all(store).await?;
    let lines = parse_lines(csv_text, &existing).map_err(UnitError::Invalid)?;
    let outside = managed.problems_of(&lines, &existing);
    if !outside.is_empty() {
        return Err(UnitError::Outside(outside));
    }
    let units: Vec<Unit> = lines.into_iter().map(|(_, unit)| unit).collect();
    // Parents before children, so the foreign key holds at every insert.
    let mut ordered: Vec<&Unit> = Vec::new();
    let mut placed: BTreeSet<&str> = existing.iter().map(|u| u.code.as_str()).collect();
    let mut remaining: Vec<&Unit> = units.iter().collect();
    while !remaining.is_empty() {
        let before = remaining.len();
        remaining.retain(|unit| {
            let ready = unit
                .parent
                .as_deref()
                .is_none_or(|p| placed.contains(p) || p == unit.code);
            if ready {
                ordered.push(unit);
                placed.insert(unit.code.as_str());
            }
            !ready
        });
        if remaining.len() == before {
            // Updates that move a unit under a unit of the same file: already validated, so
            // placing the rest in any order is safe for existing codes.
            ordered.append(&mut remaining);
        }
    }
    let rows: Vec<unit::UnitToStore<'_>> = ordered
        .iter()
        .map(|unit| unit::UnitToStore {
            code: &unit.code,
            kind: unit.kind.as_str(),
            name: &unit.name,
            parent: unit.parent.as_deref(),
            unit_type: unit.unit_type.as_deref(),
            covers: &unit.covers,
        })
        .collect();
    unit::upsert(store, &rows).await?;
    Ok(units.len())
}

/// The units as CSV, in the import format; text neutralised for spreadsheets
/// ([`crate::domain::export::text_cell`]), which [`import`] reads back as it was.
pub fn to_csv(units: &[Unit]) -> String {
    use crate::domain::export::text_cell;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(["code", "kind", "name", "parent", "unit_type", "covers"]);
    for unit in units {
        let _ = writer.write_record([
            text_cell(&unit.code).as_ref(),
            unit.kind.as_str(),
            &text_cell(&unit.name),
            &text_cell(unit.parent.as_deref().unwrap_or("")),
            &text_cell(unit.unit_type.as_deref().unwrap_or("")),
            &text_cell(&unit.covers.join(";")),
        ]);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// What an administrator manages (đơn vị quản lý): units, the users attached to them, their
/// coverage, targets and rounds. System administrators (and the command line) manage
/// everything; a provincial administrator the subtree of the units they are attached to, where
/// a health department attached to a province (Sở Y tế) stands for its province and a health
/// centre attached to a district for its district. Coverage (`covers`) never widens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Managed {
    Everything,
    Subtree {
        /// Every unit code of the subtree, of every kind.
        units: BTreeSet<String>,
        /// The communes among them.
        communes: BTreeSet<String>,
    },
}

impl Managed {
    /// Whether a unit is managed.
    pub fn unit(&self, code: &str) -> bool {
        match self {
            Managed::Everything => true,
            Managed::Subtree { units, .. } => units.contains(code),
        }
    }

    /// Whether a commune is managed.
    pub fn commune(&self, code: &str) -> bool {
        match self {
            Managed::Everything => true,
            Managed::Subtree { communes, .. } => communes.contains(code),
        }
    }

    /// Whether a user attached to `units` is managed: they must be attached somewhere, and
    /// only inside the subtree.
    pub fn user(&self, units: &[String]) -> bool {
        match self {
            Managed::Everything => true,
            Managed::Subtree { .. } => !units.is_empty() && units.iter().all(|u| self.unit(u)),
        }
    }

    /// What of a units file lies outside: a row of a unit outside the subtree; a unit placed
    /// under a parent outside it (a new province, a move out); a `covers` entry naming a
    /// commune outside it, or leaving out one outside it that is stored (coverage outside is
    /// a system administrator's). A row that keeps a unit's stored parent is no move, so a
    /// province's administrator may re-import their own province.
    pub fn problems_of(&self, lines: &[(usize, Unit)], existing: &[Unit]) -> Vec<UnitProblem> {
        let Managed::Subtree { .. } = self else {
            return Vec::new();
        };
        let stored: HashMap<&str, &Unit> = existing.iter().map(|u| (u.code.as_str(), u)).collect();
        let new_in_file: BTreeSet<&str> = lines
            .iter()
            .map(|(_, u)| u.code.as_str())
            .filter(|code| !stored.contains_key(code))
            .collect();
        let inside = |code: &str| self.unit(code) || new_in_file.contains(code);
        let mut problems = Vec::new();
        for (line, unit) in lines {
            let mut problem = |message: String| {
                problems.push(UnitProblem {
                    line: *line,
                    message,
                })
            };
            let before = stored.get(unit.code.as_str());
            if before.is_some() && !self.unit(&unit.code) {
                problem(format!(
                    "unit {} is outside the units you manage",
                    unit.code
                ));
                continue;
            }
            let unchanged_parent = before.is_some_and(|b| b.parent == unit.parent);
            match &unit.parent {
                _ if unchanged_parent => {}
                None => problem(format!(
                    "only a system administrator adds a unit without a parent ({})",
                    unit.code
                )),
                Some(parent) if !inside(parent) => problem(format!(
                    "parent {parent} of {} is outside the units you manage",
                    unit.code
                )),
                Some(_) => {}
            }
            for commune in &unit.covers {
                let kept = before.is_some_and(|b| b.covers.contains(commune));
                if !kept && !inside(commune) {
                    problem(format!(
                        "{} may not cover {commune}: it is outside the units you manage",
                        unit.code
                    ));
                }
            }
            for commune in before.map(|b| b.covers.as_slice()).unwrap_or_default() {
                if !unit.covers.contains(commune) && !self.unit(commune) {
                    problem(format!(
                        "{} covers {commune}, outside the units you manage; only a system \
                         administrator removes that (keep it in the file)",
                        unit.code
                    ));
                }
            }
        }
        problems
    }

    /// Keeps the units that are managed.
    pub fn filter_units(&self, units: Vec<Unit>) -> Vec<Unit> {
        units.into_iter().filter(|u| self.unit(&u.code)).collect()
    }
}

/// What `user` manages as a provincial administrator: the subtree of the units they are
/// attached to (see [`Managed`]).
pub async fn managed_subtree(store: &Store, user: &str) -> Result<Managed, StoreError> {
    let rows = unit::managed_by(store, user).await?;
    let communes = rows
        .iter()
        .filter(|(_, kind)| kind == UnitKind::Commune.as_str())
        .map(|(code, _)| code.clone())
        .collect();
    Ok(Managed::Subtree {
        units: rows.into_iter().map(|(code, _)| code).collect(),
        communes,
    })
}

/// The commune codes a user's scope covers: the communes of every unit they are attached to
/// (whole subtrees), the communes their reviewing bodies cover (a provincial health department
/// its province, a district health centre its district, and any listed in `covers`, as for a
/// regional centre), and the commune of a village.
pub async fn communes_of_user(store: &Store, user: &str) -> Result<BTreeSet<String>, StoreError> {
    Ok(unit::communes_of_user(store, user)
        .await?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds user `id` with `role`, attached to `unit`.
    async fn attach(store: &Store, id: &str, role: &str, unit: &str) {
        let units = [unit.to_owned()];
        let row = crate::store::account::NewUserRow {
            id,
            display_name: id,
            role,
            person: None,
            password_hash: "x",
            units: &units,
        };
        assert_eq!(
            crate::store::account::insert_user(store, &row, 0)
                .await
                .unwrap(),
            1
        );
    }

    const THIEU_HOA: &str = "code,kind,name,parent,unit_type,covers
38,province,Tỉnh Thanh Hóa,,,
38-SYT,health_department,Sở Y tế Thanh Hóa,38,,
38-405,district,Huyện Thiệu Hóa,38,,
38-405-TTYT,health_centre,Trung tâm Y tế huyện Thiệu Hóa,38-405,,16024
16024,commune,Xã Thiệu Vận,38-405,xa,
16024-T1,village,Thôn 1,16024,,
";

    async fn store() -> Store {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let csv = "code,kind,name,parent,unit_type,covers
38,province,Tỉnh Thanh Hóa,,,
16024,commune,Xã A,99,xa,
16024,commune,Xã B,38,xa,
1234,commune,Xã C,38,,
X1,district,Vòng 1,X2,,
X2,district,Vòng 2,X1,,
V1,village,Thôn,38,,16024
Q,planet,Sao Hỏa,38,,
";
        let problems = parse_units(csv, &[]).unwrap_err();
        let text: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect();
        let expected = [
            "3: parent 99 of 16024 is unknown",
            "4: code 16024 is already used on line 3",
            "5: commune code `1234` must be the official 5 digits",
            "6: X1 is its own ancestor (a cycle)",
            "7: X2 is its own ancestor (a cycle)",
            "8: only a health department or health centre covers communes, not a village",
            "9: kind `planet` is not one of province, district, health_department, health_centre, commune, village",
        ];
        for line in expected {
            assert!(
                text.iter().any(|t| t == line),
                "missing `{line}` in {text:#?}"
            );
        }
    }

    #[tokio::test]
    async fn a_provincial_administrator_imports_only_inside_their_subtree() {
        let store = store().await;
        import(&store, THIEU_HOA).await.unwrap();
        import(&store, "code,kind,name,parent,unit_type,covers\n01,province,Hà Nội,,,\n01-SYT,health_department,Sở Y tế Hà Nội,01,,\n00001,commune,Phường Một,01,phuong,\n")
            .await
            .unwrap();
        attach(&store, "p", "provincial_admin", "38-SYT").await;
        let managed = managed_subtree(&store, "p").await.unwrap();
        assert!(managed.unit("38") && managed.unit("16024-T1") && managed.commune("16024"));
        assert!(!managed.unit("01") && !managed.commune("00001"));
        let before = all(&store).await.unwrap();
        let csv = "code,kind,name,parent,unit_type,covers
16024-T2,village,Thôn 2,16024,,
38-SYT,health_department,Sở Y tế Thanh Hóa,38,,00001
01-SYT,health_department,Sở Y tế Của Ta,01,,
38-405,district,Huyện Thiệu Hóa,01,,
99,province,Tỉnh Mới,,,
38-1,district,Huyện Mới,38,,
38-1-TTYT,health_centre,TTYT Mới,38-1,,16024
01-1,district,Quận Mới,01,,
38,province,Tỉnh Thanh Hóa,,,
";
        let Err(UnitError::Outside(problems)) = import_managed(&store, csv, &managed).await else {
            panic!("refused");
        };
        let text: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect();
        assert_eq!(
            text,
            [
                "3: 38-SYT may not cover 00001: it is outside the units you manage",
                "4: unit 01-SYT is outside the units you manage",
                "5: parent 01 of 38-405 is outside the units you manage",
                "6: only a system administrator adds a unit without a parent (99)",
                "9: parent 01 of 01-1 is outside the units you manage",
            ]
        );
        assert_eq!(all(&store).await.unwrap(), before, "nothing was written");
        // What is inside (new units under new units, the province kept where it is) imports.
        let inside = "code,kind,name,parent,unit_type,covers
16024-T2,village,Thôn 2,16024,,
38-1,district,Huyện Mới,38,,
38-1-TTYT,health_centre,TTYT Mới,38-1,,16024
38,province,Tỉnh Thanh Hóa,,,
";
        assert_eq!(import_managed(&store, inside, &managed).await.unwrap(), 4);
        // Coverage outside, set by the command line, may be kept but not removed by them.
        import(&store, "code,kind,name,parent,unit_type,covers\n38-SYT,health_department,Sở Y tế Thanh Hóa,38,,00001\n")
            .await
            .unwrap();
        let kept =
            "code,kind,name,parent,unit_type,covers\n38-SYT,health_department,SYT,38,,00001\n";
        assert_eq!(import_managed(&store, kept, &managed).await.unwrap(), 1);
        let dropped = "code,kind,name,parent,unit_type,covers\n38-SYT,health_department,SYT,38,,\n";
        assert!(matches!(
            import_managed(&store, dropped, &managed).await,
            Err(UnitError::Outside(_))
        ));
    }

    #[tokio::test]
    async fn an_invalid_file_writes_nothing_and_a_valid_one_is_stored() {
        let store = store().await;
        let broken = format!("{THIEU_HOA}99999,commune,Xã lạ,nowhere,xa,\n");
        assert!(matches!(
            import(&store, &broken).await,
            Err(UnitError::Invalid(_))
        ));
        assert!(all(&store).await.unwrap().is_empty(), "nothing was written");
        assert_eq!(import(&store, THIEU_HOA).await.unwrap(), 6);
        let units = all(&store).await.unwrap();
        assert_eq!(units.len(), 6);
        // Export and import again: the same units.
        assert_eq!(import(&store, &to_csv(&units)).await.unwrap(), 6);
        assert_eq!(all(&store).await.unwrap(), units);
    }

    #[tokio::test]
    async fn a_scope_expands_to_communes() {
        let store = store().await;
        import(&store, THIEU_HOA).await.unwrap();
        attach(&store, "u", "reviewer", "38-SYT").await;
        // The provincial health department covers its province.
        assert_eq!(
            communes_of_user(&store, "u").await.unwrap(),
            ["16024".to_owned()].into()
        );
        import(&store, "code,kind,name,parent,unit_type,covers\n16025,commune,Xã Thiệu Giao,38-405,xa,\nKV1,health_centre,TTYT khu vực 1,38,,16025\n")
            .await
            .unwrap();
        // A scope follows the units stored after the user was attached: the province's new
        // commune is the health department's reviewer's at once.
        assert_eq!(
            communes_of_user(&store, "u").await.unwrap(),
            ["16024".to_owned(), "16025".to_owned()].into()
        );
        attach(&store, "r", "reviewer", "KV1").await;
        attach(&store, "d", "reviewer", "38-405-TTYT").await;
        // A regional centre covers the communes listed for it, not its whole province...
        assert_eq!(
            communes_of_user(&store, "r").await.unwrap(),
            ["16025".to_owned()].into()
        );
        // ...a district health centre covers its district.
        assert_eq!(
            communes_of_user(&store, "d").await.unwrap(),
            ["16024".to_owned(), "16025".to_owned()].into()
        );
        attach(&store, "v", "village_health_worker", "16024-T1").await;
        attach(&store, "p", "provincial_admin", "38").await;
        assert_eq!(
            communes_of_user(&store, "v").await.unwrap(),
            ["16024".to_owned()].into(),
            "a village's commune"
        );
        assert_eq!(
            communes_of_user(&store, "p").await.unwrap(),
            ["16024".to_owned(), "16025".to_owned()].into(),
            "a province's subtree"
        );
        // The regional centre is given another commune to cover instead: its reviewer's scope
        // moves with it, and nobody else's changes.
        import(
            &store,
            "code,kind,name,parent,unit_type,covers\nKV1,health_centre,TTYT khu vực 1,38,,16024\n",
        )
        .await
        .unwrap();
        assert_eq!(
            communes_of_user(&store, "r").await.unwrap(),
            ["16024".to_owned()].into()
        );
        assert_eq!(
            communes_of_user(&store, "d").await.unwrap(),
            ["16024".to_owned(), "16025".to_owned()].into()
        );
    }
}
