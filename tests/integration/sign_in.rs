//! Sign-in throttling over real HTTP, from several client addresses (127.0.0.2, .3, … are this
//! machine too): a stranger's failures delay the stranger's address, never the person at their
//! own; the wait grows with each failure and is told as `Retry-After`; one address trying many
//! accounts is slowed across them; nodes sharing a database count the same failures; behind a
//! trusted proxy the forwarded address counts and `X-Forwarded-Proto: https` makes the session
//! cookie `Secure`. No test sleeps: "the wait is over" is written into the stored counters.

use std::net::IpAddr;

use reqwest::header::{RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};
use tramyte_server::store::Store;
use tramyte_shared::policy::Role;
use tramyte_tests::people::{PASSWORD, seed_units, user};
use tramyte_tests::{Backend, TestServer, backends, spawn_node_beside, spawn_server_on};

/// What a sign-in answered.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    cookie: Option<String>,
    body: Value,
}

/// A client whose connections come from `ip`.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn attempt(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = client
        .post(format!("{url}/api/session"))
        .json(&json!({"user": user, "password": password, "device": "throttle test"}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let text = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (retry_after, cookie) = (text(RETRY_AFTER), text(SET_COOKIE));
    Answer {
        status: response.status().as_u16(),
        retry_after,
        cookie,
        body: response.json().await.unwrap_or(Value::Null),
    }
}

async fn server_with_people(
    backend: tramyte_tests::Backend,
    change: impl FnOnce(&mut tramyte_server::Config),
) -> (TestServer, Store) {
    let server = spawn_server_on(backend, change).await;
    let store = Store::connect(&server.config.database_url).await.unwrap();
    seed_units(&store).await;
    user(&store, "lan.tyt", Role::StationStaff, &["16024"]).await;
    user(&store, "hung.truongtram", Role::StationHead, &["16024"]).await;
    (server, store)
}

/// Time passes until every wait is over (the failures themselves are still remembered).
async fn waits_are_over(store: &Store) {
    tramyte_server::with_pool!(store, pool => {
        tramyte_server::sqlx::query("UPDATE sign_in_throttle SET next_allowed_at = 0")
            .execute(pool)
            .await
            .unwrap();
    });
}

fn throttled_for(answer: &Answer, secs: &str) {
    assert_eq!(answer.status, 429, "{answer:?}");
    assert_eq!(answer.retry_after.as_deref(), Some(secs), "{answer:?}");
    assert_eq!(answer.body["error"], "throttled", "{answer:?}");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains(&format!("try again in {secs} s")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_strangers_failures_delay_only_the_strangers_address_and_each_wait_grows() {
    for backend in backends().await {
        let (server, store) = server_with_people(backend, |_| {}).await;
        let url = server.url();
        let stranger = client_from("127.0.0.2");
        let lan = client_from("127.0.0.3");
        // Three free failures, then the fourth costs a second.
        for n in 1..=4 {
            let answer = attempt(&stranger, &url, "lan.tyt", "đoán-mò-1", &[]).await;
            assert_eq!(answer.status, 401, "{backend:?} failure {n}: {answer:?}");
        }
        // At the stranger's address even the right password waits, and is told how long...
        let answer = attempt(&stranger, &url, "lan.tyt", PASSWORD, &[]).await;
        throttled_for(&answer, "1");
        // ...while Lan, at her own address, signs in at once.
        let answer = attempt(&lan, &url, "lan.tyt", PASSWORD, &[]).await;
        assert_eq!(answer.status, 200, "{backend:?}: {answer:?}");

        // Each further failure doubles the wait: 2 s, then 4 s.
        for wait in ["2", "4"] {
            waits_are_over(&store).await;
            let answer = attempt(&stranger, &url, "lan.tyt", "đoán-mò-2", &[]).await;
            assert_eq!(answer.status, 401, "{backend:?}: {answer:?}");
            let answer = attempt(&stranger, &url, "lan.tyt", "đoán-mò-3", &[]).await;
            throttled_for(&answer, wait);
        }
        // Refused attempts were not counted: the wait has not grown after them.
        let answer = attempt(&stranger, &url, "lan.tyt", PASSWORD, &[]).await;
        assert_eq!(answer.status, 429, "{answer:?}");
        let wait: u32 = answer.retry_after.unwrap().parse().unwrap();
        assert!((3..=4).contains(&wait), "{wait}");

        // Once the wait is over, the right password from that address works and clears the
        // account's failures there.
        waits_are_over(&store).await;
        let answer = attempt(&stranger, &url, "lan.tyt", PASSWORD, &[]).await;
        assert_eq!(answer.status, 200, "{backend:?}: {answer:?}");
        let answer = attempt(&stranger, &url, "lan.tyt", "gõ-nhầm", &[]).await;
        assert_eq!(
            answer.status, 401,
            "a typo after signing in costs no wait: {answer:?}"
        );
        let answer = attempt(&stranger, &url, "lan.tyt", PASSWORD, &[]).await;
        assert_eq!(answer.status, 200, "{backend:?}: {answer:?}");
    }
}

#[tokio::test]
async fn one_address_trying_one_password_on_many_accounts_is_slowed_across_them() {
    let free = tramyte_server::domain::throttle::PER_ADDRESS.free_failures;
    for backend in backends().await {
        let (server, _store) = server_with_people(backend, |_| {}).await;
        let url = server.url();
        let sprayer = client_from("127.0.0.4");
        for n in 0..=free {
            let account = if n == 0 {
                "lan.tyt".to_owned()
            } else {
                format!("nguoi.{n}")
            };
            let answer = attempt(&sprayer, &url, &account, "123456789", &[]).await;
            assert_eq!(answer.status, 401, "{backend:?} {account}: {answer:?}");
        }
        // A new account from the same address waits, even with its right password.
        let answer = attempt(&sprayer, &url, "hung.truongtram", PASSWORD, &[]).await;
        throttled_for(&answer, "1");
        // Another address is not slowed.
        let answer = attempt(
            &client_from("127.0.0.5"),
            &url,
            "hung.truongtram",
            PASSWORD,
            &[],
        )
        .await;
        assert_eq!(answer.status, 200, "{backend:?}: {answer:?}");
    }
}

#[tokio::test]
async fn nodes_sharing_a_database_count_the_same_failures() {
    // Several nodes share a database only on PostgreSQL: a second server on the same SQLite file
    // refuses to start (`a_second_server_on_one_sqlite_file_refuses_to_start`).
    for backend in [Backend::Postgres] {
        let (first, _store) = server_with_people(backend, |_| {}).await;
        let second = spawn_node_beside(&first).await;
        let stranger = client_from("127.0.0.6");
        for _ in 0..4 {
            let answer = attempt(&stranger, &first.url(), "lan.tyt", "đoán-mò", &[]).await;
            assert_eq!(answer.status, 401, "{backend:?}: {answer:?}");
        }
        let answer = attempt(&stranger, &second.url(), "lan.tyt", PASSWORD, &[]).await;
        throttled_for(&answer, "1");
        let answer = attempt(
            &client_from("127.0.0.7"),
            &second.url(),
            "lan.tyt",
            PASSWORD,
            &[],
        )
        .await;
        assert_eq!(answer.status, 200, "{backend:?}: {answer:?}");
    }
}

#[tokio::test]
async fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let first = spawn_server_on(Backend::Sqlite, |_| {}).await;
    let mut config = first.config.clone();
    config.addr = "127.0.0.1:0".parse().unwrap();
    let err = match tramyte_server::Application::build(config).await {
        Ok(_) => panic!("a second server on the same SQLite file started"),
        Err(err) => err.to_string(),
    };
    assert!(
        err.contains("already serves the SQLite database") && err.contains("PostgreSQL"),
        "{err}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts_and_https_makes_the_cookie_secure() {
    for backend in backends().await {
        let (proxied, _store) = server_with_people(backend, |config| {
            config.client.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .await;
        let url = proxied.url();
        let proxy = client_from("127.0.0.1");
        let from = |ip: &'static str| [("x-forwarded-for", ip)];
        for _ in 0..4 {
            let answer = attempt(&proxy, &url, "lan.tyt", "đoán-mò", &from("203.0.113.9")).await;
            assert_eq!(answer.status, 401, "{backend:?}: {answer:?}");
        }
        let answer = attempt(&proxy, &url, "lan.tyt", PASSWORD, &from("203.0.113.9")).await;
        throttled_for(&answer, "1");
        // Lan, through the same proxy from her own address, over HTTPS: a Secure cookie.
        let answer = attempt(
            &proxy,
            &url,
            "lan.tyt",
            PASSWORD,
            &[
                ("x-forwarded-for", "198.51.100.4"),
                ("x-forwarded-proto", "https"),
            ],
        )
        .await;
        assert_eq!(answer.status, 200, "{backend:?}: {answer:?}");
        let cookie = answer.cookie.unwrap();
        assert!(
            cookie.contains("; Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
        let answer = attempt(&proxy, &url, "lan.tyt", PASSWORD, &from("198.51.100.4")).await;
        assert!(
            !answer.cookie.unwrap().contains("Secure"),
            "plain HTTP: no Secure"
        );

        // Without --trusted-proxy the headers are the client's word and count for nothing:
        // changing X-Forwarded-For does not escape the wait, nor does it make a cookie Secure.
        let (direct, _store) = server_with_people(backend, |_| {}).await;
        let url = direct.url();
        for n in 0..4 {
            let forged = [(
                "x-forwarded-for",
                ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"][n],
            )];
            let answer = attempt(&proxy, &url, "lan.tyt", "đoán-mò", &forged).await;
            assert_eq!(answer.status, 401, "{backend:?}: {answer:?}");
        }
        let answer = attempt(&proxy, &url, "lan.tyt", PASSWORD, &from("198.51.100.77")).await;
        throttled_for(&answer, "1");
        let answer = attempt(
            &client_from("127.0.0.8"),
            &url,
            "lan.tyt",
            PASSWORD,
            &[("x-forwarded-proto", "https")],
        )
        .await;
        assert_eq!(answer.status, 200);
        assert!(!answer.cookie.unwrap().contains("Secure"));

        // --secure-cookies: always Secure.
        let (secure, _store) = server_with_people(backend, |config| {
            config.client.secure_cookies = true;
        })
        .await;
        let answer = attempt(&proxy, &secure.url(), "lan.tyt", PASSWORD, &[]).await;
        assert_eq!(answer.status, 200);
        assert!(answer.cookie.unwrap().contains("; Secure"));
    }
}
