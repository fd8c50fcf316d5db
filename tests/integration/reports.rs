//! Reports against the real server: assessments scored and moved through the workflow by the
//! station heads and the reviewer over sync; `GET /api/reports` counts them exactly from their
//! summaries, the CSV and the XLSX downloads (read back) carry the same communes with their
//! Vietnamese names, and a reviewer of another district sees none of the first district's.

use std::io::Read;

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};
use tramyte_server::config::DocKindArg;
use tramyte_server::domain::target::{Target, TargetKind};
use tramyte_server::store::Store;
use tramyte_shared::assessment::{Answer, Side, append_event, set_score};
use tramyte_shared::catalog::{Catalog, shipped_catalogs};
use tramyte_shared::id::{ItemId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::workflow::EventKind;
use tramyte_tests::api;
use tramyte_tests::people::{seed_units, user};
use tramyte_tests::sync_client::SyncClient;
use tramyte_tests::{backends, spawn_server_on};

/// A third commune in Thiệu Hóa, and a second district with its health centre and one commune.
const MORE_UNITS: &str = "code,kind,name,parent,unit_type,covers
16026,commune,Xã Thiệu Hợp (thử),38-405,xa,
38-406,district,Huyện Yên Định (thử),38,,
38-406-TTYT,health_centre,Trung tâm Y tế huyện Yên Định (thử),38-406,,
16200,commune,Xã Định Tân (thử),38-406,xa,
";

fn qd1300() -> Catalog {
    shipped_catalogs().remove(0)
}

async fn create_assessment(store: &Store, commune: &str) -> DocumentId {
    let object = json!({
        "commune": commune, "catalog": "QD1300-2023", "round": 2024, "zone": 1, "unit_type": "xa"
    });
    tramyte_server::cli::create_document(store, DocKindArg::Assessment, object.as_object().unwrap())
        .await
        .unwrap()
}

/// Connects as `token`, fetches `id`, makes `change`, and waits until the server has it.
async fn edit_as(
    url: &str,
    (who, token): (&str, &str),
    id: DocumentId,
    change: impl FnOnce(&mut automerge::AutoCommit),
) {
    let mut client = SyncClient::new(&format!("{who}-phone"));
    client.connect_as(url, Some(token)).await;
    client.request(id).await;
    client.settle(id).await;
    client.edit(id, change).await;
    client.settle(id).await;
    client.disconnect().await;
}

/// Scores every criterion of `side` at its maximum except those in `except`.
fn score_all(doc: &mut automerge::AutoCommit, side: Side, by: &str, except: &[(&str, u32)]) {
    let by = UserId::parse(by).unwrap();
    for criterion in &qd1300().criteria {
        let points = except
            .iter()
            .find(|(id, _)| *id == criterion.id.as_str())
            .map_or(criterion.max_points, |(_, p)| Points::whole(*p));
        set_score(
            doc,
            side,
            &ItemId::parse(criterion.id.as_str()).unwrap(),
            Answer::Points(points),
            &by,
            1_710_000_000_000,
        )
        .unwrap();
    }
}

fn event(doc: &mut automerge::AutoCommit, kind: EventKind, by: &str) {
    append_event(
        doc,
        &kind,
        &UserId::parse(by).unwrap(),
        1_710_000_000_000,
        "",
    )
    .unwrap();
}

/// `GET path` answering the status, the headers and the raw body.
async fn download(
    url: &str,
    path: &str,
    token: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// One file of a zip archive, as text.
fn unzip(archive: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
    let mut file = archive
        .by_name(name)
        .unwrap_or_else(|err| panic!("{name}: {err}"));
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}

/// A commune's code and name, and the criteria it scored below their maximum, with the points.
type Scored<'a> = (&'a str, &'a str, Vec<(&'a str, u32)>);

/// The criteria a report should list: every QD1300 criterion, its average over the given
/// points, and the communes below its minimum (50% of the maximum, rounded up to 0.5).
fn expected_criteria(scored: &[Scored]) -> Value {
    let catalog = qd1300();
    let criteria: Vec<Value> = catalog
        .criteria
        .iter()
        .map(|c| {
            let max = c.max_points;
            let required = max.share_ceil(catalog.pass_rule.criterion_min_percent);
            let points: Vec<(&str, &str, Points)> = scored
                .iter()
                .map(|(code, name, except)| {
                    let p = except
                        .iter()
                        .find(|(id, _)| *id == c.id.as_str())
                        .map_or(max, |(_, p)| Points::whole(*p));
                    (*code, *name, p)
                })
                .collect();
            let average = (!points.is_empty()).then(|| {
                let sum: f64 = points.iter().map(|(_, _, p)| p.to_f64()).sum();
                (sum / points.len() as f64 * 100.0).round() / 100.0
            });
            let below: Vec<Value> = points
                .iter()
                .filter(|(_, _, p)| *p < required)
                .map(|(code, name, p)| {
                    json!({"commune": code, "commune_name": name,
                           "points": p.to_f64(), "required": required.to_f64()})
                })
                .collect();
            json!({"id": c.id.as_str(), "name_vi": c.name_vi, "name_en": c.name_en,
                   "max": max.to_f64(), "average": average, "below_minimum": below})
        })
        .collect();
    Value::Array(criteria)
}

#[tokio::test]
async fn reports_count_the_round_from_summaries_and_download_as_csv_and_xlsx() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let url = server.url();
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        tramyte_server::domain::unit::import(&store, MORE_UNITS)
            .await
            .unwrap();
        let reviewer = user(&store, "thu.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
        let other_reviewer = user(&store, "nam.ttyt", Role::Reviewer, &["38-406-TTYT"]).await;
        let head_van = user(&store, "hung.truongtram", Role::StationHead, &["16024"]).await;
        let head_giao = user(&store, "mai.truongtram", Role::StationHead, &["16025"]).await;
        let head_tan = user(&store, "binh.truongtram", Role::StationHead, &["16200"]).await;
        let staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        let targets = ["16024", "16025", "16026"].map(|commune| Target {
            commune: commune.to_owned(),
            kind: TargetKind::Reach,
            local_min_score: None,
        });
        tramyte_server::domain::target::replace(&store, "38-405-TTYT", 2024, &targets)
            .await
            .unwrap();

        // Thiệu Vận: scored in full by its head, submitted, scored by the reviewer (TC2 at 8),
        // appraised and approved. Thiệu Giao: TC1 at 5 of 14 (below its minimum of 7),
        // submitted. Thiệu Hợp: untouched. Định Tân (the other district): TC1 at 1, a draft.
        let van = create_assessment(&store, "16024").await;
        let giao = create_assessment(&store, "16025").await;
        let _hop = create_assessment(&store, "16026").await;
        let tan = create_assessment(&store, "16200").await;
        edit_as(&url, ("hung", &head_van), van, |doc| {
            score_all(doc, Side::SelfAssessment, "hung.truongtram", &[]);
            event(doc, EventKind::Submit, "hung.truongtram");
        })
        .await;
        edit_as(&url, ("thu", &reviewer), van, |doc| {
            score_all(doc, Side::Review, "thu.ttyt", &[("TC2", 8)]);
            event(doc, EventKind::Appraise, "thu.ttyt");
            let heads = tramyte_shared::document::heads(doc);
            event(doc, EventKind::Approve { heads }, "thu.ttyt");
        })
        .await;
        edit_as(&url, ("mai", &head_giao), giao, |doc| {
            score_all(doc, Side::SelfAssessment, "mai.truongtram", &[("TC1", 5)]);
            event(doc, EventKind::Submit, "mai.truongtram");
        })
        .await;
        edit_as(&url, ("binh", &head_tan), tan, |doc| {
            score_all(doc, Side::SelfAssessment, "binh.truongtram", &[("TC1", 1)]);
        })
        .await;

        let (status, report) =
            api::get(&url, "/api/reports?year=2024&period=h1", Some(&reviewer)).await;
        assert_eq!(status, 200, "{backend:?}: {report}");
        let (_, documents) = api::get(
            &url,
            "/api/documents?kind=assessment&round=2024",
            Some(&reviewer),
        )
        .await;
        assert_eq!(documents["documents"].as_array().unwrap().len(), 3);
        let want = json!({
            "year": 2024, "period": "h1", "from": "2024-01-01", "to": "2024-06-30",
            "as_of": "2024-06-30", "period_ended": true,
            "communes": 3, "submitted": 2, "approved": 1, "passing": 1,
            // Thiệu Vận counts with its review (the side of its verdict), Thiệu Giao with its
            // self score; Thiệu Hợp scored nothing.
            "criteria": expected_criteria(&[
                ("16024", "Xã Thiệu Vận (thử)", vec![("TC2", 8)]),
                ("16025", "Xã Thiệu Giao (thử)", vec![("TC1", 5)]),
            ]),
            "targets": [{"unit": "38-405-TTYT", "kind": "reach", "communes": 3, "approved": 1,
                         "not_opened": 0, "passing": 1}],
            "rows": documents["documents"],
        });
        assert_eq!(report, want, "{backend:?}");
        assert_eq!(report["criteria"][0]["average"], json!(9.5));
        assert_eq!(
            report["criteria"][0]["below_minimum"],
            json!([{"commune": "16025", "commune_name": "Xã Thiệu Giao (thử)",
                    "points": 5.0, "required": 7.0}])
        );
        let rows = report["rows"].as_array().unwrap();
        assert_eq!(rows[0]["status"], "approved");
        assert_eq!(rows[0]["review_total"], 98);

        let (status, yearly) = api::get(&url, "/api/reports?year=2024", Some(&reviewer)).await;
        assert_eq!(status, 200);
        assert_eq!(
            (&yearly["period"], &yearly["to"]),
            (&json!("year"), &json!("2024-12-31"))
        );
        assert_eq!(yearly["approved"], 1);

        // CSV: a byte order mark, one line per commune with its points, then the figures.
        let (status, headers, csv) =
            download(&url, "/api/reports.csv?year=2024&period=h1", &reviewer).await;
        assert_eq!(status, 200);
        assert_eq!(headers[CONTENT_TYPE], "text/csv; charset=utf-8");
        assert_eq!(
            headers[CONTENT_DISPOSITION],
            "attachment; filename=\"bao-cao-2024-h1.csv\""
        );
        assert!(
            csv.starts_with(&[0xEF, 0xBB, 0xBF]),
            "a UTF-8 byte order mark"
        );
        let csv = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(
            lines[0],
            "Mã xã,Tên xã,Trạng thái,Điểm tự chấm,Điểm thẩm định,Kết quả,\
             TC1,TC2,TC3,TC4,TC5,TC6,TC7,TC8,TC9,TC10,Xung đột chưa giải quyết"
        );
        assert_eq!(
            lines[1],
            "16024,Xã Thiệu Vận (thử),Đã thông qua,100,98,Đạt,14,8,12,9,19,12,6,11,3,4,0"
        );
        assert_eq!(
            lines[2],
            "16025,Xã Thiệu Giao (thử),Đã nộp,91,,Không đạt,5,10,12,9,19,12,6,11,3,4,0"
        );
        assert_eq!(
            lines[3],
            "16026,Xã Thiệu Hợp (thử),Đang tự đánh giá,,,Chưa đủ,,,,,,,,,,,0"
        );
        assert_eq!(lines[4], "");
        assert_eq!(
            &lines[5..12],
            [
                "Năm,2024",
                "Kỳ báo cáo,6 tháng đầu năm",
                "Từ ngày,2024-01-01",
                "Đến ngày,2024-06-30",
                "Trạng thái tính đến ngày,2024-06-30",
                "Điểm,theo hồ sơ hiện tại",
                "Số xã đánh giá,3"
            ]
        );
        assert!(csv.contains("\r\nĐã thông qua,1\r\n"), "{csv}");
        assert!(!csv.contains("16200"), "{csv}");

        // XLSX, read back: the three sheets, and the approved commune's Vietnamese name.
        let (status, headers, xlsx) =
            download(&url, "/api/reports.xlsx?year=2024&period=h1", &reviewer).await;
        assert_eq!(status, 200);
        assert_eq!(
            headers[CONTENT_TYPE],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(
            headers[CONTENT_DISPOSITION],
            "attachment; filename=\"bao-cao-2024-h1.xlsx\""
        );
        let workbook = unzip(&xlsx, "xl/workbook.xml");
        for sheet in ["Tổng hợp", "Xã", "Tiêu chí"] {
            assert!(
                workbook.contains(&format!("name=\"{sheet}\"")),
                "{sheet}: {workbook}"
            );
        }
        let strings = unzip(&xlsx, "xl/sharedStrings.xml");
        for text in [
            "Xã Thiệu Vận (thử)",
            "Đã thông qua",
            "Chỉ đạo, điều hành công tác chăm sóc sức khỏe",
            "Xã Thiệu Giao (thử) (5/7)",
        ] {
            assert!(strings.contains(text), "{text}: {strings}");
        }
        assert!(!strings.contains("Định Tân"), "{strings}");
        let communes_sheet = unzip(&xlsx, "xl/worksheets/sheet2.xml");
        assert!(
            communes_sheet.contains("<v>98</v>"),
            "the review total as a number"
        );

        // The other district's reviewer sees only Định Tân, below TC1's minimum.
        let (status, theirs) = api::get(
            &url,
            "/api/reports?year=2024&period=h1",
            Some(&other_reviewer),
        )
        .await;
        assert_eq!(status, 200, "{theirs}");
        assert_eq!(
            (&theirs["communes"], &theirs["submitted"]),
            (&json!(1), &json!(0))
        );
        assert_eq!(theirs["targets"], json!([]));
        let codes: Vec<&str> = theirs["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["commune"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["16200"]);
        assert_eq!(
            theirs["criteria"][0]["below_minimum"],
            json!([{"commune": "16200", "commune_name": "Xã Định Tân (thử)",
                    "points": 1.0, "required": 7.0}])
        );
        let (_, _, their_xlsx) =
            download(&url, "/api/reports.xlsx?year=2024", &other_reviewer).await;
        let strings = unzip(&their_xlsx, "xl/sharedStrings.xml");
        assert!(strings.contains("Xã Định Tân (thử)"));
        assert!(!strings.contains("Thiệu"), "{strings}");
        let (_, _, their_csv) = download(&url, "/api/reports.csv?year=2024", &other_reviewer).await;
        assert!(!String::from_utf8(their_csv).unwrap().contains("16024"));

        // Errors: who may not, and what is not a year or a period.
        let (status, _) = api::get(&url, "/api/reports?year=2024", Some(&staff)).await;
        assert_eq!(status, 403);
        let (status, _, _) = download(&url, "/api/reports.xlsx?year=2024", &staff).await;
        assert_eq!(status, 403);
        for bad in [
            "/api/reports",
            "/api/reports?year=abc",
            "/api/reports?year=1999",
            "/api/reports?year=2024&period=h2",
            "/api/reports.csv?year=2024&period=q3",
            "/api/reports.xlsx?year=-1",
        ] {
            let (status, body) = api::get(&url, bad, Some(&reviewer)).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert!(
                body["message"].as_str().unwrap().contains("year")
                    || body["message"].as_str().unwrap().contains("period"),
                "{body}"
            );
        }
        let (status, empty) = api::get(&url, "/api/reports?year=2023", Some(&reviewer)).await;
        assert_eq!(status, 200);
        assert_eq!(
            (&empty["communes"], &empty["criteria"], &empty["rows"]),
            (&json!(0), &json!([]), &json!([]))
        );
    }
}

/// Signs in a demo account, answering its token.
async fn sign_in(url: &str, user: &str, password: &str) -> String {
    let body = json!({"user": user, "password": password, "device": "test"});
    let (status, signed_in) = api::post(url, "/api/session", None, &body).await;
    assert_eq!(status, 200, "{signed_in}");
    signed_in["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_half_year_report_counts_each_dossier_as_it_stood_on_30_june() {
    use tramyte_server::demo;
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let url = server.url();
        let store = Store::connect(&server.config.database_url).await.unwrap();
        let loaded = demo::load(&store, false, 1_704_067_200_000).await.unwrap();
        let password = |user: &str| {
            let account = loaded.accounts.iter().find(|a| a.user == user).unwrap();
            account.password.clone()
        };
        let thieu_hoa = sign_in(&url, "demo.ttyt", &password("demo.ttyt")).await;
        let long_bien = sign_in(&url, "demo.ttyt.lb", &password("demo.ttyt.lb")).await;

        // What the demo's plan says, counted here from its dates (ISO dates compare as text):
        // how many dossiers were submitted and approved by a day (empty: not yet).
        let communes: Vec<(&str, &str)> = demo::DATES.iter().map(|d| (d.0, d.2)).collect();
        let wards: Vec<(&str, &str)> = demo::WARD_DATES.iter().map(|d| (d.0, d.2)).collect();
        let by = |dates: &[(&str, &str)], day: &str| {
            let done = |date: &&str| !date.is_empty() && *date <= day;
            (
                dates.iter().map(|d| d.0).filter(done).count(),
                dates.iter().map(|d| d.1).filter(done).count(),
            )
        };
        let (communes_h1, communes_year) =
            (by(&communes, "2024-06-30"), by(&communes, "2024-12-31"));
        let (wards_h1, wards_year) = (by(&wards, "2024-06-30"), by(&wards, "2024-12-31"));
        assert_eq!((communes_h1, communes_year), ((4, 1), (8, 3)));
        assert_eq!((wards_h1, wards_year), ((11, 4), (14, 12)));

        for (token, h1, year, communes) in [
            (&thieu_hoa, communes_h1, communes_year, 13),
            (&long_bien, wards_h1, wards_year, 14),
        ] {
            for (period, (submitted, approved)) in [("h1", h1), ("year", year)] {
                let path = format!("/api/reports?year=2024&period={period}");
                let (status, report) = api::get(&url, &path, Some(token)).await;
                assert_eq!(status, 200, "{backend:?}: {report}");
                let counts = (
                    report["communes"].as_u64().unwrap() as usize,
                    report["submitted"].as_u64().unwrap() as usize,
                    report["approved"].as_u64().unwrap() as usize,
                );
                assert_eq!(
                    counts,
                    (communes, submitted, approved),
                    "{backend:?} {path}"
                );
                assert_eq!(report["period_ended"], true);
                assert_eq!(report["as_of"], report["to"]);
                assert_eq!(
                    report["targets"][0]["approved"], approved,
                    "{backend:?} {path}"
                );
                let drafts = report["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|row| row["status"] == "draft")
                    .count();
                assert_eq!(drafts, communes - submitted, "{backend:?} {path}");
            }
        }

        // Long Biên's wards must maintain with 95 points: Ngọc Thụy (93.5) does not count.
        let (_, report) = api::get(&url, "/api/reports?year=2024", Some(&long_bien)).await;
        assert_eq!(
            report["targets"],
            json!([{"unit": demo::LONG_BIEN_CENTRE, "kind": "maintain", "communes": 14,
                    "approved": 12, "not_opened": 0, "passing": 13}]),
            "{backend:?}"
        );
        // Counted now, the report's targets are the overview's (counted by the database).
        let (_, overview) = api::get(&url, "/api/overview?round=2024", Some(&long_bien)).await;
        assert_eq!(overview["targets"], report["targets"], "{backend:?}");
        let (_, overview) = api::get(&url, "/api/overview?round=2024", Some(&thieu_hoa)).await;
        let (_, report) = api::get(&url, "/api/reports?year=2024", Some(&thieu_hoa)).await;
        assert_eq!(overview["targets"], report["targets"], "{backend:?}");
        assert_eq!(overview["by_status"]["approved"], 3);
    }
}

#[tokio::test]
async fn the_csv_labels_statuses_and_verdicts_as_the_screen_does() {
    let server = spawn_server_on(tramyte_tests::Backend::Sqlite, |_| {}).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    let now = tramyte_server::store::now_millis();
    let loaded = tramyte_server::demo::load(&store, true, now).await.unwrap();
    let password = loaded
        .accounts
        .iter()
        .find(|a| a.user == "demo.ttyt")
        .map(|a| a.password.clone())
        .unwrap();
    let (token, _) =
        tramyte_server::domain::account::sign_in(&store, "demo.ttyt", &password, "test")
            .await
            .unwrap();
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/reports.csv?year=2024&period=year",
            server.url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    let field = |code: &str, column: usize| -> String {
        csv.lines()
            .find(|line| line.starts_with(&format!("{code},")))
            .unwrap_or_else(|| panic!("no line for {code} in {csv}"))
            .split(',')
            .nth(column)
            .unwrap()
            .to_owned()
    };
    // Thiệu Giao was returned; Thiệu Thành is a draft without every score.
    assert_eq!(field("99107", 2), "Bị trả lại");
    assert_eq!(field("99109", 2), "Đang tự đánh giá");
    assert_eq!(field("99109", 5), "Chưa đủ");
    assert_eq!(field("99101", 2), "Đã thông qua");
    assert_eq!(field("99101", 5), "Đạt");
    // The screen's labels, from the one place both take them.
    use tramyte_shared::scoring::Verdict;
    use tramyte_shared::workflow::Status;
    assert_eq!(Status::Returned.label_vi(), "Bị trả lại");
    assert_eq!(Verdict::Incomplete.label_vi(), "Chưa đủ");
    assert!(!csv.contains("Chưa đủ điểm"), "{csv}");
    assert!(!csv.contains(",Trả lại,"), "{csv}");
}
