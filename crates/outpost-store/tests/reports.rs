//! Reports from the cache agree with a plain in-memory computation over the same synthetic
//! tickets; the "Revisit due" filter selects exactly the tickets whose revisit clock runs;
//! a cache of schema 3 gets its report facts when migrated; redactions leave no text behind.

mod common;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use common::*;
use outpost_core::model::{Entry, EntryBody, Priority, Ticket, TicketEvent};
use outpost_core::sla::{ClockKind, ClockState, SlaSettings};
use outpost_core::sync::{Change, ChangeKind, Mutation};
use outpost_store::{QueueFilter, QueueSort, ReportParams, Store};
use outpost_synth::{tickets_with_entries, SynthConfig};

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
    data: Vec<(Ticket, Vec<Entry>)>,
    now: DateTime<Utc>,
}

fn fixture() -> Fixture {
    fixture_with(|_, _| {})
}

fn fixture_with(adjust: impl Fn(&mut Vec<(Ticket, Vec<Entry>)>, DateTime<Utc>)) -> Fixture {
    let cfg = SynthConfig {
        tickets: 4_000,
        entries: 12_000,
        ..SynthConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut data: Vec<_> = tickets_with_entries(&cfg).collect();
    adjust(&mut data, cfg.now);
    store.import_tickets(data.clone(), 500, cfg.now).unwrap();
    Fixture {
        dir,
        store,
        data,
        now: cfg.now,
    }
}

/// 1 met, 2 breached, 0 undecided, as the report must count a clock at `now`.
fn clock_outcome(state: ClockState, due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> u8 {
    match state {
        ClockState::Met => 1,
        ClockState::MetLate | ClockState::Breached => 2,
        _ if due.is_some_and(|d| d <= now) => 2,
        _ => 0,
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return None;
    }
    let pos = 0.5 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

#[test]
fn a_report_matches_an_independent_computation() {
    let f = fixture();
    let sla = SlaSettings::defaults();
    let from = f.now - Duration::days(30);
    let to = f.now + Duration::milliseconds(1);
    let params = ReportParams {
        from,
        to,
        departments: Vec::new(),
        assignee: None,
        recurring_days: 30,
        utc_offset_minutes: 480,
    };
    let report = f.store.report(&params, f.now).unwrap();

    let reopened: HashSet<uuid::Uuid> = f
        .data
        .iter()
        .flat_map(|(_, es)| es)
        .filter(|e| {
            matches!(
                e.body,
                EntryBody::Event {
                    event: TicketEvent::Reopened { .. }
                }
            )
        })
        .map(|e| e.ticket_id)
        .collect();
    let cohort: Vec<&Ticket> = f
        .data
        .iter()
        .map(|(t, _)| t)
        .filter(|t| t.created_at >= from && t.created_at < to)
        .collect();
    assert!(
        cohort.len() > 500,
        "the period holds {} tickets",
        cohort.len()
    );
    assert_eq!(report.created, cohort.len() as u64);

    // SLA attainment, overall and per priority.
    let mut met = [0u64; 3];
    let mut breached = [0u64; 3];
    let mut p1 = (0u64, 0u64);
    for t in &cohort {
        let r = sla.evaluate(t, f.now);
        for (i, kind) in [
            ClockKind::FirstResponse,
            ClockKind::PeriodicUpdate,
            ClockKind::Resolution,
        ]
        .iter()
        .enumerate()
        {
            if let Some(c) = r.clocks.iter().find(|c| c.kind == *kind) {
                match clock_outcome(c.state, c.due_at, f.now) {
                    1 => {
                        met[i] += 1;
                        if t.priority == Priority::P1 {
                            p1.0 += 1;
                        }
                    }
                    2 => {
                        breached[i] += 1;
                        if t.priority == Priority::P1 {
                            p1.1 += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let total = &report.sla_total;
    assert_eq!(
        (total.first_response.met, total.first_response.breached),
        (met[0], breached[0])
    );
    assert_eq!(
        (total.update.met, total.update.breached),
        (met[1], breached[1])
    );
    assert_eq!(
        (total.resolution.met, total.resolution.breached),
        (met[2], breached[2])
    );
    assert!(breached.iter().sum::<u64>() > 0 && met.iter().sum::<u64>() > 0);
    let p1_row = report
        .sla_by_priority
        .iter()
        .find(|r| r.key == "P1")
        .unwrap();
    assert_eq!((p1_row.overall.met, p1_row.overall.breached), p1);
    let rate = total.overall.rate.unwrap();
    assert!((0.0..=1.0).contains(&rate));

    // Volumes, top 3 categories.
    let mut categories: HashMap<&str, u64> = HashMap::new();
    for t in &cohort {
        *categories.entry(t.category.as_str()).or_default() += 1;
    }
    for row in &report.by_category {
        assert_eq!(categories[row.key.as_str()], row.count, "{}", row.key);
    }
    assert_eq!(
        report.by_category.iter().filter(|r| r.top).count(),
        3.min(categories.len())
    );
    assert!(report
        .by_category
        .windows(2)
        .all(|w| w[0].count >= w[1].count));
    assert_eq!(
        report.by_channel.iter().map(|r| r.count).sum::<u64>(),
        cohort.len() as u64
    );
    assert_eq!(
        report.by_day.iter().map(|d| d.created).sum::<u64>(),
        cohort.len() as u64
    );

    // Response times.
    let frt: Vec<f64> = cohort
        .iter()
        .filter_map(|t| {
            t.first_response_at
                .map(|a| (a - t.created_at).num_milliseconds() as f64 / 60_000.0)
        })
        .collect();
    assert_eq!(report.first_response.count, frt.len() as u64);
    let expected = median(frt).unwrap();
    assert!((report.first_response.median_minutes.unwrap() - expected).abs() < 1e-6);
    assert!(report.first_response.p90_minutes.unwrap() >= expected);

    // Satisfaction and reopen rate.
    let scores: Vec<u8> = cohort
        .iter()
        .filter_map(|t| t.csat.as_ref().map(|c| c.score))
        .collect();
    assert!(!scores.is_empty());
    assert_eq!(report.csat.responses, scores.len() as u64);
    for s in 1..=5u8 {
        assert_eq!(
            report.csat.distribution[s as usize - 1],
            scores.iter().map(|&x| u64::from(x == s)).sum::<u64>()
        );
    }
    let avg = scores.iter().map(|s| f64::from(*s)).sum::<f64>() / scores.len() as f64;
    assert!((report.csat.average.unwrap() - avg).abs() < 1e-9);
    let resolved_once = cohort
        .iter()
        .filter(|t| t.resolved_at.is_some() || reopened.contains(&t.id))
        .count() as u64;
    let reopened_n = cohort.iter().filter(|t| reopened.contains(&t.id)).count() as u64;
    assert_eq!(report.reopen.resolved, resolved_once);
    assert_eq!(report.reopen.reopened, reopened_n);

    // Backlog: open tickets by age.
    let open = f
        .data
        .iter()
        .filter(|(t, _)| t.status.is_open() && t.created_at < to)
        .count() as u64;
    assert_eq!(
        report.backlog_by_age.iter().map(|r| r.count).sum::<u64>(),
        open
    );

    // Ranking: best first, ranks 1..n.
    let rates: Vec<f64> = report
        .department_ranking
        .iter()
        .map(|r| r.attainment.rate.unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    assert!(report
        .department_ranking
        .iter()
        .enumerate()
        .all(|(i, r)| r.rank == i as u32 + 1));

    // Recurring issues: each run is one account and category, within the window.
    for issue in &report.recurring {
        assert!(issue.count >= 2 && issue.tickets.len() as u64 == issue.count);
        assert!(issue.last_at - issue.first_at <= Duration::days(30 * (issue.count as i64 - 1)));
    }

    // A department scope is a subset.
    let dept = report.department_ranking[0].department.clone();
    let scoped = f
        .store
        .report(
            &ReportParams {
                departments: vec![dept.clone()],
                ..params.clone()
            },
            f.now,
        )
        .unwrap();
    assert_eq!(
        scoped.created,
        cohort
            .iter()
            .filter(|t| t.department.as_deref() == Some(&dept))
            .count() as u64
    );

    // Bad periods are refused with a reason.
    let err = f
        .store
        .report(
            &ReportParams {
                to: from,
                ..params.clone()
            },
            f.now,
        )
        .unwrap_err();
    assert!(err.to_string().contains("must end after"), "{err}");
    for (from, to) in [
        (
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MIN_UTC + Duration::days(3),
        ),
        (
            DateTime::<Utc>::MAX_UTC - Duration::days(3),
            DateTime::<Utc>::MAX_UTC,
        ),
    ] {
        let err = f
            .store
            .report(
                &ReportParams {
                    from,
                    to,
                    ..params.clone()
                },
                f.now,
            )
            .unwrap_err();
        assert!(err.to_string().contains("1970 and 9999"), "{err}");
    }
}

#[test]
fn a_schema_3_cache_gets_its_report_facts_when_it_is_migrated() {
    let f = fixture();
    let params = ReportParams {
        from: f.now - Duration::days(60),
        to: f.now,
        departments: Vec::new(),
        assignee: None,
        recurring_days: 14,
        utc_offset_minutes: 0,
    };
    // The facts are rebuilt at the wall-clock time of the reopening: compare at a later time,
    // where both sets of facts agree on every clock that has run out since.
    let later = DateTime::<Utc>::from(std::time::SystemTime::now()) + Duration::days(1);
    let before = f.store.report(&params, later).unwrap();
    let Fixture { dir, store, .. } = f;
    drop(store);
    {
        let conn = rusqlite::Connection::open(dir.path().join("cache.db")).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
            .unwrap();
        // Back to schema 3: what a cache written by an earlier release looks like (schema 5's
        // outbox and conflicts tables only relax a constraint, so they stay).
        conn.execute_batch(
            "DROP TABLE ticket_facts; DROP TABLE reopened_tickets; DROP INDEX tickets_revisit;
             ALTER TABLE tickets DROP COLUMN revisit_due_at;
             DROP TABLE settings;
             CREATE TABLE sla_settings (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let store = open(&dir);
    let after = store.report(&params, later).unwrap();
    // Compared piece by piece: a whole-report mismatch would print megabytes.
    assert_eq!(after.created, before.created);
    assert_eq!(after.resolved, before.resolved);
    assert_eq!(after.sla_total, before.sla_total);
    assert_eq!(after.sla_by_priority, before.sla_by_priority);
    assert_eq!(after.department_ranking, before.department_ranking);
    assert_eq!(after.by_category, before.by_category);
    assert_eq!(after.csat, before.csat);
    assert_eq!(after.reopen, before.reopen);
    assert_eq!(after.backlog_by_age, before.backlog_by_age);
    assert_eq!(after.recurring, before.recurring);
}

#[test]
fn the_revisit_view_holds_exactly_the_tickets_whose_revisit_is_due() {
    // Five resolved tickets got a low score an hour ago and were reopened for a revisit.
    let f = fixture_with(|data, now| {
        let mut n = 0;
        for (t, _) in data.iter_mut() {
            if n < 5 && t.status == outpost_core::model::Status::Resolved && t.csat.is_none() {
                let at = now - Duration::hours(1);
                t.csat = Some(outpost_core::model::Csat {
                    score: 1,
                    comment: None,
                    at,
                });
                t.status = outpost_core::model::Status::InProgress;
                t.resolved_at = None;
                t.revisit_due_at = Some(at + Duration::hours(24));
                n += 1;
            }
        }
        assert_eq!(n, 5);
    });
    let sla = SlaSettings::defaults();
    let expected: HashSet<uuid::Uuid> = f
        .data
        .iter()
        .map(|(t, _)| t)
        .filter(|t| {
            sla.evaluate(t, f.now)
                .clocks
                .iter()
                .any(|c| c.kind == ClockKind::Revisit && c.state.is_running())
        })
        .map(|t| t.id)
        .collect();
    assert!(expected.len() >= 5, "{} revisits", expected.len());
    let filter = QueueFilter {
        revisit: true,
        ..QueueFilter::default()
    };
    let page = f
        .store
        .queue(&filter, QueueSort::SlaDue, None, 5_000, f.now)
        .unwrap();
    let got: HashSet<uuid::Uuid> = page.rows.iter().map(|r| r.id).collect();
    assert_eq!(got, expected);
    assert!(page.rows.iter().all(|r| r.revisit_due_at.is_some()));
    assert_eq!(
        f.store.count(&filter, f.now).unwrap(),
        expected.len() as u64
    );
}

fn remote(changes: Vec<ChangeKind>) -> Vec<Change> {
    changes
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Change {
            seq: i as u64 + 1,
            kind,
        })
        .collect()
}

#[test]
fn a_redaction_removes_the_text_from_entries_search_and_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let t = now();
    // A ticket with a leaked password in a reply, and an attachment, from the server.
    let created = store
        .apply_local(
            &actor(),
            new_ticket(
                1,
                "Reset request",
                "cannot sign in",
                "support",
                Priority::P2,
            ),
            t,
        )
        .unwrap();
    let mut ticket = created.ticket.clone();
    ticket.revision = 1;
    ticket.key = Some("OP-1".into());
    let reply = Entry {
        id: uuid::Uuid::from_u128(0xE1),
        ticket_id: ticket.id,
        author: Some(actor().user_id),
        body: EntryBody::Reply {
            text: "temporary password zebra7hunter".into(),
        },
        created_at: t,
    };
    store
        .apply_remote(
            &remote(vec![
                ChangeKind::Ticket(Box::new(ticket.clone())),
                ChangeKind::Entry(Box::new(reply.clone())),
            ]),
            t,
        )
        .unwrap();
    store.confirm_through(1, t).unwrap();
    store
        .add_attachment(
            &actor(),
            ticket.id,
            "keys.txt",
            "text/plain",
            b"secret-key-bytes",
            t,
        )
        .unwrap();
    let hits = store.search("zebra7hunter", 10).unwrap();
    assert_eq!(hits.len(), 1);

    // A supervisor redacts it here: gone at once, and still gone after a rebase.
    let change = store
        .apply_local(
            &actor(),
            Mutation::RedactEntry {
                ticket_id: ticket.id,
                entry_id: reply.id,
                reason: "leaked password".into(),
            },
            t + Duration::minutes(1),
        )
        .unwrap();
    assert!(change.entries.iter().any(|e| matches!(
        e.body,
        EntryBody::Event {
            event: TicketEvent::EntryRedacted { .. }
        }
    )));
    let detail = store.ticket(ticket.id, t + Duration::minutes(1)).unwrap();
    let json = serde_json::to_string(&detail).unwrap();
    assert!(!json.contains("zebra7hunter"), "{json}");
    assert!(store.search("zebra7hunter", 10).unwrap().is_empty());
    // An unrelated pull rebases the ticket: the redaction is neither undone nor reported.
    let mut newer = ticket.clone();
    newer.revision = 2;
    newer.priority = Priority::P1;
    store
        .apply_remote(
            &remote(vec![ChangeKind::Ticket(Box::new(newer))]),
            t + Duration::minutes(2),
        )
        .unwrap();
    let detail = store.ticket(ticket.id, t + Duration::minutes(2)).unwrap();
    assert!(!serde_json::to_string(&detail)
        .unwrap()
        .contains("zebra7hunter"));
    assert!(store.sync_problems().unwrap().is_empty());
    assert!(store.blocked_mutations().unwrap().is_empty());

    // The server's redaction of the attachment entry deletes the cached bytes.
    let attachment_entry = detail
        .entries
        .iter()
        .find(|e| matches!(e.body, EntryBody::Attachment { .. }))
        .cloned()
        .unwrap();
    let EntryBody::Attachment { attachment_id, .. } = attachment_entry.body else {
        unreachable!()
    };
    assert!(store.attachment(attachment_id).unwrap().is_some());
    let redacted = Entry {
        body: EntryBody::Redacted {
            original: outpost_core::model::EntryKind::Attachment,
            reason: "private document".into(),
            by: Some(actor().user_id),
            at: t + Duration::minutes(3),
            removed_sha256: attachment_entry.body.content_sha256(),
        },
        ..attachment_entry.clone()
    };
    store
        .apply_remote(
            &remote(vec![ChangeKind::Entry(Box::new(redacted))]),
            t + Duration::minutes(3),
        )
        .unwrap();
    assert!(store.attachment(attachment_id).unwrap().is_none());
    assert!(store.search("keys.txt", 10).unwrap().is_empty());
}

#[test]
fn ticket_keys_are_looked_up_by_id_and_unknown_ids_left_out() {
    let f = fixture();
    let picked: Vec<&Ticket> = f.data.iter().map(|(t, _)| t).take(3).collect();
    let mut ids: Vec<uuid::Uuid> = picked.iter().map(|t| t.id).collect();
    ids.push(uuid::Uuid::from_u128(0xDEAD));
    let keys = f.store.ticket_keys(&ids).unwrap();
    let expected: Vec<(uuid::Uuid, String)> = picked
        .iter()
        .map(|t| (t.id, t.key.clone().expect("synthetic tickets have keys")))
        .collect();
    assert_eq!(keys, expected);
}
