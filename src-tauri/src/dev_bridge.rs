//! The development bridge: the browser preview (`make dev`) talks to a real [`Shell`] and Desk
//! through it, over loopback HTTP, instead of Tauri's IPC. Never part of the desktop build.
//!
//! `POST /cmd/<name>` takes the JSON arguments the Tauri command takes (camelCase keys) and runs
//! the command through the same table ([`crate::commands::dispatch`]). A plain command answers
//! its result as JSON, or `{code, message}` with status 422. A command with a channel
//! (`subscribe`, `audit_verify`) answers a stream of JSON lines (`application/x-ndjson`):
//! `{"message": …}` for each channel message, one `{"ok": …}` or `{"error": {code, message}}`
//! when the command returns, then more messages for as long as the channel lives (`subscribe`:
//! until the page goes away).
//!
//! Only loopback may talk to it: it binds 127.0.0.1 (the binary refuses anything else), and a
//! request whose `Host` is not a loopback name or address, or whose `Origin` (if any) is not a
//! loopback page, is refused — a web page that rebinds its own domain to 127.0.0.1 sends its
//! domain in both. A body must be `application/json`, which a cross-site form cannot send, or
//! for a raw-body command (`attach_file`) `application/octet-stream` with its other arguments
//! in `x-outpost-…` headers, as Tauri takes them (neither can a form send).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use outpost_client::desk::ErrorDto;
use outpost_core::error::ErrorCode;
use serde_json::{json, Value};
use url::{Host, Url};

use crate::commands::{args_from_headers, dispatch, streams, takes_body, Sink, MAX_FILE_BYTES};
use crate::shell::Shell;

/// The largest request: a file handed over for saving or checking, JSON-escaped, plus room.
const MAX_BODY: usize = 2 * MAX_FILE_BYTES + 64 * 1024;

/// The bridge's routes over `shell`.
pub fn router(shell: Shell) -> Router {
    Router::new()
        .route("/cmd/{name}", post(command))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shell)
}

/// Serves the bridge on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, shell: Shell) -> std::io::Result<()> {
    axum::serve(listener, router(shell)).await
}

fn refuse(status: StatusCode, code: ErrorCode, message: String) -> Response {
    let body = ErrorDto { code, message };
    (status, Json(body)).into_response()
}

async fn command(
    State(shell): State<Shell>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(why) = loopback_only(&headers) {
        return refuse(StatusCode::FORBIDDEN, ErrorCode::Forbidden, why);
    }
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    let Some(streaming) = streams(&name) else {
        return refuse(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no command `{name}`"),
        );
    };
    // A raw-body command (a file's bytes) takes its other arguments from headers, as in Tauri.
    if takes_body(&name) {
        if media != Some("application/octet-stream") {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::BadRequest,
                format!("`{name}` takes the file's bytes as application/octet-stream"),
            );
        }
        let args = match args_from_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
        {
            Ok(args) => args,
            Err(e) => return (StatusCode::BAD_REQUEST, Json(e)).into_response(),
        };
        let no_channel: Sink = Arc::new(|_| false);
        return match dispatch(&shell, &name, args, no_channel, Some(body.to_vec())).await {
            Ok(result) => Json(result).into_response(),
            Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Json(e)).into_response(),
        };
    }
    if media != Some("application/json") {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadRequest,
            "the body must be application/json".into(),
        );
    }
    let args: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(args) => args,
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    format!("the body is not JSON: {e}"),
                )
            }
        }
    };
    if !streaming {
        let no_channel: Sink = Arc::new(|_| false);
        return match dispatch(&shell, &name, args, no_channel, None).await {
            Ok(result) => Json(result).into_response(),
            Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Json(e)).into_response(),
        };
    }
    stream(shell, name, args)
}

/// One JSON line.
fn line(value: &Value) -> Bytes {
    let mut bytes = value.to_string().into_bytes();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// Runs a channel command, answering its messages and its result as JSON lines. The stream ends
/// when the command has returned and nothing holds its channel any more; a closed connection
/// makes the channel's sends fail, which is how the shell forgets a reloaded page.
fn stream(shell: Shell, name: String, args: Value) -> Response {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let messages = tx.clone();
    let sink: Sink =
        Arc::new(move |message| messages.send(line(&json!({ "message": message }))).is_ok());
    tokio::spawn(async move {
        let last = match dispatch(&shell, &name, args, sink, None).await {
            Ok(result) => json!({ "ok": result }),
            Err(e) => json!({ "error": e }),
        };
        let _ = tx.send(line(&last));
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(bytes), rx))
    });
    Response::builder()
        .header(CONTENT_TYPE, "application/x-ndjson")
        .header(CACHE_CONTROL, "no-store")
        .body(Body::from_stream(body))
        .unwrap_or_else(|e| {
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                e.to_string(),
            )
        })
}

fn is_loopback(host: Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// `host[:port]` names a loopback host.
fn is_loopback_authority(authority: &str) -> bool {
    let Ok(url) = Url::parse(&format!("http://{authority}/")) else {
        return false;
    };
    url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.host().is_some_and(is_loopback)
}

/// Refuses a request that does not come from this machine's own pages (see the module doc).
pub fn loopback_only(headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(HOST)
        .ok_or("the request has no Host header")?
        .to_str()
        .map_err(|_| "the Host header is not text")?;
    if !is_loopback_authority(host) {
        return Err(format!("Host {host:?} is not a loopback address"));
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin
            .to_str()
            .map_err(|_| "the Origin header is not text")?;
        let loopback_page = Url::parse(origin).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https") && url.host().is_some_and(is_loopback)
        });
        if !loopback_page {
            return Err(format!("Origin {origin:?} is not a loopback page"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(HOST, HeaderValue::from_str(host).unwrap());
        }
        if let Some(origin) = origin {
            headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn loopback_hosts_and_pages_pass() {
        for host in [
            "127.0.0.1:1421",
            "localhost:1421",
            "LOCALHOST",
            "[::1]:1421",
            "127.0.0.2",
        ] {
            assert_eq!(loopback_only(&headers(Some(host), None)), Ok(()), "{host}");
        }
        for origin in [
            "http://localhost:1420",
            "http://127.0.0.1:1420",
            "http://[::1]:5173",
        ] {
            let h = headers(Some("127.0.0.1:1421"), Some(origin));
            assert_eq!(loopback_only(&h), Ok(()), "{origin}");
        }
    }

    #[test]
    fn foreign_hosts_and_pages_are_refused() {
        for host in [
            "evil.example",
            "evil.example:1421",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "127.0.0.1@evil.example",
            "10.0.0.1:1421",
            "0.0.0.0:1421",
            "",
        ] {
            assert!(loopback_only(&headers(Some(host), None)).is_err(), "{host}");
        }
        assert!(loopback_only(&headers(None, None)).is_err());
        for origin in [
            "http://evil.example",
            "https://localhost.evil.example",
            "null",
            "file://",
            "http://192.168.1.2:1420",
        ] {
            let h = headers(Some("127.0.0.1:1421"), Some(origin));
            assert!(loopback_only(&h).is_err(), "{origin}");
        }
    }
}
