//! Intake (classification, dispatch) and the customer pages (escaping, status, replies, the
//! satisfaction loop), on SQLite and PostgreSQL.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use outpost_core::model::{Category, Channel, Priority, RiskLevel, Status};
use outpost_core::sync::{ChangeKind, Mutation};
use serde_json::json;
use tower::ServiceExt;
use uuid::Uuid;

async fn intake_key(s: &Server) -> String {
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    key
}

async fn intake(s: &Server, key: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let request = Request::post("/v1/intake")
        .header("x-outpost-key", key)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    s.send(request).await
}

/// A raw HTML response: (status, headers, body).
async fn html(s: &Server, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = s.app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn form(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn intake_classifies_and_dispatches_by_load(s: Server) {
    let (alice, _) = s.user("alice@acme.example", "agent", &["risk"]).await;
    let (bob, _) = s.user("bob@acme.example", "agent", &["risk"]).await;
    let (_, support) = s.user("carol@acme.example", "agent", &["support"]).await;
    let key = intake_key(&s).await;

    let (status, body) = intake(
        &s,
        "opk_wrong",
        json!({ "subject": "x", "requester": { "name": "a", "contact": "b" } }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );

    let takeover = json!({
        "subject": "账户被盗，资金被转走",
        "description": "今天凌晨收到异地登录提醒，余额被转走 5 万元",
        "requester": { "name": "王先生", "contact": "138****0000", "tier": "vip" }
    });
    let (status, first) = intake(&s, &key, takeover.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["category"], json!(Category::AccountTakeover));
    assert_eq!(first["priority"], json!(Priority::P1));
    assert_eq!(first["risk"], json!(RiskLevel::L1));
    assert_eq!(first["department"], "risk");
    assert!(!first["matched_rules"].as_array().unwrap().is_empty());
    let (_, second) = intake(&s, &key, takeover).await;
    let assigned: Vec<Uuid> = [&first, &second]
        .iter()
        .map(|b| b["assignee"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        assigned.contains(&alice) && assigned.contains(&bob),
        "load spreads across the department: {assigned:?}"
    );

    let (_, login) = intake(
        &s,
        &key,
        json!({
            "subject": "Cannot log in to the app",
            "description": "Login fails with error E1023",
            "requester": { "name": "Ann", "contact": "ann@example.com" }
        }),
    )
    .await;
    assert_eq!(login["department"], "support");
    assert_eq!(login["category"], json!(Category::LoginAnomaly));
    // The support agent sees it in their pull, already assigned to them with SLA clocks running.
    let pull = s.pull_all(&support).await;
    let ticket = pull
        .changes
        .iter()
        .find_map(|c| match &c.kind {
            ChangeKind::Ticket(t) if t.key.as_deref() == login["key"].as_str() => Some(t.clone()),
            _ => None,
        })
        .expect("the intake ticket reaches the department");
    assert_eq!(ticket.status, Status::Assigned);
    assert_eq!(ticket.language, "en");
}

async fn customer_pages_escape_everything_and_hide_internal_notes(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (status, headers, page) = html(
        &s,
        Request::get("/c/new?lang=zh-CN")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("联系客服") && !page.contains("<script"));
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));

    let hostile = "subject=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E&description=%3Cscript%3Ealert(2)%3C%2Fscript%3E\
                   &name=%22%3E%3Csvg+onload%3Dalert(3)%3E&contact=x%40example.com";
    let (status, headers, _) = html(&s, form("/c/new?lang=en", hostile)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/c/t/"));

    let (status, _, page) = html(
        &s,
        Request::get(location.as_str()).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Escaped, the attack is inert text ("&lt;img … onerror=…&gt;"); no tag may survive.
    for raw in ["<img", "<script", "<svg"] {
        assert!(!page.contains(raw), "{raw} reached the page unescaped");
    }
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "shown as text"
    );

    // The agent replies and writes an internal note; the customer sees only the reply.
    let ticket = s
        .pull_all(&agent)
        .await
        .changes
        .iter()
        .find_map(|c| match &c.kind {
            ChangeKind::Ticket(t) => Some(t.id),
            _ => None,
        });
    let ticket = ticket.expect("web-form ticket in support");
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![
                (
                    1,
                    Mutation::AddReply {
                        entry_id: Uuid::now_v7(),
                        ticket_id: ticket,
                        text: "We are on it".into(),
                    },
                ),
                (
                    2,
                    Mutation::AddNote {
                        entry_id: Uuid::now_v7(),
                        ticket_id: ticket,
                        text: "INTERNAL: suspect fraud".into(),
                    },
                ),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied"]);
    let (_, _, page) = html(
        &s,
        Request::get(location.as_str()).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(page.contains("We are on it"));
    assert!(
        !page.contains("INTERNAL"),
        "internal notes never reach the customer"
    );

    let (status, _, _) = html(
        &s,
        Request::get("/c/t/not-a-real-token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_low_satisfaction_score_reopens_for_a_revisit(s: Server) {
    let (agent_id, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let key = intake_key(&s).await;
    let (_, created) = intake(
        &s,
        &key,
        json!({
            "subject": "Cannot log in", "description": "Login fails since yesterday",
            "requester": { "name": "Ann", "contact": "ann@example.com" }
        }),
    )
    .await;
    let ticket: Uuid = created["ticket_id"].as_str().unwrap().parse().unwrap();
    let path = created["status_path"].as_str().unwrap().to_owned();
    assert_eq!(
        created["assignee"].as_str(),
        Some(agent_id.to_string().as_str())
    );

    // Not rateable until resolved.
    let (status, _, _) = html(&s, form(&format!("{path}/csat"), "score=1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let device = Uuid::now_v7();
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![(
                1,
                Mutation::SetStatus {
                    ticket_id: ticket,
                    status: Status::Pending,
                    reason: None,
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"]);
    // The customer answers: the ticket leaves pending.
    let (status, _, _) = html(&s, form(&format!("{path}/message"), "text=Still+waiting")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![(
                2,
                Mutation::SetStatus {
                    ticket_id: ticket,
                    status: Status::Resolved,
                    reason: None,
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");

    let (_, _, page) = html(&s, Request::get(path.as_str()).body(Body::empty()).unwrap()).await;
    assert!(
        page.contains("name=\"score\""),
        "the rating form appears on resolution"
    );
    let (status, _, page) = html(
        &s,
        form(
            &format!("{path}/csat?lang=en"),
            "score=1&comment=not+solved",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("reopened"));
    let (status, _, _) = html(&s, form(&format!("{path}/csat"), "score=5")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one rating per resolution");

    let pull = s.pull_all(&agent).await;
    let t = pull
        .changes
        .iter()
        .find_map(|c| match &c.kind {
            ChangeKind::Ticket(t) if t.id == ticket => Some(t.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(t.status, Status::Assigned, "back to its assignee");
    assert_eq!(t.assignee, Some(agent_id));
    assert_eq!(t.csat.as_ref().map(|c| c.score), Some(1));
    let revisit = t.revisit_due_at.expect("revisit clock set");
    let csat_at = t.csat.as_ref().unwrap().at;
    assert_eq!(revisit - csat_at, chrono::Duration::hours(24));
    assert!(outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .is_ok());
}

/// The satisfaction-survey replies on a ticket: no author, the status page's address in them.
fn csat_links(pull: &outpost_core::sync::PullResponse, ticket: Uuid) -> Vec<String> {
    pull.changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::Entry(e) if e.ticket_id == ticket && e.author.is_none() => match &e.body {
                outpost_core::model::EntryBody::Reply { text } if text.contains("/c/t/") => {
                    Some(text.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn ticket_in(pull: &outpost_core::sync::PullResponse, id: Uuid) -> outpost_core::model::Ticket {
    pull.changes
        .iter()
        .rev()
        .find_map(|c| match &c.kind {
            ChangeKind::Ticket(t) if t.id == id => Some((**t).clone()),
            _ => None,
        })
        .expect("the ticket is pulled")
}

async fn resolution_sends_the_survey_and_a_low_score_returns_to_the_resolver(s: Server) {
    let (agent_id, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, lead) = s.user("lead@acme.example", "supervisor", &[]).await;
    let key = intake_key(&s).await;
    let (_, created) = intake(
        &s,
        &key,
        json!({
            "subject": "Cannot log in", "description": "Login fails since yesterday",
            "requester": { "name": "Ann", "contact": "ann@example.com" }
        }),
    )
    .await;
    let ticket: Uuid = created["ticket_id"].as_str().unwrap().parse().unwrap();
    let path = created["status_path"].as_str().unwrap().to_owned();
    assert_eq!(
        created["assignee"].as_str(),
        Some(agent_id.to_string().as_str())
    );
    let resolve = || Mutation::SetStatus {
        ticket_id: ticket,
        status: Status::Resolved,
        reason: None,
    };
    let device = Uuid::now_v7();
    let (_, body) = s.push(&agent, device, vec![(1, resolve())]).await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
    let (_, body) = s.push(&agent, device, vec![(1, resolve())]).await;
    assert_eq!(outcomes(&body), ["duplicate"]);

    let links = csat_links(&s.pull_all(&agent).await, ticket);
    assert_eq!(links.len(), 1, "one survey per resolution: {links:?}");
    let base = s.state.config.public_base_url();
    assert_eq!(
        base, "http://127.0.0.1:8750",
        "the bound address by default"
    );
    assert!(links[0].starts_with("Your ticket OP-"), "{}", links[0]);
    let url = links[0]
        .split_whitespace()
        .find(|w| w.starts_with(&base))
        .expect("the status page's address")
        .to_owned();
    assert!(url.ends_with("?lang=en"), "{url}");
    let link = url.trim_start_matches(&base).to_owned();

    // The customer sees the message and the form on their page, and the link leads there too.
    let (_, _, page) = html(&s, Request::get(path.as_str()).body(Body::empty()).unwrap()).await;
    assert!(page.contains("name=\"score\""), "the rating form");
    assert!(page.contains(&escape_html(&url)), "the survey message");
    let (status, _, page) =
        html(&s, Request::get(link.as_str()).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"score\""));

    // Reopened by the agent and resolved again before any rating: a second survey.
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![
                (
                    2,
                    Mutation::Reopen {
                        ticket_id: ticket,
                        reason: Some("one more check".into()),
                    },
                ),
                (3, resolve()),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied"], "{body}");
    assert_eq!(csat_links(&s.pull_all(&agent).await, ticket).len(), 2);
    let (_, body) = s
        .call(
            "GET",
            &format!("/v1/audit/events?action=customer.csat_link&ticket_id={ticket}"),
            Some(&lead),
            None,
        )
        .await;
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    for event in events {
        assert_eq!(event["actor"], "system");
        assert_eq!(event["department"], "support");
        let detail = event["detail"].as_str().unwrap();
        assert!(
            !detail.contains("/c/t/"),
            "the link is never audited: {detail}"
        );
    }

    // Nobody holds the ticket any more when the customer rates it low.
    let (_, body) = s
        .push(
            &lead,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::SetAssignee {
                    ticket_id: ticket,
                    assignee: None,
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
    let (status, _, page) = html(
        &s,
        form(
            &format!("{}/csat?lang=en", link.trim_end_matches("?lang=en")),
            "score=2&comment=still+broken",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("reopened"));

    let pull = s.pull_all(&agent).await;
    let t = ticket_in(&pull, ticket);
    assert_eq!(
        t.assignee,
        Some(agent_id),
        "back to the agent who resolved it"
    );
    assert_eq!(t.status, Status::Assigned);
    let csat = t.csat.clone().expect("the rating");
    assert_eq!(csat.score, 2);
    assert_eq!(
        t.revisit_due_at,
        Some(csat.at + chrono::Duration::hours(24))
    );

    // Rated: resolving again sends no further survey (the page has no form to offer).
    let (_, body) = s.push(&agent, device, vec![(4, resolve())]).await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
    assert_eq!(csat_links(&s.pull_all(&agent).await, ticket).len(), 2);

    // A Chinese ticket gets the survey in Chinese; a high score does not reopen it.
    let (_, created) = intake(
        &s,
        &key,
        json!({
            "subject": "无法登录", "description": "昨天开始登录失败",
            "requester": { "name": "王女士", "contact": "wang@example.com" }
        }),
    )
    .await;
    let zh: Uuid = created["ticket_id"].as_str().unwrap().parse().unwrap();
    let zh_path = created["status_path"].as_str().unwrap().to_owned();
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![(
                5,
                Mutation::SetStatus {
                    ticket_id: zh,
                    status: Status::Resolved,
                    reason: None,
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
    let pull = s.pull_all(&agent).await;
    let links = csat_links(&pull, zh);
    assert_eq!(links.len(), 1);
    assert!(
        links[0].contains("已解决") && links[0].contains("?lang=zh-CN"),
        "{}",
        links[0]
    );
    let (status, _, page) = html(&s, form(&format!("{zh_path}/csat"), "score=5")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("感谢"), "thanked in the ticket's language");
    let t = ticket_in(&s.pull_all(&agent).await, zh);
    assert_eq!(t.status, Status::Resolved, "a high score does not reopen");
    assert_eq!(t.assignee, Some(agent_id));
    assert_eq!(t.revisit_due_at, None);
    assert!(outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .is_ok());
}

fn escape_html(text: &str) -> String {
    outpost_server::customer::escape(text)
}

on_both_databases!(
    intake_classifies_and_dispatches_by_load,
    customer_pages_escape_everything_and_hide_internal_notes,
    a_low_satisfaction_score_reopens_for_a_revisit,
    resolution_sends_the_survey_and_a_low_score_returns_to_the_resolver,
);
