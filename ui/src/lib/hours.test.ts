import { describe, expect, it } from "vitest";
import type { WeeklyHours } from "../backend";
import { setLang } from "../i18n";
import { weeklyText } from "./hours";

const nine = { start_minute: 540, end_minute: 1080 };
const morning = { start_minute: 600, end_minute: 780 };

function week(partial: Partial<WeeklyHours>): WeeklyHours {
  return { monday: [], tuesday: [], wednesday: [], thursday: [], friday: [], saturday: [], sunday: [], ...partial };
}

describe("weeklyText", () => {
  it("joins consecutive days with the same hours", () => {
    setLang("en");
    const w = week({ monday: [nine], tuesday: [nine], wednesday: [nine], thursday: [nine], friday: [nine], saturday: [morning] });
    expect(weeklyText(w)).toBe("Mon–Fri 09:00–18:00; Sat 10:00–13:00");
  });

  it("keeps breaks and separates days whose hours differ", () => {
    setLang("en");
    const split = [{ start_minute: 540, end_minute: 720 }, { start_minute: 780, end_minute: 1080 }];
    const w = week({ monday: split, tuesday: [nine], wednesday: split });
    expect(weeklyText(w)).toBe("Mon 09:00–12:00, 13:00–18:00; Tue 09:00–18:00; Wed 09:00–12:00, 13:00–18:00");
  });

  it("says when the week has no open time, in Chinese too", () => {
    setLang("zh-CN");
    expect(weeklyText(week({}))).not.toBe("");
    expect(weeklyText(week({ monday: [nine] }))).toContain("09:00–18:00");
    setLang("en");
  });
});
