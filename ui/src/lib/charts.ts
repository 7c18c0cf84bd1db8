// Chart specs (what to draw, in the app's terms) and their Chart.js configuration. The colours
// come from CSS variables read at draw time, so the same chart is readable in both themes.
import type { ChartConfiguration, ChartDataset, TooltipItem } from "chart.js";
import { cssVar } from "./theme";

export type ColorRole = "series1" | "series2" | "series3" | "series4" | "top" | "base" | "ok" | "warn" | "bad";

export type Series = { label: string; data: Array<number | null>; color: ColorRole; /** Per bar, overriding `color`. */ colors?: ColorRole[] };

export type ChartSpec = {
  kind: "bar" | "line";
  labels: string[];
  series: Series[];
  horizontal?: boolean;
  /** Values are percentages: the value axis runs 0–100 with a % sign. */
  percent?: boolean;
  /** Appended to values in tooltips and on the value axis (e.g. "h"). */
  unit?: string;
};

export type Palette = Record<ColorRole | "text" | "muted" | "grid", string>;

export function readPalette(): Palette {
  return {
    series1: cssVar("--chart-1", "#2f6fed"),
    series2: cssVar("--chart-2", "#d9730d"),
    series3: cssVar("--chart-3", "#2e7d32"),
    series4: cssVar("--chart-4", "#7a5af8"),
    top: cssVar("--chart-top", "#2f6fed"),
    base: cssVar("--chart-base", "#98a2b3"),
    ok: cssVar("--chart-ok", "#2e7d32"),
    warn: cssVar("--chart-warn", "#d9730d"),
    bad: cssVar("--chart-bad", "#c62828"),
    text: cssVar("--text", "#1d2330"),
    muted: cssVar("--muted", "#667085"),
    grid: cssVar("--border", "#dde1e7"),
  };
}

function valueText(value: number | null, spec: ChartSpec): string {
  if (value === null) return "—";
  const rounded = Math.round(value * 10) / 10;
  if (spec.percent) return `${rounded} %`;
  return spec.unit ? `${rounded} ${spec.unit}` : String(rounded);
}

export function chartConfig(spec: ChartSpec, palette: Palette): ChartConfiguration<"bar" | "line"> {
  const datasets = spec.series.map((s): ChartDataset<"bar" | "line"> => {
    const colour = s.colors ? s.colors.map((c) => palette[c]) : palette[s.color];
    return {
      label: s.label,
      data: s.data,
      backgroundColor: colour,
      borderColor: colour,
      borderWidth: spec.kind === "line" ? 2 : 0,
      pointRadius: spec.kind === "line" ? 2 : 0,
      tension: 0.25,
    } as ChartDataset<"bar" | "line">;
  });
  const valueAxis = {
    beginAtZero: true,
    ...(spec.percent ? { min: 0, max: 100 } : {}),
    ticks: {
      color: palette.muted,
      precision: spec.percent || spec.unit ? undefined : 0,
      callback: (v: string | number) => valueText(Number(v), spec),
    },
    grid: { color: palette.grid },
    border: { color: palette.grid },
  };
  // Horizontal charts are sized to their bars: every category keeps its label.
  const categoryAxis = { ticks: { color: palette.muted, autoSkip: !spec.horizontal }, grid: { display: false }, border: { color: palette.grid } };
  return {
    type: spec.kind,
    data: { labels: spec.labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? "y" : "x",
      color: palette.text,
      scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
      plugins: {
        legend: { display: spec.series.length > 1, labels: { color: palette.text, boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<"bar" | "line">) => `${item.dataset.label ?? ""}: ${valueText(spec.horizontal ? item.parsed.x : item.parsed.y, spec)}`,
          },
        },
      },
    },
  };
}
