//! The HTTP contract, run in-process against the real router on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests use `OUTPOST_TEST_PG_URL` (set by `make test`, which starts a throwaway
//! server); each test gets its own fresh database.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use outpost_core::model::Status;
use outpost_core::sync::{Mutation, PullResponse};
use serde_json::json;
use uuid::Uuid;

async fn sessions_rotate_and_reuse_revokes_the_family(s: Server) {
    let pw = s.admin_password.clone();
    let first = s.login("admin@acme.example", &pw).await;
    let token = first["access_token"].as_str().unwrap();
    let (status, me) = s.call("GET", "/v1/me", Some(token), None).await;
    assert_eq!(
        (status, me["role"].as_str()),
        (StatusCode::OK, Some("admin"))
    );

    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, second) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, reused) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(
        (status, reused["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_revoked"))
    );
    let (status, _) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": second["refresh_token"] })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the whole family is revoked after reuse"
    );

    let third = s.login("admin@acme.example", &pw).await;
    let (status, _) = s
        .call(
            "POST",
            "/v1/auth/logout",
            None,
            Some(json!({ "refresh_token": third["refresh_token"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": third["refresh_token"] })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for bad in ["", "Bearer", "garbage", "eyJzdWIiOiIx.forged"] {
        let (status, body) = s.call("GET", "/v1/me", Some(bad), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{bad:?}"
        );
    }
}

async fn failed_logins_are_rate_limited(s: Server) {
    for _ in 0..5 {
        let (status, body) = s
            .call(
                "POST",
                "/v1/auth/login",
                None,
                Some(json!({ "email": "admin@acme.example", "password": "nope" })),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
        );
    }
    let pw = s.admin_password.clone();
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({ "email": "admin@acme.example", "password": pw })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    let (status, _) = s
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({ "email": "' OR 1=1 --", "password": "' OR 1=1 --" })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is limited too"
    );
}

async fn roles_gate_administration(s: Server) {
    let (agent_id, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    for token in [&agent, &supervisor] {
        let (status, body) = s
            .call(
                "POST",
                "/v1/admin/users",
                Some(token),
                Some(json!({ "email": "x@y.z", "name": "x", "role": "admin" })),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
    }
    let admin = s.admin_token().await;
    let (status, _) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{agent_id}/disable"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s.call("GET", "/v1/me", Some(&agent), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a disabled user's live token stops working"
    );
    let (status, body) = s
        .call(
            "POST",
            "/v1/admin/users/not-a-uuid/disable",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
}

async fn push_is_ordered_idempotent_validated_and_audited(s: Server) {
    let (agent_id, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let device = Uuid::now_v7();
    let ticket = Uuid::now_v7();
    let (status, body) = s
        .push(
            &agent,
            device,
            vec![
                (1, new_ticket(ticket, "support")),
                (
                    2,
                    Mutation::SetAssignee {
                        ticket_id: ticket,
                        assignee: Some(agent_id),
                    },
                ),
                (
                    3,
                    Mutation::AddReply {
                        entry_id: Uuid::now_v7(),
                        ticket_id: ticket,
                        text: "您好，已收到".into(),
                    },
                ),
                (
                    4,
                    Mutation::SetStatus {
                        ticket_id: ticket,
                        status: Status::Closed,
                        reason: None,
                    },
                ),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        outcomes(&body),
        ["applied", "applied", "applied", "rejected"]
    );
    assert_eq!(body["results"][3]["code"], "illegal_transition");
    assert_eq!(body["results"][2]["revision"], 3);
    assert_eq!(body["last_mutation_id"], 4);

    // A retry of the whole batch is all duplicates; a gap is refused.
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![(
                3,
                Mutation::AddTag {
                    ticket_id: ticket,
                    tag: "x".into(),
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["duplicate"]);
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![(
                9,
                Mutation::AddTag {
                    ticket_id: ticket,
                    tag: "x".into(),
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["rejected"]);
    assert_eq!(body["results"][0]["code"], "mutation_gap");

    let pull = s.pull_all(&agent).await;
    let tickets: Vec<_> = pull
        .changes
        .iter()
        .filter_map(|c| match &c.kind {
            outpost_core::sync::ChangeKind::Ticket(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].key.as_deref(), Some("OP-1000"));
    assert_eq!(
        tickets[0].subject, "账户被冻结 <script>alert(1)</script>",
        "stored as text, unchanged"
    );
    assert_eq!(tickets[0].status, Status::Assigned);
    let seqs: Vec<u64> = pull.changes.iter().map(|c| c.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "changes arrive in sequence order: {seqs:?}"
    );

    // 3 applied mutations + admin/user/session events, all chained.
    let verified = outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .expect("chain intact");
    assert!(verified.count >= 3 + 4, "{verified:?}");

    // Another user cannot push with this device id.
    let (_, other) = s.user("other@acme.example", "agent", &["support"]).await;
    let (status, body) = s
        .push(
            &other,
            device,
            vec![(
                5,
                Mutation::AddTag {
                    ticket_id: ticket,
                    tag: "x".into(),
                },
            )],
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
}

async fn agents_see_only_their_departments_and_get_revocations(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let (finance_ticket, support_ticket) = (Uuid::now_v7(), Uuid::now_v7());
    let (_, body) = s
        .push(
            &supervisor,
            Uuid::now_v7(),
            vec![
                (1, new_ticket(finance_ticket, "finance")),
                (2, new_ticket(support_ticket, "support")),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied"]);

    let pull = s.pull_all(&agent).await;
    assert_eq!(ticket_ids(&pull), [support_ticket]);
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::AddTag {
                    ticket_id: finance_ticket,
                    tag: "x".into(),
                },
            )],
        )
        .await;
    assert_eq!(
        body["results"][0]["code"], "ticket_not_found",
        "hidden tickets look absent"
    );

    let cursor = pull.cursor;
    let (_, body) = s
        .push(
            &supervisor,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::SetDepartment {
                    ticket_id: support_ticket,
                    department: Some("risk".into()),
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"]);
    let (_, body) = s
        .call(
            "GET",
            &format!("/v1/sync/pull?cursor={cursor}"),
            Some(&agent),
            None,
        )
        .await;
    let page: PullResponse = serde_json::from_value(body).unwrap();
    let revoked: Vec<_> = page
        .changes
        .iter()
        .filter_map(|c| match c.kind {
            outpost_core::sync::ChangeKind::Revoke { ticket_id } => Some(ticket_id),
            _ => None,
        })
        .collect();
    assert_eq!(revoked, [support_ticket]);
    assert!(ticket_ids(&page).is_empty());

    let pull = s.pull_all(&supervisor).await;
    assert_eq!(
        ticket_ids(&pull).len(),
        2,
        "supervisors see every department"
    );
    let (_, body) = s
        .call("GET", "/v1/sync/pull?cursor=999999", Some(&agent), None)
        .await;
    assert_eq!(body["reset_required"], true);
}

async fn malformed_requests_get_clear_errors_and_change_nothing(s: Server) {
    let admin = s.admin_token().await;
    let before = outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap()
        .count;
    let raw = |body: Vec<u8>| {
        Request::builder()
            .method("POST")
            .uri("/v1/sync/push")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    for body in [
        b"{bad json".to_vec(),
        b"{\"device_id\": 5, \"mutations\": []}".to_vec(),
        vec![b'"', 0xff, 0xfe, b'"'],
    ] {
        let (status, response) = s.send(raw(body)).await;
        assert_eq!(
            (status, response["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{response}"
        );
        assert!(!response["message"].as_str().unwrap().is_empty());
    }
    let (status, response) = s.send(raw(vec![b' '; 70 * 1024])).await;
    assert_eq!(
        (status, response["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );

    let ticket = Uuid::now_v7();
    let too_many: Vec<_> = (1..=501)
        .map(|i| {
            (
                i,
                Mutation::AddTag {
                    ticket_id: ticket,
                    tag: "x".into(),
                },
            )
        })
        .collect();
    let (status, _) = s.push(&admin, Uuid::now_v7(), too_many).await;
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::PAYLOAD_TOO_LARGE,
        "{status}"
    );
    let (status, body) = s
        .call("GET", "/v1/sync/pull?cursor=-1", Some(&admin), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );

    let after = outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap()
        .count;
    assert_eq!(
        after, before,
        "refused requests leave no trace in the audit chain"
    );
}

async fn audit_verification_names_a_tampered_event(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let ticket = Uuid::now_v7();
    s.push(
        &agent,
        Uuid::now_v7(),
        vec![(1, new_ticket(ticket, "support"))],
    )
    .await;
    let verified = outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap();
    // The database refuses to change an event; an attacker drops the guards first.
    let refused = sqlx::query("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
        .execute(&s.db.pool)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains(outpost_server::db::AUDIT_APPEND_ONLY),
        "{refused}"
    );
    drop_audit_guards(&s.db).await;
    let original: String = sqlx::query_scalar("SELECT actor FROM audit WHERE seq = 2")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
        .execute(&s.db.pool)
        .await
        .unwrap();
    let broken = outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, 2);
    assert!(verified.count >= 4);

    // Put it back; then deleting the newest event is caught too: the chain ends before the
    // counter says it should.
    sqlx::query("UPDATE audit SET actor = $1 WHERE seq = 2")
        .bind(original)
        .execute(&s.db.pool)
        .await
        .unwrap();
    assert!(outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .is_ok());
    let last = verified.head.last_seq as i64;
    sqlx::query("DELETE FROM audit WHERE seq = $1")
        .bind(last)
        .execute(&s.db.pool)
        .await
        .unwrap();
    let broken = outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, last as u64);
    assert!(
        broken.to_string().contains("newest events were removed"),
        "{broken}"
    );
}

async fn totp_becomes_required_once_enabled_and_codes_are_single_use(s: Server) {
    let (_, token, password) = s
        .user_with_password("agent@acme.example", "agent", &["support"])
        .await;
    let (status, setup) = s
        .call(
            "POST",
            "/v1/auth/totp/setup",
            Some(&token),
            Some(json!({ "password": password })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let secret = setup["secret_base32"].as_str().unwrap().to_owned();
    assert!(setup["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let code = |at: u64| {
        totp_rs::TOTP::new(
            totp_rs::Algorithm::SHA1,
            6,
            1,
            30,
            totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap(),
            Some("Outpost".into()),
            "agent@acme.example".into(),
        )
        .unwrap()
        .generate(at)
    };
    let now = (outpost_server::db::now_millis() / 1000) as u64;
    let (status, _) = s
        .call(
            "POST",
            "/v1/auth/totp/enable",
            Some(&token),
            Some(json!({ "code": "000000" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/totp/enable",
            Some(&token),
            Some(json!({ "code": code(now) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Sign-in now needs a code; the one used to enable is spent.
    let id: Uuid = s.call("GET", "/v1/me", Some(&token), None).await.1["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let password = outpost_server::auth::random_token(12).unwrap();
    let hash = outpost_server::auth::hash_password(&password).unwrap();
    let mut tx = s.db.begin_write().await.unwrap();
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let login = |totp: Option<String>| json!({ "email": "agent@acme.example", "password": password, "totp": totp });
    let (status, body) = s
        .call("POST", "/v1/auth/login", None, Some(login(None)))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
    let (status, _) = s
        .call("POST", "/v1/auth/login", None, Some(login(Some(code(now)))))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a spent code is refused");
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(login(Some(code(now + 30)))),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn concurrent_description_edits_keep_both_and_report_a_conflict(s: Server) {
    let (_, a) = s.user("a@acme.example", "agent", &["support"]).await;
    let (_, b) = s.user("b@acme.example", "agent", &["support"]).await;
    let ticket = Uuid::now_v7();
    let (_, body) = s
        .push(&a, Uuid::now_v7(), vec![(1, new_ticket(ticket, "support"))])
        .await;
    assert_eq!(body["results"][0]["revision"], 1);
    let edit = |text: &str, base: u64| {
        json!({
            "device_id": Uuid::now_v7(),
            "mutations": [{
                "mutation_id": 1,
                "client_time": now(),
                "base_revision": base,
                "mutation": { "name": "ticket.set_description", "args": { "ticket_id": ticket, "description": text } }
            }]
        })
    };
    let (_, first) = s
        .call(
            "POST",
            "/v1/sync/push",
            Some(&a),
            Some(edit("A's wording", 1)),
        )
        .await;
    assert_eq!(first["results"][0]["outcome"], "applied", "{first}");
    let (_, second) = s
        .call(
            "POST",
            "/v1/sync/push",
            Some(&b),
            Some(edit("B's wording", 1)),
        )
        .await;
    let result = &second["results"][0];
    assert_eq!(result["outcome"], "conflict", "{second}");
    assert_eq!(result["fields"][0]["field"], "description");
    assert_eq!(result["fields"][0]["yours"], "B's wording");
    assert_eq!(result["fields"][0]["winner"], "A's wording");

    let pull = s.pull_all(&a).await;
    let mut description = None;
    let mut kept = false;
    for change in &pull.changes {
        match &change.kind {
            outpost_core::sync::ChangeKind::Ticket(t) if t.id == ticket => {
                description = Some(t.description.clone());
            }
            outpost_core::sync::ChangeKind::Entry(e) => {
                if let outpost_core::model::EntryBody::Note { text } = &e.body {
                    kept |= text.contains("B's wording");
                }
            }
            _ => {}
        }
    }
    assert_eq!(description.as_deref(), Some("A's wording"));
    assert!(kept, "the losing text is kept as an internal note");

    // An edit based on the current revision is not a conflict.
    let current = body_revision(&s, &a, ticket).await;
    let (_, third) = s
        .call(
            "POST",
            "/v1/sync/push",
            Some(&b),
            Some(edit("B, after reading A", current)),
        )
        .await;
    assert_eq!(third["results"][0]["outcome"], "applied", "{third}");
}

async fn body_revision(s: &Server, token: &str, ticket: Uuid) -> u64 {
    s.pull_all(token)
        .await
        .changes
        .iter()
        .find_map(|c| match &c.kind {
            outpost_core::sync::ChangeKind::Ticket(t) if t.id == ticket => Some(t.revision),
            _ => None,
        })
        .unwrap()
}

async fn removing_a_department_makes_the_agent_rebootstrap_without_it(s: Server) {
    let (agent_id, agent) = s
        .user("agent@acme.example", "agent", &["support", "finance"])
        .await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let (support_ticket, finance_ticket) = (Uuid::now_v7(), Uuid::now_v7());
    s.push(
        &supervisor,
        Uuid::now_v7(),
        vec![
            (1, new_ticket(support_ticket, "support")),
            (2, new_ticket(finance_ticket, "finance")),
        ],
    )
    .await;
    let device = Uuid::now_v7();
    // Bootstraps with the device id, page by page, as the client does.
    let bootstrap = || async {
        let mut cursor = 0;
        let mut tickets = Vec::new();
        for _ in 0..100 {
            let uri = format!("/v1/sync/pull?cursor={cursor}&limit=7&device_id={device}");
            let (_, body) = s.call("GET", &uri, Some(&agent), None).await;
            let page: PullResponse = serde_json::from_value(body).unwrap();
            assert!(
                !page.reset_required,
                "a bootstrap in progress is never reset"
            );
            tickets.extend(ticket_ids(&page));
            cursor = page.cursor;
            if !page.has_more {
                return (tickets, cursor);
            }
        }
        panic!("bootstrap did not finish");
    };
    let (before, cursor) = bootstrap().await;
    assert_eq!(before.len(), 2);

    let path = format!("/v1/admin/users/{agent_id}/departments");
    let (status, _) = s
        .call(
            "POST",
            &path,
            Some(&supervisor),
            Some(json!({ "departments": ["support"] })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = s.admin_token().await;
    let (status, body) = s
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(json!({ "departments": ["nope"] })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let (status, _) = s
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(json!({ "departments": ["support"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let uri = format!("/v1/sync/pull?cursor={cursor}&device_id={device}");
    let (_, body) = s.call("GET", &uri, Some(&agent), None).await;
    assert_eq!(body["reset_required"], true, "{body}");
    let (after, cursor) = bootstrap().await;
    assert_eq!(
        after,
        [support_ticket],
        "the re-bootstrap no longer contains finance"
    );
    let (_, body) = s
        .call(
            "GET",
            &format!("/v1/sync/pull?cursor={cursor}&device_id={device}"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(body["reset_required"], false, "caught up again");
}

/// Concurrent pushes share group transactions: each keeps its own outcome (a refused push does
/// not fail its neighbours), keys and sequence numbers stay unique and gap-free, and the audit
/// chain stays intact.
async fn concurrent_pushes_are_grouped_without_interference(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, other) = s.user("other@acme.example", "agent", &["support"]).await;
    let taken = Uuid::now_v7();
    let (status, _) = s
        .push(
            &other,
            taken,
            vec![(1, new_ticket(Uuid::now_v7(), "support"))],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let devices: Vec<Uuid> = (0..40).map(|_| Uuid::now_v7()).collect();
    let pushes = devices.iter().map(|device| {
        let ticket = Uuid::now_v7();
        s.push(
            &agent,
            *device,
            vec![
                (1, new_ticket(ticket, "support")),
                (
                    2,
                    Mutation::AddTag {
                        ticket_id: ticket,
                        tag: "vip".into(),
                    },
                ),
                (
                    3,
                    Mutation::AddTag {
                        ticket_id: Uuid::now_v7(),
                        tag: "unknown ticket".into(),
                    },
                ),
            ],
        )
    });
    // A push with another user's device id, in the same burst.
    let intruder = s.push(
        &agent,
        taken,
        vec![(2, new_ticket(Uuid::now_v7(), "support"))],
    );
    let (results, refused) =
        futures_util::future::join(futures_util::future::join_all(pushes), intruder).await;
    assert_eq!(refused.0, StatusCode::CONFLICT, "{}", refused.1);
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(outcomes(body), ["applied", "applied", "rejected"]);
    }
    let pull = s.pull_all(&agent).await;
    let mut keys: Vec<u64> = pull
        .changes
        .iter()
        .filter_map(|c| match &c.kind {
            outpost_core::sync::ChangeKind::Ticket(t) => {
                t.key.as_deref()?.strip_prefix("OP-")?.parse().ok()
            }
            _ => None,
        })
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        (1000..1041).collect::<Vec<u64>>(),
        "one key per ticket, none skipped"
    );
    let seqs: Vec<u64> = pull.changes.iter().map(|c| c.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "unique, ordered: {seqs:?}"
    );
    // Pages of 7 (bounded by sequence numbers first) carry exactly what one big page does.
    let (status, body) = s
        .call(
            "GET",
            "/v1/sync/pull?cursor=0&limit=1000",
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let whole: PullResponse = serde_json::from_value(body).unwrap();
    assert!(!whole.has_more);
    assert_eq!(
        whole.changes, pull.changes,
        "paging skips or repeats nothing"
    );
    let verified = outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .expect("chain intact");
    assert!(verified.count >= 41 * 2, "{verified:?}");
}

/// Templates reach every role in pull pages; a replaced template arrives again with its new body.
async fn templates_reach_clients_in_pull_pages(s: Server) {
    let (_, agent) = s.user("tpl-agent@example.com", "agent", &["support"]).await;
    let mut demo = outpost_server::templates::demo();
    let mut tx = s.db.begin_write().await.expect("a write transaction");
    for template in &demo {
        outpost_server::templates::put(&mut tx, template)
            .await
            .expect("put a template");
    }
    tx.commit().await.expect("commit");
    let templates = |pull: &PullResponse| {
        let mut found: Vec<outpost_core::model::Template> = pull
            .changes
            .iter()
            .filter_map(|c| match &c.kind {
                outpost_core::sync::ChangeKind::Template(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        found.sort_by_key(|t| t.id);
        found
    };
    assert_eq!(templates(&s.pull_all(&agent).await), demo);

    demo[0].body = "Hello {{customer.name}}, replaced.".into();
    let mut tx = s.db.begin_write().await.expect("a write transaction");
    outpost_server::templates::put(&mut tx, &demo[0])
        .await
        .expect("replace");
    let mut bad = demo[1].clone();
    bad.body = "{{customer.password}}".into();
    assert!(outpost_server::templates::put(&mut tx, &bad).await.is_err());
    tx.commit().await.expect("commit");
    let after = templates(&s.pull_all(&agent).await);
    assert_eq!(
        after, demo,
        "one row per template, the latest body, the refused one unchanged"
    );
}

async fn mutation_ids_outside_the_stored_range_are_refused(s: Server) {
    let (_, agent) = s.user("a@acme.example", "agent", &["support"]).await;
    let device = Uuid::now_v7();
    // Stored as BIGINT, 2^63 and u64::MAX used to wrap to negative numbers and read as
    // already applied ("duplicate"); 0 was never a valid id either.
    for id in [1u64 << 63, u64::MAX, 0] {
        let ticket = Uuid::now_v7();
        let (status, body) = s
            .push(&agent, device, vec![(id, new_ticket(ticket, "support"))])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let result = &body["results"][0];
        assert_eq!(result["outcome"], "rejected", "{id}: {body}");
        assert_eq!(result["code"], "invalid", "{body}");
        assert!(
            result["reason"]
                .as_str()
                .unwrap()
                .contains("9223372036854775807"),
            "{body}"
        );
        assert_eq!(result["mutation_id"], id, "{body}");
        assert_eq!(body["last_mutation_id"], 0, "{body}");
    }
    assert!(ticket_ids(&s.pull_all(&agent).await).is_empty());
    // The device's sequence did not move: its next real mutation is still number 1, and the
    // largest valid id is accepted as an id (it is refused only as a gap).
    let ticket = Uuid::now_v7();
    let (_, body) = s
        .push(&agent, device, vec![(1, new_ticket(ticket, "support"))])
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![(i64::MAX as u64, new_ticket(Uuid::now_v7(), "support"))],
        )
        .await;
    assert_eq!(body["results"][0]["code"], "mutation_gap", "{body}");
    assert_eq!(ticket_ids(&s.pull_all(&agent).await), [ticket]);
}

on_both_databases!(
    templates_reach_clients_in_pull_pages,
    sessions_rotate_and_reuse_revokes_the_family,
    failed_logins_are_rate_limited,
    roles_gate_administration,
    push_is_ordered_idempotent_validated_and_audited,
    agents_see_only_their_departments_and_get_revocations,
    malformed_requests_get_clear_errors_and_change_nothing,
    audit_verification_names_a_tampered_event,
    totp_becomes_required_once_enabled_and_codes_are_single_use,
    concurrent_description_edits_keep_both_and_report_a_conflict,
    removing_a_department_makes_the_agent_rebootstrap_without_it,
    concurrent_pushes_are_grouped_without_interference,
    mutation_ids_outside_the_stored_range_are_refused,
);
