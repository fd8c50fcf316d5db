//! Test people: a small hierarchy (Thanh Hóa, Thiệu Hóa, two communes) and users of every role,
//! signed in for real. Everyone here is fictional.

use tramyte_server::domain::account::{self, NewUser};
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;

/// Units for tests: one province, its health department, a district with its health centre,
/// two communes and a village.
pub const UNITS: &str = "code,kind,name,parent,unit_type,covers
38,province,Tỉnh Thanh Hóa,,,
38-SYT,health_department,Sở Y tế Thanh Hóa,38,,
38-405,district,Huyện Thiệu Hóa,38,,
38-405-TTYT,health_centre,Trung tâm Y tế huyện Thiệu Hóa,38-405,,
16024,commune,Xã Thiệu Vận (thử),38-405,xa,
16025,commune,Xã Thiệu Giao (thử),38-405,xa,
16024-T1,village,Thôn 1 (thử),16024,,
";

/// The password every test user has.
pub const PASSWORD: &str = "mật-khẩu-thử-1";

/// Imports [`UNITS`].
pub async fn seed_units(store: &Store) {
    tramyte_server::domain::unit::import(store, UNITS)
        .await
        .expect("test units import");
}

/// Adds a user attached to `units` and signs them in; returns the session token.
pub async fn user(store: &Store, id: &str, role: Role, units: &[&str]) -> String {
    let new = NewUser {
        id: id.to_owned(),
        display_name: format!("{id} (thử)"),
        role,
        person: (role == Role::VillageHealthWorker).then(|| "vhw-1".to_owned()),
        units: units.iter().map(|u| (*u).to_owned()).collect(),
        password: PASSWORD.to_owned(),
    };
    account::add_user(store, &new)
        .await
        .expect("add a test user");
    let (token, _) = account::sign_in(store, id, PASSWORD, "test device")
        .await
        .expect("sign in");
    token
}

/// Opens the 2024 assessment (QĐ 1300, zone 1) of a test commune, as the server's CLI does.
pub async fn open_assessment(store: &Store, commune: &str) -> tramyte_shared::sync::DocumentId {
    open_assessment_of(store, commune, 2024).await
}

/// The current year in Vietnam: the round whose reports count what a browser test does today
/// (a report of a past year counts the statuses at that year's end).
pub fn current_round() -> u16 {
    let today = tramyte_server::domain::date::vietnam_date(tramyte_server::store::now_millis());
    today[..4].parse().expect("a year")
}

/// Opens the assessment of `round` (QĐ 1300, zone 1) of a test commune.
pub async fn open_assessment_of(
    store: &Store,
    commune: &str,
    round: u16,
) -> tramyte_shared::sync::DocumentId {
    let assessment = serde_json::json!({
        "commune": commune, "catalog": "QD1300-2023", "round": round, "zone": 1, "unit_type": "xa",
    });
    tramyte_server::cli::create_document(
        store,
        tramyte_server::config::DocKindArg::Assessment,
        assessment.as_object().expect("an object"),
    )
    .await
    .expect("open a test assessment")
}
