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

/// The illustrative province's sheet (`server/catalogs/MINHHOA-2026.xlsx`) and its source.
pub fn illustrative_sheet() -> (std::path::PathBuf, tramyte_shared::catalog::Catalog) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/catalogs");
    let source = std::fs::read_to_string(dir.join("MINHHOA-2026.json")).unwrap();
    let catalog = tramyte_shared::catalog::parse_catalog(&source).unwrap();
    (dir.join("MINHHOA-2026.xlsx"), catalog)
}

/// `sheet` with mistakes a person makes: every yes/no indicator's scoring kind misspelt and the
/// percent measure named in words (the shared strings of the workbook rewritten), so the sheet
/// has problems on several rows and columns.
pub fn broken_sheet(sheet: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(sheet)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        part.read_to_end(&mut bytes).unwrap();
        if name == "xl/sharedStrings.xml" {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains(">yes_no<") && text.contains(">percent<"));
            bytes = text
                .replace(">yes_no<", ">co_khong<")
                .replace(">percent<", ">phan_tram<")
                .into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// The fictional province's sheet in the repository is what the server's own export writes for
/// its JSON source, read back to the same catalog; it says it is an illustration. Run with
/// `TRAMYTE_BLESS=1` to write the sheet again from the source.
#[test]
fn the_illustrative_sheet_is_its_source_exported() {
    use tramyte_server::domain::catalog::sheet;
    let (path, catalog) = illustrative_sheet();
    if std::env::var_os("TRAMYTE_BLESS").is_some() {
        std::fs::write(&path, sheet::export(&catalog).unwrap()).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let (read, _) = sheet::import(&bytes).unwrap();
    assert_eq!(read, catalog, "export the sheet again with TRAMYTE_BLESS=1");
    assert!(catalog.title_vi.contains("MINH HỌA") && catalog.title_en.contains("ILLUSTRATION"));
    assert!(
        catalog
            .note
            .as_deref()
            .unwrap()
            .contains("không phải phụ lục")
    );
    let knockouts = catalog.items().filter(|i| i.knockout()).count();
    assert_eq!(knockouts, 1);

    // Its broken twin has a problem on each row where a person slipped, and nothing else.
    let Err(sheet::SheetError::Problems(problems)) = sheet::import(&broken_sheet(&bytes)) else {
        panic!("the broken sheet is refused");
    };
    let cells: Vec<String> = problems.iter().map(|p| p.cell.to_string()).collect();
    for cell in ["Chỉ tiêu!I3", "Chỉ tiêu!J4", "Chỉ tiêu!I7"] {
        assert!(cells.iter().any(|c| c == cell), "{cell} in {cells:?}");
    }
}
