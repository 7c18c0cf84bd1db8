import { describe, expect, it } from "vitest";
import { render, screen } from "@solidjs/testing-library";
import type { SlaClock } from "../backend";
import { setLang } from "../i18n";
import { ClockExplanation } from "./SlaPanel";

const nine = [{ start_minute: 540, end_minute: 1080 }];

function clock(calendar: SlaClock["calendar"]): SlaClock {
  return {
    kind: "resolution",
    state: "on_track",
    target_seconds: 5 * 9 * 3600,
    elapsed_seconds: 3600,
    paused_seconds: 0,
    remaining_seconds: 44 * 3600,
    outside_hours_seconds: 0,
    started_at: "2026-12-07T09:00:00Z",
    due_at: "2026-12-14T09:00:00Z",
    warn_at: null,
    stopped_at: null,
    adjustments: [],
    calendar,
  };
}

describe("the SLA explanation", () => {
  it("names the calendar's zone and weekly hours it counted on", () => {
    setLang("en");
    const weekly = { monday: nine, tuesday: nine, wednesday: nine, thursday: nine, friday: nine, saturday: [], sunday: [] };
    render(() => <ClockExplanation clock={clock({ zone: "Europe/Lisbon", weekly })} />);
    expect(screen.getByTestId("sla-calendar").textContent).toBe(
      "Counted on business hours Europe/Lisbon: Mon–Fri 09:00–18:00.",
    );
  });

  it("says when a clock counts around the clock, and stays quiet for an older peer's clock", () => {
    setLang("zh-CN");
    const { unmount } = render(() => <ClockExplanation clock={clock({ zone: "Asia/Shanghai", weekly: null })} />);
    expect(screen.getByTestId("sla-calendar").textContent).toContain("Asia/Shanghai");
    unmount();
    render(() => <ClockExplanation clock={clock({ zone: "", weekly: null })} />);
    expect(screen.queryByTestId("sla-calendar")).toBeNull();
    setLang("en");
  });
});
