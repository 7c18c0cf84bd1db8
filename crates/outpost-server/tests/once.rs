//! Things that may happen once, asked for many times at the same moment: a refresh token is
//! rotated once, and a device belongs to the user who first pushed from it, also when two
//! server instances share the database. On PostgreSQL these were read-then-write races (the
//! writer read the token or the device before taking the write lock); write transactions now
//! hold the lock from their start on both databases. On SQLite and PostgreSQL.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::json;
use tower::ServiceExt;
use uuid::Uuid;

/// How many requests race.
const RACERS: usize = 8;

/// Sends `RACERS` copies of a JSON request at once; returns (status, body) per racer.
async fn race(
    s: &Server,
    path: &str,
    token: Option<&str>,
    bodies: Vec<serde_json::Value>,
) -> Vec<(StatusCode, serde_json::Value)> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let mut tasks = Vec::new();
    for body in bodies {
        let app = s.app.clone();
        let start = start.clone();
        let path = path.to_owned();
        let token = token.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            let mut request = Request::post(path).header("content-type", "application/json");
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let request = request.body(Body::from(body.to_string())).unwrap();
            start.wait().await;
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, serde_json::from_slice(&bytes).unwrap())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

async fn a_refresh_token_is_rotated_once(s: Server) {
    let pw = s.admin_password.clone();
    let session = s.login("admin@acme.example", &pw).await;
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();
    let answers = race(
        &s,
        "/v1/auth/refresh",
        None,
        vec![json!({ "refresh_token": refresh }); RACERS],
    )
    .await;
    let rotated = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(rotated, 1, "one rotation of one token: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
    }
}

/// Pushes one new ticket from `device` as the holder of `token`, through `app`.
fn push_from(app: &axum::Router, token: &str, device: Uuid) -> tokio::task::JoinHandle<StatusCode> {
    let app = app.clone();
    let body = json!({
        "device_id": device,
        "mutations": [{
            "mutation_id": 1,
            "client_time": now(),
            "base_revision": null,
            "mutation": serde_json::to_value(new_ticket(Uuid::now_v7(), "support")).unwrap(),
        }],
    });
    let request = Request::post("/v1/sync/push")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    tokio::spawn(async move { app.oneshot(request).await.unwrap().status() })
}

/// Two agents push their first change from the same (cloned) device id at the same moment, each
/// to its own server instance on the shared database (one instance's push writer would take them
/// one after the other anyway). Another writer holds the write lock until both have queued.
async fn a_device_belongs_to_one_user(s: Server) {
    let (_, ann) = s.user("ann@acme.example", "agent", &["support"]).await;
    let (_, bob) = s.user("bob@acme.example", "agent", &["support"]).await;
    let other = outpost_server::router(
        outpost_server::AppState::new(
            s.db.clone(),
            s.state.config.clone(),
            s.state.master_key.clone(),
        )
        .await
        .unwrap(),
    );
    let device = Uuid::now_v7();

    let mut held = s.db.begin_write().await.unwrap();
    outpost_server::db::next(&mut held, "change_seq")
        .await
        .unwrap();
    let first = push_from(&s.app, &ann, device);
    until_waiting(&s, 1).await;
    let second = push_from(&other, &bob, device);
    until_waiting(&s, 2).await;
    held.commit().await.unwrap();

    let mut answers = [first.await.unwrap(), second.await.unwrap()];
    answers.sort();
    assert_eq!(
        answers,
        [StatusCode::OK, StatusCode::CONFLICT],
        "one user owns the device"
    );
    let tickets: i64 = sqlx::query_scalar("SELECT count(*) FROM tickets")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(tickets, 1, "only the owner's change was applied");
}

on_both_databases!(
    a_refresh_token_is_rotated_once,
    a_device_belongs_to_one_user
);
