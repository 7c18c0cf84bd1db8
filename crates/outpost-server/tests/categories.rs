//! An organisation's own categories: an admin adds one to the catalogue, agents file tickets
//! under it, rules classify intake into it, and once retired it is refused everywhere a category
//! is chosen. Run on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use outpost_core::model::{Category, Channel, Priority};
use outpost_core::rules::{Actions, ClassificationRule, Condition, RuleSet};
use outpost_core::settings::{Catalogue, CategoryEntry, OrgSettings, SettingsDoc};
use outpost_core::sync::{ChangeKind, Mutation};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

/// Pushes one mutation from a fresh device; returns (outcome, code, reason).
async fn push_one(s: &Server, token: &str, mutation: Mutation) -> (String, String, String) {
    let (status, body) = s.push(token, Uuid::now_v7(), vec![(1, mutation)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["results"][0];
    let text = |field: &str| result[field].as_str().unwrap_or_default().to_owned();
    (text("outcome"), text("code"), text("reason"))
}

/// `settings.set` made on the server's current version of the document.
async fn set_current(s: &Server, settings: SettingsDoc) -> Mutation {
    let current = outpost_server::settings::load_from(&s.db.pool)
        .await
        .unwrap();
    Mutation::SetSettings {
        base_version: current.get(settings.kind()).version,
        settings,
    }
}

fn onboarding() -> Category {
    Category::new("merchant_onboarding").unwrap()
}

fn catalogue_with_onboarding(retired: bool) -> SettingsDoc {
    SettingsDoc::Catalogue(Catalogue {
        categories: vec![CategoryEntry {
            category: onboarding(),
            label_en: "Merchant onboarding".into(),
            label_zh: "商户入驻".into(),
            retired,
        }],
        tags: vec![],
    })
}

fn ticket_in(id: Uuid, category: Category) -> Mutation {
    match new_ticket(id, "support") {
        Mutation::CreateTicket(mut new) => {
            new.category = category;
            Mutation::CreateTicket(new)
        }
        _ => unreachable!(),
    }
}

fn onboarding_rule() -> SettingsDoc {
    SettingsDoc::Rules(RuleSet {
        rules: vec![ClassificationRule {
            name: "onboarding".into(),
            when: Condition::KeywordsAny(vec!["onboarding".into(), "入驻".into()]),
            then: Actions {
                category: Some(onboarding()),
                priority: Some(Priority::P2),
                department: Some("support".into()),
                ..Actions::default()
            },
            stop: true,
        }],
    })
}

async fn intake(s: &Server, key: &str, body: Value) -> (StatusCode, Value) {
    let request = Request::post("/v1/intake")
        .header("x-outpost-key", key)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = s.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn the_category_of(s: &Server, token: &str, id: Uuid) -> Option<Category> {
    s.pull_all(token)
        .await
        .changes
        .into_iter()
        .find_map(|c| match c.kind {
            ChangeKind::Ticket(t) if t.id == id => Some(t.category),
            _ => None,
        })
}

async fn an_admin_adds_a_category_that_agents_rules_and_intake_use(s: Server) {
    let admin = s.admin_token().await;
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;

    // Before the organisation has it, nothing may name it.
    let (outcome, code, reason) =
        push_one(&s, &agent, ticket_in(Uuid::now_v7(), onboarding())).await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "invalid"));
    assert!(
        reason.contains("not one of the organisation's categories"),
        "{reason}"
    );
    let (outcome, code, reason) =
        push_one(&s, &admin, set_current(&s, onboarding_rule()).await).await;
    assert_eq!(
        (outcome.as_str(), code.as_str()),
        ("rejected", "invalid"),
        "{reason}"
    );
    assert!(reason.contains("merchant_onboarding"), "{reason}");
    let mut sla = OrgSettings::defaults().sla_settings().clone();
    sla.policies[0].category = Some(onboarding());
    let (outcome, code, reason) = push_one(
        &s,
        &admin,
        set_current(&s, SettingsDoc::Sla(sla.clone())).await,
    )
    .await;
    assert_eq!(
        (outcome.as_str(), code.as_str()),
        ("rejected", "invalid"),
        "{reason}"
    );

    // An agent cannot add categories.
    let (outcome, code, _) = push_one(
        &s,
        &agent,
        set_current(&s, catalogue_with_onboarding(false)).await,
    )
    .await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "forbidden"));

    // The admin adds it; the agent files a ticket under it and pulls it back.
    let (outcome, _, reason) = push_one(
        &s,
        &admin,
        set_current(&s, catalogue_with_onboarding(false)).await,
    )
    .await;
    assert_eq!(outcome, "applied", "{reason}");
    let mine = Uuid::now_v7();
    let (outcome, _, reason) = push_one(&s, &agent, ticket_in(mine, onboarding())).await;
    assert_eq!(outcome, "applied", "{reason}");
    assert_eq!(the_category_of(&s, &agent, mine).await, Some(onboarding()));
    let stored: String = sqlx::query_scalar("SELECT doc FROM tickets WHERE id = $1")
        .bind(mine.to_string())
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["category"], "merchant_onboarding");

    // Another ticket moves into it; rules and SLA policies may name it now.
    let other = Uuid::now_v7();
    assert_eq!(
        push_one(&s, &agent, ticket_in(other, Category::INQUIRY))
            .await
            .0,
        "applied"
    );
    let moved = Mutation::SetCategory {
        ticket_id: other,
        category: onboarding(),
    };
    assert_eq!(push_one(&s, &agent, moved).await.0, "applied");
    assert_eq!(the_category_of(&s, &agent, other).await, Some(onboarding()));
    assert_eq!(
        push_one(&s, &admin, set_current(&s, SettingsDoc::Sla(sla)).await)
            .await
            .0,
        "applied"
    );
    let (outcome, _, reason) = push_one(&s, &admin, set_current(&s, onboarding_rule()).await).await;
    assert_eq!(outcome, "applied", "{reason}");

    // Intake classifies into it with the organisation's rule.
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let request = json!({
        "subject": "Merchant onboarding stuck at document upload",
        "requester": { "name": "Ana", "contact": "ana@example.pt" },
    });
    let (status, answer) = intake(&s, &key, request.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["category"], "merchant_onboarding");
    assert_eq!(answer["matched_rules"], json!(["onboarding"]));

    // Retired: no new ticket and no category change may use it; tickets in it keep it; intake
    // falls back to a category in use.
    let (outcome, _, reason) = push_one(
        &s,
        &admin,
        set_current(&s, catalogue_with_onboarding(true)).await,
    )
    .await;
    assert_eq!(outcome, "applied", "{reason}");
    let (outcome, code, reason) =
        push_one(&s, &agent, ticket_in(Uuid::now_v7(), onboarding())).await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "invalid"));
    assert!(reason.contains("retired"), "{reason}");
    let third = Uuid::now_v7();
    assert_eq!(
        push_one(&s, &agent, ticket_in(third, Category::INQUIRY))
            .await
            .0,
        "applied"
    );
    let moved = Mutation::SetCategory {
        ticket_id: third,
        category: onboarding(),
    };
    assert_eq!(push_one(&s, &agent, moved).await.1, "invalid");
    assert_eq!(the_category_of(&s, &agent, mine).await, Some(onboarding()));
    let (status, answer) = intake(&s, &key, request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["category"], "inquiry");

    // It can be retired, not deleted.
    let empty = SettingsDoc::Catalogue(Catalogue::default());
    let (outcome, code, reason) = push_one(&s, &admin, set_current(&s, empty).await).await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "invalid"));
    assert!(reason.contains("only retired"), "{reason}");
}

async fn a_malformed_category_code_is_refused_with_a_clear_message(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let mut mutation = serde_json::to_value(ticket_in(Uuid::now_v7(), Category::INQUIRY)).unwrap();
    mutation["args"]["category"] = json!("Merchant Onboarding'; DROP TABLE tickets; --");
    let body = json!({
        "device_id": Uuid::now_v7(),
        "mutations": [{
            "mutation_id": 1,
            "client_time": now(),
            "base_revision": null,
            "mutation": mutation,
        }],
    });
    let (status, answer) = s
        .call("POST", "/v1/sync/push", Some(&agent), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["code"].is_string(), "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("is not a category code"),
        "{answer}"
    );
}

on_both_databases!(
    an_admin_adds_a_category_that_agents_rules_and_intake_use,
    a_malformed_category_code_is_refused_with_a_clear_message,
);
