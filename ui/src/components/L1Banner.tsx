import { createMemo, Show } from "solid-js";
import type { L1Freeze } from "../backend";
import { now } from "../lib/clock";
import { formatDuration } from "../lib/time";
import { t } from "../i18n";
import { L1_FREEZE_WITHIN_SECONDS } from "../backend/rules.gen";

/**
 * The persistent L1 banner with the freeze clock. The Desk decides the clock (when the risk was
 * raised, whether a freeze met the deadline); a running clock counts down to its deadline here.
 */
export function L1Banner(props: { clock: L1Freeze | null }) {
  const view = createMemo(() => {
    const c = props.clock;
    if (!c) return null;
    switch (c.kind) {
      case "met":
        return { state: "met", text: t("l1.met", { time: formatDuration(c.took_seconds) }) };
      case "missed":
        return { state: "missed", text: t("l1.missed", { time: formatDuration(c.late_seconds) }) };
      case "running": {
        const remaining = Math.round((Date.parse(c.deadline) - now()) / 1000);
        return remaining >= 0
          ? { state: "running", text: t("l1.running", { time: formatDuration(remaining) }) }
          : { state: "overdue", text: t("l1.overdue", { time: formatDuration(-remaining) }) };
      }
    }
  });
  return (
    <Show when={view()}>
      {(v) => (
        <div class="l1-banner" role="status" data-testid="l1-banner" data-state={v().state}>
          <strong>{t("l1.title", { minutes: L1_FREEZE_WITHIN_SECONDS / 60 })}</strong> <span data-testid="l1-clock">{v().text}</span>
        </div>
      )}
    </Show>
  );
}
