//! The HTTP layer's limits over real sockets on 127.0.0.1: slow or silent connections are cut
//! off, a body that declares more than the server takes is refused at once, a stalled body is
//! answered, trickling connections do not stop others from being served, and every error the
//! layer produces itself is the API's `{code, message}`.
//!
//! The socket tests run on SQLite only: the timeouts live in the HTTP layer, before any
//! database work, so the backend does not matter there. The error-shape tests run the router
//! on SQLite and PostgreSQL.
//!
//! No assertion is about time: each wait has a generous upper bound only so that a broken
//! server fails the test instead of hanging it.

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::{admin, serve_with, AppState};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

/// How long any single wait may take before the test gives up (a bound, not an expectation).
const GIVE_UP: Duration = Duration::from_secs(60);

/// A real server with one-second header and body timeouts; returns its address.
async fn real_server(dir: &tempfile::TempDir) -> (SocketAddr, axum_server::Handle<SocketAddr>) {
    real_server_with(
        dir,
        Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            header_read_timeout_secs: 1,
            body_read_timeout_secs: 1,
            max_body_bytes: 64 * 1024,
            ..Config::default()
        },
    )
    .await
}

/// A real server on a new SQLite database in `dir` with `config`; returns its address.
async fn real_server_with(
    dir: &tempfile::TempDir,
    config: Config,
) -> (SocketAddr, axum_server::Handle<SocketAddr>) {
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("o.db").display()))
        .await
        .unwrap();
    let master_key = outpost_server::secrets::MasterKey::generate().unwrap();
    admin::init(&db, &master_key, "Acme", "admin@acme.example", "Admin")
        .await
        .unwrap();
    let state = AppState::new(db, config, master_key).await.unwrap();
    let handle = axum_server::Handle::new();
    tokio::spawn(serve_with(state, handle.clone()));
    let addr = tokio::time::timeout(GIVE_UP, handle.listening())
        .await
        .unwrap()
        .expect("listening");
    (addr, handle)
}

/// Sends `first`, then `trickle` one byte every 100 ms (at most `steps` bytes, repeating),
/// until the server closes the connection. Returns whether it did, and what it sent back.
async fn trickle_until_closed(
    addr: SocketAddr,
    first: &[u8],
    trickle: &[u8],
    steps: usize,
) -> (bool, Vec<u8>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(first).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    for step in 0..steps {
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (true, received),
                Ok(n) => received.extend_from_slice(&buf[..n]),
            },
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if !trickle.is_empty() {
                    let byte = trickle[step % trickle.len()];
                    if writer.write_all(&[byte]).await.is_err() {
                        return (true, received);
                    }
                }
            }
        }
    }
    (false, received)
}

/// Sends `request` on a new connection and reads the answer until the server closes it:
/// (status, JSON body).
async fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_silent_connections_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, handle) = real_server(&dir).await;

    // Headers that never end: one more header byte every 100 ms.
    let (closed, received) = trickle_until_closed(
        addr,
        b"GET /health HTTP/1.1\r\nHost: localhost\r\n",
        b"X-Slow: yes\r\n",
        600,
    )
    .await;
    assert!(closed, "a connection still sending its headers stays open");
    assert!(
        !String::from_utf8_lossy(&received).contains(" 200 "),
        "{received:?}"
    );

    // A connection that sends nothing at all.
    let (closed, received) = trickle_until_closed(addr, b"", b"", 600).await;
    assert!(closed, "a silent connection stays open");
    assert!(received.is_empty());

    // One that dribbles what could be the start of the HTTP/2 preface.
    let (closed, _) = trickle_until_closed(addr, b"P", b"RI * HTTP/2.0", 600).await;
    assert!(
        closed,
        "a connection dribbling the HTTP/2 preface stays open"
    );

    // An ordinary request is still served, and the answer is whole.
    let mut ok = TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(GIVE_UP, ok.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    handle.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_declared_body_is_refused_and_a_stalled_one_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, handle) = real_server(&dir).await;

    // Declares ten gigabytes, sends a few bytes: refused at once with 413, not held open.
    let (status, body) = exchange(
        addr,
        b"POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 10000000000\r\n\r\n{\"email\":",
    )
    .await;
    assert_eq!(status, 413);
    assert_error(&body, "payload_too_large");

    // Declares a body the server takes, sends part of it and stops: 408 `timeout`, for a
    // JSON endpoint and for a customer form alike.
    let (status, body) = exchange(
        addr,
        b"POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Connection: close\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await;
    assert_eq!(status, 408, "{body}");
    assert_error(&body, "timeout");
    let (status, body) = exchange(
        addr,
        b"POST /c/t/some-token/csat HTTP/1.1\r\nHost: localhost\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\
          Content-Length: 100\r\n\r\nscore=",
    )
    .await;
    assert_eq!(status, 408, "{body}");
    assert_error(&body, "timeout");
    handle.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_sockets_do_not_stop_normal_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, handle) = real_server(&dir).await;
    let mut tricklers = Vec::new();
    for _ in 0..45 {
        tricklers.push(tokio::spawn(trickle_until_closed(
            addr,
            b"POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n",
            b"X-Slow: yes\r\n",
            600,
        )));
    }
    // While they trickle, a sign-in is answered (a wrong password: the database was read).
    let (status, body) = exchange(
        addr,
        b"POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Connection: close\r\nContent-Length: 50\r\n\r\n\
          {\"email\":\"admin@acme.example\",\"password\":\"wrong!\"}",
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_error(&body, "bad_credentials");
    for trickler in tricklers {
        let (closed, _) = trickler.await.unwrap();
        assert!(closed, "every trickling connection is cut off");
    }
    handle.shutdown();
}

/// A customer's form with a file on a slow line: every piece arrives well within the body pace,
/// but the whole post takes longer than the request time. Routes that carry files are given
/// the time their declared size takes on a slow line, so the form is taken, not answered 408.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_but_steady_file_upload_is_not_cut_off_by_the_request_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        blob_dir: Some(dir.path().join("blobs")),
        header_read_timeout_secs: 5,
        body_read_timeout_secs: 5,
        request_timeout_secs: 1,
        ..Config::default()
    };
    let (addr, handle) = real_server_with(&dir, config).await;

    const BOUNDARY: &str = "slowline7d2f";
    let mut body = Vec::new();
    for (name, value) in [
        ("subject", "Licence scan on a slow line"),
        ("description", "Sent from a train."),
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
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"licence.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
        )
        .as_bytes(),
    );
    body.extend(std::iter::repeat_n(b'x', 320 * 1024));
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let head = format!(
        "POST /c/new?lang=en HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // Ten pieces, 300 ms apart: three seconds in all, three times the request time, and each
    // gap far inside the five-second pace.
    for piece in body.chunks(body.len().div_ceil(10)) {
        stream.write_all(piece).await.unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut answer = Vec::new();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 303"),
        "the form is taken: {text}"
    );
    handle.shutdown();
}

/// The layer's own errors through the router: `{code, message}` with the right status.
async fn the_layers_errors_are_code_and_message(s: Server) {
    let (status, body) = s.call("GET", "/v1/no-such-endpoint", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");

    let (status, body) = s.call("DELETE", "/v1/auth/login", None, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&body, "bad_request");

    // A customer's link, for the form answers.
    let mut tx = s.db.begin_write().await.unwrap();
    let key =
        outpost_server::intake_keys::add_key(&mut tx, outpost_core::model::Channel::Api, "tests")
            .await
            .unwrap();
    tx.commit().await.unwrap();
    let (status, created) = s
        .send(
            Request::post("/v1/intake")
                .header("x-outpost-key", key)
                .header("content-type", "application/json")
                .body(Body::from(
                    serde_json::json!({
                        "subject": "Cannot log in", "description": "Since yesterday",
                        "requester": { "name": "Ann", "contact": "ann@example.com" }
                    })
                    .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let link = created["status_path"].as_str().unwrap().to_owned();

    // A customer form without its fields (axum's plain-text 422 before).
    let (status, body) = s
        .send(
            Request::post(format!("{link}/csat"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("comment=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "bad_request");

    // A form posted as something else (axum's plain-text 415 before).
    let (status, body) = s
        .send(
            Request::post(format!("{link}/message"))
                .header("content-type", "text/plain")
                .body(Body::from("text=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "bad_request");

    // More than the server takes, declared: refused before any of it is read.
    let (status, body) = s
        .send(
            Request::post("/v1/intake")
                .header("content-type", "application/json")
                .header("content-length", "10000000000")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&body, "payload_too_large");

    // More than the server takes, undeclared (a stream): 413 from the body limit.
    let big = vec![b'a'; 128 * 1024];
    let (status, body) = s
        .send(
            Request::post("/c/new")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from_stream(futures_util::stream::iter([Ok::<
                    _,
                    std::io::Error,
                >(
                    big
                )])))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&body, "payload_too_large");

    // Customer pages keep their HTML answers.
    let response = s
        .app
        .clone()
        .oneshot(
            Request::get("/c/t/not-a-token")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

on_both_databases!(the_layers_errors_are_code_and_message);
