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
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
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
    assert_eq!(first["category"], json!(Category::ACCOUNT_TAKEOVER));
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
    assert_eq!(login["category"], json!(Category::LOGIN_ANOMALY));
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
                        text: "We are on it </div><script>alert(5)</script>".into(),
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
    assert!(page.contains("We are on it &lt;/div&gt;&lt;script&gt;alert(5)&lt;/script&gt;"));
    assert!(
        !page.contains("INTERNAL"),
        "internal notes never reach the customer"
    );

    // The customer's own message is text too, also when it tries to leave its element or the
    // reply form's attribute.
    let path = location.split('?').next().unwrap();
    let (status, _, _) = html(
        &s,
        form(
            &format!("{path}/message?lang=en"),
            "text=%22%27%3E%3Cimg+src%3Dx+onerror%3Dalert(4)%3E%3C%2Ftextarea%3E",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = html(
        &s,
        Request::get(location.as_str()).body(Body::empty()).unwrap(),
    )
    .await;
    for raw in ["<img", "<script", "<svg"] {
        assert!(!page.contains(raw), "{raw} reached the page unescaped");
    }
    assert!(
        page.contains("&quot;'&gt;&lt;img src=x onerror=alert(4)&gt;&lt;/textarea&gt;</div>"),
        "the message is shown as text: {page}"
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

/// The satisfaction-survey replies on a ticket: the only replies without an author.
fn survey_replies(pull: &outpost_core::sync::PullResponse, ticket: Uuid) -> Vec<String> {
    pull.changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::Entry(e) if e.ticket_id == ticket && e.author.is_none() => match &e.body {
                outpost_core::model::EntryBody::Reply { text } => Some(text.clone()),
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

/// `GET /v1/intake/outbound` with an intake key and/or a bearer token.
async fn outbound(
    s: &Server,
    query: &str,
    key: Option<&str>,
    bearer: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::get(format!("/v1/intake/outbound{query}"));
    if let Some(key) = key {
        request = request.header("x-outpost-key", key);
    }
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    s.send(request.body(Body::empty()).unwrap()).await
}

/// `POST /v1/intake/outbound/{id}/delivered`.
async fn deliver(
    s: &Server,
    id: &str,
    key: Option<&str>,
    bearer: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::post(format!("/v1/intake/outbound/{id}/delivered"));
    if let Some(key) = key {
        request = request.header("x-outpost-key", key);
    }
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    s.send(request.body(Body::empty()).unwrap()).await
}

/// Every pending outbound message (all pages).
async fn pending_messages(s: &Server, key: &str) -> Vec<serde_json::Value> {
    let mut after = 0;
    let mut all = Vec::new();
    loop {
        let (status, page) = outbound(s, &format!("?after={after}&limit=2"), Some(key), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let messages = page["messages"].as_array().unwrap().clone();
        assert!(messages.len() <= 2);
        if let Some(last) = messages.last() {
            after = last["seq"].as_u64().unwrap();
        }
        all.extend(messages);
        if !page["has_more"].as_bool().unwrap() {
            return all;
        }
    }
}

/// The pending survey messages for `ticket`, oldest first.
async fn surveys_for(s: &Server, key: &str, ticket: Uuid) -> Vec<serde_json::Value> {
    pending_messages(s, key)
        .await
        .into_iter()
        .filter(|m| m["ticket_id"] == ticket.to_string())
        .collect()
}

/// The status page's address in a survey message's body.
fn survey_url(message: &serde_json::Value, base: &str) -> String {
    message["body"]
        .as_str()
        .unwrap()
        .split(|c: char| c.is_whitespace() || c == '：')
        .find(|w| w.starts_with(base))
        .expect("the status page's address in the body")
        .to_owned()
}

/// The customer link's secret in a status page address (`…/c/t/<token>?lang=…`).
fn token_of(url: &str) -> String {
    let (_, rest) = url.split_once("/c/t/").expect("a customer link");
    rest.split('?').next().unwrap().to_owned()
}

/// Every pull page `token`'s user receives from the start, as the raw JSON text on the wire.
async fn raw_pull_pages(s: &Server, token: &str) -> Vec<String> {
    let mut cursor = 0;
    let mut pages = Vec::new();
    loop {
        let request = Request::get(format!("/v1/sync/pull?cursor={cursor}&limit=7"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, _, text) = html(s, request).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let page: serde_json::Value = serde_json::from_str(&text).unwrap();
        cursor = page["cursor"].as_u64().unwrap();
        let more = page["has_more"].as_bool().unwrap();
        pages.push(text);
        if !more {
            return pages;
        }
    }
}

/// No page any of `tokens`' users pull holds a customer link or any of `secrets`.
async fn assert_no_link_reaches_agents(s: &Server, tokens: &[&str], secrets: &[String]) {
    for token in tokens {
        for page in raw_pull_pages(s, token).await {
            assert!(!page.contains("/c/t/"), "a customer link in a pull page");
            for secret in secrets {
                assert!(
                    !page.contains(secret.as_str()),
                    "a customer link's token in a pull page"
                );
            }
        }
    }
}

/// (body, body_sha256, delivered_at) of a stored outbound message.
async fn stored_message(s: &Server, id: &str) -> (Option<String>, String, Option<i64>) {
    sqlx::query_as("SELECT body, body_sha256, delivered_at FROM outbound_messages WHERE id = $1")
        .bind(id)
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

/// Whether the SQLite database file or its write-ahead log holds `needle` anywhere.
fn sqlite_files_contain(s: &Server, needle: &[u8]) -> bool {
    let path = s.url.trim_start_matches("sqlite://").to_owned();
    [path.clone(), format!("{path}-wal")].iter().any(|file| {
        std::fs::read(file).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
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
    let ticket_key = created["key"].as_str().unwrap().to_owned();
    let path = created["status_path"].as_str().unwrap().to_owned();
    assert_eq!(
        created["assignee"].as_str(),
        Some(agent_id.to_string().as_str())
    );
    assert!(
        pending_messages(&s, &key).await.is_empty(),
        "nothing to send before a resolution"
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

    // The timeline says the survey went out, in the ticket's language, without the link.
    let replies = survey_replies(&s.pull_all(&agent).await, ticket);
    assert_eq!(replies.len(), 1, "one survey per resolution: {replies:?}");
    assert_eq!(
        replies[0],
        format!(
            "Your ticket {ticket_key} has been resolved. We have sent you our satisfaction survey: \
             please rate our help (1 to 5) on your ticket's page."
        )
    );

    // The link goes only to the outbound queue, for the requester's contact.
    let messages = surveys_for(&s, &key, ticket).await;
    assert_eq!(
        messages.len(),
        1,
        "one message per resolution: {messages:?}"
    );
    let first = &messages[0];
    assert_eq!(first["kind"], "csat_survey");
    assert_eq!(first["ticket_key"], ticket_key.as_str());
    assert_eq!(first["contact"], "ann@example.com");
    assert_eq!(first["channel"], json!(Channel::Api));
    assert_eq!(first["language"], "en");
    assert_eq!(
        first["subject"],
        format!("Your ticket {ticket_key} has been resolved: how did we do?")
    );
    let base = s.state.config.public_base_url();
    assert_eq!(
        base, "http://127.0.0.1:8750",
        "the bound address by default"
    );
    let url = survey_url(first, &base);
    assert!(url.ends_with("?lang=en"), "{url}");
    assert!(first["body"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Your ticket {ticket_key} has been resolved.")));
    let first_id = first["id"].as_str().unwrap().to_owned();
    let first_token = token_of(&url);
    assert!(!path.contains(&first_token), "a fresh link, not intake's");
    assert_no_link_reaches_agents(&s, &[&agent, &lead], std::slice::from_ref(&first_token)).await;

    // The customer sees the notice and the form on their page, and the link leads there too.
    let (_, _, page) = html(&s, Request::get(path.as_str()).body(Body::empty()).unwrap()).await;
    assert!(page.contains("name=\"score\""), "the rating form");
    assert!(page.contains("We have sent you our satisfaction survey"));
    let link = url.trim_start_matches(&base).to_owned();
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
    assert_eq!(survey_replies(&s.pull_all(&agent).await, ticket).len(), 2);
    let messages = surveys_for(&s, &key, ticket).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["id"], first_id.as_str());
    assert!(messages[1]["seq"].as_u64() > messages[0]["seq"].as_u64());
    let second_url = survey_url(&messages[1], &base);
    let second_id = messages[1]["id"].as_str().unwrap().to_owned();
    let second_token = token_of(&second_url);
    assert_ne!(second_token, first_token);
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
            !detail.contains("/c/t/")
                && !detail.contains(&first_token)
                && !detail.contains(&second_token),
            "the link is never audited: {detail}"
        );
    }
    let message_ids: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e["detail"].as_str().unwrap()).unwrap())
        .map(|d| d["message_id"].clone())
        .collect();
    assert!(message_ids.contains(&json!(first_id)) && message_ids.contains(&json!(second_id)));

    // The bridge delivers the first message: it leaves the queue and its body is erased.
    let (status, delivered) = deliver(&s, &first_id, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{delivered}");
    assert_eq!(delivered["id"], first_id.as_str());
    let first_body = first["body"].as_str().unwrap();
    assert_eq!(
        delivered["body_sha256"],
        outpost_server::auth::sha256_hex(first_body)
    );
    let (body, sha, delivered_at) = stored_message(&s, &first_id).await;
    assert_eq!(body, None, "the body is erased on delivery");
    assert_eq!(sha, outpost_server::auth::sha256_hex(first_body));
    assert!(delivered_at.is_some());
    let pending = surveys_for(&s, &key, ticket).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["id"], second_id.as_str());
    // Confirming again changes nothing.
    let (status, again) = deliver(&s, &first_id, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, delivered);
    let (_, body) = s
        .call(
            "GET",
            &format!("/v1/audit/events?action=outbound.delivered&ticket_id={ticket}"),
            Some(&lead),
            None,
        )
        .await;
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "one event per delivery: {events:?}");
    assert_eq!(events[0]["actor"], "intake:api");
    assert_eq!(events[0]["department"], "support");
    let detail = events[0]["detail"].as_str().unwrap();
    assert!(detail.contains(&first_id) && detail.contains("\"intake_key\":\"tests\""));
    assert!(
        !detail.contains("/c/t/") && !detail.contains(&first_token) && !detail.contains("rate"),
        "no body in the delivery event: {detail}"
    );
    if s.db.kind == outpost_server::db::Kind::Sqlite {
        assert!(
            !sqlite_files_contain(&s, first_token.as_bytes()),
            "the delivered link lingers in the database files"
        );
    }

    // Nobody holds the ticket any more when the customer rates it low, at the link the queue
    // carried.
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
    let second_link = second_url.trim_start_matches(&base).to_owned();
    let (status, _, page) = html(
        &s,
        form(
            &format!("{}/csat?lang=en", second_link.trim_end_matches("?lang=en")),
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
    assert_eq!(survey_replies(&s.pull_all(&agent).await, ticket).len(), 2);
    let pending = surveys_for(&s, &key, ticket).await;
    assert_eq!(pending.len(), 1, "still only the undelivered second one");
    assert_eq!(pending[0]["id"], second_id.as_str());

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
    let replies = survey_replies(&s.pull_all(&agent).await, zh);
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].contains("已解决") && replies[0].contains("满意度调查"),
        "{}",
        replies[0]
    );
    let messages = surveys_for(&s, &key, zh).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["language"], "zh-CN");
    assert_eq!(messages[0]["contact"], "wang@example.com");
    let zh_url = survey_url(&messages[0], &base);
    assert!(
        messages[0]["body"].as_str().unwrap().contains("已解决") && zh_url.ends_with("?lang=zh-CN"),
        "{}",
        messages[0]["body"]
    );
    let zh_token = token_of(&zh_url);
    let zh_link = zh_url.trim_start_matches(&base);
    let (status, _, page) = html(
        &s,
        form(
            &format!("{}/csat", zh_link.trim_end_matches("?lang=zh-CN")),
            "score=5",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("感谢"), "thanked in the ticket's language");
    let t = ticket_in(&s.pull_all(&agent).await, zh);
    assert_eq!(t.status, Status::Resolved, "a high score does not reopen");
    assert_eq!(t.assignee, Some(agent_id));
    assert_eq!(t.revisit_due_at, None);

    // However the tickets moved, no agent's or supervisor's pull ever carried a link.
    assert_no_link_reaches_agents(&s, &[&agent, &lead], &[first_token, second_token, zh_token])
        .await;
    assert!(outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .is_ok());
}

async fn the_outbound_queue_takes_only_intake_keys_and_pages_in_order(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let admin = s.admin_token().await;
    let key = intake_key(&s).await;
    let device = Uuid::now_v7();
    let mut tickets = Vec::new();
    for (n, subject) in [
        "Cannot log in",
        "Login fails with error E1023",
        "Cannot log in to the app",
    ]
    .into_iter()
    .enumerate()
    {
        let (status, created) = intake(
            &s,
            &key,
            json!({
                "subject": subject, "description": "Since yesterday",
                "requester": { "name": "Ann", "contact": "ann@example.com" }
            }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let ticket: Uuid = created["ticket_id"].as_str().unwrap().parse().unwrap();
        let (_, body) = s
            .push(
                &agent,
                device,
                vec![(
                    n as u64 + 1,
                    Mutation::SetStatus {
                        ticket_id: ticket,
                        status: Status::Resolved,
                        reason: None,
                    },
                )],
            )
            .await;
        assert_eq!(outcomes(&body), ["applied"], "{body}");
        tickets.push(ticket.to_string());
    }

    // Nothing but a valid intake key opens the queue: not an agent's or an admin's bearer token,
    // not a bearer token passed as a key.
    let refused = [
        (None, None),
        (Some("opk_wrong"), None),
        (None, Some(agent.as_str())),
        (None, Some(admin.as_str())),
        (Some(agent.as_str()), None),
        (Some("opk_wrong"), Some(admin.as_str())),
    ];
    for (k, bearer) in refused {
        let (status, body) = outbound(&s, "", k, bearer).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{k:?} {bearer:?}: {body}"
        );
        assert!(body.get("messages").is_none());
    }

    // In order of resolution, paged with `after`.
    let (status, page) = outbound(&s, "", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let all = page["messages"].as_array().unwrap().clone();
    assert_eq!(page["has_more"], false);
    let order: Vec<&str> = all
        .iter()
        .map(|m| m["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, tickets);
    let seqs: Vec<u64> = all.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let (_, page) = outbound(&s, "?limit=2", Some(&key), None).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    assert_eq!(page["has_more"], true);
    let (_, page) = outbound(&s, &format!("?after={}", seqs[1]), Some(&key), None).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page["messages"][0]["seq"].as_u64(), Some(seqs[2]));
    assert_eq!(page["has_more"], false);
    let (_, page) = outbound(&s, "?limit=0", Some(&key), None).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "at least 1");
    let (_, page) = outbound(&s, "?limit=100000", Some(&key), None).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 3, "clamped");
    let (status, body) = outbound(&s, "?after=-1", Some(&key), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Confirming takes a key too; a refused confirmation leaves the message as it was.
    let id = all[0]["id"].as_str().unwrap().to_owned();
    for (k, bearer) in refused {
        let (status, body) = deliver(&s, &id, k, bearer).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{k:?} {bearer:?}: {body}"
        );
    }
    let (body, _, delivered_at) = stored_message(&s, &id).await;
    assert_eq!(body.as_deref(), all[0]["body"].as_str());
    assert_eq!(delivered_at, None);
    let (status, body) = deliver(&s, &Uuid::now_v7().to_string(), Some(&key), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _) = deliver(&s, "not-a-uuid", Some(&key), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Another connector's key (another channel) reads and confirms the same queue.
    let mut tx = s.db.begin_write().await.unwrap();
    let mail = outpost_server::intake_keys::add_key(&mut tx, Channel::Email, "mail-bridge")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (status, _) = deliver(&s, &id, Some(&mail), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = outbound(&s, "", Some(&key), None).await;
    let left: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(left.len(), 2);
    assert!(
        !left.contains(&id.as_str()),
        "delivered messages leave the queue"
    );
    let (body, sha, delivered_at) = stored_message(&s, &id).await;
    assert_eq!(body, None);
    assert_eq!(
        sha,
        outpost_server::auth::sha256_hex(all[0]["body"].as_str().unwrap())
    );
    assert!(delivered_at.is_some());
    let lead = s.user("lead@acme.example", "supervisor", &[]).await.1;
    let (_, body) = s
        .call(
            "GET",
            "/v1/audit/events?action=outbound.delivered",
            Some(&lead),
            None,
        )
        .await;
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], "intake:email");
    assert_eq!(events[0]["ticket_id"], tickets[0].as_str());
    assert!(outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .is_ok());
}

/// The customer's message and rating are core intents applied by `outpost_core::apply` for the
/// `customer` origin: each is one audited change with the events `apply` produced. A device
/// cannot speak for the customer: pushing either intent is refused as forbidden, whoever signs
/// in, and changes nothing.
async fn customer_intents_go_through_apply_and_devices_cannot_send_them(s: Server) {
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
    let revision = |pull: &outpost_core::sync::PullResponse| ticket_in(pull, ticket).revision;
    let customer_messages =
        |pull: &outpost_core::sync::PullResponse| -> Vec<(String, Option<Uuid>)> {
            pull.changes
                .iter()
                .filter_map(|c| match &c.kind {
                    ChangeKind::Entry(e) if e.ticket_id == ticket => match &e.body {
                        outpost_core::model::EntryBody::CustomerMessage { text } => {
                            Some((text.clone(), e.author))
                        }
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        };
    let before = s.pull_all(&agent).await;

    for (token, device) in [(&agent, Uuid::now_v7()), (&lead, Uuid::now_v7())] {
        let (status, body) = s
            .push(
                token,
                device,
                vec![
                    (
                        1,
                        Mutation::CustomerMessage {
                            ticket_id: ticket,
                            entry_id: Uuid::now_v7(),
                            text: "I am the customer, honestly".into(),
                        },
                    ),
                    (
                        2,
                        Mutation::CustomerRating {
                            ticket_id: ticket,
                            score: 1,
                            comment: None,
                            return_to: Some(agent_id),
                        },
                    ),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(outcomes(&body), ["rejected", "rejected"], "{body}");
        for result in body["results"].as_array().unwrap() {
            assert_eq!(result["code"], "forbidden", "{body}");
            assert!(result["reason"].as_str().unwrap().contains("customer"));
        }
    }
    let after = s.pull_all(&agent).await;
    assert_eq!(
        revision(&after),
        revision(&before),
        "a refused intent writes nothing"
    );
    assert!(customer_messages(&after).is_empty());

    // The customer's own message, from the status page: one change, audited as the customer.
    let (status, _, _) = html(&s, form(&format!("{path}/message"), "text=Still+waiting")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pull = s.pull_all(&agent).await;
    assert_eq!(revision(&pull), revision(&before) + 1);
    assert_eq!(
        customer_messages(&pull),
        [("Still waiting".to_owned(), None)]
    );
    let audit = |action: &'static str| {
        let s = &s;
        let lead = lead.clone();
        async move {
            let (_, body) = s
                .call(
                    "GET",
                    &format!("/v1/audit/events?action={action}&ticket_id={ticket}"),
                    Some(&lead),
                    None,
                )
                .await;
            body["events"].as_array().unwrap().clone()
        }
    };
    let events = audit("customer.message").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], "customer");
    let detail: serde_json::Value =
        serde_json::from_str(events[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["revision"], revision(&pull));
    assert!(
        !events[0]["detail"]
            .as_str()
            .unwrap()
            .contains("Still waiting"),
        "the audit trail never holds customer text"
    );

    // Resolved and rated low: one change carrying the rating, the reassignment and the reopen.
    let device = Uuid::now_v7();
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![
                (
                    1,
                    Mutation::SetStatus {
                        ticket_id: ticket,
                        status: Status::Resolved,
                        reason: None,
                    },
                ),
                (
                    2,
                    Mutation::SetAssignee {
                        ticket_id: ticket,
                        assignee: None,
                    },
                ),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied"], "{body}");
    let resolved = s.pull_all(&agent).await;
    let (status, _, page) = html(&s, form(&format!("{path}/csat?lang=en"), "score=2")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("reopened"));
    let rated = s.pull_all(&agent).await;
    assert_eq!(revision(&rated), revision(&resolved) + 1);
    let t = ticket_in(&rated, ticket);
    assert_eq!(t.status, Status::Assigned);
    assert_eq!(
        t.assignee,
        Some(agent_id),
        "back to the agent who resolved it"
    );
    let csat_at = t.csat.as_ref().expect("rated").at;
    assert_eq!(
        t.revisit_due_at,
        Some(csat_at + chrono::Duration::hours(24))
    );
    let events = audit("customer.csat").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], "customer");
    let detail: serde_json::Value =
        serde_json::from_str(events[0]["detail"].as_str().unwrap()).unwrap();
    let changes: Vec<&str> = detail["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        changes,
        ["csat_received", "assignee_changed", "reopened"],
        "{detail}"
    );

    // Closed: the core refuses the customer's message and nothing is written.
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![
                (
                    3,
                    Mutation::SetStatus {
                        ticket_id: ticket,
                        status: Status::Resolved,
                        reason: None,
                    },
                ),
                (
                    4,
                    Mutation::SetStatus {
                        ticket_id: ticket,
                        status: Status::Closed,
                        reason: None,
                    },
                ),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied"], "{body}");
    let closed = s.pull_all(&agent).await;
    let (status, _, _) = html(&s, form(&format!("{path}/message"), "text=Hello%3F")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let pull = s.pull_all(&agent).await;
    assert_eq!(revision(&pull), revision(&closed));
    assert_eq!(customer_messages(&pull).len(), 1);
    assert!(outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .is_ok());
}

/// How many rows `table` (`tickets` or `outbound_messages`) holds.
async fn rows_in(s: &Server, table: &str) -> i64 {
    let sql = match table {
        "tickets" => "SELECT count(*) FROM tickets",
        "outbound_messages" => "SELECT count(*) FROM outbound_messages",
        other => panic!("no count query for {other}"),
    };
    sqlx::query_scalar(sql).fetch_one(&s.db.pool).await.unwrap()
}

async fn oversized_and_header_breaking_requester_fields_are_refused(mut s: Server) {
    // The production body limit (2 MiB), not the harness's 64 KiB: megabyte fields must reach
    // the handlers, as they did in the probe.
    let config = outpost_server::config::Config::default();
    assert!(config.max_body_bytes >= 2 * 1024 * 1024);
    s.state = outpost_server::AppState::new(s.db.clone(), config, s.master_key.clone())
        .await
        .unwrap();
    s.app = outpost_server::router(s.state.clone());
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let key = intake_key(&s).await;
    let megabyte = "1".repeat(1 << 20);
    let injected = "ann@example.com\r\nBcc: eve@example.com";
    let request = |contact: &str, language: Option<&str>| {
        let mut body = json!({
            "subject": "Cannot log in", "description": "Since yesterday",
            "requester": { "name": "Ann", "contact": contact }
        });
        if let Some(language) = language {
            body["language"] = json!(language);
        }
        body
    };
    for (body, field, problem) in [
        (
            request(&megabyte, None),
            "requester.contact",
            "the limit is 254",
        ),
        (
            request("ann@example.com", Some(&megabyte)),
            "language",
            "the limit is 35",
        ),
        (
            request(injected, None),
            "requester.contact",
            "control characters",
        ),
        (
            request("ann@example.com", Some("en\r\nX: y")),
            "language",
            "control characters",
        ),
        (
            request("ann@@example.com", None),
            "requester.contact",
            "e-mail address",
        ),
    ] {
        let (status, response) = intake(&s, &key, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
        assert_eq!(response["code"], "bad_request", "{response}");
        let message = response["message"].as_str().unwrap();
        assert!(
            message.starts_with(field) && message.contains(problem),
            "{message}"
        );
        assert!(message.len() < 200, "the message does not echo the input");
    }

    // The public form: the same rules, explained on the page.
    let big_name = "n".repeat(1_900_000);
    let encoded = |text: &str| {
        text.replace('%', "%25")
            .replace('@', "%40")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
            .replace(' ', "+")
            .replace(':', "%3A")
    };
    // The page names the field in the customer's language and keeps what they typed.
    for (name, contact, lang, field) in [
        ("Ann", megabyte.as_str(), "en", "“E-mail or phone”"),
        (big_name.as_str(), "ann@example.com", "en", "“Your name”"),
        ("Ann", injected, "en", "“E-mail or phone”"),
        ("Ann", injected, "zh-CN", "「邮箱或手机」"),
    ] {
        let body = format!(
            "subject=Cannot+log+in&description=Since+yesterday&name={}&contact={}",
            encoded(name),
            encoded(contact)
        );
        let (status, _, page) = html(&s, form(&format!("/c/new?lang={lang}"), &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains(field), "{lang}: {field}");
        assert!(
            page.contains("value=\"Cannot log in\"")
                && page.contains(">Since yesterday</textarea>"),
            "the form keeps what was typed"
        );
    }

    // A device cannot store one either.
    let mut create = new_ticket(Uuid::now_v7(), "support");
    if let Mutation::CreateTicket(new) = &mut create {
        injected.clone_into(&mut new.requester.contact);
    }
    let (_, body) = s.push(&agent, Uuid::now_v7(), vec![(1, create)]).await;
    assert_eq!(outcomes(&body), ["rejected"], "{body}");
    assert_eq!(body["results"][0]["code"], "invalid", "{body}");

    assert_eq!(rows_in(&s, "tickets").await, 0, "nothing was stored");
    assert_eq!(rows_in(&s, "outbound_messages").await, 0);
    assert!(pending_messages(&s, &key).await.is_empty());

    // Plain addresses and phone numbers still go through.
    for contact in ["ann@example.com", "+86 138 0000 0000"] {
        let (status, created) = intake(&s, &key, request(contact, Some("zh-CN"))).await;
        assert_eq!(status, StatusCode::OK, "{created}");
    }
    assert_eq!(rows_in(&s, "tickets").await, 2);
}

on_both_databases!(
    intake_classifies_and_dispatches_by_load,
    customer_pages_escape_everything_and_hide_internal_notes,
    a_low_satisfaction_score_reopens_for_a_revisit,
    resolution_sends_the_survey_and_a_low_score_returns_to_the_resolver,
    the_outbound_queue_takes_only_intake_keys_and_pages_in_order,
    customer_intents_go_through_apply_and_devices_cannot_send_them,
    oversized_and_header_breaking_requester_fields_are_refused,
);
