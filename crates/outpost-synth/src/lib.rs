//! Deterministic synthetic helpdesk data for demos, tests and benchmarks.
//!
//! A seeded generator of a team (departments, agents, supervisors, an admin) and of tickets with
//! their timelines, in Chinese and English, shaped after the domain in `PRODUCT.md`: account
//! problems at payment platforms, SaaS ticketing, business account opening. The same
//! [`SynthConfig`] always yields the same data, byte for byte: no clock, no OS randomness, ids
//! are UUIDv7 minted from the synthetic timestamps and the seeded RNG.
//!
//! Generation is two passes. A plan draws every ticket's arrival time, category, language and
//! entry budget (a few bytes each); the second pass ([`TicketStream`]) builds one ticket and its
//! entries at a time, so 100 000 tickets can be loaded into a store without holding them all.
//!
//! Architecture invariant: no I/O, no clock, no global state.

mod ids;
mod people;
mod plan;
mod text;
mod ticket;

use chrono::{DateTime, TimeZone, Utc};
use outpost_core::model::{Department, Entry, Ticket, User};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use people::departments;

/// What to generate. `Default` is the benchmark-sized data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    pub seed: u64,
    pub tickets: usize,
    /// Total timeline entries over all tickets (exact).
    pub entries: usize,
    /// End of the history: nothing happens after it; recent tickets are still open.
    pub now: DateTime<Utc>,
    /// Length of the history before `now`.
    pub span_days: u32,
    /// Number of agents (two supervisors and one admin come on top).
    pub agents: usize,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 42,
            tickets: 100_000,
            entries: 300_000,
            now: Utc
                .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
                .single()
                .expect("valid date"),
            span_days: 180,
            agents: 24,
        }
    }
}

/// Everything [`generate`] makes, tickets sorted by `created_at`, entries by ticket then time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub departments: Vec<Department>,
    pub users: Vec<User>,
    pub tickets: Vec<Ticket>,
    pub entries: Vec<Entry>,
}

// Independent ChaCha streams, so changing how one part draws does not reshuffle the others.
const TEAM_STREAM: u64 = 1;
const PLAN_STREAM: u64 = 2;
const TICKET_STREAM: u64 = 3;

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

fn team(cfg: &SynthConfig) -> people::Team {
    let start = cfg.now - chrono::Duration::days(i64::from(cfg.span_days.max(1)));
    people::team(&mut rng(cfg.seed, TEAM_STREAM), cfg.agents, start)
}

/// The agents, supervisors and admin that tickets of `cfg` are assigned to.
pub fn users(cfg: &SynthConfig) -> Vec<User> {
    team(cfg).users
}

/// The whole data set in memory.
pub fn generate(cfg: &SynthConfig) -> Dataset {
    let stream = tickets_with_entries(cfg);
    let users = stream.users().to_vec();
    let mut tickets = Vec::with_capacity(cfg.tickets);
    let mut entries = Vec::with_capacity(cfg.entries);
    for (ticket, mut timeline) in stream {
        tickets.push(ticket);
        entries.append(&mut timeline);
    }
    Dataset {
        departments: departments(),
        users,
        tickets,
        entries,
    }
}

/// Tickets in creation order, each with its timeline (sorted by time). The entry counts add up
/// to exactly `cfg.entries`; the users they refer to are [`users`]`(cfg)`.
pub fn tickets_with_entries(cfg: &SynthConfig) -> TicketStream {
    let plans = plan::plan(
        &mut rng(cfg.seed, PLAN_STREAM),
        cfg.tickets,
        cfg.entries,
        cfg.now,
        cfg.span_days,
    );
    TicketStream {
        plans: plans.into_iter(),
        generator: ticket::TicketGen::new(rng(cfg.seed, TICKET_STREAM), team(cfg), cfg.now),
    }
}

/// Streaming form of the data set; see [`tickets_with_entries`].
pub struct TicketStream {
    plans: std::vec::IntoIter<plan::TicketPlan>,
    generator: ticket::TicketGen,
}

impl TicketStream {
    /// The team the tickets are assigned to (same as [`users`]).
    pub fn users(&self) -> &[User] {
        &self.generator.team().users
    }
}

impl Iterator for TicketStream {
    type Item = (Ticket, Vec<Entry>);

    fn next(&mut self) -> Option<Self::Item> {
        let plan = self.plans.next()?;
        Some(self.generator.ticket(&plan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.plans.size_hint()
    }
}

impl ExactSizeIterator for TicketStream {}

#[cfg(test)]
mod tests;
