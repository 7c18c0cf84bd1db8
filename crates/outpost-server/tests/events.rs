//! `GET /v1/sync/events`: pokes on every commit, a bound on streams per user, and (PostgreSQL)
//! pokes across two server instances sharing one database.

#[macro_use]
mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use futures_util::StreamExt;
use outpost_core::sync::{Mutation, Poke};
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::{router, AppState};
use tower::ServiceExt;
use uuid::Uuid;

type Frames = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Send>,
>;

async fn open_stream(app: &axum::Router, token: &str) -> (StatusCode, Frames) {
    let request = Request::get("/v1/sync/events")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    (
        response.status(),
        Box::pin(response.into_body().into_data_stream()),
    )
}

/// The next poke's cursor, skipping heartbeats; fails after a generous deadline.
async fn next_poke(frames: &mut Frames) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let frame = tokio::time::timeout_at(deadline, frames.next())
            .await
            .expect("a poke within the deadline")
            .expect("stream open")
            .expect("frame");
        let text = String::from_utf8_lossy(&frame).into_owned();
        if let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
            return serde_json::from_str::<Poke>(data)
                .expect("poke JSON")
                .cursor;
        }
    }
}

async fn a_commit_pokes_open_streams(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (status, mut frames) = open_stream(&s.app, &agent).await;
    assert_eq!(status, StatusCode::OK);
    let first = next_poke(&mut frames).await;
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![(1, new_ticket(Uuid::now_v7(), "support"))],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"]);
    let second = next_poke(&mut frames).await;
    assert!(second > first, "{second} > {first}");
}

async fn streams_per_user_are_bounded(s: Server) {
    let (user, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let (status, frames) = open_stream(&s.app, &agent).await;
        assert_eq!(status, StatusCode::OK);
        open.push(frames);
    }
    let (status, _) = open_stream(&s.app, &agent).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    open.pop();
    assert_eq!(
        s.state.streams.open(user),
        2,
        "a dropped stream frees its slot"
    );
    let (status, _) = open_stream(&s.app, &agent).await;
    assert_eq!(status, StatusCode::OK);
}

on_both_databases!(a_commit_pokes_open_streams, streams_per_user_are_bounded);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_poke_each_other_through_listen_notify() {
    let a = postgres().await;
    let (_, agent) = a.user("agent@acme.example", "agent", &["support"]).await;
    // A second instance on the same database, with its own listener.
    let db = Db::connect(&a.url).await.unwrap();
    let b = AppState::new(db, Config::default(), a.master_key.clone())
        .await
        .unwrap();
    outpost_server::events::spawn_listener(b.clone(), a.url.clone());
    let b_app = router(b);
    let (status, mut frames) = open_stream(&b_app, &agent).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "B accepts A's token: tokens are stateless"
    );
    let first = next_poke(&mut frames).await;
    // The listener connects asynchronously: keep writing through A until B reports a newer cursor.
    let device = Uuid::now_v7();
    let ticket = Uuid::now_v7();
    a.push(&agent, device, vec![(1, new_ticket(ticket, "support"))])
        .await;
    let mut id = 2;
    let seen = loop {
        let next = tokio::time::timeout(Duration::from_millis(500), next_poke(&mut frames)).await;
        if let Ok(cursor) = next {
            break cursor;
        }
        assert!(id < 40, "instance B never heard about A's commits");
        a.push(
            &agent,
            device,
            vec![(
                id,
                Mutation::AddTag {
                    ticket_id: ticket,
                    tag: format!("t{id}"),
                },
            )],
        )
        .await;
        id += 1;
    };
    assert!(seen > first);
}
