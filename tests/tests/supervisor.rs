//! The supervisor workspace, whole system: the real `outpost-server` binary and desktop clients
//! as in-process `Desk`s. Access events of sensitive tickets reach the server's chain with the
//! viewer's device; a redaction removes the text from the other agent's cache and its search;
//! the chain verifies from a client, a second check compares with the head noted the first time;
//! an export verifies offline and an edited export is caught; agents are kept out.

use std::time::Duration;

use outpost_client::supervisor::{check_export, ExportFormat};
use outpost_core::audit::BreakKind;
use outpost_core::audit_export::AuditQuery;
use outpost_core::error::ErrorCode;
use outpost_core::model::{EntryBody, TicketId};
use outpost_core::sync::Mutation;
use outpost_system_tests::{Backend, Client, Server};

/// A sensitive ticket (risk level or account category) in the support department that `client`
/// sees.
async fn sensitive_ticket(client: &Client) -> TicketId {
    let view = client.view(None).await;
    let mut candidates: Vec<_> = view
        .tickets
        .values()
        .filter(|t| t.is_sensitive() && t.department.as_deref() == Some("support"))
        .filter(|t| t.status.is_open())
        .collect();
    candidates.sort_by_key(|t| (t.key.clone(), t.id));
    candidates
        .first()
        .map(|t| t.id)
        .expect("the demo organisation has open sensitive support tickets")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_sees_views_redacts_verifies_and_exports() {
    let server = Server::start(Backend::Sqlite).await;
    let org = server.org;
    let url = server.url();
    let (admin, ann) = tokio::join!(
        Client::ready(&url, &org.admin),
        Client::ready(&url, &org.ann)
    );
    let ticket = sensitive_ticket(&ann).await;

    // Ann opens the ticket twice (a refresh is not a second view) and replies with a secret.
    ann.desk.ticket(ticket).await.unwrap();
    ann.desk.ticket(ticket).await.unwrap();
    let secret = "one-time access code 7731-zebra";
    ann.desk.reply(ticket, secret.into()).await.unwrap();
    ann.settle(5).await;
    let ann_device = ann.desk.me().await.unwrap().device_id;

    admin.settle(5).await;
    let views = admin
        .desk
        .audit_page(AuditQuery {
            ticket_id: Some(ticket),
            action: Some("ticket.view".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let by_ann: Vec<_> = views
        .events
        .iter()
        .filter(|r| r.chained.event.actor == org.ann.id.to_string())
        .collect();
    assert_eq!(by_ann.len(), 1, "{:?}", views.events);
    assert_eq!(
        by_ann[0].chained.event.device.as_deref(),
        Some(ann_device.to_string().as_str())
    );
    assert_eq!(by_ann[0].department.as_deref(), Some("support"));

    // The supervisor redacts the reply: gone from Ann's cache and search after her next sync.
    let detail = admin.desk.ticket(ticket).await.unwrap();
    let reply = detail
        .entries
        .iter()
        .find(|e| matches!(&e.body, EntryBody::Reply { text } if text == secret))
        .expect("the reply reached the supervisor")
        .id;
    assert!(!ann
        .desk
        .search("7731-zebra".into(), 10)
        .await
        .unwrap()
        .is_empty());
    admin
        .desk
        .change(Mutation::RedactEntry {
            ticket_id: ticket,
            entry_id: reply,
            reason: "customer's access code".into(),
        })
        .await
        .unwrap();
    admin.settle(5).await;
    ann.settle(5).await;
    let seen = ann.desk.ticket(ticket).await.unwrap();
    let json = serde_json::to_string(&seen).unwrap();
    assert!(
        !json.contains("7731-zebra"),
        "the text is still in Ann's cache"
    );
    assert!(seen.entries.iter().any(|e| e.id == reply
        && matches!(&e.body, EntryBody::Redacted { reason, .. } if reason == "customer's access code")));
    assert!(ann
        .desk
        .search("7731-zebra".into(), 10)
        .await
        .unwrap()
        .is_empty());
    let redactions = admin
        .desk
        .audit_page(AuditQuery {
            action: Some("entry.redact".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(redactions.events.len(), 1);
    assert!(redactions.events[0].chained.event.before.is_some());

    // The chain verifies from the client, and again against the head it noted.
    let first = admin.desk.audit_verify().await.unwrap();
    assert!(first.ok(), "{first:?}");
    assert!(first.checked >= 3);
    assert_eq!(first.verified_head, first.server_head);
    assert_eq!(first.previous, None);
    let progress = std::sync::Mutex::new(Vec::new());
    let second = admin
        .desk
        .audit_verify_with(|p| progress.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(second.previous_matches, Some(true), "{second:?}");
    // Progress after each page: rising, ending at what was checked, of the server's head.
    let progress = progress.into_inner().unwrap();
    assert!(!progress.is_empty());
    assert!(progress.windows(2).all(|w| w[0].checked < w[1].checked));
    let last = progress.last().unwrap();
    assert_eq!(last.checked, second.checked);
    assert_eq!(last.head, second.server_head.last_seq);

    // Export the whole chain as CSV and JSON; both verify offline; an edit is named.
    let exports = outpost_system_tests::scratch_dir();
    std::env::set_var("OUTPOST_EXPORT_DIR", exports.path());
    for format in [ExportFormat::Csv, ExportFormat::Json] {
        let saved = admin
            .desk
            .audit_export(AuditQuery::default(), format)
            .await
            .unwrap();
        assert!(saved
            .file
            .path
            .starts_with(&*exports.path().to_string_lossy()));
        let text = std::fs::read_to_string(&saved.file.path).unwrap();
        let check = check_export(&text, None);
        let verified = check
            .verified
            .unwrap_or_else(|| panic!("{:?}", check.problem));
        assert!(verified.reaches_head && !verified.filtered);
        assert_eq!(verified.count, saved.header.head.last_seq);
        // The first view event in the file, by its position.
        let parsed = outpost_core::audit_export::AuditExport::parse(&text).unwrap();
        let first_view = parsed
            .events
            .iter()
            .find(|e| e.event.action == "ticket.view")
            .expect("views are exported")
            .event
            .seq;
        let edited = text.replacen("ticket.view", "ticket.note", 1);
        let problem = check_export(&edited, None)
            .problem
            .expect("the edit is caught");
        assert!(
            matches!(&problem, outpost_core::audit_export::ExportProblem::Chain(b)
                if matches!(b.kind, BreakKind::ContentAltered { .. }) && b.seq == first_view),
            "{problem:?}"
        );
    }
    // A filtered export (one ticket) has holes by design, and still proves each event.
    let saved = admin
        .desk
        .audit_export(
            AuditQuery {
                ticket_id: Some(ticket),
                ..AuditQuery::default()
            },
            ExportFormat::Csv,
        )
        .await
        .unwrap();
    let check = check_export(&std::fs::read_to_string(&saved.file.path).unwrap(), None);
    assert!(
        check.verified.as_ref().is_some_and(|v| v.filtered),
        "{check:?}"
    );

    // Reports come from the supervisor's cache, offline as well.
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let report = admin
        .desk
        .report(outpost_store::ReportParams {
            from: now - chrono::Duration::days(400),
            to: now + chrono::Duration::days(1),
            departments: Vec::new(),
            assignee: None,
            recurring_days: 30,
            utc_offset_minutes: 0,
        })
        .await
        .unwrap();
    assert!(report.created > 0);

    // Agents get a clear refusal, from the Desk and from the server.
    let refused = ann
        .desk
        .audit_page(AuditQuery::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let refused = ann.desk.audit_verify().await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let status = outpost_system_tests::server::http()
        .get(format!("{url}/v1/audit/events"))
        .bearer_auth(server.token(&org.ann).await)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 403);
}

/// The satisfaction loop through the desktop client: an agent resolves a ticket; the survey
/// reaches the customer through the connectors' outbound queue (never the agents' timeline); the
/// customer rates it low on their page; the agent's cache shows the ticket reopened, assigned back
/// to them, with the 24 h revisit in the "Revisit due" view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_score_reopens_the_ticket_for_its_agent_with_a_revisit_due() {
    use outpost_core::model::Status;
    use outpost_store::{QueueFilter, QueueSort};

    let server = Server::start(Backend::Sqlite).await;
    let org = server.org;
    let url = server.url();
    let ann = Client::ready(&url, &org.ann).await;
    let view = ann.view(None).await;
    let mut open: Vec<_> = view
        .tickets
        .values()
        .filter(|t| t.department.as_deref() == Some("support") && t.status.is_open())
        .filter(|t| t.csat.is_none() && t.status != Status::Pending)
        .collect();
    open.sort_by_key(|t| (t.key.clone(), t.id));
    let ticket = open.first().expect("an open support ticket").id;
    let key = open[0].key.clone().expect("a server ticket has a key");

    // Ann takes it, answers and resolves it.
    ann.desk
        .change(Mutation::SetAssignee {
            ticket_id: ticket,
            assignee: Some(org.ann.id),
        })
        .await
        .unwrap();
    ann.desk
        .reply(
            ticket,
            "The transfer has arrived; please check again.".into(),
        )
        .await
        .unwrap();
    for status in [Status::InProgress, Status::Resolved] {
        let current = ann.desk.inspect_ticket(ticket).await.unwrap().ticket.status;
        if current != status {
            ann.desk
                .change(Mutation::SetStatus {
                    ticket_id: ticket,
                    status,
                    reason: None,
                })
                .await
                .unwrap();
        }
    }
    ann.settle(5).await;
    assert_eq!(
        ann.desk.inspect_ticket(ticket).await.unwrap().ticket.status,
        Status::Resolved
    );

    // The e-mail bridge picks the survey up from the outbound queue.
    let bridge = server.intake_key("email", "bridge").await;
    let http = outpost_system_tests::server::http();
    let page: serde_json::Value = http
        .get(format!("{url}/v1/intake/outbound?after=0&limit=1000"))
        .header("x-outpost-key", &bridge)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ticket_key"] == key.as_str())
        .unwrap_or_else(|| panic!("no survey for {key} in {page}"));
    let body = message["body"].as_str().unwrap();
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no link in {body:?}"));
    let (path, _) = link.split_once('?').unwrap_or((link, ""));
    let token = path.rsplit('/').next().unwrap().to_owned();
    // The link never reaches an agent's cache.
    ann.settle(5).await;
    let cached = serde_json::to_string(&ann.desk.inspect_ticket(ticket).await.unwrap()).unwrap();
    assert!(
        !cached.contains(&token),
        "the customer's link is in the agent's cache"
    );

    // The customer rates the help 1 of 5 on their page.
    let answer = http
        .post(format!("{path}/csat?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("score=1&comment=still+not+there")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());

    // Back on Ann's desk: reopened, hers, revisit due in 24 h, in the "Revisit due" view.
    ann.settle(5).await;
    let detail = ann.desk.inspect_ticket(ticket).await.unwrap();
    assert!(detail.ticket.status.is_open(), "{:?}", detail.ticket.status);
    assert_eq!(detail.ticket.assignee, Some(org.ann.id));
    let csat = detail
        .ticket
        .csat
        .clone()
        .expect("the score is on the ticket");
    assert_eq!(csat.score, 1);
    assert_eq!(
        detail.ticket.revisit_due_at,
        Some(csat.at + chrono::Duration::hours(24))
    );
    let revisit = QueueFilter {
        revisit: true,
        ..QueueFilter::default()
    };
    let rows = ann
        .desk
        .queue(revisit.clone(), QueueSort::SlaDue, None, 100)
        .await
        .unwrap()
        .rows;
    let row = rows
        .iter()
        .find(|r| r.id == ticket)
        .expect("in the Revisit due view");
    assert_eq!(row.revisit_due_at, detail.ticket.revisit_due_at);
    assert!(ann.desk.queue_count(revisit).await.unwrap() >= 1);
}
