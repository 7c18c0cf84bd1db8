//! The `sync_state` table: small named facts about the cache's sync, such as the pull cursor and
//! whether a bulk load is under way. Read and written by the sync (`sync.rs`) and the bulk load
//! (`bulk.rs`), which therefore do not reach into each other for them.

use rusqlite::{Connection, OptionalExtension};

use crate::{corrupt, Result};

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = ?2",
    )?
    .execute([key, value])?;
    Ok(())
}

/// The pull cursor: 0 before the first page.
pub(crate) fn cursor(conn: &Connection) -> Result<u64> {
    get(conn, "cursor")?
        .map(|v| v.parse().map_err(corrupt))
        .transpose()
        .map(|c| c.unwrap_or(0))
}
