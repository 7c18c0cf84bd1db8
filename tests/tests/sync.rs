//! Client sync, whole system: the real `outpost-server` binary (SQLite and PostgreSQL), desktop
//! clients as in-process `Desk`s and as the `outpost` CLI, processes killed with SIGKILL, and a
//! proxy that injects network faults. Every scenario ends by comparing what each cache holds
//! with a fresh pull from the server, and by counting every reply, note and verification
//! record made on the way: each must be there exactly once.
//!
//! PostgreSQL scenarios need `OUTPOST_TEST_PG_URL` (`make test` starts a throwaway server);
//! the binaries must be built (`make test` does that too).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use outpost_client::sync::Connectivity;
use outpost_core::error::ErrorCode;
use outpost_core::model::{
    Category, Channel, CustomerTier, EntryBody, Priority, Requester, RiskLevel, Status,
    TicketEvent, TicketId, VerificationCheck, VerificationDimension, VerificationResult,
};
use outpost_core::status::{check_transition, TransitionFacts};
use outpost_core::sync::{Mutation, NewTicket};
use outpost_system_tests::client::{is_transient, spawn_cli};
use outpost_system_tests::{wait_for, Backend, Client, Proxy, Server, Snapshot};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// One test per scenario and backend: `sqlite::<scenario>` and `postgres::<scenario>`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(outpost_system_tests::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(outpost_system_tests::Backend::Postgres).await
            })*
        }
    };
}

on_both_backends!(
    offline_edits_converge_after_a_server_restart,
    cli_killed_mid_push_and_mid_pull_loses_and_duplicates_nothing,
    server_killed_mid_push_client_retries_without_duplicates,
    clients_converge_through_network_faults,
    agent_moved_out_of_a_department_loses_its_tickets_keeps_other_changes,
    refused_status_change_is_rolled_back_and_listed,
);

/// `n` open tickets of `department`, in key order.
fn pick(snapshot: &Snapshot, department: &str, n: usize) -> Vec<TicketId> {
    let mut tickets: Vec<_> = snapshot
        .tickets
        .values()
        .filter(|t| t.department.as_deref() == Some(department) && t.status.is_open())
        .collect();
    tickets.sort_by_key(|t| (t.key.clone(), t.id));
    let picked: Vec<TicketId> = tickets.iter().take(n).map(|t| t.id).collect();
    assert_eq!(
        picked.len(),
        n,
        "the organisation has fewer than {n} open {department} tickets"
    );
    picked
}

fn verification(ticket_id: TicketId, dimension: VerificationDimension) -> (Uuid, Mutation) {
    let entry_id = Uuid::now_v7();
    (
        entry_id,
        Mutation::RecordVerification {
            entry_id,
            ticket_id,
            checks: vec![VerificationCheck {
                dimension,
                result: VerificationResult::Passed,
                method: "called back on the registered number".into(),
            }],
        },
    )
}

/// Asserts that every text occurs exactly once in `snapshot`, on the ticket it was written on.
fn assert_each_once(snapshot: &Snapshot, texts: &BTreeMap<String, TicketId>, what: &str) {
    let counts = snapshot.text_counts();
    let missing: Vec<&String> = texts.keys().filter(|t| !counts.contains_key(*t)).collect();
    let doubled: Vec<(&String, &usize)> = counts
        .iter()
        .filter(|(t, n)| texts.contains_key(*t) && **n > 1)
        .collect();
    assert!(
        missing.is_empty() && doubled.is_empty(),
        "{what}: {} of {} texts missing (first: {:?}), {} duplicated (first: {:?})",
        missing.len(),
        texts.len(),
        missing.first(),
        doubled.len(),
        doubled.first()
    );
    for (text, ticket) in texts {
        let on_ticket = snapshot.entries.get(ticket).is_some_and(|e| {
            e.values()
                .any(|e| outpost_system_tests::snapshot::text_of(e) == Some(text))
        });
        assert!(on_ticket, "{what}: {text:?} is not on ticket {ticket}");
    }
}

/// Asserts that each verification entry id exists exactly once, as a verification record.
fn assert_verifications(snapshot: &Snapshot, ids: &[Uuid], what: &str) {
    for id in ids {
        let found: Vec<_> = snapshot.all_entries().filter(|e| e.id == *id).collect();
        assert_eq!(
            found.len(),
            1,
            "{what}: verification {id} found {} times",
            found.len()
        );
        assert!(
            matches!(found[0].body, EntryBody::Verification { .. }),
            "{what}: {id} is not a verification record"
        );
    }
}

/// Texts starting with `prefix` and how often each occurs.
fn counts_with_prefix(snapshot: &Snapshot, prefix: &str) -> BTreeMap<String, usize> {
    snapshot
        .text_counts()
        .into_iter()
        .filter(|(t, _)| t.starts_with(prefix))
        .collect()
}

/// Both caches and the server agree on everything each user may see.
async fn assert_converged(server: &Server, clients: &[&Client]) {
    let mut views = Vec::new();
    for client in clients {
        let truth = server.snapshot(&client.account).await;
        let view = client.view(None).await;
        view.assert_same(
            &truth,
            &format!("{}'s cache vs the server", client.account.email),
        );
        let status = client.desk.sync_status().await.expect("status");
        assert_eq!(status.unsent, 0, "{}: unsent changes", client.account.email);
        views.push(view);
    }
    for pair in views.windows(2) {
        pair[0].assert_same(&pair[1], "the two caches");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Offline edits on two clients, server down, restart, convergence.
// ---------------------------------------------------------------------------------------------

async fn offline_edits_converge_after_a_server_restart(backend: Backend) {
    let mut server = Server::start(backend).await;
    let org = server.org;
    let url = server.url();
    let (ann, bob) = tokio::join!(Client::ready(&url, &org.ann), Client::ready(&url, &org.bob));
    let shared = pick(&server.snapshot(&org.ann).await, "support", 3);
    // Ann's desk syncs in the background, as the desktop app does (event stream, backoff);
    // Bob syncs when asked, as the CLI does.
    ann.desk.start_sync().await.unwrap();
    wait_for(
        "ann's background sync",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let status = ann.desk.sync_status().await.unwrap();
            matches!(status.connectivity, Connectivity::Online { .. }).then_some(())
        },
    )
    .await;

    server.kill();
    let mut texts = BTreeMap::new();
    let mut verifications = Vec::new();
    let mut made = BTreeMap::new();
    for (client, who) in [(&ann, "ann"), (&bob, "bob")] {
        let mut n = 0;
        for (i, ticket) in shared.iter().enumerate() {
            let reply = format!("{who} offline reply {i}");
            let note = format!("{who} offline note {i}");
            client.desk.reply(*ticket, reply.clone()).await.unwrap();
            client.desk.note(*ticket, note.clone()).await.unwrap();
            texts.insert(reply, *ticket);
            texts.insert(note, *ticket);
            let dimension = if who == "ann" {
                VerificationDimension::SmsCode
            } else {
                VerificationDimension::RealNameInfo
            };
            let (id, mutation) = verification(*ticket, dimension);
            client.desk.change(mutation).await.unwrap();
            verifications.push(id);
            n += 3;
        }
        // Both change the same field of the same ticket; the server orders them.
        let priority = if who == "ann" {
            Priority::P1
        } else {
            Priority::P4
        };
        client
            .desk
            .change(Mutation::SetPriority {
                ticket_id: shared[0],
                priority,
            })
            .await
            .unwrap();
        client
            .desk
            .change(Mutation::AddTag {
                ticket_id: shared[1],
                tag: format!("callback-{who}"),
            })
            .await
            .unwrap();
        n += 2;
        made.insert(who, n);
    }

    // Offline: syncing fails as "offline", everything stays queued and visible locally.
    for (client, who) in [(&ann, "ann"), (&bob, "bob")] {
        let error = client.sync().await.expect_err("the server is down");
        assert!(is_transient(&error), "{who}: {error} is not transient");
        assert_eq!(error.code(), ErrorCode::Offline, "{who}: {error}");
        let status = client.desk.sync_status().await.unwrap();
        assert_eq!(status.unsent, made[who], "{who}: queued changes");
        assert!(
            matches!(status.connectivity, Connectivity::Offline { .. }),
            "{who}: {:?}",
            status.connectivity
        );
        let local = client.view(Some(&shared.iter().copied().collect())).await;
        let own: BTreeMap<String, TicketId> = texts
            .iter()
            .filter(|(t, _)| t.starts_with(who))
            .map(|(t, id)| (t.clone(), *id))
            .collect();
        assert_each_once(&local, &own, &format!("{who}'s cache while offline"));
    }

    // Bob reconnects by syncing; Ann's desk reconnects on its own (backoff, then the event
    // stream's poke for Bob's changes) and must end up with everything, bounded.
    server.restart().await;
    bob.settle(5).await;
    let bobs: BTreeMap<String, TicketId> = texts
        .iter()
        .filter(|(t, _)| t.starts_with("bob"))
        .map(|(t, id)| (t.clone(), *id))
        .collect();
    let shared_ids: BTreeSet<TicketId> = shared.iter().copied().collect();
    let reconnected = Instant::now();
    wait_for(
        "ann's desk to reconnect and converge",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async {
            let status = ann.desk.sync_status().await.unwrap();
            let counts = ann.view(Some(&shared_ids)).await.text_counts();
            let done = status.unsent == 0
                && matches!(status.connectivity, Connectivity::Online { .. })
                && bobs.keys().all(|t| counts.contains_key(t));
            done.then_some(())
        },
    )
    .await;
    eprintln!(
        "ann's desk converged {:?} after the restart",
        reconnected.elapsed()
    );
    bob.settle(5).await;

    let truth = server.snapshot(&org.admin).await;
    assert_each_once(&truth, &texts, "the server");
    assert_verifications(&truth, &verifications, "the server");
    let tags = &truth.tickets[&shared[1]].tags;
    assert!(
        tags.contains("callback-ann") && tags.contains("callback-bob"),
        "both tags: {tags:?}"
    );
    assert!(
        matches!(
            truth.tickets[&shared[0]].priority,
            Priority::P1 | Priority::P4
        ),
        "one of the two priorities wins"
    );
    for client in [&ann, &bob] {
        let view = client.view(None).await;
        assert_each_once(&view, &texts, &format!("{}'s cache", client.account.email));
        assert_verifications(&view, &verifications, &client.account.email);
        assert!(client.desk.sync_problems().await.unwrap().is_empty());
    }
    assert_converged(&server, &[&ann, &bob]).await;
}

// ---------------------------------------------------------------------------------------------
// 2. The CLI killed mid-push and mid-pull.
// ---------------------------------------------------------------------------------------------

/// Runs `outpost sync` to completion (bounded) and returns its output.
async fn cli_sync_to_end(
    data_dir: &std::path::Path,
    log_dir: &std::path::Path,
    name: &str,
) -> String {
    let mut child = spawn_cli(data_dir, &["sync"], name, log_dir);
    let status = child
        .wait(Duration::from_secs(90))
        .await
        .unwrap_or_else(|| panic!("{name}: `outpost sync` did not finish in 90 s"));
    assert!(
        status.success(),
        "{name}: `outpost sync` failed ({status}):\n{}\n{}",
        child.output(),
        child.errors()
    );
    child.output()
}

const CLI_NOTES: usize = 2000;

/// Size of the profile's cache write-ahead log (0 when there is none): it grows when a
/// transaction commits.
/// The size of the profile's cache file and its WAL: a commit grows one of them (a bulk load
/// writes into the file on a rollback journal, other transactions into the WAL).
fn wal_size(data_dir: &std::path::Path) -> u64 {
    std::fs::read_dir(data_dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| ["cache.db", "cache.db-wal"].map(|f| std::fs::metadata(e.path().join(f))))
        .filter_map(Result::ok)
        .map(|m| m.len())
        .sum()
}

async fn cli_killed_mid_push_and_mid_pull_loses_and_duplicates_nothing(backend: Backend) {
    let mut rng = ChaCha8Rng::seed_from_u64(outpost_system_tests::seed("cli kills"));
    let server = Server::start(backend).await;
    let org = server.org;
    let proxy = Proxy::start(server.addr(), rng.random()).await;
    let logs = outpost_system_tests::scratch_dir();

    // Ann queues many notes in her cache (the CLI's data directory) without sending them,
    // spread over every ticket she sees (notes are allowed on closed tickets too).
    let ann = Client::ready(&proxy.url(), &org.ann).await;
    let tickets: Vec<TicketId> = server.snapshot(&org.ann).await.ids().into_iter().collect();
    let mut texts = BTreeMap::new();
    let queued_at = Instant::now();
    for i in 0..CLI_NOTES {
        let ticket = tickets[i % tickets.len()];
        let text = format!("cli note {i:04}");
        ann.desk.note(ticket, text.clone()).await.unwrap();
        texts.insert(text, ticket);
    }
    eprintln!("queued {CLI_NOTES} notes in {:?}", queued_at.elapsed());
    let ann_dir = ann.lock().await;

    // `outpost sync`, SIGKILLed a random 0–300 ms after a push answer arrived: while it records
    // the answer (~100 ms for 500 mutations in a debug build), sends the next batch, or waits
    // for the server to apply it.
    let mut mid_push_kills = 0;
    for round in 0..3 {
        let before = proxy.completed("/v1/sync/push");
        let mut child = spawn_cli(
            ann_dir.path(),
            &["sync"],
            &format!("push-{round}"),
            logs.path(),
        );
        let answered = wait_for(
            "a push answer",
            Duration::from_secs(60),
            Duration::from_millis(1),
            || {
                let answered = proxy.completed("/v1/sync/push") > before;
                let exited = !child.is_running();
                async move { (answered || exited).then_some(answered) }
            },
        )
        .await;
        if answered {
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..300))).await;
        }
        let killed_running = child.is_running();
        child.kill();
        if !killed_running {
            eprintln!(
                "push-{round}: the CLI ended by itself; push answers {:?}:\n{}{}",
                proxy.statuses("/v1/sync/push"),
                child.output(),
                child.errors()
            );
        }
        let on_server = counts_with_prefix(&server.snapshot(&org.ann).await, "cli note ");
        assert!(
            on_server.values().all(|n| *n == 1),
            "push-{round}: a note was duplicated"
        );
        eprintln!(
            "push-{round}: killed after {} push answers, {} of {CLI_NOTES} notes on the server",
            proxy.completed("/v1/sync/push"),
            on_server.len()
        );
        if killed_running && on_server.len() < CLI_NOTES {
            mid_push_kills += 1;
        }
        if on_server.len() == CLI_NOTES {
            break;
        }
    }
    assert!(
        mid_push_kills > 0,
        "no kill landed in the middle of the push"
    );
    let out = cli_sync_to_end(ann_dir.path(), logs.path(), "push-final").await;
    assert!(out.contains("0 unsent"), "{out}");

    let truth = server.snapshot(&org.admin).await;
    assert_each_once(&truth, &texts, "the server after the killed pushes");
    let ann = Client::resume(ann_dir, &org.ann).await;
    let view = ann.view(None).await;
    assert_each_once(&view, &texts, "ann's cache after the killed pushes");
    view.assert_same(
        &server.snapshot(&org.ann).await,
        "ann's cache vs the server",
    );
    assert_eq!(ann.desk.sync_status().await.unwrap().unsent, 0);
    assert!(ann.desk.sync_problems().await.unwrap().is_empty());
    drop(ann);

    // Bob's first sync (the notes above and the demo tickets, several pull pages), SIGKILLed a
    // random 0–`window` ms after its cache committed for the first time.
    let mut window_ms: u64 = 40;
    let mut partial = false;
    let mut bob_dir = Client::sign_in(&proxy.url(), &org.bob).await.lock().await;
    for attempt in 0..8 {
        let mut child = spawn_cli(
            bob_dir.path(),
            &["sync"],
            &format!("pull-{attempt}"),
            logs.path(),
        );
        let wal_before = wal_size(bob_dir.path());
        let committed = wait_for(
            "a commit",
            Duration::from_secs(60),
            Duration::from_millis(1),
            || {
                let committed = wal_size(bob_dir.path()) > wal_before;
                let exited = !child.is_running();
                async move { (committed || exited).then_some(committed) }
            },
        )
        .await;
        if committed {
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..=window_ms))).await;
        }
        child.kill();
        // What did the kill leave? Open the cache (offline) and look.
        let bob = Client::resume(bob_dir, &org.bob).await;
        let status = bob.desk.sync_status().await.unwrap();
        let count = bob.ticket_ids().await.len();
        eprintln!(
            "pull-{attempt}: killed within {window_ms} ms of a commit: {count} tickets, bootstrapping {}",
            status.bootstrapping
        );
        if status.bootstrapping {
            // At least one page is stored (the bulk load starts with the first), not all.
            partial = true;
            bob_dir = bob.lock().await;
            break;
        }
        if count == 0 {
            // Killed before the first page was stored: the sync is still to do.
            window_ms *= 2;
            bob_dir = bob.lock().await;
        } else {
            // The initial sync finished first: start again with a new profile.
            window_ms = (window_ms / 2).max(1);
            drop(bob);
            bob_dir = Client::sign_in(&proxy.url(), &org.bob).await.lock().await;
        }
    }
    assert!(partial, "no kill landed in the middle of the initial sync");
    let out = cli_sync_to_end(bob_dir.path(), logs.path(), "pull-final").await;
    assert!(out.contains("0 unsent"), "{out}");
    let bob = Client::resume(bob_dir, &org.bob).await;
    let status = bob.desk.sync_status().await.unwrap();
    assert!(!status.bootstrapping, "the initial sync did not finish");
    let view = bob.view(None).await;
    assert_each_once(&view, &texts, "bob's cache after the killed pull");
    view.assert_same(
        &server.snapshot(&org.bob).await,
        "bob's cache vs the server",
    );
}

// ---------------------------------------------------------------------------------------------
// 3. The server killed mid-push.
// ---------------------------------------------------------------------------------------------

async fn server_killed_mid_push_client_retries_without_duplicates(backend: Backend) {
    let mut rng = ChaCha8Rng::seed_from_u64(outpost_system_tests::seed("server kill"));
    let mut server = Server::start(backend).await;
    let org = server.org;
    let proxy = Proxy::start(server.addr(), rng.random()).await;
    let ann = Arc::new(Client::ready(&proxy.url(), &org.ann).await);
    let start = server.snapshot(&org.ann).await;
    let open = pick(&start, "support", 10);
    let all: Vec<TicketId> = start.ids().into_iter().collect();
    let mut texts = BTreeMap::new();
    for i in 0..1500 {
        let text = format!("server-kill note {i:04}");
        if i % 10 == 0 {
            let ticket = open[(i / 10) % open.len()];
            ann.desk.reply(ticket, text.clone()).await.unwrap();
            texts.insert(text, ticket);
        } else {
            let ticket = all[i % all.len()];
            ann.desk.note(ticket, text.clone()).await.unwrap();
            texts.insert(text, ticket);
        }
    }

    let syncing = tokio::spawn({
        let ann = ann.clone();
        async move { ann.sync().await }
    });
    // Killed a random 0–30 ms after the first push answer: while the client records it or
    // while the server applies the next batch.
    wait_for(
        "a push answer",
        Duration::from_secs(60),
        Duration::from_millis(1),
        || {
            let done = proxy.completed("/v1/sync/push") >= 1;
            async move { done.then_some(()) }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(rng.random_range(0..30))).await;
    server.kill();
    let result = tokio::time::timeout(Duration::from_secs(90), syncing)
        .await
        .expect("the sync ended")
        .expect("the sync task");
    let error = result.expect_err("the server was killed during the push");
    assert!(is_transient(&error), "{error} is not transient");
    let unsent = ann.desk.sync_status().await.unwrap().unsent;
    assert!(unsent > 0, "changes left to send after the kill");
    // Still down: the client keeps failing softly.
    let error = ann.sync().await.expect_err("the server is down");
    assert!(is_transient(&error), "{error}");

    server.restart().await;
    let before = counts_with_prefix(&server.snapshot(&org.admin).await, "server-kill ");
    assert!(
        before.len() < texts.len(),
        "the kill did not interrupt the push ({} of {} arrived)",
        before.len(),
        texts.len()
    );
    assert!(before.values().all(|n| *n == 1));
    ann.settle(10).await;
    let truth = server.snapshot(&org.admin).await;
    assert_each_once(&truth, &texts, "the server");
    assert!(ann.desk.sync_problems().await.unwrap().is_empty());
    assert_converged(&server, &[&ann]).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Network faults between clients and server.
// ---------------------------------------------------------------------------------------------

async fn clients_converge_through_network_faults(backend: Backend) {
    let seed = outpost_system_tests::seed("network faults");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let server = Server::start(backend).await;
    let org = server.org;
    let proxy = Proxy::start(server.addr(), seed).await;
    let url = proxy.url();
    let (ann, bob) = tokio::join!(Client::ready(&url, &org.ann), Client::ready(&url, &org.bob));
    let tickets = pick(&server.snapshot(&org.ann).await, "support", 4);

    proxy.set_fault_percent(30);
    let mut texts = BTreeMap::new();
    let mut verifications = Vec::new();
    let mut failures = 0;
    let mut rounds = 0;
    // Work and sync under faults until faults have hit requests the server acted on.
    while rounds < 4 || {
        let s = proxy.stats();
        s.canned_after + s.dropped_mid_response < 3
    } {
        assert!(
            rounds < 40,
            "too few faults after 40 rounds: {:?}",
            proxy.stats()
        );
        for (client, who) in [(&ann, "ann"), (&bob, "bob")] {
            for k in 0..3 {
                let ticket = tickets[rng.random_range(0..tickets.len())];
                let text = format!("{who} faulty round {rounds} entry {k}");
                if k == 0 {
                    client.desk.reply(ticket, text.clone()).await.unwrap();
                } else {
                    client.desk.note(ticket, text.clone()).await.unwrap();
                }
                texts.insert(text, ticket);
            }
            let (id, mutation) = verification(
                tickets[rng.random_range(0..tickets.len())],
                VerificationDimension::UsualDevice,
            );
            client.desk.change(mutation).await.unwrap();
            verifications.push(id);
            match client.sync().await {
                Ok(_) => {}
                Err(e) if is_transient(&e) => failures += 1,
                Err(e) => panic!(
                    "{who}: a fault caused a permanent error: {e} ({})",
                    e.code()
                ),
            }
        }
        rounds += 1;
    }
    // Converge with the faults still on, within a bounded number of attempts.
    ann.settle(40).await;
    bob.settle(40).await;
    ann.settle(40).await;
    let stats = proxy.stats();
    eprintln!("{rounds} rounds, {failures} failed syncs, proxy: {stats:?}");
    assert!(
        stats.faults() > 0 && failures > 0,
        "no fault reached a client: {stats:?}"
    );

    let truth = server.snapshot(&org.admin).await;
    assert_each_once(&truth, &texts, "the server");
    assert_verifications(&truth, &verifications, "the server");
    for client in [&ann, &bob] {
        let view = client.view(None).await;
        assert_each_once(&view, &texts, &client.account.email);
        assert_verifications(&view, &verifications, &client.account.email);
        assert!(client.desk.sync_problems().await.unwrap().is_empty());
    }
    assert_converged(&server, &[&ann, &bob]).await;
}

// ---------------------------------------------------------------------------------------------
// 5. An agent moved out of a department.
// ---------------------------------------------------------------------------------------------

async fn agent_moved_out_of_a_department_loses_its_tickets_keeps_other_changes(backend: Backend) {
    let server = Server::start(backend).await;
    let org = server.org;
    let url = server.url();
    let (cai, admin) = tokio::join!(
        Client::ready(&url, &org.cai),
        Client::ready(&url, &org.admin)
    );
    let start = server.snapshot(&org.cai).await;
    let support: BTreeSet<TicketId> = start
        .tickets
        .values()
        .filter(|t| t.department.as_deref() == Some("support"))
        .map(|t| t.id)
        .collect();
    assert!(!support.is_empty());
    let cached = cai.ticket_ids().await;
    assert!(
        support.is_subset(&cached),
        "cai starts with the support tickets"
    );
    let finance = pick(&start, "finance", 3);
    let support_ticket = pick(&start, "support", 1)[0];

    // Unsent work: on finance tickets (kept), on a support ticket, and a new finance ticket.
    cai.desk
        .note(finance[0], "cai finance note".into())
        .await
        .unwrap();
    cai.desk
        .note(support_ticket, "cai support note".into())
        .await
        .unwrap();
    let created = Uuid::now_v7();
    cai.desk
        .create_ticket(new_ticket(created, "finance", "Refund not received"))
        .await
        .unwrap();
    cai.desk
        .note(created, "cai note on the new ticket".into())
        .await
        .unwrap();
    assert_eq!(cai.desk.sync_status().await.unwrap().unsent, 4);

    server.set_departments(&org.cai, &["finance"]).await;
    cai.settle(5).await;

    let cached = cai.ticket_ids().await;
    assert!(
        cached.is_disjoint(&support),
        "support tickets are still cached: {:?}",
        cached.intersection(&support).count()
    );
    assert!(cai.desk.inspect_ticket(support_ticket).await.is_err());
    assert!(cached.contains(&finance[0]) && cached.contains(&created));
    let mut texts = BTreeMap::new();
    texts.insert("cai finance note".to_owned(), finance[0]);
    texts.insert("cai note on the new ticket".to_owned(), created);
    let truth = server.snapshot(&org.admin).await;
    assert_each_once(&truth, &texts, "the server");
    assert!(truth.tickets[&created].key.is_some());
    assert_each_once(&cai.view(None).await, &texts, "cai's cache");
    // The note on the ticket cai can no longer see is refused, and says so.
    let problems = cai.desk.sync_problems().await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].ticket_id, Some(support_ticket));
    assert_eq!(problems[0].code, ErrorCode::TicketNotFound);
    assert!(
        matches!(&problems[0].mutation, Mutation::AddNote { text, .. } if text == "cai support note")
    );
    assert_eq!(
        truth.text_counts().get("cai support note"),
        None,
        "a note on a hidden ticket reached the server"
    );
    assert_converged(&server, &[&cai]).await;

    // A finance ticket moved to another department is revoked; unsent work elsewhere stays.
    cai.desk
        .note(finance[2], "cai note while f1 moves".into())
        .await
        .unwrap();
    admin
        .desk
        .change(Mutation::SetDepartment {
            ticket_id: finance[1],
            department: Some("tech".into()),
        })
        .await
        .unwrap();
    admin.settle(5).await;
    cai.settle(5).await;
    assert!(
        cai.desk.inspect_ticket(finance[1]).await.is_err(),
        "the moved ticket is still cached"
    );
    assert!(!cai.ticket_ids().await.contains(&finance[1]));
    texts.insert("cai note while f1 moves".to_owned(), finance[2]);
    assert_each_once(&server.snapshot(&org.admin).await, &texts, "the server");
    assert_each_once(&cai.view(None).await, &texts, "cai's cache");
    assert_converged(&server, &[&cai]).await;
}

fn new_ticket(id: TicketId, department: &str, subject: &str) -> NewTicket {
    NewTicket {
        id,
        subject: subject.into(),
        description: "Created by the whole-system tests.".into(),
        requester: Requester {
            name: "Lin Hua".into(),
            contact: "lin.hua@example.com".into(),
            account_id: None,
            tier: CustomerTier::Standard,
        },
        channel: Channel::Email,
        language: "en".into(),
        category: Category::FUNDS_NOT_ARRIVED,
        priority: Priority::P3,
        risk: RiskLevel::None,
        department: Some(department.into()),
        tags: Default::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// 6. A status change the server refuses.
// ---------------------------------------------------------------------------------------------

async fn refused_status_change_is_rolled_back_and_listed(backend: Backend) {
    let server = Server::start(backend).await;
    let org = server.org;
    let url = server.url();
    let (ann, bob) = tokio::join!(Client::ready(&url, &org.ann), Client::ready(&url, &org.bob));

    // Bob opens a ticket and works on it.
    let id = Uuid::now_v7();
    bob.desk
        .create_ticket(new_ticket(id, "support", "Card payment declined"))
        .await
        .unwrap();
    bob.desk
        .change(Mutation::SetAssignee {
            ticket_id: id,
            assignee: Some(org.bob.id),
        })
        .await
        .unwrap();
    set_status(&bob, id, Status::InProgress).await;
    bob.settle(5).await;
    ann.settle(5).await;
    assert_eq!(
        ann.desk.inspect_ticket(id).await.unwrap().ticket.status,
        Status::InProgress
    );

    // The pair: in_progress → pending is fine where Ann is, but Bob resolves the ticket first,
    // and resolved → pending is refused.
    let facts = TransitionFacts { has_assignee: true };
    assert!(check_transition(Status::InProgress, Status::Pending, facts).is_ok());
    let refusal = check_transition(Status::Resolved, Status::Pending, facts).unwrap_err();
    set_status(&ann, id, Status::Pending).await;
    ann.desk
        .note(id, "ann note beside the refused change".into())
        .await
        .unwrap();
    assert_eq!(
        ann.desk.inspect_ticket(id).await.unwrap().ticket.status,
        Status::Pending
    );
    set_status(&bob, id, Status::Resolved).await;
    bob.settle(5).await;

    ann.settle(5).await;
    let detail = ann.desk.inspect_ticket(id).await.unwrap();
    assert_eq!(
        detail.ticket.status,
        Status::Resolved,
        "ann's change was rolled back"
    );
    let to_pending = detail.entries.iter().any(|e| {
        matches!(
            &e.body,
            EntryBody::Event {
                event: TicketEvent::StatusChanged {
                    to: Status::Pending,
                    ..
                }
            }
        )
    });
    assert!(
        !to_pending,
        "the refused change left an event in ann's timeline"
    );
    let mut texts = BTreeMap::new();
    texts.insert("ann note beside the refused change".to_owned(), id);
    assert_each_once(&ann.view(None).await, &texts, "ann's cache");

    let problems = ann.desk.sync_problems().await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let problem = &problems[0];
    assert_eq!(problem.ticket_id, Some(id));
    assert_eq!(problem.code, ErrorCode::IllegalTransition);
    assert_eq!(problem.reason, refusal.to_string());
    assert!(matches!(
        problem.mutation,
        Mutation::SetStatus {
            status: Status::Pending,
            ..
        }
    ));
    assert_eq!(ann.desk.sync_status().await.unwrap().problems, 1);
    bob.settle(5).await;
    assert_converged(&server, &[&ann, &bob]).await;

    ann.desk.dismiss(problem.id).await.unwrap();
    assert!(ann.desk.sync_problems().await.unwrap().is_empty());
    assert_eq!(ann.desk.sync_status().await.unwrap().problems, 0);
    assert!(
        ann.desk.dismiss(problem.id).await.is_err(),
        "dismissed twice"
    );
    ann.settle(5).await;
    assert!(ann.desk.sync_problems().await.unwrap().is_empty());
    assert_eq!(
        ann.desk.inspect_ticket(id).await.unwrap().ticket.status,
        Status::Resolved
    );
}

async fn set_status(client: &Client, ticket_id: TicketId, status: Status) {
    client
        .desk
        .change(Mutation::SetStatus {
            ticket_id,
            status,
            reason: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{}: set {status}: {e}", client.account.email));
}

/// A local change is announced to subscribers at once (the desktop's queue and counts refresh
/// from these notices), before and independently of the server's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_changes_are_announced_to_subscribers() {
    let server = Server::start(Backend::Sqlite).await;
    let client = Client::ready(&server.url(), &server.org.ann).await;
    let snapshot = server.snapshot(&server.org.ann).await;
    let ticket = pick(&snapshot, "support", 1)[0];
    let mut changes = client.desk.subscribe().await.expect("subscribe");
    client
        .desk
        .note(
            ticket,
            "Checked with the bank; waiting for their answer.".into(),
        )
        .await
        .expect("a local note");
    let notice = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let notice = changes.recv().await.expect("the change stream");
            if notice.tickets.contains(&ticket) {
                return notice;
            }
        }
    })
    .await
    .expect("a notice for the changed ticket");
    assert!(
        !notice.everything && notice.revoked.is_empty(),
        "{notice:?}"
    );
}
