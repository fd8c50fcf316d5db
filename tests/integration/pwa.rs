//! The server serves the installable PWA shell and answers its health check; its files go
//! compressed with the best coding the browser accepts, and those whose names carry a hash of
//! their content are cached for good.

use std::io::Read;
use std::path::PathBuf;

use tramyte_tests::{spawn_server, spawn_server_with};

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url)
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"))
}

#[tokio::test]
async fn the_server_serves_the_app_shell_manifest_service_worker_and_health() {
    let mut server = spawn_server().await;
    let base = server.url();

    let index = get(&format!("{base}/")).await;
    assert_eq!(
        index.status(),
        200,
        "the PWA is built into web/dist (run `cargo xtask test`)"
    );
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    let html = index.text().await.unwrap();
    assert!(
        html.contains(r#"<html lang="vi">"#),
        "Vietnamese is the default language"
    );
    assert!(html.contains(r#"rel="manifest""#));

    let manifest = get(&format!("{base}/manifest.webmanifest")).await;
    assert_eq!(manifest.status(), 200);
    assert_eq!(
        manifest.headers()["content-type"],
        "application/manifest+json"
    );
    let manifest: serde_json::Value = manifest.json().await.unwrap();
    assert_eq!(manifest["short_name"], "Trạm Y tế");
    assert_eq!(manifest["display"], "standalone");
    let icons = manifest["icons"].as_array().unwrap();
    for icon in icons {
        let src = icon["src"].as_str().unwrap();
        let response = get(&format!("{base}{src}")).await;
        assert_eq!(response.status(), 200, "icon {src}");
        assert_eq!(response.headers()["content-type"], "image/png");
    }
    assert!(icons.iter().any(|icon| icon["sizes"] == "512x512"));

    let worker = get(&format!("{base}/sw.js")).await;
    assert_eq!(worker.status(), 200);
    assert!(
        worker.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let worker = worker.text().await.unwrap();
    assert!(
        !worker.contains("__TRAMYTE_VERSION__"),
        "the build stamped the worker's version"
    );
    let (wasm_path, _) = built("pkg", "tramyte_web_bg", "wasm");
    assert!(
        worker.contains(&format!("\"/{wasm_path}\"")),
        "the worker caches the app"
    );

    let wasm = get(&format!("{base}/{wasm_path}")).await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    // The reviewer's pages are wasm files of their own, loaded on demand: the worker caches
    // them too, so that they open offline.
    let pkg = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/dist/pkg");
    let split: Vec<String> = std::fs::read_dir(&pkg)
        .expect("web/dist/pkg")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".wasm") && format!("pkg/{name}") != wasm_path)
        .collect();
    assert!(!split.is_empty(), "the reviewer's pages are split off");
    for name in split.iter().chain(["__wasm_split.js".to_owned()].iter()) {
        assert!(
            worker.contains(&format!("\"/pkg/{name}\"")),
            "the worker caches {name}"
        );
        let file = get(&format!("{base}/pkg/{name}")).await;
        assert_eq!(file.status(), 200, "{name}");
    }

    let health = get(&format!("{base}/healthz")).await;
    assert_eq!(health.status(), 200);

    server.stop().await;
}

#[tokio::test]
async fn client_routes_get_the_app_shell_and_missing_files_get_404() {
    let mut server = spawn_server().await;
    let base = server.url();
    let route = get(&format!("{base}/communes/40123")).await;
    assert_eq!(route.status(), 200);
    assert!(route.text().await.unwrap().contains("<html"));
    assert_eq!(get(&format!("{base}/missing.js")).await.status(), 404);
    assert_eq!(get(&format!("{base}/api/unknown")).await.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn unchanged_files_are_revalidated_with_their_etag() {
    let mut server = spawn_server().await;
    let url = format!("{}/manifest.webmanifest", server.url());
    let first = get(&url).await;
    let etag = first.headers()["etag"].clone();
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let again = reqwest::Client::new()
        .get(&url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    server.stop().await;
}

/// The file of the PWA build (`web/dist`) named `stem.<hash>.ext` in `dir`: its path in the
/// site and its bytes.
fn built(dir: &str, stem: &str, ext: &str) -> (String, Vec<u8>) {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/dist");
    let folder = dist.join(dir);
    let entries = std::fs::read_dir(&folder)
        .unwrap_or_else(|err| panic!("{} (run `cargo xtask pwa`): {err}", folder.display()));
    let name = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find(|name| {
            name.strip_prefix(&format!("{stem}."))
                .and_then(|rest| rest.strip_suffix(&format!(".{ext}")))
                .is_some_and(|hash| hash.len() == 16)
        })
        .unwrap_or_else(|| panic!("no {stem}.<hash>.{ext} in {}", folder.display()));
    let bytes = std::fs::read(folder.join(&name)).expect("read the built file");
    let path = if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    };
    (path, bytes)
}

async fn get_encoded(url: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    request
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"))
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::Decompressor::new(bytes, 64 * 1024)
        .read_to_end(&mut out)
        .expect("a brotli stream");
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip stream");
    out
}

#[tokio::test]
async fn assets_go_with_the_best_coding_the_browser_accepts_and_decode_to_the_built_file() {
    let mut server = spawn_server().await;
    let (path, wasm) = built("pkg", "tramyte_web_bg", "wasm");
    let url = format!("{}/{path}", server.url());

    let br = get_encoded(&url, Some("gzip, deflate, br, zstd")).await;
    assert_eq!(br.status(), 200);
    assert_eq!(header(&br, "content-encoding"), Some("br"));
    assert_eq!(header(&br, "content-type"), Some("application/wasm"));
    assert!(header(&br, "vary").is_some_and(|v| v.contains("accept-encoding")));
    assert_eq!(
        header(&br, "cache-control"),
        Some("public, max-age=31536000, immutable"),
        "a file named by its content's hash is kept for good"
    );
    let br_etag = header(&br, "etag").expect("an etag").to_owned();
    let over_the_wire = br.bytes().await.unwrap();
    eprintln!(
        "wasm: {} bytes built, {} bytes over the wire with brotli",
        wasm.len(),
        over_the_wire.len()
    );
    assert!(over_the_wire.len() < wasm.len() / 2);
    assert!(
        unbrotli(&over_the_wire) == wasm,
        "brotli decodes to the built wasm"
    );

    let gzip = get_encoded(&url, Some("gzip")).await;
    assert_eq!(header(&gzip, "content-encoding"), Some("gzip"));
    assert_ne!(
        header(&gzip, "etag"),
        Some(br_etag.as_str()),
        "one etag per coding"
    );
    assert!(
        gunzip(&gzip.bytes().await.unwrap()) == wasm,
        "gzip decodes to the built wasm"
    );

    let refused = get_encoded(&url, Some("br;q=0, gzip;q=0.5")).await;
    assert_eq!(header(&refused, "content-encoding"), Some("gzip"));

    for accept in [None, Some("identity")] {
        let plain = get_encoded(&url, accept).await;
        assert_eq!(header(&plain, "content-encoding"), None, "{accept:?}");
        assert!(header(&plain, "vary").is_some_and(|v| v.contains("accept-encoding")));
        assert!(
            plain.bytes().await.unwrap() == wasm,
            "identity is the built wasm"
        );
    }

    // The page and the worker are revalidated, compressed too.
    for page in ["index.html", "sw.js"] {
        let built = std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../web/dist")
                .join(page),
        )
        .unwrap();
        let answer = get_encoded(&format!("{}/{page}", server.url()), Some("br")).await;
        assert_eq!(header(&answer, "cache-control"), Some("no-cache"), "{page}");
        assert_eq!(header(&answer, "content-encoding"), Some("br"), "{page}");
        assert_eq!(unbrotli(&answer.bytes().await.unwrap()), built, "{page}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_page_refers_to_scripts_named_by_their_content() {
    let mut server = spawn_server().await;
    let html = get(&format!("{}/", server.url()))
        .await
        .text()
        .await
        .unwrap();
    let (boot, _) = built("", "boot", "js");
    let (css, _) = built("", "app", "css");
    assert!(html.contains(&format!("\"/{boot}\"")), "{html}");
    assert!(html.contains(&format!("\"/{css}\"")), "{html}");
    let boot = get(&format!("{}/{boot}", server.url()))
        .await
        .text()
        .await
        .unwrap();
    let (wasm, _) = built("pkg", "tramyte_web_bg", "wasm");
    let (glue, _) = built("pkg", "tramyte_web", "js");
    assert!(
        boot.contains(&format!("/{wasm}")) && boot.contains(&format!("/{glue}")),
        "{boot}"
    );
    server.stop().await;
}

#[tokio::test]
async fn large_api_answers_are_gzipped_when_the_client_accepts_it() {
    let mut server = spawn_server_with(|config| config.open = true).await;
    let url = format!("{}/api/catalogs/QD1300-2023", server.url());
    let plain = get_encoded(&url, None).await;
    assert_eq!(plain.status(), 200);
    assert_eq!(header(&plain, "content-encoding"), None);
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > tramyte_server::http::encoding::MIN_COMPRESSED_BYTES);

    let gzip = get_encoded(&url, Some("gzip, br")).await;
    assert_eq!(header(&gzip, "content-encoding"), Some("gzip"));
    assert!(header(&gzip, "vary").is_some_and(|v| v.contains("accept-encoding")));
    let body = gzip.bytes().await.unwrap();
    assert!(body.len() < plain.len());
    assert_eq!(gunzip(&body), plain.to_vec());

    server.stop().await;
}
