//! The HTTP contract, run in-process against the real router on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests use `OUTPOST_TEST_PG_URL` (set by `make test`, which starts a throwaway
//! server); each test gets its own fresh database.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use outpost_core::model::{
    Category, Channel, CustomerTier, Priority, Requester, RiskLevel, Status,
};
use outpost_core::sync::{Mutation, MutationEnvelope, NewTicket, PullResponse, PushRequest};
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::{admin, router, AppState};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

struct Server {
    app: Router,
    db: Db,
    admin_password: String,
    _dir: Option<tempfile::TempDir>,
}

async fn start(url: String, dir: Option<tempfile::TempDir>) -> Server {
    let db = Db::connect(&url).await.expect("connect");
    let init = admin::init(&db, "Acme", "admin@acme.example", "Admin")
        .await
        .expect("init");
    let config = Config {
        login_attempts_per_minute: 5,
        max_body_bytes: 64 * 1024,
        ..Config::default()
    };
    let state = AppState::new(db.clone(), config).await.expect("state");
    Server {
        app: router(state),
        db,
        admin_password: init.one_time_password,
        _dir: dir,
    }
}

async fn sqlite() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("outpost.db").display());
    start(url, Some(dir)).await
}

async fn postgres() -> Server {
    let base = std::env::var("OUTPOST_TEST_PG_URL").expect(
        "OUTPOST_TEST_PG_URL is not set: run the suite with `make test`, which starts PostgreSQL",
    );
    let name = format!("outpost_test_{}", Uuid::now_v7().simple());
    // A plain pool: `Db::connect` would run migrations in the shared admin database.
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').unwrap();
    start(format!("{prefix}/{name}"), None).await
}

impl Server {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{status}: body is not JSON: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, value)
    }

    async fn login(&self, email: &str, password: &str) -> Value {
        let (status, body) = self
            .call(
                "POST",
                "/v1/auth/login",
                None,
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn admin_token(&self) -> String {
        let pw = self.admin_password.clone();
        self.login("admin@acme.example", &pw).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Adds a user through the API and signs them in; returns (user id, access token).
    async fn user(&self, email: &str, role: &str, departments: &[&str]) -> (Uuid, String) {
        let admin = self.admin_token().await;
        let (status, body) = self
            .call(
                "POST",
                "/v1/admin/users",
                Some(&admin),
                Some(json!({ "email": email, "name": email, "role": role, "departments": departments })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session = self
            .login(email, body["one_time_password"].as_str().unwrap())
            .await;
        (
            body["user"]["id"].as_str().unwrap().parse().unwrap(),
            session["access_token"].as_str().unwrap().to_owned(),
        )
    }

    async fn push(
        &self,
        token: &str,
        device: Uuid,
        mutations: Vec<(u64, Mutation)>,
    ) -> (StatusCode, Value) {
        let request = PushRequest {
            device_id: device,
            mutations: mutations
                .into_iter()
                .map(|(id, mutation)| MutationEnvelope {
                    mutation_id: id,
                    client_time: now(),
                    base_revision: None,
                    mutation,
                })
                .collect(),
        };
        self.call(
            "POST",
            "/v1/sync/push",
            Some(token),
            Some(serde_json::to_value(request).unwrap()),
        )
        .await
    }

    async fn pull_all(&self, token: &str) -> PullResponse {
        let mut cursor = 0;
        let mut all = Vec::new();
        loop {
            let (status, body) = self
                .call(
                    "GET",
                    &format!("/v1/sync/pull?cursor={cursor}&limit=7"),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page: PullResponse = serde_json::from_value(body).unwrap();
            assert!(page.changes.len() <= 7);
            all.extend(page.changes);
            cursor = page.cursor;
            if !page.has_more {
                return PullResponse {
                    changes: all,
                    cursor,
                    has_more: false,
                    last_mutation_id: page.last_mutation_id,
                    reset_required: false,
                };
            }
        }
    }
}

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

fn new_ticket(id: Uuid, department: &str) -> Mutation {
    Mutation::CreateTicket(NewTicket {
        id,
        subject: "账户被冻结 <script>alert(1)</script>".into(),
        description: "'; DROP TABLE tickets; --".into(),
        requester: Requester {
            name: "王先生".into(),
            contact: "w@example.com".into(),
            account_id: None,
            tier: CustomerTier::Vip,
        },
        channel: Channel::Email,
        language: "zh-CN".into(),
        category: Category::AccountRestricted,
        priority: Priority::P2,
        risk: RiskLevel::None,
        department: Some(department.into()),
        tags: Default::default(),
    })
}

fn outcomes(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

fn ticket_ids(pull: &PullResponse) -> Vec<Uuid> {
    pull.changes
        .iter()
        .filter_map(|c| match &c.kind {
            outpost_core::sync::ChangeKind::Ticket(t) => Some(t.id),
            _ => None,
        })
        .collect()
}

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
}

macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() { super::$scenario(super::sqlite().await).await })*
        }
        mod postgres_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() { super::$scenario(super::postgres().await).await })*
        }
    };
}

on_both_databases!(
    sessions_rotate_and_reuse_revokes_the_family,
    failed_logins_are_rate_limited,
    roles_gate_administration,
    push_is_ordered_idempotent_validated_and_audited,
    agents_see_only_their_departments_and_get_revocations,
    malformed_requests_get_clear_errors_and_change_nothing,
    audit_verification_names_a_tampered_event,
);
