//! Queue pages: filtered, sorted, keyset-paginated lists of tickets.
//!
//! The cursor carries the sort key of the last row, so page 2 000 costs what page 1 costs; no
//! query here uses `OFFSET`.

use chrono::{DateTime, Utc};
use outpost_core::model::{Category, Priority, RiskLevel, Status, TicketId, UserId};
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use crate::columns::{from_millis, millis, priority_from_rank, priority_rank, DUE_PAUSED};
use crate::{corrupt, Result, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaFilter {
    OnTrack,
    AtRisk,
    Breached,
    Paused,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QueueFilter {
    /// Empty means any.
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub departments: Vec<String>,
    pub categories: Vec<Category>,
    pub assignee: AssigneeFilter,
    pub tag: Option<String>,
    pub sla: Option<SlaFilter>,
    /// Only tickets whose satisfaction revisit is due (a low CSAT score, not yet followed up).
    #[serde(default)]
    pub revisit: bool,
}

/// Whose tickets: anyone's, nobody's, or one agent's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    User {
        id: UserId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum QueueSort {
    /// Nearest deadline first; paused, then stopped clocks last.
    #[default]
    SlaDue,
    /// P1 first, nearest deadline within a priority.
    Priority,
    /// Most recently updated first.
    Updated,
}

impl QueueSort {
    fn tag(self) -> &'static str {
        match self {
            QueueSort::SlaDue => "due",
            QueueSort::Priority => "prio",
            QueueSort::Updated => "upd",
        }
    }
}

/// Where the next page starts. Opaque to callers; valid only with the sort it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct QueueCursor(String);

impl QueueCursor {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_string(s: String) -> Self {
        QueueCursor(s)
    }

    fn decode(&self, sort: QueueSort) -> Result<Vec<i64>> {
        let mut parts = self.0.split(':');
        if parts.next() != Some(sort.tag()) {
            return Err(StoreError::BadCursor);
        }
        let values: Vec<i64> = parts
            .map(|p| p.parse().map_err(|_| StoreError::BadCursor))
            .collect::<Result<_>>()?;
        let expected = if sort == QueueSort::Priority { 3 } else { 2 };
        if values.len() != expected {
            return Err(StoreError::BadCursor);
        }
        Ok(values)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QueueRow {
    pub id: TicketId,
    pub key: Option<String>,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub risk: RiskLevel,
    pub category: Category,
    pub department: Option<String>,
    pub assignee: Option<UserId>,
    pub requester_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The nearest running deadline; `None` when paused or no clock runs.
    pub sla_due_at: Option<DateTime<Utc>>,
    pub sla_warn_at: Option<DateTime<Utc>>,
    pub sla_paused: bool,
    /// Local changes not yet confirmed by the server.
    pub unsent: u32,
    /// When the satisfaction revisit is due, while it is.
    pub revisit_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// `None` on the last page.
    pub next: Option<QueueCursor>,
}

fn in_list<T>(
    column: &str,
    items: &[T],
    to_value: impl Fn(&T) -> Value,
    sql: &mut String,
    args: &mut Vec<Value>,
) {
    if items.is_empty() {
        return;
    }
    sql.push_str(&format!(" AND {column} IN ("));
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('?');
        args.push(to_value(item));
    }
    sql.push(')');
}

fn where_clause(filter: &QueueFilter, now: DateTime<Utc>) -> (String, Vec<Value>) {
    let mut sql = String::from(" WHERE 1");
    let mut args = Vec::new();
    in_list(
        "status",
        &filter.statuses,
        |s| Value::Text(s.as_str().into()),
        &mut sql,
        &mut args,
    );
    in_list(
        "priority",
        &filter.priorities,
        |p| Value::Integer(priority_rank(*p)),
        &mut sql,
        &mut args,
    );
    in_list(
        "department",
        &filter.departments,
        |d| Value::Text(d.clone()),
        &mut sql,
        &mut args,
    );
    in_list(
        "category",
        &filter.categories,
        |c| Value::Text(c.as_str().into()),
        &mut sql,
        &mut args,
    );
    match &filter.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => sql.push_str(" AND assignee IS NULL"),
        AssigneeFilter::User { id } => {
            sql.push_str(" AND assignee = ?");
            args.push(Value::Blob(id.as_bytes().to_vec()));
        }
    }
    if let Some(tag) = &filter.tag {
        sql.push_str(" AND rowid IN (SELECT ticket_rowid FROM ticket_tags WHERE tag = ?)");
        args.push(Value::Text(tag.to_lowercase()));
    }
    if filter.revisit {
        sql.push_str(" AND revisit_due_at IS NOT NULL");
    }
    let now = millis(now);
    match filter.sla {
        None => {}
        Some(SlaFilter::Breached) => {
            sql.push_str(" AND sla_due_at <= ?");
            args.push(Value::Integer(now));
        }
        Some(SlaFilter::AtRisk) => {
            sql.push_str(" AND sla_warn_at <= ? AND sla_due_at > ? AND sla_due_at < ?");
            args.extend([
                Value::Integer(now),
                Value::Integer(now),
                Value::Integer(DUE_PAUSED),
            ]);
        }
        Some(SlaFilter::OnTrack) => {
            sql.push_str(" AND sla_warn_at > ? AND sla_due_at < ?");
            args.extend([Value::Integer(now), Value::Integer(DUE_PAUSED)]);
        }
        Some(SlaFilter::Paused) => {
            sql.push_str(" AND sla_due_at = ?");
            args.push(Value::Integer(DUE_PAUSED));
        }
    }
    (sql, args)
}

const COLUMNS: &str = "rowid, id, key, subject, status, priority, risk, category, department, \
    assignee, requester_name, created_at, updated_at, sla_due_at, sla_warn_at, unsent, revisit_due_at";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, RawRow)> {
    Ok((
        r.get(0)?,
        RawRow {
            id: r.get(1)?,
            key: r.get(2)?,
            subject: r.get(3)?,
            status: r.get(4)?,
            priority: r.get(5)?,
            risk: r.get(6)?,
            category: r.get(7)?,
            department: r.get(8)?,
            assignee: r.get(9)?,
            requester_name: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            due: r.get(13)?,
            warn: r.get(14)?,
            unsent: r.get(15)?,
            revisit: r.get(16)?,
        },
    ))
}

struct RawRow {
    id: Vec<u8>,
    key: Option<String>,
    subject: String,
    status: String,
    priority: i64,
    risk: String,
    category: String,
    department: Option<String>,
    assignee: Option<Vec<u8>>,
    requester_name: String,
    created_at: i64,
    updated_at: i64,
    due: i64,
    warn: i64,
    unsent: u32,
    revisit: Option<i64>,
}

impl RawRow {
    fn into_row(self) -> Result<QueueRow> {
        let time = |ms| from_millis(ms).ok_or_else(|| corrupt("time out of range"));
        let deadline = |ms: i64| {
            if ms >= DUE_PAUSED {
                Ok(None)
            } else {
                time(ms).map(Some)
            }
        };
        Ok(QueueRow {
            id: TicketId::from_slice(&self.id).map_err(corrupt)?,
            key: self.key,
            subject: self.subject,
            status: self.status.parse().map_err(corrupt)?,
            priority: priority_from_rank(self.priority)?,
            risk: self.risk.parse().map_err(corrupt)?,
            category: self.category.parse().map_err(corrupt)?,
            department: self.department,
            assignee: self
                .assignee
                .map(|a| UserId::from_slice(&a))
                .transpose()
                .map_err(corrupt)?,
            requester_name: self.requester_name,
            created_at: time(self.created_at)?,
            updated_at: time(self.updated_at)?,
            sla_due_at: deadline(self.due)?,
            sla_warn_at: deadline(self.warn)?,
            sla_paused: self.due == DUE_PAUSED,
            unsent: self.unsent,
            revisit_due_at: self.revisit.map(time).transpose()?,
        })
    }
}

impl Store {
    /// One page of the queue. `now` decides SLA states for the SLA filter.
    pub fn queue(
        &self,
        filter: &QueueFilter,
        sort: QueueSort,
        after: Option<&QueueCursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<QueuePage> {
        let (mut sql, mut args) = where_clause(filter, now);
        sql.insert_str(0, &format!("SELECT {COLUMNS} FROM tickets"));
        if let Some(cursor) = after {
            let values = cursor.decode(sort)?;
            sql.push_str(match sort {
                QueueSort::SlaDue => " AND (sla_due_at, rowid) > (?, ?)",
                QueueSort::Priority => " AND (priority, sla_due_at, rowid) > (?, ?, ?)",
                QueueSort::Updated => " AND (updated_at, rowid) < (?, ?)",
            });
            args.extend(values.into_iter().map(Value::Integer));
        }
        sql.push_str(match sort {
            QueueSort::SlaDue => " ORDER BY sla_due_at, rowid",
            QueueSort::Priority => " ORDER BY priority, sla_due_at, rowid",
            QueueSort::Updated => " ORDER BY updated_at DESC, rowid DESC",
        });
        sql.push_str(" LIMIT ?");
        // One extra row tells whether another page exists.
        args.push(Value::Integer(i64::from(limit) + 1));

        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut raw: Vec<(i64, RawRow)> = stmt
            .query_map(rusqlite::params_from_iter(args), read_row)?
            .collect::<rusqlite::Result<_>>()?;
        let more = raw.len() > limit as usize;
        raw.truncate(limit as usize);
        let next = match raw.last() {
            Some((rowid, last)) if more => Some(QueueCursor(match sort {
                QueueSort::SlaDue => format!("due:{}:{rowid}", last.due),
                QueueSort::Priority => format!("prio:{}:{}:{rowid}", last.priority, last.due),
                QueueSort::Updated => format!("upd:{}:{rowid}", last.updated_at),
            })),
            _ => None,
        };
        let rows = raw
            .into_iter()
            .map(|(_, r)| r.into_row())
            .collect::<Result<_>>()?;
        Ok(QueuePage { rows, next })
    }

    /// How many tickets a filter selects (for the live counts beside saved views).
    pub fn count(&self, filter: &QueueFilter, now: DateTime<Utc>) -> Result<u64> {
        let (clause, args) = where_clause(filter, now);
        let sql = format!("SELECT count(*) FROM tickets{clause}");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0))? as u64)
    }
}
