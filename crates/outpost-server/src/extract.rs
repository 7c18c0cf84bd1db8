//! Request extractors whose rejections are the API's `{code, message}` errors, so malformed
//! JSON, wrong types, invalid UTF-8 and oversized bodies get the same shape as every other error.
//!
//! U+0000 is refused in every JSON body ([`ApiJson`]) and, by the [`refuse_nul_in_uri`] layer,
//! in every path and query: no field of the API takes it, and PostgreSQL cannot store or even
//! compare it (a NUL in a login e-mail or an audit filter was an internal error there and a plain
//! miss on SQLite). Refusing it at the edge keeps the answer the same 400 on both databases, for
//! every endpoint, including those that parse their query themselves.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::ApiError;

const NUL_REFUSED: &str = "text must not contain the NUL character (U+0000)";

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // `axum::Json` checks the content type, reads the body under the size limit and checks
        // the syntax; the raw text is then searched for NUL escapes and read as `T` with axum's
        // own data errors (which name the field).
        let raw = axum::Json::<Box<RawValue>>::from_request(req, state)
            .await
            .map_err(json_error)?
            .0;
        let text = raw.get();
        // A NUL can only be written `\u0000` in JSON; the parse confirms the escape is not itself
        // escaped text (`\\u0000`).
        if text.contains("\\u0000")
            && serde_json::from_str::<Value>(text).is_ok_and(|v| has_nul(&v))
        {
            return Err(ApiError::BadRequest(NUL_REFUSED.into()));
        }
        match axum::Json::<T>::from_bytes(text.as_bytes()) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    ApiError::BadRequest(rejection.body_text())
}

/// Whether any string (or object key) in `value` contains U+0000.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))?;
        Ok(ApiQuery(query.0))
    }
}

pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let path = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))?;
        Ok(ApiPath(path.0))
    }
}

/// Middleware: a request whose path or query carries a NUL (`%00`) is refused with 400 before
/// any handler runs. A NUL can only arrive percent-encoded there, and `%` always starts an
/// escape, so `%00` is never part of another one.
pub async fn refuse_nul_in_uri(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = request.uri();
    if uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00")) {
        return ApiError::BadRequest(NUL_REFUSED.into()).into_response();
    }
    next.run(request).await
}
