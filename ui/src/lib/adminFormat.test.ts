import { describe, expect, it } from "vitest";
import { setLang } from "../i18n";
import type { BusinessCalendar } from "../components/admin/model";
import { base64Bytes, clockText, conditionOf, minuteOf, minutesFrom, minutesText, monthDays, simpleCondition, splitList, timeZones, toBase64 } from "./adminFormat";

describe("admin presentation helpers", () => {
  it("shows minutes as hours and minutes in both languages", () => {
    expect(minutesText(15)).toBe("15 min");
    expect(minutesText(120)).toBe("2 h");
    expect(minutesText(150)).toBe("2 h 30 min");
    expect(minutesText(null)).toBe("—");
    setLang("zh-CN");
    expect(minutesText(150)).not.toBe("2 h 30 min");
  });

  it("reads hours and minutes fields back", () => {
    expect(minutesFrom("2", "30")).toBe(150);
    expect(minutesFrom("", "45")).toBe(45);
    expect(minutesFrom("", "")).toBeNull();
  });

  it("reads opening times, with 00:00 as the end of the day only for an end", () => {
    expect(minuteOf("09:30", false)).toBe(570);
    expect(minuteOf("00:00", true)).toBe(1440);
    expect(minuteOf("00:00", false)).toBe(0);
    expect(minuteOf("9h", false)).toBeNull();
    expect(clockText(1440)).toBe("24:00");
    expect(clockText(545)).toBe("09:05");
  });

  it("measures and encodes a logo", () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1]);
    const b64 = toBase64(bytes);
    expect(b64.startsWith("iVBORw")).toBe(true);
    expect(base64Bytes(b64)).toBe(5);
  });

  it("splits lists on commas, Chinese commas and lines", () => {
    expect(splitList("盗号，hacked, stolen\n被盗 ,")).toEqual(["盗号", "hacked", "stolen", "被盗"]);
  });

  it("edits flat conditions field by field and leaves nested ones to JSON", () => {
    const flat = { all: [{ keywords_any: ["a"] }, { tier_in: ["vip" as const] }] };
    const simple = simpleCondition(flat);
    expect(simple).toEqual({ any: ["a"], all: [], tiers: ["vip"], channels: [] });
    expect(conditionOf(simple!)).toEqual(flat);
    expect(conditionOf({ any: ["x"], all: [], tiers: [], channels: [] })).toEqual({ keywords_any: ["x"] });
    expect(conditionOf({ any: [], all: [], tiers: [], channels: [] })).toBe("always");
    expect(simpleCondition({ any: [{ keywords_any: ["a"] }] })).toBeNull();
    expect(simpleCondition({ not: "always" })).toBeNull();
  });

  it("lays out a month Monday first with holidays and special periods", () => {
    const open = [{ start_minute: 540, end_minute: 1080 }];
    const calendar: BusinessCalendar = {
      name: "Lisbon",
      tz: "Europe/Lisbon",
      weekly: { monday: open, tuesday: open, wednesday: open, thursday: open, friday: open, saturday: [], sunday: [] },
      holidays: [{ date: "2026-12-25", name: "Christmas" }],
      special_periods: [{ from: "2026-12-26", to: "2026-12-27", hours: open, reason: "year end", recorded_by: "Ana", recorded_at: "2026-12-01T10:00:00Z" }],
    };
    const cells = monthDays(calendar, 2026, 11);
    // 1 December 2026 is a Tuesday: one padding cell.
    expect(cells[0]).toBeNull();
    expect(cells[1]?.date).toBe("2026-12-01");
    const state = (date: string) => cells.find((c) => c?.date === date)?.state;
    expect(state("2026-12-01")).toBe("open");
    expect(state("2026-12-06")).toBe("closed");
    expect(state("2026-12-25")).toBe("holiday");
    expect(state("2026-12-26")).toBe("special_open");
    expect(cells.length % 7).toBe(0);
  });

  it("lists time zones and keeps the current one", () => {
    const zones = timeZones("Mars/Olympus");
    expect(zones).toContain("Mars/Olympus");
    expect(zones).toContain("UTC");
  });
});
