//! Deterministic UUIDv7: the synthetic timestamp plus bytes from the seeded RNG, never the clock.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::{Builder, Uuid};

/// A UUIDv7 for something created at `at`. `counter` goes into the 12-bit `rand_a` field, so ids
/// minted for the same millisecond (entries of one ticket) still sort in creation order.
pub(crate) fn uuid_at(at: DateTime<Utc>, rng: &mut ChaCha8Rng, counter: u16) -> Uuid {
    let mut bytes = [0u8; 10];
    rng.fill(&mut bytes[..]);
    let counter = (counter & 0x0FFF).to_be_bytes();
    bytes[0] = counter[0];
    bytes[1] = counter[1];
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}
