//! Customers send files: the public form, the status page's message form and the intake API
//! take `multipart/form-data`, store each accepted file in the encrypted blob store and attach
//! it for the customer; refused files leave nothing behind. On SQLite and PostgreSQL.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::*;
use outpost_core::files::sanitise_filename;
use outpost_core::model::{Channel, Entry, EntryBody};
use outpost_server::blobs::Backend;
use tower::ServiceExt;
use uuid::Uuid;

const BOUNDARY: &str = "----outpost-test-boundary";

/// A part of a multipart body: a text field, or a file with its name.
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

fn multipart_body(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(value.as_bytes());
            }
            Part::File(name, filename, bytes) => {
                // As browsers send it: the name in UTF-8, a quote as %22.
                let filename = filename.replace('"', "%22");
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(bytes);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// A multipart post from its own client address (the form allows five submissions a minute
/// per address).
fn post_multipart(path: &str, parts: &[Part<'_>]) -> Request<Body> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let body = multipart_body(parts);
    let mut request = Request::post(path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let address = std::net::SocketAddr::from(([10, 0, (n >> 8) as u8, n as u8], 40000));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(address));
    request
}

async fn raw(s: &Server, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = s.app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

async fn page(s: &Server, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let (status, headers, bytes) = raw(s, request).await;
    (status, headers, String::from_utf8(bytes).unwrap())
}

async fn get(s: &Server, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    raw(s, Request::get(path).body(Body::empty()).unwrap()).await
}

/// Bytes that look like nothing in particular, so no two files share segments by accident.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend(noise(7, len - 4));
    bytes
}

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend(noise(11, len - 9));
    bytes
}

fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(noise(13, len - 8));
    bytes
}

const FIELDS: [(&str, &str); 4] = [
    ("subject", "Business account opening"),
    ("description", "Licence and ID scan attached."),
    ("name", "Li Wei"),
    ("contact", "li.wei@example.com"),
];

fn form_parts<'a>(files: &[(&'a str, &'a [u8])]) -> Vec<Part<'a>> {
    let mut parts: Vec<Part<'a>> = FIELDS.iter().map(|(n, v)| Part::Text(n, v)).collect();
    parts.extend(
        files
            .iter()
            .map(|(name, bytes)| Part::File("files", name, bytes)),
    );
    parts
}

/// The ticket behind a status page path (`/c/t/<token>?lang=…`) and its token.
async fn ticket_of(s: &Server, location: &str) -> (Uuid, String) {
    let token = location
        .strip_prefix("/c/t/")
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let id: String =
        sqlx::query_scalar("SELECT ticket_id FROM customer_links WHERE token_hash = $1")
            .bind(outpost_server::auth::sha256_hex(&token))
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    (id.parse().unwrap(), token)
}

async fn entries(s: &Server, ticket: Uuid) -> Vec<Entry> {
    let docs: Vec<String> =
        sqlx::query_scalar("SELECT doc FROM entries WHERE ticket_id = $1 ORDER BY seq")
            .bind(ticket.to_string())
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
    docs.iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// The ticket's attachment entries: (attachment id, file name, mime, size, author).
async fn attachments(s: &Server, ticket: Uuid) -> Vec<(Uuid, String, String, u64, Option<Uuid>)> {
    entries(s, ticket)
        .await
        .into_iter()
        .filter_map(|e| match e.body {
            EntryBody::Attachment {
                attachment_id,
                filename,
                mime,
                size,
                ..
            } => Some((attachment_id, filename, mime, size, e.author)),
            _ => None,
        })
        .collect()
}

async fn count(s: &Server, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

/// Files under the filesystem blob store (0 with the database backend).
fn files_on_disk(s: &Server) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        walk(&path)
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    match s.state.blobs.backend() {
        Backend::Files(dir) => walk(dir),
        Backend::Database => 0,
    }
}

/// What the blob store holds: blobs, uploads, segment rows, files.
async fn stored(s: &Server) -> (i64, i64, i64, usize) {
    (
        count(s, "blobs").await,
        count(s, "uploads").await,
        count(s, "blob_segments").await,
        files_on_disk(s),
    )
}

fn assert_download_headers(headers: &HeaderMap, mime: &str, len: usize) {
    assert_eq!(headers["content-type"], mime);
    assert_eq!(headers["content-length"], len.to_string().as_str());
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename*=UTF-8''"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert_eq!(headers["cache-control"], "private, no-store");
}

async fn a_customer_sends_an_id_scan_and_a_licence_and_an_agent_opens_them(s: Server) {
    let (status, _, form) = page(
        &s,
        Request::get("/c/new?lang=en").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
    assert!(form.contains("<input type=\"file\" name=\"files\" multiple"));
    assert!(!form.contains("<script"));

    let scan = jpeg(300 * 1024);
    let licence = pdf(70 * 1024);
    let (status, headers, body) = page(
        &s,
        post_multipart(
            "/c/new?lang=en",
            &form_parts(&[("id-scan.jpg", &scan), ("营业执照.pdf", &licence)]),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = headers["location"].to_str().unwrap().to_owned();
    let (ticket, token) = ticket_of(&s, &location).await;

    let files = attachments(&s, ticket).await;
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(
        files
            .iter()
            .map(|f| (f.1.as_str(), f.2.as_str(), f.3, f.4))
            .collect::<Vec<_>>(),
        [
            ("id-scan.jpg", "image/jpeg", scan.len() as u64, None),
            (
                "营业执照.pdf",
                "application/pdf",
                licence.len() as u64,
                None
            ),
        ],
        "authored by the customer (no user)"
    );
    assert_eq!(
        count(&s, "uploads").await,
        0,
        "the files are attached, not waiting"
    );

    // An agent (the admin sees every ticket) downloads them byte for byte.
    let admin = s.admin_token().await;
    for ((id, _, mime, _, _), bytes) in files.iter().zip([&scan, &licence]) {
        let (status, headers, body) = raw(
            &s,
            Request::get(format!("/v1/tickets/{ticket}/attachments/{id}"))
                .header("authorization", format!("Bearer {admin}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_download_headers(&headers, mime, bytes.len());
        assert!(
            body == **bytes,
            "the agent's download is the customer's file"
        );
    }

    // The status page lists them and serves them only through the ticket's link.
    let (status, _, html) = page(
        &s,
        Request::get(location.as_str()).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script"));
    for (id, name, ..) in &files {
        assert!(
            html.contains(&format!("<a href=\"/c/t/{token}/files/{id}\">{name}</a>")),
            "{html}"
        );
    }
    assert!(html.contains("id-scan.jpg</a> · 300 KiB"), "{html}");
    let (status, headers, body) = get(&s, &format!("/c/t/{token}/files/{}", files[1].0)).await;
    assert_eq!(status, StatusCode::OK);
    assert_download_headers(&headers, "application/pdf", licence.len());
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"
    );
    assert!(body == licence);
    // A wrong token, or another ticket's token, finds nothing.
    let (status, _, _) = get(&s, &format!("/c/t/{}x/files/{}", token, files[1].0)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, _) = page(&s, post_multipart("/c/new?lang=en", &form_parts(&[]))).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "a form without files still works"
    );
    let (other, other_token) = ticket_of(&s, headers["location"].to_str().unwrap()).await;
    assert!(attachments(&s, other).await.is_empty());
    let (status, _, _) = get(&s, &format!("/c/t/{other_token}/files/{}", files[1].0)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&s, &format!("/c/t/{token}/files/not-a-uuid")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn refused_files_are_named_on_the_page_and_nothing_is_stored(s: Server) {
    let before = stored(&s).await;
    assert_eq!(before, (0, 0, 0, 0));
    let tickets = count(&s, "tickets").await;
    let ok = pdf(20 * 1024);
    let disguised = png(4096);
    let program = [&b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"[..], &noise(3, 4096)].concat();
    let huge = pdf(6 * 1024 * 1024);
    // (the files, the page's status, the message in English, in Chinese)
    type Case<'a> = (Vec<(&'a str, &'a [u8])>, StatusCode, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![("licence.pdf", &ok), ("invoice.pdf", &disguised)],
            StatusCode::BAD_REQUEST,
            "“invoice.pdf” is named like another kind of file, but its content is a PNG image",
            "“invoice.pdf”的文件名与内容不符：内容是PNG 图片",
        ),
        (
            vec![("setup.exe", &program)],
            StatusCode::BAD_REQUEST,
            "“setup.exe” is not a kind of file we accept (PDF, JPEG, PNG)",
            "“setup.exe”不是可接受的文件类型（PDF, JPEG, PNG）",
        ),
        (
            vec![("licence.pdf", &ok), ("statement.pdf", &huge)],
            StatusCode::PAYLOAD_TOO_LARGE,
            "“statement.pdf” is larger than 5 MiB; each file may be at most 5 MiB.",
            "“statement.pdf”超过 5 MiB，每个文件不能超过 5 MiB。",
        ),
        (
            (0..11).map(|_| ("page.pdf", &ok[..])).collect(),
            StatusCode::BAD_REQUEST,
            "Attach at most 10 files to one message.",
            "每条消息最多附 10 个文件。",
        ),
    ];
    for (files, expected_status, en, zh) in cases {
        for (lang, message) in [("en", en), ("zh-CN", zh)] {
            let (status, _, html) = page(
                &s,
                post_multipart(&format!("/c/new?lang={lang}"), &form_parts(&files)),
            )
            .await;
            assert_eq!(status, expected_status, "{html}");
            assert!(html.contains(message), "{lang}: {message} in {html}");
            assert!(html.contains("<p role=\"alert\">"));
            // What the customer typed comes back.
            assert!(
                html.contains("value=\"Business account opening\""),
                "{html}"
            );
            assert!(html.contains(">Licence and ID scan attached.</textarea>"));
            assert!(!html.contains("<script"));
            assert_eq!(stored(&s).await, before, "nothing stored after: {message}");
        }
    }
    assert_eq!(count(&s, "tickets").await, tickets, "no ticket was created");

    // A body declared larger than any message under the policy is refused before it is read.
    let request = Request::post("/c/new?lang=en")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("content-length", (60u64 * 1024 * 1024).to_string())
        .body(Body::from(multipart_body(&form_parts(&[]))))
        .unwrap();
    let (status, headers, html) = page(&s, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(html.contains("larger than this form takes"), "{html}");
    // Beyond what any policy allows, the HTTP layer answers for the page.
    let request = Request::post("/c/new?lang=zh-CN")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("content-length", (600u64 * 1024 * 1024).to_string())
        .body(Body::empty())
        .unwrap();
    let (status, _, html) = page(&s, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(html.contains("提交的内容超过表单上限"), "{html}");
    // JSON routes keep their small limit.
    let (status, body) = s
        .send(
            Request::post("/v1/auth/login")
                .header("content-type", "application/json")
                .header("content-length", (1024 * 1024).to_string())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");
    assert_eq!(stored(&s).await, before);
}

async fn a_reply_on_the_status_page_carries_a_file(s: Server) {
    // The url-encoded form of older pages still works.
    let (status, headers, _) = page(
        &s,
        Request::post("/c/new?lang=en")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(
                "subject=Locked+out&description=My+account+was+taken+over&name=Ann&contact=ann%40example.com",
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().unwrap().to_owned();
    let (ticket, token) = ticket_of(&s, &location).await;

    let screenshot = png(150 * 1024);
    let (status, _, body) = page(
        &s,
        post_multipart(
            &format!("/c/t/{token}/message?lang=en"),
            &[
                Part::Text("text", "Here is the screenshot of the login alert."),
                Part::File("files", "alert.png", &screenshot),
                Part::File("files", "", b""),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let timeline = entries(&s, ticket).await;
    let texts: Vec<&str> = timeline
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::CustomerMessage { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["Here is the screenshot of the login alert."]);
    let files = attachments(&s, ticket).await;
    assert_eq!(files.len(), 1);
    assert_eq!((files[0].1.as_str(), files[0].4), ("alert.png", None));
    let (status, headers, bytes) = get(&s, &format!("/c/t/{token}/files/{}", files[0].0)).await;
    assert_eq!(status, StatusCode::OK);
    assert_download_headers(&headers, "image/png", screenshot.len());
    assert!(bytes == screenshot);

    // A refused file keeps the text on the re-rendered status page, and adds nothing.
    let (status, _, html) = page(
        &s,
        post_multipart(
            &format!("/c/t/{token}/message?lang=zh-CN"),
            &[
                Part::Text("text", "第二张截图"),
                Part::File("files", "second.jpg", &screenshot),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("“second.jpg”的文件名与内容不符"), "{html}");
    assert!(html.contains(">第二张截图</textarea>"), "{html}");
    assert_eq!(entries(&s, ticket).await.len(), timeline.len());

    // The url-encoded message still works.
    let (status, _, _) = page(
        &s,
        Request::post(format!("/c/t/{token}/message?lang=en"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("text=Thanks"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(entries(&s, ticket).await.len(), timeline.len() + 1);
    // Every stored file is attached; no upload waits.
    assert_eq!(count(&s, "uploads").await, 0);
}

async fn intake_key(s: &Server) -> String {
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    key
}

async fn the_intake_api_takes_files_in_multipart(s: Server) {
    let key = intake_key(&s).await;
    let ticket_json = serde_json::json!({
        "subject": "KYC documents",
        "description": "Bank statement attached",
        "requester": { "name": "Zhang San", "contact": "zhang@example.com" },
    })
    .to_string();
    let statement = pdf(90 * 1024);
    let with_key = |mut request: Request<Body>| {
        request
            .headers_mut()
            .insert("x-outpost-key", key.parse().unwrap());
        request
    };
    let (status, body) = s
        .send(with_key(post_multipart(
            "/v1/intake",
            &[
                Part::Text("ticket", &ticket_json),
                Part::File("file", "statement.pdf", &statement),
            ],
        )))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ticket: Uuid = body["ticket_id"].as_str().unwrap().parse().unwrap();
    let files = attachments(&s, ticket).await;
    assert_eq!(files.len(), 1);
    assert_eq!(
        (
            files[0].1.as_str(),
            files[0].2.as_str(),
            files[0].3,
            files[0].4
        ),
        (
            "statement.pdf",
            "application/pdf",
            statement.len() as u64,
            None
        )
    );
    let path = body["status_path"].as_str().unwrap();
    let (status, _, bytes) = get(&s, &format!("{path}/files/{}", files[0].0)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == statement);

    let before = stored(&s).await;
    let tickets = count(&s, "tickets").await;
    // A refused file, a missing key, a missing or broken ticket part: nothing is stored.
    let program = [&b"MZ\x90\x00"[..], &noise(5, 1024)].concat();
    let (status, body) = s
        .send(with_key(post_multipart(
            "/v1/intake",
            &[
                Part::Text("ticket", &ticket_json),
                Part::File("file", "ok.pdf", &statement[..4096]),
                Part::File("file", "tool.exe", &program),
            ],
        )))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "file_refused");
    assert!(body["message"].as_str().unwrap().contains("tool.exe"));
    let (status, body) = s
        .send(with_key(post_multipart(
            "/v1/intake",
            &[Part::File("file", "ok.pdf", &statement)],
        )))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("`ticket` part"),
        "{body}"
    );
    let (status, body) = s
        .send(post_multipart(
            "/v1/intake",
            &[
                Part::Text("ticket", &ticket_json),
                Part::File("file", "ok.pdf", &statement),
            ],
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let big = pdf(5 * 1024 * 1024 + 1);
    let (status, body) = s
        .send(with_key(post_multipart(
            "/v1/intake",
            &[
                Part::Text("ticket", &ticket_json),
                Part::File("file", "big.pdf", &big),
            ],
        )))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(stored(&s).await, before);
    assert_eq!(count(&s, "tickets").await, tickets);
}

async fn a_rate_limited_submission_stores_none_of_its_files(s: Server) {
    let from_one_address = |n: usize| {
        let licence = pdf(10 * 1024 + n);
        let mut request =
            post_multipart("/c/new?lang=en", &form_parts(&[("licence.pdf", &licence)]));
        let address = std::net::SocketAddr::from(([192, 0, 2, 1], 40000));
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(address));
        request
    };
    for n in 0..5 {
        let (status, _, body) = page(&s, from_one_address(n)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let before = stored(&s).await;
    assert_eq!(before.0, 5, "five different files, five blobs");
    let (status, _, html) = page(&s, from_one_address(5)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("Too many submissions"), "{html}");
    assert!(
        html.contains("value=\"Business account opening\""),
        "the text comes back"
    );
    assert_eq!(stored(&s).await, before, "the sixth file was not kept");
}

async fn hostile_file_names_come_out_sanitised_and_escaped(s: Server) {
    let names = [
        "<script>alert(1)</script>.pdf",
        "invoice\u{202E}fdp.exe.pdf",
        "..\\..\\windows\\\"quoted\".pdf",
    ];
    let bytes = [pdf(2000), pdf(3000), pdf(4000)];
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&bytes)
        .map(|(n, b)| (*n, b.as_slice()))
        .collect();
    let (status, headers, body) =
        page(&s, post_multipart("/c/new?lang=en", &form_parts(&files))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = headers["location"].to_str().unwrap().to_owned();
    let (ticket, token) = ticket_of(&s, &location).await;
    let stored_names: Vec<String> = attachments(&s, ticket)
        .await
        .into_iter()
        .map(|f| f.1)
        .collect();
    let expected: Vec<String> = names.iter().map(|n| sanitise_filename(n)).collect();
    assert_eq!(stored_names, expected);
    for name in &stored_names {
        assert!(
            !name.contains(['<', '>', '/', '\\', '"', '\u{202E}']),
            "{name:?}"
        );
    }
    let (_, _, html) = page(
        &s,
        Request::get(location.as_str()).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains('\u{202E}'), "{html}");
    for (id, ..) in attachments(&s, ticket).await {
        let (status, headers, _) = get(&s, &format!("/c/t/{token}/files/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.is_ascii() && !disposition[10..].contains('"'),
            "{disposition}"
        );
    }
}

on_both_databases!(
    a_customer_sends_an_id_scan_and_a_licence_and_an_agent_opens_them,
    refused_files_are_named_on_the_page_and_nothing_is_stored,
    a_reply_on_the_status_page_carries_a_file,
    the_intake_api_takes_files_in_multipart,
    a_rate_limited_submission_stores_none_of_its_files,
    hostile_file_names_come_out_sanitised_and_escaped,
);
