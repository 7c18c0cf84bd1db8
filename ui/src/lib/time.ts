import type { ClockState } from "../backend";

/** `mm:ss` under an hour, `h:mm:ss` above (UI.md). Sign is the caller's business. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.floor(Math.abs(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`;
}

export type BadgeState = "on_track" | "at_risk" | "breached" | "paused" | "none";

export type Countdown = { state: BadgeState; text: string };

/** The countdown of a running deadline at `nowMs`; breached clocks count up with a "+". */
export function countdown(
  dueAt: string | null,
  warnAt: string | null,
  paused: boolean,
  nowMs: number,
): Countdown {
  if (paused) return { state: "paused", text: "⏸" };
  if (!dueAt) return { state: "none", text: "—" };
  const due = Date.parse(dueAt);
  const remaining = Math.round((due - nowMs) / 1000);
  if (remaining < 0) return { state: "breached", text: `+${formatDuration(-remaining)}` };
  const warn = warnAt ? Date.parse(warnAt) : Number.POSITIVE_INFINITY;
  return { state: nowMs >= warn ? "at_risk" : "on_track", text: formatDuration(remaining) };
}

/** A clock's state at `nowMs`: running clocks move between on-track, at-risk and breached. */
export function liveClockState(state: ClockState, dueAt: string | null, warnAt: string | null, nowMs: number): ClockState {
  if (state !== "on_track" && state !== "at_risk" && state !== "breached") return state;
  if (!dueAt) return state;
  if (nowMs > Date.parse(dueAt)) return "breached";
  if (warnAt && nowMs >= Date.parse(warnAt)) return "at_risk";
  return "on_track";
}

/** Short human age ("5 min", "3 h", "2 d") in the given locale. */
export function formatAge(iso: string, nowMs: number, locale: string): string {
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
  if (seconds < 60) return rtf.format(0, "second");
  if (seconds < 3600) return rtf.format(-Math.floor(seconds / 60), "minute");
  if (seconds < 86400) return rtf.format(-Math.floor(seconds / 3600), "hour");
  return rtf.format(-Math.floor(seconds / 86400), "day");
}

export function formatDateTime(iso: string, locale: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(d);
}

/** A moment to the second (audit trails need it). */
export function formatTimestamp(iso: string, locale: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }).format(d);
}

/** An `<input type="datetime-local">` value (local time) as an ISO instant; null when empty or invalid. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A compact span ("45 min", "3 h", "2 d") for badges; `units` supplies the words. */
export function formatSpan(seconds: number, units: { min: (n: number) => string; h: (n: number) => string; d: (n: number) => string }): string {
  const s = Math.abs(seconds);
  if (s < 3600) return units.min(Math.max(1, Math.round(s / 60)));
  if (s < 48 * 3600) return units.h(Math.round(s / 3600));
  return units.d(Math.round(s / 86400));
}

/** A calendar day ("Mar 20, 2025"). */
export function formatDate(iso: string, locale: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(d);
}
