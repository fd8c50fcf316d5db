//! Evidence files over real HTTP on both databases: uploads checked (hash, type, size, quota,
//! scope) with nothing stored on a refusal, the same bytes stored once however many upload them
//! at once, files read only by people who may read a document naming them (or the commune they
//! were uploaded for), and the sweep deleting only files no document names.

use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tramyte_server::domain::file::{FileLimits, sweep};
use tramyte_server::store::Store;
use tramyte_server::store::file::{Totals, totals, usage};
use tramyte_shared::assessment::{Evidence, put_evidence, remove_evidence};
use tramyte_shared::files::{AttachedFile, MediaType};
use tramyte_shared::id::{EvidenceId, ItemId, UserId};
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_tests::people::{open_assessment, seed_units, user};
use tramyte_tests::sync_client::SyncClient;
use tramyte_tests::{Backend, TestServer, backends, spawn_server_on};

/// The file limit of these tests: more than one stored part (256 KiB), well under the default.
const MAX_FILE: u64 = 400_000;
/// The commune quota of these tests.
const QUOTA: u64 = 900_000;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A JPEG as a camera starts one (JFIF header), `size` bytes long, its content varied by `seed`.
fn jpeg(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01,
    ];
    let mut x = u32::from(seed) | 0x9E37_0000;
    while bytes.len() < size {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        bytes.push((x >> 24) as u8);
    }
    bytes.truncate(size);
    bytes
}

async fn put_file(
    base: &str,
    sha: &str,
    commune: &str,
    token: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .put(format!("{base}/api/files/{sha}?commune={commune}"))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn get_file(
    base: &str,
    sha: &str,
    token: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/files/{sha}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

struct Scene {
    server: TestServer,
    store: Store,
    lan: String,
    hoa: String,
    mai: String,
    reviewer: String,
    dossier: DocumentId,
}

async fn scene(backend: Backend) -> Scene {
    let server = spawn_server_on(backend, |config| {
        config.files.max_file_bytes = MAX_FILE;
        config.files.commune_quota = QUOTA;
    })
    .await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    let lan = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
    let hoa = user(&store, "hoa.tyt", Role::StationHead, &["16024"]).await;
    let mai = user(&store, "mai.tyt", Role::StationStaff, &["16025"]).await;
    let reviewer = user(&store, "thu.ttyt", Role::Reviewer, &["38-405-TTYT"]).await;
    let dossier = open_assessment(&store, "16024").await;
    Scene {
        server,
        store,
        lan,
        hoa,
        mai,
        reviewer,
        dossier,
    }
}

impl Scene {
    async fn totals(&self) -> Totals {
        totals(&self.store).await.unwrap()
    }

    /// Lan's phone writes (or, with `None`, removes) evidence entry `e1` of TC1 naming `file`,
    /// and waits until the server stored it.
    async fn evidence(&self, file: Option<&str>) {
        let mut phone = SyncClient::new(&format!("lan-phone-{}", &file.unwrap_or("none")[..4]));
        phone.connect_as(&self.server.url(), Some(&self.lan)).await;
        phone.request(self.dossier).await;
        phone.settle(self.dossier).await;
        let item = ItemId::parse("TC1").unwrap();
        let id = EvidenceId::parse("e1").unwrap();
        let lan = UserId::parse("lan.tyt").unwrap();
        let file = file.map(str::to_owned);
        phone
            .edit(self.dossier, |doc| match file {
                Some(sha256) => {
                    let evidence = Evidence {
                        label: "Ảnh biển hiệu trạm (thử)".into(),
                        reference: String::new(),
                        added_by: lan.to_string(),
                        added_at: 1_000,
                        file: Some(AttachedFile {
                            sha256,
                            media_type: MediaType::Jpeg,
                            size: 1,
                            name: "bien-hieu.jpg".into(),
                            thumbnail: None,
                        }),
                    };
                    put_evidence(doc, &item, &id, &evidence, 1_000).unwrap();
                }
                None => remove_evidence(doc, &item, &id, 1_000).unwrap(),
            })
            .await;
        phone.settle(self.dossier).await;
        assert!(phone.is_online(), "the server accepted the evidence entry");
        phone.disconnect().await;
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_with_a_clear_error_and_store_nothing() {
    for backend in backends().await {
        let scene = scene(backend).await;
        let base = scene.server.url();
        let photo = jpeg(300_000, 1);
        let sha = sha256_hex(&photo);
        // Refused before the body is read: a small one, so the client surely reads the answer.
        let small = jpeg(1_000, 5);

        let refusals = [
            // (what, address's hash, commune, who, bytes, status, error code)
            (
                "a hash that is not the bytes'",
                sha256_hex(b"other"),
                "16024",
                &scene.lan,
                photo.clone(),
                400,
                "bad_request",
            ),
            (
                "a file id that is no SHA-256",
                "not-a-hash".to_owned(),
                "16024",
                &scene.lan,
                small.clone(),
                400,
                "bad_request",
            ),
            (
                "an upper-case id",
                sha256_hex(&small).to_uppercase(),
                "16024",
                &scene.lan,
                small.clone(),
                400,
                "bad_request",
            ),
            (
                "a GIF",
                sha256_hex(b"GIF89a\x01\x00\x01\x00 tiny"),
                "16024",
                &scene.lan,
                b"GIF89a\x01\x00\x01\x00 tiny".to_vec(),
                415,
                "unsupported_media_type",
            ),
            (
                "an HTML page",
                sha256_hex(b"<!DOCTYPE html><script>alert(1)</script>"),
                "16024",
                &scene.lan,
                b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
                415,
                "unsupported_media_type",
            ),
            (
                "another commune's upload",
                sha256_hex(&small),
                "16025",
                &scene.lan,
                small.clone(),
                403,
                "forbidden",
            ),
            (
                "a reviewer's upload",
                sha256_hex(&small),
                "16024",
                &scene.reviewer,
                small.clone(),
                403,
                "forbidden",
            ),
        ];
        for (what, address, commune, token, bytes, status, code) in refusals {
            let (got, body) = put_file(&base, &address, commune, token, bytes).await;
            assert_eq!(got.as_u16(), status, "{what}: {body}");
            assert_eq!(body["error"], code, "{what}: {body}");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{what}: {body}"
            );
        }
        let too_big = jpeg(MAX_FILE as usize + 1, 2);
        let (got, body) =
            put_file(&base, &sha256_hex(&too_big), "16024", &scene.lan, too_big).await;
        assert_eq!(got, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("400000"),
            "{body}"
        );
        // A body cut short of its hash (a PDF whose last part never came).
        let pdf = [b"%PDF-1.7\n".as_slice(), &jpeg(280_000, 3)].concat();
        let (got, _) = put_file(
            &base,
            &sha256_hex(&pdf),
            "16024",
            &scene.lan,
            pdf[..270_000].to_vec(),
        )
        .await;
        assert_eq!(got, StatusCode::BAD_REQUEST);
        assert_eq!(
            scene.totals().await,
            Totals::default(),
            "nothing stored on a refusal"
        );
        assert_eq!(usage(&scene.store, "16024").await.unwrap(), 0);

        // Positive control: the same photo, right hash, own commune.
        let (got, body) = put_file(&base, &sha, "16024", &scene.lan, photo.clone()).await;
        assert_eq!(got, StatusCode::CREATED, "{body}");
        assert_eq!(body["created"], true);
        assert_eq!(body["media_type"], "image/jpeg");
        assert_eq!(body["size"], 300_000);
        assert_eq!(body["sha256"], sha.as_str());
        let (got, body) = put_file(&base, &pdf_sha(&pdf), "16024", &scene.hoa, pdf.clone()).await;
        assert_eq!(got, StatusCode::CREATED, "{body}");
        assert_eq!(body["media_type"], "application/pdf");
        // A PDF goes to the device's own reader; a photo opens in the page.
        let (_, headers, bytes) = get_file(&base, &pdf_sha(&pdf), &scene.hoa).await;
        assert_eq!(bytes, pdf);
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        let (_, headers, _) = get_file(&base, &sha, &scene.lan).await;
        assert!(headers.get("content-disposition").is_none());
        assert_eq!(
            scene.totals().await,
            Totals {
                files: 2,
                parts: 4,
                bytes: 300_000 + pdf.len() as i64
            }
        );
        let used = usage(&scene.store, "16024").await.unwrap();
        assert_eq!(used, 300_000 + pdf.len() as i64);

        // Over the commune's quota: refused, nothing more stored; another commune has room.
        let third = jpeg(390_000, 4);
        let (got, body) = put_file(
            &base,
            &sha256_hex(&third),
            "16024",
            &scene.lan,
            third.clone(),
        )
        .await;
        assert_eq!(got, StatusCode::INSUFFICIENT_STORAGE, "{body}");
        assert_eq!(body["error"], "insufficient_storage");
        assert_eq!(scene.totals().await.files, 2);
        assert_eq!(scene.totals().await.parts, 4);
        assert_eq!(usage(&scene.store, "16024").await.unwrap(), used);
        let (got, _) = put_file(&base, &sha256_hex(&third), "16025", &scene.mai, third).await;
        assert_eq!(got, StatusCode::CREATED);

        // The refusals were counted by reason.
        let metrics = tramyte_tests::hostile::metrics(&base).await;
        for line in [
            "tramyte_file_uploads_total{outcome=\"refused\",reason=\"hash_mismatch\"} 2",
            "tramyte_file_uploads_total{outcome=\"refused\",reason=\"unsupported_type\"} 2",
            "tramyte_file_uploads_total{outcome=\"refused\",reason=\"too_large\"} 1",
            "tramyte_file_uploads_total{outcome=\"refused\",reason=\"over_quota\"} 1",
            "tramyte_file_uploads_total{outcome=\"refused\",reason=\"scope\"} 2",
            "tramyte_file_uploads_total{outcome=\"stored\",reason=\"none\"} 3",
        ] {
            assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
        }
    }
}

fn pdf_sha(pdf: &[u8]) -> String {
    sha256_hex(pdf)
}

#[tokio::test]
async fn the_same_file_uploaded_at_once_by_several_phones_is_stored_once() {
    for backend in backends().await {
        let scene = scene(backend).await;
        let base = scene.server.url();
        let photo = jpeg(390_000, 7);
        let sha = sha256_hex(&photo);
        let uploads = (0..6).map(|i| {
            let token = if i % 2 == 0 { &scene.lan } else { &scene.hoa };
            put_file(&base, &sha, "16024", token, photo.clone())
        });
        let answers = futures_util::future::join_all(uploads).await;
        let created = answers
            .iter()
            .filter(|(status, _)| *status == StatusCode::CREATED)
            .count();
        let existing = answers
            .iter()
            .filter(|(status, _)| *status == StatusCode::OK)
            .count();
        assert_eq!((created, existing), (1, 5), "{answers:?}");
        assert!(
            answers
                .iter()
                .all(|(_, body)| body["sha256"] == sha.as_str())
        );
        // Once stored, the same file uploaded again for the same commune is answered 200 and
        // charged nothing more (on PostgreSQL this once answered 503: a decoding error in the
        // check whether the commune had uploaded it).
        let (status, body) = put_file(&base, &sha, "16024", &scene.lan, photo.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["created"], false);
        let totals = scene.totals().await;
        assert_eq!(
            (totals.files, totals.bytes, totals.parts),
            (1, 390_000, 2),
            "one file in its two parts, no leftovers of the uploads that lost: {totals:?}"
        );
        assert_eq!(
            usage(&scene.store, "16024").await.unwrap(),
            390_000,
            "charged once"
        );
        let (status, headers, bytes) = get_file(&base, &sha, &scene.lan).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes, photo, "the bytes come back whole, part after part");
        assert_eq!(headers["content-type"], "image/jpeg");
        assert_eq!(
            headers["cache-control"],
            "private, max-age=31536000, immutable"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn a_file_is_read_by_those_who_may_read_a_document_naming_it() {
    for backend in backends().await {
        let scene = scene(backend).await;
        let base = scene.server.url();
        // Uploaded for Thiệu Giao (16025) by its station.
        let photo = jpeg(20_000, 9);
        let sha = sha256_hex(&photo);
        let (status, _) = put_file(&base, &sha, "16025", &scene.mai, photo.clone()).await;
        assert_eq!(status, StatusCode::CREATED);
        // Its commune and the reviewer covering it read it; Thiệu Vận's people do not, and a
        // file they may not read answers exactly as one that does not exist.
        assert_eq!(get_file(&base, &sha, &scene.mai).await.0, StatusCode::OK);
        assert_eq!(
            get_file(&base, &sha, &scene.reviewer).await.0,
            StatusCode::OK
        );
        let (status, _, body) = get_file(&base, &sha, &scene.hoa).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, _, nothing) = get_file(&base, &sha256_hex(b"never uploaded"), &scene.hoa).await;
        assert_eq!(body, nothing);
        assert_eq!(
            get_file(&base, "not-a-hash", &scene.hoa).await.0,
            StatusCode::NOT_FOUND
        );

        // Once Thiệu Vận's dossier names it, Thiệu Vận's people read it; no longer once the
        // entry is removed.
        scene.evidence(Some(&sha)).await;
        let (status, _, bytes) = get_file(&base, &sha, &scene.hoa).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes, photo);
        scene.evidence(None).await;
        assert_eq!(
            get_file(&base, &sha, &scene.hoa).await.0,
            StatusCode::NOT_FOUND
        );
        // Without a session, nothing.
        let anonymous = reqwest::get(format!("{base}/api/files/{sha}"))
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_sweep_deletes_only_files_no_document_has_named_for_a_month() {
    for backend in backends().await {
        let scene = scene(backend).await;
        let base = scene.server.url();
        let named = jpeg(300_000, 11);
        let dropped = jpeg(1_000, 12);
        let never = jpeg(2_000, 13);
        for bytes in [&named, &dropped, &never] {
            let (status, _) = put_file(
                &base,
                &sha256_hex(bytes),
                "16024",
                &scene.lan,
                bytes.clone(),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        // The dossier names `dropped`, then `named` in its place.
        scene.evidence(Some(&sha256_hex(&dropped))).await;
        let before_drop = tramyte_server::store::now_millis();
        scene.evidence(Some(&sha256_hex(&named))).await;
        let limits = FileLimits::default();
        let day = 24 * 3600 * 1000;
        // Within the month nothing goes.
        let report = sweep(&scene.store, &limits, before_drop + 29 * day)
            .await
            .unwrap();
        assert!(report.deleted.is_empty(), "{report:?}");
        assert_eq!(scene.totals().await.files, 3);
        // A month after the uploads, the file never named goes; the one a document named until
        // less than a month ago stays.
        let report = sweep(&scene.store, &limits, before_drop + 1 + 30 * day)
            .await
            .unwrap();
        let gone: Vec<&str> = report.deleted.iter().map(|f| f.sha256.as_str()).collect();
        assert_eq!(gone, [sha256_hex(&never)]);
        // A month after it was dropped, it goes too, with its parts and its charge.
        let report = sweep(&scene.store, &limits, before_drop + 31 * day)
            .await
            .unwrap();
        let gone: Vec<&str> = report.deleted.iter().map(|f| f.sha256.as_str()).collect();
        assert_eq!(gone, [sha256_hex(&dropped)]);
        assert_eq!(report.bytes(), 1_000);
        assert_eq!(
            scene.totals().await,
            Totals {
                files: 1,
                parts: 2,
                bytes: 300_000
            }
        );
        assert_eq!(usage(&scene.store, "16024").await.unwrap(), 300_000);
        assert_eq!(
            get_file(&base, &sha256_hex(&named), &scene.lan).await.0,
            StatusCode::OK
        );
        assert_eq!(
            get_file(&base, &sha256_hex(&never), &scene.lan).await.0,
            StatusCode::NOT_FOUND
        );
        // A file deleted by the sweep can be uploaded again.
        let (status, _) = put_file(
            &base,
            &sha256_hex(&never),
            "16024",
            &scene.lan,
            never.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);

        // `tramyte files sweep` says what it deleted (here: files older than 0 days).
        let mut out = Vec::new();
        let command = tramyte_server::config::FilesCommand::Sweep {
            file_sweep_days: 0,
            database: tramyte_server::config::DatabaseArgs {
                database_url: Some(scene.server.config.database_url.clone()),
                data_dir: scene.server.data_dir().to_path_buf(),
            },
        };
        tramyte_server::cli::files(command, &mut out).await.unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(&format!(
                "deleted {} image/jpeg 2000 bytes",
                sha256_hex(&never)
            )),
            "{out}"
        );
        assert!(
            out.contains("1 files no document has named for 0 days deleted (2000 bytes)"),
            "{out}"
        );
        assert!(!out.contains(&sha256_hex(&named)), "{out}");
    }
}

#[tokio::test]
async fn a_reviewer_downloads_the_dossier_with_its_files_named_by_criterion() {
    for backend in backends().await {
        let scene = scene(backend).await;
        let base = scene.server.url();
        let photo = jpeg(300_000, 21);
        let sha = sha256_hex(&photo);
        let (status, _) = put_file(&base, &sha, "16024", &scene.lan, photo.clone()).await;
        assert_eq!(status, StatusCode::CREATED);
        scene.evidence(Some(&sha)).await;
        let path = format!("/api/documents/{}/dossier.zip", scene.dossier);
        let response = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .bearer_auth(&scene.reviewer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/zip");
        let bytes = response.bytes().await.unwrap().to_vec();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut names: Vec<String> = (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().name().unwrap().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["TC1/e1-bien-hieu.jpg", "minh-chung.csv", "tom-tat.csv"]
        );
        let mut inside = Vec::new();
        std::io::Read::read_to_end(
            &mut archive.by_name("TC1/e1-bien-hieu.jpg").unwrap(),
            &mut inside,
        )
        .unwrap();
        assert_eq!(inside, photo);
        let mut listed = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("minh-chung.csv").unwrap(), &mut listed)
            .unwrap();
        assert!(
            listed.contains("Ảnh biển hiệu trạm (thử)") && listed.contains("TC1/e1-bien-hieu.jpg"),
            "{listed}"
        );
        // The audit export lists the file with the entry that named it.
        let audit = reqwest::Client::new()
            .get(format!("{base}/api/documents/{}/audit.csv", scene.dossier))
            .bearer_auth(&scene.reviewer)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            audit
                .lines()
                .any(|line| line.contains("items.TC1.evidence.e1.file") && line.contains(&sha)),
            "{audit}"
        );
        // Another commune's station gets nothing, as for no dossier at all.
        let (status, _) = tramyte_tests::api::get(&base, &path, Some(&scene.mai)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn no_acknowledged_upload_is_lost_when_the_server_is_killed() {
    use tramyte_tests::process::ServerProcess;
    use tramyte_tests::server::{TempDir, TestDatabase};
    for backend in backends().await {
        let database = TestDatabase::new(backend).await;
        let data_dir = TempDir::new("files-sigkill");
        let mut args = vec!["--open", "--data-dir", data_dir.0.to_str().unwrap()];
        if backend == Backend::Postgres {
            args.extend(["--database-url", database.url.as_str()]);
        }
        let server = ServerProcess::start(&args).await;
        let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut uploads = Vec::new();
        // Four phones uploading 300 kB photos one after another, until the server dies.
        for phone in 0..4u8 {
            let (url, acknowledged) = (server.url.clone(), acknowledged.clone());
            uploads.push(tokio::spawn(async move {
                for n in 0..200u8 {
                    let photo = jpeg(300_000, phone.wrapping_mul(64).wrapping_add(n));
                    let sha = sha256_hex(&photo);
                    let sent = reqwest::Client::new()
                        .put(format!("{url}/api/files/{sha}?commune=16024"))
                        .body(photo.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status().is_success() => {
                            acknowledged.lock().unwrap().push((sha, photo));
                        }
                        _ => return,
                    }
                }
            }));
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        while acknowledged.lock().unwrap().len() < 12 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "uploads are acknowledged"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Killed while uploads are under way.
        server.kill().await;
        for upload in uploads {
            upload.await.unwrap();
        }
        let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
        assert!(acknowledged.len() >= 12);

        let server = ServerProcess::start(&args).await;
        for (sha, photo) in &acknowledged {
            let response = reqwest::get(format!("{}/api/files/{sha}", server.url))
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "{backend:?}: {sha} survived"
            );
            assert_eq!(
                &response.bytes().await.unwrap().to_vec(),
                photo,
                "{backend:?}: whole"
            );
        }
        server.kill().await;
    }
}
