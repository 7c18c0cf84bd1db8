// Presentation helpers for the admin screens: how minutes, opening times, logos, lists and the
// month view are shown and read back from form fields. What a setting means, and whether it is
// valid, is decided in Rust (`outpost_core::settings`); nothing here judges a value.
import type { Channel, CustomerTier, MonthDay } from "../backend";
import type { Condition, WeeklyHours } from "../components/admin/model";
import { t } from "../i18n";

/** Runs `fn` on `list[i]` when there is such an item (edits of a row that may be gone). */
export function withItem<T>(list: T[], i: number, fn: (item: T) => void): void {
  const item = list[i];
  if (item !== undefined) fn(item);
}

/** A target in minutes as people say it: "2 h 30 min", "45 min", "3 h"; "—" for none. */
export function minutesText(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return "—";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return t("span.minutes", { n: m });
  if (m === 0) return t("span.hours", { n: h });
  return `${t("span.hours", { n: h })} ${t("span.minutes", { n: m })}`;
}

/** Hours and minutes fields back to whole minutes; both empty = no target. */
export function minutesFrom(hours: string, minutes: string): number | null {
  if (hours.trim() === "" && minutes.trim() === "") return null;
  const h = Number(hours || 0);
  const m = Number(minutes || 0);
  if (!Number.isFinite(h) || !Number.isFinite(m)) return null;
  return Math.max(0, Math.round(h * 60 + m));
}

/** A minute of the day as `HH:MM`; 1440 is the midnight that ends the day, `24:00`. */
export function clockText(minute: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(minute / 60))}:${two(minute % 60)}`;
}

/**
 * `HH:MM` from a time field back to a minute of the day. An end of `00:00` (or `24:00`) is the
 * midnight that ends the day, as the calendar itself reads it.
 */
export function minuteOf(text: string, isEnd: boolean): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const minute = Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
  if (isEnd && (minute === 0 || minute === 1440)) return 1440;
  return minute;
}

/** The decoded size of standard base64, in bytes. */
export function base64Bytes(b64: string): number {
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((b64.length / 4) * 3) - padding);
}

/** Bytes as "12.3 KiB" / "812 B". */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return t("admin.size.bytes", { n: bytes });
  return t("admin.size.kib", { n: (bytes / 1024).toFixed(1) });
}

/** File bytes as standard base64. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** "a, b ,c" (commas, Chinese commas or new lines) as ["a", "b", "c"]. */
export function splitList(text: string): string[] {
  return text
    .split(/[,，\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function joinList(items: readonly string[] | undefined): string {
  return (items ?? []).join(", ");
}

/** IANA zones the runtime knows, with `current` kept even if this runtime does not list it. */
export function timeZones(current: string): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  let zones: string[] = [];
  try {
    zones = intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    zones = [];
  }
  const all = new Set([...zones, "UTC", current]);
  return [...all].filter((z) => z.length > 0).sort();
}

export const WEEKDAYS: Array<keyof WeeklyHours> = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/**
 * A rule condition as the form edits it: keyword lists, tiers and channels that must all hold.
 * Conditions the form cannot show this way (any-of, not, nested groups, business types) are
 * edited as JSON instead; `null` says so.
 */
export type SimpleCondition = { any: string[]; all: string[]; tiers: CustomerTier[]; channels: Channel[] };

export function simpleCondition(condition: Condition): SimpleCondition | null {
  const out: SimpleCondition = { any: [], all: [], tiers: [], channels: [] };
  if (condition === "always") return out;
  const parts = typeof condition === "object" && "all" in condition ? condition.all : [condition];
  const seen = new Set<string>();
  for (const part of parts) {
    if (typeof part !== "object") return null;
    const key = Object.keys(part)[0] ?? "";
    if (seen.has(key)) return null;
    seen.add(key);
    if ("keywords_any" in part) out.any = [...part.keywords_any];
    else if ("keywords_all" in part) out.all = [...part.keywords_all];
    else if ("tier_in" in part) out.tiers = [...part.tier_in];
    else if ("channel_in" in part) out.channels = [...part.channel_in];
    else return null;
  }
  return out;
}

/** The form's fields back to a condition: nothing filled in = always. */
export function conditionOf(simple: SimpleCondition): Condition {
  const parts: Condition[] = [];
  if (simple.any.length) parts.push({ keywords_any: simple.any });
  if (simple.all.length) parts.push({ keywords_all: simple.all });
  if (simple.tiers.length) parts.push({ tier_in: simple.tiers });
  if (simple.channels.length) parts.push({ channel_in: simple.channels });
  if (parts.length === 0) return "always";
  if (parts.length === 1 && parts[0]) return parts[0];
  return { all: parts };
}

export type DayState = "open" | "closed" | "holiday" | "special_open" | "special_closed";

export type MonthCell = { date: string; day: number; state: DayState; note: string; hours: string };

/**
 * The Desk's month (`calendarMonth`, each day as the calendar reads it) laid out Monday first,
 * `null` for the padding days. Only the look is decided here: the Desk names at most one of a
 * special period or a holiday, and the hours that apply.
 */
export function monthGrid(days: readonly MonthDay[]): Array<MonthCell | null> {
  const first = days[0];
  const lead = first ? (new Date(`${first.date}T00:00:00Z`).getUTCDay() + 6) % 7 : 0;
  const cells: Array<MonthCell | null> = Array.from({ length: lead }, () => null);
  for (const d of days) {
    const open = d.hours.length > 0;
    const state: DayState = d.special_period !== null ? (open ? "special_open" : "special_closed") : d.holiday !== null ? "holiday" : open ? "open" : "closed";
    cells.push({
      date: d.date,
      day: Number(d.date.slice(8, 10)),
      state,
      note: d.special_period ?? d.holiday ?? "",
      hours: d.hours.map((iv) => `${clockText(iv.start_minute)}–${clockText(iv.end_minute)}`).join(", "),
    });
  }
  while (cells.length % 7) cells.push(null);
  return cells;
}
