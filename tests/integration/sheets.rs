//! Indicator sheets over HTTP: the template downloads, any catalog downloads as a sheet, and an
//! administrator's preview shows a valid sheet as it will be scored or every problem at its
//! cell, storing nothing; people who are not administrators cannot preview.

use serde_json::Value;
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::people::{seed_units, user};
use tramyte_tests::{backends, spawn_server_on};

#[tokio::test]
async fn an_administrator_downloads_the_template_and_previews_sheets_and_nothing_is_stored() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        let admin = user(&store, "binh.syt", Role::ProvincialAdmin, &["38-SYT"]).await;
        let staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let url = server.url();
        let http = reqwest::Client::new();

        let template = http
            .get(format!("{url}/api/catalogs/template.xlsx"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(template.status().as_u16(), 200, "{backend:?}");
        assert!(
            template.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("spreadsheetml")
        );
        let template = template.bytes().await.unwrap();

        let preview = |token: String, body: Vec<u8>| {
            http.post(format!("{url}/api/catalogs/preview"))
                .bearer_auth(token)
                .body(body)
                .send()
        };
        let answer = preview(admin.clone(), template.to_vec()).await.unwrap();
        assert_eq!(answer.status().as_u16(), 422);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "invalid_sheet");
        let cells: Vec<&str> = body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["cell"].as_str().unwrap())
            .collect();
        assert!(cells.contains(&"Bộ tiêu chí!B2"), "{body}");

        let sheet = http
            .get(format!("{url}/api/catalogs/QD1300-2023/sheet.xlsx"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let answer = preview(admin.clone(), sheet.to_vec()).await.unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["catalog"]["code"], "QD1300-2023");
        assert_eq!(body["catalog"]["criteria"].as_array().unwrap().len(), 10);

        let refused = preview(staff, sheet.to_vec()).await.unwrap();
        assert_eq!(refused.status().as_u16(), 403);
        let garbage = preview(admin, b"not a workbook".to_vec()).await.unwrap();
        assert_eq!(garbage.status().as_u16(), 400);

        // Previews store nothing: the shipped catalog is still the only one.
        let listed = tramyte_server::domain::catalog::latest(&store)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "{backend:?}");
    }
}
