//! How long and how much the HTTP layer waits for and accepts, and the answers it gives itself.
//!
//! - Headers: hyper closes an HTTP/1 connection whose request head has not fully arrived within
//!   `header_read_timeout_secs` ([`configure_http`]; also an idle keep-alive connection). Before
//!   hyper sees a connection, the server reads its first bytes to tell HTTP/1 from HTTP/2; a
//!   connection that sends nothing (or dribbles the start of the HTTP/2 preface) is cut off
//!   after the same time by [`FirstBytesDeadline`]. Over TLS the handshake gets that time too.
//! - Body: a declared `Content-Length` above `max_body_bytes` is answered 413 at once, before
//!   any of the body is read; a body that stalls longer than `body_read_timeout_secs` between
//!   two pieces is answered 408 ([`guard`]). The routes that take customers' files
//!   (`multipart/form-data` posts of the customer form, the status page's message form and the
//!   intake API) may be as large as the largest message any attachment policy allows
//!   ([`MAX_FILES_BODY_BYTES`]); their handlers hold them to the organisation's own policy, by
//!   the declared length first and while reading. The customer pages' 413 is a page.
//! - The whole request: a handler that has not answered within `request_timeout_secs` is
//!   answered 408 (a stream, once answered, is not cut). Routes that carry files get that time
//!   plus what their declared size takes on a slow line (32 KiB/s); the pace rule still applies.
//!
//! Every error the layer produces itself (those above, an unknown path, a method a route does
//! not take, axum's rejections of bodies and queries) is the API's `{code, message}` body, like
//! every handler's error. Customer pages keep their HTML answers. What hyper answers on its own
//! before a request exists (a malformed request line or header, headers too large) stays a bare
//! status, and a header timeout closes the connection without an answer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use outpost_core::error::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::error::{ApiError, ErrorBody};
use crate::pages::{self, PageLang};
use crate::AppState;

/// The largest body a request with customers' files may declare: twenty files of 25 MiB (the
/// most any attachment policy allows) and the form around them.
pub(crate) const MAX_FILES_BODY_BYTES: u64 = outpost_core::files::MAX_ATTACHMENTS_PER_MESSAGE
    as u64
    * outpost_core::apply::MAX_ATTACHMENT_BYTES
    + crate::multipart::FORM_SLACK_BYTES;

/// The slowest line a file upload is given time for (32 KiB/s, a poor mobile connection).
const SLOW_LINE_BYTES_PER_SEC: u64 = 32 * 1024;

/// Whether `request` is a `multipart/form-data` post to a route that takes customers' files.
fn takes_customer_files(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == Method::POST
        && (path == "/c/new"
            || path == "/v1/intake"
            || (path.starts_with("/c/t/") && path.ends_with("/message")))
        && crate::multipart::boundary(request.headers()).is_some()
}

/// The answer to a body declared too large: the customer pages' notice, in the page's
/// language, or `{code, message}`.
fn too_large(request: &Request) -> Response {
    if !request.uri().path().starts_with("/c/") {
        return ApiError::PayloadTooLarge.into_response();
    }
    let query_lang = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang=")));
    let lang = pages::pick_lang(query_lang, request.headers());
    pages::notice(
        StatusCode::PAYLOAD_TOO_LARGE,
        lang,
        lang.text().form_too_large,
    )
}

/// The answer when a request body stalls.
pub(crate) const BODY_TOO_SLOW: &str = "the request body did not arrive in time";
/// The answer when a handler takes longer than the request timeout.
pub(crate) const ANSWER_TOO_SLOW: &str = "the server could not answer in time; try again";

/// Sets the HTTP/1 header-read timeout (hyper needs a timer for it; without one it waits
/// forever) and gives HTTP/2 the same timer for its keep-alive pings.
pub(crate) fn configure_http(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    header_read_timeout: Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    builder.http2().timer(hyper_util::rt::TokioTimer::new());
}

/// The middleware around every route: the body's size and pace, the request's time, and the
/// `{code, message}` shape of the layer's own errors (see the module documentation).
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let config = &state.config;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // An upload's bytes come in chunks of up to 8 MiB (`uploads.rs` reads them as a stream
    // and enforces the cap itself); every other body keeps the configured limit.
    let carries_files =
        request.method() == Method::PUT && request.uri().path().starts_with("/v1/uploads/");
    let takes_files = !carries_files && takes_customer_files(&request);
    let limit = if carries_files {
        crate::blobs::MAX_CHUNK_BYTES.max(config.max_body_bytes as u64)
    } else if takes_files {
        MAX_FILES_BODY_BYTES
    } else {
        config.max_body_bytes as u64
    };
    if declared.is_some_and(|n| n > limit) {
        return too_large(&request);
    }
    // A body of files on a slow line takes longer than any JSON request: those routes get the
    // request time plus the time their declared bytes take at `SLOW_LINE_BYTES_PER_SEC`. A
    // stall is still cut off by the pace below, whatever the size.
    let extra_secs = if carries_files || takes_files {
        declared.unwrap_or(0) / SLOW_LINE_BYTES_PER_SEC
    } else {
        0
    };
    let method = request.method().clone();
    let stalled = Arc::new(AtomicBool::new(false));
    let pace = Duration::from_secs(config.body_read_timeout_secs);
    let request = request.map(|body| paced(body, pace, stalled.clone()));
    let limit = Duration::from_secs(config.request_timeout_secs.saturating_add(extra_secs));
    let Ok(response) = tokio::time::timeout(limit, next.run(request)).await else {
        return ApiError::Timeout(ANSWER_TOO_SLOW).into_response();
    };
    if stalled.load(Ordering::Relaxed) && response.status().is_client_error() {
        // Whatever the extractor made of the broken body, the cause is the stall.
        return ApiError::Timeout(BODY_TOO_SLOW).into_response();
    }
    as_error_body(response, &method).await
}

/// The answer for a path no route serves.
pub(crate) async fn no_such_endpoint() -> ApiError {
    ApiError::NotFound("endpoint")
}

/// `body`, failing (and setting `stalled`) when no piece of it arrives for `pace`.
fn paced(body: Body, pace: Duration, stalled: Arc<AtomicBool>) -> Body {
    let pieces = futures_util::stream::unfold(
        (body.into_data_stream(), false),
        move |(mut pieces, done)| {
            let stalled = stalled.clone();
            async move {
                if done {
                    return None;
                }
                match tokio::time::timeout(pace, pieces.next()).await {
                    Ok(Some(Ok(piece))) => {
                        Some((Ok::<Bytes, axum::BoxError>(piece), (pieces, false)))
                    }
                    Ok(Some(Err(e))) => Some((Err(e.into()), (pieces, true))),
                    Ok(None) => None,
                    Err(_) => {
                        stalled.store(true, Ordering::Relaxed);
                        let e = io::Error::new(io::ErrorKind::TimedOut, BODY_TOO_SLOW);
                        Some((Err(e.into()), (pieces, true)))
                    }
                }
            }
        },
    );
    Body::from_stream(pieces)
}

/// An error answer without a JSON or HTML body (axum's own: an empty 404 or 405, a plain-text
/// rejection) as `{code, message}`; every other answer as it is.
async fn as_error_body(response: Response, method: &Method) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let said = |fallback: String| {
        if text.is_empty() {
            fallback
        } else {
            text.clone()
        }
    };
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            ErrorCode::NotFound,
            ApiError::NotFound("endpoint").to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::BadRequest,
            format!("this endpoint does not take {method} requests"),
        ),
        StatusCode::REQUEST_TIMEOUT => (ErrorCode::Timeout, ANSWER_TOO_SLOW.to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            ApiError::PayloadTooLarge.to_string(),
        ),
        StatusCode::UNAUTHORIZED => (
            ErrorCode::Unauthenticated,
            ApiError::Unauthenticated.to_string(),
        ),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, ApiError::Forbidden.to_string()),
        StatusCode::CONFLICT => (ErrorCode::Conflict, said("conflict".into())),
        StatusCode::TOO_MANY_REQUESTS => {
            (ErrorCode::RateLimited, ApiError::RateLimited.to_string())
        }
        s if s.is_server_error() => (
            ErrorCode::Internal,
            ApiError::Internal(anyhow::anyhow!("{s}")).to_string(),
        ),
        _ => (
            ErrorCode::BadRequest,
            said(format!("the request was refused ({status})")),
        ),
    };
    let mut answer = (status, Json(ErrorBody { code, message })).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().append(name, value.clone());
        }
    }
    answer
}

/// The HTTP/2 connection preface; a connection is sniffed for it until its bytes differ.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// An acceptor that gives each connection `limit` to send the bytes that tell HTTP/1 from
/// HTTP/2: until those have arrived no HTTP timeout runs, so a silent connection would stay
/// open forever. Wraps the inner acceptor's stream (after TLS, when there is TLS).
#[derive(Clone)]
pub(crate) struct FirstBytesDeadline<A> {
    inner: A,
    limit: Duration,
}

impl<A> FirstBytesDeadline<A> {
    pub(crate) fn new(inner: A, limit: Duration) -> Self {
        FirstBytesDeadline { inner, limit }
    }
}

type Accepted<S, V> = Pin<Box<dyn Future<Output = io::Result<(Deadlined<S>, V)>> + Send>>;

impl<I, S, A> axum_server::accept::Accept<I, S> for FirstBytesDeadline<A>
where
    A: axum_server::accept::Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Deadlined<A::Stream>;
    type Service = A::Service;
    type Future = Accepted<A::Stream, A::Service>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let limit = self.limit;
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            Ok((
                Deadlined {
                    inner: stream,
                    deadline: Some(Box::pin(tokio::time::sleep(limit))),
                    seen: 0,
                },
                service,
            ))
        })
    }
}

/// A connection under [`FirstBytesDeadline`]: reads fail with `TimedOut` once the deadline
/// passes while the bytes so far could still be the start of the HTTP/2 preface.
pub(crate) struct Deadlined<S> {
    inner: S,
    /// `None` once the protocol is told.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Bytes read while the deadline ran.
    seen: usize,
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadlined<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        let Some(deadline) = this.deadline.as_mut() else {
            return read;
        };
        match &read {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                let preface_so_far = new
                    .iter()
                    .enumerate()
                    .all(|(i, b)| H2_PREFACE.get(this.seen + i) == Some(b));
                this.seen += new.len();
                if new.is_empty() || !preface_so_far || this.seen >= H2_PREFACE.len() {
                    this.deadline = None;
                }
                read
            }
            Poll::Ready(Err(_)) => read,
            Poll::Pending => {
                if deadline.as_mut().poll(cx).is_ready() {
                    this.deadline = None;
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the connection sent no request in time",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadlined<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn deadlined(
        limit: Duration,
    ) -> (Deadlined<tokio::io::DuplexStream>, tokio::io::DuplexStream) {
        let (server, client) = tokio::io::duplex(1024);
        let accepted = FirstBytesDeadline::new(axum_server::accept::DefaultAcceptor::new(), limit);
        let (stream, ()) = axum_server::accept::Accept::accept(&accepted, server, ())
            .await
            .unwrap();
        (stream, client)
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_times_out() {
        let (mut stream, _client) = deadlined(Duration::from_secs(5)).await;
        let mut buf = [0u8; 8];
        let e = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn the_start_of_the_http2_preface_keeps_the_deadline() {
        let (mut stream, mut client) = deadlined(Duration::from_secs(5)).await;
        client.write_all(b"PRI * HT").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(stream.read(&mut buf).await.unwrap(), 8);
        let e = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn an_http1_request_line_ends_the_deadline() {
        let (mut stream, mut client) = deadlined(Duration::from_secs(5)).await;
        client.write_all(b"GE").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(stream.read(&mut buf).await.unwrap(), 2);
        // Far past the deadline, the connection is hyper's to time.
        tokio::time::sleep(Duration::from_secs(60)).await;
        client.write_all(b"T /").await.unwrap();
        assert_eq!(stream.read(&mut buf).await.unwrap(), 3);
        // A complete HTTP/2 preface ends it too.
        let (mut stream, mut client) = deadlined(Duration::from_secs(5)).await;
        client.write_all(H2_PREFACE).await.unwrap();
        let mut preface = [0u8; 24];
        stream.read_exact(&mut preface).await.unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
        client.write_all(b"x").await.unwrap();
        assert_eq!(stream.read(&mut buf).await.unwrap(), 1);
    }
}
