//! Rate limits hold under concurrency: an attempt is counted in the same step as the check, so
//! concurrent wrong passwords cannot all get past a limit none of them has been counted against
//! yet. The harness allows 5 failed sign-ins a minute per account and per address.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use tower::ServiceExt;

const LIMIT: usize = 5;

async fn login_code(app: axum::Router, email: &str, password: &str) -> (StatusCode, String) {
    let request = Request::post("/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({ "email": email, "password": password }).to_string(),
        ))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let code = body["code"].as_str().unwrap_or("ok").to_owned();
    (status, code)
}

async fn concurrent_wrong_passwords_are_limited(s: Server) {
    let attempts = (0..24).map(|i| {
        let app = s.app.clone();
        tokio::spawn(
            async move { login_code(app, "admin@acme.example", &format!("wrong {i}")).await },
        )
    });
    let answers: Vec<(StatusCode, String)> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let bad = answers
        .iter()
        .filter(|(status, code)| *status == StatusCode::UNAUTHORIZED && code == "bad_credentials")
        .count();
    let limited = answers
        .iter()
        .filter(|(status, code)| *status == StatusCode::TOO_MANY_REQUESTS && code == "rate_limited")
        .count();
    assert_eq!((bad, limited), (LIMIT, 24 - LIMIT), "{answers:?}");
    // The limit still holds for the right password.
    let (status, code) = login_code(s.app.clone(), "admin@acme.example", &s.admin_password).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
}

async fn a_successful_sign_in_is_not_counted(s: Server) {
    for _ in 0..LIMIT - 1 {
        let (_, code) = login_code(s.app.clone(), "admin@acme.example", "wrong").await;
        assert_eq!(code, "bad_credentials");
    }
    // Right passwords give their places back.
    for _ in 0..3 {
        let (status, _) = login_code(s.app.clone(), "admin@acme.example", &s.admin_password).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, code) = login_code(s.app.clone(), "admin@acme.example", "wrong").await;
    assert_eq!(
        code, "bad_credentials",
        "the fifth failure is still allowed"
    );
    let (_, code) = login_code(s.app.clone(), "admin@acme.example", "wrong").await;
    assert_eq!(code, "rate_limited");
}

/// The customer form allows 5 submissions a minute per address.
async fn concurrent_form_submissions_are_limited(s: Server) {
    let submissions = (0..16).map(|i| {
        let app = s.app.clone();
        tokio::spawn(async move {
            let body = format!(
                "subject=Help+{i}&description=Locked+out&name=Wang&contact=w{i}%40example.com"
            );
            let request = Request::post("/c/new?lang=en")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            app.oneshot(request).await.unwrap().status()
        })
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(submissions)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(limited, 16 - 5, "{statuses:?}");
}

on_both_databases!(
    concurrent_wrong_passwords_are_limited,
    a_successful_sign_in_is_not_counted,
    concurrent_form_submissions_are_limited,
);
