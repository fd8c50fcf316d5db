//! Exports carry no formulas, on real downloads: text a person typed (a unit's name, a note, a
//! device name) that a spreadsheet would run (`=`, `+`, `-`, `@`, tab, carriage return) comes
//! out of the units CSV, `audit.csv` and the report's CSV and XLSX (read back) behind an
//! apostrophe, the same way everywhere; plain negative numbers and numeric cells stay numbers;
//! the units export imports back as the same units.

use std::io::Read;

use serde_json::json;
use tramyte_server::store::Store;
use tramyte_shared::assessment::{Answer, Side, set_note, set_score};
use tramyte_shared::id::{ItemId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::Role;
use tramyte_tests::api;
use tramyte_tests::people::{PASSWORD, open_assessment, seed_units, user};
use tramyte_tests::sync_client::SyncClient;
use tramyte_tests::{backends, spawn_server_on};

/// A commune and villages whose names a spreadsheet would take for formulas (and one that is
/// only a negative number).
const TRAPS: &str = "code,kind,name,parent,unit_type,covers
16026,commune,=1+2,38-405,xa,
16026-T1,village,@SUM(A1:A9),16026,,
16026-T2,village,-5,16026,,
16026-T3,village,-2+3,16026,,
16026-T4,village,\"+84 912 000 000\",16026,,
";

async fn download(url: &str, path: &str, token: &str) -> (u16, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

fn unzip(archive: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}

/// The cells of a CSV file that a spreadsheet would run as a formula (a cell, quoted or not,
/// whose text starts with a formula character and is not a plain number).
fn formula_cells(csv: &str) -> Vec<String> {
    let plain_number = |cell: &str| {
        cell.strip_prefix('-').is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
    };
    let mut cells = Vec::new();
    for line in csv.trim_start_matches('\u{feff}').lines() {
        // Good enough for these files: no cell here holds a comma inside quotes.
        for cell in line.split(',') {
            let cell = cell.trim_matches('"');
            if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number(cell) {
                cells.push(cell.to_owned());
            }
        }
    }
    cells
}

#[tokio::test]
async fn exported_text_is_neutralised_the_same_way_in_csv_and_xlsx() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let url = server.url();
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        tramyte_server::domain::unit::import(&store, TRAPS)
            .await
            .unwrap();
        let admin = user(&store, "quantri", Role::SystemAdmin, &[]).await;
        let reviewer = user(&store, "thu.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
        user(&store, "lan.tyt", Role::StationStaff, &["16026"]).await;

        // The units export: the names behind an apostrophe, -5 as it is; imported back, the
        // same units.
        let (status, units) = download(&url, "/api/units", &admin).await;
        assert_eq!(status, 200);
        let units = String::from_utf8(units).unwrap();
        for line in [
            "16026,commune,'=1+2,38-405,xa,",
            "16026-T1,village,'@SUM(A1:A9),16026,,",
            "16026-T2,village,-5,16026,,",
            "16026-T3,village,'-2+3,16026,,",
            "16026-T4,village,'+84 912 000 000,16026,,",
        ] {
            assert!(
                units.lines().any(|l| l == line),
                "{backend:?} {line}: {units}"
            );
        }
        assert_eq!(formula_cells(&units), Vec::<String>::new(), "{units}");
        let stored = tramyte_server::domain::unit::all(&store).await.unwrap();
        let response = reqwest::Client::new()
            .post(format!("{url}/api/units"))
            .bearer_auth(&admin)
            .body(units.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            tramyte_server::domain::unit::all(&store).await.unwrap(),
            stored
        );
        assert!(stored.iter().any(|u| u.code == "16026" && u.name == "=1+2"));

        // audit.csv: a device name and a note that would be formulas.
        let body = json!({"user": "lan.tyt", "password": PASSWORD,
                          "device": "=HYPERLINK(\"http://example.invalid\")"});
        let (status, signed_in) = api::post(&url, "/api/session", None, &body).await;
        assert_eq!(status, 200, "{signed_in}");
        let lan = signed_in["token"].as_str().unwrap().to_owned();
        let doc = open_assessment(&store, "16026").await;
        let mut phone = SyncClient::new("lan-phone");
        phone.connect_as(&url, Some(&lan)).await;
        phone.request(doc).await;
        phone.settle(doc).await;
        phone
            .edit(doc, |d| {
                let by = UserId::parse("lan.tyt").unwrap();
                let tc1 = ItemId::parse("TC1").unwrap();
                set_note(d, &tc1, "=1+1", 1_710_000_000_000).unwrap();
                let points = Answer::Points(Points::whole(12));
                set_score(
                    d,
                    Side::SelfAssessment,
                    &tc1,
                    points,
                    &by,
                    1_710_000_000_000,
                )
                .unwrap();
            })
            .await;
        phone.settle(doc).await;
        phone.disconnect().await;
        let (status, audit) =
            download(&url, &format!("/api/documents/{doc}/audit.csv"), &lan).await;
        assert_eq!(status, 200);
        let audit = String::from_utf8(audit).unwrap();
        assert!(audit.contains(",'=1+1,"), "{backend:?}: the note: {audit}");
        assert!(
            audit.contains("\"'=HYPERLINK(\"\"http://example.invalid\"\")\""),
            "{backend:?}: the device: {audit}"
        );
        assert_eq!(formula_cells(&audit), Vec::<String>::new(), "{audit}");

        // The report's CSV: the commune's name behind an apostrophe, its self total a number.
        let (status, csv) = download(&url, "/api/reports.csv?year=2024", &reviewer).await;
        assert_eq!(status, 200);
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.contains("\r\n16026,'=1+2,Đang tự đánh giá,12,,"),
            "{backend:?}: {csv}"
        );
        assert_eq!(formula_cells(&csv), Vec::<String>::new(), "{csv}");

        // The XLSX, read back: the same text as a string, the total as a number.
        let (status, xlsx) = download(&url, "/api/reports.xlsx?year=2024", &reviewer).await;
        assert_eq!(status, 200);
        let strings = unzip(&xlsx, "xl/sharedStrings.xml");
        assert!(strings.contains("<t>'=1+2</t>"), "{backend:?}: {strings}");
        assert!(!strings.contains("<t>=1+2</t>"), "{strings}");
        let communes = unzip(&xlsx, "xl/worksheets/sheet2.xml");
        assert!(!communes.contains("<f>"), "no formula cell: {communes}");
        assert!(
            communes.contains("<v>12</v>"),
            "the self total as a number: {communes}"
        );
    }
}
