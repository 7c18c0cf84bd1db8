//! Sessions end at once: after a logout, a reused refresh token, a disabled user or a password
//! reset, the session's access tokens are refused on every request and its open event streams
//! close with a last `signed_out` event, on this instance and (PostgreSQL) on the others. A
//! logout ends only its own session.

#[macro_use]
mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use futures_util::StreamExt;
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::{router, AppState};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

type Frames = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Send>,
>;

/// Well below `events::RECHECK`, so a stream that ends within it was closed by the notice of
/// the ended session, not by its periodic re-check.
const NOTICE_WAIT: Duration = Duration::from_secs(10);

struct SignedIn {
    access: String,
    refresh: String,
}

/// Adds a user through the API; returns their id, e-mail and password.
async fn add_user(s: &Server, email: &str) -> (Uuid, String, String) {
    let admin = s.admin_token().await;
    let (status, body) = s
        .call(
            "POST",
            "/v1/admin/users",
            Some(&admin),
            Some(json!({ "email": email, "name": email, "role": "agent", "departments": ["support"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["user"]["id"].as_str().unwrap().parse().unwrap(),
        email.to_owned(),
        body["one_time_password"].as_str().unwrap().to_owned(),
    )
}

/// A new session (another device) for the user.
async fn sign_in(s: &Server, email: &str, password: &str) -> SignedIn {
    let session = s.login(email, password).await;
    SignedIn {
        access: session["access_token"].as_str().unwrap().to_owned(),
        refresh: session["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn ping(app: &axum::Router, token: &str) -> StatusCode {
    let request = Request::get("/v1/ping")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

async fn push_one(s: &Server, token: &str) -> (StatusCode, Value) {
    s.push(
        token,
        Uuid::now_v7(),
        vec![(1, new_ticket(Uuid::now_v7(), "support"))],
    )
    .await
}

async fn open_stream(app: &axum::Router, token: &str) -> Frames {
    let request = Request::get("/v1/sync/events")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    Box::pin(response.into_body().into_data_stream())
}

/// One server-sent event: its name and data.
#[derive(Debug)]
struct Sse {
    event: String,
    data: String,
}

fn parse_events(text: &str) -> Vec<Sse> {
    text.split("\n\n")
        .filter_map(|block| {
            let event = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("");
            Some(Sse {
                event: event.to_owned(),
                data: data.to_owned(),
            })
        })
        .collect()
}

/// The next event (heartbeats skipped); fails when none comes within the wait.
async fn next_event(frames: &mut Frames, within: Duration) -> Option<Sse> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, frames.next())
            .await
            .expect("an event or the end of the stream within the wait")?
            .expect("frame");
        if let Some(event) = parse_events(&String::from_utf8_lossy(&frame))
            .into_iter()
            .next()
        {
            return Some(event);
        }
    }
}

/// Reads until the stream closes; the events seen on the way. Fails if it is still open after
/// the wait.
async fn until_closed(frames: &mut Frames, within: Duration) -> Vec<Sse> {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let frame = tokio::time::timeout_at(deadline, frames.next())
            .await
            .unwrap_or_else(|_| panic!("the stream is still open; events so far: {seen:?}"));
        match frame {
            None => return seen,
            Some(frame) => seen.extend(parse_events(&String::from_utf8_lossy(
                &frame.expect("frame"),
            ))),
        }
    }
}

fn assert_signed_out(events: &[Sse]) {
    let last = events
        .last()
        .expect("a last event before the stream closed");
    assert_eq!(last.event, "signed_out", "{events:?}");
    let body: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(body["code"], "session_revoked", "{body}");
}

async fn logout(s: &Server, refresh: &str) {
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/logout",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn disable(app: &axum::Router, admin: &str, user: Uuid) {
    let request = Request::post(format!("/v1/admin/users/{user}/disable"))
        .header("authorization", format!("Bearer {admin}"))
        .body(Body::empty())
        .unwrap();
    let status = app.clone().oneshot(request).await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
}

async fn after_logout_the_access_token_is_refused(s: Server) {
    let (_, email, password) = add_user(&s, "agent@acme.example").await;
    let device = sign_in(&s, &email, &password).await;
    assert_eq!(ping(&s.app, &device.access).await, StatusCode::OK);
    let (status, body) = push_one(&s, &device.access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    logout(&s, &device.refresh).await;
    assert_eq!(ping(&s.app, &device.access).await, StatusCode::UNAUTHORIZED);
    let (status, body) = push_one(&s, &device.access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "unauthenticated");
}

async fn a_logout_ends_only_its_own_session(s: Server) {
    let (_, email, password) = add_user(&s, "agent@acme.example").await;
    let laptop = sign_in(&s, &email, &password).await;
    let phone = sign_in(&s, &email, &password).await;
    let mut laptop_stream = open_stream(&s.app, &laptop.access).await;
    let mut phone_stream = open_stream(&s.app, &phone.access).await;
    assert_eq!(
        next_event(&mut laptop_stream, NOTICE_WAIT)
            .await
            .unwrap()
            .event,
        "poke"
    );
    assert_eq!(
        next_event(&mut phone_stream, NOTICE_WAIT)
            .await
            .unwrap()
            .event,
        "poke"
    );
    logout(&s, &laptop.refresh).await;
    assert_signed_out(&until_closed(&mut laptop_stream, NOTICE_WAIT).await);
    assert_eq!(ping(&s.app, &laptop.access).await, StatusCode::UNAUTHORIZED);
    // The phone goes on: requests, pokes, and renewing its session.
    assert_eq!(ping(&s.app, &phone.access).await, StatusCode::OK);
    let (status, body) = push_one(&s, &phone.access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(outcomes(&body), ["applied"]);
    let poke = next_event(&mut phone_stream, NOTICE_WAIT).await.unwrap();
    assert_eq!(poke.event, "poke", "the phone's stream is still open");
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": phone.refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = body["access_token"].as_str().unwrap();
    assert_eq!(ping(&s.app, renewed).await, StatusCode::OK);
}

async fn an_open_stream_closes_when_its_session_logs_out(s: Server) {
    let (_, email, password) = add_user(&s, "agent@acme.example").await;
    let device = sign_in(&s, &email, &password).await;
    let mut frames = open_stream(&s.app, &device.access).await;
    assert_eq!(
        next_event(&mut frames, NOTICE_WAIT).await.unwrap().event,
        "poke"
    );
    logout(&s, &device.refresh).await;
    assert_signed_out(&until_closed(&mut frames, NOTICE_WAIT).await);
}

async fn disabling_a_user_refuses_their_requests_and_closes_their_streams(s: Server) {
    let (user, email, password) = add_user(&s, "agent@acme.example").await;
    let laptop = sign_in(&s, &email, &password).await;
    let phone = sign_in(&s, &email, &password).await;
    let mut laptop_stream = open_stream(&s.app, &laptop.access).await;
    let mut phone_stream = open_stream(&s.app, &phone.access).await;
    for frames in [&mut laptop_stream, &mut phone_stream] {
        assert_eq!(next_event(frames, NOTICE_WAIT).await.unwrap().event, "poke");
    }
    let admin = s.admin_token().await;
    disable(&s.app, &admin, user).await;
    for frames in [&mut laptop_stream, &mut phone_stream] {
        assert_signed_out(&until_closed(frames, NOTICE_WAIT).await);
    }
    for token in [&laptop.access, &phone.access] {
        assert_eq!(ping(&s.app, token).await, StatusCode::UNAUTHORIZED);
        let (status, _) = push_one(&s, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": phone.refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "session_revoked");
}

async fn a_reused_refresh_token_ends_the_sessions_access_tokens(s: Server) {
    let (_, email, password) = add_user(&s, "agent@acme.example").await;
    let first = sign_in(&s, &email, &password).await;
    let other = sign_in(&s, &email, &password).await;
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": first.refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = body["access_token"].as_str().unwrap().to_owned();
    let mut frames = open_stream(&s.app, &renewed).await;
    assert_eq!(
        next_event(&mut frames, NOTICE_WAIT).await.unwrap().event,
        "poke"
    );
    // The rotated token again: it leaked, so the whole session ends.
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": first.refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "session_revoked");
    assert_signed_out(&until_closed(&mut frames, NOTICE_WAIT).await);
    for token in [&first.access, &renewed] {
        assert_eq!(ping(&s.app, token).await, StatusCode::UNAUTHORIZED);
        let (status, _) = push_one(&s, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        ping(&s.app, &other.access).await,
        StatusCode::OK,
        "another session of the user is not the leaked one"
    );
}

async fn concurrent_refreshes_with_one_token_renew_at_most_once(s: Server) {
    let (_, email, password) = add_user(&s, "agent@acme.example").await;
    let device = sign_in(&s, &email, &password).await;
    let calls = (0..8).map(|_| {
        let app = s.app.clone();
        let body = json!({ "refresh_token": device.refresh }).to_string();
        tokio::spawn(async move {
            let request = Request::post("/v1/auth/refresh")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            app.oneshot(request).await.unwrap().status()
        })
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let renewed = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(renewed <= 1, "{statuses:?}");
}

on_both_databases!(
    after_logout_the_access_token_is_refused,
    a_logout_ends_only_its_own_session,
    an_open_stream_closes_when_its_session_logs_out,
    disabling_a_user_refuses_their_requests_and_closes_their_streams,
    a_reused_refresh_token_ends_the_sessions_access_tokens,
    concurrent_refreshes_with_one_token_renew_at_most_once,
    the_command_line_ends_sessions,
);

/// A second instance on the same PostgreSQL database, with its own listener.
async fn second_instance(a: &Server) -> axum::Router {
    let db = Db::connect(&a.url).await.unwrap();
    let b = AppState::new(db, Config::default(), a.master_key.clone())
        .await
        .unwrap();
    outpost_server::events::spawn_listener(b.clone(), a.url.clone());
    router(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_user_disabled_on_one_instance_is_signed_out_on_the_other() {
    let a = postgres().await;
    outpost_server::events::spawn_listener(a.state.clone(), a.url.clone());
    let b = second_instance(&a).await;
    let (user, email, password) = add_user(&a, "agent@acme.example").await;
    let device = sign_in(&a, &email, &password).await;
    let mut frames = open_stream(&a.app, &device.access).await;
    assert_eq!(
        next_event(&mut frames, NOTICE_WAIT).await.unwrap().event,
        "poke"
    );
    let admin = a.admin_token().await;
    disable(&b, &admin, user).await;
    assert_signed_out(&until_closed(&mut frames, NOTICE_WAIT).await);
    assert_eq!(ping(&a.app, &device.access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(ping(&b, &device.access).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_logout_on_one_instance_closes_the_stream_on_the_other() {
    let a = postgres().await;
    let b = second_instance(&a).await;
    let (_, email, password) = add_user(&a, "agent@acme.example").await;
    let device = sign_in(&a, &email, &password).await;
    let mut frames = open_stream(&b, &device.access).await;
    assert_eq!(
        next_event(&mut frames, NOTICE_WAIT).await.unwrap().event,
        "poke"
    );
    // Through instance A, whose in-process signal B never sees.
    logout(&a, &device.refresh).await;
    assert_signed_out(&until_closed(&mut frames, NOTICE_WAIT).await);
}

/// `outpost-server user disable` and `user reset-password`, the real binary against the
/// server's database: the user's sessions end at once; on PostgreSQL the running server's streams
/// close through `NOTIFY`.
fn cli(url: &str, args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_outpost-server"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .current_dir(dir.path())
        .env_remove("OUTPOST_DATABASE_URL")
        .env("OUTPOST_LOG", "warn")
        .output()
        .expect("run outpost-server");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn the_command_line_ends_sessions(s: Server) {
    let (carol, email, password) = add_user(&s, "carol@acme.example").await;
    let carol_device = sign_in(&s, &email, &password).await;
    let (dave, email, password) = add_user(&s, "dave@acme.example").await;
    let dave_device = sign_in(&s, &email, &password).await;
    let url = s.url.clone();
    let carol_id = carol.to_string();
    tokio::task::spawn_blocking(move || cli(&url, &["user", "reset-password", &carol_id]))
        .await
        .unwrap();
    let url = s.url.clone();
    let dave_id = dave.to_string();
    tokio::task::spawn_blocking(move || cli(&url, &["user", "disable", &dave_id]))
        .await
        .unwrap();
    for token in [&carol_device.access, &dave_device.access] {
        assert_eq!(ping(&s.app, token).await, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_password_reset_from_the_command_line_closes_open_streams() {
    let s = postgres().await;
    outpost_server::events::spawn_listener(s.state.clone(), s.url.clone());
    let (user, email, password) = add_user(&s, "agent@acme.example").await;
    let device = sign_in(&s, &email, &password).await;
    let mut frames = open_stream(&s.app, &device.access).await;
    assert_eq!(
        next_event(&mut frames, NOTICE_WAIT).await.unwrap().event,
        "poke"
    );
    let url = s.url.clone();
    tokio::task::spawn_blocking(move || cli(&url, &["user", "reset-password", &user.to_string()]))
        .await
        .unwrap();
    assert_signed_out(&until_closed(&mut frames, NOTICE_WAIT).await);
}
