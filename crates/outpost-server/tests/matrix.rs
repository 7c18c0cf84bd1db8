//! Who may do what, as one table: every endpoint the server documents (read from its own
//! `/openapi.json`, so a new one cannot be forgotten) called by every kind of caller, and every
//! kind of ticket change (`outpost_core::sync::Mutation`) pushed by every role on a ticket in
//! the actor's department and on one outside it. The expectations are the product's rules
//! written out; a failure prints the whole matrix, expected against what the server answered.
//! Run on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use common::*;
use outpost_core::model::{
    Category, LinkKind, Priority, RiskLevel, Status, TicketLink, VerificationCheck,
    VerificationDimension, VerificationResult,
};
use outpost_core::sync::{Mutation, RiskActionArgs};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Rendering: a grid of expected against got, printed whole when any cell disagrees.

/// Rows × columns of (expected, got) labels.
struct Grid {
    title: &'static str,
    columns: Vec<String>,
    rows: Vec<(String, Vec<(String, String)>)>,
}

impl Grid {
    fn new(title: &'static str, columns: Vec<String>) -> Self {
        Grid {
            title,
            columns,
            rows: Vec::new(),
        }
    }

    fn failures(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|(_, cells)| cells)
            .filter(|(want, got)| want != got)
            .count()
    }

    /// Panics with the whole grid when a cell disagrees.
    fn check(&self) {
        assert!(self.failures() == 0, "\n{self}");
    }
}

impl fmt::Display for Grid {
    /// A matching cell shows the answer; a disagreeing one `!expected→got`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cell = |(want, got): &(String, String)| {
            if want == got {
                got.clone()
            } else {
                format!("!{want}→{got}")
            }
        };
        let label_width = self.rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for (_, cells) in &self.rows {
            for (i, c) in cells.iter().enumerate() {
                widths[i] = widths[i].max(cell(c).chars().count());
            }
        }
        writeln!(
            f,
            "{} ({} of {} cells wrong; `!expected→got`)",
            self.title,
            self.failures(),
            self.rows.len() * self.columns.len()
        )?;
        write!(f, "{:label_width$}", "")?;
        for (c, w) in self.columns.iter().zip(&widths) {
            write!(f, " | {c:w$}")?;
        }
        writeln!(f)?;
        for (label, cells) in &self.rows {
            write!(f, "{label:label_width$}")?;
            for (c, w) in cells.iter().zip(&widths) {
                write!(f, " | {:w$}", cell(c))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Callers.

/// Everyone who can knock on the server's door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Agent,
    Supervisor,
    Admin,
    /// A user an admin disabled after they signed in: their access token has not expired.
    Disabled,
    /// A connector's per-channel intake key.
    IntakeKey,
    /// A customer's link to their ticket's status page.
    CustomerLink,
}

impl Actor {
    const ALL: [Actor; 7] = [
        Actor::Anonymous,
        Actor::Agent,
        Actor::Supervisor,
        Actor::Admin,
        Actor::Disabled,
        Actor::IntakeKey,
        Actor::CustomerLink,
    ];

    fn label(self) -> &'static str {
        match self {
            Actor::Anonymous => "anonymous",
            Actor::Agent => "agent",
            Actor::Supervisor => "supervisor",
            Actor::Admin => "admin",
            Actor::Disabled => "disabled",
            Actor::IntakeKey => "intake key",
            Actor::CustomerLink => "customer link",
        }
    }

    /// Each caller comes from its own address, so one caller's failed sign-ins or form
    /// submissions never rate-limit another's.
    fn address(self) -> SocketAddr {
        let i = Actor::ALL.iter().position(|a| *a == self).unwrap() as u8;
        SocketAddr::from(([10, 0, 0, i + 1], 40_000))
    }
}

/// A signed-in user and what they hold.
struct Person {
    id: Uuid,
    email: String,
    password: String,
    access: String,
    refresh: String,
}

async fn person(s: &Server, admin: &str, email: &str, role: &str, departments: &[&str]) -> Person {
    let (status, body) = s
        .call(
            "POST",
            "/v1/admin/users",
            Some(admin),
            Some(
                json!({ "email": email, "name": email, "role": role, "departments": departments }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let password = body["one_time_password"].as_str().unwrap().to_owned();
    let session = s.login(email, &password).await;
    Person {
        id: body["user"]["id"].as_str().unwrap().parse().unwrap(),
        email: email.to_owned(),
        password,
        access: session["access_token"].as_str().unwrap().to_owned(),
        refresh: session["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn disable(s: &Server, admin: &str, user: Uuid) {
    let (status, body) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{user}/disable"),
            Some(admin),
            None,
        )
        .await;
    assert!(status.is_success(), "{body}");
}

async fn intake_key(s: &Server) -> String {
    let mut tx = s.db.begin_write().await.unwrap();
    let key =
        outpost_server::intake_keys::add_key(&mut tx, outpost_core::model::Channel::Api, "matrix")
            .await
            .unwrap();
    tx.commit().await.unwrap();
    key
}

async fn audit_rows(s: &Server) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

/// Pushes `mutations` as the admin in one request and asserts every one applied.
async fn prepare(s: &Server, admin: &str, mutations: Vec<Mutation>) {
    if mutations.is_empty() {
        return;
    }
    let n = mutations.len();
    let numbered = (1..).zip(mutations).collect();
    let (status, body) = s.push(admin, Uuid::now_v7(), numbered).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(outcomes(&body), vec!["applied"; n], "setup: {body}");
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

/// The class of answer a caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// The handler did the work: 2xx, or a 303 to the next page.
    Allowed,
    /// 401: no valid credential of the kind this endpoint takes.
    Unauthenticated,
    /// 403: signed in, but the role may not.
    Forbidden,
    /// 404: the customer link is not one (the page does not say whether it ever was).
    NotFound,
}

use Answer::{Allowed as A, Forbidden as F, NotFound as N, Unauthenticated as U};

impl Answer {
    fn label(self) -> String {
        match self {
            Answer::Allowed => "ok".into(),
            Answer::Unauthenticated => "401".into(),
            Answer::Forbidden => "403".into(),
            Answer::NotFound => "404".into(),
        }
    }
}

fn answer_label(status: StatusCode) -> String {
    if status.is_success() || status == StatusCode::SEE_OTHER {
        "ok".into()
    } else {
        status.as_u16().to_string()
    }
}

/// Expected answers in `Actor::ALL` order: anonymous, agent, supervisor, admin, disabled,
/// intake key, customer link.
type Row = [Answer; 7];
/// Open to everyone: health, the documents, sign-out, the customer's new-ticket form.
const PUBLIC: Row = [A, A, A, A, A, A, A];
/// Any active signed-in user with their access token.
const SIGNED_IN: Row = [U, A, A, A, U, U, U];
/// Credentials in the body (sign-in, refresh): only an active user's own.
const OWN_CREDENTIALS: Row = [U, A, A, A, U, U, U];
/// The audit trail: supervisors and admins.
const SUPERVISORS: Row = [U, F, A, A, U, U, U];
/// User administration.
const ADMINS: Row = [U, F, F, A, U, U, U];
/// Connector endpoints take an intake key and nothing else (never an agent's token).
const INTAKE_KEY: Row = [U, U, U, U, U, A, U];
/// The customer's pages answer only to their link; anything else is a page that does not exist.
const CUSTOMER_LINK: Row = [N, N, N, N, N, N, A];
/// Attachments: any signed-in user, for tickets they can see and uploads they started; the
/// things named here do not exist, so the door is all this table shows (`attachments.rs`
/// follows real uploads and downloads, and who may make them).
const SIGNED_IN_NOTHING_THERE: Row = [U, N, N, N, U, U, U];
/// The invitation page answers only to its own link, which no caller here holds (a user's
/// token, an intake key or a customer link is not one); `admin_users.rs` follows a real one.
const INVITE_LINK: Row = [N, N, N, N, N, N, N];

/// Every operation and who may call it, in the order the test calls them (credentials change
/// last: a TOTP enrolment and a sign-out must not disturb the other calls).
const ENDPOINTS: &[(&str, &str, Row)] = &[
    ("GET", "/health", PUBLIC),
    ("GET", "/openapi.json", PUBLIC),
    ("GET", "/v1/ping", SIGNED_IN),
    ("GET", "/v1/me", SIGNED_IN),
    ("POST", "/v1/auth/login", OWN_CREDENTIALS),
    ("POST", "/v1/auth/refresh", OWN_CREDENTIALS),
    ("GET", "/v1/admin/users", ADMINS),
    ("POST", "/v1/admin/users", ADMINS),
    ("POST", "/v1/admin/users/{id}/departments", ADMINS),
    ("POST", "/v1/admin/users/{id}/disable", ADMINS),
    ("PATCH", "/v1/admin/users/{id}", ADMINS),
    ("POST", "/v1/admin/users/{id}/enable", ADMINS),
    ("POST", "/v1/admin/users/{id}/reset-password", ADMINS),
    ("POST", "/v1/admin/users/{id}/reset-totp", ADMINS),
    ("GET", "/v1/admin/intake-keys", ADMINS),
    ("POST", "/v1/admin/intake-keys", ADMINS),
    ("POST", "/v1/admin/intake-keys/{id}/revoke", ADMINS),
    ("GET", "/v1/audit/events", SUPERVISORS),
    ("POST", "/v1/sync/push", SIGNED_IN),
    ("GET", "/v1/sync/pull", SIGNED_IN),
    ("GET", "/v1/sync/events", SIGNED_IN),
    ("POST", "/v1/tickets/{id}/uploads", SIGNED_IN_NOTHING_THERE),
    ("GET", "/v1/uploads/{id}", SIGNED_IN_NOTHING_THERE),
    ("PUT", "/v1/uploads/{id}", SIGNED_IN_NOTHING_THERE),
    ("DELETE", "/v1/uploads/{id}", SIGNED_IN_NOTHING_THERE),
    (
        "GET",
        "/v1/tickets/{id}/attachments/{attachment_id}",
        SIGNED_IN_NOTHING_THERE,
    ),
    ("POST", "/v1/intake", INTAKE_KEY),
    // Reported, not changed: a key of any channel lists and confirms every channel's messages
    // (customer contacts and survey links included); per-channel scoping would be tighter.
    ("GET", "/v1/intake/outbound", INTAKE_KEY),
    ("POST", "/v1/intake/outbound/{id}/delivered", INTAKE_KEY),
    ("GET", "/c/new", PUBLIC),
    ("POST", "/c/new", PUBLIC),
    ("GET", "/c/t/{token}", CUSTOMER_LINK),
    ("POST", "/c/t/{token}/message", CUSTOMER_LINK),
    ("POST", "/c/t/{token}/csat", CUSTOMER_LINK),
    ("GET", "/invite/{token}", INVITE_LINK),
    ("POST", "/invite/{token}", INVITE_LINK),
    ("POST", "/v1/auth/totp/setup", SIGNED_IN),
    ("POST", "/v1/auth/totp/enable", SIGNED_IN),
    ("POST", "/v1/auth/totp/disable", SIGNED_IN),
    ("POST", "/v1/auth/logout", PUBLIC),
];

/// Routes served outside the OpenAPI document: the document itself and the customer's HTML
/// pages. Everything else in `ENDPOINTS` must be documented.
const UNDOCUMENTED: &[(&str, &str)] = &[
    ("GET", "/openapi.json"),
    ("GET", "/c/new"),
    ("POST", "/c/new"),
    ("GET", "/c/t/{token}"),
    ("POST", "/c/t/{token}/message"),
    ("POST", "/c/t/{token}/csat"),
    ("GET", "/invite/{token}"),
    ("POST", "/invite/{token}"),
];

/// How the malformed pass breaks an operation's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    /// A JSON body that does not parse.
    Json,
    /// A path id that is not a UUID.
    PathId,
    /// A query value of the wrong type.
    Query,
    /// A form without its fields.
    Form,
}

/// The malformed pass: a caller the table refuses gets the same refusal when the input is
/// broken too, so they learn nothing from its validation (the body is still read, within the
/// body limit, before the handler looks at the role, key or link); a caller it allows gets a
/// 4xx about the input. Bodies are broken only where the document says the operation takes
/// one. `None`: the operation takes no input to break, or its input is the credential itself
/// (sign-in, refresh, sign-out, the customer's link).
const MALFORMED: &[(&str, &str, Option<Broken>)] = &[
    ("GET", "/health", None),
    ("GET", "/openapi.json", None),
    ("GET", "/v1/ping", None),
    ("GET", "/v1/me", None),
    ("POST", "/v1/auth/login", None),
    ("POST", "/v1/auth/refresh", None),
    ("GET", "/v1/admin/users", None),
    ("POST", "/v1/admin/users", Some(Broken::Json)),
    (
        "POST",
        "/v1/admin/users/{id}/departments",
        Some(Broken::Json),
    ),
    ("POST", "/v1/admin/users/{id}/disable", Some(Broken::PathId)),
    ("PATCH", "/v1/admin/users/{id}", Some(Broken::Json)),
    ("POST", "/v1/admin/users/{id}/enable", Some(Broken::PathId)),
    (
        "POST",
        "/v1/admin/users/{id}/reset-password",
        Some(Broken::Json),
    ),
    (
        "POST",
        "/v1/admin/users/{id}/reset-totp",
        Some(Broken::PathId),
    ),
    ("GET", "/v1/admin/intake-keys", None),
    ("POST", "/v1/admin/intake-keys", Some(Broken::Json)),
    (
        "POST",
        "/v1/admin/intake-keys/{id}/revoke",
        Some(Broken::PathId),
    ),
    ("GET", "/v1/audit/events", Some(Broken::Query)),
    ("POST", "/v1/sync/push", Some(Broken::Json)),
    ("GET", "/v1/sync/pull", Some(Broken::Query)),
    ("GET", "/v1/sync/events", None),
    // Their malformed input is probed in `openapi.rs`.
    ("POST", "/v1/tickets/{id}/uploads", None),
    ("GET", "/v1/uploads/{id}", None),
    ("PUT", "/v1/uploads/{id}", None),
    ("DELETE", "/v1/uploads/{id}", None),
    ("GET", "/v1/tickets/{id}/attachments/{attachment_id}", None),
    ("POST", "/v1/intake", Some(Broken::Json)),
    ("GET", "/v1/intake/outbound", Some(Broken::Query)),
    (
        "POST",
        "/v1/intake/outbound/{id}/delivered",
        Some(Broken::PathId),
    ),
    ("GET", "/c/new", None),
    ("POST", "/c/new", Some(Broken::Form)),
    ("GET", "/c/t/{token}", None),
    ("POST", "/c/t/{token}/message", Some(Broken::Form)),
    ("POST", "/c/t/{token}/csat", Some(Broken::Form)),
    ("GET", "/invite/{token}", None),
    ("POST", "/invite/{token}", None),
    ("POST", "/v1/auth/totp/setup", Some(Broken::Json)),
    ("POST", "/v1/auth/totp/enable", Some(Broken::Json)),
    ("POST", "/v1/auth/totp/disable", Some(Broken::Json)),
    ("POST", "/v1/auth/logout", None),
];

/// The server's own OpenAPI document.
async fn openapi(s: &Server) -> Value {
    let (status, doc) = s.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    doc
}

/// Every (METHOD, path) the document lists.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
            ) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// What the endpoint calls need besides the callers.
struct World {
    admin: Person,
    agent: Person,
    supervisor: Person,
    disabled: Person,
    intake_key: String,
    /// The customer's link (its secret) to a resolved ticket.
    link: String,
    /// A user the admin endpoints act on.
    target: Uuid,
    /// A message waiting in the outbound queue.
    message: Uuid,
    /// An intake key the admin endpoints revoke (not the intake key caller's).
    revocable: Uuid,
    /// TOTP secrets from each user's setup call, for their enable call.
    totp: Vec<(Actor, String)>,
}

impl World {
    fn person(&self, actor: Actor) -> Option<&Person> {
        match actor {
            Actor::Agent => Some(&self.agent),
            Actor::Supervisor => Some(&self.supervisor),
            Actor::Admin => Some(&self.admin),
            Actor::Disabled => Some(&self.disabled),
            _ => None,
        }
    }

    fn person_mut(&mut self, actor: Actor) -> Option<&mut Person> {
        match actor {
            Actor::Agent => Some(&mut self.agent),
            Actor::Supervisor => Some(&mut self.supervisor),
            Actor::Admin => Some(&mut self.admin),
            Actor::Disabled => Some(&mut self.disabled),
            _ => None,
        }
    }

    /// The one secret a caller holds; it is presented in every place the server reads one
    /// (bearer token, intake key header, customer link path), so no credential works where
    /// another kind is expected.
    fn secret(&self, actor: Actor) -> Option<String> {
        match actor {
            Actor::Anonymous => None,
            Actor::IntakeKey => Some(self.intake_key.clone()),
            Actor::CustomerLink => Some(self.link.clone()),
            user => self.person(user).map(|p| p.access.clone()),
        }
    }
}

async fn endpoint_world(s: &Server) -> World {
    let admin_token = s.admin_token().await;
    let admin = {
        let session = s
            .login("admin@acme.example", &s.admin_password.clone())
            .await;
        Person {
            id: session["user"]["id"].as_str().unwrap().parse().unwrap(),
            email: "admin@acme.example".into(),
            password: s.admin_password.clone(),
            access: session["access_token"].as_str().unwrap().to_owned(),
            refresh: session["refresh_token"].as_str().unwrap().to_owned(),
        }
    };
    let agent = person(s, &admin_token, "agent@acme.example", "agent", &["support"]).await;
    let supervisor = person(
        s,
        &admin_token,
        "sup@acme.example",
        "supervisor",
        &["support"],
    )
    .await;
    let disabled = person(s, &admin_token, "gone@acme.example", "agent", &["support"]).await;
    disable(s, &admin_token, disabled.id).await;
    let target = person(
        s,
        &admin_token,
        "target@acme.example",
        "agent",
        &["support"],
    )
    .await
    .id;

    // A customer opens a ticket through the public form and keeps its link; the team resolves
    // it, which queues the satisfaction survey for a connector to deliver.
    let form =
        "subject=Card+declined&description=Payment+failed+twice&name=Lee&contact=lee%40example.com";
    let response = s
        .app
        .clone()
        .oneshot(
            Request::post("/c/new?lang=en")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    let link = location
        .strip_prefix("/c/t/")
        .and_then(|rest| rest.split('?').next())
        .expect("a customer link")
        .to_owned();
    let ticket: String = sqlx::query_scalar("SELECT id FROM tickets")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    let ticket: Uuid = ticket.parse().unwrap();
    prepare(
        s,
        &admin_token,
        vec![
            Mutation::SetAssignee {
                ticket_id: ticket,
                assignee: Some(admin.id),
            },
            Mutation::SetStatus {
                ticket_id: ticket,
                status: Status::InProgress,
                reason: None,
            },
            Mutation::SetStatus {
                ticket_id: ticket,
                status: Status::Resolved,
                reason: None,
            },
        ],
    )
    .await;
    let message: String = sqlx::query_scalar("SELECT id FROM outbound_messages")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    World {
        admin,
        agent,
        supervisor,
        disabled,
        intake_key: intake_key(s).await,
        link,
        target,
        message: message.parse().unwrap(),
        revocable: {
            let mut tx = s.db.begin_write().await.unwrap();
            let (id, _) = outpost_server::intake_keys::create_key(
                &mut tx,
                outpost_core::model::Channel::Email,
                "revocable",
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            id
        },
        totp: Vec::new(),
    }
}

/// The code `actor`'s authenticator (from their setup call) shows `ahead_secs` from now;
/// `000000` for callers that have none.
fn totp_code(w: &World, actor: Actor, ahead_secs: u64) -> String {
    let (Some((_, secret)), Some(person)) =
        (w.totp.iter().find(|(a, _)| *a == actor), w.person(actor))
    else {
        return "000000".into();
    };
    let bytes = totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Outpost".into()),
        person.email.clone(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now + ahead_secs)
}

enum Payload {
    Empty,
    Json(Value),
    /// Bytes sent as JSON that are not JSON.
    NotJson(&'static str),
    Form(String),
}

/// Calls one operation as `actor` with a valid minimal request, or with its input `broken`;
/// returns the status and the JSON body (null for pages and event streams).
async fn call(
    s: &Server,
    w: &World,
    actor: Actor,
    method: &str,
    path: &str,
    broken: Option<Broken>,
) -> (StatusCode, Value) {
    let secret = w.secret(actor);
    let person = w.person(actor);
    let not_a_token = "not-a-credential".to_owned();
    // Body credentials: a user's own; anyone else offers what they hold, or nothing useful.
    let refresh = person.map_or_else(
        || secret.clone().unwrap_or_else(|| not_a_token.clone()),
        |p| p.refresh.clone(),
    );
    let (email, password) = person.map_or_else(
        || {
            (
                "nobody@acme.example".to_owned(),
                secret.clone().unwrap_or_else(|| not_a_token.clone()),
            )
        },
        |p| (p.email.clone(), p.password.clone()),
    );
    let (uri, payload) = match (method, path) {
        ("GET", "/health" | "/openapi.json" | "/v1/ping" | "/v1/me" | "/c/new") => {
            (path.to_owned(), Payload::Empty)
        }
        ("GET", "/v1/audit/events") => ("/v1/audit/events?limit=1".into(), Payload::Empty),
        ("GET", "/v1/sync/pull") => ("/v1/sync/pull?cursor=0&limit=1".into(), Payload::Empty),
        ("GET", "/v1/sync/events") => (path.into(), Payload::Empty),
        ("GET", "/v1/intake/outbound") => ("/v1/intake/outbound?limit=1".into(), Payload::Empty),
        ("POST", "/v1/auth/login") => (
            path.into(),
            Payload::Json(json!({ "email": email, "password": password })),
        ),
        ("POST", "/v1/auth/refresh" | "/v1/auth/logout") => (
            path.into(),
            Payload::Json(json!({ "refresh_token": refresh })),
        ),
        ("POST", "/v1/auth/totp/setup") => {
            (path.into(), Payload::Json(json!({ "password": password })))
        }
        // A code from the authenticator `setup` started, then (to turn it off again) the next
        // step's code: the one `enable` used is spent, and the server accepts one step of skew.
        ("POST", "/v1/auth/totp/enable") => (
            path.into(),
            Payload::Json(json!({ "code": totp_code(w, actor, 0) })),
        ),
        ("POST", "/v1/auth/totp/disable") => (
            path.into(),
            Payload::Json(json!({ "password": password, "code": totp_code(w, actor, 30) })),
        ),
        ("POST", "/v1/admin/users") => (
            path.into(),
            Payload::Json(json!({
                "email": format!("new-{}@acme.example", Uuid::now_v7().simple()),
                "name": "New Agent",
                "role": "agent",
                "departments": ["support"],
            })),
        ),
        ("POST", "/v1/admin/users/{id}/departments") => (
            path.replace("{id}", &w.target.to_string()),
            Payload::Json(json!({ "departments": ["support", "finance"] })),
        ),
        (
            "POST",
            "/v1/admin/users/{id}/disable"
            | "/v1/admin/users/{id}/enable"
            | "/v1/admin/users/{id}/reset-totp",
        ) => (path.replace("{id}", &w.target.to_string()), Payload::Empty),
        ("PATCH", "/v1/admin/users/{id}") => (
            path.replace("{id}", &w.target.to_string()),
            Payload::Json(json!({ "away": true, "skills": ["refunds"] })),
        ),
        ("POST", "/v1/admin/users/{id}/reset-password") => (
            path.replace("{id}", &w.target.to_string()),
            Payload::Json(json!({ "invite": "link" })),
        ),
        ("GET", "/v1/admin/users" | "/v1/admin/intake-keys") => (path.into(), Payload::Empty),
        ("POST", "/v1/admin/intake-keys") => (
            path.into(),
            Payload::Json(json!({ "name": "Mail bridge", "channel": "email" })),
        ),
        ("POST", "/v1/admin/intake-keys/{id}/revoke") => (
            path.replace("{id}", &w.revocable.to_string()),
            Payload::Empty,
        ),
        ("GET" | "POST", "/invite/{token}") => {
            let token = secret.clone().unwrap_or_else(|| not_a_token.clone());
            let payload = if method == "POST" {
                Payload::Form(
                    "password=a+long+enough+password&confirm=a+long+enough+password".into(),
                )
            } else {
                Payload::Empty
            };
            (format!("/invite/{token}?lang=en"), payload)
        }
        ("POST", "/v1/sync/push") => (
            path.into(),
            Payload::Json(json!({ "device_id": Uuid::now_v7(), "mutations": [] })),
        ),
        ("POST", "/v1/intake") => (
            path.into(),
            Payload::Json(json!({
                "subject": "Refund not received",
                "description": "Ordered on Monday.",
                "requester": { "name": "Kim", "contact": "kim@example.com" },
            })),
        ),
        ("POST", "/v1/intake/outbound/{id}/delivered") => {
            (path.replace("{id}", &w.message.to_string()), Payload::Empty)
        }
        ("POST", "/c/new") => (
            "/c/new?lang=en".into(),
            Payload::Form(
                "subject=Login+blocked&description=Locked+out&name=Ada&contact=ada%40example.com"
                    .into(),
            ),
        ),
        ("GET" | "POST", "/c/t/{token}" | "/c/t/{token}/message" | "/c/t/{token}/csat") => {
            let token = secret.clone().unwrap_or_else(|| not_a_token.clone());
            let payload = match path.rsplit('/').next() {
                Some("message") => Payload::Form("text=Thank+you".into()),
                Some("csat") => Payload::Form("score=5&comment=Quick".into()),
                _ => Payload::Empty,
            };
            (
                format!("{}?lang=en", path.replace("{token}", &token)),
                payload,
            )
        }
        ("POST", "/v1/tickets/{id}/uploads") => (
            path.replace("{id}", &Uuid::nil().to_string()),
            Payload::Json(json!({ "filename": "a.pdf", "size": 10, "sha256": "0".repeat(64) })),
        ),
        ("GET" | "DELETE", "/v1/uploads/{id}") => (
            path.replace("{id}", &Uuid::nil().to_string()),
            Payload::Empty,
        ),
        ("PUT", "/v1/uploads/{id}") => (
            format!("/v1/uploads/{}?offset=0", Uuid::nil()),
            Payload::Empty,
        ),
        ("GET", "/v1/tickets/{id}/attachments/{attachment_id}") => (
            format!("/v1/tickets/{}/attachments/{}", Uuid::nil(), Uuid::nil()),
            Payload::Empty,
        ),
        _ => panic!("no request for {method} {path}: add one to `call`"),
    };
    let (uri, payload) = match broken {
        None => (uri, payload),
        Some(Broken::Json) => (uri, Payload::NotJson("{\"")),
        Some(Broken::PathId) => (path.replace("{id}", "not-an-id"), payload),
        Some(Broken::Query) => (format!("{path}?limit=many&cursor=-1"), payload),
        Some(Broken::Form) => (uri, Payload::Form("score=many".into())),
    };
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(secret) = &secret {
        request = request
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .header("x-outpost-key", secret.as_str());
    }
    let body = match payload {
        Payload::Empty => Body::empty(),
        Payload::Json(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        Payload::NotJson(text) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(text)
        }
        Payload::Form(f) => {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f)
        }
    };
    let mut request = request.body(body).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(actor.address()));
    let response = s.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json {
        // Pages, and event streams, which never end: the status is the answer.
        return (status, Value::Null);
    }
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn every_endpoint_answers_each_caller_by_the_table(s: Server) {
    let doc = openapi(&s).await;
    let documented = documented_operations(&doc);
    let tabled: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    assert!(
        missing.is_empty(),
        "operations in /openapi.json without a row in ENDPOINTS (say who may call them): {missing:?}"
    );
    // A row for an operation the server does not serve (yet, or any more) is shown, not called.
    let served = |method: &str, path: &str| {
        documented.contains(&(method.to_owned(), path.to_owned()))
            || UNDOCUMENTED.contains(&(method, path))
    };
    // A row for an operation the server no longer serves is a stale rule: fail, do not skip.
    let stale: Vec<String> = ENDPOINTS
        .iter()
        .filter(|(method, path, _)| !served(method, path))
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert!(
        stale.is_empty(),
        "ENDPOINTS has rows for operations the server does not serve: {stale:?}"
    );

    let breakable: BTreeSet<(String, String)> = MALFORMED
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        breakable, tabled,
        "MALFORMED must say for every row in ENDPOINTS how to break its input (or that it has none)"
    );

    let mut w = endpoint_world(&s).await;
    // Broken input first: it changes nothing, so the valid pass below starts from the same state.
    let mut malformed = Grid::new(
        "endpoint × caller, input broken (`bad`: a 4xx about the input)",
        Actor::ALL.iter().map(|a| a.label().to_owned()).collect(),
    );
    for (method, path, row) in ENDPOINTS {
        let Some((_, _, Some(broken))) =
            MALFORMED.iter().find(|(m, p, _)| m == method && p == path)
        else {
            continue;
        };
        // A body is broken only where the operation takes one.
        let operation = &doc["paths"][*path][method.to_lowercase()];
        if !served(method, path) || (*broken == Broken::Json && operation["requestBody"].is_null())
        {
            continue;
        }
        let mut cells = Vec::new();
        for (actor, want) in Actor::ALL.into_iter().zip(row) {
            let (status, _) = call(&s, &w, actor, method, path, Some(*broken)).await;
            let got = match status.as_u16() {
                401 | 403 | 404 => status.as_u16().to_string(),
                400..=499 => "bad".into(),
                _ => answer_label(status),
            };
            let want = match want {
                Answer::Allowed => "bad".into(),
                refused => refused.label(),
            };
            cells.push((want, got));
        }
        malformed
            .rows
            .push((format!("{method} {path} ({broken:?})"), cells));
    }

    let mut grid = Grid::new(
        "endpoint × caller",
        Actor::ALL.iter().map(|a| a.label().to_owned()).collect(),
    );
    let mut refusals_that_wrote = Vec::new();
    for (method, path, row) in ENDPOINTS {
        if !served(method, path) {
            grid.rows.push((
                format!("{method} {path} (not served: skipped)"),
                row.iter().map(|_| ("-".into(), "-".into())).collect(),
            ));
            continue;
        }
        let mut cells = Vec::new();
        for (actor, want) in Actor::ALL.into_iter().zip(row) {
            let before = audit_rows(&s).await;
            let (status, body) = call(&s, &w, actor, method, path, None).await;
            let got = answer_label(status);
            // A refused call writes nothing (a failed sign-in may be recorded, so it is not
            // held to this).
            if matches!(status.as_u16(), 401 | 403 | 404)
                && *path != "/v1/auth/login"
                && audit_rows(&s).await != before
            {
                refusals_that_wrote.push(format!("{method} {path} as {}", actor.label()));
            }
            if status.is_success() {
                match *path {
                    "/v1/auth/refresh" => {
                        let p = w.person_mut(actor).unwrap();
                        body["access_token"]
                            .as_str()
                            .unwrap()
                            .clone_into(&mut p.access);
                        body["refresh_token"]
                            .as_str()
                            .unwrap()
                            .clone_into(&mut p.refresh);
                    }
                    "/v1/auth/totp/setup" => {
                        let secret = body["secret_base32"].as_str().unwrap().to_owned();
                        w.totp.push((actor, secret));
                    }
                    _ => {}
                }
            }
            cells.push((want.label(), got));
        }
        grid.rows.push((format!("{method} {path}"), cells));
    }
    assert!(
        grid.failures() + malformed.failures() == 0,
        "\n{grid}\n{malformed}"
    );
    assert!(
        refusals_that_wrote.is_empty(),
        "refused calls appended to the audit trail: {refusals_that_wrote:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// What a push of one mutation comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Push {
    Applied,
    /// Rejected `forbidden`: the role may not.
    Refused,
    /// Rejected `invalid`: a reference or value is not acceptable for anyone.
    Invalid,
    /// Rejected `ticket_not_found`: the ticket is outside what the actor may see.
    Hidden,
    /// The push itself is answered 401.
    Door,
}

impl Push {
    fn label(self) -> String {
        match self {
            Push::Applied => "applied",
            Push::Refused => "forbidden",
            Push::Invalid => "invalid",
            Push::Hidden => "hidden",
            Push::Door => "401",
        }
        .into()
    }
}

/// Who pushes, and where the ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In the actor's department (support).
    Own,
    /// In a department the actor does not work in (finance).
    Other,
    /// In finance, but held by the actor (a supervisor assigned it across): an agent works on
    /// what they hold wherever it is.
    Held,
}

/// The columns, in order.
const PUSHERS: [(Actor, Scope); 11] = [
    (Actor::Agent, Scope::Own),
    (Actor::Agent, Scope::Other),
    (Actor::Agent, Scope::Held),
    (Actor::Supervisor, Scope::Own),
    (Actor::Supervisor, Scope::Other),
    (Actor::Admin, Scope::Own),
    (Actor::Admin, Scope::Other),
    (Actor::Disabled, Scope::Own),
    (Actor::Disabled, Scope::Other),
    (Actor::IntakeKey, Scope::Own),
    (Actor::Anonymous, Scope::Own),
];

use Push::{Applied as Y, Door as D, Hidden as H, Invalid as I, Refused as R};

/// Expected outcomes in `PUSHERS` order.
type Outcomes = [Push; 11];
/// Anyone who may see the ticket: agents in its department or holding it, supervisors and
/// admins anywhere. A disabled user, an intake key and nobody at all do not get past the door.
const WHO_SEES: Outcomes = [Y, H, Y, Y, Y, Y, Y, D, D, D, D];
/// Supervisors' and admins' decisions; an agent who sees the ticket is refused.
const SUPERVISORS_DECIDE: Outcomes = [R, H, R, Y, Y, Y, Y, D, D, D, D];
/// Intents only the server makes for the customer: every device is refused.
const NO_DEVICE: Outcomes = [R, H, R, R, R, R, R, D, D, D, D];
/// The organisation's settings, departments and templates: admins only (a supervisor or agent
/// is refused `forbidden`; there is no ticket to hide).
const ADMINS_ONLY: Outcomes = [R, R, R, R, R, Y, Y, D, D, D, D];
/// A reference nobody may use.
const NOBODY_VALID: Outcomes = [I, H, I, I, I, I, I, D, D, D, D];

/// The state a ticket needs before the intent makes sense.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// No ticket yet (`ticket.create`).
    Nothing,
    Open,
    Tagged,
    /// Risk L1.
    HighRisk,
    /// Held by the admin and resolved (a rating, a reopen).
    Resolved,
    /// Five passed identity checks, enough for any risk action.
    Verified,
    /// Verified, and the account `ACC-1` frozen.
    Frozen,
    /// An internal note to redact.
    Noted,
    /// Open, and the pushing actor uploaded [`ATTACHMENT`] to it (if they can see it): a blob
    /// hash alone is not a capability.
    Uploaded,
}

/// The file `entry.add_attachment` names.
const ATTACHMENT: &[u8] = b"%PDF-1.7
% a bank statement
";

fn attachment_sha256() -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(ATTACHMENT))
}

/// Uploads [`ATTACHMENT`] to `ticket` as `bearer`; refusals are the cell's business.
async fn upload_as(s: &Server, bearer: Option<&str>, ticket: Uuid) {
    let (status, created) = s
        .call(
            "POST",
            &format!("/v1/tickets/{ticket}/uploads"),
            bearer,
            Some(json!({"filename": "statement.pdf", "size": ATTACHMENT.len(), "sha256": attachment_sha256()})),
        )
        .await;
    if status != StatusCode::CREATED {
        return;
    }
    let mut request = Request::put(format!(
        "/v1/uploads/{}?offset=0",
        created["upload_id"].as_str().unwrap_or_default()
    ))
    .header(header::CONTENT_TYPE, "application/octet-stream");
    if let Some(bearer) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    let (status, answer) = s.send(request.body(Body::from(ATTACHMENT)).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// What an intent may refer to, for one cell.
struct Cell {
    ticket: Uuid,
    department: &'static str,
    other_department: &'static str,
    actor: Uuid,
    /// An agent who works in the ticket's department, and one who works only in the other.
    colleague: Uuid,
    outsider: Uuid,
    /// A disabled agent of the ticket's department.
    gone: Uuid,
    /// A ticket in the same department to link to.
    link_target: Uuid,
    /// The note `Setup::Noted` wrote.
    note: Uuid,
}

struct MutationRow {
    label: &'static str,
    setup: Setup,
    build: fn(&Cell) -> Mutation,
    expect: Outcomes,
}

fn five_checks() -> Vec<VerificationCheck> {
    [
        VerificationDimension::SmsCode,
        VerificationDimension::RealNameInfo,
        VerificationDimension::IdDocument,
        VerificationDimension::UsualDevice,
        VerificationDimension::FaceLiveness,
    ]
    .into_iter()
    .map(|dimension| VerificationCheck {
        dimension,
        result: VerificationResult::Passed,
        method: "video call".into(),
    })
    .collect()
}

fn risk_args(c: &Cell) -> RiskActionArgs {
    RiskActionArgs {
        entry_id: Uuid::now_v7(),
        ticket_id: c.ticket,
        target: "ACC-1".into(),
        reason: "customer reported the card stolen".into(),
    }
}

/// Every kind of intent, some in more than one situation. The rules: anyone who may see a
/// ticket works on it; lowering its risk, assigning it across departments and redacting are
/// supervisors' (and admins') decisions; the customer's intents come only from the server;
/// references must name active users and existing departments.
const MUTATIONS: &[MutationRow] = &[
    MutationRow {
        // Outside their departments an agent's new ticket reads as `hidden` (ticket_not_found),
        // like every other intent there, rather than `forbidden`.
        label: "ticket.create",
        setup: Setup::Nothing,
        build: |c| new_ticket(c.ticket, c.department),
        // Nobody holds a ticket before it exists: "held" is creating one in finance.
        expect: [Y, H, H, Y, Y, Y, Y, D, D, D, D],
    },
    MutationRow {
        label: "ticket.set_status",
        setup: Setup::Open,
        build: |c| Mutation::SetStatus {
            ticket_id: c.ticket,
            status: Status::Triaged,
            reason: None,
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.reopen",
        setup: Setup::Resolved,
        build: |c| Mutation::Reopen {
            ticket_id: c.ticket,
            reason: Some("the customer wrote back".into()),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_priority",
        setup: Setup::Open,
        build: |c| Mutation::SetPriority {
            ticket_id: c.ticket,
            priority: Priority::P1,
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_category",
        setup: Setup::Open,
        build: |c| Mutation::SetCategory {
            ticket_id: c.ticket,
            category: Category::PASSWORD_RESET,
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_risk (raise)",
        setup: Setup::Open,
        build: |c| Mutation::SetRisk {
            ticket_id: c.ticket,
            risk: RiskLevel::L2,
        },
        expect: WHO_SEES,
    },
    MutationRow {
        // The level decides how many identity checks a risk action needs.
        label: "ticket.set_risk (lower)",
        setup: Setup::HighRisk,
        build: |c| Mutation::SetRisk {
            ticket_id: c.ticket,
            risk: RiskLevel::None,
        },
        expect: SUPERVISORS_DECIDE,
    },
    MutationRow {
        label: "ticket.set_assignee (self)",
        setup: Setup::Open,
        build: |c| Mutation::SetAssignee {
            ticket_id: c.ticket,
            assignee: Some(c.actor),
        },
        // A holder outside the department may re-assert their own assignment: a no-op, not a
        // hand-over across departments.
        expect: [Y, H, Y, Y, Y, Y, Y, D, D, D, D],
    },
    MutationRow {
        label: "ticket.set_assignee (colleague)",
        setup: Setup::Open,
        build: |c| Mutation::SetAssignee {
            ticket_id: c.ticket,
            assignee: Some(c.colleague),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_assignee (across)",
        setup: Setup::Open,
        build: |c| Mutation::SetAssignee {
            ticket_id: c.ticket,
            assignee: Some(c.outsider),
        },
        expect: SUPERVISORS_DECIDE,
    },
    MutationRow {
        label: "ticket.set_assignee (disabled)",
        setup: Setup::Open,
        build: |c| Mutation::SetAssignee {
            ticket_id: c.ticket,
            assignee: Some(c.gone),
        },
        expect: NOBODY_VALID,
    },
    MutationRow {
        label: "ticket.set_assignee (nobody)",
        setup: Setup::Open,
        build: |c| Mutation::SetAssignee {
            ticket_id: c.ticket,
            assignee: Some(Uuid::now_v7()),
        },
        expect: NOBODY_VALID,
    },
    MutationRow {
        // A transfer: the ticket leaves for the other department's queue.
        label: "ticket.set_department",
        setup: Setup::Open,
        build: |c| Mutation::SetDepartment {
            ticket_id: c.ticket,
            department: Some(c.other_department.into()),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_department (missing)",
        setup: Setup::Open,
        build: |c| Mutation::SetDepartment {
            ticket_id: c.ticket,
            department: Some("nowhere".into()),
        },
        expect: NOBODY_VALID,
    },
    MutationRow {
        label: "ticket.add_tag",
        setup: Setup::Open,
        build: |c| Mutation::AddTag {
            ticket_id: c.ticket,
            tag: "chargeback".into(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.remove_tag",
        setup: Setup::Tagged,
        build: |c| Mutation::RemoveTag {
            ticket_id: c.ticket,
            tag: "vip".into(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_subject",
        setup: Setup::Open,
        build: |c| Mutation::SetSubject {
            ticket_id: c.ticket,
            subject: "Card blocked after travel".into(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_requester",
        setup: Setup::Open,
        build: |c| Mutation::SetRequester {
            ticket_id: c.ticket,
            requester: outpost_core::model::Requester {
                name: "王女士".into(),
                contact: "wang@example.com".into(),
                account_id: Some("ACC-2".into()),
                tier: outpost_core::model::CustomerTier::Standard,
            },
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.set_description",
        setup: Setup::Open,
        build: |c| Mutation::SetDescription {
            ticket_id: c.ticket,
            description: "Blocked in Lisbon.".into(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.link",
        setup: Setup::Open,
        build: |c| Mutation::Link {
            ticket_id: c.ticket,
            link: TicketLink {
                kind: LinkKind::Related,
                other: c.link_target,
            },
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "entry.add_reply",
        setup: Setup::Open,
        build: |c| Mutation::AddReply {
            entry_id: Uuid::now_v7(),
            ticket_id: c.ticket,
            text: "We are looking into it.".into(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "entry.add_note",
        setup: Setup::Open,
        build: |c| Mutation::AddNote {
            entry_id: Uuid::now_v7(),
            ticket_id: c.ticket,
            text: "Called the bank.".into(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "entry.add_attachment",
        setup: Setup::Uploaded,
        build: |c| Mutation::AddAttachment {
            entry_id: Uuid::now_v7(),
            ticket_id: c.ticket,
            attachment_id: Uuid::now_v7(),
            filename: "statement.pdf".into(),
            mime: "application/pdf".into(),
            size: ATTACHMENT.len() as u64,
            sha256: attachment_sha256(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "verification.record",
        setup: Setup::Open,
        build: |c| Mutation::RecordVerification {
            entry_id: Uuid::now_v7(),
            ticket_id: c.ticket,
            checks: five_checks(),
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "risk.freeze",
        setup: Setup::Verified,
        build: |c| Mutation::FreezeAccount(risk_args(c)),
        expect: WHO_SEES,
    },
    MutationRow {
        label: "risk.intercept",
        setup: Setup::Verified,
        build: |c| Mutation::InterceptTransaction(risk_args(c)),
        expect: WHO_SEES,
    },
    MutationRow {
        // Reported, not changed: any agent of the department may unfreeze once the five checks
        // are on the timeline; many payment helpdesks want a second person (a supervisor) here.
        label: "risk.unfreeze",
        setup: Setup::Frozen,
        build: |c| Mutation::UnfreezeAccount(risk_args(c)),
        expect: WHO_SEES,
    },
    MutationRow {
        label: "ticket.view",
        setup: Setup::Open,
        build: |c| Mutation::RecordView {
            ticket_id: c.ticket,
        },
        expect: WHO_SEES,
    },
    MutationRow {
        label: "entry.redact",
        setup: Setup::Noted,
        build: |c| Mutation::RedactEntry {
            ticket_id: c.ticket,
            entry_id: c.note,
            reason: "privacy request".into(),
        },
        expect: SUPERVISORS_DECIDE,
    },
    MutationRow {
        label: "customer.message",
        setup: Setup::Open,
        build: |c| Mutation::CustomerMessage {
            ticket_id: c.ticket,
            entry_id: Uuid::now_v7(),
            text: "It is me, the customer.".into(),
        },
        expect: NO_DEVICE,
    },
    MutationRow {
        label: "customer.csat",
        setup: Setup::Resolved,
        build: |c| Mutation::CustomerRating {
            ticket_id: c.ticket,
            score: 5,
            comment: None,
            return_to: None,
        },
        expect: NO_DEVICE,
    },
    MutationRow {
        label: "settings.set",
        setup: Setup::Nothing,
        // One document per department column, each made on version 0: the admin's two cells
        // change two different documents, so neither is stale.
        build: |c| {
            let defaults = outpost_core::settings::OrgSettings::defaults();
            let settings = if c.department == "support" {
                let mut profile = defaults.profile().clone();
                profile.name = "Acme Payments".into();
                outpost_core::settings::SettingsDoc::Organisation(profile)
            } else {
                outpost_core::settings::SettingsDoc::Catalogue(defaults.catalogue().clone())
            };
            Mutation::SetSettings {
                base_version: 0,
                settings,
            }
        },
        expect: ADMINS_ONLY,
    },
    MutationRow {
        label: "department.put",
        setup: Setup::Nothing,
        build: |c| {
            Mutation::PutDepartment(outpost_core::model::Department {
                code: format!("d{}", &c.ticket.simple().to_string()[20..]),
                name: "Claims 理赔部".into(),
                active: true,
            })
        },
        expect: ADMINS_ONLY,
    },
    MutationRow {
        label: "template.put",
        setup: Setup::Nothing,
        build: |c| {
            Mutation::PutTemplate(outpost_core::model::Template {
                id: c.ticket,
                name: format!("Greeting {}", c.ticket.simple()),
                language: "en".into(),
                body: "Hello {{customer.name}}".into(),
                categories: Vec::new(),
                changes: Default::default(),
                active: true,
            })
        },
        expect: ADMINS_ONLY,
    },
];

/// The wire name of each kind of intent. No wildcard arm: a new `Mutation` variant does not
/// compile until it is listed here, and the test then fails until `MUTATIONS` has a row for it.
fn kind(m: &Mutation) -> &'static str {
    match m {
        Mutation::CreateTicket(_)
        | Mutation::SetStatus { .. }
        | Mutation::Reopen { .. }
        | Mutation::SetPriority { .. }
        | Mutation::SetCategory { .. }
        | Mutation::SetRisk { .. }
        | Mutation::SetAssignee { .. }
        | Mutation::SetDepartment { .. }
        | Mutation::AddTag { .. }
        | Mutation::RemoveTag { .. }
        | Mutation::SetSubject { .. }
        | Mutation::SetRequester { .. }
        | Mutation::SetDescription { .. }
        | Mutation::Link { .. }
        | Mutation::AddReply { .. }
        | Mutation::AddNote { .. }
        | Mutation::AddAttachment { .. }
        | Mutation::RecordVerification { .. }
        | Mutation::FreezeAccount(_)
        | Mutation::InterceptTransaction(_)
        | Mutation::UnfreezeAccount(_)
        | Mutation::RecordView { .. }
        | Mutation::RedactEntry { .. }
        | Mutation::CustomerMessage { .. }
        | Mutation::CustomerRating { .. }
        | Mutation::SetSettings { .. }
        | Mutation::PutDepartment(_)
        | Mutation::PutTemplate(_) => m.name(),
    }
}

/// The intent names the OpenAPI document's `Mutation` schema lists.
fn documented_mutations(doc: &Value) -> BTreeSet<String> {
    doc["components"]["schemas"]["Mutation"]["oneOf"]
        .as_array()
        .expect("Mutation is a oneOf")
        .iter()
        .flat_map(|variant| {
            variant["properties"]["name"]["enum"]
                .as_array()
                .expect("each variant names itself")
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
        })
        .collect()
}

struct Pushers {
    admin: String,
    agent: Person,
    supervisor: Person,
    admin_person: Person,
    disabled: Person,
    intake_key: String,
    /// Per department (support, finance): a colleague, and a ticket to link to.
    support_agent: Uuid,
    finance_agent: Uuid,
    gone: Uuid,
    support_target: Uuid,
    finance_target: Uuid,
}

impl Pushers {
    /// The bearer a pusher presents, and their id.
    fn credential(&self, actor: Actor) -> (Option<&str>, Uuid) {
        match actor {
            Actor::Agent => (Some(&self.agent.access), self.agent.id),
            Actor::Supervisor => (Some(&self.supervisor.access), self.supervisor.id),
            Actor::Admin => (Some(&self.admin_person.access), self.admin_person.id),
            Actor::Disabled => (Some(&self.disabled.access), self.disabled.id),
            Actor::IntakeKey => (Some(&self.intake_key), Uuid::now_v7()),
            Actor::Anonymous | Actor::CustomerLink => (None, Uuid::now_v7()),
        }
    }
}

async fn pushers(s: &Server) -> Pushers {
    let admin = s.admin_token().await;
    let admin_session = s
        .login("admin@acme.example", &s.admin_password.clone())
        .await;
    let admin_person = Person {
        id: admin_session["user"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
        email: "admin@acme.example".into(),
        password: s.admin_password.clone(),
        access: admin_session["access_token"].as_str().unwrap().to_owned(),
        refresh: admin_session["refresh_token"].as_str().unwrap().to_owned(),
    };
    let agent = person(s, &admin, "agent@acme.example", "agent", &["support"]).await;
    let supervisor = person(s, &admin, "sup@acme.example", "supervisor", &["support"]).await;
    let disabled = person(s, &admin, "gone@acme.example", "agent", &["support"]).await;
    disable(s, &admin, disabled.id).await;
    let support_agent = person(s, &admin, "peer@acme.example", "agent", &["support"])
        .await
        .id;
    let finance_agent = person(s, &admin, "fin@acme.example", "agent", &["finance"])
        .await
        .id;
    let (support_target, finance_target) = (Uuid::now_v7(), Uuid::now_v7());
    prepare(
        s,
        &admin,
        vec![
            new_ticket(support_target, "support"),
            new_ticket(finance_target, "finance"),
        ],
    )
    .await;
    Pushers {
        gone: disabled.id,
        admin,
        agent,
        supervisor,
        admin_person,
        disabled,
        intake_key: intake_key(s).await,
        support_agent,
        finance_agent,
        support_target,
        finance_target,
    }
}

/// Prepares a fresh ticket for one cell, as the admin.
async fn fresh_cell(s: &Server, p: &Pushers, setup: Setup, scope: Scope, actor: Uuid) -> Cell {
    let (department, other_department) = match scope {
        Scope::Own => ("support", "finance"),
        Scope::Other | Scope::Held => ("finance", "support"),
    };
    // The link target is one the actor can see (a holder sees no other finance ticket).
    let (colleague, outsider, link_target) = match scope {
        Scope::Own => (p.support_agent, p.finance_agent, p.support_target),
        Scope::Other => (p.finance_agent, p.support_agent, p.finance_target),
        Scope::Held => (p.finance_agent, p.support_agent, p.support_target),
    };
    let holder = (scope == Scope::Held).then_some(actor);
    let ticket = Uuid::now_v7();
    let note = Uuid::now_v7();
    let mut steps = Vec::new();
    if !matches!(setup, Setup::Nothing) {
        steps.push(new_ticket(ticket, department));
        if let Some(holder) = holder {
            steps.push(Mutation::SetAssignee {
                ticket_id: ticket,
                assignee: Some(holder),
            });
        }
    }
    let verify = Mutation::RecordVerification {
        entry_id: Uuid::now_v7(),
        ticket_id: ticket,
        checks: five_checks(),
    };
    match setup {
        Setup::Nothing | Setup::Open | Setup::Uploaded => {}
        Setup::Tagged => steps.push(Mutation::AddTag {
            ticket_id: ticket,
            tag: "vip".into(),
        }),
        Setup::HighRisk => steps.push(Mutation::SetRisk {
            ticket_id: ticket,
            risk: RiskLevel::L1,
        }),
        Setup::Resolved => steps.extend([
            Mutation::SetAssignee {
                ticket_id: ticket,
                assignee: Some(holder.unwrap_or(p.admin_person.id)),
            },
            Mutation::SetStatus {
                ticket_id: ticket,
                status: Status::InProgress,
                reason: None,
            },
            Mutation::SetStatus {
                ticket_id: ticket,
                status: Status::Resolved,
                reason: None,
            },
        ]),
        Setup::Verified => steps.push(verify),
        Setup::Frozen => steps.extend([
            verify,
            Mutation::FreezeAccount(RiskActionArgs {
                entry_id: Uuid::now_v7(),
                ticket_id: ticket,
                target: "ACC-1".into(),
                reason: "suspected takeover".into(),
            }),
        ]),
        Setup::Noted => steps.push(Mutation::AddNote {
            entry_id: note,
            ticket_id: ticket,
            text: "The customer's home address is …".into(),
        }),
    }
    prepare(s, &p.admin, steps).await;
    Cell {
        ticket,
        department,
        other_department,
        actor,
        colleague,
        outsider,
        gone: p.gone,
        link_target,
        note,
    }
}

/// Pushes one mutation with `bearer` (an access token, an intake key or nothing) and names the
/// outcome: `applied`, the rejection's code, or the HTTP status when the push itself is refused.
async fn push_as(s: &Server, bearer: Option<&str>, mutation: Mutation) -> String {
    let request = json!({
        "device_id": Uuid::now_v7(),
        "mutations": [{
            "mutation_id": 1,
            "client_time": now(),
            "base_revision": null,
            "mutation": mutation,
        }],
    });
    let (status, body) = s.call("POST", "/v1/sync/push", bearer, Some(request)).await;
    if status != StatusCode::OK {
        return status.as_u16().to_string();
    }
    let result = &body["results"][0];
    match result["outcome"].as_str() {
        Some("rejected") => match result["code"].as_str().unwrap_or_default() {
            "ticket_not_found" => "hidden".into(),
            code => code.into(),
        },
        Some(outcome) => outcome.into(),
        None => format!("? {body}"),
    }
}

async fn every_mutation_is_decided_by_role_and_department(s: Server) {
    let doc = openapi(&s).await;
    let covered: BTreeSet<String> = MUTATIONS
        .iter()
        .map(|row| {
            let probe = (row.build)(&Cell {
                ticket: Uuid::nil(),
                department: "support",
                other_department: "finance",
                actor: Uuid::nil(),
                colleague: Uuid::nil(),
                outsider: Uuid::nil(),
                gone: Uuid::nil(),
                link_target: Uuid::nil(),
                note: Uuid::nil(),
            });
            assert_eq!(kind(&probe), probe.name(), "{}", row.label);
            assert!(
                row.label.starts_with(probe.name()),
                "row {} builds {}",
                row.label,
                probe.name()
            );
            kind(&probe).to_owned()
        })
        .collect();
    let documented = documented_mutations(&doc);
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "mutation kinds without a row in MUTATIONS (say who may push them): {missing:?}"
    );
    assert_eq!(
        covered, documented,
        "rows for kinds the server does not know"
    );

    let p = pushers(&s).await;
    let mut grid = Grid::new(
        "mutation × pusher (own = the actor's department, other = one they do not work in, held = there but assigned to them)",
        PUSHERS
            .iter()
            .map(|(actor, scope)| {
                let scope = match scope {
                    Scope::Own => "own",
                    Scope::Other => "other",
                    Scope::Held => "held",
                };
                match actor {
                    Actor::IntakeKey | Actor::Anonymous => actor.label().to_owned(),
                    _ => format!("{}·{scope}", actor.label()),
                }
            })
            .collect(),
    );
    let mut refusals_that_wrote = Vec::new();
    for row in MUTATIONS {
        let mut cells = Vec::new();
        for ((actor, scope), want) in PUSHERS.into_iter().zip(row.expect) {
            let (bearer, actor_id) = p.credential(actor);
            let cell = fresh_cell(&s, &p, row.setup, scope, actor_id).await;
            if matches!(row.setup, Setup::Uploaded) {
                upload_as(&s, bearer, cell.ticket).await;
            }
            let before = audit_rows(&s).await;
            let got = push_as(&s, bearer, (row.build)(&cell)).await;
            let after = audit_rows(&s).await;
            if got != "applied" && after != before {
                refusals_that_wrote.push(format!("{} as {}", row.label, actor.label()));
            }
            if got == "applied" && after == before {
                refusals_that_wrote.push(format!(
                    "{} as {}: applied unaudited",
                    row.label,
                    actor.label()
                ));
            }
            cells.push((want.label(), got));
        }
        grid.rows.push((row.label.to_owned(), cells));
    }
    grid.check();
    assert!(
        refusals_that_wrote.is_empty(),
        "audit trail and outcome disagree: {refusals_that_wrote:?}"
    );
}

on_both_databases!(
    every_endpoint_answers_each_caller_by_the_table,
    every_mutation_is_decided_by_role_and_department,
);
