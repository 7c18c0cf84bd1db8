import { createMemo, For, Show } from "solid-js";
import type { SlaClock, SlaReport } from "../backend";
import { now } from "../lib/clock";
import { formatDateTime, formatDuration, liveClockState } from "../lib/time";
import { weeklyText } from "../lib/hours";
import { locale, t } from "../i18n";

/** Every clock of the ticket, each able to explain itself. */
export function SlaPanel(props: { sla: SlaReport }) {
  return (
    <section class="panel sla-panel" data-testid="sla-panel" aria-label={t("sla.title")}>
      <h3>
        {t("sla.title")}
        <span class="muted"> · {props.sla.policy ?? t("sla.no_policy")}</span>
      </h3>
      <Show when={props.sla.clocks.length > 0} fallback={<p class="empty">{t("sla.no_clocks")}</p>}>
        <ul class="clocks">
          <For each={props.sla.clocks}>{(clock) => <ClockRow clock={clock} />}</For>
        </ul>
      </Show>
    </section>
  );
}

function ClockRow(props: { clock: SlaClock }) {
  const state = createMemo(() => liveClockState(props.clock.state, props.clock.due_at, props.clock.warn_at, now()));
  const value = createMemo(() => {
    const c = props.clock;
    if (c.due_at && (state() === "on_track" || state() === "at_risk" || state() === "breached")) {
      const remaining = Math.round((Date.parse(c.due_at) - now()) / 1000);
      return remaining < 0 ? `+${formatDuration(-remaining)}` : t("sla.left", { time: formatDuration(remaining) });
    }
    if (c.state === "paused") return t("sla.paused_with", { time: formatDuration(Math.max(0, c.remaining_seconds)) });
    if (c.state === "met_late") return t("sla.met_late_by", { time: formatDuration(-c.remaining_seconds) });
    return t(`clock_state.${c.state}`);
  });
  return (
    <li class="clock" data-state={state()} data-testid="sla-clock" data-kind={props.clock.kind}>
      <details>
        <summary>
          <span class="clock-name">{t(`clock.${props.clock.kind}`)}</span>
          <span class="clock-value">{value()}</span>
          <span class="chip clock-state" data-state={state()}>
            {t(`clock_state.${state()}`)}
          </span>
        </summary>
        <ClockExplanation clock={props.clock} />
      </details>
    </li>
  );
}

/** The clock in words: target, counted time, pauses, closed hours and calendar adjustments. */
export function ClockExplanation(props: { clock: SlaClock }) {
  const c = () => props.clock;
  const d = (s: number) => formatDuration(s);
  return (
    <div class="clock-explain" data-testid="sla-explanation">
      <p>{t("sla.explain.target", { time: d(c().target_seconds) })}</p>
      <Show when={c().calendar.zone}>
        <p data-testid="sla-calendar">
          {(() => {
            const weekly = c().calendar.weekly;
            const zone = c().calendar.zone;
            return weekly
              ? t("sla.explain.calendar", { zone, hours: weeklyText(weekly) })
              : t("sla.explain.around_the_clock", { zone });
          })()}
        </p>
      </Show>
      <p>{t("sla.explain.started", { at: formatDateTime(c().started_at, locale()) })}</p>
      <p>{t("sla.explain.counted", { time: d(c().elapsed_seconds) })}</p>
      <Show when={c().paused_seconds > 0}>
        <p>{t("sla.explain.paused", { time: d(c().paused_seconds) })}</p>
      </Show>
      <Show when={c().outside_hours_seconds > 0}>
        <p>{t("sla.explain.outside_hours", { time: d(c().outside_hours_seconds) })}</p>
      </Show>
      <For each={c().adjustments}>
        {(a) => (
          <p>
            {a.kind === "holiday"
              ? t("sla.explain.holiday", { date: a.date, name: a.name })
              : t("sla.explain.special", { from: a.from, to: a.to, reason: a.reason, by: a.recorded_by })}
          </p>
        )}
      </For>
      <Show when={c().due_at}>
        {(due) => <p>{t("sla.explain.due", { at: formatDateTime(due(), locale()) })}</p>}
      </Show>
      <Show when={c().stopped_at}>
        {(at) => <p>{t("sla.explain.stopped", { at: formatDateTime(at(), locale()) })}</p>}
      </Show>
    </div>
  );
}
