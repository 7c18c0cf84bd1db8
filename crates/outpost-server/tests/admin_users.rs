//! The admin area's people, keys and first run: adding users with a one-time password or an
//! invitation link (and the invitation page end to end), changing, disabling, enabling and
//! resetting them, never losing the last admin (also under concurrency), intake keys, the
//! organisation's two-factor requirement, and `outpost-server init`. Agents and supervisors are
//! refused everything here; every change is audited with before and after. Run on SQLite and
//! on PostgreSQL.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use outpost_core::model::{Channel, Department, User};
use outpost_core::settings::SettingsDoc;
use outpost_core::sync::{ChangeKind, Mutation};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

/// The newest audit event with `action`: (actor, detail).
async fn last_event(s: &Server, action: &str) -> Option<(String, Value)> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT actor, detail FROM audit WHERE action = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(action)
    .fetch_optional(&s.db.pool)
    .await
    .unwrap();
    row.map(|(actor, detail)| (actor, serde_json::from_str(&detail).unwrap()))
}

async fn audit_rows(s: &Server) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

async fn login_status(s: &Server, email: &str, password: &str) -> (StatusCode, Value) {
    s.call(
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({ "email": email, "password": password })),
    )
    .await
}

/// A page: (status, headers, HTML).
async fn page(s: &Server, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = s.app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn post_form(path: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

/// The path of an invitation link (`http://…/invite/<token>` → `/invite/<token>`).
fn invite_path(link: &str) -> String {
    let at = link.find("/invite/").expect("an invitation link");
    link[at..].to_owned()
}

/// Retires a department through the admin intent, as the desktop's admin screen does.
async fn retire(s: &Server, admin: &str, code: &str) {
    let (_, body) = s
        .push(
            admin,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::PutDepartment(Department {
                    code: code.into(),
                    name: code.into(),
                    active: false,
                }),
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
}

async fn adding_users_validates_refuses_non_admins_and_audits(s: Server) {
    let admin = s.admin_token().await;
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    retire(&s, &admin, "tech").await;
    let valid = json!({ "email": "new@acme.example", "name": "New", "role": "agent", "departments": ["support"], "invite": "link" });

    for token in [&agent, &supervisor] {
        let before = audit_rows(&s).await;
        let (status, body) = s
            .call("POST", "/v1/admin/users", Some(token), Some(valid.clone()))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        assert_eq!(audit_rows(&s).await, before, "a refusal audits nothing");
    }
    for (change, expected) in [
        (
            json!({ "departments": ["nowhere"] }),
            "no active department \"nowhere\"",
        ),
        (
            json!({ "departments": ["tech"] }),
            "no active department \"tech\"",
        ),
        (json!({ "email": "not-an-address" }), "email"),
        (json!({ "name": "  " }), "name"),
        (json!({ "invite": "carrier_pigeon" }), "invite"),
        (json!({ "shift": "night" }), "shift"),
    ] {
        let mut body = valid.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = s
            .call("POST", "/v1/admin/users", Some(&admin), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{change}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(expected),
            "{change}: {answer}"
        );
    }

    let (status, added) = s
        .call("POST", "/v1/admin/users", Some(&admin), Some(valid.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert!(added["one_time_password"].is_null());
    let link = added["invite_link"].as_str().unwrap();
    assert!(
        link.starts_with("http://127.0.0.1:8750/invite/") && link.len() > 60,
        "{link}"
    );
    let (actor, detail) = last_event(&s, "user.add").await.unwrap();
    assert_ne!(actor, "cli");
    assert_eq!(detail["invite"], "link");
    assert_eq!(detail["before"], Value::Null);
    assert_eq!(detail["after"]["email"], "new@acme.example");
    assert_eq!(detail["after"]["departments"], json!(["support"]));
    assert!(
        !detail.to_string().contains(&link[link.len() - 20..]),
        "the link is never audited"
    );
    // Only the link's hash is stored.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM invites")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert!(!link.contains(&stored));

    let (status, _) = s
        .call("POST", "/v1/admin/users", Some(&admin), Some(valid))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the address is taken");
}

async fn an_invitation_link_sets_a_password_once(s: Server) {
    let admin = s.admin_token().await;
    let (_, added) = s
        .call(
            "POST",
            "/v1/admin/users",
            Some(&admin),
            Some(json!({ "email": "li@acme.example", "name": "Li", "role": "agent", "departments": ["support"], "invite": "link" })),
        )
        .await;
    let path = invite_path(added["invite_link"].as_str().unwrap());
    // Nobody can sign in before the invitee chose a password.
    let (status, _) = login_status(&s, "li@acme.example", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, headers, html) = page(&s, get(&format!("{path}?lang=zh-CN"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    assert!(html.contains("设置您的 Outpost 密码") && html.contains("li@acme.example"));
    assert!(!html.contains("<script"));
    assert!(html.contains("type=\"password\" name=\"password\""));

    let (status, _, html) = page(&s, post_form(&path, "password=short&confirm=short")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("at least 12 characters"), "{html}");
    let (status, _, html) = page(
        &s,
        post_form(
            &path,
            "password=correct+horse+battery&confirm=correct+horse+batter",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("differ"), "{html}");
    assert!(
        !html.contains("correct horse"),
        "typed passwords are never echoed"
    );

    let (status, _, html) = page(
        &s,
        post_form(
            &path,
            "password=correct+horse+battery&confirm=correct+horse+battery",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Your password is set"));
    let session = s.login("li@acme.example", "correct horse battery").await;
    assert_eq!(session["user"]["email"], "li@acme.example");
    let (actor, _) = last_event(&s, "user.invite_accept").await.unwrap();
    assert_eq!(actor, session["user"]["id"].as_str().unwrap());

    // Spent: the page says so, and a second password cannot be set through it.
    let (status, _, html) = page(&s, get(&path)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("used already") && !html.contains("<form"));
    let (status, _, _) = page(
        &s,
        post_form(
            &path,
            "password=another+long+password&confirm=another+long+password",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    let (status, _) = login_status(&s, "li@acme.example", "another long password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.login("li@acme.example", "correct horse battery").await;

    let (status, _, html) = page(&s, get("/invite/not-a-real-token")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("not valid"));

    // A reset by link: the old password and sessions end at once; a newer link replaces an
    // older one; an expired link is refused.
    let id: Uuid = session["user"]["id"].as_str().unwrap().parse().unwrap();
    let reset = |invite: &'static str| {
        let admin = admin.clone();
        let s = &s;
        async move {
            let (status, body) = s
                .call(
                    "POST",
                    &format!("/v1/admin/users/{id}/reset-password"),
                    Some(&admin),
                    Some(json!({ "invite": invite })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let first = reset("link").await;
    assert!(first["one_time_password"].is_null());
    let (status, _) = s
        .call("GET", "/v1/me", session["access_token"].as_str(), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the reset ended the session"
    );
    let (status, _) = login_status(&s, "li@acme.example", "correct horse battery").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old password stopped working"
    );
    let second = reset("link").await;
    let (status, _, html) = page(
        &s,
        get(&invite_path(first["invite_link"].as_str().unwrap())),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("replaced by a newer one"), "{html}");
    let second_path = invite_path(second["invite_link"].as_str().unwrap());
    sqlx::query("UPDATE invites SET expires_at = $1 WHERE used_at IS NULL")
        .bind(now().timestamp_millis() - 1)
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (status, _, html) = page(
        &s,
        post_form(
            &second_path,
            "password=a+third+long+password&confirm=a+third+long+password",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("expired"), "{html}");
    let (_, detail) = last_event(&s, "user.reset_password").await.unwrap();
    assert_eq!(detail["invite"], "link");

    let by_password = reset("password").await;
    assert!(by_password["invite_link"].is_null());
    s.login(
        "li@acme.example",
        by_password["one_time_password"].as_str().unwrap(),
    )
    .await;
}

async fn changing_a_user_is_validated_audited_and_pulled(s: Server) {
    let admin = s.admin_token().await;
    let (ana, _) = s.user("ana@acme.example", "agent", &["support"]).await;
    let (_, colleague) = s.user("bo@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    retire(&s, &admin, "tech").await;
    let path = format!("/v1/admin/users/{ana}");
    let cursor = s.pull_all(&colleague).await.cursor;

    for token in [&colleague, &supervisor] {
        let (status, _) = s
            .call("PATCH", &path, Some(token), Some(json!({ "away": true })))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let before = audit_rows(&s).await;
    for (body, expected) in [
        (json!({ "name": "" }), StatusCode::BAD_REQUEST),
        (json!({ "name": "a\u{7}b" }), StatusCode::BAD_REQUEST),
        (
            json!({ "departments": ["nowhere"] }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "departments": ["tech"] }), StatusCode::BAD_REQUEST),
        (json!({ "skills": [""] }), StatusCode::BAD_REQUEST),
        (json!({ "role": "owner" }), StatusCode::BAD_REQUEST),
        (
            json!({ "email": "x@acme.example" }),
            StatusCode::BAD_REQUEST,
        ),
        // A struct is not read from an array (serde would take `[]` as an empty change).
        (json!([]), StatusCode::BAD_REQUEST),
        (json!([null, null]), StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = s
            .call("PATCH", &path, Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let (status, _) = s
        .call(
            "PATCH",
            &format!("/v1/admin/users/{}", Uuid::now_v7()),
            Some(&admin),
            Some(json!({ "away": true })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(audit_rows(&s).await, before, "refusals audit nothing");

    let (status, user) = s
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({ "name": "Ana Lima", "departments": ["support", "finance"], "skills": ["refunds"], "away": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let user: User = serde_json::from_value(user).unwrap();
    assert_eq!(user.name, "Ana Lima");
    assert_eq!(user.departments, ["support", "finance"]);
    assert_eq!(user.skills, ["refunds"]);
    assert!(user.away);
    let (actor, detail) = last_event(&s, "user.update").await.unwrap();
    assert_eq!(
        actor,
        s.login("admin@acme.example", &s.admin_password).await["user"]["id"]
            .as_str()
            .unwrap()
    );
    assert_eq!(detail["before"]["name"], "ana@acme.example");
    assert_eq!(detail["before"]["away"], false);
    assert_eq!(detail["after"]["name"], "Ana Lima");
    assert_eq!(detail["after"]["away"], true);

    // A colleague's app pulls the change.
    let (status, page) = s
        .call(
            "GET",
            &format!("/v1/sync/pull?cursor={cursor}&limit=100"),
            Some(&colleague),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page: outpost_core::sync::PullResponse = serde_json::from_value(page).unwrap();
    let pulled: Vec<&User> = page
        .changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::User(u) if u.id == ana => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(pulled, [&user]);

    // The same values again change nothing and audit nothing.
    let before = audit_rows(&s).await;
    let (status, _) = s
        .call("PATCH", &path, Some(&admin), Some(json!({ "away": true })))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit_rows(&s).await, before);
}

async fn away_agents_are_not_dispatched(s: Server) {
    let admin = s.admin_token().await;
    let (alice, _) = s.user("alice@acme.example", "agent", &["risk"]).await;
    let (bob, _) = s.user("bob@acme.example", "agent", &["risk"]).await;
    let (status, _) = s
        .call(
            "PATCH",
            &format!("/v1/admin/users/{alice}"),
            Some(&admin),
            Some(json!({ "away": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for _ in 0..3 {
        let request = Request::post("/v1/intake")
            .header("x-outpost-key", &key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({
                    "subject": "账户被盗，资金被转走",
                    "description": "今天凌晨收到异地登录提醒，余额被转走 5 万元",
                    "requester": { "name": "王先生", "contact": "138****0000" }
                })
                .to_string(),
            ))
            .unwrap();
        let (status, created) = s.send(request).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        assert_eq!(created["department"], "risk");
        assert_eq!(created["assignee"], json!(bob), "the away agent is skipped");
    }
}

async fn the_last_admin_stays(s: Server) {
    let admin = s.admin_token().await;
    let me: Uuid = s.login("admin@acme.example", &s.admin_password).await["user"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let demote = json!({ "role": "supervisor" });
    let (status, body) = s
        .call(
            "PATCH",
            &format!("/v1/admin/users/{me}"),
            Some(&admin),
            Some(demote.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("last active admin"));
    let (status, _) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{me}/disable"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Two admins demote each other at the same moment: one wins, one admin is left.
    let (other, other_token) = s.user("second@acme.example", "admin", &[]).await;
    let (other_path, my_path) = (
        format!("/v1/admin/users/{other}"),
        format!("/v1/admin/users/{me}"),
    );
    let first = s.call("PATCH", &other_path, Some(&admin), Some(demote.clone()));
    let second = s.call("PATCH", &my_path, Some(&other_token), Some(demote.clone()));
    let ((first_status, _), (second_status, _)) = tokio::join!(first, second);
    let mut answers = [first_status, second_status];
    answers.sort();
    // The loser is refused either because the winner left them the last admin (409) or
    // because the winner demoted them first, so they no longer may (403).
    assert_eq!(answers[0], StatusCode::OK, "{answers:?}");
    assert!(
        matches!(answers[1], StatusCode::CONFLICT | StatusCode::FORBIDDEN),
        "{answers:?}"
    );
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(admins, 1);

    // Whoever is still admin makes the other one admin again; then they disable each other at
    // once: one is disabled, one admin is left.
    let admin_left: String =
        sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    let (left, left_token, demoted) = if admin_left == me.to_string() {
        (me, admin.clone(), other)
    } else {
        (other, other_token.clone(), me)
    };
    let (status, body) = s
        .call(
            "PATCH",
            &format!("/v1/admin/users/{demoted}"),
            Some(&left_token),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let demoted_token = if demoted == me {
        admin.clone()
    } else {
        other_token.clone()
    };
    let (disable_demoted, disable_left) = (
        format!("/v1/admin/users/{demoted}/disable"),
        format!("/v1/admin/users/{left}/disable"),
    );
    let (x, y) = tokio::join!(
        s.call("POST", &disable_demoted, Some(&left_token), None),
        s.call("POST", &disable_left, Some(&demoted_token), None),
    );
    let oks = [x.0, y.0].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(oks, 1, "{x:?} {y:?}");
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(admins, 1);
}

/// The TOTP code for `secret` (base32) and `email`, `ahead_secs` from now.
fn totp_code(secret: &str, email: &str, ahead_secs: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Outpost".into()),
        email.to_owned(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now + ahead_secs)
}

/// Enrols an authenticator for a signed-in user; returns its secret.
async fn enrol(s: &Server, token: &str, email: &str, password: &str) -> String {
    let (status, setup) = s
        .call(
            "POST",
            "/v1/auth/totp/setup",
            Some(token),
            Some(json!({ "password": password })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["secret_base32"].as_str().unwrap().to_owned();
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/totp/enable",
            Some(token),
            Some(json!({ "code": totp_code(&secret, email, 0) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    secret
}

/// `GET /v1/admin/users`: the people list with each person's second-factor state, never the
/// secret; for admins only.
async fn the_people_list_says_who_has_a_second_factor(s: Server) {
    let admin = s.admin_token().await;
    let (ana, agent_token, password) = s
        .user_with_password("ana@acme.example", "agent", &["support"])
        .await;
    let list = |token: Option<String>| {
        let s = &s;
        async move {
            s.call("GET", "/v1/admin/users", token.as_deref(), None)
                .await
        }
    };
    let factor_of = |body: &Value, id: Uuid| -> Option<bool> {
        body.as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == json!(id))
            .map(|u| u["totp_enabled"].as_bool().expect("a boolean"))
    };

    let (status, body) = list(Some(admin.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(factor_of(&body, ana), Some(false));
    let people: Vec<User> = serde_json::from_value(body.clone()).unwrap();
    let ana_row = people.iter().find(|u| u.id == ana).unwrap();
    assert_eq!(
        (ana_row.email.as_str(), ana_row.departments.as_slice()),
        ("ana@acme.example", &["support".to_owned()][..])
    );
    assert!(people.len() >= 2, "the admin is listed too");

    let secret = enrol(&s, &agent_token, "ana@acme.example", &password).await;
    let (status, body) = list(Some(admin.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(factor_of(&body, ana), Some(true));
    let text = body.to_string();
    assert!(
        !text.contains(&secret),
        "the secret never leaves the server"
    );
    assert!(!text.contains("totp_secret") && !text.contains("totp_pending"));

    let (status, _) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{ana}/reset-totp"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = list(Some(admin.clone())).await;
    assert_eq!(factor_of(&body, ana), Some(false));

    let (_, lead) = s.user("lead@acme.example", "supervisor", &[]).await;
    let (status, body) = list(Some(lead)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _) = list(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn enable_and_resets_end_sessions_and_are_audited(s: Server) {
    let admin = s.admin_token().await;
    let (id, _, password) = s
        .user_with_password("ana@acme.example", "agent", &["support"])
        .await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    for path in ["enable", "reset-password", "reset-totp"] {
        let (status, _) = s
            .call(
                "POST",
                &format!("/v1/admin/users/{id}/{path}"),
                Some(&supervisor),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _) = s
            .call(
                "POST",
                &format!("/v1/admin/users/{}/{path}", Uuid::now_v7()),
                Some(&admin),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }

    let (status, _) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{id}/disable"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, detail) = last_event(&s, "user.disable").await.unwrap();
    assert_eq!(
        (
            detail["before"]["active"].clone(),
            detail["after"]["active"].clone()
        ),
        (json!(true), json!(false))
    );
    let (status, _) = login_status(&s, "ana@acme.example", &password).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{id}/enable"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["active"], true);
    let (_, detail) = last_event(&s, "user.enable").await.unwrap();
    assert_eq!(detail["after"]["active"], true);
    let session = s.login("ana@acme.example", &password).await;
    let token = session["access_token"].as_str().unwrap().to_owned();

    // Second factor: enrolled, then reset by an admin.
    enrol(&s, &token, "ana@acme.example", &password).await;
    let (status, body) = login_status(&s, "ana@acme.example", &password).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
    let (status, body) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{id}/reset-totp"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], json!(id));
    let (status, _) = s.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the reset ended the session"
    );
    let (_, detail) = last_event(&s, "user.reset_totp").await.unwrap();
    assert_eq!(
        (
            detail["before"]["totp"].clone(),
            detail["after"]["totp"].clone()
        ),
        (json!(true), json!(false))
    );
    let session = s.login("ana@acme.example", &password).await;

    // Password reset with a one-time password (the body must be an object).
    let (status, _) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{id}/reset-password"),
            Some(&admin),
            Some(json!([])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{id}/reset-password"),
            Some(&admin),
            Some(json!({ "invite": "password" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = s
        .call("GET", "/v1/me", session["access_token"].as_str(), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = login_status(&s, "ana@acme.example", &password).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.login(
        "ana@acme.example",
        body["one_time_password"].as_str().unwrap(),
    )
    .await;
}

async fn intake_keys_are_listed_created_and_revoked(s: Server) {
    let admin = s.admin_token().await;
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let nil = Uuid::nil();
    for token in [&agent, &supervisor] {
        for (method, path, body) in [
            ("GET", "/v1/admin/intake-keys".to_owned(), None),
            (
                "POST",
                "/v1/admin/intake-keys".to_owned(),
                Some(json!({ "name": "x" })),
            ),
            ("POST", format!("/v1/admin/intake-keys/{nil}/revoke"), None),
        ] {
            let (status, _) = s.call(method, &path, Some(token), body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        }
    }
    for body in [
        json!({ "name": "" }),
        json!({ "name": "   " }),
        json!({ "name": "x".repeat(201) }),
        json!({ "name": "a\nb" }),
        json!({ "name": "x", "channel": "pigeon" }),
        json!({ "name": "x", "key": "mine" }),
        json!(["Website form"]),
    ] {
        let (status, answer) = s
            .call(
                "POST",
                "/v1/admin/intake-keys",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
    let (status, created) = s
        .call(
            "POST",
            "/v1/admin/intake-keys",
            Some(&admin),
            Some(json!({ "name": "Website form", "channel": "web_form" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("opk_"));
    let (_, detail) = last_event(&s, "intake_key.add").await.unwrap();
    assert_eq!(detail["before"], Value::Null);
    assert_eq!(detail["after"]["name"], "Website form");
    assert!(
        !detail.to_string().contains(&key),
        "the key is never audited"
    );

    let (status, list) = s
        .call("GET", "/v1/admin/intake-keys", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let listed = list.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], json!(id));
    assert_eq!(listed[0]["channel"], "web_form");
    assert_eq!(listed[0]["revoked_at"], Value::Null);
    assert!(!list.to_string().contains(&key), "a key is shown once");

    let intake = |key: String| {
        let request = Request::post("/v1/intake")
            .header("x-outpost-key", key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({ "subject": "Refund", "requester": { "name": "Kim", "contact": "kim@example.com" } })
                    .to_string(),
            ))
            .unwrap();
        s.send(request)
    };
    assert_eq!(intake(key.clone()).await.0, StatusCode::OK);

    let (status, revoked) = s
        .call(
            "POST",
            &format!("/v1/admin/intake-keys/{id}/revoke"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(
        intake(key).await.0,
        StatusCode::UNAUTHORIZED,
        "a revoked key is refused"
    );
    let (_, detail) = last_event(&s, "intake_key.revoke").await.unwrap();
    assert_eq!(detail["before"]["revoked_at"], Value::Null);
    assert!(detail["after"]["revoked_at"].is_string());
    let (status, _) = s
        .call(
            "POST",
            &format!("/v1/admin/intake-keys/{id}/revoke"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = s
        .call(
            "POST",
            &format!("/v1/admin/intake-keys/{nil}/revoke"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Switches the organisation's two-factor requirement through the admin intent.
async fn require_two_factor(s: &Server, admin: &str, on: bool) {
    let current = outpost_server::settings::load_from(&s.db.pool)
        .await
        .unwrap();
    let mut profile = current.profile().clone();
    profile.require_two_factor = on;
    let (_, body) = s
        .push(
            admin,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::SetSettings {
                    base_version: current.organisation.version,
                    settings: SettingsDoc::Organisation(profile),
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
}

async fn a_required_second_factor_limits_sessions_to_setting_it_up(s: Server) {
    let admin = s.admin_token().await;
    let (_, _, password) = s
        .user_with_password("ana@acme.example", "agent", &["support"])
        .await;
    let before_switch = s.login("ana@acme.example", &password).await;
    require_two_factor(&s, &admin, true).await;

    let session = s.login("ana@acme.example", &password).await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    for (method, path) in [("GET", "/v1/ping"), ("GET", "/v1/sync/pull?cursor=0")] {
        let (status, body) = s.call(method, path, Some(&token), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("totp_setup_required")),
            "{path}"
        );
        assert!(body["message"].as_str().unwrap().contains("authenticator"));
    }
    let (status, _) = s
        .push(
            &token,
            Uuid::now_v7(),
            vec![(1, new_ticket(Uuid::now_v7(), "support"))],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, me) = s.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "who am I still answers: {me}");

    // A session from before the switch is limited from its next refresh on.
    let (status, refreshed) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": before_switch["refresh_token"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .call("GET", "/v1/ping", refreshed["access_token"].as_str(), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Enrolling lifts the limit on the same session, and the factor cannot be turned off.
    let secret = enrol(&s, &token, "ana@acme.example", &password).await;
    let (status, _) = s.call("GET", "/v1/ping", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/totp/disable",
            Some(&token),
            Some(
                json!({ "password": password, "code": totp_code(&secret, "ana@acme.example", 30) }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("requires"));

    // Switched off again, a user without a factor works normally.
    require_two_factor(&s, &admin, false).await;
    let admin_again = s.admin_token().await;
    let (status, _) = s.call("GET", "/v1/ping", Some(&admin_again), None).await;
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// `outpost-server init`, the real binary with stdin not a terminal (so it asks nothing).

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn server_cli(dir: &std::path::Path, url: &str, args: &[&str]) -> Run {
    let key_file = dir.join("master.key");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_outpost-server"))
        .arg("--database-url")
        .arg(url)
        .arg("--master-key-file")
        .arg(&key_file)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .env_remove("OUTPOST_DATABASE_URL")
        .env_remove("OUTPOST_MASTER_KEY")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("OUTPOST_BIND")
        .env("OUTPOST_LOG", "warn")
        .output()
        .expect("run outpost-server");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An empty database of each kind: a SQLite file in `dir`, or a new PostgreSQL database.
async fn empty_database(postgres: bool, dir: &std::path::Path) -> String {
    if !postgres {
        return format!("sqlite://{}", dir.join("outpost.db").display());
    }
    let base = std::env::var("OUTPOST_TEST_PG_URL").expect("OUTPOST_TEST_PG_URL is not set");
    let name = format!("outpost_test_{}", Uuid::now_v7().simple());
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

async fn init_takes_the_name_time_zone_and_hours(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let url = empty_database(postgres, dir.path()).await;
    let good = [
        "init",
        "--org-name",
        "Loja Lisboa",
        "--admin-email",
        "boss@lisboa.example",
        "--time-zone",
        "Europe/Lisbon",
        "--hours",
        "Mon-Fri 09:00-18:00; Sat 10:00-13:00",
    ];
    let with = |flag: &str, value: &'static str| {
        let mut args = good.to_vec();
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = value;
        args
    };
    for (args, expected) in [
        (
            with("--time-zone", "Europe/Lisbn"),
            "--time-zone: \"Europe/Lisbn\" is not an IANA time zone",
        ),
        (
            with("--hours", "Mon-Fir 09:00-18:00"),
            "--hours: \"Fir\" is not a day",
        ),
        (
            with("--hours", "Mon-Fri 18:00-09:00"),
            "--hours: \"18:00-09:00\" ends before it starts",
        ),
        (with("--admin-email", "boss"), "--admin-email"),
        (
            [&["init"][..], &good[3..]].concat(),
            "--org-name is required (no terminal to ask on)",
        ),
    ] {
        let run = server_cli(dir.path(), &url, &args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(
            !dir.path().join("master.key").exists(),
            "a refused init writes nothing"
        );
    }

    let run = server_cli(dir.path(), &url, &good);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("business hours Mon–Fri 09:00–18:00; Sat 10:00–13:00 (Europe/Lisbon)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("To sign in:") && run.stdout.contains("http://127.0.0.1:8750"));
    let last = run.stdout.lines().last().unwrap();
    assert!(last.starts_with("Admin boss@lisboa.example ("), "{last}");
    let password = last.rsplit_once("one-time password: ").unwrap().1.trim();

    let db = outpost_server::db::Db::connect(&url).await.unwrap();
    let settings = outpost_server::settings::load_from(&db.pool).await.unwrap();
    assert_eq!(settings.organisation.version, 1);
    assert_eq!(settings.profile().name, "Loja Lisboa");
    assert_eq!(settings.sla.version, 1);
    let calendar = &settings.sla_settings().calendar;
    assert_eq!(calendar.tz, chrono_tz::Europe::Lisbon);
    assert_eq!(calendar.name, "Mon–Fri 09:00–18:00; Sat 10:00–13:00");
    assert_eq!(
        (
            calendar.weekly.saturday[0].start_minute,
            calendar.weekly.saturday[0].end_minute
        ),
        (600, 780)
    );
    assert!(calendar.weekly.sunday.is_empty());
    let (_, hash) = outpost_server::users::by_email(&db.pool, "boss@lisboa.example")
        .await
        .unwrap()
        .unwrap();
    assert!(outpost_server::auth::verify_password(password, &hash));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit WHERE action = 'settings.set' AND actor = 'system'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 2, "the profile and the calendar, audited");

    let again = server_cli(dir.path(), &url, &good);
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("already has an organisation"),
        "{}",
        again.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_init_takes_the_name_time_zone_and_hours() {
    init_takes_the_name_time_zone_and_hours(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_init_takes_the_name_time_zone_and_hours() {
    init_takes_the_name_time_zone_and_hours(true).await;
}

/// Without a terminal and without `--time-zone` or `--hours` (scripts written before them, with
/// the old `--org`), `init` keeps the default calendar and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_init_without_hours_keeps_the_default_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let url = empty_database(false, dir.path()).await;
    let run = server_cli(
        dir.path(),
        &url,
        &[
            "init",
            "--org",
            "Acme",
            "--admin-email",
            "admin@acme.example",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("No --time-zone or --hours given"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(Asia/Shanghai)"), "{}", run.stdout);
    assert!(run
        .stdout
        .lines()
        .last()
        .unwrap()
        .contains("one-time password: "));
}

/// Weekly hours with the same intervals (minutes from midnight) every day.
fn every_day(intervals: &[(u16, u16)]) -> Value {
    let day: Vec<Value> = intervals
        .iter()
        .map(|(start, end)| json!({ "start_minute": start, "end_minute": end }))
        .collect();
    json!({
        "monday": day, "tuesday": day, "wednesday": day, "thursday": day,
        "friday": day, "saturday": day, "sunday": day
    })
}

async fn shifts_are_validated_audited_pulled_and_cleared(s: Server) {
    let admin = s.admin_token().await;
    let (ana, _) = s.user("ana@acme.example", "agent", &["support"]).await;
    let (_, colleague) = s.user("bo@acme.example", "agent", &["support"]).await;
    let path = format!("/v1/admin/users/{ana}");
    let shifts = every_day(&[(540, 720), (780, 1080)]);
    let (status, _) = s
        .call(
            "PATCH",
            &path,
            Some(&colleague),
            Some(json!({ "shifts": shifts })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let before = audit_rows(&s).await;
    for (bad, needle) in [
        (every_day(&[(540, 720), (700, 800)]), "overlap"),
        (every_day(&[(600, 540)]), "ends before it starts"),
        (every_day(&[(600, 1500)]), "past midnight"),
    ] {
        let (status, answer) = s
            .call("PATCH", &path, Some(&admin), Some(json!({ "shifts": bad })))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert!(answer.to_string().contains(needle), "{answer}");
    }
    let (status, _) = s
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({ "shifts": { "monday": "9-5" } })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(audit_rows(&s).await, before, "refusals audit nothing");

    let cursor = s.pull_all(&colleague).await.cursor;
    let (status, user) = s
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({ "shifts": shifts })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["shifts"], shifts);
    let user: User = serde_json::from_value(user).unwrap();
    let weekly = user.shifts.clone().expect("a schedule");
    assert_eq!(weekly.wednesday.len(), 2);
    let (_, detail) = last_event(&s, "user.update").await.unwrap();
    assert_eq!(detail["before"]["shifts"], Value::Null);
    assert_eq!(detail["after"]["shifts"], shifts);

    // The colleague's app pulls the schedule.
    let (status, page) = s
        .call(
            "GET",
            &format!("/v1/sync/pull?cursor={cursor}&limit=100"),
            Some(&colleague),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page: outpost_core::sync::PullResponse = serde_json::from_value(page).unwrap();
    let pulled: Vec<&User> = page
        .changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::User(u) if u.id == ana => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(pulled, [&user]);

    // Other fields leave the schedule alone; `null` removes it, audited.
    let (status, renamed) = s
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({ "name": "Ana Lima" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["shifts"], shifts);
    let (status, cleared) = s
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(json!({ "shifts": null })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cleared["shifts"], Value::Null);
    let (_, detail) = last_event(&s, "user.update").await.unwrap();
    assert_eq!(detail["before"]["shifts"], shifts);
    assert_eq!(detail["after"]["shifts"], Value::Null);
    let stored = outpost_server::users::load(&s.db.pool, ana)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.shifts, None);
}

/// Creates one risk ticket through the intake API and answers its assignee.
async fn intake_assignee(s: &Server, key: &str) -> Value {
    let request = Request::post("/v1/intake")
        .header("x-outpost-key", key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({
                "subject": "账户被盗，资金被转走",
                "description": "今天凌晨收到异地登录提醒，余额被转走 5 万元",
                "requester": { "name": "王先生", "contact": "138****0000" }
            })
            .to_string(),
        ))
        .unwrap();
    let (status, created) = s.send(request).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["department"], "risk");
    created["assignee"].clone()
}

async fn off_shift_agents_are_not_dispatched(s: Server) {
    let admin = s.admin_token().await;
    let (alice, _) = s.user("alice@acme.example", "agent", &["risk"]).await;
    let (bob, _) = s.user("bob@acme.example", "agent", &["risk"]).await;
    let patch = |id: Uuid, body: Value| {
        let (s, admin) = (&s, &admin);
        async move {
            let (status, answer) = s
                .call(
                    "PATCH",
                    &format!("/v1/admin/users/{id}"),
                    Some(admin),
                    Some(body),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
    };
    // Alice has a schedule with no hours at all: never on shift, whatever the time. Bob works
    // around the clock every day: always on shift.
    patch(alice, json!({ "shifts": every_day(&[]) })).await;
    patch(bob, json!({ "shifts": every_day(&[(0, 1440)]) })).await;
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            intake_assignee(&s, &key).await,
            json!(bob),
            "the off-shift agent is skipped"
        );
    }
    // Without a schedule Alice is available again (and Bob, away, is skipped).
    patch(alice, json!({ "shifts": null })).await;
    patch(bob, json!({ "away": true })).await;
    assert_eq!(intake_assignee(&s, &key).await, json!(alice));
}

on_both_databases!(
    adding_users_validates_refuses_non_admins_and_audits,
    an_invitation_link_sets_a_password_once,
    changing_a_user_is_validated_audited_and_pulled,
    away_agents_are_not_dispatched,
    shifts_are_validated_audited_pulled_and_cleared,
    off_shift_agents_are_not_dispatched,
    the_last_admin_stays,
    enable_and_resets_end_sessions_and_are_audited,
    intake_keys_are_listed_created_and_revoked,
    a_required_second_factor_limits_sessions_to_setting_it_up,
    the_people_list_says_who_has_a_second_factor,
);
