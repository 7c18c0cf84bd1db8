//! Every reference in a mutation names an existing, active thing the actor may use: assignees
//! are active users in the ticket's department (supervisors may assign across departments),
//! departments exist, linked tickets exist and are visible. Refusals change nothing and audit
//! nothing. Run on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use common::*;
use outpost_core::model::{
    LinkKind, RiskLevel, TicketLink, VerificationCheck, VerificationDimension, VerificationResult,
};
use outpost_core::sync::{Mutation, RiskActionArgs};
use uuid::Uuid;

/// The ticket's assignee and department as stored, and how many audit events there are.
async fn snapshot(s: &Server, ticket: Uuid) -> (Option<String>, Option<String>, i64) {
    let (assignee, department): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT assignee, department FROM tickets WHERE id = $1")
            .bind(ticket.to_string())
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    (assignee, department, audited)
}

/// Pushes one mutation and returns the result's outcome and code.
async fn push_one(s: &Server, token: &str, mutation: Mutation) -> (String, String) {
    let (_, body) = s.push(token, Uuid::now_v7(), vec![(1, mutation)]).await;
    let result = &body["results"][0];
    (
        result["outcome"].as_str().unwrap_or_default().to_owned(),
        result["code"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn assert_refused(s: &Server, token: &str, ticket: Uuid, mutation: Mutation, code: &str) {
    let before = snapshot(s, ticket).await;
    let (outcome, got) = push_one(s, token, mutation.clone()).await;
    assert_eq!(
        (outcome.as_str(), got.as_str()),
        ("rejected", code),
        "{mutation:?}"
    );
    assert_eq!(
        snapshot(s, ticket).await,
        before,
        "refused {mutation:?} changed something"
    );
}

async fn assert_applied(s: &Server, token: &str, mutation: Mutation) {
    let (outcome, code) = push_one(s, token, mutation.clone()).await;
    assert_eq!(outcome, "applied", "{mutation:?}: {code}");
}

async fn assignment_respects_the_tickets_department(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (colleague, _) = s
        .user("colleague@acme.example", "agent", &["support"])
        .await;
    let (finance_agent, finance_token) = s.user("fin@acme.example", "agent", &["finance"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let ticket = Uuid::now_v7();
    assert_applied(&s, &supervisor, new_ticket(ticket, "support")).await;

    let to = |assignee: Uuid| Mutation::SetAssignee {
        ticket_id: ticket,
        assignee: Some(assignee),
    };
    assert_refused(&s, &agent, ticket, to(finance_agent), "forbidden").await;
    assert!(
        !ticket_ids(&s.pull_all(&finance_token).await).contains(&ticket),
        "the refused assignment must not move the ticket into the finance agent's view"
    );

    // Within the department an agent assigns freely; a supervisor may assign across.
    assert_applied(&s, &agent, to(colleague)).await;
    assert_eq!(snapshot(&s, ticket).await.0, Some(colleague.to_string()));
    assert_applied(&s, &supervisor, to(finance_agent)).await;
    assert_eq!(
        snapshot(&s, ticket).await.0,
        Some(finance_agent.to_string())
    );
}

async fn references_must_name_existing_active_things(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (gone, _) = s.user("gone@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let admin = s.admin_token().await;
    let (status, body) = s
        .call(
            "POST",
            &format!("/v1/admin/users/{gone}/disable"),
            Some(&admin),
            None,
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (ticket, hidden) = (Uuid::now_v7(), Uuid::now_v7());
    assert_applied(&s, &supervisor, new_ticket(ticket, "support")).await;
    assert_applied(&s, &supervisor, new_ticket(hidden, "finance")).await;

    for token in [&agent, &supervisor] {
        for assignee in [Uuid::now_v7(), gone] {
            let m = Mutation::SetAssignee {
                ticket_id: ticket,
                assignee: Some(assignee),
            };
            assert_refused(&s, token, ticket, m, "invalid").await;
        }
        let m = Mutation::SetDepartment {
            ticket_id: ticket,
            department: Some("nowhere".into()),
        };
        assert_refused(&s, token, ticket, m, "invalid").await;
        let m = Mutation::Link {
            ticket_id: ticket,
            link: TicketLink {
                kind: LinkKind::Related,
                other: Uuid::now_v7(),
            },
        };
        assert_refused(&s, token, ticket, m, "invalid").await;
    }
    // A ticket the agent cannot see is as good as missing, also as a link target.
    let hidden_link = Mutation::Link {
        ticket_id: ticket,
        link: TicketLink {
            kind: LinkKind::Related,
            other: hidden,
        },
    };
    assert_refused(&s, &agent, ticket, hidden_link.clone(), "invalid").await;

    // A new ticket in a department that does not exist is refused and never stored.
    let audited = snapshot(&s, ticket).await.2;
    let phantom = Uuid::now_v7();
    let (outcome, code) = push_one(&s, &supervisor, new_ticket(phantom, "nowhere")).await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "invalid"));
    assert_eq!(snapshot(&s, ticket).await.2, audited);
    assert!(!ticket_ids(&s.pull_all(&supervisor).await).contains(&phantom));

    // The legitimate versions still apply.
    assert_applied(&s, &supervisor, hidden_link).await;
    let m = Mutation::SetDepartment {
        ticket_id: ticket,
        department: Some("finance".into()),
    };
    assert_applied(&s, &supervisor, m).await;
    assert_eq!(snapshot(&s, ticket).await.1.as_deref(), Some("finance"));
}

/// The probe: on an L1 ticket a freeze with two passed checks was refused, but lowering the
/// risk to `none` first let the same freeze through. Only a supervisor may lower the level.
async fn lowering_the_risk_level_does_not_dodge_the_verification_gate(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let ticket = Uuid::now_v7();
    assert_applied(&s, &supervisor, new_ticket(ticket, "support")).await;
    let set_risk = |risk| Mutation::SetRisk {
        ticket_id: ticket,
        risk,
    };
    assert_applied(&s, &agent, set_risk(RiskLevel::L1)).await;
    let passed = |dimension| VerificationCheck {
        dimension,
        result: VerificationResult::Passed,
        method: "call-back on the registered number".into(),
    };
    let checks = Mutation::RecordVerification {
        entry_id: Uuid::now_v7(),
        ticket_id: ticket,
        checks: vec![
            passed(VerificationDimension::SmsCode),
            passed(VerificationDimension::RealNameInfo),
        ],
    };
    assert_applied(&s, &agent, checks).await;
    let freeze = || {
        Mutation::FreezeAccount(RiskActionArgs {
            entry_id: Uuid::now_v7(),
            ticket_id: ticket,
            target: "ACC-1".into(),
            reason: "takeover".into(),
        })
    };
    let (outcome, _) = push_one(&s, &agent, freeze()).await;
    assert_eq!(outcome, "rejected", "two checks are not enough on L1");

    for lower in [RiskLevel::None, RiskLevel::L3, RiskLevel::L2] {
        assert_refused(&s, &agent, ticket, set_risk(lower), "forbidden").await;
    }
    let risk = s
        .pull_all(&supervisor)
        .await
        .changes
        .iter()
        .rev()
        .find_map(|c| match &c.kind {
            outpost_core::sync::ChangeKind::Ticket(t) if t.id == ticket => Some(t.risk),
            _ => None,
        });
    assert_eq!(risk, Some(RiskLevel::L1));
    let (outcome, _) = push_one(&s, &agent, freeze()).await;
    assert_eq!(
        outcome, "rejected",
        "the freeze must still need L1's checks"
    );

    // A supervisor's decision to lower it stands (and is audited as theirs).
    assert_applied(&s, &supervisor, set_risk(RiskLevel::None)).await;
}

/// The probe: an agent took a ticket, moved it into the risk department (where they do not
/// work) and kept working on it. A move hands the ticket over to the new department's queue.
async fn moving_a_ticket_out_of_ones_departments_hands_it_over(s: Server) {
    let (agent_id, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, risk_agent) = s.user("risk@acme.example", "agent", &["risk"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let ticket = Uuid::now_v7();
    assert_applied(&s, &supervisor, new_ticket(ticket, "support")).await;
    assert_applied(
        &s,
        &agent,
        Mutation::SetAssignee {
            ticket_id: ticket,
            assignee: Some(agent_id),
        },
    )
    .await;
    assert_applied(
        &s,
        &agent,
        Mutation::SetDepartment {
            ticket_id: ticket,
            department: Some("risk".into()),
        },
    )
    .await;
    let (assignee, department, _) = snapshot(&s, ticket).await;
    assert_eq!((assignee, department.as_deref()), (None, Some("risk")));
    assert!(
        !ticket_ids(&s.pull_all(&agent).await).contains(&ticket),
        "the agent must lose the ticket they handed over"
    );
    let (outcome, code) = push_one(
        &s,
        &agent,
        Mutation::SetAssignee {
            ticket_id: ticket,
            assignee: Some(agent_id),
        },
    )
    .await;
    assert_eq!(
        (outcome.as_str(), code.as_str()),
        ("rejected", "ticket_not_found")
    );
    assert!(ticket_ids(&s.pull_all(&risk_agent).await).contains(&ticket));
}

/// Adding a team member names departments that must exist; the name, address and skills are
/// limited like every other header-bound text; two admins adding one address at once get one
/// account and a clear conflict, not a database error.
async fn new_users_are_checked_and_unique_under_concurrency(s: Server) {
    let admin = s.admin_token().await;
    let add = |body: serde_json::Value| {
        let (s, admin) = (&s, admin.clone());
        async move {
            s.call("POST", "/v1/admin/users", Some(&admin), Some(body))
                .await
        }
    };
    let users_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    for (body, field) in [
        (
            serde_json::json!({"email": "a@acme.example", "name": "A", "role": "agent", "departments": ["nowhere"]}),
            "departments",
        ),
        (
            serde_json::json!({"email": "a@acme.example\r\nBcc: x@evil.example", "name": "A", "role": "agent", "departments": []}),
            "email",
        ),
        (
            serde_json::json!({"email": "a@acme.example", "name": "x".repeat(1_000), "role": "agent", "departments": []}),
            "name",
        ),
        (
            serde_json::json!({"email": "a@acme.example", "name": "A", "role": "agent", "departments": [], "skills": ["k".repeat(65)]}),
            "skills",
        ),
    ] {
        let (status, answer) = add(body).await;
        assert_eq!(status.as_u16(), 400, "{field}: {answer}");
        assert_eq!(answer["code"], "bad_request");
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(field),
            "{answer}"
        );
    }
    let users_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(users_after, users_before, "a refused user was stored");

    let same = serde_json::json!({"email": "twin@acme.example", "name": "Twin", "role": "agent", "departments": ["support"]});
    let answers = futures_util::future::join_all((0..8).map(|_| add(same.clone()))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 409, 409, 409, 409, 409, 409, 409],
        "{answers:?}"
    );
    for (_, answer) in answers.iter().filter(|(s, _)| s.as_u16() == 409) {
        assert_eq!(answer["code"], "conflict", "{answer}");
    }
}

on_both_databases!(
    assignment_respects_the_tickets_department,
    references_must_name_existing_active_things,
    lowering_the_risk_level_does_not_dodge_the_verification_gate,
    moving_a_ticket_out_of_ones_departments_hands_it_over,
    new_users_are_checked_and_unique_under_concurrency,
);
