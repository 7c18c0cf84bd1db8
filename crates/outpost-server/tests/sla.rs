//! The SLA monitor emits each at-risk and breached alert once, computed by the shared engine.

#[macro_use]
mod common;

use chrono::Duration;
use common::*;
use outpost_core::model::{EntryBody, TicketEvent};
use outpost_core::sla::{ClockKind, SlaSettings};
use outpost_core::sync::{ChangeKind, Mutation};
use uuid::Uuid;

fn alerts(pull: &outpost_core::sync::PullResponse) -> Vec<TicketEvent> {
    pull.changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::Entry(e) => match &e.body {
                EntryBody::Event { event: event @ (TicketEvent::SlaAtRisk { .. } | TicketEvent::SlaBreached { .. }) } => {
                    Some(event.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

async fn p1_first_response_goes_at_risk_then_breaches_once(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let ticket = Uuid::now_v7();
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![(1, new_ticket(ticket, "support"))],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"]);
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::SetPriority {
                    ticket_id: ticket,
                    priority: outpost_core::model::Priority::P1,
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"]);
    let settings = SlaSettings::defaults();
    let created = now();

    let monitor = |minutes: i64| {
        let state = s.state.clone();
        let settings = settings.clone();
        async move {
            outpost_server::sla_monitor::scan(
                &state,
                &settings,
                created + Duration::minutes(minutes),
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(monitor(5).await, 0, "on track at 5 of 15 minutes");
    assert_eq!(monitor(12).await, 1, "at risk past 75 %");
    assert_eq!(monitor(13).await, 0, "the same alert is not repeated");
    assert_eq!(monitor(16).await, 1, "breached past 15 minutes");
    assert_eq!(monitor(17).await, 0);

    let events = alerts(&s.pull_all(&agent).await);
    assert!(
        matches!(
            events[..],
            [
                TicketEvent::SlaAtRisk {
                    clock: ClockKind::FirstResponse,
                    ..
                },
                TicketEvent::SlaBreached {
                    clock: ClockKind::FirstResponse,
                    ..
                },
            ]
        ),
        "{events:?}"
    );

    // A reply stops the first-response clock: no more first-response alerts.
    s.push(
        &agent,
        Uuid::now_v7(),
        vec![(
            1,
            Mutation::AddReply {
                entry_id: Uuid::now_v7(),
                ticket_id: ticket,
                text: "on it".into(),
            },
        )],
    )
    .await;
    assert_eq!(monitor(30).await, 0);

    // Each alert is an audit event of the system, with the ticket's department.
    let (_, lead) = s.user("lead@acme.example", "supervisor", &[]).await;
    let (status, body) = s
        .call("GET", "/v1/audit/events?action=sla.", Some(&lead), None)
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    let page: outpost_core::audit_export::AuditPage = serde_json::from_value(body).unwrap();
    let actions: Vec<&str> = page
        .events
        .iter()
        .map(|r| r.chained.event.action.as_str())
        .collect();
    assert_eq!(actions, ["sla.breached", "sla.at_risk"]);
    for record in &page.events {
        assert_eq!(record.chained.event.actor, "system");
        assert_eq!(record.chained.event.ticket_id, Some(ticket));
        assert_eq!(record.department.as_deref(), Some("support"));
    }
    outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap();
}

/// A pass that finds more alerts than one write chunk holds (a calendar change can put tens of
/// thousands of clocks past their deadline at once) writes each once, with its entry and audit
/// event, across the chunks; the next pass finds none new.
async fn a_pass_with_many_alerts_writes_each_once_across_chunks(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let device = Uuid::now_v7();
    let tickets = 700u64;
    for batch in 0..tickets / 100 {
        let mutations = (0..100)
            .map(|i| (batch * 100 + i + 1, new_ticket(Uuid::now_v7(), "support")))
            .collect();
        let (status, body) = s.push(&agent, device, mutations).await;
        assert_eq!(status, axum::http::StatusCode::OK, "{body}");
        assert!(outcomes(&body).iter().all(|o| o == "applied"), "{body}");
    }
    let settings = SlaSettings::defaults();
    let later = now() + Duration::days(60);
    let emitted = outpost_server::sla_monitor::scan(&s.state, &settings, later)
        .await
        .unwrap();
    // Every ticket's first-response and resolution clocks are breached, at least.
    assert!(emitted >= 2 * tickets as usize, "{emitted} alerts");
    assert!(emitted > 1000, "more than one chunk: {emitted}");
    assert_eq!(
        outpost_server::sla_monitor::scan(&s.state, &settings, later)
            .await
            .unwrap(),
        0,
        "nothing is alerted twice"
    );

    let count = |sql: &'static str| {
        let pool = s.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap() as usize
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM sla_alerts").await, emitted);
    assert_eq!(
        count("SELECT COUNT(*) FROM audit WHERE action IN ('sla.at_risk', 'sla.breached')").await,
        emitted
    );
    let events = alerts(&s.pull_all(&agent).await);
    assert_eq!(events.len(), emitted);
    outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap();
}

on_both_databases!(
    p1_first_response_goes_at_risk_then_breaches_once,
    a_pass_with_many_alerts_writes_each_once_across_chunks
);
