//! The Outpost server's HTTP API as the client sees it: typed requests over reqwest + rustls,
//! and errors sorted by what the sync engine should do about them (retry later, sign in again,
//! or give up and show the server's reason).

use std::time::Duration;

use futures_util::StreamExt;
use outpost_core::error::ErrorCode;
use outpost_core::model::User;
use outpost_core::sync::{
    ErrorBody, LoginRequest, Poke, PullResponse, PushRequest, PushResponse, RefreshRequest, Session,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;
use uuid::Uuid;

/// What went wrong talking to the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No answer: refused, reset, timed out, DNS, TLS handshake. Retry with backoff.
    #[error("cannot reach the server: {0}")]
    Offline(String),
    /// The access token was refused (expired or revoked): refresh, then retry once.
    #[error("the server asked to sign in again")]
    Unauthorized,
    /// The server answered with an error it explains (`{code, message}`).
    #[error("{message} ({status} {code})")]
    Server {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The answer was not what the protocol says (a proxy page, a truncated body).
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

impl ApiError {
    /// Whether trying again later may succeed (network trouble, 5xx, 429, a cut-off body).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Offline(_) | ApiError::Protocol(_) => true,
            ApiError::Server { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            ApiError::Unauthorized => false,
        }
    }
}

fn offline(error: reqwest::Error) -> ApiError {
    // The chain carries the useful part ("connection refused"); the top level only says
    // "error sending request".
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    ApiError::Offline(text)
}

/// `{user}`: how the enable and reset-totp endpoints answer.
#[derive(serde::Deserialize)]
struct UserAnswer {
    user: User,
}

/// `POST /v1/auth/totp/setup`'s answer.
#[derive(serde::Deserialize)]
struct TotpSetupAnswer {
    secret_base32: String,
    otpauth_url: String,
}

/// A new authenticator secret for the user to enter in their app (shown once, never stored on
/// this device).
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TotpSecret {
    /// Base32, as authenticator apps take it typed in.
    pub secret: String,
    /// The `otpauth://` link with the secret, the issuer and the account.
    pub otpauth_url: String,
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// `POST /v1/tickets/{ticket_id}/uploads`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadRequest {
    pub filename: String,
    pub size: u64,
    pub sha256: String,
}

/// A started upload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct UploadStarted {
    pub upload_id: String,
    pub offset: u64,
    #[serde(default)]
    pub chunk_bytes: Option<u64>,
}

/// Where an upload stands: bytes the server keeps, and whether it has the whole file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct UploadProgress {
    pub offset: u64,
    #[serde(default)]
    pub complete: bool,
}

/// Downloads reserve at most this much memory up front (the entry's size may be wrong).
const DOWNLOAD_PREALLOCATE: u64 = 1024 * 1024;

/// An upload id as one path segment (the server's ids are URL-safe; anything else is escaped).
fn upload_segment(upload_id: &str) -> String {
    url::form_urlencoded::byte_serialize(upload_id.as_bytes()).collect()
}

/// One server. Cheap to clone (reqwest pools connections inside).
#[derive(Clone)]
pub struct ServerApi {
    base: Url,
    http: reqwest::Client,
}

impl std::fmt::Debug for ServerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerApi")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Connect and request timeouts; the event stream has no overall timeout (it is long-lived).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Answers at least this large are decoded on Tokio's blocking pool.
const BLOCKING_DECODE_BYTES: usize = 256 * 1024;

impl ServerApi {
    /// `base` is the server's root URL (`https://desk.example.com`, or `http://127.0.0.1:7878`).
    /// Extra trusted CA certificates (PEM) let a team run with its own certificate authority.
    pub fn new(base: &str, extra_roots_pem: Option<&[u8]>) -> Result<ServerApi, ApiError> {
        let mut base = Url::parse(base.trim())
            .map_err(|e| ApiError::Protocol(format!("the server address is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ApiError::Protocol(
                "the server address must start with https:// or http://".into(),
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        // One process-wide rustls provider (ring); installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("outpost-client/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = extra_roots_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ApiError::Protocol(format!("cannot read the CA certificate: {e}")))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| ApiError::Protocol(format!("cannot set up HTTPS: {e}")))?;
        Ok(ServerApi { base, http })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ApiError::Protocol(e.to_string()))
    }

    async fn call<B: Serialize, T: DeserializeOwned + Send + 'static>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let mut request = self
            .http
            .request(method, self.url(path)?)
            .timeout(REQUEST_TIMEOUT);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(offline)?;
        answer(response, path, token.is_some()).await
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        totp: Option<&str>,
    ) -> Result<Session, ApiError> {
        let request = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            totp: totp.map(str::to_owned),
        };
        self.call(Method::POST, "v1/auth/login", None, Some(&request))
            .await
    }

    /// Trades a refresh token for a new session (the old refresh token is spent).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, ApiError> {
        let request = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        self.call(Method::POST, "v1/auth/refresh", None, Some(&request))
            .await
    }

    pub async fn logout(&self, refresh_token: &str) -> Result<(), ApiError> {
        let request = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        let _: serde_json::Value = self
            .call(Method::POST, "v1/auth/logout", None, Some(&request))
            .await?;
        Ok(())
    }

    /// Starts enrolling an authenticator: the password (and a current code when one is
    /// already enabled) for a new secret.
    pub async fn totp_setup(
        &self,
        token: &str,
        password: &str,
        code: Option<&str>,
    ) -> Result<TotpSecret, ApiError> {
        let answer: TotpSetupAnswer = self
            .call(
                Method::POST,
                "v1/auth/totp/setup",
                Some(token),
                Some(&serde_json::json!({ "password": password, "code": code })),
            )
            .await?;
        Ok(TotpSecret {
            secret: answer.secret_base32,
            otpauth_url: answer.otpauth_url,
        })
    }

    /// Enables the authenticator started by [`ServerApi::totp_setup`] with a code from it.
    pub async fn totp_enable(&self, token: &str, code: &str) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .call(
                Method::POST,
                "v1/auth/totp/enable",
                Some(token),
                Some(&serde_json::json!({ "code": code })),
            )
            .await?;
        Ok(())
    }

    pub async fn me(&self, token: &str) -> Result<User, ApiError> {
        self.call::<(), _>(Method::GET, "v1/me", Some(token), None)
            .await
    }

    pub async fn push(&self, token: &str, request: &PushRequest) -> Result<PushResponse, ApiError> {
        self.call(Method::POST, "v1/sync/push", Some(token), Some(request))
            .await
    }

    pub async fn pull(
        &self,
        token: &str,
        cursor: u64,
        limit: u32,
        device: Uuid,
    ) -> Result<PullResponse, ApiError> {
        let path = format!("v1/sync/pull?cursor={cursor}&limit={limit}&device_id={device}");
        self.call::<(), _>(Method::GET, &path, Some(token), None)
            .await
    }

    /// A page of the audit trail (supervisors and admins).
    pub async fn audit_events(
        &self,
        token: &str,
        query: &outpost_core::audit_export::AuditQuery,
    ) -> Result<outpost_core::audit_export::AuditPage, ApiError> {
        let path = {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            let time = |t: &chrono::DateTime<chrono::Utc>| {
                t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            };
            if let Some(t) = &query.from {
                q.append_pair("from", &time(t));
            }
            if let Some(t) = &query.to {
                q.append_pair("to", &time(t));
            }
            for (name, value) in [
                ("actor", &query.actor),
                ("action", &query.action),
                ("department", &query.department),
                ("device", &query.device),
            ] {
                if let Some(v) = value {
                    q.append_pair(name, v);
                }
            }
            if let Some(t) = query.ticket_id {
                q.append_pair("ticket_id", &t.to_string());
            }
            for (name, value) in [
                ("before_seq", query.before_seq),
                ("after_seq", query.after_seq),
                ("limit", query.limit.map(u64::from)),
            ] {
                if let Some(v) = value {
                    q.append_pair(name, &v.to_string());
                }
            }
            format!("v1/audit/events?{}", q.finish())
        };
        self.call::<(), _>(Method::GET, &path, Some(token), None)
            .await
    }

    pub async fn admin_add_user(
        &self,
        token: &str,
        user: &crate::admin::NewUser,
    ) -> Result<crate::admin::AddedUser, ApiError> {
        self.call(Method::POST, "v1/admin/users", Some(token), Some(user))
            .await
    }

    pub async fn admin_update_user(
        &self,
        token: &str,
        id: Uuid,
        patch: &crate::admin::UserPatch,
    ) -> Result<User, ApiError> {
        self.call(
            Method::PATCH,
            &format!("v1/admin/users/{id}"),
            Some(token),
            Some(patch),
        )
        .await
    }

    pub async fn admin_enable_user(&self, token: &str, id: Uuid) -> Result<User, ApiError> {
        let answer: UserAnswer = self
            .call::<(), _>(
                Method::POST,
                &format!("v1/admin/users/{id}/enable"),
                Some(token),
                None,
            )
            .await?;
        Ok(answer.user)
    }

    pub async fn admin_disable_user(&self, token: &str, id: Uuid) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .call::<(), _>(
                Method::POST,
                &format!("v1/admin/users/{id}/disable"),
                Some(token),
                None,
            )
            .await?;
        Ok(())
    }

    pub async fn admin_reset_password(
        &self,
        token: &str,
        id: Uuid,
        invite: crate::admin::InviteKind,
    ) -> Result<crate::admin::Credentials, ApiError> {
        self.call(
            Method::POST,
            &format!("v1/admin/users/{id}/reset-password"),
            Some(token),
            Some(&serde_json::json!({ "invite": invite })),
        )
        .await
    }

    pub async fn admin_reset_totp(&self, token: &str, id: Uuid) -> Result<User, ApiError> {
        let answer: UserAnswer = self
            .call::<(), _>(
                Method::POST,
                &format!("v1/admin/users/{id}/reset-totp"),
                Some(token),
                None,
            )
            .await?;
        Ok(answer.user)
    }

    pub async fn admin_users(&self, token: &str) -> Result<Vec<crate::admin::AdminUser>, ApiError> {
        self.call::<(), _>(Method::GET, "v1/admin/users", Some(token), None)
            .await
    }

    pub async fn admin_intake_keys(
        &self,
        token: &str,
    ) -> Result<Vec<crate::admin::IntakeKeyInfo>, ApiError> {
        self.call::<(), _>(Method::GET, "v1/admin/intake-keys", Some(token), None)
            .await
    }

    pub async fn admin_add_intake_key(
        &self,
        token: &str,
        name: &str,
    ) -> Result<crate::admin::CreatedIntakeKey, ApiError> {
        self.call(
            Method::POST,
            "v1/admin/intake-keys",
            Some(token),
            Some(&serde_json::json!({ "name": name })),
        )
        .await
    }

    pub async fn admin_revoke_intake_key(
        &self,
        token: &str,
        id: Uuid,
    ) -> Result<crate::admin::IntakeKeyInfo, ApiError> {
        self.call::<(), _>(
            Method::POST,
            &format!("v1/admin/intake-keys/{id}/revoke"),
            Some(token),
            None,
        )
        .await
    }

    /// `POST /v1/tickets/{ticket_id}/uploads`: starts a resumable upload of a file the agent
    /// attaches to a ticket.
    pub async fn start_upload(
        &self,
        token: &str,
        ticket_id: Uuid,
        request: &UploadRequest,
    ) -> Result<UploadStarted, ApiError> {
        self.call(
            Method::POST,
            &format!("v1/tickets/{ticket_id}/uploads"),
            Some(token),
            Some(request),
        )
        .await
    }

    /// `PUT /v1/uploads/{upload_id}?offset=N`: the next bytes of an upload. The answer says
    /// where to continue (the server keeps whole segments only).
    pub async fn upload_chunk(
        &self,
        token: &str,
        upload_id: &str,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<UploadProgress, ApiError> {
        let path = format!("v1/uploads/{}?offset={offset}", upload_segment(upload_id));
        let response = self
            .http
            .put(self.url(&path)?)
            .timeout(REQUEST_TIMEOUT)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .map_err(offline)?;
        answer(response, &path, true).await
    }

    /// `GET /v1/uploads/{upload_id}`: how far an upload got.
    pub async fn upload_status(
        &self,
        token: &str,
        upload_id: &str,
    ) -> Result<UploadProgress, ApiError> {
        let path = format!("v1/uploads/{}", upload_segment(upload_id));
        self.call::<(), _>(Method::GET, &path, Some(token), None)
            .await
    }

    /// `DELETE /v1/uploads/{upload_id}`: cancels an upload.
    pub async fn cancel_upload(&self, token: &str, upload_id: &str) -> Result<(), ApiError> {
        let path = format!("v1/uploads/{}", upload_segment(upload_id));
        let response = self
            .http
            .delete(self.url(&path)?)
            .timeout(REQUEST_TIMEOUT)
            .bearer_auth(token)
            .send()
            .await
            .map_err(offline)?;
        if response.status().is_success() {
            return Ok(());
        }
        answer::<serde_json::Value>(response, &path, true)
            .await
            .map(|_| ())
    }

    /// `GET /v1/tickets/{ticket_id}/attachments/{attachment_id}`: an attachment's bytes, read
    /// as a stream and refused beyond `max_bytes` (the entry's size), so a wrong answer never
    /// fills the memory.
    pub async fn download_attachment(
        &self,
        token: &str,
        ticket_id: Uuid,
        attachment_id: Uuid,
        max_bytes: u64,
    ) -> Result<Vec<u8>, ApiError> {
        let path = format!("v1/tickets/{ticket_id}/attachments/{attachment_id}");
        let response = self
            .http
            .get(self.url(&path)?)
            .bearer_auth(token)
            .send()
            .await
            .map_err(offline)?;
        if !response.status().is_success() {
            return answer::<serde_json::Value>(response, &path, true)
                .await
                .and_then(|_| Err(ApiError::Protocol("a download answered JSON".into())));
        }
        let mut data = Vec::with_capacity(max_bytes.min(DOWNLOAD_PREALLOCATE) as usize);
        let mut body = response.bytes_stream();
        while let Some(chunk) = tokio::time::timeout(REQUEST_TIMEOUT, body.next())
            .await
            .map_err(|_| ApiError::Offline("the download stalled".into()))?
        {
            let chunk = chunk.map_err(offline)?;
            if data.len() as u64 + chunk.len() as u64 > max_bytes {
                return Err(ApiError::Protocol(format!(
                    "the server sent more than the attachment's {max_bytes} bytes"
                )));
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }

    /// Opens the event stream; each poke carries the server's latest cursor. The stream ends
    /// (returns `None`) when the connection drops; the caller reconnects with backoff, unless
    /// the server ended it because the session ended ([`EventStream::signed_out`]).
    pub async fn events(&self, token: &str) -> Result<EventStream, ApiError> {
        let response = self
            .http
            .get(self.url("v1/sync/events")?)
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(offline)?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return Err(ApiError::Unauthorized);
        }
        if !status.is_success() {
            return Err(ApiError::Server {
                status: status.as_u16(),
                code: ErrorCode::Http,
                message: format!("the event stream was refused ({status})"),
            });
        }
        Ok(EventStream::new(response.bytes_stream()))
    }
}

/// Reads an answer: the JSON of a success, or the server's `{code, message}` as an [`ApiError`].
async fn answer<T: DeserializeOwned + Send + 'static>(
    response: reqwest::Response,
    path: &str,
    authed: bool,
) -> Result<T, ApiError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(offline)?;
    if status.is_success() {
        let size = bytes.len();
        let decode = move || {
            let decoding = std::time::Instant::now();
            let decoded = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::Protocol(format!("{status}: {e}")));
            (decoded, decoding.elapsed())
        };
        // Large answers (bootstrap pull pages, megabytes) are decoded on the blocking pool,
        // off the async threads.
        let (decoded, took) = if size >= BLOCKING_DECODE_BYTES {
            tokio::task::spawn_blocking(decode)
                .await
                .map_err(|e| ApiError::Protocol(format!("decoding failed: {e}")))?
        } else {
            decode()
        };
        tracing::trace!(
            path,
            bytes = size,
            decode_us = took.as_micros() as u64,
            "decoded"
        );
        return decoded;
    }
    let body = serde_json::from_slice::<ErrorBody>(&bytes);
    // A wrong password or code on a signed-in call (TOTP setup) is the user's answer being
    // wrong, not the session: renewing the token and asking again would only count a
    // second failed attempt.
    let about_the_answer = matches!(
        &body,
        Ok(ErrorBody {
            code: ErrorCode::BadCredentials | ErrorCode::TotpRequired,
            ..
        })
    );
    if status == StatusCode::UNAUTHORIZED && authed && !about_the_answer {
        return Err(ApiError::Unauthorized);
    }
    match body {
        Ok(body) => Err(ApiError::Server {
            status: status.as_u16(),
            code: body.code,
            message: body.message,
        }),
        Err(_) => Err(ApiError::Server {
            status: status.as_u16(),
            code: ErrorCode::Http,
            message: status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .into(),
        }),
    }
}

/// Server-sent pokes, read with `sse-stream` over the response body.
///
/// Bounded: an event (the bytes up to a blank line) longer than [`MAX_EVENT`] ends the stream,
/// and so do [`IDLE_LIMIT`] without a byte (the server sends a heartbeat comment every 15 s, so
/// a connection that stays silent is dead, even when TCP has not noticed).
pub struct EventStream {
    events: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<sse_stream::Sse, sse_stream::Error>> + Send>,
    >,
    signed_out: bool,
}

/// A poke is about 20 bytes; nothing the server sends comes near this.
const MAX_EVENT: usize = 64 * 1024;
/// Three heartbeats missed.
const IDLE_LIMIT: Duration = Duration::from_secs(45);

/// Why the byte stream under the SSE reader was cut.
#[derive(Debug, thiserror::Error)]
enum StreamCut {
    #[error("{0}")]
    Transport(Box<dyn std::error::Error + Send + Sync>),
    #[error("an event longer than {MAX_EVENT} bytes")]
    TooLong,
    #[error("nothing from the server for {IDLE_LIMIT:?}, not even a heartbeat")]
    Silent,
}

impl EventStream {
    pub(crate) fn new<S, E>(body: S) -> EventStream
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Send + Unpin + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let bounded = futures_util::stream::unfold(
            (body, EventBound::default()),
            |(mut body, mut bound)| async move {
                let item = match tokio::time::timeout(IDLE_LIMIT, body.next()).await {
                    Err(_) => Err(StreamCut::Silent),
                    Ok(None) => return None,
                    Ok(Some(Err(e))) => Err(StreamCut::Transport(Box::new(e))),
                    Ok(Some(Ok(chunk))) if !bound.admit(&chunk) => Err(StreamCut::TooLong),
                    Ok(Some(Ok(chunk))) => Ok(chunk),
                };
                Some((item, (body, bound)))
            },
        );
        EventStream {
            events: Box::pin(sse_stream::SseByteStream::new(bounded)),
            signed_out: false,
        }
    }

    /// Whether the server ended the stream with `signed_out`: the session was ended (signed
    /// out elsewhere, revoked, the user disabled), so reconnecting cannot help; sign in again.
    pub fn signed_out(&self) -> bool {
        self.signed_out
    }

    /// The next poke; `None` when the stream ended or broke (the reader stops at the first
    /// error), or the server sent `signed_out`. Other events, and pokes whose data is not a
    /// cursor, are skipped.
    pub async fn next_poke(&mut self) -> Option<Poke> {
        if self.signed_out {
            return None;
        }
        loop {
            match self.events.next().await? {
                Ok(event) if event.event.as_deref() == Some("signed_out") => {
                    self.signed_out = true;
                    return None;
                }
                Ok(event) if event.event.as_deref() == Some("poke") => {
                    let data = event.data.unwrap_or_default();
                    if let Ok(poke) = serde_json::from_str::<Poke>(&data) {
                        return Some(poke);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::info!("the event stream broke: {e}");
                    return None;
                }
            }
        }
    }
}

/// Counts the bytes of the event being received: everything since the last blank line (CRLF,
/// LF and CR each end a line, as in the SSE format).
#[derive(Default)]
struct EventBound {
    pending: usize,
    /// The last byte ended a line (a line end now makes a blank line).
    line_ended: bool,
    /// The last byte was a CR (an LF now completes a CRLF).
    after_cr: bool,
}

impl EventBound {
    /// Takes a chunk; false once the event in progress is longer than [`MAX_EVENT`].
    fn admit(&mut self, chunk: &[u8]) -> bool {
        for &byte in chunk {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\r' | b'\n' => {
                    if self.line_ended {
                        self.pending = 0;
                    }
                    self.line_ended = true;
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    self.pending += 1;
                    self.line_ended = false;
                    self.after_cr = false;
                }
            }
        }
        self.pending <= MAX_EVENT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(chunks: Vec<Vec<u8>>) -> EventStream {
        EventStream::new(futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
        ))
    }

    #[tokio::test]
    async fn pokes_are_read_across_chunk_boundaries_and_other_events_skipped() {
        let mut stream = stream_of(vec![
            b"event: poke\nda".to_vec(),
            b"ta: {\"cursor\":42}\n\n:heartbeat\n\nevent: other\ndata: x\n\n".to_vec(),
            b"event: poke\ndata: not json\n\n".to_vec(),
            b"event: poke\r\ndata: {\"cursor\":43}\r\n\r".to_vec(),
            b"\nevent: poke\rdata: {\"cursor\":44}\r\r".to_vec(),
        ]);
        assert_eq!(stream.next_poke().await.map(|p| p.cursor), Some(42));
        assert_eq!(stream.next_poke().await.map(|p| p.cursor), Some(43));
        assert_eq!(stream.next_poke().await.map(|p| p.cursor), Some(44));
        assert!(stream.next_poke().await.is_none());
    }

    #[tokio::test]
    async fn signed_out_ends_the_stream_and_says_so() {
        let mut stream = stream_of(vec![
            b"event: poke\ndata: {\"cursor\":5}\n\n".to_vec(),
            b"event: signed_out\ndata: {\"code\":\"session_revoked\",\"message\":\"x\"}\n\n"
                .to_vec(),
            b"event: poke\ndata: {\"cursor\":6}\n\n".to_vec(),
        ]);
        assert_eq!(stream.next_poke().await.map(|p| p.cursor), Some(5));
        assert!(!stream.signed_out());
        assert!(stream.next_poke().await.is_none());
        assert!(stream.signed_out());
        assert!(
            stream.next_poke().await.is_none(),
            "nothing after signed_out"
        );

        // A stream that merely ends (the server went away) is not a sign-out.
        let mut stream = stream_of(vec![b"event: poke\ndata: {\"cursor\":5}\n\n".to_vec()]);
        assert_eq!(stream.next_poke().await.map(|p| p.cursor), Some(5));
        assert!(stream.next_poke().await.is_none());
        assert!(!stream.signed_out());
    }

    #[tokio::test]
    async fn an_oversized_event_ends_the_stream_but_heartbeats_never_add_up() {
        let poke = b"event: poke\r\ndata: {\"cursor\":7}\r\n\r\n".to_vec();
        // Far more than MAX_EVENT in heartbeats, each ending with a blank line.
        let heartbeats = b":heartbeat\r\n\r\n".repeat(MAX_EVENT / 8);
        let mut stream = stream_of(vec![heartbeats, poke.clone()]);
        assert_eq!(stream.next_poke().await.map(|p| p.cursor), Some(7));
        assert!(stream.next_poke().await.is_none());

        // One event of many short data lines, no blank line: cut, and the poke after it
        // is never read.
        let long = b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n".repeat(MAX_EVENT / 40);
        let mut stream = stream_of(vec![long, b"\r\n".to_vec(), poke]);
        assert!(stream.next_poke().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_ends_the_stream() {
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from_static(b"event: poke\ndata: {\"cursor\":1}\n\n"),
        )])
        .chain(futures_util::stream::pending());
        let mut stream = EventStream::new(body);
        assert_eq!(stream.next_poke().await.map(|p| p.cursor), Some(1));
        let started = tokio::time::Instant::now();
        assert!(stream.next_poke().await.is_none());
        assert!(started.elapsed() >= IDLE_LIMIT);
    }

    #[test]
    fn bad_addresses_are_refused_clearly() {
        assert!(ServerApi::new("ftp://x", None).is_err());
        assert!(ServerApi::new("not a url", None).is_err());
        let api = ServerApi::new("http://127.0.0.1:9/base", None).unwrap();
        assert_eq!(api.base().as_str(), "http://127.0.0.1:9/base/");
    }

    #[test]
    fn transient_errors_are_told_apart() {
        assert!(ApiError::Offline("refused".into()).is_transient());
        let server = |status| ApiError::Server {
            status,
            code: ErrorCode::Internal,
            message: "y".into(),
        };
        assert!(server(503).is_transient());
        assert!(server(429).is_transient());
        assert!(!server(400).is_transient());
        assert!(!ApiError::Unauthorized.is_transient());
    }
}
