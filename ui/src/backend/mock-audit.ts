// The mock's audit trail: a hash chain like the server's (every event sealed with SHA-256 over
// its fields and the previous hash), paging and filters as `GET /v1/audit/events` serves them,
// verification as the client does it, and exports (JSON and CSV) with their offline check.
// The hashing is the mock's own canonical form, not outpost-core's byte encoding: files the mock
// writes verify in the mock, not in the real app.
import { BackendError } from "./index";
import type {
  AuditPage,
  AuditQuery,
  AuditRecord,
  ChainBreak,
  ChainHead,
  ExportCheck,
  ExportHeader,
  ExportProblem,
  ExportVerified,
} from "./types";
import { sha256Hex } from "./mock-sha256";

export const GENESIS = "0".repeat(64);
export const EXPORT_FORMAT = "outpost-audit-export/1";
export const DEFAULT_AUDIT_PAGE = 100;
export const MAX_AUDIT_PAGE = 5000;

/** What a writer supplies; the chain adds the sequence number and the hashes. */
export type AuditInput = Omit<AuditRecord, "seq" | "prev_hash" | "hash">;

/** An event as an export holds it (no department: that is the server's filter index). */
export type ExportedEvent = Omit<AuditRecord, "department">;

const CSV_COLUMNS = ["seq", "at", "actor", "device", "address", "action", "ticket_id", "before", "after", "detail", "prev_hash", "hash"] as const;

function canonical(e: ExportedEvent): string {
  return JSON.stringify([e.seq, e.at, e.actor, e.device, e.address, e.action, e.ticket_id, e.before, e.after, e.detail]);
}

export function chainHash(prev: string, e: ExportedEvent): string {
  return sha256Hex(`outpost-mock-audit/1\n${prev}\n${canonical(e)}`);
}

function exported(r: AuditRecord): ExportedEvent {
  const { department: _department, ...rest } = r;
  return rest;
}

function matches(r: AuditRecord, q: AuditQuery): boolean {
  if (q.from && r.at < q.from) return false;
  if (q.to && r.at >= q.to) return false;
  if (q.actor !== null && q.actor !== undefined && r.actor !== q.actor) return false;
  if (q.ticket_id && r.ticket_id !== q.ticket_id) return false;
  if (q.action) {
    if (q.action.endsWith(".") ? !r.action.startsWith(q.action) : r.action !== q.action) return false;
  }
  if (q.department && r.department !== q.department) return false;
  if (q.device && r.device !== q.device) return false;
  return true;
}

export function isFiltered(q: AuditQuery): boolean {
  return !!(q.actor || q.ticket_id || q.action || q.department || q.device);
}

export type VerifyResult = { checked: number; verifiedHead: ChainHead; serverHead: ChainHead; broken: ChainBreak | null };

export class MockAuditChain {
  private records: AuditRecord[] = [];
  /** The server's own counter and head: they survive a deleted newest event. */
  private headSeq = 0;
  private headHash = GENESIS;

  append(input: AuditInput): AuditRecord {
    const seq = this.headSeq + 1;
    const base: ExportedEvent = {
      seq,
      at: input.at,
      actor: input.actor,
      device: input.device,
      address: input.address,
      action: input.action,
      ticket_id: input.ticket_id,
      before: input.before,
      after: input.after,
      detail: input.detail,
      prev_hash: this.headHash,
      hash: "",
    };
    base.hash = chainHash(this.headHash, base);
    const record: AuditRecord = { ...base, department: input.department };
    this.records.push(record);
    this.headSeq = seq;
    this.headHash = record.hash;
    return record;
  }

  get size(): number {
    return this.records.length;
  }

  head(): ChainHead {
    return { last_seq: this.headSeq, hash: this.headHash };
  }

  all(): readonly AuditRecord[] {
    return this.records;
  }

  // ---- tampering, as a compromised server might (tests) -----------------------------------

  /** Changes stored fields without resealing: verification finds `content_altered`. */
  alter(seq: number, patch: Partial<AuditInput>): void {
    const r = this.records.find((x) => x.seq === seq);
    if (!r) throw new Error(`no audit event ${seq}`);
    Object.assign(r, patch);
  }

  /** Deletes an event: the next one's link and sequence no longer fit. */
  remove(seq: number): void {
    this.records = this.records.filter((x) => x.seq !== seq);
  }

  /** Drops the newest events while the server's counter remembers them. */
  truncate(count: number): void {
    this.records = this.records.slice(0, Math.max(0, this.records.length - count));
  }

  /** Alters an event and reseals everything after it: consistent, but not the chain seen before. */
  rewrite(seq: number, patch: Partial<AuditInput>): void {
    let prev = GENESIS;
    for (const r of this.records) {
      if (r.seq === seq) Object.assign(r, patch);
      if (r.seq >= seq) {
        r.prev_hash = prev;
        r.hash = chainHash(prev, exported(r));
      }
      prev = r.hash;
    }
    this.headHash = prev;
  }

  // ---- reading -----------------------------------------------------------------------------

  page(query: AuditQuery): AuditPage {
    const limit = Math.min(MAX_AUDIT_PAGE, Math.max(1, query.limit ?? DEFAULT_AUDIT_PAGE));
    let rows = this.records.filter((r) => matches(r, query));
    if (query.after_seq !== null && query.after_seq !== undefined) {
      const after = query.after_seq;
      rows = rows.filter((r) => r.seq > after);
    } else {
      rows = rows.slice().reverse();
      if (query.before_seq !== null && query.before_seq !== undefined) {
        const before = query.before_seq;
        rows = rows.filter((r) => r.seq < before);
      }
    }
    return { events: rows.slice(0, limit), has_more: rows.length > limit, head: this.head() };
  }

  /** The client's check: every seal recomputed, every link and number followed. */
  verify(): VerifyResult {
    let prevHash = GENESIS;
    let lastSeq = 0;
    let checked = 0;
    let broken: ChainBreak | null = null;
    for (const [index, r] of this.records.entries()) {
      if (r.seq !== lastSeq + 1) {
        broken = { seq: r.seq, index, kind: { kind: "sequence_gap", expected: lastSeq + 1, found: r.seq } };
        break;
      }
      if (r.prev_hash !== prevHash) {
        broken = { seq: r.seq, index, kind: { kind: "link_broken", expected_prev: prevHash, stored_prev: r.prev_hash } };
        break;
      }
      const computed = chainHash(r.prev_hash, exported(r));
      if (computed !== r.hash) {
        broken = { seq: r.seq, index, kind: { kind: "content_altered", stored: r.hash, computed } };
        break;
      }
      prevHash = r.hash;
      lastSeq = r.seq;
      checked += 1;
    }
    const verifiedHead = { last_seq: lastSeq, hash: prevHash };
    if (!broken && this.headSeq > lastSeq) {
      broken = { seq: lastSeq + 1, index: checked, kind: { kind: "truncated", expected_last: this.headSeq, found_last: lastSeq } };
    }
    return { checked, verifiedHead, serverHead: this.head(), broken };
  }

  /** Whether the chain still holds `head` (the head verified last time). */
  holds(head: ChainHead): boolean | null {
    const r = this.records.find((x) => x.seq === head.last_seq);
    if (r) return r.hash === head.hash;
    return head.last_seq > this.headSeq ? false : null;
  }

  /** Events the query selects, oldest first, with the header an export states. */
  exportOf(query: AuditQuery, exportedBy: string, source: string, exportedAt: string): { header: ExportHeader; events: ExportedEvent[] } {
    const events = this.records.filter((r) => matches(r, query)).map(exported);
    const first = events[0];
    const last = events[events.length - 1];
    const header: ExportHeader = {
      format: EXPORT_FORMAT,
      exported_at: exportedAt,
      exported_by: exportedBy,
      source,
      from: query.from,
      to: query.to,
      filtered: isFiltered(query),
      first_seq: first?.seq ?? 0,
      last_seq: last?.seq ?? 0,
      count: events.length,
      first_prev_hash: first?.prev_hash ?? GENESIS,
      head: this.head(),
    };
    return { header, events };
  }
}

// ---- export files --------------------------------------------------------------------------

export function exportJson(header: ExportHeader, events: ExportedEvent[]): string {
  return JSON.stringify({ ...header, events }, null, 2);
}

function csvField(value: string | number | null): string {
  if (value === null) return "";
  return `"${String(value).replace(/"/g, '""')}"`;
}

export function exportCsv(header: ExportHeader, events: ExportedEvent[]): string {
  const lines = [`# ${EXPORT_FORMAT}`, `# ${JSON.stringify(header)}`, CSV_COLUMNS.join(",")];
  for (const e of events) lines.push(CSV_COLUMNS.map((c) => csvField(e[c])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** RFC 4180 records; `null` is an empty unquoted field. */
function csvRecords(text: string): Array<Array<string | null>> {
  const records: Array<Array<string | null>> = [];
  let record: Array<string | null> = [];
  let i = 0;
  for (;;) {
    let field: string | null;
    if (text[i] === '"') {
      i += 1;
      let value = "";
      for (;;) {
        if (i >= text.length) throw new Error("unterminated quoted field");
        const c = text[i]!;
        if (c === '"' && text[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (c === '"') {
          i += 1;
          break;
        } else {
          value += c;
          i += 1;
        }
      }
      field = value;
    } else {
      let value = "";
      while (i < text.length && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") value += text[i++];
      field = value === "" ? null : value;
    }
    record.push(field);
    const c = text[i];
    i += 1;
    if (c === ",") continue;
    if (c === "\r" && text[i] === "\n") i += 1;
    if (c === undefined) {
      if (record.some((f) => f !== null) || record.length > 1) records.push(record);
      return records;
    }
    records.push(record);
    record = [];
  }
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new Error(`${what} is missing`);
  return value;
}

function asEvent(raw: Record<string, unknown>): ExportedEvent {
  const seq = Number(raw.seq);
  if (!Number.isInteger(seq) || seq < 1) throw new Error("an event has no valid seq");
  const opt = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    seq,
    at: requireString(raw.at, "at"),
    actor: requireString(raw.actor, "actor"),
    device: opt(raw.device),
    address: opt(raw.address),
    action: requireString(raw.action, "action"),
    ticket_id: opt(raw.ticket_id),
    before: opt(raw.before),
    after: opt(raw.after),
    detail: requireString(raw.detail, "detail"),
    prev_hash: requireString(raw.prev_hash, "prev_hash"),
    hash: requireString(raw.hash, "hash"),
  };
}

function asHeader(raw: Record<string, unknown>): ExportHeader {
  if (raw.format !== EXPORT_FORMAT) throw new Error(`format ${JSON.stringify(raw.format)}, expected "${EXPORT_FORMAT}"`);
  const head = raw.head as ChainHead | undefined;
  if (!head || typeof head.last_seq !== "number" || typeof head.hash !== "string") throw new Error("the header has no chain head");
  return {
    format: EXPORT_FORMAT,
    exported_at: requireString(raw.exported_at, "exported_at"),
    exported_by: requireString(raw.exported_by, "exported_by"),
    source: requireString(raw.source, "source"),
    from: (raw.from as string | null) ?? null,
    to: (raw.to as string | null) ?? null,
    filtered: raw.filtered === true,
    first_seq: Number(raw.first_seq),
    last_seq: Number(raw.last_seq),
    count: Number(raw.count),
    first_prev_hash: requireString(raw.first_prev_hash, "first_prev_hash"),
    head: { last_seq: head.last_seq, hash: head.hash },
  };
}

export function parseExport(text: string): { header: ExportHeader; events: ExportedEvent[] } {
  const trimmed = text.replace(/^\uFEFF/, "").trimStart();
  if (trimmed.startsWith("{")) {
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(trimmed) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`JSON: ${(e as Error).message}`);
    }
    const header = asHeader(raw);
    if (!Array.isArray(raw.events)) throw new Error("the file has no events");
    return { header, events: (raw.events as Array<Record<string, unknown>>).map(asEvent) };
  }
  // The first two lines are not CSV: the format line and `# {header as JSON}`.
  const lines = trimmed.split("\n");
  const magic = (lines[0] ?? "").replace(/\r$/, "");
  if (magic !== `# ${EXPORT_FORMAT}`) throw new Error(`the first line is ${JSON.stringify(magic.slice(0, 60))}`);
  const headerLine = (lines[1] ?? "").replace(/\r$/, "");
  let header: ExportHeader;
  try {
    header = asHeader(JSON.parse(headerLine.replace(/^# /, "")) as Record<string, unknown>);
  } catch (e) {
    throw new Error(`header line: ${(e as Error).message}`);
  }
  const [columns, ...rows] = csvRecords(lines.slice(2).join("\n"));
  if ((columns ?? []).join(",") !== CSV_COLUMNS.join(",")) throw new Error("unexpected columns");
  const events = rows.map((row) => {
    if (row.length !== CSV_COLUMNS.length) throw new Error(`a row has ${row.length} fields, expected ${CSV_COLUMNS.length}`);
    return asEvent(Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, row[i]])));
  });
  return { header, events };
}

/** outpost-core's `verify_with_anchor(None)`, over the mock's seals. */
export function verifyExport(header: ExportHeader, events: ExportedEvent[]): { verified: ExportVerified } | { problem: ExportProblem } {
  const problem = (p: ExportProblem) => ({ problem: p });
  if (header.count !== events.length) return problem({ problem: "header", detail: `it states ${header.count} events but holds ${events.length}` });
  let previous: ExportedEvent | null = null;
  for (const [index, e] of events.entries()) {
    const fail = (kind: ChainBreak["kind"]) => problem({ problem: "chain", seq: e.seq, index, kind });
    if (!previous) {
      if (!header.filtered && e.seq !== header.first_seq) return fail({ kind: "sequence_gap", expected: header.first_seq, found: e.seq });
      if (!header.filtered && e.prev_hash !== header.first_prev_hash) {
        return fail({ kind: "link_broken", expected_prev: header.first_prev_hash, stored_prev: e.prev_hash });
      }
    } else {
      const expected: number = previous.seq + 1;
      if (e.seq < expected || (!header.filtered && e.seq !== expected)) return fail({ kind: "sequence_gap", expected, found: e.seq });
      if (e.seq === expected && e.prev_hash !== previous.hash) {
        return fail({ kind: "link_broken", expected_prev: previous.hash, stored_prev: e.prev_hash });
      }
    }
    const computed = chainHash(e.prev_hash, e);
    if (computed !== e.hash) return fail({ kind: "content_altered", stored: e.hash, computed });
    if ((header.from && e.at < header.from) || (header.to && e.at >= header.to)) {
      return problem({ problem: "header", detail: `event #${e.seq} at ${e.at} lies outside the stated range` });
    }
    previous = e;
  }
  const first = events[0]?.seq ?? 0;
  const last = events[events.length - 1]?.seq ?? 0;
  if (events.length && (first !== header.first_seq || last !== header.last_seq)) {
    return problem({ problem: "header", detail: `it states events #${header.first_seq}–#${header.last_seq} but holds #${first}–#${last}` });
  }
  if (header.head.last_seq < last) return problem({ problem: "header", detail: `its events go past the stated head #${header.head.last_seq}` });
  const tail = events[events.length - 1];
  const reaches = !!tail && tail.seq === header.head.last_seq;
  if (reaches && tail.hash !== header.head.hash) return problem({ problem: "anchor", seq: last, expected: header.head.hash });
  return { verified: { count: events.length, first_seq: first, last_seq: last, filtered: header.filtered, reaches_head: reaches } };
}

export function checkExport(text: string): ExportCheck {
  let parsed: { header: ExportHeader; events: ExportedEvent[] };
  try {
    parsed = parseExport(text);
  } catch (e) {
    return { header: null, verified: null, problem: null, unreadable: `not an Outpost audit export: ${(e as Error).message}` };
  }
  const result = verifyExport(parsed.header, parsed.events);
  return {
    header: parsed.header,
    verified: "verified" in result ? result.verified : null,
    problem: "problem" in result ? result.problem : null,
    unreadable: null,
  };
}

/** The shell's `safe_file_name`: letters, digits, `-`, `_`, `.`; no path, no hidden file. */
export function safeFileName(name: string): string {
  const cleaned = Array.from(name)
    .map((c) => (/[\p{L}\p{N}\-_.]/u.test(c) ? c : "_"))
    .slice(0, 120)
    .join("")
    .replace(/^\.+/, "");
  return cleaned || "outpost-export";
}

export function requireOnline(offline: boolean): void {
  if (offline) throw new BackendError("offline", "The server cannot be reached.");
}
