import { describe, expect, it } from "vitest";
import { countdown, formatDuration, liveClockState } from "./time";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

describe("countdown", () => {
  it("is mm:ss under an hour and h:mm:ss above", () => {
    expect(formatDuration(432)).toBe("07:12");
    expect(formatDuration(3600 + 40 * 60 + 5)).toBe("1:40:05");
    expect(formatDuration(0)).toBe("00:00");
  });

  it("moves from on track to at risk to breached, counting up with a +", () => {
    expect(countdown(at(600), at(450), false, T0)).toEqual({ state: "on_track", text: "10:00" });
    expect(countdown(at(600), at(450), false, T0 + 460_000)).toEqual({ state: "at_risk", text: "02:20" });
    expect(countdown(at(600), at(450), false, T0 + 600_000)).toEqual({ state: "at_risk", text: "00:00" });
    expect(countdown(at(600), at(450), false, T0 + 605_000)).toEqual({ state: "breached", text: "+00:05" });
  });

  it("shows paused and missing clocks", () => {
    expect(countdown(null, null, true, T0).state).toBe("paused");
    expect(countdown(null, null, false, T0).state).toBe("none");
  });

  it("re-evaluates running clock states but leaves stopped ones", () => {
    expect(liveClockState("on_track", at(10), at(5), T0 + 11_000)).toBe("breached");
    expect(liveClockState("met", null, null, T0)).toBe("met");
  });
});
