//! The customer's satisfaction rating is taken once per resolution, also when many ratings
//! arrive at the same moment: the database refuses a second rating row for the same resolution,
//! so exactly one is applied, with one rating event on the timeline and one in the audit trail.
//! On SQLite and PostgreSQL.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use outpost_core::model::{Channel, Entry, EntryBody, Status, TicketEvent};
use outpost_core::sync::Mutation;
use serde_json::json;
use tower::ServiceExt;
use uuid::Uuid;

/// How many ratings race for one ticket.
const RACERS: usize = 12;

async fn intake_key(s: &Server) -> String {
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    key
}

/// A ticket from intake, held by `agent`, resolved by them: (ticket id, the customer's path).
async fn resolved_ticket(s: &Server, agent: &str, device: Uuid, first_id: u64) -> (Uuid, String) {
    let key = intake_key(s).await;
    let request = Request::post("/v1/intake")
        .header("x-outpost-key", key)
        .header("content-type", "application/json")
        .body(Body::from(
            json!({
                "subject": "Cannot log in", "description": "Login fails since yesterday",
                "requester": { "name": "Ann", "contact": "ann@example.com" }
            })
            .to_string(),
        ))
        .unwrap();
    let (status, created) = s.send(request).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let ticket: Uuid = created["ticket_id"].as_str().unwrap().parse().unwrap();
    let path = created["status_path"].as_str().unwrap().to_owned();
    resolve(s, agent, device, first_id, ticket).await;
    (ticket, path)
}

async fn resolve(s: &Server, agent: &str, device: Uuid, id: u64, ticket: Uuid) {
    let (_, body) = s
        .push(
            agent,
            device,
            vec![(
                id,
                Mutation::SetStatus {
                    ticket_id: ticket,
                    status: Status::Resolved,
                    reason: None,
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
}

/// Posts a rating form in `lang`; returns the status and the page.
async fn rate(s: &Server, path: &str, lang: &str, form: &str) -> (StatusCode, String) {
    let request = Request::post(format!("{path}/csat?lang={lang}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap();
    let response = s.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// `RACERS` ratings of `path` at once, each with its own score; returns (status, page) per racer.
async fn race(s: &Server, path: &str, form: impl Fn(usize) -> String) -> Vec<(StatusCode, String)> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for racer in 0..RACERS {
        let app = s.app.clone();
        let start = start.clone();
        let uri = format!("{path}/csat");
        let body = form(racer);
        tasks.push(tokio::spawn(async move {
            let request = Request::post(uri)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            start.wait().await;
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, String::from_utf8(bytes.to_vec()).unwrap())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// The events on the ticket's timeline, in order.
async fn events(s: &Server, ticket: Uuid) -> Vec<TicketEvent> {
    let docs: Vec<String> =
        sqlx::query_scalar("SELECT doc FROM entries WHERE ticket_id = $1 ORDER BY seq")
            .bind(ticket.to_string())
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
    docs.iter()
        .map(|d| serde_json::from_str::<Entry>(d).unwrap())
        .filter_map(|e| match e.body {
            EntryBody::Event { event } => Some(event),
            _ => None,
        })
        .collect()
}

/// The scores of the rating events on the ticket's timeline.
async fn rating_events(s: &Server, ticket: Uuid) -> Vec<u8> {
    events(s, ticket)
        .await
        .iter()
        .filter_map(|e| match e {
            TicketEvent::CsatReceived { score } => Some(*score),
            _ => None,
        })
        .collect()
}

async fn count(s: &Server, sql: &str, ticket: Uuid) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(ticket.to_string())
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

async fn audited_ratings(s: &Server, ticket: Uuid) -> i64 {
    count(
        s,
        "SELECT count(*) FROM audit WHERE action = 'customer.csat' AND ticket_id = $1",
        ticket,
    )
    .await
}

async fn rating_rows(s: &Server, ticket: Uuid) -> i64 {
    count(
        s,
        "SELECT count(*) FROM csat_ratings WHERE ticket_id = $1",
        ticket,
    )
    .await
}

async fn concurrent_ratings_are_taken_once(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let device = Uuid::now_v7();
    let (ticket, path) = resolved_ticket(&s, &agent, device, 1).await;

    // High scores keep the ticket resolved, so only "rated once" stands between the racers.
    let answers = race(&s, &path, |racer| {
        format!("score={}&comment=racer+{racer}", 4 + racer % 2)
    })
    .await;
    let accepted: Vec<&String> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .map(|(_, page)| page)
        .collect();
    assert_eq!(
        accepted.len(),
        1,
        "exactly one rating is taken: {answers:?}"
    );
    assert!(accepted[0].contains("Thank you for your rating."));
    for (status, page) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::BAD_REQUEST, "{page}");
        assert!(
            page.contains("This ticket has been rated already."),
            "the refusal says why: {page}"
        );
    }
    assert_eq!(rating_events(&s, ticket).await.len(), 1);
    assert_eq!(audited_ratings(&s, ticket).await, 1);
    assert_eq!(rating_rows(&s, ticket).await, 1);
    assert!(outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .is_ok());

    // Later, in Chinese: the same clear answer.
    let (status, page) = rate(&s, &path, "zh-CN", "score=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("该工单已评价过"), "{page}");
    assert_eq!(audited_ratings(&s, ticket).await, 1);
}

async fn concurrent_low_scores_reopen_once(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let device = Uuid::now_v7();
    let (ticket, path) = resolved_ticket(&s, &agent, device, 1).await;

    let answers = race(&s, &path, |racer| format!("score={}", 1 + racer % 2)).await;
    let accepted = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(accepted, 1, "{answers:?}");
    assert_eq!(rating_events(&s, ticket).await.len(), 1);
    assert_eq!(audited_ratings(&s, ticket).await, 1);
    assert_eq!(rating_rows(&s, ticket).await, 1);
    let reopened = events(&s, ticket)
        .await
        .iter()
        .filter(|e| matches!(e, TicketEvent::Reopened { .. }))
        .count();
    assert_eq!(reopened, 1, "one low score reopens the ticket once");

    // Handled again and resolved again: the ticket has its rating, so no second one is asked
    // for or taken (the product's rule: one rating per ticket; the table is keyed by
    // resolution).
    resolve(&s, &agent, device, 2, ticket).await;
    let (status, page) = rate(&s, &path, "en", "score=5").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("This ticket has been rated already."),
        "{page}"
    );
    assert_eq!(rating_events(&s, ticket).await.len(), 1);
    assert_eq!(audited_ratings(&s, ticket).await, 1);
    assert_eq!(rating_rows(&s, ticket).await, 1);
}

/// The database, not the ticket document, is what refuses the second rating: a ticket row that
/// does not show its rating (written by a writer that read it before the rating committed) is
/// still rated once for that resolution.
async fn the_rating_table_refuses_a_second_rating_of_a_resolution(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let device = Uuid::now_v7();
    let (ticket, path) = resolved_ticket(&s, &agent, device, 1).await;
    let stale: String = sqlx::query_scalar("SELECT doc FROM tickets WHERE id = $1")
        .bind(ticket.to_string())
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    let (status, _) = rate(&s, &path, "en", "score=5").await;
    assert_eq!(status, StatusCode::OK);

    // A lost update puts back the row as it was before the rating.
    sqlx::query("UPDATE tickets SET doc = $1 WHERE id = $2")
        .bind(&stale)
        .bind(ticket.to_string())
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (status, page) = rate(&s, &path, "en", "score=4").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_eq!(rating_events(&s, ticket).await, [5]);
    assert_eq!(audited_ratings(&s, ticket).await, 1);
    assert_eq!(rating_rows(&s, ticket).await, 1);
}

/// The lost update behind a second rating: an agent's push that read the ticket before the
/// customer's rating committed must not write the ticket back without it. Another writer holds
/// the write lock while the rating and then the push queue behind it; the rating goes first.
async fn a_push_queued_behind_a_rating_keeps_the_rating(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let device = Uuid::now_v7();
    let (ticket, path) = resolved_ticket(&s, &agent, device, 1).await;

    let mut held = s.db.begin_write().await.unwrap();
    outpost_server::db::next(&mut held, "change_seq")
        .await
        .unwrap();
    let rating = {
        let app = s.app.clone();
        tokio::spawn(async move {
            let request = Request::post(format!("{path}/csat?lang=en"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("score=5"))
                .unwrap();
            app.oneshot(request).await.unwrap().status()
        })
    };
    until_waiting(&s, 1).await;
    let push = {
        let app = s.app.clone();
        let body = json!({
            "device_id": device,
            "mutations": [{
                "mutation_id": 2,
                "client_time": now(),
                "base_revision": null,
                "mutation": serde_json::to_value(Mutation::SetPriority {
                    ticket_id: ticket,
                    priority: outpost_core::model::Priority::P1,
                }).unwrap(),
            }],
        });
        tokio::spawn(async move {
            let request = Request::post("/v1/sync/push")
                .header("authorization", format!("Bearer {agent}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        })
    };
    until_waiting(&s, 2).await;
    held.commit().await.unwrap();
    assert_eq!(rating.await.unwrap(), StatusCode::OK);
    let answer = push.await.unwrap();
    assert_eq!(outcomes(&answer), ["applied"], "{answer}");

    let doc: String = sqlx::query_scalar("SELECT doc FROM tickets WHERE id = $1")
        .bind(ticket.to_string())
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    let stored: outpost_core::model::Ticket = serde_json::from_str(&doc).unwrap();
    assert_eq!(stored.priority, outpost_core::model::Priority::P1);
    assert_eq!(
        stored.csat.map(|c| c.score),
        Some(5),
        "the push wrote back the ticket it read before the rating"
    );
}

on_both_databases!(
    concurrent_ratings_are_taken_once,
    concurrent_low_scores_reopen_once,
    the_rating_table_refuses_a_second_rating_of_a_resolution,
    a_push_queued_behind_a_rating_keeps_the_rating,
);
