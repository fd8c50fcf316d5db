//! Catalog revisions belong to a province: a provincial administrator publishes an indicator
//! sheet as their province's criteria set, their province's people see it and open rounds on a
//! chosen revision of it; another province's administrator neither sees it, nor publishes into
//! it, nor opens a round on it; a sheet with problems publishes nothing. Moving a round to a
//! newer revision keeps the scores of unchanged items and lists what must be scored again.

use serde_json::{Value, json};
use tramyte_server::config::{DatabaseArgs, RoundArgs, RoundCommand};
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

/// The shipped catalog under another code with TC2 worth `tc2` points, as an indicator sheet.
fn sheet_with(code: &str, tc2: u32) -> Vec<u8> {
    let mut json: Value = serde_json::from_str(&shipped_catalogs().remove(0).to_json()).unwrap();
    json["code"] = code.into();
    json["criteria"][1]["max_points"] = tc2.into();
    catalog::sheet::export(&parse_catalog(&json.to_string()).unwrap()).unwrap()
}

/// Scores an item of an assessment as a phone would have (a change under the user's actor,
/// stored with its provenance).
async fn score(store: &Store, id: DocumentId, item: &str, points: u32, user: &str) {
    use tramyte_shared::assessment::{Answer, Side, set_score};
    let chunks = tramyte_server::store::document::load(store, id)
        .await
        .unwrap()
        .unwrap();
    let mut doc = load_chunks(&chunks)
        .unwrap()
        .with_actor(automerge::ActorId::random());
    let before = doc.get_heads();
    set_score(
        &mut doc,
        Side::SelfAssessment,
        &tramyte_shared::id::ItemId::parse(item).unwrap(),
        Answer::Points(tramyte_shared::points::Points::whole(points)),
        &tramyte_shared::id::UserId::parse(user).unwrap(),
        1,
    )
    .unwrap();
    let changes = doc
        .get_changes(&before)
        .iter()
        .map(|c| (c.hash().to_string(), c.actor_id().to_hex_string()))
        .collect();
    let bytes = doc
        .get_changes(&before)
        .iter()
        .flat_map(|c| c.raw_bytes().to_vec())
        .collect();
    let job = tramyte_server::store::document::PersistJob {
        id,
        chunk: tramyte_shared::sync::Chunk::new(
            tramyte_shared::sync::ChunkKind::Incremental,
            bytes,
        ),
        created: None,
        provenance: tramyte_server::store::document::Provenance {
            user: user.to_owned(),
            device: "test phone".to_owned(),
            changes,
            new_actors: vec![doc.get_actor().to_hex_string()],
        },
        summary: None,
        files: None,
        on_revision: None,
    };
    tramyte_server::store::document::persist(store, &[job], "test", 1)
        .await
        .unwrap();
}

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

#[tokio::test]
async fn moving_a_round_to_a_newer_revision_keeps_unchanged_scores() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        tramyte_server::domain::unit::import(&store, OTHER_PROVINCE)
            .await
            .unwrap();
        let admin = user(&store, "binh.syt", Role::ProvincialAdmin, &["38-SYT"]).await;
        let other = user(&store, "an.syt40", Role::ProvincialAdmin, &["40-SYT"]).await;
        let _staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let url = server.url();
        let http = reqwest::Client::new();
        let publish = |body: Vec<u8>| {
            http.post(format!("{url}/api/catalogs"))
                .bearer_auth(&admin)
                .body(body)
                .send()
        };
        assert_eq!(
            publish(sheet_with("TH38-BCD", 10))
                .await
                .unwrap()
                .status()
                .as_u16(),
            201
        );
        let (status, opened) = api::post(
            &url,
            "/api/rounds",
            Some(&admin),
            &json!({ "round": 2025, "catalog": "TH38-BCD", "communes": ["16024"] }),
        )
        .await;
        assert_eq!(status.as_u16(), 200, "{opened}");
        let id = opened["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["kind"] == "assessment")
            .map(|row| DocumentId::parse(row["id"].as_str().unwrap()).unwrap())
            .unwrap();
        score(&store, id, "TC1", 12, "lan.tyt").await;
        score(&store, id, "TC2", 8, "lan.tyt").await;
        assert_eq!(
            publish(sheet_with("TH38-BCD", 11))
                .await
                .unwrap()
                .status()
                .as_u16(),
            201
        );

        let body = json!({ "round": 2025, "catalog": "TH38-BCD" });
        let (status, _) = api::post(&url, "/api/rounds/move", Some(&other), &body).await;
        assert_eq!(status.as_u16(), 403, "{backend:?}");
        let (status, moved) = api::post(&url, "/api/rounds/move", Some(&admin), &body).await;
        assert_eq!(status.as_u16(), 200, "{moved}");
        assert_eq!(moved["revision"], 2);
        assert_eq!(moved["moved"].as_array().unwrap().len(), 1, "{moved}");
        assert_eq!(moved["moved"][0]["from"], 1);
        assert_eq!(moved["moved"][0]["changes"]["rescore"], json!(["TC2"]));

        let chunks = tramyte_server::store::document::load(&store, id)
            .await
            .unwrap()
            .unwrap();
        let doc = load_chunks(&chunks).unwrap();
        let view = read_assessment(&doc).unwrap();
        assert_eq!(view.catalog_revision, 2);
        assert!(view.items["TC1"].self_score.is_some(), "kept");
        assert!(view.items["TC2"].self_score.is_none(), "to be scored again");
        // Moving again changes nothing.
        let (status, again) = api::post(&url, "/api/rounds/move", Some(&admin), &body).await;
        assert_eq!(status.as_u16(), 200);
        assert!(again["moved"].as_array().unwrap().is_empty(), "{again}");
        assert_eq!(again["skipped"].as_array().unwrap().len(), 1, "{again}");

        // A move prepared on revision 1 that comes late (the compare-and-set under two moves at
        // once, here or on another node) stores nothing.
        let late = tramyte_server::store::document::PersistJob {
            id,
            chunk: tramyte_shared::sync::Chunk::new(
                tramyte_shared::sync::ChunkKind::Incremental,
                vec![1, 2, 3],
            ),
            created: None,
            provenance: tramyte_server::store::document::Provenance {
                user: "binh.syt".to_owned(),
                device: "server (test)".to_owned(),
                changes: vec![("late-move".to_owned(), "ab".to_owned())],
                new_actors: Vec::new(),
            },
            summary: None,
            files: None,
            on_revision: Some(1),
        };
        let refused = tramyte_server::store::document::persist(&store, &[late], "test", 2).await;
        assert!(
            matches!(
                refused,
                Err(tramyte_server::store::document::PersistError::RevisionChanged { .. })
            ),
            "{refused:?}"
        );
        let after = tramyte_server::store::document::load(&store, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            after.len(),
            chunks.len(),
            "nothing of the late move is stored"
        );
    }
}

#[tokio::test]
async fn two_moves_at_once_move_each_assessment_once() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        let admin = user(&store, "binh.syt", Role::ProvincialAdmin, &["38-SYT"]).await;
        let url = server.url();
        let publish = |body: Vec<u8>| {
            let url = url.clone();
            let admin = admin.clone();
            async move {
                reqwest::Client::new()
                    .post(format!("{url}/api/catalogs"))
                    .bearer_auth(&admin)
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(publish(sheet_with("TH38-BCD", 10)).await, 201);
        let communes = json!(["16024", "16025"]);
        let (status, opened) = api::post(
            &url,
            "/api/rounds",
            Some(&admin),
            &json!({ "round": 2025, "catalog": "TH38-BCD", "communes": communes }),
        )
        .await;
        assert_eq!(status.as_u16(), 200, "{opened}");
        assert_eq!(publish(sheet_with("TH38-BCD", 11)).await, 201);
        let body = json!({ "round": 2025, "catalog": "TH38-BCD", "communes": communes });
        let (first, second) = tokio::join!(
            api::post(&url, "/api/rounds/move", Some(&admin), &body),
            api::post(&url, "/api/rounds/move", Some(&admin), &body),
        );
        assert_eq!((first.0.as_u16(), second.0.as_u16()), (200, 200));
        for commune in ["16024", "16025"] {
            let moved = [&first.1, &second.1]
                .iter()
                .filter(|answer| {
                    answer["moved"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|m| m["commune"] == commune)
                })
                .count();
            assert_eq!(moved, 1, "{commune} moved once: {} / {}", first.1, second.1);
        }
        let rows = tramyte_server::store::summary::list(
            &store,
            &tramyte_server::store::summary::Filter {
                kind: Some("assessment".to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 2);
        for row in rows {
            let id = DocumentId::parse(&row.id).unwrap();
            let chunks = tramyte_server::store::document::load(&store, id)
                .await
                .unwrap()
                .unwrap();
            let doc = load_chunks(&chunks).unwrap();
            let view = read_assessment(&doc).unwrap();
            assert_eq!(view.catalog_revision, 2, "{}", row.id);
        }

        // `tramyte round move` does the same, signed by an administrator it names.
        assert_eq!(publish(sheet_with("TH38-BCD", 12)).await, 201);
        let _staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let command = |by: &str| RoundCommand::Move {
            round: RoundArgs {
                round: 2025,
                catalog: "TH38-BCD".to_owned(),
                revision: None,
                commune: vec!["16024".to_owned()],
            },
            by: by.to_owned(),
            database: DatabaseArgs {
                database_url: Some(server.config.database_url.clone()),
                data_dir: server.data_dir().to_path_buf(),
            },
        };
        let mut out = Vec::new();
        let refused = tramyte_server::cli::round(command("lan.tyt"), &mut out).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|err| err.contains("administrator")),
            "{refused:?}"
        );
        tramyte_server::cli::round(command("binh.syt"), &mut out)
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("round 2025 (TH38-BCD) → revision 3: 1 moved, 0 left as they are\n"),
            "{text}"
        );
        assert!(
            text.contains("from revision 2; to score again: TC2"),
            "{text}"
        );
    }
}
