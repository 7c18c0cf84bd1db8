//! One error type for every handler: a stable `code`, a message for people, the right status.
//! The HTTP layer's own errors (timeouts, sizes, unknown paths) take the same shape in
//! `limits.rs`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first: the access token is missing, malformed or expired")]
    Unauthenticated,
    #[error("the e-mail or password is wrong")]
    BadCredentials,
    #[error("enter the code from your authenticator app")]
    TotpRequired,
    #[error("your organisation requires two-step sign-in: set up an authenticator app (TOTP) first; until then this session may only do that")]
    TotpSetupRequired,
    #[error("this sign-in session was ended; sign in again")]
    SessionRevoked,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// A file over the size the server takes (the message names both sizes).
    #[error("{0}")]
    FileTooLarge(String),
    /// A file the server does not take: its kind, or a name that contradicts it.
    #[error("{0}")]
    FileRefused(String),
    /// An upload's bytes do not have the SHA-256 announced for them.
    #[error("{0}")]
    HashMismatch(String),
    #[error("too many attempts; wait a minute and try again")]
    RateLimited,
    /// A stalled request body or a handler past the request timeout (`limits.rs`).
    #[error("{0}")]
    Timeout(&'static str),
    #[error("internal error; the server log has details")]
    Internal(#[from] anyhow::Error),
}

use outpost_core::error::ErrorCode;
pub use outpost_core::sync::ErrorBody;

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials),
            ApiError::TotpRequired => (StatusCode::UNAUTHORIZED, ErrorCode::TotpRequired),
            ApiError::TotpSetupRequired => (StatusCode::FORBIDDEN, ErrorCode::TotpSetupRequired),
            ApiError::SessionRevoked => (StatusCode::UNAUTHORIZED, ErrorCode::SessionRevoked),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            ApiError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            }
            ApiError::FileTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            }
            ApiError::FileRefused(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::FileRefused),
            ApiError::HashMismatch(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::HashMismatch)
            }
            ApiError::RateLimited => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %e, "request failed");
        }
        (
            status,
            Json(ErrorBody {
                code,
                message: self.to_string(),
            }),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
