import { createMemo, Show } from "solid-js";
import type { Entry, Ticket } from "../backend";
import { now } from "../lib/clock";
import { l1Clock } from "../lib/risk";
import { formatDuration } from "../lib/time";
import { t } from "../i18n";

/** The persistent L1 banner with the 10-minute freeze clock. */
export function L1Banner(props: { ticket: Ticket; entries: Entry[] }) {
  const clock = createMemo(() => l1Clock(props.ticket, props.entries, now()));
  const text = () => {
    const c = clock();
    if (!c) return "";
    const d = (ms: number) => formatDuration(Math.round(ms / 1000));
    switch (c.kind) {
      case "running":
        return t("l1.running", { time: d(c.remainingMs) });
      case "overdue":
        return t("l1.overdue", { time: d(c.overdueMs) });
      case "met":
        return t("l1.met", { time: d(c.tookMs) });
      case "missed":
        return t("l1.missed", { time: d(c.lateMs) });
    }
  };
  return (
    <Show when={clock()}>
      <div class="l1-banner" role="status" data-testid="l1-banner" data-state={clock()!.kind}>
        <strong>{t("l1.title")}</strong> <span data-testid="l1-clock">{text()}</span>
      </div>
    </Show>
  );
}
