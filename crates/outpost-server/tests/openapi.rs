//! The OpenAPI document stays true: the checked-in `openapi.json` equals what the code generates
//! (regenerate with `OUTPOST_UPDATE_OPENAPI=1 cargo test -p outpost-server --test openapi`), the
//! server serves the same document, and every documented operation is routed.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
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

on_both_databases!(every_documented_operation_is_served);

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
        ("Category", wire(Category::ALL)),
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
