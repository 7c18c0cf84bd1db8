//! The encrypted blob store and the attachment endpoints, on SQLite (files beside the database)
//! and PostgreSQL (segments in the database): chunked and resumed uploads (a cut connection, a
//! server stopped mid-upload), hash and type checks, who may attach and download, redaction,
//! expiry, customer files, and that nothing is ever stored in clear.

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::*;
use outpost_core::files::AttachmentPolicy;
use outpost_core::sync::Mutation;
use outpost_server::blobs::{Backend, BlobStore, SEGMENT_BYTES};
use outpost_server::config::Config;
use outpost_server::{serve_with, AppState};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;
use uuid::Uuid;

/// A bound on every wait, not an expectation.
const GIVE_UP: Duration = Duration::from_secs(60);
/// A string that must never appear in anything the server stores.
const MARKER: &[u8] = b"PLAINTEXT-MARKER-a91c3e";
const SEG: usize = SEGMENT_BYTES as usize;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A PDF-looking file of `len` bytes full of [`MARKER`], varied by `seed`.
fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut n = 0u32;
    while bytes.len() < len {
        bytes.extend_from_slice(MARKER);
        bytes.extend_from_slice(&n.to_le_bytes());
        bytes.push(seed);
        n += 1;
    }
    bytes.truncate(len);
    bytes
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";

struct Desk {
    token: String,
    device: Uuid,
    next: u64,
}

impl Desk {
    async fn new(s: &Server, email: &str, role: &str, departments: &[&str]) -> Desk {
        let (_, token) = s.user(email, role, departments).await;
        Desk {
            token,
            device: Uuid::now_v7(),
            next: 1,
        }
    }

    /// Pushes one mutation; its outcome entry.
    async fn push(&mut self, s: &Server, mutation: Mutation) -> Value {
        let id = self.next;
        self.next += 1;
        let (status, body) = s.push(&self.token, self.device, vec![(id, mutation)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["results"][0].clone()
    }

    async fn ticket(&mut self, s: &Server, department: &str) -> Uuid {
        let id = Uuid::now_v7();
        let outcome = self.push(s, new_ticket(id, department)).await;
        assert_eq!(outcome["outcome"], "applied", "{outcome}");
        id
    }

    async fn start(
        &self,
        s: &Server,
        ticket: Uuid,
        name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        s.call(
            "POST",
            &format!("/v1/tickets/{ticket}/uploads"),
            Some(&self.token),
            Some(json!({"filename": name, "size": bytes.len(), "sha256": sha(bytes)})),
        )
        .await
    }

    async fn put(
        &self,
        s: &Server,
        upload: &str,
        offset: usize,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        let request = Request::put(format!("/v1/uploads/{upload}?offset={offset}"))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/octet-stream")
            .body(Body::from(bytes.to_vec()))
            .unwrap();
        s.send(request).await
    }

    /// Uploads `bytes` whole (1 MiB chunks) to `ticket`; the last answer.
    async fn upload(
        &self,
        s: &Server,
        ticket: Uuid,
        name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        let (status, created) = self.start(s, ticket, name, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["upload_id"].as_str().unwrap().to_owned();
        let mut offset = 0;
        loop {
            let end = (offset + 16 * SEG).min(bytes.len());
            let (status, answer) = self.put(s, &id, offset, &bytes[offset..end]).await;
            if status != StatusCode::OK || answer["complete"] == true {
                return (status, answer);
            }
            offset = answer["offset"].as_u64().unwrap() as usize;
        }
    }

    /// Uploads and attaches `bytes`; (attachment id, push outcome).
    async fn attach(
        &mut self,
        s: &Server,
        ticket: Uuid,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> (Uuid, Value) {
        let (status, answer) = self.upload(s, ticket, name, bytes).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["complete"], true, "{answer}");
        self.attach_only(s, ticket, name, mime, bytes).await
    }

    async fn attach_only(
        &mut self,
        s: &Server,
        ticket: Uuid,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> (Uuid, Value) {
        let attachment = Uuid::now_v7();
        let outcome = self
            .push(
                s,
                Mutation::AddAttachment {
                    entry_id: Uuid::now_v7(),
                    ticket_id: ticket,
                    attachment_id: attachment,
                    filename: name.into(),
                    mime: mime.into(),
                    size: bytes.len() as u64,
                    sha256: sha(bytes),
                },
            )
            .await;
        (attachment, outcome)
    }

    async fn download(
        &self,
        s: &Server,
        ticket: Uuid,
        attachment: Uuid,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let request = Request::get(format!("/v1/tickets/{ticket}/attachments/{attachment}"))
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::empty())
            .unwrap();
        let response = s.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, bytes.to_vec())
    }
}

async fn entry_of(s: &Server, ticket: Uuid, attachment: Uuid) -> Uuid {
    let row: (String,) = sqlx::query_as(
        "SELECT entry_id FROM blob_refs WHERE ticket_id = $1 AND attachment_id = $2",
    )
    .bind(ticket.to_string())
    .bind(attachment.to_string())
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    row.0.parse().unwrap()
}

/// Every stored copy of blob bytes: the files under the blob directory, or the segment rows.
async fn stored_bytes(s: &Server) -> Vec<(String, Vec<u8>)> {
    match s.state.blobs.backend() {
        Backend::Files(dir) => files_under(dir)
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect(),
        Backend::Database => {
            let rows: Vec<(String, i64, Vec<u8>)> =
                sqlx::query_as("SELECT owner, idx, data FROM blob_segments")
                    .fetch_all(&s.db.pool)
                    .await
                    .unwrap();
            rows.into_iter()
                .map(|(owner, idx, data)| (format!("{owner}#{idx}"), data))
                .collect()
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn assert_no_plaintext(stored: &[(String, Vec<u8>)]) {
    for (name, bytes) in stored {
        assert!(
            !bytes.windows(MARKER.len()).any(|w| w == MARKER),
            "{name} holds plaintext"
        );
    }
}

/// Whether blob `sha256` is still stored anywhere (row, file or segments).
async fn blob_stored(s: &Server, sha256: &str) -> bool {
    let row: Option<String> = sqlx::query_scalar("SELECT sha256 FROM blobs WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(&s.db.pool)
        .await
        .unwrap();
    let segments: i64 = sqlx::query_scalar("SELECT count(*) FROM blob_segments WHERE owner = $1")
        .bind(format!("b:{sha256}"))
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    let file = s.state.blobs.blob_path(sha256).is_some_and(|p| p.exists());
    row.is_some() || segments > 0 || file
}

async fn upload_in_chunks_and_download_byte_identical(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let ticket = a.ticket(&s, "support").await;
    let bytes = pdf(200_000, 1);
    let (status, created) = a.start(&s, ticket, "../statement.pdf", &bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["offset"], 0);
    assert_eq!(created["chunk_bytes"], 8 * 1024 * 1024);
    let id = created["upload_id"].as_str().unwrap().to_owned();
    // 100 000 bytes: one whole segment is kept, the rest is dropped and sent again.
    let (status, answer) = a.put(&s, &id, 0, &bytes[..100_000]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["offset"], SEG as u64);
    assert_eq!(answer["complete"], false);
    // Sending from the wrong place is refused, naming where to continue.
    let (status, answer) = a.put(&s, &id, 0, &bytes[..10]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "conflict");
    assert_eq!(answer["offset"], SEG as u64);
    let (status, answer) = a.put(&s, &id, SEG, &bytes[SEG..2 * SEG]).await;
    assert_eq!(
        (status, answer["offset"].as_u64()),
        (StatusCode::OK, Some(2 * SEG as u64))
    );
    let (_, state) = s
        .call("GET", &format!("/v1/uploads/{id}"), Some(&a.token), None)
        .await;
    assert_eq!(state["offset"], 2 * SEG as u64);
    assert_eq!(state["size"], 200_000);
    assert_eq!(state["complete"], false);
    // A partial upload is stored encrypted too.
    assert_no_plaintext(&stored_bytes(&s).await);
    let (status, answer) = a.put(&s, &id, 2 * SEG, &bytes[2 * SEG..]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["complete"], true);
    assert_eq!(answer["offset"], 200_000);
    assert_eq!(answer["file_type"], "pdf");
    assert_eq!(answer["mime"], "application/pdf");

    let (attachment, outcome) = a
        .attach_only(&s, ticket, "statement.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let (status, headers, body) = a.download(&s, ticket, attachment).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == bytes, "the download differs from the upload");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["content-length"], "200000");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename*=UTF-8''statement.pdf"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert_eq!(headers["cache-control"], "private, no-store");
    // A colleague in the department gets the same bytes.
    let b = Desk::new(&s, "b@acme.example", "agent", &["support"]).await;
    let (status, _, body) = b.download(&s, ticket, attachment).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == bytes);
    // The upload was used up by the entry: a second entry needs a second upload.
    let (_, outcome) = a
        .attach_only(&s, ticket, "statement.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["outcome"], "rejected", "{outcome}");
    assert_eq!(outcome["code"], "file_refused");
}

/// A real server on 127.0.0.1 over the harness's database and blob store.
async fn tcp_server(
    s: &Server,
) -> (
    SocketAddr,
    axum_server::Handle<SocketAddr>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: s.url.clone(),
        ..Config::default()
    };
    let state = AppState::new(s.db.clone(), config, s.master_key.clone())
        .await
        .unwrap();
    let handle = axum_server::Handle::new();
    let task = tokio::spawn(serve_with(state, handle.clone()));
    let addr = tokio::time::timeout(GIVE_UP, handle.listening())
        .await
        .unwrap()
        .expect("listening");
    (addr, handle, task)
}

fn put_head(upload: &str, offset: usize, length: usize, token: &str) -> Vec<u8> {
    format!(
        "PUT /v1/uploads/{upload}?offset={offset} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// Sends a whole request on a new connection; (status, JSON body).
async fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Polls (bounded) until the upload has `offset` bytes stored.
async fn until_offset(s: &Server, token: &str, upload: &str, offset: usize) {
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    loop {
        let (_, state) = s
            .call("GET", &format!("/v1/uploads/{upload}"), Some(token), None)
            .await;
        if state["offset"] == offset as u64 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "stuck at {state}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_cut_connection_resumes_from_the_last_whole_segment(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let ticket = a.ticket(&s, "support").await;
    let bytes = pdf(300_000, 2);
    let (_, created) = a.start(&s, ticket, "scan.pdf", &bytes).await;
    let id = created["upload_id"].as_str().unwrap().to_owned();
    let (addr, handle, _task) = tcp_server(&s).await;
    // Two and a half segments, then the connection drops.
    let cut = 2 * SEG + SEG / 2;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&put_head(&id, 0, bytes.len(), &a.token))
        .await
        .unwrap();
    stream.write_all(&bytes[..cut]).await.unwrap();
    until_offset(&s, &a.token, &id, 2 * SEG).await;
    drop(stream);
    // The client continues from the server's offset; while the cut request is still being
    // wound up the upload reads as busy (409 naming the offset), so it asks again.
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    let answer = loop {
        let mut request = put_head(&id, 2 * SEG, bytes.len() - 2 * SEG, &a.token);
        request.extend_from_slice(&bytes[2 * SEG..]);
        let (status, answer) = exchange(addr, &request).await;
        if status == 200 {
            break answer;
        }
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["offset"], 2 * SEG as u64, "{answer}");
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(answer["complete"], true, "{answer}");
    handle.shutdown();
    let (attachment, outcome) = a
        .attach_only(&s, ticket, "scan.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let (status, _, body) = a.download(&s, ticket, attachment).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == bytes);
}

async fn a_server_stopped_mid_upload_continues_after_restart(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let ticket = a.ticket(&s, "support").await;
    let bytes = pdf(5 * SEG + 1234, 3);
    let (_, created) = a.start(&s, ticket, "statement.pdf", &bytes).await;
    let id = created["upload_id"].as_str().unwrap().to_owned();
    let (addr, handle, task) = tcp_server(&s).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&put_head(&id, 0, bytes.len(), &a.token))
        .await
        .unwrap();
    stream.write_all(&bytes[..3 * SEG + 100]).await.unwrap();
    until_offset(&s, &a.token, &id, 3 * SEG).await;
    // The server goes away mid-request, the connection still open.
    handle.shutdown();
    task.abort();
    let _ = task.await;
    drop(stream);
    // A new server over the same database, blob store and key continues the upload.
    let (addr, handle, _task) = tcp_server(&s).await;
    let get = format!(
        "GET /v1/uploads/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        a.token
    );
    let (status, state) = exchange(addr, get.as_bytes()).await;
    assert_eq!(
        (status, &state["offset"]),
        (200, &json!(3 * SEG)),
        "{state}"
    );
    let mut request = put_head(&id, 3 * SEG, bytes.len() - 3 * SEG, &a.token);
    request.extend_from_slice(&bytes[3 * SEG..]);
    let (status, answer) = exchange(addr, &request).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["complete"], true);
    handle.shutdown();
    let (attachment, outcome) = a
        .attach_only(&s, ticket, "statement.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let (status, _, body) = a.download(&s, ticket, attachment).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == bytes);
}

async fn a_wrong_hash_or_size_or_kind_is_refused(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let ticket = a.ticket(&s, "support").await;
    // Wrong hash: the announced SHA-256 is of other bytes.
    let bytes = pdf(70_000, 4);
    let (_, created) = s
        .call(
            "POST",
            &format!("/v1/tickets/{ticket}/uploads"),
            Some(&a.token),
            Some(json!({"filename": "a.pdf", "size": bytes.len(), "sha256": sha(b"other")})),
        )
        .await;
    let id = created["upload_id"].as_str().unwrap().to_owned();
    let (status, answer) = a.put(&s, &id, 0, &bytes).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "hash_mismatch");
    let (status, _) = s
        .call("GET", &format!("/v1/uploads/{id}"), Some(&a.token), None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused upload is discarded"
    );
    let (_, outcome) = a
        .attach_only(&s, ticket, "a.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["code"], "file_refused", "{outcome}");
    // Too large, announced: refused before any byte is sent.
    let (status, answer) = s
        .call(
            "POST",
            &format!("/v1/tickets/{ticket}/uploads"),
            Some(&a.token),
            Some(
                json!({"filename": "huge.pdf", "size": 25 * 1024 * 1024 + 1, "sha256": sha(b"x")}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["code"], "payload_too_large");
    assert!(
        answer["message"].as_str().unwrap().contains("25 MiB"),
        "{answer}"
    );
    // More bytes than announced.
    let small = pdf(1000, 5);
    let (_, created) = a.start(&s, ticket, "small.pdf", &small).await;
    let id = created["upload_id"].as_str().unwrap().to_owned();
    let mut longer = small.clone();
    longer.extend_from_slice(b"more");
    let (status, answer) = a.put(&s, &id, 0, &longer).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // A PNG named like a PDF: refused, naming both kinds.
    let (status, answer) = a.upload(&s, ticket, "invoice.pdf", PNG).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "file_refused");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("PDF") && message.contains("PNG"),
        "{message}"
    );
    // A program, whatever its name.
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0PE\0\0".to_vec();
    for name in ["setup.exe", "statement.pdf"] {
        let (status, answer) = a.upload(&s, ticket, name, &exe).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["code"], "file_refused");
    }
    // A PNG uploaded as one, attached as a PDF: the declared type must be the detected one.
    let (status, answer) = a.upload(&s, ticket, "scan.png", PNG).await;
    assert_eq!(
        (status, &answer["file_type"]),
        (StatusCode::OK, &json!("png")),
        "{answer}"
    );
    let (_, outcome) = a
        .attach_only(&s, ticket, "scan.png", "application/pdf", PNG)
        .await;
    assert_eq!(outcome["code"], "file_refused", "{outcome}");
    let (_, outcome) = a
        .attach_only(&s, ticket, "scan.png", "image/png", PNG)
        .await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
}

async fn a_blob_is_not_a_capability(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let mut b = Desk::new(&s, "b@acme.example", "agent", &["finance"]).await;
    let support = a.ticket(&s, "support").await;
    let other_support = a.ticket(&s, "support").await;
    let finance = b.ticket(&s, "finance").await;
    let bytes = pdf(10_000, 6);
    let (attachment, outcome) = a
        .attach(&s, support, "id-card.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    // An agent of another department: no download, no upload to the ticket.
    let (status, _, body) = b.download(&s, support, attachment).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body != bytes);
    let (status, _) = b.start(&s, support, "x.pdf", &bytes).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The hash of a stored file used in another ticket's entry: refused, for B on their own
    // ticket and for A on another ticket A did not upload it to.
    let (_, outcome) = b
        .attach_only(&s, finance, "id-card.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["outcome"], "rejected", "{outcome}");
    assert_eq!(outcome["code"], "file_refused");
    let (_, outcome) = a
        .attach_only(&s, other_support, "id-card.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["code"], "file_refused", "{outcome}");
    // Nor through B's own ticket's address.
    let (status, _, _) = b.download(&s, finance, attachment).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Someone else's upload reads as missing.
    let (_, created) = a.start(&s, support, "y.pdf", &bytes).await;
    let id = created["upload_id"].as_str().unwrap().to_owned();
    let (status, _) = s
        .call("GET", &format!("/v1/uploads/{id}"), Some(&b.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = b.put(&s, &id, 0, &bytes).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .call("DELETE", &format!("/v1/uploads/{id}"), Some(&b.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, answer) = s
        .call("DELETE", &format!("/v1/uploads/{id}"), Some(&a.token), None)
        .await;
    assert_eq!(
        (status, &answer["cancelled"]),
        (StatusCode::OK, &json!(true))
    );
    let (status, _) = s
        .call("GET", &format!("/v1/uploads/{id}"), Some(&a.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn redaction_removes_the_blob_unless_another_entry_keeps_it(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let mut lead = Desk::new(&s, "lead@acme.example", "supervisor", &[]).await;
    let shared = pdf(3 * SEG + 7, 7);
    let alone = pdf(SEG + 9, 8);
    let (t1, t2, t3) = (
        a.ticket(&s, "support").await,
        a.ticket(&s, "support").await,
        a.ticket(&s, "support").await,
    );
    let (x1, o1) = a.attach(&s, t1, "x.pdf", "application/pdf", &shared).await;
    let (x2, o2) = a.attach(&s, t2, "x.pdf", "application/pdf", &shared).await;
    let (y, o3) = a.attach(&s, t3, "y.pdf", "application/pdf", &alone).await;
    for o in [&o1, &o2, &o3] {
        assert_eq!(o["outcome"], "applied", "{o}");
    }
    assert!(blob_stored(&s, &sha(&shared)).await && blob_stored(&s, &sha(&alone)).await);
    let redact = |ticket, entry| Mutation::RedactEntry {
        ticket_id: ticket,
        entry_id: entry,
        reason: "privacy request".into(),
    };
    let y_entry = entry_of(&s, t3, y).await;
    let outcome = lead.push(&s, redact(t3, y_entry)).await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    assert!(
        !blob_stored(&s, &sha(&alone)).await,
        "the only copy is gone"
    );
    let (status, _, _) = a.download(&s, t3, y).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The same bytes in two entries: redacting one keeps the file for the other.
    let x1_entry = entry_of(&s, t1, x1).await;
    lead.push(&s, redact(t1, x1_entry)).await;
    assert!(blob_stored(&s, &sha(&shared)).await);
    let (status, _, body) = a.download(&s, t2, x2).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == shared);
    let (status, _, _) = a.download(&s, t1, x1).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let x2_entry = entry_of(&s, t2, x2).await;
    lead.push(&s, redact(t2, x2_entry)).await;
    assert!(!blob_stored(&s, &sha(&shared)).await);
    // The audit chain keeps each file's SHA-256.
    let (_, body) = s
        .call(
            "GET",
            "/v1/audit/events?action=attachment.redacted",
            Some(&lead.token),
            None,
        )
        .await;
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{body}");
    let mut seen: Vec<(String, bool)> = events
        .iter()
        .map(|e| {
            let detail: Value = serde_json::from_str(e["detail"].as_str().unwrap()).unwrap();
            (
                detail["sha256"].as_str().unwrap().to_owned(),
                detail["blob_deleted"].as_bool().unwrap(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (sha(&alone), true),
        (sha(&shared), false),
        (sha(&shared), true),
    ];
    expected.sort();
    assert_eq!(seen, expected);
}

async fn stored_files_hold_no_plaintext_and_need_the_master_key(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let ticket = a.ticket(&s, "support").await;
    let bytes = pdf(4 * SEG + 500, 9);
    let (attachment, outcome) = a
        .attach(&s, ticket, "kyc.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    let stored = stored_bytes(&s).await;
    assert!(!stored.is_empty());
    assert_no_plaintext(&stored);
    if let Backend::Files(dir) = s.state.blobs.backend() {
        use std::os::unix::fs::PermissionsExt;
        assert!(dir.ends_with("outpost.blobs"), "{}", dir.display());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir), 0o700);
        for file in files_under(dir) {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
            assert_eq!(mode(file.parent().unwrap()), 0o700);
        }
    }
    // Another master key cannot read the blob: a clear error naming the keys.
    let wrong = outpost_server::secrets::MasterKey::generate().unwrap();
    let config = Config {
        database_url: s.url.clone(),
        ..Config::default()
    };
    let store = BlobStore::open(&config, s.db.clone(), wrong.clone()).unwrap();
    let blob = store.blob(&sha(&bytes)).await.unwrap().expect("the blob");
    let error = store.read(&blob).err().expect("refused").to_string();
    assert!(
        error.contains("sealed with master key") && error.contains(wrong.id()),
        "{error}"
    );
    // And the server does not start with it.
    let error = AppState::new(s.db.clone(), config, wrong)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("master key"), "{error}");
    // The right key reads it.
    let (status, _, body) = a.download(&s, ticket, attachment).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == bytes);
}

async fn stale_uploads_expire(s: Server) {
    let mut a = Desk::new(&s, "a@acme.example", "agent", &["support"]).await;
    let ticket = a.ticket(&s, "support").await;
    let partial = pdf(3 * SEG, 10);
    let (_, created) = a.start(&s, ticket, "p.pdf", &partial).await;
    let unfinished = created["upload_id"].as_str().unwrap().to_owned();
    a.put(&s, &unfinished, 0, &partial[..SEG]).await;
    let done = pdf(SEG, 11);
    let (status, _) = a.upload(&s, ticket, "d.pdf", &done).await;
    assert_eq!(status, StatusCode::OK);
    assert!(blob_stored(&s, &sha(&done)).await);
    let now = outpost_server::db::now_millis();
    // Within a day nothing goes.
    assert_eq!(s.state.blobs.expire(now).await.unwrap(), 0);
    let day = 24 * 60 * 60 * 1000;
    assert_eq!(s.state.blobs.expire(now + day + 1000).await.unwrap(), 2);
    let (status, _) = s
        .call(
            "GET",
            &format!("/v1/uploads/{unfinished}"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        stored_bytes(&s).await.is_empty(),
        "staged bytes are deleted"
    );
    assert!(
        !blob_stored(&s, &sha(&done)).await,
        "an unused blob is deleted"
    );
    // A file whose upload expired cannot be attached any more.
    let (_, outcome) = a
        .attach_only(&s, ticket, "d.pdf", "application/pdf", &done)
        .await;
    assert_eq!(outcome["code"], "file_refused", "{outcome}");
}

async fn customer_files_are_checked_and_stored_from_a_stream(s: Server) {
    let policy = AttachmentPolicy::default();
    let jpeg: Vec<u8> = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"
        .iter()
        .copied()
        .chain(MARKER.iter().copied().cycle().take(2 * SEG + 3))
        .collect();
    // In uneven pieces, as a network delivers them.
    let pieces: Vec<Result<axum::body::Bytes, std::io::Error>> = jpeg
        .chunks(10_007)
        .map(|c| Ok(axum::body::Bytes::copy_from_slice(c)))
        .collect();
    let (hash, size, kind) = s
        .state
        .blobs
        .store_stream("id.jpg", futures_util::stream::iter(pieces), &policy)
        .await
        .unwrap();
    assert_eq!(
        (hash.as_str(), size, kind),
        (
            sha(&jpeg).as_str(),
            jpeg.len() as u64,
            outpost_core::files::FileType::Jpeg
        )
    );
    assert!(blob_stored(&s, &hash).await);
    assert_no_plaintext(&stored_bytes(&s).await);
    let blob = s.state.blobs.blob(&hash).await.unwrap().unwrap();
    let mut read = Vec::new();
    let mut stream = std::pin::pin!(s.state.blobs.read(&blob).unwrap());
    while let Some(piece) = futures_util::StreamExt::next(&mut stream).await {
        read.extend_from_slice(&piece.unwrap());
    }
    assert!(read == jpeg);
    // Not a kind the organisation takes, too large, empty: refused, nothing kept.
    let one = |bytes: Vec<u8>| {
        futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes))])
    };
    let text = s
        .state
        .blobs
        .store_stream("notes.txt", one(b"plain words".to_vec()), &policy)
        .await;
    assert!(text.unwrap_err().to_string().contains("plain text"));
    let big = s
        .state
        .blobs
        .store_stream("big.pdf", one(pdf(5 * 1024 * 1024 + 1, 12)), &policy)
        .await;
    assert!(big.unwrap_err().to_string().contains("at most 5 MiB"));
    let empty = s
        .state
        .blobs
        .store_stream("e.pdf", one(Vec::new()), &policy)
        .await;
    assert!(empty.unwrap_err().to_string().contains("empty"));
    let uploads: i64 = sqlx::query_scalar("SELECT count(*) FROM uploads")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(uploads, 1, "only the accepted file waits to be attached");
    // A refused request forgets its files.
    s.state.blobs.forget(&hash).await.unwrap();
    assert!(!blob_stored(&s, &hash).await);
    assert!(stored_bytes(&s).await.is_empty());
}

on_both_databases!(
    upload_in_chunks_and_download_byte_identical,
    a_cut_connection_resumes_from_the_last_whole_segment,
    a_server_stopped_mid_upload_continues_after_restart,
    a_wrong_hash_or_size_or_kind_is_refused,
    a_blob_is_not_a_capability,
    redaction_removes_the_blob_unless_another_entry_keeps_it,
    stored_files_hold_no_plaintext_and_need_the_master_key,
    stale_uploads_expire,
    customer_files_are_checked_and_stored_from_a_stream,
);
