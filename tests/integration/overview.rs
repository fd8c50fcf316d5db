//! `GET /api/overview` on the demo: the district reviewer sees the 13 communes of the 2024
//! round with counts by status and progress against the year's targets, also month by month
//! (`/api/overview/months`); station staff may not.

use serde_json::json;
use tramyte_server::demo::{self, COMMUNES, STATES};
use tramyte_server::store::Store;
use tramyte_tests::api;
use tramyte_tests::{backends, spawn_server_on};

#[tokio::test]
async fn the_overview_counts_statuses_and_progress_against_targets() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        let loaded = demo::load(&store, false, 1_704_067_200_000).await.unwrap();
        let password = |user: &str| {
            loaded
                .accounts
                .iter()
                .find(|a| a.user == user)
                .map(|a| a.password.clone())
                .unwrap()
        };
        let url = server.url();
        let mut tokens = Vec::new();
        for user in ["demo.ttyt", "demo.nhanvien"] {
            let body = json!({"user": user, "password": password(user), "device": "test"});
            let (status, signed_in) = api::post(&url, "/api/session", None, &body).await;
            assert_eq!(status, 200, "{signed_in}");
            tokens.push(signed_in["token"].as_str().unwrap().to_owned());
        }
        let (reviewer, staff) = (&tokens[0], &tokens[1]);

        let (status, overview) = api::get(&url, "/api/overview?round=2024", Some(reviewer)).await;
        assert_eq!(status, 200, "{overview}");
        assert_eq!(
            overview["documents"].as_array().unwrap().len(),
            COMMUNES.len()
        );
        let count = |state: &str| STATES.iter().filter(|s| **s == state).count();
        for state in ["approved", "appraised", "submitted", "returned", "draft"] {
            assert_eq!(
                overview["by_status"][state],
                count(state),
                "{backend:?} {state}"
            );
        }
        assert_eq!(overview["with_conflicts"], 1);
        let verdicts: u64 = overview["by_verdict"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(
            verdicts, 13,
            "every assessment counted by verdict: {overview}"
        );
        assert_eq!(
            overview["targets"],
            json!([{"unit": demo::HEALTH_CENTRE, "kind": "reach", "communes": 13,
                    "approved": count("approved"), "not_opened": 0,
                    "passing": overview["targets"][0]["passing"]}]),
            "{backend:?}"
        );
        // The district's health centre covers the reviewer's 13 communes: the desk's filter by
        // unit lists it with them.
        let centre = overview["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == demo::HEALTH_CENTRE)
            .unwrap_or_else(|| panic!("the centre among the units: {}", overview["units"]));
        assert_eq!(centre["communes"].as_array().unwrap().len(), 13, "{centre}");
        // Only units with communes in the scope are listed (not Hà Nội's), by code, each with
        // its communes by code, all of them the reviewer's.
        let units = overview["units"].as_array().unwrap();
        let codes: Vec<&str> = units.iter().map(|u| u["code"].as_str().unwrap()).collect();
        assert!(codes.is_sorted(), "{codes:?}");
        assert!(!codes.iter().any(|c| c.starts_with("01-")), "{codes:?}");
        let listed: Vec<&str> = overview["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["commune"].as_str().unwrap())
            .collect();
        for unit in units {
            let communes: Vec<&str> = unit["communes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert!(!communes.is_empty() && communes.is_sorted(), "{unit}");
            assert!(communes.iter().all(|c| listed.contains(c)), "{unit}");
        }
        let passing = overview["targets"][0]["passing"].as_u64().unwrap();
        let pass_verdicts = overview["by_verdict"]["pass"].as_u64().unwrap_or(0);
        assert_eq!(
            passing, pass_verdicts,
            "no local minimum: passing is the pass verdicts"
        );

        // Month by month, as the dated steps stood at each month's end: Thiệu Toán approved in
        // June, Thiệu Chính in September, Minh Tâm in October (seed 002's annex, demo dates).
        let (status, months) =
            api::get(&url, "/api/overview/months?round=2024", Some(reviewer)).await;
        assert_eq!(status, 200, "{months}");
        let approved: Vec<u64> = months
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["approved"].as_u64().unwrap())
            .collect();
        assert_eq!(
            approved,
            [0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 3, 3],
            "{backend:?}: {months}"
        );
        assert!(
            months
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["communes"] == 13),
            "{months}"
        );
        let (status, _) = api::get(&url, "/api/overview/months?round=2024", Some(staff)).await;
        assert_eq!(status, 403, "station staff have no overview");

        let (status, _) = api::get(&url, "/api/overview?round=2024", Some(staff)).await;
        assert_eq!(status, 403, "station staff have no overview");
        let (status, _) = api::get(&url, "/api/overview", Some(reviewer)).await;
        assert_eq!(status, 400);
        let (_, empty) = api::get(&url, "/api/overview?round=2023", Some(reviewer)).await;
        assert_eq!(empty["documents"], json!([]));
        assert_eq!(empty["targets"], json!([]));
    }
}
