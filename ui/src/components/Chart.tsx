// A canvas chart (Chart.js, only the pieces used here are registered). The chart is an
// illustration of the table next to it: the canvas carries a text label for screen readers,
// and where no canvas can be drawn (tests) the table still says everything.
import { createEffect, onCleanup, onMount } from "solid-js";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import { chartConfig, readPalette, type ChartSpec } from "../lib/charts";
import { themeVersion } from "../lib/theme";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

/** Horizontal bar charts grow with their bars so every label stays readable. */
function heightOf(spec: ChartSpec): number | null {
  if (!spec.horizontal) return null;
  const bars = spec.labels.length * Math.max(1, spec.series.length);
  return Math.max(140, Math.min(640, 40 + bars * (spec.series.length > 1 ? 9 : 22) + spec.labels.length * 6));
}

export function ChartView(props: { spec: ChartSpec; label: string }) {
  let canvas!: HTMLCanvasElement;
  let box!: HTMLDivElement;
  let chart: Chart<"bar" | "line"> | undefined;
  let drawnKind: ChartSpec["kind"] | undefined;

  onMount(() => {
    createEffect(() => {
      themeVersion();
      const config = chartConfig(props.spec, readPalette());
      if (chart && drawnKind === props.spec.kind) {
        chart.data = config.data;
        chart.options = config.options ?? {};
        chart.update();
        return;
      }
      chart?.destroy();
      chart = undefined;
      const context = canvas.getContext("2d");
      if (!context) {
        box.dataset.chart = "unavailable";
        return;
      }
      chart = new Chart(context, config);
      drawnKind = props.spec.kind;
      box.dataset.chart = "drawn";
    });
  });
  onCleanup(() => chart?.destroy());

  return (
    <div class="chart-box" ref={box} style={heightOf(props.spec) ? { height: `${heightOf(props.spec)}px` } : undefined}>
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}
