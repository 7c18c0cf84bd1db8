//! The attachment endpoints for agents (bearer token): resumable uploads into the blob store
//! and downloads of a ticket's attachments (`blobs.rs` keeps the bytes).
//!
//! - `POST /v1/tickets/{id}/uploads` starts an upload of a file the ticket's viewer announces
//!   by size and SHA-256; `PUT /v1/uploads/{id}?offset=N` sends bytes from the stored offset
//!   (whole 64 KiB segments are kept; the rest of a cut body is dropped and sent again);
//!   `GET` tells the offset, `DELETE` cancels. Only the agent who started an upload sees it.
//! - When the last byte arrives the server checks the hash and the kind (from the bytes); the
//!   entry `entry.add_attachment` is accepted on push only after that (`change.rs`).
//! - `GET /v1/tickets/{id}/attachments/{attachment_id}` streams a file of a ticket the agent
//!   can see, as a download that nothing renders: `Content-Disposition: attachment`,
//!   `nosniff`, a CSP that allows nothing, `no-store`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use outpost_core::apply::MAX_ATTACHMENT_BYTES;
use outpost_core::error::ErrorCode;
use outpost_core::files::{human_size, sanitise_filename, FileType};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::blobs::{Appended, FinishError, Upload, MAX_CHUNK_BYTES};
use crate::change::can_see;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::AppState;

/// A file an agent is about to upload.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// The file's name (sanitised by the server).
    pub filename: String,
    /// Its length in bytes (1 to 25 MiB).
    pub size: u64,
    /// The SHA-256 of its bytes, 64 lowercase hexadecimal digits.
    pub sha256: String,
}

/// A started upload.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadCreated {
    pub upload_id: Uuid,
    /// Always 0: where the first `PUT` starts.
    pub offset: u64,
    /// The most bytes one `PUT` may carry.
    pub chunk_bytes: u64,
}

/// Where an upload stands.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadState {
    /// Bytes stored so far: the next `PUT` starts here.
    pub offset: u64,
    pub size: u64,
    /// The bytes were checked (hash and kind) and stored; the file can be attached.
    pub complete: bool,
    /// The kind found in the bytes, once complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_type: Option<FileType>,
    /// The media type the file is served with, once complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
}

/// `409` for a `PUT` at the wrong offset: `{code, message, offset}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OffsetConflict {
    pub code: ErrorCode,
    pub message: String,
    /// Where the upload stands: send from here.
    pub offset: u64,
}

/// A cancelled upload.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadCancelled {
    pub upload_id: Uuid,
    /// Its bytes are deleted.
    pub cancelled: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChunkQuery {
    /// Where this body starts in the file; must be the upload's current offset.
    pub offset: u64,
}

/// A file's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code, reason = "a schema only")] Vec<u8>);

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `user` may see ticket `id` (a hidden ticket reads as missing).
async fn visible(state: &AppState, user: &outpost_core::model::User, id: Uuid) -> ApiResult<bool> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT department, assignee FROM tickets WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&state.db.pool)
            .await?;
    Ok(row.is_some_and(|(department, assignee)| {
        can_see(
            user,
            department.as_deref(),
            assignee.and_then(|a| a.parse().ok()),
        )
    }))
}

/// The upload `id` if `user` started it; anyone else's reads as missing.
async fn own_upload(state: &AppState, user: Uuid, id: Uuid) -> ApiResult<Upload> {
    match state.blobs.upload(id).await? {
        Some(upload) if upload.user_id == user.to_string() => Ok(upload),
        _ => Err(ApiError::NotFound("upload")),
    }
}

async fn state_of(state: &AppState, upload: &Upload) -> ApiResult<UploadState> {
    let offset = state.blobs.offset(upload).await?;
    Ok(UploadState {
        offset,
        size: upload.size,
        complete: upload.completed.is_some(),
        file_type: upload.completed,
        mime: upload.completed.map(|t| t.mime().to_owned()),
    })
}

fn offset_conflict(offset: u64, message: String) -> Response {
    (
        StatusCode::CONFLICT,
        Json(OffsetConflict {
            code: ErrorCode::Conflict,
            message,
            offset,
        }),
    )
        .into_response()
}

/// Starts an upload to ticket `id`.
#[utoipa::path(post, path = "/v1/tickets/{id}/uploads", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The ticket")), request_body = NewUpload, responses((status = 201, description = "Started: send the bytes with PUT /v1/uploads/{upload_id}", body = UploadCreated), (status = 400, description = "Malformed request (a SHA-256 that is not 64 lowercase hex digits, size 0)", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 404, description = "No such ticket, or not one the agent can see", body = crate::error::ErrorBody), (status = 413, description = "The file is larger than 25 MiB", body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(ticket): ApiPath<Uuid>,
    ApiJson(request): ApiJson<NewUpload>,
) -> ApiResult<(StatusCode, Json<UploadCreated>)> {
    if !is_sha256(&request.sha256) {
        return Err(ApiError::BadRequest(
            "sha256 must be 64 lowercase hexadecimal digits".into(),
        ));
    }
    let filename = sanitise_filename(&request.filename);
    if request.size == 0 {
        return Err(ApiError::BadRequest(format!(
            "\u{201C}{filename}\u{201D} is empty; attach a file with something in it"
        )));
    }
    if request.size > MAX_ATTACHMENT_BYTES {
        return Err(ApiError::FileTooLarge(format!(
            "\u{201C}{filename}\u{201D} is {}; files may be at most {}",
            human_size(request.size),
            human_size(MAX_ATTACHMENT_BYTES)
        )));
    }
    if !visible(&state, &user, ticket).await? {
        return Err(ApiError::NotFound("ticket"));
    }
    let upload = state
        .blobs
        .create_upload(
            &user.id.to_string(),
            Some(ticket),
            &filename,
            request.size,
            &request.sha256,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadCreated {
            upload_id: upload.id,
            offset: 0,
            chunk_bytes: MAX_CHUNK_BYTES,
        }),
    ))
}

/// Where upload `id` stands.
#[utoipa::path(get, path = "/v1/uploads/{id}", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The upload")), responses((status = 200, description = "The stored offset", body = UploadState), (status = 400, description = "Malformed id", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 404, description = "No such upload of this agent (or it expired)", body = crate::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UploadState>> {
    let upload = own_upload(&state, user.id, id).await?;
    Ok(Json(state_of(&state, &upload).await?))
}

/// Cancels upload `id` (its bytes are deleted).
#[utoipa::path(delete, path = "/v1/uploads/{id}", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The upload")), responses((status = 200, description = "Cancelled: the bytes are deleted", body = UploadCancelled), (status = 400, description = "Malformed id", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 404, description = "No such upload of this agent", body = crate::error::ErrorBody), (status = 409, description = "A request is writing the upload now", body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UploadCancelled>> {
    let upload = own_upload(&state, user.id, id).await?;
    let Some(_busy) = state.blobs.claim(id) else {
        return Err(ApiError::Conflict(
            "a request is sending bytes of this upload; try again when it ends".into(),
        ));
    };
    state.blobs.discard(&upload).await?;
    Ok(Json(UploadCancelled {
        upload_id: id,
        cancelled: true,
    }))
}

/// Sends bytes of upload `id` from `offset`.
#[utoipa::path(put, path = "/v1/uploads/{id}", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The upload"), ChunkQuery), request_body(content = FileBytes, content_type = "application/octet-stream", description = "The file's bytes from `offset`, at most `chunk_bytes` (8 MiB)"), responses((status = 200, description = "Stored (whole 64 KiB segments; the rest of a cut body is dropped). With the last byte the file is checked: `complete` and its kind", body = UploadState), (status = 400, description = "Malformed request, or bytes past the file's announced size", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 404, description = "No such upload of this agent (or it expired)", body = crate::error::ErrorBody), (status = 409, description = "`offset` is not where the upload stands (the body names it), or another request is writing it", body = OffsetConflict), (status = 413, description = "More than 8 MiB in one request", body = crate::error::ErrorBody), (status = 422, description = "The finished file was refused and discarded: `hash_mismatch` (not the announced SHA-256) or `file_refused` (its kind, or a name that contradicts it)", body = crate::error::ErrorBody)))]
pub async fn put_chunk(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ChunkQuery>,
    body: Body,
) -> ApiResult<Response> {
    let upload = own_upload(&state, user.id, id).await?;
    let Some(_busy) = state.blobs.claim(id) else {
        let offset = state.blobs.offset(&upload).await?;
        return Ok(offset_conflict(
            offset,
            "another request is sending bytes of this upload; ask where it stands and continue \
             when it ends"
                .into(),
        ));
    };
    let current = state.blobs.offset(&upload).await?;
    if query.offset != current {
        return Ok(offset_conflict(
            current,
            format!(
                "the upload has {current} bytes stored, not {}; send from byte {current}",
                query.offset
            ),
        ));
    }
    if upload.completed.is_some() {
        return Ok(Json(state_of(&state, &upload).await?).into_response());
    }
    let appended = state
        .blobs
        .append(&upload, current, body.into_data_stream())
        .await?;
    let offset =
        match appended {
            Appended::Stored { offset, cut: false } => offset,
            Appended::Stored { cut: true, .. } => return Err(ApiError::BadRequest(
                "the body ended before it was complete; ask where the upload stands and continue"
                    .into(),
            )),
            Appended::PastEnd { .. } => {
                return Err(ApiError::BadRequest(format!(
                    "the file was announced as {} bytes; this body goes past its end",
                    upload.size
                )))
            }
            Appended::TooLarge { .. } => {
                return Err(ApiError::FileTooLarge(format!(
                    "one request may carry at most {}; send the rest in another",
                    human_size(MAX_CHUNK_BYTES)
                )))
            }
        };
    if offset < upload.size {
        return Ok(Json(UploadState {
            offset,
            size: upload.size,
            complete: false,
            file_type: None,
            mime: None,
        })
        .into_response());
    }
    match state.blobs.finish(&upload, None).await {
        Ok(file_type) => Ok(Json(UploadState {
            offset,
            size: upload.size,
            complete: true,
            file_type: Some(file_type),
            mime: Some(file_type.mime().to_owned()),
        })
        .into_response()),
        Err(FinishError::HashMismatch { .. }) => Err(ApiError::HashMismatch(
            "the file's bytes do not have the SHA-256 announced for them; it may have changed \
             while it was sent. The upload was discarded: attach the file again"
                .into(),
        )),
        Err(FinishError::Refused(message)) => Err(ApiError::FileRefused(message)),
        Err(FinishError::Failed(e)) => Err(ApiError::Internal(e)),
    }
}

/// `Content-Disposition` for a download: always `attachment`, the name percent-encoded
/// (RFC 8187), so no name can inject a header or a parameter.
fn disposition(filename: &str) -> String {
    let mut encoded = String::with_capacity(filename.len() * 3);
    for byte in sanitise_filename(filename).bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename*=UTF-8''{encoded}")
}

/// Downloads attachment `attachment_id` of ticket `id`.
#[utoipa::path(get, path = "/v1/tickets/{id}/attachments/{attachment_id}", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The ticket"), ("attachment_id" = Uuid, Path, description = "The attachment, as its entry names it")), responses((status = 200, description = "The file, decrypted as it is sent; `Content-Type` from its kind, always a download", content((FileBytes = "application/pdf"), (FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "image/gif"), (FileBytes = "image/webp"), (FileBytes = "application/zip"), (FileBytes = "text/plain; charset=utf-8"))), (status = 400, description = "Malformed id", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 404, description = "No such attachment on a ticket the agent can see (or it was redacted)", body = crate::error::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((ticket, attachment)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    if !visible(&state, &user, ticket).await? {
        return Err(ApiError::NotFound("attachment"));
    }
    let Some((sha256, filename)) =
        crate::blobs::attachment_of(&state.db, ticket, attachment).await?
    else {
        return Err(ApiError::NotFound("attachment"));
    };
    let Some(blob) = state.blobs.blob(&sha256).await? else {
        return Err(ApiError::NotFound("attachment"));
    };
    file_response(&state, &blob, &filename)
}

/// A stored file as a download that nothing renders; also the customer's status page serves
/// their files with it (`customer.rs`).
pub(crate) fn file_response(
    state: &AppState,
    blob: &crate::blobs::Blob,
    filename: &str,
) -> ApiResult<Response> {
    let stream = state.blobs.read(blob)?.map(|piece| {
        piece.map_err(|e| {
            tracing::error!(error = %e, "an attachment could not be read");
            std::io::Error::other(e.to_string())
        })
    });
    let content_type = match blob.file_type {
        FileType::Text => "text/plain; charset=utf-8".to_owned(),
        other => other.mime().to_owned(),
    };
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, &content_type);
    set(header::CONTENT_LENGTH, &blob.size.to_string());
    set(header::CONTENT_DISPOSITION, &disposition(filename));
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    );
    set(header::CACHE_CONTROL, "private, no-store");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_name_cannot_break_out_of_its_header() {
        assert_eq!(
            disposition("营业执照.pdf"),
            "attachment; filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"
        );
        let nasty = disposition("a\"; filename=evil.html\r\nX-Injected: 1.pdf");
        let encoded = nasty.strip_prefix("attachment; filename*=UTF-8''").unwrap();
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)),
            "{nasty}"
        );
        assert!(HeaderValue::from_str(&nasty).is_ok());
    }
}
