//! Catalog revisions belong to a province: a provincial administrator publishes an indicator
//! sheet as their province's criteria set, their province's people see it and open rounds on a
//! chosen revision of it; another province's administrator neither sees it, nor publishes into
//! it, nor opens a round on it; a sheet with problems publishes nothing.

use serde_json::{Value, json};
use tramyte_server::domain::catalog;
use tramyte_server::store::Store;
use tramyte_shared::assessment::read_assessment;
use tramyte_shared::catalog::{parse_catalog, shipped_catalogs};
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::hub::load_chunks;
use tramyte_tests::api;
use tramyte_tests::people::{seed_units, user};
use tramyte_tests::{backends, spawn_server_on};

/// A second (fictional) province beside the test people's Thanh Hóa.
const OTHER_PROVINCE: &str = "code,kind,name,parent,unit_type,covers
40,province,Tỉnh Thử Hai (thử),,,
40-SYT,health_department,Sở Y tế Tỉnh Thử Hai (thử),40,,
40-1,district,Huyện Thử (thử),40,,
40001,commune,Xã Thử (thử),40-1,xa,
";

/// The shipped catalog as an indicator sheet under another code and title.
fn sheet_of(code: &str, title: &str) -> Vec<u8> {
    let shipped = shipped_catalogs().remove(0);
    let json = shipped
        .to_json()
        .replace("\"QD1300-2023\"", &format!("\"{code}\""))
        .replacen(
            &format!(
                "\"title_vi\": {}",
                serde_json::to_string(&shipped.title_vi).unwrap()
            ),
            &format!("\"title_vi\": \"{title}\""),
            1,
        );
    let catalog = parse_catalog(&json).unwrap();
    assert_eq!(catalog.code.as_str(), code);
    catalog::sheet::export(&catalog).unwrap()
}

/// The codes of `GET /api/catalogs` as `token` sees them.
async fn listed(url: &str, token: &str) -> Vec<(String, u64)> {
    let (status, body) = api::get(url, "/api/catalogs", Some(token)).await;
    assert_eq!(status.as_u16(), 200, "{body}");
    body["catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["revision"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The catalog code and revision of each assessment an opening answered with.
async fn catalogs_of(store: &Store, opened: &Value) -> Vec<(String, u32)> {
    let mut found = Vec::new();
    for row in opened["documents"].as_array().unwrap() {
        if row["kind"] != "assessment" {
            continue;
        }
        let id = DocumentId::parse(row["id"].as_str().unwrap()).unwrap();
        let chunks = tramyte_server::store::document::load(store, id)
            .await
            .unwrap()
            .unwrap();
        let view = read_assessment(&load_chunks(&chunks).unwrap()).unwrap();
        found.push((view.catalog.as_str().to_owned(), view.catalog_revision));
    }
    found
}

#[tokio::test]
async fn a_province_publishes_its_sheet_and_only_its_people_see_and_use_it() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        tramyte_server::domain::unit::import(&store, OTHER_PROVINCE)
            .await
            .unwrap();
        let admin = user(&store, "binh.syt", Role::ProvincialAdmin, &["38-SYT"]).await;
        let reviewer = user(&store, "hoa.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
        let staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let other = user(&store, "an.syt40", Role::ProvincialAdmin, &["40-SYT"]).await;
        let system = user(&store, "quan.tri", Role::SystemAdmin, &[]).await;
        let url = server.url();
        let http = reqwest::Client::new();
        let publish = |token: &str, body: Vec<u8>| {
            http.post(format!("{url}/api/catalogs"))
                .bearer_auth(token)
                .body(body)
                .send()
        };
        let national = vec![("QD1300-2023".to_owned(), 1)];

        // A sheet with problems (the empty template) publishes nothing.
        let template = catalog::sheet::template().unwrap();
        let answer = publish(&admin, template).await.unwrap();
        assert_eq!(answer.status().as_u16(), 422, "{backend:?}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "invalid_sheet");
        assert!(!body["problems"].as_array().unwrap().is_empty(), "{body}");
        assert_eq!(catalog::all(&store).await.unwrap().len(), 1, "{backend:?}");
        // Station staff do not publish.
        let answer = publish(&staff, sheet_of("TH38-BCD", "x")).await.unwrap();
        assert_eq!(answer.status().as_u16(), 403);

        // Thanh Hóa publishes its sheet: revision 1 of a new code, Thanh Hóa's.
        let answer = publish(
            &admin,
            sheet_of("TH38-BCD", "Bảng chấm điểm Thanh Hóa (thử)"),
        )
        .await
        .unwrap();
        assert_eq!(answer.status().as_u16(), 201, "{backend:?}");
        let summary: tramyte_shared::rest::CatalogSummary = answer.json().await.unwrap();
        assert_eq!(summary.code, "TH38-BCD");
        assert_eq!(summary.revision, 1);
        assert_eq!(summary.province.as_deref(), Some("38"));
        assert_eq!(summary.published_by.as_deref(), Some("binh.syt"));
        // The same sheet again changes nothing; a changed one is the next revision.
        let answer = publish(
            &admin,
            sheet_of("TH38-BCD", "Bảng chấm điểm Thanh Hóa (thử)"),
        )
        .await
        .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let answer = publish(
            &admin,
            sheet_of("TH38-BCD", "Bảng chấm điểm Thanh Hóa, sửa (thử)"),
        )
        .await
        .unwrap();
        assert_eq!(answer.status().as_u16(), 201);
        let summary: tramyte_shared::rest::CatalogSummary = answer.json().await.unwrap();
        assert_eq!(summary.revision, 2);

        // Thanh Hóa's people see it beside the national set; the other province does not.
        let with_own = vec![("QD1300-2023".to_owned(), 1), ("TH38-BCD".to_owned(), 2)];
        for token in [&admin, &reviewer, &staff, &system] {
            assert_eq!(listed(&url, token).await, with_own, "{backend:?}");
        }
        assert_eq!(listed(&url, &other).await, national, "{backend:?}");
        let (status, all) = api::get(&url, "/api/catalogs?all=true", Some(&staff)).await;
        assert_eq!(status.as_u16(), 200);
        assert_eq!(all["catalogs"].as_array().unwrap().len(), 3, "{all}");
        for path in [
            "/api/catalogs/TH38-BCD",
            "/api/catalogs/TH38-BCD?revision=1",
            "/api/catalogs/TH38-BCD/sheet.xlsx",
        ] {
            let (status, _) = api::get(&url, path, Some(&other)).await;
            assert_eq!(status.as_u16(), 404, "{path}");
            let (status, _) = api::get(&url, path, Some(&staff)).await;
            assert_eq!(status.as_u16(), 200, "{path}");
        }

        // The other province publishes neither into Thanh Hóa's code nor into the national one.
        let answer = publish(&other, sheet_of("TH38-BCD", "Chiếm chỗ (thử)"))
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 403);
        let body: Value = answer.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("another province"),
            "{body}"
        );
        let answer = publish(&other, sheet_of("QD1300-2023", "Sửa bộ quốc gia (thử)"))
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 403);
        assert_eq!(catalog::all(&store).await.unwrap().len(), 3, "{backend:?}");

        // Nor opens a round on it, even naming the revision.
        let (status, body) = api::post(
            &url,
            "/api/rounds",
            Some(&other),
            &json!({ "round": 2026, "catalog": "TH38-BCD", "revision": 1 }),
        )
        .await;
        assert_eq!(status.as_u16(), 403, "{body}");

        // Thanh Hóa's reviewer opens a round on the chosen (older) revision, and another on
        // the newest when none is named.
        let (status, opened) = api::post(
            &url,
            "/api/rounds",
            Some(&reviewer),
            &json!({ "round": 2025, "catalog": "TH38-BCD", "revision": 1, "communes": ["16024"] }),
        )
        .await;
        assert_eq!(status.as_u16(), 200, "{opened}");
        assert_eq!(
            catalogs_of(&store, &opened).await,
            vec![("TH38-BCD".to_owned(), 1)]
        );
        let (status, opened) = api::post(
            &url,
            "/api/rounds",
            Some(&reviewer),
            &json!({ "round": 2026, "catalog": "TH38-BCD", "communes": ["16025"] }),
        )
        .await;
        assert_eq!(status.as_u16(), 200, "{opened}");
        assert_eq!(
            catalogs_of(&store, &opened).await,
            vec![("TH38-BCD".to_owned(), 2)]
        );
        let (status, body) = api::post(
            &url,
            "/api/rounds",
            Some(&reviewer),
            &json!({ "round": 2027, "catalog": "TH38-BCD", "revision": 9, "communes": ["16025"] }),
        )
        .await;
        assert_eq!(status.as_u16(), 400, "{body}");
    }
}
