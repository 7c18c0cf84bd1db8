//! The tamper-evident audit chain.
//!
//! Each event is hashed together with the previous event's hash: `hash = SHA-256(prev_hash ||
//! canonical(event))`. Editing, deleting or inserting any event changes every later hash, and
//! [`verify`] names the first entry that no longer fits.
//!
//! The canonical form is a length-prefixed binary encoding rather than JSON: it is unambiguous
//! without a JSON canonicalisation scheme, identical on every platform, and cheap enough to
//! verify millions of events a second.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Domain separation: a hash of this chain can never be confused with a hash of anything else.
const DOMAIN_TAG: &[u8] = b"outpost.audit.v1\0";

/// A SHA-256 value, written as lowercase hex on the wire and in exports.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The `prev_hash` of the first event of a chain.
    pub const GENESIS: Hash32 = Hash32([0; 32]);

    pub fn to_hex(&self) -> String {
        let mut digits = [0u8; 64];
        self.write_hex(&mut digits).to_owned()
    }

    /// Lowercase hex into a stack buffer (no allocation: pages of thousands of events write
    /// several hashes each).
    #[inline]
    pub fn write_hex<'a>(&self, digits: &'a mut [u8; 64]) -> &'a str {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for (pair, byte) in digits.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0F)];
        }
        std::str::from_utf8(digits).expect("hex digits are ASCII")
    }

    pub fn from_hex(text: &str) -> Result<Self, hex::FromHexError> {
        Hash32::from_hex_bytes(text.as_bytes())
    }

    /// Hex digits (either case) to a hash, with one table lookup per digit: a non-digit anywhere
    /// sets the high bits of `bad`, checked once. Verifying a chain decodes two or more hashes
    /// per event, and the `hex` crate's per-digit `match` was the largest single cost of
    /// reading a million events (BENCHMARKS.md). Input that is not 64 hex digits goes to the
    /// `hex` crate, which names the problem.
    #[inline]
    pub fn from_hex_bytes(bytes: &[u8]) -> Result<Self, hex::FromHexError> {
        let mut out = [0u8; 32];
        if let Ok(digits) = <&[u8; 64]>::try_from(bytes) {
            let mut bad = 0u8;
            for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
                let (high, low) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
                bad |= high | low;
                *byte = (high << 4) | (low & 0x0F);
            }
            if bad & 0xF0 == 0 {
                return Ok(Hash32(out));
            }
        }
        hex::decode_to_slice(bytes, &mut out)?;
        Ok(Hash32(out))
    }

    /// SHA-256 of arbitrary bytes, e.g. the before/after state of a changed row.
    pub fn digest(bytes: &[u8]) -> Self {
        Hash32(Sha256::digest(bytes).into())
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", self.to_hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut digits = [0u8; 64];
        s.serialize_str(self.write_hex(&mut digits))
    }
}

/// Hex digit values by byte; 0xFF marks a byte that is not a hex digit.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Decoded from the borrowed text where the format allows it: no String per hash.
        struct HexVisitor;
        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = Hash32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 hash as 64 hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Hash32, E> {
                Hash32::from_hex(text).map_err(E::custom)
            }
        }
        d.deserialize_str(HexVisitor)
    }
}

/// Who did what, when, from where, to which ticket.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the chain, starting at 1 with no gaps.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// User id, or `system` / `customer`.
    pub actor: String,
    pub device: Option<String>,
    pub address: Option<String>,
    /// The mutation or admin action name, e.g. `ticket.set_status`, `user.disable`.
    pub action: String,
    pub ticket_id: Option<Uuid>,
    /// Digest of the affected state before and after, so a reviewer can prove what changed
    /// without the chain holding customer text.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub before: Option<Hash32>,
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub after: Option<Hash32>,
    /// Small structured detail (field names, old/new enum values) as JSON text, hashed as stored.
    pub detail: String,
}

/// An event with its place in the chain.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedEvent {
    #[serde(flatten)]
    pub event: AuditEvent,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub prev_hash: Hash32,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: Hash32,
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_opt(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            put_bytes(out, b);
        }
    }
}

/// Appends the canonical encoding of `event` to `out`.
pub fn canonical_bytes(event: &AuditEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(DOMAIN_TAG);
    out.extend_from_slice(&event.seq.to_be_bytes());
    out.extend_from_slice(&event.at.timestamp_micros().to_be_bytes());
    put_bytes(out, event.actor.as_bytes());
    put_opt(out, event.device.as_deref().map(str::as_bytes));
    put_opt(out, event.address.as_deref().map(str::as_bytes));
    put_bytes(out, event.action.as_bytes());
    put_opt(
        out,
        event.ticket_id.as_ref().map(|id| id.as_bytes().as_slice()),
    );
    put_opt(out, event.before.as_ref().map(|h| h.0.as_slice()));
    put_opt(out, event.after.as_ref().map(|h| h.0.as_slice()));
    put_bytes(out, event.detail.as_bytes());
}

/// `SHA-256(prev || canonical(event))`. `scratch` is reused across calls to avoid allocating.
pub fn chain_hash(prev: &Hash32, event: &AuditEvent, scratch: &mut Vec<u8>) -> Hash32 {
    scratch.clear();
    canonical_bytes(event, scratch);
    let mut hasher = Sha256::new();
    hasher.update(prev.0);
    hasher.update(&scratch[..]);
    Hash32(hasher.finalize().into())
}

/// The running head of a chain; appends events with the next sequence number.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub last_seq: u64,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: Hash32,
}

impl Default for ChainHead {
    fn default() -> Self {
        ChainHead {
            last_seq: 0,
            hash: Hash32::GENESIS,
        }
    }
}

impl ChainHead {
    /// Seals `event` onto the chain; its `seq` is overwritten with the next number.
    pub fn append(&mut self, mut event: AuditEvent) -> ChainedEvent {
        event.seq = self.last_seq + 1;
        let hash = chain_hash(&self.hash, &event, &mut Vec::with_capacity(256));
        let chained = ChainedEvent {
            event,
            prev_hash: self.hash,
            hash,
        };
        self.last_seq = chained.event.seq;
        self.hash = hash;
        chained
    }
}

/// What is wrong with the first event that does not fit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BreakKind {
    /// The event's content no longer matches its stored hash: it was edited.
    ContentAltered {
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        stored: Hash32,
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        computed: Hash32,
    },
    /// The event does not point at its predecessor: something before it was edited, removed or
    /// inserted.
    LinkBroken {
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        expected_prev: Hash32,
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        stored_prev: Hash32,
    },
    /// Sequence numbers skip or repeat: events were deleted or inserted.
    SequenceGap { expected: u64, found: u64 },
    /// The chain ends early: the newest events were removed (known from an independent count,
    /// such as the server's sequence counter or an export's stated head).
    Truncated { expected_last: u64, found_last: u64 },
    /// The event lies past the last event the server's own sequence counter records: it was
    /// added to the table without going through the server.
    BeyondHead { head: u64 },
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit chain broken at event #{seq}: {}", describe(.kind))]
pub struct ChainBreak {
    /// Sequence number stored in the first event that does not fit.
    pub seq: u64,
    /// Index of that event in the verified slice.
    pub index: usize,
    pub kind: BreakKind,
}

fn describe(kind: &BreakKind) -> String {
    match kind {
        BreakKind::ContentAltered { .. } => "its content was altered after it was sealed".into(),
        BreakKind::LinkBroken { .. } => {
            "it does not follow the event before it (an earlier event was changed, removed or inserted)"
                .into()
        }
        BreakKind::SequenceGap { expected, found } => {
            format!("expected event #{expected} but found #{found} (events removed or inserted)")
        }
        BreakKind::Truncated { expected_last, found_last } => {
            format!("the chain ends at #{found_last} but should reach #{expected_last} (the newest events were removed)")
        }
        BreakKind::BeyondHead { head } => {
            format!("it lies past the chain head #{head} the server recorded (it was added without the server)")
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    pub count: u64,
    pub head: ChainHead,
}

/// Incremental verifier: feed events in order, across pages, from any source.
#[derive(Debug, Clone)]
pub struct Verifier {
    head: ChainHead,
    index: usize,
    scratch: Vec<u8>,
}

impl Verifier {
    /// Starts at the chain's beginning.
    pub fn new() -> Self {
        Verifier::resume(ChainHead::default())
    }

    /// Starts after a known-good head (for an export that covers a range).
    pub fn resume(head: ChainHead) -> Self {
        Verifier {
            head,
            index: 0,
            scratch: Vec::with_capacity(512),
        }
    }

    pub fn push(&mut self, event: &ChainedEvent) -> Result<(), ChainBreak> {
        let fail = |kind| ChainBreak {
            seq: event.event.seq,
            index: self.index,
            kind,
        };
        let expected = self.head.last_seq + 1;
        if event.event.seq != expected {
            return Err(fail(BreakKind::SequenceGap {
                expected,
                found: event.event.seq,
            }));
        }
        if event.prev_hash != self.head.hash {
            return Err(fail(BreakKind::LinkBroken {
                expected_prev: self.head.hash,
                stored_prev: event.prev_hash,
            }));
        }
        let computed = chain_hash(&event.prev_hash, &event.event, &mut self.scratch);
        if computed != event.hash {
            return Err(fail(BreakKind::ContentAltered {
                stored: event.hash,
                computed,
            }));
        }
        self.head = ChainHead {
            last_seq: event.event.seq,
            hash: event.hash,
        };
        self.index += 1;
        Ok(())
    }

    pub fn finish(self) -> Verified {
        Verified {
            count: self.index as u64,
            head: self.head,
        }
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

/// Verifies a whole chain from its first event.
pub fn verify<'a>(
    events: impl IntoIterator<Item = &'a ChainedEvent>,
) -> Result<Verified, ChainBreak> {
    let mut verifier = Verifier::new();
    for event in events {
        verifier.push(event)?;
    }
    Ok(verifier.finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_decode_from_hex_of_either_case_and_anything_else_is_refused() {
        let hash = Hash32::digest(b"outpost");
        let hex = hash.to_hex();
        assert_eq!(hex, hex::encode(hash.0));
        assert_eq!(Hash32::from_hex(&hex).unwrap(), hash);
        assert_eq!(Hash32::from_hex(&hex.to_uppercase()).unwrap(), hash);
        for at in 0..64 {
            for bad in [b'g', b'G', b' ', b'/', b':', b'@', b'`', 0, 0xFF] {
                let mut bytes = hex.clone().into_bytes();
                bytes[at] = bad;
                assert!(Hash32::from_hex_bytes(&bytes).is_err(), "{bad:#x} at {at}");
            }
        }
        assert!(Hash32::from_hex(&hex[..63]).is_err());
        assert!(Hash32::from_hex(&hex[..62]).is_err());
        assert!(Hash32::from_hex(&format!("{hex}00")).is_err());
        assert!(Hash32::from_hex("").is_err());
        // Through serde, as pages and exports carry them.
        let json = format!("\"{hex}\"");
        assert_eq!(serde_json::from_str::<Hash32>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<Hash32>("\"zz\"").is_err());
        assert!(serde_json::from_str::<Hash32>("42").is_err());
    }

    use super::*;
    use chrono::TimeZone;

    fn event(i: u64) -> AuditEvent {
        AuditEvent {
            seq: 0,
            at: Utc.timestamp_opt(1_790_000_000 + i as i64, 0).unwrap(),
            actor: format!("agent-{}", i % 3),
            device: Some("laptop-1".into()),
            address: i.is_multiple_of(2).then(|| "127.0.0.1".into()),
            action: "ticket.set_status".into(),
            ticket_id: Some(Uuid::from_u128(u128::from(i))),
            before: Some(Hash32::digest(b"before")),
            after: Some(Hash32::digest(format!("after {i}").as_bytes())),
            detail: format!(r#"{{"to":"pending","n":{i}}}"#),
        }
    }

    fn chain(n: u64) -> Vec<ChainedEvent> {
        let mut head = ChainHead::default();
        (0..n).map(|i| head.append(event(i))).collect()
    }

    #[test]
    fn an_untouched_chain_verifies_and_reports_its_head() {
        let events = chain(50);
        let verified = verify(&events).unwrap();
        assert_eq!(verified.count, 50);
        assert_eq!(verified.head.hash, events[49].hash);
        assert_eq!(verified.head.last_seq, 50);
    }

    #[test]
    fn an_edit_is_pinpointed() {
        let mut events = chain(20);
        events[7].event.actor = "someone-else".into();
        let err = verify(&events).unwrap_err();
        assert_eq!((err.seq, err.index), (8, 7));
        assert!(matches!(err.kind, BreakKind::ContentAltered { .. }));
        assert!(err
            .to_string()
            .starts_with("audit chain broken at event #8"));
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let mut events = chain(20);
        events[7].event.detail = "{}".into();
        events[7].hash = chain_hash(&events[7].prev_hash, &events[7].event, &mut Vec::new());
        let err = verify(&events).unwrap_err();
        assert_eq!(err.seq, 9);
        assert!(matches!(err.kind, BreakKind::LinkBroken { .. }));
    }

    #[test]
    fn deletion_and_insertion_are_caught() {
        let mut deleted = chain(20);
        deleted.remove(4);
        let err = verify(&deleted).unwrap_err();
        assert_eq!(err.index, 4);
        assert_eq!(
            err.kind,
            BreakKind::SequenceGap {
                expected: 5,
                found: 6
            }
        );

        let mut inserted = chain(20);
        let mut forged = inserted[3].clone();
        forged.event.action = "risk.unfreeze".into();
        inserted.insert(4, forged);
        let err = verify(&inserted).unwrap_err();
        assert_eq!(err.index, 4);
        assert!(matches!(
            err.kind,
            BreakKind::SequenceGap {
                expected: 5,
                found: 4
            }
        ));
    }

    #[test]
    fn the_canonical_form_separates_fields() {
        // Moving a byte between adjacent fields must change the hash.
        let mut a = event(1);
        let mut b = event(1);
        a.actor = "ab".into();
        a.device = Some("c".into());
        b.actor = "a".into();
        b.device = Some("bc".into());
        let prev = Hash32::GENESIS;
        assert_ne!(
            chain_hash(&prev, &a, &mut Vec::new()),
            chain_hash(&prev, &b, &mut Vec::new())
        );
    }

    #[test]
    fn verification_resumes_across_pages() {
        let events = chain(30);
        let first = verify(&events[..10]).unwrap();
        let mut rest = Verifier::resume(first.head);
        for e in &events[10..] {
            rest.push(e).unwrap();
        }
        assert_eq!(rest.finish().head.hash, events[29].hash);
    }

    #[test]
    fn chained_events_round_trip_through_json() {
        let events = chain(3);
        let json = serde_json::to_string(&events).unwrap();
        assert!(json.contains(&events[2].hash.to_hex()));
        let back: Vec<ChainedEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, events);
        verify(&back).unwrap();
    }
}
