//! The OpenAPI document stays true: the checked-in `openapi.json` equals what the code generates
//! (regenerate with `OUTPOST_UPDATE_OPENAPI=1 cargo test -p outpost-server --test openapi`), the
//! server serves the same document, and every documented operation is routed.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use outpost_core::model::Channel;
use outpost_core::sync::ErrorBody;
use tower::ServiceExt;

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[test]
fn the_checked_in_document_matches_the_code() {
    let generated = outpost_server::openapi::document();
    if std::env::var_os("OUTPOST_UPDATE_OPENAPI").is_some() {
        std::fs::write(CHECKED_IN, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi.json is stale; regenerate it with OUTPOST_UPDATE_OPENAPI=1 cargo test -p outpost-server --test openapi"
    );
}

/// Every success answer names its body's schema, so schemathesis's response-schema check and
/// generated clients see the body the server really sends (it once answered `{"totp": …}`,
/// `{"signed_out": …}`, `{"disabled": …}` behind a bare description). The event stream
/// (`text/event-stream`) is described in words.
#[test]
fn every_success_answer_has_a_body_schema() {
    let document: serde_json::Value =
        serde_json::from_str(&outpost_server::openapi::document()).unwrap();
    let mut bare = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    continue;
                }
                let content = response["content"].as_object();
                if content.is_some_and(|c| c.contains_key("text/event-stream")) {
                    // Described in words: schemathesis validates each event against a schema,
                    // and the stream's events are not one JSON document.
                    continue;
                }
                let schema = content
                    .and_then(|c| c.values().next())
                    .map(|m| &m["schema"]);
                if schema.is_none_or(serde_json::Value::is_null) {
                    bare.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(
        bare.is_empty(),
        "success answers without a body schema: {bare:?}"
    );
}

async fn every_documented_operation_is_served(s: Server) {
    let (status, served) = s.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let generated: serde_json::Value =
        serde_json::from_str(&outpost_server::openapi::document()).unwrap();
    assert_eq!(served, generated);
    let paths = generated["paths"].as_object().unwrap();
    assert!(paths.len() >= 14);
    for (path, operations) in paths {
        let concrete = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
        for method in operations.as_object().unwrap().keys() {
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .body(Body::empty())
                .unwrap();
            let status = s.app.clone().oneshot(request).await.unwrap().status();
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed ({status})"
            );
        }
    }
}

/// What a probe sends: credentials or not, and which body.
#[derive(Clone, Copy, Debug)]
enum Probe {
    NoCredential,
    Empty,
    NotJson,
    WrongShape,
    TooLarge,
    BadPathId,
    QueryOutOfRange,
    NulInQuery,
}

/// Sends `probe` to one documented operation; the answer's status and, unless it is a success
/// (an event stream never ends), its body.
async fn probe(
    s: &Server,
    method: &str,
    path: &str,
    operation: &serde_json::Value,
    probe: Probe,
    token: &str,
    key: &str,
) -> (StatusCode, Option<(String, axum::body::Bytes)>) {
    let nil = "00000000-0000-0000-0000-000000000000";
    let mut uri = path.replace(
        "{id}",
        if matches!(probe, Probe::BadPathId) {
            "not-a-uuid"
        } else {
            nil
        },
    );
    if matches!(probe, Probe::QueryOutOfRange) {
        let query: Vec<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| format!("{}=-1", p["name"].as_str().unwrap()))
            .collect();
        uri = format!("{uri}?{}", query.join("&"));
    }
    if matches!(probe, Probe::NulInQuery) {
        uri.push_str("?x=%00");
    }
    let mut request = Request::builder()
        .method(method.to_uppercase().as_str())
        .uri(uri);
    if !matches!(probe, Probe::NoCredential) {
        request = request
            .header("authorization", format!("Bearer {token}"))
            .header("x-outpost-key", key);
    }
    let body = match probe {
        Probe::NotJson => Body::from("{\"unterminated"),
        Probe::WrongShape => Body::from("[1, 2, 3]"),
        Probe::TooLarge => Body::from(vec![b' '; s.state.config.max_body_bytes + 1]),
        _ => Body::empty(),
    };
    if matches!(probe, Probe::NotJson | Probe::WrongShape | Probe::TooLarge) {
        request = request.header("content-type", "application/json");
    }
    let response = s
        .app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    if status.is_success() {
        return (status, None);
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, Some((content_type, bytes)))
}

/// Every answer the server gives to malformed, unauthenticated, oversized or out-of-range
/// requests is a status the operation documents, with the `{code, message}` body it documents.
async fn every_error_answer_is_documented(s: Server) {
    let doc = outpost_server::openapi::value();
    let token = s.admin_token().await;
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut probed = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for kind in [
                Probe::NoCredential,
                Probe::Empty,
                Probe::NotJson,
                Probe::WrongShape,
                Probe::TooLarge,
                Probe::BadPathId,
                Probe::QueryOutOfRange,
                Probe::NulInQuery,
            ] {
                let (status, answer) = probe(&s, method, path, operation, kind, &token, &key).await;
                probed += 1;
                let documented = &operation["responses"][status.as_str()];
                assert!(
                    documented.is_object(),
                    "{method} {path} ({kind:?}) answered {status}, which the document does not list"
                );
                let Some((content_type, bytes)) = answer else {
                    continue;
                };
                // Every documented error is `{code, message}` as JSON.
                assert_eq!(
                    documented["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
                assert!(
                    content_type.starts_with("application/json"),
                    "{method} {path} ({kind:?}) answered {status} as {content_type:?}"
                );
                let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "{method} {path} ({kind:?}) answered {status} with {}: {e}",
                        String::from_utf8_lossy(&bytes)
                    )
                });
                assert!(!body.message.is_empty());
            }
        }
    }
    assert!(probed >= 8 * 18, "only {probed} probes");
}

/// The longest values the document allows for intake's limited text fields are accepted, and one
/// character more is refused: the document's limits are the ones the server enforces.
async fn intake_text_limits_are_the_documented_ones(s: Server) {
    let doc = outpost_server::openapi::value();
    let schemas = &doc["components"]["schemas"];
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // A value of exactly `chars` characters that is otherwise valid for the field.
    fn value_of(field: &str, chars: usize) -> serde_json::Value {
        match field {
            // A BCP 47 tag: letters in subtags of at most eight.
            "language" => {
                let mut tag = String::from("en");
                while tag.len() < chars {
                    tag.push(if (tag.len() + 1) % 9 == 3 { '-' } else { 'a' });
                }
                if tag.ends_with('-') {
                    tag.pop();
                    tag.push('b');
                }
                serde_json::Value::String(tag)
            }
            "tags" => serde_json::json!(["t".repeat(chars)]),
            _ => serde_json::Value::String("x".repeat(chars)),
        }
    }
    let mut checked = 0;
    for (schema, pointer) in [("IntakeRequest", ""), ("RequesterInput", "/requester")] {
        for (field, property) in schemas[schema]["properties"].as_object().unwrap() {
            let limit = property["maxLength"]
                .as_u64()
                .or_else(|| property["items"]["maxLength"].as_u64());
            let Some(limit) = limit else { continue };
            // Texts limited in bytes are longer than the test server takes in one body.
            if limit as usize >= s.state.config.max_body_bytes {
                continue;
            }
            for (chars, accepted) in [(limit as usize, true), (limit as usize + 1, false)] {
                let mut body = serde_json::json!({
                    "subject": "Limits",
                    "description": "",
                    "requester": {"name": "Ann", "contact": "ann@example.com"},
                });
                let target = body.pointer_mut(pointer).unwrap();
                target[field] = value_of(field, chars);
                let request = Request::post("/v1/intake")
                    .header("x-outpost-key", &key)
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                let (status, answer) = s.send(request).await;
                if accepted {
                    assert_eq!(
                        status,
                        StatusCode::OK,
                        "{schema}.{field} at {chars}: {answer}"
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::BAD_REQUEST,
                        "{schema}.{field} at {chars} characters (limit {limit}): {answer}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} limited fields");
}

/// Adding a user takes exactly what the document allows: the longest name, e-mail address and
/// skill and the most skills it lists are accepted, one more is refused, an empty name too.
async fn add_user_limits_are_the_documented_ones(s: Server) {
    let doc = outpost_server::openapi::value();
    let request = &doc["components"]["schemas"]["AddUserRequest"]["properties"];
    let name_max = request["name"]["maxLength"].as_u64().unwrap() as usize;
    let email_max = request["email"]["maxLength"].as_u64().unwrap() as usize;
    let skill_max = request["skills"]["items"]["maxLength"].as_u64().unwrap() as usize;
    let skills_max = request["skills"]["maxItems"].as_u64().unwrap() as usize;
    assert_eq!(request["name"]["minLength"], 1);
    let token = s.admin_token().await;
    let mut n = 0;
    let mut add = |name: String, email: Option<String>, skills: Vec<String>| {
        n += 1;
        let email = email.unwrap_or_else(|| format!("user{n}@acme.example"));
        serde_json::json!({"email": email, "name": name, "role": "agent", "skills": skills})
    };
    // A valid address of exactly `chars` characters: a 64-character local part, then domain
    // labels of at most 63.
    let email_of = |chars: usize| {
        let mut remaining = chars - 65;
        let mut address = format!("{}@", "u".repeat(64));
        while remaining > 63 {
            address.push_str(&"d".repeat(62));
            address.push('.');
            remaining -= 63;
        }
        address.push_str(&"e".repeat(remaining));
        assert_eq!(address.len(), chars);
        address
    };
    let cases = [
        (add("n".repeat(name_max), None, vec![]), true),
        (add("n".repeat(name_max + 1), None, vec![]), false),
        (add(String::new(), None, vec![]), false),
        (add("Ann".into(), Some(email_of(email_max)), vec![]), true),
        (
            add("Ann".into(), Some(email_of(email_max + 1)), vec![]),
            false,
        ),
        (add("Ann".into(), None, vec!["s".repeat(skill_max)]), true),
        (
            add("Ann".into(), None, vec!["s".repeat(skill_max + 1)]),
            false,
        ),
        (
            add(
                "Ann".into(),
                None,
                (0..skills_max).map(|i| format!("s{i}")).collect(),
            ),
            true,
        ),
        (
            add(
                "Ann".into(),
                None,
                (0..=skills_max).map(|i| format!("s{i}")).collect(),
            ),
            false,
        ),
    ];
    for (body, accepted) in cases {
        let (status, answer) = s
            .call("POST", "/v1/admin/users", Some(&token), Some(body.clone()))
            .await;
        let expected = if accepted {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "{body}: {answer}");
    }
}

on_both_databases!(
    every_documented_operation_is_served,
    every_error_answer_is_documented,
    intake_text_limits_are_the_documented_ones,
    add_user_limits_are_the_documented_ones
);

/// The document must name enum values as serde writes and reads them (`triaged`, `enterprise`),
/// never Rust variant names (`Triaged`): clients generated from it send what it lists.
#[test]
fn every_enum_value_in_the_document_is_a_wire_name() {
    use outpost_core::error::ErrorCode;
    use outpost_core::model::*;
    use outpost_core::sla::ClockKind;
    use serde_json::Value;

    fn wire<T: serde::Serialize>(all: &[T]) -> Value {
        Value::Array(
            all.iter()
                .map(|v| serde_json::to_value(v).unwrap())
                .collect(),
        )
    }

    let doc: Value = serde_json::from_str(&outpost_server::openapi::document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // The wire names of every value, in order: the document lists exactly these.
    let exact = [
        ("Priority", wire(Priority::ALL)),
        ("RiskLevel", wire(RiskLevel::ALL)),
        ("Status", wire(Status::ALL)),
        ("Channel", wire(Channel::ALL)),
        ("CustomerTier", wire(CustomerTier::ALL)),
        ("Role", wire(Role::ALL)),
        ("LinkKind", wire(LinkKind::ALL)),
        ("VerificationDimension", wire(VerificationDimension::ALL)),
        ("VerificationResult", wire(VerificationResult::ALL)),
        ("RiskActionKind", wire(RiskActionKind::ALL)),
        ("EntryKind", wire(EntryKind::ALL)),
        ("ErrorCode", wire(ErrorCode::ALL)),
    ];
    for (name, expected) in &exact {
        assert_eq!(&schemas[*name]["enum"], expected, "{name}");
    }
    // Categories are open (an organisation adds its own): a code, constrained by its pattern.
    let category = &schemas["Category"];
    assert_eq!(category["type"], "string", "{category}");
    assert_eq!(category["pattern"], "^[a-z0-9_]{2,40}$", "{category}");
    assert!(category.get("enum").is_none(), "{category}");
    assert_eq!(category["maxLength"], MAX_CATEGORY_CODE_CHARS);
    for code in wire(Category::BUILT_IN).as_array().unwrap() {
        let code = code.as_str().unwrap();
        assert!(
            (2..=40).contains(&code.len())
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{code} does not fit the documented pattern"
        );
    }
    assert_eq!(schemas["Status"]["enum"][1], "triaged");
    assert_eq!(schemas["CustomerTier"]["enum"][2], "enterprise");
    assert_eq!(schemas["Role"]["enum"][0], "agent");

    // Every listed value of an enum without a list of its variants is read and written back
    // unchanged by serde.
    let clocks = schemas["ClockKind"]["enum"].as_array().unwrap();
    assert!(!clocks.is_empty());
    for value in clocks {
        let kind: ClockKind = serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("ClockKind {value} is not accepted: {e}"));
        assert_eq!(&serde_json::to_value(kind).unwrap(), value);
    }

    // Anything else (the tags of tagged unions, enums added later): serde's renames here only
    // produce lowercase snake_case or dotted names; a capital letter is a Rust variant name.
    fn walk(node: &Value, path: &str, seen: &mut usize) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Array(values)) = map.get("enum") {
                    for value in values {
                        let text = value.as_str().unwrap_or_default();
                        *seen += 1;
                        assert!(
                            !text.is_empty()
                                && text.chars().all(|c| c.is_ascii_lowercase()
                                    || c.is_ascii_digit()
                                    || c == '_'
                                    || c == '.'),
                            "{path}: enum value {value} is not a wire name"
                        );
                    }
                }
                for (key, child) in map {
                    walk(child, &format!("{path}/{key}"), seen);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{path}/{i}"), seen);
                }
            }
            _ => {}
        }
    }
    let mut seen = 0;
    for (name, schema) in schemas {
        // Priority (`P1`) and risk levels (`L1`) are upper case on the wire, checked exactly above.
        if name != "Priority" && name != "RiskLevel" {
            walk(schema, &format!("#/components/schemas/{name}"), &mut seen);
        }
    }
    walk(&doc["paths"], "#/paths", &mut seen);
    assert!(seen > 100, "only {seen} enum values found");
}
