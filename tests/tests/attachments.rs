//! Attachments, whole system: the real `outpost-server` binary (SQLite and PostgreSQL) and
//! desktop clients as in-process `Desk`s. An attachment made offline waits in the outbox with
//! its bytes and reaches a colleague byte for byte once its author reconnects; a supervisor's
//! redaction removes the bytes from the server and from both caches; an upload cut by a killed
//! server resumes where the server stopped; small files come with the ticket; an agent who
//! cannot see a ticket gets neither its files nor an upload on it. A customer's ID scan sent
//! through the public form reaches two agents and leaves the server, its status page and both
//! caches when a supervisor redacts it.
//!
//! PostgreSQL scenarios need `OUTPOST_TEST_PG_URL`; the binaries must be built (`make test`).

use std::time::Duration;

use outpost_client::api::{ApiError, ServerApi, UploadRequest};
use outpost_core::error::ErrorCode;
use outpost_core::model::TicketId;
use outpost_core::sync::Mutation;
use outpost_store::AttachmentState;
use outpost_system_tests::client::is_transient;
use outpost_system_tests::{wait_for, Backend, Client, Server, Snapshot};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One test per scenario and backend: `sqlite::<scenario>` and `postgres::<scenario>`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(outpost_system_tests::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(outpost_system_tests::Backend::Postgres).await
            })*
        }
    };
}

on_both_backends!(
    a_customers_scan_reaches_both_agents_and_its_redaction_empties_server_and_caches,
    an_offline_attachment_reaches_a_colleague_and_a_redaction_removes_it_everywhere,
    an_upload_cut_by_a_killed_server_resumes_where_the_server_stopped,
    small_files_come_with_the_ticket_and_hidden_tickets_keep_theirs,
);

const MIB: usize = 1024 * 1024;

/// The first open ticket of `department`, in key order.
fn pick(snapshot: &Snapshot, department: &str) -> TicketId {
    let mut tickets: Vec<_> = snapshot
        .tickets
        .values()
        .filter(|t| t.department.as_deref() == Some(department) && t.status.is_open())
        .collect();
    tickets.sort_by_key(|t| (t.key.clone(), t.id));
    tickets
        .first()
        .map_or_else(|| panic!("no open {department} ticket"), |t| t.id)
}

/// A PDF-looking file of `len` bytes (the magic number, then seeded noise).
fn pdf(len: usize, seed: u64) -> Vec<u8> {
    let mut data = b"%PDF-1.7\n".to_vec();
    let mut rest = vec![0u8; len - data.len()];
    ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut rest);
    data.extend_from_slice(&rest);
    data
}

/// A PNG-looking file of `len` bytes.
fn png(len: usize, seed: u64) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut rest = vec![0u8; len - data.len()];
    ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut rest);
    data.extend_from_slice(&rest);
    data
}

async fn state_of(client: &Client, ticket: TicketId, id: uuid::Uuid) -> (AttachmentState, u64) {
    let view = client
        .desk
        .attachments(ticket)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.attachment_id == id)
        .unwrap_or_else(|| panic!("{}: attachment {id} is not listed", client.account.email));
    (view.state, view.sent_bytes)
}

/// `admin` redacts the attachment entry `view` and pushes it; the server then refuses the file
/// to Ann (404), as it refuses a file that never existed.
async fn redact_and_see_it_refused(
    server: &Server,
    admin: &Client,
    view: &outpost_store::AttachmentView,
    reason: &str,
) {
    admin.settle(5).await;
    admin
        .desk
        .change(Mutation::RedactEntry {
            ticket_id: view.ticket_id,
            entry_id: view.entry_id,
            reason: reason.into(),
        })
        .await
        .unwrap();
    admin.settle(5).await;
    let api = ServerApi::new(&server.url(), None).unwrap();
    let token = server.token(&server.org.ann).await;
    let gone = api
        .download_attachment(&token, view.ticket_id, view.attachment_id, view.size)
        .await
        .expect_err("a redacted attachment is not served");
    assert!(
        matches!(gone, ApiError::Server { status: 404, .. }),
        "{gone:?}"
    );
}

/// A JPEG-looking file of `len` bytes.
fn jpeg(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut rest = vec![0u8; len - data.len()];
    ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut rest);
    data.extend_from_slice(&rest);
    data
}

/// The public form posted as a browser posts it (`multipart/form-data`, no script) with one
/// file; answers the status page's path from the redirect.
async fn customer_submits(url: &str, subject: &str, filename: &str, file: &[u8]) -> String {
    const BOUNDARY: &str = "----outpostcustomer9f1c";
    let mut body = Vec::new();
    for (name, value) in [
        ("subject", subject),
        (
            "description",
            "My ID card scan for the business account, as asked.",
        ),
        ("name", "Li Wei"),
        ("contact", "li.wei@example.com"),
    ] {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser
        .post(format!("{url}/c/new?lang=en"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("the form is answered");
    assert_eq!(answer.status().as_u16(), 303, "{:?}", answer.text().await);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    location.split('?').next().unwrap().to_owned()
}

async fn a_customers_scan_reaches_both_agents_and_its_redaction_empties_server_and_caches(
    backend: Backend,
) {
    let mut server = Server::start(backend).await;
    let org = server.org;
    let url = server.url();
    let (ann, bob, admin) = tokio::join!(
        Client::ready(&url, &org.ann),
        Client::ready(&url, &org.bob),
        Client::ready(&url, &org.admin)
    );

    // The customer sends the scan through the public form, no script involved.
    let subject = "Business account opening: ID card scan";
    let scan = jpeg(200 * 1024, 7);
    let status_page = customer_submits(&url, subject, "id card scan.jpg", &scan).await;
    let page = outpost_system_tests::server::http()
        .get(format!("{url}{status_page}?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id card scan.jpg"), "{page}");
    assert!(!page.contains("<script"), "{page}");

    // Wherever the rules placed it, the supervisor routes it to support.
    admin.settle(5).await;
    let ticket = server
        .snapshot(&org.admin)
        .await
        .tickets
        .values()
        .find(|t| t.subject == subject)
        .map(|t| (t.id, t.department.clone()))
        .expect("the form's ticket");
    if ticket.1.as_deref() != Some("support") {
        admin
            .desk
            .change(Mutation::SetDepartment {
                ticket_id: ticket.0,
                department: Some("support".into()),
            })
            .await
            .unwrap();
        admin.settle(5).await;
    }
    let ticket = ticket.0;

    // Both agents get the entry; each opens the scan, byte for byte the customer's.
    ann.settle(5).await;
    bob.settle(5).await;
    let listed = ann.desk.attachments(ticket).await.unwrap();
    let view = listed
        .iter()
        .find(|a| a.filename == "id card scan.jpg")
        .unwrap_or_else(|| panic!("the scan is not listed: {listed:?}"))
        .clone();
    assert_eq!(view.mime, "image/jpeg");
    assert_eq!(view.size, scan.len() as u64);
    for client in [&ann, &bob] {
        client
            .desk
            .fetch_attachment(ticket, view.attachment_id)
            .await
            .unwrap();
        let cached = client
            .desk
            .cached_attachment(view.attachment_id)
            .await
            .unwrap()
            .expect("the scan in the cache");
        assert!(cached == scan, "{}: the scan differs", client.account.email);
    }
    let preview = ann
        .desk
        .attachments(ticket)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.attachment_id == view.attachment_id)
        .unwrap();
    assert_eq!(preview.state, AttachmentState::Downloaded);

    // Bob, offline, adds the bank statement; it reaches Ann once he is back.
    server.kill();
    let statement = pdf(600 * 1024, 8);
    let added = bob
        .desk
        .attach_file(ticket, "bank statement.pdf", statement.clone())
        .await
        .unwrap();
    assert_eq!(added.state, AttachmentState::Queued);
    assert!(is_transient(&bob.sync().await.expect_err("offline")));
    server.restart().await;
    bob.settle(5).await;
    ann.settle(5).await;
    ann.desk
        .fetch_attachment(ticket, added.attachment_id)
        .await
        .unwrap();
    assert!(
        ann.desk
            .cached_attachment(added.attachment_id)
            .await
            .unwrap()
            .is_some_and(|bytes| bytes == statement),
        "Ann does not have Bob's statement byte for byte"
    );

    // The supervisor redacts the scan: gone from the server (agents and the status page) and
    // from both caches; the statement stays.
    redact_and_see_it_refused(
        &server,
        &admin,
        &view,
        "customer asked us to delete the scan",
    )
    .await;
    let page = outpost_system_tests::server::http()
        .get(format!("{url}{status_page}?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("id card scan.jpg"), "{page}");
    ann.settle(5).await;
    bob.settle(5).await;
    for client in [&ann, &bob] {
        assert_eq!(
            client
                .desk
                .cached_attachment(view.attachment_id)
                .await
                .unwrap(),
            None,
            "{}: the scan's bytes are still in the cache",
            client.account.email
        );
        let left: Vec<_> = client
            .desk
            .attachments(ticket)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.filename)
            .collect();
        assert_eq!(left, ["bank statement.pdf"], "{}", client.account.email);
    }
}

async fn an_offline_attachment_reaches_a_colleague_and_a_redaction_removes_it_everywhere(
    backend: Backend,
) {
    let mut server = Server::start(backend).await;
    let org = server.org;
    let url = server.url();
    let (ann, bob, admin) = tokio::join!(
        Client::ready(&url, &org.ann),
        Client::ready(&url, &org.bob),
        Client::ready(&url, &org.admin)
    );
    let ticket = pick(&server.snapshot(&org.ann).await, "support");

    // Bob is offline: the attachment waits in the outbox with its bytes in his cache.
    server.kill();
    let statement = pdf(3 * MIB / 2, 1);
    let view = bob
        .desk
        .attach_file(ticket, "bank statement.pdf", statement.clone())
        .await
        .unwrap();
    assert_eq!(view.state, AttachmentState::Queued);
    assert_eq!(view.mime, "application/pdf");
    assert_eq!(view.size, statement.len() as u64);
    // A file whose name contradicts its bytes is refused before anything is kept.
    let refused = bob
        .desk
        .attach_file(ticket, "invoice.pdf", png(4_000, 2))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::FileRefused, "{refused}");
    // A wrong file is withdrawn before it ever left; the note queued after it still goes.
    let wrong = bob
        .desk
        .attach_file(ticket, "wrong file.pdf", pdf(10_000, 6))
        .await
        .unwrap();
    let note = "bob: the statement is attached";
    bob.desk.note(ticket, note.into()).await.unwrap();
    bob.desk
        .cancel_attachment(ticket, wrong.attachment_id)
        .await
        .unwrap();
    assert_eq!(
        bob.desk
            .cached_attachment(wrong.attachment_id)
            .await
            .unwrap(),
        None
    );
    let error = bob.sync().await.expect_err("the server is down");
    assert!(is_transient(&error), "{error}");
    assert_eq!(
        state_of(&bob, ticket, view.attachment_id).await.0,
        AttachmentState::Queued
    );
    assert_eq!(
        bob.desk
            .cached_attachment(view.attachment_id)
            .await
            .unwrap()
            .as_deref(),
        Some(&statement[..])
    );
    assert_eq!(bob.desk.attachments(ticket).await.unwrap().len(), 1);

    // Back online: uploaded, then pushed; Ann gets the entry, and the bytes on demand.
    server.restart().await;
    bob.settle(5).await;
    assert_eq!(
        state_of(&bob, ticket, view.attachment_id).await,
        (AttachmentState::Uploaded, statement.len() as u64)
    );
    // Pushed: it can no longer be withdrawn, only redacted.
    let late = bob
        .desk
        .cancel_attachment(ticket, view.attachment_id)
        .await
        .expect_err("withdrawing a pushed attachment");
    assert_eq!(late.code(), ErrorCode::Rejected, "{late}");
    ann.settle(5).await;
    assert_eq!(
        state_of(&ann, ticket, view.attachment_id).await,
        (AttachmentState::Remote, 0),
        "1.5 MiB is not prefetched"
    );
    let timeline = ann.desk.inspect_ticket(ticket).await.unwrap().entries;
    assert!(
        timeline
            .iter()
            .any(|e| outpost_system_tests::snapshot::text_of(e) == Some(note)),
        "the note queued after the withdrawn file did not arrive"
    );
    assert!(
        !timeline.iter().any(|e| matches!(
            &e.body,
            outpost_core::model::EntryBody::Attachment { attachment_id, .. }
                if *attachment_id == wrong.attachment_id
        )),
        "the withdrawn file reached the server"
    );
    assert_eq!(
        ann.desk
            .cached_attachment(view.attachment_id)
            .await
            .unwrap(),
        None
    );
    let fetched = ann
        .desk
        .fetch_attachment(ticket, view.attachment_id)
        .await
        .unwrap();
    assert_eq!(fetched.state, AttachmentState::Downloaded);
    assert_eq!(fetched.filename, "bank statement.pdf");
    let downloaded = ann
        .desk
        .cached_attachment(view.attachment_id)
        .await
        .unwrap()
        .expect("downloaded into the cache");
    assert!(
        downloaded == statement,
        "Ann's copy differs from Bob's file"
    );

    // A supervisor redacts it: the server refuses the download, and both caches lose the bytes.
    redact_and_see_it_refused(&server, &admin, &view, "another customer's statement").await;
    ann.settle(5).await;
    bob.settle(5).await;
    for client in [&ann, &bob] {
        assert_eq!(
            client
                .desk
                .cached_attachment(view.attachment_id)
                .await
                .unwrap(),
            None,
            "{}: the bytes are still in the cache",
            client.account.email
        );
        assert!(
            client.desk.attachments(ticket).await.unwrap().is_empty(),
            "{}: the redacted attachment is still listed",
            client.account.email
        );
    }
}

async fn an_upload_cut_by_a_killed_server_resumes_where_the_server_stopped(backend: Backend) {
    let mut server = Server::start(backend).await;
    let org = server.org;
    let url = server.url();
    let (ann, bob) = tokio::join!(Client::ready(&url, &org.ann), Client::ready(&url, &org.bob));
    let ticket = pick(&server.snapshot(&org.ann).await, "support");
    let file = pdf(12 * MIB, 3);
    let mut progress = bob.desk.attachment_progress().await.unwrap();
    let view = bob
        .desk
        .attach_file(ticket, "licence scans.pdf", file.clone())
        .await
        .unwrap();

    // The server is killed once it has confirmed 2 MiB (the client records each answer).
    let size = file.len() as u64;
    let (synced, killed_at) = tokio::join!(bob.sync(), async {
        let waited = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                let moved = progress.recv().await.expect("progress events");
                if moved.attachment_id != view.attachment_id {
                    continue;
                }
                assert!(
                    moved.sent_bytes < size,
                    "the upload finished before the server was killed"
                );
                if moved.sent_bytes >= 2 * MIB as u64 {
                    server.kill();
                    return moved.sent_bytes;
                }
            }
        })
        .await;
        waited.expect("2 MiB uploaded within two minutes")
    });
    let error = synced.expect_err("the server died mid-upload");
    assert!(is_transient(&error), "{error}");
    let (state, recorded) = state_of(&bob, ticket, view.attachment_id).await;
    assert_eq!(state, AttachmentState::Uploading);
    assert!(
        recorded >= killed_at && recorded < size,
        "recorded {recorded}, killed at {killed_at}"
    );

    // Restarted: the upload goes on from what the server kept, not from the start.
    server.restart().await;
    while progress.try_recv().is_ok() {}
    bob.settle(5).await;
    let mut after = Vec::new();
    while let Ok(moved) = progress.try_recv() {
        if moved.attachment_id == view.attachment_id {
            after.push(moved.sent_bytes);
        }
    }
    let resumed_from = *after.first().expect("progress after the restart");
    assert!(
        resumed_from > 0 && resumed_from <= recorded,
        "resumed from {resumed_from}; {recorded} were recorded before the kill"
    );
    assert_eq!(after.last(), Some(&size));
    assert_eq!(
        state_of(&bob, ticket, view.attachment_id).await,
        (AttachmentState::Uploaded, size)
    );

    ann.settle(5).await;
    ann.desk
        .fetch_attachment(ticket, view.attachment_id)
        .await
        .unwrap();
    let copy = ann
        .desk
        .cached_attachment(view.attachment_id)
        .await
        .unwrap()
        .expect("downloaded");
    assert!(
        copy == file,
        "the resumed upload does not match the file byte for byte"
    );
}

async fn small_files_come_with_the_ticket_and_hidden_tickets_keep_theirs(backend: Backend) {
    let server = Server::start(backend).await;
    let org = server.org;
    let url = server.url();
    let (ann, cai) = tokio::join!(Client::ready(&url, &org.ann), Client::ready(&url, &org.cai));
    let support = pick(&server.snapshot(&org.ann).await, "support");
    let finance = pick(&server.snapshot(&org.cai).await, "finance");

    // Cai attaches a screenshot to a support ticket and an ID scan to a finance ticket.
    let screenshot = png(200_000, 4);
    let shot = cai
        .desk
        .attach_file(support, "screenshot.png", screenshot.clone())
        .await
        .unwrap();
    let scan = cai
        .desk
        .attach_file(finance, "id-card.png", png(100_000, 5))
        .await
        .unwrap();
    cai.settle(5).await;

    // Ann opens the support ticket: the small file arrives without asking.
    ann.settle(5).await;
    ann.desk.ticket(support).await.unwrap();
    let prefetched = wait_for(
        "the screenshot prefetched with its ticket",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            ann.desk
                .cached_attachment(shot.attachment_id)
                .await
                .unwrap()
        },
    )
    .await;
    assert!(prefetched == screenshot);
    assert_eq!(
        state_of(&ann, support, shot.attachment_id).await.0,
        AttachmentState::Downloaded
    );

    // Cai withdraws a large file while it uploads: the upload stops at the next chunk, nothing
    // reaches the server, and what Cai does next still goes through.
    let mut progress = cai.desk.attachment_progress().await.unwrap();
    let large = cai
        .desk
        .attach_file(support, "whole archive.pdf", pdf(10 * MIB, 7))
        .await
        .unwrap();
    let (synced, withdrawn) = tokio::join!(cai.sync(), async {
        let started = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                let moved = progress.recv().await.expect("progress events");
                if moved.attachment_id == large.attachment_id && moved.sent_bytes >= MIB as u64 {
                    return;
                }
            }
        })
        .await;
        started.expect("1 MiB uploaded within two minutes");
        cai.desk
            .cancel_attachment(support, large.attachment_id)
            .await
    });
    withdrawn.expect("withdrawn while uploading");
    synced.expect("the sync that was uploading ends without an error");
    let after = "cai: sent the right file instead";
    cai.desk.note(support, after.into()).await.unwrap();
    cai.settle(5).await;
    ann.settle(5).await;
    let timeline = ann.desk.inspect_ticket(support).await.unwrap().entries;
    assert!(timeline
        .iter()
        .any(|e| outpost_system_tests::snapshot::text_of(e) == Some(after)));
    assert!(
        !ann.desk
            .attachments(support)
            .await
            .unwrap()
            .iter()
            .any(|a| a.attachment_id == large.attachment_id),
        "the withdrawn file reached the server"
    );

    // Ann does not see the finance ticket: its file id is no key to it, and she cannot upload
    // onto it either. Both refusals are the answers for a ticket that does not exist.
    let api = ServerApi::new(&url, None).unwrap();
    let token = server.token(&org.ann).await;
    let nowhere = uuid::Uuid::now_v7();
    let refused = api
        .download_attachment(&token, finance, scan.attachment_id, scan.size)
        .await
        .expect_err("a hidden ticket's file");
    assert!(
        matches!(refused, ApiError::Server { status: 404, .. }),
        "{refused:?}"
    );
    let missing = api
        .download_attachment(&token, nowhere, scan.attachment_id, scan.size)
        .await
        .expect_err("a file of a ticket that does not exist");
    assert_eq!(
        refused, missing,
        "a hidden ticket answers like a missing one"
    );
    let request = UploadRequest {
        filename: "x.png".into(),
        size: 1_000,
        sha256: "0".repeat(64),
    };
    let upload = api
        .start_upload(&token, finance, &request)
        .await
        .expect_err("an upload onto a hidden ticket");
    assert!(
        matches!(upload, ApiError::Server { status: 404, .. }),
        "{upload:?}"
    );
    let missing = api
        .start_upload(&token, nowhere, &request)
        .await
        .expect_err("an upload onto a ticket that does not exist");
    assert_eq!(
        upload, missing,
        "a hidden ticket answers like a missing one"
    );
    // Cai, who sees it, gets the file.
    let token = server.token(&org.cai).await;
    let bytes = api
        .download_attachment(&token, finance, scan.attachment_id, scan.size)
        .await
        .unwrap();
    assert_eq!(bytes.len() as u64, scan.size);
}
