//! The real `outpost-server` as a child process on 127.0.0.1, on SQLite or PostgreSQL.
//!
//! Creating an organisation costs a dozen Argon2id hashes (a few seconds in a debug build), so
//! each backend's organisation is made once per test process — `init`, `demo --tickets 50`,
//! three agents and a few open tickets — and every test serves its own copy: a copied SQLite
//! file, or a PostgreSQL database created from the template database.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use outpost_core::model::{Category, Channel, CustomerTier, Priority, Requester, RiskLevel};
use outpost_core::sync::{
    ChangeKind, LoginRequest, Mutation, MutationEnvelope, NewTicket, PullResponse, PushRequest,
    PushResponse, Session,
};
use serde_json::json;
use sqlx::Connection;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::process::{run_to_end, server_bin, tail, ChildGuard};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A user who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub email: String,
    pub password: String,
    pub id: Uuid,
}

/// The organisation every test starts from.
#[derive(Debug)]
pub struct Org {
    pub admin: Account,
    /// Agent in `support`.
    pub ann: Account,
    /// Agent in `support`.
    pub bob: Account,
    /// Agent in `support` and `finance`.
    pub cai: Account,
    template: Template,
}

enum Template {
    /// The database file and its write-ahead log, kept in memory (no file outlives the run).
    Sqlite {
        db: Vec<u8>,
        wal: Option<Vec<u8>>,
    },
    Postgres {
        base: String,
        name: String,
    },
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Template::Sqlite { db, .. } => write!(f, "Sqlite({} bytes)", db.len()),
            Template::Postgres { name, .. } => write!(f, "Postgres({name})"),
        }
    }
}

const COMMAND_LIMIT: Duration = Duration::from_secs(120);
const READY_LIMIT: Duration = Duration::from_secs(30);

static SQLITE_ORG: OnceCell<Org> = OnceCell::const_new();
static POSTGRES_ORG: OnceCell<Org> = OnceCell::const_new();

fn pg_base() -> String {
    std::env::var("OUTPOST_TEST_PG_URL").expect(
        "OUTPOST_TEST_PG_URL is not set: run the suite with `make test`, or under \
         scripts/with-postgres.sh, which starts a throwaway PostgreSQL",
    )
}

/// `postgres://…/postgres` → `postgres://…/<name>`.
fn pg_url(base: &str, name: &str) -> String {
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("a PostgreSQL URL ends in /<database>");
    format!("{prefix}/{name}")
}

async fn pg_execute(base: &str, sql: String) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::postgres::PgConnection::connect(base).await?;
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .map(|_| ());
    let _ = conn.close().await;
    result
}

/// The master key every server of this run seals its secrets with, handed over as
/// `OUTPOST_MASTER_KEY` (the template's copies need the key the template was made with).
fn master_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("randomness from the OS");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    })
}

fn admin_command(database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(server_bin());
    command
        .arg("--database-url")
        .arg(database_url)
        .args(args)
        .env("OUTPOST_MASTER_KEY", master_key())
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("OUTPOST_LOG", "warn")
        .env_remove("OUTPOST_BIND")
        .env_remove("OUTPOST_DATABASE_URL");
    command
}

/// `… (<uuid>) …one-time password: <password>` as printed by `init` and `user add`.
fn parse_account(email: &str, line: &str) -> Account {
    let id = line
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(id, _)| id.parse().ok())
        .unwrap_or_else(|| panic!("no user id in {line:?}"));
    let password = line.rsplit_once("password: ").map_or_else(
        || panic!("no password in {line:?}"),
        |(_, p)| p.trim().to_owned(),
    );
    Account {
        email: email.to_owned(),
        password,
        id,
    }
}

fn last_line(output: &str) -> &str {
    output.lines().last().unwrap_or_default()
}

/// Runs an admin command on the blocking pool (bounded).
async fn admin(database_url: &str, args: &[&str], name: &str, dir: &Path) -> String {
    let command = admin_command(database_url, args);
    let (name, dir) = (name.to_owned(), dir.to_owned());
    tokio::task::spawn_blocking(move || run_to_end(command, &name, &dir, COMMAND_LIMIT))
        .await
        .expect("an admin command")
}

/// Open tickets the scenarios work on (the demo's synthetic history is almost all closed).
pub const OPEN_TICKETS: &[(&str, usize)] = &[("support", 10), ("finance", 6)];

/// `init`, `demo --tickets 50` and three agents with the real binary, then open tickets created
/// by the admin through the push API of a briefly running server.
async fn make_org(database_url: &str, dir: &Path, template: Template) -> Org {
    let init = &[
        "init",
        "--org",
        "Acme",
        "--admin-email",
        "admin@acme.example",
    ];
    let out = admin(database_url, init, "init", dir).await;
    let admin_account = parse_account("admin@acme.example", last_line(&out));
    let out = admin(database_url, &["demo", "--tickets", "50"], "demo", dir).await;
    assert!(out.lines().count() >= 3, "demo printed no users:\n{out}");
    let mut agents = Vec::new();
    for (name, departments) in [
        ("ann", "support"),
        ("bob", "support"),
        ("cai", "support,finance"),
    ] {
        let email = format!("{name}@acme.example");
        let args = [
            "user",
            "add",
            "--email",
            &email,
            "--name",
            name,
            "--role",
            "agent",
            "--departments",
            departments,
        ];
        let out = admin(database_url, &args, &format!("user-add-{name}"), dir).await;
        agents.push(parse_account(&email, last_line(&out)));
    }
    let config = dir.join("server.toml");
    std::fs::write(&config, "sla_monitor_interval_secs = 3600\n").expect("write the configuration");
    let port = free_port();
    let mut child = spawn_serve(database_url, &config, port, dir, "seed-server");
    let url = format!("http://127.0.0.1:{port}");
    wait_healthy(&url, &mut child).await;
    let http = http();
    let session = login(&http, &url, &admin_account).await;
    let mut mutations = Vec::new();
    for (department, count) in OPEN_TICKETS {
        for i in 0..*count {
            mutations.push(MutationEnvelope {
                mutation_id: mutations.len() as u64 + 1,
                client_time: chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()),
                base_revision: None,
                mutation: Mutation::CreateTicket(open_ticket(department, i)),
            });
        }
    }
    let expected = mutations.len() as u64;
    let request = PushRequest {
        device_id: Uuid::now_v7(),
        mutations,
    };
    let response = http
        .post(format!("{url}/v1/sync/push"))
        .bearer_auth(&session.access_token)
        .json(&request)
        .send()
        .await
        .expect("seed push");
    assert!(
        response.status().is_success(),
        "seed push: {}",
        response.status()
    );
    let pushed: PushResponse = response.json().await.expect("a push response");
    assert_eq!(pushed.last_mutation_id, expected, "seed push: {pushed:?}");
    child.kill();
    let [ann, bob, cai]: [Account; 3] = agents.try_into().expect("three agents");
    Org {
        admin: admin_account,
        ann,
        bob,
        cai,
        template,
    }
}

fn open_ticket(department: &str, i: usize) -> NewTicket {
    NewTicket {
        id: Uuid::now_v7(),
        subject: format!("Open {department} ticket {i}: transfer still pending"),
        description: "The customer's transfer has been pending for two days.".into(),
        requester: Requester {
            name: format!("Customer {department} {i}"),
            contact: format!("customer.{department}.{i}@example.com"),
            account_id: Some(format!("ACC-{department}-{i}")),
            tier: CustomerTier::Standard,
        },
        channel: Channel::Email,
        language: "en".into(),
        category: Category::FUNDS_NOT_ARRIVED,
        priority: Priority::P3,
        risk: RiskLevel::None,
        department: Some(department.into()),
        tags: Default::default(),
    }
}

/// The organisation of `backend`, made on first use.
pub async fn org(backend: Backend) -> &'static Org {
    let cell = match backend {
        Backend::Sqlite => &SQLITE_ORG,
        Backend::Postgres => &POSTGRES_ORG,
    };
    cell.get_or_init(|| async move {
        let scratch = crate::scratch_dir();
        let dir = scratch.path();
        match backend {
            Backend::Sqlite => {
                let db = dir.join("outpost.db");
                let url = format!("sqlite://{}", db.display());
                let mut org = make_org(
                    &url,
                    dir,
                    Template::Sqlite {
                        db: Vec::new(),
                        wal: None,
                    },
                )
                .await;
                // Every process that had the file open is gone: its bytes are a consistent copy.
                org.template = Template::Sqlite {
                    db: std::fs::read(&db).expect("read the SQLite template"),
                    wal: std::fs::read(format!("{}-wal", db.display())).ok(),
                };
                org
            }
            Backend::Postgres => {
                let base = pg_base();
                let name = format!("outpost_sys_tmpl_{}", Uuid::now_v7().simple());
                pg_execute(&base, format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the PostgreSQL template database");
                let url = pg_url(&base, &name);
                make_org(&url, dir, Template::Postgres { base, name }).await
            }
        }
    })
    .await
}

impl Org {
    /// A fresh database holding this organisation; returns its URL.
    async fn copy_into(&self, dir: &Path) -> String {
        match &self.template {
            Template::Sqlite { db, wal } => {
                let target = dir.join("outpost.db");
                std::fs::write(&target, db).expect("write the SQLite copy");
                if let Some(wal) = wal {
                    std::fs::write(format!("{}-wal", target.display()), wal)
                        .expect("write the SQLite copy's WAL");
                }
                format!("sqlite://{}", target.display())
            }
            Template::Postgres { base, name } => {
                let copy = format!("outpost_sys_{}", Uuid::now_v7().simple());
                // The template must have no sessions; the admin commands that used it may
                // still be disconnecting.
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    match pg_execute(base, format!("CREATE DATABASE {copy} TEMPLATE {name}")).await
                    {
                        Ok(()) => break,
                        Err(e) if Instant::now() < deadline => {
                            eprintln!("CREATE DATABASE from the template: {e}; retrying");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Err(e) => panic!("cannot copy the PostgreSQL template: {e}"),
                    }
                }
                pg_url(base, &copy)
            }
        }
    }
}

/// A free port on 127.0.0.1 (bound and released; the server binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// An HTTP client for the harness's own calls (admin API, snapshots).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// `outpost-server serve` on `127.0.0.1:<port>`.
fn spawn_serve(database_url: &str, config: &Path, port: u16, dir: &Path, name: &str) -> ChildGuard {
    let mut command = admin_command(database_url, &["serve"]);
    command
        .arg("--config")
        .arg(config)
        .env("OUTPOST_BIND", format!("127.0.0.1:{port}"))
        .env("OUTPOST_LOG", "info");
    ChildGuard::spawn(command, name, dir)
}

async fn healthy(http: &reqwest::Client, url: &str) -> bool {
    match http.get(format!("{url}/health")).send().await {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

/// Waits until `/health` answers; panics if the server exits or takes too long.
async fn wait_healthy(url: &str, child: &mut ChildGuard) {
    let http = http();
    let deadline = Instant::now() + READY_LIMIT;
    while !healthy(&http, url).await {
        assert!(
            child.is_running(),
            "outpost-server exited:\n{}",
            tail(&child.stderr, 30)
        );
        assert!(
            Instant::now() < deadline,
            "outpost-server did not become ready within {READY_LIMIT:?}:\n{}",
            tail(&child.stderr, 30)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(http: &reqwest::Client, url: &str, account: &Account) -> Session {
    let response = http
        .post(format!("{url}/v1/auth/login"))
        .json(&LoginRequest {
            email: account.email.clone(),
            password: account.password.clone(),
            totp: None,
        })
        .send()
        .await
        .expect("login request");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "login {}: {status} {text}",
        account.email
    );
    serde_json::from_str(&text).expect("a session")
}

/// One test's server.
pub struct Server {
    pub backend: Backend,
    pub org: &'static Org,
    pub port: u16,
    database_url: String,
    dir: tempfile::TempDir,
    child: Option<ChildGuard>,
    starts: u32,
    http: reqwest::Client,
    tokens: Mutex<HashMap<String, String>>,
}

impl Server {
    /// A fresh copy of the organisation, served on a free loopback port.
    pub async fn start(backend: Backend) -> Server {
        let org = org(backend).await;
        let dir = crate::scratch_dir();
        let database_url = org.copy_into(dir.path()).await;
        // The SLA monitor would add timeline events on its own schedule; the scenarios compare
        // timelines, so it scans only at start-up.
        std::fs::write(
            dir.path().join("server.toml"),
            "sla_monitor_interval_secs = 3600\n",
        )
        .expect("write the server configuration");
        let mut server = Server {
            backend,
            org,
            port: free_port(),
            database_url,
            dir,
            child: None,
            starts: 0,
            http: http(),
            tokens: Mutex::new(HashMap::new()),
        };
        server.launch().await;
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Starts `serve` on this server's port and waits until `/health` answers. A port that is
    /// briefly still taken (a restart right after a kill) is retried; before the first start
    /// (nobody knows the address yet) another free port is tried instead.
    async fn launch(&mut self) {
        let deadline = Instant::now() + READY_LIMIT;
        let first = self.starts == 0;
        loop {
            if first && self.starts > 0 {
                self.port = free_port();
            }
            self.starts += 1;
            let mut child = spawn_serve(
                &self.database_url,
                &self.dir.path().join("server.toml"),
                self.port,
                self.dir.path(),
                &format!("server-{}", self.starts),
            );
            loop {
                if healthy(&self.http, &self.url()).await {
                    self.child = Some(child);
                    return;
                }
                if !child.is_running() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "outpost-server did not become ready within {READY_LIMIT:?}:\n{}",
                    tail(&child.stderr, 30)
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(
                Instant::now() < deadline,
                "outpost-server keeps exiting:\n{}",
                tail(&child.stderr, 30)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGKILL: no graceful shutdown, open transactions are lost.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill();
        }
    }

    /// Starts the server again on the same port and database.
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await;
    }

    pub async fn login(&self, account: &Account) -> Session {
        login(&self.http, &self.url(), account).await
    }

    /// An access token for `account` (one sign-in per account and test; tokens survive
    /// restarts because they are signed with a secret kept in the database).
    pub async fn token(&self, account: &Account) -> String {
        if let Some(token) = self.tokens.lock().unwrap().get(&account.email) {
            return token.clone();
        }
        let token = self.login(account).await.access_token;
        self.tokens
            .lock()
            .unwrap()
            .insert(account.email.clone(), token.clone());
        token
    }

    /// A new intake key for `channel` (`outpost-server intake-key add`), as a connector such as
    /// an e-mail bridge holds it.
    pub async fn intake_key(&self, channel: &str, name: &str) -> String {
        let output = admin(
            &self.database_url,
            &["intake-key", "add", "--channel", channel, "--name", name],
            &format!("intake-key-{name}"),
            self.dir.path(),
        )
        .await;
        last_line(&output).rsplit_once("shown once: ").map_or_else(
            || panic!("no intake key in {output:?}"),
            |(_, key)| key.trim().to_owned(),
        )
    }

    /// `POST /v1/admin/users/{id}/departments` as the admin.
    pub async fn set_departments(&self, user: &Account, departments: &[&str]) {
        let token = self.token(&self.org.admin).await;
        let response = self
            .http
            .post(format!(
                "{}/v1/admin/users/{}/departments",
                self.url(),
                user.id
            ))
            .bearer_auth(token)
            .json(&json!({ "departments": departments }))
            .send()
            .await
            .expect("set departments");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "set departments: {status} {text}");
    }

    /// Everything `account` may see, pulled from cursor 0 in fresh requests.
    pub async fn snapshot(&self, account: &Account) -> Snapshot {
        let token = self.token(account).await;
        let mut snapshot = Snapshot::default();
        let mut cursor = 0u64;
        for _ in 0..10_000 {
            let response = self
                .http
                .get(format!(
                    "{}/v1/sync/pull?cursor={cursor}&limit=1000",
                    self.url()
                ))
                .bearer_auth(&token)
                .send()
                .await
                .expect("pull request");
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            assert!(status.is_success(), "pull: {status} {text}");
            let page: PullResponse = serde_json::from_str(&text).expect("a pull page");
            assert!(!page.reset_required, "a pull from zero asked for a reset");
            for change in page.changes {
                match change.kind {
                    ChangeKind::Ticket(ticket) => {
                        snapshot.entries.entry(ticket.id).or_default();
                        snapshot.tickets.insert(ticket.id, *ticket);
                    }
                    ChangeKind::Entry(entry) => {
                        snapshot
                            .entries
                            .entry(entry.ticket_id)
                            .or_default()
                            .insert(entry.id, *entry);
                    }
                    ChangeKind::Revoke { ticket_id } => {
                        snapshot.tickets.remove(&ticket_id);
                        snapshot.entries.remove(&ticket_id);
                    }
                    _ => {}
                }
            }
            cursor = page.cursor;
            if !page.has_more {
                // Entries of tickets this user cannot see never arrive, but keep the map tidy.
                let tickets = &snapshot.tickets;
                snapshot.entries.retain(|id, _| tickets.contains_key(id));
                return snapshot;
            }
        }
        panic!("the pull did not finish within 10 000 pages");
    }

    /// The server's standard error since its last start (for failure messages).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(
            &self.dir.path().join(format!("server-{}.err", self.starts)),
            lines,
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- outpost-server ({}) log tail ---\n{}",
                self.backend,
                self.log_tail(40)
            );
        }
    }
}
