//! Demo data (dữ liệu minh họa), drawn from the seeds:
//! - the province of Thanh Hóa, the district of Thiệu Hóa with its health centre, and the 13
//!   communes its 2024 plan targets to reach the national criteria (seed 002, annex 01), with
//!   villages, rosters of fictional people and assessments of the 2024 round in various states;
//! - Hà Nội's district of Long Biên, whose 14 wards must maintain the criteria with at least
//!   95/100 points each (seed 004; its plan is for 2023, the demo uses it as the 2024 target);
//! - the 2024 targets of both health centres, and one demo account per role (plus Long Biên's
//!   and the regional centre's reviewers) with a generated password;
//! - the current year's round (the year of the server's clock when the demo is loaded) under
//!   the two-level organisation in force since 1 July 2025: communes under the province
//!   directly, reviewed by a regional health centre (Trung tâm Y tế khu vực), with dossiers in
//!   progress, a conflict, a returned one and this year's targets, dated relative to that day
//!   (see [`CURRENT_COMMUNES`]);
//! - a FICTIONAL province (Minh Hòa, [`SHEET_PROVINCE`]) whose indicator sheet
//!   (`server/catalogs/MINHHOA-2026.json`, the source of `MINHHOA-2026.xlsx`) is published as its
//!   own criteria set, marked as an illustration and never the official annex, with this year's
//!   round opened on it for its two communes ([`SHEET_COMMUNES`]), so the indicator-level editor
//!   has something to score.
//!
//! The 2024 history keeps its districts. Every 2024 workflow event is dated in 2024 (see
//! [`DATES`] and [`WARD_DATES`]), some before and some after 30 June, so the 6-monthly and the
//! yearly report of 2024 differ as they would. Each document's last activity is its last dated
//! step, not the moment the demo was loaded.
//!
//! Every person who signs something has a display name: the stations' fictional staff who have
//! no demo account get an account without a password (disabled; an administrator may give
//! them one), named as in their station's roster, and the village health worker account is
//! her roster entry.
//!
//! The commune and ward codes here (99101 to 99113, 99201 to 99214, 99301 to 99308) and the
//! district and regional centre codes are ILLUSTRATIVE, not the official codes of these units
//! (which we do not have): do not import them next to real data. The current round's communes
//! and regional centre are illustrative names too and say so ("(minh họa)"). Every person is
//! fictional and says so in their name ("(hư cấu)").
//!
//! Loading is idempotent: units are upserted, accounts and documents are created only when
//! missing (each assessment and roster claims its commune's place, as a round opening does), so
//! running it twice duplicates nothing. `tramyte serve` loads it on the first start with an
//! empty database (no units, no users); `tramyte demo` loads what is missing and gives the demo
//! accounts new passwords, since passwords are only stored as hashes.

mod documents;
mod plan;

use documents::{HEAD_POSITION, STAFF_POSITION, build_assessment, build_roster, staff_name};
pub use plan::current_year;
use plan::{Plan, commune_plan, current_plan, ward_plan};

use automerge::AutoCommit;
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

use crate::domain::account::{self, AccountError, NewUser};
use crate::domain::date::vietnam_millis;
use crate::domain::summary::SummaryRecord;
use crate::domain::target::{self, Target, TargetError, TargetKind};
use crate::domain::unit::{self, UnitError};
use crate::store::document::{self, DocumentKind, NewDocument, Slot};
use crate::store::{Store, StoreError};

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

/// When each commune's dossier moved in 2024 (Vietnam dates; empty: not yet), by position in
/// [`COMMUNES`]: submitted; returned or appraised; approved. Self-assessment starts in March.
pub const DATES: [(&str, &str, &str); 13] = [
    ("2024-04-22", "2024-05-28", "2024-06-14"),
    ("2024-06-10", "2024-08-20", "2024-09-12"),
    ("2024-07-15", "2024-09-05", "2024-10-08"),
    ("2024-08-12", "2024-10-22", ""),
    ("2024-06-24", "", ""),
    ("2024-09-30", "", ""),
    ("2024-05-30", "2024-06-18", ""),
    ("2024-11-05", "", ""),
    ("", "", ""),
    ("", "", ""),
    ("", "", ""),
    ("", "", ""),
    ("", "", ""),
];

/// The commune whose assessment has an open conflict (two staff scored one item offline).
pub const CONFLICT_COMMUNE: &str = "99112";

/// The Long Biên district health centre (reviews the 14 wards).
pub const LONG_BIEN_CENTRE: &str = "01-004-TTYT";

/// Long Biên's local minimum total for maintaining the criteria (seed 004: ≥ 95/100).
pub const LONG_BIEN_MIN_SCORE: Points = Points::whole(95);

/// The 14 wards of Long Biên (seed 004), with ILLUSTRATIVE codes.
pub const WARDS: [(&str, &str); 14] = [
    ("99201", "Phường Bồ Đề"),
    ("99202", "Phường Cự Khối"),
    ("99203", "Phường Đức Giang"),
    ("99204", "Phường Gia Thụy"),
    ("99205", "Phường Giang Biên"),
    ("99206", "Phường Long Biên"),
    ("99207", "Phường Ngọc Lâm"),
    ("99208", "Phường Ngọc Thụy"),
    ("99209", "Phường Phúc Đồng"),
    ("99210", "Phường Phúc Lợi"),
    ("99211", "Phường Sài Đồng"),
    ("99212", "Phường Thạch Bàn"),
    ("99213", "Phường Thượng Thanh"),
    ("99214", "Phường Việt Hưng"),
];

/// Where each ward's 2024 assessment stands, by position in [`WARDS`].
pub const WARD_STATES: [&str; 14] = [
    "maintained",
    "maintained",
    "maintained",
    "maintained",
    "maintained",
    "maintained",
    "maintained",
    "approved",
    "maintained",
    "maintained",
    "maintained",
    "approved",
    "appraised",
    "submitted",
];

/// When each ward's dossier moved in 2024: submitted, appraised, approved, maintenance recorded.
pub const WARD_DATES: [(&str, &str, &str, &str); 14] = [
    ("2024-04-15", "2024-05-20", "2024-06-05", "2024-11-20"),
    ("2024-04-18", "2024-05-22", "2024-06-12", "2024-11-20"),
    ("2024-04-25", "2024-06-03", "2024-06-19", "2024-11-20"),
    ("2024-05-06", "2024-06-10", "2024-06-26", "2024-11-20"),
    ("2024-05-13", "2024-06-17", "2024-07-03", "2024-11-20"),
    ("2024-05-20", "2024-06-24", "2024-07-10", "2024-11-20"),
    ("2024-05-27", "2024-07-01", "2024-07-17", "2024-11-20"),
    ("2024-06-03", "2024-07-08", "2024-07-24", ""),
    ("2024-06-10", "2024-07-15", "2024-07-31", "2024-11-20"),
    ("2024-06-17", "2024-07-22", "2024-08-07", "2024-11-20"),
    ("2024-06-24", "2024-07-29", "2024-08-14", "2024-11-20"),
    ("2024-07-01", "2024-08-05", "2024-08-21", ""),
    ("2024-07-08", "2024-09-09", "", ""),
    ("2024-10-14", "", "", ""),
];

/// Half-points each ward's reviewer took off the maximum: every ward keeps at least 95 points
/// but Ngọc Thụy (seed 004 plans its liquid-waste system), at 93.5.
pub const WARD_DEDUCTIONS: [u32; 14] = [4, 2, 6, 3, 8, 5, 4, 13, 2, 6, 3, 5, 7, 9];

/// The regional health centre (Trung tâm Y tế khu vực) reviewing the current round's communes,
/// under the province since districts ended on 1 July 2025. ILLUSTRATIVE code and name.
pub const REGIONAL_CENTRE: &str = "38-TTYTKV-01";

/// The current round's communes, under the province directly, with ILLUSTRATIVE codes and names
/// (not the communes as actually merged in 2025).
pub const CURRENT_COMMUNES: [(&str, &str); 8] = [
    ("99301", "Xã Thiệu Toán (minh họa)"),
    ("99302", "Xã Thiệu Tiến (minh họa)"),
    ("99303", "Xã Thiệu Quang (minh họa)"),
    ("99304", "Xã Đông Tiến (minh họa)"),
    ("99305", "Xã Tân Châu (minh họa)"),
    ("99306", "Xã Thiệu Ngọc (minh họa)"),
    ("99307", "Xã Ấp Mới (minh họa)"),
    ("99308", "Xã Ưng Hòa (minh họa)"),
];

/// Where each current dossier stands, by position in [`CURRENT_COMMUNES`].
pub const CURRENT_STATES: [&str; 8] = [
    "draft",
    "returned",
    "draft",
    "submitted",
    "appraised",
    "approved",
    "draft",
    "submitted",
];

/// How many days before the demo was loaded each current dossier moved: self-assessment
/// started; submitted; returned or appraised; approved (0: not yet). Never before 1 January
/// of the round's year.
pub const CURRENT_DAYS_AGO: [(i64, i64, i64, i64); 8] = [
    (30, 0, 0, 0),
    (45, 25, 12, 0),
    (28, 0, 0, 0),
    (40, 6, 0, 0),
    (60, 35, 10, 0),
    (75, 50, 30, 14),
    (5, 0, 0, 0),
    (35, 2, 0, 0),
];

/// The current commune whose dossier has an open conflict.
pub const CURRENT_CONFLICT_COMMUNE: &str = "99303";

/// The FICTIONAL province whose indicator sheet the demo publishes (an unused province code).
pub const SHEET_PROVINCE: &str = "97";

/// Its communes, ILLUSTRATIVE, with this year's round on its sheet.
pub const SHEET_COMMUNES: [(&str, &str); 2] = [
    ("99401", "Xã Minh Hòa Một (minh họa)"),
    ("99402", "Xã Minh Hòa Hai (minh họa)"),
];

/// The fictional province's indicator sheet, in the catalog file format.
pub const SHEET_SOURCE: &str = include_str!("../catalogs/MINHHOA-2026.json");

/// One demo account per role, Long Biên's reviewer, the regional centre's, and the fictional
/// province's administrator and station: id, role, display name, units.
pub const ACCOUNTS: [(&str, Role, &str, &[&str]); 10] = [
    (
        "demo.ytthon",
        Role::VillageHealthWorker,
        VHW_NAME,
        &["99301-T1"],
    ),
    (
        "demo.nhanvien",
        Role::StationStaff,
        STAFF_NAME,
        &["99101", "99301"],
    ),
    (
        "demo.truongtram",
        Role::StationHead,
        HEAD_NAME,
        &["99101", "99301"],
    ),
    (
        "demo.ttyt",
        Role::Reviewer,
        "Phạm Thị Thẩm Định (hư cấu)",
        &[HEALTH_CENTRE],
    ),
    (
        "demo.ttyt.lb",
        Role::Reviewer,
        "Đỗ Thị Duy Trì (hư cấu)",
        &[LONG_BIEN_CENTRE],
    ),
    (
        "demo.ttytkv",
        Role::Reviewer,
        "Ngô Thị Khu Vực (hư cấu)",
        &[REGIONAL_CENTRE],
    ),
    (
        "demo.syt",
        Role::ProvincialAdmin,
        "Hoàng Văn Sở (hư cấu)",
        &["38-SYT"],
    ),
    (
        "demo.quantri",
        Role::SystemAdmin,
        "Quản Trị Demo (hư cấu)",
        &[],
    ),
    (
        "demo.syt.mh",
        Role::ProvincialAdmin,
        "Vũ Thị Bảng Điểm (hư cấu)",
        &["97-SYT"],
    ),
    (
        "demo.nhanvien.mh",
        Role::StationStaff,
        "Đinh Văn Chỉ Tiêu (hư cấu)",
        &["99401"],
    ),
];

/// The demo station accounts' names, also their entries in their communes' rosters.
const STAFF_NAME: &str = "Lê Thị Thử (hư cấu)";
const HEAD_NAME: &str = "Trần Văn Minh Họa (hư cấu)";
const VHW_NAME: &str = "Lò Thị Mẫu (hư cấu)";

/// The village health worker account's roster entry (in [`CURRENT_COMMUNES`]' first roster).
const VHW_PERSON: &str = "vhw-99301-1";

/// The communes whose station people are the demo accounts (2024's and the current round's
/// Thiệu Toán).
const DEMO_STATIONS: [&str; 2] = ["99101", "99301"];

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
    store.is_empty().await
}

/// The demo's units as a units CSV (see [`crate::domain::unit`]).
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
    csv.push_str(
        "01,province,Thành phố Hà Nội,,,\n\
         01-SYT,health_department,Sở Y tế Hà Nội,01,,\n\
         01-004,district,Quận Long Biên,01,,\n\
         01-004-TTYT,health_centre,Trung tâm Y tế quận Long Biên,01-004,,\n",
    );
    for (code, name) in WARDS {
        csv.push_str(&format!("{code},commune,{name},01-004,phuong,\n"));
    }
    // Since 1 July 2025: communes under the province, reviewed by a regional centre.
    for (code, name) in CURRENT_COMMUNES {
        csv.push_str(&format!("{code},commune,{name},38,xa,\n"));
        for village in 1..=3 {
            csv.push_str(&format!(
                "{code}-T{village},village,Thôn {village},{code},,\n"
            ));
        }
    }
    csv.push_str(&format!(
        "{SHEET_PROVINCE},province,Tỉnh Minh Hòa (minh họa — không có thật),,,\n\
         {SHEET_PROVINCE}-SYT,health_department,Sở Y tế tỉnh Minh Hòa (minh họa),{SHEET_PROVINCE},,\n"
    ));
    for (code, name) in SHEET_COMMUNES {
        csv.push_str(&format!("{code},commune,{name},{SHEET_PROVINCE},xa,\n"));
    }
    let covered: Vec<&str> = CURRENT_COMMUNES.iter().map(|(code, _)| *code).collect();
    csv.push_str(&format!(
        "{REGIONAL_CENTRE},health_centre,Trung tâm Y tế khu vực Thiệu Hóa (minh họa),38,,{}\n",
        covered.join(";")
    ));
    csv
}

/// Loads what is missing of the demo. With `reset_passwords`, demo accounts that exist get a
/// new password too (and so are listed in [`Loaded::accounts`]).
pub async fn load(store: &Store, reset_passwords: bool, now: i64) -> Result<Loaded, DemoError> {
    let mut loaded = Loaded::default();
    unit::import(store, &units_csv()).await?;
    for (id, role, name, units) in ACCOUNTS {
        let password = crate::domain::account::generate_password()
            .map_err(|err| DemoError::Document(err.clone()))?;
        match account::find_user(store, id).await {
            Ok(_) if !reset_passwords => continue,
            Ok(_) => account::reset_password(store, id, &password).await?,
            Err(AccountError::UnknownUser(_)) => {
                let new = NewUser {
                    id: id.to_owned(),
                    display_name: name.to_owned(),
                    role,
                    person: (role == Role::VillageHealthWorker).then(|| VHW_PERSON.to_owned()),
                    units: units.iter().map(|unit| (*unit).to_owned()).collect(),
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
    let year = current_year(now);
    let plans: Vec<(&str, usize, Plan)> = COMMUNES
        .iter()
        .enumerate()
        .map(|(index, (code, _))| commune_plan(index).map(|plan| (*code, index, plan)))
        .chain(
            WARDS
                .iter()
                .enumerate()
                .map(|(index, (code, _))| ward_plan(index).map(|plan| (*code, index, plan))),
        )
        .chain(
            CURRENT_COMMUNES
                .iter()
                .enumerate()
                .map(|(index, (code, _))| {
                    current_plan(index, now).map(|plan| (*code, index, plan))
                }),
        )
        .collect::<Result<_, String>>()
        .map_err(DemoError::Document)?;
    // The stations' fictional staff: accounts without a password, named as in their roster.
    for (code, index, _) in &plans {
        if DEMO_STATIONS.contains(code) {
            continue;
        }
        let (staff, head) = station_people(code).map_err(DemoError::Document)?;
        for (user, role, position) in [
            (staff, Role::StationStaff, STAFF_POSITION),
            (head, Role::StationHead, HEAD_POSITION),
        ] {
            account::add_person_without_sign_in(
                store,
                user.as_str(),
                &staff_name(code, *index, position),
                role,
                code,
            )
            .await?;
        }
    }
    for (code, index, plan) in plans {
        let villages = if plan.unit_type == UnitType::Xa { 3 } else { 0 };
        // The roster as it stood when self-assessment began.
        let listed = plan.start - 86_400_000;
        let roster = build_roster(code, index, villages, listed).map_err(DemoError::Document)?;
        let roster_dated = (listed, None);
        if store_document(
            store,
            code,
            DocumentKind::Roster,
            0,
            roster,
            &catalog,
            roster_dated,
        )
        .await?
        {
            loaded.documents += 1;
        }
        let assessment =
            build_assessment(&catalog, code, index, &plan).map_err(DemoError::Document)?;
        let round = i32::from(plan.round);
        // Its last activity is its last dated step, not the moment the demo was loaded.
        let last = last_signed(&assessment).unwrap_or((plan.start, String::new()));
        let by = Some(last.1.as_str()).filter(|by| !by.is_empty());
        if store_document(
            store,
            code,
            DocumentKind::Assessment,
            round,
            assessment,
            &catalog,
            (last.0, by),
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
    let maintain: Vec<Target> = WARDS
        .iter()
        .map(|(code, _)| Target {
            commune: (*code).to_owned(),
            kind: TargetKind::Maintain,
            local_min_score: Some(LONG_BIEN_MIN_SCORE),
        })
        .collect();
    // This year's: most communes to reach the criteria, the approved one and the last to
    // maintain them.
    let this_year: Vec<Target> = CURRENT_COMMUNES
        .iter()
        .enumerate()
        .map(|(index, (code, _))| Target {
            commune: (*code).to_owned(),
            kind: if matches!(index, 5 | 7) {
                TargetKind::Maintain
            } else {
                TargetKind::Reach
            },
            local_min_score: None,
        })
        .collect();
    let history = i64::from(ROUND);
    for (unit, year, targets) in [
        (HEALTH_CENTRE, history, targets),
        (LONG_BIEN_CENTRE, history, maintain),
        (REGIONAL_CENTRE, i64::from(year), this_year),
    ] {
        if target::list(store, Some(unit), year, None)
            .await?
            .is_empty()
        {
            target::replace(store, unit, year, &targets).await?;
        }
    }
    // The fictional province's sheet as its own criteria set, and this year's round on it.
    let (sheet, _) =
        crate::domain::catalog::import_into(store, SHEET_SOURCE, Some(SHEET_PROVINCE), now)
            .await
            .map_err(|err| DemoError::Document(err.to_string()))?;
    let request = crate::domain::round::OpenRound {
        round: year,
        catalog: sheet.code.as_str().to_owned(),
        revision: Some(sheet.revision),
        communes: Some(
            SHEET_COMMUNES
                .iter()
                .map(|(c, _)| (*c).to_owned())
                .collect(),
        ),
        zones: Default::default(),
    };
    let opened = crate::domain::round::open_round(store, None, &request, "demo")
        .await
        .map_err(|err| DemoError::Document(err.to_string()))?;
    loaded.documents += opened.created;
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
    dated: (i64, Option<&str>),
) -> Result<bool, DemoError> {
    let taken = crate::store::document::slot_holder(store, commune, kind, round).await?;
    if taken.is_some() {
        return Ok(false);
    }
    let id = crate::store::document::new_document_id().map_err(DemoError::Document)?;
    let snapshot = Chunk::new(ChunkKind::Snapshot, doc.save());
    let record = SummaryRecord::of(&summarize(&mut doc, Some(catalog)));
    let new = NewDocument {
        id,
        kind,
        created_by: "tramyte demo",
        by_user: None,
        dated: Some(dated),
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

/// The latest signed step of an assessment (a score or a workflow event): when, and who.
fn last_signed(doc: &AutoCommit) -> Option<(i64, String)> {
    let view = tramyte_shared::assessment::read_assessment(doc).ok()?;
    let scores = view
        .items
        .values()
        .flat_map(|item| [&item.self_score, &item.review_score])
        .flatten()
        .map(|score| (score.at, score.by.clone()));
    let events = view.events.iter().map(|event| (event.at, event.by.clone()));
    scores.chain(events).max_by_key(|(at, _)| *at)
}

fn user(id: &str) -> Result<UserId, String> {
    UserId::parse(id).map_err(|err| err.to_string())
}

/// Who self-assesses and submits for a commune or ward (nhân viên trạm, trưởng trạm): the demo
/// accounts at Thiệu Toán (the first commune), elsewhere that station's own fictional staff,
/// `demo.nhanvien.<code>` and `demo.truongtram.<code>`, who have no account.
fn station_people(code: &str) -> Result<(UserId, UserId), String> {
    if DEMO_STATIONS.contains(&code) {
        Ok((user("demo.nhanvien")?, user("demo.truongtram")?))
    } else {
        Ok((
            user(&format!("demo.nhanvien.{code}"))?,
            user(&format!("demo.truongtram.{code}"))?,
        ))
    }
}

fn person_id(id: &str) -> Result<PersonId, String> {
    PersonId::parse(id).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tramyte_shared::assessment::read_assessment;
    use tramyte_shared::scoring::Verdict;
    use tramyte_shared::workflow::{Status, status_at};

    #[test]
    fn every_assessment_reaches_its_state_and_one_has_a_conflict() {
        let catalog = shipped_catalogs().remove(0);
        let h1_end = crate::domain::report::Period::H1.end_millis(ROUND);
        for (index, (code, _)) in COMMUNES.iter().enumerate() {
            let plan = commune_plan(index).unwrap();
            let mut doc = build_assessment(&catalog, code, index, &plan).unwrap();
            let summary = summarize(&mut doc, Some(&catalog));
            assert_eq!(
                summary.status.map(Status::name),
                Some(STATES[index]),
                "{code}"
            );
            assert_eq!(
                summary.open_conflicts,
                u32::from(*code == CONFLICT_COMMUNE),
                "{code}"
            );
            assert_eq!(summary.problem, None);
            if STATES[index] == "approved" {
                assert!(summary.review_total.is_some(), "{code}");
            }
            // Every step is dated as planned, in order.
            let dated: Vec<i64> = summary.status_history.iter().map(|c| c.at).collect();
            assert!(dated.is_sorted(), "{code}: {dated:?}");
            if let Some(first) = dated.first() {
                assert_eq!(Some(*first), plan.submitted, "{code}");
            }
            let view = read_assessment(&doc).unwrap();
            assert_eq!(view.commune, *code);
        }
        // On 30 June 2024 one commune was approved and four had submitted.
        let at_h1: Vec<Status> = COMMUNES
            .iter()
            .enumerate()
            .map(|(index, (code, _))| {
                let doc = build_assessment(&catalog, code, index, &commune_plan(index).unwrap());
                status_at(
                    &summarize(&mut doc.unwrap(), Some(&catalog)).status_history,
                    h1_end,
                )
            })
            .collect();
        let count = |s: Status| at_h1.iter().filter(|x| **x == s).count();
        assert_eq!(count(Status::Approved), 1);
        assert_eq!(count(Status::Submitted) + count(Status::Returned), 3);
    }

    #[test]
    fn each_station_self_assesses_and_submits_under_its_own_staff() {
        let catalog = shipped_catalogs().remove(0);
        let stations = COMMUNES
            .iter()
            .enumerate()
            .map(|(index, (code, _))| (*code, index, commune_plan(index).unwrap()))
            .chain(
                WARDS
                    .iter()
                    .enumerate()
                    .map(|(index, (code, _))| (*code, index, ward_plan(index).unwrap())),
            );
        for (code, index, plan) in stations {
            let doc = build_assessment(&catalog, code, index, &plan).unwrap();
            let view = read_assessment(&doc).unwrap();
            let (staff, head) = if code == "99101" {
                ("demo.nhanvien".to_owned(), "demo.truongtram".to_owned())
            } else {
                (
                    format!("demo.nhanvien.{code}"),
                    format!("demo.truongtram.{code}"),
                )
            };
            let self_scorers: std::collections::BTreeSet<&str> = view
                .items
                .values()
                .filter_map(|item| item.self_score.as_ref())
                .map(|score| score.by.as_str())
                .collect();
            let expected: std::collections::BTreeSet<&str> = if code == CONFLICT_COMMUNE {
                [staff.as_str(), head.as_str()].into()
            } else if self_scorers.is_empty() {
                std::collections::BTreeSet::new()
            } else {
                [staff.as_str()].into()
            };
            assert_eq!(self_scorers, expected, "{code}");
            for event in &view.events {
                if event.kind == EventKind::Submit {
                    assert_eq!(event.by, head, "{code}");
                }
            }
        }
    }

    #[test]
    fn the_wards_keep_95_points_but_ngoc_thuy() {
        let catalog = shipped_catalogs().remove(0);
        for (index, (code, name)) in WARDS.iter().enumerate() {
            let plan = ward_plan(index).unwrap();
            let mut doc = build_assessment(&catalog, code, index, &plan).unwrap();
            let summary = summarize(&mut doc, Some(&catalog));
            assert_eq!(summary.problem, None, "{name}");
            assert_eq!(
                summary.status.map(Status::name),
                Some(WARD_STATES[index]),
                "{name}"
            );
            let Some(review) = summary.review_total else {
                assert!(matches!(WARD_STATES[index], "submitted"), "{name}");
                continue;
            };
            let expected = 100.0 - f64::from(WARD_DEDUCTIONS[index]) / 2.0;
            assert_eq!(review.to_f64(), expected, "{name}");
            assert_eq!(
                review >= LONG_BIEN_MIN_SCORE,
                *name != "Phường Ngọc Thụy",
                "{name}: {review}"
            );
            assert_eq!(summary.verdict, Some(Verdict::Pass), "{name}");
        }
    }

    #[test]
    fn the_current_round_is_this_year_and_dated_before_today() {
        let catalog = shipped_catalogs().remove(0);
        // 20 February 2026 and 5 January 2026 (early in the year: dates kept in the year).
        for now in [1_771_578_000_000_i64, 1_767_600_000_000] {
            assert_eq!(current_year(now), 2026);
            let year_start = vietnam_millis("2026-01-01", 0).unwrap();
            for (index, (code, _)) in CURRENT_COMMUNES.iter().enumerate() {
                let plan = current_plan(index, now).unwrap();
                let mut doc = build_assessment(&catalog, code, index, &plan).unwrap();
                let summary = summarize(&mut doc, Some(&catalog));
                assert_eq!(
                    summary.status.map(Status::name),
                    Some(CURRENT_STATES[index]),
                    "{code}"
                );
                assert_eq!(
                    summary.open_conflicts,
                    u32::from(*code == CURRENT_CONFLICT_COMMUNE),
                    "{code}"
                );
                let view = read_assessment(&doc).unwrap();
                assert_eq!(view.round, 2026);
                let dated: Vec<i64> = summary.status_history.iter().map(|c| c.at).collect();
                assert!(dated.is_sorted(), "{code}: {dated:?}");
                let at = last_signed(&doc).map_or(plan.start, |(at, _)| at);
                assert!(at >= year_start, "{code}");
                if now == 1_771_578_000_000 {
                    assert!(at < now, "{code}: dated before the demo was loaded");
                }
            }
        }
        assert!(CURRENT_STATES.contains(&"returned"));
    }

    #[test]
    fn the_units_file_is_valid_and_names_the_communes_and_wards() {
        let units = unit::parse_units(&units_csv(), &[]).unwrap();
        assert_eq!(
            units
                .iter()
                .filter(|u| u.kind == unit::UnitKind::Commune)
                .count(),
            13 + 14 + 8 + 2
        );
        let centre = units.iter().find(|u| u.code == REGIONAL_CENTRE).unwrap();
        assert_eq!(centre.parent.as_deref(), Some("38"));
        assert_eq!(centre.covers.len(), CURRENT_COMMUNES.len());
        assert!(units.iter().any(|u| u.name == "Xã Thiệu Nguyên"));
        assert!(units.iter().any(|u| u.name == "Phường Ngọc Thụy"));
    }
}
