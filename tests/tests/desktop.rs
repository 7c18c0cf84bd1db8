//! The desktop app end to end: the real `outpost-desktop` binary (front end embedded), driven
//! through tauri-driver and WebKitWebDriver, against a real `outpost-server`.
//!
//! Needs a display (Xvfb), tauri-driver, WebKitWebDriver and a session bus; `make desktop-test`
//! provides all of them (and a real, unlocked gnome-keyring), so these tests are `#[ignore]`d in
//! a plain `cargo test` (the no-display check below is not). Screenshots of the main screens
//! go to `$OUTPOST_E2E_OUT` (default `<target>/e2e`).

use std::path::PathBuf;
use std::time::Duration;

use outpost_core::model::{Category, Channel, CustomerTier, Priority, Requester, RiskLevel};
use outpost_core::sync::{Mutation, MutationEnvelope, NewTicket, PushRequest, PushResponse};
use outpost_system_tests::webdriver::{desktop_bin, Driver, Session};
use outpost_system_tests::{wait_for, Backend, Client, Server};
use uuid::Uuid;

const XSS_SUBJECT: &str = r#"<img src=x onerror="window.__xss=1"> card blocked"#;
const XSS_BODY: &str = r"<script>window.__xss=1</script> please help <b>now</b>";

fn out_dir() -> PathBuf {
    std::env::var_os("OUTPOST_E2E_OUT").map_or_else(
        || {
            let exe = std::env::current_exe().expect("the test executable");
            exe.ancestors()
                .nth(3)
                .expect("<target>/<profile>/deps/<exe>")
                .join("e2e")
        },
        PathBuf::from,
    )
}

/// A hostile ticket in `support`, created on the server by the admin (as intake would).
async fn create_hostile_ticket(server: &Server) -> Uuid {
    let id = Uuid::now_v7();
    let token = server.token(&server.org.admin).await;
    let request = PushRequest {
        device_id: Uuid::now_v7(),
        mutations: vec![MutationEnvelope {
            mutation_id: 1,
            client_time: chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()),
            base_revision: None,
            mutation: Mutation::CreateTicket(NewTicket {
                id,
                subject: XSS_SUBJECT.into(),
                description: XSS_BODY.into(),
                requester: Requester {
                    name: r#"<svg onload="window.__xss=1">Mallory"#.into(),
                    contact: "mallory@example.com".into(),
                    account_id: Some("ACC-666".into()),
                    tier: CustomerTier::Standard,
                },
                channel: Channel::Email,
                language: "en".into(),
                category: Category::LOGIN_ANOMALY,
                priority: Priority::P2,
                risk: RiskLevel::None,
                department: Some("support".into()),
                tags: Default::default(),
            }),
        }],
    };
    let response = outpost_system_tests::server::http()
        .post(format!("{}/v1/sync/push", server.url()))
        .bearer_auth(token)
        .json(&request)
        .send()
        .await
        .expect("push the hostile ticket");
    assert!(
        response.status().is_success(),
        "push: {}",
        response.status()
    );
    let pushed: PushResponse = response.json().await.expect("a push answer");
    assert_eq!(pushed.last_mutation_id, 1, "{pushed:?}");
    id
}

/// Signs in through the first-run screen; takes the passphrase path when the machine has no
/// usable keychain.
async fn sign_in(s: &Session, server: &Server) {
    sign_in_as(s, server, &server.org.ann).await;
}

async fn sign_in_as(s: &Session, server: &Server, account: &outpost_system_tests::Account) {
    let url = s
        .wait("[data-testid=signin-server]", Duration::from_secs(60))
        .await;
    s.clear(&url).await;
    s.type_text(&url, &server.url()).await;
    let email = s
        .wait("[data-testid=signin-email]", Duration::from_secs(5))
        .await;
    s.type_text(&email, &account.email).await;
    let password = s
        .wait("[data-testid=signin-password]", Duration::from_secs(5))
        .await;
    s.type_text(&password, &account.password).await;
    s.click(
        &s.wait("[data-testid=signin-submit]", Duration::from_secs(5))
            .await,
    )
    .await;
    // Either the queue, or a request for a passphrase (no keychain on this machine).
    let next = s
        .wait_until(
            "the queue or the passphrase field",
            "if (document.querySelector('[data-testid=queue-list]')) return 'queue';
             if (document.querySelector('[data-testid=signin-passphrase]')) return 'passphrase';
             return null;",
            Duration::from_secs(60),
        )
        .await;
    if next == "passphrase" {
        let field = s
            .wait("[data-testid=signin-passphrase]", Duration::from_secs(5))
            .await;
        s.type_text(&field, "correct horse battery staple").await;
        s.click(
            &s.wait("[data-testid=signin-submit]", Duration::from_secs(5))
                .await,
        )
        .await;
    }
    s.wait("[data-testid=queue-list]", Duration::from_secs(60))
        .await;
}

async fn open_ticket(s: &Session, key: &str) {
    let row = s
        .wait(
            &format!("[data-testid=queue-row][data-key='{key}']"),
            Duration::from_secs(30),
        )
        .await;
    s.click(&row).await;
    s.wait_until(
        &format!("ticket {key} open"),
        &format!(
            "const k = document.querySelector('[data-testid=ticket-key]');
             return k && k.textContent.includes('{key}');"
        ),
        Duration::from_secs(20),
    )
    .await;
}

async fn set_status(s: &Session, status: &str) {
    let select = s
        .wait("[data-testid=status-select]", Duration::from_secs(10))
        .await;
    s.click(&select).await;
    let option = s
        .wait(
            &format!("[data-testid=status-select] option[value='{status}']"),
            Duration::from_secs(5),
        )
        .await;
    s.click(&option).await;
    s.wait_until(
        &format!("status {status}"),
        &format!(
            "const e = document.querySelector('[data-testid=ticket-status]');
             return e && e.getAttribute('data-status') === '{status}';"
        ),
        Duration::from_secs(10),
    )
    .await;
}

async fn compose(s: &Session, mode: &str, text: &str) {
    s.click(
        &s.wait(
            &format!("[data-testid=composer-mode-{mode}]"),
            Duration::from_secs(10),
        )
        .await,
    )
    .await;
    let area = s
        .wait("[data-testid=composer-text]", Duration::from_secs(5))
        .await;
    s.type_text(&area, text).await;
    s.click(
        &s.wait("[data-testid=composer-send]", Duration::from_secs(5))
            .await,
    )
    .await;
    let literal = serde_json::to_string(text).expect("a JSON string");
    s.wait_until(
        &format!("the {mode} in the timeline"),
        &format!(
            "return [...document.querySelectorAll('[data-testid=timeline-entry]')]
                 .some(e => e.textContent.includes({literal}));"
        ),
        Duration::from_secs(10),
    )
    .await;
}

async fn unsent(s: &Session) -> u64 {
    s.script(
        "const e = document.querySelector('[data-testid=unsent-count]');
         return e ? Number(e.getAttribute('data-count') ?? e.textContent.replace(/\\D/g, '')) : -1;",
    )
    .await
    .ok()
    .and_then(|v| v.as_u64())
    .unwrap_or(u64::MAX)
}

async fn sync_state(s: &Session) -> String {
    s.script(
        "const e = document.querySelector('[data-testid=sync-indicator]');
         return e ? e.getAttribute('data-state') : '';",
    )
    .await
    .ok()
    .and_then(|v| v.as_str().map(str::to_owned))
    .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make desktop-test`"]
async fn agent_works_a_ticket_online_and_offline_and_hostile_text_stays_inert() {
    let mut server = Server::start(Backend::Sqlite).await;
    let hostile = create_hostile_ticket(&server).await;
    let screens = out_dir();
    let data = outpost_system_tests::scratch_dir();
    let logs = outpost_system_tests::scratch_dir();
    let driver = Driver::start(&[("OUTPOST_DATA_DIR", data.path())], logs.path()).await;
    let s = driver.session(&desktop_bin()).await;

    // Sign in, the queue.
    sign_in(&s, &server).await;
    let snapshot = server.snapshot(&server.org.ann).await;
    let mut open: Vec<_> = snapshot
        .tickets
        .values()
        .filter(|t| {
            t.department.as_deref() == Some("support") && t.status.is_open() && t.id != hostile
        })
        .collect();
    open.sort_by_key(|t| t.key.clone());
    let ticket = open.first().expect("an open support ticket");
    let key = ticket.key.clone().expect("a server ticket has a key");
    // The support tickets nobody has taken yet (the seeded open ones and the hostile one).
    s.click(
        &s.wait("[data-testid=view-unassigned]", Duration::from_secs(10))
            .await,
    )
    .await;
    s.wait("[data-testid=queue-row]", Duration::from_secs(60))
        .await;
    s.screenshot(&screens.join("queue.png")).await;

    // A ticket: reply, then pending.
    open_ticket(&s, &key).await;
    // A reply template (the demo's "Acknowledge", pulled from the server) filled for this
    // ticket's customer and key, then sent.
    s.click(
        &s.wait("[data-testid=composer-mode-reply]", Duration::from_secs(10))
            .await,
    )
    .await;
    choose(
        &s,
        "template-picker",
        "01900000-0000-7000-8000-000000000001",
    )
    .await;
    let filled = s
        .wait_until(
            "the template in the composer",
            "const a = document.querySelector('[data-testid=composer-text]');
             return a && a.value.includes('Hello ') ? a.value : null;",
            Duration::from_secs(10),
        )
        .await;
    let filled = filled.as_str().unwrap_or_default().to_owned();
    assert!(
        filled.contains(&format!("Hello {},", ticket.requester.name)) && filled.contains(&key),
        "placeholders filled: {filled}"
    );
    assert!(!filled.contains("{{"), "no placeholder left: {filled}");
    s.click(
        &s.wait("[data-testid=composer-send]", Duration::from_secs(5))
            .await,
    )
    .await;
    compose(&s, "reply", "Thanks, we are checking the transfer now.").await;
    set_status(&s, "pending").await;
    s.screenshot(&screens.join("ticket.png")).await;
    wait_for(
        "the reply and status on the server",
        Duration::from_secs(30),
        Duration::from_millis(250),
        || async {
            let now = server.snapshot(&server.org.ann).await;
            let t = &now.tickets[&ticket.id];
            let replied = now.entries[&ticket.id].values().any(|e| {
                serde_json::to_string(&e.body)
                    .unwrap_or_default()
                    .contains("checking the transfer")
            });
            (replied && t.status.as_str() == "pending").then_some(())
        },
    )
    .await;

    // Offline: the server stops; the agent keeps working.
    server.kill();
    s.click(
        &s.wait("[data-testid=assign-me]", Duration::from_secs(10))
            .await,
    )
    .await;
    set_status(&s, "in_progress").await;
    compose(
        &s,
        "note",
        "Customer called again; escalate if no reply by noon.",
    )
    .await;
    s.wait_until(
        "the offline indicator with unsent changes",
        "const e = document.querySelector('[data-testid=sync-indicator]');
         const u = document.querySelector('[data-testid=unsent-count]');
         return e && ['offline', 'error'].includes(e.getAttribute('data-state')) && u
             && Number(u.getAttribute('data-count') ?? u.textContent.replace(/\\D/g, '')) >= 3;",
        Duration::from_secs(60),
    )
    .await;
    s.screenshot(&screens.join("offline.png")).await;
    assert!(unsent(&s).await >= 3, "assign, status and note are unsent");

    // Back online: everything reaches the server.
    server.restart().await;
    s.wait_until(
        "unsent changes to reach the server",
        "const u = document.querySelector('[data-testid=unsent-count]');
         const e = document.querySelector('[data-testid=sync-indicator]');
         return u && e && e.getAttribute('data-state') === 'online'
             && Number(u.getAttribute('data-count') ?? u.textContent.replace(/\\D/g, '')) === 0;",
        Duration::from_secs(90),
    )
    .await;
    let now = server.snapshot(&server.org.ann).await;
    assert_eq!(now.tickets[&ticket.id].status.as_str(), "in_progress");
    assert_eq!(now.tickets[&ticket.id].assignee, Some(server.org.ann.id));
    let notes = now.entries[&ticket.id]
        .values()
        .filter(|e| {
            serde_json::to_string(&e.body)
                .unwrap_or_default()
                .contains("escalate if no reply")
        })
        .count();
    assert_eq!(notes, 1, "the offline note reached the server exactly once");
    assert_eq!(sync_state(&s).await, "online");

    // A colleague's change appears without a reload.
    let bob = Client::ready(&server.url(), &server.org.bob).await;
    bob.desk
        .note(
            ticket.id,
            "Bob: bank confirmed the transfer left them.".into(),
        )
        .await
        .expect("bob's note");
    bob.settle(10).await;
    s.wait_until(
        "bob's note in the open ticket",
        "return [...document.querySelectorAll('[data-testid=timeline-entry]')]
             .some(e => e.textContent.includes('bank confirmed the transfer'));",
        Duration::from_secs(30),
    )
    .await;

    // The hostile ticket shows its characters and runs nothing.
    let hostile_key = server.snapshot(&server.org.ann).await.tickets[&hostile]
        .key
        .clone()
        .expect("a key");
    open_ticket(&s, &hostile_key).await;
    s.wait_until(
        "the hostile subject shown as text",
        "return [...document.querySelectorAll('[data-testid=customer-text]')]
             .some(e => e.textContent.includes('<img src=x onerror='));",
        Duration::from_secs(10),
    )
    .await;
    let verdict = s
        .script(
            "const pane = document.querySelector('[data-testid=ticket-pane]');
             return {
               xss: window.__xss === undefined ? null : window.__xss,
               img: pane.querySelectorAll('img').length,
               script: document.querySelectorAll('body script').length,
               svg: pane.querySelectorAll('svg[onload]').length,
               body: pane.textContent.includes('<script>window.__xss=1</script>'),
             };",
        )
        .await
        .expect("inspect the page");
    assert_eq!(
        verdict["xss"],
        serde_json::Value::Null,
        "script ran: {verdict}"
    );
    assert_eq!(verdict["img"], 0, "{verdict}");
    assert_eq!(verdict["script"], 0, "{verdict}");
    assert_eq!(verdict["svg"], 0, "{verdict}");
    assert_eq!(
        verdict["body"], true,
        "the description shows its characters: {verdict}"
    );
    s.screenshot(&screens.join("xss.png")).await;
    s.quit().await;
    println!("screenshots in {}", screens.display());
}

/// The text of the element with test id `testid` once its `data-state` is one of `states`.
async fn settled_state(
    s: &Session,
    testid: &str,
    states: &[&str],
    limit: Duration,
) -> (String, String) {
    let list = states
        .iter()
        .map(|st| format!("'{st}'"))
        .collect::<Vec<_>>()
        .join(",");
    let value = s
        .wait_until(
            &format!("{testid} in state {states:?}"),
            &format!(
                "const e = document.querySelector('[data-testid={testid}]');
                 if (!e || ![{list}].includes(e.dataset.state)) return null;
                 return [e.dataset.state, e.textContent];"
            ),
            limit,
        )
        .await;
    (
        value[0].as_str().unwrap_or_default().to_owned(),
        value[1].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make desktop-test`"]
async fn supervisor_filters_the_audit_trail_verifies_exports_and_opens_reports() {
    let server = Server::start(Backend::Sqlite).await;
    // An agent's work first, so the trail has changes, views and a reply to show.
    let ann = Client::ready(&server.url(), &server.org.ann).await;
    let snapshot = server.snapshot(&server.org.ann).await;
    let mut open: Vec<_> = snapshot
        .tickets
        .values()
        .filter(|t| t.department.as_deref() == Some("support") && t.status.is_open())
        .collect();
    open.sort_by_key(|t| t.key.clone());
    let worked = open[0].id;
    ann.desk
        .note(worked, "checked the login history".into())
        .await
        .unwrap();
    ann.desk
        .change(Mutation::SetPriority {
            ticket_id: worked,
            priority: Priority::P2,
        })
        .await
        .unwrap();
    ann.settle(5).await;

    let screens = out_dir();
    let data = outpost_system_tests::scratch_dir();
    let exports = outpost_system_tests::scratch_dir();
    let logs = outpost_system_tests::scratch_dir();
    let driver = Driver::start(
        &[
            ("OUTPOST_DATA_DIR", data.path()),
            ("OUTPOST_EXPORT_DIR", exports.path()),
        ],
        logs.path(),
    )
    .await;
    let s = driver.session(&desktop_bin()).await;
    sign_in_as(&s, &server, &server.org.admin).await;

    // The audit trail, newest first; filtered to one action family.
    s.click(
        &s.wait("[data-testid=nav-audit]", Duration::from_secs(30))
            .await,
    )
    .await;
    s.wait("[data-testid=audit-row]", Duration::from_secs(60))
        .await;
    choose(&s, "audit-filter-action", "ticket.").await;
    s.wait_until(
        "only ticket changes listed, Ann's priority change among them",
        "const rows = [...document.querySelectorAll('[data-testid=audit-row]')];
         if (!rows.length || rows.some(r => !r.dataset.action.startsWith('ticket.'))) return null;
         return rows.some(r => r.dataset.action === 'ticket.set_priority') || null;",
        Duration::from_secs(30),
    )
    .await;
    // Its detail shows the change's before and after values. (The row may sit below the
    // table's fold: scrolled into view first, as a user would.)
    s.wait(
        "[data-testid=audit-row][data-action='ticket.set_priority']",
        Duration::from_secs(5),
    )
    .await;
    s.script(
        "const r = document.querySelector(\"[data-testid=audit-row][data-action='ticket.set_priority']\");
         r.scrollIntoView({block: 'center'}); r.click(); return true;",
    )
    .await
    .expect("click the priority change");
    let detail = s
        .text(
            &s.wait("[data-testid=audit-changes]", Duration::from_secs(10))
                .await,
        )
        .await;
    assert!(detail.contains("P2") || detail.contains("p2"), "{detail}");
    s.screenshot(&screens.join("audit.png")).await;

    // Verify the chain from the desktop.
    s.click(
        &s.wait("[data-testid=audit-verify]", Duration::from_secs(5))
            .await,
    )
    .await;
    let (state, text) = settled_state(
        &s,
        "audit-verify-result",
        &["ok", "broken", "rewritten", "offline", "error"],
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(state, "ok", "{text}");

    // Export it (unfiltered: clear the filter first) and check the file offline.
    s.click(
        &s.wait("[data-testid=audit-filter-clear]", Duration::from_secs(5))
            .await,
    )
    .await;
    s.click(
        &s.wait("[data-testid=audit-export-csv]", Duration::from_secs(5))
            .await,
    )
    .await;
    s.wait("[data-testid=audit-export-result]", Duration::from_secs(60))
        .await;
    let file = wait_for(
        "the export file",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            std::fs::read_dir(exports.path())
                .ok()?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "csv"))
        },
    )
    .await;
    let check =
        outpost_client::supervisor::check_export(&std::fs::read_to_string(&file).unwrap(), None);
    let verified = check
        .verified
        .unwrap_or_else(|| panic!("{:?}", check.problem));
    assert!(!verified.filtered && verified.reaches_head && verified.count > 0);

    // Reports, from the local cache: every section drawn, and the monthly summary.
    s.click(
        &s.wait("[data-testid=nav-reports]", Duration::from_secs(5))
            .await,
    )
    .await;
    s.wait("[data-testid=reports-screen]", Duration::from_secs(30))
        .await;
    for section in [
        "sla-departments",
        "categories",
        "csat",
        "backlog",
        "recurring",
    ] {
        s.wait(
            &format!("[data-testid=report-section-{section}]"),
            Duration::from_secs(30),
        )
        .await;
    }
    let created = s
        .text(
            &s.wait(
                "[data-testid=report-total-created]",
                Duration::from_secs(30),
            )
            .await,
        )
        .await;
    assert!(created.chars().any(|c| c.is_ascii_digit()), "{created:?}");
    s.screenshot(&screens.join("reports.png")).await;
    s.click(
        &s.wait("[data-testid=report-tab-monthly]", Duration::from_secs(5))
            .await,
    )
    .await;
    s.wait("[data-testid=monthly-summary]", Duration::from_secs(30))
        .await;
    s.screenshot(&screens.join("monthly.png")).await;
    s.quit().await;
}

/// Picks `value` in the `<select>` with test id `testid` as a user would (click, then option).
async fn choose(s: &Session, testid: &str, value: &str) {
    let select = s
        .wait(&format!("[data-testid={testid}]"), Duration::from_secs(10))
        .await;
    s.click(&select).await;
    let option = s
        .wait(
            &format!("[data-testid={testid}] option[value='{value}']"),
            Duration::from_secs(5),
        )
        .await;
    s.click(&option).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make desktop-test`"]
async fn language_switch_and_idle_auto_lock_then_keychain_unlock() {
    let server = Server::start(Backend::Sqlite).await;
    let data = outpost_system_tests::scratch_dir();
    let logs = outpost_system_tests::scratch_dir();
    let driver = Driver::start(&[("OUTPOST_DATA_DIR", data.path())], logs.path()).await;
    let s = driver.session(&desktop_bin()).await;
    sign_in(&s, &server).await;

    // 简体中文, then back: the sidebar's first view follows the choice.
    s.click(
        &s.wait("[data-testid=user-menu]", Duration::from_secs(10))
            .await,
    )
    .await;
    choose(&s, "language-select", "zh-CN").await;
    s.wait_until(
        "the Chinese workspace",
        "return document.body.innerText.includes('我的待办');",
        Duration::from_secs(10),
    )
    .await;
    s.screenshot(&out_dir().join("zh-CN.png")).await;
    choose(&s, "language-select", "en").await;
    s.wait_until(
        "the English workspace",
        "return document.body.innerText.includes('My open') && !document.body.innerText.includes('我的待办');",
        Duration::from_secs(10),
    )
    .await;
    let saved = std::fs::read_to_string(data.path().join("settings.json")).expect("settings saved");
    assert!(saved.contains("\"en\""), "{saved}");

    // Lock after one idle minute; nobody touches anything.
    choose(&s, "idle-select", "1").await;
    let saved = std::fs::read_to_string(data.path().join("settings.json")).expect("settings saved");
    assert!(saved.contains("\"idle_lock_minutes\": 1"), "{saved}");
    s.wait("[data-testid=lock-screen]", Duration::from_secs(120))
        .await;
    // Locked means the desk is closed: no ticket reads until unlocked.
    assert!(s.find_all("[data-testid=queue-list]").await.is_empty());

    // The key is in the (real) keychain: one click opens the cache again.
    s.click(
        &s.wait("[data-testid=unlock-submit]", Duration::from_secs(5))
            .await,
    )
    .await;
    s.wait("[data-testid=queue-list]", Duration::from_secs(30))
        .await;
    s.wait("[data-testid=queue-row]", Duration::from_secs(30))
        .await;
    s.quit().await;
}

/// Sets a form field's value and tells the page, as typing would. For `<input type="date">`,
/// whose keyboard entry WebKitGTK's driver does not support reliably.
async fn set_field(s: &Session, css: &str, value: &str) {
    let css_literal = serde_json::to_string(css).expect("a JSON string");
    let literal = serde_json::to_string(value).expect("a JSON string");
    s.wait(css, Duration::from_secs(10)).await;
    s.script(&format!(
        "const e = document.querySelector({css_literal});
         Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(e, {literal});
         e.dispatchEvent(new Event('input', {{bubbles: true}}));
         e.dispatchEvent(new Event('change', {{bubbles: true}}));
         return true;"
    ))
    .await
    .unwrap_or_else(|e| panic!("set {css}: {e:?}"));
}

/// Waits for the save line `css` to say saved (or queued, until the next sync).
async fn saved(s: &Session, css: &str) {
    let literal = serde_json::to_string(css).expect("a JSON string");
    let state = s
        .wait_until(
            &format!("{css} saved"),
            &format!(
                "const e = document.querySelector({literal});
                 return e && e.dataset.state !== 'saving' ? e.dataset.state + ': ' + e.textContent : null;"
            ),
            Duration::from_secs(30),
        )
        .await;
    let state = state.as_str().unwrap_or_default();
    assert!(
        state.starts_with("saved") || state.starts_with("pending"),
        "{css}: {state}"
    );
}

/// The before/after table of the newest audit event with `action`, opened as a user would.
async fn audit_changes(s: &Session, action: &str) -> String {
    let row = format!("[data-testid=audit-row][data-action='{action}']");
    s.wait(&row, Duration::from_secs(60)).await;
    let literal = serde_json::to_string(&row).expect("a JSON string");
    let seq = s
        .script(&format!(
            "const r = document.querySelector({literal});
             r.scrollIntoView({{block: 'center'}}); r.click(); return r.dataset.seq;"
        ))
        .await
        .expect("open the audit event");
    let seq = seq.as_str().unwrap_or_default().to_owned();
    s.wait_until(
        &format!("the {action} event's before and after"),
        &format!(
            "const d = document.querySelector(\"[data-testid=audit-detail][data-seq='{seq}']\");
             const c = d && d.querySelector('[data-testid=audit-changes]');
             return c ? c.innerText : null;"
        ),
        Duration::from_secs(10),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// The 25th of December still to come (today's, if it is not past).
fn next_christmas() -> chrono::NaiveDate {
    use chrono::Datelike;
    let today = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).date_naive();
    let this_year = chrono::NaiveDate::from_ymd_opt(today.year(), 12, 25).expect("a date");
    if this_year >= today {
        this_year
    } else {
        chrono::NaiveDate::from_ymd_opt(today.year() + 1, 12, 25).expect("a date")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make desktop-test`"]
async fn admin_sets_up_the_organisation_and_a_running_agent_follows() {
    use outpost_core::model::Status;
    use outpost_core::Lang;

    let server = Server::start(Backend::Sqlite).await;
    // The agent's app is running before any of the admin's changes: nothing it sees below
    // comes from a restart.
    let ann = Client::ready(&server.url(), &server.org.ann).await;
    let mut notices = ann.desk.subscribe().await.expect("change notices");
    let christmas = next_christmas();

    let screens = out_dir();
    let data = outpost_system_tests::scratch_dir();
    let logs = outpost_system_tests::scratch_dir();
    let driver = Driver::start(&[("OUTPOST_DATA_DIR", data.path())], logs.path()).await;
    let s = driver.session(&desktop_bin()).await;
    sign_in_as(&s, &server, &server.org.admin).await;
    s.click(
        &s.wait("[data-testid=nav-admin]", Duration::from_secs(30))
            .await,
    )
    .await;
    s.wait("[data-testid=admin-screen]", Duration::from_secs(30))
        .await;

    // Business hours in Lisbon (the weekly hours stay Mon–Fri 09:00–18:00) and a holiday.
    s.click(
        &s.wait("[data-testid=admin-tab-calendar]", Duration::from_secs(10))
            .await,
    )
    .await;
    let panel = "[data-testid=admin-panel-calendar]";
    s.wait(
        &format!("{panel} [data-testid=calendar-tz]"),
        Duration::from_secs(30),
    )
    .await;
    choose(&s, "calendar-tz", "Europe/Lisbon").await;
    set_field(
        &s,
        &format!("{panel} [data-testid=holiday-new-date]"),
        &christmas.to_string(),
    )
    .await;
    s.type_text(
        &s.wait(
            &format!("{panel} [data-testid=holiday-new-name]"),
            Duration::from_secs(5),
        )
        .await,
        "Natal",
    )
    .await;
    s.click(
        &s.wait(
            &format!("{panel} [data-testid=holiday-add]"),
            Duration::from_secs(5),
        )
        .await,
    )
    .await;
    s.wait_until(
        "the holiday in the list",
        &format!(
            "return [...document.querySelectorAll('{panel} [data-testid=holiday-date]')]
                 .some(e => e.value === '{christmas}');"
        ),
        Duration::from_secs(10),
    )
    .await;
    // Before saving, the Desk counts the open tickets whose deadlines the draft moves.
    let effect = s
        .wait_until(
            "the calendar change's effect",
            "const e = document.querySelector('[data-testid=admin-panel-calendar] [data-testid=calendar-effect]');
             return e && e.dataset.state !== 'none' ? e.dataset.state + ': ' + e.textContent : null;",
            Duration::from_secs(30),
        )
        .await;
    let effect = effect.as_str().unwrap_or_default().to_owned();
    assert!(
        effect.starts_with("done") && effect.chars().any(|c| c.is_ascii_digit()),
        "{effect}"
    );
    s.screenshot(&screens.join("admin-calendar.png")).await;
    s.click(
        &s.wait(
            &format!("{panel} [data-testid=admin-save]"),
            Duration::from_secs(5),
        )
        .await,
    )
    .await;
    saved(&s, &format!("{panel} [data-testid=admin-save-status]")).await;

    // A department.
    s.click(
        &s.wait(
            "[data-testid=admin-tab-departments]",
            Duration::from_secs(10),
        )
        .await,
    )
    .await;
    let panel = "[data-testid=admin-panel-departments]";
    s.type_text(
        &s.wait(
            &format!("{panel} [data-testid=department-new-code]"),
            Duration::from_secs(30),
        )
        .await,
        "vip",
    )
    .await;
    s.type_text(
        &s.wait(
            &format!("{panel} [data-testid=department-new-name]"),
            Duration::from_secs(5),
        )
        .await,
        "VIP Desk",
    )
    .await;
    s.click(
        &s.wait(
            &format!("{panel} [data-testid=department-add]"),
            Duration::from_secs(5),
        )
        .await,
    )
    .await;
    s.wait(
        &format!("{panel} [data-testid=department-row][data-code=vip]"),
        Duration::from_secs(30),
    )
    .await;
    s.screenshot(&screens.join("admin-departments.png")).await;

    // A macro: text with placeholders, and field changes (P4, a tag, pending). P4 counts
    // business hours, so its clocks run on the calendar set above.
    s.click(
        &s.wait("[data-testid=admin-tab-templates]", Duration::from_secs(10))
            .await,
    )
    .await;
    let panel = "[data-testid=admin-panel-templates]";
    s.click(
        &s.wait(
            &format!("{panel} [data-testid=template-new]"),
            Duration::from_secs(30),
        )
        .await,
    )
    .await;
    let name_field = s
        .wait(
            &format!("{panel} [data-testid=template-name]"),
            Duration::from_secs(10),
        )
        .await;
    s.type_text(&name_field, "Refund under way").await;
    s.type_text(
        &s.wait(
            &format!("{panel} [data-testid=template-body]"),
            Duration::from_secs(5),
        )
        .await,
        "Hello {{customer.name}}, the refund for {{ticket.key}} is under way.",
    )
    .await;
    choose(&s, "template-priority", "P4").await;
    choose(&s, "template-status", "pending").await;
    s.type_text(
        &s.wait(
            &format!("{panel} [data-testid=template-tags]"),
            Duration::from_secs(5),
        )
        .await,
        "refund-started",
    )
    .await;
    // Leaving the tags field commits it, as for a user who clicks on.
    s.click(&name_field).await;
    s.screenshot(&screens.join("admin-macro.png")).await;
    s.click(
        &s.wait(
            &format!("{panel} [data-testid=template-save]"),
            Duration::from_secs(5),
        )
        .await,
    )
    .await;
    s.wait_until(
        "the macro in the list",
        "return [...document.querySelectorAll('[data-testid=admin-panel-templates] [data-testid=template-row]')]
             .some(r => r.textContent.includes('Refund under way'));",
        Duration::from_secs(30),
    )
    .await;

    // An agent in the new department, invited with a one-time password.
    s.click(
        &s.wait("[data-testid=admin-tab-users]", Duration::from_secs(10))
            .await,
    )
    .await;
    s.click(
        &s.wait("[data-testid=invite-open]", Duration::from_secs(30))
            .await,
    )
    .await;
    s.type_text(
        &s.wait("[data-testid=invite-name]", Duration::from_secs(10))
            .await,
        "Dora Lisboa",
    )
    .await;
    s.type_text(
        &s.wait("[data-testid=invite-email]", Duration::from_secs(5))
            .await,
        "dora@acme.example",
    )
    .await;
    s.click(
        &s.wait(
            "[data-testid=invite-departments-vip]",
            Duration::from_secs(10),
        )
        .await,
    )
    .await;
    s.click(
        &s.wait("[data-testid=invite-password]", Duration::from_secs(5))
            .await,
    )
    .await;
    s.click(
        &s.wait("[data-testid=invite-submit]", Duration::from_secs(5))
            .await,
    )
    .await;
    let password = s
        .text(
            &s.wait("[data-testid=invite-secret-value]", Duration::from_secs(30))
                .await,
        )
        .await;
    assert!(password.trim().len() >= 8, "{password:?}");
    s.screenshot(&screens.join("admin-invite.png")).await;
    let login = outpost_system_tests::server::http()
        .post(format!("{}/v1/auth/login", server.url()))
        .json(&serde_json::json!({ "email": "dora@acme.example", "password": password.trim() }))
        .send()
        .await
        .expect("the invitee signs in");
    assert!(login.status().is_success(), "{}", login.status());
    s.click(
        &s.wait("[data-testid=invite-close]", Duration::from_secs(5))
            .await,
    )
    .await;
    s.wait_until(
        "the invitee in the people list, in the new department",
        "return [...document.querySelectorAll('[data-testid=user-row]')]
             .some(r => r.textContent.includes('Dora Lisboa') && r.textContent.includes('VIP Desk'));",
        Duration::from_secs(30),
    )
    .await;
    s.script(
        "[...document.querySelectorAll('[data-testid=user-row]')]
             .find(r => r.textContent.includes('Dora Lisboa')).scrollIntoView({block: 'center'});
         return true;",
    )
    .await
    .expect("show the invitee");
    s.screenshot(&screens.join("admin-users.png")).await;

    // The agent's running app: the department by name, the macro, the Lisbon calendar.
    let macro_ = wait_for(
        "the admin's changes in the agent's app",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            ann.settle(5).await;
            let directory = ann.desk.directory().await.expect("the directory");
            let vip = directory
                .departments
                .iter()
                .any(|d| d.code == "vip" && d.name == "VIP Desk" && d.active);
            let dora = directory
                .users
                .iter()
                .any(|u| u.email == "dora@acme.example" && u.departments == ["vip"]);
            let settings = ann.desk.org_settings().await.expect("the settings");
            let calendar = &settings.settings.sla_settings().calendar;
            let lisbon = serde_json::to_value(calendar.tz).expect("a zone") == "Europe/Lisbon"
                && calendar
                    .holidays
                    .iter()
                    .any(|h| h.date == christmas && h.name == "Natal");
            let template = ann
                .desk
                .templates()
                .await
                .expect("the templates")
                .into_iter()
                .find(|t| t.name == "Refund under way");
            (vip && dora && lisbon).then_some(template).flatten()
        },
    )
    .await;
    let mut told = false;
    while let Ok(notice) = notices.try_recv() {
        told |= notice.reference;
    }
    assert!(
        told,
        "the agent's app was not told its reference data changed"
    );
    assert_eq!(macro_.changes.priority, Some(Priority::P4));
    assert_eq!(macro_.changes.status, Some(Status::Pending));
    assert_eq!(macro_.changes.add_tags, ["refund-started"]);
    assert!(macro_.body.contains("{{ticket.key}}"), "{}", macro_.body);

    // The agent applies the macro's field changes to a support ticket, as the composer does.
    let snapshot = server.snapshot(&server.org.ann).await;
    let mut open: Vec<_> = snapshot
        .tickets
        .values()
        .filter(|t| {
            t.department.as_deref() == Some("support")
                && t.status.is_open()
                && t.priority != Priority::P4
                && outpost_core::status::allowed_targets(t.status).contains(&Status::Pending)
        })
        .collect();
    open.sort_by_key(|t| t.key.clone());
    let ticket = open.first().expect("an open support ticket");
    ann.desk
        .change(Mutation::SetPriority {
            ticket_id: ticket.id,
            priority: Priority::P4,
        })
        .await
        .expect("the macro's priority");
    for tag in &macro_.changes.add_tags {
        ann.desk
            .change(Mutation::AddTag {
                ticket_id: ticket.id,
                tag: tag.clone(),
            })
            .await
            .expect("the macro's tag");
    }
    ann.desk
        .change(Mutation::SetStatus {
            ticket_id: ticket.id,
            status: Status::Pending,
            reason: None,
        })
        .await
        .expect("the macro's status");
    ann.settle(10).await;
    let now = server.snapshot(&server.org.ann).await;
    let worked = &now.tickets[&ticket.id];
    assert_eq!(worked.priority, Priority::P4);
    assert_eq!(worked.status, Status::Pending);
    assert!(
        worked.tags.iter().any(|t| t == "refund-started"),
        "{worked:?}"
    );

    // Its SLA explanation names the calendar it counted on.
    let detail = ann
        .desk
        .inspect_ticket(ticket.id)
        .await
        .expect("the ticket");
    assert!(!detail.sla.clocks.is_empty(), "{:?}", detail.sla);
    for clock in &detail.sla.clocks {
        let explained = clock.explain(Lang::En);
        assert!(
            explained.contains("business hours Europe/Lisbon, Mon–Fri 09:00–18:00"),
            "{explained}"
        );
    }

    // The audit trail in the app: each change with its values before and after.
    s.click(
        &s.wait("[data-testid=nav-audit]", Duration::from_secs(10))
            .await,
    )
    .await;
    let calendar = audit_changes(&s, "settings.set").await;
    assert!(
        calendar.contains("Asia/Shanghai")
            && calendar.contains("Europe/Lisbon")
            && calendar.contains(&christmas.to_string())
            && calendar.contains("Natal"),
        "{calendar}"
    );
    s.screenshot(&screens.join("admin-audit.png")).await;
    let department = audit_changes(&s, "department.put").await;
    assert!(
        department.contains("vip") && department.contains("VIP Desk"),
        "{department}"
    );
    let template = audit_changes(&s, "template.put").await;
    assert!(
        template.contains("Refund under way")
            && template.contains("pending")
            && template.contains("refund-started"),
        "{template}"
    );
    let user = audit_changes(&s, "user.add").await;
    assert!(
        user.contains("dora@acme.example") && user.contains("Dora Lisboa"),
        "{user}"
    );
    s.quit().await;
}

/// Without a graphical session the app says so and exits 1 (no panic trace, nothing written).
#[test]
fn without_a_display_the_app_explains_and_exits() {
    let data = outpost_system_tests::scratch_dir();
    let out = std::process::Command::new(desktop_bin())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("OUTPOST_DATA_DIR", data.path())
        .output()
        .expect("run outpost-desktop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no graphical session"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(data.path())
            .expect("the data dir")
            .count(),
        0
    );
}

/// A PDF file name that tries to be markup and to hide its real extension behind a
/// right-to-left override (it would show as "…fdp.jpg" were the override honoured).
const HOSTILE_PDF_NAME: &str = "<b>paid<b> receipt \u{202E}gpj.pdf";

/// A small, well-formed PDF (the type is decided by its `%PDF-` magic number).
const TINY_PDF: &[u8] = b"%PDF-1.4\n\
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
trailer << /Root 1 0 R >>\n\
%%EOF\n";

/// A 320×200 RGB gradient, pixel (x, y) = (x·255/319, y·255/199, 128), encoded once as a
/// baseline JPEG with jpeg-encoder 0.6 at quality 85 (4.2 KB, checked in).
fn fixture_jpeg() -> (Vec<u8>, PathBuf) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/gradient-320x200.jpg");
    (std::fs::read(&path).expect("the JPEG fixture"), path)
}

/// The attachment row whose file name is `name`, waiting for it to appear.
async fn attachment_row(s: &Session, name: &str) -> outpost_system_tests::webdriver::Element {
    let literal = serde_json::to_string(name).expect("a JSON string");
    s.wait_until(
        &format!("the attachment row of {name:?}"),
        &format!(
            "return [...document.querySelectorAll('[data-testid=attachment-row]')]
                 .some(r => r.querySelector('.attachment-name').textContent === {literal});"
        ),
        Duration::from_secs(30),
    )
    .await;
    for row in s.find_all("[data-testid=attachment-row]").await {
        for label in s.find_in(&row, ".attachment-name").await {
            if s.text(&label).await.trim() == name.trim() {
                return row;
            }
        }
    }
    panic!("the attachment row of {name:?} went away");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make desktop-test`"]
async fn agent_attaches_files_from_the_composer_and_previews_the_image() {
    use outpost_core::files::sanitise_filename;
    use outpost_core::model::EntryBody;

    let server = Server::start(Backend::Sqlite).await;
    let screens = out_dir();
    let data = outpost_system_tests::scratch_dir();
    let logs = outpost_system_tests::scratch_dir();
    // The files the agent picks, as they lie on the agent's disk.
    let picked = outpost_system_tests::scratch_dir();
    let (jpeg, fixture) = fixture_jpeg();
    let jpeg_name = "gradient-320x200.jpg";
    let jpeg_path = picked.path().join(jpeg_name);
    std::fs::copy(&fixture, &jpeg_path).expect("copy the JPEG");
    let pdf_path = picked.path().join(HOSTILE_PDF_NAME);
    std::fs::write(&pdf_path, TINY_PDF).expect("write the PDF");
    let pdf_shown = sanitise_filename(HOSTILE_PDF_NAME);
    assert!(
        !pdf_shown.contains('<') && !pdf_shown.contains('\u{202E}'),
        "{pdf_shown:?}"
    );

    let driver = Driver::start(&[("OUTPOST_DATA_DIR", data.path())], logs.path()).await;
    let s = driver.session(&desktop_bin()).await;
    sign_in(&s, &server).await;
    let snapshot = server.snapshot(&server.org.ann).await;
    let mut open: Vec<_> = snapshot
        .tickets
        .values()
        .filter(|t| t.department.as_deref() == Some("support") && t.status.is_open())
        .collect();
    open.sort_by_key(|t| t.key.clone());
    let ticket = open.first().expect("an open support ticket");
    let key = ticket.key.clone().expect("a server ticket has a key");
    s.click(
        &s.wait("[data-testid=view-unassigned]", Duration::from_secs(10))
            .await,
    )
    .await;
    open_ticket(&s, &key).await;
    s.click(
        &s.wait("[data-testid=composer-mode-reply]", Duration::from_secs(10))
            .await,
    )
    .await;

    // Every state a chip is drawn in, recorded as the page draws it (a small file may pass
    // through its chip faster than any polling would see).
    s.script(
        "window.__chips = [];
         const record = () => {
           if (window.__chips.length > 5000) return;
           for (const c of document.querySelectorAll('[data-testid=upload-chip]')) {
             const name = c.querySelector('[data-testid=upload-name]');
             const progress = c.querySelector('[data-testid=upload-progress]');
             const error = c.querySelector('[data-testid=upload-error]');
             window.__chips.push({
               name: name ? name.textContent : null,
               phase: c.dataset.phase,
               sent: progress ? Number(progress.value) : null,
               max: progress ? Number(progress.max) : null,
               error: error ? error.textContent : null,
               elements: c.querySelectorAll('b, img, script').length,
             });
           }
         };
         new MutationObserver(record).observe(document.body,
           {subtree: true, childList: true, attributes: true, characterData: true});
         return true;",
    )
    .await
    .expect("watch the chips");

    // Attach both through the composer's file input, as its picker would.
    let input = s
        .wait("[data-testid=attach-input]", Duration::from_secs(10))
        .await;
    assert_eq!(
        s.attribute(&input, "type").await.as_deref(),
        Some("file"),
        "the Attach button's input"
    );
    s.send_files(&input, &[&jpeg_path, &pdf_path])
        .await
        .unwrap_or_else(|e| panic!("the file input refused the files: {e:?}"));

    // A chip for each file, named as the file is (the hostile name as plain text).
    let chips = s
        .wait_until(
            "a chip for each file",
            &format!(
                "const names = new Set(window.__chips.map(c => c.name));
                 return names.has({jpeg}) && (names.has({pdf}) || names.has({shown}))
                     ? window.__chips : null;",
                jpeg = serde_json::to_string(jpeg_name).expect("JSON"),
                // The chip shows the picked name without its direction override, then the
                // core's sanitised name once the shell has taken the file.
                pdf =
                    serde_json::to_string(&HOSTILE_PDF_NAME.replace('\u{202E}', "")).expect("JSON"),
                shown = serde_json::to_string(&pdf_shown).expect("JSON"),
            ),
            Duration::from_secs(30),
        )
        .await;
    let chips = chips.as_array().expect("the recorded chips").clone();
    for chip in &chips {
        assert!(
            !["refused", "failed"].contains(&chip["phase"].as_str().unwrap_or_default()),
            "an upload was refused: {chip}"
        );
        assert_eq!(chip["elements"], 0, "markup in a chip: {chip}");
        assert!(
            !chip["name"]
                .as_str()
                .unwrap_or_default()
                .contains('\u{202E}'),
            "a chip shows a direction override: {chip}"
        );
    }
    // Both rows reach the server: their bytes are uploaded (state `uploaded`).
    for name in [jpeg_name, pdf_shown.as_str()] {
        let literal = serde_json::to_string(name).expect("a JSON string");
        s.wait_until(
            &format!("{name:?} uploaded"),
            &format!(
                "const r = [...document.querySelectorAll('[data-testid=attachment-row]')]
                     .find(r => r.querySelector('.attachment-name').textContent === {literal});
                 if (r && r.dataset.state === 'failed') return 'failed: ' + r.textContent;
                 return r && r.dataset.state === 'uploaded';"
            ),
            Duration::from_secs(90),
        )
        .await;
    }
    let states = s
        .script("return window.__chips.filter(c => c.max !== null).map(c => [c.name, c.phase, c.sent, c.max]);")
        .await
        .expect("the chips' progress");
    let midway = states
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c[2].as_f64()
                .is_some_and(|sent| sent > 0.0 && Some(sent) < c[3].as_f64())
        })
        .count();
    println!(
        "chips seen with a progress bar: {}; part-way: {midway}",
        states.as_array().map_or(0, Vec::len)
    );

    // The server has both entries and serves the very bytes.
    let entries = wait_for(
        "both attachment entries on the server",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            let now = server.snapshot(&server.org.ann).await;
            let found: Vec<(Uuid, String, String)> = now
                .entries
                .get(&ticket.id)?
                .values()
                .filter_map(|e| match &e.body {
                    EntryBody::Attachment {
                        attachment_id,
                        filename,
                        mime,
                        ..
                    } => Some((*attachment_id, filename.clone(), mime.clone())),
                    _ => None,
                })
                .collect();
            (found.len() >= 2).then_some(found)
        },
    )
    .await;
    let token = server.token(&server.org.ann).await;
    for (name, bytes, mime) in [
        (jpeg_name, jpeg.as_slice(), "image/jpeg"),
        (pdf_shown.as_str(), TINY_PDF, "application/pdf"),
    ] {
        let (id, _, entry_mime) = entries
            .iter()
            .find(|(_, f, _)| f == name)
            .unwrap_or_else(|| panic!("no entry named {name:?} on the server: {entries:?}"));
        assert_eq!(entry_mime, mime);
        let response = outpost_system_tests::server::http()
            .get(format!(
                "{}/v1/tickets/{}/attachments/{id}",
                server.url(),
                ticket.id
            ))
            .bearer_auth(&token)
            .send()
            .await
            .expect("download the attachment");
        assert!(
            response.status().is_success(),
            "{name}: {}",
            response.status()
        );
        let header = |h: &str| {
            response
                .headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("content-type"), mime, "{name}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{name}");
        assert!(
            header("content-disposition").starts_with("attachment"),
            "{name}: {}",
            header("content-disposition")
        );
        let served = response.bytes().await.expect("the attachment's bytes");
        assert!(
            served.as_ref() == bytes,
            "{name}: the server's bytes differ"
        );
    }

    // The hostile name is text: no element made of it, no override left in what is shown.
    let verdict = s
        .script(&format!(
            "const rows = [...document.querySelectorAll('[data-testid=attachment-row]')];
             const row = rows.find(r => r.querySelector('.attachment-name').textContent === {pdf});
             return {{
               xss: window.__xss === undefined ? null : window.__xss,
               elements: rows.reduce((n, r) => n + r.querySelectorAll('b, img, script').length, 0),
               override: rows.some(r => r.textContent.includes('\\u202e')),
               shown: row ? row.querySelector('.attachment-name').textContent : null,
             }};",
            pdf = serde_json::to_string(&pdf_shown).expect("JSON"),
        ))
        .await
        .expect("inspect the rows");
    assert_eq!(verdict["xss"], serde_json::Value::Null, "{verdict}");
    assert_eq!(verdict["elements"], 0, "{verdict}");
    assert_eq!(verdict["override"], false, "{verdict}");
    assert_eq!(verdict["shown"], pdf_shown.as_str(), "{verdict}");

    // The preview: the shell's PNG of the JPEG, at the image's own size (it fits 1600×1600).
    let row = attachment_row(&s, jpeg_name).await;
    let preview = s
        .find_in(&row, "[data-testid=attachment-preview]")
        .await
        .into_iter()
        .next()
        .expect("a Preview button on the JPEG's row");
    s.click(&preview).await;
    s.wait(
        "[data-testid=attachment-preview-dialog]",
        Duration::from_secs(30),
    )
    .await;
    let image = s
        .wait_until(
            "the preview image decoded",
            "const i = document.querySelector('[data-testid=attachment-preview-image]');
             return i && i.complete && i.naturalWidth > 0
                 ? [i.naturalWidth, i.naturalHeight, i.getAttribute('src').slice(0, 22)] : null;",
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(
        image,
        serde_json::json!([320, 200, "data:image/png;base64,"]),
        "the preview"
    );
    s.screenshot(&screens.join("attachments.png")).await;
    s.quit().await;
}
