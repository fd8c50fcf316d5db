//! Demo data (dữ liệu minh họa), drawn from the seeds: the province of Thanh Hóa, the district of
//! Thiệu Hóa with its health centre, and the 13 communes its 2024 plan targets to reach the
//! national criteria (seed 002, annex 01), with villages, rosters of fictional people,
//! assessments of the 2024 round in various states, the 2024 targets, and one demo account per
//! role with a generated password.
//!
//! The commune codes here (99101 to 99113) and the district code are ILLUSTRATIVE, not the
//! official codes of these communes (which we do not have): do not import them next to real
//! data. Every person is fictional and says so in their name ("(hư cấu)").
//!
//! Loading is idempotent: units are upserted, accounts and documents are created only when
//! missing (each assessment and roster claims its commune's place, as a round opening does), so
//! running it twice duplicates nothing. `tramyte serve` loads it on the first start with an
//! empty database (no units, no users); `tramyte demo` loads what is missing and gives the demo
//! accounts new passwords, since passwords are only stored as hashes.

use automerge::{ActorId, AutoCommit};
use tramyte_shared::assessment::{
    Answer, NewAssessment, Side, append_event, new_assessment, set_note, set_review_comment,
    set_score,
};
use tramyte_shared::catalog::{Catalog, shipped_catalogs};
use tramyte_shared::commune::{UnitType, Zone};
use tramyte_shared::id::{CommuneCode, ItemId, PersonId, UserId, VillageId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::Role;
use tramyte_shared::roster::{Group, Person, StationRole, Title, Village, put_person, put_village};
use tramyte_shared::summary::summarize;
use tramyte_shared::sync::{Chunk, ChunkKind};
use tramyte_shared::workflow::EventKind;

use crate::account::{self, AccountError, NewUser};
use crate::document::{self, DocumentKind, NewDocument, Slot};
use crate::store::{Store, StoreError};
use crate::summary::SummaryRecord;
use crate::target::{self, Target, TargetError, TargetKind};
use crate::unit::{self, UnitError};
use crate::with_pool;

/// The round of the demo's assessments.
pub const ROUND: u16 = 2024;
/// The district health centre (the reviewing unit of the demo).
pub const HEALTH_CENTRE: &str = "38-405-TTYT";

/// The 13 communes of seed 002's annex 01, in its order, with ILLUSTRATIVE codes.
pub const COMMUNES: [(&str, &str); 13] = [
    ("99101", "Xã Thiệu Toán"),
    ("99102", "Xã Thiệu Chính"),
    ("99103", "Xã Minh Tâm"),
    ("99104", "Xã Thiệu Lý"),
    ("99105", "Xã Thiệu Vận"),
    ("99106", "Xã Tân Châu"),
    ("99107", "Xã Thiệu Giao"),
    ("99108", "Xã Thiệu Ngọc"),
    ("99109", "Xã Thiệu Thành"),
    ("99110", "Xã Thiệu Công"),
    ("99111", "Xã Thiệu Long"),
    ("99112", "Xã Thiệu Quang"),
    ("99113", "Xã Thiệu Nguyên"),
];

/// Where each commune's assessment stands in the demo, by position in [`COMMUNES`].
pub const STATES: [&str; 13] = [
    "approved",
    "approved",
    "approved",
    "appraised",
    "submitted",
    "submitted",
    "returned",
    "submitted",
    "draft",
    "draft",
    "draft",
    "draft",
    "draft",
];

/// The commune whose assessment has an open conflict (two staff scored one item offline).
pub const CONFLICT_COMMUNE: &str = "99112";

/// One demo account per role: id, role, display name, unit.
pub const ACCOUNTS: [(&str, Role, &str, &str); 6] = [
    (
        "demo.ytthon",
        Role::VillageHealthWorker,
        "Lò Thị Mẫu (hư cấu)",
        "99101-T1",
    ),
    (
        "demo.nhanvien",
        Role::StationStaff,
        "Lê Thị Thử (hư cấu)",
        "99101",
    ),
    (
        "demo.truongtram",
        Role::StationHead,
        "Trần Văn Minh Họa (hư cấu)",
        "99101",
    ),
    (
        "demo.ttyt",
        Role::Reviewer,
        "Phạm Thị Thẩm Định (hư cấu)",
        HEALTH_CENTRE,
    ),
    (
        "demo.syt",
        Role::ProvincialAdmin,
        "Hoàng Văn Sở (hư cấu)",
        "38-SYT",
    ),
    (
        "demo.quantri",
        Role::SystemAdmin,
        "Quản Trị Demo (hư cấu)",
        "",
    ),
];

/// The village health worker account's roster entry.
const VHW_PERSON: &str = "vhw-99101-1";

/// A demo account and its password, to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub user: String,
    pub role: Role,
    pub password: String,
}

/// What loading did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Documents created now.
    pub documents: usize,
    /// Accounts with a new password (created now, or reset).
    pub accounts: Vec<DemoAccount>,
}

/// Why the demo could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Units(#[from] UnitError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Targets(#[from] TargetError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("building a demo document: {0}")]
    Document(String),
}

impl From<sqlx::Error> for DemoError {
    fn from(err: sqlx::Error) -> Self {
        DemoError::Store(StoreError::Query(err))
    }
}

/// Whether the database is empty: no units and no users.
pub async fn database_is_empty(store: &Store) -> Result<bool, StoreError> {
    let (units, users): (i64, i64) = with_pool!(store, pool => {
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM units), (SELECT COUNT(*) FROM users)")
            .fetch_one(pool)
            .await?
    });
    Ok(units == 0 && users == 0)
}

/// The demo's units as a units CSV (see [`crate::unit`]).
pub fn units_csv() -> String {
    let mut csv = String::from(
        "code,kind,name,parent,unit_type,covers\n\
         38,province,Tỉnh Thanh Hóa,,,\n\
         38-SYT,health_department,Sở Y tế Thanh Hóa,38,,\n\
         38-405,district,Huyện Thiệu Hóa,38,,\n\
         38-405-TTYT,health_centre,Trung tâm Y tế huyện Thiệu Hóa,38-405,,\n",
    );
    for (code, name) in COMMUNES {
        csv.push_str(&format!("{code},commune,{name},38-405,xa,\n"));
        for village in 1..=3 {
            csv.push_str(&format!(
                "{code}-T{village},village,Thôn {village},{code},,\n"
            ));
        }
    }
    csv
}

/// Loads what is missing of the demo. With `reset_passwords`, demo accounts that exist get a
/// new password too (and so are listed in [`Loaded::accounts`]).
pub async fn load(store: &Store, reset_passwords: bool, now: i64) -> Result<Loaded, DemoError> {
    let mut loaded = Loaded::default();
    unit::import(store, &units_csv()).await?;
    for (id, role, name, unit) in ACCOUNTS {
        let password =
            crate::cli::generate_password().map_err(|err| DemoError::Document(err.clone()))?;
        match account::find_user(store, id).await {
            Ok(_) if !reset_passwords => continue,
            Ok(_) => account::reset_password(store, id, &password).await?,
            Err(AccountError::UnknownUser(_)) => {
                let new = NewUser {
                    id: id.to_owned(),
                    display_name: name.to_owned(),
                    role,
                    person: (role == Role::VillageHealthWorker).then(|| VHW_PERSON.to_owned()),
                    units: if unit.is_empty() {
                        Vec::new()
                    } else {
                        vec![unit.to_owned()]
                    },
                    password: password.clone(),
                };
                account::add_user(store, &new).await?;
            }
            Err(err) => return Err(err.into()),
        }
        loaded.accounts.push(DemoAccount {
            user: id.to_owned(),
            role,
            password,
        });
    }
    let catalog = shipped_catalogs()
        .into_iter()
        .next()
        .ok_or_else(|| DemoError::Document("no shipped catalog".to_owned()))?;
    for (index, (code, _)) in COMMUNES.iter().enumerate() {
        let roster = build_roster(code, index, now).map_err(DemoError::Document)?;
        if store_document(store, code, DocumentKind::Roster, 0, roster, &catalog).await? {
            loaded.documents += 1;
        }
        let assessment =
            build_assessment(&catalog, code, index, now).map_err(DemoError::Document)?;
        let round = i32::from(ROUND);
        if store_document(
            store,
            code,
            DocumentKind::Assessment,
            round,
            assessment,
            &catalog,
        )
        .await?
        {
            loaded.documents += 1;
        }
    }
    let targets: Vec<Target> = COMMUNES
        .iter()
        .map(|(code, _)| Target {
            commune: (*code).to_owned(),
            kind: TargetKind::Reach,
            local_min_score: None,
        })
        .collect();
    if target::list(store, Some(HEALTH_CENTRE), i64::from(ROUND), None)
        .await?
        .is_empty()
    {
        target::replace(store, HEALTH_CENTRE, i64::from(ROUND), &targets).await?;
    }
    Ok(loaded)
}

/// Stores a demo document in its commune's place, unless the place is taken. Returns whether
/// it was stored.
async fn store_document(
    store: &Store,
    commune: &str,
    kind: DocumentKind,
    round: i32,
    mut doc: AutoCommit,
    catalog: &Catalog,
) -> Result<bool, DemoError> {
    let taken: Option<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT document_id FROM commune_documents WHERE commune = $1 AND kind = $2 AND round = $3")
            .bind(commune)
            .bind(kind.as_str())
            .bind(round)
            .fetch_optional(pool)
            .await?
    });
    if taken.is_some() {
        return Ok(false);
    }
    let id = crate::cli::new_document_id().map_err(DemoError::Document)?;
    let snapshot = Chunk::new(ChunkKind::Snapshot, doc.save());
    let record = SummaryRecord::of(&summarize(&doc, Some(catalog)));
    let new = NewDocument {
        id,
        kind,
        created_by: "tramyte demo",
        by_user: None,
        snapshot: &snapshot,
        summary: &record,
        slot: Some(Slot {
            commune,
            kind,
            round,
            required: true,
        }),
    };
    Ok(document::create(store, &new, "demo").await? == document::Created::Created)
}

fn user(id: &str) -> Result<UserId, String> {
    UserId::parse(id).map_err(|err| err.to_string())
}

fn person_id(id: &str) -> Result<PersonId, String> {
    PersonId::parse(id).map_err(|err| err.to_string())
}

/// A small deterministic sequence, so the demo is the same every time.
fn spread(seed: usize, i: usize, span: u32) -> u32 {
    let mixed = (seed * 7919 + i * 104_729 + 13) % 1_000_003;
    (mixed as u32) % span.max(1)
}

fn build_roster(code: &str, index: usize, now: i64) -> Result<AutoCommit, String> {
    let commune = CommuneCode::parse(code).map_err(|err| err.to_string())?;
    let mut doc = tramyte_shared::roster::new_roster(&commune, now).map_err(|e| e.to_string())?;
    const FAMILY: [&str; 6] = ["Nguyễn", "Lê", "Trịnh", "Đỗ", "Vũ", "Mai"];
    const GIVEN: [&str; 6] = ["An", "Bình", "Chi", "Dung", "Giang", "Hà"];
    let staff = [
        (Title::Doctor, "Bác sĩ đa khoa", StationRole::Head),
        (Title::Assistant, "Y sĩ đa khoa", StationRole::Deputy),
        (Title::Midwife, "Hộ sinh cao đẳng", StationRole::Member),
        (Title::Nurse, "Điều dưỡng trung cấp", StationRole::Member),
    ];
    for (i, (title, qualification, role)) in staff.into_iter().enumerate() {
        let name = format!(
            "{} Văn {} Mẫu (hư cấu)",
            FAMILY[(index + i) % FAMILY.len()],
            GIVEN[(index * 3 + i) % GIVEN.len()]
        );
        let person = Person {
            name,
            title,
            qualification: qualification.to_owned(),
            role,
            ..Person::default()
        };
        let id = person_id(&format!("staff-{code}-{}", i + 1))?;
        put_person(&mut doc, Group::Staff, &id, &person, now).map_err(|e| e.to_string())?;
    }
    for village in 1..=3 {
        let village_id = format!("{code}-T{village}");
        let id = VillageId::parse(&village_id).map_err(|err| err.to_string())?;
        let name = format!("Thôn {village}");
        put_village(&mut doc, &id, &Village { name }, now).map_err(|e| e.to_string())?;
        let worker = Person {
            name: format!(
                "{} Thị {} Thôn (hư cấu)",
                FAMILY[(index + village) % FAMILY.len()],
                GIVEN[(index + village * 2) % GIVEN.len()]
            ),
            title: Title::Other,
            qualification: "Nhân viên y tế thôn".to_owned(),
            role: StationRole::Member,
            village: Some(village_id),
            ..Person::default()
        };
        let id = person_id(&format!("vhw-{code}-{village}"))?;
        put_person(&mut doc, Group::VillageWorker, &id, &worker, now).map_err(|e| e.to_string())?;
    }
    Ok(doc)
}

/// The assessment of commune `index`, brought to its state in [`STATES`] by the demo accounts.
fn build_assessment(
    catalog: &Catalog,
    code: &str,
    index: usize,
    now: i64,
) -> Result<AutoCommit, String> {
    let err = |e: tramyte_shared::document::DocumentError| e.to_string();
    let new = NewAssessment {
        commune: CommuneCode::parse(code).map_err(|e| e.to_string())?,
        round: ROUND,
        zone: Zone::new(1 + (index % 3) as i64).map_err(|e| e.to_string())?,
        unit_type: UnitType::Xa,
    };
    let mut doc = new_assessment(catalog, &new, now).map_err(err)?;
    let staff = user("demo.nhanvien")?;
    let head = user("demo.truongtram")?;
    let reviewer = user("demo.ttyt")?;
    let state = STATES[index];
    let items: Vec<(ItemId, Points)> = catalog
        .items()
        .map(|item| (item.id().clone(), item.max_points()))
        .collect();
    // Drafts are partly scored; everything else fully. Scores sit between 75% and 100%.
    let scored = if state == "draft" {
        index % items.len()
    } else {
        items.len()
    };
    let mut at = now;
    for (i, (item, max)) in items.iter().enumerate().take(scored) {
        at += 60_000;
        let floor = max.halves() * 3 / 4;
        let halves = floor + spread(index, i, max.halves() - floor + 1);
        let answer = Answer::Points(Points::from_halves(halves));
        set_score(&mut doc, Side::SelfAssessment, item, answer, &staff, at).map_err(err)?;
    }
    if let Some((item, _)) = items.first() {
        set_note(&mut doc, item, "Đã họp Ban chỉ đạo quý I (minh họa).", at).map_err(err)?;
    }
    if code == CONFLICT_COMMUNE {
        // Two staff score TC2 offline on two phones; merged, both values stay visible.
        let item = ItemId::parse("TC2").map_err(|e| e.to_string())?;
        let mut phone_a = doc.fork().with_actor(ActorId::from(&[0xA1; 16][..]));
        let mut phone_b = doc.fork().with_actor(ActorId::from(&[0xB2; 16][..]));
        let a = Answer::Points(Points::whole(7));
        let b = Answer::Points(Points::whole(8));
        set_score(&mut phone_a, Side::SelfAssessment, &item, a, &staff, at + 1).map_err(err)?;
        set_score(&mut phone_b, Side::SelfAssessment, &item, b, &head, at + 2).map_err(err)?;
        doc.merge(&mut phone_a).map_err(|e| e.to_string())?;
        doc.merge(&mut phone_b).map_err(|e| e.to_string())?;
    }
    if state == "draft" {
        return Ok(doc);
    }
    at += 3_600_000;
    append_event(
        &mut doc,
        &EventKind::Submit,
        &head,
        at,
        "Trạm nộp hồ sơ (minh họa).",
    )
    .map_err(err)?;
    if state == "submitted" {
        return Ok(doc);
    }
    if state == "returned" {
        let item = items
            .get(4)
            .map(|(item, _)| item.clone())
            .ok_or("the catalog has fewer than 5 items")?;
        at += 86_400_000;
        set_review_comment(
            &mut doc,
            &item,
            "Thiếu biên bản kiểm tra; bổ sung minh chứng (minh họa).",
            at,
        )
        .map_err(err)?;
        append_event(
            &mut doc,
            &EventKind::Return,
            &reviewer,
            at,
            "Trả lại để bổ sung minh chứng tiêu chí 5 (minh họa).",
        )
        .map_err(err)?;
        return Ok(doc);
    }
    for (i, (item, max)) in items.iter().enumerate() {
        at += 60_000;
        let floor = max.halves() * 4 / 5;
        let halves = floor + spread(index + 17, i, max.halves() - floor + 1);
        let answer = Answer::Points(Points::from_halves(halves));
        set_score(&mut doc, Side::Review, item, answer, &reviewer, at).map_err(err)?;
    }
    at += 86_400_000;
    append_event(
        &mut doc,
        &EventKind::Appraise,
        &reviewer,
        at,
        "Thẩm định tại trạm.",
    )
    .map_err(err)?;
    if state == "appraised" {
        return Ok(doc);
    }
    let heads = tramyte_shared::document::heads(&mut doc);
    at += 86_400_000;
    append_event(
        &mut doc,
        &EventKind::Approve { heads },
        &reviewer,
        at,
        "Đạt.",
    )
    .map_err(err)?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tramyte_shared::assessment::read_assessment;

    #[test]
    fn every_assessment_reaches_its_state_and_one_has_a_conflict() {
        let catalog = shipped_catalogs().remove(0);
        for (index, (code, _)) in COMMUNES.iter().enumerate() {
            let doc = build_assessment(&catalog, code, index, 1_704_067_200_000).unwrap();
            let summary = summarize(&doc, Some(&catalog));
            let status = serde_json::to_value(summary.status).unwrap();
            assert_eq!(status, STATES[index], "{code}");
            assert_eq!(
                summary.open_conflicts,
                u32::from(*code == CONFLICT_COMMUNE),
                "{code}"
            );
            assert_eq!(summary.problem, None);
            if STATES[index] == "approved" {
                assert!(summary.review_total.is_some(), "{code}");
            }
            let view = read_assessment(&doc).unwrap();
            assert_eq!(view.commune, *code);
        }
    }

    #[test]
    fn the_units_file_is_valid_and_names_the_thirteen_communes() {
        let units = unit::parse_units(&units_csv(), &[]).unwrap();
        assert_eq!(
            units
                .iter()
                .filter(|u| u.kind == unit::UnitKind::Commune)
                .count(),
            13
        );
        assert!(units.iter().any(|u| u.name == "Xã Thiệu Nguyên"));
    }
}
