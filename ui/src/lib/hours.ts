import type { OpenInterval, WeeklyHours } from "../backend";
import { t } from "../i18n";

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

function minuteText(minute: number): string {
  const h = Math.floor(minute / 60);
  const m = minute % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

function intervalsText(intervals: OpenInterval[]): string {
  return intervals.map((i) => `${minuteText(i.start_minute)}–${minuteText(i.end_minute)}`).join(", ");
}

/**
 * Weekly hours in words, consecutive days with the same hours joined: "Mon–Fri 09:00–18:00;
 * Sat 10:00–13:00". Closed days are left out; a week with no open time reads "closed".
 */
export function weeklyText(weekly: WeeklyHours): string {
  const days = DAYS.map((day) => ({ label: t(`admin.calendar.short.${day}`), hours: intervalsText(weekly[day]) }));
  const runs: string[] = [];
  let start = 0;
  days.forEach((day, i) => {
    const next = days[i + 1];
    if (next && next.hours === day.hours) return;
    const first = days[start];
    if (first && day.hours) runs.push(`${first.label}${i > start ? `–${day.label}` : ""} ${day.hours}`);
    start = i + 1;
  });
  return runs.length ? runs.join("; ") : t("sla.explain.closed_week");
}
