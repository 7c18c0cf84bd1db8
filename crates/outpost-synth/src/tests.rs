use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use outpost_core::model::{
    Category, CustomerTier, EntryBody, LinkKind, Priority, RiskActionKind, RiskLevel, Role, Status,
    TicketEvent, VerificationResult,
};

use super::*;

fn small(seed: u64, tickets: usize, entries: usize) -> SynthConfig {
    SynthConfig {
        seed,
        tickets,
        entries,
        ..SynthConfig::default()
    }
}

fn digest(data: &Dataset) -> u64 {
    let mut h = DefaultHasher::new();
    format!("{data:?}").hash(&mut h);
    h.finish()
}

/// One 5 000-ticket data set shared by the invariant tests.
fn five_thousand() -> &'static Dataset {
    static DATA: std::sync::OnceLock<Dataset> = std::sync::OnceLock::new();
    DATA.get_or_init(|| generate(&small(42, 5_000, 15_000)))
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = generate(&small(7, 300, 900));
    let b = generate(&small(7, 300, 900));
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(a, b);
    let c = generate(&small(8, 300, 900));
    assert_ne!(digest(&a), digest(&c));
}

#[test]
fn streaming_matches_generate_and_users() {
    let cfg = small(3, 200, 700);
    let data = generate(&cfg);
    let streamed: Vec<_> = tickets_with_entries(&cfg).collect();
    assert_eq!(streamed.len(), 200);
    assert_eq!(
        streamed.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
        data.tickets
    );
    assert_eq!(
        streamed
            .into_iter()
            .flat_map(|(_, e)| e)
            .collect::<Vec<_>>(),
        data.entries
    );
    assert_eq!(users(&cfg), data.users);
}

#[test]
fn counts_are_exactly_as_configured() {
    for (tickets, entries) in [(0, 0), (1, 0), (1, 7), (50, 10), (500, 1_500), (300, 6_000)] {
        let data = generate(&small(11, tickets, entries));
        assert_eq!(data.tickets.len(), tickets);
        assert_eq!(
            data.entries.len(),
            entries,
            "{tickets} tickets, {entries} entries"
        );
        assert_eq!(data.departments.len(), 4);
    }
}

#[test]
fn team_has_agents_two_supervisors_and_an_admin() {
    let cfg = SynthConfig::default();
    let users = users(&cfg);
    assert_eq!(users.len(), cfg.agents + 3);
    assert_eq!(
        users.iter().filter(|u| u.role == Role::Agent).count(),
        cfg.agents
    );
    assert_eq!(
        users.iter().filter(|u| u.role == Role::Supervisor).count(),
        2
    );
    assert_eq!(users.iter().filter(|u| u.role == Role::Admin).count(), 1);
    for code in ["support", "finance", "tech", "risk"] {
        assert!(users
            .iter()
            .any(|u| u.role == Role::Agent && u.departments.iter().any(|d| d == code)));
    }
    assert!(users.iter().any(|u| u.name.chars().any(|c| c > '\u{2e80}')));
    assert!(users.iter().any(|u| u.name.is_ascii()));
    assert!(users
        .iter()
        .all(|u| !u.skills.is_empty() || u.role == Role::Admin));
    let emails: HashSet<_> = users.iter().map(|u| &u.email).collect();
    assert_eq!(emails.len(), users.len());
}

#[test]
fn ticket_timestamps_are_consistent() {
    let data = five_thousand();
    let now = SynthConfig::default().now;
    for t in &data.tickets {
        let ctx = || format!("{} {:?}", t.key.as_deref().unwrap_or("?"), t.status);
        assert!(t.created_at < now, "{}", ctx());
        let mut prev = t.created_at;
        if let Some(fr) = t.first_response_at {
            assert!(fr > t.created_at, "{}", ctx());
            prev = fr;
        }
        if let Some(lu) = t.last_update_at {
            assert!(t.first_response_at.is_some_and(|fr| fr <= lu), "{}", ctx());
            prev = lu;
        }
        if let Some(r) = t.resolved_at {
            assert!(r > prev, "{}", ctx());
            prev = r;
        }
        if let Some(c) = t.closed_at {
            assert!(c >= prev && t.resolved_at.is_some(), "{}", ctx());
            prev = c;
        }
        assert!(prev <= now, "{}", ctx());
        assert!(t.updated_at >= prev && t.updated_at <= now, "{}", ctx());
        for p in &t.pauses {
            assert!(
                p.start > t.created_at && p.start <= t.updated_at,
                "{}",
                ctx()
            );
            assert!(
                p.end.is_none_or(|e| e > p.start && e <= t.updated_at),
                "{}",
                ctx()
            );
        }
        if let Some(csat) = &t.csat {
            assert!((1..=5).contains(&csat.score));
            assert!(
                csat.at > t.created_at && csat.at <= t.updated_at,
                "{}",
                ctx()
            );
        }
        match t.status {
            Status::Resolved => assert!(
                t.resolved_at.is_some() && t.closed_at.is_none(),
                "{}",
                ctx()
            ),
            Status::Closed => assert!(t.closed_at.is_some(), "{}", ctx()),
            _ => assert!(
                t.resolved_at.is_none() && t.closed_at.is_none(),
                "{}",
                ctx()
            ),
        }
        if matches!(t.status, Status::New) {
            assert!(
                t.assignee.is_none() && t.department.is_none() && t.first_response_at.is_none()
            );
        }
        if matches!(
            t.status,
            Status::InProgress | Status::Pending | Status::Resolved | Status::Closed
        ) {
            assert!(t.assignee.is_some() && t.department.is_some(), "{}", ctx());
        }
        assert_eq!(t.revision, 1);
        assert!(t.language == "zh-CN" || t.language == "en");
    }
}

#[test]
fn tickets_sorted_with_sequential_keys_and_time_ordered_ids() {
    let data = five_thousand();
    let mut keys = HashSet::new();
    for (i, pair) in data.tickets.windows(2).enumerate() {
        assert!(pair[0].created_at < pair[1].created_at);
        assert!(pair[0].id < pair[1].id, "ids sort by creation time");
        assert_eq!(
            pair[0].key.as_deref(),
            Some(format!("OP-{}", 1000 + i).as_str())
        );
    }
    for t in &data.tickets {
        assert!(keys.insert(t.key.clone().expect("every ticket has a key")));
        assert_eq!(t.id.get_version_num(), 7);
        let (secs, nanos) = t.id.get_timestamp().expect("v7").to_unix();
        assert_eq!(
            secs as i64 * 1000 + i64::from(nanos) / 1_000_000,
            t.created_at.timestamp_millis()
        );
    }
}

#[test]
fn pending_tickets_and_only_they_have_an_open_pause() {
    let data = five_thousand();
    let mut pending = 0;
    let mut closed_spans = 0;
    for t in &data.tickets {
        assert_eq!(t.status == Status::Pending, t.is_paused(), "{:?}", t.key);
        assert!(t.pauses.iter().rev().skip(1).all(|p| p.end.is_some()));
        pending += usize::from(t.status == Status::Pending);
        closed_spans += usize::from(!t.status.is_open() && !t.pauses.is_empty());
    }
    assert!(pending > 0, "some tickets are pending");
    assert!(
        closed_spans > 0,
        "some resolved tickets went through a pause"
    );
}

#[test]
fn entries_are_sorted_inside_the_lifetime_and_by_known_authors() {
    let data = five_thousand();
    let by_ticket: HashMap<_, _> = data.tickets.iter().map(|t| (t.id, t)).collect();
    let user_ids: HashSet<_> = data.users.iter().map(|u| u.id).collect();
    let mut kinds = HashMap::new();
    let mut last: Option<&Entry> = None;
    for e in &data.entries {
        let t = by_ticket[&e.ticket_id];
        assert!(
            e.created_at >= t.created_at && e.created_at <= t.updated_at,
            "{:?}",
            t.key
        );
        assert!(e.author.is_none_or(|a| user_ids.contains(&a)));
        if let Some(prev) = last.filter(|p| p.ticket_id == e.ticket_id) {
            assert!(prev.created_at <= e.created_at);
            assert!(prev.id < e.id);
        }
        let (secs, nanos) = e.id.get_timestamp().expect("v7").to_unix();
        assert_eq!(
            secs as i64 * 1000 + i64::from(nanos) / 1_000_000,
            e.created_at.timestamp_millis()
        );
        *kinds.entry(e.body.kind()).or_insert(0usize) += 1;
        if matches!(e.body, EntryBody::CustomerMessage { .. }) {
            assert!(e.author.is_none());
        }
        if matches!(e.body, EntryBody::Reply { .. } | EntryBody::Note { .. }) {
            assert!(e.author.is_some());
        }
        last = Some(e);
    }
    let ids: HashSet<_> = data.entries.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), data.entries.len());
    for kind in outpost_core::model::EntryKind::ALL {
        if *kind != outpost_core::model::EntryKind::Attachment {
            assert!(
                kinds.get(kind).copied().unwrap_or(0) > 0,
                "no {kind} entries"
            );
        }
    }
}

#[test]
fn status_events_are_legal_transitions_ending_at_the_ticket_status() {
    use outpost_core::status::{check_transition, reopen, TransitionFacts};
    use Status::*;
    // Every synthetic ticket with status events has an assignee by the time work starts.
    let facts = TransitionFacts { has_assignee: true };
    let data = five_thousand();
    let mut timelines: HashMap<_, Vec<_>> = HashMap::new();
    for e in &data.entries {
        timelines.entry(e.ticket_id).or_default().push(e);
    }
    for t in &data.tickets {
        let mut last = None;
        for e in timelines.get(&t.id).into_iter().flatten() {
            match &e.body {
                EntryBody::Event {
                    event: TicketEvent::StatusChanged { from, to, .. },
                } => {
                    assert_eq!(check_transition(*from, *to, facts), Ok(()), "{:?}", t.key);
                    last = Some(*to);
                }
                EntryBody::Event {
                    event: TicketEvent::Reopened { from, to, .. },
                } => {
                    assert_eq!(reopen(*from, facts), Ok(*to), "{:?}", t.key);
                    assert_eq!(*from, Resolved);
                    assert!(t.revisit_due_at.is_some());
                    last = Some(*to);
                }
                _ => {}
            }
        }
        if let Some(last) = last {
            assert_eq!(last, t.status, "{:?}", t.key);
        }
    }
}

#[test]
fn languages_are_mixed_about_55_45_with_code_switching() {
    let data = five_thousand();
    let zh: Vec<_> = data
        .tickets
        .iter()
        .filter(|t| t.language == "zh-CN")
        .collect();
    let share = zh.len() as f64 / data.tickets.len() as f64;
    assert!((0.50..0.60).contains(&share), "zh share {share}");
    assert!(zh
        .iter()
        .all(|t| t.subject.chars().any(|c| c > '\u{2e80}') || t.subject.is_empty()));
    let mixed = zh
        .iter()
        .filter(|t| t.description.contains(" (E") || t.subject.contains("App"))
        .count();
    assert!(
        mixed > zh.len() / 20,
        "Chinese tickets quote English terms and codes: {mixed}"
    );
    let en = data.tickets.iter().filter(|t| t.language == "en").count();
    assert!(en > 0);
}

#[test]
fn subjects_and_descriptions_are_varied() {
    let data = five_thousand();
    let subjects: HashSet<_> = data.tickets.iter().map(|t| &t.subject).collect();
    let descriptions: HashSet<_> = data.tickets.iter().map(|t| &t.description).collect();
    let n = data.tickets.len();
    assert!(
        subjects.len() * 100 >= n * 40,
        "{} distinct subjects in {n}",
        subjects.len()
    );
    assert!(
        descriptions.len() * 100 >= n * 90,
        "{} distinct descriptions",
        descriptions.len()
    );
}

#[test]
fn distributions_look_like_a_real_queue() {
    let data = generate(&small(5, 20_000, 60_000));
    let n = data.tickets.len() as f64;
    let count = |f: &dyn Fn(&Ticket) -> bool| data.tickets.iter().filter(|t| f(t)).count();
    for c in Category::BUILT_IN {
        assert!(count(&|t| t.category == *c) > 0, "no {c} tickets");
    }
    let share = |f: &dyn Fn(&Ticket) -> bool| count(f) as f64 / n;
    let takeover = share(&|t| t.category == Category::ACCOUNT_TAKEOVER);
    assert!(takeover > 0.002 && takeover < 0.02, "takeover {takeover}");
    assert!(share(&|t| t.category == Category::LOGIN_ANOMALY) > 3.0 * takeover);
    let vip = share(&|t| t.requester.tier == CustomerTier::Vip);
    let ent = share(&|t| t.requester.tier == CustomerTier::Enterprise);
    assert!(
        (0.07..0.13).contains(&vip) && (0.03..0.07).contains(&ent),
        "vip {vip} enterprise {ent}"
    );

    let takeovers: Vec<_> = data
        .tickets
        .iter()
        .filter(|t| t.category == Category::ACCOUNT_TAKEOVER)
        .collect();
    let p1 = takeovers
        .iter()
        .filter(|t| t.priority == Priority::P1)
        .count();
    assert!(p1 * 10 >= takeovers.len() * 8);
    assert!(takeovers
        .iter()
        .all(|t| matches!(t.risk, RiskLevel::L1 | RiskLevel::L2)));
    let features: Vec<_> = data
        .tickets
        .iter()
        .filter(|t| t.category == Category::FEATURE_REQUEST)
        .collect();
    assert!(
        features
            .iter()
            .filter(|t| t.priority == Priority::P4)
            .count()
            * 10
            >= features.len() * 7
    );

    // Old tickets are mostly done, the last day's mostly open.
    let now = SynthConfig::default().now;
    let old: Vec<_> = data
        .tickets
        .iter()
        .filter(|t| now - t.created_at > chrono::Duration::days(30))
        .collect();
    let old_done = old.iter().filter(|t| !t.status.is_open()).count();
    assert!(
        old_done * 100 >= old.len() * 95,
        "{old_done} of {} old tickets done",
        old.len()
    );
    let fresh: Vec<_> = data
        .tickets
        .iter()
        .filter(|t| now - t.created_at < chrono::Duration::hours(6))
        .collect();
    assert!(fresh.iter().filter(|t| t.status.is_open()).count() * 2 > fresh.len());
    for s in Status::ALL {
        assert!(count(&|t| t.status == *s) > 0, "no {s} tickets");
    }

    // Departments follow categories.
    for t in &data.tickets {
        if let (Category::FUNDS_NOT_ARRIVED | Category::RECONCILIATION_MISMATCH, Some(d)) =
            (t.category.clone(), &t.department)
        {
            assert_eq!(d, "finance");
        }
        if let (Category::ACCOUNT_TAKEOVER | Category::KYC_REVIEW, Some(d)) =
            (t.category.clone(), &t.department)
        {
            assert_eq!(d, "risk");
        }
    }

    let scores: Vec<u8> = data
        .tickets
        .iter()
        .filter_map(|t| t.csat.as_ref().map(|c| c.score))
        .collect();
    assert!(scores.len() as f64 > n * 0.2);
    let high = scores.iter().filter(|&&s| s >= 4).count();
    let low = scores.iter().filter(|&&s| s <= 2).count();
    assert!(high > scores.len() * 7 / 10 && low > 0);
    assert!(
        count(&|t| t.revisit_due_at.is_some()) > 0,
        "low scores reopen some tickets"
    );
    for tag in ["vip", "refund", "ios", "android", "repeat"] {
        assert!(count(&|t| t.tags.contains(tag)) > 0, "no {tag} tag");
    }
}

#[test]
fn duplicates_point_to_earlier_tickets_and_risk_entries_follow_policy() {
    let data = generate(&small(9, 20_000, 60_000));
    let index: HashMap<_, _> = data
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id, i))
        .collect();
    let mut duplicates = 0;
    for (i, t) in data.tickets.iter().enumerate() {
        for link in &t.links {
            assert!(index[&link.other] < i, "links point back in time");
            duplicates += usize::from(link.kind == LinkKind::DuplicateOf);
        }
    }
    assert!(duplicates > 0);
    let risk: HashMap<_, _> = data.tickets.iter().map(|t| (t.id, t.risk)).collect();
    let mut freezes = 0;
    for e in &data.entries {
        match &e.body {
            EntryBody::Verification { checks } => {
                assert!(matches!(risk[&e.ticket_id], RiskLevel::L1 | RiskLevel::L2));
                assert!(!checks.is_empty());
            }
            EntryBody::RiskAction {
                action,
                target,
                reason,
            } => {
                assert!(matches!(risk[&e.ticket_id], RiskLevel::L1 | RiskLevel::L2));
                assert!(!target.is_empty() && !reason.is_empty());
                freezes += usize::from(*action == RiskActionKind::FreezeAccount);
            }
            _ => {}
        }
    }
    assert!(freezes > 0);
    // An unfreeze follows five or more passed checks in the same ticket.
    let mut passed: HashMap<_, usize> = HashMap::new();
    for e in &data.entries {
        match &e.body {
            EntryBody::Verification { checks } => {
                let n = checks
                    .iter()
                    .filter(|c| c.result == VerificationResult::Passed)
                    .count();
                let best = passed.entry(e.ticket_id).or_default();
                *best = (*best).max(n);
            }
            EntryBody::RiskAction {
                action: RiskActionKind::UnfreezeAccount,
                ..
            } => {
                assert!(passed.get(&e.ticket_id).copied().unwrap_or(0) >= 5);
            }
            _ => {}
        }
    }
}

/// The benchmark-sized default; run with `--release -- --ignored --nocapture` to see its size.
#[test]
#[ignore = "large: run in release"]
fn default_config_has_exact_counts() {
    let cfg = SynthConfig::default();
    let started = std::time::Instant::now();
    let data = generate(&cfg);
    let elapsed = started.elapsed();
    assert_eq!(data.tickets.len(), cfg.tickets);
    assert_eq!(data.entries.len(), cfg.entries);
    println!(
        "generated {} tickets and {} entries in {elapsed:?}",
        data.tickets.len(),
        data.entries.len()
    );
}
