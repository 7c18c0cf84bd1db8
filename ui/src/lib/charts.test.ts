import { describe, expect, it } from "vitest";
import { chartConfig, type Palette } from "./charts";

const palette: Palette = { series1: "#111", series2: "#222", series3: "#333", series4: "#444", top: "#0af", base: "#999", ok: "#0a0", warn: "#fa0", bad: "#f00", text: "#eee", muted: "#aaa", grid: "#333" };

describe("chart configuration", () => {
  it("draws percentages on a 0–100 axis with the theme's colours, horizontally when asked", () => {
    const config = chartConfig(
      { kind: "bar", horizontal: true, percent: true, labels: ["1. Support", "2. Risk"], series: [{ label: "Attainment", data: [100, 25], color: "series1" }] },
      palette,
    );
    const options = config.options!;
    expect(options.indexAxis).toBe("y");
    expect(options.animation).toBe(false);
    const x = options.scales!.x as { min: number; max: number; ticks: { color: string; callback: (v: number) => string }; grid: { color: string } };
    expect([x.min, x.max]).toEqual([0, 100]);
    expect(x.ticks.callback(50)).toBe("50 %");
    expect(x.ticks.color).toBe("#aaa");
    expect(x.grid.color).toBe("#333");
    expect(config.data.datasets[0]!.backgroundColor).toBe("#111");
    expect((options.plugins!.legend as { display: boolean }).display).toBe(false);
  });

  it("colours bars one by one (top 3, score bands) and shows a legend for several series", () => {
    const config = chartConfig(
      {
        kind: "bar",
        labels: ["a", "b", "c", "d"],
        series: [
          { label: "Count", data: [5, 4, 3, 1], color: "base", colors: ["top", "top", "top", "base"] },
          { label: "Other", data: [1, 1, 1, 1], color: "series2" },
        ],
      },
      palette,
    );
    expect(config.data.datasets[0]!.backgroundColor).toEqual(["#0af", "#0af", "#0af", "#999"]);
    expect((config.options!.plugins!.legend as { display: boolean; labels: { color: string } }).labels.color).toBe("#eee");
    expect((config.options!.plugins!.legend as { display: boolean }).display).toBe(true);
  });
});
