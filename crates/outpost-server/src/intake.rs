//! `POST /v1/intake`: tickets from connectors (web form, webhook, e-mail bridge), authenticated
//! by a per-channel intake key ([`crate::intake_keys`]). An adapter: the ticket goes through the
//! intake pipeline ([`crate::new_ticket`]) like a customer's web-form submission.
//!
//! The body is the ticket as JSON, or `multipart/form-data` with that JSON in a part named
//! `ticket` and the customer's files in parts with a file name, held to the organisation's
//! attachment policy like the customer form's ([`crate::multipart`]).

use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap};
use axum::Json;

use crate::customer_uploads::{self, StoredFiles};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::intake_keys::IntakeCaller;
use crate::multipart::{self, FileProblem, UploadError};
use crate::new_ticket::create;
use crate::new_ticket::{IntakeRequest, IntakeResponse};
use crate::{AppState, ClientAddr};

/// The multipart form of an intake request (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "a schema only")]
pub struct IntakeWithFiles {
    /// The ticket, as the JSON body would be.
    ticket: IntakeRequest,
    /// The customer's files (any part with a file name): their kind is decided by their bytes
    /// and held to the organisation's attachment policy (default PDF, JPEG, PNG, 5 MiB each, 10
    /// per ticket).
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
}

#[utoipa::path(post, path = "/v1/intake", request_body(content((IntakeRequest = "application/json"), (IntakeWithFiles = "multipart/form-data"))), security(("intake_key" = [])), responses((status = 200, body = IntakeResponse), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 413, description = "A file, or the whole body, is larger than the organisation's attachment policy allows", body = crate::error::ErrorBody), (status = 422, description = "`file_refused`: a file's kind (from its bytes) is not accepted, its name contradicts it, or there are more files than one message may carry", body = crate::error::ErrorBody)))]
pub async fn intake(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Json<IntakeResponse>> {
    let caller = IntakeCaller::from_headers(&state, &headers).await?;
    // Read after the key check, so a caller without one learns nothing from its validation.
    let (request, files) = if let Some(boundary) = multipart::boundary(&headers) {
        with_files(&state, &headers, request.into_body(), boundary).await?
    } else {
        let ApiJson(ticket) = ApiJson::<IntakeRequest>::from_request(request, &state).await?;
        (ticket, StoredFiles::default())
    };
    let created = create(
        &state,
        caller.channel,
        &caller.actor(),
        address.as_deref(),
        request,
        &files.attachments(),
    )
    .await;
    if created.is_err() {
        files.discard(&state).await;
    }
    Ok(Json(created?))
}

/// Reads a multipart intake request: the `ticket` part and the files, stored.
async fn with_files(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    boundary: String,
) -> ApiResult<(IntakeRequest, StoredFiles)> {
    let settings = crate::settings_docs::load_from(&state.db.pool).await?;
    let policy = &settings.profile().attachments;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > multipart::body_limit(policy)) {
        return Err(ApiError::PayloadTooLarge);
    }
    let (fields, files) = customer_uploads::read(state, body, boundary, policy)
        .await
        .map_err(|refusal| refused(refusal.error))?;
    // The ticket part goes through the JSON extractor, so its errors are the JSON body's.
    let json = axum::http::Request::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(fields.field("ticket").to_owned()))
        .map_err(anyhow::Error::from)?;
    match ApiJson::<IntakeRequest>::from_request(json, state).await {
        Ok(ApiJson(ticket)) => Ok((ticket, files)),
        Err(e) => {
            files.discard(state).await;
            Err(match e {
                ApiError::BadRequest(message) => {
                    ApiError::BadRequest(format!("the `ticket` part: {message}"))
                }
                other => other,
            })
        }
    }
}

fn refused(error: UploadError) -> ApiError {
    match error {
        UploadError::File {
            problem: FileProblem::TooLarge { .. },
            message,
            ..
        } => ApiError::FileTooLarge(message),
        UploadError::File { message, .. } => ApiError::FileRefused(message),
        too_many @ UploadError::TooMany { .. } => ApiError::FileRefused(too_many.to_string()),
        UploadError::TooLarge => ApiError::PayloadTooLarge,
        malformed @ UploadError::Malformed(_) => ApiError::BadRequest(malformed.to_string()),
        UploadError::Internal(e) => ApiError::Internal(e),
    }
}
