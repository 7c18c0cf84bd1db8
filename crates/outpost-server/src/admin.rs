//! Administration commands run from the shell: create the organisation, add users and
//! departments, load demo data.

use outpost_core::model::Role;
use outpost_synth::{tickets_with_entries, SynthConfig};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::{hash_password, random_token};
use crate::db::{next, now_millis, Db};
use crate::secrets::MasterKey;
use crate::writes::{write_entry, write_ticket_row};

pub const DEFAULT_DEPARTMENTS: &[(&str, &str)] = &[
    ("support", "Support 客服部"),
    ("finance", "Finance 财务部"),
    ("tech", "Tech 技术部"),
    ("risk", "Risk 风控部"),
];

pub struct Initialised {
    pub admin_id: Uuid,
    pub one_time_password: String,
}

/// Creates the organisation, the default departments and the first admin. The token-signing
/// secret is stored sealed with `master_key`; it is never written in the clear.
pub async fn init(
    db: &Db,
    master_key: &MasterKey,
    org_name: &str,
    admin_email: &str,
    admin_name: &str,
) -> anyhow::Result<Initialised> {
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM org")
        .fetch_optional(&db.pool)
        .await?;
    if exists.is_some() {
        anyhow::bail!("this database already has an organisation; nothing was changed");
    }
    let password = random_token(12)?;
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || hash_password(&password)
    })
    .await??;
    let org_id = Uuid::now_v7().to_string();
    let token_secret = master_key.seal_str(
        crate::secrets::Purpose::TOKEN_SECRET,
        &org_id,
        &zeroize::Zeroizing::new(random_token(32)?),
    )?;
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO org (id, name, token_secret, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&org_id)
        .bind(org_name)
        .bind(token_secret)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
    for (code, name) in DEFAULT_DEPARTMENTS {
        crate::users::add_department(&mut tx, code, name).await?;
    }
    let departments: Vec<String> = DEFAULT_DEPARTMENTS
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    let admin = crate::users::create(
        &mut tx,
        crate::users::NewUser {
            email: admin_email,
            name: admin_name,
            role: Role::Admin,
            departments: &departments,
            skills: &[],
            password_hash: &hash,
        },
    )
    .await?;
    AuditEntry::org_initialised(admin.id)
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(Initialised {
        admin_id: admin.id,
        one_time_password: password,
    })
}

/// Loads a realistic demo organisation: synthetic agents and supervisors, and `tickets` tickets
/// with their timelines. Returns each demo user's e-mail and one-time password.
pub async fn demo(db: &Db, tickets: usize) -> anyhow::Result<Vec<(String, Role, String)>> {
    let cfg = SynthConfig {
        tickets,
        entries: tickets * 3,
        now: crate::db::now(),
        agents: 8,
        ..SynthConfig::default()
    };
    let stream = tickets_with_entries(&cfg);
    let mut credentials = Vec::new();
    let mut tx = db.begin_write().await?;
    for user in stream.users() {
        let password = random_token(9)?;
        let hash = hash_password(&password)?;
        let seq = next(&mut tx, "change_seq").await?;
        sqlx::query(
            "INSERT INTO users (id, email, name, role, departments, skills, password_hash, active, seq, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user.id.to_string())
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(serde_json::to_string(&user.departments)?)
        .bind(serde_json::to_string(&user.skills)?)
        .bind(hash)
        .bind(i64::from(user.active))
        .bind(seq)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        credentials.push((user.email.clone(), user.role, password));
    }
    let mut highest_key = 0i64;
    for (ticket, entries) in stream {
        if let Some(n) = ticket
            .key
            .as_deref()
            .and_then(|k| k.strip_prefix("OP-"))
            .and_then(|n| n.parse::<i64>().ok())
        {
            highest_key = highest_key.max(n);
        }
        let seq = next(&mut tx, "change_seq").await?;
        write_ticket_row(&mut tx, &ticket, seq, true).await?;
        for entry in &entries {
            let seq = next(&mut tx, "change_seq").await?;
            write_entry(&mut tx, entry, seq);
        }
    }
    tx.raise("ticket_key", highest_key).await?;
    for template in crate::templates::demo() {
        crate::templates::put(&mut tx, &template).await?;
    }
    AuditEntry::demo_loaded(tickets).append(&mut tx).await?;
    tx.commit().await?;
    Ok(credentials)
}
