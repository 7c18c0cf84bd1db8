//! Supervisor reports, computed from the local cache (offline) for a period and a scope.
//!
//! The cohort of a report is the tickets *created* in the period within the scope: their SLA
//! attainment, response and resolution times, volume by category and channel, satisfaction,
//! reopen rate and recurring issues. Two figures look at a different set, as a supervisor reads
//! them: "by day" counts tickets created and tickets resolved on each day of the period, and the
//! backlog is every ticket in scope still open at the end of the period (or now, if sooner), by
//! age.
//!
//! The figures come from `ticket_facts` (one narrow row per ticket, written with the ticket row)
//! and `reopened_tickets`, so a report over 100 000 tickets reads no JSON.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use outpost_core::model::{Category, Ticket, UserId};
use outpost_core::sla::SlaReport;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::columns::{from_millis, millis, priority_from_rank};
use crate::{Result, Store};

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportParams {
    pub from: DateTime<Utc>,
    /// Exclusive.
    pub to: DateTime<Utc>,
    /// Empty means every department in the cache.
    pub departments: Vec<String>,
    pub assignee: Option<UserId>,
    /// Recurring issues: tickets of the same category for the same account within this many
    /// days of each other.
    pub recurring_days: u32,
    /// Days are cut at local midnight: minutes east of UTC (Beijing is 480).
    pub utc_offset_minutes: i32,
}

/// Met and breached clocks; clocks still running inside their target count as neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attainment {
    pub met: u64,
    pub breached: u64,
    /// met / (met + breached), or `None` when nothing was decided yet.
    pub rate: Option<f64>,
}

impl Attainment {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Met => self.met += 1,
            Outcome::Breached => self.breached += 1,
            Outcome::Open => {}
        }
    }

    fn merge(&mut self, other: &Attainment) {
        self.met += other.met;
        self.breached += other.breached;
    }

    fn finish(&mut self) {
        let decided = self.met + self.breached;
        self.rate = (decided > 0).then(|| self.met as f64 / decided as f64);
    }
}

/// SLA attainment of one group (a priority, a department, an agent, or everything).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaRow {
    /// `P1`…, a department code, a user id; `""` for tickets with no department / assignee.
    pub key: String,
    pub tickets: u64,
    pub first_response: Attainment,
    pub update: Attainment,
    pub resolution: Attainment,
    /// All three clocks together.
    pub overall: Attainment,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DurationStats {
    pub count: u64,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CountRow {
    pub key: String,
    pub count: u64,
    /// Among the three largest (categories: the seeds' "top 3 ticket types").
    pub top: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayRow {
    /// Local date, `YYYY-MM-DD`.
    pub day: String,
    pub created: u64,
    pub resolved: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CsatSummary {
    pub responses: u64,
    /// Scores 1 to 5.
    pub distribution: [u64; 5],
    pub average: Option<f64>,
    /// Scores at or below the low threshold (these reopened their ticket).
    pub low: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReopenSummary {
    /// Tickets of the cohort that were resolved at least once.
    pub resolved: u64,
    /// Of those, reopened at least once.
    pub reopened: u64,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecurringIssue {
    pub account_id: String,
    pub category: Category,
    pub count: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Ticket keys (or ids before the first sync), oldest first.
    pub tickets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DepartmentRank {
    pub rank: u32,
    pub department: String,
    pub tickets: u64,
    pub attainment: Attainment,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Report {
    pub params: ReportParams,
    pub generated_at: DateTime<Utc>,
    /// Tickets created in the period (the cohort).
    pub created: u64,
    /// Tickets resolved in the period (any creation date).
    pub resolved: u64,
    pub sla_total: SlaRow,
    pub sla_by_priority: Vec<SlaRow>,
    pub sla_by_department: Vec<SlaRow>,
    pub sla_by_agent: Vec<SlaRow>,
    pub first_response: DurationStats,
    pub resolution: DurationStats,
    pub by_category: Vec<CountRow>,
    pub by_channel: Vec<CountRow>,
    pub by_day: Vec<DayRow>,
    /// Keys `lt_1d`, `1_3d`, `3_7d`, `7_30d`, `gt_30d`.
    pub backlog_by_age: Vec<CountRow>,
    pub csat: CsatSummary,
    pub reopen: ReopenSummary,
    pub recurring: Vec<RecurringIssue>,
    /// Departments by overall SLA attainment, best first.
    pub department_ranking: Vec<DepartmentRank>,
}

/// Longest period a report covers, in days (the per-day table stays readable).
pub const MAX_REPORT_DAYS: i64 = 1_000;

/// A clock's outcome as of `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Open,
    Met,
    Breached,
}

fn outcome(code: i64, due: Option<i64>, now: i64) -> Option<Outcome> {
    match code {
        1 => Some(Outcome::Met),
        2 => Some(Outcome::Breached),
        0 if due.is_some_and(|d| d <= now) => Some(Outcome::Breached),
        0 => Some(Outcome::Open),
        _ => None,
    }
}

/// One cohort ticket, as read from `ticket_facts`: strings are interned to small ids, so the
/// pass over 100 000 rows allocates per distinct value, not per row.
struct Fact {
    rowid: i64,
    created_at: i64,
    first_response_at: Option<i64>,
    resolved_at: Option<i64>,
    csat: Option<i64>,
    clocks: [(i64, Option<i64>); 3],
    /// Hash of (account, category), when the ticket names an account.
    account_key: Option<u64>,
}

/// A recurring issue found: account, category, and (creation time, ticket key) oldest first.
type Run = (String, String, Vec<(i64, String)>);
/// A ticket that may recur: creation time, rowid, key.
type Candidate = (i64, i64, String);

/// Distinct values of a column, numbered in order of appearance.
#[derive(Default)]
struct Interner {
    ids: HashMap<Vec<u8>, u32>,
    values: Vec<Vec<u8>>,
}

impl Interner {
    fn id(&mut self, bytes: &[u8]) -> u32 {
        if let Some(id) = self.ids.get(bytes) {
            return *id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(bytes.to_vec(), id);
        self.values.push(bytes.to_vec());
        id
    }

    fn text(&self, id: u32) -> String {
        String::from_utf8_lossy(&self.values[id as usize]).into_owned()
    }
}

fn bytes_of(v: rusqlite::types::ValueRef<'_>) -> &[u8] {
    match v {
        rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b,
        _ => &[],
    }
}

fn hash_account(account: &[u8], category: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    account.hash(&mut h);
    category.hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct Group {
    tickets: u64,
    clocks: [Attainment; 3],
}

impl Group {
    fn add(&mut self, fact: &Fact, now: i64) {
        self.tickets += 1;
        for (i, (code, due)) in fact.clocks.iter().enumerate() {
            if let Some(o) = outcome(*code, *due, now) {
                self.clocks[i].add(o);
            }
        }
    }

    fn row(&self, key: String) -> SlaRow {
        let mut overall = Attainment::default();
        let mut clocks = self.clocks;
        for c in &mut clocks {
            overall.merge(c);
            c.finish();
        }
        overall.finish();
        SlaRow {
            key,
            tickets: self.tickets,
            first_response: clocks[0],
            update: clocks[1],
            resolution: clocks[2],
            overall,
        }
    }
}

fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

fn durations(mut minutes: Vec<f64>) -> DurationStats {
    minutes.sort_by(f64::total_cmp);
    DurationStats {
        count: minutes.len() as u64,
        median_minutes: percentile(&minutes, 0.5),
        p90_minutes: percentile(&minutes, 0.9),
    }
}

fn counts(map: HashMap<String, u64>, mark_top: bool) -> Vec<CountRow> {
    let mut rows: Vec<CountRow> = map
        .into_iter()
        .map(|(key, count)| CountRow {
            key,
            count,
            top: false,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    if mark_top {
        for row in rows.iter_mut().take(3) {
            row.top = true;
        }
    }
    rows
}

/// `AND department IN (…) AND assignee = ?` for a table aliased `f`.
fn scope_clause(params: &ReportParams, args: &mut Vec<rusqlite::types::Value>) -> String {
    use rusqlite::types::Value;
    let mut sql = String::new();
    if !params.departments.is_empty() {
        sql.push_str(" AND f.department IN (");
        for (i, d) in params.departments.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ",?" });
            args.push(Value::Text(d.clone()));
        }
        sql.push(')');
    }
    if let Some(a) = params.assignee {
        sql.push_str(" AND f.assignee = ?");
        args.push(Value::Blob(a.as_bytes().to_vec()));
    }
    sql
}

impl Store {
    /// Computes a report from the cache. `now` decides clocks still running.
    pub fn report(&self, params: &ReportParams, now: DateTime<Utc>) -> Result<Report> {
        use rusqlite::types::Value;
        let days = (params.to - params.from).num_days();
        if params.to <= params.from {
            return Err(crate::StoreError::BadReport(
                "the period must end after it starts".into(),
            ));
        }
        // Dates come from people: keep them where days and local offsets cannot overflow.
        let sane = |t: DateTime<Utc>| (1970..=9999).contains(&chrono::Datelike::year(&t));
        if !sane(params.from) || !sane(params.to) {
            return Err(crate::StoreError::BadReport(
                "the period must lie between the years 1970 and 9999".into(),
            ));
        }
        if days > MAX_REPORT_DAYS {
            return Err(crate::StoreError::BadReport(format!(
                "the period is {days} days; reports cover at most {MAX_REPORT_DAYS}"
            )));
        }
        let offset = FixedOffset::east_opt(params.utc_offset_minutes.clamp(-1439, 1439) * 60)
            .expect("offset within a day");
        let (from, to, now_ms) = (millis(params.from), millis(params.to), millis(now));

        // Tickets reopened at least once (a small set).
        let reopened: std::collections::HashSet<i64> = self
            .conn
            .prepare_cached(
                "SELECT t.rowid FROM reopened_tickets r JOIN tickets t ON t.id = r.ticket_id",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;

        // The cohort, aggregated in one pass.
        let mut args = vec![Value::Integer(from), Value::Integer(to)];
        let scope = scope_clause(params, &mut args);
        // A period holding most of the cache reads the table in rowid order; a short one goes
        // through the creation-time index. (Walking the index over most of the table costs a
        // random row lookup per ticket, a quarter more time than the scan.)
        let (in_period, all): (i64, i64) = self.conn.query_row(
            "SELECT (SELECT count(*) FROM ticket_facts WHERE created_at >= ?1 AND created_at < ?2),
                    (SELECT count(*) FROM ticket_facts)",
            params![from, to],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let hint = if in_period * 2 > all {
            " NOT INDEXED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT f.rowid, f.created_at, f.department, f.assignee, f.priority, f.category,
                 f.channel, f.account, f.first_response_at, f.resolved_at, f.csat,
                 f.fr_out, f.fr_due, f.up_out, f.up_due, f.res_out, f.res_due
             FROM ticket_facts f{hint}
             WHERE f.created_at >= ? AND f.created_at < ?{scope}"
        );
        let mut departments = Interner::default();
        let mut agents = Interner::default();
        let mut category_names = Interner::default();
        let mut channel_names = Interner::default();
        let mut total = Group::default();
        let mut by_priority: BTreeMap<i64, Group> = BTreeMap::new();
        let mut by_department: HashMap<u32, Group> = HashMap::new();
        let mut by_agent: HashMap<u32, Group> = HashMap::new();
        let mut categories: HashMap<u32, u64> = HashMap::new();
        let mut channels: HashMap<u32, u64> = HashMap::new();
        let mut first_response = Vec::new();
        let mut resolution = Vec::new();
        let mut csat = CsatSummary {
            responses: 0,
            distribution: [0; 5],
            average: None,
            low: 0,
        };
        let mut csat_sum = 0u64;
        let mut reopen = ReopenSummary {
            resolved: 0,
            reopened: 0,
            rate: None,
        };
        let mut facts: Vec<Fact> = Vec::new();
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        while let Some(r) = rows.next()? {
            let category = bytes_of(r.get_ref(5)?);
            let account = bytes_of(r.get_ref(7)?);
            let f = Fact {
                rowid: r.get(0)?,
                created_at: r.get(1)?,
                first_response_at: r.get(8)?,
                resolved_at: r.get(9)?,
                csat: r.get(10)?,
                clocks: [
                    (r.get(11)?, r.get(12)?),
                    (r.get(13)?, r.get(14)?),
                    (r.get(15)?, r.get(16)?),
                ],
                account_key: (!account.is_empty()).then(|| hash_account(account, category)),
            };
            let department = departments.id(bytes_of(r.get_ref(2)?));
            let agent = agents.id(bytes_of(r.get_ref(3)?));
            *categories.entry(category_names.id(category)).or_default() += 1;
            *channels
                .entry(channel_names.id(bytes_of(r.get_ref(6)?)))
                .or_default() += 1;
            total.add(&f, now_ms);
            by_priority.entry(r.get(4)?).or_default().add(&f, now_ms);
            by_department.entry(department).or_default().add(&f, now_ms);
            by_agent.entry(agent).or_default().add(&f, now_ms);
            if let Some(at) = f.first_response_at {
                first_response.push((at - f.created_at).max(0) as f64 / 60_000.0);
            }
            let was_reopened = reopened.contains(&f.rowid);
            if let Some(at) = f.resolved_at {
                resolution.push((at - f.created_at).max(0) as f64 / 60_000.0);
                reopen.resolved += 1;
                if was_reopened {
                    reopen.reopened += 1;
                }
            } else if was_reopened {
                // Resolved once, reopened, not resolved again: its resolution was cleared.
                reopen.resolved += 1;
                reopen.reopened += 1;
            }
            if let Some(score) = f.csat.filter(|s| (1..=5).contains(s)) {
                csat.responses += 1;
                csat.distribution[score as usize - 1] += 1;
                csat_sum += score as u64;
                if score <= i64::from(outpost_core::model::LOW_CSAT_SCORE) {
                    csat.low += 1;
                }
            }
            facts.push(f);
        }
        drop(rows);
        csat.average = (csat.responses > 0).then(|| csat_sum as f64 / csat.responses as f64);
        reopen.rate =
            (reopen.resolved > 0).then(|| reopen.reopened as f64 / reopen.resolved as f64);

        // Recurring issues: runs of the same category for one account, each within N days of
        // the one before. Grouped by a hash first; the few candidate groups are then read back
        // with their real account and category (so a hash collision cannot merge two).
        let window = Duration::days(i64::from(params.recurring_days.max(1))).num_milliseconds();
        let mut groups: HashMap<u64, Vec<&Fact>> = HashMap::new();
        for f in &facts {
            if let Some(k) = f.account_key {
                groups.entry(k).or_default().push(f);
            }
        }
        let mut who = self.conn.prepare_cached(
            "SELECT f.account, f.category, coalesce(t.key, hex(t.id))
             FROM ticket_facts f JOIN tickets t ON t.rowid = f.rowid WHERE f.rowid = ?1",
        )?;
        let mut recurring_runs: Vec<Run> = Vec::new();
        for (_, list) in groups.into_iter().filter(|(_, l)| l.len() >= 2) {
            let mut by_name: BTreeMap<(String, String), Vec<Candidate>> = BTreeMap::new();
            for f in list {
                let (account, category, key): (String, String, String) =
                    who.query_row([f.rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                by_name
                    .entry((account, category))
                    .or_default()
                    .push((f.created_at, f.rowid, key));
            }
            for ((account, category), mut list) in by_name {
                list.sort();
                let mut run: Vec<(i64, String)> = Vec::new();
                for (at, _, key) in list {
                    if run.last().is_some_and(|(last, _)| at - last > window) {
                        if run.len() >= 2 {
                            recurring_runs.push((account.clone(), category.clone(), run));
                        }
                        run = Vec::new();
                    }
                    run.push((at, key));
                }
                if run.len() >= 2 {
                    recurring_runs.push((account, category, run));
                }
            }
        }
        recurring_runs.sort_by(|a, b| {
            b.2.len()
                .cmp(&a.2.len())
                .then_with(|| a.0.cmp(&b.0))
                .then_with(|| a.1.cmp(&b.1))
        });
        recurring_runs.truncate(100);
        let mut recurring = Vec::with_capacity(recurring_runs.len());
        for (account_id, category, run) in recurring_runs {
            let time = |ms: i64| from_millis(ms).unwrap_or(params.from);
            recurring.push(RecurringIssue {
                account_id,
                category: category.parse().map_err(crate::corrupt)?,
                count: run.len() as u64,
                first_at: time(run[0].0),
                last_at: time(run[run.len() - 1].0),
                tickets: run.into_iter().map(|(_, key)| key).collect(),
            });
        }
        let categories: HashMap<String, u64> = categories
            .into_iter()
            .map(|(id, n)| (category_names.text(id), n))
            .collect();
        let channels: HashMap<String, u64> = channels
            .into_iter()
            .map(|(id, n)| (channel_names.text(id), n))
            .collect();
        let by_department: BTreeMap<String, Group> = by_department
            .into_iter()
            .map(|(id, g)| (departments.text(id), g))
            .collect();
        let by_agent: BTreeMap<String, Group> = by_agent
            .into_iter()
            .map(|(id, g)| {
                let bytes = &agents.values[id as usize];
                let key = Uuid::from_slice(bytes)
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                (key, g)
            })
            .collect();

        // By day: created (the cohort) and resolved (any ticket resolved in the period).
        let day_of = |ms: i64| {
            from_millis(ms)
                .map(|t| t.with_timezone(&offset).date_naive())
                .unwrap_or_default()
        };
        let mut day_rows: BTreeMap<chrono::NaiveDate, (u64, u64)> = BTreeMap::new();
        let (first_day, last_day) = (day_of(from), day_of(to - 1));
        let mut d = first_day;
        while d <= last_day {
            day_rows.insert(d, (0, 0));
            d = d.succ_opt().expect("dates go on");
        }
        for f in &facts {
            if let Some(row) = day_rows.get_mut(&day_of(f.created_at)) {
                row.0 += 1;
            }
        }
        let mut args = vec![Value::Integer(from), Value::Integer(to)];
        let scope = scope_clause(params, &mut args);
        let sql = format!(
            "SELECT f.resolved_at FROM ticket_facts f
             WHERE f.resolved_at >= ? AND f.resolved_at < ?{scope}"
        );
        let mut resolved_in_period = 0u64;
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        while let Some(r) = rows.next()? {
            resolved_in_period += 1;
            if let Some(row) = day_rows.get_mut(&day_of(r.get(0)?)) {
                row.1 += 1;
            }
        }
        let by_day = day_rows
            .into_iter()
            .map(|(day, (created, resolved))| DayRow {
                day: day.format("%Y-%m-%d").to_string(),
                created,
                resolved,
            })
            .collect();

        // Backlog: open tickets in scope at the end of the period (or now), by age.
        let at = to.min(now_ms);
        let mut args = vec![Value::Integer(at)];
        let scope = scope_clause(params, &mut args);
        let sql = format!(
            "SELECT f.created_at FROM ticket_facts f
             WHERE f.open = 1 AND f.created_at < ?{scope}"
        );
        let buckets = ["lt_1d", "1_3d", "3_7d", "7_30d", "gt_30d"];
        let mut backlog = [0u64; 5];
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let day = 86_400_000i64;
        while let Some(r) = rows.next()? {
            let age = at - r.get::<_, i64>(0)?;
            let i = match age {
                a if a < day => 0,
                a if a < 3 * day => 1,
                a if a < 7 * day => 2,
                a if a < 30 * day => 3,
                _ => 4,
            };
            backlog[i] += 1;
        }
        let backlog_by_age = buckets
            .iter()
            .zip(backlog)
            .map(|(key, count)| CountRow {
                key: (*key).into(),
                count,
                top: false,
            })
            .collect();

        let sla_by_department: Vec<SlaRow> = by_department
            .iter()
            .map(|(k, g)| g.row(k.clone()))
            .collect();
        let mut ranked: Vec<&SlaRow> = sla_by_department
            .iter()
            .filter(|r| !r.key.is_empty() && r.overall.rate.is_some())
            .collect();
        ranked.sort_by(|a, b| {
            b.overall
                .rate
                .unwrap_or(0.0)
                .total_cmp(&a.overall.rate.unwrap_or(0.0))
                .then_with(|| b.tickets.cmp(&a.tickets))
                .then_with(|| a.key.cmp(&b.key))
        });
        let department_ranking = ranked
            .iter()
            .enumerate()
            .map(|(i, r)| DepartmentRank {
                rank: i as u32 + 1,
                department: r.key.clone(),
                tickets: r.tickets,
                attainment: r.overall,
            })
            .collect();

        Ok(Report {
            params: params.clone(),
            generated_at: now,
            created: facts.len() as u64,
            resolved: resolved_in_period,
            sla_total: total.row(String::new()),
            sla_by_priority: by_priority
                .iter()
                .map(|(rank, g)| {
                    g.row(
                        priority_from_rank(*rank)
                            .map(|p| p.as_str().to_uppercase())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            sla_by_department,
            sla_by_agent: by_agent.iter().map(|(k, g)| g.row(k.clone())).collect(),
            first_response: durations(first_response),
            resolution: durations(resolution),
            by_category: counts(categories, true),
            by_channel: counts(channels, false),
            by_day,
            backlog_by_age,
            csat,
            reopen,
            recurring,
            department_ranking,
        })
    }

    /// Writes report facts for ticket rows that have none: a cache just migrated from schema 3
    /// (`Store::open` calls it only then, so opening a cache does not scan its tickets).
    pub(crate) fn backfill_facts(&mut self, now: DateTime<Utc>) -> Result<u64> {
        let missing: Vec<(i64, String)> = self
            .conn
            .prepare(
                "SELECT t.rowid, d.doc FROM tickets t JOIN ticket_docs d ON d.rowid = t.rowid
                 WHERE t.rowid NOT IN (SELECT rowid FROM ticket_facts)",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if missing.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        for (rowid, doc) in &missing {
            let ticket: Ticket = serde_json::from_str(doc).map_err(crate::corrupt)?;
            let report: SlaReport = self.admin.settings.sla_settings().evaluate(&ticket, now);
            crate::tickets::write_facts(&tx, *rowid, &ticket, &report)?;
            let revisit = crate::tickets::revisit_due(&report);
            tx.execute(
                "UPDATE tickets SET revisit_due_at = ?2 WHERE rowid = ?1",
                params![rowid, revisit],
            )?;
        }
        tx.commit()?;
        Ok(missing.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::durations;

    /// Medians and p90s interpolate linearly between the two nearest observations (the
    /// "linear" method of spreadsheets and NumPy), so supervisors can check a figure by hand.
    #[test]
    fn medians_and_p90_interpolate_between_the_nearest_observations() {
        let stats = durations(vec![40.0, 10.0, 30.0, 20.0]);
        assert_eq!(stats.count, 4);
        assert_eq!(stats.median_minutes, Some(25.0));
        // position 0.9 × 3 = 2.7: 30 + 0.7 × (40 − 30)
        assert!((stats.p90_minutes.unwrap() - 37.0).abs() < 1e-9);

        let one = durations(vec![558.0]);
        assert_eq!(
            (one.median_minutes, one.p90_minutes),
            (Some(558.0), Some(558.0))
        );

        let none = durations(Vec::new());
        assert_eq!(
            (none.count, none.median_minutes, none.p90_minutes),
            (0, None, None)
        );

        // 11 observations 0..=100 step 10: p90 lands exactly on the tenth.
        let exact = durations((0..=10).map(|i| f64::from(i) * 10.0).collect());
        assert!((exact.p90_minutes.unwrap() - 90.0).abs() < 1e-9);
        assert_eq!(exact.median_minutes, Some(50.0));
    }
}
