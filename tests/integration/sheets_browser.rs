//! A province brings its indicator sheet, in headless Chromium (`tests/e2e/indicator_sheet.mjs`):
//! its administrator downloads the template, uploads a sheet with mistakes and sees every
//! problem at its cell, uploads the fixed sheet (the fictional province's,
//! `server/catalogs/MINHHOA-2026.xlsx`), previews and publishes it, and opens this year's round
//! on that revision; a station person keeps it on the phone, scores indicator by indicator
//! offline (after a cold start offline), and the verdict applies the knockout rule; once online
//! the server scores the dossier the same way. Then the province publishes a second revision that
//! changes one indicator's bands and moves the round to it: the page lists that indicator to
//! score again for each dossier, the station's phone shows it unscored and scores it again.

use serde_json::Value;
use tramyte_server::store::Store;
use tramyte_shared::catalog::{Band, Measure, ScoringRule};
use tramyte_shared::points::Points;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, current_round, seed_units, user};
use tramyte_tests::{Backend, spawn_server_on};

use crate::sheets::{broken_sheet, illustrative_sheet};

#[tokio::test]
async fn a_province_publishes_its_sheet_and_a_station_scores_on_it_offline() {
    let server = spawn_server_on(Backend::Sqlite, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    let admin = user(&store, "syt1", Role::ProvincialAdmin, &["38-SYT"]).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    drop(store);

    let (good, catalog) = illustrative_sheet();
    // The second revision: the sessions indicator (2.2) counts in other bands.
    let mut second = catalog.clone();
    second.revision = 2;
    second.criteria[1].indicators[1].scoring = ScoringRule::Bands {
        measure: Measure::Count,
        bands: vec![
            Band {
                min: 10.0,
                points: Points::whole(10),
            },
            Band {
                min: 5.0,
                points: Points::whole(5),
            },
        ],
    };
    let revised = server.data_dir().join("bang-cham-diem-lan-2.xlsx");
    std::fs::write(
        &revised,
        tramyte_server::domain::catalog::sheet::export(&second).unwrap(),
    )
    .unwrap();
    let bad = server.data_dir().join("bang-cham-diem-loi.xlsx");
    let broken = broken_sheet(&std::fs::read(&good).unwrap());
    std::fs::write(&bad, &broken).unwrap();
    // Every problem the server finds in the broken sheet: the page must show each one.
    let Err(tramyte_server::domain::catalog::sheet::SheetError::Problems(problems)) =
        tramyte_server::domain::catalog::sheet::import(&broken)
    else {
        panic!("the broken sheet is refused");
    };
    let cells: Vec<String> = problems.iter().map(|p| p.cell.to_string()).collect();
    let round = current_round().to_string();
    let mut script = Script::start_with(
        "indicator_sheet",
        &server.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("TRAMYTE_GOOD_SHEET", good.to_str().unwrap()),
            ("TRAMYTE_BAD_SHEET", bad.to_str().unwrap()),
            ("TRAMYTE_SECOND_SHEET", revised.to_str().unwrap()),
            ("TRAMYTE_BAD_CELLS", &cells.join("|")),
            ("TRAMYTE_ROUND", &round),
        ],
    );
    script.wait_for("scored").await;

    // On the server: the published revision belongs to the province, and the dossier was scored
    // on it, indicator by indicator, to a pass once the knockout indicator was met.
    let http = reqwest::Client::new();
    let url = server.url();
    let listed: Value = http
        .get(format!("{url}/api/catalogs"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine = listed["catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "MINHHOA-2026")
        .expect("the published sheet is listed");
    assert_eq!(mine["revision"], 1);
    assert_eq!(mine["province"], "38");
    assert_eq!(mine["published_by"], "syt1");
    let this_year = || async {
        let documents: Value = http
            .get(format!("{url}/api/documents?kind=assessment&commune=16024"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        documents["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["round"].as_i64().map(|r| r.to_string()) == Some(round.clone()))
            .expect("this year's assessment")
            .clone()
    };
    let row = this_year().await;
    assert_eq!(row["catalog"], "MINHHOA-2026", "{row}");
    assert_eq!(row["verdict"], "pass", "{row}");
    assert_eq!(row["self_total"], 100, "{row}");
    script.go().await;

    // After the move and the station's new score for 2.2, the server scores it on revision 2.
    script.wait_for("rescored").await;
    let row = this_year().await;
    assert_eq!(row["verdict"], "pass", "{row}");
    assert_eq!(row["self_total"], 100, "{row}");
    script.go().await;
    script.finish().await;
}
