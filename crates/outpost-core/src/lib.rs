//! Outpost's pure domain.
//!
//! Architecture invariant: nothing in this crate does I/O, spawns, sleeps or reads a clock. Time
//! arrives as a `now` argument and configuration as values, so every rule is deterministic and
//! property-testable, and the client, the server and the local cache share one implementation.

pub mod apply;
pub mod audit;
pub mod model;
pub mod rules;
pub mod sla;
pub mod status;
pub mod sync;
