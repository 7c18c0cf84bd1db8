//! The admin area, whole system: the real `outpost-server` binary and desktop clients as
//! in-process `Desk`s, on SQLite and PostgreSQL. An admin's settings and department edits reach
//! an agent's running app (names, the SLA calendar, a change notice) without a restart; an edit
//! made on a version someone changed since is refused and listed; users and intake keys are
//! managed through the admin endpoints; agents are refused before anything is queued or sent.

use outpost_client::admin::{InviteKind, NewUser, UserPatch};
use outpost_core::error::ErrorCode;
use outpost_core::model::{Department, Role};
use outpost_core::settings::SettingsDoc;
use outpost_core::sla::calendar::{OpenInterval, WeeklyHours};
use outpost_core::sla::BusinessCalendar;
use outpost_system_tests::server::http;
use outpost_system_tests::{Backend, Client, Server};

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
    settings_and_departments_reach_a_running_agent_app,
    a_settings_edit_made_on_an_old_version_is_refused_and_listed,
    admins_manage_users_and_intake_keys_agents_cannot,
);

fn lisbon() -> BusinessCalendar {
    BusinessCalendar::weekdays(
        "Mon–Fri 09:00–18:00",
        serde_json::from_value(serde_json::json!("Europe/Lisbon")).unwrap(),
        chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    )
}

async fn settings_and_departments_reach_a_running_agent_app(backend: Backend) {
    let server = Server::start(backend).await;
    let url = server.url();
    let (admin, ann) = tokio::join!(
        Client::ready(&url, &server.org.admin),
        Client::ready(&url, &server.org.ann)
    );
    let mut notices = ann.desk.subscribe().await.unwrap();
    let before = ann.desk.org_settings().await.unwrap();
    assert!(!ann
        .desk
        .directory()
        .await
        .unwrap()
        .departments
        .iter()
        .any(|d| d.code == "vip"));

    // The admin adds a department and moves the calendar to Lisbon.
    admin
        .desk
        .put_department(Department {
            code: "vip".into(),
            name: "VIP 贵宾服务".into(),
            active: true,
        })
        .await
        .unwrap();
    let view = admin.desk.org_settings().await.unwrap();
    let mut sla = view.settings.sla_settings().clone();
    sla.calendar = lisbon();
    let view = admin
        .desk
        .change_settings(view.settings.sla.version, SettingsDoc::Sla(sla.clone()))
        .await
        .unwrap();
    assert_eq!(view.pending.len(), 1);
    admin.settle(5).await;
    let confirmed = admin.desk.org_settings().await.unwrap();
    assert!(confirmed.pending.is_empty());
    assert_eq!(
        confirmed.settings.sla.version,
        before.settings.sla.version + 1
    );

    // Ann's running app pulls both, is told to reload its reference data, and shows the name.
    ann.settle(5).await;
    let vip = ann
        .desk
        .directory()
        .await
        .unwrap()
        .departments
        .into_iter()
        .find(|d| d.code == "vip")
        .expect("the new department reached the agent");
    assert_eq!(vip.name, "VIP 贵宾服务");
    let seen = ann.desk.org_settings().await.unwrap();
    assert_eq!(seen.settings.sla_settings(), &sla);
    assert_eq!(seen.settings.sla.updated_by, Some(server.org.admin.id));
    let mut told = false;
    while let Ok(notice) = notices.try_recv() {
        told |= notice.reference;
    }
    assert!(told, "no change notice said the reference data changed");

    // Agents change none of it: refused before anything is queued.
    let refused = ann
        .desk
        .put_department(Department {
            code: "mine".into(),
            name: "Mine".into(),
            active: true,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    assert_eq!(ann.desk.sync_status().await.unwrap().unsent, 0);
}

async fn a_settings_edit_made_on_an_old_version_is_refused_and_listed(backend: Backend) {
    let server = Server::start(backend).await;
    let url = server.url();
    // The same admin on two devices.
    let (laptop, desktop) = tokio::join!(
        Client::ready(&url, &server.org.admin),
        Client::ready(&url, &server.org.admin)
    );
    let base = laptop.desk.org_settings().await.unwrap();
    let version = base.settings.sla.version;
    let mut mine = base.settings.sla_settings().clone();
    mine.calendar = lisbon();
    // Offline on the laptop: queued and shown.
    laptop
        .desk
        .change_settings(version, SettingsDoc::Sla(mine.clone()))
        .await
        .unwrap();
    assert_eq!(
        laptop
            .desk
            .org_settings()
            .await
            .unwrap()
            .settings
            .sla_settings(),
        &mine
    );
    // Meanwhile the desktop changes the same document and syncs first.
    let mut theirs = base.settings.sla_settings().clone();
    theirs.warn_share = 0.5;
    desktop
        .desk
        .change_settings(version, SettingsDoc::Sla(theirs.clone()))
        .await
        .unwrap();
    desktop.settle(5).await;

    // The laptop's edit is refused: gone from the outbox, listed with the server's reason, and
    // the laptop shows the desktop's version.
    laptop.settle(5).await;
    let problems = laptop.desk.sync_problems().await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].ticket_id, None);
    assert_eq!(problems[0].code, ErrorCode::Conflict);
    assert!(!problems[0].reason.is_empty());
    let shown = laptop.desk.org_settings().await.unwrap();
    assert_eq!(shown.settings.sla_settings(), &theirs);
    assert_eq!(shown.settings.sla.version, version + 1);
    assert!(shown.pending.is_empty());
}

/// Whether the server lets `email` sign in with `password`.
async fn signs_in(server: &Server, email: &str, password: &str) -> bool {
    let response = http()
        .post(format!("{}/v1/auth/login", server.url()))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request");
    response.status().is_success()
}

async fn admins_manage_users_and_intake_keys_agents_cannot(backend: Backend) {
    let server = Server::start(backend).await;
    let url = server.url();
    let (admin, ann) = tokio::join!(
        Client::ready(&url, &server.org.admin),
        Client::ready(&url, &server.org.ann)
    );

    // A new agent with a one-time password, and one invited by link.
    let added = admin
        .desk
        .admin_add_user(NewUser {
            email: "dina@example.com".into(),
            name: "Dina".into(),
            role: Role::Agent,
            departments: vec!["support".into()],
            skills: vec!["en".into()],
            invite: InviteKind::Password,
        })
        .await
        .unwrap();
    let password = added
        .one_time_password
        .clone()
        .expect("a one-time password");
    assert!(added.invite_link.is_none());
    assert!(signs_in(&server, "dina@example.com", &password).await);
    let linked = admin
        .desk
        .admin_add_user(NewUser {
            email: "eli@example.com".into(),
            name: "Eli".into(),
            role: Role::Agent,
            departments: vec![],
            skills: vec![],
            invite: InviteKind::Link,
        })
        .await
        .unwrap();
    let link = linked.invite_link.expect("an invitation link");
    assert!(link.contains("/invite/"), "{link}");
    assert!(linked.one_time_password.is_none());
    // The same address twice: the server's own code reaches the Desk.
    let taken = admin
        .desk
        .admin_add_user(NewUser {
            email: "dina@example.com".into(),
            name: "Dina again".into(),
            role: Role::Agent,
            departments: vec![],
            skills: vec![],
            invite: InviteKind::Password,
        })
        .await
        .unwrap_err();
    assert_eq!(taken.code(), ErrorCode::Conflict, "{taken}");

    // Away, as the agents' apps see it after a pull.
    let id = added.user.id;
    let updated = admin
        .desk
        .admin_update_user(
            id,
            UserPatch {
                away: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(updated.away);
    ann.settle(5).await;
    let dina = ann
        .desk
        .directory()
        .await
        .unwrap()
        .users
        .into_iter()
        .find(|u| u.id == id)
        .expect("the new user reached the agent's directory");
    assert!(dina.away);

    // Shifts: a schedule set, refused when invalid (the core's message), then cleared; the
    // three states of the patch (absent leaves them, null clears, a value replaces).
    let hours = |start_minute, end_minute| OpenInterval {
        start_minute,
        end_minute,
    };
    let weekdays = WeeklyHours {
        monday: vec![hours(540, 720), hours(780, 1020)],
        friday: vec![hours(540, 780)],
        ..WeeklyHours::default()
    };
    let set = admin
        .desk
        .admin_update_user(
            id,
            UserPatch {
                shifts: Some(Some(weekdays.clone())),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(set.shifts.as_ref(), Some(&weekdays));
    let kept = admin
        .desk
        .admin_update_user(
            id,
            UserPatch {
                name: Some("Dina Shifts".into()),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(kept.shifts.as_ref(), Some(&weekdays), "absent leaves them");
    let backwards = WeeklyHours {
        tuesday: vec![hours(600, 540)],
        ..WeeklyHours::default()
    };
    let refused = admin
        .desk
        .admin_update_user(
            id,
            UserPatch {
                shifts: Some(Some(backwards)),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BadRequest, "{refused}");
    assert!(
        refused.to_string().contains("ends before it starts"),
        "{refused}"
    );
    ann.settle(5).await;
    let pulled = ann.desk.directory().await.unwrap().users;
    let pulled = pulled.iter().find(|u| u.id == id).unwrap();
    assert_eq!(pulled.shifts.as_ref(), Some(&weekdays));
    let cleared = admin
        .desk
        .admin_update_user(
            id,
            UserPatch {
                shifts: Some(None),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.shifts, None, "null clears the schedule");

    // A new password replaces the old one; disabling and enabling work as said.
    let reset = admin
        .desk
        .admin_reset_password(id, InviteKind::Password)
        .await
        .unwrap();
    let new_password = reset.one_time_password.expect("a new one-time password");
    assert!(!signs_in(&server, "dina@example.com", &password).await);
    assert!(signs_in(&server, "dina@example.com", &new_password).await);
    admin.desk.admin_disable_user(id).await.unwrap();
    assert!(!signs_in(&server, "dina@example.com", &new_password).await);
    let enabled = admin.desk.admin_enable_user(id).await.unwrap();
    assert!(enabled.active);
    assert!(signs_in(&server, "dina@example.com", &new_password).await);
    let without_totp = admin.desk.admin_reset_totp(id).await.unwrap();
    assert_eq!(without_totp.id, id);

    // Intake keys: shown once, listed without the key, revoked.
    let key = admin
        .desk
        .admin_add_intake_key("Website form".into())
        .await
        .unwrap();
    assert!(!key.key.is_empty());
    let listed = admin.desk.admin_intake_keys().await.unwrap();
    let entry = listed.iter().find(|k| k.id == key.id).expect("listed");
    assert!(entry.revoked_at.is_none());
    assert!(!serde_json::to_string(&listed).unwrap().contains(&key.key));
    let revoked = admin.desk.admin_revoke_intake_key(key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());

    // Agents are refused before anything is sent.
    for refused in [
        ann.desk.admin_intake_keys().await.map(|_| ()),
        ann.desk.admin_disable_user(id).await,
        ann.desk
            .admin_update_user(server.org.ann.id, UserPatch::default())
            .await
            .map(|_| ()),
    ] {
        assert_eq!(refused.unwrap_err().code(), ErrorCode::Forbidden);
    }
    // A directly sent request is refused by the server too.
    let token = server.token(&server.org.ann).await;
    let response = http()
        .get(format!("{url}/v1/admin/intake-keys"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}
