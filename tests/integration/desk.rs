//! The reviewer's desk in headless Chromium: a round of 10,000 communes as a table that sorts,
//! filters, scrolls and moves by keyboard, with charts of the overview's numbers
//! (`tests/e2e/desk_table.mjs`); the overview sorts communes in
//! Vietnamese alphabetical order (`tests/e2e/vietnamese_sort.mjs`), a slow answer for an earlier
//! year never replaces the report of a later choice and the printed report carries the year's
//! targets month by month (`reports_race.mjs`), and the roster form
//! adds the next person as the kind it shows (`roster_form.mjs`).

use serde_json::json;
use tramyte_server::config::DocKindArg;
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::browser::Script;
use tramyte_tests::people::{PASSWORD, current_round, open_assessment_of, seed_units, user};
use tramyte_tests::spawn_server;

/// Communes whose names need Vietnamese collation: Ân after An, Đ after D, Ư after U, Ngọc
/// before Nguyên, Tân before Thiệu. Fictional codes and names.
const NAMED: &str = "code,kind,name,parent,unit_type,covers
16031,commune,Xã Ưng Hòa (thử),38-405,xa,
16032,commune,Xã Uy Nỗ (thử),38-405,xa,
16033,commune,Xã Đông Sơn (thử),38-405,xa,
16034,commune,Xã Dương Liễu (thử),38-405,xa,
16035,commune,Xã Ân Thi (thử),38-405,xa,
16036,commune,Xã An Khánh (thử),38-405,xa,
16037,commune,Xã Thiệu Nguyên (thử),38-405,xa,
16038,commune,Xã Thiệu Ngọc (thử),38-405,xa,
16039,commune,Xã Tân Châu (thử),38-405,xa,
";

#[tokio::test]
async fn the_overview_sorts_communes_in_vietnamese_order() {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    tramyte_server::domain::unit::import(&store, NAMED)
        .await
        .unwrap();
    user(&store, "rv1", Role::Reviewer, &["38-405-TTYT"]).await;
    let round = current_round();
    for code in [
        "16024", "16025", "16031", "16032", "16033", "16034", "16035", "16036", "16037", "16038",
        "16039",
    ] {
        open_assessment_of(&store, code, round).await;
    }
    drop(store);
    let script = Script::start_with(
        "vietnamese_sort",
        &server.url(),
        &[("TRAMYTE_TEST_PASSWORD", PASSWORD)],
    );
    script.finish().await;
}

/// The demo's approved dossier prints as the appraisal minutes and the self-scoring sheet on
/// A4 (PDFs and screenshots in a temporary directory, printed by the script).
#[tokio::test]
async fn the_official_forms_print_on_a4() {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    let loaded = tramyte_server::demo::load(&store, true, tramyte_server::store::now_millis())
        .await
        .unwrap();
    drop(store);
    let reviewer = loaded
        .accounts
        .iter()
        .find(|a| a.user == "demo.ttyt")
        .expect("the district reviewer of 2024");
    let out = std::env::temp_dir().join(format!("tramyte-forms-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let script = Script::start_with(
        "print_forms",
        &server.url(),
        &[
            ("TRAMYTE_TEST_USER", "demo.ttyt"),
            ("TRAMYTE_TEST_PASSWORD", &reviewer.password),
            ("TRAMYTE_TEST_OUT", out.to_str().unwrap()),
        ],
    );
    script.finish().await;
    for form in ["minutes", "self-sheet"] {
        let pdf = std::fs::read(out.join(format!("{form}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF"), "{form} is a PDF");
        assert!(out.join(format!("{form}.png")).exists());
    }
    std::fs::remove_dir_all(&out).unwrap();
}

/// Communes of the generated round: the 10,000.
const GENERATED: usize = 10_000;

#[tokio::test]
async fn the_desk_table_sorts_filters_and_scrolls_ten_thousand_communes() {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    let round = current_round();
    tramyte_tests::generated::fill_round(&store, "B-SYT", GENERATED, round).await;
    user(&store, "rvdesk", Role::Reviewer, &["B-SYT"]).await;
    drop(store);
    let (communes, round) = (GENERATED.to_string(), round.to_string());
    let script = Script::start_with(
        "desk_table",
        &server.url(),
        &[
            ("TRAMYTE_TEST_PASSWORD", PASSWORD),
            ("TRAMYTE_TEST_COMMUNES", &communes),
            ("TRAMYTE_TEST_ROUND", &round),
        ],
    );
    script.finish().await;
}

#[tokio::test]
async fn a_slow_report_for_an_earlier_choice_never_replaces_a_later_one() {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "rv1", Role::Reviewer, &["38-405-TTYT"]).await;
    // Data in 2024 and 2025 only: the page opens on 2025, not on the calendar's year.
    open_assessment_of(&store, "16024", 2024).await;
    open_assessment_of(&store, "16025", 2024).await;
    open_assessment_of(&store, "16024", 2025).await;
    // A target of 2025, so the printed report draws its month-by-month chart.
    let target = tramyte_server::domain::target::Target {
        commune: "16024".to_owned(),
        kind: tramyte_server::domain::target::TargetKind::Reach,
        local_min_score: None,
    };
    tramyte_server::domain::target::replace(&store, "38-405-TTYT", 2025, &[target])
        .await
        .unwrap();
    drop(store);
    let script = Script::start_with(
        "reports_race",
        &server.url(),
        &[("TRAMYTE_TEST_PASSWORD", PASSWORD)],
    );
    script.finish().await;
}

#[tokio::test]
async fn the_roster_form_adds_the_next_person_as_the_kind_it_shows() {
    let server = spawn_server().await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "nv1", Role::StationStaff, &["16024"]).await;
    open_assessment_of(&store, "16024", current_round()).await;
    let roster = json!({"commune": "16024"});
    tramyte_server::cli::create_document(&store, DocKindArg::Roster, roster.as_object().unwrap())
        .await
        .unwrap();
    drop(store);
    let script = Script::start_with(
        "roster_form",
        &server.url(),
        &[("TRAMYTE_TEST_PASSWORD", PASSWORD)],
    );
    script.finish().await;
}
