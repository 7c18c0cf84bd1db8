//! The store's half of sync: server truth, rebase of queued mutations, confirmations, conflicts,
//! refusals, revocations, re-bootstrap and the bulk initial sync, on a real SQLCipher cache.
//!
//! `Server` is a small in-memory stand-in for the sync server: it applies pushed mutations with
//! the same `outpost_core::apply` (as the real one does), numbers every write with a change
//! sequence and serves pull pages the way the real one does (a ticket at the sequence number
//! of its latest change, each entry at its own).

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use common::*;
use outpost_core::apply::{apply, ApplyContext};
use outpost_core::model::{
    Department, Entry, EntryBody, Priority, Role, Status, Template, Ticket, TicketEvent,
};
use outpost_core::rules::VerificationPolicy;
use outpost_core::settings::{apply_admin, AdminChange, AdminFacts, OrgSettings, SettingsKind};
use outpost_core::sync::{
    Change, ChangeKind, FieldConflict, Mutation, MutationEnvelope, MutationOutcome, MutationResult,
    PullResponse,
};
use outpost_store::{Actor, QueueFilter, QueueSort, Store, StoreError};
use uuid::Uuid;

/// Another agent, working on the server directly.
fn colleague() -> Actor {
    Actor {
        user_id: Uuid::from_u128(0xB2),
        device_id: Uuid::from_u128(0xD2),
    }
}

#[derive(Default)]
struct Server {
    seq: u64,
    tickets: BTreeMap<Uuid, (u64, Ticket)>,
    entries: Vec<(u64, Entry)>,
    revocations: Vec<(u64, Uuid)>,
    /// Tickets this user may no longer see.
    hidden: std::collections::BTreeSet<Uuid>,
    /// Revision at which each ticket's description last changed.
    description_rev: BTreeMap<Uuid, u64>,
    last_mutation: BTreeMap<Uuid, u64>,
    next_key: u64,
    /// The organisation's settings, departments and templates, each at the sequence number of
    /// its latest change.
    settings: Option<OrgSettings>,
    settings_seq: BTreeMap<SettingsKind, u64>,
    departments: BTreeMap<String, (u64, Department)>,
    templates: BTreeMap<Uuid, (u64, Template)>,
}

impl Server {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn apply_one(
        &mut self,
        actor: &Actor,
        envelope: &MutationEnvelope,
        now: DateTime<Utc>,
    ) -> MutationOutcome {
        let Some(id) = envelope.mutation.ticket_id() else {
            return self.apply_admin_intent(actor, envelope, now);
        };
        if self.hidden.contains(&id) {
            return MutationOutcome::Rejected {
                code: outpost_core::error::ErrorCode::TicketNotFound,
                reason: "the ticket does not exist or is not visible to you".into(),
            };
        }
        let before = self.tickets.get(&id).map(|(_, t)| t.clone());
        let timeline: Vec<Entry> = self
            .entries
            .iter()
            .filter(|(_, e)| e.ticket_id == id)
            .map(|(_, e)| e.clone())
            .collect();
        let policy = VerificationPolicy::default();
        let ctx = ApplyContext {
            actor: Some(actor.user_id),
            device_id: actor.device_id,
            mutation_id: envelope.mutation_id,
            client_time: envelope.client_time,
            now,
            verification: &policy,
            timeline: &timeline,
            directory: None,
        };
        let applied = match apply(before.as_ref(), &envelope.mutation, &ctx) {
            Ok(applied) => applied,
            Err(refusal) => {
                return MutationOutcome::Rejected {
                    code: refusal.code(),
                    reason: refusal.to_string(),
                }
            }
        };
        let (mut ticket, mut entries, mut conflicts) = (applied.ticket, applied.entries, vec![]);
        // Long text: a description edited concurrently keeps the server's, this device's
        // version becomes a note, and the device is told (as the real server does).
        if let (Mutation::SetDescription { description, .. }, Some(current), Some(base)) =
            (&envelope.mutation, &before, envelope.base_revision)
        {
            if self.description_rev.get(&id).copied().unwrap_or(0) > base
                && current.description != *description
            {
                ticket = current.clone();
                ticket.updated_at = now;
                entries = vec![Entry {
                    id: Uuid::now_v7(),
                    ticket_id: id,
                    author: Some(actor.user_id),
                    body: EntryBody::Note {
                        text: format!("Conflicting edit (kept here): {description}"),
                    },
                    created_at: now,
                }];
                conflicts.push(FieldConflict {
                    field: "description".into(),
                    yours: description.clone().into(),
                    winner: current.description.clone().into(),
                    changed_by: Some(colleague().user_id),
                    changed_at: Some(current.updated_at),
                });
            }
        }
        if ticket.key.is_none() {
            self.next_key += 1;
            ticket.key = Some(format!("OP-{}", 1000 + self.next_key));
        }
        ticket.revision = before.as_ref().map_or(0, |t| t.revision) + 1;
        if before
            .as_ref()
            .is_none_or(|b| b.description != ticket.description)
        {
            self.description_rev.insert(id, ticket.revision);
        }
        let revision = ticket.revision;
        let seq = self.next();
        self.tickets.insert(id, (seq, ticket));
        for entry in entries {
            let seq = self.next();
            self.entries.push((seq, entry));
        }
        if conflicts.is_empty() {
            MutationOutcome::Applied { revision }
        } else {
            MutationOutcome::Conflict {
                revision,
                fields: conflicts,
            }
        }
    }

    /// A push from a device: ordered, idempotent, as the real server.
    fn push(
        &mut self,
        actor: &Actor,
        batch: &[MutationEnvelope],
        now: DateTime<Utc>,
    ) -> Vec<MutationResult> {
        batch
            .iter()
            .map(|envelope| {
                let last = self
                    .last_mutation
                    .get(&actor.device_id)
                    .copied()
                    .unwrap_or(0);
                let outcome = if envelope.mutation_id <= last {
                    MutationOutcome::Duplicate
                } else {
                    self.last_mutation
                        .insert(actor.device_id, envelope.mutation_id);
                    self.apply_one(actor, envelope, now)
                };
                MutationResult {
                    mutation_id: envelope.mutation_id,
                    outcome,
                }
            })
            .collect()
    }

    /// Another agent's change, made on the server.
    fn edit(&mut self, mutation: Mutation, now: DateTime<Utc>) {
        let who = colleague();
        let id = self.last_mutation.get(&who.device_id).copied().unwrap_or(0) + 1;
        let results = self.push(
            &who,
            &[MutationEnvelope {
                mutation_id: id,
                client_time: now,
                base_revision: None,
                mutation,
            }],
            now,
        );
        assert!(
            matches!(results[0].outcome, MutationOutcome::Applied { .. }),
            "{results:?}"
        );
    }

    /// An admin intent, applied with the same `apply_admin` as the real server.
    fn apply_admin_intent(
        &mut self,
        actor: &Actor,
        envelope: &MutationEnvelope,
        now: DateTime<Utc>,
    ) -> MutationOutcome {
        let settings = self
            .settings
            .get_or_insert_with(OrgSettings::defaults)
            .clone();
        let departments: Vec<Department> =
            self.departments.values().map(|(_, d)| d.clone()).collect();
        let templates: Vec<Template> = self.templates.values().map(|(_, t)| t.clone()).collect();
        let facts = AdminFacts {
            settings: &settings,
            departments: &departments,
            templates: &templates,
        };
        let applied = match apply_admin(
            &facts,
            &envelope.mutation,
            Some(actor.user_id),
            Some(Role::Admin),
            now,
        ) {
            Ok(applied) => applied,
            Err(refusal) => {
                return MutationOutcome::Rejected {
                    code: refusal.code(),
                    reason: refusal.to_string(),
                }
            }
        };
        let seq = self.next();
        let revision = match applied.change {
            AdminChange::Settings(doc) => {
                let version = doc.version;
                self.settings_seq.insert(doc.settings.kind(), seq);
                self.settings
                    .get_or_insert_with(OrgSettings::defaults)
                    .put(doc);
                version
            }
            AdminChange::Department(d) => {
                self.departments.insert(d.code.clone(), (seq, d));
                seq
            }
            AdminChange::Template(t) => {
                self.templates.insert(t.id, (seq, t));
                seq
            }
        };
        MutationOutcome::Applied { revision }
    }

    fn revoke(&mut self, id: Uuid) {
        self.hidden.insert(id);
        let seq = self.next();
        self.revocations.push((seq, id));
    }

    /// Changes after `cursor` in sequence order, at most `limit` per page.
    fn pull(&self, device: Uuid, cursor: u64, limit: usize) -> PullResponse {
        let mut changes: Vec<Change> = Vec::new();
        for (seq, ticket) in self
            .tickets
            .values()
            .filter(|(_, t)| !self.hidden.contains(&t.id))
        {
            changes.push(Change {
                seq: *seq,
                kind: ChangeKind::Ticket(Box::new(ticket.clone())),
            });
        }
        for (seq, entry) in self
            .entries
            .iter()
            .filter(|(_, e)| !self.hidden.contains(&e.ticket_id))
        {
            changes.push(Change {
                seq: *seq,
                kind: ChangeKind::Entry(Box::new(entry.clone())),
            });
        }
        for (seq, ticket_id) in &self.revocations {
            changes.push(Change {
                seq: *seq,
                kind: ChangeKind::Revoke {
                    ticket_id: *ticket_id,
                },
            });
        }
        for (kind, seq) in &self.settings_seq {
            let settings = self
                .settings
                .as_ref()
                .expect("a sequence number means a document");
            changes.push(Change {
                seq: *seq,
                kind: ChangeKind::Settings(settings.get(*kind).clone()),
            });
        }
        for (seq, department) in self.departments.values() {
            changes.push(Change {
                seq: *seq,
                kind: ChangeKind::Department(department.clone()),
            });
        }
        for (seq, template) in self.templates.values() {
            changes.push(Change {
                seq: *seq,
                kind: ChangeKind::Template(template.clone()),
            });
        }
        changes.retain(|c| c.seq > cursor);
        changes.sort_by_key(|c| c.seq);
        let has_more = changes.len() > limit;
        changes.truncate(limit);
        let next = match changes.last() {
            Some(c) if has_more => c.seq,
            _ => self.seq.max(cursor),
        };
        PullResponse {
            changes,
            cursor: next,
            has_more,
            last_mutation_id: self.last_mutation.get(&device).copied().unwrap_or(0),
            reset_required: false,
        }
    }
}

/// Pulls until caught up, one page per call.
fn sync_down(store: &mut Store, server: &Server, now: DateTime<Utc>) {
    loop {
        let page = server.pull(actor().device_id, store.sync_cursor().unwrap(), 50);
        let more = page.has_more;
        store.apply_pull(&page, now).unwrap();
        if !more {
            break;
        }
    }
}

/// Pushes everything queued and records the answers.
fn sync_up(store: &mut Store, server: &mut Server, now: DateTime<Utc>) -> Vec<MutationResult> {
    let batch = store.pending_batch(500).unwrap();
    let results = server.push(&actor(), &batch, now);
    store.record_push_results(&results, now).unwrap();
    results
}

fn later(minutes: i64) -> DateTime<Utc> {
    now() + Duration::minutes(minutes)
}

/// A server holding ticket `n` (created by the colleague), and a cache that pulled it.
fn seeded(dir: &tempfile::TempDir, n: &[u128]) -> (Store, Server) {
    let mut server = Server::default();
    for &n in n {
        server.edit(
            new_ticket(
                n,
                &format!("登录失败 ticket {n}"),
                "cannot log in",
                "support",
                Priority::P3,
            ),
            now(),
        );
    }
    let mut store = open(dir);
    sync_down(&mut store, &server, now());
    (store, server)
}

fn replies(store: &Store, id: Uuid) -> Vec<Entry> {
    store
        .ticket(id, later(60))
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| matches!(e.body, EntryBody::Reply { .. }))
        .collect()
}

#[test]
fn a_pull_page_is_applied_and_queued_mutations_are_reapplied_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1]);
    let id = ticket_id(1);
    assert_eq!(store.ticket(id, now()).unwrap().ticket.revision, 1);

    store
        .apply_local(
            &actor(),
            Mutation::SetPriority {
                ticket_id: id,
                priority: Priority::P1,
            },
            later(1),
        )
        .unwrap();
    // Meanwhile on the server: a colleague tags the ticket and takes it.
    server.edit(
        Mutation::AddTag {
            ticket_id: id,
            tag: "vip".into(),
        },
        later(2),
    );
    server.edit(
        Mutation::SetAssignee {
            ticket_id: id,
            assignee: Some(colleague().user_id),
        },
        later(3),
    );
    let page = server.pull(actor().device_id, store.sync_cursor().unwrap(), 100);
    let applied = store.apply_pull(&page, later(4)).unwrap();
    assert_eq!(applied.changed, vec![id]);
    assert_eq!(applied.cursor, page.cursor);
    assert_eq!(store.sync_cursor().unwrap(), page.cursor);

    let detail = store.ticket(id, later(4)).unwrap();
    // Server truth …
    assert_eq!(detail.ticket.revision, 3);
    assert!(detail.ticket.tags.contains("vip"));
    assert_eq!(detail.ticket.assignee, Some(colleague().user_id));
    assert_eq!(detail.ticket.status, Status::Assigned);
    // … with the queued change on top, still queued.
    assert_eq!(detail.ticket.priority, Priority::P1);
    assert_eq!(detail.unsent, 1);
    assert_eq!(store.outbox_len().unwrap(), 1);
    let events: Vec<&TicketEvent> = detail
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Event { event } => Some(event),
            _ => None,
        })
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, TicketEvent::PriorityChanged { .. }))
            .count(),
        1
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, TicketEvent::TagAdded { tag } if tag == "vip")));
    // The queue shows the derived row too.
    let page = store
        .queue(
            &QueueFilter::default(),
            QueueSort::Priority,
            None,
            10,
            later(4),
        )
        .unwrap();
    assert_eq!(page.rows[0].priority, Priority::P1);
    assert_eq!(page.rows[0].unsent, 1);
}

#[test]
fn confirmation_drops_the_outbox_and_server_entries_replace_optimistic_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1]);
    let id = ticket_id(1);
    let reply = Uuid::from_u128(0x7777);
    store
        .apply_local(
            &actor(),
            Mutation::SetAssignee {
                ticket_id: id,
                assignee: Some(actor().user_id),
            },
            later(1),
        )
        .unwrap();
    store
        .apply_local(
            &actor(),
            Mutation::AddReply {
                entry_id: reply,
                ticket_id: id,
                text: "您好,已为您重置密码".into(),
            },
            later(2),
        )
        .unwrap();
    let before_push = store.ticket(id, later(3)).unwrap();
    assert_eq!(before_push.unsent, 2);

    let results = sync_up(&mut store, &mut server, later(3));
    assert!(results
        .iter()
        .all(|r| matches!(r.outcome, MutationOutcome::Applied { .. })));
    // Confirmed: nothing left to push, and the change stays visible until the pull.
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert!(store.pending_batch(10).unwrap().is_empty());
    let between = store.ticket(id, later(3)).unwrap();
    assert_eq!(between.unsent, 0);
    assert_eq!(between.ticket.status, Status::Assigned);
    assert_eq!(replies(&store, id).len(), 1);

    sync_down(&mut store, &server, later(4));
    let after = store.ticket(id, later(4)).unwrap();
    let truth = &server.tickets[&id].1;
    assert_eq!(&after.ticket, truth);
    // One reply, and every event once: the server's copies replaced the optimistic ones.
    let server_entries: Vec<Uuid> = server
        .entries
        .iter()
        .filter(|(_, e)| e.ticket_id == id)
        .map(|(_, e)| e.id)
        .collect();
    let mut cached: Vec<Uuid> = after.entries.iter().map(|e| e.id).collect();
    let mut expected = server_entries.clone();
    cached.sort();
    expected.sort();
    assert_eq!(cached, expected);
    assert_eq!(replies(&store, id).len(), 1);
    assert_eq!(replies(&store, id)[0].id, reply);

    // The ticket is plain truth again: a colleague's later change shows as is.
    server.edit(
        Mutation::SetPriority {
            ticket_id: id,
            priority: Priority::P4,
        },
        later(5),
    );
    sync_down(&mut store, &server, later(6));
    assert_eq!(
        store.ticket(id, later(6)).unwrap().ticket,
        server.tickets[&id].1
    );
}

#[test]
fn a_pull_confirms_through_last_mutation_id_when_the_push_answer_was_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1]);
    let id = ticket_id(1);
    store
        .apply_local(
            &actor(),
            Mutation::AddTag {
                ticket_id: id,
                tag: "refund".into(),
            },
            later(1),
        )
        .unwrap();
    // The push reached the server but its answer was lost.
    let batch = store.pending_batch(10).unwrap();
    server.push(&actor(), &batch, later(2));
    assert_eq!(store.outbox_len().unwrap(), 1);
    sync_down(&mut store, &server, later(3));
    assert_eq!(store.outbox_len().unwrap(), 0);
    let detail = store.ticket(id, later(3)).unwrap();
    assert_eq!(detail.ticket, server.tickets[&id].1);
    assert_eq!(detail.unsent, 0);
    // A retried push is answered "duplicate" and changes nothing.
    let recorded = store
        .record_push_results(
            &[MutationResult {
                mutation_id: batch[0].mutation_id,
                outcome: MutationOutcome::Duplicate,
            }],
            later(4),
        )
        .unwrap();
    assert_eq!(recorded.confirmed, 0);
    assert_eq!(
        store.ticket(id, later(4)).unwrap().ticket,
        server.tickets[&id].1
    );
}

#[test]
fn a_conflict_is_recorded_with_both_values_and_can_be_reapplied_or_dismissed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1, 2]);
    for n in [1, 2] {
        store
            .apply_local(
                &actor(),
                Mutation::SetDescription {
                    ticket_id: ticket_id(n),
                    description: format!("mine {n}"),
                },
                later(1),
            )
            .unwrap();
        server.edit(
            Mutation::SetDescription {
                ticket_id: ticket_id(n),
                description: format!("theirs {n}"),
            },
            later(2),
        );
    }
    let results = sync_up(&mut store, &mut server, later(3));
    assert!(results
        .iter()
        .all(|r| matches!(r.outcome, MutationOutcome::Conflict { .. })));
    assert_eq!(store.outbox_len().unwrap(), 0);

    // The same answers recorded again change nothing.
    let again = store.record_push_results(&results, later(3)).unwrap();
    assert_eq!((again.confirmed, again.conflicts), (0, 0));
    let conflicts = store.conflicts().unwrap();
    assert_eq!(conflicts.len(), 2);
    let c = &conflicts[0];
    assert_eq!(c.ticket_id, ticket_id(1));
    assert_eq!(c.field, "description");
    assert_eq!(c.yours, serde_json::json!("mine 1"));
    assert_eq!(c.winner, serde_json::json!("theirs 1"));
    assert_eq!(c.changed_by, Some(colleague().user_id));
    assert!(c.changed_at.is_some());
    assert_eq!(c.recorded_at, later(3));
    assert!(matches!(c.mutation, Mutation::SetDescription { .. }));

    // After the pull the winner shows, and the losing text is kept as a note.
    sync_down(&mut store, &server, later(4));
    let detail = store.ticket(ticket_id(1), later(4)).unwrap();
    assert_eq!(detail.ticket.description, "theirs 1");
    assert!(detail
        .entries
        .iter()
        .any(|e| matches!(&e.body, EntryBody::Note { text } if text.contains("mine 1"))));

    // Re-apply the first: a new mutation (new id, outbox row, audit event) that sets my value.
    let audit_before = store.verify_audit().unwrap().unwrap().count;
    let last_id = store.audit_events(0, 1000).unwrap().len() as u64;
    let change = store.reapply(c.id, &actor(), later(5)).unwrap();
    assert!(change.mutation_id > last_id);
    assert_eq!(change.ticket.description, "mine 1");
    let outbox = store.outbox(10).unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].envelope.mutation_id, change.mutation_id);
    assert_eq!(
        outbox[0].envelope.mutation,
        Mutation::SetDescription {
            ticket_id: ticket_id(1),
            description: "mine 1".into()
        }
    );
    assert_eq!(
        store.verify_audit().unwrap().unwrap().count,
        audit_before + 1
    );
    // Dismiss the second; both are closed now.
    store.dismiss(conflicts[1].id).unwrap();
    assert!(store.conflicts().unwrap().is_empty());
    assert!(matches!(
        store.dismiss(conflicts[1].id),
        Err(StoreError::RecordNotFound(_))
    ));
    assert!(matches!(
        store.reapply(c.id, &actor(), later(6)),
        Err(StoreError::RecordNotFound(_))
    ));
    // The re-applied change now wins on the server (its base is current).
    let results = sync_up(&mut store, &mut server, later(7));
    assert!(matches!(
        results[0].outcome,
        MutationOutcome::Applied { .. }
    ));
    sync_down(&mut store, &server, later(8));
    assert_eq!(
        store
            .ticket(ticket_id(1), later(8))
            .unwrap()
            .ticket
            .description,
        "mine 1"
    );
}

#[test]
fn a_refused_mutation_is_rolled_back_with_its_reply_and_listed_as_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1]);
    let id = ticket_id(1);
    let reply = Uuid::from_u128(0x8888);
    store
        .apply_local(
            &actor(),
            Mutation::AddReply {
                entry_id: reply,
                ticket_id: id,
                text: "马上处理".into(),
            },
            later(1),
        )
        .unwrap();
    store
        .apply_local(
            &actor(),
            Mutation::AddTag {
                ticket_id: id,
                tag: "callback".into(),
            },
            later(2),
        )
        .unwrap();
    assert_eq!(replies(&store, id).len(), 1);
    assert_eq!(store.search("马上处理", 10).unwrap().len(), 1);
    // Meanwhile the ticket was closed on the server: a reply is no longer allowed.
    for status in [Status::Triaged, Status::Resolved, Status::Closed] {
        server.edit(
            Mutation::SetStatus {
                ticket_id: id,
                status,
                reason: None,
            },
            later(3),
        );
    }
    let recorded = {
        let batch = store.pending_batch(10).unwrap();
        let results = server.push(&actor(), &batch, later(4));
        store.record_push_results(&results, later(4)).unwrap()
    };
    assert_eq!(recorded.rejected, vec![1]);
    assert_eq!(recorded.confirmed, 1);
    assert_eq!(recorded.changed, vec![id]);

    // The reply is gone (row, timeline, search); the later tag change stays.
    assert!(replies(&store, id).is_empty());
    assert!(store.search("马上处理", 10).unwrap().is_empty());
    let detail = store.ticket(id, later(4)).unwrap();
    assert!(detail.ticket.tags.contains("callback"));
    assert!(detail.ticket.first_response_at.is_none());
    assert_eq!(store.outbox_len().unwrap(), 0);

    let problems = store.sync_problems().unwrap();
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!((p.ticket_id, p.mutation_id), (Some(id), 1));
    assert_eq!(p.code, outpost_core::error::ErrorCode::IllegalTransition);
    assert!(!p.reason.is_empty());
    assert_eq!(p.made_at, later(1));
    assert!(matches!(p.mutation, Mutation::AddReply { entry_id, .. } if entry_id == reply));

    // Re-applying is refused while the ticket is closed, and the problem stays listed.
    sync_down(&mut store, &server, later(5));
    assert_eq!(
        store.ticket(id, later(5)).unwrap().ticket.status,
        Status::Closed
    );
    let outbox_before = store.outbox_len().unwrap();
    assert!(matches!(
        store.reapply(p.id, &actor(), later(6)),
        Err(StoreError::Rejected(_))
    ));
    assert_eq!(store.sync_problems().unwrap().len(), 1);
    assert_eq!(store.outbox_len().unwrap(), outbox_before);
    // Once reopened, it can be re-applied as a new mutation.
    server.edit(
        Mutation::Reopen {
            ticket_id: id,
            reason: None,
        },
        later(7),
    );
    sync_down(&mut store, &server, later(8));
    let change = store.reapply(p.id, &actor(), later(9)).unwrap();
    assert_eq!(change.mutation_id, 3);
    assert!(store.sync_problems().unwrap().is_empty());
    assert_eq!(replies(&store, id).len(), 1);
    assert_eq!(store.outbox(10).unwrap()[0].envelope.mutation_id, 3);
}

#[test]
fn a_mutation_that_no_longer_applies_stays_queued_and_the_view_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1]);
    let id = ticket_id(1);
    store
        .apply_local(
            &actor(),
            Mutation::SetStatus {
                ticket_id: id,
                status: Status::Triaged,
                reason: None,
            },
            later(1),
        )
        .unwrap();
    server.edit(
        Mutation::SetStatus {
            ticket_id: id,
            status: Status::Triaged,
            reason: None,
        },
        later(2),
    );
    server.edit(
        Mutation::SetStatus {
            ticket_id: id,
            status: Status::Resolved,
            reason: None,
        },
        later(3),
    );
    let page = server.pull(actor().device_id, store.sync_cursor().unwrap(), 100);
    let applied = store.apply_pull(&page, later(4)).unwrap();
    assert_eq!(applied.blocked, vec![1]);
    let detail = store.ticket(id, later(4)).unwrap();
    assert_eq!(detail.ticket, server.tickets[&id].1);
    assert_eq!(detail.unsent, 1);
    let outbox = store.outbox(10).unwrap();
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0]
        .local_error
        .as_deref()
        .is_some_and(|e| e.starts_with("illegal_transition")));
    assert_eq!(store.blocked_mutations().unwrap().len(), 1);
}

#[test]
fn a_revocation_purges_the_ticket_but_keeps_other_queued_work() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1, 2]);
    let (gone, kept) = (ticket_id(1), ticket_id(2));
    server.edit(
        Mutation::AddNote {
            entry_id: Uuid::from_u128(0x4001),
            ticket_id: gone,
            text: "独特词汇 zebracorn".into(),
        },
        later(1),
    );
    sync_down(&mut store, &server, later(1));
    assert_eq!(store.search("zebracorn", 10).unwrap().len(), 1);
    let attachment = store
        .add_attachment(&actor(), gone, "scan.png", "image/png", b"png", later(2))
        .unwrap();
    store
        .apply_local(
            &actor(),
            Mutation::AddNote {
                entry_id: Uuid::from_u128(0x4002),
                ticket_id: kept,
                text: "keep me".into(),
            },
            later(2),
        )
        .unwrap();
    let attachment_id = match &attachment.entries[0].body {
        EntryBody::Attachment { attachment_id, .. } => *attachment_id,
        other => panic!("{other:?}"),
    };

    server.revoke(gone);
    let page = server.pull(actor().device_id, store.sync_cursor().unwrap(), 100);
    let applied = store.apply_pull(&page, later(3)).unwrap();
    assert_eq!(applied.revoked, vec![gone]);
    assert!(!applied.changed.contains(&gone));
    assert!(matches!(
        store.ticket(gone, later(3)),
        Err(StoreError::TicketNotFound(_))
    ));
    assert!(store.search("zebracorn", 10).unwrap().is_empty());
    assert!(store.search("独特词汇", 10).unwrap().is_empty());
    assert_eq!(store.ticket_count().unwrap(), 1);
    // The other ticket's queued note is untouched; the revoked ticket's upload is still queued
    // (the server judges it) and keeps its bytes for that.
    let names: Vec<(Uuid, &str)> = store
        .outbox(10)
        .unwrap()
        .iter()
        .map(|o| {
            let ticket = o.envelope.mutation.ticket_id().unwrap();
            (ticket, o.envelope.mutation.name())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        names,
        [(gone, "entry.add_attachment"), (kept, "entry.add_note")]
    );
    assert_eq!(
        store.attachment(attachment_id).unwrap().as_deref(),
        Some(&b"png"[..])
    );
    let detail = store.ticket(kept, later(3)).unwrap();
    assert_eq!(detail.unsent, 1);
    assert!(detail
        .entries
        .iter()
        .any(|e| matches!(&e.body, EntryBody::Note { text } if text == "keep me")));

    // The server refuses the upload (not visible); dismissing the problem frees the bytes.
    sync_up(&mut store, &mut server, later(4));
    let problems = store.sync_problems().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].code,
        outpost_core::error::ErrorCode::TicketNotFound
    );
    assert!(store.attachment(attachment_id).unwrap().is_some());
    store.dismiss(problems[0].id).unwrap();
    assert!(store.attachment(attachment_id).unwrap().is_none());
}

#[test]
fn a_reset_keeps_the_outbox_and_reapplies_it_after_the_full_pull() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1, 2]);
    // A conflict record from before the reset survives it.
    store
        .apply_local(
            &actor(),
            Mutation::SetDescription {
                ticket_id: ticket_id(2),
                description: "mine".into(),
            },
            later(1),
        )
        .unwrap();
    server.edit(
        Mutation::SetDescription {
            ticket_id: ticket_id(2),
            description: "theirs".into(),
        },
        later(1),
    );
    let results = sync_up(&mut store, &mut server, later(2));
    assert!(matches!(
        results[0].outcome,
        MutationOutcome::Conflict { .. }
    ));
    // Two changes still queued: one on a server ticket, one ticket created offline.
    store
        .apply_local(
            &actor(),
            Mutation::SetPriority {
                ticket_id: ticket_id(1),
                priority: Priority::P1,
            },
            later(3),
        )
        .unwrap();
    store
        .apply_local(
            &actor(),
            new_ticket(
                3,
                "本地新建 offline ticket",
                "made offline",
                "support",
                Priority::P2,
            ),
            later(4),
        )
        .unwrap();
    assert_eq!(store.outbox_len().unwrap(), 2);
    assert_eq!(store.conflicts().unwrap().len(), 1);

    let reset = store
        .apply_pull(
            &PullResponse {
                changes: vec![],
                cursor: 0,
                has_more: true,
                last_mutation_id: 0,
                reset_required: true,
            },
            later(5),
        )
        .unwrap();
    assert!(reset.reset);
    assert_eq!(store.sync_cursor().unwrap(), 0);
    // Only the ticket created offline remains; server rows are gone; nothing queued is lost.
    assert_eq!(store.ticket_count().unwrap(), 1);
    assert!(store.ticket(ticket_id(3), later(5)).is_ok());
    assert!(store.ticket(ticket_id(1), later(5)).is_err());
    assert!(store.search("登录失败", 10).unwrap().is_empty());
    assert_eq!(store.outbox_len().unwrap(), 2);
    assert_eq!(store.conflicts().unwrap().len(), 1);
    // No server entry is left behind: only the offline ticket's own (optimistic) event.
    assert_eq!(
        raw_count(&dir, "SELECT count(*) FROM entries"),
        store.ticket(ticket_id(3), later(5)).unwrap().entries.len() as i64
    );
    assert_eq!(
        raw_count(&dir, "SELECT count(*) FROM entries WHERE local = 0"),
        0
    );

    // The full pull brings the server rows back (as a bulk load) with the queued change on top.
    let first = server.pull(actor().device_id, 0, 2);
    assert!(first.has_more);
    store.apply_pull(&first, later(6)).unwrap();
    assert!(store.bootstrapping().unwrap());
    sync_down(&mut store, &server, later(6));
    assert!(!store.bootstrapping().unwrap());
    let one = store.ticket(ticket_id(1), later(6)).unwrap();
    assert_eq!(one.ticket.priority, Priority::P1);
    assert_eq!(
        one.ticket.revision,
        server.tickets[&ticket_id(1)].1.revision
    );
    assert_eq!(one.unsent, 1);
    assert_eq!(
        store
            .ticket(ticket_id(2), later(6))
            .unwrap()
            .ticket
            .description,
        "theirs"
    );
    assert_eq!(store.ticket_count().unwrap(), 3);
    assert_eq!(store.search("登录失败", 10).unwrap().len(), 2);
    assert_eq!(store.search("offline", 10).unwrap().len(), 1);
    // And the explicit call behaves the same way.
    store.reset_for_rebootstrap(later(7)).unwrap();
    assert_eq!(store.ticket_count().unwrap(), 1);
    sync_down(&mut store, &server, later(8));
    assert_eq!(
        store
            .ticket(ticket_id(1), later(8))
            .unwrap()
            .ticket
            .priority,
        Priority::P1
    );
}

/// Everything a pull can change, as the API shows it.
fn snapshot(store: &Store, ids: &[Uuid]) -> String {
    let mut out = String::new();
    for id in ids {
        match store.ticket(*id, later(100)) {
            Ok(d) => {
                out.push_str(&serde_json::to_string(&(d.ticket, d.entries, d.unsent)).unwrap());
            }
            Err(e) => out.push_str(&e.to_string()),
        }
    }
    out.push_str(&serde_json::to_string(&store.outbox(100).unwrap()).unwrap());
    let hits: Vec<Uuid> = store
        .search("登录", 50)
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    out.push_str(&format!("{hits:?} {}", store.sync_cursor().unwrap()));
    out
}

#[test]
fn applying_the_same_page_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded(&dir, &[1, 2, 3]);
    store
        .apply_local(
            &actor(),
            Mutation::AddReply {
                entry_id: Uuid::from_u128(0x9001),
                ticket_id: ticket_id(2),
                text: "登录问题已修复".into(),
            },
            later(1),
        )
        .unwrap();
    server.edit(
        Mutation::SetPriority {
            ticket_id: ticket_id(2),
            priority: Priority::P1,
        },
        later(2),
    );
    server.edit(
        Mutation::AddNote {
            entry_id: Uuid::from_u128(0x9002),
            ticket_id: ticket_id(1),
            text: "登录日志已附".into(),
        },
        later(2),
    );
    server.revoke(ticket_id(3));
    let page = server.pull(actor().device_id, store.sync_cursor().unwrap(), 100);
    let ids = [ticket_id(1), ticket_id(2), ticket_id(3)];
    store.apply_pull(&page, later(3)).unwrap();
    let once = snapshot(&store, &ids);
    let again = store.apply_pull(&page, later(3)).unwrap();
    assert_eq!(snapshot(&store, &ids), once);
    assert_eq!(again.confirmed, 0);
    // An older copy arriving late does not roll rows back either.
    let first_page = {
        let mut s = Server::default();
        s.edit(
            new_ticket(
                1,
                "登录失败 ticket 1",
                "cannot log in",
                "support",
                Priority::P3,
            ),
            now(),
        );
        s.pull(actor().device_id, 0, 100)
    };
    store.apply_remote(&first_page.changes, later(3)).unwrap();
    assert_eq!(snapshot(&store, &ids), once);
}

#[test]
fn entries_that_arrive_before_their_ticket_appear_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::default();
    server.edit(
        new_ticket(1, "分页 split", "d", "support", Priority::P3),
        now(),
    );
    for i in 0..3u128 {
        server.edit(
            Mutation::AddNote {
                entry_id: Uuid::from_u128(0x6000 + i),
                ticket_id: ticket_id(1),
                text: format!("note {i} 备注"),
            },
            later(1),
        );
    }
    // The ticket's latest change is its last note, so it comes after the first notes.
    let mut store = open(&dir);
    let first = server.pull(actor().device_id, 0, 3);
    assert!(first
        .changes
        .iter()
        .all(|c| matches!(c.kind, ChangeKind::Entry(_))));
    store.apply_pull(&first, later(2)).unwrap();
    assert!(store.ticket(ticket_id(1), later(2)).is_err());
    sync_down(&mut store, &server, later(2));
    let detail = store.ticket(ticket_id(1), later(2)).unwrap();
    let notes = detail
        .entries
        .iter()
        .filter(|e| matches!(e.body, EntryBody::Note { .. }))
        .count();
    assert_eq!(notes, 3);
    assert_eq!(store.search("备注", 10).unwrap().len(), 1);
}

/// The synthetic data set as pull pages in server order: every change at the time it happened,
/// so a ticket (sent at its latest change) comes after its entries.
fn server_order_pages(cfg: &outpost_synth::SynthConfig, per_page: usize) -> Vec<PullResponse> {
    let mut changes: Vec<(DateTime<Utc>, usize, ChangeKind)> = Vec::new();
    for (ticket, entries) in outpost_synth::tickets_with_entries(cfg) {
        let mut last = ticket.updated_at;
        for e in entries {
            last = last.max(e.created_at);
            changes.push((e.created_at, changes.len(), ChangeKind::Entry(Box::new(e))));
        }
        changes.push((last, changes.len(), ChangeKind::Ticket(Box::new(ticket))));
    }
    changes.sort_by_key(|(at, order, _)| (*at, *order));
    let changes: Vec<Change> = changes
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, kind))| Change {
            seq: i as u64 + 1,
            kind,
        })
        .collect();
    changes
        .chunks(per_page)
        .enumerate()
        .map(|(i, chunk)| PullResponse {
            changes: chunk.to_vec(),
            cursor: chunk.last().unwrap().seq,
            has_more: (i + 1) * per_page < changes.len(),
            last_mutation_id: 0,
            reset_required: false,
        })
        .collect()
}

#[test]
fn the_bulk_initial_sync_matches_the_incremental_path() {
    let cfg = outpost_synth::SynthConfig {
        tickets: 1_500,
        entries: 4_500,
        ..outpost_synth::SynthConfig::default()
    };
    let pages = server_order_pages(&cfg, 500);
    let changes: Vec<Change> = pages.iter().flat_map(|p| p.changes.clone()).collect();
    let (bulk_dir, inc_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut bulk = open(&bulk_dir);
    let mut incremental = open(&inc_dir);
    // A server ticket already in the cache: the incremental path, page by page.
    let mut seed = Server::default();
    seed.edit(new_ticket(1, "seed", "d", "support", Priority::P3), now());
    incremental
        .apply_pull(&seed.pull(actor().device_id, 0, 10), now())
        .unwrap();
    assert!(!incremental.bootstrapping().unwrap());
    for (i, group) in pages.chunks(3).enumerate() {
        let applied = bulk.apply_pull_pages(group, cfg.now).unwrap();
        let last = i == pages.chunks(3).count() - 1;
        assert_eq!(bulk.bootstrapping().unwrap(), !last);
        assert_eq!(applied.bootstrap_finished, last);
        incremental.apply_pull_pages(group, cfg.now).unwrap();
        assert!(!incremental.bootstrapping().unwrap());
    }
    assert_eq!(bulk.ticket_count().unwrap(), 1_500);
    assert_eq!(incremental.ticket_count().unwrap(), 1_501);
    // Rows are numbered in arrival order on both sides, so hits come in the same order.
    for query in [
        "登录",
        "退款",
        "refund",
        "冻结",
        "password reset",
        "E4",
        "钱",
    ] {
        let a: Vec<Uuid> = bulk
            .search(query, 50)
            .unwrap()
            .iter()
            .map(|h| h.id)
            .collect();
        let b: Vec<Uuid> = incremental
            .search(query, 50)
            .unwrap()
            .iter()
            .map(|h| h.id)
            .collect();
        assert!(!a.is_empty(), "{query}");
        assert_eq!(a, b, "{query}");
    }
    let filter = QueueFilter {
        statuses: Status::OPEN.to_vec(),
        ..QueueFilter::default()
    };
    let a = bulk
        .queue(&filter, QueueSort::SlaDue, None, 100, cfg.now)
        .unwrap();
    let b = incremental
        .queue(&filter, QueueSort::SlaDue, None, 100, cfg.now)
        .unwrap();
    let ids = |p: &outpost_store::QueuePage| {
        p.rows
            .iter()
            .map(|r| r.id)
            .filter(|id| *id != ticket_id(1))
            .collect::<Vec<_>>()
    };
    assert!(ids(&a).len() >= 10);
    assert_eq!(ids(&a), ids(&b));
    let (a, b) = (
        bulk.queue(
            &QueueFilter::default(),
            QueueSort::Updated,
            None,
            200,
            cfg.now,
        )
        .unwrap(),
        incremental
            .queue(
                &QueueFilter::default(),
                QueueSort::Updated,
                None,
                200,
                cfg.now,
            )
            .unwrap(),
    );
    assert_eq!(ids(&a).len(), 200);
    assert_eq!(ids(&a)[..199], ids(&b)[..199]);
    // Every ticket detail is identical.
    for change in changes.iter().step_by(97) {
        if let ChangeKind::Ticket(t) = &change.kind {
            let x = bulk.ticket(t.id, cfg.now).unwrap();
            let y = incremental.ticket(t.id, cfg.now).unwrap();
            assert_eq!((x.ticket, x.entries), (y.ticket, y.entries));
        }
    }
}

/// A count read straight from the cache file (for what the API does not show).
fn raw_count(dir: &tempfile::TempDir, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(dir.path().join("cache.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Opens the cache file beside the store and runs FTS5's own consistency checks on both search
/// indexes (the trigram one against its content table).
fn check_search_tables(dir: &tempfile::TempDir) {
    let conn = rusqlite::Connection::open(dir.path().join("cache.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .unwrap();
    conn.execute_batch(
        "INSERT INTO search_tri(search_tri, rank) VALUES ('integrity-check', 1);
         INSERT INTO search_short(search_short) VALUES ('integrity-check');",
    )
    .unwrap();
    let (docs, tickets): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM search_docs), (SELECT count(*) FROM tickets)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(docs, tickets);
}

#[test]
fn local_changes_and_revocations_during_a_bulk_load_reach_its_search_index() {
    let cfg = outpost_synth::SynthConfig {
        tickets: 1_200,
        entries: 3_600,
        ..outpost_synth::SynthConfig::default()
    };
    let pages = server_order_pages(&cfg, 400);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let tickets: Vec<Uuid> = pages
        .iter()
        .flat_map(|p| &p.changes)
        .filter_map(|c| match &c.kind {
            ChangeKind::Ticket(t) => Some(t.id),
            _ => None,
        })
        .collect();
    let (noted, revoked) = (tickets[0], tickets[5]);
    let revoked_subject = subject_of(&pages, revoked);
    for (i, page) in pages.iter().enumerate() {
        let mut page = page.clone();
        if !page.has_more {
            // A revocation in the last page.
            page.changes.push(Change {
                seq: page.cursor + 1,
                kind: ChangeKind::Revoke { ticket_id: revoked },
            });
            page.cursor += 1;
        }
        store.apply_pull(&page, cfg.now).unwrap();
        if i == 2 {
            // A local change while the load runs.
            assert!(store.bootstrapping().unwrap());
            store
                .apply_local(
                    &actor(),
                    Mutation::AddNote {
                        entry_id: Uuid::from_u128(0xABCD),
                        ticket_id: noted,
                        text: "pomegranate 石榴".into(),
                    },
                    cfg.now,
                )
                .unwrap();
        }
    }
    assert!(!store.bootstrapping().unwrap());
    assert_eq!(store.search("pomegranate", 5).unwrap()[0].id, noted);
    assert_eq!(store.search("石榴", 5).unwrap()[0].id, noted);
    assert!(store.ticket(revoked, cfg.now).is_err());
    assert!(store
        .search(&revoked_subject, 50)
        .unwrap()
        .iter()
        .all(|h| h.id != revoked));
    drop(store);
    check_search_tables(&dir);
    // The index keeps working incrementally afterwards.
    let mut store = open(&dir);
    store
        .apply_local(
            &actor(),
            Mutation::AddNote {
                entry_id: Uuid::from_u128(0xABCE),
                ticket_id: noted,
                text: "quince 榅桲".into(),
            },
            cfg.now,
        )
        .unwrap();
    assert_eq!(store.search("榅桲", 5).unwrap().len(), 1);
    drop(store);
    check_search_tables(&dir);
}

#[test]
fn entries_that_arrive_after_their_ticket_in_a_later_bulk_transaction_are_searchable() {
    let cfg = outpost_synth::SynthConfig {
        tickets: 900,
        entries: 2_700,
        ..outpost_synth::SynthConfig::default()
    };
    let mut pages = server_order_pages(&cfg, 300);
    // Tickets of the first page, given more entries in the last page (two transactions later),
    // one of them dated before every other entry of its ticket.
    let early: Vec<Ticket> = pages[0]
        .changes
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::Ticket(t) => Some((**t).clone()),
            _ => None,
        })
        .take(3)
        .collect();
    assert_eq!(early.len(), 3);
    let words = ["zucchini 西葫芦", "rutabaga 芜菁", "kohlrabi 苤蓝"];
    let last = pages.last_mut().unwrap();
    for (i, (ticket, text)) in early.iter().zip(words).enumerate() {
        last.cursor += 1;
        last.changes.push(Change {
            seq: last.cursor,
            kind: ChangeKind::Entry(Box::new(Entry {
                id: Uuid::from_u128(0x7000 + i as u128),
                ticket_id: ticket.id,
                author: None,
                body: EntryBody::Note { text: text.into() },
                created_at: if i == 0 {
                    ticket.created_at - Duration::minutes(1)
                } else {
                    cfg.now
                },
            })),
        });
    }
    let (bulk_dir, inc_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut bulk = open(&bulk_dir);
    let mut incremental = open(&inc_dir);
    let mut seed = Server::default();
    seed.edit(new_ticket(1, "seed", "d", "support", Priority::P3), now());
    incremental
        .apply_pull(&seed.pull(actor().device_id, 0, 10), now())
        .unwrap();
    for group in pages.chunks(2) {
        bulk.apply_pull_pages(group, cfg.now).unwrap();
        incremental.apply_pull_pages(group, cfg.now).unwrap();
    }
    assert!(!bulk.bootstrapping().unwrap());
    for (ticket, text) in early.iter().zip(words) {
        for word in text.split(' ') {
            let hits = bulk.search(word, 5).unwrap();
            assert_eq!(hits.len(), 1, "{word}");
            assert_eq!(hits[0].id, ticket.id, "{word}");
        }
    }
    // The same documents as the incremental path, in timeline order, on this connection.
    let docs = |dir: &tempfile::TempDir| -> BTreeMap<Vec<u8>, String> {
        let conn = rusqlite::Connection::open(dir.path().join("cache.db")).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
            .unwrap();
        let mut stmt = conn
            .prepare("SELECT t.id, d.text FROM tickets t JOIN search_docs d ON d.rowid = t.rowid")
            .unwrap();
        let docs = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        docs
    };
    let (a, mut b) = (docs(&bulk_dir), docs(&inc_dir));
    b.remove(ticket_id(1).as_bytes().as_slice());
    assert_eq!(a.len(), 900);
    assert_eq!(a, b);
    // The note dated first comes right after the description.
    assert!(a[early[0].id.as_bytes().as_slice()]
        .contains(&format!("\n{}\n{}\n", early[0].description, words[0])));
    for query in ["登录", "refund", "冻结", "E4", "钱", "zucchini", "芜菁"] {
        let ids = |s: &Store| -> Vec<Uuid> {
            s.search(query, 50)
                .unwrap()
                .iter()
                .map(|h| h.id)
                .filter(|id| *id != ticket_id(1))
                .collect()
        };
        assert_eq!(ids(&bulk), ids(&incremental), "{query}");
    }
    // The copied trigram index is byte for byte the one FTS5 rebuilds from `search_docs` on the
    // cache's own connection (with the bulk load's term buffer, then the default setting), read
    // on a second connection and rolled back.
    let conn = rusqlite::Connection::open(bulk_dir.path().join("cache.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .unwrap();
    let shadow = |conn: &rusqlite::Connection| -> Vec<Vec<rusqlite::types::Value>> {
        let mut out = Vec::new();
        for table in [
            "search_tri_data",
            "search_tri_idx",
            "search_tri_docsize",
            "search_tri_config",
        ] {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let n = stmt.column_count();
            let mut rows = stmt
                .query_map([], |r| (0..n).map(|i| r.get(i)).collect())
                .unwrap()
                .collect::<rusqlite::Result<Vec<Vec<rusqlite::types::Value>>>>()
                .unwrap();
            assert!(!rows.is_empty(), "{table}");
            // The structure record (id 10) starts with FTS5's configuration cookie, a counter
            // of configuration changes (each `hashsize` setting bumps it): the rebuild below
            // makes two more than the build did. The rest of it (the segments) must be equal.
            for row in &mut rows {
                if let [rusqlite::types::Value::Integer(10), rusqlite::types::Value::Blob(b)] =
                    row.as_mut_slice()
                {
                    if table == "search_tri_data" {
                        b[..4].fill(0);
                    }
                }
            }
            out.extend(rows);
        }
        out
    };
    let copied = shadow(&conn);
    conn.execute_batch(
        "BEGIN;
         INSERT INTO search_tri(search_tri, rank) VALUES ('hashsize', 16777216);
         INSERT INTO search_tri(search_tri) VALUES ('rebuild');
         INSERT INTO search_tri(search_tri, rank) VALUES ('hashsize', 1048576);",
    )
    .unwrap();
    let rebuilt = shadow(&conn);
    conn.execute_batch("ROLLBACK;").unwrap();
    drop(conn);
    assert_eq!(copied.len(), rebuilt.len());
    let diff: Vec<String> = copied
        .iter()
        .zip(&rebuilt)
        .filter(|(a, b)| a != b)
        .take(4)
        .map(|(a, b)| format!("{:.200} VS {:.200}", format!("{a:?}"), format!("{b:?}")))
        .collect();
    assert!(
        diff.is_empty(),
        "the copied trigram index differs from a rebuild: {diff:#?}"
    );
    // The copied trigram index keeps working on the connection that built it.
    bulk.apply_local(
        &actor(),
        Mutation::AddNote {
            entry_id: Uuid::from_u128(0x7100),
            ticket_id: early[1].id,
            text: "parsnip 欧防风".into(),
        },
        cfg.now,
    )
    .unwrap();
    assert_eq!(bulk.search("parsnip", 5).unwrap()[0].id, early[1].id);
    assert_eq!(bulk.search("rutabaga", 5).unwrap()[0].id, early[1].id);
    drop(bulk);
    check_search_tables(&bulk_dir);
}

fn subject_of(pages: &[PullResponse], id: Uuid) -> String {
    pages
        .iter()
        .flat_map(|p| &p.changes)
        .find_map(|c| match &c.kind {
            ChangeKind::Ticket(t) if t.id == id => Some(t.subject.clone()),
            _ => None,
        })
        .unwrap()
}

/// The journal mode a fresh connection sees in the cache file (`wal` is recorded in the file).
fn journal_mode(dir: &tempfile::TempDir) -> String {
    let conn = rusqlite::Connection::open(dir.path().join("cache.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .unwrap();
    conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_bulk_load_runs_on_a_rollback_journal_survives_a_restart_and_returns_to_wal() {
    let cfg = outpost_synth::SynthConfig {
        tickets: 300,
        entries: 900,
        ..outpost_synth::SynthConfig::default()
    };
    let pages = server_order_pages(&cfg, 200);
    assert!(pages.len() >= 4);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    assert_eq!(journal_mode(&dir), "wal");
    let (first, rest) = pages.split_at(2);
    store.apply_pull_pages(first, cfg.now).unwrap();
    assert!(store.bootstrapping().unwrap());
    assert_ne!(journal_mode(&dir), "wal", "a bulk load writes pages once");
    // A restart mid-load resumes on the rollback journal.
    drop(store);
    let mut store = open(&dir);
    assert!(store.bootstrapping().unwrap());
    assert_ne!(journal_mode(&dir), "wal");
    for page in rest {
        store.apply_pull(page, cfg.now).unwrap();
    }
    assert!(!store.bootstrapping().unwrap());
    assert_eq!(journal_mode(&dir), "wal");
    // Straight after the switch back, a checkpoint and a local change work.
    store.checkpoint().unwrap();
    let id = pages
        .iter()
        .flat_map(|p| &p.changes)
        .find_map(|c| match &c.kind {
            ChangeKind::Ticket(t) => Some(t.id),
            _ => None,
        })
        .unwrap();
    store
        .apply_local(
            &actor(),
            Mutation::SetPriority {
                ticket_id: id,
                priority: Priority::P1,
            },
            cfg.now,
        )
        .unwrap();
    assert_eq!(store.outbox_len().unwrap(), 1);
    check_search_tables(&dir);
    drop(store);
    assert_eq!(journal_mode(&dir), "wal");
}

// --- The organisation's settings ---------------------------------------------------------------

/// SLA settings on Lisbon office hours: every business-hours deadline moves.
fn lisbon_sla() -> outpost_core::sla::SlaSettings {
    let mut sla = outpost_core::sla::SlaSettings::defaults();
    sla.calendar = outpost_core::sla::BusinessCalendar::weekdays(
        "Mon–Fri 09:00–18:00",
        chrono_tz::Europe::Lisbon,
        chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    );
    sla
}

fn set_sla(base_version: u64, sla: outpost_core::sla::SlaSettings) -> Mutation {
    Mutation::SetSettings {
        base_version,
        settings: outpost_core::settings::SettingsDoc::Sla(sla),
    }
}

fn department(code: &str, name: &str) -> Department {
    Department {
        code: code.into(),
        name: name.into(),
        active: true,
    }
}

/// The deadline column the queue sorts by.
fn due(store: &Store, id: Uuid) -> Option<DateTime<Utc>> {
    store
        .queue(&QueueFilter::default(), QueueSort::SlaDue, None, 100, now())
        .unwrap()
        .rows
        .into_iter()
        .find(|r| r.id == id)
        .unwrap()
        .sla_due_at
}

/// A server with the support department and ticket 1 (P3, business hours), and a cache that
/// pulled both.
fn seeded_org(dir: &tempfile::TempDir) -> (Store, Server) {
    let mut server = Server::default();
    server.edit(
        Mutation::PutDepartment(department("support", "Support")),
        now(),
    );
    server.edit(
        new_ticket(1, "登录失败", "cannot log in", "support", Priority::P3),
        now(),
    );
    let mut store = open(dir);
    sync_down(&mut store, &server, now());
    (store, server)
}

#[test]
fn an_offline_settings_edit_is_shown_at_once_and_confirmed_by_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded_org(&dir);
    let id = ticket_id(1);
    let shanghai_due = due(&store, id);
    assert_eq!(store.org_settings().settings.sla.version, 0);
    assert_eq!(store.directory().unwrap().departments.len(), 1);

    // Offline: a new calendar and a new department, queued.
    let view = store
        .apply_admin_local(&actor(), Role::Admin, set_sla(0, lisbon_sla()), later(1))
        .unwrap();
    assert_eq!(view.pending, [SettingsKind::Sla]);
    assert_eq!(store.sla_settings(), &lisbon_sla());
    let lisbon_due = due(&store, id);
    assert_ne!(
        lisbon_due, shanghai_due,
        "the deadline follows the new calendar"
    );
    store
        .apply_admin_local(
            &actor(),
            Role::Admin,
            Mutation::PutDepartment(department("billing", "Billing")),
            later(2),
        )
        .unwrap();
    let names: Vec<String> = store
        .directory()
        .unwrap()
        .departments
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["Billing", "Support"]);
    assert_eq!(store.outbox_len().unwrap(), 2);
    // Each edit is in the local chain with what it changed.
    let events = store.audit_events(0, 10).unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.event.action.as_str()).collect();
    assert_eq!(actions, ["settings.set", "department.put"]);
    assert!(events[0].event.detail.contains("Europe/Lisbon"));
    assert!(events[0].event.before.is_some() && events[1].event.before.is_none());
    assert!(store.verify_audit().unwrap().is_ok());

    // Online: the server applies both; the view keeps them until the pull shows them.
    let results = sync_up(&mut store, &mut server, later(3));
    assert!(results
        .iter()
        .all(|r| matches!(r.outcome, MutationOutcome::Applied { .. })));
    assert_eq!(store.sla_settings(), &lisbon_sla());
    assert_eq!(store.org_settings().pending, []);
    sync_down(&mut store, &server, later(4));
    assert_eq!(store.outbox_len().unwrap(), 0);
    let view = store.org_settings();
    assert_eq!(view.settings.sla.version, 1);
    assert_eq!(view.settings.sla.updated_by, Some(actor().user_id));
    assert_eq!(view.departments.len(), 2);
    assert_eq!(due(&store, id), lisbon_due);
    assert!(store.sync_problems().unwrap().is_empty());
}

#[test]
fn the_settings_view_lists_the_categories_with_names_and_the_retired_flagged() {
    use outpost_core::model::Category;
    use outpost_core::settings::{Catalogue, CategoryEntry, SettingsDoc};
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _server) = seeded_org(&dir);
    let codes = |view: &outpost_store::OrgSettingsView| -> Vec<String> {
        view.categories
            .iter()
            .map(|e| e.category.as_str().to_owned())
            .collect()
    };
    let built_in: Vec<String> = Category::BUILT_IN
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(codes(store.org_settings()), built_in);
    assert!(store.org_settings().categories.iter().all(|e| !e.retired));

    // Offline, the admin adds a category of the organisation's own and retires a built-in one.
    let catalogue = Catalogue {
        categories: vec![
            CategoryEntry {
                category: Category::new("merchant_onboarding").unwrap(),
                label_en: "Merchant onboarding".into(),
                label_zh: "商户入驻".into(),
                retired: false,
            },
            CategoryEntry {
                category: Category::LOGIN_ANOMALY,
                label_en: String::new(),
                label_zh: String::new(),
                retired: true,
            },
        ],
        tags: vec![],
    };
    let view = store
        .apply_admin_local(
            &actor(),
            Role::Admin,
            Mutation::SetSettings {
                base_version: 0,
                settings: SettingsDoc::Catalogue(catalogue),
            },
            later(1),
        )
        .unwrap();
    let mut expected = built_in.clone();
    expected.push("merchant_onboarding".into());
    assert_eq!(codes(&view), expected);
    let added = view.categories.last().unwrap();
    assert_eq!(
        (
            added.label_en.as_str(),
            added.label_zh.as_str(),
            added.retired
        ),
        ("Merchant onboarding", "商户入驻", false)
    );
    let login = view
        .categories
        .iter()
        .find(|e| e.category == Category::LOGIN_ANOMALY)
        .unwrap();
    assert!(login.retired);
    assert_eq!(view.categories.iter().filter(|e| e.retired).count(), 1);
    assert_eq!(store.org_settings(), &view);
}

#[test]
fn a_stale_settings_edit_is_refused_and_the_server_truth_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded_org(&dir);
    let id = ticket_id(1);
    // Offline, this admin moves the calendar to Lisbon and renames Support…
    store
        .apply_admin_local(&actor(), Role::Admin, set_sla(0, lisbon_sla()), later(1))
        .unwrap();
    store
        .apply_admin_local(
            &actor(),
            Role::Admin,
            Mutation::PutDepartment(department("support", "Customer care")),
            later(1),
        )
        .unwrap();
    // …while another admin changes the SLA on the server, and adds a department.
    let mut theirs = outpost_core::sla::SlaSettings::defaults();
    theirs.warn_share = 0.5;
    server.edit(set_sla(0, theirs.clone()), later(2));
    server.edit(
        Mutation::PutDepartment(department("risk", "Risk")),
        later(2),
    );

    // The pull brings their version: this edit no longer applies, so the view shows theirs
    // and says why; the department rename stays on top of the newer truth.
    let applied = store
        .apply_pull(
            &server.pull(actor().device_id, store.sync_cursor().unwrap(), 50),
            later(3),
        )
        .unwrap();
    assert!(applied.reference);
    assert_eq!(applied.blocked.len(), 1);
    assert_eq!(store.sla_settings(), &theirs);
    assert_eq!(store.org_settings().pending, []);
    let blocked = store.blocked_mutations().unwrap();
    assert!(blocked.values().next().unwrap().starts_with("conflict:"));
    let names: Vec<String> = store
        .org_settings()
        .departments
        .iter()
        .map(|d| d.name.clone())
        .collect();
    assert_eq!(names, ["Risk", "Customer care"]);

    // The server refuses the stale edit: it leaves the outbox and is listed with its reason.
    sync_up(&mut store, &mut server, later(4));
    let problems = store.sync_problems().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].ticket_id, None);
    assert_eq!(problems[0].code, outpost_core::error::ErrorCode::Conflict);
    assert!(
        problems[0].reason.contains("version 1"),
        "{}",
        problems[0].reason
    );
    assert!(matches!(problems[0].mutation, Mutation::SetSettings { .. }));
    sync_down(&mut store, &server, later(5));
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert_eq!(store.sla_settings(), &theirs);
    assert_eq!(store.org_settings().settings.sla.version, 1);
    assert_eq!(store.org_settings().departments[1].name, "Customer care");
    // Deadlines are those of the server's settings.
    let report = theirs.evaluate(&store.ticket(id, later(5)).unwrap().ticket, later(5));
    assert_eq!(
        due(&store, id).map(|d| d.timestamp_millis()),
        report
            .clocks
            .iter()
            .filter_map(|c| c.due_at)
            .min()
            .map(|d| d.timestamp_millis())
    );
}

#[test]
fn only_admins_change_settings_and_ticket_paths_refuse_admin_intents() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _server) = seeded_org(&dir);
    for role in [Role::Agent, Role::Supervisor] {
        let refused = store.apply_admin_local(&actor(), role, set_sla(0, lisbon_sla()), later(1));
        assert!(
            matches!(
                refused,
                Err(StoreError::Rejected(
                    outpost_core::apply::Rejection::Forbidden(_)
                ))
            ),
            "{refused:?}"
        );
    }
    let stale = store.apply_admin_local(&actor(), Role::Admin, set_sla(3, lisbon_sla()), later(1));
    assert!(matches!(
        stale,
        Err(StoreError::Rejected(outpost_core::apply::Rejection::Stale(
            _
        )))
    ));
    let through_tickets = store.apply_local(&actor(), set_sla(0, lisbon_sla()), later(1));
    assert!(matches!(through_tickets, Err(StoreError::Rejected(_))));
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert!(store.audit_events(0, 10).unwrap().is_empty());
    assert_eq!(
        store.sla_settings(),
        &outpost_core::sla::SlaSettings::defaults()
    );
}

#[test]
fn a_queued_settings_edit_survives_a_restart_of_the_encrypted_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut server) = seeded_org(&dir);
    let id = ticket_id(1);
    store
        .apply_admin_local(&actor(), Role::Admin, set_sla(0, lisbon_sla()), later(1))
        .unwrap();
    let lisbon_due = due(&store, id);
    drop(store);

    // A wrong key still opens nothing; the right one finds the edit queued and shown.
    assert!(matches!(
        Store::open(&dir.path().join("cache.db"), &key(8)),
        Err(StoreError::WrongKey { .. })
    ));
    let mut store = open(&dir);
    assert_eq!(store.org_settings().pending, [SettingsKind::Sla]);
    assert_eq!(store.sla_settings(), &lisbon_sla());
    assert_eq!(due(&store, id), lisbon_due);
    assert_eq!(store.outbox_len().unwrap(), 1);

    sync_up(&mut store, &mut server, later(2));
    sync_down(&mut store, &server, later(3));
    drop(store);
    let store = open(&dir);
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert_eq!(store.org_settings().settings.sla.version, 1);
    assert_eq!(store.org_settings().pending, []);
    assert_eq!(store.sla_settings(), &lisbon_sla());
}

#[test]
fn the_calendar_effect_counts_open_tickets_whose_deadline_moves() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::default();
    server.edit(new_ticket(1, "a", "b", "support", Priority::P3), now());
    // P1 counts plain hours: a new calendar in the same zone moves nothing.
    server.edit(new_ticket(2, "a", "b", "support", Priority::P1), now());
    let mut store = open(&dir);
    sync_down(&mut store, &server, now());
    let same = store.calendar_effect(store.sla_settings(), now()).unwrap();
    assert_eq!((same.open, same.moved), (2, 0));
    let effect = store.calendar_effect(&lisbon_sla(), now()).unwrap();
    assert_eq!((effect.open, effect.moved), (2, 1));
    let mut longer = outpost_core::sla::SlaSettings::defaults();
    for policy in longer
        .policies
        .iter_mut()
        .filter(|p| p.priority == Priority::P3)
    {
        policy.first_response_minutes = Some(16 * 60);
    }
    let effect = store.calendar_effect(&longer, now()).unwrap();
    assert_eq!((effect.open, effect.moved), (2, 1));
}

#[test]
fn a_schema_4_cache_keeps_its_outbox_and_sla_settings_when_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _server) = seeded(&dir, &[1]);
    store
        .apply_local(
            &actor(),
            Mutation::SetPriority {
                ticket_id: ticket_id(1),
                priority: Priority::P1,
            },
            later(1),
        )
        .unwrap();
    drop(store);
    {
        let conn = rusqlite::Connection::open(dir.path().join("cache.db")).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
            .unwrap();
        // What the previous release wrote: SLA settings in their own table, ticket ids required.
        conn.execute_batch(
            "DROP TABLE settings;
             CREATE TABLE sla_settings (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
             PRAGMA user_version = 4;",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO sla_settings (id, doc) VALUES (1, ?1)",
            [serde_json::to_string(&lisbon_sla()).unwrap()],
        )
        .unwrap();
    }
    let store = open(&dir);
    assert_eq!(store.sla_settings(), &lisbon_sla());
    assert_eq!(store.org_settings().settings.sla.version, 0);
    let outbox = store.outbox(10).unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].envelope.mutation.ticket_id(), Some(ticket_id(1)));
}
