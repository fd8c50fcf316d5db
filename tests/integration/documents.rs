//! `GET /api/documents` against the real server: each caller sees the documents of the communes
//! their scope covers, sorted by commune, kind and round (newest first), narrowed by filters.

use serde_json::Value;
use tramyte_server::config::DocKindArg;
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_tests::api;
use tramyte_tests::people::{seed_units, user};
use tramyte_tests::{Backend, backends, spawn_server_on};

async fn create(store: &Store, kind: DocKindArg, json: Value) -> DocumentId {
    tramyte_server::cli::create_document(store, kind, json.as_object().unwrap())
        .await
        .unwrap()
}

fn assessment(commune: &str, round: u16) -> Value {
    serde_json::json!({"commune": commune, "catalog": "QD1300-2023", "round": round, "zone": 1, "unit_type": "xa"})
}

/// `(commune, kind, round)` of each listed row, in order.
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

fn key(commune: &str, kind: &str, round: Option<i64>) -> (String, String, Option<i64>) {
    (commune.to_owned(), kind.to_owned(), round)
}

#[tokio::test]
async fn documents_are_listed_by_scope_sorted_and_filtered() {
    for backend in backends().await {
        let mut server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        let staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let reviewer = user(&store, "thu.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
        let admin = user(&store, "quantri", Role::SystemAdmin, &[]).await;
        create(&store, DocKindArg::Assessment, assessment("16024", 2023)).await;
        let new = create(&store, DocKindArg::Assessment, assessment("16024", 2024)).await;
        create(&store, DocKindArg::Assessment, assessment("16025", 2024)).await;
        create(
            &store,
            DocKindArg::Roster,
            serde_json::json!({"commune": "16024"}),
        )
        .await;
        // A JSON document is not an assessment or a roster: never listed.
        create(&store, DocKindArg::Json, serde_json::json!({"note": "x"})).await;
        let url = server.url();

        let (status, body) = api::get(&url, "/api/documents", Some(&reviewer)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            keys(&body),
            [
                key("16024", "assessment", Some(2024)),
                key("16024", "assessment", Some(2023)),
                key("16024", "roster", None),
                key("16025", "assessment", Some(2024)),
            ],
            "{backend:?}: the district reviewer sees both communes"
        );
        let first = &body["documents"][0];
        assert_eq!(first["id"], new.to_string());
        assert_eq!(first["url"], format!("automerge:{new}"));
        assert_eq!(first["commune_name"], "Xã Thiệu Vận (thử)");
        assert_eq!(first["catalog"], "QD1300-2023");
        assert_eq!(first["status"], "draft");
        assert_eq!(first["verdict"], "incomplete");
        assert_eq!(first["self_total"], Value::Null);
        assert_eq!(first["review_total"], Value::Null);
        assert_eq!(first["open_conflicts"], 0);
        assert!(first["last_change_at"].is_i64(), "{first}");
        // Each criterion's scale as a short array, [id, max, required] (points not scored yet
        // are left out).
        assert_eq!(
            first["criteria"][0],
            serde_json::json!(["TC1", 14, 7]),
            "{first}"
        );
        assert_eq!(first["criteria"].as_array().unwrap().len(), 10, "{first}");
        let mut fields: Vec<&str> = first
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "catalog",
                "commune",
                "commune_name",
                "criteria",
                "id",
                "kind",
                "last_change_at",
                "last_change_by",
                "open_conflicts",
                "review_total",
                "round",
                "self_total",
                "status",
                "url",
                "verdict"
            ],
            "exactly the agreed shape"
        );
        let roster = &body["documents"][2];
        assert_eq!(
            (&roster["round"], &roster["catalog"], &roster["status"]),
            (&Value::Null, &Value::Null, &Value::Null)
        );

        let (_, body) = api::get(&url, "/api/documents", Some(&staff)).await;
        assert_eq!(
            keys(&body),
            [
                key("16024", "assessment", Some(2024)),
                key("16024", "assessment", Some(2023)),
                key("16024", "roster", None),
            ],
            "{backend:?}: station staff see their commune only"
        );
        // A filter never widens a scope.
        let (status, body) = api::get(&url, "/api/documents?commune=16025", Some(&staff)).await;
        assert_eq!((status.as_u16(), keys(&body)), (200, vec![]));

        for (query, expected) in [
            (
                "?commune=16025",
                vec![key("16025", "assessment", Some(2024))],
            ),
            ("?kind=roster", vec![key("16024", "roster", None)]),
            (
                "?round=2024&kind=assessment",
                vec![
                    key("16024", "assessment", Some(2024)),
                    key("16025", "assessment", Some(2024)),
                ],
            ),
            ("?round=2023", vec![key("16024", "assessment", Some(2023))]),
            ("?status=submitted", vec![]),
            (
                "?commune=&kind=&round=&status=",
                keys(&body_of(&url, &reviewer).await),
            ),
        ] {
            let (status, body) =
                api::get(&url, &format!("/api/documents{query}"), Some(&reviewer)).await;
            assert_eq!(status, 200, "{query}: {body}");
            assert_eq!(keys(&body), expected, "{backend:?} {query}");
        }

        for bad in [
            "?kind=json",
            "?round=twenty",
            "?round=99999",
            "?status=lost",
        ] {
            let (status, body) =
                api::get(&url, &format!("/api/documents{bad}"), Some(&reviewer)).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["error"], "bad_request", "{bad}: {body}");
        }
        let (status, _) = api::get(&url, "/api/documents", None).await;
        assert_eq!(status, 401, "signed-out callers see nothing");

        // A system administrator sees every commune.
        let (_, body) = api::get(&url, "/api/documents", Some(&admin)).await;
        assert_eq!(keys(&body).len(), 4);
        server.stop().await;
    }
}

async fn body_of(url: &str, token: &str) -> Value {
    api::get(url, "/api/documents", Some(token)).await.1
}

#[tokio::test]
async fn open_mode_lists_every_document_without_signing_in() {
    for backend in backends().await {
        open_mode_lists_every_document_without_signing_in_on(backend).await;
    }
}

async fn open_mode_lists_every_document_without_signing_in_on(backend: Backend) {
    let server = spawn_server_on(backend, |config| config.open = true).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    create(&store, DocKindArg::Assessment, assessment("16024", 2024)).await;
    create(&store, DocKindArg::Assessment, assessment("16025", 2024)).await;
    let (status, body) = api::get(&server.url(), "/api/documents", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            key("16024", "assessment", Some(2024)),
            key("16025", "assessment", Some(2024)),
        ]
    );
    // Units are not imported: the commune has no name.
    assert_eq!(body["documents"][0]["commune_name"], Value::Null);
}
