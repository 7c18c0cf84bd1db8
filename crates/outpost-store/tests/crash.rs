//! A process killed in the middle of a write transaction loses nothing it committed and leaves
//! a cache that opens, verifies and accepts new writes.
//!
//! The test re-runs its own binary as a writer child (selected by an environment variable),
//! reads the child's "committed N" lines, and SIGKILLs it while it is inside a large
//! transaction.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use outpost_core::model::{Entry, EntryBody, Priority};
use outpost_core::sync::{Change, ChangeKind, Mutation, PullResponse};
use outpost_store::Store;
use uuid::Uuid;

const CHILD_ENV: &str = "OUTPOST_CRASH_CHILD_DIR";
const PULL_CHILD_ENV: &str = "OUTPOST_CRASH_PULL_CHILD_DIR";
const PULL_PAGE: u64 = 2_000;

/// Pull page `round` of an endless initial sync: `PULL_PAGE` new tickets with one entry each,
/// numbered by change sequence so the cursor says how many tickets it covers.
fn pull_page(template: &outpost_core::model::Ticket, round: u64, last: bool) -> PullResponse {
    let mut changes = Vec::new();
    for i in 0..PULL_PAGE {
        let n = round * PULL_PAGE + i;
        let mut t = template.clone();
        t.id = Uuid::from_u128(0x20_0000 + u128::from(n));
        t.subject = format!("pulled {n} 同步页");
        changes.push(Change {
            seq: n + 1,
            kind: ChangeKind::Ticket(Box::new(t.clone())),
        });
    }
    // Entries ride in the same page (their seq numbers past the tickets' are fine here).
    let entries: Vec<Change> = changes
        .iter()
        .map(|c| match &c.kind {
            ChangeKind::Ticket(t) => Change {
                seq: c.seq,
                kind: ChangeKind::Entry(Box::new(Entry {
                    id: Uuid::from_u128(t.id.as_u128() + 0x100_0000),
                    ticket_id: t.id,
                    author: None,
                    body: EntryBody::CustomerMessage {
                        text: "客户来信 pulled message".into(),
                    },
                    created_at: now(),
                })),
            },
            _ => unreachable!(),
        })
        .collect();
    changes.extend(entries);
    PullResponse {
        changes,
        cursor: (round + 1) * PULL_PAGE,
        has_more: !last,
        last_mutation_id: 0,
        reset_required: false,
    }
}

fn template_ticket() -> outpost_core::model::Ticket {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db"), &key(7)).unwrap();
    store
        .apply_local(
            &actor(),
            new_ticket(1, "模板", "desc", "support", Priority::P2),
            now(),
        )
        .unwrap()
        .ticket
}

/// The pull writer: applies pull pages of an initial sync into an empty cache (the bulk path),
/// one transaction each, forever. Runs only when the parent test starts it.
#[test]
#[ignore = "run by killed_mid_pull_page_keeps_rows_and_cursor_together as a child process"]
fn crash_child_puller() {
    let Ok(dir) = std::env::var(PULL_CHILD_ENV) else {
        return;
    };
    let template = template_ticket();
    let mut store = Store::open(&std::path::Path::new(&dir).join("cache.db"), &key(7)).unwrap();
    let mut out = std::io::stdout().lock();
    for round in 0..1_000 {
        writeln!(out, "begin {round}").unwrap();
        out.flush().unwrap();
        store
            .apply_pull(&pull_page(&template, round, false), now())
            .unwrap();
        writeln!(out, "page {round}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_mid_pull_page_keeps_rows_and_cursor_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_puller",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PULL_CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut full_pages = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("page ") {
            full_pages += 1;
        } else if line.starts_with("begin ") && full_pages >= 2 {
            std::thread::sleep(Duration::from_millis(30));
            break;
        }
        assert!(Instant::now() < deadline, "child puller made no progress");
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let mut store = Store::open(&dir.path().join("cache.db"), &key(7)).unwrap();
    // Rows and cursor were committed together: the cursor covers exactly the stored tickets.
    let cursor = store.sync_cursor().unwrap();
    assert_eq!(cursor % PULL_PAGE, 0);
    assert!(
        cursor >= full_pages * PULL_PAGE,
        "committed pages were lost"
    );
    assert_eq!(store.ticket_count().unwrap(), cursor);
    // The bulk load resumes from the cursor and completes with indexes and search.
    assert!(store.bootstrapping().unwrap());
    let template = template_ticket();
    let round = cursor / PULL_PAGE;
    let done = store
        .apply_pull(&pull_page(&template, round, true), now())
        .unwrap();
    assert!(done.bootstrap_finished);
    assert!(!store.bootstrapping().unwrap());
    assert_eq!(store.ticket_count().unwrap(), cursor + PULL_PAGE);
    assert_eq!(store.search("同步页", 5).unwrap().len(), 5);
    assert_eq!(store.search("pulled message", 5).unwrap().len(), 5);
    let first = Uuid::from_u128(0x20_0000);
    assert_eq!(store.ticket(first, now()).unwrap().entries.len(), 1);
}

/// The writer: commits small local changes, announcing each, then starts big transactions
/// forever. Runs only when the parent test starts it.
#[test]
#[ignore = "run by killed_mid_transaction_loses_nothing_committed as a child process"]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = std::path::Path::new(&dir).join("cache.db");
    let mut store = Store::open(&path, &key(7)).unwrap();
    let mut out = std::io::stdout().lock();
    store
        .apply_local(
            &actor(),
            new_ticket(1, "崩溃测试", "desc", "support", Priority::P2),
            now(),
        )
        .unwrap();
    for i in 0..40u128 {
        let m = Mutation::AddNote {
            entry_id: Uuid::from_u128(0x5000 + i),
            ticket_id: ticket_id(1),
            text: format!("note {i}"),
        };
        let change = store.apply_local(&actor(), m, now()).unwrap();
        writeln!(out, "committed {}", change.mutation_id).unwrap();
        out.flush().unwrap();
    }
    // Large server pages, each one transaction; the parent kills us inside one.
    for round in 0..1_000u128 {
        let base = 0x10_0000 + round * 10_000;
        let template = store.ticket(ticket_id(1), now()).unwrap().ticket;
        let mut changes = Vec::new();
        for i in 0..2_000u128 {
            let mut t = template.clone();
            t.id = Uuid::from_u128(base + i);
            t.subject = format!("bulk {round} {i} 批量导入");
            changes.push(Change {
                seq: 0,
                kind: ChangeKind::Ticket(Box::new(t.clone())),
            });
            changes.push(Change {
                seq: 0,
                kind: ChangeKind::Entry(Box::new(Entry {
                    id: Uuid::from_u128(base + 5_000 + i),
                    ticket_id: t.id,
                    author: None,
                    body: EntryBody::CustomerMessage {
                        text: "客户来信 customer message".into(),
                    },
                    created_at: now(),
                })),
            });
        }
        writeln!(out, "begin {round}").unwrap();
        out.flush().unwrap();
        store.apply_remote(&changes, now()).unwrap();
        writeln!(out, "page {round}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_mid_transaction_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_writer",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut last_committed = 0u64;
    let mut full_pages = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("committed ") {
            last_committed = n.parse().unwrap();
        } else if line.starts_with("page ") {
            full_pages += 1;
        } else if line.starts_with("begin ") && full_pages >= 1 {
            // The child is now inside a 4 000-row transaction: kill it there.
            std::thread::sleep(Duration::from_millis(30));
            break;
        }
        assert!(Instant::now() < deadline, "child writer made no progress");
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert_eq!(
        last_committed, 41,
        "all local changes were announced before the bulk phase"
    );

    let mut store = Store::open(&dir.path().join("cache.db"), &key(7)).unwrap();
    // Every committed local change survived, with its outbox row and its audit event.
    assert_eq!(store.outbox_len().unwrap(), last_committed);
    let verified = store.verify_audit().unwrap().expect("audit chain intact");
    assert_eq!(verified.count, last_committed);
    let detail = store.ticket(ticket_id(1), now()).unwrap();
    let notes = detail
        .entries
        .iter()
        .filter(|e| matches!(e.body, EntryBody::Note { .. }))
        .count();
    assert_eq!(notes, 40);
    // Committed pages are whole and the interrupted one is absent: counts are multiples of a page.
    let tickets = store.ticket_count().unwrap();
    assert_eq!(
        (tickets - 1) % 2_000,
        0,
        "a partial page survived: {tickets} tickets"
    );
    assert!(tickets > full_pages * 2_000, "committed pages were lost");
    assert_eq!(store.search("批量导入", 5).unwrap().len(), 5);
    // And the cache takes new writes.
    let m = Mutation::AddNote {
        entry_id: Uuid::from_u128(0x9999),
        ticket_id: ticket_id(1),
        text: "after crash".into(),
    };
    assert_eq!(
        store.apply_local(&actor(), m, now()).unwrap().mutation_id,
        last_committed + 1
    );
}
