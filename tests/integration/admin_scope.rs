//! Administrators and reviewers stay inside their scope, over real HTTP on the demo (Thanh Hóa
//! and Hà Nội's Long Biên): Thanh Hóa's provincial administrator cannot replace Long Biên's
//! targets, create or manage Long Biên's users, give a role above their own, make Thanh Hóa's
//! health department cover Long Biên's wards, or open rounds there; Hà Nội's own
//! administrator (or a system administrator) can, and every refusal leaves the data as it was.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tramyte_server::demo;
use tramyte_server::domain::account::{self, NewUser};
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::people::PASSWORD;
use tramyte_tests::{Backend, TestServer, api, backends, spawn_server_on};

/// The demo, with Hà Nội's provincial administrator (the demo has none), everyone signed in.
struct Demo {
    _server: TestServer,
    url: String,
    passwords: BTreeMap<String, String>,
    tokens: BTreeMap<&'static str, String>,
}

const PEOPLE: [&str; 5] = [
    "demo.syt",
    "syt.hn",
    "demo.quantri",
    "demo.ttyt",
    "demo.ttyt.lb",
];

async fn demo_on(backend: Backend) -> Demo {
    let server = spawn_server_on(backend, |_| {}).await;
    let url = server.url();
    let store = Store::connect(&server.config.database_url).await.unwrap();
    let loaded = demo::load(&store, false, 1_704_067_200_000).await.unwrap();
    let mut passwords: BTreeMap<String, String> = loaded
        .accounts
        .into_iter()
        .map(|a| (a.user, a.password))
        .collect();
    account::add_user(
        &store,
        &NewUser {
            id: "syt.hn".into(),
            display_name: "Sở Y tế Hà Nội (thử)".into(),
            role: Role::ProvincialAdmin,
            person: None,
            units: vec!["01-SYT".into()],
            password: PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    passwords.insert("syt.hn".into(), PASSWORD.into());
    store.close().await;
    let mut tokens = BTreeMap::new();
    for who in PEOPLE {
        tokens.insert(who, sign_in(&url, who, &passwords[who]).await.unwrap());
    }
    Demo {
        _server: server,
        url,
        passwords,
        tokens,
    }
}

/// Signs in over HTTP: the token, or the status refused with.
async fn sign_in(url: &str, user: &str, password: &str) -> Result<String, u16> {
    let body = json!({"user": user, "password": password, "device": "admin scope test"});
    let (status, answer) = api::post(url, "/api/session", None, &body).await;
    if status == 200 {
        Ok(answer["token"].as_str().unwrap().to_owned())
    } else {
        Err(status.as_u16())
    }
}

/// Sends a text body (CSV) and answers the status and the body as text.
async fn send_text(url: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

async fn get_text(url: &str, path: &str, token: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

impl Demo {
    fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    async fn get(&self, who: &str, path: &str) -> (u16, Value) {
        let (status, body) = api::get(&self.url, path, Some(self.token(who))).await;
        (status.as_u16(), body)
    }

    async fn post(&self, who: &str, path: &str, body: Value) -> (u16, Value) {
        let (status, answer) = api::post(&self.url, path, Some(self.token(who)), &body).await;
        (status.as_u16(), answer)
    }

    async fn put(&self, who: &str, path: &str, body: Value) -> (u16, Value) {
        let (status, answer) = api::put(&self.url, path, Some(self.token(who)), &body).await;
        (status.as_u16(), answer)
    }

    /// A unit's 2024 targets as the system administrator reads them.
    async fn targets(&self, unit: &str) -> Value {
        let path = format!("/api/targets?year=2024&unit={unit}");
        let (status, body) = self.get("demo.quantri", &path).await;
        assert_eq!(status, 200, "{body}");
        body["targets"].clone()
    }

    /// Every user, as the system administrator lists them.
    async fn users(&self) -> Value {
        let (status, body) = self.get("demo.quantri", "/api/users").await;
        assert_eq!(status, 200, "{body}");
        body["users"].clone()
    }

    /// Every unit, as the system administrator exports them.
    async fn units(&self) -> String {
        let (status, csv) = get_text(&self.url, "/api/units", self.token("demo.quantri")).await;
        assert_eq!(status, 200, "{csv}");
        csv
    }

    /// The documents of a round, as the system administrator lists them.
    async fn documents(&self, round: u16) -> Value {
        let path = format!("/api/documents?round={round}");
        let (status, body) = self.get("demo.quantri", &path).await;
        assert_eq!(status, 200, "{body}");
        body["documents"].clone()
    }

    /// The communes of `who`'s listing.
    async fn communes_listed(&self, who: &str) -> Vec<String> {
        let (status, body) = self.get(who, "/api/documents").await;
        assert_eq!(status, 200, "{body}");
        body["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["commune"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Targets as `PUT /api/targets` takes them, from what `GET` answered.
fn as_put(targets: &Value) -> Value {
    let list: Vec<Value> = targets
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            json!({"commune": t["commune"], "kind": t["kind"], "local_min_score": t["local_min_score"]})
        })
        .collect();
    json!({ "targets": list })
}

fn ids(users: &Value) -> Vec<String> {
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

const LONG_BIEN_TARGETS: &str = "/api/targets?year=2024&unit=01-004-TTYT";
const THIEU_HOA_TARGETS: &str = "/api/targets?year=2024&unit=38-405-TTYT";
const HEADER: &str = "code,kind,name,parent,unit_type,covers\n";

#[tokio::test]
async fn a_provincial_administrator_manages_only_their_provinces_subtree() {
    for backend in backends().await {
        let demo = demo_on(backend).await;
        let long_bien_targets = demo.targets("01-004-TTYT").await;
        let thieu_hoa_targets = demo.targets("38-405-TTYT").await;
        assert_eq!(long_bien_targets.as_array().unwrap().len(), 14);
        let users = demo.users().await;
        let units = demo.units().await;

        // Targets: replacing Long Biên's (even with nothing), or adding a Long Biên ward to
        // Thiệu Hóa's.
        let (status, body) = demo
            .put("demo.syt", LONG_BIEN_TARGETS, json!({"targets": []}))
            .await;
        assert_eq!(status, 403, "{backend:?}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("01-004-TTYT"),
            "{body}"
        );
        let mut with_ward = as_put(&thieu_hoa_targets);
        with_ward["targets"]
            .as_array_mut()
            .unwrap()
            .push(json!({"commune": "99201", "kind": "reach"}));
        let (status, body) = demo.put("demo.syt", THIEU_HOA_TARGETS, with_ward).await;
        assert_eq!(status, 403, "{backend:?}: {body}");
        assert_eq!(demo.targets("01-004-TTYT").await, long_bien_targets);
        assert_eq!(demo.targets("38-405-TTYT").await, thieu_hoa_targets);

        // Users: a reviewer for Long Biên's centre, one for both provinces, a system
        // administrator, and a role above their own anywhere.
        for (id, role, units) in [
            ("lb.thamdinh", "reviewer", json!(["01-004-TTYT"])),
            (
                "hai.tinh",
                "reviewer",
                json!(["38-405-TTYT", "01-004-TTYT"]),
            ),
            ("quantri.moi", "system_admin", json!(["38-SYT"])),
            ("quantri.khong", "system_admin", json!([])),
            ("khong.donvi", "reviewer", json!([])),
        ] {
            let body = json!({"id": id, "display_name": "Thử", "role": role, "units": units,
                              "password": PASSWORD});
            let (status, answer) = demo.post("demo.syt", "/api/users", body).await;
            assert!(
                status == 403 || (status == 400 && id == "khong.donvi"),
                "{backend:?} {id}: {status} {answer}"
            );
        }
        // Managing Long Biên's reviewer, the system administrator, and someone who does not
        // exist: one answer for all (no leak of who exists elsewhere).
        let mut messages = Vec::new();
        for id in ["demo.ttyt.lb", "demo.quantri", "khong.co.ai"] {
            let (status, answer) = demo
                .post(
                    "demo.syt",
                    &format!("/api/users/{id}/password"),
                    json!({"password": "mật-khẩu-của-kẻ-lạ"}),
                )
                .await;
            assert_eq!(status, 403, "{backend:?} {id}: {answer}");
            messages.push(answer["message"].as_str().unwrap().replace(id, "ID"));
            for action in ["disable", "enable"] {
                let (status, answer) = demo
                    .post("demo.syt", &format!("/api/users/{id}/{action}"), json!({}))
                    .await;
                assert_eq!(status, 403, "{backend:?} {id} {action}: {answer}");
            }
        }
        assert!(messages.windows(2).all(|m| m[0] == m[1]), "{messages:?}");
        assert_eq!(demo.users().await, users, "{backend:?}: no user changed");
        let (status, _) = demo.get("demo.ttyt.lb", "/api/me").await;
        assert_eq!(status, 200, "Long Biên's reviewer is still signed in");
        sign_in(&demo.url, "demo.ttyt.lb", &demo.passwords["demo.ttyt.lb"])
            .await
            .expect("Long Biên's reviewer keeps their password");

        // Listings show only the province's users and units.
        let (status, listed) = demo.get("demo.syt", "/api/users").await;
        assert_eq!(status, 200);
        let listed = ids(&listed["users"]);
        assert!(listed.contains(&"demo.ttyt".to_owned()), "{listed:?}");
        for other in ["demo.ttyt.lb", "demo.quantri", "syt.hn"] {
            assert!(!listed.contains(&other.to_owned()), "{other}: {listed:?}");
        }
        let (status, exported) = get_text(&demo.url, "/api/units", demo.token("demo.syt")).await;
        assert_eq!(status, 200);
        assert!(exported.contains("\n38-405,district,"), "{exported}");
        assert!(!exported.contains("\n01"), "{exported}");
        assert!(!exported.contains("99201"), "{exported}");
        let (status, choices) = demo.get("demo.syt", "/api/units?format=json").await;
        assert_eq!(status, 200);
        let codes: Vec<&str> = choices["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"38-405-TTYT") && !codes.contains(&"01-004-TTYT"));

        // Units: every row must stay inside, including parents and coverage.
        let cover_long_bien =
            format!("{HEADER}38-SYT,health_department,Sở Y tế Thanh Hóa,38,,99201;99202\n");
        for (what, csv) in [
            ("cover Long Biên's wards", cover_long_bien.clone()),
            (
                "rename Long Biên",
                format!("{HEADER}01-004,district,Quận Của Ta,01,,\n"),
            ),
            (
                "move Thiệu Hóa to Hà Nội",
                format!("{HEADER}38-405,district,Huyện Thiệu Hóa,01,,\n"),
            ),
            (
                "add a province",
                format!("{HEADER}99,province,Tỉnh Mới,,,\n"),
            ),
            (
                "add a ward to Long Biên",
                format!("{HEADER}99299,commune,Phường Mới,01-004,phuong,\n"),
            ),
            (
                "add a centre under a new district outside",
                format!(
                    "{HEADER}01-999,district,Quận Mới,01,,\n01-999-TTYT,health_centre,TTYT,01-999,,\n"
                ),
            ),
            (
                "one good row and one outside",
                format!(
                    "{HEADER}99101-T4,village,Thôn 4,99101,,\n38-SYT,health_department,Sở Y tế Thanh Hóa,38,,99214\n"
                ),
            ),
        ] {
            let (status, answer) =
                send_text(&demo.url, "/api/units", demo.token("demo.syt"), &csv).await;
            assert_eq!(status, 403, "{backend:?} {what}: {answer}");
            assert!(answer.contains("line "), "{what}: {answer}");
            assert_eq!(
                demo.units().await,
                units,
                "{backend:?} {what}: nothing written"
            );
        }
        let listed = demo.communes_listed("demo.syt").await;
        assert!(!listed.iter().any(|c| c.starts_with("992")), "{listed:?}");

        // Rounds in Long Biên.
        let open = json!({"round": 2025, "catalog": "QD1300-2023", "communes": ["99201"]});
        let (status, answer) = demo.post("demo.syt", "/api/rounds", open.clone()).await;
        assert_eq!(status, 403, "{backend:?}: {answer}");
        assert_eq!(demo.documents(2025).await, json!([]));

        // Positive controls. Thanh Hóa's administrator, at home: targets, a user, a village,
        // their own export imported back.
        let (status, body) = demo
            .put("demo.syt", THIEU_HOA_TARGETS, as_put(&thieu_hoa_targets))
            .await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        let body = json!({"id": "th.thamdinh", "display_name": "Thẩm định Thiệu Hóa (thử)",
                          "role": "reviewer", "units": ["38-405-TTYT"], "password": PASSWORD});
        let (status, answer) = demo.post("demo.syt", "/api/users", body).await;
        assert_eq!(status, 201, "{backend:?}: {answer}");
        let (status, answer) = demo
            .post("demo.syt", "/api/users/th.thamdinh/disable", json!({}))
            .await;
        assert_eq!(status, 204, "{answer}");
        let village = format!("{HEADER}99101-T4,village,Thôn 4 (thử),99101,,\n");
        let (status, answer) =
            send_text(&demo.url, "/api/units", demo.token("demo.syt"), &village).await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        let (status, own) = get_text(&demo.url, "/api/units", demo.token("demo.syt")).await;
        assert_eq!(status, 200);
        let (status, answer) =
            send_text(&demo.url, "/api/units", demo.token("demo.syt"), &own).await;
        assert_eq!(
            status, 200,
            "{backend:?}: their own export imports back: {answer}"
        );

        // Hà Nội's administrator does in Long Biên what Thanh Hóa's could not.
        let (status, body) = demo
            .put("syt.hn", LONG_BIEN_TARGETS, as_put(&long_bien_targets))
            .await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert_eq!(demo.targets("01-004-TTYT").await, long_bien_targets);
        let body = json!({"id": "lb.thamdinh", "display_name": "Thẩm định Long Biên (thử)",
                          "role": "reviewer", "units": ["01-004-TTYT"], "password": PASSWORD});
        let (status, answer) = demo.post("syt.hn", "/api/users", body).await;
        assert_eq!(status, 201, "{backend:?}: {answer}");
        for action in ["disable", "enable"] {
            let (status, answer) = demo
                .post(
                    "syt.hn",
                    &format!("/api/users/demo.ttyt.lb/{action}"),
                    json!({}),
                )
                .await;
            assert_eq!(status, 204, "{action}: {answer}");
        }
        let (status, answer) = demo
            .post(
                "syt.hn",
                "/api/users/demo.ttyt.lb/password",
                json!({"password": "mật-khẩu-mới-lb-1"}),
            )
            .await;
        assert_eq!(status, 204, "{answer}");
        sign_in(&demo.url, "demo.ttyt.lb", "mật-khẩu-mới-lb-1")
            .await
            .expect("the new password works");
        let ward_village = format!("{HEADER}99201-T1,village,Tổ dân phố 1 (thử),99201,,\n");
        let (status, answer) =
            send_text(&demo.url, "/api/units", demo.token("syt.hn"), &ward_village).await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        let (status, answer) = demo.post("syt.hn", "/api/rounds", open).await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        assert_eq!(demo.documents(2025).await.as_array().unwrap().len(), 1);

        // The system administrator may make Thanh Hóa's department cover Long Biên's wards;
        // then, and only then, Thanh Hóa reads them.
        let (status, answer) = send_text(
            &demo.url,
            "/api/units",
            demo.token("demo.quantri"),
            &cover_long_bien,
        )
        .await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        let listed = demo.communes_listed("demo.syt").await;
        assert!(listed.contains(&"99201".to_owned()), "{listed:?}");
    }
}

#[tokio::test]
async fn reviewers_set_targets_and_open_rounds_only_for_their_own_coverage() {
    for backend in backends().await {
        let demo = demo_on(backend).await;
        let long_bien_targets = demo.targets("01-004-TTYT").await;
        let thieu_hoa_targets = demo.targets("38-405-TTYT").await;
        let units = demo.units().await;

        let (status, body) = demo
            .put("demo.ttyt", LONG_BIEN_TARGETS, as_put(&long_bien_targets))
            .await;
        assert_eq!(status, 403, "{backend:?}: {body}");
        let mut with_ward = as_put(&thieu_hoa_targets);
        with_ward["targets"]
            .as_array_mut()
            .unwrap()
            .push(json!({"commune": "99201", "kind": "reach"}));
        let (status, body) = demo.put("demo.ttyt", THIEU_HOA_TARGETS, with_ward).await;
        assert_eq!(status, 403, "{backend:?}: {body}");
        let open = json!({"round": 2025, "catalog": "QD1300-2023", "communes": ["99201"]});
        let (status, body) = demo.post("demo.ttyt", "/api/rounds", open.clone()).await;
        assert_eq!(status, 403, "{backend:?}: {body}");
        // Administration is not theirs at all.
        let (status, _) = demo.get("demo.ttyt", "/api/users").await;
        assert_eq!(status, 403);
        let (status, _) = send_text(
            &demo.url,
            "/api/units",
            demo.token("demo.ttyt"),
            &format!("{HEADER}99101-T4,village,Thôn 4,99101,,\n"),
        )
        .await;
        assert_eq!(status, 403);
        assert_eq!(demo.targets("01-004-TTYT").await, long_bien_targets);
        assert_eq!(demo.targets("38-405-TTYT").await, thieu_hoa_targets);
        assert_eq!(demo.documents(2025).await, json!([]));
        assert_eq!(demo.units().await, units);

        // Long Biên's own reviewer sets Long Biên's targets and opens its round.
        let (status, body) = demo
            .put(
                "demo.ttyt.lb",
                LONG_BIEN_TARGETS,
                as_put(&long_bien_targets),
            )
            .await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        let (status, body) = demo.post("demo.ttyt.lb", "/api/rounds", open).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert_eq!(demo.documents(2025).await.as_array().unwrap().len(), 1);
    }
}
