//! The OpenAPI document, generated from the handlers' types and served at `/openapi.json`.
//! `tests/openapi.rs` fails when the checked-in `openapi.json` no longer matches, and when the
//! server answers a status an operation does not list.
//!
//! Two things are added after utoipa has generated the document, so that they have one source:
//! - the input limits, from the constants the core and the server check them with (utoipa's
//!   `max_length` takes only literals, which would be a second copy);
//! - the error answers every operation of a kind can give: 401 wherever a credential is
//!   required, 400 for a malformed body, query or path (see `extract.rs`; every operation, as a
//!   NUL in any query is refused), 413 for a body over
//!   the limit, 408 when the request timed out and 500 for an internal error, all as
//!   `{code, message}`.

use std::sync::OnceLock;

use axum::Json;
use outpost_core::apply::{MAX_SUBJECT_CHARS, MAX_TAG_CHARS, MAX_TEXT_BYTES};
use outpost_core::audit_export::MAX_AUDIT_PAGE;
use outpost_core::model::{
    User, MAX_ACCOUNT_ID_CHARS, MAX_CONTACT_CHARS, MAX_LANGUAGE_CHARS, MAX_NAME_CHARS, MAX_SKILLS,
    MAX_SKILL_CHARS,
};
use outpost_core::sync::{PullResponse, PushRequest, PushResponse, MAX_PUSH_BATCH};
use serde_json::{json, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::new_ticket::MAX_BUSINESS_TYPE_CHARS;

/// The header intake keys travel in.
pub const INTAKE_KEY_HEADER: &str = "x-outpost-key";

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "intake_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                INTAKE_KEY_HEADER,
                "An intake key (`outpost-server intake-key add`); agents' bearer tokens are not accepted",
            ))),
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
        crate::routes::list_users,
        crate::routes::add_user,
        crate::routes::disable_user,
        crate::routes::enable_user,
        crate::routes::update_user,
        crate::routes::reset_password,
        crate::routes::reset_totp,
        crate::intake_keys::list,
        crate::intake_keys::create,
        crate::intake_keys::revoke,
        crate::routes::set_departments,
        crate::totp::setup,
        crate::totp::enable,
        crate::totp::disable,
        crate::sync::push,
        crate::sync::pull,
        crate::events::events,
        crate::intake::intake,
        crate::outbound::list_outbound,
        crate::outbound::mark_delivered,
        crate::audit::events,
        crate::uploads::create,
        crate::uploads::status,
        crate::uploads::put_chunk,
        crate::uploads::cancel,
        crate::uploads::download,
    ),
    components(schemas(ErrorBody, User, PushRequest, PushResponse, PullResponse, outpost_core::sync::Poke, outpost_core::audit_export::AuditPage)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// Longest value, in characters, of each limited text field the API takes: (schema, path to the
/// string inside it, limit). A path step `*` is every branch of a `oneOf` (the mutations), `[]`
/// the items of an array. Texts limited in bytes (`MAX_TEXT_BYTES`) are listed with that many
/// characters, which every allowed text fits in; their descriptions say bytes.
fn text_limits() -> Vec<(&'static str, &'static [&'static str], usize)> {
    let requester: [(&'static [&'static str], usize); 3] = [
        (&["name"], MAX_NAME_CHARS),
        (&["contact"], MAX_CONTACT_CHARS),
        (&["account_id"], MAX_ACCOUNT_ID_CHARS),
    ];
    let mut limits = Vec::new();
    for schema in ["Requester", "RequesterInput"] {
        for (path, max) in requester {
            limits.push((schema, path, max));
        }
    }
    let new_ticket: [(&'static [&'static str], usize); 4] = [
        (&["subject"], MAX_SUBJECT_CHARS),
        (&["description"], MAX_TEXT_BYTES),
        (&["language"], MAX_LANGUAGE_CHARS),
        (&["tags", "[]"], MAX_TAG_CHARS),
    ];
    for schema in ["IntakeRequest", "NewTicket"] {
        for (path, max) in new_ticket {
            limits.push((schema, path, max));
        }
    }
    limits.push(("IntakeRequest", &["business_type"], MAX_BUSINESS_TYPE_CHARS));
    limits.push(("AddUserRequest", &["name"], MAX_NAME_CHARS));
    limits.push(("AddUserRequest", &["email"], MAX_CONTACT_CHARS));
    limits.push(("AddUserRequest", &["skills", "[]"], MAX_SKILL_CHARS));
    limits.push(("UpdateUserRequest", &["name"], MAX_NAME_CHARS));
    limits.push(("UpdateUserRequest", &["skills", "[]"], MAX_SKILL_CHARS));
    limits.push(("NewIntakeKey", &["name"], MAX_NAME_CHARS));
    limits.push(("RiskActionArgs", &["target"], MAX_TEXT_BYTES));
    limits.push(("RiskActionArgs", &["reason"], MAX_TEXT_BYTES));
    // The mutations' arguments, in every intent that has them.
    let mutation: [(&'static [&'static str], usize); 7] = [
        (&["*", "args", "subject"], MAX_SUBJECT_CHARS),
        (&["*", "args", "tag"], MAX_TAG_CHARS),
        (&["*", "args", "description"], MAX_TEXT_BYTES),
        (&["*", "args", "text"], MAX_TEXT_BYTES),
        (&["*", "args", "reason"], MAX_TEXT_BYTES),
        (&["*", "args", "comment"], MAX_TEXT_BYTES),
        (&["*", "args", "filename"], MAX_TEXT_BYTES),
    ];
    for (path, max) in mutation {
        limits.push(("Mutation", path, max));
    }
    limits
}

/// The string schemas at `path` under `node` (a schema), following properties, `oneOf`
/// branches (`*`) and array items (`[]`); nullable fields (`type: [string, null]`) included.
fn strings_at<'a>(node: &'a mut Value, path: &[&str], out: &mut Vec<&'a mut Value>) {
    let Some((step, rest)) = path.split_first() else {
        out.push(node);
        return;
    };
    match *step {
        "*" => {
            if let Some(Value::Array(branches)) = node.get_mut("oneOf") {
                for branch in branches {
                    strings_at(branch, rest, out);
                }
            }
        }
        "[]" => {
            if let Some(items) = node.get_mut("items") {
                strings_at(items, rest, out);
            }
        }
        name => {
            if let Some(child) = node.get_mut("properties").and_then(|p| p.get_mut(name)) {
                strings_at(child, rest, out);
            }
        }
    }
}

fn apply_text_limits(doc: &mut Value) {
    for (schema, path, max) in text_limits() {
        let Some(root) = doc.pointer_mut(&format!("/components/schemas/{schema}")) else {
            panic!("the document has no schema {schema}");
        };
        let mut found = Vec::new();
        strings_at(root, path, &mut found);
        assert!(!found.is_empty(), "{schema}: no field at {path:?}");
        for field in found {
            field["maxLength"] = json!(max);
        }
    }
    // Texts that must not be empty (blank ones are refused too, which a schema cannot say).
    for (schema, path) in [
        ("AddUserRequest", &["name"][..]),
        ("AddUserRequest", &["skills", "[]"]),
        ("UpdateUserRequest", &["name"]),
        ("UpdateUserRequest", &["skills", "[]"]),
        ("NewIntakeKey", &["name"]),
        ("IntakeRequest", &["subject"]),
        ("NewTicket", &["subject"]),
        ("RequesterInput", &["name"]),
        ("Requester", &["name"]),
    ] {
        let root = &mut doc["components"]["schemas"][schema];
        let mut found = Vec::new();
        strings_at(root, path, &mut found);
        assert!(!found.is_empty(), "{schema}: no field at {path:?}");
        for field in found {
            field["minLength"] = json!(1);
        }
    }
    for (pointer, max) in [
        ("PushRequest/properties/mutations", MAX_PUSH_BATCH),
        ("AddUserRequest/properties/skills", MAX_SKILLS),
        ("UpdateUserRequest/properties/skills", MAX_SKILLS),
    ] {
        if let Some(list) = doc.pointer_mut(&format!("/components/schemas/{pointer}")) {
            list["maxItems"] = json!(max);
        }
    }
    if let Some(id) = doc.pointer_mut("/components/schemas/MutationEnvelope/properties/mutation_id")
    {
        // Ids run from 1 to i64::MAX; others are rejected (in the push's per-mutation results).
        id["minimum"] = json!(1);
    }
    // Query values read as `u32` (page sizes, clamped by the handlers) take 0 to u32::MAX; utoipa
    // writes `int32`, whose range is signed.
    for operations in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for operation in operations
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            let params = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut);
            for param in params.into_iter().flatten() {
                let schema = &mut param["schema"];
                if schema["format"] == "int32" && schema["minimum"] == 0 {
                    if let Some(schema) = schema.as_object_mut() {
                        schema.remove("format");
                        schema.insert("maximum".into(), json!(u32::MAX));
                    }
                }
            }
        }
    }
    // `GET /v1/audit/events` refuses limits outside 1 to MAX_AUDIT_PAGE.
    if let Some(params) = doc.pointer_mut("/paths/~1v1~1audit~1events/get/parameters") {
        for param in params.as_array_mut().into_iter().flatten() {
            if param["name"] == "limit" {
                param["schema"]["minimum"] = json!(1);
                param["schema"]["maximum"] = json!(MAX_AUDIT_PAGE);
                param["schema"]["format"] = json!("int32");
            }
        }
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// Adds the error answers an operation's kind implies (see the module docs), keeping any the
/// handler's annotation already describes more precisely.
fn add_error_responses(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for operations in paths.values_mut() {
        let Some(operations) = operations.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            let secured = operation
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let has_body = operation.get("requestBody").is_some();
            let has_params = operation
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty());
            let mut add = Vec::new();
            if secured {
                add.push((
                    "401",
                    "No valid credential: the token or key is missing, malformed or expired",
                ));
            }
            // Every operation: a NUL in the path or query is refused before any handler runs
            // (`extract::refuse_nul_in_uri`).
            add.push((
                "400",
                if has_body || has_params {
                    "Malformed request: a body, query or path value that does not parse or is out of range"
                } else {
                    "Malformed request: a NUL character in the path or query"
                },
            ));
            if has_body {
                add.push(("413", "The request body is over the server's limit"));
            }
            add.push(("408", "The request took longer than the server's timeout"));
            add.push(("500", "Internal error; the server log has details"));
            let responses = operation
                .as_object_mut()
                .and_then(|o| o.get_mut("responses"))
                .and_then(Value::as_object_mut);
            let Some(responses) = responses else {
                continue;
            };
            for (status, description) in add {
                responses
                    .entry(status)
                    .or_insert_with(|| error_response(description));
            }
            // Keep the responses in status order, as utoipa writes them.
            let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            responses.extend(sorted);
        }
    }
}

/// The finished document as a JSON value.
pub fn value() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        apply_text_limits(&mut doc);
        add_error_responses(&mut doc);
        doc
    })
}

/// The document as pretty JSON (what `openapi.json` holds).
pub fn document() -> String {
    serde_json::to_string_pretty(value()).unwrap_or_default()
}

pub async fn openapi_json() -> Json<Value> {
    Json(value().clone())
}
