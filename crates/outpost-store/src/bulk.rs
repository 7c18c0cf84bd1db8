//! The bulk load of an initial sync into a cache without server rows.
//!
//! While it runs (`sync_state.bulk = 1`), the queue indexes on `tickets` and the report indexes on
//! `ticket_facts` are dropped (their definitions are kept in `sync_state.bulk_indexes`) and search
//! documents are not maintained per page. The page that completes the sync recreates the indexes
//! and builds every search document in one pass, in the same transaction as its rows (the trigram index on a worker
//! thread, in a private in-memory database, copied in before the commit). Each page is still its own
//! transaction, so a crash mid-load leaves a consistent cache that resumes from its cursor; until
//! the load completes, queues are slower and search is incomplete (`Store::bootstrapping`).

use std::borrow::Cow;
use std::collections::HashMap;

use outpost_core::model::EntryBody;
use rusqlite::types::ToSqlOutput;
use rusqlite::{params, Connection};
use serde::Deserialize;

use crate::search;
use crate::{corrupt, state, Result};

/// The page cache of a bulk load, in KiB: the tickets table stays cached while the eight queue
/// indexes are built from it (each build scans the table; uncached, every scan decrypts it
/// again). Memory is taken only as pages are touched and given back when the load completes.
const BULK_CACHE_KIB: i64 = 256 * 1024;

/// FTS5's default size of the in-memory term buffer, restored after the bulk build.
const FTS_DEFAULT_HASHSIZE: i64 = 1024 * 1024;
/// The term buffer during the bulk build: fewer, larger segments and fewer merges.
const FTS_BULK_HASHSIZE: i64 = 16 * 1024 * 1024;

pub(crate) fn active(conn: &Connection) -> Result<bool> {
    Ok(state::get(conn, "bulk")?.as_deref() == Some("1"))
}

/// True when every ticket row is derived from queued mutations (a new cache, or one just reset):
/// nothing would be lost by building indexes afterwards.
pub(crate) fn cache_has_no_truth(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM tickets t
             WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.ticket_id = t.id))",
        [],
        |r| r.get(0),
    )?)
}

/// Sizes the page cache for the current mode (`Store::open` calls it, so a load interrupted by a
/// restart resumes with the bulk cache), and sets `secure_delete`: on, so freed pages (a
/// redacted entry's text) are zeroed, except during a bulk load, which fills a cache that holds
/// no server rows yet, where zeroing the pages of the dropped indexes would only cost time.
pub(crate) fn size_cache(conn: &Connection) -> Result<()> {
    let bulk = active(conn)?;
    let kib = if bulk {
        BULK_CACHE_KIB
    } else {
        crate::CACHE_KIB
    };
    let secure = if bulk { "OFF" } else { "ON" };
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -{kib}; PRAGMA secure_delete = {secure};"
    ))?;
    Ok(())
}

/// Sets the journal for the current mode, outside any transaction (`Store::open`, and around the
/// transactions that enter or finish a bulk load). A bulk load uses a rollback journal: pages
/// past the end of the file are not journaled, so each new page is encrypted and written once,
/// into the database file. In WAL mode it would be written to the WAL and copied again by every
/// checkpoint. The rollback journal is as atomic and (with `synchronous = FULL`) as durable; the
/// store has one connection, so WAL's concurrent readers are not lost. Back in WAL mode once the
/// load completes.
pub(crate) fn set_journal(conn: &Connection, bulk: bool) -> Result<()> {
    let want = if bulk { "truncate" } else { "wal" };
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case(want) {
        let set: String =
            conn.query_row(&format!("PRAGMA journal_mode = {want}"), [], |r| r.get(0))?;
        if !set.eq_ignore_ascii_case(want) {
            return Err(corrupt(format!("journal mode {want} refused ({set})")));
        }
        // A read transaction opens the new journal (entering WAL mode: the WAL and its index),
        // so the connection is in a settled state for what follows (a checkpoint straight
        // after the switch was refused as locked otherwise).
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
    }
    Ok(())
}

/// True when the next pull page will start a bulk load (or one is under way): checked before
/// its transaction, so the journal can be switched first.
pub(crate) fn will_be_active(conn: &Connection) -> Result<bool> {
    Ok(active(conn)? || (state::cursor(conn)? == 0 && cache_has_no_truth(conn)?))
}

pub(crate) fn enter(conn: &Connection) -> Result<()> {
    let indexes: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND tbl_name IN ('tickets', 'ticket_facts') AND sql IS NOT NULL
             ORDER BY name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, _) in &indexes {
        // Index names come from the schema, not from input.
        conn.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
    }
    let sqls: Vec<&String> = indexes.iter().map(|(_, sql)| sql).collect();
    state::set(
        conn,
        "bulk_indexes",
        &serde_json::to_string(&sqls).map_err(corrupt)?,
    )?;
    state::set(conn, "bulk", "1")?;
    size_cache(conn)
}

/// Completes a bulk load inside the transaction of its last page: builds every search document
/// and recreates the queue indexes (while a worker thread builds the trigram index, see
/// [`rebuild_search`]).
pub(crate) fn finish(conn: &Connection) -> Result<()> {
    let sqls: Vec<String> = match state::get(conn, "bulk_indexes")? {
        Some(json) => serde_json::from_str(&json).map_err(corrupt)?,
        None => Vec::new(),
    };
    rebuild_search(conn, |conn| {
        // The index builds sort with a helper thread (SQLite's multi-threaded sorter).
        conn.execute_batch("PRAGMA threads = 2;")?;
        for sql in &sqls {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch("PRAGMA threads = 0;")?;
        Ok(())
    })?;
    conn.execute(
        "DELETE FROM sync_state WHERE key IN ('bulk', 'bulk_indexes')",
        [],
    )?;
    size_cache(conn)
}

/// The fields of a ticket document that go into its search document.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subject: Cow<'a, str>,
    #[serde(borrow)]
    description: Cow<'a, str>,
    #[serde(borrow)]
    requester: Requester<'a>,
}

#[derive(Deserialize)]
struct Requester<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    account_id: Option<Cow<'a, str>>,
}

/// Replaces every search document: builds them all (entries are read in storage order and
/// grouped in memory, tickets in row order) into `search_docs` and the short index, while a
/// worker thread builds the trigram index from the same texts in a private in-memory database
/// (FTS5 work is single-threaded per connection; this way it uses a second core). `meanwhile`
/// runs on `conn` after the documents, while the worker finishes. The trigram table is then
/// recreated empty and its shadow tables (`search_tri_data`, `_idx`, `_docsize`, `_config`) are
/// copied in from the worker, row for row: the worker's table has the same definition and
/// received the same rows in the same order with the same settings as `search_tri` itself would
/// (an `INSERT` per row, as `'rebuild'` does), so the copy is the index `search_tri` would have
/// built. Produces the same documents as `tickets::reindex`.
pub(crate) fn rebuild_search(
    conn: &Connection,
    meanwhile: impl FnOnce(&Connection) -> Result<()>,
) -> Result<()> {
    let tri_sql: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'search_tri'",
        [],
        |r| r.get(0),
    )?;
    conn.execute_batch(&format!(
        "DELETE FROM search_docs;
         INSERT INTO search_short(search_short) VALUES ('delete-all');
         INSERT INTO search_short(search_short, rank) VALUES ('hashsize', {FTS_BULK_HASHSIZE});"
    ))?;
    let (docs_tx, docs_rx) = std::sync::mpsc::sync_channel::<(i64, String)>(TRIGRAM_QUEUE);
    let worker = {
        let tri_sql = tri_sql.clone();
        std::thread::Builder::new()
            .name("outpost-trigram".into())
            .spawn(move || build_trigram(&tri_sql, docs_rx))
            .map_err(corrupt)?
    };
    let built = write_documents(conn, &docs_tx);
    drop(docs_tx);
    let built = built.and_then(|()| meanwhile(conn));
    let trigram = worker
        .join()
        .map_err(|_| corrupt("the trigram index worker panicked"))?;
    // A worker error explains a refused send; otherwise the first error is the documents'.
    let trigram = match (built, trigram) {
        (_, Err(e)) | (Err(e), Ok(_)) => return Err(e),
        (Ok(()), Ok(t)) => t,
    };
    conn.execute_batch(&format!(
        "INSERT INTO search_short(search_short, rank) VALUES ('hashsize', {FTS_DEFAULT_HASHSIZE});"
    ))?;
    // A new table: this connection's FTS5 objects for `search_tri` (which cache the index
    // structure and row totals) go with the old one, so nothing stale outlives the copy.
    conn.execute_batch("DROP TABLE search_tri;")?;
    conn.execute_batch(&tri_sql)?;
    copy_shadow_tables(&trigram, conn, "search_tri")
}

/// Documents queued for the trigram worker, which has more to do than this connection: a deep
/// queue lets the documents (and the queue indexes after them) finish without waiting for it,
/// while bounding the texts in flight (~10 MiB at the demo's document sizes).
const TRIGRAM_QUEUE: usize = 16 * 1024;

/// Writes `search_docs` and the short index, sending each document to the trigram worker.
fn write_documents(
    conn: &Connection,
    docs: &std::sync::mpsc::SyncSender<(i64, String)>,
) -> Result<()> {
    // Searchable entry texts by ticket, in timeline order.
    let mut texts: HashMap<[u8; 16], Vec<(i64, i64, String)>> = HashMap::new();
    {
        let mut entries = conn.prepare("SELECT rowid, ticket_id, created_at, body FROM entries")?;
        let mut rows = entries.query([])?;
        while let Some(row) = rows.next()? {
            let body: EntryBody = serde_json::from_str(row.get_ref(3)?.as_str().map_err(corrupt)?)
                .map_err(corrupt)?;
            if let Some(text) = body.searchable_text() {
                let ticket = <[u8; 16]>::try_from(row.get_ref(1)?.as_blob().map_err(corrupt)?)
                    .map_err(corrupt)?;
                texts
                    .entry(ticket)
                    .or_default()
                    .push((row.get(2)?, row.get(0)?, text.to_owned()));
            }
        }
    }
    let mut tickets = conn.prepare(
        "SELECT t.rowid, t.id, d.doc FROM tickets t JOIN ticket_docs d ON d.rowid = t.rowid
         ORDER BY t.rowid",
    )?;
    let mut insert_doc = conn.prepare("INSERT INTO search_docs (rowid, text) VALUES (?1, ?2)")?;
    let mut insert_short =
        conn.prepare("INSERT INTO search_short (rowid, text) VALUES (?1, ?2)")?;
    let mut rows = tickets.query([])?;
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        let id =
            <[u8; 16]>::try_from(row.get_ref(1)?.as_blob().map_err(corrupt)?).map_err(corrupt)?;
        let doc = row.get_ref(2)?.as_str().map_err(corrupt)?;
        let header: Header<'_> = serde_json::from_str(doc).map_err(corrupt)?;
        let mut text = String::with_capacity(header.subject.len() + header.description.len() + 256);
        // Exactly `search::HEADER_LINES` lines before the description.
        for part in [
            header.key.as_deref().unwrap_or(""),
            &header.subject,
            &header.requester.name,
            header.requester.account_id.as_deref().unwrap_or(""),
            &header.description,
        ] {
            text.push_str(part);
            text.push('\n');
        }
        if let Some(mut entries) = texts.remove(&id) {
            entries.sort_unstable_by_key(|(at, entry_rowid, _)| (*at, *entry_rowid));
            for (_, _, t) in entries {
                text.push_str(&t);
                text.push('\n');
            }
        }
        insert_doc.execute(params![rowid, text])?;
        insert_short.execute(params![rowid, search::short_index_text(&text)])?;
        if docs.send((rowid, text)).is_err() {
            // The worker stopped; its error is reported.
            return Err(corrupt("the trigram index worker stopped"));
        }
    }
    Ok(())
}

/// The trigram worker: a private in-memory database (plaintext, never on disk) with a
/// `search_tri` made by the same statement as the cache's, fed the documents in row order, with
/// the bulk term buffer, in one transaction, then the default buffer setting, as the cache's
/// table ends up after a build on the cache's own connection.
fn build_trigram(
    create_sql: &str,
    docs: std::sync::mpsc::Receiver<(i64, String)>,
) -> Result<Connection> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = OFF;
         PRAGMA temp_store = MEMORY;
         CREATE TABLE search_docs (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL);
         {create_sql};
         INSERT INTO search_tri(search_tri, rank) VALUES ('hashsize', {FTS_BULK_HASHSIZE});
         BEGIN;"
    ))?;
    {
        let mut insert = conn.prepare("INSERT INTO search_tri (rowid, text) VALUES (?1, ?2)")?;
        for (rowid, text) in docs {
            insert.execute(params![rowid, text])?;
        }
    }
    conn.execute_batch(&format!(
        "COMMIT;
         INSERT INTO search_tri(search_tri, rank) VALUES ('hashsize', {FTS_DEFAULT_HASHSIZE});"
    ))?;
    Ok(conn)
}

/// Replaces the rows of every shadow table of FTS5 table `table` in `to` with those in `from`
/// (both tables made by the same statement, so the shadow tables and their columns match).
fn copy_shadow_tables(from: &Connection, to: &Connection, table: &str) -> Result<()> {
    let list = |conn: &Connection| -> Result<Vec<String>> {
        Ok(conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?1 ESCAPE '\\'
                 ORDER BY name",
            )?
            .query_map([format!("{}\\_%", table.replace('_', "\\_"))], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    };
    let shadows = list(from)?;
    if shadows.is_empty() || shadows != list(to)? {
        return Err(corrupt(format!("the shadow tables of {table} differ")));
    }
    for shadow in &shadows {
        // Names come from the schema, not from input.
        let quoted = format!("\"{}\"", shadow.replace('"', "\"\""));
        to.execute_batch(&format!("DELETE FROM {quoted};"))?;
        let mut read = from.prepare(&format!("SELECT * FROM {quoted}"))?;
        let columns = read.column_count();
        let placeholders = (1..=columns)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut write = to.prepare(&format!("INSERT INTO {quoted} VALUES ({placeholders})"))?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let values = (0..columns)
                .map(|i| row.get_ref(i).map(ToSqlOutput::Borrowed))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            write.execute(rusqlite::params_from_iter(values))?;
        }
    }
    Ok(())
}
