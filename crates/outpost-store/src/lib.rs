//! The encrypted local cache of the Outpost desktop client.
//!
//! One SQLCipher 4 database per profile, opened with a raw 32-byte key that the caller brings
//! (from the OS keychain, or derived from a passphrase). Architecture invariants:
//!
//! - Nothing is written before the key is proven right: a wrong key leaves the file
//!   byte-for-byte untouched.
//! - Every local change writes its row, its outbox mutation and its audit event in one
//!   transaction ([`Store::apply_local`]); there is no other way to change a ticket locally.
//! - Queue pages use keyset pagination over covering indexes; nothing scans with `OFFSET`.
//! - A ticket without queued mutations is server truth; a ticket with queued mutations is its
//!   server truth with them re-applied on top, recomputed after every pull (`sync.rs`). A pull
//!   page, its confirmations and its cursor commit together.
//! - The cache's files are private to the user (0600 on Unix), including those an older
//!   Outpost created readable by others.

mod admin;
mod attachments;
mod bulk;
mod columns;
mod directory;
mod key;
mod local;
mod queue;
mod remote;
mod reports;
mod schema;
mod search;
mod state;
mod sync;
mod tickets;

use std::path::{Path, PathBuf};

use outpost_core::sla::SlaSettings;
use rusqlite::{Connection, OpenFlags};

pub use admin::{CalendarEffect, OrgSettingsView};
pub use attachments::{AttachmentState, AttachmentView, UploadState};
pub use directory::Directory;
pub use key::DbKey;
pub use local::{Actor, LocalChange, OutboxItem};
pub use queue::{
    AssigneeFilter, QueueCursor, QueueFilter, QueuePage, QueueRow, QueueSort, SlaFilter,
};
pub use reports::{
    Attainment, CountRow, CsatSummary, DayRow, DepartmentRank, DurationStats, RecurringIssue,
    ReopenSummary, Report, ReportParams, SlaRow, MAX_REPORT_DAYS,
};
pub use search::{Highlighted, SearchHit};
pub use sync::{ConflictRecord, PullApplied, PushRecorded, SyncProblem};
pub use tickets::{risk_panel, ActionGate, L1Freeze, RiskPanel, StateRefusal, TicketDetail};

/// The page cache of an open store, in KiB (a bulk load uses more while it runs).
pub(crate) const CACHE_KIB: i64 = 32 * 1024;

/// Largest attachment kept in the cache.
pub const MAX_ATTACHMENT_BYTES: usize = outpost_core::apply::MAX_ATTACHMENT_BYTES as usize;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the key does not open the local cache at {path}: it was created with another key, or it \
         is not an Outpost cache. Nothing was changed; unlock with the right key or sign in again \
         to rebuild it"
    )]
    WrongKey { path: PathBuf },
    #[error(
        "the local cache at {path} was written by a newer Outpost (schema {found}, this build \
         knows {known}); update Outpost. Nothing was changed"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("ticket {0} is not in the local cache")]
    TicketNotFound(uuid::Uuid),
    #[error("the change was refused: {0}")]
    Rejected(#[from] outpost_core::apply::Rejection),
    #[error("the attachment is {size} bytes; the limit is {MAX_ATTACHMENT_BYTES}")]
    AttachmentTooLarge { size: usize },
    #[error("attachment {0} is not in this ticket's timeline; it may have been redacted")]
    AttachmentNotFound(uuid::Uuid),
    #[error(
        "the attachment has already been sent to the server and can no longer be withdrawn; a \
         supervisor can redact it"
    )]
    AttachmentSent,
    #[error(
        "the downloaded bytes of {filename} do not match the attachment's size and SHA-256; \
         nothing was kept. Download it again"
    )]
    AttachmentMismatch { filename: String },
    #[error("there is no open conflict or sync problem {0}")]
    RecordNotFound(i64),
    #[error("the queue cursor is not valid for this query; start from the first page")]
    BadCursor,
    #[error("cannot make this report: {0}")]
    BadReport(String),
    #[error("stored data could not be read ({0}); the cache may be damaged")]
    Corrupt(String),
    #[error("local database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot use the local cache file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// The code the desktop reports this failure with: a refused change and a wrong key are
    /// told apart, every other failure is the cache's.
    pub fn code(&self) -> outpost_core::error::ErrorCode {
        use outpost_core::error::ErrorCode;
        match self {
            StoreError::Rejected(_) | StoreError::AttachmentSent => ErrorCode::Rejected,
            StoreError::AttachmentNotFound(_) => ErrorCode::NotFound,
            StoreError::WrongKey { .. } => ErrorCode::WrongKey,
            _ => ErrorCode::Cache,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The open cache. Not `Sync`: the client owns one per profile behind its own lock.
pub struct Store {
    conn: Connection,
    /// The organisation's settings as this device sees them (`admin.rs`): what deadlines and
    /// the verification gate are computed with.
    admin: OrgSettingsView,
}

impl Store {
    /// Opens (or creates) the encrypted cache at `path` with `key`.
    pub fn open(path: &Path, key: &DbKey) -> Result<Store> {
        Store::open_inner(path, Some(key))
    }

    /// Opens an unencrypted database: only for the plain-SQLite baseline in benchmarks.
    #[cfg(feature = "plaintext-baseline")]
    pub fn open_plaintext_for_baseline(path: &Path) -> Result<Store> {
        Store::open_inner(path, None)
    }

    fn open_inner(path: &Path, key: Option<&DbKey>) -> Result<Store> {
        let existed = path.exists();
        if !existed {
            create_private(path)?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | if existed {
                OpenFlags::empty()
            } else {
                OpenFlags::SQLITE_OPEN_CREATE
            };
        // SQLCipher's process-wide crypto set-up is torn down when the last keyed connection
        // closes and rebuilt by the next one; racing the two made opens fail now and then with
        // "An error occurred with PRAGMA key" when tests opened and closed caches on several
        // threads. A keyed in-memory anchor connection keeps it alive for the process, keying
        // is serialised (it happens once per open), and a keying failure of that kind is tried
        // once more on a fresh connection before it is reported.
        static KEYING: std::sync::Mutex<Option<Connection>> = std::sync::Mutex::new(None);
        let mut keying = KEYING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if keying.is_none() {
            let anchor = Connection::open_in_memory()?;
            anchor.execute_batch("PRAGMA cipher_log_level = NONE; PRAGMA key = 'anchor';")?;
            anchor.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?;
            *keying = Some(anchor);
        }
        let attempt = || -> rusqlite::Result<(Connection, rusqlite::Result<i64>)> {
            let conn = Connection::open_with_flags(path, flags)?;
            // A wrong key is reported as a typed error; SQLCipher's own stderr logging would
            // only repeat it to a terminal nobody reads.
            conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
            if let Some(key) = key {
                key.apply(&conn)?;
            }
            // Prove the key before anything can write: reading the schema decrypts page 1.
            let probe = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
            Ok((conn, probe))
        };
        let keying_failed = |e: &rusqlite::Error| {
            matches!(e, rusqlite::Error::SqliteFailure(f, Some(m))
                if f.code == rusqlite::ErrorCode::Unknown && m.contains("PRAGMA key"))
        };
        let (conn, probe) = match attempt() {
            Err(e) if keying_failed(&e) => attempt()?,
            Ok((_, Err(e))) if keying_failed(&e) => attempt()?,
            other => other?,
        };
        drop(keying);
        match probe {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(StoreError::WrongKey {
                    path: path.to_owned(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::VERSION {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: version,
                known: schema::VERSION,
            });
        }
        // Only now is the file known to be this cache: a cache an older Outpost created
        // readable by others is made private before anything more is written.
        tighten_cache_files(path)?;
        // WAL keeps readers off the writer's back; FULL sync because the outbox holds the only
        // copy of an agent's offline work.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA busy_timeout = 5000;",
        )?;
        let mut conn = conn;
        schema::migrate(&mut conn)?;
        bulk::size_cache(&conn)?;
        // A bulk load interrupted by a restart resumes with its journal.
        bulk::set_journal(&conn, bulk::active(&conn)?)?;
        let (admin, _) = admin::compute_view(&conn)?;
        let mut store = Store { conn, admin };
        if (1..4).contains(&version) {
            // Schema 4 added report facts: the rows a cache already held get theirs once, here.
            store.backfill_facts(chrono::DateTime::from(std::time::SystemTime::now()))?;
        }
        Ok(store)
    }

    /// The SLA policies and calendar the cache computes deadlines with.
    pub fn sla_settings(&self) -> &SlaSettings {
        self.admin.settings.sla_settings()
    }

    /// Checkpoints the WAL into the main file (used before measuring or copying the file).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// Creates the empty database file private to the user (0600 on Unix, whatever the umask),
/// before SQLite opens it: SQLite would create it 0644, and gives its journal, WAL and
/// shared-memory files the database file's mode.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Created by someone else in between: opened (and tightened) as an existing cache.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Io {
            path: path.to_owned(),
            source: e,
        }),
    }
}

/// Takes group and other access off the database file and its side files (`-wal`, `-shm`,
/// `-journal`), which an older Outpost created 0644. Missing files are skipped.
fn tighten_cache_files(path: &Path) -> Result<()> {
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm", "-journal"] {
        use std::os::unix::fs::PermissionsExt;
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let mode = match std::fs::metadata(&file) {
            Ok(metadata) => metadata.permissions().mode(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(StoreError::Io {
                    path: file,
                    source: e,
                })
            }
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
                .map_err(|e| StoreError::Io {
                    path: file,
                    source: e,
                })?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
