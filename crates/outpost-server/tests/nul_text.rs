//! U+0000 in any text the API takes is refused with 400 `bad_request`, on both databases alike.
//! PostgreSQL cannot store or compare it: a NUL in a login e-mail, a department code or an audit
//! filter was a 500 there (and a plain miss on SQLite).

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use outpost_core::model::Channel;
use serde_json::json;

async fn nul_text_is_refused_everywhere(s: Server) {
    let token = s.admin_token().await;
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let nobody = "00000000-0000-0000-0000-000000000000";
    let bodies = [
        (
            "/v1/auth/login",
            None,
            json!({"email": "admin@acme.example\u{0}", "password": "x"}),
        ),
        (
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": "a\u{0}b"}),
        ),
        ("/v1/auth/logout", None, json!({"refresh_token": "a\u{0}b"})),
        (
            "/v1/admin/users",
            Some(&token),
            json!({"email": "new@acme.example", "name": "New\u{0}", "role": "agent"}),
        ),
        (
            &format!("/v1/admin/users/{nobody}/departments"),
            Some(&token),
            json!({"departments": ["support\u{0}"]}),
        ),
    ];
    for (path, token, body) in bodies {
        let (status, answer) = s
            .call("POST", path, token.map(String::as_str), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert_eq!(answer["code"], "bad_request", "{path}");
    }

    // A push whose note carries a NUL.
    let (status, answer) = s
        .call(
            "POST",
            "/v1/sync/push",
            Some(&token),
            Some(json!({
                "device_id": nobody,
                "mutations": [{
                    "mutation_id": 1,
                    "client_time": "2026-01-01T00:00:00Z",
                    "mutation": {"name": "entry.add_note", "args": {
                        "ticket_id": nobody, "entry_id": nobody, "text": "a\u{0}b"
                    }}
                }]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "push: {answer}");

    // Intake, with the key.
    let request = Request::post("/v1/intake")
        .header("x-outpost-key", &key)
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"subject": "Hi", "requester": {"name": "Ann", "contact": "a\u{0}@x.example"}})
                .to_string(),
        ))
        .unwrap();
    let (status, answer) = s.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "intake: {answer}");

    // Query values.
    for query in [
        "actor=a%00b",
        "action=ticket.%00",
        "department=support%00",
        "device=%00",
    ] {
        let (status, answer) = s
            .call(
                "GET",
                &format!("/v1/audit/events?{query}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_eq!(answer["code"], "bad_request", "{query}");
    }

    // Escaped text that only looks like the escape is ordinary text.
    let (status, answer) = s
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "admin@acme.example", "password": "\\u0000"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
}

on_both_databases!(nul_text_is_refused_everywhere);
