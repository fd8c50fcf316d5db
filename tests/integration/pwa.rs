//! The server serves the installable PWA shell and answers its health check.

use tramyte_tests::spawn_server;

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
    assert!(
        worker.contains("\"/pkg/tramyte_web_bg.wasm\""),
        "the worker caches the app"
    );

    let wasm = get(&format!("{base}/pkg/tramyte_web_bg.wasm")).await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");

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
    let url = format!("{}/app.css", server.url());
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
