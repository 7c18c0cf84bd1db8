//! Reading the audit chain from outside the server: the query a supervisor's tools send, the
//! page they get back, and exports (JSON and CSV) with an offline verifier.
//!
//! An export carries the chain head at the time of export and the range it covers, so a reader
//! with nothing but the file can prove that every event in it is the one the chain sealed, that
//! none is missing inside the range (unless the export says it was filtered), and that the last
//! event is the head the server stated. A head noted independently (a previous export, a printed
//! report) can be checked against the file too.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{
    chain_hash, AuditEvent, BreakKind, ChainBreak, ChainHead, ChainedEvent, Hash32,
};

/// The first line of every export, and its `format` field.
pub const EXPORT_FORMAT: &str = "outpost-audit-export/1";

/// Most events one page of `GET /v1/audit/events` returns.
pub const MAX_AUDIT_PAGE: u32 = 5_000;

/// An event as served to supervisors: the sealed event plus the ticket's department when it was
/// written (a filter index; the hashed `detail` carries the same value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    #[serde(flatten)]
    pub chained: ChainedEvent,
    pub department: Option<String>,
}

/// Filters and paging for the audit trail. Without `after_seq` pages run newest first
/// (`before_seq` continues); with `after_seq` they run oldest first (what verification reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default)]
pub struct AuditQuery {
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    /// A user id, or `system`, `customer`, `intake:<channel>`.
    pub actor: Option<String>,
    pub ticket_id: Option<Uuid>,
    /// An action (`ticket.set_status`) or a family ending in a dot (`risk.`).
    pub action: Option<String>,
    pub department: Option<String>,
    pub device: Option<String>,
    pub before_seq: Option<u64>,
    pub after_seq: Option<u64>,
    pub limit: Option<u32>,
}

/// A time as the command-line tools take it: RFC 3339, or a date (`YYYY-MM-DD`, midnight UTC).
pub fn parse_time_arg(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!("{text:?} is not a time; use RFC 3339 (2026-03-01T09:00:00Z) or YYYY-MM-DD")
        })
}

/// A chain head noted earlier, as the tools print and take it: `SEQ:HASH` (`#SEQ` accepted).
pub fn parse_head_arg(text: &str) -> Result<ChainHead, String> {
    let (seq, hash) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not SEQ:HASH"))?;
    Ok(ChainHead {
        last_seq: seq
            .trim_start_matches('#')
            .parse()
            .map_err(|e| format!("sequence number {seq:?}: {e}"))?,
        hash: Hash32::from_hex(hash).map_err(|e| format!("hash {hash:?}: {e}"))?,
    })
}

impl AuditQuery {
    /// Whether anything other than the time range narrows the result (an export of such a
    /// query has holes by design, which its verification must allow).
    pub fn is_filtered(&self) -> bool {
        self.actor.is_some()
            || self.ticket_id.is_some()
            || self.action.is_some()
            || self.department.is_some()
            || self.device.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditRecord>,
    pub has_more: bool,
    /// The chain's head now (from the server's own counter, so a removed newest event shows).
    pub head: ChainHead,
}

/// What an export states about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportHeader {
    pub format: String,
    pub exported_at: DateTime<Utc>,
    /// Who exported it (user id) and from where (server URL).
    pub exported_by: String,
    pub source: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// True when the export was narrowed by actor, ticket, action, department or device.
    pub filtered: bool,
    pub first_seq: u64,
    pub last_seq: u64,
    pub count: u64,
    /// The `prev_hash` of the first event: where this range hangs on the chain.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub first_prev_hash: Hash32,
    /// The chain head when the export was made.
    pub head: ChainHead,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditExport {
    #[serde(flatten)]
    pub header: ExportHeader,
    pub events: Vec<ChainedEvent>,
}

/// Why an export file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an Outpost audit export: {0}")]
pub struct ExportFormatError(pub String);

/// Why an export does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ExportProblem {
    /// An event was altered, removed or inserted: the first one that does not fit.
    #[error("{0}")]
    Chain(ChainBreak),
    /// The file's own statements (count, range, head) do not match its events.
    #[error("the export's header does not match its events: {detail}")]
    Header { detail: String },
    /// The events do not reach the head noted independently.
    #[error(
        "event #{seq} does not have the hash noted earlier ({expected}); the chain was rewritten"
    )]
    Anchor { seq: u64, expected: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportVerified {
    pub count: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub filtered: bool,
    /// Whether the last event is the chain head stated in the export.
    pub reaches_head: bool,
}

impl AuditExport {
    /// Builds an export of `events` (ascending) read at `head`.
    pub fn new(
        events: Vec<ChainedEvent>,
        head: ChainHead,
        query: &AuditQuery,
        exported_by: String,
        source: String,
        exported_at: DateTime<Utc>,
    ) -> Self {
        let first_seq = events.first().map_or(0, |e| e.event.seq);
        let last_seq = events.last().map_or(0, |e| e.event.seq);
        let first_prev_hash = events.first().map_or(Hash32::GENESIS, |e| e.prev_hash);
        AuditExport {
            header: ExportHeader {
                format: EXPORT_FORMAT.into(),
                exported_at,
                exported_by,
                source,
                from: query.from,
                to: query.to,
                filtered: query.is_filtered(),
                first_seq,
                last_seq,
                count: events.len() as u64,
                first_prev_hash,
                head,
            },
            events,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("exports serialise")
    }

    /// CSV (RFC 4180): a `# outpost-audit-export/1` line, a `# {header as JSON}` line, the
    /// column names, one row per event. An absent value is an empty field; an empty string is
    /// `""`, so the two stay distinct and every hash can be recomputed from the file.
    pub fn to_csv(&self) -> String {
        let mut out = Vec::with_capacity(128 + self.events.len() * 400);
        out.extend_from_slice(b"# ");
        out.extend_from_slice(EXPORT_FORMAT.as_bytes());
        out.extend_from_slice(b"\r\n# ");
        serde_json::to_writer(&mut out, &self.header).expect("headers serialise");
        out.extend_from_slice(b"\r\n");
        // The column names are the one unquoted row (none needs quotes).
        out.extend_from_slice(CSV_COLUMNS.join(",").as_bytes());
        out.extend_from_slice(b"\r\n");
        let mut writer = csv_core::WriterBuilder::new()
            .quote_style(csv_core::QuoteStyle::Always)
            .terminator(csv_core::Terminator::CRLF)
            .build();
        for e in &self.events {
            let ev = &e.event;
            let cells = [
                Some(ev.seq.to_string()),
                Some(ev.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
                Some(ev.actor.clone()),
                ev.device.clone(),
                ev.address.clone(),
                Some(ev.action.clone()),
                ev.ticket_id.map(|t| t.to_string()),
                ev.before.map(|h| h.to_hex()),
                ev.after.map(|h| h.to_hex()),
                Some(ev.detail.clone()),
                Some(e.prev_hash.to_hex()),
                Some(e.hash.to_hex()),
            ];
            csv_row(&mut writer, &mut out, &cells);
        }
        String::from_utf8(out).expect("CSV of UTF-8 cells is UTF-8")
    }

    /// Reads a JSON or CSV export.
    pub fn parse(text: &str) -> Result<Self, ExportFormatError> {
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        if trimmed.starts_with('{') {
            let export: AuditExport = serde_json::from_str(trimmed)
                .map_err(|e| ExportFormatError(format!("JSON: {e}")))?;
            if export.header.format != EXPORT_FORMAT {
                return Err(ExportFormatError(format!(
                    "format {:?}, expected {EXPORT_FORMAT:?}",
                    export.header.format
                )));
            }
            return Ok(export);
        }
        parse_csv(trimmed)
    }

    /// Checks every event's seal, the links between neighbours, and the header's statements.
    pub fn verify(&self) -> Result<ExportVerified, ExportProblem> {
        self.verify_with_anchor(None)
    }

    /// As [`verify`](Self::verify), and if `anchor` (a head noted earlier) falls inside the
    /// range, the event at its sequence number must carry its hash.
    pub fn verify_with_anchor(
        &self,
        anchor: Option<&ChainHead>,
    ) -> Result<ExportVerified, ExportProblem> {
        let h = &self.header;
        let header = |detail: String| ExportProblem::Header { detail };
        if h.count != self.events.len() as u64 {
            return Err(header(format!(
                "it states {} events but holds {}",
                h.count,
                self.events.len()
            )));
        }
        let mut scratch = Vec::with_capacity(512);
        let mut previous: Option<&ChainedEvent> = None;
        for (index, e) in self.events.iter().enumerate() {
            let ev = &e.event;
            let fail = |kind| {
                ExportProblem::Chain(ChainBreak {
                    seq: ev.seq,
                    index,
                    kind,
                })
            };
            match previous {
                None => {
                    if !h.filtered && ev.seq != h.first_seq {
                        return Err(fail(BreakKind::SequenceGap {
                            expected: h.first_seq,
                            found: ev.seq,
                        }));
                    }
                    if !h.filtered && e.prev_hash != h.first_prev_hash {
                        return Err(fail(BreakKind::LinkBroken {
                            expected_prev: h.first_prev_hash,
                            stored_prev: e.prev_hash,
                        }));
                    }
                }
                Some(p) => {
                    let expected = p.event.seq + 1;
                    if ev.seq < expected || (!h.filtered && ev.seq != expected) {
                        return Err(fail(BreakKind::SequenceGap {
                            expected,
                            found: ev.seq,
                        }));
                    }
                    if ev.seq == expected && e.prev_hash != p.hash {
                        return Err(fail(BreakKind::LinkBroken {
                            expected_prev: p.hash,
                            stored_prev: e.prev_hash,
                        }));
                    }
                }
            }
            let computed = chain_hash(&e.prev_hash, ev, &mut scratch);
            if computed != e.hash {
                return Err(fail(BreakKind::ContentAltered {
                    stored: e.hash,
                    computed,
                }));
            }
            if h.from.is_some_and(|from| ev.at < from) || h.to.is_some_and(|to| ev.at >= to) {
                return Err(header(format!(
                    "event #{} at {} lies outside the stated range",
                    ev.seq, ev.at
                )));
            }
            if let Some(a) = anchor.filter(|a| a.last_seq == ev.seq) {
                if a.hash != e.hash {
                    return Err(ExportProblem::Anchor {
                        seq: ev.seq,
                        expected: a.hash.to_hex(),
                    });
                }
            }
            previous = Some(e);
        }
        let (first, last) = match (self.events.first(), self.events.last()) {
            (Some(f), Some(l)) => (f.event.seq, l.event.seq),
            _ => (0, 0),
        };
        if !self.events.is_empty() && (first != h.first_seq || last != h.last_seq) {
            return Err(header(format!(
                "it states events #{}–#{} but holds #{first}–#{last}",
                h.first_seq, h.last_seq
            )));
        }
        if h.head.last_seq < last {
            return Err(header(format!(
                "its events go past the stated head #{}",
                h.head.last_seq
            )));
        }
        let reaches_head = self
            .events
            .last()
            .is_some_and(|l| l.event.seq == h.head.last_seq);
        if reaches_head && self.events.last().map(|l| l.hash) != Some(h.head.hash) {
            // The last event claims to be the head but is not the head the export stated.
            return Err(ExportProblem::Anchor {
                seq: last,
                expected: h.head.hash.to_hex(),
            });
        }
        Ok(ExportVerified {
            count: self.events.len() as u64,
            first_seq: first,
            last_seq: last,
            filtered: h.filtered,
            reaches_head,
        })
    }
}

const CSV_COLUMNS: [&str; 12] = [
    "seq",
    "at",
    "actor",
    "device",
    "address",
    "action",
    "ticket_id",
    "before",
    "after",
    "detail",
    "prev_hash",
    "hash",
];

/// Appends one row through `csv_core`, which does the quoting: a present value is quoted (quotes
/// inside doubled), an absent one is an empty unquoted field. `csv_core` rather than
/// `csv::Writer`: only the core writer can leave one field unquoted while quoting the others (a
/// field it is never given stays empty), and that is how the export tells absent from empty.
fn csv_row(writer: &mut csv_core::Writer, out: &mut Vec<u8>, cells: &[Option<String>]) {
    use csv_core::WriteResult::InputEmpty;
    for (i, cell) in cells.iter().enumerate() {
        let text = cell.as_deref().unwrap_or_default().as_bytes();
        // Room for a closing quote, the comma, an opening quote and every byte doubled.
        let start = out.len();
        out.resize(start + 3 + 2 * text.len(), 0);
        let mut written = 0;
        if i > 0 {
            let (result, n) = writer.delimiter(&mut out[start..]);
            debug_assert_eq!(result, InputEmpty);
            written += n;
        }
        if cell.is_some() {
            let (result, _, n) = writer.field(text, &mut out[start + written..]);
            debug_assert_eq!(result, InputEmpty);
            written += n;
        }
        out.truncate(start + written);
    }
    let start = out.len();
    out.resize(start + 3, 0);
    let (result, n) = writer.terminator(&mut out[start..]);
    debug_assert_eq!(result, InputEmpty);
    out.truncate(start + n);
}

/// Splits CSV text into records of fields with `csv_core` (RFC 4180; CRLF, LF or CR ends a
/// record; empty lines are skipped). A field is `None` when it is empty and was not quoted.
fn csv_records(text: &str) -> Result<Vec<Vec<Option<String>>>, ExportFormatError> {
    let mut reader = csv_core::Reader::new();
    let mut input = text.as_bytes();
    // A field never decodes to more bytes than the text it was read from.
    let mut decoded = vec![0u8; input.len()];
    let mut records = Vec::new();
    let mut record: Vec<Option<String>> = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut quoted = None;
    loop {
        if quoted.is_none() {
            // Where this field starts: a record's first field comes after the line ends the
            // reader skips (the rest of a CRLF, empty lines).
            let skip = if record.is_empty() {
                input
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count()
            } else {
                0
            };
            quoted = Some(input.get(skip) == Some(&b'"'));
        }
        let (result, read, written) = reader.read_field(input, &mut decoded);
        input = &input[read..];
        field.extend_from_slice(&decoded[..written]);
        match result {
            // All the text is in; the next call (with nothing left) ends the field.
            csv_core::ReadFieldResult::InputEmpty => {}
            csv_core::ReadFieldResult::OutputFull => {
                unreachable!("the output buffer is as long as the text")
            }
            csv_core::ReadFieldResult::Field { record_end } => {
                let value = String::from_utf8(std::mem::take(&mut field))
                    .map_err(|_| ExportFormatError("a field is not UTF-8".into()))?;
                let present = quoted.take() == Some(true) || !value.is_empty();
                record.push(present.then_some(value));
                if record_end {
                    records.push(std::mem::take(&mut record));
                }
            }
            csv_core::ReadFieldResult::End => return Ok(records),
        }
    }
}

fn parse_csv(text: &str) -> Result<AuditExport, ExportFormatError> {
    let bad = |m: String| ExportFormatError(m);
    let mut lines = text.splitn(3, '\n');
    let magic = lines.next().unwrap_or("").trim_end_matches('\r');
    if magic != format!("# {EXPORT_FORMAT}") {
        return Err(bad(format!("the first line is {magic:?}")));
    }
    let header_line = lines.next().unwrap_or("").trim_end_matches('\r');
    let header: ExportHeader = serde_json::from_str(header_line.trim_start_matches("# "))
        .map_err(|e| bad(format!("header line: {e}")))?;
    let records = csv_records(lines.next().unwrap_or(""))?;
    let mut rows = records.into_iter();
    let columns = rows.next().unwrap_or_default();
    let names: Vec<&str> = columns.iter().map(|c| c.as_deref().unwrap_or("")).collect();
    if names != CSV_COLUMNS {
        return Err(bad(format!("columns {names:?}")));
    }
    let mut events = Vec::new();
    for (n, row) in rows.enumerate() {
        let line = n + 4;
        if row.len() != CSV_COLUMNS.len() {
            return Err(bad(format!("line {line}: {} fields", row.len())));
        }
        let text = |i: usize| -> Result<String, ExportFormatError> {
            row[i]
                .clone()
                .ok_or_else(|| bad(format!("line {line}: {} is empty", CSV_COLUMNS[i])))
        };
        let hash = |i: usize| -> Result<Hash32, ExportFormatError> {
            Hash32::from_hex(&text(i)?)
                .map_err(|e| bad(format!("line {line}: {}: {e}", CSV_COLUMNS[i])))
        };
        let opt_hash = |i: usize| -> Result<Option<Hash32>, ExportFormatError> {
            row[i].as_ref().map(|_| hash(i)).transpose()
        };
        events.push(ChainedEvent {
            event: AuditEvent {
                seq: text(0)?
                    .parse()
                    .map_err(|e| bad(format!("line {line}: seq: {e}")))?,
                at: DateTime::parse_from_rfc3339(&text(1)?)
                    .map_err(|e| bad(format!("line {line}: at: {e}")))?
                    .with_timezone(&Utc),
                actor: text(2)?,
                device: row[3].clone(),
                address: row[4].clone(),
                action: text(5)?,
                ticket_id: row[6]
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| bad(format!("line {line}: ticket_id: {e}")))?,
                before: opt_hash(7)?,
                after: opt_hash(8)?,
                detail: text(9)?,
            },
            prev_hash: hash(10)?,
            hash: hash(11)?,
        });
    }
    Ok(AuditExport { header, events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn chain(n: u64) -> (Vec<ChainedEvent>, ChainHead) {
        let mut head = ChainHead::default();
        let events = (0..n)
            .map(|i| {
                head.append(AuditEvent {
                    seq: 0,
                    at: Utc
                        .timestamp_opt(1_790_000_000 + i as i64 * 60, 123_456_000)
                        .unwrap(),
                    actor: format!("user-{}", i % 3),
                    device: (i % 2 == 0).then(|| "dev, \"a\"".to_string()),
                    address: (i % 3 == 0).then(String::new),
                    action: if i % 4 == 0 {
                        "ticket.view"
                    } else {
                        "ticket.set_status"
                    }
                    .into(),
                    ticket_id: Some(Uuid::from_u128(u128::from(i) + 1)),
                    before: (i > 0).then(|| Hash32::digest(&i.to_be_bytes())),
                    after: Some(Hash32::digest(b"after")),
                    detail: format!("{{\"n\":{i},\"text\":\"line\\nbreak, comma\"}}"),
                })
            })
            .collect();
        (events, head)
    }

    fn export(events: Vec<ChainedEvent>, head: ChainHead, filtered: bool) -> AuditExport {
        let query = AuditQuery {
            actor: filtered.then(|| "user-1".to_string()),
            ..AuditQuery::default()
        };
        AuditExport::new(
            events,
            head,
            &query,
            "sup".into(),
            "http://127.0.0.1:1".into(),
            Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
        )
    }

    #[test]
    fn both_formats_round_trip_and_verify() {
        let (events, head) = chain(40);
        let full = export(events[10..].to_vec(), head.clone(), false);
        for text in [full.to_json(), full.to_csv()] {
            let back = AuditExport::parse(&text).unwrap();
            assert_eq!(back, full);
            let ok = back.verify().unwrap();
            assert_eq!((ok.count, ok.first_seq, ok.last_seq), (30, 11, 40));
            assert!(ok.reaches_head);
        }
    }

    #[test]
    fn an_edited_removed_or_inserted_row_is_pinpointed_in_a_csv_file() {
        let (events, head) = chain(20);
        let csv = export(events.clone(), head.clone(), false).to_csv();

        let edited = csv.replacen("\"user-1\"", "\"user-2\"", 1);
        let err = AuditExport::parse(&edited).unwrap().verify().unwrap_err();
        assert!(
            matches!(
                err,
                ExportProblem::Chain(ChainBreak {
                    seq: 2,
                    kind: BreakKind::ContentAltered { .. },
                    ..
                })
            ),
            "{err:?}"
        );

        let mut lines: Vec<&str> = csv.split("\r\n").collect();
        lines.remove(3 + 5); // event #6
        let err = AuditExport::parse(&lines.join("\r\n"))
            .unwrap()
            .verify()
            .unwrap_err();
        assert!(matches!(err, ExportProblem::Header { .. }), "{err:?}");
        // With the count fixed up too, the gap is named.
        let mut removed = AuditExport::parse(&csv).unwrap();
        removed.events.remove(5);
        removed.header.count -= 1;
        let err = removed.verify().unwrap_err();
        assert!(
            matches!(
                err,
                ExportProblem::Chain(ChainBreak {
                    seq: 7,
                    kind: BreakKind::SequenceGap {
                        expected: 6,
                        found: 7
                    },
                    ..
                })
            ),
            "{err:?}"
        );

        let mut inserted = AuditExport::parse(&csv).unwrap();
        let forged = inserted.events[3].clone();
        inserted.events.insert(4, forged);
        inserted.header.count += 1;
        let err = inserted.verify().unwrap_err();
        assert!(
            matches!(err, ExportProblem::Chain(ChainBreak { index: 4, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn a_filtered_export_allows_holes_but_not_edits_and_anchors_catch_rewrites() {
        let (events, head) = chain(30);
        let some: Vec<ChainedEvent> = events
            .iter()
            .filter(|e| e.event.actor == "user-1")
            .cloned()
            .collect();
        let filtered = export(some, head.clone(), true);
        let ok = filtered.verify().unwrap();
        assert!(ok.filtered && ok.count == 10);
        let mut edited = filtered.clone();
        edited.events[2].event.action = "risk.unfreeze".into();
        assert!(edited.verify().is_err());

        let full = export(events.clone(), head.clone(), false);
        let noted = ChainHead {
            last_seq: 12,
            hash: events[11].hash,
        };
        full.verify_with_anchor(Some(&noted)).unwrap();
        let wrong = ChainHead {
            last_seq: 12,
            hash: events[10].hash,
        };
        assert!(matches!(
            full.verify_with_anchor(Some(&wrong)),
            Err(ExportProblem::Anchor { seq: 12, .. })
        ));
    }

    #[test]
    fn tool_arguments_parse_or_say_why() {
        assert_eq!(
            parse_time_arg("2026-03-01").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time_arg("2026-03-01T09:00:00+08:00").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 1, 0, 0).unwrap()
        );
        assert!(parse_time_arg("yesterday")
            .unwrap_err()
            .contains("RFC 3339"));
        let (events, _) = chain(3);
        let text = format!("#3:{}", events[2].hash.to_hex());
        assert_eq!(parse_head_arg(&text).unwrap().hash, events[2].hash);
        assert!(parse_head_arg("3").is_err() && parse_head_arg("x:00").is_err());
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for text in [
            "",
            "hello",
            "# outpost-audit-export/1\r\n# {}",
            "{\"format\":1}",
        ] {
            assert!(AuditExport::parse(text).is_err(), "{text:?}");
        }
        let (events, head) = chain(3);
        let csv = export(events, head, false).to_csv();
        let broken = csv.replacen("\"1\"", "\"one\"", 1);
        let err = AuditExport::parse(&broken).unwrap_err();
        assert!(err.to_string().contains("seq"), "{err}");
        // Cut off inside the last hash (an unterminated quoted field).
        let err = AuditExport::parse(&csv[..csv.len() - 20]).unwrap_err();
        assert!(err.to_string().contains("hash"), "{err}");
        // A row with a field too many.
        let extra = csv.replacen("\r\n\"2\"", "\r\n\"2\",\"x\"", 1);
        let err = AuditExport::parse(&extra).unwrap_err();
        assert!(err.to_string().contains("13 fields"), "{err}");
    }

    /// Events whose cells hold everything CSV has to survive: quotes, commas, line breaks of
    /// each kind, leading formula characters, a `#` at a line start, non-ASCII text, and the
    /// difference between an absent value and an empty one.
    fn hostile_chain() -> (Vec<ChainedEvent>, ChainHead) {
        let mut head = ChainHead::default();
        let cells: [(&str, Option<&str>, Option<&str>, &str); 6] = [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                Some(""),
                None,
                "{\"a\":\"b, \\\"c\\\"\"}",
            ),
            (
                "+1",
                None,
                Some(""),
                "line one\nline two\r\nline three\rend",
            ),
            ("-2", Some("dev, \"a\""), Some("::1"), "\n# not a header\n"),
            ("@sum", Some(" padded "), Some("10.0.0.1"), "\"\""),
            ("用户", None, None, ""),
            ("tab\there", Some("\""), Some(","), ",,,\r\n\r\n"),
        ];
        let events = cells
            .iter()
            .enumerate()
            .map(|(i, (actor, device, address, detail))| {
                head.append(AuditEvent {
                    seq: 0,
                    at: Utc
                        .timestamp_opt(1_790_000_000 + i as i64, 1_000 * i as u32)
                        .unwrap(),
                    actor: (*actor).into(),
                    device: device.map(str::to_owned),
                    address: address.map(str::to_owned),
                    action: "ticket.set_status".into(),
                    ticket_id: (i % 2 == 0).then(|| Uuid::from_u128(i as u128 + 7)),
                    before: (i % 3 == 1).then(|| Hash32::digest(b"before")),
                    after: (i % 3 != 2).then(|| Hash32::digest(b"after")),
                    detail: (*detail).into(),
                })
            })
            .collect();
        (events, head)
    }

    /// `hostile_chain()` as the hand-written CSV code before `csv_core` wrote it: the bytes an
    /// export made then holds.
    const OLD_CSV: &str = concat!(
        "# outpost-audit-export/1\r\n",
        "# {\"format\":\"outpost-audit-export/1\",\"exported_at\":\"2027-01-15T08:00:00Z\",\"exported_by\":\"sup\",\"source\":\"http://127.0.0.1:1\",\"from\":null,\"to\":null,\"filtered\":false,\"first_seq\":1,\"last_seq\":6,\"count\":6,\"first_prev_hash\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"head\":{\"last_seq\":6,\"hash\":\"8f35bda2944ea5b8013e458c242c17a398cab0fc50cb75107b7b53762636479c\"}}\r\n",
        "seq,at,actor,device,address,action,ticket_id,before,after,detail,prev_hash,hash\r\n",
        "\"1\",\"2026-09-21T14:13:20.000000Z\",\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"\",,\"ticket.set_status\",\"00000000-0000-0000-0000-000000000007\",,\"f39592393ef0859cb196a52693d2cea00fb2df784b3c04ae54aa7cadb8e562f8\",\"{\"\"a\"\":\"\"b, \\\"\"c\\\"\"\"\"}\",\"0000000000000000000000000000000000000000000000000000000000000000\",\"34cf09e2882339cbdf7254acb7d19ed691edb4a708ae4ecfdaa73ca0443c9b71\"\r\n",
        "\"2\",\"2026-09-21T14:13:21.000001Z\",\"+1\",,\"\",\"ticket.set_status\",,\"6db7d803e74f1ffa7d8f5adc0bf95b3e15bf4c8373fffadf546227cc6c6742cb\",\"f39592393ef0859cb196a52693d2cea00fb2df784b3c04ae54aa7cadb8e562f8\",\"line one\n",
        "line two\r\n",
        "line three\rend\",\"34cf09e2882339cbdf7254acb7d19ed691edb4a708ae4ecfdaa73ca0443c9b71\",\"a42b4a9ffca2cddee2ebddf683aa6b0a75a856767c35f0c705bd55bc29746915\"\r\n",
        "\"3\",\"2026-09-21T14:13:22.000002Z\",\"-2\",\"dev, \"\"a\"\"\",\"::1\",\"ticket.set_status\",\"00000000-0000-0000-0000-000000000009\",,,\"\n",
        "# not a header\n",
        "\",\"a42b4a9ffca2cddee2ebddf683aa6b0a75a856767c35f0c705bd55bc29746915\",\"a325e9023a29561a78310b81b2da2be3f64ef972d5c84bd772b15c0f953e4e97\"\r\n",
        "\"4\",\"2026-09-21T14:13:23.000003Z\",\"@sum\",\" padded \",\"10.0.0.1\",\"ticket.set_status\",,,\"f39592393ef0859cb196a52693d2cea00fb2df784b3c04ae54aa7cadb8e562f8\",\"\"\"\"\"\",\"a325e9023a29561a78310b81b2da2be3f64ef972d5c84bd772b15c0f953e4e97\",\"410cbbd994ea122a5c0344f0cef5d3dc1f74405c8885cd1033f7d99902511b18\"\r\n",
        "\"5\",\"2026-09-21T14:13:24.000004Z\",\"用户\",,,\"ticket.set_status\",\"00000000-0000-0000-0000-00000000000b\",\"6db7d803e74f1ffa7d8f5adc0bf95b3e15bf4c8373fffadf546227cc6c6742cb\",\"f39592393ef0859cb196a52693d2cea00fb2df784b3c04ae54aa7cadb8e562f8\",\"\",\"410cbbd994ea122a5c0344f0cef5d3dc1f74405c8885cd1033f7d99902511b18\",\"dcc55986536ee66034e37037ef2d68db165e6fe54dfe7870021b34116fa1eae3\"\r\n",
        "\"6\",\"2026-09-21T14:13:25.000005Z\",\"tab\there\",\"\"\"\",\",\",\"ticket.set_status\",,,,\",,,\r\n",
        "\r\n",
        "\",\"dcc55986536ee66034e37037ef2d68db165e6fe54dfe7870021b34116fa1eae3\",\"8f35bda2944ea5b8013e458c242c17a398cab0fc50cb75107b7b53762636479c\"\r\n",
    );

    #[test]
    fn an_export_written_before_csv_core_reads_verifies_and_is_written_the_same() {
        let (events, head) = hostile_chain();
        let back = AuditExport::parse(OLD_CSV).unwrap();
        assert_eq!(back.events, events);
        let ok = back.verify().unwrap();
        assert!(ok.reaches_head && ok.count == 6);
        assert_eq!(export(events, head, false).to_csv(), OLD_CSV);
    }

    #[test]
    fn hostile_cells_round_trip_and_absent_is_not_empty() {
        let (events, head) = hostile_chain();
        let full = export(events.clone(), head, false);
        for text in [full.to_json(), full.to_csv()] {
            let back = AuditExport::parse(&text).unwrap();
            assert_eq!(back, full);
            back.verify().unwrap();
        }
        assert_eq!(
            (
                events[0].event.device.as_deref(),
                events[0].event.address.as_deref()
            ),
            (Some(""), None)
        );
        // An empty string made absent (`""` -> nothing) breaks the seal of that event.
        let csv = full.to_csv();
        let blanked = csv.replacen("\"\",,\"ticket.set_status\"", ",,\"ticket.set_status\"", 1);
        assert_ne!(blanked, csv);
        let err = AuditExport::parse(&blanked).unwrap().verify().unwrap_err();
        assert!(
            matches!(
                err,
                ExportProblem::Chain(ChainBreak {
                    seq: 1,
                    kind: BreakKind::ContentAltered { .. },
                    ..
                })
            ),
            "{err:?}"
        );
        // So does a line break in a cell rewritten the way editors do (CRLF -> LF).
        let rewritten = csv.replacen("line two\r\n", "line two\n", 1);
        let err = AuditExport::parse(&rewritten)
            .unwrap()
            .verify()
            .unwrap_err();
        assert!(
            matches!(err, ExportProblem::Chain(ChainBreak { seq: 2, .. })),
            "{err:?}"
        );
    }
}
