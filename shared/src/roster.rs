//! The roster document (danh sách nhân lực): one per commune, the station's staff, the village
//! health workers and the villages, and the staffing facts derived from them.
//!
//! Layout (schema 1):
//!
//! ```text
//! { kind: "roster", schema: 1, commune,
//!   staff:           { <person id>: Person + { training: { <training id>: Training },
//!                                              evidence: { <evidence id>: Evidence } } },
//!   village_workers: { <person id>: Person + { training: { ... }, evidence: { ... } } },
//!   villages:        { <village id>: { name } } }
//! ```
//!
//! People and villages sit in maps keyed by stable ids chosen by whoever adds them, never in
//! positional lists, so two people adding someone offline never collide. A person's fields merge
//! field by field (autosurgeon reconciles only what changed). People who leave are marked
//! `left`, not deleted, so history and past assessments still name them. A village's health
//! worker is whoever has that village set: one source of truth, no dangling reference.
//!
//! A person's `evidence` (e.g. a training certificate) holds signed entries shaped exactly as an
//! assessment item's ([`crate::assessment::Evidence`], files included). The map is created with
//! the person by [`put_person`]; people added before it existed get it from the first
//! [`put_person_evidence`] (two phones doing that offline for the same person at once would keep
//! only one of the two maps: rare, and the other entry is added again from the phone's list).

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc};
use autosurgeon::reconcile::NoKey;
use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use serde::Serialize;

use crate::assessment::Evidence;
use crate::document::{self, DocumentError, commit, get_map, get_str, require_map};
use crate::id::{CommuneCode, EvidenceId, PersonId, TrainingId, VillageId};

/// The `kind` of a roster document.
pub const KIND: &str = "roster";
/// The schema version this code writes (and the newest it reads).
pub const SCHEMA: u64 = 1;

const VILLAGES: &str = "villages";
const TRAINING: &str = "training";
const EVIDENCE: &str = "evidence";

/// Months of the Ministry's curriculum a village health worker needs.
pub const VILLAGE_WORKER_MIN_MONTHS: u32 = 6;

/// A closed set of names stored as strings; unknown names read as the fallback variant, so a
/// value written by a newer app does not break an older reader.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ } fallback $fallback:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Reads a stored name; unknown names give the fallback.
            pub fn parse_lenient(s: &str) -> $name {
                match s {
                    $($text => $name::$variant,)+
                    _ => $name::$fallback,
                }
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
                Ok($name::parse_lenient(s))
            }
            fn hydrate_none() -> Result<Self, HydrateError> {
                Ok($name::default())
            }
        }

        impl Reconcile for $name {
            type Key<'a> = NoKey;
            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Professional title (chức danh chuyên môn).
    Title {
        /// Doctor (bác sĩ).
        Doctor => "bac_si",
        /// Physician assistant (y sĩ).
        Assistant => "y_si",
        /// Obstetric and paediatric assistant (y sĩ sản nhi).
        ObstetricPaediatricAssistant => "y_si_san_nhi",
        /// Midwife (hộ sinh).
        Midwife => "ho_sinh",
        /// Nurse (điều dưỡng).
        Nurse => "dieu_duong",
        /// Pharmacist (dược sĩ).
        Pharmacist => "duoc_si",
        /// Traditional medicine practitioner (y học cổ truyền).
        TraditionalMedicine => "y_hoc_co_truyen",
        /// Population officer (dân số).
        Population => "dan_so",
        /// Anything else (khác).
        #[default]
        Other => "other",
    } fallback Other
);

string_enum!(
    /// Role at the station (vị trí tại trạm).
    StationRole {
        /// Head of the station (trưởng trạm / giám đốc trạm).
        Head => "head",
        /// Deputy head (phó trạm).
        Deputy => "deputy",
        /// Member of staff (nhân viên), and village workers.
        #[default]
        Member => "member",
    } fallback Member
);

string_enum!(
    /// Whether a person still works here.
    Employment {
        /// Working (đang làm việc).
        #[default]
        Active => "active",
        /// Left (đã nghỉ / chuyển công tác).
        Left => "left",
    } fallback Active
);

string_enum!(
    /// What a training course counts for.
    CourseKind {
        /// The Ministry's village health worker curriculum (đào tạo nhân viên y tế thôn, bản).
        VillageHealthWorker => "village_health_worker",
        /// Family medicine (y học gia đình).
        FamilyMedicine => "family_medicine",
        /// Any other course.
        #[default]
        Other => "other",
    } fallback Other
);

/// Which list a person is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Station staff (nhân viên trạm y tế).
    Staff,
    /// Village health workers (nhân viên y tế thôn, bản).
    VillageWorker,
}

impl Group {
    fn key(self) -> &'static str {
        match self {
            Group::Staff => "staff",
            Group::VillageWorker => "village_workers",
        }
    }
}

/// A person's details (everything but training records, which have their own map).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Reconcile, Hydrate)]
pub struct Person {
    /// Full name (họ và tên).
    #[autosurgeon(missing = "Default::default")]
    pub name: String,
    /// Professional title.
    #[autosurgeon(missing = "Default::default")]
    pub title: Title,
    /// Qualification as written (trình độ chuyên môn), e.g. "Bác sĩ đa khoa".
    #[autosurgeon(missing = "Default::default")]
    pub qualification: String,
    /// Role at the station.
    #[autosurgeon(missing = "Default::default")]
    pub role: StationRole,
    /// Village id (for a village health worker: the village served).
    #[autosurgeon(missing = "Default::default")]
    pub village: Option<String>,
    /// Active or left.
    #[autosurgeon(missing = "Default::default")]
    pub status: Employment,
}

/// A training record (đào tạo).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Reconcile, Hydrate)]
pub struct Training {
    /// Course name as written.
    #[autosurgeon(missing = "Default::default")]
    pub course: String,
    /// What the course counts for.
    #[autosurgeon(missing = "Default::default")]
    pub kind: CourseKind,
    /// Length in months.
    #[autosurgeon(missing = "Default::default")]
    pub months: u32,
    /// Year completed.
    #[autosurgeon(missing = "Default::default")]
    pub year: u32,
}

/// A village (thôn, bản) or residential group (tổ dân phố).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Reconcile, Hydrate)]
pub struct Village {
    /// Name.
    #[autosurgeon(missing = "Default::default")]
    pub name: String,
}

/// A person with their training records, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PersonEntry {
    /// Details.
    #[serde(flatten)]
    pub person: Person,
    /// Training records by id.
    pub training: BTreeMap<String, Training>,
    /// Evidence (minh chứng) about the person, e.g. certificates, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, Evidence>,
}

impl PersonEntry {
    /// Whether the person still works here.
    pub fn active(&self) -> bool {
        self.person.status == Employment::Active
    }

    /// Months of training of one kind, summed over records (the curriculum may be taken in
    /// parts).
    pub fn months_of(&self, kind: CourseKind) -> u32 {
        self.training
            .values()
            .filter(|t| t.kind == kind)
            .map(|t| t.months)
            .fold(0, u32::saturating_add)
    }
}

/// The whole roster, read at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RosterView {
    /// Schema version of the document.
    pub schema: u64,
    /// Commune code.
    pub commune: String,
    /// Station staff by person id.
    pub staff: BTreeMap<String, PersonEntry>,
    /// Village health workers by person id.
    pub village_workers: BTreeMap<String, PersonEntry>,
    /// Villages by id.
    pub villages: BTreeMap<String, Village>,
}

impl RosterView {
    /// Active village health workers serving a village.
    pub fn health_workers_of<'a>(
        &'a self,
        village: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a PersonEntry)> + 'a {
        self.village_workers
            .iter()
            .filter(move |(_, p)| p.active() && p.person.village.as_deref() == Some(village))
    }
}

/// Staffing facts derived from a roster (what staffing indicators look at).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StaffingFacts {
    /// Active station staff.
    pub active_staff: u32,
    /// An active doctor on staff (có bác sĩ).
    pub doctor_on_staff: bool,
    /// An active midwife or obstetric/paediatric assistant (có hộ sinh hoặc y sĩ sản nhi).
    pub midwife_or_obstetric_assistant: bool,
    /// Villages in the roster.
    pub villages: u32,
    /// Villages with an active health worker trained at least
    /// [`VILLAGE_WORKER_MIN_MONTHS`] months in the village health worker curriculum.
    pub villages_with_trained_worker: u32,
    /// Ids of the villages without one.
    pub villages_without_trained_worker: Vec<String>,
    /// Ids of active staff trained in family medicine.
    pub family_medicine_trained: Vec<String>,
}

impl StaffingFacts {
    /// Share of villages with a trained health worker, in percent (`None` without villages).
    pub fn trained_village_percent(&self) -> Option<f64> {
        (self.villages > 0).then(|| {
            f64::from(self.villages_with_trained_worker) * 100.0 / f64::from(self.villages)
        })
    }
}

/// Derives the staffing facts.
pub fn staffing(roster: &RosterView) -> StaffingFacts {
    let active: Vec<(&String, &PersonEntry)> =
        roster.staff.iter().filter(|(_, p)| p.active()).collect();
    let has = |titles: &[Title]| active.iter().any(|(_, p)| titles.contains(&p.person.title));
    let mut facts = StaffingFacts {
        active_staff: u32::try_from(active.len()).unwrap_or(u32::MAX),
        doctor_on_staff: has(&[Title::Doctor]),
        midwife_or_obstetric_assistant: has(&[Title::Midwife, Title::ObstetricPaediatricAssistant]),
        villages: u32::try_from(roster.villages.len()).unwrap_or(u32::MAX),
        family_medicine_trained: active
            .iter()
            .filter(|(_, p)| p.months_of(CourseKind::FamilyMedicine) > 0)
            .map(|(id, _)| (*id).clone())
            .collect(),
        ..StaffingFacts::default()
    };
    for village in roster.villages.keys() {
        let trained = roster.health_workers_of(village).any(|(_, p)| {
            p.months_of(CourseKind::VillageHealthWorker) >= VILLAGE_WORKER_MIN_MONTHS
        });
        if trained {
            facts.villages_with_trained_worker += 1;
        } else {
            facts.villages_without_trained_worker.push(village.clone());
        }
    }
    facts
}

/// Creates a roster for a commune, with its three maps, and commits it.
pub fn new_roster(commune: &CommuneCode, at: i64) -> Result<AutoCommit, DocumentError> {
    let mut doc = AutoCommit::new();
    document::put_header(&mut doc, KIND, SCHEMA)?;
    doc.put(automerge::ROOT, "commune", commune.as_str())?;
    for key in [Group::Staff.key(), Group::VillageWorker.key(), VILLAGES] {
        doc.put_object(automerge::ROOT, key, ObjType::Map)?;
    }
    commit(&mut doc, at, "open roster");
    Ok(doc)
}

fn group_obj(doc: &AutoCommit, group: Group) -> Result<ObjId, DocumentError> {
    require_map(doc, &automerge::ROOT, group.key(), group.key())
}

fn person_obj(doc: &AutoCommit, group: Group, id: &PersonId) -> Result<ObjId, DocumentError> {
    let people = group_obj(doc, group)?;
    get_map(doc, &people, id.as_str())?.ok_or_else(|| DocumentError::UnknownPerson(id.to_string()))
}

/// Adds a person, or updates their details (only changed fields are written). Training records
/// are kept.
pub fn put_person(
    doc: &mut AutoCommit,
    group: Group,
    id: &PersonId,
    person: &Person,
    at: i64,
) -> Result<(), DocumentError> {
    let people = group_obj(doc, group)?;
    autosurgeon::reconcile_prop(doc, &people, id.as_str(), person)?;
    let entry = person_obj(doc, group, id)?;
    for key in [TRAINING, EVIDENCE] {
        if get_map(doc, &entry, key)?.is_none() {
            doc.put_object(&entry, key, ObjType::Map)?;
        }
    }
    commit(doc, at, &format!("person {id}"));
    Ok(())
}

/// Marks a person active or left.
pub fn set_employment(
    doc: &mut AutoCommit,
    group: Group,
    id: &PersonId,
    status: Employment,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = person_obj(doc, group, id)?;
    doc.put(&entry, "status", status.as_str())?;
    commit(doc, at, &format!("person {id} {}", status.as_str()));
    Ok(())
}

/// Adds or updates a training record of a person.
pub fn put_training(
    doc: &mut AutoCommit,
    group: Group,
    person: &PersonId,
    id: &TrainingId,
    training: &Training,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = person_obj(doc, group, person)?;
    let records = require_map(doc, &entry, TRAINING, TRAINING)?;
    autosurgeon::reconcile_prop(doc, &records, id.as_str(), training)?;
    commit(doc, at, &format!("training {person}"));
    Ok(())
}

/// Removes a training record entered by mistake.
pub fn remove_training(
    doc: &mut AutoCommit,
    group: Group,
    person: &PersonId,
    id: &TrainingId,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = person_obj(doc, group, person)?;
    let records = require_map(doc, &entry, TRAINING, TRAINING)?;
    doc.delete(&records, id.as_str())?;
    commit(doc, at, &format!("remove training {person}"));
    Ok(())
}

/// Adds evidence about a person (e.g. a training certificate), or replaces an entry whole (it
/// is signed by who added it, so it is never edited field by field).
pub fn put_person_evidence(
    doc: &mut AutoCommit,
    group: Group,
    person: &PersonId,
    id: &EvidenceId,
    evidence: &Evidence,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = person_obj(doc, group, person)?;
    let list = match get_map(doc, &entry, EVIDENCE)? {
        Some(list) => list,
        None => doc.put_object(&entry, EVIDENCE, ObjType::Map)?,
    };
    crate::assessment::write_evidence(doc, &list, id.as_str(), evidence)?;
    commit(doc, at, &format!("evidence {person}"));
    Ok(())
}

/// Removes evidence about a person.
pub fn remove_person_evidence(
    doc: &mut AutoCommit,
    group: Group,
    person: &PersonId,
    id: &EvidenceId,
    at: i64,
) -> Result<(), DocumentError> {
    let entry = person_obj(doc, group, person)?;
    let list = require_map(doc, &entry, EVIDENCE, EVIDENCE)?;
    doc.delete(&list, id.as_str())?;
    commit(doc, at, &format!("remove evidence {person}"));
    Ok(())
}

/// Adds or renames a village.
pub fn put_village(
    doc: &mut AutoCommit,
    id: &VillageId,
    village: &Village,
    at: i64,
) -> Result<(), DocumentError> {
    let villages = require_map(doc, &automerge::ROOT, VILLAGES, VILLAGES)?;
    autosurgeon::reconcile_prop(doc, &villages, id.as_str(), village)?;
    commit(doc, at, &format!("village {id}"));
    Ok(())
}

/// Removes a village (merged into another, or entered by mistake).
pub fn remove_village(doc: &mut AutoCommit, id: &VillageId, at: i64) -> Result<(), DocumentError> {
    let villages = require_map(doc, &automerge::ROOT, VILLAGES, VILLAGES)?;
    doc.delete(&villages, id.as_str())?;
    commit(doc, at, &format!("remove village {id}"));
    Ok(())
}

fn read_people(
    doc: &AutoCommit,
    group: Group,
) -> Result<BTreeMap<String, PersonEntry>, DocumentError> {
    let mut people = BTreeMap::new();
    let Some(obj) = get_map(doc, &automerge::ROOT, group.key())? else {
        return Ok(people);
    };
    for id in doc.keys(&obj) {
        let Some(entry) = get_map(doc, &obj, &id)? else {
            continue;
        };
        let person: Person = autosurgeon::hydrate_prop(doc, &obj, id.as_str())?;
        let training = match get_map(doc, &entry, TRAINING)? {
            Some(_) => autosurgeon::hydrate_prop(doc, &entry, TRAINING)?,
            None => BTreeMap::new(),
        };
        let evidence = match get_map(doc, &entry, EVIDENCE)? {
            Some(_) => autosurgeon::hydrate_prop(doc, &entry, EVIDENCE)?,
            None => BTreeMap::new(),
        };
        people.insert(
            id,
            PersonEntry {
                person,
                training,
                evidence,
            },
        );
    }
    Ok(people)
}

/// Reads the whole roster. Accepts every schema up to [`SCHEMA`].
pub fn read_roster(doc: &AutoCommit) -> Result<RosterView, DocumentError> {
    let schema = document::check_header(doc, KIND, SCHEMA)?;
    let commune = get_str(doc, &automerge::ROOT, "commune")?.ok_or(DocumentError::Missing {
        path: "commune".to_string(),
    })?;
    let villages = match get_map(doc, &automerge::ROOT, VILLAGES)? {
        Some(_) => autosurgeon::hydrate_prop(doc, automerge::ROOT, VILLAGES)?,
        None => BTreeMap::new(),
    };
    Ok(RosterView {
        schema,
        commune,
        staff: read_people(doc, Group::Staff)?,
        village_workers: read_people(doc, Group::VillageWorker)?,
        villages,
    })
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use expect_test::expect;

    use super::*;

    fn pid(s: &str) -> PersonId {
        PersonId::parse(s).unwrap()
    }

    fn vid(s: &str) -> VillageId {
        VillageId::parse(s).unwrap()
    }

    fn person(name: &str, title: Title) -> Person {
        Person {
            name: name.to_string(),
            title,
            ..Person::default()
        }
    }

    fn training(kind: CourseKind, months: u32) -> Training {
        Training {
            course: "khoá học".to_string(),
            kind,
            months,
            year: 2020,
        }
    }

    fn open() -> AutoCommit {
        new_roster(&CommuneCode::parse("16279").unwrap(), 0)
            .unwrap()
            .with_actor(ActorId::from(&[1u8; 16][..]))
    }

    #[test]
    fn offline_additions_by_two_staff_both_survive() {
        let mut a = open();
        let mut b = a.fork().with_actor(ActorId::from(&[2u8; 16][..]));
        put_person(
            &mut a,
            Group::Staff,
            &pid("p-a"),
            &person("Lan", Title::Doctor),
            1,
        )
        .unwrap();
        put_person(
            &mut b,
            Group::Staff,
            &pid("p-b"),
            &person("Minh", Title::Nurse),
            2,
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let names: Vec<String> = read_roster(&a)
            .unwrap()
            .staff
            .values()
            .map(|p| p.person.name.clone())
            .collect();
        assert_eq!(names, ["Lan", "Minh"]);
    }

    #[test]
    fn concurrent_edits_of_different_fields_merge() {
        let mut a = open();
        put_person(
            &mut a,
            Group::Staff,
            &pid("p1"),
            &person("Lan", Title::Assistant),
            1,
        )
        .unwrap();
        let mut b = a.fork().with_actor(ActorId::from(&[2u8; 16][..]));
        let mut renamed = person("Nguyễn Thị Lan", Title::Assistant);
        put_person(&mut a, Group::Staff, &pid("p1"), &renamed, 2).unwrap();
        renamed = person("Lan", Title::ObstetricPaediatricAssistant);
        put_person(&mut b, Group::Staff, &pid("p1"), &renamed, 3).unwrap();
        put_training(
            &mut b,
            Group::Staff,
            &pid("p1"),
            &TrainingId::parse("t1").unwrap(),
            &training(CourseKind::FamilyMedicine, 3),
            4,
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let roster = read_roster(&a).unwrap();
        let p1 = &roster.staff["p1"];
        assert_eq!(p1.person.name, "Nguyễn Thị Lan");
        assert_eq!(p1.person.title, Title::ObstetricPaediatricAssistant);
        assert_eq!(p1.training.len(), 1);
        // Updating details keeps training records.
        put_person(
            &mut a,
            Group::Staff,
            &pid("p1"),
            &person("Lan", Title::Doctor),
            5,
        )
        .unwrap();
        assert_eq!(read_roster(&a).unwrap().staff["p1"].training.len(), 1);
    }

    #[test]
    fn staffing_facts_come_from_active_people() {
        let mut doc = open();
        for (id, name) in [("v1", "Thôn 1"), ("v2", "Thôn 2"), ("v3", "Thôn 3")] {
            put_village(
                &mut doc,
                &vid(id),
                &Village {
                    name: name.to_string(),
                },
                0,
            )
            .unwrap();
        }
        put_person(
            &mut doc,
            Group::Staff,
            &pid("bs"),
            &person("Bác sĩ đã nghỉ", Title::Doctor),
            0,
        )
        .unwrap();
        set_employment(&mut doc, Group::Staff, &pid("bs"), Employment::Left, 1).unwrap();
        put_person(
            &mut doc,
            Group::Staff,
            &pid("hs"),
            &person("Hộ sinh", Title::Midwife),
            0,
        )
        .unwrap();
        put_training(
            &mut doc,
            Group::Staff,
            &pid("hs"),
            &TrainingId::parse("t").unwrap(),
            &training(CourseKind::FamilyMedicine, 3),
            0,
        )
        .unwrap();
        for (id, village, months) in [("w1", "v1", 6), ("w2", "v2", 3), ("w3", "v2", 2)] {
            let worker = Person {
                village: Some(village.to_string()),
                ..person(id, Title::Other)
            };
            put_person(&mut doc, Group::VillageWorker, &pid(id), &worker, 0).unwrap();
            put_training(
                &mut doc,
                Group::VillageWorker,
                &pid(id),
                &TrainingId::parse("t").unwrap(),
                &training(CourseKind::VillageHealthWorker, months),
                0,
            )
            .unwrap();
        }
        let facts = staffing(&read_roster(&doc).unwrap());
        expect![[r#"
            StaffingFacts {
                active_staff: 1,
                doctor_on_staff: false,
                midwife_or_obstetric_assistant: true,
                villages: 3,
                villages_with_trained_worker: 1,
                villages_without_trained_worker: [
                    "v2",
                    "v3",
                ],
                family_medicine_trained: [
                    "hs",
                ],
            }
        "#]]
        .assert_debug_eq(&facts);
        assert_eq!(
            facts.trained_village_percent().map(|p| p.round()),
            Some(33.0)
        );
    }

    #[test]
    fn reads_a_hand_built_v1_roster_with_unknown_values() {
        let mut doc = AutoCommit::new();
        let root = automerge::ROOT;
        doc.put(&root, "kind", "roster").unwrap();
        doc.put(&root, "schema", 1_i64).unwrap();
        doc.put(&root, "commune", "00004").unwrap();
        let staff = doc.put_object(&root, "staff", ObjType::Map).unwrap();
        let p = doc.put_object(&staff, "p1", ObjType::Map).unwrap();
        doc.put(&p, "name", "Lan").unwrap();
        doc.put(&p, "title", "ky_thuat_vien").unwrap(); // a title from a newer app
        doc.put(&p, "shoe_size", 38_i64).unwrap();
        doc.commit();
        let roster = read_roster(&doc).unwrap();
        let lan = &roster.staff["p1"];
        assert_eq!(lan.person.title, Title::Other);
        assert_eq!(lan.person.status, Employment::Active);
        assert!(lan.training.is_empty());
        assert!(roster.villages.is_empty() && roster.village_workers.is_empty());
    }

    #[test]
    fn a_person_keeps_certificates_as_evidence_with_their_files() {
        use crate::files::{AttachedFile, MediaType};
        let mut a = new_roster(&CommuneCode::parse("16024").unwrap(), 1).unwrap();
        put_person(
            &mut a,
            Group::Staff,
            &pid("p1"),
            &person("Lan", Title::Nurse),
            2,
        )
        .unwrap();
        let certificate = Evidence {
            label: "Chứng chỉ YHGĐ".to_string(),
            reference: String::new(),
            added_by: "lan".to_string(),
            added_at: 3,
            file: Some(AttachedFile {
                sha256: "0a".repeat(32),
                media_type: MediaType::Pdf,
                size: 52_001,
                name: "chung-chi.pdf".to_string(),
                thumbnail: None,
            }),
        };
        let e1 = EvidenceId::parse("e1").unwrap();
        put_person_evidence(&mut a, Group::Staff, &pid("p1"), &e1, &certificate, 3).unwrap();
        // Updating the person's details keeps it.
        put_person(
            &mut a,
            Group::Staff,
            &pid("p1"),
            &person("Lan", Title::Midwife),
            4,
        )
        .unwrap();
        let view = read_roster(&a).unwrap();
        assert_eq!(view.staff["p1"].evidence["e1"], certificate);
        remove_person_evidence(&mut a, Group::Staff, &pid("p1"), &e1, 5).unwrap();
        assert!(read_roster(&a).unwrap().staff["p1"].evidence.is_empty());
        // Someone added before people had an `evidence` map gets it on first use.
        let people = group_obj(&a, Group::VillageWorker).unwrap();
        let old = a.put_object(&people, "p2", ObjType::Map).unwrap();
        a.put(&old, "name", "Mai").unwrap();
        put_person_evidence(
            &mut a,
            Group::VillageWorker,
            &pid("p2"),
            &e1,
            &certificate,
            6,
        )
        .unwrap();
        assert_eq!(
            read_roster(&a).unwrap().village_workers["p2"].evidence["e1"],
            certificate
        );
        assert!(
            put_person_evidence(&mut a, Group::Staff, &pid("nobody"), &e1, &certificate, 7)
                .is_err()
        );
    }
}
