// Reading audit events for people: who did it, what the action is called, what changed. The
// `detail` of an event is JSON text written by the server (or anything at all, for events
// written by other tools): everything here parses it defensively and returns plain strings,
// which the screens render as text.
import type { AuditQuery, AuditRecord, BreakKind, Directory, EntryKind, ExportHeader, TicketEvent } from "../backend";
import { departmentLabel, isKey, t, type Key } from "../i18n";
import { userName } from "../state/app";
import { categoryLabel } from "./categories";

/** A query with no filter and no paging (the server's defaults). */
export function emptyAuditQuery(): AuditQuery {
  return { from: null, to: null, actor: null, ticket_id: null, action: null, department: null, device: null, before_seq: null, after_seq: null, limit: null };
}

/** The action filter's choices: exact actions, or families ending in a dot. */
export const ACTION_FILTERS = [
  "",
  "ticket.",
  "entry.",
  "risk.",
  "verification.",
  "ticket.view",
  "entry.redact",
  "user.",
  "session.",
  "customer.",
] as const;

export type ActionFilter = (typeof ACTION_FILTERS)[number];

export function actionFilterLabel(value: ActionFilter): string {
  return t(`audit.family.${value === "" ? "all" : value}` as Key);
}

/** First characters of a hex hash, for display (the full value is in the detail panel). */
export function shortHash(hash: string | null | undefined, length = 8): string {
  if (!hash) return "—";
  return hash.slice(0, length);
}

export function actorLabel(actor: string, directory: Directory): string {
  if (actor === "system") return t("audit.actor.system");
  if (actor === "customer") return t("audit.actor.customer");
  if (actor === "cli") return t("audit.actor.cli");
  if (actor.startsWith("intake:")) {
    const channel = actor.slice("intake:".length);
    const key = `channel.${channel}`;
    return t("audit.actor.intake", { channel: isKey(key) ? t(key) : channel });
  }
  return userName(directory, actor) ?? actor;
}

export function actionLabel(action: string): string {
  for (const key of [`mutation.${action}`, `audit.action.${action}`]) if (isKey(key)) return t(key);
  return action;
}

/** A device id is long; the table shows its start, the detail panel all of it. */
export function shortDevice(device: string | null): string {
  if (!device) return "—";
  return device.length > 13 ? `${device.slice(0, 8)}…` : device;
}

export type ParsedDetail = {
  /** The parsed JSON when it was an object, else null. */
  object: Record<string, unknown> | null;
  changes: TicketEvent[];
  viewedAt: string | null;
  entryId: string | null;
  removedSha256: string | null;
  revision: number | null;
  mutationId: number | null;
};

function isEvent(value: unknown): value is TicketEvent {
  return !!value && typeof value === "object" && typeof (value as { type?: unknown }).type === "string";
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function parseDetail(detail: string): ParsedDetail {
  let value: unknown = null;
  try {
    value = JSON.parse(detail);
  } catch {
    value = null;
  }
  const object = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  const rawChanges = object && Array.isArray(object.changes) ? object.changes : [];
  return {
    object,
    changes: rawChanges.filter(isEvent),
    viewedAt: str(object?.viewed_at),
    entryId: str(object?.entry_id),
    removedSha256: str(object?.removed_sha256),
    revision: num(object?.revision),
    mutationId: num(object?.mutation_id),
  };
}

/** A field's before and after values, in words. */
export type ChangeRow = { field: string; before: string; after: string; text: string };

function label(prefix: string, value: unknown): string {
  if (value === null || value === undefined) return t("common.none");
  const text = String(value);
  const key = `${prefix}.${text}`;
  return isKey(key) ? t(key) : text;
}

/**
 * A category in the record: the product's label for a built-in one (as recorded, whatever the
 * organisation calls it now); the catalogue's name for one of the organisation's own once the
 * catalogue is loaded, its code until then.
 */
function categoryName(value: unknown): string {
  const text = label("category", value);
  return typeof value === "string" && text === value ? categoryLabel(value) : text;
}

function entryKindLabel(kind: unknown): string {
  const k = kind === "customer_message" ? "customer" : kind === "risk_action" ? "risk" : String(kind);
  const key = `timeline.kind.${k}`;
  return isKey(key) ? t(key) : String(kind);
}

function person(value: unknown, directory: Directory): string {
  if (value === null || value === undefined) return t("common.nobody");
  return userName(directory, String(value)) ?? String(value);
}

function department(value: unknown): string {
  if (value === null || value === undefined) return t("common.none");
  return departmentLabel(String(value));
}

const row = (field: string, before: string, after: string, text: string): ChangeRow => ({ field, before, after, text });

/** Leaf values of a JSON value by dotted path (`calendar.holidays.0.date`); `{}` / `[]` count as leaves. */
function leaves(value: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (value && typeof value === "object" && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(path, typeof value === "string" ? value : JSON.stringify(value));
  }
  return out;
}

/** At most this many value rows per event (a whole settings document can be large). */
const VALUE_ROWS = 200;

/**
 * An administrative event's recorded values before and after (`detail.before` / `detail.after`:
 * a settings document, a department, a template, a user): one row per value that differs, named
 * by its path. Empty when the event records no `after`.
 */
export function valueChanges(detail: Record<string, unknown> | null): ChangeRow[] {
  if (!detail || !("after" in detail)) return [];
  const before = detail.before == null ? new Map<string, string>() : leaves(detail.before, "", new Map());
  const after = leaves(detail.after, "", new Map());
  const none = t("common.none");
  const rows: ChangeRow[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(path) ?? none;
    const a = after.get(path) ?? none;
    if (b === a) continue;
    // An empty list or object that gained items (or lost them all) shows as those items.
    const filled = (side: Map<string, string>) => !side.has(path) && [...side.keys()].some((k) => k.startsWith(`${path}.`));
    if (path && (filled(before) || filled(after))) continue;
    const field = path || t("audit.field.value");
    rows.push(row(field, b, a, t("audit.change.from_to", { field, from: b, to: a })));
    if (rows.length >= VALUE_ROWS) break;
  }
  return rows;
}

/** One recorded change as a before/after row and a sentence. Unknown shapes degrade to their type. */
export function describeChange(event: TicketEvent, directory: Directory): ChangeRow {
  const e = event as Record<string, unknown> & { type: string };
  const fromTo = (field: string, before: string, after: string) =>
    row(t(`audit.field.${field}` as Key), before, after, t("audit.change.from_to", { field: t(`audit.field.${field}` as Key), from: before, to: after }));
  switch (e.type) {
    case "created":
      return row(t("audit.field.ticket"), "—", t("audit.change.created"), t("audit.change.created"));
    case "status_changed":
      return fromTo("status", label("status", e.from), label("status", e.to));
    case "reopened":
      return fromTo("status", label("status", e.from), label("status", e.to));
    case "priority_changed":
      return fromTo("priority", String(e.from), String(e.to));
    case "category_changed":
      return fromTo("category", categoryName(e.from), categoryName(e.to));
    case "risk_changed":
      return fromTo("risk", label("risk", e.from), label("risk", e.to));
    case "assignee_changed":
      return fromTo("assignee", person(e.from, directory), person(e.to, directory));
    case "department_changed":
      return fromTo("department", department(e.from), department(e.to));
    case "tag_added":
      return row(t("audit.field.tags"), "—", String(e.tag), t("audit.change.tag_added", { tag: String(e.tag) }));
    case "tag_removed":
      return row(t("audit.field.tags"), String(e.tag), "—", t("audit.change.tag_removed", { tag: String(e.tag) }));
    case "subject_changed":
      return row(t("audit.field.subject"), "…", "…", t("audit.change.subject"));
    case "description_changed":
      return row(t("audit.field.description"), "…", "…", t("audit.change.description"));
    case "linked": {
      const link = (e.link ?? {}) as { kind?: unknown; other?: unknown };
      const text = t("audit.change.linked", { kind: label("link", link.kind), other: String(link.other ?? "") });
      return row(t("audit.field.link"), "—", text, text);
    }
    case "csat_received":
      return row(t("audit.field.csat"), "—", `${String(e.score)}/5`, t("audit.change.csat", { score: String(e.score) }));
    case "sla_at_risk":
    case "sla_breached": {
      const text = t(e.type === "sla_at_risk" ? "event.sla_at_risk" : "event.sla_breached", { clock: label("clock", e.clock) });
      return row(t("audit.field.sla"), "—", text, text);
    }
    case "entry_redacted": {
      const text = t("audit.change.redacted", { kind: entryKindLabel(e.kind), hash: shortHash(str(e.removed_sha256)) });
      return row(t("audit.field.entry"), t("audit.change.content_sha", { hash: shortHash(str(e.removed_sha256)) }), t("audit.change.removed"), text);
    }
    default:
      return row(e.type, "—", "—", e.type);
  }
}

/** The table's one-line summary of an event. */
export function summarise(record: AuditRecord, directory: Directory, formatTime: (iso: string) => string): string {
  const d = parseDetail(record.detail);
  if (record.action === "ticket.view") return d.viewedAt ? t("audit.change.viewed", { time: formatTime(d.viewedAt) }) : t("audit.change.viewed_plain");
  if (d.changes.length) return d.changes.map((c) => describeChange(c, directory).text).join(" · ");
  if (record.action === "entry.redact" && d.removedSha256) return t("audit.change.redacted_plain", { hash: shortHash(d.removedSha256) });
  // A ticket change that changed no field (a reply, a note, a verification record): the action says it all.
  if (d.object && Array.isArray(d.object.changes)) return "";
  if (d.object) {
    // Admin and session events: their small detail object, keys and values as text.
    const parts = Object.entries(d.object)
      .filter(([k]) => !["mutation_id", "revision", "department", "changes", "viewed_at"].includes(k))
      .map(([k, v]) => `${k}: ${k === "user" && typeof v === "string" ? (userName(directory, v) ?? v) : typeof v === "string" ? v : JSON.stringify(v)}`);
    return parts.join(" · ").slice(0, 200);
  }
  return record.detail.slice(0, 200);
}

/** What a chain break means, in words. */
export function explainBreak(kind: BreakKind): string {
  switch (kind.kind) {
    case "content_altered":
      return t("audit.break.content_altered", { stored: shortHash(kind.stored), computed: shortHash(kind.computed) });
    case "link_broken":
      return t("audit.break.link_broken", { expected: shortHash(kind.expected_prev), found: shortHash(kind.stored_prev) });
    case "sequence_gap":
      return t("audit.break.sequence_gap", { expected: kind.expected, found: kind.found });
    case "truncated":
      return t("audit.break.truncated", { expected: kind.expected_last, found: kind.found_last });
    case "beyond_head":
      return t("audit.break.beyond_head", { head: kind.head });
  }
}

/** "from – to", or what the open ends mean. */
export function rangeText(from: string | null, to: string | null, formatTime: (iso: string) => string): string {
  if (from && to) return t("audit.range.both", { from: formatTime(from), to: formatTime(to) });
  if (from) return t("audit.range.from", { from: formatTime(from) });
  if (to) return t("audit.range.to", { to: formatTime(to) });
  return t("audit.range.all");
}

export function headerText(header: ExportHeader, formatTime: (iso: string) => string, count: (n: number) => string): string {
  return t("audit.check.header", {
    count: count(header.count),
    first: header.first_seq,
    last: header.last_seq,
    range: rangeText(header.from, header.to, formatTime),
    head_seq: header.head.last_seq,
    hash: shortHash(header.head.hash),
  });
}

export function entryKindName(kind: EntryKind): string {
  return entryKindLabel(kind);
}
