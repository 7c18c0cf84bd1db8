// Report periods and the tables behind every report section. Each table feeds the screen, the
// chart and the CSV export, so the three always agree.
import type { Attainment, Directory, Report, ReportParams, SlaRow } from "../backend";
import { departmentLabel, isKey, t, type Key } from "../i18n";
import { userName } from "../state/app";
import { toCsv, type Cell } from "./csv";
import { categoryLabel } from "./categories";

export type Preset = "today" | "last7" | "this_month" | "last_month" | "custom";
export const PRESETS: Preset[] = ["today", "last7", "this_month", "last_month", "custom"];

export type Period = { from: Date; to: Date };

const midnight = (y: number, m: number, d: number) => new Date(y, m, d);

/** A `YYYY-MM-DD` for a local date (what `<input type="date">` holds). */
export function dateInput(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** A `YYYY-MM` for a local month (what `<input type="month">` holds). */
export function monthInput(d: Date): string {
  return dateInput(d).slice(0, 7);
}

function parseDate(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = midnight(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * The local-day boundaries of a preset at `nowMs`; `to` is exclusive and never later than the
 * end of today. Custom periods take inclusive `YYYY-MM-DD` days; null when they do not parse
 * or end before they start.
 */
export function periodOf(preset: Preset, nowMs: number, custom?: { from: string; to: string }): Period | null {
  const now = new Date(nowMs);
  const [y, m, d] = [now.getFullYear(), now.getMonth(), now.getDate()];
  const tomorrow = midnight(y, m, d + 1);
  switch (preset) {
    case "today":
      return { from: midnight(y, m, d), to: tomorrow };
    case "last7":
      return { from: midnight(y, m, d - 6), to: tomorrow };
    case "this_month":
      return { from: midnight(y, m, 1), to: tomorrow };
    case "last_month":
      return { from: midnight(y, m - 1, 1), to: midnight(y, m, 1) };
    case "custom": {
      const from = custom ? parseDate(custom.from) : null;
      const last = custom ? parseDate(custom.to) : null;
      if (!from || !last || last < from) return null;
      return { from, to: midnight(last.getFullYear(), last.getMonth(), last.getDate() + 1) };
    }
  }
}

/** A whole local month from `YYYY-MM`, cut at the end of today when it is the current one. */
export function monthPeriod(month: string, nowMs: number): Period | null {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return null;
  const from = midnight(Number(m[1]), Number(m[2]) - 1, 1);
  const end = midnight(Number(m[1]), Number(m[2]), 1);
  const now = new Date(nowMs);
  const tomorrow = midnight(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (from >= tomorrow) return null;
  return { from, to: end < tomorrow ? end : tomorrow };
}

export const RECURRING_DAYS = 30;

export function reportParams(period: Period, departments: string[], assignee: string | null): ReportParams {
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    departments,
    assignee,
    recurring_days: RECURRING_DAYS,
    // Minutes east of UTC at the start of the period (the days of the report are cut there).
    utc_offset_minutes: -period.from.getTimezoneOffset(),
  };
}

// ---- tables --------------------------------------------------------------------------------

export type ColumnKind = "text" | "int" | "rate" | "minutes" | "date" | "keys";
export type Column = { label: string; kind: ColumnKind };
export type Table = { columns: Column[]; rows: Cell[][]; /** Rows to highlight (top 3). */ highlight?: boolean[] };

export const SECTIONS = [
  "sla-departments",
  "sla-priority",
  "sla-agents",
  "times",
  "categories",
  "channels",
  "days",
  "backlog",
  "csat",
  "reopen",
  "recurring",
] as const;
export type Section = (typeof SECTIONS)[number];

const col = (key: Key, kind: ColumnKind): Column => ({ label: t(key), kind });

/** A rate as a percentage with one decimal (what tables and CSV files show), or null. */
export function percent(rate: number | null): number | null {
  return rate === null ? null : Math.round(rate * 1000) / 10;
}

function attainmentCells(a: Attainment): Cell[] {
  return [a.met, a.breached, percent(a.rate)];
}

function slaColumns(first: Column): Column[] {
  const clock = (name: Key): Column[] => {
    const n = t(name);
    return [
      { label: `${n}: ${t("report.col.met")}`, kind: "int" },
      { label: `${n}: ${t("report.col.breached")}`, kind: "int" },
      { label: `${n}: ${t("report.col.rate")}`, kind: "rate" },
    ];
  };
  return [
    first,
    col("report.col.tickets", "int"),
    ...clock("report.col.first_response"),
    ...clock("report.col.update"),
    ...clock("report.col.resolution"),
    ...clock("report.col.overall"),
  ];
}

function slaRows(rows: SlaRow[], name: (key: string) => string): Cell[][] {
  return rows.map((r) => [name(r.key), r.tickets, ...attainmentCells(r.first_response), ...attainmentCells(r.update), ...attainmentCells(r.resolution), ...attainmentCells(r.overall)]);
}

const round1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

export function labelOf(prefix: "category" | "channel", key: string): string {
  if (prefix === "category") return categoryLabel(key);
  const k = `${prefix}.${key}`;
  return isKey(k) ? t(k) : key;
}

export function departmentName(key: string): string {
  return key === "" ? t("report.no_department") : departmentLabel(key);
}

export function agentName(directory: Directory, key: string): string {
  return key === "" ? t("report.unassigned") : (userName(directory, key) ?? key);
}

export const BACKLOG_KEYS = ["lt_1d", "1_3d", "3_7d", "7_30d", "gt_30d"];

export function sectionTable(section: Section, r: Report, directory: Directory): Table {
  switch (section) {
    case "sla-departments": {
      const ranked = new Set(r.department_ranking.map((d) => d.department));
      const unranked = r.sla_by_department.filter((d) => !ranked.has(d.key));
      return {
        columns: [
          col("report.col.rank", "int"),
          col("report.col.department", "text"),
          col("report.col.tickets", "int"),
          col("report.col.met", "int"),
          col("report.col.breached", "int"),
          col("report.col.rate", "rate"),
        ],
        rows: [
          ...r.department_ranking.map((d) => [d.rank, departmentName(d.department), d.tickets, ...attainmentCells(d.attainment)]),
          ...unranked.map((d) => [null, departmentName(d.key), d.tickets, ...attainmentCells(d.overall)]),
        ],
      };
    }
    case "sla-priority":
      return { columns: slaColumns(col("report.col.priority", "text")), rows: slaRows(r.sla_by_priority, (k) => k) };
    case "sla-agents":
      return { columns: slaColumns(col("report.col.agent", "text")), rows: slaRows(r.sla_by_agent, (k) => agentName(directory, k)) };
    case "times":
      return {
        columns: [col("report.col.measure", "text"), col("report.col.count", "int"), col("report.col.median", "minutes"), col("report.col.p90", "minutes")],
        rows: [
          [t("report.col.first_response"), r.first_response.count, round1(r.first_response.median_minutes), round1(r.first_response.p90_minutes)],
          [t("report.col.resolution"), r.resolution.count, round1(r.resolution.median_minutes), round1(r.resolution.p90_minutes)],
        ],
      };
    case "categories":
      return {
        columns: [col("report.col.category", "text"), col("report.col.count", "int"), col("report.col.top", "text")],
        rows: r.by_category.map((c) => [labelOf("category", c.key), c.count, c.top ? t("report.top_yes") : null]),
        highlight: r.by_category.map((c) => c.top),
      };
    case "channels":
      return {
        columns: [col("report.col.channel", "text"), col("report.col.count", "int")],
        rows: r.by_channel.map((c) => [labelOf("channel", c.key), c.count]),
      };
    case "days":
      return {
        columns: [col("report.col.day", "text"), col("report.col.created", "int"), col("report.col.resolved", "int")],
        rows: r.by_day.map((d) => [d.day, d.created, d.resolved]),
      };
    case "backlog":
      return {
        columns: [col("report.col.age", "text"), col("report.col.count", "int")],
        rows: r.backlog_by_age.map((b) => [isKey(`report.age.${b.key}`) ? t(`report.age.${b.key}` as Key) : b.key, b.count]),
      };
    case "csat": {
      const total = r.csat.responses;
      return {
        columns: [col("report.col.score", "text"), col("report.col.count", "int"), col("report.col.share", "rate")],
        rows: r.csat.distribution.map((n, i) => [String(i + 1), n, total ? percent(n / total) : null]),
      };
    }
    case "reopen":
      return {
        columns: [col("report.col.measure", "text"), col("report.col.count", "int")],
        rows: [
          [t("report.col.resolved_once"), r.reopen.resolved],
          [t("report.col.reopened"), r.reopen.reopened],
        ],
      };
    case "recurring":
      return {
        columns: [
          col("report.col.account", "text"),
          col("report.col.category", "text"),
          col("report.col.count", "int"),
          col("report.col.first_at", "date"),
          col("report.col.last_at", "date"),
          col("report.col.ticket_keys", "keys"),
        ],
        rows: r.recurring.map((i) => [i.account_id, labelOf("category", i.category), i.count, i.first_at, i.last_at, i.tickets.join(" ")]),
      };
  }
}

/** The table as a CSV file: rates as percentages, times in minutes, dates as ISO 8601. */
export function tableCsv(table: Table): string {
  const header = table.columns.map((c) => (c.kind === "rate" ? `${c.label} (%)` : c.kind === "minutes" ? `${c.label} (${t("report.unit_minutes")})` : c.label));
  return toCsv(header, table.rows);
}

export function csvFileName(section: Section, period: Period): string {
  return `outpost-report-${section}-${dateInput(period.from)}-${dateInput(new Date(period.to.getTime() - 1))}.csv`;
}

// ---- display -------------------------------------------------------------------------------

export function formatRate(rate: number | null, locale: string): string {
  if (rate === null) return t("report.rate_none");
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(rate * 100)} %`;
}

/** Minutes as "45 min", "3 h 20 min", "2 d 4 h". */
export function formatMinutes(minutes: number | null): string {
  if (minutes === null) return t("report.rate_none");
  const m = Math.round(minutes);
  if (m < 60) return t("report.duration.minutes", { m });
  if (m < 24 * 60) return t("report.duration.hours", { h: Math.floor(m / 60), m: m % 60 });
  const h = Math.floor(m / 60);
  return t("report.duration.days", { d: Math.floor(h / 24), h: h % 24 });
}

export function formatCell(value: Cell, kind: ColumnKind, locale: string, formatDate: (iso: string) => string): string {
  if (value === null) return kind === "text" ? "" : t("report.rate_none");
  switch (kind) {
    case "rate":
      return typeof value === "number" ? `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(value)} %` : String(value);
    case "minutes":
      return typeof value === "number" ? formatMinutes(value) : String(value);
    case "int":
      return typeof value === "number" ? new Intl.NumberFormat(locale).format(value) : String(value);
    case "date":
      return typeof value === "string" ? formatDate(value) : String(value);
    default:
      return String(value);
  }
}

/** How often recurring issues came back: issues by number of tickets. */
export function recurringFrequency(r: Report): Array<{ times: number; issues: number }> {
  const by = new Map<number, number>();
  for (const i of r.recurring) by.set(i.count, (by.get(i.count) ?? 0) + 1);
  return [...by].map(([times, issues]) => ({ times, issues })).sort((a, b) => b.times - a.times);
}
