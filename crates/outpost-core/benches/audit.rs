//! Audit-chain verification of 1 000 000 events (target: <= 1 s, i.e. >= 1 000 000 events/s).
//!
//! Baseline in the same run: bare SHA-256 over the same canonical bytes, prepared in advance,
//! i.e. the hashing floor with no chain bookkeeping.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use outpost_core::audit::{canonical_bytes, verify, AuditEvent, ChainHead, Hash32};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const EVENTS: u64 = 1_000_000;

fn chain() -> Vec<outpost_core::audit::ChainedEvent> {
    let mut head = ChainHead::default();
    (0..EVENTS)
        .map(|i| {
            head.append(AuditEvent {
                seq: 0,
                at: Utc.timestamp_opt(1_790_000_000 + i as i64, 0).unwrap(),
                actor: Uuid::from_u128(u128::from(i % 40)).to_string(),
                device: Some(Uuid::from_u128(u128::from(i % 7)).to_string()),
                address: Some("203.0.113.7".into()),
                action: "ticket.set_status".into(),
                ticket_id: Some(Uuid::from_u128(u128::from(i / 3))),
                before: Some(Hash32::digest(&i.to_be_bytes())),
                after: Some(Hash32::digest(&(i + 1).to_be_bytes())),
                detail: format!(r#"{{"mutation_id":{i},"events":[{{"type":"status_changed","from":"new","to":"triaged"}}]}}"#),
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let events = chain();
    let mut group = c.benchmark_group("audit_chain");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    group.bench_function("verify_1m", |b| {
        b.iter(|| black_box(verify(black_box(&events)).expect("valid chain")));
    });
    let encoded: Vec<Vec<u8>> = events
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            canonical_bytes(&e.event, &mut out);
            out
        })
        .collect();
    group.bench_function("baseline_sha256_only_1m", |b| {
        b.iter(|| {
            for bytes in &encoded {
                black_box(Sha256::digest(black_box(bytes)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
