//! HTTP hardening on real responses: every answer (the app shell, the API, errors) carries the
//! Content-Security-Policy the PWA runs under, `frame-ancestors 'none'`, `Referrer-Policy` and
//! `nosniff`; the app shell has no inline script for the policy to block; catalog routes need a
//! session like every other REST call (open mode excepted). The browser tests run the whole
//! PWA under this policy and fail on any violation (`tests/e2e/browser.mjs`).

use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::people::{seed_units, user};
use tramyte_tests::{api, backends, spawn_server_on};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let client = reqwest::Client::new();
        for path in [
            "/",
            "/overview",
            "/api/me",
            "/api/nothing",
            "/healthz",
            "/sw.js",
        ] {
            let response = client
                .get(format!("{}{path}", server.url()))
                .send()
                .await
                .unwrap();
            let headers = response.headers();
            let csp = headers["content-security-policy"].to_str().unwrap();
            for directive in [
                "default-src 'self'",
                "script-src 'self' 'wasm-unsafe-eval'",
                "style-src 'self'",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ] {
                assert!(
                    csp.contains(directive),
                    "{backend:?} {path}: {directive} in {csp}"
                );
            }
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
                "{csp}"
            );
            assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        }
    }
}

#[test]
fn the_app_shell_has_no_inline_script_or_style() {
    let index =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/index.html")).unwrap();
    let mut rest = index.as_str();
    let mut scripts = 0;
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..].find('>').unwrap() + at;
        let tag = &rest[at..tag_end];
        assert!(tag.contains(" src="), "an inline script: {tag}");
        let close = rest[tag_end..].find("</script>").unwrap() + tag_end;
        assert_eq!(rest[tag_end + 1..close].trim(), "", "script content inline");
        scripts += 1;
        rest = &rest[close..];
    }
    assert!(scripts >= 1, "the shell loads its script from a file");
    assert!(
        !index.contains("<style") && !index.contains(" style="),
        "{index}"
    );
    for attribute in ["onload=", "onclick=", "onerror="] {
        assert!(!index.contains(attribute), "{attribute}");
    }
}

#[tokio::test]
async fn catalog_routes_need_a_session() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let url = server.url();
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        let staff = user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
        for path in ["/api/catalogs", "/api/catalogs/QD1300-2023"] {
            let (status, body) = api::get(&url, path, None).await;
            assert_eq!(status, 401, "{backend:?} {path}: {body}");
            assert_eq!(body["error"], "unauthorized");
            let (status, body) = api::get(&url, path, Some("not-a-session")).await;
            assert_eq!(status, 401, "{backend:?} {path}: {body}");
            let (status, body) = api::get(&url, path, Some(&staff)).await;
            assert_eq!(status, 200, "{backend:?} {path}: {body}");
        }
        let (_, list) = api::get(&url, "/api/catalogs", Some(&staff)).await;
        assert_eq!(list["catalogs"][0]["code"], "QD1300-2023");
        // Open mode (development, says so loudly) answers anyone, as for every REST call.
        let open = spawn_server_on(backend, |config| config.open = true).await;
        let (status, _) = api::get(&open.url(), "/api/catalogs", None).await;
        assert_eq!(status, 200);
    }
}
