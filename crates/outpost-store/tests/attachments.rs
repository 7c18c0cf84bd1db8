//! Attachments in the cache: bytes that may be absent (on the server only), the resumable
//! upload's state kept across a restart, downloads checked against the entry, redaction
//! forgetting the bytes, and withdrawing an attachment that was never pushed. Real SQLCipher.

mod common;

use chrono::Duration;
use common::*;
use outpost_core::model::{Entry, EntryBody, EntryKind, Priority};
use outpost_core::sync::{Change, ChangeKind, Mutation, MutationOutcome, MutationResult};
use outpost_store::{AttachmentState, Store, StoreError};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-the-rest-of-a-screenshot";

fn remote(changes: Vec<ChangeKind>) -> Vec<Change> {
    changes
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Change {
            seq: i as u64 + 1,
            kind,
        })
        .collect()
}

/// A cache holding ticket 1 as server truth (revision 1).
fn with_ticket(dir: &tempfile::TempDir) -> Store {
    let mut store = open(dir);
    let created = store
        .apply_local(
            &actor(),
            new_ticket(1, "KYC documents", "licence scan", "support", Priority::P2),
            now(),
        )
        .unwrap();
    let mut ticket = created.ticket;
    ticket.revision = 1;
    ticket.key = Some("OP-1".into());
    store
        .apply_remote(&remote(vec![ChangeKind::Ticket(Box::new(ticket))]), now())
        .unwrap();
    store.confirm_through(1, now()).unwrap();
    assert_eq!(store.outbox_len().unwrap(), 0);
    store
}

fn attach(store: &mut Store, name: &str, data: &[u8]) -> (Uuid, u64) {
    let change = store
        .add_attachment(&actor(), ticket_id(1), name, "image/png", data, now())
        .unwrap();
    let attachment = change
        .entries
        .iter()
        .find_map(|e| match &e.body {
            EntryBody::Attachment { attachment_id, .. } => Some(*attachment_id),
            _ => None,
        })
        .unwrap();
    (attachment, change.mutation_id)
}

fn state(store: &Store, id: Uuid) -> (AttachmentState, u64) {
    let view = store
        .attachment_view(ticket_id(1), id)
        .unwrap()
        .expect("listed");
    (view.state, view.sent_bytes)
}

#[test]
fn an_upload_keeps_its_place_across_a_restart_until_it_is_pushed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = with_ticket(&dir);
    let (id, mutation_id) = attach(&mut store, "scan.png", PNG);
    assert_eq!(state(&store, id), (AttachmentState::Queued, 0));
    let upload = store.upload_state(id).unwrap().unwrap();
    assert_eq!(upload.upload_id, None);
    assert_eq!(upload.size, PNG.len() as u64);
    assert_eq!(upload.sha256, hex::encode(Sha256::digest(PNG)));

    // Chunks are read from the encrypted row, the last one short.
    assert_eq!(
        store.attachment_chunk(id, 0, 8).unwrap().unwrap(),
        &PNG[..8]
    );
    assert_eq!(
        store.attachment_chunk(id, 8, 1000).unwrap().unwrap(),
        &PNG[8..]
    );

    store.record_upload(id, Some("up-1"), 8, false).unwrap();
    assert_eq!(state(&store, id), (AttachmentState::Uploading, 8));
    drop(store);

    // A restarted app continues where the server stopped.
    let mut store = open(&dir);
    let upload = store.upload_state(id).unwrap().unwrap();
    assert_eq!(upload.upload_id.as_deref(), Some("up-1"));
    assert_eq!(upload.offset, 8);
    assert!(!upload.uploaded);

    store
        .record_upload(id, Some("up-1"), PNG.len() as u64, true)
        .unwrap();
    assert_eq!(
        state(&store, id),
        (AttachmentState::Uploading, PNG.len() as u64)
    );
    store.mark_pushed(&[id]).unwrap();
    store
        .record_push_results(
            &[MutationResult {
                mutation_id,
                outcome: MutationOutcome::Applied { revision: 2 },
            }],
            now(),
        )
        .unwrap();
    assert_eq!(
        state(&store, id),
        (AttachmentState::Uploaded, PNG.len() as u64)
    );
    // Pushed: it can only be redacted now.
    assert!(matches!(
        store.cancel_attachment(&actor(), ticket_id(1), id, now()),
        Err(StoreError::AttachmentSent)
    ));
    assert_eq!(store.attachment(id).unwrap().as_deref(), Some(PNG));
}

#[test]
fn a_pulled_attachment_is_remote_until_downloaded_and_redaction_forgets_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = with_ticket(&dir);
    let attachment_id = Uuid::from_u128(0xA77);
    let entry = Entry {
        id: Uuid::from_u128(0xE77),
        ticket_id: ticket_id(1),
        author: Some(Uuid::from_u128(0xB2)),
        body: EntryBody::Attachment {
            attachment_id,
            filename: "id-card.png".into(),
            mime: "image/png".into(),
            size: PNG.len() as u64,
            sha256: hex::encode(Sha256::digest(PNG)),
        },
        created_at: now(),
    };
    store
        .apply_remote(
            &remote(vec![ChangeKind::Entry(Box::new(entry.clone()))]),
            now(),
        )
        .unwrap();
    assert_eq!(state(&store, attachment_id), (AttachmentState::Remote, 0));
    assert_eq!(store.attachment(attachment_id).unwrap(), None);

    // Bytes that do not match the entry are not kept.
    let mut tampered = PNG.to_vec();
    tampered[10] ^= 1;
    assert!(matches!(
        store.store_download(ticket_id(1), attachment_id, &tampered),
        Err(StoreError::AttachmentMismatch { .. })
    ));
    assert!(matches!(
        store.store_download(ticket_id(1), attachment_id, &PNG[1..]),
        Err(StoreError::AttachmentMismatch { .. })
    ));
    assert_eq!(store.attachment(attachment_id).unwrap(), None);
    // Not an attachment of this ticket: refused.
    assert!(matches!(
        store.store_download(ticket_id(1), Uuid::from_u128(0xBAD), PNG),
        Err(StoreError::AttachmentNotFound(_))
    ));

    let view = store
        .store_download(ticket_id(1), attachment_id, PNG)
        .unwrap();
    assert_eq!(view.state, AttachmentState::Downloaded);
    assert_eq!(view.sent_bytes, PNG.len() as u64);
    assert_eq!(
        store.attachment(attachment_id).unwrap().as_deref(),
        Some(PNG)
    );
    // A downloaded file is not a local upload.
    assert_eq!(store.upload_state(attachment_id).unwrap(), None);

    // The supervisor's redaction arrives: the bytes and the listing are gone.
    let redacted = Entry {
        body: EntryBody::Redacted {
            original: EntryKind::Attachment,
            reason: "ID card of another customer".into(),
            by: Some(Uuid::from_u128(0xC3)),
            at: now() + Duration::minutes(1),
            removed_sha256: entry.body.content_sha256(),
        },
        ..entry
    };
    store
        .apply_remote(
            &remote(vec![ChangeKind::Entry(Box::new(redacted))]),
            now() + Duration::minutes(1),
        )
        .unwrap();
    assert_eq!(store.attachment(attachment_id).unwrap(), None);
    assert!(store.attachments(ticket_id(1)).unwrap().is_empty());
    assert!(matches!(
        store.store_download(ticket_id(1), attachment_id, PNG),
        Err(StoreError::AttachmentNotFound(_))
    ));
}

#[test]
fn withdrawing_an_unpushed_attachment_leaves_no_gap_in_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = with_ticket(&dir);
    let note = |text: &str| Mutation::AddNote {
        ticket_id: ticket_id(1),
        entry_id: Uuid::now_v7(),
        text: text.into(),
    };
    store.apply_local(&actor(), note("before"), now()).unwrap();
    let (id, withdrawn) = attach(&mut store, "wrong-file.png", PNG);
    store.apply_local(&actor(), note("after"), now()).unwrap();
    let ids = |store: &Store| -> Vec<u64> {
        store
            .pending_batch(100)
            .unwrap()
            .iter()
            .map(|m| m.mutation_id)
            .collect()
    };
    assert_eq!(ids(&store), [2, 3, 4]);
    assert_eq!(withdrawn, 3);
    store.record_upload(id, Some("up-9"), 0, false).unwrap();

    // Another ticket's attachment cannot be withdrawn through this one.
    assert!(matches!(
        store.cancel_attachment(&actor(), ticket_id(2), id, now()),
        Err(StoreError::AttachmentNotFound(_))
    ));
    let upload = store
        .cancel_attachment(&actor(), ticket_id(1), id, now())
        .unwrap();
    assert_eq!(
        upload.as_deref(),
        Some("up-9"),
        "the server's upload to cancel"
    );
    assert_eq!(store.attachment(id).unwrap(), None);
    assert!(store.attachments(ticket_id(1)).unwrap().is_empty());
    // The later note moved down: the server sees 2, 3 and then 4 for the next change.
    assert_eq!(ids(&store), [2, 3]);
    let batch = store.pending_batch(100).unwrap();
    assert!(matches!(&batch[1].mutation, Mutation::AddNote { text, .. } if text == "after"));
    let next = store.apply_local(&actor(), note("next"), now()).unwrap();
    assert_eq!(next.mutation_id, 4);
    // Both notes are still in the timeline; the attachment entry is not.
    let detail = store.ticket(ticket_id(1), now()).unwrap();
    let notes = detail
        .entries
        .iter()
        .filter(|e| matches!(e.body, EntryBody::Note { .. }))
        .count();
    assert_eq!(notes, 3);
    assert!(!detail
        .entries
        .iter()
        .any(|e| matches!(e.body, EntryBody::Attachment { .. })));
    // Withdrawn twice: nothing left to withdraw. The audit chain records the withdrawal.
    assert!(matches!(
        store.cancel_attachment(&actor(), ticket_id(1), id, now()),
        Err(StoreError::AttachmentNotFound(_))
    ));
    assert!(store.verify_audit().unwrap().is_ok());
    let events = store.audit_events(0, 100).unwrap();
    assert!(events
        .iter()
        .any(|e| e.event.action == "entry.cancel_attachment"));
}

#[test]
fn an_attachment_the_server_refuses_is_listed_as_failed_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = with_ticket(&dir);
    let (id, mutation_id) = attach(&mut store, "report.png", PNG);
    store
        .record_upload_failure(id, "The file's bytes are not a PNG image.")
        .unwrap();
    let view = store.attachment_view(ticket_id(1), id).unwrap().unwrap();
    assert_eq!(view.state, AttachmentState::Failed);
    assert_eq!(
        view.reason.as_deref(),
        Some("The file's bytes are not a PNG image.")
    );

    // The push is refused: the entry leaves the timeline, the bytes stay with the problem and
    // the attachment is still listed as failed.
    store.mark_pushed(&[id]).unwrap();
    store
        .record_push_results(
            &[MutationResult {
                mutation_id,
                outcome: MutationOutcome::Rejected {
                    code: outpost_core::error::ErrorCode::Invalid,
                    reason: "no finished upload of this file".into(),
                },
            }],
            now(),
        )
        .unwrap();
    let listed = store.attachments(ticket_id(1)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, AttachmentState::Failed);
    assert!(store.attachment(id).unwrap().is_some());
    // Dismissing the problem lets the bytes go.
    let problem = store.sync_problems().unwrap()[0].id;
    store.dismiss(problem).unwrap();
    assert_eq!(store.attachment(id).unwrap(), None);
    assert!(store.attachments(ticket_id(1)).unwrap().is_empty());
}
