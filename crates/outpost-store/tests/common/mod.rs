//! Shared fixtures for the store's integration tests.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the shared fixtures"
)]

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use outpost_core::model::{Category, Channel, CustomerTier, Priority, Requester, RiskLevel};
use outpost_core::sync::{Mutation, NewTicket};
use outpost_store::{Actor, DbKey, Store};
use uuid::Uuid;

pub fn key(byte: u8) -> DbKey {
    DbKey::from_bytes([byte; 32])
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
}

pub fn actor() -> Actor {
    Actor {
        user_id: Uuid::from_u128(0xA1),
        device_id: Uuid::from_u128(0xD1),
    }
}

pub fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("cache.db"), &key(7)).expect("open cache")
}

pub fn new_ticket(
    n: u128,
    subject: &str,
    description: &str,
    dept: &str,
    priority: Priority,
) -> Mutation {
    Mutation::CreateTicket(NewTicket {
        id: Uuid::from_u128(0x1000 + n),
        subject: subject.into(),
        description: description.into(),
        requester: Requester {
            name: format!("Customer {n}"),
            contact: format!("c{n}@example.com"),
            account_id: Some(format!("ACC-{n}")),
            tier: CustomerTier::Standard,
        },
        channel: Channel::Email,
        language: "zh-CN".into(),
        category: Category::LOGIN_ANOMALY,
        priority,
        risk: RiskLevel::None,
        department: Some(dept.into()),
        tags: BTreeSet::new(),
    })
}

pub fn ticket_id(n: u128) -> Uuid {
    Uuid::from_u128(0x1000 + n)
}
