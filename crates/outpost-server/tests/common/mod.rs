//! Shared harness: the real router in-process over SQLite or a fresh PostgreSQL database.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the shared harness"
)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use outpost_core::model::{Category, Channel, CustomerTier, Priority, Requester, RiskLevel};
use outpost_core::sync::{Mutation, MutationEnvelope, NewTicket, PullResponse, PushRequest};
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::secrets::MasterKey;
use outpost_server::{admin, router, AppState};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

pub struct Server {
    pub app: Router,
    pub state: AppState,
    pub url: String,
    pub db: Db,
    pub admin_password: String,
    /// The master key the database's secrets are sealed with (kept by the harness, as a key
    /// file or environment would keep it: never in the database).
    pub master_key: MasterKey,
    _dir: Option<tempfile::TempDir>,
}

pub async fn start(url: String, dir: Option<tempfile::TempDir>) -> Server {
    let db = Db::connect(&url).await.expect("connect");
    let master_key = MasterKey::generate().unwrap();
    let init = admin::init(&db, &master_key, "Acme", "admin@acme.example", "Admin")
        .await
        .expect("init");
    let config = Config {
        // The real URL, so the blob store sits beside a SQLite database as in production.
        database_url: url.clone(),
        login_attempts_per_minute: 5,
        max_body_bytes: 64 * 1024,
        max_streams_per_user: 3,
        ..Config::default()
    };
    let state = AppState::new(db.clone(), config, master_key.clone())
        .await
        .expect("state");
    Server {
        app: router(state.clone()),
        state,
        url,
        db,
        admin_password: init.one_time_password,
        master_key,
        _dir: dir,
    }
}

pub async fn sqlite() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("outpost.db").display());
    start(url, Some(dir)).await
}

pub async fn postgres() -> Server {
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
    pub async fn call(
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

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
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

    pub async fn login(&self, email: &str, password: &str) -> Value {
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

    pub async fn admin_token(&self) -> String {
        let pw = self.admin_password.clone();
        self.login("admin@acme.example", &pw).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Adds a user through the API and signs them in; returns (user id, access token).
    pub async fn user(&self, email: &str, role: &str, departments: &[&str]) -> (Uuid, String) {
        let (id, token, _) = self.user_with_password(email, role, departments).await;
        (id, token)
    }

    /// [`Server::user`], also returning the user's password.
    pub async fn user_with_password(
        &self,
        email: &str,
        role: &str,
        departments: &[&str],
    ) -> (Uuid, String, String) {
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
        let password = body["one_time_password"].as_str().unwrap().to_owned();
        let session = self.login(email, &password).await;
        (
            body["user"]["id"].as_str().unwrap().parse().unwrap(),
            session["access_token"].as_str().unwrap().to_owned(),
            password,
        )
    }

    pub async fn push(
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

    pub async fn pull_all(&self, token: &str) -> PullResponse {
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

/// What an attacker with database access does first: removes the triggers that make `audit`
/// append-only, so rows can be edited, deleted and inserted directly.
pub async fn drop_audit_guards(db: &Db) {
    let statements: &[&str] = match db.kind {
        outpost_server::db::Kind::Sqlite => &[
            "DROP TRIGGER audit_no_update",
            "DROP TRIGGER audit_no_delete",
        ],
        outpost_server::db::Kind::Postgres => &[
            "DROP TRIGGER audit_no_update_or_delete ON audit",
            "DROP TRIGGER audit_no_truncate ON audit",
        ],
    };
    for statement in statements {
        sqlx::query(*statement).execute(&db.pool).await.unwrap();
    }
}

pub fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

pub fn new_ticket(id: Uuid, department: &str) -> Mutation {
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
        category: Category::ACCOUNT_RESTRICTED,
        priority: Priority::P2,
        risk: RiskLevel::None,
        department: Some(department.into()),
        tags: Default::default(),
    })
}

pub fn outcomes(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

pub fn ticket_ids(pull: &PullResponse) -> Vec<Uuid> {
    pull.changes
        .iter()
        .filter_map(|c| match &c.kind {
            outpost_core::sync::ChangeKind::Ticket(t) => Some(t.id),
            _ => None,
        })
        .collect()
}

/// How many sessions of this test's database wait for a lock (PostgreSQL); SQLite writers queue
/// on the server's writer slot instead, which nothing outside can see.
pub async fn lock_waiters(s: &Server) -> i64 {
    match s.db.kind {
        outpost_server::db::Kind::Postgres => sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&s.db.pool)
        .await
        .unwrap(),
        outpost_server::db::Kind::Sqlite => i64::MAX,
    }
}

/// Waits (bounded) until `n` writers queue behind the held transaction.
pub async fn until_waiting(s: &Server, n: i64) {
    for _ in 0..600 {
        if lock_waiters(s).await >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{n} writers never queued");
}

/// Generates one test per scenario per backend: `sqlite_backend::x` and `postgres_backend::x`.
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
