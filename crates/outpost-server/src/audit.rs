//! The organisation's audit chain in the server database: append inside the transaction that
//! made the change, verify from the first event. Rows are only ever inserted.

use chrono::{TimeZone, Utc};
use outpost_core::audit::{
    AuditEvent, BreakKind, ChainBreak, ChainHead, ChainedEvent, Hash32, Verified, Verifier,
};
use sqlx::{AnyPool, Row};

use crate::db::{next, WriteTx};

fn hash(text: &str) -> anyhow::Result<Hash32> {
    Hash32::from_hex(text).map_err(|e| anyhow::anyhow!("stored hash {text:?} is not hex: {e}"))
}

/// Appends `event` after the current head. Taking the `audit_seq` counter first serialises
/// appenders, so two transactions never chain onto the same head. The head is read once per
/// transaction and then followed in memory; the row is written at commit (`crate::writes`).
pub async fn append(tx: &mut WriteTx, event: AuditEvent) -> anyhow::Result<ChainedEvent> {
    let seq = next(tx, "audit_seq").await?;
    let head = match tx.audit_head.take() {
        Some(head) => head,
        None => match sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?
        {
            Some(row) => ChainHead {
                last_seq: row.try_get::<i64, _>("seq")? as u64,
                hash: hash(&row.try_get::<String, _>("hash")?)?,
            },
            None => ChainHead::default(),
        },
    };
    if head.last_seq + 1 != seq as u64 {
        anyhow::bail!(
            "audit counter ({seq}) and chain head ({}) disagree",
            head.last_seq
        );
    }
    let mut head = head;
    let chained = head.append(event);
    tx.buffer.audit.push(chained.clone());
    tx.audit_head = Some(head);
    Ok(chained)
}

fn decode(row: &sqlx::any::AnyRow) -> anyhow::Result<ChainedEvent> {
    let opt_hash = |name: &str| -> anyhow::Result<Option<Hash32>> {
        row.try_get::<Option<String>, _>(name)?
            .as_deref()
            .map(hash)
            .transpose()
    };
    Ok(ChainedEvent {
        event: AuditEvent {
            seq: row.try_get::<i64, _>("seq")? as u64,
            at: Utc
                .timestamp_micros(row.try_get("at")?)
                .single()
                .ok_or_else(|| anyhow::anyhow!("audit time out of range"))?,
            actor: row.try_get("actor")?,
            device: row.try_get("device")?,
            address: row.try_get("address")?,
            action: row.try_get("action")?,
            ticket_id: row
                .try_get::<Option<String>, _>("ticket_id")?
                .map(|t| t.parse())
                .transpose()?,
            before: opt_hash("before_hash")?,
            after: opt_hash("after_hash")?,
            detail: row.try_get("detail")?,
        },
        prev_hash: hash(&row.try_get::<String, _>("prev_hash")?)?,
        hash: hash(&row.try_get::<String, _>("hash")?)?,
    })
}

/// Verifies the whole chain page by page; `Err` inside names the first broken event.
pub async fn verify(pool: &AnyPool) -> anyhow::Result<Result<Verified, ChainBreak>> {
    let mut verifier = Verifier::new();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor, device, address, action, ticket_id, before_hash, after_hash, detail, prev_hash, hash
             FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            let verified = verifier.finish();
            // The counter is bumped in the same transaction as every append, so it knows where
            // the chain must end even if the newest rows are deleted.
            let expected: i64 =
                sqlx::query_scalar("SELECT value FROM counters WHERE name = 'audit_seq'")
                    .fetch_one(pool)
                    .await?;
            if expected as u64 > verified.head.last_seq {
                return Ok(Err(ChainBreak {
                    seq: verified.head.last_seq + 1,
                    index: verified.count as usize,
                    kind: BreakKind::Truncated {
                        expected_last: expected as u64,
                        found_last: verified.head.last_seq,
                    },
                }));
            }
            return Ok(Ok(verified));
        }
        for row in &rows {
            let event = decode(row)?;
            after = event.event.seq as i64;
            if let Err(broken) = verifier.push(&event) {
                return Ok(Err(broken));
            }
        }
    }
}
