//! The server database through sqlx's `Any` driver: one schema and one set of queries for SQLite
//! (the embedded default) and PostgreSQL (teams, several instances).
//!
//! Portability rules the SQL here keeps: only `TEXT` and `BIGINT` columns (uuids and hashes as
//! text, times as unix milliseconds, booleans as 0/1; the blob store's sealed segments are the
//! one binary column, `BLOB` / `BYTEA`); placeholders `$1, $2, …` used in ascending
//! order of first appearance (SQLite numbers named parameters by first appearance); `RETURNING`
//! (SQLite ≥ 3.35 and PostgreSQL both have it).

use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: Kind,
    /// SQLite has one writer at a time. Queueing writers here, fairly and without polling,
    /// replaces SQLite's busy handler, which sleeps in steps of up to 100 ms.
    writer: Arc<tokio::sync::Mutex<()>>,
}

pub use crate::writes::WriteTx;

/// One schema migration: `shared` SQL (split on `;`) for both databases, then statements that
/// differ per database (trigger bodies contain `;`, so these are listed one by one).
struct Migration {
    shared: &'static str,
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
}

const fn shared(sql: &'static str) -> Migration {
    Migration {
        shared: sql,
        sqlite: &[],
        postgres: &[],
    }
}

/// The error the database raises when anything tries to change or remove an audit event
/// (triggers of migration 8, on SQLite and PostgreSQL).
pub const AUDIT_APPEND_ONLY: &str = "audit events are append-only";

const MIGRATIONS: &[Migration] = &[
    shared(r"
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (name, value) VALUES ('change_seq', 0), ('ticket_key', 999), ('audit_seq', 0);
CREATE TABLE org (id TEXT PRIMARY KEY, name TEXT NOT NULL, token_secret TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE departments (code TEXT PRIMARY KEY, name TEXT NOT NULL, seq BIGINT NOT NULL);
CREATE INDEX departments_seq ON departments(seq);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    departments TEXT NOT NULL,
    skills TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_seq ON users(seq);
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    user_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used BIGINT NOT NULL,
    revoked BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE TABLE devices (device_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, last_mutation_id BIGINT NOT NULL);
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    department TEXT,
    assignee TEXT,
    seq BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX tickets_seq ON tickets(seq);
CREATE TABLE entries (id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, seq BIGINT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX entries_seq ON entries(seq);
CREATE INDEX entries_ticket ON entries(ticket_id);
CREATE TABLE revocations (seq BIGINT PRIMARY KEY, ticket_id TEXT NOT NULL, department TEXT);
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    device TEXT,
    address TEXT,
    action TEXT NOT NULL,
    ticket_id TEXT,
    before_hash TEXT,
    after_hash TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"),
    // 2: columns for load-based dispatch, intake keys, customer links.
    shared(r"
ALTER TABLE tickets ADD COLUMN status TEXT;
ALTER TABLE tickets ADD COLUMN priority TEXT;
CREATE INDEX tickets_assignee_status ON tickets(assignee, status);
CREATE TABLE agent_dispatch (user_id TEXT PRIMARY KEY, last_assigned BIGINT NOT NULL);
CREATE TABLE intake_keys (key_hash TEXT PRIMARY KEY, channel TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE customer_links (token_hash TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX customer_links_ticket ON customer_links(ticket_id);
"),
    // 3: optional TOTP second factor.
    shared(r"
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
"),
    // 4: SLA monitor alerts, one per ticket, clock state and deadline.
    shared(r"
CREATE TABLE sla_alerts (
    ticket_id TEXT NOT NULL,
    alert TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, alert, due_at)
);
"),
    // 5: the revision at which a ticket's description last changed, for long-text conflicts.
    shared(r"
ALTER TABLE tickets ADD COLUMN description_rev BIGINT;
"),
    // 6: the change_seq at which a user's view last shrank, and the view each device last
    // bootstrapped under: a device with an older view must re-bootstrap.
    shared(r"
ALTER TABLE users ADD COLUMN view_seq BIGINT;
ALTER TABLE devices ADD COLUMN view_seq BIGINT;
"),
    // 7: reply templates, pulled by every client like departments and users.
    shared(r"
CREATE TABLE templates (id TEXT PRIMARY KEY, name TEXT NOT NULL, language TEXT NOT NULL, doc TEXT NOT NULL, seq BIGINT NOT NULL);
CREATE INDEX templates_seq ON templates(seq);
"),
    // 8: the audit trail for supervisors: the ticket's department on each event (a filter index;
    // the hashed detail carries the same value from now on), indexes for the filters of
    // `GET /v1/audit/events`, the archive register, and triggers that refuse to change or remove
    // an event. Events written before this migration get the department their ticket has now.
    // Every index ends in `seq`, so a filtered page is read in chain order and stops at the limit.
    Migration {
        shared: r"
ALTER TABLE audit ADD COLUMN department TEXT;
UPDATE audit SET department = (SELECT t.department FROM tickets t WHERE t.id = audit.ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX audit_at ON audit(at, seq);
CREATE INDEX audit_actor ON audit(actor, seq);
CREATE INDEX audit_ticket ON audit(ticket_id, seq);
CREATE INDEX audit_action ON audit(action, seq);
CREATE INDEX audit_department ON audit(department, seq);
CREATE INDEX audit_device ON audit(device, seq);
CREATE TABLE audit_archives (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    cutoff_micros BIGINT NOT NULL,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    event_count BIGINT NOT NULL,
    first_prev_hash TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    head_seq BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    file TEXT NOT NULL,
    file_sha256 TEXT NOT NULL
);
CREATE INDEX audit_archives_last_seq ON audit_archives(last_seq);
",
        sqlite: &[
            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
            "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
        ],
        postgres: &[
            "CREATE OR REPLACE FUNCTION outpost_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
            "CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION outpost_audit_append_only()",
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION outpost_audit_append_only()",
        ],
    },
    // 9: messages for the customer that a connector (e-mail bridge, chat, SMS) delivers, such as
    // the satisfaction survey with its customer link. `seq` comes from `change_seq` (commit
    // order); `body` is erased once the message is delivered, `body_sha256` stays. The partial
    // index holds only what is still pending.
    shared(r"
CREATE TABLE outbound_messages (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    ticket_key TEXT NOT NULL,
    contact TEXT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    body_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX outbound_messages_pending ON outbound_messages(seq) WHERE delivered_at IS NULL;
CREATE INDEX outbound_messages_ticket ON outbound_messages(ticket_id);
"),
    // 10: sign-in sessions, one per refresh-token family. Access tokens name their session; every
    // request reads it with the user row, so a logout, a reused refresh token, a disabled user or
    // a password reset (`ended_at` set) stops that session's requests and event streams at once.
    // Families from before this migration become sessions, ended when all their tokens were revoked.
    shared(r"
CREATE TABLE sessions (family TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at BIGINT NOT NULL, refreshed_at BIGINT, ended_at BIGINT);
CREATE INDEX sessions_user ON sessions(user_id);
INSERT INTO sessions (family, user_id, created_at, ended_at)
    SELECT family, min(user_id), 0, CASE WHEN min(revoked) = 1 THEN 0 ELSE NULL END FROM refresh_tokens GROUP BY family;
"),
    // 11: the customer's satisfaction rating, one per resolution of a ticket (its resolution or
    // closing time in unix milliseconds): the rating's transaction inserts its row, so a second
    // rating of the same resolution is refused by the primary key however concurrent it is.
    // Ratings given before this migration stay on their tickets, where `apply` refuses another.
    shared(r"
CREATE TABLE csat_ratings (
    ticket_id TEXT NOT NULL,
    resolved_at BIGINT NOT NULL,
    score BIGINT NOT NULL,
    rated_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, resolved_at)
);
"),
    // 12: the organisation's settings documents (`settings.rs`), one row per kind (an absent row
    // is the product default at version 0), pulled by every client like departments; a
    // department can be retired (kept, readable, no longer offered).
    shared(r"
CREATE TABLE settings (kind TEXT PRIMARY KEY, version BIGINT NOT NULL, doc TEXT NOT NULL, updated_by TEXT, updated_at BIGINT, seq BIGINT NOT NULL);
CREATE INDEX settings_seq ON settings(seq);
ALTER TABLE departments ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
"),
    // 13: the admin area. A user's away flag (dispatch and the assignee picker read it);
    // invitations, one-time links that let a new or reset user set their own password (only
    // the link's hash is kept; `used_at` spends it); intake keys get an id to be listed and
    // revoked by (keys from before keep the first 32 hex digits of their hash, itself a valid
    // id) and `revoked_at`; a session may be limited to setting up a second factor
    // (`setup_only`: the organisation requires one, the user has none yet).
    shared(r"
ALTER TABLE users ADD COLUMN away BIGINT NOT NULL DEFAULT 0;
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX invites_user ON invites(user_id);
ALTER TABLE intake_keys ADD COLUMN id TEXT;
ALTER TABLE intake_keys ADD COLUMN revoked_at BIGINT;
UPDATE intake_keys SET id = substr(key_hash, 1, 32);
CREATE UNIQUE INDEX intake_keys_id ON intake_keys(id);
ALTER TABLE sessions ADD COLUMN setup_only BIGINT NOT NULL DEFAULT 0;
"),
    // 14: a person's weekly shifts (JSON `WeeklyHours` in the organisation calendar's zone;
    // NULL = no schedule, always available). Dispatch skips an agent who is off shift.
    shared(r"
ALTER TABLE users ADD COLUMN shifts TEXT;
"),
    // 15: the encrypted blob store (`blobs.rs`). `blobs`: one row per stored file (by the
    // SHA-256 of its plaintext), its data key sealed with the master key; `uploads`: resumable
    // uploads, unfinished or finished and not yet attached; `blob_refs`: which unredacted
    // attachment entry names which blob (download and deletion read it); `blob_deletions`: files
    // to remove once their rows are gone; `blob_segments`: the sealed segments when the database
    // is the store (`b:<sha256>` or `u:<upload id>`). Segments are the one binary column.
    Migration {
        shared: r"
CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, file_type TEXT NOT NULL, data_key TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    ticket_id TEXT,
    user_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data_key TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    file_type TEXT
);
CREATE INDEX uploads_sha256 ON uploads(sha256);
CREATE INDEX uploads_created ON uploads(created_at);
CREATE TABLE blob_refs (entry_id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, attachment_id TEXT NOT NULL, sha256 TEXT NOT NULL, size BIGINT NOT NULL, filename TEXT NOT NULL, mime TEXT NOT NULL);
CREATE INDEX blob_refs_sha256 ON blob_refs(sha256);
CREATE INDEX blob_refs_attachment ON blob_refs(ticket_id, attachment_id);
CREATE TABLE blob_deletions (sha256 TEXT PRIMARY KEY, at BIGINT NOT NULL);
",
        sqlite: &["CREATE TABLE blob_segments (owner TEXT NOT NULL, idx BIGINT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (owner, idx))"],
        postgres: &["CREATE TABLE blob_segments (owner TEXT NOT NULL, idx BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (owner, idx))"],
    },
];

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Kind::Postgres
        } else if url.starts_with("sqlite:") {
            Kind::Sqlite
        } else {
            anyhow::bail!("database URL must start with sqlite:// or postgres://");
        };
        // SQLite: create the file when missing; one writer at a time anyway, so few connections.
        let url = match kind {
            Kind::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if kind == Kind::Sqlite { 4 } else { 32 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if kind == Kind::Sqlite {
                        conn.execute(
                            // secure_delete: freed space is overwritten with zeros, so the
                            // text of a redacted entry does not linger in free pages.
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                             PRAGMA secure_delete = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
        let db = Db {
            pool,
            kind,
            writer: Arc::new(tokio::sync::Mutex::new(())),
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        self.pool
            .execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_version")
            .fetch_one(&self.pool)
            .await?;
        let current = current.unwrap_or(0);
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let mut tx = self.pool.begin().await?;
            let own = match self.kind {
                Kind::Sqlite => migration.sqlite,
                Kind::Postgres => migration.postgres,
            };
            let shared = migration.shared.split(';').map(str::trim);
            for statement in shared.chain(own.iter().copied()).filter(|s| !s.is_empty()) {
                tx.execute(statement).await?;
            }
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(index as i64 + 1)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Called after a transaction that redacted an entry (or erased a delivered outbound
    /// message's body) has committed. SQLite overwrites freed
    /// space with zeros (`secure_delete`), but the page as it was before the redaction can still
    /// sit in the write-ahead log: a `TRUNCATE` checkpoint copies the log into the database and
    /// empties it. Best effort: while readers hold old snapshots the checkpoint stays partial
    /// (logged); SQLite's automatic checkpoints then copy the rest and the log is reused from its
    /// start. PostgreSQL keeps the old row version until (auto)vacuum reclaims its space; there is
    /// nothing to do here (see README, "Redaction").
    pub async fn erase_freed(&self) {
        if self.kind != Kind::Sqlite {
            return;
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await
        {
            Ok((0, _, _)) => {}
            Ok(_) => tracing::warn!(
                "checkpoint after erasing text was partial (readers busy); automatic checkpoints finish it"
            ),
            Err(e) => tracing::warn!(error = %e, "checkpoint after erasing text failed"),
        }
    }

    /// Starts a write transaction holding the write lock from its start: on SQLite `BEGIN
    /// IMMEDIATE` (so two writers never deadlock upgrading read locks), on PostgreSQL the
    /// counter rows (`WriteTx::lock`). Writers therefore run one at a time on both databases,
    /// and what a transaction reads (a ticket, a device's last mutation, a rating, a used
    /// refresh token) is not changed by another writer before it commits: no read-then-write
    /// race, also between instances.
    pub async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        match self.kind {
            Kind::Sqlite => {
                let slot = self.writer.clone().lock_owned().await;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx::new(tx, Some(slot)))
            }
            Kind::Postgres => {
                let mut tx = WriteTx::new(self.pool.begin().await?, None);
                tx.lock().await?;
                Ok(tx)
            }
        }
    }
}

/// Takes the next value of a counter inside `tx` (see [`WriteTx`]).
pub async fn next(tx: &mut WriteTx, counter: &str) -> sqlx::Result<i64> {
    tx.next(counter).await
}

/// Reserves `n` consecutive values of a counter inside `tx`; returns the first.
pub async fn next_block(tx: &mut WriteTx, counter: &str, n: i64) -> sqlx::Result<i64> {
    tx.next_block(counter, n).await
}

pub fn now_millis() -> i64 {
    now().timestamp_millis()
}

/// The current time at millisecond precision: what the client caches keep, so a ticket or entry
/// written here reads back identical on every device.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
