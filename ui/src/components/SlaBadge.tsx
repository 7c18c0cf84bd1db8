import { createMemo } from "solid-js";
import { now } from "../lib/clock";
import { countdown } from "../lib/time";
import { t } from "../i18n";

/**
 * The nearest deadline, counting down. Reads the shared `now` signal, so each tick updates
 * this badge's text and state attribute only; the row around it does not re-render.
 */
export function SlaBadge(props: { due: string | null; warn: string | null; paused: boolean }) {
  const c = createMemo(() => countdown(props.due, props.warn, props.paused, now()));
  const state = createMemo(() => c().state);
  return (
    <span class="sla-badge" data-testid="sla-badge" data-state={state()} title={t(`sla.state.${state()}`)}>
      <span class="sla-glyph" aria-hidden="true">
        {state() === "paused" ? "⏸" : "⏱"}
      </span>
      <span class="sla-text">{c().text === "⏸" ? t("sla.paused_short") : c().text}</span>
    </span>
  );
}
