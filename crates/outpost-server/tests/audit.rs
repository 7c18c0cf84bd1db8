//! The audit trail: append-only in the database, tampering named by the server's own check and
//! by a client that pages through `GET /v1/audit/events`, the endpoint's roles and filters,
//! redaction and views through push. On SQLite, and on PostgreSQL with `OUTPOST_TEST_PG_URL`.

#[macro_use]
mod common;

use axum::http::StatusCode;
use common::*;
use outpost_core::audit::{chain_hash, AuditEvent, BreakKind, ChainBreak, Hash32, Verifier};
use outpost_core::audit_export::AuditPage;
use outpost_core::model::{EntryBody, Status, TicketEvent};
use outpost_core::sync::{ChangeKind, Mutation, PullResponse};
use outpost_server::db::Kind;
use serde_json::Value;
use uuid::Uuid;

/// What a client does: reads the whole chain with `after_seq` in small pages, recomputes every
/// hash with the core verifier, and checks that it reached the head the server states.
async fn client_verify(s: &Server, token: &str) -> Result<u64, ChainBreak> {
    let mut verifier = Verifier::new();
    let mut after = 0u64;
    let head = loop {
        let (status, body) = s
            .call(
                "GET",
                &format!("/v1/audit/events?after_seq={after}&limit=4"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: AuditPage = serde_json::from_value(body).unwrap();
        assert!(page.events.len() <= 4);
        for record in &page.events {
            verifier.push(&record.chained)?;
            after = record.chained.event.seq;
        }
        if !page.has_more {
            break page.head;
        }
    };
    let verified = verifier.finish();
    if head.last_seq > verified.head.last_seq {
        return Err(ChainBreak {
            seq: verified.head.last_seq + 1,
            index: verified.count as usize,
            kind: BreakKind::Truncated {
                expected_last: head.last_seq,
                found_last: verified.head.last_seq,
            },
        });
    }
    assert_eq!(head, verified.head, "the stated head is the last event");
    Ok(verified.count)
}

async fn server_verify(s: &Server) -> Result<u64, ChainBreak> {
    outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .map(|v| v.count)
}

/// Both checks name the same first broken event; returns it.
async fn both_broken(s: &Server, token: &str) -> ChainBreak {
    let server = server_verify(s).await.expect_err("the server's check");
    let client = client_verify(s, token)
        .await
        .expect_err("the client's check");
    assert_eq!(
        (server.seq, &server.kind),
        (client.seq, &client.kind),
        "server and client name the same event"
    );
    server
}

async fn both_intact(s: &Server, token: &str) -> u64 {
    let server = server_verify(s).await.expect("the server's check");
    let client = client_verify(s, token).await.expect("the client's check");
    assert_eq!(server, client);
    server
}

fn reply(ticket: Uuid, entry: Uuid, text: &str) -> Mutation {
    Mutation::AddReply {
        entry_id: entry,
        ticket_id: ticket,
        text: text.into(),
    }
}

fn set_status(ticket: Uuid, status: Status) -> Mutation {
    Mutation::SetStatus {
        ticket_id: ticket,
        status,
        reason: None,
    }
}

/// Every page of a pull from `cursor`, as raw JSON pages.
async fn raw_pull(s: &Server, token: &str, mut cursor: u64) -> Vec<Value> {
    let mut pages = Vec::new();
    loop {
        let (status, body) = s
            .call(
                "GET",
                &format!("/v1/sync/pull?cursor={cursor}&limit=5"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        cursor = body["cursor"].as_u64().unwrap();
        let more = body["has_more"].as_bool().unwrap();
        pages.push(body);
        if !more {
            return pages;
        }
    }
}

/// All events, oldest first, as a supervisor reads them.
async fn all_events(s: &Server, token: &str) -> Vec<outpost_core::audit_export::AuditRecord> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) = s
            .call(
                "GET",
                &format!("/v1/audit/events?after_seq={after}&limit=5000"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: AuditPage = serde_json::from_value(body).unwrap();
        after = page.events.last().map_or(after, |r| r.chained.event.seq);
        out.extend(page.events);
        if !page.has_more {
            return out;
        }
    }
}

/// A chain with pushes, a redaction and a view, made through the API.
async fn a_real_chain(s: &Server) -> (String, Uuid) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s
        .user("lead@acme.example", "supervisor", &["support"])
        .await;
    let ticket = Uuid::now_v7();
    let secret = Uuid::now_v7();
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![
                (1, new_ticket(ticket, "support")),
                (2, reply(ticket, secret, "your one-time code is 731902")),
                (3, reply(ticket, Uuid::now_v7(), "We are looking into it")),
                (4, Mutation::RecordView { ticket_id: ticket }),
            ],
        )
        .await;
    assert_eq!(
        outcomes(&body),
        ["applied", "applied", "applied", "applied"],
        "{body}"
    );
    let (_, body) = s
        .push(
            &supervisor,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::RedactEntry {
                    ticket_id: ticket,
                    entry_id: secret,
                    reason: "a code the customer must not share".into(),
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
    (supervisor, ticket)
}

async fn tampering_is_named_by_the_server_and_by_a_paging_client(s: Server) {
    let (supervisor, _) = a_real_chain(&s).await;
    let count = both_intact(&s, &supervisor).await;
    assert!(count >= 10, "{count}");
    let last = count as i64;
    let pool = &s.db.pool;

    // The database itself refuses to change or remove an event.
    for statement in [
        "UPDATE audit SET detail = '{}' WHERE seq = 3",
        "DELETE FROM audit WHERE seq = 3",
    ] {
        let refused = sqlx::query(statement).execute(pool).await.unwrap_err();
        assert!(
            refused
                .to_string()
                .contains(outpost_server::db::AUDIT_APPEND_ONLY),
            "{statement}: {refused}"
        );
    }
    // An attacker with database access drops the triggers first.
    drop_audit_guards(&s.db).await;

    // (a) One row's detail edited.
    let middle = last / 2;
    let detail: String = sqlx::query_scalar("SELECT detail FROM audit WHERE seq = $1")
        .bind(middle)
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit SET detail = $1 WHERE seq = $2")
        .bind(detail.replace('}', ",\"note\":\"harmless\"}"))
        .bind(middle)
        .execute(pool)
        .await
        .unwrap();
    let broken = both_broken(&s, &supervisor).await;
    assert_eq!(broken.seq, middle as u64);
    assert!(
        matches!(broken.kind, BreakKind::ContentAltered { .. }),
        "{broken:?}"
    );
    sqlx::query("UPDATE audit SET detail = $1 WHERE seq = $2")
        .bind(&detail)
        .bind(middle)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(both_intact(&s, &supervisor).await, count);

    // (b) A middle row deleted (and later put back from a copy).
    let copy = sqlx::query("CREATE TABLE audit_copy AS SELECT * FROM audit");
    copy.execute(pool).await.unwrap();
    sqlx::query("DELETE FROM audit WHERE seq = $1")
        .bind(middle)
        .execute(pool)
        .await
        .unwrap();
    let broken = both_broken(&s, &supervisor).await;
    assert_eq!(broken.seq, middle as u64 + 1);
    assert_eq!(
        broken.kind,
        BreakKind::SequenceGap {
            expected: middle as u64,
            found: middle as u64 + 1
        }
    );
    sqlx::query("INSERT INTO audit SELECT * FROM audit_copy WHERE seq = $1")
        .bind(middle)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(both_intact(&s, &supervisor).await, count);

    // (c) A forged row inserted in the middle: the later rows are renumbered, the forgery is
    // sealed properly onto its predecessor and the counter is raised, so only the link from the
    // forgery to the next genuine event gives it away.
    let at = middle + 1;
    let previous = &outpost_server::audit::page(
        pool,
        &outpost_server::audit::normalise(outpost_core::audit_export::AuditQuery {
            after_seq: Some(at as u64 - 2),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap(),
    )
    .await
    .unwrap()
    .events[0]
        .chained;
    assert_eq!(previous.event.seq, at as u64 - 1);
    let forged_event = AuditEvent {
        seq: at as u64,
        at: previous.event.at,
        actor: previous.event.actor.clone(),
        device: None,
        address: None,
        action: "risk.unfreeze".into(),
        ticket_id: previous.event.ticket_id,
        before: None,
        after: None,
        detail: "{}".into(),
    };
    let forged_hash = chain_hash(&previous.hash, &forged_event, &mut Vec::new());
    for statement in [
        "UPDATE audit SET seq = -seq WHERE seq >= $1",
        "UPDATE audit SET seq = 1 - seq WHERE seq < 0",
    ] {
        sqlx::query(statement).bind(at).execute(pool).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO audit (seq, at, actor, device, address, action, ticket_id, before_hash, after_hash, detail, prev_hash, hash, department)
         VALUES ($1, $2, $3, NULL, NULL, $4, $5, NULL, NULL, $6, $7, $8, NULL)",
    )
    .bind(at)
    .bind(forged_event.at.timestamp_micros())
    .bind(&forged_event.actor)
    .bind(&forged_event.action)
    .bind(forged_event.ticket_id.map(|t| t.to_string()))
    .bind(&forged_event.detail)
    .bind(previous.hash.to_hex())
    .bind(forged_hash.to_hex())
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'audit_seq'")
        .execute(pool)
        .await
        .unwrap();
    let broken = both_broken(&s, &supervisor).await;
    assert_eq!(
        broken.seq,
        at as u64 + 1,
        "the first genuine event after it"
    );
    assert!(
        matches!(broken.kind, BreakKind::LinkBroken { expected_prev, .. } if expected_prev == forged_hash),
        "{broken:?}"
    );
    // Undo it.
    sqlx::query("DELETE FROM audit WHERE seq = $1")
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
    for statement in [
        "UPDATE audit SET seq = -seq WHERE seq > $1",
        "UPDATE audit SET seq = -seq - 1 WHERE seq < 0",
    ] {
        sqlx::query(statement).bind(at).execute(pool).await.unwrap();
    }
    sqlx::query("UPDATE counters SET value = value - 1 WHERE name = 'audit_seq'")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(both_intact(&s, &supervisor).await, count);

    // A row appended past the counter, sealed onto the real head, is named by the server's check
    // (the API serves the chain only up to the counter's head).
    let head = outpost_server::audit::head(pool).await.unwrap();
    let extra = AuditEvent {
        seq: head.last_seq + 1,
        detail: "{}".into(),
        ..forged_event.clone()
    };
    sqlx::query(
        "INSERT INTO audit (seq, at, actor, action, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(extra.seq as i64)
    .bind(extra.at.timestamp_micros())
    .bind(&extra.actor)
    .bind(&extra.action)
    .bind(&extra.detail)
    .bind(head.hash.to_hex())
    .bind(chain_hash(&head.hash, &extra, &mut Vec::new()).to_hex())
    .execute(pool)
    .await
    .unwrap();
    let broken = server_verify(&s).await.unwrap_err();
    assert_eq!(broken.seq, head.last_seq + 1);
    assert_eq!(
        broken.kind,
        BreakKind::BeyondHead {
            head: head.last_seq
        }
    );
    sqlx::query("DELETE FROM audit WHERE seq = $1")
        .bind(extra.seq as i64)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(both_intact(&s, &supervisor).await, count);

    // (d) The newest row deleted: the counter still says where the chain must end, and the
    // stated head keeps that number (with the hash of the newest row that is left).
    sqlx::query("DELETE FROM audit WHERE seq = $1")
        .bind(last)
        .execute(pool)
        .await
        .unwrap();
    let broken = both_broken(&s, &supervisor).await;
    assert_eq!(broken.seq, last as u64);
    assert_eq!(
        broken.kind,
        BreakKind::Truncated {
            expected_last: last as u64,
            found_last: last as u64 - 1
        }
    );
    let (_, body) = s
        .call("GET", "/v1/audit/events?limit=1", Some(&supervisor), None)
        .await;
    let page: AuditPage = serde_json::from_value(body).unwrap();
    assert_eq!(page.head.last_seq, last as u64);
    assert_eq!(page.events[0].chained.event.seq, last as u64 - 1);
    assert_eq!(page.head.hash, page.events[0].chained.hash);
}

async fn the_trail_is_for_supervisors_and_its_filters_work(s: Server) {
    let (ann_id, ann) = s.user("ann@acme.example", "agent", &["support"]).await;
    let (_, bob) = s.user("bob@acme.example", "agent", &["risk"]).await;
    let (lead_id, lead) = s.user("lead@acme.example", "supervisor", &[]).await;

    let (status, body) = s.call("GET", "/v1/audit/events", Some(&ann), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, body) = s
        .call("GET", "/v1/audit/events?from=yesterday", Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = s.call("GET", "/v1/audit/events", None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    for (query, hint) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("limit=5001", "5000"),
        ("limit=0", "limit"),
        ("ticket_id=OP-1", "ticket_id"),
        (
            "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
            "before",
        ),
    ] {
        let (status, body) = s
            .call(
                "GET",
                &format!("/v1/audit/events?{query}"),
                Some(&lead),
                None,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{query}: {body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains(hint),
            "{query}: {body}"
        );
    }

    let before_work = all_events(&s, &lead).await;
    // Audit times have millisecond precision, like everything the server stores.
    let start = outpost_server::db::now();
    let (ann_device, bob_device) = (Uuid::now_v7(), Uuid::now_v7());
    let (support_ticket, risk_ticket) = (Uuid::now_v7(), Uuid::now_v7());
    let (_, body) = s
        .push(
            &ann,
            ann_device,
            vec![
                (1, new_ticket(support_ticket, "support")),
                (
                    2,
                    Mutation::SetAssignee {
                        ticket_id: support_ticket,
                        assignee: Some(ann_id),
                    },
                ),
                (
                    3,
                    reply(support_ticket, Uuid::now_v7(), "Private reply text 42"),
                ),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied", "applied"], "{body}");
    let (_, body) = s
        .push(
            &bob,
            bob_device,
            vec![
                (1, new_ticket(risk_ticket, "risk")),
                (2, set_status(risk_ticket, Status::Triaged)),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied"], "{body}");
    let (_, body) = s
        .push(
            &lead,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::RecordView {
                    ticket_id: risk_ticket,
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");

    let everything = all_events(&s, &lead).await;
    let new: Vec<_> = everything[before_work.len()..].to_vec();
    assert_eq!(new.len(), 6, "six pushed mutations, six events");
    for record in &everything {
        assert!(
            !record.chained.event.detail.contains("Private reply text"),
            "reply text never reaches the audit trail"
        );
    }

    let query = |q: String| {
        let s = &s;
        let lead = lead.clone();
        async move {
            let (status, body) = s
                .call("GET", &format!("/v1/audit/events?{q}"), Some(&lead), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{q}: {body}");
            serde_json::from_value::<AuditPage>(body).unwrap()
        }
    };
    let seqs = |page: &AuditPage| -> Vec<u64> {
        page.events.iter().map(|r| r.chained.event.seq).collect()
    };
    let expected = |keep: &dyn Fn(&outpost_core::audit_export::AuditRecord) -> bool| -> Vec<u64> {
        let mut out: Vec<u64> = everything
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.chained.event.seq)
            .collect();
        out.reverse();
        out
    };

    let page = query(format!("actor={ann_id}")).await;
    assert_eq!(
        seqs(&page),
        expected(&|r| r.chained.event.actor == ann_id.to_string())
    );
    assert!(page
        .events
        .iter()
        .any(|r| r.chained.event.action == "ticket.create"));
    let page = query(format!("ticket_id={risk_ticket}")).await;
    assert_eq!(page.events.len(), 3, "create, status, view");
    assert!(page
        .events
        .iter()
        .all(|r| r.chained.event.ticket_id == Some(risk_ticket)));
    let page = query("action=ticket.".into()).await;
    assert_eq!(
        seqs(&page),
        expected(&|r| r.chained.event.action.starts_with("ticket."))
    );
    let page = query("action=ticket.view".into()).await;
    assert_eq!(page.events.len(), 1);
    assert_eq!(
        page.events[0].chained.event.actor,
        lead_id.to_string(),
        "who viewed"
    );
    let page = query("action=session.".into()).await;
    assert!(page.events.len() >= 3, "sign-ins form a family");
    let page = query("department=risk".into()).await;
    assert_eq!(
        seqs(&page),
        expected(&|r| r.department.as_deref() == Some("risk"))
    );
    assert_eq!(page.events.len(), 3);
    for record in &page.events {
        let detail: Value = serde_json::from_str(&record.chained.event.detail).unwrap();
        assert_eq!(detail["department"], "risk", "the hashed detail carries it");
    }
    let page = query(format!("device={bob_device}")).await;
    assert_eq!(page.events.len(), 2);
    let status_change = &page.events[0].chained.event;
    assert_eq!(status_change.action, "ticket.set_status");
    let detail: Value = serde_json::from_str(&status_change.detail).unwrap();
    assert_eq!(detail["changes"][0]["type"], "status_changed");
    assert_eq!(detail["changes"][0]["from"], "new");
    assert_eq!(detail["changes"][0]["to"], "triaged");
    assert_eq!(detail["mutation_id"], 2);

    // Time range: from the start of this work (inclusive) to the view (exclusive).
    let view_at = new.last().unwrap().chained.event.at;
    let range =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let page = query(format!("from={}&to={}", range(start), range(view_at))).await;
    assert_eq!(
        seqs(&page),
        expected(&|r| r.chained.event.at >= start && r.chained.event.at < view_at)
    );
    assert!(page.events.len() >= 5);
    // Combined filters narrow further.
    let page = query(format!("department=support&actor={ann_id}&action=entry.")).await;
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].chained.event.action, "entry.add_reply");

    // Newest first, continued with before_seq, is the ascending listing reversed.
    let mut newest_first = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let q = match before {
            Some(b) => format!("limit=3&before_seq={b}"),
            None => "limit=3".to_owned(),
        };
        let page = query(q).await;
        assert!(page.events.len() <= 3);
        newest_first.extend(seqs(&page));
        before = page.events.last().map(|r| r.chained.event.seq);
        if !page.has_more {
            break;
        }
    }
    let mut ascending: Vec<u64> = all_events(&s, &lead)
        .await
        .iter()
        .map(|r| r.chained.event.seq)
        .collect();
    ascending.reverse();
    assert_eq!(newest_first, ascending);
    assert_eq!(
        all_events(&s, &lead).await.len(),
        everything.len(),
        "reading the trail is not itself audited"
    );
}

async fn redaction_is_for_supervisors_and_removes_the_text_everywhere(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, lead) = s
        .user("lead@acme.example", "supervisor", &["support"])
        .await;
    let ticket = Uuid::now_v7();
    let leaked = Uuid::now_v7();
    let secret = "card 4111-1111-1111-1111 exp 09/29 cvv 123";
    let device = Uuid::now_v7();
    let (_, body) = s
        .push(
            &agent,
            device,
            vec![
                (1, new_ticket(ticket, "support")),
                (
                    2,
                    Mutation::AddNote {
                        entry_id: leaked,
                        ticket_id: ticket,
                        text: secret.into(),
                    },
                ),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied"]);
    let cursor = s.pull_all(&lead).await.cursor;
    if s.db.kind == Kind::Sqlite {
        assert!(
            sqlite_files_contain(&s, b"4111-1111-1111-1111"),
            "the search below finds the text while it is stored"
        );
    }

    let redact = |reason: &str| Mutation::RedactEntry {
        ticket_id: ticket,
        entry_id: leaked,
        reason: reason.into(),
    };
    let (_, body) = s.push(&agent, device, vec![(3, redact("mine"))]).await;
    assert_eq!(body["results"][0]["outcome"], "rejected", "{body}");
    assert_eq!(body["results"][0]["code"], "forbidden");
    assert!(body["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("supervisors"));

    let lead_device = Uuid::now_v7();
    let (_, body) = s
        .push(&lead, lead_device, vec![(1, redact("card data in a note"))])
        .await;
    assert_eq!(outcomes(&body), ["applied"], "{body}");
    let (_, body) = s.push(&lead, lead_device, vec![(2, redact("again"))]).await;
    assert_eq!(body["results"][0]["code"], "invalid", "{body}");

    // The entry comes back in a later pull page, same id, redacted; the text is nowhere.
    let later = raw_pull(&s, &lead, cursor).await;
    let changes: Vec<PullResponse> = later
        .iter()
        .map(|p| serde_json::from_value(p.clone()).unwrap())
        .collect();
    let redacted = changes
        .iter()
        .flat_map(|p| &p.changes)
        .find_map(|c| match &c.kind {
            ChangeKind::Entry(e) if e.id == leaked => Some(e.clone()),
            _ => None,
        })
        .expect("the redacted entry is pulled again");
    let removed = match &redacted.body {
        EntryBody::Redacted {
            original,
            reason,
            removed_sha256,
            ..
        } => {
            assert_eq!(original.as_str(), "note");
            assert_eq!(reason, "card data in a note");
            removed_sha256.clone()
        }
        other => panic!("not redacted: {other:?}"),
    };
    assert_eq!(
        removed,
        EntryBody::Note {
            text: secret.into()
        }
        .content_sha256()
    );
    for token in [&lead, &agent] {
        for page in raw_pull(&s, token, 0).await {
            assert!(!page.to_string().contains("4111"), "{page}");
        }
    }
    let stored: Vec<String> = sqlx::query_scalar("SELECT doc FROM entries")
        .fetch_all(&s.db.pool)
        .await
        .unwrap();
    assert!(stored.iter().all(|d| !d.contains("4111")));

    // The audit event: before = the hash of what was removed, detail names the entry.
    let (_, body) = s
        .call(
            "GET",
            "/v1/audit/events?action=entry.redact",
            Some(&lead),
            None,
        )
        .await;
    let page: AuditPage = serde_json::from_value(body).unwrap();
    assert_eq!(page.events.len(), 1);
    let event = &page.events[0].chained.event;
    assert_eq!(event.before, Some(Hash32::from_hex(&removed).unwrap()));
    let detail: Value = serde_json::from_str(&event.detail).unwrap();
    assert_eq!(detail["entry_id"], leaked.to_string());
    assert_eq!(detail["removed_sha256"], removed);
    assert_eq!(detail["changes"][0]["type"], "entry_redacted");
    assert!(!event.detail.contains("4111"));
    assert_eq!(page.events[0].department.as_deref(), Some("support"));
    outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .expect("the chain still verifies after a redaction");

    if s.db.kind == Kind::Sqlite {
        let on: i64 = sqlx::query_scalar("PRAGMA secure_delete")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
        assert_eq!(on, 1);
        // Nothing of the text is left in the database file or its write-ahead log.
        assert!(
            !sqlite_files_contain(&s, b"4111-1111-1111-1111"),
            "the redacted text lingers in the database files"
        );
    }
}

/// Whether the SQLite database file or its write-ahead log holds `needle` anywhere.
fn sqlite_files_contain(s: &Server, needle: &[u8]) -> bool {
    let path = s.url.trim_start_matches("sqlite://").to_owned();
    [path.clone(), format!("{path}-wal")].iter().any(|file| {
        std::fs::read(file).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

async fn a_view_is_recorded_once_per_pushed_mutation(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, other) = s.user("other@acme.example", "agent", &["risk"]).await;
    let (_, lead) = s.user("lead@acme.example", "supervisor", &[]).await;
    let ticket = Uuid::now_v7();
    let device = Uuid::now_v7();
    let (_, body) = s
        .push(&agent, device, vec![(1, new_ticket(ticket, "support"))])
        .await;
    let revision = body["results"][0]["revision"].as_u64().unwrap();
    let changes_before = s.pull_all(&agent).await.cursor;

    let view = || Mutation::RecordView { ticket_id: ticket };
    let (_, body) = s.push(&agent, device, vec![(2, view()), (3, view())]).await;
    assert_eq!(outcomes(&body), ["applied", "applied"]);
    assert_eq!(body["results"][0]["revision"].as_u64(), Some(revision));
    // A retry of the same mutation is a duplicate, not a second view.
    let (_, body) = s.push(&agent, device, vec![(3, view())]).await;
    assert_eq!(outcomes(&body), ["duplicate"]);
    // A ticket the user cannot see: refused as missing, nothing recorded.
    let (_, body) = s.push(&other, Uuid::now_v7(), vec![(1, view())]).await;
    assert_eq!(body["results"][0]["code"], "ticket_not_found");

    assert_eq!(
        s.pull_all(&agent).await.cursor,
        changes_before,
        "a view writes no ticket and bumps no revision"
    );
    let (_, body) = s
        .call(
            "GET",
            &format!("/v1/audit/events?action=ticket.view&ticket_id={ticket}"),
            Some(&lead),
            None,
        )
        .await;
    let page: AuditPage = serde_json::from_value(body).unwrap();
    assert_eq!(page.events.len(), 2, "one per pushed mutation");
    for record in &page.events {
        let event = &record.chained.event;
        assert_eq!(event.device, Some(device.to_string()));
        assert_eq!(record.department.as_deref(), Some("support"));
        let detail: Value = serde_json::from_str(&event.detail).unwrap();
        assert!(detail["viewed_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .is_ok());
        assert_eq!(detail["department"], "support");
        assert_eq!(detail["revision"].as_u64(), Some(revision));
    }
    let mutation_ids: Vec<u64> = page
        .events
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.chained.event.detail).unwrap()["mutation_id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(mutation_ids, [3, 2], "newest first");
    outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .unwrap();
}

async fn the_status_and_department_events_carry_before_and_after(s: Server) {
    let (agent_id, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, lead) = s.user("lead@acme.example", "supervisor", &[]).await;
    let ticket = Uuid::now_v7();
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![
                (1, new_ticket(ticket, "support")),
                (
                    2,
                    Mutation::SetAssignee {
                        ticket_id: ticket,
                        assignee: Some(agent_id),
                    },
                ),
                (
                    3,
                    Mutation::SetDepartment {
                        ticket_id: ticket,
                        department: Some("risk".into()),
                    },
                ),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied", "applied"]);
    let (_, body) = s
        .call(
            "GET",
            &format!("/v1/audit/events?ticket_id={ticket}"),
            Some(&lead),
            None,
        )
        .await;
    let page: AuditPage = serde_json::from_value(body).unwrap();
    let details: Vec<Value> = page
        .events
        .iter()
        .map(|r| serde_json::from_str(&r.chained.event.detail).unwrap())
        .collect();
    // Newest first: the move to risk, the assignment (which also moved the status), creation.
    assert_eq!(details[0]["department"], "risk");
    assert_eq!(page.events[0].department.as_deref(), Some("risk"));
    assert_eq!(
        details[0]["changes"][0],
        serde_json::json!({"type": "department_changed", "from": "support", "to": "risk"})
    );
    let assigned: Vec<TicketEvent> = serde_json::from_value(details[1]["changes"].clone()).unwrap();
    assert_eq!(
        assigned,
        [
            TicketEvent::AssigneeChanged {
                from: None,
                to: Some(agent_id)
            },
            TicketEvent::StatusChanged {
                from: Status::New,
                to: Status::Assigned,
                reason: None
            }
        ]
    );
    assert_eq!(details[1]["department"], "support");
    assert_eq!(details[2]["changes"][0]["type"], "created");
}

on_both_databases!(
    tampering_is_named_by_the_server_and_by_a_paging_client,
    the_trail_is_for_supervisors_and_its_filters_work,
    redaction_is_for_supervisors_and_removes_the_text_everywhere,
    a_view_is_recorded_once_per_pushed_mutation,
    the_status_and_department_events_carry_before_and_after,
);
