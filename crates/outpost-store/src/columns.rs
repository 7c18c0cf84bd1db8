//! How values are stored in columns: times as unix milliseconds, priorities as ranks (P1 = 1, so
//! the most urgent sorts first), and the deadline sentinels of tickets without a running clock.
//!
//! Row writers (`tickets.rs`) and row readers (queue pages, search hits, reports) share these,
//! so none of them depends on another for the encoding.

use chrono::{DateTime, TimeZone, Utc};
use outpost_core::model::Priority;

use crate::{corrupt, Result};

/// Deadlines of tickets with no running clock sort after every real deadline: first paused
/// tickets, then stopped ones (resolved, closed).
pub const DUE_PAUSED: i64 = i64::MAX - 1;
pub const DUE_NONE: i64 = i64::MAX;

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

pub(crate) fn priority_rank(priority: Priority) -> i64 {
    priority as i64 + 1
}

pub(crate) fn priority_from_rank(rank: i64) -> Result<Priority> {
    usize::try_from(rank - 1)
        .ok()
        .and_then(|i| Priority::ALL.get(i).copied())
        .ok_or_else(|| corrupt(format!("priority rank {rank}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_ranks_round_trip_and_unknown_ranks_are_corrupt() {
        for &priority in Priority::ALL {
            assert_eq!(
                priority_from_rank(priority_rank(priority)).unwrap(),
                priority
            );
        }
        assert_eq!(priority_rank(Priority::ALL[0]), 1);
        assert!(priority_from_rank(0).is_err());
        assert!(priority_from_rank(Priority::ALL.len() as i64 + 1).is_err());
    }
}
