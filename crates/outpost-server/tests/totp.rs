//! The TOTP second factor cannot be replaced or removed with an access token alone: setting up
//! needs the account password, and once a factor is enabled, replacing it or disabling it also
//! needs a current code from it. Each change is audited.

#[macro_use]
mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

const EMAIL: &str = "agent@acme.example";

fn code(secret: &str) -> String {
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret.to_owned())
            .to_bytes()
            .unwrap(),
        Some("Outpost".into()),
        EMAIL.into(),
    )
    .unwrap()
    .generate((outpost_server::db::now_millis() / 1000) as u64)
}

/// A code is good once; the scenarios use the current one several times, so the step it used
/// is forgotten between uses (what a later time step does).
async fn forget_used_codes(s: &Server, user: Uuid) {
    sqlx::query("UPDATE users SET totp_last_step = NULL WHERE id = $1")
        .bind(user.to_string())
        .execute(&s.db.pool)
        .await
        .unwrap();
}

async fn stored_factor(s: &Server, user: Uuid) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT totp_secret, totp_pending FROM users WHERE id = $1")
        .bind(user.to_string())
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

async fn audited(s: &Server, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit WHERE action = $1")
        .bind(action)
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

async fn post(s: &Server, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    s.call("POST", path, Some(token), body).await
}

/// Signs up `EMAIL` and enables TOTP for them; returns (id, token, password, secret).
async fn enrolled(s: &Server) -> (Uuid, String, String, String) {
    let (id, token, password) = s.user_with_password(EMAIL, "agent", &["support"]).await;
    let (status, setup) = post(
        s,
        "/v1/auth/totp/setup",
        &token,
        Some(json!({ "password": password })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["secret_base32"].as_str().unwrap().to_owned();
    let (status, body) = post(
        s,
        "/v1/auth/totp/enable",
        &token,
        Some(json!({ "code": code(&secret) })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(audited(s, "user.totp_enable").await, 1);
    forget_used_codes(s, id).await;
    (id, token, password, secret)
}

async fn login_status(s: &Server, password: &str, totp: Option<String>) -> (StatusCode, Value) {
    s.call(
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({ "email": EMAIL, "password": password, "totp": totp })),
    )
    .await
}

async fn first_setup_needs_the_password(s: Server) {
    let (id, token, password) = s.user_with_password(EMAIL, "agent", &["support"]).await;
    let (status, _) = post(&s, "/v1/auth/totp/setup", &token, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no body: no password");
    let (status, body) = post(
        &s,
        "/v1/auth/totp/setup",
        &token,
        Some(json!({ "password": "not the password" })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    assert_eq!(stored_factor(&s, id).await, (None, None), "nothing stored");
    let (status, body) = post(
        &s,
        "/v1/auth/totp/setup",
        &token,
        Some(json!({ "password": password })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(stored_factor(&s, id).await.1.is_some());
}

async fn reenrolment_needs_the_password_and_a_current_code(s: Server) {
    let (id, token, password, old_secret) = enrolled(&s).await;
    let before = stored_factor(&s, id).await;
    let setup = "/v1/auth/totp/setup";

    // The access token alone (what a stolen token gives) is refused.
    let (status, _) = post(&s, setup, &token, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(&s, setup, &token, Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(
        &s,
        setup,
        &token,
        Some(json!({ "code": code(&old_secret) })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a code without the password"
    );
    // The password alone is refused: a code from the enabled factor is needed.
    let (status, body) = post(&s, setup, &token, Some(json!({ "password": password }))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
    // A wrong password with a right code, and a right password with a wrong code.
    let (status, body) = post(
        &s,
        setup,
        &token,
        Some(json!({ "password": "wrong", "code": code(&old_secret) })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    let wrong = format!(
        "{:06}",
        (code(&old_secret).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    let (status, body) = post(
        &s,
        setup,
        &token,
        Some(json!({ "password": password, "code": wrong })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    assert_eq!(stored_factor(&s, id).await, before, "nothing changed");
    assert_eq!(audited(&s, "user.totp_replace").await, 0);

    // Password and a current code: a new seed waits for its first code.
    let current = code(&old_secret);
    let (status, body) = post(
        &s,
        setup,
        &token,
        Some(json!({ "password": password, "code": current })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_secret = body["secret_base32"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    // The code was used up: the same one cannot start another setup.
    let (status, _) = post(
        &s,
        setup,
        &token,
        Some(json!({ "password": password, "code": current })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a code is good once");
    forget_used_codes(&s, id).await;
    // Until the new seed is enabled, the old factor still signs in.
    let (status, body) = login_status(&s, &password, Some(code(&old_secret))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(
        &s,
        "/v1/auth/totp/enable",
        &token,
        Some(json!({ "code": code(&new_secret) })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(audited(&s, "user.totp_replace").await, 1);
    assert_eq!(audited(&s, "user.totp_enable").await, 1, "the first only");
    forget_used_codes(&s, id).await;
    if code(&old_secret) != code(&new_secret) {
        let (status, _) = login_status(&s, &password, Some(code(&old_secret))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the old factor is gone");
    }
    let (status, body) = login_status(&s, &password, Some(code(&new_secret))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn disabling_needs_the_password_and_a_current_code(s: Server) {
    let (id, token, password, secret) = enrolled(&s).await;
    let before = stored_factor(&s, id).await;
    let disable = "/v1/auth/totp/disable";

    let (status, _) = post(&s, disable, &token, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the access token alone");
    let (status, _) = post(&s, disable, &token, Some(json!({ "code": code(&secret) }))).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a code without the password"
    );
    let (status, body) = post(&s, disable, &token, Some(json!({ "password": password }))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required")),
        "the password alone"
    );
    let (status, body) = post(
        &s,
        disable,
        &token,
        Some(json!({ "password": "wrong", "code": code(&secret) })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    assert_eq!(stored_factor(&s, id).await, before, "still enabled");
    assert_eq!(audited(&s, "user.totp_disable").await, 0);
    let (status, body) = login_status(&s, &password, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );

    let (status, body) = post(
        &s,
        disable,
        &token,
        Some(json!({ "password": password, "code": code(&secret) })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stored_factor(&s, id).await, (None, None));
    assert_eq!(audited(&s, "user.totp_disable").await, 1);
    let (status, body) = login_status(&s, &password, None).await;
    assert_eq!(status, StatusCode::OK, "no code needed any more: {body}");
    let (status, body) = post(
        &s,
        disable,
        &token,
        Some(json!({ "password": password, "code": code(&secret) })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "nothing to disable"
    );
}

async fn wrong_passwords_on_these_endpoints_are_rate_limited(s: Server) {
    // The harness allows 5 failed attempts a minute per account and per address.
    let (_, token, password) = s.user_with_password(EMAIL, "agent", &["support"]).await;
    for _ in 0..5 {
        let (status, _) = post(
            &s,
            "/v1/auth/totp/setup",
            &token,
            Some(json!({ "password": "guess" })),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = post(
        &s,
        "/v1/auth/totp/setup",
        &token,
        Some(json!({ "password": password })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    let (status, _) = login_status(&s, &password, None).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "one budget with sign-in"
    );
}

on_both_databases!(
    first_setup_needs_the_password,
    reenrolment_needs_the_password_and_a_current_code,
    disabling_needs_the_password_and_a_current_code,
    wrong_passwords_on_these_endpoints_are_rate_limited,
);
