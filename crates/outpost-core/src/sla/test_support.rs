//! Builders shared by the SLA tests.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::model::{
    Category, Channel, CustomerTier, Priority, Requester, RiskLevel, Status, Ticket,
};

/// A UTC instant from a local wall-clock reading that exists exactly once.
pub fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("unambiguous local time")
        .with_timezone(&Utc)
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid UTC time")
}

pub fn date(y: i32, mo: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, mo, d).expect("valid date")
}

pub fn ticket(priority: Priority, created_at: DateTime<Utc>) -> Ticket {
    Ticket {
        id: Uuid::nil(),
        key: None,
        subject: "Cannot log in".to_owned(),
        description: String::new(),
        requester: Requester {
            name: "Li Lei".to_owned(),
            contact: "li@example.com".to_owned(),
            account_id: None,
            tier: CustomerTier::Standard,
        },
        channel: Channel::Email,
        language: "zh-CN".to_owned(),
        category: Category::LOGIN_ANOMALY,
        tags: BTreeSet::new(),
        priority,
        risk: RiskLevel::None,
        status: Status::Assigned,
        assignee: None,
        department: None,
        created_at,
        updated_at: created_at,
        first_response_at: None,
        last_update_at: None,
        resolved_at: None,
        closed_at: None,
        revisit_due_at: None,
        pauses: Vec::new(),
        csat: None,
        links: Vec::new(),
        revision: 0,
    }
}
