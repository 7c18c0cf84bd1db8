//! Secrets at rest: a copy of the database alone reveals neither the token-signing secret nor a
//! TOTP seed (in any encoding), and does not let anyone sign tokens; secrets stored before
//! encryption at rest are sealed at start-up; a missing, wrong or exposed master key stops the
//! server with a clear error; `keys rotate` re-seals everything with a new key file.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use outpost_server::config::Config;
use outpost_server::db::{Db, Kind};
use outpost_server::secrets::{MasterKey, Purpose};
use outpost_server::AppState;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

const EMAIL: &str = "agent@acme.example";

fn totp_code(secret: &str) -> String {
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret.to_owned())
            .to_bytes()
            .unwrap(),
        Some("Outpost".into()),
        EMAIL.into(),
    )
    .unwrap()
    .generate((outpost_server::db::now_millis() / 1000) as u64)
}

/// Every encoding of `raw` the code uses or an attacker would try.
fn encodings(raw: &[u8]) -> Vec<Vec<u8>> {
    vec![
        raw.to_vec(),
        STANDARD.encode(raw).into_bytes(),
        STANDARD_NO_PAD.encode(raw).into_bytes(),
        URL_SAFE.encode(raw).into_bytes(),
        URL_SAFE_NO_PAD.encode(raw).into_bytes(),
        hex::encode(raw).into_bytes(),
        totp_rs::Secret::Raw(raw.to_vec())
            .to_encoded()
            .to_string()
            .into_bytes(),
    ]
}

async fn org_secret(s: &Server) -> (String, String) {
    sqlx::query_as("SELECT id, token_secret FROM org")
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

/// A user with TOTP enabled and a second seed pending (a replacement started): returns the
/// user's id and every seed the server generated for them.
async fn user_with_totp(s: &Server) -> (Uuid, Vec<String>) {
    let (id, token, password) = s.user_with_password(EMAIL, "agent", &["support"]).await;
    let (status, setup) = s
        .call(
            "POST",
            "/v1/auth/totp/setup",
            Some(&token),
            Some(json!({ "password": password })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let first = setup["secret_base32"].as_str().unwrap().to_owned();
    let (status, body) = s
        .call(
            "POST",
            "/v1/auth/totp/enable",
            Some(&token),
            Some(json!({ "code": totp_code(&first) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sqlx::query("UPDATE users SET totp_last_step = NULL WHERE id = $1")
        .bind(id.to_string())
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (status, setup) = s
        .call(
            "POST",
            "/v1/auth/totp/setup",
            Some(&token),
            Some(json!({ "password": password, "code": totp_code(&first) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let second = setup["secret_base32"].as_str().unwrap().to_owned();
    let (active, pending): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT totp_secret, totp_pending FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert!(active.is_some() && pending.is_some());
    (id, vec![first, second])
}

fn sqlite_path(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("sqlite://").unwrap())
}

/// What a copy of the database holds: the SQLite file and its write-ahead log, or every text
/// value of every table on PostgreSQL.
async fn database_copy(s: &Server) -> Vec<u8> {
    match s.db.kind {
        Kind::Sqlite => {
            let path = sqlite_path(&s.url);
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{}-wal", path.display())) {
                bytes.extend(wal);
            }
            bytes
        }
        Kind::Postgres => {
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')",
            )
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
            assert!(columns.len() > 20, "{columns:?}");
            let mut bytes = Vec::new();
            for (table, column) in columns {
                let values: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT \"{column}\" FROM \"{table}\""
                )))
                .fetch_all(&s.db.pool)
                .await
                .unwrap();
                for value in values.into_iter().flatten() {
                    bytes.extend(value.into_bytes());
                    bytes.push(0);
                }
            }
            bytes
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `token` with its payload signed again under `key`.
fn resign(token: &str, key: &[u8]) -> String {
    let (payload, _) = token.split_once('.').unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(payload.as_bytes());
    format!(
        "{payload}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

async fn a_copy_of_the_database_reveals_no_secret(s: Server) {
    let (_, seeds) = user_with_totp(&s).await;
    let (org_id, stored) = org_secret(&s).await;
    assert!(
        stored.starts_with(&format!("enc:v1:{}:", s.master_key.id())),
        "{stored}"
    );
    let signing_secret = s
        .master_key
        .open_str(Purpose::TOKEN_SECRET, &org_id, &stored)
        .unwrap()
        .to_string();

    let mut needles = vec![signing_secret.as_bytes().to_vec()];
    needles.extend(encodings(&URL_SAFE_NO_PAD.decode(&signing_secret).unwrap()));
    for seed in &seeds {
        let raw = totp_rs::Secret::Encoded(seed.clone()).to_bytes().unwrap();
        needles.extend(encodings(&raw));
        needles.push(seed.as_bytes().to_vec());
    }
    let copy = database_copy(&s).await;
    // The copy is real: it holds what is stored in the clear.
    assert!(contains(&copy, EMAIL.as_bytes()));
    assert!(contains(&copy, stored.as_bytes()));
    for needle in &needles {
        // Raw bytes only count on SQLite, where the copy is the file itself.
        if s.db.kind == Kind::Postgres && std::str::from_utf8(needle).is_err() {
            continue;
        }
        assert!(
            !contains(&copy, needle),
            "a secret is readable in the copy: {}",
            String::from_utf8_lossy(needle)
        );
    }

    // Tokens signed with what the database holds are refused; the real secret (the control)
    // signs tokens the server accepts.
    let (_, token) = s.user("forger@acme.example", "agent", &["support"]).await;
    let (status, _) = s.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let accepted = resign(&token, signing_secret.as_bytes());
    let (status, _) = s.call("GET", "/v1/me", Some(&accepted), None).await;
    assert_eq!(status, StatusCode::OK, "the control forgery must work");
    let sealed_body = stored.rsplit_once(':').unwrap().1;
    for key in [
        stored.as_bytes().to_vec(),
        sealed_body.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(sealed_body).unwrap(),
    ] {
        let forged = resign(&token, &key);
        let (status, body) = s.call("GET", "/v1/me", Some(&forged), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
}

async fn secrets_stored_in_the_clear_are_sealed_at_start_up(s: Server) {
    let (user, seeds) = user_with_totp(&s).await;
    // A database from before encryption at rest: the same secrets, in the clear.
    let (org_id, _) = org_secret(&s).await;
    let legacy_secret = outpost_server::auth::random_token(32).unwrap();
    sqlx::query("UPDATE org SET token_secret = $1")
        .bind(&legacy_secret)
        .execute(&s.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE users SET totp_secret = $1, totp_pending = NULL WHERE id = $2")
        .bind(&seeds[0])
        .bind(user.to_string())
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (_, token) = s.user("old@acme.example", "agent", &["support"]).await;
    let legacy_token = resign(&token, legacy_secret.as_bytes());

    let state = AppState::new(s.db.clone(), Config::default(), s.master_key.clone())
        .await
        .expect("start-up seals the clear values");
    let (_, stored) = org_secret(&s).await;
    let prefix = format!("enc:v1:{}:", s.master_key.id());
    assert!(stored.starts_with(&prefix), "{stored}");
    assert_eq!(
        &*s.master_key
            .open_str(Purpose::TOKEN_SECRET, &org_id, &stored)
            .unwrap(),
        &legacy_secret
    );
    let seed: String = sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
        .bind(user.to_string())
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert!(seed.starts_with(&prefix), "{seed}");
    // Tokens signed before keep working: the secret is the same, only sealed.
    let app = outpost_server::router(state);
    let response = tower::ServiceExt::oneshot(
        app,
        axum::http::Request::get("/v1/me")
            .header("authorization", format!("Bearer {legacy_token}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    if s.db.kind == Kind::Sqlite {
        let copy = database_copy(&s).await;
        assert!(
            !contains(&copy, legacy_secret.as_bytes()),
            "erased from the file"
        );
        assert!(
            !contains(&copy, seeds[0].as_bytes()),
            "erased from the file"
        );
    }

    // Idempotent: a second start changes nothing.
    AppState::new(s.db.clone(), Config::default(), s.master_key.clone())
        .await
        .unwrap();
    assert_eq!(org_secret(&s).await.1, stored);

    // Another key is refused by name, and changes nothing.
    let other = MasterKey::generate().unwrap();
    let error = AppState::new(s.db.clone(), Config::default(), other)
        .await
        .err()
        .expect("a wrong key is refused")
        .to_string();
    assert!(
        error.contains(&format!("sealed with master key {}", s.master_key.id())),
        "{error}"
    );
    assert_eq!(org_secret(&s).await.1, stored);
}

struct Run {
    code: i32,
    out: String,
}

fn cli(dir: &Path, url: &str, key_file: &Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_outpost-server"))
        .arg("--database-url")
        .arg(url)
        .arg("--master-key-file")
        .arg(key_file)
        .args(args)
        .current_dir(dir)
        .env_remove("OUTPOST_DATABASE_URL")
        .env_remove("OUTPOST_MASTER_KEY")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("OUTPOST_BIND", "127.0.0.1:0")
        .env("OUTPOST_LOG", "warn")
        .output()
        .expect("run outpost-server");
    Run {
        code: out.status.code().unwrap_or(-1),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn sealed_values(db: &Db) -> Vec<String> {
    let mut values: Vec<String> = sqlx::query_scalar("SELECT token_secret FROM org")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    values.extend(
        sqlx::query_scalar::<_, String>(
            "SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap(),
    );
    values
}

/// The operator's side, with the real binary: `init` makes a private key file, `serve` refuses
/// an exposed, missing or wrong key, and `keys rotate` re-seals everything with a new key file.
async fn key_files_from_init_to_rotation(s: Server) {
    // A database of its own, made by the binary (the harness's has a key held in memory).
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("outpost.master-key");
    let url = match s.db.kind {
        Kind::Sqlite => format!("sqlite://{}", dir.path().join("outpost.db").display()),
        Kind::Postgres => {
            let name = format!("outpost_keys_{}", Uuid::now_v7().simple());
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&s.db.pool)
                .await
                .unwrap();
            let (prefix, _) = s.url.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
    };
    let run = |args: &[&str]| cli(dir.path(), &url, &key_file, args);
    let init = run(&[
        "init",
        "--org",
        "Acme",
        "--admin-email",
        "admin@acme.example",
    ]);
    assert_eq!(init.code, 0, "{}", init.out);
    let key = outpost_server::secrets::read_key_file(&key_file).unwrap();
    assert!(init.out.contains(key.id()), "{}", init.out);
    #[cfg(unix)]
    assert_eq!(mode(&key_file), 0o600);
    let db = Db::connect(&url).await.unwrap();
    let before = sealed_values(&db).await;
    assert!(before[0].starts_with(&format!("enc:v1:{}:", key.id())));
    let status = run(&["keys", "status"]);
    assert_eq!(status.code, 0, "{}", status.out);
    assert!(status.out.contains("opens all 1 sealed"), "{}", status.out);

    // A key file others can read is refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let serve = run(&["serve"]);
        assert_ne!(serve.code, 0);
        assert!(serve.out.contains("chmod 600"), "{}", serve.out);
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // No key: refused, naming where it was looked for.
    let aside = dir.path().join("aside");
    std::fs::rename(&key_file, &aside).unwrap();
    let serve = run(&["serve"]);
    assert_ne!(serve.code, 0);
    assert!(serve.out.contains("no master key"), "{}", serve.out);
    assert!(
        serve.out.contains(&key_file.display().to_string()),
        "{}",
        serve.out
    );
    // Another key: refused, naming the key the database needs.
    outpost_server::secrets::write_key_file(&key_file, &MasterKey::generate().unwrap()).unwrap();
    let serve = run(&["serve"]);
    assert_ne!(serve.code, 0);
    assert!(
        serve
            .out
            .contains(&format!("sealed with master key {}", key.id())),
        "{}",
        serve.out
    );
    std::fs::remove_file(&key_file).unwrap();
    std::fs::rename(&aside, &key_file).unwrap();
    assert_eq!(sealed_values(&db).await, before, "refusals change nothing");

    // Rotation: everything re-sealed with a new key file; the old key kept beside it.
    let rotate = run(&["keys", "rotate"]);
    assert_eq!(rotate.code, 0, "{}", rotate.out);
    let new_key = outpost_server::secrets::read_key_file(&key_file).unwrap();
    assert_ne!(new_key.id(), key.id());
    #[cfg(unix)]
    assert_eq!(mode(&key_file), 0o600);
    let backup = dir
        .path()
        .join(format!("outpost.master-key.{}.old", key.id()));
    assert_eq!(
        outpost_server::secrets::read_key_file(&backup)
            .unwrap()
            .id(),
        key.id()
    );
    let after = sealed_values(&db).await;
    assert_eq!(after.len(), before.len());
    for value in &after {
        assert!(
            value.starts_with(&format!("enc:v1:{}:", new_key.id())),
            "{value}"
        );
    }
    let (org_id,): (String,) = sqlx::query_as("SELECT id FROM org")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        new_key
            .open_str(Purpose::TOKEN_SECRET, &org_id, &after[0])
            .unwrap(),
        key.open_str(Purpose::TOKEN_SECRET, &org_id, &before[0])
            .unwrap(),
        "the same secret, sealed anew"
    );
    assert!(key.open(Purpose::TOKEN_SECRET, &org_id, &after[0]).is_err());
    let status = run(&["keys", "status"]);
    assert_eq!(status.code, 0, "{}", status.out);
    assert!(status.out.contains(new_key.id()), "{}", status.out);
    db.pool.close().await;
}

on_both_databases!(
    a_copy_of_the_database_reveals_no_secret,
    secrets_stored_in_the_clear_are_sealed_at_start_up,
    key_files_from_init_to_rotation,
);
