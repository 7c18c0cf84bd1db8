//! Local changes write the row, the outbox mutation and the audit event together — or nothing.

mod common;

use common::*;
use outpost_core::model::{Priority, Status};
use outpost_core::sync::Mutation;
use outpost_store::StoreError;
use uuid::Uuid;

#[test]
fn each_change_writes_row_outbox_and_audit_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let id = ticket_id(1);
    store
        .apply_local(
            &actor(),
            new_ticket(1, "退款未到账", "refund missing", "finance", Priority::P2),
            now(),
        )
        .unwrap();
    store
        .apply_local(
            &actor(),
            Mutation::SetAssignee {
                ticket_id: id,
                assignee: Some(actor().user_id),
            },
            now(),
        )
        .unwrap();
    store
        .apply_local(
            &actor(),
            Mutation::AddReply {
                entry_id: Uuid::from_u128(77),
                ticket_id: id,
                text: "已受理".into(),
            },
            now(),
        )
        .unwrap();

    let outbox = store.outbox(100).unwrap();
    let names: Vec<&str> = outbox.iter().map(|o| o.envelope.mutation.name()).collect();
    assert_eq!(
        names,
        ["ticket.create", "ticket.set_assignee", "entry.add_reply"]
    );
    assert_eq!(
        outbox
            .iter()
            .map(|o| o.envelope.mutation_id)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(outbox[2].envelope.base_revision, Some(0));

    let audit = store.audit_events(0, 100).unwrap();
    assert_eq!(
        audit
            .iter()
            .map(|e| e.event.action.as_str())
            .collect::<Vec<_>>(),
        names
    );
    assert!(audit[0].event.before.is_none() && audit[1].event.before.is_some());
    assert_eq!(store.verify_audit().unwrap().unwrap().count, 3);

    let detail = store.ticket(id, now()).unwrap();
    assert_eq!(detail.ticket.status, Status::Assigned);
    assert_eq!(detail.unsent, 3);
    assert!(detail.ticket.first_response_at.is_some());
    // created event, assignee event, status event, reply
    assert_eq!(detail.entries.len(), 4);
}

#[test]
fn a_refused_change_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let id = ticket_id(1);
    store
        .apply_local(
            &actor(),
            new_ticket(1, "subject", "", "support", Priority::P3),
            now(),
        )
        .unwrap();
    let before = store.ticket(id, now()).unwrap();

    let err = store
        .apply_local(
            &actor(),
            Mutation::SetStatus {
                ticket_id: id,
                status: Status::InProgress,
                reason: None,
            },
            now(),
        )
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the change was refused: assign the ticket to someone before moving it to in_progress"
    );

    let err = store.apply_local(
        &actor(),
        Mutation::AddTag {
            ticket_id: Uuid::from_u128(5),
            tag: "x".into(),
        },
        now(),
    );
    assert!(err.is_err());

    assert_eq!(store.outbox_len().unwrap(), 1);
    assert_eq!(store.audit_events(0, 10).unwrap().len(), 1);
    let after = store.ticket(id, now()).unwrap();
    assert_eq!(after.ticket, before.ticket);
    assert_eq!(after.entries, before.entries);
    // The next accepted change continues the numbering without a gap.
    let ok = store
        .apply_local(
            &actor(),
            Mutation::AddTag {
                ticket_id: id,
                tag: "VIP".into(),
            },
            now(),
        )
        .unwrap();
    assert_eq!(ok.mutation_id, 2);
}

#[test]
fn the_local_audit_chain_cannot_be_rewritten_through_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    {
        let mut store = open(&dir);
        store
            .apply_local(
                &actor(),
                new_ticket(1, "s", "", "support", Priority::P3),
                now(),
            )
            .unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .unwrap();
    let err = conn
        .execute("UPDATE audit_local SET actor = 'mallory'", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn.execute("DELETE FROM audit_local", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn attachments_are_size_limited_and_kept_encrypted_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .apply_local(
            &actor(),
            new_ticket(1, "s", "", "support", Priority::P3),
            now(),
        )
        .unwrap();
    let too_big = vec![0u8; outpost_store::MAX_ATTACHMENT_BYTES + 1];
    let err = store.add_attachment(
        &actor(),
        ticket_id(1),
        "big.bin",
        "application/octet-stream",
        &too_big,
        now(),
    );
    assert!(matches!(err, Err(StoreError::AttachmentTooLarge { .. })));
    let change = store
        .add_attachment(
            &actor(),
            ticket_id(1),
            "截图.png",
            "image/png",
            b"\x89PNG...",
            now(),
        )
        .unwrap();
    let outpost_core::model::EntryBody::Attachment {
        attachment_id,
        size,
        ..
    } = &change.entries[0].body
    else {
        panic!("not an attachment entry");
    };
    assert_eq!(*size, 7);
    assert_eq!(
        store.attachment(*attachment_id).unwrap().as_deref(),
        Some(&b"\x89PNG..."[..])
    );
    assert_eq!(
        store.search("截图", 5).unwrap().len(),
        1,
        "attachment names are searchable"
    );
}
