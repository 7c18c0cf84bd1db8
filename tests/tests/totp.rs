//! Two-step sign-in from the desktop client, whole system: the real `outpost-server` binary and
//! in-process `Desk`s, on SQLite and PostgreSQL. When the organisation requires a second factor,
//! an agent without one signs in to a session that syncs nothing and says why
//! (`totp_setup_required`); they enrol an authenticator through the Desk (password → secret,
//! code → enabled) and the same session syncs at once, without signing in again.

use outpost_client::desk::DeskError;
use outpost_client::sync::Connectivity;
use outpost_core::error::ErrorCode;
use outpost_core::settings::SettingsDoc;
use outpost_system_tests::{Backend, Client, Server};
use totp_rs::{Algorithm, Secret, TOTP};

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

on_both_backends!(an_agent_enrols_a_required_second_factor_and_keeps_syncing);

/// What the agent's authenticator app shows for `secret` now.
fn authenticator_code(secret: &str, email: &str) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Outpost".into()),
        email.into(),
    )
    .unwrap()
    .generate_current()
    .unwrap()
}

async fn an_agent_enrols_a_required_second_factor_and_keeps_syncing(backend: Backend) {
    let server = Server::start(backend).await;
    let url = server.url();
    let admin = Client::ready(&url, &server.org.admin).await;
    let view = admin.desk.org_settings().await.unwrap();
    let mut profile = view.settings.profile().clone();
    profile.require_two_factor = true;
    admin
        .desk
        .change_settings(
            view.settings.organisation.version,
            SettingsDoc::Organisation(profile),
        )
        .await
        .unwrap();
    admin.settle(5).await;

    // Ann signs in; her session syncs nothing and says she must enrol first.
    let ann = Client::sign_in(&url, &server.org.ann).await;
    let refused = ann.sync().await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TotpSetupRequired, "{refused}");
    match ann.desk.sync_status().await.unwrap().connectivity {
        Connectivity::Error {
            totp_setup_required,
            sign_in_again,
            ..
        } => assert!(totp_setup_required && !sign_in_again),
        other => panic!("the status bar should ask for enrolment: {other:?}"),
    }

    // A wrong password is the user's mistake, not a lost session.
    let wrong = ann
        .desk
        .totp_setup("not her password".into(), None)
        .await
        .unwrap_err();
    assert!(matches!(wrong, DeskError::BadCredentials), "{wrong:?}");

    let setup = ann
        .desk
        .totp_setup(server.org.ann.password.clone(), None)
        .await
        .unwrap();
    assert!(
        setup.otpauth_url.starts_with("otpauth://totp/")
            && setup.otpauth_url.contains(&setup.secret),
        "{}",
        setup.otpauth_url
    );
    // A code that is not the authenticator's is refused with the server's reason.
    let current = authenticator_code(&setup.secret, &server.org.ann.email);
    let not_it = if current == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mismatch = ann.desk.totp_enable(not_it.into()).await.unwrap_err();
    assert_eq!(mismatch.code(), ErrorCode::BadRequest, "{mismatch}");
    assert!(ann.sync().await.is_err(), "still limited before enabling");

    ann.desk
        .totp_enable(authenticator_code(&setup.secret, &server.org.ann.email))
        .await
        .unwrap();
    // The same session syncs now: no new sign-in.
    let status = ann.settle(5).await;
    assert!(
        matches!(status.connectivity, Connectivity::Online { .. }),
        "{:?}",
        status.connectivity
    );
    assert!(!ann.desk.directory().await.unwrap().users.is_empty());

    // Enrolling again (a new phone) needs a code from the enabled authenticator.
    let again = ann
        .desk
        .totp_setup(server.org.ann.password.clone(), None)
        .await
        .unwrap_err();
    assert!(matches!(again, DeskError::TotpRequired), "{again:?}");
}
