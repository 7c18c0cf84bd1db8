//! The OpenAPI document, generated from the handlers' types and served at `/openapi.json`.
//! `tests/openapi.rs` fails when the checked-in `openapi.json` no longer matches.

use axum::Json;
use outpost_core::model::User;
use outpost_core::sync::{PullResponse, PushRequest, PushResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Outpost server API", description = "Sync, sign-in, administration, intake, outbound customer messages for connectors and the audit trail for Outpost desktop clients."),
    paths(
        crate::routes::health,
        crate::routes::ping,
        crate::routes::me,
        crate::routes::login,
        crate::routes::refresh,
        crate::routes::logout,
        crate::routes::add_user,
        crate::routes::disable_user,
        crate::routes::set_departments,
        crate::totp::setup,
        crate::totp::enable,
        crate::sync::push,
        crate::sync::pull,
        crate::events::events,
        crate::intake::intake,
        crate::outbound::list_outbound,
        crate::outbound::mark_delivered,
        crate::audit::events,
    ),
    components(schemas(ErrorBody, User, PushRequest, PushResponse, PullResponse, outpost_core::sync::Poke, outpost_core::audit_export::AuditPage)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The document as pretty JSON (what `openapi.json` holds).
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
