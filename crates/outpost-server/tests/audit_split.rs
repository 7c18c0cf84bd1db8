//! On SQLite, `audit::verify` reads a long chain in two halves on two threads and joins them.
//! Tampering on either side of the cut, at the cut itself, or with nothing wrong must give
//! exactly the answer of a single pass over the chain (`outpost_core::audit::verify`).
//! The halves are read in storage (rowid) order first; that pass must answer for an intact
//! chain and step aside for anything irregular, including intact rows stored out of order.

use chrono::{TimeZone, Utc};
use outpost_core::audit::{verify, AuditEvent, BreakKind, ChainHead, ChainedEvent, Hash32};
use outpost_server::db::Db;
use uuid::Uuid;

/// Long enough to be cut in two (the cut is at half the counter).
const EVENTS: u64 = 30_000;
const MIDDLE: u64 = EVENTS / 2;

fn chain() -> Vec<ChainedEvent> {
    let mut head = ChainHead::default();
    (0..EVENTS)
        .map(|k| {
            head.append(AuditEvent {
                seq: 0,
                at: Utc.timestamp_opt(1_790_000_000 + k as i64, 0).unwrap(),
                actor: Uuid::from_u128(u128::from(k % 5)).to_string(),
                device: (k % 2 == 0).then(|| Uuid::from_u128(u128::from(k % 3)).to_string()),
                address: (k % 3 == 0).then(|| "127.0.0.1".to_string()),
                action: "ticket.set_status".into(),
                ticket_id: (k % 4 != 0).then(|| Uuid::from_u128(u128::from(k / 4))),
                before: (k % 5 != 0).then(|| Hash32::digest(&k.to_be_bytes())),
                after: Some(Hash32::digest(&(k + 1).to_be_bytes())),
                detail: format!(r#"{{"mutation_id":{k}}}"#),
            })
        })
        .collect()
}

async fn insert_all(pool: &sqlx::AnyPool, events: &[ChainedEvent]) {
    let rows: Vec<_> = events.iter().map(|c| (c.clone(), None)).collect();
    let mut tx = pool.begin().await.unwrap();
    outpost_server::audit::insert_rows(&mut tx, &rows)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn database(dir: &std::path::Path, events: &[ChainedEvent]) -> Db {
    let url = format!("sqlite://{}", dir.join("outpost.db").display());
    let db = Db::connect(&url).await.unwrap();
    insert_all(&db.pool, events).await;
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'audit_seq'")
        .bind(EVENTS as i64)
        .execute(&db.pool)
        .await
        .unwrap();
    // What an attacker with the database file does first.
    for sql in [
        "DROP TRIGGER audit_no_update",
        "DROP TRIGGER audit_no_delete",
    ] {
        sqlx::query(sql).execute(&db.pool).await.unwrap();
    }
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_cut_in_two_answers_as_one_pass_does() {
    let events = chain();
    // (what to do to the stored chain, the same done to the events, the expected first break)
    type Tamper = (&'static str, Box<dyn Fn(&mut Vec<ChainedEvent>)>);
    let cases: Vec<Tamper> = vec![
        (
            "UPDATE audit SET detail = '{}' WHERE seq = 7",
            Box::new(|v| v[6].event.detail = "{}".into()),
        ),
        (
            "UPDATE audit SET detail = '{}' WHERE seq = 22222",
            Box::new(|v| v[22221].event.detail = "{}".into()),
        ),
        (
            "DELETE FROM audit WHERE seq = 15000",
            Box::new(|v| {
                v.remove(MIDDLE as usize - 1);
            }),
        ),
        (
            "DELETE FROM audit WHERE seq = 15001",
            Box::new(|v| {
                v.remove(MIDDLE as usize);
            }),
        ),
        (
            "UPDATE audit SET prev_hash = hash WHERE seq = 15001",
            Box::new(|v| v[MIDDLE as usize].prev_hash = v[MIDDLE as usize].hash),
        ),
        (
            "UPDATE audit SET prev_hash = hash WHERE seq = 29999",
            Box::new(|v| v[29998].prev_hash = v[29998].hash),
        ),
    ];
    // Untouched first: the storage-order pass answers, and as one pass does.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("outpost.db");
    let db = database(dir.path(), &events).await;
    let ok = outpost_server::audit::verify(&db.pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ok, verify(&events).unwrap());
    assert_eq!(ok.count, EVENTS);
    assert_eq!(
        outpost_server::audit::storage_order_pass(&file).unwrap(),
        Some(ok.clone())
    );
    for (sql, tamper) in cases {
        sqlx::query(sql).execute(&db.pool).await.unwrap();
        assert_eq!(
            outpost_server::audit::storage_order_pass(&file).unwrap(),
            None,
            "the storage-order pass steps aside after {sql}"
        );
        let mut expected = events.clone();
        tamper(&mut expected);
        let want = verify(&expected).unwrap_err();
        let got = outpost_server::audit::verify(&db.pool)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(got, want, "after {sql}");
        assert!(
            !matches!(got.kind, BreakKind::Truncated { .. }),
            "after {sql}: {got}"
        );
        // Undo by rewriting the whole table for the next case.
        sqlx::query("DELETE FROM audit")
            .execute(&db.pool)
            .await
            .unwrap();
        insert_all(&db.pool, &events).await;
    }
}

/// Intact events whose rows are stored out of sequence order (a row deleted and written back
/// unchanged, on either side of the cut, or two rows' storage swapped): nothing was altered, so
/// the chain verifies; the storage-order pass sees the disorder and leaves it to the sequence
/// pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intact_events_stored_out_of_order_still_verify() {
    let events = chain();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("outpost.db");
    let db = database(dir.path(), &events).await;
    let want = verify(&events).unwrap();
    for seqs in [&[100u64][..], &[MIDDLE, MIDDLE + 1], &[EVENTS - 10, 3]] {
        for &seq in seqs {
            sqlx::query("DELETE FROM audit WHERE seq = $1")
                .bind(seq as i64)
                .execute(&db.pool)
                .await
                .unwrap();
        }
        let moved: Vec<ChainedEvent> = seqs
            .iter()
            .rev()
            .map(|&seq| events[seq as usize - 1].clone())
            .collect();
        insert_all(&db.pool, &moved).await;
        assert_eq!(
            outpost_server::audit::storage_order_pass(&file).unwrap(),
            None,
            "rows {seqs:?} moved to the end of the table"
        );
        let got = outpost_server::audit::verify(&db.pool)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, want, "rows {seqs:?} moved to the end of the table");
    }
    // And a forged event past the counter, stored last, is named as before.
    let mut head = ChainHead {
        last_seq: EVENTS,
        hash: want.head.hash,
    };
    let forged = head.append(AuditEvent {
        seq: 0,
        at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
        actor: Uuid::nil().to_string(),
        device: None,
        address: None,
        action: "ticket.set_status".into(),
        ticket_id: None,
        before: None,
        after: None,
        detail: "{}".into(),
    });
    insert_all(&db.pool, &[forged]).await;
    assert_eq!(
        outpost_server::audit::storage_order_pass(&file).unwrap(),
        None
    );
    let got = outpost_server::audit::verify(&db.pool)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(got.seq, EVENTS + 1);
    assert!(matches!(got.kind, BreakKind::BeyondHead { .. }), "{got}");
}
