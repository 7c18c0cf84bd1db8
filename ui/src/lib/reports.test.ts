import { describe, expect, it } from "vitest";
import { monthPeriod, percent, periodOf, reportParams, formatMinutes, recurringFrequency } from "./reports";
import type { Report } from "../backend";

const local = (y: number, m: number, d: number) => new Date(y, m, d).getTime();

describe("report periods", () => {
  const now = new Date(2025, 2, 20, 15, 30).getTime();

  it("cuts presets at local midnight, never past the end of today", () => {
    expect(periodOf("today", now)).toEqual({ from: new Date(local(2025, 2, 20)), to: new Date(local(2025, 2, 21)) });
    expect(periodOf("last7", now)).toEqual({ from: new Date(local(2025, 2, 14)), to: new Date(local(2025, 2, 21)) });
    expect(periodOf("this_month", now)).toEqual({ from: new Date(local(2025, 2, 1)), to: new Date(local(2025, 2, 21)) });
    expect(periodOf("last_month", now)).toEqual({ from: new Date(local(2025, 1, 1)), to: new Date(local(2025, 2, 1)) });
    expect(periodOf("last_month", new Date(2025, 0, 5).getTime())).toEqual({ from: new Date(local(2024, 11, 1)), to: new Date(local(2025, 0, 1)) });
  });

  it("takes custom days inclusively and refuses an inverted or unreadable range", () => {
    expect(periodOf("custom", now, { from: "2025-03-01", to: "2025-03-31" })).toEqual({ from: new Date(local(2025, 2, 1)), to: new Date(local(2025, 3, 1)) });
    expect(periodOf("custom", now, { from: "2025-03-02", to: "2025-03-01" })).toBeNull();
    expect(periodOf("custom", now, { from: "", to: "2025-03-01" })).toBeNull();
  });

  it("gives whole months, the current one up to today, none in the future", () => {
    expect(monthPeriod("2025-02", now)).toEqual({ from: new Date(local(2025, 1, 1)), to: new Date(local(2025, 2, 1)) });
    expect(monthPeriod("2025-03", now)).toEqual({ from: new Date(local(2025, 2, 1)), to: new Date(local(2025, 2, 21)) });
    expect(monthPeriod("2025-04", now)).toBeNull();
    expect(monthPeriod("March", now)).toBeNull();
  });

  it("builds the command's parameters with the local offset east of UTC", () => {
    const p = periodOf("today", now)!;
    expect(reportParams(p, ["risk"], "u-ana")).toEqual({
      from: p.from.toISOString(),
      to: p.to.toISOString(),
      departments: ["risk"],
      assignee: "u-ana",
      recurring_days: 30,
      utc_offset_minutes: -p.from.getTimezoneOffset(),
    });
  });
});

describe("report figures", () => {
  it("rounds rates to a tenth of a percent and durations to readable units", () => {
    expect(percent(5 / 6)).toBe(83.3);
    expect(percent(null)).toBeNull();
    expect(formatMinutes(45.4)).toBe("45 min");
    expect(formatMinutes(200)).toBe("3 h 20 min");
    expect(formatMinutes(3 * 1440 + 61)).toBe("3 d 1 h");
    expect(formatMinutes(null)).toBe("—");
  });

  it("counts recurring issues by how often they came back", () => {
    const issue = (count: number) => ({ account_id: "a", category: "inquiry" as const, count, first_at: "", last_at: "", tickets: [] });
    expect(recurringFrequency({ recurring: [issue(2), issue(3), issue(2)] } as unknown as Report)).toEqual([
      { times: 3, issues: 1 },
      { times: 2, issues: 2 },
    ]);
  });
});
