//! The development bridge against a real `outpost-server` process (the whole-system suite's
//! harness): on 127.0.0.1 it signs in, streams shell events, pages the queue, and refuses
//! requests that do not come from a loopback page.
//!
//! Needs the server binary: `cargo build -p outpost-server` first (or `make test`).

#![cfg(feature = "dev-bridge")]

use std::time::Duration;

use outpost_client::desk::{Desk, DeskConfig};
use outpost_desktop::commands::{streams, COMMAND_NAMES};
use outpost_desktop::shell::Shell;
use outpost_store::{QueueFilter, QueueSort};
use outpost_system_tests::client::vault;
use outpost_system_tests::server::{http, Backend, Server};
use outpost_system_tests::{scratch_dir, wait_for, PASSPHRASE};
use serde_json::{json, Value};

struct Bridge {
    url: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Bridge {
    async fn start() -> Bridge {
        let dir = scratch_dir();
        let desk = Desk::new(
            vault(),
            DeskConfig {
                data_dir: dir.path().to_owned(),
                ca_pem: None,
            },
        );
        let shell = Shell::new(desk);
        let start = shell.clone();
        tokio::spawn(async move { start.start(None).await });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(outpost_desktop::dev_bridge::serve(listener, shell));
        Bridge {
            url,
            http: http(),
            _dir: dir,
        }
    }

    fn post(&self, command: &str, args: Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/cmd/{command}", self.url))
            .header("content-type", "application/json")
            .body(args.to_string())
    }

    /// Runs a plain command; its status and JSON body.
    async fn call(&self, command: &str, args: Value) -> (u16, Value) {
        let response = self.post(command, args).send().await.expect("a response");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        (status, body)
    }
}

/// The next JSON line of a streaming response.
async fn next_line(response: &mut reqwest::Response, buffered: &mut Vec<u8>) -> Value {
    loop {
        if let Some(end) = buffered.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffered.drain(..=end).collect();
            return serde_json::from_slice(&line).expect("a JSON line");
        }
        let chunk = tokio::time::timeout(Duration::from_secs(60), response.chunk())
            .await
            .expect("a line within a minute")
            .expect("the stream")
            .expect("the stream ended early");
        buffered.extend_from_slice(&chunk);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_signs_in_and_pages_the_queue_of_a_real_server() {
    let server = Server::start(Backend::Sqlite).await;
    let ann = &server.org.ann;
    let bridge = Bridge::start().await;

    let (status, start) = bridge.call("app_start", json!({})).await;
    assert_eq!(status, 200, "{start}");
    assert!(start["me"].is_null(), "nobody is signed in yet: {start}");

    // A wrong password is the Desk's error, as `{code, message}`.
    let (status, error) = bridge
        .call(
            "sign_in",
            json!({ "server": server.url(), "email": ann.email, "password": "wrong",
                    "totp": null, "passphrase": PASSPHRASE }),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "bad_credentials", "{error}");

    let (status, me) = bridge
        .call(
            "sign_in",
            json!({ "server": server.url(), "email": ann.email, "password": ann.password,
                    "totp": null, "passphrase": PASSPHRASE }),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["email"], ann.email.as_str(), "{me}");

    // The event stream: the command answers at once, then the session's status follows.
    let mut events = bridge
        .post("subscribe", json!({}))
        .send()
        .await
        .expect("the subscribe stream");
    assert_eq!(events.status().as_u16(), 200);
    assert_eq!(
        events.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let mut buffered = Vec::new();
    assert_eq!(
        next_line(&mut events, &mut buffered).await,
        json!({ "ok": null })
    );

    // The first sync runs in the background: page the queue until ann's open tickets are there.
    let filter = serde_json::to_value(QueueFilter::default()).unwrap();
    let sort = serde_json::to_value(QueueSort::Updated).unwrap();
    let page = wait_for(
        "the first queue page",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || {
            let args = json!({ "filter": filter, "sort": sort, "cursor": null, "limit": 5 });
            let bridge = &bridge;
            async move {
                let (status, page) = bridge.call("queue", args).await;
                assert_eq!(status, 200, "{page}");
                (page["rows"].as_array().is_some_and(|r| r.len() == 5)).then_some(page)
            }
        },
    )
    .await;
    assert!(
        !page["next"].is_null(),
        "a page of 5 has a next cursor: {page}"
    );
    // The next page follows the cursor; the limit is clamped like in the desktop.
    let args = json!({ "filter": filter, "sort": sort, "cursor": page["next"], "limit": 100_000 });
    let (status, next) = bridge.call("queue", args).await;
    assert_eq!(status, 200, "{next}");
    let first: Vec<&Value> = page["rows"].as_array().unwrap().iter().collect();
    assert!(next["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|row| !first.contains(&row)));

    // Shell events reach the stream: a sync now changes the session's status, at the latest.
    let (status, sync) = bridge.call("sync_now", json!({})).await;
    assert_eq!(status, 200, "{sync}");
    let event = next_line(&mut events, &mut buffered).await;
    let kind = event["message"]["kind"].as_str();
    assert!(matches!(kind, Some("status" | "changes")), "{event}");

    // Arguments are checked like Tauri checks them.
    let (status, error) = bridge.call("queue_count", json!({ "filter": 7 })).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "internal", "{error}");
    let (status, error) = bridge.call("no_such_command", json!({})).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn the_bridge_refuses_pages_that_are_not_loopback() {
    let bridge = Bridge::start().await;
    let app_start = || bridge.post("app_start", json!({}));
    // A page on a rebound domain sends its own name as Host.
    let rebound = app_start()
        .header("host", "evil.example:1421")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status().as_u16(), 403);
    let body: Value = rebound.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    // A cross-site page.
    let cross_site = app_start()
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status().as_u16(), 403);
    // A form post (no JSON content type).
    let form = bridge
        .http
        .post(format!("{}/cmd/app_start", bridge.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 415);
    // The same request from a loopback page passes.
    let ok = app_start()
        .header("origin", "http://localhost:1420")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
}

#[test]
fn the_bridge_serves_every_command() {
    for name in COMMAND_NAMES {
        assert!(streams(name).is_some(), "{name}");
    }
    assert_eq!(streams("subscribe"), Some(true));
    assert_eq!(streams("audit_verify"), Some(true));
    assert_eq!(streams("queue"), Some(false));
    assert_eq!(streams("nothing"), None);
}
