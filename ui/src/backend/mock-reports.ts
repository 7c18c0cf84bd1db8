// Supervisor reports over the mock's tickets, computed as outpost-store's `reports.rs` does:
// the cohort is the tickets created in the period within the scope; "by day" also counts
// tickets resolved in the period, and the backlog is what is still open at the period's end.
import { BackendError } from "./index";
import type {
  Attainment,
  ClockKind,
  CountRow,
  CsatSummary,
  DayRow,
  DepartmentRank,
  DurationStats,
  RecurringIssue,
  Report,
  ReportParams,
  SlaReport,
  SlaRow,
  Ticket,
} from "./types";
import { LOW_CSAT, type MockTicket } from "./mock-data";

const DAY = 86_400_000;
export const MAX_REPORT_DAYS = 1000;

type Outcome = "met" | "breached" | "open";
const CLOCKS: ClockKind[] = ["first_response", "periodic_update", "resolution"];

type Group = { tickets: number; clocks: [Attainment, Attainment, Attainment] };

const attainment = (): Attainment => ({ met: 0, breached: 0, rate: null });
const group = (): Group => ({ tickets: 0, clocks: [attainment(), attainment(), attainment()] });

function outcomes(sla: SlaReport): Array<Outcome | null> {
  return CLOCKS.map((kind) => {
    const c = sla.clocks.find((x) => x.kind === kind);
    if (!c) return null;
    if (c.state === "met") return "met";
    if (c.state === "met_late" || c.state === "breached") return "breached";
    return "open";
  });
}

function addTo(g: Group, o: Array<Outcome | null>): void {
  g.tickets += 1;
  o.forEach((x, i) => {
    const a = g.clocks[i]!;
    if (x === "met") a.met += 1;
    if (x === "breached") a.breached += 1;
  });
}

function finish(a: Attainment): Attainment {
  const decided = a.met + a.breached;
  return { ...a, rate: decided > 0 ? a.met / decided : null };
}

function row(key: string, g: Group): SlaRow {
  const overall = g.clocks.reduce((sum, c) => ({ met: sum.met + c.met, breached: sum.breached + c.breached, rate: null }), attainment());
  return {
    key,
    tickets: g.tickets,
    first_response: finish(g.clocks[0]),
    update: finish(g.clocks[1]),
    resolution: finish(g.clocks[2]),
    overall: finish(overall),
  };
}

function percentile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function durations(minutes: number[]): DurationStats {
  const sorted = [...minutes].sort((a, b) => a - b);
  return { count: sorted.length, median_minutes: percentile(sorted, 0.5), p90_minutes: percentile(sorted, 0.9) };
}

function counts(map: Map<string, number>, markTop: boolean): CountRow[] {
  const rows = [...map].map(([key, count]) => ({ key, count, top: false }));
  rows.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  if (markTop) rows.slice(0, 3).forEach((r) => (r.top = true));
  return rows;
}

function sorted<K extends string>(map: Map<K, Group>): Array<[K, Group]> {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `YYYY-MM-DD` of `ms` at `offsetMinutes` east of UTC. */
function localDay(ms: number, offsetMinutes: number): string {
  return new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

export function computeReport(
  tickets: MockTicket[],
  params: ReportParams,
  nowMs: number,
  sla: (ticket: Ticket) => SlaReport,
): Report {
  const from = Date.parse(params.from);
  const to = Date.parse(params.to);
  if (!(to > from)) throw new BackendError("cache", "the period must end after it starts");
  const days = Math.floor((to - from) / DAY);
  if (days > MAX_REPORT_DAYS) throw new BackendError("cache", `the period is ${days} days; reports cover at most ${MAX_REPORT_DAYS}`);
  const offset = Math.max(-1439, Math.min(1439, params.utc_offset_minutes));
  const inScope = (t: Ticket) =>
    (!params.departments.length || (t.department !== null && params.departments.includes(t.department))) &&
    (params.assignee === null || t.assignee === params.assignee);
  const scoped = tickets.filter((m) => inScope(m.ticket));
  const cohort = scoped.filter((m) => {
    const c = Date.parse(m.ticket.created_at);
    return c >= from && c < to;
  });

  const total = group();
  const byPriority = new Map<string, Group>();
  const byDepartment = new Map<string, Group>();
  const byAgent = new Map<string, Group>();
  const firstResponse: number[] = [];
  const resolution: number[] = [];
  const categories = new Map<string, number>();
  const channels = new Map<string, number>();
  const csat: CsatSummary = { responses: 0, distribution: [0, 0, 0, 0, 0], average: null, low: 0 };
  let csatSum = 0;
  const reopen = { resolved: 0, reopened: 0, rate: null as number | null };
  const accounts = new Map<string, MockTicket[]>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const into = (map: Map<string, Group>, key: string) => {
    let g = map.get(key);
    if (!g) map.set(key, (g = group()));
    return g;
  };

  for (const m of cohort) {
    const t = m.ticket;
    const o = outcomes(sla(t));
    addTo(total, o);
    addTo(into(byPriority, t.priority), o);
    addTo(into(byDepartment, t.department ?? ""), o);
    addTo(into(byAgent, t.assignee ?? ""), o);
    const created = Date.parse(t.created_at);
    if (t.first_response_at) firstResponse.push(Math.max(0, Date.parse(t.first_response_at) - created) / 60_000);
    const reopened = m.entries.some((e) => e.body.kind === "event" && e.body.event.type === "reopened");
    if (t.resolved_at) {
      resolution.push(Math.max(0, Date.parse(t.resolved_at) - created) / 60_000);
      reopen.resolved += 1;
      if (reopened) reopen.reopened += 1;
    } else if (reopened) {
      reopen.resolved += 1;
      reopen.reopened += 1;
    }
    bump(categories, t.category);
    bump(channels, t.channel);
    const score = t.csat?.score;
    if (score !== undefined && score >= 1 && score <= 5) {
      csat.responses += 1;
      csat.distribution[score - 1]! += 1;
      csatSum += score;
      if (score <= LOW_CSAT) csat.low += 1;
    }
    const account = t.requester.account_id;
    if (account) {
      const key = `${account}\u0000${t.category}`;
      accounts.set(key, [...(accounts.get(key) ?? []), m]);
    }
  }
  csat.average = csat.responses ? csatSum / csat.responses : null;
  reopen.rate = reopen.resolved ? reopen.reopened / reopen.resolved : null;

  // Recurring issues: runs of one category for one account, each within N days of the last.
  const window = Math.max(1, params.recurring_days) * DAY;
  const runs: MockTicket[][] = [];
  for (const list of accounts.values()) {
    if (list.length < 2) continue;
    const byTime = [...list].sort((a, b) => a.ticket.created_at.localeCompare(b.ticket.created_at));
    let run = [byTime[0]!];
    for (const m of byTime.slice(1)) {
      if (Date.parse(m.ticket.created_at) - Date.parse(run[run.length - 1]!.ticket.created_at) <= window) run.push(m);
      else {
        if (run.length >= 2) runs.push(run);
        run = [m];
      }
    }
    if (run.length >= 2) runs.push(run);
  }
  const recurring: RecurringIssue[] = runs
    .map((run) => ({
      account_id: run[0]!.ticket.requester.account_id!,
      category: run[0]!.ticket.category,
      count: run.length,
      first_at: run[0]!.ticket.created_at,
      last_at: run[run.length - 1]!.ticket.created_at,
      tickets: run.map((m) => m.ticket.key ?? m.ticket.id),
    }))
    .sort((a, b) => b.count - a.count || a.account_id.localeCompare(b.account_id) || a.category.localeCompare(b.category))
    .slice(0, 100);

  // By day: the cohort's creations and every resolution in the period.
  const dayRows = new Map<string, DayRow>();
  for (let d = localDay(from, offset); d <= localDay(to - 1, offset); d = localDay(Date.parse(`${d}T00:00:00Z`) + DAY, 0)) {
    dayRows.set(d, { day: d, created: 0, resolved: 0 });
  }
  for (const m of cohort) {
    const r = dayRows.get(localDay(Date.parse(m.ticket.created_at), offset));
    if (r) r.created += 1;
  }
  let resolvedInPeriod = 0;
  for (const m of scoped) {
    if (!m.ticket.resolved_at) continue;
    const at = Date.parse(m.ticket.resolved_at);
    if (at < from || at >= to) continue;
    resolvedInPeriod += 1;
    const r = dayRows.get(localDay(at, offset));
    if (r) r.resolved += 1;
  }

  // Backlog: open tickets in scope at the period's end (or now), by age.
  const at = Math.min(to, nowMs);
  const buckets = ["lt_1d", "1_3d", "3_7d", "7_30d", "gt_30d"];
  const backlog = [0, 0, 0, 0, 0];
  for (const m of scoped) {
    const t = m.ticket;
    if (t.status === "resolved" || t.status === "closed") continue;
    const created = Date.parse(t.created_at);
    if (created >= at) continue;
    const age = at - created;
    backlog[age < DAY ? 0 : age < 3 * DAY ? 1 : age < 7 * DAY ? 2 : age < 30 * DAY ? 3 : 4]! += 1;
  }

  const slaByDepartment = sorted(byDepartment).map(([k, g]) => row(k, g));
  const ranking: DepartmentRank[] = slaByDepartment
    .filter((r) => r.key !== "" && r.overall.rate !== null)
    .sort((a, b) => (b.overall.rate ?? 0) - (a.overall.rate ?? 0) || b.tickets - a.tickets || a.key.localeCompare(b.key))
    .map((r, i) => ({ rank: i + 1, department: r.key, tickets: r.tickets, attainment: r.overall }));

  return {
    params,
    generated_at: new Date(nowMs).toISOString(),
    created: cohort.length,
    resolved: resolvedInPeriod,
    sla_total: row("", total),
    sla_by_priority: sorted(byPriority).map(([k, g]) => row(k, g)),
    sla_by_department: slaByDepartment,
    sla_by_agent: sorted(byAgent).map(([k, g]) => row(k, g)),
    first_response: durations(firstResponse),
    resolution: durations(resolution),
    by_category: counts(categories, true),
    by_channel: counts(channels, false),
    by_day: [...dayRows.values()],
    backlog_by_age: buckets.map((key, i) => ({ key, count: backlog[i]!, top: false })),
    csat,
    reopen,
    recurring,
    department_ranking: ranking,
  };
}
