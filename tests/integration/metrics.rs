//! `GET /metrics`: never on the public port without the operator's say; behind a token there,
//! or alone on `--metrics-addr`; it counts requests by route pattern and sign-in failures.

use tramyte_server::{Application, Config};
use tramyte_tests::hostile::{metrics, sample};
use tramyte_tests::server::{METRICS_TOKEN, TempDir};
use tramyte_tests::{backends, spawn_server_on};

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn metrics_behind_a_token_count_requests_by_route_and_sign_in_failures() {
    for backend in backends().await {
        let server = spawn_server_on(backend, |_| {}).await;
        let url = server.url();
        let http = reqwest::Client::new();
        assert_eq!(status_of(http.get(format!("{url}/metrics"))).await, 401);
        assert_eq!(
            status_of(
                http.get(format!("{url}/metrics"))
                    .bearer_auth("not-the-token")
            )
            .await,
            401
        );
        assert_eq!(status_of(http.get(format!("{url}/healthz"))).await, 200);
        let refused = http
            .post(format!("{url}/api/session"))
            .json(&serde_json::json!({"user": "nobody", "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 401, "{backend:?}");

        let text = metrics(&url).await;
        assert_eq!(
            sample(
                &text,
                "tramyte_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}"
            ),
            1,
            "{backend:?}:\n{text}"
        );
        assert_eq!(sample(&text, "tramyte_sign_in_failures_total"), 1, "{text}");
        assert!(
            text.contains("# TYPE tramyte_sync_commit_seconds histogram"),
            "{text}"
        );
        // Paths never become labels: only route patterns do.
        assert!(!text.contains("nobody"), "{text}");
    }
}

#[tokio::test]
async fn metrics_are_off_the_public_port_unless_asked_and_alone_on_metrics_addr() {
    let data = TempDir::new("metrics");
    let mut config = Config::for_data_dir(data.0.clone());
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let application = Application::build(config).await.unwrap();
    let public = format!("http://{}", application.local_addr());
    let private = format!("http://{}", application.metrics_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    assert_eq!(status_of(http.get(format!("{public}/metrics"))).await, 404);
    assert_eq!(
        status_of(
            http.get(format!("{public}/metrics"))
                .bearer_auth(METRICS_TOKEN)
        )
        .await,
        404
    );
    let answer = http.get(format!("{private}/metrics")).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let text = answer.text().await.unwrap();
    assert!(text.contains("tramyte_sync_hub_serving 1"), "{text}");
    // The metrics address serves nothing else.
    assert_eq!(status_of(http.get(format!("{private}/healthz"))).await, 404);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
