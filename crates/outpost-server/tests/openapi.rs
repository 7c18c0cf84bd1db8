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
