//! Queue pages agree with a plain in-memory evaluation of the same filter and sort, page after
//! page, on a realistic synthetic data set.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use outpost_core::model::{Category, Priority, Status, Ticket};
use outpost_core::sla::SlaSettings;
use outpost_store::{AssigneeFilter, QueueFilter, QueueSort, SlaFilter, Store, StoreError};
use outpost_synth::{tickets_with_entries, SynthConfig};

const PAUSED: i64 = i64::MAX - 1;
const NONE: i64 = i64::MAX;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    tickets: Vec<Ticket>,
    now: DateTime<Utc>,
}

fn fixture() -> Fixture {
    let cfg = SynthConfig {
        tickets: 3_000,
        entries: 9_000,
        ..SynthConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let data: Vec<_> = tickets_with_entries(&cfg).collect();
    let tickets = data.iter().map(|(t, _)| t.clone()).collect();
    store.import_tickets(data, 500, cfg.now).unwrap();
    Fixture {
        _dir: dir,
        store,
        tickets,
        now: cfg.now,
    }
}

/// (due, warn) as the oracle computes them.
fn deadline(sla: &SlaSettings, t: &Ticket, now: DateTime<Utc>) -> (i64, i64) {
    match sla.evaluate(t, now).next_deadline() {
        Some(d) => (
            d.due_at.timestamp_millis(),
            d.warn_at.unwrap_or(d.due_at).timestamp_millis(),
        ),
        None if t.status.is_open() && t.is_paused() => (PAUSED, PAUSED),
        None => (NONE, NONE),
    }
}

fn oracle(f: &Fixture, filter: &QueueFilter, sort: QueueSort) -> Vec<uuid::Uuid> {
    let sla = SlaSettings::defaults();
    let now = f.now.timestamp_millis();
    let mut rows: Vec<(usize, &Ticket, i64, i64)> = f
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (due, warn) = deadline(&sla, t, f.now);
            (i, t, due, warn)
        })
        .filter(|(_, t, due, warn)| {
            (filter.statuses.is_empty() || filter.statuses.contains(&t.status))
                && (filter.priorities.is_empty() || filter.priorities.contains(&t.priority))
                && (filter.departments.is_empty()
                    || t.department
                        .as_ref()
                        .is_some_and(|d| filter.departments.contains(d)))
                && (filter.categories.is_empty() || filter.categories.contains(&t.category))
                && match filter.assignee {
                    AssigneeFilter::Any => true,
                    AssigneeFilter::Unassigned => t.assignee.is_none(),
                    AssigneeFilter::User { id } => t.assignee == Some(id),
                }
                && filter.tag.as_ref().is_none_or(|tag| t.tags.contains(tag))
                && match filter.sla {
                    None => true,
                    Some(SlaFilter::Breached) => *due <= now,
                    Some(SlaFilter::AtRisk) => *warn <= now && *due > now && *due < PAUSED,
                    Some(SlaFilter::OnTrack) => *warn > now && *due < PAUSED,
                    Some(SlaFilter::Paused) => *due == PAUSED,
                }
        })
        .collect();
    match sort {
        QueueSort::SlaDue => rows.sort_by_key(|r| (r.2, r.0)),
        QueueSort::Priority => rows.sort_by_key(|r| (r.1.priority, r.2, r.0)),
        QueueSort::Updated => rows.sort_by_key(|r| std::cmp::Reverse((r.1.updated_at, r.0))),
    }
    rows.into_iter().map(|r| r.1.id).collect()
}

fn paged(f: &Fixture, filter: &QueueFilter, sort: QueueSort, limit: u32) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = f
            .store
            .queue(filter, sort, cursor.as_ref(), limit, f.now)
            .unwrap();
        assert!(page.rows.len() <= limit as usize);
        ids.extend(page.rows.iter().map(|r| r.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    ids
}

#[test]
fn every_filter_and_sort_pages_exactly_like_the_oracle() {
    let f = fixture();
    let agent = f.tickets.iter().find_map(|t| t.assignee).unwrap();
    let open = Status::OPEN.to_vec();
    let filters = vec![
        QueueFilter::default(),
        QueueFilter {
            statuses: open.clone(),
            departments: vec!["support".into()],
            ..Default::default()
        },
        QueueFilter {
            statuses: open.clone(),
            departments: vec!["risk".into(), "finance".into()],
            ..Default::default()
        },
        QueueFilter {
            priorities: vec![Priority::P1],
            ..Default::default()
        },
        QueueFilter {
            assignee: AssigneeFilter::User { id: agent },
            statuses: open.clone(),
            ..Default::default()
        },
        QueueFilter {
            assignee: AssigneeFilter::Unassigned,
            ..Default::default()
        },
        QueueFilter {
            tag: Some("vip".into()),
            ..Default::default()
        },
        QueueFilter {
            categories: vec![Category::LOGIN_ANOMALY, Category::FUNDS_NOT_ARRIVED],
            ..Default::default()
        },
        QueueFilter {
            sla: Some(SlaFilter::Breached),
            ..Default::default()
        },
        QueueFilter {
            sla: Some(SlaFilter::AtRisk),
            ..Default::default()
        },
        QueueFilter {
            sla: Some(SlaFilter::OnTrack),
            statuses: open.clone(),
            ..Default::default()
        },
        QueueFilter {
            sla: Some(SlaFilter::Paused),
            ..Default::default()
        },
        QueueFilter {
            statuses: vec![Status::Pending],
            ..Default::default()
        },
    ];
    let mut nonempty = 0;
    for filter in &filters {
        for sort in [QueueSort::SlaDue, QueueSort::Priority, QueueSort::Updated] {
            let want = oracle(&f, filter, sort);
            nonempty += usize::from(!want.is_empty());
            assert_eq!(paged(&f, filter, sort, 37), want, "{filter:?} {sort:?}");
            assert_eq!(
                f.store.count(filter, f.now).unwrap(),
                want.len() as u64,
                "{filter:?}"
            );
        }
    }
    assert!(
        nonempty >= filters.len() * 3 - 3,
        "the data set exercises almost every filter"
    );
}

#[test]
fn rows_carry_display_fields_and_a_bad_cursor_is_refused() {
    let f = fixture();
    let page = f
        .store
        .queue(&QueueFilter::default(), QueueSort::SlaDue, None, 5, f.now)
        .unwrap();
    let first = &page.rows[0];
    let ticket = f.tickets.iter().find(|t| t.id == first.id).unwrap();
    assert_eq!(first.subject, ticket.subject);
    assert_eq!(first.key, ticket.key);
    assert_eq!(first.requester_name, ticket.requester.name);
    assert!(
        first.sla_due_at.is_some(),
        "the first row has the nearest running deadline"
    );

    let next = page.next.unwrap();
    let err = f
        .store
        .queue(
            &QueueFilter::default(),
            QueueSort::Updated,
            Some(&next),
            5,
            f.now,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::BadCursor));
    let forged = outpost_store::QueueCursor::from_string("due:1;DROP TABLE tickets:2".into());
    assert!(matches!(
        f.store.queue(
            &QueueFilter::default(),
            QueueSort::SlaDue,
            Some(&forged),
            5,
            f.now
        ),
        Err(StoreError::BadCursor)
    ));
}
