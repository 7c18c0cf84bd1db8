//! Schema and migrations, keyed on `PRAGMA user_version`.
//!
//! Each migration runs in its own transaction together with the version bump, so a crash between
//! two migrations leaves a consistent, resumable database.

use rusqlite::Connection;

use crate::Result;

/// Schema version this build writes.
pub const VERSION: i64 = 6;

const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r"
    CREATE TABLE tickets (
        rowid            INTEGER PRIMARY KEY,
        id               BLOB NOT NULL UNIQUE,
        key              TEXT,
        subject          TEXT NOT NULL,
        status           TEXT NOT NULL,
        priority         INTEGER NOT NULL,   -- 1..4, so P1 sorts first
        risk             TEXT NOT NULL,
        category         TEXT NOT NULL,
        department       TEXT,
        assignee         BLOB,
        requester_name   TEXT NOT NULL,
        created_at       INTEGER NOT NULL,   -- unix ms
        updated_at       INTEGER NOT NULL,
        sla_due_at       INTEGER NOT NULL,   -- unix ms, or DUE_PAUSED / DUE_NONE
        sla_warn_at      INTEGER NOT NULL,
        revision         INTEGER NOT NULL,
        unsent           INTEGER NOT NULL DEFAULT 0,  -- outbox mutations not yet confirmed
        doc              TEXT NOT NULL        -- the whole ticket as JSON
    );
    CREATE INDEX tickets_dept_due ON tickets(department, sla_due_at, rowid);
    CREATE INDEX tickets_due ON tickets(sla_due_at, rowid);
    CREATE INDEX tickets_dept_prio ON tickets(department, priority, sla_due_at, rowid);
    CREATE INDEX tickets_prio ON tickets(priority, sla_due_at, rowid);
    CREATE INDEX tickets_updated ON tickets(updated_at, rowid);
    CREATE INDEX tickets_dept_updated ON tickets(department, updated_at, rowid);
    CREATE INDEX tickets_assignee_due ON tickets(assignee, sla_due_at, rowid);
    CREATE INDEX tickets_status ON tickets(status, sla_due_at, rowid);

    CREATE TABLE ticket_tags (
        tag          TEXT NOT NULL,
        ticket_rowid INTEGER NOT NULL REFERENCES tickets(rowid) ON DELETE CASCADE,
        PRIMARY KEY (tag, ticket_rowid)
    ) WITHOUT ROWID;
    CREATE INDEX ticket_tags_ticket ON ticket_tags(ticket_rowid);

    CREATE TABLE entries (
        rowid        INTEGER PRIMARY KEY,
        id           BLOB NOT NULL UNIQUE,
        ticket_rowid INTEGER NOT NULL REFERENCES tickets(rowid) ON DELETE CASCADE,
        kind         TEXT NOT NULL,
        author       BLOB,
        created_at   INTEGER NOT NULL,
        local        INTEGER NOT NULL DEFAULT 0,  -- 1 = optimistic, not yet confirmed by the server
        body         TEXT NOT NULL                -- EntryBody as JSON
    );
    CREATE INDEX entries_ticket ON entries(ticket_rowid, created_at);

    -- Attachment bytes live inside the encrypted database, never as loose files.
    CREATE TABLE attachments (
        id           BLOB PRIMARY KEY,
        ticket_rowid INTEGER NOT NULL REFERENCES tickets(rowid) ON DELETE CASCADE,
        entry_id     BLOB NOT NULL,
        filename     TEXT NOT NULL,
        mime         TEXT NOT NULL,
        size         INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        data         BLOB NOT NULL
    );
    CREATE INDEX attachments_ticket ON attachments(ticket_rowid);

    CREATE TABLE departments (code TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE users (id BLOB PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE templates (id BLOB PRIMARY KEY, language TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE TABLE sla_settings (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);

    CREATE TABLE outbox (
        mutation_id  INTEGER PRIMARY KEY,
        ticket_id    BLOB NOT NULL,
        name         TEXT NOT NULL,
        envelope     TEXT NOT NULL,
        created_at   INTEGER NOT NULL
    );
    CREATE INDEX outbox_ticket ON outbox(ticket_id);

    CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE conflicts (
        id           INTEGER PRIMARY KEY,
        mutation_id  INTEGER NOT NULL,
        ticket_id    BLOB NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('conflict', 'rejected')),
        detail       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        dismissed    INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE audit_local (
        seq          INTEGER PRIMARY KEY,
        at           INTEGER NOT NULL,   -- unix µs, as hashed
        actor        TEXT NOT NULL,
        device       TEXT,
        address      TEXT,
        action       TEXT NOT NULL,
        ticket_id    BLOB,
        before       BLOB,
        after        BLOB,
        detail       TEXT NOT NULL,
        prev_hash    BLOB NOT NULL,
        hash         BLOB NOT NULL
    );
    -- The local chain is append-only: the database itself refuses edits and deletions.
    CREATE TRIGGER audit_local_no_update BEFORE UPDATE ON audit_local
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    CREATE TRIGGER audit_local_no_delete BEFORE DELETE ON audit_local
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

    -- Search: one document per ticket (subject, description, requester, every entry's text),
    -- indexed twice. Trigram finds any substring of 3+ characters in any script; the short
    -- index holds CJK unigrams and bigrams (and Latin words) for 1- and 2-character queries.
    CREATE TABLE search_docs (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL);
    CREATE VIRTUAL TABLE search_tri USING fts5(
        text, content = 'search_docs', content_rowid = 'rowid', tokenize = 'trigram');
    CREATE VIRTUAL TABLE search_short USING fts5(
        text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
    ",
    // 2: server truth and rebase (sync.rs).
    r"
    -- The server's latest version of each ticket that has local mutations in the outbox. The
    -- `tickets` row of such a ticket is derived: this truth with the mutations re-applied on top.
    -- No row here (while mutations are pending) means the server has not sent the ticket.
    CREATE TABLE server_tickets (
        id           BLOB PRIMARY KEY,
        revision     INTEGER NOT NULL,
        doc          TEXT NOT NULL
    );
    -- Entries refer to their ticket by id, without a foreign key: a pull page may carry entries
    -- before their ticket (the server sends a ticket at the sequence number of its latest
    -- change). Entries of a ticket that is not in the cache are never read (every read starts
    -- from a ticket) and go with a revocation or a reset.
    CREATE TABLE entries_v2 (
        rowid        INTEGER PRIMARY KEY,
        id           BLOB NOT NULL UNIQUE,
        ticket_id    BLOB NOT NULL,
        kind         TEXT NOT NULL,
        author       BLOB,
        created_at   INTEGER NOT NULL,
        local        INTEGER NOT NULL DEFAULT 0,  -- 1 = optimistic, rebuilt by every rebase
        body         TEXT NOT NULL                -- EntryBody as JSON
    );
    INSERT INTO entries_v2 (rowid, id, ticket_id, kind, author, created_at, local, body)
        SELECT e.rowid, e.id, t.id, e.kind, e.author, e.created_at, e.local, e.body
        FROM entries e JOIN tickets t ON t.rowid = e.ticket_rowid;
    DROP TABLE entries;
    ALTER TABLE entries_v2 RENAME TO entries;
    CREATE INDEX entries_ticket ON entries(ticket_id, created_at);

    -- Who made the change, so a rebase re-applies it with the same actor and derived entry ids.
    ALTER TABLE outbox ADD COLUMN actor BLOB;
    ALTER TABLE outbox ADD COLUMN device BLOB;
    -- 1 once the server has processed the mutation: it is no longer pushed, but keeps shaping the
    -- local view until server truth shows its effect (revision >= confirmed_revision, or the
    -- end of a pull that confirmed it).
    ALTER TABLE outbox ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN confirmed_revision INTEGER;
    -- Why the mutation does not apply on top of the latest server truth (still queued: the
    -- server judges it), or NULL.
    ALTER TABLE outbox ADD COLUMN local_error TEXT;

    -- The new mutation a conflict or problem was re-applied as.
    ALTER TABLE conflicts ADD COLUMN reapplied_as INTEGER;

    -- Attachments refer to their ticket by id: rowids change when a ticket is rebuilt from truth.
    CREATE TABLE attachments_v2 (
        id           BLOB PRIMARY KEY,
        ticket_id    BLOB NOT NULL,
        entry_id     BLOB NOT NULL,
        filename     TEXT NOT NULL,
        mime         TEXT NOT NULL,
        size         INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        data         BLOB NOT NULL
    );
    INSERT INTO attachments_v2 (id, ticket_id, entry_id, filename, mime, size, sha256, data)
        SELECT a.id, t.id, a.entry_id, a.filename, a.mime, a.size, a.sha256, a.data
        FROM attachments a JOIN tickets t ON t.rowid = a.ticket_rowid;
    DROP TABLE attachments;
    ALTER TABLE attachments_v2 RENAME TO attachments;
    CREATE INDEX attachments_ticket ON attachments(ticket_id);

    -- Caches written by schema 1 had no truth copy: their current rows are the best truth known
    -- (tickets created locally and not yet pushed have none).
    INSERT INTO server_tickets (id, revision, doc)
        SELECT t.id, t.revision, t.doc FROM tickets t
        WHERE t.id IN (SELECT ticket_id FROM outbox)
          AND t.id NOT IN (SELECT ticket_id FROM outbox WHERE name = 'ticket.create');
    ",
    // 3: ticket documents beside the rows. The queue columns stay in a narrow table, so queue
    // scans and building its indexes (a bulk load) read a tenth of the pages.
    r"
    CREATE TABLE ticket_docs (
        rowid        INTEGER PRIMARY KEY REFERENCES tickets(rowid) ON DELETE CASCADE,
        doc          TEXT NOT NULL        -- the whole ticket as JSON
    );
    INSERT INTO ticket_docs (rowid, doc) SELECT rowid, doc FROM tickets;
    ALTER TABLE tickets DROP COLUMN doc;
    ",
    // 4: supervisor reports and the satisfaction revisit.
    r#"
    -- One narrow row of report facts per ticket, written with the ticket row, so reports over
    -- 100 000 tickets read no JSON. Clock outcomes: 0 running (breached once `now` passes the
    -- due time), 1 met, 2 breached, 3 no such clock; due times in unix ms (NULL while paused).
    CREATE TABLE ticket_facts (
        rowid             INTEGER PRIMARY KEY REFERENCES tickets(rowid) ON DELETE CASCADE,
        created_at        INTEGER NOT NULL,
        department        TEXT,
        assignee          BLOB,
        priority          INTEGER NOT NULL,
        category          TEXT NOT NULL,
        channel           TEXT NOT NULL,
        account           TEXT,
        open              INTEGER NOT NULL,
        first_response_at INTEGER,
        resolved_at       INTEGER,
        csat              INTEGER,
        fr_out INTEGER NOT NULL, fr_due INTEGER,
        up_out INTEGER NOT NULL, up_due INTEGER,
        res_out INTEGER NOT NULL, res_due INTEGER
    );
    CREATE INDEX ticket_facts_created ON ticket_facts(created_at);
    CREATE INDEX ticket_facts_resolved ON ticket_facts(resolved_at) WHERE resolved_at IS NOT NULL;
    CREATE INDEX ticket_facts_open ON ticket_facts(open, created_at);
    -- Tickets that were reopened at least once (from their timeline, which may arrive before
    -- the ticket).
    CREATE TABLE reopened_tickets (ticket_id BLOB PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO reopened_tickets (ticket_id)
        SELECT ticket_id FROM entries
        WHERE kind = 'event' AND body LIKE '{"kind":"event","event":{"type":"reopened"%';
    -- When a low satisfaction score's revisit is due, while it is (the "Revisit due" view).
    ALTER TABLE tickets ADD COLUMN revisit_due_at INTEGER;
    CREATE INDEX tickets_revisit ON tickets(revisit_due_at, rowid) WHERE revisit_due_at IS NOT NULL;
    "#,
    // 5: the organisation's settings (admin.rs).
    r"
    -- Server truth of each settings document (`VersionedSettings` as JSON); an absent kind is
    -- the product default at version 0. `departments` and `templates` hold server truth too:
    -- queued admin edits are laid over all three when the view is computed.
    CREATE TABLE settings (
        kind         TEXT PRIMARY KEY,
        version      INTEGER NOT NULL,
        doc          TEXT NOT NULL
    );
    INSERT INTO settings (kind, version, doc)
        SELECT 'sla', 0, json_object('version', 0, 'updated_by', NULL, 'updated_at', NULL,
            'settings', json_object('kind', 'sla', 'doc', json(doc)))
        FROM sla_settings;
    DROP TABLE sla_settings;

    -- Admin intents name no ticket: `ticket_id` becomes optional in the outbox and in the
    -- records of refused changes.
    CREATE TABLE outbox_v5 (
        mutation_id        INTEGER PRIMARY KEY,
        ticket_id          BLOB,
        name               TEXT NOT NULL,
        envelope           TEXT NOT NULL,
        created_at         INTEGER NOT NULL,
        actor              BLOB,
        device             BLOB,
        confirmed          INTEGER NOT NULL DEFAULT 0,
        confirmed_revision INTEGER,
        local_error        TEXT
    );
    INSERT INTO outbox_v5 SELECT mutation_id, ticket_id, name, envelope, created_at, actor,
        device, confirmed, confirmed_revision, local_error FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v5 RENAME TO outbox;
    CREATE INDEX outbox_ticket ON outbox(ticket_id);

    CREATE TABLE conflicts_v5 (
        id           INTEGER PRIMARY KEY,
        mutation_id  INTEGER NOT NULL,
        ticket_id    BLOB,
        kind         TEXT NOT NULL CHECK (kind IN ('conflict', 'rejected')),
        detail       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        dismissed    INTEGER NOT NULL DEFAULT 0,
        reapplied_as INTEGER
    );
    INSERT INTO conflicts_v5 SELECT id, mutation_id, ticket_id, kind, detail, created_at,
        dismissed, reapplied_as FROM conflicts;
    DROP TABLE conflicts;
    ALTER TABLE conflicts_v5 RENAME TO conflicts;
    ",
    // 6: attachments that travel (attachments.rs).
    r"
    -- A row holds bytes that are in this cache: attached on this device ('local') or downloaded
    -- from the server ('download'). An attachment entry without a row is on the server only.
    CREATE TABLE attachments_v6 (
        id            BLOB PRIMARY KEY,
        ticket_id     BLOB NOT NULL,
        entry_id      BLOB NOT NULL,
        filename      TEXT NOT NULL,
        mime          TEXT NOT NULL,
        size          INTEGER NOT NULL,
        sha256        TEXT NOT NULL,
        data          BLOB NOT NULL,
        origin        TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'download')),
        -- The resumable upload of a local attachment: the server's upload id and how many bytes
        -- it keeps, so a restarted app continues where it stopped.
        upload_id     TEXT,
        upload_offset INTEGER NOT NULL DEFAULT 0,
        -- 1 once the server holds the whole file (its `entry.add_attachment` may be pushed).
        uploaded      INTEGER NOT NULL DEFAULT 0,
        -- 1 once its mutation went out in a push: it can no longer be withdrawn.
        pushed        INTEGER NOT NULL DEFAULT 0,
        -- Why the server refused the upload, or NULL.
        failure       TEXT
    );
    INSERT INTO attachments_v6 (id, ticket_id, entry_id, filename, mime, size, sha256, data)
        SELECT id, ticket_id, entry_id, filename, mime, size, sha256, data FROM attachments;
    DROP TABLE attachments;
    ALTER TABLE attachments_v6 RENAME TO attachments;
    CREATE INDEX attachments_ticket ON attachments(ticket_id);
    ",
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
