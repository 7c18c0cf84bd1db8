//! `POST /v1/intake`: tickets from connectors (web form, webhook, e-mail bridge), authenticated
//! by a per-channel intake key ([`crate::intake_keys`]). An adapter: the ticket goes through the
//! intake pipeline ([`crate::new_ticket`]) like a customer's web-form submission.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::intake_keys::IntakeCaller;
use crate::new_ticket::create;
use crate::new_ticket::{IntakeRequest, IntakeResponse};
use crate::{AppState, ClientAddr};

#[utoipa::path(post, path = "/v1/intake", request_body = IntakeRequest, security(("intake_key" = [])), responses((status = 200, body = IntakeResponse), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn intake(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    request: Result<ApiJson<IntakeRequest>, ApiError>,
) -> ApiResult<Json<IntakeResponse>> {
    let caller = IntakeCaller::from_headers(&state, &headers).await?;
    // Read after the key check, so a caller without one learns nothing from its validation.
    let ApiJson(request) = request?;
    Ok(Json(
        create(
            &state,
            caller.channel,
            &caller.actor(),
            address.as_deref(),
            request,
        )
        .await?,
    ))
}
