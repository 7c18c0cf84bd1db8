//! Properties of the customer's intents (`customer.message`, `customer.csat`) for every ticket
//! state, score, assignee and time: the low-score reopen, who gets the ticket back, the revisit
//! clock, one rating per ticket, and that only the server may speak for the customer.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use uuid::Uuid;

use super::{apply, last_resolver, ApplyContext, Rejection, REVISIT_AFTER_LOW_SCORE_HOURS};
use crate::model::{
    Category, Channel, Csat, CustomerTier, Entry, EntryBody, Priority, Requester, RiskLevel,
    Status, Ticket, TicketEvent, UserId, LOW_CSAT_SCORE,
};
use crate::rules::VerificationPolicy;
use crate::sync::Mutation;

static POLICY: std::sync::LazyLock<VerificationPolicy> =
    std::sync::LazyLock::new(VerificationPolicy::default);

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 + seconds, 0)
        .single()
        .expect("in range")
}

/// The server acting for the customer (`actor: None`), or a signed-in user.
fn ctx(actor: Option<UserId>, now: DateTime<Utc>, timeline: &[Entry]) -> ApplyContext<'_> {
    ApplyContext {
        actor,
        device_id: Uuid::nil(),
        mutation_id: 7,
        client_time: now,
        now,
        verification: &POLICY,
        timeline,
        directory: None,
    }
}

fn ticket(status: Status, assignee: Option<UserId>, csat: Option<Csat>) -> Ticket {
    let created = at(0);
    Ticket {
        id: Uuid::from_u128(0x0198_0000_0000_7000_8000_0000_0000_0001),
        key: Some("OP-1".into()),
        subject: "退款没有到账".into(),
        description: String::new(),
        requester: Requester {
            name: "Li".into(),
            contact: "li@example.com".into(),
            account_id: None,
            tier: CustomerTier::Standard,
        },
        channel: Channel::WebForm,
        language: "zh-CN".into(),
        category: Category::INQUIRY,
        tags: Default::default(),
        priority: Priority::P3,
        risk: RiskLevel::None,
        status,
        assignee,
        department: Some("support".into()),
        created_at: created,
        updated_at: created,
        first_response_at: Some(created),
        last_update_at: Some(created),
        resolved_at: matches!(status, Status::Resolved | Status::Closed).then_some(created),
        closed_at: (status == Status::Closed).then_some(created),
        revisit_due_at: None,
        pauses: Vec::new(),
        csat,
        links: Vec::new(),
        revision: 3,
    }
}

fn agent() -> impl Strategy<Value = UserId> {
    (1u128..6).prop_map(Uuid::from_u128)
}

fn status() -> impl Strategy<Value = Status> {
    proptest::sample::select(Status::ALL.to_vec())
}

fn rating(ticket: &Ticket, score: u8, return_to: Option<UserId>) -> Mutation {
    Mutation::CustomerRating {
        ticket_id: ticket.id,
        score,
        comment: Some("  慢  ".into()),
        return_to,
    }
}

fn events(entries: &[Entry]) -> Vec<&TicketEvent> {
    entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Event { event } => Some(event),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// A low score reopens: back to whoever holds the ticket, else to `return_to`, else triage;
    /// the revisit is due exactly 24 hours after the rating. A higher score changes nothing but
    /// the rating itself.
    #[test]
    fn a_rating_reopens_exactly_when_the_score_is_low(
        closed in any::<bool>(),
        holder in proptest::option::of(agent()),
        return_to in proptest::option::of(agent()),
        score in 1u8..=5,
        seconds in 1i64..10_000_000,
    ) {
        let status = if closed { Status::Closed } else { Status::Resolved };
        let before = ticket(status, holder, None);
        let now = at(seconds);
        let applied = apply(Some(&before), &rating(&before, score, return_to), &ctx(None, now, &[]))
            .expect("a resolved, unrated ticket takes a rating");
        let after = &applied.ticket;
        prop_assert_eq!(
            after.csat.clone(),
            Some(Csat { score, comment: Some("慢".into()), at: now })
        );
        let events = events(&applied.entries);
        prop_assert_eq!(events[0], &TicketEvent::CsatReceived { score });
        prop_assert!(applied.entries.iter().all(|e| e.author.is_none() && e.created_at == now));
        if score <= LOW_CSAT_SCORE {
            let expected_holder = holder.or(return_to);
            prop_assert_eq!(after.assignee, expected_holder);
            let expected_status = if expected_holder.is_some() { Status::Assigned } else { Status::Triaged };
            prop_assert_eq!(after.status, expected_status);
            prop_assert_eq!(after.revisit_due_at, Some(now + Duration::hours(REVISIT_AFTER_LOW_SCORE_HOURS)));
            prop_assert_eq!(after.revisit_due_at, Some(now + Duration::hours(24)));
            prop_assert_eq!(after.resolved_at, None);
            prop_assert_eq!(after.closed_at, None);
            let reassigned = holder.is_none() && return_to.is_some();
            prop_assert_eq!(
                events.iter().any(|e| matches!(e, TicketEvent::AssigneeChanged { from: None, .. })),
                reassigned
            );
            prop_assert_eq!(
                events.last().copied(),
                Some(&TicketEvent::Reopened {
                    from: status,
                    to: expected_status,
                    reason: Some(format!("CSAT {score}")),
                })
            );
        } else {
            prop_assert_eq!(events.len(), 1);
            prop_assert_eq!(after.status, status);
            prop_assert_eq!(after.assignee, holder);
            prop_assert_eq!(after.revisit_due_at, None);
            prop_assert_eq!(after.resolved_at, before.resolved_at);
        }
    }

    /// One rating per ticket: once rated (also after a low score reopened it and it was resolved
    /// again) every further rating is refused and nothing changes. Only a resolved or closed
    /// ticket can be rated, and only with a score from 1 to 5.
    #[test]
    fn ratings_are_refused_when_rated_already_open_or_out_of_range(
        state in status(),
        rated in any::<bool>(),
        score in any::<u8>(),
        holder in proptest::option::of(agent()),
    ) {
        let earlier = rated.then(|| Csat { score: 1, comment: None, at: at(5) });
        let before = ticket(state, holder, earlier);
        let result = apply(Some(&before), &rating(&before, score, None), &ctx(None, at(60), &[]));
        let acceptable = !rated
            && matches!(state, Status::Resolved | Status::Closed)
            && (1..=5).contains(&score);
        prop_assert_eq!(result.is_ok(), acceptable, "{:?}", result);
        if let Err(rejection) = result {
            let on_score = matches!(&rejection, Rejection::Invalid { field, .. } if field == "score");
            prop_assert!(on_score, "{:?}", rejection);
        }
    }

    /// A low score sends the ticket back to the agent who resolved it when nobody holds it,
    /// found on the timeline; resolving it again does not allow a second rating.
    #[test]
    fn a_low_score_goes_back_to_the_resolver_and_one_rating_is_all(
        resolver in agent(),
        score in 1u8..=LOW_CSAT_SCORE,
        unassign in any::<bool>(),
    ) {
        let mut t = ticket(Status::InProgress, Some(resolver), None);
        t.resolved_at = None;
        let resolve = Mutation::SetStatus { ticket_id: t.id, status: Status::Resolved, reason: None };
        let resolved = apply(Some(&t), &resolve, &ctx(Some(resolver), at(10), &[])).expect("resolves");
        let mut timeline = resolved.entries.clone();
        let mut current = resolved.ticket;
        if unassign {
            let drop = Mutation::SetAssignee { ticket_id: current.id, assignee: None };
            let dropped = apply(Some(&current), &drop, &ctx(Some(resolver), at(20), &timeline)).expect("unassigns");
            timeline.extend(dropped.entries);
            current = dropped.ticket;
        }
        prop_assert_eq!(last_resolver(&timeline), Some(resolver));
        let rate = rating(&current, score, last_resolver(&timeline));
        let reopened = apply(Some(&current), &rate, &ctx(None, at(30), &timeline)).expect("rated");
        prop_assert_eq!(reopened.ticket.assignee, Some(resolver));
        prop_assert_eq!(reopened.ticket.status, Status::Assigned);

        let again = apply(Some(&reopened.ticket), &resolve, &ctx(Some(resolver), at(40), &[])).expect("resolves again");
        let second = rating(&again.ticket, 5, None);
        prop_assert!(apply(Some(&again.ticket), &second, &ctx(None, at(50), &[])).is_err());
    }

    /// A device never speaks for the customer: whatever the ticket, a customer intent with a
    /// signed-in actor is refused as forbidden before anything else is checked.
    #[test]
    fn devices_cannot_send_customer_intents(
        state in status(),
        user in agent(),
        score in any::<u8>(),
        message in any::<bool>(),
    ) {
        let before = ticket(state, Some(user), None);
        let intent = if message {
            Mutation::CustomerMessage { ticket_id: before.id, entry_id: Uuid::from_u128(99), text: "hi".into() }
        } else {
            rating(&before, score, Some(user))
        };
        let result = apply(Some(&before), &intent, &ctx(Some(user), at(60), &[]));
        prop_assert!(matches!(result, Err(Rejection::Forbidden(_))), "{:?}", result);
    }

    /// A customer's message lands on the timeline of any ticket that is not closed, and ends the
    /// wait of a pending ticket someone holds; nothing else about the ticket changes.
    #[test]
    fn a_customer_message_ends_the_wait_and_nothing_else(
        state in status(),
        holder in proptest::option::of(agent()),
        seconds in 1i64..10_000_000,
    ) {
        let before = ticket(state, holder, None);
        let now = at(seconds);
        let entry_id = Uuid::from_u128(42);
        let message = Mutation::CustomerMessage { ticket_id: before.id, entry_id, text: "还没到账".into() };
        let result = apply(Some(&before), &message, &ctx(None, now, &[]));
        if state == Status::Closed {
            prop_assert!(matches!(result, Err(Rejection::Transition(_))));
            return Ok(());
        }
        let applied = result.expect("an open or resolved ticket takes a message");
        prop_assert_eq!(&applied.entries[0].body, &EntryBody::CustomerMessage { text: "还没到账".into() });
        prop_assert_eq!(applied.entries[0].id, entry_id);
        let back_to_work = state == Status::Pending && holder.is_some();
        let expected = if back_to_work { Status::InProgress } else { state };
        prop_assert_eq!(applied.ticket.status, expected);
        prop_assert_eq!(applied.entries.len(), if back_to_work { 2 } else { 1 });
        prop_assert_eq!(applied.ticket.first_response_at, before.first_response_at);
        prop_assert_eq!(applied.ticket.updated_at, now);
    }
}

/// The resolver is the author of the newest move to `resolved`, whatever came after it.
#[test]
fn the_resolver_is_the_latest_author_of_a_resolution() {
    let (first, second) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let event = |author: Option<UserId>, to: Status| Entry {
        id: Uuid::now_v7(),
        ticket_id: Uuid::nil(),
        author,
        body: EntryBody::Event {
            event: TicketEvent::StatusChanged {
                from: Status::InProgress,
                to,
                reason: None,
            },
        },
        created_at: at(0),
    };
    assert_eq!(last_resolver(&[]), None);
    let timeline = [
        event(Some(first), Status::Resolved),
        event(Some(second), Status::Resolved),
        event(Some(first), Status::Closed),
        event(None, Status::Resolved),
    ];
    assert_eq!(last_resolver(&timeline), Some(second));
    assert_eq!(last_resolver(&timeline[..1]), Some(first));
}
