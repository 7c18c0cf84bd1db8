//! The UI's fake backend serves answers recorded here from a real [`Desk`], so UI tests see the
//! shapes, codes and messages the shell sends, and the UI holds no copy of a domain rule.
//!
//! Two generated files are compared with the checked-in ones (drift fails the test):
//! - `ui/src/backend/fixtures/desk.json`: a Desk on a synthetic cache (outpost-synth, loaded
//!   through a pull page as a server's first sync would), signed in offline as an agent and as
//!   a supervisor, with its clock pinned so SLA clocks and entry times do not depend on when
//!   the test runs. Reads, changes (with the ticket before and after), refusals with their
//!   codes and messages, a report. The audit trail lives on the server; its page, chain check
//!   and export checks are built with outpost-core's chain (real hashes) and the Desk's own
//!   offline export check.
//! - `ui/src/backend/rules.gen.ts`: the few rule tables the UI must mirror to draw controls
//!   (statuses, open statuses, verification dimensions and results, the low-score threshold, the
//!   L1 freeze window), from outpost-core.
//!
//! Regenerate both with `OUTPOST_UPDATE_FIXTURES=1 cargo test -p outpost-client --test
//! ui_fixtures`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use chrono::{DateTime, Duration, TimeZone, Utc};
use outpost_client::admin::{InviteKind, NewUser};
use outpost_client::desk::{pin_clock_for_tests, Desk, DeskConfig, DeskError, ErrorDto, Unlock};
use outpost_client::supervisor::{check_export, write_new_file, SavedExport, SavedFile};
use outpost_client::vault::{KdfParams, Profile, RefreshToken, Vault};
use outpost_core::apply::{settable_risks, MAX_ATTACHMENT_BYTES};
use outpost_core::audit::{AuditEvent, ChainHead, Hash32, Verifier};
use outpost_core::audit_export::{AuditExport, AuditPage, AuditQuery, AuditRecord};
use outpost_core::files::{FileType, MAX_ATTACHMENTS_PER_MESSAGE};
use outpost_core::model::{
    Category, Department, Entry, EntryBody, RiskLevel, Role, Status, Template, Ticket, User,
    VerificationCheck, VerificationDimension, VerificationResult, LOW_CSAT_SCORE,
};
use outpost_core::rules::L1_FREEZE_WITHIN;
use outpost_core::settings::{CategoryEntry, MacroChanges, SettingsDoc};
use outpost_core::sla::BusinessCalendar;
use outpost_core::sync::{
    Change, ChangeKind, Mutation, MutationResult, PullResponse, RiskActionArgs,
};
use outpost_store::{QueueFilter, QueueSort, ReportParams, Store};
use outpost_synth::{departments, tickets_with_entries, SynthConfig};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

const UI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/backend");
const REGENERATE: &str =
    "regenerate with OUTPOST_UPDATE_FIXTURES=1 cargo test -p outpost-client --test ui_fixtures";
/// Connection refused at once: the Desk works offline, as on a train.
const SERVER: &str = "http://127.0.0.1:9";
const PASSPHRASE: &str = "ui fixtures passphrase";

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
}

/// A fixed id for things this test creates (entries, tickets), so recordings are stable.
fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

fn synth() -> SynthConfig {
    SynthConfig {
        seed: 7,
        tickets: 80,
        entries: 240,
        agents: 4,
        span_days: 4,
        ..SynthConfig::default()
    }
}

fn templates() -> Vec<Template> {
    let t = |n: u128, name: &str, language: &str, body: &str, categories: Vec<Category>| Template {
        id: id(900 + n),
        name: name.into(),
        language: language.into(),
        body: body.into(),
        categories,
        changes: MacroChanges::default(),
        active: true,
    };
    vec![
        t(1, "Acknowledge", "en", "Hello {{customer.name}},\n\nwe are looking into \"{{ticket.subject}}\" ({{ticket.key}}).\n\n{{agent.name}}", vec![]),
        t(2, "Refund on its way", "en", "Hello {{customer.name}}, the refund is on its way. {{agent.name}}", vec![Category::FUNDS_NOT_ARRIVED]),
        t(3, "受理确认", "zh-CN", "{{customer.name}}，您好：\n\n您反馈的「{{ticket.subject}}」（{{ticket.key}}）我们正在处理。\n\n{{agent.name}}", vec![]),
        t(4, "退款处理中", "zh-CN", "{{customer.name}}，您好：退款正在处理中。{{agent.name}}", vec![Category::FUNDS_NOT_ARRIVED]),
    ]
}

/// A profile directory with a passphrase vault, a profile file and a cache holding the synthetic
/// data, as a first sync would leave it; the Desk then resumes it offline.
async fn desk_for(
    dir: &Path,
    user: &User,
    data: &[(Ticket, Vec<Entry>)],
    now: DateTime<Utc>,
) -> Desk {
    let vault = fixture_vault();
    let (profile, profile_dir) = profile_of(dir, user);
    std::fs::create_dir_all(&profile_dir).unwrap();
    let unlocked = vault
        .create_with_passphrase(&profile, &profile_dir, PASSPHRASE)
        .unwrap();
    let write = |path: PathBuf, value: Value| {
        std::fs::write(path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    };
    write(
        profile_dir.join("profile.json"),
        json!({ "server": SERVER, "email": user.email, "user": user, "device_id": id(1) }),
    );
    write(
        dir.join("last-profile"),
        json!({ "server": SERVER, "email": user.email }),
    );
    {
        let mut store = Store::open(&profile_dir.join("cache.db"), unlocked.db_key()).unwrap();
        let mut changes = Vec::new();
        let mut seq = 0;
        let mut push = |kind| {
            seq += 1;
            changes.push(Change { seq, kind });
        };
        for d in departments() {
            push(ChangeKind::Department(d));
        }
        for u in outpost_synth::users(&synth()) {
            push(ChangeKind::User(u));
        }
        for t in templates() {
            push(ChangeKind::Template(t));
        }
        for (ticket, entries) in data {
            push(ChangeKind::Ticket(Box::new(ticket.clone())));
            for e in entries {
                push(ChangeKind::Entry(Box::new(e.clone())));
            }
        }
        let page = PullResponse {
            changes,
            cursor: seq,
            has_more: false,
            last_mutation_id: 0,
            reset_required: false,
        };
        store.apply_pull_pages(&[page], now).unwrap();
    }
    // A session saved at sign-in: offline, server calls then fail as `offline`.
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("fixture-refresh-token"))
        .unwrap();
    drop(unlocked);
    let desk = Desk::new(
        vault,
        DeskConfig {
            data_dir: dir.to_owned(),
            ca_pem: None,
        },
    );
    desk.resume(Unlock::Passphrase(PASSPHRASE.into()))
        .await
        .unwrap();
    desk
}

fn fixture_vault() -> Vault {
    Vault::new(
        keyring::mock::default_credential_builder(),
        "outpost-ui-fixtures",
    )
    .with_kdf_params(KdfParams::new(64, 1, 1).unwrap())
}

fn profile_of(dir: &Path, user: &User) -> (Profile, PathBuf) {
    let profile = Profile::new(SERVER, &user.email).unwrap();
    let profile_dir = dir.join(profile.id().as_str());
    (profile, profile_dir)
}

/// Answers the server gives to a push, written into the (locked) Desk's cache as the sync
/// engine would after a push: a field the server decided otherwise and a refused change.
fn record_server_answers(dir: &Path, user: &User, results: Value, now: DateTime<Utc>) {
    let (profile, profile_dir) = profile_of(dir, user);
    let unlocked = fixture_vault()
        .unlock_with_passphrase(&profile, &profile_dir, PASSPHRASE)
        .unwrap();
    let mut store = Store::open(&profile_dir.join("cache.db"), unlocked.db_key()).unwrap();
    let results: Vec<MutationResult> = serde_json::from_value(results).unwrap();
    store.record_push_results(&results, now).unwrap();
}

/// The operating system's words for a refused connection differ per platform.
fn without_os_words(message: &mut String) {
    if let Some((kept, _)) = message.split_once(": error sending request") {
        *message = kept.to_owned();
    }
}

/// Recorded answers by name: `{"ok": value}` or `{"err": {code, message}}`.
#[derive(Default)]
struct Recording(BTreeMap<String, Value>);

impl Recording {
    fn ok(&mut self, name: &str, value: impl Serialize) {
        let old = self.0.insert(name.into(), json!({ "ok": value }));
        assert!(old.is_none(), "{name} recorded twice");
    }

    fn answer<T: Serialize>(&mut self, name: &str, result: Result<T, DeskError>) -> Option<T> {
        let (entry, value) = match result {
            Ok(v) => (json!({ "ok": &v }), Some(v)),
            Err(e) => {
                let mut dto = ErrorDto::from(&e);
                without_os_words(&mut dto.message);
                (json!({ "err": dto }), None)
            }
        };
        let old = self.0.insert(name.into(), entry);
        assert!(old.is_none(), "{name} recorded twice");
        value
    }

    fn err<T: Serialize>(&mut self, name: &str, result: Result<T, DeskError>) {
        assert!(result.is_err(), "{name} should be refused");
        self.answer(name, result);
    }
}

fn all_tickets() -> QueueFilter {
    QueueFilter::default()
}

async fn record() -> (String, String) {
    let cfg = synth();
    let now = cfg.now;
    pin_clock_for_tests(Some(now));
    let data: Vec<_> = tickets_with_entries(&cfg).collect();
    let users = outpost_synth::users(&cfg);
    let agent = users
        .iter()
        .find(|u| u.role == Role::Agent)
        .unwrap()
        .clone();
    let supervisor = users
        .iter()
        .find(|u| u.role == Role::Supervisor)
        .unwrap()
        .clone();
    let admin = users
        .iter()
        .find(|u| u.role == Role::Admin)
        .unwrap()
        .clone();
    let mut r = Recording::default();

    // ---- the agent's desk ------------------------------------------------------------------
    let agent_dir = tempfile::tempdir().unwrap();
    let desk = desk_for(agent_dir.path(), &agent, &data, now).await;
    r.answer("me.agent", desk.me().await);
    r.answer("directory", desk.directory().await);
    r.answer("templates", desk.templates().await);
    r.ok("status_machine", Desk::status_machine());
    let page = r
        .answer(
            "queue.all",
            desk.queue(all_tickets(), QueueSort::Updated, None, 100)
                .await,
        )
        .unwrap();
    assert!(
        page.rows.len() == cfg.tickets,
        "every synthetic ticket is on the first page"
    );
    r.answer("queue_count.all", desk.queue_count(all_tickets()).await);

    let open = |t: &Ticket| t.status.is_open();
    let find = |pred: &dyn Fn(&Ticket, &[Entry]) -> bool| {
        data.iter()
            .find(|(t, e)| pred(t, e))
            .map(|(t, _)| t.clone())
            .expect("the synthetic data has such a ticket")
    };
    // A general question (not sensitive), open.
    let plain = find(&|t, _| open(t) && !t.is_sensitive());
    r.answer("ticket.plain", desk.ticket(plain.id).await);
    r.answer("assignees.plain.agent", desk.assignees(plain.id).await);
    r.answer(
        "reply.plain",
        desk.change(Mutation::AddReply {
            entry_id: id(10),
            ticket_id: plain.id,
            text: "Hello there".into(),
        })
        .await,
    );
    r.answer("ticket.plain.after_reply", desk.ticket(plain.id).await);
    r.answer(
        "note.plain",
        desk.change(Mutation::AddNote {
            entry_id: id(11),
            ticket_id: plain.id,
            text: "internal".into(),
        })
        .await,
    );
    r.answer("ticket.plain.after_note", desk.ticket(plain.id).await);

    // A status change the machine allows, then one it refuses.
    let status_ticket = find(&|t, _| open(t) && t.assignee.is_some() && t.id != plain.id);
    let allowed = outpost_core::status::allowed_targets(status_ticket.status);
    let target = if allowed.contains(&Status::Pending) {
        Status::Pending
    } else {
        allowed[0]
    };
    let illegal = *Status::ALL
        .iter()
        .find(|s| **s != status_ticket.status && !allowed.contains(s))
        .expect("some status is not reachable");
    r.answer("ticket.status", desk.ticket(status_ticket.id).await);
    let status_change = r
        .answer(
            "change.set_status.allowed",
            desk.change(Mutation::SetStatus {
                ticket_id: status_ticket.id,
                status: target,
                reason: None,
            })
            .await,
        )
        .unwrap();
    r.answer(
        "ticket.status.after_change",
        desk.ticket(status_ticket.id).await,
    );
    r.err(
        "change.set_status.illegal",
        desk.change(Mutation::SetStatus {
            ticket_id: status_ticket.id,
            status: illegal,
            reason: None,
        })
        .await,
    );

    // Identity verification gating an L1 freeze, with the 10-minute clock.
    let takeover = find(&|t, _| {
        open(t)
            && t.risk != RiskLevel::L1
            && t.requester.account_id.is_some()
            && t.id != plain.id
            && t.id != status_ticket.id
    });
    let t0 = now - Duration::minutes(30);
    pin_clock_for_tests(Some(t0));
    let risk_change = desk
        .change(Mutation::SetRisk {
            ticket_id: takeover.id,
            risk: RiskLevel::L1,
        })
        .await
        .unwrap();
    pin_clock_for_tests(Some(t0 + Duration::minutes(2)));
    r.answer("ticket.l1.unverified", desk.ticket(takeover.id).await);
    let checks = |dims: &[VerificationDimension]| {
        dims.iter()
            .map(|d| VerificationCheck {
                dimension: *d,
                result: VerificationResult::Passed,
                method: "call-back on the registered number".into(),
            })
            .collect::<Vec<_>>()
    };
    use VerificationDimension as D;
    r.answer(
        "change.verification.four",
        desk.change(Mutation::RecordVerification {
            entry_id: id(20),
            ticket_id: takeover.id,
            checks: checks(&[
                D::SmsCode,
                D::RealNameInfo,
                D::UsualDevice,
                D::TransactionHabits,
            ]),
        })
        .await,
    );
    r.answer("ticket.l1.four", desk.ticket(takeover.id).await);
    let freeze = |entry: u128| {
        Mutation::FreezeAccount(RiskActionArgs {
            entry_id: id(entry),
            ticket_id: takeover.id,
            target: takeover.requester.account_id.clone().unwrap(),
            reason: "active takeover".into(),
        })
    };
    r.err("change.freeze.unverified", desk.change(freeze(21)).await);
    pin_clock_for_tests(Some(t0 + Duration::minutes(3)));
    r.answer(
        "change.verification.five",
        desk.change(Mutation::RecordVerification {
            entry_id: id(22),
            ticket_id: takeover.id,
            checks: checks(&[D::TransactionPassword]),
        })
        .await,
    );
    r.answer("ticket.l1.five", desk.ticket(takeover.id).await);
    pin_clock_for_tests(Some(t0 + Duration::minutes(4)));
    r.answer("change.freeze", desk.change(freeze(23)).await);
    r.answer("ticket.l1.frozen", desk.ticket(takeover.id).await);
    r.err("change.freeze.again", desk.change(freeze(24)).await);
    r.err(
        "change.intercept.again",
        async {
            let args = |n| RiskActionArgs {
                entry_id: id(n),
                ticket_id: takeover.id,
                target: "tx-0001".into(),
                reason: "suspicious transfer".into(),
            };
            desk.change(Mutation::InterceptTransaction(args(25)))
                .await?;
            desk.change(Mutation::InterceptTransaction(args(26))).await
        }
        .await,
    );
    pin_clock_for_tests(Some(now));

    // Refusals the pages explain.
    r.err("ticket.unknown", desk.ticket(id(999)).await);
    r.err("resolve_key.unknown", desk.resolve("OP-99999").await);
    r.err("report.agent", desk.report(report_params(now)).await);
    r.err(
        "put_department.agent",
        desk.put_department(Department {
            code: "vip".into(),
            name: "VIP".into(),
            active: true,
        })
        .await,
    );
    r.err("sign_out.unsent", desk.sign_out(false).await);
    r.answer("sync_status.offline", desk.sync_status().await);

    // Search: a word from a subject, so there are hits with highlight ranges.
    let word = plain
        .subject
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| w.chars().count() >= 4)
        .map_or_else(|| plain.subject.chars().take(3).collect(), str::to_owned);
    r.ok("search.query", &word);
    r.answer("search.hits", desk.search(word, 20).await);

    // Sync attempts with the server out of reach: the Desk says offline, calmly.
    r.err("sync_now.offline", desk.sync_now().await);
    let mut status = serde_json::to_value(desk.sync_status().await.unwrap()).unwrap();
    if let Some(Value::String(reason)) = status.pointer_mut("/connectivity/reason") {
        let mut kept = reason.clone();
        without_os_words(&mut kept);
        *reason = kept;
    }
    // The sync engine's retry time reads the wall clock, not the Desk's pinned one.
    if let Some(retry_at) = status.pointer_mut("/connectivity/retry_at") {
        *retry_at = json!(now);
    }
    r.ok("sync_status.after_failed_sync", status);
    r.err(
        "sign_in.offline",
        desk.sign_in(
            SERVER,
            &agent.email,
            "a password",
            None,
            Unlock::Passphrase(PASSPHRASE.into()),
        )
        .await,
    );

    // The server's answers to a push: another agent's risk level won; the status change was
    // refused (the server's copy had been resolved meanwhile).
    desk.lock().await;
    let other = users
        .iter()
        .find(|u| u.role == Role::Agent && u.id != agent.id)
        .unwrap();
    let refusal = outpost_core::status::check_transition(
        Status::Resolved,
        target,
        outpost_core::status::TransitionFacts { has_assignee: true },
    )
    .unwrap_err();
    record_server_answers(
        agent_dir.path(),
        &agent,
        json!([
            { "mutation_id": risk_change.mutation_id, "outcome": "conflict", "revision": 9,
              "fields": [{ "field": "risk", "yours": "L1", "winner": "L2",
                           "changed_by": other.id, "changed_at": now - Duration::minutes(20) }] },
            { "mutation_id": status_change.mutation_id, "outcome": "rejected",
              "code": "illegal_transition", "reason": refusal.to_string() },
        ]),
        now,
    );
    r.err(
        "unlock.wrong_passphrase",
        desk.resume(Unlock::Passphrase("not the passphrase".into()))
            .await,
    );
    desk.resume(Unlock::Passphrase(PASSPHRASE.into()))
        .await
        .unwrap();
    let conflicts = r.answer("conflicts", desk.conflicts().await).unwrap();
    let problems = r
        .answer("sync_problems", desk.sync_problems().await)
        .unwrap();
    r.answer("sync_status.with_issues", desk.sync_status().await);
    r.answer("reapply.problem", desk.reapply(problems[0].id).await);
    r.answer("dismiss.conflict", desk.dismiss(conflicts[0].id).await);
    r.answer("conflicts.after_dismiss", desk.conflicts().await);
    r.answer("sync_problems.after_reapply", desk.sync_problems().await);

    // A ticket taken by phone, created on this desk (the page mints the id).
    let create: Mutation = serde_json::from_value(json!({
        "name": "ticket.create",
        "args": {
            "id": id(30), "subject": "电话报案：账户被盗", "description": "",
            "requester": { "name": "刘洋", "contact": "+86 138 0000 0000", "account_id": null,
                           "tier": "standard" },
            "channel": "phone", "language": "zh-CN", "category": "inquiry", "priority": "P3",
            "risk": "none", "department": agent.departments.first(), "tags": []
        }
    }))
    .unwrap();
    r.answer("change.create", desk.change(create.clone()).await);
    r.err("change.create.again", desk.change(create).await);
    r.answer("ticket.created", desk.ticket(id(30)).await);
    desk.lock().await;

    // ---- the supervisor's desk -------------------------------------------------------------
    let sup_dir = tempfile::tempdir().unwrap();
    let desk = desk_for(sup_dir.path(), &supervisor, &data, now).await;
    r.answer("me.supervisor", desk.me().await);
    r.answer("assignees.plain.supervisor", desk.assignees(plain.id).await);
    r.answer("report.last30", desk.report(report_params(now)).await);
    r.answer(
        "report.empty",
        desk.report(ReportParams {
            from: at(2020, 1, 1, 0, 0),
            to: at(2020, 1, 8, 0, 0),
            ..report_params(now)
        })
        .await,
    );
    let sensitive = find(&|t, e| {
        t.is_sensitive()
            && e.iter()
                .any(|e| matches!(e.body, EntryBody::CustomerMessage { .. }))
    });
    let detail = r
        .answer("ticket.sensitive", desk.ticket(sensitive.id).await)
        .unwrap();
    let message = detail
        .entries
        .iter()
        .find(|e| matches!(e.body, EntryBody::CustomerMessage { .. }))
        .unwrap()
        .id;
    let redact = || Mutation::RedactEntry {
        ticket_id: sensitive.id,
        entry_id: message,
        reason: "password in clear".into(),
    };
    r.answer("change.redact", desk.change(redact()).await);
    r.answer(
        "ticket.sensitive.after_redact",
        desk.ticket(sensitive.id).await,
    );
    r.err("change.redact.again", desk.change(redact()).await);
    // The same customer calls again about the same thing: a recurring issue in the report,
    // named by the first ticket's key and the new (unsynced) ticket's id.
    pin_clock_for_tests(Some(now - Duration::minutes(5)));
    let again: Mutation = serde_json::from_value(json!({
        "name": "ticket.create",
        "args": {
            "id": id(31), "subject": "实名信息修改还在审核", "description": "",
            "requester": sensitive.requester, "channel": "phone", "language": "zh-CN",
            "category": sensitive.category, "priority": "P3", "risk": "none",
            "department": sensitive.department, "tags": []
        }
    }))
    .unwrap();
    desk.change(again).await.unwrap();
    pin_clock_for_tests(Some(now));
    r.answer("report.recurring", desk.report(report_params(now)).await);
    r.answer("ticket.called_again", desk.ticket(id(31)).await);
    r.err(
        "audit_page.offline",
        desk.audit_page(AuditQuery::default()).await,
    );
    r.err("audit_verify.offline", desk.audit_verify().await);
    desk.lock().await;
    pin_clock_for_tests(None);

    admin_area(&mut r, &admin, &data, now).await;
    audit(&mut r, &users, &data, &sensitive, now);

    let text = serde_json::to_string_pretty(&r.0).unwrap() + "\n";
    (text, rules_ts())
}

/// The admin's desk: the organisation's settings read and changed offline (queued, shown at
/// once), the rules preview, the calendar's effect, and the admin endpoints' offline refusal.
async fn admin_area(
    r: &mut Recording,
    admin: &User,
    data: &[(Ticket, Vec<Entry>)],
    now: DateTime<Utc>,
) {
    pin_clock_for_tests(Some(now));
    let dir = tempfile::tempdir().unwrap();
    let desk = desk_for(dir.path(), admin, data, now).await;
    r.answer("me.admin", desk.me().await);
    let view = r.answer("org_settings", desk.org_settings().await).unwrap();
    let mut sla = view.settings.sla_settings().clone();
    sla.calendar = BusinessCalendar::weekdays(
        "Mon–Fri 09:00–18:00",
        serde_json::from_value(json!("Europe/Lisbon")).unwrap(),
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    );
    r.answer(
        "calendar_effect.lisbon",
        desk.calendar_effect(sla.clone()).await,
    );
    // Each change answers the whole view, as `org_settings.after_changes` shows it at the end.
    desk.change_settings(0, SettingsDoc::Sla(sla.clone()))
        .await
        .unwrap();
    r.err(
        "change_settings.stale",
        desk.change_settings(0, SettingsDoc::Sla(sla)).await,
    );
    desk.put_department(Department {
        code: "vip".into(),
        name: "VIP 贵宾服务".into(),
        active: true,
    })
    .await
    .unwrap();
    desk.put_template(Template {
        id: id(950),
        name: "Escalate to risk".into(),
        language: "en".into(),
        body: "Hello {{customer.name}}, a specialist is looking at {{ticket.key}}.".into(),
        categories: vec![Category::LOGIN_ANOMALY],
        changes: MacroChanges {
            status: Some(Status::InProgress),
            priority: Some(outpost_core::model::Priority::P2),
            add_tags: vec!["escalated".into()],
        },
        active: true,
    })
    .await
    .unwrap();
    r.err(
        "put_template.bad_placeholder",
        desk.put_template(Template {
            id: id(951),
            name: "Broken".into(),
            language: "en".into(),
            body: "Hello {{customer.nickname}}".into(),
            categories: vec![],
            changes: MacroChanges::default(),
            active: true,
        })
        .await,
    );
    r.answer("org_settings.after_changes", desk.org_settings().await);
    r.answer(
        "preview_rules",
        desk.preview_rules(
            view.settings.rule_set().clone(),
            "账户被盗，请立即冻结".into(),
            "Someone logged in from another phone and moved money".into(),
        )
        .await,
    );
    r.err("admin_intake_keys.offline", desk.admin_intake_keys().await);
    r.err(
        "admin_add_user.offline",
        desk.admin_add_user(NewUser {
            email: "new.agent@example.com".into(),
            name: "New Agent".into(),
            role: Role::Agent,
            departments: vec!["support".into()],
            skills: vec![],
            invite: InviteKind::Link,
        })
        .await,
    );
    // The organisation adds a category of its own and retires a product one: the view lists
    // its own after the product's, named, and flags the retired one (the UI's tests of
    // categories use this list).
    let catalogue = desk.org_settings().await.unwrap().settings.catalogue;
    let mut doc = match catalogue.settings {
        SettingsDoc::Catalogue(doc) => doc,
        other => panic!("the catalogue document, not {other:?}"),
    };
    doc.categories = vec![
        CategoryEntry {
            category: Category::new("merchant_onboarding").unwrap(),
            label_en: "Merchant onboarding".into(),
            label_zh: "商户入驻".into(),
            retired: false,
        },
        CategoryEntry {
            category: Category::KYC_REVIEW,
            label_en: String::new(),
            label_zh: String::new(),
            retired: true,
        },
    ];
    desk.change_settings(catalogue.version, SettingsDoc::Catalogue(doc))
        .await
        .unwrap();
    // Only the list: the whole view is recorded above.
    r.answer(
        "org_settings.categories.own",
        desk.org_settings().await.map(|view| view.categories),
    );
    desk.lock().await;
}

fn report_params(now: DateTime<Utc>) -> ReportParams {
    ReportParams {
        from: now - Duration::days(30),
        to: now,
        departments: vec![],
        assignee: None,
        recurring_days: 30,
        utc_offset_minutes: 0,
    }
}

/// The audit trail is the server's: a chain sealed with outpost-core (the hashes the server
/// writes and the Desk checks), served as the newest-first page the audit screen reads, the
/// Desk's verification verdicts on it, and the Desk's offline checks of an export of it.
fn audit(
    r: &mut Recording,
    users: &[User],
    data: &[(Ticket, Vec<Entry>)],
    sensitive: &Ticket,
    now: DateTime<Utc>,
) {
    let mut head = ChainHead::default();
    let mut events = Vec::new();
    let mut time = now - Duration::hours(6);
    let device = Some(id(1).to_string());
    let mut push = |actor: &str,
                    action: &str,
                    ticket: Option<&Ticket>,
                    detail: Value,
                    device: Option<String>| {
        time += Duration::minutes(7);
        let chained = head.append(AuditEvent {
            seq: 0,
            at: time,
            actor: actor.into(),
            device,
            address: Some("192.0.2.10".into()),
            action: action.into(),
            ticket_id: ticket.map(|t| t.id),
            before: ticket.map(|t| Hash32::digest(t.subject.as_bytes())),
            after: ticket.map(|t| Hash32::digest(t.id.as_bytes())),
            detail: detail.to_string(),
        });
        events.push(AuditRecord {
            chained,
            department: ticket.and_then(|t| t.department.clone()),
        });
    };
    for (i, (ticket, _)) in data.iter().take(12).enumerate() {
        let user = &users[i % users.len()];
        let uid = user.id.to_string();
        push(
            &format!("intake:{}", ticket.channel),
            "ticket.create",
            Some(ticket),
            json!({ "mutation_id": 1, "revision": 1, "changes": [{ "type": "created" }] }),
            None,
        );
        push(
            &uid,
            "ticket.set_status",
            Some(ticket),
            json!({ "mutation_id": i + 2, "revision": 2,
            "changes": [{ "type": "status_changed", "from": "triaged", "to": "in_progress" }] }),
            device.clone(),
        );
        if i % 3 == 0 {
            let viewed_at = (now - Duration::hours(5) + Duration::minutes(i as i64)).to_rfc3339();
            push(
                &uid,
                "ticket.view",
                Some(ticket),
                json!({ "mutation_id": i + 3, "revision": 2,
                "viewed_at": viewed_at }),
                device.clone(),
            );
        }
        if i % 4 == 0 {
            push(
                &uid,
                "session.login",
                None,
                json!({ "family": format!("{:032x}", i) }),
                None,
            );
        }
    }
    // Two people opened the sensitive ticket, on two devices (its "Viewed by").
    for (n, user) in users
        .iter()
        .filter(|u| u.role != Role::Admin)
        .take(2)
        .enumerate()
    {
        let viewed_at = (now - Duration::hours(1) + Duration::minutes(n as i64)).to_rfc3339();
        push(
            &user.id.to_string(),
            "ticket.view",
            Some(sensitive),
            json!({ "mutation_id": 40 + n, "revision": 3, "viewed_at": viewed_at }),
            Some(id(2 + n as u128).to_string()),
        );
    }
    let matching = |pred: &dyn Fn(&AuditRecord) -> bool| AuditPage {
        events: events.iter().rev().filter(|e| pred(e)).cloned().collect(),
        has_more: false,
        head: head.clone(),
    };
    r.ok(
        "audit_page.views",
        matching(&|e| {
            e.chained.event.action == "ticket.view"
                && e.chained.event.ticket_id == Some(sensitive.id)
        }),
    );
    let first_ticket = data[0].0.id;
    r.ok(
        "audit_page.ticket",
        matching(&|e| e.chained.event.ticket_id == Some(first_ticket)),
    );
    let newest_first = |from: usize, n: usize| -> Vec<AuditRecord> {
        events.iter().rev().skip(from).take(n).cloned().collect()
    };
    r.ok(
        "audit_page.first",
        AuditPage {
            events: newest_first(0, 20),
            has_more: true,
            head: head.clone(),
        },
    );
    r.ok(
        "audit_page.second",
        AuditPage {
            events: newest_first(20, 20),
            has_more: false,
            head: head.clone(),
        },
    );
    let mut verifier = Verifier::new();
    for e in &events {
        verifier.push(&e.chained).unwrap();
    }
    let verified = verifier.finish();
    let check = |broken| outpost_client::supervisor::ChainCheck {
        checked_at: now,
        checked: verified.count,
        verified_head: verified.head.clone(),
        server_head: head.clone(),
        broken,
        previous: None,
        previous_matches: None,
        seconds: 0.4,
    };
    r.ok("audit_verify.ok", check(None));
    let mut tampered = events.iter().map(|e| e.chained.clone()).collect::<Vec<_>>();
    tampered[8].event.detail = r#"{"changes":[]}"#.into();
    let mut v = Verifier::new();
    let broken = tampered.iter().find_map(|e| v.push(e).err());
    assert!(broken.is_some());
    r.ok("audit_verify.broken", check(broken));
    // Event #5 gone: the Desk names the gap.
    let mut v = Verifier::new();
    let missing = events
        .iter()
        .filter(|e| e.chained.event.seq != 5)
        .find_map(|e| v.push(&e.chained).err());
    assert!(missing.is_some());
    r.ok("audit_verify.missing", check(missing));
    // A head verified earlier that is no longer part of the chain: history was rewritten.
    let earlier = ChainHead {
        last_seq: verified.head.last_seq - 3,
        hash: Hash32::digest(b"a head from before the rewrite"),
    };
    r.ok(
        "audit_verify.rewritten",
        outpost_client::supervisor::ChainCheck {
            previous: Some(earlier),
            previous_matches: Some(false),
            ..check(None)
        },
    );

    let export = AuditExport::new(
        events.iter().map(|e| e.chained.clone()).collect(),
        head.clone(),
        &AuditQuery::default(),
        users[0].id.to_string(),
        SERVER.into(),
        now,
    );
    let text = export.to_json();
    r.ok("audit_export.json_text", &text);
    let name = format!(
        "outpost-audit-{}-{}.json",
        export.header.first_seq, export.header.last_seq
    );
    r.ok(
        "audit_export.saved",
        SavedExport {
            file: saved_file(&name, text.as_bytes()),
            header: export.header.clone(),
        },
    );
    r.ok(
        "save_file.report",
        saved_file(
            "outpost-report-categories-2026-10-02-2026-11-01.csv",
            "\u{feff}\"Category\",\"Count\"\r\n".as_bytes(),
        ),
    );
    r.ok("audit_check_export.verified", check_export(&text, None));
    let mut edited: Value = serde_json::from_str(&text).unwrap();
    edited["events"][2]["detail"] =
        json!(r#"{"changes":[{"type":"status_changed","from":"new","to":"closed"}]}"#);
    let edited = serde_json::to_string(&edited).unwrap();
    r.ok("audit_check_export.edited_text", &edited);
    r.ok("audit_check_export.problem", check_export(&edited, None));
    r.ok(
        "audit_check_export.unreadable",
        check_export("name,amount\nx,1\n", None),
    );
}

/// A file written as the Desk writes exports (`write_new_file`), shown under a stable
/// Downloads folder instead of the temporary one.
fn saved_file(name: &str, bytes: &[u8]) -> SavedFile {
    let dir = tempfile::tempdir().unwrap();
    let path = write_new_file(dir.path(), name, bytes).unwrap();
    let file = path.file_name().unwrap().to_string_lossy();
    SavedFile {
        path: format!("/home/ben.carter/Downloads/{file}"),
        bytes: std::fs::metadata(&path).unwrap().len(),
    }
}

fn list<T: Serialize>(items: impl IntoIterator<Item = T>) -> String {
    let names: Vec<String> = items
        .into_iter()
        .map(|i| serde_json::to_string(&i).unwrap())
        .collect();
    format!("[{}]", names.join(", "))
}

fn rules_ts() -> String {
    let open = Status::ALL.iter().filter(|s| s.is_open());
    format!(
        "// Generated from outpost-core by crates/outpost-client/tests/ui_fixtures.rs; do not edit.\n\
         // {REGENERATE}\n\
         import type {{ Category, FileType, RiskLevel, Role, Status, VerificationDimension, VerificationResult }} from \"./types\";\n\
         \n\
         /** Every status, in the order of the status machine (`Status::ALL`). */\n\
         export const STATUSES: Status[] = {};\n\
         \n\
         /** The statuses of open tickets (`Status::is_open`). */\n\
         export const OPEN_STATUSES: Status[] = {};\n\
         \n\
         /** The identity-verification dimensions, in checklist order. */\n\
         export const VERIFICATION_DIMENSIONS: VerificationDimension[] = {};\n\
         \n\
         export const VERIFICATION_RESULTS: VerificationResult[] = {};\n\
         \n\
         /** A satisfaction score at or below this reopens the ticket (`LOW_CSAT_SCORE`). */\n\
         export const LOW_CSAT_SCORE = {LOW_CSAT_SCORE};\n\
         \n\
         /** An L1 risk has the account frozen within this many seconds (`L1_FREEZE_WITHIN`). */\n\
         export const L1_FREEZE_WITHIN_SECONDS = {};\n\
         \n\
         /** Risk levels, least severe first (`RiskLevel::ALL`). */\n\
         export const RISK_LEVELS: RiskLevel[] = {};\n\
         \n\
         /** The levels each role may set a ticket at one level to (`settable_risks`): only\n\
         \x20* supervisors and admins lower a level. */\n\
         export const SETTABLE_RISKS: Record<Role, Record<RiskLevel, RiskLevel[]>> = {};\n\
         \n\
         /** The placeholders a template or macro body may use (`settings::TEMPLATE_PLACEHOLDERS`;\n\
         \x20* the Desk refuses any other). */\n\
         export const TEMPLATE_PLACEHOLDERS = {} as const;\n\
         \n\
         /** The product's categories (`Category::BUILT_IN`); an organisation adds its own in its\n\
         \x20* catalogue, retires any, and deletes none. */\n\
         export const BUILT_IN_CATEGORIES: Category[] = {};\n\
         \n\
         /** Every kind of file Outpost stores (`files::FileType::ALL`), the choices of an\n\
         \x20* organisation's attachment policy. */\n\
         export const FILE_TYPES: FileType[] = {};\n\
         \n\
         /** The media types the desktop previews (`FileType::is_image`): decoded to pixels in Rust\n\
         \x20* and re-encoded as PNG; every other file is only saved. */\n\
         export const PREVIEWABLE_MIMES: string[] = {};\n\
         \n\
         /** The largest attachment anyone may send, in bytes (`apply::MAX_ATTACHMENT_BYTES`). */\n\
         export const MAX_ATTACHMENT_BYTES = {MAX_ATTACHMENT_BYTES};\n\
         \n\
         /** The most files one customer message may carry (`files::MAX_ATTACHMENTS_PER_MESSAGE`). */\n\
         export const MAX_ATTACHMENTS_PER_MESSAGE = {MAX_ATTACHMENTS_PER_MESSAGE};\n",
        list(Status::ALL),
        list(open),
        list(VerificationDimension::ALL),
        list(VerificationResult::ALL),
        L1_FREEZE_WITHIN.num_seconds(),
        list(RiskLevel::ALL),
        settable_risks_ts(),
        list(outpost_core::settings::TEMPLATE_PLACEHOLDERS.iter()),
        list(Category::BUILT_IN),
        list(FileType::ALL),
        list(
            FileType::ALL
                .iter()
                .filter(|t| t.is_image())
                .map(|t| t.mime())
        ),
    )
}

fn settable_risks_ts() -> String {
    let roles: Vec<String> = Role::ALL
        .iter()
        .map(|role| {
            let levels: Vec<String> = RiskLevel::ALL
                .iter()
                .map(|from| {
                    format!(
                        "{}: {}",
                        serde_json::to_string(from.as_str()).expect("text"),
                        list(settable_risks(*role, *from))
                    )
                })
                .collect();
            format!("{}: {{ {} }}", role.as_str(), levels.join(", "))
        })
        .collect();
    format!("{{ {} }}", roles.join(", "))
}

/// One test: the Desk's clock is pinned for the whole process while recording. Recording twice
/// gives the same bytes, so nothing volatile slipped into the fixtures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_fixtures_match_a_real_desk() {
    let (fixtures, rules) = record().await;
    assert!(
        record().await == (fixtures.clone(), rules.clone()),
        "two recordings differ"
    );
    let files = [
        (Path::new(UI).join("fixtures/desk.json"), fixtures),
        (Path::new(UI).join("rules.gen.ts"), rules),
    ];
    let update = std::env::var_os("OUTPOST_UPDATE_FIXTURES").is_some();
    let mut stale = Vec::new();
    for (path, text) in &files {
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale UI fixtures {stale:?}; {REGENERATE}"
    );
    // Small enough to review and to load in every UI test.
    assert!(
        files[0].1.len() < 400_000,
        "desk.json is {} bytes",
        files[0].1.len()
    );
}
