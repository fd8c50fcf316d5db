//! Opening rounds and setting targets against the real server: opening twice (or twice at
//! once, or from the command line) creates nothing new; only reviewers and administrators open
//! rounds, only for communes they cover; targets are read within scope; an opening says how
//! many assessments and how many rosters it created or found.

use serde_json::{Value, json};
use tramyte_server::config::{DatabaseArgs, RoundArgs, RoundCommand};
use tramyte_server::store::Store;
use tramyte_shared::assessment::read_assessment;
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::hub::load_chunks;
use tramyte_tests::api;
use tramyte_tests::people::{seed_units, user};
use tramyte_tests::{backends, spawn_server_on};

/// `(commune, kind, round)` of each row of a `documents` list.
fn keys(body: &Value) -> Vec<(String, String, Option<i64>)> {
    body["documents"]
        .as_array()
        .unwrap_or_else(|| panic!("no documents in {body}"))
        .iter()
        .map(|row| {
            (
                row["commune"].as_str().unwrap_or_default().to_owned(),
                row["kind"].as_str().unwrap_or_default().to_owned(),
                row["round"].as_i64(),
            )
        })
        .collect()
}

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn zone_of(store: &Store, id: &str) -> u8 {
    let id = DocumentId::parse(id).unwrap();
    let chunks = tramyte_server::store::document::load(store, id)
        .await
        .unwrap()
        .unwrap();
    read_assessment(&load_chunks(&chunks).unwrap())
        .unwrap()
        .zone
        .get()
}

#[tokio::test]
async fn opening_a_round_counts_assessments_and_rosters_apart() {
    let server = spawn_server_on(tramyte_tests::Backend::Sqlite, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    let reviewer = user(&store, "thu.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
    let url = server.url();
    let open = |round: u16| json!({"round": round, "catalog": "QD1300-2023"});
    let counts = |body: &Value| {
        (
            body["assessments"]["created"].as_u64(),
            body["assessments"]["existing"].as_u64(),
            body["rosters"]["created"].as_u64(),
            body["rosters"]["existing"].as_u64(),
        )
    };

    let (status, first) = api::post(&url, "/api/rounds", Some(&reviewer), &open(2024)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        counts(&first),
        (Some(2), Some(0), Some(2), Some(0)),
        "{first}"
    );
    // The next year's round: new assessments, the rosters there already — not "2 new, 2
    // already there" as if the assessments existed.
    let (status, next) = api::post(&url, "/api/rounds", Some(&reviewer), &open(2025)).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(
        counts(&next),
        (Some(2), Some(0), Some(0), Some(2)),
        "{next}"
    );
    assert_eq!(
        (&next["created"], &next["existing"]),
        (&json!(2), &json!(2))
    );
    let (_, again) = api::post(&url, "/api/rounds", Some(&reviewer), &open(2025)).await;
    assert_eq!(
        counts(&again),
        (Some(0), Some(2), Some(0), Some(2)),
        "{again}"
    );
}

#[tokio::test]
async fn opening_a_round_twice_creates_nothing_new() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        // A commune of the province outside the district.
        tramyte_server::domain::unit::import(
            &store,
            "code,kind,name,parent,unit_type,covers\n16100,commune,Phường khác (thử),38,phuong,\n",
        )
        .await
        .unwrap();
        let staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let reviewer = user(&store, "thu.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
        let url = server.url();
        let open_2024 = json!({"round": 2024, "catalog": "QD1300-2023", "zones": {"16025": 2}});

        let (status, body) = api::post(&url, "/api/rounds", Some(&staff), &open_2024).await;
        assert_eq!(status, 403, "station staff do not open rounds: {body}");

        let (status, first) = api::post(&url, "/api/rounds", Some(&reviewer), &open_2024).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(
            (&first["created"], &first["existing"]),
            (&json!(4), &json!(0))
        );
        assert_eq!(
            keys(&first),
            [
                ("16024".to_owned(), "assessment".to_owned(), Some(2024)),
                ("16024".to_owned(), "roster".to_owned(), None),
                ("16025".to_owned(), "assessment".to_owned(), Some(2024)),
                ("16025".to_owned(), "roster".to_owned(), None),
            ],
            "{backend:?}: the district's communes, not the one outside it"
        );
        assert_eq!(first["documents"][0]["status"], "draft");
        assert_eq!(first["documents"][0]["last_change_by"], "thu.ttyt");
        assert_eq!(
            zone_of(&store, first["documents"][2]["id"].as_str().unwrap()).await,
            2
        );
        assert_eq!(
            zone_of(&store, first["documents"][0]["id"].as_str().unwrap()).await,
            1
        );

        let (status, again) = api::post(&url, "/api/rounds", Some(&reviewer), &open_2024).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(
            (&again["created"], &again["existing"]),
            (&json!(0), &json!(4))
        );
        assert_eq!(ids(&again), ids(&first), "{backend:?}: the same documents");

        // Two openings of a new round at once: one assessment per commune all the same.
        let open_2025 =
            json!({"round": 2025, "catalog": "QD1300-2023", "communes": ["16024", "16025"]});
        let (a, b) = tokio::join!(
            api::post(&url, "/api/rounds", Some(&reviewer), &open_2025),
            api::post(&url, "/api/rounds", Some(&reviewer), &open_2025),
        );
        assert_eq!((a.0.as_u16(), b.0.as_u16()), (200, 200), "{} {}", a.1, b.1);
        let created = a.1["created"].as_u64().unwrap() + b.1["created"].as_u64().unwrap();
        assert_eq!(created, 2, "{backend:?}: two assessments, rosters existed");
        assert_eq!(ids(&a.1), ids(&b.1));

        // The command line finds them too.
        let database = DatabaseArgs {
            database_url: Some(server.config.database_url.clone()),
            data_dir: server.data_dir().to_path_buf(),
        };
        let mut out = Vec::new();
        tramyte_server::cli::round(
            RoundCommand::Open {
                round: RoundArgs {
                    round: 2025,
                    catalog: "QD1300-2023".to_owned(),
                    revision: None,
                    commune: vec![],
                },
                zone: vec![],
                database,
            },
            &mut out,
        )
        .await
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("round 2025 (QD1300-2023): 2 documents created, 4 existed already"),
            "{backend:?}: only the commune outside the district was new: {text}"
        );
        let (_, listed) = api::get(&url, "/api/documents?round=2025", Some(&reviewer)).await;
        assert_eq!(keys(&listed).len(), 2, "{listed}");

        for (body, status) in [
            (json!({"round": 2024, "catalog": "NOPE"}), 400),
            (
                json!({"round": 2024, "catalog": "QD1300-2023", "communes": ["99999"]}),
                400,
            ),
            (
                json!({"round": 2024, "catalog": "QD1300-2023", "communes": ["16100"]}),
                403,
            ),
            (
                json!({"round": 2024, "catalog": "QD1300-2023", "zones": {"16024": 7}}),
                400,
            ),
            (json!({"round": 1800, "catalog": "QD1300-2023"}), 400),
            (json!({"round": "soon", "catalog": "QD1300-2023"}), 400),
            (
                json!({"round": 2024, "catalog": "QD1300-2023", "communes": []}),
                400,
            ),
        ] {
            let (got, answer) = api::post(&url, "/api/rounds", Some(&reviewer), &body).await;
            assert_eq!(got.as_u16(), status, "{body} → {answer}");
            assert!(answer["message"].is_string(), "{answer}");
        }
        // Nothing of the refused openings was created.
        let (_, all) = api::get(&url, "/api/documents", Some(&reviewer)).await;
        assert_eq!(keys(&all).len(), 6, "{all}");
    }
}

#[tokio::test]
async fn targets_are_set_per_unit_and_year_and_read_within_scope() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        let staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let reviewer = user(&store, "thu.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
        let url = server.url();
        let path = "/api/targets?unit=38-405-TTYT&year=2024";
        let targets = json!({"targets": [
            {"commune": "16024", "kind": "reach"},
            {"commune": "16025", "kind": "maintain", "local_min_score": 95}
        ]});
        let (status, body) = api::put(&url, path, Some(&staff), &targets).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = api::put(&url, path, Some(&reviewer), &targets).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["targets"].as_array().unwrap().len(), 2, "{body}");
        assert_eq!(body["targets"][1]["local_min_score"], 95);
        assert_eq!(body["targets"][1]["commune_name"], "Xã Thiệu Giao (thử)");

        let (_, seen) = api::get(&url, "/api/targets?year=2024", Some(&staff)).await;
        let communes: Vec<&str> = seen["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["commune"].as_str().unwrap())
            .collect();
        assert_eq!(
            communes,
            ["16024"],
            "{backend:?}: staff see their commune's target"
        );
        let (_, other_year) = api::get(&url, "/api/targets?year=2025", Some(&reviewer)).await;
        assert_eq!(other_year["targets"], json!([]));

        for (bad, status) in [
            // A commune nobody covers is outside the reviewer's scope like any other.
            (
                json!({"targets": [{"commune": "99999", "kind": "reach"}]}),
                403,
            ),
            (
                json!({"targets": [{"commune": "16024", "kind": "reach"}, {"commune": "16024", "kind": "maintain"}]}),
                400,
            ),
            (
                json!({"targets": [{"commune": "16024", "kind": "maybe"}]}),
                400,
            ),
            (
                json!({"targets": [{"commune": "16024", "kind": "reach", "local_min_score": 95.3}]}),
                400,
            ),
        ] {
            let (got, answer) = api::put(&url, path, Some(&reviewer), &bad).await;
            assert_eq!(got.as_u16(), status, "{bad} → {answer}");
        }
        let (status, _) = api::put(
            &url,
            "/api/targets?unit=16024&year=2024",
            Some(&reviewer),
            &targets,
        )
        .await;
        assert_eq!(status, 403, "a reviewer sets only their own unit's targets");

        // A PUT replaces the year's targets.
        let fewer = json!({"targets": [{"commune": "16025", "kind": "reach"}]});
        let (_, body) = api::put(&url, path, Some(&reviewer), &fewer).await;
        assert_eq!(body["targets"].as_array().unwrap().len(), 1, "{body}");
        assert_eq!(body["targets"][0]["local_min_score"], Value::Null);
    }
}
