// The in-memory backend: the `vite dev` preview outside Tauri and the unit tests. Deterministic
// for a given `now` and seed; implements paging, search with highlight ranges, mutations with
// the status machine and the verification gate, conflicts, sync problems, offline and injected
// errors.
import { BackendError, type Backend, type SignInArgs } from "./index";
import type {
  AuditPage,
  AuditQuery,
  ChainCheck,
  VerifyProgress,
  ChainHead,
  ClockKind,
  ConflictRecord,
  Entry,
  EntryBody,
  ExportCheck,
  ExportFormat,
  Highlighted,
  LocalChange,
  Me,
  Mutation,
  QueueCursor,
  QueuePage,
  QueueRow,
  QueueSort,
  Report,
  ReportParams,
  SavedExport,
  SavedFile,
  SearchHit,
  SlaClock,
  SlaReport,
  Status,
  SyncProblem,
  SyncStatus,
  Ticket,
  TicketDetail,
  TicketEvent,
} from "./types";
import type { DeskEvent, Directory, KeychainState, QueueFilter, Settings, StartInfo, Template } from "./types";
import { DEPARTMENTS, generateTickets, TARGETS, TEMPLATES, USERS, type MockTicket } from "./mock-data";
import { checkExport, exportCsv, exportJson, MockAuditChain, requireOnline, safeFileName, type AuditInput } from "./mock-audit";
import { computeReport } from "./mock-reports";
import { sha256Hex } from "./mock-sha256";
import { countdown } from "../lib/time";
import { evaluate, recordedChecks } from "../lib/verification";
import { accountState, stateRefusal } from "../lib/risk";

export const STATUS_MACHINE: Array<[Status, Status[]]> = [
  ["new", ["triaged", "assigned", "in_progress", "pending", "resolved", "closed"]],
  ["triaged", ["assigned", "in_progress", "pending", "resolved", "closed"]],
  ["assigned", ["triaged", "in_progress", "pending", "resolved"]],
  ["in_progress", ["assigned", "pending", "resolved"]],
  ["pending", ["in_progress", "assigned", "resolved"]],
  ["resolved", ["closed"]],
  ["closed", []],
];

export const MOCK_PASSWORD = "outpost";
export const MOCK_TOTP = "123456";
export const MOCK_PASSPHRASE = "correct horse";

export type MockOptions = {
  /** The mock's clock; tests pass a fixed one. */
  now?: () => number;
  tickets?: number;
  seed?: number;
  /** Start signed in (as the demo run does). */
  signedIn?: boolean;
  keychain?: KeychainState;
  /** Simulated IPC latency in ms (0 = resolve on the next microtask). */
  latency?: number;
  /** Who is signed in when `signedIn` (an e-mail from USERS); the first agent by default. */
  user?: string;
};

/** Categories outside the account domain (outpost-core `Category::is_account_domain`). */
const GENERAL_CATEGORIES = new Set(["complaint", "inquiry", "technical_fault", "feature_request"]);

/** outpost-core `Ticket::is_sensitive`: views of these tickets are recorded in the audit chain. */
export function mockIsSensitive(ticket: Ticket): boolean {
  return ticket.risk !== "none" || !GENERAL_CATEGORIES.has(ticket.category);
}

/** The desk records a view of a sensitive ticket at most this often per ticket. */
const VIEW_RECORD_INTERVAL_MS = 10 * 60_000;

/** A stable device id (UUID-shaped) for a user's computer in the seeded history. */
export function mockDeviceId(userId: string, n = 0): string {
  const h = sha256Hex(`device:${userId}:${n}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export type MockCall = { cmd: string; args: Record<string, unknown> };

const PRIORITY_ORDER = { P1: 0, P2: 1, P3: 2, P4: 3 } as const;

/** Where the mock's desk connects from (TEST-NET-1). */
const MOCK_ADDRESS = "192.0.2.10";

function clone<T>(value: T): T {
  return structuredClone(value);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Character (code point) ranges where any term occurs, case-insensitive, merged. */
export function matchRanges(text: string, terms: string[]): Array<[number, number]> {
  const chars = Array.from(text.toLowerCase());
  if (chars.length !== Array.from(text).length) return [];
  const ranges: Array<[number, number]> = [];
  for (const term of terms) {
    const t = Array.from(term);
    if (!t.length || t.length > chars.length) continue;
    for (let s = 0; s + t.length <= chars.length; s++) {
      if (t.every((c, k) => chars[s + k] === c)) ranges.push([s, s + t.length]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

function snippet(text: string, terms: string[], width = 80): Highlighted {
  const chars = Array.from(text);
  const ranges = matchRanges(text, terms);
  const first = ranges[0]?.[0] ?? 0;
  const start = Math.max(0, first - Math.floor(width / 3));
  const end = Math.min(chars.length, start + width);
  const offset = start > 0 ? 1 : 0;
  const out = (start > 0 ? "…" : "") + chars.slice(start, end).join("") + (end < chars.length ? "…" : "");
  return {
    text: out,
    ranges: ranges.filter(([s, e]) => s >= start && e <= end).map(([s, e]) => [s - start + offset, e - start + offset]),
  };
}

function entryText(body: EntryBody): string {
  switch (body.kind) {
    case "customer_message":
    case "reply":
    case "note":
      return body.text;
    case "risk_action":
      return `${body.target} ${body.reason}`;
    case "attachment":
      return body.filename;
    case "redacted":
      return body.reason;
    default:
      return "";
  }
}

export class MockBackend implements Backend {
  readonly calls: MockCall[] = [];
  readonly now: () => number;
  private tickets = new Map<string, MockTicket>();
  private order: string[] = [];
  private listeners: Array<(e: DeskEvent) => void> = [];
  private failures = new Map<string, BackendError[]>();
  private offline = false;
  private me: Me | null = null;
  private lastUser = USERS[0]!;
  private mutationSeq = 100;
  private entrySeq = 0;
  private keySeq = 5000;
  private conflictList: ConflictRecord[] = [];
  private problemList: SyncProblem[] = [];
  private keychain: KeychainState;
  private vaultMode: "keychain" | "passphrase" | null = null;
  private settings: Settings = { idle_lock_minutes: 15, theme: "system", language: "en" };
  private latency: number;
  private profile: { server: string; email: string } | null = null;
  /** The server's audit chain (what `audit_page` reads). */
  readonly audit = new MockAuditChain();
  /** Audit events of changes made offline: they reach the chain when the mock syncs. */
  private pendingAudit: AuditInput[] = [];
  private lastViewRecorded = new Map<string, number>();
  /** The head the last successful `audit_verify` saw (the desk's `audit-head.json`). */
  private verifiedHead: ChainHead | null = null;
  /** Files written by `audit_export` and `save_file`, by path (the Downloads folder). */
  readonly savedFiles = new Map<string, string>();

  constructor(options: MockOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.keychain = options.keychain ?? "available";
    this.latency = options.latency ?? 0;
    for (const t of generateTickets(options.tickets ?? 400, this.now(), options.seed ?? 42)) this.put(t);
    if (options.user) {
      const wanted = options.user.toLowerCase();
      this.lastUser = USERS.find((u) => u.email === wanted || u.id === wanted) ?? this.lastUser;
    }
    this.seedAudit();
    if (options.signedIn) {
      this.me = { server: "https://demo.outpost.local", user: this.lastUser, device_id: "dev-mock" };
      this.profile = { server: this.me.server, email: this.lastUser.email };
      this.vaultMode = this.keychain === "available" ? "keychain" : "passphrase";
    }
    this.seedSyncRecords();
  }

  // ---- test and preview controls -------------------------------------------------------------

  /** Makes the next call to `cmd` fail with `code`. */
  failNext(cmd: string, code: string, message = `Simulated ${code}`): void {
    const list = this.failures.get(cmd) ?? [];
    list.push(new BackendError(code, message));
    this.failures.set(cmd, list);
  }

  setOffline(offline: boolean): void {
    this.offline = offline;
    if (!offline) this.flushAudit();
    this.emit({ kind: "status", status: this.status() });
  }

  emit(event: DeskEvent): void {
    for (const listener of this.listeners) listener(clone(event));
  }

  /** Adds a ticket as the server would have sent it (tests: hostile text, fixed clocks). */
  addTicket(patch: Partial<Ticket> & { subject: string }, entries: Array<Pick<Entry, "body"> & Partial<Entry>> = []): Ticket {
    const base = generateTickets(1, this.now(), 7)[0]!;
    const id = patch.id ?? `t-x${this.order.length + 1}`;
    const ticket: Ticket = { ...base.ticket, key: `OP-${(this.keySeq += 1)}`, ...patch, id };
    const list: Entry[] = entries.map((e, i) => ({
      id: e.id ?? `${id}-x${i}`,
      ticket_id: id,
      author: e.author ?? null,
      created_at: e.created_at ?? ticket.created_at,
      body: e.body,
    }));
    this.put({ ticket, entries: list, unsent: 0 });
    this.audit.append({
      at: iso(this.now()),
      actor: `intake:${ticket.channel}`,
      device: null,
      address: null,
      action: "ticket.create",
      ticket_id: id,
      before: null,
      after: sha256Hex(JSON.stringify(ticket)),
      detail: JSON.stringify({ mutation_id: (this.mutationSeq += 1), revision: ticket.revision, department: ticket.department, changes: [{ type: "created" }] }),
      department: ticket.department,
    });
    return clone(ticket);
  }

  callsTo(cmd: string): MockCall[] {
    return this.calls.filter((c) => c.cmd === cmd);
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private put(t: MockTicket): void {
    if (!this.tickets.has(t.ticket.id)) this.order.push(t.ticket.id);
    this.tickets.set(t.ticket.id, t);
  }

  private async run<T>(cmd: string, args: Record<string, unknown>, body: () => T): Promise<T> {
    this.calls.push({ cmd, args: clone(args) });
    if (this.latency > 0) await new Promise((r) => setTimeout(r, this.latency));
    else await Promise.resolve();
    const failure = this.failures.get(cmd)?.shift();
    if (failure) throw failure;
    return clone(body());
  }

  private requireSession(): Me {
    if (!this.me) throw new BackendError("locked", "The cache is locked. Unlock it to continue.");
    return this.me;
  }

  private get(id: string): MockTicket {
    const t = this.tickets.get(id);
    if (!t) throw new BackendError("ticket_not_found", `No ticket ${id} in the local cache.`);
    return t;
  }

  private seedSyncRecords(): void {
    const [a, b, c] = this.order.map((id) => this.tickets.get(id)!.ticket);
    const at = iso(this.now() - 15 * 60_000);
    if (a && b && c) {
      this.conflictList = [
        { id: 1, ticket_id: a.id, mutation_id: 41, mutation: { name: "ticket.set_priority", args: { ticket_id: a.id, priority: "P1" } }, field: "priority", yours: "P1", winner: a.priority, changed_by: "Sam Patel", changed_at: at, recorded_at: at },
        { id: 2, ticket_id: b.id, mutation_id: 42, mutation: { name: "ticket.set_assignee", args: { ticket_id: b.id, assignee: "u-ana" } }, field: "assignee", yours: "u-ana", winner: b.assignee, changed_by: "王伟", changed_at: at, recorded_at: at },
      ];
      this.problemList = [
        { id: 3, ticket_id: c.id, mutation_id: 43, mutation: { name: "ticket.set_status", args: { ticket_id: c.id, status: "closed", reason: null } }, made_at: at, code: "illegal_transition", reason: "a in_progress ticket cannot move to closed; resolve it first", recorded_at: at },
      ];
    }
  }

  private status(): SyncStatus {
    let unsent = 0;
    for (const t of this.tickets.values()) unsent += t.unsent;
    const connectivity: SyncStatus["connectivity"] = this.offline
      ? { state: "offline", reason: "The server cannot be reached.", retry_at: iso(this.now() + 30_000) }
      : { state: "online", last_sync: iso(this.now()) };
    return { connectivity, unsent, conflicts: this.conflictList.length, problems: this.problemList.length, bootstrapping: false };
  }

  // ---- SLA (a 24×7 calendar; the real engine lives in outpost-core) --------------------------

  sla(ticket: Ticket, nowMs = this.now()): SlaReport {
    const clocks: SlaClock[] = [];
    const targets = TARGETS[ticket.priority];
    const pausedBetween = (from: number, to: number) =>
      ticket.pauses.reduce((sum, p) => {
        const s = Math.max(from, Date.parse(p.start));
        const e = Math.min(to, p.end ? Date.parse(p.end) : to);
        return sum + Math.max(0, e - s);
      }, 0);
    const openPause = ticket.pauses.some((p) => p.end === null);
    const clock = (kind: ClockKind, startIso: string, stopIso: string | null) => {
      const target = targets[kind];
      if (target === undefined) return;
      const start = Date.parse(startIso);
      const stop = stopIso ? Date.parse(stopIso) : null;
      const until = stop ?? nowMs;
      const paused = pausedBetween(start, until);
      const elapsed = Math.max(0, Math.floor((until - start - paused) / 1000));
      const remaining = target - elapsed;
      const running = stop === null;
      let state: SlaClock["state"];
      if (!running) state = elapsed <= target ? "met" : "met_late";
      else if (openPause) state = "paused";
      else if (elapsed > target) state = "breached";
      else if (elapsed >= target * 0.75) state = "at_risk";
      else state = "on_track";
      const ticking = running && !openPause;
      clocks.push({
        kind,
        state,
        target_seconds: target,
        elapsed_seconds: elapsed,
        paused_seconds: Math.floor(paused / 1000),
        remaining_seconds: remaining,
        outside_hours_seconds: 0,
        started_at: startIso,
        due_at: ticking ? iso(start + paused + target * 1000) : null,
        warn_at: ticking ? iso(start + paused + target * 750) : null,
        stopped_at: stopIso,
        adjustments: [],
      });
    };
    const open = ticket.status !== "resolved" && ticket.status !== "closed";
    clock("first_response", ticket.created_at, ticket.first_response_at ?? (open ? null : ticket.resolved_at));
    if (ticket.last_update_at && open) clock("periodic_update", ticket.last_update_at, null);
    clock("resolution", ticket.created_at, ticket.resolved_at);
    const revisitDue = this.revisitDue(ticket);
    if (revisitDue) {
      // Wall-clock hours from the score, pending or not (outpost-core's revisit clock).
      const due = Date.parse(revisitDue);
      const start = Math.min(due, ticket.csat ? Date.parse(ticket.csat.at) : due - 24 * 3600_000);
      const target = Math.round((due - start) / 1000);
      const elapsed = Math.max(0, Math.floor((nowMs - start) / 1000));
      clocks.push({
        kind: "revisit",
        state: elapsed > target ? "breached" : elapsed >= target * 0.75 ? "at_risk" : "on_track",
        target_seconds: target,
        elapsed_seconds: elapsed,
        paused_seconds: 0,
        remaining_seconds: target - elapsed,
        outside_hours_seconds: 0,
        started_at: iso(start),
        due_at: revisitDue,
        warn_at: iso(start + target * 750),
        stopped_at: null,
        adjustments: [],
      });
    }
    return { policy: `${ticket.priority} default`, clocks };
  }

  /** While the ticket is open and a low score asked for a revisit. */
  private revisitDue(ticket: Ticket): string | null {
    const open = ticket.status !== "resolved" && ticket.status !== "closed";
    return open ? ticket.revisit_due_at : null;
  }

  private row(t: MockTicket): QueueRow {
    const { ticket } = t;
    const clocks = this.sla(ticket).clocks;
    const running = clocks.filter((c) => c.due_at).sort((a, b) => a.due_at!.localeCompare(b.due_at!));
    const nearest = running[0];
    return {
      id: ticket.id,
      key: ticket.key,
      subject: ticket.subject,
      status: ticket.status,
      priority: ticket.priority,
      risk: ticket.risk,
      category: ticket.category,
      department: ticket.department,
      assignee: ticket.assignee,
      requester_name: ticket.requester.name,
      created_at: ticket.created_at,
      updated_at: ticket.updated_at,
      sla_due_at: nearest?.due_at ?? null,
      sla_warn_at: nearest?.warn_at ?? null,
      sla_paused: !nearest && clocks.some((c) => c.state === "paused"),
      unsent: t.unsent,
      revisit_due_at: this.revisitDue(ticket),
    };
  }

  private matches(row: QueueRow, f: QueueFilter, tags: string[]): boolean {
    if (f.statuses.length && !f.statuses.includes(row.status)) return false;
    if (f.priorities.length && !f.priorities.includes(row.priority)) return false;
    if (f.departments.length && !(row.department && f.departments.includes(row.department))) return false;
    if (f.categories.length && !f.categories.includes(row.category)) return false;
    if (f.assignee.kind === "unassigned" && row.assignee !== null) return false;
    if (f.assignee.kind === "user" && row.assignee !== f.assignee.id) return false;
    if (f.tag && !tags.includes(f.tag)) return false;
    if (f.sla && countdown(row.sla_due_at, row.sla_warn_at, row.sla_paused, this.now()).state !== f.sla) return false;
    if (f.revisit && row.revisit_due_at === null) return false;
    return true;
  }

  private sorted(filter: QueueFilter, sort: QueueSort): QueueRow[] {
    const rows = this.order
      .map((id) => this.tickets.get(id)!)
      .map((t) => ({ row: this.row(t), tags: t.ticket.tags }))
      .filter(({ row, tags }) => this.matches(row, filter, tags))
      .map(({ row }) => row);
    const due = (r: QueueRow) => (r.sla_due_at ? Date.parse(r.sla_due_at) : r.sla_paused ? 8e15 : 9e15);
    const cmp: Record<QueueSort, (a: QueueRow, b: QueueRow) => number> = {
      sla_due: (a, b) => due(a) - due(b),
      priority: (a, b) => PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || due(a) - due(b),
      updated: (a, b) => b.updated_at.localeCompare(a.updated_at),
    };
    return rows.sort((a, b) => cmp[sort](a, b) || a.id.localeCompare(b.id));
  }

  // ---- mutations -----------------------------------------------------------------------------

  private entry(t: MockTicket, body: EntryBody, entryId?: string): Entry {
    const e: Entry = {
      id: entryId ?? `local-e${(this.entrySeq += 1)}`,
      ticket_id: t.ticket.id,
      author: this.me?.user.id ?? null,
      body,
      created_at: iso(this.now()),
    };
    t.entries.push(e);
    return e;
  }

  private event(t: MockTicket, event: TicketEvent): Entry {
    return this.entry(t, { kind: "event", event });
  }

  private apply(m: Mutation): LocalChange {
    this.requireSession();
    if (m.name === "ticket.create") {
      const a = m.args;
      const nowIso = iso(this.now());
      const t: MockTicket = {
        ticket: {
          ...a,
          key: null,
          status: "new",
          assignee: null,
          created_at: nowIso,
          updated_at: nowIso,
          first_response_at: null,
          last_update_at: null,
          resolved_at: null,
          closed_at: null,
          revisit_due_at: null,
          pauses: [],
          csat: null,
          links: [],
          revision: 0,
        },
        entries: [],
        unsent: 0,
      };
      this.put(t);
      return this.finish(t, [this.event(t, { type: "created" }), this.entry(t, { kind: "customer_message", text: a.description })], m.name, null);
    }
    const t = this.get(m.args.ticket_id);
    const tk = t.ticket;
    if (m.name === "ticket.view") {
      this.recordView(t);
      this.mutationSeq += 1;
      return { mutation_id: this.mutationSeq, ticket: tk, entries: [] };
    }
    const before = sha256Hex(JSON.stringify(tk));
    let redaction: { entry_id: string; removed_sha256: string } | null = null;
    const added: Entry[] = [];
    switch (m.name) {
      case "ticket.set_status": {
        const allowed = STATUS_MACHINE.find(([s]) => s === tk.status)?.[1] ?? [];
        if (!allowed.includes(m.args.status)) {
          throw new BackendError("illegal_transition", `a ${tk.status} ticket cannot move to ${m.args.status}`);
        }
        if ((m.args.status === "assigned" || m.args.status === "in_progress") && !tk.assignee) {
          throw new BackendError("needs_assignee", `assign the ticket to someone before moving it to ${m.args.status}`);
        }
        const from = tk.status;
        if (from === "pending") for (const p of tk.pauses) p.end ??= iso(this.now());
        if (m.args.status === "pending") tk.pauses.push({ start: iso(this.now()), end: null });
        if (m.args.status === "resolved") tk.resolved_at = iso(this.now());
        if (m.args.status === "closed") tk.closed_at = iso(this.now());
        tk.status = m.args.status;
        added.push(this.event(t, { type: "status_changed", from, to: tk.status, reason: m.args.reason }));
        break;
      }
      case "ticket.reopen": {
        if (tk.status !== "resolved" && tk.status !== "closed") {
          throw new BackendError("not_reopenable", `only a resolved or closed ticket can be reopened; this one is ${tk.status}`);
        }
        const from = tk.status;
        tk.status = tk.assignee ? "assigned" : "triaged";
        tk.resolved_at = null;
        tk.closed_at = null;
        added.push(this.event(t, { type: "reopened", from, to: tk.status, reason: m.args.reason }));
        break;
      }
      case "ticket.set_priority":
        added.push(this.event(t, { type: "priority_changed", from: tk.priority, to: m.args.priority }));
        tk.priority = m.args.priority;
        break;
      case "ticket.set_category":
        added.push(this.event(t, { type: "category_changed", from: tk.category, to: m.args.category }));
        tk.category = m.args.category;
        break;
      case "ticket.set_risk":
        added.push(this.event(t, { type: "risk_changed", from: tk.risk, to: m.args.risk }));
        tk.risk = m.args.risk;
        break;
      case "ticket.set_assignee":
        added.push(this.event(t, { type: "assignee_changed", from: tk.assignee, to: m.args.assignee }));
        tk.assignee = m.args.assignee;
        break;
      case "ticket.set_department":
        added.push(this.event(t, { type: "department_changed", from: tk.department, to: m.args.department }));
        tk.department = m.args.department;
        break;
      case "ticket.add_tag":
        if (!tk.tags.includes(m.args.tag)) {
          tk.tags.push(m.args.tag);
          added.push(this.event(t, { type: "tag_added", tag: m.args.tag }));
        }
        break;
      case "ticket.remove_tag":
        tk.tags = tk.tags.filter((x) => x !== m.args.tag);
        added.push(this.event(t, { type: "tag_removed", tag: m.args.tag }));
        break;
      case "ticket.set_subject":
        tk.subject = m.args.subject;
        added.push(this.event(t, { type: "subject_changed" }));
        break;
      case "ticket.set_description":
        tk.description = m.args.description;
        added.push(this.event(t, { type: "description_changed" }));
        break;
      case "ticket.link":
        tk.links.push(m.args.link);
        added.push(this.event(t, { type: "linked", link: m.args.link }));
        break;
      case "entry.add_reply":
        added.push(this.entry(t, { kind: "reply", text: m.args.text }, m.args.entry_id));
        tk.first_response_at ??= iso(this.now());
        tk.last_update_at = iso(this.now());
        break;
      case "entry.add_note":
        added.push(this.entry(t, { kind: "note", text: m.args.text }, m.args.entry_id));
        break;
      case "entry.add_attachment": {
        const { entry_id, ticket_id: _ignored, ...attachment } = m.args;
        added.push(this.entry(t, { kind: "attachment", ...attachment }, entry_id));
        break;
      }
      case "verification.record":
        added.push(this.entry(t, { kind: "verification", checks: m.args.checks }, m.args.entry_id));
        break;
      case "risk.freeze":
      case "risk.intercept":
      case "risk.unfreeze": {
        const action = m.name === "risk.freeze" ? "freeze_account" : m.name === "risk.intercept" ? "intercept_transaction" : "unfreeze_account";
        const refusal = stateRefusal(action, accountState(t.entries), m.args.target);
        if (refusal) throw new BackendError("risk_refused", refusal);
        const decision = evaluate(action, tk.risk, recordedChecks(t.entries));
        if (!decision.allowed) {
          throw new BackendError("verification_required", `Only ${decision.passed.size} verification checks passed; ${decision.needed} needed.`);
        }
        added.push(this.entry(t, { kind: "risk_action", action, target: m.args.target, reason: m.args.reason }, m.args.entry_id));
        break;
      }
      case "entry.redact": {
        // outpost-core `apply`: supervisors only, a reason, content entries only, once.
        const me = this.requireSession();
        if (me.user.role === "agent") throw new BackendError("rejected", "only supervisors and admins can redact entries");
        const reason = m.args.reason.trim();
        if (!reason) throw new BackendError("rejected", "reason: give a reason for the redaction");
        const original = t.entries.find((e) => e.id === m.args.entry_id);
        if (!original) throw new BackendError("rejected", "entry: no such entry on this ticket");
        const body = original.body;
        if (body.kind !== "customer_message" && body.kind !== "reply" && body.kind !== "note" && body.kind !== "attachment") {
          throw new BackendError(
            "rejected",
            body.kind === "redacted" ? "entry: is already redacted" : "entry: events, verification records and risk actions cannot be redacted",
          );
        }
        const removed = sha256Hex(JSON.stringify(body));
        original.body = { kind: "redacted", original: body.kind, reason, by: me.user.id, at: iso(this.now()), removed_sha256: removed };
        added.push(original);
        added.push(this.event(t, { type: "entry_redacted", entry_id: original.id, kind: body.kind, removed_sha256: removed }));
        redaction = { entry_id: original.id, removed_sha256: removed };
        break;
      }
    }
    return this.finish(t, added, m.name, redaction ? redaction.removed_sha256 : before, redaction);
  }

  /** The server's audit event for an accepted change (sent now, or on the next sync). */
  private auditChange(t: MockTicket, action: string, before: string | null, changes: TicketEvent[], extra: Record<string, unknown> | null): void {
    const me = this.me;
    this.recordAudit({
      at: iso(this.now()),
      actor: me?.user.id ?? "system",
      device: me?.device_id ?? null,
      address: MOCK_ADDRESS,
      action,
      ticket_id: t.ticket.id,
      before,
      after: sha256Hex(JSON.stringify(t.ticket)),
      detail: JSON.stringify({ mutation_id: this.mutationSeq, revision: t.ticket.revision, department: t.ticket.department, changes, ...extra }),
      department: t.ticket.department,
    });
  }

  private recordView(t: MockTicket): void {
    const me = this.requireSession();
    this.recordAudit({
      at: iso(this.now()),
      actor: me.user.id,
      device: me.device_id,
      address: MOCK_ADDRESS,
      action: "ticket.view",
      ticket_id: t.ticket.id,
      before: null,
      after: null,
      detail: JSON.stringify({ mutation_id: (this.mutationSeq += 1), revision: t.ticket.revision, viewed_at: iso(this.now()), department: t.ticket.department }),
      department: t.ticket.department,
    });
  }

  private recordAudit(input: AuditInput): void {
    if (this.offline) this.pendingAudit.push(input);
    else this.audit.append(input);
  }

  /** The server stamps events as it receives them. */
  private flushAudit(): void {
    const pending = this.pendingAudit;
    this.pendingAudit = [];
    for (const input of pending) this.audit.append({ ...input, at: iso(this.now()) });
  }

  private requireSupervisor(): Me {
    const me = this.requireSession();
    if (me.user.role === "agent") throw new BackendError("forbidden", "the audit trail and reports are for supervisors");
    return me;
  }

  /** Writes to the mock's Downloads folder without replacing a file (`name (2).csv`…). */
  private writeFile(name: string, content: string): SavedFile {
    const me = this.requireSession();
    const dir = `/home/${me.user.email.split("@")[0]}/Downloads`;
    const safe = safeFileName(name);
    const dot = safe.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [safe.slice(0, dot), safe.slice(dot)] : [safe, ""];
    let path = `${dir}/${safe}`;
    for (let n = 2; this.savedFiles.has(path); n++) path = `${dir}/${stem} (${n})${ext}`;
    this.savedFiles.set(path, content);
    return { path, bytes: new TextEncoder().encode(content).length };
  }

  /** The history the server would hold for the generated tickets, sessions and admin work. */
  private seedAudit(): void {
    const inputs: AuditInput[] = [];
    const nowMs = this.now();
    const address = (userId: string) => `10.20.0.${11 + Math.max(0, USERS.findIndex((u) => u.id === userId))}`;
    const userActor = (actor: string) => USERS.some((u) => u.id === actor);
    let mutation = 0;
    for (const id of this.order) {
      const { ticket, entries } = this.tickets.get(id)!;
      const department = ticket.department;
      let revision = 0;
      let state: string | null = null;
      const push = (at: string, actor: string, action: string, changes: TicketEvent[], view = false) => {
        const human = userActor(actor);
        const common = {
          at,
          actor,
          device: human ? mockDeviceId(actor, Date.parse(at) % 3 === 0 ? 1 : 0) : null,
          address: human ? address(actor) : null,
          action,
          ticket_id: ticket.id,
          department,
        };
        if (view) {
          inputs.push({ ...common, before: null, after: null, detail: JSON.stringify({ mutation_id: (mutation += 1), revision, viewed_at: at, department }) });
          return;
        }
        revision += 1;
        const after = sha256Hex(`${ticket.id}:${revision}:${action}`);
        inputs.push({ ...common, before: state, after, detail: JSON.stringify({ mutation_id: (mutation += 1), revision, department, changes }) });
        state = after;
      };
      const sortedEntries = [...entries].sort((a, b) => a.created_at.localeCompare(b.created_at));
      for (const e of sortedEntries) {
        const author = e.author ?? "system";
        switch (e.body.kind) {
          case "event": {
            const ev = e.body.event;
            if (ev.type === "created") {
              const creator = ticket.channel === "phone" ? (ticket.assignee ?? "u-ana") : `intake:${ticket.channel}`;
              push(e.created_at, creator, "ticket.create", [ev]);
            } else if (ev.type === "csat_received") push(e.created_at, "customer", "customer.csat", [ev]);
            else if (ev.type === "reopened") push(e.created_at, "system", "ticket.reopen", [ev]);
            else if (ev.type === "status_changed") push(e.created_at, author, "ticket.set_status", [ev]);
            break;
          }
          case "customer_message":
            if (e.created_at !== ticket.created_at) push(e.created_at, "customer", "customer.message", []);
            break;
          case "reply":
            push(e.created_at, author, "entry.add_reply", []);
            break;
          case "note":
            push(e.created_at, author, "entry.add_note", []);
            break;
          case "verification":
            push(e.created_at, author, "verification.record", []);
            break;
          case "risk_action":
            push(e.created_at, author, e.body.action === "freeze_account" ? "risk.freeze" : e.body.action === "intercept_transaction" ? "risk.intercept" : "risk.unfreeze", []);
            break;
          default:
            break;
        }
      }
      if (mockIsSensitive(ticket)) {
        const created = Date.parse(ticket.created_at);
        const viewers = [ticket.assignee, ticket.risk === "L1" || ticket.risk === "L2" ? "u-sam" : null].filter((v): v is string => v !== null);
        viewers.forEach((viewer, i) => {
          const at = created + (4 + i * 26) * 60_000;
          if (at < nowMs - 1000) push(iso(at), viewer, "ticket.view", [], true);
        });
      }
    }
    // Sign-ins: every user each morning of the last week, from their usual computer.
    for (let day = 7; day >= 0; day--) {
      for (const [i, u] of USERS.entries()) {
        const at = nowMs - day * 86_400_000 - (10 - i) * 3_600_000;
        if (at >= nowMs) continue;
        inputs.push({
          at: iso(at),
          actor: u.id,
          device: null,
          address: address(u.id),
          action: "session.login",
          ticket_id: null,
          before: null,
          after: null,
          detail: JSON.stringify({ family: sha256Hex(`family:${u.id}:${day}`).slice(0, 32) }),
          department: null,
        });
      }
    }
    const admin = (daysAgo: number, actor: string, action: string, detail: Record<string, unknown>) =>
      inputs.push({ at: iso(nowMs - daysAgo * 86_400_000), actor, device: null, address: actor === "cli" ? null : address(actor), action, ticket_id: null, before: null, after: null, detail: JSON.stringify(detail), department: null });
    admin(9, "cli", "user.set_departments", { user: "u-omar", departments: ["risk"] });
    admin(8.5, "u-sam", "user.add", { user: "u-li", role: "agent" });
    admin(6.2, "u-sam", "user.totp_enable", { user: "u-sam" });
    inputs.sort((a, b) => a.at.localeCompare(b.at));
    for (const input of inputs) this.audit.append(input);
  }

  private finish(
    t: MockTicket,
    entries: Entry[],
    action: Mutation["name"],
    before: string | null,
    redaction: { entry_id: string; removed_sha256: string } | null = null,
  ): LocalChange {
    t.ticket.updated_at = iso(this.now());
    t.ticket.revision += 1;
    t.unsent += 1;
    this.mutationSeq += 1;
    const changes = entries.flatMap((e) => (e.body.kind === "event" ? [e.body.event] : []));
    this.auditChange(t, action, before, changes, redaction);
    const change: LocalChange = { mutation_id: this.mutationSeq, ticket: t.ticket, entries };
    queueMicrotask(() => {
      this.emit({ kind: "changes", notice: { tickets: [t.ticket.id], revoked: [], everything: false } });
      this.emit({ kind: "status", status: this.status() });
    });
    return change;
  }

  // ---- Backend -------------------------------------------------------------------------------

  appStart(): Promise<StartInfo> {
    return this.run("app_start", {}, () => ({
      profile: this.profile ? { ...this.profile, mode: this.vaultMode } : null,
      me: this.me,
      keychain: this.keychain,
      settings: this.settings,
    }));
  }

  signIn(args: SignInArgs): Promise<Me> {
    return this.run("sign_in", { ...args, password: "***" }, () => {
      if (!/^https?:\/\/[^\s/]+/.test(args.server)) throw new BackendError("invalid_url", "That is not a server address.");
      if (this.offline) throw new BackendError("offline", "The server cannot be reached.");
      const user = USERS.find((u) => u.email === args.email.trim().toLowerCase());
      if (!user || args.password !== MOCK_PASSWORD) throw new BackendError("bad_credentials", "Wrong e-mail or password.");
      if (user.role === "supervisor" && args.totp !== MOCK_TOTP) {
        throw new BackendError("totp_required", "Enter the code from your authenticator app.");
      }
      if (this.keychain !== "available") {
        if (args.passphrase === null) {
          throw new BackendError(this.keychain === "locked" ? "keychain_locked" : "no_keychain", "No usable keychain.");
        }
        this.vaultMode = "passphrase";
        this.passphrase = args.passphrase;
      } else {
        this.vaultMode = "keychain";
      }
      this.lastUser = user;
      this.profile = { server: args.server, email: user.email };
      this.me = { server: args.server, user, device_id: "dev-mock" };
      return this.me;
    });
  }

  private passphrase = MOCK_PASSPHRASE;

  unlock(passphrase: string | null): Promise<Me> {
    return this.run("unlock", { passphrase: passphrase === null ? null : "***" }, () => {
      if (!this.profile) throw new BackendError("no_profile", "Sign in first.");
      if (this.vaultMode === "passphrase" && passphrase !== this.passphrase) {
        throw new BackendError("wrong_passphrase", "That passphrase does not open this cache.");
      }
      if (this.vaultMode === "keychain" && this.keychain === "locked") {
        throw new BackendError("keychain_locked", "The system keychain is locked.");
      }
      this.me = { server: this.profile.server, user: this.lastUser, device_id: "dev-mock" };
      return this.me;
    });
  }

  lock(): Promise<void> {
    return this.run("lock", {}, () => {
      this.me = null;
    });
  }

  signOut(discardUnsent: boolean): Promise<void> {
    return this.run("sign_out", { discardUnsent }, () => {
      const unsent = this.status().unsent;
      if (unsent > 0 && !discardUnsent) throw new BackendError("unsent_changes", `${unsent} unsent changes would be lost.`);
      for (const t of this.tickets.values()) t.unsent = 0;
      this.me = null;
      this.profile = null;
      this.vaultMode = null;
    });
  }

  queue(filter: QueueFilter, sort: QueueSort, cursor: QueueCursor | null, limit: number): Promise<QueuePage> {
    return this.run("queue", { filter, sort, cursor, limit }, () => {
      this.requireSession();
      const rows = this.sorted(filter, sort);
      let start = 0;
      if (cursor) {
        const [cursorSort, pos] = cursor.split(":");
        if (cursorSort !== sort) throw new BackendError("bad_cursor", "The cursor belongs to another sort.");
        start = Number(pos);
      }
      const page = rows.slice(start, start + limit);
      const end = start + page.length;
      return { rows: page, next: end < rows.length ? `${sort}:${end}` : null };
    });
  }

  queueCount(filter: QueueFilter): Promise<number> {
    return this.run("queue_count", { filter }, () => {
      this.requireSession();
      return this.sorted(filter, "updated").length;
    });
  }

  ticket(id: string): Promise<TicketDetail> {
    return this.run("ticket", { id }, () => {
      this.requireSession();
      const t = this.get(id);
      // The desk records views of sensitive tickets itself (throttled per ticket).
      const last = this.lastViewRecorded.get(id);
      if (mockIsSensitive(t.ticket) && (last === undefined || this.now() - last >= VIEW_RECORD_INTERVAL_MS)) {
        this.lastViewRecorded.set(id, this.now());
        this.recordView(t);
      }
      return { ticket: t.ticket, entries: t.entries, sla: this.sla(t.ticket), unsent: t.unsent };
    });
  }

  resolveKey(key: string): Promise<string> {
    return this.run("resolve_key", { key }, () => {
      const wanted = key.trim().toUpperCase();
      for (const t of this.tickets.values()) if (t.ticket.key === wanted) return t.ticket.id;
      throw new BackendError("ticket_not_found", `No ticket ${key} in the local cache.`);
    });
  }

  search(query: string, limit: number): Promise<SearchHit[]> {
    return this.run("search", { query, limit }, () => {
      this.requireSession();
      const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
      if (!terms.length) return [];
      const hits: SearchHit[] = [];
      for (const id of this.order) {
        const { ticket, entries } = this.tickets.get(id)!;
        const body = [ticket.description, ...entries.map((e) => entryText(e.body))].filter(Boolean).join(" · ");
        const all = [ticket.key ?? "", ticket.subject, ticket.requester.name, ticket.requester.account_id ?? "", body].join(" · ").toLowerCase();
        if (!terms.every((term) => all.includes(term))) continue;
        const inBody = matchRanges(body, terms).length > 0;
        hits.push({
          id: ticket.id,
          key: ticket.key,
          status: ticket.status,
          priority: ticket.priority,
          updated_at: ticket.updated_at,
          subject: { text: ticket.subject, ranges: matchRanges(ticket.subject, terms) },
          snippet: snippet(inBody ? body : [ticket.key ?? "", ticket.subject, ticket.requester.name, body].join(" · "), terms),
        });
      }
      return hits.sort((a, b) => b.updated_at.localeCompare(a.updated_at)).slice(0, limit);
    });
  }

  change(mutation: Mutation): Promise<LocalChange> {
    return this.run("change", { mutation }, () => this.apply(mutation));
  }

  reply(ticketId: string, text: string): Promise<LocalChange> {
    return this.run("reply", { ticketId, text }, () =>
      this.apply({ name: "entry.add_reply", args: { entry_id: `local-r${(this.entrySeq += 1)}`, ticket_id: ticketId, text } }),
    );
  }

  note(ticketId: string, text: string): Promise<LocalChange> {
    return this.run("note", { ticketId, text }, () =>
      this.apply({ name: "entry.add_note", args: { entry_id: `local-n${(this.entrySeq += 1)}`, ticket_id: ticketId, text } }),
    );
  }

  templates(): Promise<Template[]> {
    return this.run("templates", {}, () => TEMPLATES);
  }

  directory(): Promise<Directory> {
    return this.run("directory", {}, () => ({ users: USERS, departments: DEPARTMENTS }));
  }

  statusMachine(): Promise<Array<[Status, Status[]]>> {
    return this.run("status_machine", {}, () => STATUS_MACHINE);
  }

  conflicts(): Promise<ConflictRecord[]> {
    return this.run("conflicts", {}, () => this.conflictList);
  }

  syncProblems(): Promise<SyncProblem[]> {
    return this.run("sync_problems", {}, () => this.problemList);
  }

  dismiss(record: number): Promise<void> {
    return this.run("dismiss", { record }, () => {
      const before = this.conflictList.length + this.problemList.length;
      this.conflictList = this.conflictList.filter((c) => c.id !== record);
      this.problemList = this.problemList.filter((p) => p.id !== record);
      if (before === this.conflictList.length + this.problemList.length) {
        throw new BackendError("record_not_found", `No conflict or sync problem ${record}.`);
      }
      queueMicrotask(() => this.emit({ kind: "status", status: this.status() }));
    });
  }

  reapply(record: number): Promise<LocalChange> {
    return this.run("reapply", { record }, () => {
      const found = this.conflictList.find((c) => c.id === record) ?? this.problemList.find((p) => p.id === record);
      if (!found) throw new BackendError("record_not_found", `No conflict or sync problem ${record}.`);
      const change = this.apply(found.mutation);
      this.conflictList = this.conflictList.filter((c) => c.id !== record);
      this.problemList = this.problemList.filter((p) => p.id !== record);
      return change;
    });
  }

  syncStatus(): Promise<SyncStatus> {
    return this.run("sync_status", {}, () => this.status());
  }

  readonly startupMarks: string[] = [];
  startupMark(name: "signin-ready" | "queue-ready"): Promise<void> {
    this.startupMarks.push(name);
    return Promise.resolve();
  }

  syncNow(): Promise<SyncStatus> {
    return this.run("sync_now", {}, () => {
      if (!this.offline) for (const t of this.tickets.values()) t.unsent = 0;
      if (!this.offline) this.flushAudit();
      const status = this.status();
      queueMicrotask(() => this.emit({ kind: "status", status }));
      return status;
    });
  }

  subscribe(onEvent: (event: DeskEvent) => void): Promise<void> {
    return this.run("subscribe", {}, () => {
      this.listeners.push(onEvent);
    });
  }

  settingsSet(settings: Settings): Promise<Settings> {
    return this.run("settings_set", { settings }, () => {
      this.settings = { ...settings, idle_lock_minutes: Math.max(0, Math.floor(settings.idle_lock_minutes)) };
      return this.settings;
    });
  }

  activity(): Promise<void> {
    return this.run("activity", {}, () => undefined);
  }

  report(params: ReportParams): Promise<Report> {
    return this.run("report", { params }, () => {
      this.requireSupervisor();
      return computeReport([...this.tickets.values()], params, this.now(), (t) => this.sla(t));
    });
  }

  ticketKeys(ids: string[]): Promise<Array<[string, string]>> {
    return this.run("ticket_keys", { ids }, () => {
      const out: Array<[string, string]> = [];
      for (const id of ids) {
        const key = this.tickets.get(id)?.ticket.key;
        if (key) out.push([id, key]);
      }
      return out;
    });
  }

  auditPage(query: AuditQuery): Promise<AuditPage> {
    return this.run("audit_page", { query }, () => {
      this.requireSupervisor();
      requireOnline(this.offline);
      return this.audit.page(query);
    });
  }

  auditVerify(onProgress?: (progress: VerifyProgress) => void): Promise<ChainCheck> {
    return this.run("audit_verify", {}, () => {
      this.requireSupervisor();
      requireOnline(this.offline);
      const started = performance.now();
      const result = this.audit.verify();
      onProgress?.({ checked: result.checked, head: result.serverHead.last_seq });
      const previous = this.verifiedHead;
      let previousMatches = previous ? this.audit.holds(previous) : null;
      if (previous && previousMatches === null && !result.broken && previous.last_seq > result.verifiedHead.last_seq) previousMatches = false;
      const check: ChainCheck = {
        checked_at: iso(this.now()),
        checked: result.checked,
        verified_head: result.verifiedHead,
        server_head: result.serverHead,
        broken: result.broken,
        previous,
        previous_matches: previousMatches,
        seconds: (performance.now() - started) / 1000,
      };
      if (!check.broken && check.previous_matches !== false) this.verifiedHead = result.verifiedHead;
      return check;
    });
  }

  auditExport(query: AuditQuery, format: ExportFormat): Promise<SavedExport> {
    return this.run("audit_export", { query, format }, () => {
      const me = this.requireSupervisor();
      requireOnline(this.offline);
      const { header, events } = this.audit.exportOf({ ...query, before_seq: null, after_seq: null, limit: null }, me.user.id, me.server, iso(this.now()));
      const text = format === "csv" ? exportCsv(header, events) : exportJson(header, events);
      const file = this.writeFile(`outpost-audit-${header.first_seq}-${header.last_seq}.${format}`, text);
      return { file, header };
    });
  }

  auditCheckExport(text: string): Promise<ExportCheck> {
    return this.run("audit_check_export", { text }, () => checkExport(text));
  }

  saveFile(name: string, content: string): Promise<SavedFile> {
    return this.run("save_file", { name, content }, () => this.writeFile(name, content));
  }
}

export function createMockBackend(options: MockOptions = {}): MockBackend {
  return new MockBackend({ signedIn: true, latency: 30, ...options });
}
