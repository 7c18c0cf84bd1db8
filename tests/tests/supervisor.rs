//! The supervisor workspace, whole system: the real `outpost-server` binary and desktop clients
//! as in-process `Desk`s. Access events of sensitive tickets reach the server's chain with the
//! viewer's device; a redaction removes the text from the other agent's cache and its search;
//! the chain verifies from a client, a second check compares with the head noted the first time;
//! an export verifies offline and an edited export is caught; agents are kept out.

use std::time::Duration;

use outpost_client::supervisor::{check_export, ExportFormat};
use outpost_core::audit::BreakKind;
use outpost_core::audit_export::AuditQuery;
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
    let second = admin.desk.audit_verify().await.unwrap();
    assert_eq!(second.previous_matches, Some(true), "{second:?}");

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
    assert_eq!(refused.code(), "forbidden");
    let refused = ann.desk.audit_verify().await.unwrap_err();
    assert_eq!(refused.code(), "forbidden");
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
