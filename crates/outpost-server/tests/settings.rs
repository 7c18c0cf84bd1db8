//! The organisation's settings as synced, audited data: admins change them through push
//! (`settings.set`, `department.put`, `template.put`), each document is validated and
//! versioned, every change is audited with before and after and pulled by every client, and the
//! SLA monitor, intake and new tickets follow the settings instead of compiled-in defaults. Run
//! on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, TimeZone};
use common::*;
use outpost_core::model::{
    Category, Channel, Department, EntryBody, Priority, Template, TicketEvent,
};
use outpost_core::rules::{Actions, ClassificationRule, Condition, RuleSet, VerificationPolicy};
use outpost_core::settings::{CategoryEntry, OrgSettings, SettingsDoc};
use outpost_core::sla::{BusinessCalendar, Holiday};
use outpost_core::sync::{ChangeKind, Mutation};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

/// Pushes one mutation from a fresh device; returns (outcome, code, revision).
async fn push_one(s: &Server, token: &str, mutation: Mutation) -> (String, String, u64) {
    let (status, body) = s.push(token, Uuid::now_v7(), vec![(1, mutation)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["results"][0];
    (
        result["outcome"].as_str().unwrap_or_default().to_owned(),
        result["code"].as_str().unwrap_or_default().to_owned(),
        result["revision"].as_u64().unwrap_or_default(),
    )
}

fn set(base_version: u64, settings: SettingsDoc) -> Mutation {
    Mutation::SetSettings {
        base_version,
        settings,
    }
}

async fn audit_count(s: &Server) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

/// The current version of the document of `doc`'s kind (`init` may have written some).
async fn version(s: &Server, doc: &SettingsDoc) -> u64 {
    let current = outpost_server::settings::load_from(&s.db.pool)
        .await
        .unwrap();
    current.get(doc.kind()).version
}

/// `settings.set` made on the current version of the document.
async fn set_current(s: &Server, doc: SettingsDoc) -> Mutation {
    set(version(s, &doc).await, doc)
}

/// The defaults with a change in each document, all valid.
fn good_docs() -> Vec<SettingsDoc> {
    let defaults = OrgSettings::defaults();
    let mut profile = defaults.profile().clone();
    profile.name = "Lisboa Pagamentos".into();
    profile.form.accent_colour = "#0a7d3b".into();
    profile.form.response_promise_hours = Some(8);
    let mut sla = defaults.sla_settings().clone();
    sla.warn_share = 0.6;
    let mut rules = defaults.rule_set().clone();
    rules.rules.truncate(3);
    let mut verification = defaults.verification_policy().clone();
    verification.default_for_risk.l1 = verification.default_for_risk.l1.max(1);
    let mut catalogue = defaults.catalogue().clone();
    catalogue.categories.push(CategoryEntry {
        category: Category::COMPLAINT,
        label_en: "Disputes".into(),
        label_zh: "争议".into(),
        retired: false,
    });
    vec![
        SettingsDoc::Organisation(profile),
        SettingsDoc::Sla(sla),
        SettingsDoc::Rules(rules),
        SettingsDoc::Verification(verification),
        SettingsDoc::Catalogue(catalogue),
    ]
}

/// One invalid document of each kind, and the field its refusal names.
fn bad_docs() -> Vec<(SettingsDoc, &'static str)> {
    let defaults = OrgSettings::defaults();
    let mut profile = defaults.profile().clone();
    profile.form.accent_colour = "red; background:url(x)".into();
    let mut sla = defaults.sla_settings().clone();
    sla.warn_share = 1.5;
    let rules = RuleSet {
        rules: vec![ClassificationRule {
            name: "to nowhere".into(),
            when: Condition::Always,
            then: Actions {
                department: Some("no-such-department".into()),
                ..Actions::default()
            },
            stop: false,
        }],
    };
    let mut verification = VerificationPolicy::default();
    verification.default_for_risk.l1 = 0;
    verification.default_for_risk.none = 3;
    let mut catalogue = defaults.catalogue().clone();
    for _ in 0..2 {
        catalogue.categories.push(CategoryEntry {
            category: Category::INQUIRY,
            label_en: String::new(),
            label_zh: String::new(),
            retired: false,
        });
    }
    vec![
        (SettingsDoc::Organisation(profile), "form.accent_colour"),
        (SettingsDoc::Sla(sla), "sla"),
        (SettingsDoc::Rules(rules), "rules"),
        (SettingsDoc::Verification(verification), "verification"),
        (SettingsDoc::Catalogue(catalogue), "categories"),
    ]
}

fn template(id: Uuid, name: &str, body: &str) -> Template {
    Template {
        id,
        name: name.into(),
        language: "en".into(),
        body: body.into(),
        categories: Vec::new(),
        changes: Default::default(),
        active: true,
    }
}

async fn every_kind_validates_and_refuses_bad_documents(s: Server) {
    let admin = s.admin_token().await;
    for (doc, field) in bad_docs() {
        let kind = doc.kind().as_str();
        let before = audit_count(&s).await;
        let stored = version(&s, &doc).await;
        let (_, body) = s
            .push(&admin, Uuid::now_v7(), vec![(1, set(stored, doc.clone()))])
            .await;
        let result = &body["results"][0];
        assert_eq!(
            (&result["outcome"], &result["code"]),
            (&json!("rejected"), &json!("invalid")),
            "{kind}: {body}"
        );
        let reason = result["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with(field),
            "{kind}: {reason:?} names {field}"
        );
        assert_eq!(version(&s, &doc).await, stored, "{kind}: nothing stored");
        assert_eq!(audit_count(&s).await, before, "{kind}: nothing audited");
    }
    for doc in good_docs() {
        let kind = doc.kind().as_str();
        let stored = version(&s, &doc).await;
        let (outcome, code, revision) = push_one(&s, &admin, set(stored, doc.clone())).await;
        assert_eq!(
            (outcome.as_str(), revision),
            ("applied", stored + 1),
            "{kind}: {code}"
        );
        let current = outpost_server::settings::load_from(&s.db.pool)
            .await
            .unwrap();
        assert_eq!(current.get(doc.kind()).settings, doc, "{kind}");
    }
    let bad_department = Mutation::PutDepartment(Department {
        code: "Claims Dept".into(),
        name: "Claims".into(),
        active: true,
    });
    assert_eq!(push_one(&s, &admin, bad_department).await.1, "invalid");
    let bad_template = template(Uuid::now_v7(), "Hi", "Hello {{customer.password}}");
    assert_eq!(
        push_one(&s, &admin, Mutation::PutTemplate(bad_template))
            .await
            .1,
        "invalid"
    );
    // Retiring the default department, or every department, is refused.
    let retire = |code: &str| {
        Mutation::PutDepartment(Department {
            code: code.into(),
            name: code.into(),
            active: false,
        })
    };
    assert_eq!(push_one(&s, &admin, retire("support")).await.1, "invalid");
    for code in ["finance", "tech", "risk"] {
        assert_eq!(push_one(&s, &admin, retire(code)).await.0, "applied");
    }
}

async fn agents_and_supervisors_are_refused(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &["support"]).await;
    let organisation = set_current(&s, good_docs().remove(0)).await;
    let stored = version(&s, &good_docs().remove(0)).await;
    let intents = || {
        vec![
            organisation.clone(),
            Mutation::PutDepartment(Department {
                code: "claims".into(),
                name: "Claims".into(),
                active: true,
            }),
            Mutation::PutTemplate(template(Uuid::now_v7(), "Hi", "Hello {{customer.name}}")),
        ]
    };
    for token in [&agent, &supervisor] {
        for intent in intents() {
            let before = audit_count(&s).await;
            let (outcome, code, _) = push_one(&s, token, intent.clone()).await;
            assert_eq!(
                (outcome.as_str(), code.as_str()),
                ("rejected", "forbidden"),
                "{intent:?}"
            );
            assert_eq!(audit_count(&s).await, before);
        }
    }
    assert_eq!(version(&s, &good_docs().remove(0)).await, stored);
    let claims: Option<String> =
        sqlx::query_scalar("SELECT code FROM departments WHERE code = 'claims'")
            .fetch_optional(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(claims, None);
}

async fn changes_are_audited_with_before_and_after_and_pulled_by_clients(s: Server) {
    let admin = s.admin_token().await;
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let cursor = s.pull_all(&agent).await.cursor;
    let audited: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();

    let doc = good_docs().remove(0);
    let stored = version(&s, &doc).await;
    assert_eq!(
        push_one(&s, &admin, set(stored, doc.clone())).await.0,
        "applied"
    );
    let claims = Department {
        code: "claims".into(),
        name: "Claims 理赔部".into(),
        active: true,
    };
    assert_eq!(
        push_one(&s, &admin, Mutation::PutDepartment(claims.clone()))
            .await
            .0,
        "applied"
    );
    let retired = Department {
        active: false,
        ..claims.clone()
    };
    assert_eq!(
        push_one(&s, &admin, Mutation::PutDepartment(retired.clone()))
            .await
            .0,
        "applied"
    );
    let mut greeting = template(Uuid::now_v7(), "Greeting", "Hello {{customer.name}}");
    greeting.changes.priority = Some(Priority::P2);
    greeting.changes.add_tags = vec!["greeted".into()];
    assert_eq!(
        push_one(&s, &admin, Mutation::PutTemplate(greeting.clone()))
            .await
            .0,
        "applied"
    );

    let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT action, detail, before_hash, after_hash FROM audit
         WHERE seq > $1 AND action IN ('settings.set', 'department.put', 'template.put')
         ORDER BY seq",
    )
    .bind(audited)
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "settings.set",
            "department.put",
            "department.put",
            "template.put"
        ]
    );
    let detail = |i: usize| serde_json::from_str::<Value>(&rows[i].1).unwrap();
    let settings_event = detail(0);
    assert_eq!(settings_event["target"]["kind"], "organisation");
    assert_eq!(settings_event["before"]["kind"], "organisation");
    assert_ne!(settings_event["before"]["doc"]["name"], "Lisboa Pagamentos");
    assert_eq!(settings_event["after"]["doc"]["name"], "Lisboa Pagamentos");
    assert!(rows[0].2.is_some() && rows[0].3.is_some() && rows[0].2 != rows[0].3);
    assert_eq!(
        detail(1)["before"],
        Value::Null,
        "a new department has no before"
    );
    assert_eq!(detail(2)["before"]["active"], true);
    assert_eq!(detail(2)["after"]["active"], false);
    assert_eq!(detail(3)["after"]["changes"]["priority"], "P2");
    outpost_server::audit::verify(&s.db.pool)
        .await
        .unwrap()
        .expect("the chain stays intact");

    // A second client (an agent's device) pulls every change from where it was.
    let (status, body) = s
        .call(
            "GET",
            &format!("/v1/sync/pull?cursor={cursor}"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: outpost_core::sync::PullResponse = serde_json::from_value(body).unwrap();
    let mut settings = None;
    let mut departments = Vec::new();
    let mut templates = Vec::new();
    for change in page.changes {
        match change.kind {
            ChangeKind::Settings(v) => settings = Some(v),
            ChangeKind::Department(d) => departments.push(d),
            ChangeKind::Template(t) => templates.push(t),
            _ => {}
        }
    }
    let settings = settings.expect("the settings change is pulled");
    assert_eq!((settings.version, settings.settings), (stored + 1, doc));
    assert!(settings.updated_by.is_some() && settings.updated_at.is_some());
    assert_eq!(
        departments,
        [retired],
        "one row per department, its latest state"
    );
    assert_eq!(templates, [greeting]);
}

async fn an_edit_made_on_an_older_version_is_refused_as_conflict(s: Server) {
    let admin = s.admin_token().await;
    let mut docs = good_docs();
    let first = docs.remove(1);
    let SettingsDoc::Sla(mut second) = first.clone() else {
        unreachable!()
    };
    second.warn_share = 0.9;
    let stored = version(&s, &first).await;
    assert_eq!(
        push_one(&s, &admin, set(stored, first.clone())).await.0,
        "applied"
    );
    // A second admin device, offline since that version, pushes its own edit.
    let (outcome, code, _) =
        push_one(&s, &admin, set(stored, SettingsDoc::Sla(second.clone()))).await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "conflict"));
    let current = outpost_server::settings::load_from(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(current.sla.version, stored + 1);
    assert_eq!(current.sla.settings, first);
    // Made again on the current version, it applies.
    let (outcome, _, revision) =
        push_one(&s, &admin, set(stored + 1, SettingsDoc::Sla(second))).await;
    assert_eq!((outcome.as_str(), revision), ("applied", stored + 2));
}

/// `calendar`, closed on the given dates.
fn closed_on(mut calendar: BusinessCalendar, dates: &[chrono::NaiveDate]) -> BusinessCalendar {
    calendar.name = "closed for the test".into();
    calendar.holidays = dates
        .iter()
        .map(|date| Holiday {
            date: *date,
            name: "Closed".into(),
        })
        .collect();
    calendar
}

async fn sla_alerts_for(s: &Server, token: &str, ticket: Uuid) -> usize {
    s.pull_all(token)
        .await
        .changes
        .iter()
        .filter(|c| match &c.kind {
            ChangeKind::Entry(e) => {
                e.ticket_id == ticket
                    && matches!(
                        &e.body,
                        EntryBody::Event {
                            event: TicketEvent::SlaAtRisk { .. } | TicketEvent::SlaBreached { .. }
                        }
                    )
            }
            _ => false,
        })
        .count()
}

async fn the_sla_monitor_follows_the_organisations_calendar(s: Server) {
    let admin = s.admin_token().await;
    let ticket = Uuid::now_v7();
    assert_eq!(
        push_one(&s, &admin, new_ticket(ticket, "support")).await.0,
        "applied"
    );
    let later = now() + Duration::hours(30);

    // Closed today, tomorrow and the day after (in the calendar's zone): no clock runs, so
    // thirty hours later nothing is at risk.
    let defaults = outpost_server::settings::load_from(&s.db.pool)
        .await
        .unwrap()
        .sla_settings()
        .clone();
    let tz = defaults.calendar.tz;
    let today = tz.from_utc_datetime(&now().naive_utc()).date_naive();
    let closed: Vec<_> = (0..3).map(|d| today + Duration::days(d)).collect();
    let mut defaults = defaults;
    // Every clock counts business time (the defaults run P1 and P2 around the clock).
    for policy in &mut defaults.policies {
        policy.business_hours = true;
    }
    let mut sla = defaults.clone();
    sla.calendar = closed_on(BusinessCalendar::always_open(tz), &closed);
    let update = set_current(&s, SettingsDoc::Sla(sla)).await;
    assert_eq!(push_one(&s, &admin, update).await.0, "applied");
    outpost_server::sla_monitor::scan_with_org_settings(&s.state, later)
        .await
        .unwrap();
    assert_eq!(
        sla_alerts_for(&s, &admin, ticket).await,
        0,
        "closed: no alert"
    );

    // Open around the clock: thirty hours are past every P2 target.
    let mut sla = defaults;
    sla.calendar = BusinessCalendar::always_open(tz);
    let update = set_current(&s, SettingsDoc::Sla(sla)).await;
    assert_eq!(push_one(&s, &admin, update).await.0, "applied");
    outpost_server::sla_monitor::scan_with_org_settings(&s.state, later)
        .await
        .unwrap();
    assert!(
        sla_alerts_for(&s, &admin, ticket).await > 0,
        "24×7: the same ticket at the same moment has breached"
    );
}

async fn intake(s: &Server, key: &str, body: Value) -> (StatusCode, Value) {
    let request = Request::post("/v1/intake")
        .header("x-outpost-key", key)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = s.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn intake_classifies_with_the_organisations_rules(s: Server) {
    let admin = s.admin_token().await;
    let mut tx = s.db.begin_write().await.unwrap();
    let key = outpost_server::intake_keys::add_key(&mut tx, Channel::Api, "tests")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ticket = json!({
        "subject": "Zebra crossing sensor offline",
        "requester": { "name": "Ana", "contact": "ana@example.pt" },
    });
    let (status, before) = intake(&s, &key, ticket.clone()).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert!(!before["matched_rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "zebra"));

    let rules = RuleSet {
        rules: vec![ClassificationRule {
            name: "zebra".into(),
            when: Condition::KeywordsAny(vec!["zebra".into()]),
            then: Actions {
                category: Some(Category::TECHNICAL_FAULT),
                priority: Some(Priority::P1),
                department: Some("tech".into()),
                ..Actions::default()
            },
            stop: true,
        }],
    };
    assert_eq!(
        push_one(&s, &admin, set_current(&s, SettingsDoc::Rules(rules)).await)
            .await
            .0,
        "applied"
    );
    let (status, after) = intake(&s, &key, ticket.clone()).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["matched_rules"], json!(["zebra"]));
    assert_eq!(after["department"], "tech");
    assert_eq!(after["priority"], "P1");
    assert_eq!(after["category"], "technical_fault");

    // Retire the rule's category and department: intake falls back to a category in use and
    // the organisation's default department instead of failing.
    let mut catalogue = OrgSettings::defaults().catalogue().clone();
    catalogue.categories.push(CategoryEntry {
        category: Category::TECHNICAL_FAULT,
        label_en: String::new(),
        label_zh: String::new(),
        retired: true,
    });
    assert_eq!(
        push_one(
            &s,
            &admin,
            set_current(&s, SettingsDoc::Catalogue(catalogue)).await
        )
        .await
        .0,
        "applied"
    );
    let tech = Department {
        code: "tech".into(),
        name: "Tech".into(),
        active: false,
    };
    assert_eq!(
        push_one(&s, &admin, Mutation::PutDepartment(tech)).await.0,
        "applied"
    );
    let (status, fallback) = intake(&s, &key, ticket).await;
    assert_eq!(status, StatusCode::OK, "{fallback}");
    assert_eq!(fallback["department"], "support");
    assert_eq!(fallback["category"], "inquiry");
}

async fn new_tickets_from_the_app_land_in_a_department(s: Server) {
    let admin = s.admin_token().await;
    let (_, finance_agent) = s.user("fin@acme.example", "agent", &["finance"]).await;
    let (_, supervisor) = s.user("sup@acme.example", "supervisor", &[]).await;
    let department = |id: Uuid| {
        let pool = s.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>("SELECT department FROM tickets WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let without_department = |id: Uuid| match new_ticket(id, "support") {
        Mutation::CreateTicket(mut new) => {
            new.department = None;
            Mutation::CreateTicket(new)
        }
        _ => unreachable!(),
    };

    // The creator's department.
    let mine = Uuid::now_v7();
    assert_eq!(
        push_one(&s, &finance_agent, without_department(mine))
            .await
            .0,
        "applied"
    );
    assert_eq!(department(mine).await.as_deref(), Some("finance"));
    assert!(ticket_ids(&s.pull_all(&finance_agent).await).contains(&mine));

    // A creator in no department: the organisation's default, as the admin set it.
    let mut profile = OrgSettings::defaults().profile().clone();
    profile.default_department = Some("risk".into());
    assert_eq!(
        push_one(
            &s,
            &admin,
            set_current(&s, SettingsDoc::Organisation(profile)).await
        )
        .await
        .0,
        "applied"
    );
    let theirs = Uuid::now_v7();
    assert_eq!(
        push_one(&s, &supervisor, without_department(theirs))
            .await
            .0,
        "applied"
    );
    assert_eq!(department(theirs).await.as_deref(), Some("risk"));

    // A retired department takes no new tickets; a retired category is not offered.
    let retired = Department {
        code: "tech".into(),
        name: "Tech".into(),
        active: false,
    };
    assert_eq!(
        push_one(&s, &admin, Mutation::PutDepartment(retired))
            .await
            .0,
        "applied"
    );
    let (outcome, code, _) = push_one(&s, &supervisor, new_ticket(Uuid::now_v7(), "tech")).await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "invalid"));
    let mut catalogue = OrgSettings::defaults().catalogue().clone();
    catalogue.categories.push(CategoryEntry {
        category: Category::ACCOUNT_RESTRICTED,
        label_en: String::new(),
        label_zh: String::new(),
        retired: true,
    });
    assert_eq!(
        push_one(
            &s,
            &admin,
            set_current(&s, SettingsDoc::Catalogue(catalogue)).await
        )
        .await
        .0,
        "applied"
    );
    // `new_ticket` files its ticket under account_restricted, now retired.
    let (outcome, code, _) = push_one(&s, &supervisor, new_ticket(Uuid::now_v7(), "support")).await;
    assert_eq!((outcome.as_str(), code.as_str()), ("rejected", "invalid"));
    let moved = Mutation::SetCategory {
        ticket_id: mine,
        category: Category::ACCOUNT_RESTRICTED,
    };
    assert_eq!(push_one(&s, &supervisor, moved).await.1, "invalid");
}

async fn settings_round_trip_through_toml_and_refusals_name_the_line(s: Server) {
    let admin = s.admin_token().await;
    for doc in good_docs() {
        let update = set_current(&s, doc).await;
        assert_eq!(push_one(&s, &admin, update).await.0, "applied");
    }
    let claims = Department {
        code: "claims".into(),
        name: "Claims 理赔部".into(),
        active: true,
    };
    assert_eq!(
        push_one(&s, &admin, Mutation::PutDepartment(claims))
            .await
            .0,
        "applied"
    );
    let mut greeting = template(Uuid::now_v7(), "Greeting", "Hello {{customer.name}}");
    greeting.changes.add_tags = vec!["greeted".into()];
    assert_eq!(
        push_one(&s, &admin, Mutation::PutTemplate(greeting))
            .await
            .0,
        "applied"
    );
    let exported = outpost_server::settings::export_toml(&s.db.pool)
        .await
        .unwrap();

    // Into a fresh organisation: a dry run keeps nothing, the import makes it the same.
    let other = sqlite().await;
    let snapshot = |server: &Server| {
        let pool = server.db.pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            let settings = outpost_server::settings::load(&mut conn).await.unwrap();
            let docs: Vec<SettingsDoc> = outpost_core::settings::SettingsKind::ALL
                .iter()
                .map(|k| settings.get(*k).settings.clone())
                .collect();
            (
                docs,
                outpost_server::settings::departments(&mut conn)
                    .await
                    .unwrap(),
                outpost_server::settings::templates(&mut conn)
                    .await
                    .unwrap(),
            )
        }
    };
    let fresh = snapshot(&other).await;
    let checked = outpost_server::settings::import_toml(&other.db, &exported, true)
        .await
        .unwrap();
    assert!(!checked.is_empty());
    assert_eq!(snapshot(&other).await, fresh, "a dry run keeps nothing");
    let imported = outpost_server::settings::import_toml(&other.db, &exported, false)
        .await
        .unwrap();
    assert_eq!(imported, checked);
    assert_eq!(snapshot(&other).await, snapshot(&s).await);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE actor = 'cli' AND action IN ('settings.set', 'department.put', 'template.put')")
            .fetch_one(&other.db.pool)
            .await
            .unwrap();
    assert_eq!(
        audited as usize,
        imported.len(),
        "one audit event per change"
    );
    // Importing the same file again changes nothing.
    let again = outpost_server::settings::import_toml(&s.db, &exported, false)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");

    // A bad value: refused with its line and field, nothing kept.
    let line = exported
        .lines()
        .position(|l| l.starts_with("accent_colour"))
        .unwrap()
        + 1;
    let bad = exported.replace("accent_colour = \"#0a7d3b\"", "accent_colour = \"red\"");
    assert_ne!(bad, exported);
    let before = snapshot(&s).await;
    let error = outpost_server::settings::import_toml(&s.db, &bad, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("line {line}: organisation: form.accent_colour:")),
        "{error}"
    );
    assert_eq!(snapshot(&s).await, before);
    // A field the file format does not know, and broken TOML: refused with their line.
    let unknown = exported.replacen("[organisation]\n", "[organisation]\nlogo_url = \"x\"\n", 1);
    let line = unknown
        .lines()
        .position(|l| l.starts_with("logo_url"))
        .unwrap()
        + 1;
    let error = outpost_server::settings::import_toml(&s.db, &unknown, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("logo_url"), "{error}");
    assert!(error.starts_with(&format!("line {line}:")), "{error}");
    let broken = format!("{exported}\n[sla\n");
    let error = outpost_server::settings::import_toml(&s.db, &broken, false)
        .await
        .unwrap_err()
        .to_string();
    let last = broken.lines().count();
    assert!(error.starts_with(&format!("line {last}:")), "{error}");
}

/// A 1×1 PNG.
const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async fn get_page(s: &Server, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = s.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

async fn the_customer_form_wears_the_organisations_branding(s: Server) {
    let admin = s.admin_token().await;
    let (status, _, _) = get_page(&s, "/c/logo.png").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no logo yet");

    let mut profile = OrgSettings::defaults().profile().clone();
    profile.name = "Lisboa Pagamentos".into();
    profile.form.title = "Apoio <b>ao cliente</b>".into();
    profile.form.accent_colour = "#0a7d3b".into();
    profile.form.default_language = "zh-CN".into();
    profile.form.response_promise_hours = Some(8);
    profile.form.logo_png_base64 = Some(PNG_BASE64.into());
    let update = set_current(&s, SettingsDoc::Organisation(profile)).await;
    assert_eq!(push_one(&s, &admin, update).await.0, "applied");

    let (status, headers, body) = get_page(&s, "/c/new").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"),
        "{html}"
    );
    assert!(
        html.contains("<h1>Apoio &lt;b&gt;ao cliente&lt;/b&gt;</h1>"),
        "{html}"
    );
    assert!(html.contains(":root{--accent:#0a7d3b}"));
    assert!(html.contains("我们将在 8 小时内答复。"));
    assert!(html.contains("src=\"/c/logo.png\""));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self'") && !csp.contains("script"),
        "{csp}"
    );
    // The browser's language still wins over the organisation's default.
    let request = Request::get("/c/new")
        .header("accept-language", "en-GB,en")
        .body(Body::empty())
        .unwrap();
    let response = s.app.clone().oneshot(request).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("We answer within 8 hours."));

    use base64::Engine;
    let (status, headers, body) = get_page(&s, "/c/logo.png").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        body,
        base64::engine::general_purpose::STANDARD
            .decode(PNG_BASE64)
            .unwrap()
    );
}

on_both_databases!(
    every_kind_validates_and_refuses_bad_documents,
    agents_and_supervisors_are_refused,
    changes_are_audited_with_before_and_after_and_pulled_by_clients,
    an_edit_made_on_an_older_version_is_refused_as_conflict,
    the_sla_monitor_follows_the_organisations_calendar,
    intake_classifies_with_the_organisations_rules,
    new_tickets_from_the_app_land_in_a_department,
    settings_round_trip_through_toml_and_refusals_name_the_line,
    the_customer_form_wears_the_organisations_branding,
);
