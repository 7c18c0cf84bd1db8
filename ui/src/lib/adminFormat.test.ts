import { describe, expect, it } from "vitest";
import { setLang } from "../i18n";
import type { MonthDay } from "../backend";
import { base64Bytes, clockText, conditionOf, minuteOf, minutesFrom, minutesText, monthGrid, simpleCondition, splitList, timeZones, toBase64 } from "./adminFormat";

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

  it("lays out the Desk's month Monday first and shows what it says of each day", () => {
    const open = [{ start_minute: 540, end_minute: 1080 }];
    const day = (date: string, hours: typeof open, holiday: string | null = null, special_period: string | null = null): MonthDay => ({ date, hours, holiday, special_period });
    const days = [
      day("2026-12-01", open),
      day("2026-12-06", []),
      day("2026-12-25", [], "Christmas"),
      day("2026-12-26", open, null, "year end"),
      day("2026-12-27", [], null, "closure"),
    ];
    const cells = monthGrid(days);
    // 1 December 2026 is a Tuesday: one padding cell.
    expect(cells[0]).toBeNull();
    expect(cells[1]).toEqual({ date: "2026-12-01", day: 1, state: "open", note: "", hours: "09:00–18:00" });
    const cell = (date: string) => cells.find((c) => c?.date === date);
    expect(cell("2026-12-06")?.state).toBe("closed");
    expect(cell("2026-12-25")).toMatchObject({ state: "holiday", note: "Christmas" });
    expect(cell("2026-12-26")).toMatchObject({ state: "special_open", note: "year end" });
    expect(cell("2026-12-27")).toMatchObject({ state: "special_closed", note: "closure" });
    expect(cells.length % 7).toBe(0);
    expect(monthGrid([])).toEqual([]);
  });

  it("lists time zones and keeps the current one", () => {
    const zones = timeZones("Mars/Olympus");
    expect(zones).toContain("Mars/Olympus");
    expect(zones).toContain("UTC");
  });
});
