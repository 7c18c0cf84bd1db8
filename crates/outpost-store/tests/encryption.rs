//! The cache is encrypted at rest, and a wrong key changes nothing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use outpost_core::model::Priority;
use outpost_core::sync::Mutation;
use outpost_store::{Store, StoreError};
use uuid::Uuid;

const MARKER: &str = "PLAINTEXT-MARKER-7f3a9c 登录冻结退款";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file in the directory with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn no_plaintext_reaches_the_database_file_or_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .apply_local(
            &actor(),
            new_ticket(1, MARKER, MARKER, "support", Priority::P2),
            now(),
        )
        .unwrap();
    store
        .apply_local(
            &actor(),
            Mutation::AddReply {
                entry_id: Uuid::from_u128(9),
                ticket_id: ticket_id(1),
                text: MARKER.into(),
            },
            now(),
        )
        .unwrap();
    store
        .add_attachment(
            &actor(),
            ticket_id(1),
            "leak.txt",
            "text/plain",
            MARKER.as_bytes(),
            now(),
        )
        .unwrap();

    // While open, the changes sit in the WAL: scan it too.
    let files = snapshot(dir.path());
    assert!(
        files.contains_key("cache.db-wal"),
        "WAL mode is on: {:?}",
        files.keys()
    );
    let probes: [&[u8]; 4] = [
        MARKER.as_bytes(),
        b"PLAINTEXT-MARKER",
        "登录冻结".as_bytes(),
        b"SQLite format 3",
    ];
    for (name, bytes) in &files {
        for probe in probes {
            assert!(
                !contains(bytes, probe),
                "{name} contains {:?} in clear",
                String::from_utf8_lossy(probe)
            );
        }
    }

    store.checkpoint().unwrap();
    drop(store);
    for (name, bytes) in snapshot(dir.path()) {
        assert!(
            !contains(&bytes, b"PLAINTEXT-MARKER"),
            "{name} after checkpoint"
        );
    }

    // And the data is really there for the right key.
    let store = open(&dir);
    let detail = store.ticket(ticket_id(1), now()).unwrap();
    assert_eq!(detail.ticket.subject, MARKER);
    assert_eq!(store.search("7f3a9c", 10).unwrap().len(), 1);
}

#[test]
fn a_wrong_key_is_a_typed_error_and_leaves_every_byte_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    {
        let mut store = open(&dir);
        store
            .apply_local(
                &actor(),
                new_ticket(1, "subject", "body", "support", Priority::P3),
                now(),
            )
            .unwrap();
    }
    let before = snapshot(dir.path());

    let err = Store::open(&path, &key(8))
        .err()
        .expect("wrong key must fail");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert!(err.to_string().contains("Nothing was changed"));
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the wrong key changed the directory"
    );

    // The right key still opens it, with the data intact.
    let store = Store::open(&path, &key(7)).unwrap();
    assert_eq!(store.ticket_count().unwrap(), 1);
    assert_eq!(store.outbox_len().unwrap(), 1);
}

#[test]
fn a_file_that_is_not_a_cache_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let garbage: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path, &key(7))
        .err()
        .expect("garbage must fail");
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    assert_eq!(snapshot(dir.path()).len(), 1);
}

#[test]
fn a_cache_from_a_newer_outpost_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    drop(open(&dir));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA user_version = 99;",
            "07".repeat(32)
        ))
        .unwrap();
    }
    let before = snapshot(dir.path());
    let err = Store::open(&path, &key(7))
        .err()
        .expect("newer schema must fail");
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("update Outpost"));
    assert_eq!(snapshot(dir.path()), before);
}

/// Permission bits of every file in the directory.
#[cfg(unix)]
fn modes(dir: &Path) -> BTreeMap<String, u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().permissions().mode() & 0o777,
            )
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn the_cache_and_its_side_files_are_private_to_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .apply_local(
            &actor(),
            new_ticket(1, "subject", "body", "support", Priority::P3),
            now(),
        )
        .unwrap();
    let files = modes(dir.path());
    assert!(files.contains_key("cache.db-wal"), "{files:?}");
    assert!(files.contains_key("cache.db-shm"), "{files:?}");
    for (name, mode) in &files {
        assert_eq!(*mode, 0o600, "{name} is {mode:o}");
    }
}

#[cfg(unix)]
#[test]
fn a_cache_an_older_outpost_left_readable_is_tightened_on_open() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .apply_local(
            &actor(),
            new_ticket(1, "subject", "body", "support", Priority::P3),
            now(),
        )
        .unwrap();
    // A killed client: the WAL and its index stay beside the database file.
    std::mem::forget(store);
    for name in ["cache.db", "cache.db-wal", "cache.db-shm"] {
        std::fs::set_permissions(
            dir.path().join(name),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }

    let store = open(&dir);
    assert_eq!(store.ticket_count().unwrap(), 1);
    let files = modes(dir.path());
    assert_eq!(files.len(), 3, "{files:?}");
    for (name, mode) in &files {
        assert_eq!(*mode, 0o600, "{name} is {mode:o}");
    }
}
