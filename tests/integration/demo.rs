//! The demo, through the real binary: the first start on an empty database loads it and prints
//! the demo accounts; a restart and `tramyte demo` duplicate nothing; the district reviewer's
//! listing shows the 13 communes' 2024 assessments in their demo states, dated in 2024; the
//! regional centre's reviewer sees this year's round under the province; everyone who signed
//! something has a display name.

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tramyte_server::demo::{
    COMMUNES, CONFLICT_COMMUNE, CURRENT_COMMUNES, CURRENT_CONFLICT_COMMUNE, CURRENT_STATES,
    SHEET_COMMUNES, STATES,
};
use tramyte_tests::api;
use tramyte_tests::backends;
use tramyte_tests::process::tramyte_binary;
use tramyte_tests::server::TestDatabase;

/// `tramyte serve` on a database; returns the process, its URL and every line it printed
/// before saying where it serves.
async fn serve(database: &TestDatabase) -> (Child, String, Vec<String>) {
    let mut child = Command::new(tramyte_binary())
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            &database.url,
        ])
        .arg("--data-dir")
        .arg(database.data_dir())
        .env("TRAMYTE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start tramyte");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = Vec::new();
    let url = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read tramyte's output") {
            if let Some(rest) = line.strip_prefix("tramyte is serving on ") {
                return rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_owned();
            }
            printed.push(line);
        }
        panic!("tramyte exited before serving: {printed:?}");
    })
    .await
    .expect("tramyte starts within 60 s");
    (child, url, printed)
}

/// The demo accounts printed: user → password.
fn accounts(printed: &[String]) -> BTreeMap<String, String> {
    printed
        .iter()
        .skip_while(|line| !line.starts_with("Demo accounts"))
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (user, _role, password) = (words.next()?, words.next()?, words.next()?);
            Some((user.to_owned(), password.to_owned()))
        })
        .collect()
}

async fn sign_in(url: &str, user: &str, password: &str) -> String {
    let (status, body) = api::post(
        url,
        "/api/session",
        None,
        &json!({"user": user, "password": password, "device": "demo test"}),
    )
    .await;
    assert_eq!(status, 200, "{user}: {body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_demo_loads_on_the_first_start_once_and_the_reviewer_sees_its_communes() {
    for backend in backends().await {
        let database = TestDatabase::new(backend).await;
        let (mut server, url, printed) = serve(&database).await;
        let passwords = accounts(&printed);
        let users: Vec<&str> = passwords.keys().map(String::as_str).collect();
        assert_eq!(
            users,
            [
                "demo.nhanvien",
                "demo.nhanvien.mh",
                "demo.quantri",
                "demo.syt",
                "demo.syt.mh",
                "demo.truongtram",
                "demo.ttyt",
                "demo.ttyt.lb",
                "demo.ttytkv",
                "demo.ytthon"
            ],
            "{backend:?}: one account per role, printed: {printed:#?}"
        );
        let reviewer = sign_in(&url, "demo.ttyt", &passwords["demo.ttyt"]).await;
        let (status, listing) =
            api::get(&url, "/api/documents?kind=assessment", Some(&reviewer)).await;
        assert_eq!(status, 200, "{listing}");
        let rows = listing["documents"].as_array().unwrap();
        let seen: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|row| {
                (
                    row["commune"].as_str().unwrap(),
                    row["commune_name"].as_str().unwrap(),
                    row["status"].as_str().unwrap(),
                )
            })
            .collect();
        let expected: Vec<(&str, &str, &str)> = COMMUNES
            .iter()
            .zip(STATES)
            .map(|((code, name), state)| (*code, *name, state))
            .collect();
        assert_eq!(seen, expected, "{backend:?}");
        for row in rows {
            let conflicts = i64::from(row["commune"] == CONFLICT_COMMUNE);
            assert_eq!(row["open_conflicts"], conflicts, "{row}");
            assert_eq!(row["round"], 2024);
            // Its last activity is its last dated step, in 2024, not the demo's loading.
            let last = row["last_change_at"].as_i64().unwrap();
            assert!(last < 1_735_664_400_000, "{row}");
            if row["status"] == "approved" {
                assert!(row["review_total"].is_number(), "{row}");
                assert!(row["self_total"].is_number(), "{row}");
            }
        }
        let (_, rosters) = api::get(&url, "/api/documents?kind=roster", Some(&reviewer)).await;
        assert_eq!(rosters["documents"].as_array().unwrap().len(), 13);
        let (_, targets) = api::get(&url, "/api/targets?year=2024", Some(&reviewer)).await;
        let targets = targets["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 13);
        assert!(targets.iter().all(|t| t["kind"] == "reach"));

        // The regional centre's reviewer: this year's round, communes under the province.
        let year = i64::from(tramyte_tests::people::current_round());
        let regional = sign_in(&url, "demo.ttytkv", &passwords["demo.ttytkv"]).await;
        let (_, current) = api::get(
            &url,
            &format!("/api/documents?kind=assessment&round={year}"),
            Some(&regional),
        )
        .await;
        let current = current["documents"].as_array().unwrap();
        let seen: Vec<(&str, &str)> = current
            .iter()
            .map(|row| {
                (
                    row["commune"].as_str().unwrap(),
                    row["status"].as_str().unwrap(),
                )
            })
            .collect();
        let expected: Vec<(&str, &str)> = CURRENT_COMMUNES
            .iter()
            .zip(CURRENT_STATES)
            .map(|((code, _), state)| (*code, state))
            .collect();
        assert_eq!(seen, expected, "{backend:?}");
        for row in current {
            let conflicts = i64::from(row["commune"] == CURRENT_CONFLICT_COMMUNE);
            assert_eq!(row["open_conflicts"], conflicts, "{row}");
            assert!(row["commune_name"].as_str().unwrap().contains("(minh họa)"));
        }
        let (_, targets) =
            api::get(&url, &format!("/api/targets?year={year}"), Some(&regional)).await;
        assert_eq!(targets["targets"].as_array().unwrap().len(), 8, "{targets}");
        let (_, units) = api::get(&url, "/api/me", Some(&regional)).await;
        assert_eq!(units["user"]["units"], json!(["38-TTYTKV-01"]), "{units}");

        // Whoever signed a step has a name: the fictional staff and the demo accounts; a
        // reviewer learns the names of people in their own communes only.
        let names_seen_by = |token: String| {
            let url = url.clone();
            async move {
                let (status, names) = api::get(
                    &url,
                    "/api/names?ids=demo.nhanvien.99102,demo.truongtram.99302,demo.ytthon,nobody",
                    Some(&token),
                )
                .await;
                assert_eq!(status, 200, "{names}");
                names["names"].as_object().unwrap().clone()
            }
        };
        let names = names_seen_by(regional.clone()).await;
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(names["demo.ytthon"], "Lò Thị Mẫu (hư cấu)");
        assert!(
            names["demo.truongtram.99302"]
                .as_str()
                .unwrap()
                .ends_with("(hư cấu)")
        );
        let district = sign_in(&url, "demo.ttyt", &passwords["demo.ttyt"]).await;
        let names = names_seen_by(district).await;
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(
            names["demo.nhanvien.99102"]
                .as_str()
                .unwrap()
                .ends_with("(hư cấu)")
        );

        // The station's staff see their commune: its 2024 history and this year's round.
        let staff = sign_in(&url, "demo.nhanvien", &passwords["demo.nhanvien"]).await;
        let (_, own) = api::get(&url, "/api/documents", Some(&staff)).await;
        let communes: Vec<&str> = own["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["commune"].as_str().unwrap())
            .collect();
        assert_eq!(
            communes,
            [
                COMMUNES[0].0,
                COMMUNES[0].0,
                CURRENT_COMMUNES[0].0,
                CURRENT_COMMUNES[0].0
            ]
        );

        // The fictional province's sheet is its own criteria set, seen by its people and not by
        // Thanh Hóa's; its station's round is on it.
        let sheet_admin = sign_in(&url, "demo.syt.mh", &passwords["demo.syt.mh"]).await;
        let codes = |body: Value| -> Vec<String> {
            body["catalogs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| format!("{}@{}", c["code"].as_str().unwrap(), c["province"]))
                .collect()
        };
        let (_, listed) = api::get(&url, "/api/catalogs", Some(&sheet_admin)).await;
        assert!(
            codes(listed).contains(&r#"MINHHOA-2026@"97""#.to_owned()),
            "{backend:?}"
        );
        let thanh_hoa = sign_in(&url, "demo.syt", &passwords["demo.syt"]).await;
        let (_, listed) = api::get(&url, "/api/catalogs", Some(&thanh_hoa)).await;
        assert!(codes(listed).iter().all(|c| !c.starts_with("MINHHOA")));
        let sheet_station = sign_in(&url, "demo.nhanvien.mh", &passwords["demo.nhanvien.mh"]).await;
        let (_, own) = api::get(&url, "/api/documents?kind=assessment", Some(&sheet_station)).await;
        let own = own["documents"].as_array().unwrap();
        assert_eq!(own.len(), 1, "{own:?}");
        assert_eq!(own[0]["catalog"], "MINHHOA-2026");
        assert_eq!(own[0]["commune"], SHEET_COMMUNES[0].0);
        assert_eq!(own[0]["round"], year);

        // A restart loads nothing and prints no accounts; the same documents are there.
        server.kill().await.unwrap();
        let (mut server, url, printed) = serve(&database).await;
        assert!(accounts(&printed).is_empty(), "{printed:?}");
        let admin = sign_in(&url, "demo.quantri", &passwords["demo.quantri"]).await;
        let (_, everything) = api::get(&url, "/api/documents", Some(&admin)).await;
        let ids = |body: &Value| -> Vec<String> {
            body["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row["id"].as_str().unwrap().to_owned())
                .collect()
        };
        // 13 communes and 14 wards in 2024, 8 communes this year and the fictional province's
        // 2: an assessment and a roster each.
        assert_eq!(ids(&everything).len(), 2 * (13 + 14 + 8 + 2), "{backend:?}");

        // `tramyte demo` on the same database creates nothing and sets new passwords.
        let output = Command::new(tramyte_binary())
            .args(["demo", "--database-url", &database.url])
            .arg("--data-dir")
            .arg(database.data_dir())
            .env("TRAMYTE_LOG", "warn")
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains(": 0 documents created"), "{text}");
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let renewed = accounts(&lines);
        assert_eq!(renewed.len(), 10, "{text}");
        let admin = sign_in(&url, "demo.quantri", &renewed["demo.quantri"]).await;
        let (_, again) = api::get(&url, "/api/documents", Some(&admin)).await;
        assert_eq!(
            ids(&again),
            ids(&everything),
            "{backend:?}: nothing duplicated"
        );
        server.kill().await.unwrap();
    }
}
