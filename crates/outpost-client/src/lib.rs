//! The Outpost desktop client library.

pub mod vault;
