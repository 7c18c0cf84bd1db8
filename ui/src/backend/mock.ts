// The in-memory backend: the `vite dev` preview outside Tauri and the unit tests. Deterministic
// for a given `now` and seed; implements paging, search with highlight ranges, mutations with
// the status machine and the verification gate, conflicts, sync problems, offline and injected
// errors.
import { BackendError, type Backend, type SignInArgs } from "./index";
import type {
  ClockKind,
  ConflictRecord,
  Entry,
  EntryBody,
  Highlighted,
  LocalChange,
  Me,
  Mutation,
  QueueCursor,
  QueuePage,
  QueueRow,
  QueueSort,
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
};

export type MockCall = { cmd: string; args: Record<string, unknown> };

const PRIORITY_ORDER = { P1: 0, P2: 1, P3: 2, P4: 3 } as const;

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

  constructor(options: MockOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.keychain = options.keychain ?? "available";
    this.latency = options.latency ?? 0;
    for (const t of generateTickets(options.tickets ?? 400, this.now(), options.seed ?? 42)) this.put(t);
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
    return { policy: `${ticket.priority} default`, clocks };
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
      return this.finish(t, [this.event(t, { type: "created" }), this.entry(t, { kind: "customer_message", text: a.description })]);
    }
    const t = this.get(m.args.ticket_id);
    const tk = t.ticket;
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
    }
    return this.finish(t, added);
  }

  private finish(t: MockTicket, entries: Entry[]): LocalChange {
    t.ticket.updated_at = iso(this.now());
    t.unsent += 1;
    this.mutationSeq += 1;
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
}

export function createMockBackend(options: MockOptions = {}): MockBackend {
  return new MockBackend({ signedIn: true, latency: 30, ...options });
}
